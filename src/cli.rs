//! What the user typed, validated by clap: one struct per subcommand, nothing else. The commands
//! in `commands/` turn these into the objects that do the work.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Record VPC Flow Logs on NAT gateways only while their traffic spikes, and report who talked
/// to whom, which AWS services went through the NAT, and what it cost.
#[derive(Debug, Parser)]
#[command(name = "nat-flowrec", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Configuration file (TOML).
    #[arg(long, global = true, default_value = "nat-flowrec.toml", env = "NAT_FLOWREC_CONFIG")]
    pub config: PathBuf,
    /// AWS region (overrides the config file and the SDK's default chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS shared-config profile to take credentials and region from.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// One endpoint URL for every AWS service (for emulators such as moto).
    #[arg(long, global = true, env = "NAT_FLOWREC_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The clock for this run, RFC 3339 (for replay and tests); default: the system clock.
    #[arg(long, global = true)]
    pub now: Option<String>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report on flow-log files: top talkers (NAT legs counted once), AWS services reached
    /// through the NAT, and what it cost.
    Report(ReportArgs),
    /// One tick of the scheduled job: reconcile with AWS, read the trigger, start or stop recordings.
    Check(CheckArgs),
    /// Run `check` every interval until interrupted (SIGINT/SIGTERM end it after the current tick).
    Watch(WatchArgs),
    /// What is recording now, and the budget left per NAT gateway.
    Status(StatusArgs),
    /// Every event in the log, oldest first: each decision the job made and why.
    History(HistoryArgs),
    /// Start a recording by hand.
    Start(StartArgs),
    /// Stop recordings by hand (their captured logs stay).
    Stop(StopArgs),
    /// Recording budget per NAT gateway.
    #[command(subcommand)]
    Budget(BudgetCommand),
    /// Make the event log and AWS agree: adopt or delete our flow logs the log does not know,
    /// mark recordings whose flow logs are gone as stopped.
    Reconcile(DryRunArgs),
    /// The whole loop on a simulated account (no AWS needed): spike, recording, stop, report.
    Demo(DemoArgs),
    /// Write a commented example configuration file.
    Init(InitArgs),
    /// Write a seeded synthetic flow-log file in the default format (benchmarks, demos).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Show what would change in AWS and in the event log, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Time between ticks, e.g. `60s`, `5m`.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// As JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// As JSON Lines (the events themselves).
    #[arg(long)]
    pub json: bool,
    /// Only events about this NAT gateway.
    #[arg(long)]
    pub nat: Option<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The NAT gateway to record.
    #[arg(long)]
    pub nat: String,
    /// Recording time in seconds (default: the config's recording_seconds; never past
    /// max_recording_seconds).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Record even when the budget is spent.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct StopTarget {
    /// Stop this NAT gateway's recording.
    #[arg(long)]
    pub nat: Option<String>,
    /// Stop every active recording.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    #[command(flatten)]
    pub target: StopTarget,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Start counting a NAT gateway's recordings afresh (an event: history is never rewritten).
    Reset {
        #[arg(long)]
        nat: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's event log, exports and report (default: a new temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `90`, `90s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use e.g. 30s, 5m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{text}`: unknown unit `{unit}`, use s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Flow-log files or folders (recursed): plain, gzip, S3-delivered with header, or export files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Log format of files that do not name their own (`${field} ...`, as CreateFlowLogs takes it).
    #[arg(long)]
    pub format: Option<String>,
    /// The NAT gateway's private address(es), to find the VPC side where the format has no pkt-* fields.
    #[arg(long = "nat-ip")]
    pub nat_ips: Vec<IpAddr>,
    /// Rows per table (0 = all).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// The talkers table as CSV on stdout.
    #[arg(long, group = "output")]
    pub csv: bool,
    /// The whole report as one JSON object on stdout.
    #[arg(long, group = "output")]
    pub json: bool,
    /// The whole report as Markdown on stdout.
    #[arg(long, group = "output")]
    pub markdown: bool,
    /// Also write every table as CSV plus report.json and report.md into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Treat a malformed line as an error (default: count it and show examples).
    #[arg(long)]
    pub strict: bool,
    /// Region whose prices apply (default: the global --region, else us-east-1).
    #[arg(long = "price-region")]
    pub price_region: Option<String>,
    /// NAT data-processing price in USD per GB (10^9 bytes), overriding the price table.
    #[arg(long)]
    pub nat_price_per_gb: Option<f64>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of lines to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// Seed of the generator (same seed, same file).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file (`-` for stdout).
    #[arg(long, short, default_value = "-")]
    pub out: PathBuf,
}
