//! `llmcap plan --ladder`: a requirement known by hand month by month, the ladder checked against it, flag errors.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{llmcap, read_json, write};

/// Evenly spaced arrivals, every request the same size, a constant latency and
/// no queue (as in tests/plan.rs): a request holds a slot for S = (1,000 + 5 x
/// 125) / (60,000 / 60) = 1.625 s, so at r requests a second ceil(r x 1.625)
/// units serve every request and one fewer throttles some. The monthly
/// multipliers set r = 4 x m (whole microseconds between arrivals).
const MULTIPLIERS: [f64; 12] = [0.5, 1.0, 1.0, 1.25, 1.25, 2.5, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0];
const SERVICE_S: f64 = 1.625;
const RATE_RPS: f64 = 4.0;

fn scenario(horizon_hours: u32) -> String {
    let m: Vec<String> = MULTIPLIERS.iter().map(|v| v.to_string()).collect();
    format!(
        r#"
[scenario]
name = "ladder"
horizon_hours = {horizon_hours}
seed = 5
replications = 2
start_date = "2027-01-01"

[client]
max_attempts = 1

[[class]]
name = "api"
model = "m"
route = ["ptu"]
sla = {{ ttft_ms = 1000, percentile = 99 }}
arrivals = {{ process = "deterministic", mean_rps = {RATE_RPS}, growth = {{ multipliers = [{}] }} }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 125 }}

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200, prefill_ms_per_1k_input = 0 }}
reserved = {{ units = 1, min_units = 1, unit_step = 1, tpm_per_unit = 60000, concurrency_per_unit = 1, output_weight = 5, term = "monthly", max_wait_ms = 0, price_per_unit_hour = {{ hourly = 2.0, monthly = 1.0, yearly = 0.8 }} }}
"#,
        m.join(", ")
    )
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_ladder_of_a_known_requirement_is_the_one_derived_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    // A one-hour horizon: --months 12 sets it to the 12 months from start_date.
    let sc = write(tmp.path(), "ladder.toml", &scenario(1));
    let out = tmp.path().join("out");
    llmcap()
        .args(["plan", sc.to_str().unwrap(), "--ladder", "--months", "12"])
        .args(["--sample-hours", "24", "--max-units", "30", "--quiet"])
        .args(["--out", out.to_str().unwrap()])
        .assert()
        .success();
    for f in ["ladder.csv", "ladder.md", "ladder.json", "ladder.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let (header, rows) = csv_rows(&out.join("ladder.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 12);
    // The requirement: ceil(4 x multiplier x 1.625) units.
    let need: Vec<u32> = MULTIPLIERS
        .iter()
        .map(|m| (RATE_RPS * m * SERVICE_S).ceil() as u32)
        .collect();
    assert_eq!(need, vec![4, 7, 7, 9, 9, 17, 7, 7, 4, 4, 7, 7]);
    let got: Vec<u32> = rows
        .iter()
        .map(|r| r[col("required_units")].parse().unwrap())
        .collect();
    assert_eq!(got, need);
    // By hand: a unit-month costs $584 yearly (0.8 x 730), $730 monthly,
    // $1,460 hourly (never cheaper than monthly). A yearly unit bought later
    // than month 1 costs the same $7,008 and holds fewer months of the window,
    // so the ladder is Y yearly units from month 1 plus max(0, d - Y) monthly
    // units each month: 7,008 Y + 730 x sum max(0, d - Y), least at Y = 4
    // (every month needs 4; the fifth unit is needed 9 months: 9 x 730 =
    // 6,570 < 7,008). Total 4 x 7,008 + 730 x (3+3+5+5+13+3+3+3+3) = 28,032 +
    // 29,930 = $57,962.
    let cost = |y: u32| {
        7_008.0 * y as f64
            + 730.0
                * need
                    .iter()
                    .map(|&d| d.saturating_sub(y) as f64)
                    .sum::<f64>()
    };
    let best_y = (0..=17)
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
        .unwrap();
    assert_eq!(best_y, 4);
    assert!((cost(4) - 57_962.0).abs() < 1e-9);
    let num = |r: &Vec<String>, c: &str| -> f64 { r[col(c)].parse().unwrap() };
    let committed: f64 = rows.iter().map(|r| num(r, "committed_usd")).sum();
    assert!((committed - 57_962.0).abs() < 0.01, "{committed}");
    for (m, r) in rows.iter().enumerate() {
        assert_eq!(num(r, "units_yearly"), 4.0, "month {}", m + 1);
        assert_eq!(
            num(r, "units_monthly"),
            (need[m] - 4) as f64,
            "month {}",
            m + 1
        );
        assert_eq!(num(r, "units_hourly"), 0.0);
        // One deployment only: nothing on-demand.
        assert_eq!(num(r, "on_demand_usd"), 0.0);
    }
    let json = read_json(&out.join("ladder.json"));
    let ways = json["strategies"].as_array().unwrap();
    let total = |i: usize| ways[i]["total_usd"].as_f64().unwrap();
    // Buy for the peak now: 17 units all year, yearly 17 x 7,008 = $119,136.
    assert_eq!(ways[1]["name"], "buy for the peak now (yearly)");
    assert!((total(1) - 119_136.0).abs() < 0.01);
    // Re-plan monthly: sum d x 730 = 89 x 730 = $64,970.
    assert_eq!(ways[2]["name"], "re-plan monthly (monthly)");
    assert!((total(2) - 64_970.0).abs() < 0.01);
    // No route without the reserved deployment: no all on-demand way.
    assert_eq!(ways.len(), 3);
    let md = std::fs::read_to_string(out.join("ladder.md")).unwrap();
    // Each purchase as a sentence: what to sign when, for which months, at what
    // cost and why. Monthly units on top of the 4 yearly: 0, 3, 3, 5, 5, 13, 3,
    // 3, 0, 0, 3, 3; month 4 renews the 3 and adds 2 (5 x 730 x 2 months =
    // $7,300), month 7 renews 3 of the 13 and lets 10 lapse.
    for line in [
        "- **Month 1 (2027-01-01): buy 4 yearly units** for months 1–12 (to 2027-12-31); \
         $28,032 committed. Why: the requirement never drops below 4 units in months 1–12 \
         (at most 17), and yearly costs $584.00 a unit-month, 20.0% less than monthly \
         ($730.00).",
        "- **Month 2 (2027-02-01): buy 3 monthly units**, renewed monthly for months 2–3 \
         (to 2027-03-31); $4,380 committed in all. Why: months 2–3 require 7 units each, \
         and monthly costs $730.00 a unit-month.",
        "- **Month 4 (2027-04-01): renew the 3 monthly units ending and add 2 (5 in all)**, \
         renewed monthly for months 4–5 (to 2027-05-31); $7,300 committed in all.",
        "- **Month 7 (2027-07-01): renew 3 of the 13 monthly units ending (let 10 lapse)**, \
         renewed monthly for months 7–8",
        "- Sign now (month 1): 4 yearly units ($28,032 committed).",
    ] {
        assert!(md.contains(line), "{line}\n{md}");
    }
}

