//! Parse throughput of the flow-log parser, in MB/s and lines/s, over 1,000,000 generated lines
//! in the default 14-field format (the seeded `synth` generator, so anyone gets the same input):
//!
//! * `parse_record`: the record parser alone, line by line, from memory;
//! * `parse_flow`: the report's parser (the aggregated fields only, no full record; a
//!   `FlowParser` compiled once), likewise;
//! * `file_1_thread` / `file_2_threads`: the streaming reader (chunks of whole lines) from a file
//!   in the page cache, parsed on one thread or two (the machine has two cores), the way reports
//!   read their input.
//!
//! Run: `cargo bench --bench parse`.

use std::hint::black_box;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nat_flowrec_parsers::{Flow, FlowLogFile, LogFormat};

mod input;

use input::LINES;

/// What a consumer folds: byte total, records, malformed lines (keeps the work observable).
#[derive(Default)]
struct Totals {
    bytes: u64,
    records: u64,
    malformed: u64,
}

impl Totals {
    fn merge(&mut self, other: Totals) {
        self.bytes += other.bytes;
        self.records += other.records;
        self.malformed += other.malformed;
    }
}

fn parse_lines(text: &str, format: &LogFormat) -> Totals {
    let mut totals = Totals::default();
    for (i, line) in text.lines().enumerate() {
        match format.parse_record(line, i as u64 + 1) {
            Ok(rec) => {
                totals.records += 1;
                totals.bytes += rec.bytes.unwrap_or(0);
            }
            Err(_) => totals.malformed += 1,
        }
    }
    totals
}

fn parse_flows(text: &str, format: &LogFormat) -> Totals {
    let mut totals = Totals::default();
    let parser = format.flow_parser();
    let mut flow = Flow::default();
    for (i, line) in text.lines().enumerate() {
        match parser.parse_into(line, i as u64 + 1, &mut flow) {
            Ok(()) => {
                totals.records += 1;
                totals.bytes += flow.bytes.unwrap_or(0);
            }
            Err(_) => totals.malformed += 1,
        }
    }
    totals
}

/// Reads `path` in chunks, parsing them on `threads` threads.
fn read_file(path: &Path, threads: usize) -> Totals {
    let file = FlowLogFile::open(path, &LogFormat::default()).expect("benchmark input opens");
    let format = file.format().clone();
    let chunks = Mutex::new(file.chunks());
    let mut totals = Totals::default();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut totals = Totals::default();
                    loop {
                        let next = chunks.lock().expect("no worker panics").next();
                        let Some(chunk) = next else { break };
                        let chunk = chunk.expect("benchmark input reads");
                        for rec in chunk.records(&format) {
                            match rec {
                                Ok(rec) => {
                                    totals.records += 1;
                                    totals.bytes += rec.bytes.unwrap_or(0);
                                }
                                Err(_) => totals.malformed += 1,
                            }
                        }
                    }
                    totals
                })
            })
            .collect();
        for worker in workers {
            totals.merge(worker.join().expect("worker"));
        }
    });
    totals
}

fn bench(c: &mut Criterion) {
    let (text, _dir, path) = input::generated();
    let text = String::from_utf8(text).expect("the generator writes UTF-8");
    let format = LogFormat::default();

    // Sanity: every generated line parses, through both paths.
    let direct = parse_lines(&text, &format);
    assert_eq!((direct.records, direct.malformed), (LINES as u64, 0));
    let flows = parse_flows(&text, &format);
    assert_eq!((flows.records, flows.bytes), (direct.records, direct.bytes));
    let via_file = read_file(&path, 2);
    assert_eq!(
        (via_file.records, via_file.bytes),
        (direct.records, direct.bytes)
    );

    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_record/bytes", |b| {
        b.iter(|| black_box(parse_lines(black_box(&text), &format)))
    });
    group.bench_function("parse_flow/bytes", |b| {
        b.iter(|| black_box(parse_flows(black_box(&text), &format)))
    });
    group.bench_function("file_1_thread/bytes", |b| {
        b.iter(|| black_box(read_file(&path, 1)))
    });
    group.bench_function("file_2_threads/bytes", |b| {
        b.iter(|| black_box(read_file(&path, 2)))
    });
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("parse_record/lines", |b| {
        b.iter(|| black_box(parse_lines(black_box(&text), &format)))
    });
    group.bench_function("file_2_threads/lines", |b| {
        b.iter(|| black_box(read_file(&path, 2)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
