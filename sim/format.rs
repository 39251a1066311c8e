//! Every number llmcap prints: one function per format, so a chart, a
//! Markdown report and the terminal write the same value the same way.
//!
//! | function            | for                                  | example                         |
//! |---------------------|--------------------------------------|---------------------------------|
//! | [`fixed`]           | CSV cells: fixed decimals, no commas | `1234.50`, `` (NaN)             |
//! | [`grouped`]         | prose and axes: fixed decimals       | `1,234.5`                       |
//! | [`count`]           | whole counts                         | `1,209,447`                     |
//! | [`sig`]             | significant digits, no commas        | `5.531`, `0.0001234`            |
//! | [`percent`]         | a fraction as a percentage           | `84.6%`                         |
//! | [`usd_cents`]       | money with cents                     | `$10,655.13`                    |
//! | [`usd_whole`]       | money in whole dollars               | `$1,235`, `-$42`                |
//! | [`usd_cents_small`] | cents below $100 only                | `$12.35`, `$9,870`              |
//! | [`usd_3_digits`]    | about three significant digits       | `$3.90`, `$78.0`, `$1,234`      |
//! | [`usd_ci`]          | a mean with its 95% interval         | `$10.00 (95% CI $9.00–$11.00)`  |
//! | [`usd_pm`]          | a mean ± the interval's half-width   | `$10.00 ± $1.00`                |
//! | [`fixed_ci`]        | any mean with its 95% interval       | `84.6% (95% CI 83.1–86.0)`      |
//! | [`ms`], [`ms_tick`] | durations in milliseconds            | `1,000 ms`, `0.5`               |
//!
//! No I/O and no dependencies beyond the interval type.

use crate::model::metrics::MeanCi;

/// `v` with `decimals` decimals and no thousands separators, for CSV files
/// (stable and machine-readable); an empty cell when `v` is not finite.
pub fn fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        String::new()
    }
}

/// [`fixed`] for an optional value; an empty cell for `None`.
pub fn fixed_opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| fixed(v, decimals)).unwrap_or_default()
}

/// `v` with `decimals` decimals and a comma between thousands:
/// 1234567.25 -> "1,234,567.25". Never "-0".
pub fn grouped(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    // "-0" would be silly on an axis.
    if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A change with its sign and thousands separators: 8062.6 -> "+8,063", -1234 -> "-1,234",
/// 0 -> "0" (no sign on a change that rounds to zero).
pub fn signed(v: f64, decimals: usize) -> String {
    let s = grouped(v, decimals);
    if v > 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{s}")
    } else {
        s
    }
}

/// A whole number with thousands separators: 1209447.4 -> "1,209,447".
pub fn count(v: f64) -> String {
    grouped(v, 0)
}

/// `v` with `digits` significant digits, in plain decimal notation, without
/// trailing zeros or separators: 5.53142 -> "5.531", 1020.0 -> "1020",
/// 0.0001234 -> "0.0001234". Zero and non-finite values print "0".
pub fn sig(v: f64, digits: usize) -> String {
    if !v.is_finite() || v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).clamp(0, 15) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A fraction as a percentage with `decimals` decimals: 0.846 -> "84.6%".
/// Values outside 0-1 print as they are (1.401 -> "140.1%").
pub fn percent(fraction: f64, decimals: usize) -> String {
    format!("{}%", grouped(fraction * 100.0, decimals))
}

/// Dollars with cents and thousands separators: "$10,655.13".
pub fn usd_cents(v: f64) -> String {
    format!("${}", grouped(v, 2))
}

/// A comparison with both sides, for a sentence: "20.3% more than all
/// on-demand: $51,352 vs $42,675 per month" (`other` = "all on-demand", `per`
/// = "per month"). Whole dollars from $100 up, cents below.
pub fn compared(a: f64, b: f64, other: &str, per: &str) -> String {
    let whole = a.abs().max(b.abs()) >= 100.0;
    let money = |v: f64| if whole { usd_whole(v) } else { usd_cents(v) };
    let rel = if b != 0.0 {
        (a / b - 1.0) * 100.0
    } else {
        f64::NAN
    };
    let how = if !rel.is_finite() {
        format!("compared with {other}")
    } else if rel.abs() < 0.05 {
        format!("the same as {other}")
    } else if rel > 0.0 {
        format!("{}% more than {other}", grouped(rel, 1))
    } else {
        format!("{}% less than {other}", grouped(-rel, 1))
    };
    format!("{how}: {} vs {} {per}", money(a), money(b))
}

