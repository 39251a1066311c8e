//! `llmcap pick`: the lesson's profiles give the answers the simulations support; bad profiles get clear answers or errors.

use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::common::{entries, llmcap, read_json, write};

fn profile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/profiles")
        .join(name)
}

/// Runs `llmcap pick` on a short horizon; returns (exit code, pick.md, pick.json).
fn pick(profile: &Path, out: &Path, extra: &[&str]) -> (i32, String, serde_json::Value) {
    let o = llmcap()
        .args([
            "pick",
            profile.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(extra)
        .output()
        .unwrap();
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "pick exited {code}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let md = std::fs::read_to_string(out.join("pick.md")).unwrap();
    (code, md, read_json(&out.join("pick.json")))
}

fn workload<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"] == name)
        .unwrap_or_else(|| panic!("workload {name} in pick.json"))
}

fn chosen<'a>(w: &'a serde_json::Value, which: &str) -> &'a serde_json::Value {
    let i = w[which]
        .as_u64()
        .unwrap_or_else(|| panic!("{which} chosen: {w:#}"));
    &w["evaluations"][i as usize]["route"]
}

#[test]
fn claude_and_gpt4o_is_bedrock_plus_azure_failing_over_to_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let (code, md, json) = pick(
        &profile("claude_and_gpt4o.toml"),
        &out,
        &["--horizon-hours", "24", "--replications", "2"],
    );
    assert_eq!(code, 0, "{md}");
    assert_eq!(
        entries(&out),
        [
            "design.toml",
            "litellm_config.yaml",
            "llmcap-manifest.json",
            "pick.json",
            "pick.md"
        ],
        "the files pick writes"
    );
    // The design's routing as a LiteLLM config, which imports back to a valid scenario.
    let imported = dir.path().join("imported.toml");
    crate::common::llmcap()
        .args(["import", "litellm"])
        .arg(out.join("litellm_config.yaml"))
        .arg("--traffic")
        .arg(out.join("design.toml"))
        .arg("--quiet")
        .arg("--out")
        .arg(&imported)
        .assert()
        .success();
    crate::common::llmcap()
        .args(["validate"])
        .arg(&imported)
        .assert()
        .success();
    let support = workload(&json, "support");
    assert_eq!(chosen(support, "primary")["platform"], "bedrock");
    assert_eq!(chosen(support, "primary")["model"], "claude-sonnet-4-6");
    assert_eq!(chosen(support, "fallback")["platform"], "azure-openai");
    let coding = workload(&json, "coding");
    assert_eq!(chosen(coding, "primary")["platform"], "azure-openai");
    assert_eq!(chosen(coding, "primary")["model"], "gpt-4o");
    assert_eq!(chosen(coding, "fallback")["platform"], "bedrock");
    // Vendor APIs are excluded by the profile's platform_kinds, with the reason.
    assert!(md.contains("the profile allows only hyperscaler"), "{md}");
    // The second provider is worth something during the injected outages.
    let d = &json["design"];
    let with = d["with_fallback"]["availability"]["mean"].as_f64().unwrap();
    let without = d["single_provider"]["availability"]["mean"]
        .as_f64()
        .unwrap();
    assert!(with > without + 0.01, "availability {with} vs {without}");
    assert!(
        with > 0.999,
        "with the fallback nearly nothing is lost: {with}"
    );
    // The design replays as a scenario.
    let run = dir.path().join("run");
    llmcap()
        .args(["run", out.join("design.toml").to_str().unwrap()])
        .args(["--out", run.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let s = read_json(&run.join("summary.json"));
    let a = s["resilience"]["availability"]["mean"].as_f64().unwrap();
    assert!(
        (a - with).abs() < 1e-9,
        "design.toml replays: {a} vs {with}"
    );
    // The routing policy quotes the gateway the design simulated.
    let design = std::fs::read_to_string(out.join("design.toml")).unwrap();
    let c = llmcap::analysis::pick::CLIENT;
    assert!(
        design.contains(&format!("cooldown_failures = {}", c.cooldown_failures)),
        "{design}"
    );
    assert!(
        md.contains(&format!(
            "{} failures in {} s cool a deployment down for {} s",
            c.cooldown_failures, c.cooldown_window_s, c.cooldown_s
        )),
        "{md}"
    );
    // Sections a planner needs are there.
    for section in [
        "## Answer",
        "## Capacity plan",
        "## Routing policy",
        "## FinOps instrumentation plan",
        "application inference profiles",
        "## Availability under the outage assumptions",
        "## Simulated evidence",
        "## Excluded platforms",
    ] {
        assert!(md.contains(section), "pick.md lacks {section}");
    }
}

#[test]
fn healthcare_under_100ms_is_answered_as_unmeetable() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let (code, md, json) = pick(
        &profile("healthcare_us_east.toml"),
        &out,
        &["--horizon-hours", "6", "--replications", "2"],
    );
    assert_eq!(code, 1, "no recommendation exits 1");
    let w = workload(&json, "clinical-notes");
    assert_eq!(w["verdict"]["kind"], "no-configuration-meets-sla");
    assert!(md.contains("no recommendation"), "{md}");
    assert!(md.contains("no amount of capacity fixes it"), "{md}");
    // Every platform the simulations tried was inside US East with a BAA;
    // global deployments were excluded for residency.
    for e in w["evaluations"].as_array().unwrap() {
        for id in [&e["route"]["on_demand"], &e["route"]["reserved"]] {
            if let Some(id) = id.as_str() {
                assert!(!id.contains("global"), "{id} is not US East");
            }
        }
    }
    assert!(md.contains("| data residency |"), "{md}");
    assert!(
        !out.join("design.toml").exists(),
        "no design without a recommendation"
    );
}

