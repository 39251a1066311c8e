//! Cost attribution: attribution.csv / attribution.png of `llmcap run` on small scenarios (native, gateway, unattributable per platform and tag) and the catalog's attribution model check.

use std::collections::HashMap;
use std::path::Path;

use predicates::prelude::*;

use crate::common::{assert_same_results, command_ok, llmcap, write};

/// Two classes, team "search" and team "support", on the deployments of
/// `deployments` (TOML), routed as `routes` says.
fn scenario(routes: [&str; 2], deployments: &str) -> String {
    format!(
        r#"
[scenario]
name = "attribution"
horizon_hours = 3
seed = 11
replications = 2

[[class]]
name = "search"
model = "{model}"
route = [{r0}]
tags = {{ team = "search", product = "web" }}
arrivals = {{ mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 2000 }}
output_tokens = {{ dist = "fixed", value = 200 }}

[[class]]
name = "support"
model = "{model}"
route = [{r1}]
tags = {{ team = "support", product = "web" }}
arrivals = {{ mean_rps = 0.5 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 300 }}
{deployments}
"#,
        model = if deployments.contains("bedrock") {
            "claude-sonnet-4"
        } else {
            "gpt-4o"
        },
        r0 = routes[0],
        r1 = routes[1],
    )
}

fn on_demand(name: &str, platform: &str, model: &str) -> String {
    format!(
        r#"
[[deployment]]
name = "{name}"
platform = "{platform}"
model = "{model}"
latency = {{ median_ms = 300, p99_ms = 900 }}
on_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}
"#
    )
}

/// Rows of a CSV file as maps from column to value.
fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn f(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|e| panic!("{col} = {:?}: {e}", row[col]))
}

/// Runs `text` and returns the results folder (inside `tmp`).
fn run(tmp: &Path, name: &str, text: &str, extra: &[&str]) -> std::path::PathBuf {
    let file = write(tmp, &format!("{name}.toml"), text);
    let out = tmp.join(name);
    command_ok("run", &file, &out, extra);
    out
}

/// The attribution rows of a results folder, after checking what holds for
/// every row: native + gateway + unattributed = cost, shares in [0, 1], and
/// cost = the platform's total in hourly.csv.
fn attribution(out: &Path) -> Vec<HashMap<String, String>> {
    let rows = csv_rows(&out.join("attribution.csv"));
    let mut hourly: HashMap<String, f64> = HashMap::new();
    for h in csv_rows(&out.join("hourly.csv")) {
        *hourly.entry(h["platform"].clone()).or_default() += f(&h, "cost_total_usd");
    }
    for r in &rows {
        let cost = f(r, "cost_usd");
        let parts = f(r, "native_usd") + f(r, "gateway_usd") + f(r, "unattributed_usd");
        assert!((parts - cost).abs() < 1e-3, "{r:?}");
        let platform_total = hourly[&r["platform"]];
        // hourly.csv rounds each hour to 4 decimals.
        assert!(
            (platform_total - cost).abs() < 1e-4 * 24.0 + 1e-9 * cost,
            "{}: attribution {cost} vs hourly.csv {platform_total}",
            r["platform"]
        );
        for s in ["native_share", "with_gateway_share", "unattributable_share"] {
            let v = f(r, s);
            assert!((0.0..=1.0 + 1e-9).contains(&v), "{s} = {v}");
        }
        assert!((f(r, "native_share") + f(r, "unattributable_share") <= 1.0 + 1e-6));
    }
    rows
}

fn find<'a>(
    rows: &'a [HashMap<String, String>],
    platform: &str,
    dim: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r["platform"] == platform && r["dimension"] == dim)
        .unwrap_or_else(|| panic!("no {platform}/{dim} row in {rows:#?}"))
}

