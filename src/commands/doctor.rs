//! `nat-flowrec doctor`: reads the configuration, runs the read-only checks of `doctor` against
//! AWS, prints the findings (text: the problems with their fix commands; `--output json`: every
//! check) and exits 1 when one needs a fix, so a CI job or a cron mail can act on it.

use std::process::ExitCode;

use crate::cli::{DoctorArgs, GlobalArgs, Output};
use crate::doctor::{self, DoctorInput};

use super::{exit, setup};

pub fn run(global: &GlobalArgs, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let cfg = setup::config(global)?;
    let nats = if args.nats.is_empty() {
        cfg.nat_gateway_ids.clone()
    } else {
        args.nats.clone()
    };
    let rt = setup::runtime()?;
    let diagnosis = rt.block_on(async {
        let cloud = setup::cloud(global, &cfg).await;
        let region = cfg
            .region
            .clone()
            .or_else(|| cloud.ec2.config().region().map(|r| r.to_string()))
            .unwrap_or_else(|| "<region>".to_owned());
        let input = DoctorInput {
            nat_gateway_ids: &nats,
            region: &region,
            recording: &cfg.recording,
            sns_topic_arn: &cfg.notify.sns_topic_arn,
            services_seen: doctor::services_seen(&cfg.report.out_dir),
        };
        doctor::diagnose(&cloud, &input).await
    });
    match args.output.format() {
        Output::Text => print!("{diagnosis}"),
        Output::Json => println!("{}", diagnosis.to_json()?),
    }
    Ok(if diagnosis.needs_fixing() {
        ExitCode::from(exit::ERROR)
    } else {
        ExitCode::SUCCESS
    })
}
