//! What follows a recording once it settled (export, report, notify), each step once, and the
//! failed flow-log deliveries noted once.

use super::*;
use crate::core::event::StopReason::TriggerOk;
use crate::core::testkit::{NAT, at, exported, fold, notified, reported, started, stopped};

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
            events: vec![
                ("10:00:00", started("r")),
                ("10:20:00", stopped("r", TriggerOk)),
            ],
            policy: NOTIFY,
            now: "10:29:59",
            want: None,
        },
        Case {
            name: "settled: export",
            events: vec![
                ("10:00:00", started("r")),
                ("10:20:00", stopped("r", TriggerOk)),
            ],
            policy: NOTIFY,
            now: "10:30:00",
            want: Some(Step::Export),
        },
        Case {
            name: "crash after export: report next",
            events: vec![
                ("10:00:00", started("r")),
                ("10:20:00", stopped("r", TriggerOk)),
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
                ("10:20:00", stopped("r", TriggerOk)),
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
                ("10:20:00", stopped("r", TriggerOk)),
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
                ("10:20:00", stopped("r", TriggerOk)),
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
            events: vec![
                ("10:00:00", started("r")),
                ("10:20:00", stopped("r", TriggerOk)),
            ],
            policy: PipelinePolicy {
                settle_seconds: 0,
                notify: false,
            },
            now: "10:20:00",
            want: Some(Step::Export),
        },
    ];
    for c in cases {
        let s = fold(c.events);
        let rec = s.recording("r").unwrap();
        assert_eq!(next_step(rec, &c.policy, at(c.now)), c.want, "{}", c.name);
    }
}

#[test]
fn due_lists_every_recording_with_a_step_in_start_order() {
    let s = fold(vec![
        ("09:00:00", started("a")),
        ("09:10:00", stopped("a", TriggerOk)),
        ("09:30:00", exported("a")),
        ("10:00:00", started("b")),
        ("10:05:00", stopped("b", TriggerOk)),
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
            ("09:10:00", stopped(id, TriggerOk)),
            ("09:30:00", exported(id)),
            ("09:30:01", reported(id)),
        ]
    };
    let now = at("10:00:00");
    // Given an attempt with no answer logged (the run was killed, or lost SNS's answer).
    let mut events = finished("r");
    events.push(("09:30:02", attempted("r")));
    let s = fold(events.clone());
    assert_eq!(s.notify_unconfirmed.len(), 1);
    assert_eq!(due(&s, &NOTIFY, now), []);
    // Its next step is still "notify" (`notify --recording` sends it by hand).
    let rec = s.recording("r").unwrap();
    assert_eq!(next_step(rec, &NOTIFY, now), Some(Step::Notify));

    // SNS refused it: nothing was sent, check sends it again.
    events.push(("09:31:00", refused("r")));
    let s = fold(events.clone());
    assert!(s.notify_unconfirmed.is_empty());
    assert_eq!(due(&s, &NOTIFY, now), [("r".to_owned(), Step::Notify)]);

    // A by-hand re-send that SNS confirmed ends it.
    events.push(("09:40:00", attempted("r")));
    events.push(("09:40:01", notified("r")));
    let s = fold(events);
    assert!(s.notify_unconfirmed.is_empty());
    assert_eq!(due(&s, &NOTIFY, now), []);
}

fn tagged(recording: &str, status: &str, error: Option<&str>) -> TaggedFlowLog {
    TaggedFlowLog {
        flow_log_id: "fl-1".into(),
        resource_id: "eni-1".into(),
        recording_id: recording.into(),
        nat_gateway_id: Some(NAT.into()),
        deadline: None,
        log_group: Some("/g".into()),
        log_destination: None,
        log_format: None,
        deliver_logs_status: Some(status.into()),
        deliver_logs_error: error.map(str::to_owned),
    }
}

#[test]
fn a_failed_delivery_is_noted_once_for_a_known_recording() {
    let s = fold(vec![("10:00:00", started("r"))]);
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
            nat_gateway_id: NAT.into(),
            flow_log_id: "fl-1".into(),
            eni: "eni-1".into(),
            message: "Access error".into(),
        }]
    );
    let noted = fold(vec![
        ("10:00:00", started("r")),
        ("10:01:00", events[0].clone()),
    ]);
    assert_eq!(
        noted.recording("r").unwrap().delivery_failures,
        ["eni-1 (fl-1): Access error"]
    );
    assert!(delivery_failures(&noted, &flow_logs).is_empty());
}
