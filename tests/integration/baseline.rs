//! `trigger.mode = "baseline"` against moto: fourteen days of hourly NAT traffic seeded with
//! PutMetricData; a minute far above its hour's normal but under the metrics-mode default
//! threshold starts a recording, the baseline is read once (one GetMetricData of hourly Sums,
//! counted through the proxy) and kept in the event log, and the next tick does not read it
//! again.

use chrono::{TimeDelta, Utc};

use crate::support::moto::{moto, put_nat_metric, seed_nat};
use crate::support::proxy::Proxy;
use crate::support::run::{config, minute_now, run_in, text};

/// The GetMetricData calls of one `check` at `now` that asked for hourly Sums.
fn hourly_reads(dir: &std::path::Path, upstream: &str, now: chrono::DateTime<Utc>) -> usize {
    let proxy = Proxy::start(upstream);
    let o = run_in(dir, &proxy.endpoint, &["check"], now);
    assert!(o.status.success(), "{}", text(&o));
    proxy
        .query_bodies("GetMetricData")
        .iter()
        .filter(|body| body.contains("Period=3600"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn baseline_mode_reads_the_nats_normal_once_a_day_and_fires_on_what_is_unusual() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 95).await;
    let now = minute_now() + TimeDelta::seconds(30);
    let hour = now.timestamp().div_euclid(3600) * 3600;
    let this_hour = chrono::DateTime::from_timestamp(hour, 0).unwrap();
    // 12 MB every hour for fourteen days: 200 kB a minute is this NAT's normal.
    let history: Vec<_> = (1..=14 * 24)
        .map(|h| (this_hour - TimeDelta::hours(h), 12e6))
        .collect();
    put_nat_metric(&cw, &nat.nat_gateway_id, "BytesInFromSource", &history).await;
    // 50 MB in the last complete minute: 250 times normal, half the default 100 MB threshold.
    put_nat_metric(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        &[(minute_now() - TimeDelta::minutes(1), 50e6)],
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        config(
            &nat.nat_gateway_id,
            "/nat-flowrec/baseline",
            "[trigger]\nmode = \"baseline\"\nthreshold_bytes = \"10MB\"\n",
        ),
    )
    .unwrap();

    assert_eq!(hourly_reads(dir.path(), &moto.endpoint, now), 1);
    let log = std::fs::read_to_string(dir.path().join("state/events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        ["BaselineRead", "TriggerChanged", "RecordingStarted"],
        "{log}"
    );
    let read = &events[0];
    assert_eq!(read["days"], 14);
    let slots = read["hourly_p95"].as_array().unwrap();
    assert_eq!(slots.len(), 168);
    // Every hour of the week is 12 MB (the one holding the 50 MB minute too, when the last
    // minute began the hour).
    let normal = slots.iter().filter(|v| v.as_f64() == Some(12e6)).count();
    assert!(normal >= 167, "{read}");
    let evidence = events[1]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("3 x the baseline and 10 MB"),
        "{evidence}"
    );

    // A minute later: the log's baseline is a minute old, so no hourly read.
    assert_eq!(
        hourly_reads(dir.path(), &moto.endpoint, now + TimeDelta::minutes(1)),
        0
    );
    let log = std::fs::read_to_string(dir.path().join("state/events.jsonl")).unwrap();
    assert_eq!(log.matches("\"BaselineRead\"").count(), 1, "{log}");
}
