//! The settings of one run, resolved once from wherever they come from (the command line, the
//! Lambda function's environment), and the job's operations as values. The CLI's commands and
//! the Lambda handler are two thin adapters that build these and call the same code.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::names::Region;

/// How and where one run calls AWS, reads its configuration and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The configuration file; the Lambda function names its object or variable here, so
    /// messages say where the configuration came from.
    pub config: PathBuf,
    /// Wins over the configuration's `region` and the SDK's chain.
    pub region: Option<Region>,
    /// An AWS shared-config profile.
    pub profile: Option<String>,
    /// One endpoint for every AWS service (an emulator such as moto).
    pub endpoint_url: Option<String>,
    /// The run's clock (replay, tests); `None`: the system clock.
    pub now: Option<DateTime<Utc>>,
    pub log: Logging,
}

/// What goes to stderr, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Logging {
    /// `-v` counts: more detail from each step.
    pub verbose: u8,
    /// Errors only.
    pub quiet: bool,
    pub format: LogFormat,
}

/// Log lines for a terminal (`Text`) or for CloudWatch Logs and journald (`Json`, one object
/// a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// One of the job's operations on AWS, with what it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// One tick: observe the NAT gateways, start and stop recordings, run the pipeline.
    Check,
    /// Match the event log with the flow logs that exist.
    Reconcile,
    /// Record one NAT gateway by hand.
    Start {
        nat: String,
        /// `None`: the configuration's `recording_seconds`.
        seconds: Option<u64>,
        /// Even when the budget is spent.
        force: bool,
    },
    /// Stop one NAT gateway's recording, or every one (`None`).
    Stop { nat: Option<String> },
    /// Count one NAT gateway's recordings afresh.
    BudgetReset { nat: String },
}

impl Action {
    /// A tick's work (`check`, and `reconcile`, which every tick does) is left to a run that
    /// holds the log; a recording started or stopped by hand is work no other run does.
    pub fn is_tick(&self) -> bool {
        matches!(self, Action::Check | Action::Reconcile)
    }
}
