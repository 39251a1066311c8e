//! Usage exports: requests and token totals per time grain (a minute, five minutes, an hour), as
//! the platforms' monitoring exports them, for `llmcap fit --format azure-monitor|cloudwatch|
//! per-minute`. A row is a bin of traffic, not a request.
//!
//! - `azure-monitor`: the JSON of `az monitor metrics list` (the body of Azure Monitor's REST
//!   "Metrics - List", api-version 2023-10-01: `value[].name.value`,
//!   `value[].timeseries[].data[].timeStamp` and `.total` / `.average`). Metrics read:
//!   `AzureOpenAIRequests` (else `Requests`), `ProcessedPromptTokens`, `GeneratedTokens`, all as
//!   `total`; `ProvisionedManagedUtilizationV2` as `average` (reported, not fitted). Time series
//!   split by a dimension are added up.
//! - `cloudwatch`: the JSON of `aws cloudwatch get-metric-data` (`MetricDataResults[]` with
//!   `Id`, `Label`, `Timestamps`, `Values`, `StatusCode`); pages appended one after the other
//!   in one file are read in turn. Each result is named by its `Id` or `Label`: `Invocations`,
//!   `InputTokenCount`, `OutputTokenCount` (Sum), `InvocationLatency` (Average, reported).
//! - `per-minute`: a CSV with a time column and the requests, input tokens and output tokens of
//!   each bin (column names given, defaults `time,requests,input_tokens,output_tokens`).
//!
//! Missing points count as 0 (both Azure Monitor and CloudWatch leave out a grain without data).
//! The same bin twice: an identical repeat is dropped and counted; a different one is an error
//! naming both places. Bad values are errors naming the file and the line (CSV) or the JSON path.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use crate::domain::time::{parse_datetime, utc};
use crate::domain::trace::TimeUnit;
use crate::error::InputError;
use crate::input::trace::{parse_time, CsvRecord};

/// The formats `llmcap fit` reads as usage exports.
pub const USAGE_FORMATS: &[&str] = &["azure-monitor", "cloudwatch", "per-minute"];

/// How a usage export is laid out.
#[derive(Debug, Clone, PartialEq)]
pub enum UsageFormat {
    AzureMonitor,
    CloudWatch,
    PerMinute(PerMinuteColumns),
}

impl UsageFormat {
    pub fn parse(name: &str) -> Option<UsageFormat> {
        Some(match name {
            "azure-monitor" => UsageFormat::AzureMonitor,
            "cloudwatch" => UsageFormat::CloudWatch,
            "per-minute" => UsageFormat::PerMinute(PerMinuteColumns::default()),
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            UsageFormat::AzureMonitor => "azure-monitor",
            UsageFormat::CloudWatch => "cloudwatch",
            UsageFormat::PerMinute(_) => "per-minute",
        }
    }
}

/// The columns of a per-minute CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct PerMinuteColumns {
    pub time: String,
    /// `datetime` (UTC unless an offset is given), or s / ms / us since 1970-01-01 UTC.
    pub time_unit: TimeUnit,
    pub requests: String,
    pub input: String,
    pub output: String,
}

impl Default for PerMinuteColumns {
    fn default() -> Self {
        PerMinuteColumns {
            time: "time".into(),
            time_unit: TimeUnit::DateTime,
            requests: "requests".into(),
            input: "input_tokens".into(),
            output: "output_tokens".into(),
        }
    }
}

/// One bin of an export: what was served from `time_s` for one grain.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    /// Start of the bin, whole seconds since 1970-01-01 UTC.
    pub time_s: i64,
    pub requests: u64,
    /// Token totals of the bin.
    pub input: f64,
    pub output: f64,
}

/// A metric the export holds that describes the service rather than the traffic (utilization,
/// latency): summarised over its points, not fitted.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesSummary {
    pub metric: String,
    pub unit: &'static str,
    pub points: usize,
    pub mean: f64,
    pub p95: f64,
    pub max: f64,
}

/// A usage export, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageExport {
    /// One per bin present, by time.
    pub rows: Vec<UsageRow>,
    /// Seconds between bins: the greatest common divisor of the gaps between rows.
    pub grain_s: u32,
    /// Identical repeats of a bin that were dropped.
    pub duplicates: u64,
    pub observed: Vec<SeriesSummary>,
    /// What the reader noticed (partial pages, metrics left out).
    pub notes: Vec<String>,
}

/// The traffic metrics of a bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Requests,
    Input,
    Output,
}

