//! The decision per workload: primary, fallback, or why there is none.

use serde::Serialize;

use crate::format::usd_whole;
use crate::input::catalog::Catalog;

use super::candidates::Exclusion;
use super::evaluate::Evaluation;
use super::profile::{Profile, Workload};

// ---------------------------------------------------------------------------
// The decision.
// ---------------------------------------------------------------------------

/// Costs within this fraction of each other are a tie, broken by TTFT.
pub const COST_TIE: f64 = 0.005;

/// What `pick` could answer for one workload.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", content = "why", rename_all = "kebab-case")]
pub enum Verdict {
    Recommended,
    /// No platform in the catalog sells any of the models.
    NoModel(String),
    /// Platforms sell it, but none with the compliance or residency needed.
    NoCompliantPlatform(String),
    /// Simulated: no configuration of any remaining platform meets the SLA.
    NoConfigurationMeetsSla(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadPick {
    pub workload: String,
    pub evaluations: Vec<Evaluation>,
    /// Platforms (or routes) not chosen, and why.
    pub excluded: Vec<(String, Exclusion)>,
    /// Indices into `evaluations`.
    pub primary: Option<usize>,
    pub fallback: Option<usize>,
    /// Why the two-provider minimum could not be met, when it could not; for a deferrable
    /// workload on a batch API, also why its fallback serves it online (only one platform
    /// sells a batch API for the model, or the others' miss the target).
    pub fallback_note: Option<String>,
    /// A deferrable workload on a batch API: how its fallback serves it (another platform's
    /// batch API, else that platform online). None for an online workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_kind: Option<FallbackKind>,
    /// A deferrable workload on a batch API: its fallback's monthly bill for the whole
    /// workload (the batch bill, or the on-demand bill when it serves it online).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_monthly_usd: Option<f64>,
    /// When no configuration meets the SLA: the evaluation that came
    /// closest (lowest TTFT at the SLA percentile).
    pub closest: Option<usize>,
    pub verdict: Verdict,
}

/// How the fallback of a deferrable workload on a batch API serves it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FallbackKind {
    /// Jobs resubmitted to the fallback platform's batch API.
    Batch,
    /// The workload served online on the fallback platform's on-demand offering.
    Online,
}

impl WorkloadPick {
    pub fn primary(&self) -> Option<&Evaluation> {
        self.primary.map(|i| &self.evaluations[i])
    }
    pub fn fallback(&self) -> Option<&Evaluation> {
        self.fallback.map(|i| &self.evaluations[i])
    }
    pub fn closest(&self) -> Option<&Evaluation> {
        self.closest.map(|i| &self.evaluations[i])
    }
}

fn sla_text(profile: &Profile) -> String {
    match profile.sla {
        Some(s) => s.to_string(),
        None => "no SLA (served within the client timeout)".into(),
    }
}

pub(super) fn choose(profile: &Profile, w: &Workload, mut picks: WorkloadPick) -> WorkloadPick {
    let eligible: Vec<usize> = (0..picks.evaluations.len())
        .filter(|&i| !picks.evaluations[i].route.substitute)
        .collect();
    let best = primary(&picks.evaluations, &eligible);
    picks.primary = best;
    let Some(b) = best else {
        return no_primary(profile, w, picks, &eligible);
    };
    picks.verdict = Verdict::Recommended;
    let (bc, _) = cost_and_ttft(&picks.evaluations[b]).expect("has best");
    let chosen_platform = picks.evaluations[b].route.platform.clone();
    let fb = fallback_order(&picks.evaluations, &chosen_platform);
    if picks.evaluations[b].on_batch().is_some() {
        if profile.two_provider {
            batch_fallback(w, &mut picks, b, &fb);
        } else {
            picks.fallback_note =
                Some("the profile waives the two-provider minimum (two_provider = false)".into());
        }
    } else if profile.two_provider {
        picks.fallback = fb.first().copied();
        if picks.fallback.is_none() {
            picks.fallback_note = Some(format!(
                "the two-provider minimum cannot be met: under the profile's constraints only {chosen_platform} sells {} on demand; add a substitute model (workload.substitutes) that another platform sells, or waive it with two_provider = false",
                w.models.iter().chain(&w.substitutes).cloned().collect::<Vec<_>>().join(" / ")
            ));
        }
    } else {
        picks.fallback_note =
            Some("the profile waives the two-provider minimum (two_provider = false)".into());
    }
    exclude_the_rest(profile, &mut picks, b, bc);
    picks
}

/// The fallback of a deferrable workload whose primary (`b`) is a batch API: the cheapest other
/// platform whose batch API meets the completion target (ranked as primaries are), else the
/// first of the online fallback order `fb` serving the workload on demand, with why (the flag
/// when only the primary's platform sells a batch API for the model); none when no other
/// platform sells the model.
fn batch_fallback(w: &Workload, picks: &mut WorkloadPick, b: usize, fb: &[usize]) {
    let (platform, model) = {
        let r = &picks.evaluations[b].route;
        (r.platform.clone(), r.model.clone())
    };
    let others = |e: &Evaluation| e.route.platform != platform && !e.route.substitute;
    let on_batch: Vec<usize> = (0..picks.evaluations.len())
        .filter(|&i| others(&picks.evaluations[i]) && picks.evaluations[i].on_batch().is_some())
        .collect();
    if let Some(f) = primary(&picks.evaluations, &on_batch) {
        let bill = picks.evaluations[f].on_batch().map(|x| x.monthly_usd);
        picks.fallback = Some(f);
        picks.fallback_kind = Some(FallbackKind::Batch);
        picks.fallback_monthly_usd = bill;
        return;
    }
    let Some(&f) = fb.first() else {
        picks.fallback_note = Some(format!(
            "the two-provider minimum cannot be met: under the profile's constraints only {platform} sells {}; add a substitute model (workload.substitutes) that another platform sells, or waive it with two_provider = false",
            w.models.iter().chain(&w.substitutes).cloned().collect::<Vec<_>>().join(" / ")
        ));
        return;
    };
    let e = &picks.evaluations[f];
    let bill = e.on_demand.as_ref().map_or(0.0, |c| c.monthly_usd.mean);
    let missing: Vec<String> = (picks.evaluations.iter())
        .filter(|e| others(e) && e.batch.is_some())
        .map(|e| e.route.platform.clone())
        .collect();
    let why = if missing.is_empty() {
        format!("only {platform} sells a batch API for {model}")
    } else {
        format!(
            "the other batch APIs for {model} ({}) miss the completion target",
            missing.join(", ")
        )
    };
    picks.fallback_note = Some(format!(
        "{why}; the fallback serves it online on {} at {} a month",
        e.route.platform,
        usd_whole(bill)
    ));
    picks.fallback = Some(f);
    picks.fallback_kind = Some(FallbackKind::Online);
    picks.fallback_monthly_usd = Some(bill);
}

/// What ranks an evaluation: the monthly cost of its best configuration, then its TTFT at
/// the SLA percentile (None: no configuration meets the SLA). A deferrable workload's batch
/// API, where it meets the completion-time target, is its configuration: its batch bill, then
/// its p99 completion time.
fn cost_and_ttft(e: &Evaluation) -> Option<(f64, f64)> {
    if let Some(b) = e.on_batch() {
        let p99 = b.completion_p99_hours.map_or(f64::INFINITY, |h| h * 3.6e6);
        return Some((b.monthly_usd, p99));
    }
    e.best().map(|c| {
        (
            c.monthly_usd.mean,
            c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean),
        )
    })
}

