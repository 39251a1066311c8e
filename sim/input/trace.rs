//! Request traces: streaming readers for the Azure LLM inference traces
//! (`azure`: TIMESTAMP, ContextTokens, GeneratedTokens), BurstGPT (`burstgpt`:
//! Timestamp in seconds, Model, Request tokens, Response tokens, Total
//! tokens, Log Type), Mooncake JSON lines (`mooncake`: timestamp in ms,
//! input_length, output_length) and any CSV with a column mapping (`csv`).
//!
//! Readers hold one record at a time, so memory does not grow with the trace. CSV records are
//! split by the csv crate's parser (csv-core: quoted fields with commas, doubled quotes and line
//! breaks) while the reader counts physical lines itself, so a row's line number is exact.
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

/// A streaming reader of one trace file.
pub struct TraceReader {
    file: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    format: TraceFormat,
    line: u64,
    /// Column indices for CSV formats: time, input, output, model.
    cols: Option<(usize, usize, usize, Option<usize>)>,
    csv: CsvRecord,
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
            csv: CsvRecord::new(),
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
        self.read_record(header.trim_start_matches('\u{feff}'))
            .map_err(|e| self.invalid(format!("cannot read the header: {e}")))?;
        let names: Vec<String> = self
            .csv
            .fields()
            .iter()
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
                let fields = self.csv.fields();
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
            let start = self.line;
            if !matches!(self.format, TraceFormat::Mooncake) {
                if let Err(e) = self.read_record(&text) {
                    return Some(Err(self.bad(BadRowKind::Shape, format!("cannot read: {e}"))));
                }
            }
            // A quoted field may have spanned lines: the row is where it starts.
            let end = std::mem::replace(&mut self.line, start);
            let rec = self.parse_row(&text);
            self.line = end;
            let rec = match rec {
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

impl TraceReader {
    /// Splits the CSV record that starts with `first` (a line without its terminator), reading
    /// more lines while a quoted field is open.
    fn read_record(&mut self, first: &str) -> std::io::Result<()> {
        self.csv.read(first, &mut self.lines, &mut self.line)
    }
}

/// One CSV record split by csv-core (RFC 4180: double quotes, doubled to escape, line breaks
/// inside quotes), fed a line at a time.
pub(crate) struct CsvRecord {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
}

impl CsvRecord {
    pub(crate) fn new() -> CsvRecord {
        CsvRecord {
            core: csv_core::Reader::new(),
            out: vec![0; 256],
            ends: vec![0; 16],
            out_len: 0,
            ends_len: 0,
        }
    }

    fn start(&mut self) {
        self.out_len = 0;
        self.ends_len = 0;
    }

    /// Splits the record that starts with `first` (a line without its terminator), reading more
    /// of `lines` while a quoted field is open and counting them in `line`.
    pub(crate) fn read<I>(
        &mut self,
        first: &str,
        lines: &mut I,
        line: &mut u64,
    ) -> std::io::Result<()>
    where
        I: Iterator<Item = std::io::Result<String>>,
    {
        self.start();
        let mut more = self.feed(first.as_bytes()) && self.feed(b"\n");
        while more {
            match lines.next() {
                Some(next) => {
                    let next = match next {
                        Ok(n) => n,
                        Err(e) => {
                            // The record is abandoned at this line: the next starts afresh,
                            // outside any quote.
                            *line += 1;
                            self.core.reset();
                            return Err(e);
                        }
                    };
                    *line += 1;
                    more = self.feed(next.as_bytes()) && self.feed(b"\n");
                }
                // An unclosed quote at the end of the file: the record ends there.
                None => more = self.feed(b""),
            }
        }
        Ok(())
    }

    /// Parses `input` (empty at the end of the file); false once the record is complete.
    fn feed(&mut self, mut input: &[u8]) -> bool {
        use csv_core::ReadRecordResult as R;
        loop {
            let (res, read, wrote, ended) = self.core.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[read..];
            self.out_len += wrote;
            self.ends_len += ended;
            match res {
                R::InputEmpty => return true,
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record | R::End => return false,
            }
        }
    }

    /// The fields of the record (a field that is not UTF-8 reads as empty and fails its column's
    /// check with the column's name).
    pub(crate) fn fields(&self) -> Vec<&str> {
        let mut start = 0;
        self.ends[..self.ends_len]
            .iter()
            .map(|&end| {
                let f = std::str::from_utf8(&self.out[start..end]).unwrap_or("");
                start = end;
                f
            })
            .collect()
    }
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

pub use crate::domain::time::parse_datetime;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trace::CsvMapping;

    /// A line that is not UTF-8 inside a quoted field ends that row as unreadable; the rows after
    /// it read as if it had never started. The splitter used to stay inside the quote, so every
    /// later row was swallowed, and with a long enough field it panicked on the next row's
    /// fields (found by scripts/fuzz.sh, azure and burstgpt targets).
    #[test]
    fn a_broken_quoted_row_does_not_spill_into_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = b"TIMESTAMP,ContextTokens,GeneratedTokens\n".to_vec();
        text.extend_from_slice(b"2024-03-04 09:00:00.2,\"");
        text.extend_from_slice(&[b'x'; 700]);
        text.extend_from_slice(b"\n\xff\xfe\n");
        text.extend_from_slice(b"2024-03-04 09:00:01.0,520,60\n");
        text.extend_from_slice(b"2024-03-04 09:00:02.0,610,120\n");
        std::fs::write(&path, &text).unwrap();
        let rows: Vec<_> = TraceReader::open(&path, TraceFormat::Azure)
            .unwrap()
            .collect();
        let ok: Vec<(u64, u32, u32)> = rows
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| (r.line, r.input, r.output))
            .collect();
        assert_eq!(ok, vec![(4, 520, 60), (5, 610, 120)]);
        assert_eq!(rows.len(), 3, "{rows:?}");
    }

