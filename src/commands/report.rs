//! `nat-flowrec report`: turns the user's flags into `ReportOptions`, builds the report from the
//! given files and folders, and prints it in the chosen form (terminal text, `--csv`, `--json`,
//! `--markdown`, `--output html`), optionally also writing every table under `--out DIR`.
//!
//! A recording folder (nat-flowrec's export files) is attributed: its hosts named from the
//! folder's `.owners.json`, or from AWS when that does not cover them (`--enrich` always asks,
//! `--no-enrich` never does); plain files only with `--enrich` (see `attribution`). Under
//! `--enrich`, the profile asked for and the credentials are checked as every AWS command
//! checks them, before any file is read.
//!
//! `--dns FILE...` names the remote addresses from Route 53 Resolver query logs (see the reports
//! crate's `remote_names`); a query-log file that cannot be read is an error, before any output.
//! Remotes without a name whose records name no AWS service are labelled from AWS's ranges
//! (`update-ip-ranges`).
//!
//! Exit status: 0 when every file was read; 1 when a file could not be read (each such file is
//! named on stderr, the others are still reported) or `--strict` met a malformed line.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{
    DEFAULT_DNS_MAX_AGE_SECONDS, DnsAnswers, NameSources, Prices, Report, ReportOptions,
    build_report, render,
};

use super::wiring;
use crate::app::Settings;
use crate::attribution::{self, EnrichMode, Plan};
use crate::aws::{AwsCloud, AwsSettings};
use crate::cli::{ReportArgs, ReportEngine, ReportOutput};
use crate::config::Config;

