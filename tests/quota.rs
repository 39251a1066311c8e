//! Quota limiters as the vendors enforce them (`on_demand.quota`, class `max_tokens`): exact counts on small cases, bursts against per-minute quotas, and the catalog's shapes.
//!
//! The limiter tests ask `Limiter` directly, so every count follows from the vendor's rule by
//! hand. The simulation tests use deterministic arrivals (`process = "deterministic"` at `rps`
//! puts arrival k at k / rps seconds, k = 1, 2, ..., strictly before the horizon), fixed token
//! counts, a constant TTFT and a client with one attempt, as tests/failover.rs does.

use llmcap::analysis::run::run;
use llmcap::domain::{Pool, Quota, Scenario};
use llmcap::model::limiter::{Ask, Limiter, Settle, Throttle};
use llmcap::model::metrics::RepMetrics;

use crate::common::scenario;

const MS: u64 = 1_000;

fn ask(input: u32, cached: u32, output: u32, max_tokens: u32) -> Ask {
    Ask {
        input,
        cached,
        output,
        max_tokens,
    }
}

/// How many of `n` requests arriving at `at` (microseconds, in order) the limiter admits.
fn admitted(l: &mut Limiter, n: usize, at: impl Fn(usize) -> u64, a: Ask) -> usize {
    (0..n).filter(|&i| l.try_admit(at(i), &a).is_ok()).count()
}

#[test]
fn a_burst_in_one_second_passes_a_per_minute_bucket_but_not_azure_s_one_second_window() {
    // Microsoft Learn: "rate limiting occurs for a 600-RPM deployment if more than 10 requests
    // are received during each 1-second period". 30 requests 10 ms apart, all inside [0, 1 s).
    let burst = |i: usize| i as u64 * 10 * MS;
    let a = ask(100, 0, 10, 10);
    let mut azure1 = Limiter::new(Quota::Azure { rpm_window_s: 1 }, Some(600.0), None);
    assert_eq!(admitted(&mut azure1, 30, burst, a), 10);
    // A 10 s window admits 600 x 10 / 60 = 100: the whole burst.
    let mut azure10 = Limiter::new(Quota::Azure { rpm_window_s: 10 }, Some(600.0), None);
    assert_eq!(admitted(&mut azure10, 30, burst, a), 30);
    // The bucket holds a minute's quota (600 requests): the whole burst.
    let mut bucket = Limiter::new(Quota::Bucket, Some(600.0), None);
    assert_eq!(admitted(&mut bucket, 30, burst, a), 30);
    // The next second is a new window: 10 more of a second burst pass.
    assert_eq!(admitted(&mut azure1, 30, |i| 1_000 * MS + burst(i), a), 10);
}

#[test]
fn azure_counts_max_tokens_at_admission_and_refused_requests_too() {
    // TPM 1,000 counted per clock minute; a request is 100 input + 50 output tokens, and sends
    // max_tokens = 500. Microsoft Learn: the estimate (prompt + max_tokens) is added to "a
    // running token count ... reset each minute. If at any time during that minute, the TPM
    // rate limit value is reached, then further requests will receive a 429".
    let mut l = Limiter::new(Quota::Azure { rpm_window_s: 10 }, None, Some(1000.0));
    // Counted 0, then 600 (both below 1,000: admitted), then 1,200: refused.
    let with_max = ask(100, 0, 50, 500);
    assert!(l.try_admit(0, &with_max).is_ok());
    assert!(l.try_admit(MS, &with_max).is_ok());
    assert_eq!(l.try_admit(2 * MS, &with_max), Err(Throttle::Tpm));
    // Its actual 150 tokens would have fitted: the same three requests without max_tokens
    // count 0, 150, 300.
    let mut actual = Limiter::new(Quota::Azure { rpm_window_s: 10 }, None, Some(1000.0));
    let no_max = ask(100, 0, 50, 50);
    assert_eq!(admitted(&mut actual, 3, |i| i as u64 * MS, no_max), 3);
    // Counted 150 k before request k: 7 admitted (0 .. 900), then refused, including every
    // refused request's own 150 (Azure counts requests "later rejected").
    assert_eq!(
        admitted(&mut actual, 10, |i| (3 + i) as u64 * MS, no_max),
        4
    );
    // The next clock minute starts at zero again.
    assert!(l.try_admit(60_000 * MS, &with_max).is_ok());
}

