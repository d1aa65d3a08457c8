//! What the event log adds up to: per NAT gateway the active recording, the trigger, the current
//! spike's bookkeeping and the budget; and every recording ever made (for status, history and
//! export). `apply` only records facts; every judgement lives in `decide`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::event::{Event, EventEnvelope, StartCause, StopReason};
use super::trigger::TriggerState;

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
    pub log_format: Option<String>,
    pub max_aggregation_interval: Option<u32>,
    pub stopped: Option<Stopped>,
    /// Flow logs that reported FAILED delivery while recording: `<eni> (<flow log>): <message>`.
    pub delivery_failures: Vec<String>,
    /// The latest measurement of its flow-log ingestion.
    pub ingestion: Option<Ingestion>,
    pub exported: Option<ExportedInfo>,
    pub reported: Option<ReportedInfo>,
    pub notified: Option<NotifiedInfo>,
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
                    log_group: Some(log_group.clone()),
                    log_format: Some(log_format.clone()),
                    max_aggregation_interval: Some(*max_aggregation_interval),
                    stopped: None,
                    delivery_failures: Vec::new(),
                    ingestion: None,
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
                        log_format: log_format.clone(),
                        max_aggregation_interval: None,
                        stopped: None,
                        delivery_failures: Vec::new(),
                        ingestion: None,
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
mod tests {
    use super::*;
    use crate::core::testkit::at;

    const NAT: &str = "nat-01234567";

    fn log(events: Vec<(&str, Event)>) -> Vec<EventEnvelope> {
        events
            .into_iter()
            .enumerate()
            .map(|(i, (t, e))| EventEnvelope::new(i as u64 + 1, at(t), e))
            .collect()
    }

    fn changed(from: TriggerState, to: TriggerState) -> Event {
        Event::TriggerChanged {
            nat_gateway_id: NAT.into(),
            from,
            to,
            evidence: format!("{to}"),
        }
    }

    fn started(id: &str, cause: StartCause) -> Event {
        Event::RecordingStarted {
            recording_id: id.into(),
            nat_gateway_id: NAT.into(),
            enis: vec!["eni-1".into()],
            flow_log_ids: vec!["fl-1".into()],
            nat_ips: vec![],
            log_group: "/g".into(),
            log_format: "${srcaddr}".into(),
            max_aggregation_interval: 60,
            deadline: at("11:00:00"),
            cause,
        }
    }

    fn trigger_cause() -> StartCause {
        StartCause::Trigger {
            evidence: "e".into(),
        }
    }

    fn stopped(id: &str, reason: StopReason) -> Event {
        Event::RecordingStopped {
            recording_id: id.into(),
            nat_gateway_id: NAT.into(),
            reason,
            deleted_flow_log_ids: vec!["fl-1".into()],
        }
    }

    use TriggerState::{Breaching, InsufficientData, Ok};

    #[test]
    fn empty_log_is_the_default_state() {
        let state = State::fold(&[]);
        assert_eq!(state, State::default());
        assert_eq!(state.last_seq, 0);
        assert_eq!(NatState::default().trigger, InsufficientData);
    }

    #[test]
    fn a_started_recording_is_active_counted_and_marks_the_spike() {
        let state = State::fold(&log(vec![
            ("10:41:00", changed(InsufficientData, Breaching)),
            ("10:41:05", started("r1", trigger_cause())),
        ]));
        let nat = state.nat(NAT).unwrap();
        let active = nat.active.as_ref().unwrap();
        assert_eq!(active.recording_id, "r1");
        assert_eq!(active.started_at, at("10:41:05"));
        assert_eq!(active.deadline, at("11:00:00"));
        assert!(active.stops_when_ok);
        assert!(nat.spike_recorded);
        assert_eq!(nat.budget_counted, vec![at("10:41:05")]);
        assert_eq!(nat.trigger, Breaching);
        assert_eq!(nat.trigger_since, Some(at("10:41:00")));
        assert_eq!(state.last_seq, 2);
        assert_eq!(state.active_recording("r1").map(|(n, _)| n), Some(NAT));
        let rec = state.recording("r1").unwrap();
        assert_eq!(rec.started_at, at("10:41:05"));
        assert!(rec.stopped.is_none());
    }

