//! One NAT's world for the crash matrix and the concurrency tests: a spiking NAT in moto, the
//! fault-injecting proxy in front of it, an SNS topic with an SQS subscriber that counts
//! messages, the configuration, and the real binary run at chosen minutes.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::core::State;
use nat_flowrec::ports::TAG_RECORDING;
use nat_flowrec::store::EventLog;

use super::moto::{
    Moto, SPIKE, SeededNat, create_topic, moto, put_log_events, put_nat_metric,
    query_log_associations, query_log_configs, resolver, seed_nat, sqs,
};
use super::proxy::{Fault, Proxy};
use super::run::{minute_now, nat_flowrec, notifying_config, text};

pub const CALM: f64 = 1_000.0;
/// The attempt timeout the runs get (`NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS`), and the delay of a
/// `Delay` fault: past it, so the client gives up on an attempt that AWS still carries out.
pub const ATTEMPT_TIMEOUT_SECS: u64 = 2;
pub const DELAY: Duration = Duration::from_secs(ATTEMPT_TIMEOUT_SECS + 2);
/// Records seeded per minute of the recording, and the minutes seeded (inside the recording
/// whether it started at the first tick or at its retry, and stopped at either stop tick).
pub const RECORDS_PER_MINUTE: usize = 4;
pub const RECORDED_MINUTES: std::ops::RangeInclusive<i64> = 2..=5;
/// Enough records for a second GetLogEvents page (`MAX_EVENTS_PER_PAGE`).
pub const TWO_PAGES: usize = nat_flowrec::aws::MAX_EVENTS_PER_PAGE as usize + 40;

/// The AWS calls `check` makes on the way from a spike to a notification, by proxy action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    CreateLogGroup,
    CreateFlowLogs,
    DeleteFlowLogs,
    DescribeLogStreams,
    /// The first export page.
    GetLogEvents,
    /// The second export page (the recording holds more than one page of records).
    GetLogEventsPage2,
    /// The report upload (`notify.report_s3_uri`).
    PutObject,
    Publish,
    /// The recording's DNS query logging (`recording.dns_query_logs`): created and associated
    /// at the start, disassociated and deleted at the stop.
    CreateQueryLogConfig,
    AssociateQueryLogConfig,
    DisassociateQueryLogConfig,
    DeleteQueryLogConfig,
}

impl Call {
    pub fn action(self) -> &'static str {
        match self {
            Call::CreateLogGroup => "CreateLogGroup",
            Call::CreateFlowLogs => "CreateFlowLogs",
            Call::DeleteFlowLogs => "DeleteFlowLogs",
            Call::DescribeLogStreams => "DescribeLogStreams",
            Call::GetLogEvents | Call::GetLogEventsPage2 => "GetLogEvents",
            Call::PutObject => "s3:PutObject",
            Call::Publish => "Publish",
            Call::CreateQueryLogConfig => "CreateResolverQueryLogConfig",
            Call::AssociateQueryLogConfig => "AssociateResolverQueryLogConfig",
            Call::DisassociateQueryLogConfig => "DisassociateResolverQueryLogConfig",
            Call::DeleteQueryLogConfig => "DeleteResolverQueryLogConfig",
        }
    }

    /// Whether the world records the VPC's DNS queries for this call to be made.
    pub fn records_dns(self) -> bool {
        matches!(
            self,
            Call::CreateQueryLogConfig
                | Call::AssociateQueryLogConfig
                | Call::DisassociateQueryLogConfig
                | Call::DeleteQueryLogConfig
        )
    }

    /// Calls of the action to let through before the faulted one.
    pub fn skip(self) -> usize {
        match self {
            Call::GetLogEventsPage2 => 1,
            _ => 0,
        }
    }

    pub fn records(self) -> usize {
        match self {
            Call::GetLogEventsPage2 => TWO_PAGES,
            _ => RECORDS_PER_MINUTE * RECORDED_MINUTES.count(),
        }
    }
}

/// How the call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Throttle,
    Status500,
    Status503,
    /// Answered after the attempt timeout (AWS acts late, after the client gave up).
    Delay,
    /// AWS acts; the connection drops before the answer.
    Drop,
    /// AWS acts; the process is SIGKILLed before it hears the answer.
    Kill,
}

