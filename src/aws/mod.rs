//! The ports (`crate::ports`) implemented on the official AWS SDK clients: `ec2` for NAT gateways
//! and flow logs, `cloudwatch` for NAT metrics and alarms, `logs` for the log group recordings
//! deliver to, `logs_read` for what they delivered, `sns` for the notification, `query_logs` for
//! the VPC's DNS queries a recording may also record. This file builds the clients from one `SdkConfig` (the SDK's default credential
//! chain, a region, an optional profile and an optional endpoint URL for emulators such as moto)
//! with a deliberate retry policy and timeouts, so a slow or throttling AWS cannot hang a
//! scheduled run.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};

use crate::ports::{
    AlarmState, AwsError, Ec2, FlowLogRequest, LogEventsPage, LogEventsQuery, LogGroupSpec,
    LogReader, LogStream, Logs, MetricQuery, MetricSeries, Metrics, NatGateway, Notification,
    Notifier, QueryLogRequest, QueryLogs, TaggedFlowLog, TaggedQueryLogConfig, VpcQueryLogging,
};

mod athena;
mod cloudwatch;
mod delivery_bucket;
mod ec2;
mod error;
mod flow_logs;
mod iam;
mod insights;
mod inventory;
mod logs;
mod logs_read;
mod network;
mod preflight;
mod query_logs;
mod record_operations;
mod report_store;
mod sns;
mod state_object;
mod unreachable;

pub use cloudwatch::{
    MAX_ALARM_NAMES_PER_DESCRIBE, MAX_QUERIES_PER_GET_METRIC_DATA, NAT_DIMENSION, NAT_NAMESPACE,
};
pub use ec2::MAX_NAT_GATEWAY_IDS_PER_DESCRIBE;
pub use flow_logs::{MAX_FLOW_LOG_IDS_PER_DELETE, MAX_RESOURCES_PER_CREATE_FLOW_LOGS};
pub use insights::MAX_INSIGHTS_ROWS;
pub use logs::LOG_GROUP_TAGS;
pub use logs_read::{MAX_EVENTS_PER_PAGE, MAX_STREAMS_PER_DESCRIBE};
pub use network::MAX_FILTER_VALUES;
pub use preflight::PreflightError;
pub use record_operations::{RECORD_OPERATIONS_ENV, iam_action};
pub use state_object::{
    OP_GET_OBJECT, OP_PUT_OBJECT, s3_client, s3_client_checked, s3_client_from,
};
pub use unreachable::Unreachable;

/// Attempts per call, the first included. The SDK's standard mode backs off exponentially with
/// jitter between them and retries throttling, 5xx and connection errors only.
pub const MAX_ATTEMPTS: u32 = 5;
/// A host that does not accept the connection within this is down or unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt (request and response) of one call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// One call, all its retries included: a scheduled run must end before the next one starts.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);
/// Overrides `ATTEMPT_TIMEOUT` (whole seconds, 1 to `OPERATION_TIMEOUT`): for a network where
/// a healthy answer takes longer, or tests that make AWS answer past the timeout.
pub const ATTEMPT_TIMEOUT_ENV: &str = "NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS";

/// `ATTEMPT_TIMEOUT_ENV` holds something other than whole seconds in range.
#[derive(Debug, thiserror::Error)]
#[error(
    "{ATTEMPT_TIMEOUT_ENV}=`{value}` is not valid: give whole seconds from 1 to {max} (unset, each attempt of an AWS call may take {default} s)",
    max = OPERATION_TIMEOUT.as_secs(),
    default = ATTEMPT_TIMEOUT.as_secs()
)]
pub struct BadAttemptTimeout {
    pub value: String,
}

/// The attempt timeout: `ATTEMPT_TIMEOUT`, or what `ATTEMPT_TIMEOUT_ENV` says.
pub fn attempt_timeout() -> Result<Duration, BadAttemptTimeout> {
    match std::env::var(ATTEMPT_TIMEOUT_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(ATTEMPT_TIMEOUT),
        Err(std::env::VarError::NotUnicode(v)) => Err(BadAttemptTimeout {
            value: v.to_string_lossy().into_owned(),
        }),
        Ok(value) => parse_attempt_timeout(&value).ok_or(BadAttemptTimeout { value }),
    }
}

