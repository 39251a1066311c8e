//! The validated scenario: the domain types the simulation runs on. Built by
//! `input::scenario` (which checks every value), read by the model, the analyses
//! and the reports. Times are integer microseconds.

use std::collections::BTreeMap;

use crate::domain::options::{FrontierOptions, PlanOptions, SweepSpec};
use crate::domain::time::US_PER_HOUR;
use crate::domain::trace::TraceSource;
use crate::domain::traffic::{ArrivalSpec, Growth, TokenDist};

/// A validated scenario. Times are integer microseconds.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub horizon_hours: u32,
    pub seed: u64,
    pub replications: u32,
    /// 0 = Monday .. 6 = Sunday: the weekday of simulated hour 0.
    pub start_weekday: u8,
    /// The date of simulated hour 0 (00:00 UTC), in days since 1970-01-01:
    /// the calendar of `focus.csv`. Its weekday is `start_weekday`.
    pub start_date: i64,
    pub percentiles: Vec<f64>,
    /// `[report] reference_band` as fractions (low, high).
    pub reference_band: (f64, f64),
    pub client: ClientPolicy,
    pub classes: Vec<Class>,
    pub deployments: Vec<Deployment>,
    /// The `[sweep]` table, checked (its key is checked against the file by `sweep`).
    pub sweep: Option<SweepSpec>,
    /// The `[plan]` table, checked (against the deployments by `plan`).
    pub plan: Option<PlanOptions>,
    /// The `[frontier]` table, checked (against the deployments by `frontier`).
    pub frontier: Option<FrontierOptions>,
    pub gateway: Gateway,
    pub outages: Vec<Outage>,
    /// Batch deployments (`[deployment.batch]`), apart from `deployments`: they take jobs,
    /// not requests, and no route walk reaches them.
    pub batch_deployments: Vec<crate::domain::BatchDeployment>,
    /// Deferrable classes (`deferrable = true`), apart from `classes`: each goes to one batch
    /// deployment.
    pub batch_classes: Vec<crate::domain::BatchClass>,
}

/// The gateway in front of the deployments: a latency hop and a cooldown of
/// failing deployments (`None` = no cooldown), or LiteLLM's router semantics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gateway {
    pub latency_us: u64,
    pub cooldown: Option<Cooldown>,
    /// `router = "litellm"`: model groups, order levels, in-group retries and
    /// LiteLLM's cooldown rules ([`LiteLlm`]); `None` = the route walk.
    pub litellm: Option<LiteLlm>,
    /// `router = "portkey"`: each class walks its Portkey target tree
    /// ([`Class::portkey`]); no cooldown, no route walk.
    pub portkey: bool,
}

/// A class's Portkey config as a tree (`[class.portkey]`, gateway.router = "portkey";
/// docs/model.md section 8.3). `nodes[0]` is the root; nodes are in pre-order, so a
/// strategy's children come after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PortkeyTree {
    pub nodes: Vec<PkNode>,
}

/// One node of a Portkey tree: a strategy over targets, or a target (a deployment).
#[derive(Debug, Clone, PartialEq)]
pub struct PkNode {
    /// The strategy node it is a target of (`None` for the root).
    pub parent: Option<u16>,
    /// Its `weight` as a target of a loadbalance strategy (default 1).
    pub weight: f64,
    pub kind: PkKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PkKind {
    /// A deployment (its position in the class's route), with the retry and the
    /// request timeout it has or inherits from the nearest strategy above that sets them.
    Leaf {
        pos: usize,
        retry: PkRetry,
        timeout_us: Option<u64>,
    },
    Strategy {
        mode: PkMode,
        /// `fallback` only: the statuses that move on to the next target; `None` = any
        /// status but a success.
        fallback_on: Option<Vec<u16>>,
        /// Indices into `PortkeyTree::nodes`, in order.
        children: Vec<u16>,
    },
}

/// Copies node `i` of `tree` and what is below it into `out` (pre-order), with each leaf's
/// route position renumbered by `new_pos` and the leaves whose position goes left out. A
/// strategy left with no target, or a loadbalance one left with weight 0 only (it could draw
/// nothing), goes too. Returns whether node `i` was kept.
fn prune_portkey(
    tree: &PortkeyTree,
    i: usize,
    parent: Option<u16>,
    new_pos: &[Option<usize>],
    out: &mut Vec<PkNode>,
) -> bool {
    let node = &tree.nodes[i];
    match &node.kind {
        PkKind::Leaf { pos, .. } => {
            let Some(np) = new_pos.get(*pos).copied().flatten() else {
                return false;
            };
            let mut n = node.clone();
            n.parent = parent;
            if let PkKind::Leaf { pos, .. } = &mut n.kind {
                *pos = np;
            }
            out.push(n);
            true
        }
        PkKind::Strategy { mode, children, .. } => {
            let me = out.len();
            let mut n = node.clone();
            n.parent = parent;
            out.push(n);
            let mut kept = Vec::with_capacity(children.len());
            for &c in children {
                let at = out.len() as u16;
                if prune_portkey(tree, usize::from(c), Some(me as u16), new_pos, out) {
                    kept.push(at);
                }
            }
            let drawable = *mode != PkMode::Loadbalance
                || kept.iter().any(|&k| out[usize::from(k)].weight > 0.0);
            if kept.is_empty() || !drawable {
                out.truncate(me);
                return false;
            }
            if let PkKind::Strategy { children, .. } = &mut out[me].kind {
                *children = kept;
            }
            true
        }
    }
}

/// Portkey's `strategy.mode` (conditional is resolved by the importer into classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    /// The first (only) target.
    Single,
    /// Targets in order while the status is one to fall back on.
    Fallback,
    /// One target drawn by weight; no fallback.
    Loadbalance,
}

