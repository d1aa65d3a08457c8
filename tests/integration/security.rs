//! Security: the job reaches no further than its own resources, and says so clearly
//! when AWS refuses it.
//!
//! * `iam-policy` prints valid least-privilege JSON, and the job policy grants exactly the AWS
//!   operations a full recording cycle calls (recorded by the SDK interceptor the binary
//!   installs when `NAT_FLOWREC_RECORD_OPERATIONS` is set): a new call without a grant, or a
//!   grant nobody calls, fails here.
//! * The same cycle runs with recognisable dummy credentials; neither they nor a pre-signed
//!   link's signature may appear on stdout, stderr, in the event log or any file the run wrote.
//! * An AccessDenied from AWS (a private moto with IAM enforcement, `POST /moto-api/reset-auth`)
//!   names the missing action and the command that prints the fix; the run exits non-zero.
//! * An unknown NAT id and an SNS topic that does not exist each get a message naming the key.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::aws::RECORD_OPERATIONS_ENV;
use nat_flowrec::iam_policy::{AUTHORIZATION_ONLY, granted_actions};
use nat_flowrec::ports::{AwsErrorKind, Notification, Notifier};
use serde_json::Value;

use crate::support::moto::{
    Moto, create_topic, moto, put_log_events, put_nat_metric, put_spike, seed_nat,
};
use crate::support::records::four_legs;
use crate::support::run::{assert_started, minute_now, nat_flowrec, text};

const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";
const SECRET_CANARY: &str = "SECRETCANARYdoNotLogThis0123456789abcdef";
const TOKEN_CANARY: &str = "TOKENCANARYdoNotLogThisEither0123456789";

/// The run failed with exit 1, and its output (stdout and stderr, returned) names each of
/// `needed`.
fn assert_fails_saying(o: &Output, needed: &[&str]) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", text(o));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for needed in needed {
        assert!(all.contains(needed), "`{needed}` missing:\n{}", text(o));
    }
    all
}

/// The binary in `dir` against `endpoint`, at `now`, with the canary credentials.
fn run(
    dir: &Path,
    endpoint: &str,
    args: &[&str],
    now: DateTime<Utc>,
    extra: &[(&str, &str)],
) -> Output {
    let mut cmd: Command = nat_flowrec(dir);
    cmd.args(args)
        .args(["--endpoint-url", endpoint, "--now", &now.to_rfc3339()])
        .env("AWS_ACCESS_KEY_ID", "AKIACANARYKEYID00000")
        .env("AWS_SECRET_ACCESS_KEY", SECRET_CANARY)
        .env("AWS_SESSION_TOKEN", TOKEN_CANARY)
        .env_remove("RUST_LOG");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("run nat-flowrec")
}

/// `iam-policy` without AWS: the binary, a config, no endpoint.
fn iam_policy(dir: &Path, args: &[&str]) -> Output {
    nat_flowrec(dir)
        .arg("iam-policy")
        .args(args)
        .output()
        .expect("run nat-flowrec iam-policy")
}

fn write_config(dir: &Path, config: &str) {
    std::fs::write(dir.join("nat-flowrec.toml"), config).expect("write the config");
}

