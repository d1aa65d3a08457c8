//! `nat-flowrec demo`: the whole loop on a simulated account, no AWS needed. A NAT gateway with
//! steady traffic spikes; the same controller `check` runs minute by minute on a simulated clock,
//! starts a recording, stops it; the records its flow logs captured are exported and reported.
//! What it prints is what a user would see from the real job over those minutes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};
use nat_flowrec_reports::{ReportOptions, build_report, render};

use super::setup;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::config::{Config, DEMO_NAT_GATEWAY_ID};
use crate::controller::Job;
use crate::core::{Event, Recording, State};
use crate::sim::{SimCloud, SimNat, Spike};
use crate::store::EventLog;

/// The simulated clock starts here (fixed, so every demo tells the same story).
const START: &str = "2026-01-15T10:00:00Z";
/// Minutes the demo runs `check` for.
const MINUTES: i64 = 45;
const BASELINE_NOTE: &str = "about 20 MB a minute";
const SPIKE_BYTES_PER_MINUTE: u64 = 600_000_000;

pub fn run(_global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = work_dir(args.dir.as_deref())?;
    let cfg = Config::demo(&dir);
    write_config(&dir, &cfg)?;
    let t0: DateTime<Utc> = DateTime::parse_from_rfc3339(START)?.with_timezone(&Utc);
    let spike = Spike {
        nat_gateway_id: DEMO_NAT_GATEWAY_ID.to_string(),
        start: t0 + TimeDelta::minutes(10),
        end: t0 + TimeDelta::minutes(25),
        bytes_per_minute: SPIKE_BYTES_PER_MINUTE,
    };
    println!(
        "nat-flowrec demo: a simulated account (no AWS calls). NAT gateway {DEMO_NAT_GATEWAY_ID} carries {BASELINE_NOTE}\nand spikes to {} MB a minute from {} to {}. The trigger: {} of the last {} minutes above {} MB.\nWorking folder: {}\n",
        SPIKE_BYTES_PER_MINUTE / 1_000_000,
        spike.start.format("%H:%MZ"),
        spike.end.format("%H:%MZ"),
        cfg.trigger.datapoints_to_alarm,
        cfg.trigger.evaluation_periods,
        cfg.trigger.threshold_bytes / 1_000_000,
        dir.display()
    );
    let sim = SimCloud::new(t0)
        .with_nat(SimNat::new(DEMO_NAT_GATEWAY_ID, 0))
        .with_spike(spike);
    let mut log = EventLog::open(&cfg.state, setup::LOCK_WAIT)?;

    let rt = setup::runtime()?;
    for minute in 0..=MINUTES {
        let now = t0 + TimeDelta::minutes(minute);
        sim.set_now(now);
        let before = log.events().len();
        let outcome = rt.block_on(
            Job {
                cloud: &sim,
                cfg: &cfg,
                log: &mut log,
                now,
                dry_run: false,
            }
            .check(),
        )?;
        for envelope in &log.events()[before..] {
            println!("{} {}", now.format("%H:%MZ"), envelope.event);
        }
        for failure in &outcome.failures {
            println!("{} failed: {failure}", now.format("%H:%MZ"));
        }
    }

    let state = State::fold(log.events());
    let stopped: Vec<&Recording> = state.recordings.iter().filter(|r| r.stopped.is_some()).collect();
    if stopped.is_empty() {
        anyhow::bail!("the demo recorded nothing: the simulated spike did not trigger (a bug)");
    }
    let at = t0 + TimeDelta::minutes(MINUTES);
    for rec in stopped {
        let folder = cfg.report.out_dir.join(&rec.recording_id);
        let (files, records, bytes) = export(&sim, rec, &folder)?;
        log.append(
            vec![Event::Exported {
                recording_id: rec.recording_id.clone(),
                files: files.iter().map(|f| f.display().to_string()).collect(),
                records,
                bytes,
            }],
            at,
        )?;
        let report = build_report(
            &[folder.clone()],
            &ReportOptions {
                nat_ips: rec.nat_ips.clone(),
                top: cfg.report.top,
                ..ReportOptions::default()
            },
        )?;
        let report_dir = folder.join("report");
        render::write_out_dir(&report, &report_dir)
            .with_context(|| format!("cannot write the report into {}", report_dir.display()))?;
        log.append(
            vec![Event::Reported {
                recording_id: rec.recording_id.clone(),
                dir: report_dir.display().to_string(),
            }],
            at,
        )?;
        println!(
            "\nexported {records} records of recording {} ({} files) to {}\n",
            rec.recording_id,
            files.len(),
            folder.display()
        );
        print!("{}", render::terminal(&report));
    }
    println!(
        "\nReport files (CSV, report.json, report.md) are in {}.\nEvery decision, replayed: nat-flowrec --config {} history",
        cfg.report.out_dir.display(),
        dir.join("nat-flowrec.toml").display()
    );
    Ok(ExitCode::SUCCESS)
}

fn work_dir(chosen: Option<&Path>) -> anyhow::Result<PathBuf> {
    match chosen {
        Some(dir) => {
            if dir.join("events.jsonl").exists() {
                anyhow::bail!(
                    "{} already holds a demo's event log; choose an empty folder (the demo's story starts from nothing)",
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            Ok(dir.to_path_buf())
        }
        None => Ok(tempfile::Builder::new()
            .prefix("nat-flowrec-demo-")
            .tempdir()
            .context("cannot create a temporary folder for the demo")?
            .keep()),
    }
}

/// The demo's configuration beside its state, so `status` and `history` can read it afterwards.
fn write_config(dir: &Path, cfg: &Config) -> anyhow::Result<()> {
    let text = toml::to_string(cfg).context("cannot encode the demo configuration")?;
    render::write_atomically(&dir.join("nat-flowrec.toml"), text.as_bytes())
        .with_context(|| format!("cannot write the demo configuration into {}", dir.display()))
}

/// One export file per ENI: what the recording's flow logs captured from start to stop.
fn export(sim: &SimCloud, rec: &Recording, folder: &Path) -> anyhow::Result<(Vec<PathBuf>, u64, u64)> {
    let format_text = rec.log_format.clone().unwrap_or_else(|| LogFormat::default().to_string());
    let format = LogFormat::parse(&format_text)?;
    let stop = rec.stopped.as_ref().map_or(rec.deadline, |s| s.at);
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let (mut files, mut records, mut bytes) = (Vec::new(), 0, 0);
    for eni in &rec.enis {
        let events = sim.captured_events_in(&format_text, rec.started_at, stop, std::slice::from_ref(eni))?;
        let meta = ExportMeta {
            format: format.clone(),
            recording_id: Some(rec.recording_id.clone()),
            nat_gateway_id: Some(rec.nat_gateway_id.clone()),
            interface_id: Some(eni.clone()),
            nat_ips: rec.nat_ips.clone(),
            window_start: Some(rec.started_at.timestamp()),
            window_end: Some(stop.timestamp()),
        };
        let path = folder.join(format!("{eni}.log.gz"));
        let mut writer = ExportWriter::create(&path, &meta)?;
        for (ts, line) in &events {
            writer.write_event(*ts, line)?;
            bytes += line.len() as u64 + 1;
        }
        records += writer.events();
        files.push(writer.finish()?);
    }
    Ok((files, records, bytes))
}
