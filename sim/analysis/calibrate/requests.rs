//! The fit to per-request measurements (LLMPerf, GuideLLM, CSV).

use crate::error::ValueError;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::stats::{
    draw, interval, ks_lognormal, line, lognormal_by_quantiles, mean, quantile, sorted,
    within_slope, Z, Z99,
};
use super::{
    Base, Calibration, Estimate, HoldoutRow, Level, Load, Options, Prefill, BOOTSTRAP, MAX_RHO,
    MIN_FIT_REQUESTS, MIN_LEVEL_REQUESTS,
};
use crate::domain::measurement::{LevelKind, Measurements, Outcome, RequestSample};
use crate::model::rng::SimRng;

/// One load level: its requests in order, and the served ones split into fit and holdout
/// as (TTFT ms, prompt tokens / 1000).
struct Group<'a> {
    level: Option<f64>,
    all: Vec<&'a RequestSample>,
    train: Vec<(f64, f64)>,
    hold: Vec<(f64, f64)>,
    tokens_per_min: Option<f64>,
    /// The load slowdown fitted for this level (1 without a load fit).
    slowdown: f64,
}

pub(super) fn fit(sets: &[Measurements], opts: &Options) -> Result<Calibration, ValueError> {
    let kind = sets
        .first()
        .map_or(LevelKind::Concurrency, |m| m.level_kind);
    let mut groups = group(sets, opts.holdout, kind);
    let mut cannot = Vec::new();
    let mut rng = SimRng::seed_from_u64(opts.seed ^ 0x00ca_1b2a_7e00_0015);
    let served: usize = groups.iter().map(|g| g.train.len()).sum();
    if served < MIN_FIT_REQUESTS {
        return Err(ValueError::new(format!(
            "too few served requests to fit a TTFT distribution: {served} left to fit (after the holdout), at least {MIN_FIT_REQUESTS} needed"
        )));
    }
    // Prefill first on the raw TTFT, then the load, then prefill again on TTFT with the
    // load taken out (under load_slows = "all" the within-level slope is s_L times k).
    let mut prefill = prefill_fit(&groups, &mut rng, &mut cannot);
    let k = |p: &Option<Prefill>| p.as_ref().map_or(0.0, |p| p.ms_per_1k.value);
    let load = load_fit(&groups, &mut rng, &mut cannot);
    if let Some(l) = &load {
        for g in &mut groups {
            g.slowdown = g
                .tokens_per_min
                .map_or(1.0, |y| slowdown(y, l.shared_pool_tpm.value));
        }
        let mut quiet = Vec::new();
        prefill = prefill_fit(&groups, &mut rng, &mut quiet);
    }
    let base = base_fit(&groups, load.is_some(), k(&prefill), &mut rng, &mut cannot)?;
    let holdout = predict(
        &groups,
        &base,
        k(&prefill),
        load.is_some(),
        opts.seed,
        &mut cannot,
    );
    let levels = groups.iter().map(level_summary).collect();
    Ok(Calibration {
        deployment: opts.deployment.clone(),
        format: sets[0].format,
        level_kind: kind,
        sources: Vec::new(),
        levels,
        base,
        prefill,
        load,
        reserved: None,
        holdout_fraction: opts.holdout,
        holdout,
        cannot,
        from_summaries: false,
        seed: opts.seed,
    })
}

/// P-S slowdown at own load `y` tokens/min in a pool of `s`, capped as llmcap caps it.
pub(super) fn slowdown(y: f64, s: f64) -> f64 {
    1.0 / (1.0 - (y / s).min(MAX_RHO))
}

fn group<'a>(sets: &'a [Measurements], holdout: f64, kind: LevelKind) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    for r in sets.iter().flat_map(|m| &m.requests) {
        match groups.iter_mut().find(|g| g.level == r.level) {
            Some(g) => g.all.push(r),
            None => groups.push(Group {
                level: r.level,
                all: vec![r],
                train: Vec::new(),
                hold: Vec::new(),
                tokens_per_min: None,
                slowdown: 1.0,
            }),
        }
    }
    groups.sort_by(|a, b| {
        a.level
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.level.unwrap_or(f64::NEG_INFINITY))
    });
    for g in &mut groups {
        if g.all.iter().all(|r| r.start_s.is_some()) {
            g.all.sort_by(|a, b| {
                a.start_s
                    .unwrap_or(0.0)
                    .total_cmp(&b.start_s.unwrap_or(0.0))
            });
        }
        let served: Vec<(f64, f64)> = g
            .all
            .iter()
            .filter(|r| r.outcome == Outcome::Ok)
            .filter_map(|r| Some((r.ttft_s? * 1000.0, r.input? as f64 / 1000.0)))
            .collect();
        let n_hold = (served.len() as f64 * holdout).floor() as usize;
        let cut = served.len() - n_hold;
        g.train = served[..cut].to_vec();
        g.hold = served[cut..].to_vec();
        g.tokens_per_min = tokens_per_min(&g.all, g.level, kind);
    }
    groups
}

