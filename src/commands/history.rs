//! `nat-flowrec history`: every event of the log, oldest first, so each decision the job made can
//! be read back with its reason. `--output json` prints the events as JSON Lines: as they are
//! stored, with their enum values (`type`, `reason`, ...) in snake_case like every JSON output.

use std::process::ExitCode;

use super::out::outln;
use super::wiring;
use crate::app::Settings;
use crate::cli::HistoryArgs;
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
    Ok(ExitCode::SUCCESS)
}
