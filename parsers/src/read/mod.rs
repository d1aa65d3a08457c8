//! Streaming readers for flow-log files: plain text, gzip (by magic bytes), S3-delivered files
//! with a header line (repeated where files were joined), CloudWatch Logs exports with an event
//! timestamp per line, CloudWatch Logs JSON (subscription payloads, `{"message": ...}` lines),
//! nat-flowrec's export files, and S3-delivered Parquet (by its magic bytes, read as the text
//! lines of its columns: see `parquet`). A file is read in chunks of whole lines, so memory stays bounded
//! by the chunk size whatever the file's size, and chunks can be parsed in parallel.

mod chunk;
mod detect;
mod json;
mod numbering;
pub(crate) mod parquet;
mod source;
pub(crate) mod timestamp;

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;

use flate2::read::MultiGzDecoder;

pub use chunk::{Chunk, Line, Lines};
pub use numbering::LineNumbers;
pub use parquet::{ParquetError, ParquetText};
pub use source::{Chunks, NumberedChunks};

use crate::error::RecordError;
use crate::export::{ExportMeta, MAGIC, VERSION};
use crate::format::LogFormat;
use crate::record::Record;
use chunk::Layout;
use json::{JsonRecords, Shape};
use source::Source;

/// Which kind of flow-log file a reader found (see `detect` for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// Lines in the default format, nothing else.
    Plain,
    /// S3-delivered: a header line names the fields.
    S3,
    /// Exported from CloudWatch Logs: each line is `<event timestamp> <record>`.
    CloudWatchExport,
    /// nat-flowrec's own export file (`#nat-flowrec-export v1` header; see [`crate::export`]).
    Export,
    /// CloudWatch Logs subscription payloads (`{"messageType":"DATA_MESSAGE", ... "logEvents":
    /// [...]}`), as Firehose and Lambda subscribers receive them; each event is a record.
    CloudWatchSubscription,
    /// JSON lines wrapping one record each: `{"timestamp": ..., "message": "<record>"}`.
    JsonMessages,
    /// S3-delivered Apache Parquet: a column per field, named with `_` for `-`.
    Parquet,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Plain => "plain",
            SourceKind::S3 => "s3",
            SourceKind::CloudWatchExport => "cloudwatch-export",
            SourceKind::Export => "export",
            SourceKind::CloudWatchSubscription => "cloudwatch-subscription",
            SourceKind::JsonMessages => "json-messages",
            SourceKind::Parquet => "parquet",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file that cannot be read on (as opposed to one malformed line, a [`RecordError`]).
/// Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` starts like gzip but is corrupt or truncated: {source}")]
    Gzip {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "`{path}` is not a flow log file: {reason} (expected flow-log text, optionally gzip-compressed)"
    )]
    NotFlowLog { path: String, reason: String },
    #[error("`{path}`, line {line}: {message}")]
    Header {
        path: String,
        line: u64,
        message: String,
    },
    #[error(
        "`{path}` starts like CloudWatch Logs JSON but cannot be read on: {message} (expected CloudWatch Logs subscription payloads or JSON lines with a `message`)"
    )]
    Json { path: String, message: String },
    #[error(
        "`{path}` is a Parquet file that cannot be read on: {message} (expected VPC Flow Logs in Parquet as AWS delivers them to S3)"
    )]
    Parquet { path: String, message: String },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            ReadError::Io { path, .. }
            | ReadError::Gzip { path, .. }
            | ReadError::NotFlowLog { path, .. }
            | ReadError::Header { path, .. }
            | ReadError::Json { path, .. }
            | ReadError::Parquet { path, .. } => path,
        }
    }
}

/// An open flow-log file whose kind and format are known; its records are read by
/// [`FlowLogFile::chunks`] or [`FlowLogFile::for_each_record`].
pub struct FlowLogFile {
    kind: SourceKind,
    format: LogFormat,
    meta: Option<ExportMeta>,
    source: Source,
}

impl fmt::Debug for FlowLogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowLogFile")
            .field("name", &self.source.name)
            .field("kind", &self.kind)
            .field("format", &self.format.to_string())
            .finish_non_exhaustive()
    }
}

impl FlowLogFile {
    /// Opens `path` and recognises its kind; `default_format` applies where the file does not
    /// name its own (plain files, CloudWatch exports).
    pub fn open(path: &Path, default_format: &LogFormat) -> Result<FlowLogFile, ReadError> {
        let name = path.display().to_string();
        let io_error = |source| ReadError::Io {
            path: name.clone(),
            source,
        };
        let mut file = File::open(path).map_err(io_error)?;
        // A Parquet file on disk is read where it lies (footer first), not taken into memory.
        if file.metadata().is_ok_and(|m| m.is_file()) {
            let mut head = [0u8; 4];
            let parquet = file.read_exact(&mut head).is_ok() && parquet::is_parquet(&head);
            file.rewind().map_err(io_error)?;
            if parquet {
                return FlowLogFile::from_parquet(name, ParquetText::from_file(file, None));
            }
        }
        FlowLogFile::from_reader(name, file, default_format)
    }

