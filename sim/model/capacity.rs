//! Capacity: reserved pools (dedicated units with a FIFO queue) and shared
//! on-demand pools (account quotas, load-dependent latency).
//!
//! A reserved pool is a FIFO multi-server queue with `slots` servers. A request
//! holds a slot for weighted_tokens / slot_rate, where slot_rate is the pool's
//! throughput (units x tokens per minute per unit) divided by the slots, so a
//! busy pool serves exactly its rated throughput. Service times are known at
//! admission, so the wait of each request follows from the earliest time a slot
//! frees up (Kiefer-Wolfowitz workload recursion for FIFO G/G/c): no completion
//! event is needed, and the event set stays small.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::model::engine::{SimTime, US_PER_HOUR, US_PER_MIN};
use rand_distr::{Distribution, Exp1};

use crate::domain::limits::MAX_TRACKED_QUEUE;
use crate::domain::{
    Deployment, OnDemand, OutageEffect, OutageSchedule, Pool, RateMeasure, Reserved, Scenario,
    Tokens,
};
use crate::model::limiter::{Ask, Limiter, Settle, Throttle};
use crate::model::rng::{key_of, stream, Purpose};

/// A request admitted by a reserved pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub start: SimTime,
    pub end: SimTime,
    /// Requests admitted earlier and still waiting for a slot when this one
    /// arrived; exact below `MAX_TRACKED_QUEUE`, a lower bound at it.
    pub queue_ahead: u32,
}

impl Admission {
    pub fn wait(&self, now: SimTime) -> SimTime {
        self.start - now
    }
}

pub struct ReservedPool {
    /// Time each slot becomes free (min-heap).
    free_at: BinaryHeap<Reverse<SimTime>>,
    /// Start times of admitted requests not yet started, in FIFO (= start) order.
    waiting: VecDeque<SimTime>,
    us_per_weighted_token: f64,
    output_weight: f64,
    cached_input_weight: f64,
    max_queue: Option<u32>,
    max_wait_us: Option<u64>,
}

impl ReservedPool {
    pub fn new(r: &Reserved) -> Self {
        let slots = r.slots() as usize;
        let slot_tokens_per_us = r.units as f64 * r.tpm_per_unit / slots as f64 / US_PER_MIN as f64;
        ReservedPool {
            free_at: std::iter::repeat_n(Reverse(0), slots).collect(),
            waiting: VecDeque::new(),
            us_per_weighted_token: 1.0 / slot_tokens_per_us,
            output_weight: r.output_weight,
            cached_input_weight: r.cached_input_weight,
            max_queue: r.max_queue,
            max_wait_us: r.max_wait_us,
        }
    }

    /// Capacity a request uses, in input tokens: its `cached` input tokens (part of `input`)
    /// count `cached_input_weight`, its output tokens `output_weight`.
    pub fn weighted_tokens(&self, input: u32, cached: u32, output: u32) -> f64 {
        (input - cached) as f64
            + self.cached_input_weight * cached as f64
            + self.output_weight * output as f64
    }

    /// Admits a request arriving at `now` (calls must come in time order), or
    /// returns None when the queue bound or the wait bound would be exceeded.
    pub fn try_admit(
        &mut self,
        now: SimTime,
        input: u32,
        cached: u32,
        output: u32,
    ) -> Option<Admission> {
        while self.waiting.front().is_some_and(|&s| s <= now) {
            self.waiting.pop_front();
        }
        let Reverse(free) = *self.free_at.peek()?;
        let start = free.max(now);
        let queue_ahead = self.waiting.len() as u32;
        if start > now {
            if self.max_queue.is_some_and(|m| queue_ahead >= m)
                || self.max_wait_us.is_some_and(|m| start - now > m)
            {
                return None;
            }
            if self.waiting.len() < MAX_TRACKED_QUEUE {
                self.waiting.push_back(start);
            }
        }
        let service =
            (self.weighted_tokens(input, cached, output) * self.us_per_weighted_token + 0.5) as u64;
        // `as` saturates, and so does the addition: an absurdly slow pool stays
        // busy "forever" instead of wrapping around.
        let end = start.saturating_add(service.max(1));
        self.free_at.pop();
        self.free_at.push(Reverse(end));
        Some(Admission {
            start,
            end,
            queue_ahead,
        })
    }
}

