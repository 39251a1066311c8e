//! Queueing theory: the simulated reserved pool against closed forms.
//!
//! A reserved deployment with `units = c`, one slot per unit, zero base latency
//! and no prefill, fed by one constant-rate Poisson class whose prompts have
//! exponential lengths and no output, is an M/M/c queue, and its TTFT is the
//! wait in queue. Expected values are computed here from the formulas (Erlang C,
//! Little's law, PASTA), never taken from an earlier run.
//!
//! Run lengths. The tolerances are 2% (1% for utilization); every run is long
//! enough that the tolerance is at least ~7 standard errors of the estimate:
//!
//! - M/M/1: the asymptotic variance of the mean of n successive waits is
//!   rho (2 + 5 rho - 4 rho^2 + rho^3) / (mu^2 (1 - rho)^4) / n (Daley 1968),
//!   i.e. a relative variance of 39/n at rho = 0.6. `mm1_mean_wait_in_queue`
//!   computes it and checks the margin. The relaxation time, ~1 / (mu (1 -
//!   sqrt rho)^2) = 0.2 s here, is negligible against 8-hour replications, so
//!   starting empty biases nothing measurable.
//! - M/M/8: no simple closed form for the variance; pilot runs of 32 one-hour
//!   replications (2.3 million customers each) gave a relative standard
//!   deviation per replication-hour of 1.1% for the mean wait, 0.37% for
//!   P(wait), 1.2% for the mean queue seen, 1.4% for the TTFT p99 and 0.08% for
//!   the busy fraction; 24 replication-hours divide these by ~4.9.
//!
//! Each model is simulated once (cached) and checked by several tests. Set
//! `LLMCAP_QUEUEING_SEED` to run them at another seed.

use std::sync::OnceLock;

use llmcap::analysis::run::run;
use llmcap::model::metrics::RepMetrics;

use crate::common::{assert_rel, rel_err, scenario};

/// One slot serves exactly one token per microsecond (60e6 tokens per minute),
/// so a request's service time in microseconds is its token count, unrounded.
const TPM_PER_UNIT: f64 = 60_000_000.0;
/// Mean prompt length: a mean service time of 10 ms, mu = 100 per second per slot.
const MEAN_TOKENS: f64 = 10_000.0;
const US_PER_S: f64 = 1e6;

/// Mean service time in microseconds. A token count is round(Y), at least 1,
/// with Y exponential of mean m, so
///
/// ```text
/// E[S] = sum_{k>=1} P(Y >= k - 1/2) + P(Y < 1/2)
///      = 1 / (2 sinh(1/(2m))) + 1 - exp(-1/(2m))  ~  m + 11/(24 m),
/// ```
///
/// a relative bias of 5e-9 at m = 10,000 (used exactly anyway). The lattice
/// changes E[S^2] by a relative O(1/m^2) too, so the service time is
/// exponential for every purpose of these tests.
fn mean_service_us() -> f64 {
    let x = 1.0 / (2.0 * MEAN_TOKENS);
    1.0 / (2.0 * x.sinh()) + 1.0 - (-x).exp()
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue with
/// offered load a = lambda / mu < c. Uses the Erlang B recursion
/// B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), which never overflows, then
/// C = c B / (c - a (1 - B)).
fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < c as f64, "unstable queue: a = {a}, c = {c}");
    let b = (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b));
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

/// An M/M/c queue at utilization `rho`, and how long to simulate it.
struct Mmc {
    servers: u32,
    rho: f64,
    hours: u32,
    replications: u32,
}

