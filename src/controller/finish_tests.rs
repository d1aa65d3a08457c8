//! Finishing recordings on the simulator, as given / when / then: a spike is recorded, stops,
//! settles, and `check` exports, reports and notifies exactly once, resuming after a failed
//! step where it left off; a recording whose delivery failed says it captured nothing and why;
//! a recording's DNS query logging starts and stops with it.

use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::config::{Config, DEMO_NAT_GATEWAY_ID};
use crate::controller::{Job, Outcome};
use crate::core::{Event, State};
use crate::ports::AwsErrorKind;
use crate::sim::{SimCall, SimCloud, SimNat, SimOperation, Spike};
use crate::store::EventLog;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:nat-alerts";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 10, 0, 0).unwrap()
}

/// One NAT spiking to 600 MB a minute (mostly one host pulling from S3) from minute 10 to 25.
fn sim() -> SimCloud {
    SimCloud::new(t0())
        .with_nat(SimNat::new(DEMO_NAT_GATEWAY_ID, 0))
        .with_spike(Spike {
            nat_gateway_id: DEMO_NAT_GATEWAY_ID.into(),
            start: t0() + TimeDelta::minutes(10),
            end: t0() + TimeDelta::minutes(25),
            bytes_per_minute: 600_000_000,
        })
}

fn config(dir: &Path) -> Config {
    let mut cfg = Config::demo(dir);
    cfg.notify.sns_topic_arn = Some(TOPIC.parse().unwrap());
    cfg
}

struct World {
    _dir: tempfile::TempDir,
    sim: SimCloud,
    cfg: Config,
    log: EventLog,
}

impl World {
    fn new(sim: SimCloud) -> World {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path());
        let log = EventLog::open(&cfg.state, std::time::Duration::ZERO).unwrap();
        World {
            _dir: dir,
            sim,
            cfg,
            log,
        }
    }

    async fn check_at(&mut self, minute: i64, dry_run: bool) -> Outcome {
        let now = t0() + TimeDelta::minutes(minute);
        self.sim.set_now(now);
        Job {
            cloud: &self.sim,
            cfg: &self.cfg,
            log: &mut self.log,
            now,
            dry_run,
        }
        .check()
        .await
        .unwrap()
    }

    /// `check` every minute from `from` to `to` inclusive; the events each appended.
    /// Runs the spike's first 25 minutes: one recording, started and stopped. Returns the
    /// minute (from `t0`) it stopped.
    async fn record_one(&mut self) -> i64 {
        self.run(0, 25).await;
        let stopped = self.state().recordings[0].stopped.as_ref().unwrap().at;
        (stopped - t0()).num_minutes()
    }

    async fn run(&mut self, from: i64, to: i64) -> Vec<Event> {
        let before = self.log.events().len();
        for minute in from..=to {
            let outcome = self.check_at(minute, false).await;
            assert!(outcome.ok() || !outcome.failures.is_empty());
        }
        self.log.events()[before..]
            .iter()
            .map(|e| e.event.clone())
            .collect()
    }

    fn state(&self) -> State {
        State::fold(self.log.events())
    }

    fn kinds(&self) -> Vec<&'static str> {
        self.log.events().iter().map(|e| e.event.kind()).collect()
    }

    /// How many times each step after a recording was logged: (exported, reported, notified).
    fn steps_done(&self) -> (usize, usize, usize) {
        let kinds = self.kinds();
        (
            count(&kinds, "Exported"),
            count(&kinds, "Reported"),
            count(&kinds, "Notified"),
        )
    }
}

fn count(kinds: &[&str], kind: &str) -> usize {
    kinds.iter().filter(|k| **k == kind).count()
}

