//! The CloudFormation template deployed: `deploy/nat-flowrec.yaml` is created as a stack in
//! moto's CloudFormation, and the test asserts on what moto made of it (the function with its
//! role, environment, memory and concurrency; the log groups; the topic; the buckets; the
//! roles' trust). moto's CloudFormation skips the types it does not know (the schedule, the
//! e-mail subscription, the bucket policy) and keeps some properties of the types it knows
//! (log group class, bucket versioning, public access block, the function's architecture)
//! nowhere: those are asserted in the template's text, and the test fails if the template gains
//! a resource that is checked in neither place.
//!
//! The Lambda emulator test (lambda.rs) runs `bootstrap` with the environment moto's Lambda
//! holds after this deployment: the template's `!Sub`s resolved as CloudFormation would.

use aws_config::SdkConfig;
use nat_flowrec::config::Config;
use nat_flowrec::lambda::Request;
use serde_json::Value;

use crate::support::moto::{moto, sdk_in};
use crate::support::stack::*;

#[tokio::test(flavor = "multi_thread")]
async fn the_template_deploys_into_moto_with_the_function_its_role_logs_topic_and_bucket() {
    let moto = moto();
    let region = "sa-east-1";
    let stack = deploy(
        moto,
        region,
        "nat-flowrec-stack",
        &[
            (
                "NatGatewayIds",
                "nat-0123456789abcdef0,nat-0fedcba9876543210",
            ),
            ("NotificationEmail", "ops@example.com"),
            ("FlowLogsGroupName", "/nat-flowrec/stack-test"),
        ],
    )
    .await;
    let sdk: SdkConfig = sdk_in(moto, region).await;
    // The defaults a stack gets: one tick a minute, the architecture scripts/build-lambda builds.
    assert_eq!(stack.parameters["ScheduleExpression"], "rate(1 minute)");
    assert_eq!(stack.parameters["Architecture"], "x86_64");

    // The function: its role, runtime, memory, timeout, concurrency and environment.
    let function = stack.function(moto);
    assert_eq!(function["FunctionName"], "nat-flowrec-stack-job");
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["MemorySize"], template_memory_mb());
    assert_eq!(function["Timeout"], 300);
    let role = stack.physical("FunctionRole");
    assert_eq!(
        function["Role"],
        format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
        "{function}"
    );
    let concurrency = stack.lambda(moto, "2019-09-30", "concurrency");
    assert_eq!(
        concurrency["ReservedConcurrentExecutions"], 1,
        "{concurrency}"
    );

    let env = stack.function_environment(moto);
    assert_eq!(
        env.keys().collect::<Vec<_>>(),
        ["NAT_FLOWREC_CONFIG_TOML"],
        "the function reads no other variable the template could set"
    );
    let cfg = Config::from_toml_str(
        &env["NAT_FLOWREC_CONFIG_TOML"],
        "the function's environment",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bucket = stack.output("StateBucketName");
    assert_eq!(bucket, stack.physical("StateBucket"));
    assert_eq!(
        cfg.state.display().to_string(),
        format!("s3://{bucket}/nat-flowrec/events.jsonl")
    );
    assert_eq!(
        cfg.nat_gateway_ids,
        ["nat-0123456789abcdef0", "nat-0fedcba9876543210"]
    );
    assert_eq!(
        cfg.recording.deliver_logs_role_arn,
        stack.output("FlowLogsDeliveryRoleArn")
    );
    assert_eq!(cfg.recording.log_group, "/nat-flowrec/stack-test");
    assert_eq!(cfg.recording.retention_days, 7);
    let topic = stack.output("NotificationTopicArn");
    assert_eq!(cfg.notify.sns_topic_arn.unwrap(), topic);

    // The roles: who may assume them, and the job's policy on the real bucket's ARN.
    let iam = aws_sdk_iam::Client::new(&sdk);
    let trust = |name: String| {
        let iam = iam.clone();
        async move {
            let role = iam.get_role().role_name(&name).send().await.unwrap();
            let doc = role.role().unwrap().assume_role_policy_document().unwrap();
            let doc = urlencoding_decode(doc);
            serde_json::from_str::<Value>(&doc).unwrap_or_else(|e| panic!("{e}: {doc}"))
        }
    };
    let function_trust = trust(role.to_string()).await;
    assert_eq!(
        function_trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(
        function_trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    let delivery = stack.physical("FlowLogsDeliveryRole").to_string();
    let delivery_trust = trust(delivery).await;
    assert_eq!(
        delivery_trust["Statement"][0]["Principal"]["Service"],
        "vpc-flow-logs.amazonaws.com"
    );
    let policy = iam
        .get_role_policy()
        .role_name(role)
        .policy_name("nat-flowrec-job")
        .send()
        .await
        .expect("the job's inline policy");
    let policy = urlencoding_decode(policy.policy_document());
    assert!(
        policy.contains(&format!("arn:aws:s3:::{bucket}/nat-flowrec/*")),
        "the job may write the event log in the stack's bucket: {policy}"
    );
    assert!(
        !policy.contains("logs:CreateLogDelivery"),
        "no delivery to S3 set up with FlowLogsDestination = cloudwatch-logs: {policy}"
    );
    assert!(
        !policy.contains("route53resolver:"),
        "no DNS query logging without DnsQueryLogs = true: {policy}"
    );

    // The log groups: names and retention (moto keeps no class; the template says it below).
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let retention = |name: String| {
        let logs = logs.clone();
        async move {
            let groups = logs
                .describe_log_groups()
                .log_group_name_prefix(&name)
                .send()
                .await
                .unwrap();
            let group = groups
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("no log group {name}"));
            group.retention_in_days()
        }
    };
    assert_eq!(stack.physical("FlowLogsGroup"), "/nat-flowrec/stack-test");
    assert_eq!(retention("/nat-flowrec/stack-test".into()).await, Some(7));
    assert_eq!(
        retention("/aws/lambda/nat-flowrec-stack-job".into()).await,
        Some(30)
    );

    // The topic and the bucket's encryption.
    let sns = aws_sdk_sns::Client::new(&sdk);
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .expect("the topic exists");
    let attributes = attributes.attributes().unwrap();
    assert_eq!(
        attributes.get("DisplayName").map(String::as_str),
        Some("nat-flowrec")
    );
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .expect("the state bucket is encrypted");
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );

    // Every resource of the template is checked: created by moto, or in the template below.
    let declared = template_resources(&template());
    for (logical, kind) in &declared {
        match stack.resources.get(logical) {
            Some((created, _)) => assert_eq!(created, kind, "{logical}"),
            None => assert!(
                NOT_IN_MOTO.contains(&logical.as_str()),
                "moto did not create {logical} ({kind}): check it in the template text and add it to NOT_IN_MOTO"
            ),
        }
    }
    for logical in NOT_IN_MOTO {
        assert!(
            declared.contains_key(*logical),
            "{logical} left the template"
        );
        assert!(
            !stack.resources.contains_key(*logical),
            "moto now creates {logical}: assert on it in moto instead"
        );
    }
}

