//! The fit to level summaries: GuideLLM reports without per-request rows, built here from
//! requests drawn with llmcap's TTFT model and known parameters, fitted back.

use std::fmt::Write;
use std::path::Path;

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use super::stats::Z99;
use super::{calibrate, error_pct, Calibration, Options};
use crate::domain::measurement::MeasurementFormat;
use crate::input::measurements::read;
use crate::model::rng::SimRng;

const PROMPT: f64 = 1000.0;
const OUTPUT: f64 = 100.0;
/// GuideLLM's percentiles (0.3 has no p50; the median is given beside them).
const PCTS: [(&str, f64); 10] = [
    ("p001", 0.001),
    ("p01", 0.01),
    ("p05", 0.05),
    ("p10", 0.10),
    ("p25", 0.25),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
];

/// One benchmark's statistics: (concurrency, requests per second, count, sorted TTFTs ms).
struct Bench {
    concurrency: f64,
    rps: f64,
    ttft: Vec<f64>,
}

impl Bench {
    /// GuideLLM's percentile: the smallest value whose empirical CDF reaches p.
    fn q(&self, p: f64) -> f64 {
        let n = self.ttft.len();
        let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        self.ttft[i]
    }
    fn mean(&self) -> f64 {
        self.ttft.iter().sum::<f64>() / self.ttft.len() as f64
    }
}

/// Benchmarks drawn from llmcap's TTFT model: TTFT = median e^(σz) / (1 − Y/S), one prompt
/// length, at each (concurrency, tokens per minute Y).
fn draw(median: f64, p99: f64, pool: f64, loads: &[(f64, f64)], n: usize, seed: u64) -> Vec<Bench> {
    let sigma = (p99 / median).ln() / Z99;
    let mut rng = SimRng::seed_from_u64(seed);
    loads
        .iter()
        .map(|&(c, y)| {
            let s = 1.0 / (1.0 - y / pool);
            let mut ttft: Vec<f64> = (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    s * median * (sigma * z).exp()
                })
                .collect();
            ttft.sort_by(f64::total_cmp);
            Bench {
                concurrency: c,
                rps: y / 60.0 / (PROMPT + OUTPUT),
                ttft,
            }
        })
        .collect()
}

/// A GuideLLM 0.3 report as JSON, statistics only (`requests` stripped).
fn report_json(benches: &[Bench]) -> String {
    let mut o = String::from("{\"benchmarks\": [");
    for (i, b) in benches.iter().enumerate() {
        let pct: Vec<String> = PCTS
            .iter()
            .map(|(k, p)| format!("\"{k}\": {}", b.q(*p)))
            .collect();
        let n = b.ttft.len();
        let _ = write!(
            o,
            "{}{{\"request_totals\": {{\"successful\": {n}, \"errored\": 0, \"incomplete\": 1, \"total\": {}}},
  \"metrics\": {{\"time_to_first_token_ms\": {{\"successful\": {{\"mean\": {}, \"median\": {}, \"count\": {n}, \"percentiles\": {{{}}}}}}},
   \"request_concurrency\": {{\"successful\": {{\"mean\": {}}}}},
   \"requests_per_second\": {{\"successful\": {{\"mean\": {}}}}},
   \"prompt_token_count\": {{\"successful\": {{\"mean\": {PROMPT}}}}},
   \"output_token_count\": {{\"successful\": {{\"mean\": {OUTPUT}}}}}}}}}",
            if i > 0 { ",\n" } else { "" },
            n + 1,
            b.mean(),
            b.q(0.5),
            pct.join(", "),
            b.concurrency,
            b.rps
        );
    }
    o.push_str("]}\n");
    o
}

/// The same statistics as GuideLLM 0.4's CSV report (three header rows).
fn report_csv(benches: &[Bench]) -> String {
    let cols: [[&str; 3]; 9] = [
        ["Benchmark", "Strategy", ""],
        ["Request Counts", "Successful", ""],
        ["Request Counts", "Errored", ""],
        ["Time to First Token", "Successful ms", "Median"],
        ["Time to First Token", "Successful ms", "Percentiles"],
        ["Server Throughput", "Successful Requests/Sec", "Mean"],
        ["Server Throughput", "Successful Concurrency", "Mean"],
        ["Token Metrics", "Successful Input Tokens", "Mean"],
        ["Token Metrics", "Successful Output Tokens", "Mean"],
    ];
    let mut o = String::new();
    for row in 0..3 {
        let cells: Vec<&str> = cols.iter().map(|c| c[row]).collect();
        let _ = writeln!(o, "{}", cells.join(","));
    }
    // The list is [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]: no p99.9.
    for b in benches {
        let list: Vec<String> = std::iter::once(b.ttft[0])
            .chain(PCTS[..9].iter().map(|(_, p)| b.q(*p)))
            .chain(std::iter::once(b.ttft[b.ttft.len() - 1]))
            .map(|v| v.to_string())
            .collect();
        let _ = writeln!(
            o,
            "concurrent,{},0,{},\"[{}]\",{},{},{PROMPT},{OUTPUT}",
            b.ttft.len(),
            b.q(0.5),
            list.join(", "),
            b.rps,
            b.concurrency
        );
    }
    o
}