#[tokio::test]
async fn a_settled_recording_is_exported_reported_and_notified_exactly_once() {
    let mut w = World::new(sim());
    w.run(0, 40).await;
    let kinds = w.kinds();
    for kind in [
        "RecordingStarted",
        "RecordingStopped",
        "Exported",
        "Reported",
        "Notified",
    ] {
        assert_eq!(count(&kinds, kind), 1, "{kind} in {kinds:?}");
    }
    let state = w.state();
    let rec = &state.recordings[0];
    let stopped = rec.stopped.as_ref().unwrap().at;
    let exported = rec.exported.as_ref().unwrap();
    // Not before the settle delay (300 s in the demo configuration).
    assert!(
        exported.at >= stopped + TimeDelta::seconds(300),
        "{exported:?}"
    );
    // Every record the flow logs delivered, one file per ENI.
    let truth = w.sim.captured_by_recording(&rec.recording_id).unwrap();
    assert_eq!(exported.records, truth.len() as u64);
    assert_eq!(exported.files.len(), 2);
    for file in &exported.files {
        assert!(Path::new(file).is_file(), "{file}");
        assert!(file.ends_with(".log.gz"), "{file}");
    }
    // The report beside them, with the spike's S3 host on top and full coverage.
    let dir = Path::new(&rec.reported.as_ref().unwrap().dir).to_path_buf();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["talkers"][0]["internal_addr"], "10.0.1.42");
    assert_eq!(report["talkers"][0]["remote_aws_service"], "S3");
    let pct = report["coverage"]["ratio_pct"].as_f64().unwrap();
    assert!((99.0..=100.5).contains(&pct), "coverage {pct}");
    assert!(dir.join("email.txt").is_file());
    // One SNS message: the subject names NAT and top talker; e-mail gets text, SQS the JSON.
    let published = w.sim.published();
    assert_eq!(published.len(), 1);
    let (id, n) = &published[0];
    assert_eq!(rec.notified.as_ref().unwrap().message_id, *id);
    assert!(n.subject.contains(DEMO_NAT_GATEWAY_ID), "{}", n.subject);
    assert!(n.subject.contains("10.0.1.42"), "{}", n.subject);
    let message: serde_json::Value = serde_json::from_str(&n.message).unwrap();
    assert!(message["email"].as_str().unwrap().contains("S3: "));
    let sqs: serde_json::Value = serde_json::from_str(message["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(sqs["report"]["talkers"][0]["internal_addr"], "10.0.1.42");

    // Later runs have nothing left to do for it.
    let later = w.run(41, 50).await;
    assert!(
        later.iter().all(|e| !matches!(
            e,
            Event::Exported { .. } | Event::Reported { .. } | Event::Notified { .. }
        )),
        "{later:?}"
    );
    assert_eq!(w.sim.published().len(), 1);
}

#[tokio::test]
async fn a_failed_step_appends_nothing_and_the_next_run_resumes_where_it_stopped() {
    let mut w = World::new(sim());
    let settle_minute = w.record_one().await + 5;

    // The export's first read fails (AWS's 5xx outlived the retries): nothing appended, the
    // failure listed.
    w.sim
        .fail_next(SimOperation::ReadLogEvents, AwsErrorKind::Service);
    let outcome = w.check_at(settle_minute, false).await;
    assert_eq!(outcome.failures.len(), 1, "{outcome}");
    assert!(outcome.failures[0].contains("export failed"), "{outcome}");
    assert_eq!(count(&w.kinds(), "Exported"), 0);

    // Next run: exported and reported, but SNS fails.
    w.sim
        .fail_next(SimOperation::Publish, AwsErrorKind::Service);
    let outcome = w.check_at(settle_minute + 1, false).await;
    assert!(outcome.failures[0].contains("notify failed"), "{outcome}");
    assert_eq!(w.steps_done(), (1, 1, 0));

    // Next run: only the notification is left, and only it is done.
    w.sim.take_calls();
    let outcome = w.check_at(settle_minute + 2, false).await;
    assert!(outcome.ok(), "{outcome}");
    assert_eq!(w.steps_done(), (1, 1, 1));
    let calls = w.sim.take_calls();
    assert!(
        !calls.iter().any(|c| matches!(c, SimCall::LogEvents(_))),
        "no second export"
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| matches!(c, SimCall::Publish(_)))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_throttled_read_slows_the_export_down_instead_of_failing_it() {
    let mut w = World::new(sim());
    let settle_minute = w.record_one().await + 5;
    w.sim
        .fail_next(SimOperation::ReadLogEvents, AwsErrorKind::Throttled);
    let outcome = w.check_at(settle_minute, false).await;
    assert!(outcome.ok(), "{outcome}");
    let state = w.state();
    let rec = &state.recordings[0];
    let truth = w.sim.captured_by_recording(&rec.recording_id).unwrap();
    assert_eq!(rec.exported.as_ref().unwrap().records, truth.len() as u64);
}

#[tokio::test]
async fn an_export_cut_short_reads_again_only_the_interfaces_it_had_not_finished() {
    let mut w = World::new(sim());
    let settle_minute = w.record_one().await + 5;
    w.sim.take_calls();
    // One ENI's first read fails for good; the other ENI's file is finished meanwhile.
    w.sim
        .fail_next(SimOperation::ReadLogEvents, AwsErrorKind::Service);
    let outcome = w.check_at(settle_minute, false).await;
    assert!(outcome.failures[0].contains("export failed"), "{outcome}");
    let streams_read = |calls: &[SimCall]| {
        let mut streams: Vec<String> = calls
            .iter()
            .filter_map(|c| match c {
                SimCall::LogEvents(q) => Some(q.log_stream.clone()),
                _ => None,
            })
            .collect();
        streams.dedup();
        streams
    };
    let first = streams_read(&w.sim.take_calls());
    assert_eq!(first.len(), 2, "both ENIs were read: {first:?}");

    let outcome = w.check_at(settle_minute + 1, false).await;
    assert!(
        outcome.ok() || outcome.failures.iter().all(|f| !f.contains("export")),
        "{outcome}"
    );
    let again = streams_read(&w.sim.take_calls());
    assert_eq!(
        again.len(),
        1,
        "only the unfinished ENI is read again: {again:?}"
    );
    let state = w.state();
    let rec = &state.recordings[0];
    let truth = w.sim.captured_by_recording(&rec.recording_id).unwrap();
    assert_eq!(
        rec.exported.as_ref().unwrap().records,
        truth.len() as u64,
        "nothing lost, nothing twice"
    );
    let folder = Path::new(&rec.reported.as_ref().unwrap().dir)
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        !folder.join(".export-progress.json").exists(),
        "a finished export leaves no resume point behind"
    );
}

#[tokio::test]
async fn a_dry_run_lists_the_due_step_and_does_nothing() {
    let mut w = World::new(sim());
    let minute = w.record_one().await + 6;
    let before = w.log.events().len();
    w.sim.take_calls();
    let outcome = w.check_at(minute, true).await;
    assert!(
        outcome.to_string().contains("would export recording"),
        "{outcome}"
    );
    assert_eq!(w.log.events().len(), before);
    assert!(
        !w.sim
            .calls()
            .iter()
            .any(|c| matches!(c, SimCall::LogEvents(_) | SimCall::Publish(_)))
    );
}

#[tokio::test]
async fn small_pages_with_empty_pages_between_lose_no_event() {
    let mut w = World::new(sim());
    w.sim.set_log_page_size(7);
    w.run(0, 40).await;
    let state = w.state();
    let rec = &state.recordings[0];
    let truth = w.sim.captured_by_recording(&rec.recording_id).unwrap();
    assert_eq!(rec.exported.as_ref().unwrap().records, truth.len() as u64);
}

#[tokio::test]
async fn a_recording_whose_delivery_failed_reports_and_notifies_that_it_captured_nothing() {
    let sim = sim();
    sim.set_delivery_error(Some("Access error: the role cannot write to the log group"));
    let mut w = World::new(sim);
    w.run(0, 40).await;
    let state = w.state();
    let rec = &state.recordings[0];
    // Noted once per flow log while they existed.
    assert_eq!(count(&w.kinds(), "FlowLogDeliveryFailed"), 2);
    assert_eq!(rec.delivery_failures.len(), 2);
    assert_eq!(rec.exported.as_ref().unwrap().records, 0);
    let dir = Path::new(&rec.reported.as_ref().unwrap().dir).to_path_buf();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["coverage"]["captured_nothing"], true);
    let causes = report["coverage"]["likely_causes"].as_array().unwrap();
    assert!(
        causes[0].as_str().unwrap().contains("Access error"),
        "{causes:?}"
    );
    let (_, n) = &w.sim.published()[0];
    assert_eq!(
        n.subject,
        format!("nat-flowrec: {DEMO_NAT_GATEWAY_ID} recording captured nothing")
    );
    let message: serde_json::Value = serde_json::from_str(&n.message).unwrap();
    let text = message["email"].as_str().unwrap();
    assert!(text.contains("the recording captured nothing"), "{text}");
    assert!(text.contains("DeliverLogsStatus FAILED"), "{text}");
}

