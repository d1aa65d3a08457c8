//! What a NAT gateway's trigger would have done over its recent history, and what thresholds fit
//! it better: the numbers behind `trigger suggest` and doctor's one line. Pure: the NAT's
//! per-period Sums in, the peak, the p95 and p99 period, and per threshold how many recordings
//! it would have started and what they would have cost, out.
//!
//! The firings are counted by replaying [`evaluate`] at every period boundary of the history,
//! so the count is what the job itself would have decided (M-of-N and missing data included):
//! a firing is a tick whose state turns to breaching from any other.
//!
//! The suggested thresholds, beside the rule's own:
//! * the p99 period: the top 1 % of the NAT's periods breach, its busiest routine moments;
//! * twice the p99 period: a margin above that routine tail, so only what is unusual for
//!   this NAT fires;
//! * half the peak period: an event half the size of the largest one seen still fires;
//! * baseline mode (when the rule is not already in it), at the default factor with the rule's
//!   threshold as its floor. Each day of the history is compared with the baseline of the
//!   history's other days (the job would read the days before it), so the count shows what the
//!   mode makes of this NAT's weekly pattern rather than an exact replay.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::baseline::{Baseline, BaselineRule, DEFAULT_FACTOR, baseline_from};
use super::rule::{Combine, NatMetric, TriggerRule};
use super::trigger::{TriggerState, evaluate_with};
use crate::ports::MetricSeries;

/// What a recording would cost, as the suggestion assumes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CostAssumption {
    /// Flow-log bytes a recording's log group takes in per recorded minute.
    pub ingested_bytes_per_minute: u64,
    /// The vended-log ingestion price of the log group's class in the region, USD per GB.
    pub price_per_gb: f64,
    /// A recording's length; 0 = while the trigger breaches, at most `max_recording_seconds`.
    pub recording_seconds: u64,
    pub max_recording_seconds: u64,
}

/// One threshold and what it would have done over the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// `current`, `p99`, `2 x p99`, `half the peak`.
    pub label: String,
    pub threshold_bytes: u64,
    /// Recordings it would have started.
    pub fired: usize,
    pub recorded_minutes: u64,
    pub cost_usd: f64,
}

/// A NAT gateway's history seen through its trigger rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub nat_gateway_id: String,
    pub days: u32,
    pub period_seconds: u32,
    /// Periods with data.
    pub periods: usize,
    /// The largest period and when it began; `None` without data.
    pub peak: Option<(DateTime<Utc>, f64)>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// The rule's own threshold first, then the suggested ones.
    pub candidates: Vec<Candidate>,
    pub assumption: CostAssumption,
}

impl Suggestion {
    /// Doctor's line: `your threshold would have fired 41 times in 14 days`.
    pub fn one_line(&self) -> String {
        let Some(current) = self.candidates.first().filter(|_| self.periods > 0) else {
            return format!(
                "no trigger metrics in the last {} days: nothing to measure the threshold against",
                self.days
            );
        };
        let times = if current.fired == 1 { "time" } else { "times" };
        let days = if self.days == 1 { "day" } else { "days" };
        let mut line = format!(
            "your threshold would have fired {} {times} in {} {days}",
            current.fired, self.days
        );
        if let Some(p99) = self.candidates.iter().find(|c| c.label == "2 x p99") {
            line.push_str(&format!(
                "; at {} bytes (twice the p99 period) it would have fired {} (`nat-flowrec trigger suggest --nat {}`)",
                p99.threshold_bytes, p99.fired, self.nat_gateway_id
            ));
        }
        line
    }
}

