//! A LiteLLM router (`gateway.router = "litellm"`), as LiteLLM's source applies it
//! (docs/model.md section 8.2 says which files and versions):
//!
//! - A request goes through its class's steps: the order levels of its model group, then of
//!   its fallback groups. In a step it makes up to 1 + `num_retries` calls, each to a
//!   deployment the strategy picks among the step's healthy ones (not in cooldown; under
//!   their rpm limit when pre-call checks are on or the strategy is usage-based). Every
//!   call draws again, so a retry may land on another deployment.
//! - A step with no healthy deployment when a call is due is left at once for the next.
//! - After a failed call the retry waits 0 when the model group has a healthy deployment
//!   and more than one in all, else the platform's Retry-After (when it sends one of at
//!   most 60 s) or 0.5 s × 2^(n−2) capped at 8 s for the n-th failed call, times a jitter
//!   uniform in [0.75, 1], at least `retry_after`. The last failed call of a step waits
//!   the same before the next step; with `num_retries = 0` nothing waits.
//! - A call whose TTFT would pass `timeout_s` fails with a timeout when it passes.
//! - Cooldown after each failure: see [`Router::lite_failed`]. When every step failed, the
//!   client's own retry policy (`[client]`) takes over, as after a route walk.
//!
//! Per-deployment counters run per calendar minute, as LiteLLM keys them ("%H-%M" UTC).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;

use crate::domain::limits::MAX_TRACKED_QUEUE;
use crate::domain::Strategy;
use crate::domain::{Class, FailureKind, LiteCooldown, LiteLlm, Pool, Routing, Scenario, Step};
use crate::model::engine::{SimTime, US_PER_HOUR, US_PER_MIN};
use crate::model::metrics::RepMetrics;
use crate::model::rng::SimRng;

use super::{draw, Call, Request, Router, Served};

/// LiteLLM's backoff: 0.5 s doubling, capped at 8 s (`_calculate_retry_after`).
const BACKOFF_BASE_US: u64 = 500_000;
const BACKOFF_MAX_US: u64 = 8_000_000;
/// A Retry-After longer than this is ignored (LiteLLM backs off instead).
const RETRY_AFTER_MAX_US: u64 = 60_000_000;
/// Every call failing cools even a deployment alone in its group from this many calls in a
/// minute (`SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD`).
const ALL_FAILING_MIN_CALLS: u64 = 1000;
/// The count rule's count lapses this long after its last failure when `cooldown_s` is 0
/// (`DEFAULT_COOLDOWN_TIME_SECONDS`).
const DEFAULT_COOLDOWN_US: u64 = 5_000_000;
/// Latency-based routing averages this many recent calls (`max_latency_list_size`).
const RECENT: usize = 10;

/// One deployment's counters behind a LiteLLM router.
#[derive(Default)]
pub(super) struct Usage {
    /// The calendar minute the counts below are for.
    minute: u64,
    /// Calls started (rpm), successes, failures and tokens of successful calls (tpm).
    calls: u64,
    successes: u64,
    failures: u64,
    tokens: u64,
    /// Count rule: failures counted, and when the count lapses.
    counted: u32,
    counted_until: SimTime,
    /// First-token times of admitted calls (least-busy counts those still ahead).
    in_flight: BinaryHeap<Reverse<SimTime>>,
    /// TTFTs of the last `RECENT` successful calls, ring-buffered.
    recent: [u64; RECENT],
    recent_len: usize,
    recent_next: usize,
}

impl Usage {
    fn roll(&mut self, now: SimTime) {
        let minute = now / US_PER_MIN;
        if minute != self.minute {
            self.minute = minute;
            (self.calls, self.successes, self.failures, self.tokens) = (0, 0, 0, 0);
        }
    }

    fn busy(&mut self, now: SimTime) -> usize {
        while self.in_flight.peek().is_some_and(|Reverse(t)| *t <= now) {
            self.in_flight.pop();
        }
        self.in_flight.len()
    }

