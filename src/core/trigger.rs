//! Is a NAT gateway's traffic spiking? A CloudWatch alarm's rule ("M out of N periods breach"),
//! evaluated here from GetMetricData datapoints so the rule, the metrics and the missing-data
//! treatment are ours to choose and to test. Pure: datapoints and a clock in, a verdict out.
//!
//! NAT gateway metrics arrive a minute or two late, so the newest, still-filling period (the one
//! containing `now`) is never evaluated: it would read as "low traffic" and end spikes early.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rule::{Combine, NatMetric, TreatMissingData, TriggerRule};
use crate::ports::{AlarmState, MetricQuery, MetricSeries};

/// A NAT gateway's trigger, in CloudWatch alarm terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TriggerState {
    Breaching,
    Ok,
    /// Not enough data to say; where every NAT starts, like a new CloudWatch alarm.
    #[default]
    InsufficientData,
}

impl TriggerState {
    /// The state as JSON outputs name it (the words of the text form, in snake_case).
    pub fn as_snake_case(self) -> &'static str {
        match self {
            TriggerState::Breaching => "breaching",
            TriggerState::Ok => "ok",
            TriggerState::InsufficientData => "insufficient_data",
        }
    }
}

impl std::fmt::Display for TriggerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TriggerState::Breaching => "breaching",
            TriggerState::Ok => "OK",
            TriggerState::InsufficientData => "insufficient data",
        })
    }
}

/// The trigger's state for one NAT gateway and the sentence that explains it (kept in
/// `TriggerChanged` and shown by `check` and `history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerVerdict {
    pub state: TriggerState,
    pub evidence: String,
}

/// The complete periods to evaluate: `[start, end)`, aligned to `period_seconds`, ending where the
/// still-filling period begins. Ask GetMetricData for exactly this range.
pub fn query_window(cfg: &TriggerRule, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let period = i64::from(cfg.period_seconds.max(1));
    let end_secs = now.timestamp().div_euclid(period) * period;
    let start_secs = end_secs - period * i64::from(cfg.evaluation_periods);
    (timestamp(start_secs), timestamp(end_secs))
}

