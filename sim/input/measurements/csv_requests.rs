//! A generic per-request CSV with a header row. Columns, by name, in any order:
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `ttft_ms` or `ttft_s` | yes | time to first token of a served request (empty when refused) |
//! | `input_tokens` | yes | prompt tokens |
//! | `output_tokens` | no | generated tokens |
//! | `start_s` | no | when the request was sent, seconds (any origin) |
//! | `status` | no | HTTP status: empty or 2xx = served, 429 = throttled, anything else = failed |
//! | `e2e_ms` or `e2e_s` | no | end-to-end latency |
//! | `concurrency` or `rate_rps` | no | the load level of the request: concurrent requests or requests/s offered |
//!
//! Other columns are ignored.

use std::path::Path;

use super::invalid;
use crate::domain::measurement::{
    LevelKind, MeasurementFormat, Measurements, Outcome, RequestSample,
};
use crate::error::InputError;

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| invalid(path, "line 1", format!("cannot read the header row: {e}")))?
        .clone();
    let Columns {
        ttft,
        input,
        output,
        start,
        status,
        e2e,
        level: level_col,
        rate,
    } = columns(path, &header)?;
    let scale = |name: &str| if name.ends_with("_ms") { 0.001 } else { 1.0 };
    let mut requests = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            invalid(
                path,
                &format!("line {line}"),
                format!("not a valid CSV row: {e}"),
            )
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        let field = |c: &Option<(usize, String)>| -> Option<(String, String)> {
            let (i, name) = c.as_ref()?;
            let v = rec.get(*i)?.trim();
            (!v.is_empty()).then(|| (name.clone(), v.to_string()))
        };
        let num = |c: &Option<(usize, String)>| -> Result<Option<f64>, InputError> {
            match field(c) {
                None => Ok(None),
                Some((name, v)) => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                    _ => Err(invalid(
                        path,
                        &at,
                        format!("{name}: must be a number of 0 or more, got \"{v}\""),
                    )),
                },
            }
        };
        let whole = |c: &Option<(usize, String)>| -> Result<Option<u32>, InputError> {
            match num(c)? {
                None => Ok(None),
                Some(x) if x.fract() == 0.0 && x <= u32::MAX as f64 => Ok(Some(x as u32)),
                Some(x) => Err(invalid(
                    path,
                    &at,
                    format!(
                        "{}: a token count must be a whole number, got {x}",
                        c.as_ref().map_or("", |c| c.1.as_str())
                    ),
                )),
            }
        };
        let outcome = match field(&status) {
            None => Outcome::Ok,
            Some((_, s)) => match s.parse::<u16>() {
                Ok(200..=299) => Outcome::Ok,
                Ok(429) => Outcome::Throttled,
                Ok(_) => Outcome::Error,
                Err(_) => {
                    return Err(invalid(
                        path,
                        &at,
                        format!(
                            "status: must be an HTTP status code (200, 429, 500, ...), got \"{s}\""
                        ),
                    ))
                }
            },
        };
        let ttft_s = num(&Some(ttft.clone()))?.map(|x| x * scale(&ttft.1));
        if outcome == Outcome::Ok && ttft_s.is_none() {
            return Err(invalid(
                path,
                &at,
                format!("{}: a served request needs its time to first token", ttft.1),
            ));
        }
        let input_tokens = whole(&Some(input.clone()))?;
        if outcome == Outcome::Ok && input_tokens.is_none() {
            return Err(invalid(
                path,
                &at,
                "input_tokens: a served request needs its prompt tokens".into(),
            ));
        }
        let level = num(&level_col)?;
        if level == Some(0.0) {
            return Err(invalid(
                path,
                &at,
                format!(
                    "{}: a load level must be more than 0",
                    level_col.as_ref().map_or("", |c| c.1.as_str())
                ),
            ));
        }
        let start_s = num(&start)?;
        let e2e_s = num(&e2e)?.map(|x| x * e2e.as_ref().map_or(1.0, |c| scale(&c.1)));
        let output_tokens = whole(&output)?;
        requests.push(RequestSample {
            at: at.clone(),
            start_s,
            ttft_s: if outcome == Outcome::Ok { ttft_s } else { None },
            e2e_s,
            input: input_tokens,
            output: output_tokens,
            outcome,
            level,
        });
    }
    if let Some(t0) = requests.iter().filter_map(|r| r.start_s).reduce(f64::min) {
        for r in &mut requests {
            r.start_s = r.start_s.map(|t| t - t0);
        }
    }
    Ok(Measurements {
        file: path.to_path_buf(),
        format: MeasurementFormat::Csv,
        target: None,
        level_kind: if rate {
            LevelKind::Rate
        } else {
            LevelKind::Concurrency
        },
        requests,
        summaries: Vec::new(),
        windows: Vec::new(),
        window_s: 0.0,
        notes: Vec::new(),
    })
}

type Column = Option<(usize, String)>;

/// Where each known column is (index and name).
struct Columns {
    ttft: (usize, String),
    input: (usize, String),
    output: Column,
    start: Column,
    status: Column,
    e2e: Column,
    level: Column,
    /// The level is a rate (`rate_rps`), not a concurrency.
    rate: bool,
}

fn columns(path: &Path, header: &csv::StringRecord) -> Result<Columns, InputError> {
    let col = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim() == *n))
            .map(|i| (i, header[i].trim().to_string()))
    };
    let ttft = col(&["ttft_ms", "ttft_s"]).ok_or_else(|| {
        invalid(path, "line 1", format!(
            "needs a column ttft_ms (or ttft_s); found {}; the columns are listed in docs/calibrate.md",
            header.iter().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let input = col(&["input_tokens"]).ok_or_else(|| {
        invalid(
            path,
            "line 1",
            format!(
                "needs a column input_tokens; found {}",
                header.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let output = col(&["output_tokens"]);
    let start = col(&["start_s"]);
    let status = col(&["status"]);
    let e2e = col(&["e2e_ms", "e2e_s"]);
    let conc = col(&["concurrency"]);
    let rate = col(&["rate_rps"]);
    if conc.is_some() && rate.is_some() {
        return Err(invalid(
            path,
            "line 1",
            "give the load level as concurrency or as rate_rps, not both".into(),
        ));
    }
    Ok(Columns {
        ttft,
        input,
        output,
        start,
        status,
        e2e,
        rate: rate.is_some(),
        level: conc.or(rate),
    })
}