/// The primary among the `eligible` evaluations that meet the SLA: available offerings
/// before deprecated ones, then the cheapest, costs within [`COST_TIE`] going to the faster.
fn primary(evaluations: &[Evaluation], eligible: &[usize]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for &i in eligible {
        let Some((cost, ttft)) = cost_and_ttft(&evaluations[i]) else {
            continue;
        };
        best = match best {
            None => Some(i),
            Some(b) => {
                let (bc, bt) = cost_and_ttft(&evaluations[b]).expect("has best");
                let tie = (cost - bc).abs() <= COST_TIE * bc.max(cost);
                // Available offerings rank before deprecated ones, whatever they cost.
                let (dep, bdep) = (
                    evaluations[i].route.deprecated.is_some(),
                    evaluations[b].route.deprecated.is_some(),
                );
                if dep != bdep {
                    if dep {
                        Some(b)
                    } else {
                        Some(i)
                    }
                } else if (tie && ttft < bt) || (!tie && cost < bc) {
                    Some(i)
                } else {
                    Some(b)
                }
            }
        };
    }
    best
}

/// The TTFT at the SLA percentile of the evaluation's closest configuration, as text.
fn closest_ttft(e: &Evaluation) -> String {
    e.closest()
        .and_then(|c| c.ttft_sla_ms)
        .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean))
}

