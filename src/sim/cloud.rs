//! The ports on `SimCloud`: each call is recorded, may fail by injection, then acts on the
//! account. The lock is never held across an await (there is none inside).

use super::{SimCall, SimCloud, SimOperation};
use crate::ports::{
    AlarmState, AwsError, Ec2, FlowLogRequest, LogGroupSpec, Logs, MetricQuery, MetricSeries,
    Metrics, NatGateway, TaggedFlowLog,
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