#[tokio::test]
async fn with_an_s3_location_the_report_is_uploaded_and_linked_in_the_message() {
    let mut w = World::new(sim());
    w.cfg.notify.report_s3_uri = Some("s3://nat-reports/flowrec/".parse().unwrap());
    w.cfg.notify.presign_seconds = 86_400;
    w.run(0, 40).await;
    let state = w.state();
    let id = &state.recordings[0].recording_id;
    for file in [
        "report.html",
        "report.md",
        "report.json",
        "talkers.csv",
        "services.csv",
        "email.txt",
    ] {
        let key = format!("flowrec/{id}/report/{file}");
        assert!(
            w.sim.object("nat-reports", &key).is_some(),
            "{key} uploaded"
        );
    }
    let md = w
        .sim
        .object("nat-reports", &format!("flowrec/{id}/report/report.md"))
        .unwrap();
    assert!(String::from_utf8_lossy(&md).contains("# NAT flow-log report"));
    let html = w
        .sim
        .object("nat-reports", &format!("flowrec/{id}/report/report.html"))
        .unwrap();
    assert!(String::from_utf8_lossy(&html).contains("<svg"));
    let (_, n) = &w.sim.published()[0];
    let message: serde_json::Value = serde_json::from_str(&n.message).unwrap();
    let text = message["email"].as_str().unwrap();
    let url = format!(
        "https://nat-reports.s3.us-east-1.amazonaws.com/flowrec/{id}/report/report.html?X-Amz-Expires=86400"
    );
    assert!(
        text.contains(&format!("Report with charts (link works 24 hours): {url}")),
        "{text}"
    );
    let first = text.find("https://").unwrap();
    assert!(text[first..].starts_with(&url), "the first link: {text}");
    assert!(
        text.contains(&format!("s3://nat-reports/flowrec/{id}/report/")),
        "{text}"
    );

    // An upload that fails leaves the notification to the next run.
    let mut w = World::new(sim());
    w.cfg.notify.report_s3_uri = Some("s3://nat-reports".parse().unwrap());
    w.run(0, 25).await;
    w.sim
        .fail_next(SimOperation::PutObject, AwsErrorKind::AccessDenied);
    w.run(26, 33).await;
    assert_eq!(count(&w.kinds(), "Notified"), 1);
    assert_eq!(w.sim.published().len(), 1);
}

