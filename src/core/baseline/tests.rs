//! Baseline mode as given / when / then: a NAT gateway's normal per hour of the week, when it
//! is read again, and the verdict on either side of an hour that changes what is normal.

use chrono::TimeDelta;

use super::*;
use crate::core::decide::{Observation, decide};
use crate::core::event::Event;
use crate::core::plan::Decision;
use crate::core::policy::Policy;
use crate::core::rule::NatMetric;
use crate::core::state::State;
use crate::core::testkit::{NAT, at, fold};
use crate::core::trigger::{TriggerState, evaluate_with};

/// Baseline mode with the default factor 3, a 1 MB floor, 1 breaching minute of the last 3.
fn rule(datapoints_to_alarm: u32) -> TriggerRule {
    TriggerRule {
        metrics: vec![NatMetric::BytesInFromSource],
        threshold_bytes: 1_000_000,
        datapoints_to_alarm,
        baseline: Some(BaselineRule {
            factor: 3.0,
            days: 14,
        }),
        ..TriggerRule::default()
    }
}

/// The tests' day (2025-01-01) is a Wednesday: 09:00 is slot 57, 10:00 slot 58.
const WED_09: usize = 2 * 24 + 9;
const WED_10: usize = WED_09 + 1;

/// Busy at Wednesday 09:00 (6 GB in the hour, 100 MB a minute), quiet at 10:00 (600 MB in the
/// hour, 10 MB a minute), no data anywhere else.
fn baseline(read_at: &str) -> Baseline {
    let mut hourly_p95 = vec![None; HOURS_OF_WEEK];
    hourly_p95[WED_09] = Some(6_000_000_000);
    hourly_p95[WED_10] = Some(600_000_000);
    Baseline {
        read_at: at(read_at),
        days: 14,
        hourly_p95,
    }
}

/// One minute's Sum at each of `minutes` (`"09:58"`), 200 MB each.
fn minutes(minutes: &[&str]) -> Vec<MetricSeries> {
    vec![MetricSeries {
        nat_gateway_id: NAT.into(),
        log_group: None,
        metric: "BytesInFromSource".into(),
        points: minutes.iter().map(|m| (at(m), 2e8)).collect(),
    }]
}

#[test]
fn hours_of_the_week_start_on_monday_at_midnight_utc() {
    assert_eq!(hour_of_week(at("2024-12-30T00:30:00Z")), 0);
    assert_eq!(hour_of_week(at("09:59")), WED_09);
    assert_eq!(hour_of_week(at("2025-01-05T23:00:00Z")), HOURS_OF_WEEK - 1);
    assert_eq!(hour_of_week_in_words(WED_09), "Wed 09:00Z");
}

#[test]
fn a_minutes_baseline_is_its_hours_p95_over_sixty() {
    let b = baseline("08:00");
    assert_eq!(b.for_period(at("09:17"), 60), Some(1e8));
    assert_eq!(b.for_period(at("10:00"), 300), Some(5e7));
    assert_eq!(b.for_period(at("11:00"), 60), None);
}

// given busy 09:00 and quiet 10:00, when the same 200 MB minutes straddle 10:00, then only the
// minute after the hour changes breaches.
#[test]
fn the_same_traffic_breaches_after_the_hour_of_week_changes_and_not_before() {
    let b = baseline("08:00");
    let series = minutes(&["09:58", "09:59", "10:00"]);
    let prev = TriggerState::Ok;

    // 09:58 and 09:59: 200 MB < 3 x 100 MB; 10:00: 200 MB > 3 x 10 MB.
    let v = evaluate_with(&series, NAT, &rule(1), Some(&b), prev, at("10:01:30"));
    assert_eq!(v.state, TriggerState::Breaching, "{}", v.evidence);
    assert!(
        v.evidence.contains("1 of the last 3 minutes"),
        "{}",
        v.evidence
    );
    let v = evaluate_with(&series, NAT, &rule(2), Some(&b), prev, at("10:01:30"));
    assert_eq!(v.state, TriggerState::Ok, "{}", v.evidence);

    // Within the busy hour alone: no breach.
    let v = evaluate_with(&series, NAT, &rule(1), Some(&b), prev, at("10:00:30"));
    assert_eq!(v.state, TriggerState::Ok, "{}", v.evidence);
    assert!(
        v.evidence
            .contains("above 3 x the baseline and 1 MB a minute"),
        "{}",
        v.evidence
    );
}

#[test]
fn the_floor_holds_where_the_baseline_is_tiny_or_unknown() {
    let mut b = baseline("08:00");
    b.hourly_p95[WED_10] = Some(60);
    let small = vec![MetricSeries {
        points: vec![(at("10:00"), 500_000.0)],
        ..minutes(&[]).remove(0)
    }];
    // 500 kB is 500 times the baseline of 10:00 but under the 1 MB floor.
    let v = evaluate_with(
        &small,
        NAT,
        &rule(1),
        Some(&b),
        TriggerState::Ok,
        at("10:01:30"),
    );
    assert_eq!(v.state, TriggerState::Ok, "{}", v.evidence);
    // 11:00 has no baseline: 200 MB is above the floor alone.
    let series = minutes(&["11:00"]);
    let v = evaluate_with(
        &series,
        NAT,
        &rule(1),
        Some(&b),
        TriggerState::Ok,
        at("11:01:30"),
    );
    assert_eq!(v.state, TriggerState::Breaching, "{}", v.evidence);
    // Not read yet: the floor alone, and the evidence says so.
    let v = evaluate_with(
        &series,
        NAT,
        &rule(1),
        None,
        TriggerState::Ok,
        at("11:01:30"),
    );
    assert_eq!(v.state, TriggerState::Breaching);
    assert!(
        v.evidence.contains("no baseline read yet"),
        "{}",
        v.evidence
    );
}

