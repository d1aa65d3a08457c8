//! The notification of a reported recording: an SNS message with
//! `MessageStructure=json`, so e-mail subscribers read a plain-text summary and machine
//! subscribers (`email-json`, `sqs`, `lambda`) get the report as JSON.
//!
//! The subject (at most 100 ASCII characters, SNS's limit) names the NAT, the volume and the top
//! talker. The text is the report's e-mail summary (totals, top talkers, AWS services with the
//! endpoint to create and its saving, coverage, skipped and malformed counts) followed by a
//! console link to the log group and a Logs Insights query for the recording's window. The
//! whole message stays under SNS's 256 KB: the report JSON is trimmed (tables cut, timeline
//! dropped) when it would not fit, and left out as a last resort.

use nat_flowrec_parsers::LogFormat;
use nat_flowrec_reports::{Remediation, Report, human_bytes, render, usd};
use serde::Serialize;
use serde_json::{Value, json};

use super::PipelineError;
use super::insights;
use super::upload::ReportLink;
use crate::core::Recording;
use crate::core::event::rfc3339;
use crate::ports::Notification;

/// SNS's limit for a whole message (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 262_144;
/// SNS's limit for a subject.
pub const MAX_SUBJECT_CHARS: usize = 100;
/// Rows per table in a trimmed report JSON.
const TRIMMED_ROWS: usize = 10;

/// The endpoint that saves the most a month and pays for itself (its hours netted out where
/// known): what a short message names as the fix.
pub fn top_fix(report: &Report) -> Option<&Remediation> {
    report
        .remediation
        .actions
        .iter()
        .filter(|a| a.command.is_some() && !render::is_net_loss(a))
        .max_by(|a, b| {
            let key = |r: &Remediation| {
                r.monthly_net_usd
                    .or(r.monthly_saving_usd)
                    .unwrap_or(r.saving_usd)
            };
            key(a).total_cmp(&key(b))
        })
}

/// Everything a notification says besides the report.
#[derive(Debug, Clone)]
pub struct MessageContext<'a> {
    pub recording: &'a Recording,
    /// For the console link.
    pub region: &'a str,
    pub log_group: &'a str,
    /// Where the report files are (local path).
    pub report_dir: Option<&'a str>,
    /// The uploaded report, when `notify.report_s3_uri` is set.
    pub report_link: Option<&'a ReportLink>,
    /// `notify.chat`: the `default` and `https` message is the chat format (`chat`).
    pub chat: bool,
}

/// What `email-json`, `sqs` and `lambda` subscribers receive.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    recording_id: &'a str,
    nat_gateway_id: &'a str,
    started_at: String,
    stopped_at: Option<String>,
    log_group: &'a str,
    /// The pre-signed link of `report.html`, when the report was uploaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    report_url: Option<&'a str>,
    /// Set when the report below is trimmed to fit SNS's limit.
    trimmed: bool,
    report: Option<&'a Report>,
}

/// `nat-flowrec: nat-0abc 12.30 GB via NAT, top 10.0.1.42 -> 52.217.100.4 (S3)`.
pub fn subject(rec: &Recording, report: &Report) -> String {
    let nat = &rec.nat_gateway_id;
    let text = if super::report::stopped_before_delivery(rec, report.summary.records_read) {
        format!("nat-flowrec: {nat} recording stopped before flow logs could deliver")
    } else if report.summary.records_read == 0 {
        format!("nat-flowrec: {nat} recording captured nothing")
    } else {
        let volume = human_bytes(report.summary.bytes_total);
        match report.talkers.first() {
            Some(t) => {
                let remote = t.remote_addr.as_deref().unwrap_or("?");
                let service = t
                    .remote_aws_service
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                format!(
                    "nat-flowrec: {nat} {volume} via NAT, top {} -> {remote}{service}",
                    t.internal_addr
                )
            }
            None => format!("nat-flowrec: {nat} {volume} via NAT"),
        }
    };
    ascii_line(&text, MAX_SUBJECT_CHARS)
}

/// Printable ASCII only (SNS refuses the rest in a subject), cut to `max` characters.
fn ascii_line(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .take(max)
        .collect()
}

