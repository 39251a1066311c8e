//! Simulated time: integer microseconds since the start of the run, so event
//! order never depends on float rounding.

/// Simulated time in microseconds since the start of the run.
pub type SimTime = u64;

pub const US_PER_SEC: u64 = 1_000_000;
pub const US_PER_MIN: u64 = 60 * US_PER_SEC;
pub const US_PER_HOUR: u64 = 3600 * US_PER_SEC;

/// Hours in a billing month, as the vendors count them (8,760 / 12): a monthly price per unit
/// divided by it is a price per unit-hour, and a 1-month term commits to it.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The date of simulated hour 0 when a scenario gives neither `start_date` nor
/// `start_weekday`: Monday 2026-01-05, a fixed date so that outputs repeat.
/// A `start_weekday` alone moves it to that weekday of the same week.
pub const DEFAULT_START_DATE: &str = "2026-01-05";

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a count of days since 1970-01-01 (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (years 1970 to 9999), or `None` when
/// it is no such calendar date.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    let days = days_from_civil(y, m, d);
    (y >= 1970 && civil_from_days(days) == (y, m, d)).then_some(days)
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u8 {
    (days + 3).rem_euclid(7) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        let d = parse_date(DEFAULT_START_DATE).unwrap();
        assert_eq!(weekday(d), 0, "2026-01-05 is a Monday");
        assert_eq!(format_date(d), DEFAULT_START_DATE);
        assert_eq!(format_date(d + 27), "2026-02-01");
        assert_eq!(
            parse_date("2028-02-29").map(format_date).as_deref(),
            Some("2028-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-05",
            "05/01/2026",
            "1969-12-31",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for days in [0, 365, 11_323, 20_458, 2_932_896] {
            let (y, m, dd) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, dd), days);
        }
    }
}
