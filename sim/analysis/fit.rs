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

use std::path::Path;

use rand::Rng;
use serde::Serialize;

use crate::domain::trace::{BadRow, BadRowKind, TraceFormat};
use crate::domain::traffic::{normal_cdf, TokenDist};
use crate::error::InputError;
use crate::input::trace::TraceReader;
use crate::model::rng::{key_of, stream, Purpose, SimRng};

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
/// The largest overdispersion a scenario accepts.
pub const MAX_OVERDISPERSION: f64 = 100.0;
/// Line numbers kept per kind of bad row.
pub const BAD_ROW_EXAMPLES: usize = 5;
/// Points of the trace's token CDF kept for the chart.
const CDF_POINTS: usize = 240;
/// The seed of the reservoir sample.
const RESERVOIR_SEED: u64 = 20_231_116;

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
}

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

/// Fits llmcap's traffic model to the trace at `path`. `interval_s` is the
/// counting interval (and the fitted `burst_interval_s`): a whole number of
/// seconds that divides an hour.
pub fn fit(path: &Path, format: TraceFormat, interval_s: f64) -> Result<Fit, InputError> {
    let invalid = |key: &str, message: String| InputError::Invalid {
        file: path.to_path_buf(),
        path: key.to_string(),
        message,
    };
    if !(interval_s.is_finite()
        && interval_s >= 1.0
        && interval_s.fract() == 0.0
        && 3600.0 % interval_s == 0.0)
    {
        return Err(invalid(
            "--interval",
            format!("must be a whole number of seconds that divides an hour (3600 s), e.g. 10, 60, 300; got {interval_s}"),
        ));
    }
    let interval = interval_s as u32;
    let wall_clock = format.wall_clock();
    let format_name = format.name().to_string();
    let mut acc = Accumulator::new(interval_s, wall_clock, MAX_TOKEN_SAMPLES);
    for item in TraceReader::open(path, format)? {
        match item {
            Ok(r) => acc
                .add(r.time_s, r.input, r.output)
                .map_err(|m| invalid(&format!("line {}", r.line), m))?,
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
        trace: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
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
    })
}

/// The running state of one pass over the trace.
struct Accumulator {
    interval_s: f64,
    wall_clock: bool,
    n: u64,
    first: f64,
    last: f64,
    counts: Vec<u64>,
    /// Requests per hour of day (UTC, or hours from the first request).
    by_hour: [u64; 24],
    input: TokenAcc,
    output: TokenAcc,
    /// Requests kept for the quantiles at most.
    cap: usize,
    rng: SimRng,
    bad: BadRows,
}

impl Accumulator {
    fn new(interval_s: f64, wall_clock: bool, cap: usize) -> Self {
        Accumulator {
            interval_s,
            wall_clock,
            n: 0,
            first: 0.0,
            last: 0.0,
            counts: Vec::new(),
            by_hour: [0; 24],
            input: TokenAcc::default(),
            output: TokenAcc::default(),
            cap,
            rng: stream(RESERVOIR_SEED, 0, Purpose::Tokens, key_of("fit")),
            bad: BadRows::default(),
        }
    }

    fn add(&mut self, t: f64, input: u32, output: u32) -> Result<(), String> {
        if self.n == 0 {
            self.first = t;
        }
        self.last = t;
        let i = ((t - self.first) / self.interval_s) as usize;
        if i >= MAX_INTERVALS {
            return Err(format!(
                "the trace spans more than {} intervals of {} s ({:.0} days); use a longer interval",
                MAX_INTERVALS,
                self.interval_s,
                MAX_INTERVALS as f64 * self.interval_s / 86_400.0
            ));
        }
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.by_hour[self.hour_of_day(t)] += 1;
        self.n += 1;
        // Algorithm R: the first `cap` requests, then request n replaces a
        // random one with probability cap / n.
        let slot = if self.input.samples.len() < self.cap {
            None
        } else {
            let j = self.rng.random_range(0..self.n);
            Some((j < self.cap as u64).then_some(j as usize))
        };
        self.input.add(input, slot);
        self.output.add(output, slot);
        Ok(())
    }

    fn hour_of_day(&self, t: f64) -> usize {
        let base = if self.wall_clock { t } else { t - self.first };
        ((base / 3600.0).floor() as i64).rem_euclid(24) as usize
    }

    fn bad(&mut self, b: &BadRow) {
        self.bad.total += 1;
        let label = b.kind.label();
        match self.bad.kinds.iter_mut().find(|k| k.kind == label) {
            Some(k) => {
                k.count += 1;
                if k.first_lines.len() < BAD_ROW_EXAMPLES {
                    k.first_lines.push(b.line);
                }
            }
            None => self.bad.kinds.push(BadRowCount {
                kind: label,
                count: 1,
                first_lines: vec![b.line],
                first_message: b.message.clone(),
            }),
        }
        // Keep a stable order: by kind.
        self.bad.kinds.sort_by_key(|k| kind_order(k.kind));
    }

