//! Report throughput, in MB/s and lines/s: `build_report` (read, parse, count each NAT
//! connection once, hand the aggregated tables to polars) over 1,000,000 generated lines in the
//! default 14-field format (the seeded `synth` generator, so anyone gets the same input), from a
//! file in the page cache, on one thread and on two (the machine has two cores).
//!
//! This is the library half of `nat-flowrec report FILE --csv`; `benches/run-report-bench.sh`
//! times the whole process on a 10,000,000-line file against polars.
//!
//! Run: `cargo bench -p nat-flowrec-reports --bench report`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nat_flowrec_reports::{Report, ReportOptions, build_report};

// The input is the parse benchmark's: one generator, one seed, the same bytes for both.
#[path = "../../parsers/benches/input/mod.rs"]
mod input;

use input::LINES;

/// The report of `path` computed on a pool of `threads` workers.
fn report(path: &Path, threads: usize) -> Report {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let paths = [PathBuf::from(path)];
    pool.install(|| build_report(&paths, &ReportOptions::default()))
        .expect("benchmark report builds")
}

fn bench(c: &mut Criterion) {
    let (text, _dir, path) = input::generated();

    // Sanity: every line is read, none malformed, and one or two workers agree.
    let one = report(&path, 1);
    let two = report(&path, 2);
    assert_eq!(one.summary.records_read, LINES as u64);
    assert_eq!(one.summary.malformed_lines, 0);
    assert_eq!(one.summary.bytes_total, two.summary.bytes_total);
    assert_eq!(one.talkers.len(), two.talkers.len());

    let mut group = c.benchmark_group("aggregate");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("report_1_thread/bytes", |b| {
        b.iter(|| black_box(report(&path, 1)))
    });
    group.bench_function("report_2_threads/bytes", |b| {
        b.iter(|| black_box(report(&path, 2)))
    });
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("report_2_threads/lines", |b| {
        b.iter(|| black_box(report(&path, 2)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
