//! `llmcap calibrate` outputs: calibration.toml (the fitted keys of a deployment, to paste or
//! to name with `calibration = "FILE"`), calibrate.md (what was fitted, how well, with what
//! uncertainty, and the held-out predictions) and calibrate.png.

use std::fmt::Write;
use std::path::PathBuf;

use crate::analysis::calibrate::{error_pct, Calibration, Estimate, Level};
use crate::domain::measurement::MeasurementFormat;
use crate::error::OutputError;
use crate::format::{grouped, percent, sig, signed};
use crate::report::output::Staging;
use crate::report::plots;

/// The files `calibrate` writes.
pub const FILES: [&str; 3] = ["calibration.toml", "calibrate.md", plots::calibrate::FILE];

fn file_list(c: &Calibration) -> String {
    c.sources
        .iter()
        .map(|s| {
            s.file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ci(e: &Estimate, decimals: usize) -> String {
    if e.lo.is_finite() && e.hi.is_finite() {
        format!("{} to {}", grouped(e.lo, decimals), grouped(e.hi, decimals))
    } else {
        "–".into()
    }
}

/// A number as TOML writes it (finite; enough significant digits to round-trip the fit's precision).
fn num(v: f64) -> String {
    let s = sig(v, 6);
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

/// calibration.toml: dotted keys, so the lines can go under a `[[deployment]]` as they are.
pub fn fragment(c: &Calibration) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# llmcap calibrate: deployment \"{}\", fitted to {} ({}).",
        c.deployment,
        file_list(c),
        c.format.name()
    );
    let _ = writeln!(
        o,
        "# Name this file on a [[deployment]] (calibration = \"calibration.toml\") or paste these"
    );
    let _ = writeln!(
        o,
        "# lines under it; the deployment still gives its name, platform, model and prices."
    );
    let _ = writeln!(
        o,
        "# 95% intervals, goodness of fit and what could not be fitted: calibrate.md."
    );
    let b = &c.base;
    let _ = writeln!(
        o,
        "latency.median_ms = {}  # 95%: {} ms",
        num(b.median_ms.value),
        ci(&b.median_ms, 1)
    );
    let _ = writeln!(
        o,
        "latency.p99_ms = {}  # 95%: {} ms",
        num(b.p99_ms.value),
        ci(&b.p99_ms, 1)
    );
    match &c.prefill {
        Some(p) => {
            let _ = writeln!(
                o,
                "latency.prefill_ms_per_1k_input = {}  # 95%: {}",
                num(p.ms_per_1k.value),
                ci(&p.ms_per_1k, 1)
            );
        }
        None => {
            let _ = writeln!(o, "latency.prefill_ms_per_1k_input = 0.0  # not identifiable from these measurements (calibrate.md)");
        }
    }
    if let Some(l) = &c.load {
        let _ = writeln!(o, "latency.load_slows = \"all\"");
        let _ = writeln!(
            o,
            "on_demand.shared_pool_tpm = {}  # 95%: {} tokens/min",
            num(l.shared_pool_tpm.value),
            ci(&l.shared_pool_tpm, 0)
        );
        let _ = writeln!(o, "on_demand.background_utilization = 0.0  # the test measured the deployment's own load only");
    }
    if let Some(r) = &c.reserved {
        match r.units {
            Some(u) => {
                let _ = writeln!(
                    o,
                    "reserved.tpm_per_unit = {}  # {} tokens/min at 100% over {u} units",
                    num(r.capacity_tpm.value / u),
                    grouped(r.capacity_tpm.value, 0)
                );
                let _ = writeln!(
                    o,
                    "reserved.concurrency_per_unit = {}  # {} requests in service at 100%",
                    num(r.slots.value / u),
                    sig(r.slots.value, 3)
                );
                let _ = writeln!(o, "reserved.output_weight = {}", num(r.output_weight));
            }
            None => {
                let _ = writeln!(o, "# reserved: {} weighted tokens/min and {} requests in service at 100% utilization", grouped(r.capacity_tpm.value, 0), sig(r.slots.value, 3));
                let _ = writeln!(
                    o,
                    "# for the whole deployment; run again with --units N to write them per unit."
                );
            }
        }
        let _ = writeln!(o, "reserved.max_queue = 0  # refuse (429) when every slot is busy, as a provisioned deployment does above 100%");
    }
    o
}

fn level_name(c: &Calibration, l: Option<f64>) -> String {
    match l {
        Some(v) => format!("{} {}", sig(v, 4), c.level_kind.label()),
        None => "unknown load".into(),
    }
}

fn sources(o: &mut String, c: &Calibration) {
    let _ = writeln!(
        o,
        "| file | target | rows | notes |\n| --- | --- | ---: | --- |"
    );
    for s in &c.sources {
        let rows = if c.format == MeasurementFormat::AzureBenchmark {
            format!("{} windows", s.windows)
        } else if s.requests == 0 && s.summaries > 0 {
            if s.summaries == 1 {
                "1 level summary".to_string()
            } else {
                format!("{} level summaries", s.summaries)
            }
        } else {
            format!("{} requests", s.requests)
        };
        let _ = writeln!(
            o,
            "| `{}` | {} | {rows} | {} |",
            s.file.file_name().unwrap_or_default().to_string_lossy(),
            s.target.as_deref().unwrap_or("–"),
            if s.notes.is_empty() {
                "–".into()
            } else {
                s.notes.join("; ")
            }
        );
    }
}

fn parameters(o: &mut String, c: &Calibration) {
    let _ = writeln!(o, "\n## Fitted parameters\n\n| key | value | 95% interval | from |\n| --- | ---: | --- | --- |");
    let b = &c.base;
    let _ = writeln!(
        o,
        "| `latency.median_ms` | {} | {} | {} |",
        grouped(b.median_ms.value, 1),
        ci(&b.median_ms, 1),
        b.how
    );
    let _ = writeln!(
        o,
        "| `latency.p99_ms` | {} | {} | σ = {} |",
        grouped(b.p99_ms.value, 1),
        ci(&b.p99_ms, 1),
        sig(b.sigma, 3)
    );
    if let Some(p) = &c.prefill {
        let _ = writeln!(o, "| `latency.prefill_ms_per_1k_input` | {} | {} | least squares of TTFT on prompt tokens within each level, {} requests; R² {} |", grouped(p.ms_per_1k.value, 1), ci(&p.ms_per_1k, 1), p.n, sig(p.r2, 2));
    }
    if let Some(l) = &c.load {
        let _ = writeln!(o, "| `on_demand.shared_pool_tpm` | {} | {} | median TTFT per level against the deployment's tokens per minute: m = m₀ / (1 − Y/S) |", grouped(l.shared_pool_tpm.value, 0), ci(&l.shared_pool_tpm, 0));
    }
    if let Some(r) = &c.reserved {
        let per = |v: f64| {
            r.units
                .map_or(String::new(), |u| format!(" ({} per unit)", sig(v / u, 4)))
        };
        let _ = writeln!(o, "| capacity, weighted tokens/min at 100% | {}{} | {} | tokens per minute / reported utilization, median of {} windows; output weight {} |", grouped(r.capacity_tpm.value, 0), per(r.capacity_tpm.value), ci(&r.capacity_tpm, 0), r.windows, sig(r.output_weight, 3));
        let _ = writeln!(o, "| requests in service at 100% (slots) | {}{} | {} | Little's law: requests/s × mean end-to-end latency / utilization |", sig(r.slots.value, 3), per(r.slots.value), ci(&r.slots, 2));
    }
    if c.from_summaries {
        let _ = writeln!(
            o,
            "\nIntervals: no per-request rows to resample; a parametric bootstrap, {} replicates (seed {}), of each level's reported percentiles drawn from the large-sample distribution of sample quantiles of its n served requests (docs/calibrate.md).",
            crate::analysis::calibrate::BOOTSTRAP,
            c.seed
        );
    } else {
        let _ = writeln!(
            o,
            "\nIntervals: percentile bootstrap, {} resamples (seed {}).",
            crate::analysis::calibrate::BOOTSTRAP,
            c.seed
        );
    }
    if !c.cannot.is_empty() {
        let _ = writeln!(o, "\n## What could not be fitted, and why\n");
        for w in &c.cannot {
            let _ = writeln!(o, "- {w}");
        }
    }
}

fn goodness(o: &mut String, c: &Calibration) {
    let _ = writeln!(o, "\n## Goodness of fit\n");
    let b = &c.base;
    if let Some(ks) = b.ks {
        let _ = writeln!(o, "Base latency (TTFT with the prefill and load taken out) against the fitted lognormal, {} requests; Kolmogorov-Smirnov distance {}.\n", b.n, sig(ks, 3));
    } else if c.from_summaries {
        let _ = writeln!(o, "Base latency against the fitted lognormal: the reported percentiles (with the load taken out, n-weighted geometric mean over the levels fitted), {} served requests. No Kolmogorov-Smirnov distance: it needs the requests.\n", b.n);
    }
    let _ = writeln!(
        o,
        "| quantile | measured ms | fitted ms | error |\n| --- | ---: | ---: | ---: |"
    );
    for (p, m, f) in &b.quantiles {
        let name = if p.is_finite() {
            format!("p{}", sig(p * 100.0, 3))
        } else {
            "mean".into()
        };
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} |",
            grouped(*m, 1),
            grouped(*f, 1),
            signed_pct(error_pct(*m, *f))
        );
    }
    if c.from_summaries {
        reported_against_fitted(o, c);
    }
    if let Some(l) = &c.load {
        let _ = writeln!(o, "\nMedian TTFT against load (fitted data):\n\n| level | tokens/min | measured median ms | fitted ms | error |\n| --- | ---: | ---: | ---: | ---: |");
        for (lv, y, m, f) in &l.points {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                level_name(c, *lv),
                grouped(*y, 0),
                grouped(*m, 1),
                grouped(*f, 1),
                signed_pct(error_pct(*m, *f))
            );
        }
    }
}