/// The answer when no eligible evaluation meets the SLA: why (unsold, or the closest
/// configurations), and every eligible route excluded for the SLA.
fn no_primary(
    profile: &Profile,
    w: &Workload,
    mut picks: WorkloadPick,
    eligible: &[usize],
) -> WorkloadPick {
    let sla = sla_text(profile);
    picks.verdict = if eligible.is_empty() {
        unsold_verdict(w, &picks.excluded)
    } else {
        let closest: Vec<String> = eligible
            .iter()
            .filter_map(|&i| {
                let e = &picks.evaluations[i];
                e.closest().map(|c| {
                    format!(
                        "{} {}: {} at the SLA percentile with {} ({:.2}% within target){}",
                        e.route.platform,
                        e.route.model,
                        c.ttft_sla_ms
                            .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean)),
                        c.label,
                        c.attainment.map_or(0.0, |a| a.mean * 100.0),
                        floor_note(e, profile)
                    )
                })
            })
            .collect();
        let ttft = |i: usize| {
            picks.evaluations[i]
                .closest()
                .and_then(|c| c.ttft_sla_ms)
                .map_or(f64::INFINITY, |t| t.mean)
        };
        picks.closest = eligible
            .iter()
            .copied()
            .min_by(|&a, &b| ttft(a).total_cmp(&ttft(b)));
        Verdict::NoConfigurationMeetsSla(format!(
            "no simulated configuration meets {sla}; closest: {}",
            closest.join("; ")
        ))
    };
    for &i in eligible {
        let e = &picks.evaluations[i];
        let x = Exclusion::Sla(format!(
            "{} via {}: best simulated TTFT at the SLA percentile {} (target {sla})",
            e.route.model,
            e.route.platform,
            closest_ttft(e)
        ));
        picks.excluded.push((e.route.platform.clone(), x));
    }
    picks
}

/// The fallback candidates, best first: another platform than the primary's, on demand (a
/// standby costs nothing until used): meeting the SLA first, then available, then the same
/// model (no prompt porting), then the cheapest, then the fastest.
fn fallback_order(evaluations: &[Evaluation], chosen_platform: &str) -> Vec<usize> {
    let mut fb: Vec<usize> = (0..evaluations.len())
        .filter(|&i| {
            evaluations[i].route.platform != chosen_platform && evaluations[i].on_demand.is_some()
        })
        .collect();
    fb.sort_by(|&x, &y| {
        let (ex, ey) = (&evaluations[x], &evaluations[y]);
        let ca = ex.on_demand.as_ref().expect("filtered");
        let cb = ey.on_demand.as_ref().expect("filtered");
        cb.meets_sla
            .cmp(&ca.meets_sla)
            .then(
                ex.route
                    .deprecated
                    .is_some()
                    .cmp(&ey.route.deprecated.is_some()),
            )
            .then(ex.route.substitute.cmp(&ey.route.substitute))
            .then(ca.monthly_usd.mean.total_cmp(&cb.monthly_usd.mean))
            .then(
                ca.p99_ms
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&cb.p99_ms.unwrap_or(f64::INFINITY)),
            )
    });
    fb
}

