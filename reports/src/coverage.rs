//! Coverage: how much of the NAT's traffic a recording's flow logs saw, as the report's counted
//! bytes against the NAT's own CloudWatch byte metrics for the same window ("flow logs saw 96%
//! of the bytes CloudWatch counted"). A recording that captured nothing says so plainly, with
//! the likely causes the caller found (this crate knows nothing of AWS: the causes come in as
//! text). Optional in a report: files reported by hand have no metrics to compare with.

use serde::Serialize;

use crate::units::human_bytes;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The report's counted bytes (each NAT connection's bytes once, both directions).
    pub flow_log_bytes: u64,
    /// The metrics summed over the window; `None` when CloudWatch had no datapoint.
    pub metric_bytes: Option<u64>,
    /// Which metrics were summed, e.g. `BytesInFromSource`, `BytesInFromDestination`.
    pub metrics: Vec<String>,
    /// `flow_log_bytes / metric_bytes` in percent; `None` without metric bytes.
    pub ratio_pct: Option<f64>,
    /// No flow-log record reached the export.
    pub captured_nothing: bool,
    /// One sentence for people: what the numbers mean.
    pub statement: String,
    /// Why a recording may have captured nothing or too little, most likely first.
    pub likely_causes: Vec<String>,
}

impl Coverage {
    /// `records` is the number of flow-log records the report read.
    pub fn new(
        flow_log_bytes: u64,
        metric_bytes: Option<u64>,
        metrics: Vec<String>,
        records: u64,
        likely_causes: Vec<String>,
    ) -> Coverage {
        let captured_nothing = records == 0;
        let ratio_pct = match metric_bytes {
            Some(m) if m > 0 => Some(flow_log_bytes as f64 / m as f64 * 100.0),
            _ => None,
        };
        let statement = match (captured_nothing, metric_bytes, ratio_pct) {
            (true, Some(m), _) if m > 0 => format!(
                "the recording captured nothing: no flow-log record reached the export, although CloudWatch counted {} through the NAT in the window",
                human_bytes(m)
            ),
            (true, _, _) => "the recording captured nothing: no flow-log record reached the export (and CloudWatch counted no bytes through the NAT in the window)".to_owned(),
            (false, _, Some(pct)) => format!(
                "flow logs saw {} of the bytes CloudWatch counted ({} of {})",
                percent(pct),
                human_bytes(flow_log_bytes),
                human_bytes(metric_bytes.unwrap_or(0))
            ),
            (false, Some(_), None) => format!(
                "CloudWatch counted no bytes through the NAT in the window; flow logs saw {}",
                human_bytes(flow_log_bytes)
            ),
            (false, None, _) => format!(
                "coverage unknown: CloudWatch had no byte datapoints for the window; flow logs saw {}",
                human_bytes(flow_log_bytes)
            ),
        };
        Coverage {
            flow_log_bytes,
            metric_bytes,
            metrics,
            ratio_pct,
            captured_nothing,
            statement,
            likely_causes,
        }
    }

    /// The coverage as lines of text (statement, then causes), for every renderer.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!("Coverage: {}.", self.statement)];
        if !self.likely_causes.is_empty() {
            lines.push("Likely causes:".to_owned());
            for cause in &self.likely_causes {
                lines.push(format!("  - {cause}"));
            }
        }
        lines
    }
}

/// `96%`, `99.5%`, `0.4%`: whole percent where that is precise enough.
fn percent(pct: f64) -> String {
    if pct >= 10.0 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Vec<String> {
        vec!["BytesInFromSource".into(), "BytesInFromDestination".into()]
    }

    #[test]
    fn the_ratio_is_stated_as_a_percentage() {
        let c = Coverage::new(960, Some(1000), metrics(), 10, vec![]);
        assert_eq!(c.ratio_pct, Some(96.0));
        assert!(!c.captured_nothing);
        assert_eq!(
            c.statement,
            "flow logs saw 96% of the bytes CloudWatch counted (960 B of 1.00 KB)"
        );
        let small = Coverage::new(4, Some(1000), metrics(), 1, vec![]);
        assert!(
            small.statement.starts_with("flow logs saw 0.4% "),
            "{}",
            small.statement
        );
    }

    #[test]
    fn captured_nothing_is_said_plainly_with_the_causes() {
        let c = Coverage::new(
            0,
            Some(2_000_000_000),
            metrics(),
            0,
            vec!["flow log fl-1 on eni-1 FAILED delivery: Access error".into()],
        );
        assert!(c.captured_nothing);
        assert_eq!(c.ratio_pct, Some(0.0));
        assert!(
            c.statement.starts_with("the recording captured nothing"),
            "{}",
            c.statement
        );
        assert!(c.statement.contains("2.00 GB"), "{}", c.statement);
        let lines = c.lines();
        assert_eq!(lines.len(), 3);
        assert!(lines[2].contains("Access error"));
    }

    #[test]
    fn every_rendering_shows_a_measured_coverage_and_json_omits_an_absent_one() {
        let path = std::path::PathBuf::from("../fixtures/reports/nat-four-legs.log");
        let mut report =
            crate::build_report(&[path], &crate::ReportOptions::default()).expect("fixture");
        let plain_json = crate::render::json(&report).unwrap();
        assert!(
            !plain_json.contains("\"coverage\""),
            "absent coverage is not serialized"
        );
        let total = report.summary.bytes_total;
        report.coverage = Some(Coverage::new(
            total,
            Some(total * 2),
            metrics(),
            report.summary.records_read,
            vec!["late delivery".into()],
        ));
        let statement = "flow logs saw 50% of the bytes CloudWatch counted";
        for (name, text) in [
            ("terminal", crate::render::terminal(&report)),
            ("markdown", crate::render::markdown(&report)),
            ("email", crate::render::email_summary(&report)),
            ("json", crate::render::json(&report).unwrap()),
        ] {
            assert!(text.contains(statement), "{name}:\n{text}");
            assert!(text.contains("late delivery"), "{name}:\n{text}");
        }
    }

    #[test]
    fn missing_metrics_leave_the_coverage_unknown() {
        let c = Coverage::new(500, None, metrics(), 5, vec![]);
        assert_eq!(c.ratio_pct, None);
        assert!(
            c.statement.starts_with("coverage unknown"),
            "{}",
            c.statement
        );
        let zero = Coverage::new(500, Some(0), metrics(), 5, vec![]);
        assert!(zero.statement.starts_with("CloudWatch counted no bytes"));
    }
}
