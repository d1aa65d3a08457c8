//! The event log as one S3 object (`state = "s3://bucket/key"`), for runs that have no disk of
//! their own (Lambda). Same JSON Lines and fold as the file backend (`lines`); what replaces the
//! file lock is a **lease** kept in the object's metadata, and every write is conditional on
//! the ETag this run last saw (`If-Match`, or `If-None-Match: *` when the object does not exist
//! yet), so two runs can never both write:
//!
//! * `open` takes the lease by rewriting the object unchanged with `holder` and `until` in its
//!   metadata. Two runs that race for it both write conditionally on the same ETag: one wins, the
//!   other gets 412, re-reads, sees the lease and waits (then leaves the work to the holder,
//!   like a locked file). So exactly one run decides and acts at a time.
//! * `append` writes the whole log plus the new lines (and renews the lease), again on the ETag.
//!   A 412 there means someone wrote although we held the lease (ours lapsed, or a person edited
//!   the object): re-read; if another run now holds the lease, stop; if the object still starts
//!   with what we read, put our events after the new ones and retry (bounded); never overwrite.
//! * `release` clears the lease at the end of the run; a run that dies leaves it to lapse.
//!
//! The lease runs on the wall clock (not `--now`): it is about real runs overlapping.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use super::lines::{self, Parsed};
use super::{EventStore, StoreError};
use crate::core::event::{Event, EventEnvelope, rfc3339};
use crate::names::S3Object;
use crate::ports::AwsError;

/// How long a lease lasts without a write. Longer than any run (the Lambda's timeout is 5
/// minutes, every append renews it); short enough that a run that died blocks the job briefly.
pub const LEASE: TimeDelta = TimeDelta::minutes(10);
/// Conditional writes one append may lose to other writers before it gives up.
pub const MAX_WRITE_ATTEMPTS: u32 = 5;
/// How often a run waiting for another run's lease looks again.
const LEASE_POLL: Duration = Duration::from_millis(500);
/// Object metadata (`x-amz-meta-*`) that holds the lease.
pub const META_LEASE_HOLDER: &str = "nat-flowrec-lease-holder";
pub const META_LEASE_UNTIL: &str = "nat-flowrec-lease-until";

/// An object as GetObject returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub body: Vec<u8>,
    /// What `If-Match` compares with (S3's quoted form, sent back as received).
    pub etag: String,
    /// User metadata (`x-amz-meta-*`, without the prefix).
    pub metadata: BTreeMap<String, String>,
}

/// The condition a write is made on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-None-Match: *`: only if the object does not exist.
    Absent,
    /// `If-Match: <etag>`: only if the object is still the version this run saw.
    Matches(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Done {
        etag: String,
    },
    /// 412 Precondition Failed (or 409 ConditionalRequestConflict): someone wrote first.
    Conflict,
}

/// What the S3 event log needs from S3: read an object with its ETag, write one conditionally.
/// Implemented on `aws_sdk_s3::Client` (src/aws/state_object.rs) and by fakes in tests.
pub trait ObjectStore {
    /// GetObject; `None` when the key does not exist (a missing bucket is an error).
    fn read_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<StoredObject>, AwsError>>;
    /// PutObject on a precondition.
    fn write_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        metadata: BTreeMap<String, String>,
        precondition: Precondition,
    ) -> impl Future<Output = Result<Written, AwsError>>;
}

/// Who holds the object: a run, until a time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lease {
    holder: String,
    until: DateTime<Utc>,
}

impl Lease {
    fn of(metadata: &BTreeMap<String, String>) -> Option<Lease> {
        let holder = metadata.get(META_LEASE_HOLDER)?;
        let until = DateTime::parse_from_rfc3339(metadata.get(META_LEASE_UNTIL)?).ok()?;
        Some(Lease {
            holder: holder.clone(),
            until: until.with_timezone(&Utc),
        })
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (META_LEASE_HOLDER.to_string(), self.holder.clone()),
            (META_LEASE_UNTIL.to_string(), rfc3339(&self.until)),
        ])
    }
}

/// The wall clock leases are measured on (a fixed one in tests).
pub type Clock = fn() -> DateTime<Utc>;

