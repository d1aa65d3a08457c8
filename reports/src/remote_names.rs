//! Who is behind a remote address: the name the VPC's own hosts asked for when their resolver
//! answered with that address (Route 53 Resolver query logs), applied to a finished report.
//!
//! Flow logs carry no names and query logs no TTL, so the join is by time: for an (internal,
//! remote) pair, the latest answer to that internal host that contained the remote address, from
//! at most `max_age` before the traffic up to its end; failing that, the latest such answer to
//! any host of the VPC. The name is the one the client asked for (`query_name`): a CNAME chain
//! in the answer (`registry-1.docker.io` -> `...elb.amazonaws.com` -> `A 3.216.34.172`) leads
//! back to it. Only answered queries (`NOERROR`) count, and only their `A` and `AAAA` records.
//!
//! The report keeps no time per conversation (its tallies are bounded by keys, not records):
//! "the traffic" is the report's window, so a long window accepts older answers.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use hashbrown::HashMap;
use nat_flowrec_parsers::{QueryLogError, QueryLogRecord, read_query_log_file};

use crate::aws_ranges::AwsRanges;
use crate::domain::{Domain, domain_of};
use crate::model::{RemoteDomain, RemoteNames, Report};
use crate::units::{grouped, human_bytes};

/// How old an answer may be, before the traffic, to name it (query logs carry no TTL).
pub const DEFAULT_DNS_MAX_AGE_SECONDS: u32 = 3600;

/// One answer's time and the interned name it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    at: i64,
    name: u32,
}

/// The answers of a set of query-log records, indexed for the join.
#[derive(Debug, Clone, Default)]
pub struct DnsAnswers {
    names: Vec<String>,
    ids: HashMap<String, u32>,
    /// (asking host, answered address) -> when it was answered, with which name.
    by_client: HashMap<(IpAddr, IpAddr), Vec<Seen>>,
    /// Answered address -> the same, whoever asked.
    by_address: HashMap<IpAddr, Vec<Seen>>,
    /// Queries whose answers were indexed.
    pub queries: u64,
    /// Queries left out: not answered (`rcode` other than `NOERROR`), no time, or no address.
    pub ignored: u64,
    /// Lines of the files read that held no query-log record.
    pub malformed: u64,
}

impl DnsAnswers {
    /// Reads the query logs under `paths` (files, or folders read in name order), keeping the
    /// queries of `vpc_id` when one is given.
    pub fn read(paths: &[PathBuf], vpc_id: Option<&str>) -> Result<DnsAnswers, QueryLogError> {
        let mut answers = DnsAnswers::default();
        for path in paths {
            for file in files_under(path)? {
                let stats = read_query_log_file(&file, |record| {
                    if vpc_id.is_none_or(|vpc| record.vpc_id == vpc) {
                        answers.add(&record);
                    }
                })?;
                answers.malformed += stats.malformed;
            }
        }
        Ok(answers)
    }

    /// Indexes `record`'s `A`/`AAAA` answers under the name the client asked for.
    pub fn add(&mut self, record: &QueryLogRecord) {
        let at = record.time_unix();
        let addresses: Vec<IpAddr> = record.addresses().collect();
        let (Some(at), true, false) = (at, record.answered(), addresses.is_empty()) else {
            self.ignored += 1;
            return;
        };
        self.queries += 1;
        let name = self.intern(record.name());
        let client = record.client();
        for address in addresses {
            let seen = Seen { at, name };
            if let Some(client) = client {
                self.by_client
                    .entry((client, address))
                    .or_default()
                    .push(seen);
            }
            self.by_address.entry(address).or_default().push(seen);
        }
    }

