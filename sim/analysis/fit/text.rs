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

pub use crate::domain::time::utc;
