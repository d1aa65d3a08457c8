//! The recording settings the core writes into CreateFlowLogs requests and `RecordingStarted`
//! events: where flow logs go, in which format and aggregation, and the log group's class (its
//! ingestion price). The configuration's `[recording]` table maps into them.

use serde::{Deserialize, Serialize};

use crate::s3_layout::S3Delivery;

/// The CloudWatch Logs class of the recordings' log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogGroupClass {
    Standard,
    /// Half the ingestion price; Logs Insights still works.
    #[default]
    InfrequentAccess,
}

impl LogGroupClass {
    /// The name CloudWatch Logs' CreateLogGroup takes.
    pub fn as_str(self) -> &'static str {
        match self {
            LogGroupClass::Standard => "STANDARD",
            LogGroupClass::InfrequentAccess => "INFREQUENT_ACCESS",
        }
    }
}

/// Where and how a recording's flow logs are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingSettings {
    pub log_group: String,
    pub log_group_class: LogGroupClass,
    pub retention_days: u32,
    pub deliver_logs_role_arn: String,
    pub log_format: String,
    /// 60 or 600 seconds.
    pub max_aggregation_interval: u32,
    /// Delivery to S3 instead of the log group (`log_group`, its class and retention and the
    /// role are then unused).
    pub s3: Option<S3Delivery>,
}

impl Default for RecordingSettings {
    /// The documented defaults (the delivery role names the example account).
    fn default() -> RecordingSettings {
        RecordingSettings {
            log_group: "/nat-flowrec/flowlogs".to_string(),
            log_group_class: LogGroupClass::InfrequentAccess,
            retention_days: 7,
            deliver_logs_role_arn: "arn:aws:iam::123456789012:role/nat-flowrec-delivery"
                .to_string(),
            log_format: nat_flowrec_parsers::DEFAULT_FORMAT.to_string(),
            max_aggregation_interval: 60,
            s3: None,
        }
    }
}
