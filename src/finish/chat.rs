//! The message for chat channels: Slack and Microsoft Teams reached through Amazon Q Developer
//! in chat applications (formerly AWS Chatbot), which shows only AWS events and messages in its
//! custom-notification format. The format, as AWS documents it ("Custom notifications using
//! Amazon Q Developer in chat applications", docs.aws.amazon.com/chatbot/latest/adminguide/
//! custom-notifs.html): `version` "1.0" and `source` "custom" (both required), `content` with
//! `textType` "client-markdown", a `title` and a Markdown `description` (required), optional
//! `nextSteps` and `keywords`, and `metadata` (`threadId`, `summary`, `eventType`,
//! `relatedResources`, `additionalContext`).
//!
//! The description carries what a channel needs to act: the headline, the top three talkers
//! with their owners, the top fix with its monthly saving, and the link to the full report.

use nat_flowrec_reports::{Report, human_bytes, service_name, usd};
use serde_json::{Value, json};

use super::notify::MessageContext;

/// Talkers the chat message names.
const TOP_TALKERS: usize = 3;

/// The custom notification of a reported recording.
pub fn message(ctx: &MessageContext<'_>, report: &Report, subject: &str) -> Value {
    let rec = ctx.recording;
    let s = &report.summary;
    let mut description = format!(
        "*{}* through NAT gateway `{}` ({}), NAT processing {}.",
        human_bytes(s.bytes_total),
        rec.nat_gateway_id,
        ctx.region,
        usd(s.nat_cost_usd)
    );
    if let Some(headline) = nat_flowrec_reports::render::month_headline(report) {
        description.push_str(&format!(" {headline}."));
    }
    if let Some(coverage) = &report.coverage
        && coverage.captured_nothing
    {
        description.push_str(&format!("\n{}.", coverage.statement));
    }
    if !report.talkers.is_empty() {
        description.push_str("\n\n*Top talkers*");
        for t in report.talkers.iter().take(TOP_TALKERS) {
            let owner = t
                .owner
                .as_deref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default();
            let service = t
                .remote_aws_service
                .as_deref()
                .map(|svc| format!(" [{}]", service_name(svc)))
                .unwrap_or_default();
            description.push_str(&format!(
                "\n{}. `{}`{owner} → `{}`{service}: {}",
                t.rank,
                t.internal_addr,
                t.remote_addr.as_deref().unwrap_or("?"),
                human_bytes(t.bytes_total)
            ));
        }
    }
    let mut next_steps = Vec::new();
    if let Some(fix) = super::notify::top_fix(report) {
        description.push_str(&format!(
            "\n\n*Top fix*: {}",
            nat_flowrec_reports::render::action_heading(fix)
        ));
        if let Some(command) = &fix.command {
            next_steps.push(format!("`{command}`"));
        }
    }
    match (ctx.report_link, ctx.report_dir) {
        (Some(link), _) => {
            description.push_str(&format!("\n\nFull report: {}", link.url));
        }
        (None, Some(dir)) => description.push_str(&format!(
            "\n\nReport files: `{dir}` (local to the job; set `notify.report_s3_uri` for a link)"
        )),
        (None, None) => {}
    }
    json!({
        "version": "1.0",
        "source": "custom",
        "id": rec.recording_id,
        "content": {
            "textType": "client-markdown",
            "title": subject,
            "description": description,
            "nextSteps": next_steps,
            "keywords": [rec.nat_gateway_id, ctx.region],
        },
        "metadata": {
            "threadId": rec.nat_gateway_id,
            "summary": subject,
            "eventType": "NatFlowRecordingReported",
            "relatedResources": [rec.nat_gateway_id, rec.recording_id],
        },
    })
}
