//! The events of the log: everything the job did or learned, named in the past tense, one JSON
//! object per line. The log is the source of truth; `State` is a fold over these.
//!
//! A line is an envelope `{"v":1,"seq":N,"at":"RFC3339","type":"RecordingStarted",...}`. `v` is
//! the schema version of the line; `decode_line` upgrades older versions while replaying, so the
//! rest of the program only ever sees the current shape.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use nat_flowrec_reports::usd;

use super::estimate::StartEstimate;
use super::trigger::TriggerState;
use crate::s3_layout::S3Delivery;

/// The schema version this build writes.
pub const EVENT_VERSION: u32 = 1;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub v: u32,
    /// 1, 2, 3, ... in file order.
    pub seq: u64,
    /// When the job appended it (the run's clock, `--now` in tests and replays).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// Flow logs were created on every ENI of the NAT gateway.
    RecordingStarted {
        recording_id: String,
        nat_gateway_id: String,
        enis: Vec<String>,
        flow_log_ids: Vec<String>,
        /// The NAT's private addresses: they decide the VPC side when the format has no pkt-*.
        #[serde(default)]
        nat_ips: Vec<IpAddr>,
        /// Empty when the flow logs deliver to S3 (`s3_destination`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        log_group: String,
        log_format: String,
        max_aggregation_interval: u32,
        deadline: DateTime<Utc>,
        cause: StartCause,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        s3_destination: Option<S3Delivery>,
        /// What it was estimated to cost before it started (absent without connection
        /// metrics, and in logs written before estimates).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        estimate: Option<StartEstimate>,
    },
    /// The recording's flow logs were deleted (or found gone); the captured logs stay.
    RecordingStopped {
        recording_id: String,
        nat_gateway_id: String,
        reason: StopReason,
        #[serde(default)]
        deleted_flow_log_ids: Vec<String>,
    },
    /// CreateFlowLogs failed; whatever it created was deleted again. Not counted against the
    /// budget, and the spike is still unrecorded, so the next run tries again.
    RecordingFailed {
        recording_id: String,
        nat_gateway_id: String,
        error: String,
        #[serde(default)]
        created_flow_log_ids: Vec<String>,
    },
    /// A NAT gateway's trigger changed state (appended only on a change).
    TriggerChanged {
        nat_gateway_id: String,
        from: TriggerState,
        to: TriggerState,
        evidence: String,
    },
    /// The budget blocked a recording of the current spike (once per spike).
    BudgetExhausted {
        nat_gateway_id: String,
        used: u32,
        max: u32,
        /// 0 = counted since the last reset; else the rolling window.
        #[serde(default)]
        window_seconds: u64,
    },
    /// What a recording's log group took in while it ran (CloudWatch's `AWS/Logs`
    /// `IncomingBytes` since its start) and what that costs at the region's vended-log price.
    /// Appended when the recording stops; a later measurement of the same recording wins.
    IngestionMeasured {
        recording_id: String,
        nat_gateway_id: String,
        bytes: u64,
        cost_usd: f64,
    },
    /// `recording.max_cost_usd_per_month` kept a spike from being recorded (said once per
    /// calendar month; later spikes of the month go unrecorded without a word).
    MonthlyCostCapReached {
        nat_gateway_id: String,
        /// `2025-01`.
        month: String,
        spent_usd: f64,
        max_usd: f64,
    },
    /// The NAT gateway's baseline was read (`trigger.mode = "baseline"`): per hour of the week
    /// (0 = Monday 00:00 UTC), the p95 of its hourly Sums over the last `days`, as its trigger
    /// compares them. Kept so a replay evaluates with the baseline the job had; read again a day
    /// later (`core::baseline`).
    BaselineRead {
        nat_gateway_id: String,
        days: u32,
        hourly_p95: Vec<Option<u64>>,
    },
    /// The user reset the NAT gateway's budget: earlier recordings no longer count.
    BudgetReset {
        nat_gateway_id: String,
    },
    /// Flow logs carrying our tags that the log did not know as active were taken over (a crash
    /// between CreateFlowLogs and the RecordingStarted append), so they stop like any recording.
    FlowLogsAdopted {
        recording_id: String,
        nat_gateway_id: String,
        flow_log_ids: Vec<String>,
        enis: Vec<String>,
        deadline: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_group: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_format: Option<String>,
    },
    /// Flow logs carrying our tags that no active recording owns were deleted.
    StrayFlowLogsDeleted {
        recording_id: String,
        flow_log_ids: Vec<String>,
    },
    /// The trigger breached but the NAT gateway was not `available` (noted once per spike and
    /// state).
    NatUnavailable {
        nat_gateway_id: String,
        state: String,
    },
    /// DescribeFlowLogs showed a recording's flow log with `DeliverLogsStatus` FAILED: what it
    /// captures does not reach the log group (a delivery role without rights, a missing group).
    /// Noted once per flow log, so a report that captured nothing can say why.
    FlowLogDeliveryFailed {
        recording_id: String,
        nat_gateway_id: String,
        flow_log_id: String,
        eni: String,
        /// AWS's `DeliverLogsErrorMessage`.
        message: String,
    },
    /// The NAT's VPC's DNS queries are logged for the recording: a Route 53 Resolver
    /// query-logging configuration (CreatorRequestId = the recording id, tagged like its flow
    /// logs) to `log_group` was created and associated with the VPC.
    QueryLoggingStarted {
        recording_id: String,
        nat_gateway_id: String,
        vpc_id: String,
        config_id: String,
        log_group: String,
    },
    /// The VPC already sent its DNS queries to a CloudWatch Logs group through a configuration
    /// that is not ours: the recording reads that group for its window; nothing was created.
    QueryLoggingReused {
        recording_id: String,
        nat_gateway_id: String,
        vpc_id: String,
        config_id: String,
        log_group: String,
    },
    /// The recording's query-logging configuration was disassociated from the VPC and deleted
    /// (or found gone).
    QueryLoggingStopped {
        recording_id: String,
        nat_gateway_id: String,
        config_id: String,
    },
    /// A query-logging configuration carrying our tags that no active recording owns was
    /// disassociated from its VPCs and deleted.
    StrayQueryLoggingDeleted {
        recording_id: String,
        config_id: String,
        vpc_ids: Vec<String>,
    },
    Exported {
        recording_id: String,
        files: Vec<String>,
        records: u64,
        bytes: u64,
    },
    Reported {
        recording_id: String,
        dir: String,
    },
    Notified {
        recording_id: String,
        message_id: String,
    },
    /// Appended just before the SNS Publish: SNS has no idempotency key, so a run that ends (or
    /// loses the answer) after this may have sent the message. Until `Notified` or
    /// `NotifyFailed` follows, the notification is not sent again automatically (a duplicate
    /// e-mail is the failure users see); `notify --recording` sends it by hand.
    NotifyAttempted {
        recording_id: String,
    },
    /// SNS answered the Publish with an error: nothing was sent, the next run tries again.
    NotifyFailed {
        recording_id: String,
        error: String,
    },
}

