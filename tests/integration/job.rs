//! The scheduled job as a user runs it: the real binary against moto (check, history, --dry-run),
//! and `demo` on a fresh folder with no AWS at all. These pin its promises: flow logs
//! appear on every ENI of a spiking NAT with our tags, format and interval; they go when the
//! trigger is OK; the budget holds; a dry run changes nothing; a flow log we did not create is
//! never touched.

use aws_sdk_ec2::types::Filter;
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::ports::{TAG_DEADLINE, TAG_NAT_GATEWAY, TAG_RECORDING};
use nat_flowrec_parsers::DEFAULT_FORMAT;

use crate::support::run::{Setup, assert_started, minute_now, nat_flowrec, text};

use crate::support::moto::{moto, put_nat_metric, put_spike, seed_foreign_flow_log, seed_nat};

const CALM: f64 = 1_000.0;

struct FlowLogView {
    id: String,
    tags: Vec<(String, String)>,
    format: String,
    interval: i32,
    log_group: String,
}

async fn flow_logs_on(ec2: &aws_sdk_ec2::Client, eni: &str) -> Vec<FlowLogView> {
    let out = ec2
        .describe_flow_logs()
        .filter(Filter::builder().name("resource-id").values(eni).build())
        .send()
        .await
        .expect("moto DescribeFlowLogs");
    out.flow_logs()
        .iter()
        .map(|f| FlowLogView {
            id: f.flow_log_id().unwrap_or_default().to_string(),
            tags: f
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            format: f.log_format().unwrap_or_default().to_string(),
            interval: f.max_aggregation_interval().unwrap_or_default(),
            log_group: f.log_group_name().unwrap_or_default().to_string(),
        })
        .collect()
}

fn tag<'a>(f: &'a FlowLogView, key: &str) -> Option<&'a str> {
    f.tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread")]
async fn check_records_a_spike_on_every_eni_stops_when_ok_and_keeps_to_its_budget() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 61).await;
    let group = format!("/nat-flowrec/e2e-{}", nat.nat_gateway_id);
    let setup = Setup::new(moto, &nat.nat_gateway_id, &group, "max_recordings = 1");
    // Someone else's flow log on the same ENI: it must survive everything below.
    let foreign = seed_foreign_flow_log(&ec2, &nat.eni, "/audit/flowlogs").await;

    // Given a spike two minutes ago, when check runs, then every ENI gets a tagged flow log.
    let t = minute_now();
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t - TimeDelta::minutes(2),
    )
    .await;
    let o = setup.run(&["check"], t);
    assert_started(&o);

    let logs = flow_logs_on(&ec2, &nat.eni).await;
    let ours: Vec<&FlowLogView> = logs
        .iter()
        .filter(|f| tag(f, TAG_RECORDING).is_some())
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "one flow log of ours on the NAT's ENI; got {:?}",
        logs.iter().map(|f| &f.tags).collect::<Vec<_>>()
    );
    let ours = ours[0];
    assert_eq!(ours.format, DEFAULT_FORMAT);
    assert_eq!(ours.interval, 60);
    assert_eq!(ours.log_group, group);
    assert_eq!(
        tag(ours, TAG_NAT_GATEWAY),
        Some(nat.nat_gateway_id.as_str())
    );
    let deadline = tag(ours, TAG_DEADLINE).expect("deadline tag");
    let deadline = DateTime::parse_from_rfc3339(deadline).expect("deadline tag is RFC 3339");
    assert_eq!(
        deadline.with_timezone(&Utc),
        t + TimeDelta::seconds(21_600),
        "recording_seconds = 0 records until OK, never past max_recording_seconds"
    );

    // A second check in the same spike starts nothing new.
    let o = setup.run(&["check"], t + TimeDelta::minutes(1));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        flow_logs_on(&ec2, &nat.eni)
            .await
            .iter()
            .filter(|f| tag(f, TAG_RECORDING).is_some())
            .count(),
        1
    );

    // When calm datapoints fill the window, then check stops the recording: ours gone, theirs kept.
    let calm: Vec<_> = (2..=5).map(|m| (t + TimeDelta::minutes(m), CALM)).collect();
    put_nat_metric(&cw, &nat.nat_gateway_id, "BytesInFromSource", &calm).await;
    put_nat_metric(&cw, &nat.nat_gateway_id, "BytesInFromDestination", &calm).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(6));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );
    let logs = flow_logs_on(&ec2, &nat.eni).await;
    assert!(
        logs.iter().all(|f| tag(f, TAG_RECORDING).is_none()),
        "our flow log is deleted"
    );
    assert!(
        logs.iter().any(|f| f.id == foreign),
        "the foreign flow log {foreign} is never deleted"
    );

    // A second spike with max_recordings = 1: nothing recorded, and history says why, once.
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t + TimeDelta::minutes(8),
    )
    .await;
    for m in [9, 10] {
        let o = setup.run(&["check"], t + TimeDelta::minutes(m));
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(
        flow_logs_on(&ec2, &nat.eni)
            .await
            .iter()
            .all(|f| tag(f, TAG_RECORDING).is_none())
    );
    let o = setup.run(&["history"], t + TimeDelta::minutes(11));
    let history = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    let o = setup.run(&["history", "--json"], t + TimeDelta::minutes(11));
    let kinds: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("history --json is JSON Lines")
                    ["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
        })
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "recording_started").count(),
        1,
        "{history}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "recording_stopped").count(),
        1,
        "{history}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "budget_exhausted").count(),
        1,
        "said once per blocked spike: {history}"
    );
    assert!(
        history.contains("BudgetExhausted") || history.to_lowercase().contains("budget"),
        "{history}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_dry_run_changes_nothing_in_aws_or_in_the_log() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 62).await;
    let group = format!("/nat-flowrec/dry-{}", nat.nat_gateway_id);
    let setup = Setup::new(moto, &nat.nat_gateway_id, &group, "");
    let t = minute_now();
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromDestination",
        t - TimeDelta::minutes(1),
    )
    .await;

    let o = setup.run(&["check", "--dry-run"], t);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("would start recording"), "{}", text(&o));
    assert!(
        flow_logs_on(&ec2, &nat.eni).await.is_empty(),
        "no flow log created"
    );
    let log = std::fs::read_to_string(setup.state_file()).unwrap_or_default();
    assert!(log.is_empty(), "nothing appended to the event log: {log}");
    let groups = aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "no log group created");

    // The same check for real does what the dry run said.
    let o = setup.run(&["check"], t);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(flow_logs_on(&ec2, &nat.eni).await.len(), 1);
}

