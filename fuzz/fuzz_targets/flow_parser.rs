//! Any bytes as lines of flow logs, read by the report's fast parser (`FlowParser`, one parser
//! for all lines, as a reader uses it) in nat-flowrec's default format, AWS's default v2 format
//! and a format with every known field: every line is accepted or refused exactly as the record
//! parser decides, with the same values; never a panic. Each line is also read where it stands
//! in the whole input (`parse_line_of`, as a reader reads its chunk): the lines after it must
//! change nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat_flowrec_fuzz::formats;
use nat_flowrec_parsers::Flow;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in formats() {
        // One parser over every line: what it keeps between lines (its line buffer, its recent
        // addresses) must not change a result.
        let parser = format.flow_parser();
        let mut start = 0;
        for line in text.split('\n') {
            let fast = parser.parse(line, 1);
            let reference = format.parse_record(line, 1).map(|rec| Flow::from(&rec));
            assert_eq!(fast, reference, "{line:?}");
            let mut flow = Flow::default();
            let within = parser
                .parse_line_of(text, start..start + line.len(), 1, &mut flow)
                .map(|()| flow);
            assert_eq!(within, reference, "{line:?} within the input");
            start += line.len() + 1;
        }
    }
});
