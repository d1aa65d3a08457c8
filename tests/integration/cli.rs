//! The command line as a user meets it, through the real binary: a reader that goes away ends
//! a command quietly, AWS failures read as one actionable line, one output convention.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::moto::sdk_in;
use crate::support::moto::{moto, seed_nat};
use crate::support::run::{nat_flowrec, text};

const NAT: &str = "nat-0123456789abcdef0";
const ROLE: &str = "arn:aws:iam::123456789012:role/nat-flowrec-delivery";

fn write_config(dir: &Path, region: &str, nat: &str) {
    let config = format!(
        "region = \"{region}\"\nnat_gateway_ids = [\"{nat}\"]\nstate = \"state/events.jsonl\"\n\n\
         [recording]\nlog_group = \"/nat-flowrec/cli-{nat}\"\ndeliver_logs_role_arn = \"{ROLE}\"\n"
    );
    std::fs::write(dir.join("nat-flowrec.toml"), config).unwrap();
}

/// Runs `cmd` with a stdout whose reader is already gone (what `| head` leaves behind once it
/// has read its lines), so the first write fails, every time.
fn with_closed_stdout(mut cmd: Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = cmd
        .stdout(writer)
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    drop(cmd);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("still running 90 s after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn assert_quiet_success(what: &str, o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", text(o));
    assert!(
        o.stderr.is_empty(),
        "{what}: nothing on stderr: {}",
        text(o)
    );
}

#[test]
fn a_reader_that_goes_away_ends_each_command_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "us-east-1", NAT);
    // One event, so `history` has a line to print.
    let o = nat_flowrec(dir.path())
        .args(["budget", "reset", "--nat", NAT])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    for args in [
        &["history"][..],
        &["history", "--output", "json"],
        &["status"],
        &["status", "--output", "json"],
        &["iam-policy"],
        &["completions", "bash"],
        &["man"],
        &["budget", "reset", "--nat", NAT],
        &["generate", "--lines", "10"],
    ] {
        let mut cmd = nat_flowrec(dir.path());
        cmd.args(args);
        assert_quiet_success(&args.join(" "), &with_closed_stdout(cmd));
    }

    let flow_log = dir.path().join("flows.log");
    let o = nat_flowrec(dir.path())
        .args(["generate", "--lines", "2000", "--out"])
        .arg(&flow_log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // `-q`: the report's own caveats stay off stderr, which must then be empty.
    for form in ["text", "json", "csv", "markdown"] {
        let mut cmd = nat_flowrec(dir.path());
        cmd.args(["-q", "report", "--no-enrich", "--output", form])
            .arg(&flow_log);
        assert_quiet_success(&format!("report {form}"), &with_closed_stdout(cmd));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_ends_quietly_when_its_reader_goes_away() {
    let moto = moto();
    let region = "ca-central-1";
    let sdk = sdk_in(moto, region).await;
    let nat = seed_nat(&aws_sdk_ec2::Client::new(&sdk), 91).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), region, &nat.nat_gateway_id);
    let mut cmd = nat_flowrec(dir.path());
    cmd.args([
        "watch",
        "--output",
        "json",
        "--endpoint-url",
        &moto.endpoint,
    ]);
    let o = tokio::task::spawn_blocking(move || with_closed_stdout(cmd))
        .await
        .unwrap();
    assert_quiet_success("watch --output json", &o);
}

/// What a failing AWS set-up must never show a person at default verbosity.
fn assert_no_debug_text(what: &str, o: &Output) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    for debug in [
        "DispatchFailure",
        "ConnectorError",
        "Request {",
        "SdkBody",
        "panicked",
        "Some(",
    ] {
        assert!(!stderr.contains(debug), "{what}: `{debug}` in {}", text(o));
    }
}

