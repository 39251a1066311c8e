//! `llmcap calibrate` end to end through the binary: files written, the same inputs give the same
//! bytes, and the calibration file works on a deployment (the fit itself is tested in
//! sim/analysis/calibrate/tests.rs, bad input in tests/bad_input).

use std::io::Write;
use std::path::Path;

use llmcap::domain::measurement::MeasurementFormat as F;
use llmcap::input::measurements::read;

use crate::common::{llmcap, write};

/// A per-request CSV at two concurrency levels, made up: TTFT = s × (250 + 0.2 × input) ms with a
/// deterministic spread, start times 0.5 s apart.
fn measurements() -> String {
    let mut text = String::from("start_s,ttft_ms,input_tokens,output_tokens,status,concurrency\n");
    let mut x: u64 = 12345;
    for (level, slow, t0) in [(2, 1.0, 0.0), (8, 1.6, 1000.0)] {
        for i in 0..200 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let input = 500 + (i * 37) % 3000;
            let ttft = slow * (250.0 * (0.6 * (u - 0.5)).exp() + 0.2 * input as f64);
            let status = if i % 50 == 49 { "429" } else { "200" };
            let ttft = if status == "429" {
                String::new()
            } else {
                format!("{ttft:.1}")
            };
            text.push_str(&format!(
                "{:.1},{ttft},{input},100,{status},{level}\n",
                t0 + i as f64 * 0.5
            ));
        }
    }
    text
}

#[test]
fn calibrate_writes_its_files_repeatably_and_the_fragment_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "m.csv", &measurements());
    let run = |out: &str| {
        llmcap()
            .args([
                "calibrate",
                csv.to_str().unwrap(),
                "--format",
                "csv",
                "--deployment",
                "paygo",
                "--out",
            ])
            .arg(dir.path().join(out))
            .assert()
            .success();
    };
    run("a");
    run("b");
    for f in [
        "calibration.toml",
        "calibrate.md",
        "calibrate.png",
        "llmcap-manifest.json",
    ] {
        assert!(dir.path().join("a").join(f).is_file(), "{f} missing");
    }
    for f in ["calibration.toml", "calibrate.md", "calibrate.png"] {
        let a = std::fs::read(dir.path().join("a").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs on the same input");
    }
    let md = std::fs::read_to_string(dir.path().join("a/calibrate.md")).unwrap();
    for words in [
        "latency.prefill_ms_per_1k_input",
        "Holdout: predicted against measured",
        "| 429",
    ] {
        assert!(md.contains(words), "calibrate.md lacks {words}:\n{md}");
    }
    let scenario = write(
        dir.path(),
        "s.toml",
        r#"[scenario]
horizon_hours = 1

[[class]]
name = "chat"
model = "m"
route = ["paygo"]
arrivals = { mean_rps = 1.0 }
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 100 }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
calibration = "a/calibration.toml"
on_demand = { input_per_1m = 1, output_per_1m = 2 }
"#,
    );
    llmcap()
        .args(["validate", scenario.to_str().unwrap()])
        .assert()
        .success();
}

