//! What a recording costs, against moto: the tick reads the log group's `AWS/Logs`
//! `IncomingBytes` in its one GetMetricData call, and a recording stops at its dollar cap with
//! the cost in the log, `status` and `history`.

use chrono::TimeDelta;

use crate::support::moto::{moto, put_log_group_incoming_bytes, put_spike, seed_nat};
use crate::support::run::{Setup, assert_started, config, minute_now, stdout, text};

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_stops_at_its_dollar_cap_and_says_what_it_cost() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 93).await;
    let nat_id = &nat.nat_gateway_id;
    let group = format!("/nat-flowrec/cost-{nat_id}");
    // STANDARD costs $0.50 per GB in us-east-1: the cap of $1 is 2 GB.
    let setup = Setup::with_config(
        moto,
        &config(
            nat_id,
            &group,
            "log_group_class = \"STANDARD\"\nmax_cost_usd = 1.0",
        ),
    );
    let t = minute_now();
    // The spike goes on the whole time, so only the cap can stop the recording.
    for m in -3..6 {
        put_spike(&cw, nat_id, "BytesInFromSource", t + TimeDelta::minutes(m)).await;
    }
    assert_started(&setup.run(&["check"], t));

    // 1.5 GB in the first minute: $0.75, under the cap.
    put_log_group_incoming_bytes(&cw, &group, &[(t, 1.5e9)]).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(2));
    assert!(o.status.success(), "{}", text(&o));
    assert!(!stdout(&o).contains("stopped"), "{}", text(&o));
    let status = setup.run(&["status"], t + TimeDelta::minutes(2));
    assert!(
        stdout(&status).contains("cost so far: $0.75 in CloudWatch Logs ingestion"),
        "{}",
        text(&status)
    );

    // 1 GB more: $1.25 in all, over the cap.
    put_log_group_incoming_bytes(&cw, &group, &[(t + TimeDelta::minutes(2), 1.0e9)]).await;
    let o = setup.run(&["check"], t + TimeDelta::minutes(4));
    assert!(o.status.success(), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("cost $1.25 in CloudWatch Logs ingestion"),
        "{out}"
    );
    assert!(
        out.contains("cost cap (recording.max_cost_usd) reached"),
        "{out}"
    );

    let events = setup.events();
    let stopped = events
        .iter()
        .find(|e| e["type"] == "RecordingStopped")
        .expect("a RecordingStopped event");
    assert_eq!(stopped["reason"], "CostCap");
    let measured: Vec<_> = events
        .iter()
        .filter(|e| e["type"] == "IngestionMeasured")
        .collect();
    assert_eq!(measured.last().unwrap()["bytes"], 2_500_000_000u64);

    let history = setup.run(&["history"], t + TimeDelta::minutes(5));
    assert!(
        stdout(&history).contains("cost $1.25 in CloudWatch Logs ingestion (2.50 GB)"),
        "{}",
        text(&history)
    );
    let status = setup.run(&["status"], t + TimeDelta::minutes(5));
    assert!(stdout(&status).contains("cost $1.25"), "{}", text(&status));
}
