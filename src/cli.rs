//! What the user typed, validated by clap: one struct per subcommand, nothing else. The commands
//! in `commands/` turn these into the objects that do the work.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The exit codes, as `--help` and the man page show them (the numbers live in
/// `commands::exit`). A macro, so `concat!` can put it into the help text.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  done (also when there was nothing to do, and a check or reconcile that found another run
     holding the event log's lock: that run does the tick's work)
  1  error: configuration, AWS, the event log, or a decision that failed (the message says
     which); `doctor`: a check found an error (with --strict, a warning)
  2  usage: unknown command or option, or an invalid value
  3  another run holds the event log's lock: a command run by hand did nothing; run it again"
    };
}

/// The first steps, in `--help` and the man page.
macro_rules! examples {
    () => {
        "  nat-flowrec demo                        the whole loop on a simulated account
  nat-flowrec init                        write nat-flowrec.toml, then edit it
  nat-flowrec doctor                      check the VPC and the job's AWS set-up
  nat-flowrec check --dry-run             what one tick would do, changing nothing
  nat-flowrec watch --interval 60s        run the job in the foreground
  nat-flowrec report ./reports/REC-ID     report a recording's exported flow logs
"
    };
}

/// Record VPC Flow Logs on NAT gateways only while their traffic spikes, and report who talked
/// to whom, which AWS services went through the NAT, and what it cost.
#[derive(Debug, Parser)]
#[command(
    name = "nat-flowrec",
    version,
    about,
    max_term_width = 100,
    after_help = concat!(
        "Examples:\n",
        examples!(),
        "\n",
        exit_codes!(),
        "\n\nStart here: `nat-flowrec demo` (a simulated account, no AWS needed)."
    )
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The command line as parsed and documented: the derived definition, with the global options
/// a command has no use for hidden from its help (still accepted, so a script that always passes
/// `--profile` keeps working). A subcommand that holds its own copy of a global option is
/// skipped when clap hands the global options down, so the copy decides what help shows.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    const UNUSED: &[(&str, &[&str])] = &[
        (
            "completions",
            &["config", "region", "profile", "endpoint_url"],
        ),
        ("man", &["config", "region", "profile", "endpoint_url"]),
        ("demo", &["config", "region", "profile", "endpoint_url"]),
        ("init", &["region", "profile", "endpoint_url"]),
        ("iam-policy", &["profile", "endpoint_url"]),
    ];
    let mut cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd.get_arguments().cloned().collect();
    for (name, ids) in UNUSED {
        let hidden: Vec<clap::Arg> = globals
            .iter()
            .filter(|a| ids.contains(&a.get_id().as_str()))
            .map(|a| a.clone().hide(true))
            .collect();
        cmd = cmd.mut_subcommand(name, |sub| sub.args(hidden));
    }
    cmd
}

impl Cli {
    /// `command()`'s parse of the process's arguments; a usage error exits 2, as clap does.
    pub fn parse_args() -> Cli {
        use clap::FromArgMatches;
        let matches = command().get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Configuration file (TOML).
    #[arg(
        long,
        global = true,
        default_value = "nat-flowrec.toml",
        env = "NAT_FLOWREC_CONFIG"
    )]
    pub config: PathBuf,
    /// AWS region (overrides the config file and the SDK's default chain).
    #[arg(long, global = true)]
    pub region: Option<crate::names::Region>,
    /// AWS shared-config profile to take credentials and region from.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// One endpoint URL for every AWS service (for emulators such as moto).
    #[arg(long, global = true, env = "NAT_FLOWREC_ENDPOINT_URL", value_parser = parse_endpoint_url)]
    pub endpoint_url: Option<String>,
    /// The clock for this run, RFC 3339 (for replay and tests); default: the system clock.
    #[arg(long, global = true, hide = true, value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log lines on stderr: `text` for a terminal, `json` (one object a line) for CloudWatch
    /// Logs or journald.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "NAT_FLOWREC_LOG_FORMAT")]
    pub log_format: LogFormat,
}

impl GlobalArgs {
    /// The run's settings, as the rest of the program takes them.
    pub fn settings(&self) -> crate::app::Settings {
        crate::app::Settings {
            config: self.config.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            now: self.now,
            log: crate::app::Logging {
                verbose: self.verbose,
                quiet: self.quiet,
                format: self.log_format,
            },
        }
    }
}

pub const EXIT_CODES_HELP: &str = exit_codes!();
pub const EXAMPLES_HELP: &str = examples!();

