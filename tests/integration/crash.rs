//! The crash matrix (docs/DESIGN.md, "Crash safety"): for every AWS call `check` makes on the way
//! from a spike to a notification (create log group, create flow logs, delete flow logs, each
//! export page, the report upload, the SNS publish, and with `recording.dns_query_logs` the
//! query-logging configuration's create, associate, disassociate and delete), a run where that call fails one way
//! (throttled, HTTP 500, HTTP 503, answered past the client's attempt timeout, answered never
//! although AWS acted, or the process SIGKILLed right after AWS acted), followed by the normal
//! schedule of `check` runs without faults. Then the promises a scheduled job makes in a production
//! account must hold:
//!
//! * no flow log of ours is active past its deadline plus one tick;
//! * the recording is counted once against the budget and is in the history;
//! * the stopped recording is exported, reported and notified exactly once (SNS messages are
//!   counted on an SQS subscriber: a duplicate fails), and its export holds every record once;
//! * the event log parses, and its fold matches the flow logs AWS shows;
//! * with DNS query logging: no configuration of ours outlives the stop by a tick, it started
//!   and was removed once, and someone else's query logging of the same VPC is untouched.
//!
//! The real binary runs against moto through the fault-injecting proxy (`support::proxy`) in a
//! `support::world::World`. One helper runs a case; a macro makes each case its own test, so a failure names the call and the fault.
//! Also here: a run whose throttling outlasts every retry.

use chrono::TimeDelta;

use crate::support::proxy::Fault;
use crate::support::run::{nat_flowrec, text};
use crate::support::world::*;

/// Runs one cell of the matrix: the fault is queued before the first tick and met by the first
/// run that makes the call; then the schedule goes on without faults.
async fn crash_case(octet: u8, call: Call, hit: Hit) {
    let mut w = World::with_dns(octet, call.records_dns()).await;
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
    if call.records_dns() {
        assert!(
            w.our_query_logging().is_empty(),
            "a query-logging configuration of ours outlived its stop by a tick{}",
            w.transcript
        );
    }
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
    if call.records_dns() {
        assert_query_logging_invariants(&w);
    }
}

/// With `recording.dns_query_logs`: the recording's query logging started and stopped once,
/// nothing of ours is left, and the VPC's other query logging is untouched.
fn assert_query_logging_invariants(w: &World) {
    let ctx = &w.transcript;
    assert!(
        w.our_query_logging().is_empty(),
        "query logging of ours left{ctx}"
    );
    w.assert_foreign_query_logging_untouched();
    let (_, raw) = w.state();
    let count = |kind: &str| raw.iter().filter(|e| e["type"] == kind).count();
    assert_eq!(
        count("QueryLoggingStarted"),
        1,
        "the VPC's queries were logged (or adopted) once{ctx}"
    );
    assert_eq!(
        count("QueryLoggingStopped") + count("StrayQueryLoggingDeleted"),
        1,
        "ours was removed once{ctx}"
    );
    assert_eq!(count("QueryLoggingReused"), 0, "{ctx}");
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

    export_page_throttled: 26, GetLogEvents, Throttle;
    export_page_500: 27, GetLogEvents, Status500;
    export_page_503: 28, GetLogEvents, Status503;
    export_page_past_timeout: 29, GetLogEvents, Delay;
    export_page_answer_lost: 30, GetLogEvents, Drop;
    export_page_then_killed: 31, GetLogEvents, Kill;

    export_second_page_throttled: 32, GetLogEventsPage2, Throttle;
    export_second_page_500: 33, GetLogEventsPage2, Status500;
    export_second_page_503: 34, GetLogEventsPage2, Status503;
    export_second_page_past_timeout: 35, GetLogEventsPage2, Delay;
    export_second_page_answer_lost: 36, GetLogEventsPage2, Drop;
    export_second_page_then_killed: 37, GetLogEventsPage2, Kill;

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

    create_query_log_config_throttled: 100, CreateQueryLogConfig, Throttle;
    create_query_log_config_500: 101, CreateQueryLogConfig, Status500;
    create_query_log_config_503: 102, CreateQueryLogConfig, Status503;
    create_query_log_config_past_timeout: 103, CreateQueryLogConfig, Delay;
    create_query_log_config_answer_lost: 104, CreateQueryLogConfig, Drop;
    create_query_log_config_then_killed: 105, CreateQueryLogConfig, Kill;

    associate_query_log_config_throttled: 106, AssociateQueryLogConfig, Throttle;
    associate_query_log_config_500: 107, AssociateQueryLogConfig, Status500;
    associate_query_log_config_503: 108, AssociateQueryLogConfig, Status503;
    associate_query_log_config_past_timeout: 109, AssociateQueryLogConfig, Delay;
    associate_query_log_config_answer_lost: 110, AssociateQueryLogConfig, Drop;
    associate_query_log_config_then_killed: 111, AssociateQueryLogConfig, Kill;

    disassociate_query_log_config_throttled: 112, DisassociateQueryLogConfig, Throttle;
    disassociate_query_log_config_500: 113, DisassociateQueryLogConfig, Status500;
    disassociate_query_log_config_503: 114, DisassociateQueryLogConfig, Status503;
    disassociate_query_log_config_past_timeout: 115, DisassociateQueryLogConfig, Delay;
    disassociate_query_log_config_answer_lost: 116, DisassociateQueryLogConfig, Drop;
    disassociate_query_log_config_then_killed: 117, DisassociateQueryLogConfig, Kill;

    delete_query_log_config_throttled: 118, DeleteQueryLogConfig, Throttle;
    delete_query_log_config_500: 119, DeleteQueryLogConfig, Status500;
    delete_query_log_config_503: 120, DeleteQueryLogConfig, Status503;
    delete_query_log_config_past_timeout: 121, DeleteQueryLogConfig, Delay;
    delete_query_log_config_answer_lost: 122, DeleteQueryLogConfig, Drop;
    delete_query_log_config_then_killed: 123, DeleteQueryLogConfig, Kill;
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

/// CloudWatch (awsQuery, `Throttling`): the trigger cannot be read (one NAT gateway is read
/// with GetMetricStatistics, `trigger.metrics_api = "auto"`).
#[tokio::test(flavor = "multi_thread")]
async fn get_metric_statistics_throttled_past_every_retry_fails_the_run_and_the_next_run_records() {
    throttled_past_every_retry(
        52,
        "GetMetricStatistics",
        "cloudwatch:GetMetricStatistics",
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
