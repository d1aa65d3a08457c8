//! Export: what a stopped recording's flow logs delivered to CloudWatch Logs, one compressed,
//! self-describing file per ENI under `<out_dir>/<recording-id>/` (`<eni>.log.gz`: the log
//! format, NAT, ENI, NAT IPs and window in its header, each event with its timestamp).
//!
//! The streams of an ENI are found with DescribeLogStreams by the ENI's prefix (flow logs name
//! them `<eni>-all`; the name is never guessed), and read with GetLogEvents (or FilterLogEvents,
//! `export.read_api`) over the window from the recording's start (to the minute) to its stop
//! plus the aggregation interval (a record's timestamp is the start of its interval, which ends
//! up to that much later). Every ENI is read at once, each page written as it arrives, and one
//! token bucket per operation paces them all under the account's quota (`pace.rs`); throttling
//! slows the bucket and the call is made again. A file is written under a temporary name and
//! renamed when complete, so a crash never leaves a half export behind a final name, and the
//! ENIs already complete are not read again by the next run (`parts.rs`, `resume.rs`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};

use super::pace::Pacer;
use super::parts::{Part, export_parts};
use super::resume::ExportKey;
use super::{PipelineError, Progress};
use crate::config::{ExportConfig, RecordingConfig};
use crate::core::Recording;
use crate::ports::{AwsError, AwsErrorKind, DeliveryBucket, LogEvent, LogEventsQuery, LogReader};
use crate::s3_layout::S3Delivery;

/// Throttled answers in a row for one page before the export gives up: by then the bucket has
/// slowed to its floor and AWS still refuses, so something else is wrong.
const MAX_THROTTLED_IN_A_ROW: u32 = 12;

/// What to export, resolved from the recording and the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportPlan {
    pub recording_id: String,
    pub nat_gateway_id: String,
    /// The NAT's region, written into each file's header (the report prices it by it).
    pub region: Option<String>,
    pub enis: Vec<String>,
    /// The recording's flow logs: what names its files when they were delivered to S3.
    pub flow_log_ids: Vec<String>,
    pub nat_ips: Vec<IpAddr>,
    pub log_group: String,
    /// Set when the flow logs delivered to S3 instead of `log_group`.
    pub s3: Option<S3Delivery>,
    /// The recording's log format (`${field} ...`).
    pub log_format: String,
    /// Inclusive, Unix milliseconds.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// How the events are read and how fast.
    pub read: ExportConfig,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exported {
    /// One per ENI, in the recording's ENI order.
    pub files: Vec<PathBuf>,
    pub records: u64,
    /// Bytes of the exported messages (the flow-log lines).
    pub bytes: u64,
    /// The log streams read (the S3 objects, from S3).
    pub streams: Vec<String>,
    /// ENIs for which CloudWatch Logs had no stream at all (flow logs without a file in S3).
    pub enis_without_stream: Vec<String>,
}

impl ExportPlan {
    /// The plan for a stopped recording; the destination and format fall back to the
    /// configuration's for recordings adopted after a crash (their events lack them).
    pub fn for_recording(
        rec: &Recording,
        cfg: &RecordingConfig,
        read: &ExportConfig,
    ) -> Result<ExportPlan, PipelineError> {
        let stopped = rec
            .stopped
            .as_ref()
            .ok_or_else(|| PipelineError::NotStopped(rec.recording_id.clone()))?;
        if rec.enis.is_empty() {
            return Err(PipelineError::NoInterfaces(rec.recording_id.clone()));
        }
        let interval = rec
            .max_aggregation_interval
            .unwrap_or(cfg.max_aggregation_interval);
        let start = rec
            .started_at
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or(rec.started_at);
        let end = stopped.at + TimeDelta::seconds(i64::from(interval));
        Ok(ExportPlan {
            recording_id: rec.recording_id.clone(),
            nat_gateway_id: rec.nat_gateway_id.clone(),
            region: None,
            enis: rec.enis.clone(),
            flow_log_ids: rec.flow_log_ids.clone(),
            nat_ips: rec.nat_ips.clone(),
            s3: rec.s3_delivery(cfg.s3_delivery()),
            log_group: rec
                .log_group
                .clone()
                .unwrap_or_else(|| cfg.log_group.clone()),
            log_format: rec
                .log_format
                .clone()
                .unwrap_or_else(|| cfg.log_format.clone()),
            start,
            end,
            read: read.clone(),
        })
    }

    /// The folder of the recording's files under `out_dir`.
    pub fn folder(&self, out_dir: &Path) -> PathBuf {
        out_dir.join(&self.recording_id)
    }
}

/// Exports every ENI of `plan` (every flow log, from S3) into `plan.folder(out_dir)`.
pub async fn export<R: LogReader + DeliveryBucket>(
    reader: &R,
    plan: &ExportPlan,
    out_dir: &Path,
    progress: &Progress,
) -> Result<Exported, PipelineError> {
    let format = LogFormat::parse(&plan.log_format).map_err(|e| PipelineError::Io {
        path: out_dir.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the recording's log format cannot be read: {e}"),
        ),
    })?;
    let folder = plan.folder(out_dir);
    std::fs::create_dir_all(&folder).map_err(|source| PipelineError::Io {
        path: folder.clone(),
        source,
    })?;
    if let Some(s3) = &plan.s3 {
        return super::s3_export::export(reader, s3, plan, &format, out_dir, progress).await;
    }
    let key = ExportKey {
        recording_id: plan.recording_id.clone(),
        start_ms: plan.start.timestamp_millis(),
        end_ms: plan.end.timestamp_millis(),
    };
    let pacer = Pacer::new(&plan.read.max_requests_per_second, plan.read.read_api);
    let read = ReadStreams {
        reader,
        plan,
        format: &format,
        progress,
        pacer: &pacer,
    };
    export_parts(&folder, &key, &plan.enis, progress, |eni, path| {
        read.read_eni(eni, path)
    })
    .await
}