/// The CloudWatch console page of a log group (the console escapes `/` as `$252F`).
pub fn console_link(region: &str, log_group: &str) -> String {
    let escaped: String = log_group
        .chars()
        .map(|c| match c {
            '/' => "$252F".to_owned(),
            '#' => "$2523".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{escaped}"
    )
}

/// The plain-text body: headline, the report's e-mail summary (with its coverage), then where
/// to look closer.
pub fn body_text(ctx: &MessageContext<'_>, report: &Report) -> String {
    let rec = ctx.recording;
    let mut out = format!(
        "NAT gateway {} was recorded ({}), recording {}:\nfrom {} to {} (UTC){}.\n\n",
        rec.nat_gateway_id,
        match &rec.cause {
            Some(crate::core::StartCause::Trigger { evidence }) => format!("trigger: {evidence}"),
            Some(crate::core::StartCause::Manual { .. }) => "started by hand".to_owned(),
            None => "adopted after a crash".to_owned(),
        },
        rec.recording_id,
        rfc3339(&rec.started_at),
        rec.stopped
            .as_ref()
            .map_or_else(|| "(still recording)".to_owned(), |s| rfc3339(&s.at)),
        rec.stopped
            .as_ref()
            .map(|s| format!(", stopped because {}", s.reason))
            .unwrap_or_default(),
    );
    // The page with the charts is what most readers want: its link comes first.
    if let Some(link) = ctx.report_link {
        out.push_str(&format!(
            "Report with charts (link works {}): {}\n\n",
            human_duration(link.valid_seconds),
            link.url
        ));
    }
    out.push_str(&render::email_summary(report));
    out.push_str("\nLook closer:\n");
    if let Some(s3) = &rec.s3 {
        // Delivered to S3: no log group to open or query, the files are the record.
        out.push_str(&format!(
            "  Flow-log files: s3://{}/{} (flow logs {})\n",
            s3.bucket,
            s3.logs_root(),
            rec.flow_log_ids.join(", ")
        ));
    } else {
        out.push_str(&format!(
            "  Log group {}: {}\n",
            ctx.log_group,
            console_link(ctx.region, ctx.log_group)
        ));
        let format = rec
            .log_format
            .as_deref()
            .and_then(|f| LogFormat::parse(f).ok())
            .unwrap_or_default();
        if let Some(query) = insights::talkers_query(&format, &rec.enis) {
            let (start, end) = super::report::metric_window(rec);
            out.push_str(&format!(
                "  Logs Insights, log group {}, time range {} to {} (UTC):\n",
                ctx.log_group,
                rfc3339(&start),
                rfc3339(
                    &(end
                        + chrono::TimeDelta::seconds(i64::from(
                            rec.max_aggregation_interval.unwrap_or(60)
                        )))
                )
            ));
            for line in query.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if let Some(link) = ctx.report_link {
        out.push_str(&format!(
            "  All report files (HTML, CSV, JSON, Markdown): {}\n",
            link.folder
        ));
    }
    match (ctx.report_dir, ctx.report_link) {
        (Some(dir), Some(_)) => {
            out.push_str(&format!("  Report files (HTML, CSV, JSON, Markdown): {dir}\n"));
        }
        (Some(dir), None) => out.push_str(&format!(
            "  Report files (HTML, CSV, JSON, Markdown): {dir}, only on the machine that ran nat-flowrec; set notify.report_s3_uri = \"s3://BUCKET/PREFIX\" in its configuration to get a link to them in this message\n"
        )),
        (None, _) => {}
    }
    out
}

/// `7 days`, `36 hours`, `90 minutes`, `45 seconds`.
fn human_duration(seconds: u64) -> String {
    match seconds {
        s if s >= 2 * 86_400 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s >= 2 * 3_600 && s % 3_600 == 0 => format!("{} hours", s / 3_600),
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

/// The SNS message: subject and the JSON structure, under SNS's limit.
pub fn notification(
    topic_arn: &str,
    ctx: &MessageContext<'_>,
    report: &Report,
) -> Result<Notification, PipelineError> {
    let text = body_text(ctx, report);
    let rec = ctx.recording;
    let chat = if ctx.chat {
        Some(serde_json::to_string(&super::chat::message(
            ctx,
            report,
            &subject(rec, report),
        ))?)
    } else {
        None
    };
    let trimmed = trim(report);
    let attempts: [(Option<&Report>, bool); 3] =
        [(Some(report), false), (Some(&trimmed), true), (None, true)];
    let mut last_len = 0;
    for (report_json, is_trimmed) in attempts {
        let payload = serde_json::to_string(&Payload {
            recording_id: &rec.recording_id,
            nat_gateway_id: &rec.nat_gateway_id,
            started_at: rfc3339(&rec.started_at),
            stopped_at: rec.stopped.as_ref().map(|s| rfc3339(&s.at)),
            log_group: ctx.log_group,
            report_url: ctx.report_link.map(|l| l.url.as_str()),
            trimmed: is_trimmed,
            report: report_json,
        })?;
        let mut variants = json!({
            "default": text,
            "email": text,
            "email-json": payload,
            "sqs": payload,
            "lambda": payload,
        });
        if let Some(chat) = &chat {
            // A topic wired to chat: chat clients (https) and queues relaying to them read the
            // chat format; e-mail keeps the text, `email-json` and `lambda` the report JSON.
            for protocol in ["default", "https", "sqs"] {
                variants[protocol] = Value::String(chat.clone());
            }
        }
        let message = serde_json::to_string(&variants)?;
        if message.len() <= MAX_MESSAGE_BYTES {
            return Ok(Notification {
                topic_arn: topic_arn.to_owned(),
                subject: subject(rec, report),
                message,
            });
        }
        last_len = message.len();
    }
    Err(PipelineError::MessageTooLarge {
        recording_id: rec.recording_id.clone(),
        bytes: last_len,
        max: MAX_MESSAGE_BYTES,
    })
}

/// The notification that a spike went unrecorded because the NAT's recording budget is spent:
/// sent once per spike (the `BudgetExhausted` event it follows is), with the budget's numbers and
/// the command that resets it. `None` for any other event.
pub fn budget_exhausted(
    topic_arn: &str,
    event: &crate::core::Event,
    evidence: Option<&str>,
) -> Option<Notification> {
    let crate::core::Event::BudgetExhausted {
        nat_gateway_id,
        used,
        max,
        window_seconds,
    } = event
    else {
        return None;
    };
    let counted = if *window_seconds > 0 {
        format!(
            "in the last {} (recording.max_recordings_window_seconds = {window_seconds})",
            crate::core::policy::human_seconds(*window_seconds)
        )
    } else {
        "since the last budget reset".to_owned()
    };
    unrecorded_spike(
        topic_arn,
        nat_gateway_id,
        &format!(
            "its recording budget is spent ({used} of {max} recordings {counted}; recording.max_recordings = {max})"
        ),
        evidence,
        &format!(
            "To record the next spike: `nat-flowrec budget reset --nat {nat_gateway_id}`; to record this one now: `nat-flowrec start --nat {nat_gateway_id} --force`.\nThis message is sent once per spike"
        ),
        "budget spent",
    )
}

/// The notification that the month's recordings reached `recording.max_cost_usd_per_month`, so
/// a spike went unrecorded: sent once per month (the `MonthlyCostCapReached` event it follows
/// is). `None` for any other event.
pub fn monthly_cost_cap_reached(
    topic_arn: &str,
    event: &crate::core::Event,
    evidence: Option<&str>,
) -> Option<Notification> {
    let crate::core::Event::MonthlyCostCapReached {
        nat_gateway_id,
        month,
        spent_usd,
        max_usd,
    } = event
    else {
        return None;
    };
    unrecorded_spike(
        topic_arn,
        nat_gateway_id,
        &format!(
            "the recordings of {month} cost {} in CloudWatch Logs ingestion, at or over recording.max_cost_usd_per_month ({})",
            usd(*spent_usd),
            usd(*max_usd)
        ),
        evidence,
        &format!(
            "No spike is recorded until next month; to record this one now: `nat-flowrec start --nat {nat_gateway_id}`, or raise recording.max_cost_usd_per_month.\nThis message is sent once per month"
        ),
        "monthly cost cap reached",
    )
}

/// A spike a guard kept from being recorded: why, the trigger's evidence, what the user can do.
fn unrecorded_spike(
    topic_arn: &str,
    nat_gateway_id: &str,
    why: &str,
    evidence: Option<&str>,
    what_to_do: &str,
    subject: &str,
) -> Option<Notification> {
    let mut text = format!(
        "NAT gateway {nat_gateway_id} is spiking, but this spike is NOT being recorded: {why}.\n"
    );
    if let Some(evidence) = evidence {
        text.push_str(&format!("Trigger: {evidence}.\n"));
    }
    text.push_str(&format!(
        "\n{what_to_do}; set notify.on_budget_exhausted = false to stop it.\n"
    ));
    let message = serde_json::to_string(&json!({ "default": text, "email": text })).ok()?;
    Some(Notification {
        topic_arn: topic_arn.to_owned(),
        subject: ascii_line(
            &format!("nat-flowrec: {nat_gateway_id} spike NOT recorded: {subject}"),
            MAX_SUBJECT_CHARS,
        ),
        message,
    })
}

/// The report with short tables, no timeline and no malformed examples.
fn trim(report: &Report) -> Report {
    let mut r = report.clone();
    r.nat_metrics = None;
    r.talkers.truncate(TRIMMED_ROWS);
    r.sources.truncate(TRIMMED_ROWS);
    r.destinations.truncate(TRIMMED_ROWS);
    r.services.truncate(TRIMMED_ROWS);
    r.timeline.clear();
    r.summary.malformed_examples.clear();
    r
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use chrono::{TimeZone, Utc};
    use nat_flowrec_reports::{Coverage, ReportOptions, build_report};

    use super::*;
    use crate::core::state::Stopped;
    use crate::core::{StartCause, StopReason};

    fn rec() -> Recording {
        Recording {
            recording_id: "rec-0abc-20260115T101300Z".into(),
            nat_gateway_id: "nat-0abc".into(),
            started_at: Utc.with_ymd_and_hms(2026, 1, 15, 10, 13, 0).unwrap(),
            deadline: Utc.with_ymd_and_hms(2026, 1, 15, 16, 13, 0).unwrap(),
            cause: Some(StartCause::Trigger {
                evidence: "1 of 3 periods above 100 MB".into(),
            }),
            adopted: false,
            enis: vec!["eni-a".into(), "eni-b".into()],
            flow_log_ids: vec![],
            nat_ips: vec![],
            log_group: Some("/nat-flowrec/flowlogs".into()),
            s3: None,
            log_format: None,
            max_aggregation_interval: Some(60),
            estimate: None,
            stopped: Some(Stopped {
                at: Utc.with_ymd_and_hms(2026, 1, 15, 10, 27, 0).unwrap(),
                reason: StopReason::TriggerOk,
            }),
            delivery_failures: vec![],
            query_logging: None,
            ingestion: None,
            exported: None,
            reported: None,
            notified: None,
        }
    }

    fn report() -> Report {
        let path = PathBuf::from("fixtures/reports/nat-cloudwatch.log");
        let mut r = build_report(&[path], &ReportOptions::default()).expect("fixture report");
        r.coverage = Some(Coverage::new(
            r.summary.bytes_total,
            Some(r.summary.bytes_total * 100 / 96),
            vec!["BytesInFromSource".into(), "BytesInFromDestination".into()],
            r.summary.records_read,
            vec![],
        ));
        r
    }

    fn ctx(rec: &Recording) -> MessageContext<'_> {
        MessageContext {
            recording: rec,
            region: "us-east-1",
            log_group: "/nat-flowrec/flowlogs",
            report_dir: Some("nat-flowrec-reports/rec-0abc-20260115T101300Z/report"),
            report_link: None,
            chat: false,
        }
    }

    #[test]
    fn the_subject_names_nat_volume_and_top_talker_within_100_ascii_chars() {
        let r = report();
        let s = subject(&rec(), &r);
        let top = &r.talkers[0];
        assert!(s.starts_with("nat-flowrec: nat-0abc "), "{s}");
        assert!(s.contains(&human_bytes(r.summary.bytes_total)), "{s}");
        assert!(s.contains(&top.internal_addr), "{s}");
        assert!(s.len() <= MAX_SUBJECT_CHARS && s.is_ascii());

        let mut long = rec();
        long.nat_gateway_id = format!("nat-{}é", "0".repeat(120));
        let s = subject(&long, &r);
        assert_eq!(s.chars().count(), MAX_SUBJECT_CHARS);
        assert!(s.is_ascii());
    }

    #[test]
    fn the_message_is_json_structured_text_for_email_and_report_json_for_machines() {
        let r = report();
        let rec = rec();
        let n = notification("arn:aws:sns:us-east-1:123456789012:t", &ctx(&rec), &r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        let text = v["default"].as_str().unwrap();
        assert_eq!(v["email"], v["default"]);
        assert!(
            text.contains("flow logs saw 96% of the bytes CloudWatch counted"),
            "{text}"
        );
        assert!(text.contains("Top talkers"), "{text}");
        assert!(text.contains("gateway endpoint saves"), "{text}");
        assert!(
            text.contains("#logsV2:log-groups/log-group/$252Fnat-flowrec$252Fflowlogs"),
            "{text}"
        );
        assert!(
            text.contains("filter srcaddr != pkt_srcaddr or dstaddr != pkt_dstaddr"),
            "{text}"
        );
        assert!(
            text.contains("time range 2026-01-15T10:13:00Z to 2026-01-15T10:28:00Z"),
            "{text}"
        );
        for machine in ["email-json", "sqs", "lambda"] {
            let payload: serde_json::Value =
                serde_json::from_str(v[machine].as_str().unwrap()).unwrap();
            assert_eq!(payload["recording_id"], "rec-0abc-20260115T101300Z");
            assert_eq!(payload["trimmed"], false);
            assert_eq!(
                payload["report"]["summary"]["bytes_total"],
                r.summary.bytes_total
            );
        }
    }

    #[test]
    fn a_huge_report_is_trimmed_to_fit_snss_limit() {
        let mut r = report();
        let talker = r.talkers[0].clone();
        r.talkers = (0..5_000).map(|_| talker.clone()).collect();
        let rec = rec();
        let n = notification("arn:aws:sns:us-east-1:123456789012:t", &ctx(&rec), &r).unwrap();
        assert!(n.message.len() <= MAX_MESSAGE_BYTES, "{}", n.message.len());
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        let payload: serde_json::Value = serde_json::from_str(v["sqs"].as_str().unwrap()).unwrap();
        assert_eq!(payload["trimmed"], true);
        assert_eq!(
            payload["report"]["talkers"].as_array().unwrap().len(),
            TRIMMED_ROWS
        );
    }

    #[test]
    fn an_uploaded_report_is_the_first_link_with_its_validity() {
        let r = report();
        let rec = rec();
        let url = "https://b.s3.amazonaws.com/p/r/report/report.html?X-Amz-Expires=604800";
        let link = ReportLink {
            url: url.into(),
            folder: "s3://b/p/r/report/".into(),
            valid_seconds: 604_800,
        };
        let mut c = ctx(&rec);
        c.report_link = Some(&link);
        let text = body_text(&c, &r);
        assert!(
            text.contains(&format!("Report with charts (link works 7 days): {url}")),
            "{text}"
        );
        let first = text.find("https://").unwrap();
        assert_eq!(&text[first..first + url.len()], url, "{text}");
        assert!(text.contains("s3://b/p/r/report/"), "{text}");
        let n = notification("arn:aws:sns:us-east-1:123456789012:t", &c, &r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        let payload: serde_json::Value =
            serde_json::from_str(v["email-json"].as_str().unwrap()).unwrap();
        assert_eq!(payload["report_url"], url);
        assert_eq!(human_duration(5_400), "90 minutes");
        assert_eq!(human_duration(129_600), "36 hours");
        assert_eq!(human_duration(45), "45 seconds");
    }

    #[test]
    fn captured_nothing_is_the_subject() {
        let mut r = report();
        r.summary.records_read = 0;
        assert_eq!(
            subject(&rec(), &r),
            "nat-flowrec: nat-0abc recording captured nothing"
        );
    }

    #[test]
    fn a_recording_shorter_than_the_delivery_delay_says_it_stopped_before_delivery() {
        let mut r = report();
        r.summary.records_read = 0;
        let mut short = rec();
        short.stopped.as_mut().unwrap().at = short.started_at + chrono::TimeDelta::minutes(4);
        assert_eq!(
            subject(&short, &r),
            "nat-flowrec: nat-0abc recording stopped before flow logs could deliver"
        );
    }

    #[test]
    fn a_spent_budget_is_told_with_its_numbers_and_the_reset_command() {
        let event = crate::core::Event::BudgetExhausted {
            nat_gateway_id: "nat-0abc".into(),
            used: 3,
            max: 3,
            window_seconds: 0,
        };
        let n = budget_exhausted("arn:aws:sns:eu-west-1:123456789012:t", &event, None).unwrap();
        assert_eq!(
            n.subject,
            "nat-flowrec: nat-0abc spike NOT recorded: budget spent"
        );
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        let text = v["email"].as_str().unwrap();
        assert!(
            text.contains("(3 of 3 recordings since the last budget reset"),
            "{text}"
        );
        assert!(
            text.contains("nat-flowrec budget reset --nat nat-0abc"),
            "{text}"
        );
        assert!(
            text.contains("notify.on_budget_exhausted = false"),
            "{text}"
        );
        let other = crate::core::Event::BudgetReset {
            nat_gateway_id: "nat-0abc".into(),
        };
        assert!(budget_exhausted("arn:aws:sns:eu-west-1:123456789012:t", &other, None).is_none());
    }

    #[test]
    fn a_reached_monthly_cost_cap_is_told_with_the_months_spending() {
        let event = crate::core::Event::MonthlyCostCapReached {
            nat_gateway_id: "nat-0abc".into(),
            month: "2025-01".into(),
            spent_usd: 20.25,
            max_usd: 20.0,
        };
        let topic = "arn:aws:sns:eu-west-1:123456789012:t";
        let n = monthly_cost_cap_reached(topic, &event, Some("above 100 MB")).unwrap();
        assert_eq!(
            n.subject,
            "nat-flowrec: nat-0abc spike NOT recorded: monthly cost cap reached"
        );
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        let text = v["email"].as_str().unwrap();
        for part in [
            "the recordings of 2025-01 cost $20.25",
            "recording.max_cost_usd_per_month ($20.00)",
            "Trigger: above 100 MB.",
            "sent once per month",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert!(budget_exhausted(topic, &event, None).is_none());
    }

    #[test]
    fn with_chat_the_default_message_is_a_custom_notification_and_email_keeps_the_text() {
        let r = report();
        let rec = rec();
        let mut c = ctx(&rec);
        c.chat = true;
        let n = notification("arn:aws:sns:us-east-1:123456789012:t", &c, &r).unwrap();
        let v: serde_json::Value = serde_json::from_str(&n.message).unwrap();
        for protocol in ["default", "https", "sqs"] {
            let chat: serde_json::Value =
                serde_json::from_str(v[protocol].as_str().unwrap()).unwrap();
            assert_eq!(chat["version"], "1.0");
            assert_eq!(chat["source"], "custom");
            assert_eq!(chat["content"]["textType"], "client-markdown");
            assert!(!chat["content"]["description"].as_str().unwrap().is_empty());
        }
        assert!(
            v["email"]
                .as_str()
                .unwrap()
                .starts_with("NAT gateway nat-0abc")
        );
        let payload: serde_json::Value =
            serde_json::from_str(v["lambda"].as_str().unwrap()).unwrap();
        assert_eq!(payload["recording_id"], "rec-0abc-20260115T101300Z");
    }
}
