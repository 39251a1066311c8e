//! The FinOps instrumentation plan of each platform of the design.

use serde::Serialize;

use crate::analysis::attribution::AttributionRow;
use crate::input::catalog::Catalog;

use super::design::Design;
use super::profile::Profile;
use super::scenario::DeploymentSpec;

// ---------------------------------------------------------------------------
// FinOps instrumentation plan.
// ---------------------------------------------------------------------------

/// What to set up on one platform of the design so its cost splits by the
/// workloads' tags, with the simulated shares that set-up reaches.
#[derive(Debug, Clone, Serialize)]
pub struct FinopsPlan {
    pub platform: String,
    pub mechanism: String,
    pub granularity_hours: Option<f64>,
    pub latency_hours: Option<f64>,
    pub steps: Vec<String>,
    /// The design's attribution rows of this platform (per tag dimension).
    pub attribution: Vec<AttributionRow>,
}

pub(super) fn finops(
    profile: &Profile,
    design: &Design,
    rows: &[AttributionRow],
) -> Vec<FinopsPlan> {
    let catalog = Catalog::shipped();
    let mut keys: Vec<&String> = profile
        .workloads
        .iter()
        .flat_map(|w| w.tags.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let mut platforms: Vec<&str> = Vec::new();
    for d in &design.deployments {
        let p = d.offering.split('/').next().unwrap_or_default();
        if !platforms.contains(&p) {
            platforms.push(p);
        }
    }
    let gateway = Catalog::gateway();
    platforms
        .into_iter()
        .map(|p| {
            let model = catalog.platform(p).and_then(|f| f.platform.attribution_model.as_ref());
            let mine: Vec<AttributionRow> = rows.iter().filter(|r| r.platform == p).cloned().collect();
            let mut steps = Vec::new();
            let deps: Vec<&DeploymentSpec> = design
                .deployments
                .iter()
                .filter(|d| d.offering.starts_with(&format!("{p}/")))
                .collect();
            if keys.is_empty() {
                steps.push("the profile gives its workloads no tags (team, product, feature): add them, or every cost line stays per deployment".to_string());
            }
            if let Some(m) = model {
                let carried: Vec<&str> = keys.iter().filter(|k| m.carries(k)).map(|k| k.as_str()).collect();
                let missing: Vec<&str> = keys.iter().filter(|k| !m.carries(k)).map(|k| k.as_str()).collect();
                match m.on_demand.value.as_str() {
                    "request" if !carried.is_empty() => steps.push(format!(
                        "on-demand traffic: use {} carrying {} on every call (one per combination the workloads use)",
                        m.mechanism.value,
                        carried.join(", ")
                    )),
                    "credential" if !carried.is_empty() => steps.push(format!(
                        "on-demand traffic: one {} per value of {}",
                        m.mechanism.value,
                        carried.join(", ")
                    )),
                    "resource" => steps.push(format!(
                        "on-demand traffic: {} split cost per deployment only; give each value of a dimension its own deployment, or let the gateway stamp {} on each request",
                        m.mechanism.value,
                        if keys.is_empty() { "the tags".to_string() } else { keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ") }
                    )),
                    _ => {}
                }
                if !missing.is_empty() && m.on_demand.value != "resource" {
                    steps.push(format!(
                        "{} cannot carry {}: the gateway must stamp it ({})",
                        m.mechanism.value,
                        missing.join(", "),
                        gateway.attribution_model.mechanism.value
                    ));
                }
                for d in deps.iter().filter(|d| d.units.is_some()) {
                    steps.push(format!(
                        "reserved capacity {} ({} units): one cost object; if workloads with different tags share it, split its used share by the gateway's per-request token logs and agree an allocation rule for idle capacity",
                        d.name,
                        d.units.unwrap_or(0)
                    ));
                }
                steps.push(format!(
                    "expect cost at {} granularity, about {} h after use ({})",
                    hours_text(m.granularity_hours.value),
                    m.latency_hours.value,
                    m.default_view.value
                ));
            } else {
                steps.push("the catalog has no attribution model for this platform: rely on the gateway".to_string());
            }
            FinopsPlan {
                platform: p.to_string(),
                mechanism: model.map_or(crate::analysis::attribution::NO_MECHANISM.to_string(), |m| m.mechanism.value.clone()),
                granularity_hours: model.map(|m| m.granularity_hours.value),
                latency_hours: model.map(|m| m.latency_hours.value),
                steps,
                attribution: mine,
            }
        })
        .collect()
}

fn hours_text(h: f64) -> String {
    if h == 0.0 {
        "per-request".into()
    } else if h >= 24.0 && (h / 24.0).fract() == 0.0 {
        format!("{}-day", h / 24.0)
    } else {
        format!("{h}-hour")
    }
}
