//! GuideLLM benchmark reports (`GenerativeBenchmarksReport`, JSON or YAML; the CSV report is
//! read by `guidellm_csv`): `benchmarks[]`, one per load level of the sweep, each with its
//! per-request rows (`requests.successful[]` / `errored[]`: `time_to_first_token_ms`,
//! `request_latency` s, `start_time` unix s, `prompt_tokens`, `output_tokens`) and its
//! statistics (`metrics.<name>.successful`: mean, median, count, percentiles p001 to p999).
//! The level of a benchmark is its measured mean concurrency
//! (`metrics.request_concurrency.successful.mean`), which every strategy (synchronous,
//! concurrent, constant or Poisson rate, throughput) records. Incomplete requests (cut off when
//! the benchmark ended) are left out.
//!
//! Reports shared in the wild usually keep no rows (`requests` stripped) or a sample of them
//! (`--output-sampling`). When every benchmark keeps all its served requests (as many rows as
//! its TTFT statistics count), the rows are read; otherwise each benchmark's statistics become
//! a [`LevelSummary`] and the rows are not used (a sample would misstate the tails).

use std::path::Path;

use serde_json::Value;

use super::{describe, invalid, number, parse_json, seconds, tokens};
use crate::domain::measurement::{
    LevelKind, LevelSummary, MeasurementFormat, Measurements, Outcome, RequestSample,
};
use crate::error::InputError;

/// GuideLLM's percentile keys and their probabilities (`p50` only in GuideLLM 0.4 and later;
/// earlier reports give the `median` beside them).
pub(super) const PERCENTILES: [(&str, f64); 11] = [
    ("p001", 0.001),
    ("p01", 0.01),
    ("p05", 0.05),
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];
/// The TTFT percentiles a level summary needs: those the lognormal is matched at.
pub(super) const NEEDED: [f64; 7] = [0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        return super::guidellm_csv::read(path, text);
    }
    let root = parse_root(path, text)?;
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
    let mut summaries = Vec::new();
    let mut notes = Vec::new();
    let mut target = None;
    let mut incomplete = 0usize;
    // Whether every benchmark keeps a row for each served request its statistics count.
    let mut complete = true;
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
        let summary = summary(path, &at, bench, level)?;
        let served_before = rows
            .iter()
            .filter(|r: &&RequestSample| r.outcome == Outcome::Ok)
            .count();
        let requests = match bench.get("requests") {
            Some(r) if !r.is_null() => r,
            _ => {
                match summary {
                    Some(s) => {
                        summaries.push(s);
                        complete = false;
                    }
                    None => notes.push(format!(
                        "{at}: neither per-request rows nor TTFT statistics saved; not used"
                    )),
                }
                continue;
            }
        };
        request_rows(path, &at, requests, level, &mut rows)?;
        incomplete += requests
            .get("incomplete")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if let Some(s) = summary {
            let kept = rows.iter().filter(|r| r.outcome == Outcome::Ok).count() - served_before;
            if (kept as u64) < s.served {
                complete = false;
                notes.push(format!(
                    "{at}: {kept} per-request rows kept of {} served requests; its statistics are used",
                    s.served
                ));
            }
            summaries.push(s);
        }
    }
    if !complete {
        rows.clear();
        incomplete = 0;
        if summaries.is_empty() {
            notes.push("no benchmark has TTFT statistics either".into());
        } else {
            notes.push(format!(
                "statistics only: {} (GuideLLM's percentiles of each benchmark), no per-request rows",
                super::level_summaries(summaries.len())
            ));
        }
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
        summaries,
        windows: Vec::new(),
        window_s: 0.0,
        notes,
    })
}

/// The report as a JSON value, from JSON or YAML (by the file's extension).
fn parse_root(path: &Path, text: &str) -> Result<Value, InputError> {
    let yaml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
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
        })
    } else {
        parse_json(path, text)
    }
}

/// A benchmark's per-request rows (`requests.successful[]` and `errored[]`), appended to `rows`.
fn request_rows(
    path: &Path,
    at: &str,
    requests: &Value,
    level: Option<f64>,
    rows: &mut Vec<RequestSample>,
) -> Result<(), InputError> {
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
    Ok(())
}

/// One statistic of a metric's successful requests: `metrics.<metric>.successful.<key>`.
fn stat(
    path: &Path,
    at: &str,
    bench: &Value,
    metric: &str,
    key: &str,
) -> Result<Option<f64>, InputError> {
    match bench.pointer(&format!("/metrics/{metric}/successful")) {
        Some(m) if m.is_object() => {
            number(path, &format!("{at}.metrics.{metric}.successful"), m, key)
        }
        _ => Ok(None),
    }
}

