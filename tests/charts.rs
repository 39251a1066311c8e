//! Chart layout: every chart the shipped scenarios produce (run, sweep, plan of units or of a token-rate reservation, frontier, ladder; short horizons) places its labels without collisions or covering a data marker; short runs chart per minute.

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
            &llmcap::analysis::batch::run(&sc),
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
                    None,
                )
            });
            written.expect("plan outputs written");
            charts.extend(plan);
        }
    }
    // plan.png of a token-rate reservation plan ([plan] deployment names the one to size).
    let named = sc.plan.as_ref().and_then(|p| p.deployment.clone());
    if let Ok(Some(spec)) =
        llmcap::analysis::rate_plan::spec(&sc, path, None, named.as_deref(), None, None)
    {
        let result = llmcap::analysis::rate_plan::plan(&sc, &spec, 2, None);
        let (written, plan) = record(|| {
            llmcap::report::rate_plan::write_rate_plan(
                staging(&out.join("rate_plan")),
                &sc,
                &result,
                manifest(&sc),
            )
        });
        written.expect("rate plan outputs written");
        charts.extend(plan);
    }
    charts.extend(frontier_chart(path, text, out));
    charts.extend(ladder_chart(path, text, out));
    charts
}

/// frontier.png of `llmcap frontier` when the scenario has a [frontier] table (2 h, 1 rep).
fn frontier_chart(path: &Path, text: &str, out: &Path) -> Vec<ChartLayout> {
    use llmcap::analysis::frontier::{self, Frontier};
    let overrides = Overrides {
        horizon_hours: Some(HOURS),
        replications: Some(1),
        ..Overrides::default()
    };
    let sc = Scenario::from_toml_with(text, path, &overrides).expect("valid");
    let Some(options) = sc.frontier.clone() else {
        return Vec::new();
    };
    let table: toml::Table = text.parse().expect("TOML");
    let f = Frontier::build(&table, path, options, &overrides).expect("frontier builds");
    let result = frontier::finish(
        &f,
        frontier::simulate(&f, 2, None),
        frontier::Rates::Simulate {
            threads: 2,
            progress: None,
        },
    )
    .unwrap();
    let (written, charts) = record(|| {
        llmcap::report::frontier::write_frontier(
            staging(&out.join("frontier")),
            &sc,
            &result,
            manifest(&sc),
            None,
        )
    });
    written.expect("frontier outputs written");
    charts
}

