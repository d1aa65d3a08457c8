//! The decision: given the state the log adds up to, what this run observed and the clock, what
//! to do. Pure, so every rule (spike edges, budget, deadlines, hard cap, unavailable NATs) is
//! tested here without AWS. Manual `start`, `stop` and `budget reset` are decided here too, and
//! answer with a plan or a refusal that says why.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::baseline::Baseline;
use super::estimate::{Connections, calibration};
use super::event::{Event, StartCause, StopReason, rfc3339};
use super::plan::{Decision, StartPlan, StopPlan};
use super::policy::{Budget, Policy, recording_id};
use super::state::{NatState, State, month_of};
use super::trigger::{TriggerState, TriggerVerdict};

/// What this run saw of one NAT gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub nat_gateway_id: String,
    pub verdict: TriggerVerdict,
    /// DescribeNatGateways' state: only `available` is recorded.
    pub nat_state: String,
    /// While the NAT gateway records: what the recordings' log group took in since the
    /// recording started (`AWS/Logs` `IncomingBytes`). Recordings running at once share the
    /// group, so each is charged the group's whole ingestion: a cap stops them early, never late.
    /// `None`: not measured this run.
    pub ingested_bytes: Option<u64>,
    /// Baseline mode: the baseline read this run because one was due (`baseline::refresh_due`),
    /// which `verdict` was evaluated with; kept in the log before anything it caused.
    pub baseline_read: Option<Baseline>,
    /// When a start may follow (`start_possible`): the NAT's connection metrics, which the
    /// start's cost estimate reads. `None`: not read this run.
    pub connections: Option<Connections>,
}

/// Whether `verdict` may start a recording of `nat_gateway_id` on this tick (breaching, idle,
/// the spike not yet recorded): only then does the controller read the connection metrics
/// a start's estimate needs.
pub fn start_possible(state: &State, nat_gateway_id: &str, verdict: &TriggerVerdict) -> bool {
    verdict.state == TriggerState::Breaching
        && state
            .nat(nat_gateway_id)
            .is_none_or(|n| n.active.is_none() && !n.spike_recorded)
}

/// The NAT state that can be recorded.
pub const AVAILABLE: &str = "available";

/// A running recording's cost is written to the log at most this often, and only once it grew
/// by `MEASURE_STEP_USD`: a few events per recording, not one per tick.
const MEASURE_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
const MEASURE_STEP_USD: f64 = 0.01;

