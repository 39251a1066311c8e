//! Planning a token-rate reservation (`[deployment.reserved_rate]`): how much input and output
//! rate (or spend per minute) to reserve, on which term, for one deployment, against no
//! reservation at all (docs/model.md section 12.4.3).
//!
//! A reservation does not make a request faster than the deployment's own latency, but what
//! overflows meets the on-demand quotas and the shared pool's load, so the SLA can depend on the
//! size; the bill is the commitment (paid whether used or not) plus the overflow at list price.
//! Every size tried is simulated exactly (the same traffic for all: common random numbers) and
//! priced under every term the reservation prices (the term changes the price, not what is
//! covered).
//!
//! The search is small and explainable. Sizes are the vendor's: `min_*_tpm` plus whole
//! `*_tpm_step`s per side (coarser multiples of the step when it is finer than 1/[`RESOLUTION`]
//! of the busiest hour's rate), or a spend rate in round steps of about 1/[`RESOLUTION`] of the
//! busiest hour's list value per minute. It starts from the traffic itself: the deployment's
//! rate with no reservation at the quietest hour, the 25th, 50th, 75th and 90th percentile
//! hours and the busiest hour (both sides at the same percentile, so the two budgets stay
//! balanced), and keeps the best (meets the SLA, then cheapest; when none meets it, the nearest
//! to it, then cheapest: a larger reservation covers more, so less overflow meets the on-demand
//! quotas and the shared pool). From there, a pattern search:
//! one jump up and down on each side and on both together; it moves to a better neighbour, or
//! halves the jump when none is better, until the jump is one step and no neighbour is better.
//! Moving both sides together matters: a request is covered only if both its input and its
//! output fit, so adding to one side alone may cover nothing more. Nothing caps a size from
//! above (vendors sell in steps, without a published maximum), so while every size misses the
//! SLA the search walks up toward it (doubling the jump after each such move), until a size meets it (then down to the cheapest that
//! does) or more reservation brings it no nearer ([`SHORTFALL_GRAIN`]). The search stops after
//! [`MAX_SIZES`] sizes, which the report says.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use rayon::prelude::*;

use crate::analysis::cost::{deployment_totals, rate_commitment_cost_on, rate_utilization};
use crate::analysis::sweep::{PointSummary, RepOutcome};
use crate::domain::{Pool, RateMeasure, RateReservation, RateSteps, Scenario, Sla, SlaTarget};
use crate::error::{InputError, ValueError};
use crate::model::metrics::{Hist, MeanCi, RepMetrics};

/// Sizes across the busiest hour's rate the search may distinguish: steps finer than 1/200 of
/// it are searched in multiples (a 1-TPM step over a 60,000-TPM deployment would otherwise take
/// thousands of sizes to cross).
pub const RESOLUTION: f64 = 200.0;

/// Most reservation sizes one plan simulates (over all terms), besides no reservation.
pub const MAX_SIZES: usize = 80;

/// Shortfalls from the SLA closer than this (a hundredth of a percentage point of attainment)
/// are ties, which cost breaks: among sizes that all miss, a larger reservation is worth its
/// price only when it brings the SLA measurably nearer, not for simulation noise.
pub const SHORTFALL_GRAIN: f64 = 1e-4;

/// The percentiles of the hourly rate the search starts from (0 = quietest hour, 100 =
/// busiest).
pub const START_PERCENTILES: [f64; 6] = [0.0, 25.0, 50.0, 75.0, 90.0, 100.0];

/// What `plan` sizes when the deployment it plans has a token-rate reservation.
#[derive(Debug, Clone)]
pub struct RateSpec {
    pub sla: Option<SlaTarget>,
    /// The deployment with the reservation.
    pub deployment: usize,
    /// The terms priced (each simulated size under each).
    pub terms: Vec<String>,
}

/// The deployments with a token-rate reservation.
pub fn rate_deployments(sc: &Scenario) -> Vec<usize> {
    (0..sc.deployments.len())
        .filter(|&d| reservation(sc, d).is_some())
        .collect()
}

fn reservation(sc: &Scenario, d: usize) -> Option<&RateReservation> {
    match &sc.deployments[d].pool {
        Pool::OnDemand(o) => o.reserved_rate.as_deref(),
        Pool::Reserved(_) => None,
    }
}