    /// Like [`FlowLogFile::open`], over any reader; `name` is used in errors.
    pub fn from_reader(
        name: String,
        mut reader: impl Read + Send + 'static,
        default_format: &LogFormat,
    ) -> Result<FlowLogFile, ReadError> {
        // Four bytes: Parquet's `PAR1`; gzip needs the first two.
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < magic.len() {
            match reader.read(magic.get_mut(got..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(ReadError::Io { path: name, source }),
            }
        }
        let head = magic.get(..got).unwrap_or_default().to_vec();
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let parquet = parquet::is_parquet(&head);
        let mut whole = io::Cursor::new(head).chain(reader);
        if parquet {
            // Parquet is read from its end (the footer): a stream is taken into memory whole.
            let mut data = Vec::new();
            whole
                .read_to_end(&mut data)
                .map_err(|source| ReadError::Io {
                    path: name.clone(),
                    source,
                })?;
            return FlowLogFile::from_parquet(name, ParquetText::from_bytes(data, None));
        }
        let stream: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(whole))
        } else {
            Box::new(whole)
        };
        let mut source = Source::new(name, stream, gzip);
        let (kind, format, meta) = recognise(&mut source, default_format)?;
        if kind == SourceKind::CloudWatchSubscription {
            return FlowLogFile::from_json(source, default_format);
        }
        // Only a file that starts with its header (S3 objects, alone or joined with `cat`, or a
        // header before every batch) is looked at for repeated headers: a header-less file keeps
        // the reader's bulk newline count, the report's fast path.
        if kind == SourceKind::S3 {
            source.repeated_headers = Some(format.clone());
        }
        source.layout = match kind {
            SourceKind::Plain | SourceKind::S3 | SourceKind::Parquet => Layout::Bare,
            SourceKind::CloudWatchExport => Layout::Timestamped {
                skip_comments: false,
            },
            SourceKind::Export => Layout::Timestamped {
                skip_comments: true,
            },
            SourceKind::CloudWatchSubscription | SourceKind::JsonMessages => Layout::Decoded,
        };
        Ok(FlowLogFile {
            kind,
            format,
            meta,
            source,
        })
    }

    /// A Parquet file, read as the text lines of its columns in the file's order.
    fn from_parquet(
        name: String,
        text: Result<ParquetText, ParquetError>,
    ) -> Result<FlowLogFile, ReadError> {
        let text = text.map_err(|e| ReadError::Parquet {
            path: name.clone(),
            message: e.to_string(),
        })?;
        let format = text.format().clone();
        let source = Source::new(name, Box::new(text), false);
        Ok(FlowLogFile {
            kind: SourceKind::Parquet,
            format,
            meta: None,
            source,
        })
    }

    /// The rest of `source`, which starts with `{`, decoded from CloudWatch Logs JSON; the
    /// first value tells which of its shapes the file has.
    fn from_json(source: Source, default_format: &LogFormat) -> Result<FlowLogFile, ReadError> {
        let name = source.name.clone();
        let (stream, gzip) = source.into_stream();
        let (records, shape) =
            JsonRecords::new(stream).map_err(|e| source::read_error(&name, gzip, e))?;
        let kind = match shape {
            Some(Shape::Messages) => SourceKind::JsonMessages,
            Some(Shape::Subscription) | None => SourceKind::CloudWatchSubscription,
        };
        let mut source = Source::new(name, Box::new(records), gzip);
        source.layout = Layout::Decoded;
        Ok(FlowLogFile {
            kind,
            format: default_format.clone(),
            meta: None,
            source,
        })
    }

    /// Sets the chunk size in bytes (default 512 KiB); mostly for tests of chunk boundaries.
    pub fn with_chunk_size(mut self, bytes: usize) -> FlowLogFile {
        self.source.chunk_size = bytes.max(1);
        self
    }

    /// The kind of file found.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The format of the file's records: its own (S3 header, export `#format`) or the default.
    pub fn format(&self) -> &LogFormat {
        &self.format
    }

    /// What an export file says about its recording; `None` for other kinds.
    pub fn meta(&self) -> Option<&ExportMeta> {
        self.meta.as_ref()
    }

    /// The name given at open (the path, for files).
    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// The file's lines in chunks of whole lines (about 512 KiB each), consuming the file (take
    /// `format()`/`meta()` first). The iterator is `Send + 'static`, for `rayon`'s `par_bridge`.
    /// It ends after an `Err`; chunks read before it are valid. Chunks of bare records are not
    /// numbered (their lines count from 1; see [`Chunk::first_line`]): take them
    /// [`Chunks::numbered`] to read a file in order with its line numbers.
    pub fn chunks(self) -> Chunks {
        Chunks::new(self.source)
    }

    /// Calls `f` with every record or malformed line, in file order (sequential convenience).
    /// Stops early only on a [`ReadError`].
    pub fn for_each_record<F>(&mut self, mut f: F) -> Result<(), ReadError>
    where
        F: for<'r> FnMut(Result<Record<'r>, RecordError>),
    {
        let mut next_line = 1;
        while let Some(chunk) = self.source.next_chunk() {
            let mut chunk = chunk?;
            chunk.number_in_order(&mut next_line);
            for rec in chunk.records(&self.format) {
                f(rec);
            }
        }
        Ok(())
    }
}

