//! `nat-flowrec man`: the man page, generated from the same clap definition as `--help` (exit
//! codes included), printed or written as one page per command for packagers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;
use clap_mangen::Man;

use super::out::outln;
use crate::cli::{Cli, ManArgs};

pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            let mut page = Vec::new();
            Man::new(Cli::command()).render(&mut page)?;
            super::out::write_bytes(&page)?;
        }
        Some(dir) => {
            for path in write_pages(dir)? {
                outln!("{}", path.display())?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `nat-flowrec.1` and one page per visible command (`nat-flowrec-check.1`, ...), each written
/// to a temporary file and renamed, so a page is never half-written.
pub fn write_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, &mut written)?;
    Ok(written)
}

fn write_tree(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(&page)?;
    tmp.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_visible_command_and_the_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let pages = write_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for expected in [
            "nat-flowrec.1",
            "nat-flowrec-check.1",
            "nat-flowrec-watch.1",
            "nat-flowrec-budget-reset.1",
            "nat-flowrec-completions.1",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} not in {names:?}"
            );
        }
        assert!(
            !names.iter().any(|n| n.contains("generate")),
            "hidden commands stay out: {names:?}"
        );
        let main = std::fs::read_to_string(dir.path().join("nat-flowrec.1")).unwrap();
        assert!(
            main.starts_with(".ie") || main.contains(".TH"),
            "roff: {main}"
        );
        assert!(
            main.contains("another run holds the event log"),
            "exit codes in the page"
        );
        let check = std::fs::read_to_string(dir.path().join("nat-flowrec-check.1")).unwrap();
        assert!(check.contains("dry\\-run"), "{check}");
    }
}