impl Mmc {
    /// Service rate of one slot, per second.
    fn mu(&self) -> f64 {
        US_PER_S / mean_service_us()
    }
    /// Arrival rate, per second.
    fn lambda(&self) -> f64 {
        self.rho * self.servers as f64 * self.mu()
    }
    fn c(&self) -> f64 {
        self.servers as f64
    }
    fn p_wait(&self) -> f64 {
        erlang_c(self.servers, self.lambda() / self.mu())
    }
    /// Mean wait in queue, seconds: C(c, a) / (c mu - lambda).
    fn wq(&self) -> f64 {
        self.p_wait() / (self.c() * self.mu() - self.lambda())
    }
    /// Mean number waiting (Little's law on the queue).
    fn lq(&self) -> f64 {
        self.lambda() * self.wq()
    }
    /// The p-th quantile (0 < p < 1) of the wait, for p > 1 - C:
    /// P(W > t) = C exp(-(c mu - lambda) t).
    fn wait_quantile(&self, p: f64) -> f64 {
        assert!(p > 1.0 - self.p_wait());
        (self.p_wait() / (1.0 - p)).ln() / (self.c() * self.mu() - self.lambda())
    }
    fn customers(&self) -> f64 {
        self.lambda() * 3600.0 * (self.hours * self.replications) as f64
    }

    fn toml(&self, seed: u64) -> String {
        format!(
            r#"
[scenario]
name = "mmc"
horizon_hours = {hours}
seed = {seed}
replications = {reps}

[[deployment]]
name = "pool"
platform = "custom"
model = "m"
latency = {{ median_ms = 0, p99_ms = 0, prefill_ms_per_1k_input = 0 }}
reserved = {{ units = {c}, tpm_per_unit = {TPM_PER_UNIT:?}, concurrency_per_unit = 1, term = "hourly", price_per_unit_hour = {{ hourly = 1.0 }} }}

[[class]]
name = "poisson"
model = "m"
route = ["pool"]
arrivals = {{ mean_rps = {lambda:?} }}
input_tokens = {{ dist = "exponential", mean = {MEAN_TOKENS:?} }}
output_tokens = {{ dist = "fixed", value = 0 }}
"#,
            hours = self.hours,
            reps = self.replications,
            c = self.servers,
            lambda = self.lambda(),
        )
    }

    fn simulate(&self) -> Measured {
        let sc = scenario(&self.toml(seed()));
        let results = run(&sc, 0, None);
        assert_eq!(results.replications.len(), self.replications as usize);
        Measured {
            m: results.pooled(),
            horizon_s: (self.hours * self.replications) as f64 * 3600.0,
            servers: self.servers,
        }
    }
}

/// What the simulation measured, pooled over replications.
struct Measured {
    m: RepMetrics,
    /// Simulated seconds, summed over replications.
    horizon_s: f64,
    servers: u32,
}

impl Measured {
    fn served(&self) -> f64 {
        self.m.deployments[0].served as f64
    }
    /// Mean wait for a slot, seconds.
    fn wq(&self) -> f64 {
        self.m.deployments[0].wait_sum_us as f64 / US_PER_S / self.served()
    }
    fn p_wait(&self) -> f64 {
        self.m.deployments[0].waited as f64 / self.served()
    }
    /// Mean number waiting found by arrivals (= the time average, by PASTA).
    fn queue_seen(&self) -> f64 {
        self.m.deployments[0].queue_seen_sum as f64 / self.served()
    }
    fn lambda(&self) -> f64 {
        self.m.classes[0].arrived as f64 / self.horizon_s
    }
    fn utilization(&self) -> f64 {
        self.m.deployments[0].busy_us as f64 / (self.servers as f64 * self.horizon_s * US_PER_S)
    }
    /// TTFT quantile, seconds (TTFT is the wait here).
    fn ttft_quantile(&self, p: f64) -> f64 {
        self.m.classes[0]
            .ttft
            .percentile_ms(p * 100.0)
            .expect("requests served")
            / 1000.0
    }
}

fn seed() -> u64 {
    match std::env::var("LLMCAP_QUEUEING_SEED") {
        Ok(s) => s
            .parse()
            .expect("LLMCAP_QUEUEING_SEED must be a whole number"),
        Err(_) => 20_240_611,
    }
}

/// M/M/1 at rho = 0.6: 8 x 8 hours, 13.8 million customers.
const MM1: Mmc = Mmc {
    servers: 1,
    rho: 0.6,
    hours: 8,
    replications: 8,
};

/// M/M/8 at rho = 0.8: 8 x 3 hours, 55 million customers.
const MM8: Mmc = Mmc {
    servers: 8,
    rho: 0.8,
    hours: 3,
    replications: 8,
};

