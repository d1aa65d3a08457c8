//! Reading the input: paths expand to files (folders recursed in sorted order, hidden entries
//! skipped), files are read in parallel and each file's chunks in parallel too (rayon); every
//! worker folds its records into its own `Tally`, and tallies merge. No record outlives its
//! chunk, so memory is bounded by distinct keys plus one chunk per worker.
//!
//! A file that cannot be read (missing, unreadable, not a flow log, corrupt gzip midway) is
//! recorded as a failure with its name and the others are still read (ripgrep style); whatever
//! was read before a mid-file error still counts.

use std::fs;
use std::path::{Path, PathBuf};

use nat_flowrec_parsers::{Field, FlowLogFile};
use rayon::prelude::*;

use crate::legs::FileRule;
use crate::model::FileFailure;
use crate::options::ReportOptions;
use crate::tally::Tally;

/// Deeper folder nesting than this is taken for a symlink loop.
const MAX_DEPTH: usize = 64;

/// One input file, or why a path could not be listed.
enum Entry {
    File(PathBuf),
    Failed(FileFailure),
}

/// Reads every file under `paths`; failures come back in input order.
pub(crate) fn read_all(paths: &[PathBuf], opts: &ReportOptions) -> (Tally, Vec<FileFailure>) {
    let mut entries = Vec::new();
    for path in paths {
        expand(path, &mut entries, true, 0);
    }
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
    (tally, failures.into_iter().map(|(_, f)| f).collect())
}

/// Adds the files of `path` to `out`. An explicitly named path is taken as given; inside
/// folders, hidden entries and anything that is neither a file nor a folder are skipped.
fn expand(path: &Path, out: &mut Vec<Entry>, explicit: bool, depth: usize) {
    // Worded like the parser's read errors, so every failure's text names its file.
    let failed = |error: String| {
        Entry::Failed(FileFailure {
            file: path.display().to_string(),
            error: format!("cannot read `{}`: {error}", path.display()),
        })
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => return out.push(failed(e.to_string())),
    };
    if !meta.is_dir() {
        if explicit || meta.is_file() {
            out.push(Entry::File(path.to_path_buf()));
        }
        return;
    }
    if depth >= MAX_DEPTH {
        return out.push(failed(format!(
            "folders nested deeper than {MAX_DEPTH} levels (a symlink loop?)"
        )));
    }
    let listing = match fs::read_dir(path) {
        Ok(listing) => listing,
        Err(e) => return out.push(failed(e.to_string())),
    };
    let mut children = Vec::new();
    for entry in listing {
        match entry {
            Ok(entry) => {
                if !entry.file_name().to_string_lossy().starts_with('.') {
                    children.push(entry.path());
                }
            }
            Err(e) => out.push(failed(e.to_string())),
        }
    }
    children.sort();
    for child in children {
        expand(&child, out, false, depth + 1);
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

    // The chunk iterator ends after its first error; chunks before it are valid.
    let (mut tally, error) = file
        .chunks()
        .par_bridge()
        .fold(
            || (Tally::default(), None),
            |(mut tally, mut error), chunk| {
                match chunk {
                    Ok(chunk) => {
                        chunk.for_each_flow(&format, |flow| match flow {
                            Ok(flow) => tally.count(flow, &rule, flow.timestamp_ms),
                            Err(e) => tally.add_malformed(index, &name, e.line, &e),
                        });
                        tally.flush();
                    }
                    Err(e) => error = Some(e.to_string()),
                }
                (tally, error)
            },
        )
        .reduce(
            || (Tally::default(), None),
            |(mut a, ea), (b, eb)| {
                a.merge(b);
                (a, ea.or(eb))
            },
        );
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

    #[test]
    fn folders_expand_sorted_without_hidden_entries() {
        let dir = std::env::temp_dir().join(format!("nat-flowrec-scan-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        for name in ["b.log", "a.log", ".hidden.log", "sub/c.log"] {
            fs::write(dir.join(name), "").unwrap();
        }
        fs::create_dir_all(dir.join(".git")).unwrap();
        fs::write(dir.join(".git/x.log"), "").unwrap();
        let mut out = Vec::new();
        expand(&dir, &mut out, true, 0);
        let names: Vec<String> = out
            .iter()
            .map(|e| match e {
                Entry::File(p) => p.strip_prefix(&dir).unwrap().display().to_string(),
                Entry::Failed(f) => format!("failed: {}", f.file),
            })
            .collect();
        assert_eq!(names, vec!["a.log", "b.log", "sub/c.log"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_path_is_a_failure_naming_it() {
        let mut out = Vec::new();
        expand(Path::new("/no/such/flowlogs.log"), &mut out, true, 0);
        match out.as_slice() {
            [Entry::Failed(f)] => assert_eq!(f.file, "/no/such/flowlogs.log"),
            _ => panic!("expected one failure"),
        }
    }
}
