//! The human-readable sections of a report (summary lines and tables with human units), shared
//! by the terminal and Markdown renderers so both show the same thing.

use crate::model::{Minute, Report};
use crate::render::text_table::{Align, TextTable};
use crate::units::{grouped, human_bytes, service_name, usd};

/// Where the sections are shown; the terminal gets a compact timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Terminal,
    Markdown,
}

/// At most this many timeline rows on a terminal; longer windows are bucketed.
const TERMINAL_TIMELINE_ROWS: usize = 60;
/// Width of the timeline bar on a terminal.
const BAR_WIDTH: usize = 30;

/// The summary as (label, value) pairs.
pub(crate) fn summary_pairs(report: &Report) -> Vec<(&'static str, String)> {
    let s = &report.summary;
    let mut pairs = vec![(
        "Files",
        if s.files_failed.is_empty() {
            format!("{} read", grouped(s.files_read))
        } else {
            format!(
                "{} read, {} failed",
                grouped(s.files_read),
                grouped(s.files_failed.len() as u64)
            )
        },
    )];
    pairs.push((
        "Records",
        format!(
            "{} read (OK {}, NODATA {}, SKIPDATA {}, without log-status {})",
            grouped(s.records_read),
            grouped(s.log_status.ok),
            grouped(s.log_status.nodata),
            grouped(s.log_status.skipdata),
            grouped(s.log_status.not_in_format)
        ),
    ));
    pairs.push(("Malformed lines", grouped(s.malformed_lines)));
    pairs.push((
        "REJECT records",
        format!(
            "{} ({}, not counted)",
            grouped(s.reject_records),
            human_bytes(s.reject_bytes)
        ),
    ));
    let l = &s.records_by_leg;
    pairs.push((
        "Records by leg",
        format!(
            "VPC outbound {}, VPC reply {}, internet side {} (not counted), direct {}, unattributed {}",
            grouped(l.vpc_outbound),
            grouped(l.vpc_reply),
            grouped(l.internet),
            grouped(l.direct),
            grouped(l.unattributed)
        ),
    ));
    pairs.push((
        "Leg rule",
        format!("{}: {}", s.leg_rule.as_str(), s.leg_rule_explanation),
    ));
    pairs.push((
        "Window (UTC)",
        match &s.window {
            Some(w) => format!("{} to {}", w.start, w.end),
            None => "unknown (no timestamps in the input)".to_string(),
        },
    ));
    pairs.push((
        "Counted bytes",
        format!(
            "out {}, in {}, total {} ({} B)",
            human_bytes(s.bytes_out),
            human_bytes(s.bytes_in),
            human_bytes(s.bytes_total),
            grouped(s.bytes_total)
        ),
    ));
    pairs.push((
        "All records' bytes",
        format!(
            "{} (both legs, what a naive sum shows)",
            human_bytes(s.bytes_all_records)
        ),
    ));
    pairs.push(("Conversations", grouped(s.conversations)));
    pairs.push((
        "NAT processing",
        format!(
            "{} at ${}/GB ({})",
            usd(s.nat_cost_usd),
            s.prices.nat_per_gb,
            s.prices.region
        ),
    ));
    pairs.push(("Endpoint saving", usd(s.endpoint_saving_usd)));
    if let Some(cost) = super::fixes::cost_versus_savings(report) {
        pairs.push(("Recording cost", cost));
    }
    if let Some(names) = &report.remote_names {
        pairs.push((
            "Remote names",
            format!(
                "{} of {} went to named remotes ({:.2}%){}",
                human_bytes(names.bytes_named),
                human_bytes(names.bytes_total),
                names.named_pct,
                names
                    .dns_source
                    .as_ref()
                    .map(|source| format!("; {source}"))
                    .unwrap_or_default()
            ),
        ));
    }
    pairs
}

