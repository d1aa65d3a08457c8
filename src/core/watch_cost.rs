//! What watching costs, per month, and so which CloudWatch API reads the trigger's metrics.
//! GetMetricData reads every NAT gateway and metric in one call but is billed per metric
//! requested and never free; GetMetricStatistics takes one call per NAT gateway and metric but
//! counts against CloudWatch's free million API requests a month. `trigger.metrics_api = "auto"`
//! takes the free one while the job's requests stay within `trigger.free_tier_share` of that
//! million (the rest of the account shares it), and the batched one above.
//!
//! The job does not know its own schedule (cron, a systemd timer, an EventBridge schedule or
//! `watch --interval` run it), so a month is counted at one-minute ticks, the most frequent
//! schedule the README proposes: the bill stated is the most the job's trigger can cost, and
//! `auto` errs towards GetMetricData. Prices are us-east-1's list prices (CloudWatch pricing
//! page, as of 2025-06): $0.01 per 1,000 metrics requested (GetMetricData) or per 1,000
//! requests beyond the free million (GetMetricStatistics); a standard-resolution alarm $0.10 per
//! metric a month.

use super::rule::{MetricsApi, TriggerRule};
use super::trigger::metric_query;
use crate::ports::MetricQuery;

/// One-minute ticks in a 30-day month.
pub const TICKS_PER_MONTH: u64 = 43_200;
/// GetMetricData, USD per metric requested.
pub const GET_METRIC_DATA_USD_PER_METRIC: f64 = 0.01 / 1_000.0;
/// GetMetricStatistics (like every CloudWatch API request but GetMetricData), USD per request
/// beyond the free tier.
pub const API_USD_PER_REQUEST: f64 = 0.01 / 1_000.0;
/// CloudWatch's free API requests a month, per account (GetMetricData excepted).
pub const FREE_API_REQUESTS_PER_MONTH: u64 = 1_000_000;
/// A standard-resolution alarm, USD per metric and month.
pub const ALARM_USD_PER_METRIC_MONTH: f64 = 0.10;

/// The API a tick reads the trigger's metrics with, `auto` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsCall {
    GetMetricData,
    GetMetricStatistics,
}

impl MetricsCall {
    /// CloudWatch's name of the operation.
    pub fn name(self) -> &'static str {
        match self {
            MetricsCall::GetMetricData => "GetMetricData",
            MetricsCall::GetMetricStatistics => "GetMetricStatistics",
        }
    }

    /// The `trigger.metrics_api` value that asks for it.
    pub fn key_value(self) -> &'static str {
        match self {
            MetricsCall::GetMetricData => MetricsApi::GetMetricData.as_str(),
            MetricsCall::GetMetricStatistics => MetricsApi::GetMetricStatistics.as_str(),
        }
    }
}

/// The (NAT gateway, metric) pairs `q` asks for: what GetMetricData bills, and how many
/// GetMetricStatistics calls read the same series.
pub fn metrics_requested(q: &MetricQuery) -> usize {
    q.nat_gateway_ids
        .iter()
        .map(|nat| q.metrics.iter().filter(|m| q.asks(nat, m)).count())
        .sum()
}

/// Which API reads `metrics_per_tick` (NAT gateway, metric) pairs a tick: as configured, or for
/// `auto` GetMetricStatistics while its requests a month stay at most `free_tier_share` of the
/// free million.
pub fn choose_api(
    api: MetricsApi,
    metrics_per_tick: usize,
    ticks_per_month: u64,
    free_tier_share: f64,
) -> MetricsCall {
    match api {
        MetricsApi::GetMetricData => MetricsCall::GetMetricData,
        MetricsApi::GetMetricStatistics => MetricsCall::GetMetricStatistics,
        MetricsApi::Auto => {
            let requests = metrics_per_tick as f64 * ticks_per_month as f64;
            if requests <= free_tier_share * FREE_API_REQUESTS_PER_MONTH as f64 {
                MetricsCall::GetMetricStatistics
            } else {
                MetricsCall::GetMetricData
            }
        }
    }
}

/// A month of GetMetricData calls requesting `metrics_per_tick` metrics each tick.
pub fn get_metric_data_usd(metrics_per_tick: usize, ticks_per_month: u64) -> f64 {
    metrics_per_tick as f64 * ticks_per_month as f64 * GET_METRIC_DATA_USD_PER_METRIC
}

/// A month of `requests_per_tick` GetMetricStatistics calls a tick: free within the free million
/// (when nothing else in the account uses it), billed per request beyond.
pub fn get_metric_statistics_usd(requests_per_tick: usize, ticks_per_month: u64) -> f64 {
    let requests = requests_per_tick as u64 * ticks_per_month;
    requests.saturating_sub(FREE_API_REQUESTS_PER_MONTH) as f64 * API_USD_PER_REQUEST
}

