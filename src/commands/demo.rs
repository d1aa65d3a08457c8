//! `nat-flowrec demo`: the whole loop on a simulated account, no AWS needed. A NAT gateway with
//! steady traffic spikes; the same controller `check` runs minute by minute on a simulated clock:
//! it starts a recording, stops it, and once the recording settled exports what its flow logs
//! delivered, reports it (with its coverage against the NAT's metrics) and publishes the
//! notification, exactly as the scheduled job does against AWS. What it prints is what a user
//! would see from the real job over those minutes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use nat_flowrec_reports::{DEFAULT_REGION, render};

use super::out::{out, outln};
use super::wiring;
use crate::app::Settings;
use crate::cli::DemoArgs;
use crate::config::{Config, DEMO_NAT_GATEWAY_ID};
use crate::controller::Job;
use crate::core::State;
use crate::finish::report;
use crate::ports::NetworkInterface;
use crate::sim::{SimCloud, SimNat, Spike};
use crate::store::EventLog;

/// The simulated clock starts here (fixed, so every demo tells the same story).
const START: &str = "2026-01-15T10:00:00Z";
/// Minutes the demo runs `check` for.
const MINUTES: i64 = 45;
const BASELINE_NOTE: &str = "about 20 MB a minute";
const SPIKE_BYTES_PER_MINUTE: u64 = 600_000_000;

pub fn run(_global: &Settings, args: &DemoArgs) -> anyhow::Result<ExitCode> {
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
    outln!(
        "nat-flowrec demo: a simulated account (no AWS calls). NAT gateway {DEMO_NAT_GATEWAY_ID} carries {BASELINE_NOTE}\nand spikes to {} a minute from {} to {}. The trigger: {}.\nWorking folder: {}\n",
        crate::core::trigger::amount_in_words(&cfg.trigger.rule(), SPIKE_BYTES_PER_MINUTE as f64),
        spike.start.format("%H:%MZ"),
        spike.end.format("%H:%MZ"),
        crate::core::trigger::rule_in_words(&cfg.trigger.rule()),
        dir.display()
    )?;
    let sim = SimCloud::new(t0)
        .with_nat(SimNat::new(DEMO_NAT_GATEWAY_ID, 0))
        .with_spike(spike);
    seed_owners(&sim);
    let mut log = EventLog::open(&cfg.state, wiring::LOCK_WAIT)?;

    let rt = wiring::runtime()?;
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
            outln!("{} {}", now.format("%H:%MZ"), envelope.event)?;
        }
        for failure in &outcome.failures {
            outln!("{} failed: {failure}", now.format("%H:%MZ"))?;
        }
    }

    let state = State::fold(log.events());
    let finished: Vec<_> = state
        .recordings
        .iter()
        .filter(|r| r.reported.is_some())
        .collect();
    if finished.is_empty() {
        anyhow::bail!("the demo reported nothing: the simulated spike did not trigger (a bug)");
    }
    let mut pages = Vec::new();
    for rec in finished {
        let measured = rt.block_on(report::measure(&sim, rec, &cfg))?;
        let region = cfg.region.as_deref().unwrap_or(DEFAULT_REGION);
        let mut built = report::build(rec, &cfg, region, &measured)?;
        if let Some(dir) = &rec.reported {
            let report_dir = PathBuf::from(&dir.dir);
            // The same 30-day month as the e-mail, so both quote the same savings.
            if let Some(month) = report_dir.parent().and_then(crate::finish::month::load) {
                built.set_month(month);
            }
            pages.push(report_dir.join("report.html"));
        }
        built.cut_to_top(cfg.report.top);
        outln!("\nThe report of recording {}:\n", rec.recording_id)?;
        out!("{}", render::terminal(&built))?;
    }
    for (message_id, message) in sim.published() {
        outln!(
            "\nSNS message {message_id} to {}:\nSubject: {}",
            message.topic_arn,
            message.subject
        )?;
        let body: serde_json::Value = serde_json::from_str(&message.message)?;
        out!("{}", body["email"].as_str().unwrap_or_default())?;
    }
    outln!(
        "\nReport files (CSV, report.json, report.md, report.html, email.txt) are in {}.\nEvery decision, replayed: nat-flowrec --config {} history",
        cfg.report.out_dir.display(),
        dir.join("nat-flowrec.toml").display()
    )?;
    for page in &pages {
        outln!("The report with charts, for a browser: {}", page.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Who the simulated hosts are, so the demo's report names its talkers as a real account's
/// would: instances with their `Name` tags, and a Lambda function's interface.
fn seed_owners(sim: &SimCloud) {
    const INSTANCES: &[(&str, &str, &str)] = &[
        ("10.0.1.42", "i-0d3e00000000000a1", "nightly-restore"),
        ("10.0.1.5", "i-0d3e00000000000a2", "web-1"),
        ("10.0.1.6", "i-0d3e00000000000a3", "api-1"),
        ("10.0.1.7", "i-0d3e00000000000a4", "worker-1"),
    ];
    for (n, (address, instance, name)) in INSTANCES.iter().enumerate() {
        sim.add_interface(NetworkInterface {
            id: format!("eni-0d3e00000000001{n:02}"),
            instance_id: Some((*instance).to_owned()),
            addresses: address.parse().into_iter().collect(),
            ..NetworkInterface::default()
        });
        sim.add_instance(instance, Some(name));
    }
    sim.add_interface(NetworkInterface {
        id: "eni-0d3e0000000000200".to_owned(),
        interface_type: Some("lambda".to_owned()),
        description: Some("AWS Lambda VPC ENI-report-builder-0d3e".to_owned()),
        requester_managed: true,
        addresses: "10.0.2.9".parse().into_iter().collect(),
        ..NetworkInterface::default()
    });
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