/// A token-rate reservation's use within the current calendar minute (minute k covers
/// `[k, k + 1)` minutes from hour 0): a request is covered when it fits in what is left of the
/// minute's reservation, and then takes its share; else it overflows whole to the on-demand
/// tier (docs/model.md section 10.3).
#[derive(Debug, Clone)]
pub struct RateWindow {
    measure: RateMeasure,
    minute: u64,
    /// Used this minute: input and output tokens, or USD of list-price usage (and 0).
    used: (f64, f64),
    /// List prices of a spend reservation from each time on (the deployment's price periods),
    /// to value a request at the prices of the hour it is served in.
    prices: Vec<(SimTime, OnDemand)>,
}

impl RateWindow {
    /// Deployment `d`'s reservation, if it has one, over a run of `hours` hours.
    pub fn of(d: &Deployment, hours: u32) -> Option<RateWindow> {
        let Pool::OnDemand(o) = &d.pool else {
            return None;
        };
        let r = o.reserved_rate.as_ref()?;
        let prices = d
            .price_periods(hours.max(1))
            .into_iter()
            .filter_map(|(from, _, p)| match p {
                Pool::OnDemand(o) => Some((u64::from(from) * US_PER_HOUR, o.clone())),
                Pool::Reserved(_) => None,
            })
            .collect();
        Some(RateWindow {
            measure: r.measure.clone(),
            minute: 0,
            used: (0.0, 0.0),
            prices,
        })
    }

    /// Whether the reservation covers a request served at `now` with tokens `t` (and, if so,
    /// takes its share of the minute). Calls come in time order.
    pub fn cover(&mut self, now: SimTime, t: &Tokens) -> bool {
        let m = now / US_PER_MIN;
        if m != self.minute {
            self.minute = m;
            self.used = (0.0, 0.0);
        }
        let need = match self.measure {
            // Input counts what Bedrock counts against input TPM: input tokens not read from the
            // prompt cache (InputTokenCount + CacheWriteInputTokens).
            RateMeasure::Tokens { .. } => ((t.input - t.cached) as f64, t.output as f64),
            RateMeasure::Spend { .. } => {
                let at = self.prices.partition_point(|(from, _)| *from <= now);
                let o = &self.prices[at.saturating_sub(1)].1;
                (o.cost(t), 0.0)
            }
        };
        let cap = match self.measure {
            RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            } => (input_tpm, output_tpm),
            RateMeasure::Spend { usd_per_minute } => (usd_per_minute, 0.0),
        };
        // A relative slack of 1e-12 keeps sums of list prices that equal the reservation
        // exactly (in decimal) covered despite binary rounding.
        let fits = |used: f64, need: f64, cap: f64| used + need <= cap * (1.0 + 1e-12);
        if fits(self.used.0, need.0, cap.0) && fits(self.used.1, need.1, cap.1) {
            self.used.0 += need.0;
            self.used.1 += need.1;
            true
        } else {
            false
        }
    }
}

pub struct OnDemandPool {
    quota: Limiter,
    shared_pool_tpm: f64,
    background: [f64; 24],
    max_util: f64,
    minute: u64,
    tokens_this_minute: u64,
    tokens_last_minute: u64,
}

impl OnDemandPool {
    pub fn new(o: &OnDemand) -> Self {
        OnDemandPool {
            quota: Limiter::new(o.quota, o.rpm, o.tpm),
            shared_pool_tpm: o.shared_pool_tpm,
            background: o.background,
            max_util: o.max_pool_utilization,
            minute: 0,
            tokens_this_minute: 0,
            tokens_last_minute: 0,
        }
    }

    /// Checks the account quotas and, if they allow it, admits the request (see
    /// [`Limiter::try_admit`]: on admission, the settlement due when the request ends).
    pub fn try_admit(&mut self, now: SimTime, a: &Ask) -> Result<Option<Settle>, Throttle> {
        let settle = self.quota.try_admit(now, a)?;
        self.roll_minute(now);
        self.tokens_this_minute += a.input as u64 + a.output as u64;
        Ok(settle)
    }