/// The rate plan `plan` runs, or None when it plans reserved units instead: Some when the
/// deployment named (flag or `[plan] deployment`) has a token-rate reservation, or none is named
/// and the scenario's only reservation of either kind is a token-rate one. Errors name `file`
/// and `plan.deployment`, `plan.terms` or `plan.max_units` (the caller names a flag instead when
/// the value came from the command line).
pub fn spec(
    sc: &Scenario,
    file: &Path,
    sla: Option<SlaTarget>,
    deployment: Option<&str>,
    terms: Option<&[String]>,
    max_units: Option<u32>,
) -> Result<Option<RateSpec>, InputError> {
    let rated = rate_deployments(sc);
    let names = |ds: &[usize]| {
        ds.iter()
            .map(|&d| format!("\"{}\"", sc.deployments[d].name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let d = match deployment {
        Some(name) => match rated.iter().find(|&&d| sc.deployments[d].name == name) {
            Some(&d) => d,
            None => return Ok(None),
        },
        None if rated.is_empty() => return Ok(None),
        None => {
            let units: Vec<usize> = (0..sc.deployments.len())
                .filter(|&d| matches!(sc.deployments[d].pool, Pool::Reserved(_)))
                .collect();
            if rated.len() > 1 || !units.is_empty() {
                let mut what = format!("token-rate reservations: {}", names(&rated));
                if !units.is_empty() {
                    what += &format!("; reserved units: {}", names(&units));
                }
                return Err(ValueError::from(format!(
                    "the scenario has more than one reservation to size ({what}): name the deployment plan sizes ([plan] deployment or --deployment); the others are billed as written"
                ))
                .at(file, "plan.deployment"));
            }
            rated[0]
        }
    };
    let r = reservation(sc, d).expect("a rate deployment");
    if let Some(m) = max_units {
        return Err(ValueError::from(format!(
            "applies to reserved units; deployment \"{}\" has a token-rate reservation, which plan sizes in the vendor's steps (min_*_tpm, *_tpm_step), not in units: leave max_units out (got {m})",
            sc.deployments[d].name
        ))
        .at(file, "plan.max_units"));
    }
    let priced: Vec<String> = r.unit_prices.keys().cloned().collect();
    let terms = match terms {
        None => priced,
        Some([]) => {
            return Err(ValueError::new("must list at least one term").at(file, "plan.terms"))
        }
        Some(t) => {
            if let Some(bad) = t.iter().find(|t| !r.unit_prices.contains_key(*t)) {
                return Err(ValueError::from(format!(
                    "\"{bad}\" is not a term deployment \"{}\"'s token-rate reservation prices (it prices: {})",
                    sc.deployments[d].name,
                    priced.join(", ")
                ))
                .at(file, "plan.terms"));
            }
            t.to_vec()
        }
    };
    Ok(Some(RateSpec {
        sla,
        deployment: d,
        terms,
    }))
}

/// A reservation size, as indices into the sizes the search uses: `None` is no reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Size {
    None,
    /// Input and output size indices (see [`Grid::measure`]).
    Tokens(u64, u64),
    /// Spend size index.
    Spend(u64),
}

/// The sizes the search uses for one reservation.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Grid {
    /// "tokens" or "spend".
    pub measure: &'static str,
    pub min_input_tpm: f64,
    /// Input TPM between two sizes (a multiple of the vendor's step).
    pub input_step: f64,
    pub min_output_tpm: f64,
    pub output_step: f64,
    /// Spend: USD per minute between two sizes is `spend_units / 10^spend_decimals` (so sizes
    /// are exact decimals).
    pub spend_units: u64,
    pub spend_decimals: i32,
}

impl Grid {
    pub fn spend_step(&self) -> f64 {
        self.spend_units as f64 / 10f64.powi(self.spend_decimals)
    }

    /// The reservation of a size (None for no reservation).
    pub fn measure(&self, s: Size) -> Option<RateMeasure> {
        match s {
            Size::None => None,
            Size::Tokens(i, o) => Some(RateMeasure::Tokens {
                input_tpm: RateSteps::size(self.min_input_tpm, self.input_step, i),
                output_tpm: RateSteps::size(self.min_output_tpm, self.output_step, o),
            }),
            Size::Spend(k) => Some(RateMeasure::Spend {
                usd_per_minute: ((k + 1) * self.spend_units) as f64
                    / 10f64.powi(self.spend_decimals),
            }),
        }
    }
}

/// The deployment's traffic with no reservation, per hour of the horizon: what the
/// reservation would count (input not read from the cache, output; or the list value), per
/// minute, at percentiles of the hours.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Traffic {
    pub percentiles: Vec<f64>,
    pub input_tpm: Vec<f64>,
    pub output_tpm: Vec<f64>,
    pub usd_per_minute: Vec<f64>,
}

