//! JSON on stdout, one convention for every command: enum values in snake_case (the text form's
//! words: `breaching`, `trigger_ok`, `budget_exhausted`), whatever casing the event log stores
//! them in (its `type` and `reason` values are part of the log's schema and stay as written).

use serde::Serialize;
use serde_json::Value;

/// The keys whose string values are enum values.
const ENUM_KEYS: &[&str] = &[
    "action", "type", "kind", "reason", "from", "to", "trigger", "severity",
];

/// One line of JSON.
pub fn line(value: &impl Serialize) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(value)?;
    normalize(&mut value);
    serde_json::to_string(&value)
}

/// Indented JSON.
pub fn pretty(value: &impl Serialize) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(value)?;
    normalize(&mut value);
    serde_json::to_string_pretty(&value)
}

/// Rewrites enum values (strings under `ENUM_KEYS` that are identifiers) into snake_case.
pub fn normalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if ENUM_KEYS.contains(&key.as_str()) && is_identifier(s) => {
                        *s = snake_case(s);
                    }
                    _ => normalize(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        _ => {}
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `InsufficientData` -> `insufficient_data`, `BREACHING` -> `breaching`.
fn snake_case(s: &str) -> String {
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len() + 4);
    let mut previous_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_become_snake_case_and_other_strings_stay() {
        let mut v = serde_json::json!({
            "type": "TriggerChanged",
            "from": "InsufficientData",
            "to": "BREACHING",
            "action": "DeleteStray",
            "stopped": {"reason": "TriggerOk"},
            "evidence": "Above 100 MB",
            "recordings": [{"cause": {"kind": "Trigger"}}],
            "nat_gateway_id": "nat-0ABC",
            "to_do": "KeepMe",
        });
        normalize(&mut v);
        assert_eq!(v["type"], "trigger_changed");
        assert_eq!(v["from"], "insufficient_data");
        assert_eq!(v["to"], "breaching");
        assert_eq!(v["action"], "delete_stray");
        assert_eq!(v["stopped"]["reason"], "trigger_ok");
        assert_eq!(v["evidence"], "Above 100 MB");
        assert_eq!(v["recordings"][0]["cause"]["kind"], "trigger");
        assert_eq!(v["nat_gateway_id"], "nat-0ABC");
        assert_eq!(v["to_do"], "KeepMe");
    }
}
