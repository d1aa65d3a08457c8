//! What the core's tests share: the clock of a case, written the way a person reads it.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// The day every case happens on unless it says otherwise.
const DAY: (i32, u32, u32) = (2025, 1, 1);

/// `at("10:41")` or `at("10:41:30")`: that time of the tests' day (2025-01-01, UTC); a full
/// RFC 3339 time (`"2026-03-01T12:00:00Z"`) is taken as written.
pub(crate) fn at(time: &str) -> DateTime<Utc> {
    if let Ok(full) = DateTime::parse_from_rfc3339(time) {
        return full.with_timezone(&Utc);
    }
    let clock = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .unwrap_or_else(|e| panic!("`{time}` is not HH:MM[:SS] or RFC 3339: {e}"));
    let (y, m, d) = DAY;
    let day = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    day.and_time(clock).and_utc()
}

#[test]
fn times_of_the_day_and_full_times_parse() {
    assert_eq!(at("10:41"), at("2025-01-01T10:41:00Z"));
    assert_eq!(at("10:41:30").to_rfc3339(), "2025-01-01T10:41:30+00:00");
}
