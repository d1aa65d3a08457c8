//! `nat-flowrec update-ip-ranges FILE`: stores a newer copy of AWS's `ip-ranges.json` (as
//! downloaded from AWS) beside the configuration file, trimmed to what the report's labels need.
//! Reports label remotes with it from then on instead of the copy built into the program; a
//! file older than the copy in use is refused, so an old download cannot undo a refresh.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use nat_flowrec_reports::AwsRanges;

use crate::app::Settings;
use crate::cli::UpdateIpRangesArgs;

/// The stored copy's name, in the configuration file's folder.
const STORED_NAME: &str = "ip-ranges.txt.gz";

pub fn run(global: &Settings, args: &UpdateIpRangesArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let ranges = AwsRanges::from_aws_json(&text).with_context(|| {
        format!(
            "{} (download it from AWS's ip-ranges.json)",
            args.file.display()
        )
    })?;
    let current = load(&global.config);
    // createDate is `YYYY-MM-DD-hh-mm-ss`: text order is time order.
    if ranges.create_date < current.create_date {
        anyhow::bail!(
            "{} is of {}, older than the copy in use ({}); nothing changed",
            args.file.display(),
            ranges.create_date,
            current.create_date
        );
    }
    let path = stored_path(&global.config);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bytes = ranges.to_stored()?;
    nat_flowrec_reports::render::write_atomically(&path, &bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    if !global.log.quiet {
        eprintln!(
            "nat-flowrec: stored AWS's ip ranges of {} ({} prefixes) in {}",
            ranges.create_date,
            ranges.len(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where `update-ip-ranges` stores its copy for the configuration file `config`.
pub fn stored_path(config: &Path) -> PathBuf {
    config
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf)
        .join(STORED_NAME)
}

/// The stored copy when there is a readable one newer than the built-in copy, else the
/// built-in one.
pub fn load(config: &Path) -> AwsRanges {
    let bundled = AwsRanges::bundled();
    let stored = std::fs::read(stored_path(config))
        .ok()
        .and_then(|bytes| AwsRanges::from_stored(&bytes).ok());
    match stored {
        Some(stored) if stored.create_date > bundled.create_date => stored,
        _ => bundled,
    }
}
