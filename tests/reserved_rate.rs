//! Token-rate reservations (`[deployment.reserved_rate]`): bills derived by hand on small deterministic cases, price changes of the reservation, quotas on the overflow only, the shipped scenario.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{command_ok, read_json, write};

/// Two hours from Monday 2027-01-04 of one request a second, evenly spaced, 1,000 tokens in and
/// 100 out, on each of two deployments: `tok` (a Bedrock-style reservation of 30,000 input and
/// 6,000 output TPM over $3 / $15 list prices) and `usd` (an OpenAI Reserved-Tier-style $0.07
/// per minute over $2.50 / $10 list prices), and a third, `spare`, reserved and never used.
/// `extra` is appended; `quota` is added to `tok`'s on-demand table.
fn scenario(hours: u32, quota: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "rate"
horizon_hours = {hours}
seed = 5
start_date = "2027-01-04"

[[class]]
name = "a"
model = "m"
route = ["tok"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[class]]
name = "b"
model = "m"
route = ["usd"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[deployment]]
name = "tok"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 3.0, output_per_1m = 15.0{quota} }}
reserved_rate = {{ input_tpm = 30000, output_tpm = 6000, term = "1-month", input_per_1k_tpm_hour = {{ "1-month" = 0.05, "3-month" = 0.04 }}, output_per_1k_tpm_hour = {{ "1-month" = 0.2, "3-month" = 0.18 }}, term_hours = {{ "3-month" = 2190 }} }}

[[deployment]]
name = "usd"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}
reserved_rate = {{ usd_per_minute = 0.07, term = "monthly", price_per_reserved_usd = {{ monthly = 0.8 }} }}

[[deployment]]
name = "spare"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 3.0, output_per_1m = 15.0 }}
reserved_rate = {{ input_tpm = 10000, output_tpm = 1000, term = "1-month", input_per_1k_tpm_hour = {{ "1-month" = 0.05 }}, output_per_1k_tpm_hour = {{ "1-month" = 0.2 }} }}
{extra}
"#
    )
}

/// hourly.csv as (hour, deployment) -> column -> value (empty cells left out).
fn hourly(out: &Path) -> BTreeMap<(u32, String), BTreeMap<String, f64>> {
    let mut r = csv::Reader::from_path(out.join("hourly.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let mut rows = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let mut cols = BTreeMap::new();
        for (name, v) in h.iter().zip(rec.iter()) {
            if let Ok(x) = v.parse::<f64>() {
                cols.insert(name.to_string(), x);
            }
        }
        rows.insert((cols["hour"] as u32, rec[4].to_string()), cols);
    }
    rows
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-6 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

fn deployment<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap()
}

#[test]
fn a_token_reservation_covers_its_minute_and_overflows_at_list_price() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "rate.toml", &scenario(2, "", ""));
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let rows = hourly(&out);
    // By hand, a full minute (hour 1): 60 requests of 1,000 in / 100 out. The input reservation
    // (30,000 TPM) covers 30 of them (30 x 1,000 = 30,000; their 3,000 output tokens fit in
    // 6,000); the other 30 overflow at list price, 30 x (1,000 x $3 + 100 x $15) / 1M =
    // 30 x $0.0045 = $0.135 a minute, $8.10 an hour. The commitment: 30 x $0.05 + 6 x $0.20 =
    // $1.50 + $1.20 = $2.70 an hour. Input used 30,000 of 30,000 a minute (100%), output 3,000
    // of 6,000 (50%): half the output reservation is unused and still paid.
    let tok = &rows[&(1, "tok".to_string())];
    close("overflow $", tok["cost_on_demand_usd"], 8.10);
    close("commitment $", tok["cost_reserved_usd"], 2.70);
    close("rate commitment $", tok["cost_reserved_rate_usd"], 2.70);
    close("total $", tok["cost_total_usd"], 10.80);
    close("covered", tok["reserved_rate_covered_requests"], 1800.0);
    close("requests", tok["requests"], 3600.0);
    close("input used", tok["reserved_rate_utilization_input"], 1.0);
    close("output used", tok["reserved_rate_utilization_output"], 0.5);
    assert!(!tok.contains_key("reserved_rate_utilization_spend"));
    // Unused all run: 10 x $0.05 + 1 x $0.20 = $0.70 every hour, 0% used.
    for h in 0..2 {
        let spare = &rows[&(h, "spare".to_string())];
        close("spare commitment $", spare["cost_reserved_usd"], 0.70);
        close("spare overflow $", spare["cost_on_demand_usd"], 0.0);
        close(
            "spare input used",
            spare["reserved_rate_utilization_input"],
            0.0,
        );
    }
    // The run: every minute has at least 30 requests (hour 0's first may have one fewer), so
    // 2 h x 60 x 30 = 3,600 are covered; every other one overflows at $0.0045.
    let s = read_json(&out.join("summary.json"));
    let r = &deployment(&s, "tok")["reserved_rate"];
    assert_eq!(r["measure"], "tokens");
    assert_eq!(r["term"], "1-month");
    close("covered", r["covered_requests"].as_f64().unwrap(), 3600.0);
    let served = deployment(&s, "tok")["served"].as_f64().unwrap();
    let overflow = r["overflow_requests"].as_f64().unwrap();
    close("served = covered + overflow", served, 3600.0 + overflow);
    close(
        "overflow $",
        r["overflow_usd"].as_f64().unwrap(),
        overflow * 0.0045,
    );
    close("commitment $", r["commitment_usd"].as_f64().unwrap(), 5.40);
    close(
        "cost = commitment + overflow",
        deployment(&s, "tok")["cost_usd"]["mean"].as_f64().unwrap(),
        5.40 + overflow * 0.0045,
    );
    close("input used", r["utilization_input"].as_f64().unwrap(), 1.0);
    close(
        "output used",
        r["utilization_output"].as_f64().unwrap(),
        0.5,
    );
    close(
        "covered input tokens",
        r["covered_input_tokens"].as_f64().unwrap(),
        3.6e6,
    );
    let spare = &deployment(&s, "spare")["reserved_rate"];
    close(
        "spare paid",
        spare["commitment_usd"].as_f64().unwrap(),
        1.40,
    );
    close(
        "spare used",
        spare["utilization_input"].as_f64().unwrap(),
        0.0,
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("`tok`: token-rate reservation (`1-month` term): commitment $5.40"),
        "{report}"
    );
}

