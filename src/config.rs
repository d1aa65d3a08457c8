//! The configuration file (TOML): what the scheduled job watches, when it records, and its guards.
//!
//! Every key has a default except `nat_gateway_ids`, unknown keys are errors (a typo such as
//! `max_recording = 1` must not silently leave the budget unlimited), and every value is checked
//! once here, so the core can trust it. An error names the file, the key, the value and what would
//! be valid; TOML syntax errors keep toml's line and column.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::core::{Combine, LogGroupClass, NatMetric, TreatMissingData};
use crate::core::{Policy, RecordingSettings, TriggerRule};
use crate::names::{ArnParts, NameError, NatGatewayId, Region, RoleArn, S3Object, S3Uri, TopicArn};

mod export;
pub use export::{ExportConfig, MaxRequestsPerSecond};

/// The default 14 fields: both NAT legs (`pkt-*`) and the AWS service of each end.
pub const DEFAULT_LOG_FORMAT: &str = nat_flowrec_parsers::DEFAULT_FORMAT;

/// The NAT gateway the commented example (and `Config::default()`) names; users replace it.
pub const EXAMPLE_NAT_GATEWAY_ID: &str = "nat-0123456789abcdef0";

/// The simulated NAT gateway of `nat-flowrec demo`.
pub const DEMO_NAT_GATEWAY_ID: &str = "nat-0d3e0000000000001";

/// A runaway recording is a runaway bill: no recording may be asked to last longer than a day.
pub const HARD_CAP_SECONDS: u64 = 86_400;

/// Retention periods CloudWatch Logs' PutRetentionPolicy accepts.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The longest rolling budget window we accept (ten years); longer is a typo for "lifetime" (0).
const MAX_WINDOW_SECONDS: u64 = 10 * 366 * 86_400;

/// CloudWatch alarms evaluate at most one day of periods; so do we (it bounds the metric query).
const MAX_EVALUATION_WINDOW_SECONDS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `None`: the SDK's default chain (AWS_REGION, the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Required: there is no sensible default NAT gateway.
    pub nat_gateway_ids: Vec<NatGatewayId>,
    /// The event log (JSON Lines).
    #[serde(default = "default_state")]
    pub state: PathBuf,
    #[serde(default)]
    pub trigger: TriggerConfig,
    /// `[nats."nat-…"]`: `[trigger]` keys that differ for one NAT gateway of `nat_gateway_ids`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nats: BTreeMap<String, NatOverride>,
    #[serde(default)]
    pub recording: RecordingConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub export: ExportConfig,
}

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
}

