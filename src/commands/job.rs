//! The commands that act on AWS through one `Job`: `check`, `reconcile`, `start`, `stop`,
//! `budget reset`. Each opens the locked log, runs, prints the outcome, and exits non-zero when
//! a decision failed.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::cli::{BudgetCommand, GlobalArgs, StartArgs, StopArgs};
use crate::controller::{Job, Outcome};

use super::setup;

/// Which of the job's operations to run.
pub enum Action<'a> {
    Check,
    Reconcile,
    Start(&'a StartArgs),
    Stop(&'a StopArgs),
    Budget(&'a BudgetCommand),
}

pub fn run(global: &GlobalArgs, action: Action<'_>, dry_run: bool) -> anyhow::Result<ExitCode> {
    let now = setup::clock(global)?;
    let rt = setup::runtime()?;
    match rt.block_on(run_once(global, action, dry_run, now))? {
        Some(outcome) => Ok(print_outcome(&outcome)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// One run: reads the configuration afresh (so `watch` sees edits), takes the lock, acts.
/// `None` when another run held the lock.
pub async fn run_once(
    global: &GlobalArgs,
    action: Action<'_>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Outcome>> {
    let cfg = setup::config(global)?;
    let Some(mut log) = setup::locked_log(&cfg.state)? else {
        return Ok(None);
    };
    let cloud = setup::cloud(global, &cfg).await;
    let mut job = Job {
        cloud: &cloud,
        cfg: &cfg,
        log: &mut log,
        now,
        dry_run,
    };
    let outcome = match action {
        Action::Check => job.check().await,
        Action::Reconcile => job.reconcile().await,
        Action::Start(args) => job.start(&args.nat, args.seconds, args.force).await,
        Action::Stop(args) => job.stop(args.target.nat.as_deref()).await,
        Action::Budget(BudgetCommand::Reset { nat }) => job.budget_reset(nat),
    }?;
    Ok(Some(outcome))
}

pub fn print_outcome(outcome: &Outcome) -> ExitCode {
    print!("{outcome}");
    if outcome.decisions.is_empty() && outcome.nats.is_empty() {
        println!("nothing to do");
    }
    if outcome.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
