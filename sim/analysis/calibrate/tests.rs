use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use super::stats::Z99;
use super::{calibrate, error_pct, Options};
use crate::domain::measurement::{
    LevelKind, MeasurementFormat, Measurements, Outcome, RequestSample, WindowSample,
};
use crate::model::rng::SimRng;

fn opts(holdout: f64) -> Options {
    Options {
        deployment: "d".into(),
        holdout,
        units: None,
        output_weight: 1.0,
        seed: 7,
    }
}

/// Requests drawn from llmcap's TTFT model (docs/model.md section 5, with the load slowdown
/// on the whole TTFT): TTFT = s × (median e^(σz) + prefill × input), s = 1/(1 - Y/S), Poisson
/// starts at the rate that makes Y tokens per minute.
pub fn synthetic(
    median: f64,
    p99: f64,
    prefill: f64,
    pool: Option<f64>,
    loads: &[(f64, f64)],
    per_level: usize,
    seed: u64,
) -> Measurements {
    let sigma = (p99 / median).ln() / Z99;
    let mut rng = SimRng::seed_from_u64(seed);
    let mut requests = Vec::new();
    for &(level, y) in loads {
        let s = pool.map_or(1.0, |p| 1.0 / (1.0 - y / p));
        let mut t = 0.0;
        // Mean tokens: input uniform 200..4000 (mean 2100) + 100 output.
        let rate = y / 60.0 / 2200.0;
        for i in 0..per_level {
            let input: u32 = rng.random_range(200..4000);
            let z: f64 = StandardNormal.sample(&mut rng);
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / rate;
            let ttft_ms = s * (median * (sigma * z).exp() + prefill * input as f64 / 1000.0);
            requests.push(RequestSample {
                at: format!("line {}", i + 2),
                start_s: Some(t),
                ttft_s: Some(ttft_ms / 1000.0),
                e2e_s: None,
                input: Some(input),
                output: Some(100),
                outcome: Outcome::Ok,
                level: Some(level),
            });
        }
    }
    Measurements {
        file: "synthetic.csv".into(),
        format: MeasurementFormat::Csv,
        target: None,
        level_kind: LevelKind::Concurrency,
        requests,
        summaries: Vec::new(),
        windows: Vec::new(),
        window_s: 0.0,
        notes: Vec::new(),
    }
}

fn within(what: &str, got: f64, want: f64, tol_pct: f64) {
    let e = error_pct(want, got).abs();
    assert!(
        e <= tol_pct,
        "{what}: fitted {got}, true {want} ({e:.1}% off, tolerance {tol_pct}%)"
    );
}

/// The fit recovers the parameters the measurements were drawn with: 3 levels × 3,000
/// requests. Tolerances: median 5%, p99 12%, prefill 10%, pool size 15%, and the true
/// values inside the 95% intervals of median and prefill.
#[test]
fn recovers_known_parameters() {
    let m = synthetic(
        400.0,
        1200.0,
        150.0,
        Some(200_000.0),
        &[(2.0, 40_000.0), (8.0, 80_000.0), (16.0, 120_000.0)],
        3000,
        1,
    );
    let c = calibrate(&[m], &opts(0.2)).unwrap();
    within("median", c.base.median_ms.value, 400.0, 5.0);
    within("p99", c.base.p99_ms.value, 1200.0, 12.0);
    let p = c.prefill.as_ref().expect("prefill fitted");
    within("prefill", p.ms_per_1k.value, 150.0, 10.0);
    let l = c.load.as_ref().expect("load fitted");
    within("shared_pool_tpm", l.shared_pool_tpm.value, 200_000.0, 15.0);
    assert!(
        c.base.median_ms.lo <= 400.0 && 400.0 <= c.base.median_ms.hi,
        "{:?}",
        c.base.median_ms
    );
    assert!(
        p.ms_per_1k.lo <= 150.0 && 150.0 <= p.ms_per_1k.hi,
        "{:?}",
        p.ms_per_1k
    );
    // The held-out fifth of each level is predicted within 10% at p50 and p90.
    assert_eq!(c.holdout.len(), 3);
    for row in &c.holdout {
        assert_eq!(row.n, 600);
        for (name, meas, pred) in &row.stats[..2] {
            within(
                &format!("holdout {name} at {:?}", row.level),
                *pred,
                *meas,
                10.0,
            );
        }
    }
}

