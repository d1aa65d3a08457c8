//! A chunk: an owned block of whole lines cut from a file, so parallel workers can parse blocks
//! independently while the reader keeps memory bounded. Lines come out with their number, their
//! event timestamp (when the file has one per line) and the record text.
//!
//! Line numbers are counted after the fact. The reader does not count the line ends of the
//! chunks it cuts from bare-record files (that count would run on the one thread that reads,
//! while the workers wait for chunks): such a chunk numbers its lines from 1, and the line count
//! that [`Chunk::for_each_flow`] returns (it passes every line end anyway) places it in its file
//! once the chunks before it are parsed (see `numbering`). Readers that go through the chunks in
//! order number them as they go ([`crate::Chunks::numbered`]).

use std::sync::Mutex;

use crate::error::{RecordError, RecordErrorKind};
use crate::flow::Flow;
use crate::format::LogFormat;
use crate::read::json;
use crate::read::timestamp::parse_event_timestamp;
use crate::record::Record;

/// What precedes the record on each line of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The line is the record.
    Bare,
    /// `<timestamp> <record>`; `skip_comments` also drops `#` lines (export files).
    Timestamped { skip_comments: bool },
    /// Decoded from JSON (see `json`): `<Unix ms> <record>`, `- <record>` without a timestamp,
    /// or `! <what was found>` for a JSON value without a record.
    Decoded,
}

/// A block of whole lines (about 512 KiB), its place in its file and, when the reader counted
/// the lines before it, the number of its first line.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub(crate) data: Vec<u8>,
    /// 0 for a file's first chunk, then 1, 2, ...
    pub(crate) seq: u64,
    /// The file's number of the chunk's first line; `None` when the reader did not count the
    /// lines before it (then the chunk numbers its lines from 1).
    pub(crate) first_line: Option<u64>,
    pub(crate) layout: Layout,
    /// The chunk is the start of one line longer than the reader's line limit, cut there.
    pub(crate) line_cut: bool,
}

/// Buffers of chunks already parsed, for the reader to fill again: a chunk's buffer is as large
/// as the cache of a core, and asking the system for fresh ones (zeroed pages, page faults) for
/// every chunk of a large file costs more than copying the data into them. A few per process.
static SPARE_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// Most buffers kept for reuse (one or two per worker in flight is all a reader needs).
const MAX_SPARE_BUFFERS: usize = 8;

/// An empty buffer with room for at least `capacity` bytes, if one was given back.
pub(crate) fn reuse_buffer(capacity: usize) -> Option<Vec<u8>> {
    let mut spare = SPARE_BUFFERS.lock().ok()?;
    let at = spare.iter().position(|b| b.capacity() >= capacity)?;
    Some(spare.swap_remove(at))
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let mut data = std::mem::take(&mut self.data);
        if data.capacity() == 0 {
            return;
        }
        if let Ok(mut spare) = SPARE_BUFFERS.lock()
            && spare.len() < MAX_SPARE_BUFFERS
        {
            data.clear();
            spare.push(data);
        }
    }
}

/// One non-blank line of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the (decompressed) file; in its chunk when the reader did not
    /// number the chunk ([`Chunk::first_line`] is `None`; see [`crate::LineNumbers`]).
    pub no: u64,
    /// The event timestamp before the record (CloudWatch export, export files), Unix ms.
    pub timestamp_ms: Option<i64>,
    /// The record text, without timestamp, line end or `\r`.
    pub text: &'a str,
}

impl Chunk {
    /// The chunk's place in its file: 0 for the first, then 1, 2, ...
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The file's (1-based) number of the chunk's first line, when the reader counted the lines
    /// before it; `None` when not (then [`Chunk::lines`] numbers the chunk's lines from 1 and
    /// [`crate::LineNumbers`] places them in the file after the fact).
    pub fn first_line(&self) -> Option<u64> {
        self.first_line
    }

    /// The number the chunk's lines are counted from: the file's, or 1.
    fn numbered_from(&self) -> u64 {
        self.first_line.unwrap_or(1)
    }

    /// Numbers the chunk's lines from `*next_line` on, unless the reader did, and moves
    /// `*next_line` past them: how a reader that takes a file's chunks in order numbers them
    /// (start at 1). It counts the chunk's lines.
    pub fn number_in_order(&mut self, next_line: &mut u64) {
        let first = *self.first_line.get_or_insert(*next_line);
        *next_line = first + self.line_count();
    }

