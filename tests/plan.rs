//! `llmcap plan` and `llmcap::analysis::plan`: answers known by hand, SLA parsing, input errors, determinism.

use std::path::Path;

use llmcap::analysis::plan::parse_sla;
use predicates::prelude::*;

use crate::common::{assert_same_results, entries, llmcap, read_json, write};

/// Evenly spaced arrivals at a constant rate, every request the same size, a
/// constant base latency and no prefill: a request is served at once (TTFT =
/// the base latency) if a slot is free, and refused (max_wait_ms = 0) and, with
/// one attempt, throttled otherwise. No other deployment is on the route.
///
/// The numbers the answer follows from are the constants below.
const RATE_RPS: f64 = 4.0; // one arrival every 250 ms, a whole number of microseconds
const INPUT: f64 = 1000.0;
const OUTPUT: f64 = 125.0;
const OUTPUT_WEIGHT: f64 = 5.0;
const TPM_PER_UNIT: f64 = 60_000.0;
const CONCURRENCY: f64 = 1.0;
const BASE_MS: f64 = 200.0;

fn exact_scenario(min_units: u32, unit_step: u32) -> String {
    format!(
        r#"
[scenario]
name = "exact"
horizon_hours = 1
seed = 5
replications = 2

[client]
max_attempts = 1

[[class]]
name = "api"
model = "m"
route = ["ptu"]
arrivals = {{ process = "deterministic", mean_rps = {RATE_RPS} }}
input_tokens = {{ dist = "fixed", value = {INPUT} }}
output_tokens = {{ dist = "fixed", value = {OUTPUT} }}

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = {BASE_MS}, p99_ms = {BASE_MS}, prefill_ms_per_1k_input = 0 }}
reserved = {{ units = {min_units}, min_units = {min_units}, unit_step = {unit_step}, tpm_per_unit = {TPM_PER_UNIT}, concurrency_per_unit = {CONCURRENCY}, output_weight = {OUTPUT_WEIGHT}, term = "monthly", max_wait_ms = 0, price_per_unit_hour = {{ monthly = 1.0, yearly = 0.8 }} }}
"#
    )
}

/// The fewest units that serve every request without waiting: a request holds
/// a slot for S = weighted tokens / slot throughput, arrivals come every 1/rate,
/// so ceil(rate x S) requests are in service at once (rate x S is not whole here).
fn units_by_hand() -> u32 {
    let weighted = INPUT + OUTPUT_WEIGHT * OUTPUT;
    let slot_tokens_per_s = TPM_PER_UNIT / CONCURRENCY / 60.0;
    let service_s = weighted / slot_tokens_per_s;
    let busy = RATE_RPS * service_s;
    assert!(
        busy.fract() > 0.1 && busy.fract() < 0.9,
        "keep away from ties: {busy}"
    );
    (busy.ceil() / CONCURRENCY).ceil() as u32
}

/// `llmcap plan SCENARIO --out OUT --quiet EXTRA...` must succeed.
fn plan_ok(scenario: &Path, out: &Path, extra: &[&str]) {
    crate::common::command_ok("plan", scenario, out, extra);
}

/// Plans `text` with `--sla "p99<=1s"` and returns plan.json.
fn plan_json(text: &str) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "exact.toml", text);
    let out = tmp.path().join("out");
    plan_ok(&sc, &out, &["--sla", "p99<=1s", "--max-units", "30"]);
    read_json(&out.join("plan.json"))
}