#[test]
fn demo_runs_without_aws_and_ends_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("demo");
    let o = nat_flowrec(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["demo", "--dir"])
        .arg(&work)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for expected in [
        "started on 2 network interfaces",
        "stopped",
        "Top talkers",
        "AWS services reached through the NAT",
    ] {
        assert!(
            out.contains(expected),
            "demo output lacks `{expected}`:\n{out}"
        );
    }
    // The simulated spike is S3 traffic of one host: the report must say so, with a gateway endpoint.
    let rec_dir = std::fs::read_dir(work.join("reports"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rec_dir.join("report/report.json")).unwrap())
            .unwrap();
    let top = &report["talkers"][0];
    assert_eq!(top["remote_aws_service"], "S3", "{top}");
    // Named after its instance, as the e-mail names it.
    assert!(
        top["owner"]
            .as_str()
            .is_some_and(|o| o.contains("nightly-restore")),
        "{top}"
    );
    assert!(out.contains("(nightly-restore)) -> 52.217.100.4"), "{out}");
    let s3 = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "S3")
        .expect("S3 in services");
    assert_eq!(s3["endpoint"], "gateway", "{s3}");
    // The terminal report and the e-mail quote the same monthly saving (the NAT's 30 days).
    let savings: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split("the fixes it found save ").nth(1))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .collect();
    assert!(
        savings.len() >= 2,
        "the saving in the report and the e-mail:\n{out}"
    );
    assert!(
        savings.iter().all(|s| *s == savings[0]),
        "one saving everywhere: {savings:?}"
    );

    // Its event log replays with the real commands.
    let o = nat_flowrec(dir.path())
        .arg("--config")
        .arg(work.join("nat-flowrec.toml"))
        .arg("history")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let history = String::from_utf8_lossy(&o.stdout);
    assert!(history.contains("recording rec-"), "{history}");
    // A second demo into the same folder is refused rather than mixing two stories.
    let o = nat_flowrec(dir.path())
        .args(["demo", "--dir"])
        .arg(&work)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
