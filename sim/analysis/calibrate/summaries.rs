//! The fit to level summaries: per-benchmark statistics of a GuideLLM report that keeps no
//! per-request rows. Each load level is known by its served count n, its reported TTFT
//! percentiles and its throughput; the model and the steps are those of the per-request fit
//! (docs/calibrate.md "The fit"), applied to the reported percentiles instead of sample ones.
//!
//! Without rows there is nothing to resample: the intervals are a parametric bootstrap from
//! the large-sample distribution of sample quantiles. The quantiles of n draws are jointly
//! normal around the true ones, q̂(p) ≈ q(p) + B(p) / (√n f(q(p))), with B a Brownian bridge
//! (cov B(p), B(p') = min(p, p') − p p'); under a lognormal with shape σ, f(q) q = φ(z_p) / σ,
//! so ln q̂(p) ≈ ln q(p) + σ B(p) / (√n φ(z_p)). Each replicate perturbs every level's log
//! percentiles so and fits again.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::requests::slowdown;
use super::stats::{interval, line, Z, Z99};
use super::{
    Base, Calibration, Estimate, HoldoutRow, Level, Load, Options, BOOTSTRAP, MAX_RHO,
    MIN_FIT_REQUESTS, MIN_LEVEL_REQUESTS,
};
use crate::domain::measurement::{LevelKind, LevelSummary, Measurements};
use crate::error::ValueError;
use crate::model::rng::SimRng;

/// Index of the median in [`Z`].
const MID: usize = 2;
/// Held-out percentiles predicted: (name, probability, z).
const PREDICTED: [(&str, f64, f64); 3] = [
    ("p50", 0.5, 0.0),
    ("p90", 0.9, 1.281_551_6),
    ("p99", 0.99, Z99),
];

struct Lvl<'a> {
    s: &'a LevelSummary,
    /// ln of the reported TTFT percentiles at the probabilities of [`Z`].
    logq: Option<[f64; 7]>,
    tokens_per_min: Option<f64>,
    hold: bool,
}

impl Lvl<'_> {
    /// Fit for the load line: a level, enough requests, percentiles and a throughput.
    fn usable(&self) -> bool {
        self.s.level.is_some()
            && self.s.served >= MIN_LEVEL_REQUESTS as u64
            && self.logq.is_some()
            && self.tokens_per_min.is_some()
    }
}

/// What the fit uses of a level: (n, tokens per minute, log percentiles).
type Point = (f64, Option<f64>, [f64; 7]);

/// One fit: the base lognormal (median, σ) and the load line (m₀, S) when fitted.
#[derive(Debug, Clone, Copy)]
struct Fit {
    median: f64,
    sigma: f64,
    line: Option<(f64, f64)>,
}

/// The reported percentile at `p`, if the summary has it.
fn at(s: &LevelSummary, p: f64) -> Option<f64> {
    s.ttft_ms
        .iter()
        .find(|q| (q.0 - p).abs() < 1e-9)
        .map(|q| q.1)
}

fn log_quantiles(s: &LevelSummary) -> Option<[f64; 7]> {
    let mut out = [0.0; 7];
    for (i, (p, _)) in Z.iter().enumerate() {
        let v = at(s, *p).filter(|v| *v > 0.0)?;
        out[i] = v.ln();
    }
    Some(out)
}

/// The level's own tokens per minute: served requests per second (or Little's law, the mean
/// concurrency over the mean end-to-end latency) × tokens per request.
fn tokens_per_min(s: &LevelSummary, kind: LevelKind) -> Option<f64> {
    let tokens = s.input_mean? + s.output_mean.unwrap_or(0.0);
    let rps = s.requests_per_s.filter(|r| *r > 0.0).or_else(|| {
        let c = s.level.filter(|_| kind == LevelKind::Concurrency)?;
        s.e2e_mean_s.filter(|e| *e > 0.0).map(|e| c / e)
    })?;
    (tokens > 0.0).then_some(rps * tokens * 60.0)
}

