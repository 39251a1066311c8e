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
/// it is no such calendar date. jiff checks the calendar (2026-02-29 is refused).
pub fn parse_date(s: &str) -> Option<i64> {
    // jiff would also read a longer datetime as a date; a date key takes exactly a date.
    if s.len() != 10 {
        return None;
    }
    let date: jiff::civil::Date = s.parse().ok()?;
    (date.year() >= 1970).then(|| date_days(date))
}

/// Days since 1970-01-01 of a jiff date.
fn date_days(date: jiff::civil::Date) -> i64 {
    days_from_civil(date.year() as i64, date.month() as u32, date.day() as u32)
}

/// A datetime as seconds since 1970-01-01 00:00 UTC: RFC 3339 / ISO 8601 with a `T` or a
/// space between date and time, fractional seconds up to nanoseconds, and an optional
/// offset (`Z`, `+00:00`, `-04:00`, ...). Without an offset the time is taken as UTC, as the
/// public traces and load-test logs write it. `None` when it is not a datetime.
pub fn parse_datetime(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_second() as f64 + ts.subsec_nanosecond() as f64 / 1e9);
    }
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    // A bare date is not a datetime.
    if !s.contains([' ', 'T', 't']) {
        return None;
    }
    let secs = dt.hour() as i64 * 3600 + dt.minute() as i64 * 60 + dt.second() as i64;
    Some((date_days(dt.date()) * 86_400 + secs) as f64 + dt.subsec_nanosecond() as f64 / 1e9)
}

/// `YYYY-MM` or `YYYY-MM-DD` with years 1990 to 2100 and a real calendar date (the catalog's
/// `as_of` and lifecycle dates).
pub fn is_month_or_day(d: &str) -> bool {
    month_or_day(d).is_some()
}

/// The last day of a `YYYY-MM` month, or a `YYYY-MM-DD` date as is, as days since
/// 1970-01-01 (years 1990 to 2100).
pub fn month_or_day(d: &str) -> Option<i64> {
    let date: jiff::civil::Date = match d.len() {
        7 => format!("{d}-01")
            .parse::<jiff::civil::Date>()
            .ok()?
            .last_of_month(),
        10 => d.parse().ok()?,
        _ => return None,
    };
    (1990..=2100)
        .contains(&date.year())
        .then(|| date_days(date))
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since 1970 as "YYYY-MM-DD HH:MM:SS" (UTC).
pub fn utc(t: f64) -> String {
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(days: i64) -> u8 {
    (days + 3).rem_euclid(7) as u8
}

/// Days in month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as u32
}

/// Whole months from day `start` to day `day` (both days since 1970-01-01), counted
/// by anniversary the way a monthly term renews: month 1 begins on the same day of
/// the next month, or on that month's last day when it is shorter (a run starting
/// on 31 January enters month 1 on 28 or 29 February). 0 before the start.
pub fn months_since(start: i64, day: i64) -> u32 {
    if day <= start {
        return 0;
    }
    let (y0, m0, d0) = civil_from_days(start);
    let (y, m, d) = civil_from_days(day);
    let months = (y - y0) * 12 + m as i64 - m0 as i64;
    let anniversary = d0.min(days_in_month(y, m));
    let months = if d < anniversary { months - 1 } else { months };
    months.max(0) as u32
}

/// The first day of month `k` counted by [`months_since`] from `start`.
pub fn month_start(start: i64, k: u32) -> i64 {
    let (y0, m0, d0) = civil_from_days(start);
    let total = y0 * 12 + (m0 as i64 - 1) + k as i64;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    days_from_civil(y, m, d0.min(days_in_month(y, m)))
}

/// Month of the year (1 = January .. 12) of day `day`.
pub fn month_of_year(day: i64) -> u32 {
    civil_from_days(day).1
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

    #[test]
    fn day_counts_agree_with_jiff_from_1970_to_2200() {
        let epoch = jiff::civil::date(1970, 1, 1);
        let mut date = epoch;
        let mut days = 0;
        while date.year() <= 2200 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(
                (y, m, d),
                (date.year() as i64, date.month() as u32, date.day() as u32)
            );
            assert_eq!(days_from_civil(y, m, d), days);
            assert_eq!(days_in_month(y, m), date.days_in_month() as u32);
            assert_eq!(weekday(days), date.weekday().to_monday_zero_offset() as u8);
            date = date.tomorrow().unwrap();
            days += 1;
        }
    }

    #[test]
    fn datetimes_with_and_without_offsets() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(parse_datetime("2000-03-01T00:00:01Z"), Some(951_868_801.0));
        // The same instant written with an offset (the old reader refused these).
        assert_eq!(
            parse_datetime("2000-03-01T00:00:01+00:00"),
            Some(951_868_801.0)
        );
        assert_eq!(
            parse_datetime("2000-02-29T20:00:01-04:00"),
            Some(951_868_801.0)
        );
        assert_eq!(
            parse_datetime("2000-03-01 01:00:01+01:00"),
            Some(951_868_801.0)
        );
        // Azure's traces: seven fractional digits, no offset (UTC).
        let t = parse_datetime("2024-03-04 09:00:00.2500000").unwrap();
        assert!((t - 1_709_542_800.25).abs() < 1e-6, "{t}");
        for bad in [
            "2023-13-01 00:00:00",
            "2023-02-30 00:00:00",
            "2023-11-16",
            "yesterday",
            "2023-11-16 25:00:00",
            "",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn catalog_months_and_days() {
        assert_eq!(
            month_or_day("2026-11").map(format_date).as_deref(),
            Some("2026-11-30")
        );
        assert_eq!(
            month_or_day("2028-02").map(format_date).as_deref(),
            Some("2028-02-29")
        );
        assert_eq!(
            month_or_day("2027-02").map(format_date).as_deref(),
            Some("2027-02-28")
        );
        assert_eq!(
            month_or_day("2026-04-28").map(format_date).as_deref(),
            Some("2026-04-28")
        );
        for bad in [
            "2026-02-31",
            "2026-13",
            "1989-12",
            "2101-01-01",
            "2026",
            "26-01-01",
            "2026-1-1",
        ] {
            assert!(!is_month_or_day(bad), "{bad}");
        }
    }

    #[test]
    fn months_count_by_anniversary() {
        let d = |s: &str| parse_date(s).unwrap();
        let jan31 = d("2026-01-31");
        assert_eq!(months_since(jan31, d("2026-02-27")), 0);
        assert_eq!(
            months_since(jan31, d("2026-02-28")),
            1,
            "short month: its last day"
        );
        assert_eq!(months_since(jan31, d("2026-03-30")), 1);
        assert_eq!(months_since(jan31, d("2026-03-31")), 2);
        assert_eq!(months_since(jan31, d("2027-01-31")), 12);
        assert_eq!(month_start(jan31, 1), d("2026-02-28"));
        assert_eq!(month_start(jan31, 13), d("2027-02-28"));
        assert_eq!(month_start(d("2027-12-15"), 1), d("2028-01-15"));
        for k in 0..40 {
            let s = month_start(jan31, k);
            assert_eq!(months_since(jan31, s), k);
            assert_eq!(months_since(jan31, s - 1), k.saturating_sub(1));
        }
        assert_eq!(days_in_month(2028, 2), 29);
        assert_eq!(month_of_year(d("2026-12-31")), 12);
    }
}
