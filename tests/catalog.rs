//! The platform catalog: `llmcap catalog` and its --check, catalog offerings as scenario deployments, and the model checks on deployments and routes.

use std::path::Path;

use llmcap::analysis::run::run;
use llmcap::domain::{Pool, Scenario};
use llmcap::input::catalog::{Catalog, Offering, Platform};
use predicates::prelude::*;

use crate::common::{llmcap, write};

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A catalog file with one platform and one on-demand offering, every value
/// sourced and dated.
const VALID: &str = r#"
[platform]
id = "x"
name = "X"
kind = "vendor-api"
attribution = { value = "API keys per project", source = "docs", as_of = "2026-01" }
[platform.attribution_model]
mechanism = { value = "projects", source = "docs", as_of = "2026-01" }
on_demand = { value = "credential", source = "docs", as_of = "2026-01" }
reserved = { value = "none", source = "docs", as_of = "2026-01" }
dimensions = { value = ["team", "product"], source = "docs", as_of = "2026-01" }
granularity_hours = { value = 24, source = "docs", as_of = "2026-01" }
latency_hours = { value = 1, source = "assumption: minutes", as_of = "2026-01" }
default_view = { value = "per project and day", source = "docs", as_of = "2026-01" }
[platform.compliance]
hipaa_baa = { value = false, source = "docs", as_of = "2026-01" }
soc2 = { value = true, source = "docs", as_of = "2026-01" }
iso27001 = { value = true, source = "docs", as_of = "2026-01" }
data_residency = { value = ["us"], source = "docs", as_of = "2026-01-15" }
[[offering]]
id = "m/od"
model = "m"
kind = "on_demand"
regions = { value = ["us"], source = "docs", as_of = "2026-01" }
latency = { median_ms = { value = 400, source = "benchmark", as_of = "2026-01" }, p99_ms = { value = 900, source = "assumption: 2.25 x median", as_of = "2026-01" } }
on_demand = { input_per_1m = { value = 1, source = "price list", as_of = "2026-01" }, output_per_1m = { value = 2, source = "price list", as_of = "2026-01" } }
lifecycle = { status = { value = "available", source = "deprecations page", as_of = "2026-01" } }
scope = { value = "region", source = "deployment types page", as_of = "2026-01" }
"#;

/// `llmcap catalog --check FILE...` on the given texts.
fn check_files(files: &[(&str, &str)]) -> assert_cmd::assert::Assert {
    let tmp = tempfile::tempdir().unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|(name, text)| write(tmp.path(), name, text).to_str().unwrap().to_string())
        .collect();
    let a = llmcap().arg("catalog").arg("--check").args(&paths).assert();
    drop(tmp);
    a
}

#[test]
fn the_shipped_catalog_passes_its_check() {
    let problems = Catalog::shipped().check();
    assert!(problems.is_empty(), "{problems:#?}");
    let platforms = Catalog::shipped().files.len();
    let offerings = Catalog::shipped().offerings().count();
    llmcap()
        .args(["catalog", "--check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "catalog ok: {platforms} platform(s), {offerings} offering(s)"
        )));
    // The files on disk are the ones embedded in the binary.
    let files: Vec<String> = llmcap::input::catalog::SHIPPED
        .iter()
        .map(|(f, text)| {
            let path = repo(f);
            assert_eq!(
                &std::fs::read_to_string(&path).unwrap(),
                text,
                "{f} differs from the embedded copy (rebuild)"
            );
            path.to_str().unwrap().to_string()
        })
        .collect();
    llmcap()
        .args(["catalog", "--check"])
        .args(&files)
        .assert()
        .success();
}

