//! A fixed workload for counting the report's parser's instructions per line: the first 100,000
//! lines of the criterion benchmark's input (the seeded generator, seed 42) parsed by one
//! `FlowParser`, in a function of its own so that a profiler can count it alone:
//!
//! ```sh
//! cargo build --release -p nat-flowrec-parsers --features synth --example parse_lines
//! valgrind --tool=callgrind --toggle-collect='*parse_flows*' target/release/examples/parse_lines
//! ```
//!
//! Instructions per line = the `Ir` callgrind prints / 100,000.

use std::hint::black_box;

use nat_flowrec_parsers::synth::{Generator, Options};
use nat_flowrec_parsers::{Flow, LogFormat};

const LINES: usize = 100_000;
const SEED: u64 = 42;

/// Parses every line; (valid lines, their bytes) keeps the work observable.
#[inline(never)]
fn parse_flows(text: &str, format: &LogFormat) -> (u64, u64) {
    let parser = format.flow_parser();
    let mut flow = Flow::default();
    let (mut records, mut bytes) = (0, 0);
    for (i, line) in text.lines().enumerate() {
        if parser.parse_into(line, i as u64 + 1, &mut flow).is_ok() {
            records += 1;
            bytes += flow.bytes.unwrap_or(0);
        }
    }
    (records, bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = Vec::new();
    Generator::new(SEED, Options::default()).write_lines(&mut text, LINES)?;
    let text = String::from_utf8(text)?;
    let (records, bytes) = parse_flows(black_box(&text), &LogFormat::default());
    println!("{LINES} lines, {records} records, {bytes} bytes");
    Ok(())
}
