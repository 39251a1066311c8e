//! Batch jobs (docs/model.md, section 10.2). A deferrable class's requests are gathered into
//! jobs: the open job is submitted every `submit_every`, or at once when it reaches the
//! vendor's per-job cap (requests, or the enqueued-token limit). A job starts when the input
//! tokens of the jobs still running plus its own fit under the enqueued-token limit (FIFO: the
//! client resubmits a refused job when earlier ones finish), and is done a turnaround later.
//! A job whose turnaround passes the completion window expires where the vendor expires jobs:
//! the requests it had finished by then (its share window / turnaround, in submission order:
//! the job progresses at an even pace) come back at the window's end and are billed, the rest
//! are not billed and count as expired. Every request of a job completes when the job does
//! (its output file); completed requests are billed at batch prices in the hour their job
//! completes. Known at submission: nothing here needs an event queue.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_distr::{Distribution, StandardNormal};

use crate::domain::traffic::Z99;
use crate::domain::{Pool, Scenario, Tokens};
use crate::model::engine::{SimTime, US_PER_HOUR};
use crate::model::metrics::Hist;
use crate::model::rng::{key_of, stream, Purpose, SimRng};
use crate::model::traffic::ArrivalGen;

/// What one deferrable class saw (one replication, or several added together).
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    pub arrived: u64,
    /// Completed within the horizon, billed.
    pub completed: u64,
    /// In a job that expired at the window's end, not finished by then: not billed.
    pub expired: u64,
    /// Finished by an expired job before its window's end: returned then, billed, and part of
    /// `completed`.
    pub partial: u64,
    /// A single request larger than the enqueued-token limit: no job can hold it.
    pub refused: u64,
    /// Not submitted, or in a job still running, when the horizon ends.
    pub unfinished: u64,
    /// Of `unfinished`: those whose completion-time target lies past the horizon (the run ended
    /// before they could be judged; `pick` leaves them out of the share that met the target).
    pub censored: u64,
    /// Completed within the class's completion-time target.
    pub met_sla: u64,
    /// Jobs submitted, and those that waited for the enqueued-token limit.
    pub jobs: u64,
    pub jobs_waited: u64,
    /// Tokens of the completed requests.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD at batch prices, completed requests.
    pub cost_usd: f64,
    /// USD the same tokens cost on the class's on-demand alternative (0 without one).
    pub on_demand_usd: f64,
    /// The completed requests by the hour they completed (their job's results came back).
    pub hourly: Vec<BatchHour>,
    /// Completion time (arrival to the job's results) of completed requests.
    pub completion: Hist,
}

impl BatchStats {
    fn new(hours: u32) -> Self {
        BatchStats {
            hourly: vec![BatchHour::default(); hours as usize],
            ..Default::default()
        }
    }

    pub fn merge(&mut self, o: &BatchStats) {
        self.arrived += o.arrived;
        self.completed += o.completed;
        self.expired += o.expired;
        self.partial += o.partial;
        self.refused += o.refused;
        self.unfinished += o.unfinished;
        self.censored += o.censored;
        self.met_sla += o.met_sla;
        self.jobs += o.jobs;
        self.jobs_waited += o.jobs_waited;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cost_usd += o.cost_usd;
        self.on_demand_usd += o.on_demand_usd;
        for (a, b) in self.hourly.iter_mut().zip(&o.hourly) {
            a.requests += b.requests;
            a.input_tokens += b.input_tokens;
            a.output_tokens += b.output_tokens;
            a.cost_usd += b.cost_usd;
        }
        self.completion.merge(&o.completion);
    }
}

/// The requests completed in one hour, their tokens and their cost at batch prices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchHour {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
}

/// One request waiting in the open job.
#[derive(Clone, Copy)]
struct Pending {
    arrived: SimTime,
    class: usize,
    input: u32,
    output: u32,
}

/// One batch deployment during a replication.
struct Deployment<'a> {
    sc: &'a Scenario,
    d: usize,
    horizon: SimTime,
    open: Vec<Pending>,
    open_tokens: u64,
    /// Jobs started and not yet done: (when their tokens are released, tokens).
    running: BinaryHeap<Reverse<(SimTime, u64)>>,
    running_tokens: u64,
    last_start: SimTime,
    rng: SimRng,
    sigma: f64,
}