/// The deployment's traffic with no reservation, hour by hour over the horizon (mean over
/// replications), per minute: what the reservation would count (input not read from the cache,
/// output; or the list value). plan.png draws it against the recommended size.
#[derive(Debug, Clone, Default)]
pub struct HourlyRates {
    pub input_tpm: Vec<f64>,
    pub output_tpm: Vec<f64>,
    pub usd_per_minute: Vec<f64>,
}

/// One size simulated: its bill under each term and how much of the reservation was used.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RatePoint {
    #[serde(skip)]
    pub size: Size,
    /// The reservation (null for no reservation).
    pub input_tpm: Option<f64>,
    pub output_tpm: Option<f64>,
    pub usd_per_minute: Option<f64>,
    pub summary: PointSummary,
    /// The scenario's whole bill over the horizon, mean per replication, with the reservation on
    /// each term (no reservation: one entry, "none").
    pub total_usd: BTreeMap<String, MeanCi>,
    /// The reservation's commitment over the horizon on each term.
    pub commitment_usd: BTreeMap<String, f64>,
    /// The planned deployment's overflow (no reservation: all its traffic) at list price, mean
    /// per replication.
    pub overflow_usd: f64,
    /// Requests the reservation covered / requests the deployment served.
    pub covered_share: f64,
    pub utilization_input: Option<f64>,
    pub utilization_output: Option<f64>,
    pub utilization_spend: Option<f64>,
}

impl RatePoint {
    pub fn meets(&self) -> bool {
        self.summary.meets_sla.unwrap_or(true)
    }
    /// The bill on `term` (no reservation: its only bill).
    pub fn cost(&self, term: &str) -> f64 {
        self.total_usd
            .get(term)
            .or_else(|| self.total_usd.values().next())
            .map_or(f64::INFINITY, |c| c.mean)
    }
    /// How far the SLA is missed: the SLA margin's shortfall (target minus attainment of the
    /// class furthest from its target, mean over replications) in units of [`SHORTFALL_GRAIN`];
    /// 0 when the size meets the SLA (or none is set).
    pub fn shortfall(&self) -> f64 {
        if self.meets() {
            return 0.0;
        }
        let m = self.summary.sla_margin.map_or(0.0, |m| m.mean);
        (-m / SHORTFALL_GRAIN).round().max(0.0)
    }
    /// Sorts better first: meets the SLA, then cheaper on `term`; among sizes that miss it,
    /// nearer the SLA first (the smaller shortfall), then cheaper.
    pub fn key(&self, term: &str) -> (bool, f64, f64) {
        (!self.meets(), self.shortfall(), self.cost(term))
    }
}

/// A neighbour of the recommended size one search step away on one side: what it adds to the
/// commitment and what it saves in overflow.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Margin {
    /// "input", "output" or "spend".
    pub side: &'static str,
    /// +1 (one step more) or -1 (one step less).
    pub direction: i32,
    /// The size of that side there (TPM, or USD per minute).
    pub size: f64,
    pub extra_commitment_usd: f64,
    pub overflow_saved_usd: f64,
    pub meets_sla: bool,
}

/// The best size on one term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateCandidate {
    pub term: String,
    #[serde(flatten)]
    pub point: RatePoint,
    /// The whole bill on this term (the scenario's, over the horizon).
    pub bill_usd: f64,
    /// The same bill per month (730 h).
    pub monthly_usd: f64,
    /// What is signed: the commitment per hour x the term's hours (None for a term that
    /// commits to nothing).
    pub term_commitment_usd: Option<f64>,
    pub term_hours: Option<f64>,
    pub margins: Vec<Margin>,
    /// The search stopped at [`MAX_SIZES`] before it converged.
    pub bounded: bool,
}

/// Everything a rate plan found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RatePlan {
    pub kind: &'static str,
    pub deployment: String,
    pub sla: Vec<crate::analysis::plan::ClassSla>,
    pub replications: u32,
    pub horizon_hours: u32,
    pub grid: Grid,
    pub traffic: Traffic,
    /// The traffic of every hour (not in plan.json: plan.md gives its percentiles).
    #[serde(skip)]
    pub hourly: HourlyRates,
    /// The best size on each term, best first (meets the SLA, then cheaper).
    pub candidates: Vec<RateCandidate>,
    /// All on demand.
    pub no_reservation: RatePoint,
    /// Every size simulated, smallest first.
    pub evaluated: Vec<RatePoint>,
    #[serde(skip)]
    pub input_failure: Option<String>,
}

impl RatePlan {
    /// The recommended reservation, when the cheapest configuration meeting the SLA has one.
    pub fn chosen(&self) -> Option<&RateCandidate> {
        self.best().filter(|c| c.point.meets())
    }