#[tokio::test]
async fn export_by_hand_writes_where_asked_and_notify_by_hand_sends_again() {
    let mut w = World::new(sim());
    w.run(0, 40).await;
    let state = w.state();
    let id = state.recordings[0].recording_id.clone();
    let elsewhere = tempfile::tempdir().unwrap();
    let now = t0() + TimeDelta::minutes(41);
    let mut job = Job {
        cloud: &w.sim,
        cfg: &w.cfg,
        log: &mut w.log,
        now,
        dry_run: false,
    };
    let line = job.export(&id, Some(elsewhere.path())).await.unwrap();
    assert!(line.contains("exported recording"), "{line}");
    // Exported again, the report is rebuilt from the new files; the message is not resent.
    assert!(line.contains("reported recording"), "{line}");
    assert!(
        line.contains(&format!(
            "`nat-flowrec notify --recording {id}` sends this report"
        )),
        "{line}"
    );
    let folder = elsewhere.path().join(&id);
    assert!(folder.join("report/email.txt").is_file());
    let flow_logs = folder
        .read_dir()
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".log.gz")
        })
        .count();
    assert_eq!(flow_logs, 2);
    let line = job.notify(&id).await.unwrap();
    assert!(line.contains("notified recording"), "{line}");
    assert_eq!(w.sim.published().len(), 2);
    assert_eq!(count(&w.kinds(), "Exported"), 2);

    let mut job = Job {
        cloud: &w.sim,
        cfg: &w.cfg,
        log: &mut w.log,
        now,
        dry_run: false,
    };
    let err = job.export("rec-nope", None).await.unwrap_err();
    assert!(err.to_string().contains("no recording rec-nope"), "{err}");
}

