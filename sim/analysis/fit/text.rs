//! Durations and UTC times in words, for the fit's outputs.

/// A duration in words: "58.4 minutes", "3.5 hours", "12.0 days".
pub fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} seconds")
    } else if s < 3.0 * 3600.0 {
        format!("{:.1} minutes", s / 60.0)
    } else if s < 3.0 * 86_400.0 {
        format!("{:.1} hours", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// Seconds since 1970 as "YYYY-MM-DD HH:MM:SS" (UTC).
pub fn utc(t: f64) -> String {
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