impl NatOverride {
    /// `trigger` with this NAT gateway's keys in place of its own.
    fn apply(&self, trigger: &TriggerConfig) -> TriggerConfig {
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
        t
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingConfig {
    pub log_group: String,
    pub log_group_class: LogGroupClass,
    pub retention_days: u32,
    pub deliver_logs_role_arn: RoleArn,
    pub log_format: String,
    pub max_aggregation_interval: u32,
    /// 0 = until the trigger is OK (never past `max_recording_seconds`).
    #[serde(deserialize_with = "crate::quantity::seconds")]
    pub recording_seconds: u64,
    #[serde(deserialize_with = "crate::quantity::seconds")]
    pub max_recording_seconds: u64,
    /// Per NAT gateway; 0 = unlimited.
    pub max_recordings: u32,
    /// 0 = the budget counts every recording since the last reset; else a rolling window.
    #[serde(deserialize_with = "crate::quantity::seconds")]
    pub max_recordings_window_seconds: u64,
    /// Wait after a stop before exporting: flow logs deliver minutes late.
    #[serde(deserialize_with = "crate::quantity::seconds")]
    pub settle_seconds: u64,
    /// What one recording may spend on flow-log ingestion, USD; 0 = no cap.
    pub max_cost_usd: f64,
    /// What all recordings of a calendar month (UTC) may spend, USD; 0 = no cap.
    pub max_cost_usd_per_month: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Empty (`None`): no notification.
    #[serde(with = "empty_is_none")]
    pub sns_topic_arn: Option<TopicArn>,
    /// Empty (`None`): reports stay local.
    #[serde(with = "empty_is_none")]
    pub report_s3_uri: Option<S3Uri>,
    /// How long the pre-signed link to the uploaded report works (S3 allows at most 7 days).
    #[serde(deserialize_with = "crate::quantity::seconds")]
    pub presign_seconds: u64,
    /// The `default` and `https` text is in the custom-notification format of Amazon Q
    /// Developer in chat applications (AWS Chatbot), for topics wired to Slack or Teams.
    pub chat: bool,
    /// Notify once per spike that the recording budget kept it from being recorded.
    pub on_budget_exhausted: bool,
}

/// The longest a pre-signed S3 link may work (SigV4's limit: 7 days).
pub const MAX_PRESIGN_SECONDS: u64 = 604_800;

/// The spike chart reads at most a day before the breach (1,440 one-minute datapoints a metric).
pub const MAX_CHART_LOOKBACK_MINUTES: u32 = 1440;

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            sns_topic_arn: None,
            report_s3_uri: None,
            presign_seconds: MAX_PRESIGN_SECONDS,
            chat: false,
            on_budget_exhausted: true,
        }
    }
}

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

    fn validate(&self) -> Result<(), Invalid> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerMode {
    /// Evaluate the M-of-N rule from GetMetricData ourselves.
    #[default]
    Metrics,
    /// Follow existing CloudWatch alarms (DescribeAlarms).
    Alarm,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no configuration at {path}: write an example with `nat-flowrec init`, or pass --config PATH"
    )]
    Missing { path: PathBuf },
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax, a value of the wrong type, an unknown key or a missing required key; toml's
    /// message carries the line and column.
    #[error("{origin}: {source}")]
    Syntax {
        origin: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{origin}: `{key}` = {value} is not valid: {expected}")]
    Invalid {
        origin: String,
        /// Dotted, as in the file: `recording.retention_days`, `nat_gateway_ids[1]`.
        key: String,
        /// Rendered as TOML.
        value: String,
        expected: String,
    },
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ConfigError::Missing {
                    path: path.to_path_buf(),
                }
            } else {
                ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Config::from_toml_str(&text, &path.display().to_string())
    }

    /// `origin` names the text in errors (a path, or `<example>`).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let syntax = |source| ConfigError::Syntax {
            origin: origin.to_string(),
            source: Box::new(source),
        };
        let document = toml::Deserializer::parse(text).map_err(syntax)?;
        let config: Config = serde_path_to_error::deserialize(document).map_err(|e| {
            let key = e.path().to_string();
            let source = e.into_inner();
            match NameError::from_message(source.message()) {
                Some(e) => Invalid {
                    expected: in_context(&key, e.expected),
                    value: quoted(&e.value),
                    key,
                }
                .at(origin),
                None => syntax(source),
            }
        })?;
        config.validate().map_err(|v| v.at(origin))?;
        Ok(config)
    }

    /// The commented file `nat-flowrec init` writes; it loads to `Config::default()`.
    pub fn example() -> &'static str {
        EXAMPLE
    }

    /// A configuration for the in-process simulator (`nat-flowrec demo`): the demo NAT, state and
    /// reports under `work_dir`, short recordings so the whole loop fits in a few simulated
    /// minutes.
    pub fn demo(work_dir: &Path) -> Config {
        Config {
            region: Some(Region::fixed("us-east-1")),
            notify: NotifyConfig {
                sns_topic_arn: Some(TopicArn::fixed(
                    "us-east-1",
                    "123456789012",
                    "nat-flowrec-demo",
                )),
                ..NotifyConfig::default()
            },
            nat_gateway_ids: vec![NatGatewayId::fixed(DEMO_NAT_GATEWAY_ID)],
            state: work_dir.join("events.jsonl"),
            recording: RecordingConfig {
                recording_seconds: 600,
                max_recording_seconds: 1_800,
                settle_seconds: 300,
                ..RecordingConfig::default()
            },
            report: ReportConfig {
                out_dir: work_dir.join("reports"),
                ..ReportConfig::default()
            },
            ..Config::default()
        }
    }

    /// `[trigger]` with `nat_gateway_id`'s `[nats."…"]` keys in place.
    pub fn trigger_for(&self, nat_gateway_id: &str) -> TriggerConfig {
        match self.nats.get(nat_gateway_id) {
            Some(o) => o.apply(&self.trigger),
            None => self.trigger.clone(),
        }
    }

    /// The rule the core evaluates for `nat_gateway_id` (metrics mode).
    pub fn rule_for(&self, nat_gateway_id: &str) -> TriggerRule {
        self.trigger_for(nat_gateway_id).rule()
    }

    /// The alarm that decides `nat_gateway_id`'s trigger in alarm mode.
    pub fn alarm_name_for(&self, nat_gateway_id: &str) -> Option<&str> {
        match self.trigger.alarm_names.as_slice() {
            [one] => Some(one.as_str()),
            names => {
                let index = self
                    .nat_gateway_ids
                    .iter()
                    .position(|id| id == nat_gateway_id)?;
                names.get(index).map(String::as_str)
            }
        }
    }

    /// Checks every value the types alone cannot; the first problem found is returned.
    pub fn validate(&self) -> Result<(), Invalid> {
        check(
            !self.nat_gateway_ids.is_empty(),
            "nat_gateway_ids",
            "[]".to_string(),
            "at least one NAT gateway id",
        )?;
        for (i, id) in self.nat_gateway_ids.iter().enumerate() {
            check(
                !self.nat_gateway_ids[..i].contains(id),
                &format!("nat_gateway_ids[{i}]"),
                quoted(id),
                "each NAT gateway once (this one is listed twice)",
            )?;
        }
        check(
            !self.state.as_os_str().is_empty(),
            "state",
            "\"\"".to_string(),
            "a path for the event log, e.g. \"nat-flowrec-state/events.jsonl\"",
        )?;
        if let Some(Err(e)) = self.state.to_str().and_then(S3Object::in_text) {
            check(false, "state", quoted(&e.value), &e.expected)?;
        }
        self.trigger.validate(self.nat_gateway_ids.len())?;
        for id in self.nats.keys() {
            let key = format!("nats.{id:?}");
            check(
                self.nat_gateway_ids.iter().any(|nat| nat.as_str() == id),
                &key,
                "{ ... }".to_string(),
                &format!(
                    "a table for a NAT gateway of nat_gateway_ids ({}); remove it or add the NAT gateway there",
                    self.nat_gateway_ids
                        .iter()
                        .map(NatGatewayId::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )?;
            // A value here names the NAT's table even when the clash is with a `[trigger]` key
            // it kept (say datapoints_to_alarm above its own evaluation_periods).
            self.trigger_for(id)
                .validate(self.nat_gateway_ids.len())
                .map_err(|mut invalid| {
                    if let Some(rest) = invalid.key.strip_prefix("trigger.") {
                        invalid.key = format!("{key}.{rest}");
                    }
                    invalid
                })?;
        }
        self.recording.validate()?;
        self.notify.validate()?;
        self.report.validate()?;
        self.export.validate()
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
        }
    }

    fn validate(&self, nat_count: usize) -> Result<(), Invalid> {
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
        )
    }
}

