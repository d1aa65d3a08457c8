//! `[trigger]` and the per-NAT `[nats."nat-…"]` tables: when a NAT's traffic is a spike. They map
//! into `core::TriggerRule`, one per NAT.

use super::*;

pub use crate::core::baseline::{
    DEFAULT_DAYS as DEFAULT_BASELINE_DAYS, DEFAULT_FACTOR as DEFAULT_BASELINE_FACTOR,
};
/// CloudWatch keeps hourly datapoints for 455 days.
const MAX_BASELINE_DAYS: u32 = 455;

/// Half of CloudWatch's free million requests a month for the trigger, half for the account.
pub const DEFAULT_FREE_TIER_SHARE: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriggerConfig {
    pub mode: TriggerMode,
    /// Alarm mode: one alarm for every NAT, or one per NAT in `nat_gateway_ids` order.
    pub alarm_names: Vec<String>,
    pub metrics: Vec<NatMetric>,
    pub combine: Combine,
    /// Compared with each period's Sum (bytes, or packets for the packet metrics): a number,
    /// or with a unit, `"100MB"`.
    #[serde(deserialize_with = "crate::quantity::bytes")]
    pub threshold_bytes: u64,
    #[serde(deserialize_with = "crate::quantity::seconds_u32")]
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub treat_missing_data: TreatMissingData,
    /// Baseline mode: a period breaches above this many times the NAT's baseline for its hour
    /// of the week (and above `threshold_bytes`, the floor).
    pub baseline_factor: f64,
    /// Baseline mode: the days of hourly history the baseline is the p95 of.
    pub baseline_days: u32,
    /// Which CloudWatch API reads the metrics (`core::watch_cost::choose_api`).
    pub metrics_api: MetricsApi,
    /// The share of CloudWatch's free million API requests a month that `metrics_api = "auto"`
    /// lets the job spend on GetMetricStatistics; the rest is left to the account's other users.
    pub free_tier_share: f64,
}

/// One NAT gateway's trigger keys; each key left out is `[trigger]`'s. A busy gateway and a
/// quiet one rarely share a threshold.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<NatMetric>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine: Option<Combine>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::quantity::optional_bytes"
    )]
    pub threshold_bytes: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::quantity::optional_seconds_u32"
    )]
    pub period_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<TreatMissingData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_factor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_days: Option<u32>,
}

