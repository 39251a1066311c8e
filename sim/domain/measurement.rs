//! Load-test measurements as data: what the readers in `input::measurements` find in a
//! benchmark tool's output, and what `analysis::calibrate` fits the latency and capacity
//! model to. Two shapes: one row per request (LLMPerf, GuideLLM, a generic CSV) and one
//! row per aggregation window (azure-openai-benchmark, which prints statistics over a
//! sliding window every second and keeps no per-request rows).

use std::path::PathBuf;

/// The benchmark tool whose output a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasurementFormat {
    /// LLMPerf `*_individual_responses.json` (or the leaderboard's `raw_data_individual_*.json`).
    Llmperf,
    /// A GuideLLM benchmarks report (`.json`, `.yaml`).
    Guidellm,
    /// azure-openai-benchmark output: its human-readable log or `--output-format jsonl`.
    AzureBenchmark,
    /// A generic per-request CSV (docs/calibrate.md lists its columns).
    Csv,
}

/// The names `--format` takes.
pub const MEASUREMENT_FORMATS: &[&str] = &["llmperf", "guidellm", "azure-benchmark", "csv"];

impl MeasurementFormat {
    pub fn parse(s: &str) -> Option<MeasurementFormat> {
        Some(match s {
            "llmperf" => MeasurementFormat::Llmperf,
            "guidellm" => MeasurementFormat::Guidellm,
            "azure-benchmark" => MeasurementFormat::AzureBenchmark,
            "csv" => MeasurementFormat::Csv,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MeasurementFormat::Llmperf => "llmperf",
            MeasurementFormat::Guidellm => "guidellm",
            MeasurementFormat::AzureBenchmark => "azure-benchmark",
            MeasurementFormat::Csv => "csv",
        }
    }
}

/// How one measured request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Served: its TTFT was measured.
    Ok,
    /// Refused with HTTP 429.
    Throttled,
    /// Any other failure (HTTP error, timeout, broken stream).
    Error,
}

/// One measured request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSample {
    /// Where it is in the file: a line number, or a JSON path such as `benchmarks[2].requests.successful[7]`.
    pub at: String,
    /// Seconds since the start of the file's first request, when the tool records start times.
    pub start_s: Option<f64>,
    /// Time to first token, seconds (served requests).
    pub ttft_s: Option<f64>,
    /// End-to-end latency, seconds.
    pub e2e_s: Option<f64>,
    pub input: Option<u32>,
    pub output: Option<u32>,
    pub outcome: Outcome,
    /// The load level it was measured at (see [`LevelKind`]); `None` when the file does not say.
    pub level: Option<f64>,
}

/// What a load level counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelKind {
    /// Concurrent requests the load generator kept in flight (closed loop).
    Concurrency,
    /// Requests per second the load generator sent (open loop).
    Rate,
}

impl LevelKind {
    pub fn label(self) -> &'static str {
        match self {
            LevelKind::Concurrency => "concurrent requests",
            LevelKind::Rate => "requests/s offered",
        }
    }
}

/// Statistics over one aggregation window of azure-openai-benchmark (every number over
/// the requests that started in the window, as the tool computes them).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSample {
    /// The line of the file.
    pub line: u64,
    /// Seconds since the load started.
    pub run_s: f64,
    /// Clients (concurrency) of the run.
    pub clients: f64,
    /// The run's rate limit, requests per minute (`rate`), when it had one.
    pub rate_rpm: Option<f64>,
    /// Successful requests per minute in the window.
    pub rpm: Option<f64>,
    /// Requests in flight.
    pub processing: f64,
    /// Requests finished since the start (served + failed), cumulative.
    pub requests: u64,
    /// Failures since the start, cumulative (429s included).
    pub failures: u64,
    /// 429s since the start, cumulative.
    pub throttled: u64,
    /// Tokens per minute (prompt + generated) of the window's successful requests.
    pub tpm: Option<f64>,
    /// Prompt tokens per request (mean), when the log states it.
    pub context_tokens: Option<f64>,
    /// Generated tokens per request (mean), when the log states it.
    pub gen_tokens: Option<f64>,
    pub ttft_avg_s: Option<f64>,
    pub ttft_p95_s: Option<f64>,
    pub e2e_avg_s: Option<f64>,
    pub e2e_p95_s: Option<f64>,
    /// PTU utilization the service reported (percent), mean and 95th percentile over the window.
    pub util_avg_pct: Option<f64>,
    pub util_p95_pct: Option<f64>,
}

/// The statistics a tool reports for one load level when it keeps no per-request rows (a
/// GuideLLM benchmark with its `requests` stripped, or a row of GuideLLM's CSV): counts, the
/// TTFT percentiles of the served requests and the level's means.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelSummary {
    /// Where it is in the file: `benchmarks[2]` or `line 5`.
    pub at: String,
    /// The load level (see [`LevelKind`]); `None` when the file does not say.
    pub level: Option<f64>,
    /// Served requests the TTFT statistics are over.
    pub served: u64,
    /// Failed requests (the statistics do not say which were 429s).
    pub errored: u64,
    /// Requests cut off when the benchmark ended.
    pub incomplete: u64,
    /// Reported TTFT quantiles of the served requests, (probability, ms), by probability.
    pub ttft_ms: Vec<(f64, f64)>,
    pub ttft_mean_ms: Option<f64>,
    /// Served requests per second (the level's throughput).
    pub requests_per_s: Option<f64>,
    /// Mean prompt and output tokens of a served request.
    pub input_mean: Option<f64>,
    pub output_mean: Option<f64>,
    /// Mean end-to-end latency of a served request, seconds.
    pub e2e_mean_s: Option<f64>,
}

/// Everything read from one measurement file.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurements {
    pub file: PathBuf,
    pub format: MeasurementFormat,
    /// The model or deployment the file names, if any.
    pub target: Option<String>,
    pub level_kind: LevelKind,
    /// Per-request rows (empty for azure-benchmark).
    pub requests: Vec<RequestSample>,
    /// Per-level statistics (GuideLLM reports without complete per-request rows); a file has
    /// per-request rows or level summaries, not both.
    pub summaries: Vec<LevelSummary>,
    /// Window rows (azure-benchmark only).
    pub windows: Vec<WindowSample>,
    /// The aggregation window of the window rows, seconds.
    pub window_s: f64,
    /// What the reader noticed and the user should know (skipped rows, conventions).
    pub notes: Vec<String>,
}
