//! Execution: one replication is a single-threaded event loop; replications run
//! in parallel with rayon and come back in replication order, so results never
//! depend on the thread count or on scheduling.
//!
//! The event set holds one "next arrival" per class and the pending client
//! retries; reserved-pool waits are computed at admission (see `capacity`), and
//! on-demand TTFT is sampled, so no request needs a completion event.

use std::sync::atomic::{AtomicU64, Ordering};

use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::capacity::{OnDemandPool, ReservedPool};
use crate::engine::{EventQueue, SimTime, US_PER_HOUR};
use crate::metrics::RepMetrics;
use crate::rng::{key_of, stream, Purpose, SimRng};
use crate::routing::backoff;
use crate::scenario::{Pool, Scenario};
use crate::traffic::{ArrivalGen, Z99};

/// The results of all replications, in replication order.
#[derive(Debug, Clone)]
pub struct RunResults {
    pub replications: Vec<RepMetrics>,
}

impl RunResults {
    /// All replications added together.
    pub fn pooled(&self) -> RepMetrics {
        let mut it = self.replications.iter();
        let mut total = it.next().cloned().expect("at least one replication");
        for r in it {
            total.merge(r);
        }
        total
    }
}

/// Runs every replication of `sc` on `threads` threads (0 = rayon's default).
/// `progress` counts simulated hours completed, summed over replications.
pub fn run(sc: &Scenario, threads: usize, progress: Option<&AtomicU64>) -> RunResults {
    let work = || {
        (0..sc.replications)
            .into_par_iter()
            .map(|r| run_replication(sc, r, progress))
            .collect::<Vec<_>>()
    };
    let replications = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        // Building a pool only fails when threads cannot be spawned; run on the
        // caller's pool instead (same results, by construction).
        Err(_) => work(),
    };
    RunResults { replications }
}

