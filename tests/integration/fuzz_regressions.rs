//! The inputs the `config_loader` and `event_log_reader` fuzz targets found interesting (kept in
//! `fuzz/regressions/<target>/`), fed through the same calls the targets make so the normal test
//! run guards them: a configuration or an error naming where, the events or an error naming the
//! line, never a panic. The parser targets' inputs are checked in
//! `parsers/tests/fuzz_regressions.rs`.

use std::path::{Path, PathBuf};

use nat_flowrec::config::{Config, EXAMPLE_NAT_GATEWAY_ID, TriggerMode};
use nat_flowrec::store::{EventLog, StoreError};

#[path = "../../fuzz/regression_inputs.rs"]
mod regression_inputs;

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    regression_inputs::all(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions"),
        target,
    )
}

fn load_config(name: &str) -> Result<Config, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/config_loader")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("regression input");
    Config::from_toml_str(&text, "fuzz.toml").map_err(|e| e.to_string())
}

/// Copies the regression input into a temporary folder and reads it as the event log there.
fn read_log(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Result<EventLog, StoreError>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the event log");
    let log = EventLog::read(&path);
    (path, log)
}

fn event_log(name: &str) -> (tempfile::TempDir, PathBuf, Result<EventLog, StoreError>) {
    let input = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/event_log_reader")
        .join(name);
    let bytes = std::fs::read(&input).expect("regression input");
    let dir = tempfile::tempdir().expect("temporary folder");
    let (path, log) = read_log(dir.path(), "events.jsonl", &bytes);
    (dir, path, log)
}

#[test]
fn config_regressions_load_or_name_the_file() {
    for (path, bytes) in regressions("config_loader") {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Err(err) = Config::from_toml_str(text, "fuzz.toml") {
            let message = err.to_string();
            assert!(
                message.starts_with("fuzz.toml: "),
                "{}: {message}",
                path.display()
            );
        }
    }
}

#[test]
fn config_examples_kept_as_fuzz_seeds_still_load() {
    let example = load_config("init-example.toml").expect("the `init` example");
    assert_eq!(example.nat_gateway_ids, [EXAMPLE_NAT_GATEWAY_ID]);
    assert_eq!(example.trigger.mode, TriggerMode::Metrics);

    let demo = load_config("demo.toml").expect("the demo's configuration");
    assert_eq!(demo.nat_gateway_ids, ["nat-0d3e0000000000001"]);

    let alarm = load_config("alarm-mode-s3-state.toml").expect("alarm mode, state in S3");
    assert_eq!(alarm.trigger.mode, TriggerMode::Alarm);
    assert_eq!(
        alarm.state,
        Path::new("s3://my-bucket/nat-flowrec/events.jsonl")
    );
}

#[test]
fn event_log_regressions_read_or_name_the_line() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for (input, bytes) in regressions("event_log_reader") {
        let (path, log) = read_log(dir.path(), "events.jsonl", &bytes);
        match log {
            Ok(log) => {
                let seqs: Vec<u64> = log.events().iter().map(|e| e.seq).collect();
                assert!(
                    seqs.windows(2).all(|w| w[0] < w[1]),
                    "{}: seqs {seqs:?}",
                    input.display()
                );
            }
            Err(err) => {
                let message = err.to_string();
                assert!(
                    message.contains(&path.display().to_string()),
                    "{}: {message}",
                    input.display()
                );
            }
        }
    }
}

#[test]
fn event_logs_kept_as_fuzz_seeds_read_as_written() {
    let (_dir, _, demo) = event_log("demo-recording.jsonl");
    let demo = demo.expect("the demo's event log");
    assert_eq!(demo.events().len(), 8);
    assert!(demo.warnings().is_empty());

    let (_dir, _, every) = event_log("every-event-kind.jsonl");
    let every = every.expect("one event of each kind");
    assert_eq!(every.last_seq(), 13);

    let (_dir, _, torn) = event_log("torn-last-line.jsonl");
    let torn = torn.expect("a torn last line is recovered");
    assert_eq!(torn.last_seq(), 1);
    assert_eq!(torn.warnings().len(), 1, "{:?}", torn.warnings());

    let (_dir, path, duplicated) = event_log("duplicated-seq.jsonl");
    match duplicated {
        Err(StoreError::Corrupt { line, path: at, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(at, path);
        }
        other => panic!("a repeated seq is damage, got {other:?}"),
    }
}