#[test]
fn a_us_east_requirement_is_not_met_by_a_us_cross_region_profile() {
    // healthcare_us_east's needs with an SLA some offering meets and Claude Sonnet 4 alone,
    // judged on a day Bedrock still sold it: Bedrock's US cross-region profile (listed at
    // us-east-1, serving anywhere in the US) does not keep data in US East.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(profile("healthcare_us_east.toml"))
        .unwrap()
        .replace("sla = \"p99<100ms\"", "sla = \"p99<=5s\"")
        .replace("model = \"gpt-4o\"", "model = \"claude-sonnet-4\"")
        .replace(
            "alternatives = [\"claude-sonnet-4-6\", \"claude-sonnet-4\"]",
            "",
        );
    let p = write(dir.path(), "hc.toml", &text);
    let (code, md, json) = pick(
        &p,
        &dir.path().join("out"),
        &[
            "--as-of",
            "2026-03-01",
            "--horizon-hours",
            "6",
            "--replications",
            "2",
        ],
    );
    assert_eq!(code, 0, "{md}");
    let w = &json["workloads"][0];
    assert_eq!(chosen(w, "primary")["platform"], "vertex-ai", "{md}");
    assert!(
        md.contains("| clinical-notes | bedrock | data residency | Amazon Bedrock sells claude-sonnet-4 only in us-east-1 (geography scope: any region of us)"),
        "{md}"
    );
    // A US-wide requirement is met by the same profile.
    let p = write(
        dir.path(),
        "us.toml",
        &text.replace("residency = \"us-east\"", "residency = \"us\""),
    );
    let (_, md, json) = pick(
        &p,
        &dir.path().join("us"),
        &[
            "--as-of",
            "2026-03-01",
            "--horizon-hours",
            "6",
            "--replications",
            "2",
        ],
    );
    let routes: Vec<&serde_json::Value> = json["workloads"][0]["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["route"]["platform"])
        .collect();
    assert!(routes.iter().any(|p| *p == "bedrock"), "{md}");
}

#[test]
fn claude_100m_tokens_direct_vs_bedrock() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let (code, md, json) = pick(
        &profile("claude_100m_tokens.toml"),
        &out,
        &["--horizon-hours", "24", "--replications", "2"],
    );
    assert_eq!(code, 0, "{md}");
    let w = workload(&json, "claude");
    let cost = |platform: &str| {
        w["evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["route"]["platform"] == platform)
            .map(|e| e["on_demand"]["monthly_usd"]["mean"].as_f64().unwrap())
            .unwrap_or_else(|| panic!("{platform} simulated"))
    };
    // The question's Claude 3.7 Sonnet is retired: the profile names its successor on sale.
    assert_eq!(chosen(w, "primary")["model"], "claude-sonnet-4-6");
    assert!(!md.contains("serving claude-3-7-sonnet"), "{md}");
    // Same simulated traffic; Bedrock's US (geographic) profile lists 10% above the Claude
    // API's $3 / $15 per 1M: a bill 10% higher, about 100M tokens' worth.
    let (direct, bedrock) = (cost("anthropic"), cost("bedrock"));
    assert!(
        (bedrock / direct - 1.1).abs() < 1e-6,
        "{direct} vs {bedrock}"
    );
    assert!(
        direct > 300.0 && direct < 900.0,
        "100M tokens/month of Claude Sonnet on demand: {direct}"
    );
    // Bedrock PT for Claude has no public price: said, and no other model's reserved price
    // (Bedrock's Llama 2 units) is compared with this workload's bill.
    assert!(
        md.contains("no public reserved price for claude-sonnet-4-6 on bedrock"),
        "{md}"
    );
    assert!(!md.contains("llama-2-70b-chat"), "{md}");
}

#[test]
fn llama_70b_lists_breakevens_per_term() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let (code, md, json) = pick(
        &profile("llama_70b_breakeven.toml"),
        &out,
        &["--horizon-hours", "4", "--replications", "2"],
    );
    assert_eq!(code, 0, "{md}");
    let w = workload(&json, "batch-chat");
    let be: Vec<&serde_json::Value> = w["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["breakeven"].as_array().unwrap())
        .collect();
    let find = |offering: &str, term: &str| {
        be.iter()
            .find(|b| b["offering"] == offering && b["term"] == term)
            .and_then(|b| b["utilization"].as_f64())
            .unwrap_or_else(|| panic!("break-even {offering} {term}"))
    };
    // The closed form the break-even docs report (docs/breakeven.md): the
    // Llama 2 70B 6-month term is the only one in reach.
    let six = find("bedrock/llama-2-70b-chat/provisioned", "6-month");
    assert!(six > 0.6 && six < 1.0, "6-month {six}");
    assert!(find("bedrock/llama-2-70b-chat/provisioned", "1-month") > 1.0);
    assert!(find("azure-openai/llama-3.3-70b/global-provisioned", "hourly") > 1.0);
    assert!(md.contains("the reference band 40–60%"), "{md}");
    assert!(!md.contains("lesson"), "{md}");
}

const BASE: &str = r#"
[profile]
name = "bad"
sla = "p99<=5s"

[simulation]
horizon_hours = 2
replications = 2

[[workload]]
name = "w"
model = "claude-sonnet-4-6"
requests_per_day = 20000
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 100 }
"#;

