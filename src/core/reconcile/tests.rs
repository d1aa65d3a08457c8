//! Every difference between the log and the flow logs AWS holds, and what reconciling decides for
//! it.

use super::*;
use crate::core::event::EventEnvelope;
use crate::core::testkit::{NAT, NAT2, Tweak, at as t, fold, started, stopped};

fn flow_log(
    id: &str,
    eni: &str,
    recording: &str,
    nat: Option<&str>,
    deadline: Option<&str>,
) -> TaggedFlowLog {
    TaggedFlowLog {
        flow_log_id: id.into(),
        resource_id: eni.into(),
        recording_id: recording.into(),
        nat_gateway_id: nat.map(Into::into),
        deadline: deadline.map(t),
        log_group: Some("/nat-flowrec/flowlogs".into()),
        log_destination: None,
        log_format: Some("${srcaddr}".into()),
        deliver_logs_status: Some("SUCCESS".into()),
        deliver_logs_error: None,
    }
}

/// A decision in one line: `Adopt r [fl-1] nat deadline`, `Delete r [fl-1]`,
/// `Vanished r`, `Stop r Deadline [fl-1]`.
fn short(d: &Decision) -> String {
    match d {
        Decision::Record(Event::FlowLogsAdopted {
            recording_id,
            nat_gateway_id,
            flow_log_ids,
            deadline,
            ..
        }) => format!(
            "Adopt {recording_id} {flow_log_ids:?} {nat_gateway_id} {}",
            deadline.format("%H:%M")
        ),
        Decision::DeleteStray(p) => format!("Delete {} {:?}", p.recording_id, p.flow_log_ids),
        Decision::Record(Event::RecordingStopped {
            recording_id,
            reason: StopReason::Vanished,
            ..
        }) => format!("Vanished {recording_id}"),
        Decision::Stop(p) => format!(
            "Stop {} {:?} {:?}",
            p.recording_id, p.reason, p.flow_log_ids
        ),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_difference_between_the_log_and_aws() {
    struct Case {
        name: &'static str,
        given: Vec<(&'static str, Event)>,
        aws: Vec<TaggedFlowLog>,
        at: &'static str,
        then: Vec<&'static str>,
    }
    let cases = vec![
        Case {
            name: "in step: nothing to do",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1", "fl-2"]).until("10:56:00"),
            )],
            aws: vec![
                flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00")),
                flow_log("fl-2", "eni-b", "r1", Some(NAT), Some("10:56:00")),
            ],
            at: "10:45:00",
            then: vec![],
        },
        Case {
            name: "nothing anywhere",
            given: vec![],
            aws: vec![],
            at: "10:45:00",
            then: vec![],
        },
        Case {
            name: "crash between CreateFlowLogs and the append: adopt",
            given: vec![],
            aws: vec![
                flow_log("fl-1", "eni-a", "rec-x", Some(NAT), Some("10:56:00")),
                flow_log("fl-2", "eni-b", "rec-x", Some(NAT), Some("10:56:00")),
            ],
            at: "10:42:00",
            then: vec![r#"Adopt rec-x ["fl-1", "fl-2"] nat-01234567 10:56"#],
        },
        Case {
            name: "crash, and the deadline passed since: delete",
            given: vec![],
            aws: vec![flow_log(
                "fl-1",
                "eni-a",
                "rec-x",
                Some(NAT),
                Some("10:56:00"),
            )],
            at: "10:56:00",
            then: vec![r#"Delete rec-x ["fl-1"]"#],
        },
        Case {
            name: "unreadable deadline tag: delete",
            given: vec![],
            aws: vec![flow_log("fl-1", "eni-a", "rec-x", Some(NAT), None)],
            at: "10:42:00",
            then: vec![r#"Delete rec-x ["fl-1"]"#],
        },
        Case {
            name: "no NAT tag: delete",
            given: vec![],
            aws: vec![flow_log("fl-1", "eni-a", "rec-x", None, Some("10:56:00"))],
            at: "10:42:00",
            then: vec![r#"Delete rec-x ["fl-1"]"#],
        },
        Case {
            name: "differing deadlines: the earliest counts",
            given: vec![],
            aws: vec![
                flow_log("fl-1", "eni-a", "rec-x", Some(NAT), Some("11:30:00")),
                flow_log("fl-2", "eni-b", "rec-x", Some(NAT), Some("10:50:00")),
            ],
            at: "10:42:00",
            then: vec![r#"Adopt rec-x ["fl-1", "fl-2"] nat-01234567 10:50"#],
        },
        Case {
            name: "a stopped recording's flow logs are still there: delete, whatever the deadline",
            given: vec![
                (
                    "10:41:00",
                    started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
                ),
                ("10:45:00", stopped("r1", StopReason::TriggerOk)),
            ],
            aws: vec![flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00"))],
            at: "10:46:00",
            then: vec![r#"Delete r1 ["fl-1"]"#],
        },
        Case {
            name: "an orphan on a NAT that is already recording: delete",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
            )],
            aws: vec![
                flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00")),
                flow_log("fl-9", "eni-a", "rec-x", Some(NAT), Some("10:59:00")),
            ],
            at: "10:45:00",
            then: vec![r#"Delete rec-x ["fl-9"]"#],
        },
        Case {
            name: "two orphans on one NAT: adopt one, delete the other",
            given: vec![],
            aws: vec![
                flow_log("fl-1", "eni-a", "rec-a", Some(NAT), Some("10:56:00")),
                flow_log("fl-2", "eni-a", "rec-b", Some(NAT), Some("10:58:00")),
            ],
            at: "10:45:00",
            then: vec![
                r#"Adopt rec-a ["fl-1"] nat-01234567 10:56"#,
                r#"Delete rec-b ["fl-2"]"#,
            ],
        },
        Case {
            name: "orphans on two NATs: adopt both",
            given: vec![],
            aws: vec![
                flow_log("fl-1", "eni-a", "rec-a", Some(NAT), Some("10:56:00")),
                flow_log("fl-2", "eni-b", "rec-b", Some(NAT2), Some("10:58:00")),
            ],
            at: "10:45:00",
            then: vec![
                r#"Adopt rec-a ["fl-1"] nat-01234567 10:56"#,
                r#"Adopt rec-b ["fl-2"] nat-89abcdef 10:58"#,
            ],
        },
        Case {
            name: "active in the log, gone from AWS: vanished",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1", "fl-2"]).until("10:56:00"),
            )],
            aws: vec![],
            at: "10:45:00",
            then: vec!["Vanished r1"],
        },
        Case {
            name: "active, only some flow logs gone: keep it (the stop tolerates missing ids)",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1", "fl-2"]).until("10:56:00"),
            )],
            aws: vec![flow_log("fl-2", "eni-b", "r1", Some(NAT), Some("10:56:00"))],
            at: "10:45:00",
            then: vec![],
        },
        Case {
            name: "active, deadline passed: stop",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
            )],
            aws: vec![flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00"))],
            at: "10:56:00",
            then: vec![r#"Stop r1 Deadline ["fl-1"]"#],
        },
        Case {
            name: "active, gone and past its deadline: vanished (nothing to delete)",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
            )],
            aws: vec![],
            at: "11:30:00",
            then: vec!["Vanished r1"],
        },
        Case {
            name: "active with an extra flow log of the same recording: take it in",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
            )],
            aws: vec![
                flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00")),
                flow_log("fl-3", "eni-c", "r1", Some(NAT), Some("10:56:00")),
            ],
            at: "10:45:00",
            then: vec![r#"Adopt r1 ["fl-3"] nat-01234567 10:56"#],
        },
        Case {
            name: "active with an extra flow log, deadline passed: the stop deletes both",
            given: vec![(
                "10:41:00",
                started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
            )],
            aws: vec![
                flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00")),
                flow_log("fl-3", "eni-c", "r1", Some(NAT), Some("10:56:00")),
            ],
            at: "10:57:00",
            then: vec![r#"Stop r1 Deadline ["fl-1", "fl-3"]"#],
        },
    ];
    for c in cases {
        let state = fold(c.given);
        let got: Vec<String> = reconcile(&state, &c.aws, t(c.at))
            .iter()
            .map(short)
            .collect();
        assert_eq!(got, c.then, "{}", c.name);
    }
}

/// The crash the module exists for, end to end: after adopting, the recording is active with
/// its flow logs, and the next reconcile is quiet; the adopted deadline stops it.
#[test]
fn adopted_flow_logs_become_the_active_recording() {
    let aws = vec![
        flow_log("fl-1", "eni-a", "rec-x", Some(NAT), Some("10:56:00")),
        flow_log("fl-2", "eni-b", "rec-x", Some(NAT), Some("10:56:00")),
    ];
    let decisions = reconcile(&State::default(), &aws, t("10:42:00"));
    let log: Vec<EventEnvelope> = decisions
        .iter()
        .enumerate()
        .map(|(i, d)| EventEnvelope::new(i as u64 + 1, t("10:42:00"), d.completed_event().unwrap()))
        .collect();
    let state = State::fold(&log);
    let active = state.nat(NAT).unwrap().active.clone().unwrap();
    assert_eq!(active.recording_id, "rec-x");
    assert_eq!(active.flow_log_ids, vec!["fl-1", "fl-2"]);
    assert_eq!(active.enis, vec!["eni-a", "eni-b"]);
    let recording = state.recording("rec-x").unwrap();
    assert_eq!(
        recording.log_group.as_deref(),
        Some("/nat-flowrec/flowlogs")
    );
    assert!(reconcile(&state, &aws, t("10:43:00")).is_empty());
    let stop: Vec<String> = reconcile(&state, &aws, t("10:56:00"))
        .iter()
        .map(short)
        .collect();
    assert_eq!(stop, vec![r#"Stop rec-x Deadline ["fl-1", "fl-2"]"#]);
}

#[test]
fn stray_plans_say_why() {
    let aws = vec![flow_log(
        "fl-1",
        "eni-a",
        "rec-x",
        Some(NAT),
        Some("10:00:00"),
    )];
    let decisions = reconcile(&State::default(), &aws, t("10:42:00"));
    assert_eq!(
        decisions[0].to_string(),
        "delete stray flow logs fl-1 of recording rec-x: unknown to the log, and their deadline \
         2025-01-01T10:00:00Z has passed"
    );
    let state = fold(vec![
        (
            "10:41:00",
            started("r1").flow_logs(&["fl-1"]).until("10:56:00"),
        ),
        ("10:45:00", stopped("r1", StopReason::TriggerOk)),
    ]);
    let aws = vec![flow_log("fl-1", "eni-a", "r1", Some(NAT), Some("10:56:00"))];
    let text = reconcile(&state, &aws, t("10:46:00"))[0].to_string();
    assert!(
        text.contains("stopped at 2025-01-01T10:45:00Z (the trigger is OK again)"),
        "{text}"
    );
}
