//! `[notify]`: who hears about a recording (SNS) and where its report files are uploaded.

use super::*;

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

impl NotifyConfig {
    pub(super) fn validate(&self) -> Result<(), Invalid> {
        check(
            (1..=MAX_PRESIGN_SECONDS).contains(&self.presign_seconds),
            "notify.presign_seconds",
            self.presign_seconds.to_string(),
            "from 1 to 604800 seconds (S3 pre-signed links work at most 7 days)",
        )?;
        Ok(())
    }
}
