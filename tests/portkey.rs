//! A Portkey gateway in the model (`[gateway] router = "portkey"`): strategies (single, fallback, loadbalance, nested), fallback status codes, same-target retries and their waits, request timeouts.
//!
//! Exact by construction, as tests/litellm.rs: arrivals at whole seconds 1..=3599 of one hour,
//! fixed tokens, "custom" deployments with a constant TTFT of 200 ms, a client with one attempt,
//! and an outage on deployment "a" over [900 s, 1350 s): 450 arrivals.

use llmcap::analysis::run::run;
use llmcap::domain::Scenario;
use llmcap::model::metrics::{DeploymentStats, RepMetrics};

use crate::common::scenario;

const ARRIVALS_1H: u64 = 3599;
const IN_WINDOW: u64 = 450;

/// One hour at 1 request/s of class "c" over deployments a, b and c (TTFT 200 ms each) behind a
/// Portkey gateway with `tree` as the class's `[class.portkey]` (inline); `tail` more tables.
fn text(tree: &str, tail: &str) -> String {
    let dep = |name: &str| {
        format!(
            "[[deployment]]\nname = \"{name}\"\nplatform = \"custom\"\nmodel = \"m\"\n\
             latency = {{ median_ms = 200, p99_ms = 200 }}\n\
             on_demand = {{ input_per_1m = 1.0, output_per_1m = 1.0 }}\n"
        )
    };
    format!(
        r#"
[scenario]
name = "portkey"
horizon_hours = 1
seed = 5
[client]
max_attempts = 1
[gateway]
router = "portkey"

[[class]]
name = "c"
model = "m"
route = ["a", "b", "c"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
portkey = {tree}

{}{}{}
{tail}
"#,
        dep("a"),
        dep("b"),
        dep("c")
    )
}

/// `a` out over [900 s, 1350 s): `effect` is its effect's keys.
fn outage(effect: &str) -> String {
    format!(
        "[[outage]]\nname = \"a down\"\ndeployments = [\"a\"]\nstart_hour = 0.25\nduration_hours = 0.125\n{effect}\n"
    )
}

const FULL: &str = "effect = \"full\"";
const ALL_429: &str = "effect = \"partial\"\nerror_rate = 1.0";

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
fn loadbalance_does_not_fall_back_but_fallback_does() {
    // a weight 7, b weight 3; a fully down for 450 s. Loadbalance sends ~70% of the window's
    // requests to a, and they fail: no fallback. Its draws are binomial(450, 0.7): 315 ± 9.7.
    let lb = r#"{ mode = "loadbalance", targets = [{ deployment = "a", weight = 7 }, { deployment = "b", weight = 3 }, { deployment = "c", weight = 0 }] }"#;
    let (sc, m) = run1(&text(lb, &outage(FULL)));
    let (a, b, c) = (dep(&sc, &m, "a"), dep(&sc, &m, "b"), dep(&sc, &m, "c"));
    let k = &m.classes[0];
    assert_eq!(
        k.errored, a.errors,
        "each request drawn to a in the window fails once"
    );
    assert!((315 - 40..=315 + 40).contains(&k.errored), "{}", k.errored);
    assert_eq!(k.served + k.errored, ARRIVALS_1H);
    assert_eq!(c.served, 0, "a weight-0 target is never drawn");
    assert!(
        (1080 - 110..=1080 + 110).contains(&b.served),
        "{}",
        b.served
    );
    assert_eq!(k.retries, 0);
    // Fallback a -> b: the window's 450 requests go on to b at once; none fails.
    let fb = r#"{ mode = "fallback", targets = [{ deployment = "a" }, { deployment = "b" }, { deployment = "c" }] }"#;
    let (sc, m) = run1(&text(fb, &outage(FULL)));
    let k = &m.classes[0];
    assert_eq!(
        (k.served, k.errored, k.rescued),
        (ARRIVALS_1H, 0, IN_WINDOW)
    );
    assert_eq!(dep(&sc, &m, "a").errors, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "b").served, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "c").served, 0);
    assert_eq!(
        k.retries, IN_WINDOW,
        "the call to b is the request's second"
    );
}

#[test]
fn fallback_moves_on_only_for_its_status_codes() {
    // on_status_codes = [429]: a full outage answers 503, so nothing falls back; an all-429
    // degradation does.
    let fb = r#"{ mode = "fallback", on_status_codes = [429], targets = [{ deployment = "a" }, { deployment = "b" }, { deployment = "c" }] }"#;
    let (sc, m) = run1(&text(fb, &outage(FULL)));
    let k = &m.classes[0];
    assert_eq!((k.errored, k.served), (IN_WINDOW, ARRIVALS_1H - IN_WINDOW));
    assert_eq!(dep(&sc, &m, "b").served, 0);
    let (sc, m) = run1(&text(fb, &outage(ALL_429)));
    let k = &m.classes[0];
    assert_eq!((k.errored, k.throttled, k.served), (0, 0, ARRIVALS_1H));
    assert_eq!(dep(&sc, &m, "a").rejected, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "b").served, IN_WINDOW);
    // on_status_codes = [503]: the 429s are the answer, throttled (not errored).
    let fb503 = fb.replace("[429]", "[503]");
    let (_, m) = run1(&text(&fb503, &outage(ALL_429)));
    assert_eq!(
        (m.classes[0].throttled, m.classes[0].errored),
        (IN_WINDOW, 0)
    );
}

