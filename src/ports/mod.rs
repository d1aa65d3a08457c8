//! The capabilities the controller needs from AWS, one trait per service and one method per AWS
//! intent. The controller is generic over them, so the same code runs against real AWS
//! (`aws/`), moto (the same `aws/` adapters pointed at an emulator) and the in-process simulator
//! (`sim/`). Paging, batching and limits stay inside the adapters.

use std::future::Future;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::s3_layout::S3Delivery;

mod inventory;
mod query_logs;
pub use inventory::{
    InstanceName, Inventory, LogGroupInfo, NatPlacement, NetworkInterface, RolePolicies, Route,
    RouteTable, Subnet, TopicInfo, TopicSubscription, VpcEndpoint,
};
pub use query_logs::{QueryLogRequest, QueryLogs, TaggedQueryLogConfig, VpcQueryLogging};

/// Tag keys that mark a flow log (or a query-logging configuration) as ours. Deletes are scoped to
/// resources that carry them.
pub const TAG_RECORDING: &str = "nat-flowrec:recording";
pub const TAG_NAT_GATEWAY: &str = "nat-flowrec:nat-gateway";
pub const TAG_DEADLINE: &str = "nat-flowrec:deadline";

/// A NAT gateway as DescribeNatGateways shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    pub id: String,
    /// `pending | failed | available | deleting | deleted`; only `available` is recorded.
    pub state: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    /// Every `NatGatewayAddresses[].NetworkInterfaceId`, deduplicated, in AWS's order.
    pub enis: Vec<String>,
    /// The NAT's private addresses: they decide the VPC side where a format lacks pkt-* fields.
    pub private_ips: Vec<IpAddr>,
    pub public_ips: Vec<IpAddr>,
    /// `AvailabilityMode` is `regional` (aws-sdk-ec2 1.274): one NAT across the VPC's AZs, which
    /// AWS records with the flow-log resource type `RegionalNatGateway` rather than per ENI.
    pub regional: bool,
}

/// What a recording's flow logs are created on (CreateFlowLogs' `ResourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowLogResource {
    /// Every ENI of a zonal NAT gateway (`FlowLogRequest::enis` are ENI ids).
    NetworkInterfaces,
    /// A regional NAT gateway itself (`FlowLogRequest::enis` holds the NAT gateway's id).
    RegionalNatGateway,
}

/// What one recording asks CreateFlowLogs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogRequest {
    /// Also the ClientToken: a retried call cannot create twice.
    pub recording_id: String,
    pub nat_gateway_id: String,
    /// The resources to record: the NAT's ENIs, or the regional NAT's id (see `resource`).
    pub enis: Vec<String>,
    pub resource: FlowLogResource,
    /// Where the flow logs deliver: the log group (through the role), or S3 when `s3` is set.
    pub log_group: String,
    pub deliver_logs_role_arn: String,
    pub s3: Option<S3Delivery>,
    pub log_format: String,
    pub max_aggregation_interval: i32,
    pub deadline: DateTime<Utc>,
}

/// A flow log that carries our tags, as DescribeFlowLogs shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedFlowLog {
    pub flow_log_id: String,
    /// The ENI it records.
    pub resource_id: String,
    pub recording_id: String,
    pub nat_gateway_id: Option<String>,
    pub deadline: Option<DateTime<Utc>>,
    pub log_group: Option<String>,
    /// The S3 ARN (bucket and prefix) of a flow log delivering to S3.
    pub log_destination: Option<String>,
    pub log_format: Option<String>,
    /// `SUCCESS | FAILED`, and AWS's message when delivery fails (role permissions, ...).
    pub deliver_logs_status: Option<String>,
    pub deliver_logs_error: Option<String>,
}

/// The log group recordings deliver to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupSpec {
    pub name: String,
    /// `STANDARD | INFREQUENT_ACCESS`.
    pub class: String,
    pub retention_days: i32,
}