/// Why a recording started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum StartCause {
    /// The trigger breached; the evidence says how.
    Trigger { evidence: String },
    /// `nat-flowrec start`; `forced` when it overrode a spent budget.
    Manual { forced: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// The trigger went back to OK.
    TriggerOk,
    /// The recording's time was up.
    Deadline,
    /// `max_recording_seconds` passed (the deadline was further away).
    HardCap,
    /// `nat-flowrec stop`.
    Manual,
    /// AWS no longer had any of its flow logs.
    Vanished,
    /// Its flow logs were created but the start could not be completed.
    FailedToStart,
    /// Its flow-log ingestion reached `recording.max_cost_usd`.
    CostCap,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::TriggerOk => "the trigger is OK again",
            StopReason::Deadline => "its recording time is up",
            StopReason::HardCap => "max_recording_seconds passed",
            StopReason::Manual => "stopped by hand",
            StopReason::Vanished => "its flow logs are gone from AWS",
            StopReason::FailedToStart => "it failed to start",
            StopReason::CostCap => "cost cap (recording.max_cost_usd) reached",
        })
    }
}

impl Event {
    /// The `type` written in the log.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RecordingStarted { .. } => "RecordingStarted",
            Event::RecordingStopped { .. } => "RecordingStopped",
            Event::RecordingFailed { .. } => "RecordingFailed",
            Event::TriggerChanged { .. } => "TriggerChanged",
            Event::BudgetExhausted { .. } => "BudgetExhausted",
            Event::BudgetReset { .. } => "BudgetReset",
            Event::BaselineRead { .. } => "BaselineRead",
            Event::IngestionMeasured { .. } => "IngestionMeasured",
            Event::MonthlyCostCapReached { .. } => "MonthlyCostCapReached",
            Event::FlowLogsAdopted { .. } => "FlowLogsAdopted",
            Event::StrayFlowLogsDeleted { .. } => "StrayFlowLogsDeleted",
            Event::NatUnavailable { .. } => "NatUnavailable",
            Event::FlowLogDeliveryFailed { .. } => "FlowLogDeliveryFailed",
            Event::QueryLoggingStarted { .. } => "QueryLoggingStarted",
            Event::QueryLoggingReused { .. } => "QueryLoggingReused",
            Event::QueryLoggingStopped { .. } => "QueryLoggingStopped",
            Event::StrayQueryLoggingDeleted { .. } => "StrayQueryLoggingDeleted",
            Event::Exported { .. } => "Exported",
            Event::Reported { .. } => "Reported",
            Event::Notified { .. } => "Notified",
            Event::NotifyAttempted { .. } => "NotifyAttempted",
            Event::NotifyFailed { .. } => "NotifyFailed",
        }
    }

    /// The event in words, without the NAT gateway it is about (the caller names it).
    pub fn sentence(&self) -> String {
        let text = self.to_string();
        match self.nat_gateway_id() {
            Some(nat) => match text.strip_prefix(nat).and_then(|t| t.strip_prefix(": ")) {
                Some(rest) => rest.to_owned(),
                None => text,
            },
            None => text,
        }
    }

    /// The NAT gateway the event is about, when it names one (for `history --nat`).
    pub fn nat_gateway_id(&self) -> Option<&str> {
        match self {
            Event::RecordingStarted { nat_gateway_id, .. }
            | Event::RecordingStopped { nat_gateway_id, .. }
            | Event::RecordingFailed { nat_gateway_id, .. }
            | Event::TriggerChanged { nat_gateway_id, .. }
            | Event::BudgetExhausted { nat_gateway_id, .. }
            | Event::BudgetReset { nat_gateway_id }
            | Event::BaselineRead { nat_gateway_id, .. }
            | Event::IngestionMeasured { nat_gateway_id, .. }
            | Event::MonthlyCostCapReached { nat_gateway_id, .. }
            | Event::FlowLogsAdopted { nat_gateway_id, .. }
            | Event::FlowLogDeliveryFailed { nat_gateway_id, .. }
            | Event::QueryLoggingStarted { nat_gateway_id, .. }
            | Event::QueryLoggingReused { nat_gateway_id, .. }
            | Event::QueryLoggingStopped { nat_gateway_id, .. }
            | Event::NatUnavailable { nat_gateway_id, .. } => Some(nat_gateway_id),
            Event::StrayFlowLogsDeleted { .. }
            | Event::StrayQueryLoggingDeleted { .. }
            | Event::Exported { .. }
            | Event::Reported { .. }
            | Event::Notified { .. }
            | Event::NotifyAttempted { .. }
            | Event::NotifyFailed { .. } => None,
        }
    }

    /// The recording the event is about, when it names one.
    pub fn recording_id(&self) -> Option<&str> {
        match self {
            Event::RecordingStarted { recording_id, .. }
            | Event::RecordingStopped { recording_id, .. }
            | Event::RecordingFailed { recording_id, .. }
            | Event::FlowLogsAdopted { recording_id, .. }
            | Event::StrayFlowLogsDeleted { recording_id, .. }
            | Event::FlowLogDeliveryFailed { recording_id, .. }
            | Event::IngestionMeasured { recording_id, .. }
            | Event::QueryLoggingStarted { recording_id, .. }
            | Event::QueryLoggingReused { recording_id, .. }
            | Event::QueryLoggingStopped { recording_id, .. }
            | Event::StrayQueryLoggingDeleted { recording_id, .. }
            | Event::Exported { recording_id, .. }
            | Event::Reported { recording_id, .. }
            | Event::Notified { recording_id, .. }
            | Event::NotifyAttempted { recording_id }
            | Event::NotifyFailed { recording_id, .. } => Some(recording_id),
            Event::TriggerChanged { .. }
            | Event::BudgetExhausted { .. }
            | Event::BudgetReset { .. }
            | Event::BaselineRead { .. }
            | Event::MonthlyCostCapReached { .. }
            | Event::NatUnavailable { .. } => None,
        }
    }
}

