//! The least-privilege IAM policies for one configuration, built offline from it: what the job's
//! role needs (`job`), what the manual read-only commands add (`operator`: `doctor`,
//! `report --enrich`, `report --engine insights`, `report --engine athena` when `[athena]` is
//! configured), the flow-logs delivery role's permissions (`delivery`) and its trust policy
//! (`trust`), and, for `recording.destination = "s3"`, the bucket policy that lets the log
//! delivery service write the flow-log files (`bucket`).
//!
//! Why here and not a file in `deploy/`: a hand-kept policy drifts from the code and grants
//! `Resource: "*"` because it cannot know the user's log group, topic, bucket and role. This one
//! names exactly those, grants only what the configuration uses (no SNS without a topic, no S3
//! without a bucket), and the end-to-end test compares it with the operations the job really
//! calls (`aws::RECORD_OPERATIONS_ENV`). Pure: no AWS, no I/O.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::config::{AthenaConfig, Config, Destination, TriggerMode};
use crate::names::{AccountId, S3Object};
use crate::ports::TAG_RECORDING;

/// The service principal flow logs deliver as.
pub const FLOW_LOGS_SERVICE: &str = "vpc-flow-logs.amazonaws.com";

/// The service principal that writes flow-log files into an S3 bucket.
pub const LOG_DELIVERY_SERVICE: &str = "delivery.logs.amazonaws.com";

/// Actions a policy must grant although no SDK call of that name is made: IAM authorises them as
/// part of another call. The least-privilege test allows exactly these beyond what it recorded.
pub const AUTHORIZATION_ONLY: &[(&str, &str)] = &[
    (
        "ec2:CreateTags",
        "CreateFlowLogs with TagSpecifications (tag on create)",
    ),
    (
        "iam:PassRole",
        "CreateFlowLogs hands the delivery role to the flow-logs service",
    ),
    (
        "logs:TagResource",
        "CreateLogGroup with tags (tag on create)",
    ),
    (
        "s3:ListBucket",
        "GetObject of an event log not written yet answers 404, not 403",
    ),
    (
        "route53resolver:TagResource",
        "CreateResolverQueryLogConfig with tags (tag on create)",
    ),
    (
        "logs:CreateLogDelivery",
        "CreateResolverQueryLogConfig to a log group, or CreateFlowLogs to S3, sets up the vended-log delivery",
    ),
    (
        "logs:GetLogDelivery",
        "Resolver query logging's vended-log delivery to the log group",
    ),
    (
        "logs:UpdateLogDelivery",
        "Resolver query logging's vended-log delivery to the log group",
    ),
    (
        "logs:DeleteLogDelivery",
        "DeleteResolverQueryLogConfig, or DeleteFlowLogs of a flow log to S3, removes the vended-log delivery",
    ),
    (
        "logs:ListLogDeliveries",
        "Resolver query logging's vended-log delivery to the log group",
    ),
    (
        "logs:PutResourcePolicy",
        "CreateResolverQueryLogConfig lets Resolver write to the log group (its resource policy)",
    ),
    (
        "logs:DescribeResourcePolicies",
        "CreateResolverQueryLogConfig reads the log groups' resource policy first",
    ),
    (
        "logs:DescribeLogGroups",
        "CreateResolverQueryLogConfig finds the destination log group",
    ),
];

/// The Route 53 Resolver calls of `recording.dns_query_logs`: reading the VPC's query logging
/// (and ours, to reconcile), and creating, associating, disassociating and deleting ours.
const QUERY_LOGGING_READS: [&str; 4] = [
    "route53resolver:ListResolverQueryLogConfigs",
    "route53resolver:ListResolverQueryLogConfigAssociations",
    "route53resolver:GetResolverQueryLogConfig",
    "route53resolver:ListTagsForResource",
];
const QUERY_LOGGING_WRITES: [&str; 5] = [
    "route53resolver:CreateResolverQueryLogConfig",
    "route53resolver:AssociateResolverQueryLogConfig",
    "route53resolver:DisassociateResolverQueryLogConfig",
    "route53resolver:DeleteResolverQueryLogConfig",
    "route53resolver:TagResource",
];
/// What CreateResolverQueryLogConfig needs of CloudWatch Logs to deliver to a log group (AWS's
/// vended-log delivery); these actions take no resource ARN.
const QUERY_LOG_DELIVERY: [&str; 8] = [
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
];

