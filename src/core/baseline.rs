//! What is normal for one NAT gateway, so `trigger.mode = "baseline"` fires on what is unusual
//! for it rather than on one threshold for every NAT. The baseline is, per hour of the week, the
//! p95 of that hour's traffic over the last `baseline_days`: Monday 09:00 is compared with the
//! Mondays at 09:00 before it, not with Sunday night.
//!
//! It is read from one GetMetricData of hourly Sums (period 3600) for every NAT gateway due,
//! at most once a day, and kept in the log (`BaselineRead`), so a replay of the log evaluates
//! with the baseline the job had. An hour's Sum spreads evenly over its periods: a minute's
//! baseline is the hourly p95 / 60, a period's the hourly p95 x period / 3600. With `combine =
//! "any"` an hour's value is its largest metric's Sum, with `"sum"` their total, as periods are
//! compared. Pure: the state's baseline and the clock in, whether to read; hourly series in, a
//! baseline out.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::rule::TriggerRule;
use super::suggest::{percentile, period_values};
use super::trigger::metric_query;
use crate::ports::{MetricQuery, MetricSeries};

/// `trigger.baseline_factor` unless configured: three times the hour's normal is unusual.
pub const DEFAULT_FACTOR: f64 = 3.0;
/// `trigger.baseline_days` unless configured: two weeks, each hour of the week seen twice.
pub const DEFAULT_DAYS: u32 = 14;
/// Hours in a week: the baseline's slots, 0 = Monday 00:00-01:00 UTC.
pub const HOURS_OF_WEEK: usize = 168;
/// The baseline is read at most this often.
pub const REFRESH_EVERY: TimeDelta = TimeDelta::days(1);
/// The hourly Sums the baseline is read at.
pub const HOUR_SECONDS: u32 = 3600;

/// `trigger.baseline_factor` and `trigger.baseline_days` of one NAT gateway's rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BaselineRule {
    /// A period breaches above this many times its baseline (and above `threshold_bytes`).
    pub factor: f64,
    /// The history the baseline is the p95 of.
    pub days: u32,
}

/// One NAT gateway's baseline as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub read_at: DateTime<Utc>,
    pub days: u32,
    /// Per hour of the week, the p95 of that hour's Sums over `days`; `None` for an hour the
    /// history has no data for (only `threshold_bytes` applies then).
    pub hourly_p95: Vec<Option<u64>>,
}

impl Baseline {
    /// The baseline of the period of `period_seconds` beginning at `at`: its hour's p95 spread
    /// over the hour.
    pub fn for_period(&self, at: DateTime<Utc>, period_seconds: u32) -> Option<f64> {
        let hourly = (*self.hourly_p95.get(hour_of_week(at))?)? as f64;
        Some(hourly * f64::from(period_seconds) / f64::from(HOUR_SECONDS))
    }
}

/// `at`'s slot: 0 for Monday 00:00-00:59 UTC, 167 for Sunday 23:00-23:59.
pub fn hour_of_week(at: DateTime<Utc>) -> usize {
    at.weekday().num_days_from_monday() as usize * 24 + at.hour() as usize
}

/// The busiest hour of the week and its p95 (the earliest of equals), for the event's sentence.
pub fn busiest_hour(hourly_p95: &[Option<u64>]) -> Option<(usize, u64)> {
    hourly_p95
        .iter()
        .enumerate()
        .filter_map(|(h, v)| Some((h, (*v)?)))
        .max_by_key(|(h, v)| (*v, std::cmp::Reverse(*h)))
}

/// `Mon 09:00Z` for slot 9.
pub fn hour_of_week_in_words(slot: usize) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let day = DAYS.get(slot / 24).copied().unwrap_or("?");
    format!("{day} {:02}:00Z", slot % 24)
}

/// Whether the NAT gateway's baseline is to be read on this tick: never read, or read a day
/// ago or more.
pub fn refresh_due(baseline: Option<&Baseline>, now: DateTime<Utc>) -> bool {
    baseline.is_none_or(|b| now - b.read_at >= REFRESH_EVERY)
}

/// The one GetMetricData request of hourly Sums for the NAT gateways due: each one's own
/// metrics, over the complete hours of the longest `baseline_days` before `now`.
pub fn baseline_query(rules: &[(&str, &TriggerRule)], now: DateTime<Utc>) -> MetricQuery {
    let mut q = metric_query(rules, now);
    let days = rules
        .iter()
        .filter_map(|(_, r)| r.baseline.map(|b| b.days))
        .max()
        .unwrap_or(0);
    let hour = i64::from(HOUR_SECONDS);
    let end = DateTime::from_timestamp(now.timestamp().div_euclid(hour) * hour, 0).unwrap_or(now);
    q.period_seconds = HOUR_SECONDS as i32;
    q.end = end;
    q.start = end - TimeDelta::days(i64::from(days));
    q
}

/// `nat_gateway_id`'s baseline from the hourly Sums of `series` over the `days` before `now`.
pub fn baseline_from(
    series: &[MetricSeries],
    nat_gateway_id: &str,
    rule: &TriggerRule,
    days: u32,
    now: DateTime<Utc>,
) -> Baseline {
    let hourly = TriggerRule {
        period_seconds: HOUR_SECONDS,
        ..rule.clone()
    };
    let hour = i64::from(HOUR_SECONDS);
    let end = DateTime::from_timestamp(now.timestamp().div_euclid(hour) * hour, 0).unwrap_or(now);
    let start = end - TimeDelta::days(i64::from(days));
    let mut by_hour: Vec<Vec<f64>> = vec![Vec::new(); HOURS_OF_WEEK];
    for (at, value) in period_values(series, nat_gateway_id, &hourly, start, end) {
        by_hour[hour_of_week(at)].push(value);
    }
    let hourly_p95 = by_hour
        .into_iter()
        .map(|mut values| {
            values.sort_by(f64::total_cmp);
            percentile(&values, 95).map(|v| v.max(0.0).round() as u64)
        })
        .collect();
    Baseline {
        read_at: now,
        days,
        hourly_p95,
    }
}

#[cfg(test)]
mod tests;