    /// Seconds of [first, last] in each hour of day.
    fn exposure(&self) -> [f64; 24] {
        let mut out = [0.0; 24];
        let (a, b) = if self.wall_clock {
            (self.first, self.last)
        } else {
            (0.0, self.last - self.first)
        };
        let mut h = (a / 3600.0).floor();
        while h * 3600.0 < b {
            let lo = (h * 3600.0).max(a);
            let hi = ((h + 1.0) * 3600.0).min(b);
            if hi > lo {
                out[(h as i64).rem_euclid(24) as usize] += hi - lo;
            }
            h += 1.0;
        }
        out
    }

    fn arrivals(&self, interval: u32, span: f64) -> ArrivalFit {
        let mean_rps = self.n as f64 / span;
        let dt = interval as f64;
        // Complete intervals only: the last one stops at the last request.
        let full = ((span / dt) as usize).min(self.counts.len());
        let counts: Vec<u64> = self.counts[..full].to_vec();
        let xs: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        let m = xs.iter().sum::<f64>() / full.max(1) as f64;
        let var = if full > 1 {
            xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (full - 1) as f64
        } else {
            0.0
        };
        let idc = (full > 1 && m > 0.0).then(|| var / m);

        let basis = if self.wall_clock {
            "UTC"
        } else {
            "hour 0 = the first request's hour"
        };
        let (hourly, hourly_note) = if span >= PROFILE_MIN_SPAN_S {
            let exposure = self.exposure();
            let rates: Vec<f64> = (0..24)
                .map(|h| {
                    if exposure[h] > 0.0 {
                        self.by_hour[h] as f64 / exposure[h]
                    } else {
                        0.0
                    }
                })
                .collect();
            let mean = rates.iter().sum::<f64>() / 24.0;
            if mean > 0.0 {
                let v: Vec<f64> = rates.iter().map(|r| r / mean).collect();
                let (lo, hi) = min_max(&v);
                let (peak, trough) = (argmax(&v), argmin(&v));
                let note = format!(
                    "fitted from {:.1} days of trace; peak at hour {peak} ({hi:.2}x the mean), trough at hour {trough} ({lo:.2}x)",
                    span / 86_400.0,
                );
                (Some(v), note)
            } else {
                (None, "flat: no requests".to_string())
            }
        } else {
            (
                None,
                format!(
                    "flat: the trace covers {}, less than the 24 hours an hour-of-day profile needs",
                    duration(span)
                ),
            )
        };

        // Expected count per interval under the fitted profile, scaled so
        // the expected counts add up to the counted ones (the intervals need
        // not cover whole days).
        let shape: Vec<f64> = (0..full)
            .map(|i| match &hourly {
                Some(v) => {
                    let t = self.first + (i as f64 + 0.5) * dt;
                    v[self.hour_of_day(t)]
                }
                None => 1.0,
            })
            .collect();
        let total: f64 = shape.iter().sum();
        let scale = if total > 0.0 {
            xs.iter().sum::<f64>() / total
        } else {
            m
        };
        let expected: Vec<f64> = shape.iter().map(|v| v * scale).collect();
        let (mut k, mut note) = match (idc, &hourly) {
            (None, _) => (
                0.0,
                Some(format!(
                    "0: the trace has {full} complete interval(s) of {interval} s; at least 2 are needed to measure burstiness"
                )),
            ),
            (Some(d), None) => ((d - 1.0) / m, None),
            (Some(_), Some(_)) => {
                let (mut num, mut den) = (0.0, 0.0);
                for (x, e) in xs.iter().zip(&expected) {
                    num += (x - e).powi(2) - e;
                    den += e * e;
                }
                (if den > 0.0 { num / den } else { 0.0 }, None)
            }
        };
        if note.is_none() && k <= 0.0 {
            k = 0.0;
            note = Some(
                "0: the counts vary no more than a Poisson process's would (index of dispersion <= 1)"
                    .into(),
            );
        }
        if k > MAX_OVERDISPERSION {
            note = Some(format!(
                "capped at {MAX_OVERDISPERSION} (the largest a scenario accepts) from {k:.1}"
            ));
            k = MAX_OVERDISPERSION;
        }
        ArrivalFit {
            mean_rps,
            interval_s: interval,
            intervals: full,
            count_mean: m,
            count_variance: var,
            index_of_dispersion: idc,
            dispersion_around_profile: (hourly.is_some() && full > 1).then(|| {
                let den: f64 = expected.iter().sum();
                let num: f64 = xs.iter().zip(&expected).map(|(x, e)| (x - e).powi(2)).sum();
                if den > 0.0 {
                    num / den
                } else {
                    0.0
                }
            }),
            overdispersion: k,
            overdispersion_note: note,
            hourly,
            hourly_basis: basis,
            hourly_note,
            counts,
            expected,
        }
    }
}

