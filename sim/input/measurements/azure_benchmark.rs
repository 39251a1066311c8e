//! azure-openai-benchmark output (Azure/azure-openai-benchmark, `benchmark/statsaggregator.py`):
//! one statistics line per dump interval (a second), each over the requests that started in
//! the last `aggregation_window` seconds (60 by default). Two layouts are read:
//!
//! - the human-readable log: `2026-03-02 10:13:50 INFO rpm: 9.0 processing: 1 completed: 14
//!   failures: 3 throttled: 3 requests: 14 tpm: 13500.0 ttft_avg: 0.64 ttft_95th: 0.83 ...
//!   e2e_avg: ... util_avg: 97.5% util_95th: 110.2%` (made-up values; `n/a` while a window is empty), with
//!   the run's `Load test args: {json}` line (clients, rate, aggregation_window);
//! - `--output-format jsonl`: one JSON object per line (`run_seconds`, `rpm`, `processing`,
//!   `completed`, `failures`, `throttled`, `requests`, `tpm.{context,gen,total}`,
//!   `ttft.{avg,95th}`, `e2e.{avg,95th}`, `util.{avg,95th}` as `"52.1%"`).
//!
//! Other lines (log messages, warnings, a Python traceback at the end) are skipped. The
//! number of clients comes from the args line, else from a `clients=N` in the file name.

use std::path::Path;

use serde_json::Value;

use super::{invalid, number};
use crate::domain::measurement::{LevelKind, MeasurementFormat, Measurements, WindowSample};
use crate::error::InputError;
use crate::input::trace::parse_datetime;

/// The tool's default aggregation window, seconds.
const DEFAULT_WINDOW_S: f64 = 60.0;

#[derive(Default)]
struct Args {
    clients: Option<f64>,
    rate: Option<f64>,
    window: Option<f64>,
    deployment: Option<String>,
    context_tokens: Option<f64>,
}

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    let mut args = Args::default();
    let mut windows = Vec::new();
    let mut start: Option<f64> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = (i + 1) as u64;
        let at = format!("line {line}");
        let l = raw.trim();
        if let Some(pos) = l.find("Load test args:") {
            let json = l[pos + "Load test args:".len()..].trim();
            let v: Value = serde_json::from_str(json).map_err(|e| {
                invalid(
                    path,
                    &at,
                    format!("the `Load test args:` line is not valid JSON: {e}"),
                )
            })?;
            args.clients = number(path, &at, &v, "clients")?;
            args.rate = number(path, &at, &v, "rate")?;
            args.window = number(path, &at, &v, "aggregation_window")?;
            args.context_tokens = number(path, &at, &v, "context_tokens")?;
            args.deployment = v
                .get("deployment")
                .and_then(Value::as_str)
                .map(str::to_string);
        } else if l.contains("starting load") {
            start = timestamp(l);
        } else if l.starts_with('{') {
            windows.push(json_line(path, &at, line, l)?);
        } else if l.contains("rpm:") && l.contains("ttft_avg") {
            let t = timestamp(l).ok_or_else(|| {
                invalid(
                    path,
                    &at,
                    "a statistics line starts with its time, YYYY-MM-DD HH:MM:SS".into(),
                )
            })?;
            let t0 = *start.get_or_insert(t - 1.0);
            windows.push(text_line(path, &at, line, l, t - t0)?);
        }
    }
    if windows.is_empty() {
        return Err(invalid(
            path,
            ".",
            "no statistics lines found: an azure-openai-benchmark log has lines with `rpm: ... ttft_avg: ...` (or JSON lines with run_seconds and ttft)".into(),
        ));
    }
    let mut notes = Vec::new();
    let clients = match args.clients.or_else(|| clients_from_name(path)) {
        Some(c) => c,
        None => {
            let most = windows.iter().map(|w| w.processing).fold(0.0, f64::max);
            notes.push(format!("the number of clients is not stated (no `Load test args` line, no clients=N in the file name); the most requests in flight, {most}, is used"));
            most
        }
    };
    for w in &mut windows {
        w.clients = clients;
        w.rate_rpm = args.rate;
        if w.context_tokens.is_none() {
            w.context_tokens = args.context_tokens;
        }
    }
    Ok(Measurements {
        file: path.to_path_buf(),
        format: MeasurementFormat::AzureBenchmark,
        target: args.deployment,
        level_kind: LevelKind::Concurrency,
        requests: Vec::new(),
        summaries: Vec::new(),
        windows,
        window_s: args.window.unwrap_or(DEFAULT_WINDOW_S),
        notes,
    })
}

fn timestamp(l: &str) -> Option<f64> {
    let mut it = l.split_whitespace();
    let (d, t) = (it.next()?, it.next()?);
    parse_datetime(&format!("{d} {t}"))
}

