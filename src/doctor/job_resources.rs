//! The checks of what the job itself uses, pure over what the `Inventory` port returned: the
//! flow-logs delivery role (trust and permissions), the log group (class and retention as
//! configured), or with delivery to S3 the bucket (exists, in the job's region, its policy lets
//! the log delivery service write), and the SNS topic (exists, has a confirmed subscription).

use super::finding::{Finding, Severity};
use super::policy::{
    DELIVERY_POLICY, LOG_DELIVERY_PRINCIPAL, TRUST_POLICY, allows_log_delivery, log_group_arns,
    missing_actions, trusts_flow_logs,
};
use crate::names::{ArnParts, RoleArn, TopicArn};
use crate::ports::{LogGroupInfo, RolePolicies, TopicInfo};
use crate::s3_layout::S3Delivery;

/// The inline policy name the fix command puts on the delivery role.
pub const DELIVERY_POLICY_NAME: &str = "nat-flowrec-flow-logs-delivery";

pub fn role_findings(
    role_arn: &RoleArn,
    role: Option<&RolePolicies>,
    region: &str,
    log_group: &str,
) -> Vec<Finding> {
    let role_name = role_arn.name();
    let put_policy = format!(
        "aws iam put-role-policy --role-name {role_name} --policy-name {DELIVERY_POLICY_NAME} --policy-document '{DELIVERY_POLICY}'"
    );
    let Some(role) = role else {
        return vec![
            Finding::new(
                Severity::Error,
                "delivery-role",
                role_arn,
                "the flow-logs delivery role (recording.deliver_logs_role_arn) does not exist: CreateFlowLogs would fail",
            )
            .with_fix(format!(
                "aws iam create-role --role-name {role_name} --assume-role-policy-document '{TRUST_POLICY}'\n{put_policy}"
            )),
        ];
    };
    let mut out = Vec::new();
    match trusts_flow_logs(&role.trust_policy) {
        Ok(true) => out.push(Finding::ok(
            "delivery-role-trust",
            role_arn,
            "vpc-flow-logs.amazonaws.com may assume it",
        )),
        Ok(false) => out.push(
            Finding::new(
                Severity::Error,
                "delivery-role-trust",
                role_arn,
                "its trust policy does not let vpc-flow-logs.amazonaws.com assume it: flow logs would report DeliverLogsStatus FAILED and deliver nothing",
            )
            .with_fix(format!(
                "aws iam update-assume-role-policy --role-name {role_name} --policy-document '{TRUST_POLICY}'"
            )),
        ),
        Err(e) => out.push(
            Finding::new(
                Severity::Error,
                "delivery-role-trust",
                role_arn,
                format!("its trust policy cannot be read: {e}"),
            )
            .with_fix(format!(
                "aws iam update-assume-role-policy --role-name {role_name} --policy-document '{TRUST_POLICY}'"
            )),
        ),
    }
    let account = ArnParts::split(&role.arn)
        .map(|arn| arn.account)
        .filter(|a| !a.is_empty())
        .unwrap_or(role_arn.account());
    let documents: Vec<String> = role.policies.iter().map(|(_, d)| d.clone()).collect();
    match missing_actions(&documents, &log_group_arns(region, account, log_group)) {
        Ok(missing) if missing.is_empty() => out.push(Finding::ok(
            "delivery-role-permissions",
            role_arn,
            format!("allows delivery to {log_group}"),
        )),
        Ok(missing) => out.push(
            Finding::new(
                Severity::Error,
                "delivery-role-permissions",
                role_arn,
                format!(
                    "its policies do not allow {} on {log_group}: flow logs would fail to deliver",
                    missing.join(", ")
                ),
            )
            .with_fix(put_policy),
        ),
        Err(e) => out.push(
            Finding::new(
                Severity::Error,
                "delivery-role-permissions",
                role_arn,
                format!("a policy of the role cannot be read: {e}"),
            )
            .with_fix(put_policy),
        ),
    }
    out
}