/// Portkey's `retry`: calls to the same target after the first, on these statuses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PkRetry {
    pub attempts: u32,
    pub on_status_codes: Vec<u16>,
    /// `use_retry_after_header`: a 429 with a Retry-After waits that long instead.
    pub use_retry_after: bool,
}

/// LiteLLM's router, as its source applies it (docs/model.md section 8.2).
#[derive(Debug, Clone, PartialEq)]
pub struct LiteLlm {
    pub strategy: Strategy,
    /// Retries of a request within one step (an order level of a model group).
    pub num_retries: u32,
    /// The shortest wait before a retry (`retry_after`).
    pub retry_after_us: u64,
    /// A call whose TTFT would pass this fails with a timeout (408) when it passes.
    pub timeout_us: Option<u64>,
    pub cooldown: LiteCooldown,
    /// Cooldown length unless a deployment sets its own or sends Retry-After.
    pub cooldown_us: u64,
    /// `enable_pre_call_checks`: a deployment at its rpm limit is left out before
    /// the call (no 429, no failure counted) instead of answering 429.
    pub pre_call_checks: bool,
}

/// LiteLLM's `routing_strategy`: how a deployment is picked among the healthy
/// ones of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Random, weighted by `weights`, else rpm, else tpm, else equal.
    SimpleShuffle,
    /// Fewest requests in flight (waiting for their first token).
    LeastBusy,
    /// Lowest tokens used this minute among those within their rpm / tpm.
    UsageBased,
    /// Lowest mean TTFT over its last 10 calls (none yet counts as 0).
    LatencyBased,
    /// Lowest price per token (reserved capacity counts as free).
    CostBased,
}

pub const STRATEGIES: &[&str] = &[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
];

/// When LiteLLM takes a deployment out of rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteCooldown {
    /// The default rule: a 429 when its group has more than one deployment; more
    /// than half of its calls this minute failing (groups of more than one); every
    /// call failing with at least 1,000 this minute.
    Default,
    /// `allowed_fails` (or a policy per error kind): the failure after this many
    /// cools it; the count lapses `cooldown_s` after the last counted failure.
    /// Indexed by [`FailureKind`].
    Count([u32; 3]),
    /// `disable_cooldowns`.
    Off,
}

/// What a failed call was, for the count rule's policy (LiteLLM's
/// `allowed_fails_policy` keys in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A 429 (`RateLimitErrorAllowedFails`).
    RateLimit = 0,
    /// An error of a full outage, a 5xx (`InternalServerErrorAllowedFails`).
    Error = 1,
    /// The call passed `timeout_s` (`TimeoutErrorAllowedFails`).
    Timeout = 2,
}

/// One step of a request through a LiteLLM router: the deployments of one order
/// level of one model group.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Positions in the class's route.
    pub members: Vec<usize>,
    /// The step's model group, numbered in the class's order of first appearance.
    pub group: u32,
    /// Deployments in the step's model group, every level counted.
    pub group_size: u32,
}

/// After `failures` failures (errors or 429s) within `window_us`, a deployment
/// is out of rotation for `duration_us` (LiteLLM's allowed_fails / cooldown_time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cooldown {
    pub failures: u32,
    pub window_us: u64,
    pub duration_us: u64,
}