/// Checks that every candidate is `units` reserved units without spillover
/// meeting the SLA, and that every simulated configuration meets it exactly
/// when it has at least `needed` units.
#[track_caller]
fn assert_plan(j: &serde_json::Value, units: u32, needed: u32) {
    let candidates = j["candidates"].as_array().unwrap();
    let terms: Vec<&str> = candidates
        .iter()
        .map(|c| c["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["yearly", "monthly"], "cheapest term first");
    for c in candidates {
        assert_eq!(c["mode"], "reserved-only", "{c}");
        assert_eq!(c["units"], units, "{c}");
        assert_eq!(c["meets_sla"], true, "{c}");
        assert_eq!(c["throttled_share"], 0.0, "{c}");
        // No request waited: TTFT at p99 is the base latency (histogram precision 0.1%).
        let ttft = c["ttft_sla_ms"]["mean"].as_f64().unwrap();
        assert!((ttft / BASE_MS - 1.0).abs() < 0.002, "TTFT {ttft} ms");
    }
    assert!(j["all_on_demand"].is_null());
    let evaluated = j["evaluated"].as_array().unwrap();
    assert!(evaluated
        .iter()
        .any(|e| e["units"].as_u64().unwrap() < units as u64));
    for e in evaluated {
        let n = e["units"].as_u64().unwrap() as u32;
        assert_eq!(
            e["summary"]["meets_sla"],
            n >= needed,
            "{n} units: {}",
            e["summary"]
        );
    }
}

#[test]
fn plan_buys_the_units_a_hand_count_gives() {
    let k = units_by_hand();
    assert_eq!(k, 7, "the constants above are meant to need 7 units");
    assert_plan(&plan_json(&exact_scenario(1, 1)), k, k);
}

#[test]
fn plan_rounds_up_to_a_purchasable_number_of_units() {
    let k = units_by_hand();
    let (min, step) = (5, 5);
    let purchasable = if k <= min {
        min
    } else {
        min + (k - min).div_ceil(step) * step
    };
    assert_eq!(purchasable, 10);
    let j = plan_json(&exact_scenario(min, step));
    assert_plan(&j, purchasable, k);
    for e in j["evaluated"].as_array().unwrap() {
        let n = e["units"].as_u64().unwrap() as u32;
        assert!(
            n >= min && (n - min) % step == 0,
            "{n} units is not on the grid"
        );
    }
}

const SPILL: &str = r#"
[scenario]
name = "spill"
horizon_hours = 2
seed = 3
replications = 4

[[class]]
name = "chat"
model = "gpt-4o"
route = ["ptu", "paygo"]
arrivals = { mean_rps = 3.0, peak_hour = 1, peak_to_trough = 2.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }

[[deployment]]
name = "ptu"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 300, p99_ms = 800, prefill_ms_per_1k_input = 100 }
reserved = { units = 15, min_units = 15, unit_step = 5, tpm_per_unit = 2500, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = { hourly = 1.0, monthly = 0.3562, yearly = 0.3027 } }

[[deployment]]
name = "paygo"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 600, tpm = 400000, shared_pool_tpm = 5000000, background_utilization = 0.5 }
"#;

#[test]
fn plan_is_identical_on_one_and_four_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "spill.toml", SPILL);
    let mut dirs = Vec::new();
    for threads in ["1", "4"] {
        let out = tmp.path().join(format!("t{threads}"));
        plan_ok(&sc, &out, &["--threads", threads, "--sla", "p99<=2s"]);
        dirs.push(out);
    }
    // Besides the list of what llmcap wrote (llmcap-manifest.json).
    for f in entries(&dirs[0])
        .into_iter()
        .filter(|f| f != llmcap::report::output::WRITTEN_FILE)
    {
        assert!(
            llmcap::report::plan::PLAN_FILES.contains(&f.as_str()),
            "unexpected file {f}"
        );
    }
    for f in ["plan.json", "plan.csv", "plan.md"] {
        assert!(dirs[0].join(f).exists(), "{f} missing");
    }
    // A configuration meets the SLA, so its routing is written as a LiteLLM config that
    // imports back with the planned units.
    let yaml = std::fs::read_to_string(dirs[0].join("litellm_config.yaml")).unwrap();
    assert!(
        yaml.starts_with("# Written by llmcap export litellm"),
        "{yaml}"
    );
    // Several configurations, in more than one set-up, were simulated.
    let j = read_json(&dirs[0].join("plan.json"));
    assert!(j["evaluated"].as_array().unwrap().len() >= 5);
    assert_same_results(&dirs[0], &dirs[1], "plan.json");
}