/// Values of one metric by bin start, with where each came from.
#[derive(Default)]
struct Series {
    points: BTreeMap<i64, (f64, String)>,
}

impl Series {
    /// Adds a value; `sum` adds to a value already there (time series split by a dimension),
    /// else a repeat must be identical: it is dropped, and true says so.
    fn put(
        &mut self,
        file: &Path,
        t: i64,
        v: f64,
        at: String,
        sum: bool,
    ) -> Result<bool, InputError> {
        match self.points.get_mut(&t) {
            None => {
                self.points.insert(t, (v, at));
            }
            Some((old, _)) if sum => *old += v,
            Some((old, _)) if *old == v => return Ok(true),
            Some((old, first)) => {
                return Err(invalid(
                    file,
                    &at,
                    format!(
                        "{} is listed again with another value ({v} here, {old} at {first}); \
                         an export must hold each bin once",
                        utc(t as f64)
                    ),
                ))
            }
        }
        Ok(false)
    }

    /// [`Series::put`] without summing, counting a dropped repeat of a bin's requests in `dups`
    /// (once per bin, however many columns repeat).
    fn put_once(
        &mut self,
        kind: Kind,
        file: &Path,
        t: i64,
        v: f64,
        at: String,
        dups: &mut u64,
    ) -> Result<(), InputError> {
        if self.put(file, t, v, at, false)? && kind == Kind::Requests {
            *dups += 1;
        }
        Ok(())
    }
}

fn invalid(file: &Path, at: &str, message: String) -> InputError {
    InputError::Invalid {
        file: file.to_path_buf(),
        path: at.to_string(),
        message,
    }
}

