//! The real binary in a fresh folder with a clean AWS environment, what it printed, and the
//! configuration files the tests write for it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::moto::Moto;

/// The binary with a clean AWS environment: dummy credentials, no profile files, no instance
/// metadata, so nothing can reach a real account.
pub fn nat_flowrec(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nat-flowrec"));
    cmd.current_dir(dir)
        .env_remove("NAT_FLOWREC_CONFIG")
        .env_remove("NAT_FLOWREC_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// `nat-flowrec <args> --endpoint-url <endpoint> --now <now>` in `dir` (an endpoint of its
/// own: a call-counting proxy's).
pub fn run_in(dir: &Path, endpoint: &str, args: &[&str], now: DateTime<Utc>) -> Output {
    nat_flowrec(dir)
        .args(args)
        .args(["--endpoint-url", endpoint, "--now", &now.to_rfc3339()])
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run succeeded and said it started a recording.
pub fn assert_started(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
    assert!(stdout(o).contains("started recording"), "{}", text(o));
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A folder holding a configuration, and the moto endpoint the binary is pointed at.
pub struct Setup {
    pub dir: tempfile::TempDir,
    endpoint: String,
}

impl Setup {
    /// A folder with a configuration for one NAT gateway recorded into `log_group`.
    pub fn new(moto: &Moto, nat: &str, log_group: &str, extra_recording: &str) -> Setup {
        Setup::with_config(moto, &config(nat, log_group, extra_recording))
    }

    /// A folder whose `nat-flowrec.toml` is `config`.
    pub fn with_config(moto: &Moto, config: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nat-flowrec.toml"), config).unwrap();
        Setup {
            dir,
            endpoint: moto.endpoint.clone(),
        }
    }

    pub fn run(&self, args: &[&str], now: DateTime<Utc>) -> Output {
        self.run_with_env(args, now, &[])
    }

    /// `run` with extra environment variables (e.g. `AWS_REGION`).
    pub fn run_with_env(&self, args: &[&str], now: DateTime<Utc>, env: &[(&str, &str)]) -> Output {
        nat_flowrec(self.dir.path())
            .envs(env.iter().copied())
            .args(args)
            .args(["--endpoint-url", &self.endpoint, "--now", &now.to_rfc3339()])
            .output()
            .unwrap()
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("state/events.jsonl")
    }

    /// The event log as JSON values (empty when there is none yet).
    pub fn events(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.state_file())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A configuration for one NAT gateway recorded into `log_group` (flow logs end at once:
/// `recording_seconds = 0`); `rest` goes on in the `[recording]` table.
pub fn config(nat: &str, log_group: &str, rest: &str) -> String {
    format!(
        r#"region = "us-east-1"
nat_gateway_ids = ["{nat}"]
state = "state/events.jsonl"

[recording]
log_group = "{log_group}"
deliver_logs_role_arn = "arn:aws:iam::123456789012:role/nat-flowrec-delivery"
recording_seconds = 0
{rest}
"#
    )
}

/// The same, exported and reported 5 minutes after a recording ends, notifying `topic`
/// (`notify_extra` goes on in the `[notify]` table), reports under `reports/`.
pub fn notifying_config(nat: &str, log_group: &str, topic: &str, notify_extra: &str) -> String {
    config(
        nat,
        log_group,
        &format!(
            r#"settle_seconds = 300

[notify]
sns_topic_arn = "{topic}"
{notify_extra}

[report]
out_dir = "reports""#
        ),
    )
}

/// A minute boundary near the real clock (moto keeps metrics for any time, but stay realistic).
pub fn minute_now() -> DateTime<Utc> {
    Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap()
}