    /// The chunk's lines, blank ones included: its line ends, plus a last line without one.
    /// It scans the chunk; [`Chunk::for_each_flow`] gives the same count for free.
    pub fn line_count(&self) -> u64 {
        let ends = memchr::memchr_iter(b'\n', &self.data).count() as u64;
        ends + u64::from(!self.data.is_empty() && !self.data.ends_with(b"\n"))
    }

    /// Bytes of (decompressed) text the chunk holds.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// The chunk's lines, blank lines skipped. A line that is not UTF-8, lacks its event
    /// timestamp, or was too long is an `Err` naming its line number: count it, and go on.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            chunk: self,
            // Validating the whole chunk at once is several times faster than line by line;
            // only a chunk holding invalid UTF-8 falls back to checking each line.
            text: std::str::from_utf8(&self.data).ok(),
            pos: 0,
            next_no: self.numbered_from(),
        }
    }

    /// The whole chunk as text when its lines are bare records, all UTF-8 and none cut for
    /// length: then [`Chunk::lines`] cannot fail on any of them.
    fn plain_text(&self) -> Option<&str> {
        if self.layout != Layout::Bare || self.line_cut {
            return None;
        }
        std::str::from_utf8(&self.data).ok()
    }

    /// The chunk's records parsed in `format`, each carrying its line's event timestamp.
    pub fn records<'c>(
        &'c self,
        format: &'c LogFormat,
    ) -> impl Iterator<Item = Result<Record<'c>, RecordError>> + 'c {
        self.lines().map(move |line| {
            let line = line?;
            let mut rec = format.parse_record(line.text, line.no)?;
            rec.timestamp_ms = line.timestamp_ms;
            Ok(rec)
        })
    }

    /// Calls `f` with each of the chunk's records as a [`Flow`] (valid or malformed, as
    /// [`Chunk::flows`] gives them), reusing one `Flow` for every line: the reader's loop.
    /// Returns the chunk's [`Chunk::line_count`], which it finds on the way.
    pub fn for_each_flow<'c>(
        &'c self,
        format: &LogFormat,
        mut f: impl FnMut(Result<&Flow<'c>, RecordError>),
    ) -> u64 {
        let parser = format.flow_parser();
        let mut flow = Flow::default();
        let first = self.numbered_from();
        if let Some(text) = self.plain_text() {
            // The common chunk: bare records, all UTF-8, no line cut. Each line as `lines`
            // would give it, without its per-line checks (they cannot fail here).
            let mut no = first;
            let mut start = 0;
            let ends = memchr::memchr_iter(b'\n', text.as_bytes());
            for end in ends.chain(std::iter::once(text.len())) {
                // Line feeds are character boundaries of the validated text.
                let piece = text.get(start..end).unwrap_or_default();
                if start >= text.len() {
                    break;
                }
                let from = start;
                start = end + 1;
                let line = piece.strip_suffix('\r').unwrap_or(piece);
                no += 1;
                if line.bytes().all(|b| b == b' ' || b == b'\t') {
                    continue;
                }
                // The line within its chunk: the parser may read on into the lines after it.
                let window = text.as_bytes().get(from..).unwrap_or_default();
                match parser.parse_followed(line, window, no - 1, &mut flow) {
                    Ok(()) => f(Ok(&flow)),
                    Err(e) => f(Err(e)),
                }
            }
            return no - first;
        }
        let mut lines = self.lines();
        for line in lines.by_ref() {
            let parsed = line.and_then(|line| {
                parser.parse_into(line.text, line.no, &mut flow)?;
                flow.timestamp_ms = line.timestamp_ms;
                Ok(())
            });
            match parsed {
                Ok(()) => f(Ok(&flow)),
                Err(e) => f(Err(e)),
            }
        }
        lines.next_no - first
    }

    /// The chunk's records as [`Flow`]s (the fields reports aggregate), each carrying its
    /// line's event timestamp: the same lines as [`Chunk::records`], valid or malformed alike,
    /// without building a full record per line.
    pub fn flows<'c>(
        &'c self,
        format: &'c LogFormat,
    ) -> impl Iterator<Item = Result<Flow<'c>, RecordError>> + 'c {
        let parser = format.flow_parser();
        self.lines().map(move |line| {
            let line = line?;
            let mut flow = parser.parse(line.text, line.no)?;
            flow.timestamp_ms = line.timestamp_ms;
            Ok(flow)
        })
    }
}

