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
mod tests {
    use super::*;
    use crate::core::event::{EventEnvelope, StartCause, StopReason};
    use crate::core::testkit::at;

    fn started(id: &str) -> Event {
        Event::RecordingStarted {
            recording_id: id.into(),
            nat_gateway_id: "nat-01234567".into(),
            enis: vec!["eni-1".into()],
            flow_log_ids: vec![format!("fl-{id}")],
            nat_ips: vec![],
            log_group: "/g".into(),
            log_format: "${srcaddr}".into(),
            max_aggregation_interval: 60,
            deadline: at("12:00:00"),
            cause: StartCause::Manual { forced: false },
        }
    }

    fn stopped(id: &str) -> Event {
        Event::RecordingStopped {
            recording_id: id.into(),
            nat_gateway_id: "nat-01234567".into(),
            reason: StopReason::TriggerOk,
            deleted_flow_log_ids: vec![],
        }
    }

    fn exported(id: &str) -> Event {
        Event::Exported {
            recording_id: id.into(),
            files: vec![],
            records: 0,
            bytes: 0,
        }
    }

    fn reported(id: &str) -> Event {
        Event::Reported {
            recording_id: id.into(),
            dir: "d".into(),
        }
    }

    fn notified(id: &str) -> Event {
        Event::Notified {
            recording_id: id.into(),
            message_id: "m".into(),
        }
    }

    fn state(events: Vec<(&str, Event)>) -> State {
        let envelopes: Vec<EventEnvelope> = events
            .into_iter()
            .enumerate()
            .map(|(i, (t, e))| EventEnvelope::new(i as u64 + 1, at(t), e))
            .collect();
        State::fold(&envelopes)
    }

    const NOTIFY: PipelinePolicy = PipelinePolicy {
        settle_seconds: 600,
        notify: true,
    };
    const NO_NOTIFY: PipelinePolicy = PipelinePolicy {
        settle_seconds: 600,
        notify: false,
    };

