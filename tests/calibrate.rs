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
                !m.requests.is_empty() || !m.windows.is_empty(),
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
