//! `llmcap frontier`: the grid of a [frontier] table priced by hand, the Pareto rows, the shipped reservation sizes, the sustained-rate search's bracket, the shipped frontier scenario, and bad [frontier] tables exiting 2 naming the key.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{assert_rel, entries, llmcap, write};

/// Reserved capacity far above the traffic (no request ever waits), so one and two units give
/// the same TTFT and only the price differs; a faster on-demand deployment. Fixed tokens:
/// 1,000 in and 100 out cost $0.002 + $0.001 = $0.003 a request on demand.
pub const GRID: &str = r#"
[scenario]
name = "grid"
horizon_hours = 4
seed = 3
replications = 3

[[class]]
name = "chat"
model = "m"
route = ["ptu", "paygo"]
sla = { ttft_ms = 2000, percentile = 99 }
arrivals = { mean_rps = 1.0 }
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 100 }

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 500, p99_ms = 1500 }
reserved = { units = 1, tpm_per_unit = 100000000, concurrency_per_unit = 100, output_weight = 1, term = "monthly", price_per_unit_hour = { hourly = 10.0, monthly = 6.0 } }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = { median_ms = 100, p99_ms = 300 }
on_demand = { input_per_1m = 2.0, output_per_1m = 10.0 }

[frontier]
units = { ptu = [1, 2] }
routes = [["ptu"], ["paygo"]]
"#;

fn frontier(dir: &Path, args: &[&str]) {
    llmcap()
        .current_dir(dir)
        .arg("frontier")
        .args(args)
        .arg("--quiet")
        .assert()
        .success();
}

/// frontier.csv as (header, rows of fields).
fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn field<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header.iter().position(|h| h == name).unwrap();
    &row[i]
}

#[test]
fn the_grid_is_priced_by_hand_and_the_frontier_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "grid.toml", GRID);
    frontier(dir, &["grid.toml", "--out", "out"]);
    assert_eq!(
        entries(&dir.join("out")),
        [
            "frontier.csv",
            "frontier.json",
            "frontier.md",
            "frontier.png",
            "llmcap-manifest.json"
        ]
    );
    let (h, rows) = csv_rows(&dir.join("out/frontier.csv"));
    // ptu 1 and 2 units under two terms, then on demand alone (ptu not bought): 5 rows.
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                field(&h, r, "route"),
                field(&h, r, "units"),
                field(&h, r, "terms"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ptu", "ptu=1", "ptu=hourly"),
            ("ptu", "ptu=1", "ptu=monthly"),
            ("ptu", "ptu=2", "ptu=hourly"),
            ("ptu", "ptu=2", "ptu=monthly"),
            ("paygo", "", ""),
        ]
    );
    // Reserved only: units x price x 730 h, whatever the traffic.
    let cost: Vec<f64> = rows
        .iter()
        .map(|r| field(&h, r, "monthly_usd").parse().unwrap())
        .collect();
    assert_eq!(&cost[..4], &[7300.0, 4380.0, 14600.0, 8760.0]);
    // On demand: 1 request/s x 3,600 s x $0.003 x 730 h = $7,884 a month (Poisson arrivals).
    assert_rel("on-demand monthly cost", cost[4], 7884.0, 0.03);
    // Same TTFT with 1 or 2 units: nothing waits.
    let p99 = |i: usize| field(&h, &rows[i], "ttft_p99_ms").to_string();
    assert_eq!(p99(0), p99(2));
    let p99_ptu: f64 = p99(0).parse().unwrap();
    let p99_paygo: f64 = p99(4).parse().unwrap();
    assert!(p99_paygo < p99_ptu, "{p99_paygo} vs {p99_ptu}");
    // Nothing is refused or lost: every arrival is served.
    for r in &rows {
        assert_eq!(field(&h, r, "availability"), "1.00000");
        assert_eq!(field(&h, r, "throttled_share"), "0.00000");
    }
    // The frontier: 1 unit monthly (cheapest) and on demand (faster, dearer). The rest are
    // dominated by 1 unit monthly: same p99 and availability, higher price.
    let pareto: Vec<&str> = rows.iter().map(|r| field(&h, r, "pareto")).collect();
    assert_eq!(pareto, ["false", "true", "false", "false", "true"]);
    // Both frontier configurations meet the SLA at 4x the demand (no queue, no quota): the
    // search stops at the top, "at least 4x". The rate is the configuration's, so every term
    // of it shows it; configurations off the frontier (2 units) are not searched.
    let scale: Vec<&str> = rows
        .iter()
        .map(|r| field(&h, r, "sustained_demand_scale"))
        .collect();
    assert_eq!(scale, ["4.0000", "4.0000", "", "", "4.0000"]);
    assert_eq!(field(&h, &rows[1], "missed_demand_scale"), "");
    assert_eq!(field(&h, &rows[1], "sustained_rps"), "4.000");
    let md = std::fs::read_to_string(dir.join("out/frontier.md")).unwrap();
    assert!(
        md.contains("For p99 <= 2,000 ms the cheapest is **ptu 1 monthly: $4,380 per month**"),
        "{md}"
    );
    assert!(md.contains("- Paying $3,"), "{md}");
    assert!(md.contains("more per month buys p99"), "{md}");
    assert!(
        md.contains("sustains at least 4x the scenario's demand (4.00 req/s)"),
        "{md}"
    );
}