/// One GetMetricData request for many NATs and metrics (batched inside the adapter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    pub nat_gateway_ids: Vec<String>,
    /// e.g. `BytesInFromSource`; namespace `AWS/NATGateway`, dimension `NatGatewayId`.
    pub metrics: Vec<String>,
    /// `Sum` for bytes/packets.
    pub statistic: String,
    pub period_seconds: i32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Log groups whose `IncomingBytes` (namespace `AWS/Logs`, dimension `LogGroupName`) the
    /// same call reads, with the same statistic, period and window: what recordings cost.
    pub log_groups: Vec<String>,
    /// A NAT gateway listed here is asked only for these of `metrics` (its own trigger watches
    /// others than the rest): GetMetricData bills per metric requested.
    pub nat_metrics: std::collections::BTreeMap<String, Vec<String>>,
    /// Metrics read with another statistic than `statistic` (`ActiveConnectionCount`: Maximum).
    pub statistics: std::collections::BTreeMap<String, String>,
}

impl MetricQuery {
    /// The statistic `metric` is read with.
    pub fn statistic_of(&self, metric: &str) -> &str {
        self.statistics.get(metric).unwrap_or(&self.statistic)
    }

    /// Whether `metric` is asked of `nat_gateway_id`.
    pub fn asks(&self, nat_gateway_id: &str, metric: &str) -> bool {
        self.nat_metrics
            .get(nat_gateway_id)
            .is_none_or(|only| only.iter().any(|m| m == metric))
    }
}

/// The datapoints of one (NAT, metric) pair, oldest first; a period without a datapoint is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// Empty for a log group's series.
    pub nat_gateway_id: String,
    /// The log group of an `AWS/Logs` `IncomingBytes` series.
    pub log_group: Option<String>,
    pub metric: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

pub trait Ec2 {
    /// DescribeNatGateways for these ids; an id AWS does not know is an error naming it.
    fn nat_gateways(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<NatGateway>, AwsError>>;
    /// CreateFlowLogs on every ENI of the request, tagged; returns the new flow-log ids.
    /// A partial failure (`Unsuccessful` not empty) is `AwsError` with kind `PartialFailure`
    /// carrying the ids that were created, so the caller can delete them.
    fn create_flow_logs(
        &self,
        req: &FlowLogRequest,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>>;
    /// Every flow log that carries `TAG_RECORDING` (DescribeFlowLogs filtered by tag key, paged).
    fn tagged_flow_logs(&self) -> impl Future<Output = Result<Vec<TaggedFlowLog>, AwsError>>;
    /// DeleteFlowLogs, only for ids that carry our tags (checked inside, ids that are not ours
    /// are refused with an error); ids that are already gone are not an error.
    fn delete_flow_logs(&self, ids: &[String]) -> impl Future<Output = Result<(), AwsError>>;
}

pub trait Metrics {
    /// GetMetricData: one series per (NAT, metric) in the order of the query (NATs outer,
    /// metrics inner), empty where CloudWatch has no datapoint.
    fn metric_data(
        &self,
        query: &MetricQuery,
    ) -> impl Future<Output = Result<Vec<MetricSeries>, AwsError>>;
    /// GetMetricStatistics, one call per (NAT, metric) the query asks: the same NAT series as
    /// `metric_data` in the same order, for CloudWatch's free API requests. The query's log
    /// groups are not read (they are `metric_data`'s).
    fn metric_statistics(
        &self,
        query: &MetricQuery,
    ) -> impl Future<Output = Result<Vec<MetricSeries>, AwsError>>;
    /// DescribeAlarms for these names (metric and composite alarms); a name AWS does not know
    /// is an error naming it (`NotFound`), since a missing alarm would leave the trigger blind.
    fn alarm_states(
        &self,
        alarm_names: &[String],
    ) -> impl Future<Output = Result<Vec<(String, AlarmState)>, AwsError>>;
}

pub trait Logs {
    /// Creates the log group if missing (class, retention, tags); an existing group is left as is
    /// apart from its retention.
    fn ensure_log_group(&self, spec: &LogGroupSpec) -> impl Future<Output = Result<(), AwsError>>;
}

/// A log stream as DescribeLogStreams shows it (flow logs name theirs `<eni>-all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    pub name: String,
    /// Unix milliseconds; `None` for a stream without events.
    pub first_event_ms: Option<i64>,
    pub last_event_ms: Option<i64>,
}

/// What to read from one log stream: its events with `start_ms <= timestamp <= end_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventsQuery {
    pub log_group: String,
    pub log_stream: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub api: LogReadApi,
}

