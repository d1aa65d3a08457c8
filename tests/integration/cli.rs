//! The command line as a user meets it, through the real binary: a reader that goes away ends
//! a command quietly, AWS failures read as one actionable line, one output convention.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::deploy::sdk_in;
use crate::job::{nat_flowrec, text};
use crate::moto::{moto, seed_nat};

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