/// The event log in S3, read into memory; appendable while this run holds the lease.
pub struct S3Log<O: ObjectStore> {
    objects: O,
    location: S3Object,
    /// `s3://bucket/key` as a path, for the errors the line format shares with files.
    origin: PathBuf,
    /// The object's body as this run last read or wrote it.
    body: Vec<u8>,
    parsed: Parsed,
    /// `None` while the object does not exist.
    etag: Option<String>,
    /// Held by this run (`open`); `None` when read-only or released.
    lease: Option<Lease>,
    holder: String,
    clock: Clock,
}

impl<O: ObjectStore> S3Log<O> {
    /// Reads the log without taking the lease (status, history): nothing is written.
    pub async fn read(objects: O, location: S3Object) -> Result<S3Log<O>, StoreError> {
        let mut log = S3Log::new(objects, location, String::new(), Utc::now);
        let object = log.fetch().await?;
        log.load(object)?;
        Ok(log)
    }

    /// Takes the lease for this run (waiting up to `wait` for another run's lease to end, then
    /// `StoreError::Leased`) and reads every event.
    pub async fn open(
        objects: O,
        location: S3Object,
        wait: Duration,
    ) -> Result<S3Log<O>, StoreError> {
        S3Log::open_as(objects, location, wait, run_id(), Utc::now).await
    }

    /// `open` with the holder's name and the clock given (tests).
    pub async fn open_as(
        objects: O,
        location: S3Object,
        wait: Duration,
        holder: String,
        clock: Clock,
    ) -> Result<S3Log<O>, StoreError> {
        let mut log = S3Log::new(objects, location, holder, clock);
        let started = Instant::now();
        let mut lost = 0;
        loop {
            let object = log.fetch().await?;
            let now = (log.clock)();
            if let Some(theirs) = object
                .as_ref()
                .and_then(|o| Lease::of(&o.metadata))
                .filter(|l| l.until > now && l.holder != log.holder)
            {
                let waited = started.elapsed();
                if waited >= wait {
                    return Err(StoreError::Leased {
                        uri: log.location.to_string(),
                        holder: theirs.holder,
                        until: theirs.until,
                        waited,
                    });
                }
                tokio::time::sleep(LEASE_POLL.min(wait - waited)).await;
                continue;
            }
            // Read before writing: a damaged log is reported, not leased.
            log.load(object)?;
            let lease = Lease {
                holder: log.holder.clone(),
                until: now + LEASE,
            };
            match log.write(log.body.clone(), lease.metadata()).await? {
                Written::Done { etag } => {
                    log.etag = Some(etag);
                    log.lease = Some(lease);
                    return Ok(log);
                }
                // Another run wrote between our read and our write: look again.
                Written::Conflict => {
                    lost += 1;
                    if lost >= MAX_WRITE_ATTEMPTS {
                        return Err(StoreError::Contended {
                            uri: log.location.to_string(),
                            attempts: lost,
                            pending: 0,
                        });
                    }
                }
            }
        }
    }

    fn new(objects: O, location: S3Object, holder: String, clock: Clock) -> S3Log<O> {
        S3Log {
            origin: PathBuf::from(location.to_string()),
            objects,
            location,
            body: Vec::new(),
            parsed: Parsed::default(),
            etag: None,
            lease: None,
            holder,
            clock,
        }
    }

    pub fn uri(&self) -> String {
        self.location.to_string()
    }

    pub fn events(&self) -> &[EventEnvelope] {
        &self.parsed.events
    }

    pub fn warnings(&self) -> &[String] {
        &self.parsed.warnings
    }

    /// Whether this run holds the lease (it may append).
    pub fn is_leased(&self) -> bool {
        self.lease.is_some()
    }

    /// Clears the lease so the next run need not wait for it to lapse. Best effort: if someone
    /// wrote since, the lease is theirs now (or lapses by itself).
    pub async fn release(&mut self) -> Result<(), StoreError> {
        if self.lease.take().is_none() {
            return Ok(());
        }
        self.write(self.body.clone(), BTreeMap::new())
            .await
            .map(|written| {
                if let Written::Done { etag } = written {
                    self.etag = Some(etag);
                }
            })
    }

