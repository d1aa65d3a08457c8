//! The crash matrix (docs/DESIGN.md, "Crash safety"): for every AWS call `check` makes on the way
//! from a spike to a notification (create log group, create flow logs, delete flow logs, each
//! export page, the report upload, the SNS publish), a run where that call fails one way
//! (throttled, HTTP 500, HTTP 503, answered past the client's attempt timeout, answered never
//! although AWS acted, or the process SIGKILLed right after AWS acted), followed by the normal
//! schedule of `check` runs without faults. Then the promises a scheduled job makes in a production
//! account must hold:
//!
//! * no flow log of ours is active past its deadline plus one tick;
//! * the recording is counted once against the budget and is in the history;
//! * the stopped recording is exported, reported and notified exactly once (SNS messages are
//!   counted on an SQS subscriber: a duplicate fails), and its export holds every record once;
//! * the event log parses, and its fold matches the flow logs AWS shows.
//!
//! The real binary runs against moto through the fault-injecting proxy (`proxy.rs`). One helper
//! runs a case; a macro makes each case its own test, so a failure names the call and the fault.
//! Also here: a run whose throttling outlasts every retry.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::core::State;
use nat_flowrec::ports::TAG_RECORDING;
use nat_flowrec::store::EventLog;

use crate::support::moto::{
    Moto, SPIKE, SeededNat, create_topic, moto, put_log_events, put_nat_metric, seed_nat, sqs,
};
use crate::support::proxy::{Fault, Proxy};
use crate::support::run::{minute_now, nat_flowrec, notifying_config, text};

const CALM: f64 = 1_000.0;
/// The attempt timeout the runs get (`NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS`), and the delay of a
/// `Delay` fault: past it, so the client gives up on an attempt that AWS still carries out.
pub const ATTEMPT_TIMEOUT_SECS: u64 = 2;
const DELAY: Duration = Duration::from_secs(ATTEMPT_TIMEOUT_SECS + 2);
/// Records seeded per minute of the recording, and the minutes seeded (inside the recording
/// whether it started at the first tick or at its retry, and stopped at either stop tick).
const RECORDS_PER_MINUTE: usize = 4;
const RECORDED_MINUTES: std::ops::RangeInclusive<i64> = 2..=5;
/// Enough records for a second FilterLogEvents page (`MAX_EVENTS_PER_FILTER_PAGE`).
const TWO_PAGES: usize = nat_flowrec::aws::MAX_EVENTS_PER_FILTER_PAGE as usize + 40;

/// The AWS calls `check` makes on the way from a spike to a notification, by proxy action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    CreateLogGroup,
    CreateFlowLogs,
    DeleteFlowLogs,
    DescribeLogStreams,
    /// The first export page.
    FilterLogEvents,
    /// The second export page (the recording holds more than one page of records).
    FilterLogEventsPage2,
    /// The report upload (`notify.report_s3_uri`).
    PutObject,
    Publish,
}