impl Hit {
    pub fn fault(self) -> Fault {
        match self {
            Hit::Throttle => Fault::Throttle,
            Hit::Status500 => Fault::Status(500),
            Hit::Status503 => Fault::Status(503),
            Hit::Delay => Fault::Delay(DELAY),
            Hit::Drop => Fault::ForwardThenDrop,
            Hit::Kill => Fault::ForwardThenHold,
        }
    }
}

/// One NAT gateway with everything the job touches, seeded in moto, and a folder whose
/// configuration records it, exports after the settle delay, uploads the report to S3 and
/// publishes to a topic an SQS queue listens to. The binary talks to moto through `proxy`.
pub struct World {
    pub moto: &'static Moto,
    pub ec2: aws_sdk_ec2::Client,
    pub cw: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub nat: SeededNat,
    pub group: String,
    pub queue_url: String,
    pub proxy: Proxy,
    pub dir: tempfile::TempDir,
    /// The first tick; every run's `--now` is a minute offset from it.
    pub t: DateTime<Utc>,
    /// What every run printed, for failure messages.
    pub transcript: String,
    /// `NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS` of the runs.
    pub attempt_timeout_secs: u64,
    /// With `recording.dns_query_logs`: someone else's query logging of the same VPC, to an S3
    /// bucket (so not read from), which must never be touched.
    pub foreign_query_logging: Option<String>,
}

impl World {
    pub async fn new(octet: u8) -> World {
        World::with_dns(octet, false).await
    }

