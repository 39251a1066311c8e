//! `llmcap calibrate`: a deployment's latency and capacity fitted to load-test measurements,
//! and judged on measurements the fit did not see (docs/calibrate.md gives the method).
//!
//! Per-request measurements (LLMPerf, GuideLLM, CSV) give, in llmcap's terms (docs/model.md
//! section 5): the prefill time per 1k input tokens (least squares of TTFT on prompt tokens
//! within each load level), the base TTFT lognormal (median and p99, matched to the
//! quantiles of TTFT minus prefill) and, with two or more load levels, how TTFT grows with
//! the deployment's own load (the processor-sharing slowdown 1/(1 - Y/S) of section 6, with
//! Y the measured tokens per minute and S the fitted `shared_pool_tpm`, stretching the whole
//! TTFT: `latency.load_slows = "all"`). Window statistics of azure-openai-benchmark give a
//! provisioned deployment's capacity (tokens per minute at 100% of the utilization the
//! service reports), its concurrency (slots, from Little's law at that utilization), the base
//! TTFT from the windows' mean and 95th percentile, and the 429 share at each load level.
//!
//! Level summaries (a GuideLLM report without per-request rows: each benchmark's reported TTFT
//! percentiles, count, throughput and tokens per request) give the same base lognormal and
//! load dependence, matched to the reported percentiles; their intervals come from the
//! sampling distribution of sample quantiles (docs/calibrate.md), and whole levels are held out.
//!
//! Every other estimate has a 95% percentile-bootstrap interval (resampling requests within their
//! level, or windows, with the seeded generator). With `holdout` = f, the last f of each
//! level's served requests (by start time, else in file order) or windows are left out of the
//! fit and predicted.

mod requests;
pub mod stats;
mod summaries;
mod windows;

use std::path::PathBuf;

use crate::domain::measurement::{LevelKind, MeasurementFormat, Measurements};
use crate::error::{InputError, ValueError};

/// Served requests needed to fit a TTFT distribution.
pub const MIN_FIT_REQUESTS: usize = 20;
/// Served requests a load level needs to count in the load fit.
pub const MIN_LEVEL_REQUESTS: usize = 10;
/// Windows needed to fit from azure-openai-benchmark statistics.
pub const MIN_FIT_WINDOWS: usize = 3;
/// Bootstrap replicates of each interval.
pub const BOOTSTRAP: usize = 200;
/// The largest `--holdout`.
pub const MAX_HOLDOUT: f64 = 0.8;
/// Utilization (percent) below which a window says too little about capacity.
pub const MIN_UTIL_PCT: f64 = 10.0;
/// The cap on pool utilization llmcap applies by default (`max_pool_utilization`).
pub const MAX_RHO: f64 = 0.95;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub deployment: String,
    pub holdout: f64,
    /// Reserved units deployed during the test (PTUs), to express capacity per unit.
    pub units: Option<f64>,
    /// Input tokens one output token counts as in reserved capacity.
    pub output_weight: f64,
    pub seed: u64,
}

/// An estimate with its 95% bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub file: PathBuf,
    pub target: Option<String>,
    pub requests: usize,
    pub windows: usize,
    /// Level summaries (statistics-only files).
    pub summaries: usize,
    pub notes: Vec<String>,
}

/// What was measured at one load level (all requests or windows, fitted and held out).
#[derive(Debug, Clone)]
pub struct Level {
    pub level: Option<f64>,
    pub requests: u64,
    pub served: u64,
    pub throttled: u64,
    pub errors: u64,
    /// Served TTFTs, ms, sorted (per-request sources).
    pub ttft_ms: Vec<f64>,
    /// Reported TTFT quantiles, (probability, ms) (level summaries).
    pub ttft_quantiles_ms: Vec<(f64, f64)>,
    pub mean_input: Option<f64>,
    /// The deployment's own tokens per minute at this level, when it can be measured.
    pub tokens_per_min: Option<f64>,
    /// Mean of the windows' mean TTFT and 95th percentile, ms (window sources).
    pub window_ttft_ms: Option<(f64, f64)>,
    pub util_pct: Option<f64>,
    /// Requests per second offered (window sources).
    pub offered_rps: Option<f64>,
}

