//! The real binary: exit codes, error messages, output files, determinism.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn llmcap() -> Command {
    Command::cargo_bin("llmcap").expect("the llmcap binary is built")
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

const SMALL: &str = r#"
[scenario]
name = "small"
horizon_hours = 3
seed = 11
replications = 3

[[class]]
name = "chat"
model = "gpt-4o"
route = ["ptu", "paygo"]
sla = { ttft_ms = 1500, percentile = 99 }
arrivals = { mean_rps = 3.0, peak_hour = 1, peak_to_trough = 2.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }

[[deployment]]
name = "ptu"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 300, p99_ms = 800, prefill_ms_per_1k_input = 100 }
reserved = { units = 15, tpm_per_unit = 2500, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562 } }

[[deployment]]
name = "paygo"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 600, tpm = 400000, shared_pool_tpm = 5000000, background_utilization = 0.5 }
"#;

/// `llmcap run SCENARIO --out OUT --quiet EXTRA...` must succeed.
fn run_ok(scenario: &Path, out: &Path, extra: &[&str]) {
    crate::common::command_ok("run", scenario, out, extra);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn run_writes_every_output_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "small.toml", SMALL);
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &[]);
    for f in llmcap::report::RUN_FILES {
        let p = out.join(f);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{f} missing or empty"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["manifest"]["seed"], 11);
    assert_eq!(summary["manifest"]["replications"], 3);
    assert_eq!(
        summary["manifest"]["scenario_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let r = &summary["requests"];
    let total = ["served", "throttled", "failed", "in_flight"]
        .iter()
        .map(|k| r[k].as_f64().unwrap())
        .sum::<f64>();
    assert!(
        (total - r["arrived"].as_f64().unwrap()).abs() < 1e-6,
        "conservation in summary.json"
    );
    let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
    assert_eq!(
        hourly.lines().count(),
        1 + 3 * 2,
        "one row per hour and deployment"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("![TTFT CDF](ttft_cdf.png)"));
    // No staging folder left beside the results.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn one_thread_and_four_threads_give_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "small.toml", SMALL);
    let mut dirs = Vec::new();
    for threads in ["1", "4"] {
        let out = tmp.path().join(format!("t{threads}"));
        run_ok(&sc, &out, &["--threads", threads, "--replications", "5"]);
        dirs.push(out);
    }
    for f in llmcap::report::RUN_FILES {
        let a = std::fs::read(dirs[0].join(f)).unwrap();
        let b = std::fs::read(dirs[1].join(f)).unwrap();
        if *f == "summary.json" {
            // The manifest records the thread count; everything else must match.
            let strip = |bytes: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                assert!(v["manifest"]["threads"].is_u64());
                v["manifest"].as_object_mut().unwrap().remove("threads");
                v
            };
            assert_eq!(strip(&a), strip(&b), "{f}");
        } else {
            assert!(a == b, "{f} differs between 1 and 4 threads");
        }
    }
}

/// Every scenario file shipped in scenarios/, with the flags it needs (see
/// [`crate::common::shipped_scenario`]).
fn shipped_scenarios(test: &str) -> Vec<crate::common::Shipped> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "the shipped scenarios are missing");
    v.iter()
        .filter_map(|p| crate::common::shipped_scenario(p, test))
        .collect()
}

/// Terminal lines fit 100 columns (paths aside: they are never split) and counts carry
/// thousands separators: no run of five digits or more outside a path, date or seed.
fn assert_fits_terminal(text: &str) {
    for l in text.lines() {
        let words_fit = l
            .split(' ')
            .filter(|w| !w.contains('/'))
            .all(|w| w.chars().count() <= 100);
        assert!(
            l.chars().count() <= 100 || !words_fit,
            "over 100 columns: {l:?}"
        );
        for w in l.split([' ', '(', ')', ',']) {
            let digits = w
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '~')
                .count();
            let after_seed = l.contains(&format!("seed {w}"));
            assert!(
                digits < 5 || w.contains('/') || w.contains('-') || after_seed,
                "a number without separators: {w:?} in {l:?}"
            );
        }
    }
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    for s in shipped_scenarios("validate_accepts_every_shipped_scenario") {
        let out = llmcap()
            .args(["validate", s.path.to_str().unwrap()])
            .args(&s.args)
            .assert()
            .success()
            .stdout(predicate::str::contains("valid scenario"))
            .get_output()
            .clone();
        assert_fits_terminal(&String::from_utf8_lossy(&out.stdout));
        assert_fits_terminal(&String::from_utf8_lossy(&out.stderr));
    }
    let baseline = llmcap()
        .args(["validate", "scenarios/baseline.toml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let baseline = String::from_utf8(baseline).unwrap();
    // 2 req/s x 168 h x 3,600 s = 1,209,600 requests per replication; 4 replications.
    assert!(
        baseline.contains("~1,209,600 requests per replication"),
        "{baseline}"
    );
    assert!(
        baseline.contains("~4,838,400 requests to simulate"),
        "{baseline}"
    );
}

#[test]
fn the_weekday_warning_speaks_of_the_weekly_pattern_alone() {
    // 720 h is 4 weeks and 2 days: two weekdays count once more than the
    // weekend, so the month runs above mean_rps.
    llmcap()
        .args(["validate", "scenarios/bench_30d.toml"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "class[0].arrivals.weekday: the factors average to 1 over whole",
        ));
    // A year of 6% monthly growth runs at 0.71 req/s on average against
    // mean_rps = 0.5; that is the growth, which validate states, not the
    // weekday pattern (52 weeks and a day move the mean by under 0.5%).
    let out = llmcap()
        .args(["validate", "scenarios/growth_year.toml"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout).replace("\n    ", " ");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("weekday"), "{stderr}");
    assert!(
        stdout.contains("0.5 req/s mean at the start, +6% a month, compounding"),
        "{stdout}"
    );
}

#[test]
fn run_and_plan_headlines_fit_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = llmcap()
        .args([
            "run",
            "scenarios/baseline.toml",
            "--horizon-hours",
            "2",
            "--replications",
            "1",
        ])
        .args(["--out", tmp.path().join("run").to_str().unwrap()])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_fits_terminal(&stderr);
    assert!(stderr.contains("requests/replication"), "{stderr}");
    let out = llmcap()
        .args([
            "plan",
            "scenarios/baseline.toml",
            "--sla",
            "p99<=2s",
            "--horizon-hours",
            "2",
        ])
        .args([
            "--replications",
            "1",
            "--out",
            tmp.path().join("plan").to_str().unwrap(),
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_fits_terminal(&stderr);
    assert!(stderr.contains("plan:"), "{stderr}");
}

#[test]
fn every_shipped_scenario_runs_a_short_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    for s in shipped_scenarios("every_shipped_scenario_runs_a_short_horizon") {
        let p = &s.path;
        let out = tmp.path().join(p.file_stem().unwrap());
        let mut extra = vec!["--horizon-hours", "2", "--replications", "2"];
        extra.extend(s.args.iter().map(String::as_str));
        run_ok(p, &out, &extra);
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(
            !report.contains("Overloaded"),
            "{}: a shipped pool is overloaded",
            p.display()
        );
    }
}

/// Runs `llmcap run` on a scenario that differs from SMALL by `edit`, and checks
/// the exit code, that stderr names the file, the key path and the rule, and
/// that no results folder is left.
fn rejects(edit: impl Fn(&str) -> String, key: &str, allowed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "bad.toml", &edit(SMALL));
    let out = tmp.path().join("results");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains(key))
        .stderr(predicate::str::contains(allowed));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("bad.toml")],
        "nothing but the scenario may remain"
    );
}