#[test]
fn the_baseline_is_read_at_most_once_a_day() {
    let never = fold(vec![]);
    assert!(refresh_due(
        never.nat(NAT).and_then(|n| n.baseline.as_ref()),
        at("10:00")
    ));

    let read = Event::BaselineRead {
        nat_gateway_id: NAT.into(),
        days: 14,
        hourly_p95: baseline("08:00").hourly_p95,
    };
    let state = fold(vec![("08:00", read)]);
    let kept = state.nat(NAT).and_then(|n| n.baseline.as_ref());
    assert_eq!(kept, Some(&baseline("08:00")));
    assert!(!refresh_due(kept, at("08:01")));
    assert!(!refresh_due(kept, at("23:59")));
    assert!(!refresh_due(kept, at("2025-01-02T07:59:59Z")));
    assert!(refresh_due(kept, at("2025-01-02T08:00:00Z")));
}

// given no baseline in the log, when a tick reads one and its verdict breaches, then the log
// keeps the baseline before the trigger change, and a replay of that log evaluates the same
// series to the same verdict without reading again.
#[test]
fn a_replay_of_the_log_decides_the_same() {
    let fresh = baseline("10:01:30");
    let series = minutes(&["09:58", "09:59", "10:00"]);
    let now = at("10:01:30");
    let verdict = evaluate_with(
        &series,
        NAT,
        &rule(1),
        Some(&fresh),
        TriggerState::InsufficientData,
        now,
    );
    let obs = Observation {
        nat_gateway_id: NAT.into(),
        verdict: verdict.clone(),
        nat_state: "available".into(),
        ingested_bytes: None,
        baseline_read: Some(fresh.clone()),
        connections: None,
    };
    let policy = Policy::default();
    let decisions = decide(&State::default(), &[obs], &policy, now);
    let kinds: Vec<&str> = decisions
        .iter()
        .map(|d| match d {
            Decision::Record(e) => e.kind(),
            Decision::Start(_) => "Start",
            Decision::Stop(_) => "Stop",
            Decision::DeleteStray(_) => "DeleteStray",
            Decision::StartQueryLogging(_)
            | Decision::StopQueryLogging(_)
            | Decision::DeleteStrayQueryLogging(_) => "QueryLogging",
        })
        .collect();
    assert_eq!(kinds, ["BaselineRead", "TriggerChanged", "Start"]);

    let Decision::Record(read) = &decisions[0] else {
        unreachable!()
    };
    let replayed = fold(vec![("10:01:30", read.clone())]);
    let kept = replayed.nat(NAT).and_then(|n| n.baseline.as_ref());
    assert_eq!(kept, Some(&fresh));
    assert!(!refresh_due(kept, now + TimeDelta::minutes(1)));
    let again = evaluate_with(
        &series,
        NAT,
        &rule(1),
        kept,
        TriggerState::InsufficientData,
        now,
    );
    assert_eq!(again, verdict);
}

#[test]
fn the_baseline_is_the_p95_of_each_hour_of_the_week_over_the_days() {
    let now = at("2025-01-15T00:20:00Z");
    let start = at("2025-01-01T00:00:00Z");
    // 14 days of hourly Sums: Wednesdays 09:00 are 6 GB and 8 GB, every other hour 1 MB.
    let points: Vec<(DateTime<Utc>, f64)> = (0..14 * 24)
        .map(|h| {
            let t = start + TimeDelta::hours(h);
            let v = match (hour_of_week(t), h / (7 * 24)) {
                (WED_09, 0) => 6e9,
                (WED_09, _) => 8e9,
                _ => 1e6,
            };
            (t, v)
        })
        .collect();
    let series = vec![MetricSeries {
        points,
        ..minutes(&[]).remove(0)
    }];
    let b = baseline_from(&series, NAT, &rule(1), 14, now);
    assert_eq!(b.read_at, now);
    assert_eq!(b.hourly_p95.len(), HOURS_OF_WEEK);
    assert_eq!(b.hourly_p95[WED_09], Some(8_000_000_000));
    assert_eq!(b.hourly_p95[WED_10], Some(1_000_000));
    assert_eq!(busiest_hour(&b.hourly_p95), Some((WED_09, 8_000_000_000)));

    let q = baseline_query(&[(NAT, &rule(1))], now);
    assert_eq!(q.period_seconds, 3600);
    assert_eq!((q.start, q.end), (start, at("2025-01-15T00:00:00Z")));
    assert_eq!(q.metrics, ["BytesInFromSource"]);
}
