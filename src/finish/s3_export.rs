//! Export of a recording whose flow logs delivered to S3: the same self-describing files as the
//! CloudWatch Logs export (`export.rs`), one per flow log (`<flow-log-id>.log.gz`), so `report`
//! reads both alike.
//!
//! The files are found without reading any: the account folders below `<prefix>/AWSLogs/`,
//! then, per account, the day (or hour) folders of the recording's window in the recording's
//! region (`s3_layout`), keeping the files whose name carries one of the recording's flow-log
//! ids. They are downloaded in parallel (at most `MAX_CONCURRENT_DOWNLOADS` at once, in key
//! order per flow log), decompressed, their header line checked against the recording's format
//! (a Parquet file, told by its magic bytes, is read as the lines of that format, a column per
//! field), and each record written with the file's time (minute precision: plain-text files carry no
//! per-record timestamp unless the format has `${start}`). S3 has no account-wide read quota like
//! CloudWatch Logs, so there is no pacer. A flow log's file is complete before it is recorded in
//! `.export-progress.json` (`resume.rs`), so a killed export resumes with the flow logs left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use futures_util::StreamExt;
use nat_flowrec_parsers::export::{ExportMeta, ExportWriter};
use nat_flowrec_parsers::{LogFormat, ParquetText, is_parquet};
use tokio::sync::Semaphore;

use super::export::{ExportPlan, Exported};
use super::parts::{Part, export_parts};
use super::resume::ExportKey;
use super::{PipelineError, Progress};
use crate::ports::{AwsError, AwsErrorKind, DeliveryBucket};
use crate::s3_layout::{DELIVERY_LAG, FILE_SPAN, S3Delivery, parse_object_name};

