//! The job's own API bill: what one `check` tick asks of AWS, counted by the proxy in front of
//! moto. CloudWatch charges GetMetricData per metric requested and every call costs a little
//! quota, so the tick must batch: all NAT gateways and metrics in one GetMetricData, one
//! DescribeNatGateways, one DescribeFlowLogs (README "What the job itself costs"). A NAT gateway
//! with a trigger of its own, and a recording's log-group ingestion, ride in the same call.

use chrono::{DurationRound, TimeDelta, Utc};

use crate::support::moto::{moto, put_nat_metric, seed_nat};
use crate::support::proxy::Proxy;
use crate::support::run::{nat_flowrec, text};

const NATS: usize = 50;

#[tokio::test(flavor = "multi_thread")]
async fn a_check_tick_for_50_nat_gateways_batches_its_aws_calls() {
    let moto = moto();
    let sdk = moto.sdk_config().await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let mut nats = Vec::new();
    for i in 0..NATS {
        nats.push(seed_nat(&ec2, 150 + i as u8).await);
    }
    let t = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap();
    // One NAT spikes, so the tick also starts a recording; the others are calm.
    put_nat_metric(
        &cw,
        &nats[0].nat_gateway_id,
        "BytesInFromSource",
        &[(t - TimeDelta::minutes(2), 5e8)],
    )
    .await;
    for nat in &nats[1..] {
        put_nat_metric(
            &cw,
            &nat.nat_gateway_id,
            "BytesInFromSource",
            &[(t - TimeDelta::minutes(2), 1e3)],
        )
        .await;
    }

    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = nats
        .iter()
        .map(|n| format!("\"{}\"", n.nat_gateway_id))
        .collect();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        format!(
            "region = \"us-east-1\"\nnat_gateway_ids = [{}]\nstate = \"events.jsonl\"\n[recording]\nlog_group = \"/nat-flowrec/api-calls\"\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/d\"\nmax_cost_usd = 5.0\n[nats.\"{}\"]\nperiod_seconds = 300\nthreshold_bytes = \"1GB\"\n",
            ids.join(", "),
            nats[1].nat_gateway_id
        ),
    )
    .unwrap();
    let proxy = Proxy::start(&moto.endpoint);
    let o = nat_flowrec(dir.path())
        .args([
            "check",
            "--endpoint-url",
            &proxy.endpoint,
            "--now",
            &t.to_rfc3339(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // Only this test's NATs: the shared moto also holds other tests' tagged flow logs, which
    // this tick adopts (and notes) under their own NATs' lines.
    let own_trigger = |l: &&str| {
        nats.iter()
            .any(|n| l.starts_with(&format!("{}: trigger ", n.nat_gateway_id)))
            && !l.contains(": trigger changed")
    };
    assert_eq!(
        stdout.lines().filter(own_trigger).count(),
        NATS,
        "one trigger line per NAT: {stdout}"
    );
    assert!(stdout.contains("started recording"), "{stdout}");

    let calls = proxy.calls();
    let count = |action: &str| calls.iter().filter(|c| *c == action).count();
    assert!(
        count("GetMetricData") <= 2,
        "GetMetricData calls: {calls:?}"
    );
    assert_eq!(
        count("GetMetricData"),
        1,
        "100 queries fit one call: {calls:?}"
    );
    assert_eq!(count("DescribeFlowLogs"), 1, "{calls:?}");
    assert_eq!(count("DescribeNatGateways"), 1, "{calls:?}");
    assert_eq!(
        count("CreateFlowLogs"),
        1,
        "only the spiking NAT records: {calls:?}"
    );
    assert!(
        calls.len() <= 6,
        "a tick is a handful of calls, got {calls:?}"
    );

    // The next tick, while the spiking NAT records: its log group's ingestion is read too,
    // still in the one call.
    let proxy = Proxy::start(&moto.endpoint);
    let next = t + TimeDelta::minutes(1);
    let o = nat_flowrec(dir.path())
        .args([
            "check",
            "--endpoint-url",
            &proxy.endpoint,
            "--now",
            &next.to_rfc3339(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "GetMetricData").count(),
        1,
        "NAT metrics and the log group's IncomingBytes in one call: {calls:?}"
    );
}
