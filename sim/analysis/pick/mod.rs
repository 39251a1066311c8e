//! `llmcap pick`: a platform recommendation from a workload profile.
//!
//! A profile names the models a product needs, its traffic (daily requests or
//! monthly tokens, with an hour-of-day shape and token lengths), a TTFT SLA,
//! compliance needs (HIPAA BAA, data residency, certifications) and a budget.
//! `pick` filters the catalog by model and compliance, then *simulates* every
//! remaining platform on that traffic: on-demand only, and, where the
//! platform sells reserved capacity for the model, the cheapest reserved plan
//! that meets the SLA ([`crate::analysis::plan`]). The cheapest configuration that meets
//! the SLA becomes the primary; a second platform (the two-provider minimum)
//! becomes the on-demand fallback; and the whole design, with a full outage of
//! each primary platform, is simulated once more with and without the
//! fallback to measure what the second provider buys. Nothing is looked up
//! from a table of answers: every number comes from the catalog's data and
//! the simulations.

mod batch;
mod candidates;
mod choose;
mod design;
mod evaluate;
mod finops;
mod profile;
mod quota;
mod regions;
mod scenario;

pub use batch::{BatchEval, BATCH_MET_SHARE};
pub use candidates::{lifecycle, routes, Exclusion, Route};
pub use choose::{FallbackKind, Verdict, WorkloadPick, COST_TIE};
pub use design::{Design, DesignRun};
pub use evaluate::{BreakEven, Config, Evaluation};
pub use finops::FinopsPlan;
pub use profile::{Profile, Workload, CERTIFICATIONS, DEFAULT_OUTAGE_HOURS, PLATFORM_KINDS};
pub use quota::{LimitNeed, QuotaNeed};
pub use regions::{
    offering_within, region_within, regions, residency_values, serving_scope, Region,
};
pub use scenario::{ClientGateway, DeploymentSpec, PickError, CLIENT, NO_SLA};

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::format::usd_whole;
use crate::input::catalog::Catalog;

use choose::choose;
use design::design;
use evaluate::{evaluate, Sims};

#[derive(Debug, Clone, Serialize)]
pub struct PickResult {
    pub profile: Profile,
    pub workloads: Vec<WorkloadPick>,
    pub design: Option<Design>,
    /// Platforms (catalog ids) the design uses.
    pub platforms: Vec<String>,
    pub over_budget: Option<String>,
    /// The date (YYYY-MM-DD) offerings' lifecycles were judged on, and where it came from.
    pub lifecycle_date: String,
    pub lifecycle_date_from: String,
}

impl PickResult {
    /// A recommendation was made for every workload.
    pub fn recommended(&self) -> bool {
        self.workloads
            .iter()
            .all(|w| w.verdict == Verdict::Recommended)
    }
}

/// One configuration's outcomes, by (mode, units), for each candidate: what the shards of
/// `pick --shard` simulate (see [`measure`]).
pub use crate::analysis::plan::Measurements;

/// A candidate pick simulates: a workload (its index in the profile) on one route. The
/// candidates, in order, are the work items of `pick --shard`.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub workload: usize,
    pub route: Route,
}

/// What pick considers: each workload's candidates and the platforms it excludes before
/// simulating anything, and the date lifecycles are judged on.
pub struct Considered {
    pub candidates: Vec<Candidate>,
    /// Per workload, the platforms excluded before simulating, and why.
    pub excluded: Vec<Vec<(String, Exclusion)>>,
    pub lifecycle_date: String,
    pub lifecycle_date_from: String,
}

/// The candidates of `profile`, lifecycles judged on `as_of` (YYYY-MM-DD), or on the catalog's
/// as-of date without one, so an answer repeats whatever the day it is run.
pub fn consider(profile: &Profile, as_of: Option<&str>) -> Considered {
    let catalog = Catalog::shipped();
    let (lifecycle_date, lifecycle_date_from) = match as_of {
        Some(d) => (d.to_string(), "--as-of".to_string()),
        None => (catalog.as_of(), "the catalog's as-of date".to_string()),
    };
    let mut candidates = Vec::new();
    let mut excluded = Vec::new();
    for (i, w) in profile.workloads.iter().enumerate() {
        let mut out = Vec::new();
        for (platform, r) in routes(catalog, profile, w, &lifecycle_date) {
            match r {
                Ok(route) => candidates.push(Candidate { workload: i, route }),
                Err(x) => out.push((platform, x)),
            }
        }
        excluded.push(out);
    }
    Considered {
        candidates,
        excluded,
        lifecycle_date,
        lifecycle_date_from,
    }
}