#[test]
fn a_spend_reservation_covers_list_price_usage_per_minute() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "rate.toml", &scenario(2, "", ""));
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    // By hand: a request costs 1,000 x $2.50 / 1M + 100 x $10 / 1M = $0.0035 at list price, so
    // $0.07 a minute covers 20 of a full minute's 60; the other 40 overflow: 40 x 60 x $0.0035
    // = $8.40 an hour. The commitment: $0.07 x 60 minutes x 0.8 (USD billed per reserved USD)
    // = $3.36 an hour. Used: 20 x $0.0035 = $0.07 of $0.07 a minute (100%).
    let rows = hourly(&out);
    let usd = &rows[&(1, "usd".to_string())];
    close("overflow $", usd["cost_on_demand_usd"], 8.40);
    close("commitment $", usd["cost_reserved_usd"], 3.36);
    close("covered", usd["reserved_rate_covered_requests"], 1200.0);
    close("spend used", usd["reserved_rate_utilization_spend"], 1.0);
    assert!(!usd.contains_key("reserved_rate_utilization_input"));
    let s = read_json(&out.join("summary.json"));
    let r = &deployment(&s, "usd")["reserved_rate"];
    assert_eq!(r["measure"], "spend");
    close("covered", r["covered_requests"].as_f64().unwrap(), 2400.0);
    close("commitment $", r["commitment_usd"].as_f64().unwrap(), 6.72);
    let overflow = r["overflow_requests"].as_f64().unwrap();
    close(
        "overflow $",
        r["overflow_usd"].as_f64().unwrap(),
        overflow * 0.0035,
    );
    close("spend used", r["utilization_spend"].as_f64().unwrap(), 1.0);
    // focus.csv bills the same: the hour's fee as a Purchase, the overflow tokens at list
    // price, and every dollar of effective cost amortised (used or unused).
    let mut f = csv::Reader::from_path(out.join("focus.csv")).unwrap();
    let h = f.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (billed, effective, meter, status, res) = (
        col("BilledCost"),
        col("EffectiveCost"),
        col("SkuMeter"),
        col("CommitmentDiscountStatus"),
        col("ResourceName"),
    );
    let (mut b, mut e, mut spare_unused) = (0.0, 0.0, 0.0);
    for rec in f.records() {
        let rec = rec.unwrap();
        b += rec[billed].parse::<f64>().unwrap();
        e += rec[effective].parse::<f64>().unwrap();
        if &rec[res] == "spare" && &rec[status] == "Unused" {
            assert!(rec[meter].starts_with("Reserved"), "{:?}", rec);
            spare_unused += rec[effective].parse::<f64>().unwrap();
        }
    }
    let total = s["cost"]["total_usd"]["mean"].as_f64().unwrap();
    assert!((b - total).abs() < 1e-3, "billed {b} vs {total}");
    assert!((e - total).abs() < 1e-3, "effective {e} vs {total}");
    close("spare unused, effective", spare_unused, 1.40);
}