#[test]
fn answers_for_profiles_nobody_can_serve() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // (An unknown residency such as "mars" is refused before simulating:
        // limits::an_unknown_residency_is_refused_before_simulating.)
        (
            BASE.replace("[simulation]", "residency = \"apac\"\n[simulation]")
                .replace("sla = ", "baa = true\nsla = "),
            "no-compliant-platform",
            "none inside \"apac\"",
        ),
        (
            BASE.replace("p99<=5s", "p99<=10ms"),
            "no-configuration-meets-sla",
            "no simulated configuration meets p99 <= 10 ms",
        ),
    ];
    for (i, (text, kind, says)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("p{i}.toml"), text);
        let out = dir.path().join(format!("out{i}"));
        let (code, md, json) = pick(&p, &out, &[]);
        assert_eq!(code, 1, "case {i}");
        assert_eq!(json["workloads"][0]["verdict"]["kind"], *kind, "case {i}");
        assert!(md.contains(says), "case {i}: pick.md lacks {says:?}:\n{md}");
    }
}

#[test]
fn retired_offerings_are_excluded_with_their_date_and_deprecated_ones_rank_last() {
    let dir = tempfile::tempdir().unwrap();
    let old = BASE.replace("claude-sonnet-4-6", "claude-3-7-sonnet");
    let p = write(dir.path(), "old.toml", &old);
    // On the catalog's as-of date Claude 3.7 Sonnet is retired everywhere: no answer, and
    // each platform's retirement date under Excluded.
    let (code, md, json) = pick(&p, &dir.path().join("now"), &[]);
    assert_eq!(code, 1, "{md}");
    assert_eq!(json["workloads"][0]["verdict"]["kind"], "no-model");
    assert!(md.contains("claude-3-7-sonnet is no longer sold"), "{md}");
    assert!(
        md.contains("| w | anthropic | retired | Anthropic Claude API retired claude-3-7-sonnet on 2026-02-19"),
        "{md}"
    );
    assert!(
        md.contains("retired claude-3-7-sonnet on 2026-04-28"),
        "{md}"
    );
    assert!(
        md.contains("Offerings on sale on 2026-11-30 (the catalog's as-of date)"),
        "{md}"
    );
    // Judged on a day both still sold it, it is recommended; between the two dates, only Bedrock.
    let (code, md, json) = pick(&p, &dir.path().join("jan"), &["--as-of", "2026-01-15"]);
    assert_eq!(code, 0, "{md}");
    assert_eq!(
        chosen(&json["workloads"][0], "primary")["model"],
        "claude-3-7-sonnet"
    );
    assert!(
        md.contains("Offerings on sale on 2026-01-15 (--as-of)"),
        "{md}"
    );
    let (_, md, json) = pick(&p, &dir.path().join("mar"), &["--as-of", "2026-03-01"]);
    assert_eq!(
        chosen(&json["workloads"][0], "primary")["platform"],
        "bedrock",
        "{md}"
    );
    // Claude Sonnet 4 on 2026-05-01: deprecated on the Claude API and Bedrock (2026-04-14),
    // available on Vertex AI, which is primary although Bedrock starts faster at the same
    // price; the fallback's answer line states its dates.
    let p = write(
        dir.path(),
        "s4.toml",
        &BASE
            .replace("claude-sonnet-4-6", "claude-sonnet-4")
            .replace("p99<=5s", "p99<=60s"),
    );
    let (code, md, json) = pick(&p, &dir.path().join("may"), &["--as-of", "2026-05-01"]);
    assert_eq!(code, 0, "{md}");
    let w = &json["workloads"][0];
    assert_eq!(chosen(w, "primary")["platform"], "vertex-ai", "{md}");
    assert!(chosen(w, "fallback")["deprecated"].is_string(), "{md}");
    assert!(
        md.contains("claude-sonnet-4 (deprecated on 2026-04-14, retires on "),
        "{md}"
    );
    // A malformed date is refused before anything runs.
    llmcap()
        .args(["pick", p.to_str().unwrap(), "--as-of", "May 2026", "--out"])
        .arg(dir.path().join("bad"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("YYYY-MM-DD"));
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn two_provider_minimum_is_flagged_when_only_one_platform_sells_the_model() {
    let dir = tempfile::tempdir().unwrap();
    // Vertex AI and the Gemini API sell gemini-2.5-pro; among hyperscalers,
    // Vertex alone.
    let text = BASE
        .replace("claude-sonnet-4-6", "gemini-2.5-pro")
        .replace("p99<=5s", "p99<=60s")
        .replace(
            "[simulation]",
            "platform_kinds = [\"hyperscaler\"]\n[simulation]",
        );
    let p = write(dir.path(), "p.toml", &text);
    let out = dir.path().join("out");
    let (code, md, json) = pick(&p, &out, &[]);
    assert_eq!(code, 0, "{md}");
    let w = &json["workloads"][0];
    assert!(w["fallback"].is_null());
    assert!(
        md.contains("the two-provider minimum cannot be met"),
        "{md}"
    );
    // Waived: no note about it missing.
    let p = write(
        dir.path(),
        "q.toml",
        &text.replace("[simulation]", "two_provider = false\n[simulation]"),
    );
    let (_, md, _) = pick(&p, &dir.path().join("out2"), &[]);
    assert!(md.contains("waives the two-provider minimum"), "{md}");
}

#[test]
fn malformed_profiles_exit_2_naming_file_and_key_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            BASE.replace("name = \"w\"", "name = \"w\"\ncolour = 1"),
            "colour",
        ),
        (
            BASE.replace("requests_per_day = 20000", ""),
            "workload[0].requests_per_day",
        ),
        (
            BASE.replace("requests_per_day = 20000", "requests_per_day = -5"),
            "workload[0].requests_per_day",
        ),
        (
            BASE.replace(
                "input_tokens = { dist = \"fixed\", value = 1000 }",
                "input_tokens = { dist = \"lognormal\", median = 1000 }",
            ),
            "workload[0].input_tokens",
        ),
        (BASE.replace("p99<=5s", "fast"), "profile.sla"),
        (
            BASE.replace(
                "[simulation]",
                "certifications = [\"fedramp\"]\n[simulation]",
            ),
            "profile.certifications[0]",
        ),
        (
            BASE.replace("[simulation]", "platform_kinds = [\"cloud\"]\n[simulation]"),
            "profile.platform_kinds[0]",
        ),
        ("[profile]\nname = \"x\"\n".to_string(), "workload"),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let p = write(dir.path(), &format!("bad{i}.toml"), text);
        let out = dir.path().join(format!("out{i}"));
        llmcap()
            .args(["pick", p.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("bad{i}.toml")))
            .stderr(predicate::str::contains(*key));
        assert!(!out.exists(), "case {i} wrote {}", out.display());
    }
}