pub fn run(global: &Settings, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    if args.engine == ReportEngine::Athena {
        return super::report_athena::run(global, args);
    }
    if args.recording.is_some() {
        return super::report_insights::run(global, args);
    }
    let default_format = match &args.format {
        Some(text) => LogFormat::parse(text).with_context(|| format!("--format `{text}`"))?,
        None => LogFormat::default(),
    };
    let plan = Plan::new(
        enrich_mode(args),
        &args.paths,
        &default_format,
        &args.nat_ips,
    );
    let rt = wiring::runtime()?;
    let settings = aws_settings(global, &plan);
    // `--enrich` asks AWS whatever the cache holds: a profile that does not exist, or no
    // credentials, is the user's error, said before any file is read, rather than a warning
    // in a report attributed from nothing or from another account.
    let checked = match plan.mode {
        EnrichMode::Always => Some(rt.block_on(AwsCloud::connect_checked(&settings))?),
        EnrichMode::Auto | EnrichMode::Never => None,
    };
    let (mut opts, dns_max_age) = options(global, args, default_format, plan.region())?;
    // The cross-AZ total and the remote names' table need every conversation: build whole,
    // attribute and name, then cut to --top.
    // A recording's folder holds its VPC's DNS queries when the job recorded them: they name the
    // remotes offline too, unless --dns gives others.
    let recorded_dns: Vec<PathBuf> = match plan.folders.as_slice() {
        [folder] if args.dns.is_empty() => crate::finish::dns_export::dns_file(&folder.dir)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let dns_files = if args.dns.is_empty() {
        &recorded_dns
    } else {
        &args.dns
    };
    let naming = !dns_files.is_empty();
    if plan.active() || naming {
        opts.top = 0;
    }
    let dns = if naming {
        Some(DnsAnswers::read(dns_files, None).context("reading the DNS query logs (--dns)")?)
    } else {
        None
    };
    let mut report = build_report(&args.paths, &opts)?;
    // Without --dns the report is not built whole: AWS's ranges label the rows --top keeps.
    let ranges = super::update_ip_ranges::load(&global.config);
    report.name_remotes(&NameSources {
        dns: dns.as_ref(),
        ranges: Some(&ranges),
        max_age_seconds: dns_max_age,
    });
    // A recording's folder keeps the NAT's last 30 days: its monthly figures, offline too.
    if let [folder] = plan.folders.as_slice()
        && let Some(month) = crate::finish::month::load(&folder.dir)
    {
        report.set_month(month);
    }
    // And the NAT's metrics around the recording: the same spike chart as the job's.
    if let [folder] = plan.folders.as_slice() {
        report.nat_metrics = crate::finish::report::load_metrics(&folder.dir);
    }
    if plan.active() && report.summary.files_read > 0 {
        let lookup = Lookup { settings, checked };
        rt.block_on(attribute(global, args, &plan, lookup, &mut report));
    } else if plan.active() || naming {
        report.cut_to_top(args.top);
    }

    for failure in &report.summary.files_failed {
        eprintln!("nat-flowrec: {}", failure.error);
    }
    // Nothing was readable: an empty report would only hide the errors above.
    if report.summary.files_read == 0 && report.has_failures() {
        return Ok(ExitCode::from(1));
    }

    if let Some(dir) = &args.out {
        render::write_out_dir(&report, dir)
            .with_context(|| format!("writing the report files to {}", dir.display()))?;
        if !global.log.quiet {
            eprintln!(
                "nat-flowrec: wrote {} report files to {}",
                render::OUT_FILES.len(),
                dir.display()
            );
        }
    }

    print(&report, args, global.log.quiet).context("writing the report to stdout")?;
    Ok(if report.has_failures() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn enrich_mode(args: &ReportArgs) -> EnrichMode {
    if args.no_enrich {
        EnrichMode::Never
    } else if args.enrich {
        EnrichMode::Always
    } else {
        EnrichMode::Auto
    }
}

/// How owners and AZs are looked up in AWS; under `--enrich`, with clients already checked.
struct Lookup {
    settings: AwsSettings,
    checked: Option<AwsCloud>,
}

/// Owners and AZs from the recording's cache or from AWS (`attribution`), endpoint commands for
/// the NAT's VPC; AWS is only contacted when the cache does not cover the report (always
/// under `--enrich`).
async fn attribute(
    global: &Settings,
    args: &ReportArgs,
    plan: &Plan,
    lookup: Lookup,
    report: &mut Report,
) {
    let now = wiring::clock(global);
    attribution::enrich(plan, report, args.top, now, async || {
        let cloud = match lookup.checked {
            Some(cloud) => cloud,
            None => AwsCloud::connect(&lookup.settings).await,
        };
        let region = cloud.ec2.config().region().map(|r| r.to_string());
        (cloud, region)
    })
    .await;
}

/// The AWS settings of the lookup: the NAT's own region, as its export
/// files name it, unless `--region` says otherwise.
fn aws_settings(global: &Settings, plan: &Plan) -> AwsSettings {
    AwsSettings {
        region: global
            .region
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| plan.region().map(str::to_owned)),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

/// The flags, validated and resolved into what the library needs, and how old a DNS answer
/// may be to name a remote. The prices are those of `--price-region`, else `--region`, else the
/// region a recording folder's export files name, else the configuration's (when its file
/// exists); price flags win over the config's keys.
fn options(
    global: &Settings,
    args: &ReportArgs,
    default_format: LogFormat,
    recorded_region: Option<&str>,
) -> anyhow::Result<(ReportOptions, u32)> {
    let cfg = if global.config.is_file() {
        Some(Config::load(&global.config)?)
    } else {
        None
    };
    let region = args
        .price_region
        .as_deref()
        .or(global.region.as_deref())
        .or(recorded_region)
        .or(cfg.as_ref().and_then(|c| c.region.as_deref()));
    let mut overrides = cfg
        .as_ref()
        .map(|c| c.report.price_overrides())
        .unwrap_or_default();
    overrides.nat_per_gb = args.nat_price_per_gb.or(overrides.nat_per_gb);
    let prices = Prices::resolve(region, &overrides)?;
    let dns_max_age = cfg.as_ref().map_or(DEFAULT_DNS_MAX_AGE_SECONDS, |c| {
        c.report.dns_max_age_seconds
    });
    let opts = ReportOptions {
        default_format,
        nat_ips: args.nat_ips.clone(),
        top: args.top,
        strict: args.strict,
        prices,
    };
    Ok((opts, dns_max_age))
}

/// Writes the chosen rendering to stdout.
pub(super) fn print(report: &Report, args: &ReportArgs, quiet: bool) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.output() {
        ReportOutput::Csv => {
            // The CSV holds only the talkers: the caveats would otherwise be invisible.
            if !quiet {
                for warning in &report.summary.warnings {
                    eprintln!("nat-flowrec: warning: {warning}");
                }
            }
            render::csv::talkers_csv(report, &mut out)?;
        }
        ReportOutput::Json => out.write_all(render::json(report)?.as_bytes())?,
        ReportOutput::Markdown => out.write_all(render::markdown(report).as_bytes())?,
        ReportOutput::Html => out.write_all(render::html(report)?.as_bytes())?,
        ReportOutput::Text | ReportOutput::Table => {
            out.write_all(render::terminal(report).as_bytes())?
        }
    }
    out.flush()?;
    Ok(())
}