fn kind_order(label: &str) -> usize {
    [
        BadRowKind::Time,
        BadRowKind::Tokens,
        BadRowKind::OutOfOrder,
        BadRowKind::Shape,
    ]
    .iter()
    .position(|k| k.label() == label)
    .unwrap_or(usize::MAX)
}

/// Token counts of one kind.
#[derive(Default)]
struct TokenAcc {
    samples: Vec<u32>,
    n: u64,
    sum: f64,
    min: u32,
    max: u32,
    zeros: u64,
}

impl TokenAcc {
    /// `slot`: None = append; Some(None) = not sampled; Some(Some(j)) = replace j.
    fn add(&mut self, v: u32, slot: Option<Option<usize>>) {
        if self.n == 0 {
            self.min = v;
        }
        self.n += 1;
        self.sum += v as f64;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if v == 0 {
            self.zeros += 1;
        }
        match slot {
            None => self.samples.push(v),
            Some(Some(j)) => self.samples[j] = v,
            Some(None) => {}
        }
    }

    fn finish(&mut self) -> TokenFit {
        let mut s = std::mem::take(&mut self.samples);
        s.sort_unstable();
        // Rounded to 1/100 token, so the numbers print as they are stored.
        let q = |p: f64| (quantile(&s, p) * 100.0).round() / 100.0;
        let quantiles: Vec<[f64; 2]> = PERCENTILES.iter().map(|&p| [p, q(p / 100.0)]).collect();
        let max = self.max.max(1);
        // llmcap's lognormal needs median > 0 and p90 >= median; draws are
        // at least 1 token anyway.
        let median = q(0.5).max(1.0);
        let p90 = q(0.9).max(median);
        let lognormal = TokenDist::lognormal(median, p90, max);
        let (mu, sigma) = match lognormal {
            TokenDist::LogNormal { mu, sigma, .. } => (mu, sigma),
            _ => (median.ln(), 0.0),
        };
        let empirical = TokenDist::Empirical {
            points: quantiles.iter().map(|[p, v]| (p / 100.0, *v)).collect(),
            max,
        };
        TokenFit {
            requests: self.n,
            sampled: s.len(),
            reservoir: (s.len() as u64) < self.n,
            mean: self.sum / self.n.max(1) as f64,
            min: self.min,
            max: self.max,
            zeros: self.zeros,
            lognormal: LogNormalFit {
                median,
                p90,
                mu,
                sigma,
                mean: lognormal.mean(),
                ks: ks_distance(&s, |k| sampled_cdf(&lognormal, k)),
            },
            empirical_mean: empirical.mean(),
            ks_empirical: ks_distance(&s, |k| sampled_cdf(&empirical, k)),
            quantiles,
            cdf: cdf_points(&s),
        }
    }
}

/// The quantile at `p` in 0..=1 of sorted `s`: linear interpolation between
/// order statistics at rank (n - 1) p (numpy's default, Hyndman-Fan type 7).
pub fn quantile(s: &[u32], p: f64) -> f64 {
    match s.len() {
        0 => 0.0,
        1 => s[0] as f64,
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let i = h.floor() as usize;
            let f = h - i as f64;
            if i + 1 >= n {
                s[n - 1] as f64
            } else {
                s[i] as f64 + f * (s[i + 1] as f64 - s[i] as f64)
            }
        }
    }
}

/// P(draw <= k) for whole `k` of llmcap's sampler for `d`: a continuous draw
/// x is rounded (x + 0.5 truncated) and clamped to [1, max], so for
/// 1 <= k < max it is P(x < k + 0.5).
pub fn sampled_cdf(d: &TokenDist, k: f64) -> f64 {
    let max = match d {
        TokenDist::LogNormal { max, .. }
        | TokenDist::Exponential { max, .. }
        | TokenDist::Empirical { max, .. } => *max as f64,
        TokenDist::Fixed(v) => return if k >= *v as f64 { 1.0 } else { 0.0 },
    };
    if k < 1.0 {
        return 0.0;
    }
    if k >= max {
        return 1.0;
    }
    let y = k + 0.5;
    match d {
        TokenDist::LogNormal { mu, sigma, .. } => {
            if *sigma > 0.0 {
                normal_cdf((y.ln() - mu) / sigma)
            } else if mu.exp() < y {
                1.0
            } else {
                0.0
            }
        }
        TokenDist::Exponential { mean, .. } => 1.0 - (-y / mean).exp(),
        TokenDist::Empirical { points, .. } => {
            // P(interp(U) < y): the u where the non-decreasing piecewise
            // linear inverse CDF reaches y.
            if points.first().is_none_or(|p| p.1 >= y) {
                return 0.0;
            }
            for w in points.windows(2) {
                let ((q0, v0), (q1, v1)) = (w[0], w[1]);
                if v0 < y && y <= v1 {
                    return q0 + (q1 - q0) * (y - v0) / (v1 - v0);
                }
            }
            1.0
        }
        TokenDist::Fixed(_) => unreachable!("handled above"),
    }
}

