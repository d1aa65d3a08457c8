//! Event timestamps in front of CloudWatch-exported lines and export-file lines: either
//! `2024-05-01T10:00:00.000Z` (what CloudWatch Logs' CreateExportTask writes) or epoch
//! milliseconds (what nat-flowrec's export step writes). Hand-written: it runs once per line.

/// Unix milliseconds of an event timestamp token, if it is one.
pub(crate) fn parse_event_timestamp(token: &str) -> Option<i64> {
    let bytes = token.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 16 && bytes.iter().all(u8::is_ascii_digit) {
        return token.parse::<i64>().ok();
    }
    parse_rfc3339_ms(bytes)
}

/// Whether `token` looks like an epoch-millisecond timestamp of this era (13 digits:
/// 2001-09-09 to 2286). Used only to recognise a file; any digits are accepted once recognised.
pub(crate) fn is_epoch_millis(token: &str) -> bool {
    token.len() == 13 && token.bytes().all(|b| b.is_ascii_digit())
}

fn digits(bytes: &[u8], from: usize, len: usize) -> Option<i64> {
    let part = bytes.get(from..from + len)?;
    part.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (no offset means UTC) to Unix milliseconds.
pub(crate) fn parse_rfc3339_ms(b: &[u8]) -> Option<i64> {
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|(i, c)| b.get(*i) != Some(c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut pos = 19;
    let mut millis = 0i64;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
            if pos - start < 3 {
                millis = millis * 10 + i64::from(d - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 || n > 9 {
            return None;
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_s = match b.get(pos..)? {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let h = digits(b, pos + 1, 2)?;
            let m = digits(b, pos + 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let s = h * 3600 + m * 60;
            if *sign == b'+' { s } else { -s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Some(secs * 1000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(parse_event_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_event_timestamp("2024-05-01T10:00:00.000Z"),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            parse_event_timestamp("2024-05-01T10:00:00.123Z"),
            Some(1_714_557_600_123)
        );
        assert_eq!(
            parse_event_timestamp("2024-05-01T10:00:00.1Z"),
            Some(1_714_557_600_100)
        );
        assert_eq!(
            parse_event_timestamp("2024-05-01T10:00:00.123456789Z"),
            Some(1_714_557_600_123)
        );
        assert_eq!(
            parse_event_timestamp("2024-05-01T12:00:00+02:00"),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            parse_event_timestamp("2024-05-01T10:00:00"),
            Some(1_714_557_600_000)
        );
        assert_eq!(
            parse_event_timestamp("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn invalid_timestamps_are_refused() {
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-05-01 10:00",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00ZZ",
            "2024-05-01T24:00:00Z",
            "2024/05/01T10:00:00Z",
            "ACCEPT",
            "",
            "12345678901234567",
        ] {
            assert_eq!(parse_event_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_millis() {
        assert_eq!(
            parse_event_timestamp("1714557600000"),
            Some(1_714_557_600_000)
        );
        assert!(is_epoch_millis("1714557600000"));
        assert!(!is_epoch_millis("1714557600"));
        assert!(!is_epoch_millis("171455760000a"));
    }
}
