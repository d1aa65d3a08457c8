//! The trigger's rule as the core evaluates it: which NAT gateway metrics, how they combine, the
//! threshold and CloudWatch's M-of-N with its missing-data treatment. The configuration maps its
//! `[trigger]` table (and a NAT's overrides) into one `TriggerRule` per NAT gateway; the enums
//! keep their file spelling here so the configuration can deserialize them as they are.

use serde::{Deserialize, Serialize};

use super::baseline::BaselineRule;

/// The AWS/NATGateway metrics a trigger may watch (their Sum per period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NatMetric {
    BytesInFromSource,
    BytesInFromDestination,
    BytesOutToSource,
    BytesOutToDestination,
    PacketsInFromSource,
    PacketsInFromDestination,
    PacketsOutToSource,
    PacketsOutToDestination,
}

impl NatMetric {
    pub const ALL: [NatMetric; 8] = [
        NatMetric::BytesInFromSource,
        NatMetric::BytesInFromDestination,
        NatMetric::BytesOutToSource,
        NatMetric::BytesOutToDestination,
        NatMetric::PacketsInFromSource,
        NatMetric::PacketsInFromDestination,
        NatMetric::PacketsOutToSource,
        NatMetric::PacketsOutToDestination,
    ];

    /// The CloudWatch metric name.
    pub fn as_str(self) -> &'static str {
        match self {
            NatMetric::BytesInFromSource => "BytesInFromSource",
            NatMetric::BytesInFromDestination => "BytesInFromDestination",
            NatMetric::BytesOutToSource => "BytesOutToSource",
            NatMetric::BytesOutToDestination => "BytesOutToDestination",
            NatMetric::PacketsInFromSource => "PacketsInFromSource",
            NatMetric::PacketsInFromDestination => "PacketsInFromDestination",
            NatMetric::PacketsOutToSource => "PacketsOutToSource",
            NatMetric::PacketsOutToDestination => "PacketsOutToDestination",
        }
    }

    pub fn from_name(name: &str) -> Option<NatMetric> {
        NatMetric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub fn is_packets(self) -> bool {
        self.as_str().starts_with("Packets")
    }
}

impl std::fmt::Display for NatMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// A period breaches when any chosen metric's Sum exceeds the threshold.
    #[default]
    Any,
    /// A period breaches when the chosen metrics' Sums added together exceed the threshold.
    Sum,
}

/// CloudWatch's TreatMissingData, with CloudWatch's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    /// Periods without data are left out; no data at all is InsufficientData.
    #[default]
    Missing,
    /// A period without data counts as good.
    NotBreaching,
    /// A period without data counts as bad.
    Breaching,
    /// Periods without data are left out; no data at all keeps the previous state.
    Ignore,
}

/// Which CloudWatch API reads the trigger's metrics (`trigger.metrics_api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricsApi {
    /// GetMetricStatistics while its requests stay within the configured share of CloudWatch's
    /// free million a month, GetMetricData above that (`watch_cost::choose_api`).
    #[default]
    Auto,
    /// One call a tick for every NAT gateway and metric, billed per metric requested.
    GetMetricData,
    /// One call a tick per NAT gateway and metric, inside the free tier.
    GetMetricStatistics,
}

impl MetricsApi {
    /// The key's value as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricsApi::Auto => "auto",
            MetricsApi::GetMetricData => "get_metric_data",
            MetricsApi::GetMetricStatistics => "get_metric_statistics",
        }
    }
}

/// One NAT gateway's trigger rule, checked by the configuration before it gets here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerRule {
    pub metrics: Vec<NatMetric>,
    pub combine: Combine,
    /// Compared with each period's Sum (bytes, or packets for the packet metrics).
    pub threshold_bytes: u64,
    pub period_seconds: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub treat_missing_data: TreatMissingData,
    /// Baseline mode: a period breaches above `factor` x the NAT's baseline for its hour of the
    /// week, and above `threshold_bytes` (the floor).
    pub baseline: Option<BaselineRule>,
}

impl Default for TriggerRule {
    /// The documented defaults: either NAT inbound byte metric above 100 MB in 1 of the last 3
    /// minutes.
    fn default() -> TriggerRule {
        TriggerRule {
            metrics: vec![
                NatMetric::BytesInFromSource,
                NatMetric::BytesInFromDestination,
            ],
            combine: Combine::Any,
            threshold_bytes: 100_000_000,
            period_seconds: 60,
            evaluation_periods: 3,
            datapoints_to_alarm: 1,
            treat_missing_data: TreatMissingData::Missing,
            baseline: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip() {
        for m in NatMetric::ALL {
            assert_eq!(NatMetric::from_name(m.as_str()), Some(m));
        }
        assert_eq!(NatMetric::from_name("BytesIn"), None);
        assert!(NatMetric::PacketsOutToSource.is_packets());
        assert!(!NatMetric::BytesOutToSource.is_packets());
    }
}