/// The deployment's own tokens per minute at a level: from the start times of its served
/// requests when the file has them, else (closed loop) from Little's law: clients / mean
/// end-to-end latency requests per second.
fn tokens_per_min(all: &[&RequestSample], level: Option<f64>, kind: LevelKind) -> Option<f64> {
    let served: Vec<&&RequestSample> = all.iter().filter(|r| r.outcome == Outcome::Ok).collect();
    if served.len() < 2 {
        return None;
    }
    let tokens = mean(
        &served
            .iter()
            .map(|r| (r.input.unwrap_or(0) + r.output.unwrap_or(0)) as f64)
            .collect::<Vec<_>>(),
    );
    let starts: Option<Vec<f64>> = served.iter().map(|r| r.start_s).collect();
    if let Some(s) = starts {
        let (lo, hi) = s
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(*x), b.max(*x))
            });
        if hi > lo {
            return Some((served.len() - 1) as f64 / (hi - lo) * 60.0 * tokens);
        }
    }
    let c = level.filter(|_| kind == LevelKind::Concurrency)?;
    let e2e: Option<Vec<f64>> = served.iter().map(|r| r.e2e_s).collect();
    let e = mean(&e2e?);
    (e > 0.0).then(|| c / e * 60.0 * tokens)
}

fn prefill_fit(groups: &[Group], rng: &mut SimRng, cannot: &mut Vec<String>) -> Option<Prefill> {
    let points: Vec<(usize, f64, f64)> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, g)| g.train.iter().map(move |&(y, x)| (i, x, y / g.slowdown)))
        .collect();
    let xs = sorted(points.iter().map(|p| p.1).collect());
    let distinct = xs.windows(2).filter(|w| w[1] > w[0]).count() + 1;
    let spread = (xs[xs.len() - 1] - xs[0]) / mean(&xs).max(1e-9);
    if distinct < 3 || spread < 0.1 {
        cannot.push(format!(
            "prefill time per 1k input tokens: every prompt had about {:.0} tokens, so the time prompt length adds cannot be told apart from the base latency; prefill_ms_per_1k_input is set to 0 and the base latency includes the prefill of such a prompt (measure with varied prompt lengths to fit it)",
            quantile(&xs, 0.5) * 1000.0
        ));
        return None;
    }
    let (b, r2) = within_slope(&points, groups.len())?;
    let reps: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let mut res = Vec::with_capacity(points.len());
            for (i, g) in groups.iter().enumerate() {
                for _ in 0..g.train.len() {
                    let (y, x) = g.train[draw(rng, g.train.len())];
                    res.push((i, x, y / g.slowdown));
                }
            }
            within_slope(&res, groups.len()).map_or(f64::NAN, |s| s.0)
        })
        .collect();
    let (lo, hi) = interval(reps);
    if b <= 0.0 {
        cannot.push(format!(
            "prefill time per 1k input tokens: TTFT did not grow with prompt length (slope {b:.1} ms per 1k tokens, 95% interval {lo:.1} to {hi:.1}); set to 0"
        ));
        return None;
    }
    Some(Prefill {
        ms_per_1k: Estimate { value: b, lo, hi },
        r2,
        n: points.len(),
    })
}

/// Medians of TTFT with the prefill taken out, per level that has a throughput.
fn level_medians(groups: &[Group], rng: Option<&mut SimRng>) -> Vec<(Option<f64>, f64, f64)> {
    let mut out = Vec::new();
    let mut rng = rng;
    for g in groups {
        let (Some(y), Some(_)) = (g.tokens_per_min, g.level) else {
            continue;
        };
        if g.train.len() < MIN_LEVEL_REQUESTS {
            continue;
        }
        let v: Vec<f64> = match rng.as_deref_mut() {
            None => g.train.iter().map(|p| p.0).collect(),
            Some(r) => (0..g.train.len())
                .map(|_| g.train[draw(r, g.train.len())].0)
                .collect(),
        };
        out.push((g.level, y, quantile(&sorted(v), 0.5)));
    }
    out
}

