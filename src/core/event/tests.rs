//! The event log's line format: every event round-trips, old lines read with their defaults, decode
//! errors say what is wrong, and each event reads as a sentence.

use super::*;
use crate::core::estimate::{Shortened, StartEstimate};
use crate::core::testkit::at;

fn one_of_each() -> Vec<Event> {
    vec![
        Event::RecordingStarted {
            recording_id: "rec-01234567-20250101T104100Z".into(),
            nat_gateway_id: "nat-01234567".into(),
            enis: vec!["eni-1".into(), "eni-2".into()],
            flow_log_ids: vec!["fl-1".into(), "fl-2".into()],
            nat_ips: vec!["10.0.0.220".parse().unwrap()],
            log_group: "/g".into(),
            log_format: "${srcaddr}".into(),
            max_aggregation_interval: 60,
            deadline: at("2025-01-01T10:56:00Z"),
            cause: StartCause::Trigger {
                evidence: "1 of 3".into(),
            },
            s3_destination: None,
            estimate: None,
        },
        Event::RecordingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            reason: StopReason::HardCap,
            deleted_flow_log_ids: vec!["fl-1".into()],
        },
        Event::RecordingFailed {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            error: "ec2:CreateFlowLogs: AccessDenied".into(),
            created_flow_log_ids: vec![],
        },
        Event::TriggerChanged {
            nat_gateway_id: "nat-01234567".into(),
            from: TriggerState::InsufficientData,
            to: TriggerState::Breaching,
            evidence: "e".into(),
        },
        Event::BudgetExhausted {
            nat_gateway_id: "nat-01234567".into(),
            used: 1,
            max: 1,
            window_seconds: 0,
        },
        Event::BudgetReset {
            nat_gateway_id: "nat-01234567".into(),
        },
        Event::BaselineRead {
            nat_gateway_id: "nat-01234567".into(),
            days: 14,
            hourly_p95: (0..168u64)
                .map(|h| (h % 24 != 3).then_some(h * 1_000))
                .collect(),
        },
        Event::FlowLogsAdopted {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            flow_log_ids: vec!["fl-9".into()],
            enis: vec!["eni-9".into()],
            deadline: at("2025-01-01T11:00:00Z"),
            log_group: Some("/g".into()),
            log_format: None,
        },
        Event::StrayFlowLogsDeleted {
            recording_id: "r".into(),
            flow_log_ids: vec!["fl-8".into()],
        },
        Event::NatUnavailable {
            nat_gateway_id: "nat-01234567".into(),
            state: "pending".into(),
        },
        Event::FlowLogDeliveryFailed {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            flow_log_id: "fl-1".into(),
            eni: "eni-1".into(),
            message: "Access error".into(),
        },
        Event::Exported {
            recording_id: "r".into(),
            files: vec!["a.log".into()],
            records: 10,
            bytes: 2000,
        },
        Event::Reported {
            recording_id: "r".into(),
            dir: "out/r".into(),
        },
        Event::Notified {
            recording_id: "r".into(),
            message_id: "m-1".into(),
        },
        Event::NotifyAttempted {
            recording_id: "r".into(),
        },
        Event::NotifyFailed {
            recording_id: "r".into(),
            error: "sns:Publish: Throttling: Rate exceeded".into(),
        },
        Event::QueryLoggingStarted {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            vpc_id: "vpc-1".into(),
            config_id: "rslvr-qlc-1".into(),
            log_group: "/nat-flowrec/dns-queries".into(),
        },
        Event::QueryLoggingReused {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            vpc_id: "vpc-1".into(),
            config_id: "rslvr-qlc-2".into(),
            log_group: "/audit/dns".into(),
        },
        Event::QueryLoggingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            config_id: "rslvr-qlc-1".into(),
        },
        Event::StrayQueryLoggingDeleted {
            recording_id: "r".into(),
            config_id: "rslvr-qlc-3".into(),
            vpc_ids: vec!["vpc-1".into()],
        },
        Event::RecordingStarted {
            recording_id: "m".into(),
            nat_gateway_id: "nat-01234567".into(),
            enis: vec![],
            flow_log_ids: vec![],
            nat_ips: vec![],
            log_group: "/g".into(),
            log_format: "${srcaddr}".into(),
            max_aggregation_interval: 600,
            deadline: at("2025-01-01T10:56:00Z"),
            cause: StartCause::Manual { forced: true },
            s3_destination: None,
            estimate: Some(StartEstimate {
                raw_usd_per_minute: 0.04,
                calibration: 1.25,
                seconds: 420,
                usd: 0.35,
                shortened: Some(Shortened {
                    from_seconds: 900,
                    max_cost_usd: 0.5,
                }),
            }),
        },
        Event::IngestionMeasured {
            recording_id: "rec-01234567-20250101T104100Z".into(),
            nat_gateway_id: "nat-01234567".into(),
            bytes: 820_000_000,
            cost_usd: 0.41,
        },
        Event::MonthlyCostCapReached {
            nat_gateway_id: "nat-01234567".into(),
            month: "2025-01".into(),
            spent_usd: 1_180.5,
            max_usd: 1_000.0,
        },
    ]
}

#[test]
fn a_baseline_read_names_its_busiest_hour() {
    let read = Event::BaselineRead {
        nat_gateway_id: "nat-01234567".into(),
        days: 14,
        hourly_p95: (0..168u64)
            .map(|h| Some(if h == 57 { 9_000 } else { 10 }))
            .collect(),
    };
    assert_eq!(
        read.to_string(),
        "nat-01234567: baseline read: the p95 of each hour of the week over 14 days, busiest Wed 09:00Z (9,000 in the hour)"
    );
}

