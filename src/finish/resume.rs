//! What an interrupted export already finished, so the next run does not read it again.
//!
//! A big recording takes minutes to read at the quota's pace; a run killed in the middle (a
//! deploy, a Lambda timeout, SIGKILL) would otherwise start over and spend the account's read
//! quota twice. After each ENI's file is complete under its final name, the export records the
//! ENI, its streams and its counts in `.export-progress.json` in the recording's folder (written
//! to a temporary file and renamed, so it is whole or absent). The next export of the same
//! recording and window keeps those files and reads only the rest; a finished export removes the
//! side file, so exporting again by hand reads everything afresh (late deliveries included).
//! Granularity is an ENI's file: a half-written file is never kept, so no record is lost or
//! written twice.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Hidden, so `report` on the folder skips it.
pub const PROGRESS_FILE: &str = ".export-progress.json";

/// The export these entries belong to; a different window is a different export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportKey {
    pub recording_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One ENI whose file is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinishedEni {
    pub streams: Vec<String>,
    pub records: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumePoint {
    #[serde(flatten)]
    pub key: ExportKey,
    pub finished: BTreeMap<String, FinishedEni>,
}

impl ResumePoint {
    /// What a previous run of the same export finished in `folder`: entries whose file is gone
    /// are dropped; a side file of another export, or one that cannot be read, counts as none.
    pub fn load(folder: &Path, key: &ExportKey, file_of: impl Fn(&str) -> PathBuf) -> ResumePoint {
        let fresh = ResumePoint {
            key: key.clone(),
            finished: BTreeMap::new(),
        };
        let Ok(text) = std::fs::read_to_string(folder.join(PROGRESS_FILE)) else {
            return fresh;
        };
        match serde_json::from_str::<ResumePoint>(&text) {
            Ok(mut earlier) if earlier.key == *key => {
                earlier.finished.retain(|eni, _| file_of(eni).is_file());
                earlier
            }
            _ => fresh,
        }
    }

    /// Writes the side file whole (temporary file, fsync, rename).
    pub fn save(&self, folder: &Path) -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(folder)?;
        serde_json::to_writer(&mut tmp, self)?;
        tmp.flush()?;
        tmp.as_file().sync_all()?;
        tmp.persist(folder.join(PROGRESS_FILE))
            .map_err(|e| e.error)?;
        Ok(())
    }

    /// The export is complete: the next one starts afresh.
    pub fn clear(folder: &Path) -> std::io::Result<()> {
        match std::fs::remove_file(folder.join(PROGRESS_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(end_ms: i64) -> ExportKey {
        ExportKey {
            recording_id: "rec-1".into(),
            start_ms: 0,
            end_ms,
        }
    }

    fn finished(n: u64) -> FinishedEni {
        FinishedEni {
            streams: vec!["eni-1-all".into()],
            records: n,
            bytes: n * 100,
        }
    }

    #[test]
    fn a_saved_eni_is_kept_while_its_file_exists_and_the_export_is_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let file_of = |eni: &str| dir.path().join(format!("{eni}.log.gz"));
        let mut progress = ResumePoint::load(dir.path(), &key(10), file_of);
        assert!(progress.finished.is_empty());
        progress.finished.insert("eni-1".into(), finished(5));
        progress.finished.insert("eni-2".into(), finished(7));
        progress.save(dir.path()).unwrap();
        std::fs::write(file_of("eni-1"), b"x").unwrap();

        let again = ResumePoint::load(dir.path(), &key(10), file_of);
        assert_eq!(
            again.finished.keys().collect::<Vec<_>>(),
            ["eni-1"],
            "eni-2's file is missing: read it again"
        );
        assert_eq!(again.finished["eni-1"], finished(5));

        let other_window = ResumePoint::load(dir.path(), &key(20), file_of);
        assert!(other_window.finished.is_empty());

        ResumePoint::clear(dir.path()).unwrap();
        ResumePoint::clear(dir.path()).unwrap();
        assert!(
            ResumePoint::load(dir.path(), &key(10), file_of)
                .finished
                .is_empty()
        );
    }

    #[test]
    fn an_unreadable_side_file_means_start_afresh() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROGRESS_FILE), b"{not json").unwrap();
        let progress = ResumePoint::load(dir.path(), &key(10), |_| dir.path().join("x"));
        assert!(progress.finished.is_empty());
    }
}
