//! What a fit produces: arrivals, token distributions, bad rows.

use serde::Serialize;

use crate::domain::traffic::TokenDist;
pub use crate::input::usage::SeriesSummary;

/// Everything `llmcap fit` learns from a trace.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// The trace's file name.
    pub trace: String,
    /// The trace's path as given.
    pub path: String,
    pub format: String,
    /// Whether times are wall-clock (UTC), so hours of day are known.
    pub wall_clock: bool,
    /// Usable requests.
    pub requests: u64,
    /// Time of the first and last request, seconds (since 1970 UTC for
    /// wall-clock formats, else as in the file).
    pub first_s: f64,
    pub last_s: f64,
    pub span_s: f64,
    /// The first and last request as "YYYY-MM-DD HH:MM:SS" UTC (wall-clock only).
    pub first_utc: Option<String>,
    pub last_utc: Option<String>,
    pub bad_rows: BadRows,
    pub arrivals: ArrivalFit,
    pub input_tokens: TokenFit,
    pub output_tokens: TokenFit,
    /// For a usage export (rows are bins of traffic, not requests): what it
    /// held and what was assumed. None for a request trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageFit>,
}

/// What a usage export held beyond the counts, and what the fit assumed.
#[derive(Debug, Clone, Serialize)]
pub struct UsageFit {
    /// Seconds between bins.
    pub grain_s: u32,
    /// Bins in the export.
    pub rows: usize,
    /// Bins inside the span that the export does not hold, counted as 0
    /// requests, and the longest run of them, seconds.
    pub missing_bins: u64,
    pub longest_gap_s: u64,
    /// Identical repeats of a bin, dropped.
    pub duplicates: u64,
    /// Service metrics of the export (utilization, latency), summarised.
    pub observed: Vec<SeriesSummary>,
    /// What the reader noticed.
    pub notes: Vec<String>,
    /// What llmcap assumes of the tokens of one request.
    pub token_assumption: String,
    /// Mean input and output tokens per request in each complete counting interval (null for an
    /// interval without requests): how steady the request size was over the export.
    pub tokens_per_request: Vec<Option<[f64; 2]>>,
}

impl UsageFit {
    /// The token distribution `fit.toml` writes for a mean of `mean` tokens per
    /// request: an exponential (the largest-entropy distribution on [0, ∞) with
    /// that mean), capped at the scenario's default max.
    pub fn token_dist(mean: f64) -> TokenDist {
        TokenDist::Exponential {
            mean: mean.max(1.0),
            max: DEFAULT_MAX_TOKENS,
        }
    }
}

/// The `max` a scenario's token distribution has when none is written.
pub const DEFAULT_MAX_TOKENS: u32 = 10_000_000;

/// Rows that were skipped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BadRows {
    pub total: u64,
    pub kinds: Vec<BadRowCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BadRowCount {
    pub kind: &'static str,
    pub count: u64,
    /// The first [`BAD_ROW_EXAMPLES`] line numbers (1 = the header line).
    pub first_lines: Vec<u64>,
    /// The message of the first one.
    pub first_message: String,
}