/// The bucket of `recording.s3_destination`: `bucket_region` and `policy` as S3 answered
/// (`None`: no such bucket, no policy).
pub fn bucket_findings(
    s3: &S3Delivery,
    bucket_region: Option<&str>,
    policy: Option<&str>,
    region: &str,
) -> Vec<Finding> {
    let bucket = &s3.bucket;
    let uri = s3.uri();
    let Some(bucket_region) = bucket_region else {
        let location = match region {
            "us-east-1" => String::new(),
            other => format!(" --create-bucket-configuration LocationConstraint={other}"),
        };
        return vec![
            Finding::new(
                Severity::Error,
                "flow-logs-bucket",
                &uri,
                "the bucket of recording.s3_destination does not exist: CreateFlowLogs would fail",
            )
            .with_fix(format!(
                "aws s3api create-bucket --bucket {bucket} --region {region}{location}"
            )),
        ];
    };
    let mut out = Vec::new();
    if bucket_region == region {
        out.push(Finding::ok(
            "flow-logs-bucket",
            &uri,
            format!("exists, in {region}"),
        ));
    } else {
        out.push(Finding::new(
            Severity::Warning,
            "flow-logs-bucket",
            &uri,
            format!(
                "the bucket is in {bucket_region}, the NAT gateways in {region}: every file crosses regions (transfer charges, slower exports); a bucket in {region} avoids both"
            ),
        ));
    }
    let put_policy = format!(
        "nat-flowrec iam-policy --part bucket --account-id ACCOUNT_ID > bucket-policy.json
aws s3api put-bucket-policy --bucket {bucket} --policy file://bucket-policy.json   # replaces the bucket's policy: merge it into an existing one"
    );
    let partition = match region {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    };
    let judged = match policy {
        None => Err("it has no bucket policy".to_owned()),
        Some(doc) => match allows_log_delivery(doc, partition, bucket, &s3.logs_root()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!(
                "its policy does not let {LOG_DELIVERY_PRINCIPAL} put files under {}",
                s3.logs_root()
            )),
            Err(e) => Err(format!("its policy cannot be read: {e}")),
        },
    };
    out.push(match judged {
        Ok(()) => Finding::ok(
            "flow-logs-bucket-policy",
            &uri,
            format!("lets {LOG_DELIVERY_PRINCIPAL} deliver flow-log files"),
        ),
        Err(why) => Finding::new(
            Severity::Error,
            "flow-logs-bucket-policy",
            &uri,
            format!("{why}: flow logs would report DeliverLogsStatus FAILED and deliver nothing"),
        )
        .with_fix(put_policy),
    });
    out
}

pub fn log_group_findings(
    name: &str,
    group: Option<&LogGroupInfo>,
    want_class: &str,
    want_retention: u32,
    region: &str,
) -> Vec<Finding> {
    let Some(group) = group else {
        return vec![
            Finding::new(
                Severity::Info,
                "log-group",
                name,
                format!(
                    "does not exist yet; the first recording creates it ({want_class}, {want_retention} days)"
                ),
            )
            .with_fix(format!(
                "aws logs create-log-group --region {region} --log-group-name {name} --log-group-class {want_class}\naws logs put-retention-policy --region {region} --log-group-name {name} --retention-in-days {want_retention}"
            )),
        ];
    };
    let mut out = Vec::new();
    match group.class.as_deref() {
        Some(class) if class == want_class => {
            out.push(Finding::ok("log-group-class", name, format!("class {class}")))
        }
        Some(class) => out.push(
            Finding::new(
                Severity::Warning,
                "log-group-class",
                name,
                format!(
                    "class {class}, the configuration wants {want_class} (INFREQUENT_ACCESS halves ingestion and still serves Logs Insights); a class cannot be changed: recreate the group, which deletes its captured logs"
                ),
            )
            .with_fix(format!(
                "aws logs delete-log-group --region {region} --log-group-name {name}\naws logs create-log-group --region {region} --log-group-name {name} --log-group-class {want_class}"
            )),
        ),
        None => out.push(Finding::new(
            Severity::Info,
            "log-group-class",
            name,
            "AWS did not report the group's class",
        )),
    }
    let retention_fix = format!(
        "aws logs put-retention-policy --region {region} --log-group-name {name} --retention-in-days {want_retention}"
    );
    match group.retention_days {
        Some(days) if u32::try_from(days).ok() == Some(want_retention) => out.push(Finding::ok(
            "log-group-retention",
            name,
            format!("{days} days"),
        )),
        Some(days) => out.push(
            Finding::new(
                Severity::Warning,
                "log-group-retention",
                name,
                format!("keeps logs {days} days, the configuration says {want_retention}"),
            )
            .with_fix(retention_fix),
        ),
        None => out.push(
            Finding::new(
                Severity::Warning,
                "log-group-retention",
                name,
                format!(
                    "never expires its logs (stored logs are billed every month), the configuration says {want_retention} days"
                ),
            )
            .with_fix(retention_fix),
        ),
    }
    out
}