/// Which policy document to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The scheduled job's role or user (check, watch, start, stop, export, notify).
    Job,
    /// What the manual read-only commands add: doctor, report --enrich, report --engine insights,
    /// report --engine athena.
    Operator,
    /// The permissions of the flow-logs delivery role (recording.deliver_logs_role_arn).
    Delivery,
    /// The trust policy of the flow-logs delivery role.
    Trust,
    /// The policy of the bucket of recording.s3_destination: the log delivery service may write.
    Bucket,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Job,
        Part::Operator,
        Part::Delivery,
        Part::Trust,
        Part::Bucket,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Part::Job => "job",
            Part::Operator => "operator",
            Part::Delivery => "delivery",
            Part::Trust => "trust",
            Part::Bucket => "bucket",
        }
    }
}

/// What a policy cannot be written without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "no region: the policy names the log group's ARN, which includes the region; set \
         `region` in the configuration, pass --region, or set AWS_REGION"
    )]
    NoRegion,
    #[error(
        "`{0}` is not an AWS account id: use the 12 digits of the account the job runs in \
         (aws sts get-caller-identity --query Account)"
    )]
    BadAccount(String),
    #[error(
        "`recording.deliver_logs_role_arn` = \"{role}\" is in account {role_account}, but the job \
         runs in account {account}: flow logs deliver to CloudWatch Logs with a role of the \
         account that owns them; create the role in {account} (`nat-flowrec iam-policy --part \
         delivery` and `--part trust`) and name it in the configuration"
    )]
    RoleInAnotherAccount {
        role: String,
        role_account: String,
        account: String,
    },
}

/// Where the policies apply: the partition, region and account their ARNs name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Scope {
    /// The account and partition come from the delivery role's ARN (a role of the job's own
    /// account, see [`PolicyError::RoleInAnotherAccount`]) unless `account` is given.
    pub fn new(
        cfg: &Config,
        region: Option<&str>,
        account: Option<&str>,
    ) -> Result<Scope, PolicyError> {
        let region = region
            .or(cfg.region.as_deref())
            .filter(|r| !r.is_empty())
            .ok_or(PolicyError::NoRegion)?
            .to_string();
        let role = &cfg.recording.deliver_logs_role_arn;
        let role_account = role.account();
        // Delivery to S3 uses no role: the account given is the job's.
        let role_used = cfg.recording.destination == Destination::CloudwatchLogs;
        let account = match account {
            Some(given) => {
                let given: AccountId = given
                    .parse()
                    .map_err(|_| PolicyError::BadAccount(given.to_string()))?;
                if role_used && given != *role_account {
                    return Err(PolicyError::RoleInAnotherAccount {
                        role: role.to_string(),
                        role_account: role_account.to_string(),
                        account: given.to_string(),
                    });
                }
                given.to_string()
            }
            None => role_account.to_string(),
        };
        Ok(Scope {
            partition: role.partition().to_string(),
            region,
            account,
        })
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    /// The bucket of `recording.s3_destination` and the key pattern of its flow-log files.
    fn delivery_bucket_arns(&self, cfg: &Config) -> Option<(String, String, String)> {
        let s3 = cfg.recording.s3_delivery()?;
        let bucket = format!("arn:{}:s3:::{}", self.partition, s3.bucket);
        let root = s3.logs_root();
        let files = format!("{bucket}/{root}*");
        Some((bucket, files, format!("{root}*")))
    }

    fn log_group_arns(&self, cfg: &Config) -> Value {
        self.group_arns(&cfg.recording.log_group)
    }

    fn group_arns(&self, name: &str) -> Value {
        let group = self.arn("logs", &format!("log-group:{name}"));
        json!([group, format!("{group}:*")])
    }
}

/// One policy document by part.
pub fn policy(part: Part, scope: &Scope, cfg: &Config) -> Value {
    match part {
        Part::Job => job_policy(scope, cfg),
        Part::Operator => operator_policy(scope, cfg),
        Part::Delivery => delivery_policy(scope, cfg),
        Part::Trust => trust_policy(scope),
        Part::Bucket => bucket_policy(scope, cfg),
    }
}

/// Every part the configuration uses, labelled: `{"job": {...}, "operator": {...},
/// "delivery": {...}, "trust": {...}}`, and `"bucket"` with delivery to S3.
pub fn all_policies(scope: &Scope, cfg: &Config) -> Value {
    let mut out = serde_json::Map::new();
    for part in Part::ALL {
        if part == Part::Bucket && cfg.recording.s3_delivery().is_none() {
            continue;
        }
        out.insert(part.name().to_string(), policy(part, scope, cfg));
    }
    Value::Object(out)
}

