//! The fit to azure-openai-benchmark window statistics (a provisioned deployment).
//!
//! The tool prints statistics over a sliding window every second, so successive lines share
//! most of their requests. Only full windows (at least one window length after the load
//! started) are used, one every window length, so the windows used do not overlap.

use crate::error::ValueError;
use rand::SeedableRng;

use super::stats::{draw, erlang_b, interval, mean, quantile, sorted, Z95, Z99};
use super::{
    Base, Calibration, Estimate, HoldoutRow, Level, Options, Reserved, Throttle, BOOTSTRAP,
    MIN_FIT_WINDOWS, MIN_UTIL_PCT,
};
use crate::domain::measurement::{LevelKind, Measurements, WindowSample};
use crate::model::rng::SimRng;

struct Group<'a> {
    clients: f64,
    /// Non-overlapping full windows, file by file in time order.
    windows: Vec<&'a WindowSample>,
    /// Per file: (first full window, last window), for the 429 share and offered load.
    spans: Vec<(&'a WindowSample, &'a WindowSample)>,
    cut: usize,
}

pub(super) fn fit(sets: &[Measurements], opts: &Options) -> Result<Calibration, ValueError> {
    let groups = group(sets, opts.holdout);
    let train: Vec<&WindowSample> = groups
        .iter()
        .flat_map(|g| g.windows[..g.cut].iter().copied())
        .collect();
    if train.len() < MIN_FIT_WINDOWS {
        return Err(ValueError::new(format!(
            "too few full statistics windows to fit: {} (after the holdout), at least {MIN_FIT_WINDOWS} needed; a window is full once the load has run for the aggregation window ({} s)",
            train.len(),
            sets.first().map_or(60.0, |m| m.window_s)
        )));
    }
    let mut rng = SimRng::seed_from_u64(opts.seed ^ 0x00ca_1b2a_7e00_0015);
    let mut cannot = vec![
        "prefill time per 1k input tokens: azure-openai-benchmark sends prompts of one length per run, and its statistics are per window, not per request; prefill_ms_per_1k_input is set to 0 and the base latency includes the prefill of the test's prompt".to_string(),
        "load dependence of TTFT: a provisioned deployment answers 429 above 100% utilization instead of slowing down; TTFT is fitted over all windows".to_string(),
    ];
    let base = base_fit(&train, &mut rng)?;
    let reserved = reserved_fit(&groups, &train, opts, &mut rng, &mut cannot);
    let holdout = predict(&groups, &base);
    let levels = groups.iter().map(level_summary).collect();
    Ok(Calibration {
        deployment: opts.deployment.clone(),
        format: sets[0].format,
        level_kind: LevelKind::Concurrency,
        sources: Vec::new(),
        levels,
        base,
        prefill: None,
        load: None,
        reserved,
        holdout_fraction: opts.holdout,
        holdout,
        cannot,
        from_summaries: false,
        seed: opts.seed,
    })
}

fn group(sets: &[Measurements], holdout: f64) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for m in sets {
        let mut kept: Vec<&WindowSample> = Vec::new();
        for w in m
            .windows
            .iter()
            .filter(|w| w.run_s >= m.window_s && w.ttft_avg_s.is_some())
        {
            if kept.last().is_none_or(|k| w.run_s - k.run_s >= m.window_s) {
                kept.push(w);
            }
        }
        let (Some(first), Some(last)) = (kept.first().copied(), m.windows.last()) else {
            continue;
        };
        let clients = first.clients;
        let g = match groups.iter_mut().position(|g| g.clients == clients) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Group {
                    clients,
                    windows: Vec::new(),
                    spans: Vec::new(),
                    cut: 0,
                });
                groups.last_mut().expect("just pushed")
            }
        };
        g.windows.extend(kept);
        g.spans.push((first, last));
    }
    groups.sort_by(|a, b| a.clients.total_cmp(&b.clients));
    for g in &mut groups {
        // Rounded, not truncated: a run has only a few non-overlapping windows.
        g.cut = g.windows.len() - (g.windows.len() as f64 * holdout).round() as usize;
    }
    groups
}

