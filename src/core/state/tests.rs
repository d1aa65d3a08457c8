//! What the log folds to: active recordings, the spike flags, the budget count, adoptions and
//! failed starts.

use super::*;
use crate::core::testkit::{
    NAT, Tweak, at, budget_exhausted, budget_reset, by_hand, changed, failed, fold, notified,
    reported, started, stopped, unavailable,
};

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
    let state = fold(vec![
        ("10:41:00", changed(InsufficientData, Breaching)),
        ("10:41:05", started("r1")),
    ]);
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
    let budget = budget_exhausted(1, 1);
    let unavailable = unavailable("pending");
    let cases = [
        Case {
            name: "stopped at the deadline while breaching: still recorded",
            events: vec![
                ("10:41:00", changed(InsufficientData, Breaching)),
                ("10:41:00", started("r1")),
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
                ("10:41:00", started("r1")),
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
                ("10:41:00", started("r1")),
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
                ("10:41:00", started("m1").cause(by_hand())),
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
                ("10:41:00", started("m1").cause(by_hand())),
                ("10:42:00", changed(Ok, Breaching)),
                ("10:45:00", stopped("m1", StopReason::Deadline)),
            ],
            spike_recorded: true,
            budget_noted: false,
            unavailable_noted: None,
        },
    ];
    for c in cases {
        let state = fold(c.events);
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
    let state = fold(vec![(
        "10:41:00",
        started("m1").cause(StartCause::Manual { forced: true }),
    )]);
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
    let state = fold(vec![
        ("10:41:00", started("r1")),
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
        ("11:02:00", reported("r1")),
        ("11:03:00", notified("r1")),
    ]);
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
    let state = fold(vec![
        ("10:41:00", started("r2")),
        ("10:42:00", stopped("r1", StopReason::Vanished)),
    ]);
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
    let state = fold(vec![
        ("08:00:00", started("r1")),
        ("08:10:00", stopped("r1", StopReason::TriggerOk)),
        ("09:00:00", budget_reset()),
        ("09:30:00", started("r2")),
        ("09:40:00", stopped("r2", StopReason::TriggerOk)),
        ("10:30:00", started("r3")),
    ]);
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
    let state = fold(vec![
        ("10:41:00", changed(InsufficientData, Breaching)),
        ("10:42:00", adopt("orphan", "fl-9")),
    ]);
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

    let state = fold(vec![
        ("10:41:00", started("r1")),
        ("10:42:00", adopt("r1", "fl-2")),
        ("10:43:00", adopt("r1", "fl-2")),
    ]);
    let nat = state.nat(NAT).unwrap();
    let active = nat.active.as_ref().unwrap();
    assert_eq!(active.flow_log_ids, vec!["fl-r1", "fl-2"]);
    assert_eq!(active.started_at, at("10:41:00"));
    assert_eq!(nat.budget_counted.len(), 1);
    assert_eq!(
        state.recording("r1").unwrap().flow_log_ids,
        vec!["fl-r1", "fl-2"]
    );
    assert!(!state.recording("r1").unwrap().adopted);
}

#[test]
fn failed_starts_are_listed_and_cost_nothing() {
    let state = fold(vec![
        ("10:41:00", changed(InsufficientData, Breaching)),
        ("10:41:00", failed("r1", "denied")),
    ]);
    let nat = state.nat(NAT).unwrap();
    assert!(nat.active.is_none());
    assert!(!nat.spike_recorded);
    assert!(nat.budget_counted.is_empty());
    assert_eq!(state.failed_starts.len(), 1);
    assert_eq!(state.failed_starts[0].error, "denied");
}
