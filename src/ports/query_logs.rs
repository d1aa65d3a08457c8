//! Route 53 Resolver query logging: a recording may also record its NAT's VPC's DNS queries, so
//! the report can name the remotes flow logs show only as addresses. The configuration is tagged
//! like the recording's flow logs, and the tags are the whole of "ours": a configuration without
//! `TAG_RECORDING` is never disassociated or deleted, even when the caller asks.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::AwsError;

/// What one recording asks CreateResolverQueryLogConfig for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLogRequest {
    /// Also the CreatorRequestId: a retried call cannot create twice.
    pub recording_id: String,
    pub nat_gateway_id: String,
    /// The ARN of the CloudWatch Logs group the queries go to.
    pub destination_arn: String,
    pub deadline: DateTime<Utc>,
}

/// A query-logging configuration that carries our tags, with the VPCs associated with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedQueryLogConfig {
    pub config_id: String,
    pub recording_id: String,
    pub nat_gateway_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub destination_arn: String,
    pub vpc_ids: Vec<String>,
}

/// A configuration that logs a VPC's queries, ours or not (ListResolverQueryLogConfigAssociations
/// joined with the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcQueryLogging {
    pub config_id: String,
    /// A log group's ARN (`arn:aws:logs:...:log-group:NAME`), an S3 bucket's or a Firehose
    /// stream's: only a log group's records can be read back.
    pub destination_arn: String,
    /// Whether the configuration carries `TAG_RECORDING`.
    pub ours: bool,
}

pub trait QueryLogs {
    /// CreateResolverQueryLogConfig to `req.destination_arn`, tagged; returns its id. A retry of
    /// a call that AWS acted on returns the configuration created then.
    fn create_query_log_config(
        &self,
        req: &QueryLogRequest,
    ) -> impl Future<Output = Result<String, AwsError>>;
    /// AssociateResolverQueryLogConfig; a VPC already associated with it is not an error.
    fn associate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>>;
    /// DisassociateResolverQueryLogConfig, only for a configuration that carries our tags
    /// (others are refused with [`AwsError::not_ours`]'s code); an association already gone is
    /// not an error.
    fn disassociate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>>;
    /// DeleteResolverQueryLogConfig, only for ours; AWS refuses it while a VPC is associated.
    /// A configuration already gone is not an error.
    fn delete_query_log_config(
        &self,
        config_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>>;
    /// Every configuration that carries `TAG_RECORDING`, with its associated VPCs.
    fn tagged_query_log_configs(
        &self,
    ) -> impl Future<Output = Result<Vec<TaggedQueryLogConfig>, AwsError>>;
    /// The configurations that log `vpc_id`'s queries now.
    fn vpc_query_logging(
        &self,
        vpc_id: &str,
    ) -> impl Future<Output = Result<Vec<VpcQueryLogging>, AwsError>>;
}