#[tokio::test]
async fn a_publish_that_may_have_gone_out_is_not_repeated_and_one_sns_refused_is() {
    let mut w = World::new(sim());
    let settle_minute = w.record_one().await + 5;
    let id = w.state().recordings[0].recording_id.clone();

    // SNS refused it (it answered with an error): nothing went out, the next run sends it.
    w.sim
        .fail_next(SimOperation::Publish, AwsErrorKind::Throttled);
    let outcome = w.check_at(settle_minute, false).await;
    assert!(outcome.failures[0].contains("notify failed"), "{outcome}");
    assert_eq!(count(&w.kinds(), "NotifyFailed"), 1);
    assert!(w.state().notify_unconfirmed.is_empty());
    let outcome = w.check_at(settle_minute + 1, false).await;
    assert!(outcome.ok(), "{outcome}");
    assert_eq!(count(&w.kinds(), "Notified"), 1);
    assert_eq!(w.sim.published().len(), 1);

    // A second recording whose Publish got no answer: SNS may have sent it, so no run sends it
    // again (a duplicate e-mail), the run says what to do, and the log says it is unconfirmed.
    let mut w = World::new(sim());
    w.run(0, 25).await;
    w.sim
        .fail_next(SimOperation::Publish, AwsErrorKind::Timeout);
    let outcome = w.check_at(settle_minute, false).await;
    let said = outcome.to_string();
    assert!(said.contains("not sent again automatically"), "{said}");
    assert!(
        said.contains(&format!("nat-flowrec notify --recording {id}")),
        "{said}"
    );
    w.run(settle_minute + 1, settle_minute + 10).await;
    let kinds = w.kinds();
    assert_eq!(count(&kinds, "NotifyAttempted"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "Notified"), 0, "{kinds:?}");
    assert!(w.state().notify_unconfirmed.contains_key(&id));
    assert!(w.sim.published().is_empty());

    // By hand it is sent again, and confirmed.
    let now = t0() + TimeDelta::minutes(settle_minute + 11);
    let line = Job {
        cloud: &w.sim,
        cfg: &w.cfg,
        log: &mut w.log,
        now,
        dry_run: false,
    }
    .notify(&id)
    .await
    .unwrap();
    assert!(line.contains("notified recording"), "{line}");
    assert_eq!(w.sim.published().len(), 1);
    assert!(w.state().notify_unconfirmed.is_empty());
    assert_eq!(count(&w.kinds(), "Notified"), 1);
}

/// With `recording.dns_query_logs`: the recording's VPC's queries are logged while it runs and
/// no longer after; an association AWS refused once is done by the next tick, the stop removes
/// the configuration, and the export writes the recording's DNS file beside its flow logs.
#[tokio::test]
async fn a_recording_logs_its_vpcs_dns_queries_and_a_failed_start_is_retried_next_tick() {
    let mut w = World::new(sim());
    w.cfg.recording.dns_query_logs = true;
    w.sim.fail_next(
        SimOperation::AssociateResolverQueryLogConfig,
        AwsErrorKind::Throttled,
    );
    w.run(0, 40).await;
    let kinds = w.kinds();
    assert_eq!(count(&kinds, "QueryLoggingStarted"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "QueryLoggingStopped"), 1, "{kinds:?}");
    let started = kinds.iter().position(|k| *k == "RecordingStarted").unwrap();
    let logged = kinds
        .iter()
        .position(|k| *k == "QueryLoggingStarted")
        .unwrap();
    let stopped = kinds.iter().position(|k| *k == "RecordingStopped").unwrap();
    let unlogged = kinds
        .iter()
        .position(|k| *k == "QueryLoggingStopped")
        .unwrap();
    assert!(
        started < logged && logged < stopped && stopped < unlogged,
        "{kinds:?}"
    );

    let rec = &w.state().recordings[0];
    let q = rec.query_logging.clone().expect("query logging noted");
    assert!(!q.ours_running());
    assert_eq!(q.log_group, "/nat-flowrec/dns-queries");
    let associations = w
        .sim
        .calls()
        .iter()
        .filter(|c| matches!(c, SimCall::AssociateQueryLogConfig { .. }))
        .count();
    assert_eq!(associations, 2, "the refused association and its retry");
    // The configuration was created once (the retry found it by its CreatorRequestId), and is
    // gone.
    assert!(w.sim.query_log_configs().is_empty());
    let deleted = w.sim.deleted_query_log_configs();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].creator_request_id, rec.recording_id);
    let folder = Path::new(&rec.exported.as_ref().expect("exported").files[0])
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(crate::finish::dns_export::dns_file(&folder).is_some());
}