#[test]
fn anthropic_input_and_output_limits_refuse_independently() {
    let q = Quota::Anthropic {
        itpm: Some(1000.0),
        otpm: Some(100.0),
        itpm_cache_reads: false,
    };
    // Input-heavy: 400 input tokens use the ITPM bucket (1,000 -> 600 -> 200), the third
    // request finds 200 < 400 and is refused by ITPM; OTPM (10 each) is far from its limit.
    let mut l = Limiter::new(q, None, None);
    let big_in = ask(400, 0, 10, 10);
    assert!(l.try_admit(0, &big_in).is_ok());
    assert!(l.try_admit(0, &big_in).is_ok());
    assert_eq!(l.try_admit(0, &big_in), Err(Throttle::Tpm));
    // Output-heavy: max_tokens 40 reserves OTPM at admission (100 -> 60 -> 20), the third is
    // refused by OTPM although its actual output (10) would fit and ITPM is nearly full.
    let mut l = Limiter::new(q, None, None);
    let big_out = ask(10, 0, 10, 40);
    assert!(l.try_admit(0, &big_out).is_ok());
    assert!(l.try_admit(0, &big_out).is_ok());
    assert_eq!(l.try_admit(0, &big_out), Err(Throttle::Otpm));
    // Cache reads do not count towards ITPM (most models): 400 input of which 300 cached
    // charge 100, so ten pass at once and the eleventh is refused.
    let mut l = Limiter::new(q, None, None);
    assert_eq!(admitted(&mut l, 11, |_| 0, ask(400, 300, 1, 1)), 10);
    // The models Anthropic marks with a dagger count them: 400 each, two pass.
    let dagger = Quota::Anthropic {
        itpm: Some(1000.0),
        otpm: Some(100.0),
        itpm_cache_reads: true,
    };
    let mut l = Limiter::new(dagger, None, None);
    assert_eq!(admitted(&mut l, 3, |_| 0, ask(400, 300, 1, 1)), 2);
}

#[test]
fn anthropic_returns_unused_max_tokens_when_the_request_ends() {
    // OTPM 100 per minute, max_tokens 40, actual output 10: each admission reserves 40 and its
    // end returns 30. Two at t = 0 leave 20, so a third at t = 0 is refused.
    let q = Quota::Anthropic {
        itpm: None,
        otpm: Some(100.0),
        itpm_cache_reads: false,
    };
    let a = ask(10, 0, 10, 40);
    let mut l = Limiter::new(q, None, None);
    let s1 = l.try_admit(0, &a).unwrap();
    let s2 = l.try_admit(0, &a).unwrap();
    assert_eq!(
        s1,
        Some(Settle {
            tokens: 0.0,
            output: 30.0
        })
    );
    assert_eq!(l.try_admit(0, &a), Err(Throttle::Otpm));
    // Both end at 600 ms: 20 + 0.6 s x 100/60 per s (1) + 2 x 30 = 81 at 600 ms, so two more
    // pass then (81 -> 41 -> 1) and the next is refused.
    l.settle(600 * MS, s1.unwrap());
    l.settle(600 * MS, s2.unwrap());
    assert_eq!(admitted(&mut l, 3, |_| 600 * MS, a), 2);
}