/// The run failed (exit 1) with one line on stderr, nothing on stdout, no Debug text; the line.
fn one_line_failure(what: &str, o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{what}: {}", text(o));
    assert!(o.stdout.is_empty(), "{what}: {}", text(o));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{what}: one line: {}", text(o));
    assert_no_debug_text(what, o);
    stderr
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn no_credentials_is_one_line_saying_where_credentials_come_from() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "us-east-1", NAT);
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let o = nat_flowrec(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["check", "--endpoint-url", &endpoint])
        .output()
        .unwrap();
    let stderr = one_line_failure("no credentials", &o);
    assert!(
        stderr.starts_with("error: no AWS credentials found: ")
            && stderr.contains("AWS_PROFILE")
            && stderr.contains("aws configure"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_profile_that_does_not_exist_is_named_even_with_environment_credentials() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "us-east-1", NAT);
    std::fs::write(
        dir.path().join("no-aws-config"),
        "[profile ops]\nregion = us-east-1\n",
    )
    .unwrap();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for (how, mut cmd) in [
        ("--profile", nat_flowrec(dir.path())),
        ("AWS_PROFILE", nat_flowrec(dir.path())),
    ] {
        if how == "--profile" {
            cmd.args(["--profile", "opps"]);
        } else {
            cmd.env("AWS_PROFILE", "opps");
        }
        let o = cmd
            .args(["status", "--endpoint-url", &endpoint])
            .args(["--config", "nat-flowrec.toml"])
            .output()
            .unwrap();
        // `status` reads a local event log: it needs no AWS, so it does not check.
        assert_eq!(o.status.code(), Some(0), "{how}: {}", text(&o));

        let mut cmd = nat_flowrec(dir.path());
        if how == "--profile" {
            cmd.args(["--profile", "opps"]);
        } else {
            cmd.env("AWS_PROFILE", "opps");
        }
        let o = cmd
            .args(["check", "--endpoint-url", &endpoint])
            .output()
            .unwrap();
        let stderr = one_line_failure(how, &o);
        assert!(
            stderr.contains("the AWS profile `opps`") && stderr.contains(&format!("({how})")),
            "{how}: {}",
            text(&o)
        );
    }
}

/// `report --enrich` asks AWS as every AWS command does: a profile that does not exist is named,
/// not a report attributed from the environment's account (or from nothing).
#[test]
fn report_enrich_names_a_profile_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports/nat-four-legs.log");
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let o = nat_flowrec(dir.path())
        .args(["--profile", "opps", "report", "--enrich"])
        .arg(&log)
        .args(["--region", "us-east-1", "--endpoint-url", &endpoint])
        .output()
        .unwrap();
    let stderr = one_line_failure("report --enrich", &o);
    assert!(
        stderr.contains("the AWS profile `opps` (--profile)"),
        "{}",
        text(&o)
    );

    // Without `--enrich` a plain file needs no AWS: the report, whatever the profile.
    let o = nat_flowrec(dir.path())
        .args(["--profile", "opps", "report"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn an_endpoint_url_that_is_not_a_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "us-east-1", NAT);
    for bad in [
        "127.0.0.1:5000",
        "localhost",
        "http://",
        "http://host:port",
        "ftp://x",
    ] {
        let o = nat_flowrec(dir.path())
            .args(["check", "--endpoint-url", bad])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains("not an endpoint URL"),
            "{bad}: {}",
            text(&o)
        );
    }
    let o = nat_flowrec(dir.path())
        .env("NAT_FLOWREC_ENDPOINT_URL", "localhost:5000")
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "from the environment: {}",
        text(&o)
    );
}

#[test]
fn a_closed_port_is_one_line_naming_endpoint_operation_and_how_long_it_tried() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "us-east-1", NAT);
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let o = nat_flowrec(dir.path())
        .args(["check", "--endpoint-url", &endpoint])
        .output()
        .unwrap();
    let stderr = one_line_failure("closed port", &o);
    assert!(
        stderr.starts_with("error: ec2:") && stderr.contains(&format!("cannot reach {endpoint}")),
        "operation and endpoint: {}",
        text(&o)
    );
    assert!(
        stderr.contains("5 attempts in ") && stderr.contains(" s)"),
        "attempts and time: {}",
        text(&o)
    );
    assert_eq!(
        stderr.matches("os error").count(),
        1,
        "the OS's words once: {}",
        text(&o)
    );

    // `-v` may add the SDK's chain.
    let o = nat_flowrec(dir.path())
        .args(["-v", "check", "--endpoint-url", &endpoint])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).lines().count() > 1,
        "{}",
        text(&o)
    );
}