/// One run's decisions, NAT gateway by NAT gateway in `observations` order: first the trigger
/// change (so the log explains what follows), then a stop or a start, or a note that a spike
/// goes unrecorded (budget, NAT not available). Active recordings of NAT gateways without an
/// observation this run (metrics unreadable, NAT dropped from the config) still stop at their
/// deadline.
pub fn decide(
    state: &State,
    observations: &[Observation],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Decision> {
    // A scratch copy that sees the pure events decided so far, exactly as the fold will.
    let mut scratch = state.clone();
    let mut decisions = Vec::new();
    let month = month_of(now);
    let spent = month_spent(state, observations, policy, &month);
    for obs in observations {
        decide_nat(
            &mut scratch,
            obs,
            policy,
            (&month, spent),
            now,
            &mut decisions,
        );
    }
    for (nat, active) in state.active_recordings() {
        if observations.iter().any(|o| o.nat_gateway_id == nat) {
            continue;
        }
        if let Some(reason) = policy.due_stop(active, now) {
            decisions.push(Decision::Stop(stop_plan(nat, active, reason)));
        }
    }
    decisions
}

/// What the recordings of `month` cost: the log's measurements, with the active recordings
/// measured this run at their new figure.
fn month_spent(state: &State, observations: &[Observation], policy: &Policy, month: &str) -> f64 {
    let measured_now: Vec<(&str, u64)> = observations
        .iter()
        .filter_map(|o| {
            let active = state.nat(&o.nat_gateway_id)?.active.as_ref()?;
            Some((active.recording_id.as_str(), o.ingested_bytes?))
        })
        .collect();
    let ids: Vec<&str> = measured_now.iter().map(|(id, _)| *id).collect();
    state.month_cost_usd(month, &ids)
        + measured_now
            .iter()
            .map(|(_, bytes)| policy.ingestion_cost_usd(*bytes))
            .sum::<f64>()
}

fn decide_nat(
    scratch: &mut State,
    obs: &Observation,
    policy: &Policy,
    (month, spent): (&str, f64),
    now: DateTime<Utc>,
    out: &mut Vec<Decision>,
) {
    let nat = obs.nat_gateway_id.as_str();
    let verdict = &obs.verdict;
    let record = |scratch: &mut State, out: &mut Vec<Decision>, event: Event| {
        scratch.apply_event(now, &event);
        out.push(Decision::Record(event));
    };

    if let Some(b) = &obs.baseline_read {
        record(
            scratch,
            out,
            Event::BaselineRead {
                nat_gateway_id: nat.to_string(),
                days: b.days,
                hourly_p95: b.hourly_p95.clone(),
            },
        );
    }
    let previous = scratch.nat(nat).map(|n| n.trigger).unwrap_or_default();
    if verdict.state != previous {
        record(
            scratch,
            out,
            Event::TriggerChanged {
                nat_gateway_id: nat.to_string(),
                from: previous,
                to: verdict.state,
                evidence: verdict.evidence.clone(),
            },
        );
    }
    let ns: NatState = scratch.nat(nat).cloned().unwrap_or_default();

    if let Some(active) = &ns.active {
        let measured = obs
            .ingested_bytes
            .map(|bytes| (bytes, policy.ingestion_cost_usd(bytes)));
        let reason = policy.due_stop(active, now).or_else(|| {
            if measured.is_some_and(|(_, cost)| policy.over_cost_cap(cost)) {
                Some(StopReason::CostCap)
            } else if verdict.state == TriggerState::Ok && active.stops_when_ok {
                Some(StopReason::TriggerOk)
            } else {
                None
            }
        });
        let last = scratch
            .recording(&active.recording_id)
            .and_then(|r| r.ingestion.clone());
        // While it runs, the log learns the running cost now and then (for `status` and the
        // monthly cap); a stop always keeps the last figure.
        let worth_noting = |cost_usd: f64| {
            last.as_ref().is_none_or(|l| {
                now - l.at >= MEASURE_EVERY && cost_usd - l.cost_usd >= MEASURE_STEP_USD
            })
        };
        if let Some((bytes, cost_usd)) = measured
            && (reason.is_some() || worth_noting(cost_usd))
        {
            record(
                scratch,
                out,
                Event::IngestionMeasured {
                    recording_id: active.recording_id.clone(),
                    nat_gateway_id: nat.to_string(),
                    bytes,
                    cost_usd,
                },
            );
        }
        if let Some(reason) = reason {
            out.push(Decision::Stop(stop_plan(nat, active, reason)));
        }
        return;
    }

    // Idle: record on the spike's edge only, as an alarm's transition to ALARM would.
    if verdict.state != TriggerState::Breaching || ns.spike_recorded {
        return;
    }
    if obs.nat_state != AVAILABLE {
        if ns.unavailable_noted.as_deref() != Some(obs.nat_state.as_str()) {
            record(
                scratch,
                out,
                Event::NatUnavailable {
                    nat_gateway_id: nat.to_string(),
                    state: obs.nat_state.clone(),
                },
            );
        }
        return;
    }
    let budget = policy.budget(&ns, now);
    if !budget.allows_another() {
        if !ns.budget_exhausted_noted {
            record(
                scratch,
                out,
                Event::BudgetExhausted {
                    nat_gateway_id: nat.to_string(),
                    used: budget.used,
                    max: budget.max,
                    window_seconds: budget.window_seconds,
                },
            );
        }
        return;
    }
    if policy.over_monthly_cap(spent) {
        if scratch.cost_cap_noted.as_deref() != Some(month) {
            record(
                scratch,
                out,
                Event::MonthlyCostCapReached {
                    nat_gateway_id: nat.to_string(),
                    month: month.to_string(),
                    spent_usd: spent,
                    max_usd: policy.max_cost_usd_per_month,
                },
            );
        }
        return;
    }
    let (deadline, estimate) =
        policy.planned_start(now, None, obs.connections, calibration(scratch));
    out.push(Decision::Start(StartPlan {
        nat_gateway_id: nat.to_string(),
        recording_id: recording_id(scratch, nat, now),
        deadline,
        cause: StartCause::Trigger {
            evidence: verdict.evidence.clone(),
        },
        estimate,
    }));
}

fn stop_plan(nat: &str, active: &super::state::ActiveRecording, reason: StopReason) -> StopPlan {
    StopPlan {
        recording_id: active.recording_id.clone(),
        nat_gateway_id: nat.to_string(),
        reason,
        flow_log_ids: active.flow_log_ids.clone(),
    }
}

/// Why a manual command does nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{nat_gateway_id} is already recording ({recording_id}, until {until}); stop it first with `nat-flowrec stop --nat {nat_gateway_id}`",
        until = rfc3339(deadline)
    )]
    AlreadyRecording {
        nat_gateway_id: String,
        recording_id: String,
        deadline: DateTime<Utc>,
    },
    #[error(
        "{nat_gateway_id}: the recording budget is spent ({budget}); pass --force to record anyway, or run `nat-flowrec budget reset --nat {nat_gateway_id}`"
    )]
    BudgetSpent {
        nat_gateway_id: String,
        budget: Budget,
    },
    #[error(
        "--seconds {seconds} is more than max_recording_seconds ({max}); ask for at most {max}, or raise recording.max_recording_seconds (at most 86400)"
    )]
    TooLong { seconds: u64, max: u64 },
    #[error(
        "--seconds 0: a recording started by hand needs a duration from 1 to max_recording_seconds ({max})"
    )]
    NoDuration { max: u64 },
    #[error("{nat_gateway_id} is not recording")]
    NotRecording { nat_gateway_id: String },
}