fn clients_from_name(path: &Path) -> Option<f64> {
    let name = path.file_name()?.to_str()?;
    let rest = &name[name.find("clients=")? + "clients=".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A value of the log: a number, a percentage, or `n/a` (None).
fn value(path: &Path, at: &str, key: &str, s: &str) -> Result<Option<f64>, InputError> {
    if s == "n/a" {
        return Ok(None);
    }
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
        _ => Err(invalid(
            path,
            at,
            format!("{key}: must be a number of 0 or more or n/a, got \"{s}\""),
        )),
    }
}

fn count(path: &Path, at: &str, key: &str, x: Option<f64>) -> Result<u64, InputError> {
    match x {
        Some(v) if v.fract() == 0.0 && (0.0..1e15).contains(&v) => Ok(v as u64),
        None => Ok(0),
        Some(v) => Err(invalid(
            path,
            at,
            format!("{key}: must be a whole count, got {v}"),
        )),
    }
}

fn text_line(
    path: &Path,
    at: &str,
    line: u64,
    l: &str,
    run_s: f64,
) -> Result<WindowSample, InputError> {
    let words: Vec<&str> = l.split_whitespace().collect();
    let get = |key: &str| -> Result<Option<f64>, InputError> {
        // `key:` then its value; some keys (context_tpr_avg, gen_tpr_avg, avg_gen_tokens) have no colon.
        match words.iter().position(|w| w.trim_end_matches(':') == key) {
            Some(p) if p + 1 < words.len() => value(path, at, key, words[p + 1]),
            _ => Ok(None),
        }
    };
    let need = |key: &str| -> Result<Option<f64>, InputError> {
        if !words.iter().any(|w| w.trim_end_matches(':') == key) {
            return Err(invalid(
                path,
                at,
                format!("a statistics line needs `{key}:`"),
            ));
        }
        get(key)
    };
    Ok(WindowSample {
        line,
        run_s,
        clients: 0.0,
        rate_rpm: None,
        rpm: need("rpm")?,
        processing: need("processing")?.unwrap_or(0.0),
        requests: count(path, at, "requests", need("requests")?)?,
        failures: count(path, at, "failures", need("failures")?)?,
        throttled: count(path, at, "throttled", need("throttled")?)?,
        tpm: get("tpm")?,
        context_tokens: get("context_tpr_avg")?,
        gen_tokens: match get("gen_tpr_avg")? {
            Some(g) => Some(g),
            None => get("avg_gen_tokens")?,
        },
        ttft_avg_s: need("ttft_avg")?,
        ttft_p95_s: get("ttft_95th")?,
        e2e_avg_s: get("e2e_avg")?,
        e2e_p95_s: get("e2e_95th")?,
        util_avg_pct: get("util_avg")?,
        util_p95_pct: get("util_95th")?,
    })
}

fn json_line(path: &Path, at: &str, line: u64, l: &str) -> Result<WindowSample, InputError> {
    let v: Value = serde_json::from_str(l)
        .map_err(|e| invalid(path, at, format!("not a valid JSON statistics line: {e}")))?;
    let pair = |group: &str, key: &str| -> Result<Option<f64>, InputError> {
        match v.get(group) {
            None | Some(Value::Null) => Ok(None),
            Some(g) => match g.get(key) {
                Some(Value::String(s)) => value(path, at, &format!("{group}.{key}"), s),
                _ => number(path, at, g, key),
            },
        }
    };
    let scalar = |key: &str| -> Result<Option<f64>, InputError> {
        match v.get(key) {
            Some(Value::String(s)) => value(path, at, key, s),
            _ => number(path, at, &v, key),
        }
    };
    let run_s = scalar("run_seconds")?
        .ok_or_else(|| invalid(path, at, "a JSON statistics line needs run_seconds".into()))?;
    Ok(WindowSample {
        line,
        run_s,
        clients: 0.0,
        rate_rpm: None,
        rpm: scalar("rpm")?,
        processing: scalar("processing")?.unwrap_or(0.0),
        requests: count(path, at, "requests", scalar("requests")?)?,
        failures: count(path, at, "failures", scalar("failures")?)?,
        throttled: count(path, at, "throttled", scalar("throttled")?)?,
        tpm: pair("tpm", "total")?,
        context_tokens: match (pair("tpm", "context")?, scalar("rpm")?) {
            (Some(c), Some(r)) if r > 0.0 => Some(c / r),
            _ => None,
        },
        gen_tokens: pair("gen_tokens", "avg")?,
        ttft_avg_s: pair("ttft", "avg")?,
        ttft_p95_s: pair("ttft", "95th")?,
        e2e_avg_s: pair("e2e", "avg")?,
        e2e_p95_s: pair("e2e", "95th")?,
        util_avg_pct: pair("util", "avg")?,
        util_p95_pct: pair("util", "95th")?,
    })
}
