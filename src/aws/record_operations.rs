//! Records every AWS operation the program calls, as the IAM action that authorises it
//! (`ec2:CreateFlowLogs`), one line each, into the file named by [`RECORD_OPERATIONS_ENV`].
//!
//! Why: `nat-flowrec iam-policy` promises least privilege, and only the calls the code really
//! makes can prove it. The end-to-end test sets the variable, runs the job against moto and
//! compares the recorded actions with the printed policy, so a new call without a grant (or a
//! grant nobody calls any more) fails a test instead of a user's scheduled run. The interceptor
//! is an SDK hook on every client, so no adapter can forget to report its calls.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The environment variable naming the file to append `service:Operation` lines to.
pub const RECORD_OPERATIONS_ENV: &str = "NAT_FLOWREC_RECORD_OPERATIONS";

/// The interceptor to put on every client, when [`RECORD_OPERATIONS_ENV`] names a file.
pub(crate) fn from_env() -> Option<SharedInterceptor> {
    let path = std::env::var_os(RECORD_OPERATIONS_ENV).filter(|p| !p.is_empty())?;
    Some(recording_to(PathBuf::from(path)))
}

fn recording_to(path: PathBuf) -> SharedInterceptor {
    SharedInterceptor::new(RecordOperations { path })
}

/// Appends one line per operation executed (a retried call is one execution).
#[derive(Debug)]
struct RecordOperations {
    path: PathBuf,
}

impl Intercept for RecordOperations {
    fn name(&self) -> &'static str {
        "RecordOperations"
    }

    // Not `read_before_execution`: client interceptors see that hook before the operation's
    // own configuration (which holds its `Metadata`) is applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let line = format!("{}\n", iam_action(metadata.service(), metadata.name()));
        // One write of one short line with O_APPEND: lines of concurrent processes never mix.
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            // A test aid must not fail the call it watches; the test sees the missing line.
            tracing::warn!(
                "cannot record the AWS operation in {} ({RECORD_OPERATIONS_ENV}): {e}",
                self.path.display()
            );
        }
        Ok(())
    }
}

/// The IAM action of an SDK operation: the service's IAM prefix (the SDK names services as
/// their documentation does, `CloudWatch Logs`) and the operation's name.
pub fn iam_action(sdk_service: &str, operation: &str) -> String {
    // The one operation whose IAM action has another name.
    if (sdk_service, operation) == ("S3", "ListObjectsV2") {
        return "s3:ListBucket".to_string();
    }
    let prefix = match sdk_service {
        "CloudWatch Logs" => "logs".to_string(),
        other => other.replace(' ', "").to_ascii_lowercase(),
    };
    format!("{prefix}:{operation}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_service_names_become_iam_prefixes() {
        assert_eq!(
            iam_action("CloudWatch Logs", "FilterLogEvents"),
            "logs:FilterLogEvents"
        );
        assert_eq!(
            iam_action("CloudWatch", "GetMetricData"),
            "cloudwatch:GetMetricData"
        );
        assert_eq!(iam_action("EC2", "CreateFlowLogs"), "ec2:CreateFlowLogs");
        assert_eq!(iam_action("SNS", "Publish"), "sns:Publish");
        assert_eq!(iam_action("S3", "PutObject"), "s3:PutObject");
        assert_eq!(iam_action("IAM", "GetRole"), "iam:GetRole");
        assert_eq!(iam_action("S3", "ListObjectsV2"), "s3:ListBucket");
    }

    #[tokio::test]
    async fn every_call_of_a_client_is_appended_even_when_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ops.txt");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            // Nothing listens on port 1: the call fails at once, after the hook ran.
            .endpoint_url("http://127.0.0.1:1")
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .empty_test_environment()
            .test_credentials()
            .load()
            .await;
        let mut builder = aws_sdk_ec2::config::Builder::from(&config);
        builder.push_interceptor(recording_to(file.clone()));
        let ec2 = aws_sdk_ec2::Client::from_conf(builder.build());
        assert!(ec2.describe_nat_gateways().send().await.is_err());
        assert!(ec2.describe_flow_logs().send().await.is_err());
        let lines = std::fs::read_to_string(&file).unwrap();
        assert_eq!(lines, "ec2:DescribeNatGateways\nec2:DescribeFlowLogs\n");
    }
}