/// ladder.png of `llmcap plan --ladder --months 12 --sample-hours 24` when a class's traffic
/// grows (a ladder of a flat scenario is one purchase).
fn ladder_chart(path: &Path, text: &str, out: &Path) -> Vec<ChartLayout> {
    use llmcap::analysis::ladder;
    let overrides = Overrides {
        replications: Some(1),
        horizon_months: Some(12),
        plan: true,
        ..Overrides::default()
    };
    let Ok(sc) = Scenario::from_toml_with(text, path, &overrides) else {
        return Vec::new();
    };
    if sc
        .classes
        .iter()
        .all(|c| c.arrivals.growth == llmcap::domain::Growth::None)
    {
        return Vec::new();
    }
    let months = ladder::ladder_months(&sc, path).expect("12 months");
    let rate = llmcap::analysis::rate_plan::spec(&sc, path, None, None, None, None);
    if let Ok(Some(spec)) = rate {
        // A token-rate reservation: its ladder, one panel per side.
        let result = ladder::rate::ladder(&sc, &spec, months, 24, 2, None);
        let (written, charts) = record(|| {
            llmcap::report::ladder_rate::write_rate_ladder(
                staging(&out.join("ladder")),
                &sc,
                &result,
                manifest(&sc),
                &[],
            )
        });
        written.expect("ladder outputs written");
        return charts;
    }
    let spec = llmcap::analysis::plan::spec(&sc, path, None, None, None, None).expect("plan spec");
    let result = ladder::ladder(&sc, &spec, months, 24, 2, None);
    let (written, charts) = record(|| {
        llmcap::report::ladder::write_ladder(
            staging(&out.join("ladder")),
            &sc,
            &result,
            manifest(&sc),
            &[],
        )
    });
    written.expect("ladder outputs written");
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
        "frontier.png",
        "ladder.png",
        "plan.png",
    ] {
        assert!(seen.contains(file), "no shipped scenario drew {file}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `run`'s outputs of `sc` written to a temporary folder, and its hourly.csv: the header and
/// the rows.
fn written_hourly(
    sc: &Scenario,
    pooled: &llmcap::model::metrics::RepMetrics,
    digests: &[RepDigest],
) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let tmp = tempfile::tempdir().unwrap();
    let (dest, _) = llmcap::report::write_run(
        staging(&tmp.path().join("run")),
        sc,
        pooled,
        digests,
        &llmcap::analysis::batch::run(sc),
        manifest(sc),
    )
    .expect("run outputs written");
    let mut csv = csv::Reader::from_path(dest.join("hourly.csv")).expect("hourly.csv");
    let header = csv.headers().unwrap().clone();
    let records = csv.records().map(|r| r.unwrap()).collect();
    (header, records)
}

/// A run shorter than 3 h draws its time series per simulated minute: a 1 h run's cost chart
/// has 60 values per deployment; the on-demand ones add up to the hour's cost in hourly.csv,
/// each reserved one is the hour's price / 60, and the minutes' mean utilization is the hour's.
/// A 3 h run keeps no minute bins.
#[test]
fn a_one_hour_run_charts_sixty_minutes_that_add_up_to_the_hour() {
    use llmcap::report::{run_charts, tables};
    let path = repo("scenarios/ondemand_vs_reserved.toml");
    let text = std::fs::read_to_string(&path).expect("shipped scenario");
    let hours = |h| Overrides {
        horizon_hours: Some(h),
        replications: Some(2),
        ..Overrides::default()
    };
    let sc = Scenario::from_toml_with(&text, &path, &hours(1)).expect("valid");
    let (pooled, digests) =
        llmcap::analysis::run::run_each(&sc, 2, None, |m| RepDigest::of(&sc, m));
    let bins = pooled.minute_bins().expect("a 1 h run keeps minute bins");
    assert_eq!(bins.count, 60);
    let rows = tables::bin_rows(&sc, 2, &bins);
    let panels = run_charts::cost_panels(&sc, &rows, bins.count);

    let (header, records) = written_hourly(&sc, &pooled, &digests);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (dep, total, util) = (
        col("deployment"),
        col("cost_total_usd"),
        col("reserved_utilization"),
    );
    let mut checked = 0;
    for r in &records {
        let name = &r[dep];
        let hour_cost: f64 = r[total].parse().unwrap();
        let panel = panels
            .iter()
            .find(|p| {
                p.stacks
                    .iter()
                    .any(|s| s.label.starts_with(&format!("{name} (")))
            })
            .expect("a panel per deployment");
        let stack = panel
            .stacks
            .iter()
            .find(|s| s.label.starts_with(&format!("{name} (")))
            .unwrap();
        assert_eq!(stack.values.len(), 60, "{name}");
        let sum: f64 = stack.values.iter().sum();
        // hourly.csv prints 4 decimals.
        assert!(
            (sum - hour_cost).abs() < 1e-4,
            "{name}: minutes add up to {sum}, hourly.csv says {hour_cost}"
        );
        if stack.label.ends_with("(reserved)") {
            for v in &stack.values {
                assert!((v - hour_cost / 60.0).abs() < 1e-5, "{name}: {v} a minute");
            }
            let u = panel.utilization[0].values.iter().sum::<f64>() / 60.0;
            let hour_u: f64 = r[util].parse().unwrap();
            assert!((u - hour_u).abs() < 1e-6, "{name}: {u} vs {hour_u}");
        } else {
            assert!(hour_cost > 1.0 && stack.values.iter().all(|v| *v > 0.0));
        }
        checked += 1;
    }
    assert_eq!(checked, sc.deployments.len());

    let sc3 = Scenario::from_toml_with(&text, &path, &hours(3)).expect("valid");
    let (pooled3, _) = llmcap::analysis::run::run_each(&sc3, 2, None, |m| RepDigest::of(&sc3, m));
    assert!(pooled3.minute_bins().is_none());
    assert_eq!(pooled3.chart_bins().count, 3);
}

/// The cost chart of token-rate reservations (scenarios/reserved_rate.toml, 4 h): each such
/// deployment has a reservation layer (its commitment, paid every hour) and an overflow layer
/// (on-demand at list price), and each hour's layers add up to the hour's cost in hourly.csv, so
/// a reservation nothing overflows from is still drawn.
#[test]
fn token_rate_reservations_are_drawn_as_commitment_and_overflow() {
    use llmcap::report::{run_charts, tables};
    let path = repo("scenarios/reserved_rate.toml");
    let text = std::fs::read_to_string(&path).expect("shipped scenario");
    let o = Overrides {
        horizon_hours: Some(4),
        replications: Some(1),
        ..Overrides::default()
    };
    let sc = Scenario::from_toml_with(&text, &path, &o).expect("valid");
    let (pooled, digests) =
        llmcap::analysis::run::run_each(&sc, 1, None, |m| RepDigest::of(&sc, m));
    let bins = pooled.hour_bins();
    let rows = tables::bin_rows(&sc, 1, &bins);
    let panels = run_charts::cost_panels(&sc, &rows, bins.count);
    let stacks: Vec<_> = panels.iter().flat_map(|p| &p.stacks).collect();
    let (header, records) = written_hourly(&sc, &pooled, &digests);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (hour, dep, total, reserved) = (
        col("hour"),
        col("deployment"),
        col("cost_total_usd"),
        col("cost_reserved_usd"),
    );
    let mut checked = 0;
    for r in &records {
        let h: usize = r[hour].parse().unwrap();
        let name = &r[dep];
        let mine: Vec<_> = stacks
            .iter()
            .filter(|s| s.label.starts_with(&format!("{name} (")))
            .collect();
        let d = sc.deployments.iter().find(|d| d.name == name).unwrap();
        let rate =
            matches!(&d.pool, llmcap::domain::Pool::OnDemand(o) if o.reserved_rate.is_some());
        assert_eq!(mine.len(), if rate { 2 } else { 1 }, "{name}");
        let sum: f64 = mine.iter().map(|s| s.values[h]).sum();
        let want: f64 = r[total].parse().unwrap();
        // hourly.csv prints 4 decimals.
        assert!(
            (sum - want).abs() < 1e-3,
            "{name} hour {h}: {sum} vs {want}"
        );
        if rate {
            let commitment: f64 = r[reserved].parse().unwrap();
            assert!(commitment > 0.0, "{name}: a commitment every hour");
            let layer = mine
                .iter()
                .find(|s| s.label.ends_with("(token-rate reservation)"))
                .unwrap();
            assert!(
                (layer.values[h] - commitment).abs() < 1e-3,
                "{name} hour {h}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * 3, "three reservations over 4 hours");
}