#[test]
fn catalog_check_rejects_unsourced_and_undated_values() {
    // The fixture itself passes, so each failure below is its one defect.
    check_files(&[("x.toml", VALID)])
        .success()
        .stdout(predicate::str::contains(
            "catalog ok: 1 platform(s), 1 offering(s)",
        ));

    let unsourced = VALID.replace(
        r#"p99_ms = { value = 900, source = "assumption: 2.25 x median", as_of"#,
        r#"p99_ms = { value = 900, as_of"#,
    );
    assert_ne!(unsourced, VALID);
    check_files(&[("unsourced.toml", &unsourced)])
        .code(2)
        .stderr(
            predicate::str::contains(
                "unsourced.toml: offering[0] (m/od).latency.p99_ms: has no source",
            )
            .and(predicate::str::contains("1 problem(s)")),
        );

    let blank = VALID.replace(
        r#"source = "price list", as_of = "2026-01" }, output"#,
        r#"source = " ", as_of = "2026-01" }, output"#,
    );
    assert_ne!(blank, VALID);
    check_files(&[("blank.toml", &blank)])
        .code(2)
        .stderr(predicate::str::contains(
            "blank.toml: offering[0] (m/od).on_demand.input_per_1m: has no source",
        ));

    for bad_date in ["Jan 2026", "2026-13", "2026-02-30x", "26-01"] {
        let undated = VALID.replace(
            r#"output_per_1m = { value = 2, source = "price list", as_of = "2026-01" }"#,
            &format!(
                r#"output_per_1m = {{ value = 2, source = "price list", as_of = "{bad_date}" }}"#
            ),
        );
        assert_ne!(undated, VALID);
        check_files(&[("undated.toml", &undated)])
            .code(2)
            .stderr(predicate::str::contains(format!(
                "undated.toml: offering[0] (m/od).on_demand.output_per_1m: as_of \"{bad_date}\" is not a date"
            )));
    }

    let no_date = VALID.replace(r#", as_of = "2026-01-15""#, "");
    assert_ne!(no_date, VALID);
    check_files(&[("nodate.toml", &no_date)])
        .code(2)
        .stderr(predicate::str::contains(
            "nodate.toml: platform.compliance.data_residency: has no as_of date",
        ));

    // The same platform twice.
    check_files(&[("x.toml", VALID), ("y.toml", VALID)])
        .code(2)
        .stderr(predicate::str::contains(
            "y.toml: platform.id: duplicate platform id \"x\"",
        ));

    // Not even a catalog: a parse error naming the file, line and key.
    check_files(&[(
        "typo.toml",
        &VALID.replace("kind = \"vendor-api\"", "knd = \"vendor-api\""),
    )])
    .code(2)
    .stderr(predicate::str::contains("typo.toml:").and(predicate::str::contains("knd")));
}

/// The scenario that uses offering `p/o` as its only deployment, serving a
/// class of the offering's model. Reserved offerings get `units = min_units`
/// and the first term they price.
fn offering_scenario(p: &Platform, o: &Offering) -> String {
    let reserved = match &o.reserved {
        Some(r) => {
            let units = r.min_units.as_ref().map_or(1.0, |v| v.value);
            let term = &r
                .terms
                .first()
                .expect("a reserved offering sells a term")
                .name;
            format!("reserved = {{ units = {units}, term = \"{term}\" }}")
        }
        None => String::new(),
    };
    format!(
        r#"
[scenario]
name = "offering"
horizon_hours = 1
[[deployment]]
name = "d"
offering = "{}/{}"
{reserved}
[[class]]
name = "c"
model = "{}"
route = ["d"]
arrivals = {{ mean_rps = 0.5 }}
input_tokens = {{ dist = "fixed", value = 200 }}
output_tokens = {{ dist = "fixed", value = 20 }}
"#,
        p.id, o.id, o.model
    )
}

#[test]
fn every_shipped_offering_works_as_a_scenario_deployment() {
    let cat = Catalog::shipped();
    let mut checked = 0;
    for (p, o) in cat.offerings() {
        let id = format!("{}/{}", p.id, o.id);
        let text = offering_scenario(p, o);
        let sc = Scenario::from_toml(&text, Path::new("offering.toml"))
            .unwrap_or_else(|e| panic!("{id}: {e}\n{text}"));
        let d = &sc.deployments[0];
        assert_eq!(d.offering.as_deref(), Some(id.as_str()));
        assert_eq!(
            (d.platform.as_str(), d.model.as_str()),
            (p.id.as_str(), o.model.as_str()),
            "{id}"
        );
        assert_eq!(d.region.as_ref(), o.regions.value.first(), "{id}: region");
        assert_eq!(d.latency.median_ms, o.latency.median_ms.value, "{id}");
        assert_eq!(d.latency.p99_ms, o.latency.p99_ms.value, "{id}");
        assert_eq!(
            d.latency.prefill_ms_per_1k_input,
            o.latency
                .prefill_ms_per_1k_input
                .as_ref()
                .map_or(0.0, |v| v.value),
            "{id}"
        );
        match (&d.pool, &o.on_demand, &o.reserved) {
            (Pool::OnDemand(x), Some(od), None) => {
                assert_eq!(o.kind, "on_demand");
                assert_eq!(x.input_per_1m, od.input_per_1m.value, "{id}: input price");
                assert_eq!(
                    x.output_per_1m, od.output_per_1m.value,
                    "{id}: output price"
                );
                assert_eq!(x.tpm, od.tpm.as_ref().map(|v| v.value), "{id}: tpm");
                assert_eq!(x.rpm, od.rpm.as_ref().map(|v| v.value), "{id}: rpm");
            }
            (Pool::Reserved(x), None, Some(r)) => {
                assert_eq!(o.kind, "reserved");
                assert_eq!(x.tpm_per_unit, r.tpm_per_unit.value, "{id}: tpm per unit");
                assert_eq!(
                    x.output_weight,
                    r.output_weight.as_ref().map_or(1.0, |v| v.value),
                    "{id}"
                );
                assert_eq!(
                    x.min_units as f64,
                    r.min_units.as_ref().map_or(1.0, |v| v.value),
                    "{id}"
                );
                assert_eq!(
                    x.unit_step as f64,
                    r.unit_step.as_ref().map_or(1.0, |v| v.value),
                    "{id}"
                );
                assert_eq!(x.units, x.min_units);
                assert!(r.term(&x.term).is_some(), "{id}: term {}", x.term);
                assert_eq!(x.price_per_unit_hour, r.prices(), "{id}: unit-hour prices");
                for t in &r.terms {
                    assert_eq!(
                        x.term_hours[&t.name], t.hours.value,
                        "{id}: {} hours",
                        t.name
                    );
                }
                assert_eq!(
                    x.unit_hour_price(),
                    r.term(&x.term).unwrap().unit_hour_price()
                );
            }
            (pool, _, _) => panic!("{id}: kind {} became a {} pool", o.kind, pool.kind()),
        }
        // And it runs: an hour of light traffic is served.
        let m = run(&sc, 1, None).pooled();
        let c = &m.classes[0];
        assert!(
            c.served > 0,
            "{id}: nothing served ({} arrived, {} throttled)",
            c.arrived,
            c.throttled
        );
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} offerings in the shipped catalog"
    );
}