#[derive(Debug, Clone, Copy)]
struct Request {
    class: u32,
    arrived: SimTime,
    /// Attempts already made and refused.
    failed_attempts: u32,
    input: u32,
    output: u32,
    /// The request's standard-normal latency draw, shared by its attempts.
    z: f64,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival(u32),
    Retry(Request),
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

struct ClassStreams {
    arrivals: ArrivalGen,
    arrival_rng: SimRng,
    token_rng: SimRng,
    latency_rng: SimRng,
    retry_rng: SimRng,
}

/// Runs replication `rep` of `sc` and returns what it measured.
pub fn run_replication(sc: &Scenario, rep: u32, progress: Option<&AtomicU64>) -> RepMetrics {
    let horizon = sc.horizon_us();
    let mut m = RepMetrics::new(sc.classes.len(), sc.deployments.len(), sc.horizon_hours);
    let mut deps: Vec<DeploymentModel> = sc
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
    let mut queue = EventQueue::new();
    let mut streams: Vec<ClassStreams> = sc
        .classes
        .iter()
        .map(|c| {
            let i = key_of(&c.random_stream);
            let mut arrival_rng = stream(sc.seed, rep, Purpose::Arrivals, i);
            let arrivals = ArrivalGen::new(&c.arrivals, sc.start_weekday, &mut arrival_rng);
            ClassStreams {
                arrivals,
                arrival_rng,
                token_rng: stream(sc.seed, rep, Purpose::Tokens, i),
                latency_rng: stream(sc.seed, rep, Purpose::Latency, i),
                retry_rng: stream(sc.seed, rep, Purpose::Retry, i),
            }
        })
        .collect();
    for (i, s) in streams.iter_mut().enumerate() {
        if let Some(t) = s.arrivals.next(horizon, &mut s.arrival_rng) {
            queue.schedule(t, Event::Arrival(i as u32));
        }
    }

    let mut hours_reported = 0u64;
    while let Some((now, event)) = queue.pop_until(horizon - 1) {
        let hour = now / US_PER_HOUR;
        if hour > hours_reported {
            if let Some(p) = progress {
                p.fetch_add(hour - hours_reported, Ordering::Relaxed);
            }
            hours_reported = hour;
        }
        let req = match event {
            Event::Arrival(c) => {
                let ci = c as usize;
                let class = &sc.classes[ci];
                let s = &mut streams[ci];
                if let Some(t) = s.arrivals.next(horizon, &mut s.arrival_rng) {
                    queue.schedule(t, Event::Arrival(c));
                }
                m.classes[ci].arrived += 1;
                m.arrivals[hour as usize * sc.classes.len() + ci] += 1;
                Request {
                    class: c,
                    arrived: now,
                    failed_attempts: 0,
                    input: class.input_tokens.sample(&mut s.token_rng),
                    output: class.output_tokens.sample(&mut s.token_rng),
                    z: StandardNormal.sample(&mut s.latency_rng),
                }
            }
            Event::Retry(r) => r,
        };
        if let Some(retry) = attempt(sc, &mut deps, &mut m, now, req, &mut streams) {
            queue.schedule(retry.0, Event::Retry(retry.1));
        }
    }
    for (_, e) in queue.into_pending() {
        if let Event::Retry(r) = e {
            m.classes[r.class as usize].in_flight += 1;
        }
    }
    if let Some(p) = progress {
        p.fetch_add(sc.horizon_hours as u64 - hours_reported, Ordering::Relaxed);
    }
    m
}

/// One pass down the class's route at `now`. Returns the retry to schedule, if
/// every deployment refused and the client has attempts left.
fn attempt(
    sc: &Scenario,
    deps: &mut [DeploymentModel],
    m: &mut RepMetrics,
    now: SimTime,
    mut req: Request,
    streams: &mut [ClassStreams],
) -> Option<(SimTime, Request)> {
    let ci = req.class as usize;
    let class = &sc.classes[ci];
    let hour = (now / US_PER_HOUR) as usize;
    let last = class.route.len() - 1;
    for (pos, &d) in class.route.iter().enumerate() {
        let dm = &mut deps[d];
        // (queue wait, prefill slowdown) when admitted.
        let admitted = match &mut dm.pool {
            PoolState::Reserved(pool) => pool.try_admit(now, req.input, req.output).map(|a| {
                let wait = a.wait(now);
                let ds = &mut m.deployments[d];
                ds.wait_sum_us += wait as u128;
                ds.waited += (wait > 0) as u64;
                ds.queue_seen_sum += a.queue_ahead as u64;
                m.add_busy(d, a.start, a.end);
                (wait as f64, 1.0)
            }),
            PoolState::OnDemand(pool) => pool
                .try_admit(now, req.input, req.output)
                .ok()
                .map(|()| (0.0, OnDemandPool::slowdown(pool.utilization(now)))),
        };
        let service_latency = admitted.map(|(wait, slowdown)| {
            let base = if dm.sigma > 0.0 {
                dm.median_us * (dm.sigma * req.z).exp()
            } else {
                dm.median_us
            };
            wait + base + dm.prefill_us_per_token * req.input as f64 * slowdown
        });
        let Some(latency) = service_latency else {
            m.deployments[d].rejected += 1;
            let cell = m.cell(hour, d);
            cell.rejected += 1;
            if pos < last {
                cell.spilled += 1;
                m.deployments[d].spilled_out += 1;
            }
            continue;
        };
        let ttft = (now - req.arrived) + latency.round() as u64;
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
    if req.failed_attempts >= sc.client.max_attempts {
        m.classes[ci].throttled += 1;
        return None;
    }
    let wait = backoff(&sc.client, req.failed_attempts, &mut streams[ci].retry_rng);
    // A client whose deadline passes during the backoff gives up instead of retrying.
    if sc
        .client
        .timeout_us
        .is_some_and(|t| now + wait - req.arrived > t)
    {
        m.classes[ci].failed += 1;
        m.classes[ci].abandoned += 1;
        return None;
    }
    m.classes[ci].retries += 1;
    Some((now + wait, req))
}
