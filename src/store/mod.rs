//! Where the event log lives: a local JSON Lines file (`file`, locked for the run) or one S3
//! object (`s3`, leased for the run, written only with conditional writes). Both hold the same
//! lines (`lines`) and fold to the same state; the controller appends through `EventStore` and
//! does not know which one it has.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::core::event::{Event, EventEnvelope};

mod error;
pub mod file;
mod lines;
pub mod s3;

pub use crate::names::S3Object;
pub use error::StoreError;
pub use file::EventLog;
pub use s3::{ObjectStore, S3Log};

/// What the controller needs of an event log: the events so far, and a durable append.
/// Object-safe (the append future is boxed), so `Job` holds `&mut dyn EventStore`.
pub trait EventStore {
    /// Every event, oldest first, including those this run appended.
    fn events(&self) -> &[EventEnvelope];
    /// Appends `events` as the next seqs, all stamped `at`, and returns once they are durable
    /// (fsynced, or acknowledged by S3); returns them as written.
    fn append<'a>(
        &'a mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<EventEnvelope>, StoreError>> + 'a>>;
}

impl EventStore for EventLog {
    fn events(&self) -> &[EventEnvelope] {
        EventLog::events(self)
    }

    fn append<'a>(
        &'a mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<EventEnvelope>, StoreError>> + 'a>> {
        let result = EventLog::append(self, events, at);
        Box::pin(std::future::ready(result))
    }
}

/// The configuration's `state`: a path, or `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    File(PathBuf),
    S3(S3Object),
}

impl StateLocation {
    /// Errors say what a valid S3 location looks like (the configuration checks this too).
    pub fn of(state: &Path) -> Result<StateLocation, StoreError> {
        match state.to_str().and_then(S3Object::in_text) {
            None => Ok(StateLocation::File(state.to_path_buf())),
            Some(Ok(location)) => Ok(StateLocation::S3(location)),
            Some(Err(e)) => Err(StoreError::BadLocation {
                state: state.display().to_string(),
                expected: e.expected,
            }),
        }
    }
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateLocation::File(path) => write!(f, "{}", path.display()),
            StateLocation::S3(location) => write!(f, "{location}"),
        }
    }
}

/// The event log a command opened, whichever backend holds it.
pub enum Store {
    File(EventLog),
    S3(S3Log<aws_sdk_s3::Client>),
}

impl Store {
    /// Takes the run's lock (file) or lease (S3), waiting up to `wait` for another run's. `s3`
    /// makes the client, only when the log is in S3.
    pub async fn open(
        location: &StateLocation,
        s3: impl AsyncFnOnce() -> aws_sdk_s3::Client,
        wait: Duration,
    ) -> Result<Store, StoreError> {
        Ok(match location {
            StateLocation::File(path) => Store::File(EventLog::open(path, wait)?),
            StateLocation::S3(at) => Store::S3(S3Log::open(s3().await, at.clone(), wait).await?),
        })
    }

    /// Reads without lock or lease (status, history).
    pub async fn read(
        location: &StateLocation,
        s3: impl AsyncFnOnce() -> aws_sdk_s3::Client,
    ) -> Result<Store, StoreError> {
        Ok(match location {
            StateLocation::File(path) => Store::File(EventLog::read(path)?),
            StateLocation::S3(at) => Store::S3(S3Log::read(s3().await, at.clone()).await?),
        })
    }

    pub fn events(&self) -> &[EventEnvelope] {
        match self {
            Store::File(log) => EventLog::events(log),
            Store::S3(log) => S3Log::events(log),
        }
    }

    pub fn warnings(&self) -> &[String] {
        match self {
            Store::File(log) => log.warnings(),
            Store::S3(log) => log.warnings(),
        }
    }

    /// Ends the run's hold: the file lock goes with the file handle; the S3 lease is cleared
    /// (a run that never gets here leaves it to lapse).
    pub async fn release(self) -> Result<(), StoreError> {
        match self {
            Store::File(log) => {
                drop(log);
                Ok(())
            }
            Store::S3(mut log) => log.release().await,
        }
    }
}

impl EventStore for Store {
    fn events(&self) -> &[EventEnvelope] {
        Store::events(self)
    }

    fn append<'a>(
        &'a mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<EventEnvelope>, StoreError>> + 'a>> {
        match self {
            Store::File(log) => EventStore::append(log, events, at),
            Store::S3(log) => EventStore::append(log, events, at),
        }
    }
}
