//! Batch deployments and deferrable classes: bills and completion times derived by hand, expiry, bad input.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{command_ok, llmcap, read_json, write};

/// An interactive class on pay-as-you-go (needed: a scenario has one) and a deferrable class
/// arriving every 128 s exactly (deterministic, 2^-7 req/s, so every time is exact in binary)
/// with 1,000 input and 200 output tokens, on a custom batch deployment: jobs every 60 min,
/// a fixed turnaround of `TURNAROUND` h, a window of `WINDOW` h. Horizon 6 h.
const BATCH: &str = r#"
[scenario]
name = "batch"
horizon_hours = 6
seed = 5
replications = 1

[[class]]
name = "chat"
model = "m"
route = ["paygo"]
arrivals = { mean_rps = 0.01 }
input_tokens = { dist = "fixed", value = 100 }
output_tokens = { dist = "fixed", value = 10 }

[[class]]
name = "docs"
model = "m"
deferrable = true
completion_sla_hours = 1.4
route = ["jobs"]
arrivals = { process = "deterministic", mean_rps = 0.0078125 }
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 200 }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 300 }
on_demand = { input_per_1m = 2.0, output_per_1m = 8.0 }

[[deployment]]
name = "jobs"
platform = "custom"
model = "m"
batch = { input_per_1m = 1.0, output_per_1m = 4.0, completion_window_hours = WINDOW, submit_every_minutes = 60, turnaround_median_hours = TURNAROUND, turnaround_p99_hours = TURNAROUND }
"#;

fn run(dir: &Path, window: &str, turnaround: &str) -> serde_json::Value {
    let text = BATCH
        .replace("WINDOW", window)
        .replace("TURNAROUND", turnaround);
    let sc = write(dir, "batch.toml", &text);
    let out = dir.join("out");
    command_ok("run", &sc, &out, &[]);
    read_json(&out.join("summary.json"))
}