/// How a class orders its route for each attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    /// The route as written.
    Ordered,
    /// First deployment drawn with these weights (one per route entry), then
    /// the rest in route order.
    Weighted(Vec<f64>),
    /// Reserved first (already paid for), then on-demand by expected price
    /// per request; the route is stored in that order.
    Cheapest,
    /// By expected TTFT with no queueing (base median + prefill of a mean
    /// prompt, at the on-demand pool's mean background load); stored in that order.
    Fastest,
}

impl Class {
    /// Expected arrivals in simulated hour `hour` of a run starting on day
    /// `start_date` (days since 1970-01-01; `Scenario::start_date`).
    pub fn expected_in_hour(&self, hour: u64, start_date: i64) -> f64 {
        match &self.trace {
            Some(t) => t
                .stats
                .expected_per_hour
                .get(hour as usize)
                .copied()
                .unwrap_or(0.0),
            None => self.arrivals.rate_in_hour(hour, start_date) * 3600.0,
        }
    }

    /// Expected arrivals over the first `hours` hours.
    pub fn expected_arrivals(&self, hours: u32, start_date: i64) -> f64 {
        match &self.trace {
            Some(t) => t.stats.expected_per_hour.iter().take(hours as usize).sum(),
            None => self.arrivals.expected_arrivals(hours, start_date),
        }
    }
}