#[test]
fn bedrock_reserves_max_tokens_and_settles_output_at_its_burndown_rate() {
    // TPM 1,000. A request: 100 input, 100 output, max_tokens 100; at the start Bedrock deducts
    // input + max_tokens = 200, at the end input + 5 x output = 600 (AWS: "1 output token
    // consumes 5 tokens from your quotas"), i.e. 400 more.
    let a = ask(100, 0, 100, 100);
    let burn5 = Quota::Bedrock {
        output_burndown: 5.0,
    };
    let mut l = Limiter::new(burn5, None, Some(1000.0));
    // Five fit at once (1,000 -> 0), the sixth does not.
    assert_eq!(admitted(&mut l, 6, |_| 0, a), 5);
    let mut l = Limiter::new(burn5, None, Some(1000.0));
    let s = l.try_admit(0, &a).unwrap().unwrap();
    assert_eq!(s.tokens, -400.0);
    // It ends at 6 ms: 800 + 6 ms x 1,000/60 s (0.1) - 400 = 400.1, so at 6 ms two more pass
    // (400.1 -> 200.1 -> 0.1) and a third is refused.
    l.settle(6 * MS, s);
    assert_eq!(admitted(&mut l, 3, |_| 6 * MS, a), 2);
    // Burning output 1:1 the end charge equals the start charge: nothing to settle, and at
    // 6 ms 800.1 admit four more.
    let mut l = Limiter::new(
        Quota::Bedrock {
            output_burndown: 1.0,
        },
        None,
        Some(1000.0),
    );
    assert_eq!(l.try_admit(0, &a), Ok(None));
    assert_eq!(admitted(&mut l, 5, |_| 6 * MS, a), 4);
}

#[test]
fn vertex_counts_input_tokens_only() {
    // TPM 1,000 against 100 input + 900 output: Vertex's per-minute token quota counts input
    // tokens (generate_content_input_tokens_per_minute_per_base_model): ten pass; llmcap's
    // default bucket counts 1,000 per request: one passes.
    let a = ask(100, 0, 900, 900);
    let mut vertex = Limiter::new(Quota::Vertex, None, Some(1000.0));
    assert_eq!(admitted(&mut vertex, 11, |_| 0, a), 10);
    let mut bucket = Limiter::new(Quota::Bucket, None, Some(1000.0));
    assert_eq!(admitted(&mut bucket, 11, |_| 0, a), 1);
}

/// One class "c" on one custom on-demand deployment "d" (TTFT exactly 100 ms), one hour, no
/// retries: `arrivals` is the body of the arrivals table, `class` more class keys, `od` more
/// on_demand keys.
fn text(arrivals: &str, class: &str, od: &str) -> String {
    format!(
        r#"
[scenario]
name = "quota"
horizon_hours = 1
seed = 3
[client]
max_attempts = 1

[[class]]
name = "c"
model = "m"
route = ["d"]
arrivals = {{ {arrivals} }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 50 }}
{class}

[[deployment]]
name = "d"
platform = "custom"
model = "m"
latency = {{ median_ms = 100, p99_ms = 100 }}
on_demand = {{ input_per_1m = 1.0, output_per_1m = 1.0, {od} }}
"#
    )
}

fn run1(sc: &Scenario) -> RepMetrics {
    run(sc, 1, None).pooled()
}

/// (arrived, served, throttled) of the class.
fn counts(m: &RepMetrics) -> (u64, u64, u64) {
    let c = &m.classes[0];
    (c.arrived, c.served, c.throttled)
}

