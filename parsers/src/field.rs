//! The names a flow-log format can contain. AWS adds fields with each record version (2 to 8 so
//! far); a name we do not know yet is still accepted and its values are kept as text, so a new
//! AWS field never makes a whole file unreadable.

use std::fmt;

/// One field of a flow-log format (`${srcaddr}` in a format string, `srcaddr` in an S3 header).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Version,
    AccountId,
    InterfaceId,
    Srcaddr,
    Dstaddr,
    Srcport,
    Dstport,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcaddr,
    PktDstaddr,
    Region,
    AzId,
    SublocationType,
    SublocationId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    EcsClusterArn,
    EcsClusterName,
    EcsContainerInstanceArn,
    EcsContainerInstanceId,
    EcsContainerId,
    EcsSecondContainerId,
    EcsServiceName,
    EcsTaskDefinitionArn,
    EcsTaskArn,
    EcsTaskId,
    RejectReason,
    /// A name AWS may have added after this crate was written; its values stay text.
    Unknown(String),
}

/// Every field this crate gives a typed value, in AWS's documentation order.
pub const KNOWN_FIELDS: &[Field] = &[
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
    Field::VpcId,
    Field::SubnetId,
    Field::InstanceId,
    Field::TcpFlags,
    Field::Type,
    Field::PktSrcaddr,
    Field::PktDstaddr,
    Field::Region,
    Field::AzId,
    Field::SublocationType,
    Field::SublocationId,
    Field::PktSrcAwsService,
    Field::PktDstAwsService,
    Field::FlowDirection,
    Field::TrafficPath,
    Field::EcsClusterArn,
    Field::EcsClusterName,
    Field::EcsContainerInstanceArn,
    Field::EcsContainerInstanceId,
    Field::EcsContainerId,
    Field::EcsSecondContainerId,
    Field::EcsServiceName,
    Field::EcsTaskDefinitionArn,
    Field::EcsTaskArn,
    Field::EcsTaskId,
    Field::RejectReason,
];

impl Field {
    /// The name as AWS writes it (`pkt-srcaddr`), for known and unknown fields alike.
    pub fn name(&self) -> &str {
        match self {
            Field::Version => "version",
            Field::AccountId => "account-id",
            Field::InterfaceId => "interface-id",
            Field::Srcaddr => "srcaddr",
            Field::Dstaddr => "dstaddr",
            Field::Srcport => "srcport",
            Field::Dstport => "dstport",
            Field::Protocol => "protocol",
            Field::Packets => "packets",
            Field::Bytes => "bytes",
            Field::Start => "start",
            Field::End => "end",
            Field::Action => "action",
            Field::LogStatus => "log-status",
            Field::VpcId => "vpc-id",
            Field::SubnetId => "subnet-id",
            Field::InstanceId => "instance-id",
            Field::TcpFlags => "tcp-flags",
            Field::Type => "type",
            Field::PktSrcaddr => "pkt-srcaddr",
            Field::PktDstaddr => "pkt-dstaddr",
            Field::Region => "region",
            Field::AzId => "az-id",
            Field::SublocationType => "sublocation-type",
            Field::SublocationId => "sublocation-id",
            Field::PktSrcAwsService => "pkt-src-aws-service",
            Field::PktDstAwsService => "pkt-dst-aws-service",
            Field::FlowDirection => "flow-direction",
            Field::TrafficPath => "traffic-path",
            Field::EcsClusterArn => "ecs-cluster-arn",
            Field::EcsClusterName => "ecs-cluster-name",
            Field::EcsContainerInstanceArn => "ecs-container-instance-arn",
            Field::EcsContainerInstanceId => "ecs-container-instance-id",
            Field::EcsContainerId => "ecs-container-id",
            Field::EcsSecondContainerId => "ecs-second-container-id",
            Field::EcsServiceName => "ecs-service-name",
            Field::EcsTaskDefinitionArn => "ecs-task-definition-arn",
            Field::EcsTaskArn => "ecs-task-arn",
            Field::EcsTaskId => "ecs-task-id",
            Field::RejectReason => "reject-reason",
            Field::Unknown(name) => name,
        }
    }

    /// The field a name denotes; names AWS has not documented become [`Field::Unknown`].
    /// Names are case-sensitive, as in `CreateFlowLogs`.
    pub fn from_name(name: &str) -> Field {
        KNOWN_FIELDS
            .iter()
            .find(|field| field.name() == name)
            .cloned()
            .unwrap_or_else(|| Field::Unknown(name.to_owned()))
    }

    /// Whether this crate gives the field a typed value.
    pub fn is_known(&self) -> bool {
        !matches!(self, Field::Unknown(_))
    }

    /// Whether AWS writes the field as a number (an integer column in Parquet files, `int` or
    /// `bigint` in its Athena tables); every other known field is text.
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            Field::Version
                | Field::Srcport
                | Field::Dstport
                | Field::Protocol
                | Field::Packets
                | Field::Bytes
                | Field::Start
                | Field::End
                | Field::TcpFlags
                | Field::TrafficPath
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_maps_back_to_its_field() {
        for field in KNOWN_FIELDS {
            assert_eq!(&Field::from_name(field.name()), field);
            assert!(field.is_known());
        }
        assert_eq!(KNOWN_FIELDS.len(), 40);
    }

    #[test]
    fn unknown_names_are_kept_verbatim() {
        let field = Field::from_name("future-field");
        assert_eq!(field, Field::Unknown("future-field".into()));
        assert_eq!(field.name(), "future-field");
        assert!(!field.is_known());
        // Names are case-sensitive, as AWS treats them.
        assert!(!Field::from_name("SRCADDR").is_known());
    }

    #[test]
    fn display_is_the_aws_name() {
        assert_eq!(Field::PktSrcAwsService.to_string(), "pkt-src-aws-service");
    }
}