/// One sentence per event, for `history` and for dry-run plans.
impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::RecordingStarted {
                recording_id,
                nat_gateway_id,
                enis,
                deadline,
                cause,
                estimate,
                ..
            } => {
                write!(
                    f,
                    "{nat_gateway_id}: recording {recording_id} started on {} until {}",
                    plural(enis.len(), "network interface", "network interfaces"),
                    rfc3339(deadline)
                )?;
                match cause {
                    StartCause::Trigger { evidence } => write!(f, " (trigger: {evidence})"),
                    StartCause::Manual { forced: false } => write!(f, " (started by hand)"),
                    StartCause::Manual { forced: true } => {
                        write!(f, " (started by hand, over the budget)")
                    }
                }?;
                match estimate {
                    Some(estimate) => write!(f, "; {estimate}"),
                    None => Ok(()),
                }
            }
            Event::RecordingStopped {
                recording_id,
                nat_gateway_id,
                reason,
                ..
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} stopped: {reason}"
            ),
            Event::RecordingFailed {
                recording_id,
                nat_gateway_id,
                error,
                ..
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} failed to start: {error}"
            ),
            Event::TriggerChanged {
                nat_gateway_id,
                from,
                to,
                evidence,
            } => write!(f, "{nat_gateway_id}: trigger {from} -> {to}: {evidence}"),
            Event::BudgetExhausted {
                nat_gateway_id,
                used,
                max,
                window_seconds,
            } => {
                write!(
                    f,
                    "{nat_gateway_id}: not recording this spike: budget spent ({used} of {max} recordings"
                )?;
                if *window_seconds > 0 {
                    write!(
                        f,
                        " in the last {})",
                        super::policy::human_seconds(*window_seconds)
                    )
                } else {
                    write!(f, " since the last budget reset)")
                }
            }
            Event::BudgetReset { nat_gateway_id } => write!(f, "{nat_gateway_id}: budget reset"),
            Event::BaselineRead {
                nat_gateway_id,
                days,
                hourly_p95,
            } => {
                write!(
                    f,
                    "{nat_gateway_id}: baseline read: the p95 of each hour of the week over {}",
                    plural(*days as usize, "day", "days")
                )?;
                match super::baseline::busiest_hour(hourly_p95) {
                    Some((hour, value)) => write!(
                        f,
                        ", busiest {} ({} in the hour)",
                        super::baseline::hour_of_week_in_words(hour),
                        nat_flowrec_reports::grouped(value)
                    ),
                    None => write!(f, ", no data: threshold_bytes alone applies"),
                }
            }
            Event::IngestionMeasured {
                recording_id,
                nat_gateway_id,
                bytes,
                cost_usd,
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} cost {} in CloudWatch Logs ingestion ({})",
                usd(*cost_usd),
                nat_flowrec_reports::human_bytes(*bytes)
            ),
            Event::MonthlyCostCapReached {
                nat_gateway_id,
                month,
                spent_usd,
                max_usd,
            } => write!(
                f,
                "{nat_gateway_id}: not recording this spike: recordings of {month} cost {} of recording.max_cost_usd_per_month {}",
                usd(*spent_usd),
                usd(*max_usd)
            ),
            Event::FlowLogsAdopted {
                recording_id,
                nat_gateway_id,
                flow_log_ids,
                deadline,
                ..
            } => write!(
                f,
                "{nat_gateway_id}: adopted flow logs {} of recording {recording_id} (deadline {})",
                flow_log_ids.join(", "),
                rfc3339(deadline)
            ),
            Event::StrayFlowLogsDeleted {
                recording_id,
                flow_log_ids,
            } => write!(
                f,
                "deleted stray flow logs {} of recording {recording_id}",
                flow_log_ids.join(", ")
            ),
            Event::NatUnavailable {
                nat_gateway_id,
                state,
            } => write!(
                f,
                "{nat_gateway_id}: not recording: the NAT gateway is `{state}`, not `available`"
            ),
            Event::FlowLogDeliveryFailed {
                recording_id,
                nat_gateway_id,
                flow_log_id,
                eni,
                message,
            } => write!(
                f,
                "{nat_gateway_id}: flow log {flow_log_id} on {eni} of recording {recording_id} is not delivering: {message}"
            ),
            Event::QueryLoggingStarted {
                recording_id,
                nat_gateway_id,
                vpc_id,
                config_id,
                log_group,
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} logs the DNS queries of {vpc_id} to {log_group} (query logging {config_id})"
            ),
            Event::QueryLoggingReused {
                recording_id,
                nat_gateway_id,
                vpc_id,
                config_id,
                log_group,
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} reads DNS names from {vpc_id}'s existing query logging to {log_group} ({config_id}, not ours: nothing created)"
            ),
            Event::QueryLoggingStopped {
                recording_id,
                nat_gateway_id,
                config_id,
            } => write!(
                f,
                "{nat_gateway_id}: recording {recording_id} no longer logs DNS queries (query logging {config_id} disassociated and deleted)"
            ),
            Event::StrayQueryLoggingDeleted {
                recording_id,
                config_id,
                vpc_ids,
            } => write!(
                f,
                "deleted stray query logging {config_id} of recording {recording_id} (disassociated from {})",
                if vpc_ids.is_empty() {
                    "no VPC".to_owned()
                } else {
                    vpc_ids.join(", ")
                }
            ),
            Event::Exported {
                recording_id,
                files,
                records,
                bytes,
            } => write!(
                f,
                "recording {recording_id} exported: {records} records, {} in {} file(s)",
                nat_flowrec_reports::human_bytes(*bytes),
                files.len()
            ),
            Event::Reported { recording_id, dir } => {
                write!(f, "recording {recording_id} reported in {dir}")
            }
            Event::Notified {
                recording_id,
                message_id,
            } => write!(
                f,
                "recording {recording_id} notified (SNS message {message_id})"
            ),
            Event::NotifyAttempted { recording_id } => write!(
                f,
                "recording {recording_id}: publishing its notification (unconfirmed until `notified` follows; not re-sent automatically)"
            ),
            Event::NotifyFailed {
                recording_id,
                error,
            } => write!(
                f,
                "recording {recording_id}: SNS refused its notification ({error}); the next run sends it again"
            ),
        }
    }
}