/// `check`'s text through a recording's whole life, every action in words: the start, the stop
/// at the deadline (made by the tick's reconcile), the trigger going back to OK, and a spike the
/// spent budget leaves unrecorded.
#[tokio::test(flavor = "multi_thread")]
async fn check_says_in_words_what_it_did_through_a_recordings_life() {
    use chrono::{DateTime, TimeDelta, Utc};

    use crate::support::moto::put_nat_metric;
    use crate::support::run::minute_now;

    let moto = moto();
    let region = "ap-northeast-1";
    let sdk = sdk_in(moto, region).await;
    let seeded = seed_nat(&aws_sdk_ec2::Client::new(&sdk), 93).await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let nat = seeded.nat_gateway_id.as_str();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nat-flowrec.toml"),
        format!(
            "region = \"{region}\"\nnat_gateway_ids = [\"{nat}\"]\nstate = \"state/events.jsonl\"\n\n\
             [trigger]\nmetrics = [\"BytesInFromSource\"]\n\n\
             [recording]\nlog_group = \"/nat-flowrec/golden-{nat}\"\n\
             deliver_logs_role_arn = \"{ROLE}\"\nrecording_seconds = 120\nmax_recordings = 1\n\
             settle_seconds = 86400\n"
        ),
    )
    .unwrap();
    let t = minute_now();
    let at = |m: i64| t + TimeDelta::minutes(m);
    let hm = |m: i64| at(m).format("%H:%MZ").to_string();
    let rfc = |m: i64| at(m).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // 250 MB a minute from t-1 to t+3, 1 KB from t+4 to t+7, 250 MB again from t+8.
    let points: Vec<(DateTime<Utc>, f64)> = (-3..=10)
        .map(|m| {
            let spiking = (-1..=3).contains(&m) || m >= 8;
            (at(m), if spiking { 2.5e8 } else { 1_000.0 })
        })
        .collect();
    put_nat_metric(&cw, nat, "BytesInFromSource", &points).await;
    let check = |m: i64| {
        let o = nat_flowrec(dir.path())
            .args(["check", "--endpoint-url", &moto.endpoint, "--now", &rfc(m)])
            .output()
            .unwrap();
        assert!(o.status.success(), "check at t+{m}: {}", text(&o));
        assert!(o.stderr.is_empty(), "check at t+{m}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let rec = format!(
        "rec-{}-{}",
        nat.trim_start_matches("nat-"),
        at(0).format("%Y%m%dT%H%M%SZ")
    );
    let window = |m: i64| format!("{}-{}", hm(m - 3), hm(m));
    let rule = "above 100 MB a minute in";

    assert_eq!(
        check(0),
        format!(
            "{nat}: trigger breaching: {rule} 1 of the last 3 minutes (1 needed, {}); peak 250 MB at {}; bytes a period: ▁▁█ (threshold ▄)\n\
             {nat}: trigger changed from insufficient data to breaching\n\
             {nat}: started recording {rec} on 1 network interface until {}\n",
            window(0),
            hm(-1),
            rfc(2)
        )
    );
    assert_eq!(
        check(3),
        format!(
            "{nat}: trigger breaching: {rule} 3 of the last 3 minutes (1 needed, {}); peak 250 MB at {}; bytes a period: ███ (threshold ▄)\n\
             {nat}: stopped recording {rec}: its recording time is up (deleted 1 flow log)\n",
            window(3),
            hm(0)
        )
    );
    assert_eq!(
        check(7),
        format!(
            "{nat}: trigger OK: {rule} 0 of the last 3 minutes (1 needed, {}); peak 1 KB at {}\n\
             {nat}: trigger changed from breaching to OK\n",
            window(7),
            hm(4)
        )
    );
    assert_eq!(
        check(9),
        format!(
            "{nat}: trigger breaching: {rule} 1 of the last 3 minutes (1 needed, {}); peak 250 MB at {}; bytes a period: ▁▁█ (threshold ▄)\n\
             {nat}: trigger changed from OK to breaching\n\
             {nat}: not recording this spike: budget spent (1 of 1 recordings since the last budget reset)\n",
            window(9),
            hm(8)
        )
    );
}