    /// The best reservation against no reservation (meets the SLA, then cheaper; among
    /// configurations that all miss it, nearer, then cheaper): None when no reservation is
    /// better, or as good.
    pub fn best(&self) -> Option<&RateCandidate> {
        let best = self.candidates.first()?;
        let none = &self.no_reservation;
        (best.point.key(&best.term) < none.key("none")).then_some(best)
    }

    /// When nothing tried meets the SLA (no size, and not no reservation): the configuration
    /// that comes nearest, with its attainment against the target.
    pub fn shortfall(&self) -> Option<Shortfall> {
        let none = &self.no_reservation;
        if none.meets() || self.candidates.iter().any(|c| c.point.meets()) {
            return None;
        }
        let (p, term, bounded) = match self.best() {
            Some(c) => (&c.point, Some(c.term.clone()), c.bounded),
            None => (none, None, self.candidates.iter().any(|c| c.bounded)),
        };
        let margin = p.summary.sla_margin.map_or(0.0, |m| m.mean);
        // One target for every class (the usual case, and always with --sla): the class
        // furthest from it is the one with the lowest attainment. Otherwise the lowest
        // attainment and the largest shortfall may be two classes': say the shortfall's.
        let shared = self.sla.first().map(|c| c.percentile / 100.0).filter(|t| {
            self.sla
                .iter()
                .all(|c| (c.percentile / 100.0 - t).abs() < 1e-12)
        });
        let (attainment, target) = match shared {
            Some(t) => (t + margin, Some(t)),
            None => (p.summary.sla_attainment.map_or(0.0, |a| a.mean), None),
        };
        Some(Shortfall {
            input_tpm: p.input_tpm,
            output_tpm: p.output_tpm,
            usd_per_minute: p.usd_per_minute,
            term,
            attainment,
            target,
            shortfall: -margin,
            bounded,
        })
    }
}

/// What plan.json says when no size tried meets the SLA: the nearest configuration (the
/// reservation on its term, or no reservation: every size null) and how far it misses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shortfall {
    pub input_tpm: Option<f64>,
    pub output_tpm: Option<f64>,
    pub usd_per_minute: Option<f64>,
    pub term: Option<String>,
    /// SLA attainment there: the share of requests within the TTFT target (the lowest class's).
    pub attainment: f64,
    /// The share the SLA asks (null when the classes' SLAs ask different shares).
    pub target: Option<f64>,
    /// Target minus attainment of the class furthest from its target (mean over replications).
    pub shortfall: f64,
    /// The search stopped at [`MAX_SIZES`]: a nearer size may lie further on.
    pub bounded: bool,
}

/// The scenario of `size` on `term` (the SLA set).
pub fn configure(base: &Scenario, d: usize, grid: &Grid, size: Size, term: &str) -> Scenario {
    let mut sc = base.clone();
    let m = grid.measure(size);
    sc.deployments[d].set_reserved_rate(m.as_ref().map(|m| (m, term)));
    sc
}

/// The scenario of the recommended configuration (the reservation on its term; without one
/// when no reservation is best), for the test that `run` bills it the same.
pub fn chosen_scenario(base: &Scenario, spec: &RateSpec, p: &RatePlan) -> Scenario {
    let sc = with_sla(base, spec.sla);
    match p.chosen() {
        Some(c) => configure(&sc, spec.deployment, &p.grid, c.point.size, &c.term),
        None => configure(&sc, spec.deployment, &p.grid, Size::None, ""),
    }
}

fn with_sla(base: &Scenario, sla: Option<SlaTarget>) -> Scenario {
    let mut sc = base.clone();
    if let Some(t) = sla {
        for c in &mut sc.classes {
            c.sla = Some(Sla {
                ttft_us: (t.ttft_ms * 1000.0).round() as u64,
                percentile: t.percentile,
            });
        }
    }
    sc
}

/// What one replication of one size gives the plan.
struct RepRate {
    outcome: RepOutcome,
    hist: Hist,
    commitment: BTreeMap<String, f64>,
    overflow: f64,
    covered: u64,
    served: u64,
    utilization: (Option<f64>, Option<f64>, Option<f64>),
    /// Per hour: input (uncached + cache writes) and output tokens, list value.
    hourly: Vec<(f64, f64, f64)>,
}

