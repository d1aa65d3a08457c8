//! The recording guards: deadlines within the hard cap, the stops that are due, the budget in
//! words and recording ids that never repeat.

use super::*;
use crate::core::testkit::{NAT, at, failed, fold, started};

fn policy(recording: u64, max: u64) -> Policy {
    Policy {
        recording_seconds: recording,
        max_recording_seconds: max,
        ..Policy::default()
    }
}

#[test]
fn deadlines() {
    struct Case {
        recording: u64,
        max: u64,
        requested: Option<u64>,
        want: &'static str,
    }
    for c in [
        Case {
            recording: 900,
            max: 21_600,
            requested: None,
            want: "10:15:00",
        },
        Case {
            recording: 0,
            max: 3_600,
            requested: None,
            want: "11:00:00",
        },
        Case {
            recording: 900,
            max: 600,
            requested: None,
            want: "10:10:00",
        },
        Case {
            recording: 900,
            max: 21_600,
            requested: Some(120),
            want: "10:02:00",
        },
        Case {
            recording: 900,
            max: 600,
            requested: Some(7_200),
            want: "10:10:00",
        },
    ] {
        assert_eq!(
            policy(c.recording, c.max).deadline(at("10:00:00"), c.requested),
            at(c.want),
            "recording {} max {} requested {:?}",
            c.recording,
            c.max,
            c.requested
        );
    }
}

#[test]
fn due_stops() {
    let active = |started: &str, deadline: &str| ActiveRecording {
        recording_id: "r".into(),
        started_at: at(started),
        deadline: at(deadline),
        flow_log_ids: vec![],
        enis: vec![],
        stops_when_ok: true,
    };
    let p = policy(900, 3_600);
    for (a, now, want) in [
        (active("10:00:00", "10:15:00"), "10:14:59", None),
        (
            active("10:00:00", "10:15:00"),
            "10:15:00",
            Some(StopReason::Deadline),
        ),
        (
            active("10:00:00", "10:15:00"),
            "12:00:00",
            Some(StopReason::Deadline),
        ),
        // A deadline beyond the cap (an adopted recording, or a cap lowered since).
        (active("10:00:00", "13:00:00"), "10:59:59", None),
        (
            active("10:00:00", "13:00:00"),
            "11:00:00",
            Some(StopReason::HardCap),
        ),
        (
            active("10:00:00", "13:00:00"),
            "13:30:00",
            Some(StopReason::HardCap),
        ),
        (
            active("10:00:00", "11:00:00"),
            "11:00:00",
            Some(StopReason::Deadline),
        ),
    ] {
        assert_eq!(p.due_stop(&a, at(now)), want, "{a:?} at {now}");
    }
}

#[test]
fn budget_display() {
    let b = |used, max, window_seconds| Budget {
        used,
        max,
        window_seconds,
    };
    assert_eq!(b(3, 0, 0).to_string(), "3 recordings, no limit");
    assert_eq!(
        b(1, 1, 0).to_string(),
        "1 of 1 recordings since the last budget reset"
    );
    assert_eq!(
        b(2, 3, 86_400).to_string(),
        "2 of 3 recordings in the last 1 day(s)"
    );
    assert!(b(0, 0, 0).allows_another());
    assert!(b(2, 3, 0).allows_another());
    assert!(!b(3, 3, 0).allows_another());
    assert!(!b(4, 3, 0).allows_another());
}

#[test]
fn recording_ids_are_readable_and_never_repeat() {
    let now = at("10:41:07");
    let empty = State::default();
    assert_eq!(
        recording_id(&empty, "nat-0123456789abcdef0", now),
        "rec-0123456789abcdef0-20250101T104107Z"
    );
    let state = fold(vec![
        ("10:41:07", started("rec-01234567-20250101T104107Z")),
        ("10:41:07", failed("rec-01234567-20250101T104107Z-2", "e")),
    ]);
    assert_eq!(
        recording_id(&state, NAT, now),
        "rec-01234567-20250101T104107Z-3"
    );
    assert!(recording_id(&state, NAT, now).len() <= 64);
}

#[test]
fn the_start_is_estimated_at_the_delivery_price_and_measured_at_the_ingestion_price() {
    // S3 delivery at $0.25 per GB, a DNS group ingested at $0.50: the estimate takes the first,
    // what IncomingBytes measured the second.
    let to_s3 = Policy {
        ingestion_price_per_gb: 0.5,
        delivery_price_per_gb: 0.25,
        ..policy(900, 3_600)
    };
    let busy = Some(crate::core::estimate::Connections {
        active: 350_000.0,
        established_per_minute: 0.0,
    });
    let (_, estimate) = to_s3.planned_start(at("10:00"), None, busy, 1.0);
    let at_group_price = Policy {
        delivery_price_per_gb: 0.5,
        ..to_s3
    };
    let (_, doubled) = at_group_price.planned_start(at("10:00"), None, busy, 1.0);
    let (estimate, doubled) = (estimate.unwrap(), doubled.unwrap());
    assert!(estimate.raw_usd_per_minute > 0.0);
    assert!((doubled.raw_usd_per_minute - 2.0 * estimate.raw_usd_per_minute).abs() < 1e-12);
    assert_eq!(to_s3.ingestion_cost_usd(2_000_000_000), 1.0);
}
