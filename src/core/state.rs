//! What the event log adds up to: per NAT gateway the active recording, the trigger, the current
//! spike's bookkeeping and the budget; and every recording ever made (for status, history and
//! export). `apply` only records facts; every judgement lives in `decide`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::baseline::Baseline;
use super::estimate::StartEstimate;
use super::event::{Event, EventEnvelope, StartCause, StopReason};
use super::trigger::TriggerState;
use crate::s3_layout::S3Delivery;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct State {
    /// The seq of the last event applied (0 for an empty log).
    pub last_seq: u64,
    pub nats: BTreeMap<String, NatState>,
    /// Every recording, in the order they started (or were adopted).
    pub recordings: Vec<Recording>,
    /// Starts that CreateFlowLogs refused.
    pub failed_starts: Vec<FailedStart>,
    /// Recordings whose notification may have been published without the log knowing
    /// (`NotifyAttempted` with no `Notified` or `NotifyFailed` after it), and since when.
    pub notify_unconfirmed: BTreeMap<String, DateTime<Utc>>,
    /// The month (`2025-01`) whose spending cap was already said.
    pub cost_cap_noted: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NatState {
    pub trigger: TriggerState,
    /// When `trigger` last changed.
    pub trigger_since: Option<DateTime<Utc>>,
    pub trigger_evidence: Option<String>,
    pub active: Option<ActiveRecording>,
    /// A recording ran during the current spike; the next one waits until the trigger was OK.
    pub spike_recorded: bool,
    /// `BudgetExhausted` was already said for the current spike.
    pub budget_exhausted_noted: bool,
    /// The NAT state `NatUnavailable` was already said for in the current spike.
    pub unavailable_noted: Option<String>,
    /// Start times of the recordings counted against the budget since the last reset.
    pub budget_counted: Vec<DateTime<Utc>>,
    pub budget_reset_at: Option<DateTime<Utc>>,
    /// Baseline mode: the last baseline read (`BaselineRead`), which the trigger compares with.
    pub baseline: Option<Baseline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveRecording {
    pub recording_id: String,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub flow_log_ids: Vec<String>,
    pub enis: Vec<String>,
    /// Trigger-started (and adopted) recordings stop when the trigger is OK; manual ones run to
    /// their deadline.
    pub stops_when_ok: bool,
}

/// One recording's whole life, for `status`, `history` and export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// `None` for flow logs adopted after a crash (the cause was never written).
    pub cause: Option<StartCause>,
    pub adopted: bool,
    pub enis: Vec<String>,
    pub flow_log_ids: Vec<String>,
    pub nat_ips: Vec<IpAddr>,
    pub log_group: Option<String>,
    /// Set when its flow logs deliver to S3 instead of a log group.
    pub s3: Option<S3Delivery>,
    pub log_format: Option<String>,
    pub max_aggregation_interval: Option<u32>,
    /// What it was estimated to cost before it started.
    pub estimate: Option<StartEstimate>,
    pub stopped: Option<Stopped>,
    /// Flow logs that reported FAILED delivery while recording: `<eni> (<flow log>): <message>`.
    pub delivery_failures: Vec<String>,
    /// The latest measurement of its flow-log ingestion.
    pub ingestion: Option<Ingestion>,
    /// Where its VPC's DNS queries were logged, when they were.
    pub query_logging: Option<QueryLogging>,
    pub exported: Option<ExportedInfo>,
    pub reported: Option<ReportedInfo>,
    pub notified: Option<NotifiedInfo>,
}

impl Recording {
    /// Where its flow logs deliver in S3: its own destination; for flow logs adopted after a
    /// crash (which wrote down neither a destination nor a log group), `configured`; `None` when
    /// they deliver to a log group.
    pub fn s3_delivery(&self, configured: Option<S3Delivery>) -> Option<S3Delivery> {
        match (&self.s3, &self.log_group) {
            (Some(s3), _) => Some(s3.clone()),
            (None, Some(_)) => None,
            (None, None) => configured,
        }
    }
}

/// A recording's DNS query logging: ours (created for it) or the VPC's own, reused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueryLogging {
    pub vpc_id: String,
    pub config_id: String,
    pub log_group: String,
    /// The VPC's existing configuration, not ours: never disassociated or deleted.
    pub reused: bool,
    /// Ours was disassociated and deleted (or found gone).
    pub stopped: bool,
}