/// `eni-0abc-all` belongs to `eni-0abc`; `eni-0abcd-all` does not.
fn stream_of(eni: &str, stream: &str) -> bool {
    stream == eni
        || stream
            .strip_prefix(eni)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// What every ENI's read shares.
struct ReadStreams<'a, R> {
    reader: &'a R,
    plan: &'a ExportPlan,
    format: &'a LogFormat,
    progress: &'a Progress,
    pacer: &'a Pacer,
}

impl<R: LogReader> ReadStreams<'_, R> {
    async fn read_eni(&self, eni: String, path: PathBuf) -> Result<Part, PipelineError> {
        let eni = eni.as_str();
        let plan = self.plan;
        self.pacer.describe().await;
        let streams = match self.reader.log_streams(&plan.log_group, eni).await {
            Ok(streams) => streams,
            // No group: nothing was ever delivered (the report says so).
            Err(e) if e.kind == AwsErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mut names: Vec<String> = streams
            .into_iter()
            .map(|s| s.name)
            .filter(|name| stream_of(eni, name))
            .collect();
        names.sort();
        let io = |source| PipelineError::Io {
            path: path.clone(),
            source,
        };
        let meta = ExportMeta {
            format: self.format.clone(),
            recording_id: Some(plan.recording_id.clone()),
            nat_gateway_id: Some(plan.nat_gateway_id.clone()),
            region: plan.region.clone(),
            interface_id: Some(eni.to_owned()),
            nat_ips: plan.nat_ips.clone(),
            window_start: Some(plan.start.timestamp()),
            window_end: Some(plan.end.timestamp()),
        };
        let mut writer = ExportWriter::create(&path, &meta).map_err(io)?;
        let (mut records, mut bytes) = (0u64, 0u64);
        for stream in &names {
            let query = LogEventsQuery {
                log_group: plan.log_group.clone(),
                log_stream: stream.clone(),
                start_ms: plan.start.timestamp_millis(),
                end_ms: plan.end.timestamp_millis(),
                api: plan.read.read_api,
            };
            let mut token: Option<String> = None;
            loop {
                let page = self.page(&query, token.clone()).await?;
                let n = page.events.len() as u64;
                for event in page.events {
                    let message = one_line(event);
                    writer.write_event(message.0, &message.1).map_err(io)?;
                    records += 1;
                    bytes += message.1.len() as u64 + 1;
                }
                self.progress.add(n);
                token = match next_page(page.next_token, token.as_deref()) {
                    Some(next) => Some(next),
                    None => break,
                };
            }
        }
        let file = writer.finish().map_err(io)?;
        Ok(Part {
            file,
            sources: names,
            records,
            bytes,
        })
    }

    async fn page(
        &self,
        query: &LogEventsQuery,
        token: Option<String>,
    ) -> Result<crate::ports::LogEventsPage, AwsError> {
        paced_page(self.reader, self.pacer, query, token).await
    }
}

/// The token of the stream's next page; `None` at its end (no token, or the one just read:
/// GetLogEvents answers the same token again at a stream's end).
pub(super) fn next_page(next: Option<String>, current: Option<&str>) -> Option<String> {
    next.filter(|n| !n.is_empty() && current != Some(n.as_str()))
}

/// One page, paced; a throttled answer slows the pace and asks again.
pub(super) async fn paced_page<R: LogReader>(
    reader: &R,
    pacer: &Pacer,
    query: &LogEventsQuery,
    token: Option<String>,
) -> Result<crate::ports::LogEventsPage, AwsError> {
    let mut throttled = 0;
    loop {
        pacer.read().await;
        match reader.log_events_page(query, token.clone()).await {
            Ok(page) => {
                pacer.read_answered();
                return Ok(page);
            }
            Err(e) if e.kind == AwsErrorKind::Throttled && throttled < MAX_THROTTLED_IN_A_ROW => {
                throttled += 1;
                pacer.read_throttled();
                tracing::info!(
                    "{} throttled on {}; slowing the export's pace",
                    query.api.action(),
                    query.log_stream
                );
            }
            Err(e) => return Err(e),
        }
    }
}

/// A flow-log message is one line; anything else would break the file's layout (the report
/// then counts the line as malformed instead).
pub(super) fn one_line(event: LogEvent) -> (i64, String) {
    let message = if event.message.contains(['\n', '\r']) {
        event.message.replace(['\n', '\r'], " ")
    } else {
        event.message
    };
    (event.timestamp_ms, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enis_streams_are_its_own_only() {
        assert!(stream_of("eni-0abc", "eni-0abc-all"));
        assert!(stream_of("eni-0abc", "eni-0abc-accept"));
        assert!(stream_of("eni-0abc", "eni-0abc"));
        assert!(!stream_of("eni-0abc", "eni-0abcd-all"));
        assert!(!stream_of("eni-0abc", "other"));
    }
}
