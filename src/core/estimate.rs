//! What a recording would cost, estimated before it starts, so a start can be shortened to fit
//! `recording.max_cost_usd` and the user sees the figure (`check --dry-run`, `start --dry-run`,
//! the start event, `history`). Pure: the NAT's connection metrics, the format and the price in,
//! dollars a minute out.
//!
//! Flow logs write one record per flow per network interface per aggregation interval. A flow
//! through a NAT gateway is seen on its interface on both legs (instance to NAT, NAT to remote;
//! docs/DESIGN.md, "The leg rule"), each in both directions: 4 records per connection per
//! interval. The connections in an interval are the ones open at its start (the peak
//! `ActiveConnectionCount` Maximum of the last 15 minutes) plus those opened during it (the peak
//! `ConnectionEstablishedCount` Sum a minute, times the minutes of the interval). A record is
//! as long as the configured format's fields are on average (`bytes_per_record`), priced at
//! the destination's delivery price (the log group class's ingestion, or S3's vended-log
//! delivery: `Policy::delivery_price_per_gb`). Peaks, not means: a spike is rising when a start
//! is decided, and a cap should stop early, never late.
//!
//! The estimate is calibrated by what past recordings measured (`IngestionMeasured`): the
//! median of measured / estimated over the last ten, applied to the next.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use nat_flowrec_parsers::{Field, LogFormat};

use super::state::{Recording, State};

/// The connection metrics a start's estimate reads, over this many minutes before it.
pub const CONNECTION_MINUTES: i64 = 15;
pub const ACTIVE_CONNECTIONS: &str = "ActiveConnectionCount";
pub const CONNECTIONS_ESTABLISHED: &str = "ConnectionEstablishedCount";
/// Legs of a connection on the NAT's interface (VPC side, internet side) and directions on each.
pub const LEGS: u32 = 2;
pub const DIRECTIONS: u32 = 2;
/// Past recordings the calibration takes the median of.
pub const CALIBRATION_RECORDINGS: usize = 10;

/// A NAT gateway's connections over the last `CONNECTION_MINUTES`: peak concurrent
/// connections and peak new connections a minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Connections {
    pub active: f64,
    pub established_per_minute: f64,
}

/// What a start's estimate needs from the recording settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EstimateBasis {
    /// The configured format's average record length (`bytes_per_record`).
    pub bytes_per_record: f64,
    pub max_aggregation_interval: u32,
}

impl Default for EstimateBasis {
    fn default() -> EstimateBasis {
        EstimateBasis {
            bytes_per_record: bytes_per_record(nat_flowrec_parsers::DEFAULT_FORMAT),
            max_aggregation_interval: 60,
        }
    }
}

/// A start's estimate, as the start event keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartEstimate {
    /// Flow-log ingestion from the connection metrics alone, USD a minute.
    pub raw_usd_per_minute: f64,
    /// Measured / estimated of past recordings (median of the last ten); 1 without any.
    pub calibration: f64,
    /// The recording's length as started, and what it costs at the calibrated rate.
    pub seconds: u64,
    pub usd: f64,
    /// The length asked for and the cap, when `max_cost_usd` shortened the recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortened: Option<Shortened>,
}

/// A start cut to fit `recording.max_cost_usd`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shortened {
    pub from_seconds: u64,
    pub max_cost_usd: f64,
}

impl StartEstimate {
    /// The calibrated rate, USD a minute.
    pub fn usd_per_minute(&self) -> f64 {
        self.raw_usd_per_minute * self.calibration
    }
}

impl std::fmt::Display for StartEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "estimated {} for {} min ({}/min",
            usd_fine(self.usd),
            self.seconds / 60,
            usd_fine(self.usd_per_minute())
        )?;
        if self.calibration != 1.0 {
            write!(f, ", x{:.2} from past recordings", self.calibration)?;
        }
        write!(f, ")")?;
        if let Some(s) = self.shortened {
            write!(
                f,
                "; shortened to {} min to stay under max_cost_usd = {}",
                self.seconds / 60,
                nat_flowrec_reports::usd(s.max_cost_usd)
            )?;
        }
        Ok(())
    }
}

/// Dollars with cents, or to a tenth of a cent below a dollar: estimates are often fractions
/// of a cent a minute.
fn usd_fine(v: f64) -> String {
    if v.abs() < 1.0 {
        format!("${v:.3}")
    } else {
        nat_flowrec_reports::usd(v)
    }
}