    /// Settles the quota charge of a request admitted with `s` when it ends, at `end`.
    pub fn settle(&mut self, end: SimTime, s: Settle) {
        self.quota.settle(end, s);
    }

    fn roll_minute(&mut self, now: SimTime) {
        let m = now / US_PER_MIN;
        if m != self.minute {
            self.tokens_last_minute = if m == self.minute + 1 {
                self.tokens_this_minute
            } else {
                0
            };
            self.tokens_this_minute = 0;
            self.minute = m;
        }
    }

    /// Utilization of the shared pool at `now`: other tenants' load for the hour
    /// of day plus your tokens of the last complete minute, capped.
    pub fn utilization(&mut self, now: SimTime) -> f64 {
        self.roll_minute(now);
        let hod = ((now / US_PER_HOUR) % 24) as usize;
        let yours = self.tokens_last_minute as f64 / self.shared_pool_tpm;
        (self.background[hod] + yours).min(self.max_util)
    }

    /// Prefill slowdown at pool utilization rho ([`crate::domain::prefill_slowdown`]).
    pub fn slowdown(rho: f64) -> f64 {
        crate::domain::prefill_slowdown(rho)
    }
}

/// One outage window on one deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutageWindow {
    pub start: SimTime,
    pub end: SimTime,
    pub effect: OutageEffect,
}

/// The outage windows of replication `rep`, per deployment, sorted by start.
/// Scheduled windows are the same in every replication; random ones alternate
/// exponential up times (mean MTBF) and down times (mean MTTR) from the start
/// of the run, drawn from the outage's own stream (keyed by its name), so
/// they do not change when other outages or the traffic change.
pub fn outage_windows(sc: &Scenario, rep: u32) -> Vec<Vec<OutageWindow>> {
    let horizon = sc.horizon_us();
    let mut out: Vec<Vec<OutageWindow>> = vec![Vec::new(); sc.deployments.len()];
    for o in &sc.outages {
        let mut spans = Vec::new();
        match o.schedule {
            OutageSchedule::Window { start_us, end_us } => {
                if end_us > start_us && start_us < horizon {
                    spans.push((start_us, end_us.min(horizon)));
                }
            }
            OutageSchedule::Random { mtbf_us, mttr_us } => {
                let mut rng = stream(sc.seed, rep, Purpose::Outages, key_of(&o.name));
                let mut t = 0.0;
                loop {
                    let up: f64 = Exp1.sample(&mut rng);
                    t += up * mtbf_us;
                    if t >= horizon as f64 {
                        break;
                    }
                    let down: f64 = Exp1.sample(&mut rng);
                    let end = (t + down * mttr_us).min(horizon as f64);
                    spans.push((t as SimTime, end as SimTime));
                    t = end;
                }
            }
        }
        for &d in &o.deployments {
            for &(start, end) in &spans {
                out[d].push(OutageWindow {
                    start,
                    end,
                    effect: o.effect,
                });
            }
        }
    }
    for w in &mut out {
        w.sort_by_key(|x| (x.start, x.end));
    }
    out
}

/// One deployment's outage windows as disjoint segments, so the effect at a
/// time is one binary search (O(log n)) instead of a scan from the first window
/// (which made runs with frequent random outages quadratic in the horizon).
/// Where windows overlap the effect is the one the scan gave: a full outage
/// wins, else the active partial window that sorts last (by start, end, then
/// scenario order).
#[derive(Debug, Clone, Default)]
pub struct OutageTimeline {
    /// Segment starts, increasing, each with the effect until the next start.
    segments: Vec<(SimTime, Option<OutageEffect>)>,
    /// Where the last query landed: the simulation asks at times that move
    /// forward a little at a time, so the next answer is usually here.
    hint: std::cell::Cell<usize>,
}

impl PartialEq for OutageTimeline {
    fn eq(&self, other: &Self) -> bool {
        self.segments == other.segments
    }
}

