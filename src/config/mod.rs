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

use crate::core::{BaselineRule, Policy, RecordingSettings, TriggerRule};
pub use crate::core::{Combine, LogGroupClass, MetricsApi, NatMetric, TreatMissingData};
use crate::names::{ArnParts, NameError, NatGatewayId, Region, RoleArn, S3Object, S3Uri, TopicArn};

mod athena;
mod export;
mod notify;
mod recording;
mod report;
mod trigger;

pub use athena::{AthenaConfig, DEFAULT_DATABASE, DEFAULT_WORKGROUP};
pub use export::{ExportConfig, MaxRequestsPerSecond};
pub use notify::{MAX_PRESIGN_SECONDS, NotifyConfig};
pub use recording::{Destination, RecordingConfig};
pub use report::{MAX_CHART_LOOKBACK_MINUTES, ReportConfig};
pub use trigger::{
    DEFAULT_BASELINE_DAYS, DEFAULT_BASELINE_FACTOR, DEFAULT_FREE_TIER_SHARE, NatOverride,
    TriggerConfig, TriggerMode,
};

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
    /// `report --engine athena`; `None` when the engine is not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub athena: Option<AthenaConfig>,
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
        if let Some(athena) = &self.athena {
            athena.validate()?;
        }
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
        "recording.s3_destination" => format!(
            "{expected}, e.g. \"s3://my-flow-logs/nat-flowrec\" (needed with destination = \"s3\")"
        ),
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
            athena: None,
        }
    }
}

/// The commented example `init` writes, kept as a TOML file so it reads as one.
const EXAMPLE: &str = include_str!("example.toml");

#[cfg(test)]
mod tests;
