//! `[export]`: how a stopped recording's flow logs are read out of CloudWatch Logs. The read
//! quotas are the account's, shared with everyone in it, so the rates are the user's to lower.

use serde::{Deserialize, Serialize};

use super::{Invalid, check};
use crate::ports::LogReadApi;

/// AWS's quotas per account and region, requests per second (the ceiling for our rates).
const QUOTA_GET_LOG_EVENTS: f64 = 25.0;
const QUOTA_FILTER_LOG_EVENTS: f64 = 5.0;
const QUOTA_DESCRIBE_LOG_STREAMS: f64 = 5.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// GetLogEvents (per stream, 25/s quota) or FilterLogEvents (5/s quota).
    pub read_api: LogReadApi,
    pub max_requests_per_second: MaxRequestsPerSecond,
}

/// Requests per second the export may send, per operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxRequestsPerSecond {
    pub get_log_events: f64,
    pub filter_log_events: f64,
    pub describe_log_streams: f64,
}

impl Default for ExportConfig {
    fn default() -> ExportConfig {
        ExportConfig {
            read_api: LogReadApi::GetLogEvents,
            max_requests_per_second: MaxRequestsPerSecond::default(),
        }
    }
}

/// Below the quotas, leaving headroom for the account's other readers.
impl Default for MaxRequestsPerSecond {
    fn default() -> MaxRequestsPerSecond {
        MaxRequestsPerSecond {
            get_log_events: 20.0,
            filter_log_events: 3.0,
            describe_log_streams: 3.0,
        }
    }
}

impl ExportConfig {
    pub(super) fn validate(&self) -> Result<(), Invalid> {
        let m = &self.max_requests_per_second;
        for (key, value, quota) in [
            ("get_log_events", m.get_log_events, QUOTA_GET_LOG_EVENTS),
            (
                "filter_log_events",
                m.filter_log_events,
                QUOTA_FILTER_LOG_EVENTS,
            ),
            (
                "describe_log_streams",
                m.describe_log_streams,
                QUOTA_DESCRIBE_LOG_STREAMS,
            ),
        ] {
            check(
                value.is_finite() && (0.5..=quota).contains(&value),
                &format!("export.max_requests_per_second.{key}"),
                value.to_string(),
                &format!(
                    "from 0.5 to {quota} requests per second (AWS's quota per account and region is {quota})"
                ),
            )?;
        }
        Ok(())
    }
}
