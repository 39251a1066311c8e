//! A LiteLLM router in the model (`[gateway] router = "litellm"`): steps (order levels, fallback groups), in-group retries and their waits, cooldown rules, strategies, pre-call checks.
//!
//! Exact by construction, as tests/failover.rs: arrivals at whole seconds 1..=3599 of one
//! hour, fixed tokens, "custom" deployments with a constant TTFT, a client with one attempt,
//! and a full (or all-429) outage on deployment "a" over [900 s, 1350 s): 450 arrivals.

use llmcap::analysis::run::run;
use llmcap::domain::Scenario;
use llmcap::model::metrics::{DeploymentStats, RepMetrics};

use crate::common::scenario;

const ARRIVALS_1H: u64 = 3599;
const IN_WINDOW: u64 = 450;

/// Deployment `name`: model "m", TTFT exactly `ttft_ms`, `pool` its pool table's body.
fn deployment(name: &str, ttft_ms: u32, pool: &str, extra: &str) -> String {
    format!(
        "[[deployment]]\nname = \"{name}\"\nplatform = \"custom\"\nmodel = \"m\"\n\
         latency = {{ median_ms = {ttft_ms}, p99_ms = {ttft_ms} }}\n{pool}\n{extra}\n"
    )
}

const ON_DEMAND: &str = "on_demand = { input_per_1m = 1.0, output_per_1m = 1.0 }";

/// One hour at 1 request/s of class "c" over `route` (more class keys in `class_keys`),
/// behind a LiteLLM gateway with `gateway` keys; deployments a and b (TTFT 200 ms) unless
/// `deps` gives others; `tail` more tables.
fn text(route: &str, class_keys: &str, gateway: &str, deps: &str, tail: &str) -> String {
    let deps = if deps.is_empty() {
        deployment("a", 200, ON_DEMAND, "") + &deployment("b", 200, ON_DEMAND, "")
    } else {
        deps.to_string()
    };
    format!(
        r#"
[scenario]
name = "litellm"
horizon_hours = 1
seed = 5
[client]
max_attempts = 1
[gateway]
router = "litellm"
{gateway}

[[class]]
name = "c"
model = "m"
route = {route}
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
{class_keys}

{deps}
{tail}
"#
    )
}

/// `a` down over [900 s, 1350 s): `effect` is its effect's keys.
fn outage(effect: &str) -> String {
    format!(
        "[[outage]]\nname = \"a down\"\ndeployments = [\"a\"]\nstart_hour = 0.25\nduration_hours = 0.125\n{effect}\n"
    )
}

fn run1(text: &str) -> (Scenario, RepMetrics) {
    let sc = scenario(text);
    let m = run(&sc, 1, None).pooled();
    (sc, m)
}

fn dep<'a>(sc: &Scenario, m: &'a RepMetrics, name: &str) -> &'a DeploymentStats {
    let i = sc.deployments.iter().position(|d| d.name == name);
    &m.deployments[i.unwrap_or_else(|| panic!("no deployment {name}"))]
}

#[test]
fn an_order_level_exhausts_its_retries_before_the_next() {
    // a at order 1, b at order 2, one group; count rule with allowed_fails = 2, the count
    // lapsing 30 s after its last failure, and a 30 s cooldown. At 900 s: a fails (count
    // 1), the group still has healthy deployments so the retry goes at once, again to a
    // (its level), fails (count 2), the third call fails too (3 > 2: cooldown until 930 s)
    // and was the last of the level (num_retries = 2): b serves it at once. 901..929 s: a
    // cooled, so level 1 is left at once for b. 930 s: a is back and the count has lapsed:
    // the same again. 15 such cycles in the window (900, 930, ..., 1320 s).
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        "orders = [1, 2]",
        "cooldown = \"count\"\nallowed_fails = 2\ncooldown_s = 30",
        "",
        &outage("effect = \"full\""),
    ));
    let (a, b) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"));
    assert_eq!((a.errors, a.cooldowns), (45, 15), "a errors, cooldowns");
    assert_eq!(a.skipped_cooldown, IN_WINDOW - 15);
    assert_eq!((b.served, b.rescued), (IN_WINDOW, IN_WINDOW));
    let c = &m.classes[0];
    assert_eq!(
        (c.served, c.errored, c.spilled),
        (ARRIVALS_1H, 0, IN_WINDOW)
    );
    assert_eq!(
        c.retries,
        15 * 3 + (IN_WINDOW - 15),
        "2 in-level retries + the next level"
    );
    // No backoff in a group of two with b healthy: every TTFT is b's 200 ms.
    assert_eq!(b.ttft.max_ms().map(|x| x.round()), Some(200.0));
}