fn document(statements: Vec<Value>) -> Value {
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The scheduled job: `check` (reconcile, trigger, start, stop, export, report, notify) and the
/// manual `start`, `stop`, `reconcile`, `export`, `notify`.
pub fn job_policy(scope: &Scope, cfg: &Config) -> Value {
    // GetMetricData also measures each report's coverage (in alarm mode too); the network reads
    // name the report's hosts and the NAT's VPC, route tables and subnets in its fixes.
    let mut unscoped = vec![
        "ec2:DescribeNatGateways",
        "ec2:DescribeFlowLogs",
        "cloudwatch:GetMetricData",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeInstances",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
    ];
    // `trigger.metrics_api = "auto"` may move to GetMetricStatistics when NAT gateways go.
    if cfg.trigger.mode.reads_metrics()
        && cfg.trigger.metrics_api != crate::config::MetricsApi::GetMetricData
    {
        unscoped.push("cloudwatch:GetMetricStatistics");
    }
    let flow_log = scope.arn("ec2", "vpc-flow-log/*");
    let mut recorded: Vec<String> = vec![scope.arn("ec2", "network-interface/*")];
    // A regional NAT gateway is recorded as itself (resource type RegionalNatGateway).
    recorded.extend(
        cfg.nat_gateway_ids
            .iter()
            .map(|id| scope.arn("ec2", &format!("natgateway/{id}"))),
    );
    let mut statements = vec![json!({
        "Sid": "DescribeCallsWithoutResourceScope",
        "Effect": "Allow",
        "Action": unscoped,
        "Resource": "*",
    })];
    if cfg.trigger.mode == TriggerMode::Alarm {
        let alarms: Vec<String> = cfg
            .trigger
            .alarm_names
            .iter()
            .map(|name| scope.arn("cloudwatch", &format!("alarm:{name}")))
            .collect();
        statements.push(json!({
            "Sid": "ReadTheTriggerAlarms",
            "Effect": "Allow",
            "Action": "cloudwatch:DescribeAlarms",
            "Resource": alarms,
        }));
    }
    statements.extend([
        json!({
            "Sid": "CreateFlowLogsOnTheNatGateways",
            "Effect": "Allow",
            "Action": "ec2:CreateFlowLogs",
            "Resource": recorded,
        }),
        json!({
            "Sid": "CreateOnlyFlowLogsTaggedAsOurs",
            "Effect": "Allow",
            "Action": "ec2:CreateFlowLogs",
            "Resource": flow_log,
            "Condition": { "Null": { format!("aws:RequestTag/{TAG_RECORDING}"): "false" } },
        }),
        json!({
            "Sid": "TagFlowLogsOnlyWhileCreatingThem",
            "Effect": "Allow",
            "Action": "ec2:CreateTags",
            "Resource": flow_log,
            "Condition": { "StringEquals": { "ec2:CreateAction": "CreateFlowLogs" } },
        }),
        json!({
            "Sid": "DeleteOnlyOurFlowLogs",
            "Effect": "Allow",
            "Action": "ec2:DeleteFlowLogs",
            "Resource": flow_log,
            "Condition": { "Null": { format!("ec2:ResourceTag/{TAG_RECORDING}"): "false" } },
        }),
    ]);
    match scope.delivery_bucket_arns(cfg) {
        None => statements.extend([
            json!({
                "Sid": "PassOnlyTheDeliveryRoleToFlowLogs",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": cfg.recording.deliver_logs_role_arn,
                "Condition": { "StringEquals": { "iam:PassedToService": FLOW_LOGS_SERVICE } },
            }),
            log_group_statement(
                "TheRecordingsLogGroup",
                scope,
                cfg,
                &cfg.recording.log_group,
            ),
        ]),
        Some((bucket, files, keys)) => statements.extend([
            json!({
                // IAM checks these while CreateFlowLogs and DeleteFlowLogs set up and remove
                // the delivery to the bucket; they name no resource.
                "Sid": "SetUpFlowLogDeliveryToS3",
                "Effect": "Allow",
                "Action": ["logs:CreateLogDelivery", "logs:DeleteLogDelivery"],
                "Resource": "*",
            }),
            json!({
                "Sid": "ListTheDeliveredFlowLogs",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket,
                "Condition": { "StringLike": { "s3:prefix": keys } },
            }),
            json!({
                "Sid": "ReadTheDeliveredFlowLogs",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": files,
            }),
        ]),
    }
    if cfg.recording.dns_query_logs {
        statements.extend(query_logging_statements(scope, cfg));
    }
    if let Some(topic) = &cfg.notify.sns_topic_arn {
        statements.push(json!({
            "Sid": "NotifyTheTopic",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": topic,
        }));
    }
    if let Some(uri) = &cfg.notify.report_s3_uri {
        let objects = format!(
            "arn:{}:s3:::{}/{}",
            scope.partition,
            uri.bucket(),
            uri.key("*")
        );
        statements.push(json!({
            // GetObject: the pre-signed link in the message works with the signer's rights.
            "Sid": "UploadReportsAndSignTheirLinks",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": objects,
        }));
    }
    if let Some(Ok(state)) = cfg.state.to_str().and_then(S3Object::in_text) {
        let (bucket, key) = (state.bucket(), state.key());
        statements.push(json!({
            "Sid": "TheEventLogInS3",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": format!("arn:{}:s3:::{bucket}/{key}", scope.partition),
        }));
        statements.push(json!({
            "Sid": "TellAMissingEventLogFromADeniedOne",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:{}:s3:::{bucket}", scope.partition),
            "Condition": { "StringEquals": { "s3:prefix": key } },
        }));
    }
    document(statements)
}

/// A log group the job creates and exports from: the recordings' or the DNS queries'.
fn log_group_statement(sid: &str, scope: &Scope, cfg: &Config, group: &str) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": [
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:DescribeLogStreams",
            cfg.export.read_api.action(),
        ],
        "Resource": scope.group_arns(group),
    })
}