fn digest(sc: &Scenario, d: usize, terms: &[String], m: &RepMetrics) -> RepRate {
    let dep = &sc.deployments[d];
    let hours = m.hours;
    let u = rate_utilization(dep, hours, |h| m.hour_cell(h, d).covered).unwrap_or_default();
    let hourly = (0..hours as usize)
        .map(|h| {
            let t = m.hour_cell(h, d).tokens();
            let value = match dep.pool_at(h as u64) {
                Pool::OnDemand(o) => o.cost(&t),
                Pool::Reserved(_) => 0.0,
            };
            ((t.input - t.cached) as f64, t.output as f64, value)
        })
        .collect();
    RepRate {
        outcome: RepOutcome::of(sc, None, None, m),
        hist: m.overall_ttft(),
        commitment: terms
            .iter()
            .map(|t| (t.clone(), rate_commitment_cost_on(dep, Some(t), hours)))
            .collect(),
        overflow: deployment_totals(sc, m)[d].on_demand,
        covered: m.deployments[d].covered.requests,
        served: m.deployments[d].served,
        utilization: (u.input, u.output, u.spend),
        hourly,
    }
}

/// Every replication of each of `scenarios` in parallel on `threads` threads, digested for
/// deployment `d`'s reservation priced under `terms` (the first is the one simulated).
fn replicate(
    scenarios: &[Scenario],
    d: usize,
    terms: &[String],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Vec<Vec<RepRate>> {
    let jobs: Vec<(usize, u32)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(p, sc)| (0..sc.replications).map(move |r| (p, r)))
        .collect();
    let work = || {
        jobs.par_iter()
            .map(|&(p, r)| {
                let sc = &scenarios[p];
                let m = crate::analysis::run::run_replication(sc, r, progress);
                (p, digest(sc, d, terms, &m))
            })
            .collect::<Vec<_>>()
    };
    let done = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    };
    let mut by_scenario: Vec<Vec<RepRate>> = scenarios.iter().map(|_| Vec::new()).collect();
    for (p, r) in done {
        by_scenario[p].push(r);
    }
    by_scenario
}

/// A reservation of any size simulated: the bill apart from its commitment and the SLA.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MeasuredBill {
    /// The scenario's whole bill minus the reservation's commitment (its overflow at list
    /// price plus every other deployment as written), mean per replication, $.
    pub other_usd: f64,
    /// The SLA met, as `plan` judges it.
    pub meets: bool,
}

/// Simulates `base` (the SLA of `spec` set) with deployment `spec.deployment`'s reservation at
/// each of `measures` (None: taken out) on `term`, in parallel: what `plan --ladder` bills a
/// month at the sizes it holds, which need not be on the search's grid. Also the first
/// scenario-input failure any replication met.
pub fn simulate_measures(
    base: &Scenario,
    spec: &RateSpec,
    term: &str,
    measures: &[Option<RateMeasure>],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> (Vec<MeasuredBill>, Option<String>) {
    let sc = with_sla(base, spec.sla);
    let d = spec.deployment;
    let scenarios: Vec<Scenario> = measures
        .iter()
        .map(|m| {
            let mut s = sc.clone();
            s.deployments[d].set_reserved_rate(m.as_ref().map(|m| (m, term)));
            s
        })
        .collect();
    let terms = [term.to_string()];
    let mut failure = None;
    let bills = replicate(&scenarios, d, &terms, threads, progress)
        .into_iter()
        .map(|reps| {
            let n = reps.len().max(1) as f64;
            let outcomes: Vec<RepOutcome> = reps.iter().map(|r| r.outcome.clone()).collect();
            if failure.is_none() {
                failure = outcomes.iter().find_map(|o| o.input_failure.clone());
            }
            let mut hist = Hist::default();
            for r in &reps {
                hist.merge(&r.hist);
            }
            let summary = PointSummary::of(0.0, &outcomes, &hist, false);
            MeasuredBill {
                other_usd: reps
                    .iter()
                    .map(|r| r.outcome.total_usd() - r.commitment[term])
                    .sum::<f64>()
                    / n,
                meets: summary.meets_sla.unwrap_or(true),
            }
        })
        .collect();
    (bills, failure)
}

/// The searcher: simulated sizes by size, the traffic of no reservation.
struct Search<'a> {
    base: Scenario,
    spec: &'a RateSpec,
    grid: Grid,
    threads: usize,
    progress: Option<&'a AtomicU64>,
    points: BTreeMap<Size, RatePoint>,
    hourly: Vec<(f64, f64, f64)>,
    input_failure: Option<String>,
}

