//! Resilience: outages, failover, gateway cooldown, routing policies (ordered, weighted, cheapest, fastest) and their input checks.
//!
//! Most scenarios here are exact by construction: deterministic arrivals
//! (`process = "deterministic"` at `rps` puts arrival k at k / rps seconds,
//! k = 1, 2, ..., strictly before the horizon, so one hour at 1 request/s has
//! 3599 arrivals, at whole seconds 1..=3599), fixed token counts, platform
//! "custom" deployments without quotas or shared-pool load and with a constant
//! TTFT (median = p99, no prefill), and a client with one attempt. Every count
//! below then follows from the outage times by hand.

use std::path::Path;

use llmcap::analysis::run::run;
use llmcap::domain::{Routing, Scenario};
use llmcap::model::metrics::{ClassStats, DeploymentStats, Hist, RepMetrics};
use predicates::prelude::*;

use crate::common::{assert_same_results, command_ok, llmcap, read_json, scenario, write};

const US: u64 = 1_000_000;

/// The scheduled window used by most tests: from hour 0.25 (900 s) for 0.125 h
/// (450 s), i.e. [900 s, 1350 s). Both are exact binary fractions, so the window
/// is exact in microseconds. At 1 request/s, arrivals 900, 901, ..., 1349 fall
/// in it: 450 of them (the one at 900 s is inside, the one at 1350 s outside).
const WINDOW: &str = "start_hour = 0.25\nduration_hours = 0.125";
const IN_WINDOW: u64 = 450;
/// Arrivals at whole seconds 1..=3599 in a one-hour horizon at 1 request/s.
const ARRIVALS_1H: u64 = 3599;

/// A `custom` on-demand deployment of model "m" without quotas, TTFT exactly
/// `ttft_ms`, input price `price` per 1M tokens.
fn deployment(name: &str, ttft_ms: u32, price: f64) -> String {
    format!(
        r#"
[[deployment]]
name = "{name}"
platform = "custom"
model = "m"
latency = {{ median_ms = {ttft_ms}, p99_ms = {ttft_ms} }}
on_demand = {{ input_per_1m = {price:?}, output_per_1m = {price:?} }}
"#
    )
}

/// A scenario of `hours` hours with one class "c" (model "m", 1000 input and
/// 100 output tokens, more keys in `class_keys`) routed over `route`, with
/// `arrivals` the body of its arrivals table; a client without retries;
/// deployments "primary" and "fallback" (TTFT 200 ms, same price); then
/// `tail` (more tables: outages, a gateway).
fn text(hours: u32, arrivals: &str, route: &str, class_keys: &str, tail: &str) -> String {
    format!(
        r#"
[scenario]
name = "failover"
horizon_hours = {hours}
seed = 5
[client]
max_attempts = 1

[[class]]
name = "c"
model = "m"
route = {route}
arrivals = {{ {arrivals} }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
{class_keys}
{}{}
{tail}
"#,
        deployment("primary", 200, 1.0),
        deployment("fallback", 200, 1.0),
    )
}

const EVERY_SECOND: &str = r#"process = "deterministic", mean_rps = 1.0"#;

fn outage(effect: &str) -> String {
    format!(
        "[[outage]]\nname = \"primary down\"\ndeployments = [\"primary\"]\n{WINDOW}\n{effect}\n"
    )
}

fn run1(sc: &Scenario) -> RepMetrics {
    assert_eq!(sc.replications, 1);
    run(sc, 1, None).pooled()
}

/// The counters of a class (its Debug output includes the whole histogram).
fn class_counts(c: &ClassStats) -> String {
    format!(
        "arrived {}, served {}, spilled {}, throttled {}, failed {}, in flight {}, errored {}, rescued {}, retries {}",
        c.arrived, c.served, c.spilled, c.throttled, c.failed, c.in_flight, c.errored, c.rescued, c.retries
    )
}

fn dep<'a>(sc: &Scenario, m: &'a RepMetrics, name: &str) -> &'a DeploymentStats {
    let i = sc
        .deployments
        .iter()
        .position(|d| d.name == name)
        .unwrap_or_else(|| panic!("no deployment {name}"));
    &m.deployments[i]
}