/// Every deferrable class's statistics in replication `rep`, in `sc.batch_classes` order.
pub fn run_replication(sc: &Scenario, rep: u32) -> Vec<BatchStats> {
    let mut stats: Vec<BatchStats> = (sc.batch_classes.iter())
        .map(|_| BatchStats::new(sc.horizon_hours))
        .collect();
    for d in 0..sc.batch_deployments.len() {
        run_deployment(sc, rep, d, &mut stats);
    }
    stats
}

fn run_deployment(sc: &Scenario, rep: u32, d: usize, stats: &mut [BatchStats]) {
    let bd = &sc.batch_deployments[d];
    let classes: Vec<usize> = (0..sc.batch_classes.len())
        .filter(|&c| sc.batch_classes[c].deployment == d)
        .collect();
    let horizon = sc.horizon_us();
    // The streams of an interactive class of the same `random_stream`: same arrivals, same
    // tokens (a class moved to batch is compared on the traffic it had).
    let mut gens: Vec<(usize, ArrivalGen, SimRng, SimRng, Option<SimTime>)> = (classes.iter())
        .map(|&c| {
            let k = &sc.batch_classes[c];
            let key = key_of(&k.random_stream);
            let mut arrival_rng = stream(sc.seed, rep, Purpose::Arrivals, key);
            let mut g = ArrivalGen::new(&k.arrivals, sc.start_date, &mut arrival_rng);
            let next = g.next(horizon, &mut arrival_rng);
            let token_rng = stream(sc.seed, rep, Purpose::Tokens, key);
            (c, g, arrival_rng, token_rng, next)
        })
        .collect();
    let mut dep = Deployment {
        sc,
        d,
        horizon,
        open: Vec::new(),
        open_tokens: 0,
        running: BinaryHeap::new(),
        running_tokens: 0,
        last_start: 0,
        rng: stream(
            sc.seed,
            rep,
            Purpose::Latency,
            key_of(&format!("batch/{}", bd.name)),
        ),
        sigma: if bd.turnaround_p99_us > bd.turnaround_median_us && bd.turnaround_median_us > 0 {
            (bd.turnaround_p99_us as f64 / bd.turnaround_median_us as f64).ln() / Z99
        } else {
            0.0
        },
    };
    let mut tick = bd.submit_every_us;
    loop {
        // The next arrival of any class (ties: the class listed first).
        let next = (0..gens.len())
            .filter_map(|i| gens[i].4.map(|t| (t, i)))
            .min();
        let Some((t, i)) = next else { break };
        while tick <= t && tick < horizon {
            dep.submit_if_ready(tick, stats);
            tick += bd.submit_every_us;
        }
        let (c, g, arrival_rng, token_rng, slot) = &mut gens[i];
        let k = &sc.batch_classes[*c];
        let input = k.input_tokens.sample(token_rng);
        let output = k.output_tokens.sample(token_rng);
        *slot = g.next(horizon, arrival_rng);
        stats[*c].arrived += 1;
        dep.add(
            Pending {
                arrived: t,
                class: *c,
                input,
                output,
            },
            stats,
        );
    }
    while tick < horizon {
        dep.submit_if_ready(tick, stats);
        tick += bd.submit_every_us;
    }
    for p in &dep.open {
        stats[p.class].unfinished += 1;
        let k = &sc.batch_classes[p.class];
        stats[p.class].censored += (p.arrived + k.completion_sla_us >= horizon) as u64;
    }
}