#[test]
fn malformed_toml_is_rejected_with_line() {
    rejects(
        |s| s.replace("horizon_hours = 3", "horizon_hours = = 3"),
        "bad.toml:4:17:",
        "invalid string",
    );
}

#[test]
fn unknown_key_is_rejected() {
    rejects(
        |s| s.replace("seed = 11", "seed = 11\nhorizn = 4"),
        "scenario",
        "unknown field `horizn`",
    );
}

#[test]
fn quota_shapes_and_max_tokens_are_rejected_with_key_and_allowed() {
    let od = "rpm = 600, tpm = 400000, shared_pool_tpm";
    let quota = |keys: &'static str| {
        move |s: &str| s.replace(od, &format!("rpm = 600, {keys}, shared_pool_tpm"))
    };
    rejects(
        quota(r#"quota = "minute""#),
        "deployment[1].on_demand.quota",
        "allowed: bucket, azure, anthropic, bedrock, vertex",
    );
    rejects(
        quota(r#"quota = "azure", rpm_window_s = 9"#),
        "deployment[1].on_demand.rpm_window_s",
        "dividing a minute",
    );
    rejects(
        quota(r#"quota = "anthropic", itpm = 200000, tpm = 400000"#),
        "deployment[1].on_demand.tpm",
        "give itpm and otpm instead",
    );
    rejects(
        quota(r#"quota = "bedrock", output_burndown = 500"#),
        "deployment[1].on_demand.output_burndown",
        "a number from 1 to 100",
    );
    rejects(
        quota(r#"tpm = 400000, itpm = 200000"#),
        "deployment[1].on_demand.itpm",
        "applies to quota = \"anthropic\" only",
    );
    rejects(
        |s| {
            s.replace(
                "[[deployment]]\nname = \"ptu\"",
                "max_tokens = -1\n\n[[deployment]]\nname = \"ptu\"",
            )
        },
        "class[0].max_tokens",
        "whole number >= 1",
    );
}

#[test]
fn bad_start_dates_are_rejected() {
    rejects(
        |s| s.replace("seed = 11", "seed = 11\nstart_date = \"2026-02-30\""),
        "scenario.start_date",
        "calendar date YYYY-MM-DD",
    );
    rejects(
        |s| {
            s.replace(
                "seed = 11",
                "seed = 11\nstart_date = 2026-01-06\nstart_weekday = \"monday\"",
            )
        },
        "scenario.start_weekday",
        "start_date 2026-01-06 is a tuesday",
    );
}

#[test]
fn bad_growth_is_rejected() {
    let arrivals = "arrivals = { mean_rps = 3.0, peak_hour = 1, peak_to_trough = 2.0 }";
    let with = |extra: &'static str| {
        move |s: &str| s.replace(arrivals, &arrivals.replace(" }", &format!(", {extra} }}")))
    };
    rejects(
        with("growth = { monthly = -1.5 }"),
        "class[0].arrivals.growth.monthly",
        "a number from -0.99 to 10",
    );
    rejects(
        with("growth = { monthly = 0.1, multipliers = [1, 2] }"),
        "class[0].arrivals.growth",
        "exactly one of monthly",
    );
    rejects(
        with("growth = { multipliers = [1, -2] }"),
        "class[0].arrivals.growth.multipliers[1]",
        "a number from 0 to 1000000",
    );
    rejects(
        with("seasonality = [1, 2, 3]"),
        "class[0].arrivals.seasonality",
        "12 month-of-year factors, January first, got 3",
    );
    // 10x a month for a year: about 9e14 requests, past the limit on work.
    rejects(
        |s| {
            with("growth = { monthly = 10 }")(s)
                .replace("horizon_hours = 3", "horizon_hours = 8760")
                .replace("replications = 3", "replications = 1")
        },
        "class[0].arrivals.growth",
        "lower the growth",
    );
}

#[test]
fn negative_rate_is_rejected() {
    rejects(
        |s| s.replace("mean_rps = 3.0", "mean_rps = -3.0"),
        "class[0].arrivals.mean_rps",
        "finite number > 0",
    );
}

#[test]
fn nan_rate_is_rejected() {
    rejects(
        |s| s.replace("mean_rps = 3.0", "mean_rps = nan"),
        "class[0].arrivals.mean_rps",
        "finite number > 0",
    );
}

#[test]
fn rpm_below_one_request_is_rejected() {
    rejects(
        |s| s.replace("rpm = 600", "rpm = 0.5"),
        "deployment[1].on_demand.rpm",
        "must be a finite number >= 1",
    );
}

#[test]
fn zero_units_is_rejected() {
    rejects(
        |s| s.replace("units = 15", "units = 0"),
        "deployment[0].reserved.units",
        "whole number >= 1",
    );
}

/// The reserved pool of SMALL, as written there.
const SMALL_PTU: &str = r#"platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 300, p99_ms = 800, prefill_ms_per_1k_input = 100 }
reserved = { units = 15, tpm_per_unit = 2500, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562 } }"#;

#[test]
fn terms_that_are_not_sold_or_have_no_hours_are_rejected() {
    // An offering's term list is what it sells: a term it does not sell names the terms sold.
    rejects(
        |s| {
            s.replace(
                SMALL_PTU,
                "offering = \"azure-openai/gpt-4o/global-provisioned\"\nreserved = { units = 15, term = \"1-week\" }",
            )
        },
        "deployment[0].reserved.term",
        "it sells: hourly (no commitment), monthly (730 h), yearly (8760 h)",
    );
    // A term llmcap does not know needs its hours.
    rejects(
        |s| {
            s.replace(
                "term = \"monthly\", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562 }",
                "term = \"1-week\", max_wait_ms = 200, price_per_unit_hour = { \"1-week\" = 1.2 }",
            )
        },
        "deployment[0].reserved.price_per_unit_hour.1-week",
        "give the hours it commits to in term_hours",
    );
    // Hours of a term that has no price.
    rejects(
        |s| {
            s.replace(
                "price_per_unit_hour = { monthly = 0.3562 }",
                "price_per_unit_hour = { monthly = 0.3562 }, term_hours = { \"3-month\" = 2190 }",
            )
        },
        "deployment[0].reserved.term_hours.3-month",
        "has no price in price_per_unit_hour (it prices: monthly)",
    );
    rejects(
        |s| {
            s.replace(
                "price_per_unit_hour = { monthly = 0.3562 }",
                "price_per_unit_hour = { monthly = 0.3562 }, term_hours = { monthly = -1 }",
            )
        },
        "deployment[0].reserved.term_hours.monthly",
        "87600",
    );
    // The chosen term must be priced.
    rejects(
        |s| s.replace("term = \"monthly\"", "term = \"yearly\""),
        "deployment[0].reserved.term",
        "\"yearly\" has no price in price_per_unit_hour (it prices: monthly)",
    );
}

/// A term that is data: Vertex's 3-month term is priced per unit-month in the catalog
/// ($2,400 / 730 h = $3.28767 per GSU-hour) and a scenario's own 1-week term gives its hours.
/// Two GSUs for 3 hours cost 2 x 3 x 2,400 / 730 = $19.7260 whatever the traffic.
#[test]
fn a_term_priced_per_month_in_the_catalog_bills_per_hour() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SMALL
        .replace(
            SMALL_PTU,
            "offering = \"vertex-ai/gemini-2.5-flash/pt-global\"\nreserved = { units = 2, term = \"3-month\" }",
        )
        .replace("model = \"gpt-4o\"\nroute", "model = \"gemini-2.5-flash\"\nroute")
        .replace("route = [\"ptu\", \"paygo\"]", "route = [\"ptu\"]");
    let text = text[..text.find("[[deployment]]\nname = \"paygo\"").unwrap()].to_string();
    let sc = write(tmp.path(), "vertex.toml", &text);
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &[]);
    let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(hourly.as_bytes());
    let head = rows.headers().unwrap().clone();
    let col = head.iter().position(|h| h == "cost_reserved_usd").unwrap();
    let total: f64 = rows
        .records()
        .map(|r| r.unwrap()[col].parse::<f64>().unwrap())
        .sum();
    let want = 2.0 * 3.0 * 2400.0 / 730.0;
    assert!(
        (total - want).abs() < 1e-3,
        "reserved cost {total}, by hand {want}"
    );
}

