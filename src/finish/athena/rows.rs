//! The aggregation's answer read back: Athena returns every value as text (NULL as no value),
//! columns found by name so a reordered answer still reads.

use std::net::IpAddr;

use nat_flowrec_reports::{AggregateLeg, AggregateRow};

use super::{AthenaError, sql};
use crate::ports::SqlRows;

/// The aggregation's rows, and how many could not be read. Columns are found by name (in the
/// query's order when the answer names none).
pub fn aggregate_rows(result: &SqlRows) -> Result<(Vec<AggregateRow>, usize), AthenaError> {
    let index: Vec<usize> = if result.columns.is_empty() {
        (0..sql::RESULT_COLUMNS.len()).collect()
    } else {
        sql::RESULT_COLUMNS
            .iter()
            .map(|want| {
                result
                    .columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(want))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AthenaError::Columns(result.columns.clone()))?
    };
    let mut rows = Vec::with_capacity(result.rows.len());
    let mut unusable = 0;
    for row in &result.rows {
        let value = |i: usize| {
            index
                .get(i)
                .and_then(|at| row.get(*at))
                .and_then(|v| v.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        match aggregate_row(value) {
            Some(r) => rows.push(r),
            None => unusable += 1,
        }
    }
    Ok((rows, unusable))
}

/// One row from its values in `RESULT_COLUMNS` order; `None` when one does not parse.
fn aggregate_row<'a>(value: impl Fn(usize) -> Option<&'a str>) -> Option<AggregateRow> {
    fn parsed<T: std::str::FromStr>(v: Option<&str>) -> Option<Option<T>> {
        match v {
            None => Some(None),
            Some(text) => text.parse().ok().map(Some),
        }
    }
    let count = |v: Option<&str>| -> Option<u64> {
        match v {
            None => Some(0),
            // An engine may print a sum as a decimal (`1.2E7`).
            Some(text) => text.parse::<u64>().ok().or_else(|| {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f.round() as u64)
            }),
        }
    };
    Some(AggregateRow {
        leg: AggregateLeg::from_label(value(0)?)?,
        internal_addr: parsed::<IpAddr>(value(1))?,
        remote_addr: parsed::<IpAddr>(value(2))?,
        remote_port: parsed(value(3))?,
        protocol: parsed(value(4))?,
        remote_aws_service: value(5).filter(|s| *s != "-").map(str::to_owned),
        records: count(value(6))?,
        bytes: count(value(7))?,
        first_start: parsed(value(8))?,
        last_end: parsed(value(9))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[&str]) -> Vec<Option<String>> {
        values
            .iter()
            .map(|v| (!v.is_empty()).then(|| (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rows_are_read_by_column_name_and_bad_ones_counted() {
        let mut columns: Vec<String> = sql::RESULT_COLUMNS.iter().map(|c| c.to_string()).collect();
        columns.swap(0, 7);
        let result = SqlRows {
            columns,
            rows: vec![
                text(&[
                    "1200",
                    "10.0.1.5",
                    "52.216.8.12",
                    "443",
                    "6",
                    "S3",
                    "4",
                    "vpc-reply",
                    "",
                    "",
                ]),
                text(&["99", "", "", "", "", "", "3", "internet", "", ""]),
                text(&["1", "not-an-ip", "", "", "", "", "1", "vpc-reply", "", ""]),
                text(&["1", "", "", "", "", "", "1", "sideways", "", ""]),
            ],
        };
        let (rows, unusable) = aggregate_rows(&result).unwrap();
        assert_eq!(unusable, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].leg, AggregateLeg::VpcReply);
        assert_eq!(rows[0].bytes, 1200);
        assert_eq!(rows[0].remote_port, Some(443));
        assert_eq!(rows[0].remote_aws_service.as_deref(), Some("S3"));
        assert_eq!(rows[1].leg, AggregateLeg::Internet);
        assert_eq!(rows[1].internal_addr, None);
        let wrong = SqlRows {
            columns: vec!["a".into()],
            rows: vec![],
        };
        assert!(matches!(
            aggregate_rows(&wrong),
            Err(AthenaError::Columns(_))
        ));
    }
}
