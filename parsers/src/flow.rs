//! A flow: the part of a record that aggregations read (addresses, ports, protocol, bytes, times,
//! action, status, direction, AWS services), small and `Copy`. Reports fold tens of millions of
//! records, so they parse lines straight into this with [`crate::LogFormat::parse_flow`] instead
//! of building the full [`Record`] of every line; a line is accepted or rejected exactly as
//! [`crate::LogFormat::parse_record`] would, and the values are the record's own.

use std::net::IpAddr;

use crate::record::Record;
use crate::values::{Action, AwsService, FlowDirection, LogStatus};

/// The aggregated fields of one record; each is `None` when the format lacks it or the line has
/// `-` there (the same values [`Record`] holds for them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow<'a> {
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub bytes: Option<u64>,
    /// Unix seconds (milliseconds normalised, as in [`Record::start`]).
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub flow_direction: Option<FlowDirection>,
    pub pkt_src_aws_service: Option<AwsService<'a>>,
    pub pkt_dst_aws_service: Option<AwsService<'a>>,
    /// The event timestamp a reader found beside the record, in Unix milliseconds.
    pub timestamp_ms: Option<i64>,
}

impl Flow<'_> {
    /// Whether the record is a NODATA or SKIPDATA marker rather than traffic.
    pub fn is_status_only(&self) -> bool {
        matches!(
            self.log_status,
            Some(LogStatus::NoData | LogStatus::SkipData)
        )
    }
}

impl<'a> From<&Record<'a>> for Flow<'a> {
    fn from(rec: &Record<'a>) -> Flow<'a> {
        Flow {
            srcaddr: rec.srcaddr,
            dstaddr: rec.dstaddr,
            pkt_srcaddr: rec.pkt_srcaddr,
            pkt_dstaddr: rec.pkt_dstaddr,
            srcport: rec.srcport,
            dstport: rec.dstport,
            protocol: rec.protocol,
            bytes: rec.bytes,
            start: rec.start,
            end: rec.end,
            action: rec.action,
            log_status: rec.log_status,
            flow_direction: rec.flow_direction,
            pkt_src_aws_service: rec.pkt_src_aws_service,
            pkt_dst_aws_service: rec.pkt_dst_aws_service,
            timestamp_ms: rec.timestamp_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::LogFormat;

    #[test]
    fn a_flow_keeps_the_aggregated_fields_of_its_record() {
        let format = LogFormat::default();
        let mut rec = format
            .parse_record(
                "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3",
                1,
            )
            .expect("record");
        rec.timestamp_ms = Some(7);
        let flow = Flow::from(&rec);
        assert_eq!(flow.srcaddr, rec.srcaddr);
        assert_eq!(flow.pkt_dstaddr, "203.0.113.5".parse().ok());
        assert_eq!((flow.srcport, flow.dstport), (Some(41000), Some(443)));
        assert_eq!((flow.protocol, flow.bytes), (Some(6), Some(5000)));
        assert_eq!(flow.action, Some(Action::Accept));
        assert_eq!(flow.flow_direction, Some(FlowDirection::Ingress));
        assert_eq!(flow.pkt_src_aws_service, None);
        assert_eq!(flow.pkt_dst_aws_service, Some(AwsService::S3));
        assert_eq!(flow.timestamp_ms, Some(7));
        assert!(!flow.is_status_only());
    }
}