#[test]
fn twenty_requests_a_second_against_600_rpm() {
    // 20 rps for an hour: arrivals at k x 50 ms, k = 1 ..= 71,999; 19 in the first second,
    // 20 in each of the other 3,599.
    let every = r#"process = "deterministic", mean_rps = 20.0"#;
    // Azure, 1 s windows of 600 / 60 = 10 requests: 10 in each of the 3,600 seconds.
    let sc = scenario(&text(
        every,
        "",
        r#"rpm = 600, quota = "azure", rpm_window_s = 1"#,
    ));
    assert_eq!(counts(&run1(&sc)), (71_999, 36_000, 35_999));
    // 10 s windows of 100: 199 arrivals in the first, 200 in the other 359; 100 pass in each.
    let sc = scenario(&text(
        every,
        "",
        r#"rpm = 600, quota = "azure", rpm_window_s = 10"#,
    ));
    assert_eq!(counts(&run1(&sc)), (71_999, 36_000, 35_999));
    // The bucket starts with a minute's quota: the first minute passes 600 more than the
    // refill alone (600 + 10 per second, within rounding of the continuous refill).
    let sc = scenario(&text(every, "", "rpm = 600"));
    let (arrived, served, _) = counts(&run1(&sc));
    assert_eq!(arrived, 71_999);
    // By hand: 601 - 0.5 n >= 1 admits arrivals 1 ..= 1,200, then every second one of the
    // remaining 70,799: 1,200 + 35,399 = 36,599.
    assert!(
        (36_597..=36_601).contains(&served),
        "bucket served {served}"
    );
}

#[test]
fn a_class_s_max_tokens_reaches_azure_s_token_count() {
    // 1 request/s (59 arrivals in minute 0, 60 in the others), 100 input + 50 output tokens,
    // Azure TPM 1,000 per clock minute. With max_tokens = 500 each request counts 600: the
    // first two of each minute pass (counted 0, 600), the rest find 1,200 or more: 2 x 60.
    let every = r#"process = "deterministic", mean_rps = 1.0"#;
    let od = r#"tpm = 1000, quota = "azure""#;
    let sc = scenario(&text(every, "max_tokens = 500", od));
    assert_eq!(sc.classes[0].max_tokens, Some(500));
    assert_eq!(counts(&run1(&sc)), (3599, 120, 3479));
    // Without max_tokens the actual 150 count: 7 per minute (counted 0, 150, ..., 900).
    let sc = scenario(&text(every, "", od));
    assert_eq!(counts(&run1(&sc)), (3599, 420, 3179));
    // A response stops at max_tokens: max_tokens = 20 bills 20 output tokens, not 50, and
    // counts 120 per request: 9 per minute (counted 0, 120, ..., 960).
    let sc = scenario(&text(every, "max_tokens = 20", od));
    let m = run1(&sc);
    assert_eq!(counts(&m), (3599, 540, 3059));
    assert_eq!(m.deployments[0].output_tokens, 540 * 20);
}

#[test]
fn bursty_traffic_is_throttled_below_the_per_minute_quota() {
    // 5 requests/s on average, half of a 600 RPM quota. Azure's 1 s windows admit 10 a
    // second, so a second with more arrivals loses the excess even though no minute comes
    // near 600. Bursts (overdispersion 2 over 1 s intervals: Gamma factors with variance 2)
    // put many seconds above 10; Poisson arrivals only a few; the per-minute bucket, holding
    // 600, absorbs them all.
    let poisson = "mean_rps = 5.0";
    let bursty = "mean_rps = 5.0, overdispersion = 2, burst_interval_s = 1";
    let azure = r#"rpm = 600, quota = "azure", rpm_window_s = 1"#;
    let run_counts = |arr: &str, od: &str| counts(&run1(&scenario(&text(arr, "", od))));
    let (arrived_b, served_b, throttled_b) = run_counts(bursty, azure);
    let (arrived_p, _, throttled_p) = run_counts(poisson, azure);
    let (_, _, throttled_bucket) = run_counts(bursty, "rpm = 600");
    // An hour of the quota is 36,000 requests; the traffic is about half of it.
    assert!(arrived_b < 36_000 * 6 / 10 && arrived_p < 36_000 * 6 / 10);
    assert_eq!(
        throttled_bucket, 0,
        "the per-minute bucket never throttles this load"
    );
    assert!(
        throttled_p > 0,
        "Poisson seconds above 10 lose their excess"
    );
    assert!(
        throttled_b > 10 * throttled_p,
        "bursts are throttled far more: bursty {throttled_b}, Poisson {throttled_p}"
    );
    assert_eq!(served_b + throttled_b, arrived_b);
    assert!(served_b < 36_000, "served below the hour's quota");
}