impl NatOverride {
    /// `trigger` with this NAT gateway's keys in place of its own.
    pub(super) fn apply(&self, trigger: &TriggerConfig) -> TriggerConfig {
        let mut t = trigger.clone();
        if let Some(v) = &self.metrics {
            t.metrics = v.clone();
        }
        if let Some(v) = self.combine {
            t.combine = v;
        }
        if let Some(v) = self.threshold_bytes {
            t.threshold_bytes = v;
        }
        if let Some(v) = self.period_seconds {
            t.period_seconds = v;
        }
        if let Some(v) = self.evaluation_periods {
            t.evaluation_periods = v;
        }
        if let Some(v) = self.datapoints_to_alarm {
            t.datapoints_to_alarm = v;
        }
        if let Some(v) = self.treat_missing_data {
            t.treat_missing_data = v;
        }
        if let Some(v) = self.baseline_factor {
            t.baseline_factor = v;
        }
        if let Some(v) = self.baseline_days {
            t.baseline_days = v;
        }
        t
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerMode {
    /// Evaluate the M-of-N rule from GetMetricData ourselves.
    #[default]
    Metrics,
    /// Follow existing CloudWatch alarms (DescribeAlarms).
    Alarm,
    /// The M-of-N rule against each NAT's own normal: a period breaches above
    /// `baseline_factor` x the p95 of its hour of the week (and above `threshold_bytes`).
    Baseline,
}

impl TriggerMode {
    /// Whether the job reads the NAT metrics itself (metrics and baseline mode).
    pub fn reads_metrics(self) -> bool {
        matches!(self, TriggerMode::Metrics | TriggerMode::Baseline)
    }
}

impl TriggerConfig {
    /// The rule the core evaluates (metrics mode).
    pub fn rule(&self) -> TriggerRule {
        TriggerRule {
            metrics: self.metrics.clone(),
            combine: self.combine,
            threshold_bytes: self.threshold_bytes,
            period_seconds: self.period_seconds,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
            treat_missing_data: self.treat_missing_data,
            baseline: (self.mode == TriggerMode::Baseline).then_some(BaselineRule {
                factor: self.baseline_factor,
                days: self.baseline_days,
            }),
        }
    }

    pub(super) fn validate(&self, nat_count: usize) -> Result<(), Invalid> {
        if self.mode == TriggerMode::Alarm {
            let n = self.alarm_names.len();
            check(
                n == 1 || (n > 0 && n == nat_count),
                "trigger.alarm_names",
                toml_list(&self.alarm_names),
                &format!(
                    "with mode = \"alarm\": one alarm name for every NAT gateway, or one per NAT gateway in nat_gateway_ids order ({nat_count})"
                ),
            )?;
        }
        for (i, name) in self.alarm_names.iter().enumerate() {
            check(
                !name.trim().is_empty() && name.chars().count() <= 255,
                &format!("trigger.alarm_names[{i}]"),
                quoted(name),
                "a CloudWatch alarm name (1 to 255 characters)",
            )?;
        }
        check(
            !self.metrics.is_empty(),
            "trigger.metrics",
            "[]".to_string(),
            &format!("at least one of {}", metric_names()),
        )?;
        for (i, metric) in self.metrics.iter().enumerate() {
            check(
                !self.metrics[..i].contains(metric),
                &format!("trigger.metrics[{i}]"),
                quoted(metric.as_str()),
                "each metric once (this one is listed twice)",
            )?;
        }
        check(
            self.mode == TriggerMode::Alarm || self.threshold_bytes > 0,
            "trigger.threshold_bytes",
            "0".to_string(),
            "more than 0 (at 0 every minute with any traffic breaches); e.g. \"100MB\"",
        )?;
        check(
            self.period_seconds >= 60 && self.period_seconds.is_multiple_of(60),
            "trigger.period_seconds",
            self.period_seconds.to_string(),
            "60 or a multiple of 60 (NAT gateway metrics have one-minute resolution)",
        )?;
        check(
            self.evaluation_periods >= 1,
            "trigger.evaluation_periods",
            self.evaluation_periods.to_string(),
            "at least 1",
        )?;
        check(
            u64::from(self.evaluation_periods) * u64::from(self.period_seconds)
                <= MAX_EVALUATION_WINDOW_SECONDS,
            "trigger.evaluation_periods",
            self.evaluation_periods.to_string(),
            &format!(
                "evaluation_periods x period_seconds ({}) at most 86400 (one day, as CloudWatch alarms)",
                self.period_seconds
            ),
        )?;
        check(
            self.datapoints_to_alarm >= 1 && self.datapoints_to_alarm <= self.evaluation_periods,
            "trigger.datapoints_to_alarm",
            self.datapoints_to_alarm.to_string(),
            &format!("from 1 to evaluation_periods ({})", self.evaluation_periods),
        )?;
        check(
            self.baseline_factor.is_finite() && self.baseline_factor >= 1.0,
            "trigger.baseline_factor",
            self.baseline_factor.to_string(),
            "a number of at least 1 (how many times the NAT gateway's normal traffic for the hour is unusual; e.g. 3)",
        )?;
        check(
            (7..=MAX_BASELINE_DAYS).contains(&self.baseline_days),
            "trigger.baseline_days",
            self.baseline_days.to_string(),
            "from 7 (every hour of the week seen once) to 455 (CloudWatch keeps hourly data that long)",
        )?;
        check(
            self.free_tier_share > 0.0 && self.free_tier_share <= 1.0,
            "trigger.free_tier_share",
            self.free_tier_share.to_string(),
            "more than 0 and at most 1: the share of CloudWatch's free million API requests a month the trigger may use (0.5 = half)",
        )
    }
}

impl Default for TriggerConfig {
    fn default() -> TriggerConfig {
        let rule = TriggerRule::default();
        TriggerConfig {
            mode: TriggerMode::Metrics,
            alarm_names: Vec::new(),
            metrics: rule.metrics,
            combine: rule.combine,
            threshold_bytes: rule.threshold_bytes,
            period_seconds: rule.period_seconds,
            evaluation_periods: rule.evaluation_periods,
            datapoints_to_alarm: rule.datapoints_to_alarm,
            treat_missing_data: rule.treat_missing_data,
            baseline_factor: DEFAULT_BASELINE_FACTOR,
            baseline_days: DEFAULT_BASELINE_DAYS,
            metrics_api: MetricsApi::Auto,
            free_tier_share: DEFAULT_FREE_TIER_SHARE,
        }
    }
}