/// Azure's split between a reservation and a deployment, by hand (Microsoft Learn's example:
/// 400 PTUs deployed under a 300 PTU reservation): on the global provisioned offering the 300
/// reserved PTUs cost the monthly reservation's $0.3562 an hour each and the other 100 the hourly
/// $1.00, so each hour costs 300 x 0.3562 + 100 x 1.00 = $206.86 and the 3 hours $620.58, of
/// which $300 is the overage. focus.csv bills the overage on its own rows, outside the
/// commitment; hourly.csv and report.md show it.
#[test]
fn units_deployed_beyond_the_reservation_are_billed_hourly() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SMALL.replace(
        SMALL_PTU,
        "offering = \"azure-openai/gpt-4o/global-provisioned\"\nreserved = { units = 400, reserved_units = 300, term = \"monthly\" }",
    );
    let sc = write(tmp.path(), "split.toml", &text);
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &[]);
    let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(hourly.as_bytes());
    let head = rows.headers().unwrap().clone();
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (dep, reserved, overage) = (
        at("deployment"),
        at("cost_reserved_usd"),
        at("cost_reserved_overage_usd"),
    );
    let ptu: Vec<csv::StringRecord> = rows
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[dep] == "ptu")
        .collect();
    assert_eq!(ptu.len(), 3);
    for r in &ptu {
        assert_eq!(&r[reserved], "206.8600");
        assert_eq!(&r[overage], "100.0000");
    }
    // focus.csv: the reservation's fee (300 units) and the overage (100 units, hourly) add up
    // to the same bill, billed and effective.
    let focus = std::fs::read_to_string(out.join("focus.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(focus.as_bytes());
    let head = rows.headers().unwrap().clone();
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (res, billed, effective, commitment, quantity, price) = (
        at("ResourceId"),
        at("BilledCost"),
        at("EffectiveCost"),
        at("CommitmentDiscountId"),
        at("PricingQuantity"),
        at("ListUnitPrice"),
    );
    let (mut b, mut e, mut over, mut purchased) = (0.0, 0.0, 0.0, 0.0);
    for r in rows.records().map(|r| r.unwrap()) {
        if &r[res] != "azure-openai/ptu" {
            continue;
        }
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        b += num(billed);
        e += num(effective);
        if r[commitment].is_empty() {
            assert_eq!((&r[quantity], &r[price]), ("100.000000", "1.000000"));
            over += num(billed);
        } else if num(billed) > 0.0 {
            assert_eq!(&r[quantity], "300.000000");
            purchased += num(billed);
        }
    }
    assert!((b - 620.58).abs() < 1e-4, "billed {b}");
    assert!((e - 620.58).abs() < 1e-4, "effective {e}");
    assert!((over - 300.0).abs() < 1e-6, "overage {over}");
    assert!((purchased - 320.58).abs() < 1e-4, "reservation {purchased}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(
            "| of which units deployed beyond the reservation (billed at the hourly price) | $300.00 |"
        ),
        "{report}"
    );
    assert!(report.contains("for the 300 reserved units, the other 100 deployed beyond the reservation at the hourly $1/unit-hour"));
}

#[test]
fn reservations_beyond_the_deployment_or_off_azure_are_rejected() {
    let split = |units: &str, reserved: &str, term: &str, prices: &str| {
        format!("reserved = {{ units = {units}, reserved_units = {reserved}, tpm_per_unit = 2500, output_weight = 3, term = \"{term}\", max_wait_ms = 200, price_per_unit_hour = {{ {prices} }} }}")
    };
    let ptu = "reserved = { units = 15, tpm_per_unit = 2500, output_weight = 3, term = \"monthly\", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562 } }";
    let both = "hourly = 1.0, monthly = 0.3562";
    // A reservation above the units deployed.
    rejects(
        |s| s.replace(ptu, &split("15", "20", "monthly", both)),
        "deployment[0].reserved.reserved_units",
        "must be at most units = 15",
    );
    // No commitment: nothing to split.
    rejects(
        |s| s.replace(ptu, &split("20", "15", "hourly", both)),
        "deployment[0].reserved.reserved_units",
        "term \"hourly\" commits to nothing",
    );
    // The units beyond the reservation need the hourly price.
    rejects(
        |s| s.replace(ptu, &split("20", "15", "monthly", "monthly = 0.3562")),
        "deployment[0].reserved.reserved_units",
        "give price_per_unit_hour.hourly",
    );
    // Vertex bills its commitment on the GSUs bought.
    rejects(
        |s| {
            let s = s
                .replace(ptu, &split("20", "15", "monthly", both))
                .replace(
                    "name = \"ptu\"\nplatform = \"azure-openai\"\nmodel = \"gpt-4o\"",
                    "name = \"ptu\"\nplatform = \"vertex-ai\"\nmodel = \"gemini-2.5-flash\"",
                )
                .replace(
                    "model = \"gpt-4o\"\nroute = [\"ptu\", \"paygo\"]",
                    "model = \"gemini-2.5-flash\"\nroute = [\"ptu\"]",
                );
            s[..s.find("[[deployment]]\nname = \"paygo\"").unwrap()].to_string()
        },
        "deployment[0].reserved.reserved_units",
        "platform \"vertex-ai\" bills its commitment on the units bought",
    );
}

/// Prompt caching, by hand: one request a second for an hour (deterministic arrivals), each
/// 1,000 input tokens of which 60% read from the cache and 10% written to it, and 100 output
/// tokens, at $3 input / $0.30 cached / $3.75 cache write / $15 output per 1M (Claude Sonnet 4
/// on the Claude API). Per request: 300 x 3 + 600 x 0.3 + 100 x 3.75 + 100 x 15 = 2,955 per
/// 1M = $0.002955, of which 180 + 375 = $0.000555 cached.
#[test]
fn cached_input_is_billed_at_its_own_prices() {
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
[scenario]
name = "cache"
horizon_hours = 1
seed = 1
replications = 1

[[class]]
name = "chat"
model = "claude-sonnet-4"
route = ["api"]
cached_input_share = 0.6
cache_write_share = 0.1
arrivals = { mean_rps = 1.0, process = "deterministic" }
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 100 }

