//! GuideLLM's CSV report (`--outputs benchmarks.csv`): one row per benchmark (load level) of
//! statistics only, no per-request rows. Two layouts, both written by GuideLLM's `csv` output:
//!
//! - GuideLLM 0.3 (`benchmark/output.py`): one header row, a column per status, metric and
//!   statistic, e.g. `Successful Time to first token ms median`; the percentiles are one cell
//!   holding a list, `[min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]`.
//! - GuideLLM 0.4 and later (`benchmark/outputs/csv.py`): three header rows (group, field,
//!   statistic), e.g. `Time to First Token` / `Successful ms` / `Median`; read here as the
//!   three cells joined by ` / `. The percentiles cell holds the same list.
//!
//! [`COLUMNS`] lists the columns read; every other column is ignored. Each data row becomes a
//! [`LevelSummary`] at the row's mean concurrency.

use std::path::Path;

use super::guidellm::check_quantiles;
use super::invalid;
use crate::domain::measurement::{LevelKind, LevelSummary, MeasurementFormat, Measurements};
use crate::error::InputError;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Served,
    Errored,
    Incomplete,
    TtftMean,
    TtftMedian,
    TtftPercentiles,
    Concurrency,
    RequestsPerS,
    InputMean,
    OutputMean,
    LatencyMean,
}

/// (role, required, GuideLLM 0.3 header, GuideLLM 0.4+ header rows joined by " / ").
const COLUMNS: [(Role, bool, &str, &str); 11] = [
    (
        Role::Served,
        true,
        "Successful Requests",
        "Request Counts / Successful",
    ),
    (
        Role::Errored,
        false,
        "Errored Requests",
        "Request Counts / Errored",
    ),
    (
        Role::Incomplete,
        false,
        "Incomplete Requests",
        "Request Counts / Incomplete",
    ),
    (
        Role::TtftMean,
        false,
        "Successful Time to first token ms mean",
        "Time to First Token / Successful ms / Mean",
    ),
    (
        Role::TtftMedian,
        true,
        "Successful Time to first token ms median",
        "Time to First Token / Successful ms / Median",
    ),
    (
        Role::TtftPercentiles,
        true,
        "Successful Time to first token ms [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]",
        "Time to First Token / Successful ms / Percentiles",
    ),
    (
        Role::Concurrency,
        false,
        "Successful Request concurrency mean",
        "Server Throughput / Successful Concurrency / Mean",
    ),
    (
        Role::RequestsPerS,
        false,
        "Successful Requests per second mean",
        "Server Throughput / Successful Requests/Sec / Mean",
    ),
    (
        Role::InputMean,
        false,
        "Successful Prompt token count mean",
        "Token Metrics / Successful Input Tokens / Mean",
    ),
    (
        Role::OutputMean,
        false,
        "Successful Output token count mean",
        "Token Metrics / Successful Output Tokens / Mean",
    ),
    (
        Role::LatencyMean,
        false,
        "Successful Request latency mean",
        "Request Latency / Successful Sec / Mean",
    ),
];

/// The probabilities of the percentiles list, min and max left out (`None`).
const LIST: [Option<f64>; 11] = [
    None,
    Some(0.001),
    Some(0.01),
    Some(0.05),
    Some(0.10),
    Some(0.25),
    Some(0.75),
    Some(0.90),
    Some(0.95),
    Some(0.99),
    None,
];

/// The group name that marks GuideLLM 0.4's three header rows.
const MULTIROW_MARK: &str = "Time to First Token";
const MULTIROW_HEADER_ROWS: usize = 3;

