//! `report.html`: the whole report as one self-contained page for a browser, a phone or a
//! printer: the spike chart, who talked to what, what each fix saves, then the tables, the
//! coverage and the notes. Nothing is fetched from anywhere (inline SVG and CSS, no script, font
//! or image), so it reads offline, from a pre-signed S3 link and in a mail client's viewer. The
//! page comes from a template with HTML escaping on; the charts are SVG from `charts`.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::error::ReportError;
use crate::model::Report;
use crate::render::charts::{costs, spike, spike_data, talkers};
use crate::render::sections::{self, Target};
use crate::render::text_table::{Align, TextTable};
use crate::render::{fixes, sparkline};
use crate::units::UNITS_NOTE;

const TEMPLATE: &str = include_str!("report.html.j2");

/// The whole report as one HTML document.
pub fn html(report: &Report) -> Result<String, ReportError> {
    let page = page(report)?;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| ReportError::Html(e.to_string()))?;
    env.get_template("report.html")
        .and_then(|t| t.render(&page))
        .map_err(|e| ReportError::Html(e.to_string()))
}

#[derive(Serialize)]
struct Page {
    title: String,
    subtitle: String,
    glance: String,
    coverage: Option<CoverageView>,
    month: Option<String>,
    warnings: Vec<String>,
    spike: Chart,
    talkers: Chart,
    costs: Chart,
    tables: Vec<Table>,
    cross_az: Option<CrossAzView>,
    fix_groups: Vec<FixGroup>,
    extrapolation: Option<String>,
    summary: Vec<(String, String)>,
    problems: Option<Table>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct CoverageView {
    statement: String,
    causes: Vec<String>,
    low: bool,
}

/// A chart's SVG (generated, its text escaped by the SVG backend), or why there is none.
#[derive(Serialize)]
struct Chart {
    svg: Option<String>,
    note: Option<String>,
}

#[derive(Serialize)]
struct Table {
    title: String,
    headers: Vec<&'static str>,
    /// Per column: right-aligned (numbers).
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(title: impl Into<String>, table: &TextTable) -> Table {
        Table {
            title: title.into(),
            headers: table.headers().to_vec(),
            right: table.aligns().iter().map(|a| *a == Align::Right).collect(),
            rows: table.rows().to_vec(),
        }
    }
}

#[derive(Serialize)]
struct CrossAzView {
    title: String,
    lines: Vec<String>,
    table: Option<Table>,
}

#[derive(Serialize)]
struct FixGroup {
    title: &'static str,
    actions: Vec<Fix>,
}

#[derive(Serialize)]
struct Fix {
    heading: String,
    net_loss: bool,
    command: Option<String>,
    advice: String,
}

fn page(report: &Report) -> Result<Page, ReportError> {
    let s = &report.summary;
    let metrics = report.nat_metrics.as_ref();
    let title = match metrics {
        Some(m) => format!("NAT {}: flow-log report", m.nat_gateway_id),
        None => "NAT flow-log report".to_owned(),
    };
    let subtitle = match &s.window {
        Some(w) => format!("{} to {} (UTC)", w.start, w.end),
        None => "no timestamps in the input".to_owned(),
    };
    let glance = metrics
        .map(|m| sparkline::sparkline(&m.compared(), m.threshold.map(|t| t.bytes_per_minute)))
        .unwrap_or_default();

    let spike_data = spike_data::spike_data(metrics, &report.timeline);
    let spike = Chart {
        svg: spike::spike_svg(&spike_data)?,
        note: if metrics.is_none() {
            Some("Only the bytes the flow logs captured per minute: this report was made from flow-log files without the recording's metrics.json, so the NAT's own CloudWatch bytes, the trigger's threshold and the recording's window are not known here.".to_owned())
        } else {
            None
        },
    };
    let talkers = Chart {
        svg: talkers::talkers_svg(&talkers::talker_bars(report))?,
        note: None,
    };
    let costs = Chart {
        svg: costs::costs_svg(&costs::service_costs(report))?,
        note: None,
    };

    let mut tables: Vec<Table> = sections::traffic_tables(report)
        .iter()
        .map(|(title, table)| Table::new(title.clone(), table))
        .collect();
    tables.push(Table::new(
        "Timeline (bytes per minute)",
        &sections::timeline(report, Target::Markdown).0,
    ));
    let cross_az = report.cross_az.as_ref().map(|x| CrossAzView {
        title: fixes::cross_az_title(x),
        lines: fixes::cross_az_lines(x),
        table: (!x.hosts.is_empty()).then(|| Table::new("", &fixes::cross_az_table(x))),
    });
    let fix_groups = fixes::action_groups(report)
        .into_iter()
        .map(|(title, actions)| FixGroup {
            title,
            actions: actions
                .into_iter()
                .map(|a| Fix {
                    heading: fixes::action_heading(a),
                    net_loss: fixes::is_net_loss(a),
                    command: a.command.clone(),
                    advice: a.advice.clone(),
                })
                .collect(),
        })
        .collect();
    let problems = sections::problems(report);
    let mut notes = s.notes.clone();
    notes.push(UNITS_NOTE.to_owned());
    Ok(Page {
        title,
        subtitle,
        glance,
        coverage: report.coverage.as_ref().map(|c| CoverageView {
            statement: c.statement.clone(),
            causes: c.likely_causes.clone(),
            low: c.captured_nothing || c.ratio_pct.is_some_and(|r| r < 80.0),
        }),
        month: fixes::month_headline(report),
        warnings: s.warnings.clone(),
        spike,
        talkers,
        costs,
        tables,
        cross_az,
        fix_groups,
        extrapolation: (!report.remediation.actions.is_empty())
            .then(|| fixes::extrapolation_line(report)),
        summary: sections::summary_pairs(report)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        problems: (!problems.is_empty()).then(|| {
            Table::new(
                "Failed files and malformed lines (first examples)",
                &problems,
            )
        }),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nat_metrics::tests::sample;

    fn fixture() -> Report {
        let path = std::path::PathBuf::from("../fixtures/reports/nat-cloudwatch.log");
        crate::build_report(&[path], &crate::ReportOptions::default()).expect("fixture")
    }

    #[test]
    fn the_page_is_self_contained_with_its_charts_and_tables() {
        let mut report = fixture();
        report.nat_metrics = Some(sample());
        let page = html(&report).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert_eq!(page.matches("<svg").count(), 3, "spike, talkers, costs");
        for heading in [
            "Top talkers",
            "Internal sources",
            "Remote destinations",
            "AWS services reached through the NAT",
            "Notes",
        ] {
            assert!(page.contains(heading), "{heading} missing");
        }
        for fetched in ["src=", "<script", "<link", "@import", "url("] {
            assert!(!page.contains(fetched), "{fetched} in the page");
        }
        assert!(!page.contains("href=\"http"), "no link fetches anything");
    }

    #[test]
    fn without_metrics_the_spike_chart_says_why() {
        let page = html(&fixture()).unwrap();
        assert!(page.contains("metrics.json, so the NAT"));
        assert!(page.contains("captured by the flow logs"));
    }

    #[test]
    fn text_from_the_report_is_escaped() {
        let mut report = fixture();
        report
            .summary
            .warnings
            .push("<script>alert(1)</script>".into());
        if let Some(t) = report.talkers.first_mut() {
            t.owner = Some("i-0abc (<b>web</b>)".into());
        }
        let page = html(&report).unwrap();
        assert!(!page.contains("<script>"), "escaped");
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<b>web</b>"));
    }

    #[test]
    fn the_same_report_renders_the_same_page() {
        let mut report = fixture();
        report.nat_metrics = Some(sample());
        assert_eq!(html(&report).unwrap(), html(&report).unwrap());
    }
}
