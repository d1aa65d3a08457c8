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

#[tokio::test(flavor = "multi_thread")]
async fn report_engine_athena_of_a_recording_creates_the_table_runs_the_query_and_renders_the_rows()
{
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
flow_logs = "s3://flow-logs/nat/"
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

    let o = setup.run(&["start", "--nat", &nat.nat_gateway_id], t);
    assert!(o.status.success(), "{}", text(&o));
    let started = setup
        .events()
        .into_iter()
        .find(|e| e["type"] == "RecordingStarted")
        .expect("a RecordingStarted event");
    let rec_id = started["recording_id"].as_str().unwrap().to_owned();
    let flow_log_id = started["flow_log_ids"][0].as_str().unwrap().to_owned();

    // Two conversations and the internet-side duplicates.
    preset_aggregation(
        REGION,
        &[
            vec![
                "vpc-reply",
                "10.131.1.5",
                "52.216.8.12",
                "443",
                "6",
                "S3",
                "40",
                "9000000",
                "",
                "",
            ],
            vec![
                "vpc-outbound",
                "10.131.1.5",
                "52.216.8.12",
                "443",
                "6",
                "S3",
                "40",
                "1000000",
                "",
                "",
            ],
            vec![
                "vpc-outbound",
                "10.131.1.9",
                "203.0.113.5",
                "443",
                "6",
                "",
                "8",
                "250000",
                "",
                "",
            ],
            vec!["internet", "", "", "", "", "", "88", "10250000", "", ""],
        ],
    );

    let ops_file = setup.dir.path().join("operations.txt");
    let ops_env = ops_file.display().to_string();
    let o = setup.run_with_env(
        &[
            "report",
            "--engine",
            "athena",
            "--recording",
            &rec_id,
            "--output",
            "json",
        ],
        t + TimeDelta::minutes(5),
        &[(RECORD_OPERATIONS_ENV, ops_env.as_str())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).expect("report --output json");
    assert_eq!(
        talker_rows(&report["talkers"]),
        vec![
            json!([
                "10.131.1.5",
                "52.216.8.12",
                "S3",
                1_000_000,
                9_000_000,
                10_000_000
            ]),
            json!(["10.131.1.9", "203.0.113.5", null, 250_000, 0, 250_000]),
        ]
    );
    assert_eq!(report["services"][0]["service"], "S3");
    assert_eq!(report["summary"]["records_by_leg"]["internet"], 88);
    assert_eq!(report["summary"]["bytes_total"], 10_250_000);
    let notes = report["summary"]["notes"].to_string();
    assert!(notes.contains("aggregated by Amazon Athena"), "{notes}");

    // What was sent, in order: the database, the table over the recording's S3 location with
    // partition projection, then the aggregation over the recording's days and flow log.
    let athena = aws_sdk_athena::Client::new(&sdk);
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
    assert_eq!(
        sent.len(),
        3,
        "one database, one table, one query: {sent:#?}"
    );
    assert!(
        sent.contains(&"CREATE DATABASE IF NOT EXISTS `nat_flowrec`".to_owned()),
        "{sent:#?}"
    );
    let table = sent
        .iter()
        .find(|q| q.starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS `nat_flowrec`.`flowlogs_"))
        .unwrap_or_else(|| panic!("the table's DDL: {sent:#?}"));
    assert!(
        table.contains(
            "LOCATION 's3://flow-logs/nat/AWSLogs/123456789012/vpcflowlogs/ap-southeast-2/'"
        ),
        "{table}"
    );
    assert!(table.contains("'projection.enabled' = 'true'"), "{table}");
    assert!(table.contains("`pkt_dstaddr` string"), "{table}");
    let query = sent
        .iter()
        .find(|q| q.starts_with("WITH records AS"))
        .unwrap_or_else(|| panic!("the aggregation: {sent:#?}"));
    assert!(
        query.contains(&format!("\"$path\" LIKE '%{flow_log_id}%'")),
        "{query}"
    );
    assert!(
        query.contains(&format!("\"day\" IN ('{}'", t.format("%Y/%m/%d"))),
        "{query}"
    );

    // The operator policy of this configuration grants every Athena call the report made.
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

    // A prefix that names its account and region: the same statements over every day under it,
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

    // The recording's flow logs stop with it.
    let o = setup.run(&["stop", "--all"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
}
