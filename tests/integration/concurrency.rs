//! Two runs at once on one event log: cron's `check` and a hand-started one,
//! or `watch` and an operator's `stop`. The lock on the log lets exactly one act; the other
//! waits for it, or gives up with a message saying so. Either way AWS and the log agree after,
//! and nothing is started, stopped or counted twice.

use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};

use crate::support::moto::{SPIKE, put_nat_metric};
use crate::support::proxy::Fault;
use crate::support::run::{stdout, text};
use crate::support::world::World;

/// Bounds the waits for a background run to reach a point (never a timed assertion: a slow
/// machine only waits longer; this only keeps a broken run from hanging the test binary).
const WAIT_LIMIT: Duration = Duration::from_secs(180);

fn kinds(w: &World, kind: &str) -> usize {
    w.state().1.iter().filter(|e| e["type"] == kind).count()
}

/// The runner-up's part, a `check`: it waited and then found nothing left to do, or it stopped
/// waiting and said another run holds the lock; either way it exits 0 (the other run does the
/// tick's work) and does not act.
fn assert_stood_aside(o: &Output, transcript: &str) {
    let said = text(o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the runner-up's exit:{transcript}"
    );
    assert!(
        !said.contains("started recording") && !said.contains("stopped recording"),
        "the runner-up acted too:{transcript}"
    );
}

