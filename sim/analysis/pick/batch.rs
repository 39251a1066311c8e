//! Deferrable workloads (`deferrable = true`): each candidate platform's batch API for the
//! model, simulated by `run`'s batch model (docs/model.md, sections 10.2 and 12.5).

use serde::Serialize;

use crate::analysis::plan::HOURS_PER_MONTH;
use crate::domain::Scenario;
use crate::input::catalog::Catalog;
use crate::model::engine::US_PER_HOUR;

use super::candidates::Route;
use super::profile::{Profile, Workload};
use super::quota::QuotaNeed;
use super::scenario::{build, od_spec, scenario_table, ClassSpec, PickError};

/// The share of a deferrable workload's judged requests that must complete within its
/// completion-time target for a batch offering to meet it.
pub const BATCH_MET_SHARE: f64 = 0.99;

/// A deferrable workload on one platform's batch API.
#[derive(Debug, Clone, Serialize)]
pub struct BatchEval {
    /// The on-demand offering whose `[offering.batch]` is used.
    pub offering: String,
    pub window_hours: f64,
    pub expires: bool,
    pub completion_sla_hours: f64,
    /// Minutes between two submissions of the workload's jobs.
    pub submit_every_minutes: f64,
    /// The batch bill per month (completed requests at batch prices), mean over replications.
    pub monthly_usd: f64,
    /// What the same completed tokens cost per month at the offering's on-demand prices.
    pub online_monthly_usd: f64,
    /// Requests over all replications.
    pub arrived: u64,
    pub completed: u64,
    pub met_target: u64,
    pub expired: u64,
    pub refused: u64,
    pub unfinished: u64,
    /// Unfinished at the horizon's end with their target past it: not judged.
    pub censored: u64,
    /// `met_target` over the judged requests (arrived − censored).
    pub met_share: f64,
    pub meets: bool,
    pub completion_p50_hours: Option<f64>,
    pub completion_p99_hours: Option<f64>,
}

/// The scenario of a deferrable workload on `route`'s batch API: the workload online on the
/// route's on-demand offering (as an online candidate, since a scenario needs an interactive
/// class) and, drawing the same requests (its random stream), as the deferrable class
/// `<workload>-batch` on a batch deployment of that offering. None: the route sells no batch
/// API for the model.
pub(super) fn batch_scenario(
    catalog: &Catalog,
    profile: &Profile,
    w: &Workload,
    route: &Route,
    quota: Option<&QuotaNeed>,
) -> Result<Option<Scenario>, PickError> {
    let (Some(od), Some(q)) = (&route.on_demand, quota) else {
        return Ok(None);
    };
    if !w.deferrable || route.substitute {
        return Ok(None);
    }
    let Some(sold) = catalog.offering(od).and_then(|(_, o)| o.batch.as_ref()) else {
        return Ok(None);
    };
    let window = window_hours(
        sold.window_hours_min.value,
        sold.window_hours_max.value,
        w.completion_sla_hours,
    );
    let class = ClassSpec {
        workload: w,
        model: route.model.clone(),
        substitutes: Vec::new(),
        route: vec!["on-demand".into()],
    };
    let name = format!("{}-{}-{}-batch", profile.name, w.name, route.platform);
    let deployments = [od_spec("on-demand".into(), od, q)];
    let mut t = scenario_table(profile, &name, "", &[class], &deployments, false, &[]);
    // Named as the design names it: the batch model's draws are keyed by the deployment's
    // name, so the design bills exactly what this evaluation does.
    let dep = batch_dep_name(profile, w, &route.platform, &route.model);
    let k = batch_class(w, &format!("{}-batch", w.name), &route.model, &dep);
    let d = batch_deployment(&dep, od, window, w.submit_minutes());
    for (key, v) in [("class", k), ("deployment", d)] {
        if let Some(toml::Value::Array(a)) = t.get_mut(key) {
            a.push(v.into());
        }
    }
    build(t, profile).map(Some)
}

/// The name of workload `w`'s batch deployment of `model` on `platform`:
/// `PLATFORM-MODEL-batch`, or `PLATFORM-MODEL-WORKLOAD-batch` when another deferrable workload
/// of the profile may use the same model (each workload buys its own window and submission
/// interval, so each has a deployment of its own). The evaluation and the design name it alike.
pub(super) fn batch_dep_name(
    profile: &Profile,
    w: &Workload,
    platform: &str,
    model: &str,
) -> String {
    let shared = profile
        .workloads
        .iter()
        .any(|o| o.name != w.name && o.deferrable && o.models.iter().any(|m| m == model));
    if shared {
        super::design::dep_name(platform, &format!("{model}-{}", w.name), "batch")
    } else {
        super::design::dep_name(platform, model, "batch")
    }
}