pub(super) fn read(path: &Path, text: &str) -> Result<Measurements, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for rec in rdr.records() {
        records.push(rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            invalid(
                path,
                &format!("line {line}"),
                format!("not a valid CSV row: {e}"),
            )
        })?);
    }
    let first = records.first().ok_or_else(|| {
        invalid(
            path,
            "line 1",
            "empty; a GuideLLM CSV report has a header and one row per benchmark".into(),
        )
    })?;
    let width = first.len();
    let (multirow, header_rows, cols) = header(path, &records)?;
    let mut summaries = Vec::new();
    let mut notes = Vec::new();
    for rec in &records[header_rows..] {
        let line = rec.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        if rec.len() != width {
            return Err(invalid(path, &at, format!("has {} fields, the header has {width}; the columns of this row do not line up with the header", rec.len())));
        }
        let cell = |role: Role| -> Option<(&str, &str)> {
            let (_, j, name) = cols.iter().find(|c| c.0 == role)?;
            let v = rec.get(*j)?.trim();
            (!v.is_empty()).then_some((*name, v))
        };
        let num = |role: Role| -> Result<Option<f64>, InputError> {
            match cell(role) {
                None => Ok(None),
                Some((name, v)) => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
                    _ => Err(invalid(
                        path,
                        &at,
                        format!("column `{name}`: must be a number of 0 or more, got \"{v}\""),
                    )),
                },
            }
        };
        let whole = |role: Role| -> Result<u64, InputError> {
            match num(role)? {
                None => Ok(0),
                Some(x) if x.fract() == 0.0 => Ok(x as u64),
                Some(x) => Err(invalid(
                    path,
                    &at,
                    format!(
                        "column `{}`: a request count must be a whole number, got {x}",
                        cell(role).map_or("", |c| c.0)
                    ),
                )),
            }
        };
        let served = whole(Role::Served)?;
        let Some(median) = num(Role::TtftMedian)? else {
            notes.push(format!(
                "{at}: no TTFT statistics (no served request); not used"
            ));
            continue;
        };
        let mut quantiles = vec![(0.5, median)];
        if let Some((name, v)) = cell(Role::TtftPercentiles) {
            let list = parse_list(v).ok_or_else(|| {
                invalid(path, &at, format!("column `{name}`: must be a list of 11 numbers [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max] (ms), got \"{}\"", v.chars().take(80).collect::<String>()))
            })?;
            quantiles.extend(LIST.iter().zip(list).filter_map(|(p, v)| Some(((*p)?, v))));
        }
        quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
        if served > 0 {
            check_quantiles(&quantiles)
                .map_err(|(key, message)| invalid(path, &at, format!("TTFT {key}: {message}")))?;
        }
        summaries.push(LevelSummary {
            at: at.clone(),
            level: num(Role::Concurrency)?.filter(|c| *c > 0.0),
            served,
            errored: whole(Role::Errored)?,
            incomplete: whole(Role::Incomplete)?,
            ttft_ms: quantiles,
            ttft_mean_ms: num(Role::TtftMean)?,
            requests_per_s: num(Role::RequestsPerS)?,
            input_mean: num(Role::InputMean)?,
            output_mean: num(Role::OutputMean)?,
            e2e_mean_s: num(Role::LatencyMean)?,
        });
    }
    notes.push(format!(
        "GuideLLM CSV report ({}): {}, statistics only",
        if multirow { "0.4 layout" } else { "0.3 layout" },
        super::level_summaries(summaries.len())
    ));
    Ok(Measurements {
        file: path.to_path_buf(),
        format: MeasurementFormat::Guidellm,
        target: None,
        level_kind: LevelKind::Concurrency,
        requests: Vec::new(),
        summaries,
        windows: Vec::new(),
        window_s: 0.0,
        notes,
    })
}

/// The header: whether it is GuideLLM 0.4's three rows, how many rows it takes, and the
/// columns read as (role, index, name).
type Header = (bool, usize, Vec<(Role, usize, &'static str)>);

fn header(path: &Path, records: &[csv::StringRecord]) -> Result<Header, InputError> {
    let first = &records[0];
    let width = first.len();
    let multirow = first.iter().any(|c| c.trim() == MULTIROW_MARK);
    let header_rows = if multirow { MULTIROW_HEADER_ROWS } else { 1 };
    if records.len() < header_rows {
        return Err(invalid(
            path,
            "line 1",
            format!(
                "{header_rows} header rows expected (GuideLLM 0.4 layout), found {}",
                records.len()
            ),
        ));
    }
    let names: Vec<String> = (0..width)
        .map(|j| {
            records[..header_rows]
                .iter()
                .filter_map(|r| r.get(j).map(str::trim).filter(|c| !c.is_empty()))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let mut cols: Vec<(Role, usize, &'static str)> = Vec::new();
    for (role, required, old, new) in COLUMNS {
        let name = if multirow { new } else { old };
        match names.iter().position(|n| n == name) {
            Some(j) => cols.push((role, j, name)),
            None if required => {
                return Err(invalid(
                    path,
                    "line 1",
                    format!(
                        "no column `{name}`; a GuideLLM CSV report ({}) has it{}",
                        if multirow {
                            "GuideLLM 0.4 or later, three header rows"
                        } else {
                            "GuideLLM 0.3, one header row"
                        },
                        if names.iter().any(|n| n == "ttft_ms" || n == "ttft_s") {
                            " (a per-request CSV is read with --format csv)"
                        } else {
                            ""
                        }
                    ),
                ))
            }
            None => {}
        }
    }
    Ok((multirow, header_rows, cols))
}

/// `[a, b, ...]` (Python's list syntax, as GuideLLM writes it) with 11 finite numbers.
fn parse_list(v: &str) -> Option<Vec<f64>> {
    let inner = v.trim().strip_prefix('[')?.strip_suffix(']')?;
    let xs: Vec<f64> = inner
        .split(',')
        .map(|x| x.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect::<Option<_>>()?;
    (xs.len() == LIST.len()).then_some(xs)
}
