//! Chart layout: every chart the shipped scenarios produce (run, sweep, plan; short horizons) places its labels without collisions.

use std::path::Path;

use llmcap::analysis::sweep::{breakevens, run_points_each, PointSummary, Sweep};
use llmcap::domain::Scenario;
use llmcap::input::scenario::Overrides;
use llmcap::report::output::{StageOptions, Staging};
use llmcap::report::plots::layout::{record, ChartLayout};
use llmcap::report::summary::{histogram_precision, Manifest, RepDigest};
use llmcap::report::sweep::SweepResult;

use crate::common::shipped_scenario;

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Hours simulated per run: enough for every chart to have data.
const HOURS: u32 = 2;

fn manifest(sc: &Scenario) -> Manifest {
    Manifest {
        llmcap_version: "test".into(),
        scenario_name: sc.name.clone(),
        scenario_file: String::new(),
        scenario_sha256: String::new(),
        seed: sc.seed,
        replications: sc.replications,
        horizon_hours: sc.horizon_hours,
        start_date: None,
        threads: 2,
        ttft_histogram: histogram_precision(),
        shards: None,
    }
}

fn staging(dest: &Path) -> Staging {
    Staging::create_with(dest, &StageOptions::default()).expect("staging folder")
}

/// The charts of `llmcap run`, `sweep` (when the scenario has a [sweep]) and `plan` (when it has
/// a reserved deployment to size) on `path`, as their layouts.
fn charts_of(path: &Path, text: &str, out: &Path) -> Vec<ChartLayout> {
    let overrides = Overrides {
        horizon_hours: Some(HOURS),
        replications: Some(1),
        ..Overrides::default()
    };
    let sc = Scenario::from_toml_with(text, path, &overrides).expect("shipped scenario is valid");
    let mut charts = Vec::new();

    let (pooled, digests) =
        llmcap::analysis::run::run_each(&sc, 2, None, |m| RepDigest::of(&sc, m));
    let (written, run) = record(|| {
        llmcap::report::write_run(
            staging(&out.join("run")),
            &sc,
            &pooled,
            &digests,
            manifest(&sc),
        )
    });
    written.expect("run outputs written");
    charts.extend(run);

    if let Some(spec) = sc.sweep.clone() {
        let table: toml::Table = text.parse().expect("TOML");
        let sweep = Sweep::build(&table, path, spec, &overrides).expect("sweep builds");
        let pair = sweep.pair.as_ref().ok().copied();
        let values = &sweep.spec.values;
        let done = run_points_each(
            &sweep.points,
            pair.map(|p| p.reserved),
            pair.map(|p| p.compare),
            2,
            None,
            |p, reps, hist| {
                (
                    PointSummary::of(values[p], &reps, hist, pair.is_some()),
                    reps,
                )
            },
        );
        let (points, outcomes): (Vec<_>, Vec<_>) = done.into_iter().unzip();
        let breakeven = breakevens(&sweep, &outcomes);
        let result = SweepResult::build(&sweep, points, breakeven, manifest(&sweep.points[0]));
        let (written, sweep_charts) = record(|| {
            llmcap::report::sweep::write_sweep(
                staging(&out.join("sweep")),
                &sweep.points[0],
                &result,
            )
        });
        written.expect("sweep outputs written");
        charts.extend(sweep_charts);
    }

    let plan_overrides = Overrides {
        plan: true,
        ..overrides
    };
    let sc = Scenario::from_toml_with(text, path, &plan_overrides).expect("valid for plan");
    if let Ok(spec) = llmcap::analysis::plan::spec(&sc, path, None, None, None, None) {
        let result = llmcap::analysis::plan::plan(&sc, &spec, 2, None);
        if result.input_failure.is_none() {
            let (written, plan) = record(|| {
                llmcap::report::plan::write_plan(
                    staging(&out.join("plan")),
                    &sc,
                    &result,
                    manifest(&sc),
                    None,
                )
            });
            written.expect("plan outputs written");
            charts.extend(plan);
        }
    }
    charts
}

#[test]
fn shipped_charts_place_labels_without_collisions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in files {
        let Some(s) = shipped_scenario(&path, "shipped_charts_place_labels_without_collisions")
        else {
            continue;
        };
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for chart in charts_of(&path, &s.text, &tmp.path().join(&stem)) {
            assert!(
                !chart.labels.is_empty(),
                "{stem}/{}: no labels recorded",
                chart.file
            );
            seen.insert(chart.file.clone());
            problems.extend(chart.problems().into_iter().map(|p| format!("{stem}/{p}")));
        }
    }
    for file in [
        "ttft_cdf.png",
        "hourly_cost.png",
        "traffic.png",
        "failover.png",
        "attribution.png",
        "breakeven.png",
        "cost_vs_units.png",
        "sensitivity.png",
    ] {
        assert!(seen.contains(file), "no shipped scenario drew {file}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