    #[test]
    fn rows_keep_their_own_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        // Line 3 is blank; the row on line 4 has a quoted model name over two lines; line 7 has
        // a time with an offset (the same instant as line 6) and line 8 a bad token count.
        std::fs::write(
            &path,
            "when,model,in,out\n\
             2024-05-01T10:00:00Z,a,10,1\n\
             \n\
             2024-05-01 10:00:01,\"multi\n\
             line\",20,2\n\
             2024-05-01T10:00:02.5,\"b, c\",30,3\n\
             2024-05-01T12:00:02.5+02:00,d,40,4\n\
             2024-05-01T10:00:03Z,e,x,5\n",
        )
        .unwrap();
        let format = TraceFormat::Csv(CsvMapping {
            time: "when".into(),
            time_unit: TimeUnit::DateTime,
            input: "in".into(),
            output: "out".into(),
            model: Some("model".into()),
        });
        let rows: Vec<_> = TraceReader::open(&path, format).unwrap().collect();
        let ok: Vec<&TraceRecord> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        let t0 = 1_714_557_600.0;
        let got: Vec<(u64, f64, u32, Option<&str>)> = ok
            .iter()
            .map(|r| (r.line, r.time_s - t0, r.input, r.model.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 0.0, 10, Some("a")),
                (4, 1.0, 20, Some("multi\nline")),
                (6, 2.5, 30, Some("b, c")),
                (7, 2.5, 40, Some("d")),
            ]
        );
        let bad = rows.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert_eq!(
            (bad.line, bad.kind),
            (8, BadRowKind::Tokens),
            "{}",
            bad.message
        );
    }

    #[test]
    fn csv_fields_with_quotes_and_line_breaks() {
        let split = |lines: &[&str]| {
            let mut r = CsvRecord::new();
            r.start();
            for l in lines {
                if !(r.feed(l.as_bytes()) && r.feed(b"\n")) {
                    break;
                }
            }
            r.fields().iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(split(&[r#"a,"b,c",d"#]), vec!["a", "b,c", "d"]);
        assert_eq!(split(&[r#""say ""hi""",1"#]), vec![r#"say "hi""#, "1"]);
        assert_eq!(
            split(&[r#"1,"two"#, r#"lines",3"#]),
            vec!["1", "two\nlines", "3"]
        );
        // Longer than the first buffers (256 bytes, 16 fields).
        let long = vec!["x".repeat(100); 40].join(",");
        assert_eq!(split(&[&long]), vec!["x".repeat(100); 40]);
    }
}
