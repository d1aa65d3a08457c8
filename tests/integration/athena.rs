//! `report --engine athena`: the SQL's leg rule proven by DuckDB on the bench file (the same top
//! talkers as the Rust report of the same records), and the request flow against moto (which
//! runs no SQL: the test presets the rows Athena would return).

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::TimeDelta;
use nat_flowrec::aws::RECORD_OPERATIONS_ENV;
use nat_flowrec::finish::athena::{aggregate_rows, sql};
use nat_flowrec::iam_policy::granted_actions;
use nat_flowrec::ports::SqlRows;
use nat_flowrec::s3_layout::{S3Delivery, S3FileFormat, object_name};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{ReportOptions, build_report_from_rows};
use serde_json::{Value, json};

use crate::support::moto::{moto, python_path, raw_call, sdk_in, seed_nat};
use crate::support::run::{Setup, minute_now, nat_flowrec, text};

/// Records of the bench-style file: enough for hundreds of hosts and thousands of remotes.
const BENCH_LINES: &str = "200000";

/// What the talkers table shows of a row, as JSON.
fn talker_rows(talkers: &Value) -> Vec<Value> {
    talkers
        .as_array()
        .expect("talkers")
        .iter()
        .map(|t| {
            json!([
                t["internal_addr"],
                t["remote_addr"],
                t["remote_aws_service"],
                t["bytes_out"],
                t["bytes_in"],
                t["bytes_total"]
            ])
        })
        .collect()
}

