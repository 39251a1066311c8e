//! `llmcap import`: gateway configs (LiteLLM) read as scenarios, their refusals, and the public configs in ../shared.

use std::path::Path;

use predicates::prelude::*;

use crate::common::{llmcap, write};

/// Imports `config` (YAML text) and returns the written scenario as a TOML table and stderr.
fn import_ok(dir: &Path, config: &str, extra: &[&str]) -> (toml::Table, String) {
    let cfg = write(dir, "config.yaml", config);
    let out = dir.join("scenario.toml");
    let o = llmcap()
        .args(["import", "litellm", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "import failed: {stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# Written by llmcap import litellm"),
        "{text}"
    );
    (toml::from_str(&text).expect("the scenario is TOML"), stderr)
}

/// Import must exit 2 naming the config and `key`, with `words` in the message, and write nothing.
#[track_caller]
fn import_rejects(config: &str, extra: &[&str], key: &str, words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "config.yaml", config);
    let out = dir.path().join("scenario.toml");
    let o = llmcap()
        .args(["import", "litellm", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config.yaml"), "names the file: {stderr}");
    assert!(stderr.contains(key), "names {key}: {stderr}");
    for w in words {
        assert!(stderr.contains(w), "says {w}: {stderr}");
    }
    assert!(!out.exists(), "nothing written");
    assert_eq!(crate::common::entries(dir.path()), vec!["config.yaml"]);
}

fn class<'a>(t: &'a toml::Table, name: &str) -> &'a toml::Table {
    t["class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_table().unwrap())
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no class {name}"))
}

fn deployment<'a>(t: &'a toml::Table, name: &str) -> &'a toml::Table {
    t["deployment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_table().unwrap())
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no deployment {name}"))
}

fn strings(v: &toml::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn floats(v: &toml::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_float().unwrap())
        .collect()
}

const TWO_GROUPS: &str = r#"
model_list:
  - model_name: chat
    litellm_params:
      model: azure/prod-eastus
      api_base: https://eastus.example.openai.azure.com/
      api_key: os.environ/AZURE_KEY_EAST
      weight: 3
      rpm: 900
    model_info:
      id: chat-east
      base_model: azure/gpt-4o
  - model_name: chat
    litellm_params:
      model: azure/prod-westus
      api_base: https://westus.example.openai.azure.com/
      weight: 1
      tpm: 80_000
    model_info:
      id: chat-west
      base_model: gpt-4o
  - model_name: backup
    litellm_params:
      model: bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0
      aws_region_name: us-east-1
router_settings:
  num_retries: 1
  timeout: 30
  allowed_fails: 2
  cooldown_time: 10
  redis_host: os.environ/REDIS_HOST
litellm_settings:
  num_retries: 4
  fallbacks: [{"chat": ["backup"]}]
  success_callback: ["langfuse"]
"#;

#[test]
fn imports_groups_weights_fallbacks_and_router_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (t, stderr) = import_ok(dir.path(), TWO_GROUPS, &[]);
    // A LiteLLM router; router_settings wins over litellm_settings; the gateway retries, the
    // application sends each request once.
    assert_eq!(t["client"]["max_attempts"].as_integer(), Some(1));
    let g = &t["gateway"];
    assert_eq!(g["router"].as_str(), Some("litellm"));
    assert_eq!(g["strategy"].as_str(), Some("simple-shuffle"));
    assert_eq!(g["num_retries"].as_integer(), Some(1));
    assert_eq!(g["timeout_s"].as_float(), Some(30.0));
    // allowed_fails differs from LiteLLM's default (3): the count rule.
    assert_eq!(g["cooldown"].as_str(), Some("count"));
    assert_eq!(g["allowed_fails"].as_float(), Some(2.0));
    assert_eq!(g["cooldown_s"].as_float(), Some(10.0));
    assert!(
        stderr.contains("router_settings.num_retries overrides litellm_settings.num_retries"),
        "{stderr}"
    );
    // Keys llmcap does not model are named, never dropped silently.
    for k in [
        "router_settings.redis_host",
        "litellm_settings.success_callback",
    ] {
        assert!(stderr.contains(k), "warns about {k}: {stderr}");
    }
    assert!(stderr.contains("\"80_000\" read as 80000"), "{stderr}");
    let chat = class(&t, "chat");
    assert_eq!(
        strings(&chat["route"]),
        vec!["chat-east", "chat-west", "backup"]
    );
    assert_eq!(
        strings(&chat["groups"]),
        vec!["chat", "chat", "backup"],
        "the fallback group's entry is its own step"
    );
    assert!(chat.get("orders").is_none(), "one level per group");
    assert_eq!(chat["routing"].as_str(), Some("weighted"));
    assert_eq!(floats(&chat["weights"]), vec![3.0, 1.0, 0.0]);
    assert_eq!(chat["model"].as_str(), Some("gpt-4o"));
    assert_eq!(strings(&chat["substitutes"]), vec!["claude-sonnet-4"]);
    assert_eq!(strings(&class(&t, "backup")["route"]), vec!["backup"]);
    let east = deployment(&t, "chat-east");
    assert_eq!(
        east["offering"].as_str(),
        Some("azure-openai/gpt-4o/global-standard")
    );
    assert_eq!(east["on_demand"]["rpm"].as_float(), Some(900.0));
    assert_eq!(
        deployment(&t, "chat-west")["on_demand"]["tpm"].as_float(),
        Some(80_000.0)
    );
    assert_eq!(
        deployment(&t, "backup")["offering"].as_str(),
        Some("bedrock/claude-sonnet-4/us-cris")
    );
    // The scenario runs as written.
    let scenario = dir.path().join("scenario.toml");
    llmcap()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--horizon-hours",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(dir.path().join("run"))
        .assert()
        .success();
}