/// Iterator over a chunk's lines; see [`Chunk::lines`].
pub struct Lines<'a> {
    chunk: &'a Chunk,
    /// The whole chunk as text, when it is all valid UTF-8.
    text: Option<&'a str>,
    pos: usize,
    next_no: u64,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<Line<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let data = self.chunk.data.as_slice();
        loop {
            let rest = data.get(self.pos..).filter(|r| !r.is_empty())?;
            let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let raw = rest.get(..len).unwrap_or_default();
            let start = self.pos;
            self.pos += len + 1;
            let no = self.next_no;
            self.next_no += 1;

            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if self.chunk.line_cut && start == 0 {
                return Some(Err(RecordError::other(
                    no,
                    RecordErrorKind::LineTooLong,
                    &String::from_utf8_lossy(raw),
                    "a line of at most 1 MiB",
                )));
            }
            if raw.iter().all(|b| *b == b' ' || *b == b'\t') {
                continue;
            }
            // Line ends are character boundaries, so slicing the validated chunk cannot fail.
            let whole = self.text.and_then(|t| t.get(start..start + raw.len()));
            let text = match whole.map_or_else(|| std::str::from_utf8(raw), Ok) {
                Ok(text) => text,
                Err(_) => {
                    return Some(Err(RecordError::other(
                        no,
                        RecordErrorKind::InvalidUtf8,
                        &String::from_utf8_lossy(raw),
                        "UTF-8 text",
                    )));
                }
            };
            return match self.chunk.layout {
                Layout::Bare => Some(Ok(Line {
                    no,
                    timestamp_ms: None,
                    text,
                })),
                Layout::Timestamped { skip_comments } => {
                    if skip_comments && text.starts_with('#') {
                        continue;
                    }
                    Some(split_timestamp(no, text))
                }
                Layout::Decoded => Some(split_decoded(no, text)),
            };
        }
    }
}

/// `<timestamp> <record>` -> the line with its timestamp.
fn split_timestamp(no: u64, text: &str) -> Result<Line<'_>, RecordError> {
    let (stamp, record) = text.split_once(' ').unwrap_or((text, ""));
    match parse_event_timestamp(stamp) {
        Some(ms) => Ok(Line {
            no,
            timestamp_ms: Some(ms),
            text: record.trim_start_matches(' '),
        }),
        None => Err(RecordError::other(
            no,
            RecordErrorKind::BadTimestamp,
            text,
            "an event timestamp (2024-05-01T10:00:00.000Z or Unix milliseconds), a space, then the record",
        )),
    }
}

