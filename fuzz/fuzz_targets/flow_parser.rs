//! Any bytes as lines of flow logs, read by the report's fast parser (`FlowParser`, one parser
//! for all lines, as a reader uses it) in nat-flowrec's default format, AWS's default v2 format
//! and a format with every known field: every line is accepted or refused exactly as the record
//! parser decides, with the same values; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat_flowrec_fuzz::formats;
use nat_flowrec_parsers::Flow;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in formats() {
        // One parser over every line: what it keeps between lines (its padded line buffer, its
        // recent addresses) must not change a result.
        let parser = format.flow_parser();
        for line in text.split('\n') {
            let fast = parser.parse(line, 1);
            let reference = format.parse_record(line, 1).map(|rec| Flow::from(&rec));
            assert_eq!(fast, reference, "{line:?}");
        }
    }
});