#[test]
fn ladder_flags_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "ladder.toml", &scenario(1));
    let out = tmp.path().join("out");
    let run = |extra: &[&str]| {
        llmcap()
            .args([
                "plan",
                sc.to_str().unwrap(),
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .args(extra)
            .assert()
            .code(2)
    };
    run(&["--ladder", "--months", "6"])
        .stderr(predicate::str::contains("--months"))
        .stderr(predicate::str::contains("12..=36"));
    run(&["--ladder", "--months", "12", "--sample-hours", "700"])
        .stderr(predicate::str::contains("--sample-hours"))
        .stderr(predicate::str::contains("24..=672"));
    run(&["--months", "12"]).stderr(predicate::str::contains("--ladder"));
    // Without --months the horizon decides: one hour holds no whole month.
    run(&["--ladder"])
        .stderr(predicate::str::contains("ladder.toml"))
        .stderr(predicate::str::contains("scenario.horizon_hours"))
        .stderr(predicate::str::contains("12 to 36 whole months"));
    assert!(!out.exists(), "nothing written");
}

/// Runs `plan --ladder` over 12 months on `text` in `dir` and returns ladder.csv's header and
/// rows, and the output folder.
fn ladder_of(dir: &Path, text: &str) -> (Vec<String>, Vec<Vec<String>>, std::path::PathBuf) {
    let sc = write(dir, "ladder.toml", text);
    let out = dir.join("out");
    llmcap()
        .args(["plan", sc.to_str().unwrap(), "--ladder", "--months", "12"])
        .args(["--sample-hours", "24", "--max-units", "30", "--quiet"])
        .args(["--out", out.to_str().unwrap()])
        .assert()
        .success();
    let (header, rows) = csv_rows(&out.join("ladder.csv"));
    (header, rows, out)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let c = header.iter().position(|h| h == name).unwrap();
    rows.iter().map(|r| r[c].parse().unwrap()).collect()
}

#[test]
fn a_purchase_is_priced_at_the_prices_of_its_month() {
    // The monthly price halves from month 7 (2027-07-01): $1 -> $0.50 a unit-hour, $730 ->
    // $365 a unit-month. The date must lie inside the horizon written in the file.
    let text = scenario(8760)
        + r#"
[[price_change]]
date = "2027-07-01"
deployment = "ptu"
reserved = { price_per_unit_hour = { monthly = 0.5 } }
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (header, rows, out) = ladder_of(tmp.path(), &text);
    // By hand, requirement 4, 7, 7, 9, 9, 17, 7, 7, 4, 4, 7, 7 (as in the test above). A yearly
    // unit costs $7,008 whenever bought; a unit held all year on monthly terms costs 6 x $730 +
    // 6 x $365 = $6,570, less, so no yearly unit is bought and every month is covered on monthly
    // terms: 53 unit-months x $730 in months 1-6 (4+7+7+9+9+17) + 36 x $365 in months 7-12
    // (7+7+4+4+7+7) = $38,690 + $13,140 = $51,830. At the prices of hour 0 the ladder was
    // 4 yearly units and $57,962.
    let committed: f64 = column(&header, &rows, "committed_usd").iter().sum();
    assert!((committed - 51_830.0).abs() < 0.01, "{committed}");
    assert!(column(&header, &rows, "units_yearly")
        .iter()
        .all(|&u| u == 0.0));
    let monthly = column(&header, &rows, "units_monthly");
    assert_eq!(
        monthly,
        vec![4.0, 7.0, 7.0, 9.0, 9.0, 17.0, 7.0, 7.0, 4.0, 4.0, 7.0, 7.0]
    );
    let md = std::fs::read_to_string(out.join("ladder.md")).unwrap();
    assert!(
        md.contains(
            "Prices change on 2027-07-01 (`ptu`, `price_change[0]`): each month is sampled"
        ),
        "{md}"
    );
    // Month 7's renewal of the 7 monthly units is priced at $365 a unit-month.
    assert!(md.contains("$365.00 a unit-month"), "{md}");
}

#[test]
fn a_ladder_with_reserved_units_plans_the_reservation_itself() {
    // 20 units deployed, 10 of them reserved on the monthly term and 10 hourly: the ladder
    // decides what to commit, so the split of the scenario neither changes the requirement nor
    // shows as on-demand spend (the hourly units are a term the ladder may buy, at $2).
    let text = scenario(1).replace(
        "units = 1, min_units",
        "units = 20, reserved_units = 10, min_units",
    );
    assert!(text.contains("reserved_units = 10"));
    let tmp = tempfile::tempdir().unwrap();
    let (header, rows, out) = ladder_of(tmp.path(), &text);
    // By hand, as in the first test: 4 yearly units ($28,032) + monthly units for the rest of
    // each month's requirement (29,930): $57,962 committed, nothing on demand.
    let committed: f64 = column(&header, &rows, "committed_usd").iter().sum();
    assert!((committed - 57_962.0).abs() < 0.01, "{committed}");
    assert!(column(&header, &rows, "on_demand_usd")
        .iter()
        .all(|&u| u == 0.0));
    assert!(column(&header, &rows, "units_yearly")
        .iter()
        .all(|&u| u == 4.0));
    let json = read_json(&out.join("ladder.json"));
    let total = json["strategies"][0]["total_usd"].as_f64().unwrap();
    assert!((total - 57_962.0).abs() < 0.01, "{total}");
}
