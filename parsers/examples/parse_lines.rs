//! A fixed workload for counting the report's parser's instructions per line: the first 100,000
//! lines of the criterion benchmark's input (the seeded generator, seed 42), cut into chunks by
//! the reader and parsed by `Chunk::for_each_flow`, the loop `report` runs, in a function of
//! its own so that a profiler can count it alone (the reading and cutting are not counted):
//!
//! ```sh
//! cargo build --release -p nat-flowrec-parsers --features synth --example parse_lines
//! valgrind --tool=callgrind --toggle-collect='*parse_flows*' target/release/examples/parse_lines
//! ```
//!
//! Instructions per line = the `Ir` callgrind prints / 100,000.
//!
//! Given a file (`parse_lines FILE`), it parses that file instead, all of it read into memory
//! first: a workload for `perf record`/`perf stat` of the parser alone, on one thread.

use std::hint::black_box;
use std::io::Cursor;

use nat_flowrec_parsers::synth::{Generator, Options};
use nat_flowrec_parsers::{Chunk, FlowLogFile, LogFormat};

const LINES: usize = 100_000;
const SEED: u64 = 42;

/// Parses every line of `chunks`; (valid lines, their bytes) keeps the work observable.
#[inline(never)]
fn parse_flows(chunks: &[Chunk], format: &LogFormat) -> (u64, u64) {
    let (mut records, mut bytes) = (0, 0);
    for chunk in chunks {
        chunk.for_each_flow(format, |flow| {
            if let Ok(flow) = flow {
                records += 1;
                bytes += flow.bytes.unwrap_or(0);
            }
        });
    }
    (records, bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = match std::env::args_os().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => {
            let mut text = Vec::new();
            Generator::new(SEED, Options::default()).write_lines(&mut text, LINES)?;
            text
        }
    };
    let format = LogFormat::default();
    let file = FlowLogFile::from_reader("generated".into(), Cursor::new(text), &format)?;
    let format = file.format().clone();
    let chunks = file.chunks().collect::<Result<Vec<_>, _>>()?;
    let bytes_in: usize = chunks.iter().map(Chunk::byte_len).sum();
    let started = std::time::Instant::now();
    let (records, bytes) = parse_flows(black_box(&chunks), &format);
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "parsed {bytes_in} bytes in {took:.3} s ({:.0} MB/s, one thread)",
        bytes_in as f64 / took / 1e6
    );
    println!("{records} records, {bytes} bytes");
    Ok(())
}
