//! Invariants that must hold for any valid scenario (proptest).
//!
//! Scenarios are generated as TOML text and go through the same parser and
//! validation as a user's file. Every scenario has an on-demand deployment with
//! tight quotas (so 429s, spills and client retries happen) and a reserved one
//! with optional queue and wait bounds; each class routes to one or both, in
//! either order. Up to two random outages (MTBF/MTTR, full or partial) hit one
//! or both deployments, so errors and failover happen too. Horizons are short (1-6 hours at a few requests per second), so
//! each case runs in milliseconds in release.

use std::fmt::Write;

use llmcap::analysis::cost;
use std::path::Path;

use llmcap::analysis::plan;
use llmcap::analysis::run::run;
use llmcap::analysis::sweep::{run_points, RepOutcome, Sweep};
use llmcap::domain::TokenDist;
use llmcap::domain::{Class, Pool, Scenario, SlaTarget, SweepSpec};
use llmcap::input::scenario::Overrides;
use llmcap::model::metrics::{ClassStats, Hist, RepMetrics};
use proptest::prelude::*;

use crate::common::{command_ok, llmcap, read_json, scenario, write};

/// Percentiles at which histograms are compared and checked for monotonicity.
const PERCENTILES: &[f64] = &[
    0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0,
];

// ---------------------------------------------------------------------------
// Generated scenarios.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Spec {
    hours: u32,
    replications: u32,
    seed: u64,
    client: ClientSpec,
    on_demand: OnDemandSpec,
    reserved: ReservedSpec,
    classes: Vec<ClassSpec>,
    outages: Vec<OutageSpec>,
}

/// A random outage: `[[outage]]` with mtbf_hours / mttr_hours.
#[derive(Debug, Clone)]
struct OutageSpec {
    /// "paygo", "ptu" or both.
    deployments: &'static str,
    /// Tenths of an hour.
    mtbf_tenths: u32,
    /// Hundredths of an hour.
    mttr_hundredths: u32,
    /// None = full; Some((latency_factor, error_rate in percent)) = partial.
    partial: Option<(u32, u32)>,
}

