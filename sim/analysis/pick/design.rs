//! The recommended design: one scenario of every workload, simulated with and without the fallback.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::analysis::attribution::AttributionRow;
use crate::analysis::plan::{Mode, HOURS_PER_MONTH};
use crate::analysis::sweep::PointSummary;
use crate::domain::Scenario;
use crate::input::catalog::Catalog;
use crate::model::metrics::MeanCi;

use super::choose::WorkloadPick;
use super::finops::{finops, FinopsPlan};
use super::profile::Profile;
use super::quota::quota;
use super::scenario::{build, od_spec, scenario_table, ClassSpec, DeploymentSpec, PickError};

/// One simulation of the whole design.
#[derive(Debug, Clone, Serialize)]
pub struct DesignRun {
    pub label: String,
    pub monthly_usd: MeanCi,
    /// Served / arrived, per replication (as summary.json's resilience).
    pub availability: MeanCi,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub ttft_sla_ms: Option<MeanCi>,
    pub attainment: Option<MeanCi>,
    pub meets_sla: bool,
    pub failed_share: f64,
}

/// The recommended design, as a scenario the planner can run.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    /// The scenario file text (`design.toml`).
    pub scenario_toml: String,
    pub deployments: Vec<DeploymentSpec>,
    /// The outages injected ("<platform>: h a to h b").
    pub outages: Vec<String>,
    pub with_fallback: DesignRun,
    /// The same design without the fallback deployments.
    pub single_provider: Option<DesignRun>,
    /// Per platform of the design: how to attribute its cost.
    pub finops: Vec<FinopsPlan>,
}

pub(super) fn dep_name(platform: &str, model: &str, kind: &str) -> String {
    format!("{platform}-{model}-{kind}")
}