/// The base TTFT lognormal at zero load.
#[derive(Debug, Clone)]
pub struct Base {
    pub median_ms: Estimate,
    pub p99_ms: Estimate,
    pub sigma: f64,
    /// Kolmogorov-Smirnov distance to the fitted sample (per-request sources).
    pub ks: Option<f64>,
    pub n: usize,
    /// (probability, measured, fitted) quantiles of what was fitted, ms.
    pub quantiles: Vec<(f64, f64, f64)>,
    pub how: String,
}

#[derive(Debug, Clone)]
pub struct Prefill {
    pub ms_per_1k: Estimate,
    /// Share of the within-level TTFT variance prompt length explains.
    pub r2: f64,
    pub n: usize,
}

/// TTFT against the deployment's own load.
#[derive(Debug, Clone)]
pub struct Load {
    pub shared_pool_tpm: Estimate,
    /// (level, tokens per minute, measured median ms, fitted median ms) of the training data.
    pub points: Vec<(Option<f64>, f64, f64, f64)>,
}

/// One load level of a provisioned deployment's test: 429s against load.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub clients: f64,
    pub rate_rpm: Option<f64>,
    pub offered_rps: f64,
    pub util_pct: Option<f64>,
    pub share_429: f64,
    /// Erlang B with the fitted slots at the offered load.
    pub erlang_b: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Reserved {
    /// Weighted tokens per minute the deployment serves at 100% utilization.
    pub capacity_tpm: Estimate,
    /// Requests in service at 100% utilization.
    pub slots: Estimate,
    pub units: Option<f64>,
    pub output_weight: f64,
    pub windows: usize,
    pub throttle: Vec<Throttle>,
}

/// Predicted against measured, for the held-out part of one level.
#[derive(Debug, Clone)]
pub struct HoldoutRow {
    pub level: Option<f64>,
    pub n: usize,
    /// (statistic, measured ms, predicted ms).
    pub stats: Vec<(String, f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct Calibration {
    pub deployment: String,
    pub format: MeasurementFormat,
    pub level_kind: LevelKind,
    pub sources: Vec<Source>,
    pub levels: Vec<Level>,
    pub base: Base,
    pub prefill: Option<Prefill>,
    pub load: Option<Load>,
    pub reserved: Option<Reserved>,
    pub holdout_fraction: f64,
    pub holdout: Vec<HoldoutRow>,
    /// What could not be fitted, and why.
    pub cannot: Vec<String>,
    /// Fitted to level summaries (reported percentiles) rather than rows or windows.
    pub from_summaries: bool,
    pub seed: u64,
}

/// Fits the deployment to the measurement files (all of one format).
pub fn calibrate(sets: &[Measurements], opts: &Options) -> Result<Calibration, InputError> {
    let first = sets.first().map(|m| m.file.clone()).unwrap_or_default();
    let fail = |e: ValueError| e.at(&first, ".");
    if !(0.0..=MAX_HOLDOUT).contains(&opts.holdout) {
        return Err(InputError::Invalid {
            file: "--holdout".into(),
            path: "--holdout".into(),
            message: format!(
                "must be a fraction from 0 to {MAX_HOLDOUT}, got {}",
                opts.holdout
            ),
        });
    }
    let format = sets.first().map_or(MeasurementFormat::Csv, |m| m.format);
    let sources = sets
        .iter()
        .map(|m| Source {
            file: m.file.clone(),
            target: m.target.clone(),
            requests: m.requests.len(),
            windows: m.windows.len(),
            summaries: m.summaries.len(),
            notes: m.notes.clone(),
        })
        .collect();
    // Statistics when any file has them without complete per-request rows.
    let stats_only = sets
        .iter()
        .any(|m| m.requests.is_empty() && !m.summaries.is_empty());
    let mut c = if format == MeasurementFormat::AzureBenchmark {
        windows::fit(sets, opts).map_err(fail)?
    } else if stats_only {
        summaries::fit(sets, opts).map_err(fail)?
    } else {
        requests::fit(sets, opts).map_err(fail)?
    };
    c.sources = sources;
    Ok(c)
}

/// Relative error of a prediction, percent.
pub fn error_pct(measured: f64, predicted: f64) -> f64 {
    (predicted - measured) / measured * 100.0
}

#[cfg(test)]
mod summary_tests;
#[cfg(test)]
pub(crate) mod tests;
