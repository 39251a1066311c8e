//! `llmcap fit` on the public traces in ../shared/traces, from the command line: fit.json, fit.toml and fit.md checked against the trace itself.

use std::path::{Path, PathBuf};

use crate::common::{command_ok, llmcap, public_trace, read_json, write};
use serde_json::Value;

/// Runs `llmcap fit TRACE --format FORMAT --out DIR/NAME` and returns the folder.
fn fit(trace: &Path, format: &str, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    llmcap()
        .arg("fit")
        .arg(trace)
        .args(["--format", format, "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The quantile at percentile `p` of a token fit in fit.json (`quantiles` holds `[p, tokens]`).
fn quantile(tokens: &Value, p: f64) -> f64 {
    let q = tokens["quantiles"].as_array().unwrap();
    let hit = q.iter().find(|e| f64_of(&e[0]) == p);
    f64_of(&hit.unwrap_or_else(|| panic!("no p{p} in {q:?}"))[1])
}

fn median_of(mut v: Vec<u32>) -> f64 {
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

/// Token columns of an Azure trace (TIMESTAMP, ContextTokens, GeneratedTokens), read
/// with the csv crate: not llmcap's reader.
fn azure_tokens(path: &Path) -> (Vec<u32>, Vec<u32>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (
                row[1].trim().parse::<u32>().unwrap(),
                row[2].trim().parse::<u32>().unwrap(),
            )
        })
        .unzip()
}

/// The Azure 2023 conversation trace: counts, span, rate, burstiness and token quantiles in
/// fit.json agree with the trace read independently.
#[test]
fn azure_conversation_trace() {
    let Some(path) = public_trace("azure2023_conv.csv", "fit::azure_conversation_trace") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let f = read_json(&fit(&path, "azure", tmp.path(), "conv").join("fit.json"));
    assert_eq!(f["requests"], 19_366);
    assert_eq!(f["bad_rows"]["total"], 0);
    assert_eq!(f["wall_clock"], true);
    assert_eq!(f["first_utc"], "2023-11-16 18:15:46");
    assert_eq!(f["last_utc"], "2023-11-16 19:14:08");
    // 19,366 requests over 3,501.7 s.
    assert!(
        (f64_of(&f["span_s"]) - 3501.72).abs() < 0.01,
        "{}",
        f["span_s"]
    );
    let a = &f["arrivals"];
    assert!((f64_of(&a["mean_rps"]) - 5.5304).abs() < 1e-3);
    assert_eq!(a["intervals"], 58);
    // Every request but those of the last, partial minute.
    let counted: u64 = a["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert!((19_000..19_366).contains(&counted), "{counted}");
    let idc = f64_of(&a["index_of_dispersion"]);
    assert!(idc > 5.0, "{idc}");
    let k = f64_of(&a["overdispersion"]);
    assert!((k - (idc - 1.0) / f64_of(&a["count_mean"])).abs() < 1e-12);
    assert!(a["hourly"].is_null());
    assert!(a["hourly_note"].as_str().unwrap().contains("58.4 minutes"));

    let (inp, out) = azure_tokens(&path);
    assert_eq!(inp.len(), 19_366);
    let (ti, to) = (&f["input_tokens"], &f["output_tokens"]);
    assert_eq!(ti["max"], *inp.iter().max().unwrap());
    assert_eq!(to["max"], *out.iter().max().unwrap());
    let mean = inp.iter().map(|&v| v as f64).sum::<f64>() / inp.len() as f64;
    assert!((f64_of(&ti["mean"]) - mean).abs() < 1e-9);
    assert_eq!(quantile(ti, 50.0), median_of(inp));
    assert_eq!(quantile(to, 50.0), median_of(out));
    assert_eq!(ti["lognormal"]["median"], 1020.0);
    assert_eq!(to["lognormal"]["median"], 129.0);
    for t in [ti, to] {
        assert_eq!(t["reservoir"], false);
        assert_eq!(t["sampled"], 19_366);
        let ks = f64_of(&t["lognormal"]["ks"]);
        assert!(ks > 0.0 && ks < 0.5, "{ks}");
        let ks_emp = f64_of(&t["ks_empirical"]);
        assert!(ks_emp > 0.0 && ks_emp < ks, "{ks_emp} vs {ks}");
        let q: Vec<f64> = t["quantiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| f64_of(&e[1]))
            .collect();
        assert!(q.windows(2).all(|w| w[0] <= w[1]), "{q:?}");
        assert_eq!(q[0], f64_of(&t["min"]));
        assert_eq!(q[q.len() - 1], f64_of(&t["max"]));
    }
}

/// The Azure 2023 code trace is much burstier (whole idle minutes); every file is written and
/// fit.md says so.
#[test]
fn azure_code_trace_is_bursty_and_every_file_is_written() {
    let Some(path) = public_trace("azure2023_code.csv", "fit::azure_code_trace_is_bursty") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = fit(&path, "azure", tmp.path(), "code");
    for file in llmcap::report::fit::FIT_FILES {
        let len = std::fs::metadata(dir.join(file)).unwrap().len();
        assert!(len > 500, "{file}: {len} bytes");
    }
    let f = read_json(&dir.join("fit.json"));
    assert!(f["manifest"]["llmcap_version"].is_string());
    assert_eq!(f["requests"], 8_819);
    let a = &f["arrivals"];
    assert_eq!(a["interval_s"], 60);
    assert!((f64_of(&a["mean_rps"]) - 2.567).abs() < 0.01);
    assert!(f64_of(&a["index_of_dispersion"]) > 50.0);
    assert!(f64_of(&a["overdispersion"]) > 0.5);
    assert!(a["counts"].as_array().unwrap().contains(&Value::from(0)));
    let (inp, out) = azure_tokens(&path);
    assert_eq!(quantile(&f["input_tokens"], 50.0), median_of(inp));
    assert_eq!(quantile(&f["output_tokens"], 50.0), median_of(out));
    let md = std::fs::read_to_string(dir.join("fit.md")).unwrap();
    assert!(md.contains("![trace against fit](fit.png)"), "{md}");
    assert!(md.contains("bursty"), "{md}");
    assert!(md.contains("8,819"), "{md}");
}

/// The Mooncake conversation trace (JSON lines, times in ms from 0): counts, span and medians
/// as the file holds them.
#[test]
fn mooncake_trace() {
    let Some(path) = public_trace("mooncake_fast25_conversation.jsonl", "fit::mooncake_trace")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let f = read_json(&fit(&path, "mooncake", tmp.path(), "mc").join("fit.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(f["requests"], rows.len() as u64);
    assert_eq!(f["wall_clock"], false);
    assert!(f["first_utc"].is_null());
    let last = f64_of(&rows.last().unwrap()["timestamp"]) / 1000.0;
    assert!((f64_of(&f["span_s"]) - last).abs() < 1e-9);
    let rate = f64_of(&f["arrivals"]["mean_rps"]);
    assert!((rate - rows.len() as f64 / last).abs() < 1e-12);
    let col =
        |k: &str| -> Vec<u32> { rows.iter().map(|r| r[k].as_u64().unwrap() as u32).collect() };
    assert_eq!(
        quantile(&f["input_tokens"], 50.0),
        median_of(col("input_length"))
    );
    assert_eq!(
        quantile(&f["output_tokens"], 50.0),
        median_of(col("output_length"))
    );
}

/// `fit.toml` under a minimal scenario header and the deployment its route names.
fn scenario_around(class: &str, hours: u32) -> String {
    format!(
        "[scenario]\nhorizon_hours = {hours}\nseed = 11\n\n[[deployment]]\nname = \"{}\"\nplatform = \"custom\"\nmodel = \"{}\"\nlatency = {{ median_ms = 400, p99_ms = 1200 }}\non_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}\n\n{class}",
        llmcap::report::fit::PLACEHOLDER_DEPLOYMENT,
        llmcap::report::fit::PLACEHOLDER_MODEL
    )
}

/// fit.toml with its commented empirical alternative switched on.
fn empirical_variant(toml: &str) -> String {
    toml.lines()
        .filter(|l| {
            !(l.starts_with("dist = \"lognormal\"")
                || l.starts_with("median = ")
                || l.starts_with("p90 = "))
        })
        .map(|l| {
            l.strip_prefix("# dist = ")
                .map(|r| format!("dist = {r}"))
                .or_else(|| {
                    l.strip_prefix("# quantiles = ")
                        .map(|r| format!("quantiles = {r}"))
                })
                .unwrap_or_else(|| l.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// For each public trace that is there: fit.toml, and its commented empirical alternative, are
/// classes `llmcap validate` accepts.
#[test]
fn fit_toml_of_every_public_trace_validates() {
    let tmp = tempfile::tempdir().unwrap();
    for (file, format) in [
        ("azure2023_conv.csv", "azure"),
        ("azure2023_code.csv", "azure"),
        ("mooncake_fast25_conversation.jsonl", "mooncake"),
    ] {
        let Some(path) = public_trace(file, "fit::fit_toml_of_every_public_trace_validates") else {
            continue;
        };
        let dir = fit(&path, format, tmp.path(), file);
        let toml = std::fs::read_to_string(dir.join("fit.toml")).unwrap();
        assert!(toml.contains("# dist = \"empirical\""), "{file}: {toml}");
        for (name, class) in [
            ("lognormal", toml.clone()),
            ("empirical", empirical_variant(&toml)),
        ] {
            let sc = write(
                tmp.path(),
                &format!("{file}-{name}.toml"),
                &scenario_around(&class, 1),
            );
            llmcap().arg("validate").arg(&sc).assert().success();
        }
    }
}

/// Simulating the fitted class regenerates the Azure conversation trace's rate and mean tokens
/// per request: 24 h of the fit.toml class, compared with fit.json.
#[test]
fn simulating_the_fit_regenerates_the_azure_conversation_trace() {
    let test = "fit::simulating_the_fit_regenerates_the_azure_conversation_trace";
    let Some(path) = public_trace("azure2023_conv.csv", test) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = fit(&path, "azure", tmp.path(), "conv");
    let f = read_json(&dir.join("fit.json"));
    let toml = std::fs::read_to_string(dir.join("fit.toml")).unwrap();
    let sc = write(tmp.path(), "conv.toml", &scenario_around(&toml, 24));
    let run = tmp.path().join("run");
    command_ok("run", &sc, &run, &[]);
    let s = read_json(&run.join("summary.json"));
    let c = &s["classes"][0];
    // k = 0.046 per minute: over 24 h the rate's sd is sqrt(k / 1440) = 0.6%; 3% is 5 sd.
    let rate = f64_of(&c["requests"]["arrived"]) / (24.0 * 3600.0);
    let want = f64_of(&f["arrivals"]["mean_rps"]);
    assert!(
        (rate / want - 1.0).abs() < 0.03,
        "simulated {rate} req/s, trace {want}"
    );
    // Mean tokens per request against the fitted lognormal's mean (capped at max).
    for (sim, fitted) in [
        ("mean_input_tokens", "input_tokens"),
        ("mean_output_tokens", "output_tokens"),
    ] {
        let per = f64_of(&c[sim]);
        let want = f64_of(&f[fitted]["lognormal"]["mean"]);
        assert!((per / want - 1.0).abs() < 0.02, "{sim}: {per} vs {want}");
    }
}
