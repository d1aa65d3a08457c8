//! Any text as a `${field} ...` log format (and as an S3 header line): an error naming the token,
//! never a panic; a parsed format displays as text that parses to the same format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat_flowrec_parsers::LogFormat;

fuzz_target!(|text: &str| {
    if let Ok(format) = LogFormat::parse(text) {
        let shown = format.to_string();
        assert_eq!(
            LogFormat::parse(&shown).expect("a displayed format parses"),
            format
        );
    }
    let _ = LogFormat::from_header(text);
});