/// The CloudWatch Logs operation that reads a stream's events. Their quotas differ: GetLogEvents
/// allows 25 requests per second per account and region, FilterLogEvents 5, shared with every
/// other reader in the account.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LogReadApi {
    /// One stream, forward from its head, `nextForwardToken` until it repeats.
    #[default]
    GetLogEvents,
    /// One stream named in `logStreamNames`, `nextToken` until it is gone.
    FilterLogEvents,
}

impl LogReadApi {
    /// The IAM action, as errors and policies name it.
    pub fn action(self) -> &'static str {
        match self {
            LogReadApi::GetLogEvents => "logs:GetLogEvents",
            LogReadApi::FilterLogEvents => "logs:FilterLogEvents",
        }
    }
}

/// One page of a stream's events and the token of the next (`None`, or the token that was
/// passed in, at the stream's end).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogEventsPage {
    pub events: Vec<LogEvent>,
    pub next_token: Option<String>,
}

/// One CloudWatch Logs event: for a flow log, one record and the start of its interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Reading what the recordings' flow logs delivered to CloudWatch Logs.
pub trait LogReader {
    /// DescribeLogStreams with `logStreamNamePrefix`, every page. A missing group is `NotFound`.
    fn log_streams(
        &self,
        log_group: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<LogStream>, AwsError>>;
    /// One page of the stream's events with `query.api`, from `token` (`None`: the first page).
    /// A page may be empty while the stream goes on; paging and pacing are the caller's, so one
    /// token bucket can pace every stream of an export.
    fn log_events_page(
        &self,
        query: &LogEventsQuery,
        token: Option<String>,
    ) -> impl Future<Output = Result<LogEventsPage, AwsError>>;
}

/// One CloudWatch Logs Insights query over one log group, `start` to `end` (whole seconds,
/// both included, as Insights takes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsQuery {
    pub log_group: String,
    pub query: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One Insights result row: (field, value) pairs in the query's order.
pub type InsightsRow = Vec<(String, String)>;

/// Aggregating server-side, for recordings too large to download (`report --engine insights`).
pub trait LogQueries {
    /// StartQuery, then GetQueryResults until the query is done; its rows (at most 10,000:
    /// the caller splits the window when a query returns that many). A query that fails, is
    /// cancelled or times out is an error naming its status.
    fn insights(
        &self,
        query: &InsightsQuery,
    ) -> impl Future<Output = Result<Vec<InsightsRow>, AwsError>>;
}

/// One SQL statement for Amazon Athena: the workgroup it runs in and where Athena writes its
/// result (the workgroup's own setting wins when the workgroup enforces one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlQuery {
    pub sql: String,
    pub workgroup: String,
    /// `s3://bucket/prefix/`.
    pub output_location: String,
}

/// A statement's result: the column names, then every row's values as text (`None`: NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// SQL over flow logs in S3, for recordings too large for one machine (`report --engine athena`).
pub trait SqlQueries {
    /// StartQueryExecution, GetQueryExecution until the statement is done (backing off), then
    /// every page of GetQueryResults (a SELECT's header row left out). A statement that fails or
    /// is cancelled is an error carrying Athena's reason.
    fn athena(&self, query: &SqlQuery) -> impl Future<Output = Result<SqlRows, AwsError>>;
}

/// One SNS message, `MessageStructure=json`: `message` is a JSON object with a text per
/// protocol (`default` at least).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub topic_arn: String,
    /// At most 100 ASCII characters (SNS's limit).
    pub subject: String,
    pub message: String,
}

pub trait Notifier {
    /// SNS Publish with `MessageStructure=json`; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, AwsError>>;
}