#[test]
fn order_levels_and_the_same_endpoint_twice() {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, order: 2, rpm: 100 }
  - model_name: gpt-4o
    litellm_params: { model: azure/gpt-4o, api_base: "https://a.example/", order: 1 }
  - model_name: gpt-4o
    litellm_params: { model: azure/gpt-4o, api_base: "https://b.example/", order: 1 }
  - model_name: gpt-4o-alias
    litellm_params: { model: openai/gpt-4o, order: 2, rpm: 100 }
"#;
    let (t, _) = import_ok(dir.path(), config, &[]);
    let c = class(&t, "gpt-4o");
    // Order 1 first (two deployments, drawn by rpm, else equally), order 2 only after them.
    assert_eq!(strings(&c["route"]), vec!["gpt-4o-2", "gpt-4o-3", "gpt-4o"]);
    let orders: Vec<i64> = (c["orders"].as_array().unwrap().iter())
        .map(|x| x.as_integer().unwrap())
        .collect();
    assert_eq!(orders, vec![1, 1, 2]);
    assert!(c.get("weights").is_none(), "no weight set: no weights");
    // The same endpoint under two groups is one deployment (one quota).
    assert_eq!(t["deployment"].as_array().unwrap().len(), 3);
    assert_eq!(strings(&class(&t, "gpt-4o-alias")["route"]), vec!["gpt-4o"]);
}

#[test]
fn provisioned_deployments_and_traffic_files() {
    let dir = tempfile::tempdir().unwrap();
    let traffic = write(
        dir.path(),
        "fit.toml",
        r#"
[[class]]
name = "chat"
route = ["ignored"]
arrivals = { mean_rps = 2.5 }
input_tokens = { dist = "fixed", value = 800 }
output_tokens = { dist = "fixed", value = 200 }
tags = { team = "support" }

[[class]]
name = "nobody"
arrivals = { mean_rps = 1 }
"#,
    );
    let config = r#"
model_list:
  - model_name: chat
    litellm_params: { model: azure/ptu-gpt4o, order: 1 }
    model_info: { id: ptu, base_model: azure/gpt-4o }
  - model_name: chat
    litellm_params: { model: azure/paygo-gpt4o, order: 2 }
    model_info: { id: paygo, base_model: azure/gpt-4o }
"#;
    let (t, stderr) = import_ok(
        dir.path(),
        config,
        &[
            "--provisioned",
            "ptu=100",
            "--traffic",
            traffic.to_str().unwrap(),
        ],
    );
    let ptu = deployment(&t, "ptu");
    assert_eq!(
        ptu["offering"].as_str(),
        Some("azure-openai/gpt-4o/global-provisioned")
    );
    assert_eq!(ptu["reserved"]["units"].as_integer(), Some(100));
    assert_eq!(ptu["reserved"]["term"].as_str(), Some("monthly"));
    assert!(deployment(&t, "paygo").get("reserved").is_none());
    let c = class(&t, "chat");
    assert_eq!(strings(&c["route"]), vec!["ptu", "paygo"]);
    assert!(
        c.get("routing").is_none(),
        "one deployment per level: ordered"
    );
    assert_eq!(c["arrivals"]["mean_rps"].as_float(), Some(2.5));
    assert_eq!(c["tags"]["team"].as_str(), Some("support"));
    assert!(
        stderr.contains("traffic class chat: route ignored"),
        "{stderr}"
    );
    assert!(stderr.contains("traffic class nobody"), "{stderr}");
}

