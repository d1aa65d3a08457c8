//! What every command that acts on the job's state sets up the same way: the run's clock, the
//! configuration (with `--region` over the file), the AWS clients, the locked (file) or leased
//! (S3) event log, logging.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use super::out::outln;
use crate::app::Settings;
use crate::aws::{AwsCloud, AwsSettings};
use crate::cli::{LogFormat, Output};
use crate::config::Config;
use crate::controller::{Job, JobError};
use crate::store::{StateLocation, Store};

/// How long a run waits for another run's lock before it leaves the work to that run.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// `--now`, else the system clock.
pub fn clock(global: &Settings) -> DateTime<Utc> {
    global.now.unwrap_or_else(Utc::now)
}

pub fn config(global: &Settings) -> anyhow::Result<Config> {
    // Checked here, before any AWS client is built from it.
    crate::aws::attempt_timeout()?;
    let mut cfg = Config::load(&global.config)?;
    if let Some(region) = &global.region {
        cfg.region = Some(region.clone());
    }
    Ok(cfg)
}

/// Where and as whom to call AWS: the config's region, `--profile`, `--endpoint-url`.
pub fn aws_settings(global: &Settings, cfg: &Config) -> AwsSettings {
    AwsSettings {
        region: cfg.region.as_ref().map(ToString::to_string),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

/// The AWS clients, once the profile asked for exists and credentials were found.
pub async fn cloud(global: &Settings, cfg: &Config) -> anyhow::Result<AwsCloud> {
    Ok(AwsCloud::connect_checked(&aws_settings(global, cfg)).await?)
}

/// How long `stop` and `start` by hand wait for the lock: no other run does their work, so they
/// wait a scheduled tick out (each of the tick's AWS calls is bounded by
/// `aws::OPERATION_TIMEOUT`) rather than give up after `LOCK_WAIT`.
pub const MANUAL_LOCK_WAIT: Duration = Duration::from_secs(600);

/// The event log (a file, or `s3://...`), locked or leased for this run; `None` when another
/// run holds it (that run does the work: this one says so, and the CLI exits with
/// `exit::LOCKED`). Give it back with `release` when the run is done.
pub async fn locked_log(global: &Settings, cfg: &Config) -> anyhow::Result<Option<Store>> {
    locked_log_waiting(global, cfg, LOCK_WAIT).await
}

/// `locked_log`, waiting up to `wait` for another run's lock, and saying so when it waits.
pub async fn locked_log_waiting(
    global: &Settings,
    cfg: &Config,
    wait: Duration,
) -> anyhow::Result<Option<Store>> {
    let location = StateLocation::of(&cfg.state)?;
    let s3 = state_s3(global, cfg, &location).await?;
    let opened = match Store::open(&location, async || s3.clone(), Duration::ZERO).await {
        Err(err) if err.is_locked() && !wait.is_zero() => {
            tracing::warn!(
                "another nat-flowrec run holds the event log; waiting up to {} s for it to finish",
                wait.as_secs()
            );
            Store::open(&location, async || s3, wait).await
        }
        other => other,
    };
    match opened {
        Ok(log) => {
            warn_recovered(&log);
            Ok(Some(log))
        }
        Err(err) if err.is_locked() => {
            // A warning, not an error: the holder does the work (a tick exits 0, a command by hand 3).
            tracing::warn!("{err}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// A step of one recording's pipeline run by hand (`export`, `notify`): with the event log
/// locked (exit 3 when another run holds it), prints the step's lines (with `--output json`, one
/// object: `recording_id`, `step`, and `done`, the lines as an array); the log is given back
/// whatever happened.
pub fn recording_step(
    global: &Settings,
    (recording_id, name): (&str, &str),
    output: Output,
    step: impl AsyncFnOnce(&mut Job<'_, AwsCloud>) -> Result<String, JobError>,
) -> anyhow::Result<ExitCode> {
    let now = clock(global);
    runtime()?.block_on(async {
        let cfg = config(global)?;
        let cloud = cloud(global, &cfg).await?;
        let Some(mut log) = locked_log(global, &cfg).await? else {
            return Ok(super::exit::locked());
        };
        let mut job = Job {
            cloud: &cloud,
            cfg: &cfg,
            log: &mut log,
            now,
            dry_run: false,
        };
        let line = step(&mut job).await;
        // The S3 lease is given back whatever happened (a file lock goes with the handle).
        release(log).await;
        let line = line?;
        if output.is_json() {
            let lines: Vec<&str> = line.lines().collect();
            let done =
                serde_json::json!({"recording_id": recording_id, "step": name, "done": lines});
            outln!("{done}")?;
        } else {
            outln!("{line}")?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Ends this run's hold on the event log. A lease that cannot be cleared lapses by itself, so a
/// failure here is a warning, not a failed run.
pub async fn release(log: Store) {
    if let Err(err) = log.release().await {
        tracing::warn!("could not release the event log: {err}");
    }
}

/// The event log for reading only (status, history): no lock, nothing written.
pub async fn read_log(global: &Settings, cfg: &Config) -> anyhow::Result<Store> {
    let location = StateLocation::of(&cfg.state)?;
    let s3 = state_s3(global, cfg, &location).await?;
    let log = Store::read(&location, async || s3).await?;
    warn_recovered(&log);
    Ok(log)
}

/// One recording as the event log knows it (read without locking, nothing appended).
pub async fn recording(
    global: &Settings,
    cfg: &Config,
    recording_id: &str,
) -> anyhow::Result<crate::core::Recording> {
    let log = read_log(global, cfg).await?;
    let state = crate::core::State::fold(log.events());
    state.recording(recording_id).cloned().with_context(|| {
        format!("no recording {recording_id} in the event log; `nat-flowrec history` lists them")
    })
}

/// The S3 client of an `s3://` event log, its profile and credentials checked; for a file, an
/// unchecked client that is never called (no credentials needed).
async fn state_s3(
    global: &Settings,
    cfg: &Config,
    location: &StateLocation,
) -> anyhow::Result<aws_sdk_s3::Client> {
    let settings = aws_settings(global, cfg);
    Ok(match location {
        StateLocation::S3(_) => crate::aws::s3_client_checked(&settings).await?,
        StateLocation::File(_) => crate::aws::s3_client(&settings).await,
    })
}

fn warn_recovered(log: &Store) {
    for warning in log.warnings() {
        tracing::warn!("{warning}");
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// tracing to stderr: warnings by default, `-v` nat-flowrec's own info lines, `-vv` its debug
/// lines, `-vvv` everything (the AWS SDK's debug flood too), `-q` errors only; `RUST_LOG`
/// overrides. Colour only on a terminal, never with `NO_COLOR`. `--log-format json` writes one
/// JSON object a line (with its time, level and fields) for CloudWatch Logs and journald, which
/// index them.
pub fn init_logging(global: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(global)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour(&std::io::stderr()));
    // A second init (the Lambda handler runs many invocations in one process) keeps the first.
    let _ = match global.log.format {
        LogFormat::Text => builder.without_time().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The `EnvFilter` directives for `-q` / `-v` counts: our crates get the more detailed level,
/// the SDK's own lines stay at errors (warnings from `-v`) until `-vvv`.
fn log_filter(global: &Settings) -> String {
    let (ours, theirs) = match (global.log.quiet, global.log.verbose) {
        (true, _) => ("error", "error"),
        (false, 0) => ("warn", "error"),
        (false, 1) => ("info", "warn"),
        (false, 2) => ("debug", "warn"),
        (false, _) => ("debug", "debug"),
    };
    format!("{theirs},nat_flowrec={ours},nat_flowrec_reports={ours},nat_flowrec_parsers={ours}")
}

/// Whether to colour what goes to `stream`: a terminal, and `NO_COLOR` unset or empty
/// (https://no-color.org).
pub fn colour(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
