//! `[recording]`: where flow logs go, in which format, and the guards on what a recording may
//! last, count and cost. Maps into `core::RecordingSettings` and `core::Policy`.

use super::*;
use crate::core::estimate::{EstimateBasis, bytes_per_record};

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
            estimate: EstimateBasis {
                bytes_per_record: bytes_per_record(&self.log_format),
                max_aggregation_interval: self.max_aggregation_interval,
            },
        }
    }

    pub(super) fn validate(&self) -> Result<(), Invalid> {
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