/// Whole dollars with thousands separators, rounding halves away from zero,
/// the sign before the dollar sign: "$1,235", "-$42".
pub fn usd_whole(v: f64) -> String {
    let whole = v.round();
    format!(
        "{}${}",
        if whole < 0.0 { "-" } else { "" },
        grouped(whole.abs(), 0)
    )
}

/// Cents only where they matter: "$12.35" below $100, "$9,870" above.
pub fn usd_cents_small(v: f64) -> String {
    format!("${}", grouped(v, if v.abs() < 100.0 { 2 } else { 0 }))
}

/// About three significant digits for labels: "$3.90", "$78.0", "$1,234".
pub fn usd_3_digits(v: f64) -> String {
    let decimals = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("${}", grouped(v, decimals))
}

/// A mean in dollars with its 95% interval when there is one:
/// "$10.00 (95% CI $9.00–$11.00)"; "–" when there is no value.
pub fn usd_ci(v: &Option<MeanCi>) -> String {
    match v {
        Some(c) if c.n > 1 && c.half_width() > 0.0 => format!(
            "{} (95% CI {}–{})",
            usd_cents(c.mean),
            usd_cents(c.ci95_low),
            usd_cents(c.ci95_high)
        ),
        Some(c) => usd_cents(c.mean),
        None => "–".into(),
    }
}

/// A mean in dollars ± the interval's half-width, for tables: "$10.00 ± $1.00".
pub fn usd_pm(v: &Option<MeanCi>) -> String {
    match v {
        Some(c) if c.n > 1 && c.half_width() > 0.0 => {
            format!("{} ± {}", usd_cents(c.mean), usd_cents(c.half_width()))
        }
        Some(c) => usd_cents(c.mean),
        None => "–".into(),
    }
}

/// A mean with `decimals` decimals and `unit`, with its 95% interval when
/// there are several replications: "84.6% (95% CI 83.1–86.0)".
pub fn fixed_ci(v: &Option<MeanCi>, decimals: usize, unit: &str) -> String {
    match v {
        Some(c) if c.n > 1 => format!(
            "{:.decimals$}{unit} (95% CI {:.decimals$}–{:.decimals$})",
            c.mean, c.ci95_low, c.ci95_high
        ),
        Some(c) => format!("{:.decimals$}{unit}", c.mean),
        None => "–".into(),
    }
}

