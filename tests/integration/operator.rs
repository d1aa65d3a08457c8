//! Operator comfort through the real binary: exit codes a scheduler acts on
//! (3 when another run holds the lock), `--log-format json` for CloudWatch Logs and journald,
//! `--output json` on every command that prints state (the old `--json` still works), shell
//! completions and the man page.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec::core::event::{Event, EventEnvelope};
use nat_flowrec::store::EventLog;
use serde_json::Value;

use crate::support::moto::sdk_in;
use crate::support::moto::{moto, put_nat_metric, seed_nat};
use crate::support::run::{minute_now, nat_flowrec, stdout, text};

const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";

fn write_config(dir: &Path, region: &str, nat: &str, log_group: &str) {
    let config = format!(
        "region = \"{region}\"\nnat_gateway_ids = [\"{nat}\"]\nstate = \"state/events.jsonl\"\n\n\
         [recording]\nlog_group = \"{log_group}\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
    );
    std::fs::write(dir.join("nat-flowrec.toml"), config).unwrap();
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

#[test]
fn a_run_that_finds_the_lock_held_exits_3_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "us-east-1",
        "nat-0123456789abcdef0",
        "/nat-flowrec/locked",
    );
    let state = dir.path().join("state/events.jsonl");
    // Another run (this test) holds the lock for the whole command.
    let held = EventLog::open(&state, Duration::ZERO).unwrap();

    let o = nat_flowrec(dir.path())
        .args(["budget", "reset", "--nat", "nat-0123456789abcdef0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("another nat-flowrec run holds the lock"),
        "{}",
        text(&o)
    );
    assert!(stdout(&o).is_empty(), "{}", text(&o));
    assert!(
        !state.exists(),
        "nothing appended while another run held the lock"
    );

    drop(held);
    let o = nat_flowrec(dir.path())
        .args(["budget", "reset", "--nat", "nat-0123456789abcdef0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(EventLog::read(&state).unwrap().events().len(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["chekc"][..],
        &["status", "--output", "yaml"],
        &["status", "--json", "--output", "text"],
        &["--log-format", "xml", "status"],
    ] {
        let o = nat_flowrec(dir.path()).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}

#[test]
fn log_format_json_writes_one_json_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        "us-east-1",
        "nat-0123456789abcdef0",
        "/nat-flowrec/logs",
    );
    // A torn last line: reading it logs a warning.
    let state = dir.path().join("state/events.jsonl");
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let line = EventEnvelope::new(
        1,
        Utc::now(),
        Event::BudgetReset {
            nat_gateway_id: "nat-0123456789abcdef0".into(),
        },
    )
    .to_line()
    .unwrap();
    std::fs::write(&state, format!("{line}\n{}", &line[..30])).unwrap();

    let o = nat_flowrec(dir.path())
        .args(["--log-format", "json", "status"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let warning = lines
        .iter()
        .find(|l| l["level"] == "WARN")
        .unwrap_or_else(|| panic!("no WARN line in {stderr}"));
    assert!(
        warning["message"].as_str().unwrap().contains("cut short"),
        "{warning}"
    );
    assert!(warning["timestamp"].is_string(), "{warning}");

    // The same through the environment, as systemd's Environment= or Lambda's variables set it.
    let o = nat_flowrec(dir.path())
        .env("NAT_FLOWREC_LOG_FORMAT", "json")
        .arg("status")
        .output()
        .unwrap();
    let first = String::from_utf8_lossy(&o.stderr)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        serde_json::from_str::<Value>(&first).is_ok(),
        "{}",
        text(&o)
    );

    // Text stays the default.
    let o = nat_flowrec(dir.path()).arg("status").output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("WARN") && !stderr.trim_start().starts_with('{'),
        "{stderr}"
    );
}

