//! The input both criterion benchmarks read: 1,000,000 lines of the seeded generator in the
//! default format (the same bytes on every machine), in memory and in a temporary file.

use nat_flowrec_parsers::synth::{Generator, Options};

pub const LINES: usize = 1_000_000;
const SEED: u64 = 42;

/// The generated text, and the folder holding it as `flowlogs-1m.log` (removed when dropped).
pub fn generated() -> (Vec<u8>, tempfile::TempDir, std::path::PathBuf) {
    let mut text = Vec::new();
    Generator::new(SEED, Options::default())
        .write_lines(&mut text, LINES)
        .expect("generate into memory");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flowlogs-1m.log");
    std::fs::write(&path, &text).expect("write benchmark input");
    (text, dir, path)
}
