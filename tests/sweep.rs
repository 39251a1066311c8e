//! `llmcap sweep` and `llmcap::analysis::sweep`: break-even against the closed form, costs along a units sweep, demand_scale, determinism, invalid sweeps.

use std::path::Path;

use llmcap::analysis::sweep::{run_points, RepOutcome, Sweep};
use llmcap::domain::SweepSpec;
use predicates::prelude::*;

use crate::common::{assert_same_results, entries, llmcap, read_json, write};

const UNITS: &str = "deployment.ptu.reserved.units";

/// Flat Poisson traffic (no hour-of-day or weekday shape), lognormal tokens,
/// reserved units spilling to on-demand capacity of the same model that has no
/// quota (so nothing is ever throttled). One unit serves 60,000 weighted tokens
/// per minute, 1,000 per second: a mean request (~1,930 weighted tokens) holds
/// its slot ~2 s, so the horizon edge hardly matters. The load is ~19.3 units.
pub const FLAT: &str = r#"
[scenario]
name = "flat"
horizon_hours = 2
seed = 42
replications = 4

[client]
max_attempts = 1

[[class]]
name = "chat"
model = "m"
route = ["ptu", "paygo"]
arrivals = { mean_rps = 10.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 2400, max = 1000000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 500, max = 1000000 }

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 800 }
reserved = { units = 10, tpm_per_unit = 60000, output_weight = 3, term = "monthly", max_wait_ms = 500, price_per_unit_hour = { hourly = 12.0, monthly = 6.0, yearly = 4.5 } }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = { median_ms = 450, p99_ms = 2500 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0 }

[sweep]
key = "deployment.ptu.reserved.units"
from = 10
to = 50
step = 2
"#;

/// `llmcap sweep SCENARIO --out OUT --quiet EXTRA...` must succeed.
fn sweep_ok(scenario: &Path, out: &Path, extra: &[&str]) {
    crate::common::command_ok("sweep", scenario, out, extra);
}

/// The sweep of `text` with `spec`, built through the library as the CLI does.
fn build(text: &str, spec: SweepSpec) -> Sweep {
    let file = Path::new("inline.toml");
    let table: toml::Table = llmcap::input::document::parse_toml(text, file).unwrap();
    Sweep::build(&table, file, spec, &Default::default()).unwrap()
}

fn spec(key: &str, values: &[f64]) -> SweepSpec {
    SweepSpec {
        key: key.into(),
        values: values.to_vec(),
        replications: None,
        compare: None,
        at: "sweep".into(),
    }
}