#[test]
fn one_level_says_what_cannot_be_fitted() {
    let mut m = synthetic(300.0, 900.0, 0.0, None, &[(5.0, 10_000.0)], 150, 2);
    for r in &mut m.requests {
        r.input = Some(550);
    }
    let c = calibrate(&[m], &opts(0.0)).unwrap();
    assert!(c.prefill.is_none() && c.load.is_none());
    let text = c.cannot.join("\n");
    assert!(text.contains("every prompt had about 550 tokens"), "{text}");
    assert!(text.contains("two or more load levels"), "{text}");
    within("median", c.base.median_ms.value, 300.0, 10.0);
    assert!(c.holdout.is_empty());
}

#[test]
fn too_few_requests_or_a_bad_holdout_are_refused() {
    let m = synthetic(300.0, 900.0, 100.0, None, &[(1.0, 1000.0)], 24, 3);
    let e = calibrate(std::slice::from_ref(&m), &opts(0.5)).unwrap_err();
    assert!(e.to_string().contains("too few served requests"), "{e}");
    let e = calibrate(&[m], &opts(0.9)).unwrap_err();
    assert!(e.to_string().contains("--holdout"), "{e}");
}

/// Windows of a provisioned deployment with 12,000 tokens/min of capacity and 2 slots:
/// capacity and slots come back exactly (the windows are consistent by construction).
#[test]
fn windows_give_capacity_and_slots() {
    let mut windows = Vec::new();
    for (i, util) in [20.0, 40.0, 60.0, 80.0, 100.0, 50.0].iter().enumerate() {
        let tpm = 12_000.0 * util / 100.0;
        let rpm = tpm / 1500.0;
        // Little: busy slots = rpm/60 × e2e = 2 × util.
        let e2e = 2.0 * util / 100.0 / (rpm / 60.0);
        windows.push(WindowSample {
            line: i as u64 + 1,
            run_s: 60.0 * (i + 1) as f64,
            clients: 4.0,
            rate_rpm: None,
            rpm: Some(rpm),
            processing: 1.0,
            requests: 10 * (i as u64 + 1),
            failures: i as u64,
            throttled: i as u64,
            tpm: Some(tpm),
            context_tokens: Some(1000.0),
            gen_tokens: Some(500.0),
            ttft_avg_s: Some(0.6),
            ttft_p95_s: Some(0.9),
            e2e_avg_s: Some(e2e),
            e2e_p95_s: None,
            util_avg_pct: Some(*util),
            util_p95_pct: None,
        });
    }
    let m = Measurements {
        file: "w.log".into(),
        format: MeasurementFormat::AzureBenchmark,
        target: None,
        level_kind: LevelKind::Concurrency,
        requests: Vec::new(),
        summaries: Vec::new(),
        windows,
        window_s: 60.0,
        notes: Vec::new(),
    };
    let c = calibrate(&[m], &opts(0.0)).unwrap();
    let r = c.reserved.as_ref().expect("capacity fitted");
    within("capacity", r.capacity_tpm.value, 12_000.0, 0.01);
    within("slots", r.slots.value, 2.0, 0.01);
    // mean 600 ms and p95 900 ms: the lognormal reproduces both.
    let q = &c.base.quantiles;
    within("mean", q[0].2, 600.0, 0.1);
    within("p95", q[1].2, 900.0, 0.1);
    assert_eq!(r.throttle.len(), 1);
    assert!((r.throttle[0].share_429 - 5.0 / 50.0).abs() < 1e-12);
}
