//! Any bytes as a flow-log line, in nat-flowrec's default format, AWS's default v2 format and a
//! format with every known field: the parser returns a record or an error naming the line, never
//! panics; a record renders back to a line that parses to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat_flowrec_fuzz::formats;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    for format in formats() {
        if let Ok(record) = format.parse_record(line, 1) {
            let rendered = record.render(format);
            let again = format
                .parse_record(&rendered, 1)
                .expect("a rendered record parses");
            assert_eq!(again.render(format), rendered);
        }
    }
});
