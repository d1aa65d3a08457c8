//! The recording guards from `[recording]`: how long a recording may run, when the hard cap
//! ends it, how many a NAT gateway may have, and how a recording is named. Pure arithmetic on
//! the clock; `decide` applies it.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::estimate::{Connections, EstimateBasis, StartEstimate, plan_length};
use super::event::StopReason;
use super::state::{ActiveRecording, NatState, State};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Policy {
    /// 0 = until the trigger is OK.
    pub recording_seconds: u64,
    pub max_recording_seconds: u64,
    /// 0 = unlimited.
    pub max_recordings: u32,
    /// 0 = since the last budget reset.
    pub window_seconds: u64,
    /// What one recording may spend on flow-log ingestion, USD; 0 = no cap.
    pub max_cost_usd: f64,
    /// What the recordings of one calendar month (UTC) may spend, USD; 0 = no cap.
    pub max_cost_usd_per_month: f64,
    /// The vended-log ingestion price of the recordings' log group, USD per GB (10^9 bytes):
    /// what a measured `IncomingBytes` costs.
    pub ingestion_price_per_gb: f64,
    /// What delivering the flow logs costs, USD per GB: the log group's ingestion price, or
    /// S3's vended-log delivery price (Parquet conversion included) with delivery to S3. The
    /// start's estimate uses it.
    pub delivery_price_per_gb: f64,
    /// What a start's cost estimate needs of the recording settings.
    pub estimate: EstimateBasis,
}

/// Where a NAT gateway's budget stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub used: u32,
    /// 0 = unlimited.
    pub max: u32,
    pub window_seconds: u64,
}

impl Budget {
    pub fn allows_another(&self) -> bool {
        self.max == 0 || self.used < self.max
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.max == 0 {
            return write!(f, "{} recordings, no limit", self.used);
        }
        write!(f, "{} of {} recordings", self.used, self.max)?;
        if self.window_seconds > 0 {
            write!(f, " in the last {}", human_seconds(self.window_seconds))?;
        } else {
            write!(f, " since the last budget reset")?;
        }
        Ok(())
    }
}

impl Policy {
    /// The deadline of a recording starting at `now`: `requested` seconds (manual), else
    /// `recording_seconds`, else (0 = until OK) the hard cap; never past the hard cap.
    pub fn deadline(&self, now: DateTime<Utc>, requested: Option<u64>) -> DateTime<Utc> {
        let wanted = match requested {
            Some(seconds) => seconds,
            None if self.recording_seconds == 0 => self.max_recording_seconds,
            None => self.recording_seconds,
        };
        add(now, wanted.min(self.max_recording_seconds))
    }

    /// The deadline of a recording starting at `now` (as `deadline`) and its estimate from the
    /// NAT's `connections`: shortened when the estimate exceeds `max_cost_usd`.
    pub fn planned_start(
        &self,
        now: DateTime<Utc>,
        requested: Option<u64>,
        connections: Option<Connections>,
        calibration: f64,
    ) -> (DateTime<Utc>, Option<StartEstimate>) {
        let wanted = (self.deadline(now, requested) - now).num_seconds().max(0) as u64;
        let (seconds, estimate) = plan_length(
            wanted,
            connections,
            &self.estimate,
            self.delivery_price_per_gb,
            self.max_cost_usd,
            calibration,
        );
        (add(now, seconds), estimate)
    }

    /// When the hard cap ends a recording that started at `started_at`.
    pub fn hard_cap(&self, started_at: DateTime<Utc>) -> DateTime<Utc> {
        add(started_at, self.max_recording_seconds)
    }

    /// Whether `active` must stop at `now` whatever the trigger says, and why.
    pub fn due_stop(&self, active: &ActiveRecording, now: DateTime<Utc>) -> Option<StopReason> {
        let cap = self.hard_cap(active.started_at);
        if now < active.deadline.min(cap) {
            None
        } else if active.deadline <= cap {
            Some(StopReason::Deadline)
        } else {
            Some(StopReason::HardCap)
        }
    }

    /// What ingesting `bytes` of flow logs costs, USD.
    pub fn ingestion_cost_usd(&self, bytes: u64) -> f64 {
        bytes as f64 / 1e9 * self.ingestion_price_per_gb
    }

    /// Whether a recording that cost `cost_usd` so far must stop for its dollar cap.
    pub fn over_cost_cap(&self, cost_usd: f64) -> bool {
        self.max_cost_usd > 0.0 && cost_usd >= self.max_cost_usd
    }

    /// Whether a month whose recordings cost `spent_usd` may not start another.
    pub fn over_monthly_cap(&self, spent_usd: f64) -> bool {
        self.max_cost_usd_per_month > 0.0 && spent_usd >= self.max_cost_usd_per_month
    }

    pub fn budget(&self, nat: &NatState, now: DateTime<Utc>) -> Budget {
        Budget {
            used: nat.budget_used(self.window_seconds, now),
            max: self.max_recordings,
            window_seconds: self.window_seconds,
        }
    }
}

impl Default for Policy {
    /// The documented defaults: 15-minute recordings, a 6-hour hard cap, no budget.
    fn default() -> Policy {
        Policy {
            recording_seconds: 900,
            max_recording_seconds: 21_600,
            max_recordings: 0,
            window_seconds: 0,
            max_cost_usd: 0.0,
            max_cost_usd_per_month: 0.0,
            // us-east-1's Infrequent Access price, the default class; the configuration gives
            // the region's.
            ingestion_price_per_gb: 0.25,
            delivery_price_per_gb: 0.25,
            estimate: EstimateBasis::default(),
        }
    }
}

/// A readable, deterministic recording id: `rec-<NAT id hex>-<yyyymmddThhmmssZ>`. It is also the
/// CreateFlowLogs ClientToken, so it must not repeat: a clash with a recording the log already
/// has gets a `-2`, `-3`, ... suffix.
pub fn recording_id(state: &State, nat_gateway_id: &str, now: DateTime<Utc>) -> String {
    let nat = nat_gateway_id
        .strip_prefix("nat-")
        .unwrap_or(nat_gateway_id);
    let base = format!("rec-{nat}-{}", now.format("%Y%m%dT%H%M%SZ"));
    let taken = |id: &str| {
        state.recording(id).is_some() || state.failed_starts.iter().any(|f| f.recording_id == id)
    };
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken(id))
        .unwrap_or(base)
}

/// `secs` as a duration, saturating instead of panicking on absurd values.
pub(crate) fn seconds(secs: u64) -> TimeDelta {
    i64::try_from(secs)
        .ok()
        .and_then(TimeDelta::try_seconds)
        .unwrap_or(TimeDelta::MAX)
}

fn add(t: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    t.checked_add_signed(seconds(secs))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `86400` -> `1 day(s)`: windows as a user configured them.
pub(crate) fn human_seconds(secs: u64) -> String {
    match secs {
        s if s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hour(s)", s / 3_600),
        s if s % 60 == 0 => format!("{} minute(s)", s / 60),
        s => format!("{s} second(s)"),
    }
}

#[cfg(test)]
mod tests;
