//! Recordings delivered to S3 (`recording.destination = "s3"`), the real binary against moto:
//! flow logs created with the bucket as destination and our tags, stopped like any recording,
//! and the files seeded where AWS would deliver them (moto delivers nothing) exported, reported
//! and notified (in Parquet too, made by DuckDB with AWS's columns). A flow log someone else made
//! on the same ENI, delivering into the same folder, is neither touched nor read.
//!
//! moto 5.2.5 looks a `LogDestination` with a prefix up as a bucket named `bucket/prefix` and
//! refuses it, so these recordings deliver to the bucket's root; the prefixed layouts are unit
//! tests of `s3_layout`.

use std::collections::BTreeSet;
use std::io::Write as _;

use aws_sdk_ec2::types::{Filter, LogDestinationType};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, TimeDelta, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use nat_flowrec::aws::RECORD_OPERATIONS_ENV;
use nat_flowrec::iam_policy::{AUTHORIZATION_ONLY, granted_actions};
use nat_flowrec::ports::TAG_RECORDING;
use nat_flowrec::s3_layout::{S3Delivery, S3FileFormat, object_name};
use nat_flowrec_parsers::{DEFAULT_FORMAT, LogFormat};

use crate::support::moto::{
    create_topic, moto, put_calm_metrics, put_spike, seed_foreign_flow_log, seed_nat,
};
use crate::support::records::four_legs;
use crate::support::run::{Setup, assert_started, config, minute_now, text};
use crate::support::subscribers::{rec_dir, subscribe};

/// moto's account.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const OUT: u64 = 3_000_000;
const IN: u64 = 40_000_000;
const REMOTE: &str = "52.216.8.12";

/// A gzip file as VPC Flow Logs writes it: the header naming the fields, then the records.
fn delivered_file(lines: &[String]) -> Vec<u8> {
    let header = LogFormat::parse(DEFAULT_FORMAT).unwrap().header_line();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    writeln!(gz, "{header}").unwrap();
    for line in lines {
        writeln!(gz, "{line}").unwrap();
    }
    gz.finish().unwrap()
}

async fn put_file(
    s3: &aws_sdk_s3::Client,
    delivery: &S3Delivery,
    flow_log_id: &str,
    at: DateTime<Utc>,
    lines: &[String],
) -> String {
    put_file_as(
        s3,
        delivery,
        flow_log_id,
        at,
        lines,
        S3FileFormat::PlainText,
    )
    .await
}

