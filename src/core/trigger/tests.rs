//! The trigger: the window of complete periods, M of N with each missing-data treatment, the
//! metrics combined, the evidence in words and the alarm mode.

use super::*;
use crate::core::rule::NatMetric::{BytesInFromDestination as M2, BytesInFromSource as M1};
use crate::core::testkit::{NAT, at};
use TreatMissingData::{Breaching as Bad, Ignore as Keep, Missing as Skip, NotBreaching as Good};
use TriggerState::{Breaching, InsufficientData as Insufficient, Ok};
use chrono::TimeDelta;

const T: u64 = 100_000_000;
/// A value above the threshold, and one below.
const HI: Option<f64> = Some(2.3e8);
const LO: Option<f64> = Some(1.0e6);
const NO: Option<f64> = None;

/// The clock of most cases: mid-way through the 10:43 minute, so 10:40, 10:41 and 10:42 are
/// the three complete periods and 10:43 is still filling.
fn now() -> DateTime<Utc> {
    at("2025-01-01T10:43:30Z")
}

fn cfg(n: u32, m: u32, missing: TreatMissingData) -> TriggerRule {
    TriggerRule {
        evaluation_periods: n,
        datapoints_to_alarm: m,
        treat_missing_data: missing,
        ..TriggerRule::default()
    }
}

/// One series whose i-th value sits in the i-th evaluated period (oldest first).
fn series(cfg: &TriggerRule, metric: NatMetric, values: &[Option<f64>]) -> MetricSeries {
    let (start, _) = query_window(cfg, now());
    let period = i64::from(cfg.period_seconds);
    MetricSeries {
        nat_gateway_id: NAT.to_string(),
        log_group: None,
        metric: metric.as_str().to_string(),
        points: values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (start + TimeDelta::seconds(period * i as i64), v)))
            .collect(),
    }
}

#[test]
fn window_is_the_last_n_complete_periods() {
    struct Case {
        now: &'static str,
        period: u32,
        n: u32,
        start: &'static str,
        end: &'static str,
    }
    for c in [
        Case {
            now: "2025-01-01T10:43:30Z",
            period: 60,
            n: 3,
            start: "2025-01-01T10:40:00Z",
            end: "2025-01-01T10:43:00Z",
        },
        Case {
            now: "2025-01-01T10:43:00Z",
            period: 60,
            n: 3,
            start: "2025-01-01T10:40:00Z",
            end: "2025-01-01T10:43:00Z",
        },
        Case {
            now: "2025-01-01T10:42:59Z",
            period: 60,
            n: 1,
            start: "2025-01-01T10:41:00Z",
            end: "2025-01-01T10:42:00Z",
        },
        Case {
            now: "2025-01-01T10:41:30Z",
            period: 300,
            n: 3,
            start: "2025-01-01T10:25:00Z",
            end: "2025-01-01T10:40:00Z",
        },
        Case {
            now: "2025-01-01T00:00:10Z",
            period: 3600,
            n: 2,
            start: "2024-12-31T22:00:00Z",
            end: "2025-01-01T00:00:00Z",
        },
    ] {
        let cfg = TriggerRule {
            period_seconds: c.period,
            evaluation_periods: c.n,
            ..TriggerRule::default()
        };
        assert_eq!(
            query_window(&cfg, at(c.now)),
            (at(c.start), at(c.end)),
            "now {}",
            c.now
        );
    }
}

#[test]
fn metric_query_asks_for_the_window_and_the_chosen_metrics() {
    let cfg = TriggerRule::default();
    let q = metric_query(&[(NAT, &cfg)], now());
    assert_eq!(
        q.metrics,
        vec!["BytesInFromSource", "BytesInFromDestination"]
    );
    assert_eq!(q.statistic, "Sum");
    assert_eq!(q.period_seconds, 60);
    assert_eq!((q.start, q.end), query_window(&cfg, now()));
    assert_eq!(q.nat_gateway_ids, vec![NAT]);
}

