//! The report files of a recording uploaded to `notify.report_s3_uri`, and a pre-signed link to
//! its HTML report (charts and tables in one page) for the notification (SNS e-mail carries no attachments). Keys:
//! `<prefix>/<recording-id>/report/<file>`; uploading again overwrites, so a re-sent
//! notification links the same objects.

use std::path::Path;
use std::time::Duration;

use super::PipelineError;
use crate::names::S3Uri;
use crate::ports::ReportStore;

/// The file the link points at: self-contained, readable in a browser and on a phone.
pub const LINKED_FILE: &str = "report.html";

/// Where the report went and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLink {
    /// Pre-signed GET of the HTML report.
    pub url: String,
    /// `s3://bucket/prefix/<recording-id>/report/`.
    pub folder: String,
    pub valid_seconds: u64,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("md") => "text/markdown; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

/// Uploads every file of `dir` (the recording's report folder) and pre-signs the HTML one.
pub async fn upload<S: ReportStore>(
    store: &S,
    uri: &S3Uri,
    recording_id: &str,
    dir: &Path,
    valid_seconds: u64,
) -> Result<ReportLink, PipelineError> {
    let bucket = uri.bucket();
    let base = uri.key(&format!("{recording_id}/report"));
    let io = |source| PipelineError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.ends_with(".tmp") && !n.starts_with('.'))
        .collect();
    names.sort();
    for name in &names {
        let path = dir.join(name);
        let body = std::fs::read(&path).map_err(|source| PipelineError::Io { path, source })?;
        store
            .put_report_file(bucket, &format!("{base}/{name}"), body, content_type(name))
            .await?;
    }
    let url = store
        .presigned_url(
            bucket,
            &format!("{base}/{LINKED_FILE}"),
            Duration::from_secs(valid_seconds),
        )
        .await?;
    Ok(ReportLink {
        url,
        folder: format!("s3://{bucket}/{base}/"),
        valid_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_follow_the_extension() {
        assert!(content_type("talkers.csv").starts_with("text/csv"));
        assert_eq!(content_type("report.json"), "application/json");
        assert!(content_type("report.md").starts_with("text/markdown"));
        assert_eq!(content_type("report.html"), "text/html; charset=utf-8");
        assert!(content_type("email.txt").starts_with("text/plain"));
    }
}
