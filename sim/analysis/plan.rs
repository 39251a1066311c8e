//! Planning: the cheapest reserved capacity (number of units, term, with or
//! without spillover) that meets a TTFT SLA with 95% confidence.
//!
//! Three set-ups are compared on the same traffic (common random numbers):
//!
//! - **reserved + spillover**: the scenario's routes as written, units varied;
//! - **reserved only**: routes cut after the reserved deployment, so requests
//!   that find it full are retried by the client and then throttled;
//! - **on-demand only**: the reserved deployment removed from every route.
//!
//! A configuration meets the SLA when, for every class with an SLA, the lower
//! end of the 95% confidence interval (over replications) of the share of
//! completed requests (served, throttled or failed) served within the target
//! is at or above the share the SLA asks for. Throttled and failed requests
//! count as misses.
//!
//! The search assumes what the model guarantees under common random numbers
//! only approximately: attainment rises with units, and total cost with
//! spillover is convex in units (reserved cost grows linearly, spillover cost
//! falls ever more slowly). It finds the fewest units that meet the SLA by
//! bisection, then the cheapest number of units above that by ternary search,
//! for each term. The term does not change what is simulated, only the price,
//! so every evaluated configuration is priced under every term.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::analysis::cost::{average_reserved, reserved_cost, reserved_cost_on};
use crate::analysis::economics::Pair;
use crate::analysis::sweep::{run_points, PointSummary, RepOutcome};
use crate::domain::{Pool, Reserved, Scenario, Sla};
use crate::error::{InputError, ValueError};
use crate::model::metrics::{Hist, MeanCi};

pub use crate::domain::time::HOURS_PER_MONTH;

pub use crate::domain::SlaTarget;
pub use crate::input::scenario::parse_sla;

/// How requests reach capacity in a candidate configuration.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    ReservedSpillover,
    ReservedOnly,
    OnDemandOnly,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::ReservedSpillover => "reserved + spillover",
            Mode::ReservedOnly => "reserved only",
            Mode::OnDemandOnly => "on-demand only",
        }
    }
}

/// What `plan` searches over, checked against the scenario.
#[derive(Debug, Clone)]
pub struct PlanSpec {
    pub sla: Option<SlaTarget>,
    /// The reserved deployment to size.
    pub reserved: usize,
    /// The on-demand deployment that values its tokens, if any.
    pub compare: Option<usize>,
    pub terms: Vec<String>,
    pub max_units: u32,
}

/// One simulated configuration, priced under every term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluated {
    pub mode: Mode,
    pub units: u32,
    pub summary: PointSummary,
    /// Mean cost per month (730 h) by term; for on-demand only, one entry "on-demand".
    pub monthly_usd: BTreeMap<String, MeanCi>,
    /// Share of the reserved pool's capacity used (None for on-demand only).
    pub utilization: Option<f64>,
    /// What the reserved pool alone costs per month (730 h) by term: its average cost per hour
    /// over the horizon (`cost::average_reserved`: the reservation at the term's price, units
    /// beyond it hourly, each price period at its prices) x 730; empty for on-demand only. Not
    /// in plan.json: its chart draws it, and the ladder takes it out of `monthly_usd` to leave
    /// the simulated on-demand bill.
    #[serde(skip)]
    pub reserved_monthly_usd: BTreeMap<String, f64>,
}

impl Evaluated {
    pub fn meets(&self) -> bool {
        self.summary.meets_sla.unwrap_or(false)
    }
}

/// A priced candidate: the best configuration of one (mode, term).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub mode: Mode,
    pub term: String,
    pub units: u32,
    pub monthly_usd: MeanCi,
    pub meets_sla: bool,
    pub ttft_sla_ms: Option<MeanCi>,
    pub attainment: Option<MeanCi>,
    pub utilization: Option<f64>,
    pub spilled_share: f64,
    pub throttled_share: f64,
    /// Why this set-up has no candidate meeting the SLA, when it has none.
    pub note: Option<String>,
    /// What the plan signs: units x the term's hours x the price per
    /// unit-hour (None for on-demand and the hourly term, which commit to
    /// nothing).
    pub commitment: Option<Commitment>,
}