#[derive(Debug, Clone)]
struct ClientSpec {
    max_attempts: u32,
    backoff_base_ms: u32,
    backoff_max_ms: u32,
    jitter: &'static str,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Clone)]
struct LatencySpec {
    median_ms: u32,
    /// p99 = median x this (1 = no spread).
    p99_over_median: u32,
    prefill_ms_per_1k: u32,
}

#[derive(Debug, Clone)]
struct OnDemandSpec {
    latency: LatencySpec,
    rpm: Option<u32>,
    tpm: Option<u32>,
    /// Shared pool size (tokens per minute), other tenants' mean load, and a
    /// peak-to-trough ratio for that load.
    shared_pool: Option<(u32, f64, Option<u32>)>,
}

#[derive(Debug, Clone)]
struct ReservedSpec {
    latency: LatencySpec,
    units: u32,
    tpm_per_unit: u32,
    output_weight: f64,
    concurrency_per_unit: u32,
    term: &'static str,
    max_queue: Option<u32>,
    max_wait_ms: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
enum Route {
    OnDemand,
    Reserved,
    OnDemandThenReserved,
    ReservedThenOnDemand,
}

impl Route {
    fn names(self) -> &'static str {
        match self {
            Route::OnDemand => r#"["paygo"]"#,
            Route::Reserved => r#"["ptu"]"#,
            Route::OnDemandThenReserved => r#"["paygo", "ptu"]"#,
            Route::ReservedThenOnDemand => r#"["ptu", "paygo"]"#,
        }
    }
}

#[derive(Debug, Clone)]
enum Tokens {
    Fixed(u32),
    LogNormal { median: u32, p90: u32 },
    Exponential(u32),
    Empirical([u32; 3]),
}

impl Tokens {
    fn toml(&self) -> String {
        match self {
            Tokens::Fixed(v) => format!(r#"{{ dist = "fixed", value = {v} }}"#),
            Tokens::LogNormal { median, p90 } => {
                format!(r#"{{ dist = "lognormal", median = {median}, p90 = {p90} }}"#)
            }
            Tokens::Exponential(mean) => format!(r#"{{ dist = "exponential", mean = {mean} }}"#),
            Tokens::Empirical([a, b, c]) => format!(
                r#"{{ dist = "empirical", quantiles = [[0, {a}], [50, {b}], [100, {c}]] }}"#
            ),
        }
    }
}

#[derive(Debug, Clone)]
struct ClassSpec {
    /// Mean arrival rate in tenths of a request per second.
    rps_tenths: u32,
    deterministic: bool,
    route: Route,
    input: Tokens,
    output: Tokens,
    peak_to_trough: Option<u32>,
    overdispersion: Option<f64>,
    sla_ms: Option<u32>,
}

impl Spec {
    fn toml(&self) -> String {
        let mut s = String::new();
        let c = &self.client;
        writeln!(
            s,
            "[scenario]\nname = \"prop\"\nhorizon_hours = {}\nseed = {}\nreplications = {}\n",
            self.hours, self.seed, self.replications
        )
        .unwrap();
        writeln!(
            s,
            "[client]\nmax_attempts = {}\nbackoff_base_ms = {}\nbackoff_max_ms = {}\njitter = \"{}\"",
            c.max_attempts, c.backoff_base_ms, c.backoff_max_ms, c.jitter
        )
        .unwrap();
        if let Some(t) = c.timeout_ms {
            writeln!(s, "timeout_ms = {t}").unwrap();
        }

        let o = &self.on_demand;
        writeln!(
            s,
            "\n[[deployment]]\nname = \"paygo\"\nplatform = \"custom\"\nmodel = \"m\""
        )
        .unwrap();
        writeln!(s, "latency = {}", latency_toml(&o.latency)).unwrap();
        writeln!(
            s,
            "[deployment.on_demand]\ninput_per_1m = 2.5\noutput_per_1m = 10.0"
        )
        .unwrap();
        if let Some(rpm) = o.rpm {
            writeln!(s, "rpm = {rpm}").unwrap();
        }
        if let Some(tpm) = o.tpm {
            writeln!(s, "tpm = {tpm}").unwrap();
        }
        if let Some((pool, bg, ratio)) = o.shared_pool {
            writeln!(
                s,
                "shared_pool_tpm = {pool}\nbackground_utilization = {bg:?}"
            )
            .unwrap();
            if let Some(r) = ratio {
                writeln!(
                    s,
                    "background_peak_hour = 15\nbackground_peak_to_trough = {r}"
                )
                .unwrap();
            }
        }

        let r = &self.reserved;
        writeln!(
            s,
            "\n[[deployment]]\nname = \"ptu\"\nplatform = \"custom\"\nmodel = \"m\""
        )
        .unwrap();
        writeln!(s, "latency = {}", latency_toml(&r.latency)).unwrap();
        writeln!(
            s,
            "[deployment.reserved]\nunits = {}\ntpm_per_unit = {}\noutput_weight = {:?}\nconcurrency_per_unit = {}\nterm = \"{}\"",
            r.units, r.tpm_per_unit, r.output_weight, r.concurrency_per_unit, r.term
        )
        .unwrap();
        writeln!(
            s,
            "price_per_unit_hour = {{ hourly = 2.0, monthly = 1.4, yearly = 1.1 }}"
        )
        .unwrap();
        if let Some(q) = r.max_queue {
            writeln!(s, "max_queue = {q}").unwrap();
        }
        if let Some(w) = r.max_wait_ms {
            writeln!(s, "max_wait_ms = {w}").unwrap();
        }

        for (i, k) in self.classes.iter().enumerate() {
            writeln!(
                s,
                "\n[[class]]\nname = \"c{i}\"\nmodel = \"m\"\nroute = {}",
                k.route.names()
            )
            .unwrap();
            writeln!(s, "tags = {{ team = \"t{}\" }}", i % 2).unwrap();
            if let Some(ms) = k.sla_ms {
                writeln!(s, "sla = {{ ttft_ms = {ms} }}").unwrap();
            }
            let process = if k.deterministic {
                "deterministic"
            } else {
                "poisson"
            };
            let mut arrivals = format!(
                "process = \"{process}\", mean_rps = {:?}",
                k.rps_tenths as f64 / 10.0
            );
            if let Some(r) = k.peak_to_trough {
                write!(arrivals, ", peak_hour = 14, peak_to_trough = {r}").unwrap();
            }
            if let Some(od) = k.overdispersion {
                write!(
                    arrivals,
                    ", overdispersion = {od:?}, burst_interval_s = 300"
                )
                .unwrap();
            }
            writeln!(s, "arrivals = {{ {arrivals} }}").unwrap();
            writeln!(
                s,
                "input_tokens = {}\noutput_tokens = {}",
                k.input.toml(),
                k.output.toml()
            )
            .unwrap();
        }
        for (i, o) in self.outages.iter().enumerate() {
            writeln!(
                s,
                "\n[[outage]]\nname = \"o{i}\"\ndeployments = {}\nmtbf_hours = {:?}\nmttr_hours = {:?}",
                o.deployments,
                o.mtbf_tenths as f64 / 10.0,
                o.mttr_hundredths as f64 / 100.0
            )
            .unwrap();
            if let Some((factor, pct)) = o.partial {
                writeln!(
                    s,
                    "effect = \"partial\"\nlatency_factor = {factor}\nerror_rate = {:?}",
                    pct as f64 / 100.0
                )
                .unwrap();
            }
        }
        s
    }

    fn scenario(&self) -> Scenario {
        scenario(&self.toml())
    }
}

fn latency_toml(l: &LatencySpec) -> String {
    format!(
        "{{ median_ms = {}, p99_ms = {}, prefill_ms_per_1k_input = {} }}",
        l.median_ms,
        l.median_ms * l.p99_over_median,
        l.prefill_ms_per_1k
    )
}

fn latency() -> impl Strategy<Value = LatencySpec> {
    (prop_oneof![Just(0u32), 50u32..=2000], 1u32..=5, 0u32..=40).prop_map(
        |(median_ms, k, prefill)| LatencySpec {
            median_ms,
            p99_over_median: k,
            prefill_ms_per_1k: prefill,
        },
    )
}

fn tokens(max: u32) -> impl Strategy<Value = Tokens> {
    prop_oneof![
        (0..=max).prop_map(Tokens::Fixed),
        (10..=max, 1u32..=6).prop_map(|(median, k)| Tokens::LogNormal {
            median,
            p90: median * k
        }),
        (10..=max).prop_map(Tokens::Exponential),
        (0..=max / 4, 0..=max, 0..=4 * max).prop_map(|(a, b, c)| Tokens::Empirical([
            a,
            a + b,
            a + b + c
        ])),
    ]
}

fn client() -> impl Strategy<Value = ClientSpec> {
    (
        1u32..=4,
        50u32..=2000,
        1u32..=8,
        prop::sample::select(vec!["full", "equal", "none"]),
        prop::option::of(200u32..=30_000),
    )
        .prop_map(|(max_attempts, base, k, jitter, timeout_ms)| ClientSpec {
            max_attempts,
            backoff_base_ms: base,
            backoff_max_ms: base * k,
            jitter,
            timeout_ms,
        })
}

fn on_demand() -> impl Strategy<Value = OnDemandSpec> {
    (
        latency(),
        prop::option::weighted(0.8, 6u32..=200),
        prop::option::weighted(0.6, 2_000u32..=200_000),
        prop::option::of((20_000u32..=2_000_000, 0u32..=90, prop::option::of(1u32..=5))),
    )
        .prop_map(|(latency, rpm, tpm, pool)| OnDemandSpec {
            latency,
            rpm,
            tpm,
            shared_pool: pool.map(|(p, bg, r)| (p, bg as f64 / 100.0, r)),
        })
}

fn reserved() -> impl Strategy<Value = ReservedSpec> {
    (
        latency(),
        1u32..=4,
        2_000u32..=100_000,
        0u32..=6,
        1u32..=4,
        prop::sample::select(vec!["hourly", "monthly", "yearly"]),
        prop::option::of(0u32..=20),
        prop::option::of(0u32..=5_000),
    )
        .prop_map(
            |(latency, units, tpm, w, conc, term, max_queue, max_wait_ms)| ReservedSpec {
                latency,
                units,
                tpm_per_unit: tpm,
                output_weight: w as f64 / 2.0,
                concurrency_per_unit: conc,
                term,
                max_queue,
                max_wait_ms,
            },
        )
}

fn class() -> impl Strategy<Value = ClassSpec> {
    (
        2u32..=30,
        prop::bool::weighted(0.15),
        prop::sample::select(vec![
            Route::OnDemand,
            Route::Reserved,
            Route::OnDemandThenReserved,
            Route::ReservedThenOnDemand,
        ]),
        tokens(3000),
        tokens(800),
        prop::option::of(1u32..=6),
        prop::option::of(1u32..=20),
        prop::option::of(100u32..=20_000),
    )
        .prop_map(
            |(rps, deterministic, route, input, output, ratio, od, sla_ms)| ClassSpec {
                rps_tenths: rps,
                deterministic,
                route,
                input,
                output,
                peak_to_trough: ratio,
                // Overdispersion is only allowed with Poisson arrivals.
                overdispersion: od.filter(|_| !deterministic).map(|k| k as f64 / 10.0),
                sla_ms,
            },
        )
}

fn outage() -> impl Strategy<Value = OutageSpec> {
    (
        prop::sample::select(vec![r#"["paygo"]"#, r#"["ptu"]"#, r#"["paygo", "ptu"]"#]),
        5u32..=40,
        2u32..=50,
        prop::option::of((1u32..=4, 0u32..=60)),
    )
        .prop_map(|(deployments, mtbf, mttr, partial)| OutageSpec {
            deployments,
            mtbf_tenths: mtbf,
            mttr_hundredths: mttr,
            // A partial outage must change something.
            partial: partial.map(|(f, e)| if f == 1 && e == 0 { (2, 0) } else { (f, e) }),
        })
}

/// A random valid scenario with `replications` in the given range.
fn spec(replications: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = Spec> {
    (
        1u32..=6,
        replications,
        0..=i64::MAX as u64, // TOML integers are i64
        client(),
        on_demand(),
        reserved(),
        prop::collection::vec(class(), 1..=3),
        prop::collection::vec(outage(), 0..=2),
    )
        .prop_map(
            |(hours, replications, seed, client, on_demand, reserved, classes, outages)| Spec {
                hours,
                replications,
                seed,
                client,
                on_demand,
                reserved,
                classes,
                outages,
            },
        )
}

// ---------------------------------------------------------------------------
// Checks.
// ---------------------------------------------------------------------------

/// Percentiles are defined exactly when the histogram is not empty, are never
/// negative and never fall as p rises.
fn check_percentiles(what: &str, h: &Hist) {
    let values: Vec<Option<f64>> = PERCENTILES.iter().map(|&p| h.percentile_ms(p)).collect();
    if h.count() == 0 {
        assert!(
            values.iter().all(Option::is_none),
            "{what}: empty histogram has percentiles"
        );
        return;
    }
    let values: Vec<f64> = values
        .into_iter()
        .map(|v| v.expect("non-empty histogram"))
        .collect();
    assert!(values[0] >= 0.0, "{what}: negative percentile {values:?}");
    for (w, p) in values.windows(2).zip(PERCENTILES.windows(2)) {
        assert!(
            w[0] <= w[1],
            "{what}: p{} = {} > p{} = {} ms",
            p[0],
            w[0],
            p[1],
            w[1]
        );
    }
    assert!(
        values[values.len() - 1] <= h.max_ms().unwrap() + 1e-9,
        "{what}: p100 above max"
    );
}

/// Every invariant that holds within one replication (or the pooled replications).
fn check_invariants(sc: &Scenario, m: &RepMetrics) {
    let hours = sc.horizon_hours as usize;
    let nd = sc.deployments.len();
    assert_eq!(m.hours, sc.horizon_hours);
    assert_eq!(m.hourly.len(), hours * nd);
    assert_eq!(m.arrivals.len(), hours * sc.classes.len());

    // Conservation: every arrival ends in exactly one state.
    for (ci, (class, c)) in sc.classes.iter().zip(&m.classes).enumerate() {
        let name = &class.name;
        assert_eq!(
            c.arrived,
            c.served + c.throttled + c.failed + c.errored + c.in_flight,
            "class {name}: arrived != served + throttled + failed + errored + in flight ({c:?})"
        );
        assert!(c.rescued <= c.served, "class {name}: rescued {}", c.rescued);
        if sc.outages.is_empty() && sc.gateway.cooldown.is_none() {
            assert_eq!(
                c.errored + c.rescued,
                0,
                "class {name}: errors without outages"
            );
        }
        let per_hour: u64 = (0..hours).map(|h| m.arrivals_in(h, ci)).sum();
        assert_eq!(per_hour, c.arrived, "class {name}: hourly arrivals");
        assert_eq!(
            c.ttft.count(),
            c.served,
            "class {name}: one TTFT per served request"
        );
        assert!(
            c.spilled <= c.served && c.within_sla <= c.served,
            "class {name}: {c:?}"
        );
        if class.sla.is_none() {
            assert_eq!(c.within_sla, 0);
        }
        if class.route.len() == 1 {
            assert_eq!(c.spilled, 0, "class {name}: nowhere to spill to");
        }
        if sc.client.max_attempts == 1 {
            assert_eq!(c.retries, 0, "class {name}: retries without attempts left");
            let queued: u64 = m.deployments.iter().map(|d| d.queued_at_horizon).sum();
            assert!(
                c.in_flight <= queued,
                "class {name}: in flight only if queued at the end"
            );
        }
        assert!(c.retries <= (sc.client.max_attempts as u64 - 1) * c.arrived);
        if sc.client.timeout_us.is_none() {
            assert_eq!(c.failed, 0, "class {name}: failed without a client timeout");
        }
        check_percentiles(&format!("class {name} TTFT"), &c.ttft);
    }

    // Deployments against their hourly cells.
    for (d, (dep, ds)) in sc.deployments.iter().zip(&m.deployments).enumerate() {
        let name = &dep.name;
        let sum = |f: fn(&llmcap::model::metrics::HourCell) -> u64| {
            (0..hours).map(|h| f(m.hour_cell(h, d))).sum::<u64>()
        };
        assert_eq!(
            sum(|c| c.requests),
            ds.served,
            "deployment {name}: hourly requests"
        );
        assert_eq!(
            sum(|c| c.input_tokens),
            ds.input_tokens,
            "deployment {name}: hourly input tokens"
        );
        assert_eq!(
            sum(|c| c.output_tokens),
            ds.output_tokens,
            "deployment {name}: hourly output tokens"
        );
        assert_eq!(
            sum(|c| c.rejected),
            ds.rejected,
            "deployment {name}: hourly 429s"
        );
        assert_eq!(
            sum(|c| c.spilled),
            ds.spilled_out,
            "deployment {name}: hourly spills"
        );
        assert_eq!(
            sum(|c| c.errors),
            ds.errors,
            "deployment {name}: hourly errors"
        );
        assert!(ds.rescued <= ds.served, "deployment {name}: rescued");
        assert_eq!(
            sum(|c| c.busy_us) as u128,
            ds.busy_us,
            "deployment {name}: hourly busy time"
        );
        assert!(ds.spilled_out <= ds.rejected);
        check_percentiles(&format!("deployment {name} TTFT"), &ds.ttft);

        // Cost and utilization.
        for h in 0..hours {
            let cell = m.hour_cell(h, d);
            let cost = cost::hour_cost(dep, h, cell);
            assert!(
                cost.on_demand.is_finite()
                    && cost.on_demand >= 0.0
                    && cost.reserved.is_finite()
                    && cost.reserved >= 0.0,
                "deployment {name}, hour {h}: cost {cost:?}"
            );
            match &dep.pool {
                Pool::Reserved(r) => {
                    assert_eq!(
                        cost.reserved,
                        r.units as f64 * r.unit_hour_price(),
                        "billed used or not"
                    );
                }
                Pool::OnDemand(_) => {
                    assert_eq!(cost.reserved, 0.0);
                    assert_eq!(cell.busy_us, 0, "on-demand pools have no slots");
                }
            }
        }
    }
    for total in cost::deployment_totals(sc, m) {
        assert!(
            total.total() >= 0.0 && total.total().is_finite(),
            "{total:?}"
        );
    }
    // Each served or timed-out request was admitted by exactly one deployment,
    // once; timed-out requests are billed (in the hourly cells) but are not in
    // the class's served tokens.
    let served: u64 = m.classes.iter().map(|c| c.served).sum();
    let timed_out: u64 = m.classes.iter().map(|c| c.failed - c.abandoned).sum();
    let admitted: u64 = m.deployments.iter().map(|d| d.served).sum();
    assert_eq!(
        admitted,
        served + timed_out,
        "admissions = served + timed out"
    );
    let dep_ttft: u64 = m.deployments.iter().map(|d| d.ttft.count()).sum();
    assert_eq!(
        dep_ttft, served,
        "deployments record TTFT of served requests only"
    );
    let hourly_in: u64 = m.hourly.iter().map(|c| c.input_tokens).sum();
    let hourly_out: u64 = m.hourly.iter().map(|c| c.output_tokens).sum();
    let class_in: u64 = m.classes.iter().map(|c| c.input_tokens).sum();
    let class_out: u64 = m.classes.iter().map(|c| c.output_tokens).sum();
    if timed_out == 0 {
        assert_eq!(
            (hourly_in, hourly_out),
            (class_in, class_out),
            "tokens billed = tokens served"
        );
    } else {
        assert!(
            hourly_in >= class_in && hourly_out >= class_out,
            "billed tokens include timed-out requests"
        );
    }
    // With fixed token counts the timed-out requests' tokens are known exactly.
    let fixed = |d: &TokenDist| match d {
        TokenDist::Fixed(v) => Some(*v as u64),
        _ => None,
    };
    for (billed, dist_of, served_of) in [
        (
            hourly_in,
            (|k: &Class| &k.input_tokens) as fn(&Class) -> &TokenDist,
            (|c: &ClassStats| c.input_tokens) as fn(&ClassStats) -> u64,
        ),
        (
            hourly_out,
            |k: &Class| &k.output_tokens,
            |c: &ClassStats| c.output_tokens,
        ),
    ] {
        // A replayed trace brings its own token counts.
        let per_request: Option<Vec<u64>> = sc
            .classes
            .iter()
            .map(|k| k.trace.is_none().then(|| fixed(dist_of(k))).flatten())
            .collect();
        if let Some(v) = per_request {
            for (c, v) in m.classes.iter().zip(&v) {
                assert_eq!(
                    served_of(c),
                    c.served * v,
                    "class tokens = served x fixed tokens"
                );
            }
            let expected: u64 = m
                .classes
                .iter()
                .zip(&v)
                .map(|(c, v)| (c.served + c.failed - c.abandoned) * v)
                .sum();
            assert_eq!(
                billed, expected,
                "billed tokens = (served + timed out) x fixed tokens"
            );
        }
    }
    check_percentiles("all classes TTFT", &m.overall_ttft());
    // Requests that ended unserved, by hour: throttled, errored, timed out or given up.
    let ended_unserved: u64 = m
        .classes
        .iter()
        .map(|c| c.throttled + c.errored + c.failed)
        .sum();
    assert_eq!(
        m.hour_failed.iter().sum::<u64>(),
        ended_unserved,
        "hourly failed requests"
    );
    // Served TTFTs split by whether an outage was active at arrival; a
    // replication without incidents records neither.
    let split = m.ttft_incident.count() + m.ttft_normal.count();
    assert!(split <= served, "TTFT inside / outside incidents");
    if sc.outages.is_empty() {
        assert_eq!(split, 0);
    }

    // Every refused pass down a route is one refusal (a 429, an error or a
    // skip in cooldown) from each deployment on it; a pass that succeeds at
    // position k adds k refusals (k > 0 only when spilled).
    let refused_passes: u64 = sc
        .classes
        .iter()
        .zip(&m.classes)
        .map(|(k, c)| {
            (c.retries + c.throttled + c.errored + c.abandoned) * k.route.len() as u64 + c.spilled
        })
        .sum();
    let refusals: u64 = m
        .deployments
        .iter()
        .map(|d| d.rejected + d.errors + d.skipped_cooldown)
        .sum();
    assert!(
        refusals >= refused_passes,
        "refusals {refusals} < refused passes x route length {refused_passes}"
    );
    if sc.classes.iter().all(|k| k.route.len() == 1) {
        assert_eq!(
            refusals, refused_passes,
            "single-deployment routes: every refusal is a refused pass"
        );
    }
}

/// Reserved utilization, per hour and over the horizon, is in [0, 1]. Both
/// divide by one replication's capacity, so this applies to single
/// replications, not pooled ones.
fn check_utilization(sc: &Scenario, m: &RepMetrics) {
    // Incident time is at most the hour, and TTFTs are split by incident
    // whenever the replication had one.
    let hour_us = llmcap::model::engine::US_PER_HOUR;
    assert!(
        m.incident_us.iter().all(|&us| us <= hour_us),
        "{:?}",
        m.incident_us
    );
    if m.incident_us.iter().sum::<u64>() > 0 {
        let served: u64 = m.classes.iter().map(|c| c.served).sum();
        assert_eq!(m.ttft_incident.count() + m.ttft_normal.count(), served);
    }
    for (d, dep) in sc.deployments.iter().enumerate() {
        for h in 0..sc.horizon_hours as usize {
            if let Some(u) = cost::hour_utilization(dep, m.hour_cell(h, d)) {
                assert!(
                    (0.0..=1.0).contains(&u),
                    "deployment {}, hour {h}: utilization {u}",
                    dep.name
                );
            }
        }
        if let Some(u) = cost::reserved_utilization(sc, m, d) {
            assert!(
                (0.0..=1.0).contains(&u),
                "deployment {}: utilization {u}",
                dep.name
            );
        }
    }
}

fn assert_same_hist(what: &str, a: &Hist, b: &Hist) {
    assert_eq!(a.count(), b.count(), "{what}: count");
    assert_eq!(a.max_ms(), b.max_ms(), "{what}: max");
    assert_eq!(a.mean_ms(), b.mean_ms(), "{what}: mean");
    for &p in PERCENTILES {
        assert_eq!(a.percentile_ms(p), b.percentile_ms(p), "{what}: p{p}");
    }
}

/// Two replications' metrics are identical, counter by counter.
fn assert_same_metrics(what: &str, a: &RepMetrics, b: &RepMetrics) {
    assert_eq!(a.hours, b.hours);
    assert_eq!(a.arrivals, b.arrivals, "{what}: hourly arrivals");
    assert_eq!(a.hourly, b.hourly, "{what}: hourly cells");
    assert_eq!(a.incident_us, b.incident_us, "{what}: incident time");
    assert_eq!(a.hour_failed, b.hour_failed, "{what}: hourly failed");
    assert_eq!(a.minutes, b.minutes, "{what}: minute bins");
    assert_same_hist(
        &format!("{what}: TTFT in incidents"),
        &a.ttft_incident,
        &b.ttft_incident,
    );
    assert_same_hist(
        &format!("{what}: TTFT outside"),
        &a.ttft_normal,
        &b.ttft_normal,
    );
    for (i, (x, y)) in a.classes.iter().zip(&b.classes).enumerate() {
        let counters = |c: &ClassStats| {
            [
                c.arrived,
                c.served,
                c.spilled,
                c.throttled,
                c.failed,
                c.abandoned,
                c.in_flight,
                c.errored,
                c.rescued,
                c.retries,
                c.within_sla,
                c.input_tokens,
                c.output_tokens,
            ]
        };
        assert_eq!(counters(x), counters(y), "{what}: class {i} counters");
        assert_same_hist(&format!("{what}: class {i} TTFT"), &x.ttft, &y.ttft);
    }
    for (i, (x, y)) in a.deployments.iter().zip(&b.deployments).enumerate() {
        let counters = |d: &llmcap::model::metrics::DeploymentStats| {
            [
                d.served as u128,
                d.rejected as u128,
                d.spilled_out as u128,
                d.errors as u128,
                d.skipped_cooldown as u128,
                d.cooldowns as u128,
                d.rescued as u128,
                d.input_tokens as u128,
                d.output_tokens as u128,
                d.wait_sum_us,
                d.waited as u128,
                d.queue_seen_sum as u128,
                d.busy_us,
            ]
        };
        assert_eq!(counters(x), counters(y), "{what}: deployment {i} counters");
        assert_same_hist(&format!("{what}: deployment {i} TTFT"), &x.ttft, &y.ttft);
    }
}

// ---------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn invariants_hold_for_random_scenarios(spec in spec(1..=3)) {
        let sc = spec.scenario();
        let results = run(&sc, 0, None);
        prop_assert_eq!(results.replications.len(), spec.replications as usize);
        for m in &results.replications {
            check_invariants(&sc, m);
            check_utilization(&sc, m);
        }
        // Merging keeps every invariant.
        check_invariants(&sc, &results.pooled());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn one_thread_and_many_threads_give_identical_results(spec in spec(3..=5)) {
        let sc = spec.scenario();
        let one = run(&sc, 1, None);
        let many = run(&sc, 4, None);
        prop_assert_eq!(one.replications.len(), many.replications.len());
        for (r, (a, b)) in one.replications.iter().zip(&many.replications).enumerate() {
            assert_same_metrics(&format!("replication {r}"), a, b);
        }
        assert_same_metrics("pooled", &one.pooled(), &many.pooled());
    }

    #[test]
    fn same_seed_same_results_other_seed_other_arrivals(spec in spec(1..=2), rps in 10u32..=30) {
        // At least 3 hours at 1 request/s or more: two seeds giving the same
        // arrival count in every hour of every class is then below 1e-7.
        let mut spec = spec;
        spec.hours = spec.hours.max(3);
        for c in &mut spec.classes {
            c.rps_tenths = rps;
            c.deterministic = false;
        }
        let sc = spec.scenario();
        let a = run(&sc, 0, None);
        let b = run(&sc, 0, None);
        for (r, (x, y)) in a.replications.iter().zip(&b.replications).enumerate() {
            assert_same_metrics(&format!("replication {r}"), x, y);
        }
        let mut other = sc.clone();
        other.seed = sc.seed.wrapping_add(1);
        let c = run(&other, 0, None);
        for (r, (x, y)) in a.replications.iter().zip(&c.replications).enumerate() {
            prop_assert_ne!(&x.arrivals, &y.arrivals, "replication {}: seeds {} and {}", r, sc.seed, other.seed);
        }
    }

    #[test]
    fn timed_out_requests_are_billed_but_not_served(
        spec in spec(1..=2),
        timeout_ms in 100u32..=3_000,
        tokens in prop::collection::vec((0u32..=3000, 0u32..=800), 3),
    ) {
        // Fixed token counts make the tokens of timed-out requests known, and a
        // short client timeout makes them common.
        let mut spec = spec;
        spec.client.timeout_ms = Some(timeout_ms);
        for (c, &(input, output)) in spec.classes.iter_mut().zip(&tokens) {
            c.input = Tokens::Fixed(input);
            c.output = Tokens::Fixed(output);
        }
        let sc = spec.scenario();
        let results = run(&sc, 0, None);
        for m in &results.replications {
            check_invariants(&sc, m);
        }
        check_invariants(&sc, &results.pooled());
    }

    #[test]
    fn reserved_units_do_not_change_arrivals(spec in spec(1..=3), extra in 1u32..=8) {
        // Common random numbers: arrivals have their own stream per
        // (seed, replication, class), so capacity cannot change them.
        let small = spec.scenario();
        let mut bigger = spec.clone();
        bigger.reserved.units += extra;
        let big = bigger.scenario();
        let a = run(&small, 0, None);
        let b = run(&big, 0, None);
        for (r, (x, y)) in a.replications.iter().zip(&b.replications).enumerate() {
            prop_assert_eq!(&x.arrivals, &y.arrivals, "replication {}", r);
            for (cx, cy) in x.classes.iter().zip(&y.classes) {
                prop_assert_eq!(cx.arrived, cy.arrived);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The analyses built on runs: sweep, plan, diff and fit.
// ---------------------------------------------------------------------------

/// Every arrival of a sweep or plan replication ends in exactly one state.
fn check_outcome(what: &str, o: &RepOutcome) {
    assert_eq!(
        o.arrived,
        o.served + o.throttled + o.failed + o.in_flight,
        "{what}: arrived != served + throttled + failed + in flight ({o:?})"
    );
    assert!(o.spilled <= o.served, "{what}: spilled {o:?}");
    for a in o.attainment.iter().flatten() {
        assert!((0.0..=1.0).contains(a), "{what}: attainment {a}");
    }
    assert!(
        o.reserved_usd >= 0.0 && o.on_demand_usd >= 0.0,
        "{what}: {o:?}"
    );
}

/// A sweep over a random key: every replication conserves requests, and the
/// point at the scenario's own value is exactly what `run` gives.
fn check_sweep(spec: &Spec, sc: &Scenario, by_units: bool) {
    let (key, base, other) = if by_units {
        let u = spec.reserved.units as f64;
        ("deployment.ptu.reserved.units", u, u + 3.0)
    } else {
        let r = spec.classes[0].rps_tenths as f64 / 10.0;
        ("class.c0.arrivals.mean_rps", r, r * 2.0 + 0.5)
    };
    let table: toml::Table = spec.toml().parse().expect("generated TOML parses");
    let sweep_spec = SweepSpec {
        key: key.into(),
        values: vec![base, other],
        replications: None,
        compare: None,
        at: "sweep".into(),
    };
    let sweep = Sweep::build(
        &table,
        Path::new("inline.toml"),
        sweep_spec,
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("sweep over {key} rejected: {e}"));
    let pair = sweep.pair.as_ref().ok().copied();
    let (focus, compare) = (pair.map(|p| p.reserved), pair.map(|p| p.compare));
    let points = run_points(&sweep.points, focus, compare, 0, None);
    assert_eq!(points.len(), 2);
    for (p, (reps, _)) in points.iter().enumerate() {
        assert_eq!(reps.len(), spec.replications as usize);
        for (r, o) in reps.iter().enumerate() {
            check_outcome(&format!("sweep {key} point {p} replication {r}"), o);
        }
    }
    let direct = run(sc, 0, None);
    for (r, m) in direct.replications.iter().enumerate() {
        assert_eq!(
            points[0].0[r],
            RepOutcome::of(sc, focus, compare, m),
            "sweep point at the scenario's own {key} = {base}, replication {r}, differs from run"
        );
    }
}

/// A plan for a random SLA: every configuration's shares are shares, those
/// meeting the SLA come first and cheapest first, and the chosen one runs
/// and conserves requests.
fn check_plan(spec: &Spec, sc: &Scenario, sla_ms: u32) {
    let target = SlaTarget {
        percentile: 99.0,
        ttft_ms: sla_ms as f64,
    };
    let ps = plan::spec(
        sc,
        Path::new("inline.toml"),
        Some(target),
        Some("ptu"),
        None,
        Some(spec.reserved.units + 6),
    )
    .unwrap_or_else(|e| panic!("plan rejected: {e}"));
    let result = plan::plan(sc, &ps, 0, None);
    assert!(!result.evaluated.is_empty(), "plan simulated nothing");
    for e in &result.evaluated {
        let s = &e.summary;
        for share in [s.spilled_share, s.throttled_share, s.failed_share] {
            assert!(
                (0.0..=1.0).contains(&share),
                "{:?} {}: share {share}",
                e.mode,
                e.units
            );
        }
        if let Some(u) = e.utilization {
            assert!((0.0..=1.0 + 1e-9).contains(&u), "utilization {u}");
        }
    }
    let meets: Vec<bool> = result.candidates.iter().map(|c| c.meets_sla).collect();
    assert!(
        meets.windows(2).all(|w| w[0] || !w[1]),
        "candidates meeting the SLA must come first: {meets:?}"
    );
    let costs: Vec<f64> = result
        .candidates
        .iter()
        .filter(|c| c.meets_sla)
        .map(|c| c.monthly_usd.mean)
        .collect();
    assert!(
        costs.windows(2).all(|w| w[0] <= w[1]),
        "candidates meeting the SLA must be cheapest first: {costs:?}"
    );
    if let Some(chosen) = plan::chosen_scenario(sc, &result) {
        let results = run(&chosen, 0, None);
        for m in &results.replications {
            check_invariants(&chosen, m);
        }
    }
}

/// `llmcap run` twice and `llmcap diff`: each decomposition of the cost
/// change adds up to the change, and both totals are the runs' own.
fn check_diff(dir: &Path, scenario: &Path, other_seed: u64) {
    let (a, b, d) = (dir.join("A"), dir.join("B"), dir.join("D"));
    command_ok("run", scenario, &a, &[]);
    command_ok("run", scenario, &b, &["--seed", &other_seed.to_string()]);
    llmcap()
        .args(["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--out"])
        .arg(&d)
        .arg("--quiet")
        .assert()
        .success();
    let total = |p: &Path| {
        read_json(&p.join("summary.json"))["cost"]["total_usd"]["mean"]
            .as_f64()
            .expect("summary.json cost.total_usd.mean")
    };
    let arrived = |p: &Path| {
        read_json(&p.join("summary.json"))["requests"]["arrived"]
            .as_f64()
            .expect("summary.json requests.arrived")
    };
    let diff = read_json(&d.join("diff.json"));
    let num = |k: &str| diff[k].as_f64().unwrap_or_else(|| panic!("diff.json {k}"));
    let tol = 1e-6 * (1.0 + total(&a).abs() + total(&b).abs());
    // diff reads costs back from CSV files written to 4 decimals: each total may be off
    // by half a unit in the last place per hourly line it adds up.
    let lines = |p: &Path| {
        std::fs::read_to_string(p.join("hourly.csv"))
            .expect("hourly.csv")
            .lines()
            .count() as f64
    };
    let rounding = 5e-5 * (lines(&a) + lines(&b)) + tol;
    for (key, want) in [
        ("a_total_usd", total(&a)),
        ("b_total_usd", total(&b)),
        ("delta_usd", total(&b) - total(&a)),
    ] {
        assert!(
            (num(key) - want).abs() <= rounding,
            "diff.json {key} = {}, the runs give {want}",
            num(key)
        );
    }
    assert!((num("a_requests") - arrived(&a)).abs() < 1e-9);
    assert!((num("b_requests") - arrived(&b)).abs() < 1e-9);
    let rows = diff["rows"].as_array().expect("diff.json rows");
    for kind in ["class", "deployment", "component", "hour"] {
        let sum: f64 = rows
            .iter()
            .filter(|r| r["kind"] == kind)
            .map(|r| r["delta_usd"].as_f64().expect("row delta_usd"))
            .sum();
        assert!(
            (sum - num("delta_usd")).abs() <= rounding,
            "diff.json: the {kind} rows add up to {sum}, the change is {}",
            num("delta_usd")
        );
    }
}

/// `llmcap fit` on a random trace counts every row, and the class it writes
/// is valid; replaying the trace arrives every row inside the horizon.
fn check_fit(dir: &Path, rows: &[(u32, u32, u32)], hours: u32) {
    let mut times: Vec<u32> = rows.iter().map(|r| r.0).collect();
    times.sort_unstable();
    let mut csv = String::from("t,i,o\n");
    for (t, r) in times.iter().zip(rows) {
        writeln!(csv, "{}.{:03},{},{}", t / 1000, t % 1000, r.1, r.2).unwrap();
    }
    let trace = write(dir, "t.csv", &csv);
    let out = dir.join("F");
    let status = llmcap()
        .arg("fit")
        .arg(&trace)
        .args([
            "--format",
            "csv",
            "--time-column",
            "t",
            "--input-column",
            "i",
        ])
        .args(["--output-column", "o", "--quiet", "--out"])
        .arg(&out)
        .output()
        .expect("llmcap fit runs");
    let code = status.status.code();
    assert!(
        code == Some(0) || code == Some(2),
        "llmcap fit exited {code:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    if code == Some(0) {
        let fit = read_json(&out.join("fit.json"));
        assert_eq!(fit["requests"].as_u64(), Some(rows.len() as u64));
        let class = std::fs::read_to_string(out.join("fit.toml")).expect("fit.toml");
        let class = class
            .replace("\"your-model\"", "\"m\"")
            .replace("[\"your-deployment\"]", "[\"d\"]");
        scenario(&format!("{}\n{class}", replay_scenario(hours, "")));
    }
    let sc = scenario(&replay_scenario(
        hours,
        &format!(
            "[[class]]\nname = \"replay\"\nmodel = \"m\"\nroute = [\"d\"]\narrivals = {{ trace = {:?}, format = \"csv\", time_column = \"t\", input_column = \"i\", output_column = \"o\" }}\n",
            trace.to_str().unwrap()
        ),
    ));
    let first = times[0] as u64;
    let inside = times
        .iter()
        .filter(|&&t| (t as u64 - first) < hours as u64 * 3_600_000)
        .count() as u64;
    let results = run(&sc, 0, None);
    for m in &results.replications {
        check_invariants(&sc, m);
        assert_eq!(
            m.classes[0].arrived, inside,
            "replayed rows inside {hours} h"
        );
    }
}

/// A custom on-demand deployment "d" and `classes`.
fn replay_scenario(hours: u32, classes: &str) -> String {
    format!(
        "[scenario]\nname = \"replay\"\nhorizon_hours = {hours}\n\n{classes}\n[[deployment]]\nname = \"d\"\nplatform = \"custom\"\nmodel = \"m\"\nlatency = {{ median_ms = 100, p99_ms = 300 }}\non_demand = {{ input_per_1m = 1, output_per_1m = 2 }}\n"
    )
}

proptest! {
    // Each case spawns llmcap four times and writes charts: few cases.
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn sweep_plan_diff_and_fit_never_panic_and_conserve_requests(
        spec in spec(1..=2),
        by_units in any::<bool>(),
        sla_ms in 200u32..=6_000,
        other_seed in 0u64..=1_000_000,
        rows in prop::collection::vec((0u32..=10_800_000, 0u32..=4_000, 0u32..=800), 1..=300),
    ) {
        let sc = spec.scenario();
        check_sweep(&spec, &sc, by_units);
        check_plan(&spec, &sc, sla_ms);
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "s.toml", &spec.toml());
        check_diff(dir.path(), &file, other_seed);
        check_fit(dir.path(), &rows, spec.hours);
    }
}