/// Runs every point of `sweep` with its reserved / on-demand pair in focus.
fn outcomes(sweep: &Sweep, threads: usize) -> Vec<Vec<RepOutcome>> {
    let pair = sweep.pair.as_ref().ok().copied();
    run_points(
        &sweep.points,
        pair.map(|p| p.reserved),
        pair.map(|p| p.compare),
        threads,
        None,
    )
    .into_iter()
    .map(|(o, _)| o)
    .collect()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Mean of a lognormal given by its median and 90th percentile, as the
/// scenario reference defines it: sigma = ln(p90 / median) / z90.
pub fn lognormal_mean(median: f64, p90: f64) -> f64 {
    let sigma = (p90 / median).ln() / 1.281_551_6;
    median * (sigma * sigma / 2.0).exp()
}

#[test]
fn breakeven_on_flat_traffic_matches_the_closed_form() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "flat.toml", FLAT);
    let out = tmp.path().join("out");
    sweep_ok(&sc, &out, &[]);
    let j = read_json(&out.join("sweep.json"));

    // By hand from FLAT's numbers: E[in], E[out], the on-demand price of a
    // weighted token (output weight 3) and the break-even of each term.
    let (e_in, e_out) = (lognormal_mean(800.0, 2400.0), lognormal_mean(200.0, 500.0));
    let per_weighted = (e_in * 2.5 + e_out * 10.0) / 1e6 / (e_in + 3.0 * e_out);
    let by_hand = |price: f64| price / (per_weighted * 60_000.0 * 60.0);
    let expected_ratio = e_out / e_in;
    assert!(
        (f(&j["expected_output_ratio"]) - expected_ratio).abs() < 1e-6 * expected_ratio,
        "expected_output_ratio {} vs {expected_ratio} by hand",
        j["expected_output_ratio"]
    );

    let points = j["points"].as_array().unwrap();
    assert_eq!(points.len(), 21, "10 to 50 in steps of 2");
    let utilizations: Vec<f64> = points
        .iter()
        .map(|p| f(&p["utilization"]["mean"]))
        .collect();
    let (u_min, u_max) = utilizations
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &u| {
            (lo.min(u), hi.max(u))
        });

    let breakeven = j["breakeven"].as_array().unwrap();
    let terms: Vec<&str> = breakeven
        .iter()
        .map(|b| b["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["hourly", "monthly", "yearly"]);
    let mut crossed = 0;
    for b in breakeven {
        let term = b["term"].as_str().unwrap();
        let price = f(&b["price_per_unit_hour"]);
        let closed = f(&b["closed_form"]);
        let hand = by_hand(price);
        assert!(
            (closed - hand).abs() <= 1e-6 * hand,
            "{term}: closed form {closed} in sweep.json, {hand} by hand"
        );
        // A term whose break-even lies well inside the swept utilizations must
        // cross in every replication; one above them (hourly: > 100%) never.
        if hand > u_min + 0.02 && hand < u_max - 0.02 {
            crossed += 1;
            assert_eq!(
                b["replications_with_crossover"], b["replications"],
                "{term}: break-even {hand:.3} is inside the swept range {u_min:.3}-{u_max:.3}"
            );
            let sim = f(&b["simulated"]["mean"]);
            assert!(
                (sim - closed).abs() <= 0.01,
                "{term}: simulated break-even {:.2}% vs closed form {:.2}%",
                sim * 100.0,
                closed * 100.0
            );
        } else if hand > u_max {
            assert!(b["simulated"].is_null(), "{term}: {}", b["simulated"]);
            assert_eq!(b["replications_with_crossover"], 0);
        }
    }
    assert_eq!(crossed, 2, "monthly and yearly cross inside the sweep");
}

#[test]
fn costs_are_monotone_in_units_replication_by_replication() {
    let units: Vec<f64> = (0..14).map(|i| 10.0 + 3.0 * i as f64).collect();
    let sweep = build(FLAT, spec(UNITS, &units));
    let out = outcomes(&sweep, 2);
    assert_eq!(out.len(), units.len());
    assert!(
        out.iter().all(|reps| reps.len() == 4),
        "4 replications per point"
    );
    for (i, pair) in out.windows(2).enumerate() {
        let (lo, hi) = (units[i], units[i + 1]);
        for (r, (a, b)) in pair[0].iter().zip(&pair[1]).enumerate() {
            assert!(
                b.reserved_usd > a.reserved_usd,
                "replication {r}: reserved cost {} at {lo} units, {} at {hi} units",
                a.reserved_usd,
                b.reserved_usd,
            );
            assert!(
                b.on_demand_usd <= a.on_demand_usd,
                "replication {r}: spillover cost rose from {} at {lo} units to {} at {hi} units",
                a.on_demand_usd,
                b.on_demand_usd,
            );
            // Same traffic at every point (common random numbers).
            assert_eq!(a.arrived, b.arrived, "replication {r}: arrivals differ");
        }
    }
    // The sweep spans real spillover down to none.
    let (first, last) = (&out[0], &out[out.len() - 1]);
    for (r, (a, b)) in first.iter().zip(last).enumerate() {
        assert!(
            a.on_demand_usd > 0.0,
            "replication {r}: no spillover at {} units",
            units[0]
        );
        assert_eq!(
            b.on_demand_usd,
            0.0,
            "replication {r}: spillover at {} units",
            units[units.len() - 1]
        );
    }
}

#[test]
fn sweep_is_identical_on_one_and_four_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let text = FLAT.replace("horizon_hours = 2", "horizon_hours = 1");
    let sc = write(tmp.path(), "flat.toml", &text);
    let mut dirs = Vec::new();
    for threads in ["1", "4"] {
        let out = tmp.path().join(format!("t{threads}"));
        sweep_ok(
            &sc,
            &out,
            &[
                "--threads",
                threads,
                "--replications",
                "5",
                "--key",
                UNITS,
                "--from",
                "10",
                "--to",
                "40",
                "--step",
                "5",
            ],
        );
        dirs.push(out);
    }
    // Besides the list of what llmcap wrote (llmcap-manifest.json).
    for f in entries(&dirs[0])
        .into_iter()
        .filter(|f| f != llmcap::report::output::WRITTEN_FILE)
    {
        assert!(
            llmcap::report::sweep::SWEEP_FILES.contains(&f.as_str()),
            "unexpected file {f}"
        );
    }
    for f in ["sweep.json", "sweep.csv", "report.md"] {
        assert!(dirs[0].join(f).exists(), "{f} missing");
    }
    assert_same_results(&dirs[0], &dirs[1], "sweep.json");
}