#[test]
fn bad_configs_are_refused_before_anything_is_written() {
    import_rejects(
        "model_list:\n  - model_name: a\n\tlitellm_params: {}\n",
        &[],
        "config.yaml:3:",
        &["not valid YAML"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: groq/llama3-70b }\n",
        &[],
        "model_list[0].litellm_params.model",
        &["\"groq/\"", "azure/", "bedrock/", "vertex_ai/"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: azure/x }\n    model_info: { base_model: gpt-4oo }\n",
        &[],
        "model_list[0].litellm_params.model",
        &["does not sell \"gpt-4oo\"", "closest: gpt-4o"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o }\nrouter_settings:\n  fallbacks: [{a: [b]}]\n",
        &[],
        "router_settings.fallbacks[0].a",
        &["\"b\"", "groups: a"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    rpm: 10\n    litellm_params: { model: openai/gpt-4o, rpm: 20 }\n",
        &[],
        "model_list[0].rpm",
        &["conflicts with model_list[0].litellm_params.rpm"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o }\n",
        &["--provisioned", "b=10"],
        "--provisioned",
        &["b names no deployment"],
    );
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o, weight: -1 }\n",
        &[],
        "model_list[0].litellm_params.weight",
        &["≥ 0"],
    );
    import_rejects("router_settings: {}\n", &[], "model_list", &["missing"]);
    import_rejects(
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o }\nrouter_settings:\n  routing_strategy: fastest-please\n",
        &[],
        "router_settings.routing_strategy",
        &["simple-shuffle", "latency-based-routing"],
    );
}

#[test]
fn a_file_llmcap_did_not_write_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "config.yaml",
        "model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o }\n",
    );
    let mine = write(dir.path(), "mine.toml", "# my notes\n");
    let o = llmcap()
        .args(["import", "litellm", cfg.to_str().unwrap(), "--out"])
        .arg(&mine)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did not write it"));
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "# my notes\n");
    // Its own earlier output is replaced.
    let out = dir.path().join("s.toml");
    for _ in 0..2 {
        llmcap()
            .args([
                "import",
                "litellm",
                cfg.to_str().unwrap(),
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
    }
}

/// Read-as mappings for the public configs' models the catalog does not sell: retired models
/// replayed on today's (gpt-3.5-turbo, gpt-4) and Azure deployment names.
const PUBLIC_MODEL_MAP: &[&str] = &[
    "gpt-3.5-turbo=gpt-4o-mini",
    "gpt-35-turbo=gpt-4o-mini",
    "gpt-35-1=gpt-4o-mini",
    "<your-deployment-name>=gpt-4o-mini",
    "gpt-4=gpt-4.1",
    "gpt-4-primary=gpt-4.1",
    "gpt-4-fallback=gpt-4.1",
    "chatgpt-v-2=gpt-4o",
];

/// Every public LiteLLM config in ../shared/gateway-configs/litellm imports (exit 0 with a
/// scenario that validates) or is refused with exit 2 and a reason. As published, 5 import;
/// with `--model` mappings for their retired models and Azure deployment names, all 13 that are
/// valid YAML do.
#[test]
fn public_litellm_configs_import_or_are_refused_clearly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/gateway-configs/litellm");
    if !dir.is_dir() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED public_litellm_configs_import_or_are_refused_clearly: needs {} (public configs, not in the repository)",
            dir.display()
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut configs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    configs.sort();
    assert_eq!(configs.len(), 15, "the folder holds 15 configs");
    let mapped: Vec<String> = PUBLIC_MODEL_MAP
        .iter()
        .flat_map(|m| ["--model".to_string(), m.to_string()])
        .collect();
    for (pass, extra, want) in [("as published", Vec::new(), 5), ("mapped", mapped, 13)] {
        let (mut imported, mut refused) = (0, 0);
        for (i, cfg) in configs.iter().enumerate() {
            let out = tmp.path().join(format!("{pass}-{i}.toml"));
            let o = llmcap()
                .args(["import", "litellm"])
                .arg(cfg)
                .args(["--skip-unsupported", "--quiet"])
                .args(&extra)
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            let name = cfg.file_name().unwrap().to_string_lossy();
            match o.status.code() {
                Some(0) => {
                    imported += 1;
                    llmcap()
                        .args(["validate", out.to_str().unwrap()])
                        .assert()
                        .success();
                }
                Some(2) => {
                    refused += 1;
                    assert!(
                        stderr.contains(&*name),
                        "{pass} {name}: the error names the file: {stderr}"
                    );
                    assert!(
                        stderr.contains("not valid YAML")
                            || stderr.contains("no deployment llmcap can model"),
                        "{pass} {name}: a reason: {stderr}"
                    );
                    assert!(!out.exists());
                }
                other => panic!("{pass} {name}: exit {other:?}: {stderr}"),
            }
            // The two configs that are not valid YAML as published are refused as such.
            if name.contains("weight-based-shuffling") || name.contains("proxy_proxy_config") {
                assert!(stderr.contains("not valid YAML"), "{name}: {stderr}");
            }
            // The AWS gateway's Bedrock config has models llmcap's catalog sells.
            if name.contains("us-west-2") {
                assert_eq!(o.status.code(), Some(0), "{name}: {stderr}");
            }
        }
        assert_eq!(
            (imported, refused),
            (want, 15 - want),
            "{pass}: {imported} imported, {refused} refused"
        );
    }
}