    fn intern(&mut self, name: String) -> u32 {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    pub fn is_empty(&self) -> bool {
        self.queries == 0
    }

    /// The name of `remote` for traffic of `internal` (when known) between `first` and `last`
    /// (Unix seconds): the latest answer to `internal`, else to any host, from `max_age`
    /// before `first` to `last`. Ties in time go to the name that sorts first.
    pub fn name(
        &self,
        internal: Option<IpAddr>,
        remote: IpAddr,
        (first, last): (i64, i64),
        max_age: u32,
    ) -> Option<&str> {
        let from = first.saturating_sub(i64::from(max_age));
        let latest = |seen: &Vec<Seen>| {
            seen.iter()
                .filter(|s| s.at >= from && s.at <= last)
                .map(|s| (s.at, std::cmp::Reverse(self.text(s.name))))
                .max()
                .map(|(_, name)| name.0)
        };
        internal
            .and_then(|internal| self.by_client.get(&(internal, remote)))
            .and_then(latest)
            .or_else(|| self.by_address.get(&remote).and_then(latest))
    }

    fn text(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

/// Files in a folder of query logs that are not query logs: notes and reports beside them.
const NOT_QUERY_LOGS: [&str; 4] = ["md", "csv", "html", "tmp"];

/// `path` itself, or every file under the folder `path`, in name order (hidden entries, and
/// files named like notes or reports, skipped).
fn files_under(path: &Path) -> Result<Vec<PathBuf>, QueryLogError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let error = |source| QueryLogError {
        file: path.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(error)?;
    entries.retain(|p| {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let note = p
            .extension()
            .is_some_and(|e| NOT_QUERY_LOGS.iter().any(|n| e.eq_ignore_ascii_case(n)));
        !hidden && (p.is_dir() || !note)
    });
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        files.extend(files_under(&entry)?);
    }
    Ok(files)
}

/// Where remote names come from: DNS answers first, then AWS's published ranges for remotes
/// whose records name no AWS service.
#[derive(Debug, Clone, Copy)]
pub struct NameSources<'a> {
    pub dns: Option<&'a DnsAnswers>,
    pub ranges: Option<&'a AwsRanges>,
    /// How old an answer may be, before the window, to name a remote.
    pub max_age_seconds: u32,
}

#[derive(Default)]
struct DomainTally {
    names: BTreeSet<String>,
    remotes: BTreeSet<String>,
    out: u64,
    inn: u64,
}

/// A remote's name and the domain it counts under.
struct Named {
    name: String,
    domain: Domain,
    by_dns: bool,
}

impl NameSources<'_> {
    /// The name of `remote` for `internal`'s traffic in `window`; AWS's ranges only label a
    /// remote whose records name no service (`has_service` false).
    fn name(
        &self,
        internal: Option<IpAddr>,
        remote: IpAddr,
        window: (i64, i64),
        has_service: bool,
    ) -> Option<Named> {
        if let Some(name) = self
            .dns
            .and_then(|dns| dns.name(internal, remote, window, self.max_age_seconds))
        {
            return Some(Named {
                name: name.to_string(),
                domain: domain_of(name),
                by_dns: true,
            });
        }
        let label = self.ranges.filter(|_| !has_service)?.label(remote)?;
        Some(Named {
            name: label.text(),
            domain: Domain::aws(label.service, label.region),
            by_dns: false,
        })
    }
}