    #[test]
    fn spike_flags_clear_only_when_the_trigger_is_ok_again() {
        struct Case {
            name: &'static str,
            events: Vec<(&'static str, Event)>,
            spike_recorded: bool,
            budget_noted: bool,
            unavailable_noted: Option<&'static str>,
        }
        let budget = Event::BudgetExhausted {
            nat_gateway_id: NAT.into(),
            used: 1,
            max: 1,
            window_seconds: 0,
        };
        let unavailable = Event::NatUnavailable {
            nat_gateway_id: NAT.into(),
            state: "pending".into(),
        };
        let cases = [
            Case {
                name: "stopped at the deadline while breaching: still recorded",
                events: vec![
                    ("10:41:00", changed(InsufficientData, Breaching)),
                    ("10:41:00", started("r1", trigger_cause())),
                    ("11:00:00", stopped("r1", StopReason::Deadline)),
                ],
                spike_recorded: true,
                budget_noted: false,
                unavailable_noted: None,
            },
            Case {
                name: "insufficient data in between does not end the spike",
                events: vec![
                    ("10:41:00", changed(InsufficientData, Breaching)),
                    ("10:41:00", started("r1", trigger_cause())),
                    ("11:00:00", stopped("r1", StopReason::Deadline)),
                    ("11:01:00", changed(Breaching, InsufficientData)),
                    ("11:02:00", changed(InsufficientData, Breaching)),
                ],
                spike_recorded: true,
                budget_noted: false,
                unavailable_noted: None,
            },
            Case {
                name: "ok ends the spike",
                events: vec![
                    ("10:41:00", changed(InsufficientData, Breaching)),
                    ("10:41:00", started("r1", trigger_cause())),
                    ("10:45:00", changed(Breaching, Ok)),
                    ("10:45:00", stopped("r1", StopReason::TriggerOk)),
                ],
                spike_recorded: false,
                budget_noted: false,
                unavailable_noted: None,
            },
            Case {
                name: "budget and unavailability notes last for the spike",
                events: vec![
                    ("10:41:00", changed(InsufficientData, Breaching)),
                    ("10:41:00", budget.clone()),
                    ("10:41:00", unavailable.clone()),
                ],
                spike_recorded: false,
                budget_noted: true,
                unavailable_noted: Some("pending"),
            },
            Case {
                name: "and end with it",
                events: vec![
                    ("10:41:00", changed(InsufficientData, Breaching)),
                    ("10:41:00", budget.clone()),
                    ("10:41:00", unavailable.clone()),
                    ("10:50:00", changed(Breaching, Ok)),
                ],
                spike_recorded: false,
                budget_noted: false,
                unavailable_noted: None,
            },
            Case {
                name: "a manual recording while OK does not consume the next spike",
                events: vec![
                    ("10:40:00", changed(InsufficientData, Ok)),
                    (
                        "10:41:00",
                        started("m1", StartCause::Manual { forced: false }),
                    ),
                    ("10:45:00", stopped("m1", StopReason::Deadline)),
                ],
                spike_recorded: false,
                budget_noted: false,
                unavailable_noted: None,
            },
            Case {
                name: "a spike that begins during a manual recording is recorded by it",
                events: vec![
                    ("10:40:00", changed(InsufficientData, Ok)),
                    (
                        "10:41:00",
                        started("m1", StartCause::Manual { forced: false }),
                    ),
                    ("10:42:00", changed(Ok, Breaching)),
                    ("10:45:00", stopped("m1", StopReason::Deadline)),
                ],
                spike_recorded: true,
                budget_noted: false,
                unavailable_noted: None,
            },
        ];
        for c in cases {
            let state = State::fold(&log(c.events));
            let nat = state.nat(NAT).unwrap();
            assert_eq!(nat.spike_recorded, c.spike_recorded, "{}", c.name);
            assert_eq!(nat.budget_exhausted_noted, c.budget_noted, "{}", c.name);
            assert_eq!(
                nat.unavailable_noted.as_deref(),
                c.unavailable_noted,
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn manual_recordings_run_to_their_deadline() {
        let state = State::fold(&log(vec![(
            "10:41:00",
            started("m1", StartCause::Manual { forced: true }),
        )]));
        assert!(
            !state
                .nat(NAT)
                .unwrap()
                .active
                .as_ref()
                .unwrap()
                .stops_when_ok
        );
    }

    #[test]
    fn stopping_clears_the_active_recording_and_keeps_its_history() {
        let state = State::fold(&log(vec![
            ("10:41:00", started("r1", trigger_cause())),
            ("10:50:00", stopped("r1", StopReason::TriggerOk)),
            (
                "11:01:00",
                Event::Exported {
                    recording_id: "r1".into(),
                    files: vec!["f".into()],
                    records: 3,
                    bytes: 300,
                },
            ),
            (
                "11:02:00",
                Event::Reported {
                    recording_id: "r1".into(),
                    dir: "d".into(),
                },
            ),
            (
                "11:03:00",
                Event::Notified {
                    recording_id: "r1".into(),
                    message_id: "m".into(),
                },
            ),
        ]));
        assert!(state.nat(NAT).unwrap().active.is_none());
        let r = state.recording("r1").unwrap();
        assert_eq!(
            r.stopped,
            Some(Stopped {
                at: at("10:50:00"),
                reason: StopReason::TriggerOk
            })
        );
        assert_eq!(r.exported.as_ref().map(|e| e.records), Some(3));
        assert_eq!(r.reported.as_ref().map(|e| e.dir.as_str()), Some("d"));
        assert_eq!(r.notified.as_ref().map(|e| e.at), Some(at("11:03:00")));
    }

    #[test]
    fn a_stop_for_another_recording_leaves_the_active_one() {
        let state = State::fold(&log(vec![
            ("10:41:00", started("r2", trigger_cause())),
            ("10:42:00", stopped("r1", StopReason::Vanished)),
        ]));
        assert_eq!(
            state
                .nat(NAT)
                .unwrap()
                .active
                .as_ref()
                .map(|a| a.recording_id.as_str()),
            Some("r2")
        );
    }

    #[test]
    fn budget_counts_since_the_last_reset_and_within_the_window() {
        let state = State::fold(&log(vec![
            ("08:00:00", started("r1", trigger_cause())),
            ("08:10:00", stopped("r1", StopReason::TriggerOk)),
            (
                "09:00:00",
                Event::BudgetReset {
                    nat_gateway_id: NAT.into(),
                },
            ),
            ("09:30:00", started("r2", trigger_cause())),
            ("09:40:00", stopped("r2", StopReason::TriggerOk)),
            ("10:30:00", started("r3", trigger_cause())),
        ]));
        let nat = state.nat(NAT).unwrap();
        assert_eq!(nat.budget_reset_at, Some(at("09:00:00")));
        assert_eq!(nat.budget_used(0, at("10:31:00")), 2);
        assert_eq!(nat.budget_used(7200, at("10:31:00")), 2);
        // A one-hour window: the 09:30 start counts until 10:30, when it leaves the window.
        assert_eq!(nat.budget_used(3600, at("10:29:59")), 2);
        assert_eq!(nat.budget_used(3600, at("10:30:00")), 1);
        assert_eq!(nat.budget_used(3600, at("10:31:00")), 1);
        assert_eq!(nat.budget_used(60, at("11:00:00")), 0);
        assert_eq!(nat.budget_used(u64::MAX, at("11:00:00")), 2);
    }

    #[test]
    fn adopting_creates_an_active_recording_or_extends_the_known_one() {
        let adopt = |id: &str, fl: &str| Event::FlowLogsAdopted {
            recording_id: id.into(),
            nat_gateway_id: NAT.into(),
            flow_log_ids: vec![fl.into()],
            enis: vec![format!("eni-{fl}")],
            deadline: at("10:55:00"),
            log_group: Some("/g".into()),
            log_format: None,
        };
        let state = State::fold(&log(vec![
            ("10:41:00", changed(InsufficientData, Breaching)),
            ("10:42:00", adopt("orphan", "fl-9")),
        ]));
        let nat = state.nat(NAT).unwrap();
        let active = nat.active.as_ref().unwrap();
        assert_eq!(active.recording_id, "orphan");
        assert_eq!(active.deadline, at("10:55:00"));
        assert!(active.stops_when_ok);
        assert!(nat.spike_recorded);
        assert_eq!(nat.budget_counted.len(), 1);
        let r = state.recording("orphan").unwrap();
        assert!(r.adopted && r.cause.is_none());
        assert_eq!(r.log_group.as_deref(), Some("/g"));

        let state = State::fold(&log(vec![
            ("10:41:00", started("r1", trigger_cause())),
            ("10:42:00", adopt("r1", "fl-2")),
            ("10:43:00", adopt("r1", "fl-2")),
        ]));
        let nat = state.nat(NAT).unwrap();
        let active = nat.active.as_ref().unwrap();
        assert_eq!(active.flow_log_ids, vec!["fl-1", "fl-2"]);
        assert_eq!(active.started_at, at("10:41:00"));
        assert_eq!(nat.budget_counted.len(), 1);
        assert_eq!(
            state.recording("r1").unwrap().flow_log_ids,
            vec!["fl-1", "fl-2"]
        );
        assert!(!state.recording("r1").unwrap().adopted);
    }

    #[test]
    fn failed_starts_are_listed_and_cost_nothing() {
        let state = State::fold(&log(vec![
            ("10:41:00", changed(InsufficientData, Breaching)),
            (
                "10:41:00",
                Event::RecordingFailed {
                    recording_id: "r1".into(),
                    nat_gateway_id: NAT.into(),
                    error: "denied".into(),
                    created_flow_log_ids: vec![],
                },
            ),
        ]));
        let nat = state.nat(NAT).unwrap();
        assert!(nat.active.is_none());
        assert!(!nat.spike_recorded);
        assert!(nat.budget_counted.is_empty());
        assert_eq!(state.failed_starts.len(), 1);
        assert_eq!(state.failed_starts[0].error, "denied");
    }
}