/// Puts a file of `lines` where and as AWS delivers it in `file_format`; returns its key.
async fn put_file_as(
    s3: &aws_sdk_s3::Client,
    delivery: &S3Delivery,
    flow_log_id: &str,
    at: DateTime<Utc>,
    lines: &[String],
    file_format: S3FileFormat,
) -> String {
    let key = format!(
        "{}{}",
        delivery.folder(ACCOUNT, REGION, at),
        object_name(ACCOUNT, REGION, flow_log_id, at, "0a1b2c3d", file_format)
    );
    let body = match file_format {
        S3FileFormat::PlainText => delivered_file(lines),
        S3FileFormat::Parquet => delivered_parquet_file(lines),
    };
    s3.put_object()
        .bucket(&delivery.bucket)
        .key(&key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("moto PutObject");
    key
}

/// A new bucket at moto, and flow logs' delivery to its root (hive-compatible or per-hour
/// folders as asked).
async fn bucket(s3: &aws_sdk_s3::Client, name: &str, hive: bool, hourly: bool) -> S3Delivery {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("moto CreateBucket");
    S3Delivery {
        bucket: name.to_owned(),
        prefix: String::new(),
        file_format: S3FileFormat::PlainText,
        hive_compatible_partitions: hive,
        per_hour_partition: hourly,
    }
}

async fn flow_logs_on(ec2: &aws_sdk_ec2::Client, eni: &str) -> Vec<aws_sdk_ec2::types::FlowLog> {
    ec2.describe_flow_logs()
        .filter(Filter::builder().name("resource-id").values(eni).build())
        .send()
        .await
        .expect("moto DescribeFlowLogs")
        .flow_logs()
        .to_vec()
}

fn ours(logs: &[aws_sdk_ec2::types::FlowLog]) -> Vec<&aws_sdk_ec2::types::FlowLog> {
    logs.iter()
        .filter(|f| f.tags().iter().any(|t| t.key() == Some(TAG_RECORDING)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_to_s3_goes_from_start_to_notification_and_leaves_foreign_flow_logs_alone() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let s3 = nat_flowrec::aws::s3_client_from(&sdk, true);
    let nat = seed_nat(&ec2, 93).await;
    // The talker is an instance: the report names it (DescribeInstances for its Name tag).
    crate::support::vpc::instance(&ec2, &nat.subnet_id, "10.93.0.50", "s3-host").await;
    let delivery = bucket(&s3, &format!("flows-{}", nat.nat_gateway_id), false, true).await;
    let topic = create_topic(&sns, &format!("s3-alerts-{}", nat.nat_gateway_id)).await;
    let subscribers = subscribe(moto, &sns, &topic, &format!("s3-{}", nat.nat_gateway_id)).await;
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            "/nat-flowrec/unused",
            &format!(
                "destination = \"s3\"\ns3_destination = \"s3://{}\"\ns3_per_hour_partition = true\n\
                 settle_seconds = 300\n\n[notify]\nsns_topic_arn = \"{topic}\"\n\n[report]\n\
                 out_dir = \"reports\"",
                delivery.bucket
            ),
        ),
    );
    // Someone else's flow log on the same ENI: it survives the stop and is never read.
    let foreign = seed_foreign_flow_log(&ec2, &nat.eni, "/audit/flowlogs").await;
    // Every operation the runs call, for the least-privilege check at the end.
    let ops_file = setup.dir.path().join("operations.txt");
    let ops_env = ops_file.to_string_lossy().to_string();
    let env = [(RECORD_OPERATIONS_ENV, ops_env.as_str())];
    let run = |args: &[&str], now| setup.run_with_env(args, now, &env);

    // Given a spike, check records the NAT's ENI into the bucket, tagged, without a role.
    let t = minute_now() - TimeDelta::minutes(30);
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t - TimeDelta::minutes(2),
    )
    .await;
    assert_started(&run(&["check"], t));
    let logs = flow_logs_on(&ec2, &nat.eni).await;
    let mine = ours(&logs);
    assert_eq!(mine.len(), 1, "{logs:?}");
    let flow_log = mine[0];
    assert_eq!(
        flow_log.log_destination_type(),
        Some(&LogDestinationType::S3)
    );
    assert_eq!(
        flow_log.log_destination(),
        Some(format!("arn:aws:s3:::{}", delivery.bucket).as_str())
    );
    assert_eq!(flow_log.log_group_name(), None);
    assert_eq!(flow_log.deliver_logs_permission_arn(), None);
    assert_eq!(flow_log.log_format(), Some(DEFAULT_FORMAT));
    let flow_log_id = flow_log.flow_log_id().unwrap().to_owned();
    let started = setup
        .events()
        .into_iter()
        .find(|e| e["type"] == "RecordingStarted")
        .unwrap();
    assert_eq!(
        started["s3_destination"]["bucket"],
        delivery.bucket.as_str()
    );
    assert_eq!(started["s3_destination"]["per_hour_partition"], true);
    assert!(started.get("log_group").is_none(), "{started}");

    // Log and AWS agree: reconcile has nothing to do.
    let o = run(&["reconcile"], t + TimeDelta::minutes(1));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        setup
            .events()
            .iter()
            .all(|e| e["type"] != "FlowLogsAdopted" && e["type"] != "StrayFlowLogsDeleted")
    );

    // The flow log delivers five files of both legs of one conversation; the foreign flow log
    // delivers into the same folders, and a file of ours lies outside the window's folders.
    let nat_ip = nat.private_ip.to_string();
    let host = "10.93.0.50";
    for m in 1..=5 {
        let at = t + TimeDelta::minutes(m);
        put_file(
            &s3,
            &delivery,
            &flow_log_id,
            at,
            &four_legs(&nat_ip, host, REMOTE, "S3", OUT, IN),
        )
        .await;
        put_file(
            &s3,
            &delivery,
            &foreign,
            at,
            &four_legs(&nat_ip, "10.93.0.99", REMOTE, "S3", 7, 7),
        )
        .await;
    }
    put_file(
        &s3,
        &delivery,
        &flow_log_id,
        t - TimeDelta::hours(3),
        &four_legs(&nat_ip, host, REMOTE, "S3", 1, 1),
    )
    .await;
    put_calm_metrics(&cw, &nat.nat_gateway_id, t, 0..6, OUT as f64, IN as f64).await;

    // When calm, check stops it: ours deleted, theirs kept.
    let o = run(&["check"], t + TimeDelta::minutes(6));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );
    let logs = flow_logs_on(&ec2, &nat.eni).await;
    assert!(ours(&logs).is_empty(), "our flow log is deleted");
    assert!(
        logs.iter()
            .any(|f| f.flow_log_id() == Some(foreign.as_str())),
        "the foreign flow log {foreign} is never deleted"
    );

    // After the settle delay one check exports from the bucket, reports and publishes.
    let o = run(&["check"], t + TimeDelta::minutes(12));
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        stdout.contains(&format!(
            "20 records from 5 file(s) in s3://{}",
            delivery.bucket
        )),
        "{}",
        text(&o)
    );
    for expected in ["reported recording", "notified recording"] {
        assert!(stdout.contains(expected), "`{expected}`:\n{}", text(&o));
    }
    let dir = rec_dir(&setup);
    assert!(dir.join(format!("{flow_log_id}.log.gz")).is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["summary"]["records_read"], 20,
        "ours only, in the window"
    );
    assert_eq!(report["summary"]["bytes_out"], 5 * OUT);
    assert_eq!(report["summary"]["bytes_in"], 5 * IN);
    let top = &report["talkers"][0];
    assert_eq!(top["internal_addr"], host);
    assert_eq!(top["remote_aws_service"], "S3");
    let messages = subscribers.http.notifications();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let email = &messages[0].1;
    assert!(
        email.lines().any(|l| l.contains(&format!("{host} (i-"))
            && l.contains(&format!("(s3-host)) -> {REMOTE} [S3]"))),
        "the talker, named after its instance: {email}"
    );
    // Where to look closer: the files, not a log group nothing was delivered to.
    assert!(
        email.contains(&format!(
            "Flow-log files: s3://{}/AWSLogs/ (flow logs {flow_log_id})",
            delivery.bucket
        )),
        "{email}"
    );
    assert!(!email.contains("logsV2:log-groups"), "{email}");

    // Least privilege for this destination: the job policy grants every operation the cycle
    // called (the bucket's listing and files, no log group, no role to pass) and nothing else
    // but what IAM checks inside another call.
    let called: BTreeSet<String> = std::fs::read_to_string(&ops_file)
        .expect("the interceptor wrote the operations file")
        .lines()
        .map(str::to_owned)
        .collect();
    let o = crate::support::run::nat_flowrec(setup.dir.path())
        .args(["iam-policy", "--part", "job"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let granted = granted_actions(&serde_json::from_slice(&o.stdout).unwrap());
    assert!(
        called.contains("s3:ListBucket") && called.contains("s3:GetObject"),
        "{called:?}"
    );
    let missing: Vec<&String> = called.difference(&granted).collect();
    assert!(missing.is_empty(), "called but not granted: {missing:?}");
    let unused: Vec<&String> = granted
        .iter()
        .filter(|a| !called.contains(*a) && !AUTHORIZATION_ONLY.iter().any(|(x, _)| x == a))
        .collect();
    assert!(
        unused.is_empty(),
        "granted but never called: {unused:?}; called: {called:?}"
    );
}

#[test]
fn a_bucket_that_does_not_exist_fails_the_start_and_names_it() {
    let moto = moto();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (nat, ec2) = runtime.block_on(async {
        let sdk = moto.sdk_config().await;
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        (seed_nat(&ec2, 94).await, ec2)
    });
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            "/nat-flowrec/unused",
            "destination = \"s3\"\ns3_destination = \"s3://no-such-flow-bucket\"",
        ),
    );
    let t = minute_now();
    let o = setup.run(&["start", "--nat", &nat.nat_gateway_id], t);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no-such-flow-bucket"), "{}", text(&o));
    let logs = runtime.block_on(flow_logs_on(&ec2, &nat.eni));
    assert!(ours(&logs).is_empty(), "nothing left recording");
    assert!(
        setup
            .events()
            .iter()
            .any(|e| e["type"] == "RecordingFailed"),
        "{:?}",
        setup.events()
    );
}

