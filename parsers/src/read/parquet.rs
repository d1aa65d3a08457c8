//! Flow logs delivered to S3 as Apache Parquet (`DestinationOptions.FileFormat = parquet`): one
//! column per field of the format, named with `_` for `-` (`pkt_dst_aws_service`), the numbers
//! as integer columns and everything else as text, in Gzip-compressed pages.
//!
//! A file is turned back into the text lines of its format (the values in the format's order,
//! `-` for a null), which the record parser then reads like any other file. So the values'
//! checks, the error of a malformed record and, downstream, the leg rule and the report's tables
//! are the text path's own: there is no second record builder to keep in step with the parser.
//! The price is formatting the numbers once more. Rows are converted a batch at a time, so
//! memory stays bounded by a batch besides the file itself when it was handed over in memory.
//!
//! The reader is arrow-rs' `parquet` crate without arrow (its column readers only), built with
//! the Gzip codec alone, the one AWS writes: a column compressed otherwise is refused by name.
//! Every error names the row group and the column when there is one, what was found and what was
//! expected.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write as _};
use std::panic::{self, AssertUnwindSafe};

use bytes::Bytes;
use parquet::basic::{Compression, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescPtr;

use crate::field::Field;
use crate::format::LogFormat;

/// The first (and the last) four bytes of every Parquet file.
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// Rows converted at a time: a few hundred KiB of text, about a reader chunk.
const BATCH_ROWS: usize = 4096;

/// Whether `head` (a file's first bytes) starts like a Parquet file.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(PARQUET_MAGIC)
}

/// Why a Parquet flow-log file cannot be read on: where (row group, column) when it is known,
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParquetError {
    /// 0-based, as Parquet tools number them.
    pub row_group: Option<usize>,
    /// The column's name in the file.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for ParquetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(group) = self.row_group {
            write!(f, "row group {group}, ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ParquetError {
    fn file(message: String) -> ParquetError {
        ParquetError {
            row_group: None,
            column: None,
            message,
        }
    }

    fn column(column: &Column, row_group: Option<usize>, message: String) -> ParquetError {
        ParquetError {
            row_group,
            column: Some(column.name.clone()),
            message,
        }
    }
}

/// A field's column name: `pkt-srcaddr` is `pkt_srcaddr`.
pub fn column_name(field: &Field) -> String {
    field.name().replace('-', "_")
}

/// What a column holds, by its physical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int32,
    Int64,
    Text,
}

/// The values of one batch of one column, dense (nulls are in the definition levels).
enum Values {
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Text(Vec<ByteArray>),
}

/// One column of the output line, read from the file's leaf column `index`.
struct Column {
    name: String,
    index: usize,
    kind: Kind,
    /// A null is possible where the maximum definition level is above 0.
    max_def_level: i16,
    reader: Option<ColumnReader>,
    values: Values,
    def_levels: Vec<i16>,
    /// The next unread value of `values`.
    next: usize,
}

impl Column {
    fn new(index: usize, descr: &ColumnDescPtr, field: &Field) -> Result<Column, ParquetError> {
        let name = descr.name().to_owned();
        let problem = |message: String| ParquetError {
            row_group: None,
            column: Some(name.clone()),
            message,
        };
        if descr.max_rep_level() > 0 || descr.path().parts().len() > 1 {
            return Err(problem(
                "it is nested (a list, a map or a struct); flow-log columns are plain values"
                    .to_owned(),
            ));
        }
        let physical = descr.physical_type();
        let kind = match physical {
            PhysicalType::INT32 => Kind::Int32,
            PhysicalType::INT64 => Kind::Int64,
            PhysicalType::BYTE_ARRAY => Kind::Text,
            _ => return Err(problem(wrong_type(physical, field))),
        };
        if field.is_known() && field.is_number() != (kind != Kind::Text) {
            return Err(problem(wrong_type(physical, field)));
        }
        let values = match kind {
            Kind::Int32 => Values::Int32(Vec::new()),
            Kind::Int64 => Values::Int64(Vec::new()),
            Kind::Text => Values::Text(Vec::new()),
        };
        Ok(Column {
            name,
            index,
            kind,
            max_def_level: descr.max_def_level(),
            reader: None,
            values,
            def_levels: Vec::new(),
            next: 0,
        })
    }

    /// Reads up to `rows` rows of the current row group; how many were read.
    fn read(&mut self, rows: usize, row_group: usize) -> Result<usize, ParquetError> {
        self.def_levels.clear();
        self.next = 0;
        let levels = (self.max_def_level > 0).then_some(&mut self.def_levels);
        let read = match (&mut self.reader, &mut self.values) {
            (Some(ColumnReader::Int32ColumnReader(r)), Values::Int32(v)) => {
                v.clear();
                r.read_records(rows, levels, None, v)
            }
            (Some(ColumnReader::Int64ColumnReader(r)), Values::Int64(v)) => {
                v.clear();
                r.read_records(rows, levels, None, v)
            }
            (Some(ColumnReader::ByteArrayColumnReader(r)), Values::Text(v)) => {
                v.clear();
                r.read_records(rows, levels, None, v)
            }
            _ => {
                return Err(ParquetError::column(
                    self,
                    Some(row_group),
                    "its values are not of the type its schema declares".to_owned(),
                ));
            }
        };
        let (records, _, _) = read.map_err(|e| {
            ParquetError::column(self, Some(row_group), format!("cannot be decoded: {e}"))
        })?;
        Ok(records)
    }

