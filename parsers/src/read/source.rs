//! The byte stream under a [`crate::FlowLogFile`] and its cutting into [`Chunk`]s of whole lines.
//! Memory is bounded: a chunk holds about `chunk_size` bytes plus at most one line, and a line
//! longer than [`MAX_LINE`] is cut (and reported as malformed) rather than buffered whole.

use std::io::{self, Read};

use crate::read::ReadError;
use crate::read::chunk::{self, Chunk, Layout};

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
    /// Bytes read but not yet handed out; starts at line `next_line`.
    carry: Vec<u8>,
    pub(crate) next_line: u64,
    eof: bool,
    done: bool,
    pub(crate) chunk_size: usize,
    pub(crate) layout: Layout,
}

impl Source {
    pub(crate) fn new(name: String, reader: Box<dyn Read + Send>, gzip: bool) -> Source {
        Source {
            name,
            reader,
            gzip,
            carry: Vec::new(),
            next_line: 1,
            eof: false,
            done: false,
            chunk_size: DEFAULT_CHUNK_SIZE,
            layout: Layout::Bare,
        }
    }

    fn error(&self, source: io::Error) -> ReadError {
        let corrupt = matches!(
            source.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
        );
        if self.gzip && corrupt {
            ReadError::Gzip {
                path: self.name.clone(),
                source,
            }
        } else {
            ReadError::Io {
                path: self.name.clone(),
                source,
            }
        }
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

    pub(crate) fn next_chunk(&mut self) -> Option<Result<Chunk, ReadError>> {
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
                return Some(Err(e));
            }
        }
        // Cut after the last whole line within the chunk size; the rest starts the next chunk.
        let limit = buf.len().min(self.chunk_size);
        let mut cut = memchr::memrchr(b'\n', buf.get(..limit).unwrap_or_default()).map(|p| p + 1);
        let mut too_long = Vec::new();
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
                    too_long.push(self.next_line);
                    match self.skip_rest_of_line() {
                        Ok(rest) => self.carry = rest,
                        Err(e) => return Some(Err(e)),
                    }
                    break;
                }
                searched = buf.len();
                if let Err(e) = self.read_into(&mut buf, self.chunk_size) {
                    return Some(Err(e));
                }
            }
        }
        if let Some(cut) = cut.filter(|c| *c < buf.len()) {
            self.carry = buf.split_off(cut);
        }
        if buf.is_empty() {
            self.done = true;
            return None;
        }
        if self.eof && self.carry.is_empty() {
            self.done = true;
        }
        let first_line = self.next_line;
        let newlines = memchr::memchr_iter(b'\n', &buf).count() as u64;
        self.next_line += newlines + u64::from(!buf.ends_with(b"\n"));
        Some(Ok(Chunk {
            data: buf,
            first_line,
            layout: self.layout,
            too_long,
        }))
    }
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
}

impl Iterator for Chunks {
    type Item = Result<Chunk, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.source.next_chunk()
    }
}
