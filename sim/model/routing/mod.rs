//! Routing: each class tries the deployments of its route in order (or with
//! the first drawn by weight). A 429 from one deployment (quota, a full
//! reserved queue, a partial outage) spills the request to the next; an error
//! (a full outage) fails it over to the next; a deployment the gateway has
//! put in cooldown is skipped. When every deployment refuses, the client backs
//! off and retries the whole route, up to `max_attempts` attempts, unless its
//! timeout would pass first.

use std::collections::VecDeque;

mod litellm;
mod portkey;

use rand::Rng;

use crate::domain::limits::MAX_TRACKED_QUEUE;
use crate::domain::traffic::Z99;
use crate::domain::{
    ClientPolicy, Cooldown, Jitter, OutageEffect, Pool, Routing, Scenario, Tokens,
};
use crate::model::capacity::{
    outage_windows, partition_near, OnDemandPool, OutageTimeline, RateWindow, ReservedPool,
};
use crate::model::engine::{SimTime, US_PER_HOUR};
use crate::model::limiter::{Ask, Settle};
use crate::model::metrics::RepMetrics;
use crate::model::rng::{stream, Purpose, SimRng};

/// One request, as it travels through attempts.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub class: u32,
    pub arrived: SimTime,
    /// Attempts already made and refused.
    pub failed_attempts: u32,
    pub input: u32,
    pub output: u32,
    /// The request's standard-normal latency draw, shared by its attempts.
    pub z: f64,
    /// An earlier attempt met an error or a deployment in cooldown.
    pub met_error: bool,
    /// Behind a LiteLLM router: the step the request is at, and the calls made in it. Behind a
    /// Portkey gateway: the target (tree node) it is at, and the calls made to it.
    pub step: u16,
    pub calls: u16,
}

enum PoolState {
    // Boxed: the on-demand state (quota buckets, hourly background) is larger.
    OnDemand(Box<OnDemandPool>),
    Reserved(ReservedPool),
}

struct DeploymentModel {
    pool: PoolState,
    median_us: f64,
    sigma: f64,
    prefill_us_per_token: f64,
    /// The load slowdown stretches the base latency too (`latency.load_slows = "all"`).
    slows_base: bool,
}

impl DeploymentModel {
    /// Base latency (lognormal from median and p99) plus prefill, microseconds.
    /// `cached`: input tokens read from the prompt cache, which skip prefill.
    fn latency_us(&self, req: &Request, cached: u32, slowdown: f64) -> f64 {
        let base = if self.sigma > 0.0 {
            self.median_us * (self.sigma * req.z).exp()
        } else {
            self.median_us
        };
        let base = if self.slows_base {
            base * slowdown
        } else {
            base
        };
        base + self.prefill_us_per_token * (req.input - cached) as f64 * slowdown
    }
}

/// The state of every deployment during one replication, and the route walk.
pub struct Router {
    deps: Vec<DeploymentModel>,
    horizon: SimTime,
    /// Outage effects per deployment over time.
    outages: Vec<OutageTimeline>,
    /// When at least one outage is active: sorted, disjoint intervals.
    incidents: Vec<(SimTime, SimTime)>,
    /// Where the last incident query landed (see `partition_near`).
    incident_hint: std::cell::Cell<usize>,
    cooldown: Option<Cooldown>,
    /// Recent failure times per deployment (within the cooldown window).
    failures: Vec<VecDeque<SimTime>>,
    cooldown_until: Vec<SimTime>,
    gateway_us: u64,
    /// Draws of partial outages' 429s.
    effect_rng: SimRng,
    /// Per-deployment counters of a LiteLLM router (`gateway.router = "litellm"`).
    lite: Vec<litellm::Usage>,
    /// Per class: its prompt-caching shares (cached, written).
    cache_shares: Vec<(f64, f64)>,
    /// Some class caches part of its prompts (else every split is (0, 0)).
    caching: bool,
    /// Per class: the `max_tokens` its requests send (None: their own output).
    max_tokens: Vec<Option<u32>>,
    /// Per deployment: its token-rate reservation's use this minute, if it has one.
    rate: Vec<Option<RateWindow>>,
}

/// What a deployment said to one request.
enum Answer {
    /// Admitted: the wait for a slot (reserved), the prefill slowdown, and
    /// whether the request is still queued when the horizon is reached.
    Admitted {
        wait_us: SimTime,
        slowdown: f64,
        queued_past_horizon: bool,
        /// On-demand: the quota settlement due when the request ends.
        settle: Option<Settle>,
        /// Covered by the deployment's token-rate reservation.
        covered: bool,
    },
    Refused,
}