/// The Kolmogorov-Smirnov distance sup_k |F_n(k) - G(k)| between the
/// empirical CDF of sorted whole numbers `s` and a CDF `g` of whole numbers.
/// Both are step functions of whole k and F_n is flat between sample values,
/// so the supremum is at a sample value v or just below it (v - 1).
pub fn ks_distance(s: &[u32], g: impl Fn(f64) -> f64) -> f64 {
    let n = s.len() as f64;
    let mut d: f64 = 0.0;
    let mut below = 0.0;
    let mut i = 0;
    while i < s.len() {
        let v = s[i];
        let mut j = i;
        while j < s.len() && s[j] == v {
            j += 1;
        }
        let at = j as f64 / n;
        d = d.max((below - g(v as f64 - 1.0)).abs());
        d = d.max((at - g(v as f64)).abs());
        below = at;
        i = j;
    }
    d
}

/// The empirical CDF of sorted `s` on a log-spaced grid from the smallest
/// positive value to the largest: `[tokens, fraction <= tokens]`.
fn cdf_points(s: &[u32]) -> Vec<[f64; 2]> {
    let Some(&hi) = s.last() else {
        return Vec::new();
    };
    let lo = s.iter().copied().find(|&v| v > 0).unwrap_or(hi).max(1);
    let hi = hi.max(lo);
    let n = s.len() as f64;
    let (llo, lhi) = ((lo as f64).ln(), (hi as f64).ln());
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(CDF_POINTS);
    for i in 0..CDF_POINTS {
        let x = if i + 1 == CDF_POINTS {
            hi as f64
        } else {
            (llo + (lhi - llo) * i as f64 / (CDF_POINTS - 1) as f64).exp()
        };
        let f = s.partition_point(|&v| (v as f64) <= x) as f64 / n;
        if out.last().is_none_or(|p| p[0] < x) {
            out.push([x, f]);
        }
    }
    out
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

fn argmin(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] < v[b] { i } else { b })
}

/// A duration in words: "58.4 minutes", "3.5 hours", "12.0 days".
pub fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} seconds")
    } else if s < 3.0 * 3600.0 {
        format!("{:.1} minutes", s / 60.0)
    } else if s < 3.0 * 86_400.0 {
        format!("{:.1} hours", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86_400.0)
    }
}