#[test]
fn a_price_change_of_the_reservation_bills_from_its_date() {
    let tmp = tempfile::tempdir().unwrap();
    let change = r#"
[[price_change]]
date = "2027-01-05"
deployment = "tok"
reserved_rate = { input_per_1k_tpm_hour = { "1-month" = 0.025 } }
on_demand = { input_per_1m = 1.5 }
"#;
    let sc = write(tmp.path(), "rate.toml", &scenario(48, "", change));
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    // From 2027-01-05 (hour 24): 30 x $0.025 + 6 x $0.20 = $1.95 an hour (was $2.70), and the
    // overflow at $1.50 / $15 per 1M: 1,800 x (1,000 x 1.5 + 100 x 15) / 1M = $5.40 (was $8.10).
    let rows = hourly(&out);
    close(
        "hour 23",
        rows[&(23, "tok".to_string())]["cost_reserved_usd"],
        2.70,
    );
    close(
        "hour 24",
        rows[&(24, "tok".to_string())]["cost_reserved_usd"],
        1.95,
    );
    close(
        "hour 23 overflow",
        rows[&(23, "tok".to_string())]["cost_on_demand_usd"],
        8.10,
    );
    close(
        "hour 24 overflow",
        rows[&(24, "tok".to_string())]["cost_on_demand_usd"],
        5.40,
    );
    let s = read_json(&out.join("summary.json"));
    let r = &deployment(&s, "tok")["reserved_rate"];
    close(
        "commitment $",
        r["commitment_usd"].as_f64().unwrap(),
        24.0 * 2.70 + 24.0 * 1.95,
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("token-rate reservation $1.95/hour"),
        "{report}"
    );
}

#[test]
fn quotas_hold_back_the_overflow_only() {
    let tmp = tempfile::tempdir().unwrap();
    // 20 requests a minute of on-demand quota under 30 a minute of overflow.
    let sc = write(tmp.path(), "rate.toml", &scenario(2, ", rpm = 20", ""));
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let rows = hourly(&out);
    let tok = &rows[&(1, "tok".to_string())];
    // The reservation still covers 30 a minute (it adds to the rate limits); of the rest, the
    // rpm bucket (20 a minute, refilled continuously) admits at most 20 a minute plus its
    // 20-request burst, and answers the others 429 (retried, then throttled).
    close("covered", tok["reserved_rate_covered_requests"], 1800.0);
    let overflow = tok["requests"] - tok["reserved_rate_covered_requests"];
    assert!(overflow <= 20.0 * 60.0 + 20.0, "overflow {overflow}");
    assert!(tok["rejected_429"] > 0.0);
}

#[test]
fn the_shipped_scenario_bills_commitment_plus_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reserved_rate.toml");
    let out = tmp.path().join("out");
    command_ok("run", &path, &out, &["--horizon-hours", "6"]);
    let s = read_json(&out.join("summary.json"));
    for name in ["sonnet", "gpt4o", "agents"] {
        let d = deployment(&s, name);
        let r = &d["reserved_rate"];
        let cost = d["cost_usd"]["mean"].as_f64().unwrap();
        let parts = r["commitment_usd"].as_f64().unwrap() + r["overflow_usd"].as_f64().unwrap();
        assert!(
            (cost - parts).abs() < 1e-6 * cost,
            "{name}: {cost} vs {parts}"
        );
        assert!(r["covered_requests"].as_f64().unwrap() > 0.0, "{name}");
    }
    // The Bedrock Reserved tier from the catalog: 150 x $144.54 / 730 + 30 x $722.70 / 730 =
    // $29.70 + $29.70 = $59.40 an hour; OpenAI's Scale Tier: 2 input units at $124.59 a day and
    // 2 output units at $39.34 a day = (249.18 + 78.68) / 24 = $13.66 an hour.
    let sonnet = &deployment(&s, "sonnet")["reserved_rate"];
    close(
        "bedrock",
        sonnet["commitment_usd"].as_f64().unwrap(),
        6.0 * 59.40,
    );
    let gpt = &deployment(&s, "gpt4o")["reserved_rate"];
    close(
        "openai scale tier",
        gpt["commitment_usd"].as_f64().unwrap(),
        6.0 * (249.18 + 78.68) / 24.0,
    );
}