/// IAM's policy documents come URL-encoded in the query protocol.
fn urlencoding_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[test]
fn what_moto_does_not_create_is_asserted_in_the_template() {
    let template = template();
    let has = |logical: &str, lines: &[&str]| {
        let text = resource_text(&template, logical);
        for line in lines {
            assert!(
                text.lines()
                    .any(|l| l.trim().trim_start_matches("- ") == *line),
                "{logical} lacks `{line}`:\n{text}"
            );
        }
        text
    };

    // The schedule: every tick invokes the function with `check`, as its role, without retries
    // (the next tick comes soon); the rate is a parameter, one minute by default.
    let schedule = has(
        "CheckSchedule",
        &[
            "Type: AWS::Scheduler::Schedule",
            "ScheduleExpression: !Ref ScheduleExpression",
            "State: ENABLED",
            "Arn: !GetAtt Function.Arn",
            "RoleArn: !GetAtt SchedulerRole.Arn",
            "MaximumRetryAttempts: 0",
        ],
    );
    let input = schedule
        .lines()
        .find_map(|l| l.trim().strip_prefix("Input: "))
        .expect("the schedule's Input");
    let input: Value = serde_json::from_str(input.trim_matches('\'')).unwrap();
    assert_eq!(input, serde_json::json!({"command": "check"}));
    assert_eq!(
        serde_json::from_value::<Request>(input).unwrap(),
        Request::Check { dry_run: false },
        "the handler reads the schedule's input as a check"
    );
    let parameters = template.split("\nParameters:\n").nth(1).unwrap();
    let rate = parameters
        .split("\n  ScheduleExpression:\n")
        .nth(1)
        .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("Default: ")))
        .expect("ScheduleExpression's default");
    assert_eq!(rate, "rate(1 minute)");
    has(
        "SchedulerRole",
        &[
            "Service: scheduler.amazonaws.com",
            "Action: lambda:InvokeFunction",
        ],
    );

    // The function: one run at a time (the event log's lease expects it), on the architecture
    // the zip was built for.
    has(
        "Function",
        &[
            "ReservedConcurrentExecutions: 1",
            "Architectures: [!Ref Architecture]",
            "LogGroup: !Ref FunctionLogGroup",
        ],
    );
    has(
        "FlowLogsGroup",
        &[
            "LogGroupClass: INFREQUENT_ACCESS",
            "RetentionInDays: !Ref FlowLogsRetentionDays",
        ],
    );

    // The subscription exists only with an address; the bucket refuses plain HTTP and public
    // access, keeps versions, and lets old ones expire.
    has(
        "NotificationSubscription",
        &[
            "Condition: HasEmail",
            "TopicArn: !Ref NotificationTopic",
            "Protocol: email",
            "Endpoint: !Ref NotificationEmail",
        ],
    );
    has(
        "StateBucketPolicy",
        &[
            "Bucket: !Ref StateBucket",
            "Effect: Deny",
            "aws:SecureTransport: \"false\"",
            // With FlowLogsDestination = s3 only: the log delivery service writes the flow-log
            // files, for this account's deliveries only.
            "ToS3",
            "Service: delivery.logs.amazonaws.com",
            "Resource: !Sub ${StateBucket.Arn}/nat-flowrec/flowlogs/AWSLogs/*",
            "aws:SourceAccount: !Ref AWS::AccountId",
            "s3:x-amz-acl: bucket-owner-full-control",
        ],
    );
    has(
        "StateBucket",
        &[
            "BlockPublicAcls: true",
            "BlockPublicPolicy: true",
            "IgnorePublicAcls: true",
            "RestrictPublicBuckets: true",
            "Status: Enabled",
            "NoncurrentDays: 30",
            "ObjectOwnership: BucketOwnerEnforced",
            "Prefix: nat-flowrec/flowlogs/",
            "ExpirationInDays: !Ref FlowLogsRetentionDays",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_flow_logs_to_s3_the_function_records_into_its_state_bucket() {
    let moto = moto();
    let region = "ca-central-1";
    let stack = deploy(
        moto,
        region,
        "nat-flowrec-s3-stack",
        &[
            ("NatGatewayIds", "nat-0123456789abcdef0"),
            ("FlowLogsDestination", "s3"),
        ],
    )
    .await;
    let cfg = Config::from_toml_str(
        &stack.function_environment(moto)["NAT_FLOWREC_CONFIG_TOML"],
        "the function's environment",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let bucket = stack.output("StateBucketName");
    let s3 = cfg.recording.s3_delivery().expect("delivery to S3");
    assert_eq!(s3.uri(), format!("s3://{bucket}/nat-flowrec/flowlogs"));
    let iam = aws_sdk_iam::Client::new(&sdk_in(moto, region).await);
    let policy = iam
        .get_role_policy()
        .role_name(stack.physical("FunctionRole"))
        .policy_name("nat-flowrec-job")
        .send()
        .await
        .expect("the job's inline policy");
    let policy = urlencoding_decode(policy.policy_document());
    assert!(policy.contains("logs:CreateLogDelivery"), "{policy}");
}
