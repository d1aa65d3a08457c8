//! `nat-flowrec report --engine insights --recording ID`: the report of a recording too large
//! to download, aggregated server-side by CloudWatch Logs Insights (the leg rule in the query,
//! the 10,000-row limit handled by splitting the window), printed like any report. Reads the
//! event log without locking it and appends nothing.

use std::process::ExitCode;

use anyhow::Context;
use nat_flowrec_reports::render;

use super::wiring;
use crate::app::Settings;
use crate::cli::{ReportArgs, ReportEngine};
use crate::finish::insights;

pub fn run(global: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let Some(recording_id) = &args.recording else {
        anyhow::bail!("--engine insights needs --recording ID (`nat-flowrec history` lists them)");
    };
    if args.engine != ReportEngine::Insights {
        anyhow::bail!(
            "--recording {recording_id} reports a recording from CloudWatch Logs Insights: add --engine insights (or export it with `nat-flowrec export --recording {recording_id}` and report the files)"
        );
    }
    let now = wiring::clock(global);
    let cfg = wiring::config(global)?;
    let work =
        tempfile::tempdir().context("cannot create a temporary folder for the query rows")?;
    let rt = wiring::runtime()?;
    let report = rt.block_on(async {
        let rec = wiring::recording(global, &cfg, recording_id).await?;
        let cloud = wiring::cloud(global, &cfg).await?;
        anyhow::Ok(insights::report(&cloud, &rec, &cfg, now, work.path()).await?)
    })?;
    if let Some(dir) = &args.out {
        render::write_out_dir(&report, dir)
            .with_context(|| format!("writing the report files to {}", dir.display()))?;
    }
    super::report::print(&report, args, global.log.quiet)?;
    Ok(ExitCode::SUCCESS)
}
