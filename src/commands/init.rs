//! `nat-flowrec init`: writes the commented example configuration where `--config` points.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use super::out::outln;
use crate::app::Settings;
use crate::cli::InitArgs;
use crate::config::Config;

pub fn run(global: &Settings, args: &InitArgs) -> anyhow::Result<ExitCode> {
    let path = &global.config;
    if path.exists() && !args.force {
        anyhow::bail!(
            "{} exists already; pass --force to overwrite it, or --config OTHER_PATH",
            path.display()
        );
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Written beside its final name and renamed: never a half-written configuration.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(Config::example().as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let next = [
        "set nat_gateway_ids and recording.deliver_logs_role_arn in it".to_owned(),
        format!("nat-flowrec --config {} doctor", path.display()),
        format!("nat-flowrec --config {} check --dry-run", path.display()),
    ];
    if args.output.format().is_json() {
        let done = serde_json::json!({"config": path.display().to_string(), "next": next});
        outln!("{done}")?;
    } else {
        outln!("wrote {}; next:", path.display())?;
        for (i, step) in next.iter().enumerate() {
            outln!("  {}. {step}", i + 1)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