/// A duration in milliseconds without the unit, for tick labels: whole
/// milliseconds with separators from 1 ms up ("1,000", "20"), up to three
/// decimals below ("0.5").
pub fn ms_tick(v: f64) -> String {
    if v >= 1.0 {
        grouped(v.round(), 0)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A duration in milliseconds with the unit: "1,000 ms", "0.5 ms".
pub fn ms(v: f64) -> String {
    format!("{} ms", ms_tick(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ci(mean: f64, half: f64, n: usize) -> Option<MeanCi> {
        Some(MeanCi {
            mean,
            ci95_low: mean - half,
            ci95_high: mean + half,
            n,
        })
    }

    #[test]
    fn csv_cells_are_plain() {
        assert_eq!(fixed(1234.5, 2), "1234.50");
        assert_eq!(fixed(-0.125, 1), "-0.1");
        assert_eq!(fixed(f64::NAN, 2), "");
        assert_eq!(fixed(f64::INFINITY, 0), "");
        assert_eq!(fixed_opt(None, 2), "");
        assert_eq!(fixed_opt(Some(3.0), 1), "3.0");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(grouped(1_234_567.25, 2), "1,234,567.25");
        assert_eq!(grouped(999.0, 0), "999");
        assert_eq!(grouped(-1234.0, 1), "-1,234.0");
        assert_eq!(grouped(-0.0001, 2), "0.00", "no negative zero");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(999.4), "999");
        assert_eq!(count(1000.0), "1,000");
        assert_eq!(count(1_209_447.4), "1,209,447");
    }

    #[test]
    fn signed_changes() {
        assert_eq!(signed(8062.6, 0), "+8,063");
        assert_eq!(signed(-1234.0, 0), "-1,234");
        assert_eq!(
            signed(0.2, 0),
            "0",
            "a change that rounds to zero has no sign"
        );
        assert_eq!(signed(-0.2, 0), "0");
        assert_eq!(signed(12.345, 1), "+12.3");
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(5.53142, 4), "5.531");
        assert_eq!(sig(1020.0, 3), "1020");
        assert_eq!(sig(0.0001234, 4), "0.0001234");
        assert_eq!(sig(-2.5, 3), "-2.5");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(sig(f64::NAN, 3), "0");
    }

    #[test]
    fn percentages_print_what_they_are() {
        assert_eq!(percent(0.846, 1), "84.6%");
        assert_eq!(percent(1.401, 1), "140.1%");
        assert_eq!(percent(12.5, 0), "1,250%");
        assert_eq!(percent(-0.05, 0), "-5%");
    }

    #[test]
    fn money() {
        assert_eq!(usd_cents(10_655.129), "$10,655.13");
        assert_eq!(usd_cents(0.5), "$0.50");
        assert_eq!(usd_whole(1_234_567.4), "$1,234,567");
        assert_eq!(usd_whole(999.5), "$1,000");
        assert_eq!(usd_whole(998.5), "$999", "halves round away from zero");
        assert_eq!(usd_whole(-42.0), "-$42");
        assert_eq!(usd_whole(-0.4), "$0");
        assert_eq!(usd_cents_small(12.345), "$12.35");
        assert_eq!(usd_cents_small(9_870.4), "$9,870");
        assert_eq!(usd_3_digits(3.9), "$3.90");
        assert_eq!(usd_3_digits(78.04), "$78.0");
        assert_eq!(usd_3_digits(1_234.4), "$1,234");
    }

    #[test]
    fn means_with_intervals() {
        assert_eq!(usd_ci(&ci(10.0, 1.0, 5)), "$10.00 (95% CI $9.00–$11.00)");
        assert_eq!(usd_ci(&ci(10.0, 1.0, 1)), "$10.00");
        assert_eq!(usd_ci(&ci(10.0, 0.0, 5)), "$10.00");
        assert_eq!(usd_ci(&None), "–");
        assert_eq!(usd_pm(&ci(1500.0, 12.5, 3)), "$1,500.00 ± $12.50");
        assert_eq!(usd_pm(&None), "–");
        assert_eq!(
            fixed_ci(&ci(84.6, 1.5, 3), 1, "%"),
            "84.6% (95% CI 83.1–86.1)"
        );
        assert_eq!(fixed_ci(&ci(84.6, 1.5, 1), 1, "%"), "84.6%");
    }

    #[test]
    fn durations() {
        assert_eq!(ms_tick(1000.2), "1,000");
        assert_eq!(ms_tick(20.0), "20");
        assert_eq!(ms_tick(0.5), "0.5");
        assert_eq!(ms_tick(0.125), "0.125");
        assert_eq!(ms(1455.0), "1,455 ms");
        assert_eq!(ms(0.25), "0.25 ms");
    }

    #[test]
    fn comparisons_name_both_sides() {
        assert_eq!(
            compared(51_352.0, 42_675.0, "all on-demand", "per month"),
            "20.3% more than all on-demand: $51,352 vs $42,675 per month"
        );
        assert_eq!(
            compared(97.0, 100.0, "all on-demand", "per 48 h"),
            "3.0% less than all on-demand: $97 vs $100 per 48 h"
        );
        assert_eq!(
            compared(5.0, 5.001, "x", "per h"),
            "the same as x: $5.00 vs $5.00 per h"
        );
    }
}
