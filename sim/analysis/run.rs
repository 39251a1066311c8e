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

use crate::domain::Scenario;
use crate::input::trace::open_rows;
use crate::model::engine::{EventQueue, US_PER_HOUR};
use crate::model::metrics::RepMetrics;
use crate::model::rng::{key_of, stream, Purpose, SimRng};
use crate::model::routing::{Request, Router};
use crate::model::traffic::{ArrivalGen, TraceArrivals};

/// The results of all replications, in replication order.
#[derive(Debug, Clone)]
pub struct RunResults {
    pub replications: Vec<RepMetrics>,
    merged: RepMetrics,
}

impl RunResults {
    /// All replications added together.
    pub fn pooled(&self) -> RepMetrics {
        self.merged.clone()
    }
}

/// Runs every replication of `sc` on `threads` threads (0 = rayon's default)
/// and keeps each replication's full metrics. For many replications prefer
/// [`run_each`], whose memory does not grow with the replication count.
pub fn run(sc: &Scenario, threads: usize, progress: Option<&AtomicU64>) -> RunResults {
    let (merged, replications) = run_each(sc, threads, progress, |m| m.clone());
    RunResults {
        replications,
        merged,
    }
}

/// Runs every replication of `sc` on `threads` threads (0 = rayon's default),
/// turning each into a `T` with `keep` as soon as it is done. Returns all
/// replications added together, and the `T`s in replication order.
/// Replications run in batches of a few per thread and are merged in
/// replication order, so the results do not depend on `threads`, and memory
/// holds one batch of full metrics at a time. `progress` counts simulated
/// hours completed, summed over replications.
pub fn run_each<T: Send>(
    sc: &Scenario,
    threads: usize,
    progress: Option<&AtomicU64>,
    keep: impl Fn(&RepMetrics) -> T + Sync,
) -> (RepMetrics, Vec<T>) {
    let work = || {
        let batch = (rayon::current_num_threads() * 2).max(1) as u32;
        let mut merged: Option<RepMetrics> = None;
        let mut kept = Vec::with_capacity(sc.replications as usize);
        for first in (0..sc.replications).step_by(batch as usize) {
            let last = (first + batch).min(sc.replications);
            let done: Vec<(RepMetrics, T)> = (first..last)
                .into_par_iter()
                .map(|r| {
                    let m = run_replication(sc, r, progress);
                    let t = keep(&m);
                    (m, t)
                })
                .collect();
            for (m, t) in done {
                match &mut merged {
                    Some(total) => total.merge(&m),
                    None => merged = Some(m),
                }
                kept.push(t);
            }
        }
        let merged = merged.unwrap_or_else(|| {
            RepMetrics::new(sc.classes.len(), sc.deployments.len(), sc.horizon_hours)
        });
        (merged, kept)
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        // Building a pool only fails when threads cannot be spawned; run on the
        // caller's pool instead (same results, by construction).
        Err(_) => work(),
    }
}