#[test]
fn demand_scale_scales_arrivals_and_keeps_common_random_numbers() {
    // Library: per replication, arrivals roughly double from one value to the next.
    let sweep = build(FLAT, spec("demand_scale", &[0.5, 1.0, 2.0]));
    let out = outcomes(&sweep, 2);
    for r in 0..out[0].len() {
        let n: Vec<f64> = out.iter().map(|p| p[r].arrived as f64).collect();
        for i in 1..n.len() {
            let ratio = n[i] / n[i - 1];
            assert!(
                (ratio - 2.0).abs() < 0.05,
                "replication {r}: arrivals {} -> {}, ratio {ratio}",
                n[i - 1],
                n[i]
            );
        }
        // 10 req/s x 2 h at scale 1.
        assert!((n[1] / 72_000.0 - 1.0).abs() < 0.02, "{}", n[1]);
    }
    // Scaling scales arrival times and keeps the draws: twice the rate over
    // 1 h sees exactly the requests of the plain rate over 2 h.
    let one_hour = FLAT.replace("horizon_hours = 2", "horizon_hours = 1");
    let doubled = outcomes(&build(&one_hour, spec("demand_scale", &[2.0])), 2);
    for r in 0..out[1].len() {
        assert_eq!(
            doubled[0][r].arrived, out[1][r].arrived,
            "replication {r}: scale 2 over 1 h vs scale 1 over 2 h"
        );
    }

    // CLI: sweep.json over [0.5, 1, 2], and scale 1 against a plain run.
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "flat.toml", FLAT);
    let swept = tmp.path().join("sweep");
    sweep_ok(
        &sc,
        &swept,
        &["--key", "demand_scale", "--values", "0.5,1,2"],
    );
    let ran = tmp.path().join("run");
    llmcap()
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            ran.to_str().unwrap(),
            "--quiet",
        ])
        .assert()
        .success();
    let j = read_json(&swept.join("sweep.json"));
    let points = j["points"].as_array().unwrap();
    let values: Vec<f64> = points.iter().map(|p| f(&p["value"])).collect();
    assert_eq!(values, [0.5, 1.0, 2.0]);
    // Nothing is throttled, so every arrival is served: the on-demand price of
    // all served tokens follows the arrivals.
    for i in 1..points.len() {
        let (a, b) = (
            f(&points[i - 1]["all_on_demand_usd"]["mean"]),
            f(&points[i]["all_on_demand_usd"]["mean"]),
        );
        assert!(
            (b / a - 2.0).abs() < 0.05,
            "all-on-demand price of the served tokens {a} -> {b}"
        );
        assert_eq!(f(&points[i]["throttled_share"]), 0.0);
    }
    // sweep.csv says the same.
    let mut csv = csv::Reader::from_path(swept.join("sweep.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (value, all_od) = (col("value"), col("all_on_demand_usd"));
    let rows: Vec<(f64, f64)> = csv
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[value].parse().unwrap(), r[all_od].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 3);
    for (i, (v, usd)) in rows.iter().enumerate() {
        assert_eq!(*v, values[i]);
        let json = f(&points[i]["all_on_demand_usd"]["mean"]);
        assert!(
            (usd - json).abs() <= 0.005 + 1e-9,
            "sweep.csv {usd} vs sweep.json {json}"
        );
    }
    let s = read_json(&ran.join("summary.json"));
    let p = &points[1];
    let same = |what: &str, sweep: &serde_json::Value, run: &serde_json::Value| {
        for k in ["mean", "ci95_low", "ci95_high"] {
            let (x, y) = (f(&sweep[k]), f(&run[k]));
            assert!(
                (x - y).abs() <= 1e-9 * y.abs().max(1e-9),
                "{what}.{k}: sweep at demand_scale 1 {x}, plain run {y}"
            );
        }
        assert_eq!(sweep["n"], run["n"], "{what}.n");
    };
    same("total cost", &p["total_usd"], &s["cost"]["total_usd"]);
    same(
        "on-demand cost",
        &p["on_demand_usd"],
        &s["cost"]["on_demand_usd"],
    );
    same(
        "reserved cost",
        &p["reserved_usd"],
        &s["cost"]["reserved_usd"],
    );
    same(
        "cost per 1M served tokens",
        &p["usd_per_1m_tokens"],
        &s["cost"]["per_1m_tokens_usd"],
    );
    same(
        "reserved utilization",
        &p["utilization"],
        &s["reserved_utilization"],
    );
    let spilled = f(&s["requests"]["spilled"]) / f(&s["requests"]["arrived"]);
    assert!(
        (f(&p["spilled_share"]) - spilled).abs() < 1e-9,
        "spilled share {} vs {spilled}",
        p["spilled_share"]
    );
}