/// Workload `w` as the deferrable class `name` of `model`, routed to batch deployment
/// `deployment`, drawing the workload's requests (its random stream).
pub(super) fn batch_class(w: &Workload, name: &str, model: &str, deployment: &str) -> toml::Table {
    let mut k = toml::Table::new();
    k.insert("name".into(), name.into());
    k.insert("model".into(), model.into());
    k.insert("deferrable".into(), true.into());
    if let Some(h) = w.completion_sla_hours {
        k.insert("completion_sla_hours".into(), h.into());
    }
    k.insert("route".into(), toml::Value::Array(vec![deployment.into()]));
    k.insert("random_stream".into(), w.name.clone().into());
    if !w.tags.is_empty() {
        let tags: toml::Table = (w.tags.iter())
            .map(|(a, b)| (a.clone(), toml::Value::from(b.clone())))
            .collect();
        k.insert("tags".into(), tags.into());
    }
    k.insert(
        "arrivals".into(),
        super::profile::arrivals(w.mean_rps, w.peak_hour, w.peak_to_trough).into(),
    );
    k.insert("input_tokens".into(), w.input_tokens.clone());
    k.insert("output_tokens".into(), w.output_tokens.clone());
    k
}

/// The completion window a planner buys for a completion-time target of `target` hours from
/// an offering that sells windows of `min` to `max` hours: the longest window sold not beyond
/// the target, in whole hours (Bedrock's `timeoutDurationInHours` is an integer), or the
/// shortest window sold when the target is shorter than every one or not given. The price
/// does not depend on the window (one batch price per offering), and the window runs from a
/// job's start, which is never before a request's arrival: a window as long as the target
/// expires no request that could still complete within it, while a longer one only lets late
/// requests finish (billed, yet missing the target).
pub fn window_hours(min: f64, max: f64, target: Option<f64>) -> f64 {
    match target {
        Some(t) if t > min => t.floor().clamp(min, max),
        _ => min,
    }
}

/// A batch deployment `name` of on-demand offering `offering` with a completion window of
/// `window_hours` (one the offering sells: [`window_hours`]) and jobs submitted every
/// `submit_minutes`: its `[offering.batch]`'s prices, expiry and per-job caps, llmcap's
/// default turnaround.
pub(super) fn batch_deployment(
    name: &str,
    offering: &str,
    window_hours: f64,
    submit_minutes: f64,
) -> toml::Table {
    let mut d = toml::Table::new();
    d.insert("name".into(), name.into());
    d.insert("offering".into(), offering.into());
    let mut b = toml::Table::new();
    b.insert("completion_window_hours".into(), window_hours.into());
    b.insert("submit_every_minutes".into(), submit_minutes.into());
    d.insert("batch".into(), b.into());
    d
}

/// Simulates `sc` (from [`batch_scenario`]) with `run`'s batch model.
pub(super) fn evaluate_batch(sc: &Scenario, offering: &str) -> BatchEval {
    let r = crate::analysis::batch::run(sc);
    let s = r.classes.first().cloned().unwrap_or_default();
    let reps = r.replications.max(1) as f64;
    let per_month = HOURS_PER_MONTH / sc.horizon_hours as f64 / reps;
    let bd = &sc.batch_deployments[0];
    let k = &sc.batch_classes[0];
    let judged = s.arrived.saturating_sub(s.censored);
    let met_share = if judged == 0 {
        1.0
    } else {
        s.met_sla as f64 / judged as f64
    };
    let hours = |v: Option<f64>| v.map(|ms| ms / 3_600_000.0);
    BatchEval {
        offering: offering.to_string(),
        window_hours: bd.window_us as f64 / US_PER_HOUR as f64,
        expires: bd.expires,
        completion_sla_hours: k.completion_sla_us as f64 / US_PER_HOUR as f64,
        submit_every_minutes: bd.submit_every_us as f64 / 60e6,
        monthly_usd: s.cost_usd * per_month,
        online_monthly_usd: s.on_demand_usd * per_month,
        arrived: s.arrived,
        completed: s.completed,
        met_target: s.met_sla,
        expired: s.expired,
        refused: s.refused,
        unfinished: s.unfinished,
        censored: s.censored,
        met_share,
        meets: met_share >= BATCH_MET_SHARE,
        completion_p50_hours: hours(s.completion.percentile_ms(50.0)),
        completion_p99_hours: hours(s.completion.percentile_ms(99.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::window_hours;

    #[test]
    fn the_window_is_the_longest_sold_not_beyond_the_target() {
        // Bedrock sells 24 to 168 h; OpenAI 24 h only.
        assert_eq!(window_hours(24.0, 168.0, Some(72.0)), 72.0);
        assert_eq!(window_hours(24.0, 168.0, Some(72.9)), 72.0);
        assert_eq!(window_hours(24.0, 168.0, Some(24.5)), 24.0);
        assert_eq!(window_hours(24.0, 168.0, Some(500.0)), 168.0);
        // A target shorter than every window, or none: the shortest sold.
        assert_eq!(window_hours(24.0, 168.0, Some(12.0)), 24.0);
        assert_eq!(window_hours(24.0, 168.0, None), 24.0);
        assert_eq!(window_hours(24.0, 24.0, Some(72.0)), 24.0);
    }
}
