//! `--json`: the whole report as one JSON object (see `model` for the keys).

use crate::error::ReportError;
use crate::model::Report;

/// Pretty-printed JSON with a final newline.
pub fn json(report: &Report) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}