[[deployment]]
name = "api"
platform = "custom"
model = "claude-sonnet-4"
latency = { median_ms = 300, p99_ms = 800 }
on_demand = { input_per_1m = 3.0, output_per_1m = 15.0, cached_input_per_1m = 0.3, cache_write_per_1m = 3.75 }
"#;
    let sc = write(tmp.path(), "cache.toml", text);
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &[]);
    let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(hourly.as_bytes());
    let head = rows.headers().unwrap().clone();
    let rec = rows.records().next().unwrap().unwrap();
    let col = |name: &str| -> f64 {
        let i = head.iter().position(|h| h == name).unwrap();
        rec[i].parse().unwrap()
    };
    let n = col("requests");
    assert!(n >= 3599.0, "one request a second, got {n}");
    assert_eq!(col("input_tokens"), 1000.0 * n);
    assert_eq!(col("cached_input_tokens"), 600.0 * n);
    assert_eq!(col("cache_write_tokens"), 100.0 * n);
    let (cost, cached) = (col("cost_on_demand_usd"), col("cost_cached_input_usd"));
    assert!(
        (cost - 0.002955 * n).abs() < 1e-3,
        "{cost} vs {}",
        0.002955 * n
    );
    assert!((cached - 0.000555 * n).abs() < 1e-3, "{cached}");
    // focus.csv bills the same tokens on four meters.
    let focus = std::fs::read_to_string(out.join("focus.csv")).unwrap();
    for meter in [
        "Input Tokens",
        "Cached Input Tokens",
        "Cache Write Tokens",
        "Output Tokens",
    ] {
        assert!(focus.contains(meter), "{meter}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("of which cached input"),
        "report.md splits the cost"
    );
}

#[test]
fn cache_shares_outside_0_to_1_are_rejected() {
    for v in ["1.5", "-0.1"] {
        rejects(
            |s| {
                s.replace(
                    "name = \"chat\"\n",
                    &format!("name = \"chat\"\ncached_input_share = {v}\n"),
                )
            },
            "class[0].cached_input_share",
            "a number from 0 to 1",
        );
    }
    rejects(
        |s| {
            s.replace(
                "name = \"chat\"\n",
                "name = \"chat\"\ncached_input_share = 0.7\ncache_write_share = 0.5\n",
            )
        },
        "class[0].cache_write_share",
        "must be at most 1 (shares of the same input tokens), got 0.7 + 0.5",
    );
    rejects(
        |s| {
            s.replace(
                "output_per_1m = 10.0,",
                "output_per_1m = 10.0, cached_input_per_1m = -1,",
            )
        },
        "deployment[1].on_demand.cached_input_per_1m",
        "a finite number >= 0",
    );
    rejects(
        |s| {
            s.replace(
                "output_weight = 3,",
                "output_weight = 3, cached_input_weight = 2,",
            )
        },
        "deployment[0].reserved.cached_input_weight",
        "a number from 0 to 1",
    );
}

#[test]
fn unknown_deployment_in_route_is_rejected() {
    rejects(
        |s| s.replace(r#"route = ["ptu", "paygo"]"#, r#"route = ["ptu", "payg"]"#),
        "class[0].route[1]",
        "unknown deployment \"payg\"; defined deployments: ptu, paygo",
    );
}

#[test]
fn percentile_out_of_range_is_rejected() {
    rejects(
        |s| s.replace("percentile = 99 }", "percentile = 120 }"),
        "class[0].sla.percentile",
        "greater than 0 and at most 100",
    );
    rejects(
        |s| {
            s.replace(
                "replications = 3",
                "replications = 3\npercentiles = [50, -1]",
            )
        },
        "scenario.percentiles[1]",
        "greater than 0 and at most 100",
    );
}

#[test]
fn empty_class_list_is_rejected() {
    rejects(
        |s| {
            let start = s.find("[[class]]").unwrap();
            let end = s.find("[[deployment]]").unwrap();
            format!("{}{}", &s[..start], &s[end..])
        },
        "bad.toml: class: ",
        "at least one [[class]]",
    );
}

#[test]
fn model_mismatch_in_route_is_rejected() {
    rejects(
        |s| {
            s.replacen(
                "model = \"gpt-4o\"\nlatency = { median_ms = 450",
                "model = \"gpt-4.1\"\nlatency = { median_ms = 450",
                1,
            )
        },
        "class[0].route[1]",
        "serves model \"gpt-4.1\", but the class needs \"gpt-4o\"",
    );
}

#[test]
fn unwritable_output_folder_is_rejected_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "small.toml", SMALL);
    let blocker = write(tmp.path(), "file", "not a folder");
    let out = blocker.join("sub");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--out"))
        .stderr(predicate::str::contains("cannot be written"));
    assert!(!out.exists());
}

#[test]
fn missing_file_and_usage_errors_exit_2() {
    llmcap()
        .args(["run", "does/not/exist.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does/not/exist.toml"));
    llmcap().args(["run"]).assert().code(2);
    llmcap().args(["frobnicate"]).assert().code(2);
    llmcap()
        .args(["run", "--threads", "0", "x.toml"])
        .assert()
        .code(2);
}

#[test]
fn help_is_available_for_every_command() {
    for cmd in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["validate", "--help"],
    ] {
        llmcap()
            .args(&cmd)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage"));
    }
}

