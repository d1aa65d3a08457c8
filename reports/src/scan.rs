//! Reading the input: paths expand to files (folders recursed in sorted order), files are read in parallel and each file's chunks in parallel too (rayon); every
//! worker folds its records into its own `Tally`, and tallies merge. No record outlives its
//! chunk, so memory is bounded by distinct keys plus one chunk per worker.
//!
//! A file that cannot be read (missing, unreadable, not a flow log, corrupt gzip midway) is
//! recorded as a failure with its name and the others are still read (ripgrep style); whatever
//! was read before a mid-file error still counts.
//!
//! Inside folders only flow logs are read: hidden entries, the `report/` folders and the files
//! nat-flowrec writes beside flow logs (`*.csv`, `*.json`, `*.md`, `*.txt`, `*.html`) and
//! unfinished temporary files (`*.tmp`) are skipped. A folder or file reached a second time
//! (a symbolic link to a parent, two links to one folder) is skipped by its device and inode,
//! with a note, so no byte counts twice and a link cycle ends.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use nat_flowrec_parsers::{Field, FlowLogFile, LineNumbers};
use rayon::prelude::*;

use crate::legs::FileRule;
use crate::model::FileFailure;
use crate::options::ReportOptions;
use crate::tally::Tally;

/// Deeper folder nesting than this is taken for a symlink loop.
const MAX_DEPTH: usize = 64;

/// The folders and files nat-flowrec writes beside flow logs, never flow logs themselves.
const REPORT_FOLDER: &str = "report";
const NOT_FLOW_LOGS: [&str; 6] = ["csv", "json", "md", "txt", "html", "tmp"];

/// One input file, or why a path could not be listed.
enum Entry {
    File(PathBuf),
    Failed(FileFailure),
}

/// What the walk has seen: folders and files by identity, and what it skipped.
#[derive(Default)]
struct Walk {
    entries: Vec<Entry>,
    seen: HashSet<Identity>,
    /// Paths skipped because their folder or file was already read under another path.
    aliases: Vec<PathBuf>,
}

/// A file's or folder's identity: its device and inode.
#[cfg(unix)]
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(_path: &Path, meta: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Without inodes, the canonical path (links resolved).
#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(not(unix))]
fn identity(path: &Path, _meta: &fs::Metadata) -> Identity {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads every file under `paths`; failures come back in input order, with notes on what the
/// walk skipped.
pub(crate) fn read_all(
    paths: &[PathBuf],
    opts: &ReportOptions,
) -> (Tally, Vec<FileFailure>, Vec<String>) {
    let mut walk = Walk::default();
    for path in paths {
        expand(path, &mut walk, true, 0);
    }
    let mut notes = Vec::new();
    if !walk.aliases.is_empty() {
        let shown: Vec<String> = walk
            .aliases
            .iter()
            .take(3)
            .map(|p| p.display().to_string())
            .collect();
        notes.push(format!(
            "{} path(s) skipped because the same folder or file was already read under another path (symbolic links): {}{}",
            walk.aliases.len(),
            shown.join(", "),
            if walk.aliases.len() > 3 { ", ..." } else { "" }
        ));
    }
    let entries = walk.entries;
    let (tally, mut failures) = entries
        .par_iter()
        .enumerate()
        .fold(
            || (Tally::default(), Vec::new()),
            |(mut tally, mut failures), (index, entry)| {
                match entry {
                    Entry::Failed(failure) => failures.push((index, failure.clone())),
                    Entry::File(path) => {
                        let (file_tally, failure) = read_file(index, path, opts);
                        tally.merge(file_tally);
                        if let Some(failure) = failure {
                            failures.push((index, failure));
                        }
                    }
                }
                (tally, failures)
            },
        )
        .reduce(
            || (Tally::default(), Vec::new()),
            |(mut a, mut fa), (b, fb)| {
                a.merge(b);
                fa.extend(fb);
                (a, fa)
            },
        );
    failures.sort_by_key(|(index, _)| *index);
    (tally, failures.into_iter().map(|(_, f)| f).collect(), notes)
}

/// Whether a folder entry is something nat-flowrec wrote (or is writing) rather than a flow log.
fn skipped_in_folder(path: &Path, is_dir: bool) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with('.') {
        return true;
    }
    if is_dir {
        return name == REPORT_FOLDER;
    }
    if name == nat_flowrec_parsers::DNS_EXPORT_FILE {
        return true;
    }
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| NOT_FLOW_LOGS.contains(&e.as_str()))
}

/// Adds the files of `path` to the walk. An explicitly named path is taken as given; inside
/// folders, what `skipped_in_folder` names and anything that is neither a file nor a folder are
/// skipped, and so is a folder or file already seen.
fn expand(path: &Path, walk: &mut Walk, explicit: bool, depth: usize) {
    // Worded like the parser's read errors, so every failure's text names its file.
    let failed = |error: String| {
        Entry::Failed(FileFailure {
            file: path.display().to_string(),
            error: format!("cannot read `{}`: {error}", path.display()),
        })
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => return walk.entries.push(failed(e.to_string())),
    };
    if !explicit && skipped_in_folder(path, meta.is_dir()) {
        return;
    }
    // Inside folders, neither a file nor a folder (a socket, a FIFO) is no flow log.
    if !(meta.is_dir() || meta.is_file() || explicit) {
        return;
    }
    if !walk.seen.insert(identity(path, &meta)) {
        walk.aliases.push(path.to_path_buf());
        return;
    }
    if !meta.is_dir() {
        return walk.entries.push(Entry::File(path.to_path_buf()));
    }
    if depth >= MAX_DEPTH {
        return walk.entries.push(failed(format!(
            "folders nested deeper than {MAX_DEPTH} levels"
        )));
    }
    let listing = match fs::read_dir(path) {
        Ok(listing) => listing,
        Err(e) => return walk.entries.push(failed(e.to_string())),
    };
    let mut children = Vec::new();
    for entry in listing {
        match entry {
            Ok(entry) => children.push(entry.path()),
            Err(e) => walk.entries.push(failed(e.to_string())),
        }
    }
    children.sort();
    for child in children {
        expand(&child, walk, false, depth + 1);
    }
}

