//! Turns the SDK's `SdkError<OperationError>` into the one error the controller handles,
//! [`AwsError`]: the operation (`ec2:CreateFlowLogs`), AWS's error code and a kind. The kind comes
//! from the operation's typed `is_*()` predicates where the service models its errors (CloudWatch
//! Logs, CloudWatch), and from AWS's documented codes where it does not (EC2 models none), so
//! the user reads `ec2:CreateFlowLogs: FlowLogAlreadyExists: ...`, not a Debug dump.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use super::unreachable::{Unreachable, innermost};
use crate::ports::{AwsError, AwsErrorKind};

/// `SdkError` -> `AwsError`, the kind decided from the error code and HTTP status alone.
pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    from_sdk_typed(operation, err, |_| None)
}

/// `SdkError` -> `AwsError`; `typed` decides the kind from the operation's modelled error
/// (`CreateLogGroupError::is_resource_already_exists_exception`, ...) and returns `None` to fall
/// back on the code.
pub(crate) fn from_sdk_typed<E>(
    operation: &'static str,
    err: SdkError<E, HttpResponse>,
    typed: impl FnOnce(&E) -> Option<AwsErrorKind>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if !matches!(err, SdkError::ServiceError(_)) {
        // The SDK's whole chain, for `-v`: the message keeps what a person acts on.
        tracing::info!("{operation} failed: {}", crate::error_chain::describe(&err));
    }
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("Unknown").to_owned();
            let status = service.raw().status().as_u16();
            let kind = typed(inner).unwrap_or_else(|| kind_from_code(&code, Some(status)));
            let mut message = match inner.message() {
                Some(message) => message.to_owned(),
                None => format!("HTTP {status}: {inner}"),
            };
            if let Some(advice) = advice(operation, &code, kind, &message) {
                message = format!("{message}; {advice}");
            }
            AwsError::new(operation, code, message, kind)
        }
        SdkError::TimeoutError(_) => AwsError::new(
            operation,
            "Timeout",
            format!(
                "no answer within {} s; check the network path to AWS or the endpoint URL",
                super::OPERATION_TIMEOUT.as_secs()
            ),
            AwsErrorKind::Timeout,
        ),
        SdkError::DispatchFailure(dispatch) => {
            let kind = if dispatch.is_timeout() {
                AwsErrorKind::Timeout
            } else {
                AwsErrorKind::Other
            };
            if let Some(unreachable) = find::<Unreachable>(&err) {
                return AwsError::new(operation, "Unreachable", unreachable.to_string(), kind);
            }
            if find::<CredentialsError>(&err).is_some() {
                return AwsError::new(
                    operation,
                    "NoCredentials",
                    NO_CREDENTIALS,
                    AwsErrorKind::AccessDenied,
                );
            }
            let code = if dispatch.is_timeout() {
                "Timeout"
            } else {
                "DispatchFailure"
            };
            AwsError::new(
                operation,
                code,
                format!(
                    "the request could not be sent ({}); check credentials, region, network and \
                     the endpoint URL",
                    innermost(&err)
                ),
                kind,
            )
        }
        SdkError::ResponseError(response) => AwsError::new(
            operation,
            "InvalidResponse",
            format!(
                "HTTP {} with a body the SDK could not read ({}); an emulator or proxy in the \
                 path may not speak this API",
                response.raw().status().as_u16(),
                innermost(&err)
            ),
            AwsErrorKind::Service,
        ),
        // ConstructionFailure and any variant a future SDK adds.
        _ => AwsError::new(
            operation,
            "RequestNotBuilt",
            format!(
                "the request could not be built ({}); is a region configured?",
                innermost(&err)
            ),
            AwsErrorKind::InvalidInput,
        ),
    }
}

/// What `no credentials` says, wherever it is found out.
pub const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_PROFILE or pass --profile, \
     run `aws configure` or `aws sso login`, or run where an instance or task role applies";

/// The first error of type `T` in `err`'s chain of sources.
fn find<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    std::iter::successors(Some(err), |e| std::error::Error::source(*e))
        .find_map(|e| e.downcast_ref::<T>())
}

/// Codes AWS answers when the credentials themselves were refused (not a missing permission).
const CREDENTIALS_REFUSED: &[&str] = &[
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
];