/// Every public measurement file of each format reads (SKIPPED without ../shared/measurements).
#[test]
fn public_measurements_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/measurements");
    if !root.is_dir() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED public_measurements_read: needs {} (public data, not in the repository)",
            root.display()
        );
        return;
    }
    let mut seen = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let format = if name.starts_with("raw_data_individual_") {
                F::Llmperf
            } else if name.contains("_throughput_clients=") {
                F::AzureBenchmark
            } else if name.contains("benchmarks_stripped.") && !name.ends_with(".txt") {
                F::Guidellm
            } else {
                continue;
            };
            let m = read(&f, format).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !m.requests.is_empty() || !m.windows.is_empty() || !m.summaries.is_empty(),
                "{name}: nothing read"
            );
            if format == F::Llmperf {
                assert!(m.requests.iter().all(|r| r.level == Some(5.0)), "{name}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 19 + 16 + 2, "{seen} files read");
}

/// GuideLLM's own test fixture keeps 1 per-request row of 46 served requests, so it is read as
/// statistics (one level summary) and the fit reproduces the percentiles it reports: p50
/// 16.4 ms within 1%, p90 18.5 ms and p99 21.3 ms within 10% (SKIPPED without
/// ../shared/measurements).
#[test]
fn guidellm_fixture_is_fitted_from_its_statistics() {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/measurements/vllm-project__guidellm");
    if !root.is_dir() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED guidellm_fixture_is_fitted_from_its_statistics: needs {} (public data, not in the repository)",
            root.display()
        );
        return;
    }
    for ext in ["json", "yaml"] {
        let f = root.join(format!(
            "tests_unit_entrypoints_assets_benchmarks_stripped.{ext}"
        ));
        let m = read(&f, F::Guidellm).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            m.requests.is_empty(),
            "{ext}: the one kept row is a sample, not used"
        );
        assert_eq!(m.summaries.len(), 1);
        assert_eq!(m.summaries[0].served, 46);
        let opts = llmcap::analysis::calibrate::Options {
            deployment: "fixture".into(),
            holdout: 0.2,
            units: None,
            output_weight: 1.0,
            seed: 1,
        };
        let c =
            llmcap::analysis::calibrate::calibrate(&[m], &opts).unwrap_or_else(|e| panic!("{e}"));
        let (b, q) = (&c.base, &c.base.quantiles);
        let reported = |p: f64| q.iter().find(|x| x.0 == p).map(|x| x.1).unwrap();
        assert!((reported(0.5) - 16.38).abs() < 0.01, "{q:?}");
        assert!(
            (b.median_ms.value - 16.4).abs() / 16.4 < 0.01,
            "{:?}",
            b.median_ms
        );
        assert!(
            b.median_ms.lo < 16.4 && 16.4 < b.median_ms.hi,
            "{:?}",
            b.median_ms
        );
        let fitted_p90 = b.median_ms.value * (b.sigma * 1.281_551_6).exp();
        assert!((fitted_p90 - 18.5).abs() / 18.5 < 0.10, "p90 {fitted_p90}");
        assert!(
            (b.p99_ms.value - 21.3).abs() / 21.3 < 0.10,
            "{:?}",
            b.p99_ms
        );
        assert!(c.load.is_none() && c.holdout.is_empty());
    }
}

/// Statistics only, through the binary: a made-up GuideLLM report of three benchmarks without
/// per-request rows; calibrate.md says where the numbers came from and what was held out.
#[test]
fn calibrate_reads_a_statistics_only_guidellm_report() {
    let dir = tempfile::tempdir().unwrap();
    let bench = |c: f64, rps: f64, scale: f64| {
        let q = [
            40.0, 41.0, 42.0, 44.0, 47.0, 50.0, 54.0, 60.0, 64.0, 70.0, 75.0,
        ];
        let keys = [
            "p001", "p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p999",
        ];
        let pct: Vec<String> = keys
            .iter()
            .zip(q)
            .map(|(k, v)| format!("\"{k}\": {}", v * scale))
            .collect();
        format!(
            r#"{{"metrics": {{"request_totals": {{"successful": 200, "errored": 1}},
 "time_to_first_token_ms": {{"successful": {{"median": {}, "count": 200, "percentiles": {{{}}}}}}},
 "request_concurrency": {{"successful": {{"mean": {c}}}}}, "requests_per_second": {{"successful": {{"mean": {rps}}}}},
 "prompt_token_count": {{"successful": {{"mean": 512}}}}, "output_token_count": {{"successful": {{"mean": 64}}}}}}}}"#,
            50.0 * scale,
            pct.join(", ")
        )
    };
    let report = format!(
        "{{\"benchmarks\": [{}, {}, {}]}}",
        bench(1.0, 10.0, 1.0),
        bench(4.0, 30.0, 1.35),
        bench(8.0, 45.0, 1.9)
    );
    let f = write(dir.path(), "sweep.json", &report);
    llmcap()
        .args([
            "calibrate",
            f.to_str().unwrap(),
            "--format",
            "guidellm",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .assert()
        .success();
    let md = std::fs::read_to_string(dir.path().join("out/calibrate.md")).unwrap();
    for words in [
        "3 level summaries",
        "parametric bootstrap",
        "Whole load levels were left out",
        "| 4 concurrent requests | 200 | p50 |",
        "one mean prompt length per load level",
        "on_demand.shared_pool_tpm",
    ] {
        assert!(md.contains(words), "calibrate.md lacks {words}:\n{md}");
    }
}