/// What one call to a deployment came to.
enum Call {
    Error,
    Refused,
    Admitted(Admission),
}

/// What a deployment's admission of a call gives, whichever router made the call.
#[derive(Debug, Clone, Copy)]
struct Admission {
    /// The wait for a slot and the latency after it, microseconds.
    wait_us: SimTime,
    latency_us: SimTime,
    /// Still queued for a slot when the horizon is reached.
    queued_past_horizon: bool,
    /// Input tokens read from and written to the prompt cache.
    cached: u32,
    cache_write: u32,
    /// Covered by the deployment's token-rate reservation (not billed at list price).
    covered: bool,
}

impl Admission {
    /// Microseconds from the call to its first token.
    fn call_us(&self) -> SimTime {
        self.wait_us.saturating_add(self.latency_us)
    }

    /// The gateway's per-call timeout when it passes before the first token (never for a
    /// call still queued at the horizon: its outcome lies beyond the run).
    fn timed_out(&self, timeout_us: Option<SimTime>) -> Option<SimTime> {
        timeout_us.filter(|&t| self.call_us() > t && !self.queued_past_horizon)
    }
}

/// A request admitted by deployment `d`, to be booked.
struct Served {
    d: usize,
    call: Admission,
    /// Served by another deployment than the first it would have tried.
    spilled: bool,
    /// An earlier call met an error or a cooldown.
    rescued: bool,
}