/// hourly.csv's batch rows: (hour, requests, cost_total_usd).
fn batch_rows(dir: &Path) -> Vec<(usize, f64, f64)> {
    let text = std::fs::read_to_string(dir.join("out/hourly.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (h, pool, req, cost) = (
        col("hour"),
        col("pool"),
        col("requests"),
        col("cost_total_usd"),
    );
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|r| r[pool] == "batch")
        .map(|r| {
            (
                r[h].parse().unwrap(),
                r[req].parse().unwrap(),
                r[cost].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn fixed_turnaround_gives_the_completion_times_and_bill_derived_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(tmp.path(), "24", "0.5");
    let c = &s["batch"]["classes"][0];
    // Arrivals at 128 k s, k = 1..168 (168 x 128 = 21,504 < 21,600). Jobs go at 3,600 j s,
    // j = 1..5 (the tick at 21,600 is the horizon), each with the 28 requests since the last
    // tick, and are done 1,800 s later (hours 1..5); the last 28 are never submitted.
    assert_eq!(c["requests"], 168.0);
    assert_eq!(c["completed"], 140.0);
    assert_eq!(c["unfinished"], 28.0);
    assert_eq!(c["expired"], 0.0);
    assert_eq!(c["jobs"], 5.0);
    // 140 x (1,000 x $1 + 200 x $4) / 1e6 = $0.252; on demand 140 x (1,000 x $2 + 200 x $8) / 1e6.
    let cost = c["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.252).abs() < 1e-9, "{cost}");
    let od = c["on_demand_usd"].as_f64().unwrap();
    assert!((od - 0.504).abs() < 1e-9, "{od}");
    assert_eq!(c["on_demand_alternative"], "paygo");
    // Completion times: 3,600 j + 1,800 - 128 k for each k in job j.
    let mut times: Vec<f64> = Vec::new();
    for k in 1..=140u64 {
        let j = (128 * k).div_ceil(3600);
        times.push((3600 * j + 1800 - 128 * k) as f64);
    }
    times.sort_by(f64::total_cmp);
    assert_eq!((times[0], times[139]), (1816.0, 5336.0));
    let rank = |p: f64| times[((p / 100.0 * 140.0).ceil() as usize).max(1) - 1] / 3600.0;
    for (key, p) in [
        ("completion_p50_hours", 50.0),
        ("completion_p99_hours", 99.0),
    ] {
        let got = c[key].as_f64().unwrap();
        // The histogram keeps 3 significant digits.
        assert!(
            (got / rank(p) - 1.0).abs() < 2e-3,
            "{key}: {got} vs {}",
            rank(p)
        );
    }
    let within = times.iter().filter(|t| **t <= 1.4 * 3600.0).count() as f64 / 168.0;
    assert!((c["within_sla_share"].as_f64().unwrap() - within).abs() < 1e-12);
    // hourly.csv books each job in the hour it completed: 28 requests, $0.0504, hours 1..5.
    let rows = batch_rows(tmp.path());
    assert_eq!(rows.len(), 6);
    for (h, req, cost) in rows {
        let (want_req, want_cost) = if h == 0 { (0.0, 0.0) } else { (28.0, 0.0504) };
        assert_eq!(req, want_req, "hour {h}");
        assert!((cost - want_cost).abs() < 1e-9, "hour {h}: {cost}");
    }
    let bill = s["batch"]["bill_total_usd"].as_f64().unwrap();
    let interactive = s["cost"]["total_usd"]["mean"].as_f64().unwrap();
    assert!((bill - interactive - 0.252).abs() < 1e-9);
    let focus = std::fs::read_to_string(tmp.path().join("out/focus.csv")).unwrap();
    assert_eq!(
        focus.matches("m/batch-input-tokens").count(),
        5 * 2,
        "SkuId and SkuPriceId"
    );
    let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
    assert!(report.contains("## Batch: deferrable classes"), "{report}");
}

#[test]
fn an_expired_job_returns_and_bills_the_share_it_finished_within_the_window() {
    // Jobs 1..4 (28 requests each, submitted and started at 3,600 j s) expire at their window's
    // end, 3,600 j + 3,600 s, inside the horizon; job 5's window ends at the horizon (21,600 s),
    // so its 28 requests are unfinished like the 28 never submitted. An expired job has done
    // window / turnaround of its requests, the first submitted: floor(28 x 1/2) = 14 with a 2 h
    // turnaround, floor(28 x 1/3) = 9 with 3 h.
    for (turnaround, done) in [("2", 14.0), ("3", 9.0)] {
        let tmp = tempfile::tempdir().unwrap();
        let s = run(tmp.path(), "1", turnaround);
        let c = &s["batch"]["classes"][0];
        assert_eq!(c["completed"], 4.0 * done, "turnaround {turnaround} h");
        assert_eq!(c["partial"], 4.0 * done);
        assert_eq!(c["expired"], 4.0 * (28.0 - done));
        assert_eq!(c["unfinished"], 56.0);
        // Each returned request: 1,000 x $1 + 200 x $4 per 1M = $0.0018.
        let cost = c["cost_usd"].as_f64().unwrap();
        assert!((cost - 4.0 * done * 0.0018).abs() < 1e-9, "{cost}");
        // Booked in the hour each job expired (hours 2..5): `done` requests each.
        for (h, req, cost) in batch_rows(tmp.path()) {
            let want = if (2..=5).contains(&h) { done } else { 0.0 };
            assert_eq!(req, want, "hour {h}");
            assert!((cost - want * 0.0018).abs() < 1e-9, "hour {h}: {cost}");
        }
        // Request i (1-based) of job j waits 3,600 (j + 1) - 128 (28 (j - 1) + i) =
        // 7,184 + 16 j - 128 i s: the slowest is job 4's first (7,120 s), the fastest job 1's
        // last returned (7,200 - 128 done). The histogram keeps 3 significant digits.
        let p99 = c["completion_p99_hours"].as_f64().unwrap() * 3600.0;
        let fastest = 7_200.0 - 128.0 * done;
        assert!((p99 / 7_120.0 - 1.0).abs() < 2e-3, "{p99}");
        let p50 = c["completion_p50_hours"].as_f64().unwrap() * 3600.0;
        assert!(p50 > fastest && p50 < 7_120.0, "{p50}");
        // None back within the 1.4 h target: the fastest takes longer than 5,040 s.
        assert!(fastest > 5_040.0);
        assert_eq!(c["within_sla_share"], 0.0);
        let report = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
        let line = format!("{} ({} of them from expired jobs)", 4.0 * done, 4.0 * done);
        assert!(report.contains(&line), "{line} in {report}");
    }
}

/// `llmcap run` on `BATCH` edited by `edit` exits 2 naming the file, `key` and `allowed`, and
/// writes nothing.
fn rejects(edit: impl Fn(&str) -> String, key: &str, allowed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let text = edit(&BATCH.replace("WINDOW", "24").replace("TURNAROUND", "0.5"));
    let sc = write(tmp.path(), "bad.toml", &text);
    let out = tmp.path().join("results");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains(key))
        .stderr(predicate::str::contains(allowed));
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn bad_batch_input_names_the_file_and_key() {
    // A deferrable class routed to a deployment that is not a batch one.
    rejects(
        |s| s.replace("route = [\"jobs\"]", "route = [\"paygo\"]"),
        "class[1].route[0]",
        "not a batch deployment",
    );
    // A batch deployment serving a class that is not deferrable.
    rejects(
        |s| s.replace("route = [\"paygo\"]", "route = [\"jobs\"]"),
        "class[0].route[0]",
        "serves deferrable classes only",
    );
    // A TTFT SLA on a deferrable class.
    rejects(
        |s| s.replace("completion_sla_hours = 1.4", "sla = { ttft_ms = 500 }"),
        "class[1].sla",
        "completion_sla_hours",
    );
    // A window the vendor does not sell (OpenAI: 24 h only).
    rejects(
        |s| {
            s.replace("model = \"m\"", "model = \"gpt-4o\"").replace(
                "name = \"jobs\"\nplatform = \"custom\"\nmodel = \"gpt-4o\"\nbatch = { input_per_1m = 1.0, output_per_1m = 4.0, completion_window_hours = 24,",
                "name = \"jobs\"\noffering = \"openai/gpt-4o/standard\"\nbatch = { completion_window_hours = 48,",
            )
        },
        "deployment[1].batch.completion_window_hours",
        "24 h only",
    );
    // A batch offering the catalog does not sell.
    rejects(
        |s| {
            s.replace("model = \"m\"", "model = \"gpt-4.1\"").replace(
                "name = \"jobs\"\nplatform = \"custom\"\nmodel = \"gpt-4.1\"\nbatch = { input_per_1m = 1.0, output_per_1m = 4.0,",
                "name = \"jobs\"\noffering = \"openai/gpt-4.1/standard\"\nbatch = {",
            )
        },
        "deployment[1].batch",
        "sells no batch API",
    );
    // An error in the rest of the file keeps the index it has there (the batch deployment
    // before it is taken out for validation).
    rejects(
        |s| {
            let parts: Vec<&str> = s.split("[[deployment]]").collect();
            let swapped = format!(
                "{}[[deployment]]{}\n[[deployment]]{}",
                parts[0], parts[2], parts[1]
            );
            swapped.replace("output_per_1m = 8.0 }", "output_per_1m = -8.0 }")
        },
        "deployment[1].on_demand.output_per_1m",
        "got -8",
    );
}

/// `BATCH` (24 h window, 30 min turnaround: $0.252 of batch jobs over the 6 h, derived by hand
/// above) with the chat class on a reserved deployment first, for the commands that size it.
fn with_reserved(dir: &Path) -> std::path::PathBuf {
    let text = BATCH
        .replace("WINDOW", "24")
        .replace("TURNAROUND", "0.5")
        .replace(
            "route = [\"paygo\"]",
            "route = [\"ptu\", \"paygo\"]\nsla = { ttft_ms = 1000, percentile = 99 }",
        )
        + r#"
[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 300 }
reserved = { units = 1, tpm_per_unit = 100000, output_weight = 1, concurrency_per_unit = 4, term = "monthly", price_per_unit_hour = { monthly = 1.0, hourly = 2.0 } }

[frontier]
units = { ptu = [1, 2] }
"#;
    write(dir, "batch_reserved.toml", &text)
}

#[test]
fn plan_frontier_and_sweep_give_the_batch_jobs_beside_every_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = with_reserved(tmp.path());
    // The same batch bill per month in plan and frontier: $0.252 x 730 / 6 h = $30.66.
    let per_month = 0.252 * 730.0 / 6.0;
    for (command, json, md) in [
        ("plan", "plan.json", "plan.md"),
        ("frontier", "frontier.json", "frontier.md"),
    ] {
        let out = tmp.path().join(command);
        command_ok(command, &sc, &out, &[]);
        let b = &read_json(&out.join(json))["batch"];
        let got = b["usd_per_month"].as_f64().unwrap();
        assert!((got - per_month).abs() < 1e-9, "{command}: {got}");
        assert!((b["cost_usd"].as_f64().unwrap() - 0.252).abs() < 1e-12);
        assert_eq!(b["classes"][0]["completed"], 140.0, "{command}");
        let text = std::fs::read_to_string(out.join(md)).unwrap();
        assert!(
            text.contains("## Batch jobs (the same in every configuration)")
                && text.contains("It adds $30.66 per month ($0.25 over the simulated 6 h"),
            "{command}: {text}"
        );
    }
    // A sweep of the reserved units leaves the jobs as they are: one aside, no rows by point.
    let out = tmp.path().join("units");
    let units = ["--key", "deployment.ptu.reserved.units", "--values", "1,2"];
    command_ok("sweep", &sc, &out, &units);
    let s = read_json(&out.join("sweep.json"));
    assert!((s["batch"]["cost_usd"].as_f64().unwrap() - 0.252).abs() < 1e-12);
    assert!(s.get("batch_by_point").is_none(), "{s}");
    // A sweep of the batch input price changes them: 140 x (1,000 x $2 + 200 x $4) / 1e6 =
    // $0.392 at the second point.
    let out = tmp.path().join("price");
    let price = [
        "--key",
        "deployment.jobs.batch.input_per_1m",
        "--values",
        "1,2",
    ];
    command_ok("sweep", &sc, &out, &price);
    let s = read_json(&out.join("sweep.json"));
    let by_point: Vec<f64> = (s["batch_by_point"].as_array().unwrap().iter())
        .map(|b| b["cost_usd"].as_f64().unwrap())
        .collect();
    assert_eq!(by_point.len(), 2);
    assert!((by_point[0] - 0.252).abs() < 1e-12 && (by_point[1] - 0.392).abs() < 1e-12);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("| 2 | $0.39 | $47.69 | 140 | 0 |"),
        "{report}"
    );
}

#[test]
fn the_ladder_gives_each_months_batch_jobs_at_its_growth() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(with_reserved(tmp.path()))
        .unwrap()
        .replace(
            "arrivals = { process = \"deterministic\", mean_rps = 0.0078125 }",
            "arrivals = { process = \"deterministic\", mean_rps = 0.0078125, growth = { monthly = 0.5 } }",
        );
    let sc = write(tmp.path(), "ladder.toml", &text);
    let out = tmp.path().join("ladder");
    command_ok("plan", &sc, &out, &["--ladder", "--months", "12"]);
    let months = read_json(&out.join("ladder.json"))["batch_by_month"].clone();
    let cost = |m: usize| months[m]["cost_usd"].as_f64().unwrap();
    assert_eq!(months.as_array().unwrap().len(), 12);
    // Month 1, 730 h: an arrival every 128 s; the hourly jobs up to 729 h (the 730th tick is
    // the month's end) hold the arrivals up to 2,624,400 s, k <= 20,503, each done 30 min later
    // inside the month: 20,503 x $0.0018. Month 2 at 1.5x: every 85.33 s, k <= 30,754.
    assert!((cost(0) - 20_503.0 * 0.0018).abs() < 1e-9, "{}", cost(0));
    assert!((cost(1) - 30_754.0 * 0.0018).abs() < 1e-9, "{}", cost(1));
    let md = std::fs::read_to_string(out.join("ladder.md")).unwrap();
    assert!(
        md.contains("## Batch jobs by month (the same beside every way)"),
        "{md}"
    );
    assert!(
        md.contains("| 1 | 2026-01-05 | $36.91 | 20,531 | 20,503 | 0 |"),
        "{md}"
    );
}