/// Level summaries: each level's reported percentiles against the fitted model at its load.
fn reported_against_fitted(o: &mut String, c: &Calibration) {
    let b = &c.base;
    let _ = writeln!(o, "\nReported TTFT percentiles of every level against the fitted model at its measured load (held-out levels included):\n\n| level | served | tokens/min | p50 measured / fitted ms | p90 | p99 |\n| --- | ---: | ---: | --- | --- | --- |");
    for l in c.levels.iter().filter(|l| !l.ttft_quantiles_ms.is_empty()) {
        let s = match (&c.load, l.tokens_per_min) {
            (Some(ld), Some(y)) => {
                1.0 / (1.0
                    - (y / ld.shared_pool_tpm.value).min(crate::analysis::calibrate::MAX_RHO))
            }
            _ => 1.0,
        };
        let cell = |p: f64, z: f64| {
            let fitted = s * b.median_ms.value * (b.sigma * z).exp();
            l.ttft_quantiles_ms
                .iter()
                .find(|q| (q.0 - p).abs() < 1e-9)
                .map_or("–".into(), |q| {
                    format!(
                        "{} / {} ({})",
                        grouped(q.1, 1),
                        grouped(fitted, 1),
                        signed_pct(error_pct(q.1, fitted))
                    )
                })
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            level_name(c, l.level),
            l.served,
            l.tokens_per_min.map_or("–".into(), |y| grouped(y, 0)),
            cell(0.5, 0.0),
            cell(0.9, 1.281_551_6),
            cell(0.99, crate::analysis::calibrate::stats::Z99)
        );
    }
}

