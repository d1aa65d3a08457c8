//! Attribution at report time: turns the report's internal addresses into owners (instance and
//! Name tag, Lambda, ECS task, EKS pod, load balancer, ...) and the NAT's placement into AZs,
//! route tables and subnets, so the report names workloads and its endpoint commands name the
//! VPC. The reports crate stays AWS-free: this module asks AWS (through the `Inventory` port)
//! and hands over plain data.
//!
//! When: `--no-enrich` never asks; `--enrich` always asks (and refreshes the cache); by default
//! only a report of a *recording folder* (one holding nat-flowrec's export files) is attributed,
//! from the folder's cache when it covers every host, else by asking AWS. A report of plain
//! flow-log files stays offline and quick unless `--enrich` is given. A failed lookup is a
//! warning in the report, never a failed report.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use nat_flowrec_parsers::{FlowLogFile, LogFormat};
use nat_flowrec_reports::{Attribution, Report};

use crate::ports::{AwsErrorKind, Inventory};

pub mod cache;
mod lookup;
mod owner;

pub(crate) use lookup::one_subnet_per_az;
pub use lookup::{LookupRequest, lookup};
pub use owner::owner_of;

/// A lookup that takes longer than this (AWS unreachable, throttled hard) is given up with a
/// warning: the report is still worth printing.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(90);

/// `--no-enrich`, the default, `--enrich`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichMode {
    Never,
    /// Recording folders only, from their cache when it covers every host.
    Auto,
    /// Ask AWS for every host, refresh the caches.
    Always,
}

/// A recording folder among the report's inputs: what its export files say about the NAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingFolder {
    pub dir: PathBuf,
    pub nat_gateway_ids: Vec<String>,
    pub nat_ips: Vec<IpAddr>,
    /// The NAT's region, as the export files name it.
    pub region: Option<String>,
}

/// What attribution will do for one report.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: EnrichMode,
    pub folders: Vec<RecordingFolder>,
    /// `--nat-ip`: their interfaces name the NAT of a plain file.
    pub nat_ips: Vec<IpAddr>,
}

impl Plan {
    pub fn new(
        mode: EnrichMode,
        paths: &[PathBuf],
        default_format: &LogFormat,
        nat_ips: &[IpAddr],
    ) -> Plan {
        // Read under --no-enrich too: the folders' region prices the report.
        let folders = recording_folders(paths, default_format);
        Plan {
            mode,
            folders,
            nat_ips: nat_ips.to_vec(),
        }
    }

    /// Whether the report is attributed at all (then build it with `top = 0`).
    pub fn active(&self) -> bool {
        match self.mode {
            EnrichMode::Never => false,
            EnrichMode::Auto => !self.folders.is_empty(),
            EnrichMode::Always => true,
        }
    }

    /// The region the recording folders' export files name (the first one's).
    pub fn region(&self) -> Option<&str> {
        self.folders.iter().find_map(|f| f.region.as_deref())
    }

    fn nat_gateway_ids(&self) -> Vec<String> {
        let ids: BTreeSet<&String> = self
            .folders
            .iter()
            .flat_map(|f| f.nat_gateway_ids.iter())
            .collect();
        ids.into_iter().cloned().collect()
    }

    fn all_nat_ips(&self) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = self.nat_ips.clone();
        ips.extend(self.folders.iter().flat_map(|f| f.nat_ips.iter().copied()));
        ips.sort();
        ips.dedup();
        ips
    }
}

/// The recording folders among `paths`: a folder whose files (directly inside) include an
/// export file, or the folder of an export file given by name.
pub fn recording_folders(paths: &[PathBuf], default_format: &LogFormat) -> Vec<RecordingFolder> {
    let mut folders: Vec<RecordingFolder> = Vec::new();
    let mut add = |dir: &Path, file: &Path| {
        let Ok(opened) = FlowLogFile::open(file, default_format) else {
            return;
        };
        let Some(meta) = opened.meta() else {
            return;
        };
        let index = match folders.iter().position(|f| f.dir == dir) {
            Some(i) => i,
            None => {
                folders.push(RecordingFolder {
                    dir: dir.to_path_buf(),
                    nat_gateway_ids: Vec::new(),
                    nat_ips: Vec::new(),
                    region: None,
                });
                folders.len() - 1
            }
        };
        if let Some(folder) = folders.get_mut(index) {
            if folder.region.is_none() {
                folder.region.clone_from(&meta.region);
            }
            if let Some(id) = &meta.nat_gateway_id
                && !folder.nat_gateway_ids.contains(id)
            {
                folder.nat_gateway_ids.push(id.clone());
            }
            for ip in &meta.nat_ips {
                if !folder.nat_ips.contains(ip) {
                    folder.nat_ips.push(*ip);
                }
            }
        }
    };
    for path in paths {
        if path.is_dir() {
            let Ok(entries) = std::fs::read_dir(path) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                add(path, &file);
            }
        } else if path.is_file() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            add(dir, path);
        }
    }
    folders
}

