//! The TOML document helpers every input file shares (scenario, catalog, profiles, sweep and
//! plan options): parsing with the key path and line of an error, and
//! [`Checker`], which states each rule once with the file it is about.

use std::path::Path;

use crate::error::InputError;

/// Parses TOML into any serde type, with the key path and line of the error.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, InputError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = inner
            .span()
            .map(|s| line_col(text, s.start))
            .unwrap_or((1, 1));
        InputError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            path: if path.is_empty() { ".".into() } else { path },
            message: inner.message().trim().to_string(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// Collects the file name so each check only states the key and the rule.
pub struct Checker<'a> {
    pub file: &'a Path,
}

impl Checker<'_> {
    pub fn err(&self, path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: self.file.to_path_buf(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// A finite number in [lo, hi] (inclusive bounds; use `f64::INFINITY` for none).
    pub fn range(&self, path: &str, v: f64, lo: f64, hi: f64) -> Result<f64, InputError> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(v)
        } else {
            let allowed = match (lo, hi) {
                (lo, hi) if hi == f64::INFINITY => format!("a finite number >= {lo}"),
                (lo, hi) => format!("a number from {lo} to {hi}"),
            };
            Err(self.err(path, format!("must be {allowed}, got {v}")))
        }
    }

    /// A finite number > 0.
    pub fn positive(&self, path: &str, v: f64) -> Result<f64, InputError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(path, format!("must be a finite number > 0, got {v}")))
        }
    }

    /// A whole number >= lo.
    pub fn whole(&self, path: &str, v: f64, lo: u32) -> Result<u32, InputError> {
        if v.is_finite() && v.fract() == 0.0 && v >= lo as f64 && v <= u32::MAX as f64 {
            Ok(v as u32)
        } else {
            Err(self.err(path, format!("must be a whole number >= {lo}, got {v}")))
        }
    }

    pub fn percentile(&self, path: &str, v: f64) -> Result<f64, InputError> {
        if v.is_finite() && v > 0.0 && v <= 100.0 {
            Ok(v)
        } else {
            Err(self.err(
                path,
                format!("a percentile must be greater than 0 and at most 100, got {v}"),
            ))
        }
    }

    /// 24 non-negative hour-of-day multipliers, normalised to mean 1.
    pub fn hourly(&self, path: &str, v: &[f64]) -> Result<[f64; 24], InputError> {
        if v.len() != 24 {
            return Err(self.err(
                path,
                format!(
                    "must list 24 hour-of-day multipliers (hour 0 first), got {}",
                    v.len()
                ),
            ));
        }
        normalised(self, path, v).map(|n| std::array::from_fn(|i| n[i]))
    }

    pub fn one_of(&self, path: &str, v: &str, allowed: &[&str]) -> Result<usize, InputError> {
        allowed.iter().position(|a| *a == v).ok_or_else(|| {
            self.err(
                path,
                format!("unknown value \"{v}\"; allowed: {}", allowed.join(", ")),
            )
        })
    }
}

pub fn normalised(c: &Checker, path: &str, v: &[f64]) -> Result<Vec<f64>, InputError> {
    for (i, x) in v.iter().enumerate() {
        c.range(&format!("{path}[{i}]"), *x, 0.0, f64::INFINITY)?;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    if mean <= 0.0 {
        return Err(c.err(path, "multipliers must not all be zero"));
    }
    Ok(v.iter().map(|x| x / mean).collect())
}

pub fn ms_to_us(ms: f64) -> u64 {
    (ms * 1000.0).round() as u64
}