/// A reserved purchase's total obligation over its term.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Commitment {
    pub units: u32,
    pub term_hours: f64,
    pub price_per_unit_hour: f64,
    pub total_usd: f64,
}

/// The SLA one class was planned for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassSla {
    pub class: String,
    pub percentile: f64,
    pub ttft_ms: f64,
}

/// Everything `plan` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanResult {
    pub sla: Vec<ClassSla>,
    pub deployment: String,
    pub compare: Option<String>,
    pub replications: u32,
    pub horizon_hours: u32,
    /// Cheapest first; those meeting the SLA before those that do not.
    pub candidates: Vec<Candidate>,
    /// Every configuration simulated, in the order of (mode, units).
    pub evaluated: Vec<Evaluated>,
    pub all_on_demand: Option<Candidate>,
    /// Deployments whose own latency, before any queueing, already misses a
    /// class's SLA (capacity cannot fix it).
    pub latency_floors: Vec<LatencyFloor>,
    /// Why a simulated configuration's inputs failed it (a replayed trace that vanished or
    /// changed after validation): the plan must not be reported (so never in plan.json).
    #[serde(skip)]
    pub input_failure: Option<String>,
}

impl PlanResult {
    /// The cheapest candidate that meets the SLA.
    pub fn chosen(&self) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.meets_sla)
    }
}

/// Builds a planning spec from `[plan]` and the command line, or explains
/// what is missing: an error in `file` at `plan.deployment`, `plan.terms`,
/// `plan.max_units` or `--sla` (the caller names a flag instead of the key
/// when the value came from the command line).
pub fn spec(
    sc: &Scenario,
    file: &Path,
    sla: Option<SlaTarget>,
    deployment: Option<&str>,
    terms: Option<&[String]>,
    max_units: Option<u32>,
) -> Result<PlanSpec, InputError> {
    let (reserved, compare) = match Pair::find(sc, deployment, None) {
        Ok(p) => (p.reserved, Some(p.compare)),
        // Reserved only needs no on-demand deployment.
        Err(e) => match deployment {
            Some(name) => match sc.deployments.iter().position(|d| d.name == name) {
                Some(d) if matches!(sc.deployments[d].pool, Pool::Reserved(_)) => (d, None),
                _ => return Err(e.at(file, "plan.deployment")),
            },
            None => match sc
                .deployments
                .iter()
                .position(|d| matches!(d.pool, Pool::Reserved(_)))
            {
                Some(d) => (d, None),
                None => return Err(e.at(file, "plan.deployment")),
            },
        },
    };
    let r = match &sc.deployments[reserved].pool {
        Pool::Reserved(r) => r,
        Pool::OnDemand(_) => unreachable!("found as reserved"),
    };
    let terms: Vec<String> = match terms {
        None => r.price_per_unit_hour.keys().cloned().collect(),
        Some(t) => {
            for term in t {
                if !r.price_per_unit_hour.contains_key(term) {
                    return Err(ValueError::from(format!(
                            "\"{term}\" has no price in deployment \"{}\"'s price_per_unit_hour (it has: {})",
                            sc.deployments[reserved].name,
                            r.price_per_unit_hour.keys().cloned().collect::<Vec<_>>().join(", ")
                        )).at(file, "plan.terms"));
                }
            }
            if t.is_empty() {
                return Err(ValueError::new("must list at least one term").at(file, "plan.terms"));
            }
            t.to_vec()
        }
    };
    if sla.is_none() && sc.classes.iter().all(|c| c.sla.is_none()) {
        return Err(ValueError::new(
            "plan needs an SLA: give --sla \"p99<=800ms\", [plan] sla, or a class sla",
        )
        .at(file, "--sla"));
    }
    let max_units = match max_units {
        Some(m) => m,
        None => default_max_units(sc, reserved),
    };
    if max_units < r.min_units {
        return Err(ValueError::from(format!(
            "must be at least the deployment's min_units = {}, got {max_units}",
            r.min_units
        ))
        .at(file, "plan.max_units"));
    }
    // Checked before any allocation: each unit holds concurrency_per_unit slots.
    let most = crate::domain::limits::MAX_SLOTS / r.concurrency_per_unit.max(1) as u64;
    if max_units as u64 > most {
        return Err(ValueError::from(format!(
                "must be at most {most}: units x concurrency_per_unit ({}) may not exceed {} slots, got {max_units}",
                r.concurrency_per_unit,
                crate::domain::limits::MAX_SLOTS
            )).at(file, "plan.max_units"));
    }
    Ok(PlanSpec {
        sla,
        reserved,
        compare,
        terms,
        max_units,
    })
}