#[test]
fn the_athena_sql_run_by_duckdb_on_the_bench_file_gives_the_reports_top_talkers() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bench.log");
    let o = nat_flowrec(dir.path())
        .args(["generate", "--lines", BENCH_LINES, "--out"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = nat_flowrec(dir.path())
        .args(["report", "--output", "json", "--top", "20"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let rust: Value = serde_json::from_slice(&o.stdout).expect("report --output json");

    // The engine's own query text; only the relation it reads is DuckDB's.
    let format = LogFormat::default();
    let parquet = dir.path().join("bench.parquet");
    let source = format!(
        "read_parquet({})",
        sql::literal(&parquet.display().to_string())
    );
    let query = sql::aggregation(&format, &source).expect("the default format has the leg fields");
    let columns: Vec<Value> = sql::columns(&format)
        .into_iter()
        .map(|(name, kind)| json!([name, kind.duckdb()]))
        .collect();
    let request = json!({
        "input": log.display().to_string(),
        "columns": columns,
        "parquet": parquet.display().to_string(),
        "sql": query,
    });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/athena_duckdb.py");
    let mut child = Command::new(python_path())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the venv's Python (scripts/test installs duckdb from tests/requirements.txt)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(parquet.is_file(), "DuckDB wrote the Parquet copy");
    let answer: Value = serde_json::from_slice(&o.stdout).expect("the script's JSON");
    let result = SqlRows {
        columns: serde_json::from_value(answer["columns"].clone()).unwrap(),
        rows: serde_json::from_value(answer["rows"].clone()).unwrap(),
    };
    let (rows, unusable) = aggregate_rows(&result).unwrap();
    assert_eq!(unusable, 0, "every DuckDB row reads");
    let opts = ReportOptions {
        top: 20,
        ..ReportOptions::default()
    };
    let sql_report = build_report_from_rows(&rows, &opts, false).unwrap();
    let sql_json = serde_json::to_value(&sql_report).unwrap();

    let expected = talker_rows(&rust["talkers"]);
    assert_eq!(
        expected.len(),
        20,
        "the bench file has more than 20 talkers"
    );
    assert_eq!(talker_rows(&sql_json["talkers"]), expected);
    // The whole rule, not only the top: every counted byte and every record's leg.
    for key in [
        "records_read",
        "reject_records",
        "reject_bytes",
        "records_by_leg",
        "bytes_out",
        "bytes_in",
        "bytes_total",
        "bytes_all_records",
        "conversations",
        "leg_rule",
    ] {
        assert_eq!(
            sql_json["summary"][key], rust["summary"][key],
            "summary.{key}"
        );
    }
    assert_eq!(sql_json["services"], rust["services"]);
    let destinations = |report: &Value| -> Vec<Value> {
        report["destinations"]
            .as_array()
            .expect("destinations")
            .iter()
            .map(|d| {
                json!([
                    d["remote_addr"],
                    d["port"],
                    d["protocol"],
                    d["bytes_total"],
                    d["share_pct"]
                ])
            })
            .collect()
    };
    assert_eq!(destinations(&sql_json), destinations(&rust));
    assert_eq!(sql_json["sources"], rust["sources"]);
}

/// One result of moto's Athena queue, as GetQueryResults pages it: a header row, then values.
fn moto_result(columns: &[&str], rows: &[Vec<&str>]) -> Value {
    let datum = |v: &str| {
        if v.is_empty() {
            json!({})
        } else {
            json!({ "VarCharValue": v })
        }
    };
    let mut all = vec![json!({ "Data": columns.iter().map(|c| datum(c)).collect::<Vec<_>>() })];
    all.extend(
        rows.iter()
            .map(|r| json!({ "Data": r.iter().map(|v| datum(v)).collect::<Vec<_>>() })),
    );
    json!({
        "rows": all,
        "column_info": columns.iter().map(|c| json!({ "Name": c, "Type": "varchar" })).collect::<Vec<_>>(),
    })
}

/// What moto answers the next report's three statements in `region` (it hands each
/// StartQueryExecution the next preset result): nothing to the two DDL statements, `rows` to the
/// aggregation.
fn preset_aggregation(region: &str, rows: &[Vec<&str>]) {
    let columns = sql::RESULT_COLUMNS;
    let presets = json!({
        "region": region,
        "results": [
            moto_result(&columns, &[]),
            moto_result(&columns, &[]),
            moto_result(&columns, rows),
        ],
    });
    let (status, body) = raw_call(
        moto(),
        "athena",
        region,
        ("POST", "/moto-api/static/athena/query-results"),
        &[("Content-Type", "application/json")],
        &presets.to_string(),
    );
    assert_eq!(status, 201, "{body}");
}

/// The statements Athena was sent in moto's region of `sdk`, oldest first, each checked to run
/// in the `primary` workgroup with its results under the configured location.
async fn sent_statements(sdk: &aws_types::SdkConfig) -> Vec<String> {
    let athena = aws_sdk_athena::Client::new(sdk);
    let ids = athena
        .list_query_executions()
        .send()
        .await
        .unwrap()
        .query_execution_ids()
        .to_vec();
    let mut sent = Vec::new();
    for id in ids {
        let x = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let x = x.query_execution().unwrap();
        assert_eq!(x.work_group(), Some("primary"));
        assert!(
            x.result_configuration()
                .and_then(|r| r.output_location())
                .is_some_and(|l| l.starts_with("s3://athena-results/nat-flowrec/")),
            "{x:?}"
        );
        sent.push(x.query().unwrap_or_default().to_owned());
    }
    sent
}

/// The one statement of `sent` that starts with `start`.
fn the_statement<'a>(sent: &'a [String], start: &str) -> &'a str {
    sent.iter()
        .find(|q| q.starts_with(start))
        .unwrap_or_else(|| panic!("no statement starting with {start}: {sent:#?}"))
}

/// Two conversations and the internet-side duplicates, as Athena would aggregate them.
fn two_conversations(internal: &str) -> Vec<Vec<String>> {
    let row = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        row(&[
            "vpc-reply",
            internal,
            "52.216.8.12",
            "443",
            "6",
            "S3",
            "40",
            "9000000",
            "",
            "",
        ]),
        row(&[
            "vpc-outbound",
            internal,
            "52.216.8.12",
            "443",
            "6",
            "S3",
            "40",
            "1000000",
            "",
            "",
        ]),
        row(&["internet", "", "", "", "", "", "80", "10000000", "", ""]),
    ]
}

