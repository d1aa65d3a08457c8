//! An export is made of parts, one file each: an ENI's streams read from CloudWatch Logs
//! (`export.rs`), or a flow log's files read from S3 (`s3_export.rs`). This runs them at once
//! (at most `MAX_CONCURRENT_PARTS`), skips the parts an interrupted run finished (`resume.rs`),
//! records each part as soon as its file is complete, and sums them in the recording's order.

use std::future::Future;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use super::export::Exported;
use super::resume::{ExportKey, FinishedEni, ResumePoint};
use super::{PipelineError, Progress};

/// Parts read at the same time. A NAT has a handful of ENIs; the pacer (CloudWatch Logs) or the
/// download bound (S3), not this, keeps the export within its limits.
pub const MAX_CONCURRENT_PARTS: usize = 16;

/// One part's complete file: what it read (log streams, S3 objects) and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub file: PathBuf,
    pub sources: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

/// The file of part `id` (an ENI or a flow log) in the recording's folder.
pub fn part_file(folder: &Path, id: &str) -> PathBuf {
    folder.join(format!("{id}.log.gz"))
}

/// Exports every part of `ids` into `folder` with `read(id, file)`, resuming an interrupted
/// export of the same `key`. A part that read nothing is listed in `enis_without_stream`.
pub async fn export_parts<F, Fut>(
    folder: &Path,
    key: &ExportKey,
    ids: &[String],
    progress: &Progress,
    read: F,
) -> Result<Exported, PipelineError>
where
    F: Fn(String, PathBuf) -> Fut,
    Fut: Future<Output = Result<Part, PipelineError>>,
{
    let resume = std::sync::Mutex::new(ResumePoint::load(folder, key, |id| part_file(folder, id)));
    let with_resume = |f: &mut dyn FnMut(&mut ResumePoint)| {
        let mut guard = resume
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard);
    };
    let one = |id: &String| {
        let id = id.clone();
        let read = &read;
        async move {
            let mut done = None;
            with_resume(&mut |r| done = r.finished.get(&id).cloned());
            if let Some(done) = done {
                progress.add(done.records);
                let part = Part {
                    file: part_file(folder, &id),
                    sources: done.streams,
                    records: done.records,
                    bytes: done.bytes,
                };
                return Ok((id, part));
            }
            let part = read(id.clone(), part_file(folder, &id)).await?;
            let mut saved = Ok(());
            with_resume(&mut |r| {
                r.finished.insert(
                    id.clone(),
                    FinishedEni {
                        streams: part.sources.clone(),
                        records: part.records,
                        bytes: part.bytes,
                    },
                );
                saved = r.save(folder);
            });
            saved.map_err(|source| PipelineError::Io {
                path: folder.to_path_buf(),
                source,
            })?;
            Ok::<_, PipelineError>((id, part))
        }
    };
    let results: Vec<Result<(String, Part), PipelineError>> = futures_util::stream::iter(ids)
        .map(one)
        .buffer_unordered(MAX_CONCURRENT_PARTS)
        .collect()
        .await;
    let mut parts = Vec::with_capacity(results.len());
    for result in results {
        parts.push(result?);
    }
    ResumePoint::clear(folder).map_err(|source| PipelineError::Io {
        path: folder.to_path_buf(),
        source,
    })?;
    parts.sort_by_key(|(id, _)| ids.iter().position(|x| x == id));
    let mut out = Exported::default();
    for (id, part) in parts {
        out.files.push(part.file);
        out.records += part.records;
        out.bytes += part.bytes;
        if part.sources.is_empty() {
            out.enis_without_stream.push(id);
        }
        out.streams.extend(part.sources);
    }
    Ok(out)
}
