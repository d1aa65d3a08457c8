//! The VPC's DNS queries, recorded with the flow logs so the report can name the remotes. A
//! recording's query logging follows its flow logs: due to start while the recording is active
//! (and `recording.dns_query_logs` is on), due to stop once the recording stopped. Both rules
//! read the state alone, so a start or stop that failed, or a run killed between the AWS calls
//! and the event, is simply due again on the next run: CreateResolverQueryLogConfig is
//! idempotent on its CreatorRequestId (the recording id), and an association that already
//! exists, or one already gone, is no error.
//!
//! Reconcile treats configurations carrying our tags like flow logs: one of an active recording
//! that the log does not know is adopted; every other one (its recording stopped, unknown to the
//! log, past its deadline, tags unreadable) is disassociated and deleted. A VPC's own query
//! logging (no tags of ours) is read from when it goes to a CloudWatch Logs group, never touched.

use chrono::{DateTime, Utc};

use super::event::{Event, rfc3339};
use super::plan::{Decision, QueryLoggingPlan, QueryLoggingStopPlan, StrayQueryLoggingPlan};
use super::state::State;
use crate::ports::{TaggedQueryLogConfig, VpcQueryLogging};

/// The starts and stops of query logging due now. `dns_log_group` is `None` when
/// `recording.dns_query_logs` is off: nothing new starts, but what runs still stops.
pub fn due(state: &State, dns_log_group: Option<&str>, now: DateTime<Utc>) -> Vec<Decision> {
    let mut decisions = Vec::new();
    if let Some(log_group) = dns_log_group {
        for (nat, active) in state.active_recordings() {
            let logged = state
                .recording(&active.recording_id)
                .is_some_and(|r| r.query_logging.is_some());
            if !logged && active.deadline > now {
                decisions.push(Decision::StartQueryLogging(QueryLoggingPlan {
                    recording_id: active.recording_id.clone(),
                    nat_gateway_id: nat.to_owned(),
                    deadline: active.deadline,
                    log_group: log_group.to_owned(),
                }));
            }
        }
    }
    for r in &state.recordings {
        if state.active_recording(&r.recording_id).is_some() {
            continue;
        }
        if let Some(q) = r.query_logging.as_ref().filter(|q| q.ours_running()) {
            decisions.push(Decision::StopQueryLogging(QueryLoggingStopPlan {
                recording_id: r.recording_id.clone(),
                nat_gateway_id: r.nat_gateway_id.clone(),
                config_id: q.config_id.clone(),
                vpc_id: q.vpc_id.clone(),
            }));
        }
    }
    decisions
}

/// The VPC's own query logging a recording can read instead of creating its own: a
/// configuration that is not ours and goes to a CloudWatch Logs group (an S3 bucket's or a
/// Firehose stream's records cannot be read back). Returns its id and the group's name.
pub fn reusable(existing: &[VpcQueryLogging]) -> Option<(String, String)> {
    existing
        .iter()
        .filter(|c| !c.ours)
        .find_map(|c| Some((c.config_id.clone(), log_group_of(&c.destination_arn)?)))
}

/// The log group's name in a CloudWatch Logs group ARN
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, maybe with `:*`).
pub fn log_group_of(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let (_partition, service, _region, _account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if service != "logs" || parts.next()? != "log-group" {
        return None;
    }
    let name = parts.next()?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (!name.is_empty()).then(|| name.to_owned())
}

/// What to do about the configurations carrying our tags (the controller keeps only those of
/// this deployment's NATs and recordings).
pub fn reconcile_query_logs(
    state: &State,
    tagged: &[TaggedQueryLogConfig],
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let mut decisions = Vec::new();
    for c in tagged {
        let stray = |why: String| {
            Decision::DeleteStrayQueryLogging(StrayQueryLoggingPlan {
                recording_id: c.recording_id.clone(),
                config_id: c.config_id.clone(),
                vpc_ids: c.vpc_ids.clone(),
                why,
            })
        };
        let known = state.recording(&c.recording_id);
        let noted = known.and_then(|r| r.query_logging.as_ref());
        let Some((nat, active)) = state.active_recording(&c.recording_id) else {
            let why = match known {
                Some(r) => match &r.stopped {
                    Some(s) => format!(
                        "recording {} stopped at {} ({})",
                        c.recording_id,
                        rfc3339(&s.at),
                        s.reason
                    ),
                    None => format!("recording {} is no longer active", c.recording_id),
                },
                None => match (c.nat_gateway_id.as_ref(), c.deadline) {
                    (Some(_), Some(deadline)) if deadline <= now => format!(
                        "unknown to the log, and its deadline {} has passed",
                        rfc3339(&deadline)
                    ),
                    (Some(_), Some(_)) => {
                        "unknown to the log, and no flow logs of its recording are left".to_owned()
                    }
                    _ => "its nat-flowrec:nat-gateway or nat-flowrec:deadline tag is missing or unreadable"
                        .to_owned(),
                },
            };
            decisions.push(stray(why));
            continue;
        };
        if noted.is_some_and(|q| q.config_id == c.config_id) {
            continue;
        }
        if active.deadline <= now {
            decisions.push(stray(format!(
                "recording {} is past its deadline {}",
                c.recording_id,
                rfc3339(&active.deadline)
            )));
        } else if let Some(q) = noted {
            decisions.push(stray(format!(
                "recording {} already logs its VPC's queries through {}",
                c.recording_id, q.config_id
            )));
        } else if let (Some(vpc_id), Some(log_group)) =
            (c.vpc_ids.first(), log_group_of(&c.destination_arn))
        {
            // Created and associated, but the run ended before `QueryLoggingStarted`.
            decisions.push(Decision::Record(Event::QueryLoggingStarted {
                recording_id: c.recording_id.clone(),
                nat_gateway_id: nat.to_owned(),
                vpc_id: vpc_id.clone(),
                config_id: c.config_id.clone(),
                log_group,
            }));
        }
        // Created but not associated yet: the start is still due, and its retry gets this
        // configuration back by its CreatorRequestId.
    }
    decisions
}

#[cfg(test)]
mod tests;