fn load_fit(groups: &[Group], rng: &mut SimRng, cannot: &mut Vec<String>) -> Option<Load> {
    let m = level_medians(groups, None);
    if m.len() < 2 {
        cannot.push(format!(
            "load dependence: needs two or more load levels with at least {MIN_LEVEL_REQUESTS} served requests and a measurable throughput each; found {} ({}), so TTFT is fitted at the measured load only and the fragment keeps the pool's load settings",
            m.len(),
            groups.iter().map(|g| format!("{} at {}", g.train.len(), g.level.map_or("an unknown level".into(), |l| format!("{l:.3}")))).collect::<Vec<_>>().join(", ")
        ));
        return None;
    }
    // m_L = m0 / (1 - Y_L / S)  <=>  m_L = m0 + (1/S) (m_L Y_L): a line through the levels.
    let fit_s = |m: &[(Option<f64>, f64, f64)]| -> Option<(f64, f64)> {
        let (a, b) = line(&m.iter().map(|p| (p.2 * p.1, p.2)).collect::<Vec<_>>())?;
        (b > 0.0 && a > 0.0).then_some((a, 1.0 / b))
    };
    let Some((m0, s)) = fit_s(&m) else {
        cannot.push(format!(
            "load dependence: TTFT did not grow with the deployment's own load ({}); no slowdown is fitted",
            m.iter().map(|p| format!("median {:.0} ms at {:.0} tokens/min", p.2, p.1)).collect::<Vec<_>>().join(", ")
        ));
        return None;
    };
    let reps: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| fit_s(&level_medians(groups, Some(rng))).map_or(f64::NAN, |f| f.1))
        .collect();
    let (lo, hi) = interval(reps);
    let top = m.iter().map(|p| p.1 / s).fold(0.0, f64::max);
    if top > MAX_RHO {
        cannot.push(format!(
            "load dependence: the fit puts the busiest level at {:.0}% of the pool, beyond the model's cap of {:.0}% (max_pool_utilization), where its slowdown stops growing",
            top * 100.0,
            MAX_RHO * 100.0
        ));
    }
    Some(Load {
        shared_pool_tpm: Estimate { value: s, lo, hi },
        points: m
            .iter()
            .map(|p| (p.0, p.1, p.2, m0 * slowdown(p.1, s)))
            .collect(),
    })
}

fn base_fit(
    groups: &[Group],
    with_load: bool,
    k: f64,
    rng: &mut SimRng,
    cannot: &mut Vec<String>,
) -> Result<Base, ValueError> {
    let lowest = groups
        .iter()
        .position(|g| g.train.len() >= MIN_FIT_REQUESTS)
        .ok_or_else(|| format!(
            "too few served requests at any one load level to fit a TTFT distribution (at least {MIN_FIT_REQUESTS} needed; found {})",
            groups.iter().map(|g| g.train.len().to_string()).collect::<Vec<_>>().join(", ")
        ))?;
    let used: Vec<&Group> = if with_load {
        groups
            .iter()
            .filter(|g| g.tokens_per_min.is_some() || groups.len() == 1)
            .collect()
    } else {
        vec![&groups[lowest]]
    };
    let all: Vec<f64> = used
        .iter()
        .flat_map(|g| g.train.iter().map(move |&(y, x)| y / g.slowdown - k * x))
        .collect();
    let dropped = all.iter().filter(|r| **r <= 0.0).count();
    let r = sorted(all.into_iter().filter(|r| *r > 0.0).collect());
    if dropped > 0 {
        cannot.push(format!("base latency: {dropped} requests were faster than the fitted prefill alone and were left out of the base fit"));
    }
    if r.len() < MIN_FIT_REQUESTS {
        return Err(ValueError::new(format!(
            "too few requests left to fit the base latency: {}",
            r.len()
        )));
    }
    let (median, sigma) = lognormal_by_quantiles(&r);
    let reps: Vec<(f64, f64)> = (0..BOOTSTRAP)
        .map(|_| {
            let s = sorted((0..r.len()).map(|_| r[draw(rng, r.len())]).collect());
            let (m, sg) = lognormal_by_quantiles(&s);
            (m, m * (Z99 * sg).exp())
        })
        .collect();
    let (mlo, mhi) = interval(reps.iter().map(|p| p.0).collect());
    let (plo, phi) = interval(reps.iter().map(|p| p.1).collect());
    let level_text = |g: &Group| {
        g.level
            .map_or("the measured load".into(), |l| format!("{l:.3}"))
    };
    let how = if with_load {
        format!("all load levels, each TTFT divided by its level's fitted slowdown (zero load), minus the prefill; {} requests", r.len())
    } else {
        format!(
            "the lowest load level ({}), TTFT minus the prefill; {} requests",
            level_text(&groups[lowest]),
            r.len()
        )
    };
    if !with_load && groups.len() > 1 {
        cannot.push(format!(
            "base latency: fitted at the lowest load level ({}) only; without a load fit the other levels are predicted as if they had its load",
            level_text(&groups[lowest])
        ));
    }
    Ok(Base {
        median_ms: Estimate {
            value: median,
            lo: mlo,
            hi: mhi,
        },
        p99_ms: Estimate {
            value: median * (Z99 * sigma).exp(),
            lo: plo,
            hi: phi,
        },
        sigma,
        ks: Some(ks_lognormal(&r, median, sigma)),
        n: r.len(),
        quantiles: Z
            .iter()
            .map(|&(p, z)| (p, quantile(&r, p), median * (sigma * z).exp()))
            .collect(),
        how,
    })
}

