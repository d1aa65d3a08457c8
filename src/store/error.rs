//! What can go wrong with the event log, wherever it lives (a local file or an S3 object). Each
//! message names the log and says what to do; `is_locked` tells "another run has it" (a `check` exits 0, a command run by hand 3,
//! not a failure) from the rest.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ports::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another run holds the lock: not a failure of this run (the CLI says so; a `check` exits 0,
    /// a command run by hand 3).
    #[error(
        "another nat-flowrec run holds the lock {} (waited {:.1} s), so this run did nothing: a `check` leaves its work to that run; run anything else again once that run is done",
        lock_path.display(),
        waited.as_secs_f64()
    )]
    Locked {
        lock_path: PathBuf,
        waited: Duration,
    },
    /// Another run holds the lease on the S3 event log (the S3 form of `Locked`).
    #[error(
        "another nat-flowrec run ({holder}) holds the lease on {uri} until {} (waited {:.1} s), so this run did nothing: a `check` leaves its work to that run; run anything else again once that run is done. If that run died, the lease lapses then",
        crate::core::event::rfc3339(until),
        waited.as_secs_f64()
    )]
    Leased {
        uri: String,
        holder: String,
        until: DateTime<Utc>,
        waited: Duration,
    },
    #[error("state = \"{state}\" is not a valid event log location: {expected}")]
    BadLocation { state: String, expected: String },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An S3 call on the event log failed (permissions, a missing bucket, the network).
    #[error("event log {uri}: {source}")]
    S3 {
        uri: String,
        #[source]
        source: AwsError,
    },
    #[error(
        "{}, line {line}: {problem}. The event log is damaged there; restore it from a copy, or fix or remove that line by hand (it is the job's memory: keep a copy first)",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        /// 1-based.
        line: usize,
        problem: String,
    },
    #[error("cannot encode a {kind} event for {}: {message}", path.display())]
    Encode {
        path: PathBuf,
        kind: &'static str,
        message: String,
    },
    #[error(
        "{} changed under this run (it is shorter than what was read); another program wrote to it while nat-flowrec held the lock",
        path.display()
    )]
    Shrunk { path: PathBuf },
    /// The S3 object no longer starts with what this run read: someone rewrote it. Nothing was
    /// overwritten; this run's last events were not appended (the flow logs they record carry
    /// our tags, so the next run's reconcile finds them).
    #[error(
        "{uri} was rewritten under this run (it no longer starts with the events this run read); nothing was overwritten and this run's last {pending} event(s) were not appended. The next run reconciles with AWS; find who else writes to the object"
    )]
    Rewritten { uri: String, pending: usize },
    /// Another run took over the lease while this one was still writing (this run outlived its
    /// lease). Nothing was overwritten.
    #[error(
        "{uri}: this run's lease passed to another run ({holder}) before it could append {pending} event(s); nothing was overwritten. The next run reconciles with AWS; if runs take longer than the lease, schedule them further apart"
    )]
    LeaseLost {
        uri: String,
        holder: String,
        pending: usize,
    },
    /// Conditional writes kept losing to other writers.
    #[error(
        "{uri} kept changing under this run ({attempts} conditional writes lost); nothing was overwritten and this run's last {pending} event(s) were not appended"
    )]
    Contended {
        uri: String,
        attempts: u32,
        pending: usize,
    },
    #[error("{} was opened read-only (status/history); appending needs EventLog::open", path.display())]
    ReadOnly { path: PathBuf },
}

impl StoreError {
    /// Another run holds the log: this run leaves the work to it.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Locked { .. } | StoreError::Leased { .. })
    }
}
