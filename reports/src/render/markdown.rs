//! `--markdown`: the report's sections as Markdown tables (for a ticket, a wiki or a PR).

use crate::model::Report;
use crate::render::fixes;
use crate::render::sections::{self, Target};
use crate::render::text_table::{Align, TextTable};
use crate::units::UNITS_NOTE;

/// Renders the whole report as Markdown.
pub fn markdown(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from("# NAT flow-log report\n\n## Summary\n\n");
    let mut summary = TextTable::new(&[("Item", Align::Left), ("Value", Align::Left)]);
    for (key, value) in sections::summary_pairs(report) {
        summary.row(vec![key.to_string(), value]);
    }
    out.push_str(&summary.markdown());
    if let Some(coverage) = &report.coverage {
        out.push_str(&format!("\n**Coverage**: {}.\n", coverage.statement));
        if !coverage.likely_causes.is_empty() {
            out.push_str("\nLikely causes:\n\n");
            for cause in &coverage.likely_causes {
                out.push_str(&format!("- {cause}\n"));
            }
        }
    }
    if !s.warnings.is_empty() {
        out.push_str("\n**Warnings**\n\n");
        for w in &s.warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    for (title, table) in sections::traffic_tables(report) {
        section(&mut out, &title, &table);
    }
    if let Some(x) = &report.cross_az {
        out.push_str(&format!("\n## {}\n\n", fixes::cross_az_title(x)));
        for line in fixes::cross_az_lines(x) {
            out.push_str(&format!("{line}\n"));
        }
        if !x.hosts.is_empty() {
            out.push('\n');
            out.push_str(&fixes::cross_az_table(x).markdown());
        }
    }
    if !report.remediation.actions.is_empty() {
        for (title, actions) in fixes::action_groups(report) {
            out.push_str(&format!("\n## {title}\n\n"));
            for a in actions {
                out.push_str(&format!(
                    "- **{}**\n",
                    fixes::action_heading(a).replace('|', "\\|")
                ));
                if let Some(command) = &a.command {
                    out.push_str(&format!("\n  ```sh\n  {command}\n  ```\n\n"));
                }
                out.push_str(&format!("  {}\n", a.advice));
            }
        }
        out.push_str(&format!("\n{}\n", fixes::extrapolation_line(report)));
    }
    section(
        &mut out,
        "Timeline (bytes per minute)",
        &sections::timeline(report, Target::Markdown).0,
    );
    let problems = sections::problems(report);
    if !problems.is_empty() {
        section(
            &mut out,
            "Failed files and malformed lines (first examples)",
            &problems,
        );
    }
    out.push_str("\n## Notes\n\n");
    for n in &s.notes {
        out.push_str(&format!("- {n}\n"));
    }
    out.push_str(&format!("- {UNITS_NOTE}\n"));
    out
}

fn section(out: &mut String, title: &str, table: &TextTable) {
    out.push_str(&format!("\n## {title}\n\n"));
    if table.is_empty() {
        out.push_str("_none_\n");
    } else {
        out.push_str(&table.markdown());
    }
}