impl Report {
    /// Names the remotes of talkers and destinations (see [`NameSources`]), adds the "Top
    /// remote names" table and says how many bytes were named. Call it on a report built with
    /// `top = 0` and cut it afterwards ([`Report::cut_to_top`]): the table and the named share
    /// need every conversation. Without query logs and with nothing labelled, the report is
    /// left as it was.
    pub fn name_remotes(&mut self, sources: &NameSources<'_>) {
        let window = self
            .summary
            .window
            .as_ref()
            .map_or((i64::MIN, i64::MAX), |w| (w.start_unix, w.end_unix));
        let mut domains: BTreeMap<Domain, DomainTally> = BTreeMap::new();
        let (mut bytes_named, mut bytes_named_dns) = (0u64, 0u64);
        // Remotes labelled from the ranges through a talker: their destinations get the label.
        let mut labelled: HashMap<IpAddr, String> = HashMap::new();
        for talker in &mut self.talkers {
            let internal = talker.internal_addr.parse().ok();
            let Some(remote) = talker.remote_addr.as_deref().and_then(|r| r.parse().ok()) else {
                continue;
            };
            let has_service = talker.remote_aws_service.is_some();
            let Some(named) = sources.name(internal, remote, window, has_service) else {
                continue;
            };
            bytes_named = bytes_named.saturating_add(talker.bytes_total);
            if named.by_dns {
                bytes_named_dns = bytes_named_dns.saturating_add(talker.bytes_total);
            } else {
                labelled.insert(remote, named.name.clone());
            }
            let tally = domains.entry(named.domain).or_default();
            tally.names.insert(named.name.clone());
            tally.remotes.insert(remote.to_string());
            tally.out = tally.out.saturating_add(talker.bytes_out);
            tally.inn = tally.inn.saturating_add(talker.bytes_in);
            talker.remote_name = Some(named.name);
        }
        if sources.dns.is_none() && labelled.is_empty() {
            return;
        }
        for destination in &mut self.destinations {
            let Ok(remote) = destination.remote_addr.parse() else {
                continue;
            };
            destination.remote_name = sources
                .dns
                .and_then(|dns| dns.name(None, remote, window, sources.max_age_seconds))
                .map(str::to_string)
                .or_else(|| labelled.get(&remote).cloned());
        }
        let bytes_total = self.summary.bytes_total;
        let share = |bytes: u64| {
            if bytes_total == 0 {
                0.0
            } else {
                (bytes as f64 * 10_000.0 / bytes_total as f64).round() / 100.0
            }
        };
        let mut rows: Vec<RemoteDomain> = domains
            .into_iter()
            .map(|(domain, t)| RemoteDomain {
                rank: 0,
                label: domain.label(),
                domain: domain.domain,
                service: domain.service,
                region: domain.region,
                names: t.names.len() as u64,
                remotes: t.remotes.len() as u64,
                bytes_out: t.out,
                bytes_in: t.inn,
                bytes_total: t.out.saturating_add(t.inn),
                share_pct: share(t.out.saturating_add(t.inn)),
            })
            .collect();
        // The map gave domain order; a stable sort keeps it among equal totals.
        rows.sort_by_key(|d| std::cmp::Reverse(d.bytes_total));
        for (i, row) in rows.iter_mut().enumerate() {
            row.rank = i as u64 + 1;
        }
        let names = RemoteNames {
            dns_logs: sources.dns.is_some(),
            dns_queries: sources.dns.map_or(0, |dns| dns.queries),
            dns_source: None,
            max_age_seconds: sources.max_age_seconds,
            ip_ranges_date: sources
                .ranges
                .filter(|_| !labelled.is_empty())
                .map(|r| r.create_date.clone()),
            bytes_named,
            bytes_named_dns,
            bytes_total,
            named_pct: share(bytes_named),
            domains: rows,
            among_top: (self.summary.top > 0
                && self.summary.conversations > self.talkers.len() as u64)
                .then_some(self.summary.top),
        };
        self.summary.notes.extend(names.notes());
        if let Some(malformed) = sources.dns.map(|dns| dns.malformed).filter(|n| *n > 0) {
            self.summary.warnings.push(format!(
                "{} line(s) of the DNS query logs held no query-log record and were skipped",
                grouped(malformed)
            ));
        }
        self.remote_names = Some(names);
    }
}

impl RemoteNames {
    /// The lines that say how the names were found and how much they cover.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = vec![format!(
            "remote names: {} named of {} ({:.2}%)",
            human_bytes(self.bytes_named),
            human_bytes(self.bytes_total),
            self.named_pct,
        )];
        if self.dns_logs {
            notes.push(format!(
                "{} of it named from {} answered DNS queries of the VPC (Route 53 Resolver query logs) up to {} s before the window",
                human_bytes(self.bytes_named_dns),
                grouped(self.dns_queries),
                self.max_age_seconds
            ));
        }
        if let Some(top) = self.among_top {
            notes.push(format!(
                "remote names were looked for among the top {top} talkers only"
            ));
        }
        if let Some(date) = &self.ip_ranges_date {
            notes.push(format!(
                "remotes without a DNS name whose records name no AWS service are labelled from AWS's ip-ranges.json of {date} (refresh: nat-flowrec update-ip-ranges FILE)"
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests;