#[test]
fn the_rate_search_brackets_the_limit_in_bounded_steps() {
    // One unit serves 132,000 weighted tokens a minute: 2 requests of 1,100 tokens a second,
    // so 2x the demand of 1 request/s saturates it. 20 slots, each request holds one for 10 s.
    let text = GRID
        .replace(
            "reserved = { units = 1, tpm_per_unit = 100000000, concurrency_per_unit = 100,",
            "reserved = { units = 1, tpm_per_unit = 132000, concurrency_per_unit = 20,",
        )
        .replace(
            "units = { ptu = [1, 2] }",
            "units = { ptu = [1] }\nrate_steps = 6",
        )
        .replace("routes = [[\"ptu\"], [\"paygo\"]]", "routes = [[\"ptu\"]]");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "grid.toml", &text);
    frontier(dir, &["grid.toml", "--out", "out"]);
    let (h, rows) = csv_rows(&dir.join("out/frontier.csv"));
    let row = rows
        .iter()
        .find(|r| field(&h, r, "terms") == "ptu=monthly")
        .unwrap();
    assert_eq!(field(&h, row, "pareto"), "true");
    let met: f64 = field(&h, row, "sustained_demand_scale").parse().unwrap();
    let missed: f64 = field(&h, row, "missed_demand_scale").parse().unwrap();
    // Met at 1x (half the capacity), missed at 4x; six halvings of [1, 4] leave 3/64.
    assert!((1.0..2.0).contains(&met), "met at {met}");
    assert!(missed <= 2.0 + 3.0 / 64.0, "missed only at {missed}");
    assert!((missed - met - 3.0 / 64.0).abs() < 1e-3, "{met}..{missed}");
}

#[test]
fn one_thread_or_two_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "grid.toml", GRID);
    frontier(dir, &["grid.toml", "--out", "a", "--threads", "1"]);
    frontier(dir, &["grid.toml", "--out", "b", "--threads", "2"]);
    crate::common::assert_same_results(&dir.join("a"), &dir.join("b"), "frontier.json");
}

