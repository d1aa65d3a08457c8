//! Finishing a stopped recording: `export` reads what its flow logs delivered to CloudWatch
//! Logs (or `s3_export`, to S3) into one self-describing file per ENI (per flow log), `report` turns those files into the report and
//! measures its `coverage` against the NAT's own metrics, `notify` publishes the summary to SNS.
//! Each step is a function over the ports and the recording as the event log knows it; the
//! controller decides which step is due (`core::finish`) and appends the event each earns.
//! `insights` writes the Logs Insights query a notification offers for a closer look (and runs
//! the server-side report of `report --engine insights`); `upload` puts the report files in S3
//! for a pre-signed link. `athena` runs the report of flow logs delivered to S3 in Amazon Athena
//! (`report --engine athena`).

pub mod athena;
pub mod chat;
pub mod dns_export;
mod error;
pub mod export;
pub mod insights;
pub mod month;
pub mod notify;
pub mod pace;
mod parts;
pub mod progress;
pub mod report;
mod resume;
pub mod s3_export;
pub mod upload;

pub use error::PipelineError;
pub use export::{ExportPlan, Exported};
pub use parts::MAX_CONCURRENT_PARTS;
pub use progress::Progress;
pub use report::{CoverageMetrics, RecordingReport};
