//! `nat-flowrec man`: the man page, generated from the same clap definition as `--help`, printed
//! or written as one page per command for packagers. clap_mangen renders the name, synopsis,
//! description, options and subcommands; the EXAMPLES (each command's `Examples:` help),
//! ENVIRONMENT, FILES and EXIT STATUS sections are added here from `cli`'s constants.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap_mangen::Man;

use super::out::outln;
use crate::cli::ManArgs;

pub fn run(args: &ManArgs) -> anyhow::Result<ExitCode> {
    match &args.dir {
        None => {
            let mut cmd = command();
            cmd.build();
            super::out::write_bytes(&page(&cmd, true)?)?;
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
    let mut cmd = command();
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, dir, &mut written, true)?;
    Ok(written)
}

/// The command line as the pages describe it: without clap's `help` subcommand, which has no
/// page of its own (so no page refers to one).
fn command() -> clap::Command {
    crate::cli::command().disable_help_subcommand(true)
}

/// One page: clap_mangen's sections, then ours.
fn page(cmd: &clap::Command, top: bool) -> std::io::Result<Vec<u8>> {
    let man = Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut page)?;
    }
    let examples = cmd
        .get_after_help()
        .map(|help| help.to_string())
        .and_then(|help| {
            help.split_once("Examples:\n")
                .map(|(_, rest)| rest.split("\n\n").next().unwrap_or_default().to_owned())
        });
    if let Some(examples) = examples {
        page.extend(literal_section("EXAMPLES", &examples).as_bytes());
    }
    if top {
        page.extend(list_section("ENVIRONMENT", crate::cli::ENVIRONMENT_HELP).as_bytes());
        page.extend(list_section("FILES", crate::cli::FILES_HELP).as_bytes());
        let codes = crate::cli::EXIT_CODES_HELP
            .split_once('\n')
            .map_or("", |(_, rows)| rows);
        page.extend(literal_section("EXIT STATUS", codes).as_bytes());
    }
    // Subcommands carry no version of their own (clap_mangen would panic on it).
    if cmd.get_version().is_some() || cmd.get_long_version().is_some() {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

/// Text for roff: backslashes and hyphens escaped, no line taken for a request.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// A section whose lines are shown as written (no filling).
fn literal_section(title: &str, text: &str) -> String {
    let mut out = format!(".SH {title}\n.nf\n");
    for line in text.lines() {
        out.push_str(&roff(line));
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// A section of tagged paragraphs: a name in bold, its meaning below.
fn list_section(title: &str, items: &[(&str, &str)]) -> String {
    let mut out = format!(".SH {title}\n");
    for (name, meaning) in items {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(name), roff(meaning)));
    }
    out
}

fn write_tree(
    cmd: &clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
    top: bool,
) -> anyhow::Result<()> {
    let man = Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let page = page(cmd, top)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(&page)?;
    tmp.persist(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, dir, written, false)?;
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
        for section in [
            ".SH EXAMPLES",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXIT STATUS",
        ] {
            assert!(main.contains(section), "{section} in the main page");
        }
        let check = std::fs::read_to_string(dir.path().join("nat-flowrec-check.1")).unwrap();
        assert!(check.contains("dry\\-run"), "{check}");
        assert!(check.contains(".SH EXAMPLES"), "{check}");
        assert!(!check.contains(".SH EXTRA"), "{check}");
        // Every page another page refers to is written.
        for text in pages.iter().map(|p| std::fs::read_to_string(p).unwrap()) {
            for referred in text.split("nat\\-flowrec\\-").skip(1) {
                let Some((name, _)) = referred.split_once("(1)") else {
                    continue;
                };
                let file = format!("nat-flowrec-{}.1", name.replace("\\-", "-"));
                assert!(
                    names.contains(&file),
                    "{file} is referred to but not written: {names:?}"
                );
            }
        }
    }
}