/// Reads the first non-blank line(s) to tell the kind (see `detect`), consuming header lines.
fn recognise(
    source: &mut Source,
    default_format: &LogFormat,
) -> Result<(SourceKind, LogFormat, Option<ExportMeta>), ReadError> {
    loop {
        let Some(raw) = source.head_line()? else {
            return Ok((SourceKind::Plain, default_format.clone(), None));
        };
        let text = head_text(source, &raw)?;
        if text.trim().is_empty() {
            source.drop_line();
            continue;
        }
        if text.trim_start().starts_with('{') {
            // Subscription payload or `{"message": ...}` lines: decided by the first value.
            return Ok((
                SourceKind::CloudWatchSubscription,
                default_format.clone(),
                None,
            ));
        }
        if text.starts_with(MAGIC) {
            let meta = read_export_header(source, text)?;
            return Ok((SourceKind::Export, meta.format.clone(), Some(meta)));
        }
        if detect::is_cloudwatch_line(text, default_format) {
            return Ok((SourceKind::CloudWatchExport, default_format.clone(), None));
        }
        if detect::is_header_line(text) {
            let format = LogFormat::from_header(text).map_err(|e| ReadError::Header {
                path: source.name.clone(),
                line: source.next_line,
                message: format!("the S3 header line does not name a log format: {e}"),
            })?;
            source.drop_line();
            return Ok((SourceKind::S3, format, None));
        }
        return Ok((SourceKind::Plain, default_format.clone(), None));
    }
}

/// The first line as text; binary data means this is not a flow-log file at all.
fn head_text<'a>(source: &Source, raw: &'a [u8]) -> Result<&'a str, ReadError> {
    let not_flow_log = |reason: &str| ReadError::NotFlowLog {
        path: source.name.clone(),
        reason: reason.to_owned(),
    };
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = match std::str::from_utf8(raw) {
        Ok(text) => text,
        // A first line longer than the look-ahead may be cut inside a character.
        Err(e) if e.error_len().is_none() => raw
            .get(..e.valid_up_to())
            .and_then(|r| std::str::from_utf8(r).ok())
            .unwrap_or_default(),
        Err(_) => return Err(not_flow_log("its first line is not UTF-8 text")),
    };
    if text.bytes().any(|b| b < 0x20 && b != b'\t') {
        return Err(not_flow_log("its first line holds binary (control) bytes"));
    }
    Ok(text)
}

/// Consumes an export file's `#` header and returns what it says.
fn read_export_header(source: &mut Source, first: &str) -> Result<ExportMeta, ReadError> {
    let header_error = |source: &Source, message: String| ReadError::Header {
        path: source.name.clone(),
        line: source.next_line,
        message,
    };
    let version = first.get(MAGIC.len()..).unwrap_or_default().trim();
    if version != VERSION {
        return Err(header_error(
            source,
            format!(
                "unsupported export file version `{version}`; this nat-flowrec reads `{MAGIC} {VERSION}`"
            ),
        ));
    }
    source.drop_line();
    let mut meta = ExportMeta::default();
    let mut saw_format = false;
    while let Some(raw) = source.head_line()? {
        let text = head_text(source, &raw)?;
        if text.trim().is_empty() {
            source.drop_line();
            continue;
        }
        if !text.starts_with('#') {
            break;
        }
        saw_format |= text.starts_with("#format ");
        meta.apply_header_line(text)
            .map_err(|message| header_error(source, message))?;
        source.drop_line();
    }
    if !saw_format {
        return Err(header_error(
            source,
            "the export header has no `#format ${field} ...` line, so its records cannot be read"
                .to_owned(),
        ));
    }
    Ok(meta)
}

#[cfg(test)]
mod tests;
