//! Report: a recording's export files through the reports crate (the legs, talkers, services
//! and savings), with its coverage: the bytes the flow logs captured against
//! the NAT's own CloudWatch byte metrics over the same minutes. A recording that captured
//! nothing, or too little, gets the likely causes in plain words. Written under
//! `<out_dir>/<recording-id>/report/`. The same GetMetricData reads the minutes around the
//! recording for the HTML report's spike chart, kept beside the export files (`metrics.json`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{
    AwsRanges, Coverage, DnsAnswers, METRICS_FILE, MetricPoints, NameSources, NatMetrics, Report,
    ReportOptions, Threshold, ThresholdOf, build_report, render,
};

use super::PipelineError;
use crate::attribution::{self, EnrichMode, Plan, RecordingFolder};
use crate::config::{Combine, Config, TriggerConfig};
use crate::core::{Recording, StartCause};
use crate::ports::{AwsError, Inventory, MetricQuery, MetricSeries, Metrics};

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

/// The spike chart goes on this long after the recording's stop.
const CHART_AFTER_STOP_MINUTES: i64 = 15;

/// What CloudWatch counted through the NAT while the recording ran, and around it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageMetrics {
    /// `None`: no datapoint at all in the window.
    pub metric_bytes: Option<u64>,
    pub metrics: Vec<String>,
    /// The minutes from before the breach to after the stop, for the spike chart.
    pub nat_metrics: Option<NatMetrics>,
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

/// When the trigger breached: the start of a recording the trigger started.
fn breach(rec: &Recording) -> Option<DateTime<Utc>> {
    matches!(rec.cause, Some(StartCause::Trigger { .. })).then_some(rec.started_at)
}

/// The spike chart's minutes: `lookback_minutes` before the breach (or the start) to
/// `CHART_AFTER_STOP_MINUTES` after the recording's minutes.
pub fn chart_window(rec: &Recording, lookback_minutes: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let (start, end) = metric_window(rec);
    let minute = TimeDelta::minutes(1);
    let from = breach(rec).map_or(start, |b| b.duration_trunc(minute).unwrap_or(b).min(start));
    (
        from - TimeDelta::minutes(i64::from(lookback_minutes)),
        end + TimeDelta::minutes(CHART_AFTER_STOP_MINUTES),
    )
}

/// The trigger's threshold as bytes a minute; `None` when it follows an alarm or counts packets.
fn threshold(cfg: &TriggerConfig) -> Option<Threshold> {
    let bytes = cfg.mode.reads_metrics() && cfg.metrics.iter().all(|m| !m.is_packets());
    bytes.then(|| Threshold {
        bytes_per_minute: cfg.threshold_bytes as f64 * 60.0 / f64::from(cfg.period_seconds.max(60)),
        applies_to: match cfg.combine {
            Combine::Any => ThresholdOf::EachMetric,
            Combine::Sum => ThresholdOf::SumOfMetrics,
        },
    })
}

/// The NAT's byte metrics per minute from `report.chart_lookback_minutes` before the breach
/// to after the stop, in one GetMetricData: summed over the recording's minutes for the
/// coverage, kept whole for the spike chart.
pub async fn measure<M: Metrics>(
    metrics: &M,
    rec: &Recording,
    cfg: &Config,
) -> Result<CoverageMetrics, AwsError> {
    let (chart_start, chart_end) = chart_window(rec, cfg.report.chart_lookback_minutes);
    let series = nat_series(metrics, &rec.nat_gateway_id, 60, chart_start, chart_end).await?;
    let (start, end) = metric_window(rec);
    let points: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(t, _)| *t >= start && *t < end)
        .map(|(_, v)| *v)
        .collect();
    let metric_bytes =
        (!points.is_empty()).then(|| points.iter().sum::<f64>().max(0.0).round() as u64);
    let nat_metrics = NatMetrics {
        nat_gateway_id: rec.nat_gateway_id.clone(),
        start_unix: chart_start.timestamp(),
        end_unix: chart_end.timestamp(),
        recording_start_unix: rec.started_at.timestamp(),
        recording_stop_unix: rec
            .stopped
            .as_ref()
            .map_or(rec.deadline, |s| s.at)
            .timestamp(),
        breach_unix: breach(rec).map(|b| b.timestamp()),
        threshold: threshold(&cfg.trigger),
        series: series
            .into_iter()
            .map(|s| MetricPoints {
                metric: s.metric,
                points: s.points.iter().map(|(t, v)| (t.timestamp(), *v)).collect(),
            })
            .collect(),
    };
    Ok(CoverageMetrics {
        metric_bytes,
        metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        nat_metrics: Some(nat_metrics),
    })
}