impl Router {
    /// The router of replication `rep` (its outage windows are drawn here).
    pub fn new(sc: &Scenario, rep: u32) -> Self {
        let deps = sc
            .deployments
            .iter()
            .map(|d| DeploymentModel {
                pool: match &d.pool {
                    Pool::OnDemand(o) => PoolState::OnDemand(Box::new(OnDemandPool::new(o))),
                    Pool::Reserved(r) => PoolState::Reserved(ReservedPool::new(r)),
                },
                median_us: d.latency.median_ms * 1000.0,
                sigma: if d.latency.median_ms > 0.0 {
                    (d.latency.p99_ms / d.latency.median_ms).ln() / Z99
                } else {
                    0.0
                },
                prefill_us_per_token: d.latency.prefill_ms_per_1k_input,
                slows_base: d.latency.load_slows_base,
            })
            .collect();
        let windows = outage_windows(sc, rep);
        let mut all: Vec<(SimTime, SimTime)> =
            windows.iter().flatten().map(|w| (w.start, w.end)).collect();
        all.sort_unstable();
        let mut incidents: Vec<(SimTime, SimTime)> = Vec::new();
        for (a, b) in all {
            match incidents.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => incidents.push((a, b)),
            }
        }
        let n = sc.deployments.len();
        Router {
            deps,
            horizon: sc.horizon_us(),
            outages: windows.iter().map(|w| OutageTimeline::new(w)).collect(),
            incidents,
            incident_hint: Default::default(),
            cooldown: sc.gateway.cooldown,
            failures: vec![VecDeque::new(); n],
            cooldown_until: vec![0; n],
            gateway_us: sc.gateway.latency_us,
            effect_rng: stream(sc.seed, rep, Purpose::Outages, u64::MAX),
            caching: sc
                .classes
                .iter()
                .any(|c| c.cached_input_share > 0.0 || c.cache_write_share > 0.0),
            cache_shares: sc
                .classes
                .iter()
                .map(|c| (c.cached_input_share, c.cache_write_share))
                .collect(),
            max_tokens: sc.classes.iter().map(|c| c.max_tokens).collect(),
            lite: match sc.gateway.litellm {
                Some(_) => (0..n).map(|_| litellm::Usage::default()).collect(),
                None => Vec::new(),
            },
            rate: sc
                .deployments
                .iter()
                .map(|d| RateWindow::of(d, sc.horizon_hours))
                .collect(),
        }
    }

    /// The merged incident intervals (for the hourly incident time).
    pub fn incidents(&self) -> &[(SimTime, SimTime)] {
        &self.incidents
    }

    fn in_incident(&self, t: SimTime) -> bool {
        let i = partition_near(&self.incidents, self.incident_hint.get(), t, |w| w.1);
        self.incident_hint.set(i);
        self.incidents.get(i).is_some_and(|w| w.0 <= t)
    }

    /// The outage effect on deployment `d` at `now` (a full outage wins).
    fn outage(&self, d: usize, now: SimTime) -> Option<OutageEffect> {
        self.outages[d].at(now)
    }

    /// Counts a failure of `d` for the gateway's cooldown.
    fn failed(&mut self, d: usize, now: SimTime, m: &mut RepMetrics) {
        let Some(c) = self.cooldown else {
            return;
        };
        let q = &mut self.failures[d];
        q.push_back(now);
        while q.front().is_some_and(|&t| t + c.window_us <= now) {
            q.pop_front();
        }
        if q.len() >= c.failures as usize {
            q.clear();
            self.cooldown_until[d] = now + c.duration_us;
            m.deployments[d].cooldowns += 1;
        }
    }

    /// `cached`: the part of the request's input read from the prompt cache.
    fn ask(
        &mut self,
        d: usize,
        m: &mut RepMetrics,
        now: SimTime,
        req: &Request,
        (cached, cache_write): (u32, u32),
    ) -> Answer {
        if let Some(w) = &mut self.rate[d] {
            let t = Tokens {
                input: req.input as u64,
                cached: cached as u64,
                cache_write: cache_write as u64,
                output: req.output as u64,
            };
            // Within the reservation: served at the deployment's latency without the shared
            // pool's load slowdown (vendors serve reserved traffic first), outside the
            // on-demand quotas (reservations add to the rate limits).
            if w.cover(now, &t) {
                return Answer::Admitted {
                    wait_us: 0,
                    slowdown: 1.0,
                    queued_past_horizon: false,
                    settle: None,
                    covered: true,
                };
            }
        }
        match &mut self.deps[d].pool {
            PoolState::Reserved(pool) => match pool.try_admit(now, req.input, cached, req.output) {
                Some(a) => {
                    let wait = a.wait(now);
                    m.add_busy(d, req.class as usize, a.start, a.end);
                    let queued_past_horizon = a.start >= self.horizon;
                    if !queued_past_horizon {
                        let ds = &mut m.deployments[d];
                        ds.wait_sum_us += wait as u128;
                        ds.waited += (wait > 0) as u64;
                        ds.queue_seen_sum += a.queue_ahead as u64;
                        ds.queue_saturated |= a.queue_ahead as usize >= MAX_TRACKED_QUEUE;
                    }
                    Answer::Admitted {
                        wait_us: wait,
                        slowdown: 1.0,
                        queued_past_horizon,
                        settle: None,
                        covered: false,
                    }
                }
                None => Answer::Refused,
            },
            PoolState::OnDemand(pool) => {
                let ask = Ask {
                    input: req.input,
                    cached,
                    output: req.output,
                    max_tokens: self.max_tokens[req.class as usize].unwrap_or(req.output),
                };
                match pool.try_admit(now, &ask) {
                    Ok(settle) => Answer::Admitted {
                        wait_us: 0,
                        slowdown: OnDemandPool::slowdown(pool.utilization(now)),
                        queued_past_horizon: false,
                        settle,
                        covered: false,
                    },
                    Err(_) => Answer::Refused,
                }
            }
        }
    }

    /// One pass down the class's route at `now` (or, behind a LiteLLM router, the
    /// calls it makes until it must wait), recording the outcome in `m`. Returns the
    /// request and the time it continues, if it is not done.
    pub fn attempt(
        &mut self,
        sc: &Scenario,
        m: &mut RepMetrics,
        now: SimTime,
        req: Request,
        retry_rng: &mut SimRng,
        route_rng: &mut SimRng,
    ) -> Option<(SimTime, Request)> {
        if let Some(cfg) = &sc.gateway.litellm {
            return self.litellm_attempt(sc, cfg, m, now, req, retry_rng, route_rng);
        }
        if sc.gateway.portkey {
            return self.portkey_attempt(sc, m, now, req, retry_rng, route_rng);
        }
        let ci = req.class as usize;
        let class = &sc.classes[ci];
        let hour = (now / US_PER_HOUR) as usize;
        // Weighted routing draws the first deployment; the rest keep route order.
        let first = match &class.routing {
            Routing::Weighted(w) => draw(w, route_rng),
            _ => 0,
        };
        let route = class.route_at(hour as u64);
        let at = |k: usize| match k {
            0 => route[first],
            k if k <= first => route[k - 1],
            k => route[k],
        };
        let last = route.len() - 1;
        let mut errored = false;
        for pos in 0..route.len() {
            let d = at(pos);
            if self.cooldown_until[d] > now {
                m.deployments[d].skipped_cooldown += 1;
                errored = true;
                continue;
            }
            match self.call(m, d, now, &req) {
                Call::Error => {
                    self.errored(m, hour, d);
                    self.failed(d, now, m);
                    errored = true;
                }
                Call::Refused => self.refused(m, hour, d, pos < last, now),
                Call::Admitted(call) => {
                    let served = Served {
                        d,
                        call,
                        spilled: pos > 0,
                        rescued: errored || req.met_error,
                    };
                    self.serve(sc, m, now, &req, served);
                    return None;
                }
            }
        }
        self.refused_everywhere(sc, m, now, req, errored, retry_rng)
    }

    /// What a deployment does with one call at `now`: an error (a full outage), a 429
    /// (quota, a full reserved queue, a partial outage's share), or admission.
    fn call(&mut self, m: &mut RepMetrics, d: usize, now: SimTime, req: &Request) -> Call {
        let mut factor = 1.0;
        match self.outage(d, now) {
            Some(OutageEffect::Full) => return Call::Error,
            Some(OutageEffect::Partial {
                latency_factor,
                error_rate,
            }) => {
                if error_rate > 0.0 && self.effect_rng.random::<f64>() < error_rate {
                    return Call::Refused;
                }
                factor = latency_factor;
            }
            None => {}
        }
        let (cached, cache_write) = self.cache_split(req);
        match self.ask(d, m, now, req, (cached, cache_write)) {
            Answer::Admitted {
                wait_us,
                slowdown,
                queued_past_horizon,
                settle,
                covered,
            } => {
                // Adding 0.5 and truncating rounds a non-negative value like f64::round,
                // without the libm call (measurable at millions of requests per second).
                let latency_us =
                    (self.deps[d].latency_us(req, cached, slowdown) * factor + 0.5) as u64;
                if let (Some(s), PoolState::OnDemand(pool)) = (settle, &mut self.deps[d].pool) {
                    // Decode is not simulated: the request ends at its first token.
                    pool.settle(now.saturating_add(wait_us).saturating_add(latency_us), s);
                }
                Call::Admitted(Admission {
                    wait_us,
                    latency_us,
                    queued_past_horizon,
                    cached,
                    cache_write,
                    covered,
                })
            }
            Answer::Refused => Call::Refused,
        }
    }

    /// The cached and cache-written parts of `req`'s input (its class's shares).
    fn cache_split(&self, req: &Request) -> (u32, u32) {
        if !self.caching {
            return (0, 0);
        }
        let (c, w) = self.cache_shares[req.class as usize];
        crate::domain::cache_split(req.input, c, w)
    }

    /// Books an error (a full outage) of `d`.
    fn errored(&mut self, m: &mut RepMetrics, hour: usize, d: usize) {
        m.deployments[d].errors += 1;
        m.cell(hour, d).errors += 1;
    }

    /// Books a request admitted by `s.d` at `now`.
    fn serve(&mut self, sc: &Scenario, m: &mut RepMetrics, now: SimTime, req: &Request, s: Served) {
        let ci = req.class as usize;
        let class = &sc.classes[ci];
        let hour = (now / US_PER_HOUR) as usize;
        let d = s.d;
        let cs = &mut m.classes[ci];
        if s.call.queued_past_horizon {
            // Still waiting for a slot at the end of the run: neither served
            // nor billed within the horizon.
            cs.in_flight += 1;
            m.deployments[d].queued_at_horizon += 1;
            return;
        }
        let ttft = (now - req.arrived)
            .saturating_add(s.call.call_us())
            .saturating_add(self.gateway_us);
        let t = Tokens {
            input: req.input as u64,
            cached: s.call.cached as u64,
            cache_write: s.call.cache_write as u64,
            output: req.output as u64,
        };
        m.add_served(now, hour, ci, d, &t);
        if s.call.covered {
            m.add_covered(now, hour, ci, d, &t);
        }
        let ds = &mut m.deployments[d];
        let cs = &mut m.classes[ci];
        if sc.client.timeout_us.is_some_and(|t| ttft > t) {
            cs.failed += 1;
            m.add_failed(now, hour);
            return;
        }
        // A rescued request within a token-rate reservation costs nothing more (the
        // reservation is paid anyway, as reserved units are): only overflow is priced.
        if s.rescued && s.call.covered {
            ds.rescued += 1;
            cs.rescued += 1;
        } else if s.rescued {
            ds.rescued += 1;
            ds.rescued_input_tokens += req.input as u64;
            ds.rescued_output_tokens += req.output as u64;
            let changes = &sc.deployments[d].price_changes;
            if !changes.is_empty() {
                let k = changes
                    .iter()
                    .take_while(|c| c.from_hour as usize <= hour)
                    .count();
                if ds.rescued_by_prices.len() <= changes.len() {
                    ds.rescued_by_prices.resize(changes.len() + 1, [0, 0]);
                }
                ds.rescued_by_prices[k][0] += req.input as u64;
                ds.rescued_by_prices[k][1] += req.output as u64;
            }
            cs.rescued += 1;
        }
        ds.ttft.record(ttft);
        cs.ttft.record(ttft);
        cs.served += 1;
        cs.spilled += s.spilled as u64;
        cs.input_tokens += req.input as u64;
        cs.output_tokens += req.output as u64;
        if class.sla.is_some_and(|s| ttft <= s.ttft_us) {
            cs.within_sla += 1;
        }
        m.add_ttft_bin(now, hour, ttft);
        // Without incidents every TTFT is "normal": the report reads the
        // overall histogram instead of recording a third copy here.
        if !self.incidents.is_empty() {
            if self.in_incident(req.arrived) {
                m.ttft_incident.record(ttft);
            } else {
                m.ttft_normal.record(ttft);
            }
        }
    }

    /// Every deployment refused attempt `req.failed_attempts + 1`: the client backs off
    /// and retries, gives up at its deadline, or counts the request as throttled (or
    /// errored, when it met an error or a cooldown).
    fn refused_everywhere(
        &mut self,
        sc: &Scenario,
        m: &mut RepMetrics,
        now: SimTime,
        mut req: Request,
        errored: bool,
        retry_rng: &mut SimRng,
    ) -> Option<(SimTime, Request)> {
        let ci = req.class as usize;
        let hour = (now / US_PER_HOUR) as usize;
        req.failed_attempts += 1;
        req.met_error |= errored;
        let cs = &mut m.classes[ci];
        if req.failed_attempts >= sc.client.max_attempts {
            if errored {
                cs.errored += 1;
            } else {
                cs.throttled += 1;
            }
            m.add_failed(now, hour);
            return None;
        }
        let wait = backoff(&sc.client, req.failed_attempts, retry_rng);
        // A client whose deadline passes during the backoff gives up instead of retrying.
        if sc
            .client
            .timeout_us
            .is_some_and(|t| now + wait - req.arrived > t)
        {
            cs.failed += 1;
            cs.abandoned += 1;
            m.add_failed(now, hour);
            return None;
        }
        cs.retries += 1;
        req.step = 0;
        req.calls = 0;
        Some((now + wait, req))
    }

    /// Books a 429 from `d` (spilled when a later deployment follows).
    fn refused(&mut self, m: &mut RepMetrics, hour: usize, d: usize, spills: bool, now: SimTime) {
        m.deployments[d].rejected += 1;
        let cell = m.cell(hour, d);
        cell.rejected += 1;
        if spills {
            cell.spilled += 1;
            m.deployments[d].spilled_out += 1;
        }
        self.failed(d, now, m);
    }
}

