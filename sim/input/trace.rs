//! Request traces: streaming readers for the Azure LLM inference traces
//! (`azure`: TIMESTAMP, ContextTokens, GeneratedTokens), BurstGPT (`burstgpt`:
//! Timestamp in seconds, Model, Request tokens, Response tokens, Total
//! tokens, Log Type), Mooncake JSON lines (`mooncake`: timestamp in ms,
//! input_length, output_length) and any CSV with a column mapping (`csv`).
//!
//! Readers hold one line at a time, so memory does not grow with the trace.
//! Rows that cannot be used (an unparsable time, a negative or missing token
//! count, a time before the previous row's) come back as [`BadRow`] with the
//! file and line; the caller decides whether to skip or stop.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::domain::trace::{
    BadRow, BadRowKind, TimeUnit, TraceFormat, TraceRecord, TraceRows, TraceSource,
};
use crate::error::InputError;

use crate::domain::time::days_from_civil;

/// A streaming reader of one trace file.
pub struct TraceReader {
    file: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    format: TraceFormat,
    line: u64,
    /// Column indices for CSV formats: time, input, output, model.
    cols: Option<(usize, usize, usize, Option<usize>)>,
    last_time: Option<f64>,
}

/// Opens `src` for one pass of its replay (a [`crate::domain::trace::TraceOpener`]).
pub fn open_rows(src: &TraceSource) -> Result<TraceRows, InputError> {
    Ok(Box::new(TraceReader::open(&src.path, src.format.clone())?))
}

impl TraceReader {
    pub fn open(path: &Path, format: TraceFormat) -> Result<TraceReader, InputError> {
        let f = File::open(path).map_err(|source| InputError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        let mut r = TraceReader {
            file: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 16, f).lines(),
            format,
            line: 0,
            cols: None,
            last_time: None,
        };
        r.read_header()?;
        Ok(r)
    }

    fn invalid(&self, message: String) -> InputError {
        InputError::Invalid {
            file: self.file.clone(),
            path: format!("line {}", self.line.max(1)),
            message,
        }
    }

    fn read_header(&mut self) -> Result<(), InputError> {
        let wanted: Vec<(String, bool)> = match &self.format {
            TraceFormat::Mooncake => return Ok(()),
            TraceFormat::Azure => vec![
                ("TIMESTAMP".into(), true),
                ("ContextTokens".into(), true),
                ("GeneratedTokens".into(), true),
            ],
            TraceFormat::BurstGpt => vec![
                ("Timestamp".into(), true),
                ("Request tokens".into(), true),
                ("Response tokens".into(), true),
                ("Model".into(), false),
            ],
            TraceFormat::Csv(m) => {
                let mut v = vec![
                    (m.time.clone(), true),
                    (m.input.clone(), true),
                    (m.output.clone(), true),
                ];
                if let Some(c) = &m.model {
                    v.push((c.clone(), true));
                }
                v
            }
        };
        let header = match self.lines.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(self.invalid(format!("cannot read the header: {e}"))),
            None => return Err(self.invalid("the file is empty (no header row)".into())),
        };
        self.line = 1;
        let names: Vec<String> = split_csv(header.trim_start_matches('\u{feff}'))
            .into_iter()
            .map(|s| s.trim().to_string())
            .collect();
        let mut idx = Vec::new();
        for (want, required) in &wanted {
            match names.iter().position(|n| n == want) {
                Some(i) => idx.push(Some(i)),
                None if *required => {
                    return Err(self.invalid(format!(
                    "the header has no column \"{want}\" (it has: {}); is the format \"{}\" right?",
                    names.join(", "),
                    self.format.name()
                )))
                }
                None => idx.push(None),
            }
        }
        self.cols = Some((
            idx[0].unwrap_or(0),
            idx[1].unwrap_or(0),
            idx[2].unwrap_or(0),
            idx.get(3).copied().flatten(),
        ));
        Ok(())
    }

    fn bad(&self, kind: BadRowKind, message: String) -> BadRow {
        BadRow {
            file: self.file.clone(),
            line: self.line,
            kind,
            message,
        }
    }

    /// The names of the time, input-token and output-token columns (keys for mooncake), for
    /// messages.
    fn column_names(&self) -> [&str; 3] {
        match &self.format {
            TraceFormat::Azure => ["TIMESTAMP", "ContextTokens", "GeneratedTokens"],
            TraceFormat::BurstGpt => ["Timestamp", "Request tokens", "Response tokens"],
            TraceFormat::Mooncake => ["timestamp", "input_length", "output_length"],
            TraceFormat::Csv(m) => [&m.time, &m.input, &m.output],
        }
    }

    fn parse_row(&self, text: &str) -> Result<TraceRecord, BadRow> {
        let [time_col, input_col, output_col] = self.column_names();
        let (time_s, input, output, model) = match &self.format {
            TraceFormat::Mooncake => {
                let v: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| self.bad(BadRowKind::Shape, format!("not a JSON object: {e}")))?;
                let t = v
                    .get("timestamp")
                    .and_then(|t| t.as_f64())
                    .ok_or_else(|| self.bad(BadRowKind::Time, "no numeric \"timestamp\"".into()))?;
                let tok = |k: &str| {
                    v.get(k)
                        .and_then(|x| x.as_f64())
                        .ok_or_else(|| self.bad(BadRowKind::Tokens, format!("no numeric \"{k}\"")))
                };
                (
                    t / 1000.0,
                    tok("input_length")?,
                    tok("output_length")?,
                    None,
                )
            }
            _ => {
                let fields = split_csv(text);
                let (ti, ii, oi, mi) = self.cols.unwrap_or((0, 1, 2, None));
                let get = |i: usize| fields.get(i).map(|s| s.trim());
                let unit = match &self.format {
                    TraceFormat::Azure => TimeUnit::DateTime,
                    TraceFormat::BurstGpt => TimeUnit::Seconds,
                    TraceFormat::Csv(m) => m.time_unit,
                    TraceFormat::Mooncake => TimeUnit::Milliseconds,
                };
                let raw_t = get(ti).ok_or_else(|| {
                    self.bad(
                        BadRowKind::Shape,
                        format!("{} fields, no time column", fields.len()),
                    )
                })?;
                let t = parse_time(raw_t, unit).ok_or_else(|| {
                    self.bad(
                        BadRowKind::Time,
                        format!("column \"{time_col}\": \"{raw_t}\" is not a time ({unit:?})"),
                    )
                })?;
                let num = |i: usize, col: &str| -> Result<f64, BadRow> {
                    let s = get(i).ok_or_else(|| {
                        self.bad(
                            BadRowKind::Shape,
                            format!("{} fields, no column \"{col}\"", fields.len()),
                        )
                    })?;
                    s.parse::<f64>().map_err(|_| {
                        self.bad(
                            BadRowKind::Tokens,
                            format!("column \"{col}\": \"{s}\" is not a number"),
                        )
                    })
                };
                (
                    t,
                    num(ii, input_col)?,
                    num(oi, output_col)?,
                    mi.and_then(get).map(|s| s.to_string()),
                )
            }
        };
        for (what, col, v) in [("input", input_col, input), ("output", output_col, output)] {
            if !(v.is_finite() && v >= 0.0 && v <= u32::MAX as f64 && v.fract() == 0.0) {
                return Err(self.bad(
                    BadRowKind::Tokens,
                    format!("column \"{col}\": {what} tokens must be a whole number from 0 to {}, got {v}", u32::MAX),
                ));
            }
        }
        if !time_s.is_finite() {
            return Err(self.bad(BadRowKind::Time, format!("time {time_s} is not finite")));
        }
        Ok(TraceRecord {
            line: self.line,
            time_s,
            input: input as u32,
            output: output as u32,
            model,
        })
    }
}