fn parse_attempt_timeout(value: &str) -> Option<Duration> {
    let secs: u64 = value.trim().parse().ok()?;
    (1..=OPERATION_TIMEOUT.as_secs())
        .contains(&secs)
        .then(|| Duration::from_secs(secs))
}

/// Where and as whom to call AWS: what the user chose with `--region`, `--profile` and
/// `--endpoint-url` (or the config file). Anything left `None` comes from the SDK's default
/// chain (environment, shared config and credentials files, SSO, container and instance roles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// One URL for every service (`http://127.0.0.1:5000` for moto).
    pub endpoint_url: Option<String>,
}

/// The SDK config loader with our settings, retry policy and timeouts applied. Tests add dummy
/// credentials to it (`.test_credentials()`) before `load()`.
pub fn config_loader(settings: &AwsSettings) -> ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                // A bad value is refused before any client is built (`commands::wiring::config`).
                .operation_attempt_timeout(attempt_timeout().unwrap_or(ATTEMPT_TIMEOUT))
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        );
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader
}

/// Resolves the settings into an `SdkConfig` (reads profiles and the environment; credentials
/// themselves are resolved lazily, on the first call).
pub async fn load_sdk_config(settings: &AwsSettings) -> SdkConfig {
    config_loader(settings).load().await
}

/// The clients the scheduled job needs, built from one `SdkConfig`. Implements every port
/// (so `Cloud`) by delegating to the client of the service. The SDK clients have inherent
/// methods of the same names (`create_flow_logs()` builds a request), hence the `Trait::method`
/// calls.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    pub ec2: aws_sdk_ec2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Retries adaptively: an export reads many pages from several streams at once, and
    /// CloudWatch Logs throttles FilterLogEvents per account; adaptive mode slows the client
    /// down instead of spending its attempts.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sns: aws_sdk_sns::Client,
    /// Read-only: `doctor` reads the flow-logs delivery role.
    pub iam: aws_sdk_iam::Client,
    /// Report uploads (`notify.report_s3_uri`); path-style against an emulator's endpoint.
    pub s3: aws_sdk_s3::Client,
    /// Route 53 Resolver query logging (`recording.dns_query_logs`).
    pub resolver: aws_sdk_route53resolver::Client,
    /// `report --engine athena`: SQL over flow logs delivered to S3.
    pub athena: aws_sdk_athena::Client,
}

impl AwsCloud {
    pub fn new(config: &SdkConfig) -> AwsCloud {
        macro_rules! client {
            ($sdk:ident) => {{
                let mut builder = $sdk::config::Builder::from(config);
                for interceptor in interceptors() {
                    builder.push_interceptor(interceptor);
                }
                $sdk::Client::from_conf(builder.build())
            }};
        }
        AwsCloud {
            ec2: client!(aws_sdk_ec2),
            cloudwatch: client!(aws_sdk_cloudwatch),
            logs: logs_client(config),
            sns: sns_client(config),
            iam: client!(aws_sdk_iam),
            s3: state_object::s3_client_from(config, config.endpoint_url().is_some()),
            resolver: client!(aws_sdk_route53resolver),
            athena: client!(aws_sdk_athena),
        }
    }

    /// `load_sdk_config` then `new`.
    pub async fn connect(settings: &AwsSettings) -> AwsCloud {
        AwsCloud::new(&load_sdk_config(settings).await)
    }

    /// `connect`, once the profile asked for is known to exist and credentials were found:
    /// what the CLI calls, so a set-up mistake is one line before any work starts.
    pub async fn connect_checked(settings: &AwsSettings) -> Result<AwsCloud, PreflightError> {
        Ok(AwsCloud::new(&checked_sdk_config(settings).await?))
    }
}

/// `load_sdk_config` after `preflight`'s checks of the profile and the credentials.
pub async fn checked_sdk_config(settings: &AwsSettings) -> Result<SdkConfig, PreflightError> {
    preflight::check_profile(settings).await?;
    let config = load_sdk_config(settings).await;
    preflight::check_credentials(settings, &config).await?;
    Ok(config)
}

