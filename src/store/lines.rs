//! The event log's text, wherever it is kept (a file, an S3 object): JSON Lines, one envelope a
//! line, seqs 1, 2, 3, ... Both backends read and write through here, so they share one format
//! and one fold.
//!
//! A torn last line (no newline, not JSON: a crash while appending to a file) is dropped with a
//! warning and cut away by the next append. A bad line anywhere else is damage and stops the
//! job with the line number: deciding from a log with a hole in it could record twice or never
//! stop a recording.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::core::event::{Event, EventEnvelope, decode_line};

/// What reading a log's bytes found.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub events: Vec<EventEnvelope>,
    /// What was recovered from (a torn last line), for the caller to show.
    pub warnings: Vec<String>,
    /// Bytes that hold the events read: anything after them is a torn line.
    pub valid_len: u64,
    /// The last valid line has no newline (complete, but its newline was lost).
    pub needs_newline: bool,
}

impl Parsed {
    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |e| e.seq)
    }
}

/// Reads every event of `bytes`; `origin` names the log in errors and warnings.
pub(crate) fn parse(bytes: &[u8], origin: &Path) -> Result<Parsed, StoreError> {
    let mut log = Parsed::default();
    let mut offset = 0usize;
    let mut number = 0usize;
    while offset < bytes.len() {
        number += 1;
        let rest = bytes.get(offset..).unwrap_or_default();
        let (line, complete) = match rest.iter().position(|b| *b == b'\n') {
            Some(end) => (rest.get(..end).unwrap_or_default(), true),
            None => (rest, false),
        };
        let next = offset + line.len() + usize::from(complete);
        match parse_line(line, log.last_seq()) {
            Ok(None) if !complete => {
                // Trailing blanks without a newline: drop them with the next append.
                break;
            }
            Ok(None) => {}
            Ok(Some(envelope)) => {
                log.events.push(envelope);
                log.needs_newline = !complete;
            }
            Err(problem) if complete => {
                return Err(StoreError::Corrupt {
                    path: origin.to_path_buf(),
                    line: number,
                    problem,
                });
            }
            Err(problem) => {
                log.warnings.push(format!(
                    "{}, line {number}: the last line was cut short by a crash while appending ({problem}); \
                     it is ignored and will be truncated away by the next append",
                    origin.display()
                ));
                break;
            }
        }
        offset = next;
        log.valid_len = offset as u64;
    }
    Ok(log)
}

/// `Ok(None)` for a blank line.
fn parse_line(line: &[u8], last_seq: u64) -> Result<Option<EventEnvelope>, String> {
    let text = std::str::from_utf8(line).map_err(|e| format!("not UTF-8 text ({e})"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let envelope = decode_line(text).map_err(|e| e.to_string())?;
    if envelope.seq <= last_seq {
        return Err(format!(
            "seq {} does not follow seq {last_seq}: lines were reordered, duplicated or merged",
            envelope.seq
        ));
    }
    Ok(Some(envelope))
}

/// The lines that append `events` as seqs `first_seq`, `first_seq + 1`, ..., all stamped `at`
/// (after a newline when the log's last line lacks one), and the envelopes they hold.
pub(crate) fn encode(
    events: Vec<Event>,
    first_seq: u64,
    at: DateTime<Utc>,
    leading_newline: bool,
    origin: &Path,
) -> Result<(String, Vec<EventEnvelope>), StoreError> {
    let mut buf = String::new();
    if leading_newline {
        buf.push('\n');
    }
    let mut written = Vec::with_capacity(events.len());
    for (seq, event) in (first_seq..).zip(events) {
        let envelope = EventEnvelope::new(seq, at, event);
        let line = envelope.to_line().map_err(|e| StoreError::Encode {
            path: origin.to_path_buf(),
            kind: envelope.event.kind(),
            message: e.to_string(),
        })?;
        buf.push_str(&line);
        buf.push('\n');
        written.push(envelope);
    }
    Ok((buf, written))
}