#[test]
fn unknown_model_names_exit_2_with_the_closest_catalog_names() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (text, key, closest)) in [
        (
            BASE.replace("claude-sonnet-4-6", "claude-3.7-sonnet"),
            "workload[0].model",
            "did you mean claude-3-7-sonnet",
        ),
        (
            BASE.replace("name = \"w\"", "name = \"w\"\nsubstitutes = [\"gpt4o\"]"),
            "workload[0].substitutes[0]",
            "did you mean gpt-4o",
        ),
    ]
    .iter()
    .enumerate()
    {
        let p = write(dir.path(), &format!("typo{i}.toml"), text);
        let out = dir.path().join(format!("out{i}"));
        llmcap()
            .args(["pick", p.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("typo{i}.toml")))
            .stderr(predicate::str::contains(*key))
            .stderr(predicate::str::contains(*closest))
            .stderr(predicate::str::contains("is sold, but").not());
        assert!(!out.exists(), "case {i} wrote {}", out.display());
    }
}

#[test]
fn same_answer_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut md = Vec::new();
    for t in ["1", "2"] {
        let out = dir.path().join(t);
        let (_, m, _) = pick(
            &profile("claude_100m_tokens.toml"),
            &out,
            &[
                "--horizon-hours",
                "6",
                "--replications",
                "3",
                "--threads",
                t,
            ],
        );
        md.push((m, std::fs::read(out.join("design.toml")).unwrap()));
    }
    assert_eq!(md[0], md[1]);
}

#[test]
fn on_demand_routes_are_simulated_and_sized_under_their_vendors_quota_shapes() {
    // Flat traffic of 2 requests/s (120 a minute) per workload, fixed tokens, a max_tokens each.
    // The needs by hand (docs/model.md 6.1 and 12.5):
    // - summaries (1,000 in, 300 out, max_tokens 1,000) on the Claude API: ITPM 120 x 1,000 =
    //   120,000 of 200,000 (kept); OTPM 120 x 1,000 = 120,000 of 80,000: simulated at 180,000;
    // - on Bedrock (burndown 5): 120 x max(1,000 + 1,000, 1,000 + 300 x 5) = 300,000 of 200,000:
    //   simulated at 450,000;
    // - extract (500 in, 50 out, max_tokens 200) on Azure: TPM 120 x 700 = 84,000; RPM per 10 s
    //   window: Poisson(20)'s 99.9th percentile, 35, is 210 a minute.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[profile]
name = "shapes"
sla = "p99<=10s"

[simulation]
horizon_hours = 2
replications = 1

[[workload]]
name = "summaries"
model = "claude-sonnet-4-6"
requests_per_day = 172800
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 300 }
max_tokens = 1000