/// A line of decoded JSON -> the line with its timestamp, or the value's error.
fn split_decoded(no: u64, text: &str) -> Result<Line<'_>, RecordError> {
    let (stamp, record) = text.split_once(' ').unwrap_or((text, ""));
    if stamp == json::NO_RECORD {
        return Err(RecordError::other(
            no,
            RecordErrorKind::NoMessage,
            record,
            "a JSON object with a `message` string, or a CloudWatch Logs subscription payload",
        ));
    }
    Ok(Line {
        no,
        timestamp_ms: stamp.parse().ok(),
        text: record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &[u8], layout: Layout) -> Chunk {
        Chunk {
            data: text.to_vec(),
            seq: 0,
            first_line: Some(10),
            layout,
            line_cut: false,
        }
    }

    #[test]
    fn lines_are_numbered_and_blank_lines_skipped() {
        let c = chunk(b"a b\n\n  \r\nc d\r\ne", Layout::Bare);
        let lines: Vec<_> = c.lines().collect::<Result<_, _>>().expect("lines");
        let got: Vec<_> = lines.iter().map(|l| (l.no, l.text)).collect();
        assert_eq!(got, [(10, "a b"), (13, "c d"), (14, "e")]);
    }

    #[test]
    fn invalid_utf8_is_one_malformed_line() {
        let c = chunk(b"ok\nbad \xff\xfe\nok again\n", Layout::Bare);
        let lines: Vec<_> = c.lines().collect();
        assert_eq!(lines.len(), 3);
        let err = lines[1].clone().unwrap_err();
        assert_eq!((err.line, err.kind), (11, RecordErrorKind::InvalidUtf8));
        assert_eq!(lines[2].clone().map(|l| l.text), Ok("ok again"));
    }

    #[test]
    fn timestamped_lines_lose_their_prefix() {
        let c = chunk(
            b"2024-05-01T10:00:00.000Z a b\n#comment\n1714557600001 c d\nnot-a-time e\n",
            Layout::Timestamped {
                skip_comments: true,
            },
        );
        let lines: Vec<_> = c.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].clone(),
            Ok(Line {
                no: 10,
                timestamp_ms: Some(1_714_557_600_000),
                text: "a b"
            })
        );
        assert_eq!(
            lines[1].clone(),
            Ok(Line {
                no: 12,
                timestamp_ms: Some(1_714_557_600_001),
                text: "c d"
            })
        );
        let err = lines[2].clone().unwrap_err();
        assert_eq!((err.line, err.kind), (13, RecordErrorKind::BadTimestamp));
    }

    #[test]
    fn flows_are_the_records_reduced_with_their_timestamps() {
        let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
        let c = chunk(
            b"1714557600000 10.0.0.1 5\n\n1714557600001 10.0.0.2 x\nnot-a-time 10.0.0.3 7\n1714557600002 10.0.0.4 9\n",
            Layout::Timestamped {
                skip_comments: false,
            },
        );
        let want: Vec<_> = c
            .records(&format)
            .map(|r| r.map(|rec| Flow::from(&rec)))
            .collect();
        let mut got = Vec::new();
        c.for_each_flow(&format, |flow| got.push(flow.copied()));
        assert_eq!(got, want);
        assert_eq!(c.flows(&format).collect::<Vec<_>>(), want);
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[0].as_ref().map(|f| f.timestamp_ms),
            Ok(Some(1_714_557_600_000))
        );
        assert_eq!(got[1].clone().unwrap_err().line, 12);
        assert_eq!(
            got[2].clone().unwrap_err().kind,
            RecordErrorKind::BadTimestamp
        );
    }

    #[test]
    fn records_carry_the_event_timestamp() {
        let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
        let c = chunk(
            b"1714557600000 10.0.0.1 5\n",
            Layout::Timestamped {
                skip_comments: false,
            },
        );
        let recs: Vec<_> = c
            .records(&format)
            .collect::<Result<_, _>>()
            .expect("records");
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].timestamp_ms, Some(1_714_557_600_000));
        assert_eq!(recs[0].bytes, Some(5));
    }

    proptest::proptest! {
        /// Lines of any length, across the 64-byte blocks line feeds are found in: the same
        /// lines, numbers and texts as splitting the text at each line feed.
        #[test]
        fn lines_are_split_at_every_line_feed(text in "[ab \t\r\n]{0,300}") {
            let c = chunk(text.as_bytes(), Layout::Bare);
            let got: Vec<(u64, String)> = c
                .lines()
                .map(|l| l.map(|l| (l.no, l.text.to_string())))
                .collect::<Result<_, _>>()
                .expect("text lines");
            let mut want = Vec::new();
            let mut pieces: Vec<&str> = text.split('\n').collect();
            if text.ends_with('\n') {
                pieces.pop();
            }
            for (i, piece) in pieces.into_iter().enumerate() {
                let piece = piece.strip_suffix('\r').unwrap_or(piece);
                if !piece.chars().all(|ch| ch == ' ' || ch == '\t') {
                    want.push((10 + i as u64, piece.to_string()));
                }
            }
            proptest::prop_assert_eq!(got, want);
        }

        /// The reader's loop gives the same flows and errors, with the same line numbers, as
        /// parsing each line `lines` gives.
        #[test]
        fn for_each_flow_agrees_with_lines(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3".to_string()),
                    proptest::strategy::Just("ACCEPT egress 1 10.0.0.220 443 10.0.1.5 41000 6 56000 IPv4 203.0.113.5 S3 10.0.1.5 -\r".to_string()),
                    proptest::strategy::Just("ACCEPT ingress - 10.0.0.1 443 10.0.0.2 http 6 100 IPv4 10.0.0.1 - 10.0.0.2 -".to_string()),
                    "[ \t]{0,3}",
                    "[a-z0-9. -]{0,20}",
                ],
                0..20,
            ),
            final_newline in proptest::bool::ANY,
        ) {
            let mut text = lines.join("\n");
            if final_newline {
                text.push('\n');
            }
            let c = chunk(text.as_bytes(), Layout::Bare);
            let format = LogFormat::default();
            let mut got = Vec::new();
            c.for_each_flow(&format, |flow| got.push(flow.copied()));
            let want: Vec<_> = c.flows(&format).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