#[test]
fn scenario_keys_override_the_offering() {
    // As scenarios/two_provider.toml: a raised quota, prices from the catalog.
    let (p, o) = Catalog::shipped()
        .offering("bedrock/claude-sonnet-4/us-cris")
        .expect("the catalog sells Claude Sonnet 4 on Bedrock");
    let od = o.on_demand.as_ref().unwrap();
    let text = offering_scenario(p, o).replace(
        "offering = \"bedrock/claude-sonnet-4/us-cris\"",
        "offering = \"bedrock/claude-sonnet-4/us-cris\"\nregion = \"us-west-2\"\non_demand = { rpm = 1000, tpm = 2_000_000 }\nlatency = { median_ms = 500 }",
    );
    let sc = Scenario::from_toml(&text, Path::new("override.toml")).unwrap();
    let d = &sc.deployments[0];
    let Pool::OnDemand(x) = &d.pool else {
        panic!("on-demand offering")
    };
    assert_eq!((x.rpm, x.tpm), (Some(1000.0), Some(2_000_000.0)));
    assert_eq!(
        (x.input_per_1m, x.output_per_1m),
        (od.input_per_1m.value, od.output_per_1m.value)
    );
    assert_eq!(d.region.as_deref(), Some("us-west-2"));
    assert_eq!(d.latency.median_ms, 500.0);
    assert_eq!(
        d.latency.p99_ms, o.latency.p99_ms.value,
        "keys not written come from the catalog"
    );
}

/// `llmcap validate` on `text` (saved as `name`) exits 2 naming the file and
/// every string in `expect`.
#[track_caller]
fn rejects(name: &str, text: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), name, text);
    let mut p = predicate::str::contains(name).boxed();
    for e in expect {
        p = p.and(predicate::str::contains(*e)).boxed();
    }
    llmcap()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(p);
}

#[track_caller]
fn accepts(text: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "ok.toml", text);
    llmcap()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .success();
}

