//! Reports from rows a query engine aggregated (Amazon Athena, DuckDB) instead of records read
//! here: when a recording is too large for one machine, the engine applies the leg rule in SQL
//! and returns one row per leg class and conversation direction; these rows fold into the same
//! tally the file reader fills, so the tables, prices, remediation and every renderer are the
//! ones of a report of files.
//!
//! The engine's rule is the pkt-fields rule of `legs` for the input of a NAT (a translation
//! seen, or the NAT known): VPC-side records count, records without translation are the
//! internet side. The labels of [`AggregateLeg`] are the values of the query's `leg` column.

use std::net::IpAddr;

use crate::assemble::assemble;
use crate::error::ReportError;
use crate::legs::Side;
use crate::model::Report;
use crate::options::ReportOptions;
use crate::remediation;
use crate::tally::Tally;

/// What the records of one aggregated row are, as the query classified them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateLeg {
    /// VPC side, internal -> NAT (counted).
    VpcOutbound,
    /// VPC side, NAT -> internal (counted).
    VpcReply,
    /// No translation visible: the internet-side duplicate (not counted).
    Internet,
    /// No addresses, or both translated (not counted).
    Unattributed,
    /// Rejected: the NAT never processed the bytes.
    Reject,
    NoData,
    SkipData,
}

impl AggregateLeg {
    pub const ALL: [AggregateLeg; 7] = [
        AggregateLeg::VpcOutbound,
        AggregateLeg::VpcReply,
        AggregateLeg::Internet,
        AggregateLeg::Unattributed,
        AggregateLeg::Reject,
        AggregateLeg::NoData,
        AggregateLeg::SkipData,
    ];

    /// The value of the query's `leg` column.
    pub fn label(self) -> &'static str {
        match self {
            AggregateLeg::VpcOutbound => "vpc-outbound",
            AggregateLeg::VpcReply => "vpc-reply",
            AggregateLeg::Internet => "internet",
            AggregateLeg::Unattributed => "unattributed",
            AggregateLeg::Reject => "reject",
            AggregateLeg::NoData => "nodata",
            AggregateLeg::SkipData => "skipdata",
        }
    }

    pub fn from_label(label: &str) -> Option<AggregateLeg> {
        AggregateLeg::ALL.into_iter().find(|l| l.label() == label)
    }
}

/// One row of the aggregation: `records` records of one leg class; for the VPC side, of one
/// conversation direction (internal host, remote, the remote's port and service, protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateRow {
    pub leg: AggregateLeg,
    pub internal_addr: Option<IpAddr>,
    pub remote_addr: Option<IpAddr>,
    pub remote_port: Option<u16>,
    pub protocol: Option<u8>,
    pub remote_aws_service: Option<String>,
    pub records: u64,
    pub bytes: u64,
    /// The earliest `start` and the latest `end` of the row's records (Unix seconds), when the
    /// format has them.
    pub first_start: Option<i64>,
    pub last_end: Option<i64>,
}

/// Builds the report from aggregated rows. `has_log_status` says whether the format has
/// `log-status` (else the records are counted as without it). The report has no timeline and
/// no malformed-line examples (the engine does not return them); `files_read` is 0.
pub fn build_report_from_rows(
    rows: &[AggregateRow],
    opts: &ReportOptions,
    has_log_status: bool,
) -> Result<Report, ReportError> {
    let mut tally = Tally::default();
    for row in rows {
        tally.count_row(row);
    }
    let s = &mut tally.stats;
    let status_only = s.status_nodata + s.status_skipdata;
    if has_log_status {
        s.status_ok = s.records.saturating_sub(status_only);
    } else {
        s.status_absent = s.records;
    }
    // The query classified every record under the pkt-fields rule of a NAT's input.
    s.files_pkt = 1;
    s.nat_ip_known = true;
    let mut report = assemble(tally, Vec::new(), opts, true)?;
    report.remediation = remediation::plan(&report);
    Ok(report)
}