fn mm1() -> &'static Measured {
    static M: OnceLock<Measured> = OnceLock::new();
    M.get_or_init(|| MM1.simulate())
}

fn mm8() -> &'static Measured {
    static M: OnceLock<Measured> = OnceLock::new();
    M.get_or_init(|| MM8.simulate())
}

/// Every arrival is served, except the few still waiting for a slot when the
/// run ends (counted in flight): no queue bound, a single deployment.
fn assert_all_served(q: &Measured) {
    let c = &q.m.classes[0];
    let d = &q.m.deployments[0];
    assert_eq!(c.arrived, c.served + c.in_flight);
    assert_eq!(c.in_flight, d.queued_at_horizon);
    assert!(
        c.in_flight * 10_000 < c.arrived,
        "a stable queue holds few at the end"
    );
    assert_eq!(c.served, d.served);
    assert_eq!(d.rejected, 0);
}

#[test]
fn erlang_c_matches_hand_computed_values() {
    // M/M/1: an arrival waits with probability rho.
    for a in [0.1, 0.5, 0.9] {
        assert!((erlang_c(1, a) - a).abs() < 1e-12);
    }
    // c = 2, a = 1: P0 = 1/3 and C = a^2 / (2! (1 - 1/2)) P0 = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // Large c: the recursion stays finite where a^c / c! would overflow.
    let c = erlang_c(500, 450.0);
    assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
    assert!((mean_service_us() / MEAN_TOKENS - 1.0).abs() < 1e-8);
}

#[test]
fn mm1_mean_wait_in_queue() {
    let rho = MM1.rho;
    // Wq = rho / (mu - lambda) for one server.
    let wq = rho / (MM1.mu() - MM1.lambda());
    assert!(
        rel_err(MM1.wq(), wq) < 1e-12,
        "Erlang C with c = 1 is M/M/1"
    );
    // The run is long enough: 2% is at least 4 standard errors (Daley 1968).
    let rel_var_per_customer = rho * (2.0 + 5.0 * rho - 4.0 * rho.powi(2) + rho.powi(3))
        / (1.0 - rho).powi(4)
        / (rho / (1.0 - rho)).powi(2);
    let se = (rel_var_per_customer / MM1.customers()).sqrt();
    assert!(0.02 >= 4.0 * se, "relative standard error {se}");

    let q = mm1();
    assert_all_served(q);
    assert!(q.served() > 0.98 * MM1.customers());
    assert_rel("M/M/1 mean wait (s)", q.wq(), wq, 0.02);
    // P(wait) = rho for M/M/1.
    assert_rel("M/M/1 P(wait)", q.p_wait(), rho, 0.02);
}

#[test]
fn mmc_probability_of_waiting_is_erlang_c() {
    let q = mm8();
    assert_all_served(q);
    assert!(q.served() > 0.98 * MM8.customers());
    assert_rel("M/M/8 P(wait)", q.p_wait(), MM8.p_wait(), 0.02);
}

#[test]
fn mmc_mean_wait_is_erlang_c_over_spare_rate() {
    let q = mm8();
    assert_rel("M/M/8 mean wait (s)", q.wq(), MM8.wq(), 0.02);
}

#[test]
fn littles_law_for_the_queue_seen_by_arrivals() {
    for (name, model, q) in [("M/M/1", &MM1, mm1()), ("M/M/8", &MM8, mm8())] {
        // By PASTA the queue found by Poisson arrivals is the time-average queue
        // Lq; Little's law makes that lambda x Wq, both as measured.
        assert_rel(
            &format!("{name} Lq seen vs lambda Wq"),
            q.queue_seen(),
            q.lambda() * q.wq(),
            0.02,
        );
        assert_rel(
            &format!("{name} arrival rate"),
            q.lambda(),
            model.lambda(),
            0.01,
        );
        // And against the closed form: Lq = C(c, a) rho / (1 - rho).
        let lq = model.p_wait() * model.rho / (1.0 - model.rho);
        assert!(rel_err(model.lq(), lq) < 1e-12);
        assert_rel(&format!("{name} Lq"), q.queue_seen(), lq, 0.02);
    }
}