/// `--model FROM=MODEL` reads a model the config names as a catalog model, says so in the
/// scenario's comments, and refuses a model the platform does not sell (exit 2, the flag named).
#[test]
fn model_mapping_reads_a_retired_model_as_todays() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(
        tmp.path(),
        "old.yaml",
        "model_list:\n  - model_name: chat\n    litellm_params:\n      model: azure/chatgpt-v-2\n      api_base: https://x.openai.azure.com/\n  - model_name: chat\n    litellm_params:\n      model: openai/gpt-3.5-turbo\n",
    );
    let out = tmp.path().join("new.toml");
    llmcap()
        .args(["import", "litellm"])
        .arg(&cfg)
        .args([
            "--model",
            "chatgpt-v-2=gpt-4o",
            "--model",
            "gpt-3.5-turbo=gpt-4o-mini",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let toml = std::fs::read_to_string(&out).unwrap();
    assert!(
        toml.contains(
            "model gpt-4o from --model chatgpt-v-2=gpt-4o (the config names chatgpt-v-2)"
        ),
        "{toml}"
    );
    assert!(
        toml.contains("from --model gpt-3.5-turbo=gpt-4o-mini"),
        "{toml}"
    );
    assert!(toml.contains("offering = \"openai/gpt-4o-mini/"), "{toml}");
    llmcap().arg("validate").arg(&out).assert().success();
    // Without the mapping: refused, saying how to map it.
    let bad = tmp.path().join("bad.toml");
    llmcap()
        .args(["import", "litellm"])
        .arg(&cfg)
        .arg("--out")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "model_list[0].litellm_params.model",
        ))
        .stderr(predicate::str::contains("--model DEPLOYMENT=MODEL"));
    // Portkey targets read through the same mapping.
    let pk = write(
        tmp.path(),
        "old.json",
        r#"{"strategy": {"mode": "fallback"}, "targets": [{"provider": "openai", "override_params": {"model": "gpt-3.5-turbo"}}, {"provider": "openai", "override_params": {"model": "gpt-4o"}}]}"#,
    );
    let pk_out = tmp.path().join("pk.toml");
    llmcap()
        .args(["import", "portkey"])
        .arg(&pk)
        .args(["--model", "gpt-3.5-turbo=gpt-4o-mini", "--quiet", "--out"])
        .arg(&pk_out)
        .assert()
        .success();
    let toml = std::fs::read_to_string(&pk_out).unwrap();
    assert!(toml.contains("offering = \"openai/gpt-4o-mini/"), "{toml}");
    assert!(toml.contains("offering = \"openai/gpt-4o/"), "{toml}");
    // The mapped target's deployment says which mapping named its model; the other says none.
    let says = "# model gpt-4o-mini from --model gpt-3.5-turbo=gpt-4o-mini (the config names gpt-3.5-turbo)";
    assert_eq!(toml.matches(says).count(), 1, "{toml}");
    assert_eq!(toml.matches("from --model").count(), 1, "{toml}");
    llmcap()
        .args(["import", "portkey"])
        .arg(&pk)
        .arg("--out")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("targets[0].override_params.model"))
        .stderr(predicate::str::contains("--model NAME=MODEL"));
    // A model the platform does not sell, and a mapping without its `=`.
    for (arg, says) in [
        (
            "chatgpt-v-2=gpt-9",
            "--model chatgpt-v-2=gpt-9: azure-openai does not sell \"gpt-9\"",
        ),
        ("chatgpt-v-2", "expected FROM=MODEL"),
    ] {
        llmcap()
            .args(["import", "litellm"])
            .arg(&cfg)
            .args(["--model", arg, "--out"])
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        assert!(!bad.exists());
    }
}

