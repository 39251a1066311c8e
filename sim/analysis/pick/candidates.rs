//! Candidates: which platforms can serve a workload ([`Route`]), or why not ([`Exclusion`]).

use serde::Serialize;

use crate::input::catalog::{Catalog, Lifecycle, Offering, Platform};

use super::profile::{Profile, Workload};
use super::regions::{offering_within, residency_values, serving_scope};

// ---------------------------------------------------------------------------
// Candidates.
// ---------------------------------------------------------------------------

/// Why a platform cannot serve a workload.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum Exclusion {
    /// It sells none of the workload's models.
    MissingModel(String),
    /// It sold the model, but the offering is retired on the date pick judges at.
    Retired(String),
    /// It lacks a compliance feature the profile needs.
    Compliance(String),
    /// It sells the model, but not in the required region.
    Residency(String),
    /// Simulated: no configuration met the SLA.
    Sla(String),
    /// Simulated: meets the SLA but costs more than the chosen platform.
    Cost(String),
}

impl Exclusion {
    pub fn label(&self) -> &'static str {
        match self {
            Exclusion::MissingModel(_) => "missing model",
            Exclusion::Retired(_) => "retired",
            Exclusion::Compliance(_) => "compliance",
            Exclusion::Residency(_) => "data residency",
            Exclusion::Sla(_) => "SLA",
            Exclusion::Cost(_) => "cost",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Exclusion::MissingModel(s)
            | Exclusion::Retired(s)
            | Exclusion::Compliance(s)
            | Exclusion::Residency(s)
            | Exclusion::Sla(s)
            | Exclusion::Cost(s) => s,
        }
    }
}

/// The offerings of one platform that can serve one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub platform: String,
    pub model: String,
    /// The model is one of the workload's substitutes: fallback only.
    pub substitute: bool,
    /// Full offering ids ("bedrock/claude-sonnet-4/us-cris").
    pub on_demand: Option<String>,
    pub reserved: Option<String>,
    /// When an offering of the route is deprecated on the judging date: "deprecated on DATE,
    /// retires on DATE" (pick ranks such routes after available ones).
    pub deprecated: Option<String>,
}

fn platform_compliance(p: &Platform, profile: &Profile) -> Option<String> {
    let c = &p.compliance;
    let has =
        |v: &Option<crate::input::catalog::Sourced<bool>>| v.as_ref().is_some_and(|s| s.value);
    let mut missing = Vec::new();
    if profile.baa && !has(&c.hipaa_baa) {
        missing.push("a HIPAA BAA".to_string());
    }
    for cert in &profile.certifications {
        let ok = match cert.as_str() {
            "soc2" => has(&c.soc2),
            "iso27001" => has(&c.iso27001),
            _ => false,
        };
        if !ok {
            missing.push(cert.to_uppercase());
        }
    }
    (!missing.is_empty()).then(|| {
        format!(
            "{} does not offer {} (catalog compliance data)",
            p.name,
            missing.join(" or ")
        )
    })
}

/// Blended on-demand price of a workload's mean request, per request.
fn od_price(o: &Offering, w: &Workload) -> f64 {
    o.on_demand.as_ref().map_or(f64::INFINITY, |od| {
        (od.input_per_1m.value * w.mean_input_tokens
            + od.output_per_1m.value * w.mean_output_tokens)
            / 1e6
    })
}

/// Cheapest reserved price per weighted token of capacity (over terms).
fn reserved_price(o: &Offering) -> f64 {
    o.reserved.as_ref().map_or(f64::INFINITY, |r| {
        r.terms
            .iter()
            .map(|t| t.unit_hour_price())
            .fold(f64::INFINITY, f64::min)
            / r.tpm_per_unit.value
    })
}

/// An offering's lifecycle on `date` (an offering without one counts as available).
pub fn lifecycle(o: &Offering, date: &str) -> Lifecycle {
    o.lifecycle
        .as_ref()
        .map_or(Lifecycle::Available, |l| l.status_at(date))
}

/// The offerings still sold on `date`, and one [`Exclusion::Retired`] per model whose every
/// offering here is retired by then.
fn on_sale<'a>(
    p: &Platform,
    asked: &[&'a Offering],
    date: &str,
) -> (Vec<&'a Offering>, Vec<Exclusion>) {
    let sells: Vec<&Offering> = asked
        .iter()
        .copied()
        .filter(|o| !matches!(lifecycle(o, date), Lifecycle::Retired { .. }))
        .collect();
    let mut retired: Vec<(&str, String)> = Vec::new();
    for o in asked {
        if let Lifecycle::Retired { on } = lifecycle(o, date) {
            if !retired.iter().any(|(m, _)| *m == o.model)
                && !sells.iter().any(|s| s.model == o.model)
            {
                retired.push((&o.model, on));
            }
        }
    }
    let excluded = retired
        .into_iter()
        .map(|(m, on)| {
            Exclusion::Retired(format!(
                "{} retired {m} on {on} (catalog lifecycle, judged on {date})",
                p.name
            ))
        })
        .collect();
    (sells, excluded)
}