/// Two custom deployments "a" (model m1) and "b" (model m2); class "c" of
/// model m1 routed to both, with `class_keys`.
fn two_models(class_keys: &str) -> String {
    format!(
        r#"
[scenario]
horizon_hours = 1
[[deployment]]
name = "a"
platform = "custom"
model = "m1"
latency = {{ median_ms = 100, p99_ms = 300 }}
on_demand = {{ input_per_1m = 1, output_per_1m = 1 }}
[[deployment]]
name = "b"
platform = "custom"
model = "m2"
latency = {{ median_ms = 100, p99_ms = 300 }}
on_demand = {{ input_per_1m = 1, output_per_1m = 1 }}
[[class]]
name = "c"
model = "m1"
route = ["a", "b"]
{class_keys}
arrivals = {{ mean_rps = 1 }}
input_tokens = {{ dist = "fixed", value = 10 }}
output_tokens = {{ dist = "fixed", value = 10 }}
"#
    )
}

#[test]
fn a_route_to_another_model_needs_it_among_the_substitutes() {
    rejects(
        "route.toml",
        &two_models(""),
        &[
            "class[0].route[1]",
            "deployment \"b\" serves model \"m2\"",
            "the class needs \"m1\"",
            "substitutes",
        ],
    );
    rejects(
        "route.toml",
        &two_models("substitutes = [\"m3\"]"),
        &[
            "class[0].route[1]",
            "\"m2\"",
            "\"m1\"",
            "or a substitute (m3)",
        ],
    );
    accepts(&two_models("substitutes = [\"m2\"]"));
    let sc = crate::common::scenario(&two_models("substitutes = [\"m2\", \"m3\"]"));
    assert_eq!(sc.classes[0].substitutes, ["m2", "m3"]);
    // The substitute serves when the primary model's deployment is down.
    let mut text = two_models("substitutes = [\"m2\"]");
    text.push_str("[[outage]]\ndeployments = [\"a\"]\nstart_hour = 0\nduration_hours = 1\n");
    let sc = crate::common::scenario(&text);
    let m = run(&sc, 1, None).pooled();
    assert_eq!(m.deployments[1].served, m.classes[0].arrived);
    assert_eq!(m.classes[0].rescued, m.classes[0].arrived);
}

/// One deployment with `keys`, and a class of model `model` routed to it.
fn one_deployment(keys: &str, model: &str) -> String {
    format!(
        r#"
[scenario]
horizon_hours = 1
[[deployment]]
name = "d"
{keys}
[[class]]
name = "c"
model = "{model}"
route = ["d"]
arrivals = {{ mean_rps = 1 }}
input_tokens = {{ dist = "fixed", value = 10 }}
output_tokens = {{ dist = "fixed", value = 10 }}
"#
    )
}

const LATENCY_OD: &str =
    "latency = { median_ms = 400, p99_ms = 1200 }\non_demand = { input_per_1m = 1, output_per_1m = 2 }";

#[test]
fn catalog_platforms_must_sell_the_model() {
    let bedrock = Catalog::shipped().models_of("bedrock");
    assert!(bedrock.contains(&"claude-sonnet-4") && !bedrock.contains(&"gpt-4o"));
    rejects(
        "model.toml",
        &one_deployment(
            &format!("platform = \"bedrock\"\nmodel = \"gpt-4o\"\n{LATENCY_OD}"),
            "gpt-4o",
        ),
        &[
            "deployment[0].model",
            "platform \"bedrock\" does not sell model \"gpt-4o\"",
            &format!("it sells: {}", bedrock.join(", ")),
            "platform = \"custom\"",
        ],
    );
    // The same model on a platform that sells it, or on "custom", is fine.
    accepts(&one_deployment(
        &format!("platform = \"azure-openai\"\nmodel = \"gpt-4o\"\n{LATENCY_OD}"),
        "gpt-4o",
    ));
    accepts(&one_deployment(
        &format!("platform = \"custom\"\nmodel = \"my-finetune\"\n{LATENCY_OD}"),
        "my-finetune",
    ));
    // Model names are canonical: no case folding.
    rejects(
        "model.toml",
        &one_deployment(
            &format!("platform = \"azure-openai\"\nmodel = \"GPT-4o\"\n{LATENCY_OD}"),
            "GPT-4o",
        ),
        &["deployment[0].model", "does not sell model \"GPT-4o\""],
    );
}

