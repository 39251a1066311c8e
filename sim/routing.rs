//! Routing: each class tries the deployments of its route in order. A 429 from
//! one deployment (quota, or a full reserved queue) spills the request to the
//! next; when every deployment refuses, the client backs off and retries the
//! whole route, up to `max_attempts` attempts, unless its timeout would pass
//! first.

use rand::Rng;

use crate::capacity::{OnDemandPool, ReservedPool, MAX_TRACKED_QUEUE};
use crate::engine::{SimTime, US_PER_HOUR};
use crate::metrics::RepMetrics;
use crate::rng::SimRng;
use crate::scenario::{ClientPolicy, Jitter, Pool, Scenario};
use crate::traffic::Z99;

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
}

impl DeploymentModel {
    /// Base latency (lognormal from median and p99) plus prefill, microseconds.
    fn latency_us(&self, req: &Request, slowdown: f64) -> f64 {
        let base = if self.sigma > 0.0 {
            self.median_us * (self.sigma * req.z).exp()
        } else {
            self.median_us
        };
        base + self.prefill_us_per_token * req.input as f64 * slowdown
    }
}

/// The state of every deployment during one replication, and the route walk.
pub struct Router {
    deps: Vec<DeploymentModel>,
    horizon: SimTime,
}

/// What a deployment said to one request.
enum Answer {
    /// Admitted: the wait for a slot (reserved), the prefill slowdown, and
    /// whether the request is still queued when the horizon is reached.
    Admitted {
        wait_us: SimTime,
        slowdown: f64,
        queued_past_horizon: bool,
    },
    Refused,
}

impl Router {
    pub fn new(sc: &Scenario) -> Self {
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
            })
            .collect();
        Router {
            deps,
            horizon: sc.horizon_us(),
        }
    }

    fn ask(&mut self, d: usize, m: &mut RepMetrics, now: SimTime, req: &Request) -> Answer {
        match &mut self.deps[d].pool {
            PoolState::Reserved(pool) => match pool.try_admit(now, req.input, req.output) {
                Some(a) => {
                    let wait = a.wait(now);
                    m.add_busy(d, a.start, a.end);
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
                    }
                }
                None => Answer::Refused,
            },
            PoolState::OnDemand(pool) => match pool.try_admit(now, req.input, req.output) {
                Ok(()) => Answer::Admitted {
                    wait_us: 0,
                    slowdown: OnDemandPool::slowdown(pool.utilization(now)),
                    queued_past_horizon: false,
                },
                Err(_) => Answer::Refused,
            },
        }
    }

    /// One pass down the class's route at `now`, recording the outcome in `m`.
    /// Returns the request and the time of its retry, if every deployment
    /// refused and the client tries again.
    pub fn attempt(
        &mut self,
        sc: &Scenario,
        m: &mut RepMetrics,
        now: SimTime,
        mut req: Request,
        retry_rng: &mut SimRng,
    ) -> Option<(SimTime, Request)> {
        let ci = req.class as usize;
        let class = &sc.classes[ci];
        let hour = (now / US_PER_HOUR) as usize;
        let last = class.route.len() - 1;
        for (pos, &d) in class.route.iter().enumerate() {
            let Answer::Admitted {
                wait_us,
                slowdown,
                queued_past_horizon,
            } = self.ask(d, m, now, &req)
            else {
                m.deployments[d].rejected += 1;
                let cell = m.cell(hour, d);
                cell.rejected += 1;
                if pos < last {
                    cell.spilled += 1;
                    m.deployments[d].spilled_out += 1;
                }
                continue;
            };
            let cs = &mut m.classes[ci];
            if queued_past_horizon {
                // Still waiting for a slot at the end of the run: neither served
                // nor billed within the horizon.
                cs.in_flight += 1;
                m.deployments[d].queued_at_horizon += 1;
                return None;
            }
            let latency = self.deps[d].latency_us(&req, slowdown).round() as u64;
            let ttft = (now - req.arrived)
                .saturating_add(wait_us)
                .saturating_add(latency);
            let cell = m.cell(hour, d);
            cell.requests += 1;
            cell.input_tokens += req.input as u64;
            cell.output_tokens += req.output as u64;
            let ds = &mut m.deployments[d];
            ds.served += 1;
            ds.input_tokens += req.input as u64;
            ds.output_tokens += req.output as u64;
            let cs = &mut m.classes[ci];
            if sc.client.timeout_us.is_some_and(|t| ttft > t) {
                cs.failed += 1;
                return None;
            }
            ds.ttft.record(ttft);
            cs.ttft.record(ttft);
            cs.served += 1;
            cs.spilled += (pos > 0) as u64;
            cs.input_tokens += req.input as u64;
            cs.output_tokens += req.output as u64;
            if class.sla.is_some_and(|s| ttft <= s.ttft_us) {
                cs.within_sla += 1;
            }
            return None;
        }
        req.failed_attempts += 1;
        let cs = &mut m.classes[ci];
        if req.failed_attempts >= sc.client.max_attempts {
            cs.throttled += 1;
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
            return None;
        }
        cs.retries += 1;
        Some((now + wait, req))
    }
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
    use crate::rng::{stream, Purpose};

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