#[test]
fn run_shards_merge_to_the_one_process_bill() {
    // The covered counts travel in the shard files: three shards of a run merge to the same
    // hourly.csv and focus.csv as one process.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "rate.toml", &scenario(2, "", ""));
    let flags = ["--replications", "3", "--quiet"];
    let go = |args: &[&str]| {
        crate::common::llmcap()
            .current_dir(dir)
            .args(args)
            .args(flags)
            .assert()
            .success();
    };
    go(&["run", "rate.toml", "--out", "one"]);
    for i in 0..3 {
        go(&[
            "run",
            "rate.toml",
            "--shard",
            &format!("{i}/3"),
            "--out",
            &format!("r/{i}"),
        ]);
    }
    crate::common::llmcap()
        .current_dir(dir)
        .args(["merge", "r", "--out", "merged", "--quiet"])
        .assert()
        .success();
    for f in ["hourly.csv", "focus.csv", "cost_by_tag.csv"] {
        assert_eq!(
            std::fs::read(dir.join("one").join(f)).unwrap(),
            std::fs::read(dir.join("merged").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_sweep_of_the_reserved_rate_sizes_it() {
    // sweep bills a token-rate reservation in every point as run does, so sweeping input_tpm
    // compares reservation sizes (no reserved units here, so no break-even analysis).
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "rate.toml", &scenario(2, "", ""));
    let out = tmp.path().join("out");
    command_ok(
        "sweep",
        &sc,
        &out,
        &[
            "--key",
            "deployment.tok.reserved_rate.input_tpm",
            "--values",
            "30000,60000",
        ],
    );
    let mut r = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (total, od) = (col("total_usd"), col("on_demand_usd"));
    let rows: Vec<(f64, f64)> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            (x[total].parse().unwrap(), x[od].parse().unwrap())
        })
        .collect();
    // The other deployments cost the same in both points: `usd` $3.36 an hour plus its overflow
    // (the same requests), `spare` $0.70 an hour. At 60,000 input TPM every minute's 60 requests
    // fit (60 x 1,000 input, 60 x 100 = 6,000 output), so `tok` costs its commitment alone:
    // 2 h x (60 x $0.05 + 6 x $0.20) = $8.40. At 30,000 it costs 2 h x $2.70 = $5.40 plus 30 of
    // each minute's requests at $0.0045 (one fewer, at most, in the first minute): $16.20.
    // sweep.csv rounds dollars to cents: within one request ($0.0045) and two roundings.
    let (small, big) = (rows[0], rows[1]);
    let tok_small = small.0 - big.0 + 8.40;
    assert!((small.1 - big.1 - 16.20).abs() < 0.0146, "{rows:?}");
    assert!((tok_small - (5.40 + 16.20)).abs() < 0.0146, "{rows:?}");
}

#[test]
fn failover_onto_a_reservation_prices_only_the_rescued_overflow() {
    // Class a tries `primary` first; a full outage takes it out for hour 1 of 2, so hour 1's
    // 3,600 requests fail over to `tok` (rescued). Its reservation covers 30 of each minute's 60
    // (as above), so 1,800 rescued requests cost nothing more and 1,800 overflow at $0.0045:
    // $8.10 (at list price all 3,600 would be $16.20).
    let extra = r#"
[[deployment]]
name = "primary"
platform = "custom"
model = "m"
latency = { median_ms = 200, p99_ms = 200 }
on_demand = { input_per_1m = 1.0, output_per_1m = 1.0 }

[[outage]]
name = "primary down"
deployments = ["primary"]
start_hour = 1
duration_hours = 1
"#;
    let text =
        scenario(2, "", extra).replace("route = [\"tok\"]", "route = [\"primary\", \"tok\"]");
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "failover.toml", &text);
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let s = read_json(&out.join("summary.json"));
    let r = &s["resilience"];
    close("rescued", r["rescued"].as_f64().unwrap(), 3600.0);
    close("rescued $", r["rescued_cost_usd"].as_f64().unwrap(), 8.10);
    close(
        "tok covered",
        deployment(&s, "tok")["reserved_rate"]["covered_requests"]
            .as_f64()
            .unwrap(),
        1800.0,
    );
}
