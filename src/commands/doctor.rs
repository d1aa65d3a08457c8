//! `nat-flowrec doctor`: reads the configuration, runs the read-only checks of `doctor` against
//! AWS, prints the findings (text: the problems with their fix commands; `--output json`: every
//! check) and exits 1 when one is an error (`--strict`: a warning too), so a CI job or a cron
//! mail can act on it while a missing endpoint that only costs money does not fail the set-up.

use std::process::ExitCode;

use crate::app::Settings;
use crate::cli::DoctorArgs;
use crate::core::watch_cost::watch_cost;
use crate::doctor::{self, DoctorInput, Severity};

use super::out::{out, outln};
use super::{exit, wiring};

/// The history doctor measures the trigger against (CloudWatch keeps minutes for 15 days).
const HISTORY_DAYS: u32 = 14;

pub fn run(global: &Settings, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let cfg = wiring::config(global)?;
    let nats = if args.nats.is_empty() {
        &cfg.nat_gateway_ids
    } else {
        &args.nats
    };
    let nats: Vec<String> = nats.iter().map(ToString::to_string).collect();
    let rt = wiring::runtime()?;
    let diagnosis = rt.block_on(async {
        let cloud = wiring::cloud(global, &cfg).await?;
        let region = cfg
            .region
            .clone()
            .map(|r| r.to_string())
            .or_else(|| cloud.ec2.config().region().map(|r| r.to_string()))
            .unwrap_or_else(|| "<region>".to_owned());
        let input = DoctorInput {
            nat_gateway_ids: &nats,
            region: &region,
            recording: &cfg.recording,
            sns_topic_arn: cfg.notify.sns_topic_arn.as_ref(),
            services_seen: doctor::services_seen(&cfg.report.out_dir),
            watch_cost: cfg.trigger.mode.reads_metrics().then(|| {
                let rules: Vec<_> = nats.iter().map(|id| cfg.rule_for(id)).collect();
                let by_nat: Vec<_> = nats.iter().map(String::as_str).zip(&rules).collect();
                watch_cost(
                    &by_nat,
                    cfg.trigger.metrics_api,
                    cfg.trigger.free_tier_share,
                )
            }),
            trigger_history: if cfg.trigger.mode.reads_metrics() {
                let read = super::trigger::history(
                    &cloud.cloudwatch,
                    &cfg,
                    &nats,
                    HISTORY_DAYS,
                    super::trigger::DEFAULT_INGESTION_PER_MINUTE,
                    wiring::clock(global),
                );
                Some(read.await)
            } else {
                None
            },
        };
        anyhow::Ok(doctor::diagnose(&cloud, &input).await)
    })?;
    if args.output.format().is_json() {
        outln!("{}", diagnosis.to_json()?)?;
    } else {
        out!("{}", diagnosis.text(wiring::colour(&std::io::stdout())))?;
    }
    let fails_at = if args.strict {
        Severity::Warning
    } else {
        Severity::Error
    };
    Ok(if diagnosis.worst() >= fails_at {
        ExitCode::from(exit::ERROR)
    } else {
        ExitCode::SUCCESS
    })
}
