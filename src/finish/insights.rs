//! CloudWatch Logs Insights queries over a recording's log streams, with the report's leg rule
//! written into the query: on a NAT's ENI every connection is logged on the VPC side and on the
//! internet side (docs/DESIGN.md, "The leg rule"), so the query keeps VPC-side records only
//! (`srcaddr` differs from `pkt-srcaddr`, or `dstaddr` from `pkt-dstaddr`) and counts each
//! connection once.
//! Records are parsed from `@message` in the recording's own format (Insights discovers fields
//! only for the default format). A notification offers the query for a closer look.
//!
//! `report --engine insights` runs the aggregation itself server-side, for recordings too large
//! to download: bytes per conversation direction (VPC side only), its rows turned into one
//! synthetic VPC-side record each, which the reports crate then reports like any export. A
//! query returns at most 10,000 rows; when one does, its window is split in two and each half
//! asked again, down to one second.

use std::future::Future;
use std::path::Path;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};
use nat_flowrec_reports::{Report, ReportOptions, build_report};

use super::PipelineError;
use crate::config::Config;
use crate::core::Recording;
use crate::ports::{AwsError, InsightsQuery, InsightsRow, LogQueries};

/// Rows a Logs Insights query returns at most.
pub const MAX_QUERY_ROWS: usize = 10_000;

/// Rows the offered query shows.
pub const QUERY_ROWS: usize = 20;

/// The field as an Insights identifier (`pkt-srcaddr` -> `pkt_srcaddr`).
fn ident(field: &str) -> String {
    field.replace('-', "_")
}

/// `/^(eni-a|eni-b)-/`: the streams of the recording's ENIs.
fn stream_filter(enis: &[String]) -> String {
    format!("filter @logStream like /^({})/", enis.join("|"))
}

/// Whether the format lets the query tell the legs apart.
pub fn has_leg_fields(format: &LogFormat) -> bool {
    let names: Vec<&str> = format.fields().iter().map(|f| f.name()).collect();
    ["srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr", "bytes"]
        .iter()
        .all(|n| names.contains(n))
}

/// The query the notification offers: the recording's ENIs, its records parsed, the VPC side
/// kept (when the format has the `pkt-*` fields), bytes per direction of each internal host's
/// conversation, largest first. `None` for a format without `bytes`.
pub fn talkers_query(format: &LogFormat, enis: &[String]) -> Option<String> {
    let names: Vec<String> = format.fields().iter().map(|f| ident(f.name())).collect();
    if !names.iter().any(|n| n == "bytes") {
        return None;
    }
    let pattern = vec!["*"; names.len()].join(" ");
    let mut lines = vec![
        "fields @timestamp, @message".to_owned(),
        stream_filter(enis),
        format!("parse @message \"{pattern}\" as {}", names.join(", ")),
    ];
    if has_leg_fields(format) {
        lines.push(
            "filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr # VPC side: each connection once"
                .to_owned(),
        );
        lines.push(
            "stats sum(bytes) as total_bytes by srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr"
                .to_owned(),
        );
    } else {
        lines.push(
            "stats sum(bytes) as total_bytes by srcaddr, dstaddr # both NAT legs counted"
                .to_owned(),
        );
    }
    lines.push("sort total_bytes desc".to_owned());
    lines.push(format!("limit {QUERY_ROWS}"));
    Some(lines.join("\n| "))
}

/// The fields of the server-side aggregation, in the format's order, that a synthetic record
/// carries (the addresses and the bytes are required).
const GROUP_FIELDS: [&str; 7] = [
    "srcaddr",
    "dstaddr",
    "protocol",
    "pkt-srcaddr",
    "pkt-src-aws-service",
    "pkt-dstaddr",
    "pkt-dst-aws-service",
];

/// The format of the synthetic records an aggregation's rows become.
pub const SYNTHETIC_FORMAT: &str = "${srcaddr} ${dstaddr} ${protocol} ${bytes} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service}";