#[track_caller]
fn sla(text: &str) -> (f64, f64) {
    let t = parse_sla(text).unwrap_or_else(|e| panic!("{text:?} rejected: {e}"));
    (t.percentile, t.ttft_ms)
}

#[test]
fn sla_forms_parse() {
    let close = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
    for text in [
        "p99<=800ms",
        "p99 < 0.8s",
        "99% under 800ms",
        "p99 <= 800 ms",
        "P99<=0.8S",
        "99% within 0.8s",
    ] {
        assert!(close(sla(text), (99.0, 800.0)), "{text:?}: {:?}", sla(text));
    }
    assert!(close(sla("99.9% <= 2 s"), (99.9, 2000.0)));
    assert!(close(sla("p50<=1.5s"), (50.0, 1500.0)));
    assert!(close(sla("p100<=10ms"), (100.0, 10.0)));
    for bad in [
        "p99",
        "99% under",
        "p101<=1s",
        "p0<=1s",
        "p99<=-5ms",
        "p99<=0ms",
        "p99<=800",
        "p99<=1m",
        "p<=1s",
        "%<=1s",
        "",
        "fast",
    ] {
        assert!(
            parse_sla(bad).is_err(),
            "{bad:?} accepted: {:?}",
            parse_sla(bad)
        );
    }
}

/// Runs `llmcap plan bad.toml --out DIR ARGS` on `text` and checks exit code 2,
/// that stderr contains every `expect`, and that nothing but the scenario is left.
#[track_caller]
fn plan_rejects(text: &str, args: &[&str], expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "bad.toml", text);
    let out = tmp.path().join("results");
    let mut a = llmcap()
        .args(["plan", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .args(args)
        .assert()
        .code(2);
    for e in expect {
        a = a.stderr(predicate::str::contains(*e));
    }
    assert_eq!(
        entries(tmp.path()),
        ["bad.toml"],
        "nothing but the scenario may remain"
    );
}

#[test]
fn bad_sla_strings_are_rejected() {
    let text = exact_scenario(1, 1);
    for (s, why) in [
        ("p99", "write it as \"p99<=800ms\""),
        ("99% under", "the time needs a unit, ms or s"),
        ("p101<=1s", "the percentile must be in (0, 100], got 101"),
        (
            "p99<=-5ms",
            "the time must be a finite number above 0, got -5",
        ),
        ("p99<=800", "the time needs a unit, ms or s"),
    ] {
        plan_rejects(&text, &["--sla", s], &["--sla", &format!("\"{s}\""), why]);
    }
    // The same string in [plan] names the file and the key.
    plan_rejects(
        &format!("{text}\n[plan]\nsla = \"p99<=800\"\n"),
        &[],
        &["bad.toml: plan.sla: \"p99<=800\"", "the time needs a unit"],
    );
}

#[test]
fn unknown_terms_are_rejected() {
    let text = exact_scenario(1, 1);
    plan_rejects(
        &text,
        &["--sla", "p99<=1s", "--terms", "monthly,weekly"],
        &[
            "--terms: \"weekly\" has no price in deployment \"ptu\"'s price_per_unit_hour",
            "(it has: monthly, yearly)",
        ],
    );
    plan_rejects(
        &format!("{text}\n[plan]\nterms = [\"hourly\"]\n"),
        &["--sla", "p99<=1s"],
        &[
            "bad.toml: plan.terms: \"hourly\" has no price",
            "(it has: monthly, yearly)",
        ],
    );
}

#[test]
fn a_plan_needs_an_sla() {
    plan_rejects(
        &exact_scenario(1, 1),
        &[],
        &["--sla: plan needs an SLA", "[plan] sla, or a class sla"],
    );
}

#[test]
fn bad_deployment_and_max_units_are_rejected() {
    plan_rejects(
        SPILL,
        &["--sla", "p99<=1s", "--deployment", "paygo"],
        &["--deployment: deployment \"paygo\" is on-demand, not reserved"],
    );
    plan_rejects(
        SPILL,
        &["--sla", "p99<=1s", "--deployment", "nope"],
        &["--deployment: no deployment named \"nope\""],
    );
    plan_rejects(
        SPILL,
        &["--sla", "p99<=1s", "--max-units", "10"],
        &["--max-units: must be at least the deployment's min_units = 15, got 10"],
    );
}

#[test]
fn a_plan_replaces_its_own_previous_results() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "exact.toml", &exact_scenario(1, 1));
    let out = tmp.path().join("out");
    for seed in ["1", "2"] {
        plan_ok(
            &sc,
            &out,
            &["--seed", seed, "--sla", "p99<=1s", "--max-units", "10"],
        );
    }
    assert_eq!(read_json(&out.join("plan.json"))["manifest"]["seed"], 2);
}