    /// The world, with `recording.dns_query_logs` when `dns` (and a foreign query logging of the
    /// NAT's VPC beside it).
    pub async fn with_dns(octet: u8, dns: bool) -> World {
        let moto = moto();
        let sdk = moto.sdk_config().await;
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let sns = aws_sdk_sns::Client::new(&sdk);
        let nat = seed_nat(&ec2, octet).await;
        let id = &nat.nat_gateway_id;
        let group = format!("/nat-flowrec/crash-{id}");
        let topic = create_topic(&sns, &format!("crash-{id}")).await;
        let queue = format!("crash-{id}");
        let queue_url = sqs(
            moto,
            "CreateQueue",
            serde_json::json!({ "QueueName": queue }),
        )["QueueUrl"]
            .as_str()
            .expect("QueueUrl")
            .to_owned();
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(format!("arn:aws:sqs:us-east-1:123456789012:{queue}"))
            .send()
            .await
            .expect("moto Subscribe sqs");
        let bucket = format!("crash-{id}");
        nat_flowrec::aws::s3_client_from(&sdk, true)
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("moto CreateBucket");
        let dir = tempfile::tempdir().unwrap();
        let mut config = notifying_config(
            id,
            &group,
            &topic,
            &format!(r#"report_s3_uri = "s3://{bucket}/flowrec""#),
        );
        let mut foreign_query_logging = None;
        if dns {
            config = config.replacen(
                "settle_seconds = 300\n",
                &format!(
                    "settle_seconds = 300\ndns_query_logs = true\ndns_log_group = \"/nat-flowrec/crash-dns-{id}\"\n"
                ),
                1,
            );
            foreign_query_logging = Some(foreign_query_logging_to_s3(moto, &nat.vpc_id, id));
        }
        std::fs::write(dir.path().join("nat-flowrec.toml"), config).unwrap();
        World {
            moto,
            cw: aws_sdk_cloudwatch::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            ec2,
            nat,
            group,
            queue_url,
            proxy: Proxy::start(&moto.endpoint),
            dir,
            t: minute_now() - TimeDelta::hours(1),
            transcript: String::new(),
            attempt_timeout_secs: ATTEMPT_TIMEOUT_SECS,
            foreign_query_logging,
        }
    }

    /// Our query-logging configurations of this NAT's recordings (CreatorRequestId = a recording
    /// id of the NAT), as AWS shows them.
    pub fn our_query_logging(&self) -> Vec<String> {
        let prefix = format!(
            "rec-{}-",
            self.nat.nat_gateway_id.trim_start_matches("nat-")
        );
        let mut ids: Vec<String> = query_log_configs(self.moto)
            .iter()
            .filter(|c| {
                c["CreatorRequestId"]
                    .as_str()
                    .is_some_and(|r| r.starts_with(&prefix))
            })
            .filter_map(|c| c["Id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    /// A spike over the minutes before the first tick, calm from the minute after it: the
    /// trigger is in alarm at ticks 0 and 1 and back to OK by tick 6.
    pub async fn seed_spike_then_calm(&self) {
        let nat = &self.nat.nat_gateway_id;
        let spike: Vec<_> = (-4..=0)
            .map(|m| (self.t + TimeDelta::minutes(m), SPIKE))
            .collect();
        let calm: Vec<_> = (1..=15)
            .map(|m| (self.t + TimeDelta::minutes(m), CALM))
            .collect();
        for metric in ["BytesInFromSource", "BytesInFromDestination"] {
            put_nat_metric(&self.cw, nat, metric, &spike).await;
            put_nat_metric(&self.cw, nat, metric, &calm).await;
        }
    }

    /// What the recording's flow log delivers: `count` records over `RECORDED_MINUTES`.
    pub async fn seed_records(&self, count: usize) {
        let nat_ip = self.nat.private_ip.to_string();
        let first = *RECORDED_MINUTES.start();
        let span_ms = RECORDED_MINUTES.count() as i64 * 60_000;
        let events: Vec<(i64, String)> = (0..count)
            .map(|i| {
                let ts = (self.t + TimeDelta::minutes(first)).timestamp_millis()
                    + (i as i64 * span_ms / count as i64);
                let line = format!(
                    "ACCEPT ingress - 10.9.1.{} 40000 {nat_ip} 443 6 {} IPv4 10.9.1.{} - 52.216.8.12 S3",
                    i % 200 + 1,
                    100 + i,
                    i % 200 + 1
                );
                (ts, line)
            })
            .collect();
        put_log_events(
            &self.logs,
            &self.group,
            &format!("{}-all", self.nat.eni),
            &events,
        )
        .await;
    }

    pub fn command(&self, args: &[&str], minute: i64) -> Command {
        let now = self.t + TimeDelta::minutes(minute);
        let mut cmd = nat_flowrec(self.dir.path());
        cmd.args(args)
            .args([
                "--endpoint-url",
                &self.proxy.endpoint,
                "--now",
                &now.to_rfc3339(),
            ])
            .env(
                nat_flowrec::aws::ATTEMPT_TIMEOUT_ENV,
                self.attempt_timeout_secs.to_string(),
            );
        cmd
    }

    /// Starts a run with its output going to files (a killed run's pipes need no draining).
    pub fn spawn(&self, args: &[&str], minute: i64, name: &str) -> (Child, PathBuf, PathBuf) {
        let out = self.dir.path().join(format!("{name}.stdout"));
        let err = self.dir.path().join(format!("{name}.stderr"));
        let child = self
            .command(args, minute)
            .stdout(Stdio::from(File::create(&out).unwrap()))
            .stderr(Stdio::from(File::create(&err).unwrap()))
            .spawn()
            .unwrap();
        (child, out, err)
    }

    /// One run at tick `minute`. With a `ForwardThenHold` fault of `kill_on` still to be met,
    /// the run is SIGKILLed as soon as AWS has acted on that call; returns whether it was.
    pub fn tick(&mut self, args: &[&str], minute: i64, kill_on: Option<&str>) -> (Output, bool) {
        let name = format!("tick-{minute}-{}", self.transcript.len());
        let (mut child, out, err) = self.spawn(args, minute, &name);
        let killed = match kill_on {
            Some(action) if self.proxy.pending(action) > 0 => {
                let held = self
                    .proxy
                    .wait_held(action, || child.try_wait().ok().flatten().is_none());
                if held {
                    child.kill().unwrap();
                }
                held
            }
            _ => false,
        };
        let status = child.wait().unwrap();
        let output = Output {
            status,
            stdout: std::fs::read(out).unwrap_or_default(),
            stderr: std::fs::read(err).unwrap_or_default(),
        };
        // A call AWS answers late must have landed before anyone looks at AWS.
        self.proxy.wait_idle();
        self.transcript.push_str(&format!(
            "\n=== {} at t+{minute}m{}\n{}",
            args.join(" "),
            if killed { " (SIGKILLed)" } else { "" },
            text(&output)
        ));
        (output, killed)
    }

    /// A run that must succeed.
    pub fn tick_ok(&mut self, args: &[&str], minute: i64) -> Output {
        let (o, _) = self.tick(args, minute, None);
        assert!(
            o.status.success(),
            "t+{minute}m must succeed:{}",
            self.transcript
        );
        o
    }

    pub fn events_path(&self) -> PathBuf {
        self.dir.path().join("state/events.jsonl")
    }

    /// The event log as the job reads it: it must parse (a torn last line is recovered).
    pub fn state(&self) -> (State, Vec<serde_json::Value>) {
        let log = EventLog::read(&self.events_path())
            .unwrap_or_else(|e| panic!("the event log does not parse: {e}{}", self.transcript));
        let state = State::fold(log.events());
        let raw = std::fs::read_to_string(self.events_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (state, raw)
    }

    /// Our flow logs (tagged with a recording id) on the NAT's ENI, as AWS shows them.
    pub async fn our_flow_logs(&self) -> Vec<String> {
        let out = self
            .ec2
            .describe_flow_logs()
            .filter(
                Filter::builder()
                    .name("resource-id")
                    .values(&self.nat.eni)
                    .build(),
            )
            .send()
            .await
            .expect("moto DescribeFlowLogs");
        let mut ids: Vec<String> = out
            .flow_logs()
            .iter()
            .filter(|f| f.tags().iter().any(|t| t.key() == Some(TAG_RECORDING)))
            .filter_map(|f| f.flow_log_id().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    /// The event log's fold and AWS agree: the flow logs of the NAT's active recording (if
    /// any) are exactly ours in AWS.
    pub async fn assert_fold_matches_aws(&self, when: &str) {
        let (state, _) = self.state();
        let mut folded: Vec<String> = state
            .active_recordings()
            .filter(|(nat, _)| *nat == self.nat.nat_gateway_id)
            .flat_map(|(_, a)| a.flow_log_ids.clone())
            .collect();
        folded.sort();
        let aws = self.our_flow_logs().await;
        assert_eq!(
            folded, aws,
            "{when}: the log's active flow logs differ from AWS's tagged ones{}",
            self.transcript
        );
        if self.foreign_query_logging.is_some() {
            let mut running: Vec<String> = state
                .recordings
                .iter()
                .filter(|r| r.nat_gateway_id == self.nat.nat_gateway_id)
                .filter_map(|r| r.query_logging.as_ref())
                .filter(|q| q.ours_running())
                .map(|q| q.config_id.clone())
                .collect();
            running.sort();
            assert_eq!(
                running,
                self.our_query_logging(),
                "{when}: the log's running query logging differs from AWS's{}",
                self.transcript
            );
        }
    }

    /// Someone else's query logging still logs the NAT's VPC, untouched.
    pub fn assert_foreign_query_logging_untouched(&self) {
        let Some(foreign) = &self.foreign_query_logging else {
            return;
        };
        assert!(
            query_log_associations(self.moto).contains(&(foreign.clone(), self.nat.vpc_id.clone())),
            "someone else's query logging of the VPC was touched{}",
            self.transcript
        );
    }

    /// SNS messages delivered to the queue since the last call (each is received once).
    pub fn sns_messages(&self) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        loop {
            let out = sqs(
                self.moto,
                "ReceiveMessage",
                serde_json::json!({ "QueueUrl": self.queue_url, "MaxNumberOfMessages": 10 }),
            );
            let batch = out["Messages"].as_array().cloned().unwrap_or_default();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }
}

/// A query-logging configuration someone else made for `vpc_id`, to an S3 bucket: its records
/// cannot be read back, so the job records its own beside it, and must leave it alone.
fn foreign_query_logging_to_s3(moto: &Moto, vpc_id: &str, id: &str) -> String {
    let (status, created) = resolver(
        moto,
        "CreateResolverQueryLogConfig",
        serde_json::json!({
            "Name": format!("audit-{id}"),
            "DestinationArn": format!("arn:aws:s3:::audit-dns-{id}"),
            "CreatorRequestId": format!("audit-{id}"),
        }),
    );
    assert_eq!(status, 200, "{created}");
    let config = created["ResolverQueryLogConfig"]["Id"]
        .as_str()
        .expect("Id")
        .to_owned();
    let (status, associated) = resolver(
        moto,
        "AssociateResolverQueryLogConfig",
        serde_json::json!({"ResolverQueryLogConfigId": config, "ResourceId": vpc_id}),
    );
    assert_eq!(status, 200, "{associated}");
    config
}
