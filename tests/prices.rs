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
    let sc = split_with_changes();
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

/// The prices scenario with `ptu` on the monthly term, 1 of its 2 units reserved (the other
/// billed hourly), and from 2027-01-02 (hour 24) the on-demand prices halved and `ptu`'s
/// monthly $0.50 -> $0.25, hourly $1 -> $0.80.
fn split_with_changes() -> String {
    scenario(
        r#"
[[price_change]]
date = "2027-01-02"
deployment = "od"
on_demand = { input_per_1m = 1.0, output_per_1m = 5.0 }

[[price_change]]
date = "2027-01-02"
deployment = "ptu"
reserved = { price_per_unit_hour = { hourly = 0.8, monthly = 0.25 } }
"#,
    )
    .replace(
        r#"term = "hourly", price_per_unit_hour"#,
        r#"term = "monthly", reserved_units = 1, price_per_unit_hour"#,
    )
}

/// `run`'s whole bill (mean over replications) of the scenario at `path`.
fn run_bill(path: &Path, out: &Path) -> f64 {
    command_ok("run", path, out, &[]);
    let s = read_json(&out.join("summary.json"));
    let mean = |k: &str| s["cost"][k]["mean"].as_f64().unwrap();
    mean("on_demand_usd") + mean("reserved_usd")
}

#[test]
fn plan_prices_each_configuration_as_run_bills_it() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "prices.toml", &split_with_changes());
    let bill = run_bill(&sc, &tmp.path().join("run"));
    let out = tmp.path().join("plan");
    command_ok(
        "plan",
        &sc,
        &out,
        &[
            "--sla",
            "p99<=10s",
            "--deployment",
            "ptu",
            "--max-units",
            "2",
        ],
    );
    let j = read_json(&out.join("plan.json"));
    let two = j["evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["units"] == 2)
        .unwrap();
    let monthly = |t: &str| two["monthly_usd"][t]["mean"].as_f64().unwrap();
    // The scenario as written (2 units, 1 reserved monthly) is what run billed, per 730 h.
    let want = bill / 48.0 * 730.0;
    assert!(
        (monthly("monthly") - want).abs() < 1e-6 * want,
        "{} vs {want}",
        monthly("monthly")
    );
    // By hand, the reserved pool alone: on the monthly term 24 x ($0.50 + $1) + 24 x ($0.25 +
    // $0.80) = $61.20; on the hourly term 24 x 2 x $1 + 24 x 2 x $0.80 = $86.40. Traffic is the
    // same under both terms, so the difference is ($61.20 - $86.40) / 48 x 730 = -$383.25 a
    // month (at the starting prices it would be ($72 - $96) / 48 x 730 = -$365).
    let diff = monthly("monthly") - monthly("hourly");
    assert!((diff + 383.25).abs() < 1e-6, "{diff}");
    let md = std::fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(
        md.contains("Prices change on 2027-01-02 (`od`, `price_change[0]`), 2027-01-02 (`ptu`, `price_change[1]`): every cost below is the bill"),
        "{md}"
    );
    // The reserved pool's own line (the cost chart's, and what the ladder takes out of the
    // bill to leave its on-demand column): $61.20 and $86.40 over 48 h, per 730 h.
    let sc = crate::common::scenario(&split_with_changes());
    let target = llmcap::analysis::plan::SlaTarget {
        percentile: 99.0,
        ttft_ms: 10_000.0,
    };
    let spec = llmcap::analysis::plan::spec(
        &sc,
        Path::new("prices.toml"),
        Some(target),
        Some("ptu"),
        None,
        Some(2),
    )
    .unwrap();
    let r = llmcap::analysis::plan::plan(&sc, &spec, 1, None);
    let e = r.evaluated.iter().find(|e| e.units == 2).unwrap();
    assert!((e.reserved_monthly_usd["monthly"] - 61.2 / 48.0 * 730.0).abs() < 1e-9);
    assert!((e.reserved_monthly_usd["hourly"] - 86.4 / 48.0 * 730.0).abs() < 1e-9);
    // Without it, the simulated on-demand bill: the run's, per 730 h, on either term.
    let s = read_json(&tmp.path().join("run/summary.json"));
    let on_demand = s["cost"]["on_demand_usd"]["mean"].as_f64().unwrap() / 48.0 * 730.0;
    for t in ["monthly", "hourly"] {
        let spill = e.monthly_usd[t].mean - e.reserved_monthly_usd[t];
        assert!(
            (spill - on_demand).abs() < 1e-6 * on_demand,
            "{t}: {spill} vs {on_demand}"
        );
    }
}