/// scenarios/two_provider.toml behind a LiteLLM router: the application sends each request once,
/// the gateway retries twice per order level, times calls out at 60 s and cools deployments by
/// LiteLLM's default rule.
fn two_provider_behind_litellm(dir: &Path) -> std::path::PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/two_provider.toml");
    let text = std::fs::read_to_string(shipped).unwrap();
    let (head, rest) = text.split_once("[client]").unwrap();
    let (_, rest) = rest.split_once("[[class]]").unwrap();
    let mut rest = rest.to_string();
    for route in [
        "route = [\"bedrock-claude\", \"azure-gpt41\"]\n",
        "route = [\"azure-gpt41\", \"bedrock-claude\"]\n",
    ] {
        rest = rest.replace(route, &format!("{route}orders = [1, 2]\n"));
    }
    let text = format!(
        "{head}[client]\nmax_attempts = 1\n[gateway]\nlatency_ms = 15\nrouter = \"litellm\"\nnum_retries = 2\ntimeout_s = 60\ncooldown_s = 5\n\n[[class]]{rest}"
    );
    assert_eq!(text.matches("orders = [1, 2]").count(), 2, "{text}");
    write(dir, "two_provider_litellm.toml", &text)
}

/// A scenario with a LiteLLM router exported as a LiteLLM config and imported back (with the
/// scenario as the traffic file) simulates the same thing: the same hourly bill, TTFT
/// percentiles and failover.
#[test]
fn export_then_import_reproduces_the_design() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = two_provider_behind_litellm(dir.path());
    let cfg = dir.path().join("litellm_config.yaml");
    llmcap()
        .args([
            "export",
            "litellm",
            shipped.to_str().unwrap(),
            "--quiet",
            "--out",
        ])
        .arg(&cfg)
        .assert()
        .success();
    let yaml = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        yaml.starts_with("# Written by llmcap export litellm"),
        "{yaml}"
    );
    // What LiteLLM reads: groups, order levels, quotas, retries, cooldown.
    for needle in [
        "model_name: support-claude",
        "model: bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
        "model: azure/azure-gpt41",
        "base_model: azure/gpt-4.1",
        "order: 2",
        "rpm: 1000",
        "routing_strategy: simple-shuffle",
        "num_retries: 2",
        "cooldown_time: 5",
        "timeout: 60",
    ] {
        assert!(yaml.contains(needle), "{needle}: {yaml}");
    }
    assert!(yaml.contains("# Not in this file: 2 outage(s)"), "{yaml}");
    let back = dir.path().join("back.toml");
    llmcap()
        .args([
            "import",
            "litellm",
            cfg.to_str().unwrap(),
            "--quiet",
            "--traffic",
        ])
        .arg(&shipped)
        .arg("--out")
        .arg(&back)
        .assert()
        .success();
    let flags = ["--horizon-hours", "48", "--replications", "2", "--quiet"];
    for (scenario, out) in [(&shipped, "a"), (&back, "b")] {
        llmcap()
            .args(["run", scenario.to_str().unwrap()])
            .args(flags)
            .arg("--out")
            .arg(dir.path().join(out))
            .assert()
            .success();
    }
    for f in [
        "hourly.csv",
        "ttft_percentiles.csv",
        "failover.csv",
        "arrivals.csv",
        "cost_by_tag.csv",
    ] {
        let a = std::fs::read(dir.path().join("a").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs after export and import");
    }
}