#[test]
fn quota_shapes_are_opt_in_and_vendor_takes_the_catalog_s_shape() {
    // An offering without `quota` keeps llmcap's bucket, whatever its vendor enforces: a
    // scenario's results change only when it asks for a shape.
    let dep = |od: &str| {
        format!(
            r#"
[scenario]
name = "q"
horizon_hours = 1
[[class]]
name = "c"
model = "claude-sonnet-4"
route = ["d"]
arrivals = {{ mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 50 }}
[[deployment]]
name = "d"
offering = "{od}"
"#
        )
    };
    let pool = |text: &str| match &scenario(text).deployments[0].pool {
        Pool::OnDemand(o) => (o.quota, o.rpm, o.tpm),
        Pool::Reserved(_) => panic!("on-demand offering"),
    };
    assert_eq!(
        pool(&dep("anthropic/claude-sonnet-4/standard")),
        (Quota::Bucket, Some(4000.0), Some(280_000.0))
    );
    // "vendor": Anthropic's shape with the offering's ITPM and OTPM (Tier 4: 200,000 and
    // 80,000); the combined tpm does not apply.
    let vendor = dep("anthropic/claude-sonnet-4/standard") + "on_demand = { quota = \"vendor\" }\n";
    assert_eq!(
        pool(&vendor),
        (
            Quota::Anthropic {
                itpm: Some(200_000.0),
                otpm: Some(80_000.0),
                itpm_cache_reads: false,
            },
            Some(4000.0),
            None
        )
    );
    // Claude Haiku 3.5 counts cache reads towards ITPM (Anthropic's dagger).
    let haiku = dep("anthropic/claude-3-5-haiku/standard")
        .replace("claude-sonnet-4", "claude-3-5-haiku")
        + "on_demand = { quota = \"vendor\" }\n";
    assert_eq!(
        pool(&haiku).0,
        Quota::Anthropic {
            itpm: Some(400_000.0),
            otpm: Some(80_000.0),
            itpm_cache_reads: true,
        }
    );
    // Bedrock's Claude Sonnet 4 burns output 5:1.
    let bedrock = dep("bedrock/claude-sonnet-4/us-cris") + "on_demand = { quota = \"vendor\" }\n";
    assert_eq!(
        pool(&bedrock).0,
        Quota::Bedrock {
            output_burndown: 5.0
        }
    );
    // A scenario key wins over the catalog's: a 1 s window on an Azure offering.
    let azure = dep("azure-openai/gpt-4o-mini/global-standard")
        .replace("claude-sonnet-4", "gpt-4o-mini")
        + "on_demand = { quota = \"vendor\", rpm_window_s = 1 }\n";
    assert_eq!(pool(&azure).0, Quota::Azure { rpm_window_s: 1 });
}