/// `doctor --output json` in `setup`'s folder: the findings of `check`.
fn doctor_findings(
    setup: &Setup,
    moto: &crate::support::moto::Moto,
    check: &str,
) -> Vec<serde_json::Value> {
    let o = crate::support::run::nat_flowrec(setup.dir.path())
        .args([
            "doctor",
            "--output",
            "json",
            "--endpoint-url",
            &moto.endpoint,
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("doctor printed no JSON ({e}): {}", text(&o)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check.replace('-', "_").as_str())
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_the_flow_logs_bucket_and_accepts_the_policy_iam_policy_prints() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let s3 = nat_flowrec::aws::s3_client_from(&sdk, true);
    let nat = seed_nat(&ec2, 95).await;
    let bucket = format!("doctor-flows-{}", nat.nat_gateway_id);
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            "/nat-flowrec/unused",
            &format!("destination = \"s3\"\ns3_destination = \"s3://{bucket}/nat\""),
        ),
    );

    // No bucket: an error, and the command that creates it.
    let missing = doctor_findings(&setup, moto, "flow-logs-bucket");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["severity"], "error");
    assert!(
        missing[0]["fix"][0]
            .as_str()
            .unwrap()
            .contains(&format!("aws s3api create-bucket --bucket {bucket}")),
        "{missing:?}"
    );
    // No delivery role or log group is asked for.
    assert!(doctor_findings(&setup, moto, "delivery-role").is_empty());

    // A bucket without a policy: the policy is the error, with the command that prints it.
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("moto CreateBucket");
    assert_eq!(
        doctor_findings(&setup, moto, "flow-logs-bucket")[0]["severity"],
        "ok"
    );
    let no_policy = doctor_findings(&setup, moto, "flow-logs-bucket-policy");
    assert_eq!(no_policy[0]["severity"], "error", "{no_policy:?}");
    assert!(
        no_policy[0]["fix"][0]
            .as_str()
            .unwrap()
            .contains("iam-policy --part bucket"),
        "{no_policy:?}"
    );

    // The policy `iam-policy --part bucket` prints, put on the bucket: doctor is satisfied.
    let o = crate::support::run::nat_flowrec(setup.dir.path())
        .args(["iam-policy", "--part", "bucket", "--account-id", ACCOUNT])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let policy = String::from_utf8(o.stdout).unwrap();
    assert!(
        policy.contains(&format!("arn:aws:s3:::{bucket}/nat/AWSLogs/*")),
        "{policy}"
    );
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy)
        .send()
        .await
        .expect("moto PutBucketPolicy");
    let ok = doctor_findings(&setup, moto, "flow-logs-bucket-policy");
    assert_eq!(ok[0]["severity"], "ok", "{ok:?}");
}

