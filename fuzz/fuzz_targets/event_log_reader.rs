//! Any bytes as the event log on disk: the events, or an error naming the line, never a panic
//! (a torn last line is recovered with a warning).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nat_flowrec::store::EventLog;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        dir.join(format!(
            "nat-flowrec-fuzz-events-{}.jsonl",
            std::process::id()
        ))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(path(), data).expect("write the fuzz input");
    match EventLog::read(path()) {
        Ok(log) => {
            let seqs: Vec<u64> = log.events().iter().map(|e| e.seq).collect();
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "seqs increase: {seqs:?}"
            );
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
