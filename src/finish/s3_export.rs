//! Export of a recording whose flow logs delivered to S3: the same self-describing files as the
//! CloudWatch Logs export (`export.rs`), one per flow log (`<flow-log-id>.log.gz`), so `report`
//! reads both alike.
//!
//! The files are found without reading any: the account folders below `<prefix>/AWSLogs/`,
//! then, per account, the day (or hour) folders of the recording's window in the recording's
//! region (`s3_layout`), keeping the files whose name carries one of the recording's flow-log
//! ids. They are downloaded in parallel (at most `MAX_CONCURRENT_DOWNLOADS` at once, in key
//! order per flow log), decompressed, their header line checked against the recording's format,
//! and each record written with the file's time (minute precision: plain-text files carry no
//! per-record timestamp unless the format has `${start}`). S3 has no account-wide read quota like
//! CloudWatch Logs, so there is no pacer. A flow log's file is complete before it is recorded in
//! `.export-progress.json` (`resume.rs`), so a killed export resumes with the flow logs left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use flate2::read::MultiGzDecoder;
use futures_util::StreamExt;
use nat_flowrec_parsers::LogFormat;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};
use tokio::sync::Semaphore;

use super::export::{ExportPlan, Exported};
use super::parts::{Part, export_parts};
use super::resume::ExportKey;
use super::{PipelineError, Progress};
use crate::ports::{AwsError, AwsErrorKind, DeliveryBucket};
use crate::s3_layout::{S3Delivery, parse_object_name};

/// Objects downloaded at the same time, across the recording's flow logs. Each is held whole in
/// memory until written (a delivered file is at most a few tens of MB compressed).
pub const MAX_CONCURRENT_DOWNLOADS: usize = 16;

/// Files are named by the start of the five minutes they cover and arrive minutes later: the
/// listing reaches this far past the window's end.
const DELIVERY_LAG: TimeDelta = TimeDelta::minutes(15);

/// One delivered file of the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DeliveredFile {
    key: String,
    time_ms: i64,
}

/// Exports the files of `plan`'s flow logs from `s3` into `plan.folder(out_dir)`.
pub async fn export<B: DeliveryBucket>(
    bucket: &B,
    s3: &S3Delivery,
    plan: &ExportPlan,
    format: &LogFormat,
    out_dir: &Path,
    progress: &Progress,
) -> Result<Exported, PipelineError> {
    let folder = plan.folder(out_dir);
    let region = plan
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let files = delivered_files(bucket, s3, plan, &region).await?;
    let key = ExportKey {
        recording_id: plan.recording_id.clone(),
        start_ms: plan.start.timestamp_millis(),
        end_ms: plan.end.timestamp_millis(),
    };
    let downloads = Semaphore::new(MAX_CONCURRENT_DOWNLOADS);
    let read = ReadFiles {
        bucket,
        s3,
        plan,
        format,
        progress,
        downloads: &downloads,
    };
    let empty = Vec::new();
    export_parts(&folder, &key, &plan.flow_log_ids, progress, |id, path| {
        let delivered = files.get(&id).unwrap_or(&empty);
        read.read_flow_log(delivered, path)
    })
    .await
}

/// The recording's delivered files by flow-log id, oldest first.
async fn delivered_files<B: DeliveryBucket>(
    bucket: &B,
    s3: &S3Delivery,
    plan: &ExportPlan,
    region: &str,
) -> Result<BTreeMap<String, Vec<DeliveredFile>>, PipelineError> {
    let accounts: Vec<String> = match bucket.folders(&s3.bucket, &s3.logs_root()).await {
        Ok(folders) => folders.iter().filter_map(|f| s3.account_of(f)).collect(),
        Err(e) if e.kind == AwsErrorKind::NotFound => return Err(missing_bucket(e, s3)),
        Err(e) => return Err(e.into()),
    };
    let mut files: BTreeMap<String, Vec<DeliveredFile>> = BTreeMap::new();
    for account in &accounts {
        for prefix in s3.folders(account, region, plan.start, plan.end + DELIVERY_LAG) {
            for object in bucket.objects(&s3.bucket, &prefix).await? {
                let Some(name) = parse_object_name(&object.key) else {
                    continue;
                };
                if name.region == region && plan.flow_log_ids.contains(&name.flow_log_id) {
                    files
                        .entry(name.flow_log_id)
                        .or_default()
                        .push(DeliveredFile {
                            key: object.key,
                            time_ms: name.time.timestamp_millis(),
                        });
                }
            }
        }
    }
    for list in files.values_mut() {
        list.sort_by(|a, b| (a.time_ms, &a.key).cmp(&(b.time_ms, &b.key)));
        list.dedup();
    }
    Ok(files)
}