/// The lognormal with the windows' mean TTFT and 95th percentile: mean = m e^(σ²/2) and
/// p95 = m e^(z₉₅ σ) give σ = z₉₅ - sqrt(z₉₅² - 2 ln(p95/mean)) (the root below z₉₅).
fn lognormal_mean_p95(avg: f64, p95: f64) -> (f64, f64) {
    let d = (p95 / avg).ln().max(0.0);
    let sigma = if Z95 * Z95 >= 2.0 * d {
        Z95 - (Z95 * Z95 - 2.0 * d).sqrt()
    } else {
        Z95
    };
    (avg * (-sigma * sigma / 2.0).exp(), sigma)
}

fn ttft_pair(ws: &[&WindowSample]) -> Option<(f64, f64)> {
    let both: Vec<(f64, f64)> = ws
        .iter()
        .filter_map(|w| Some((w.ttft_avg_s?, w.ttft_p95_s?)))
        .collect();
    (!both.is_empty()).then(|| {
        (
            mean(&both.iter().map(|p| p.0 * 1000.0).collect::<Vec<_>>()),
            mean(&both.iter().map(|p| p.1 * 1000.0).collect::<Vec<_>>()),
        )
    })
}

fn base_fit(train: &[&WindowSample], rng: &mut SimRng) -> Result<Base, ValueError> {
    let (avg, p95) = ttft_pair(train).ok_or("no window states both ttft_avg and ttft_95th")?;
    let (median, sigma) = lognormal_mean_p95(avg, p95);
    let reps: Vec<(f64, f64)> = (0..BOOTSTRAP)
        .map(|_| {
            let s: Vec<&WindowSample> = (0..train.len())
                .map(|_| train[draw(rng, train.len())])
                .collect();
            ttft_pair(&s).map_or((f64::NAN, f64::NAN), |(a, p)| {
                let (m, sg) = lognormal_mean_p95(a, p);
                (m, m * (Z99 * sg).exp())
            })
        })
        .collect();
    let (mlo, mhi) = interval(reps.iter().map(|p| p.0).collect());
    let (plo, phi) = interval(reps.iter().map(|p| p.1).collect());
    Ok(Base {
        median_ms: Estimate { value: median, lo: mlo, hi: mhi },
        p99_ms: Estimate { value: median * (Z99 * sigma).exp(), lo: plo, hi: phi },
        sigma,
        ks: None,
        n: train.len(),
        quantiles: vec![
            (f64::NAN, avg, median * (sigma * sigma / 2.0).exp()),
            (0.95, p95, median * (Z95 * sigma).exp()),
        ],
        how: format!(
            "the mean ({avg:.0} ms) and 95th percentile ({p95:.0} ms) of TTFT over {} non-overlapping full windows, matched by a lognormal",
            train.len()
        ),
    })
}

/// Capacity = weighted tokens per minute / reported utilization; slots = requests in
/// service (Little's law: requests per second × mean end-to-end latency) / utilization.
fn per_window(w: &WindowSample, weight: f64) -> Option<(f64, f64)> {
    let u = w.util_avg_pct? / 100.0;
    if w.util_avg_pct? < MIN_UTIL_PCT {
        return None;
    }
    let (ctx, gen) = (w.context_tokens?, w.gen_tokens?);
    let weighted = w.tpm? * (ctx + weight * gen) / (ctx + gen);
    let slots = w.rpm? / 60.0 * w.e2e_avg_s? / u;
    (weighted > 0.0 && slots > 0.0).then_some((weighted / u, slots))
}