/// Runs the replications `reps` of `sc` (a shard's share) in parallel, turning each into a `T`
/// with `keep` as soon as it is done; returns the `T`s in the order of `reps`, whatever
/// `threads` is (0 = rayon's default).
pub fn run_reps<T: Send>(
    sc: &Scenario,
    reps: &[u32],
    threads: usize,
    progress: Option<&AtomicU64>,
    keep: impl Fn(u32, RepMetrics) -> T + Sync,
) -> Vec<T> {
    let work = || {
        let batch = (rayon::current_num_threads() * 2).max(1);
        let mut kept = Vec::with_capacity(reps.len());
        for chunk in reps.chunks(batch) {
            let done: Vec<T> = chunk
                .par_iter()
                .map(|&r| keep(r, run_replication(sc, r, progress)))
                .collect();
            kept.extend(done);
        }
        kept
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival(u32),
    Retry(Request),
}

// The synthetic generator is the hot path: kept inline; a trace reader is boxed.
#[allow(clippy::large_enum_variant)]
enum Source {
    Synthetic(ArrivalGen),
    Trace(Box<TraceArrivals>),
}

struct ClassStreams {
    arrivals: Source,
    /// Token counts of the scheduled next arrival, when it comes from a trace.
    pending: Option<(u32, u32)>,
    arrival_rng: SimRng,
    token_rng: SimRng,
    latency_rng: SimRng,
    retry_rng: SimRng,
    route_rng: SimRng,
}

impl ClassStreams {
    /// The time of the class's next arrival before `horizon`; a trace also
    /// leaves the request's token counts in `pending`.
    fn next(&mut self, horizon: u64) -> Option<u64> {
        match &mut self.arrivals {
            Source::Synthetic(g) => g.next(horizon, &mut self.arrival_rng),
            Source::Trace(t) => {
                let (at, input, output) = t.next(horizon, &mut self.arrival_rng)?;
                self.pending = Some((input, output));
                Some(at)
            }
        }
    }
}

/// Runs replication `rep` of `sc` and returns what it measured.
pub fn run_replication(sc: &Scenario, rep: u32, progress: Option<&AtomicU64>) -> RepMetrics {
    let horizon = sc.horizon_us();
    let mut m = RepMetrics::new(sc.classes.len(), sc.deployments.len(), sc.horizon_hours);
    let mut router = Router::new(sc, rep);
    for &(a, b) in router.incidents() {
        m.add_incident(a, b);
    }
    let mut queue = EventQueue::new();
    let mut streams: Vec<ClassStreams> = sc
        .classes
        .iter()
        .map(|c| {
            let i = key_of(&c.random_stream);
            let mut arrival_rng = stream(sc.seed, rep, Purpose::Arrivals, i);
            let arrivals = match &c.trace {
                Some(t) => Source::Trace(Box::new(TraceArrivals::new(t, open_rows))),
                None => Source::Synthetic(ArrivalGen::new(
                    &c.arrivals,
                    sc.start_date,
                    &mut arrival_rng,
                )),
            };
            ClassStreams {
                arrivals,
                pending: None,
                arrival_rng,
                token_rng: stream(sc.seed, rep, Purpose::Tokens, i),
                latency_rng: stream(sc.seed, rep, Purpose::Latency, i),
                retry_rng: stream(sc.seed, rep, Purpose::Retry, i),
                route_rng: stream(sc.seed, rep, Purpose::Routing, i),
            }
        })
        .collect();
    for (i, s) in streams.iter_mut().enumerate() {
        if let Some(t) = s.next(horizon) {
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
                let (input, output) = match s.pending.take() {
                    Some(tokens) => tokens,
                    None => (
                        class.input_tokens.sample(&mut s.token_rng),
                        class.output_tokens.sample(&mut s.token_rng),
                    ),
                };
                // A response stops at the `max_tokens` the request sends.
                let output = class.max_tokens.map_or(output, |m| output.min(m));
                if let Some(t) = s.next(horizon) {
                    queue.schedule(t, Event::Arrival(c));
                }
                m.add_arrival(now, hour as usize, ci);
                Request {
                    class: c,
                    arrived: now,
                    failed_attempts: 0,
                    input,
                    output,
                    z: StandardNormal.sample(&mut s.latency_rng),
                    met_error: false,
                    step: 0,
                    calls: 0,
                }
            }
            Event::Retry(r) => r,
        };
        let s = &mut streams[req.class as usize];
        if let Some(retry) =
            router.attempt(sc, &mut m, now, req, &mut s.retry_rng, &mut s.route_rng)
        {
            queue.schedule(retry.0, Event::Retry(retry.1));
        }
    }
    for (ci, s) in streams.iter().enumerate() {
        if let Source::Trace(t) = &s.arrivals {
            m.classes[ci].trace_skipped += t.skipped;
            if m.input_failure.is_none() {
                m.input_failure.clone_from(&t.failure);
            }
        }
    }
    for (_, e) in queue.into_pending() {
        if let Event::Retry(r) = e {
            m.classes[r.class as usize].in_flight += 1;
        }
    }
    m.close();
    if let Some(p) = progress {
        p.fetch_add(sc.horizon_hours as u64 - hours_reported, Ordering::Relaxed);
    }
    m
}