/// Reads the export at `path`.
pub fn read(path: &Path, format: &UsageFormat) -> Result<UsageExport, InputError> {
    let mut dups = 0;
    let mut series: BTreeMap<Kind, Series> = BTreeMap::new();
    let mut observed = Vec::new();
    let mut notes = Vec::new();
    match format {
        UsageFormat::PerMinute(cols) => per_minute(path, cols, &mut series, &mut dups)?,
        UsageFormat::AzureMonitor => azure_monitor(
            path,
            &json_values(path)?,
            &mut series,
            &mut observed,
            &mut notes,
        )?,
        UsageFormat::CloudWatch => cloudwatch(
            path,
            &json_values(path)?,
            &mut series,
            &mut observed,
            &mut notes,
            &mut dups,
        )?,
    }
    let requests = series.remove(&Kind::Requests).unwrap_or_default();
    let input = series.remove(&Kind::Input).unwrap_or_default();
    let output = series.remove(&Kind::Output).unwrap_or_default();
    let mut times: Vec<i64> = requests
        .points
        .keys()
        .chain(input.points.keys())
        .chain(output.points.keys())
        .copied()
        .collect();
    times.sort_unstable();
    times.dedup();
    if times.len() < 2 {
        return Err(invalid(
            path,
            ".",
            format!(
                "needs at least 2 time bins to fit a rate, found {}",
                times.len()
            ),
        ));
    }
    let grain = times.windows(2).fold(0, |g, w| gcd(g, w[1] - w[0]));
    if !(1..=3600).contains(&grain) || 3600 % grain != 0 {
        return Err(invalid(
            path,
            ".",
            format!(
                "the bins are {grain} s apart (the greatest common divisor of the gaps between \
                 them); llmcap reads bins of a whole number of seconds that divides an hour, \
                 from 1 s to 3600 s (export per minute, per 5 minutes or per hour)"
            ),
        ));
    }
    let mut rows = Vec::with_capacity(times.len());
    for t in times {
        let get = |s: &Series| s.points.get(&t).map(|p| p.0).unwrap_or(0.0);
        let r = get(&requests);
        if r.fract() != 0.0 {
            let at = requests
                .points
                .get(&t)
                .map(|p| p.1.clone())
                .unwrap_or_default();
            return Err(invalid(
                path,
                &at,
                format!("requests must be a whole number, got {r}"),
            ));
        }
        rows.push(UsageRow {
            time_s: t,
            requests: r as u64,
            input: get(&input),
            output: get(&output),
        });
    }
    Ok(UsageExport {
        rows,
        grain_s: grain as u32,
        duplicates: dups,
        observed,
        notes,
    })
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// A count or token total: finite and at least 0 (an empty cell is 0).
fn amount(file: &Path, at: &str, what: &str, v: Option<f64>) -> Result<f64, InputError> {
    match v {
        Some(v) if (0.0..1e15).contains(&v) => Ok(v),
        Some(v) => Err(invalid(
            file,
            at,
            format!("{what} must be a number from 0 to 1e15, got {v}"),
        )),
        None => Ok(0.0),
    }
}

/// Whole seconds from a time, which must fall on a whole second.
fn whole_second(file: &Path, at: &str, t: f64) -> Result<i64, InputError> {
    if t.fract() != 0.0 || t.abs() > 1e13 {
        return Err(invalid(
            file,
            at,
            format!("a bin must start on a whole second, got {t} s"),
        ));
    }
    Ok(t as i64)
}

fn per_minute(
    path: &Path,
    cols: &PerMinuteColumns,
    series: &mut BTreeMap<Kind, Series>,
    dups: &mut u64,
) -> Result<(), InputError> {
    let f = std::fs::File::open(path).map_err(|source| InputError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let mut lines = std::io::BufReader::new(f).lines();
    let mut line = 0u64;
    let mut csv = CsvRecord::new();
    let read_err = |line: u64, e: std::io::Error| {
        invalid(
            path,
            &format!("line {}", line.max(1)),
            format!("cannot read: {e}"),
        )
    };
    let header = match lines.next() {
        Some(h) => h.map_err(|e| read_err(1, e))?,
        None => {
            return Err(invalid(
                path,
                "line 1",
                "the file is empty (no header row)".into(),
            ))
        }
    };
    line += 1;
    csv.read(header.trim_start_matches('\u{feff}'), &mut lines, &mut line)
        .map_err(|e| read_err(line, e))?;
    let names: Vec<String> = csv.fields().iter().map(|s| s.trim().to_string()).collect();
    let wanted = [
        (&cols.time, None),
        (&cols.requests, Some(Kind::Requests)),
        (&cols.input, Some(Kind::Input)),
        (&cols.output, Some(Kind::Output)),
    ];
    let mut idx = Vec::new();
    for (want, _) in &wanted {
        match names.iter().position(|n| n == *want) {
            Some(i) => idx.push(i),
            None => {
                return Err(invalid(
                    path,
                    "line 1",
                    format!(
                        "the header has no column \"{want}\" (it has: {}); name the columns with \
                         --time-column, --requests-column, --input-column and --output-column",
                        names.join(", ")
                    ),
                ))
            }
        }
    }
    while let Some(text) = lines.next() {
        line += 1;
        let text = text.map_err(|e| read_err(line, e))?;
        if text.trim().is_empty() {
            continue;
        }
        let at = format!("line {line}");
        csv.read(&text, &mut lines, &mut line)
            .map_err(|e| read_err(line, e))?;
        let fields = csv.fields();
        let get = |i: usize, col: &str| {
            fields.get(i).map(|s| s.trim()).ok_or_else(|| {
                invalid(
                    path,
                    &at,
                    format!("{} fields, no column \"{col}\"", fields.len()),
                )
            })
        };
        let raw_t = get(idx[0], &cols.time)?;
        let t = parse_time(raw_t, cols.time_unit).ok_or_else(|| {
            invalid(
                path,
                &at,
                format!(
                    "column \"{}\": \"{raw_t}\" is not a time ({:?})",
                    cols.time, cols.time_unit
                ),
            )
        })?;
        let t = whole_second(path, &at, t)?;
        for (k, (col, kind)) in wanted.iter().enumerate().skip(1) {
            let raw = get(idx[k], col)?;
            let v = if raw.is_empty() {
                None
            } else {
                Some(raw.parse::<f64>().map_err(|_| {
                    invalid(
                        path,
                        &at,
                        format!("column \"{col}\": \"{raw}\" is not a number"),
                    )
                })?)
            };
            let v = amount(path, &at, &format!("column \"{col}\""), v)?;
            if let Some(kind) = kind {
                series
                    .entry(*kind)
                    .or_default()
                    .put_once(*kind, path, t, v, at.clone(), dups)?;
            }
        }
    }
    Ok(())
}

/// Every JSON value in the file, one after the other (pages appended to one file).
fn json_values(path: &Path) -> Result<Vec<serde_json::Value>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
        match v {
            Ok(v) => out.push(v),
            Err(e) => {
                return Err(invalid(
                    path,
                    &format!("line {}", e.line()),
                    format!("not JSON: {e}"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(invalid(path, "line 1", "the file is empty".into()));
    }
    Ok(out)
}

/// Lower case, letters and digits only: "Processed Prompt Tokens" = "processedprompttokens".
fn normal(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn summary(metric: &str, unit: &'static str, mut v: Vec<f64>) -> SeriesSummary {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    SeriesSummary {
        metric: metric.to_string(),
        unit,
        points: n,
        mean: v.iter().sum::<f64>() / n.max(1) as f64,
        p95: if n == 0 {
            0.0
        } else {
            v[((n - 1) as f64 * 0.95).round() as usize]
        },
        max: v.last().copied().unwrap_or(0.0),
    }
}

/// What to query, for messages.
const AZ_QUERY: &str = "az monitor metrics list --resource ID --metrics AzureOpenAIRequests \
     ProcessedPromptTokens GeneratedTokens ProvisionedManagedUtilizationV2 --aggregation Total \
     Average --interval PT1M --start-time ... --end-time ...";

fn azure_monitor(
    path: &Path,
    docs: &[serde_json::Value],
    series: &mut BTreeMap<Kind, Series>,
    observed: &mut Vec<SeriesSummary>,
    notes: &mut Vec<String>,
) -> Result<(), InputError> {
    let mut found = Vec::new();
    let mut by_name: Vec<(String, usize, usize)> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        let Some(values) = doc.get("value").and_then(|v| v.as_array()) else {
            return Err(invalid(
                path,
                "value",
                format!("no \"value\" array: is this the JSON of `{AZ_QUERY}`?"),
            ));
        };
        for (i, m) in values.iter().enumerate() {
            let name = m
                .get("name")
                .and_then(|n| n.get("value"))
                .and_then(|n| n.as_str())
                .ok_or_else(|| {
                    invalid(path, &format!("value[{i}].name.value"), "missing".into())
                })?;
            found.push(name.to_string());
            by_name.push((normal(name), d, i));
        }
    }
    let pick = |names: &[&str]| {
        names.iter().find_map(|n| {
            let want = normal(n);
            let hits: Vec<(usize, usize)> = by_name
                .iter()
                .filter(|(m, _, _)| *m == want)
                .map(|(_, d, i)| (*d, *i))
                .collect();
            (!hits.is_empty()).then(|| (n.to_string(), hits))
        })
    };
    for (kind, names) in [
        (Kind::Requests, &["AzureOpenAIRequests", "Requests"][..]),
        (Kind::Input, &["ProcessedPromptTokens"][..]),
        (Kind::Output, &["GeneratedTokens"][..]),
    ] {
        let Some((name, hits)) = pick(names) else {
            return Err(invalid(
                path,
                "value[].name.value",
                format!(
                    "no metric \"{}\" (the export has: {}); query it with `{AZ_QUERY}`",
                    names[0],
                    if found.is_empty() {
                        "none".into()
                    } else {
                        found.join(", ")
                    }
                ),
            ));
        };
        let s = series.entry(kind).or_default();
        let mut totals = 0;
        for (d, i) in hits {
            let points = azure_points(path, &docs[d]["value"][i], i, "total")?;
            totals += points.len();
            for (t, v, at) in points {
                s.put(path, t, v, at, true)?;
            }
        }
        if totals == 0 {
            notes.push(format!(
                "{name}: no data point has a \"total\"; query it with --aggregation Total \
                 (counted as 0)"
            ));
        }
    }
    if let Some((name, hits)) = pick(&["ProvisionedManagedUtilizationV2"]) {
        let mut v = Vec::new();
        for (d, i) in hits {
            v.extend(
                azure_points(path, &docs[d]["value"][i], i, "average")?
                    .into_iter()
                    .map(|p| p.1),
            );
        }
        observed.push(summary(&name, "%", v));
    }
    Ok(())
}

/// `(bin start, value, where)` of one metric's points that carry `aggregation`.
fn azure_points(
    path: &Path,
    metric: &serde_json::Value,
    i: usize,
    aggregation: &str,
) -> Result<Vec<(i64, f64, String)>, InputError> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let ts = metric
        .get("timeseries")
        .and_then(|t| t.as_array())
        .unwrap_or(&empty);
    for (j, s) in ts.iter().enumerate() {
        let data = s.get("data").and_then(|d| d.as_array()).unwrap_or(&empty);
        for (k, p) in data.iter().enumerate() {
            let at = format!("value[{i}].timeseries[{j}].data[{k}]");
            let raw = p.get("timeStamp").and_then(|t| t.as_str()).unwrap_or("");
            let t = parse_datetime(raw).ok_or_else(|| {
                invalid(
                    path,
                    &format!("{at}.timeStamp"),
                    format!("\"{raw}\" is not a date and time"),
                )
            })?;
            let t = whole_second(path, &at, t)?;
            if let Some(v) = p.get(aggregation) {
                let v = amount(
                    path,
                    &format!("{at}.{aggregation}"),
                    aggregation,
                    v.as_f64(),
                )?;
                out.push((t, v, at));
            }
        }
    }
    Ok(out)
}

fn cloudwatch(
    path: &Path,
    docs: &[serde_json::Value],
    series: &mut BTreeMap<Kind, Series>,
    observed: &mut Vec<SeriesSummary>,
    notes: &mut Vec<String>,
    dups: &mut u64,
) -> Result<(), InputError> {
    let mut found = Vec::new();
    let mut latency = Vec::new();
    let mut seen = [false; 3];
    for (d, doc) in docs.iter().enumerate() {
        let Some(results) = doc.get("MetricDataResults").and_then(|v| v.as_array()) else {
            return Err(invalid(
                path,
                "MetricDataResults",
                format!(
                    "no \"MetricDataResults\" array in JSON value {}: is this the output of \
                     `aws cloudwatch get-metric-data`?",
                    d + 1
                ),
            ));
        };
        for (i, r) in results.iter().enumerate() {
            let at = if docs.len() > 1 {
                format!("[{d}].MetricDataResults[{i}]")
            } else {
                format!("MetricDataResults[{i}]")
            };
            let id = r.get("Id").and_then(|v| v.as_str()).unwrap_or("");
            let label = r.get("Label").and_then(|v| v.as_str()).unwrap_or("");
            found.push(if label.is_empty() { id } else { label }.to_string());
            let names = [normal(id), normal(label)];
            let is = |m: &str| names.iter().any(|n| n == m);
            let kind = if is("invocations") {
                Some(Kind::Requests)
            } else if is("inputtokencount") {
                Some(Kind::Input)
            } else if is("outputtokencount") {
                Some(Kind::Output)
            } else if is("invocationlatency") {
                None
            } else {
                continue;
            };
            let status = r.get("StatusCode").and_then(|v| v.as_str()).unwrap_or("");
            if !status.is_empty() && status != "Complete" {
                notes.push(format!(
                    "{at} ({}): StatusCode {status}; append the remaining pages (NextToken) to \
                     the file",
                    found[found.len() - 1]
                ));
            }
            let empty = Vec::new();
            let ts = r
                .get("Timestamps")
                .and_then(|v| v.as_array())
                .unwrap_or(&empty);
            let vs = r.get("Values").and_then(|v| v.as_array()).unwrap_or(&empty);
            if ts.len() != vs.len() {
                return Err(invalid(
                    path,
                    &at,
                    format!(
                        "{} Timestamps but {} Values; they go in pairs",
                        ts.len(),
                        vs.len()
                    ),
                ));
            }
            for (k, (t, v)) in ts.iter().zip(vs).enumerate() {
                let t_at = format!("{at}.Timestamps[{k}]");
                let secs = match t {
                    serde_json::Value::String(s) => parse_datetime(s),
                    serde_json::Value::Number(n) => n.as_f64(),
                    _ => None,
                }
                .ok_or_else(|| invalid(path, &t_at, format!("{t} is not a time")))?;
                let secs = whole_second(path, &t_at, secs)?;
                let v_at = format!("{at}.Values[{k}]");
                let v = amount(path, &v_at, "a value", v.as_f64().or(Some(f64::NAN)))?;
                match kind {
                    Some(kind) => {
                        seen[kind as usize] = true;
                        series
                            .entry(kind)
                            .or_default()
                            .put_once(kind, path, secs, v, v_at, dups)?
                    }
                    None => latency.push(v),
                }
            }
            if let Some(kind) = kind {
                seen[kind as usize] = true;
            }
        }
    }
    for (k, name) in ["Invocations", "InputTokenCount", "OutputTokenCount"]
        .iter()
        .enumerate()
    {
        if !seen[k] {
            return Err(invalid(
                path,
                "MetricDataResults[].Id",
                format!(
                    "no result with Id or Label \"{name}\" (the export has: {}); query \
                     AWS/Bedrock {name} with Stat Sum and Id \"{}\"",
                    if found.is_empty() {
                        "none".into()
                    } else {
                        found.join(", ")
                    },
                    name.to_lowercase()
                ),
            ));
        }
    }
    if !latency.is_empty() {
        observed.push(summary("InvocationLatency", "ms", latency));
    }
    Ok(())
}
