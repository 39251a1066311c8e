//! Simulation of the candidates: each route on demand and with its cheapest reserved plan.

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::analysis::economics::{closed_form, TokenMix};
use crate::analysis::plan::{Measurements, Mode, PlanResult, Unmeasured, HOURS_PER_MONTH};
use crate::analysis::sweep::{run_points, PointSummary, RepOutcome};
use crate::domain::{Pool, Scenario};
use crate::input::catalog::Catalog;
use crate::model::metrics::{Hist, MeanCi};

use super::batch::{batch_scenario, evaluate_batch, BatchEval};
use super::candidates::Route;
use super::profile::Profile;
use super::quota::{quota, QuotaNeed};
use super::scenario::{
    build, od_spec, scenario_table, ClassSpec, DeploymentSpec, PickError, NO_SLA,
};
use super::Candidate;

// ---------------------------------------------------------------------------
// Evaluation.
// ---------------------------------------------------------------------------

/// One simulated configuration of a route.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// "on-demand", or "<units> x <offering> <term> + spillover"/"only".
    pub label: String,
    pub mode: Mode,
    pub units: u32,
    pub term: String,
    pub monthly_usd: MeanCi,
    pub meets_sla: bool,
    /// TTFT at the SLA percentile (worst class), and attainment.
    pub ttft_sla_ms: Option<MeanCi>,
    pub attainment: Option<MeanCi>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub utilization: Option<f64>,
    pub spilled_share: f64,
    pub throttled_share: f64,
    /// What a reserved configuration signs over its term (none on demand or
    /// on the hourly term).
    pub commitment: Option<crate::analysis::plan::Commitment>,
}

/// Break-even of a reserved offering against the route's on-demand prices.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    pub offering: String,
    pub term: String,
    pub unit_hour_usd: f64,
    /// Closed form: utilization at which reserved costs what on-demand does.
    pub utilization: f64,
}

/// Everything simulated for one (workload, route).
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub route: Route,
    pub quota: Option<QuotaNeed>,
    /// On-demand only (None when the platform sells the model reserved only).
    pub on_demand: Option<Config>,
    /// The cheapest reserved configuration meeting the SLA (or the largest
    /// tried when none does).
    pub reserved: Option<Config>,
    pub breakeven: Vec<BreakEven>,
    /// Why no reserved configuration was simulated: no public reserved price for the
    /// workload's model on this platform (another model's price is never quoted instead).
    pub reserved_note: Option<String>,
    /// Catalog notes on the offerings' lifecycle and region caveats.
    pub caveats: Vec<String>,
    /// A deferrable workload on the platform's batch API for the model (none: not deferrable,
    /// or the platform sells no batch API for it and serves it online).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchEval>,
}

impl Evaluation {
    /// A deferrable workload served on the platform's batch API: it sells one for the model,
    /// and the simulated batch jobs meet the completion-time target.
    pub fn on_batch(&self) -> Option<&BatchEval> {
        self.batch.as_ref().filter(|b| b.meets)
    }

    /// The cheapest configuration meeting the SLA.
    pub fn best(&self) -> Option<&Config> {
        [self.on_demand.as_ref(), self.reserved.as_ref()]
            .into_iter()
            .flatten()
            .filter(|c| c.meets_sla)
            .min_by(|a, b| a.monthly_usd.mean.total_cmp(&b.monthly_usd.mean))
    }

    /// The configuration closest to the SLA: the lowest TTFT at the SLA
    /// percentile, then the highest attainment.
    pub fn closest(&self) -> Option<&Config> {
        [self.on_demand.as_ref(), self.reserved.as_ref()]
            .into_iter()
            .flatten()
            .min_by(|a, b| {
                let t = |c: &Config| c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean);
                let at = |c: &Config| c.attainment.map_or(0.0, |a| a.mean);
                t(a).total_cmp(&t(b)).then(at(b).total_cmp(&at(a)))
            })
    }
}

fn config_of(
    summary: &PointSummary,
    mode: Mode,
    units: u32,
    term: &str,
    monthly: MeanCi,
    label: String,
    utilization: Option<f64>,
) -> Config {
    Config {
        label,
        mode,
        units,
        term: term.to_string(),
        monthly_usd: monthly,
        meets_sla: summary.meets_sla.unwrap_or(false),
        ttft_sla_ms: summary.sla_ttft_ms,
        attainment: summary.sla_attainment,
        p50_ms: summary.pooled_p50_ms,
        p99_ms: summary.pooled_p99_ms,
        utilization,
        spilled_share: summary.spilled_share,
        throttled_share: summary.throttled_share,
        commitment: None,
    }
}