[[workload]]
name = "extract"
model = "gpt-4o"
requests_per_day = 172800
input_tokens = { dist = "fixed", value = 500 }
output_tokens = { dist = "fixed", value = 50 }
max_tokens = 200
"#;
    let p = write(dir.path(), "shapes.toml", text);
    let out = dir.path().join("out");
    let (_, md, json) = pick(&p, &out, &[]);
    let limit = |workload: &str, offering: &str, key: &str| -> (f64, Option<f64>, String) {
        let e = workload_route(&json, workload, offering);
        let q = &e["quota"];
        let l = q["limits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["key"] == key)
            .unwrap_or_else(|| panic!("{workload} {offering} {key}: {q:#}"));
        (
            l["peak"].as_f64().unwrap(),
            l["raised"].as_f64(),
            q["shape"].as_str().unwrap().to_string(),
        )
    };
    let anthropic = "anthropic/claude-sonnet-4-6/standard";
    assert_eq!(
        limit("summaries", anthropic, "itpm"),
        (120_000.0, None, "anthropic".into())
    );
    assert_eq!(
        limit("summaries", anthropic, "otpm"),
        (120_000.0, Some(180_000.0), "anthropic".into())
    );
    assert_eq!(
        limit("summaries", "bedrock/claude-sonnet-4-6/us-cris", "tpm"),
        (300_000.0, Some(450_000.0), "bedrock".into())
    );
    let azure = workload(&json, "extract")["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["route"]["platform"] == "azure-openai")
        .expect("an Azure route")["route"]["on_demand"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(limit("extract", &azure, "tpm").0, 84_000.0);
    assert_eq!(limit("extract", &azure, "rpm").0, 210.0);
    // pick.md says, per route, the shape, the count, the need against the default and the ask.
    assert!(
        md.contains("| OTPM | max_tokens reserved per request, per minute | 120,000 | 80,000 | yes: 180,000 |"),
        "{md}"
    );
    assert!(
        md.contains("| ITPM | input tokens per minute (cache reads not counted) | 120,000 | 200,000 | no (default suffices) |"),
        "{md}"
    );
    // The generated deployments enforce the vendors' shapes, with the raised limits.
    let design = std::fs::read_to_string(out.join("design.toml")).unwrap();
    assert!(design.contains("quota = \"vendor\""), "{design}");
    assert!(design.contains("max_tokens = 1000"), "{design}");
}

/// The evaluation of `workload` whose on-demand offering is `offering`.
fn workload_route<'a>(
    json: &'a serde_json::Value,
    workload_name: &str,
    offering: &str,
) -> &'a serde_json::Value {
    workload(json, workload_name)["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["route"]["on_demand"] == offering)
        .unwrap_or_else(|| panic!("{workload_name}: no route on {offering}"))
}

/// A deferrable workload (fixed token lengths, so its bill is checked by hand): the batch API
/// of each platform that sells one for gpt-4o is simulated, the cheapest meeting the target is
/// the primary, its bill is completed requests x (6,000 x $1.25 + 400 x $5) / 1M, scaled to
/// 730 h, and `llmcap run` of the design bills exactly what pick reports. A deferrable Claude
/// workload goes to Anthropic's batch API; the platforms without one serve it online.
#[test]
fn deferrable_workload_goes_to_the_batch_api_and_run_bills_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "nightly.toml",
        r#"[profile]
name = "nightly"
sla = "p99<=8s"

[simulation]
horizon_hours = 48
replications = 2
seed = 7

[[workload]]
name = "chat"
model = "gpt-4o"
requests_per_day = 20000
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 200 }

[[workload]]
name = "summaries"
model = "gpt-4o"
deferrable = true
completion_sla_hours = 24
requests_per_day = 5000
input_tokens = { dist = "fixed", value = 6000 }
output_tokens = { dist = "fixed", value = 400 }

[[workload]]
name = "tickets"
model = "claude-sonnet-4-6"
deferrable = true
requests_per_day = 2000
input_tokens = { dist = "fixed", value = 2000 }
output_tokens = { dist = "fixed", value = 200 }
"#,
    );
    let out = dir.path().join("p");
    let (code, md, json) = pick(&p, &out, &[]);
    assert_eq!(code, 0, "{md}");
    let w = workload(&json, "summaries");
    let primary = &w["evaluations"][w["primary"].as_u64().unwrap() as usize];
    let b = &primary["batch"];
    assert_eq!(b["meets"], true, "{b:#}");
    // The two-provider minimum: the other gpt-4o batch API is the fallback.
    assert_eq!(w["fallback_kind"], "batch", "{w:#}");
    let (platform, offering) = (
        primary["route"]["platform"].as_str().unwrap(),
        b["offering"].as_str().unwrap(),
    );
    // Both gpt-4o batch APIs sell at $1.25 / $5 per 1M (the catalog's [offering.batch]).
    assert!(["openai", "azure-openai"].contains(&platform), "{platform}");
    let completed = b["completed"].as_f64().unwrap();
    let by_hand = completed * (6000.0 * 1.25 + 400.0 * 5.0) / 1e6 / 2.0 / 48.0 * 730.0;
    let monthly = b["monthly_usd"].as_f64().unwrap();
    assert!(
        (monthly - by_hand).abs() < 1e-6 * by_hand,
        "{monthly} vs {by_hand}"
    );
    assert!((b["online_monthly_usd"].as_f64().unwrap() - 2.0 * by_hand).abs() < 1e-6 * by_hand);
    assert!(md.contains("## Deferrable workloads"), "{md}");
    assert!(md.contains(offering), "{md}");
    // The profile table marks the deferrable workloads and their targets.
    assert!(
        md.contains("| summaries (deferrable: within 24 h) | gpt-4o |"),
        "{md}"
    );
    assert!(
        md.contains("| tickets (deferrable: within the batch window) |"),
        "{md}"
    );
    assert!(md.contains("| chat | gpt-4o |"), "{md}");
    // The Claude workload: Anthropic's Message Batches API at half price ($1.50 / $7.50), by
    // hand; the other platforms selling Claude have no batch offering in the catalog and serve
    // it online.
    let t = workload(&json, "tickets");
    let mut on_anthropic = 0;
    for e in t["evaluations"].as_array().unwrap() {
        let platform = e["route"]["platform"].as_str().unwrap();
        if platform == "anthropic" {
            on_anthropic += 1;
            let b = &e["batch"];
            let completed = b["completed"].as_f64().unwrap();
            let by_hand = completed * (2000.0 * 1.5 + 200.0 * 7.5) / 1e6 / 2.0 / 48.0 * 730.0;
            let got = b["monthly_usd"].as_f64().unwrap();
            assert!((got - by_hand).abs() < 1e-6 * by_hand, "{got} vs {by_hand}");
        } else {
            assert!(e.get("batch").is_none(), "{platform}: {e:#}");
            if e["route"]["substitute"] != true {
                assert!(
                    md.contains(&format!("tickets on {platform}")),
                    "{platform}: {md}"
                );
            }
        }
    }
    assert_eq!(on_anthropic, 1, "{t:#}");
    assert!(
        md.contains("served online as any workload: tickets on"),
        "{md}"
    );
    // `llmcap run` of the design bills the batch jobs exactly as pick does.
    let run = dir.path().join("run");
    llmcap()
        .args(["run", out.join("design.toml").to_str().unwrap(), "--out"])
        .arg(&run)
        .arg("--quiet")
        .assert()
        .success();
    let s = read_json(&run.join("summary.json"));
    let class = &s["batch"]["classes"][0];
    assert_eq!(class["name"], "summaries");
    let run_monthly = class["cost_usd"].as_f64().unwrap() / 48.0 * 730.0;
    assert!(
        (run_monthly - monthly).abs() < 1e-9 * monthly,
        "{run_monthly} vs {monthly}"
    );
    let design = json["design"]["with_fallback"]["monthly_usd"]["mean"]
        .as_f64()
        .unwrap();
    assert!(
        design > monthly,
        "the design's bill is online + batch: {design}"
    );
}

