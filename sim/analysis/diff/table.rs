//! A CSV file read into memory, fields looked up by header name; FOCUS timestamps.

use std::path::{Path, PathBuf};

use crate::domain::time::days_from_civil;

use super::folder::{malformed, DiffError};

pub(super) fn read(path: &Path) -> Result<Vec<u8>, DiffError> {
    std::fs::read(path).map_err(|source| DiffError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A CSV file with its header, read into memory, fields looked up by name.
pub(super) struct Table {
    pub(super) path: PathBuf,
    header: Vec<String>,
    pub(super) rows: Vec<csv::StringRecord>,
}

impl Table {
    /// Opens a CSV that must have rows after its header.
    pub(super) fn open(path: &Path, need: &[&str]) -> Result<Table, DiffError> {
        let t = Table::open_header(path, need)?;
        if t.rows.is_empty() {
            return Err(malformed(path, "no rows after the header (truncated?)"));
        }
        Ok(t)
    }

    /// Opens a CSV that may hold only its header (`attribution.csv` of a run without tags).
    pub(super) fn open_header(path: &Path, need: &[&str]) -> Result<Table, DiffError> {
        let bytes = read(path)?;
        let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| malformed(path, format!("malformed CSV header: {e}")))?
            .iter()
            .map(String::from)
            .collect();
        for n in need {
            if !header.iter().any(|h| h == n) {
                return Err(malformed(
                    path,
                    format!("no column \"{n}\" (the header has: {})", header.join(", ")),
                ));
            }
        }
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                malformed(path, format!("line {line}: malformed CSV: {e}"))
            })?;
            rows.push(rec);
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or(0)
    }

    pub(super) fn line(&self, rec: &csv::StringRecord) -> u64 {
        rec.position().map_or(0, |p| p.line())
    }

    pub(super) fn text<'r>(&self, rec: &'r csv::StringRecord, name: &str) -> &'r str {
        rec.get(self.col(name)).unwrap_or("")
    }

    pub(super) fn number(&self, rec: &csv::StringRecord, name: &str) -> Result<f64, DiffError> {
        let s = self.text(rec, name);
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(malformed(
                &self.path,
                format!(
                    "line {}: column {name}: expected a number, got \"{s}\"",
                    self.line(rec)
                ),
            )),
        }
    }

    pub(super) fn hour(&self, rec: &csv::StringRecord) -> Result<u32, DiffError> {
        let s = self.text(rec, "hour");
        s.parse::<u32>().map_err(|_| {
            malformed(
                &self.path,
                format!(
                    "line {}: column hour: expected an hour index, got \"{s}\"",
                    self.line(rec)
                ),
            )
        })
    }
}

/// Hours since 1970-01-01T00:00:00Z of a FOCUS timestamp `YYYY-MM-DDTHH:00:00Z`.
pub(super) fn focus_hour(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    let h: i64 = s.get(11..13)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 24 + h)
}