/// `v.partition_point(|x| key(x) <= t)` for `v` sorted by `key`, trying the
/// positions at and next to `hint` first: O(1) for a query near the last one
/// (a binary search over a year of frequent outages misses the cache on
/// every step), O(log n) otherwise. Returns the same index either way.
pub fn partition_near<T>(v: &[T], hint: usize, t: SimTime, key: impl Fn(&T) -> SimTime) -> usize {
    let is_answer = |p: usize| (p == 0 || key(&v[p - 1]) <= t) && (p == v.len() || key(&v[p]) > t);
    let h = hint.min(v.len());
    for p in [h, h + 1, h.wrapping_sub(1)] {
        if p <= v.len() && is_answer(p) {
            return p;
        }
    }
    v.partition_point(|x| key(x) <= t)
}

impl OutageTimeline {
    /// From windows sorted as `outage_windows` returns them.
    pub fn new(windows: &[OutageWindow]) -> Self {
        // Boundaries: (time, opens?, window index); closings first at a tie,
        // since a window covers [start, end).
        let mut edges: Vec<(SimTime, bool, usize)> = Vec::with_capacity(2 * windows.len());
        for (i, w) in windows.iter().enumerate() {
            if w.end > w.start {
                edges.push((w.start, true, i));
                edges.push((w.end, false, i));
            }
        }
        edges.sort_unstable();
        let mut full = 0usize;
        let mut partial = std::collections::BTreeSet::new();
        let mut segments: Vec<(SimTime, Option<OutageEffect>)> = Vec::new();
        let mut k = 0;
        while k < edges.len() {
            let t = edges[k].0;
            while k < edges.len() && edges[k].0 == t {
                let (_, opens, i) = edges[k];
                match (windows[i].effect, opens) {
                    (OutageEffect::Full, true) => full += 1,
                    (OutageEffect::Full, false) => full -= 1,
                    (_, true) => {
                        partial.insert(i);
                    }
                    (_, false) => {
                        partial.remove(&i);
                    }
                }
                k += 1;
            }
            let effect = if full > 0 {
                Some(OutageEffect::Full)
            } else {
                partial.last().map(|&i| windows[i].effect)
            };
            match segments.last_mut() {
                Some(last) if last.1 == effect => {}
                Some(last) if last.0 == t => last.1 = effect,
                _ => segments.push((t, effect)),
            }
        }
        OutageTimeline {
            segments,
            hint: Default::default(),
        }
    }