fn reserved_fit(
    groups: &[Group],
    train: &[&WindowSample],
    opts: &Options,
    rng: &mut SimRng,
    cannot: &mut Vec<String>,
) -> Option<Reserved> {
    let pts: Vec<(f64, f64)> = train
        .iter()
        .filter_map(|w| per_window(w, opts.output_weight))
        .collect();
    if pts.len() < MIN_FIT_WINDOWS {
        cannot.push(format!(
            "capacity and concurrency: needs at least {MIN_FIT_WINDOWS} windows at {MIN_UTIL_PCT}% utilization or more with tokens per minute, tokens per request, requests per minute and end-to-end latency; found {}",
            pts.len()
        ));
        return None;
    }
    let med = |v: Vec<f64>| quantile(&sorted(v), 0.5);
    let cap = med(pts.iter().map(|p| p.0).collect());
    let slots = med(pts.iter().map(|p| p.1).collect());
    let reps: Vec<(f64, f64)> = (0..BOOTSTRAP)
        .map(|_| {
            let s: Vec<(f64, f64)> = (0..pts.len()).map(|_| pts[draw(rng, pts.len())]).collect();
            (
                med(s.iter().map(|p| p.0).collect()),
                med(s.iter().map(|p| p.1).collect()),
            )
        })
        .collect();
    let (clo, chi) = interval(reps.iter().map(|p| p.0).collect());
    let (slo, shi) = interval(reps.iter().map(|p| p.1).collect());
    if opts.units.is_none() {
        cannot.push("capacity per unit: the logs do not say how many PTUs were deployed; pass --units N to write tpm_per_unit and concurrency_per_unit (the deployment totals are in calibrate.md)".into());
    }
    let throttle = groups
        .iter()
        .filter_map(|g| throttle_row(g, slots))
        .collect();
    Some(Reserved {
        capacity_tpm: Estimate {
            value: cap,
            lo: clo,
            hi: chi,
        },
        slots: Estimate {
            value: slots,
            lo: slo,
            hi: shi,
        },
        units: opts.units,
        output_weight: opts.output_weight,
        windows: pts.len(),
        throttle,
    })
}

/// 429 share and offered load of a level over its files, from the first full window to the end.
fn throttle_row(g: &Group, slots: f64) -> Option<Throttle> {
    let (mut req, mut thr, mut secs) = (0u64, 0u64, 0.0);
    for (a, b) in &g.spans {
        req += b.requests.saturating_sub(a.requests);
        thr += b.throttled.saturating_sub(a.throttled);
        secs += b.run_s - a.run_s;
    }
    if req == 0 || secs <= 0.0 {
        return None;
    }
    let offered = req as f64 / secs;
    let e2e: Vec<f64> = g.windows.iter().filter_map(|w| w.e2e_avg_s).collect();
    let utils: Vec<f64> = g.windows.iter().filter_map(|w| w.util_avg_pct).collect();
    Some(Throttle {
        clients: g.clients,
        rate_rpm: g.windows.first().and_then(|w| w.rate_rpm),
        offered_rps: offered,
        util_pct: (!utils.is_empty()).then(|| mean(&utils)),
        share_429: thr as f64 / req as f64,
        erlang_b: (!e2e.is_empty())
            .then(|| erlang_b(slots.round().max(1.0) as u32, offered * mean(&e2e))),
    })
}

fn predict(groups: &[Group], base: &Base) -> Vec<HoldoutRow> {
    let (m, s) = (base.median_ms.value, base.sigma);
    groups
        .iter()
        .filter(|g| g.cut < g.windows.len())
        .filter_map(|g| {
            let hold = &g.windows[g.cut..];
            let (avg, p95) = ttft_pair(hold)?;
            Some(HoldoutRow {
                level: Some(g.clients),
                n: hold.len(),
                stats: vec![
                    ("mean".into(), avg, m * (s * s / 2.0).exp()),
                    ("p95".into(), p95, m * (Z95 * s).exp()),
                ],
            })
        })
        .collect()
}

fn level_summary(g: &Group) -> Level {
    let (mut req, mut thr, mut fail) = (0, 0, 0);
    for (_, b) in &g.spans {
        req += b.requests;
        thr += b.throttled;
        fail += b.failures;
    }
    let utils: Vec<f64> = g.windows.iter().filter_map(|w| w.util_avg_pct).collect();
    let tpm: Vec<f64> = g.windows.iter().filter_map(|w| w.tpm).collect();
    let ctx: Vec<f64> = g.windows.iter().filter_map(|w| w.context_tokens).collect();
    Level {
        level: Some(g.clients),
        requests: req,
        served: req - fail,
        throttled: thr,
        errors: fail - thr.min(fail),
        ttft_ms: Vec::new(),
        ttft_quantiles_ms: Vec::new(),
        mean_input: (!ctx.is_empty()).then(|| mean(&ctx)),
        tokens_per_min: (!tpm.is_empty()).then(|| mean(&tpm)),
        window_ttft_ms: ttft_pair(&g.windows),
        util_pct: (!utils.is_empty()).then(|| mean(&utils)),
        offered_rps: throttle_row(g, 1.0).map(|t| t.offered_rps),
    }
}