impl RecordingConfig {
    /// Where and how recordings deliver, as the core writes it into requests and events.
    pub fn settings(&self) -> RecordingSettings {
        RecordingSettings {
            log_group: self.log_group.clone(),
            log_group_class: self.log_group_class,
            retention_days: self.retention_days,
            deliver_logs_role_arn: self.deliver_logs_role_arn.to_string(),
            log_format: self.log_format.clone(),
            max_aggregation_interval: self.max_aggregation_interval,
        }
    }

    /// The recording guards the core applies, with the vended-log ingestion price of the
    /// log group's class in `region` (us-east-1's where the table has no price for it).
    pub fn policy(&self, region: Option<&str>) -> Policy {
        let prices = nat_flowrec_reports::LogIngestionPrices::for_region(region);
        Policy {
            recording_seconds: self.recording_seconds,
            max_recording_seconds: self.max_recording_seconds,
            max_recordings: self.max_recordings,
            window_seconds: self.max_recordings_window_seconds,
            max_cost_usd: self.max_cost_usd,
            max_cost_usd_per_month: self.max_cost_usd_per_month,
            ingestion_price_per_gb: match self.log_group_class {
                LogGroupClass::Standard => prices.standard_per_gb,
                LogGroupClass::InfrequentAccess => prices.infrequent_access_per_gb,
            },
        }
    }

    fn validate(&self) -> Result<(), Invalid> {
        if self.log_group.starts_with("arn:") {
            // An ARN may name another account's group; CreateFlowLogs delivers by name, always
            // into the job's own account and region.
            let account = ArnParts::split(&self.log_group).map_or("", |arn| arn.account);
            return Err(Invalid {
                key: "recording.log_group".to_string(),
                value: quoted(&self.log_group),
                expected: format!(
                    "a log group name, not an ARN: recordings deliver to a group of the job's own \
                     account and region (this ARN names account `{account}`); write only the \
                     name after `log-group:`"
                ),
            });
        }
        check(
            is_log_group_name(&self.log_group),
            "recording.log_group",
            quoted(&self.log_group),
            "a CloudWatch Logs group name: 1 to 512 of A-Z a-z 0-9 _ - / . #",
        )?;
        check(
            RETENTION_DAYS.contains(&self.retention_days),
            "recording.retention_days",
            self.retention_days.to_string(),
            &format!(
                "one of CloudWatch Logs' retention periods: {}",
                RETENTION_DAYS
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )?;
        if let Err(problem) = check_log_format(&self.log_format) {
            return Err(Invalid {
                key: "recording.log_format".to_string(),
                value: quoted(&self.log_format),
                expected: problem,
            });
        }
        check(
            matches!(self.max_aggregation_interval, 60 | 600),
            "recording.max_aggregation_interval",
            self.max_aggregation_interval.to_string(),
            "60 or 600 (seconds; 60 delivers records sooner)",
        )?;
        check(
            self.max_recording_seconds > 0 && self.max_recording_seconds <= HARD_CAP_SECONDS,
            "recording.max_recording_seconds",
            self.max_recording_seconds.to_string(),
            "from 1 to 86400 (a day: a runaway recording is a runaway bill)",
        )?;
        check(
            self.recording_seconds <= self.max_recording_seconds,
            "recording.recording_seconds",
            self.recording_seconds.to_string(),
            &format!(
                "0 (until the trigger is OK) or at most max_recording_seconds ({})",
                self.max_recording_seconds
            ),
        )?;
        for (key, value) in [
            ("recording.max_cost_usd", self.max_cost_usd),
            (
                "recording.max_cost_usd_per_month",
                self.max_cost_usd_per_month,
            ),
        ] {
            check(
                value.is_finite() && value >= 0.0,
                key,
                value.to_string(),
                "0 (no cap) or a dollar amount, e.g. 5.0",
            )?;
        }
        check(
            self.max_recordings_window_seconds <= MAX_WINDOW_SECONDS,
            "recording.max_recordings_window_seconds",
            self.max_recordings_window_seconds.to_string(),
            "0 (count since the last budget reset) or a window of at most ten years, in seconds",
        )
    }
}

impl NotifyConfig {
    fn validate(&self) -> Result<(), Invalid> {
        check(
            (1..=MAX_PRESIGN_SECONDS).contains(&self.presign_seconds),
            "notify.presign_seconds",
            self.presign_seconds.to_string(),
            "from 1 to 604800 seconds (S3 pre-signed links work at most 7 days)",
        )?;
        Ok(())
    }
}

/// A value that failed validation; `Config::from_toml_str` adds the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: String,
    pub value: String,
    pub expected: String,
}