/// A request count (a whole number of 0 or more).
fn count(path: &Path, at: &str, obj: &Value, key: &str) -> Result<Option<u64>, InputError> {
    match number(path, at, obj, key)? {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 => Ok(Some(v as u64)),
        Some(v) => Err(invalid(
            path,
            &format!("{at}.{key}"),
            format!("a request count must be a whole number of 0 or more, got {v}"),
        )),
    }
}

/// A benchmark's statistics as a level summary; `None` when it has no TTFT statistics.
fn summary(
    path: &Path,
    at: &str,
    bench: &Value,
    level: Option<f64>,
) -> Result<Option<LevelSummary>, InputError> {
    let ttft_at = format!("{at}.metrics.time_to_first_token_ms.successful");
    let Some(ttft) = bench
        .pointer("/metrics/time_to_first_token_ms/successful")
        .filter(|v| v.is_object())
    else {
        return Ok(None);
    };
    // Request totals: `request_totals` (GuideLLM 0.3) or `metrics.request_totals` (0.4 and later).
    let (totals, totals_at) = match (
        bench.get("request_totals"),
        bench.pointer("/metrics/request_totals"),
    ) {
        (Some(t), _) if t.is_object() => (Some(t), format!("{at}.request_totals")),
        (_, Some(t)) if t.is_object() => (Some(t), format!("{at}.metrics.request_totals")),
        _ => (None, String::new()),
    };
    let total = |key: &str| -> Result<Option<u64>, InputError> {
        match totals {
            Some(t) => count(path, &totals_at, t, key),
            None => Ok(None),
        }
    };
    let served = match count(path, &ttft_at, ttft, "count")? {
        Some(n) => n,
        None => total("successful")?.ok_or_else(|| {
            invalid(path, &format!("{ttft_at}.count"), "the number of served requests is needed (`count` here, or `request_totals.successful`)".into())
        })?,
    };
    let mut quantiles: Vec<(f64, f64)> = Vec::new();
    let pct_at = format!("{ttft_at}.percentiles");
    if let Some(p) = ttft.get("percentiles").filter(|p| !p.is_null()) {
        for (key, prob) in PERCENTILES {
            if let Some(v) = number(path, &pct_at, p, key)? {
                quantiles.push((prob, v));
            }
        }
    }
    if let Some(m) = number(path, &ttft_at, ttft, "median")? {
        if !quantiles.iter().any(|q| q.0 == 0.5) {
            quantiles.push((0.5, m));
        }
    }
    quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
    if served > 0 {
        check_quantiles(&quantiles)
            .map_err(|(key, message)| invalid(path, &format!("{pct_at}.{key}"), message))?;
    }
    let errored = match total("errored")? {
        Some(n) => n,
        None => bench
            .pointer("/metrics/request_latency/errored/count")
            .and_then(Value::as_f64)
            .map_or(0, |v| v.max(0.0) as u64),
    };
    let e2e = seconds(
        path,
        &format!("{at}.metrics.request_latency.successful"),
        "mean",
        stat(path, at, bench, "request_latency", "mean")?,
    )?;
    Ok(Some(LevelSummary {
        at: at.to_string(),
        level,
        served,
        errored,
        incomplete: total("incomplete")?.unwrap_or(0),
        ttft_ms: quantiles,
        ttft_mean_ms: number(path, &ttft_at, ttft, "mean")?,
        requests_per_s: stat(path, at, bench, "requests_per_second", "mean")?,
        input_mean: stat(path, at, bench, "prompt_token_count", "mean")?,
        output_mean: stat(path, at, bench, "output_token_count", "mean")?,
        e2e_mean_s: e2e,
    }))
}

/// The reported TTFT percentiles of a level with served requests: the ones the fit needs are
/// there, none is negative, and they do not decrease. Err: (the key, what is wrong).
pub(super) fn check_quantiles(q: &[(f64, f64)]) -> Result<(), (String, String)> {
    let key = |p: f64| {
        PERCENTILES
            .iter()
            .find(|k| k.1 == p)
            .map_or("median".to_string(), |k| k.0.to_string())
    };
    for p in NEEDED {
        if !q.iter().any(|x| x.0 == p) {
            return Err((
                key(p),
                "TTFT statistics need the median and the percentiles p10, p25, p75, p90, p95 and p99 (the lognormal is matched at them); not found".into(),
            ));
        }
    }
    for (i, &(p, v)) in q.iter().enumerate() {
        if v < 0.0 {
            return Err((key(p), format!("a TTFT must be 0 ms or more, got {v}")));
        }
        if i > 0 && v < q[i - 1].1 {
            return Err((
                key(p),
                format!(
                    "percentiles must not decrease: {} is {v} ms, below {} at {} ms",
                    key(p),
                    key(q[i - 1].0),
                    q[i - 1].1
                ),
            ));
        }
    }
    Ok(())
}