/// The routes each platform offers for a workload, or why it offers none. Offerings retired
/// on `date` (YYYY-MM-DD) are left out, each model once under [`Exclusion::Retired`].
pub fn routes(
    catalog: &Catalog,
    profile: &Profile,
    w: &Workload,
    date: &str,
) -> Vec<(String, Result<Route, Exclusion>)> {
    let mut out = Vec::new();
    for (_, f) in &catalog.files {
        let p = &f.platform;
        let asked: Vec<&Offering> = f
            .offering
            .iter()
            .filter(|o| w.models.contains(&o.model) || w.substitutes.contains(&o.model))
            .collect();
        let (sells, retired) = on_sale(p, &asked, date);
        let only_retired = sells.is_empty() && !retired.is_empty();
        out.extend(retired.into_iter().map(|x| (p.id.clone(), Err(x))));
        if only_retired {
            continue;
        }
        let all: Vec<&String> = w.models.iter().chain(&w.substitutes).collect();
        let all_text = all
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if sells.is_empty() {
            out.push((
                p.id.clone(),
                Err(Exclusion::MissingModel(format!(
                    "{} sells none of {all_text} (it sells {})",
                    p.name,
                    catalog.models_of(&p.id).join(", ")
                ))),
            ));
            continue;
        }
        if !profile.platform_kinds.is_empty() && !profile.platform_kinds.contains(&p.kind) {
            out.push((
                p.id.clone(),
                Err(Exclusion::Compliance(format!(
                    "{} is a {} platform; the profile allows only {}",
                    p.name,
                    p.kind,
                    profile.platform_kinds.join(", ")
                ))),
            ));
            continue;
        }
        if let Some(why) = platform_compliance(p, profile) {
            out.push((p.id.clone(), Err(Exclusion::Compliance(why))));
            continue;
        }
        let resident: Vec<&Offering> = sells
            .iter()
            .copied()
            .filter(|o| match &profile.residency {
                None => true,
                Some(r) => offering_within(o, r),
            })
            .collect();
        if resident.is_empty() {
            let r = profile.residency.as_deref().unwrap_or_default();
            let known = residency_values();
            let unknown = if known.iter().any(|k| k == r) {
                String::new()
            } else {
                format!(
                    "; no region in the catalog lies in \"{r}\" (residencies it knows: {})",
                    known.join(", ")
                )
            };
            let mut sold: Vec<&str> = sells.iter().map(|o| o.model.as_str()).collect();
            sold.sort_unstable();
            sold.dedup();
            let mut regions: Vec<String> = sells.iter().map(|o| serving_scope(o)).collect();
            regions.sort_unstable();
            regions.dedup();
            out.push((
                p.id.clone(),
                Err(Exclusion::Residency(format!(
                    "{} sells {} only in {} (none inside \"{r}\": an area is met only by a region-scope deployment inside it, a geography also by a data zone or geographic profile of that geography, never by a global one){unknown}",
                    p.name,
                    sold.join(", "),
                    regions.join(", ")
                ))),
            ));
            continue;
        }
        // Per model, in the workload's order of preference: the cheapest
        // on-demand and reserved offerings inside the residency.
        for m in all {
            let of: Vec<&Offering> = resident.iter().copied().filter(|o| &o.model == m).collect();
            if of.is_empty() {
                continue;
            }
            // Available before deprecated, then the cheapest.
            let deprecated = |o: &Offering| lifecycle(o, date) != Lifecycle::Available;
            // Standard tiers only: a flex tier is cheaper but sheddable, a priority tier a
            // premium, neither what a workload profile asks for.
            let od = of
                .iter()
                .filter(|o| o.on_demand.is_some() && o.tier() == "standard")
                .min_by(|a, b| {
                    deprecated(a)
                        .cmp(&deprecated(b))
                        .then(od_price(a, w).total_cmp(&od_price(b, w)))
                });
            let res = of.iter().filter(|o| o.reserved.is_some()).min_by(|a, b| {
                deprecated(a)
                    .cmp(&deprecated(b))
                    .then(reserved_price(a).total_cmp(&reserved_price(b)))
            });
            let deprecated = [od, res]
                .into_iter()
                .flatten()
                .map(|o| lifecycle(o, date))
                .find(|l| *l != Lifecycle::Available)
                .map(|l| l.describe());
            out.push((
                p.id.clone(),
                Ok(Route {
                    platform: p.id.clone(),
                    model: m.clone(),
                    substitute: w.substitutes.contains(m),
                    on_demand: od.map(|o| format!("{}/{}", p.id, o.id)),
                    reserved: res.map(|o| format!("{}/{}", p.id, o.id)),
                    deprecated,
                }),
            ));
        }
    }
    out
}