/// The SDK hooks every client carries: an unreachable endpoint named in the error, and (set
/// only by the least-privilege test, record_operations.rs) every call reported.
fn interceptors() -> Vec<aws_smithy_runtime_api::client::interceptors::SharedInterceptor> {
    let mut hooks = vec![unreachable::interceptor()];
    hooks.extend(record_operations::from_env());
    hooks
}

impl crate::ports::Located for AwsCloud {
    /// The region the SDK resolved: `--region` or the config's, else the environment or the
    /// profile.
    fn region(&self) -> Option<String> {
        self.ec2.config().region().map(|r| r.to_string())
    }
}

impl Ec2 for AwsCloud {
    async fn nat_gateways(&self, ids: &[String]) -> Result<Vec<NatGateway>, AwsError> {
        Ec2::nat_gateways(&self.ec2, ids).await
    }

    async fn create_flow_logs(&self, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
        Ec2::create_flow_logs(&self.ec2, req).await
    }

    async fn tagged_flow_logs(&self) -> Result<Vec<TaggedFlowLog>, AwsError> {
        Ec2::tagged_flow_logs(&self.ec2).await
    }

    async fn delete_flow_logs(&self, ids: &[String]) -> Result<(), AwsError> {
        Ec2::delete_flow_logs(&self.ec2, ids).await
    }
}

impl QueryLogs for AwsCloud {
    async fn create_query_log_config(&self, req: &QueryLogRequest) -> Result<String, AwsError> {
        QueryLogs::create_query_log_config(&self.resolver, req).await
    }

    async fn associate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        QueryLogs::associate_query_log_config(&self.resolver, config_id, vpc_id).await
    }

    async fn disassociate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        QueryLogs::disassociate_query_log_config(&self.resolver, config_id, vpc_id).await
    }

    async fn delete_query_log_config(&self, config_id: &str) -> Result<(), AwsError> {
        QueryLogs::delete_query_log_config(&self.resolver, config_id).await
    }

    async fn tagged_query_log_configs(&self) -> Result<Vec<TaggedQueryLogConfig>, AwsError> {
        QueryLogs::tagged_query_log_configs(&self.resolver).await
    }

    async fn vpc_query_logging(&self, vpc_id: &str) -> Result<Vec<VpcQueryLogging>, AwsError> {
        QueryLogs::vpc_query_logging(&self.resolver, vpc_id).await
    }
}

impl Metrics for AwsCloud {
    async fn metric_data(&self, query: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        Metrics::metric_data(&self.cloudwatch, query).await
    }

    async fn metric_statistics(&self, query: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        Metrics::metric_statistics(&self.cloudwatch, query).await
    }

    async fn alarm_states(
        &self,
        alarm_names: &[String],
    ) -> Result<Vec<(String, AlarmState)>, AwsError> {
        Metrics::alarm_states(&self.cloudwatch, alarm_names).await
    }
}

impl Logs for AwsCloud {
    async fn ensure_log_group(&self, spec: &LogGroupSpec) -> Result<(), AwsError> {
        Logs::ensure_log_group(&self.logs, spec).await
    }
}

/// The SNS client: our retry policy, except that a Publish SNS may have received is never
/// repeated (see `NoRetryOnceMaybeSent`).
fn sns_client(config: &SdkConfig) -> aws_sdk_sns::Client {
    let mut conf =
        aws_sdk_sns::config::Builder::from(config).retry_classifier(NoRetryOnceMaybeSent);
    for interceptor in interceptors() {
        conf.push_interceptor(interceptor);
    }
    aws_sdk_sns::Client::from_conf(conf.build())
}

/// SNS Publish has no idempotency key: an attempt that timed out, lost its connection or got an
/// unreadable answer may have sent the message, and a retry would send it twice (subscribers get
/// two e-mails). Such attempts are not retried; the controller logs the notification as
/// unconfirmed instead. Errors SNS answered (throttling, 5xx) are retried as usual: nothing was
/// sent. Runs after the SDK's own classifiers, so it overrides their "transient" verdict.
#[derive(Debug)]
struct NoRetryOnceMaybeSent;