/// Where full reports go when `notify.report_s3_uri` is set (SNS e-mail carries no attachments).
pub trait ReportStore {
    /// PutObject of one report file.
    fn put_report_file(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), AwsError>>;
    /// A pre-signed GET URL of the object, working for `expires_in`.
    fn presigned_url(
        &self,
        bucket: &str,
        key: &str,
        expires_in: std::time::Duration,
    ) -> impl Future<Output = Result<String, AwsError>>;
}

/// One object of an S3 listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
}

/// The bucket flow logs deliver to with `recording.destination = "s3"`, as the export reads it
/// (`doctor`'s checks of it are `Inventory`'s). Read-only.
pub trait DeliveryBucket {
    /// ListObjectsV2 with delimiter `/`: the folders directly below `prefix` (each ending in
    /// `/`), every page. A missing bucket is `NotFound`.
    fn folders(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, AwsError>>;
    /// ListObjectsV2: every object under `prefix`, every page, in key order.
    fn objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ObjectEntry>, AwsError>>;
    /// GetObject: the whole body.
    fn object(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Vec<u8>, AwsError>>;
}

/// The region the clients call: the NAT's, whose prices and endpoint names a report uses.
pub trait Located {
    /// `None` when no region was resolved (the simulator).
    fn region(&self) -> Option<String>;
}

/// Everything the scheduled job needs (the inventory attributes its reports).
pub trait Cloud:
    Ec2
    + Metrics
    + Logs
    + LogReader
    + DeliveryBucket
    + Notifier
    + ReportStore
    + Inventory
    + QueryLogs
    + Located
{
}
impl<
    T: Ec2
        + Metrics
        + Logs
        + LogReader
        + DeliveryBucket
        + Notifier
        + ReportStore
        + Inventory
        + QueryLogs
        + Located,
> Cloud for T
{
}

/// What kind of failure an AWS call had, decided by the SDK's typed predicates and error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    NotFound,
    AlreadyExists,
    Throttled,
    AccessDenied,
    InvalidInput,
    PartialFailure,
    Timeout,
    Service,
    Other,
}

/// One AWS call that failed: `ec2:CreateFlowLogs: FlowLogAlreadyExists: ...`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    /// `service:Operation`, e.g. `ec2:CreateFlowLogs`.
    pub operation: &'static str,
    pub code: String,
    pub message: String,
    pub kind: AwsErrorKind,
    /// For `PartialFailure` of CreateFlowLogs: what was created before the failure.
    pub created_ids: Vec<String>,
}

impl AwsError {
    /// An error without created ids (every kind but a CreateFlowLogs `PartialFailure`).
    pub fn new(
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
        kind: AwsErrorKind,
    ) -> AwsError {
        AwsError {
            operation,
            code: code.into(),
            message: message.into(),
            kind,
            created_ids: Vec::new(),
        }
    }

    /// The refusal to delete flow logs that do not carry [`TAG_RECORDING`]: the adapters and the
    /// simulator give the same answer, so the controller's handling is tested once.
    pub fn not_ours(operation: &'static str, flow_log_ids: &[String]) -> AwsError {
        AwsError::not_ours_to(operation, "delete", flow_log_ids)
    }

    /// The same refusal for any change (`verb`: `delete`, `disassociate`) of resources that do
    /// not carry [`TAG_RECORDING`].
    pub fn not_ours_to(operation: &'static str, verb: &str, ids: &[String]) -> AwsError {
        let (they_do, them) = match ids {
            [_] => ("it does", "it"),
            _ => ("they do", "them"),
        };
        AwsError::new(
            operation,
            CODE_NOT_OURS,
            format!(
                "refusing to {verb} {}: {they_do} not carry the `{TAG_RECORDING}` tag, so \
                 nat-flowrec did not create {them}; {verb} {them} yourself if you mean to",
                ids.join(", "),
            ),
            AwsErrorKind::InvalidInput,
        )
    }
}

/// The code of [`AwsError::not_ours`].
pub const CODE_NOT_OURS: &str = "NotCreatedByNatFlowrec";