#[test]
fn the_columns_are_the_ones_llmcap_diff_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(
        ["\"br\"", "\"br\""],
        &on_demand("br", "bedrock", "claude-sonnet-4"),
    );
    let out = run(tmp.path(), "cols", &text, &[]);
    let mut r = csv::Reader::from_path(out.join("attribution.csv")).unwrap();
    let head: Vec<&str> = r.headers().unwrap().iter().collect();
    assert_eq!(head, llmcap::report::attribution::COLUMNS);
    assert_eq!(
        head,
        [
            "platform",
            "dimension",
            "mechanism",
            "granularity_hours",
            "cost_usd",
            "native_usd",
            "gateway_usd",
            "unattributed_usd",
            "native_share",
            "with_gateway_share",
            "unattributable_share",
            "reason"
        ]
    );
    // summary.json carries the same rows.
    let json = crate::common::read_json(&out.join("summary.json"));
    let rows = json["attribution"]
        .as_array()
        .expect("summary.json attribution");
    assert_eq!(rows.len(), 2, "product and team");
    assert_eq!(rows[0]["dimension"], "product");
    assert_eq!(rows[1]["dimension"], "team");
    assert!(rows[1]["with_gateway_share"].is_f64());
}

#[test]
fn bedrock_profiles_split_a_shared_on_demand_deployment_natively() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(
        ["\"br\"", "\"br\""],
        &on_demand("br", "bedrock", "claude-sonnet-4"),
    );
    let rows = attribution(&run(tmp.path(), "bedrock", &text, &[]));
    let team = find(&rows, "bedrock", "team");
    assert!(f(team, "cost_usd") > 1.0);
    assert_eq!(f(team, "native_share"), 1.0);
    assert_eq!(team["mechanism"], "application inference profiles");
    assert_eq!(team["granularity_hours"], "1.00");
    assert_eq!(team["reason"], "all native");
}

#[test]
fn azure_needs_a_gateway_for_a_shared_deployment_and_not_for_one_per_team() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = scenario(
        ["\"az\"", "\"az\""],
        &on_demand("az", "azure-openai", "gpt-4o"),
    );
    let rows = attribution(&run(tmp.path(), "shared", &shared, &[]));
    let team = find(&rows, "azure-openai", "team");
    assert_eq!(f(team, "native_share"), 0.0);
    assert_eq!(f(team, "with_gateway_share"), 1.0);
    assert_eq!(f(team, "unattributable_share"), 0.0);
    assert!(
        team["reason"].contains("az shared by 2 values of team"),
        "{team:?}"
    );
    // Both teams use product "web": the shared deployment is dedicated to it.
    assert_eq!(
        f(find(&rows, "azure-openai", "product"), "native_share"),
        1.0
    );

    let per_team = scenario(
        ["\"az-search\"", "\"az-support\""],
        &(on_demand("az-search", "azure-openai", "gpt-4o")
            + &on_demand("az-support", "azure-openai", "gpt-4o")),
    );
    let rows = attribution(&run(tmp.path(), "per_team", &per_team, &[]));
    let team = find(&rows, "azure-openai", "team");
    assert_eq!(f(team, "native_share"), 1.0);
    assert_eq!(f(team, "gateway_usd"), 0.0);
}

#[test]
fn a_shared_reservation_leaves_exactly_its_idle_cost_unattributed() {
    let tmp = tempfile::tempdir().unwrap();
    let ptu = r#"
[[deployment]]
name = "ptu"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 300, p99_ms = 900 }
reserved = { units = 300, tpm_per_unit = 2500, output_weight = 4, term = "monthly", price_per_unit_hour = { monthly = 0.3562 } }
"#;
    let text = scenario(["\"ptu\"", "\"ptu\""], ptu);
    let out = run(tmp.path(), "ptu", &text, &[]);
    let rows = attribution(&out);
    let team = find(&rows, "azure-openai", "team");
    let cost = f(team, "cost_usd");
    assert!((cost - 300.0 * 0.3562 * 3.0).abs() < 1e-6, "{cost}");
    assert_eq!(f(team, "native_usd"), 0.0);
    let idle: f64 = csv_rows(&out.join("cost_by_tag.csv"))
        .iter()
        .filter(|r| r["dimension"] == "team" && r["value"] == "(idle reserved capacity)")
        .map(|r| f(r, "cost_total_usd"))
        .sum();
    assert!(
        idle > 0.1 * cost,
        "the reservation is mostly idle: {idle} of {cost}"
    );
    // cost_by_tag.csv rounds each of the 3 hours to 4 decimals.
    assert!(
        (f(team, "unattributed_usd") - idle).abs() < 3e-4,
        "attribution {} vs cost_by_tag idle {idle}",
        f(team, "unattributed_usd")
    );
    assert!((f(team, "gateway_usd") - (cost - idle)).abs() < 3e-4);
    assert!(team["reason"].contains("ptu idle capacity"), "{team:?}");
    // Both teams share product "web": dedicated, so idle capacity included it is native.
    assert_eq!(
        f(find(&rows, "azure-openai", "product"), "native_share"),
        1.0
    );
}