/// Reads one file into a tally of its own.
fn read_file(index: usize, path: &Path, opts: &ReportOptions) -> (Tally, Option<FileFailure>) {
    let name = path.display().to_string();
    let failure = |error: String| FileFailure {
        file: name.clone(),
        error,
    };
    let file = match FlowLogFile::open(path, &opts.default_format) {
        Ok(file) => file,
        Err(e) => return (Tally::default(), Some(failure(e.to_string()))),
    };
    let format = file.format().clone();
    let mut nat_ips = opts.nat_ips.clone();
    if let Some(meta) = file.meta() {
        for ip in &meta.nat_ips {
            if !nat_ips.contains(ip) {
                nat_ips.push(*ip);
            }
        }
    }
    let has_pkt = format.contains(&Field::PktSrcaddr) && format.contains(&Field::PktDstaddr);
    let nat_known = !nat_ips.is_empty();
    let rule = FileRule::new(has_pkt, nat_ips);

    // The chunk iterator ends after its first error; chunks before it are valid. Each worker
    // notes how many lines its chunks hold; the lines of the malformed examples are placed in
    // the file once all are read.
    let (mut tally, error, mut numbers) = file
        .chunks()
        .par_bridge()
        .fold(
            || (Tally::default(), None, LineNumbers::default()),
            |(mut tally, mut error, mut numbers), chunk| {
                match chunk {
                    Ok(chunk) => {
                        let seq = chunk.seq();
                        let lines = chunk.for_each_flow(&format, |flow| match flow {
                            Ok(flow) => tally.count(flow, &rule, flow.timestamp_ms),
                            Err(e) => tally.add_malformed(index, &name, seq, e),
                        });
                        numbers.count(&chunk, lines);
                        tally.flush();
                    }
                    Err(e) => error = Some(e.to_string()),
                }
                (tally, error, numbers)
            },
        )
        .reduce(
            || (Tally::default(), None, LineNumbers::default()),
            |(mut a, ea, mut na), (b, eb, nb)| {
                a.merge(b);
                na.merge(nb);
                (a, ea.or(eb), na)
            },
        );
    tally.place_lines(index, &mut numbers);
    let s = &mut tally.stats;
    s.files_read = 1;
    s.nat_ip_known = nat_known;
    match rule {
        FileRule::PktFields { .. } => s.files_pkt = 1,
        FileRule::NatIps(_) => s.files_nat_ips = 1,
        FileRule::AllRecords => s.files_all_records = 1,
    }
    (tally, error.map(failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(walk: &Walk, dir: &Path) -> Vec<String> {
        walk.entries
            .iter()
            .map(|e| match e {
                Entry::File(p) => p.strip_prefix(dir).unwrap().display().to_string(),
                Entry::Failed(f) => format!("failed: {}", f.file),
            })
            .collect()
    }

    #[test]
    fn folders_expand_sorted_to_flow_logs_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::create_dir_all(dir.join("report")).unwrap();
        for name in [
            "b.log",
            "a.log.gz",
            ".hidden.log",
            "sub/c.log",
            ".owners.json",
            "eni-1.log.gz.tmp",
            ".eni-2.log.gz.tmp",
            "talkers.csv",
            "report.json",
            "report.md",
            "email.txt",
            "page.html",
            "report/report.md",
            "report/x.log",
            nat_flowrec_parsers::DNS_EXPORT_FILE,
        ] {
            fs::write(dir.join(name), "").unwrap();
        }
        fs::create_dir_all(dir.join(".git")).unwrap();
        fs::write(dir.join(".git/x.log"), "").unwrap();
        let mut walk = Walk::default();
        expand(dir, &mut walk, true, 0);
        assert_eq!(names(&walk, dir), vec!["a.log.gz", "b.log", "sub/c.log"]);
        assert!(walk.aliases.is_empty());
        // Named explicitly, a file is read whatever its name.
        let mut walk = Walk::default();
        expand(&dir.join("email.txt"), &mut walk, true, 0);
        assert_eq!(walk.entries.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_cycles_and_aliases_are_read_once() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::create_dir_all(dir.join("d/sub")).unwrap();
        fs::write(dir.join("d/a.log"), "").unwrap();
        fs::write(dir.join("d/sub/b.log"), "").unwrap();
        // Two links up (a cycle that would otherwise grow without bound) and an alias.
        symlink("..", dir.join("d/sub/up")).unwrap();
        symlink("../..", dir.join("d/sub/up2")).unwrap();
        symlink("a.log", dir.join("d/alias.log")).unwrap();
        let mut walk = Walk::default();
        expand(&dir.join("d"), &mut walk, true, 0);
        let read = names(&walk, &dir.join("d"));
        assert_eq!(read.len(), 2, "{read:?}");
        assert!(read.contains(&"a.log".to_string()) || read.contains(&"alias.log".to_string()));
        assert!(read.contains(&"sub/b.log".to_string()), "{read:?}");
        assert!(!walk.aliases.is_empty());
    }

    #[test]
    fn a_missing_path_is_a_failure_naming_it() {
        let mut walk = Walk::default();
        expand(Path::new("/no/such/flowlogs.log"), &mut walk, true, 0);
        match walk.entries.as_slice() {
            [Entry::Failed(f)] => assert_eq!(f.file, "/no/such/flowlogs.log"),
            _ => panic!("expected one failure"),
        }
    }
}
