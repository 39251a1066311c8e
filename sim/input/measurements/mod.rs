//! Load-test measurement readers for `llmcap calibrate`: LLMPerf per-request results,
//! GuideLLM benchmark reports (JSON or YAML, per-request rows or per-benchmark statistics,
//! and its CSV report of statistics), azure-openai-benchmark logs (its
//! human-readable output or `--output-format jsonl`) and a generic per-request CSV.
//!
//! Each reader returns [`Measurements`] (domain types). A file that cannot be read as its
//! format is an [`InputError`] naming the file and the line (or the JSON path) and what
//! was expected; nothing is skipped silently: rows a reader leaves out are counted in
//! `notes`. Measurement files are a few megabytes, so they are read whole.

mod azure_benchmark;
mod csv_requests;
mod guidellm;
mod guidellm_csv;
mod llmperf;

use std::path::Path;

use serde_json::Value;

use crate::domain::measurement::{MeasurementFormat, Measurements};
use crate::error::InputError;

/// The largest measurement file read, bytes (a load test of a million requests in LLMPerf's
/// JSON is about 300 MB; the public ones are under 5 MB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Reads one measurement file.
pub fn read(path: &Path, format: MeasurementFormat) -> Result<Measurements, InputError> {
    let text = read_text(path)?;
    match format {
        MeasurementFormat::Llmperf => llmperf::read(path, &text),
        MeasurementFormat::Guidellm => guidellm::read(path, &text),
        MeasurementFormat::AzureBenchmark => azure_benchmark::read(path, &text),
        MeasurementFormat::Csv => csv_requests::read(path, &text),
    }
}

fn read_text(path: &Path) -> Result<String, InputError> {
    let read_err = |source| InputError::Read {
        file: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(invalid(
            path,
            ".",
            format!(
                "the file is {} bytes; measurement files of at most {MAX_FILE_BYTES} bytes are read",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    String::from_utf8(bytes).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        invalid(
            path,
            &format!("line {line}"),
            "not UTF-8 text; a measurement file is JSON, YAML, CSV or a text log".into(),
        )
    })
}

/// "1 level summary", "3 level summaries".
fn level_summaries(n: usize) -> String {
    if n == 1 {
        "1 level summary".into()
    } else {
        format!("{n} level summaries")
    }
}

fn invalid(path: &Path, key: &str, message: String) -> InputError {
    InputError::Invalid {
        file: path.to_path_buf(),
        path: key.to_string(),
        message,
    }
}

/// JSON text as a value, a syntax error with its line and column.
fn parse_json(path: &Path, text: &str) -> Result<Value, InputError> {
    serde_json::from_str(text).map_err(|e| InputError::Parse {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        path: ".".into(),
        message: format!("not valid JSON: {e}"),
    })
}

/// What a JSON value is, for messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("\"{}\"", s.chars().take(40).collect::<String>()),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A number field of an object: `None` when absent or null; an error when it is not a
/// finite number (numbers written as strings, as some tools do, are read).
fn number(path: &Path, at: &str, obj: &Value, key: &str) -> Result<Option<f64>, InputError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(invalid(
                path,
                &format!("{at}.{key}"),
                format!("must be a finite number, got {n}"),
            )),
        },
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(invalid(
                path,
                &format!("{at}.{key}"),
                format!("must be a number, got \"{s}\""),
            )),
        },
        Some(other) => Err(invalid(
            path,
            &format!("{at}.{key}"),
            format!("must be a number, got {}", describe(other)),
        )),
    }
}

/// A latency (seconds, finite and not negative).
fn seconds(path: &Path, at: &str, key: &str, x: Option<f64>) -> Result<Option<f64>, InputError> {
    match x {
        Some(v) if v < 0.0 => Err(invalid(
            path,
            &format!("{at}.{key}"),
            format!("a latency must be 0 or more, got {v}"),
        )),
        other => Ok(other),
    }
}

/// A token count: a whole number from 0 to 2^32 - 1.
fn tokens(path: &Path, at: &str, key: &str, x: Option<f64>) -> Result<Option<u32>, InputError> {
    match x {
        None => Ok(None),
        Some(v) if v >= 0.0 && v <= u32::MAX as f64 && v.fract() == 0.0 => Ok(Some(v as u32)),
        Some(v) => Err(invalid(
            path,
            &format!("{at}.{key}"),
            format!(
                "a token count must be a whole number from 0 to {}, got {v}",
                u32::MAX
            ),
        )),
    }
}

#[cfg(test)]
mod tests;