#[test]
fn every_event_round_trips_through_a_line() {
    for (i, event) in one_of_each().into_iter().enumerate() {
        let envelope = EventEnvelope::new(i as u64 + 1, at("2025-01-01T10:41:07Z"), event);
        let line = envelope.to_line().unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(decode_line(&line).unwrap(), envelope, "{line}");
    }
}

#[test]
fn the_envelope_is_flat_with_a_type() {
    let envelope = EventEnvelope::new(
        7,
        at("2025-01-01T10:41:00Z"),
        Event::BudgetReset {
            nat_gateway_id: "nat-01234567".into(),
        },
    );
    assert_eq!(
        envelope.to_line().unwrap(),
        r#"{"v":1,"seq":7,"at":"2025-01-01T10:41:00Z","type":"BudgetReset","nat_gateway_id":"nat-01234567"}"#
    );
    let stopped = EventEnvelope::new(
        8,
        at("2025-01-01T10:41:00Z"),
        Event::RecordingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "n".into(),
            reason: StopReason::TriggerOk,
            deleted_flow_log_ids: vec![],
        },
    );
    assert!(
        stopped
            .to_line()
            .unwrap()
            .contains(r#""reason":"TriggerOk""#)
    );
}

#[test]
fn kind_matches_the_serialized_type() {
    for event in one_of_each() {
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(value["type"], event.kind());
    }
}

#[test]
fn decode_errors_say_what_is_wrong() {
    struct Case {
        line: &'static str,
        want: DecodeError,
    }
    let cases = [
        Case {
            line: "{\"v\":1,",
            want: DecodeError::Json(String::new()),
        },
        Case {
            line: r#"{"seq":1,"at":"2025-01-01T00:00:00Z","type":"BudgetReset","nat_gateway_id":"n"}"#,
            want: DecodeError::NoVersion,
        },
        Case {
            line: r#"{"v":2,"seq":1,"at":"2025-01-01T00:00:00Z","type":"BudgetReset","nat_gateway_id":"n"}"#,
            want: DecodeError::TooNew { found: 2 },
        },
        Case {
            line: r#"{"v":0,"seq":1,"at":"2025-01-01T00:00:00Z","type":"BudgetReset","nat_gateway_id":"n"}"#,
            want: DecodeError::Unknown { found: 0 },
        },
        Case {
            line: r#"{"v":1,"seq":1,"at":"2025-01-01T00:00:00Z","type":"RecordingExploded"}"#,
            want: DecodeError::Shape(String::new()),
        },
        Case {
            line: r#"{"v":1,"seq":1,"at":"yesterday","type":"BudgetReset","nat_gateway_id":"n"}"#,
            want: DecodeError::Shape(String::new()),
        },
        Case {
            line: r#"{"v":1,"seq":1,"at":"2025-01-01T00:00:00Z","type":"BudgetReset"}"#,
            want: DecodeError::Shape(String::new()),
        },
    ];
    for case in cases {
        let got = decode_line(case.line).unwrap_err();
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&case.want),
            "{}: {got}",
            case.line
        );
    }
    let unknown =
        decode_line(r#"{"v":1,"seq":1,"at":"2025-01-01T00:00:00Z","type":"RecordingExploded"}"#)
            .unwrap_err();
    assert!(
        unknown.to_string().contains("RecordingExploded"),
        "{unknown}"
    );
    let newer = decode_line(
        r#"{"v":2,"seq":1,"at":"2025-01-01T00:00:00Z","type":"BudgetReset","nat_gateway_id":"n"}"#,
    )
    .unwrap_err();
    assert!(newer.to_string().contains("upgrade nat-flowrec"), "{newer}");
}

#[test]
fn fields_added_later_default_when_absent() {
    let line = r#"{"v":1,"seq":3,"at":"2025-01-01T00:00:00Z","type":"RecordingStopped","recording_id":"r","nat_gateway_id":"n","reason":"Manual"}"#;
    let envelope = decode_line(line).unwrap();
    assert_eq!(
        envelope.event,
        Event::RecordingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "n".into(),
            reason: StopReason::Manual,
            deleted_flow_log_ids: vec![],
        }
    );
}

#[test]
fn costs_read_in_dollars_and_cents() {
    let all = one_of_each();
    let [.., measured, cap] = all.as_slice() else {
        unreachable!()
    };
    assert_eq!(
        measured.to_string(),
        "nat-01234567: recording rec-01234567-20250101T104100Z cost $0.41 in CloudWatch Logs ingestion (820.00 MB)"
    );
    assert!(
        cap.to_string()
            .contains("cost $1,180.50 of recording.max_cost_usd_per_month $1,000.00"),
        "{cap}"
    );
    assert_eq!(
        StopReason::CostCap.to_string(),
        "cost cap (recording.max_cost_usd) reached"
    );
}

#[test]
fn every_event_reads_as_a_sentence_naming_its_subject() {
    for event in one_of_each() {
        let text = event.to_string();
        if let Some(nat) = event.nat_gateway_id() {
            assert!(text.starts_with(nat), "{text}");
        }
        if let Some(id) = event.recording_id() {
            assert!(text.contains(id), "{text}");
        }
    }
    let started = &one_of_each()[0];
    assert_eq!(
        started.to_string(),
        "nat-01234567: recording rec-01234567-20250101T104100Z started on 2 network interfaces until \
         2025-01-01T10:56:00Z (trigger: 1 of 3)"
    );
}

#[test]
fn nat_and_recording_accessors() {
    for event in one_of_each() {
        let value = serde_json::to_value(&event).unwrap();
        assert_eq!(
            event.nat_gateway_id(),
            value.get("nat_gateway_id").and_then(|v| v.as_str())
        );
        assert_eq!(
            event.recording_id(),
            value.get("recording_id").and_then(|v| v.as_str())
        );
    }
}
