//! CloudWatch Logs JSON as people collect it, read as records:
//!
//! * subscription payloads, what a subscription filter hands to Firehose, Lambda or Kinesis
//!   (`{"messageType":"DATA_MESSAGE","owner":...,"logGroup":...,"logStream":...,
//!   "subscriptionFilters":[...],"logEvents":[{"id":...,"timestamp":...,"message":"..."}]}`),
//!   one or many per file, back to back with or without whitespace between them (Firehose writes
//!   them to S3 without separators). `CONTROL_MESSAGE` payloads, CloudWatch's reachability
//!   checks, carry no records and are skipped;
//! * JSON lines wrapping one record each (`{"timestamp":...,"message":"...","ingestionTime":...}`,
//!   as `aws logs` commands and exports give events; Logs Insights' `@message`/`@timestamp` too).
//!
//! Both become the lines of a text stream, `<Unix ms or -> <record>`, one per record, so chunking
//! and parallel parsing work as for text files. JSON is decoded once, by the reader, as a stream
//! (memory stays bounded by the largest JSON value); plain-text files never pass through here.

use std::fmt;
use std::io::{self, BufReader, Read};

use serde::Deserialize;

use crate::read::timestamp::parse_event_timestamp;

/// What a line of the decoded stream starts with when its JSON value held no record.
pub(crate) const NO_RECORD: &str = "!";
/// What a line of the decoded stream starts with when its record has no event timestamp.
pub(crate) const NO_TIMESTAMP: &str = "-";

/// One top-level JSON value: a subscription payload or a wrapped record (unknown keys ignored).
#[derive(Deserialize)]
struct Value {
    #[serde(rename = "messageType")]
    message_type: Option<String>,
    #[serde(rename = "logEvents")]
    log_events: Option<Vec<LogEvent>>,
    #[serde(alias = "@message")]
    message: Option<String>,
    #[serde(alias = "@timestamp")]
    timestamp: Option<Timestamp>,
}

/// One event of a subscription payload (its `id` is not needed).
#[derive(Deserialize)]
struct LogEvent {
    timestamp: Option<i64>,
    message: String,
}

/// Unix milliseconds, or a text timestamp (`2024-05-01T10:00:05.000Z`, `2024-05-01 10:00:05.000`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Timestamp {
    Millis(i64),
    Text(String),
}

/// Which of the two shapes a file's first JSON value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Subscription,
    Messages,
}