    /// The outage effect at `now`, if any.
    #[inline]
    pub fn at(&self, now: SimTime) -> Option<OutageEffect> {
        // Most deployments never have an outage: answer them without a search.
        if self.segments.is_empty() {
            return None;
        }
        let i = partition_near(&self.segments, self.hint.get(), now, |s| s.0);
        self.hint.set(i);
        i.checked_sub(1).and_then(|i| self.segments[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The scan the timeline replaces: the reference for its answers.
    fn scan(windows: &[OutageWindow], now: SimTime) -> Option<OutageEffect> {
        let mut found = None;
        for w in windows {
            if w.start > now {
                break;
            }
            if now < w.end {
                match w.effect {
                    OutageEffect::Full => return Some(OutageEffect::Full),
                    e => found = Some(e),
                }
            }
        }
        found
    }

    #[test]
    fn partition_near_agrees_with_partition_point_from_any_hint() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        for _ in 0..500 {
            let n = rng.random_range(0..20);
            let mut v: Vec<SimTime> = (0..n).map(|_| rng.random_range(0..50)).collect();
            v.sort_unstable();
            let mut hint = 0;
            for _ in 0..20 {
                let t = rng.random_range(0..60);
                let want = v.partition_point(|&x| x <= t);
                // The last answer (as the simulation uses it) and any other hint.
                for h in [hint, rng.random_range(0..n + 3)] {
                    assert_eq!(
                        partition_near(&v, h, t, |&x| x),
                        want,
                        "{v:?} t {t} hint {h}"
                    );
                }
                hint = want;
            }
        }
    }

    #[test]
    fn outage_timeline_answers_as_the_scan_did() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        for _ in 0..300 {
            let n = rng.random_range(0..12);
            let mut windows: Vec<OutageWindow> = (0..n)
                .map(|_| {
                    let start = rng.random_range(0..100);
                    OutageWindow {
                        start,
                        end: start + rng.random_range(0..30),
                        effect: match rng.random_range(0..3) {
                            0 => OutageEffect::Full,
                            f => OutageEffect::Partial {
                                latency_factor: f as f64 + rng.random_range(0..3) as f64,
                                error_rate: 0.1,
                            },
                        },
                    }
                })
                .collect();
            windows.sort_by_key(|x| (x.start, x.end));
            let timeline = OutageTimeline::new(&windows);
            for now in 0..140 {
                assert_eq!(
                    timeline.at(now),
                    scan(&windows, now),
                    "{windows:?} at {now}"
                );
            }
        }
    }

    fn reserved(units: u32, tpm: f64, max_queue: Option<u32>) -> Reserved {
        Reserved {
            units,
            reserved_units: units,
            min_units: 1,
            unit_step: 1,
            tpm_per_unit: tpm,
            output_weight: 3.0,
            cached_input_weight: 1.0,
            concurrency_per_unit: 1,
            term: "hourly".into(),
            price_per_unit_hour: BTreeMap::from([("hourly".to_string(), 1.0)]),
            term_hours: BTreeMap::from([("hourly".to_string(), 0.0)]),
            max_queue,
            max_wait_us: None,
        }
    }

    #[test]
    fn service_time_follows_throughput() {
        // 1 unit of 60,000 weighted tokens/min = 1 token per ms.
        let mut p = ReservedPool::new(&reserved(1, 60_000.0, None));
        let a = p.try_admit(0, 700, 0, 100).unwrap();
        assert_eq!(
            (a.start, a.end),
            (0, 1_000_000),
            "700 + 3 x 100 tokens = 1 s"
        );
        let b = p.try_admit(500_000, 1000, 0, 0).unwrap();
        assert_eq!((b.start, b.end, b.queue_ahead), (1_000_000, 2_000_000, 0));
        let c = p.try_admit(600_000, 1000, 0, 0).unwrap();
        assert_eq!((c.start, c.queue_ahead), (2_000_000, 1));
    }

    #[test]
    fn cached_input_counts_its_weight() {
        // Azure PTUs deduct cached tokens from utilization (weight 0): 1,000 input tokens of
        // which 600 cached, plus 100 output x 3, use 400 + 300 = 700 tokens = 0.7 s of 1 token/ms.
        let mut r = reserved(1, 60_000.0, None);
        r.cached_input_weight = 0.0;
        let mut p = ReservedPool::new(&r);
        assert_eq!(p.try_admit(0, 1000, 600, 100).unwrap().end, 700_000);
        // Weight 1 (the default): cached tokens use capacity like any input token.
        let mut p = ReservedPool::new(&reserved(1, 60_000.0, None));
        assert_eq!(p.try_admit(0, 1000, 600, 100).unwrap().end, 1_300_000);
    }

    #[test]
    fn queue_bound_rejects() {
        let mut p = ReservedPool::new(&reserved(1, 60_000.0, Some(0)));
        assert!(p.try_admit(0, 1000, 0, 0).is_some());
        assert!(p.try_admit(10, 1000, 0, 0).is_none(), "no waiting allowed");
        assert!(
            p.try_admit(1_000_000, 1000, 0, 0).is_some(),
            "slot free again"
        );
    }

    #[test]
    fn two_slots_serve_in_parallel() {
        let mut p = ReservedPool::new(&reserved(2, 60_000.0, None));
        let a = p.try_admit(0, 1000, 0, 0).unwrap();
        let b = p.try_admit(0, 1000, 0, 0).unwrap();
        assert_eq!((a.start, b.start), (0, 0));
        assert_eq!(p.try_admit(0, 1000, 0, 0).unwrap().start, a.end);
    }

    #[test]
    fn token_bucket_throttles_and_refills() {
        let mut b = Limiter::new(crate::domain::Quota::Bucket, Some(60.0), None);
        let a = Ask {
            input: 1,
            cached: 0,
            output: 0,
            max_tokens: 0,
        };
        for _ in 0..60 {
            assert!(b.try_admit(0, &a).is_ok());
        }
        assert_eq!(b.try_admit(0, &a), Err(Throttle::Rpm));
        assert!(
            b.try_admit(1_000_000, &a).is_ok(),
            "one request per second refills"
        );
    }
}