pub(super) fn design(
    catalog: &Catalog,
    profile: &Profile,
    picks: &[WorkloadPick],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<Option<Design>, PickError> {
    let mut routes = routes(profile, picks);
    if routes.classes.is_empty() {
        // Every workload goes to a batch API: llmcap does not run batch-only scenarios.
        return Ok(None);
    }
    // Quotas sized for everything that may arrive at each on-demand deployment.
    for (name, (offering, users)) in &routes.od_users {
        let demands: Vec<_> = users
            .iter()
            .map(|&i| profile.workloads[i].demand())
            .collect();
        routes.deployments.push(od_spec(
            name.clone(),
            offering,
            &quota(catalog, offering, &demands),
        ));
    }
    let (outages, outage_text) = outages(profile, &routes.primaries);
    let description = format!(
        "llmcap pick design for profile {}: primary and fallback per workload behind a gateway, with a full outage of each primary platform",
        profile.name
    );
    let mut table = scenario_table(
        profile,
        &format!("{}-design", profile.name),
        &description,
        &routes.classes,
        &routes.deployments,
        true,
        &outages,
    );
    add_batch(&mut table, profile, &routes.batch);
    let mut scenario_toml =
        toml::to_string(&table).map_err(|e| PickError::Internal(e.to_string()))?;
    scenario_toml.push_str(&batch_fallbacks(profile, picks)?);
    let sc = build(table, profile)?;
    let (with_fallback, rows) = design_run(&sc, "primary + fallback", threads, progress);
    // A batch workload's fallback is not simulated (llmcap does not simulate batch outages).
    let has_fallback = (picks.iter())
        .any(|p| p.fallback.is_some() && p.primary().is_some_and(|e| e.on_batch().is_none()));
    let single_provider = if has_fallback {
        let sc = single_provider(profile, &routes, &outages)?;
        Some(design_run(&sc, "primary only", threads, progress).0)
    } else {
        None
    };
    let mut design = Design {
        scenario_toml,
        deployments: routes.deployments,
        outages: outage_text,
        with_fallback,
        single_provider,
        finops: Vec::new(),
    };
    design.finops = finops(profile, &design, &rows);
    Ok(Some(design))
}

/// The deferrable workloads served on a batch API, each a deferrable class on a batch
/// deployment of its platform's on-demand offering (the catalog's `[offering.batch]`), added
/// to the design's scenario table: `llmcap run design.toml` bills them as pick does.
fn add_batch(t: &mut toml::Table, profile: &Profile, batch: &[(usize, String, String, f64)]) {
    for (i, model, offering, window) in batch {
        let w = &profile.workloads[*i];
        let platform = offering.split('/').next().unwrap_or_default();
        let name = super::batch::batch_dep_name(profile, w, platform, model);
        let k = super::batch::batch_class(w, &w.name, model, &name);
        let d = super::batch::batch_deployment(&name, offering, *window, w.submit_minutes());
        for (key, v) in [("class", k), ("deployment", d)] {
            if let Some(toml::Value::Array(a)) = t.get_mut(key) {
                a.push(v.into());
            }
        }
    }
}

/// The fallbacks of the deferrable workloads on a batch API, as comments for design.toml: the
/// fallback's batch deployment (commented out, so `llmcap run design.toml` bills what pick
/// reports: llmcap does not simulate batch outages), or the on-demand offering that would
/// serve the workload online. Empty without such a fallback.
fn batch_fallbacks(profile: &Profile, picks: &[WorkloadPick]) -> Result<String, PickError> {
    let mut out = String::new();
    for (wp, w) in picks.iter().zip(&profile.workloads) {
        let (Some(p), Some(f)) = (wp.primary(), wp.fallback()) else {
            continue;
        };
        if p.on_batch().is_none() {
            continue;
        }
        let (fp, model) = (&f.route.platform, &f.route.model);
        out.push_str(&format!(
            "\n# Fallback of deferrable workload {}, not simulated (llmcap does not simulate batch\n# outages): when {}'s batch API is unavailable, ",
            w.name, p.route.platform
        ));
        if let Some(fb) = f.on_batch() {
            let name = super::batch::batch_dep_name(profile, w, fp, model);
            let d = super::batch::batch_deployment(
                &name,
                &fb.offering,
                fb.window_hours,
                w.submit_minutes(),
            );
            let mut t = toml::Table::new();
            t.insert("deployment".into(), toml::Value::Array(vec![d.into()]));
            let text = toml::to_string(&t).map_err(|e| PickError::Internal(e.to_string()))?;
            out.push_str(&format!(
                "resubmit its jobs to {fp}'s batch\n# API: this deployment, routed from the class {}. Commented out, so that `llmcap run`\n# bills what pick reports.\n",
                w.name
            ));
            for line in text.lines() {
                out.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
            }
        } else {
            out.push_str(&format!(
                "send its requests online to\n# {} on demand (no other platform's batch API meets the target).\n",
                f.route.on_demand.as_deref().unwrap_or_default()
            ));
        }
    }
    Ok(out)
}

/// Where the design sends each workload.
struct Routes<'a> {
    /// The reserved deployments (the on-demand ones are added once their quotas are sized).
    deployments: Vec<DeploymentSpec>,
    /// On-demand deployments: their offering and the workloads that may reach them.
    od_users: BTreeMap<String, (String, Vec<usize>)>,
    /// Per workload: its class, routed to the primary's deployments, then the fallback's.
    classes: Vec<ClassSpec<'a>>,
    /// Per workload: the route without the fallback.
    single_routes: Vec<Vec<String>>,
    /// The primary platforms, in the order of the workloads.
    primaries: Vec<String>,
    /// The deferrable workloads on a batch API: (workload, model, on-demand offering, the
    /// completion window its evaluation chose, hours).
    batch: Vec<(usize, String, String, f64)>,
}

/// The routes of the recommended picks: the primary's reserved and on-demand deployments (as
/// its best configuration uses them), then the fallback's on-demand one.
fn routes<'a>(profile: &'a Profile, picks: &[WorkloadPick]) -> Routes<'a> {
    let mut r = Routes {
        deployments: Vec::new(),
        od_users: BTreeMap::new(),
        classes: Vec::new(),
        single_routes: Vec::new(),
        primaries: Vec::new(),
        batch: Vec::new(),
    };
    for (i, (wp, w)) in picks.iter().zip(&profile.workloads).enumerate() {
        let p = wp.primary().expect("recommended");
        if let Some(b) = p.on_batch() {
            r.batch
                .push((i, p.route.model.clone(), b.offering.clone(), b.window_hours));
            continue;
        }
        let best = p.best().expect("recommended");
        let mut route = Vec::new();
        if best.mode != Mode::OnDemandOnly {
            let name = dep_name(&p.route.platform, &p.route.model, "reserved");
            route.push(name.clone());
            r.deployments.push(DeploymentSpec {
                name,
                offering: p.route.reserved.clone().expect("reserved config"),
                units: Some(best.units),
                term: Some(best.term.clone()),
                ..DeploymentSpec::default()
            });
        }
        if best.mode != Mode::ReservedOnly {
            if let Some(o) = &p.route.on_demand {
                let name = dep_name(&p.route.platform, &p.route.model, "od");
                r.od_users
                    .entry(name.clone())
                    .or_insert((o.clone(), Vec::new()))
                    .1
                    .push(i);
                route.push(name);
            }
        }
        if !r.primaries.contains(&p.route.platform) {
            r.primaries.push(p.route.platform.clone());
        }
        r.single_routes.push(route.clone());
        let mut substitutes = Vec::new();
        if let Some(f) = wp.fallback() {
            let o = f.route.on_demand.clone().expect("fallbacks are on demand");
            let name = dep_name(&f.route.platform, &f.route.model, "od");
            r.od_users
                .entry(name.clone())
                .or_insert((o, Vec::new()))
                .1
                .push(i);
            route.push(name);
            if f.route.model != p.route.model {
                substitutes.push(f.route.model.clone());
            }
        }
        r.classes.push(ClassSpec {
            workload: w,
            model: p.route.model.clone(),
            substitutes,
            route,
        });
    }
    r
}

