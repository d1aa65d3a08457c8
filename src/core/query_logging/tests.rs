//! When a recording's DNS query logging starts and stops, and what reconciling decides for each
//! configuration carrying our tags: given events, when the clock (and AWS's list), then decisions.

use super::*;
use crate::core::StopReason;
use crate::core::testkit::{NAT, at as t, fold, started, stopped};

const GROUP: &str = "/nat-flowrec/dns-queries";

fn ql_started(id: &str, config: &str) -> Event {
    Event::QueryLoggingStarted {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        vpc_id: "vpc-1".into(),
        config_id: config.into(),
        log_group: GROUP.into(),
    }
}

fn ql_reused(id: &str) -> Event {
    Event::QueryLoggingReused {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        vpc_id: "vpc-1".into(),
        config_id: "rqlc-audit".into(),
        log_group: "/audit/dns".into(),
    }
}

fn ql_stopped(id: &str, config: &str) -> Event {
    Event::QueryLoggingStopped {
        recording_id: id.into(),
        nat_gateway_id: NAT.into(),
        config_id: config.into(),
    }
}

fn tagged(
    config: &str,
    recording: &str,
    deadline: Option<&str>,
    vpcs: &[&str],
) -> TaggedQueryLogConfig {
    TaggedQueryLogConfig {
        config_id: config.into(),
        recording_id: recording.into(),
        nat_gateway_id: Some(NAT.into()),
        deadline: deadline.map(t),
        destination_arn: format!("arn:aws:logs:eu-west-1:123456789012:log-group:{GROUP}"),
        vpc_ids: vpcs.iter().map(|v| v.to_string()).collect(),
    }
}

/// A decision in one line: `Start r`, `Stop r c vpc`, `Delete r c [vpcs]`, `Adopt r c vpc`.
fn short(d: &Decision) -> String {
    match d {
        Decision::StartQueryLogging(p) => format!("Start {} {}", p.recording_id, p.log_group),
        Decision::StopQueryLogging(p) => {
            format!("Stop {} {} {}", p.recording_id, p.config_id, p.vpc_id)
        }
        Decision::DeleteStrayQueryLogging(p) => {
            format!("Delete {} {} {:?}", p.recording_id, p.config_id, p.vpc_ids)
        }
        Decision::Record(Event::QueryLoggingStarted {
            recording_id,
            config_id,
            vpc_id,
            ..
        }) => format!("Adopt {recording_id} {config_id} {vpc_id}"),
        other => format!("{other:?}"),
    }
}

fn shorts(decisions: &[Decision]) -> Vec<String> {
    decisions.iter().map(short).collect()
}

