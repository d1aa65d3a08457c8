//! `check`'s glance at a breaching NAT: the periods the trigger just evaluated as a sparkline
//! against its threshold (`▁▂█ (threshold ▃)`), from the same GetMetricData datapoints.

use chrono::{DateTime, Utc};

use crate::core::{Combine, TriggerRule, query_window};
use crate::ports::MetricSeries;

/// Per evaluated period, oldest first, what the trigger compares with its threshold (the
/// larger metric, or their sum), as a sparkline; empty without any datapoint.
pub fn glance(
    series: &[MetricSeries],
    nat_gateway_id: &str,
    cfg: &TriggerRule,
    now: DateTime<Utc>,
) -> String {
    let (start, end) = query_window(cfg, now);
    let period = i64::from(cfg.period_seconds.max(1));
    let mut values: Vec<Option<f64>> = vec![None; cfg.evaluation_periods as usize];
    for s in series.iter().filter(|s| s.nat_gateway_id == nat_gateway_id) {
        let mut per_period: Vec<Option<f64>> = vec![None; values.len()];
        for &(t, v) in s
            .points
            .iter()
            .filter(|(t, v)| *t >= start && *t < end && v.is_finite())
        {
            let i = ((t.timestamp() - start.timestamp()) / period) as usize;
            if let Some(slot) = per_period.get_mut(i) {
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        }
        for (value, metric) in values.iter_mut().zip(per_period) {
            *value = match (*value, metric, cfg.combine) {
                (None, m, _) => m,
                (v, None, _) => v,
                (Some(v), Some(m), Combine::Any) => Some(v.max(m)),
                (Some(v), Some(m), Combine::Sum) => Some(v + m),
            };
        }
    }
    nat_flowrec_reports::render::sparkline(&values, Some(cfg.threshold_bytes as f64))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn series(nat: &str, metric: &str, points: &[(i64, f64)], t0: DateTime<Utc>) -> MetricSeries {
        MetricSeries {
            nat_gateway_id: nat.into(),
            log_group: None,
            metric: metric.into(),
            points: points
                .iter()
                .map(|(m, v)| (t0 + TimeDelta::minutes(*m), *v))
                .collect(),
        }
    }

    #[test]
    fn the_evaluated_periods_against_the_threshold() {
        let mut cfg = TriggerRule {
            threshold_bytes: 100,
            ..TriggerRule::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 10, 3, 30).unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 1, 15, 10, 0, 0).unwrap();
        let all = [
            series(
                "nat-1",
                "BytesInFromSource",
                &[(0, 10.0), (1, 60.0), (2, 20.0)],
                t0,
            ),
            series(
                "nat-1",
                "BytesInFromDestination",
                &[(0, 5.0), (2, 700.0)],
                t0,
            ),
            series("nat-2", "BytesInFromSource", &[(0, 9999.0)], t0),
        ];
        assert_eq!(glance(&all, "nat-1", &cfg, now), "▁▂█ (threshold ▂)");
        cfg.combine = Combine::Sum;
        cfg.threshold_bytes = 720;
        assert_eq!(glance(&all, "nat-1", &cfg, now), "▁▂█ (threshold █)");
        assert_eq!(glance(&all, "nat-3", &cfg, now), "");
    }
}
