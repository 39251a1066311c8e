//! Prices by date: `[[price_change]]` billed from its hour on, retirements and `migrate_to`, their bad input.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{command_ok, llmcap, read_json, write};

/// 48 hours from 2027-01-01: class `api` (1 request a second, evenly spaced, 1,000 tokens in
/// and 100 out) on the on-demand deployment `od`, class `batch` on 2 reserved units of `ptu`.
/// `changes` is appended ([[price_change]] tables).
fn scenario(changes: &str) -> String {
    format!(
        r#"
[scenario]
name = "prices"
horizon_hours = 48
seed = 3
start_date = "2027-01-01"

[[class]]
name = "api"
model = "m"
route = ["od"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[class]]
name = "batch"
model = "m"
route = ["ptu"]
arrivals = {{ process = "deterministic", mean_rps = 0.1 }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 10 }}

[[deployment]]
name = "od"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 2.0, output_per_1m = 10.0, cached_input_per_1m = 1.0 }}

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
reserved = {{ units = 2, tpm_per_unit = 60000, term = "hourly", price_per_unit_hour = {{ hourly = 1.0, monthly = 0.5 }} }}
{changes}
"#
    )
}

const HALVED_AT_24: &str = r#"
[[price_change]]
date = "2027-01-02"
deployment = "od"
on_demand = { input_per_1m = 1.0, output_per_1m = 5.0 }

[[price_change]]
date = "2027-01-02"
deployment = "ptu"
reserved = { price_per_unit_hour = { hourly = 0.5 } }
"#;

/// hourly.csv as (hour, deployment, input tokens, output tokens, on-demand $, reserved $).
fn hourly(out: &Path) -> Vec<(u32, String, f64, f64, f64, f64)> {
    let mut r = csv::Reader::from_path(out.join("hourly.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (hour, dep, i, o, od, res) = (
        col("hour"),
        col("deployment"),
        col("input_tokens"),
        col("output_tokens"),
        col("cost_on_demand_usd"),
        col("cost_reserved_usd"),
    );
    r.records()
        .map(|x| {
            let x = x.unwrap();
            let f = |c: usize| x[c].parse::<f64>().unwrap();
            (
                x[hour].parse().unwrap(),
                x[dep].to_string(),
                f(i),
                f(o),
                f(od),
                f(res),
            )
        })
        .collect()
}

#[test]
fn a_price_halved_at_hour_24_is_billed_from_hour_24() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "prices.toml", &scenario(HALVED_AT_24));
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    // By hand: a request costs (1,000 x $2 + 100 x $10) / 1M = $0.003 before 2027-01-02
    // (hour 24) and $0.0015 from then; 3,600 requests an hour: $10.80 then $5.40. The
    // reserved units cost 2 x $1 = $2 an hour, then 2 x $0.50 = $1.
    let rows = hourly(&out);
    let mut od_total = 0.0;
    for (h, dep, input, output, od, res) in &rows {
        let half = if *h < 24 { 1.0 } else { 0.5 };
        match dep.as_str() {
            "od" => {
                let want = (input * 2.0 + output * 10.0) / 1e6 * half;
                // hourly.csv rounds dollars to 4 decimals.
                assert!((od - want).abs() < 1e-4, "hour {h}: {od} vs {want}");
                od_total += od;
            }
            _ => assert!((res - 2.0 * half).abs() < 1e-12, "hour {h}: {res}"),
        }
    }
    let at = |h: u32| {
        rows.iter()
            .find(|r| r.0 == h && r.1 == "od")
            .map(|r| r.4)
            .unwrap()
    };
    assert!((at(12) - 10.80).abs() < 0.01, "{}", at(12));
    assert!((at(36) - 5.40).abs() < 0.01, "{}", at(36));
    // The whole bill: 24 x $10.80 + 24 x $5.40 = $388.80 on demand (within a request at
    // each end), 24 x $2 + 24 x $1 = $72 reserved; summary.json from the same prices.
    assert!((od_total - 388.80).abs() < 0.01, "{od_total}");
    let s = read_json(&out.join("summary.json"));
    let mean = |k: &str| s["cost"][k]["mean"].as_f64().unwrap();
    assert!((mean("on_demand_usd") - od_total).abs() < 0.01);
    assert!((mean("reserved_usd") - 72.0).abs() < 1e-9);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("From 2027-01-02 (hour 24, `price_change[0]`): $1/1M input"),
        "{report}"
    );
    // Cached input not given keeps its ratio to input: $1 -> $0.50.
    assert!(report.contains("$0.5/1M cached input"), "{report}");
}