#[test]
fn unknown_platforms_and_offerings_are_rejected() {
    rejects(
        "platform.toml",
        &one_deployment(
            &format!("platform = \"azure\"\nmodel = \"gpt-4o\"\n{LATENCY_OD}"),
            "gpt-4o",
        ),
        &[
            "deployment[0].platform",
            "unknown platform \"azure\"",
            "azure-openai",
            "bedrock",
            "\"custom\"",
        ],
    );
    rejects(
        "offering.toml",
        &one_deployment(
            "offering = \"bedrock/claude-sonnet-4/eu-cris\"",
            "claude-sonnet-4",
        ),
        &[
            "deployment[0].offering",
            "unknown offering \"bedrock/claude-sonnet-4/eu-cris\"",
            "similar: ",
            "bedrock/claude-sonnet-4/us-cris",
            "llmcap catalog",
        ],
    );
    rejects(
        "offering.toml",
        &one_deployment("offering = \"nowhere/thing\"", "thing"),
        &[
            "deployment[0].offering",
            "unknown offering \"nowhere/thing\"",
            "platforms: azure-openai",
        ],
    );
    rejects(
        "offering.toml",
        &one_deployment("offering = 4", "m"),
        &["deployment[0].offering", "must be a string"],
    );
    rejects(
        "offering.toml",
        &one_deployment("offering = \"bedrock/claude-sonnet-4/us-cris\"\nmodel = \"gpt-4o\"", "gpt-4o"),
        &[
            "deployment[0].model",
            "is \"gpt-4o\", but offering \"bedrock/claude-sonnet-4/us-cris\" is model \"claude-sonnet-4\"",
            "leave it out",
        ],
    );
    rejects(
        "offering.toml",
        &one_deployment(
            "offering = \"bedrock/claude-sonnet-4/us-cris\"\nplatform = \"anthropic\"",
            "claude-sonnet-4",
        ),
        &[
            "deployment[0].platform",
            "is \"anthropic\"",
            "platform \"bedrock\"",
        ],
    );
    // Writing the offering's own model and platform is allowed.
    accepts(&one_deployment(
        "offering = \"bedrock/claude-sonnet-4/us-cris\"\nplatform = \"bedrock\"\nmodel = \"claude-sonnet-4\"",
        "claude-sonnet-4",
    ));
    // An on-demand offering has no reserved keys.
    rejects(
        "offering.toml",
        &one_deployment(
            "offering = \"bedrock/claude-sonnet-4/us-cris\"\nreserved = { units = 1, term = \"hourly\" }",
            "claude-sonnet-4",
        ),
        &["deployment[0].reserved", "on_demand"],
    );
    // A route to an offering of another model names both.
    rejects(
        "offering.toml",
        &one_deployment("offering = \"bedrock/claude-sonnet-4/us-cris\"", "gpt-4o"),
        &[
            "class[0].route[0]",
            "\"claude-sonnet-4\"",
            "\"gpt-4o\"",
            "substitutes",
        ],
    );
}

/// The offering ids and models in the head lines of `llmcap catalog`'s listing
/// ("  bedrock/claude-sonnet-4/us-east-1: claude-sonnet-4, on-demand, region scope, available").
fn listed_offerings(stdout: &str) -> Vec<(String, String)> {
    let ids: Vec<String> = Catalog::shipped()
        .platform_ids()
        .iter()
        .map(|p| format!("{p}/"))
        .collect();
    stdout
        .lines()
        .filter_map(|l| {
            let (id, rest) = l.strip_prefix("  ")?.split_once(": ")?;
            let model = rest.split(',').next().unwrap_or("");
            ids.iter()
                .any(|p| id.starts_with(p.as_str()))
                .then(|| (id.to_string(), model.to_string()))
        })
        .collect()
}