/// An incident on some deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub name: String,
    /// Indices into `Scenario::deployments`.
    pub deployments: Vec<usize>,
    pub schedule: OutageSchedule,
    pub effect: OutageEffect,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutageSchedule {
    /// One window, `[start_us, end_us)`.
    Window { start_us: u64, end_us: u64 },
    /// Up for exponential times with mean `mtbf_us`, down for exponential
    /// times with mean `mttr_us`, from the start of the run.
    Random { mtbf_us: f64, mttr_us: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutageEffect {
    /// Every request is answered with an error.
    Full,
    /// TTFT x `latency_factor`, and a share `error_rate` of requests answered 429.
    Partial {
        latency_factor: f64,
        error_rate: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientPolicy {
    pub max_attempts: u32,
    pub backoff_base_us: u64,
    pub backoff_max_us: u64,
    pub jitter: Jitter,
    pub timeout_us: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Wait a uniform time in [0, backoff] (AWS "full jitter").
    Full,
    /// Wait backoff/2 plus a uniform time in [0, backoff/2].
    Equal,
    None,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub model: String,
    /// Models the route may use besides `model`.
    pub substitutes: Vec<String>,
    pub routing: Routing,
    /// Indices into `Scenario::deployments`, in the order they are tried (from hour 0).
    pub route: Vec<usize>,
    /// `routing = "cheapest"` on deployments whose prices change: the route from an hour on,
    /// sorted again at that hour's prices, for each hour the order changes (sorted by hour,
    /// all after hour 0). Empty otherwise.
    pub route_changes: Vec<(u32, Vec<usize>)>,
    /// Name of the random streams the class draws arrivals and tokens from
    /// (default: the class name). Classes sharing it see identical traffic.
    pub random_stream: String,
    pub tags: BTreeMap<String, String>,
    pub sla: Option<Sla>,
    pub arrivals: ArrivalSpec,
    /// Arrivals and token counts replayed from a trace (then `arrivals` and
    /// the token distributions summarise the trace for reports).
    pub trace: Option<TraceSource>,
    pub input_tokens: TokenDist,
    pub output_tokens: TokenDist,
    /// With `gateway.router = "litellm"`: the route's steps, in the order tried
    /// (each group's order levels, the class's own group first); else empty.
    pub steps: Vec<Step>,
    /// With `gateway.router = "portkey"`: the class's Portkey target tree.
    pub portkey: Option<PortkeyTree>,
    /// Share of each request's input tokens read from the platform's prompt cache (a cached
    /// prefix), 0..=1.
    pub cached_input_share: f64,
    /// Share of each request's input tokens written to the prompt cache (billed at the cache-write
    /// price where a platform prices writes), 0..=1 - `cached_input_share`.
    pub cache_write_share: f64,
    /// The `max_tokens` the class's requests send; `None`: the request's own output. Counted
    /// at admission by the quota shapes that count it, and a response stops at it.
    pub max_tokens: Option<u32>,
}

/// The cached and cache-written parts of `input` tokens at these shares (see
/// [`Class::cache_split`]).
pub fn cache_split(input: u32, cached_share: f64, write_share: f64) -> (u32, u32) {
    if cached_share == 0.0 && write_share == 0.0 {
        return (0, 0);
    }
    let part = |share: f64| (input as f64 * share + 0.5) as u32;
    let cached = part(cached_share).min(input);
    (cached, part(write_share).min(input - cached))
}

/// A request's or a bucket's tokens, split as platforms bill them. `cached` and `cache_write`
/// are parts of `input`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub output: u64,
}

impl std::ops::AddAssign for Tokens {
    fn add_assign(&mut self, o: Tokens) {
        self.input += o.input;
        self.cached += o.cached;
        self.cache_write += o.cache_write;
        self.output += o.output;
    }
}

impl Tokens {
    /// Input tokens neither read from nor written to the cache.
    pub fn uncached(&self) -> u64 {
        self.input.saturating_sub(self.cached + self.cache_write)
    }
}

impl Class {
    /// The route tried in simulated hour `hour`: the order of the last change at or before it.
    pub fn route_at(&self, hour: u64) -> &[usize] {
        self.route_changes
            .iter()
            .rev()
            .find(|(h, _)| u64::from(*h) <= hour)
            .map_or(&self.route, |(_, r)| r)
    }

    /// The route of hour 0 and every later order, to edit them alike.
    pub fn routes_mut(&mut self) -> impl Iterator<Item = &mut Vec<usize>> {
        std::iter::once(&mut self.route).chain(self.route_changes.iter_mut().map(|(_, r)| r))
    }

    /// Keeps the entries of each route (hour 0's and every later order) for which
    /// `keep(route, position)` holds, and with hour 0's route everything that points into it by
    /// position: the weights of weighted routing, the LiteLLM steps (their group sizes counted
    /// again) and the Portkey tree (a strategy left with no target goes too). `plan` and
    /// `frontier` edit routes through this, so a class behind any router stays consistent.
    /// Returns false when hour 0 is left with no way to send a request.
    pub fn retain_route(&mut self, keep: impl Fn(&[usize], usize) -> bool) -> bool {
        let old = self.route.clone();
        // The new position of each old one, or None when it goes.
        let mut new_pos = Vec::with_capacity(old.len());
        let mut next = 0;
        for p in 0..old.len() {
            new_pos.push(keep(&old, p).then(|| {
                next += 1;
                next - 1
            }));
        }
        for (_, r) in &mut self.route_changes {
            let kept: Vec<usize> = (0..r.len()).filter(|&p| keep(r, p)).map(|p| r[p]).collect();
            *r = kept;
        }
        self.route = (0..old.len())
            .filter(|&p| new_pos[p].is_some())
            .map(|p| old[p])
            .collect();
        if let Routing::Weighted(w) = &mut self.routing {
            *w = (0..w.len())
                .filter(|&p| new_pos.get(p).copied().flatten().is_some())
                .map(|p| w[p])
                .collect();
        }
        for s in &mut self.steps {
            s.members = s.members.iter().filter_map(|&p| new_pos[p]).collect();
        }
        self.steps.retain(|s| !s.members.is_empty());
        let sizes: Vec<u32> = (self.steps.iter())
            .map(|s| {
                let group = self.steps.iter().filter(|t| t.group == s.group);
                group.map(|t| t.members.len() as u32).sum()
            })
            .collect();
        for (s, n) in self.steps.iter_mut().zip(sizes) {
            s.group_size = n;
        }
        if let Some(tree) = &self.portkey {
            let mut nodes = Vec::with_capacity(tree.nodes.len());
            let alive = prune_portkey(tree, 0, None, &new_pos, &mut nodes);
            self.portkey = alive.then_some(PortkeyTree { nodes });
            if !alive {
                return false;
            }
        }
        !self.route.is_empty()
    }

    /// The class as seen from hour `hour` on: that hour's route at hour 0, later orders moved
    /// back by `hour` (a month's sample in `plan --ladder`; see [`Deployment::from_hour`]).
    pub fn from_hour(&self, hour: u32) -> Class {
        let mut c = self.clone();
        c.route = self.route_at(u64::from(hour)).to_vec();
        c.route_changes = self
            .route_changes
            .iter()
            .filter(|(h, _)| *h > hour)
            .map(|(h, r)| (h - hour, r.clone()))
            .collect();
        c
    }

    /// The cached and cache-written parts of a request of `input` tokens: each share of the
    /// input, rounded to the nearest token, together at most `input`.
    pub fn cache_split(&self, input: u32) -> (u32, u32) {
        cache_split(input, self.cached_input_share, self.cache_write_share)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sla {
    pub ttft_us: u64,
    /// The percentile that must stay under `ttft_us`, in (0, 100].
    pub percentile: f64,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    /// The catalog offering it was built from, if any.
    pub offering: Option<String>,
    pub platform: String,
    pub model: String,
    pub region: Option<String>,
    pub latency: Latency,
    pub pool: Pool,
    /// LiteLLM's per-deployment `cooldown_time` (router = "litellm").
    pub cooldown_us: Option<u64>,
    /// The Retry-After the platform sends with its 429s, if any.
    pub retry_after_us: Option<u64>,
    /// Later prices, by hour (`[[price_change]]`, or the successor of a retired offering):
    /// sorted by `from_hour`, all after hour 0; `pool` holds the prices of hour 0.
    pub price_changes: Vec<PriceChange>,
}

/// A deployment's prices from an hour on. The pool is the deployment's own with
/// other prices (same kind, units, quotas and throughput).
#[derive(Debug, Clone)]
pub struct PriceChange {
    /// The first simulated hour billed at these prices (the date's 00:00 UTC).
    pub from_hour: u32,
    /// The date, days since 1970-01-01.
    pub date: i64,
    /// What set it: `price_change[2]`, or `retirement of OFFERING: migrate_to OFFERING`.
    pub what: String,
    pub pool: Pool,
}

impl Deployment {
    /// The pool as billed in simulated hour `hour`: the prices of the last change at or
    /// before it. Only prices differ between the pools a deployment holds.
    pub fn pool_at(&self, hour: u64) -> &Pool {
        self.price_changes
            .iter()
            .rev()
            .find(|c| u64::from(c.from_hour) <= hour)
            .map_or(&self.pool, |c| &c.pool)
    }

    /// The hours `[from, to)` of `0..hours` each set of prices holds, in order.
    pub fn price_periods(&self, hours: u32) -> Vec<(u32, u32, &Pool)> {
        let mut starts: Vec<(u32, &Pool)> = vec![(0, &self.pool)];
        starts.extend(
            self.price_changes
                .iter()
                .filter(|c| c.from_hour < hours)
                .map(|c| (c.from_hour, &c.pool)),
        );
        (0..starts.len())
            .map(|i| {
                let to = starts.get(i + 1).map_or(hours, |s| s.0);
                (starts[i].0, to, starts[i].1)
            })
            .filter(|(from, to, _)| from < to)
            .collect()
    }

    /// Sets the units deployed and the reservation of a reserved deployment, in the prices of
    /// hour 0 and in every later change (they hold the same pool at other prices).
    pub fn set_units(&mut self, units: u32, reserved_units: u32) {
        let pools = std::iter::once(&mut self.pool)
            .chain(self.price_changes.iter_mut().map(|c| &mut c.pool));
        for pool in pools {
            if let Pool::Reserved(r) = pool {
                r.units = units;
                r.reserved_units = reserved_units;
            }
        }
    }

    /// Sets the rate and term of this on-demand deployment's token-rate reservation at every
    /// price period (the rate is fixed for the run; prices may change), or takes the
    /// reservation out (`None`: all on demand). What `plan` varies when it sizes one.
    pub fn set_reserved_rate(&mut self, rate: Option<(&crate::domain::RateMeasure, &str)>) {
        let pools = std::iter::once(&mut self.pool)
            .chain(self.price_changes.iter_mut().map(|c| &mut c.pool));
        for pool in pools {
            if let Pool::OnDemand(o) = pool {
                match rate {
                    None => o.reserved_rate = None,
                    Some((measure, term)) => {
                        if let Some(r) = o.reserved_rate.as_mut() {
                            r.measure = measure.clone();
                            r.term = term.to_string();
                        }
                    }
                }
            }
        }
    }

    /// The deployment as seen from hour `hour` on: that hour's prices at hour 0, later
    /// changes moved back by `hour` (a month's sample in `plan --ladder`).
    pub fn from_hour(&self, hour: u32) -> Deployment {
        let mut d = self.clone();
        d.pool = self.pool_at(u64::from(hour)).clone();
        d.price_changes = self
            .price_changes
            .iter()
            .filter(|c| c.from_hour > hour)
            .map(|c| PriceChange {
                from_hour: c.from_hour - hour,
                ..c.clone()
            })
            .collect();
        d
    }
}

/// Time to first token, apart from queueing: a lognormal base (network, gateway,
/// scheduling) plus prefill time proportional to the prompt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub median_ms: f64,
    pub p99_ms: f64,
    pub prefill_ms_per_1k_input: f64,
    /// The on-demand load slowdown stretches the base latency too, not only the prefill
    /// (`load_slows = "all"`, fitted by `llmcap calibrate`; docs/model.md section 6).
    pub load_slows_base: bool,
}

#[derive(Debug, Clone)]
pub enum Pool {
    OnDemand(OnDemand),
    Reserved(Reserved),
}

impl Pool {
    pub fn kind(&self) -> &'static str {
        match self {
            Pool::OnDemand(_) => "on_demand",
            Pool::Reserved(_) => "reserved",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnDemand {
    pub input_per_1m: f64,
    pub output_per_1m: f64,
    /// USD per 1M input tokens read from the prompt cache (default: `input_per_1m`).
    pub cached_input_per_1m: f64,
    /// USD per 1M input tokens written to the prompt cache (default: `input_per_1m`).
    pub cache_write_per_1m: f64,
    pub rpm: Option<f64>,
    pub tpm: Option<f64>,
    /// How the platform enforces `rpm` and `tpm` (and the shape's own limits).
    pub quota: Quota,
    /// Capacity of the shared pool your traffic competes in, tokens per minute.
    pub shared_pool_tpm: f64,
    /// Other tenants' load as a fraction of the pool, by hour of day (mean =
    /// `background_utilization`).
    pub background: [f64; 24],
    pub max_pool_utilization: f64,
    /// A reservation measured in token rate on this deployment (`[deployment.reserved_rate]`):
    /// traffic within it is covered, the rest overflows to these on-demand prices and quotas.
    /// Boxed: most deployments have none, and `Pool`'s variants stay close in size.
    pub reserved_rate: Option<Box<crate::domain::RateReservation>>,
}

/// The shape of an on-demand deployment's quota limiter (`on_demand.quota`), as each vendor
/// documents its enforcement (docs/model.md section 6.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// `rpm` and `tpm` as token buckets refilled continuously per minute, counting actual
    /// input + output tokens (llmcap's default).
    Bucket,
    /// Azure OpenAI standard deployments: `rpm` counted in fixed windows of `rpm_window_s`
    /// seconds (rpm x window / 60 requests each), `tpm` in fixed clock minutes counting
    /// input + `max_tokens` at admission.
    Azure { rpm_window_s: u32 },
    /// Anthropic API: token buckets for `rpm`, input tokens (`itpm`; cache reads counted only
    /// for the models Anthropic marks, `itpm_cache_reads`) and output tokens (`otpm`,
    /// `max_tokens` reserved at admission, settled at the end).
    Anthropic {
        itpm: Option<f64>,
        otpm: Option<f64>,
        itpm_cache_reads: bool,
    },
    /// Amazon Bedrock: token buckets for `rpm` and `tpm`; input + `max_tokens` reserved at
    /// admission, settled at the end to input (less cache reads) + output x `output_burndown`.
    Bedrock { output_burndown: f64 },
    /// Vertex AI standard (per-project) quota: token buckets for `rpm` and `tpm`, the latter
    /// counting input tokens only.
    Vertex,
}

impl Quota {
    /// The scenario's names of the shapes, in [`Quota`] order.
    pub const NAMES: [&'static str; 5] = ["bucket", "azure", "anthropic", "bedrock", "vertex"];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    /// Units deployed: the pool's capacity.
    pub units: u32,
    /// The part of `units` covered by a reservation, billed at the `term` price; the rest
    /// (deployed beyond the reservation) is billed at the `hourly` price (Azure's rule).
    /// Equal to `units` unless the scenario gives `reserved_units`.
    pub reserved_units: u32,
    /// The smallest number of units the vendor sells (Azure global PTUs: 15).
    pub min_units: u32,
    /// Units come in steps of this size above `min_units` (Azure global PTUs: 5).
    pub unit_step: u32,
    /// Input-equivalent tokens per minute per unit.
    pub tpm_per_unit: f64,
    /// One output token costs this many input tokens of capacity.
    pub output_weight: f64,
    /// One input token read from the prompt cache costs this many input tokens of capacity
    /// (Azure PTUs: 0, cached tokens are deducted from utilization; default 1).
    pub cached_input_weight: f64,
    /// Requests one unit serves at once; the pool has `units * concurrency_per_unit` slots.
    pub concurrency_per_unit: u32,
    pub term: String,
    /// Price per unit-hour of every term sold (at least `term`).
    pub price_per_unit_hour: BTreeMap<String, f64>,
    /// Hours each priced term commits to (0 = none: billed by the hour, cancel at any time).
    /// Every key of `price_per_unit_hour` is here.
    pub term_hours: BTreeMap<String, f64>,
    /// Requests allowed to wait for a slot; beyond it they spill (None = no bound).
    pub max_queue: Option<u32>,
    /// Longest wait for a slot before spilling (None = no bound).
    pub max_wait_us: Option<u64>,
}

impl OnDemand {
    /// USD for `t` at this pool's prices.
    pub fn cost(&self, t: &Tokens) -> f64 {
        (t.uncached() as f64 * self.input_per_1m + t.output as f64 * self.output_per_1m) / 1e6
            + self.cached_cost(t)
    }

    /// The part of [`OnDemand::cost`] paid for cached and cache-written input tokens.
    pub fn cached_cost(&self, t: &Tokens) -> f64 {
        (t.cached as f64 * self.cached_input_per_1m
            + t.cache_write as f64 * self.cache_write_per_1m)
            / 1e6
    }

    /// Every price x `k`.
    pub fn scaled(&self, k: f64) -> OnDemand {
        OnDemand {
            input_per_1m: self.input_per_1m * k,
            output_per_1m: self.output_per_1m * k,
            cached_input_per_1m: self.cached_input_per_1m * k,
            cache_write_per_1m: self.cache_write_per_1m * k,
            ..self.clone()
        }
    }
}

/// Processor-sharing slowdown of prefill at pool utilization rho: a job of
/// size x takes x / (1 - rho) in an M/G/1-PS queue (Kleinrock 1976, 4.4).
pub fn prefill_slowdown(rho: f64) -> f64 {
    1.0 / (1.0 - rho)
}

impl Reserved {
    /// Whether `units` is a number of units the vendor sells.
    pub fn purchasable(&self, units: u32) -> bool {
        units >= self.min_units && (units - self.min_units) % self.unit_step == 0
    }
    /// The purchasable numbers of units from `min_units` up to `max`.
    pub fn grid(&self, max: u32) -> Vec<u32> {
        (self.min_units..=max.max(self.min_units))
            .step_by(self.unit_step as usize)
            .collect()
    }
    pub fn slots(&self) -> u32 {
        self.units.saturating_mul(self.concurrency_per_unit)
    }
    /// Price per unit-hour of the chosen term.
    pub fn unit_hour_price(&self) -> f64 {
        self.price_per_unit_hour
            .get(&self.term)
            .copied()
            .unwrap_or(0.0)
    }
    /// Units deployed beyond the reservation, billed at the hourly price.
    pub fn overage_units(&self) -> u32 {
        self.units.saturating_sub(self.reserved_units)
    }
    /// USD per hour for the units deployed beyond the reservation: `overage_units` at the
    /// `hourly` price (validation makes sure it is priced when there are any).
    pub fn overage_hour_cost(&self) -> f64 {
        match self.overage_units() {
            0 => 0.0,
            n => n as f64 * self.price_per_unit_hour.get(HOURLY).copied().unwrap_or(0.0),
        }
    }
    /// USD per hour for the reservation alone: `reserved_units` at the term's price.
    pub fn reservation_hour_cost(&self) -> f64 {
        self.reserved_units as f64 * self.unit_hour_price()
    }
    /// USD per hour for the whole pool: the reservation plus the units beyond it.
    pub fn hour_cost(&self) -> f64 {
        self.hour_cost_on(&self.term)
    }
    /// USD per hour for the whole pool with the reservation bought on `term`: `reserved_units`
    /// at that term's price plus the units beyond the reservation at the hourly price (0 for a
    /// term the pool does not price).
    pub fn hour_cost_on(&self, term: &str) -> f64 {
        let reservation =
            self.reserved_units as f64 * self.price_per_unit_hour.get(term).copied().unwrap_or(0.0);
        match self.overage_units() {
            0 => reservation,
            _ => reservation + self.overage_hour_cost(),
        }
    }
    /// The hours `term` commits to, or None when it commits to nothing (billed by the hour).
    pub fn term_hours(&self, term: &str) -> Option<f64> {
        self.term_hours.get(term).copied().filter(|h| *h > 0.0)
    }
}

/// The terms a scenario may price without saying how long they commit: the keys llmcap
/// always knew, with their hours (a month is 730 h = 8,760 / 12, a year 8,760 h; `hourly`
/// commits to nothing). Any other term is data: the catalog lists each offering's terms with
/// their hours, and a scenario gives `term_hours` for a term of its own.
/// The no-commitment term: units deployed beyond a reservation are billed at its price.
pub const HOURLY: &str = "hourly";

/// Platforms whose reservations are bought apart from deployments, so a deployment may hold
/// more units than its reservation covers (`reserved_units` below `units`). Azure: "If the
/// provisioned deployments exceed the reserved amount, the excess is billed at the hourly rate"
/// (Microsoft Learn, "Provisioned throughput unit (PTU) costs and billing"). Bedrock and Vertex
/// bill their commitment on the units bought; `custom` is not checked.
pub const RESERVATION_SPLIT_PLATFORMS: &[&str] = &["azure-openai", "custom"];

pub const KNOWN_TERMS: &[(&str, f64)] = &[
    ("hourly", 0.0),
    ("monthly", 730.0),
    ("yearly", 8760.0),
    ("1-month", 730.0),
    ("6-month", 4380.0),
];

/// The hours a known term (one of [`KNOWN_TERMS`]) commits to.
pub fn known_term_hours(term: &str) -> Option<f64> {
    KNOWN_TERMS
        .iter()
        .find(|(t, _)| *t == term)
        .map(|(_, h)| *h)
}

pub const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
pub const DEFAULT_PERCENTILES: &[f64] = &[50.0, 90.0, 95.0, 99.0, 99.9];

/// The utilization band break-even results are compared with when a scenario
/// sets no `[report] reference_band`: 40–60%, the range commonly quoted for
/// when reserved LLM capacity pays off (docs/breakeven.md says where it comes
/// from). A reference for the reader, never an input to any result.
pub const DEFAULT_REFERENCE_BAND: (f64, f64) = (0.40, 0.60);

impl Scenario {
    /// Things that are valid but probably not what the author meant, each
    /// naming its key.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for (i, c) in self.classes.iter().enumerate() {
            let a = &c.arrivals;
            let flat = a.weekday.iter().all(|f| (f - 1.0).abs() < 1e-12);
            let key = if a.hour_of_week.is_some() {
                "hour_of_week"
            } else {
                "weekday"
            };
            if !flat && self.horizon_hours % 168 != 0 {
                // The weekday pattern's own effect: growth and seasonality
                // move the mean on purpose and are reported on their own.
                let weekly_only = ArrivalSpec {
                    growth: Growth::None,
                    seasonality: [1.0; 12],
                    ..a.clone()
                };
                let mean = weekly_only.expected_arrivals(self.horizon_hours, self.start_date)
                    / (self.horizon_hours as f64 * 3600.0);
                // Half a percent is below what a planner would act on.
                if (mean / a.mean_rps - 1.0).abs() > 0.005 {
                    w.push(format!(
                        "class[{i}].arrivals.{key}: the factors average to 1 over whole weeks, but the horizon is {} h, so this run's mean rate is {mean:.3} req/s rather than mean_rps = {} (before any growth or seasonality)",
                        self.horizon_hours, a.mean_rps
                    ));
                }
            }
            if let (TokenDist::Fixed(inp), TokenDist::Fixed(out)) =
                (&c.input_tokens, &c.output_tokens)
            {
                for &d in &c.route {
                    if let Pool::OnDemand(o) = &self.deployments[d].pool {
                        if o.tpm.is_some_and(|t| (*inp as f64 + *out as f64) > t) {
                            w.push(format!(
                                "class[{i}]: each request needs {} tokens, more than deployment \"{}\"'s tpm quota, so it always answers 429",
                                inp + out,
                                self.deployments[d].name
                            ));
                        }
                    }
                }
            }
        }
        w
    }

    /// Groups of classes that share a random stream: the same traffic under
    /// alternative set-ups, so totals over all classes add alternatives up.
    pub fn alternatives(&self) -> Vec<Vec<&str>> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for c in &self.classes {
            match groups.iter_mut().find(|(s, _)| *s == c.random_stream) {
                Some((_, names)) => names.push(&c.name),
                None => groups.push((&c.random_stream, vec![&c.name])),
            }
        }
        groups
            .into_iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(_, names)| names)
            .collect()
    }

    pub fn horizon_us(&self) -> u64 {
        self.horizon_hours as u64 * US_PER_HOUR
    }
}
