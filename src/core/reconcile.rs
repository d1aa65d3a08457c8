//! Bringing the log and AWS back in line at the start of every run. Every side effect is
//! followed by its event, so a crash between the two leaves a difference this finds:
//!
//! * flow logs with our tags the log does not know (a crash between CreateFlowLogs and the
//!   `RecordingStarted` append): adopted when their deadline is ahead, so they stop like any
//!   recording; deleted when it passed or their tags cannot be read;
//! * flow logs of a recording the log says stopped (a delete that AWS had not finished): deleted;
//! * a recording the log thinks active whose flow logs AWS lacks entirely (deleted by hand, or
//!   the NAT gateway went away): recorded as stopped, `Vanished`;
//! * an active recording whose deadline passed: stopped the normal way.
//!
//! Pure: the controller lists our tagged flow logs, calls `reconcile`, executes the decisions
//! (appending their events) and folds them in before `decide`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::event::{Event, StopReason, rfc3339};
use super::plan::{Decision, StopPlan, StrayPlan};
use super::state::State;
use crate::ports::TaggedFlowLog;

pub fn reconcile(state: &State, tagged: &[TaggedFlowLog], now: DateTime<Utc>) -> Vec<Decision> {
    let mut by_recording: BTreeMap<&str, Vec<&TaggedFlowLog>> = BTreeMap::new();
    for flow_log in tagged {
        by_recording
            .entry(flow_log.recording_id.as_str())
            .or_default()
            .push(flow_log);
    }
    let mut decisions = Vec::new();

    // What the log thinks is recording.
    for (nat, active) in state.active_recordings() {
        let in_aws = by_recording
            .get(active.recording_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if in_aws.is_empty() {
            decisions.push(Decision::Record(Event::RecordingStopped {
                recording_id: active.recording_id.clone(),
                nat_gateway_id: nat.to_string(),
                reason: StopReason::Vanished,
                deleted_flow_log_ids: Vec::new(),
            }));
            continue;
        }
        let extra: Vec<&TaggedFlowLog> = in_aws
            .iter()
            .copied()
            .filter(|f| !active.flow_log_ids.contains(&f.flow_log_id))
            .collect();
        if now >= active.deadline {
            let mut ids = active.flow_log_ids.clone();
            ids.extend(extra.iter().map(|f| f.flow_log_id.clone()));
            decisions.push(Decision::Stop(StopPlan {
                recording_id: active.recording_id.clone(),
                nat_gateway_id: nat.to_string(),
                reason: StopReason::Deadline,
                flow_log_ids: ids,
            }));
        } else if !extra.is_empty() {
            // Ours, of this recording, but not in its RecordingStarted (an earlier attempt with the
            // same ClientToken): take them in so the stop deletes them too.
            decisions.push(Decision::Record(Event::FlowLogsAdopted {
                recording_id: active.recording_id.clone(),
                nat_gateway_id: nat.to_string(),
                flow_log_ids: ids_of(&extra),
                enis: enis_of(&extra),
                deadline: active.deadline,
                log_group: first_some(&extra, |f| f.log_group.as_ref()),
                log_format: first_some(&extra, |f| f.log_format.as_ref()),
            }));
        }
    }

    // What AWS has that the log does not know as active.
    let mut busy: BTreeSet<String> = state
        .active_recordings()
        .map(|(nat, _)| nat.to_string())
        .collect();
    for (recording_id, flow_logs) in &by_recording {
        if state.active_recording(recording_id).is_some() {
            continue;
        }
        let stray = |why: String| {
            Decision::DeleteStray(StrayPlan {
                recording_id: recording_id.to_string(),
                flow_log_ids: ids_of(flow_logs),
                why,
            })
        };
        if let Some(known) = state.recording(recording_id) {
            let when = known
                .stopped
                .as_ref()
                .map(|s| format!("stopped at {} ({})", rfc3339(&s.at), s.reason))
                .unwrap_or_else(|| "is no longer active".to_string());
            decisions.push(stray(format!(
                "recording {recording_id} {when} but AWS still has these flow logs"
            )));
            continue;
        }
        let nat = first_some(flow_logs, |f| f.nat_gateway_id.as_ref());
        // The earliest deadline any of them carries: never record longer than asked.
        let deadline = flow_logs.iter().filter_map(|f| f.deadline).min();
        let (Some(nat), Some(deadline)) = (nat, deadline) else {
            decisions.push(stray(
                "their nat-flowrec:nat-gateway or nat-flowrec:deadline tag is missing or unreadable"
                    .to_string(),
            ));
            continue;
        };
        if deadline <= now {
            decisions.push(stray(format!(
                "unknown to the log, and their deadline {} has passed",
                rfc3339(&deadline)
            )));
            continue;
        }
        if busy.contains(&nat) {
            decisions.push(stray(format!(
                "unknown to the log, and {nat} is already recording"
            )));
            continue;
        }
        busy.insert(nat.clone());
        decisions.push(Decision::Record(Event::FlowLogsAdopted {
            recording_id: recording_id.to_string(),
            nat_gateway_id: nat,
            flow_log_ids: ids_of(flow_logs),
            enis: enis_of(flow_logs),
            deadline,
            log_group: first_some(flow_logs, |f| f.log_group.as_ref()),
            log_format: first_some(flow_logs, |f| f.log_format.as_ref()),
        }));
    }
    decisions
}

fn ids_of(flow_logs: &[&TaggedFlowLog]) -> Vec<String> {
    flow_logs.iter().map(|f| f.flow_log_id.clone()).collect()
}

fn enis_of(flow_logs: &[&TaggedFlowLog]) -> Vec<String> {
    let mut enis: Vec<String> = Vec::new();
    for f in flow_logs {
        if !enis.contains(&f.resource_id) {
            enis.push(f.resource_id.clone());
        }
    }
    enis
}

fn first_some(
    flow_logs: &[&TaggedFlowLog],
    field: impl Fn(&TaggedFlowLog) -> Option<&String>,
) -> Option<String> {
    flow_logs
        .iter()
        .find_map(|f| field(f).filter(|v| !v.is_empty()).cloned())
}

#[cfg(test)]
mod tests;