#[test]
fn iam_policy_prints_every_part_as_json_narrowed_to_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            "region = \"eu-west-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\nlog_group = \"/flows/nat\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
        ),
    );
    let o = iam_policy(dir.path(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let all: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    for part in ["job", "operator", "delivery", "trust"] {
        assert_eq!(all[part]["Version"], "2012-10-17", "{part}: {all:#}");
    }
    let job = &all["job"];
    let text_of_job = job.to_string();
    assert!(
        text_of_job.contains("arn:aws:logs:eu-west-1:123456789012:log-group:/flows/nat"),
        "{job:#}"
    );
    let actions = granted_actions(job);
    assert!(
        !actions
            .iter()
            .any(|a| a.starts_with("sns:") || a.starts_with("s3:")),
        "{actions:?}"
    );

    let o = iam_policy(dir.path(), &["--part", "trust"]);
    assert!(o.status.success(), "{}", text(&o));
    let trust: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        "123456789012"
    );

    // A job account other than the delivery role's: refused, naming the key and the fix.
    let o = iam_policy(dir.path(), &["--account-id", "210987654321"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("recording.deliver_logs_role_arn"),
        "{}",
        text(&o)
    );
    assert!(stderr.contains("210987654321"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_policy_grants_exactly_what_a_cycle_calls_and_no_secret_reaches_a_log() {
    let moto: &Moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let s3 = nat_flowrec::aws::s3_client_from(&sdk, true);
    let nat = seed_nat(&ec2, 86).await;
    // The talker is an instance: the report names it (DescribeInstances for its Name tag).
    crate::support::vpc::instance(&ec2, &nat.subnet_id, "10.86.0.50", "sec-host").await;
    let id = nat.nat_gateway_id.clone();
    let topic = create_topic(&sns, &format!("sec-{id}")).await;
    let reports = format!("sec-reports-{id}");
    let state = format!("sec-state-{id}");
    for bucket in [&reports, &state] {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("moto CreateBucket");
    }
    let group = format!("/nat-flowrec/sec-{id}");
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            r#"region = "us-east-1"
nat_gateway_ids = ["{id}"]
state = "s3://{state}/nat-flowrec/events.jsonl"

[recording]
log_group = "{group}"
deliver_logs_role_arn = "{ROLE}"
recording_seconds = 0
settle_seconds = 300

[notify]
sns_topic_arn = "{topic}"
report_s3_uri = "s3://{reports}/flowrec"
presign_seconds = 3600

[report]
out_dir = "reports"
"#
        ),
    );
    let ops_file = dir.path().join("operations.txt");
    let ops_env = ops_file.to_string_lossy().to_string();
    let env = [(RECORD_OPERATIONS_ENV, ops_env.as_str())];
    let mut outputs: Vec<Output> = Vec::new();

    // A spike starts a recording; the flow log "delivers"; calm metrics stop it; after the
    // settle delay the recording is exported, reported, uploaded and notified.
    let t = minute_now() - TimeDelta::minutes(30);
    put_spike(&cw, &id, "BytesInFromSource", t - TimeDelta::minutes(2)).await;
    let o = run(dir.path(), &moto.endpoint, &["check"], t, &env);
    assert_started(&o);
    outputs.push(o);
    let nat_ip = nat.private_ip.to_string();
    let mut events = Vec::new();
    for m in 0..6 {
        let ts = (t + TimeDelta::minutes(m)).timestamp_millis();
        for line in four_legs(&nat_ip, "10.86.0.50", "52.216.8.12", "S3", 1000, 9000) {
            events.push((ts, line));
        }
    }
    put_log_events(&logs, &group, &format!("{}-all", nat.eni), &events).await;
    let calm: Vec<(DateTime<Utc>, f64)> = (0..8)
        .map(|m| (t + TimeDelta::minutes(m), 1_000.0))
        .collect();
    put_nat_metric(&cw, &id, "BytesInFromSource", &calm).await;
    put_nat_metric(&cw, &id, "BytesInFromDestination", &calm).await;
    let o = run(
        dir.path(),
        &moto.endpoint,
        &["check"],
        t + TimeDelta::minutes(6),
        &env,
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );
    outputs.push(o);
    let o = run(
        dir.path(),
        &moto.endpoint,
        &["check"],
        t + TimeDelta::minutes(12),
        &env,
    );
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    for step in [
        "exported recording",
        "reported recording",
        "notified recording",
    ] {
        assert!(stdout.contains(step), "`{step}` missing:\n{}", text(&o));
    }
    outputs.push(o);

    // Least privilege: the policy grants every operation called, and nothing else but the
    // actions IAM authorises as part of another call.
    let called: BTreeSet<String> = std::fs::read_to_string(&ops_file)
        .expect("the interceptor wrote the operations file")
        .lines()
        .map(str::to_owned)
        .collect();
    let o = iam_policy(dir.path(), &["--part", "job"]);
    assert!(o.status.success(), "{}", text(&o));
    let job: Value = serde_json::from_slice(&o.stdout).unwrap();
    let granted = granted_actions(&job);
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "called but not granted: {missing:?}\n{job:#}"
    );
    let implied: BTreeSet<String> = AUTHORIZATION_ONLY
        .iter()
        .map(|(a, _)| a.to_string())
        .collect();
    let unused: Vec<&String> = granted
        .iter()
        .filter(|a| !called.contains(*a) && !implied.contains(*a))
        .collect();
    assert!(
        unused.is_empty(),
        "granted but never called: {unused:?}; called: {called:?}"
    );

    // No secrets: not on stdout or stderr, not in the event log (an S3 object here), not in
    // any file the runs wrote.
    let log = s3
        .get_object()
        .bucket(&state)
        .key("nat-flowrec/events.jsonl")
        .send()
        .await
        .expect("the event log in S3")
        .body
        .collect()
        .await
        .expect("event log body")
        .into_bytes();
    let log = String::from_utf8_lossy(&log).to_string();
    assert!(log.contains("Notified"), "{log}");
    let mut places: Vec<(String, String)> = vec![("event log".into(), log)];
    for (i, o) in outputs.iter().enumerate() {
        places.push((
            format!("run {i} stdout"),
            String::from_utf8_lossy(&o.stdout).into(),
        ));
        places.push((
            format!("run {i} stderr"),
            String::from_utf8_lossy(&o.stderr).into(),
        ));
    }
    for (name, content) in &places {
        for secret in [
            SECRET_CANARY,
            TOKEN_CANARY,
            "X-Amz-Signature",
            "X-Amz-Security-Token",
        ] {
            assert!(!content.contains(secret), "{secret} in {name}:\n{content}");
        }
    }
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let content = String::from_utf8_lossy(&bytes);
        for secret in [SECRET_CANARY, TOKEN_CANARY] {
            assert!(!content.contains(secret), "{secret} in {}", file.display());
        }
    }
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn an_unknown_nat_gateway_is_named_with_its_region_and_key() {
    let moto = moto();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [\"nat-0000000000000dead\"]\n\
             state = \"state/events.jsonl\"\n[recording]\nlog_group = \"/nat-flowrec/unknown\"\n\
             deliver_logs_role_arn = \"{ROLE}\"\n"
        ),
    );
    let o = run(dir.path(), &moto.endpoint, &["check"], minute_now(), &[]);
    assert_fails_saying(
        &o,
        &[
            "nat-0000000000000dead",
            "us-east-1",
            "nat_gateway_ids",
            "does not exist",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_that_does_not_exist_names_the_key_to_fix() {
    let cloud = moto().cloud().await;
    let err = Notifier::publish(
        &cloud,
        &Notification {
            topic_arn: "arn:aws:sns:us-east-1:123456789012:no-such-topic-sec".into(),
            subject: "nat-flowrec test".into(),
            message: r#"{"default":"hello"}"#.into(),
        },
    )
    .await
    .expect_err("moto has no such topic");
    assert_eq!(err.kind, AwsErrorKind::NotFound, "{err}");
    let text = err.to_string();
    assert!(text.starts_with("sns:Publish: "), "{text}");
    assert!(text.contains("notify.sns_topic_arn"), "{text}");
}

/// One request to moto's own API with a body (`reset-auth` takes the count as its body).
fn moto_post(moto: &Moto, path: &str, body: &str) -> String {
    let host = moto
        .endpoint
        .strip_prefix("http://")
        .expect("http endpoint");
    let mut stream = TcpStream::connect(host).expect("connect to moto");
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_names_the_missing_action_and_the_policy_command() {
    // IAM enforcement is global to a moto server: this test owns a private one.
    let moto = crate::support::moto::start();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let nat = seed_nat(&ec2, 87).await;
    let t = minute_now() - TimeDelta::minutes(10);
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t - TimeDelta::minutes(2),
    )
    .await;
    // A user allowed what `check` calls before it starts a recording, except DescribeFlowLogs
    // (reconcile's first call). Not CreateFlowLogs: moto's signature check recomputes that
    // request's signature differently (its `${field}` log format) and answers AuthFailure.
    iam.create_user()
        .user_name("job")
        .send()
        .await
        .expect("moto CreateUser");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeNatGateways", "cloudwatch:GetMetricData",
                // moto names actions by the signing name, CloudWatch's is `monitoring`.
                "monitoring:GetMetricData",
                "logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"
            ],
            "Resource": "*"
        }]
    });
    iam.put_user_policy()
        .user_name("job")
        .policy_name("almost-the-job")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("moto PutUserPolicy");
    let key = iam
        .create_access_key()
        .user_name("job")
        .send()
        .await
        .expect("moto CreateAccessKey");
    let key = key.access_key().expect("an access key");
    let response = moto_post(&moto, "/moto-api/reset-auth", "0");
    assert!(response.contains("200"), "{response}");

    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [\"{}\"]\nstate = \"state/events.jsonl\"\n\
             [recording]\nlog_group = \"/nat-flowrec/denied\"\ndeliver_logs_role_arn = \"{ROLE}\"\n\
             recording_seconds = 0\n",
            nat.nat_gateway_id
        ),
    );
    let o = nat_flowrec(dir.path())
        .args([
            "check",
            "--endpoint-url",
            &moto.endpoint,
            "--now",
            &t.to_rfc3339(),
        ])
        .env("AWS_ACCESS_KEY_ID", key.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", key.secret_access_key())
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    let all = assert_fails_saying(
        &o,
        &[
            "ec2:DescribeFlowLogs: AccessDenied",
            "not allowed `ec2:DescribeFlowLogs`",
            "nat-flowrec iam-policy",
        ],
    );
    assert!(!all.contains(key.secret_access_key()), "{}", text(&o));
}