/// Runs `llmcap sweep bad.toml --out DIR ARGS` on `text` and checks exit code 2,
/// that stderr names the file and contains every `expect`, and that nothing
/// but the scenario is left.
#[track_caller]
fn sweep_rejects(text: &str, args: &[&str], expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "bad.toml", text);
    let out = tmp.path().join("results");
    let mut a = llmcap()
        .args([
            "sweep",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"));
    for e in expect {
        a = a.stderr(predicate::str::contains(*e));
    }
    assert_eq!(
        entries(tmp.path()),
        ["bad.toml"],
        "nothing but the scenario may remain"
    );
}

/// FLAT without its [sweep] table.
fn no_sweep_table() -> String {
    FLAT[..FLAT.find("[sweep]").unwrap()].to_string()
}

/// FLAT with its [sweep] table replaced by `table`.
fn with_sweep_table(table: &str) -> String {
    format!("{}[sweep]\n{table}\n", no_sweep_table())
}

#[test]
fn empty_ranges_are_rejected() {
    sweep_rejects(
        &no_sweep_table(),
        &["--key", UNITS, "--from", "50", "--to", "10", "--step", "5"],
        &["--to: must be at least from = 50 (an empty range), got 10"],
    );
    sweep_rejects(
        &with_sweep_table(&format!("key = \"{UNITS}\"\nfrom = 50\nto = 10\nstep = 5")),
        &[],
        &["sweep.to: must be at least from = 50 (an empty range), got 10"],
    );
}

#[test]
fn zero_and_negative_steps_are_rejected() {
    for step in ["0", "-5"] {
        sweep_rejects(
            &no_sweep_table(),
            &["--key", UNITS, "--from", "10", "--to", "50", "--step", step],
            &[&format!("--step: must be a number above 0, got {step}")],
        );
        sweep_rejects(
            &with_sweep_table(&format!(
                "key = \"{UNITS}\"\nfrom = 10\nto = 50\nstep = {step}"
            )),
            &[],
            &[&format!("sweep.step: must be a number above 0, got {step}")],
        );
    }
}

#[test]
fn unknown_keys_are_rejected() {
    sweep_rejects(
        &no_sweep_table(),
        &[
            "--key",
            "deployment.nope.reserved.units",
            "--values",
            "10,20",
        ],
        &[
            "--key",
            "\"deployment\" has no element named \"nope\"",
            "(it has: ptu, paygo)",
        ],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "class.x.y", "--values", "1"],
        &[
            "--key",
            "\"class\" has no element named \"x\"",
            "(it has: chat)",
        ],
    );
    sweep_rejects(
        &with_sweep_table("key = \"deployment.ptu.reserved.unitz\"\nvalues = [10]"),
        &[],
        &[
            "deployment.ptu.reserved.unitz",
            "unknown field `unitz`",
            "expected one of `units`",
        ],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "class[3].arrivals.mean_rps", "--values", "1"],
        &[
            "--key",
            "\"class[3]\" has 1 element(s); index 3 is out of range",
        ],
    );
}

