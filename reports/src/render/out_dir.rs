//! `--out DIR`: every table as its own CSV plus `report.json`, `report.md` and `report.html`. Each file is
//! written to the hidden `.<name>.tmp` in DIR, flushed to disk, then renamed into place, so a reader (or a
//! crash) never sees a half-written report file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::model::Report;
use crate::render::{csv, html, json, markdown};

/// The files `write_out_dir` writes, in order.
pub const OUT_FILES: [&str; 9] = [
    "summary.csv",
    "talkers.csv",
    "sources.csv",
    "destinations.csv",
    "services.csv",
    "timeline.csv",
    "report.json",
    "report.md",
    "report.html",
];

/// Writes every output into `dir` (created if missing); returns the paths written.
pub fn write_out_dir(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(OUT_FILES.len());
    for name in OUT_FILES {
        let mut body = Vec::new();
        match name {
            "summary.csv" => csv::summary_csv(report, &mut body)?,
            "talkers.csv" => csv::talkers_csv(report, &mut body)?,
            "sources.csv" => csv::sources_csv(report, &mut body)?,
            "destinations.csv" => csv::destinations_csv(report, &mut body)?,
            "services.csv" => csv::services_csv(report, &mut body)?,
            "timeline.csv" => csv::timeline_csv(report, &mut body)?,
            "report.json" => body = json::json(report)?.into_bytes(),
            "report.html" => body = html::html(report)?.into_bytes(),
            _ => body = markdown::markdown(report).into_bytes(),
        }
        let path = dir.join(name);
        write_atomically(&path, &body)?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `body` to `path` through the hidden `.<name>.tmp` + fsync + rename.
pub fn write_atomically(path: &Path, body: &[u8]) -> Result<(), ReportError> {
    let tmp = nat_flowrec_parsers::export::hidden_tmp(path);
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(body)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|source| {
        // Best effort: the error below is what matters, a leftover temp file is secondary.
        let _ = fs::remove_file(&tmp);
        ReportError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}