/// A file in Parquet as VPC Flow Logs writes it: the records' columns with AWS's names and
/// types, Gzip-compressed (made by DuckDB from the text lines).
fn delivered_parquet_file(lines: &[String]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("records.log");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let parquet = dir.path().join("records.parquet");
    crate::parquet::duckdb(&format!(
        "COPY ({}) TO '{}' (FORMAT parquet, COMPRESSION gzip)",
        crate::parquet::select_as_aws(&log),
        parquet.display()
    ));
    std::fs::read(&parquet).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn flow_logs_to_s3_left_by_a_crash_are_adopted_stopped_and_exported_from_the_bucket() {
    adopted_stopped_and_exported(S3FileFormat::PlainText, 96).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_delivered_in_parquet_is_exported_and_reported_from_the_bucket() {
    adopted_stopped_and_exported(S3FileFormat::Parquet, 97).await;
}

async fn adopted_stopped_and_exported(file_format: S3FileFormat, vpc: u8) {
    use aws_sdk_ec2::types::{
        FlowLogsResourceType, ResourceType, Tag, TagSpecification, TrafficType,
    };
    use nat_flowrec::ports::{TAG_DEADLINE, TAG_NAT_GATEWAY};

    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let s3 = nat_flowrec::aws::s3_client_from(&sdk, true);
    let nat = seed_nat(&ec2, vpc).await;
    let delivery = bucket(&s3, &format!("adopted-{}", nat.nat_gateway_id), true, false).await;
    let setup = Setup::with_config(
        moto,
        &config(
            &nat.nat_gateway_id,
            "/nat-flowrec/unused",
            &format!(
                "destination = \"s3\"\ns3_destination = \"s3://{}\"\n\
                 s3_hive_compatible_partitions = true\ns3_file_format = \"{}\"",
                delivery.bucket,
                file_format.as_str()
            ),
        ),
    );
    // Given flow logs created with our tags whose RecordingStarted never reached the log.
    let t = minute_now() - TimeDelta::minutes(20);
    let recording = format!(
        "rec-{}-{}",
        nat.nat_gateway_id.trim_start_matches("nat-"),
        t.format("%Y%m%dT%H%M%SZ")
    );
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let created = ec2
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::NetworkInterface)
        .resource_ids(&nat.eni)
        .traffic_type(TrafficType::All)
        .log_destination_type(LogDestinationType::S3)
        .log_destination(delivery.log_destination("aws"))
        .log_format(DEFAULT_FORMAT)
        .max_aggregation_interval(60)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::VpcFlowLog)
                .tags(tag(TAG_RECORDING, &recording))
                .tags(tag(TAG_NAT_GATEWAY, &nat.nat_gateway_id))
                .tags(tag(
                    TAG_DEADLINE,
                    &(t + TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ))
                .build(),
        )
        .send()
        .await
        .expect("moto CreateFlowLogs");
    let flow_log_id = created.flow_log_ids()[0].clone();

    // When reconcile runs, it adopts them; a stop by hand deletes them.
    let o = setup.run(&["reconcile"], t + TimeDelta::minutes(1));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        setup
            .events()
            .iter()
            .any(|e| e["type"] == "FlowLogsAdopted"),
        "{}",
        text(&o)
    );
    let o = setup.run(&["stop", "--all"], t + TimeDelta::minutes(4));
    assert!(o.status.success(), "{}", text(&o));
    assert!(ours(&flow_logs_on(&ec2, &nat.eni).await).is_empty());

    // Then its export reads the files of the configured bucket (hive-compatible folders).
    let nat_ip = nat.private_ip.to_string();
    let host = format!("10.{vpc}.0.7");
    for m in 1..=3 {
        let (at, lines) = (
            t + TimeDelta::minutes(m),
            four_legs(&nat_ip, &host, REMOTE, "S3", OUT, IN),
        );
        put_file_as(&s3, &delivery, &flow_log_id, at, &lines, file_format).await;
    }
    let exported = setup.dir.path().join("exported");
    let o = setup.run(
        &[
            "export",
            "--recording",
            &recording,
            "--out",
            &exported.display().to_string(),
        ],
        t + TimeDelta::minutes(15),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("12 records from 3 file(s)"),
        "{}",
        text(&o)
    );

    // And its report counts both legs of the conversation, by the same rule for either format.
    let o = crate::support::run::nat_flowrec(setup.dir.path())
        .args(["report", "--output", "json"])
        .arg(exported.join(&recording))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report JSON");
    assert_eq!(report["summary"]["records_read"], 12);
    assert_eq!(report["summary"]["bytes_out"], 3 * OUT);
    assert_eq!(report["summary"]["bytes_in"], 3 * IN);
    assert_eq!(report["talkers"][0]["internal_addr"], host.as_str());
    assert_eq!(report["talkers"][0]["remote_aws_service"], "S3");
}