#[test]
fn retries_call_the_same_target_after_1_2_4_seconds() {
    // A single target a with 3 retry attempts, answering 429 over [900 s, 1350 s). A request
    // arriving at t calls at t, t+1, t+3, t+7 (waits 1, 2, 4 s): arrivals 900..=1342 make 4
    // calls, all refused (443 throttled). Near the end a later call lands after 1350 s and is
    // served: 1343..=1346 on the 4th call, 1347 and 1348 on the 3rd, 1349 on the 2nd.
    let one = r#"{ mode = "single", retry = { attempts = 3 }, targets = [{ mode = "loadbalance", targets = [{ deployment = "a" }, { deployment = "b", weight = 0 }, { deployment = "c", weight = 0 }] }] }"#;
    let (sc, m) = run1(&text(one, &outage(ALL_429)));
    let k = &m.classes[0];
    let a = dep(&sc, &m, "a");
    assert_eq!(k.throttled, 443);
    assert_eq!(k.served, ARRIVALS_1H - 443);
    assert_eq!(a.rejected, 443 * 4 + 4 * 3 + 2 * 2 + 1);
    assert_eq!(k.retries, 443 * 3 + 4 * 3 + 2 * 2 + 1);
    assert_eq!(dep(&sc, &m, "b").served + dep(&sc, &m, "c").served, 0);
    // retry.on_status_codes = [503]: the 429s are not retried: one call each.
    let no = one.replace("attempts = 3 }", "attempts = 3, on_status_codes = [503] }");
    let (sc, m) = run1(&text(&no, &outage(ALL_429)));
    assert_eq!(m.classes[0].throttled, IN_WINDOW);
    assert_eq!(dep(&sc, &m, "a").rejected, IN_WINDOW);
    assert_eq!(m.classes[0].retries, 0);
}

#[test]
fn a_timeout_is_a_408_that_falls_back_but_is_not_retried_by_default() {
    // a's calls take 200 ms against a 100 ms request_timeout: each is aborted with a 408 after
    // 100 ms. Portkey's default retry statuses leave 408 out, so with attempts = 2 a is called
    // once and the request falls back to b: every request, served 100 + 200 ms after arrival.
    let fb = r#"{ mode = "fallback", retry = { attempts = 2 }, targets = [{ deployment = "a", timeout_ms = 100 }, { deployment = "b" }, { deployment = "c" }] }"#;
    let (sc, m) = run1(&text(fb, ""));
    let k = &m.classes[0];
    assert_eq!(
        (k.served, k.rescued, k.retries),
        (ARRIVALS_1H, ARRIVALS_1H, ARRIVALS_1H)
    );
    assert_eq!(dep(&sc, &m, "a").errors, ARRIVALS_1H);
    assert_eq!(dep(&sc, &m, "a").served, 0, "an aborted call is not billed");
    assert_eq!(dep(&sc, &m, "b").served, ARRIVALS_1H);
    let p50 = k.ttft.percentile_ms(50.0).unwrap();
    assert!((p50 - 300.0).abs() < 3.0, "TTFT {p50} ms");
    // Retrying on 408: a is called 3 times, at t, t + 1.1 s and t + 3.2 s (100 ms timeouts,
    // waits 1 s and 2 s), then b at t + 3.3 s. The horizon (3600 s) cuts the last three
    // requests short: 3597 and 3598 make 2 calls to a, 3599 one (4 calls to a and 7 retries
    // fewer than 3 per request).
    let again = fb.replace("attempts = 2 }", "attempts = 2, on_status_codes = [408] }");
    let (sc, m) = run1(&text(&again, ""));
    let k = &m.classes[0];
    assert_eq!(dep(&sc, &m, "a").errors, 3 * ARRIVALS_1H - 4);
    assert_eq!(k.retries, 3 * ARRIVALS_1H - 7);
    assert_eq!(k.in_flight, 3);
    let p50 = k.ttft.percentile_ms(50.0).unwrap();
    assert!(
        (p50 - 3500.0).abs() < 30.0,
        "3 × 100 ms + 1 s + 2 s + 200 ms: {p50} ms"
    );
}

#[test]
fn a_nested_loadbalance_falls_back_as_a_whole() {
    // fallback [ loadbalance(a, b), c ]: a request drawn to a in a's full outage gets a 503
    // from the loadbalance, and its fallback parent sends it to c. Nothing fails; c serves
    // exactly the requests a errored.
    let tree = r#"{ mode = "fallback", targets = [{ mode = "loadbalance", targets = [{ deployment = "a" }, { deployment = "b" }] }, { deployment = "c" }] }"#;
    let (sc, m) = run1(&text(tree, &outage(FULL)));
    let k = &m.classes[0];
    let (a, c) = (dep(&sc, &m, "a"), dep(&sc, &m, "c"));
    assert_eq!((k.served, k.errored), (ARRIVALS_1H, 0));
    assert_eq!(c.served, a.errors);
    assert!((225 - 45..=225 + 45).contains(&a.errors), "{}", a.errors);
    // The same tree on 1 and 4 threads: the same draws, the same results.
    let sc = scenario(&text(tree, &outage(FULL)));
    let (one, four) = (run(&sc, 1, None).pooled(), run(&sc, 4, None).pooled());
    for d in 0..3 {
        let (x, y) = (&one.deployments[d], &four.deployments[d]);
        assert_eq!((x.served, x.errors), (y.served, y.errors));
    }
}
