//! `nat-flowrec watch`: `check` every interval, on the system clock, until SIGINT or SIGTERM.
//! A signal during a tick lets the tick finish (no half-done AWS change, no half-written event)
//! and then ends the loop.

use std::process::ExitCode;

use chrono::Utc;

use super::job;
use super::wiring;
use crate::app::{Action, Settings};
use crate::cli::WatchArgs;

pub fn run(global: &Settings, args: &WatchArgs) -> anyhow::Result<ExitCode> {
    if global.now.is_some() {
        anyhow::bail!(
            "watch runs on the system clock; --now is for single runs (check, start, stop, ...)"
        );
    }
    let rt = wiring::runtime()?;
    rt.block_on(async {
        let mut stop = shutdown_signal()?;
        let mut failed = false;
        loop {
            match job::run_once(global, &Action::Check, args.dry_run.dry_run, Utc::now()).await {
                Ok(Some(outcome)) => {
                    failed |=
                        job::print_outcome(&outcome, args.output.format())? != ExitCode::SUCCESS
                }
                Ok(None) => {}
                // A failed tick is reported; the next tick tries again (AWS may be back).
                Err(err) => {
                    failed = true;
                    tracing::error!("{err:#}");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(args.interval) => {}
                _ = &mut stop => {
                    tracing::warn!("stopping (signal received)");
                    break;
                }
            }
        }
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// Resolves on the first SIGINT or SIGTERM; installed before the first tick, so a signal during
/// a tick is held until the tick is done.
fn shutdown_signal() -> anyhow::Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(Box::pin(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }))
}