/// One full outage of each primary platform, at the first day's peak, one after the other
/// (as long as they fit in the horizon): the scenario's `[[outage]]` tables and a line each.
fn outages(profile: &Profile, primaries: &[String]) -> (Vec<toml::Table>, Vec<String>) {
    let mut outages = Vec::new();
    let mut outage_text = Vec::new();
    if profile.outage_hours > 0.0 {
        let h = profile.horizon_hours as f64;
        let peak = profile.workloads[0].peak_hour;
        let mut start = if h >= 24.0 + peak + profile.outage_hours {
            24.0 + peak
        } else {
            ((h - profile.outage_hours) / 2.0).max(0.0).floor()
        };
        for p in primaries {
            if start + profile.outage_hours > h {
                break;
            }
            let mut o = toml::Table::new();
            o.insert(
                "name".into(),
                format!("{p} full outage (assumption)").into(),
            );
            o.insert("platform".into(), p.clone().into());
            o.insert("start_hour".into(), start.into());
            o.insert("duration_hours".into(), profile.outage_hours.into());
            o.insert("effect".into(), "full".into());
            outages.push(o);
            outage_text.push(format!(
                "{p}: full outage from hour {start} to {}",
                start + profile.outage_hours
            ));
            start += profile.outage_hours + 1.0;
        }
    }
    (outages, outage_text)
}

/// The same design without the fallback deployments, under the same outages.
fn single_provider(
    profile: &Profile,
    routes: &Routes,
    outages: &[toml::Table],
) -> Result<Scenario, PickError> {
    let mut single = routes.classes.clone();
    for (c, r) in single.iter_mut().zip(&routes.single_routes) {
        c.route = r.clone();
        c.substitutes.clear();
    }
    let used: Vec<&String> = single.iter().flat_map(|c| c.route.iter()).collect();
    let deps: Vec<DeploymentSpec> = routes
        .deployments
        .iter()
        .filter(|d| used.contains(&&d.name))
        .cloned()
        .collect();
    let t = scenario_table(
        profile,
        &format!("{}-single", profile.name),
        "",
        &single,
        &deps,
        true,
        outages,
    );
    build(t, profile)
}

fn design_run(
    sc: &Scenario,
    label: &str,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> (DesignRun, Vec<AttributionRow>) {
    let (pooled, kept) = crate::analysis::run::run_each(sc, threads, progress, |m| {
        crate::analysis::sweep::RepOutcome::of(sc, None, None, m)
    });
    let summary = PointSummary::of(0.0, &kept, &pooled.overall_ttft(), false);
    let hours = sc.horizon_hours as f64;
    // Batch jobs are billed beside the online traffic (as `run`'s summary does).
    let batch_usd = |rep: usize| -> f64 {
        if sc.batch_classes.is_empty() {
            return 0.0;
        }
        let stats = crate::model::batch::run_replication(sc, rep as u32);
        stats.iter().map(|s| s.cost_usd).sum()
    };
    let monthly: Vec<f64> = (kept.iter().enumerate())
        .map(|(rep, o)| (o.total_usd() + batch_usd(rep)) / hours * HOURS_PER_MONTH)
        .collect();
    let availability: Vec<f64> = kept
        .iter()
        .map(|o| o.served as f64 / o.arrived.max(1) as f64)
        .collect();
    let rows =
        crate::analysis::attribution::attribution(sc, &pooled, kept.len(), Catalog::shipped());
    (
        DesignRun {
            label: label.to_string(),
            monthly_usd: MeanCi::of(&monthly).expect("replications"),
            availability: MeanCi::of(&availability).expect("replications"),
            p50_ms: summary.pooled_p50_ms,
            p99_ms: summary.pooled_p99_ms,
            ttft_sla_ms: summary.sla_ttft_ms,
            attainment: summary.sla_attainment,
            meets_sla: summary.meets_sla.unwrap_or(false),
            failed_share: summary.failed_share + summary.throttled_share,
        },
        rows,
    )
}