/// Predicted against measured p50 / p90 / p99 of each level's held-out requests: llmcap's
/// TTFT for each held-out prompt (s × (base + prefill)), drawn many times.
fn predict(
    groups: &[Group],
    base: &Base,
    k: f64,
    with_load: bool,
    seed: u64,
    cannot: &mut Vec<String>,
) -> Vec<HoldoutRow> {
    let mut rng = SimRng::seed_from_u64(seed ^ 0x0000_401d_0075_0015);
    let mut rows = Vec::new();
    for g in groups.iter().filter(|g| !g.hold.is_empty()) {
        let per = (100_000 / g.hold.len()).clamp(20, 2000);
        let mut sim = Vec::with_capacity(per * g.hold.len());
        for &(_, x) in &g.hold {
            for _ in 0..per {
                let z: f64 = StandardNormal.sample(&mut rng);
                sim.push(g.slowdown * (base.median_ms.value * (base.sigma * z).exp() + k * x));
            }
        }
        let sim = sorted(sim);
        let meas = sorted(g.hold.iter().map(|p| p.0).collect());
        rows.push(HoldoutRow {
            level: g.level,
            n: meas.len(),
            stats: [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
                .iter()
                .map(|&(name, p)| (name.to_string(), quantile(&meas, p), quantile(&sim, p)))
                .collect(),
        });
    }
    if !with_load && rows.iter().any(|r| r.n > 0) && groups.len() > 1 {
        cannot.push(
            "holdout: without a load fit every level is predicted with the lowest level's latency"
                .into(),
        );
    }
    if rows.iter().any(|r| r.n < 100) {
        cannot.push("holdout: a held-out p99 from fewer than 100 requests is close to their maximum; read it as a rough check".into());
    }
    rows
}

fn level_summary(g: &Group) -> Level {
    let count = |o: Outcome| g.all.iter().filter(|r| r.outcome == o).count() as u64;
    let inputs: Vec<f64> = g
        .all
        .iter()
        .filter_map(|r| r.input.map(|x| x as f64))
        .collect();
    Level {
        level: g.level,
        requests: g.all.len() as u64,
        served: count(Outcome::Ok),
        throttled: count(Outcome::Throttled),
        errors: count(Outcome::Error),
        ttft_ms: sorted(
            g.all
                .iter()
                .filter(|r| r.outcome == Outcome::Ok)
                .filter_map(|r| r.ttft_s.map(|t| t * 1000.0))
                .collect(),
        ),
        ttft_quantiles_ms: Vec::new(),
        mean_input: (!inputs.is_empty()).then(|| mean(&inputs)),
        tokens_per_min: g.tokens_per_min,
        window_ttft_ms: None,
        util_pct: None,
        offered_rps: None,
    }
}