impl Search<'_> {
    /// Simulates the sizes of `sizes` not simulated yet, in parallel.
    fn eval(&mut self, sizes: &[Size]) {
        let mut todo: Vec<Size> = sizes
            .iter()
            .copied()
            .filter(|s| !self.points.contains_key(s))
            .collect();
        todo.sort();
        todo.dedup();
        if todo.is_empty() {
            return;
        }
        let term = self.spec.terms[0].clone();
        let d = self.spec.deployment;
        let scenarios: Vec<Scenario> = todo
            .iter()
            .map(|&s| configure(&self.base, d, &self.grid, s, &term))
            .collect();
        let done = replicate(&scenarios, d, &self.spec.terms, self.threads, self.progress);
        for (size, reps) in todo.into_iter().zip(done) {
            let point = self.point(size, &reps);
            self.points.insert(size, point);
        }
    }

    fn point(&mut self, size: Size, reps: &[RepRate]) -> RatePoint {
        let n = reps.len().max(1) as f64;
        let outcomes: Vec<RepOutcome> = reps.iter().map(|r| r.outcome.clone()).collect();
        if self.input_failure.is_none() {
            self.input_failure = outcomes.iter().find_map(|o| o.input_failure.clone());
        }
        let mut hist = Hist::default();
        for r in reps {
            hist.merge(&r.hist);
        }
        let mean = |f: &dyn Fn(&RepRate) -> f64| reps.iter().map(f).sum::<f64>() / n;
        let summary = PointSummary::of(0.0, &outcomes, &hist, false);
        let simulated_term = &self.spec.terms[0];
        let mut total_usd = BTreeMap::new();
        let mut commitment_usd = BTreeMap::new();
        if size == Size::None {
            let v: Vec<f64> = outcomes.iter().map(|o| o.total_usd()).collect();
            total_usd.insert("none".to_string(), ci(&v));
            self.hourly = (0..reps.first().map_or(0, |r| r.hourly.len()))
                .map(|h| {
                    let s = |f: &dyn Fn(&(f64, f64, f64)) -> f64| {
                        reps.iter().map(|r| f(&r.hourly[h])).sum::<f64>() / n
                    };
                    (s(&|x| x.0), s(&|x| x.1), s(&|x| x.2))
                })
                .collect();
        } else {
            for t in &self.spec.terms {
                // The term changes the commitment only: the bill on t is the simulated bill with
                // the simulated term's commitment swapped for t's.
                let v: Vec<f64> = reps
                    .iter()
                    .map(|r| r.outcome.total_usd() - r.commitment[simulated_term] + r.commitment[t])
                    .collect();
                total_usd.insert(t.clone(), ci(&v));
                commitment_usd.insert(t.clone(), mean(&|r| r.commitment[t]));
            }
        }
        let opt = |f: &dyn Fn(&RepRate) -> Option<f64>| {
            let v: Vec<f64> = reps.iter().filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let measure = self.grid.measure(size);
        let (input_tpm, output_tpm, usd_per_minute) = match measure {
            Some(RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            }) => (Some(input_tpm), Some(output_tpm), None),
            Some(RateMeasure::Spend { usd_per_minute }) => (None, None, Some(usd_per_minute)),
            None => (None, None, None),
        };
        let served = mean(&|r| r.served as f64);
        RatePoint {
            size,
            input_tpm,
            output_tpm,
            usd_per_minute,
            summary,
            total_usd,
            commitment_usd,
            overflow_usd: mean(&|r| r.overflow),
            covered_share: if served > 0.0 {
                mean(&|r| r.covered as f64) / served
            } else {
                0.0
            },
            utilization_input: opt(&|r| r.utilization.0),
            utilization_output: opt(&|r| r.utilization.1),
            utilization_spend: opt(&|r| r.utilization.2),
        }
    }
}

fn ci(v: &[f64]) -> MeanCi {
    MeanCi::within(v, 0.0, f64::INFINITY).unwrap_or(MeanCi {
        mean: 0.0,
        ci95_low: 0.0,
        ci95_high: 0.0,
        n: 0,
    })
}

/// The value at percentile `p` (0-100) of `v` (nearest rank on the sorted values).
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i.min(s.len() - 1)]
}

/// The sizes of a reservation `r` at the resolution of traffic whose busiest hour counts
/// `busiest` (input TPM, output TPM, USD per minute).
fn grid(r: &RateReservation, busiest: (f64, f64, f64)) -> Grid {
    let coarse = |step: f64, top: f64| {
        let m = (top / RESOLUTION / step).floor().max(1.0);
        step * m
    };
    let s = r.steps;
    // A round spend step: 1, 2, 2.5 or 5 x 10^k at or above 1/RESOLUTION of the busiest
    // minute's list value (at least a hundredth of a cent).
    let want = (busiest.2 / RESOLUTION).max(1e-4);
    let mut decimals = -(want.log10().floor() as i32);
    let mut units = 0;
    for (m, scale) in [(10u64, 1), (20, 1), (25, 1), (50, 1), (100, 1)] {
        let v = m as f64 / 10f64.powi(decimals + scale);
        if v >= want * (1.0 - 1e-12) {
            units = m;
            decimals += scale;
            break;
        }
    }
    while units % 10 == 0 && decimals > 0 {
        units /= 10;
        decimals -= 1;
    }
    Grid {
        measure: r.measure.kind(),
        min_input_tpm: s.min_input_tpm,
        input_step: coarse(s.input_tpm_step, busiest.0),
        min_output_tpm: s.min_output_tpm,
        output_step: coarse(s.output_tpm_step, busiest.1),
        spend_units: units.max(1),
        spend_decimals: decimals,
    }
}