#[test]
fn a_recording_logs_its_vpcs_queries_while_active_and_stops_after() {
    struct Case {
        name: &'static str,
        given: Vec<(&'static str, Event)>,
        dns: Option<&'static str>,
        now: &'static str,
        then: Vec<String>,
    }
    let cases = [
        Case {
            name: "an active recording without query logging starts it",
            given: vec![("10:00", started("r1"))],
            dns: Some(GROUP),
            now: "10:01",
            then: vec![format!("Start r1 {GROUP}")],
        },
        Case {
            name: "the key off: nothing starts",
            given: vec![("10:00", started("r1"))],
            dns: None,
            now: "10:01",
            then: vec![],
        },
        Case {
            name: "already logging: nothing to do",
            given: vec![("10:00", started("r1")), ("10:00", ql_started("r1", "c1"))],
            dns: Some(GROUP),
            now: "10:05",
            then: vec![],
        },
        Case {
            name: "the VPC's own logging reused: nothing to do",
            given: vec![("10:00", started("r1")), ("10:00", ql_reused("r1"))],
            dns: Some(GROUP),
            now: "10:05",
            then: vec![],
        },
        Case {
            name: "past its deadline: no start (the stop is due)",
            given: vec![("10:00", started("r1"))],
            dns: Some(GROUP),
            now: "11:00",
            then: vec![],
        },
        Case {
            name: "the recording stopped: ours is disassociated and deleted",
            given: vec![
                ("10:00", started("r1")),
                ("10:00", ql_started("r1", "c1")),
                ("10:30", stopped("r1", StopReason::TriggerOk)),
            ],
            dns: Some(GROUP),
            now: "10:30",
            then: vec!["Stop r1 c1 vpc-1".into()],
        },
        Case {
            name: "the stop is due even with the key turned off since",
            given: vec![
                ("10:00", started("r1")),
                ("10:00", ql_started("r1", "c1")),
                ("10:30", stopped("r1", StopReason::Manual)),
            ],
            dns: None,
            now: "10:31",
            then: vec!["Stop r1 c1 vpc-1".into()],
        },
        Case {
            name: "stopped and removed: nothing to do",
            given: vec![
                ("10:00", started("r1")),
                ("10:00", ql_started("r1", "c1")),
                ("10:30", stopped("r1", StopReason::TriggerOk)),
                ("10:30", ql_stopped("r1", "c1")),
            ],
            dns: Some(GROUP),
            now: "10:31",
            then: vec![],
        },
        Case {
            name: "a reused configuration is never stopped: it is not ours",
            given: vec![
                ("10:00", started("r1")),
                ("10:00", ql_reused("r1")),
                ("10:30", stopped("r1", StopReason::TriggerOk)),
            ],
            dns: Some(GROUP),
            now: "10:31",
            then: vec![],
        },
    ];
    for case in cases {
        let state = fold(case.given);
        let got = shorts(&due(&state, case.dns, t(case.now)));
        assert_eq!(got, case.then, "{}", case.name);
    }
}

#[test]
fn every_configuration_of_ours_aws_holds_and_what_reconciling_decides() {
    struct Case {
        name: &'static str,
        given: Vec<(&'static str, Event)>,
        aws: Vec<TaggedQueryLogConfig>,
        now: &'static str,
        then: Vec<String>,
    }
    let cases = [
        Case {
            name: "the active recording's own, known to the log: kept",
            given: vec![("10:00", started("r1")), ("10:00", ql_started("r1", "c1"))],
            aws: vec![tagged("c1", "r1", Some("11:00"), &["vpc-1"])],
            now: "10:10",
            then: vec![],
        },
        Case {
            name: "created and associated, the run killed before its event: adopted",
            given: vec![("10:00", started("r1"))],
            aws: vec![tagged("c1", "r1", Some("11:00"), &["vpc-1"])],
            now: "10:01",
            then: vec!["Adopt r1 c1 vpc-1".into()],
        },
        Case {
            name: "created, not associated yet: left to the start's retry",
            given: vec![("10:00", started("r1"))],
            aws: vec![tagged("c1", "r1", Some("11:00"), &[])],
            now: "10:01",
            then: vec![],
        },
        Case {
            name: "its recording stopped (the stop's calls failed): deleted",
            given: vec![
                ("10:00", started("r1")),
                ("10:00", ql_started("r1", "c1")),
                ("10:30", stopped("r1", StopReason::TriggerOk)),
            ],
            aws: vec![tagged("c1", "r1", Some("11:00"), &["vpc-1"])],
            now: "10:31",
            then: vec![r#"Delete r1 c1 ["vpc-1"]"#.into()],
        },
        Case {
            name: "unknown to the log, deadline passed: deleted",
            given: vec![],
            aws: vec![tagged("c9", "r9", Some("09:00"), &["vpc-1"])],
            now: "10:00",
            then: vec![r#"Delete r9 c9 ["vpc-1"]"#.into()],
        },
        Case {
            name: "unknown to the log, deadline ahead, no flow logs of its recording: deleted",
            given: vec![],
            aws: vec![tagged("c9", "r9", Some("11:00"), &["vpc-1"])],
            now: "10:00",
            then: vec![r#"Delete r9 c9 ["vpc-1"]"#.into()],
        },
        Case {
            name: "tags unreadable: deleted",
            given: vec![],
            aws: vec![tagged("c9", "r9", None, &[])],
            now: "10:00",
            then: vec!["Delete r9 c9 []".into()],
        },
        Case {
            name: "a second configuration of an active recording that logs through another: deleted",
            given: vec![("10:00", started("r1")), ("10:00", ql_started("r1", "c1"))],
            aws: vec![
                tagged("c1", "r1", Some("11:00"), &["vpc-1"]),
                tagged("c2", "r1", Some("11:00"), &["vpc-1"]),
            ],
            now: "10:10",
            then: vec![r#"Delete r1 c2 ["vpc-1"]"#.into()],
        },
        Case {
            name: "an active recording past its deadline (its stop failed), unknown config: deleted",
            given: vec![("10:00", started("r1"))],
            aws: vec![tagged("c1", "r1", Some("11:00"), &["vpc-1"])],
            now: "11:05",
            then: vec![r#"Delete r1 c1 ["vpc-1"]"#.into()],
        },
    ];
    for case in cases {
        let state = fold(case.given);
        let got = shorts(&reconcile_query_logs(&state, &case.aws, t(case.now)));
        assert_eq!(got, case.then, "{}", case.name);
    }
}

#[test]
fn only_a_vpcs_own_logging_to_a_log_group_is_reused() {
    let existing = |ours: bool, arn: &str| VpcQueryLogging {
        config_id: "rqlc-1".into(),
        destination_arn: arn.into(),
        ours,
    };
    let group = "arn:aws:logs:eu-west-1:123456789012:log-group:/audit/dns";
    assert_eq!(
        reusable(&[existing(false, group)]),
        Some(("rqlc-1".into(), "/audit/dns".into()))
    );
    assert_eq!(reusable(&[existing(true, group)]), None, "ours");
    assert_eq!(
        reusable(&[existing(false, "arn:aws:s3:::audit-bucket")]),
        None,
        "an S3 bucket cannot be read back"
    );
    assert_eq!(
        reusable(&[existing(
            false,
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/dns"
        )]),
        None
    );
    assert_eq!(
        log_group_of("arn:aws:logs:eu-west-1:123456789012:log-group:/a/b:*").as_deref(),
        Some("/a/b")
    );
}

#[test]
fn the_query_logging_events_fold_into_the_recording() {
    let state = fold(vec![
        ("10:00", started("r1")),
        ("10:00", ql_started("r1", "c1")),
        ("10:30", stopped("r1", StopReason::TriggerOk)),
    ]);
    let q = state
        .recording("r1")
        .and_then(|r| r.query_logging.clone())
        .expect("query logging noted");
    assert_eq!((q.vpc_id.as_str(), q.config_id.as_str()), ("vpc-1", "c1"));
    assert!(q.ours_running());
    let state = fold(vec![
        ("10:00", started("r1")),
        ("10:00", ql_started("r1", "c1")),
        ("10:30", stopped("r1", StopReason::TriggerOk)),
        (
            "10:31",
            Event::StrayQueryLoggingDeleted {
                recording_id: "r1".into(),
                config_id: "c1".into(),
                vpc_ids: vec!["vpc-1".into()],
            },
        ),
    ]);
    assert!(
        !state
            .recording("r1")
            .and_then(|r| r.query_logging.as_ref())
            .is_some_and(|q| q.ours_running())
    );
}
