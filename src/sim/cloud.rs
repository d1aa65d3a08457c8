//! The ports on `SimCloud`: each call is recorded, may fail by injection, then acts on the
//! account. The lock is never held across an await (there is none inside).

use super::{SimCall, SimCloud, SimOperation};
use crate::ports::{
    AlarmState, AwsError, Ec2, FlowLogRequest, LogEventsPage, LogEventsQuery, LogGroupSpec,
    LogReader, LogStream, Logs, MetricQuery, MetricSeries, Metrics, NatGateway, Notification,
    Notifier, QueryLogRequest, QueryLogs, ReportStore, TaggedFlowLog, TaggedQueryLogConfig,
    VpcQueryLogging,
};

impl Ec2 for SimCloud {
    async fn nat_gateways(&self, ids: &[String]) -> Result<Vec<NatGateway>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::NatGateways(ids.to_vec()));
        account.take_injected(SimOperation::DescribeNatGateways)?;
        account.nat_gateways(ids)
    }

    async fn create_flow_logs(&self, req: &FlowLogRequest) -> Result<Vec<String>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::CreateFlowLogs(req.clone()));
        account.take_injected(SimOperation::CreateFlowLogs)?;
        account.create_flow_logs(req)
    }

    async fn tagged_flow_logs(&self) -> Result<Vec<TaggedFlowLog>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::TaggedFlowLogs);
        account.take_injected(SimOperation::DescribeFlowLogs)?;
        Ok(account.tagged_flow_logs())
    }

    async fn delete_flow_logs(&self, ids: &[String]) -> Result<(), AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::DeleteFlowLogs(ids.to_vec()));
        account.take_injected(SimOperation::DeleteFlowLogs)?;
        account.delete_flow_logs(ids)
    }
}

impl Metrics for SimCloud {
    async fn metric_data(&self, query: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::MetricData(query.clone()));
        account.take_injected(SimOperation::GetMetricData)?;
        account.metric_data(query)
    }

    async fn metric_statistics(&self, query: &MetricQuery) -> Result<Vec<MetricSeries>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::MetricStatistics(query.clone()));
        account.take_injected(SimOperation::GetMetricStatistics)?;
        let nat_only = MetricQuery {
            log_groups: Vec::new(),
            ..query.clone()
        };
        account.metric_data(&nat_only)
    }

    async fn alarm_states(
        &self,
        alarm_names: &[String],
    ) -> Result<Vec<(String, AlarmState)>, AwsError> {
        let mut account = self.lock();
        account
            .calls
            .push(SimCall::AlarmStates(alarm_names.to_vec()));
        account.take_injected(SimOperation::DescribeAlarms)?;
        account.alarm_states(alarm_names)
    }
}

impl Logs for SimCloud {
    async fn ensure_log_group(&self, spec: &LogGroupSpec) -> Result<(), AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::EnsureLogGroup(spec.clone()));
        account.take_injected(SimOperation::CreateLogGroup)?;
        account.ensure_log_group(spec)
    }
}

impl LogReader for SimCloud {
    async fn log_streams(&self, log_group: &str, prefix: &str) -> Result<Vec<LogStream>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::LogStreams {
            log_group: log_group.to_owned(),
            prefix: prefix.to_owned(),
        });
        account.take_injected(SimOperation::DescribeLogStreams)?;
        account.log_streams(log_group, prefix)
    }

    async fn log_events_page(
        &self,
        query: &LogEventsQuery,
        token: Option<String>,
    ) -> Result<LogEventsPage, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::LogEvents(query.clone()));
        account.take_injected(SimOperation::ReadLogEvents)?;
        account.log_events_page(query, token.as_deref())
    }
}

impl Notifier for SimCloud {
    async fn publish(&self, notification: &Notification) -> Result<String, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::Publish(notification.clone()));
        account.take_injected(SimOperation::Publish)?;
        account.publish(notification)
    }
}