impl Iterator for TraceReader {
    type Item = Result<TraceRecord, BadRow>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(t) => t,
                Err(e) => {
                    self.line += 1;
                    return Some(Err(self.bad(BadRowKind::Shape, format!("cannot read: {e}"))));
                }
            };
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            let rec = match self.parse_row(&text) {
                Ok(r) => r,
                Err(b) => return Some(Err(b)),
            };
            if let Some(last) = self.last_time {
                if rec.time_s < last {
                    return Some(Err(self.bad(
                        BadRowKind::OutOfOrder,
                        format!(
                            "time {} s is before the previous row's {} s (traces must be sorted by time)",
                            rec.time_s, last
                        ),
                    )));
                }
            }
            self.last_time = Some(rec.time_s);
            return Some(Ok(rec));
        }
    }
}

/// Splits one CSV line (double quotes, doubled to escape).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Seconds from a time field.
pub fn parse_time(s: &str, unit: TimeUnit) -> Option<f64> {
    match unit {
        TimeUnit::Seconds => s.parse().ok(),
        TimeUnit::Milliseconds => s.parse::<f64>().ok().map(|v| v / 1e3),
        TimeUnit::Microseconds => s.parse::<f64>().ok().map(|v| v / 1e6),
        TimeUnit::DateTime => parse_datetime(s),
    }
}

/// "YYYY-MM-DD HH:MM:SS[.f+]" (or "T" between) as seconds since 1970 UTC.
pub fn parse_datetime(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = s.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut t = time.split(':');
    let hh: u32 = t.next()?.parse().ok()?;
    let mm: u32 = t.next()?.parse().ok()?;
    let ss: f64 = t.next()?.parse().ok()?;
    if t.next().is_some() || hh > 23 || mm > 59 || !(0.0..61.0).contains(&ss) {
        return None;
    }
    Some(days_from_civil(y, m, day) as f64 * 86_400.0 + (hh * 3600 + mm * 60) as f64 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(parse_datetime("2000-03-01T00:00:01Z"), Some(951_868_801.0));
        let t = parse_datetime("2023-11-16 18:15:46.6805900").unwrap();
        assert!((t - 1_700_158_546.680_59).abs() < 1e-6, "{t}");
        for bad in [
            "2023-13-01 00:00:00",
            "2023-11-16",
            "yesterday",
            "2023-11-16 25:00:00",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_fields_with_quotes() {
        assert_eq!(split_csv(r#"a,"b,c",d"#), vec!["a", "b,c", "d"]);
        assert_eq!(split_csv(r#""say ""hi""",1"#), vec![r#"say "hi""#, "1"]);
    }
}