#[test]
fn catalog_listing_fits_100_columns_and_states_scope_and_lifecycle() {
    let text = |args: &[&str]| {
        let out = llmcap()
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let listing = text(&["catalog"]);
    for l in listing.lines() {
        assert!(l.chars().count() <= 100, "over 100 columns: {l:?}");
    }
    // An offering's head line with its wrapped continuation, up to its "regions:" line.
    let head = |listing: &str, id: &str| {
        let start = format!("  {id}: ");
        let lines: Vec<&str> = listing
            .lines()
            .skip_while(|l| !l.starts_with(&start))
            .take_while(|l| !l.trim_start().starts_with("regions:"))
            .map(str::trim)
            .collect();
        assert!(!lines.is_empty(), "{id} not listed");
        lines.join(" ")
    };
    // claude-3-7-sonnet on the Claude API retired on 2026-02-19 (its catalog lifecycle).
    let id = "anthropic/claude-3-7-sonnet/standard";
    let today = head(&listing, id);
    assert!(today.contains("global scope"), "{today}");
    assert!(today.contains("retired on 2026-02-19"), "{today}");
    let before = head(&text(&["catalog", "--as-of", "2026-01-01"]), id);
    assert!(!before.contains("retired"), "{before}");
    // Every offering states its scope and its lifecycle stage.
    for (id, _) in listed_offerings(&listing) {
        let h = head(&listing, &id);
        assert!(
            ["region scope", "geography scope", "global scope"]
                .iter()
                .any(|s| h.contains(s)),
            "{h}"
        );
        assert!(
            ["available", "deprecated on", "retired on"]
                .iter()
                .any(|s| h.contains(s)),
            "{h}"
        );
    }
    llmcap()
        .args(["catalog", "--as-of", "next week"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as-of").and(predicate::str::contains("YYYY-MM-DD")));
}

#[test]
fn catalog_lists_one_platform_or_one_model() {
    let out = llmcap()
        .args(["catalog"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let all = listed_offerings(&String::from_utf8(out).unwrap());
    assert_eq!(
        all.len(),
        Catalog::shipped().offerings().count(),
        "every offering listed"
    );

    let out = llmcap()
        .args(["catalog", "--platform", "bedrock"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let rows = listed_offerings(&text);
    let bedrock = Catalog::shipped()
        .platform("bedrock")
        .unwrap()
        .offering
        .len();
    assert!(bedrock > 0);
    assert_eq!(rows.len(), bedrock, "{text}");
    assert!(
        rows.iter().all(|(id, _)| id.starts_with("bedrock/")),
        "{rows:?}"
    );
    assert!(text.starts_with("bedrock — Amazon Bedrock"), "{text}");
    for other in Catalog::shipped().platform_ids() {
        if other != "bedrock" {
            assert!(
                !text.lines().any(|l| l.starts_with(&format!("{other} — "))),
                "{other} listed"
            );
        }
    }

    let out = llmcap()
        .args(["catalog", "--model", "claude-sonnet-4"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows = listed_offerings(&String::from_utf8(out).unwrap());
    assert!(rows.len() >= 2, "{rows:?}");
    assert!(
        rows.iter().all(|(_, model)| model == "claude-sonnet-4"),
        "{rows:?}"
    );

    llmcap()
        .args(["catalog", "--platform", "azure"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("--platform: unknown platform \"azure\"")
                .and(predicate::str::contains("azure-openai")),
        );
}

/// Every `{ value, source, as_of }` in `v` has a non-empty source and a date.
fn check_sourced(at: &str, v: &serde_json::Value, count: &mut usize) {
    match v {
        serde_json::Value::Object(o) => {
            if o.contains_key("value") {
                let source = o.get("source").and_then(|s| s.as_str()).unwrap_or("");
                assert!(!source.trim().is_empty(), "{at}: no source: {v}");
                assert!(
                    o.get("as_of").and_then(|s| s.as_str()).is_some(),
                    "{at}: no as_of: {v}"
                );
                *count += 1;
            } else {
                for (k, x) in o {
                    check_sourced(&format!("{at}.{k}"), x, count);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_sourced(&format!("{at}[{i}]"), x, count);
            }
        }
        _ => {}
    }
}

#[test]
fn catalog_json_is_valid_and_carries_every_source() {
    let out = llmcap()
        .args(["catalog", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: Vec<serde_json::Value> =
        serde_json::from_slice(&out).expect("catalog --json is JSON");
    assert_eq!(rows.len(), Catalog::shipped().offerings().count());
    let mut sourced = 0;
    for (row, (p, o)) in rows.iter().zip(Catalog::shipped().offerings()) {
        let id = format!("{}/{}", p.id, o.id);
        assert_eq!(row["platform"], p.id.as_str());
        assert_eq!(row["offering"], id.as_str());
        assert_eq!(row["data"]["model"], o.model.as_str());
        assert_eq!(
            row["data"]["latency"]["median_ms"]["value"].as_f64(),
            Some(o.latency.median_ms.value)
        );
        let before = sourced;
        check_sourced(&id, &row["data"], &mut sourced);
        // regions, median, p99 and two prices (or tpm per unit and a price) at least.
        assert!(
            sourced - before >= 5,
            "{id}: {} sourced values",
            sourced - before
        );
    }

    let out = llmcap()
        .args(["catalog", "--json", "--platform", "bedrock"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["platform"] == "bedrock"));
}

#[test]

fn catalog_into_a_closed_pipe_is_not_a_crash() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("llmcap"))
        .args(["catalog", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end at once: the output (hundreds of kB) cannot fit
    // in the pipe, so the write fails with EPIPE whenever it happens.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