/// The aggregation `report --engine insights` runs: accepted VPC-side records of the recording's
/// ENIs, bytes and records per (addresses, services, protocol). `None` when the format lacks the
/// fields the leg rule needs.
pub fn conversations_query(format: &LogFormat, enis: &[String]) -> Option<String> {
    if !has_leg_fields(format) {
        return None;
    }
    let names: Vec<&str> = format.fields().iter().map(|f| f.name()).collect();
    let idents: Vec<String> = names.iter().map(|n| ident(n)).collect();
    let pattern = vec!["*"; names.len()].join(" ");
    let by: Vec<String> = GROUP_FIELDS
        .iter()
        .filter(|f| names.contains(f))
        .map(|f| ident(f))
        .collect();
    let mut lines = vec![
        "fields @timestamp, @message".to_owned(),
        stream_filter(enis),
        format!("parse @message \"{pattern}\" as {}", idents.join(", ")),
    ];
    if names.contains(&"action") {
        lines.push("filter action = \"ACCEPT\"".to_owned());
    }
    lines.push("filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr".to_owned());
    lines.push(format!(
        "stats sum(bytes) as bytes_sum, count(*) as records by {}",
        by.join(", ")
    ));
    lines.push(format!("limit {MAX_QUERY_ROWS}"));
    Some(lines.join("\n| "))
}

/// Every row of `run` over `start..=end` (whole seconds): a window whose query returned the
/// 10,000-row maximum is split in two and each half asked again. Returns each row with the
/// start of the window it came from, and the windows that still hit the limit at one second
/// (their rows are a lower bound).
pub async fn rows_in_window<F, Fut>(
    mut run: F,
    start: i64,
    end: i64,
) -> Result<(Vec<(i64, InsightsRow)>, Vec<i64>), AwsError>
where
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = Result<Vec<InsightsRow>, AwsError>>,
{
    let mut pending = vec![(start, end)];
    let mut rows = Vec::new();
    let mut saturated = Vec::new();
    while let Some((s, e)) = pending.pop() {
        let got = run(s, e).await?;
        if got.len() >= MAX_QUERY_ROWS {
            if e > s {
                let mid = s + (e - s) / 2;
                // Later half first on the stack, so the earlier half is asked first.
                pending.push((mid + 1, e));
                pending.push((s, mid));
                continue;
            }
            saturated.push(s);
        }
        rows.extend(got.into_iter().map(|r| (s, r)));
    }
    Ok((rows, saturated))
}

fn value<'a>(row: &'a InsightsRow, field: &str) -> Option<&'a str> {
    row.iter()
        .find(|(f, _)| f == field)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// One aggregated row as a synthetic record in `SYNTHETIC_FORMAT`; `None` for a row without
/// the addresses or the byte sum (an engine that did not evaluate `stats`).
pub fn synthetic_record(row: &InsightsRow) -> Option<String> {
    let word = |field: &str| -> Option<String> {
        value(row, &ident(field)).map(|v| v.split_whitespace().collect::<Vec<_>>().join("-"))
    };
    let bytes: f64 = value(row, "bytes_sum")?.parse().ok()?;
    let mut fields = Vec::with_capacity(8);
    for (i, field) in GROUP_FIELDS.iter().enumerate() {
        let v = word(field);
        if matches!(
            *field,
            "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr"
        ) && v.is_none()
        {
            return None;
        }
        fields.push(v.unwrap_or_else(|| "-".to_owned()));
        if i == 2 {
            fields.push(format!("{}", bytes.max(0.0).round() as u64));
        }
    }
    Some(fields.join(" "))
}

/// The window `report --engine insights` asks about: the recording's start to the minute, to
/// its stop (or `now`) plus the aggregation interval.
pub fn query_window(rec: &Recording, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = rec
        .started_at
        .duration_trunc(TimeDelta::minutes(1))
        .unwrap_or(rec.started_at);
    let stop = rec.stopped.as_ref().map_or(now, |s| s.at);
    let end = stop + TimeDelta::seconds(i64::from(rec.max_aggregation_interval.unwrap_or(600)));
    (start, end)
}