    #[test]
    fn each_step_follows_the_events_once_the_recording_settled() {
        struct Case {
            name: &'static str,
            events: Vec<(&'static str, Event)>,
            policy: PipelinePolicy,
            now: &'static str,
            want: Option<Step>,
        }
        let cases = [
            Case {
                name: "still recording",
                events: vec![("10:00:00", started("r"))],
                policy: NOTIFY,
                now: "11:00:00",
                want: None,
            },
            Case {
                name: "stopped, not settled",
                events: vec![("10:00:00", started("r")), ("10:20:00", stopped("r"))],
                policy: NOTIFY,
                now: "10:29:59",
                want: None,
            },
            Case {
                name: "settled: export",
                events: vec![("10:00:00", started("r")), ("10:20:00", stopped("r"))],
                policy: NOTIFY,
                now: "10:30:00",
                want: Some(Step::Export),
            },
            Case {
                name: "crash after export: report next",
                events: vec![
                    ("10:00:00", started("r")),
                    ("10:20:00", stopped("r")),
                    ("10:30:00", exported("r")),
                ],
                policy: NOTIFY,
                now: "10:31:00",
                want: Some(Step::Report),
            },
            Case {
                name: "crash after report: notify next",
                events: vec![
                    ("10:00:00", started("r")),
                    ("10:20:00", stopped("r")),
                    ("10:30:00", exported("r")),
                    ("10:30:01", reported("r")),
                ],
                policy: NOTIFY,
                now: "10:31:00",
                want: Some(Step::Notify),
            },
            Case {
                name: "no topic: done after the report",
                events: vec![
                    ("10:00:00", started("r")),
                    ("10:20:00", stopped("r")),
                    ("10:30:00", exported("r")),
                    ("10:30:01", reported("r")),
                ],
                policy: NO_NOTIFY,
                now: "10:31:00",
                want: None,
            },
            Case {
                name: "all done",
                events: vec![
                    ("10:00:00", started("r")),
                    ("10:20:00", stopped("r")),
                    ("10:30:00", exported("r")),
                    ("10:30:01", reported("r")),
                    ("10:30:02", notified("r")),
                ],
                policy: NOTIFY,
                now: "12:00:00",
                want: None,
            },
            Case {
                name: "a zero settle exports at the stop",
                events: vec![("10:00:00", started("r")), ("10:20:00", stopped("r"))],
                policy: PipelinePolicy {
                    settle_seconds: 0,
                    notify: false,
                },
                now: "10:20:00",
                want: Some(Step::Export),
            },
        ];
        for c in cases {
            let s = state(c.events);
            let rec = s.recording("r").unwrap();
            assert_eq!(next_step(rec, &c.policy, at(c.now)), c.want, "{}", c.name);
        }
    }

    #[test]
    fn due_lists_every_recording_with_a_step_in_start_order() {
        let s = state(vec![
            ("09:00:00", started("a")),
            ("09:10:00", stopped("a")),
            ("09:30:00", exported("a")),
            ("10:00:00", started("b")),
            ("10:05:00", stopped("b")),
            ("10:06:00", started("c")),
        ]);
        assert_eq!(
            due(&s, &NOTIFY, at("10:20:00")),
            [
                ("a".to_owned(), Step::Report),
                ("b".to_owned(), Step::Export)
            ]
        );
    }

    #[test]
    fn a_notification_that_may_have_gone_out_is_not_sent_again_by_check() {
        let attempted = |id: &str| Event::NotifyAttempted {
            recording_id: id.into(),
        };
        let refused = |id: &str| Event::NotifyFailed {
            recording_id: id.into(),
            error: "sns:Publish: Throttling: Rate exceeded".into(),
        };
        let finished = |id: &str| {
            vec![
                ("09:00:00", started(id)),
                ("09:10:00", stopped(id)),
                ("09:30:00", exported(id)),
                ("09:30:01", reported(id)),
            ]
        };
        let now = at("10:00:00");
        // Given an attempt with no answer logged (the run was killed, or lost SNS's answer).
        let mut events = finished("r");
        events.push(("09:30:02", attempted("r")));
        let s = state(events.clone());
        assert_eq!(s.notify_unconfirmed.len(), 1);
        assert_eq!(due(&s, &NOTIFY, now), []);
        // Its next step is still "notify" (`notify --recording` sends it by hand).
        let rec = s.recording("r").unwrap();
        assert_eq!(next_step(rec, &NOTIFY, now), Some(Step::Notify));

        // SNS refused it: nothing was sent, check sends it again.
        events.push(("09:31:00", refused("r")));
        let s = state(events.clone());
        assert!(s.notify_unconfirmed.is_empty());
        assert_eq!(due(&s, &NOTIFY, now), [("r".to_owned(), Step::Notify)]);

        // A by-hand re-send that SNS confirmed ends it.
        events.push(("09:40:00", attempted("r")));
        events.push(("09:40:01", notified("r")));
        let s = state(events);
        assert!(s.notify_unconfirmed.is_empty());
        assert_eq!(due(&s, &NOTIFY, now), []);
    }

    fn tagged(recording: &str, status: &str, error: Option<&str>) -> TaggedFlowLog {
        TaggedFlowLog {
            flow_log_id: "fl-1".into(),
            resource_id: "eni-1".into(),
            recording_id: recording.into(),
            nat_gateway_id: Some("nat-01234567".into()),
            deadline: None,
            log_group: Some("/g".into()),
            log_format: None,
            deliver_logs_status: Some(status.into()),
            deliver_logs_error: error.map(str::to_owned),
        }
    }

    #[test]
    fn a_failed_delivery_is_noted_once_for_a_known_recording() {
        let s = state(vec![("10:00:00", started("r"))]);
        let flow_logs = [
            tagged("r", "FAILED", Some("Access error")),
            tagged("r", "SUCCESS", None),
            tagged("unknown", "FAILED", Some("Access error")),
        ];
        let events = delivery_failures(&s, &flow_logs);
        assert_eq!(
            events,
            [Event::FlowLogDeliveryFailed {
                recording_id: "r".into(),
                nat_gateway_id: "nat-01234567".into(),
                flow_log_id: "fl-1".into(),
                eni: "eni-1".into(),
                message: "Access error".into(),
            }]
        );
        let noted = state(vec![
            ("10:00:00", started("r")),
            ("10:01:00", events[0].clone()),
        ]);
        assert_eq!(
            noted.recording("r").unwrap().delivery_failures,
            ["eni-1 (fl-1): Access error"]
        );
        assert!(delivery_failures(&noted, &flow_logs).is_empty());
    }
}
