//! One result of `doctor`: what was checked, about what, how bad, and the exact AWS CLI command
//! that fixes it. Rendered as text for people (problems only, then a count) or as JSON (every
//! check, passed ones included).

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The check passed.
    Ok,
    /// Worth knowing, nothing to fix.
    Info,
    /// Costs money or loses reports; the job still works.
    Warning,
    /// The job cannot work as configured.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name per check: `nat-gateway`, `nat-route`, `s3-gateway-endpoint`,
    /// `dynamodb-gateway-endpoint`, `interface-endpoint`, `delivery-role-trust`,
    /// `delivery-role-permissions`, `log-group`, `sns-topic`, `check-failed`, ... (in JSON in
    /// snake_case, as every enum value there).
    #[serde(serialize_with = "snake_case")]
    pub check: &'static str,
    /// What it is about: a NAT, VPC, role, log group or topic.
    pub subject: String,
    pub message: String,
    /// The AWS CLI command (or commands, one per line) that fixes it; in JSON a list of
    /// commands, empty when there is nothing to run.
    #[serde(serialize_with = "commands")]
    pub fix: Option<String>,
}

fn snake_case<S: serde::Serializer>(check: &&'static str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&check.replace('-', "_"))
}

fn commands<S: serde::Serializer>(fix: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        fix.iter()
            .flat_map(|f| f.lines())
            .filter(|l| !l.trim().is_empty()),
    )
}

impl Finding {
    pub fn new(
        severity: Severity,
        check: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            check,
            subject: subject.into(),
            message: message.into(),
            fix: None,
        }
    }

    pub fn ok(
        check: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Finding {
        Finding::new(Severity::Ok, check, subject, message)
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

/// Every finding of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnosis {
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub ok: usize,
    pub info: usize,
    pub warning: usize,
    pub error: usize,
}

impl Diagnosis {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.findings {
            match f.severity {
                Severity::Ok => c.ok += 1,
                Severity::Info => c.info += 1,
                Severity::Warning => c.warning += 1,
                Severity::Error => c.error += 1,
            }
        }
        c
    }

    /// Something to fix: a warning or an error.
    pub fn needs_fixing(&self) -> bool {
        self.worst() >= Severity::Warning
    }

    /// The most severe finding's severity (`Ok` for none).
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Ok)
    }

    /// `--output json`: the findings and their counts.
    pub fn to_json(&self) -> serde_json::Result<String> {
        #[derive(Serialize)]
        struct Out<'a> {
            counts: Counts,
            findings: &'a [Finding],
        }
        serde_json::to_string_pretty(&Out {
            counts: self.counts(),
            findings: &self.findings,
        })
    }
}

/// The text form: problems and notes, most severe first, each with its fix; then the counts.
impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, false)
    }
}

impl Diagnosis {
    /// The text form, with each severity in its colour when `colour` (a terminal).
    pub fn text(&self, colour: bool) -> String {
        struct Coloured<'a>(&'a Diagnosis);
        impl fmt::Display for Coloured<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_text(f, true)
            }
        }
        if colour {
            Coloured(self).to_string()
        } else {
            self.to_string()
        }
    }

    fn write_text(&self, f: &mut fmt::Formatter<'_>, colour: bool) -> fmt::Result {
        let mut shown: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|x| x.severity > Severity::Ok)
            .collect();
        shown.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for x in shown {
            let severity = format!("{:<7}", x.severity.as_str());
            let severity = match (colour, x.severity) {
                (true, Severity::Error) => format!("\x1b[31m{severity}\x1b[0m"),
                (true, Severity::Warning) => format!("\x1b[33m{severity}\x1b[0m"),
                (true, Severity::Info) => format!("\x1b[36m{severity}\x1b[0m"),
                _ => severity,
            };
            writeln!(f, "{severity} {} [{}]: {}", x.subject, x.check, x.message)?;
            if let Some(fix) = &x.fix {
                for line in fix.lines() {
                    writeln!(f, "          $ {line}")?;
                }
            }
        }
        let c = self.counts();
        writeln!(
            f,
            "doctor: {} check(s) passed, {} note(s), {} warning(s), {} error(s)",
            c.ok, c.info, c.warning, c.error
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_shows_problems_worst_first_with_their_fix_and_counts_everything() {
        let d = Diagnosis {
            findings: vec![
                Finding::ok("nat-route", "nat-1", "routed"),
                Finding::new(
                    Severity::Warning,
                    "s3-gateway-endpoint",
                    "vpc-1",
                    "no S3 endpoint",
                )
                .with_fix("aws ec2 create-vpc-endpoint ..."),
                Finding::new(Severity::Error, "delivery-role", "role", "missing"),
            ],
        };
        let text = d.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("error   role [delivery-role]: missing"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("warning vpc-1 [s3-gateway-endpoint]"),
            "{text}"
        );
        assert_eq!(lines[2], "          $ aws ec2 create-vpc-endpoint ...");
        assert!(!text.contains("routed"));
        assert!(
            text.ends_with("1 check(s) passed, 0 note(s), 1 warning(s), 1 error(s)\n"),
            "{text}"
        );
        assert!(d.needs_fixing());
        let json: serde_json::Value = serde_json::from_str(&d.to_json().unwrap()).unwrap();
        assert_eq!(json["counts"]["ok"], 1);
        assert_eq!(json["findings"][1]["severity"], "warning");
        assert_eq!(
            json["findings"][1]["fix"],
            serde_json::json!(["aws ec2 create-vpc-endpoint ..."])
        );
        assert_eq!(json["findings"][1]["check"], "s3_gateway_endpoint");
        assert_eq!(json["findings"][0]["fix"], serde_json::json!([]));
    }
}