/// Attributes `report` (built with `top = 0`) and cuts it to `top`. The folders' caches are used
/// first; AWS is asked for what they lack, or for everything under `--enrich`: `connect()`,
/// called only then, returns the port and the region it talks to (named in the report's
/// commands). What was looked up is cached in every recording folder. Problems become warnings
/// of the report.
pub async fn enrich<I: Inventory>(
    plan: &Plan,
    report: &mut Report,
    top: usize,
    now: DateTime<Utc>,
    connect: impl AsyncFnOnce() -> (I, Option<String>),
) {
    let hosts: Vec<IpAddr> = report
        .sources
        .iter()
        .filter_map(|s| s.internal_addr.parse().ok())
        .collect();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut attribution = Attribution::default();
    let mut cached_at: Option<DateTime<Utc>> = None;
    // Under --enrich the cache is refreshed, but still what the report falls back on when the
    // lookup fails.
    {
        for folder in &plan.folders {
            match cache::load(&folder.dir) {
                Ok(Some((cached, at))) => {
                    attribution.merge(cached);
                    cached_at = Some(cached_at.map_or(at, |c| c.min(at)));
                }
                Ok(None) => {}
                Err(e) => warnings.push(e.to_string()),
            }
        }
    }
    let always = plan.mode == EnrichMode::Always;
    let missing: Vec<IpAddr> = hosts
        .iter()
        .filter(|h| always || !attribution.looked_up.contains(h))
        .copied()
        .collect();
    let nat_ids = plan.nat_gateway_ids();
    let nats_missing = nat_ids
        .iter()
        .any(|id| !attribution.nats.iter().any(|n| &n.nat_gateway_id == id));
    if always || !missing.is_empty() || nats_missing {
        let (inv, region) = connect().await;
        let req = LookupRequest {
            addresses: missing,
            nat_gateway_ids: nat_ids,
            nat_ips: plan.all_nat_ips(),
            region: region.or_else(|| attribution.region.clone()),
        };
        match tokio::time::timeout(LOOKUP_TIMEOUT, lookup(&inv, &req)).await {
            Ok(Ok(found)) => {
                attribution.merge(found);
                notes.push(format!(
                    "owners and AZs looked up in AWS at {} (DescribeNetworkInterfaces): names are as of then",
                    now.format("%Y-%m-%dT%H:%M:%SZ")
                ));
                for folder in &plan.folders {
                    if let Err(e) = cache::save(&folder.dir, &attribution, now) {
                        warnings.push(e.to_string());
                    }
                }
            }
            Ok(Err(e)) => warnings.push(lookup_failed(&e)),
            Err(_) => warnings.push(format!(
                "looking the hosts up in AWS took longer than {}s and was given up; the tables show addresses only (--no-enrich skips the lookup)",
                LOOKUP_TIMEOUT.as_secs()
            )),
        }
    } else if let Some(at) = cached_at {
        notes.push(format!(
            "owners and AZs from the recording's {} (looked up at {}; `--enrich` looks them up again)",
            cache::CACHE_FILE,
            at.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    if !attribution.looked_up.is_empty() || !attribution.nats.is_empty() {
        report.attribute(&attribution);
    }
    report.summary.notes.extend(notes);
    report.summary.warnings.extend(warnings);
    report.cut_to_top(top);
}

/// The one line a failed lookup leaves in the report: why, and for a refusal the permission.
fn lookup_failed(e: &crate::ports::AwsError) -> String {
    match e.kind {
        AwsErrorKind::AccessDenied => format!(
            "could not look the hosts up in AWS: {} was denied (grant it to the role nat-flowrec runs as; `nat-flowrec iam-policy` prints the policy); the tables show addresses only",
            e.operation
        ),
        AwsErrorKind::Throttled => format!(
            "could not look the hosts up in AWS: {} was throttled; the tables show addresses only (the next report of this recording tries again)",
            e.operation
        ),
        _ => format!(
            "could not look the hosts up in AWS ({e}); the tables show addresses only (--no-enrich skips the lookup)"
        ),
    }
}

#[cfg(test)]
mod tests;