#[test]
fn never_replaces_a_folder_llmcap_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "small.toml", SMALL);
    let precious = tmp.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "keep me").unwrap();
    for out in [precious.to_str().unwrap(), ".", ".."] {
        llmcap()
            .current_dir(tmp.path())
            .args(["run", sc.to_str().unwrap(), "--out", out, "--quiet"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("refusing to write results here"));
    }
    assert_eq!(
        std::fs::read_to_string(precious.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(sc.exists());
    // A folder llmcap wrote is replaced by the next run.
    let out = tmp.path().join("out");
    for seed in ["1", "2"] {
        run_ok(&sc, &out, &["--seed", seed]);
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["manifest"]["seed"], 2);
}

#[test]
fn scenario_names_cannot_escape_the_results_folder() {
    for name in [".", "..", ".hidden"] {
        rejects(
            |s| s.replace("name = \"small\"", &format!("name = \"{name}\"")),
            "scenario.name",
            "not start with '.'",
        );
    }
}

#[test]
fn empirical_quantiles_must_rise() {
    rejects(
        |s| {
            s.replace(
                r#"input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }"#,
                r#"input_tokens = { dist = "empirical", quantiles = [[0, 10], [50, 100], [30, 200], [100, 1000]] }"#,
            )
        },
        "class[0].input_tokens.quantiles[2]",
        "percentiles must rise strictly",
    );
}

#[test]
fn an_overloaded_pool_reports_requests_still_queued_not_served() {
    // 1 unit of 60,000 weighted tokens/min serves 1 request of 1,000 tokens per
    // second; 3 arrive per second, with no queue bound: the queue grows all run.
    let text = SMALL
        .replace(r#"route = ["ptu", "paygo"]"#, r#"route = ["ptu"]"#)
        .replace("mean_rps = 3.0, peak_hour = 1, peak_to_trough = 2.0", "mean_rps = 3.0")
        .replace(r#"{ dist = "lognormal", median = 800, p90 = 3000 }"#, r#"{ dist = "fixed", value = 1000 }"#)
        .replace(r#"{ dist = "lognormal", median = 200, p90 = 600 }"#, r#"{ dist = "fixed", value = 0 }"#)
        .replace(
            "units = 15, tpm_per_unit = 2500, output_weight = 3, term = \"monthly\", max_wait_ms = 200,",
            "units = 1, tpm_per_unit = 60000, output_weight = 3, term = \"monthly\",",
        );
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "overload.toml", &text);
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &["--replications", "1"]);
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let r = &s["requests"];
    let (arrived, served, in_flight) = (
        r["arrived"].as_f64().unwrap(),
        r["served"].as_f64().unwrap(),
        r["in_flight"].as_f64().unwrap(),
    );
    // 3 hours at 1 request/s of capacity: at most ~10,800 start within the run.
    assert!(served <= 3.0 * 3600.0 + 1.0, "served {served}");
    assert!((arrived - served - in_flight).abs() < 1e-9);
    assert!(
        in_flight > arrived / 2.0,
        "two thirds of the arrivals cannot be served"
    );
    assert_eq!(
        s["deployments"][0]["queued_at_horizon"].as_f64().unwrap(),
        in_flight
    );
    // No TTFT can exceed the run itself.
    let p999 = s["ttft_ms"].as_array().unwrap().last().unwrap()["pooled"]
        .as_f64()
        .unwrap();
    assert!(p999 < 3.0 * 3_600_000.0 * 1.001, "p99.9 {p999} ms");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("**Overloaded:**"));
}

#[test]
fn warnings_name_their_key_without_failing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SMALL.replace(
        "peak_hour = 1, peak_to_trough = 2.0",
        "peak_hour = 1, peak_to_trough = 2.0, weekday = [2, 1, 1, 1, 1, 1, 1]",
    );
    let sc = write(tmp.path(), "weekday.toml", &text);
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: "))
        .stderr(predicate::str::contains("class[0].arrivals.weekday"))
        .stderr(predicate::str::contains("horizon is 3 h"));
    // A whole number of weeks averages the factors out: no warning.
    let weeks = write(
        tmp.path(),
        "weeks.toml",
        &text.replace("horizon_hours = 3", "horizon_hours = 168"),
    );
    llmcap()
        .args(["validate", weeks.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning").not());
}

#[test]
fn classes_sharing_a_stream_see_identical_traffic_and_are_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_ok(
        &repo("scenarios/ondemand_vs_reserved.toml"),
        &out,
        &["--horizon-hours", "3", "--replications", "2"],
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let classes = s["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2);
    assert_eq!(
        classes[0]["requests"]["arrived"],
        classes[1]["requests"]["arrived"]
    );
    assert_eq!(
        classes[0]["mean_input_tokens"],
        classes[1]["mean_input_tokens"]
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Classes `on-demand`, `reserved` share one random stream"));
}

/// cost_by_tag.csv splits every hour's cost by each tag dimension (and by
/// class) without losing or inventing a cent: per hour and dimension its rows
/// add up to the hour's total in hourly.csv; reserved cost follows the slot
/// time each class used, and what no class used is its own row.
#[test]
fn cost_by_tag_adds_up_to_the_hourly_cost() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, extra) in [
        (
            "baseline",
            vec!["--horizon-hours", "4", "--replications", "2"],
        ),
        (
            "two_provider",
            vec!["--horizon-hours", "3", "--replications", "2"],
        ),
        (
            "ondemand_vs_reserved",
            vec!["--horizon-hours", "3", "--replications", "2"],
        ),
    ] {
        let out = tmp.path().join(name);
        run_ok(&repo(&format!("scenarios/{name}.toml")), &out, &extra);
        let mut hourly: std::collections::BTreeMap<u64, f64> = Default::default();
        let mut r = csv::Reader::from_path(out.join("hourly.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            *hourly.entry(rec[0].parse().unwrap()).or_default() += rec[12].parse::<f64>().unwrap();
        }
        let mut by_tag: std::collections::BTreeMap<(u64, String), f64> = Default::default();
        let mut idle = 0.0;
        let mut r = csv::Reader::from_path(out.join("cost_by_tag.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            let cost: f64 = rec[7].parse().unwrap();
            let od: f64 = rec[5].parse().unwrap();
            let res: f64 = rec[6].parse().unwrap();
            assert!((od + res - cost).abs() < 1e-3, "{name}: {rec:?}");
            *by_tag
                .entry((rec[0].parse().unwrap(), rec[1].to_string()))
                .or_default() += cost;
            if &rec[2] == "(idle reserved capacity)" {
                assert_eq!(od, 0.0);
                idle += res;
            }
        }
        let dims: std::collections::BTreeSet<&str> =
            by_tag.keys().map(|(_, d)| d.as_str()).collect();
        assert!(
            dims.contains("class") && dims.contains("team"),
            "{name}: {dims:?}"
        );
        for ((h, dim), cost) in &by_tag {
            let want = hourly[h];
            assert!(
                (cost - want).abs() < 1e-3 * want.max(1.0),
                "{name}: hour {h}, {dim}: {cost} vs hourly {want}"
            );
        }
        let has_reserved = name != "two_provider";
        assert_eq!(idle > 0.0, has_reserved, "{name}: idle reserved {idle}");
    }
}

/// focus.csv follows the FOCUS 1.2 column set and the rules that matter to a
/// FinOps tool (focus-validator checks the rest: scripts/check_focus.sh):
/// nulls by charge category and commitment status, units in FOCUS's format,
/// commitments billed on Purchase rows and amortised over covered usage, a
/// calendar from `start_date`, and BilledCost and EffectiveCost each equal to
/// what hourly.csv costs.
#[test]
fn focus_export_follows_focus_1_2_and_bills_the_simulation() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("baseline", vec!["--start-date", "2026-03-30"]),
        ("two_provider", vec![]),
    ] {
        let out = tmp.path().join(name);
        let mut args = vec!["--horizon-hours", "25", "--replications", "2"];
        args.extend(extra.iter().copied());
        run_ok(&repo(&format!("scenarios/{name}.toml")), &out, &args);
        let mut r = csv::Reader::from_path(out.join("focus.csv")).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, llmcap::report::focus::COLUMNS, "{name}");
        let col = |n: &str| header.iter().position(|h| h == n).unwrap();
        let is_time = |s: &str| {
            s.len() == 20
                && s.ends_with(":00:00Z")
                && &s[4..5] == "-"
                && &s[10..11] == "T"
                && s[..4].parse::<u32>().is_ok()
        };
        // FOCUS's unit format: "<count unit>", "<unit>-<plural time unit>" or
        // "<quantity> <unit>" (e.g. "1000000 Tokens", "Unit-Hours").
        let unit_ok = |u: &str| {
            let word = |w: &str| {
                w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && w.chars().all(|c| c.is_ascii_alphanumeric())
            };
            match u.split_once(' ') {
                Some((q, w)) => q.chars().all(|c| c.is_ascii_digit()) && word(w),
                None => match u.split_once('-') {
                    Some((w, t)) => word(w) && ["Hours", "Days", "Months", "Years"].contains(&t),
                    None => word(u),
                },
            }
        };
        let (mut billed, mut effective) = (0.0, 0.0);
        let (mut purchases, mut used, mut unused) = (0, 0, 0);
        let mut first_start = String::new();
        for rec in r.records() {
            let rec = rec.unwrap();
            let v = |n: &str| rec[col(n)].to_string();
            let num = |n: &str| {
                v(n).parse::<f64>()
                    .unwrap_or_else(|_| panic!("{name}: {n} {:?}", v(n)))
            };
            for n in [
                "BilledCost",
                "EffectiveCost",
                "ListCost",
                "ContractedCost",
                "PricingQuantity",
                "ListUnitPrice",
                "ContractedUnitPrice",
            ] {
                assert!(num(n) >= 0.0, "{name}: {n} {}", num(n));
            }
            billed += num("BilledCost");
            effective += num("EffectiveCost");
            for n in [
                "ChargePeriodStart",
                "ChargePeriodEnd",
                "BillingPeriodStart",
                "BillingPeriodEnd",
            ] {
                assert!(is_time(&v(n)), "{n}: {}", v(n));
            }
            if first_start.is_empty() || v("ChargePeriodStart") < first_start {
                first_start = v("ChargePeriodStart");
            }
            assert!(v("ChargePeriodStart") < v("ChargePeriodEnd"));
            assert!(v("BillingPeriodStart") <= v("ChargePeriodStart"));
            assert_eq!(
                v("InvoiceId"),
                format!("llmcap-{}", &v("BillingPeriodStart")[..7])
            );
            assert_eq!(v("BillingCurrency"), "USD");
            assert_eq!(v("ServiceSubcategory"), "Generative AI");
            assert!(
                unit_ok(&v("PricingUnit")),
                "{name}: PricingUnit {:?}",
                v("PricingUnit")
            );
            let tags: serde_json::Value = serde_json::from_str(&v("Tags")).unwrap();
            assert!(tags.is_object());
            let committed = !v("CommitmentDiscountId").is_empty();
            assert_eq!(
                v("PricingCategory"),
                if committed { "Committed" } else { "Standard" }
            );
            match (
                v("ChargeCategory").as_str(),
                v("CommitmentDiscountStatus").as_str(),
            ) {
                ("Purchase", "") => {
                    // The commitment's fee: billed here, amortised on usage rows.
                    purchases += 1;
                    assert!(committed);
                    assert_eq!(v("ChargeFrequency"), "Recurring");
                    assert_eq!(num("EffectiveCost"), 0.0);
                    assert!(num("BilledCost") > 0.0);
                    assert_eq!(v("ConsumedQuantity"), "");
                    assert_eq!(v("ConsumedUnit"), "");
                }
                ("Usage", status) => {
                    assert_eq!(v("ChargeFrequency"), "Usage-Based");
                    if committed {
                        assert_eq!(v("CommitmentDiscountType"), "Reservation");
                        assert_eq!(
                            num("BilledCost"),
                            0.0,
                            "{name}: covered usage is not billed"
                        );
                        assert!(!v("CommitmentDiscountQuantity").is_empty());
                    } else {
                        assert_eq!(num("BilledCost"), num("EffectiveCost"));
                        assert_eq!(v("PricingUnit"), "1000000 Tokens");
                        assert_eq!(v("ConsumedUnit"), "Tokens");
                        let tokens = num("ConsumedQuantity");
                        assert!((tokens / 1e6 - num("PricingQuantity")).abs() < 1e-6);
                    }
                    match status {
                        "Used" => {
                            used += 1;
                            assert!(committed);
                            assert!(unit_ok(&v("ConsumedUnit")));
                            assert!(num("ConsumedQuantity") > 0.0);
                        }
                        "Unused" => {
                            unused += 1;
                            assert!(committed);
                            assert_eq!(v("ConsumedQuantity"), "", "{name}: null on Unused");
                            assert_eq!(v("ConsumedUnit"), "");
                        }
                        "" => {
                            assert!(!committed);
                            assert!(num("ConsumedQuantity") > 0.0);
                        }
                        other => panic!("{name}: CommitmentDiscountStatus {other}"),
                    }
                }
                other => panic!("{name}: ChargeCategory / status {other:?}"),
            }
        }
        let has_reserved = name != "two_provider";
        assert_eq!(purchases, if has_reserved { 25 } else { 0 }, "{name}");
        assert_eq!(unused, purchases, "{name}: one Unused row per purchase");
        assert_eq!(used > 0, has_reserved, "{name}");
        let want_start = if name == "baseline" {
            "2026-03-30T00:00:00Z"
        } else {
            "2026-01-05T00:00:00Z"
        };
        assert_eq!(first_start, want_start, "{name}");
        let mut total = 0.0;
        let mut r = csv::Reader::from_path(out.join("hourly.csv")).unwrap();
        for rec in r.records() {
            total += rec.unwrap()[12].parse::<f64>().unwrap();
        }
        for (what, sum) in [("BilledCost", billed), ("EffectiveCost", effective)] {
            assert!(
                (sum - total).abs() < 1e-3 * total.max(1.0),
                "{name}: {what} {sum} vs hourly.csv {total}"
            );
        }
    }
}

/// `--json` prints the JSON file each command writes on standard output (and
/// nothing else), so scripts need no second read.
#[test]
fn json_flag_prints_the_results_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "small.toml", SMALL);
    let json_of = |args: &[&str], out: &Path, file: &str| {
        let o = llmcap().args(args).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&o.stdout)
            )
        });
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join(file)).unwrap()).unwrap();
        assert_eq!(printed, written, "{args:?}");
        printed
    };
    let s = sc.to_str().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let v = json_of(
        &[
            "run",
            s,
            "--out",
            a.to_str().unwrap(),
            "--json",
            "--replications",
            "1",
        ],
        &a,
        "summary.json",
    );
    assert!(v["cost"]["total_usd"]["mean"].as_f64().unwrap() > 0.0);
    json_of(
        &[
            "run",
            s,
            "--out",
            b.to_str().unwrap(),
            "--json",
            "--quiet",
            "--replications",
            "1",
            "--seed",
            "12",
        ],
        &b,
        "summary.json",
    );
    let d = tmp.path().join("d");
    json_of(
        &[
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            d.to_str().unwrap(),
            "--json",
        ],
        &d,
        "diff.json",
    );
    let w = tmp.path().join("w");
    json_of(
        &[
            "sweep",
            s,
            "--key",
            "demand_scale",
            "--values",
            "1,2",
            "--out",
            w.to_str().unwrap(),
            "--json",
            "--replications",
            "1",
        ],
        &w,
        "sweep.json",
    );
    let p = tmp.path().join("p");
    json_of(
        &[
            "plan",
            s,
            "--max-units",
            "20",
            "--out",
            p.to_str().unwrap(),
            "--json",
            "--replications",
            "1",
        ],
        &p,
        "plan.json",
    );
}