/// `recording.dns_query_logs`: Resolver's query logging of the NAT's VPC, the CloudWatch Logs
/// delivery it sets up, and the DNS log group (created, read by the export).
fn query_logging_statements(scope: &Scope, cfg: &Config) -> Vec<Value> {
    vec![
        json!({
            "Sid": "ReadQueryLoggingOfTheVpc",
            "Effect": "Allow",
            "Action": QUERY_LOGGING_READS,
            "Resource": "*",
        }),
        json!({
            // Disassociate and delete are refused by nat-flowrec for configurations without
            // its tags; Resolver's actions take no tag condition.
            "Sid": "RecordTheVpcsDnsQueries",
            "Effect": "Allow",
            "Action": QUERY_LOGGING_WRITES,
            "Resource": scope.arn("route53resolver", "resolver-query-log-config/*"),
        }),
        json!({
            "Sid": "DeliverQueryLogsToCloudWatchLogs",
            "Effect": "Allow",
            "Action": QUERY_LOG_DELIVERY,
            "Resource": "*",
        }),
        log_group_statement("TheDnsLogGroup", scope, cfg, &cfg.recording.dns_log_group),
    ]
}

/// What the manual read-only commands call beyond the job: `doctor` (the NAT's network, the
/// delivery role, the log group, the topic), `report --enrich` of plain files and
/// `report --engine insights`.
pub fn operator_policy(scope: &Scope, cfg: &Config) -> Value {
    let role = &cfg.recording.deliver_logs_role_arn;
    let mut statements = vec![
        json!({
            "Sid": "ReadTheNetworkWithoutResourceScope",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeInstances",
                "ec2:DescribeSubnets",
                "ec2:DescribeRouteTables",
                "ec2:DescribeVpcEndpoints",
                "logs:GetQueryResults",
            ],
            "Resource": "*",
        }),
        json!({
            "Sid": "ReadTheDeliveryRole",
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:ListRolePolicies",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
            ],
            "Resource": role,
        }),
        json!({
            // The role's attached managed policies may be AWS's own (account `aws`).
            "Sid": "ReadTheDeliveryRolesManagedPolicies",
            "Effect": "Allow",
            "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"],
            "Resource": format!("arn:{}:iam::*:policy/*", scope.partition),
        }),
        json!({
            "Sid": "FindTheLogGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": scope.arn("logs", "log-group:*"),
        }),
        json!({
            "Sid": "QueryTheRecordingsLogGroup",
            "Effect": "Allow",
            "Action": "logs:StartQuery",
            "Resource": scope.log_group_arns(cfg),
        }),
    ];
    if let Some((bucket, _, _)) = scope.delivery_bucket_arns(cfg) {
        statements.push(json!({
            "Sid": "CheckTheDeliveryBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:GetBucketPolicy"],
            "Resource": bucket,
        }));
    }
    if let Some(athena) = &cfg.athena {
        statements.extend(athena_statements(scope, cfg, athena));
    }
    if let Some(topic) = &cfg.notify.sns_topic_arn {
        statements.push(json!({
            "Sid": "ReadTheTopic",
            "Effect": "Allow",
            "Action": ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
            "Resource": topic,
        }));
    }
    document(statements)
}

