//! The byte stream under a [`crate::FlowLogFile`] and its cutting into [`Chunk`]s of whole lines.
//! Memory is bounded: a chunk holds about `chunk_size` bytes plus at most one line, and a line
//! longer than [`MAX_LINE`] is cut (and reported as malformed) rather than buffered whole.
//!
//! A file that starts with its header may repeat it among its records (S3 objects joined with
//! `cat`, a header before every batch): the reader, which already finds every line end of a
//! chunk, blanks such a line before the chunk is parsed. Only lines starting with a lower-case
//! letter are looked at, which no value of AWS's default formats does. Header-less files skip
//! this: their chunks are cut at the last line end and not counted line by line (their line
//! numbers are placed after the fact, see `chunk`).

use std::io::{self, Read};

use crate::format::LogFormat;
use crate::read::ReadError;
use crate::read::chunk::{self, Chunk, Layout};
use crate::read::detect;
use crate::read::json::JsonError;
use crate::read::parquet::ParquetError;

/// Default chunk size: large enough to amortise per-chunk work, small enough that the worker
/// that read a chunk still has it in its L2 cache when it parses it (1 MiB per core on the
/// benchmark machine).
pub(crate) const DEFAULT_CHUNK_SIZE: usize = 512 * 1024;
/// Longest line kept whole; flow-log lines are a few hundred bytes at most.
pub(crate) const MAX_LINE: usize = 1024 * 1024;
/// How much of a too-long line is kept, for the error's excerpt.
const LONG_LINE_KEEP: usize = 256;
/// How far the kind detection looks for the end of the first line.
const HEAD_LOOKAHEAD: usize = 64 * 1024;

pub(crate) struct Source {
    pub(crate) name: String,
    reader: Box<dyn Read + Send>,
    gzip: bool,
    /// Bytes read but not yet handed out; starts at line `next_line` while `lines_counted`.
    carry: Vec<u8>,
    pub(crate) next_line: u64,
    /// Every line before `carry` was counted: `next_line` is exact. Once a chunk is handed out
    /// uncounted, it no longer is (the chunks after it are numbered after the fact).
    lines_counted: bool,
    /// The place in the file of the next chunk.
    next_seq: u64,
    eof: bool,
    done: bool,
    pub(crate) chunk_size: usize,
    pub(crate) layout: Layout,
    /// The file's format, when header lines may recur among its records (bare-record files).
    pub(crate) repeated_headers: Option<LogFormat>,
    /// An error to hand out after the chunk cut before it.
    pending: Option<ReadError>,
}

impl Source {
    pub(crate) fn new(name: String, reader: Box<dyn Read + Send>, gzip: bool) -> Source {
        Source {
            name,
            reader,
            gzip,
            carry: Vec::new(),
            next_line: 1,
            lines_counted: true,
            next_seq: 0,
            eof: false,
            done: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            layout: Layout::Bare,
            repeated_headers: None,
            pending: None,
        }
    }

    fn error(&self, source: io::Error) -> ReadError {
        read_error(&self.name, self.gzip, source)
    }