/// The one GetMetricData request (statistic Sum) that serves every NAT gateway's rule at `now`:
/// each NAT gateway's own metrics over the union of their windows, at the largest period that
/// divides every rule's period. `evaluate` adds finer datapoints into each rule's periods and
/// leaves out what its rule does not watch, so NAT gateways with their own thresholds, metrics
/// or periods still cost one call a tick, and no metric a rule does not watch is paid for.
pub fn metric_query(rules: &[(&str, &TriggerRule)], now: DateTime<Utc>) -> MetricQuery {
    let mut metrics: Vec<String> = Vec::new();
    let mut window: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    let mut period = 0u32;
    for (_, rule) in rules {
        for m in &rule.metrics {
            if !metrics.iter().any(|known| known == m.as_str()) {
                metrics.push(m.as_str().to_string());
            }
        }
        let (start, end) = query_window(rule, now);
        window = Some(window.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
        period = gcd(period, rule.period_seconds.max(1));
    }
    let (start, end) = window.unwrap_or((now, now));
    let nat_metrics = rules
        .iter()
        .filter(|(_, rule)| rule.metrics.len() < metrics.len())
        .map(|(id, rule)| {
            let own = rule.metrics.iter().map(|m| m.as_str().to_string());
            ((*id).to_string(), own.collect())
        })
        .collect();
    MetricQuery {
        nat_gateway_ids: rules.iter().map(|(id, _)| (*id).to_string()).collect(),
        metrics,
        statistic: "Sum".to_string(),
        period_seconds: i32::try_from(period.max(60)).unwrap_or(i32::MAX),
        start,
        end,
        log_groups: Vec::new(),
        nat_metrics,
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// How one evaluated period came out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Period {
    Breach,
    Good,
    Missing,
}

/// The datapoint that came closest to (or furthest past) the threshold, for the evidence.
struct Peak {
    what: String,
    value: f64,
    at: DateTime<Utc>,
}

/// Evaluates the M-of-N rule for `nat_gateway_id` from `series` (which may hold other NAT
/// gateways and metrics too; they are ignored). `previous` is the state the log holds, kept when
/// `treat_missing_data = "ignore"` and no period has data.
pub fn evaluate(
    series: &[MetricSeries],
    nat_gateway_id: &str,
    cfg: &TriggerRule,
    previous: TriggerState,
    now: DateTime<Utc>,
) -> TriggerVerdict {
    let (start, end) = query_window(cfg, now);
    let period = i64::from(cfg.period_seconds.max(1));
    let n = cfg.evaluation_periods as usize;

    // Per period, per chosen metric: the Sum (points inside one period are added, in case the
    // adapter returned a finer resolution than asked).
    let mut sums: Vec<BTreeMap<NatMetric, f64>> = vec![BTreeMap::new(); n];
    for s in series.iter().filter(|s| s.nat_gateway_id == nat_gateway_id) {
        let Some(metric) = NatMetric::from_name(&s.metric) else {
            continue;
        };
        if !cfg.metrics.contains(&metric) {
            continue;
        }
        for &(t, value) in &s.points {
            if t < start || t >= end || !value.is_finite() {
                continue;
            }
            let index = (t.timestamp() - start.timestamp()).div_euclid(period);
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| sums.get_mut(i)) {
                *slot.entry(metric).or_insert(0.0) += value;
            }
        }
    }

    let threshold = cfg.threshold_bytes as f64;
    let mut peak: Option<Peak> = None;
    let periods: Vec<Period> = sums
        .iter()
        .enumerate()
        .map(|(i, values)| {
            if values.is_empty() {
                return Period::Missing;
            }
            let at = timestamp(start.timestamp() + period * i as i64);
            let (what, value) = match cfg.combine {
                Combine::Any => values
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(m, v)| (m.as_str().to_string(), *v))
                    .unwrap_or_default(),
                Combine::Sum => ("sum".to_string(), values.values().sum()),
            };
            if peak.as_ref().is_none_or(|p| value > p.value) {
                peak = Some(Peak { what, value, at });
            }
            if value > threshold {
                Period::Breach
            } else {
                Period::Good
            }
        })
        .collect();

    let missing = periods.iter().filter(|p| **p == Period::Missing).count();
    let counted: Vec<Period> = periods
        .iter()
        .filter_map(|p| match (p, cfg.treat_missing_data) {
            (Period::Missing, TreatMissingData::Missing | TreatMissingData::Ignore) => None,
            (Period::Missing, TreatMissingData::NotBreaching) => Some(Period::Good),
            (Period::Missing, TreatMissingData::Breaching) => Some(Period::Breach),
            (p, _) => Some(*p),
        })
        .collect();
    let window = format!("{}-{}", start.format("%H:%MZ"), end.format("%H:%MZ"));

    if counted.is_empty() {
        return match cfg.treat_missing_data {
            TreatMissingData::Ignore => TriggerVerdict {
                state: previous,
                evidence: format!(
                    "no data in the last {} ({window}); treat_missing_data = \"ignore\" keeps {previous}",
                    periods_in_words(cfg, n)
                ),
            },
            _ => TriggerVerdict {
                state: TriggerState::InsufficientData,
                evidence: format!(
                    "no data in the last {} ({window})",
                    periods_in_words(cfg, n)
                ),
            },
        };
    }

    let breaching = counted.iter().filter(|p| **p == Period::Breach).count();
    let needed = cfg.datapoints_to_alarm as usize;
    let state = if breaching >= needed {
        TriggerState::Breaching
    } else {
        TriggerState::Ok
    };
    let mut evidence = format!(
        "{} ({needed} needed, {window})",
        breaches_in_words(cfg, breaching)
    );
    if missing > 0 {
        let treatment = match cfg.treat_missing_data {
            TreatMissingData::Missing | TreatMissingData::Ignore => "left out",
            TreatMissingData::NotBreaching => "counted as not breaching",
            TreatMissingData::Breaching => "counted as breaching",
        };
        evidence.push_str(&format!(
            "; {} without data, {treatment}",
            periods_in_words(cfg, missing)
        ));
    }
    if let Some(p) = peak {
        let metric = if cfg.metrics.len() > 1 {
            format!(" ({})", p.what)
        } else {
            String::new()
        };
        evidence.push_str(&format!(
            "; peak {}{metric} at {}",
            amount_in_words(cfg, p.value),
            p.at.format("%H:%MZ")
        ));
    }
    TriggerVerdict { state, evidence }
}

