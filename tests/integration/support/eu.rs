//! A NAT in eu-west-1 whose region comes only from `AWS_REGION`, with named instances behind it
//! and a topic: the recipient's world, where a recording is made and read back.

use chrono::{DateTime, TimeDelta, Utc};

use super::moto::{
    Moto, SeededNat, create_topic, put_log_events, put_nat_metric, put_spike, seed_nat,
};
use super::records::four_legs;
use super::run::{Setup, assert_started, notifying_config, text};
use super::subscribers::{Subscribers, subscribe};

pub const REGION: &str = "eu-west-1";
pub const S3_REMOTE: &str = "52.218.1.10";
pub const DDB_REMOTE: &str = "52.94.5.20";
/// The NAT's daily bytes over the 30 days before the recording: 100 GB a day.
pub const DAILY_IN_FROM_SOURCE: f64 = 40e9;
pub const DAILY_IN_FROM_DESTINATION: f64 = 60e9;

/// The binary with its region from `AWS_REGION` only.
pub fn run(setup: &Setup, args: &[&str], now: DateTime<Utc>) -> std::process::Output {
    setup.run_with_env(args, now, &[("AWS_REGION", REGION)])
}

/// A NAT in eu-west-1 with its clients, a log group and a topic with its subscribers.
pub struct EuNat {
    pub sdk: aws_config::SdkConfig,
    pub ec2: aws_sdk_ec2::Client,
    pub cw: aws_sdk_cloudwatch::Client,
    pub nat: SeededNat,
    pub group: String,
    pub topic: String,
    pub subscribers: Subscribers,
}

pub async fn eu_nat(moto: &Moto, octet: u8, name: &str) -> EuNat {
    let sdk = moto.sdk_config_in(REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let nat = seed_nat(&ec2, octet).await;
    let id = &nat.nat_gateway_id;
    let topic = create_topic(&sns, &format!("{name}-{id}")).await;
    assert!(topic.contains(":eu-west-1:"), "{topic}");
    let subscribers = subscribe(moto, &sns, &topic, &format!("{name}-{id}")).await;
    EuNat {
        cw: aws_sdk_cloudwatch::Client::new(&sdk),
        group: format!("/nat-flowrec/{name}-{id}"),
        sdk,
        ec2,
        nat,
        topic,
        subscribers,
    }
}

impl EuNat {
    pub fn setup(&self, moto: &Moto, notify: &str) -> Setup {
        Setup::with_config(moto, &self.config(notify))
    }

    /// A configuration without `region`: the binary takes it from `AWS_REGION`.
    pub fn config(&self, notify: &str) -> String {
        notifying_config(&self.nat.nat_gateway_id, &self.group, &self.topic, notify).replacen(
            "region = \"us-east-1\"\n",
            "",
            1,
        )
    }

    /// A spike before `t` starts a recording; the flow log delivers six minutes of both legs of
    /// two conversations (`hosts.0` to S3, `hosts.1` to DynamoDB) with calm metrics, which stop
    /// it; after the settle delay one check exports, reports and notifies.
    pub async fn record(&self, setup: &Setup, hosts: (&str, &str), t: DateTime<Utc>) {
        let id = &self.nat.nat_gateway_id;
        put_spike(&self.cw, id, "BytesInFromSource", t - TimeDelta::minutes(2)).await;
        assert_started(&run(setup, &["check"], t));
        let logs = aws_sdk_cloudwatchlogs::Client::new(&self.sdk);
        let nat_ip = self.nat.private_ip.to_string();
        let mut events = Vec::new();
        for m in 0..6 {
            let ts = (t + TimeDelta::minutes(m)).timestamp_millis();
            for line in four_legs(&nat_ip, hosts.0, S3_REMOTE, "S3", 1_000_000, 30_000_000) {
                events.push((ts, line));
            }
            for line in four_legs(&nat_ip, hosts.1, DDB_REMOTE, "DYNAMODB", 500_000, 4_000_000) {
                events.push((ts + 1, line));
            }
        }
        let stream = format!("{}-all", self.nat.eni);
        put_log_events(&logs, &self.group, &stream, &events).await;
        let calm = |v: f64| -> Vec<(DateTime<Utc>, f64)> {
            (0..6).map(|m| (t + TimeDelta::minutes(m), v)).collect()
        };
        put_nat_metric(&self.cw, id, "BytesInFromSource", &calm(1_500_000.0)).await;
        put_nat_metric(&self.cw, id, "BytesInFromDestination", &calm(34_000_000.0)).await;
        let o = run(setup, &["check"], t + TimeDelta::minutes(6));
        assert!(o.status.success(), "{}", text(&o));
        let o = run(setup, &["check"], t + TimeDelta::minutes(12));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("notified recording"),
            "{}",
            text(&o)
        );
    }
}