impl ReportStore for SimCloud {
    async fn put_report_file(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::PutObject {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        });
        account.take_injected(SimOperation::PutObject)?;
        account.objects.insert(
            (bucket.to_owned(), key.to_owned()),
            (body, content_type.to_owned()),
        );
        Ok(())
    }

    async fn presigned_url(
        &self,
        bucket: &str,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, AwsError> {
        Ok(format!(
            "https://{bucket}.s3.{}.amazonaws.com/{key}?X-Amz-Expires={}",
            super::SIM_REGION,
            expires_in.as_secs()
        ))
    }
}

impl QueryLogs for SimCloud {
    async fn create_query_log_config(&self, req: &QueryLogRequest) -> Result<String, AwsError> {
        let mut account = self.lock();
        account
            .calls
            .push(SimCall::CreateQueryLogConfig(req.clone()));
        account.take_injected(SimOperation::CreateResolverQueryLogConfig)?;
        let now = account.now;
        Ok(account.query_logs.create(req, now))
    }

    async fn associate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::AssociateQueryLogConfig {
            config_id: config_id.to_owned(),
            vpc_id: vpc_id.to_owned(),
        });
        account.take_injected(SimOperation::AssociateResolverQueryLogConfig)?;
        account.query_logs.associate(config_id, vpc_id)
    }

    async fn disassociate_query_log_config(
        &self,
        config_id: &str,
        vpc_id: &str,
    ) -> Result<(), AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::DisassociateQueryLogConfig {
            config_id: config_id.to_owned(),
            vpc_id: vpc_id.to_owned(),
        });
        account.take_injected(SimOperation::DisassociateResolverQueryLogConfig)?;
        account.query_logs.disassociate(config_id, vpc_id)
    }

    async fn delete_query_log_config(&self, config_id: &str) -> Result<(), AwsError> {
        let mut account = self.lock();
        account
            .calls
            .push(SimCall::DeleteQueryLogConfig(config_id.to_owned()));
        account.take_injected(SimOperation::DeleteResolverQueryLogConfig)?;
        let now = account.now;
        account.query_logs.delete(config_id, now)
    }

    async fn tagged_query_log_configs(&self) -> Result<Vec<TaggedQueryLogConfig>, AwsError> {
        let mut account = self.lock();
        account.calls.push(SimCall::TaggedQueryLogConfigs);
        account.take_injected(SimOperation::ListResolverQueryLogConfigs)?;
        Ok(account.query_logs.tagged())
    }

    async fn vpc_query_logging(&self, vpc_id: &str) -> Result<Vec<VpcQueryLogging>, AwsError> {
        let mut account = self.lock();
        account
            .calls
            .push(SimCall::VpcQueryLogging(vpc_id.to_owned()));
        account.take_injected(SimOperation::ListResolverQueryLogConfigAssociations)?;
        Ok(account.query_logs.of_vpc(vpc_id))
    }
}
/// The simulator delivers flow logs to its log groups only: it has no bucket.
impl crate::ports::DeliveryBucket for SimCloud {
    async fn folders(&self, bucket: &str, _prefix: &str) -> Result<Vec<String>, AwsError> {
        Err(no_bucket("s3:ListObjectsV2", bucket))
    }

    async fn objects(
        &self,
        bucket: &str,
        _prefix: &str,
    ) -> Result<Vec<crate::ports::ObjectEntry>, AwsError> {
        Err(no_bucket("s3:ListObjectsV2", bucket))
    }

    async fn object(&self, bucket: &str, _key: &str) -> Result<Vec<u8>, AwsError> {
        Err(no_bucket("s3:GetObject", bucket))
    }
}

fn no_bucket(operation: &'static str, bucket: &str) -> AwsError {
    AwsError::new(
        operation,
        "NoSuchBucket",
        format!("the simulator has no bucket {bucket}: it delivers flow logs to CloudWatch Logs"),
        crate::ports::AwsErrorKind::NotFound,
    )
}