/// The history `[start, end)` of `nat_gateway_id` under `rule`, with the rule's threshold and
/// the suggested ones. `series` holds the Sums of the rule's metrics at the rule's period (or
/// finer); other NATs and metrics are ignored.
pub fn suggest(
    series: &[MetricSeries],
    nat_gateway_id: &str,
    rule: &TriggerRule,
    window: (DateTime<Utc>, DateTime<Utc>),
    assumption: CostAssumption,
) -> Suggestion {
    let (start, end) = window;
    let period = i64::from(rule.period_seconds.max(60));
    let values = period_values(series, nat_gateway_id, rule, start, end);
    let mut sorted: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
    sorted.sort_by(f64::total_cmp);
    let peak = values
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    let p95 = percentile(&sorted, 95);
    let p99 = percentile(&sorted, 99);

    let threshold = |threshold_bytes: u64| TriggerRule {
        threshold_bytes: threshold_bytes.max(1),
        baseline: None,
        ..rule.clone()
    };
    let mut rules = vec![("current".to_string(), rule.clone())];
    if let Some(p99) = p99 {
        rules.push(("p99".to_string(), threshold(p99.ceil() as u64)));
        rules.push(("2 x p99".to_string(), threshold((2.0 * p99).ceil() as u64)));
    }
    if let Some((_, peak)) = peak {
        rules.push((
            "half the peak".to_string(),
            threshold((peak / 2.0).ceil() as u64),
        ));
    }
    let history_days = u32::try_from((end - start).num_days()).unwrap_or(0);
    if rule.baseline.is_none() {
        let baseline = BaselineRule {
            factor: DEFAULT_FACTOR,
            days: history_days,
        };
        let label = format!("{} x baseline", baseline.factor);
        rules.push((
            label,
            TriggerRule {
                baseline: Some(baseline),
                ..rule.clone()
            },
        ));
    }
    let relevant = relevant_series(series, nat_gateway_id, rule);
    let candidates = rules
        .into_iter()
        .map(|(label, rule)| {
            let threshold_bytes = rule.threshold_bytes;
            let baselines = match rule.baseline {
                Some(_) => baselines_by_day(&relevant, nat_gateway_id, &rule, (start, end)),
                None => Vec::new(),
            };
            let (fired, breaching_periods) =
                replay(&relevant, nat_gateway_id, &rule, &baselines, start, end);
            let recorded_minutes = if assumption.recording_seconds > 0 {
                fired as u64 * assumption.recording_seconds.div_ceil(60)
            } else {
                breaching_periods
                    .iter()
                    .map(|n| (n * period as u64).min(assumption.max_recording_seconds.max(60)) / 60)
                    .sum()
            };
            let bytes = recorded_minutes as f64 * assumption.ingested_bytes_per_minute as f64;
            Candidate {
                label,
                threshold_bytes,
                fired,
                recorded_minutes,
                cost_usd: bytes / 1e9 * assumption.price_per_gb,
            }
        })
        .collect();
    Suggestion {
        nat_gateway_id: nat_gateway_id.to_string(),
        days: u32::try_from((end - start).num_days()).unwrap_or(0),
        period_seconds: rule.period_seconds,
        periods: values.len(),
        peak,
        p95,
        p99,
        candidates,
        assumption,
    }
}

/// The series `evaluate` reads for this NAT and rule, each sorted oldest first.
fn relevant_series(series: &[MetricSeries], nat: &str, rule: &TriggerRule) -> Vec<MetricSeries> {
    series
        .iter()
        .filter(|s| s.nat_gateway_id == nat)
        .filter(|s| NatMetric::from_name(&s.metric).is_some_and(|m| rule.metrics.contains(&m)))
        .map(|s| {
            let mut s = s.clone();
            s.points.sort_by_key(|(t, _)| *t);
            s
        })
        .collect()
}

/// Each period's value as the rule compares it (the largest metric, or their sum), oldest first.
pub(crate) fn period_values(
    series: &[MetricSeries],
    nat: &str,
    rule: &TriggerRule,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, f64)> {
    let period = i64::from(rule.period_seconds.max(60));
    let mut per: std::collections::BTreeMap<i64, std::collections::BTreeMap<NatMetric, f64>> =
        std::collections::BTreeMap::new();
    for s in relevant_series(series, nat, rule) {
        let Some(metric) = NatMetric::from_name(&s.metric) else {
            continue;
        };
        for (t, v) in s.points {
            if t < start || t >= end || !v.is_finite() {
                continue;
            }
            let slot = t.timestamp().div_euclid(period) * period;
            *per.entry(slot).or_default().entry(metric).or_insert(0.0) += v;
        }
    }
    per.into_iter()
        .filter_map(|(slot, metrics)| {
            let value = match rule.combine {
                Combine::Any => metrics.values().copied().fold(f64::MIN, f64::max),
                Combine::Sum => metrics.values().sum(),
            };
            Some((DateTime::from_timestamp(slot, 0)?, value))
        })
        .collect()
}