/// `nat-flowrec start --nat ID [--seconds N] [--force]`. Without `seconds` the recording lasts
/// `recording_seconds` (or `max_recording_seconds` when that is 0). `force` overrides a spent
/// budget only; the recording still counts against it. Manual recordings run to their deadline
/// whatever the trigger says. The caller checks that the NAT gateway is `available`.
pub fn decide_manual_start(
    state: &State,
    nat_gateway_id: &str,
    seconds: Option<u64>,
    force: bool,
    connections: Option<Connections>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<StartPlan, Refusal> {
    let ns = state.nat(nat_gateway_id).cloned().unwrap_or_default();
    if let Some(active) = &ns.active {
        return Err(Refusal::AlreadyRecording {
            nat_gateway_id: nat_gateway_id.to_string(),
            recording_id: active.recording_id.clone(),
            deadline: active.deadline,
        });
    }
    match seconds {
        Some(0) => {
            return Err(Refusal::NoDuration {
                max: policy.max_recording_seconds,
            });
        }
        Some(s) if s > policy.max_recording_seconds => {
            return Err(Refusal::TooLong {
                seconds: s,
                max: policy.max_recording_seconds,
            });
        }
        _ => {}
    }
    let budget = policy.budget(&ns, now);
    let over_budget = !budget.allows_another();
    if over_budget && !force {
        return Err(Refusal::BudgetSpent {
            nat_gateway_id: nat_gateway_id.to_string(),
            budget,
        });
    }
    let (deadline, estimate) = policy.planned_start(now, seconds, connections, calibration(state));
    Ok(StartPlan {
        nat_gateway_id: nat_gateway_id.to_string(),
        recording_id: recording_id(state, nat_gateway_id, now),
        deadline,
        cause: StartCause::Manual {
            forced: over_budget,
        },
        estimate,
    })
}

/// `nat-flowrec stop --nat ID` (`Some`) or `stop --all` (`None`: every active recording, possibly
/// none). A stopped spike is not recorded again until its trigger was OK.
pub fn decide_manual_stop(
    state: &State,
    nat_gateway_id: Option<&str>,
) -> Result<Vec<StopPlan>, Refusal> {
    match nat_gateway_id {
        Some(nat) => match state.nat(nat).and_then(|n| n.active.as_ref()) {
            Some(active) => Ok(vec![stop_plan(nat, active, StopReason::Manual)]),
            None => Err(Refusal::NotRecording {
                nat_gateway_id: nat.to_string(),
            }),
        },
        None => Ok(state
            .active_recordings()
            .map(|(nat, active)| stop_plan(nat, active, StopReason::Manual))
            .collect()),
    }
}

/// `nat-flowrec budget reset --nat ID`: an event, so history is never rewritten.
pub fn decide_budget_reset(nat_gateway_id: &str) -> Event {
    Event::BudgetReset {
        nat_gateway_id: nat_gateway_id.to_string(),
    }
}

#[cfg(test)]
mod tests;
