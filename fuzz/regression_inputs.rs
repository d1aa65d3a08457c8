//! The inputs kept in `fuzz/regressions/<target>/`, read by the regression tests of both
//! workspaces' test crates (`parsers/tests/fuzz_regressions.rs`,
//! `tests/integration/fuzz_regressions.rs`, which include this file by path).

use std::path::{Path, PathBuf};

/// Every input of `target` (path and bytes), sorted by name; fails when there is none.
pub fn all(regressions: &Path, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = regressions.join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    inputs
}