/// The arrival process fitted.
#[derive(Debug, Clone, Serialize)]
pub struct ArrivalFit {
    /// Requests / span.
    pub mean_rps: f64,
    /// The counting interval, and the fitted `burst_interval_s`.
    pub interval_s: u32,
    /// Complete intervals counted (the last, partial one is left out).
    pub intervals: usize,
    /// Mean and sample variance of the counts per complete interval.
    pub count_mean: f64,
    pub count_variance: f64,
    /// Variance / mean of the counts (1 for a Poisson process); None with
    /// fewer than two complete intervals.
    pub index_of_dispersion: Option<f64>,
    /// With an hour-of-day profile, the same around each interval's
    /// expected count, Σ(N - m)² / Σ m (1 for a Poisson process following
    /// the profile): the burstiness left once the daily cycle is removed.
    pub dispersion_around_profile: Option<f64>,
    /// The Gamma-Poisson k (0 = Poisson), at most [`MAX_OVERDISPERSION`].
    pub overdispersion: f64,
    /// Why the overdispersion is 0 or capped, when it is.
    pub overdispersion_note: Option<String>,
    /// 24 hour-of-day multipliers with mean 1, hour 0 first; None = flat.
    pub hourly: Option<Vec<f64>>,
    /// What the hours are: "UTC", or "hour 0 = the first request's hour".
    pub hourly_basis: &'static str,
    /// What the profile is and why (or why it is flat).
    pub hourly_note: String,
    /// 7 day-of-week factors (UTC, Monday first, mean 1), from wall-clock
    /// data over at least 7 days; None = flat.
    pub weekday: Option<Vec<f64>>,
    /// What the day-of-week profile is and why (or why it is flat).
    pub weekday_note: String,
    /// 168 hour-of-week multipliers (UTC, Monday 00:00 first, mean 1), when the week is not one
    /// daily shape scaled by day (chosen by quasi-AIC over hourly x weekday); None otherwise.
    pub hour_of_week: Option<Vec<f64>>,
    /// Whether the hour-of-week profile is used, and why.
    pub hour_of_week_note: String,
    /// Requests in each complete interval, from the first request's time.
    pub counts: Vec<u64>,
    /// The fitted model's expected count in each complete interval.
    pub expected: Vec<f64>,
}

impl ArrivalFit {
    /// The standard deviation of the count in an interval whose expected
    /// count is `m`, under the fitted Gamma-Poisson model: sqrt(m + k m²).
    pub fn count_sd(&self, m: f64) -> f64 {
        (m + self.overdispersion * m * m).max(0.0).sqrt()
    }
}

/// One token kind (input or output).
#[derive(Debug, Clone, Serialize)]
pub struct TokenFit {
    /// Requests counted (exact statistics).
    pub requests: u64,
    /// Requests in the quantile sample (all of them up to [`MAX_TOKEN_SAMPLES`]).
    pub sampled: usize,
    /// Whether the quantiles come from a reservoir sample.
    pub reservoir: bool,
    pub mean: f64,
    pub min: u32,
    pub max: u32,
    /// Requests with 0 tokens (llmcap's lognormal and empirical draws are >= 1).
    pub zeros: u64,
    /// `[percentile, tokens]` at [`PERCENTILES`].
    pub quantiles: Vec<[f64; 2]>,
    pub lognormal: LogNormalFit,
    /// The mean of the empirical quantiles as llmcap samples them (capped at max).
    pub empirical_mean: f64,
    /// Kolmogorov-Smirnov distance between the trace and the empirical
    /// quantiles as llmcap samples them.
    pub ks_empirical: f64,
    /// The trace's CDF: `[tokens, fraction of requests <= tokens]` on a
    /// log-spaced grid from the smallest positive count to the largest.
    pub cdf: Vec<[f64; 2]>,
}

/// The lognormal fitted from the median and the 90th percentile.
#[derive(Debug, Clone, Serialize)]
pub struct LogNormalFit {
    pub median: f64,
    pub p90: f64,
    /// ln(median) and ln(p90 / median) / 1.2816.
    pub mu: f64,
    pub sigma: f64,
    /// The mean of the lognormal capped at max (what llmcap's draws average to).
    pub mean: f64,
    /// Kolmogorov-Smirnov distance between the trace and the lognormal as
    /// llmcap samples it (rounded to whole tokens, clamped to [1, max]).
    pub ks: f64,
}

impl TokenFit {
    /// The token distribution llmcap samples for the lognormal fit.
    pub fn lognormal_dist(&self) -> TokenDist {
        TokenDist::lognormal(self.lognormal.median, self.lognormal.p90, self.max.max(1))
    }

    /// The token distribution llmcap samples for the empirical quantiles.
    pub fn empirical_dist(&self) -> TokenDist {
        TokenDist::Empirical {
            points: self
                .quantiles
                .iter()
                .map(|[p, v]| (p / 100.0, *v))
                .collect(),
            max: self.max.max(1),
        }
    }

    /// The quantile at percentile `p` (one of [`PERCENTILES`]).
    pub fn quantile(&self, p: f64) -> Option<f64> {
        self.quantiles
            .iter()
            .find(|[q, _]| (q - p).abs() < 1e-9)
            .map(|[_, v]| *v)
    }
}
