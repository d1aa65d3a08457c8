//! The SQL of `report --engine athena`, as text: pure, so it is tested as text and run as is by
//! DuckDB in the tests (the same aggregation over a Parquet copy of the same records).
//!
//! The aggregation is the leg rule of the reports crate (docs/DESIGN.md, "The leg rule") for the
//! flow logs of a NAT: a record is VPC side when exactly one of its header addresses differs
//! from its `pkt-*` address (outbound: `dstaddr` translated, internal `srcaddr`, remote
//! `pkt-dstaddr`, its port `dstport`, its service `pkt-dst-aws-service`; reply: `srcaddr`
//! translated, internal `dstaddr`, remote `pkt-srcaddr`, `srcport`, `pkt-src-aws-service`); a
//! record without translation is the internet-side duplicate; a `pkt-*` value of `-` counts as
//! its header address; no address, or both translated, is unattributed; REJECT, NODATA and
//! SKIPDATA records are counted apart. One row per leg class and, on the VPC side, per
//! conversation direction; the reports crate builds the tables from the rows.
//!
//! Portable by intent: plain ANSI SQL (CTEs, `CASE`, `NULLIF`, `COALESCE`, double-quoted
//! identifiers) that Athena's Trino engine and DuckDB both run; only the relation read
//! (`source`) differs between them.

use nat_flowrec_parsers::{Field, LogFormat, column_name};
use nat_flowrec_reports::AggregateLeg;

/// The fields the leg rule cannot do without.
pub const REQUIRED_FIELDS: [Field; 5] = [
    Field::Srcaddr,
    Field::Dstaddr,
    Field::PktSrcaddr,
    Field::PktDstaddr,
    Field::Bytes,
];

/// The result's columns, in order.
pub const RESULT_COLUMNS: [&str; 10] = [
    "leg",
    "internal_addr",
    "remote_addr",
    "remote_port",
    "protocol",
    "remote_aws_service",
    "records",
    "bytes",
    "first_start",
    "last_end",
];

/// A column's type, as AWS's flow-log tables declare it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    Bigint,
}

impl ColumnType {
    /// In Athena's DDL (Hive types).
    pub fn athena(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Bigint => "bigint",
        }
    }

    /// In DuckDB.
    pub fn duckdb(self) -> &'static str {
        match self {
            ColumnType::String => "VARCHAR",
            ColumnType::Int => "INTEGER",
            ColumnType::Bigint => "BIGINT",
        }
    }
}

/// The type AWS's flow-log DDL gives a field (numbers as numbers, everything else text).
pub fn column_type(field: &Field) -> ColumnType {
    match field {
        Field::Version | Field::Srcport | Field::Dstport | Field::TcpFlags | Field::TrafficPath => {
            ColumnType::Int
        }
        Field::Protocol | Field::Packets | Field::Bytes | Field::Start | Field::End => {
            ColumnType::Bigint
        }
        _ => ColumnType::String,
    }
}

/// The table's columns: the format's fields, in its order (a text object's fields are
/// positional).
pub fn columns(format: &LogFormat) -> Vec<(String, ColumnType)> {
    format
        .fields()
        .iter()
        .map(|f| (column_name(f), column_type(f)))
        .collect()
}

/// Whether the format has what the aggregation needs.
pub fn has_required_fields(format: &LogFormat) -> bool {
    REQUIRED_FIELDS.iter().all(|f| format.contains(f))
}

/// `'text'`, quotes doubled.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A text column with `-` (and empty) as NULL; `NULL` when the format lacks the field.
fn text_of(format: &LogFormat, field: Field) -> String {
    if format.contains(&field) {
        format!("NULLIF(NULLIF(\"{}\", '-'), '')", column_name(&field))
    } else {
        "CAST(NULL AS VARCHAR)".to_owned()
    }
}

/// A number column; `NULL` when the format lacks the field.
fn number_of(format: &LogFormat, field: Field) -> String {
    if format.contains(&field) {
        format!("\"{}\"", column_name(&field))
    } else {
        "CAST(NULL AS BIGINT)".to_owned()
    }
}