/// The environment variables the program reads, for the man page.
pub const ENVIRONMENT_HELP: &[(&str, &str)] = &[
    ("NAT_FLOWREC_CONFIG", "the configuration file, as --config"),
    (
        "NAT_FLOWREC_ENDPOINT_URL",
        "one endpoint URL for every AWS service, as --endpoint-url",
    ),
    ("NAT_FLOWREC_LOG_FORMAT", "text or json, as --log-format"),
    (
        "AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
        "the AWS SDK's credentials and region (--profile and --region win)",
    ),
    (
        "AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE",
        "where the shared AWS profiles are (default ~/.aws/config and ~/.aws/credentials)",
    ),
    (
        "RUST_LOG",
        "log filter, overriding -v and -q (e.g. nat_flowrec=debug)",
    ),
    (
        "NO_COLOR",
        "set and not empty: no colour on a terminal either",
    ),
];

/// The files the program reads and writes, for the man page.
pub const FILES_HELP: &[(&str, &str)] = &[
    (
        "nat-flowrec.toml",
        "the configuration (`nat-flowrec init` writes a commented example)",
    ),
    (
        "state/events.jsonl",
        "the event log (the configuration's `state`; also s3://bucket/key), with its lock beside it",
    ),
    (
        "reports/REC-ID/",
        "a recording's export files and its report folder (the configuration's report.out_dir)",
    ),
];

pub use crate::app::LogFormat;

/// What a command that prints writes on stdout: the AWS CLI's `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs: one JSON document (JSON Lines for `history` and `watch`).
    Json,
    /// For people: the same as `text` (the AWS CLI's name for its aligned form).
    Table,
}

impl Output {
    pub fn is_json(self) -> bool {
        self == Output::Json
    }
}