fn signed_pct(v: f64) -> String {
    if v.is_finite() {
        format!("{}%", signed(v, 1))
    } else {
        "–".into()
    }
}

fn level_row(o: &mut String, c: &Calibration, l: &Level) {
    let thrown = if c.from_summaries {
        "–".to_string()
    } else {
        l.throttled.to_string()
    };
    let share = if c.from_summaries {
        "–".into()
    } else if l.requests > 0 {
        percent(l.throttled as f64 / l.requests as f64, 1)
    } else {
        "–".into()
    };
    let reported = |p: f64| {
        l.ttft_quantiles_ms
            .iter()
            .find(|q| (q.0 - p).abs() < 1e-9)
            .map_or("–".into(), |q| grouped(q.1, 0))
    };
    let ttft = if !l.ttft_quantiles_ms.is_empty() {
        format!("{} / {} / {}", reported(0.5), reported(0.9), reported(0.99))
    } else if !l.ttft_ms.is_empty() {
        let q = |p| {
            grouped(
                crate::analysis::calibrate::stats::quantile(&l.ttft_ms, p),
                0,
            )
        };
        format!("{} / {} / {}", q(0.5), q(0.9), q(0.99))
    } else if let Some((a, p)) = l.window_ttft_ms {
        format!("mean {} / p95 {}", grouped(a, 0), grouped(p, 0))
    } else {
        "–".into()
    };
    let opt = |v: Option<f64>, d| v.map_or("–".into(), |v| grouped(v, d));
    let _ = writeln!(
        o,
        "| {} | {} | {} | {thrown} | {} | {share} | {ttft} | {} | {} |",
        level_name(c, l.level),
        l.requests,
        l.served,
        l.errors,
        opt(l.tokens_per_min, 0),
        l.util_pct
            .map_or("–".into(), |u| format!("{}%", grouped(u, 1)))
    );
}

