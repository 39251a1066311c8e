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
        // Errors the TOML parser raises itself (an integer out of range) come
        // without a path: read it from the text at the error.
        let unknown = path.is_empty() || path == ".";
        let path = match (unknown, inner.span()) {
            (true, Some(_)) => key_path_at(text, line, column).unwrap_or_default(),
            _ => path,
        };
        InputError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            path: if path.is_empty() { ".".into() } else { path },
            message: inner.message().trim().to_string(),
        }
    })
}

/// The key path written at `line`:`column` (1-based): the table header above
/// it (`[scenario]`, `[[class]]` counted from 0) and the key on the line, with
/// the key of an inline table before it (`latency.median_ms`).
fn key_path_at(text: &str, line: usize, column: usize) -> Option<String> {
    let mut table = String::new();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for l in text.lines().take(line.saturating_sub(1)) {
        let l = l.trim();
        if let Some(name) = l.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = name.trim().to_string();
            let n = counts.entry(name.clone()).or_insert(0);
            table = format!("{name}[{n}]");
            *n += 1;
        } else if let Some(name) = l.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().to_string();
        }
    }
    let at = text.lines().nth(line.checked_sub(1)?)?;
    let before: String = at.chars().take(column.saturating_sub(1)).collect();
    // Every `key =` before the column; the first is the line's key, the last
    // the innermost inline-table key.
    let keys: Vec<&str> = before
        .split('=')
        .collect::<Vec<_>>()
        .split_last()?
        .1
        .iter()
        .filter_map(|part| {
            part.rsplit(|c: char| c == '{' || c == ',' || c.is_whitespace())
                .find(|w| !w.is_empty())
        })
        .map(|k| k.trim_matches('"'))
        .collect();
    let key = match (keys.first(), keys.last()) {
        (Some(first), Some(last)) if keys.len() > 1 && before.contains('{') => {
            format!("{first}.{last}")
        }
        (Some(first), _) => first.to_string(),
        _ => return None,
    };
    Some(if table.is_empty() {
        key
    } else {
        format!("{table}.{key}")
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

    /// An error naming the first of `keys` (under `prefix`) that is set: `why` says when it applies.
    pub fn unset(&self, prefix: &str, keys: &[(&str, bool)], why: &str) -> Result<(), InputError> {
        match keys.iter().find(|(_, set)| *set) {
            Some((k, _)) => Err(self.err(format!("{prefix}.{k}"), why)),
            None => Ok(()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_are_read_from_the_text() {
        let text = "[scenario]\nhorizon_hours = 12\n[[class]]\nname = \"a\"\n[[class]]\nlatency = { median_ms = 5, p99_ms = 9 }\n";
        assert_eq!(
            key_path_at(text, 2, 17).as_deref(),
            Some("scenario.horizon_hours")
        );
        assert_eq!(
            key_path_at(text, 6, 36).as_deref(),
            Some("class[1].latency.p99_ms")
        );
        assert_eq!(key_path_at("seed = 1\n", 1, 8).as_deref(), Some("seed"));
    }

    /// An integer too large for TOML keeps its key path (it was ".").
    #[test]
    fn an_integer_out_of_range_names_its_key() {
        let text = "[scenario]\nhorizon_hours = 18446744073709551616\n";
        let e = parse_toml::<toml::Table>(text, Path::new("s.toml")).unwrap_err();
        assert_eq!(e.path(), "scenario.horizon_hours", "{e}");
    }
}