/// The recording's report from a server-side aggregation; `work_dir` holds the synthetic
/// records file the reports crate reads.
pub async fn report<Q: LogQueries>(
    queries: &Q,
    rec: &Recording,
    cfg: &Config,
    now: DateTime<Utc>,
    work_dir: &Path,
) -> Result<Report, PipelineError> {
    let format = rec
        .log_format
        .as_deref()
        .and_then(|f| LogFormat::parse(f).ok())
        .unwrap_or_default();
    if rec.s3.is_some() {
        return Err(PipelineError::DeliveredToS3(rec.recording_id.clone()));
    }
    let Some(query) = conversations_query(&format, &rec.enis) else {
        return Err(PipelineError::InsightsFormat(rec.recording_id.clone()));
    };
    let log_group = rec
        .log_group
        .clone()
        .unwrap_or_else(|| cfg.recording.log_group.clone());
    let (start, end) = query_window(rec, now);
    let (rows, saturated) = rows_in_window(
        |s, e| {
            let q = InsightsQuery {
                log_group: log_group.clone(),
                query: query.clone(),
                start: DateTime::from_timestamp(s, 0).unwrap_or(start),
                end: DateTime::from_timestamp(e, 0).unwrap_or(end),
            };
            async move { queries.insights(&q).await }
        },
        start.timestamp(),
        end.timestamp(),
    )
    .await?;
    let synthetic_format = LogFormat::parse(SYNTHETIC_FORMAT).map_err(|e| PipelineError::Io {
        path: work_dir.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let path = work_dir.join(format!("{}.insights.log.gz", rec.recording_id));
    let io = |source| PipelineError::Io {
        path: path.clone(),
        source,
    };
    let meta = ExportMeta {
        format: synthetic_format,
        recording_id: Some(rec.recording_id.clone()),
        nat_gateway_id: Some(rec.nat_gateway_id.clone()),
        region: cfg.region.as_ref().map(ToString::to_string),
        interface_id: None,
        nat_ips: rec.nat_ips.clone(),
        window_start: Some(start.timestamp()),
        window_end: Some(end.timestamp()),
    };
    let mut writer = ExportWriter::create(&path, &meta).map_err(io)?;
    let mut unusable = 0u64;
    for (window_start, row) in &rows {
        match synthetic_record(row) {
            Some(line) => writer.write_event(window_start * 1000, &line).map_err(io)?,
            None => unusable += 1,
        }
    }
    let file = writer.finish().map_err(io)?;
    let opts = ReportOptions {
        default_format: format,
        nat_ips: rec.nat_ips.clone(),
        top: cfg.report.top,
        strict: false,
        prices: cfg.report.prices(cfg.region.as_deref()).unwrap_or_default(),
    };
    let mut report = build_report(&[file], &opts).map_err(|source| PipelineError::Report {
        recording_id: rec.recording_id.clone(),
        source,
    })?;
    let notes = &mut report.summary.notes;
    notes.push(format!(
        "aggregated server-side by CloudWatch Logs Insights ({} row(s)); records counts are rows (one per conversation direction and window), ports and the per-minute timeline are not available, REJECT records were left out by the query",
        rows.len()
    ));
    let warnings = &mut report.summary.warnings;
    if unusable > 0 {
        warnings.push(format!(
            "{unusable} Insights row(s) lacked the aggregated fields (srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, bytes_sum) and were left out: the query engine did not evaluate `stats`"
        ));
    }
    if !saturated.is_empty() {
        warnings.push(format!(
            "{} one-second window(s) still returned {MAX_QUERY_ROWS} rows: more conversations than Insights returns, so this report is a lower bound",
            saturated.len()
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_query_keeps_the_vpc_side_only() {
        let format = LogFormat::default();
        let q = talkers_query(&format, &["eni-0a".into(), "eni-0b".into()]).unwrap();
        assert_eq!(
            q,
            "fields @timestamp, @message\n\
             | filter @logStream like /^(eni-0a|eni-0b)/\n\
             | parse @message \"* * * * * * * * * * * * * *\" as action, flow_direction, traffic_path, srcaddr, srcport, dstaddr, dstport, protocol, bytes, type, pkt_srcaddr, pkt_src_aws_service, pkt_dstaddr, pkt_dst_aws_service\n\
             | filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr # VPC side: each connection once\n\
             | stats sum(bytes) as total_bytes by srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr\n\
             | sort total_bytes desc\n\
             | limit 20"
        );
    }

    #[test]
    fn a_format_without_pkt_fields_says_it_counts_both_legs() {
        let format = LogFormat::parse("${srcaddr} ${dstaddr} ${bytes}").unwrap();
        let q = talkers_query(&format, &["eni-0a".into()]).unwrap();
        assert!(
            q.contains("parse @message \"* * *\" as srcaddr, dstaddr, bytes"),
            "{q}"
        );
        assert!(q.contains("both NAT legs counted"), "{q}");
        assert!(!q.contains("pkt_srcaddr"), "{q}");
        let no_bytes = LogFormat::parse("${srcaddr} ${dstaddr}").unwrap();
        assert_eq!(talkers_query(&no_bytes, &["eni-0a".into()]), None);
    }

    #[test]
    fn the_aggregation_query_keeps_accepted_vpc_side_records_by_conversation_direction() {
        let q = conversations_query(&LogFormat::default(), &["eni-0a".into()]).unwrap();
        assert_eq!(
            q,
            "fields @timestamp, @message\n\
             | filter @logStream like /^(eni-0a)/\n\
             | parse @message \"* * * * * * * * * * * * * *\" as action, flow_direction, traffic_path, srcaddr, srcport, dstaddr, dstport, protocol, bytes, type, pkt_srcaddr, pkt_src_aws_service, pkt_dstaddr, pkt_dst_aws_service\n\
             | filter action = \"ACCEPT\"\n\
             | filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr\n\
             | stats sum(bytes) as bytes_sum, count(*) as records by srcaddr, dstaddr, protocol, pkt_srcaddr, pkt_src_aws_service, pkt_dstaddr, pkt_dst_aws_service\n\
             | limit 10000"
        );
        let no_pkt = LogFormat::parse("${srcaddr} ${dstaddr} ${bytes}").unwrap();
        assert_eq!(conversations_query(&no_pkt, &["eni-0a".into()]), None);
    }

    fn row(pairs: &[(&str, &str)]) -> InsightsRow {
        pairs
            .iter()
            .map(|(f, v)| ((*f).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_row_becomes_one_synthetic_vpc_side_record() {
        let r = row(&[
            ("srcaddr", "10.0.1.5"),
            ("dstaddr", "10.0.0.220"),
            ("protocol", "6"),
            ("pkt_srcaddr", "10.0.1.5"),
            ("pkt_src_aws_service", ""),
            ("pkt_dstaddr", "52.216.8.12"),
            ("pkt_dst_aws_service", "S3"),
            ("bytes_sum", "1.2e7"),
            ("records", "42"),
        ]);
        let line = synthetic_record(&r).unwrap();
        assert_eq!(
            line,
            "10.0.1.5 10.0.0.220 6 12000000 10.0.1.5 - 52.216.8.12 S3"
        );
        let format = LogFormat::parse(SYNTHETIC_FORMAT).unwrap();
        let rec = format.parse_record(&line, 1).unwrap();
        assert_eq!(rec.bytes, Some(12_000_000));
        // moto answers with raw events: no aggregated fields.
        let raw = row(&[("@ptr", "1"), ("@message", "ACCEPT ...")]);
        assert_eq!(synthetic_record(&raw), None);
    }

    #[tokio::test]
    async fn a_full_window_is_split_until_each_part_fits() {
        // 25,000 events, one per second: a window returns min(events in it, 10,000) rows.
        let asked = std::cell::RefCell::new(Vec::new());
        let (rows, saturated) = rows_in_window(
            |s, e| {
                asked.borrow_mut().push((s, e));
                let n = ((e.min(24_999) - s + 1).max(0) as usize).min(MAX_QUERY_ROWS);
                async move {
                    Ok((0..n)
                        .map(|i| vec![("i".to_owned(), i.to_string())])
                        .collect::<Vec<InsightsRow>>())
                }
            },
            0,
            24_999,
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 25_000);
        assert!(saturated.is_empty());
        let asked = asked.into_inner();
        assert_eq!(asked[0], (0, 24_999));
        // Split windows cover the whole window once, without overlap.
        let mut leaves: Vec<(i64, i64)> = asked
            .iter()
            .copied()
            .filter(|(s, e)| (e - s + 1) < MAX_QUERY_ROWS as i64)
            .collect();
        leaves.sort();
        assert_eq!(leaves.first().map(|l| l.0), Some(0));
        assert_eq!(leaves.last().map(|l| l.1), Some(24_999));
        assert!(
            leaves.windows(2).all(|w| w[0].1 + 1 == w[1].0),
            "{leaves:?}"
        );
    }

    #[tokio::test]
    async fn a_second_that_still_hits_the_limit_is_reported_as_a_lower_bound() {
        let (rows, saturated) = rows_in_window(
            |_, _| async {
                Ok((0..MAX_QUERY_ROWS)
                    .map(|_| InsightsRow::new())
                    .collect::<Vec<_>>())
            },
            100,
            101,
        )
        .await
        .unwrap();
        assert_eq!(saturated, [100, 101]);
        assert_eq!(rows.len(), 2 * MAX_QUERY_ROWS);
    }
}