#[test]
fn a_deployment_alone_in_its_group_is_retried_with_backoff_then_falls_back() {
    // a and b in groups of their own (g1, then its fallback g2). The default cooldown never
    // cools a deployment alone in its group on a few failures, so each request in the
    // window calls a three times (num_retries = 2), waiting LiteLLM's backoff before each
    // retry and after the last failure: 0.5 s, 0.5 s, 1 s, each times a jitter in
    // [0.75, 1], so 1.5 to 2 s in all, then b serves it (TTFT 200 ms after the waits).
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        r#"groups = ["g1", "g2"]"#,
        "",
        "",
        &outage("effect = \"full\""),
    ));
    let (a, b) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"));
    assert_eq!((a.errors, a.cooldowns), (3 * IN_WINDOW, 0));
    assert_eq!((b.served, b.rescued), (IN_WINDOW, IN_WINDOW));
    let (lo, hi) = (b.ttft.percentile_ms(0.0), b.ttft.percentile_ms(100.0));
    let (lo, hi) = (lo.unwrap_or(0.0), hi.unwrap_or(0.0));
    assert!(
        lo >= 1700.0 * 0.99 && hi <= 2200.0 * 1.01,
        "b's TTFT {lo}..{hi} ms"
    );
    assert!(
        hi - lo > 100.0,
        "the jitter spreads the waits: {lo}..{hi} ms"
    );
    assert_eq!(m.classes[0].retries, 3 * IN_WINDOW);

    // Without retries the fallback is immediate.
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        r#"groups = ["g1", "g2"]"#,
        "num_retries = 0",
        "",
        &outage("effect = \"full\""),
    ));
    assert_eq!(dep(&sc, &m, "a").errors, IN_WINDOW);
    assert_eq!(
        dep(&sc, &m, "b").ttft.max_ms().map(|x| x.round()),
        Some(200.0)
    );
}

#[test]
fn a_429_cools_a_deployment_of_a_shared_group_for_its_retry_after() {
    // One level, simple-shuffle weights 1:0 (a unless it is cooled). a answers 429 to
    // every call in the window. A 429 in a group of two cools a at once; the retry goes at
    // once to b. The cooldown lasts the gateway's cooldown_s (5 s), or the Retry-After a
    // sends (2 s), or a's own cooldown_s (10 s), in that order of precedence reversed:
    // a's own, then Retry-After, then the gateway's.
    for (extra, every) in [
        ("", 5),
        ("retry_after_s = 2", 2),
        ("retry_after_s = 2\ncooldown_s = 10", 10),
    ] {
        let deps = deployment("a", 200, ON_DEMAND, extra) + &deployment("b", 200, ON_DEMAND, "");
        let (sc, m) = run1(&text(
            r#"["a", "b"]"#,
            "routing = \"weighted\"\nweights = [1, 0]",
            "",
            &deps,
            &outage("effect = \"partial\"\nerror_rate = 1.0"),
        ));
        let (a, b) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"));
        let calls = IN_WINDOW / every;
        assert_eq!(
            (a.rejected, a.cooldowns),
            (calls, calls),
            "{extra}: a's 429s, cooldowns"
        );
        assert_eq!(b.served, IN_WINDOW, "{extra}");
        let c = &m.classes[0];
        assert_eq!(
            (c.served, c.retries, c.spilled),
            (ARRIVALS_1H, calls, calls),
            "{extra}"
        );
    }
}

#[test]
fn the_default_rule_does_not_cool_a_lone_deployment_on_a_429_but_the_count_rule_does() {
    // a alone in its group answers 429 in the window; no fallback, no retries. The default
    // rule leaves it in rotation (every request reaches it); allowed_fails = 0 cools it on
    // its first 429 for 5 s, so only one request in 5 reaches it.
    let one = |gateway: &str| {
        run1(&text(
            r#"["a"]"#,
            "",
            &format!("num_retries = 0\n{gateway}"),
            "",
            &outage("effect = \"partial\"\nerror_rate = 1.0"),
        ))
    };
    let (sc, m) = one("");
    let a = dep(&sc, &m, "a");
    assert_eq!((a.rejected, a.cooldowns), (IN_WINDOW, 0));
    assert_eq!(m.classes[0].throttled, IN_WINDOW);
    let (sc, m) = one("allowed_fails = 0");
    let a = dep(&sc, &m, "a");
    assert_eq!((a.rejected, a.cooldowns, a.skipped_cooldown), (90, 90, 360));
    let c = &m.classes[0];
    assert_eq!(
        (c.throttled, c.errored),
        (90, 360),
        "a cooled request counts as an error"
    );
}