#[test]
fn init_iam_policy_export_and_notify_take_output_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = nat_flowrec(dir.path())
        .args(["init", "--output", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["config"], "nat-flowrec.toml", "{done}");
    let next: Vec<&str> = done["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        next[1].ends_with("doctor") && next[2].ends_with("check --dry-run"),
        "{done}"
    );

    write_config(dir.path(), "us-east-1", NAT);
    let o = nat_flowrec(dir.path())
        .args(["iam-policy", "--output", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        o.stdout.iter().filter(|b| **b == b'\n').count(),
        1,
        "one line"
    );
    let policies: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(policies.is_object());

    // The flag is theirs (not a usage error); the unknown recording is the error.
    for step in ["export", "notify"] {
        let o = nat_flowrec(dir.path())
            .args([step, "--recording", "rec-none", "--output", "json"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{step}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("no recording rec-none"),
            "{step}: {}",
            text(&o)
        );
    }
}

#[test]
fn help_teaches_examples_global_options_and_where_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let o = nat_flowrec(dir.path()).arg("--help").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let top = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        top.trim_end()
            .ends_with("Start here: `nat-flowrec demo` (a simulated account, no AWS needed)."),
        "{top}"
    );
    assert!(!top.contains("--now"), "the test clock is hidden: {top}");
    for command in [
        "report",
        "check",
        "watch",
        "status",
        "history",
        "start",
        "stop",
        "budget",
        "trigger",
        "reconcile",
        "export",
        "notify",
        "doctor",
        "iam-policy",
        "demo",
        "init",
        "completions",
        "man",
    ] {
        let o = nat_flowrec(dir.path())
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{command}: {}", text(&o));
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(
            help.contains("\nExamples:\n  nat-flowrec "),
            "{command} has an example: {help}"
        );
        assert!(help.contains("\nGlobal options:\n"), "{command}: {help}");
        assert!(!help.contains("--now"), "{command}: {help}");
    }
    // Global options only where they apply: `completions` has no use for AWS settings, and
    // still accepts them.
    let o = nat_flowrec(dir.path())
        .args(["completions", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        !help.contains("--endpoint-url") && !help.contains("--profile"),
        "{help}"
    );
    let o = nat_flowrec(dir.path())
        .args(["completions", "bash", "--profile", "ops"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = nat_flowrec(dir.path())
        .args(["check", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("--endpoint-url"));

    // Hidden, still accepted.
    write_config(dir.path(), "us-east-1", NAT);
    let o = nat_flowrec(dir.path())
        .args(["status", "--now", "2026-01-15T10:00:00Z"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn small_things_config_units_zero_threshold_unknown_stop_and_errors_said_once() {
    let dir = tempfile::tempdir().unwrap();
    // No configuration: said once, no empty context.
    let o = nat_flowrec(dir.path()).arg("status").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("nat-flowrec.toml").count(), 1, "{stderr}");
    assert!(
        !stderr.contains(": :") && !stderr.contains("os error"),
        "{stderr}"
    );

    // Units in the configuration.
    let with = |trigger: &str| {
        std::fs::write(
            dir.path().join("nat-flowrec.toml"),
            format!(
                "region = \"us-east-1\"\nnat_gateway_ids = [\"{NAT}\"]\nstate = \"state/events.jsonl\"\n\
                 [trigger]\n{trigger}\n[recording]\ndeliver_logs_role_arn = \"{ROLE}\"\n\
                 recording_seconds = \"10m\"\nsettle_seconds = \"5m\"\n"
            ),
        )
        .unwrap();
        nat_flowrec(dir.path())
            .args(["status", "--output", "json"])
            .output()
            .unwrap()
    };
    let o = with("threshold_bytes = \"250MB\"");
    assert!(o.status.success(), "{}", text(&o));
    let o = with("threshold_bytes = 250_000_000");
    assert!(o.status.success(), "{}", text(&o));
    let o = with("threshold_bytes = \"250 parsecs\"");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unknown unit"),
        "{}",
        text(&o)
    );
    let o = with("threshold_bytes = 0");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("trigger.threshold_bytes"),
        "{}",
        text(&o)
    );

    // A NAT gateway the configuration does not name.
    with("threshold_bytes = \"100MB\"");
    let o = nat_flowrec(dir.path())
        .args(["stop", "--nat", "nat-0fffffffffffffff0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is not in nat_gateway_ids"),
        "{}",
        text(&o)
    );

    // An invalid test clock is a usage error.
    let o = nat_flowrec(dir.path())
        .args(["status", "--now", "tomorrow"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // No colour codes when stderr is not a terminal: a torn last line of the log is a warning.
    std::fs::create_dir_all(dir.path().join("state")).unwrap();
    std::fs::write(dir.path().join("state/events.jsonl"), "{\"v\":1,\"seq").unwrap();
    let o = nat_flowrec(dir.path()).arg("status").output().unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("WARN"),
        "{}",
        text(&o)
    );
    assert!(!o.stderr.contains(&0x1b), "{}", text(&o));
}

/// `export` and `notify` by hand on a finished recording, with `--output json`: one JSON
/// document on one line naming the recording, the step and what was done; the step really ran
/// (a second `Exported`, a second message to the topic's subscribers).
#[tokio::test(flavor = "multi_thread")]
async fn export_and_notify_of_a_finished_recording_print_one_json_document() {
    use chrono::TimeDelta;

    use crate::support::eu::{eu_nat, run};
    use crate::support::run::minute_now;
    use crate::support::subscribers::rec_dir;

    let moto = moto();
    let eu = eu_nat(moto, 94, "json").await;
    let setup = eu.setup(moto, "");
    let t = minute_now() - TimeDelta::minutes(90);
    eu.record(&setup, ("10.94.0.10", "10.94.0.11"), t).await;
    let rec_id = rec_dir(&setup)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();

    for (minute, step, kind, said) in [
        (13, "export", "Exported", "exported recording"),
        (14, "notify", "Notified", "notified recording"),
    ] {
        let o = run(
            &setup,
            &[step, "--recording", &rec_id, "--output", "json"],
            t + TimeDelta::minutes(minute),
        );
        assert_eq!(o.status.code(), Some(0), "{step}: {}", text(&o));
        assert_no_debug_text(step, &o);
        assert_eq!(
            o.stdout.iter().filter(|b| **b == b'\n').count(),
            1,
            "{step}: one line: {}",
            text(&o)
        );
        let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{step}: stdout is not one JSON document ({e}): {}",
                text(&o)
            )
        });
        let mut fields: Vec<&str> = done
            .as_object()
            .unwrap_or_else(|| panic!("{step}: not an object: {done}"))
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(fields, ["done", "recording_id", "step"], "{step}: {done}");
        assert_eq!(done["recording_id"], rec_id.as_str(), "{done}");
        assert_eq!(done["step"], step, "{done}");
        let line = done["done"][0].as_str().unwrap_or_default();
        assert!(
            line.starts_with(&format!("{said} {rec_id}")),
            "{step}: {done}"
        );
        let times = setup.events().iter().filter(|e| e["type"] == kind).count();
        assert_eq!(times, 2, "{step}: by `check`, then by hand");
    }
    assert_eq!(eu.subscribers.http.notifications().len(), 2);
}