/// What the user can do about an error AWS answered, where the operation says which key of the
/// configuration or which grant is at fault. `None`: AWS's message says it all.
fn advice(operation: &str, code: &str, kind: AwsErrorKind, message: &str) -> Option<String> {
    match kind {
        AwsErrorKind::AccessDenied if CREDENTIALS_REFUSED.contains(&code) => Some(
            "AWS refused the credentials themselves: check the profile or the AWS_* variables, \
             that the session has not expired, and the machine's clock"
                .to_string(),
        ),
        AwsErrorKind::AccessDenied => {
            // EC2 answers a missing iam:PassRole on the delivery role as CreateFlowLogs' own denial.
            let pass_role = if operation == "ec2:CreateFlowLogs" {
                " (and iam:PassRole on `recording.deliver_logs_role_arn`)"
            } else {
                ""
            };
            let action = operation.split(' ').next().unwrap_or(operation);
            Some(format!(
                "the caller is not allowed `{action}`{pass_role}: grant it, e.g. attach the \
                 policy `nat-flowrec iam-policy --part job` prints for this configuration"
            ))
        }
        AwsErrorKind::NotFound => match operation {
            "ec2:DescribeNatGateways" => Some(
                "check `nat_gateway_ids` and the region (`region` in the configuration or \
                 --region)"
                    .to_string(),
            ),
            "sns:Publish" => Some(
                "the topic of `notify.sns_topic_arn` does not exist in the job's account and \
                 region: create it (aws sns create-topic) or correct the ARN"
                    .to_string(),
            ),
            "logs:PutRetentionPolicy"
            | "logs:DescribeLogStreams"
            | "logs:FilterLogEvents"
            | "logs:GetLogEvents"
            | "logs:StartQuery" => Some(
                "the log group of `recording.log_group` does not exist in the job's account and \
                 region"
                    .to_string(),
            ),
            "s3:PutObject" | "s3:GetObject" if code == "NoSuchBucket" => Some(
                "the bucket of `notify.report_s3_uri` or `state` does not exist (or is in another \
                 account); create it or correct the URI"
                    .to_string(),
            ),
            _ => None,
        },
        AwsErrorKind::InvalidInput
            if operation == "ec2:CreateFlowLogs"
                && (message.contains("DeliverLogsPermissionArn")
                    || message.to_ascii_lowercase().contains("role")) =>
        {
            Some(
                "check `recording.deliver_logs_role_arn`: the role must exist in the job's \
                 account and trust vpc-flow-logs.amazonaws.com (`nat-flowrec iam-policy --part \
                 trust`)"
                    .to_string(),
            )
        }
        // Reached only after the SDK's own retries (`aws::MAX_ATTEMPTS`, backing off) were spent.
        AwsErrorKind::Throttled => Some(format!(
            "AWS throttled this call through all {} attempts (the account's rate for this API is \
             used up, often by other tools); nothing was changed for it and the next run tries \
             again. If it keeps happening, run the job less often or ask for a higher quota \
             (Service Quotas)",
            super::MAX_ATTEMPTS
        )),
        AwsErrorKind::InvalidInput if operation == "sns:Publish" && message.contains("Topic") => {
            Some(
                "`notify.sns_topic_arn` must name a topic in the job's own region and account"
                    .to_string(),
            )
        }
        _ => None,
    }
}