impl QueryLogging {
    /// Ours and still in AWS, as far as the log knows: the stop is due once the recording stops.
    pub fn ours_running(&self) -> bool {
        !self.reused && !self.stopped
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    pub at: DateTime<Utc>,
    pub reason: StopReason,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ingestion {
    pub at: DateTime<Utc>,
    pub bytes: u64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedInfo {
    pub at: DateTime<Utc>,
    pub files: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedInfo {
    pub at: DateTime<Utc>,
    pub dir: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifiedInfo {
    pub at: DateTime<Utc>,
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedStart {
    pub at: DateTime<Utc>,
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub error: String,
}

impl State {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>) -> State {
        let mut state = State::default();
        for envelope in events {
            state.apply(envelope);
        }
        state
    }

    pub fn apply(&mut self, envelope: &EventEnvelope) {
        self.last_seq = envelope.seq;
        self.apply_event(envelope.at, &envelope.event);
    }

    pub fn nat(&self, nat_gateway_id: &str) -> Option<&NatState> {
        self.nats.get(nat_gateway_id)
    }

    pub fn recording(&self, recording_id: &str) -> Option<&Recording> {
        self.recordings
            .iter()
            .find(|r| r.recording_id == recording_id)
    }

    /// Every active recording with its NAT gateway, by NAT gateway id.
    pub fn active_recordings(&self) -> impl Iterator<Item = (&str, &ActiveRecording)> {
        self.nats
            .iter()
            .filter_map(|(nat, ns)| ns.active.as_ref().map(|a| (nat.as_str(), a)))
    }

    /// The NAT gateway recording `recording_id` right now.
    pub fn active_recording(&self, recording_id: &str) -> Option<(&str, &ActiveRecording)> {
        self.active_recordings()
            .find(|(_, a)| a.recording_id == recording_id)
    }

    /// Applies one event at time `at` (also used by `decide` to see its own pure events).
    pub(crate) fn apply_event(&mut self, at: DateTime<Utc>, event: &Event) {
        match event {
            Event::RecordingStarted {
                recording_id,
                nat_gateway_id,
                enis,
                flow_log_ids,
                nat_ips,
                log_group,
                log_format,
                max_aggregation_interval,
                deadline,
                cause,
                s3_destination,
                estimate,
            } => {
                let nat = self.nats.entry(nat_gateway_id.clone()).or_default();
                let by_trigger = matches!(cause, StartCause::Trigger { .. });
                nat.active = Some(ActiveRecording {
                    recording_id: recording_id.clone(),
                    started_at: at,
                    deadline: *deadline,
                    flow_log_ids: flow_log_ids.clone(),
                    enis: enis.clone(),
                    stops_when_ok: by_trigger,
                });
                nat.budget_counted.push(at);
                if by_trigger || nat.trigger == TriggerState::Breaching {
                    nat.spike_recorded = true;
                }
                self.put_recording(Recording {
                    recording_id: recording_id.clone(),
                    nat_gateway_id: nat_gateway_id.clone(),
                    started_at: at,
                    deadline: *deadline,
                    cause: Some(cause.clone()),
                    adopted: false,
                    enis: enis.clone(),
                    flow_log_ids: flow_log_ids.clone(),
                    nat_ips: nat_ips.clone(),
                    log_group: (!log_group.is_empty()).then(|| log_group.clone()),
                    s3: s3_destination.clone(),
                    log_format: Some(log_format.clone()),
                    max_aggregation_interval: Some(*max_aggregation_interval),
                    estimate: estimate.clone(),
                    stopped: None,
                    delivery_failures: Vec::new(),
                    ingestion: None,
                    query_logging: None,
                    exported: None,
                    reported: None,
                    notified: None,
                });
            }
            Event::FlowLogsAdopted {
                recording_id,
                nat_gateway_id,
                flow_log_ids,
                enis,
                deadline,
                log_group,
                log_format,
            } => {
                let nat = self.nats.entry(nat_gateway_id.clone()).or_default();
                match &mut nat.active {
                    Some(active) if active.recording_id == *recording_id => {
                        extend_unique(&mut active.flow_log_ids, flow_log_ids);
                        extend_unique(&mut active.enis, enis);
                    }
                    _ => {
                        nat.active = Some(ActiveRecording {
                            recording_id: recording_id.clone(),
                            started_at: at,
                            deadline: *deadline,
                            flow_log_ids: flow_log_ids.clone(),
                            enis: enis.clone(),
                            stops_when_ok: true,
                        });
                        nat.budget_counted.push(at);
                        if nat.trigger == TriggerState::Breaching {
                            nat.spike_recorded = true;
                        }
                    }
                }
                if let Some(r) = self.recording_mut(recording_id) {
                    extend_unique(&mut r.flow_log_ids, flow_log_ids);
                    extend_unique(&mut r.enis, enis);
                } else {
                    self.recordings.push(Recording {
                        recording_id: recording_id.clone(),
                        nat_gateway_id: nat_gateway_id.clone(),
                        started_at: at,
                        deadline: *deadline,
                        cause: None,
                        adopted: true,
                        enis: enis.clone(),
                        flow_log_ids: flow_log_ids.clone(),
                        nat_ips: Vec::new(),
                        log_group: log_group.clone(),
                        s3: None,
                        log_format: log_format.clone(),
                        max_aggregation_interval: None,
                        estimate: None,
                        stopped: None,
                        delivery_failures: Vec::new(),
                        ingestion: None,
                        query_logging: None,
                        exported: None,
                        reported: None,
                        notified: None,
                    });
                }
            }
            Event::RecordingStopped {
                recording_id,
                nat_gateway_id,
                reason,
                ..
            } => {
                if let Some(nat) = self.nats.get_mut(nat_gateway_id)
                    && nat
                        .active
                        .as_ref()
                        .is_some_and(|a| a.recording_id == *recording_id)
                {
                    nat.active = None;
                }
                if let Some(r) = self.recording_mut(recording_id) {
                    r.stopped = Some(Stopped {
                        at,
                        reason: *reason,
                    });
                }
            }
            Event::RecordingFailed {
                recording_id,
                nat_gateway_id,
                error,
                ..
            } => self.failed_starts.push(FailedStart {
                at,
                recording_id: recording_id.clone(),
                nat_gateway_id: nat_gateway_id.clone(),
                error: error.clone(),
            }),
            Event::TriggerChanged {
                nat_gateway_id,
                to,
                evidence,
                ..
            } => {
                let nat = self.nats.entry(nat_gateway_id.clone()).or_default();
                nat.trigger = *to;
                nat.trigger_since = Some(at);
                nat.trigger_evidence = Some(evidence.clone());
                match to {
                    TriggerState::Ok => {
                        nat.spike_recorded = false;
                        nat.budget_exhausted_noted = false;
                        nat.unavailable_noted = None;
                    }
                    TriggerState::Breaching if nat.active.is_some() => nat.spike_recorded = true,
                    _ => {}
                }
            }
            Event::BudgetExhausted { nat_gateway_id, .. } => {
                self.nats
                    .entry(nat_gateway_id.clone())
                    .or_default()
                    .budget_exhausted_noted = true;
            }
            Event::IngestionMeasured {
                recording_id,
                bytes,
                cost_usd,
                ..
            } => {
                if let Some(r) = self.recording_mut(recording_id) {
                    r.ingestion = Some(Ingestion {
                        at,
                        bytes: *bytes,
                        cost_usd: *cost_usd,
                    });
                }
            }
            Event::MonthlyCostCapReached { month, .. } => {
                self.cost_cap_noted = Some(month.clone());
            }
            Event::BaselineRead {
                nat_gateway_id,
                days,
                hourly_p95,
            } => {
                let nat = self.nats.entry(nat_gateway_id.clone()).or_default();
                nat.baseline = Some(Baseline {
                    read_at: at,
                    days: *days,
                    hourly_p95: hourly_p95.clone(),
                });
            }
            Event::BudgetReset { nat_gateway_id } => {
                let nat = self.nats.entry(nat_gateway_id.clone()).or_default();
                nat.budget_counted.clear();
                nat.budget_exhausted_noted = false;
                nat.budget_reset_at = Some(at);
            }
            Event::NatUnavailable {
                nat_gateway_id,
                state,
            } => {
                self.nats
                    .entry(nat_gateway_id.clone())
                    .or_default()
                    .unavailable_noted = Some(state.clone());
            }
            Event::StrayFlowLogsDeleted { .. } => {}
            Event::QueryLoggingStarted {
                recording_id,
                vpc_id,
                config_id,
                log_group,
                ..
            }
            | Event::QueryLoggingReused {
                recording_id,
                vpc_id,
                config_id,
                log_group,
                ..
            } => {
                let reused = matches!(event, Event::QueryLoggingReused { .. });
                if let Some(r) = self.recording_mut(recording_id) {
                    r.query_logging = Some(QueryLogging {
                        vpc_id: vpc_id.clone(),
                        config_id: config_id.clone(),
                        log_group: log_group.clone(),
                        reused,
                        stopped: false,
                    });
                }
            }
            Event::QueryLoggingStopped {
                recording_id,
                config_id,
                ..
            }
            | Event::StrayQueryLoggingDeleted {
                recording_id,
                config_id,
                ..
            } => {
                if let Some(q) = self
                    .recording_mut(recording_id)
                    .and_then(|r| r.query_logging.as_mut())
                    .filter(|q| q.config_id == *config_id)
                {
                    q.stopped = true;
                }
            }
            Event::FlowLogDeliveryFailed {
                recording_id,
                flow_log_id,
                eni,
                message,
                ..
            } => {
                if let Some(r) = self.recording_mut(recording_id) {
                    let line = format!("{eni} ({flow_log_id}): {message}");
                    if !r.delivery_failures.contains(&line) {
                        r.delivery_failures.push(line);
                    }
                }
            }
            Event::Exported {
                recording_id,
                files,
                records,
                bytes,
            } => {
                if let Some(r) = self.recording_mut(recording_id) {
                    r.exported = Some(ExportedInfo {
                        at,
                        files: files.clone(),
                        records: *records,
                        bytes: *bytes,
                    });
                }
            }
            Event::Reported { recording_id, dir } => {
                if let Some(r) = self.recording_mut(recording_id) {
                    r.reported = Some(ReportedInfo {
                        at,
                        dir: dir.clone(),
                    });
                }
            }
            Event::NotifyAttempted { recording_id } => {
                self.notify_unconfirmed.insert(recording_id.clone(), at);
            }
            Event::NotifyFailed { recording_id, .. } => {
                self.notify_unconfirmed.remove(recording_id);
            }
            Event::Notified {
                recording_id,
                message_id,
            } => {
                self.notify_unconfirmed.remove(recording_id);
                if let Some(r) = self.recording_mut(recording_id) {
                    r.notified = Some(NotifiedInfo {
                        at,
                        message_id: message_id.clone(),
                    });
                }
            }
        }
    }

    /// What the recordings measured in `month` (`2025-01`) cost, leaving out `except` (active
    /// recordings whose newer measurement the caller adds itself).
    pub fn month_cost_usd(&self, month: &str, except: &[&str]) -> f64 {
        self.recordings
            .iter()
            .filter(|r| !except.contains(&r.recording_id.as_str()))
            .filter_map(|r| r.ingestion.as_ref())
            .filter(|i| month_of(i.at) == month)
            .map(|i| i.cost_usd)
            .sum()
    }

    fn recording_mut(&mut self, recording_id: &str) -> Option<&mut Recording> {
        self.recordings
            .iter_mut()
            .find(|r| r.recording_id == recording_id)
    }

    fn put_recording(&mut self, recording: Recording) {
        match self.recording_mut(&recording.recording_id) {
            Some(existing) => *existing = recording,
            None => self.recordings.push(recording),
        }
    }
}

impl NatState {
    /// Recordings that count against the budget at `now`: since the last reset, and within the
    /// rolling window when `window_seconds > 0`.
    pub fn budget_used(&self, window_seconds: u64, now: DateTime<Utc>) -> u32 {
        let counted = if window_seconds == 0 {
            self.budget_counted.len()
        } else {
            let since = now
                .checked_sub_signed(super::policy::seconds(window_seconds))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            self.budget_counted.iter().filter(|t| **t > since).count()
        };
        u32::try_from(counted).unwrap_or(u32::MAX)
    }
}

/// The calendar month (UTC) of `t`: `2025-01`.
pub fn month_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

fn extend_unique(into: &mut Vec<String>, more: &[String]) {
    for item in more {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
}

#[cfg(test)]
mod tests;