/// Nearest-rank percentile of ascending `sorted`.
pub(crate) fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Baseline mode's baseline for each day of the history `[start, end)`: the baseline of the
/// history's other days. The job reads the days before a tick; the history holds none before
/// its first day, so its other days stand in for them, and no period is compared with a
/// baseline it is part of.
fn baselines_by_day(
    series: &[MetricSeries],
    nat: &str,
    rule: &TriggerRule,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Vec<Baseline> {
    let days = (end - start).num_days().max(0);
    (0..days)
        .map(|d| {
            let (from, to) = (start + TimeDelta::days(d), start + TimeDelta::days(d + 1));
            let others: Vec<MetricSeries> = series
                .iter()
                .map(|s| MetricSeries {
                    points: s
                        .points
                        .iter()
                        .filter(|(t, _)| *t < from || *t >= to)
                        .copied()
                        .collect(),
                    ..s.clone()
                })
                .collect();
            baseline_from(&others, nat, rule, u32::try_from(days).unwrap_or(0), end)
        })
        .collect()
}

/// Ticks the rule at every period boundary from the first full window to `end`: how many times
/// it turned to breaching, and for each firing how many ticks it stayed breaching. In baseline
/// mode a tick compares with `baselines` of the day of its last evaluated period.
fn replay(
    series: &[MetricSeries],
    nat: &str,
    rule: &TriggerRule,
    baselines: &[Baseline],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (usize, Vec<u64>) {
    let period = TimeDelta::seconds(i64::from(rule.period_seconds.max(60)));
    let span = period * i32::try_from(rule.evaluation_periods).unwrap_or(i32::MAX);
    let mut state = TriggerState::InsufficientData;
    let mut spells: Vec<u64> = Vec::new();
    let mut now = start + span;
    while now <= end {
        // Only the window's points: evaluate reads every point it is given.
        let window: Vec<MetricSeries> = series
            .iter()
            .map(|s| {
                let from = s.points.partition_point(|(t, _)| *t < now - span);
                let to = s.points.partition_point(|(t, _)| *t < now);
                MetricSeries {
                    nat_gateway_id: s.nat_gateway_id.clone(),
                    log_group: None,
                    metric: s.metric.clone(),
                    points: s.points[from..to].to_vec(),
                }
            })
            .collect();
        let day = usize::try_from((now - period - start).num_days()).unwrap_or(0);
        let baseline = baselines.get(day.min(baselines.len().saturating_sub(1)));
        let next = evaluate_with(&window, nat, rule, baseline, state, now).state;
        if next == TriggerState::Breaching {
            if state != TriggerState::Breaching {
                spells.push(0);
            }
            if let Some(n) = spells.last_mut() {
                *n += 1;
            }
        }
        state = next;
        now += period;
    }
    (spells.len(), spells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rule::TreatMissingData;
    use crate::core::testkit::at;

    const NAT: &str = "nat-01234567";
    const MB: f64 = 1e6;

    fn assumption(recording_seconds: u64) -> CostAssumption {
        CostAssumption {
            ingested_bytes_per_minute: 10_000_000,
            price_per_gb: 0.5,
            recording_seconds,
            max_recording_seconds: 3600,
        }
    }

    fn start() -> DateTime<Utc> {
        at("2025-01-01T00:00:00Z")
    }

    /// One metric's series with `values[i]` at minute i of the history.
    fn series(metric: NatMetric, values: &[(i64, f64)]) -> MetricSeries {
        MetricSeries {
            nat_gateway_id: NAT.to_string(),
            log_group: None,
            metric: metric.as_str().to_string(),
            points: values
                .iter()
                .map(|(m, v)| (start() + TimeDelta::minutes(*m), *v))
                .collect(),
        }
    }

    fn window(minutes: i64) -> (DateTime<Utc>, DateTime<Utc>) {
        (start(), start() + TimeDelta::minutes(minutes))
    }

    /// The history of `minutes` minutes with `values` on BytesInFromSource.
    fn history(values: &[(i64, f64)], rule: &TriggerRule, minutes: i64, rec: u64) -> Suggestion {
        let source = series(NatMetric::BytesInFromSource, values);
        suggest(&[source], NAT, rule, window(minutes), assumption(rec))
    }

    fn current(s: &Suggestion) -> &Candidate {
        &s.candidates[0]
    }

    #[test]
    fn no_data_fires_nothing_and_suggests_nothing() {
        let s = suggest(
            &[],
            NAT,
            &TriggerRule::default(),
            window(60),
            assumption(600),
        );
        assert_eq!(s.periods, 0);
        assert_eq!((s.peak, s.p95, s.p99), (None, None, None));
        assert_eq!(s.candidates.len(), 2, "the current rule and baseline mode");
        assert!(s.candidates.iter().all(|c| c.fired == 0));
        assert_eq!(current(&s).fired, 0);
        assert_eq!(current(&s).cost_usd, 0.0);
    }

    #[test]
    fn a_one_minute_spike_fires_once_under_one_of_three() {
        // Above 100 MB at minute 10 only: the ticks at 10:11, 10:12 and 10:13 see it.
        let mut values: Vec<(i64, f64)> = (0..60).map(|m| (m, MB)).collect();
        values[10].1 = 250.0 * MB;
        let s = history(&values, &TriggerRule::default(), 60, 600);
        assert_eq!(current(&s).fired, 1);
        assert_eq!(current(&s).recorded_minutes, 10);
        // 10 minutes x 10 MB at $0.50/GB.
        assert!((current(&s).cost_usd - 0.05).abs() < 1e-9);
        assert_eq!(s.peak, Some((start() + TimeDelta::minutes(10), 250.0 * MB)));
    }

    #[test]
    fn spikes_within_the_window_are_one_firing_and_apart_are_two() {
        let mut values: Vec<(i64, f64)> = (0..60).map(|m| (m, MB)).collect();
        for m in [10, 12, 40] {
            values[m].1 = 250.0 * MB;
        }
        let s = history(&values, &TriggerRule::default(), 60, 0);
        assert_eq!(current(&s).fired, 2);
        // Until OK: 10..12 breach the ticks 11..=15 (5), 40 the ticks 41..=43 (3).
        assert_eq!(current(&s).recorded_minutes, 8);
    }

    #[test]
    fn m_of_n_needs_m_breaching_periods() {
        // 2 of 3: two isolated spikes never fire, two adjacent ones do.
        let mut values: Vec<(i64, f64)> = (0..60).map(|m| (m, MB)).collect();
        for m in [5, 20, 21] {
            values[m].1 = 250.0 * MB;
        }
        let rule = TriggerRule {
            datapoints_to_alarm: 2,
            ..TriggerRule::default()
        };
        let s = history(&values, &rule, 60, 600);
        assert_eq!(current(&s).fired, 1);
    }

    #[test]
    fn missing_data_counts_as_the_rule_says() {
        // Only the spike minute has data; breaching treatment fires on the empty hour too.
        let values = [(30, 250.0 * MB)];
        let missing = history(&values, &TriggerRule::default(), 60, 600);
        assert_eq!(current(&missing).fired, 1);
        let rule = TriggerRule {
            treat_missing_data: TreatMissingData::Breaching,
            ..TriggerRule::default()
        };
        let bad = history(&values, &rule, 60, 600);
        assert_eq!(current(&bad).fired, 1, "breaching from the first tick on");
        assert_eq!(current(&bad).recorded_minutes, 10);
    }

    #[test]
    fn percentiles_and_suggested_thresholds() {
        // Minutes worth 1..=100 MB: p95 = 95 MB, p99 = 99 MB, peak 100 MB.
        let values: Vec<(i64, f64)> = (0..100).map(|m| (m, (m + 1) as f64 * MB)).collect();
        let s = history(&values, &TriggerRule::default(), 100, 600);
        assert_eq!(s.p95, Some(95.0 * MB));
        assert_eq!(s.p99, Some(99.0 * MB));
        let labels: Vec<(&str, u64)> = s
            .candidates
            .iter()
            .map(|c| (c.label.as_str(), c.threshold_bytes))
            .collect();
        assert_eq!(
            labels,
            [
                ("current", 100_000_000),
                ("p99", 99_000_000),
                ("2 x p99", 198_000_000),
                ("half the peak", 50_000_000),
                ("3 x baseline", 100_000_000),
            ]
        );
        // Above 99 MB: minute 99 only; its ticks run past the window's end: one firing.
        assert_eq!(s.candidates[1].fired, 1);
        assert_eq!(s.candidates[2].fired, 0);
        // Above 50 MB: minutes 50..=99, one long spell.
        assert_eq!(s.candidates[3].fired, 1);
    }

    #[test]
    fn any_compares_each_metric_and_sum_adds_them() {
        let a = series(NatMetric::BytesInFromSource, &[(10, 60.0 * MB)]);
        let b = series(NatMetric::BytesInFromDestination, &[(10, 60.0 * MB)]);
        let any = suggest(
            &[a.clone(), b.clone()],
            NAT,
            &TriggerRule::default(),
            window(30),
            assumption(600),
        );
        assert_eq!(current(&any).fired, 0);
        let rule = TriggerRule {
            combine: Combine::Sum,
            ..TriggerRule::default()
        };
        let sum = suggest(&[a, b], NAT, &rule, window(30), assumption(600));
        assert_eq!(current(&sum).fired, 1);
        assert_eq!(sum.peak.map(|p| p.1), Some(120.0 * MB));
    }

    #[test]
    fn other_nats_and_metrics_are_ignored() {
        let mut other = series(NatMetric::BytesInFromSource, &[(10, 500.0 * MB)]);
        other.nat_gateway_id = "nat-other".to_string();
        let unwatched = series(NatMetric::BytesOutToSource, &[(10, 500.0 * MB)]);
        let s = suggest(
            &[other, unwatched],
            NAT,
            &TriggerRule::default(),
            window(30),
            assumption(600),
        );
        assert_eq!(current(&s).fired, 0);
        assert_eq!(s.periods, 0);
    }

    #[test]
    fn one_line_names_the_count_and_the_days() {
        let values = [(10, 250.0 * MB), (30, 1.0 * MB)];
        let s = suggest(
            &[series(NatMetric::BytesInFromSource, &values)],
            NAT,
            &TriggerRule::default(),
            (start(), start() + TimeDelta::days(1)),
            assumption(600),
        );
        assert!(
            s.one_line()
                .starts_with("your threshold would have fired 1 time in 1 day;"),
            "{}",
            s.one_line()
        );
    }
}
