//! Is a NAT gateway's traffic spiking? A CloudWatch alarm's rule ("M out of N periods breach"),
//! evaluated here from GetMetricData datapoints so the rule, the metrics and the missing-data
//! treatment are ours to choose and to test. Pure: datapoints and a clock in, a verdict out.
//!
//! NAT gateway metrics arrive a minute or two late, so the newest, still-filling period (the one
//! containing `now`) is never evaluated: it would read as "low traffic" and end spikes early.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::baseline::Baseline;
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
        statistics: Default::default(),
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
    evaluate_with(series, nat_gateway_id, cfg, None, previous, now)
}

/// `evaluate` with the NAT gateway's baseline: in baseline mode (`cfg.baseline`) a period
/// breaches above `factor` x its baseline and above `threshold_bytes`, the floor; without a
/// baseline read yet, or for an hour it has no data for, above the floor alone.
pub fn evaluate_with(
    series: &[MetricSeries],
    nat_gateway_id: &str,
    cfg: &TriggerRule,
    baseline: Option<&Baseline>,
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

    let floor = cfg.threshold_bytes as f64;
    let baseline = cfg.baseline.zip(baseline);
    let threshold_at = |at: DateTime<Utc>| match baseline {
        Some((rule, b)) => b
            .for_period(at, cfg.period_seconds)
            .map_or(floor, |base| (rule.factor * base).max(floor)),
        None => floor,
    };
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
            if value > threshold_at(at) {
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
        if let Some(base) = baseline.and_then(|(_, b)| b.for_period(p.at, cfg.period_seconds)) {
            evidence.push_str(&format!(", baseline there {}", amount_in_words(cfg, base)));
        }
    }
    if cfg.baseline.is_some() && baseline.is_none() {
        evidence.push_str("; no baseline read yet: threshold_bytes alone");
    }
    TriggerVerdict { state, evidence }
}

/// The trigger's rule in words, as `check`, `status`, `history`, the e-mail and the demo say
/// it: `above 100 MB a minute in 1 of the last 3 minutes`.
pub fn rule_in_words(cfg: &TriggerRule) -> String {
    breaches_in_words(cfg, cfg.datapoints_to_alarm as usize)
}

/// `above 100 MB a minute in {count} of the last 3 minutes`; in baseline mode `above 3 x the
/// baseline and 100 MB a minute ...`.
fn breaches_in_words(cfg: &TriggerRule, count: usize) -> String {
    let floor = amount_in_words(cfg, cfg.threshold_bytes as f64);
    let limit = match cfg.baseline {
        Some(b) => format!("{} x the baseline and {floor}", b.factor),
        None => floor,
    };
    format!(
        "above {limit} {} in {count} of the last {}",
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
mod tests;
