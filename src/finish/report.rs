//! Report: a recording's export files through the reports crate (the legs, talkers, services
//! and savings), with its coverage: the bytes the flow logs captured against
//! the NAT's own CloudWatch byte metrics over the same minutes. A recording that captured
//! nothing, or too little, gets the likely causes in plain words. Written under
//! `<out_dir>/<recording-id>/report/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{Coverage, Report, ReportOptions, build_report, render};

use super::PipelineError;
use crate::attribution::{self, EnrichMode, Plan, RecordingFolder};
use crate::config::Config;
use crate::core::Recording;
use crate::ports::{AwsError, Inventory, MetricQuery, Metrics};

/// The NAT metrics a coverage compares with: every byte the NAT processed, once, in each
/// direction (from the VPC's hosts, and from the remote ends), as the report counts them.
pub const COVERAGE_METRICS: [&str; 2] = ["BytesInFromSource", "BytesInFromDestination"];
/// Below this share of the metric bytes the report lists why flow logs may have missed some.
const LOW_COVERAGE_PCT: f64 = 80.0;
/// How long a new flow log takes to deliver its first records: AWS says "several minutes"; with
/// 60-second aggregation the first records usually arrive 5 to 10 minutes after creation.
pub const FIRST_DELIVERY_SECONDS: i64 = 600;

/// A recording that captured nothing and ran shorter than flow logs need to deliver anything:
/// it stopped before they could, which is not the same as a NAT without traffic.
pub fn stopped_before_delivery(rec: &Recording, records: u64) -> bool {
    let ran = rec
        .stopped
        .as_ref()
        .map_or(i64::MAX, |s| (s.at - rec.started_at).num_seconds());
    records == 0 && rec.delivery_failures.is_empty() && ran < FIRST_DELIVERY_SECONDS
}

/// The sentence for such a recording.
fn stopped_before_delivery_statement(rec: &Recording) -> String {
    let ran = rec
        .stopped
        .as_ref()
        .map_or(0, |s| (s.at - rec.started_at).num_minutes());
    format!(
        "the recording stopped before flow logs could deliver: it ran {ran} min, and new flow logs deliver their first records only {} min or so after they are created; set recording.recording_seconds to more than {} so a recording outlasts the delivery delay",
        FIRST_DELIVERY_SECONDS / 60,
        FIRST_DELIVERY_SECONDS
    )
}

/// What CloudWatch counted through the NAT while the recording ran.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageMetrics {
    /// `None`: no datapoint at all in the window.
    pub metric_bytes: Option<u64>,
    pub metrics: Vec<String>,
}

/// A recording's report and where it was written.
#[derive(Debug, Clone)]
pub struct RecordingReport {
    pub report: Report,
    pub dir: PathBuf,
}

/// The whole minutes the recording covered: its start to the minute, to its stop rounded up
/// to the minute; at least one minute.
pub fn metric_window(rec: &Recording) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = TimeDelta::minutes(1);
    let start = rec
        .started_at
        .duration_trunc(minute)
        .unwrap_or(rec.started_at);
    let stop = rec.stopped.as_ref().map_or(rec.deadline, |s| s.at);
    let mut end = stop.duration_trunc(minute).unwrap_or(stop);
    if end < stop {
        end += minute;
    }
    (start, end.max(start + minute))
}

/// The NAT's byte metrics summed over the recording's minutes.
pub async fn measure<M: Metrics>(
    metrics: &M,
    rec: &Recording,
) -> Result<CoverageMetrics, AwsError> {
    let (start, end) = metric_window(rec);
    let points = nat_bytes(metrics, &rec.nat_gateway_id, 60, start, end).await?;
    let metric_bytes = (!points.is_empty())
        .then(|| points.iter().map(|(_, v)| v).sum::<f64>().max(0.0).round() as u64);
    Ok(CoverageMetrics {
        metric_bytes,
        metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
    })
}

/// The Sum of the NAT's `COVERAGE_METRICS` per `period_seconds` from `start` to `end` (both
/// metrics' datapoints, in that window only).
pub async fn nat_bytes<M: Metrics>(
    metrics: &M,
    nat_gateway_id: &str,
    period_seconds: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, f64)>, AwsError> {
    let query = MetricQuery {
        nat_gateway_ids: vec![nat_gateway_id.to_owned()],
        metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        statistic: "Sum".to_owned(),
        period_seconds,
        start,
        end,
    };
    let series = metrics.metric_data(&query).await?;
    Ok(series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(t, _)| *t >= start && *t < end)
        .collect())
}