/// An index drawn with weights `w` (not all 0); the last on rounding.
fn draw(w: &[f64], rng: &mut SimRng) -> usize {
    let total: f64 = w.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, wi) in w.iter().enumerate() {
        if x < *wi {
            return i;
        }
        x -= wi;
    }
    w.len() - 1
}

/// Wait before attempt `failed + 1`, after `failed` attempts (>= 1) have failed:
/// exponential backoff base x 2^(failed-1), capped, with the policy's jitter.
pub fn backoff(policy: &ClientPolicy, failed: u32, rng: &mut SimRng) -> SimTime {
    let exp = failed.saturating_sub(1).min(40);
    let cap = policy
        .backoff_base_us
        .saturating_mul(1u64 << exp)
        .min(policy.backoff_max_us);
    match policy.jitter {
        Jitter::None => cap,
        Jitter::Full => rng.random_range(0..=cap),
        Jitter::Equal => cap / 2 + rng.random_range(0..=cap - cap / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::{stream, Purpose};

    fn policy(jitter: Jitter) -> ClientPolicy {
        ClientPolicy {
            max_attempts: 5,
            backoff_base_us: 100,
            backoff_max_us: 1000,
            jitter,
            timeout_us: None,
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = policy(Jitter::None);
        let mut rng = stream(1, 0, Purpose::Retry, 0);
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&p, n, &mut rng)).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_stays_in_its_window() {
        let mut rng = stream(1, 0, Purpose::Retry, 0);
        for n in 1..6 {
            let full = backoff(&policy(Jitter::Full), n, &mut rng);
            let cap = (100u64 << (n - 1)).min(1000);
            assert!(full <= cap);
            let equal = backoff(&policy(Jitter::Equal), n, &mut rng);
            assert!(equal >= cap / 2 && equal <= cap);
        }
    }
}
