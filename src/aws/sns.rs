//! The `Notifier` port on `aws_sdk_sns::Client`: one Publish per notification, always with
//! `MessageStructure=json` so e-mail subscribers get the text and machine subscribers (e-mail
//! JSON, SQS, Lambda) the report JSON. The message is built (and kept under SNS's limit) by
//! `finish::notify`; this file only sends it.

use aws_sdk_sns::Client;
use aws_sdk_sns::operation::publish::builders::PublishFluentBuilder;

use super::error::from_sdk_typed;
use crate::ports::{AwsError, AwsErrorKind, Notification, Notifier};

const OP_PUBLISH: &str = "sns:Publish";

/// The Publish request (separate so a test can inspect what would be sent).
pub(crate) fn publish_request(client: &Client, n: &Notification) -> PublishFluentBuilder {
    client
        .publish()
        .topic_arn(&n.topic_arn)
        .subject(&n.subject)
        .message(&n.message)
        .message_structure("json")
}

impl Notifier for Client {
    async fn publish(&self, n: &Notification) -> Result<String, AwsError> {
        let out = publish_request(self, n).send().await.map_err(|e| {
            from_sdk_typed(OP_PUBLISH, e, |e| {
                if e.is_not_found_exception() {
                    Some(AwsErrorKind::NotFound)
                } else if e.is_authorization_error_exception() || e.is_kms_access_denied_exception()
                {
                    Some(AwsErrorKind::AccessDenied)
                } else if e.is_invalid_parameter_exception()
                    || e.is_invalid_parameter_value_exception()
                    || e.is_validation_exception()
                {
                    Some(AwsErrorKind::InvalidInput)
                } else if e.is_internal_error_exception() {
                    Some(AwsErrorKind::Service)
                } else if e.is_kms_throttling_exception() {
                    Some(AwsErrorKind::Throttled)
                } else {
                    None
                }
            })
        })?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sns::config::{BehaviorVersion, Region};

    use super::*;

    #[test]
    fn publish_request_is_json_structured_with_subject() {
        let client = Client::from_conf(
            aws_sdk_sns::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .build(),
        );
        let n = Notification {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
            subject: "nat-flowrec: subject".into(),
            message: r#"{"default":"text"}"#.into(),
        };
        let builder = publish_request(&client, &n);
        let input = builder.as_input();
        assert_eq!(input.get_message_structure().as_deref(), Some("json"));
        assert_eq!(input.get_subject().as_deref(), Some("nat-flowrec: subject"));
        assert_eq!(
            input.get_topic_arn().as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:t")
        );
        assert_eq!(
            input.get_message().as_deref(),
            Some(r#"{"default":"text"}"#)
        );
    }
}