impl Call {
    fn action(self) -> &'static str {
        match self {
            Call::CreateLogGroup => "CreateLogGroup",
            Call::CreateFlowLogs => "CreateFlowLogs",
            Call::DeleteFlowLogs => "DeleteFlowLogs",
            Call::DescribeLogStreams => "DescribeLogStreams",
            Call::FilterLogEvents | Call::FilterLogEventsPage2 => "FilterLogEvents",
            Call::PutObject => "s3:PutObject",
            Call::Publish => "Publish",
        }
    }

    /// Calls of the action to let through before the faulted one.
    fn skip(self) -> usize {
        match self {
            Call::FilterLogEventsPage2 => 1,
            _ => 0,
        }
    }

    fn records(self) -> usize {
        match self {
            Call::FilterLogEventsPage2 => TWO_PAGES,
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
    fn fault(self) -> Fault {
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
}

impl World {
    pub async fn new(octet: u8) -> World {
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
        std::fs::write(
            dir.path().join("nat-flowrec.toml"),
            notifying_config(
                id,
                &group,
                &topic,
                &format!(r#"report_s3_uri = "s3://{bucket}/flowrec""#),
            ),
        )
        .unwrap();
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
        }
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

/// Runs one cell of the matrix: the fault is queued before the first tick and met by the first
/// run that makes the call; then the schedule goes on without faults.
async fn crash_case(octet: u8, call: Call, hit: Hit) {
    let mut w = World::new(octet).await;
    w.seed_spike_then_calm().await;
    let action = call.action();
    w.proxy.inject_after(action, call.skip(), hit.fault(), 1);
    let kill_on = (hit == Hit::Kill).then_some(action);
    let mut killed = false;
    let mut first_failed_at = None;
    let mut tick = |w: &mut World, minute: i64| {
        let (o, k) = w.tick(&["check"], minute, kill_on);
        killed |= k;
        let faulted = k || !o.status.success();
        if faulted && first_failed_at.is_none() {
            first_failed_at = Some(minute);
        } else if faulted {
            panic!(
                "t+{minute}m failed although the fault was met at t+{}m: the run after a fault must be clean{}",
                first_failed_at.unwrap_or_default(),
                w.transcript
            );
        }
    };

    // Start, and its retry tick.
    tick(&mut w, 0);
    tick(&mut w, 1);
    w.assert_fold_matches_aws("recording").await;
    assert_eq!(
        w.our_flow_logs().await.len(),
        1,
        "recording on the NAT's one ENI{}",
        w.transcript
    );
    w.seed_records(call.records()).await;
    // Stop (the trigger is OK at t+6), and one tick later nothing of ours may be left.
    tick(&mut w, 6);
    tick(&mut w, 7);
    assert!(
        w.our_flow_logs().await.is_empty(),
        "a flow log of ours outlived its stop by a tick{}",
        w.transcript
    );
    w.assert_fold_matches_aws("stopped").await;
    // Settled at t+11: export, report, upload, notify; then the retry tick and a quiet one.
    for minute in [12, 13, 14] {
        tick(&mut w, minute);
    }

    // The fault happened where it was meant to.
    assert_eq!(
        w.proxy.pending(action),
        0,
        "the {hit:?} fault on {action} was never met{}",
        w.transcript
    );
    if hit == Hit::Kill {
        assert!(killed, "no run was killed after {action}{}", w.transcript);
    }
    if matches!(hit, Hit::Throttle | Hit::Status500 | Hit::Status503) {
        // One throttle or 5xx is the SDK's to retry: no run may fail for it.
        assert_eq!(
            first_failed_at, None,
            "one {hit:?} on {action} failed a run{}",
            w.transcript
        );
    }
    // SNS has no idempotency key: where the publish may have gone out unheard, the log keeps
    // it unconfirmed rather than risk a second e-mail, and the run said what to do.
    let unheard = call == Call::Publish && matches!(hit, Hit::Delay | Hit::Drop | Hit::Kill);
    if unheard && hit != Hit::Kill {
        assert!(
            w.transcript.contains("not sent again automatically")
                && w.transcript.contains("nat-flowrec notify --recording"),
            "the run that lost SNS's answer says what to do{}",
            w.transcript
        );
    }
    assert_invariants(&w, call.records(), unheard).await;
}

/// The end state every case must reach.
async fn assert_invariants(w: &World, records: usize, publish_unconfirmed: bool) {
    let nat = &w.nat.nat_gateway_id;
    let ctx = &w.transcript;
    assert!(
        w.our_flow_logs().await.is_empty(),
        "flow logs of ours left running{ctx}"
    );
    w.assert_fold_matches_aws("the end").await;

    let (state, raw) = w.state();
    let recordings: Vec<_> = state
        .recordings
        .iter()
        .filter(|r| r.nat_gateway_id == *nat)
        .collect();
    assert_eq!(
        recordings.len(),
        1,
        "one recording of the spike in history, got {:?}{ctx}",
        recordings
            .iter()
            .map(|r| &r.recording_id)
            .collect::<Vec<_>>()
    );
    let rec = recordings[0];
    assert!(rec.stopped.is_some(), "the recording is stopped{ctx}");
    let used = state
        .nat(nat)
        .map(|n| n.budget_used(0, w.t + TimeDelta::minutes(14)))
        .unwrap_or_default();
    assert_eq!(used, 1, "the recording counts once against the budget{ctx}");

    let count = |kind: &str| {
        raw.iter()
            .filter(|e| e["type"] == kind && e["recording_id"] == rec.recording_id.as_str())
            .count()
    };
    for kind in ["RecordingStopped", "Exported", "Reported"] {
        assert_eq!(count(kind), 1, "{kind} events of {}{ctx}", rec.recording_id);
    }
    if publish_unconfirmed {
        assert_eq!(count("Notified"), 0, "{ctx}");
        assert_eq!(count("NotifyAttempted"), 1, "published once{ctx}");
        assert!(
            state.notify_unconfirmed.contains_key(&rec.recording_id),
            "the log says the notification is unconfirmed{ctx}"
        );
    } else {
        assert_eq!(count("Notified"), 1, "Notified events{ctx}");
        assert!(state.notify_unconfirmed.is_empty(), "{ctx}");
    }
    assert_eq!(
        count("RecordingStarted") + count("FlowLogsAdopted"),
        1,
        "the recording started (or was adopted) once{ctx}"
    );
    let exported = rec.exported.as_ref().expect("exported");
    assert_eq!(
        exported.records, records as u64,
        "every delivered record exported once{ctx}"
    );
    let messages = w.sns_messages();
    assert_eq!(
        messages.len(),
        1,
        "exactly one SNS message for the recording, got {}{ctx}",
        messages.len()
    );
    let body: serde_json::Value =
        serde_json::from_str(messages[0]["Body"].as_str().unwrap_or_default()).unwrap_or_default();
    assert!(
        body["Subject"].as_str().unwrap_or_default().contains(nat),
        "the message is about the NAT: {body}{ctx}"
    );

    // The history command reads the same log.
    let o = w.command(&["history", "--json"], 15).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&rec.recording_id),
        "{}",
        text(&o)
    );
    // And `status` shows a notification that may not have gone out, with the command to send it.
    let o = w.command(&["status"], 15).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let shown = String::from_utf8_lossy(&o.stdout);
    let send = format!("nat-flowrec notify --recording {}", rec.recording_id);
    assert_eq!(
        shown.contains("notification unconfirmed") && shown.contains(&send),
        publish_unconfirmed,
        "status: {shown}{ctx}"
    );
}

/// One `#[test]` per cell: `case!(name, octet, Call, Hit)`.
macro_rules! cases {
    ($($name:ident: $octet:expr, $call:ident, $hit:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $name() {
                crash_case($octet, Call::$call, Hit::$hit).await;
            }
        )*
    };
}

cases! {
    create_log_group_throttled: 2, CreateLogGroup, Throttle;
    create_log_group_500: 3, CreateLogGroup, Status500;
    create_log_group_503: 4, CreateLogGroup, Status503;
    create_log_group_past_timeout: 5, CreateLogGroup, Delay;
    create_log_group_answer_lost: 6, CreateLogGroup, Drop;
    create_log_group_then_killed: 7, CreateLogGroup, Kill;

    create_flow_logs_throttled: 8, CreateFlowLogs, Throttle;
    create_flow_logs_500: 9, CreateFlowLogs, Status500;
    create_flow_logs_503: 10, CreateFlowLogs, Status503;
    create_flow_logs_past_timeout: 11, CreateFlowLogs, Delay;
    create_flow_logs_answer_lost: 12, CreateFlowLogs, Drop;
    create_flow_logs_then_killed: 13, CreateFlowLogs, Kill;

    delete_flow_logs_throttled: 14, DeleteFlowLogs, Throttle;
    delete_flow_logs_500: 15, DeleteFlowLogs, Status500;
    delete_flow_logs_503: 16, DeleteFlowLogs, Status503;
    delete_flow_logs_past_timeout: 17, DeleteFlowLogs, Delay;
    delete_flow_logs_answer_lost: 18, DeleteFlowLogs, Drop;
    delete_flow_logs_then_killed: 19, DeleteFlowLogs, Kill;

    describe_log_streams_throttled: 20, DescribeLogStreams, Throttle;
    describe_log_streams_500: 21, DescribeLogStreams, Status500;
    describe_log_streams_503: 22, DescribeLogStreams, Status503;
    describe_log_streams_past_timeout: 23, DescribeLogStreams, Delay;
    describe_log_streams_answer_lost: 24, DescribeLogStreams, Drop;
    describe_log_streams_then_killed: 25, DescribeLogStreams, Kill;

    export_page_throttled: 26, FilterLogEvents, Throttle;
    export_page_500: 27, FilterLogEvents, Status500;
    export_page_503: 28, FilterLogEvents, Status503;
    export_page_past_timeout: 29, FilterLogEvents, Delay;
    export_page_answer_lost: 30, FilterLogEvents, Drop;
    export_page_then_killed: 31, FilterLogEvents, Kill;

    export_second_page_throttled: 32, FilterLogEventsPage2, Throttle;
    export_second_page_500: 33, FilterLogEventsPage2, Status500;
    export_second_page_503: 34, FilterLogEventsPage2, Status503;
    export_second_page_past_timeout: 35, FilterLogEventsPage2, Delay;
    export_second_page_answer_lost: 36, FilterLogEventsPage2, Drop;
    export_second_page_then_killed: 37, FilterLogEventsPage2, Kill;

    report_upload_throttled: 38, PutObject, Throttle;
    report_upload_500: 39, PutObject, Status500;
    report_upload_503: 40, PutObject, Status503;
    report_upload_past_timeout: 41, PutObject, Delay;
    report_upload_answer_lost: 42, PutObject, Drop;
    report_upload_then_killed: 43, PutObject, Kill;

    publish_throttled: 44, Publish, Throttle;
    publish_500: 45, Publish, Status500;
    publish_503: 46, Publish, Status503;
    publish_past_timeout: 47, Publish, Delay;
    publish_answer_lost: 48, Publish, Drop;
    publish_then_killed: 49, Publish, Kill;
}

/// AWS throttles a call through every attempt the SDK makes. The run fails
/// with AWS's code, the operation and what to do, appends nothing it did not do, and the next
/// run (AWS calm again) does the work; nothing is left half-done in between.
async fn throttled_past_every_retry(octet: u8, action: &str, operation: &str, code: &str) {
    let mut w = World::new(octet).await;
    w.seed_spike_then_calm().await;
    let attempts = nat_flowrec::aws::MAX_ATTEMPTS as usize;
    w.proxy.inject(action, Fault::Throttle, attempts);
    let (o, _) = w.tick(&["check"], 0, None);
    assert_eq!(o.status.code(), Some(1), "{}", w.transcript);
    assert_eq!(
        w.proxy.count(action),
        attempts,
        "every attempt was made: {:?}",
        w.proxy.calls()
    );
    let said = text(&o);
    for expected in [operation, code, "throttl", "the next run"] {
        assert!(
            said.to_lowercase().contains(&expected.to_lowercase()),
            "`{expected}` missing from what the run said:{}",
            w.transcript
        );
    }
    assert!(w.our_flow_logs().await.is_empty(), "{}", w.transcript);
    w.assert_fold_matches_aws("after the throttled run").await;

    // AWS is calm again: the next tick starts the recording, once.
    w.tick_ok(&["check"], 1);
    assert_eq!(w.our_flow_logs().await.len(), 1, "{}", w.transcript);
    w.assert_fold_matches_aws("recording").await;
    let (state, _) = w.state();
    let used = state
        .nat(&w.nat.nat_gateway_id)
        .map(|n| n.budget_used(0, w.t + TimeDelta::minutes(1)))
        .unwrap_or_default();
    assert_eq!(used, 1, "counted once against the budget{}", w.transcript);
}

/// A decision's call (the run goes on, lists the failure, exits 1).
#[tokio::test(flavor = "multi_thread")]
async fn create_flow_logs_throttled_past_every_retry_fails_the_run_and_the_next_run_records() {
    throttled_past_every_retry(
        50,
        "CreateFlowLogs",
        "ec2:CreateFlowLogs",
        "RequestLimitExceeded",
    )
    .await;
}

/// A read the whole run depends on (the run stops before deciding anything).
#[tokio::test(flavor = "multi_thread")]
async fn describe_flow_logs_throttled_past_every_retry_fails_the_run_and_the_next_run_records() {
    throttled_past_every_retry(
        51,
        "DescribeFlowLogs",
        "ec2:DescribeFlowLogs",
        "RequestLimitExceeded",
    )
    .await;
}

/// CloudWatch (awsQuery, `Throttling`): the trigger cannot be read.
#[tokio::test(flavor = "multi_thread")]
async fn get_metric_data_throttled_past_every_retry_fails_the_run_and_the_next_run_records() {
    throttled_past_every_retry(
        52,
        "GetMetricData",
        "cloudwatch:GetMetricData",
        "Throttling",
    )
    .await;
}

/// The attempt-timeout override is validated before any AWS call: a bad value names the
/// variable and what would be valid.
#[test]
fn a_bad_attempt_timeout_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        "region = \"us-east-1\"\nnat_gateway_ids = [\"nat-0123456789abcdef0\"]\nstate = \"events.jsonl\"\n[recording]\nlog_group = \"/nat-flowrec/t\"\ndeliver_logs_role_arn = \"arn:aws:iam::123456789012:role/d\"\n",
    )
    .unwrap();
    for bad in ["2s", "0", "121"] {
        let o = nat_flowrec(dir.path())
            .args(["check", "--endpoint-url", "http://127.0.0.1:9"])
            .env(nat_flowrec::aws::ATTEMPT_TIMEOUT_ENV, bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!("NAT_FLOWREC_AWS_ATTEMPT_TIMEOUT_SECS=`{bad}`"))
                && stderr.contains("whole seconds from 1 to 120"),
            "{}",
            text(&o)
        );
        assert!(!dir.path().join("events.jsonl").exists());
    }
}