    /// Appends `events` as the next seqs, all stamped `at`, with one conditional write (more
    /// only when another writer got in first). Returns them as written.
    pub async fn append(
        &mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        if self.lease.is_none() {
            return Err(StoreError::ReadOnly {
                path: self.origin.clone(),
            });
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let pending = events.len();
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let (text, written) = lines::encode(
                events.clone(),
                self.parsed.last_seq() + 1,
                at,
                self.parsed.needs_newline,
                &self.origin,
            )?;
            // A torn tail (never written by S3 itself, but a hand upload may have one) goes.
            let valid = usize::try_from(self.parsed.valid_len).unwrap_or(self.body.len());
            let mut body = self.body.get(..valid).unwrap_or(&self.body).to_vec();
            body.extend_from_slice(text.as_bytes());
            let lease = Lease {
                holder: self.holder.clone(),
                until: (self.clock)() + LEASE,
            };
            match self.write(body.clone(), lease.metadata()).await? {
                Written::Done { etag } => {
                    self.etag = Some(etag);
                    self.lease = Some(lease);
                    self.parsed.valid_len = body.len() as u64;
                    self.parsed.needs_newline = false;
                    self.body = body;
                    self.parsed.events.extend(written.iter().cloned());
                    return Ok(written);
                }
                Written::Conflict => self.catch_up(pending).await?,
            }
        }
        Err(StoreError::Contended {
            uri: self.location.to_string(),
            attempts: MAX_WRITE_ATTEMPTS,
            pending,
        })
    }

    /// After a lost write: takes in what the other writer appended, or says why we cannot.
    async fn catch_up(&mut self, pending: usize) -> Result<(), StoreError> {
        let object = self.fetch().await?;
        let now = (self.clock)();
        if let Some(theirs) = object
            .as_ref()
            .and_then(|o| Lease::of(&o.metadata))
            .filter(|l| l.until > now && l.holder != self.holder)
        {
            self.lease = None;
            return Err(StoreError::LeaseLost {
                uri: self.location.to_string(),
                holder: theirs.holder,
                pending,
            });
        }
        let ours = self.parsed.events.clone();
        let before = std::mem::take(&mut self.parsed);
        let body = std::mem::take(&mut self.body);
        let etag = self.etag.take();
        if let Err(err) = self.load(object) {
            (self.parsed, self.body, self.etag) = (before, body, etag);
            return Err(err);
        }
        if self.parsed.events.get(..ours.len()) != Some(ours.as_slice()) {
            (self.parsed, self.body, self.etag) = (before, body, etag);
            return Err(StoreError::Rewritten {
                uri: self.location.to_string(),
                pending,
            });
        }
        Ok(())
    }

    async fn fetch(&self) -> Result<Option<StoredObject>, StoreError> {
        self.objects
            .read_object(self.location.bucket(), self.location.key())
            .await
            .map_err(|source| StoreError::S3 {
                uri: self.location.to_string(),
                source,
            })
    }

    fn load(&mut self, object: Option<StoredObject>) -> Result<(), StoreError> {
        let (body, etag) = match object {
            Some(o) => (o.body, Some(o.etag)),
            None => (Vec::new(), None),
        };
        self.parsed = lines::parse(&body, Path::new(&self.origin))?;
        self.body = body;
        self.etag = etag;
        Ok(())
    }

    async fn write(
        &self,
        body: Vec<u8>,
        metadata: BTreeMap<String, String>,
    ) -> Result<Written, StoreError> {
        let precondition = match &self.etag {
            Some(etag) => Precondition::Matches(etag.clone()),
            None => Precondition::Absent,
        };
        self.objects
            .write_object(
                self.location.bucket(),
                self.location.key(),
                body,
                metadata,
                precondition,
            )
            .await
            .map_err(|source| StoreError::S3 {
                uri: self.location.to_string(),
                source,
            })
    }
}

impl<O: ObjectStore> EventStore for S3Log<O> {
    fn events(&self) -> &[EventEnvelope] {
        S3Log::events(self)
    }

    fn append<'a>(
        &'a mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<EventEnvelope>, StoreError>> + 'a>> {
        Box::pin(S3Log::append(self, events, at))
    }
}

/// Names this run in the lease: the host (or the Lambda's log stream), the process and a time
/// stamp, so two runs never share a name.
fn run_id() -> String {
    let host = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "host".to_string());
    format!(
        "{host}/pid-{}/{}",
        std::process::id(),
        Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
    )
}

#[cfg(test)]
#[path = "s3_tests.rs"]
mod tests;
