//! Where the event log lives. Today a local JSON Lines file (`file`); the log is append-only and
//! replayed whole, so another home (S3, for a Lambda) only has to read lines and append lines.

pub mod file;

pub use file::{EventLog, StoreError};