impl aws_sdk_sns::config::retry::ClassifyRetry for NoRetryOnceMaybeSent {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_sns::config::interceptors::InterceptorContext,
    ) -> aws_sdk_sns::config::retry::RetryAction {
        use aws_sdk_sns::config::retry::RetryAction;
        match ctx.output_or_error() {
            Some(Err(error))
                if error.is_timeout_error()
                    || error.is_response_error()
                    || error.as_connector_error().is_some() =>
            {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "no SNS retry once the message may have been sent"
    }

    fn priority(
        &self,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The CloudWatch Logs client with adaptive retry (our attempts and timeouts otherwise).
fn logs_client(config: &SdkConfig) -> aws_sdk_cloudwatchlogs::Client {
    let mut conf = aws_sdk_cloudwatchlogs::config::Builder::from(config)
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS));
    for interceptor in interceptors() {
        conf.push_interceptor(interceptor);
    }
    aws_sdk_cloudwatchlogs::Client::from_conf(conf.build())
}

impl LogReader for AwsCloud {
    async fn log_streams(&self, log_group: &str, prefix: &str) -> Result<Vec<LogStream>, AwsError> {
        LogReader::log_streams(&self.logs, log_group, prefix).await
    }

    async fn log_events_page(
        &self,
        query: &LogEventsQuery,
        token: Option<String>,
    ) -> Result<LogEventsPage, AwsError> {
        LogReader::log_events_page(&self.logs, query, token).await
    }
}

impl crate::ports::LogQueries for AwsCloud {
    async fn insights(
        &self,
        query: &crate::ports::InsightsQuery,
    ) -> Result<Vec<crate::ports::InsightsRow>, AwsError> {
        crate::ports::LogQueries::insights(&self.logs, query).await
    }
}

impl crate::ports::SqlQueries for AwsCloud {
    async fn athena(
        &self,
        query: &crate::ports::SqlQuery,
    ) -> Result<crate::ports::SqlRows, AwsError> {
        crate::ports::SqlQueries::athena(&self.athena, query).await
    }
}

impl crate::ports::ReportStore for AwsCloud {
    async fn put_report_file(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), AwsError> {
        crate::ports::ReportStore::put_report_file(&self.s3, bucket, key, body, content_type).await
    }

    async fn presigned_url(
        &self,
        bucket: &str,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, AwsError> {
        crate::ports::ReportStore::presigned_url(&self.s3, bucket, key, expires_in).await
    }
}

impl crate::ports::DeliveryBucket for AwsCloud {
    async fn folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
        crate::ports::DeliveryBucket::folders(&self.s3, bucket, prefix).await
    }

    async fn objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<crate::ports::ObjectEntry>, AwsError> {
        crate::ports::DeliveryBucket::objects(&self.s3, bucket, prefix).await
    }

    async fn object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        crate::ports::DeliveryBucket::object(&self.s3, bucket, key).await
    }
}

impl Notifier for AwsCloud {
    async fn publish(&self, notification: &Notification) -> Result<String, AwsError> {
        Notifier::publish(&self.sns, notification).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn log_reads_retry_adaptively() {
        let config = config_loader(&AwsSettings {
            region: Some("us-east-1".into()),
            ..AwsSettings::default()
        })
        .test_credentials()
        .load()
        .await;
        let cloud = AwsCloud::new(&config);
        let retry = cloud.logs.config().retry_config().unwrap();
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
    }

    #[test]
    fn attempt_timeout_override_is_whole_seconds_in_range() {
        assert_eq!(parse_attempt_timeout("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_attempt_timeout(" 120 "), Some(OPERATION_TIMEOUT));
        for bad in ["0", "121", "-1", "2.5", "2s", ""] {
            assert_eq!(parse_attempt_timeout(bad), None, "{bad}");
        }
        let message = BadAttemptTimeout { value: "2s".into() }.to_string();
        assert!(
            message.contains(ATTEMPT_TIMEOUT_ENV) && message.contains("`2s`"),
            "{message}"
        );
        assert!(message.contains("from 1 to 120"), "{message}");
    }

    #[tokio::test]
    async fn settings_reach_the_sdk_config() {
        let settings = AwsSettings {
            region: Some("eu-west-3".into()),
            profile: None,
            endpoint_url: Some("http://127.0.0.1:5999".into()),
        };
        let config = config_loader(&settings).test_credentials().load().await;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-3"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5999"));
        let retry = config.retry_config().unwrap();
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
    }
}
