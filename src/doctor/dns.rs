//! `recording.dns_query_logs`: whether the job can read the NAT's VPC's query logging (the read
//! every recording's start makes), and what a recording will do about its DNS queries: read the
//! VPC's own query logging to a CloudWatch Logs group, or create its own to
//! `recording.dns_log_group` while it runs. The calls that create can only be tried by doing, so
//! the finding names the permissions they take (`nat-flowrec iam-policy` grants them).

use super::{Finding, Severity};
use crate::config::RecordingConfig;
use crate::core::query_logging::reusable;
use crate::ports::{AwsError, AwsErrorKind, VpcQueryLogging};

/// What a recording of `vpc`'s NAT does about DNS queries, given the VPC's query logging now.
pub fn query_logging_finding(
    vpc: &str,
    logging: &[VpcQueryLogging],
    recording: &RecordingConfig,
) -> Finding {
    if let Some((config_id, group)) = reusable(logging) {
        return Finding::new(
            Severity::Ok,
            "dns-query-logs",
            vpc,
            format!(
                "the VPC already logs its DNS queries to {group} ({config_id}): recordings read their window from there and create nothing"
            ),
        );
    }
    let unreadable: Vec<&str> = logging
        .iter()
        .filter(|l| !l.ours)
        .map(|l| l.destination_arn.as_str())
        .collect();
    let mut message = format!(
        "recordings log the VPC's DNS queries to {} while they run (a Route 53 Resolver query-logging configuration, created and associated at the start, removed at the stop); this needs route53resolver:CreateResolverQueryLogConfig, AssociateResolverQueryLogConfig, DisassociateResolverQueryLogConfig, DeleteResolverQueryLogConfig and TagResource, and logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups",
        recording.dns_log_group
    );
    if !unreadable.is_empty() {
        message.push_str(&format!(
            "; the VPC's own query logging goes to {}, which the job cannot read back",
            unreadable.join(", ")
        ));
    }
    Finding::new(Severity::Info, "dns-query-logs", vpc, message)
        .with_fix("nat-flowrec iam-policy --part job")
}

/// The VPC's query logging could not be read: a recording's start could not either.
pub fn unreadable_finding(vpc: &str, e: &AwsError) -> Finding {
    let severity = match e.kind {
        AwsErrorKind::AccessDenied => Severity::Error,
        _ => Severity::Warning,
    };
    Finding::new(
        severity,
        "dns-query-logs",
        vpc,
        format!(
            "recording.dns_query_logs is on, but the VPC's query logging could not be read ({e}): recordings would record no DNS names; the job needs route53resolver:ListResolverQueryLogConfigAssociations, GetResolverQueryLogConfig, ListResolverQueryLogConfigs and ListTagsForResource"
        ),
    )
    .with_fix("nat-flowrec iam-policy --part job")
}
