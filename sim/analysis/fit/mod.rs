//! `llmcap fit`: llmcap's traffic model fitted to a request trace.
//!
//! One pass over the trace ([`TraceReader`]) keeps only what the fit needs:
//!
//! - requests per interval (`interval_s`, from the first request's time): one
//!   counter per interval, 8 bytes each;
//! - requests per hour of day (UTC for wall-clock formats, else hours from the
//!   first request), used when the trace spans at least 24 hours;
//! - the input and output token counts of every request, as `u32`, for the
//!   quantiles: 8 bytes per request. Past [`MAX_TOKEN_SAMPLES`] requests a
//!   uniform reservoir sample of that many requests is kept instead (Algorithm
//!   R with a fixed seed, so the same trace always gives the same fit); the
//!   mean, minimum, maximum and zero counts stay exact.
//!
//! Unusable rows ([`BadRow`]) are skipped and counted by kind with their first
//! line numbers.
//!
//! What is fitted, in llmcap's own parameterisation (see `docs/scenario.md`):
//!
//! - `mean_rps` = requests / span (first to last request);
//! - the index of dispersion (variance / mean) of the counts per complete
//!   interval, and the Gamma-Poisson overdispersion
//!   `k = max(0, (IDC - 1) / mean count)` with `burst_interval_s` = the
//!   interval: llmcap multiplies each burst interval's rate by a Gamma factor
//!   with mean 1 and variance k, so a count N with mean m has
//!   Var N = m + k m², and IDC = 1 + k m. When an hour-of-day profile is
//!   fitted, the counts are compared with the profile's expected count m_i of
//!   their interval instead: `k = max(0, Σ((N_i - m_i)² - m_i) / Σ m_i²)`, so
//!   the daily cycle is not mistaken for burstiness;
//! - 24 hour-of-day multipliers (mean 1): requests per hour of day divided by
//!   the seconds of the trace in that hour of day, only when the trace spans
//!   at least 24 hours;
//! - per token kind: the quantiles [`PERCENTILES`] (linear interpolation
//!   between order statistics, as numpy's default; rounded to 1/100 token),
//!   a lognormal from the median and the 90th percentile (as
//!   `dist = "lognormal"` takes them), and the Kolmogorov-Smirnov distance
//!   between the trace and the distribution llmcap would sample: the
//!   lognormal rounded to whole tokens and clamped to [1, max], and the
//!   empirical quantiles interpolated the same way.

mod accumulate;
pub mod result;
mod stats;
mod text;

pub use result::{ArrivalFit, BadRowCount, BadRows, Fit, LogNormalFit, TokenFit, UsageFit};
pub use stats::{ks_distance, quantile, sampled_cdf};
pub use text::{duration, utc};

use std::path::Path;

use crate::domain::trace::TraceFormat;
use crate::error::InputError;
use crate::input::trace::TraceReader;
use crate::input::usage::{self, UsageFormat};

use accumulate::Accumulator;

/// The default interval for counting requests, seconds.
pub const DEFAULT_INTERVAL_S: f64 = 60.0;
/// The percentiles reported and written as the empirical alternative.
pub const PERCENTILES: [f64; 11] = [
    0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 100.0,
];
/// Requests whose token counts are kept for the quantiles (8 bytes each);
/// longer traces are reservoir-sampled down to this many.
pub const MAX_TOKEN_SAMPLES: usize = 1_000_000;
/// Intervals counted at most (8 bytes each): about 3.8 years at 60 s.
pub const MAX_INTERVALS: usize = 2_000_000;
/// The span from which an hour-of-day profile is fitted.
pub const PROFILE_MIN_SPAN_S: f64 = 86_400.0;
/// The span from which a day-of-week profile is fitted (wall-clock times only).
pub const WEEKDAY_MIN_SPAN_S: f64 = 7.0 * 86_400.0;
/// The largest overdispersion a scenario accepts.
pub const MAX_OVERDISPERSION: f64 = 100.0;
/// Line numbers kept per kind of bad row.
pub const BAD_ROW_EXAMPLES: usize = 5;
/// Points of the trace's token CDF kept for the chart.
const CDF_POINTS: usize = 240;
/// The seed of the reservoir sample.
const RESERVOIR_SEED: u64 = 20_231_116;

