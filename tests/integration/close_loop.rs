//! The whole loop against moto: a spike becomes a report and an SNS message. The real binary
//! runs `check` on a moto account seeded with NAT metrics (moto never makes them) and with the
//! flow-log records the recording's flow log would have delivered (PutLogEvents into the ENI's
//! stream, both NAT legs, S3 traffic), then exports, reports and publishes; the message is read
//! back from moto's `/moto-api/data.json`. Also: an export of more than 25,000 events over
//! several streams, and a recording that captured nothing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, TimeDelta};
use nat_flowrec::config::ExportConfig;
use nat_flowrec::finish::{ExportPlan, Progress, export, insights};
use nat_flowrec::ports::{InsightsQuery, LogQueries, LogReadApi};
use nat_flowrec_parsers::{DEFAULT_FORMAT, LogFormat};
use nat_flowrec_reports::{ReportOptions, build_report};

use crate::support::moto::{
    Moto, SeededNat, create_topic, moto, put_calm_metrics, put_log_events, put_spike, seed_nat,
};
use crate::support::records::four_legs;
use crate::support::run::{Setup, assert_started, minute_now, notifying_config, text};
use crate::support::subscribers::{http_get, rec_dir, subscribe};

/// The seeded S3 talker, per minute: host -> S3 and S3 -> host.
const S3_OUT: u64 = 1_000_000;
const S3_IN: u64 = 20_000_000;
/// A smaller internet talker, per minute.
const WEB_OUT: u64 = 500_000;
const WEB_IN: u64 = 2_500_000;
const S3_REMOTE: &str = "52.216.8.12";
const WEB_REMOTE: &str = "203.0.113.5";

/// A folder with a configuration for one NAT, notifying `topic`.
fn setup(moto: &Moto, nat: &str, log_group: &str, topic: &str, notify_extra: &str) -> Setup {
    Setup::with_config(moto, &notifying_config(nat, log_group, topic, notify_extra))
}

