//! What every command that acts on the job's state sets up the same way: the run's clock, the
//! configuration (with `--region` over the file), the AWS clients, the locked (file) or leased
//! (S3) event log, logging.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::aws::{AwsCloud, AwsSettings};
use crate::cli::{GlobalArgs, LogFormat};
use crate::config::Config;
use crate::controller::{Job, JobError};
use crate::store::{StateLocation, Store};

/// How long a run waits for another run's lock before it leaves the work to that run.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// `--now`, else the system clock.
pub fn clock(global: &GlobalArgs) -> anyhow::Result<DateTime<Utc>> {
    match &global.now {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .with_context(|| {
                format!("--now `{text}` is not an RFC 3339 time; write e.g. 2026-11-27T10:15:00Z")
            }),
    }
}

pub fn config(global: &GlobalArgs) -> anyhow::Result<Config> {
    // Checked here, before any AWS client is built from it.
    crate::aws::attempt_timeout()?;
    let mut cfg = Config::load(&global.config).with_context(|| {
        if global.config.exists() {
            String::new()
        } else {
            format!(
                "no configuration at {} (write an example with `nat-flowrec init`, or pass --config PATH)",
                global.config.display()
            )
        }
    })?;
    if let Some(region) = &global.region {
        cfg.region = Some(region.clone());
    }
    Ok(cfg)
}

/// Where and as whom to call AWS: the config's region, `--profile`, `--endpoint-url`.
pub fn aws_settings(global: &GlobalArgs, cfg: &Config) -> AwsSettings {
    AwsSettings {
        region: cfg.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

pub async fn cloud(global: &GlobalArgs, cfg: &Config) -> AwsCloud {
    AwsCloud::connect(&aws_settings(global, cfg)).await
}

/// How long `stop` and `start` by hand wait for the lock: no other run does their work, so they
/// wait a scheduled tick out (each of the tick's AWS calls is bounded by
/// `aws::OPERATION_TIMEOUT`) rather than give up after `LOCK_WAIT`.
pub const MANUAL_LOCK_WAIT: Duration = Duration::from_secs(600);

/// The event log (a file, or `s3://...`), locked or leased for this run; `None` when another
/// run holds it (that run does the work: this one says so, and the CLI exits with
/// `exit::LOCKED`). Give it back with `release` when the run is done.
pub async fn locked_log(global: &GlobalArgs, cfg: &Config) -> anyhow::Result<Option<Store>> {
    locked_log_waiting(global, cfg, LOCK_WAIT).await
}

/// `locked_log`, waiting up to `wait` for another run's lock, and saying so when it waits.
pub async fn locked_log_waiting(
    global: &GlobalArgs,
    cfg: &Config,
    wait: Duration,
) -> anyhow::Result<Option<Store>> {
    let location = StateLocation::of(&cfg.state)?;
    let opened = match Store::open(
        &location,
        async || s3_client(global, cfg).await,
        Duration::ZERO,
    )
    .await
    {
        Err(err) if err.is_locked() && !wait.is_zero() => {
            tracing::warn!(
                "another nat-flowrec run holds the event log; waiting up to {} s for it to finish",
                wait.as_secs()
            );
            Store::open(&location, async || s3_client(global, cfg).await, wait).await
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
/// locked (exit 3 when another run holds it), prints the step's line; the log is given back
/// whatever happened.
pub fn recording_step(
    global: &GlobalArgs,
    step: impl AsyncFnOnce(&mut Job<'_, AwsCloud>) -> Result<String, JobError>,
) -> anyhow::Result<ExitCode> {
    let now = clock(global)?;
    runtime()?.block_on(async {
        let cfg = config(global)?;
        let Some(mut log) = locked_log(global, &cfg).await? else {
            return Ok(super::exit::locked());
        };
        let cloud = cloud(global, &cfg).await;
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
        println!("{}", line?);
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
pub async fn read_log(global: &GlobalArgs, cfg: &Config) -> anyhow::Result<Store> {
    let location = StateLocation::of(&cfg.state)?;
    let log = Store::read(&location, async || s3_client(global, cfg).await).await?;
    warn_recovered(&log);
    Ok(log)
}

async fn s3_client(global: &GlobalArgs, cfg: &Config) -> aws_sdk_s3::Client {
    crate::aws::s3_client(&aws_settings(global, cfg)).await
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

/// tracing to stderr: warnings by default, `-v` info, `-vv` debug, `-q` errors only;
/// `RUST_LOG` overrides. `--log-format json` writes one JSON object a line (with its time, level
/// and fields) for CloudWatch Logs and journald, which index them.
pub fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (the Lambda handler runs many invocations in one process) keeps the first.
    let _ = match global.log_format {
        LogFormat::Text => builder.without_time().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