/// Fits llmcap's traffic model to the trace at `path`. `interval_s` is the
/// counting interval (and the fitted `burst_interval_s`): a whole number of
/// seconds that divides an hour.
pub fn fit(path: &Path, format: TraceFormat, interval_s: f64) -> Result<Fit, InputError> {
    let invalid = |key: &str, message: String| InputError::Invalid {
        file: path.to_path_buf(),
        path: key.to_string(),
        message,
    };
    let interval = check_interval(path, interval_s)?;
    let wall_clock = format.wall_clock();
    let format_name = format.name().to_string();
    let mut acc = Accumulator::new(interval_s, wall_clock, MAX_TOKEN_SAMPLES);
    for item in TraceReader::open(path, format)? {
        match item {
            Ok(r) => acc
                .add(r.time_s, r.input, r.output)
                .map_err(|e| e.at(path, format!("line {}", r.line)))?,
            Err(b) => acc.bad(&b),
        }
    }
    if acc.n < 2 {
        return Err(invalid(
            ".",
            format!(
                "needs at least 2 usable requests to fit, found {}{}",
                acc.n,
                if acc.bad.total > 0 {
                    format!(" ({} bad rows skipped)", acc.bad.total)
                } else {
                    String::new()
                }
            ),
        ));
    }
    let span = acc.last - acc.first;
    if span <= 0.0 {
        return Err(invalid(
            ".",
            format!(
                "all {} requests have the same time, so no rate can be fitted",
                acc.n
            ),
        ));
    }
    let arrivals = acc.arrivals(interval, span);
    let input_tokens = acc.input.finish();
    let output_tokens = acc.output.finish();
    Ok(Fit {
        trace: file_name(path),
        path: path.display().to_string(),
        format: format_name,
        wall_clock,
        requests: acc.n,
        first_s: acc.first,
        last_s: acc.last,
        span_s: span,
        first_utc: wall_clock.then(|| utc(acc.first)),
        last_utc: wall_clock.then(|| utc(acc.last)),
        bad_rows: acc.bad,
        arrivals,
        input_tokens,
        output_tokens,
        usage: None,
    })
}

/// The file name of `path`, for the outputs.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Checks `--interval`: a whole number of seconds that divides an hour.
fn check_interval(path: &Path, interval_s: f64) -> Result<u32, InputError> {
    if !(interval_s.is_finite()
        && interval_s >= 1.0
        && interval_s.fract() == 0.0
        && 3600.0 % interval_s == 0.0)
    {
        return Err(InputError::Invalid {
            file: path.to_path_buf(),
            path: "--interval".into(),
            message: format!("must be a whole number of seconds that divides an hour (3600 s), e.g. 10, 60, 300; got {interval_s}"),
        });
    }
    Ok(interval_s as u32)
}

/// Fits llmcap's traffic model to the usage export at `path`: each row is a
/// bin of traffic (requests and token totals), not a request. `interval_s`
/// (default: the export's grain) must be a multiple of the grain. Bins the
/// export leaves out inside its span count as 0 requests.
pub fn fit_usage(
    path: &Path,
    format: &UsageFormat,
    interval_s: Option<f64>,
) -> Result<Fit, InputError> {
    let export = usage::read(path, format)?;
    let grain = export.grain_s;
    let interval = match interval_s {
        None => grain,
        Some(v) => {
            let i = check_interval(path, v)?;
            if i % grain != 0 {
                return Err(InputError::Invalid {
                    file: path.to_path_buf(),
                    path: "--interval".into(),
                    message: format!(
                        "must be a multiple of the export's bins ({grain} s apart); got {i}"
                    ),
                });
            }
            i
        }
    };
    let mut acc = Accumulator::new(interval as f64, true, 0);
    let (mut missing, mut longest, mut prev) = (0u64, 0u64, None::<i64>);
    for r in &export.rows {
        if let Some(p) = prev {
            let gap = (r.time_s - p) as u64 / grain as u64 - 1;
            missing += gap;
            longest = longest.max(gap * grain as u64);
        }
        prev = Some(r.time_s);
        acc.add_bin(r.time_s as f64, grain as f64, r.requests, r.input, r.output)
            .map_err(|e| e.at(path, "."))?;
    }
    if acc.n == 0 {
        return Err(InputError::Invalid {
            file: path.to_path_buf(),
            path: ".".into(),
            message: format!(
                "the export's {} bins hold no request, so no rate can be fitted",
                export.rows.len()
            ),
        });
    }
    let span = acc.last - acc.first;
    let arrivals = acc.arrivals(interval, span);
    let tokens_per_request = acc.tokens_per_request(arrivals.intervals);
    let input_tokens = acc.input.finish_totals();
    let output_tokens = acc.output.finish_totals();
    Ok(Fit {
        trace: file_name(path),
        path: path.display().to_string(),
        format: format.name().to_string(),
        wall_clock: true,
        requests: acc.n,
        first_s: acc.first,
        last_s: acc.last,
        span_s: span,
        first_utc: Some(utc(acc.first)),
        last_utc: Some(utc(acc.last)),
        bad_rows: BadRows::default(),
        arrivals,
        input_tokens,
        output_tokens,
        usage: Some(UsageFit {
            grain_s: grain,
            rows: export.rows.len(),
            missing_bins: missing,
            longest_gap_s: longest,
            duplicates: export.duplicates,
            observed: export.observed,
            notes: export.notes,
            token_assumption: TOKEN_ASSUMPTION.into(),
            tokens_per_request,
        }),
    })
}

/// What `fit_usage` says of the tokens of one request.
pub const TOKEN_ASSUMPTION: &str = "an export holds token totals per bin, not one count per \
     request, so only the mean per request (total / requests) is known; the spread of one \
     request's tokens cannot be recovered from totals. llmcap writes an exponential with that \
     mean (the largest-entropy distribution on positive counts with a given mean: every \
     request is not the mean, and no shape is claimed that the data did not show). Token cost \
     and reserved-capacity use depend on the mean only; prefill latency and queueing depend on \
     the spread, so replace it with a measured distribution (llmcap fit on a request log) when \
     you have one.";
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod usage_tests;