#[derive(Debug, Args, Clone, Copy)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// `text` (or `table`) for people, `json` for programs.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Same as `--output json`.
    #[arg(long, conflicts_with = "output")]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Output {
        if self.json { Output::Json } else { self.output }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report on flow-log files: top talkers (NAT legs counted once), AWS services reached
    /// through the NAT, and what it cost.
    #[command(
        after_help = "Examples:\n  nat-flowrec report ./reports/rec-0abc-20260115T101300Z\n  nat-flowrec report --output markdown flows.log.gz > report.md\n  nat-flowrec report --output html ./reports/rec-0abc-20260115T101300Z > report.html\n  nat-flowrec report --output csv --top 0 ./flowlogs/ | head\n  nat-flowrec report --engine athena --recording rec-0abc-20260115T101300Z"
    )]
    Report(ReportArgs),
    /// One tick of the scheduled job: reconcile with AWS, read the trigger, start or stop recordings.
    #[command(
        after_help = "Examples:\n  nat-flowrec check --dry-run\n  nat-flowrec check --output json"
    )]
    Check(CheckArgs),
    /// Run `check` every interval until interrupted (SIGINT/SIGTERM end it after the current tick).
    #[command(
        after_help = "Examples:\n  nat-flowrec watch --interval 60s\n  nat-flowrec watch --output json | tee ticks.jsonl"
    )]
    Watch(WatchArgs),
    /// What is recording now, and the budget left per NAT gateway.
    #[command(
        after_help = "Examples:\n  nat-flowrec status\n  nat-flowrec status --output json | jq '.nats[].budget'"
    )]
    Status(StatusArgs),
    /// Every event in the log, oldest first: each decision the job made and why.
    #[command(
        after_help = "Examples:\n  nat-flowrec history --nat nat-0123456789abcdef0\n  nat-flowrec history --output json | tail -5"
    )]
    History(HistoryArgs),
    /// Start a recording by hand.
    #[command(
        after_help = "Examples:\n  nat-flowrec start --nat nat-0123456789abcdef0 --seconds 600\n  nat-flowrec start --nat nat-0123456789abcdef0 --dry-run"
    )]
    Start(StartArgs),
    /// Stop recordings by hand (their captured logs stay).
    #[command(
        after_help = "Examples:\n  nat-flowrec stop --nat nat-0123456789abcdef0\n  nat-flowrec stop --all"
    )]
    Stop(StopArgs),
    /// Recording budget per NAT gateway.
    #[command(
        subcommand,
        after_help = "Examples:\n  nat-flowrec budget reset --nat nat-0123456789abcdef0"
    )]
    Budget(BudgetCommand),
    /// What the trigger would have done over a NAT gateway's recent history.
    #[command(
        subcommand,
        after_help = "Examples:\n  nat-flowrec trigger suggest --nat nat-0123456789abcdef0 --days 14"
    )]
    Trigger(TriggerCommand),
    /// Make the event log and AWS agree: adopt or delete our flow logs the log does not know,
    /// mark recordings whose flow logs are gone as stopped.
    #[command(after_help = "Examples:\n  nat-flowrec reconcile --dry-run")]
    Reconcile(ReconcileArgs),
    /// Export a stopped recording's flow-log records from CloudWatch Logs into one compressed
    /// file per network interface (`check` does this by itself once a recording settled).
    #[command(
        after_help = "Examples:\n  nat-flowrec export --recording rec-0abc-20260115T101300Z\n  nat-flowrec export --recording rec-0abc-20260115T101300Z --out /tmp/flowlogs"
    )]
    Export(ExportArgs),
    /// Publish a reported recording's summary to the SNS topic (again).
    #[command(after_help = "Examples:\n  nat-flowrec notify --recording rec-0abc-20260115T101300Z")]
    Notify(NotifyArgs),
    /// Read-only checks of the NAT gateways' VPCs and of the job's AWS set-up (routes, S3 and
    /// DynamoDB gateway endpoints, interface endpoints for services seen in past reports,
    /// delivery role and log group or the flow logs' S3 bucket, SNS topic); each finding with the
    /// AWS CLI command that fixes it.
    /// Exits 1 when a check found an error (with --strict, a warning too).
    #[command(
        after_help = "Examples:\n  nat-flowrec doctor\n  nat-flowrec doctor --strict --output json"
    )]
    Doctor(DoctorArgs),
    /// Print the least-privilege IAM policies for this configuration as JSON: the job's, the
    /// manual commands' additions (operator), the flow-logs delivery role's permissions and its
    /// trust policy; resources narrowed to the configured log group, topic, buckets and role.
    #[command(
        after_help = "Examples:\n  nat-flowrec iam-policy --part job > job-policy.json\n  nat-flowrec iam-policy --part trust --account-id 123456789012"
    )]
    IamPolicy(IamPolicyArgs),
    /// The whole loop on a simulated account (no AWS needed): spike, recording, stop, report.
    #[command(
        after_help = "Examples:\n  nat-flowrec demo\n  nat-flowrec demo --dir /tmp/nat-flowrec-demo"
    )]
    Demo(DemoArgs),
    /// Write a commented example configuration file.
    #[command(
        after_help = "Examples:\n  nat-flowrec init\n  nat-flowrec --config /etc/nat-flowrec.toml init --force"
    )]
    Init(InitArgs),
    /// Store a newer copy of AWS's ip-ranges.json (beside the configuration file): reports label
    /// remote addresses in AWS's ranges with its service and region.
    #[command(
        after_help = "Examples:\n  curl -sO https://ip-ranges.amazonaws.com/ip-ranges.json\n  nat-flowrec update-ip-ranges ip-ranges.json"
    )]
    UpdateIpRanges(UpdateIpRangesArgs),
    /// Write a seeded synthetic flow-log file in the default format (benchmarks, demos).
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// Print a shell completion script (e.g. `nat-flowrec completions bash > /etc/bash_completion.d/nat-flowrec`).
    #[command(
        after_help = "Examples:\n  nat-flowrec completions bash > /etc/bash_completion.d/nat-flowrec\n  nat-flowrec completions zsh > ~/.zfunc/_nat-flowrec"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a folder.
    #[command(
        after_help = "Examples:\n  nat-flowrec man | man -l -\n  nat-flowrec man --dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write nat-flowrec.1 and one page per command (nat-flowrec-check.1, ...) into this folder
    /// instead of printing the main page.
    #[arg(long)]
    pub dir: Option<PathBuf>,
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
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Time between ticks, e.g. `60s`, `5m`.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    #[command(flatten)]
    pub dry_run: DryRunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    // `--output json` prints JSON Lines: the events as they are stored.
    #[command(flatten)]
    pub output: OutputArgs,
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
    #[command(flatten)]
    pub output: OutputArgs,
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
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Start counting a NAT gateway's recordings afresh (an event: history is never rewritten).
    #[command(after_help = "Examples:\n  nat-flowrec budget reset --nat nat-0123456789abcdef0")]
    Reset {
        #[arg(long)]
        nat: String,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TriggerCommand {
    /// Per NAT gateway: the peak, p95 and p99 period of the trigger's metrics over the last days,
    /// and for the current threshold and suggested ones how many recordings each would have
    /// started and what they would have cost in flow-log ingestion.
    #[command(
        after_help = "Examples:\n  nat-flowrec trigger suggest\n  nat-flowrec trigger suggest --nat nat-0123456789abcdef0 --days 7 --output json"
    )]
    Suggest(SuggestArgs),
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Only this NAT gateway (repeatable; default: the configuration's `nat_gateway_ids`).
    #[arg(long = "nat")]
    pub nats: Vec<crate::names::NatGatewayId>,
    /// Days of history, 1 to 15 (CloudWatch keeps one-minute datapoints for 15 days).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=15))]
    pub days: u32,
    /// Flow logs a recording ingests per minute, for the cost estimate: `10MB`, `1.5GB`.
    #[arg(long, default_value = "10MB", value_parser = crate::quantity::parse_bytes)]
    pub ingestion_per_minute: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The recording (`nat-flowrec history` lists them).
    #[arg(long)]
    pub recording: String,
    /// Folder to write `<recording-id>/<eni>.log.gz` into (default: report.out_dir).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The recording (`nat-flowrec history` lists them).
    #[arg(long)]
    pub recording: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Check only this NAT gateway (repeatable; default: the configuration's `nat_gateway_ids`).
    #[arg(long = "nat")]
    pub nats: Vec<crate::names::NatGatewayId>,
    /// Exit 1 on warnings too (by default only on errors).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Print only this policy document (default: all four in one object, keyed by part).
    #[arg(long, value_enum)]
    pub part: Option<crate::iam_policy::Part>,
    /// The 12-digit account the job runs in (default: the delivery role's account).
    #[arg(long)]
    pub account_id: Option<String>,
    /// `text` (or `table`): indented JSON; `json`: the same on one line.
    #[arg(long, value_enum, default_value_t = Output::Text, help_heading = "Output")]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's event log, exports and report (default: a new temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpdateIpRangesArgs {
    /// AWS's ip-ranges.json, as downloaded.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `http://127.0.0.1:5000`, `https://ec2.eu-west-1.amazonaws.com`: a scheme and a host, so a
/// typo is a usage error here rather than a failed call later.
fn parse_endpoint_url(text: &str) -> Result<String, String> {
    let invalid = |why: &str| {
        format!(
            "`{text}` is not an endpoint URL ({why}); write e.g. http://127.0.0.1:5000 or \
             https://ec2.eu-west-1.amazonaws.com"
        )
    };
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| invalid("it must start with http:// or https://"))?;
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains a space"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 address: `[::1]:5000`.
        Some(v6) => match v6.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => return Err(invalid("an IPv6 address needs its closing `]`")),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() || host.contains('@') {
        return Err(invalid("it names no host"));
    }
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return Err(invalid("the port must be a number from 0 to 65535"));
    }
    Ok(text.to_string())
}