    /// Appends row `row`'s value of the batch read last (`-` for a null) to `line`.
    fn write_value(
        &mut self,
        row: usize,
        line: &mut Vec<u8>,
        row_group: usize,
    ) -> Result<(), ParquetError> {
        if self.max_def_level > 0 && self.def_levels.get(row) != Some(&self.max_def_level) {
            line.push(b'-');
            return Ok(());
        }
        let at = self.next;
        self.next += 1;
        let written = match &self.values {
            Values::Int32(v) => v.get(at).map(|n| write!(line, "{n}")),
            Values::Int64(v) => v.get(at).map(|n| write!(line, "{n}")),
            Values::Text(v) => v.get(at).map(|text| {
                write_text(text.as_ref(), line);
                Ok(())
            }),
        };
        match written {
            Some(Ok(())) => Ok(()),
            _ => Err(ParquetError::column(
                self,
                Some(row_group),
                "has fewer values than its definition levels announce (the file is corrupt)"
                    .to_owned(),
            )),
        }
    }
}

/// A text value as one token of a line: empty is `-` (no value), and a line end inside it
/// becomes a space, so the row stays one line and is reported as malformed with its own number.
fn write_text(text: &[u8], line: &mut Vec<u8>) {
    if text.is_empty() {
        line.push(b'-');
        return;
    }
    line.extend(
        text.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
}

fn wrong_type(physical: PhysicalType, field: &Field) -> String {
    let expected = if !field.is_known() {
        "integers (INT32 or INT64) or text (BYTE_ARRAY)"
    } else if field.is_number() {
        "integers (INT32 or INT64), as AWS writes this field"
    } else {
        "text (BYTE_ARRAY strings), as AWS writes this field"
    };
    format!("holds {physical} values, expected {expected}")
}

/// A Parquet flow-log file read as the text lines of a format (see the module's doc). Reading it
/// gives the lines, `\n`-terminated, without a header; line N is row N of the file.
pub struct ParquetText {
    file: Box<dyn FileReader>,
    format: LogFormat,
    columns: Vec<Column>,
    /// The row group being read, its rows and how many were converted.
    row_group: usize,
    rows_in_group: u64,
    rows_done: u64,
    started: bool,
    /// Converted text not yet handed out.
    text: Vec<u8>,
    pos: usize,
    finished: bool,
}

impl fmt::Debug for ParquetText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetText")
            .field("format", &self.format.to_string())
            .field("row_group", &self.row_group)
            .finish_non_exhaustive()
    }
}

impl ParquetText {
    /// A file held in memory (an S3 object). With `format`, the lines are in its order and a
    /// field without a column is an error; without, the format is the file's columns in order.
    pub fn from_bytes(data: Vec<u8>, format: Option<&LogFormat>) -> Result<Self, ParquetError> {
        Self::new(Bytes::from(data), format)
    }

    /// A file on disk, read where it lies (Parquet reads its footer first).
    pub fn from_file(file: File, format: Option<&LogFormat>) -> Result<Self, ParquetError> {
        Self::new(file, format)
    }