/// The route walk cools a deployment AT its `cooldown_failures`-th failure; LiteLLM cools on the
/// failure that exceeds `allowed_fails` (cooldown_handlers.py `updated_fails > allowed_fails`), so
/// the export writes one less, and `allowed_fails: 0` imports as a cooldown on the first failure.
/// One less that equals LiteLLM's default (3) would select LiteLLM's default rule instead, so it
/// goes in `allowed_fails_policy`.
#[test]
fn walk_cooldown_exports_as_allowed_fails_one_less() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/two_provider.toml");
    let text = std::fs::read_to_string(shipped).unwrap();
    assert!(
        text.contains("cooldown_failures = 3 "),
        "the shipped walk cooldown"
    );
    for (failures, yaml_has, imported) in [
        (1, "allowed_fails: 0\n", Some(0.0)),
        (3, "allowed_fails: 2\n", Some(2.0)),
        (4, "RateLimitErrorAllowedFails: 3", None),
    ] {
        let sc = write(
            dir.path(),
            "walk.toml",
            &text.replace(
                "cooldown_failures = 3 ",
                &format!("cooldown_failures = {failures} "),
            ),
        );
        let cfg = dir.path().join(format!("walk_{failures}.yaml"));
        llmcap()
            .args([
                "export",
                "litellm",
                sc.to_str().unwrap(),
                "--quiet",
                "--out",
            ])
            .arg(&cfg)
            .assert()
            .success();
        let yaml = std::fs::read_to_string(&cfg).unwrap();
        assert!(yaml.contains(yaml_has), "{failures}: {yaml}");
        let (t, _) = import_ok(dir.path(), &yaml, &["--quiet"]);
        let g = t["gateway"].as_table().unwrap();
        assert_eq!(g["cooldown"].as_str(), Some("count"), "{failures}: {g:?}");
        assert_eq!(g.get("allowed_fails").and_then(|v| v.as_float()), imported);
        if imported.is_none() {
            for k in [
                "allowed_fails_rate_limit",
                "allowed_fails_error",
                "allowed_fails_timeout",
            ] {
                assert_eq!(g[k].as_float(), Some(3.0), "{k}: {g:?}");
            }
        }
    }
}