impl Tally {
    /// Folds one aggregated row: its records into the summary's counts, a VPC-side row's
    /// bytes into its conversation and destination.
    fn count_row(&mut self, row: &AggregateRow) {
        let s = &mut self.stats;
        s.records += row.records;
        s.bytes_all_records = s.bytes_all_records.saturating_add(row.bytes);
        if let Some(t) = row.first_start {
            s.first_time = Some(s.first_time.map_or(t, |f| f.min(t)));
        }
        if let Some(t) = row.last_end.or(row.first_start) {
            s.last_time = Some(s.last_time.map_or(t, |l| l.max(t)));
        }
        let outbound = match row.leg {
            AggregateLeg::VpcOutbound => true,
            AggregateLeg::VpcReply => false,
            AggregateLeg::Internet => return s.legs.internet += row.records,
            AggregateLeg::Unattributed => return s.legs.unattributed += row.records,
            AggregateLeg::Reject => {
                s.reject_records += row.records;
                s.reject_bytes = s.reject_bytes.saturating_add(row.bytes);
                return;
            }
            AggregateLeg::NoData => return s.status_nodata += row.records,
            AggregateLeg::SkipData => return s.status_skipdata += row.records,
        };
        let Some(internal) = row.internal_addr else {
            return s.legs.unattributed += row.records;
        };
        if outbound {
            s.legs.vpc_outbound += row.records;
        } else {
            s.legs.vpc_reply += row.records;
        }
        s.translation_seen = true;
        let side = Side {
            internal,
            remote: row.remote_addr,
            outbound,
            remote_port: row.remote_port,
        };
        self.count_aggregate(
            side,
            row.bytes,
            row.protocol,
            row.remote_aws_service.as_deref(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn vpc(leg: AggregateLeg, internal: &str, remote: &str, bytes: u64) -> AggregateRow {
        AggregateRow {
            leg,
            internal_addr: ip(internal),
            remote_addr: ip(remote),
            remote_port: Some(443),
            protocol: Some(6),
            remote_aws_service: None,
            records: 2,
            bytes,
            first_start: Some(1_700_000_000),
            last_end: Some(1_700_000_060),
        }
    }

    fn other(leg: AggregateLeg, records: u64, bytes: u64) -> AggregateRow {
        AggregateRow {
            leg,
            internal_addr: None,
            remote_addr: None,
            remote_port: None,
            protocol: None,
            remote_aws_service: None,
            records,
            bytes,
            first_start: None,
            last_end: None,
        }
    }

    #[test]
    fn labels_round_trip() {
        for leg in AggregateLeg::ALL {
            assert_eq!(AggregateLeg::from_label(leg.label()), Some(leg));
        }
        assert_eq!(AggregateLeg::from_label("vpc"), None);
    }

    #[test]
    fn vpc_rows_make_the_tables_and_the_others_the_summary() {
        let mut s3 = vpc(AggregateLeg::VpcReply, "10.0.1.5", "52.216.8.12", 7_000);
        s3.remote_aws_service = Some("S3".into());
        let rows = vec![
            vpc(AggregateLeg::VpcOutbound, "10.0.1.5", "52.216.8.12", 1_000),
            s3,
            vpc(AggregateLeg::VpcOutbound, "10.0.1.9", "203.0.113.5", 500),
            other(AggregateLeg::Internet, 6, 8_500),
            other(AggregateLeg::Reject, 1, 40),
            other(AggregateLeg::Unattributed, 3, 0),
        ];
        let opts = ReportOptions::default();
        let report = build_report_from_rows(&rows, &opts, false).unwrap();
        let s = &report.summary;
        assert_eq!(s.records_read, 16);
        assert_eq!(s.records_by_leg.vpc_outbound, 4);
        assert_eq!(s.records_by_leg.vpc_reply, 2);
        assert_eq!(s.records_by_leg.internet, 6);
        assert_eq!(s.records_by_leg.unattributed, 3);
        assert_eq!((s.reject_records, s.reject_bytes), (1, 40));
        assert_eq!(s.bytes_total, 8_500);
        assert_eq!(s.bytes_all_records, 17_040);
        assert_eq!(s.log_status.not_in_format, 16);
        assert_eq!(s.leg_rule, crate::LegRule::PktFields);
        assert_eq!(s.window.as_ref().map(|w| w.start_unix), Some(1_700_000_000));
        let top = &report.talkers[0];
        assert_eq!(top.internal_addr, "10.0.1.5");
        assert_eq!((top.bytes_out, top.bytes_in), (1_000, 7_000));
        assert_eq!(top.remote_aws_service.as_deref(), Some("S3"));
        assert_eq!(report.services[0].service, "S3");
        assert_eq!(report.destinations[0].port, Some(443));
        assert_eq!(report.destinations[0].protocol.as_deref(), Some("TCP"));
    }
}
