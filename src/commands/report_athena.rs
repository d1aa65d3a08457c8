//! `nat-flowrec report --engine athena (--recording ID | s3://bucket/prefix/)`: the report of
//! flow logs delivered to S3, aggregated by Amazon Athena (the leg rule in SQL), printed like any
//! report. The workgroup, the result location and the database come from the configuration's
//! `[athena]`; a recording's flow logs are those in its own S3 destination. Remotes are named as
//! in a report of files (AWS's ranges; `--dns` query logs for a prefix). Reads the event log
//! without locking it and appends nothing.

use std::process::ExitCode;

use anyhow::Context;
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{DnsAnswers, NameSources, render};

use super::wiring;
use crate::app::Settings;
use crate::cli::ReportArgs;
use crate::finish::athena::{self, Asked, Subject};

pub fn run(global: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let cfg = wiring::config(global)?;
    let Some(athena_cfg) = cfg.athena.clone() else {
        anyhow::bail!(
            "--engine athena needs an [athena] table in {} with output_location = \"s3://bucket/prefix/\" (where Athena writes query results); `nat-flowrec init` writes an example",
            global.config.display()
        );
    };
    let prefix = match (&args.recording, args.paths.as_slice()) {
        (Some(_), _) => None,
        (None, [path]) => match path.to_str().filter(|p| p.starts_with("s3://")) {
            Some(uri) => Some(uri.to_owned()),
            None => anyhow::bail!(
                "--engine athena reads flow logs in S3: give s3://bucket/prefix/ or --recording ID, not {}",
                path.display()
            ),
        },
        (None, _) => anyhow::bail!(
            "--engine athena reads one S3 prefix (s3://bucket/prefix/) or --recording ID"
        ),
    };
    let format = match &args.format {
        Some(text) => LogFormat::parse(text).with_context(|| format!("--format `{text}`"))?,
        None => LogFormat::parse(&cfg.recording.log_format)
            .with_context(|| format!("recording.log_format `{}`", cfg.recording.log_format))?,
    };
    // As for files: the remote names' table needs every conversation, cut to --top after.
    let dns = if args.dns.is_empty() {
        None
    } else {
        Some(DnsAnswers::read(&args.dns, None).context("reading the DNS query logs (--dns)")?)
    };
    let asked = Asked {
        top: if dns.is_some() { 0 } else { args.top },
        now: wiring::clock(global),
    };
    let rt = wiring::runtime()?;
    let report = rt.block_on(async {
        let cloud = wiring::cloud(global, &cfg).await?;
        let report = match &prefix {
            Some(uri) => {
                let subject = Subject::Prefix {
                    uri,
                    format: &format,
                };
                athena::report(&cloud, subject, &cfg, &athena_cfg, asked).await?
            }
            None => {
                let recording_id = args.recording.as_deref().unwrap_or_default();
                let rec = wiring::recording(global, &cfg, recording_id).await?;
                athena::report(&cloud, Subject::Recording(&rec), &cfg, &athena_cfg, asked).await?
            }
        };
        anyhow::Ok(report)
    })?;
    let mut report = report;
    let ranges = super::update_ip_ranges::load(&global.config);
    report.name_remotes(&NameSources {
        dns: dns.as_ref(),
        ranges: Some(&ranges),
        max_age_seconds: cfg.report.dns_max_age_seconds,
    });
    if dns.is_some() {
        report.cut_to_top(args.top);
    }
    if let Some(dir) = &args.out {
        render::write_out_dir(&report, dir)
            .with_context(|| format!("writing the report files to {}", dir.display()))?;
    }
    super::report::print(&report, args, global.log.quiet)?;
    Ok(ExitCode::SUCCESS)
}
