//! Export of a recording's DNS queries: every stream of the group its VPC's queries went to (ours,
//! or the VPC's own query logging it reused), over the recording's window widened by
//! `report.dns_max_age_seconds` before it (an answer names traffic up to that long after it),
//! keeping the queries of the NAT's VPC (a group may hold other VPCs'). One gzip file beside the
//! flow-log files, `dns-queries.log.gz`: a `#` header saying whose queries, from which group and
//! window, then one `<epoch-millis> <query-log object>` line per query, which the report's
//! query-log reader (and `report --dns`) reads.
//!
//! Read with the flow-log export's pace (`pace.rs`), written under a hidden temporary name and
//! renamed when complete: a killed export leaves no half file, and the next run reads it again.

use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_parsers::query_log::QueryLogRecord;
use nat_flowrec_parsers::{DNS_EXPORT_FILE, DnsExportMeta, ExportWriter};

use super::PipelineError;
use super::export::{next_page, one_line, paced_page};
use super::pace::Pacer;
use crate::config::ExportConfig;
use crate::core::{QueryLogging, Recording};
use crate::ports::{AwsErrorKind, LogEventsQuery, LogReader};

/// Whose queries to export, from where, over which window.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsExportPlan {
    pub recording_id: String,
    pub query_logging: QueryLogging,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub read: ExportConfig,
}

/// What the DNS export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsExported {
    pub file: PathBuf,
    /// Queries of the NAT's VPC kept.
    pub queries: u64,
    /// Events of other VPCs (or not query-log objects) left out.
    pub other: u64,
}

impl DnsExportPlan {
    /// The plan for a stopped recording whose VPC's queries were logged; `None` when they were
    /// not. The window is the flow-log export's, from `max_age_seconds` before it.
    pub fn for_recording(
        rec: &Recording,
        flow_start: DateTime<Utc>,
        flow_end: DateTime<Utc>,
        max_age_seconds: u32,
        read: &ExportConfig,
    ) -> Option<DnsExportPlan> {
        let query_logging = rec.query_logging.clone()?;
        let start = (flow_start - TimeDelta::seconds(i64::from(max_age_seconds)))
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or(flow_start);
        Some(DnsExportPlan {
            recording_id: rec.recording_id.clone(),
            query_logging,
            start,
            end: flow_end,
            read: read.clone(),
        })
    }
}

/// The recording's DNS export beside its flow-log files in `folder`, when it has one.
pub fn dns_file(folder: &Path) -> Option<PathBuf> {
    let path = folder.join(DNS_EXPORT_FILE);
    path.is_file().then_some(path)
}

/// Reads every stream of the plan's group into `folder`'s [`DNS_EXPORT_FILE`].
pub async fn export_dns<R: LogReader>(
    reader: &R,
    plan: &DnsExportPlan,
    folder: &Path,
) -> Result<DnsExported, PipelineError> {
    let q = &plan.query_logging;
    let path = folder.join(DNS_EXPORT_FILE);
    let io = |source| PipelineError::Io {
        path: path.clone(),
        source,
    };
    let pacer = Pacer::new(&plan.read.max_requests_per_second, plan.read.read_api);
    pacer.describe().await;
    let mut streams: Vec<String> = match reader.log_streams(&q.log_group, "").await {
        Ok(streams) => streams.into_iter().map(|s| s.name).collect(),
        // No group: nothing was ever delivered (the report names no remote).
        Err(e) if e.kind == AwsErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    streams.sort();
    let meta = DnsExportMeta {
        recording_id: plan.recording_id.clone(),
        vpc_id: q.vpc_id.clone(),
        log_group: q.log_group.clone(),
        reused: q.reused,
        window_start: plan.start.timestamp(),
        window_end: plan.end.timestamp(),
    };
    let mut writer = ExportWriter::create_dns(&path, &meta).map_err(io)?;
    let (mut queries, mut other) = (0u64, 0u64);
    for stream in streams {
        let query = LogEventsQuery {
            log_group: q.log_group.clone(),
            log_stream: stream,
            start_ms: plan.start.timestamp_millis(),
            end_ms: plan.end.timestamp_millis(),
            api: plan.read.read_api,
        };
        let mut token: Option<String> = None;
        loop {
            let page = paced_page(reader, &pacer, &query, token.clone()).await?;
            for event in page.events {
                let (ts, message) = one_line(event);
                let vpc = serde_json::from_str::<QueryLogRecord>(&message).map(|r| r.vpc_id);
                if vpc.is_ok_and(|vpc| vpc == q.vpc_id) {
                    writer.write_event(ts, &message).map_err(io)?;
                    queries += 1;
                } else {
                    other += 1;
                }
            }
            token = match next_page(page.next_token, token.as_deref()) {
                Some(next) => Some(next),
                None => break,
            };
        }
    }
    let file = writer.finish().map_err(io)?;
    Ok(DnsExported {
        file,
        queries,
        other,
    })
}