    fn new<R: ChunkReader + 'static>(
        reader: R,
        format: Option<&LogFormat>,
    ) -> Result<Self, ParquetError> {
        let file = guarded(|| {
            SerializedFileReader::new(reader).map_err(|e| {
                ParquetError::file(format!(
                    "its footer cannot be read ({e}); the file is corrupt or truncated"
                ))
            })
        })?;
        let schema = file.metadata().file_metadata().schema_descr_ptr();
        let leaves = schema.columns();
        let (format, columns) = match format {
            Some(format) => {
                let mut columns = Vec::with_capacity(format.len());
                for field in format.fields() {
                    let name = column_name(field);
                    let Some(index) = leaves.iter().position(|c| c.name() == name) else {
                        return Err(ParquetError::file(format!(
                            "it has no column `{name}` for the field `${{{field}}}` of the \
                             format (its columns: {})",
                            names(leaves)
                        )));
                    };
                    let descr = leaves.get(index).ok_or_else(|| {
                        ParquetError::file(format!("no column at position {index}"))
                    })?;
                    columns.push(Column::new(index, descr, field)?);
                }
                (format.clone(), columns)
            }
            None => {
                let fields: Vec<Field> = leaves
                    .iter()
                    .map(|c| Field::from_name(&c.name().replace('_', "-")))
                    .collect();
                let format = LogFormat::from_fields(fields.clone()).map_err(|e| {
                    ParquetError::file(format!(
                        "its columns ({}) are not a flow-log format: {e}",
                        names(leaves)
                    ))
                })?;
                let columns = leaves
                    .iter()
                    .zip(&fields)
                    .enumerate()
                    .map(|(index, (descr, field))| Column::new(index, descr, field))
                    .collect::<Result<Vec<_>, _>>()?;
                (format, columns)
            }
        };
        Ok(ParquetText {
            file: Box::new(file),
            format,
            columns,
            row_group: 0,
            rows_in_group: 0,
            rows_done: 0,
            started: false,
            text: Vec::new(),
            pos: 0,
            finished: false,
        })
    }

    /// The format of the lines.
    pub fn format(&self) -> &LogFormat {
        &self.format
    }

    /// Opens row group `self.row_group` for every column; false after the last one.
    fn open_row_group(&mut self) -> Result<bool, ParquetError> {
        let group = self.row_group;
        if group >= self.file.num_row_groups() {
            return Ok(false);
        }
        let reader = self.file.get_row_group(group).map_err(|e| ParquetError {
            row_group: Some(group),
            column: None,
            message: format!("cannot be read: {e}"),
        })?;
        let meta = reader.metadata();
        self.rows_in_group = u64::try_from(meta.num_rows()).unwrap_or(0);
        self.rows_done = 0;
        for column in &mut self.columns {
            let chunk = meta.columns().get(column.index).ok_or_else(|| {
                ParquetError::column(
                    column,
                    Some(group),
                    "is missing from the row group (the file is corrupt)".to_owned(),
                )
            })?;
            match chunk.compression() {
                Compression::UNCOMPRESSED | Compression::GZIP(_) => {}
                other => {
                    return Err(ParquetError::column(
                        column,
                        Some(group),
                        format!(
                            "is compressed with {other}, which this build does not read: \
                             Parquet flow logs are read with GZIP compression, as AWS delivers \
                             them (or uncompressed)"
                        ),
                    ));
                }
            }
            let reader = reader.get_column_reader(column.index).map_err(|e| {
                ParquetError::column(column, Some(group), format!("cannot be read: {e}"))
            })?;
            let kind_matches = matches!(
                (&reader, column.kind),
                (ColumnReader::Int32ColumnReader(_), Kind::Int32)
                    | (ColumnReader::Int64ColumnReader(_), Kind::Int64)
                    | (ColumnReader::ByteArrayColumnReader(_), Kind::Text)
            );
            if !kind_matches {
                return Err(ParquetError::column(
                    column,
                    Some(group),
                    "its values are not of the type its schema declares".to_owned(),
                ));
            }
            column.reader = Some(reader);
        }
        Ok(true)
    }

    /// Converts the next batch of rows into `self.text`; false at the end of the file.
    fn fill(&mut self) -> Result<bool, ParquetError> {
        self.text.clear();
        self.pos = 0;
        loop {
            if !self.started {
                self.started = true;
                if !self.open_row_group()? {
                    return Ok(false);
                }
            }
            let group = self.row_group;
            let mut rows = None;
            for column in &mut self.columns {
                let read = column.read(BATCH_ROWS, group)?;
                if rows.is_some_and(|rows| rows != read) {
                    return Err(ParquetError::column(
                        column,
                        Some(group),
                        "has another number of rows than the other columns (the file is corrupt)"
                            .to_owned(),
                    ));
                }
                rows = Some(read);
            }
            let rows = rows.unwrap_or(0);
            if rows == 0 {
                if self.rows_done != self.rows_in_group {
                    return Err(ParquetError {
                        row_group: Some(group),
                        column: None,
                        message: format!(
                            "has {} rows in its columns but {} in its metadata (the file is \
                             corrupt)",
                            self.rows_done, self.rows_in_group
                        ),
                    });
                }
                self.row_group += 1;
                self.started = false;
                continue;
            }
            self.rows_done += rows as u64;
            for row in 0..rows {
                for (i, column) in self.columns.iter_mut().enumerate() {
                    if i > 0 {
                        self.text.push(b' ');
                    }
                    column.write_value(row, &mut self.text, group)?;
                }
                self.text.push(b'\n');
            }
            return Ok(true);
        }
    }
}

impl Read for ParquetText {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.text.len() {
            if self.finished {
                return Ok(0);
            }
            match guarded(|| self.fill()) {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    return Ok(0);
                }
                Err(e) => {
                    self.finished = true;
                    return Err(io::Error::other(e));
                }
            }
        }
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
            to.copy_from_slice(from);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Runs a step of the `parquet` crate, whose decoders assert on some damaged data rather than
/// return an error: a panic there becomes an error about the file (the reader is not used
/// again after one), so a damaged file among many fails alone instead of ending the report.
fn guarded<T>(step: impl FnOnce() -> Result<T, ParquetError>) -> Result<T, ParquetError> {
    panic::catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(ParquetError::file(format!(
            "its data is damaged (the Parquet decoder stopped: {why}); the file is corrupt"
        )))
    })
}

fn names(leaves: &[ColumnDescPtr]) -> String {
    let names: Vec<&str> = leaves.iter().map(|c| c.name()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests;