#[test]
fn the_shipped_frontier_runs_a_short_horizon() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    llmcap()
        .args(["frontier"])
        .arg(repo.join("scenarios/frontier_azure.toml"))
        .args([
            "--horizon-hours",
            "2",
            "--replications",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let (h, rows) = csv_rows(&out.join("frontier.csv"));
    // 6 unit counts x 3 terms on two routes, plus on demand alone.
    assert_eq!(rows.len(), 6 * 3 * 2 + 1);
    assert!(rows.iter().any(|r| field(&h, r, "pareto") == "true"));
}

#[test]
fn the_shipped_reservation_sizes_run_a_short_horizon() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    llmcap()
        .args(["frontier"])
        .arg(repo.join("scenarios/reserved_rate.toml"))
        .args(["--horizon-hours", "2", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let (h, rows) = csv_rows(&out.join("frontier.csv"));
    // No reservation once, then two sizes on Bedrock's two terms.
    let sizes: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (field(&h, r, "reserved_rate"), field(&h, r, "terms")))
        .collect();
    assert_eq!(
        sizes,
        [
            ("sonnet=none", ""),
            ("sonnet=100000/16000 TPM", "sonnet=1-month"),
            ("sonnet=100000/16000 TPM", "sonnet=3-month"),
            ("sonnet=150000/30000 TPM", "sonnet=1-month"),
            ("sonnet=150000/30000 TPM", "sonnet=3-month"),
        ]
    );
    let md = std::fs::read_to_string(out.join("frontier.md")).unwrap();
    // The cheapest row is always on the frontier: at night, no reservation.
    assert!(md.contains("sonnet no reservation"), "{md}");
    assert!(
        md.contains("`[frontier] reserved_rate` is tried at each size"),
        "{md}"
    );
}

/// `llmcap frontier` on GRID edited by `edit` exits 2 naming the key and what is allowed, and
/// writes nothing.
#[track_caller]
fn refuses(edit: impl Fn(&str) -> String, key: &str, allowed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "bad.toml", &edit(GRID));
    llmcap()
        .current_dir(dir)
        .args(["frontier", "bad.toml", "--out", "out"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains(key))
        .stderr(predicate::str::contains(allowed));
    assert_eq!(entries(dir), ["bad.toml"], "nothing may be written");
}

#[test]
fn bad_frontier_tables_exit_2_naming_the_key() {
    let units = "units = { ptu = [1, 2] }";
    refuses(
        |s| s.replace(units, "units = { paygo = [1] }"),
        "frontier.units.paygo",
        "not a reserved deployment of the scenario (reserved: ptu)",
    );
    refuses(
        |s| {
            s.replace(
                units,
                "units = { ptu = [1, 2] }\nterms = { ptu = [\"yearly\"] }",
            )
        },
        "frontier.terms.ptu[0]",
        "priced terms: hourly, monthly",
    );
    refuses(
        |s| {
            s.replace(
                "routes = [[\"ptu\"], [\"paygo\"]]",
                "routes = [[\"ptu\"], [\"nope\"]]",
            )
        },
        "frontier.routes[1]",
        "no deployment is named \"nope\" (deployments: ptu, paygo)",
    );
    refuses(
        |s| {
            s.replace(
                "reserved = { units = 1,",
                "reserved = { units = 15, min_units = 15, unit_step = 5,",
            )
            .replace(units, "units = { ptu = [15, 17] }")
        },
        "frontier.units.ptu[1]",
        "17 units do not validate",
    );
    refuses(
        |s| s.replace(units, "units = { ptu = [1, 2] }\nsla = \"fast\""),
        "frontier.sla",
        "p99<=800ms",
    );
    // The work limit, before anything runs: the grid alone, then with the rate search.
    refuses(
        |s| {
            s.replace("horizon_hours = 4", "horizon_hours = 26352")
                .replace("replications = 3", "replications = 2000")
        },
        "frontier.units",
        "simulated hours",
    );
    refuses(
        |s| {
            s.replace("horizon_hours = 4", "horizon_hours = 26352")
                .replace("replications = 3", "replications = 600")
        },
        "frontier.rate_steps",
        "with the rate search at its worst",
    );
    // No [frontier] table.
    let tmp = tempfile::tempdir().unwrap();
    let cut = GRID.split("[frontier]").next().unwrap();
    write(tmp.path(), "bad.toml", cut);
    llmcap()
        .current_dir(tmp.path())
        .args(["frontier", "bad.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no [frontier] table"));
}
