//! Telling the kinds of flow-log file apart from their first non-blank line (after gzip, which is
//! recognised by its magic bytes, not by the file's name). The rules, in order:
//!
//! 1. `{` starts CloudWatch Logs JSON (subscription payloads or `{"message": ...}` lines; the
//!    first JSON value tells which, see `json`); `#nat-flowrec-export` starts nat-flowrec's own
//!    export files.
//! 2. A CloudWatch Logs export: the first token is an RFC 3339 timestamp
//!    (`2024-05-01T10:00:00.000Z`), or a 13-digit epoch-millisecond number followed by exactly as
//!    many values as the default format has fields. (A bare number alone could be a record's own
//!    `start` or `bytes`; the count check keeps such plain files plain.)
//! 3. An S3 header: every token is a field-name-shaped word (lower-case letter first, then
//!    lower-case letters, digits and `-`; no `${`), and at least half of them are field names this
//!    crate knows. Record values cannot pass: numbers and addresses start with a digit, `-` is
//!    not a word, AWS's enum values are upper-case (`ACCEPT`, `OK`) or are not field names
//!    (`ingress`), and ids (`eni-...`, `vpc-...`) are not field names either.
//! 4. Anything else is a plain file in the default format.

use crate::field::Field;
use crate::format::LogFormat;
use crate::read::timestamp::{is_epoch_millis, parse_rfc3339_ms};

fn is_header_name(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Whether `line` is the header line of an S3-delivered file (rule 3 above).
pub(crate) fn is_header_line(line: &str) -> bool {
    let mut total = 0usize;
    let mut known = 0usize;
    for token in line.split_whitespace() {
        if !is_header_name(token) {
            return false;
        }
        total += 1;
        if Field::from_name(token).is_known() {
            known += 1;
        }
    }
    total > 0 && known * 2 >= total
}

/// Whether the header line `line` names exactly the fields of `format`, in its order.
pub(crate) fn header_names_format(line: &str, format: &LogFormat) -> bool {
    let mut names = line.split_whitespace();
    format
        .fields()
        .iter()
        .all(|field| names.next() == Some(field.name()))
        && names.next().is_none()
}

/// Whether `line` starts with a CloudWatch event timestamp (rule 2 above).
pub(crate) fn is_cloudwatch_line(line: &str, default_format: &LogFormat) -> bool {
    let (first, rest) = line.split_once(' ').unwrap_or((line, ""));
    if parse_rfc3339_ms(first.as_bytes()).is_some() {
        return true;
    }
    is_epoch_millis(first)
        && rest.split(' ').filter(|t| !t.is_empty()).count() == default_format.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_headers_are_recognised() {
        assert!(is_header_line(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        ));
        assert!(is_header_line("action flow-direction traffic-path srcaddr"));
        // A newer AWS field among known ones is still a header.
        assert!(is_header_line("srcaddr dstaddr some-new-field"));
    }

    #[test]
    fn records_are_not_headers() {
        for line in [
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
            "ACCEPT ingress - 10.0.1.5 41000 10.0.0.220 443 6 5000 IPv4 10.0.1.5 - 203.0.113.5 S3",
            "- - - - - - - - - - - - - -",
            "ingress vpc-abc",
            "eni-123 subnet-1",
            "${srcaddr} ${dstaddr}",
            "",
        ] {
            assert!(!is_header_line(line), "{line}");
        }
    }

    #[test]
    fn a_header_names_a_format_when_its_fields_are_the_same_in_order() {
        let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
        assert!(header_names_format("srcaddr bytes", &format));
        assert!(header_names_format(" srcaddr\tbytes ", &format));
        assert!(!header_names_format("bytes srcaddr", &format));
        assert!(!header_names_format("srcaddr", &format));
        assert!(!header_names_format("srcaddr bytes dstaddr", &format));
    }

    #[test]
    fn cloudwatch_lines_are_recognised() {
        let format = LogFormat::parse("${srcaddr} ${bytes}").expect("format");
        assert!(is_cloudwatch_line(
            "2024-05-01T10:00:00.000Z 10.0.0.1 5",
            &format
        ));
        assert!(is_cloudwatch_line("1714557600000 10.0.0.1 5", &format));
        // 13 digits but as many values as the format itself: a plain record, not a timestamp.
        let numbers = LogFormat::parse("${start} ${bytes}").expect("format");
        assert!(!is_cloudwatch_line("1714557600000 5", &numbers));
        assert!(!is_cloudwatch_line("10.0.0.1 5", &format));
    }
}