/// `report --engine athena`: queries in the workgroup, the database and its tables in the Glue
/// catalog (Athena's DDL creates them there), the result location written and read back, and
/// the recordings' flow logs read where they are delivered (with `recording.destination = "s3"`:
/// its account folders listed, its files read by Athena as the caller; a prefix given on the
/// command line needs its own grant).
fn athena_statements(scope: &Scope, cfg: &Config, athena: &AthenaConfig) -> Vec<Value> {
    let s3 = |bucket: &str, prefix: &str| {
        let objects = if prefix.is_empty() {
            "*".to_owned()
        } else {
            format!("{prefix}/*")
        };
        (
            format!("arn:{}:s3:::{bucket}", scope.partition),
            format!("arn:{}:s3:::{bucket}/{objects}", scope.partition),
        )
    };
    let db = &athena.database;
    let out = &athena.output_location;
    let (out_bucket, out_objects) = s3(out.bucket(), out.prefix());
    let mut statements = vec![
        json!({
            "Sid": "RunAthenaQueriesInTheWorkgroup",
            "Effect": "Allow",
            "Action": [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
            ],
            "Resource": scope.arn("athena", &format!("workgroup/{}", athena.workgroup)),
        }),
        json!({
            "Sid": "CreateAndReadTheFlowLogTables",
            "Effect": "Allow",
            "Action": [
                "glue:CreateDatabase",
                "glue:GetDatabase",
                "glue:CreateTable",
                "glue:GetTable",
            ],
            "Resource": [
                scope.arn("glue", "catalog"),
                scope.arn("glue", &format!("database/{db}")),
                scope.arn("glue", &format!("table/{db}/*")),
            ],
        }),
        json!({
            "Sid": "WriteAndReadAthenaResults",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketLocation",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            "Resource": [out_bucket, out_objects],
        }),
    ];
    if let Some((bucket, files, _)) = scope.delivery_bucket_arns(cfg) {
        statements.push(json!({
            "Sid": "ReadTheFlowLogsInS3",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
            "Resource": [bucket, files],
        }));
    }
    statements
}

/// The delivery role's permissions: write the flow-log records into the recordings' log group
/// (the job creates the group, so the role never needs CreateLogGroup).
pub fn delivery_policy(scope: &Scope, cfg: &Config) -> Value {
    let group = scope.arn("logs", &format!("log-group:{}", cfg.recording.log_group));
    document(vec![
        json!({
            "Sid": "WriteTheRecordingsLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [group.clone(), format!("{group}:log-stream:*")],
        }),
        json!({
            "Sid": "FindTheLogGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": scope.arn("logs", "log-group:*"),
        }),
    ])
}

/// The delivery role's trust policy: only the flow-logs service, only for this account's flow
/// logs (the confused-deputy guard).
pub fn trust_policy(scope: &Scope) -> Value {
    document(vec![json!({
        "Effect": "Allow",
        "Principal": { "Service": FLOW_LOGS_SERVICE },
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": { "aws:SourceAccount": scope.account },
            "ArnLike": { "aws:SourceArn": scope.arn("ec2", "vpc-flow-log/*") },
        },
    })])
}

/// The policy of the bucket flow logs deliver to (`recording.destination = "s3"`), as AWS
/// documents it for VPC Flow Logs: the log delivery service may check the bucket and write
/// files under `<prefix>/AWSLogs/`, only for this account's deliveries in this region (the
/// confused-deputy guard). For CloudWatch Logs delivery there is no bucket: an empty policy.
pub fn bucket_policy(scope: &Scope, cfg: &Config) -> Value {
    let Some((bucket, files, _)) = scope.delivery_bucket_arns(cfg) else {
        return document(Vec::new());
    };
    let source = json!({
        "StringEquals": { "aws:SourceAccount": scope.account },
        "ArnLike": { "aws:SourceArn": scope.arn("logs", "*") },
    });
    let mut write_condition = source.clone();
    write_condition["StringEquals"]["s3:x-amz-acl"] = json!("bucket-owner-full-control");
    document(vec![
        json!({
            "Sid": "AWSLogDeliveryWrite",
            "Effect": "Allow",
            "Principal": { "Service": LOG_DELIVERY_SERVICE },
            "Action": "s3:PutObject",
            "Resource": files,
            "Condition": write_condition,
        }),
        json!({
            "Sid": "AWSLogDeliveryAclCheck",
            "Effect": "Allow",
            "Principal": { "Service": LOG_DELIVERY_SERVICE },
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket,
            "Condition": source,
        }),
    ])
}