    fn succeeded(&mut self, now: SimTime, call_us: SimTime, req: &Request) {
        self.successes += 1;
        self.tokens += req.input as u64 + req.output as u64;
        self.recent[self.recent_next] = call_us;
        self.recent_next = (self.recent_next + 1) % RECENT;
        self.recent_len = (self.recent_len + 1).min(RECENT);
        self.admitted(now.saturating_add(call_us));
    }

    fn admitted(&mut self, first_token: SimTime) {
        if self.in_flight.len() < MAX_TRACKED_QUEUE {
            self.in_flight.push(Reverse(first_token));
        }
    }

    /// Mean TTFT of the recent calls; 0 before any (LiteLLM tries those first).
    fn mean_latency(&self) -> u64 {
        let n = self.recent_len;
        if n == 0 {
            return 0;
        }
        (self.recent[..n].iter().map(|&x| x as u128).sum::<u128>() / n as u128) as u64
    }
}

impl Router {
    /// The calls a LiteLLM router makes for `req` from `now` until the request is served,
    /// fails, or must wait (a backoff or a timeout); then the time it continues.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn litellm_attempt(
        &mut self,
        sc: &Scenario,
        cfg: &LiteLlm,
        m: &mut RepMetrics,
        now: SimTime,
        mut req: Request,
        retry_rng: &mut SimRng,
        route_rng: &mut SimRng,
    ) -> Option<(SimTime, Request)> {
        let ci = req.class as usize;
        let class = &sc.classes[ci];
        let hour = (now / US_PER_HOUR) as usize;
        loop {
            let Some(step) = class.steps.get(req.step as usize) else {
                let errored = req.met_error;
                return self.refused_everywhere(sc, m, now, req, errored, retry_rng);
            };
            let (cands, cooled) = self.healthy(sc, cfg, class, step, now, &req);
            if cooled {
                for &pos in &step.members {
                    let d = class.route[pos];
                    if self.cooldown_until[d] > now {
                        m.deployments[d].skipped_cooldown += 1;
                    }
                }
                req.met_error = true;
            }
            let Some(pos) = self.pick(sc, cfg, class, &cands, now, route_rng) else {
                // Nothing to call at this level: the next step, at once.
                req.step += 1;
                req.calls = 0;
                continue;
            };
            if req.calls > 0 || req.step > 0 {
                m.classes[ci].retries += 1;
            }
            req.calls += 1;
            let more = (req.calls as u32) <= cfg.num_retries;
            let last_step = req.step as usize + 1 >= class.steps.len();
            // How long the failed call took, and the platform's Retry-After.
            let d = class.route[pos];
            let u = &mut self.lite[d];
            u.roll(now);
            u.calls += 1;
            let (took, retry_after) = match self.call(m, d, now, &req) {
                Call::Admitted(call) => {
                    match call.timed_out(cfg.timeout_us) {
                        None => {
                            self.lite[d].succeeded(now, call.call_us(), &req);
                            let served = Served {
                                d,
                                call,
                                spilled: req.step > 0 || req.calls > 1,
                                rescued: req.met_error,
                            };
                            self.serve(sc, m, now, &req, served);
                            return None;
                        }
                        Some(t) => {
                            // The gateway gives up on the call when the timeout passes.
                            self.lite[d].admitted(now + t);
                            self.errored(m, hour, d);
                            req.met_error = true;
                            self.lite_failed(sc, cfg, d, FailureKind::Timeout, step, now, m);
                            (t, None)
                        }
                    }
                }
                Call::Error => {
                    self.errored(m, hour, d);
                    req.met_error = true;
                    self.lite_failed(sc, cfg, d, FailureKind::Error, step, now, m);
                    (0, None)
                }
                Call::Refused => {
                    self.refused(m, hour, d, more || !last_step, now);
                    self.lite_failed(sc, cfg, d, FailureKind::RateLimit, step, now, m);
                    (0, sc.deployments[d].retry_after_us)
                }
            };
            // LiteLLM waits 0 when the model group has another healthy deployment (it
            // retries there at once), else backs off; without retries it moves on at once.
            let group_healthy = class
                .steps
                .iter()
                .filter(|s| s.group == step.group)
                .any(|s| {
                    s.members
                        .iter()
                        .any(|&p| self.cooldown_until[class.route[p]] <= now)
                });
            let wait = if cfg.num_retries == 0 || (step.group_size > 1 && group_healthy) {
                0
            } else {
                lite_backoff(cfg, req.calls, retry_after, retry_rng)
            };
            if !more {
                req.step += 1;
                req.calls = 0;
            }
            let t = took.saturating_add(wait);
            if t > 0 {
                return Some((now + t, req));
            }
        }
    }

    /// The route positions of `step` a call may go to at `now`, and whether any was left
    /// out for a cooldown.
    fn healthy(
        &mut self,
        sc: &Scenario,
        cfg: &LiteLlm,
        class: &Class,
        step: &Step,
        now: SimTime,
        req: &Request,
    ) -> (Vec<usize>, bool) {
        let checks = cfg.pre_call_checks || cfg.strategy == Strategy::UsageBased;
        let mut cooled = false;
        let mut out = Vec::with_capacity(step.members.len());
        for &pos in &step.members {
            let d = class.route[pos];
            if self.cooldown_until[d] > now {
                cooled = true;
                continue;
            }
            if checks {
                if let Pool::OnDemand(o) = &sc.deployments[d].pool {
                    let u = &mut self.lite[d];
                    u.roll(now);
                    if o.rpm.is_some_and(|r| u.calls as f64 + 1.0 > r) {
                        continue;
                    }
                    let tokens = (u.tokens + req.input as u64 + req.output as u64) as f64;
                    if cfg.strategy == Strategy::UsageBased && o.tpm.is_some_and(|t| tokens > t) {
                        continue;
                    }
                }
            }
            out.push(pos);
        }
        (out, cooled)
    }

    /// The route position the strategy picks among `cands` (None when there is none).
    fn pick(
        &mut self,
        sc: &Scenario,
        cfg: &LiteLlm,
        class: &Class,
        cands: &[usize],
        now: SimTime,
        rng: &mut SimRng,
    ) -> Option<usize> {
        if cands.len() <= 1 {
            return cands.first().copied();
        }
        let dep = |pos: usize| &sc.deployments[class.route[pos]];
        let by = |key: &dyn Fn(usize) -> f64| {
            cands
                .iter()
                .copied()
                .min_by(|&a, &b| key(a).total_cmp(&key(b)))
        };
        match cfg.strategy {
            Strategy::SimpleShuffle => {
                let limit = |pos: usize, rpm: bool| match &dep(pos).pool {
                    Pool::OnDemand(o) => {
                        if rpm {
                            o.rpm
                        } else {
                            o.tpm
                        }
                    }
                    Pool::Reserved(_) => None,
                };
                let mut w: Vec<f64> = match &class.routing {
                    Routing::Weighted(w) => cands.iter().map(|&p| w[p]).collect(),
                    _ if cands.iter().any(|&p| limit(p, true).is_some()) => cands
                        .iter()
                        .map(|&p| limit(p, true).unwrap_or(0.0))
                        .collect(),
                    _ => cands
                        .iter()
                        .map(|&p| limit(p, false).unwrap_or(0.0))
                        .collect(),
                };
                if w.iter().sum::<f64>() <= 0.0 {
                    w.iter_mut().for_each(|x| *x = 1.0);
                }
                Some(cands[draw(&w, rng)])
            }
            Strategy::LeastBusy => {
                let busy: Vec<f64> = (cands.iter())
                    .map(|&p| self.lite[class.route[p]].busy(now) as f64)
                    .collect();
                by(&|p| busy[cands.iter().position(|&c| c == p).unwrap_or(0)])
            }
            Strategy::UsageBased => by(&|p| self.lite[class.route[p]].tokens as f64),
            Strategy::LatencyBased => by(&|p| self.lite[class.route[p]].mean_latency() as f64),
            Strategy::CostBased => by(&|p| match &dep(p).pool {
                Pool::OnDemand(o) => o.input_per_1m + o.output_per_1m,
                Pool::Reserved(_) => 0.0,
            }),
        }
    }

    /// Counts a failed call of `d` and applies LiteLLM's cooldown
    /// (`router_utils/cooldown_handlers.py`). The default rule cools a deployment on a 429
    /// when its group has more than one deployment, when more than half of its calls this
    /// minute failed (groups of more than one), or when every call failed with at least
    /// 1,000 this minute. The count rule cools it on the failure after `allowed_fails` (per
    /// kind with a policy), counted until `cooldown_s` passes without one. The cooldown
    /// lasts the deployment's own `cooldown_s`, else the Retry-After of its 429, else the
    /// gateway's `cooldown_s`; a cooldown of 0 is none.
    #[allow(clippy::too_many_arguments)]
    fn lite_failed(
        &mut self,
        sc: &Scenario,
        cfg: &LiteLlm,
        d: usize,
        kind: FailureKind,
        step: &Step,
        now: SimTime,
        m: &mut RepMetrics,
    ) {
        let dep = &sc.deployments[d];
        let retry_after = dep
            .retry_after_us
            .filter(|_| kind == FailureKind::RateLimit);
        let duration = dep.cooldown_us.or(retry_after).unwrap_or(cfg.cooldown_us);
        let u = &mut self.lite[d];
        u.roll(now);
        u.failures += 1;
        if duration == 0 {
            return;
        }
        let shared = step.group_size > 1;
        let cool = match cfg.cooldown {
            LiteCooldown::Off => false,
            LiteCooldown::Default => {
                let total = u.successes + u.failures;
                (kind == FailureKind::RateLimit && shared)
                    || (u.failures == total && total >= ALL_FAILING_MIN_CALLS)
                    || (2 * u.failures > total && shared)
            }
            LiteCooldown::Count(allowed) => {
                if now >= u.counted_until {
                    u.counted = 0;
                }
                let counted = u.counted + 1;
                if counted > allowed[kind as usize] {
                    true
                } else {
                    u.counted = counted;
                    let ttl = if cfg.cooldown_us > 0 {
                        cfg.cooldown_us
                    } else {
                        DEFAULT_COOLDOWN_US
                    };
                    u.counted_until = now + ttl;
                    false
                }
            }
        };
        if cool {
            self.cooldown_until[d] = now + duration;
            m.deployments[d].cooldowns += 1;
        }
    }
}

/// LiteLLM's wait before the retry that follows failed call `calls` (1-based) of a step:
/// the platform's Retry-After when it is in (0, 60 s], else 0.5 s × 2^(calls−2) (2^0 for
/// the first two) capped at 8 s, times a jitter uniform in [0.75, 1], at least `retry_after`.
pub(super) fn lite_backoff(
    cfg: &LiteLlm,
    calls: u16,
    retry_after: Option<u64>,
    rng: &mut SimRng,
) -> SimTime {
    if let Some(r) = retry_after.filter(|&r| r > 0 && r <= RETRY_AFTER_MAX_US) {
        return r;
    }
    let exp = calls.saturating_sub(2).min(20) as u32;
    let sleep = BACKOFF_BASE_US
        .saturating_mul(1u64 << exp)
        .min(BACKOFF_MAX_US);
    let jitter = 1.0 - 0.25 * rng.random::<f64>();
    ((sleep as f64 * jitter) as u64).max(cfg.retry_after_us)
}