/// Objects downloaded at the same time, across the recording's flow logs. Each is held whole in
/// memory until written (a delivered file is at most a few tens of MB compressed).
pub const MAX_CONCURRENT_DOWNLOADS: usize = 16;

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
        for prefix in s3.folders(
            account,
            region,
            plan.start - FILE_SPAN,
            plan.end + DELIVERY_LAG,
        ) {
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
            let mut write = |line: &str| -> Result<(), PipelineError> {
                writer.write_event(file.time_ms, line).map_err(io)?;
                records += 1;
                bytes += line.len() as u64 + 1;
                Ok(())
            };
            if is_parquet(&body) {
                self.parquet_records(file, body, &mut write)?;
            } else {
                self.text_records(file, &body, &header, &mut write)?;
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

    /// A plain-text file's records: gzip, its header line first (checked against the
    /// recording's format), then one record a line.
    fn text_records(
        &self,
        file: &DeliveredFile,
        body: &[u8],
        header: &str,
        write: &mut impl FnMut(&str) -> Result<(), PipelineError>,
    ) -> Result<(), PipelineError> {
        let mut header_seen = false;
        for line in BufReader::new(MultiGzDecoder::new(body)).lines() {
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
            write(line)?;
        }
        Ok(())
    }

    /// A Parquet file's rows as the lines of the recording's format (`-` where a row has no
    /// value); a field of the format without its column is an error naming both.
    fn parquet_records(
        &self,
        file: &DeliveredFile,
        body: Vec<u8>,
        write: &mut impl FnMut(&str) -> Result<(), PipelineError>,
    ) -> Result<(), PipelineError> {
        let text = ParquetText::from_bytes(body, Some(self.format))
            .map_err(|e| unreadable(self.s3, &file.key, &e.to_string()))?;
        for line in BufReader::new(text).lines() {
            let line = line.map_err(|e| unreadable(self.s3, &file.key, &e.to_string()))?;
            write(&line)?;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::Write as _;

    use chrono::{DateTime, TimeZone, Utc};
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::config::ExportConfig;
    use crate::ports::ObjectEntry;
    use crate::s3_layout::{S3FileFormat, object_name};

    const FORMAT: &str = "${srcaddr} ${dstaddr} ${bytes}";
    const ACCOUNT: &str = "123456789012";

    /// A bucket in memory: records every GetObject and fails the one of `broken`.
    #[derive(Default)]
    struct FakeBucket {
        objects: BTreeMap<String, Vec<u8>>,
        gets: RefCell<Vec<String>>,
        broken: RefCell<Option<String>>,
    }

    impl DeliveryBucket for FakeBucket {
        async fn folders(&self, _bucket: &str, prefix: &str) -> Result<Vec<String>, AwsError> {
            let mut out: Vec<String> = self
                .objects
                .keys()
                .filter_map(|k| k.strip_prefix(prefix)?.split_once('/'))
                .map(|(folder, _)| format!("{prefix}{folder}/"))
                .collect();
            out.dedup();
            Ok(out)
        }

        async fn objects(&self, _bucket: &str, prefix: &str) -> Result<Vec<ObjectEntry>, AwsError> {
            Ok(self
                .objects
                .iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| ObjectEntry {
                    key: k.clone(),
                    size: v.len() as u64,
                })
                .collect())
        }

        async fn object(&self, _bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
            self.gets.borrow_mut().push(key.to_owned());
            if self.broken.borrow().as_deref() == Some(key) {
                return Err(AwsError::new(
                    "s3:GetObject",
                    "InternalError",
                    "try again",
                    AwsErrorKind::Service,
                ));
            }
            self.objects.get(key).cloned().ok_or_else(|| {
                AwsError::new("s3:GetObject", "NoSuchKey", key, AwsErrorKind::NotFound)
            })
        }
    }

    fn delivery() -> S3Delivery {
        S3Delivery {
            bucket: "flows".into(),
            prefix: "nat".into(),
            file_format: S3FileFormat::PlainText,
            hive_compatible_partitions: false,
            per_hour_partition: false,
        }
    }

    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, day, h, m, 0).unwrap()
    }

    fn gz(header: &str, records: usize) -> Vec<u8> {
        let mut out = GzEncoder::new(Vec::new(), Compression::fast());
        writeln!(out, "{header}").unwrap();
        for i in 0..records {
            writeln!(out, "10.0.0.{i} 52.94.0.1 {}", 100 + i).unwrap();
        }
        out.finish().unwrap()
    }

    /// Puts a file of `flow_log` dated `t` with `records` records; returns its key.
    fn put(
        bucket: &mut FakeBucket,
        flow_log: &str,
        region: &str,
        t: DateTime<Utc>,
        records: usize,
    ) -> String {
        let s3 = delivery();
        let key = format!(
            "{}{}",
            s3.folder(ACCOUNT, region, t),
            object_name(ACCOUNT, region, flow_log, t, "h", S3FileFormat::PlainText)
        );
        bucket
            .objects
            .insert(key.clone(), gz("srcaddr dstaddr bytes", records));
        key
    }

    fn plan() -> ExportPlan {
        ExportPlan {
            recording_id: "rec-1".into(),
            nat_gateway_id: "nat-0abc".into(),
            region: Some("eu-west-1".into()),
            enis: vec!["eni-1".into(), "eni-2".into()],
            flow_log_ids: vec!["fl-1".into(), "fl-2".into()],
            nat_ips: Vec::new(),
            log_group: String::new(),
            s3: Some(delivery()),
            log_format: FORMAT.into(),
            start: at(1, 23, 50),
            end: at(2, 0, 10),
            read: ExportConfig::default(),
        }
    }

    async fn run(bucket: &FakeBucket, out: &Path) -> Result<Exported, PipelineError> {
        let plan = plan();
        std::fs::create_dir_all(plan.folder(out)).unwrap();
        let format = LogFormat::parse(FORMAT).unwrap();
        export(
            bucket,
            &delivery(),
            &plan,
            &format,
            out,
            &Progress::hidden(),
        )
        .await
    }

    #[tokio::test]
    async fn the_recordings_files_are_read_across_days_and_a_killed_export_resumes_per_flow_log() {
        let mut bucket = FakeBucket::default();
        put(&mut bucket, "fl-1", "eu-west-1", at(1, 23, 55), 3);
        put(&mut bucket, "fl-1", "eu-west-1", at(2, 0, 5), 2);
        let second = put(&mut bucket, "fl-2", "eu-west-1", at(2, 0, 0), 4);
        // Not the recording's: another flow log, another region, a later day.
        put(&mut bucket, "fl-9", "eu-west-1", at(2, 0, 0), 50);
        put(&mut bucket, "fl-1", "us-east-1", at(2, 0, 0), 50);
        put(&mut bucket, "fl-1", "eu-west-1", at(5, 0, 0), 50);
        let dir = tempfile::tempdir().unwrap();

        // The first run dies on fl-2's file: fl-1's file is complete and remembered.
        *bucket.broken.borrow_mut() = Some(second.clone());
        assert!(run(&bucket, dir.path()).await.is_err());
        *bucket.broken.borrow_mut() = None;
        bucket.gets.borrow_mut().clear();

        let exported = run(&bucket, dir.path()).await.unwrap();
        assert_eq!(
            *bucket.gets.borrow(),
            [second],
            "fl-1's files are not read again"
        );
        assert_eq!(exported.records, 3 + 2 + 4, "none lost, none twice");
        assert_eq!(exported.streams.len(), 3);
        assert!(exported.enis_without_stream.is_empty());
        let folder = plan().folder(dir.path());
        assert_eq!(
            exported.files,
            [folder.join("fl-1.log.gz"), folder.join("fl-2.log.gz")]
        );
        assert!(!folder.join(super::super::resume::PROGRESS_FILE).exists());
    }

    #[tokio::test]
    async fn a_file_of_another_format_is_refused_naming_it_and_a_flow_log_without_files_is_listed()
    {
        let mut bucket = FakeBucket::default();
        let key = put(&mut bucket, "fl-1", "eu-west-1", at(2, 0, 0), 1);
        bucket
            .objects
            .insert(key.clone(), gz("version srcaddr dstaddr", 1));
        let dir = tempfile::tempdir().unwrap();
        let err = run(&bucket, dir.path()).await.unwrap_err().to_string();
        assert!(err.contains(&format!("s3://flows/{key}")), "{err}");
        assert!(err.contains("srcaddr dstaddr bytes"), "{err}");

        bucket.objects.clear();
        put(&mut bucket, "fl-1", "eu-west-1", at(2, 0, 0), 1);
        let exported = run(&bucket, dir.path()).await.unwrap();
        assert_eq!(exported.enis_without_stream, ["fl-2"]);
    }
}