/// Runs the rate plan. `progress` counts simulated hours.
pub fn plan(
    base: &Scenario,
    spec: &RateSpec,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> RatePlan {
    let sc = with_sla(base, spec.sla);
    let r = reservation(&sc, spec.deployment)
        .expect("a rate deployment")
        .clone();
    let mut s = Search {
        base: sc.clone(),
        spec,
        grid: grid(&r, (1.0, 1.0, 1.0)),
        threads,
        progress,
        points: BTreeMap::new(),
        hourly: Vec::new(),
        input_failure: None,
    };
    // No reservation first: the baseline, and the traffic the sizes start from.
    s.eval(&[Size::None]);
    let col = |f: fn(&(f64, f64, f64)) -> f64| -> Vec<f64> {
        s.hourly.iter().map(|x| f(x) / 60.0).collect()
    };
    let (input, output, value) = (col(|x| x.0), col(|x| x.1), col(|x| x.2));
    let at = |v: &[f64]| -> Vec<f64> {
        START_PERCENTILES
            .iter()
            .map(|&p| percentile(v, p))
            .collect()
    };
    let traffic = Traffic {
        percentiles: START_PERCENTILES.to_vec(),
        input_tpm: at(&input),
        output_tpm: at(&output),
        usd_per_minute: at(&value),
    };
    let busiest = (
        percentile(&input, 100.0),
        percentile(&output, 100.0),
        percentile(&value, 100.0),
    );
    s.grid = grid(&r, busiest);
    let g = s.grid;
    let starts: Vec<Size> = (0..START_PERCENTILES.len())
        .map(|i| match r.measure {
            RateMeasure::Tokens { .. } => Size::Tokens(
                RateSteps::index_at_least(g.min_input_tpm, g.input_step, traffic.input_tpm[i]),
                RateSteps::index_at_least(g.min_output_tpm, g.output_step, traffic.output_tpm[i]),
            ),
            RateMeasure::Spend { .. } => Size::Spend(RateSteps::index_at_least(
                0.0,
                g.spend_step(),
                traffic.usd_per_minute[i],
            )),
        })
        .collect();
    s.eval(&starts);
    let mut candidates = Vec::new();
    for term in &spec.terms {
        let (best, bounded) = descend(&mut s, &starts, term);
        candidates.push(candidate(&mut s, &r, best, term, bounded));
    }
    candidates.sort_by(|a, b| {
        let hours = |c: &RateCandidate| c.term_hours.unwrap_or(0.0);
        let (ka, kb) = (a.point.key(&a.term), b.point.key(&b.term));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.bill_usd.total_cmp(&b.bill_usd))
            .then(hours(a).total_cmp(&hours(b)))
    });
    let no_reservation = s.points[&Size::None].clone();
    RatePlan {
        kind: "reserved_rate",
        deployment: sc.deployments[spec.deployment].name.clone(),
        sla: crate::analysis::plan::class_slas(&sc),
        replications: sc.replications,
        horizon_hours: sc.horizon_hours,
        grid: g,
        traffic,
        hourly: HourlyRates {
            input_tpm: input,
            output_tpm: output,
            usd_per_minute: value,
        },
        candidates,
        no_reservation,
        evaluated: s
            .points
            .values()
            .filter(|p| p.size != Size::None)
            .cloned()
            .collect(),
        input_failure: s.input_failure,
    }
}

/// The neighbours of `at` `(di, do)` search steps away (tokens) or `di` (spend), within the grid.
fn neighbours(at: Size, di: u64, dout: u64) -> Vec<Size> {
    let moves = |x: u64, d: u64| [x.checked_add(d), x.checked_sub(d)];
    match at {
        Size::None => Vec::new(),
        Size::Spend(k) => moves(k, di)
            .into_iter()
            .flatten()
            .map(Size::Spend)
            .collect(),
        Size::Tokens(i, o) => {
            let mut v = Vec::new();
            for ni in moves(i, di).into_iter().flatten() {
                v.push(Size::Tokens(ni, o));
            }
            for no in moves(o, dout).into_iter().flatten() {
                v.push(Size::Tokens(i, no));
            }
            if let (Some(a), Some(b)) = (i.checked_add(di), o.checked_add(dout)) {
                v.push(Size::Tokens(a, b));
            }
            if let (Some(a), Some(b)) = (i.checked_sub(di), o.checked_sub(dout)) {
                v.push(Size::Tokens(a, b));
            }
            v
        }
    }
}