fn levels(o: &mut String, c: &Calibration) {
    let _ = writeln!(o, "\n## Load levels (all measurements)\n\n| level | requests | served | 429 | other errors | 429 share | TTFT ms p50 / p90 / p99 | tokens/min | reported utilization |\n| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for l in &c.levels {
        level_row(o, c, l);
    }
    if let Some(r) = &c.reserved {
        if !r.throttle.is_empty() {
            let _ = writeln!(o, "\n429 share against load (from the first full window to the end of each run). Erlang B is the share of Poisson arrivals {} slots would refuse with no queue: the load generator is a closed loop of clients with a rate cap, so read it as a check on scale.\n\n| clients | rate cap rpm | offered req/s | utilization | 429 share | Erlang B |\n| ---: | ---: | ---: | ---: | ---: | ---: |", sig(r.slots.value.round().max(1.0), 3));
            for t in &r.throttle {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    sig(t.clients, 4),
                    t.rate_rpm.map_or("–".into(), |r| sig(r, 4)),
                    sig(t.offered_rps, 3),
                    t.util_pct
                        .map_or("–".into(), |u| format!("{}%", grouped(u, 1))),
                    percent(t.share_429, 1),
                    t.erlang_b.map_or("–".into(), |b| percent(b, 1))
                );
            }
        }
    }
}

fn holdout(o: &mut String, c: &Calibration) {
    let _ = writeln!(o, "\n## Holdout: predicted against measured\n");
    if c.holdout_fraction == 0.0 {
        let _ = writeln!(
            o,
            "No holdout (`--holdout 0`): every measurement was used in the fit."
        );
        return;
    }
    if c.from_summaries {
        let _ = writeln!(o, "Whole load levels were left out of the fit: {} of the {} levels (round({} of the levels with statistics and a throughput), at least 1 when there are 3 or more, evenly spaced between the lowest and the highest load, which stay in the fit); their reported percentiles are predicted with the fitted parameters at their measured load.\n", c.holdout.len(), c.levels.len(), percent(c.holdout_fraction, 0));
    } else {
        let _ = writeln!(o, "The last {} of each level's served requests (by start time, else in file order; windows for azure-openai-benchmark) were left out of the fit and predicted with the fitted parameters.\n", percent(c.holdout_fraction, 0));
    }
    if c.holdout.is_empty() {
        let _ = writeln!(o, "Nothing was left to predict.");
        return;
    }
    let _ = writeln!(o, "| level | held out | statistic | measured ms | predicted ms | error |\n| --- | ---: | --- | ---: | ---: | ---: |");
    for r in &c.holdout {
        for (name, m, p) in &r.stats {
            let _ = writeln!(
                o,
                "| {} | {} | {name} | {} | {} | {} |",
                level_name(c, r.level),
                r.n,
                grouped(*m, 1),
                grouped(*p, 1),
                signed_pct(error_pct(*m, *p))
            );
        }
    }
}

/// calibrate.md.
pub fn render(c: &Calibration) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Calibration of deployment `{}`\n", c.deployment);
    let _ = writeln!(o, "Fitted by `llmcap calibrate` to {} file(s) in the {} format. The fitted keys are in `calibration.toml`; the method is in docs/calibrate.md.\n", c.sources.len(), c.format.name());
    sources(&mut o, c);
    parameters(&mut o, c);
    goodness(&mut o, c);
    levels(&mut o, c);
    holdout(&mut o, c);
    o
}