/// Twice the units that would carry the busiest hour of the horizon at 100%,
/// rounded up to a purchasable number, and at least ten steps above the
/// minimum: a bound comfortably above any sensible plan.
pub fn default_max_units(sc: &Scenario, d: usize) -> u32 {
    let Pool::Reserved(r) = &sc.deployments[d].pool else {
        return 0;
    };
    let hours = sc.horizon_hours.min(24 * 7) as u64;
    let peak_weighted_per_s = (0..hours)
        .map(|h| {
            sc.classes
                .iter()
                .filter(|c| c.route.contains(&d))
                .map(|c| {
                    c.expected_in_hour(h, sc.start_date) / 3600.0
                        * (c.input_tokens.mean() + r.output_weight * c.output_tokens.mean())
                })
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let units = 2.0 * peak_weighted_per_s * 60.0 / r.tpm_per_unit;
    let floor = r.min_units + 10 * r.unit_step;
    let want = (units.ceil() as u64).clamp(floor as u64, u32::MAX as u64 / 2) as u32;
    // Round up onto the grid.
    let steps = (want - r.min_units).div_ceil(r.unit_step);
    r.min_units + steps * r.unit_step
}

/// The scenario of the chosen configuration (units, term and set-up), if one meets the SLA.
pub fn chosen_scenario(base: &Scenario, r: &PlanResult) -> Option<Scenario> {
    let c = r.chosen()?;
    let ri = base
        .deployments
        .iter()
        .position(|d| d.name == r.deployment)?;
    let mut sc = configure(base, ri, c.mode, c.units);
    if c.mode != Mode::OnDemandOnly {
        if let Pool::Reserved(p) = &mut sc.deployments[ri].pool {
            p.term = c.term.clone();
        }
    }
    Some(sc)
}

/// The reserved deployment a configuration's outcomes are about and the on-demand one that
/// values its tokens, as indices into the configuration's scenario (they shift when the
/// reserved deployment is removed).
fn pair(spec: &PlanSpec, mode: Mode) -> (Option<usize>, Option<usize>) {
    let focus = (mode != Mode::OnDemandOnly).then_some(spec.reserved);
    let compare = spec.compare.map(|c| match mode {
        Mode::OnDemandOnly if c > spec.reserved => c - 1,
        _ => c,
    });
    (focus, compare)
}

/// Every configuration the search may simulate, for `plan --shard`: each set-up that can run
/// with every unit count of the grid (all on-demand once), in (mode, units) order.
pub struct PlanGrid {
    pub configurations: Vec<(Mode, u32)>,
    /// The scenario of each configuration (the SLA set).
    pub scenarios: Vec<Scenario>,
    /// Each configuration's (reserved, compare) deployments, as [`pair`] gives them.
    pub pairs: Vec<(Option<usize>, Option<usize>)>,
}

impl PlanGrid {
    /// The grid of `base` under `spec`.
    pub fn of(base: &Scenario, spec: &PlanSpec) -> PlanGrid {
        let sc = with_sla(base, spec);
        let (grid, _) = Planner::new(&sc, spec, 1, None);
        let mut configurations = Vec::new();
        for mode in [Mode::ReservedSpillover, Mode::ReservedOnly] {
            if impossible(&sc, spec.reserved, mode).is_none() {
                configurations.extend(grid.iter().map(|&u| (mode, u)));
            }
        }
        if impossible(&sc, spec.reserved, Mode::OnDemandOnly).is_none() {
            configurations.push((Mode::OnDemandOnly, 0));
        }
        let scenarios = configurations
            .iter()
            .map(|&(mode, units)| configure(&sc, spec.reserved, mode, units))
            .collect();
        let pairs = configurations
            .iter()
            .map(|&(mode, _)| pair(spec, mode))
            .collect();
        PlanGrid {
            configurations,
            scenarios,
            pairs,
        }
    }

    /// The work items: (configuration, replication), configuration-major.
    pub fn items(&self) -> Vec<(usize, u32)> {
        self.scenarios
            .iter()
            .enumerate()
            .flat_map(|(p, sc)| (0..sc.replications).map(move |r| (p, r)))
            .collect()
    }
}

/// The scenario of one configuration.
fn configure(base: &Scenario, r: usize, mode: Mode, units: u32) -> Scenario {
    let mut sc = base.clone();
    match mode {
        Mode::ReservedSpillover | Mode::ReservedOnly => {
            if let Pool::Reserved(p) = &sc.deployments[r].pool {
                // Later prices (`[[price_change]]`) hold the same units.
                let reserved_units = reservation(p, units);
                sc.deployments[r].set_units(units, reserved_units);
            }
            if mode == Mode::ReservedOnly {
                for c in &mut sc.classes {
                    // Cut each route after the reserved deployment (LiteLLM steps and Portkey
                    // targets after it go with it).
                    c.retain_route(|route, p| {
                        route.iter().position(|&d| d == r).is_none_or(|at| p <= at)
                    });
                }
            }
        }
        Mode::OnDemandOnly => remove_deployment(&mut sc, r),
    }
    sc
}

/// The reservation of `units` deployed: a reservation smaller than the scenario's deployment
/// stays as given (never above the units deployed); otherwise the reservation is the deployment.
fn reservation(r: &Reserved, units: u32) -> u32 {
    if r.reserved_units < r.units {
        r.reserved_units.min(units)
    } else {
        units
    }
}

/// Removes deployment `r` from a scenario: from the routes and the outages (an outage left
/// with no deployment goes too), the other deployments' indices shifted down.
pub fn remove_deployment(sc: &mut Scenario, r: usize) {
    sc.deployments.remove(r);
    for o in &mut sc.outages {
        o.deployments.retain(|&d| d != r);
        for d in &mut o.deployments {
            if *d > r {
                *d -= 1;
            }
        }
    }
    sc.outages.retain(|o| !o.deployments.is_empty());
    for c in &mut sc.classes {
        c.retain_route(|route, p| route[p] != r);
    }
    for route in sc.classes.iter_mut().flat_map(|c| c.routes_mut()) {
        for d in route {
            if *d > r {
                *d -= 1;
            }
        }
    }
}

/// Why a set-up cannot run at all, or `None` when it can.
fn impossible(base: &Scenario, r: usize, mode: Mode) -> Option<String> {
    match mode {
        Mode::ReservedSpillover => {
            let spills = base.classes.iter().any(|c| {
                c.route
                    .iter()
                    .position(|&d| d == r)
                    .is_some_and(|at| at + 1 < c.route.len())
            });
            if spills {
                None
            } else {
                Some("no route continues after the reserved deployment".into())
            }
        }
        Mode::ReservedOnly => None,
        Mode::OnDemandOnly => base
            .classes
            .iter()
            .find(|&c| !c.clone().retain_route(|route, p| route[p] != r))
            .map(|c| {
                format!(
                    "class \"{}\" has no deployment but the reserved one",
                    c.name
                )
            }),
    }
}

/// Configurations' outcomes (in replication order) and pooled TTFT histograms, by (mode, units):
/// what the shards of `plan --shard` or `pick --shard` simulated.
pub type Measurements = BTreeMap<(Mode, u32), (Vec<RepOutcome>, Hist)>;

/// The search reached a configuration that was not measured: [`plan_measured`] never simulates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the search needs {} with {units} unit(s), which was not measured", .mode.label())]
pub struct Unmeasured {
    pub mode: Mode,
    pub units: u32,
}

/// Where the search's configurations come from.
enum Source {
    /// Simulated here; each one's outcomes also kept in `keep` when it is Some.
    Simulate { keep: Option<Measurements> },
    /// Measured elsewhere (the shards): read, never simulated.
    Measured(Measurements),
}

struct Planner<'a> {
    base: &'a Scenario,
    spec: &'a PlanSpec,
    threads: usize,
    progress: Option<&'a AtomicU64>,
    cache: BTreeMap<(Mode, u32), Evaluated>,
    input_failure: Option<String>,
    source: Source,
}

impl<'a> Planner<'a> {
    /// A planner over `sc` (the SLA already set) and the grid of purchasable units it searches.
    fn new(
        sc: &'a Scenario,
        spec: &'a PlanSpec,
        threads: usize,
        progress: Option<&'a AtomicU64>,
    ) -> (Vec<u32>, Self) {
        let grid = match &sc.deployments[spec.reserved].pool {
            Pool::Reserved(r) => r.grid(spec.max_units),
            Pool::OnDemand(_) => unreachable!("spec.reserved is reserved"),
        };
        let p = Planner {
            base: sc,
            spec,
            threads,
            progress,
            cache: BTreeMap::new(),
            input_failure: None,
            source: Source::Simulate { keep: None },
        };
        (grid, p)
    }

    fn eval(&mut self, mode: Mode, units: u32) -> Result<&Evaluated, Unmeasured> {
        if !self.cache.contains_key(&(mode, units)) {
            let sc = configure(self.base, self.spec.reserved, mode, units);
            let (focus, compare) = pair(self.spec, mode);
            let (reps, hist) = match &mut self.source {
                Source::Measured(m) => {
                    m.remove(&(mode, units)).ok_or(Unmeasured { mode, units })?
                }
                Source::Simulate { keep } => {
                    let (reps, hist) = run_points(
                        std::slice::from_ref(&sc),
                        focus,
                        compare,
                        self.threads,
                        self.progress,
                    )
                    .pop()
                    .expect("one point");
                    if let Some(keep) = keep {
                        keep.insert((mode, units), (reps.clone(), hist.clone()));
                    }
                    (reps, hist)
                }
            };
            if self.input_failure.is_none() {
                self.input_failure = reps.iter().find_map(|r| r.input_failure.clone());
            }
            let summary = PointSummary::of(units as f64, &reps, &hist, focus.is_some());
            let hours = sc.horizon_hours as f64;
            let mut reserved_monthly_usd = BTreeMap::new();
            let monthly_usd = match mode {
                Mode::OnDemandOnly => {
                    let v: Vec<f64> = reps
                        .iter()
                        .map(|o| o.total_usd() / hours * HOURS_PER_MONTH)
                        .collect();
                    BTreeMap::from([(
                        "on-demand".to_string(),
                        MeanCi::within(&v, 0.0, f64::INFINITY).expect("reps"),
                    )])
                }
                _ => {
                    let dep = &sc.deployments[self.spec.reserved];
                    // The planned pool as the run billed it (its term, each period's prices).
                    let simulated = reserved_cost(dep, sc.horizon_hours);
                    let average = average_reserved(dep, sc.horizon_hours);
                    self.spec
                        .terms
                        .iter()
                        .map(|t| {
                            // The reservation at term t; units beyond it stay hourly.
                            let at_term = reserved_cost_on(dep, t, sc.horizon_hours);
                            if let Some(a) = &average {
                                reserved_monthly_usd
                                    .insert(t.clone(), a.hour_cost_on(t) * HOURS_PER_MONTH);
                            }
                            let v: Vec<f64> = reps
                                .iter()
                                .map(|o| {
                                    (o.total_usd() - simulated + at_term) / hours * HOURS_PER_MONTH
                                })
                                .collect();
                            (
                                t.clone(),
                                MeanCi::within(&v, 0.0, f64::INFINITY).expect("reps"),
                            )
                        })
                        .collect()
                }
            };
            let utilization = (mode != Mode::OnDemandOnly).then(|| {
                reps.iter().map(|o| o.pair_utilization).sum::<f64>() / reps.len().max(1) as f64
            });
            self.cache.insert(
                (mode, units),
                Evaluated {
                    mode,
                    units,
                    summary,
                    monthly_usd,
                    utilization,
                    reserved_monthly_usd,
                },
            );
        }
        Ok(&self.cache[&(mode, units)])
    }

    fn cost(&mut self, mode: Mode, units: u32, term: &str) -> Result<f64, Unmeasured> {
        Ok(self.eval(mode, units)?.monthly_usd[term].mean)
    }

    /// The fewest units on `grid` meeting the SLA, by bisection; None if even
    /// the last does not.
    fn fewest(&mut self, mode: Mode, grid: &[u32]) -> Result<Option<usize>, Unmeasured> {
        let last = grid.len() - 1;
        if !self.eval(mode, grid[last])?.meets() {
            return Ok(None);
        }
        if self.eval(mode, grid[0])?.meets() {
            return Ok(Some(0));
        }
        let (mut lo, mut hi) = (0, last); // lo fails, hi meets
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if self.eval(mode, grid[mid])?.meets() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(Some(hi))
    }

    /// The cheapest index in grid[from..] for `term`, by ternary search.
    fn cheapest(
        &mut self,
        mode: Mode,
        grid: &[u32],
        from: usize,
        term: &str,
    ) -> Result<usize, Unmeasured> {
        let (mut lo, mut hi) = (from, grid.len() - 1);
        while hi - lo > 2 {
            let m1 = lo + (hi - lo) / 3;
            let m2 = hi - (hi - lo) / 3;
            if self.cost(mode, grid[m1], term)? <= self.cost(mode, grid[m2], term)? {
                hi = m2;
            } else {
                lo = m1;
            }
        }
        // The first of the cheapest (as `min_by` picks).
        let mut best = (lo, self.cost(mode, grid[lo], term)?);
        for (i, &units) in grid.iter().enumerate().take(hi + 1).skip(lo + 1) {
            let c = self.cost(mode, units, term)?;
            if c.total_cmp(&best.1).is_lt() {
                best = (i, c);
            }
        }
        Ok(best.0)
    }
}

/// The scenario with `spec`'s SLA (when given) on every class.
fn with_sla(base: &Scenario, spec: &PlanSpec) -> Scenario {
    let mut sc = base.clone();
    if let Some(t) = spec.sla {
        for c in &mut sc.classes {
            c.sla = Some(Sla {
                ttft_us: (t.ttft_ms * 1000.0).round() as u64,
                percentile: t.percentile,
            });
        }
    }
    sc
}

/// The fewest units meeting the SLA in one set-up, for the ladder.
#[derive(Debug, Clone)]
pub struct Fewest {
    /// Reserved + spillover when a route continues after the reserved
    /// deployment, else reserved only.
    pub mode: Mode,
    /// None when even `max_units` misses the SLA.
    pub units: Option<u32>,
    /// The configurations simulated on the way, by units.
    pub evaluated: Vec<Evaluated>,
    /// All on-demand, when the routes allow it.
    pub on_demand: Option<Evaluated>,
    pub input_failure: Option<String>,
}

/// The bisection of [`plan`] alone: the fewest purchasable units meeting the SLA,
/// and all on-demand, without pricing each term.
pub fn fewest(
    base: &Scenario,
    spec: &PlanSpec,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Fewest {
    let sc = with_sla(base, spec);
    let (grid, mut p) = Planner::new(&sc, spec, threads, progress);
    let mode = match impossible(&sc, spec.reserved, Mode::ReservedSpillover) {
        None => Mode::ReservedSpillover,
        Some(_) => Mode::ReservedOnly,
    };
    let simulated = "a search that simulates measures every configuration";
    let units = p.fewest(mode, &grid).expect(simulated).map(|i| grid[i]);
    let on_demand = impossible(&sc, spec.reserved, Mode::OnDemandOnly)
        .is_none()
        .then(|| p.eval(Mode::OnDemandOnly, 0).expect(simulated).clone());
    Fewest {
        mode,
        units,
        evaluated: p.cache.into_values().filter(|e| e.mode == mode).collect(),
        on_demand,
        input_failure: p.input_failure,
    }
}

/// Runs the search. `progress` counts simulated hours.
pub fn plan(
    base: &Scenario,
    spec: &PlanSpec,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> PlanResult {
    plan_kept(base, spec, threads, progress, false).0
}

/// [`plan`], also returning the outcomes of every configuration it simulated when `keep` (what
/// a shard of `pick --shard` records, so the merge can run the same search with
/// [`plan_measured`]).
pub fn plan_kept(
    base: &Scenario,
    spec: &PlanSpec,
    threads: usize,
    progress: Option<&AtomicU64>,
    keep: bool,
) -> (PlanResult, Measurements) {
    let keep = keep.then(BTreeMap::new);
    let (result, source) = search(base, spec, threads, progress, Source::Simulate { keep })
        .expect("a search that simulates measures every configuration");
    match source {
        Source::Simulate { keep: Some(kept) } => (result, kept),
        _ => (result, BTreeMap::new()),
    }
}

/// [`plan`] over configurations measured elsewhere (the shards of `plan --shard`, over a
/// [`PlanGrid`], or of `pick --shard`): the search reads them instead of simulating, so it
/// visits, and reports, the very configurations one process does. It simulates nothing: a
/// configuration it needs and `measured` lacks is an error ([`Unmeasured`]), which a merge
/// prevents by checking the shards' items first.
pub fn plan_measured(
    base: &Scenario,
    spec: &PlanSpec,
    measured: Measurements,
) -> Result<PlanResult, Unmeasured> {
    Ok(search(base, spec, 1, None, Source::Measured(measured))?.0)
}

/// The search, its configurations from `source`; returns the source with what is left of it.
fn search(
    base: &Scenario,
    spec: &PlanSpec,
    threads: usize,
    progress: Option<&AtomicU64>,
    source: Source,
) -> Result<(PlanResult, Source), Unmeasured> {
    let sc = with_sla(base, spec);
    let r = match &sc.deployments[spec.reserved].pool {
        Pool::Reserved(r) => r.clone(),
        Pool::OnDemand(_) => unreachable!(),
    };
    let (grid, mut p) = Planner::new(&sc, spec, threads, progress);
    p.source = source;
    let floors = latency_floors(&sc, spec);
    let mut candidates = Vec::new();
    for mode in [Mode::ReservedSpillover, Mode::ReservedOnly] {
        if impossible(&sc, spec.reserved, mode).is_some() {
            continue;
        }
        match p.fewest(mode, &grid)? {
            None => {
                for term in &spec.terms {
                    let e = p.eval(mode, grid[grid.len() - 1])?.clone();
                    candidates.push(candidate(
                        &e,
                        term,
                        Some(match floors.first() {
                            Some(_) => format!(
                                "misses the SLA even with {} units: a latency floor, no amount of capacity fixes it",
                                grid[grid.len() - 1]
                            ),
                            None => format!(
                                "misses the SLA even with {} units; raise [plan] max_units",
                                grid[grid.len() - 1]
                            ),
                        }),
                    ));
                }
            }
            Some(first) => {
                for term in spec.terms.clone() {
                    let best = if mode == Mode::ReservedOnly {
                        first
                    } else {
                        p.cheapest(mode, &grid, first, &term)?
                    };
                    let e = p.eval(mode, grid[best])?.clone();
                    candidates.push(candidate(&e, &term, None));
                }
            }
        }
    }
    let all_on_demand = match impossible(&sc, spec.reserved, Mode::OnDemandOnly) {
        None => Some(candidate(p.eval(Mode::OnDemandOnly, 0)?, "on-demand", None)),
        Some(_) => None,
    };
    if let Some(c) = &all_on_demand {
        candidates.push(c.clone());
    }
    for c in candidates
        .iter_mut()
        .filter(|c| c.mode != Mode::OnDemandOnly)
    {
        // What is signed is the reservation (units beyond it are billed hourly, committing to
        // nothing), at the price of the day it is signed (hour 0).
        c.commitment = r.term_hours(&c.term).map(|hours| {
            let price = r.price_per_unit_hour.get(&c.term).copied().unwrap_or(0.0);
            let units = reservation(&r, c.units);
            Commitment {
                units,
                term_hours: hours,
                price_per_unit_hour: price,
                total_usd: units as f64 * hours * price,
            }
        });
    }
    candidates.sort_by(|a, b| {
        b.meets_sla
            .cmp(&a.meets_sla)
            .then(a.monthly_usd.mean.total_cmp(&b.monthly_usd.mean))
    });
    let result = PlanResult {
        sla: class_slas(&sc),
        deployment: sc.deployments[spec.reserved].name.clone(),
        compare: spec.compare.map(|c| sc.deployments[c].name.clone()),
        replications: sc.replications,
        horizon_hours: sc.horizon_hours,
        candidates,
        evaluated: p.cache.into_values().collect(),
        all_on_demand,
        latency_floors: floors,
        input_failure: p.input_failure,
    };
    Ok((result, p.source))
}

/// Each class's SLA, for the report.
pub fn class_slas(sc: &Scenario) -> Vec<ClassSla> {
    sc.classes
        .iter()
        .filter_map(|c| {
            c.sla.map(|s| ClassSla {
                class: c.name.clone(),
                percentile: s.percentile,
                ttft_ms: s.ttft_us as f64 / 1000.0,
            })
        })
        .collect()
}

/// A deployment whose latency before any queueing already misses a class's
/// SLA target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencyFloor {
    pub deployment: String,
    pub median_ms: f64,
    pub p99_ms: f64,
    /// The gateway hop every request pays.
    pub gateway_ms: f64,
    pub class: String,
    pub percentile: f64,
    pub target_ms: f64,
    /// The latency at the SLA percentile before queueing (at least).
    pub floor_ms: f64,
}

/// The deployments of the plan whose latency before any queueing (the
/// scenario's median or p99, whichever the SLA percentile reaches, plus the
/// gateway hop) already exceeds an SLA target, judged as pick judges a catalog
/// offering: more units remove queueing, not service time. Prefill time only
/// adds to it.
pub fn latency_floors(sc: &Scenario, spec: &PlanSpec) -> Vec<LatencyFloor> {
    let gateway_ms = sc.gateway.latency_us as f64 / 1000.0;
    let mut found = Vec::new();
    for d in std::iter::once(spec.reserved).chain(spec.compare) {
        let dep = &sc.deployments[d];
        let (p50, p99) = (dep.latency.median_ms, dep.latency.p99_ms);
        let floor = sc
            .classes
            .iter()
            .filter(|c| c.route.contains(&d))
            .find_map(|c| {
                let sla = c.sla?;
                let target_ms = sla.ttft_us as f64 / 1000.0;
                let bound = match sla.percentile {
                    p if p >= 99.0 => p99,
                    p if p >= 50.0 => p50,
                    _ => return None,
                };
                (bound + gateway_ms > target_ms).then(|| LatencyFloor {
                    deployment: dep.name.clone(),
                    median_ms: p50,
                    p99_ms: p99,
                    gateway_ms,
                    class: c.name.clone(),
                    percentile: sla.percentile,
                    target_ms,
                    floor_ms: bound + gateway_ms,
                })
            });
        found.extend(floor);
    }
    found
}

fn candidate(e: &Evaluated, term: &str, note: Option<String>) -> Candidate {
    Candidate {
        mode: e.mode,
        term: term.to_string(),
        units: e.units,
        monthly_usd: e.monthly_usd[term],
        meets_sla: e.meets(),
        ttft_sla_ms: e.summary.sla_ttft_ms,
        attainment: e.summary.sla_attainment,
        utilization: e.utilization,
        spilled_share: e.summary.spilled_share,
        throttled_share: e.summary.throttled_share,
        note,
        commitment: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_forms() {
        let want = SlaTarget {
            percentile: 99.0,
            ttft_ms: 800.0,
        };
        for s in [
            "p99<=800ms",
            "p99 < 0.8s",
            "99% under 800ms",
            "P99 <= 0.8 s",
            "99% within 800 ms",
        ] {
            assert_eq!(parse_sla(s), Ok(want), "{s}");
        }
        assert_eq!(
            parse_sla("99.9% <= 2 s"),
            Ok(SlaTarget {
                percentile: 99.9,
                ttft_ms: 2000.0
            })
        );
        for bad in [
            "p99",
            "99% under",
            "p101<=1s",
            "p99<=-5ms",
            "p99<=800",
            "p0<=1s",
            "fast",
        ] {
            assert!(parse_sla(bad).is_err(), "{bad}");
        }
    }
}