fn caveats(catalog: &Catalog, offering: &str) -> Vec<String> {
    let Some((_, o)) = catalog.offering(offering) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let notes = [
        o.on_demand
            .as_ref()
            .and_then(|od| od.input_per_1m.note.clone()),
        o.regions.note.clone(),
    ];
    for n in notes.into_iter().flatten() {
        // Keep the sentences a planner must act on.
        for s in n.split(". ") {
            let l = s.to_lowercase();
            if l.contains("lifecycle")
                || l.contains("end-of-life")
                || l.contains("retired")
                || l.contains("another us region")
                || l.contains("may serve")
            {
                out.push(format!("{offering}: {}", s.trim_end_matches('.')));
            }
        }
    }
    out
}

/// Where an evaluation's configurations come from.
pub(super) enum Sims<'a> {
    /// Simulated here on `threads` (`progress` counts simulated hours); with `keep`, each
    /// configuration's outcomes are returned too (a shard of `pick --shard`).
    Run {
        threads: usize,
        progress: Option<&'a AtomicU64>,
        keep: bool,
    },
    /// Measured by a shard (candidate number `candidate`): read, never simulated.
    Measured {
        candidate: usize,
        measured: Measurements,
    },
}

/// Evaluates candidate `c`: its on-demand configuration and, where the route sells reserved
/// capacity, the cheapest reserved plan meeting the SLA; returns the configurations' outcomes
/// too when `sims` keeps them.
pub(super) fn evaluate(
    catalog: &Catalog,
    profile: &Profile,
    c: &Candidate,
    sims: Sims,
) -> Result<(Evaluation, Measurements), PickError> {
    let (w, route) = (&profile.workloads[c.workload], &c.route);
    let quota = route
        .on_demand
        .as_ref()
        .map(|o| quota(catalog, o, &[w.demand()]));
    let sc = candidate_scenario(catalog, profile, c, quota.as_ref())?;
    let mut eval = Evaluation {
        route: route.clone(),
        quota,
        on_demand: None,
        reserved: None,
        breakeven: Vec::new(),
        reserved_note: None,
        caveats: [route.on_demand.as_ref(), route.reserved.as_ref()]
            .into_iter()
            .flatten()
            .flat_map(|o| caveats(catalog, o))
            .collect(),
        batch: None,
    };
    if let Some(bs) = batch_scenario(catalog, profile, w, route, eval.quota.as_ref())? {
        let od = route.on_demand.as_deref().unwrap_or_default();
        eval.batch = Some(evaluate_batch(&bs, od));
    }
    let Some(offering) = route.reserved.clone() else {
        let ((reps, hist), kept) = on_demand_point(&sc, sims)?;
        let summary = PointSummary::of(0.0, &reps, &hist, false);
        let hours = sc.horizon_hours as f64;
        let v: Vec<f64> = reps
            .iter()
            .map(|o| o.total_usd() / hours * HOURS_PER_MONTH)
            .collect();
        let monthly = MeanCi::of(&v).expect("at least one replication");
        eval.on_demand = Some(config_of(
            &summary,
            Mode::OnDemandOnly,
            0,
            "on-demand",
            monthly,
            "on-demand only".into(),
            None,
        ));
        eval.reserved_note = Some(no_reserved_note(route));
        return Ok((eval, kept));
    };
    let (result, kept) = reserved_plan(&sc, profile, sims)?;
    let to_config = |c| plan_config(&result, c, &offering);
    eval.reserved = reserved_best(&result).map(to_config);
    eval.on_demand = result.all_on_demand.as_ref().map(to_config);
    // Break-even per term against this route's on-demand prices.
    if let (Some(od), Some(Pool::Reserved(r))) = (
        sc.deployments.iter().find_map(|d| match &d.pool {
            Pool::OnDemand(o) => Some(o),
            Pool::Reserved(_) => None,
        }),
        sc.deployments.first().map(|d| &d.pool),
    ) {
        let mix = TokenMix::plain(w.mean_input_tokens, w.mean_output_tokens);
        for (term, price) in &r.price_per_unit_hour {
            eval.breakeven.push(BreakEven {
                offering: offering.clone(),
                term: term.clone(),
                unit_hour_usd: *price,
                utilization: closed_form(r, *price, od, mix),
            });
        }
    }
    Ok((eval, kept))
}