/// The leg-rule aggregation over `source` (a table name or a parenthesised query, aliased by
/// the query); `None` when the format lacks a field of [`REQUIRED_FIELDS`].
pub fn aggregation(format: &LogFormat, source: &str) -> Option<String> {
    if !has_required_fields(format) {
        return None;
    }
    let l = |leg: AggregateLeg| literal(leg.label());
    let (out, reply) = (l(AggregateLeg::VpcOutbound), l(AggregateLeg::VpcReply));
    let records = [
        format!("{} AS src", text_of(format, Field::Srcaddr)),
        format!("{} AS dst", text_of(format, Field::Dstaddr)),
        format!("{} AS pkt_src", text_of(format, Field::PktSrcaddr)),
        format!("{} AS pkt_dst", text_of(format, Field::PktDstaddr)),
        format!("{} AS src_port", number_of(format, Field::Srcport)),
        format!("{} AS dst_port", number_of(format, Field::Dstport)),
        format!("{} AS proto", number_of(format, Field::Protocol)),
        format!("{} AS bytes_", number_of(format, Field::Bytes)),
        format!("{} AS start_", number_of(format, Field::Start)),
        format!("{} AS end_", number_of(format, Field::End)),
        format!("{} AS action_", text_of(format, Field::Action)),
        format!("{} AS status_", text_of(format, Field::LogStatus)),
        format!(
            "{} AS src_service",
            text_of(format, Field::PktSrcAwsService)
        ),
        format!(
            "{} AS dst_service",
            text_of(format, Field::PktDstAwsService)
        ),
    ];
    Some(format!(
        "WITH records AS (
  SELECT
    {records}
  FROM {source} AS flow_logs
),
legs AS (
  SELECT
    records.*,
    CASE
      WHEN status_ = 'NODATA' THEN {nodata}
      WHEN status_ = 'SKIPDATA' THEN {skipdata}
      WHEN action_ = 'REJECT' THEN {reject}
      WHEN src IS NULL OR dst IS NULL THEN {unattributed}
      WHEN COALESCE(pkt_src, src) = src AND COALESCE(pkt_dst, dst) <> dst THEN {out}
      WHEN COALESCE(pkt_src, src) <> src AND COALESCE(pkt_dst, dst) = dst THEN {reply}
      WHEN COALESCE(pkt_src, src) = src AND COALESCE(pkt_dst, dst) = dst THEN {internet}
      ELSE {unattributed}
    END AS leg
  FROM records
),
sides AS (
  SELECT
    leg,
    CASE leg WHEN {out} THEN src WHEN {reply} THEN dst END AS internal_addr,
    CASE leg WHEN {out} THEN pkt_dst WHEN {reply} THEN pkt_src END AS remote_addr,
    CASE leg WHEN {out} THEN dst_port WHEN {reply} THEN src_port END AS remote_port,
    CASE WHEN leg IN ({out}, {reply}) THEN proto END AS protocol,
    CASE leg WHEN {out} THEN dst_service WHEN {reply} THEN src_service END AS remote_aws_service,
    bytes_,
    start_,
    end_
  FROM legs
)
SELECT
  leg,
  internal_addr,
  remote_addr,
  remote_port,
  protocol,
  remote_aws_service,
  COUNT(*) AS records,
  COALESCE(SUM(bytes_), 0) AS bytes,
  MIN(start_) AS first_start,
  MAX(end_) AS last_end
FROM sides
GROUP BY leg, internal_addr, remote_addr, remote_port, protocol, remote_aws_service
ORDER BY bytes DESC, leg, internal_addr, remote_addr, remote_port, protocol, remote_aws_service",
        records = records.join(",\n    "),
        nodata = l(AggregateLeg::NoData),
        skipdata = l(AggregateLeg::SkipData),
        reject = l(AggregateLeg::Reject),
        unattributed = l(AggregateLeg::Unattributed),
        internet = l(AggregateLeg::Internet),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_aggregates_by_leg_and_conversation_direction() {
        let sql = aggregation(&LogFormat::default(), "\"nat_flowrec\".\"t\"").unwrap();
        let expected = r#"WITH records AS (
  SELECT
    NULLIF(NULLIF("srcaddr", '-'), '') AS src,
    NULLIF(NULLIF("dstaddr", '-'), '') AS dst,
    NULLIF(NULLIF("pkt_srcaddr", '-'), '') AS pkt_src,
    NULLIF(NULLIF("pkt_dstaddr", '-'), '') AS pkt_dst,
    "srcport" AS src_port,
    "dstport" AS dst_port,
    "protocol" AS proto,
    "bytes" AS bytes_,
    CAST(NULL AS BIGINT) AS start_,
    CAST(NULL AS BIGINT) AS end_,
    NULLIF(NULLIF("action", '-'), '') AS action_,
    CAST(NULL AS VARCHAR) AS status_,
    NULLIF(NULLIF("pkt_src_aws_service", '-'), '') AS src_service,
    NULLIF(NULLIF("pkt_dst_aws_service", '-'), '') AS dst_service
  FROM "nat_flowrec"."t" AS flow_logs
),
legs AS (
  SELECT
    records.*,
    CASE
      WHEN status_ = 'NODATA' THEN 'nodata'
      WHEN status_ = 'SKIPDATA' THEN 'skipdata'
      WHEN action_ = 'REJECT' THEN 'reject'
      WHEN src IS NULL OR dst IS NULL THEN 'unattributed'
      WHEN COALESCE(pkt_src, src) = src AND COALESCE(pkt_dst, dst) <> dst THEN 'vpc-outbound'
      WHEN COALESCE(pkt_src, src) <> src AND COALESCE(pkt_dst, dst) = dst THEN 'vpc-reply'
      WHEN COALESCE(pkt_src, src) = src AND COALESCE(pkt_dst, dst) = dst THEN 'internet'
      ELSE 'unattributed'
    END AS leg
  FROM records
),
sides AS (
  SELECT
    leg,
    CASE leg WHEN 'vpc-outbound' THEN src WHEN 'vpc-reply' THEN dst END AS internal_addr,
    CASE leg WHEN 'vpc-outbound' THEN pkt_dst WHEN 'vpc-reply' THEN pkt_src END AS remote_addr,
    CASE leg WHEN 'vpc-outbound' THEN dst_port WHEN 'vpc-reply' THEN src_port END AS remote_port,
    CASE WHEN leg IN ('vpc-outbound', 'vpc-reply') THEN proto END AS protocol,
    CASE leg WHEN 'vpc-outbound' THEN dst_service WHEN 'vpc-reply' THEN src_service END AS remote_aws_service,
    bytes_,
    start_,
    end_
  FROM legs
)
SELECT
  leg,
  internal_addr,
  remote_addr,
  remote_port,
  protocol,
  remote_aws_service,
  COUNT(*) AS records,
  COALESCE(SUM(bytes_), 0) AS bytes,
  MIN(start_) AS first_start,
  MAX(end_) AS last_end
FROM sides
GROUP BY leg, internal_addr, remote_addr, remote_port, protocol, remote_aws_service
ORDER BY bytes DESC, leg, internal_addr, remote_addr, remote_port, protocol, remote_aws_service"#;
        assert_eq!(sql, expected);
    }

    #[test]
    fn a_format_with_times_and_status_reads_them_and_one_without_pkt_fields_has_no_query() {
        let format = LogFormat::parse(
            "${version} ${srcaddr} ${dstaddr} ${bytes} ${start} ${end} ${log-status} ${pkt-srcaddr} ${pkt-dstaddr}",
        )
        .unwrap();
        let sql = aggregation(&format, "t").unwrap();
        assert!(sql.contains("\"start\" AS start_"), "{sql}");
        assert!(sql.contains("\"end\" AS end_"), "{sql}");
        assert!(
            sql.contains("NULLIF(NULLIF(\"log_status\", '-'), '') AS status_"),
            "{sql}"
        );
        assert!(sql.contains("CAST(NULL AS BIGINT) AS dst_port"), "{sql}");
        let no_pkt = LogFormat::parse("${srcaddr} ${dstaddr} ${bytes}").unwrap();
        assert_eq!(aggregation(&no_pkt, "t"), None);
    }

    #[test]
    fn columns_follow_the_format_with_aws_types() {
        let format =
            LogFormat::parse("${srcaddr} ${dstport} ${bytes} ${pkt-dst-aws-service}").unwrap();
        let cols: Vec<(String, &str)> = columns(&format)
            .into_iter()
            .map(|(n, t)| (n, t.athena()))
            .collect();
        assert_eq!(
            cols,
            [
                ("srcaddr".to_owned(), "string"),
                ("dstport".to_owned(), "int"),
                ("bytes".to_owned(), "bigint"),
                ("pkt_dst_aws_service".to_owned(), "string"),
            ]
        );
        assert_eq!(literal("it's"), "'it''s'");
    }
}
