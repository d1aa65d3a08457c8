//! The error for one flow-log line that does not match its format. It is a value, not a failure:
//! readers count malformed lines and go on, and the message names line, field, what was found and
//! what would be valid.

use std::fmt;

use crate::field::Field;

/// Longest excerpt of offending text kept in an error (in characters).
const FOUND_MAX_CHARS: usize = 60;

/// What kind of mismatch a [`RecordError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordErrorKind {
    /// The line has a different number of values than the format has fields.
    FieldCount { expected: usize, found: usize },
    /// One value is not valid for its field.
    BadValue,
    /// The line is not UTF-8 text.
    InvalidUtf8,
    /// The event-timestamp prefix (CloudWatch export, export files) is missing or malformed.
    BadTimestamp,
    /// The line is longer than a reader accepts (it was cut; see `found`).
    LineTooLong,
    /// A JSON value of a CloudWatch Logs JSON file holds no record (no `message`).
    NoMessage,
}

/// One malformed flow-log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// 1-based line number in the (decompressed) file; in its chunk for a line of a chunk the
    /// reader did not number (see [`crate::LineNumbers`], which gives the file's).
    pub line: u64,
    /// The field whose value is wrong, when one is.
    pub field: Option<String>,
    /// The offending text, cut to about 60 characters.
    pub found: String,
    /// What would have been valid.
    pub expected: &'static str,
    pub kind: RecordErrorKind,
}

impl RecordError {
    pub(crate) fn field_count(line: u64, expected: usize, found: usize) -> RecordError {
        RecordError {
            line,
            field: None,
            found: found.to_string(),
            expected: "as many values as the log format has fields",
            kind: RecordErrorKind::FieldCount { expected, found },
        }
    }

    pub(crate) fn bad_value(
        line: u64,
        field: &Field,
        found: &str,
        expected: &'static str,
    ) -> RecordError {
        RecordError {
            line,
            field: Some(field.name().to_owned()),
            found: excerpt(found),
            expected,
            kind: RecordErrorKind::BadValue,
        }
    }

    pub(crate) fn other(
        line: u64,
        kind: RecordErrorKind,
        found: &str,
        expected: &'static str,
    ) -> RecordError {
        RecordError {
            line,
            field: None,
            found: excerpt(found),
            expected,
            kind,
        }
    }
}

/// The first [`FOUND_MAX_CHARS`] characters of `text`, with `...` when cut.
pub(crate) fn excerpt(text: &str) -> String {
    let mut chars = text.char_indices();
    match chars.nth(FOUND_MAX_CHARS) {
        Some((cut, _)) => format!("{}...", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.field) {
            (RecordErrorKind::FieldCount { expected, found }, _) => write!(
                f,
                "line {}: expected {expected} fields (the log format), found {found}",
                self.line
            ),
            (_, Some(field)) => write!(
                f,
                "line {}, field `{field}`: expected {}, found `{}`",
                self.line, self.expected, self.found
            ),
            (_, None) => write!(
                f,
                "line {}: expected {}, found `{}`",
                self.line, self.expected, self.found
            ),
        }
    }
}

impl std::error::Error for RecordError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_errors_name_line_field_expected_and_found() {
        let err = RecordError::bad_value(42, &Field::Dstport, "http", "an integer 0-65535");
        assert_eq!(
            err.to_string(),
            "line 42, field `dstport`: expected an integer 0-65535, found `http`"
        );
    }

    #[test]
    fn count_errors_name_both_counts() {
        let err = RecordError::field_count(7, 14, 12);
        assert_eq!(
            err.to_string(),
            "line 7: expected 14 fields (the log format), found 12"
        );
        assert_eq!(
            err.kind,
            RecordErrorKind::FieldCount {
                expected: 14,
                found: 12
            }
        );
    }

    #[test]
    fn found_text_is_cut_on_a_character_boundary() {
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), FOUND_MAX_CHARS + 3);
        assert!(cut.ends_with("..."));
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn errors_without_a_field_still_say_what_was_expected() {
        let err = RecordError::other(3, RecordErrorKind::InvalidUtf8, "ab\u{FFFD}", "UTF-8 text");
        assert_eq!(
            err.to_string(),
            "line 3: expected UTF-8 text, found `ab\u{FFFD}`"
        );
    }
}