#[tokio::test(flavor = "multi_thread")]
async fn check_exports_reports_and_publishes_a_settled_recording() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let nat: SeededNat = seed_nat(&ec2, 71).await;
    let group = format!("/nat-flowrec/loop-{}", nat.nat_gateway_id);
    let topic = create_topic(&sns, &format!("nat-alerts-{}", nat.nat_gateway_id)).await;
    let subscribers = subscribe(
        moto,
        &sns,
        &topic,
        &format!("alerts-{}", nat.nat_gateway_id),
    )
    .await;
    let bucket = format!("nat-reports-{}", nat.nat_gateway_id);
    nat_flowrec::aws::s3_client_from(&sdk, true)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("moto CreateBucket");
    let setup = setup(
        moto,
        &nat.nat_gateway_id,
        &group,
        &topic,
        &format!("report_s3_uri = \"s3://{bucket}/flowrec\"\npresign_seconds = 3600"),
    );

    // Given a spike, check starts a recording.
    let t = minute_now() - TimeDelta::minutes(30);
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        t - TimeDelta::minutes(2),
    )
    .await;
    let o = setup.run(&["check"], t);
    assert_started(&o);

    // The flow log delivers six minutes of both legs of two conversations (one to S3), and
    // records outside the recording's window that the export must leave out.
    let nat_ip = nat.private_ip.to_string();
    let host = "10.71.0.50";
    let mut events: Vec<(i64, String)> = Vec::new();
    events.push((
        (t - TimeDelta::minutes(20)).timestamp_millis(),
        four_legs(&nat_ip, host, S3_REMOTE, "S3", 7, 7)[0].clone(),
    ));
    for m in 0..6 {
        let ts = (t + TimeDelta::minutes(m)).timestamp_millis();
        for line in four_legs(&nat_ip, host, S3_REMOTE, "S3", S3_OUT, S3_IN) {
            events.push((ts, line));
        }
        for line in four_legs(&nat_ip, "10.71.0.51", WEB_REMOTE, "-", WEB_OUT, WEB_IN) {
            events.push((ts + 1, line));
        }
    }
    events.push((
        (t + TimeDelta::minutes(15)).timestamp_millis(),
        four_legs(&nat_ip, host, S3_REMOTE, "S3", 9, 9)[0].clone(),
    ));
    put_log_events(&logs, &group, &format!("{}-all", nat.eni), &events).await;
    // CloudWatch counted 100/96 of what the flow logs saw, per minute.
    let seen_out = (S3_OUT + WEB_OUT) as f64;
    let seen_in = (S3_IN + WEB_IN) as f64;
    put_calm_metrics(
        &cw,
        &nat.nat_gateway_id,
        t,
        0..6,
        seen_out / 0.96,
        seen_in / 0.96,
    )
    .await;

    // When the metrics are calm, check stops it; before the settle delay nothing is exported.
    let o = setup.run(&["check"], t + TimeDelta::minutes(6));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );
    let o = setup.run(&["check"], t + TimeDelta::minutes(9));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !setup.events().iter().any(|e| e["type"] == "Exported"),
        "exported before the settle delay"
    );

    // After the settle delay one check exports, reports and publishes.
    let o = setup.run(&["check"], t + TimeDelta::minutes(12));
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    for expected in [
        "exported recording",
        "reported recording",
        "notified recording",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing:\n{}",
            text(&o)
        );
    }
    let kinds: Vec<String> = setup
        .events()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for kind in ["Exported", "Reported", "Notified"] {
        assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kinds:?}");
    }

    // The report files match the seeded truth: the legs counted once, the window respected.
    let dir = rec_dir(&setup);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/report.json")).unwrap())
            .unwrap();
    let s = &report["summary"];
    assert_eq!(
        s["records_read"], 48,
        "six minutes of 2 x 4 legs, nothing outside the window"
    );
    assert_eq!(s["bytes_out"], 6 * (S3_OUT + WEB_OUT));
    assert_eq!(s["bytes_in"], 6 * (S3_IN + WEB_IN));
    let top = &report["talkers"][0];
    assert_eq!(top["internal_addr"], host);
    assert_eq!(top["remote_addr"], S3_REMOTE);
    assert_eq!(top["remote_aws_service"], "S3");
    assert_eq!(
        (top["bytes_out"].as_u64(), top["bytes_in"].as_u64()),
        (Some(6 * S3_OUT), Some(6 * S3_IN))
    );
    let s3 = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service"] == "S3")
        .expect("S3 service");
    assert_eq!(s3["endpoint"], "gateway");
    assert_eq!(
        report["coverage"]["ratio_pct"].as_f64().map(|p| p.round()),
        Some(96.0)
    );
    for file in ["talkers.csv", "services.csv", "report.md", "email.txt"] {
        assert!(dir.join("report").join(file).is_file(), "{file}");
    }
    assert!(dir.join(format!("{}.log.gz", nat.eni)).is_file());

    // The message, read back from moto: subject, top talker, S3 endpoint advice, coverage.
    let messages = subscribers.http.notifications();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (subject, email) = &messages[0];
    assert!(subject.len() <= 100, "{subject}");
    assert!(subject.contains(&nat.nat_gateway_id), "{subject}");
    assert!(
        subject.contains(host) && subject.contains("S3"),
        "{subject}"
    );
    assert!(
        email.contains(&format!("{host} -> {S3_REMOTE} [S3]")),
        "{email}"
    );
    assert!(
        email.contains(&format!("S3: gateway endpoint in {} saves", nat.vpc_id))
            && email.contains("aws ec2 create-vpc-endpoint --region us-east-1 "),
        "{email}"
    );
    assert!(
        email.contains("flow logs saw 96% of the bytes CloudWatch counted"),
        "{email}"
    );
    assert!(email.contains("logsV2:log-groups/log-group/"), "{email}");
    assert!(
        email.contains("filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr"),
        "{email}"
    );
    // The full report is in S3, behind a pre-signed link that works without credentials: the
    // first link of the message.
    let url = email
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Report with charts (link works 60 minutes): ")
        })
        .unwrap_or_else(|| panic!("no report link in:\n{email}"));
    assert_eq!(email.find("http"), email.find(url), "{email}");
    assert!(
        url.starts_with(&format!("{}/{bucket}/flowrec/", moto.endpoint)),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    let (status, body) = http_get(url);
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.contains(host), "the top talker in the page");
    // An SQS subscriber gets the report as JSON instead (MessageStructure=json).
    let queued = subscribers.queued(moto);
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(queued[0]["Subject"].as_str(), Some(subject.as_str()));
    let payload: serde_json::Value =
        serde_json::from_str(queued[0]["Message"].as_str().unwrap()).expect("report JSON");
    assert_eq!(payload["report_url"].as_str(), Some(url));
    let report_json = &payload["report"];
    assert_eq!(report_json["talkers"][0]["internal_addr"], host);
    assert_eq!(
        report_json["coverage"]["ratio_pct"]
            .as_f64()
            .map(|p| p.round()),
        Some(96.0)
    );
    let notified = setup
        .events()
        .into_iter()
        .find(|e| e["type"] == "Notified")
        .unwrap();
    assert_eq!(notified["message_id"], queued[0]["MessageId"]);

    // A later check has nothing left to do; `notify` by hand sends it again: two messages in
    // all (a third would be the later check publishing twice).
    let o = setup.run(&["check"], t + TimeDelta::minutes(13));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("notified"),
        "{}",
        text(&o)
    );
    let rec_id = dir.file_name().unwrap().to_string_lossy().to_string();
    let o = setup.run(
        &["notify", "--recording", &rec_id],
        t + TimeDelta::minutes(14),
    );
    assert!(o.status.success(), "{}", text(&o));
    let messages = subscribers.http.notifications();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1].0, *subject);

    // The Insights engine runs its query against the recording's log group. moto does not
    // evaluate `parse`/`stats` (it returns raw events), so only the request flow is checked:
    // the query is accepted and completes, and the report says its rows were not aggregated.
    let o = setup.run(
        &[
            "report",
            "--engine",
            "insights",
            "--recording",
            &rec_id,
            "--json",
        ],
        t + TimeDelta::minutes(15),
    );
    assert!(o.status.success(), "{}", text(&o));
    let insights: serde_json::Value = serde_json::from_slice(&o.stdout).expect("report --json");
    let warnings = insights["summary"]["warnings"].to_string();
    assert!(warnings.contains("did not evaluate `stats`"), "{warnings}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_that_captured_nothing_says_so_in_report_and_message() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let nat = seed_nat(&ec2, 72).await;
    let group = format!("/nat-flowrec/nothing-{}", nat.nat_gateway_id);
    let topic = create_topic(&sns, &format!("nat-nothing-{}", nat.nat_gateway_id)).await;
    let subscribers = subscribe(
        moto,
        &sns,
        &topic,
        &format!("nothing-{}", nat.nat_gateway_id),
    )
    .await;
    let setup = setup(moto, &nat.nat_gateway_id, &group, &topic, "");
    let t = minute_now() - TimeDelta::minutes(40);
    put_spike(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromDestination",
        t - TimeDelta::minutes(1),
    )
    .await;
    assert!(setup.run(&["check"], t).status.success());
    put_calm_metrics(&cw, &nat.nat_gateway_id, t, 0..4, 1_000_000.0, 9_000_000.0).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(4));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stopped recording"),
        "{}",
        text(&o)
    );

    // Nothing was delivered; after the settle delay the job still reports and notifies.
    let o = setup.run(&["check"], t + TimeDelta::minutes(10));
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("0 records") && stdout.contains("no log stream for"),
        "{}",
        text(&o)
    );
    // It ran 4 minutes: less than flow logs need to deliver anything, and the report says so.
    assert!(
        stdout.contains("stopped before flow logs could deliver: it ran 4 min"),
        "{}",
        text(&o)
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rec_dir(&setup).join("report/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["summary"]["records_read"], 0);
    assert_eq!(report["coverage"]["captured_nothing"], true);
    assert_eq!(report["coverage"]["metric_bytes"], 40_000_000);
    let causes: Vec<&str> = report["coverage"]["likely_causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        causes.iter().any(|c| c.starts_with("delivery delay")),
        "{causes:?}"
    );
    assert!(
        causes.iter().any(|c| c.starts_with("role permissions")),
        "{causes:?}"
    );

    let messages = subscribers.http.notifications();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (subject, email) = &messages[0];
    assert_eq!(
        subject,
        &format!(
            "nat-flowrec: {} recording stopped before flow logs could deliver",
            nat.nat_gateway_id
        )
    );
    assert!(
        email.contains("the recording stopped before flow logs could deliver"),
        "{email}"
    );
    assert!(
        email.contains("although CloudWatch counted 40.00 MB"),
        "{email}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_insights_window_that_hits_the_row_limit_is_split_until_every_part_fits() {
    // moto answers a query with the raw events of its window (it does not evaluate `parse` or
    // `stats`), up to the query's `limit`: enough to test the request flow of the split.
    let moto = moto();
    let cloud = moto.cloud().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let group = format!("/nat-flowrec/insights-{}", std::process::id());
    let eni = "eni-0ddd0000000000004";
    let t = minute_now() - TimeDelta::hours(4);
    // 10,500 events, one per whole second (flow-log timestamps are whole seconds).
    let events: Vec<(i64, String)> = (0..10_500u64)
        .map(|i| {
            (
                (t + TimeDelta::seconds(i as i64)).timestamp_millis(),
                record(i),
            )
        })
        .collect();
    put_log_events(&logs, &group, &format!("{eni}-all"), &events).await;
    let query = insights::conversations_query(&LogFormat::default(), &[eni.to_owned()]).unwrap();
    let asked = std::sync::Mutex::new(Vec::new());
    let (rows, saturated) = insights::rows_in_window(
        |s, e| {
            asked.lock().unwrap().push((s, e));
            let q = InsightsQuery {
                log_group: group.clone(),
                query: query.clone(),
                start: DateTime::from_timestamp(s, 0).unwrap(),
                end: DateTime::from_timestamp(e, 0).unwrap(),
            };
            let cloud = &cloud;
            async move { cloud.insights(&q).await }
        },
        t.timestamp(),
        (t + TimeDelta::seconds(10_499)).timestamp(),
    )
    .await
    .unwrap();
    assert_eq!(
        rows.len(),
        10_500,
        "every event once across the split windows"
    );
    assert!(saturated.is_empty());
    let asked = asked.into_inner().unwrap();
    assert_eq!(
        asked.len(),
        3,
        "the whole window, then its two halves: {asked:?}"
    );
}

/// One default-format record (VPC side, outbound) with a distinct byte count.
fn record(i: u64) -> String {
    format!(
        "ACCEPT ingress - 10.9.1.{} 40000 10.9.0.220 443 6 {} IPv4 10.9.1.{} - {S3_REMOTE} S3",
        i % 200 + 1,
        100 + i,
        i % 200 + 1
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_of_more_than_25000_events_over_several_streams_loses_none() {
    let moto = moto();
    let cloud = moto.cloud().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let group = format!("/nat-flowrec/pages-{}", std::process::id());
    let t = minute_now() - TimeDelta::hours(2);
    // Three ENIs; the first has two streams. 12,500 + 3,000 + 10,001 + 2 = 25,503 in the window.
    let enis = [
        "eni-0aaa0000000000001",
        "eni-0bbb0000000000002",
        "eni-0ccc0000000000003",
    ];
    let streams: [(&str, String, u64); 4] = [
        (enis[0], format!("{}-all", enis[0]), 12_500),
        (enis[0], format!("{}-accept", enis[0]), 3_000),
        (enis[1], format!("{}-all", enis[1]), 10_001),
        (enis[2], format!("{}-all", enis[2]), 2),
    ];
    let mut expected_bytes = 0u64;
    for (n, (_, stream, count)) in streams.iter().enumerate() {
        let events: Vec<(i64, String)> = (0..*count)
            .map(|i| {
                let ts = t.timestamp_millis() + (i as i64 % 3_000) * 10 + n as i64;
                (ts, record(i))
            })
            .collect();
        expected_bytes += (0..*count).map(|i| 100 + i).sum::<u64>();
        let mut sorted = events;
        sorted.sort_by_key(|(ts, _)| *ts);
        put_log_events(&logs, &group, stream, &sorted).await;
    }
    // Both reads, each paging to the end of every stream (GetLogEvents until its token repeats).
    for api in [LogReadApi::GetLogEvents, LogReadApi::FilterLogEvents] {
        let plan = ExportPlan {
            recording_id: "rec-pages".into(),
            nat_gateway_id: "nat-0aaa0000000000001".into(),
            region: None,
            enis: enis.iter().map(|e| e.to_string()).collect(),
            flow_log_ids: Vec::new(),
            nat_ips: vec!["10.9.0.220".parse().unwrap()],
            log_group: group.clone(),
            s3: None,
            log_format: DEFAULT_FORMAT.into(),
            start: t,
            end: t + TimeDelta::minutes(10),
            read: ExportConfig {
                read_api: api,
                ..ExportConfig::default()
            },
        };
        let out = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let exported = export::export(&cloud, &plan, out.path(), &Progress::hidden())
            .await
            .unwrap();
        let elapsed = started.elapsed();
        eprintln!(
            "{api:?}: exported {} events from {} streams in {:.2?} ({:.0} events/s)",
            exported.records,
            exported.streams.len(),
            elapsed,
            exported.records as f64 / elapsed.as_secs_f64()
        );
        assert_eq!(exported.records, 25_503);
        assert_eq!(exported.streams.len(), 4);
        assert_eq!(exported.files.len(), 3);
        assert!(exported.enis_without_stream.is_empty());
        let files: Vec<PathBuf> = exported.files.clone();
        assert_eq!(
            files[0],
            out.path()
                .join("rec-pages")
                .join(format!("{}.log.gz", enis[0]))
        );
        assert!(files.iter().all(|f| Path::new(f).is_file()));
        // Read back through the report: every event, every byte.
        let report = build_report(&files, &ReportOptions::default()).unwrap();
        assert_eq!(report.summary.records_read, 25_503);
        assert_eq!(report.summary.malformed_lines, 0);
        assert_eq!(report.summary.bytes_total, expected_bytes);
    }
}
