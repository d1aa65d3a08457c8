//! What every command that acts on the job's state sets up the same way: the run's clock, the
//! configuration (with `--region` over the file), the AWS clients, the locked event log, logging.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::aws::{AwsCloud, AwsSettings};
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::store::EventLog;

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

pub async fn cloud(global: &GlobalArgs, cfg: &Config) -> AwsCloud {
    AwsCloud::connect(&AwsSettings {
        region: cfg.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    })
    .await
}

/// The event log, locked for this run; `None` when another run holds the lock (that run does
/// the work: this one says so and exits 0).
pub fn locked_log(path: &Path) -> anyhow::Result<Option<EventLog>> {
    match EventLog::open(path, LOCK_WAIT) {
        Ok(log) => {
            warn_recovered(&log);
            Ok(Some(log))
        }
        Err(err) if err.is_locked() => {
            eprintln!("nat-flowrec: {err}");
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// The event log for reading only (status, history): no lock, nothing written.
pub fn read_log(path: &Path) -> anyhow::Result<EventLog> {
    let log = EventLog::read(path)?;
    warn_recovered(&log);
    Ok(log)
}

fn warn_recovered(log: &EventLog) {
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
/// `RUST_LOG` overrides.
pub fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