#[test]
fn attribution_png_is_written_and_the_same_on_one_and_four_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(
        ["\"br\", \"az\"", "\"az\", \"br\""],
        &(on_demand("br", "bedrock", "claude-sonnet-4")
            + &on_demand("az", "azure-openai", "gpt-4.1")),
    )
    .replace(
        "model = \"claude-sonnet-4\"\nroute = [\"az\"",
        "model = \"gpt-4.1\"\nroute = [\"az\"",
    )
    .replacen(
        "route = [\"br\", \"az\"]",
        "substitutes = [\"gpt-4.1\"]\nroute = [\"br\", \"az\"]",
        1,
    )
    .replacen(
        "route = [\"az\", \"br\"]",
        "substitutes = [\"claude-sonnet-4\"]\nroute = [\"az\", \"br\"]",
        1,
    );
    // One file (report.md names it), two thread counts.
    let file = write(tmp.path(), "two.toml", &text);
    let (one, four) = (tmp.path().join("one"), tmp.path().join("four"));
    command_ok("run", &file, &one, &["--threads", "1"]);
    command_ok("run", &file, &four, &["--threads", "4"]);
    assert_same_results(&one, &four, "summary.json");
    let png = std::fs::read(one.join("attribution.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let rows = attribution(&one);
    assert_eq!(rows.len(), 4, "bedrock and azure-openai x product and team");
    assert_eq!(rows[0]["platform"], "bedrock", "scenario order");
    assert!(std::fs::read_to_string(one.join("report.md"))
        .unwrap()
        .contains("## Cost attribution"));
}

#[test]
fn a_scenario_without_tags_gets_a_header_and_a_chart_that_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(
        ["\"az\"", "\"az\""],
        &on_demand("az", "azure-openai", "gpt-4o"),
    )
    .replace("tags = { team = \"search\", product = \"web\" }\n", "")
    .replace("tags = { team = \"support\", product = \"web\" }\n", "");
    let out = run(tmp.path(), "untagged", &text, &[]);
    assert!(csv_rows(&out.join("attribution.csv")).is_empty());
    assert!(
        std::fs::metadata(out.join("attribution.png"))
            .unwrap()
            .len()
            > 10_000
    );
}

#[test]
fn the_catalog_check_covers_the_attribution_model() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (bedrock, gateway) = (
        repo.join("sim/input/catalog/bedrock.toml"),
        repo.join("sim/input/catalog/gateway.toml"),
    );
    llmcap()
        .args(["catalog", "--check"])
        .arg(&bedrock)
        .arg(&gateway)
        .assert()
        .success();
    let tmp = tempfile::tempdir().unwrap();
    // `file` with `from` replaced by `to` fails the check with `message`.
    let fails = |file: &Path, name: &str, from: &str, to: &str, message: &str| {
        let text = std::fs::read_to_string(file).unwrap();
        let bad = text.replacen(from, to, 1);
        assert_ne!(bad, text, "{from} is not in {}", file.display());
        let path = write(tmp.path(), name, &bad);
        llmcap()
            .args(["catalog", "--check"])
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{name}: {message}")));
    };
    fails(
        &bedrock,
        "bad.toml",
        "on_demand = { value = \"request\"",
        "on_demand = { value = \"per-call\"",
        "platform.attribution_model.on_demand: \"per-call\" is not allowed; allowed: request, credential, resource",
    );
    fails(
        &bedrock,
        "zero.toml",
        "granularity_hours = { value = 1, ",
        "granularity_hours = { value = 0, ",
        "platform.attribution_model.granularity_hours: must be a number from",
    );
    // The gateway splits reserved capacity by request share and nothing else.
    fails(
        &gateway,
        "gw.toml",
        "reserved = { value = \"request-share\"",
        "reserved = { value = \"resource\"",
        "gateway.attribution_model.reserved: \"resource\" is not allowed; allowed: request-share",
    );
}