/// Every action a policy document grants (its `Action` strings and lists).
pub fn granted_actions(policy: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let statements = policy
        .get("Statement")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for statement in statements {
        match statement.get("Action") {
            Some(Value::String(one)) => {
                out.insert(one.clone());
            }
            Some(Value::Array(many)) => {
                out.extend(many.iter().filter_map(Value::as_str).map(str::to_string));
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";
    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:nat-alerts";

    fn config(extra: &str) -> Config {
        let text = format!(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n{extra}\n\
             [recording]\nlog_group = \"/nat-flowrec/flowlogs\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
        );
        Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
        policy["Statement"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["Sid"] == sid))
            .unwrap_or_else(|| panic!("no statement {sid} in {policy:#}"))
    }

    #[test]
    fn the_account_and_partition_come_from_the_role_and_the_region_from_the_config() {
        let scope = Scope::new(&config(""), None, None).unwrap();
        assert_eq!(
            scope,
            Scope {
                partition: "aws".into(),
                region: "eu-west-1".into(),
                account: "123456789012".into()
            }
        );
        let scope = Scope::new(&config(""), Some("us-east-2"), Some("123456789012")).unwrap();
        assert_eq!(scope.region, "us-east-2");
    }

    #[test]
    fn a_role_of_another_account_or_a_bad_account_id_is_refused_with_the_fix() {
        let err = Scope::new(&config(""), None, Some("210987654321")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("recording.deliver_logs_role_arn"), "{text}");
        assert!(
            text.contains("123456789012") && text.contains("210987654321"),
            "{text}"
        );
        assert!(text.contains("--part delivery"), "{text}");
        assert_eq!(
            Scope::new(&config(""), None, Some("12345")).unwrap_err(),
            PolicyError::BadAccount("12345".into())
        );
        let mut no_region = config("");
        no_region.region = None;
        assert_eq!(
            Scope::new(&no_region, None, None).unwrap_err(),
            PolicyError::NoRegion
        );
    }

    #[test]
    fn resources_are_narrowed_to_the_configured_log_group_role_and_tag() {
        let cfg = config("");
        let scope = Scope::new(&cfg, None, None).unwrap();
        let job = job_policy(&scope, &cfg);
        assert_eq!(
            statement(&job, "TheRecordingsLogGroup")["Resource"],
            json!([
                "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/flowlogs",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/flowlogs:*"
            ])
        );
        let pass = statement(&job, "PassOnlyTheDeliveryRoleToFlowLogs");
        assert_eq!(pass["Resource"], ROLE);
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "vpc-flow-logs.amazonaws.com"
        );
        let delete = statement(&job, "DeleteOnlyOurFlowLogs");
        assert_eq!(
            delete["Condition"]["Null"]["ec2:ResourceTag/nat-flowrec:recording"],
            "false"
        );
        let create = statement(&job, "CreateOnlyFlowLogsTaggedAsOurs");
        assert_eq!(
            create["Condition"]["Null"]["aws:RequestTag/nat-flowrec:recording"],
            "false"
        );
        // Only the calls AWS cannot scope by resource get "*".
        for s in job["Statement"].as_array().unwrap() {
            if s["Resource"] == "*" {
                for action in granted_actions(&document(vec![s.clone()])) {
                    assert!(
                        action.contains(":Describe") || action.starts_with("cloudwatch:GetMetric"),
                        "{action} on *"
                    );
                }
            }
        }
    }

    #[test]
    fn only_what_the_configuration_uses_is_granted() {
        let bare = config("");
        let scope = Scope::new(&bare, None, None).unwrap();
        let actions = granted_actions(&job_policy(&scope, &bare));
        assert!(
            !actions.iter().any(|a| a.starts_with("sns:")),
            "{actions:?}"
        );
        assert!(!actions.iter().any(|a| a.starts_with("s3:")), "{actions:?}");
        assert!(!actions.contains("cloudwatch:DescribeAlarms"));
        assert!(actions.contains("cloudwatch:GetMetricData"));
        assert!(actions.contains("cloudwatch:GetMetricStatistics"));
        let batched = config("[trigger]\nmetrics_api = \"get_metric_data\"\n");
        let actions = granted_actions(&job_policy(&scope, &batched));
        assert!(!actions.contains("cloudwatch:GetMetricStatistics"));

        let full = config(&format!(
            "state = \"s3://state-bucket/nat-flowrec/events.jsonl\"\n\
             [notify]\nsns_topic_arn = \"{TOPIC}\"\nreport_s3_uri = \"s3://reports/flowrec/\"\n"
        ));
        let job = job_policy(&scope, &full);
        assert_eq!(statement(&job, "NotifyTheTopic")["Resource"], TOPIC);
        assert_eq!(
            statement(&job, "UploadReportsAndSignTheirLinks")["Resource"],
            "arn:aws:s3:::reports/flowrec/*"
        );
        assert_eq!(
            statement(&job, "TheEventLogInS3")["Resource"],
            "arn:aws:s3:::state-bucket/nat-flowrec/events.jsonl"
        );
        assert_eq!(
            statement(&job, "TellAMissingEventLogFromADeniedOne")["Condition"]["StringEquals"]["s3:prefix"],
            "nat-flowrec/events.jsonl"
        );
    }

    #[test]
    fn dns_query_logs_add_exactly_resolvers_query_logging_and_its_log_delivery() {
        let off = config("");
        let scope = Scope::new(&off, None, None).unwrap();
        let without = granted_actions(&job_policy(&scope, &off));
        assert!(
            !without
                .iter()
                .any(|a| a.starts_with("route53resolver:") || a.contains("LogDeliver")),
            "{without:?}"
        );

        let text = format!(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\nlog_group = \"/nat-flowrec/flowlogs\"\ndeliver_logs_role_arn = \"{ROLE}\"\n\
             dns_query_logs = true\ndns_log_group = \"/nat-flowrec/dns\"\n"
        );
        let on = Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
        let job = job_policy(&scope, &on);
        let added: BTreeSet<String> = granted_actions(&job)
            .difference(&without)
            .cloned()
            .collect();
        let expected: BTreeSet<String> = QUERY_LOGGING_READS
            .iter()
            .chain(&QUERY_LOGGING_WRITES)
            .chain(&QUERY_LOG_DELIVERY)
            .map(|a| a.to_string())
            .collect();
        assert_eq!(added, expected);
        assert_eq!(
            statement(&job, "RecordTheVpcsDnsQueries")["Resource"],
            "arn:aws:route53resolver:eu-west-1:123456789012:resolver-query-log-config/*"
        );
        assert_eq!(
            statement(&job, "TheDnsLogGroup")["Resource"],
            json!([
                "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/dns",
                "arn:aws:logs:eu-west-1:123456789012:log-group:/nat-flowrec/dns:*"
            ])
        );
    }

    #[test]
    fn athena_is_granted_only_when_configured_and_only_its_workgroup_database_and_locations() {
        let bare = config("");
        let scope = Scope::new(&bare, None, None).unwrap();
        let actions = granted_actions(&operator_policy(&scope, &bare));
        assert!(
            !actions
                .iter()
                .any(|a| a.starts_with("athena:") || a.starts_with("glue:")),
            "{actions:?}"
        );
        let cfg = config("[athena]\noutput_location = \"s3://results/athena\"\n");
        let operator = operator_policy(&scope, &cfg);
        // Recordings delivered to a log group: no flow-log files to read.
        assert_eq!(
            operator["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["Sid"] == "ReadTheFlowLogsInS3")
                .count(),
            0
        );
        let to_s3 = Config::from_toml_str(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\ndestination = \"s3\"\ns3_destination = \"s3://flow-logs/nat\"\n\
             [athena]\noutput_location = \"s3://results/athena\"\n",
            "test.toml",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            statement(&operator_policy(&scope, &to_s3), "ReadTheFlowLogsInS3")["Resource"],
            json!([
                "arn:aws:s3:::flow-logs",
                "arn:aws:s3:::flow-logs/nat/AWSLogs/*"
            ])
        );
        assert_eq!(
            statement(&operator, "RunAthenaQueriesInTheWorkgroup")["Resource"],
            "arn:aws:athena:eu-west-1:123456789012:workgroup/primary"
        );
        assert_eq!(
            statement(&operator, "CreateAndReadTheFlowLogTables")["Resource"],
            json!([
                "arn:aws:glue:eu-west-1:123456789012:catalog",
                "arn:aws:glue:eu-west-1:123456789012:database/nat_flowrec",
                "arn:aws:glue:eu-west-1:123456789012:table/nat_flowrec/*"
            ])
        );
        assert_eq!(
            statement(&operator, "WriteAndReadAthenaResults")["Resource"],
            json!(["arn:aws:s3:::results", "arn:aws:s3:::results/athena/*"])
        );
        let actions = granted_actions(&operator);
        for action in [
            "athena:StartQueryExecution",
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "glue:CreateDatabase",
            "glue:GetDatabase",
            "glue:CreateTable",
            "glue:GetTable",
        ] {
            assert!(actions.contains(action), "{action}: {actions:?}");
        }
        // The job itself never queries Athena.
        let job = granted_actions(&job_policy(&scope, &cfg));
        assert!(!job.iter().any(|a| a.starts_with("athena:")), "{job:?}");
    }

    #[test]
    fn alarm_mode_reads_only_the_named_alarms() {
        let cfg = config("[trigger]\nmode = \"alarm\"\nalarm_names = [\"nat-spike\"]\n");
        let scope = Scope::new(&cfg, None, None).unwrap();
        let job = job_policy(&scope, &cfg);
        assert_eq!(
            statement(&job, "ReadTheTriggerAlarms")["Resource"],
            json!(["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:nat-spike"])
        );
        // The metrics still measure each report's coverage and the NAT's last 30 days.
        assert!(granted_actions(&job).contains("cloudwatch:GetMetricData"));
    }

    #[test]
    fn the_trust_policy_admits_only_flow_logs_of_this_account() {
        let cfg = config("");
        let scope = Scope::new(&cfg, None, None).unwrap();
        let trust = trust_policy(&scope);
        let s = &trust["Statement"][0];
        assert_eq!(s["Principal"]["Service"], FLOW_LOGS_SERVICE);
        assert_eq!(s["Action"], "sts:AssumeRole");
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            s["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"
        );
        let all = all_policies(&scope, &cfg);
        for part in Part::ALL {
            if part != Part::Bucket {
                assert_eq!(all[part.name()]["Version"], "2012-10-17");
            }
        }
        assert_eq!(all.get("bucket"), None, "no bucket without delivery to S3");
    }

    fn s3_config() -> Config {
        config("").with_recording("destination = \"s3\"\ns3_destination = \"s3://flows/nat\"\n")
    }

    trait WithRecording {
        fn with_recording(self, extra: &str) -> Config;
    }

    impl WithRecording for Config {
        fn with_recording(self, extra: &str) -> Config {
            let text = format!(
                "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
                 [recording]\n{extra}"
            );
            Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
        }
    }

    #[test]
    fn delivery_to_s3_reads_the_buckets_flow_log_files_and_passes_no_role() {
        let cfg = s3_config();
        let scope = Scope::new(&cfg, None, Some("210987654321")).unwrap();
        let job = job_policy(&scope, &cfg);
        let actions = granted_actions(&job);
        assert!(!actions.contains("iam:PassRole"), "{actions:?}");
        assert!(!actions.contains("logs:CreateLogGroup"), "{actions:?}");
        assert_eq!(
            statement(&job, "ReadTheDeliveredFlowLogs")["Resource"],
            "arn:aws:s3:::flows/nat/AWSLogs/*"
        );
        let list = statement(&job, "ListTheDeliveredFlowLogs");
        assert_eq!(list["Resource"], "arn:aws:s3:::flows");
        assert_eq!(
            list["Condition"]["StringLike"]["s3:prefix"],
            "nat/AWSLogs/*"
        );
        assert!(actions.contains("logs:CreateLogDelivery"));
        assert!(granted_actions(&operator_policy(&scope, &cfg)).contains("s3:GetBucketPolicy"));
    }

    #[test]
    fn the_bucket_policy_is_awss_for_log_delivery_of_this_account_and_region() {
        let cfg = s3_config();
        let scope = Scope::new(&cfg, None, Some("210987654321")).unwrap();
        let policy = bucket_policy(&scope, &cfg);
        let write = statement(&policy, "AWSLogDeliveryWrite");
        assert_eq!(write["Principal"]["Service"], LOG_DELIVERY_SERVICE);
        assert_eq!(write["Action"], "s3:PutObject");
        assert_eq!(write["Resource"], "arn:aws:s3:::flows/nat/AWSLogs/*");
        assert_eq!(
            write["Condition"]["StringEquals"],
            json!({
                "aws:SourceAccount": "210987654321",
                "s3:x-amz-acl": "bucket-owner-full-control"
            })
        );
        assert_eq!(
            write["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:logs:eu-west-1:210987654321:*"
        );
        let check = statement(&policy, "AWSLogDeliveryAclCheck");
        assert_eq!(check["Resource"], "arn:aws:s3:::flows");
        assert_eq!(check["Action"], json!(["s3:GetBucketAcl", "s3:ListBucket"]));
        // Delivering to CloudWatch Logs, there is no bucket to open.
        assert_eq!(bucket_policy(&scope, &config(""))["Statement"], json!([]));
    }
}