/// `validate` recognises a workload profile and checks it as `pick` does.
#[test]
fn validate_recognises_a_profile() {
    llmcap()
        .args([
            "validate",
            repo("scenarios/profiles/claude_100m_tokens.toml")
                .to_str()
                .unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("valid workload profile"))
        .stdout(predicate::str::contains("workload "));
    let tmp = tempfile::tempdir().unwrap();
    let bad = write(
        tmp.path(),
        "bad.toml",
        &std::fs::read_to_string(repo("scenarios/profiles/claude_100m_tokens.toml"))
            .unwrap()
            .replacen("[profile]", "[profile]\nbudget_usd_per_month = -5", 1),
    );
    llmcap()
        .args(["validate", bad.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains("profile.budget_usd_per_month"));
}

/// `completions SHELL` prints a completion script naming every command.
#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        llmcap()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("llmcap"))
            .stdout(predicate::str::contains("sweep"));
    }
    llmcap().args(["completions", "tcsh"]).assert().code(2);
}

/// A Portkey tree (`[class.portkey]` with `[gateway] router = "portkey"`) is checked like any
/// input: the key path of the node, what was found, what is allowed.
#[test]
fn portkey_trees_are_checked() {
    // SMALL's class with `tree` as its portkey table, behind a Portkey gateway.
    let pk = |tree: &'static str| {
        move |s: &str| {
            format!(
                "{}\n[gateway]\nrouter = \"portkey\"\n",
                s.replace(
                    "output_tokens = { dist = \"lognormal\", median = 200, p90 = 600 }\n",
                    &format!("output_tokens = {{ dist = \"lognormal\", median = 200, p90 = 600 }}\nportkey = {tree}\n"),
                )
            )
        }
    };
    let two =
        "{ mode = \"fallback\", targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }";
    // The good tree runs (checked by the model tests); the bad ones name their node.
    rejects(
        |s| format!("{s}\n[gateway]\nrouter = \"portkey\"\n"),
        "class[0].portkey",
        "is missing",
    );
    rejects(
        |s| pk(two)(s).replace("router = \"portkey\"", "router = \"walk\""),
        "class[0].portkey",
        "only applies with [gateway] router = \"portkey\"",
    );
    for (tree, key, allowed) in [
        (
            "{ mode = \"fallback\", targets = [{ deployment = \"ptu\" }, { deployment = \"nowhere\" }] }",
            "class[0].portkey.targets[1].deployment",
            "\"nowhere\" is not in the class's route; route: ptu, paygo",
        ),
        (
            "{ mode = \"fallback\", targets = [] }",
            "class[0].portkey.targets",
            "at least one target",
        ),
        (
            "{ mode = \"loadbalance\", targets = [{ deployment = \"ptu\", weight = 0 }, { deployment = \"paygo\", weight = 0 }] }",
            "class[0].portkey.targets",
            "every target has weight 0",
        ),
        (
            "{ mode = \"fallback\", on_status_codes = [429, 600], targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.on_status_codes[1]",
            "HTTP status from 100 to 599, got 600",
        ),
        (
            "{ mode = \"fallback\", retry = { attempts = 6 }, targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.retry.attempts",
            "from 0 to 5, got 6",
        ),
        (
            "{ mode = \"conditional\", targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.mode",
            "allowed: single, fallback, loadbalance",
        ),
        (
            "{ mode = \"fallback\", targets = [{ deployment = \"ptu\", weight = 2 }, { deployment = \"paygo\" }] }",
            "class[0].portkey.targets[0].weight",
            "only applies to the targets of a mode = \"loadbalance\"",
        ),
        (
            "{ mode = \"loadbalance\", on_status_codes = [429], targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.on_status_codes",
            "only applies to mode = \"fallback\"",
        ),
        (
            "{ mode = \"single\", targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.targets",
            "list one, got 2",
        ),
        (
            "{ mode = \"fallback\", targets = [{ deployment = \"ptu\" }] }",
            "class[0].route[1]",
            "\"paygo\" is not a target of class[0].portkey",
        ),
        (
            "{ mode = \"fallback\", targets = [{ deployment = \"ptu\", targets = [] }, { deployment = \"paygo\" }] }",
            "class[0].portkey.targets[0]",
            "not both",
        ),
        (
            "{ mode = \"fallback\", timeout_ms = 0, targets = [{ deployment = \"ptu\" }, { deployment = \"paygo\" }] }",
            "class[0].portkey.timeout_ms",
            "from 1 to 3600000",
        ),
    ] {
        rejects(pk(tree), key, allowed);
    }
    rejects(
        |s| {
            pk(two)(s).replace(
                "router = \"portkey\"",
                "router = \"portkey\"\ncooldown_failures = 3",
            )
        },
        "gateway.cooldown_failures",
        "Portkey does not cool targets",
    );
    rejects(
        |s| {
            pk(two)(s).replace(
                "route = [\"ptu\", \"paygo\"]",
                "route = [\"ptu\", \"paygo\"]\nrouting = \"weighted\"\nweights = [1, 1]",
            )
        },
        "class[0].routing",
        "leave routing out",
    );
}