/// The Name column after Remote, shown only when the report's remotes were named.
fn with_name_column(
    report: &Report,
    mut columns: Vec<(&'static str, Align)>,
    at: usize,
) -> Vec<(&'static str, Align)> {
    if report.remote_names.is_some() {
        columns.insert(at.min(columns.len()), ("Name", Align::Left));
    }
    columns
}

fn name_cell(report: &Report, cells: &mut Vec<String>, at: usize, name: &Option<String>) {
    if report.remote_names.is_some() {
        let name = name.clone().unwrap_or_else(|| "-".to_string());
        cells.insert(at.min(cells.len()), name);
    }
}

/// The Owner and AZ columns, shown only on an attributed report (an unattributed one would
/// show two empty columns).
const OWNER_COLUMNS: [(&str, Align); 2] = [("Owner", Align::Left), ("AZ", Align::Left)];

fn with_owner_columns(
    report: &Report,
    columns: &[(&'static str, Align)],
    at: usize,
) -> Vec<(&'static str, Align)> {
    let mut all = columns.to_vec();
    if report.attribution.is_some() {
        let at = at.min(all.len());
        all.splice(at..at, OWNER_COLUMNS);
    }
    all
}

fn owner_cells(
    report: &Report,
    cells: &mut Vec<String>,
    at: usize,
    owner: &Option<String>,
    az: &Option<String>,
) {
    if report.attribution.is_some() {
        let at = at.min(cells.len());
        let owner = owner.clone().unwrap_or_else(|| "-".to_string());
        let az = az.clone().unwrap_or_else(|| "-".to_string());
        cells.splice(at..at, [owner, az]);
    }
}

/// Talkers with human units.
pub(crate) fn talkers(report: &Report) -> TextTable {
    let columns = with_owner_columns(
        report,
        &[
            ("#", Align::Right),
            ("Internal", Align::Left),
            ("Remote", Align::Left),
            ("Service", Align::Left),
            ("Out", Align::Right),
            ("In", Align::Right),
            ("Total", Align::Right),
            ("Share", Align::Right),
        ],
        2,
    );
    // After Remote, which the owner columns may have moved.
    let name_at = columns
        .iter()
        .position(|(c, _)| *c == "Remote")
        .unwrap_or(0)
        + 1;
    let mut t = TextTable::new(&with_name_column(report, columns, name_at));
    for r in &report.talkers {
        let mut cells = vec![
            r.rank.to_string(),
            r.internal_addr.clone(),
            r.remote_addr
                .clone()
                .unwrap_or_else(|| "(unknown)".to_string()),
            r.remote_aws_service
                .as_deref()
                .map_or_else(|| "-".to_string(), |s| service_name(s).to_string()),
            human_bytes(r.bytes_out),
            human_bytes(r.bytes_in),
            human_bytes(r.bytes_total),
            pct(r.share_pct),
        ];
        owner_cells(report, &mut cells, 2, &r.owner, &r.az);
        name_cell(report, &mut cells, name_at, &r.remote_name);
        t.row(cells);
    }
    let shown = report.talkers.iter().map(|r| (r.bytes_out, r.bytes_in));
    if let Some(rest) = others(report, report.talkers.len(), shown) {
        let mut cells = rest.cells(&["", "Others", "", ""], "");
        owner_cells(report, &mut cells, 2, &None, &None);
        name_cell(report, &mut cells, name_at, &Some(String::new()));
        t.row(cells);
    }
    t
}

/// The bytes a table cut by `--top` left out: its "Others" row.
struct Others {
    out: u64,
    inn: u64,
    share_pct: f64,
}

impl Others {
    /// `lead` cells, then Out, In, Total, `middle` (e.g. conversations), Share.
    fn cells(&self, lead: &[&str], middle: &str) -> Vec<String> {
        let mut cells: Vec<String> = lead.iter().map(|c| c.to_string()).collect();
        cells.extend([
            human_bytes(self.out),
            human_bytes(self.inn),
            human_bytes(self.out + self.inn),
        ]);
        if !middle.is_empty() {
            cells.push(middle.to_string());
        }
        cells.push(pct(self.share_pct));
        cells
    }
}

/// The rest of the report's bytes when `rows` rows are what `--top` kept; `None` when the table
/// was not cut or nothing is left.
fn others(report: &Report, rows: usize, shown: impl Iterator<Item = (u64, u64)>) -> Option<Others> {
    let s = &report.summary;
    if s.top == 0 || rows < s.top {
        return None;
    }
    let (out, inn) = shown.fold((0u64, 0u64), |(o, i), (ro, ri)| (o + ro, i + ri));
    let rest_out = s.bytes_out.saturating_sub(out);
    let rest_in = s.bytes_in.saturating_sub(inn);
    let rest = rest_out + rest_in;
    (rest > 0).then(|| Others {
        out: rest_out,
        inn: rest_in,
        share_pct: if s.bytes_total > 0 {
            rest as f64 * 100.0 / s.bytes_total as f64
        } else {
            0.0
        },
    })
}

pub(crate) fn sources(report: &Report) -> TextTable {
    let mut t = TextTable::new(&with_owner_columns(
        report,
        &[
            ("#", Align::Right),
            ("Internal host", Align::Left),
            ("Out", Align::Right),
            ("In", Align::Right),
            ("Total", Align::Right),
            ("Conversations", Align::Right),
            ("Share", Align::Right),
        ],
        2,
    ));
    for r in &report.sources {
        let mut cells = vec![
            r.rank.to_string(),
            r.internal_addr.clone(),
            human_bytes(r.bytes_out),
            human_bytes(r.bytes_in),
            human_bytes(r.bytes_total),
            grouped(r.conversations),
            pct(r.share_pct),
        ];
        owner_cells(report, &mut cells, 2, &r.owner, &r.az);
        t.row(cells);
    }
    let shown = report.sources.iter().map(|r| (r.bytes_out, r.bytes_in));
    if let Some(rest) = others(report, report.sources.len(), shown) {
        let mut cells = rest.cells(&["", "Others"], "-");
        owner_cells(report, &mut cells, 2, &None, &None);
        t.row(cells);
    }
    t
}

pub(crate) fn destinations(report: &Report) -> TextTable {
    let columns = vec![
        ("#", Align::Right),
        ("Remote", Align::Left),
        ("Port", Align::Right),
        ("Protocol", Align::Left),
        ("Out", Align::Right),
        ("In", Align::Right),
        ("Total", Align::Right),
        ("Share", Align::Right),
    ];
    let mut t = TextTable::new(&with_name_column(report, columns, 2));
    for r in &report.destinations {
        let mut cells = vec![
            r.rank.to_string(),
            r.remote_addr.clone(),
            r.port.map_or_else(|| "-".to_string(), |p| p.to_string()),
            r.protocol.clone().unwrap_or_else(|| "-".to_string()),
            human_bytes(r.bytes_out),
            human_bytes(r.bytes_in),
            human_bytes(r.bytes_total),
            pct(r.share_pct),
        ];
        name_cell(report, &mut cells, 2, &r.remote_name);
        t.row(cells);
    }
    let shown = report
        .destinations
        .iter()
        .map(|r| (r.bytes_out, r.bytes_in));
    if let Some(rest) = others(report, report.destinations.len(), shown) {
        let mut cells = rest.cells(&["", "Others", "", ""], "");
        name_cell(report, &mut cells, 2, &Some(String::new()));
        t.row(cells);
    }
    t
}

/// Named bytes by the names' domain; `None` when the remotes were not named.
pub(crate) fn remote_domains(report: &Report) -> Option<TextTable> {
    let names = report.remote_names.as_ref()?;
    let mut t = TextTable::new(&[
        ("#", Align::Right),
        ("Domain", Align::Left),
        ("Names", Align::Right),
        ("Remotes", Align::Right),
        ("Out", Align::Right),
        ("In", Align::Right),
        ("Total", Align::Right),
        ("Share", Align::Right),
    ]);
    for d in &names.domains {
        t.row(vec![
            d.rank.to_string(),
            d.label.clone(),
            grouped(d.names),
            grouped(d.remotes),
            human_bytes(d.bytes_out),
            human_bytes(d.bytes_in),
            human_bytes(d.bytes_total),
            pct(d.share_pct),
        ]);
    }
    Some(t)
}

pub(crate) fn services(report: &Report) -> TextTable {
    let mut t = TextTable::new(&[
        ("Service", Align::Left),
        ("Out", Align::Right),
        ("In", Align::Right),
        ("Total", Align::Right),
        ("Endpoint", Align::Left),
        ("NAT cost", Align::Right),
        ("Endpoint cost", Align::Right),
        ("Saving", Align::Right),
    ]);
    for r in &report.services {
        t.row(vec![
            service_name(&r.service).to_string(),
            human_bytes(r.bytes_out),
            human_bytes(r.bytes_in),
            human_bytes(r.bytes_total),
            r.endpoint.as_str().to_string(),
            usd(r.nat_cost_usd),
            r.endpoint_cost_usd.map_or_else(|| "-".to_string(), usd),
            usd(r.saving_usd),
        ]);
    }
    t
}

/// The timeline; on a terminal, long windows are bucketed to at most 60 rows and get a bar.
pub(crate) fn timeline(report: &Report, target: Target) -> (TextTable, Option<u64>) {
    let rows = &report.timeline;
    let (buckets, minutes) = match target {
        Target::Markdown => (
            rows.iter()
                .map(|m| bucket(std::slice::from_ref(m)))
                .collect(),
            1,
        ),
        Target::Terminal => {
            let per = rows.len().div_ceil(TERMINAL_TIMELINE_ROWS).max(1);
            (rows.chunks(per).map(bucket).collect::<Vec<_>>(), per as u64)
        }
    };
    let mut columns = vec![
        ("Minute (UTC)", Align::Left),
        ("Out", Align::Right),
        ("In", Align::Right),
        ("Total", Align::Right),
    ];
    if target == Target::Terminal {
        columns.push(("", Align::Left));
    }
    let mut t = TextTable::new(&columns);
    let max = buckets.iter().map(|b: &Bucket| b.total).max().unwrap_or(0);
    for b in &buckets {
        let mut cells = vec![
            b.minute.clone(),
            human_bytes(b.out),
            human_bytes(b.inn),
            human_bytes(b.total),
        ];
        if target == Target::Terminal {
            let len = if max == 0 {
                0
            } else {
                ((b.total as f64 / max as f64) * BAR_WIDTH as f64).round() as usize
            };
            cells.push("#".repeat(len));
        }
        t.row(cells);
    }
    (t, (minutes > 1).then_some(minutes))
}

struct Bucket {
    minute: String,
    out: u64,
    inn: u64,
    total: u64,
}

fn bucket(minutes: &[Minute]) -> Bucket {
    Bucket {
        minute: minutes
            .first()
            .map(|m| m.minute.clone())
            .unwrap_or_default(),
        out: minutes
            .iter()
            .fold(0u64, |a, m| a.saturating_add(m.bytes_out)),
        inn: minutes
            .iter()
            .fold(0u64, |a, m| a.saturating_add(m.bytes_in)),
        total: minutes
            .iter()
            .fold(0u64, |a, m| a.saturating_add(m.bytes_total)),
    }
}

/// Malformed-line examples and failed files.
pub(crate) fn problems(report: &Report) -> TextTable {
    let mut t = TextTable::new(&[
        ("File", Align::Left),
        ("Line", Align::Right),
        ("Problem", Align::Left),
    ]);
    for f in &report.summary.files_failed {
        t.row(vec![f.file.clone(), "-".to_string(), f.error.clone()]);
    }
    for m in &report.summary.malformed_examples {
        t.row(vec![m.file.clone(), m.line.to_string(), m.error.clone()]);
    }
    t
}

fn pct(share: f64) -> String {
    format!("{share:.2}%")
}

/// The four traffic tables every human-readable report shows, in order, with their titles.
pub(crate) fn traffic_tables(report: &Report) -> Vec<(String, TextTable)> {
    let s = &report.summary;
    let mut tables = vec![
        (
            format!(
                "Top talkers{}",
                rows_note(report.talkers.len(), Some(s.conversations), s.top)
            ),
            talkers(report),
        ),
        (
            format!(
                "Internal sources{}",
                rows_note(report.sources.len(), None, s.top)
            ),
            sources(report),
        ),
        (
            format!(
                "Remote destinations{}",
                rows_note(report.destinations.len(), None, s.top)
            ),
            destinations(report),
        ),
        (
            "AWS services reached through the NAT".to_string(),
            services(report),
        ),
    ];
    if let (Some(names), Some(table)) = (&report.remote_names, remote_domains(report)) {
        let title = format!(
            "Top remote names by domain, {} of {} named{}",
            human_bytes(names.bytes_named),
            human_bytes(names.bytes_total),
            rows_note(names.domains.len(), None, s.top)
        );
        tables.insert(3, (title, table));
    }
    tables
}

/// "top 20 of 57" style subtitle for a cut table.
pub(crate) fn rows_note(shown: usize, total: Option<u64>, top: usize) -> String {
    match total {
        Some(total) if total as usize > shown => format!(" (top {shown} of {})", grouped(total)),
        _ if top > 0 && shown == top => format!(" (top {shown})"),
        _ => String::new(),
    }
}