impl Invalid {
    fn at(self, origin: &str) -> ConfigError {
        ConfigError::Invalid {
            origin: origin.to_string(),
            key: self.key,
            value: self.value,
            expected: self.expected,
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` = {} is not valid: {}",
            self.key, self.value, self.expected
        )
    }
}

fn check(ok: bool, key: &str, value: String, expected: &str) -> Result<(), Invalid> {
    if ok {
        Ok(())
    } else {
        Err(Invalid {
            key: key.to_string(),
            value,
            expected: expected.to_string(),
        })
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn toml_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn metric_names() -> String {
    let mut out = String::new();
    for (i, m) in NatMetric::ALL.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{m}");
    }
    out
}

fn is_log_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'#'))
}

/// The format CreateFlowLogs takes (`${field}` tokens), checked by the same parser that will read
/// the records, so a format that records cannot later be read is refused up front.
fn check_log_format(format: &str) -> Result<(), String> {
    nat_flowrec_parsers::LogFormat::parse(format)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The valid set of an AWS name at `key`, with what leaving the key out or empty means.
fn in_context(key: &str, expected: String) -> String {
    match key {
        "region" => format!("{expected} (or leave the key out for the SDK's default chain)"),
        "notify.sns_topic_arn" => format!("empty (no notification) or {expected}"),
        "notify.report_s3_uri" => format!("empty (reports stay local) or {expected}"),
        _ => expected,
    }
}

/// An optional name written as `""` when absent (the example shows every key).
mod empty_is_none {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, N: AsRef<str>>(
        name: &Option<N>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(name.as_ref().map_or("", AsRef::as_ref))
    }

    pub fn deserialize<'de, D, N>(d: D) -> Result<Option<N>, D::Error>
    where
        D: Deserializer<'de>,
        N: std::str::FromStr<Err = crate::names::NameError>,
    {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(serde::de::Error::custom::<crate::names::NameError>)
    }
}

fn default_state() -> PathBuf {
    PathBuf::from("nat-flowrec-state/events.jsonl")
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: None,
            nat_gateway_ids: vec![NatGatewayId::fixed(EXAMPLE_NAT_GATEWAY_ID)],
            state: default_state(),
            trigger: TriggerConfig::default(),
            nats: BTreeMap::new(),
            recording: RecordingConfig::default(),
            notify: NotifyConfig::default(),
            report: ReportConfig::default(),
            export: ExportConfig::default(),
        }
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
        }
    }
}

impl Default for RecordingConfig {
    fn default() -> RecordingConfig {
        let settings = RecordingSettings::default();
        let policy = Policy::default();
        RecordingConfig {
            log_group: settings.log_group,
            log_group_class: settings.log_group_class,
            retention_days: settings.retention_days,
            deliver_logs_role_arn: RoleArn::fixed("aws", "123456789012", "nat-flowrec-delivery"),
            log_format: settings.log_format,
            max_aggregation_interval: settings.max_aggregation_interval,
            recording_seconds: policy.recording_seconds,
            max_recording_seconds: policy.max_recording_seconds,
            max_recordings: policy.max_recordings,
            max_recordings_window_seconds: policy.window_seconds,
            settle_seconds: 600,
            max_cost_usd: policy.max_cost_usd,
            max_cost_usd_per_month: policy.max_cost_usd_per_month,
        }
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

const EXAMPLE: &str = r#"# nat-flowrec configuration. Every key but nat_gateway_ids has the default shown here;
# unknown keys are errors, so a typo cannot silently switch a guard off.

# AWS region; leave it out to use the SDK's default chain (AWS_REGION, the profile).
# region = "us-east-1"

# The NAT gateways to watch (replace with yours).
nat_gateway_ids = ["nat-0123456789abcdef0"]

# The event log: the job's memory (append-only JSON Lines).
state = "nat-flowrec-state/events.jsonl"

[trigger]
# metrics: evaluate the rule below from CloudWatch metrics | alarm: follow existing CloudWatch
# alarms (alarm_names = ["one-for-all"] or one per NAT gateway, in nat_gateway_ids order).
mode = "metrics"
alarm_names = []
# Any of BytesInFromSource, BytesInFromDestination, BytesOutToSource, BytesOutToDestination,
# PacketsInFromSource, PacketsInFromDestination, PacketsOutToSource, PacketsOutToDestination.
metrics = ["BytesInFromSource", "BytesInFromDestination"]
# any: a period breaches when any metric's Sum > threshold | sum: when their total does.
combine = "any"
# Bytes (packets for the packet metrics) per period: a number, or with a unit ("1.5GB").
threshold_bytes = "100MB"
# 60 or a multiple of 60. Every duration here is seconds, or with a unit: "90s", "10m", "6h".
period_seconds = 60
# Breaching when datapoints_to_alarm of the last evaluation_periods complete periods breach.
evaluation_periods = 3
datapoints_to_alarm = 1
# missing | notBreaching | breaching | ignore (CloudWatch's meanings).
treat_missing_data = "missing"

# Any [trigger] key but mode and alarm_names, for one NAT gateway of nat_gateway_ids:
# [nats."nat-0123456789abcdef0"]
# threshold_bytes = "1GB"

[recording]
log_group = "/nat-flowrec/flowlogs"
# INFREQUENT_ACCESS: half the ingestion price, Logs Insights still works | STANDARD.
log_group_class = "INFREQUENT_ACCESS"
retention_days = 7
# The role VPC Flow Logs assumes to write to CloudWatch Logs.
deliver_logs_role_arn = "arn:aws:iam::123456789012:role/nat-flowrec-delivery"
log_format = "${action} ${flow-direction} ${traffic-path} ${srcaddr} ${srcport} ${dstaddr} ${dstport} ${protocol} ${bytes} ${type} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service}"
# 60 or 600 seconds; 60 delivers records sooner.
max_aggregation_interval = 60
# 0 = until the trigger is OK, never past max_recording_seconds.
recording_seconds = "15m"
# The hard cap of any recording (at most 86400, one day).
max_recording_seconds = "6h"
# Per NAT gateway; 0 = unlimited.
max_recordings = 0
# 0 = count recordings since the last `budget reset`; else a rolling window in seconds.
max_recordings_window_seconds = 0
# Wait after a stop before exporting (flow logs deliver minutes late).
settle_seconds = "10m"
# USD of flow-log ingestion (CloudWatch's IncomingBytes of the log group at the region's price
# for its class): a recording stops with reason "cost cap" at max_cost_usd; once the month's
# recordings reach max_cost_usd_per_month, spikes go unrecorded until the next month. 0 = no cap.
max_cost_usd = 0.0
max_cost_usd_per_month = 0.0

[notify]
# Empty = no notification.
sns_topic_arn = ""
# Optional: where full reports are uploaded, s3://bucket/prefix; the message links to them.
report_s3_uri = ""
# How long that link works, in seconds (at most 604800, 7 days).
presign_seconds = 604800
# true: the message for chat (Slack, Teams through Amazon Q Developer in chat applications,
# formerly AWS Chatbot) is in its custom-notification format; e-mail keeps the text.
chat = false
# Notify once per spike that the recording budget kept it from being recorded.
on_budget_exhausted = true

[report]
# Exports and reports, one folder per recording.
out_dir = "nat-flowrec-reports"
top = 20
# The HTML report's spike chart starts this many minutes before the trigger's breach.
chart_lookback_minutes = 60
# Prices in USD; the built-in table of the NAT's region applies when they are left out (a region
# the table lacks uses us-east-1's, and every report warns). See aws.amazon.com/vpc/pricing.
# nat_price_per_gb = 0.045
# nat_price_per_hour = 0.045
# interface_endpoint_price_per_gb = 0.01
# interface_endpoint_price_per_az_hour = 0.01
# cross_az_price_per_gb = 0.01
# A DNS answer names a remote for traffic up to this long after it (`report --dns`).
dns_max_age_seconds = 3600

[export]
# How a recording's flow logs are read: "get_log_events" (per stream; AWS allows 25 requests a
# second per account and region) or "filter_log_events" (5 a second).
read_api = "get_log_events"

[export.max_requests_per_second]
# The export's own pace, below AWS's quotas: they are shared with everyone in the account.
get_log_events = 20
filter_log_events = 3
describe_log_streams = 3
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "nat_gateway_ids = [\"nat-0123456789abcdef0\"]\n";

    fn with(extra: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(&format!("{MINIMAL}{extra}"), "test.toml")
    }

    fn invalid_key(result: Result<Config, ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn example_loads_and_equals_the_defaults() {
        let config = Config::from_toml_str(Config::example(), "<example>").unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn defaults_are_the_documented_values() {
        let c = Config::from_toml_str(MINIMAL, "t").unwrap();
        assert_eq!(c.region, None);
        assert_eq!(c.state, PathBuf::from("nat-flowrec-state/events.jsonl"));
        assert_eq!(c.trigger.mode, TriggerMode::Metrics);
        assert_eq!(
            c.trigger.metrics,
            vec![
                NatMetric::BytesInFromSource,
                NatMetric::BytesInFromDestination
            ]
        );
        assert_eq!(c.trigger.combine, Combine::Any);
        assert_eq!(c.trigger.threshold_bytes, 100_000_000);
        assert_eq!(
            (
                c.trigger.period_seconds,
                c.trigger.evaluation_periods,
                c.trigger.datapoints_to_alarm
            ),
            (60, 3, 1)
        );
        assert_eq!(c.trigger.treat_missing_data, TreatMissingData::Missing);
        assert_eq!(c.recording.log_group, "/nat-flowrec/flowlogs");
        assert_eq!(c.recording.log_group_class.as_str(), "INFREQUENT_ACCESS");
        assert_eq!(c.recording.retention_days, 7);
        assert_eq!(c.recording.log_format, DEFAULT_LOG_FORMAT);
        assert_eq!(c.recording.log_format.split(' ').count(), 14);
        assert_eq!(c.recording.max_aggregation_interval, 60);
        assert_eq!(c.recording.recording_seconds, 900);
        assert_eq!(c.recording.max_recording_seconds, 21_600);
        assert_eq!(c.recording.max_recordings, 0);
        assert_eq!(c.recording.max_recordings_window_seconds, 0);
        assert_eq!(c.recording.settle_seconds, 600);
        assert_eq!(c.notify, NotifyConfig::default());
        assert_eq!(c.report.out_dir, PathBuf::from("nat-flowrec-reports"));
        assert_eq!(c.report.top, 20);
    }

    #[test]
    fn demo_config_is_valid() {
        let c = Config::demo(Path::new("/tmp/demo"));
        c.validate().unwrap();
        assert_eq!(c.nat_gateway_ids, vec![DEMO_NAT_GATEWAY_ID]);
        assert_eq!(c.state, PathBuf::from("/tmp/demo/events.jsonl"));
    }

    #[test]
    fn every_enum_spelling_is_accepted() {
        let c = with(
            "[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\"]\ncombine = \"sum\"\ntreat_missing_data = \"notBreaching\"\n\
             metrics = [\"BytesInFromSource\", \"BytesInFromDestination\", \"BytesOutToSource\", \"BytesOutToDestination\", \
             \"PacketsInFromSource\", \"PacketsInFromDestination\", \"PacketsOutToSource\", \"PacketsOutToDestination\"]\n\
             [recording]\nlog_group_class = \"STANDARD\"\n",
        )
        .unwrap();
        assert_eq!(c.trigger.mode, TriggerMode::Alarm);
        assert_eq!(c.trigger.combine, Combine::Sum);
        assert_eq!(c.trigger.metrics, NatMetric::ALL.to_vec());
        assert_eq!(c.recording.log_group_class, LogGroupClass::Standard);
        for (text, want) in [
            ("missing", TreatMissingData::Missing),
            ("notBreaching", TreatMissingData::NotBreaching),
            ("breaching", TreatMissingData::Breaching),
            ("ignore", TreatMissingData::Ignore),
        ] {
            let c = with(&format!("[trigger]\ntreat_missing_data = \"{text}\"\n")).unwrap();
            assert_eq!(c.trigger.treat_missing_data, want);
        }
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        for (text, bad) in [
            ("max_recording = 1\n", "max_recording"),
            ("[recording]\nmax_recording = 1\n", "max_recording"),
            ("[trigger]\nthreshold = 5\n", "threshold"),
            ("[notify]\nemail = \"x\"\n", "email"),
            ("[report]\nformat = \"csv\"\n", "format"),
            ("[reports]\ntop = 3\n", "reports"),
        ] {
            let err = with(text).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, ConfigError::Syntax { .. }), "{message}");
            assert!(message.contains(bad), "{message}");
            assert!(message.contains("line"), "{message}");
            assert!(message.starts_with("test.toml: "), "{message}");
        }
    }

    #[test]
    fn syntax_errors_keep_line_and_column() {
        let err = Config::from_toml_str(
            "nat_gateway_ids = [\"nat-0123456789abcdef0\"]\n[trigger]\nperiod_seconds = = 60\n",
            "cfg.toml",
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("column"), "{message}");
    }

    #[test]
    fn wrong_enum_values_name_what_is_valid() {
        for (text, valid) in [
            ("[trigger]\nmode = \"alarms\"\n", "metrics"),
            ("[trigger]\ncombine = \"all\"\n", "any"),
            (
                "[trigger]\ntreat_missing_data = \"notbreaching\"\n",
                "notBreaching",
            ),
            ("[trigger]\nmetrics = [\"BytesIn\"]\n", "BytesInFromSource"),
            ("[recording]\nlog_group_class = \"standard\"\n", "STANDARD"),
        ] {
            let message = with(text).unwrap_err().to_string();
            assert!(message.contains(valid), "{text}: {message}");
        }
    }

    #[test]
    fn nat_gateway_ids_are_required() {
        let err = Config::from_toml_str("[trigger]\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("nat_gateway_ids"), "{err}");
    }

    #[test]
    fn invalid_values_name_key_value_and_what_is_valid() {
        struct Case {
            toml: &'static str,
            key: &'static str,
        }
        let cases = [
            Case {
                toml: "nat_gateway_ids = []\n",
                key: "nat_gateway_ids",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-123\"]\n",
                key: "nat_gateway_ids[0]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-0123456789ABCDEF0\"]\n",
                key: "nat_gateway_ids[0]",
            },
            Case {
                toml: "nat_gateway_ids = [\"igw-01234567\"]\n",
                key: "nat_gateway_ids[0]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\", \"nat-0123456789abcdef\"]\n",
                key: "nat_gateway_ids[1]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\", \"nat-01234567\"]\n",
                key: "nat_gateway_ids[1]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"useast1\"\n",
                key: "region",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\nstate = \"\"\n",
                key: "state",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmetrics = []\n",
                key: "trigger.metrics",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmetrics = [\"BytesOutToSource\", \"BytesOutToSource\"]\n",
                key: "trigger.metrics[1]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 30\n",
                key: "trigger.period_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 90\n",
                key: "trigger.period_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 0\n",
                key: "trigger.period_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nevaluation_periods = 0\ndatapoints_to_alarm = 0\n",
                key: "trigger.evaluation_periods",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nevaluation_periods = 1441\n",
                key: "trigger.evaluation_periods",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\ndatapoints_to_alarm = 0\n",
                key: "trigger.datapoints_to_alarm",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\ndatapoints_to_alarm = 4\n",
                key: "trigger.datapoints_to_alarm",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmode = \"alarm\"\n",
                key: "trigger.alarm_names",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
                key: "trigger.alarm_names",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nalarm_names = [\"\"]\n",
                key: "trigger.alarm_names[0]",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_group = \"\"\n",
                key: "recording.log_group",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_group = \"a b\"\n",
                key: "recording.log_group",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 10\n",
                key: "recording.retention_days",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 0\n",
                key: "recording.retention_days",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::12345:role/x\"\n",
                key: "recording.deliver_logs_role_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:user/x\"\n",
                key: "recording.deliver_logs_role_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/\"\n",
                key: "recording.deliver_logs_role_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws:sts::123456789012:role/x\"\n",
                key: "recording.deliver_logs_role_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:AWS:iam::123456789012:role/x\"\n",
                key: "recording.deliver_logs_role_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"\"\n",
                key: "recording.log_format",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${srcaddr} dstaddr\"\n",
                key: "recording.log_format",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${srcaddr} ${srcaddr}\"\n",
                key: "recording.log_format",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${}\"\n",
                key: "recording.log_format",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_aggregation_interval = 300\n",
                key: "recording.max_aggregation_interval",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recording_seconds = 0\nrecording_seconds = 0\n",
                key: "recording.max_recording_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recording_seconds = 86401\n",
                key: "recording.max_recording_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nrecording_seconds = 900\nmax_recording_seconds = 600\n",
                key: "recording.recording_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recordings_window_seconds = 999999999999\n",
                key: "recording.max_recordings_window_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"my-topic\"\n",
                key: "notify.sns_topic_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012\"\n",
                key: "notify.sns_topic_arn",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nreport_s3_uri = \"bucket/prefix\"\n",
                key: "notify.report_s3_uri",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nreport_s3_uri = \"s3://\"\n",
                key: "notify.report_s3_uri",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\npresign_seconds = 604801\n",
                key: "notify.presign_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\npresign_seconds = 0\n",
                key: "notify.presign_seconds",
            },
            Case {
                toml: "nat_gateway_ids = [\"nat-01234567\"]\n[report]\nout_dir = \"\"\n",
                key: "report.out_dir",
            },
        ];
        for case in cases {
            let result = Config::from_toml_str(case.toml, "c.toml");
            let message = match &result {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{} was accepted", case.toml),
            };
            assert!(message.starts_with("c.toml: `"), "{message}");
            assert!(message.contains("is not valid: "), "{message}");
            assert_eq!(invalid_key(result), case.key, "{}", case.toml);
        }
    }