/// The load line through the levels' medians (m = m₀ + (1/S) m Y) and the base lognormal of
/// their percentiles divided by each level's slowdown: ln median = the n-weighted mean of the
/// levels' ln medians, σ by least squares through it over every level's other percentiles.
fn fit_once(points: &[Point], with_load: bool) -> Option<Fit> {
    let line_fit = if with_load {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|(_, y, q)| Some((q[MID].exp() * (*y)?, q[MID].exp())))
            .collect();
        let (a, b) = line(&pts)?;
        if !(a > 0.0 && b > 0.0) {
            return None;
        }
        Some((a, 1.0 / b))
    } else {
        None
    };
    let shift = |y: &Option<f64>| match (line_fit, y) {
        (Some((_, s)), Some(y)) => slowdown(*y, s).ln(),
        _ => 0.0,
    };
    let n: f64 = points.iter().map(|p| p.0).sum();
    let ln_m = points
        .iter()
        .map(|(w, y, q)| w * (q[MID] - shift(y)))
        .sum::<f64>()
        / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (w, y, q) in points {
        for (i, (_, z)) in Z.iter().enumerate() {
            if i != MID {
                num += w * z * (q[i] - shift(y) - ln_m);
                den += w * z * z;
            }
        }
    }
    Some(Fit {
        median: ln_m.exp(),
        sigma: (num / den).max(0.0),
        line: line_fit,
    })
}