#[test]
fn strategies_pick_as_litellm_does() {
    let two = |a_ms: u32, b_ms: u32, a_pool: &str, b_pool: &str| {
        deployment("a", a_ms, a_pool, "") + &deployment("b", b_ms, b_pool, "")
    };
    let served = |gateway: &str, deps: &str| {
        let (sc, m) = run1(&text(r#"["a", "b"]"#, "", gateway, deps, ""));
        (dep(&sc, &m, "a").served, dep(&sc, &m, "b").served)
    };
    let cheap = "on_demand = { input_per_1m = 0.5, output_per_1m = 0.5 }";
    // Cost: always the cheaper.
    assert_eq!(
        served(
            "strategy = \"cost-based-routing\"",
            &two(200, 200, ON_DEMAND, cheap)
        ),
        (0, ARRIVALS_1H)
    );
    // Latency: a first (no data counts as 0, ties go to route order), then b (still no
    // data), then a for good (200 ms < 400 ms).
    assert_eq!(
        served(
            "strategy = \"latency-based-routing\"",
            &two(200, 400, ON_DEMAND, ON_DEMAND)
        ),
        (ARRIVALS_1H - 1, 1)
    );
    // Usage: the fewer tokens this minute, ties to route order: a, b, a, b, ... from each
    // minute's start. Minute 0 has 59 arrivals (a 30, b 29), the 59 others 60 (30 each).
    assert_eq!(
        served(
            "strategy = \"usage-based-routing-v2\"",
            &two(200, 200, ON_DEMAND, ON_DEMAND)
        ),
        (30 + 59 * 30, 29 + 59 * 30)
    );
    // Least busy, TTFT 1.5 s at 1 request/s: a (busy to 2.5 s), b (a busy), a (free at
    // 2.5 s), ...: alternating.
    assert_eq!(
        served(
            "strategy = \"least-busy\"",
            &two(1500, 1500, ON_DEMAND, ON_DEMAND)
        ),
        (1800, 1799)
    );
    // Simple shuffle without weights: by rpm (a 3 times b's).
    let (a, b) = served(
        "",
        &two(
            200,
            200,
            "on_demand = { input_per_1m = 1.0, output_per_1m = 1.0, rpm = 3000 }",
            "on_demand = { input_per_1m = 1.0, output_per_1m = 1.0, rpm = 1000 }",
        ),
    );
    assert_eq!(a + b, ARRIVALS_1H);
    assert!(
        (a as f64 / ARRIVALS_1H as f64 - 0.75).abs() < 0.03,
        "a's share {a}"
    );
}

#[test]
fn pre_call_checks_skip_a_deployment_at_its_rpm_instead_of_taking_its_429() {
    // a (rpm 30) is always drawn first (weights 1:0) unless left out. With pre-call checks
    // the gateway stops calling a after 30 calls in a calendar minute: a serves 30 a
    // minute and never answers 429; b the rest.
    let deps = deployment(
        "a",
        200,
        "on_demand = { input_per_1m = 1.0, output_per_1m = 1.0, rpm = 30 }",
        "",
    ) + &deployment("b", 200, ON_DEMAND, "");
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        "routing = \"weighted\"\nweights = [1, 0]",
        "pre_call_checks = true",
        &deps,
        "",
    ));
    let (a, b) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"));
    assert_eq!((a.served, a.rejected, a.cooldowns), (60 * 30, 0, 0));
    assert_eq!(b.served, ARRIVALS_1H - 60 * 30);
    // Without them a answers 429 once its quota is spent, and is cooled for 5 s each time.
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        "routing = \"weighted\"\nweights = [1, 0]",
        "",
        &deps,
        "",
    ));
    let a = dep(&sc, &m, "a");
    assert!(
        a.rejected > 0 && a.cooldowns == a.rejected,
        "a: {} 429s, {} cooldowns",
        a.rejected,
        a.cooldowns
    );
    assert_eq!(m.classes[0].served, ARRIVALS_1H);
}

#[test]
fn a_call_past_the_gateway_timeout_fails_when_the_timeout_passes() {
    // a answers in 3 s, b in 200 ms, one group at two levels; timeout 1 s, no retries: each
    // request waits 1 s on a, then b serves it: TTFT 1.2 s, a counts an error per request,
    // and with the default rule (more than half of a's calls failing, group of two) a is
    // cooled for 5 s after each: 1 request in 5 reaches it.
    let deps = deployment("a", 3000, ON_DEMAND, "") + &deployment("b", 200, ON_DEMAND, "");
    let (sc, m) = run1(&text(
        r#"["a", "b"]"#,
        "orders = [1, 2]",
        "timeout_s = 1\nnum_retries = 0",
        &deps,
        "",
    ));
    let (a, b) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"));
    // Arrivals 1, 6, 11, ... reach a: 720 of the 3599.
    assert_eq!((a.errors, a.cooldowns, a.served), (720, 720, 0));
    assert_eq!(b.served, ARRIVALS_1H);
    assert_eq!(b.ttft.max_ms().map(|x| x.round()), Some(1200.0));
}

#[test]
fn litellm_runs_are_identical_on_one_and_four_threads() {
    let t = text(
        r#"["a", "b"]"#,
        r#"groups = ["g1", "g2"]"#,
        "",
        "",
        &outage("effect = \"partial\"\nerror_rate = 0.5"),
    );
    let sc = scenario(&t.replace("seed = 5", "seed = 5\nreplications = 4"));
    let one = format!("{:?}", run(&sc, 1, None).pooled().classes[0]);
    let four = format!("{:?}", run(&sc, 4, None).pooled().classes[0]);
    assert_eq!(one, four);
}