#[test]
fn vendor_shapes_give_identical_files_on_one_and_four_threads() {
    // Four replications of bursty traffic over an Azure, an Anthropic and a Bedrock deployment
    // in turn (429s spill to the next), with max_tokens, prompt caching and settlements at each
    // request's first token: the files are byte-identical whatever the thread count.
    let text = r#"
[scenario]
name = "shapes"
horizon_hours = 1
seed = 9
replications = 4

[[class]]
name = "c"
model = "m"
route = ["azure", "anthropic", "bedrock"]
arrivals = { mean_rps = 8.0, overdispersion = 1, burst_interval_s = 1 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }
max_tokens = 1024
cached_input_share = 0.3

[[deployment]]
name = "azure"
platform = "custom"
model = "m"
latency = { median_ms = 400, p99_ms = 2000 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 300, tpm = 300000, quota = "azure", rpm_window_s = 1 }

[[deployment]]
name = "anthropic"
platform = "custom"
model = "m"
latency = { median_ms = 600, p99_ms = 3000 }
on_demand = { input_per_1m = 3.0, output_per_1m = 15.0, rpm = 120, quota = "anthropic", itpm = 60000, otpm = 20000 }

[[deployment]]
name = "bedrock"
platform = "custom"
model = "m"
latency = { median_ms = 700, p99_ms = 3000 }
on_demand = { input_per_1m = 3.0, output_per_1m = 15.0, rpm = 200, tpm = 200000, quota = "bedrock", output_burndown = 5 }
"#;
    let tmp = tempfile::tempdir().unwrap();
    let file = crate::common::write(tmp.path(), "shapes.toml", text);
    let mut dirs = Vec::new();
    for threads in ["1", "4"] {
        let out = tmp.path().join(format!("t{threads}"));
        crate::common::command_ok("run", &file, &out, &["--threads", threads]);
        dirs.push(out);
    }
    crate::common::assert_same_results(&dirs[0], &dirs[1], "summary.json");
    // Every deployment refused some and served some: the shapes were all exercised.
    let s = crate::common::read_json(&dirs[0].join("summary.json"));
    for d in s["deployments"].as_array().unwrap() {
        let (served, refused) = (
            d["served"].as_f64().unwrap(),
            d["rejected_429"].as_f64().unwrap(),
        );
        assert!(
            served > 0.0 && refused > 0.0,
            "{}: served {served}, 429 {refused}",
            d["name"]
        );
    }
}

/// Bursty traffic at half the quota of an on-demand deployment "paygo" limited by `od` (600 RPM;
/// 5 requests/s, overdispersion 2 over 1 s intervals), no retries. With `reserved`, the class
/// tries a reserved deployment "ptu" first, and `[frontier]` tries that route and paygo alone.
/// One replication: plan's attainment is the mean of the replications' shares, run's the share
/// of all their requests, which agree only for one.
fn spilling(reserved: bool, od: &str) -> String {
    let (route, ptu) = if reserved {
        (
            r#"["ptu", "paygo"]"#,
            r#"
[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 500, p99_ms = 1500 }
reserved = { units = 1, tpm_per_unit = 100000000, concurrency_per_unit = 100, output_weight = 1, term = "monthly", price_per_unit_hour = { hourly = 10.0, monthly = 6.0 } }

[frontier]
units = { ptu = [1] }
routes = [["ptu", "paygo"], ["paygo"]]
"#,
        )
    } else {
        (r#"["paygo"]"#, "")
    };
    format!(
        r#"
[scenario]
name = "shaped"
horizon_hours = 2
seed = 11
replications = 1
[client]
max_attempts = 1

[[class]]
name = "c"
model = "m"
route = {route}
sla = {{ ttft_ms = 2000, percentile = 99 }}
arrivals = {{ mean_rps = 5.0, overdispersion = 2, burst_interval_s = 1 }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 50 }}

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = {{ median_ms = 100, p99_ms = 300 }}
on_demand = {{ input_per_1m = 2.0, output_per_1m = 10.0, rpm = 600{od} }}
{ptu}"#
    )
}

/// (monthly cost, throttled share, SLA attainment) of `llmcap run` on `text`.
fn run_outcome(dir: &std::path::Path, name: &str, text: &str) -> (f64, f64, f64) {
    let file = crate::common::write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    crate::common::command_ok("run", &file, &out, &[]);
    let s = crate::common::read_json(&out.join("summary.json"));
    let r = &s["requests"];
    (
        s["cost"]["total_usd"]["mean"].as_f64().unwrap() / 2.0 * 730.0,
        r["throttled"].as_f64().unwrap() / r["arrived"].as_f64().unwrap(),
        s["sla"][0]["attainment"]["mean"].as_f64().unwrap(),
    )
}