#[test]
fn status_history_and_budget_print_json_with_output_json_and_the_old_json_flag() {
    let dir = tempfile::tempdir().unwrap();
    let nat = "nat-0123456789abcdef0";
    write_config(dir.path(), "us-east-1", nat, "/nat-flowrec/json");
    let now = "2026-11-27T10:00:00Z";

    let o = nat_flowrec(dir.path())
        .args([
            "budget", "reset", "--nat", nat, "--output", "json", "--now", now,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let outcome: Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON document");
    assert_eq!(outcome["dry_run"], false);
    assert_eq!(outcome["decisions"][0]["action"], "record", "{outcome}");
    assert_eq!(outcome["decisions"][0]["type"], "budget_reset", "{outcome}");
    assert_eq!(outcome["failures"], Value::Array(vec![]));

    let status = |args: &[&str]| {
        let o = nat_flowrec(dir.path())
            .args(args)
            .args(["--now", now])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_str::<Value>(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    };
    let new = status(&["status", "--output", "json"]);
    assert_eq!(new, status(&["status", "--json"]), "--json is an alias");
    assert_eq!(new["events"], 1);
    assert_eq!(new["nats"][0]["nat_gateway_id"], nat);

    let o = nat_flowrec(dir.path())
        .args(["history", "--output", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["type"], "budget_reset");
    assert_eq!(lines[0]["seq"], 1);
    let old = nat_flowrec(dir.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    assert_eq!(stdout(&old), stdout(&o));

    // Text stays the default.
    let o = nat_flowrec(dir.path()).args(["history"]).output().unwrap();
    assert!(
        serde_json::from_str::<Value>(stdout(&o).trim()).is_err(),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_start_stop_and_reconcile_print_their_outcome_as_json() {
    let moto = moto();
    // A region of its own: the recording it starts is no other test's business (see sdk_in).
    let region = "eu-west-1";
    let sdk = sdk_in(moto, region).await;
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seed_nat(&ec2, 71).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        region,
        &nat.nat_gateway_id,
        &format!("/nat-flowrec/json-{}", nat.nat_gateway_id),
    );
    let t = minute_now();
    put_nat_metric(
        &cw,
        &nat.nat_gateway_id,
        "BytesInFromSource",
        &[(t - TimeDelta::minutes(2), 5e8)],
    )
    .await;
    let run = |args: &[&str], now: DateTime<Utc>| -> Value {
        let o = nat_flowrec(dir.path())
            .args(args)
            .args([
                "--output",
                "json",
                "--endpoint-url",
                &moto.endpoint,
                "--now",
                &at(now),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().count(), 1, "one line of JSON: {out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };

    let dry = run(&["check", "--dry-run"], t);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["nats"][0]["nat_gateway_id"], nat.nat_gateway_id);
    assert_eq!(dry["nats"][0]["trigger"], "breaching", "{dry}");
    let actions: Vec<&Value> = dry["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["action"])
        .collect();
    assert!(actions.contains(&&Value::from("start")), "{dry}");

    let started = run(&["start", "--nat", &nat.nat_gateway_id], t);
    assert_eq!(started["dry_run"], false);
    let start = started["decisions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(start["action"], "start", "{started}");
    assert_eq!(start["nat_gateway_id"], nat.nat_gateway_id);

    let checked = run(&["check"], t + TimeDelta::minutes(1));
    assert!(
        checked["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["action"] != "start"),
        "already recording: {checked}"
    );
    let reconciled = run(&["reconcile"], t + TimeDelta::minutes(1));
    assert_eq!(
        reconciled["decisions"],
        Value::Array(vec![]),
        "log and AWS agree: {reconciled}"
    );

    let stopped = run(&["stop", "--all"], t + TimeDelta::minutes(2));
    assert_eq!(stopped["decisions"][0]["action"], "stop", "{stopped}");
    assert_eq!(stopped["decisions"][0]["reason"], "manual", "{stopped}");
}

#[test]
fn completions_are_valid_scripts_that_know_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = nat_flowrec(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success(), "{shell}: {}", text(&o));
        let script = stdout(&o);
        for command in [
            "check",
            "watch",
            "status",
            "history",
            "reconcile",
            "completions",
            "log-format",
        ] {
            assert!(
                script.contains(command),
                "{shell} completion lacks `{command}`"
            );
        }
    }
    // bash parses the bash script (bash is on every machine the tests run on).
    let o = nat_flowrec(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let path = dir.path().join("nat-flowrec.bash");
    std::fs::write(&path, &o.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{}", text(&syntax));

    let o = nat_flowrec(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "an unknown shell is a usage error: {}",
        text(&o)
    );
}

#[test]
fn man_prints_the_page_and_writes_one_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let o = nat_flowrec(dir.path()).arg("man").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH nat-flowrec 1"), "{page}");
    assert!(
        page.contains("another run holds the event log"),
        "exit codes: {page}"
    );

    let out = dir.path().join("man");
    let o = nat_flowrec(dir.path())
        .args(["man", "--dir"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    for page in [
        "nat-flowrec.1",
        "nat-flowrec-check.1",
        "nat-flowrec-status.1",
        "nat-flowrec-man.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
}