/// The pattern search on `term` from the best of `starts`: returns the best size and whether
/// the bound on sizes stopped it.
fn descend(s: &mut Search, starts: &[Size], term: &str) -> (Size, bool) {
    let better = |a: &RatePoint, b: &RatePoint| a.key(term) < b.key(term);
    let mut at = starts[0];
    for st in starts {
        if better(&s.points[st], &s.points[&at]) {
            at = *st;
        }
    }
    // The first jump: a quarter of the distance between the quietest and busiest starts.
    let span = |f: fn(Size) -> u64| {
        let lo = starts.iter().map(|&x| f(x)).min().unwrap_or(0);
        let hi = starts.iter().map(|&x| f(x)).max().unwrap_or(0);
        ((hi - lo) / 4).max(1)
    };
    let first = |x: Size| match x {
        Size::Tokens(i, _) | Size::Spend(i) => i,
        Size::None => 0,
    };
    let second = |x: Size| match x {
        Size::Tokens(_, o) => o,
        _ => 0,
    };
    let (mut di, mut dout) = (span(first), span(second));
    loop {
        let near = neighbours(at, di, dout);
        let fresh = near.iter().filter(|n| !s.points.contains_key(n)).count();
        if s.points.len() - 1 + fresh > MAX_SIZES {
            return (at, true);
        }
        s.eval(&near);
        let best = near.iter().copied().fold(at, |b, n| {
            if better(&s.points[&n], &s.points[&b]) {
                n
            } else {
                b
            }
        });
        if best != at {
            // Walking up toward an SLA every size so far misses: double the jump, so a size
            // far above the traffic's hourly rates is reached within the bound on sizes.
            if !s.points[&best].meets() && best > at {
                di = di.saturating_mul(2);
                dout = dout.saturating_mul(2);
            }
            at = best;
        } else if di == 1 && dout == 1 {
            return (at, false);
        } else {
            di = (di / 2).max(1);
            dout = (dout / 2).max(1);
        }
    }
}

/// The candidate of size `at` on `term`, with its one-step neighbours on each side.
fn candidate(
    s: &mut Search,
    r: &RateReservation,
    at: Size,
    term: &str,
    bounded: bool,
) -> RateCandidate {
    let one = neighbours(at, 1, 1);
    s.eval(&one);
    let p = s.points[&at].clone();
    let mut margins = Vec::new();
    for n in one {
        let (side, direction, size) = match (at, n, s.grid.measure(n)) {
            (
                Size::Tokens(i, o),
                Size::Tokens(ni, no),
                Some(RateMeasure::Tokens { input_tpm, .. }),
            ) if o == no => ("input", if ni > i { 1 } else { -1 }, input_tpm),
            (
                Size::Tokens(i, o),
                Size::Tokens(ni, no),
                Some(RateMeasure::Tokens { output_tpm, .. }),
            ) if i == ni => ("output", if no > o { 1 } else { -1 }, output_tpm),
            (Size::Spend(k), Size::Spend(nk), Some(RateMeasure::Spend { usd_per_minute })) => {
                ("spend", if nk > k { 1 } else { -1 }, usd_per_minute)
            }
            _ => continue,
        };
        let q = &s.points[&n];
        margins.push(Margin {
            side,
            direction,
            size,
            extra_commitment_usd: q.commitment_usd[term] - p.commitment_usd[term],
            overflow_saved_usd: p.overflow_usd - q.overflow_usd,
            meets_sla: q.meets(),
        });
    }
    let bill = p.cost(term);
    let hours = r.term_hours(term);
    // What is signed, at the prices of the day it is signed (hour 0), as `plan` signs units.
    let mut signed = r.clone();
    if let Some(m) = s.grid.measure(at) {
        signed.measure = m;
    }
    let per_hour = signed.hour_cost_on(term);
    RateCandidate {
        term: term.to_string(),
        bill_usd: bill,
        monthly_usd: bill / f64::from(s.base.horizon_hours.max(1))
            * crate::domain::time::HOURS_PER_MONTH,
        term_commitment_usd: hours.map(|h| per_hour * h),
        term_hours: hours,
        point: p,
        margins,
        bounded,
    }
}