/// The kind of an AWS error code (EC2's, CloudWatch's and CloudWatch Logs' documented codes, and
/// the common ones every AWS API can return), with the HTTP status for codes we do not know.
pub(crate) fn kind_from_code(code: &str, status: Option<u16>) -> AwsErrorKind {
    const THROTTLED: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ];
    const ACCESS_DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
        "AuthorizationError",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "OptInRequired",
        "Blocked",
    ];
    const SERVICE: &[&str] = &[
        "InternalError",
        "InternalFailure",
        "InternalServiceFault",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
        "OperationAbortedException",
    ];
    const INVALID_INPUT: &[&str] = &[
        "ValidationError",
        "ValidationException",
        "MissingParameter",
        "MissingAction",
        "IdempotentParameterMismatch",
        "UnknownParameter",
        "MalformedQueryString",
        "DryRunOperation",
    ];
    if THROTTLED.contains(&code) {
        AwsErrorKind::Throttled
    } else if ACCESS_DENIED.contains(&code) {
        AwsErrorKind::AccessDenied
    } else if code.ends_with("NotFound") || code.ends_with("NotFoundException") {
        // InvalidFlowLogId.NotFound, NatGatewayNotFound, ResourceNotFoundException, ...
        AwsErrorKind::NotFound
    } else if code.contains("AlreadyExists") || code.ends_with(".Duplicate") {
        AwsErrorKind::AlreadyExists
    } else if SERVICE.contains(&code) {
        AwsErrorKind::Service
    } else if INVALID_INPUT.contains(&code) || code.starts_with("Invalid") {
        // InvalidParameterValue, InvalidParameterCombination, InvalidParameterException, ...
        AwsErrorKind::InvalidInput
    } else {
        match status {
            Some(429) => AwsErrorKind::Throttled,
            Some(403) => AwsErrorKind::AccessDenied,
            Some(404) => AwsErrorKind::NotFound,
            Some(s) if s >= 500 => AwsErrorKind::Service,
            _ => AwsErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
    use aws_sdk_cloudwatchlogs::types::error::ResourceAlreadyExistsException;
    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn response(status: u16) -> HttpResponse {
        match StatusCode::try_from(status) {
            Ok(code) => HttpResponse::new(code, SdkBody::empty()),
            Err(e) => panic!("test status {status}: {e}"),
        }
    }

    /// An EC2 error as the SDK returns it: EC2 models no error shapes, everything is `Unhandled`
    /// with a code.
    fn ec2_error(code: &str, message: &str, status: u16) -> AwsError {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let err = aws_sdk_ec2::operation::create_flow_logs::CreateFlowLogsError::generic(meta);
        from_sdk(
            "ec2:CreateFlowLogs",
            SdkError::service_error(err, response(status)),
        )
    }

    #[test]
    fn ec2_codes_decide_the_kind_and_the_message_names_operation_and_code() {
        let err = ec2_error(
            "FlowLogAlreadyExists",
            "There is an existing Flow Log with the same configuration",
            400,
        );
        assert_eq!(err.kind, AwsErrorKind::AlreadyExists);
        assert_eq!(
            err.to_string(),
            "ec2:CreateFlowLogs: FlowLogAlreadyExists: There is an existing Flow Log with the same configuration"
        );
        assert_eq!(
            ec2_error("RequestLimitExceeded", "slow down", 503).kind,
            AwsErrorKind::Throttled
        );
        assert_eq!(
            ec2_error("UnauthorizedOperation", "no", 403).kind,
            AwsErrorKind::AccessDenied
        );
        assert_eq!(
            ec2_error("InvalidFlowLogId.NotFound", "gone", 400).kind,
            AwsErrorKind::NotFound
        );
        assert_eq!(
            ec2_error("InvalidParameterValue", "bad", 400).kind,
            AwsErrorKind::InvalidInput
        );
        assert_eq!(
            ec2_error("SomethingNew", "?", 502).kind,
            AwsErrorKind::Service
        );
        assert_eq!(
            ec2_error("SomethingNew", "?", 400).kind,
            AwsErrorKind::Other
        );
    }

    #[test]
    fn typed_predicates_win_over_the_code() {
        let err = CreateLogGroupError::ResourceAlreadyExistsException(
            ResourceAlreadyExistsException::builder()
                .message("The specified log group already exists")
                .meta(
                    ErrorMetadata::builder()
                        .code("ResourceAlreadyExistsException")
                        .message("The specified log group already exists")
                        .build(),
                )
                .build(),
        );
        let mapped = from_sdk_typed(
            "logs:CreateLogGroup",
            SdkError::service_error(err, response(400)),
            |e| {
                e.is_resource_already_exists_exception()
                    .then_some(AwsErrorKind::AlreadyExists)
            },
        );
        assert_eq!(mapped.kind, AwsErrorKind::AlreadyExists);
        assert_eq!(mapped.operation, "logs:CreateLogGroup");
        assert_eq!(
            mapped.to_string(),
            "logs:CreateLogGroup: ResourceAlreadyExistsException: The specified log group already exists"
        );
    }

    #[test]
    fn access_denied_names_the_missing_action_and_the_policy_command() {
        let err = ec2_error(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            403,
        );
        assert_eq!(err.kind, AwsErrorKind::AccessDenied);
        let text = err.to_string();
        assert!(text.contains("not allowed `ec2:CreateFlowLogs`"), "{text}");
        assert!(text.contains("iam:PassRole"), "{text}");
        assert!(text.contains("nat-flowrec iam-policy"), "{text}");

        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: arn:aws:iam::123456789012:user/job is not authorized to perform: sns:Publish")
            .build();
        let err = from_sdk(
            "sns:Publish",
            SdkError::service_error(
                aws_sdk_sns::operation::publish::PublishError::generic(meta),
                response(403),
            ),
        );
        let text = err.to_string();
        assert!(text.contains("not allowed `sns:Publish`"), "{text}");
        assert!(!text.contains("PassRole"), "{text}");
    }

    #[test]
    fn refused_credentials_are_not_sent_to_the_policy() {
        let err = ec2_error(
            "AuthFailure",
            "AWS was not able to validate the credentials",
            401,
        );
        assert_eq!(err.kind, AwsErrorKind::AccessDenied);
        let text = err.to_string();
        assert!(text.contains("refused the credentials"), "{text}");
        assert!(!text.contains("iam-policy"), "{text}");
    }

    #[test]
    fn not_found_says_which_key_to_check() {
        let err = ec2_error(
            "InvalidParameter",
            "Unable to assume given IAM role arn:aws:iam::123456789012:role/missing",
            400,
        );
        assert!(
            err.to_string().contains("recording.deliver_logs_role_arn"),
            "{err}"
        );
        let meta = ErrorMetadata::builder()
            .code("NotFound")
            .message("Topic does not exist")
            .build();
        let err = from_sdk(
            "sns:Publish",
            SdkError::service_error(
                aws_sdk_sns::operation::publish::PublishError::generic(meta),
                response(404),
            ),
        );
        assert_eq!(err.kind, AwsErrorKind::NotFound);
        assert!(err.to_string().contains("notify.sns_topic_arn"), "{err}");
    }

    #[test]
    fn a_timeout_is_a_timeout_and_says_what_to_check() {
        let err: SdkError<CreateLogGroupError, HttpResponse> =
            SdkError::timeout_error("operation timed out");
        let mapped = from_sdk("logs:CreateLogGroup", err);
        assert_eq!(mapped.kind, AwsErrorKind::Timeout);
        assert!(mapped.message.contains("endpoint URL"), "{mapped}");
    }
}
