//! `[recording]`: where flow logs go, in which format, and the guards on what a recording may
//! last, count and cost. Maps into `core::RecordingSettings` and `core::Policy`.

use super::*;
use crate::s3_layout::{LOGS_ROOT, S3Delivery, S3FileFormat};

/// Where a recording's flow logs are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    /// The log group `log_group`, through the role `deliver_logs_role_arn`.
    #[default]
    CloudwatchLogs,
    /// Files in `s3_destination`, written by the log delivery service under the bucket's policy.
    S3,
}

/// What `recording.s3_destination` looks like, in errors.
const S3_DESTINATION_EXAMPLE: &str = "\"s3://my-flow-logs/nat-flowrec\"";

/// Where a recording's DNS queries go unless `recording.dns_log_group` says otherwise.
pub const DEFAULT_DNS_LOG_GROUP: &str = "/nat-flowrec/dns-queries";
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
    pub destination: Destination,
    /// Required with `destination = "s3"`: the bucket and an optional prefix.
    #[serde(with = "empty_is_none")]
    pub s3_destination: Option<S3Uri>,
    pub s3_file_format: S3FileFormat,
    pub s3_hive_compatible_partitions: bool,
    pub s3_per_hour_partition: bool,
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
    /// Also record the NAT's VPC's DNS queries (Route 53 Resolver query logging), so the report
    /// can name the remotes.
    pub dns_query_logs: bool,
    /// The log group the VPC's DNS queries go to (created like `log_group`: class, retention).
    pub dns_log_group: String,
}

impl RecordingConfig {
    /// The two dollar caps with their keys, for the checks that name them.
    fn cost_caps(&self) -> [(&'static str, f64); 2] {
        [
            ("recording.max_cost_usd", self.max_cost_usd),
            (
                "recording.max_cost_usd_per_month",
                self.max_cost_usd_per_month,
            ),
        ]
    }

    /// Where and how recordings deliver, as the core writes it into requests and events.
    pub fn settings(&self) -> RecordingSettings {
        RecordingSettings {
            log_group: self.log_group.clone(),
            log_group_class: self.log_group_class,
            retention_days: self.retention_days,
            deliver_logs_role_arn: self.deliver_logs_role_arn.to_string(),
            log_format: self.log_format.clone(),
            max_aggregation_interval: self.max_aggregation_interval,
            s3: self.s3_delivery(),
        }
    }

    /// The S3 delivery of `destination = "s3"`; `None` for CloudWatch Logs.
    pub fn s3_delivery(&self) -> Option<S3Delivery> {
        let uri = match self.destination {
            Destination::CloudwatchLogs => return None,
            Destination::S3 => self.s3_destination.as_ref()?,
        };
        Some(S3Delivery {
            bucket: uri.bucket().to_owned(),
            prefix: uri.prefix().to_owned(),
            file_format: self.s3_file_format,
            hive_compatible_partitions: self.s3_hive_compatible_partitions,
            per_hour_partition: self.s3_per_hour_partition,
        })
    }

    /// The recording guards the core applies, with the vended-log prices of `region`
    /// (us-east-1's where the table has no price for it): the log group's class for what its
    /// `IncomingBytes` cost, and for the start's estimate the destination's (S3's delivery
    /// price, with the Parquet conversion when the files are Parquet).
    pub fn policy(&self, region: Option<&str>) -> Policy {
        let prices = nat_flowrec_reports::LogIngestionPrices::for_region(region);
        let ingestion_price_per_gb = match self.log_group_class {
            LogGroupClass::Standard => prices.standard_per_gb,
            LogGroupClass::InfrequentAccess => prices.infrequent_access_per_gb,
        };
        let delivery_price_per_gb = match self.s3_delivery() {
            Some(s3) => prices.s3_delivery_per_gb(s3.file_format == S3FileFormat::Parquet),
            None => ingestion_price_per_gb,
        };
        Policy {
            recording_seconds: self.recording_seconds,
            max_recording_seconds: self.max_recording_seconds,
            max_recordings: self.max_recordings,
            window_seconds: self.max_recordings_window_seconds,
            max_cost_usd: self.max_cost_usd,
            max_cost_usd_per_month: self.max_cost_usd_per_month,
            ingestion_price_per_gb,
            delivery_price_per_gb,
            estimate: EstimateBasis {
                bytes_per_record: bytes_per_record(&self.log_format),
                max_aggregation_interval: self.max_aggregation_interval,
            },
        }
    }

    pub(super) fn validate(&self) -> Result<(), Invalid> {
        self.validate_destination()?;
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
            is_log_group_name(&self.dns_log_group),
            "recording.dns_log_group",
            quoted(&self.dns_log_group),
            "a CloudWatch Logs group name (not an ARN): 1 to 512 of A-Z a-z 0-9 _ - / . #",
        )?;
        check(
            !self.dns_query_logs || self.dns_log_group != self.log_group,
            "recording.dns_log_group",
            quoted(&self.dns_log_group),
            "a log group other than recording.log_group: the export reads every stream of \
             the DNS group as query-log records",
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
        for (key, value) in self.cost_caps() {
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

impl RecordingConfig {
    /// `destination = "s3"` needs a bucket, a prefix AWS accepts, a file format `report` reads,
    /// and no cost cap: the caps are measured from the log group's `IncomingBytes`, which S3
    /// delivery does not produce.
    fn validate_destination(&self) -> Result<(), Invalid> {
        if self.destination != Destination::S3 {
            return Ok(());
        }
        let Some(uri) = &self.s3_destination else {
            return Err(Invalid {
                key: "recording.s3_destination".to_string(),
                value: "\"\"".to_string(),
                expected: format!(
                    "the bucket (and optional prefix) flow logs are delivered to, e.g. \
                     {S3_DESTINATION_EXAMPLE}: required with recording.destination = \"s3\""
                ),
            });
        };
        let prefix = uri.prefix();
        check(
            prefix.split('/').next() != Some(LOGS_ROOT),
            "recording.s3_destination",
            quoted(uri.as_str()),
            &format!(
                "a prefix that does not start with `{LOGS_ROOT}` (AWS adds that folder itself), \
                 e.g. {S3_DESTINATION_EXAMPLE}"
            ),
        )?;
        check(
            !prefix.contains("//"),
            "recording.s3_destination",
            quoted(uri.as_str()),
            &format!("a prefix without empty folders (`//`), e.g. {S3_DESTINATION_EXAMPLE}"),
        )?;
        for (key, value) in self.cost_caps() {
            check(
                value == 0.0,
                key,
                value.to_string(),
                "0 with recording.destination = \"s3\": the cost caps are measured from the log \
                 group's IncomingBytes, which delivery to S3 does not produce",
            )?;
        }
        Ok(())
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
            destination: Destination::CloudwatchLogs,
            s3_destination: None,
            s3_file_format: S3FileFormat::PlainText,
            s3_hive_compatible_partitions: false,
            s3_per_hour_partition: false,
            recording_seconds: policy.recording_seconds,
            max_recording_seconds: policy.max_recording_seconds,
            max_recordings: policy.max_recordings,
            max_recordings_window_seconds: policy.window_seconds,
            settle_seconds: 600,
            max_cost_usd: policy.max_cost_usd,
            max_cost_usd_per_month: policy.max_cost_usd_per_month,
            dns_query_logs: false,
            dns_log_group: DEFAULT_DNS_LOG_GROUP.to_string(),
        }
    }
}