/// A NAT gateway with its own metrics and a 5-minute period shares the one query: the
/// union of metrics and windows, at a period that divides both rules'.
#[test]
fn one_query_serves_nat_gateways_with_their_own_rules() {
    let default = TriggerRule::default();
    let own = TriggerRule {
        metrics: vec![NatMetric::BytesOutToDestination],
        period_seconds: 300,
        evaluation_periods: 2,
        threshold_bytes: 1_000_000_000,
        ..TriggerRule::default()
    };
    let q = metric_query(&[(NAT, &default), ("nat-89abcdef", &own)], now());
    assert_eq!(
        q.metrics,
        vec![
            "BytesInFromSource",
            "BytesInFromDestination",
            "BytesOutToDestination"
        ]
    );
    assert_eq!(q.period_seconds, 60);
    assert_eq!(q.nat_gateway_ids, vec![NAT, "nat-89abcdef"]);
    // Each NAT gateway is asked only for its own metrics.
    assert!(q.asks(NAT, "BytesInFromSource"));
    assert!(!q.asks(NAT, "BytesOutToDestination"));
    assert!(q.asks("nat-89abcdef", "BytesOutToDestination"));
    assert!(!q.asks("nat-89abcdef", "BytesInFromSource"));
    // 10:30-10:40 for the 5-minute rule, 10:40-10:43 for the default one.
    assert_eq!(
        (q.start, q.end),
        (at("2025-01-01T10:30:00Z"), at("2025-01-01T10:43:00Z"))
    );

    // 150 MB a minute: above the default rule's 100 MB a minute; 750 MB per 5 minutes stays
    // below the other rule's 1 GB (and its BytesInFromSource is not its metric).
    let minutes = |nat: &str, metric: NatMetric, per_minute: f64| MetricSeries {
        nat_gateway_id: nat.to_string(),
        log_group: None,
        metric: metric.as_str().to_string(),
        points: (0..13)
            .map(|i| (q.start + TimeDelta::minutes(i), per_minute))
            .collect(),
    };
    let series = vec![
        minutes(NAT, NatMetric::BytesInFromSource, 1.5e8),
        minutes("nat-89abcdef", NatMetric::BytesInFromSource, 1.5e8),
        minutes("nat-89abcdef", NatMetric::BytesOutToDestination, 1.5e8),
    ];
    let first = evaluate(&series, NAT, &default, Insufficient, now());
    let second = evaluate(&series, "nat-89abcdef", &own, Insufficient, now());
    assert_eq!(first.state, Breaching, "{}", first.evidence);
    assert_eq!(second.state, Ok, "{}", second.evidence);
    assert!(
        second.evidence.contains("peak 750 MB"),
        "{}",
        second.evidence
    );
}

/// Every M-of-N shape with one metric and no missing data.
#[test]
fn m_of_n_without_missing_data() {
    struct Case {
        n: u32,
        m: u32,
        values: &'static [Option<f64>],
        want: TriggerState,
    }
    let cases = [
        Case {
            n: 1,
            m: 1,
            values: &[HI],
            want: Breaching,
        },
        Case {
            n: 1,
            m: 1,
            values: &[LO],
            want: Ok,
        },
        Case {
            n: 3,
            m: 1,
            values: &[LO, LO, LO],
            want: Ok,
        },
        Case {
            n: 3,
            m: 1,
            values: &[HI, LO, LO],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 1,
            values: &[LO, HI, LO],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 1,
            values: &[LO, LO, HI],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, LO, LO],
            want: Ok,
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, LO, HI],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 2,
            values: &[LO, HI, HI],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, HI, HI],
            want: Breaching,
        },
        Case {
            n: 3,
            m: 3,
            values: &[HI, HI, LO],
            want: Ok,
        },
        Case {
            n: 3,
            m: 3,
            values: &[LO, HI, HI],
            want: Ok,
        },
        Case {
            n: 3,
            m: 3,
            values: &[HI, HI, HI],
            want: Breaching,
        },
        Case {
            n: 5,
            m: 3,
            values: &[HI, LO, HI, LO, HI],
            want: Breaching,
        },
        Case {
            n: 5,
            m: 3,
            values: &[HI, HI, LO, LO, LO],
            want: Ok,
        },
        Case {
            n: 5,
            m: 5,
            values: &[HI, HI, HI, HI, LO],
            want: Ok,
        },
    ];
    for c in cases {
        let cfg = cfg(c.n, c.m, Skip);
        let s = series(&cfg, M1, c.values);
        let got = evaluate(&[s], NAT, &cfg, Insufficient, now());
        assert_eq!(
            got.state, c.want,
            "{} of {} {:?}: {}",
            c.m, c.n, c.values, got.evidence
        );
    }
}