/// Why a recording may have captured nothing or too little, most likely first. Empty when the
/// coverage is fine.
pub fn likely_causes(
    rec: &Recording,
    records: u64,
    flow_log_bytes: u64,
    measured: &CoverageMetrics,
    settle_seconds: u64,
) -> Vec<String> {
    let low = match measured.metric_bytes {
        Some(m) if m > 0 => (flow_log_bytes as f64 / m as f64) * 100.0 < LOW_COVERAGE_PCT,
        _ => false,
    };
    if records > 0 && !low {
        return Vec::new();
    }
    let mut causes = Vec::new();
    for failure in &rec.delivery_failures {
        causes.push(format!(
            "flow log delivery FAILED (DescribeFlowLogs: DeliverLogsStatus FAILED, DeliverLogsErrorMessage) on {failure}: the role in recording.deliver_logs_role_arn must trust vpc-flow-logs.amazonaws.com and may write to the log group (logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams)"
        ));
    }
    if measured.metric_bytes == Some(0) {
        causes.push(
            "no traffic: CloudWatch counted no bytes through the NAT while the recording ran"
                .to_owned(),
        );
    }
    let ran_minutes = rec
        .stopped
        .as_ref()
        .map_or(0, |s| (s.at - rec.started_at).num_minutes());
    let waited_minutes = match (&rec.stopped, &rec.exported) {
        (Some(s), Some(e)) => (e.at - s.at).num_minutes(),
        _ => 0,
    };
    causes.push(format!(
        "delivery delay: flow logs start delivering several minutes after they are created and then deliver about 5 minutes late; this recording ran {ran_minutes} min and was exported {waited_minutes} min after its stop (settle_seconds = {settle_seconds}); export it again later with `nat-flowrec export --recording {}`",
        rec.recording_id
    ));
    if rec.delivery_failures.is_empty() {
        causes.push(
            "role permissions: a delivery role without rights makes the flow logs FAILED, which DescribeFlowLogs shows only while they exist; check recording.deliver_logs_role_arn and its trust policy".to_owned(),
        );
    }
    causes
}

/// The report of the recording's export files, with its coverage, priced for `region` (the
/// NAT's) with the configuration's price keys. Its tables are whole (cross-AZ totals need every
/// host): `attribute` cuts them to `report.top`, or call `Report::cut_to_top`.
pub fn build(
    rec: &Recording,
    cfg: &Config,
    region: &str,
    measured: &CoverageMetrics,
) -> Result<Report, PipelineError> {
    let exported = rec
        .exported
        .as_ref()
        .ok_or_else(|| PipelineError::NotExported(rec.recording_id.clone()))?;
    if exported.files.is_empty() {
        return Err(PipelineError::ExportUnreadable {
            recording_id: rec.recording_id.clone(),
            detail: "the export lists no files".to_owned(),
        });
    }
    let default_format = rec
        .log_format
        .as_deref()
        .and_then(|f| LogFormat::parse(f).ok())
        .unwrap_or_default();
    let opts = ReportOptions {
        default_format,
        nat_ips: rec.nat_ips.clone(),
        top: 0,
        strict: false,
        prices: cfg
            .report
            .prices(Some(region))
            .map_err(|source| PipelineError::Report {
                recording_id: rec.recording_id.clone(),
                source,
            })?,
    };
    let paths: Vec<PathBuf> = exported.files.iter().map(PathBuf::from).collect();
    let mut report = build_report(&paths, &opts).map_err(|source| PipelineError::Report {
        recording_id: rec.recording_id.clone(),
        source,
    })?;
    if let Some(failure) = report.summary.files_failed.first() {
        return Err(PipelineError::ExportUnreadable {
            recording_id: rec.recording_id.clone(),
            detail: failure.error.clone(),
        });
    }
    let s = &report.summary;
    let causes = likely_causes(
        rec,
        s.records_read,
        s.bytes_total,
        measured,
        cfg.recording.settle_seconds,
    );
    let mut coverage = Coverage::new(
        s.bytes_total,
        measured.metric_bytes,
        measured.metrics.clone(),
        s.records_read,
        causes,
    );
    if stopped_before_delivery(rec, s.records_read) {
        coverage.statement = format!(
            "{} ({})",
            stopped_before_delivery_statement(rec),
            coverage.statement
        );
    }
    report.coverage = Some(coverage);
    Ok(report)
}