fn missing_bucket(e: AwsError, s3: &S3Delivery) -> PipelineError {
    PipelineError::Aws(AwsError::new(
        e.operation,
        e.code,
        format!(
            "{}: the bucket of recording.s3_destination ({}) does not exist or is not readable; \
             `nat-flowrec doctor` checks it",
            e.message,
            s3.uri()
        ),
        e.kind,
    ))
}

/// What every flow log's read shares.
struct ReadFiles<'a, B> {
    bucket: &'a B,
    s3: &'a S3Delivery,
    plan: &'a ExportPlan,
    format: &'a LogFormat,
    progress: &'a Progress,
    downloads: &'a Semaphore,
}

impl<B: DeliveryBucket> ReadFiles<'_, B> {
    async fn read_flow_log(
        &self,
        files: &[DeliveredFile],
        path: PathBuf,
    ) -> Result<Part, PipelineError> {
        let plan = self.plan;
        let io = |source| PipelineError::Io {
            path: path.clone(),
            source,
        };
        // Which ENI a flow log records is known only when the recording has one.
        let interface_id = match plan.enis.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
        let meta = ExportMeta {
            format: self.format.clone(),
            recording_id: Some(plan.recording_id.clone()),
            nat_gateway_id: Some(plan.nat_gateway_id.clone()),
            region: plan.region.clone(),
            interface_id,
            nat_ips: plan.nat_ips.clone(),
            window_start: Some(plan.start.timestamp()),
            window_end: Some(plan.end.timestamp()),
        };
        let mut writer = ExportWriter::create(&path, &meta).map_err(io)?;
        let header = self.format.header_line();
        let (mut records, mut bytes) = (0u64, 0u64);
        let mut bodies = futures_util::stream::iter(files)
            .map(|file| self.download(file))
            .buffered(MAX_CONCURRENT_DOWNLOADS);
        while let Some(downloaded) = bodies.next().await {
            let (file, body) = downloaded?;
            let before = records;
            let mut header_seen = false;
            for line in BufReader::new(MultiGzDecoder::new(body.as_slice())).lines() {
                let line = line.map_err(|e| unreadable(self.s3, &file.key, &e.to_string()))?;
                let line = line.trim_end_matches('\r');
                if line.is_empty() {
                    continue;
                }
                if line.split_whitespace().eq(header.split(' ')) {
                    header_seen = true;
                    continue;
                }
                if !header_seen {
                    return Err(unreadable(
                        self.s3,
                        &file.key,
                        &format!(
                            "its first line `{}` is not the header of the recording's format \
                             (`{header}`)",
                            line.chars().take(200).collect::<String>()
                        ),
                    ));
                }
                writer.write_event(file.time_ms, line).map_err(io)?;
                records += 1;
                bytes += line.len() as u64 + 1;
            }
            self.progress.add(records - before);
        }
        let file = writer.finish().map_err(io)?;
        Ok(Part {
            file,
            sources: files.iter().map(|f| f.key.clone()).collect(),
            records,
            bytes,
        })
    }

    async fn download<'f>(
        &self,
        file: &'f DeliveredFile,
    ) -> Result<(&'f DeliveredFile, Vec<u8>), PipelineError> {
        let _permit = self.downloads.acquire().await.map_err(|e| {
            PipelineError::Aws(AwsError::new(
                "s3:GetObject",
                "Closed",
                e.to_string(),
                AwsErrorKind::Other,
            ))
        })?;
        let body = self.bucket.object(&self.s3.bucket, &file.key).await?;
        Ok((file, body))
    }
}

fn unreadable(s3: &S3Delivery, key: &str, detail: &str) -> PipelineError {
    PipelineError::DeliveredFileUnreadable {
        uri: format!("s3://{}/{key}", s3.bucket),
        detail: detail.to_owned(),
    }
}
