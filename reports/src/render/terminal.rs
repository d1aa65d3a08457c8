//! The default output: a report a person reads in a terminal, with aligned tables and decimal
//! human units (stated at the bottom).

use crate::model::Report;
use crate::render::fixes;
use crate::render::sections::{self, Target};
use crate::render::text_table::TextTable;
use crate::units::UNITS_NOTE;

const INDENT: &str = "  ";

/// Renders the whole report for a terminal.
pub fn terminal(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::from("NAT flow-log report\n===================\n");
    let pairs = sections::summary_pairs(report);
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in &pairs {
        out.push_str(&format!("{key:<width$}  {value}\n"));
    }
    if let Some(coverage) = &report.coverage {
        out.push('\n');
        for line in coverage.lines() {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if !s.warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in &s.warnings {
            out.push_str(&format!("{INDENT}! {w}\n"));
        }
    }
    for (title, table) in sections::traffic_tables(report) {
        section(&mut out, &title, &table);
    }
    if let Some(x) = &report.cross_az {
        out.push('\n');
        out.push_str(&fixes::cross_az_title(x));
        out.push('\n');
        for line in fixes::cross_az_lines(x) {
            out.push_str(&format!("{INDENT}{line}\n"));
        }
        if !x.hosts.is_empty() {
            out.push_str(&fixes::cross_az_table(x).aligned(INDENT));
        }
    }
    if !report.remediation.actions.is_empty() {
        for (title, actions) in fixes::action_groups(report) {
            out.push('\n');
            out.push_str(title);
            out.push('\n');
            for a in actions {
                out.push_str(&format!("{INDENT}{}\n", fixes::action_heading(a)));
                if let Some(command) = &a.command {
                    out.push_str(&format!("{INDENT}{INDENT}$ {command}\n"));
                }
                out.push_str(&format!("{INDENT}{INDENT}{}\n", a.advice));
            }
        }
        out.push_str(&format!("{INDENT}{}\n", fixes::extrapolation_line(report)));
    }
    let (timeline, per) = sections::timeline(report, Target::Terminal);
    let title = match per {
        Some(m) => format!("Timeline (bytes per {m} minutes)"),
        None => "Timeline (bytes per minute)".to_string(),
    };
    section(&mut out, &title, &timeline);
    let problems = sections::problems(report);
    if !problems.is_empty() {
        section(
            &mut out,
            "Failed files and malformed lines (first examples)",
            &problems,
        );
    }
    out.push_str("\nNotes\n");
    for n in &s.notes {
        out.push_str(&format!("{INDENT}- {n}\n"));
    }
    out.push_str(&format!("{INDENT}- {UNITS_NOTE}\n"));
    out
}

fn section(out: &mut String, title: &str, table: &TextTable) {
    out.push('\n');
    out.push_str(title);
    out.push('\n');
    if table.is_empty() {
        out.push_str(INDENT);
        out.push_str("(none)\n");
    } else {
        out.push_str(&table.aligned(INDENT));
    }
}
