//! What the pure core asks the controller to do. The controller executes each `Decision` in
//! order and, once its side effect succeeded, appends the event the decision names; a decision
//! whose side effect failed appends nothing, so the next run decides again.
//!
//! `Display` gives the one-line plan `check --dry-run` and `reconcile --dry-run` print;
//! `Serialize` gives the `--json` form.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::estimate::StartEstimate;
use super::event::{Event, StartCause, StopReason, rfc3339};
use super::settings::RecordingSettings;
use crate::ports::{AwsError, FlowLogRequest, FlowLogResource, NatGateway, QueryLogRequest};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action")]
pub enum Decision {
    /// CreateFlowLogs on every ENI of the NAT gateway, then append `RecordingStarted` (or, on
    /// failure, delete whatever was created and append `RecordingFailed`).
    Start(StartPlan),
    /// DeleteFlowLogs, then append `RecordingStopped`.
    Stop(StopPlan),
    /// DeleteFlowLogs of flow logs we tagged but no active recording owns, then append
    /// `StrayFlowLogsDeleted`.
    DeleteStray(StrayPlan),
    /// Log the NAT's VPC's DNS queries for an active recording: reuse the VPC's own query
    /// logging to a CloudWatch Logs group when it has one (append `QueryLoggingReused`), else
    /// create our configuration and associate it (append `QueryLoggingStarted`).
    StartQueryLogging(QueryLoggingPlan),
    /// Disassociate and delete a stopped recording's configuration, then append
    /// `QueryLoggingStopped`.
    StopQueryLogging(QueryLoggingStopPlan),
    /// Disassociate and delete a configuration we tagged that no active recording owns, then
    /// append `StrayQueryLoggingDeleted`.
    DeleteStrayQueryLogging(StrayQueryLoggingPlan),
    /// No AWS call: append the event.
    Record(Event),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryLoggingPlan {
    /// Also the CreatorRequestId.
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub deadline: DateTime<Utc>,
    /// Where our configuration sends the queries.
    pub log_group: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryLoggingStopPlan {
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub config_id: String,
    pub vpc_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrayQueryLoggingPlan {
    pub recording_id: String,
    pub config_id: String,
    pub vpc_ids: Vec<String>,
    /// Why it is stray, for the plan and the user.
    pub why: String,
}

impl QueryLoggingPlan {
    /// The CreateResolverQueryLogConfig request, to the log group `destination_arn` names.
    pub fn request(&self, destination_arn: String) -> QueryLogRequest {
        QueryLogRequest {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            destination_arn,
            deadline: self.deadline,
        }
    }

    /// The event once our configuration `config_id` logs `vpc_id`.
    pub fn started_event(&self, vpc_id: &str, config_id: String) -> Event {
        Event::QueryLoggingStarted {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            vpc_id: vpc_id.to_owned(),
            config_id,
            log_group: self.log_group.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartPlan {
    pub nat_gateway_id: String,
    /// Also the CreateFlowLogs ClientToken.
    pub recording_id: String,
    pub deadline: DateTime<Utc>,
    pub cause: StartCause,
    /// What it is estimated to cost (`None` without the NAT's connection metrics).
    pub estimate: Option<StartEstimate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StopPlan {
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub reason: StopReason,
    /// What to delete: the recording's flow logs as the log (and reconcile) know them.
    pub flow_log_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrayPlan {
    pub recording_id: String,
    pub flow_log_ids: Vec<String>,
    /// Why they are stray, for the plan and the user.
    pub why: String,
}

impl StartPlan {
    /// The CreateFlowLogs request: every ENI of the NAT gateway (a regional NAT: the NAT itself,
    /// with the resource type AWS provides for it), the configured destination and format,
    /// tagged with the recording id, the NAT gateway and the deadline.
    pub fn flow_log_request(&self, nat: &NatGateway, cfg: &RecordingSettings) -> FlowLogRequest {
        let (enis, resource) = if nat.regional {
            (vec![nat.id.clone()], FlowLogResource::RegionalNatGateway)
        } else {
            (nat.enis.clone(), FlowLogResource::NetworkInterfaces)
        };
        FlowLogRequest {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            enis,
            resource,
            log_group: cfg.log_group.clone(),
            deliver_logs_role_arn: cfg.deliver_logs_role_arn.to_string(),
            s3: cfg.s3.clone(),
            log_format: cfg.log_format.clone(),
            max_aggregation_interval: i32::try_from(cfg.max_aggregation_interval).unwrap_or(60),
            deadline: self.deadline,
        }
    }

    /// The event to append once CreateFlowLogs returned `flow_log_ids`.
    pub fn started_event(
        &self,
        nat: &NatGateway,
        flow_log_ids: Vec<String>,
        cfg: &RecordingSettings,
    ) -> Event {
        Event::RecordingStarted {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            enis: nat.enis.clone(),
            flow_log_ids,
            nat_ips: nat.private_ips.clone(),
            log_group: match cfg.s3 {
                Some(_) => String::new(),
                None => cfg.log_group.clone(),
            },
            log_format: cfg.log_format.clone(),
            max_aggregation_interval: cfg.max_aggregation_interval,
            deadline: self.deadline,
            cause: self.cause.clone(),
            s3_destination: cfg.s3.clone(),
            estimate: self.estimate.clone(),
        }
    }

    /// The event to append when CreateFlowLogs failed and what it created (`error.created_ids`
    /// for a partial failure) was deleted again.
    pub fn failed_event(&self, error: &AwsError) -> Event {
        Event::RecordingFailed {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            error: error.to_string(),
            created_flow_log_ids: error.created_ids.clone(),
        }
    }
}

impl StopPlan {
    pub fn stopped_event(&self) -> Event {
        Event::RecordingStopped {
            recording_id: self.recording_id.clone(),
            nat_gateway_id: self.nat_gateway_id.clone(),
            reason: self.reason,
            deleted_flow_log_ids: self.flow_log_ids.clone(),
        }
    }
}

impl StrayPlan {
    pub fn deleted_event(&self) -> Event {
        Event::StrayFlowLogsDeleted {
            recording_id: self.recording_id.clone(),
            flow_log_ids: self.flow_log_ids.clone(),
        }
    }
}

impl Decision {
    /// The event to append after the decision's side effect succeeded, for every decision but
    /// `Start` (whose event needs what CreateFlowLogs returned: see `StartPlan::started_event`).
    pub fn completed_event(&self) -> Option<Event> {
        match self {
            Decision::Start(_) => None,
            Decision::Stop(plan) => Some(plan.stopped_event()),
            Decision::DeleteStray(plan) => Some(plan.deleted_event()),
            Decision::StartQueryLogging(_) => None,
            Decision::StopQueryLogging(plan) => Some(Event::QueryLoggingStopped {
                recording_id: plan.recording_id.clone(),
                nat_gateway_id: plan.nat_gateway_id.clone(),
                config_id: plan.config_id.clone(),
            }),
            Decision::DeleteStrayQueryLogging(plan) => Some(Event::StrayQueryLoggingDeleted {
                recording_id: plan.recording_id.clone(),
                config_id: plan.config_id.clone(),
                vpc_ids: plan.vpc_ids.clone(),
            }),
            Decision::Record(event) => Some(event.clone()),
        }
    }

    /// Whether both decisions do the same thing: stop the same recording (for different reasons
    /// found by different parts of a tick), or are equal.
    pub fn same_action(&self, other: &Decision) -> bool {
        match (self, other) {
            (Decision::Stop(a), Decision::Stop(b)) => a.recording_id == b.recording_id,
            (a, b) => a == b,
        }
    }

    /// The NAT gateway the decision is about (stray flow logs may name none).
    pub fn nat_gateway_id(&self) -> Option<&str> {
        match self {
            Decision::Start(plan) => Some(&plan.nat_gateway_id),
            Decision::Stop(plan) => Some(&plan.nat_gateway_id),
            Decision::DeleteStray(_) | Decision::DeleteStrayQueryLogging(_) => None,
            Decision::StartQueryLogging(plan) => Some(&plan.nat_gateway_id),
            Decision::StopQueryLogging(plan) => Some(&plan.nat_gateway_id),
            Decision::Record(event) => event.nat_gateway_id(),
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Start(plan) => {
                write!(
                    f,
                    "{}: start recording {} until {}",
                    plan.nat_gateway_id,
                    plan.recording_id,
                    rfc3339(&plan.deadline)
                )?;
                match &plan.cause {
                    StartCause::Trigger { evidence } => write!(f, " (trigger: {evidence})"),
                    StartCause::Manual { forced: false } => write!(f, " (by hand)"),
                    StartCause::Manual { forced: true } => write!(f, " (by hand, over the budget)"),
                }?;
                match &plan.estimate {
                    Some(estimate) => write!(f, "; {estimate}"),
                    None => Ok(()),
                }
            }
            Decision::Stop(plan) => write!(
                f,
                "{}: stop recording {}: {} (delete {})",
                plan.nat_gateway_id,
                plan.recording_id,
                plan.reason,
                list_or_none(&plan.flow_log_ids)
            ),
            Decision::DeleteStray(plan) => write!(
                f,
                "delete stray flow logs {} of recording {}: {}",
                list_or_none(&plan.flow_log_ids),
                plan.recording_id,
                plan.why
            ),
            Decision::StartQueryLogging(plan) => write!(
                f,
                "{}: log the VPC's DNS queries for recording {} (to {}, or to the VPC's existing query logging)",
                plan.nat_gateway_id, plan.recording_id, plan.log_group
            ),
            Decision::StopQueryLogging(plan) => write!(
                f,
                "{}: stop logging DNS queries for recording {} (disassociate {} from {} and delete it)",
                plan.nat_gateway_id, plan.recording_id, plan.config_id, plan.vpc_id
            ),
            Decision::DeleteStrayQueryLogging(plan) => write!(
                f,
                "delete stray query logging {} of recording {}: {}",
                plan.config_id, plan.recording_id, plan.why
            ),
            Decision::Record(event) => write!(f, "{event}"),
        }
    }
}

fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "no flow logs".to_string()
    } else {
        ids.join(", ")
    }
}

#[cfg(test)]
mod tests;