/// Vertex AI sells Gemini 2.5 Pro in batch at half its on-demand price ($0.625 / $5 per 1M):
/// a deferrable gemini-2.5-pro workload gets a batch candidate on Vertex, billed by hand as
/// completed requests x (3,000 x $0.625 + 500 x $5) / 1M scaled to 730 h; the Gemini API's
/// route has no batch offering in the catalog, so it serves the workload online.
#[test]
fn a_deferrable_gemini_pro_workload_is_offered_vertex_batch_at_half_price() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "reports.toml",
        r#"[profile]
name = "reports"
sla = "p99<=60s"

[simulation]
horizon_hours = 48
replications = 1
seed = 3

[[workload]]
name = "reports"
model = "gemini-2.5-pro"
deferrable = true
requests_per_day = 2400
input_tokens = { dist = "fixed", value = 3000 }
output_tokens = { dist = "fixed", value = 500 }
"#,
    );
    let out = dir.path().join("p");
    let (code, md, json) = pick(&p, &out, &[]);
    assert_eq!(code, 0, "{md}");
    let evals = workload(&json, "reports")["evaluations"]
        .as_array()
        .unwrap()
        .clone();
    let on = |platform: &str| {
        evals
            .iter()
            .find(|e| e["route"]["platform"] == platform)
            .unwrap_or_else(|| panic!("no {platform} evaluation: {evals:#?}"))
    };
    let b = &on("vertex-ai")["batch"];
    assert_eq!(
        b["offering"], "vertex-ai/gemini-2.5-pro/paygo-global",
        "{b:#}"
    );
    let completed = b["completed"].as_f64().unwrap();
    assert!(completed > 0.0, "{b:#}");
    let by_hand = completed * (3000.0 * 0.625 + 500.0 * 5.0) / 1e6 / 48.0 * 730.0;
    let monthly = b["monthly_usd"].as_f64().unwrap();
    assert!(
        (monthly - by_hand).abs() < 1e-6 * by_hand,
        "{monthly} vs {by_hand}"
    );
    assert!((b["online_monthly_usd"].as_f64().unwrap() - 2.0 * by_hand).abs() < 1e-6 * by_hand);
    assert!(on("gemini-api").get("batch").is_none());
}

/// The batch window and the submission interval a deferrable workload is simulated with.
/// `digest` (Llama 3.3 70B, target 72 h) goes to Bedrock, which sells windows of 24 to 168 h at
/// one price: the window bought is the longest not beyond the target, 72 h. Its bill is the
/// completed requests x (3,000 + 300) tokens x $0.36 per 1M, per 730 h. Its expiry share, by
/// hand: a job expires when its turnaround (llmcap's default, lognormal through a median of
/// 0.12 h and a p99 of 5.8 h: sigma = ln(5.8 / 0.12) / 2.326 = 1.667) passes the window,
/// P(T > 72 h) = 1 - Phi(ln(600) / 1.667) = 6.2e-5 a job (24 h: 7.4e-4), so over the 96 hourly
/// jobs about 0.006 jobs expire: none. `reports` and `reports-hourly` are the same Llama
/// workload submitted every 360 and every 60 minutes, with no target (so the shortest window,
/// 24 h, which is then the target). A request waits for the next submission, uniform over the
/// interval with a flat rate (200 requests an hour: Bedrock's 100-request minimum per job
/// holds), then its job's turnaround: the median of U(0, S) + T is 0.74 h for S = 1 h and
/// 3.38 h for S = 6 h (numerically, from the lognormal above). Three deferrable workloads of one
/// model on one platform get a batch deployment each in the design, which carries both keys,
/// and `llmcap run` of it bills `digest` as pick does.
#[test]
fn a_deferrable_workload_buys_the_window_of_its_target_and_submits_as_told() {
    let dir = tempfile::tempdir().unwrap();
    let reports = |name: &str, every: &str| {
        format!(
            "[[workload]]\nname = \"{name}\"\nmodel = \"llama-3.3-70b\"\ndeferrable = true\n{every}requests_per_day = 4800\ninput_tokens = {{ dist = \"fixed\", value = 2000 }}\noutput_tokens = {{ dist = \"fixed\", value = 200 }}\n"
        )
    };
    let text = format!(
        r#"[profile]
name = "windows"
sla = "p99<=8s"

[simulation]
horizon_hours = 48
replications = 2
seed = 11

[[workload]]
name = "chat"
model = "gpt-4o"
requests_per_day = 20000
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 200 }}

[[workload]]
name = "digest"
model = "llama-3.3-70b"
deferrable = true
completion_sla_hours = 72
requests_per_day = 4800
input_tokens = {{ dist = "fixed", value = 3000 }}
output_tokens = {{ dist = "fixed", value = 300 }}