/// The trigger's rule in words, as `check`, `status`, `history`, the e-mail and the demo say
/// it: `above 100 MB a minute in 1 of the last 3 minutes`.
pub fn rule_in_words(cfg: &TriggerRule) -> String {
    breaches_in_words(cfg, cfg.datapoints_to_alarm as usize)
}

/// `above 100 MB a minute in {count} of the last 3 minutes`.
fn breaches_in_words(cfg: &TriggerRule, count: usize) -> String {
    format!(
        "above {} {} in {count} of the last {}",
        amount_in_words(cfg, cfg.threshold_bytes as f64),
        rate_in_words(cfg.period_seconds),
        periods_in_words(cfg, cfg.evaluation_periods as usize)
    )
}

/// A metric value in the unit of the trigger's metrics: `250 MB`, `1.5 GB`, `120,000 packets`.
pub fn amount_in_words(cfg: &TriggerRule, value: f64) -> String {
    let whole = if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    };
    if cfg.metrics.iter().all(|m| m.is_packets()) {
        let n = nat_flowrec_reports::grouped(whole);
        return format!("{n} {}", if whole == 1 { "packet" } else { "packets" });
    }
    // `250.00 MB` -> `250 MB`, `2.50 GB` -> `2.5 GB`: a threshold reads as it was written.
    let text = nat_flowrec_reports::human_bytes(whole);
    match text.split_once(' ') {
        Some((number, unit)) if number.contains('.') => {
            let number = number.trim_end_matches('0').trim_end_matches('.');
            format!("{number} {unit}")
        }
        _ => text,
    }
}

/// `a minute`, `an hour`, `per 5 minutes`: the unit of one period.
fn rate_in_words(period_seconds: u32) -> String {
    match period_seconds {
        60 => "a minute".to_owned(),
        3600 => "an hour".to_owned(),
        p if p % 3600 == 0 => format!("per {} hours", p / 3600),
        p => format!("per {} minutes", p / 60),
    }
}

/// `3 minutes`, `1 hour`, `3 periods of 5 minutes`.
fn periods_in_words(cfg: &TriggerRule, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    match cfg.period_seconds {
        60 => format!("{n} minute{s}"),
        3600 => format!("{n} hour{s}"),
        p => format!("{n} period{s} of {}", &rate_in_words(p)["per ".len()..]),
    }
}

/// Alarm mode: the trigger follows an existing CloudWatch alarm. `None` when DescribeAlarms did
/// not return the alarm.
pub fn from_alarm(alarm_name: &str, state: Option<AlarmState>) -> TriggerVerdict {
    let (state, evidence) = match state {
        Some(AlarmState::Alarm) => (
            TriggerState::Breaching,
            format!("alarm `{alarm_name}` is in ALARM"),
        ),
        Some(AlarmState::Ok) => (TriggerState::Ok, format!("alarm `{alarm_name}` is OK")),
        Some(AlarmState::InsufficientData) => (
            TriggerState::InsufficientData,
            format!("alarm `{alarm_name}` is INSUFFICIENT_DATA"),
        ),
        None => (
            TriggerState::InsufficientData,
            format!(
                "alarm `{alarm_name}` was not found (check trigger.alarm_names and the region)"
            ),
        ),
    };
    TriggerVerdict { state, evidence }
}

fn timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rule::NatMetric::{BytesInFromDestination as M2, BytesInFromSource as M1};
    use crate::core::testkit::at;
    use TreatMissingData::{
        Breaching as Bad, Ignore as Keep, Missing as Skip, NotBreaching as Good,
    };
    use TriggerState::{Breaching, InsufficientData as Insufficient, Ok};
    use chrono::TimeDelta;

    const NAT: &str = "nat-01234567";
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
}