#[test]
fn utilization_is_the_offered_load_per_server() {
    for (name, model, q) in [("M/M/1", &MM1, mm1()), ("M/M/8", &MM8, mm8())] {
        assert_rel(
            &format!("{name} busy fraction"),
            q.utilization(),
            model.rho,
            0.01,
        );
    }
}

#[test]
fn ttft_quantiles_follow_the_waiting_time_distribution() {
    // TTFT is the wait here, and P(W > t) = C exp(-(c mu - lambda) t); the
    // histogram adds at most 0.1% to each value.
    for (name, model, q) in [("M/M/1", &MM1, mm1()), ("M/M/8", &MM8, mm8())] {
        for pct in [90.0, 99.0] {
            let what = format!("{name} TTFT p{pct} (s)");
            let p = pct / 100.0;
            assert_rel(&what, q.ttft_quantile(p), model.wait_quantile(p), 0.02);
        }
    }
}

/// M/M/1/K: with `max_queue = K - 1` the pool holds at most K requests, and a
/// client that never retries sees the blocking probability
/// P_K = (1 - rho) rho^K / (1 - rho^(K+1)); the served load is rho (1 - P_K).
#[test]
fn mm1k_blocking_probability() {
    let (rho, k) = (0.9f64, 5u32);
    let mu = US_PER_S / mean_service_us();
    let text = MM1_K_TOML
        .replace("LAMBDA", &format!("{:?}", rho * mu))
        .replace("MAX_QUEUE", &(k - 1).to_string())
        .replace("SEED", &seed().to_string());
    let (reps, hours) = (4.0, 2.0);
    let m = run(&scenario(&text), 0, None).pooled();
    let c = &m.classes[0];
    let d = &m.deployments[0];
    assert_eq!(c.arrived, c.served + c.throttled + c.in_flight);
    assert_eq!(c.retries, 0);
    assert_eq!(
        c.in_flight, d.queued_at_horizon,
        "only requests queued at the end"
    );
    assert_eq!(d.rejected, c.throttled);
    let p_k = (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1));
    assert_rel(
        "M/M/1/5 blocking probability",
        c.throttled as f64 / c.arrived as f64,
        p_k,
        0.02,
    );
    let busy = d.busy_us as f64 / (reps * hours * 3600.0 * US_PER_S);
    assert_rel("M/M/1/5 busy fraction", busy, rho * (1.0 - p_k), 0.01);
    // Nobody finds more than K - 1 waiting, and the mean found is below that.
    assert!((d.queue_seen_sum as f64 / d.served as f64) < (k - 1) as f64);
}

const MM1_K_TOML: &str = r#"
[scenario]
name = "mm1k"
horizon_hours = 2
seed = SEED
replications = 4

[client]
max_attempts = 1

[[deployment]]
name = "pool"
platform = "custom"
model = "m"
latency = { median_ms = 0, p99_ms = 0 }
reserved = { units = 1, tpm_per_unit = 60000000.0, term = "hourly", price_per_unit_hour = { hourly = 1.0 }, max_queue = MAX_QUEUE }

[[class]]
name = "poisson"
model = "m"
route = ["pool"]
arrivals = { mean_rps = LAMBDA }
input_tokens = { dist = "exponential", mean = 10000.0 }
output_tokens = { dist = "fixed", value = 0 }
"#;

/// D/D/1 scenario text: arrivals every 100 ms, each needing `SERVICE` us of
/// the single slot (1 token per microsecond).
const DD1_TOML: &str = r#"
[scenario]
name = "dd1"
horizon_hours = HOURS
seed = 3
replications = 2

[[deployment]]
name = "pool"
platform = "custom"
model = "m"
latency = { median_ms = 0, p99_ms = 0 }
reserved = { units = 1, tpm_per_unit = 60000000.0, term = "hourly", price_per_unit_hour = { hourly = 1.0 } }

[[class]]
name = "clock"
model = "m"
route = ["pool"]
arrivals = { process = "deterministic", mean_rps = 10.0 }
input_tokens = { dist = "fixed", value = SERVICE }
output_tokens = { dist = "fixed", value = 0 }
"#;

