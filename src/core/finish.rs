//! What a stopped recording still owes: its export, its report, its notification, in that order,
//! each once. Decided from the events alone (`Exported`, `Reported`, `Notified`), so a run that
//! crashed between two steps leaves a state from which the next `check` does exactly the steps
//! that are left; and a step that failed appended nothing, so the next run tries it again. The
//! one exception is the SNS Publish, which cannot be repeated safely: `NotifyAttempted` before it
//! keeps `check` from sending a notification that may already have gone out (`due_step`).
//!
//! Also here: which FAILED flow-log deliveries are news (noted once per flow log, while the
//! flow logs still exist to be described; the report of a recording that captured nothing
//! names them as the likely cause).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::event::Event;
use super::policy::seconds;
use super::state::{Recording, State};
use crate::ports::TaggedFlowLog;

/// One step of finishing a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Read its events from CloudWatch Logs into export files; then `Exported`.
    Export,
    /// Report the export files (and the coverage); then `Reported`.
    Report,
    /// Publish the summary to SNS; then `Notified`.
    Notify,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Export => "export",
            Step::Report => "report",
            Step::Notify => "notify",
        })
    }
}

/// What the pipeline is configured to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelinePolicy {
    /// Wait this long after a stop: flow logs deliver minutes late.
    pub settle_seconds: u64,
    /// An SNS topic is configured.
    pub notify: bool,
}

/// The recording's next step at `now`, if any: nothing before it stopped and settled; then
/// export, report, notify (when configured), each until its event is in the log.
pub fn next_step(rec: &Recording, policy: &PipelinePolicy, now: DateTime<Utc>) -> Option<Step> {
    let stopped = rec.stopped.as_ref()?;
    let settled_at = stopped
        .at
        .checked_add_signed(seconds(policy.settle_seconds))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now < settled_at {
        return None;
    }
    if rec.exported.is_none() {
        Some(Step::Export)
    } else if rec.reported.is_none() {
        Some(Step::Report)
    } else if rec.notified.is_none() && policy.notify {
        Some(Step::Notify)
    } else {
        None
    }
}

/// The recordings with a step due at `now`, in the order they started, with that step.
pub fn due(state: &State, policy: &PipelinePolicy, now: DateTime<Utc>) -> Vec<(String, Step)> {
    state
        .recordings
        .iter()
        .filter_map(|r| due_step(state, r, policy, now).map(|s| (r.recording_id.clone(), s)))
        .collect()
}

/// `next_step` as `check` runs it: a notification that may already have gone out (a run ended
/// or lost SNS's answer after `NotifyAttempted`) is not published again automatically, since
/// SNS cannot tell a retry from a new message. `notify --recording` re-sends it by hand.
pub fn due_step(
    state: &State,
    rec: &Recording,
    policy: &PipelinePolicy,
    now: DateTime<Utc>,
) -> Option<Step> {
    next_step(rec, policy, now).filter(|step| {
        *step != Step::Notify || !state.notify_unconfirmed.contains_key(&rec.recording_id)
    })
}

/// `FlowLogDeliveryFailed` for each flow log of a known recording that DescribeFlowLogs shows
/// FAILED and the log has not noted yet.
pub fn delivery_failures(state: &State, tagged: &[TaggedFlowLog]) -> Vec<Event> {
    let mut events = Vec::new();
    for fl in tagged {
        if fl.deliver_logs_status.as_deref() != Some("FAILED") {
            continue;
        }
        let Some(rec) = state.recording(&fl.recording_id) else {
            continue;
        };
        let message = fl
            .deliver_logs_error
            .clone()
            .unwrap_or_else(|| "no DeliverLogsErrorMessage given".to_owned());
        let line = format!("{} ({}): {message}", fl.resource_id, fl.flow_log_id);
        if rec.delivery_failures.contains(&line) {
            continue;
        }
        events.push(Event::FlowLogDeliveryFailed {
            recording_id: rec.recording_id.clone(),
            nat_gateway_id: rec.nat_gateway_id.clone(),
            flow_log_id: fl.flow_log_id.clone(),
            eni: fl.resource_id.clone(),
            message,
        });
    }
    events
}

#[cfg(test)]
mod tests;
