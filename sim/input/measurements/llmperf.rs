//! LLMPerf per-request results: a JSON array with one object per request, in completion
//! order (`ttft_s`, `end_to_end_latency_s`, `number_input_tokens`, `number_output_tokens`,
//! `error_code`: null when served, 429 when throttled, -100 when LLMPerf's own check found
//! too few output tokens, any other code a failure). There are no start times. The number
//! of concurrent requests is in the run's summary file, which LLMPerf writes next to it
//! (`*_individual_responses.json` / `*_summary.json`, or the leaderboard's
//! `raw_data_individual_*.json` / `raw_data_summary_*.json`); without it the level is unknown.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{describe, invalid, number, parse_json, seconds, tokens};
use crate::domain::measurement::{
    LevelKind, MeasurementFormat, Measurements, Outcome, RequestSample,
};
use crate::error::InputError;

/// LLMPerf's code for "Output too few tokens": a client-side check on a response that was
/// served; its TTFT is a real measurement.
const TOO_FEW_TOKENS: i64 = -100;

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    let root = parse_json(path, text)?;
    let rows = root.as_array().ok_or_else(|| {
        invalid(
            path,
            ".",
            format!(
                "an LLMPerf per-request file is a JSON list of requests, got {} (is this the summary file?)",
                describe(&root)
            ),
        )
    })?;
    let mut notes = Vec::new();
    let (level, target) = match summary_path(path) {
        Some(s) => match summary(&s) {
            Some((c, model)) => {
                notes.push(format!(
                    "{c} concurrent requests, from {}",
                    s.file_name().unwrap_or_default().to_string_lossy()
                ));
                (Some(c), model)
            }
            None => (None, None),
        },
        None => (None, None),
    };
    if level.is_none() {
        notes.push(
            "no LLMPerf summary file next to it: the number of concurrent requests is unknown"
                .into(),
        );
    }
    let mut requests = Vec::with_capacity(rows.len());
    let mut short = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let at = format!("[{i}]");
        if !row.is_object() {
            return Err(invalid(
                path,
                &at,
                format!("must be an object (one request), got {}", describe(row)),
            ));
        }
        let code = match number(path, &at, row, "error_code")? {
            None => None,
            Some(c) if c.fract() == 0.0 => Some(c as i64),
            Some(c) => {
                return Err(invalid(
                    path,
                    &format!("{at}.error_code"),
                    format!("must be a whole number or null, got {c}"),
                ))
            }
        };
        let outcome = match code {
            None => Outcome::Ok,
            Some(TOO_FEW_TOKENS) => {
                short += 1;
                Outcome::Ok
            }
            Some(429) => Outcome::Throttled,
            Some(_) => Outcome::Error,
        };
        let ttft = seconds(path, &at, "ttft_s", number(path, &at, row, "ttft_s")?)?;
        if outcome == Outcome::Ok && ttft.is_none() {
            return Err(invalid(
                path,
                &format!("{at}.ttft_s"),
                "a served request (error_code null) needs its ttft_s, in seconds".into(),
            ));
        }
        requests.push(RequestSample {
            at,
            start_s: None,
            ttft_s: if outcome == Outcome::Ok { ttft } else { None },
            e2e_s: seconds(
                path,
                &format!("[{i}]"),
                "end_to_end_latency_s",
                number(path, &format!("[{i}]"), row, "end_to_end_latency_s")?,
            )?,
            input: tokens(
                path,
                &format!("[{i}]"),
                "number_input_tokens",
                number(path, &format!("[{i}]"), row, "number_input_tokens")?,
            )?,
            output: tokens(
                path,
                &format!("[{i}]"),
                "number_output_tokens",
                number(path, &format!("[{i}]"), row, "number_output_tokens")?,
            )?,
            outcome,
            level,
        });
    }
    if short > 0 {
        notes.push(format!(
            "{short} requests LLMPerf marked \"too few output tokens\" (error -100) are counted as served: the service answered them and their TTFT was measured (LLMPerf's own summary leaves them out)"
        ));
    }
    Ok(Measurements {
        file: path.to_path_buf(),
        format: MeasurementFormat::Llmperf,
        target,
        level_kind: LevelKind::Concurrency,
        requests,
        summaries: Vec::new(),
        windows: Vec::new(),
        window_s: 0.0,
        notes,
    })
}

/// Where LLMPerf writes the run's summary next to a per-request file.
fn summary_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let other = if name.contains("individual_responses") {
        name.replace("individual_responses", "summary")
    } else if name.contains("raw_data_individual_") {
        name.replace("raw_data_individual_", "raw_data_summary_")
    } else {
        return None;
    };
    let p = path.with_file_name(other);
    p.is_file().then_some(p)
}

/// The concurrency and model of a summary file; `None` when it does not state them.
fn summary(path: &Path) -> Option<(f64, Option<String>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let c = v
        .get("num_concurrent_requests")?
        .as_f64()
        .filter(|c| *c >= 1.0)?;
    let model = v.get("model").and_then(|m| m.as_str()).map(str::to_string);
    Some((c, model))
}
