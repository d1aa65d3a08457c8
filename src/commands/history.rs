//! `nat-flowrec history`: every event of the log, oldest first, so each decision the job made can
//! be read back with its reason. `--output json` prints the events as JSON Lines: as they are
//! stored, with their enum values (`type`, `reason`, ...) in snake_case like every JSON output.

use std::process::ExitCode;

use super::out::outln;
use super::wiring;
use crate::app::Settings;
use crate::cli::HistoryArgs;
use crate::core::State;
use crate::core::estimate::{estimate_checks, mean_absolute_error_pct};
use crate::core::event::rfc3339;

pub fn run(global: &Settings, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let cfg = wiring::config(global)?;
    let log = wiring::runtime()?.block_on(wiring::read_log(global, &cfg))?;
    let events = log.events().iter().filter(|e| match &args.nat {
        None => true,
        Some(nat) => e.event.nat_gateway_id() == Some(nat.as_str()),
    });
    let json = args.output.format().is_json();
    let mut any = false;
    for envelope in events {
        any = true;
        if json {
            outln!("{}", super::json::line(envelope)?)?;
        } else {
            outln!(
                "{:>5} {} {}",
                envelope.seq,
                rfc3339(&envelope.at),
                envelope.event
            )?;
        }
    }
    if !any && !json {
        outln!("no events in {}", cfg.state.display())?;
    }
    if !json {
        let checks: Vec<_> = estimate_checks(&State::fold(log.events()))
            .into_iter()
            .filter(|c| args.nat.as_ref().is_none_or(|nat| &c.nat_gateway_id == nat))
            .collect();
        if let Some(mean) = mean_absolute_error_pct(&checks) {
            outln!("\nestimates before the start against what the recordings measured:")?;
            for check in &checks {
                outln!("  {check}")?;
            }
            outln!(
                "  mean absolute error {mean:.0}% over {} recording(s); the next estimate is calibrated by the median of the last ten",
                checks.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