impl Deployment<'_> {
    /// Adds a request to the open job, submitting the open job first when the request would
    /// take it past the vendor's per-job cap or the enqueued-token limit.
    fn add(&mut self, p: Pending, stats: &mut [BatchStats]) {
        let bd = &self.sc.batch_deployments[self.d];
        let limit = bd.enqueued_tokens.unwrap_or(u64::MAX);
        if p.input as u64 > limit {
            stats[p.class].refused += 1;
            return;
        }
        if self.open.len() as u64 >= bd.max_requests_per_job as u64
            || self.open_tokens + p.input as u64 > limit
        {
            self.submit(p.arrived, stats);
        }
        self.open_tokens += p.input as u64;
        self.open.push(p);
    }

    /// The periodic submission: the open job goes if it has the vendor's minimum of requests.
    fn submit_if_ready(&mut self, now: SimTime, stats: &mut [BatchStats]) {
        let bd = &self.sc.batch_deployments[self.d];
        if !self.open.is_empty() && self.open.len() as u64 >= bd.min_requests_per_job as u64 {
            self.submit(now, stats);
        }
    }

    /// Submits the open job at `now` and books what becomes of its requests.
    fn submit(&mut self, now: SimTime, stats: &mut [BatchStats]) {
        if self.open.is_empty() {
            return;
        }
        let bd = &self.sc.batch_deployments[self.d];
        let tokens = self.open_tokens;
        let limit = bd.enqueued_tokens.unwrap_or(u64::MAX);
        // FIFO: no job starts before the one submitted ahead of it.
        let mut start = now.max(self.last_start);
        let mut waited = start > now;
        loop {
            while let Some(&Reverse((end, t))) = self.running.peek() {
                if end > start {
                    break;
                }
                self.running.pop();
                self.running_tokens -= t;
            }
            if self.running_tokens + tokens <= limit {
                break;
            }
            // Wait for the next job to finish (one is running: the job alone fits the limit).
            match self.running.peek() {
                Some(&Reverse((end, _))) => {
                    start = end;
                    waited = true;
                }
                None => break,
            }
        }
        self.last_start = start;
        let turnaround = if self.sigma > 0.0 {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            (bd.turnaround_median_us as f64 * (self.sigma * z).exp()).round() as SimTime
        } else {
            bd.turnaround_median_us
        };
        let expired = bd.expires && turnaround > bd.window_us;
        let end = start + if expired { bd.window_us } else { turnaround };
        // An expired job returns what it finished: the first window / turnaround of its
        // requests (an even pace through the job, in submission order).
        let n = self.open.len();
        let finished = if expired {
            ((n as f64 * bd.window_us as f64 / turnaround as f64).floor() as usize).min(n)
        } else {
            n
        };
        self.running.push(Reverse((end, tokens)));
        self.running_tokens += tokens;
        let first = self.open[0].class;
        stats[first].jobs += 1;
        stats[first].jobs_waited += waited as u64;
        for (i, p) in std::mem::take(&mut self.open).into_iter().enumerate() {
            self.book(p, end, expired, i < finished, stats);
        }
        self.open_tokens = 0;
    }

    /// Books request `p` of a job that ends at `end`; `expired`: the job expired, and
    /// `finished`: `p` was done before it did (or the job did not expire).
    fn book(
        &self,
        p: Pending,
        end: SimTime,
        expired: bool,
        finished: bool,
        stats: &mut [BatchStats],
    ) {
        let s = &mut stats[p.class];
        if end >= self.horizon {
            s.unfinished += 1;
            let k = &self.sc.batch_classes[p.class];
            s.censored += (p.arrived + k.completion_sla_us >= self.horizon) as u64;
            return;
        }
        if !finished {
            s.expired += 1;
            return;
        }
        s.partial += expired as u64;
        let bd = &self.sc.batch_deployments[self.d];
        let k = &self.sc.batch_classes[p.class];
        let hour = end / US_PER_HOUR;
        let cost = (p.input as f64 * bd.input_per_1m + p.output as f64 * bd.output_per_1m) / 1e6;
        s.completed += 1;
        s.met_sla += (end - p.arrived <= k.completion_sla_us) as u64;
        s.input_tokens += p.input as u64;
        s.output_tokens += p.output as u64;
        s.cost_usd += cost;
        let h = &mut s.hourly[hour as usize];
        h.requests += 1;
        h.input_tokens += p.input as u64;
        h.output_tokens += p.output as u64;
        h.cost_usd += cost;
        s.completion.record(end - p.arrived);
        if let Some(a) = k.on_demand_alternative {
            if let Pool::OnDemand(o) = self.sc.deployments[a].pool_at(hour) {
                s.on_demand_usd += o.cost(&Tokens {
                    input: p.input as u64,
                    output: p.output as u64,
                    ..Default::default()
                });
            }
        }
    }
}
