//! Amounts written the way people write them, in the configuration and on the command line:
//! bytes with a unit (`"100MB"`, `"1.5 GB"`, decimal as AWS bills; `"64MiB"` binary) or a plain
//! number (`100_000_000` in TOML), durations with a unit (`"90s"`, `"10m"`, `"6h"`, `"1d"`) or
//! a plain number of seconds.

use serde::{Deserialize, Deserializer};

/// `100MB` -> 100_000_000.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let (number, unit) = split(text);
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1_000,
        "mb" | "m" => 1_000_000,
        "gb" | "g" => 1_000_000_000,
        "tb" | "t" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}`; write e.g. \"100MB\", \"1.5GB\" or 100_000_000"
            ));
        }
    };
    scale(text, number, factor)
}

/// `10m` -> 600.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let (number, unit) = split(text);
    let factor: u64 = match unit {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}`; write e.g. \"90s\", \"10m\", \"6h\" or a number of seconds"
            ));
        }
    };
    scale(text, number, factor)
}

/// The number and the unit after it, spaces and `_` separators allowed: `1.5 GB`, `100_000`.
fn split(text: &str) -> (&str, &str) {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

fn scale(text: &str, number: &str, factor: u64) -> Result<u64, String> {
    let digits = number.replace('_', "");
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a number with an optional unit"))?;
    let scaled = (value * factor as f64).round();
    if !scaled.is_finite() || scaled < 0.0 || scaled > u64::MAX as f64 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(scaled as u64)
}

/// A TOML integer, or a string with a unit.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Number(u64),
    Text(String),
}

/// serde: bytes as a number or `"100MB"`.
pub fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Written::deserialize(d)? {
        Written::Number(n) => Ok(n),
        Written::Text(t) => parse_bytes(&t).map_err(serde::de::Error::custom),
    }
}

/// serde: seconds as a number or `"10m"`.
pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Written::deserialize(d)? {
        Written::Number(n) => Ok(n),
        Written::Text(t) => parse_seconds(&t).map_err(serde::de::Error::custom),
    }
}

/// serde: seconds that fit 32 bits.
pub fn seconds_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let secs = seconds(d)?;
    u32::try_from(secs).map_err(|_| serde::de::Error::custom(format!("{secs} s is too long")))
}

/// serde: an optional `bytes` (with `#[serde(default)]` for a missing key).
pub fn optional_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    bytes(d).map(Some)
}

/// serde: an optional `seconds_u32` (with `#[serde(default)]` for a missing key).
pub fn optional_seconds_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    seconds_u32(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_take_decimal_and_binary_units() {
        assert_eq!(parse_bytes("100MB"), Ok(100_000_000));
        assert_eq!(parse_bytes("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("100_000_000"), Ok(100_000_000));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("250mb"), Ok(250_000_000));
        assert!(
            parse_bytes("100 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_bytes("MB").is_err());
    }

    #[test]
    fn durations_take_s_m_h_d() {
        assert_eq!(parse_seconds("90s"), Ok(90));
        assert_eq!(parse_seconds("10m"), Ok(600));
        assert_eq!(parse_seconds("6h"), Ok(21_600));
        assert_eq!(parse_seconds("1d"), Ok(86_400));
        assert_eq!(parse_seconds("600"), Ok(600));
        assert!(parse_seconds("5 fortnights").is_err());
    }
}
