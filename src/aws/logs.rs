//! The `Logs` port on `aws_sdk_cloudwatchlogs::Client`: the log group recordings deliver to,
//! created once with its class and tags, its retention kept as configured.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::create_log_group::builders::CreateLogGroupFluentBuilder;
use aws_sdk_cloudwatchlogs::types::LogGroupClass;

use super::error::from_sdk_typed;
use crate::ports::{AwsError, AwsErrorKind, LogGroupSpec, Logs};

const OP_CREATE_LOG_GROUP: &str = "logs:CreateLogGroup";
const OP_PUT_RETENTION_POLICY: &str = "logs:PutRetentionPolicy";

/// Tags of a log group nat-flowrec creates, so an account owner can tell what it is for.
pub const LOG_GROUP_TAGS: &[(&str, &str)] = &[("nat-flowrec:purpose", "flow-log recordings")];

/// The CreateLogGroup request (a separate function because moto drops the class: the request is
/// what the tests check).
pub(crate) fn create_request(client: &Client, spec: &LogGroupSpec) -> CreateLogGroupFluentBuilder {
    let mut req = client
        .create_log_group()
        .log_group_name(&spec.name)
        .log_group_class(LogGroupClass::from(spec.class.as_str()));
    for (k, v) in LOG_GROUP_TAGS {
        req = req.tags(*k, *v);
    }
    req
}

impl Logs for Client {
    async fn ensure_log_group(&self, spec: &LogGroupSpec) -> Result<(), AwsError> {
        let created = create_request(self, spec).send().await.map_err(|e| {
            from_sdk_typed(OP_CREATE_LOG_GROUP, e, |e| {
                if e.is_resource_already_exists_exception() {
                    Some(AwsErrorKind::AlreadyExists)
                } else if e.is_invalid_parameter_exception() {
                    Some(AwsErrorKind::InvalidInput)
                } else if e.is_service_unavailable_exception() || e.is_operation_aborted_exception()
                {
                    Some(AwsErrorKind::Service)
                } else {
                    None
                }
            })
        });
        match created {
            // An existing group keeps its class (AWS cannot change it) and tags.
            Err(e) if e.kind == AwsErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        self.put_retention_policy()
            .log_group_name(&spec.name)
            .retention_in_days(spec.retention_days)
            .send()
            .await
            .map_err(|e| {
                from_sdk_typed(OP_PUT_RETENTION_POLICY, e, |e| {
                    if e.is_resource_not_found_exception() {
                        Some(AwsErrorKind::NotFound)
                    } else if e.is_invalid_parameter_exception() {
                        Some(AwsErrorKind::InvalidInput)
                    } else if e.is_service_unavailable_exception()
                        || e.is_operation_aborted_exception()
                    {
                        Some(AwsErrorKind::Service)
                    } else {
                        None
                    }
                })
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Region};

    use super::*;

    #[test]
    fn create_request_carries_class_and_tags() {
        // Never sends: only the request it would build is inspected.
        let client = Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .build(),
        );
        let spec = LogGroupSpec {
            name: "/nat-flowrec/flowlogs".into(),
            class: "INFREQUENT_ACCESS".into(),
            retention_days: 7,
        };
        let builder = create_request(&client, &spec);
        let input = builder.as_input();
        assert_eq!(
            input.get_log_group_name().as_deref(),
            Some("/nat-flowrec/flowlogs")
        );
        assert_eq!(
            input.get_log_group_class(),
            &Some(LogGroupClass::InfrequentAccess)
        );
        let tags = input.get_tags().clone().unwrap_or_default();
        assert_eq!(
            tags.get("nat-flowrec:purpose").map(String::as_str),
            Some("flow-log recordings")
        );
    }
}
