//! What watching costs, per month: the trigger's own CloudWatch API bill at one-minute ticks,
//! beside what CloudWatch alarms on the same metrics would cost. Prices are us-east-1's list
//! prices (CloudWatch pricing page, as of 2025-06): GetMetricData $0.01 per 1,000 metrics
//! requested and outside the free tier; a standard-resolution alarm $0.10 per metric a month.

use super::rule::TriggerRule;
use super::trigger::metric_query;

/// One-minute ticks in a 30-day month.
pub const TICKS_PER_MONTH: u64 = 43_200;
/// GetMetricData, USD per metric requested.
pub const GET_METRIC_DATA_USD_PER_METRIC: f64 = 0.01 / 1_000.0;
/// A standard-resolution alarm, USD per metric and month.
pub const ALARM_USD_PER_METRIC_MONTH: f64 = 0.10;

/// The trigger's monthly API bill at one-minute ticks, and the alarms' for the same rules.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchCost {
    /// Metrics one tick's GetMetricData requests (each NAT gateway's own).
    pub metrics_per_tick: usize,
    pub usd_per_month: f64,
    /// Alarm metrics the same rules would need, and their monthly price.
    pub alarm_metrics: usize,
    pub alarms_usd_per_month: f64,
}

/// What watching these NAT gateways' rules costs a month at one-minute ticks.
pub fn watch_cost(rules: &[(&str, &TriggerRule)]) -> WatchCost {
    let q = metric_query(rules, chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let metrics_per_tick = q
        .nat_gateway_ids
        .iter()
        .map(|nat| q.metrics.iter().filter(|m| q.asks(nat, m)).count())
        .sum();
    let alarm_metrics: usize = rules.iter().map(|(_, r)| r.metrics.len()).sum();
    WatchCost {
        metrics_per_tick,
        usd_per_month: metrics_per_tick as f64
            * TICKS_PER_MONTH as f64
            * GET_METRIC_DATA_USD_PER_METRIC,
        alarm_metrics,
        alarms_usd_per_month: alarm_metrics as f64 * ALARM_USD_PER_METRIC_MONTH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rule::NatMetric;

    #[test]
    fn one_nat_with_two_metrics_costs_86_cents_against_20_for_alarms() {
        let rule = TriggerRule::default();
        let cost = watch_cost(&[("nat-01234567", &rule)]);
        assert_eq!(cost.metrics_per_tick, 2);
        assert!((cost.usd_per_month - 0.864).abs() < 1e-9, "{cost:?}");
        assert!((cost.alarms_usd_per_month - 0.20).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn each_nat_is_billed_for_its_own_metrics() {
        let default = TriggerRule::default();
        let own = TriggerRule {
            metrics: vec![NatMetric::BytesOutToDestination],
            ..TriggerRule::default()
        };
        let cost = watch_cost(&[("nat-01234567", &default), ("nat-89abcdef", &own)]);
        assert_eq!(cost.metrics_per_tick, 3);
        assert_eq!(cost.alarm_metrics, 3);
    }
}