{}
{}"#,
        reports("reports", "submit_every_minutes = 360\n"),
        reports("reports-hourly", "")
    );
    let p = write(dir.path(), "windows.toml", &text);
    let out = dir.path().join("p");
    let (code, md, json) = pick(&p, &out, &[]);
    assert_eq!(code, 0, "{md}");
    let b = &workload_route(&json, "digest", "bedrock/llama-3.3-70b/us-cris")["batch"];
    assert_eq!(b["window_hours"].as_f64(), Some(72.0), "{b:#}");
    assert_eq!(b["completion_sla_hours"].as_f64(), Some(72.0));
    assert_eq!(b["submit_every_minutes"].as_f64(), Some(60.0));
    assert_eq!(b["expires"], true);
    let completed = b["completed"].as_f64().unwrap();
    // Every request completes or is still running at the end (its 72 h target past the 48 h).
    let unfinished = b["unfinished"].as_f64().unwrap();
    assert_eq!(b["arrived"].as_f64(), Some(completed + unfinished), "{b:#}");
    assert_eq!(b["censored"].as_f64(), Some(unfinished), "{b:#}");
    let by_hand = completed * 3300.0 * 0.36 / 1e6 / 2.0 / 48.0 * 730.0;
    let monthly = b["monthly_usd"].as_f64().unwrap();
    assert!(
        (monthly - by_hand).abs() < 1e-9 * by_hand,
        "{monthly} vs {by_hand}"
    );
    assert_eq!(b["expired"].as_u64(), Some(0), "{b:#}");
    assert_eq!(b["meets"], true);
    assert!(
        md.contains(
            "| digest | bedrock | bedrock/llama-3.3-70b/us-cris | 72 h, expires | 60 min | 72 h |"
        ),
        "{md}"
    );
    assert!(
        md.contains("the longest window the offering sells not beyond"),
        "{md}"
    );

    let p50 = |w: &str| {
        workload_route(&json, w, "bedrock/llama-3.3-70b/us-cris")["batch"]["completion_p50_hours"]
            .as_f64()
            .unwrap()
    };
    let (six, one) = (p50("reports"), p50("reports-hourly"));
    assert!((six - 3.38).abs() < 0.4, "every 360 min: p50 {six} h");
    assert!((one - 0.74).abs() < 0.2, "every 60 min: p50 {one} h");
    let r = &workload_route(&json, "reports", "bedrock/llama-3.3-70b/us-cris")["batch"];
    assert_eq!(r["submit_every_minutes"].as_f64(), Some(360.0));
    assert_eq!(r["window_hours"].as_f64(), Some(24.0));

    // The design buys the same window and submission interval; `run` bills digest as pick.
    let design = std::fs::read_to_string(out.join("design.toml")).unwrap();
    for (w, window, every) in [
        ("digest", 72, 60),
        ("reports", 24, 360),
        ("reports-hourly", 24, 60),
    ] {
        let table = format!("name = \"bedrock-llama-3.3-70b-{w}-batch\"\noffering = \"bedrock/llama-3.3-70b/us-cris\"\n\n[deployment.batch]\ncompletion_window_hours = {window}.0\nsubmit_every_minutes = {every}.0\n");
        assert!(design.contains(&table), "{table}\n{design}");
    }
    let run = dir.path().join("run");
    llmcap()
        .args(["run", out.join("design.toml").to_str().unwrap(), "--out"])
        .arg(&run)
        .arg("--quiet")
        .assert()
        .success();
    let s = read_json(&run.join("summary.json"));
    let class = s["batch"]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "digest")
        .expect("digest in run's batch classes")
        .clone();
    assert_eq!(class["completion_window_hours"].as_f64(), Some(72.0));
    let run_monthly = class["cost_usd"].as_f64().unwrap() / 48.0 * 730.0;
    assert!(
        (run_monthly - monthly).abs() < 1e-9 * monthly,
        "{run_monthly} vs {monthly}"
    );
}

