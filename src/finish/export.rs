//! Export: what a stopped recording's flow logs delivered to CloudWatch Logs, one compressed,
//! self-describing file per ENI under `<out_dir>/<recording-id>/` (`<eni>.log.gz`: the log
//! format, NAT, ENI, NAT IPs and window in its header, each event with its timestamp).
//!
//! The streams of an ENI are found with DescribeLogStreams by the ENI's prefix (flow logs name
//! them `<eni>-all`; the name is never guessed), and read with FilterLogEvents over the window
//! from the recording's start (to the minute) to its stop plus the aggregation interval (a
//! record's timestamp is the start of its interval, which ends up to that much later). ENIs are
//! exported concurrently, at most `MAX_CONCURRENT_STREAMS` at a time; each page is written as it
//! arrives. A file is written under a temporary name and renamed when complete, so a crash
//! never leaves a half export behind a final name.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures_util::StreamExt;
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};

use super::{PipelineError, Progress};
use crate::config::RecordingConfig;
use crate::core::Recording;
use crate::ports::{AwsErrorKind, LogEvent, LogEventsQuery, LogReader};

/// ENIs read at the same time: enough to overlap the round trips of a NAT's few interfaces,
/// few enough to stay under CloudWatch Logs' per-account FilterLogEvents rate.
pub const MAX_CONCURRENT_STREAMS: usize = 4;

/// What to export, resolved from the recording and the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPlan {
    pub recording_id: String,
    pub nat_gateway_id: String,
    /// The NAT's region, written into each file's header (the report prices it by it).
    pub region: Option<String>,
    pub enis: Vec<String>,
    pub nat_ips: Vec<IpAddr>,
    pub log_group: String,
    /// The recording's log format (`${field} ...`).
    pub log_format: String,
    /// Inclusive, Unix milliseconds.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exported {
    /// One per ENI, in the recording's ENI order.
    pub files: Vec<PathBuf>,
    pub records: u64,
    /// Bytes of the exported messages (the flow-log lines).
    pub bytes: u64,
    /// The log streams read.
    pub streams: Vec<String>,
    /// ENIs for which CloudWatch Logs had no stream at all.
    pub enis_without_stream: Vec<String>,
}

impl ExportPlan {
    /// The plan for a stopped recording; the log group and format fall back to the
    /// configuration's for recordings adopted after a crash (their events lack them).
    pub fn for_recording(
        rec: &Recording,
        cfg: &RecordingConfig,
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
            nat_ips: rec.nat_ips.clone(),
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
        })
    }

    /// The folder of the recording's files under `out_dir`.
    pub fn folder(&self, out_dir: &Path) -> PathBuf {
        out_dir.join(&self.recording_id)
    }
}

/// Exports every ENI of `plan` into `plan.folder(out_dir)`.
pub async fn export<R: LogReader>(
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
    let results: Vec<Result<EniExport, PipelineError>> = futures_util::stream::iter(&plan.enis)
        .map(|eni| export_eni(reader, plan, &format, eni, &folder, progress))
        .buffer_unordered(MAX_CONCURRENT_STREAMS)
        .collect()
        .await;
    let mut by_eni = Vec::with_capacity(results.len());
    for result in results {
        by_eni.push(result?);
    }
    by_eni.sort_by_key(|e| plan.enis.iter().position(|x| *x == e.eni));
    let mut out = Exported::default();
    for e in by_eni {
        out.files.push(e.file);
        out.records += e.records;
        out.bytes += e.bytes;
        if e.streams.is_empty() {
            out.enis_without_stream.push(e.eni);
        }
        out.streams.extend(e.streams);
    }
    Ok(out)
}

struct EniExport {
    eni: String,
    file: PathBuf,
    streams: Vec<String>,
    records: u64,
    bytes: u64,
}

/// `eni-0abc-all` belongs to `eni-0abc`; `eni-0abcd-all` does not.
fn stream_of(eni: &str, stream: &str) -> bool {
    stream == eni
        || stream
            .strip_prefix(eni)
            .is_some_and(|rest| rest.starts_with('-'))
}

async fn export_eni<R: LogReader>(
    reader: &R,
    plan: &ExportPlan,
    format: &LogFormat,
    eni: &str,
    folder: &Path,
    progress: &Progress,
) -> Result<EniExport, PipelineError> {
    let streams = match reader.log_streams(&plan.log_group, eni).await {
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
    let path = folder.join(format!("{eni}.log.gz"));
    let io = |source| PipelineError::Io {
        path: path.clone(),
        source,
    };
    let meta = ExportMeta {
        format: format.clone(),
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
        };
        let mut failed: Option<std::io::Error> = None;
        {
            let mut sink = |page: Vec<LogEvent>| {
                let n = page.len() as u64;
                for event in page {
                    // A flow-log message is one line; anything else would break the file's layout
                    // (the report then counts the line as malformed instead).
                    let message = if event.message.contains(['\n', '\r']) {
                        event.message.replace(['\n', '\r'], " ")
                    } else {
                        event.message
                    };
                    if let Err(e) = writer.write_event(event.timestamp_ms, &message) {
                        failed = Some(e);
                        return false;
                    }
                    records += 1;
                    bytes += message.len() as u64 + 1;
                }
                progress.add(n);
                true
            };
            reader.log_events(&query, &mut sink).await?;
        }
        if let Some(e) = failed {
            return Err(io(e));
        }
    }
    let file = writer.finish().map_err(io)?;
    Ok(EniExport {
        eni: eni.to_owned(),
        file,
        streams: names,
        records,
        bytes,
    })
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