/// Every missing-data treatment against the same datapoints; `-` is a period without data.
#[test]
fn missing_data_treatments() {
    struct Case {
        n: u32,
        m: u32,
        values: &'static [Option<f64>],
        /// missing, notBreaching, breaching, ignore (with previous = Ok).
        want: [TriggerState; 4],
    }
    let cases = [
        Case {
            n: 3,
            m: 1,
            values: &[NO, NO, NO],
            want: [Insufficient, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 1,
            values: &[NO, NO, HI],
            want: [Breaching, Breaching, Breaching, Breaching],
        },
        Case {
            n: 3,
            m: 1,
            values: &[LO, NO, NO],
            want: [Ok, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 1,
            values: &[NO, LO, NO],
            want: [Ok, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, NO, NO],
            want: [Ok, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, NO, HI],
            want: [Breaching, Breaching, Breaching, Breaching],
        },
        Case {
            n: 3,
            m: 2,
            values: &[HI, NO, LO],
            want: [Ok, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 2,
            values: &[LO, NO, LO],
            want: [Ok, Ok, Ok, Ok],
        },
        Case {
            n: 3,
            m: 3,
            values: &[HI, NO, HI],
            want: [Ok, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 3,
            values: &[NO, NO, NO],
            want: [Insufficient, Ok, Breaching, Ok],
        },
        Case {
            n: 3,
            m: 3,
            values: &[LO, NO, NO],
            want: [Ok, Ok, Ok, Ok],
        },
        Case {
            n: 1,
            m: 1,
            values: &[NO],
            want: [Insufficient, Ok, Breaching, Ok],
        },
        Case {
            n: 5,
            m: 2,
            values: &[NO, HI, NO, NO, NO],
            want: [Ok, Ok, Breaching, Ok],
        },
    ];
    for c in cases {
        for (treatment, want) in [Skip, Good, Bad, Keep].into_iter().zip(c.want) {
            let cfg = cfg(c.n, c.m, treatment);
            let s = series(&cfg, M1, c.values);
            let got = evaluate(&[s], NAT, &cfg, Ok, now());
            assert_eq!(
                got.state, want,
                "{} of {} {:?} treat_missing_data={treatment:?}: {}",
                c.m, c.n, c.values, got.evidence
            );
        }
    }
}

#[test]
fn ignore_keeps_whatever_state_came_before_when_nothing_has_data() {
    let cfg = cfg(3, 1, Keep);
    for previous in [Breaching, Ok, Insufficient] {
        let got = evaluate(&[], NAT, &cfg, previous, now());
        assert_eq!(got.state, previous);
        assert!(got.evidence.contains("ignore"), "{}", got.evidence);
    }
    // ... but data decides as soon as there is some.
    let s = series(&cfg, M1, &[NO, LO, NO]);
    assert_eq!(evaluate(&[s], NAT, &cfg, Breaching, now()).state, Ok);
}

#[test]
fn combine_any_and_sum() {
    struct Case {
        combine: Combine,
        m1: Option<f64>,
        m2: Option<f64>,
        want: TriggerState,
    }
    let cases = [
        // Each half the threshold plus a bit: no single metric breaches, their sum does.
        Case {
            combine: Combine::Any,
            m1: Some(6e7),
            m2: Some(6e7),
            want: Ok,
        },
        Case {
            combine: Combine::Sum,
            m1: Some(6e7),
            m2: Some(6e7),
            want: Breaching,
        },
        Case {
            combine: Combine::Any,
            m1: Some(1e6),
            m2: HI,
            want: Breaching,
        },
        Case {
            combine: Combine::Sum,
            m1: Some(1e6),
            m2: HI,
            want: Breaching,
        },
        // Exactly the threshold does not breach (GreaterThanThreshold: `m1 > T`).
        Case {
            combine: Combine::Any,
            m1: Some(T as f64),
            m2: NO,
            want: Ok,
        },
        Case {
            combine: Combine::Sum,
            m1: Some(5e7),
            m2: Some(5e7),
            want: Ok,
        },
        // One metric reporting is enough for the period to count as having data.
        Case {
            combine: Combine::Any,
            m1: NO,
            m2: HI,
            want: Breaching,
        },
        Case {
            combine: Combine::Sum,
            m1: NO,
            m2: LO,
            want: Ok,
        },
        Case {
            combine: Combine::Any,
            m1: NO,
            m2: NO,
            want: Insufficient,
        },
    ];
    for c in cases {
        let cfg = TriggerRule {
            combine: c.combine,
            ..cfg(1, 1, Skip)
        };
        let all = [series(&cfg, M1, &[c.m1]), series(&cfg, M2, &[c.m2])];
        let got = evaluate(&all, NAT, &cfg, Insufficient, now());
        assert_eq!(
            got.state, c.want,
            "{:?} {:?} {:?}: {}",
            c.combine, c.m1, c.m2, got.evidence
        );
    }
}

#[test]
fn the_still_filling_period_and_older_points_are_not_evaluated() {
    let cfg = cfg(3, 1, Skip);
    let (start, end) = query_window(&cfg, now());
    let s = MetricSeries {
        nat_gateway_id: NAT.into(),
        log_group: None,
        metric: "BytesInFromSource".into(),
        points: vec![
            (start - TimeDelta::seconds(60), 9e9),
            (start, 1.0),
            (end, 9e9),
        ],
    };
    let got = evaluate(&[s], NAT, &cfg, Insufficient, now());
    assert_eq!(got.state, Ok, "{}", got.evidence);
}

#[test]
fn other_nats_unchosen_metrics_and_bad_values_are_ignored() {
    let cfg = cfg(3, 1, Skip);
    let mut other_nat = series(&cfg, M1, &[HI, HI, HI]);
    other_nat.nat_gateway_id = "nat-89abcdef".into();
    let unchosen = series(&cfg, NatMetric::BytesOutToDestination, &[HI, HI, HI]);
    let mut unknown = series(&cfg, M1, &[HI, HI, HI]);
    unknown.metric = "ActiveConnectionCount".into();
    let nan = series(&cfg, M1, &[Some(f64::NAN), Some(f64::INFINITY), NO]);
    let got = evaluate(&[other_nat, unchosen, unknown, nan], NAT, &cfg, Ok, now());
    assert_eq!(got.state, Insufficient, "{}", got.evidence);
}

#[test]
fn points_inside_one_longer_period_are_added() {
    // Two one-minute Sums of 6e7 inside one two-minute period make 1.2e8 > 1e8.
    let cfg = TriggerRule {
        period_seconds: 120,
        ..cfg(1, 1, Skip)
    };
    let (start, _) = query_window(&cfg, now());
    let s = MetricSeries {
        nat_gateway_id: NAT.into(),
        log_group: None,
        metric: "BytesInFromSource".into(),
        points: vec![(start, 6e7), (start + TimeDelta::seconds(60), 6e7)],
    };
    assert_eq!(evaluate(&[s], NAT, &cfg, Ok, now()).state, Breaching);
}

#[test]
fn evidence_says_how_many_periods_what_threshold_and_the_peak() {
    let cfg = cfg(3, 1, Skip);
    let s = series(&cfg, M1, &[LO, HI, NO]);
    let got = evaluate(&[s], NAT, &cfg, Ok, now());
    assert_eq!(
        got.evidence,
        "above 100 MB a minute in 1 of the last 3 minutes (1 needed, 10:40Z-10:43Z); 1 minute \
         without data, left out; peak 230 MB (BytesInFromSource) at 10:41Z"
    );
    let packets = TriggerRule {
        metrics: vec![NatMetric::PacketsInFromSource],
        combine: Combine::Sum,
        ..cfg.clone()
    };
    let s = series(&packets, NatMetric::PacketsInFromSource, &[LO, LO, LO]);
    let got = evaluate(&[s], NAT, &packets, Ok, now());
    assert_eq!(
        got.evidence,
        "above 100,000,000 packets a minute in 0 of the last 3 minutes (1 needed, \
         10:40Z-10:43Z); peak 1,000,000 packets at 10:40Z"
    );
    let none = evaluate(&[], NAT, &cfg, Ok, now());
    assert_eq!(
        none.evidence,
        "no data in the last 3 minutes (10:40Z-10:43Z)"
    );
}

#[test]
fn the_rule_reads_in_words_and_units_never_as_a_raw_count() {
    let five_minutes = TriggerRule {
        period_seconds: 300,
        threshold_bytes: 2_500_000_000,
        ..cfg(3, 2, Skip)
    };
    assert_eq!(
        rule_in_words(&five_minutes),
        "above 2.5 GB per 5 minutes in 2 of the last 3 periods of 5 minutes"
    );
    let hourly = TriggerRule {
        period_seconds: 3600,
        ..cfg(1, 1, Skip)
    };
    assert_eq!(
        rule_in_words(&hourly),
        "above 100 MB an hour in 1 of the last 1 hour"
    );
    assert_eq!(amount_in_words(&hourly, 2.5e8), "250 MB");
    assert_eq!(amount_in_words(&hourly, 999.0), "999 B");
}

#[test]
fn alarm_mode_maps_the_alarm_state() {
    for (state, want) in [
        (Some(AlarmState::Alarm), Breaching),
        (Some(AlarmState::Ok), Ok),
        (Some(AlarmState::InsufficientData), Insufficient),
        (None, Insufficient),
    ] {
        let got = from_alarm("nat-spike", state);
        assert_eq!(got.state, want);
        assert!(got.evidence.contains("`nat-spike`"), "{}", got.evidence);
    }
    assert!(from_alarm("x", None).evidence.contains("not found"));
}