/// The search over configurations measured elsewhere (a merge of shards) visits what one
/// process simulates and reports the same plan; a configuration it needs and was not given is
/// an error naming it, never simulated behind the caller's back.
#[test]
fn a_search_over_measurements_simulates_nothing() {
    use llmcap::analysis::plan::{self, Mode, Unmeasured};
    let text = exact_scenario(1, 1);
    let sc = llmcap::domain::Scenario::from_toml(&text, Path::new("exact.toml")).unwrap();
    let target = parse_sla("p99<=1s").unwrap();
    let spec = plan::spec(
        &sc,
        Path::new("exact.toml"),
        Some(target),
        None,
        None,
        Some(30),
    )
    .unwrap();
    let (one, kept) = plan::plan_kept(&sc, &spec, 2, None, true);
    let visited: Vec<(Mode, u32)> = one.evaluated.iter().map(|e| (e.mode, e.units)).collect();
    assert_eq!(kept.keys().copied().collect::<Vec<_>>(), visited);
    let json = |r: &plan::PlanResult| serde_json::to_string(r).unwrap();
    let merged = plan::plan_measured(&sc, &spec, kept.clone()).unwrap();
    assert_eq!(json(&merged), json(&one));
    // Reserved only, 1 to 30 units: the bisection asks for 30 units first.
    let mut short = kept;
    assert!(short.remove(&(Mode::ReservedOnly, 30)).is_some());
    assert_eq!(
        plan::plan_measured(&sc, &spec, short).unwrap_err(),
        Unmeasured {
            mode: Mode::ReservedOnly,
            units: 30
        }
    );
}

