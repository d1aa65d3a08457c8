//! `[report]`: where exports and reports go, and the prices and windows they use.

use super::*;

/// The spike chart reads at most a day before the breach (1,440 one-minute datapoints a metric).
pub const MAX_CHART_LOOKBACK_MINUTES: u32 = 1440;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    pub out_dir: PathBuf,
    /// Rows per table; 0 = all.
    pub top: usize,
    /// How far before the trigger's breach the HTML report's spike chart starts (it ends 15
    /// minutes after the recording's stop).
    pub chart_lookback_minutes: u32,
    /// Prices in USD that win over the built-in table of the NAT's region (`None`: the table's;
    /// a region the table lacks uses us-east-1's, with a warning in the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_price_per_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_price_per_hour: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_endpoint_price_per_gb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_endpoint_price_per_az_hour: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_az_price_per_gb: Option<f64>,
    /// How long before the traffic a DNS answer may be to name a remote (query logs carry no
    /// TTL).
    #[serde(deserialize_with = "crate::quantity::seconds_u32")]
    pub dns_max_age_seconds: u32,
}

impl ReportConfig {
    /// The price keys, as the reports crate takes them.
    pub fn price_overrides(&self) -> nat_flowrec_reports::PriceOverrides {
        nat_flowrec_reports::PriceOverrides {
            nat_per_gb: self.nat_price_per_gb,
            nat_per_hour: self.nat_price_per_hour,
            interface_endpoint_per_gb: self.interface_endpoint_price_per_gb,
            interface_endpoint_per_az_hour: self.interface_endpoint_price_per_az_hour,
            cross_az_per_gb: self.cross_az_price_per_gb,
        }
    }

    /// The prices of `region` with these overrides (checked by `validate`, so no error here
    /// for a loaded configuration).
    pub fn prices(
        &self,
        region: Option<&str>,
    ) -> Result<nat_flowrec_reports::Prices, nat_flowrec_reports::ReportError> {
        nat_flowrec_reports::Prices::resolve(region, &self.price_overrides())
    }

    pub(super) fn validate(&self) -> Result<(), Invalid> {
        check(
            !self.out_dir.as_os_str().is_empty(),
            "report.out_dir",
            "\"\"".to_string(),
            "a folder for exports and reports, e.g. \"nat-flowrec-reports\"",
        )?;
        check(
            (1..=MAX_CHART_LOOKBACK_MINUTES).contains(&self.chart_lookback_minutes),
            "report.chart_lookback_minutes",
            self.chart_lookback_minutes.to_string(),
            "minutes of baseline before the breach, 1 to 1440 (one day), e.g. 60",
        )?;
        for (key, value) in [
            ("report.nat_price_per_gb", self.nat_price_per_gb),
            ("report.nat_price_per_hour", self.nat_price_per_hour),
            (
                "report.interface_endpoint_price_per_gb",
                self.interface_endpoint_price_per_gb,
            ),
            (
                "report.interface_endpoint_price_per_az_hour",
                self.interface_endpoint_price_per_az_hour,
            ),
            ("report.cross_az_price_per_gb", self.cross_az_price_per_gb),
        ] {
            if let Some(v) = value {
                check(
                    v.is_finite() && v >= 0.0,
                    key,
                    v.to_string(),
                    "a price in USD, 0 or more (e.g. 0.048)",
                )?;
            }
        }
        Ok(())
    }
}

impl Default for ReportConfig {
    fn default() -> ReportConfig {
        ReportConfig {
            out_dir: PathBuf::from("nat-flowrec-reports"),
            top: 20,
            chart_lookback_minutes: 60,
            nat_price_per_gb: None,
            nat_price_per_hour: None,
            interface_endpoint_price_per_gb: None,
            interface_endpoint_price_per_az_hour: None,
            cross_az_price_per_gb: None,
            dns_max_age_seconds: nat_flowrec_reports::DEFAULT_DNS_MAX_AGE_SECONDS,
        }
    }
}