#[test]
fn frontier_prices_each_term_as_run_bills_it() {
    // Reserved only, 2 units with 1 reserved; from 2027-01-02 (hour 24) monthly $6 -> $3 and
    // hourly $10 -> $8. By hand over 48 h: on the monthly term 24 x ($6 + $10) + 24 x ($3 + $8)
    // = $648, $9,855 per 730 h; on the hourly term 24 x 2 x $10 + 24 x 2 x $8 = $864, $13,140
    // (at the starting prices: $11,680 and $14,600).
    let text = crate::frontier::GRID
        .replace(
            "horizon_hours = 4",
            "horizon_hours = 48\nstart_date = \"2027-01-01\"",
        )
        .replace("units = 1, tpm", "units = 2, reserved_units = 1, tpm")
        .replace("units = { ptu = [1, 2] }", "units = { ptu = [2] }")
        .replace("routes = [[\"ptu\"], [\"paygo\"]]", "routes = [[\"ptu\"]]")
        + r#"
[[price_change]]
date = "2027-01-02"
deployment = "ptu"
reserved = { price_per_unit_hour = { hourly = 8.0, monthly = 3.0 } }
"#;
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "grid.toml", &text);
    // The scenario as written: the route continues to paygo, but ptu never fills.
    let bill = run_bill(&sc, &tmp.path().join("run"));
    assert!((bill - 648.0).abs() < 1e-9, "{bill}");
    let out = tmp.path().join("frontier");
    command_ok("frontier", &sc, &out, &[]);
    let mut r = csv::Reader::from_path(out.join("frontier.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (terms, usd) = (col("terms"), col("monthly_usd"));
    let rows: Vec<(String, f64)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[terms].to_string(), x[usd].parse().unwrap())
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ptu=hourly".to_string(), 13_140.0),
            ("ptu=monthly".to_string(), 9_855.0)
        ]
    );
}

#[test]
fn the_closed_form_break_even_uses_the_horizons_average_prices() {
    // tests/sweep.rs's flat traffic over 48 h from 2027-01-01, 20 of the units swept reserved
    // 10 of them on the monthly term; from 2027-01-02 (hour 24) on-demand prices halve and the
    // monthly price goes $6 -> $3 (hourly stays $12).
    let text = crate::sweep::FLAT
        .replace(
            "horizon_hours = 2",
            "horizon_hours = 48\nstart_date = \"2027-01-01\"",
        )
        .replace("replications = 4", "replications = 1")
        .replace("mean_rps = 10.0", "mean_rps = 1.0")
        .replace("units = 10, tpm", "units = 20, reserved_units = 10, tpm")
        .replace(
            "key = \"deployment.ptu.reserved.units\"\nfrom = 10\nto = 50\nstep = 2",
            "key = \"deployment.ptu.reserved.units\"\nvalues = [20, 30]",
        )
        + r#"
[[price_change]]
date = "2027-01-02"
deployment = "paygo"
on_demand = { input_per_1m = 1.25, output_per_1m = 5.0 }
[[price_change]]
date = "2027-01-02"
deployment = "ptu"
reserved = { price_per_unit_hour = { monthly = 3.0 } }
"#;
    assert!(text.contains("values = [20, 30]") && text.contains("reserved_units = 10"));
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "flat.toml", &text);
    let out = tmp.path().join("out");
    command_ok("sweep", &sc, &out, &[]);
    let j = read_json(&out.join("sweep.json"));
    let mean = crate::sweep::lognormal_mean;
    let (e_in, e_out) = (mean(800.0, 2400.0), mean(200.0, 500.0));
    // On demand: $2.50 / $10 for 24 h, $1.25 / $5 for 24 h, on average $1.875 / $7.50.
    let per_weighted = (e_in * 1.875 + e_out * 7.5) / 1e6 / (e_in + 3.0 * e_out);
    // Reserved, 20 units, 10 reserved: on the monthly term 24 h x (10 x $6 + 10 x $12) + 24 h
    // x (10 x $3 + 10 x $12) = $7,920 over 20 units x 48 h = $8.25 per unit-hour; hourly all
    // 20 units at $12; yearly 10 x $4.50 + 10 x $12 = $165 an hour, $8.25 per unit-hour.
    let by_hand = |price: f64| price / (per_weighted * 60_000.0 * 60.0);
    for b in j["breakeven"].as_array().unwrap() {
        let term = b["term"].as_str().unwrap();
        let price = match term {
            "hourly" => 12.0,
            "monthly" | "yearly" => 8.25,
            other => panic!("{other}"),
        };
        let closed = b["closed_form"].as_f64().unwrap();
        assert!(
            (closed - by_hand(price)).abs() < 1e-6 * by_hand(price),
            "{term}: {closed} vs {} by hand",
            by_hand(price)
        );
    }
    // At the starting prices the monthly term would break even at $6 / ($2.50, $10) prices.
    let start = 6.0 / ((e_in * 2.5 + e_out * 10.0) / 1e6 / (e_in + 3.0 * e_out) * 3.6e6);
    assert!((by_hand(8.25) - start).abs() > 0.1, "{start}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Prices change on 2027-01-02 (`ptu`, `price_change[1]`), 2027-01-02 (`paygo`, `price_change[0]`): each point's cost"), "{md}");
}

