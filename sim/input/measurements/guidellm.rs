//! GuideLLM benchmark reports (`GenerativeBenchmarksReport`, JSON or YAML): `benchmarks[]`,
//! one per load level of the sweep, each with its per-request rows
//! (`requests.successful[]` / `errored[]`: `time_to_first_token_ms`, `request_latency` s,
//! `start_time` unix s, `prompt_tokens`, `output_tokens`) and its statistics. The level of
//! a benchmark is its measured mean concurrency (`metrics.request_concurrency.successful.mean`),
//! which every strategy (synchronous, concurrent, constant or Poisson rate, throughput)
//! records. Incomplete requests (cut off when the benchmark ended) are left out.

use std::path::Path;

use serde_json::Value;

use super::{describe, invalid, number, parse_json, seconds, tokens};
use crate::domain::measurement::{
    LevelKind, MeasurementFormat, Measurements, Outcome, RequestSample,
};
use crate::error::InputError;

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    let yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let root: Value = if yaml {
        yaml_serde::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            InputError::Parse {
                file: path.to_path_buf(),
                line,
                column,
                path: ".".into(),
                message: format!("not a GuideLLM report in YAML: {e}"),
            }
        })?
    } else {
        parse_json(path, text)?
    };
    let benchmarks = root
        .get("benchmarks")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            invalid(
                path,
                "benchmarks",
                "a GuideLLM report has a list `benchmarks` (one per load level); not found".into(),
            )
        })?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut target = None;
    let mut incomplete = 0usize;
    for (b, bench) in benchmarks.iter().enumerate() {
        let at = format!("benchmarks[{b}]");
        if target.is_none() {
            target = bench
                .pointer("/worker/backend_model")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let conc_at = format!("{at}.metrics.request_concurrency.successful");
        let level = match bench.pointer("/metrics/request_concurrency/successful") {
            Some(m) => number(path, &conc_at, m, "mean")?,
            None => None,
        };
        let Some(requests) = bench.get("requests") else {
            notes.push(format!("{at}: no per-request rows saved; not used"));
            continue;
        };
        for (kind, outcome) in [("successful", Outcome::Ok), ("errored", Outcome::Error)] {
            let list = match requests.get(kind) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(a)) => a,
                Some(other) => {
                    return Err(invalid(
                        path,
                        &format!("{at}.requests.{kind}"),
                        format!("must be a list of requests, got {}", describe(other)),
                    ))
                }
            };
            for (i, r) in list.iter().enumerate() {
                let rat = format!("{at}.requests.{kind}[{i}]");
                if !r.is_object() {
                    return Err(invalid(
                        path,
                        &rat,
                        format!("must be an object (one request), got {}", describe(r)),
                    ));
                }
                let ttft = seconds(
                    path,
                    &rat,
                    "time_to_first_token_ms",
                    number(path, &rat, r, "time_to_first_token_ms")?.map(|ms| ms / 1000.0),
                )?;
                if outcome == Outcome::Ok && ttft.is_none() {
                    return Err(invalid(
                        path,
                        &format!("{rat}.time_to_first_token_ms"),
                        "a successful request needs its time to first token (ms)".into(),
                    ));
                }
                let throttled = outcome == Outcome::Error
                    && r.get("error")
                        .and_then(Value::as_str)
                        .is_some_and(|e| e.contains("429"));
                rows.push(RequestSample {
                    start_s: number(path, &rat, r, "start_time")?,
                    ttft_s: if outcome == Outcome::Ok { ttft } else { None },
                    e2e_s: seconds(
                        path,
                        &rat,
                        "request_latency",
                        number(path, &rat, r, "request_latency")?,
                    )?,
                    input: tokens(
                        path,
                        &rat,
                        "prompt_tokens",
                        number(path, &rat, r, "prompt_tokens")?,
                    )?,
                    output: tokens(
                        path,
                        &rat,
                        "output_tokens",
                        number(path, &rat, r, "output_tokens")?,
                    )?,
                    outcome: if throttled {
                        Outcome::Throttled
                    } else {
                        outcome
                    },
                    level,
                    at: rat,
                });
            }
        }
        incomplete += requests
            .get("incomplete")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
    }
    if incomplete > 0 {
        notes.push(format!(
            "{incomplete} incomplete requests (cut off at the end of a benchmark) left out"
        ));
    }
    // Start times relative to the first request of the file.
    if let Some(t0) = rows.iter().filter_map(|r| r.start_s).reduce(f64::min) {
        for r in &mut rows {
            r.start_s = r.start_s.map(|t| t - t0);
        }
    }
    Ok(Measurements {
        file: path.to_path_buf(),
        format: MeasurementFormat::Guidellm,
        target,
        level_kind: LevelKind::Concurrency,
        requests: rows,
        windows: Vec::new(),
        window_s: 0.0,
        notes,
    })
}