/// Names the report's hosts (owner and Name tag, AZ) and the NAT's VPC, route tables and
/// subnets, as `report --enrich` does for a recording folder: from the folder's `.owners.json`
/// when it covers every host, else from AWS in `region` (filling the cache). A failed lookup
/// (AccessDenied, throttling) leaves addresses and one warning saying why; it never fails the
/// recording. Then cuts the tables to `top`.
pub async fn attribute<I: Inventory>(
    inventory: &I,
    region: &str,
    rec: &Recording,
    folder: &Path,
    report: &mut Report,
    top: usize,
    now: DateTime<Utc>,
) {
    let plan = Plan {
        mode: EnrichMode::Auto,
        folders: vec![RecordingFolder {
            dir: folder.to_path_buf(),
            nat_gateway_ids: vec![rec.nat_gateway_id.clone()],
            nat_ips: rec.nat_ips.clone(),
            region: Some(region.to_owned()),
        }],
        nat_ips: Vec::new(),
    };
    attribution::enrich(&plan, report, top, now, async || {
        (inventory, Some(region.to_owned()))
    })
    .await;
}

/// The report folder of a recording whose files are in `folder`.
pub fn report_dir(folder: &Path) -> PathBuf {
    folder.join("report")
}

/// Writes every report file (CSV tables, report.json, report.md) plus `email.txt` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<(), PipelineError> {
    let wrap = |source| PipelineError::Report {
        recording_id: dir.display().to_string(),
        source,
    };
    render::write_out_dir(report, dir).map_err(wrap)?;
    render::write_atomically(
        &dir.join("email.txt"),
        render::email_summary(report).as_bytes(),
    )
    .map_err(wrap)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::core::StopReason;
    use crate::core::state::{ExportedInfo, Stopped};

    fn rec(start: (u32, u32, u32), stop: (u32, u32, u32)) -> Recording {
        let t = |(h, m, s): (u32, u32, u32)| Utc.with_ymd_and_hms(2026, 1, 15, h, m, s).unwrap();
        Recording {
            recording_id: "rec-1".into(),
            nat_gateway_id: "nat-0abc".into(),
            started_at: t(start),
            deadline: t((23, 0, 0)),
            cause: None,
            adopted: false,
            enis: vec!["eni-a".into()],
            flow_log_ids: vec![],
            nat_ips: vec![],
            log_group: Some("/g".into()),
            log_format: None,
            max_aggregation_interval: Some(60),
            stopped: Some(Stopped {
                at: t(stop),
                reason: StopReason::TriggerOk,
            }),
            delivery_failures: vec![],
            exported: Some(ExportedInfo {
                at: t(stop) + TimeDelta::minutes(10),
                files: vec![],
                records: 0,
                bytes: 0,
            }),
            reported: None,
            notified: None,
        }
    }

    #[test]
    fn the_metric_window_is_the_recordings_whole_minutes() {
        let r = rec((10, 13, 20), (10, 27, 5));
        let (start, end) = metric_window(&r);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 1, 15, 10, 13, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 1, 15, 10, 28, 0).unwrap());
        let instant = rec((10, 13, 0), (10, 13, 0));
        let (start, end) = metric_window(&instant);
        assert_eq!(end - start, TimeDelta::minutes(1));
    }

    fn measured(bytes: Option<u64>) -> CoverageMetrics {
        CoverageMetrics {
            metric_bytes: bytes,
            metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    #[test]
    fn causes_only_when_little_or_nothing_was_captured() {
        let r = rec((10, 13, 0), (10, 27, 0));
        assert!(likely_causes(&r, 100, 900, &measured(Some(1000)), 600).is_empty());
        let low = likely_causes(&r, 100, 500, &measured(Some(1000)), 600);
        assert!(
            low.iter().any(|c| c.starts_with("delivery delay")),
            "{low:?}"
        );
        let nothing = likely_causes(&r, 0, 0, &measured(Some(1000)), 600);
        assert!(
            nothing[0].contains("ran 14 min and was exported 10 min after its stop"),
            "{nothing:?}"
        );
        assert!(
            nothing.iter().any(|c| c.starts_with("role permissions")),
            "{nothing:?}"
        );
    }

    #[test]
    fn a_failed_delivery_is_the_first_cause_and_no_traffic_is_said() {
        let mut r = rec((10, 13, 0), (10, 27, 0));
        r.delivery_failures = vec!["eni-a (fl-1): Access error".into()];
        let causes = likely_causes(&r, 0, 0, &measured(Some(0)), 600);
        assert!(causes[0].contains("DeliverLogsStatus FAILED"), "{causes:?}");
        assert!(
            causes[0].contains("eni-a (fl-1): Access error"),
            "{causes:?}"
        );
        assert!(causes[1].starts_with("no traffic"), "{causes:?}");
        assert!(!causes.iter().any(|c| c.starts_with("role permissions")));
    }
}
