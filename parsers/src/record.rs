//! One flow-log record as typed values borrowing the line it was parsed from (zero-copy: the
//! parser allocates nothing for a record whose format has no unknown fields), and its rendering
//! back to a line.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::field::Field;
use crate::format::LogFormat;
use crate::values::{Action, AwsService, FlowDirection, IpType, LogStatus, TrafficPath};

/// Start/end values above this are milliseconds (10^11 s is the year 5138).
pub(crate) const MILLIS_THRESHOLD: u64 = 100_000_000_000;

/// One flow-log record. Every field is `None` when the format lacks it or the line has `-` there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record<'a> {
    pub version: Option<u8>,
    pub account_id: Option<&'a str>,
    pub interface_id: Option<&'a str>,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Unix seconds. AWS sometimes writes milliseconds; values above 10^11 are divided by 1000.
    pub start: Option<u64>,
    /// Unix seconds, normalised like `start`.
    pub end: Option<u64>,
    pub action: Option<Action>,
    pub log_status: Option<LogStatus>,
    pub vpc_id: Option<&'a str>,
    pub subnet_id: Option<&'a str>,
    pub instance_id: Option<&'a str>,
    pub tcp_flags: Option<u16>,
    pub ip_type: Option<IpType>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub region: Option<&'a str>,
    pub az_id: Option<&'a str>,
    pub sublocation_type: Option<&'a str>,
    pub sublocation_id: Option<&'a str>,
    pub pkt_src_aws_service: Option<AwsService<'a>>,
    pub pkt_dst_aws_service: Option<AwsService<'a>>,
    pub flow_direction: Option<FlowDirection>,
    pub traffic_path: Option<TrafficPath>,
    pub ecs_cluster_arn: Option<&'a str>,
    pub ecs_cluster_name: Option<&'a str>,
    pub ecs_container_instance_arn: Option<&'a str>,
    pub ecs_container_instance_id: Option<&'a str>,
    pub ecs_container_id: Option<&'a str>,
    pub ecs_second_container_id: Option<&'a str>,
    pub ecs_service_name: Option<&'a str>,
    pub ecs_task_definition_arn: Option<&'a str>,
    pub ecs_task_arn: Option<&'a str>,
    pub ecs_task_id: Option<&'a str>,
    pub reject_reason: Option<&'a str>,
    /// Values of [`Field::Unknown`] fields, in format order: `(position in the format (0-based),
    /// value)`. The position, not the name, because the name lives in the `LogFormat`, not in the
    /// line (`format.fields()[position].name()` gives it). Fields with `-` are absent. Empty (no
    /// allocation) when the format has no unknown field.
    pub unknown: Vec<(usize, &'a str)>,
    /// The event timestamp a reader found beside the record (CloudWatch export, our export
    /// files), in Unix milliseconds; never taken from the record's own text.
    pub timestamp_ms: Option<i64>,
}

impl<'a> Record<'a> {
    /// The value of an unknown field by name, if the format has it and the line had a value.
    pub fn unknown_value(&self, format: &LogFormat, name: &str) -> Option<&'a str> {
        self.unknown
            .iter()
            .find(|(pos, _)| format.fields().get(*pos).map(Field::name) == Some(name))
            .map(|(_, value)| *value)
    }

    /// Whether the record is a NODATA or SKIPDATA marker rather than traffic.
    pub fn is_status_only(&self) -> bool {
        matches!(
            self.log_status,
            Some(LogStatus::NoData | LogStatus::SkipData)
        )
    }

    /// Writes the record back as a line in `format` (`-` for absent values). `start`/`end` are
    /// written in seconds, or in milliseconds when the parser would take the seconds for
    /// milliseconds (above 10^11); parsing the result gives this record back (minus
    /// `timestamp_ms`, which is not part of the line).
    pub fn render(&self, format: &LogFormat) -> String {
        let mut out = String::with_capacity(format.len() * 12);
        for (pos, field) in format.fields().iter().enumerate() {
            if pos > 0 {
                out.push(' ');
            }
            let start = out.len();
            self.write_value(&mut out, pos, field);
            if out.len() == start {
                out.push('-');
            }
        }
        out
    }

    /// Appends the field's value to `out`, or nothing when absent.
    fn write_value(&self, out: &mut String, pos: usize, field: &Field) {
        fn put<T: std::fmt::Display>(out: &mut String, value: Option<T>) {
            if let Some(value) = value {
                // Writing into a String cannot fail.
                let _ = write!(out, "{value}");
            }
        }
        match field {
            Field::Version => put(out, self.version),
            Field::AccountId => put(out, self.account_id),
            Field::InterfaceId => put(out, self.interface_id),
            Field::Srcaddr => put(out, self.srcaddr),
            Field::Dstaddr => put(out, self.dstaddr),
            Field::Srcport => put(out, self.srcport),
            Field::Dstport => put(out, self.dstport),
            Field::Protocol => put(out, self.protocol),
            Field::Packets => put(out, self.packets),
            Field::Bytes => put(out, self.bytes),
            Field::Start => put(out, self.start.map(as_parsed_back)),
            Field::End => put(out, self.end.map(as_parsed_back)),
            Field::Action => put(out, self.action),
            Field::LogStatus => put(out, self.log_status),
            Field::VpcId => put(out, self.vpc_id),
            Field::SubnetId => put(out, self.subnet_id),
            Field::InstanceId => put(out, self.instance_id),
            Field::TcpFlags => put(out, self.tcp_flags),
            Field::Type => put(out, self.ip_type),
            Field::PktSrcaddr => put(out, self.pkt_srcaddr),
            Field::PktDstaddr => put(out, self.pkt_dstaddr),
            Field::Region => put(out, self.region),
            Field::AzId => put(out, self.az_id),
            Field::SublocationType => put(out, self.sublocation_type),
            Field::SublocationId => put(out, self.sublocation_id),
            Field::PktSrcAwsService => put(out, self.pkt_src_aws_service),
            Field::PktDstAwsService => put(out, self.pkt_dst_aws_service),
            Field::FlowDirection => put(out, self.flow_direction),
            Field::TrafficPath => put(out, self.traffic_path),
            Field::EcsClusterArn => put(out, self.ecs_cluster_arn),
            Field::EcsClusterName => put(out, self.ecs_cluster_name),
            Field::EcsContainerInstanceArn => put(out, self.ecs_container_instance_arn),
            Field::EcsContainerInstanceId => put(out, self.ecs_container_instance_id),
            Field::EcsContainerId => put(out, self.ecs_container_id),
            Field::EcsSecondContainerId => put(out, self.ecs_second_container_id),
            Field::EcsServiceName => put(out, self.ecs_service_name),
            Field::EcsTaskDefinitionArn => put(out, self.ecs_task_definition_arn),
            Field::EcsTaskArn => put(out, self.ecs_task_arn),
            Field::EcsTaskId => put(out, self.ecs_task_id),
            Field::RejectReason => put(out, self.reject_reason),
            Field::Unknown(_) => put(
                out,
                self.unknown
                    .iter()
                    .find(|(p, _)| *p == pos)
                    .map(|(_, value)| *value),
            ),
        }
    }
}

/// `start`/`end` seconds as text the parser reads back as the same seconds: it takes values above
/// the threshold for milliseconds (AWS writes those too), so such a value goes out in milliseconds
/// (u128: no overflow).
fn as_parsed_back(seconds: u64) -> u128 {
    if seconds > MILLIS_THRESHOLD {
        u128::from(seconds) * 1000
    } else {
        u128::from(seconds)
    }
}
