//! A month a person can defend: the NAT's own traffic over the 30 whole days before its
//! recording stopped, from one GetMetricData of the daily sums of `BytesInFromSource` and
//! `BytesInFromDestination` (every byte the NAT processed, once). The report applies each
//! service's share of the recording to it. Kept in the recording folder (`.nat-30-days.json`,
//! hidden like the owners cache) so a report re-run offline repeats the same figures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_reports::NatMonth;
use nat_flowrec_reports::render::write_atomically;

use super::report::nat_bytes;
use crate::core::Recording;
use crate::ports::Metrics;

/// The file in a recording folder.
pub const MONTH_FILE: &str = ".nat-30-days.json";
const DAYS: i64 = 30;

pub fn month_path(folder: &Path) -> PathBuf {
    folder.join(MONTH_FILE)
}

/// The folder's stored month; `None` when there is none or it cannot be read (it is measured
/// again then).
pub fn load(folder: &Path) -> Option<NatMonth> {
    let text = std::fs::read_to_string(month_path(folder)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The 30 whole days (UTC) before the day `rec` stopped.
pub fn days_before(rec: &Recording) -> (DateTime<Utc>, DateTime<Utc>) {
    let stop = rec.stopped.as_ref().map_or(rec.deadline, |s| s.at);
    let day = TimeDelta::days(1);
    let end = stop.duration_trunc(day).unwrap_or(stop);
    (end - TimeDelta::days(DAYS), end)
}

/// The folder's month, else measured (one GetMetricData of daily sums) and stored in the folder.
/// `Ok(None)`: CloudWatch has no datapoint in those days (a NAT younger than a day). `Err` says
/// why it could not be measured or stored; the report then has the spike extrapolation only.
pub async fn for_recording<M: Metrics>(
    metrics: &M,
    rec: &Recording,
    folder: &Path,
) -> Result<Option<NatMonth>, String> {
    if let Some(month) = load(folder).filter(|m| m.nat_gateway_id == rec.nat_gateway_id) {
        return Ok(Some(month));
    }
    let (start, end) = days_before(rec);
    let points = nat_bytes(metrics, &rec.nat_gateway_id, 86_400, start, end)
        .await
        .map_err(|e| format!("the NAT's last 30 days could not be measured ({e}); the monthly figures are the spike extrapolation only"))?;
    let days: BTreeSet<_> = points.iter().map(|(t, _)| t.date_naive()).collect();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(None);
    };
    let month = NatMonth {
        nat_gateway_id: rec.nat_gateway_id.clone(),
        start: first.to_string(),
        end: last.to_string(),
        days: u32::try_from(days.len()).unwrap_or(u32::MAX),
        bytes: points.iter().map(|(_, v)| v.max(0.0)).sum::<f64>().round() as u64,
        monthly_bytes: 0,
        monthly_nat_cost_usd: 0.0,
    };
    let text = serde_json::to_string_pretty(&month).map_err(|e| e.to_string())?;
    write_atomically(&month_path(folder), text.as_bytes())
        .map_err(|e| format!("the NAT's last 30 days could not be stored: {e}"))?;
    Ok(Some(month))
}