/// Starts two `check` runs at once and waits for both: the one that started the recording,
/// the other, and both runs' output for assertion messages.
fn two_checks_at_once(w: &World) -> (Output, Output, String) {
    let (mut a, a_out, a_err) = w.spawn(&["check"], 0, "a");
    let (mut b, b_out, b_err) = w.spawn(&["check"], 0, "b");
    let collect = |child: &mut std::process::Child, out, err| Output {
        status: child.wait().unwrap(),
        stdout: std::fs::read(out).unwrap_or_default(),
        stderr: std::fs::read(err).unwrap_or_default(),
    };
    let a = collect(&mut a, a_out, a_err);
    let b = collect(&mut b, b_out, b_err);
    let transcript = format!("\n=== a\n{}\n=== b\n{}", text(&a), text(&b));
    if stdout(&a).contains("started recording") {
        (a, b, transcript)
    } else {
        (b, a, transcript)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_checks_started_together_record_once() {
    let w = World::new(53).await;
    w.seed_spike_then_calm().await;
    let (winner, other, transcript) = two_checks_at_once(&w);
    let (winner, other) = (&winner, &other);

    assert!(
        winner.status.success() && stdout(winner).contains("started recording"),
        "one run records:{transcript}"
    );
    assert_stood_aside(other, &transcript);
    assert_eq!(
        w.proxy.count("CreateFlowLogs"),
        1,
        "one CreateFlowLogs: {:?}",
        w.proxy.calls()
    );
    assert_eq!(w.our_flow_logs().await.len(), 1, "{transcript}");
    assert_eq!(kinds(&w, "RecordingStarted"), 1, "{transcript}");
    w.assert_fold_matches_aws("after both runs").await;
}

/// The holder is slowed down past the other's lock wait (AWS answers its first call late), so
/// the runner-up cannot wait it out: it leaves without touching AWS's flow logs or the log.
#[tokio::test(flavor = "multi_thread")]
async fn a_check_that_cannot_wait_out_the_other_leaves_the_work_to_it() {
    let mut w = World::new(54).await;
    // The delay below must not count as a failed attempt.
    w.attempt_timeout_secs = 60;
    w.seed_spike_then_calm().await;
    // Longer than the lock wait (`commands::wiring::LOCK_WAIT`, 5 s).
    w.proxy
        .inject("DescribeFlowLogs", Fault::Delay(Duration::from_secs(8)), 1);
    let (winner, other, transcript) = two_checks_at_once(&w);
    let (winner, other) = (&winner, &other);
    assert!(winner.status.success(), "{transcript}");
    assert_eq!(
        other.status.code(),
        Some(0),
        "a check that could not wait 8 s leaves the tick to the other and succeeds:{transcript}"
    );
    let said = text(other);
    assert!(
        said.contains("another nat-flowrec run holds the lock")
            && said.contains("events.jsonl.lock"),
        "it names the lock:{transcript}"
    );
    assert_eq!(w.proxy.count("CreateFlowLogs"), 1, "{:?}", w.proxy.calls());
    assert_eq!(
        w.proxy.count("DescribeFlowLogs"),
        1,
        "the runner-up made no AWS call of the job: {:?}",
        w.proxy.calls()
    );
    assert_eq!(kinds(&w, "RecordingStarted"), 1, "{transcript}");
    w.assert_fold_matches_aws("after both runs").await;
}

/// Waits (bounded) until `done` says the condition holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT_LIMIT, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manual_stop_beside_watch_stops_once_and_watch_does_not_restart_it() {
    let mut w = World::new(55).await;
    // `watch` runs on the system clock: the spike is around now, and lasts the whole test.
    let now = Utc::now();
    let spike: Vec<_> = (-5..=10)
        .map(|m| (now + TimeDelta::minutes(m), SPIKE))
        .collect();
    put_nat_metric(&w.cw, &w.nat.nat_gateway_id, "BytesInFromSource", &spike).await;
    // The slow call below must not count as a failed attempt.
    w.attempt_timeout_secs = 60;
    let watch_out = w.dir.path().join("watch.stdout");
    let watch_err = w.dir.path().join("watch.stderr");
    let mut watch = crate::support::run::nat_flowrec(w.dir.path())
        .args([
            "watch",
            "--interval",
            "1s",
            "--endpoint-url",
            &w.proxy.endpoint,
        ])
        .env(nat_flowrec::aws::ATTEMPT_TIMEOUT_ENV, "60")
        .stdout(std::fs::File::create(&watch_out).unwrap())
        .stderr(std::fs::File::create(&watch_err).unwrap())
        .spawn()
        .unwrap();
    wait_until("watch to start a recording", || {
        kinds(&w, "RecordingStarted") == 1
    });
    // The next tick holds the lock longer than a `check` would wait for it (AWS answers its
    // first call late; `commands::wiring::LOCK_WAIT` is 5 s): the stop must wait it out.
    w.proxy
        .inject("DescribeFlowLogs", Fault::Delay(Duration::from_secs(7)), 1);
    wait_until("watch's next tick to meet the slow call", || {
        w.proxy.pending("DescribeFlowLogs") == 0
    });
    // Run as users do: on the system clock, like watch.
    let stop = crate::support::run::nat_flowrec(w.dir.path())
        .args(["stop", "--all", "--endpoint-url", &w.proxy.endpoint])
        .env(nat_flowrec::aws::ATTEMPT_TIMEOUT_ENV, "60")
        .output()
        .unwrap();
    // Two more ticks of watch after the stop: it must not start the spike's recording again.
    let ticks = w.proxy.count("DescribeFlowLogs");
    wait_until("two more watch ticks", || {
        w.proxy.count("DescribeFlowLogs") >= ticks + 2
    });
    let pid = watch.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let status = watch.wait().unwrap();
    let watch_said = format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        status.code(),
        std::fs::read_to_string(&watch_out).unwrap_or_default(),
        std::fs::read_to_string(&watch_err).unwrap_or_default()
    );
    let transcript = format!("\n=== stop\n{}\n=== watch\n{watch_said}", text(&stop));

    assert!(
        stop.status.success() && stdout(&stop).contains("stopped by hand"),
        "the manual stop waited for watch's tick and stopped the recording:{transcript}"
    );
    assert!(
        text(&stop).contains("waiting up to"),
        "the stop said it waits for the other run:{transcript}"
    );
    assert!(status.success(), "watch ran on:{transcript}");
    assert_eq!(w.proxy.count("DeleteFlowLogs"), 1, "{:?}", w.proxy.calls());
    assert_eq!(kinds(&w, "RecordingStarted"), 1, "{transcript}");
    assert_eq!(kinds(&w, "RecordingStopped"), 1, "{transcript}");
    assert!(w.our_flow_logs().await.is_empty(), "{transcript}");
    w.assert_fold_matches_aws("after stop and watch").await;
}