fn opts(holdout: f64) -> Options {
    Options {
        deployment: "d".into(),
        holdout,
        units: None,
        output_weight: 1.0,
        seed: 11,
    }
}

fn fit_file(dir: &Path, name: &str, text: &str, holdout: f64) -> Calibration {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    let m = read(&p, MeasurementFormat::Guidellm).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        m.requests.is_empty() && !m.summaries.is_empty(),
        "{:?}",
        m.notes
    );
    calibrate(&[m], &opts(holdout)).unwrap_or_else(|e| panic!("{e}"))
}

fn within(what: &str, got: f64, want: f64, tol_pct: f64) {
    let e = error_pct(want, got).abs();
    assert!(
        e <= tol_pct,
        "{what}: fitted {got}, true {want} ({e:.1}% off, tolerance {tol_pct}%)"
    );
}

/// Five levels × 2,000 requests of median 400 ms, p99 1,200 ms in a pool of 200,000
/// tokens/min, at 20k to 140k tokens/min, written as statistics only: the fit gives back the
/// median within 5%, p99 within 12% and the pool within 15%, with the true median and pool
/// inside their 95% intervals, and the held-out middle level's p50 and p90 within 10%, p99
/// within 15%. The CSV of the same statistics gives the same fit.
#[test]
fn level_summaries_recover_known_parameters() {
    let loads = [
        (1.0, 20_000.0),
        (2.0, 50_000.0),
        (4.0, 80_000.0),
        (8.0, 110_000.0),
        (16.0, 140_000.0),
    ];
    let benches = draw(400.0, 1200.0, 200_000.0, &loads, 2000, 3);
    let dir = tempfile::tempdir().unwrap();
    let c = fit_file(dir.path(), "g.json", &report_json(&benches), 0.2);
    assert!(c.from_summaries);
    within("median", c.base.median_ms.value, 400.0, 5.0);
    within("p99", c.base.p99_ms.value, 1200.0, 12.0);
    let l = c.load.as_ref().expect("load fitted");
    within("shared_pool_tpm", l.shared_pool_tpm.value, 200_000.0, 15.0);
    let (m, s) = (&c.base.median_ms, &l.shared_pool_tpm);
    assert!(m.lo <= 400.0 && 400.0 <= m.hi, "{m:?}");
    assert!(s.lo <= 200_000.0 && 200_000.0 <= s.hi, "{s:?}");
    assert!(c.prefill.is_none());
    assert!(c
        .cannot
        .iter()
        .any(|w| w.contains("one mean prompt length")));
    // The middle level (4 concurrent requests) is held out and predicted.
    assert_eq!(c.holdout.len(), 1);
    let row = &c.holdout[0];
    assert_eq!((row.level, row.n), (Some(4.0), 2000));
    for ((name, meas, pred), tol) in row.stats.iter().zip([10.0, 10.0, 15.0]) {
        within(&format!("holdout {name}"), *pred, *meas, tol);
    }
    assert_eq!(l.points.len(), 4);
    let csv = fit_file(dir.path(), "g.csv", &report_csv(&benches), 0.2);
    assert_eq!(csv.base.median_ms, c.base.median_ms);
    assert_eq!(csv.base.p99_ms, c.base.p99_ms);
    assert_eq!(
        csv.load.as_ref().map(|l| l.shared_pool_tpm),
        Some(l.shared_pool_tpm)
    );
}

/// One level: the base latency is the level's, load and holdout cannot be fitted and say why;
/// two levels: load is fitted, nothing can be held out; too few requests are refused.
#[test]
fn few_levels_say_what_cannot_be_fitted() {
    let dir = tempfile::tempdir().unwrap();
    let one = draw(300.0, 900.0, 100_000.0, &[(1.0, 10_000.0)], 500, 4);
    let c = fit_file(dir.path(), "one.json", &report_json(&one), 0.2);
    assert!(c.load.is_none() && c.holdout.is_empty());
    let text = c.cannot.join("\n");
    assert!(text.contains("two or more load levels"), "{text}");
    assert!(text.contains("found 1;"), "{text}");
    within("median", c.base.median_ms.value, 300.0 / 0.9, 5.0);
    let two = draw(
        300.0,
        900.0,
        100_000.0,
        &[(1.0, 10_000.0), (4.0, 40_000.0)],
        500,
        5,
    );
    let c = fit_file(dir.path(), "two.json", &report_json(&two), 0.2);
    assert!(c.load.is_some() && c.holdout.is_empty());
    assert!(
        c.cannot.iter().any(|w| w.contains("found 2;")),
        "{:?}",
        c.cannot
    );
    let few = draw(300.0, 900.0, 100_000.0, &[(1.0, 10_000.0)], 15, 6);
    let p = dir.path().join("few.json");
    std::fs::write(&p, report_json(&few)).unwrap();
    let m = read(&p, MeasurementFormat::Guidellm).unwrap();
    let e = calibrate(&[m], &opts(0.0)).unwrap_err();
    assert!(e.to_string().contains("too few served requests"), "{e}");
}