#[test]
fn plan_and_frontier_simulate_the_scenario_s_quota_shape() {
    // plan's on-demand-only alternative and frontier's "paygo" route are the scenario with the
    // reserved deployment taken out: they equal `llmcap run` of that scenario written by hand,
    // 429s and SLA attainment included, under Azure's 1 s windows (10 requests a second) and
    // under the per-minute bucket; and the two shapes differ, so the shape is what is simulated.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut throttled = Vec::new();
    for (name, od) in [
        ("azure", r#", quota = "azure", rpm_window_s = 1"#),
        ("bucket", ""),
    ] {
        let want = run_outcome(dir, &format!("{name}-run"), &spilling(false, od));
        let file = crate::common::write(dir, &format!("{name}.toml"), &spilling(true, od));
        let plan = dir.join(format!("{name}-plan"));
        crate::common::command_ok("plan", &file, &plan, &["--max-units", "3"]);
        let j = crate::common::read_json(&plan.join("plan.json"));
        let od_only = j["evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["mode"] == "on-demand-only")
            .unwrap_or_else(|| panic!("{name}: no on-demand-only in {j:#}"));
        let s = &od_only["summary"];
        let got = (
            s["total_usd"]["mean"].as_f64().unwrap() / 2.0 * 730.0,
            s["throttled_share"].as_f64().unwrap(),
            s["sla_attainment"]["mean"].as_f64().unwrap(),
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
        assert!(
            close(got.0, want.0) && close(got.1, want.1) && close(got.2, want.2),
            "{name}: plan's on-demand only {got:?} vs run {want:?}"
        );
        let front = dir.join(format!("{name}-frontier"));
        crate::common::command_ok("frontier", &file, &front, &[]);
        let mut r = csv::Reader::from_path(front.join("frontier.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let row = r
            .records()
            .map(|x| x.unwrap())
            .find(|x| x[h.iter().position(|c| c == "route").unwrap()] == *"paygo")
            .expect("the paygo route");
        let field =
            |k: &str| -> f64 { row[h.iter().position(|c| c == k).unwrap()].parse().unwrap() };
        // frontier.csv writes 2 decimals of dollars and 5 of shares.
        assert!(
            (field("monthly_usd") - want.0).abs() <= 0.01,
            "{name}: frontier {} vs run {}",
            field("monthly_usd"),
            want.0
        );
        assert!(
            (field("throttled_share") - want.1).abs() <= 1e-5,
            "{name}: frontier throttled {} vs run {}",
            field("throttled_share"),
            want.1
        );
        assert!(
            (field("sla_attainment") - want.2).abs() <= 1e-5,
            "{name}: frontier attainment {} vs run {}",
            field("sla_attainment"),
            want.2
        );
        throttled.push(want.1);
    }
    // Azure's 1 s windows refuse the bursts' excess; the bucket, holding 600, absorbs them.
    assert!(
        throttled[0] > 0.01 && throttled[1] == 0.0,
        "throttled shares azure {}, bucket {}",
        throttled[0],
        throttled[1]
    );
}

#[test]
fn the_shipped_quota_shapes_scenario_throttles_only_under_one_second_windows() {
    // scenarios/quota_shapes.toml: the same bursty requests (6/s on average, a fifth of 1,800
    // RPM) under the per-minute bucket, Azure's 10 s windows and Azure's 1 s windows.
    let tmp = tempfile::tempdir().unwrap();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quota_shapes.toml");
    let out = tmp.path().join("q");
    crate::common::command_ok("run", &file, &out, &[]);
    let s = crate::common::read_json(&out.join("summary.json"));
    let share: Vec<(String, f64)> = s["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["requests"];
            (
                c["name"].as_str().unwrap().to_string(),
                r["throttled"].as_f64().unwrap() / r["arrived"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(share[0], ("extract-bucket".to_string(), 0.0));
    assert_eq!(share[1], ("extract-10s".to_string(), 0.0));
    assert_eq!(share[2].0, "extract-1s");
    // The scenario's comment says about 7% (7.46% at seed 20261204).
    assert!((0.06..0.09).contains(&share[2].1), "{share:?}");
}