/// φ(z), the standard normal density.
fn phi(z: f64) -> f64 {
    (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// One replicate of a level's log percentiles: σ B(p) / (√n φ(z_p)) added, with B a Brownian
/// bridge drawn at the probabilities of [`Z`].
fn perturbed(p: &Point, sigma: f64, rng: &mut SimRng) -> Point {
    let (mut w, mut last) = (0.0, 0.0);
    let mut ws = [0.0; 7];
    for (i, (prob, _)) in Z.iter().enumerate() {
        let g: f64 = StandardNormal.sample(rng);
        w += (prob - last).sqrt() * g;
        ws[i] = w;
        last = *prob;
    }
    let g: f64 = StandardNormal.sample(rng);
    let w1 = w + (1.0 - last).sqrt() * g;
    let mut q = p.2;
    for (i, (prob, z)) in Z.iter().enumerate() {
        let bridge = ws[i] - prob * w1;
        q[i] += sigma * bridge / (p.0.sqrt() * phi(*z));
    }
    (p.0, p.1, q)
}

/// The held-out levels: with k ≥ 3 usable levels, round(f × k) of them (at least 1, at most
/// k − 2), evenly spaced between the lowest and the highest load, which always stay in the fit.
fn choose_holdout(levels: &mut [Lvl], f: f64, cannot: &mut Vec<String>) {
    let usable: Vec<usize> = (0..levels.len()).filter(|&i| levels[i].usable()).collect();
    let k = usable.len();
    if f <= 0.0 {
        return;
    }
    if k < 3 {
        cannot.push(format!(
            "holdout: without per-request rows a level's reported percentiles cannot be split into fitted and held-out requests, so whole levels are held out, which needs 3 or more levels with at least {MIN_LEVEL_REQUESTS} served requests, percentiles and a throughput (found {k}; holding one out would leave too few for the load fit); nothing was held out"
        ));
        return;
    }
    let h = ((f * k as f64).round() as usize).clamp(1, k - 2);
    for i in 0..h {
        let pos = ((i + 1) as f64 * (k - 1) as f64 / (h + 1) as f64).round() as usize;
        levels[usable[pos]].hold = true;
    }
}

pub(super) fn fit(sets: &[Measurements], opts: &Options) -> Result<Calibration, ValueError> {
    let kind = sets
        .first()
        .map_or(LevelKind::Concurrency, |m| m.level_kind);
    let mut cannot = Vec::new();
    for m in sets.iter().filter(|m| m.summaries.is_empty()) {
        cannot.push(format!(
            "{}: its per-request rows were not used: other files hold statistics only, and one fit uses one kind of measurement",
            m.file.display()
        ));
    }
    let mut levels: Vec<Lvl> = sets
        .iter()
        .flat_map(|m| &m.summaries)
        .map(|s| Lvl {
            s,
            logq: log_quantiles(s),
            tokens_per_min: tokens_per_min(s, kind),
            hold: false,
        })
        .collect();
    levels.sort_by(|a, b| {
        let key = |l: &Lvl| l.s.level.unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b))
    });
    choose_holdout(&mut levels, opts.holdout, &mut cannot);
    let served: u64 = levels
        .iter()
        .filter(|l| !l.hold && l.logq.is_some())
        .map(|l| l.s.served)
        .sum();
    if served < MIN_FIT_REQUESTS as u64 {
        return Err(ValueError::new(format!(
            "too few served requests to fit a TTFT distribution: the level summaries count {served} with TTFT percentiles (after the holdout), at least {MIN_FIT_REQUESTS} needed"
        )));
    }
    cannot.push("prefill time per 1k input tokens: a level summary gives one mean prompt length per load level, so the time prompt length adds cannot be told apart from the load or the base latency; prefill_ms_per_1k_input is set to 0 and the base latency includes the prefill of the test's prompts".into());
    if levels.iter().any(|l| l.s.errored > 0) {
        cannot.push("429s: GuideLLM's statistics count errored requests without their status, so they are tabulated as other errors".into());
    }
    let train: Vec<&Lvl> = levels.iter().filter(|l| !l.hold && l.usable()).collect();
    let mut with_load = train.len() >= 2;
    if !with_load {
        cannot.push(format!(
            "load dependence: needs two or more load levels with at least {MIN_LEVEL_REQUESTS} served requests, TTFT percentiles and a throughput (requests per second, or the concurrency and mean latency, with the tokens per request); found {} of {} level summaries, so TTFT is fitted at the measured load only and the fragment keeps the pool's load settings",
            train.len(),
            levels.len()
        ));
    }
    let load_points: Vec<Point> = train
        .iter()
        .map(|l| {
            (
                l.s.served as f64,
                l.tokens_per_min,
                l.logq.unwrap_or_default(),
            )
        })
        .collect();
    let mut fitted = if with_load {
        fit_once(&load_points, true)
    } else {
        None
    };
    if with_load && fitted.is_none() {
        cannot.push(format!(
            "load dependence: TTFT did not grow with the deployment's own load ({}); no slowdown is fitted",
            train.iter().map(|l| format!("median {:.0} ms at {:.0} tokens/min", l.logq.unwrap_or_default()[MID].exp(), l.tokens_per_min.unwrap_or(0.0))).collect::<Vec<_>>().join(", ")
        ));
        with_load = false;
    }
    let points: Vec<Point> = if with_load {
        load_points
    } else {
        let lowest = lowest_level(&levels, &mut cannot)?;
        fitted = fit_once(&[lowest], false);
        vec![lowest]
    };
    let fit = fitted.ok_or("the base latency could not be fitted to the reported percentiles")?;
    let pool = fit.line.map(|l| l.1);
    if let Some(s) = pool {
        let top = points
            .iter()
            .filter_map(|p| p.1)
            .map(|y| y / s)
            .fold(0.0, f64::max);
        if top > MAX_RHO {
            cannot.push(format!(
                "load dependence: the fit puts the busiest level at {:.0}% of the pool, beyond the model's cap of {:.0}% (max_pool_utilization), where its slowdown stops growing",
                top * 100.0,
                MAX_RHO * 100.0
            ));
        }
    }
    let (median, p99, pool_ci) = intervals(&points, &fit, with_load, opts.seed);
    let base = base_of(&points, &fit, median, p99, with_load);
    let load = fit.line.map(|(m0, s)| Load {
        shared_pool_tpm: Estimate {
            value: s,
            lo: pool_ci.0,
            hi: pool_ci.1,
        },
        points: train
            .iter()
            .map(|l| {
                let y = l.tokens_per_min.unwrap_or(0.0);
                (
                    l.s.level,
                    y,
                    l.logq.unwrap_or_default()[MID].exp(),
                    m0 * slowdown(y, s),
                )
            })
            .collect(),
    });
    let holdout = predict(&levels, &fit, &mut cannot);
    Ok(Calibration {
        deployment: opts.deployment.clone(),
        format: sets[0].format,
        level_kind: kind,
        sources: Vec::new(),
        levels: levels.iter().map(level_of).collect(),
        base,
        prefill: None,
        load,
        reserved: None,
        holdout_fraction: opts.holdout,
        holdout,
        cannot,
        from_summaries: true,
        seed: opts.seed,
    })
}

/// Without a load fit, the base is fitted at the lowest level with enough requests, as the
/// per-request fit does.
fn lowest_level(levels: &[Lvl], cannot: &mut Vec<String>) -> Result<Point, ValueError> {
    let lowest = levels
        .iter()
        .find(|l| !l.hold && l.logq.is_some() && l.s.served >= MIN_FIT_REQUESTS as u64)
        .ok_or_else(|| ValueError::new(format!(
            "too few served requests at any one load level to fit a TTFT distribution (at least {MIN_FIT_REQUESTS} needed; the level summaries count {})",
            levels.iter().map(|l| l.s.served.to_string()).collect::<Vec<_>>().join(", ")
        )))?;
    if levels.len() > 1 {
        cannot.push(format!(
            "base latency: fitted at the lowest load level ({}) only; without a load fit the other levels are predicted as if they had its load",
            level_text(lowest.s)
        ));
    }
    Ok((
        lowest.s.served as f64,
        None,
        lowest.logq.unwrap_or_default(),
    ))
}

