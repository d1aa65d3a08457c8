//! The event log on disk: append-only JSON Lines, one event per line, fsynced after every
//! append, guarded by an exclusive lock on `<log>.lock` for the whole run so two runs (cron and a
//! hand-started `check`) cannot decide from the same state and both act.
//!
//! A crash while appending can leave a torn last line (no newline, not JSON): it is dropped with
//! a warning and truncated away before the next append. A bad line anywhere else is not a crash
//! artefact but damage, and stops the job with the file and line number: deciding from a log
//! with a hole in it could record twice or never stop a recording.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::{StoreError, lines};
use crate::core::event::{Event, EventEnvelope};

/// How often a waiting `open` retries the lock.
const LOCK_POLL: Duration = Duration::from_millis(50);

/// The event log, read into memory, ready to append to (when opened with the lock).
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    events: Vec<EventEnvelope>,
    warnings: Vec<String>,
    /// Bytes of the file that hold the events read: anything after them is a torn line.
    valid_len: u64,
    /// The last valid line has no newline (it was complete but its newline was lost).
    needs_newline: bool,
    /// Held for the life of the log; `None` when read-only. Dropping the file releases it.
    lock: Option<File>,
}

impl EventLog {
    /// Takes the run's exclusive lock (retrying until `wait` has passed, then
    /// `StoreError::Locked`), creates the parent folders, and reads every event. A missing file is
    /// an empty log; it is created by the first append.
    pub fn open(path: &Path, wait: Duration) -> Result<EventLog, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                action: "create the folder",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let lock = lock(&lock_path(path), wait)?;
        let mut log = EventLog::load(path)?;
        log.lock = Some(lock);
        Ok(log)
    }

    /// Reads the log without the lock and without repairing it (for `status` and `history`).
    pub fn read(path: &Path) -> Result<EventLog, StoreError> {
        EventLog::load(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn events(&self) -> &[EventEnvelope] {
        &self.events
    }

    /// What reading recovered from (a torn last line), for the caller to show.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |e| e.seq)
    }

    /// Appends `events` with the next sequence numbers, all stamped `at`, in one write followed
    /// by fsync; returns them as written. On error nothing is counted as written, and a partial
    /// line is truncated away by the next append.
    pub fn append(
        &mut self,
        events: Vec<Event>,
        at: DateTime<Utc>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        if self.lock.is_none() {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (buf, written) = lines::encode(
            events,
            self.last_seq() + 1,
            at,
            self.needs_newline,
            &self.path,
        )?;

        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io {
                action,
                path,
                source,
            }
        };
        let existed = self.path.exists();
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .map_err(io("open for appending", &self.path))?;
        let len = file.metadata().map_err(io("inspect", &self.path))?.len();
        if len < self.valid_len {
            return Err(StoreError::Shrunk {
                path: self.path.clone(),
            });
        }
        if len > self.valid_len {
            // The torn line found on open, or the remains of an append that failed half-way.
            file.set_len(self.valid_len)
                .map_err(io("truncate the torn last line of", &self.path))?;
        }
        file.seek(SeekFrom::Start(self.valid_len))
            .map_err(io("seek in", &self.path))?;
        file.write_all(buf.as_bytes())
            .map_err(io("append to", &self.path))?;
        file.sync_all().map_err(io("fsync", &self.path))?;
        if !existed {
            sync_parent(&self.path);
        }

        self.valid_len += buf.len() as u64;
        self.needs_newline = false;
        self.events.extend(written.iter().cloned());
        Ok(written)
    }

    fn load(path: &Path) -> Result<EventLog, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    action: "read the event log",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let parsed = lines::parse(&bytes, path)?;
        Ok(EventLog {
            path: path.to_path_buf(),
            events: parsed.events,
            warnings: parsed.warnings,
            valid_len: parsed.valid_len,
            needs_newline: parsed.needs_newline,
            lock: None,
        })
    }
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn lock(lock_path: &Path, wait: Duration) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path)
        .map_err(|source| StoreError::Io {
            action: "open the lock file",
            path: lock_path.to_path_buf(),
            source,
        })?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {
                let waited = started.elapsed();
                if waited >= wait {
                    return Err(StoreError::Locked {
                        lock_path: lock_path.to_path_buf(),
                        waited,
                    });
                }
                std::thread::sleep(LOCK_POLL.min(wait - waited));
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::Io {
                    action: "lock",
                    path: lock_path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// Makes a newly created log's directory entry durable too. Best effort: not every platform
/// can open a directory for syncing, and the data itself is already synced.
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::StopReason;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2025-01-01T{s}Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn reset(n: u32) -> Event {
        Event::BudgetReset {
            nat_gateway_id: format!("nat-{n:08x}"),
        }
    }

    fn stopped() -> Event {
        Event::RecordingStopped {
            recording_id: "r".into(),
            nat_gateway_id: "nat-01234567".into(),
            reason: StopReason::Deadline,
            deleted_flow_log_ids: vec!["fl-1".into()],
        }
    }

    fn line(seq: u64) -> String {
        EventEnvelope::new(seq, at("10:00:00"), reset(seq as u32))
            .to_line()
            .unwrap()
    }

    const NO_WAIT: Duration = Duration::ZERO;

    #[test]
    fn a_missing_file_is_an_empty_log_and_folders_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/deep/events.jsonl");
        let log = EventLog::read(&path).unwrap();
        assert!(log.events().is_empty() && log.warnings().is_empty());
        let log = EventLog::open(&path, NO_WAIT).unwrap();
        assert!(log.events().is_empty());
        assert_eq!(log.last_seq(), 0);
        assert!(path.parent().unwrap().is_dir());
        assert!(
            !path.exists(),
            "the log is created by the first append, not by open"
        );
    }

    #[test]
    fn events_round_trip_with_continuous_seqs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::open(&path, NO_WAIT).unwrap();
        let first = log
            .append(vec![reset(1), stopped()], at("10:00:00"))
            .unwrap();
        assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert!(log.append(vec![], at("10:00:30")).unwrap().is_empty());
        let second = log.append(vec![reset(3)], at("10:01:00")).unwrap();
        assert_eq!(second[0].seq, 3);
        assert_eq!(second[0].at, at("10:01:00"));
        let in_memory = log.events().to_vec();
        drop(log);

        let reread = EventLog::read(&path).unwrap();
        assert_eq!(reread.events(), in_memory.as_slice());
        assert_eq!(reread.events()[1].event, stopped());
        let mut reopened = EventLog::open(&path, NO_WAIT).unwrap();
        assert_eq!(reopened.events(), in_memory.as_slice());
        let third = reopened.append(vec![reset(4)], at("10:02:00")).unwrap();
        assert_eq!(third[0].seq, 4);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.ends_with('\n'));
        assert!(
            text.starts_with(r#"{"v":1,"seq":1,"at":"2025-01-01T10:00:00Z","type":"BudgetReset""#)
        );
    }

    #[test]
    fn a_torn_last_line_is_recovered_with_a_warning_and_truncated_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        // Cut inside the timestamp, so the torn text cannot reappear in the appended line.
        let torn = &line(3)[..40];
        std::fs::write(&path, format!("{}\n{}\n{torn}", line(1), line(2))).unwrap();

        // Reading does not repair.
        let read = EventLog::read(&path).unwrap();
        assert_eq!(read.events().len(), 2);
        assert_eq!(read.warnings().len(), 1);
        assert!(
            read.warnings()[0].contains("line 3"),
            "{}",
            read.warnings()[0]
        );

        let mut log = EventLog::open(&path, NO_WAIT).unwrap();
        assert_eq!(log.events().len(), 2);
        assert_eq!(log.warnings().len(), 1);
        assert!(
            std::fs::read_to_string(&path).unwrap().ends_with(torn),
            "open leaves the file alone"
        );
        let appended = log.append(vec![stopped()], at("10:05:00")).unwrap();
        assert_eq!(appended[0].seq, 3);
        drop(log);

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(torn), "{text}");
        assert_eq!(text.lines().count(), 3);
        let clean = EventLog::read(&path).unwrap();
        assert!(clean.warnings().is_empty());
        assert_eq!(clean.events().len(), 3);
        assert_eq!(clean.events()[2].event, stopped());
    }

    #[test]
    fn a_complete_last_line_without_its_newline_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, format!("{}\n{}", line(1), line(2))).unwrap();
        let mut log = EventLog::open(&path, NO_WAIT).unwrap();
        assert_eq!(log.events().len(), 2);
        assert!(log.warnings().is_empty());
        log.append(vec![reset(3)], at("10:00:00")).unwrap();
        drop(log);
        let reread = EventLog::read(&path).unwrap();
        assert_eq!(
            reread.events().iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn blank_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, format!("{}\n\n   \n{}\n  ", line(1), line(2))).unwrap();
        let mut log = EventLog::open(&path, NO_WAIT).unwrap();
        assert_eq!(log.events().len(), 2);
        assert!(log.warnings().is_empty());
        log.append(vec![reset(3)], at("10:00:00")).unwrap();
        drop(log);
        assert_eq!(EventLog::read(&path).unwrap().events().len(), 3);
    }

    #[test]
    fn damage_before_the_last_line_stops_with_the_file_and_line() {
        struct Case {
            name: &'static str,
            text: String,
            line: usize,
            says: &'static str,
        }
        let cases = [
            Case {
                name: "garbage in the middle",
                text: format!("{}\nnot json at all\n{}\n", line(1), line(3)),
                line: 2,
                says: "not JSON",
            },
            Case {
                name: "a torn line that is not the last",
                text: format!("{}\n{}\n{}\n", line(1), &line(2)[..20], line(3)),
                line: 2,
                says: "not JSON",
            },
            Case {
                name: "a complete last line that does not parse",
                text: format!("{}\n{{\"v\":1}}\n", line(1)),
                line: 2,
                says: "not a valid v1 event",
            },
            Case {
                name: "a line from a newer nat-flowrec",
                text: format!(
                    "{}\n{}\n",
                    line(1),
                    line(2).replacen("\"v\":1", "\"v\":7", 1)
                ),
                line: 2,
                says: "newer",
            },
            Case {
                name: "seqs out of order",
                text: format!("{}\n{}\n{}\n", line(1), line(3), line(2)),
                line: 3,
                says: "seq 2 does not follow seq 3",
            },
            Case {
                name: "a duplicated line",
                text: format!("{}\n{}\n", line(1), line(1)),
                line: 2,
                says: "does not follow",
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        for (i, c) in cases.into_iter().enumerate() {
            let path = dir.path().join(format!("events-{i}.jsonl"));
            std::fs::write(&path, &c.text).unwrap();
            for result in [EventLog::read(&path), EventLog::open(&path, NO_WAIT)] {
                let err = result.unwrap_err();
                match &err {
                    StoreError::Corrupt { line, .. } => assert_eq!(*line, c.line, "{}", c.name),
                    other => panic!("{}: {other}", c.name),
                }
                let message = err.to_string();
                assert!(message.contains(&path.display().to_string()), "{message}");
                assert!(message.contains(&format!("line {}", c.line)), "{message}");
                assert!(message.contains(c.says), "{}: {message}", c.name);
            }
        }
    }

    #[test]
    fn invalid_utf8_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut bytes = format!("{}\n", line(1)).into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        std::fs::write(&path, bytes).unwrap();
        let err = EventLog::read(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_second_open_is_locked_out_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut first = EventLog::open(&path, NO_WAIT).unwrap();
        first.append(vec![reset(1)], at("10:00:00")).unwrap();

        let second = EventLog::open(&path, NO_WAIT).unwrap_err();
        assert!(second.is_locked(), "{second}");
        assert!(second.to_string().contains("events.jsonl.lock"), "{second}");
        let waited = EventLog::open(&path, Duration::from_millis(120)).unwrap_err();
        assert!(waited.is_locked(), "{waited}");

        // status/history read without the lock.
        assert_eq!(EventLog::read(&path).unwrap().events().len(), 1);

        drop(first);
        let mut third = EventLog::open(&path, NO_WAIT).unwrap();
        assert_eq!(
            third.append(vec![reset(2)], at("10:01:00")).unwrap()[0].seq,
            2
        );
    }

    #[test]
    fn a_read_only_log_refuses_to_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut log = EventLog::read(&path).unwrap();
        let err = log.append(vec![reset(1)], at("10:00:00")).unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn a_log_shortened_behind_our_back_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, format!("{}\n{}\n", line(1), line(2))).unwrap();
        let mut log = EventLog::open(&path, NO_WAIT).unwrap();
        std::fs::write(&path, format!("{}\n", line(1))).unwrap();
        let err = log.append(vec![reset(3)], at("10:00:00")).unwrap_err();
        assert!(matches!(err, StoreError::Shrunk { .. }), "{err}");
    }
}