#[test]
fn full_outage_fails_over_to_the_fallback_without_losing_a_request() {
    let sc = scenario(&text(
        1,
        EVERY_SECOND,
        r#"["primary", "fallback"]"#,
        "",
        &outage(r#"effect = "full""#),
    ));
    let m = run1(&sc);
    let c = &m.classes[0];
    let (p, f) = (dep(&sc, &m, "primary"), dep(&sc, &m, "fallback"));
    assert_eq!(c.arrived, ARRIVALS_1H);
    assert_eq!(
        (c.served, c.errored, c.throttled),
        (ARRIVALS_1H, 0, 0),
        "{}",
        class_counts(c)
    );
    // Every arrival in the window meets the error on the primary and is served
    // by the fallback; every other arrival is served by the primary.
    assert_eq!(p.errors, IN_WINDOW, "primary errors");
    assert_eq!(f.served, IN_WINDOW, "fallback served");
    assert_eq!(p.served, ARRIVALS_1H - IN_WINDOW, "primary served");
    assert_eq!(
        (f.rescued, c.rescued, c.spilled),
        (IN_WINDOW, IN_WINDOW, IN_WINDOW)
    );
    assert_eq!((p.rejected, p.skipped_cooldown, p.cooldowns), (0, 0, 0));
    assert_eq!(m.hour_cell(0, 0).errors, IN_WINDOW, "hourly errors");
    assert_eq!(m.hour_failed[0], 0);
    assert_eq!(m.incident_us[0], IN_WINDOW * US, "incident time");
    // TTFT: 200 ms everywhere (the fallback is as fast), split by arrival time.
    assert_eq!(m.ttft_incident.count(), IN_WINDOW);
    assert_eq!(m.ttft_normal.count(), ARRIVALS_1H - IN_WINDOW);
}

#[test]
fn full_outage_without_a_fallback_fails_every_request_in_the_window() {
    let sc = scenario(&text(
        1,
        EVERY_SECOND,
        r#"["primary"]"#,
        "",
        &outage(r#"effect = "full""#),
    ));
    let m = run1(&sc);
    let c = &m.classes[0];
    assert_eq!(c.arrived, ARRIVALS_1H);
    assert_eq!(
        c.errored,
        IN_WINDOW,
        "errored = arrivals in the window: {}",
        class_counts(c)
    );
    assert_eq!(c.served, ARRIVALS_1H - IN_WINDOW);
    assert_eq!(
        (c.throttled, c.failed, c.rescued, c.in_flight),
        (0, 0, 0, 0)
    );
    assert_eq!(m.deployments[0].errors, IN_WINDOW);
    assert_eq!(m.hour_failed[0], IN_WINDOW, "failed requests by hour");
}

#[test]
fn client_retries_outlast_the_end_of_an_outage() {
    // Three attempts, backoff 1 s then 2 s without jitter: a request arriving at
    // t tries at t, t + 1 and t + 3 s. In the window [900, 1350) the attempt at
    // t fails for t = 900..=1349 (450 first retries), the one at t + 1 fails
    // for t <= 1348 (449 second retries) and the one at t + 3 for t <= 1346, so
    // 447 requests error out and t = 1347, 1348, 1349 are served by a retry
    // after the outage (rescued: they met an error first).
    let t = text(
        1,
        EVERY_SECOND,
        r#"["primary"]"#,
        "",
        &outage(r#"effect = "full""#),
    )
    .replace(
        "max_attempts = 1",
        "max_attempts = 3\nbackoff_base_ms = 1000\nbackoff_max_ms = 8000\njitter = \"none\"",
    );
    let sc = scenario(&t);
    let m = run1(&sc);
    let c = &m.classes[0];
    assert_eq!(c.retries, 450 + 449, "{}", class_counts(c));
    assert_eq!(c.errored, 447, "{}", class_counts(c));
    assert_eq!(c.served, ARRIVALS_1H - 447);
    assert_eq!(c.rescued, 3);
    assert_eq!(
        m.deployments[0].errors,
        450 + 449 + 447,
        "one error per failed attempt"
    );
}

/// Runs the cooldown scenario: primary fully down for 10 s from 900 s,
/// arrivals every second, gateway cooldown after `failures` failures within
/// `window_s`, for `cooldown_s`.
fn cooldown_run(
    route: &str,
    failures: u32,
    window_s: f64,
    cooldown_s: f64,
) -> (Scenario, RepMetrics) {
    // 10 s = 0.00277... h; the window end is rounded to the microsecond, so it
    // is exactly 910 s.
    let tail = format!(
        r#"
[gateway]
cooldown_failures = {failures}
cooldown_window_s = {window_s:?}
cooldown_s = {cooldown_s:?}

[[outage]]
deployments = ["primary"]
start_hour = 0.25
duration_hours = {}
"#,
        10.0 / 3600.0
    );
    let sc = scenario(&text(1, EVERY_SECOND, route, "", &tail));
    let m = run1(&sc);
    (sc, m)
}

#[test]
fn cooldown_takes_a_failing_deployment_out_and_brings_it_back() {
    // Outage [900, 910) s, arrivals every second, N = 3 failures within W =
    // 60 s start a cooldown of T = 4 s; a deployment is skipped while
    // cooldown_until > now.
    //   900, 901: errors 1, 2 (failures in the window: 1, 2)
    //   902:      error 3 -> 3 failures: cooldown until 906 (cooldown 1), count reset
    //   903, 904, 905: skipped (906 > now)
    //   906:      back (906 > 906 is false), still down: error 4
    //   907:      error 5
    //   908:      error 6 -> cooldown until 912 (cooldown 2)
    //   909:      skipped
    //   910, 911: skipped although the outage is over (912 > now)
    //   912:      back and up: served by the primary
    // Primary: 6 errors, 6 skips, 2 cooldowns; the fallback serves the 12
    // arrivals 900..=911, all rescued.
    let (sc, m) = cooldown_run(r#"["primary", "fallback"]"#, 3, 60.0, 4.0);
    let (p, f) = (dep(&sc, &m, "primary"), dep(&sc, &m, "fallback"));
    assert_eq!(p.errors, 6, "primary errors");
    assert_eq!(p.skipped_cooldown, 6, "primary skipped");
    assert_eq!(p.cooldowns, 2, "cooldowns started");
    assert_eq!(f.served, 12, "fallback served");
    assert_eq!(f.rescued, 12);
    let c = &m.classes[0];
    assert_eq!((c.served, c.errored, c.rescued), (ARRIVALS_1H, 0, 12));
    assert_eq!(p.served, ARRIVALS_1H - 12);
}

#[test]
fn failures_older_than_the_cooldown_window_do_not_count() {
    // W = 2 s: at the third failure (902 s) the first (900 s) is 2 s old and
    // drops out (a failure at t counts while t + W > now), so there are never 3
    // failures in the window: 10 errors, no cooldown. W = 2.5 s keeps it and
    // behaves as W = 60 s.
    let (sc, m) = cooldown_run(r#"["primary", "fallback"]"#, 3, 2.0, 4.0);
    let p = dep(&sc, &m, "primary");
    assert_eq!(
        (p.errors, p.skipped_cooldown, p.cooldowns),
        (10, 0, 0),
        "(errors, skipped, cooldowns)"
    );
    assert_eq!(dep(&sc, &m, "fallback").served, 10);

    let (sc, m) = cooldown_run(r#"["primary", "fallback"]"#, 3, 2.5, 4.0);
    let p = dep(&sc, &m, "primary");
    assert_eq!(
        (p.errors, p.skipped_cooldown, p.cooldowns),
        (6, 6, 2),
        "(errors, skipped, cooldowns)"
    );
}

#[test]
fn a_cooldown_without_a_fallback_fails_requests_past_the_outage() {
    // As in cooldown_takes_a_failing_deployment_out_and_brings_it_back, but with
    // nowhere to go: the 6 errors and the 6 skips (910 and 911 after the outage
    // ended) all fail the request.
    let (sc, m) = cooldown_run(r#"["primary"]"#, 3, 60.0, 4.0);
    let c = &m.classes[0];
    assert_eq!(c.errored, 12, "{}", class_counts(c));
    assert_eq!(c.served, ARRIVALS_1H - 12);
    let p = dep(&sc, &m, "primary");
    assert_eq!((p.errors, p.skipped_cooldown, p.cooldowns), (6, 6, 2));
}

#[test]
fn weighted_routing_splits_traffic_by_weight() {
    // Poisson arrivals, 2 per second for 2 hours (~14,400); each request goes
    // first to "primary" with probability 3/4. Both deployments take
    // everything, so the share served by "primary" is a binomial proportion.
    let sc = scenario(&text(
        2,
        "mean_rps = 2.0",
        r#"["primary", "fallback"]"#,
        "routing = \"weighted\"\nweights = [3, 1]",
        "",
    ));
    assert_eq!(sc.classes[0].routing, Routing::Weighted(vec![3.0, 1.0]));
    let m = run1(&sc);
    let n = m.classes[0].arrived as f64;
    assert!(n > 10_000.0, "{n} arrivals");
    assert_eq!(m.classes[0].served, m.classes[0].arrived);
    let share = dep(&sc, &m, "primary").served as f64 / n;
    let se = (0.75 * 0.25 / n).sqrt();
    assert!(
        (share - 0.75).abs() <= 5.0 * se,
        "share on the weight-3 deployment {share:.4}, expected 0.75 +- {:.4}",
        5.0 * se
    );
    // Drawn first is not a spill.
    assert_eq!(m.classes[0].spilled, 0);

    // A zero weight is never drawn first.
    let sc = scenario(&text(
        1,
        EVERY_SECOND,
        r#"["primary", "fallback"]"#,
        "routing = \"weighted\"\nweights = [0, 2]",
        "",
    ));
    let m = run1(&sc);
    assert_eq!(dep(&sc, &m, "fallback").served, ARRIVALS_1H);
    assert_eq!(dep(&sc, &m, "primary").served, 0);
}

#[test]
fn weighted_routing_falls_back_to_route_order() {
    // Weights [0, 1, 0]: "b" is always drawn first; when it is down the
    // request goes on in route order, to "a", never to "c".
    let t = format!(
        r#"
[scenario]
horizon_hours = 1
[client]
max_attempts = 1
[[class]]
name = "c"
model = "m"
route = ["a", "b", "c"]
routing = "weighted"
weights = [0, 1, 0]
arrivals = {{ {EVERY_SECOND} }}
input_tokens = {{ dist = "fixed", value = 10 }}
output_tokens = {{ dist = "fixed", value = 10 }}
{}{}{}
[[outage]]
deployments = ["b"]
{WINDOW}
"#,
        deployment("a", 100, 1.0),
        deployment("b", 100, 1.0),
        deployment("c", 100, 1.0)
    );
    let sc = scenario(&t);
    let m = run1(&sc);
    assert_eq!(dep(&sc, &m, "b").served, ARRIVALS_1H - IN_WINDOW);
    assert_eq!(dep(&sc, &m, "a").served, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "c").served, 0);
}

/// Two deployments written in the order (slow and expensive, fast and cheap)
/// or the reverse, under `routing`.
fn policy_scenario(routing: &str, swap: bool) -> String {
    let mut deps = [
        deployment("slow-pricey", 900, 10.0),
        deployment("fast-cheap", 150, 0.5),
    ];
    let mut route = r#"["slow-pricey", "fast-cheap"]"#;
    if swap {
        deps.swap(0, 1);
        route = r#"["fast-cheap", "slow-pricey"]"#;
    }
    format!(
        r#"
[scenario]
horizon_hours = 1
[[class]]
name = "c"
model = "m"
route = {route}
routing = "{routing}"
arrivals = {{ {EVERY_SECOND} }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
{}{}
"#,
        deps[0], deps[1]
    )
}

#[test]
fn cheapest_and_fastest_put_that_deployment_first() {
    for routing in ["cheapest", "fastest"] {
        for swap in [false, true] {
            let sc = scenario(&policy_scenario(routing, swap));
            let first = &sc.deployments[sc.classes[0].route[0]].name;
            assert_eq!(first, "fast-cheap", "{routing}, swap {swap}");
            let m = run1(&sc);
            assert_eq!(
                dep(&sc, &m, "fast-cheap").served,
                ARRIVALS_1H,
                "{routing}: all traffic on the first deployment"
            );
            assert_eq!(dep(&sc, &m, "slow-pricey").served, 0);
            // Served at the fast deployment's TTFT.
            let p100 = m.classes[0].ttft.max_ms().unwrap();
            assert!((p100 - 150.0).abs() < 0.2, "{routing}: max TTFT {p100} ms");
        }
    }
    // Ordered keeps the route as written.
    let sc = scenario(&policy_scenario("ordered", false));
    assert_eq!(sc.deployments[sc.classes[0].route[0]].name, "slow-pricey");
}

#[test]
fn cheapest_prefers_reserved_capacity_and_fastest_counts_prefill() {
    // Reserved units are paid for anyway: cheapest tries them before any
    // on-demand deployment, however cheap.
    let t = format!(
        r#"
[scenario]
horizon_hours = 1
[[class]]
name = "c"
model = "m"
route = ["cheap", "ptu"]
routing = "cheapest"
arrivals = {{ mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 2000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
{}
[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = 300, p99_ms = 300, prefill_ms_per_1k_input = 400 }}
reserved = {{ units = 1, tpm_per_unit = 1000000, term = "hourly", price_per_unit_hour = {{ hourly = 50.0 }} }}
"#,
        deployment("cheap", 200, 0.01)
    );
    let sc = scenario(&t);
    assert_eq!(sc.deployments[sc.classes[0].route[0]].name, "ptu");
    // Fastest compares base TTFT plus the prefill of a mean prompt (2000
    // tokens): "cheap" 200 ms against "ptu" 300 + 2 x 400 ms, so "cheap" first.
    let sc = scenario(&t.replace("\"cheapest\"", "\"fastest\""));
    assert_eq!(sc.deployments[sc.classes[0].route[0]].name, "cheap");
    // With the prefill moved to "cheap" (200 + 2 x 1000 ms), "ptu" (300 ms)
    // is faster.
    let moved = t
        .replace("\"cheapest\"", "\"fastest\"")
        .replace(
            "prefill_ms_per_1k_input = 400",
            "prefill_ms_per_1k_input = 0",
        )
        .replace(
            "latency = { median_ms = 200, p99_ms = 200 }",
            "latency = { median_ms = 200, p99_ms = 200, prefill_ms_per_1k_input = 1000 }",
        );
    let sc = scenario(&moved);
    assert_eq!(sc.deployments[sc.classes[0].route[0]].name, "ptu");
}

fn assert_hist_at(what: &str, h: &Hist, ms: f64) {
    for p in [0.0, 50.0, 100.0] {
        let v = h
            .percentile_ms(p)
            .unwrap_or_else(|| panic!("{what}: empty"));
        assert!(
            (v / ms - 1.0).abs() < 1e-3,
            "{what}: p{p} = {v} ms, expected {ms}"
        );
    }
}

#[test]
fn partial_outage_multiplies_ttft_inside_the_window() {
    // One deployment, TTFT exactly 200 ms; latency x 3 in the window: 600 ms
    // for the 450 arrivals in it, 200 ms for the others. Nothing fails.
    let t = text(
        1,
        EVERY_SECOND,
        r#"["primary"]"#,
        "",
        &outage("effect = \"partial\"\nlatency_factor = 3.0"),
    );
    let sc = scenario(&t);
    let m = run1(&sc);
    let c = &m.classes[0];
    assert_eq!((c.served, c.errored, c.throttled), (ARRIVALS_1H, 0, 0));
    assert_eq!(m.ttft_incident.count(), IN_WINDOW);
    assert_eq!(m.ttft_normal.count(), ARRIVALS_1H - IN_WINDOW);
    assert_hist_at("in the window", &m.ttft_incident, 600.0);
    assert_hist_at("outside", &m.ttft_normal, 200.0);
    assert_eq!(m.incident_us[0], IN_WINDOW * US);

    // The same through the report: summary.json resilience.
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "partial.toml", &t);
    let out = tmp.path().join("out");
    command_ok("run", &file, &out, &[]);
    let s = read_json(&out.join("summary.json"));
    let r = &s["resilience"];
    for (key, ms) in [
        ("ttft_in_incident_ms", 600.0),
        ("ttft_outside_incident_ms", 200.0),
    ] {
        let rows = r[key].as_array().unwrap_or_else(|| panic!("{key}: {r}"));
        assert!(!rows.is_empty(), "{key}");
        for row in rows {
            let v = row["pooled"]
                .as_f64()
                .unwrap_or_else(|| panic!("{key}: {row}"));
            assert!(
                (v / ms - 1.0).abs() < 1e-3,
                "{key} p{}: {v} ms, expected {ms}",
                row["percentile"]
            );
        }
    }
    let incident_hours = r["incident_hours"].as_f64().unwrap();
    assert!(
        (incident_hours - 0.125).abs() < 1e-9,
        "incident_hours {incident_hours}"
    );
    assert_eq!(r["availability"]["mean"].as_f64(), Some(1.0));
}

#[test]
fn partial_outage_error_rate_gives_that_share_of_429s_in_the_window() {
    // 2 requests/s for 3 hours, the primary degraded from hour 0.5 to 1.5:
    // 7200 arrivals in the window (t = 1800, 1800.5, ..., 5399.5 s), each
    // answered 429 with probability 0.25 and spilled to the fallback.
    let t = text(
        3,
        r#"process = "deterministic", mean_rps = 2.0"#,
        r#"["primary", "fallback"]"#,
        "",
        "[[outage]]\ndeployments = [\"primary\"]\nstart_hour = 0.5\nduration_hours = 1\neffect = \"partial\"\nerror_rate = 0.25\n",
    );
    let sc = scenario(&t);
    let m = run1(&sc);
    let (p, f) = (dep(&sc, &m, "primary"), dep(&sc, &m, "fallback"));
    let n: f64 = 7200.0;
    let sd = (n * 0.25 * 0.75).sqrt();
    assert!(
        (p.rejected as f64 - 0.25 * n).abs() <= 5.0 * sd,
        "429s in the window: {}, expected {} +- {:.0}",
        p.rejected,
        0.25 * n,
        5.0 * sd
    );
    // Each 429 spills to the fallback, which takes everything; 429s are not
    // errors, so nothing counts as rescued.
    assert_eq!(f.served, p.rejected);
    assert_eq!(p.spilled_out, p.rejected);
    assert_eq!(p.errors, 0);
    let c = &m.classes[0];
    assert_eq!((c.served, c.errored, c.throttled), (c.arrived, 0, 0));
    assert_eq!(c.spilled, p.rejected);
    assert_eq!(c.rescued, 0);
    // None outside the window (hour 2 is clear of it).
    assert_eq!(m.hour_cell(2, 0).rejected, 0);
    assert_eq!(
        m.hour_cell(0, 0).rejected + m.hour_cell(1, 0).rejected,
        p.rejected
    );
}

#[test]
fn an_outage_on_a_platform_hits_only_its_deployments_in_that_region() {
    // Three deployments; the outage names platform "custom" in region "r1":
    // only "a" (custom, r1) is hit, not "b" (custom, r2) nor "c" (no region).
    let mut t = text(1, EVERY_SECOND, r#"["a"]"#, "", "");
    t.push_str(&deployment("a", 100, 1.0).replace(
        "platform = \"custom\"",
        "platform = \"custom\"\nregion = \"r1\"",
    ));
    t.push_str(&deployment("b", 100, 1.0).replace(
        "platform = \"custom\"",
        "platform = \"custom\"\nregion = \"r2\"",
    ));
    t.push_str(&format!(
        "[[class]]\nname = \"d\"\nmodel = \"m\"\nroute = [\"b\", \"primary\"]\narrivals = {{ {EVERY_SECOND} }}\ninput_tokens = {{ dist = \"fixed\", value = 1 }}\noutput_tokens = {{ dist = \"fixed\", value = 1 }}\n"
    ));
    t.push_str(&format!(
        "[[outage]]\nplatform = \"custom\"\nregion = \"r1\"\n{WINDOW}\n"
    ));
    let sc = scenario(&t);
    assert_eq!(sc.outages[0].deployments.len(), 1);
    let m = run1(&sc);
    assert_eq!(dep(&sc, &m, "a").errors, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "b").errors, 0);
    assert_eq!(dep(&sc, &m, "b").served, ARRIVALS_1H);
    assert_eq!(dep(&sc, &m, "primary").served, 0);
    // Without the region, every custom deployment is hit.
    let sc = scenario(&t.replace("region = \"r1\"\nstart_hour", "start_hour"));
    assert_eq!(sc.outages[0].deployments.len(), 4);
}

#[test]
fn two_provider_scenario_survives_the_azure_outage() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/two_provider.toml");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // 40 hours cover the outage at hours 34-35.
    command_ok("run", &file, &out, &["--horizon-hours", "40"]);
    let s = read_json(&out.join("summary.json"));
    let r = &s["resilience"];
    let availability = r["availability"]["mean"].as_f64().unwrap();
    assert!(availability >= 0.99, "availability {availability}");
    let rescued = r["rescued"].as_f64().unwrap();
    assert!(rescued > 0.0, "rescued {rescued}");
    assert_eq!(s["requests"]["rescued"].as_f64(), Some(rescued));

    let csv = std::fs::read_to_string(out.join("failover.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no {name} in {header:?}"))
    };
    let (azure, outage) = (col("share_azure-openai"), col("outage_share_of_hour"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 40);
    for h in [34, 35] {
        assert!(
            rows[h][azure] < 0.005,
            "hour {h}: azure share {}",
            rows[h][azure]
        );
        assert!(
            rows[h][outage] >= 0.999,
            "hour {h}: outage share {}",
            rows[h][outage]
        );
    }
    // Before and after, Azure carries its product's traffic.
    for h in [33, 36] {
        assert!(
            rows[h][azure] > 0.2,
            "hour {h}: azure share {}",
            rows[h][azure]
        );
    }
}

const RANDOM_OUTAGES: &str = r#"
[scenario]
name = "random_outages"
horizon_hours = 24
seed = 99
replications = 6
[client]
max_attempts = 2
backoff_base_ms = 300
[gateway]
latency_ms = 10
cooldown_failures = 2
cooldown_window_s = 30
cooldown_s = 20
[[class]]
name = "c"
model = "m"
route = ["a", "b"]
arrivals = { mean_rps = 1.5, peak_hour = 12, peak_to_trough = 3 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }
[[class]]
name = "w"
model = "m"
route = ["b", "a"]
routing = "weighted"
weights = [1, 2]
arrivals = { mean_rps = 0.5 }
input_tokens = { dist = "fixed", value = 500 }
output_tokens = { dist = "fixed", value = 50 }
[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 1500, prefill_ms_per_1k_input = 50 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10, rpm = 120, tpm = 200000 }
[[deployment]]
name = "b"
platform = "custom"
model = "m"
latency = { median_ms = 400, p99_ms = 2000 }
reserved = { units = 2, tpm_per_unit = 30000, term = "hourly", price_per_unit_hour = { hourly = 3.0 }, max_wait_ms = 2000 }
[[outage]]
name = "a flaps"
deployments = ["a"]
mtbf_hours = 3
mttr_hours = 0.3
[[outage]]
name = "b slow"
deployments = ["b"]
mtbf_hours = 5
mttr_hours = 0.5
effect = "partial"
latency_factor = 4
error_rate = 0.3
"#;

#[test]
fn random_outages_give_identical_files_on_one_and_four_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "random_outages.toml", RANDOM_OUTAGES);
    let mut dirs = Vec::new();
    for threads in ["1", "4"] {
        let out = tmp.path().join(format!("t{threads}"));
        command_ok("run", &file, &out, &["--threads", threads]);
        dirs.push(out);
    }
    assert_same_results(&dirs[0], &dirs[1], "summary.json");
    // The outages happened (otherwise this checks nothing new).
    let s = read_json(&dirs[0].join("summary.json"));
    assert!(s["resilience"]["incident_hours"].as_f64().unwrap() > 1.0);
    assert!(s["requests"]["rescued"].as_f64().unwrap() > 0.0);
}

#[test]
fn random_outage_windows_depend_on_the_replication_not_on_other_outages() {
    let sc = scenario(RANDOM_OUTAGES);
    let w0 = llmcap::model::capacity::outage_windows(&sc, 0);
    let w1 = llmcap::model::capacity::outage_windows(&sc, 1);
    assert!(!w0[0].is_empty() && !w0[1].is_empty());
    assert_ne!(w0[0], w1[0], "replications draw different windows");
    for w in w0.iter().flatten() {
        assert!(w.start < w.end && w.end <= sc.horizon_us(), "{w:?}");
    }
    // Dropping outage "b slow" leaves the windows of "a flaps" as they were.
    let mut only_a = sc.clone();
    only_a.outages.truncate(1);
    assert_eq!(
        llmcap::model::capacity::outage_windows(&only_a, 0)[0],
        w0[0]
    );
    assert!(llmcap::model::capacity::outage_windows(&only_a, 0)[1].is_empty());
}

/// `llmcap validate` on `text` exits 2 and the message names every string in `expect`.
#[track_caller]
fn rejects(text: &str, expect: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "bad.toml", text);
    let mut p = predicate::str::contains("bad.toml").boxed();
    for e in expect {
        p = p.and(predicate::str::contains(*e)).boxed();
    }
    llmcap()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(p);
}

fn with_outage(keys: &str) -> String {
    text(
        1,
        EVERY_SECOND,
        r#"["primary", "fallback"]"#,
        "",
        &format!("[[outage]]\n{keys}\n"),
    )
}

#[test]
fn invalid_outages_are_rejected_naming_the_key() {
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 1\nduration_hours = 1\nmtbf_hours = 5\nmttr_hours = 1"),
        &["outage[0]", "start_hour and duration_hours", "mtbf_hours and mttr_hours", "not both"],
    );
    rejects(
        &with_outage("deployments = [\"primary\", \"nope\"]\nstart_hour = 0\nduration_hours = 1"),
        &[
            "outage[0].deployments[1]",
            "unknown deployment \"nope\"",
            "primary, fallback",
        ],
    );
    rejects(
        &with_outage("platform = \"bedrock\"\nstart_hour = 0\nduration_hours = 1"),
        &[
            "outage[0].platform",
            "no deployment is on platform \"bedrock\"",
        ],
    );
    rejects(
        &with_outage(
            "platform = \"custom\"\nregion = \"mars-1\"\nstart_hour = 0\nduration_hours = 1",
        ),
        &["outage[0].platform", "in region \"mars-1\""],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nplatform = \"custom\"\nstart_hour = 0\nduration_hours = 1"),
        &["outage[0]", "not both"],
    );
    rejects(
        &with_outage(
            "deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\neffect = \"partial\"",
        ),
        &["outage[0]", "latency_factor > 1 or error_rate > 0"],
    );
    rejects(
        &with_outage(
            "deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\nlatency_factor = 2",
        ),
        &["outage[0].effect", "belong to effect = \"partial\""],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\neffect = \"full\"\nerror_rate = 0.5"),
        &["outage[0].effect", "partial"],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\neffect = \"partial\"\nerror_rate = 1.5"),
        &["outage[0].error_rate", "from 0 to 1", "1.5"],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\neffect = \"partial\"\nlatency_factor = 0.5"),
        &["outage[0].latency_factor", "0.5"],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 2\nduration_hours = 1"),
        &["outage[0].start_hour", "from 0 to 1"],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nstart_hour = 0"),
        &["outage[0]", "start_hour and duration_hours"],
    );
    rejects(
        &with_outage(
            "deployments = [\"primary\"]\nstart_hour = 0\nduration_hours = 1\neffect = \"down\"",
        ),
        &[
            "outage[0].effect",
            "unknown value \"down\"",
            "full, partial",
        ],
    );
    rejects(
        &with_outage("deployments = [\"primary\"]\nmtbf_hours = 0\nmttr_hours = 1"),
        &["outage[0].mtbf_hours"],
    );
}