    #[test]
    fn invalid_message_shows_the_value_and_the_valid_set() {
        let message = with("[recording]\nretention_days = 10\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "test.toml: `recording.retention_days` = 10 is not valid: one of CloudWatch Logs' retention periods: \
             1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"
        );
        let message = with("[notify]\nsns_topic_arn = \"my-topic\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "test.toml: `notify.sns_topic_arn` = \"my-topic\" is not valid: empty (no notification) \
             or an SNS topic ARN: arn:aws:sns:<region>:<12-digit account>:<topic>"
        );
        let message = Config::from_toml_str("nat_gateway_ids = [\"nat-1\"]\n", "test.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "test.toml: `nat_gateway_ids[0]` = \"nat-1\" is not valid: a NAT gateway id: \"nat-\" and \
             8 or 17 lowercase hex digits, e.g. \"nat-0123456789abcdef0\""
        );
        let message = with("[trigger]\ndatapoints_to_alarm = 5\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`trigger.datapoints_to_alarm` = 5")
                && message.contains("from 1 to evaluation_periods (3)"),
            "{message}"
        );
    }

    #[test]
    fn valid_edge_values_are_accepted() {
        for text in [
            "nat_gateway_ids = [\"nat-01234567\", \"nat-0123456789abcdef0\"]\n",
            "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"us-gov-west-1\"\n",
            "nat_gateway_ids = [\"nat-01234567\"]\nregion = \"eu-central-2\"\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[trigger]\nperiod_seconds = 300\nevaluation_periods = 288\ndatapoints_to_alarm = 288\n",
            "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nretention_days = 3653\nmax_aggregation_interval = 600\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nrecording_seconds = 0\nmax_recording_seconds = 86400\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws-us-gov:iam::123456789012:role/path/to/r\"\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\ndeliver_logs_role_arn = \"arn:aws-cn:iam::123456789012:role/r\"\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nlog_format = \"${version} ${account-id} ${interface-id} ${some-future-field}\"\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[recording]\nmax_recordings = 3\nmax_recordings_window_seconds = 86400\n",
            "nat_gateway_ids = [\"nat-01234567\"]\n[notify]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:nat-alerts.fifo\"\nreport_s3_uri = \"s3://bucket/reports/\"\n",
        ] {
            if let Err(e) = Config::from_toml_str(text, "ok.toml") {
                panic!("{text}: {e}");
            }
        }
    }

    const TWO_NATS: &str = "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n";

    #[test]
    fn a_nat_table_overrides_trigger_keys_for_that_nat_only() {
        let c = Config::from_toml_str(
            &format!(
                "{TWO_NATS}[trigger]\nthreshold_bytes = \"200MB\"\n\
                 [nats.\"nat-89abcdef\"]\nthreshold_bytes = \"2GB\"\nperiod_seconds = \"5m\"\n\
                 metrics = [\"BytesOutToDestination\"]\n"
            ),
            "t",
        )
        .unwrap();
        let busy = c.rule_for("nat-89abcdef");
        assert_eq!(busy.threshold_bytes, 2_000_000_000);
        assert_eq!(busy.period_seconds, 300);
        assert_eq!(busy.metrics, vec![NatMetric::BytesOutToDestination]);
        assert_eq!(busy.evaluation_periods, 3, "kept from [trigger]");
        let quiet = c.rule_for("nat-01234567");
        assert_eq!(quiet, c.trigger.rule());
        assert_eq!(quiet.threshold_bytes, 200_000_000);
    }

    #[test]
    fn a_nat_table_for_an_unknown_nat_is_an_error() {
        let result = Config::from_toml_str(
            &format!("{TWO_NATS}[nats.\"nat-ffffffff\"]\nthreshold_bytes = 1\n"),
            "c.toml",
        );
        let message = result.as_ref().map(|_| ()).unwrap_err().to_string();
        assert!(message.contains("nat-01234567, nat-89abcdef"), "{message}");
        assert_eq!(invalid_key(result), "nats.\"nat-ffffffff\"");
    }

    #[test]
    fn a_nat_tables_values_are_checked_under_its_own_key() {
        for (table, key) in [
            (
                "period_seconds = 90\n",
                "nats.\"nat-89abcdef\".period_seconds",
            ),
            (
                "threshold_bytes = 0\n",
                "nats.\"nat-89abcdef\".threshold_bytes",
            ),
            // [trigger]'s datapoints_to_alarm (1) is fine; this NAT's own is not.
            (
                "evaluation_periods = 2\ndatapoints_to_alarm = 3\n",
                "nats.\"nat-89abcdef\".datapoints_to_alarm",
            ),
        ] {
            let result = Config::from_toml_str(
                &format!("{TWO_NATS}[nats.\"nat-89abcdef\"]\n{table}"),
                "c.toml",
            );
            assert_eq!(invalid_key(result), key, "{table}");
        }
        let err = Config::from_toml_str(
            &format!("{TWO_NATS}[nats.\"nat-89abcdef\"]\nmode = \"alarm\"\n"),
            "c.toml",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
    }

    #[test]
    fn alarm_name_for_maps_one_for_all_or_one_per_nat() {
        let one = with("[trigger]\nmode = \"alarm\"\nalarm_names = [\"all\"]\n").unwrap();
        assert_eq!(one.alarm_name_for("nat-0123456789abcdef0"), Some("all"));
        let per = Config::from_toml_str(
            "nat_gateway_ids = [\"nat-01234567\", \"nat-89abcdef\"]\n[trigger]\nmode = \"alarm\"\nalarm_names = [\"a\", \"b\"]\n",
            "t",
        )
        .unwrap();
        assert_eq!(per.alarm_name_for("nat-89abcdef"), Some("b"));
        assert_eq!(per.alarm_name_for("nat-01234567"), Some("a"));
        assert_eq!(per.alarm_name_for("nat-ffffffff"), None);
    }

    #[test]
    fn load_reports_a_missing_file_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.toml");
        let err = Config::load(&path).unwrap_err();
        assert!(matches!(err, ConfigError::Missing { .. }));
        assert!(err.to_string().contains("absent.toml"), "{err}");
        std::fs::write(&path, Config::example()).unwrap();
        assert_eq!(Config::load(&path).unwrap(), Config::default());
    }

    #[test]
    fn state_may_be_an_s3_object_named_in_full() {
        let cfg = with("state = \"s3://my-bucket/nat-flowrec/events.jsonl\"\n").unwrap();
        assert_eq!(
            cfg.state,
            PathBuf::from("s3://my-bucket/nat-flowrec/events.jsonl")
        );
        for bad in [
            "s3://my-bucket",
            "s3://My_Bucket/events.jsonl",
            "s3://my-bucket/dir/",
        ] {
            let result = with(&format!("state = \"{bad}\"\n"));
            let message = result
                .as_ref()
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string());
            assert_eq!(invalid_key(result), "state", "{bad}");
            assert!(message.contains(bad), "{message}");
        }
    }
}