    /// Appends up to `n` bytes to `buf`; fewer means the end of the stream.
    fn read_into(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<usize, ReadError> {
        match (&mut self.reader).take(n as u64).read_to_end(buf) {
            Ok(got) => {
                if got < n {
                    self.eof = true;
                }
                Ok(got)
            }
            Err(e) => {
                self.done = true;
                Err(self.error(e))
            }
        }
    }

    /// The next line (without `\n`), read ahead as needed; cut at [`HEAD_LOOKAHEAD`] when it
    /// does not end by then. `None` at the end of the stream.
    pub(crate) fn head_line(&mut self) -> Result<Option<Vec<u8>>, ReadError> {
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.carry) {
                return Ok(self.carry.get(..end).map(<[u8]>::to_vec));
            }
            if self.eof || self.carry.len() >= HEAD_LOOKAHEAD {
                return Ok((!self.carry.is_empty()).then(|| self.carry.clone()));
            }
            let mut carry = std::mem::take(&mut self.carry);
            let read = self.read_into(&mut carry, HEAD_LOOKAHEAD);
            self.carry = carry;
            read?;
        }
    }

    /// Drops the line [`Source::head_line`] returned (the whole carry if it has no line end).
    pub(crate) fn drop_line(&mut self) {
        match memchr::memchr(b'\n', &self.carry) {
            Some(end) => {
                self.carry.drain(..=end);
            }
            None => self.carry.clear(),
        }
        self.next_line += 1;
    }

    /// Reads and discards the rest of an over-long line; returns what follows its end.
    fn skip_rest_of_line(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut scratch = Vec::with_capacity(HEAD_LOOKAHEAD);
        loop {
            scratch.clear();
            self.read_into(&mut scratch, HEAD_LOOKAHEAD)?;
            if let Some(end) = memchr::memchr(b'\n', &scratch) {
                return Ok(scratch.get(end + 1..).unwrap_or_default().to_vec());
            }
            if self.eof {
                return Ok(Vec::new());
            }
        }
    }

    /// The rest of the stream, from the line [`Source::head_line`] would return next, with
    /// whether it is decompressed gzip.
    pub(crate) fn into_stream(self) -> (Box<dyn Read + Send>, bool) {
        (
            Box::new(io::Cursor::new(self.carry).chain(self.reader)),
            self.gzip,
        )
    }

    /// After a read error: the whole lines read before it still make a chunk, and the error
    /// follows that chunk.
    fn fail_after_whole_lines(&mut self, buf: &mut Vec<u8>, error: ReadError) {
        buf.truncate(memchr::memrchr(b'\n', buf).map_or(0, |end| end + 1));
        self.eof = true;
        self.done = false;
        self.pending = Some(error);
    }

    pub(crate) fn next_chunk(&mut self) -> Option<Result<Chunk, ReadError>> {
        if self.carry.is_empty()
            && let Some(e) = self.pending.take()
        {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let carry = std::mem::take(&mut self.carry);
        let mut buf = match chunk::reuse_buffer(self.chunk_size) {
            Some(mut spare) => {
                spare.extend_from_slice(&carry);
                spare
            }
            None => carry,
        };
        if !self.eof && buf.len() < self.chunk_size {
            let want = self.chunk_size - buf.len();
            buf.reserve(want);
            if let Err(e) = self.read_into(&mut buf, want) {
                self.fail_after_whole_lines(&mut buf, e);
            }
        }
        // Cut after the last whole line within the chunk size; the rest starts the next chunk.
        let limit = buf.len().min(self.chunk_size);
        let mut cut = memchr::memrchr(b'\n', buf.get(..limit).unwrap_or_default()).map(|p| p + 1);
        let mut line_cut = false;
        if cut.is_none() {
            // The first line is longer than a chunk: read on until it ends, up to MAX_LINE.
            let mut searched = limit;
            loop {
                if let Some(p) = memchr::memchr(b'\n', buf.get(searched..).unwrap_or_default()) {
                    cut = Some(searched + p + 1);
                    break;
                }
                if self.eof {
                    break; // the last line, without a line end
                }
                if buf.len() >= MAX_LINE {
                    // Beyond any flow-log line: keep its start for the error, skip the rest.
                    buf.truncate(LONG_LINE_KEEP);
                    buf.push(b'\n');
                    line_cut = true;
                    match self.skip_rest_of_line() {
                        Ok(rest) => self.carry = rest,
                        Err(e) => return Some(Err(e)),
                    }
                    break;
                }
                searched = buf.len();
                if let Err(e) = self.read_into(&mut buf, self.chunk_size) {
                    self.fail_after_whole_lines(&mut buf, e);
                    break;
                }
            }
        }
        if let Some(cut) = cut.filter(|c| *c < buf.len()) {
            self.carry = buf.split_off(cut);
        }
        let first_line = self.lines_counted.then_some(self.next_line);
        let newlines = match &self.repeated_headers {
            // Not counted here: this thread is the one all workers wait on for chunks.
            None => {
                self.lines_counted = false;
                0
            }
            Some(format) => match blank_repeated_headers(&mut buf, format, line_cut) {
                Ok(newlines) => newlines,
                Err(other) => {
                    // Lines before the other header are read; the error follows them. Files
                    // with headers are counted line by line, so the number is the file's.
                    let line = self.next_line + other.lines_before;
                    buf.truncate(other.offset);
                    self.carry.clear();
                    self.pending = Some(ReadError::Header {
                        path: self.name.clone(),
                        line,
                        message: format!(
                            "this header line names another log format (`{}`) than the file's records before it (`{}`); a file is read in one format, so split it here (`head -n {}` and `tail -n +{line}`) and read the parts as separate files",
                            other.header,
                            format.header_line(),
                            line - 1,
                        ),
                    });
                    other.lines_before
                }
            },
        };
        if buf.is_empty() {
            if self.pending.is_none() {
                self.done = true;
                return None;
            }
            return self.next_chunk();
        }
        if self.eof && self.carry.is_empty() && self.pending.is_none() {
            self.done = true;
        }
        if self.lines_counted {
            self.next_line += newlines + u64::from(!buf.ends_with(b"\n"));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        Some(Ok(Chunk {
            data: buf,
            seq,
            first_line,
            layout: self.layout,
            line_cut,
        }))
    }
}

/// The file-level error for an error of the stream under `name`.
pub(crate) fn read_error(name: &str, gzip: bool, source: io::Error) -> ReadError {
    if let Some(json) = source.get_ref().and_then(|e| e.downcast_ref::<JsonError>()) {
        return ReadError::Json {
            path: name.to_owned(),
            message: json.to_string(),
        };
    }
    if let Some(parquet) = source
        .get_ref()
        .and_then(|e| e.downcast_ref::<ParquetError>())
    {
        return ReadError::Parquet {
            path: name.to_owned(),
            message: parquet.to_string(),
        };
    }
    let corrupt = matches!(
        source.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    );
    if gzip && corrupt {
        ReadError::Gzip {
            path: name.to_owned(),
            source,
        }
    } else {
        ReadError::Io {
            path: name.to_owned(),
            source,
        }
    }
}

/// A header line naming another format than the file's.
struct OtherHeader {
    /// Where the line starts in the chunk.
    offset: usize,
    /// Lines of the chunk before it.
    lines_before: u64,
    header: String,
}

/// Blanks (with spaces, so line numbers stay) each header line naming `format` in `buf`, and
/// returns the number of line ends in `buf`; or the first header naming another format.
fn blank_repeated_headers(
    buf: &mut [u8],
    format: &LogFormat,
    line_cut: bool,
) -> Result<u64, OtherHeader> {
    let mut repeated = Vec::new();
    let mut newlines = 0u64;
    let mut start = 0usize;
    let ends = memchr::memchr_iter(b'\n', buf).chain(std::iter::once(buf.len()));
    for end in ends {
        let line = buf.get(start..end).unwrap_or_default();
        // A line cut for length starts a chunk; its remains are not a header.
        let cut = start == 0 && line_cut;
        if !cut && line.first().is_some_and(u8::is_ascii_lowercase) {
            let text = std::str::from_utf8(line).unwrap_or_default();
            let text = text.strip_suffix('\r').unwrap_or(text);
            if detect::is_header_line(text) {
                if !detect::header_names_format(text, format) {
                    return Err(OtherHeader {
                        offset: start,
                        lines_before: newlines,
                        header: crate::error::excerpt(text.trim()),
                    });
                }
                repeated.push(start..end);
            }
        }
        if end < buf.len() {
            newlines += 1;
        }
        start = end + 1;
    }
    for range in repeated {
        if let Some(line) = buf.get_mut(range) {
            line.fill(b' ');
        }
    }
    Ok(newlines)
}

/// Iterator over a file's chunks; see [`crate::FlowLogFile::chunks`]. Owns the stream, so it is
/// `Send + 'static` (for `par_bridge` or a reader thread).
pub struct Chunks {
    source: Source,
}

impl Chunks {
    pub(crate) fn new(source: Source) -> Chunks {
        Chunks { source }
    }

    /// The same chunks, each numbered from its line in the file: for readers that take a file's
    /// chunks in order. It counts each chunk's lines as it passes (on the thread that reads);
    /// parallel readers place line numbers after the fact instead ([`crate::LineNumbers`]).
    pub fn numbered(self) -> NumberedChunks {
        NumberedChunks {
            chunks: self,
            next_line: 1,
        }
    }
}

/// [`Chunks`] numbered as they pass; see [`Chunks::numbered`].
pub struct NumberedChunks {
    chunks: Chunks,
    /// The file's number of the next chunk's first line.
    next_line: u64,
}

impl Iterator for NumberedChunks {
    type Item = Result<Chunk, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.chunks.next()?.map(|mut chunk| {
            chunk.number_in_order(&mut self.next_line);
            chunk
        }))
    }
}

impl Iterator for Chunks {
    type Item = Result<Chunk, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.source.next_chunk()
    }
}
