//! The inputs the `record_parser` and `format_parser` fuzz targets found interesting (crashes
//! since fixed, and corner cases kept from their corpora), fed through the same checks the
//! targets make, so `cargo test` guards them without a fuzzer: never a panic, a record renders to
//! a line that parses back to it, a format displays as text that parses back to it.
//!
//! The inputs live in `fuzz/regressions/<target>/` (one file each); the fuzz targets also start
//! from them (`fuzz/seed.sh`).

use std::path::{Path, PathBuf};

use nat_flowrec_parsers::{Field, LogFormat, RecordErrorKind};

#[path = "../../fuzz/regression_inputs.rs"]
mod regression_inputs;

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    regression_inputs::all(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions"),
        target,
    )
}

fn regression(target: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The formats the record target tries every input in.
fn record_formats() -> Vec<LogFormat> {
    let every: Vec<String> = nat_flowrec_parsers::KNOWN_FIELDS
        .iter()
        .map(|f: &Field| format!("${{{}}}", f.name()))
        .collect();
    vec![
        LogFormat::default(),
        LogFormat::aws_default_v2(),
        LogFormat::parse(&every.join(" ")).expect("every known field is a valid format"),
    ]
}

#[test]
fn record_regressions_parse_or_fail_with_the_line_and_render_back() {
    let formats = record_formats();
    for (path, bytes) in regressions("record_parser") {
        let Ok(line) = std::str::from_utf8(&bytes) else {
            continue;
        };
        for format in &formats {
            match format.parse_record(line, 7) {
                Ok(record) => {
                    let rendered = record.render(format);
                    let again = format.parse_record(&rendered, 7).unwrap_or_else(|e| {
                        panic!(
                            "{}: rendered {rendered:?} does not parse: {e}",
                            path.display()
                        )
                    });
                    assert_eq!(again, record, "{}: {rendered:?}", path.display());
                    assert_eq!(again.render(format), rendered, "{}", path.display());
                }
                Err(err) => {
                    assert_eq!(err.line, 7, "{}: {err}", path.display());
                    assert!(!err.to_string().is_empty());
                }
            }
        }
    }
}

/// Fuzz find: an `end` of 675001714557660 (neither seconds nor milliseconds) was read as
/// 675001714557 seconds, rendered as such, and read back as 675001714 (taken for milliseconds).
#[test]
fn far_future_seconds_render_as_milliseconds_and_read_back_the_same() {
    let line = regression("record_parser", "end-seconds-above-millis-threshold");
    let format = LogFormat::aws_default_v2();
    let record = format.parse_record(&line, 1).expect("AWS v2 line");
    assert_eq!(record.start, Some(17145));
    assert_eq!(record.end, Some(675_001_714_557));
    let rendered = record.render(&format);
    assert!(rendered.contains(" 675001714557000 "), "{rendered}");
    assert_eq!(
        format.parse_record(&rendered, 1).expect("rendered").end,
        Some(675_001_714_557)
    );
}

/// Fuzz find: a line ending in `\r ` kept `\r` as the last value (here the 14th of the default
/// format), which its rendering lost (a line's trailing `\r` is a line ending): now trailing
/// spaces are trimmed with the line ending, and the line is one value short.
#[test]
fn carriage_return_before_a_trailing_space_ends_the_line() {
    let line = regression("record_parser", "cr-before-trailing-space");
    assert!(line.ends_with("\r "), "{line:?}");
    let err = LogFormat::default()
        .parse_record(&line, 3)
        .expect_err("13 values");
    assert_eq!(err.line, 3);
    assert_eq!(
        err.kind,
        RecordErrorKind::FieldCount {
            expected: 14,
            found: 13
        }
    );
}

#[test]
fn format_regressions_parse_or_name_the_token_and_display_back() {
    for (path, bytes) in regressions("format_parser") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        match LogFormat::parse(text) {
            Ok(format) => {
                let shown = format.to_string();
                let again = LogFormat::parse(&shown).unwrap_or_else(|e| {
                    panic!(
                        "{}: displayed {shown:?} does not parse: {e}",
                        path.display()
                    )
                });
                assert_eq!(again, format, "{}", path.display());
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
        if let Err(err) = LogFormat::from_header(text) {
            assert!(!err.to_string().is_empty());
        }
    }
}