/// The lines printed after a calibration.
pub fn headline(c: &Calibration) -> Vec<String> {
    let mut v = vec![format!(
        "{}: base TTFT median {} ms, p99 {} ms{}{}",
        c.deployment,
        grouped(c.base.median_ms.value, 0),
        grouped(c.base.p99_ms.value, 0),
        c.prefill.as_ref().map_or(String::new(), |p| format!(
            ", prefill {} ms per 1k input",
            grouped(p.ms_per_1k.value, 1)
        )),
        c.load.as_ref().map_or(String::new(), |l| format!(
            ", shared_pool_tpm {}",
            grouped(l.shared_pool_tpm.value, 0)
        )),
    )];
    if let Some(r) = &c.reserved {
        v.push(format!(
            "capacity {} tokens/min and {} requests in service at 100% utilization",
            grouped(r.capacity_tpm.value, 0),
            sig(r.slots.value, 3)
        ));
    }
    // The parameters left unfitted (the other notes are in calibrate.md).
    let unfitted = c
        .cannot
        .iter()
        .filter(|w| !w.starts_with("holdout") && !w.starts_with("base latency"));
    v.extend(unfitted.map(|w| format!("not fitted: {}", w.split(':').next().unwrap_or(w))));
    v
}

pub fn write_calibrate(staging: Staging, c: &Calibration) -> Result<PathBuf, OutputError> {
    staging.write("calibration.toml", fragment(c).as_bytes())?;
    staging.write(plots::calibrate::FILE, &plots::calibrate::png(c)?)?;
    staging.write("calibrate.md", render(c).as_bytes())?;
    staging.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::calibrate::tests::synthetic;
    use crate::analysis::calibrate::{calibrate, Options};
    use crate::domain::Scenario;

    /// The calibrated deployment, replayed by llmcap under the measured load, gives the
    /// measured percentiles: measurements drawn at three load levels, calibration.toml
    /// pasted under a [[deployment]], Poisson traffic at the middle level's rate with the
    /// same prompt lengths (uniform 200 to 4,000 tokens), 4 simulated hours. Tolerances: p50
    /// and p90 10%, p99 15% (the simulated own load varies minute to minute around the mean).
    #[test]
    fn replay_of_the_calibrated_deployment_matches_the_measurements() {
        let loads = [(2.0, 40_000.0), (8.0, 80_000.0), (16.0, 120_000.0)];
        let m = synthetic(400.0, 1200.0, 150.0, Some(200_000.0), &loads, 3000, 5);
        let opts = Options {
            deployment: "measured".into(),
            holdout: 0.0,
            units: None,
            output_weight: 1.0,
            seed: 3,
        };
        let c = calibrate(&[m], &opts).unwrap();
        assert!(c.load.is_some(), "{:?}", c.cannot);
        let rate = 80_000.0 / 60.0 / 2200.0;
        let toml = format!(
            r#"[scenario]
horizon_hours = 4
seed = 9
replications = 1

[[deployment]]
name = "measured"
platform = "azure-openai"
model = "gpt-4o"
on_demand.input_per_1m = 2.5
on_demand.output_per_1m = 10.0
{}
[[class]]
name = "load-test"
model = "gpt-4o"
route = ["measured"]
arrivals = {{ mean_rps = {rate} }}
input_tokens = {{ dist = "empirical", quantiles = [[0, 200], [100, 4000]] }}
output_tokens = {{ dist = "fixed", value = 100 }}
"#,
            fragment(&c)
        );
        let sc = Scenario::from_toml(&toml, "replay.toml".as_ref()).unwrap();
        // The same deployment through `calibration = "FILE"` instead of pasted keys.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("calibration.toml"), fragment(&c)).unwrap();
        let named = toml.replace(&fragment(&c), "calibration = \"calibration.toml\"\n");
        let scenario = dir.path().join("s.toml");
        std::fs::write(&scenario, named).unwrap();
        let via_file = Scenario::load(&scenario).unwrap();
        assert_eq!(via_file.deployments[0].latency, sc.deployments[0].latency);
        assert!(sc.deployments[0].latency.load_slows_base);
        let sim = crate::analysis::run::run(&sc, 1, None).pooled();
        let measured = &c.levels[1].ttft_ms;
        for (p, tol) in [(0.5, 0.10), (0.9, 0.10), (0.99, 0.15)] {
            let want = crate::analysis::calibrate::stats::quantile(measured, p);
            let got = sim.classes[0].ttft.percentile_ms(p * 100.0).unwrap();
            assert!(
                (got - want).abs() / want <= tol,
                "p{}: simulated {got:.1} ms, measured {want:.1} ms",
                p * 100.0
            );
        }
    }
}