fn as_strs(rows: &[Vec<String>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn report_engine_athena_of_a_recording_to_s3_reads_its_own_destination_and_layout() {
    // A region of its own: the recording stays running, its statements are the only ones.
    const REGION: &str = "ap-south-1";
    let moto = moto();
    let sdk = sdk_in(moto, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let s3 = nat_flowrec::aws::s3_client_from(&sdk, true);
    let nat = seed_nat(&ec2, 132).await;
    let bucket = format!("athena-flows-{}", nat.nat_gateway_id);
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .expect("moto CreateBucket");
    // Hive-compatible, per-hour folders; the configured prefix for command-line prefixes says
    // otherwise and must not be used for the recording.
    let config = format!(
        r#"region = "{REGION}"
nat_gateway_ids = ["{nat}"]
state = "state/events.jsonl"

[recording]
destination = "s3"
s3_destination = "s3://{bucket}"
s3_hive_compatible_partitions = true
s3_per_hour_partition = true

[athena]
output_location = "s3://athena-results/nat-flowrec/"
hive_partitions = false
per_hour_partitions = false
"#,
        nat = nat.nat_gateway_id
    );
    let setup = Setup::with_config(moto, &config);
    let t = minute_now();
    let o = setup.run(&["start", "--nat", &nat.nat_gateway_id], t);
    assert!(o.status.success(), "{}", text(&o));
    let started = setup
        .events()
        .into_iter()
        .find(|e| e["type"] == "RecordingStarted")
        .expect("a RecordingStarted event");
    assert_eq!(started["s3_destination"]["bucket"], bucket.as_str());
    let rec_id = started["recording_id"].as_str().unwrap().to_owned();
    let flow_log_id = started["flow_log_ids"][0].as_str().unwrap().to_owned();
    let report_args = [
        "report",
        "--engine",
        "athena",
        "--recording",
        &rec_id,
        "--output",
        "json",
    ];

    // Nothing delivered yet: no account folder to find, said before any query.
    let o = setup.run(&report_args, t + TimeDelta::minutes(5));
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("no account folder under s3://{bucket}/AWSLogs/")),
        "{}",
        text(&o)
    );
    assert!(sent_statements(&sdk).await.is_empty());

    // One file where AWS delivers it: the account folder is moto's account.
    let delivery = S3Delivery {
        bucket: bucket.clone(),
        prefix: String::new(),
        file_format: S3FileFormat::PlainText,
        hive_compatible_partitions: true,
        per_hour_partition: true,
    };
    let key = format!(
        "{}{}",
        delivery.folder("123456789012", REGION, t),
        object_name(
            "123456789012",
            REGION,
            &flow_log_id,
            t,
            "0a1b2c3d",
            S3FileFormat::PlainText
        )
    );
    s3.put_object()
        .bucket(&bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b""))
        .send()
        .await
        .expect("moto PutObject");

    preset_aggregation(REGION, &as_strs(&two_conversations("10.132.1.5")));
    let ops_file = setup.dir.path().join("operations.txt");
    let ops_env = ops_file.display().to_string();
    let o = setup.run_with_env(
        &report_args,
        t + TimeDelta::minutes(5),
        &[(RECORD_OPERATIONS_ENV, ops_env.as_str())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("report --output json");
    assert_eq!(
        talker_rows(&report["talkers"]),
        vec![json!([
            "10.132.1.5",
            "52.216.8.12",
            "S3",
            1_000_000,
            9_000_000,
            10_000_000
        ])]
    );

    // The table over the recording's own bucket, its hive-compatible hourly folders projected;
    // the query reads the recording's hours and its flow log's objects.
    let sent = sent_statements(&sdk).await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let table = the_statement(
        &sent,
        "CREATE EXTERNAL TABLE IF NOT EXISTS `nat_flowrec`.`flowlogs_",
    );
    let base = format!(
        "s3://{bucket}/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region={REGION}/"
    );
    for expected in [
        format!("LOCATION '{base}'"),
        "PARTITIONED BY (`year` string, `month` string, `day` string, `hour` string)".to_owned(),
        format!(
            "'storage.location.template' = '{base}year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/'"
        ),
        "'skip.header.line.count' = '1'".to_owned(),
    ] {
        assert!(table.contains(&expected), "{expected} in {table}");
    }
    let query = the_statement(&sent, "WITH records AS");
    for expected in [
        format!("\"$path\" LIKE '%{flow_log_id}%'"),
        format!(
            "(\"year\" = '{}' AND \"month\" = '{}' AND \"day\" = '{}' AND \"hour\" = '{}')",
            t.format("%Y"),
            t.format("%m"),
            t.format("%d"),
            t.format("%H")
        ),
    ] {
        assert!(query.contains(&expected), "{expected} in {query}");
    }

    // The operator policy of this configuration grants every Athena call the report made, and
    // the recordings' bucket to read.
    let called: Vec<String> = std::fs::read_to_string(&ops_file)
        .expect("the interceptor wrote the operations file")
        .lines()
        .filter(|op| op.starts_with("athena:"))
        .map(str::to_owned)
        .collect();
    assert!(
        called.contains(&"athena:StartQueryExecution".to_owned()),
        "{called:?}"
    );
    let o = setup.run(&["iam-policy", "--part", "operator"], t);
    assert!(o.status.success(), "{}", text(&o));
    let operator: Value = serde_json::from_slice(&o.stdout).expect("the operator policy");
    let granted = granted_actions(&operator);
    for op in &called {
        assert!(
            granted.contains(op),
            "{op} called but not granted: {operator:#}"
        );
    }
    let read = operator["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "ReadTheFlowLogsInS3")
        .unwrap_or_else(|| panic!("no ReadTheFlowLogsInS3 in {operator:#}"));
    assert_eq!(
        read["Resource"],
        json!([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/AWSLogs/*")
        ])
    );

    let o = setup.run(&["stop", "--all"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn report_engine_athena_refuses_a_log_group_recording_and_reads_a_prefix() {
    // A region of its own: the recording stays running, and no other test's check may adopt it.
    const REGION: &str = "ap-southeast-2";
    let moto = moto();
    let sdk = sdk_in(moto, REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let nat = seed_nat(&ec2, 131).await;
    let group = format!("/nat-flowrec/athena-{}", nat.nat_gateway_id);
    let config = format!(
        r#"region = "{REGION}"
nat_gateway_ids = ["{nat}"]
state = "state/events.jsonl"

[recording]
log_group = "{group}"
deliver_logs_role_arn = "arn:aws:iam::123456789012:role/nat-flowrec-delivery"

[athena]
output_location = "s3://athena-results/nat-flowrec/"
"#,
        nat = nat.nat_gateway_id
    );
    let setup = Setup::with_config(moto, &config);
    let t = minute_now();

    // Without the [athena] table the engine says what to add.
    let without = config.split("[athena]").next().unwrap_or_default();
    let bare = Setup::with_config(moto, without);
    let o = bare.run(&["report", "--engine", "athena", "s3://flow-logs/nat/"], t);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("output_location"), "{}", text(&o));

    // A recording delivered to its log group: Athena cannot read it, and says what can.
    let o = setup.run(&["start", "--nat", &nat.nat_gateway_id], t);
    assert!(o.status.success(), "{}", text(&o));
    let rec_id = setup
        .events()
        .into_iter()
        .find(|e| e["type"] == "RecordingStarted")
        .and_then(|e| e["recording_id"].as_str().map(str::to_owned))
        .expect("a RecordingStarted event");
    let o = setup.run(
        &["report", "--engine", "athena", "--recording", &rec_id],
        t + TimeDelta::minutes(5),
    );
    assert!(!o.status.success(), "{}", text(&o));
    for expected in [
        format!("CloudWatch Logs group {group}"),
        format!("--engine insights --recording {rec_id}"),
    ] {
        assert!(text(&o).contains(&expected), "{expected}: {}", text(&o));
    }
    assert!(sent_statements(&sdk).await.is_empty());

    // A prefix that names its account and region: the statements over every day under it,
    // rendered as the talkers' CSV.
    let prefix = format!("s3://flow-logs/nat/AWSLogs/210987654321/vpcflowlogs/{REGION}/");
    preset_aggregation(
        REGION,
        &[vec![
            "vpc-outbound",
            "10.131.7.7",
            "198.51.100.9",
            "443",
            "6",
            "",
            "3",
            "777",
            "",
            "",
        ]],
    );
    let o = setup.run(
        &["report", "--engine", "athena", &prefix, "--csv"],
        t + TimeDelta::minutes(5),
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.contains("10.131.7.7,198.51.100.9"), "{csv}");
    let sent = sent_statements(&sdk).await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(
        sent.contains(&"CREATE DATABASE IF NOT EXISTS `nat_flowrec`".to_owned()),
        "{sent:#?}"
    );
    let table = the_statement(
        &sent,
        "CREATE EXTERNAL TABLE IF NOT EXISTS `nat_flowrec`.`flowlogs_",
    );
    assert!(table.contains(&format!("LOCATION '{prefix}'")), "{table}");
    assert!(table.contains("'projection.enabled' = 'true'"), "{table}");
    assert!(table.contains("`pkt_dstaddr` string"), "{table}");

    // The recording's flow logs stop with it.
    let o = setup.run(&["stop", "--all"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
}