/// The average length of one record of `format` as AWS writes it, spaces included: each field
/// at its typical width (IPv4 addresses, a 5-digit port on one side and a service port on the
/// other, `-` where a NAT interface has no value). A format that does not parse counts as AWS's
/// default one.
pub fn bytes_per_record(format: &str) -> f64 {
    let parsed = LogFormat::parse(format).unwrap_or_else(|_| LogFormat::aws_default_v2());
    let fields = parsed.fields();
    let widths: f64 = fields.iter().map(field_width).sum();
    widths + fields.len().saturating_sub(1) as f64
}

/// Characters of a typical value of `field` on a NAT gateway's interface.
fn field_width(field: &Field) -> f64 {
    match field {
        Field::Version | Field::Protocol | Field::TcpFlags | Field::TrafficPath => 1.0,
        Field::AccountId => 12.0,
        Field::InterfaceId | Field::VpcId => 21.0,
        Field::SubnetId => 24.0,
        Field::Srcaddr | Field::Dstaddr | Field::PktSrcaddr | Field::PktDstaddr => 12.0,
        // One side an ephemeral port (5 digits), the other a service port (3).
        Field::Srcport | Field::Dstport => 4.0,
        Field::Packets => 2.0,
        Field::Bytes => 4.0,
        Field::Start | Field::End => 10.0,
        Field::Action => 6.0,
        Field::LogStatus => 2.0,
        Field::Type => 4.0,
        Field::Region => 9.0,
        Field::AzId => 8.0,
        // Mostly `-`, now and then `AMAZON` or `S3`.
        Field::PktSrcAwsService | Field::PktDstAwsService => 2.0,
        Field::FlowDirection => 7.0,
        Field::Unknown(_) => 8.0,
        // The instance, ECS and sub-location fields and reject-reason: `-` on a NAT interface.
        _ => 1.0,
    }
}

/// Flow-log records a minute from `connections` at the aggregation interval.
pub fn records_per_minute(connections: Connections, max_aggregation_interval: u32) -> f64 {
    let interval_minutes = f64::from(max_aggregation_interval.max(60)) / 60.0;
    let per_interval = connections.active + connections.established_per_minute * interval_minutes;
    per_interval * f64::from(LEGS * DIRECTIONS) / interval_minutes
}

/// The peaks of the connection series of `nat_gateway_id`; `None` without any datapoint.
pub fn connections_of(
    series: &[crate::ports::MetricSeries],
    nat_gateway_id: &str,
) -> Option<Connections> {
    let peak = |metric: &str| {
        series
            .iter()
            .filter(|s| s.nat_gateway_id == nat_gateway_id && s.metric == metric)
            .flat_map(|s| s.points.iter().map(|(_, v)| *v))
            .filter(|v| v.is_finite())
            .reduce(f64::max)
    };
    let active = peak(ACTIVE_CONNECTIONS);
    let established = peak(CONNECTIONS_ESTABLISHED);
    if active.is_none() && established.is_none() {
        return None;
    }
    Some(Connections {
        active: active.unwrap_or(0.0),
        established_per_minute: established.unwrap_or(0.0),
    })
}

/// The connection metrics' window before `now`: the last `CONNECTION_MINUTES` complete minutes.
pub fn connection_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = DateTime::from_timestamp(now.timestamp().div_euclid(60) * 60, 0).unwrap_or(now);
    (end - TimeDelta::minutes(CONNECTION_MINUTES), end)
}

/// The one GetMetricData request of the connection metrics of `nats` (those that may start a
/// recording on this tick): peak concurrent connections (Maximum) and new ones (Sum) a minute.
pub fn connection_query(nats: &[String], now: DateTime<Utc>) -> crate::ports::MetricQuery {
    let (start, end) = connection_window(now);
    crate::ports::MetricQuery {
        nat_gateway_ids: nats.to_vec(),
        metrics: vec![ACTIVE_CONNECTIONS.into(), CONNECTIONS_ESTABLISHED.into()],
        statistic: "Sum".into(),
        period_seconds: 60,
        start,
        end,
        log_groups: Vec::new(),
        nat_metrics: Default::default(),
        statistics: [(ACTIVE_CONNECTIONS.to_string(), "Maximum".to_string())].into(),
    }
}