fn level_text(s: &LevelSummary) -> String {
    s.level
        .map_or("the measured load".into(), |l| format!("{l:.3}"))
}

/// 95% intervals of the base median, p99 and the pool size: the parametric bootstrap of the
/// module doc, seeded.
fn intervals(
    points: &[Point],
    fit: &Fit,
    with_load: bool,
    seed: u64,
) -> ((f64, f64), (f64, f64), (f64, f64)) {
    let mut rng = SimRng::seed_from_u64(seed ^ 0x5e3a_11ed_0000_0015);
    let reps: Vec<Option<Fit>> = (0..BOOTSTRAP)
        .map(|_| {
            let p: Vec<Point> = points
                .iter()
                .map(|p| perturbed(p, fit.sigma, &mut rng))
                .collect();
            fit_once(&p, with_load)
        })
        .collect();
    let pick = |f: &dyn Fn(&Fit) -> f64| {
        interval(
            reps.iter()
                .map(|r| r.as_ref().map_or(f64::NAN, f))
                .collect(),
        )
    };
    (
        pick(&|f| f.median),
        pick(&|f| f.median * (Z99 * f.sigma).exp()),
        pick(&|f| f.line.map_or(f64::NAN, |l| l.1)),
    )
}

fn base_of(
    points: &[Point],
    fit: &Fit,
    median: (f64, f64),
    p99: (f64, f64),
    with_load: bool,
) -> Base {
    let shift = |y: &Option<f64>| match (fit.line, y) {
        (Some((_, s)), Some(y)) => slowdown(*y, s).ln(),
        _ => 0.0,
    };
    let n: f64 = points.iter().map(|p| p.0).sum();
    let quantiles = Z
        .iter()
        .enumerate()
        .map(|(i, &(p, z))| {
            let measured = points
                .iter()
                .map(|(w, y, q)| w * (q[i] - shift(y)))
                .sum::<f64>()
                / n;
            (p, measured.exp(), fit.median * (fit.sigma * z).exp())
        })
        .collect();
    let how = if with_load {
        format!("the reported TTFT percentiles of {} load levels ({} served requests), each divided by its level's fitted slowdown (zero load)", points.len(), n)
    } else {
        format!("the reported TTFT percentiles of one load level ({n} served requests)")
    };
    Base {
        median_ms: Estimate {
            value: fit.median,
            lo: median.0,
            hi: median.1,
        },
        p99_ms: Estimate {
            value: fit.median * (Z99 * fit.sigma).exp(),
            lo: p99.0,
            hi: p99.1,
        },
        sigma: fit.sigma,
        ks: None,
        n: n as usize,
        quantiles,
        how,
    }
}

/// Each held-out level's reported p50, p90 and p99 against the fitted model at its load:
/// s × median × e^(σ z).
fn predict(levels: &[Lvl], fit: &Fit, cannot: &mut Vec<String>) -> Vec<HoldoutRow> {
    let rows: Vec<HoldoutRow> = levels
        .iter()
        .filter(|l| l.hold)
        .map(|l| {
            let s = match (fit.line, l.tokens_per_min) {
                (Some((_, pool)), Some(y)) => slowdown(y, pool),
                _ => 1.0,
            };
            HoldoutRow {
                level: l.s.level,
                n: l.s.served as usize,
                stats: PREDICTED
                    .iter()
                    .filter_map(|&(name, p, z)| {
                        Some((
                            name.to_string(),
                            at(l.s, p)?,
                            s * fit.median * (fit.sigma * z).exp(),
                        ))
                    })
                    .collect(),
            }
        })
        .collect();
    if rows.iter().any(|r| r.n < 100) {
        cannot.push("holdout: a reported p99 of fewer than 100 requests is close to their maximum; read it as a rough check".into());
    }
    rows
}

fn level_of(l: &Lvl) -> Level {
    Level {
        level: l.s.level,
        requests: l.s.served + l.s.errored,
        served: l.s.served,
        throttled: 0,
        errors: l.s.errored,
        ttft_ms: Vec::new(),
        ttft_quantiles_ms: l.s.ttft_ms.clone(),
        mean_input: l.s.input_mean,
        tokens_per_min: l.tokens_per_min,
        window_ttft_ms: None,
        util_pct: None,
        offered_rps: None,
    }
}