#[test]
fn non_numeric_keys_are_rejected() {
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "deployment.ptu.platform", "--values", "1"],
        &["\"deployment.ptu.platform\" is a string, not a number; only numeric keys can be swept"],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "deployment.ptu.reserved", "--values", "1"],
        &["\"deployment.ptu.reserved\" is a table, not a number"],
    );
}

#[test]
fn values_that_fail_validation_name_the_key_and_value() {
    sweep_rejects(
        &no_sweep_table(),
        &["--key", UNITS, "--values", "10,0"],
        &[
            &format!("--key = \"{UNITS}\" at 0"),
            "deployment[0].reserved.units: must be a whole number >= 1, got 0",
        ],
    );
    // Off the vendor's grid: minimum 10, steps of 5.
    let grid =
        no_sweep_table().replace("units = 10,", "units = 10, min_units = 10, unit_step = 5,");
    sweep_rejects(
        &grid,
        &["--key", UNITS, "--values", "10,15,17"],
        &[
            &format!("--key = \"{UNITS}\" at 17"),
            "min_units = 10 plus a multiple of unit_step = 5",
            "got 17",
        ],
    );
    sweep_rejects(
        &grid,
        &["--key", UNITS, "--from", "10", "--to", "20", "--step", "1"],
        &[&format!("--key = \"{UNITS}\" at 11"), "got 11"],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "demand_scale", "--values", "1,0"],
        &["demand_scale must be above 0, got 0"],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", "class.chat.arrivals.mean_rps", "--values", "-1"],
        &[
            "--key = \"class.chat.arrivals.mean_rps\" at -1",
            "class[0].arrivals.mean_rps: must be a finite number > 0, got -1",
        ],
    );
}

#[test]
fn values_and_a_range_together_are_rejected() {
    sweep_rejects(
        &no_sweep_table(),
        &["--key", UNITS, "--values", "10,20", "--from", "10"],
        &["--values: give either --values or --from / --to with --step or --points, not both"],
    );
    sweep_rejects(
        &with_sweep_table(&format!(
            "key = \"{UNITS}\"\nvalues = [10, 20]\nfrom = 10\nto = 20\nstep = 5"
        )),
        &[],
        &["sweep.values: give either sweep.values or sweep.from / sweep.to with sweep.step or sweep.points, not both"],
    );
    sweep_rejects(
        &no_sweep_table(),
        &[
            "--key", UNITS, "--from", "10", "--to", "20", "--step", "5", "--points", "3",
        ],
        &["give step or points, not both"],
    );
    sweep_rejects(
        &no_sweep_table(),
        &["--key", UNITS, "--from", "10", "--to", "20"],
        &["step: is missing: give step (the distance between values) or points (how many)"],
    );
}

