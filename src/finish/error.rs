//! What can go wrong while finishing a recording, each with what to do about it. A failed step
//! appends nothing: the next `check` (or the same command again) tries it again.

use std::path::PathBuf;

use nat_flowrec_reports::ReportError;

use crate::ports::AwsError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "cannot write the export file {path}: {source}; check the folder (report.out_dir or --out) is writable and has space"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot read the delivered flow-log file {uri}: {detail}; a plain-text or Parquet file of the recording's format was expected"
    )]
    DeliveredFileUnreadable { uri: String, detail: String },
    #[error("no recording {0} in the event log; `nat-flowrec history` lists them")]
    UnknownRecording(String),
    #[error(
        "recording {0} is still recording: stop it first (`nat-flowrec stop --nat ...`), then export"
    )]
    NotStopped(String),
    #[error("recording {0} has no network interfaces in the event log: there is nothing to export")]
    NoInterfaces(String),
    #[error("recording {0} is not exported yet: run `nat-flowrec export --recording {0}` first")]
    NotExported(String),
    #[error(
        "recording {recording_id}: its export files cannot be read ({detail}); export it again with `nat-flowrec export --recording {recording_id}`"
    )]
    ExportUnreadable {
        recording_id: String,
        detail: String,
    },
    #[error("report of recording {recording_id}: {source}")]
    Report {
        recording_id: String,
        #[source]
        source: ReportError,
    },
    #[error("no SNS topic to notify: set notify.sns_topic_arn in the configuration")]
    NoTopic,
    #[error(
        "the notification of recording {recording_id} is {bytes} bytes even without the report JSON; SNS takes at most {max}"
    )]
    MessageTooLarge {
        recording_id: String,
        bytes: usize,
        max: usize,
    },
    #[error(
        "recording {0}: its log format lacks srcaddr, dstaddr, pkt-srcaddr, pkt-dstaddr or bytes, which the Insights query needs to count each NAT connection once; report its export files instead"
    )]
    InsightsFormat(String),
    #[error(
        "recording {0} delivered its flow logs to S3, not to a log group Logs Insights could query; report its export files instead (`nat-flowrec export --recording {0}`, then `nat-flowrec report`)"
    )]
    DeliveredToS3(String),
    #[error("cannot encode the notification: {0}")]
    Encode(#[from] serde_json::Error),
}