/// Every evaluation other than the primary (`b`, costing `bc` a month) and the fallback,
/// excluded with why: a substitute, dearer, or short of the SLA.
fn exclude_the_rest(profile: &Profile, picks: &mut WorkloadPick, b: usize, bc: f64) {
    let sla = sla_text(profile);
    for (i, e) in picks.evaluations.iter().enumerate() {
        if i == b || Some(i) == picks.fallback {
            continue;
        }
        let what = format!("{} via {}", e.route.model, e.route.platform);
        if let (false, Some(bt)) = (e.route.substitute, e.on_batch()) {
            let x = Exclusion::Cost(format!(
                "{what}: its batch API meets the completion target at {} per month, {:+.1}% against the chosen {}",
                usd_whole(bt.monthly_usd),
                (bt.monthly_usd / bc - 1.0) * 100.0,
                usd_whole(bc)
            ));
            picks.excluded.push((e.route.platform.clone(), x));
            continue;
        }
        let x = match (e.route.substitute, e.best()) {
            (true, _) => Exclusion::Cost(format!(
                "{what}: a substitute (fallback only), not the chosen fallback"
            )),
            (false, Some(c)) => Exclusion::Cost(format!(
                "{what}: meets the SLA at {} per month with {}, {:+.1}% against the chosen {}",
                usd_whole(c.monthly_usd.mean),
                c.label,
                (c.monthly_usd.mean / bc - 1.0) * 100.0,
                usd_whole(bc)
            )),
            (false, None) => Exclusion::Sla(format!(
                "{what}: best simulated TTFT at the SLA percentile {} (target {sla}){}",
                closest_ttft(e),
                floor_note(e, profile)
            )),
        };
        picks.excluded.push((e.route.platform.clone(), x));
    }
}

/// Why no platform could even be simulated: the model is sold only where the profile's needs
/// exclude it, no longer sold, or not sold at all.
fn unsold_verdict(w: &Workload, excluded: &[(String, Exclusion)]) -> Verdict {
    let sold_elsewhere = excluded
        .iter()
        .any(|(_, x)| matches!(x, Exclusion::Compliance(_) | Exclusion::Residency(_)));
    if sold_elsewhere {
        let why: Vec<String> = excluded
            .iter()
            .filter(|(_, x)| !matches!(x, Exclusion::MissingModel(_)))
            .map(|(p, x)| format!("{p}: {}", x.detail()))
            .collect();
        Verdict::NoCompliantPlatform(format!(
            "{} is sold, but by no platform that meets the profile's needs ({})",
            w.models.join(" / "),
            why.join("; ")
        ))
    } else if excluded
        .iter()
        .any(|(_, x)| matches!(x, Exclusion::Retired(_)))
    {
        let why: Vec<String> = excluded
            .iter()
            .filter(|(_, x)| matches!(x, Exclusion::Retired(_)))
            .map(|(p, x)| format!("{p}: {}", x.detail()))
            .collect();
        Verdict::NoModel(format!(
            "{} is no longer sold ({}); name a model on sale in the profile",
            w.models.join(" / "),
            why.join("; ")
        ))
    } else {
        let mut known: Vec<&str> = Catalog::shipped()
            .offerings()
            .map(|(_, o)| o.model.as_str())
            .collect();
        known.sort_unstable();
        known.dedup();
        Verdict::NoModel(format!(
            "no platform in the catalog sells {} (models it knows: {})",
            w.models.join(" or "),
            known.join(", ")
        ))
    }
}

/// When the catalog's own TTFT profile of an offering (unloaded) already
/// exceeds the SLA target at its percentile, capacity cannot fix it: say so.
fn floor_note(e: &Evaluation, profile: &Profile) -> String {
    let Some(sla) = profile.sla else {
        return String::new();
    };
    let catalog = Catalog::shipped();
    let floors: Vec<String> = [e.route.reserved.as_ref(), e.route.on_demand.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|id| {
            let (_, o) = catalog.offering(id)?;
            let (p50, p99) = (o.latency.median_ms.value, o.latency.p99_ms.value);
            let bound = if sla.percentile >= 99.0 { p99 } else { p50 };
            (bound > sla.ttft_ms).then(|| {
                format!(
                    "{id} is {p50:.0} ms median / {p99:.0} ms p99 before any queueing (catalog)"
                )
            })
        })
        .collect();
    if floors.is_empty() {
        String::new()
    } else {
        format!(
            "; no amount of capacity fixes it: {}, and more units remove queueing, not service time",
            floors.join("; ")
        )
    }
}