#[test]
fn litellm_gateway_keys_are_checked() {
    let lite = |keys: &'static str| {
        move |s: &str| format!("{s}\n[gateway]\nrouter = \"litellm\"\n{keys}\n")
    };
    rejects(
        |s| format!("{s}\n[gateway]\nrouter = \"envoy\"\n"),
        "gateway.router",
        "walk, litellm",
    );
    rejects(
        lite("strategy = \"round-robin\""),
        "gateway.strategy",
        "least-busy",
    );
    rejects(
        lite("num_retries = 1.5"),
        "gateway.num_retries",
        "whole number",
    );
    rejects(
        lite("cooldown_failures = 3"),
        "gateway.cooldown_failures",
        "cooldown = \"count\"",
    );
    rejects(
        lite("cooldown = \"off\"\nallowed_fails = 1"),
        "gateway.allowed_fails",
        "count",
    );
    rejects(lite("timeout_s = 0"), "gateway.timeout_s", "0.001 to 86400");
    rejects(
        |s| format!("{s}\n[gateway]\nnum_retries = 2\n"),
        "gateway.num_retries",
        "only applies with router = \"litellm\"",
    );
    rejects(
        |s| {
            s.replace(
                "route = [\"ptu\", \"paygo\"]",
                "route = [\"ptu\", \"paygo\"]\norders = [1, 2]",
            )
        },
        "class[0].orders",
        "only applies with [gateway] router",
    );
    rejects(
        |s| {
            lite("")(&s.replace(
                "route = [\"ptu\", \"paygo\"]",
                "route = [\"ptu\", \"paygo\"]\norders = [1]",
            ))
        },
        "class[0].orders",
        "one entry per route entry (2), got 1",
    );
    rejects(
        |s| {
            lite("")(&s.replace(
                "route = [\"ptu\", \"paygo\"]",
                "route = [\"ptu\", \"paygo\"]\nrouting = \"cheapest\"",
            ))
        },
        "class[0].routing",
        "allowed: ordered, weighted",
    );
    rejects(
        |s| s.replace("name = \"ptu\"\n", "name = \"ptu\"\ncooldown_s = -1\n"),
        "deployment[0].cooldown_s",
        "0 to 86400",
    );
}