#[test]
fn invalid_gateways_and_routing_are_rejected_naming_the_key() {
    let with = |tail: &str| text(1, EVERY_SECOND, r#"["primary", "fallback"]"#, "", tail);
    rejects(
        &with("[gateway]\ncooldown_window_s = 30"),
        &["gateway.cooldown_failures", "cooldown_window_s"],
    );
    rejects(
        &with("[gateway]\ncooldown_s = 30"),
        &["gateway.cooldown_failures"],
    );
    rejects(
        &with("[gateway]\ncooldown_failures = 0"),
        &["gateway.cooldown_failures", "whole number >= 1"],
    );
    rejects(
        &with("[gateway]\ncooldown_failures = 3\ncooldown_s = -1"),
        &["gateway.cooldown_s"],
    );
    rejects(&with("[gateway]\nlatency_ms = -5"), &["gateway.latency_ms"]);
    let class = |keys: &str| text(1, EVERY_SECOND, r#"["primary", "fallback"]"#, keys, "");
    rejects(
        &class("routing = \"weighted\""),
        &["class[0].weights", "one per route entry (2)"],
    );
    rejects(
        &class("routing = \"weighted\"\nweights = [1]"),
        &[
            "class[0].weights",
            "needs one weight per route entry (2), got 1",
        ],
    );
    rejects(
        &class("routing = \"weighted\"\nweights = [0, 0]"),
        &["class[0].weights", "must not all be 0"],
    );
    rejects(
        &class("routing = \"weighted\"\nweights = [1, -1]"),
        &["class[0].weights[1]"],
    );
    rejects(
        &class("weights = [1, 1]"),
        &[
            "class[0].weights",
            "only applies with routing = \"weighted\"",
        ],
    );
    rejects(
        &class("routing = \"random\""),
        &["class[0].routing", "ordered, weighted, cheapest, fastest"],
    );
}