/// The scenario of candidate `c`: its workload routed to the route's reserved deployment (at
/// the offering's smallest purchase, on its cheapest term) and then its on-demand one.
fn candidate_scenario(
    catalog: &Catalog,
    profile: &Profile,
    c: &Candidate,
    quota: Option<&QuotaNeed>,
) -> Result<Scenario, PickError> {
    let (w, route) = (&profile.workloads[c.workload], &c.route);
    let mut deployments = Vec::new();
    let mut names = Vec::new();
    if let Some(r) = &route.reserved {
        let (_, o) = catalog.offering(r).expect("route offerings exist");
        let rr = o.reserved.as_ref().expect("reserved offering");
        let min = rr.min_units.as_ref().map_or(1.0, |v| v.value) as u32;
        let term = rr
            .terms
            .iter()
            .min_by(|a, b| a.unit_hour_price().total_cmp(&b.unit_hour_price()))
            .map(|t| t.name.clone())
            .unwrap_or_default();
        deployments.push(DeploymentSpec {
            name: "reserved".into(),
            offering: r.clone(),
            units: Some(min.max(1)),
            term: Some(term),
            ..DeploymentSpec::default()
        });
        names.push("reserved".to_string());
    }
    if let (Some(o), Some(q)) = (&route.on_demand, quota) {
        deployments.push(od_spec("on-demand".into(), o, q));
        names.push("on-demand".to_string());
    }
    let class = ClassSpec {
        workload: w,
        model: route.model.clone(),
        substitutes: Vec::new(),
        route: names,
    };
    let name = format!("{}-{}-{}", profile.name, w.name, route.platform);
    build(
        scenario_table(profile, &name, "", &[class], &deployments, false, &[]),
        profile,
    )
}

/// The cheapest reserved plan of a candidate's scenario `sc` meeting the profile's SLA, by
/// plan's search over `sims`.
fn reserved_plan(
    sc: &Scenario,
    profile: &Profile,
    sims: Sims,
) -> Result<(PlanResult, Measurements), PickError> {
    let sla = profile.sla.unwrap_or(NO_SLA);
    let spec =
        crate::analysis::plan::spec(sc, &profile.file, Some(sla), Some("reserved"), None, None)
            .map_err(|e| PickError::Internal(e.to_string()))?;
    Ok(match sims {
        Sims::Run {
            threads,
            progress,
            keep,
        } => crate::analysis::plan::plan_kept(sc, &spec, threads, progress, keep),
        Sims::Measured {
            candidate,
            measured,
        } => {
            let result = crate::analysis::plan::plan_measured(sc, &spec, measured)
                .map_err(|missing| PickError::Unmeasured { candidate, missing })?;
            (result, Measurements::new())
        }
    })
}

/// The reserved configuration a plan offers: the cheapest meeting the SLA, else the one with
/// the lowest TTFT at the SLA percentile (then the cheapest).
fn reserved_best(result: &PlanResult) -> Option<&crate::analysis::plan::Candidate> {
    let reserved = || {
        result
            .candidates
            .iter()
            .filter(|c| c.mode != Mode::OnDemandOnly)
    };
    reserved().find(|c| c.meets_sla).or_else(|| {
        reserved().min_by(|a, b| {
            let t = |c: &crate::analysis::plan::Candidate| {
                c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean)
            };
            t(a).total_cmp(&t(b))
                .then(a.monthly_usd.mean.total_cmp(&b.monthly_usd.mean))
        })
    })
}

/// An on-demand-only candidate's one configuration, simulated or read from `sims`.
fn on_demand_point(
    sc: &Scenario,
    sims: Sims,
) -> Result<((Vec<RepOutcome>, Hist), Measurements), PickError> {
    let key = (Mode::OnDemandOnly, 0);
    let mut kept = Measurements::new();
    let point = match sims {
        Sims::Run {
            threads,
            progress,
            keep,
        } => {
            let mut out = run_points(std::slice::from_ref(sc), None, Some(0), threads, progress);
            let point = out.pop().expect("one point");
            if keep {
                kept.insert(key, point.clone());
            }
            point
        }
        Sims::Measured {
            candidate,
            mut measured,
        } => measured.remove(&key).ok_or(PickError::Unmeasured {
            candidate,
            missing: Unmeasured {
                mode: key.0,
                units: key.1,
            },
        })?,
    };
    Ok((point, kept))
}

/// A plan candidate as pick's configuration, with its evaluated summary and total commitment.
fn plan_config(
    result: &crate::analysis::plan::PlanResult,
    c: &crate::analysis::plan::Candidate,
    offering: &str,
) -> Config {
    let e = result
        .evaluated
        .iter()
        .find(|e| e.mode == c.mode && e.units == c.units)
        .expect("candidates come from evaluated configurations");
    let label = match c.mode {
        Mode::OnDemandOnly => "on-demand only".to_string(),
        m => format!(
            "{} units of {offering}, {} term, {}",
            c.units,
            c.term,
            m.label()
        ),
    };
    Config {
        commitment: c.commitment,
        ..config_of(
            &e.summary,
            c.mode,
            c.units,
            &c.term,
            c.monthly_usd,
            label,
            c.utilization,
        )
    }
}

/// For a route without a reserved offering of its model: say so. Reserved prices of other
/// models are never compared with this workload's bill (a Llama 2 unit serves no Claude request).
fn no_reserved_note(route: &Route) -> String {
    format!(
        "no public reserved price for {} on {}",
        route.model, route.platform
    )
}