#[test]
fn import_help_says_what_each_importer_reads() {
    let out = llmcap().args(["import", "--help"]).assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for want in ["LiteLLM proxy config YAML", "Portkey config JSON"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let out = llmcap()
        .args(["import", "litellm", "--help"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for want in [
        "model_list",
        "router_settings",
        "num_retries",
        "allowed_fails_policy",
        "fallbacks",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let out = llmcap()
        .args(["import", "portkey", "--help"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for want in ["strategy.mode", "loadbalance", "retry", "request_timeout"] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

/// Vertex AI's request types by their routes (docs/model.md 8.4), by hand: one request a second
/// (deterministic) of 1,000 input + 500 output tokens on one GSU-like unit of 60,000 TPM holds
/// the unit 1.5 s, so with no queue (`max_queue = 0`, Vertex does not queue) every other request
/// does not fit. Default (spillover): those go to pay-as-you-go at 1,000 x 0.30 + 500 x 2.50 per
/// 1M = $0.00155 each. `dedicated`: they get a 429 (no retries: throttled), nothing on demand.
/// `shared`: every request is pay-as-you-go, and the order is billed all the same ($1 an hour).
#[test]
fn vertex_request_types_map_onto_routes() {
    let scenario = |route: &str| {
        format!(
            r#"
[scenario]
name = "vertex"
horizon_hours = 1
seed = 1
replications = 1

[client]
max_attempts = 1

[[class]]
name = "chat"
model = "gemini-2.5-flash"
route = {route}
arrivals = {{ mean_rps = 1.0, process = "deterministic" }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 500 }}

[[deployment]]
name = "pt"
platform = "vertex-ai"
model = "gemini-2.5-flash"
latency = {{ median_ms = 300, p99_ms = 300 }}
reserved = {{ units = 1, tpm_per_unit = 60000, term = "monthly", max_queue = 0, price_per_unit_hour = {{ monthly = 1.0 }} }}

[[deployment]]
name = "paygo"
platform = "vertex-ai"
model = "gemini-2.5-flash"
latency = {{ median_ms = 300, p99_ms = 300 }}
on_demand = {{ input_per_1m = 0.30, output_per_1m = 2.50 }}
"#
        )
    };
    let tmp = tempfile::tempdir().unwrap();
    // (deployment, requests, rejected, spilled, cost) per hourly.csv row.
    let run = |name: &str, route: &str| -> Vec<(String, f64, f64, f64, f64)> {
        let sc = write(tmp.path(), &format!("{name}.toml"), &scenario(route));
        let out = tmp.path().join(name);
        run_ok(&sc, &out, &[]);
        let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
        let mut rows = csv::Reader::from_reader(hourly.as_bytes());
        let head = rows.headers().unwrap().clone();
        let at = |n: &str| head.iter().position(|h| h == n).unwrap();
        let cols = [
            at("requests"),
            at("rejected_429"),
            at("spilled_429"),
            at("cost_total_usd"),
        ];
        let dep = at("deployment");
        rows.records()
            .map(|r| {
                let r = r.unwrap();
                let n = |i: usize| r[cols[i]].parse::<f64>().unwrap();
                (r[dep].to_string(), n(0), n(1), n(2), n(3))
            })
            .collect()
    };
    let spill = run("spillover", r#"["pt", "paygo"]"#);
    let (pt, od) = (&spill[0], &spill[1]);
    let arrivals = pt.1 + pt.2;
    assert!(arrivals >= 3599.0, "{arrivals}");
    assert!(
        (pt.1 - (arrivals / 2.0).ceil()).abs() < 0.5,
        "every other request fits: {pt:?}"
    );
    assert_eq!(pt.2, pt.3, "each refusal spills");
    assert_eq!(od.1, pt.3, "spilled requests are served on demand");
    assert!((od.4 - 0.00155 * od.1).abs() < 1e-4, "{od:?}");
    assert!((pt.4 - 1.0).abs() < 1e-9);
    let dedicated = run("dedicated", r#"["pt"]"#);
    let (pt, od) = (&dedicated[0], &dedicated[1]);
    assert_eq!(
        (pt.2 > 1700.0, pt.3),
        (true, 0.0),
        "429s, nothing spills: {pt:?}"
    );
    assert_eq!((od.1, od.4), (0.0, 0.0));
    let shared = run("shared", r#"["paygo"]"#);
    let (pt, od) = (&shared[0], &shared[1]);
    assert_eq!((pt.1, pt.4), (0.0, 1.0), "the order is billed unused");
    assert!(
        (od.4 - 0.00155 * od.1).abs() < 1e-4 && od.1 >= 3599.0,
        "{od:?}"
    );
}

/// Service tiers are offerings of their own (docs/model.md 10): OpenAI flex processing of
/// o4-mini bills Batch API rates, $0.55 input and $2.20 output per 1M, so one request a second
/// for an hour of 1,000 input + 100 output tokens costs 1,000 x 0.55 + 100 x 2.20 = 770 per 1M
/// = $0.00077 a request. A tier the platform does not sell for the model is an unknown
/// offering (exit 2 naming deployment[0].offering).
#[test]
fn a_flex_tier_bills_its_own_prices() {
    let tmp = tempfile::tempdir().unwrap();
    let text = |offering: &str| {
        format!(
            r#"
[scenario]
name = "flex"
horizon_hours = 1
seed = 1
replications = 1

[[class]]
name = "evals"
model = "o4-mini"
route = ["flex"]
arrivals = {{ mean_rps = 1.0, process = "deterministic" }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[deployment]]
name = "flex"
offering = "{offering}"
"#
        )
    };
    let sc = write(tmp.path(), "flex.toml", &text("openai/o4-mini/flex"));
    let out = tmp.path().join("out");
    run_ok(&sc, &out, &[]);
    let hourly = std::fs::read_to_string(out.join("hourly.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(hourly.as_bytes());
    let head = rows.headers().unwrap().clone();
    let rec = rows.records().next().unwrap().unwrap();
    let col = |name: &str| -> f64 {
        rec[head.iter().position(|h| h == name).unwrap()]
            .parse()
            .unwrap()
    };
    let n = col("requests");
    assert!(n >= 3599.0, "{n}");
    let cost = col("cost_on_demand_usd");
    assert!(
        (cost - 0.00077 * n).abs() < 1e-3,
        "{cost} vs {}",
        0.00077 * n
    );
    llmcap()
        .args(["catalog", "--platform", "openai"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "openai/o4-mini/flex: o4-mini, on-demand, flex tier",
        ))
        .stdout(predicate::str::contains(
            "openai/gpt-4o/priority: gpt-4o, on-demand, priority tier",
        ));
    let bad = write(
        tmp.path(),
        "bad.toml",
        &text("openai/gpt-4o/flex").replace("o4-mini", "gpt-4o"),
    );
    llmcap()
        .args(["validate", bad.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains("deployment[0].offering"))
        .stderr(predicate::str::contains(
            "unknown offering \"openai/gpt-4o/flex\"",
        ));
}

/// `arrivals.hour_of_week`: 168 values, not with the other shape keys.
#[test]
fn bad_hour_of_week_profiles_are_rejected() {
    let arrivals = "arrivals = { mean_rps = 3.0, peak_hour = 1, peak_to_trough = 2.0 }";
    // (extra keys, number of values, first value) -> the key and the words of the error.
    for (extra, n, first, key, says) in [
        (
            "",
            167,
            "1.0",
            "class[0].arrivals.hour_of_week",
            "must list 168 hour-of-week multipliers, Monday 00:00 first, got 167",
        ),
        ("", 168, "-1.0", "class[0].arrivals.hour_of_week", "-1"),
        (
            "peak_hour = 1, peak_to_trough = 2.0, ",
            168,
            "2.0",
            "class[0].arrivals.peak_hour",
            "cannot be combined with arrivals.hour_of_week",
        ),
    ] {
        let mut week = vec!["1.0"; n];
        week[0] = first;
        let with = format!(
            "arrivals = {{ mean_rps = 3.0, {extra}hour_of_week = [{}] }}",
            week.join(", ")
        );
        rejects(|s| s.replace(arrivals, &with), key, says);
    }
}
