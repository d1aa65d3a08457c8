//! The commands that act on AWS through one `Job`: `check`, `reconcile`, `start`, `stop`,
//! `budget reset`. Each opens the locked log, runs, prints the outcome (text, or JSON with
//! `--output json`), and exits non-zero when a decision failed (`exit::ERROR`) or another run
//! held the lock (`exit::LOCKED`).

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::app::{Action, Settings};
use crate::aws::AwsCloud;
use crate::cli::Output;
use crate::config::Config;
use crate::controller::{Job, Outcome};

use super::out::{out, outln};
use super::{exit, wiring};

pub fn run(
    global: &Settings,
    action: &Action,
    dry_run: bool,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let now = wiring::clock(global);
    let rt = wiring::runtime()?;
    // A tick (and `reconcile`, which every tick does) leaves its work to a run that holds the
    // log. A recording started or stopped by hand is work no other run does: it waits that run
    // out (`watch` beside an operator's `stop`).
    let wait = match action {
        Action::Start { .. } | Action::Stop { .. } => wiring::MANUAL_LOCK_WAIT,
        Action::Check | Action::Reconcile | Action::BudgetReset { .. } => wiring::LOCK_WAIT,
    };
    // A tick that finds the log taken is not a failure: the run holding it does this tick's
    // work, so a scheduler sees success. Work asked for by hand did not happen: exit 3.
    let tick = action.is_tick();
    let run = async {
        let cfg = wiring::config(global)?;
        run_waiting(global, &cfg, action, dry_run, now, wait).await
    };
    match rt.block_on(run)? {
        Some(outcome) => print_outcome(&outcome, output),
        None if tick => Ok(ExitCode::SUCCESS),
        None => Ok(exit::locked()),
    }
}

/// One run: reads the configuration afresh (so `watch` sees edits), takes the lock, acts.
/// `None` when another run held the lock.
pub async fn run_once(
    global: &Settings,
    action: &Action,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Outcome>> {
    let cfg = wiring::config(global)?;
    run_with(global, &cfg, action, dry_run, now).await
}

/// One run on a configuration already loaded (the Lambda handler reads it from S3 or the
/// environment). Takes the lock or lease, acts, and gives the log back whatever happened.
pub async fn run_with(
    global: &Settings,
    cfg: &Config,
    action: &Action,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Outcome>> {
    run_waiting(global, cfg, action, dry_run, now, wiring::LOCK_WAIT).await
}

/// `run_with`, waiting up to `wait` for another run's lock or lease.
async fn run_waiting(
    global: &Settings,
    cfg: &Config,
    action: &Action,
    dry_run: bool,
    now: DateTime<Utc>,
    wait: std::time::Duration,
) -> anyhow::Result<Option<Outcome>> {
    // Checked before the lock is taken: a set-up mistake holds up no other run. A budget reset
    // calls no AWS API, so it needs no credentials.
    let cloud = match action {
        Action::BudgetReset { .. } => AwsCloud::connect(&wiring::aws_settings(global, cfg)).await,
        _ => wiring::cloud(global, cfg).await?,
    };
    let Some(mut log) = wiring::locked_log_waiting(global, cfg, wait).await? else {
        return Ok(None);
    };
    let outcome = async {
        let mut job = Job {
            cloud: &cloud,
            cfg,
            log: &mut log,
            now,
            dry_run,
        };
        match action {
            Action::Check => job.check().await,
            Action::Reconcile => job.reconcile().await,
            Action::Start {
                nat,
                seconds,
                force,
            } => job.start(nat, *seconds, *force).await,
            Action::Stop { nat } => job.stop(nat.as_deref()).await,
            Action::BudgetReset { nat } => job.budget_reset(nat).await,
        }
    }
    .await;
    wiring::release(log).await;
    Ok(Some(outcome?))
}

/// The outcome on stdout: text, or one line of JSON (so `watch --output json` is JSON Lines).
pub fn print_outcome(outcome: &Outcome, output: Output) -> anyhow::Result<ExitCode> {
    if output.is_json() {
        outln!("{}", super::json::line(outcome)?)?;
    } else {
        out!("{outcome}")?;
    }
    Ok(if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::ERROR)
    })
}