/// 48 hours from 2027-01-01: class `api` (1 request a second, evenly spaced, 1,000 tokens in
/// and 100 out) on route `a` then `b`, both on demand; `routing`, `outage` and `changes` are
/// spliced in.
fn two_routes(routing: &str, outage: &str, changes: &str) -> String {
    format!(
        r#"
[scenario]
name = "two-routes"
horizon_hours = 48
seed = 3
start_date = "2027-01-01"

[client]
max_attempts = 1

[[class]]
name = "api"
model = "m"
route = ["a", "b"]
{routing}
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 2.0, output_per_1m = 10.0 }}

[[deployment]]
name = "b"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 3.0, output_per_1m = 12.0 }}
{outage}
{changes}
"#
    )
}

const B_CUT_AT_24: &str = r#"
[[price_change]]
date = "2027-01-02"
deployment = "b"
on_demand = { input_per_1m = 1.0, output_per_1m = 5.0 }
"#;

/// The on-demand $ of each deployment in hours before 24 and from 24 on.
fn halves(out: &Path, dep: &str) -> (f64, f64) {
    let rows = hourly(out);
    let sum = |late: bool| {
        rows.iter()
            .filter(|r| r.1 == dep && (r.0 >= 24) == late)
            .map(|r| r.4)
            .sum::<f64>()
    };
    (sum(false), sum(true))
}

#[test]
fn a_cheapest_route_reorders_when_prices_change() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(
        tmp.path(),
        "cheapest.toml",
        &two_routes("routing = \"cheapest\"", "", B_CUT_AT_24),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    // By hand: a request costs (1,000 x $2 + 100 x $10) / 1M = $0.003 on `a` and $0.0042 on
    // `b` until 2027-01-02 (hour 24), then $0.0015 on `b`. Nothing throttles, so every request
    // goes to the first of the route: `a` for hours 0-23 (3,600 x $0.003 = $10.80 an hour),
    // `b` from hour 24 ($5.40 an hour). In all 24 x $10.80 + 24 x $5.40 = $388.80; the order
    // of hour 0 kept all day 2 on `a` would bill 48 x $10.80 = $518.40.
    let (a0, a1) = halves(&out, "a");
    let (b0, b1) = halves(&out, "b");
    assert!((a0 - 259.20).abs() < 0.01, "{a0}");
    assert_eq!((a1, b0), (0.0, 0.0));
    assert!((b1 - 129.60).abs() < 0.01, "{b1}");
    let s = read_json(&out.join("summary.json"));
    let od = s["cost"]["on_demand_usd"]["mean"].as_f64().unwrap();
    assert!((od - 388.80).abs() < 0.01, "{od}");
    assert!((od - 518.40).abs() > 100.0);
}

#[test]
fn failovers_rescued_cost_is_valued_at_the_prices_of_its_hour() {
    let tmp = tempfile::tempdir().unwrap();
    let outage = r#"
[[outage]]
deployments = ["a"]
start_hour = 0
duration_hours = 48
"#;
    let sc = write(
        tmp.path(),
        "failover.toml",
        &two_routes("", outage, B_CUT_AT_24),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    // By hand: `a` is down all 48 hours, so every request errs there and is served by `b`,
    // rescued: 24 x 3,600 at $0.0042 = $362.88 before 2027-01-02, 24 x 3,600 at $0.0015 =
    // $129.60 from then, $492.48 in all (within a request at each end). At the prices of
    // hour 0 it would be 48 x 3,600 x $0.0042 = $725.76.
    let s = read_json(&out.join("summary.json"));
    let rescued = s["resilience"]["rescued_cost_usd"].as_f64().unwrap();
    assert!((rescued - 492.48).abs() < 0.01, "{rescued}");
    let (b0, b1) = halves(&out, "b");
    assert!(
        (rescued - (b0 + b1)).abs() < 0.01,
        "{rescued} vs {b0} + {b1}"
    );
}
