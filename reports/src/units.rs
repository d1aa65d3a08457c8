//! Human-readable numbers for the text outputs: bytes in decimal units (1 KB = 1000 B, as AWS
//! bills; the outputs say so), counts with thousands separators, money in USD.

/// The note every human-readable output carries.
pub const UNITS_NOTE: &str = "units: 1 KB = 10^3 B, 1 MB = 10^6 B, 1 GB = 10^9 B (as AWS bills)";

/// `1234567` -> `1.23 MB`; below 1000, `512 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.995 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// `1234567` -> `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$12.35`, `$0.045`, `$0.0001355`: cents for larger amounts, four significant digits below
/// $10, so the cost of a small recording is not shown as $0.00.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() || amount == 0.0 {
        return "$0.00".to_string();
    }
    let magnitude = amount.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(2, 10) as usize;
    let mut text = format!("{amount:.decimals$}");
    // Trailing zeros beyond the cents say nothing.
    while text.len() > 4
        && text.ends_with('0')
        && text.find('.').is_some_and(|dot| text.len() - dot > 3)
    {
        text.pop();
    }
    format!("${text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_decimal_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.00 KB");
        assert_eq!(human_bytes(1_234_567), "1.23 MB");
        assert_eq!(human_bytes(999_999), "1.00 MB");
        assert_eq!(human_bytes(5_000_000_000), "5.00 GB");
        assert_eq!(human_bytes(u64::MAX), "18.45 EB");
    }

    #[test]
    fn money_keeps_small_amounts_visible() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.00013554), "$0.0001355");
        assert_eq!(usd(0.045), "$0.045");
        assert_eq!(usd(4.56789), "$4.568");
        assert_eq!(usd(12.5), "$12.50");
        assert_eq!(usd(1234.567), "$1234.57");
        assert_eq!(usd(f64::NAN), "$0.00");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