pub(crate) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `1 flow log`, `2 flow logs`: the count and its noun as the text output writes them.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// What is wrong with one line of the log (the store adds the file and line number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("no schema version: expected a number `v`")]
    NoVersion,
    #[error(
        "schema version v={found} is newer than this nat-flowrec understands (v={EVENT_VERSION}); upgrade nat-flowrec"
    )]
    TooNew { found: u64 },
    #[error("schema version v={found} is not one nat-flowrec ever wrote (1 to {EVENT_VERSION})")]
    Unknown { found: u64 },
    #[error("not a valid v{EVENT_VERSION} event: {0}")]
    Shape(String),
}

impl EventEnvelope {
    pub fn new(seq: u64, at: DateTime<Utc>, event: Event) -> EventEnvelope {
        EventEnvelope {
            v: EVENT_VERSION,
            seq,
            at,
            event,
        }
    }

    /// One log line, without the newline.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// Parses one log line, upgrading older schema versions first.
pub fn decode_line(line: &str) -> Result<EventEnvelope, DecodeError> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| DecodeError::Json(e.to_string()))?;
    let version = value
        .get("v")
        .and_then(serde_json::Value::as_u64)
        .ok_or(DecodeError::NoVersion)?;
    let value = upgrade(value, version)?;
    serde_json::from_value(value).map_err(|e| DecodeError::Shape(e.to_string()))
}

/// The upgrade hook: brings a line of schema version `from` up to `EVENT_VERSION`, one version at
/// a time. When v2 comes, add `1 => upgrade(v1_to_v2(value), 2)` (rename fields, fill new ones,
/// set `"v": 2`) and keep every older step, so logs written by any release still replay.
fn upgrade(value: serde_json::Value, from: u64) -> Result<serde_json::Value, DecodeError> {
    match from {
        v if v == u64::from(EVENT_VERSION) => Ok(value),
        v if v > u64::from(EVENT_VERSION) => Err(DecodeError::TooNew { found: v }),
        v => Err(DecodeError::Unknown { found: v }),
    }
}

#[cfg(test)]
mod tests;