/// `--now`: an RFC 3339 time.
fn parse_now(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("`{text}` is not an RFC 3339 time; write e.g. 2026-11-27T10:15:00Z"))
}

/// `90`, `90s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let secs = crate::quantity::parse_seconds(text)?;
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// What `report` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportOutput {
    /// For a terminal.
    Text,
    /// The same as `text`.
    Table,
    /// The whole report as one JSON object.
    Json,
    /// The talkers table as CSV.
    Csv,
    /// The whole report as Markdown.
    Markdown,
    /// The whole report as one self-contained HTML page with charts.
    Html,
}

impl ReportArgs {
    /// `--output`, or what an older flag (`--json`, `--csv`, `--markdown`) asked for.
    pub fn output(&self) -> ReportOutput {
        if self.json {
            ReportOutput::Json
        } else if self.csv {
            ReportOutput::Csv
        } else if self.markdown {
            ReportOutput::Markdown
        } else {
            self.output
        }
    }
}

/// Where `report` aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportEngine {
    /// Read the files here.
    #[value(alias = "local")]
    Files,
    /// CloudWatch Logs Insights, server-side.
    Insights,
    /// Amazon Athena, over flow logs delivered to S3.
    Athena,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Flow-log files or folders (recursed): plain, gzip, S3-delivered with header, or export
    /// files; with `--engine athena`, one s3://bucket/prefix/ the flow logs are delivered to.
    #[arg(required_unless_present = "recording")]
    pub paths: Vec<PathBuf>,
    /// Where the aggregation runs: `files` (or `local`) here, over the given files; `insights`
    /// in CloudWatch Logs Insights over a recording's log streams (needs --recording); `athena`
    /// in Amazon Athena over flow logs in S3, a recording's (--recording) or an s3:// prefix's
    /// (needs the configuration's [athena] table). The last two are for recordings too large to
    /// download.
    #[arg(long, value_enum, default_value_t = ReportEngine::Files, requires_if("insights", "recording"))]
    pub engine: ReportEngine,
    /// The recording to report with `--engine insights` or `athena` (`nat-flowrec history`
    /// lists them).
    #[arg(long, conflicts_with = "paths")]
    pub recording: Option<String>,
    /// Log format of files that do not name their own (`${field} ...`, as CreateFlowLogs takes it).
    #[arg(long)]
    pub format: Option<String>,
    /// The NAT gateway's private address(es), to find the VPC side where the format has no pkt-* fields.
    #[arg(long = "nat-ip")]
    pub nat_ips: Vec<IpAddr>,
    /// Rows per table (0 = all).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// What to print: `text` (or `table`) for a terminal; `json` the whole report as one
    /// object; `csv` the talkers table; `markdown` the whole report.
    #[arg(long, value_enum, default_value_t = ReportOutput::Text, help_heading = "Output")]
    pub output: ReportOutput,
    /// Same as `--output csv`.
    #[arg(
        long,
        group = "output_alias",
        conflicts_with = "output",
        help_heading = "Output"
    )]
    pub csv: bool,
    /// Same as `--output json`.
    #[arg(
        long,
        group = "output_alias",
        conflicts_with = "output",
        help_heading = "Output"
    )]
    pub json: bool,
    /// Same as `--output markdown`.
    #[arg(
        long,
        group = "output_alias",
        conflicts_with = "output",
        help_heading = "Output"
    )]
    pub markdown: bool,
    /// Also write every table as CSV plus report.json, report.md and report.html into this folder.
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
    /// Look the internal hosts up in AWS (owner, AZ; the NAT's VPC for the endpoint commands),
    /// also for plain files, and refresh a recording folder's cached owners. By default only a
    /// recording folder is attributed, from its cache when it has one.
    #[arg(long, conflicts_with = "no_enrich")]
    pub enrich: bool,
    /// Never ask AWS: addresses only, no owners, placeholders in the endpoint commands.
    #[arg(long)]
    pub no_enrich: bool,
    /// Route 53 Resolver query logs (JSON Lines as Resolver writes them to CloudWatch Logs or
    /// S3, gzip or plain; files or folders) whose answers name the remote addresses. Takes
    /// every value up to the next flag: put it after the flow-log paths.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with = "recording")]
    pub dns: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of lines to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// Seed of the generator (same seed, same file).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Internal hosts behind the NAT (more hosts and remotes, more distinct conversations: the
    /// memory benchmark). The defaults give the standard benchmark file.
    #[arg(long, default_value_t = 250)]
    pub hosts: usize,
    /// Distinct remote addresses.
    #[arg(long, default_value_t = 5000)]
    pub remotes: usize,
    /// Output file (`-` for stdout).
    #[arg(long, short, default_value = "-")]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent_and_hidden_globals_still_parse() {
        command().debug_assert();
        use clap::FromArgMatches;
        let matches = command()
            .try_get_matches_from(["nat-flowrec", "init", "--region", "eu-west-1"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        assert_eq!(cli.global.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn the_settings_carry_every_global_flag_and_a_bad_region_is_refused() {
        use clap::FromArgMatches;
        let matches = command()
            .try_get_matches_from([
                "nat-flowrec",
                "-vv",
                "--log-format",
                "json",
                "--region",
                "eu-west-1",
                "--profile",
                "ops",
                "--config",
                "c.toml",
                "status",
            ])
            .unwrap();
        let settings = Cli::from_arg_matches(&matches).unwrap().global.settings();
        assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(settings.profile.as_deref(), Some("ops"));
        assert_eq!(settings.config, std::path::PathBuf::from("c.toml"));
        assert_eq!(settings.log.verbose, 2);
        assert_eq!(settings.log.format, LogFormat::Json);
        let err = command()
            .try_get_matches_from(["nat-flowrec", "--region", "useast1", "status"])
            .unwrap_err();
        assert!(err.to_string().contains("an AWS region such as"), "{err}");
    }
}