#[test]
fn a_sweep_needs_a_key() {
    sweep_rejects(
        &no_sweep_table(),
        &[],
        &[
            "sweep: the scenario has no [sweep] table and no --key was given",
            "--key deployment.<name>.reserved.units",
        ],
    );
    // Values without a key: a usage error naming the missing flag.
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "bad.toml", &no_sweep_table());
    let out = tmp.path().join("results");
    llmcap()
        .args([
            "sweep",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--values", "10,20"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key is required with --values"));
    assert!(!out.exists());
}

#[test]
fn a_sweep_replaces_its_own_previous_results() {
    let tmp = tempfile::tempdir().unwrap();
    let text = FLAT.replace("horizon_hours = 2", "horizon_hours = 1");
    let sc = write(tmp.path(), "flat.toml", &text);
    let out = tmp.path().join("out");
    for seed in ["1", "2"] {
        sweep_ok(
            &sc,
            &out,
            &["--seed", seed, "--key", UNITS, "--values", "10,20"],
        );
    }
    assert_eq!(read_json(&out.join("sweep.json"))["manifest"]["seed"], 2);
}

/// Every shipped scenario with a `[sweep]` runs it on a short horizon and
/// writes every sweep file, with a closed-form break-even for every priced
/// term, and `plan` runs on every shipped scenario with a reserved deployment
/// and an SLA.
#[test]
fn shipped_sweeps_and_plans_run_a_short_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut swept = 0;
    let mut planned = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for p in files {
        let test = "shipped_sweeps_and_plans_run_a_short_horizon";
        let Some(shipped) = crate::common::shipped_scenario(&p, test) else {
            continue;
        };
        let text = &shipped.text;
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let sc = shipped.scenario();
        if text.contains("\n[sweep]") {
            let out = tmp.path().join(format!("{name}-sweep"));
            llmcap()
                .args(["sweep", p.to_str().unwrap(), "--out", out.to_str().unwrap()])
                .args(["--horizon-hours", "1", "--replications", "2", "--quiet"])
                .args(&shipped.args)
                .assert()
                .success();
            for f in llmcap::report::sweep::SWEEP_FILES {
                assert!(out.join(f).is_file(), "{name}: {f} missing");
            }
            let json = read_json(&out.join("sweep.json"));
            let terms = json["breakeven"].as_array().unwrap();
            let reserved = sc
                .deployments
                .iter()
                .find_map(|d| match &d.pool {
                    llmcap::domain::Pool::Reserved(r) => Some(r),
                    _ => None,
                })
                .unwrap();
            assert_eq!(terms.len(), reserved.price_per_unit_hour.len(), "{name}");
            for t in terms {
                assert!(t["closed_form"].as_f64().unwrap() > 0.0, "{name}: {t}");
            }
            swept += 1;
        }
        let has_reserved = sc
            .deployments
            .iter()
            .any(|d| matches!(d.pool, llmcap::domain::Pool::Reserved(_)));
        if has_reserved && sc.classes.iter().any(|c| c.sla.is_some()) {
            let out = tmp.path().join(format!("{name}-plan"));
            llmcap()
                .args(["plan", p.to_str().unwrap(), "--out", out.to_str().unwrap()])
                .args(["--horizon-hours", "1", "--replications", "2", "--quiet"])
                .args(&shipped.args)
                .assert()
                .success();
            // litellm_config.yaml is written only when a configuration meets the SLA.
            for f in llmcap::report::plan::PLAN_FILES
                .iter()
                .filter(|f| **f != llmcap::report::litellm::FILE)
            {
                assert!(out.join(f).is_file(), "{name}: {f} missing");
            }
            planned += 1;
        }
    }
    assert!(swept >= 3, "the breakeven_* scenarios declare sweeps");
    assert!(planned >= 1, "at least baseline is planned");
}