/// The trigger's monthly API bill at one-minute ticks in either mode, the mode the configuration
/// picks, and the alarms' bill for the same rules.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchCost {
    /// (NAT gateway, metric) pairs one tick reads (each NAT gateway's own metrics).
    pub metrics_per_tick: usize,
    /// `metrics_per_tick` x `TICKS_PER_MONTH`: GetMetricData's metrics requested, or as many
    /// GetMetricStatistics requests.
    pub metrics_per_month: u64,
    pub get_metric_data_usd_per_month: f64,
    pub get_metric_statistics_usd_per_month: f64,
    /// What `trigger.metrics_api` reads with for these rules.
    pub api: MetricsCall,
    /// Alarm metrics the same rules would need, and their monthly price.
    pub alarm_metrics: usize,
    pub alarms_usd_per_month: f64,
}

impl WatchCost {
    /// The bill of the API the configuration reads with.
    pub fn usd_per_month(&self) -> f64 {
        match self.api {
            MetricsCall::GetMetricData => self.get_metric_data_usd_per_month,
            MetricsCall::GetMetricStatistics => self.get_metric_statistics_usd_per_month,
        }
    }
}

/// What watching these NAT gateways' rules costs a month at one-minute ticks.
pub fn watch_cost(
    rules: &[(&str, &TriggerRule)],
    api: MetricsApi,
    free_tier_share: f64,
) -> WatchCost {
    let q = metric_query(rules, chrono::DateTime::<chrono::Utc>::UNIX_EPOCH);
    let metrics_per_tick = metrics_requested(&q);
    let alarm_metrics: usize = rules.iter().map(|(_, r)| r.metrics.len()).sum();
    WatchCost {
        metrics_per_tick,
        metrics_per_month: metrics_per_tick as u64 * TICKS_PER_MONTH,
        get_metric_data_usd_per_month: get_metric_data_usd(metrics_per_tick, TICKS_PER_MONTH),
        get_metric_statistics_usd_per_month: get_metric_statistics_usd(
            metrics_per_tick,
            TICKS_PER_MONTH,
        ),
        api: choose_api(api, metrics_per_tick, TICKS_PER_MONTH, free_tier_share),
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
        let cost = watch_cost(&[("nat-01234567", &rule)], MetricsApi::GetMetricData, 0.5);
        assert_eq!(cost.metrics_per_tick, 2);
        assert_eq!(cost.api, MetricsCall::GetMetricData);
        assert!((cost.usd_per_month() - 0.864).abs() < 1e-9, "{cost:?}");
        assert!((cost.alarms_usd_per_month - 0.20).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn one_nat_read_by_get_metric_statistics_is_free() {
        let rule = TriggerRule::default();
        let cost = watch_cost(&[("nat-01234567", &rule)], MetricsApi::Auto, 0.5);
        assert_eq!(cost.api, MetricsCall::GetMetricStatistics);
        assert_eq!(cost.metrics_per_month, 86_400);
        assert_eq!(cost.usd_per_month(), 0.0);
    }

    #[test]
    fn each_nat_is_billed_for_its_own_metrics() {
        let default = TriggerRule::default();
        let own = TriggerRule {
            metrics: vec![NatMetric::BytesOutToDestination],
            ..TriggerRule::default()
        };
        let cost = watch_cost(
            &[("nat-01234567", &default), ("nat-89abcdef", &own)],
            MetricsApi::Auto,
            0.5,
        );
        assert_eq!(cost.metrics_per_tick, 3);
        assert_eq!(cost.alarm_metrics, 3);
    }

    // Half the free million at one-minute ticks is 11.57 metrics a tick.
    #[test]
    fn auto_reads_statistics_up_to_the_free_tier_share_and_data_beyond() {
        let choose = |metrics| choose_api(MetricsApi::Auto, metrics, TICKS_PER_MONTH, 0.5);
        assert_eq!(choose(11), MetricsCall::GetMetricStatistics);
        assert_eq!(choose(12), MetricsCall::GetMetricData);
        // Exactly at the share is still within it.
        assert_eq!(
            choose_api(MetricsApi::Auto, 10, 50_000, 0.5),
            MetricsCall::GetMetricStatistics
        );
        assert_eq!(
            choose_api(MetricsApi::Auto, 10, 50_001, 0.5),
            MetricsCall::GetMetricData
        );
        // A larger share keeps more NAT gateways on the free API.
        assert_eq!(
            choose_api(MetricsApi::Auto, 20, TICKS_PER_MONTH, 1.0),
            MetricsCall::GetMetricStatistics
        );
    }

    #[test]
    fn an_explicit_api_is_kept_whatever_it_costs() {
        assert_eq!(
            choose_api(MetricsApi::GetMetricStatistics, 1_000, TICKS_PER_MONTH, 0.5),
            MetricsCall::GetMetricStatistics
        );
        assert_eq!(
            choose_api(MetricsApi::GetMetricData, 1, TICKS_PER_MONTH, 0.5),
            MetricsCall::GetMetricData
        );
    }

    #[test]
    fn statistics_beyond_the_free_million_are_billed_per_request() {
        assert_eq!(get_metric_statistics_usd(20, TICKS_PER_MONTH), 0.0);
        // 100 x 43,200 = 4,320,000 requests, 3,320,000 of them billed.
        assert!((get_metric_statistics_usd(100, TICKS_PER_MONTH) - 33.2).abs() < 1e-9);
        assert!((get_metric_data_usd(100, TICKS_PER_MONTH) - 43.2).abs() < 1e-9);
    }
}