/// A file's JSON that cannot be read on (as opposed to a value without a record); the reader
/// turns it into a [`crate::ReadError`] naming the file.
#[derive(Debug)]
pub(crate) struct JsonError(pub(crate) String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

type Values = serde_json::StreamDeserializer<
    'static,
    serde_json::de::IoRead<BufReader<Box<dyn Read + Send>>>,
    Value,
>;

/// The records of a JSON file as decoded text lines; see the module documentation.
pub(crate) struct JsonRecords {
    values: Values,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl JsonRecords {
    /// Decodes the first value of `stream` (so the shape is known, and a file that merely starts
    /// with `{` fails at once); `Ok(None)` when there is no value at all.
    pub(crate) fn new(stream: Box<dyn Read + Send>) -> io::Result<(JsonRecords, Option<Shape>)> {
        let values = serde_json::Deserializer::from_reader(BufReader::new(stream)).into_iter();
        let mut records = JsonRecords {
            values,
            out: Vec::new(),
            pos: 0,
            done: false,
        };
        let shape = records.decode_next()?;
        Ok((records, shape))
    }

    /// Decodes the next value into `out`; returns its shape, `None` at the end.
    fn decode_next(&mut self) -> io::Result<Option<Shape>> {
        self.out.clear();
        self.pos = 0;
        let value = match self.values.next() {
            None => {
                self.done = true;
                return Ok(None);
            }
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                self.done = true;
                return Err(if e.is_io() {
                    io::Error::from(e)
                } else {
                    io::Error::new(io::ErrorKind::InvalidData, JsonError(e.to_string()))
                });
            }
        };
        if let Some(events) = value.log_events {
            if value.message_type.as_deref() != Some("CONTROL_MESSAGE") {
                for event in events {
                    push_line(&mut self.out, event.timestamp, &event.message);
                }
            }
            return Ok(Some(Shape::Subscription));
        }
        if value.message_type.is_some() {
            return Ok(Some(Shape::Subscription));
        }
        match value.message {
            Some(message) => {
                let ms = value.timestamp.and_then(|t| match t {
                    Timestamp::Millis(ms) => Some(ms),
                    Timestamp::Text(text) => parse_event_timestamp(&text),
                });
                push_line(&mut self.out, ms, &message);
            }
            None => {
                self.out.extend_from_slice(NO_RECORD.as_bytes());
                self.out
                    .extend_from_slice(b" a JSON value with neither `message` nor `logEvents`\n");
            }
        }
        Ok(Some(Shape::Messages))
    }
}

/// `<ms or -> <message>\n`; line ends inside a message become spaces, keeping it one line.
fn push_line(out: &mut Vec<u8>, timestamp_ms: Option<i64>, message: &str) {
    match timestamp_ms {
        Some(ms) => out.extend_from_slice(ms.to_string().as_bytes()),
        None => out.extend_from_slice(NO_TIMESTAMP.as_bytes()),
    }
    out.push(b' ');
    let start = out.len();
    out.extend_from_slice(message.as_bytes());
    if let Some(text) = out.get_mut(start..) {
        for b in text.iter_mut().filter(|b| **b == b'\n' || **b == b'\r') {
            *b = b' ';
        }
    }
    out.push(b'\n');
}

impl Read for JsonRecords {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.decode_next()?;
        }
        let pending = self.out.get(self.pos..).unwrap_or_default();
        let n = pending.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), pending.get(..n)) {
            to.copy_from_slice(from);
        }
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> (Option<Shape>, io::Result<String>) {
        let stream: Box<dyn Read + Send> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let (mut records, shape) = JsonRecords::new(stream).expect("first value");
        let mut out = String::new();
        let read = records.read_to_string(&mut out).map(|_| out);
        (shape, read)
    }

    #[test]
    fn payloads_back_to_back_become_their_events_and_control_messages_nothing() {
        let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1714557600000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        let data = r#"{"messageType":"DATA_MESSAGE","owner":"123456789010","logGroup":"g","logStream":"eni-1-all","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1714557605000,"message":"a b"},{"id":"2","timestamp":1714557606500,"message":"c\nd"}]}"#;
        let (shape, out) = decode(&format!("{control}{data}\n {data}"));
        assert_eq!(shape, Some(Shape::Subscription));
        assert_eq!(
            out.expect("decoded"),
            "1714557605000 a b\n1714557606500 c d\n1714557605000 a b\n1714557606500 c d\n"
        );
    }

    #[test]
    fn wrapped_messages_keep_their_timestamp_when_they_have_one() {
        let (shape, out) = decode(concat!(
            "{\"timestamp\":1714557605000,\"message\":\"a b\",\"ingestionTime\":1714557610000}\n",
            "{\"message\":\"c d\"}\n",
            "{\"@timestamp\":\"2024-05-01 10:00:05.000\",\"@message\":\"e f\"}\n",
            "{\"other\":1}\n",
        ));
        assert_eq!(shape, Some(Shape::Messages));
        assert_eq!(
            out.expect("decoded"),
            "1714557605000 a b\n- c d\n1714557605000 e f\n! a JSON value with neither `message` nor `logEvents`\n"
        );
    }

    #[test]
    fn broken_json_is_an_error_after_the_values_before_it() {
        let (_, out) = decode("{\"message\":\"a b\"}\n{\"message\":\"c");
        let err = out.expect_err("truncated");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let json = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<JsonError>())
            .expect("a JSON error");
        assert!(json.0.contains("line 2"), "{json}");
    }
}