#[test]
fn portkey_fallback_and_loadbalance_configs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "portkey.json",
        r#"{
  "strategy": {"mode": "loadbalance"},
  "retry": {"attempts": 2},
  "request_timeout": 30000,
  "cache": {"mode": "simple"},
  "targets": [
    {"provider": "anthropic", "override_params": {"model": "claude-sonnet-4-20250514"}, "weight": 0.7},
    {"provider": "bedrock", "override_params": {"model": "us.anthropic.claude-sonnet-4-20250514-v1:0"}, "weight": 0.3}
  ]
}"#,
    );
    let out = dir.path().join("pk.toml");
    let o = llmcap()
        .args(["import", "portkey", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("cache: not modelled"), "{stderr}");
    let t: toml::Table = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // Portkey's own semantics: the tree as the config has it, retries per target.
    assert_eq!(t["gateway"]["router"].as_str(), Some("portkey"));
    assert_eq!(t["client"]["max_attempts"].as_integer(), Some(1));
    let c = t["class"][0].as_table().unwrap();
    assert_eq!(strings(&c["route"]), vec!["anthropic-1", "bedrock-2"]);
    assert!(c.get("weights").is_none() && c.get("routing").is_none());
    let pk = c["portkey"].as_table().unwrap();
    assert_eq!(pk["mode"].as_str(), Some("loadbalance"));
    assert_eq!(pk["retry"]["attempts"].as_integer(), Some(2));
    assert_eq!(pk["timeout_ms"].as_float(), Some(30_000.0));
    let targets = pk["targets"].as_array().unwrap();
    assert_eq!(targets[0]["deployment"].as_str(), Some("anthropic-1"));
    assert_eq!(targets[1]["weight"].as_float(), Some(0.3));
    assert_eq!(
        deployment(&t, "bedrock-2")["offering"].as_str(),
        Some("bedrock/claude-sonnet-4/us-cris")
    );
    llmcap()
        .args(["validate", out.to_str().unwrap()])
        .assert()
        .success();
    // Bad input: invalid JSON with line and column; an unknown provider; conditional routing.
    for (text, key, words) in [
        ("{\n  \"targets\": [\n", "portkey.json:3:", "not valid JSON"),
        (
            r#"{"targets": [{"provider": "groq", "override_params": {"model": "x"}}]}"#,
            "targets[0].provider",
            "known: openai",
        ),
        (
            r#"{"strategy": {"mode": "conditional"}, "targets": []}"#,
            "strategy.mode",
            "conditional routing",
        ),
    ] {
        let bad = write(dir.path(), "portkey.json", text);
        let out = dir.path().join("bad.toml");
        let o = llmcap()
            .args(["import", "portkey", bad.to_str().unwrap(), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(key) && stderr.contains(words),
            "{key} / {words}: {stderr}"
        );
        assert!(!out.exists());
    }
}

/// Nested strategies are written as they are (no flattening), with each node's own keys; a
/// weight outside a loadbalance and fallback codes outside a fallback are warned and left out.
#[test]
fn portkey_nested_strategies_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "nested.json",
        r#"{
  "strategy": {"mode": "fallback", "on_status_codes": [429, 503]},
  "targets": [
    {"strategy": {"mode": "loadbalance", "on_status_codes": [500]}, "request_timeout": 5000,
     "targets": [
       {"provider": "azure-openai", "override_params": {"model": "gpt-4o"}, "weight": 2},
       {"provider": "azure-openai", "override_params": {"model": "gpt-4o"}, "weight": 1,
        "retry": {"attempts": 3, "use_retry_after_headers": true}}
     ]},
    {"provider": "openai", "override_params": {"model": "gpt-4o"}, "weight": 5}
  ]
}"#,
    );
    let out = dir.path().join("nested.toml");
    let o = llmcap()
        .args(["import", "portkey", cfg.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    for w in [
        "targets[0].strategy.on_status_codes: Portkey reads it only for a fallback strategy",
        "targets[1].weight: Portkey reads weights only under a loadbalance strategy",
        "use_retry_after_headers: Portkey's gateway code reads",
    ] {
        assert!(stderr.contains(w), "{w}: {stderr}");
    }
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("[[class.portkey.targets.targets]]"), "{text}");
    let t: toml::Table = toml::from_str(&text).unwrap();
    let pk = t["class"][0]["portkey"].as_table().unwrap();
    assert_eq!(pk["mode"].as_str(), Some("fallback"));
    assert_eq!(pk["on_status_codes"].as_array().unwrap().len(), 2);
    let lb = pk["targets"][0].as_table().unwrap();
    assert_eq!(lb["mode"].as_str(), Some("loadbalance"));
    assert!(lb.get("on_status_codes").is_none());
    assert_eq!(lb["timeout_ms"].as_float(), Some(5000.0));
    assert_eq!(lb["targets"][0]["weight"].as_float(), Some(2.0));
    assert_eq!(lb["targets"][1]["retry"]["attempts"].as_integer(), Some(3));
    assert_eq!(
        lb["targets"][1]["retry"]["use_retry_after_header"].as_bool(),
        Some(true)
    );
    assert!(pk["targets"][1].get("weight").is_none());
    llmcap()
        .args(["validate", out.to_str().unwrap()])
        .assert()
        .success();
}

/// Every shipped Portkey example imports (with the examples' traffic) to a scenario that validates
/// and runs.
#[test]
fn shipped_portkey_examples_import_and_run() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gateway");
    let traffic = folder.join("traffic.toml");
    let mut n = 0;
    for e in std::fs::read_dir(&folder).unwrap() {
        let cfg = e.unwrap().path();
        if cfg.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        n += 1;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pk.toml");
        llmcap()
            .args([
                "import",
                "portkey",
                cfg.to_str().unwrap(),
                "--quiet",
                "--traffic",
            ])
            .arg(&traffic)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("router = \"portkey\""), "{text}");
        llmcap()
            .args([
                "run",
                out.to_str().unwrap(),
                "--horizon-hours",
                "2",
                "--replications",
                "1",
                "--quiet",
                "--out",
            ])
            .arg(dir.path().join("run"))
            .assert()
            .success();
    }
    assert!(n >= 1, "scenarios/gateway has a Portkey example");
}
