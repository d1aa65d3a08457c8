//! What a lookup learned, kept beside the recording (`<recording>/.owners.json`) so a report
//! re-run offline, or months later when the instances are gone, shows the same names. The name
//! starts with a dot because `report <folder>` reads every other file in the folder as flow
//! logs (hidden entries are skipped).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use nat_flowrec_reports::Attribution;
use nat_flowrec_reports::render::write_atomically;
use serde::{Deserialize, Serialize};

/// The cache file's name inside a recording folder.
pub const CACHE_FILE: &str = ".owners.json";
/// Bumped when the layout changes incompatibly; an older or newer file is ignored (and
/// rewritten by the next lookup), never an error.
const CACHE_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    /// When the lookup was made: names are as of then.
    looked_up_at: DateTime<Utc>,
    attribution: Attribution,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read the owners cache {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the owners cache {path} is not valid ({source}); delete it and run `report --enrich` to look the owners up again"
    )]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the owners cache {path}: {message}")]
    Write { path: PathBuf, message: String },
}

pub fn cache_path(folder: &Path) -> PathBuf {
    folder.join(CACHE_FILE)
}

/// The cached attribution of a recording folder; `Ok(None)` when there is none (or it has
/// another version).
pub fn load(folder: &Path) -> Result<Option<(Attribution, DateTime<Utc>)>, CacheError> {
    let path = cache_path(folder);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CacheError::Read { path, source }),
    };
    // Only the version first: a file of another version may not parse as ours.
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let version: Version = serde_json::from_str(&text).map_err(|source| CacheError::Invalid {
        path: path.clone(),
        source,
    })?;
    if version.version != CACHE_VERSION {
        return Ok(None);
    }
    let file: CacheFile =
        serde_json::from_str(&text).map_err(|source| CacheError::Invalid { path, source })?;
    Ok(Some((file.attribution, file.looked_up_at)))
}

/// Writes the cache (temporary file, fsync, rename: a crash never leaves half a file).
pub fn save(
    folder: &Path,
    attribution: &Attribution,
    looked_up_at: DateTime<Utc>,
) -> Result<(), CacheError> {
    let path = cache_path(folder);
    let file = CacheFile {
        version: CACHE_VERSION,
        looked_up_at,
        attribution: attribution.clone(),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| CacheError::Write {
        path: path.clone(),
        message: e.to_string(),
    })?;
    text.push('\n');
    write_atomically(&path, text.as_bytes()).map_err(|e| CacheError::Write {
        path,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::IpAddr;

    use chrono::TimeZone;
    use nat_flowrec_reports::Owner;

    use super::*;

    #[test]
    fn a_saved_cache_loads_back_the_same_and_other_versions_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let ip: IpAddr = "10.0.1.5".parse().unwrap();
        let a = Attribution {
            region: Some("eu-west-1".into()),
            looked_up: [ip].into(),
            owners: BTreeMap::from([(
                ip,
                Owner {
                    name: "i-1 (web)".into(),
                    kind: "instance".into(),
                    ..Owner::default()
                },
            )]),
            nats: vec![],
        };
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        save(dir.path(), &a, at).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some((a, at)));
        // No temporary file left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [CACHE_FILE]);

        fs::write(
            cache_path(dir.path()),
            r#"{"version": 99, "whatever": true}"#,
        )
        .unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        fs::write(cache_path(dir.path()), "not json").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(".owners.json") && err.contains("--enrich"),
            "{err}"
        );
    }
}