/// The Sum of the NAT's `COVERAGE_METRICS` per `period_seconds` from `start` to `end`, one
/// series a metric, datapoints in that window only.
async fn nat_series<M: Metrics>(
    metrics: &M,
    nat_gateway_id: &str,
    period_seconds: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<MetricSeries>, AwsError> {
    let query = MetricQuery {
        nat_gateway_ids: vec![nat_gateway_id.to_owned()],
        metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
        statistic: "Sum".to_owned(),
        period_seconds,
        start,
        end,
        log_groups: Vec::new(),
        nat_metrics: Default::default(),
        statistics: Default::default(),
    };
    let mut series = metrics.metric_data(&query).await?;
    for s in &mut series {
        s.points.retain(|(t, _)| *t >= start && *t < end);
    }
    Ok(series)
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
    let series = nat_series(metrics, nat_gateway_id, period_seconds, start, end).await?;
    Ok(series.into_iter().flat_map(|s| s.points).collect())
}

/// The recording folder's `metrics.json`; `None` when there is none or it cannot be read.
pub fn load_metrics(folder: &Path) -> Option<NatMetrics> {
    let text = std::fs::read_to_string(folder.join(METRICS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Keeps the metrics the report's chart was drawn from beside the recording's files, so a
/// report of the folder made later, offline, draws the same chart.
pub fn store_metrics(folder: &Path, metrics: &NatMetrics) -> Result<(), PipelineError> {
    let path = folder.join(METRICS_FILE);
    let text = serde_json::to_string_pretty(metrics).map_err(|e| PipelineError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    render::write_atomically(&path, text.as_bytes()).map_err(|source| PipelineError::Report {
        recording_id: folder.display().to_string(),
        source,
    })
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
    // Remotes named by the VPC's DNS answers when they were recorded; those whose records name
    // no AWS service otherwise labelled from the bundled AWS ranges.
    let dns = recorded_dns_answers(rec, &paths)?;
    let ranges = AwsRanges::bundled();
    report.name_remotes(&NameSources {
        dns: dns.as_ref(),
        ranges: Some(&ranges),
        max_age_seconds: cfg.report.dns_max_age_seconds,
    });
    if let (Some(names), Some(q)) = (report.remote_names.as_mut(), &rec.query_logging) {
        names.dns_source = Some(if q.reused {
            format!(
                "DNS names from the VPC's existing query logging to {}",
                q.log_group
            )
        } else {
            format!("DNS names from the VPC's queries logged to {}", q.log_group)
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
    report.recording_cost = rec
        .ingestion
        .as_ref()
        .map(|i| nat_flowrec_reports::RecordingCost {
            ingested_bytes: i.bytes,
            cost_usd: i.cost_usd,
        });
    report.nat_metrics = measured.nat_metrics.clone();
    Ok(report)
}

/// The DNS answers exported beside the recording's flow-log files, when its VPC's queries
/// were logged.
fn recorded_dns_answers(
    rec: &Recording,
    flow_files: &[PathBuf],
) -> Result<Option<DnsAnswers>, PipelineError> {
    let Some(q) = &rec.query_logging else {
        return Ok(None);
    };
    let Some(file) = flow_files
        .first()
        .and_then(|f| f.parent())
        .and_then(crate::finish::dns_export::dns_file)
    else {
        return Ok(None);
    };
    DnsAnswers::read(&[file], Some(&q.vpc_id))
        .map(Some)
        .map_err(|e| PipelineError::ExportUnreadable {
            recording_id: rec.recording_id.clone(),
            detail: e.to_string(),
        })
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

/// Writes every report file (CSV tables, report.json, report.md, report.html) plus `email.txt`
/// into `dir`.
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
            s3: None,
            log_format: None,
            max_aggregation_interval: Some(60),
            estimate: None,
            stopped: Some(Stopped {
                at: t(stop),
                reason: StopReason::TriggerOk,
            }),
            delivery_failures: vec![],
            query_logging: None,
            ingestion: None,
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

    #[test]
    fn the_chart_reads_from_the_lookback_before_the_breach_to_15_minutes_after_the_stop() {
        let mut r = rec((10, 13, 20), (10, 27, 5));
        r.cause = Some(StartCause::Trigger {
            evidence: "above".into(),
        });
        let (start, end) = chart_window(&r, 60);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 1, 15, 9, 13, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 1, 15, 10, 43, 0).unwrap());
        assert_eq!(breach(&r), Some(r.started_at));
        r.cause = None;
        assert_eq!(breach(&r), None);
        assert_eq!(chart_window(&r, 10).0, start + TimeDelta::minutes(50));
    }

    #[test]
    fn the_threshold_is_drawn_per_minute_as_the_trigger_compares() {
        let mut cfg = TriggerConfig::default();
        let t = threshold(&cfg).unwrap();
        assert_eq!(t.bytes_per_minute, 100_000_000.0);
        assert_eq!(t.applies_to, ThresholdOf::EachMetric);
        cfg.period_seconds = 300;
        cfg.combine = Combine::Sum;
        let t = threshold(&cfg).unwrap();
        assert_eq!(t.bytes_per_minute, 20_000_000.0);
        assert_eq!(t.applies_to, ThresholdOf::SumOfMetrics);
        cfg.metrics = vec![crate::config::NatMetric::PacketsOutToSource];
        assert_eq!(threshold(&cfg), None, "packets have no byte threshold");
        cfg = TriggerConfig {
            mode: crate::config::TriggerMode::Alarm,
            ..TriggerConfig::default()
        };
        assert_eq!(threshold(&cfg), None, "an alarm's threshold is not ours");
    }

    fn measured(bytes: Option<u64>) -> CoverageMetrics {
        CoverageMetrics {
            metric_bytes: bytes,
            metrics: COVERAGE_METRICS.iter().map(|m| (*m).to_owned()).collect(),
            nat_metrics: None,
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