fn dd1(hours: u32, service_us: u64) -> RepMetrics {
    let text = DD1_TOML
        .replace("HOURS", &hours.to_string())
        .replace("SERVICE", &service_us.to_string());
    run(&scenario(&text), 0, None).pooled()
}

#[test]
fn dd1_with_service_shorter_than_interarrival_never_waits() {
    // 60 ms of service every 100 ms, across an hour boundary.
    let m = dd1(2, 60_000);
    let d = &m.deployments[0];
    let c = &m.classes[0];
    // 36,000 arrivals an hour per replication, give or take the one at the edge.
    assert!(
        c.arrived >= 2 * 2 * 35_999 && c.arrived <= 2 * 2 * 36_000,
        "{}",
        c.arrived
    );
    assert_eq!((c.served, d.served), (c.arrived, c.arrived));
    assert_eq!((d.wait_sum_us, d.waited, d.queue_seen_sum), (0, 0, 0));
    // Every request holds the slot for exactly its service time.
    assert_eq!(d.busy_us, d.served as u128 * 60_000);
    // TTFT is the wait: zero for everyone.
    assert_eq!(c.ttft.count(), c.served);
    assert_eq!(c.ttft.max_ms(), Some(0.0));
}

#[test]
fn dd1_overloaded_waits_grow_by_the_excess_service() {
    // 150 ms of service every 100 ms: request n (from 0) starts at
    // a_0 + 150 ms x n, so it waits 50 ms x n, plus at most 1 us because arrival
    // times are truncated to whole microseconds.
    let m = dd1(1, 150_000);
    let d = &m.deployments[0];
    let per_rep = d.served / 2;
    assert_eq!(d.served % 2, 0, "both replications see the same arrivals");
    let n = per_rep as u128;
    let expected = 2 * 50_000 * n * (n - 1) / 2;
    assert!(
        d.wait_sum_us >= expected && d.wait_sum_us <= expected + 2 * n,
        "wait sum {} us, expected {expected} us (+ up to {} us)",
        d.wait_sum_us,
        2 * n
    );
    // All but the first request of each replication wait.
    assert_eq!(d.waited, d.served - 2);
    // The slot never idles after the first arrival, so it is busy from 100 ms
    // to the end of the hour in each replication.
    assert_eq!(d.busy_us, 2 * (3_600_000_000 - 100_000));
}

/// The report's M/M/c cross-check (`llmcap::analysis::theory`) must agree with this
/// file's independent Erlang C, recognise the shipped M/M/c scenario, and stay
/// silent where the pool is not M/M/c.
#[test]
fn report_cross_check_recognises_mmc_pools_only() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let load = |f: &str| llmcap::domain::Scenario::load(&root.join(f)).expect("shipped scenario");
    let sc = load("scenarios/queueing_check.toml");
    let p = llmcap::analysis::theory::mmc_prediction(&sc, 0).expect("queueing_check is M/M/c");
    // 8 slots of 1000 tokens/s, mean 1000 tokens, 6 arrivals/s.
    assert_eq!(p.servers, 8);
    assert_rel("mu", p.mu, 1.0, 1e-12);
    assert_rel("P(wait)", p.p_wait, erlang_c(8, 6.0), 1e-12);
    assert_rel(
        "Wq (ms)",
        p.mean_wait_ms,
        erlang_c(8, 6.0) / 2.0 * 1000.0,
        1e-12,
    );
    // The shipped scenario, run as shipped, lands within 3% of it.
    let m = run(&sc, 0, None).pooled();
    let d = &m.deployments[0];
    let served = d.served as f64;
    assert_rel(
        "simulated P(wait)",
        d.waited as f64 / served,
        p.p_wait,
        0.03,
    );
    assert_rel(
        "simulated Wq",
        d.wait_sum_us as f64 / served / 1000.0,
        p.mean_wait_ms,
        0.03,
    );
    for f in [
        "scenarios/baseline.toml",
        "scenarios/ondemand_vs_reserved.toml",
    ] {
        let sc = load(f);
        for d in 0..sc.deployments.len() {
            assert!(
                llmcap::analysis::theory::mmc_prediction(&sc, d).is_none(),
                "{f}: deployment {d} is not an M/M/c queue"
            );
        }
    }
}