/// Runs the whole pick. `progress` counts simulated hours.
pub fn pick(
    profile: &Profile,
    as_of: Option<&str>,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<PickResult, PickError> {
    let considered = consider(profile, as_of);
    let mut evaluations = Vec::new();
    for c in &considered.candidates {
        let sims = Sims::Run {
            threads,
            progress,
            keep: false,
        };
        evaluations.push(evaluate(Catalog::shipped(), profile, c, sims)?.0);
    }
    finish(profile, considered, evaluations, threads, progress)
}

/// A shard's share of [`pick`]: simulates the candidates `which` (indices into
/// [`consider`]'s) and returns, for each, the outcomes of every configuration it simulated.
pub fn measure(
    profile: &Profile,
    considered: &Considered,
    which: &[usize],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<Vec<Measurements>, PickError> {
    let mut out = Vec::with_capacity(which.len());
    for c in which.iter().filter_map(|&k| considered.candidates.get(k)) {
        let sims = Sims::Run {
            threads,
            progress,
            keep: true,
        };
        out.push(evaluate(Catalog::shipped(), profile, c, sims)?.1);
    }
    Ok(out)
}

/// [`pick`] over the measurements of every candidate ([`measure`], in candidate order, from the
/// shards of `pick --shard`; extra ones are ignored): the evaluations read them and simulate nothing, so they are the
/// ones one process makes; the recommended design, which depends on every evaluation, is
/// simulated here on `threads`. A configuration a candidate's search needs and its
/// measurements lack is [`PickError::Unmeasured`], naming the candidate.
pub fn pick_measured(
    profile: &Profile,
    considered: Considered,
    measured: Vec<Measurements>,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<PickResult, PickError> {
    // A candidate without measurements fails on the first configuration its search needs.
    let measured = measured
        .into_iter()
        .chain(std::iter::repeat_with(Measurements::new));
    let mut evaluations = Vec::new();
    for (k, (c, measured)) in considered.candidates.iter().zip(measured).enumerate() {
        let sims = Sims::Measured {
            candidate: k,
            measured,
        };
        evaluations.push(evaluate(Catalog::shipped(), profile, c, sims)?.0);
    }
    finish(profile, considered, evaluations, threads, progress)
}

/// Chooses from the evaluations (one per candidate, in order), then designs and simulates the
/// recommendation.
fn finish(
    profile: &Profile,
    considered: Considered,
    evaluations: Vec<Evaluation>,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<PickResult, PickError> {
    let catalog = Catalog::shipped();
    let mut evaluations = considered
        .candidates
        .iter()
        .map(|c| c.workload)
        .zip(evaluations)
        .peekable();
    let mut workloads = Vec::new();
    for (i, (w, excluded)) in profile
        .workloads
        .iter()
        .zip(considered.excluded)
        .enumerate()
    {
        let mut picks = WorkloadPick {
            workload: w.name.clone(),
            evaluations: Vec::new(),
            excluded,
            primary: None,
            fallback: None,
            fallback_note: None,
            fallback_kind: None,
            fallback_monthly_usd: None,
            closest: None,
            verdict: Verdict::Recommended,
        };
        while let Some((_, e)) = evaluations.next_if(|(of, _)| *of == i) {
            picks.evaluations.push(e);
        }
        workloads.push(choose(profile, w, picks));
    }
    let mut result = PickResult {
        profile: profile.clone(),
        workloads,
        design: None,
        platforms: Vec::new(),
        over_budget: None,
        lifecycle_date: considered.lifecycle_date,
        lifecycle_date_from: considered.lifecycle_date_from,
    };
    if result.recommended() {
        let Some(design) = design(catalog, profile, &result.workloads, threads, progress)? else {
            // Every workload on a batch API: their platforms and bills, and no online design.
            let mut cost = 0.0;
            for w in &result.workloads {
                let p = w.primary();
                cost += p.and_then(|e| e.on_batch()).map_or(0.0, |b| b.monthly_usd);
                let p = p.map(|e| e.route.platform.clone());
                if let Some(p) = p.filter(|p| !result.platforms.contains(p)) {
                    result.platforms.push(p);
                }
            }
            result.over_budget = over_budget(profile, cost);
            return Ok(result);
        };
        result.over_budget = over_budget(profile, design.with_fallback.monthly_usd.mean);
        let mut platforms: Vec<String> = Vec::new();
        for d in &design.deployments {
            let p = d.offering.split('/').next().unwrap_or_default().to_string();
            if !platforms.contains(&p) {
                platforms.push(p);
            }
        }
        result.platforms = platforms;
        result.design = Some(design);
    }
    Ok(result)
}

/// Why a design costing `cost` a month in simulation is over the profile's budget, if it is.
fn over_budget(profile: &Profile, cost: f64) -> Option<String> {
    let b = profile.budget_usd_per_month?;
    (cost > b).then(|| {
        format!(
            "the design costs {} per month in simulation, {:.0}% over the budget of {}",
            usd_whole(cost),
            (cost / b - 1.0) * 100.0,
            usd_whole(b)
        )
    })
}