/// Seconds since 1970 as "YYYY-MM-DD HH:MM:SS" (UTC).
pub fn utc(t: f64) -> String {
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};

    use super::*;
    use crate::domain::trace::{CsvMapping, TimeUnit};
    use crate::domain::traffic::{shape_profile, Z90};
    use crate::input::trace::parse_datetime;

    /// A trace in the repository (llmcap's own samples).
    pub(crate) fn shipped(file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/traces")
            .join(file)
    }

    /// A public trace from `../shared/traces/` next to the checkout (CI has it;
    /// the project does not ship other projects' data), or None after saying on
    /// the terminal that `test` skipped what needs it.
    pub(crate) fn public_trace(file: &str, test: &str) -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/traces")
            .join(file);
        if p.is_file() {
            return Some(p);
        }
        // Straight to stderr: the test harness captures eprintln!, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: needs {} (a public trace, not in the repository)",
            p.display()
        );
        None
    }

    /// The generic CSV layout of the synthetic traces: t (s), in, out.
    pub(crate) fn csv_format() -> TraceFormat {
        TraceFormat::Csv(CsvMapping {
            time: "t".into(),
            time_unit: TimeUnit::Seconds,
            input: "in".into(),
            output: "out".into(),
            model: None,
        })
    }

    /// Writes `(time_s, input, output)` rows as a CSV trace.
    pub(crate) fn write_trace(path: &Path, rows: &[(f64, u32, u32)]) {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        writeln!(w, "t,in,out").unwrap();
        for (t, i, o) in rows {
            writeln!(w, "{t:.6},{i},{o}").unwrap();
        }
    }

    /// A lognormal token count from its median and p90, rounded, at least 1.
    fn lognormal_tokens(rng: &mut SimRng, median: f64, p90: f64) -> u32 {
        let sigma = (p90 / median).ln() / Z90;
        let z: f64 = StandardNormal.sample(rng);
        ((median.ln() + sigma * z).exp().round() as u32).max(1)
    }

    /// A Poisson process at `rate` per second for `seconds`, with lognormal
    /// tokens (input median 500 p90 2000; output median 200 p90 600).
    pub(crate) fn poisson_trace(seed: u64, rate: f64, seconds: f64) -> Vec<(f64, u32, u32)> {
        let mut rng = stream(seed, 0, Purpose::Arrivals, 0);
        let mut t = 0.0;
        let mut rows = Vec::new();
        loop {
            let e: f64 = Exp1.sample(&mut rng);
            t += e / rate;
            if t >= seconds {
                return rows;
            }
            let i = lognormal_tokens(&mut rng, 500.0, 2000.0);
            let o = lognormal_tokens(&mut rng, 200.0, 600.0);
            rows.push((t, i, o));
        }
    }

    /// Counts per interval of `seconds`: each interval's rate is `rate(t)`
    /// times a Gamma factor (mean 1, variance k; none for k = 0); the count
    /// is Poisson and the times uniform within the interval.
    pub(crate) fn gamma_poisson_trace(
        seed: u64,
        rate: impl Fn(f64) -> f64,
        k: f64,
        interval: f64,
        seconds: f64,
    ) -> Vec<(f64, u32, u32)> {
        let mut rng = stream(seed, 0, Purpose::Arrivals, 1);
        let gamma = (k > 0.0).then(|| Gamma::new(1.0 / k, k).unwrap());
        let mut rows = Vec::new();
        let mut start = 0.0;
        while start < seconds {
            let g = gamma.map(|g| g.sample(&mut rng)).unwrap_or(1.0);
            let mean = rate(start) * interval * g;
            let n = if mean > 0.0 {
                Poisson::new(mean).unwrap().sample(&mut rng) as usize
            } else {
                0
            };
            let mut ts: Vec<f64> = (0..n)
                .map(|_| start + rng.random::<f64>() * interval)
                .collect();
            ts.sort_by(f64::total_cmp);
            rows.extend(ts.into_iter().map(|t| (t, 100, 10)));
            start += interval;
        }
        rows
    }

    fn median_of(mut v: Vec<u32>) -> f64 {
        v.sort_unstable();
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2] as f64
        } else {
            (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
        }
    }

    /// Token columns of an Azure CSV, parsed by hand.
    fn azure_tokens(path: &Path) -> (Vec<u32>, Vec<u32>) {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[1].trim().parse::<u32>().unwrap(),
                    f[2].trim().parse::<u32>().unwrap(),
                )
            })
            .unzip()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a / b - 1.0).abs() <= rel
    }

    #[test]
    fn azure_conv_trace() {
        let Some(path) = public_trace("azure2023_conv.csv", "fit::azure_conv_trace") else {
            return;
        };
        let f = fit(&path, TraceFormat::Azure, 60.0).unwrap();
        assert_eq!(f.requests, 19_366);
        assert_eq!(f.bad_rows.total, 0);
        assert!(f.wall_clock);
        assert_eq!(f.first_utc.as_deref(), Some("2023-11-16 18:15:46"));
        assert_eq!(f.last_utc.as_deref(), Some("2023-11-16 19:14:08"));
        // 19,366 requests over 3,501.7 s.
        assert!((f.span_s - 3501.72).abs() < 0.01, "{}", f.span_s);
        assert!((f.arrivals.mean_rps - 5.5304).abs() < 1e-3);
        assert_eq!(f.arrivals.intervals, 58);
        // Every request but those of the last, partial minute.
        let counted: u64 = f.arrivals.counts.iter().sum();
        assert!((19_000..19_366).contains(&counted), "{counted}");
        let idc = f.arrivals.index_of_dispersion.unwrap();
        assert!(idc > 5.0, "{idc}");
        let k = f.arrivals.overdispersion;
        assert!((k - (idc - 1.0) / f.arrivals.count_mean).abs() < 1e-12);
        assert!(f.arrivals.hourly.is_none());
        assert!(f.arrivals.hourly_note.contains("58.4 minutes"));

        let (inp, out) = azure_tokens(&path);
        assert_eq!(f.input_tokens.max, *inp.iter().max().unwrap());
        assert_eq!(f.output_tokens.max, *out.iter().max().unwrap());
        let mean = inp.iter().map(|&v| v as f64).sum::<f64>() / inp.len() as f64;
        assert!((f.input_tokens.mean - mean).abs() < 1e-9);
        assert_eq!(f.input_tokens.quantile(50.0), Some(median_of(inp)));
        assert_eq!(f.output_tokens.quantile(50.0), Some(median_of(out)));
        assert_eq!(f.input_tokens.lognormal.median, 1020.0);
        assert_eq!(f.output_tokens.lognormal.median, 129.0);
        for t in [&f.input_tokens, &f.output_tokens] {
            assert!(!t.reservoir);
            assert_eq!(t.sampled, 19_366);
            assert!(t.lognormal.ks > 0.0 && t.lognormal.ks < 0.5);
            assert!(t.ks_empirical > 0.0 && t.ks_empirical < t.lognormal.ks);
            let q: Vec<f64> = t.quantiles.iter().map(|q| q[1]).collect();
            assert!(q.windows(2).all(|w| w[0] <= w[1]), "{q:?}");
            assert_eq!(q[0], t.min as f64);
            assert_eq!(q[10], t.max as f64);
        }
    }

    #[test]
    fn azure_code_trace_is_bursty() {
        let Some(path) = public_trace("azure2023_code.csv", "fit::azure_code_trace_is_bursty")
        else {
            return;
        };
        let f = fit(&path, TraceFormat::Azure, 60.0).unwrap();
        assert_eq!(f.requests, 8_819);
        assert!((f.arrivals.mean_rps - 2.567).abs() < 0.01);
        // Much burstier than the conversation trace: whole idle minutes.
        assert!(f.arrivals.index_of_dispersion.unwrap() > 50.0);
        assert!(f.arrivals.overdispersion > 0.5);
        assert!(f.arrivals.counts.contains(&0));
        let (inp, out) = azure_tokens(&path);
        assert_eq!(f.input_tokens.quantile(50.0), Some(median_of(inp)));
        assert_eq!(f.output_tokens.quantile(50.0), Some(median_of(out)));
    }

    #[test]
    fn burstgpt_sample() {
        let b = fit(&shipped("burstgpt_sample.csv"), TraceFormat::BurstGpt, 60.0).unwrap();
        assert_eq!(b.requests, 6);
        assert_eq!(b.bad_rows.total, 0);
        assert!(b.arrivals.overdispersion >= 0.0);
    }

    #[test]
    fn mooncake_trace() {
        let Some(path) = public_trace("mooncake_fast25_conversation.jsonl", "fit::mooncake_trace")
        else {
            return;
        };
        let f = fit(&path, TraceFormat::Mooncake, 60.0).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(f.requests, rows.len() as u64);
        assert!(!f.wall_clock && f.first_utc.is_none());
        let last = rows.last().unwrap()["timestamp"].as_f64().unwrap() / 1000.0;
        assert!((f.span_s - last).abs() < 1e-9);
        assert!((f.arrivals.mean_rps - rows.len() as f64 / last).abs() < 1e-12);
        let col =
            |k: &str| -> Vec<u32> { rows.iter().map(|r| r[k].as_u64().unwrap() as u32).collect() };
        assert_eq!(
            f.input_tokens.quantile(50.0),
            Some(median_of(col("input_length")))
        );
        assert_eq!(
            f.output_tokens.quantile(50.0),
            Some(median_of(col("output_length")))
        );
    }

    #[test]
    fn poisson_trace_is_fitted_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("poisson.csv");
        // Two hours at 10 requests/s.
        let rows = poisson_trace(42, 10.0, 7200.0);
        write_trace(&path, &rows);
        let f = fit(&path, csv_format(), 60.0).unwrap();
        assert_eq!(f.requests, rows.len() as u64);
        let a = &f.arrivals;
        assert!(close(a.mean_rps, 10.0, 0.03), "rate {}", a.mean_rps);
        let idc = a.index_of_dispersion.unwrap();
        assert!((0.6..1.4).contains(&idc), "index of dispersion {idc}");
        assert!(a.overdispersion < 0.01, "k {}", a.overdispersion);
        for (t, median, p90) in [
            (&f.input_tokens, 500.0, 2000.0),
            (&f.output_tokens, 200.0, 600.0),
        ] {
            assert!(close(t.lognormal.median, median, 0.03), "{t:?}");
            assert!(close(t.lognormal.p90, p90, 0.05), "{t:?}");
            // The trace is what llmcap would sample: the KS distance is
            // sampling noise (~1/sqrt(n) = 0.004).
            assert!(t.lognormal.ks < 0.012, "KS {}", t.lognormal.ks);
        }
    }

    #[test]
    fn gamma_poisson_trace_is_fitted_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bursty.csv");
        // 23 hours (no hour-of-day profile), 2 requests/s, k = 0.5 per 60 s.
        let rows = gamma_poisson_trace(7, |_| 2.0, 0.5, 60.0, 23.0 * 3600.0);
        write_trace(&path, &rows);
        let f = fit(&path, csv_format(), 60.0).unwrap();
        let a = &f.arrivals;
        assert!(a.hourly.is_none());
        assert!(close(a.mean_rps, 2.0, 0.05), "rate {}", a.mean_rps);
        assert!(close(a.overdispersion, 0.5, 0.25), "k {}", a.overdispersion);
        assert_eq!(a.interval_s, 60);
        // IDC = 1 + k m with m = 120.
        assert!(a.index_of_dispersion.unwrap() > 30.0);
    }

    #[test]
    fn daily_profile_is_fitted_and_not_taken_for_burstiness() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("diurnal.csv");
        let shape = shape_profile(14.0, 3.0);
        let rows = gamma_poisson_trace(
            3,
            |t| shape[((t / 3600.0) as usize) % 24],
            0.0,
            60.0,
            3.0 * 86_400.0,
        );
        write_trace(&path, &rows);
        let f = fit(&path, csv_format(), 60.0).unwrap();
        let a = &f.arrivals;
        let hourly = a.hourly.as_ref().expect("a profile from 3 days");
        assert_eq!(a.hourly_basis, "hour 0 = the first request's hour");
        // The first request is within the first second, so hour h of the
        // trace is hour h of the profile.
        assert!(rows[0].0 < 1.0);
        for h in 0..24 {
            assert!(
                close(hourly[h], shape[h], 0.05),
                "hour {h}: {} vs {}",
                hourly[h],
                shape[h]
            );
        }
        assert!((hourly.iter().sum::<f64>() / 24.0 - 1.0).abs() < 1e-9);
        // Counts against the flat mean vary far more than Poisson, but
        // against the profile they do not.
        assert!(a.index_of_dispersion.unwrap() > 5.0);
        assert!(a.overdispersion < 0.01, "k {}", a.overdispersion);
        assert!(close(a.mean_rps, 1.0, 0.02));
    }

    #[test]
    fn wall_clock_profile_uses_utc_hours() {
        // Two days in the Azure format starting at 22:30 UTC, busy only from
        // 09:00 to 10:00 UTC.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wall.csv");
        let start = parse_datetime("2024-03-01 22:30:00").unwrap();
        let mut text = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
        let mut t = start;
        while t < start + 2.0 * 86_400.0 {
            let hour = ((t / 3600.0).floor() as i64).rem_euclid(24);
            let step = if hour == 9 { 1.0 } else { 10.0 };
            let s = utc(t);
            text.push_str(&format!("{s}.{:03},10,5\n", ((t.fract()) * 1000.0) as u32));
            t += step;
        }
        std::fs::write(&path, text).unwrap();
        let f = fit(&path, TraceFormat::Azure, 60.0).unwrap();
        let h = f.arrivals.hourly.as_ref().unwrap();
        assert_eq!(argmax(h), 9);
        assert!(close(h[9] / h[3], 10.0, 0.02), "{h:?}");
        assert_eq!(f.arrivals.hourly_basis, "UTC");
    }

    #[test]
    fn bad_rows_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(
            &path,
            "t,in,out\n0,10,5\nnoon,10,5\n1,-3,5\n2,10,5\n1.5,10,5\n3,10,x\n4,10,5\n5,7,\n",
        )
        .unwrap();
        let f = fit(&path, csv_format(), 60.0).unwrap();
        assert_eq!(f.requests, 3);
        assert_eq!(f.bad_rows.total, 5);
        let kinds: Vec<(&str, u64, Vec<u64>)> = f
            .bad_rows
            .kinds
            .iter()
            .map(|k| (k.kind, k.count, k.first_lines.clone()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("unparsable time", 1, vec![3]),
                ("bad token count", 3, vec![4, 7, 9]),
                ("time before the previous row", 1, vec![6]),
            ]
        );
        assert!(f.bad_rows.kinds[0].first_message.contains("noon"));
    }

    #[test]
    fn unusable_inputs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        write_trace(&path, &[(0.0, 1, 1), (10.0, 1, 1)]);
        for bad in [0.0, 7.0, 2.5, -60.0, f64::NAN, 7200.0] {
            let e = fit(&path, csv_format(), bad).unwrap_err();
            assert_eq!(e.path(), "--interval", "{bad}: {e}");
        }
        assert!(fit(&path, csv_format(), 3600.0).is_ok());
        write_trace(&path, &[(5.0, 1, 1)]);
        assert!(fit(&path, csv_format(), 60.0)
            .unwrap_err()
            .to_string()
            .contains("at least 2"));
        write_trace(&path, &[(5.0, 1, 1), (5.0, 2, 2)]);
        assert!(fit(&path, csv_format(), 60.0)
            .unwrap_err()
            .to_string()
            .contains("same time"));
        assert!(matches!(
            fit(&dir.path().join("missing.csv"), csv_format(), 60.0),
            Err(InputError::Read { .. })
        ));
        // A time in ms read as seconds: a span of centuries.
        write_trace(&path, &[(0.0, 1, 1), (1.7e12, 1, 1)]);
        assert!(fit(&path, csv_format(), 60.0)
            .unwrap_err()
            .to_string()
            .contains("longer interval"));
    }

    #[test]
    fn short_trace_has_no_burstiness_estimate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.csv");
        write_trace(&path, &[(0.0, 1, 1), (30.0, 2, 2), (70.0, 3, 3)]);
        let f = fit(&path, csv_format(), 60.0).unwrap();
        assert_eq!(f.arrivals.intervals, 1);
        assert_eq!(f.arrivals.index_of_dispersion, None);
        assert_eq!(f.arrivals.overdispersion, 0.0);
        assert!(f
            .arrivals
            .overdispersion_note
            .as_deref()
            .unwrap()
            .contains("at least 2"));
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let s = [1, 2, 3, 4];
        assert_eq!(quantile(&s, 0.5), 2.5);
        assert_eq!(quantile(&s, 0.0), 1.0);
        assert_eq!(quantile(&s, 1.0), 4.0);
        assert_eq!(quantile(&s, 0.9), 3.7);
        assert_eq!(quantile(&[7], 0.3), 7.0);
        assert_eq!(quantile(&[], 0.3), 0.0);
    }

    #[test]
    fn sampled_cdf_matches_the_sampler() {
        let dists = [
            TokenDist::lognormal(20.0, 80.0, 150),
            TokenDist::Empirical {
                points: vec![(0.0, 0.0), (0.5, 10.0), (0.9, 40.0), (1.0, 300.0)],
                max: 200,
            },
        ];
        for d in &dists {
            let mut rng = stream(5, 0, Purpose::Tokens, 0);
            let n = 400_000;
            let mut v: Vec<u32> = (0..n).map(|_| d.sample(&mut rng)).collect();
            v.sort_unstable();
            for k in [
                0.0, 1.0, 3.0, 10.0, 19.0, 20.0, 40.0, 149.0, 150.0, 199.0, 200.0,
            ] {
                let freq = v.partition_point(|&x| x as f64 <= k) as f64 / n as f64;
                let p = sampled_cdf(d, k);
                assert!(
                    (freq - p).abs() < 0.004,
                    "{}: P(<= {k}) = {p}, sampled {freq}",
                    d.describe()
                );
            }
            // The KS distance of a large sample from its own distribution is small.
            assert!(ks_distance(&v, |k| sampled_cdf(d, k)) < 0.004);
        }
    }

    #[test]
    fn ks_distance_of_step_functions() {
        // Sample {1, 2, 2, 4}; against a point mass at 2, the gap is largest
        // at 1 (1/4 vs 0) or at 2 (3/4 vs 1) or at 3 (3/4 vs 1): 0.25.
        let s = [1, 2, 2, 4];
        let point = |k: f64| if k >= 2.0 { 1.0 } else { 0.0 };
        assert!((ks_distance(&s, point) - 0.25).abs() < 1e-12);
        // Against its own ECDF: 0.
        let own = |k: f64| s.iter().filter(|&&v| v as f64 <= k).count() as f64 / 4.0;
        assert_eq!(ks_distance(&s, own), 0.0);
        // Against a point mass at 10, everything is below: 1.
        assert_eq!(ks_distance(&s, |k| if k >= 10.0 { 1.0 } else { 0.0 }), 1.0);
    }

    #[test]
    fn reservoir_keeps_a_uniform_sample_and_exact_totals() {
        let mut acc = Accumulator::new(60.0, false, 1000);
        let n = 100_000u32;
        for i in 0..n {
            acc.add(i as f64 * 0.01, i, n - i).unwrap();
        }
        let t = acc.input.finish();
        assert_eq!(t.sampled, 1000);
        assert!(t.reservoir);
        assert_eq!((t.min, t.max, t.requests), (0, n - 1, n as u64));
        assert!((t.mean - (n - 1) as f64 / 2.0).abs() < 1e-6);
        // Uniform over 0..n: the sample's median is near n / 2.
        let median = t.quantile(50.0).unwrap();
        assert!(close(median, n as f64 / 2.0, 0.1), "{median}");
        let o = acc.output.finish();
        assert_eq!(o.sampled, 1000);
    }

    #[test]
    fn utc_formats_and_round_trips() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_700_158_546.68), "2023-11-16 18:15:46");
        for s in [
            "2000-02-29 12:34:56",
            "1999-12-31 23:59:59",
            "2024-03-01 00:00:00",
        ] {
            assert_eq!(utc(parse_datetime(s).unwrap()), s);
        }
        assert_eq!(duration(59.0), "59 seconds");
        assert_eq!(duration(3501.7), "58.4 minutes");
        assert_eq!(duration(86_400.0), "24.0 hours");
        assert_eq!(duration(10.0 * 86_400.0), "10.0 days");
    }
}