pub fn topic_findings(
    topic_arn: Option<&TopicArn>,
    topic: Option<&TopicInfo>,
    region: &str,
) -> Vec<Finding> {
    let Some(topic_arn) = topic_arn else {
        return vec![Finding::new(
            Severity::Info,
            "sns-topic",
            "notify.sns_topic_arn",
            "not set: reports are written but nobody is told",
        )];
    };
    let subscribe = format!(
        "aws sns subscribe --region {region} --topic-arn {topic_arn} --protocol email --notification-endpoint <you@example.com>"
    );
    let Some(topic) = topic else {
        let name = topic_arn.name();
        return vec![
            Finding::new(
                Severity::Error,
                "sns-topic",
                topic_arn,
                "the topic does not exist: notifications would fail",
            )
            .with_fix(format!(
                "aws sns create-topic --region {region} --name {name}\n{subscribe}"
            )),
        ];
    };
    let confirmed = topic.subscriptions.iter().filter(|s| s.confirmed).count();
    let pending: Vec<String> = topic
        .subscriptions
        .iter()
        .filter(|s| !s.confirmed)
        .map(|s| format!("{} {}", s.protocol, s.endpoint))
        .collect();
    let mut out = Vec::new();
    if confirmed == 0 {
        out.push(
            Finding::new(
                Severity::Warning,
                "sns-subscription",
                topic_arn,
                if pending.is_empty() {
                    "no subscription: notifications reach nobody".to_owned()
                } else {
                    format!(
                        "no confirmed subscription, {} pending ({}): nobody clicked the confirmation link, so notifications reach nobody",
                        pending.len(),
                        pending.join(", ")
                    )
                },
            )
            .with_fix(subscribe),
        );
    } else {
        out.push(Finding::ok(
            "sns-subscription",
            topic_arn,
            format!("{confirmed} confirmed subscription(s)"),
        ));
        if !pending.is_empty() {
            out.push(Finding::new(
                Severity::Info,
                "sns-subscription",
                topic_arn,
                format!("pending confirmation: {}", pending.join(", ")),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::TopicSubscription;

    const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/delivery";

    fn role(trust: &str, policies: &[&str]) -> RolePolicies {
        RolePolicies {
            name: "delivery".into(),
            arn: ROLE_ARN.into(),
            trust_policy: trust.into(),
            policies: policies
                .iter()
                .map(|p| ("p".to_owned(), p.to_string()))
                .collect(),
        }
    }

    fn role_arn() -> RoleArn {
        ROLE_ARN.parse().unwrap()
    }

    fn worst(findings: &[Finding]) -> Severity {
        findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }

    #[test]
    fn a_missing_role_wrong_trust_or_missing_permissions_are_errors_with_iam_commands() {
        let missing = role_findings(&role_arn(), None, "us-east-1", "/g");
        assert_eq!(worst(&missing), Severity::Error);
        let fix = missing[0].fix.as_deref().unwrap();
        assert!(
            fix.starts_with(
                "aws iam create-role --role-name delivery --assume-role-policy-document '{"
            ),
            "{fix}"
        );
        assert!(fix.contains("\naws iam put-role-policy --role-name delivery --policy-name nat-flowrec-flow-logs-delivery"), "{fix}");

        let good = role(TRUST_POLICY, &[DELIVERY_POLICY]);
        assert_eq!(
            worst(&role_findings(&role_arn(), Some(&good), "us-east-1", "/g")),
            Severity::Ok
        );

        let ec2_trust = role(
            &TRUST_POLICY.replace("vpc-flow-logs", "ec2"),
            &[DELIVERY_POLICY],
        );
        let f = role_findings(&role_arn(), Some(&ec2_trust), "us-east-1", "/g");
        let trust = f.iter().find(|f| f.check == "delivery-role-trust").unwrap();
        assert_eq!(trust.severity, Severity::Error);
        assert!(
            trust
                .fix
                .as_deref()
                .unwrap()
                .starts_with("aws iam update-assume-role-policy --role-name delivery")
        );

        let no_perms = role(TRUST_POLICY, &[]);
        let f = role_findings(&role_arn(), Some(&no_perms), "us-east-1", "/g");
        let perms = f
            .iter()
            .find(|f| f.check == "delivery-role-permissions")
            .unwrap();
        assert!(
            perms.message.contains("logs:PutLogEvents"),
            "{}",
            perms.message
        );
    }

    #[test]
    fn log_group_class_and_retention_follow_the_configuration() {
        let group = |class: Option<&str>, days: Option<i32>| LogGroupInfo {
            name: "/g".into(),
            class: class.map(str::to_owned),
            retention_days: days,
        };
        let ok = log_group_findings(
            "/g",
            Some(&group(Some("INFREQUENT_ACCESS"), Some(7))),
            "INFREQUENT_ACCESS",
            7,
            "us-east-1",
        );
        assert_eq!(worst(&ok), Severity::Ok);
        let f = log_group_findings(
            "/g",
            Some(&group(Some("STANDARD"), None)),
            "INFREQUENT_ACCESS",
            7,
            "us-east-1",
        );
        assert_eq!(
            f.iter().filter(|f| f.severity == Severity::Warning).count(),
            2
        );
        assert!(f.iter().any(|f| f.fix.as_deref() == Some("aws logs put-retention-policy --region us-east-1 --log-group-name /g --retention-in-days 7")));
        // An emulator that drops the class: a note, not a warning.
        let unknown = log_group_findings(
            "/g",
            Some(&group(None, Some(7))),
            "INFREQUENT_ACCESS",
            7,
            "us-east-1",
        );
        assert_eq!(worst(&unknown), Severity::Info);
        assert_eq!(
            worst(&log_group_findings(
                "/g",
                None,
                "INFREQUENT_ACCESS",
                7,
                "us-east-1"
            )),
            Severity::Info
        );
    }

    #[test]
    fn a_topic_needs_to_exist_and_have_a_confirmed_subscription() {
        let arn = "arn:aws:sns:us-east-1:123456789012:nat-alerts";
        assert_eq!(
            worst(&topic_findings(None, None, "us-east-1")),
            Severity::Info
        );
        let topic: TopicArn = arn.parse().unwrap();
        let missing = topic_findings(Some(&topic), None, "us-east-1");
        assert_eq!(worst(&missing), Severity::Error);
        assert!(
            missing[0]
                .fix
                .as_deref()
                .unwrap()
                .starts_with("aws sns create-topic --region us-east-1 --name nat-alerts\n")
        );
        let sub = |confirmed| TopicSubscription {
            protocol: "email".into(),
            endpoint: "ops@example.com".into(),
            confirmed,
        };
        let pending = TopicInfo {
            arn: arn.into(),
            subscriptions: vec![sub(false)],
        };
        let f = topic_findings(Some(&topic), Some(&pending), "us-east-1");
        assert_eq!(worst(&f), Severity::Warning);
        assert!(f[0].message.contains("1 pending"), "{}", f[0].message);
        let fine = TopicInfo {
            arn: arn.into(),
            subscriptions: vec![sub(true), sub(false)],
        };
        assert_eq!(
            worst(&topic_findings(Some(&topic), Some(&fine), "us-east-1")),
            Severity::Info
        );
    }

    #[test]
    fn a_flow_logs_bucket_in_another_region_is_a_warning_and_a_missing_policy_an_error() {
        let s3 = S3Delivery {
            bucket: "flows".into(),
            prefix: "nat".into(),
            file_format: crate::s3_layout::S3FileFormat::PlainText,
            hive_compatible_partitions: false,
            per_hour_partition: false,
        };
        let f = bucket_findings(&s3, Some("eu-west-1"), None, "us-east-1");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("eu-west-1"), "{}", f[0].message);
        assert_eq!(f[1].severity, Severity::Error);
        assert!(
            f[1].message.contains("no bucket policy"),
            "{}",
            f[1].message
        );
        let missing = bucket_findings(&s3, None, None, "eu-west-1");
        assert_eq!(missing.len(), 1);
        assert_eq!(
            missing[0].fix.as_deref(),
            Some(
                "aws s3api create-bucket --bucket flows --region eu-west-1 \
                 --create-bucket-configuration LocationConstraint=eu-west-1"
            )
        );
    }
}