#[test]
fn resources_of_another_account_or_malformed_arns_are_refused_naming_the_key() {
    let load = |recording: &str, notify: &str| {
        let text = format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\n\
             [recording]\n{recording}\n[notify]\n{notify}\n"
        );
        nat_flowrec::config::Config::from_toml_str(&text, "sec.toml")
            .expect_err("an invalid configuration")
            .to_string()
    };
    let good_role = format!("deliver_logs_role_arn = \"{ROLE}\"");
    // A log group named by ARN, in another account: flow logs deliver by name, into our account.
    let err = load(
        &format!(
            "log_group = \"arn:aws:logs:us-east-1:210987654321:log-group:flows\"\n{good_role}"
        ),
        "",
    );
    for needed in [
        "sec.toml",
        "recording.log_group",
        "210987654321",
        "not an ARN",
    ] {
        assert!(err.contains(needed), "`{needed}` missing: {err}");
    }
    // A missing role ARN (a name only) and a topic that is not an ARN.
    let err = load("deliver_logs_role_arn = \"nat-flowrec-delivery\"", "");
    assert!(err.contains("recording.deliver_logs_role_arn"), "{err}");
    assert!(
        err.contains("arn:aws:iam::<12-digit account>:role/<name>"),
        "{err}"
    );
    let err = load(&good_role, "sns_topic_arn = \"nat-alerts\"");
    assert!(err.contains("notify.sns_topic_arn"), "{err}");
    assert!(
        err.contains("arn:aws:sns:<region>:<12-digit account>:<topic>"),
        "{err}"
    );
}