/// The two-provider minimum for deferrable workloads on a batch API. `summaries` (gpt-4o):
/// OpenAI and Azure OpenAI both sell a gpt-4o batch API (both $1.25 / $5 per 1M), so the
/// fallback is the batch API of the one not chosen, billed by hand as its completed requests x
/// (6,000 x $1.25 + 400 x $5) / 1M per 730 h. `digest` (Llama 3.3 70B): only Bedrock sells a
/// batch API for it, so the fallback serves it online on Azure (the other platform selling it),
/// at Azure's on-demand $0.71 / $0.71 per 1M: every request served (no throttling), the same
/// requests as Bedrock's batch evaluation draws (one random stream per workload), so arrived x
/// 3,300 x $0.71 / 1M per 730 h; pick.md flags it. design.toml carries the batch fallback as a
/// commented-out deployment, so `llmcap run design.toml` bills exactly what pick reports; with
/// `two_provider = false` there is no fallback.
#[test]
fn a_deferrable_workload_on_batch_gets_a_fallback_on_another_platform() {
    let dir = tempfile::tempdir().unwrap();
    let text = |two_provider: &str| {
        format!(
            r#"[profile]
name = "fallbacks"
sla = "p99<=8s"
{two_provider}
[simulation]
horizon_hours = 48
replications = 2
seed = 5

[[workload]]
name = "chat"
model = "gpt-4o"
requests_per_day = 20000
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 200 }}

[[workload]]
name = "summaries"
model = "gpt-4o"
deferrable = true
completion_sla_hours = 24
requests_per_day = 5000
input_tokens = {{ dist = "fixed", value = 6000 }}
output_tokens = {{ dist = "fixed", value = 400 }}

[[workload]]
name = "digest"
model = "llama-3.3-70b"
deferrable = true
completion_sla_hours = 24
requests_per_day = 4800
input_tokens = {{ dist = "fixed", value = 3000 }}
output_tokens = {{ dist = "fixed", value = 300 }}
"#
        )
    };
    let p = write(dir.path(), "fallbacks.toml", &text(""));
    let out = dir.path().join("p");
    let (code, md, json) = pick(&p, &out, &[]);
    assert_eq!(code, 0, "{md}");
    let per_month = |usd: f64| usd / 2.0 / 48.0 * 730.0;

    let w = workload(&json, "summaries");
    let (primary, fallback) = (chosen(w, "primary"), chosen(w, "fallback"));
    let mut both = [
        primary["platform"].as_str().unwrap(),
        fallback["platform"].as_str().unwrap(),
    ];
    both.sort_unstable();
    assert_eq!(both, ["azure-openai", "openai"], "{w:#}");
    assert_eq!(w["fallback_kind"], "batch");
    let fb = &w["evaluations"][w["fallback"].as_u64().unwrap() as usize]["batch"];
    assert_eq!(fb["meets"], true, "{fb:#}");
    let by_hand =
        per_month(fb["completed"].as_f64().unwrap() * (6000.0 * 1.25 + 400.0 * 5.0) / 1e6);
    let bill = w["fallback_monthly_usd"].as_f64().unwrap();
    assert!(
        (bill - by_hand).abs() < 1e-6 * by_hand,
        "{bill} vs {by_hand}"
    );
    let fp = fallback["platform"].as_str().unwrap();
    assert!(
        md.contains(&format!("Fallback **{fp}**'s batch API for gpt-4o")),
        "{md}"
    );
    assert!(
        md.contains("llmcap does not simulate batch outages"),
        "{md}"
    );
    assert!(
        md.contains("its jobs are resubmitted to the fallback's batch API"),
        "{md}"
    );

    let d = workload(&json, "digest");
    assert_eq!(chosen(d, "primary")["platform"], "bedrock", "{d:#}");
    assert_eq!(chosen(d, "fallback")["platform"], "azure-openai", "{d:#}");
    assert_eq!(d["fallback_kind"], "online");
    let e = &d["evaluations"][d["fallback"].as_u64().unwrap() as usize];
    assert!(e.get("batch").is_none(), "{e:#}");
    assert_eq!(
        e["on_demand"]["throttled_share"].as_f64(),
        Some(0.0),
        "{e:#}"
    );
    let arrived = workload_route(&json, "digest", "bedrock/llama-3.3-70b/us-cris")["batch"]
        ["arrived"]
        .as_f64()
        .unwrap();
    let by_hand = per_month(arrived * 3300.0 * 0.71 / 1e6);
    let bill = d["fallback_monthly_usd"].as_f64().unwrap();
    assert_eq!(Some(bill), e["on_demand"]["monthly_usd"]["mean"].as_f64());
    assert!(
        (bill - by_hand).abs() < 1e-9 * by_hand,
        "{bill} vs {by_hand}"
    );
    let flag = format!(
        "only bedrock sells a batch API for llama-3.3-70b; the fallback serves it online on azure-openai at {} a month",
        llmcap::format::usd_whole(bill)
    );
    assert!(md.contains(&flag), "{flag}\n{md}");
    assert_eq!(d["fallback_note"].as_str(), Some(&flag[..]));

    // design.toml: the batch fallback commented out; `run` bills the batch primaries only, as
    // pick does.
    let design = std::fs::read_to_string(out.join("design.toml")).unwrap();
    let dep = format!("# name = \"{fp}-gpt-4o-batch\"\n");
    assert!(design.contains(&dep), "{dep}\n{design}");
    assert!(
        design.contains("send its requests online to\n# azure-openai/llama-3.3-70b/"),
        "{design}"
    );
    let run = dir.path().join("run");
    llmcap()
        .args(["run", out.join("design.toml").to_str().unwrap(), "--out"])
        .arg(&run)
        .arg("--quiet")
        .assert()
        .success();
    let s = read_json(&run.join("summary.json"));
    let classes = s["batch"]["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 2, "{classes:#?}");
    let batch_bill: f64 = ["summaries", "digest"]
        .iter()
        .map(|n| {
            let w = workload(&json, n);
            w["evaluations"][w["primary"].as_u64().unwrap() as usize]["batch"]["monthly_usd"]
                .as_f64()
                .unwrap()
        })
        .sum();
    let run_bill: f64 = classes
        .iter()
        .map(|c| c["cost_usd"].as_f64().unwrap())
        .sum::<f64>()
        / 48.0
        * 730.0;
    assert!(
        (run_bill - batch_bill).abs() < 1e-9 * batch_bill,
        "{run_bill} vs {batch_bill}"
    );

    // Waived: no fallback for either.
    let p = write(dir.path(), "waived.toml", &text("two_provider = false\n"));
    let (code, md, json) = pick(&p, &dir.path().join("w"), &[]);
    assert_eq!(code, 0, "{md}");
    for n in ["summaries", "digest"] {
        let w = workload(&json, n);
        assert!(
            w["fallback"].is_null() && w.get("fallback_kind").is_none(),
            "{w:#}"
        );
    }
    assert!(
        md.contains("No fallback: the profile waives the two-provider minimum"),
        "{md}"
    );
}