#[test]
fn units_beyond_a_reservation_are_billed_at_each_periods_hourly_price() {
    // 2 units, 1 of them reserved on the monthly term: $0.50 + $1 hourly for the other = $1.50
    // an hour; from 2027-01-02 (hour 24) monthly $0.25 and hourly $0.80: $1.05 an hour.
    // By hand: 24 x $1.50 + 24 x $1.05 = $61.20 reserved, of which 24 x $1 + 24 x $0.80 =
    // $43.20 for the unit beyond the reservation.
    let sc = scenario(
        r#"
[[price_change]]
date = "2027-01-02"
deployment = "ptu"
reserved = { price_per_unit_hour = { hourly = 0.8, monthly = 0.25 } }
"#,
    )
    .replace(
        r#"term = "hourly", price_per_unit_hour"#,
        r#"term = "monthly", reserved_units = 1, price_per_unit_hour"#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "prices.toml", &sc);
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let mut r = csv::Reader::from_path(out.join("hourly.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (hour, dep, res, over) = (
        col("hour"),
        col("deployment"),
        col("cost_reserved_usd"),
        col("cost_reserved_overage_usd"),
    );
    let (mut total, mut overage) = (0.0, 0.0);
    for x in r.records() {
        let x = x.unwrap();
        if &x[dep] != "ptu" {
            continue;
        }
        let early = x[hour].parse::<u32>().unwrap() < 24;
        let (want, want_over) = if early { (1.5, 1.0) } else { (1.05, 0.8) };
        let (got, got_over) = (
            x[res].parse::<f64>().unwrap(),
            x[over].parse::<f64>().unwrap(),
        );
        assert!((got - want).abs() < 1e-9, "hour {}: {got}", &x[hour]);
        assert!(
            (got_over - want_over).abs() < 1e-9,
            "hour {}: {got_over}",
            &x[hour]
        );
        total += got;
        overage += got_over;
    }
    assert!((total - 61.2).abs() < 1e-9, "{total}");
    assert!((overage - 43.2).abs() < 1e-9, "{overage}");
    let s = read_json(&out.join("summary.json"));
    let reserved = s["cost"]["reserved_usd"]["mean"].as_f64().unwrap();
    assert!((reserved - 61.2).abs() < 1e-9, "{reserved}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("| of which units deployed beyond the reservation (billed at the hourly price) | $43.20 |"),
        "{report}"
    );
}

#[test]
fn an_offering_retiring_inside_the_horizon_exits_2_or_migrates() {
    // Bedrock's Claude 3.5 Haiku retires on 2026-10-17 (catalog lifecycle): a scenario from
    // 2026-10-16 over 48 h crosses it.
    let text = |migrate: &str| {
        format!(
            r#"
[scenario]
name = "retire"
horizon_hours = 48
start_date = "2026-10-16"
[[class]]
name = "c"
model = "claude-3-5-haiku"
route = ["haiku"]
arrivals = {{ process = "deterministic", mean_rps = 0.2 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
[[deployment]]
name = "haiku"
offering = "bedrock/claude-3-5-haiku/us-cris"
{migrate}
"#
        )
    };
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "retire.toml", &text(""));
    let out = tmp.path().join("out");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("retire.toml"))
        .stderr(predicate::str::contains("deployment[0].offering"))
        .stderr(predicate::str::contains("retires on 2026-10-17"))
        .stderr(predicate::str::contains("migrate_to"));
    assert!(!out.exists(), "nothing written");
    // With a successor: its prices from hour 24 ($3.30 / $16.50 per 1M on Bedrock's US
    // profile, against Haiku's $0.80 / $4).
    let sc = write(
        tmp.path(),
        "retire.toml",
        &text("migrate_to = \"bedrock/claude-sonnet-4-6/us-cris\""),
    );
    command_ok("run", &sc, &out, &[]);
    for (h, _, input, output, od, _) in hourly(&out) {
        let (pi, po) = if h < 24 { (0.80, 4.0) } else { (3.30, 16.50) };
        let want = (input * pi + output * po) / 1e6;
        assert!((od - want).abs() < 1e-4, "hour {h}: {od} vs {want}");
    }
}

/// `llmcap run` on the scenario with `changes` exits 2 naming the file, `key` and `allowed`.
fn rejects(changes: &str, key: &str, allowed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "bad.toml", &scenario(changes));
    let out = tmp.path().join("out");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains(key))
        .stderr(predicate::str::contains(allowed));
    assert!(!out.exists(), "nothing written");
}

#[test]
fn bad_price_changes_exit_2_naming_the_key() {
    let change = |date: &str, dep: &str, table: &str| {
        format!("[[price_change]]\ndate = \"{date}\"\ndeployment = \"{dep}\"\n{table}\n")
    };
    let od = "on_demand = { input_per_1m = 1.0 }";
    rejects(
        &change("2027-01-03", "od", od),
        "price_change[0].date",
        "2027-01-02 to 2027-01-02",
    );
    rejects(
        &change("2027-01-01", "od", od),
        "price_change[0].date",
        "inside the horizon after its first day",
    );
    rejects(
        &change("2027-02-30", "od", od),
        "price_change[0].date",
        "YYYY-MM-DD",
    );
    rejects(
        &change("2027-01-02", "gpu", od),
        "price_change[0].deployment",
        "defined deployments: od, ptu",
    );
    rejects(
        &change("2027-01-02", "od", "on_demand = { output_per_1m = -1.0 }"),
        "price_change[0].on_demand.output_per_1m",
        "-1",
    );
    rejects(
        &change("2027-01-02", "od", "on_demand = {}"),
        "price_change[0].on_demand",
        "sets no price",
    );
    rejects(
        &change(
            "2027-01-02",
            "od",
            "reserved = { price_per_unit_hour = { hourly = 1 } }",
        ),
        "price_change[0]",
        "is on_demand",
    );
    rejects(
        &change(
            "2027-01-02",
            "ptu",
            "reserved = { price_per_unit_hour = { yearly = 0.3 } }",
        ),
        "price_change[0].reserved.price_per_unit_hour.yearly",
        "its terms: hourly, monthly",
    );
    rejects(
        &format!(
            "{}{}",
            change("2027-01-02", "od", od),
            change("2027-01-02", "od", od)
        ),
        "price_change[1]",
        "as price_change[0] does",
    );
    rejects(
        "[[price_change]]\ndate = \"2027-01-02\"\ndeployment = \"od\"\nprice = 1\n",
        "price_change",
        "unknown field `price`",
    );
}

#[test]
fn migrate_to_needs_a_retirement_inside_the_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario("").replace(
        "name = \"od\"\nplatform = \"custom\"",
        "name = \"od\"\nmigrate_to = \"bedrock/claude-sonnet-4-6/us-cris\"\nplatform = \"custom\"",
    );
    let sc = write(tmp.path(), "bad.toml", &text);
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("deployment[0].migrate_to"))
        .stderr(predicate::str::contains("catalog offering"));
}