/// Measured / estimated over the last `CALIBRATION_RECORDINGS` stopped recordings that have
/// both an estimate and a measurement (per minute recorded, so a recording the trigger ended
/// early counts fairly); their median, or 1 without any.
pub fn calibration(state: &State) -> f64 {
    let mut ratios: Vec<(DateTime<Utc>, f64)> = state
        .recordings
        .iter()
        .filter_map(|r| {
            let (estimate, measured, minutes) = estimated_and_measured(r)?;
            (estimate.raw_usd_per_minute > 0.0).then(|| {
                (
                    r.started_at,
                    measured / minutes / estimate.raw_usd_per_minute,
                )
            })
        })
        .collect();
    ratios.sort_by_key(|(at, _)| *at);
    let mut last: Vec<f64> = ratios
        .iter()
        .rev()
        .take(CALIBRATION_RECORDINGS)
        .map(|(_, r)| *r)
        .collect();
    median(&mut last).unwrap_or(1.0)
}

/// A stopped recording's estimate, what it measured (USD) and the minutes it recorded. Not a
/// recording delivered to S3: its flow logs reach no log group, so what it measured (its DNS
/// group at most) says nothing of its estimate.
fn estimated_and_measured(r: &Recording) -> Option<(&StartEstimate, f64, f64)> {
    if r.s3.is_some() {
        return None;
    }
    let estimate = r.estimate.as_ref()?;
    let measured = r.ingestion.as_ref()?.cost_usd;
    let stopped = r.stopped.as_ref()?;
    let minutes = ((stopped.at - r.started_at).num_seconds() as f64 / 60.0).max(1.0);
    Some((estimate, measured, minutes))
}

/// One stopped recording's estimate against what it measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateCheck {
    pub recording_id: String,
    pub nat_gateway_id: String,
    pub minutes: f64,
    /// The calibrated rate times the minutes it recorded.
    pub estimated_usd: f64,
    pub measured_usd: f64,
    /// (estimated - measured) / measured, in percent.
    pub error_pct: f64,
}

/// Every stopped recording with an estimate and a (non-zero) measurement, oldest first.
pub fn estimate_checks(state: &State) -> Vec<EstimateCheck> {
    state
        .recordings
        .iter()
        .filter_map(|r| {
            let (estimate, measured, minutes) = estimated_and_measured(r)?;
            let estimated_usd = estimate.usd_per_minute() * minutes;
            (measured > 0.0).then(|| EstimateCheck {
                recording_id: r.recording_id.clone(),
                nat_gateway_id: r.nat_gateway_id.clone(),
                minutes,
                estimated_usd,
                measured_usd: measured,
                error_pct: (estimated_usd - measured) / measured * 100.0,
            })
        })
        .collect()
}

/// The mean absolute error of `checks`, percent; `None` without any.
pub fn mean_absolute_error_pct(checks: &[EstimateCheck]) -> Option<f64> {
    (!checks.is_empty())
        .then(|| checks.iter().map(|c| c.error_pct.abs()).sum::<f64>() / checks.len() as f64)
}

impl std::fmt::Display for EstimateCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: recording {} estimated {} for its {:.0} min, measured {}: {:+.0}%",
            self.nat_gateway_id,
            self.recording_id,
            usd_fine(self.estimated_usd),
            self.minutes,
            usd_fine(self.measured_usd),
            self.error_pct
        )
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// A start of `wanted_seconds` with its estimate: unchanged without connection metrics, else
/// shortened to whole minutes (at least one) when the estimate exceeds `max_cost_usd` (> 0).
pub fn plan_length(
    wanted_seconds: u64,
    connections: Option<Connections>,
    basis: &EstimateBasis,
    price_per_gb: f64,
    max_cost_usd: f64,
    calibration: f64,
) -> (u64, Option<StartEstimate>) {
    let Some(connections) = connections else {
        return (wanted_seconds, None);
    };
    let bytes =
        records_per_minute(connections, basis.max_aggregation_interval) * basis.bytes_per_record;
    let raw_usd_per_minute = bytes / 1e9 * price_per_gb;
    let per_minute = raw_usd_per_minute * calibration;
    let cost = |seconds: u64| per_minute * seconds as f64 / 60.0;
    let mut seconds = wanted_seconds;
    let mut shortened = None;
    if max_cost_usd > 0.0 && cost(wanted_seconds) > max_cost_usd && per_minute > 0.0 {
        let minutes = (max_cost_usd / per_minute).floor().max(1.0) as u64;
        seconds = (minutes * 60).min(wanted_seconds);
        shortened = Some(Shortened {
            from_seconds: wanted_seconds,
            max_cost_usd,
        });
    }
    let estimate = StartEstimate {
        raw_usd_per_minute,
        calibration,
        seconds,
        usd: cost(seconds),
        shortened,
    };
    (seconds, Some(estimate))
}

#[cfg(test)]
mod tests;