/// A class routed over a reserved deployment `ptu` and two on-demand ones, `a` and `b`,
/// behind `router`: the walk with weighted routing, LiteLLM (ptu at order 1, a and b sharing
/// order 2) or Portkey (fallback from ptu to a 3:1 loadbalance over a and b). `route` lists
/// the deployments it uses; `units` is ptu's (deployed only when on the route).
fn routed_scenario(router: &str, route: &[&str], units: u32) -> String {
    let list = route
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let on_demand: Vec<&&str> = route.iter().filter(|d| **d != "ptu").collect();
    let (gateway, class) = match router {
        "walk" => {
            let weights = route
                .iter()
                .map(|d| if *d == "ptu" { "2" } else { "1" })
                .collect::<Vec<_>>()
                .join(", ");
            (
                String::new(),
                format!("routing = \"weighted\"\nweights = [{weights}]\n"),
            )
        }
        "litellm" => {
            let orders = route
                .iter()
                .map(|d| if *d == "ptu" { "1" } else { "2" })
                .collect::<Vec<_>>()
                .join(", ");
            (
                "[gateway]\nrouter = \"litellm\"\nnum_retries = 1\n".to_string(),
                format!("orders = [{orders}]\n"),
            )
        }
        "portkey" => {
            let mut tree = String::from("portkey = { mode = \"fallback\", targets = [");
            if route.contains(&"ptu") {
                tree.push_str("{ deployment = \"ptu\" }, ");
            }
            if !on_demand.is_empty() {
                let lb = on_demand
                    .iter()
                    .map(|d| {
                        let w = if ***d == *"a" { 3 } else { 1 };
                        format!("{{ deployment = \"{d}\", weight = {w} }}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                tree.push_str(&format!("{{ mode = \"loadbalance\", targets = [{lb}] }}"));
            }
            tree.push_str("] }\n");
            ("[gateway]\nrouter = \"portkey\"\n".to_string(), tree)
        }
        other => panic!("no router {other}"),
    };
    // Without ptu on the route it is not deployed at all (a reservation is billed unused).
    let ptu = if route.contains(&"ptu") {
        format!(
            r#"[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = 300, p99_ms = 900 }}
reserved = {{ units = {units}, tpm_per_unit = 20000, concurrency_per_unit = 2, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = {{ monthly = 0.5 }} }}
"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
[scenario]
name = "routed"
horizon_hours = 2
seed = 9
replications = 2

{gateway}
[[class]]
name = "chat"
model = "m"
route = [{list}]
{class}arrivals = {{ mean_rps = 3.0 }}
input_tokens = {{ dist = "lognormal", median = 800, p90 = 3000 }}
output_tokens = {{ dist = "lognormal", median = 150, p90 = 500 }}

{ptu}
[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = {{ median_ms = 400, p99_ms = 1500 }}
on_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0, rpm = 120 }}

[[deployment]]
name = "b"
platform = "custom"
model = "m"
latency = {{ median_ms = 500, p99_ms = 2000 }}
on_demand = {{ input_per_1m = 3.0, output_per_1m = 12.0 }}
"#
    )
}

/// Behind each router, `plan`'s reserved-only and all-on-demand alternatives edit the routing
/// the router reads (weights, LiteLLM steps, the Portkey tree) as a planner would by hand: each
/// costs exactly what `llmcap run` gives for the scenario written that way. (Before, removing
/// the reserved deployment left the LiteLLM steps, the Portkey tree and the weights pointing
/// past the shortened route, and the plan panicked.)
#[test]
fn plan_alternatives_behind_every_router_match_the_scenario_edited_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    for router in ["walk", "litellm", "portkey"] {
        let sc = write(
            tmp.path(),
            &format!("{router}.toml"),
            &routed_scenario(router, &["ptu", "a", "b"], 4),
        );
        let out = tmp.path().join(format!("{router}-plan"));
        plan_ok(&sc, &out, &["--sla", "p99<=2s", "--max-units", "40"]);
        let j = read_json(&out.join("plan.json"));
        let evaluated = j["evaluated"].as_array().unwrap();
        let find = |mode: &str| -> &serde_json::Value {
            evaluated
                .iter()
                .filter(|e| e["mode"] == mode)
                .max_by_key(|e| e["units"].as_u64().unwrap())
                .unwrap_or_else(|| panic!("{router}: no {mode} in {evaluated:?}"))
        };
        let on_demand = find("on-demand-only");
        let reserved = find("reserved-only");
        let units = reserved["units"].as_u64().unwrap() as u32;
        for (e, route, units) in [
            (on_demand, vec!["a", "b"], 4),
            (reserved, vec!["ptu"], units),
        ] {
            let name = format!("{router}-{}", e["mode"].as_str().unwrap());
            let by_hand = write(
                tmp.path(),
                &format!("{name}.toml"),
                &routed_scenario(router, &route, units),
            );
            let run = tmp.path().join(&name);
            crate::common::command_ok("run", &by_hand, &run, &[]);
            let s = read_json(&run.join("summary.json"));
            for (plan_key, run_key) in [
                ("total_usd", "total_usd"),
                ("on_demand_usd", "on_demand_usd"),
            ] {
                let got = e["summary"][plan_key]["mean"].as_f64().unwrap();
                let want = s["cost"][run_key]["mean"].as_f64().unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{name}: plan's {plan_key} {got} vs run {want}"
                );
            }
            assert!(s["requests"]["served"].as_f64().unwrap() > 0.0, "{name}");
        }
    }
}
