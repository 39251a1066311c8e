//! pick.md's "## Deferrable workloads": each deferrable workload on every platform's batch API.

use std::fmt::Write as _;

use crate::analysis::pick::{FallbackKind, PickResult, WorkloadPick, BATCH_MET_SHARE};
use crate::format::usd_whole;

fn hours(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |h| format!("{h:.1} h"))
}

/// Per deferrable workload: the batch offering of each platform that sells one for the model
/// (its bill against the same tokens online, completion p50 / p99 against the target), and the
/// platforms that serve it online for want of one. Nothing without a deferrable workload.
pub(super) fn batch_section(m: &mut String, r: &PickResult) {
    let deferrable: Vec<usize> = (0..r.profile.workloads.len())
        .filter(|&i| r.profile.workloads[i].deferrable)
        .collect();
    if deferrable.is_empty() {
        return;
    }
    let _ = writeln!(m, "## Deferrable workloads\n");
    let _ = writeln!(
        m,
        "A deferrable workload goes to each platform's batch API for its model (the catalog's `[offering.batch]` on the platform's on-demand offering: its prices, whether jobs expire, its per-job caps), simulated as `llmcap run` simulates a deferrable class, with jobs submitted every `submit_every_minutes` (default {} min) and llmcap's default turnaround. The completion window is the one a planner would buy: the longest window the offering sells not beyond the workload's `completion_sla_hours` (in whole hours), or its shortest window when the target is shorter than every window or not given; the batch price does not depend on the window, and a window as long as the target expires no request that could still meet it. It meets its target when at least {:.0}% of its requests complete within `completion_sla_hours` of arrival; expired, refused and unfinished requests count against it, except those still unfinished at the horizon's end whose target lies past it (not judged). Platforms are ranked by the whole bill: the batch bill where the batch API meets the target, the online bill otherwise.\n",
        crate::input::scenario::batch::DEFAULT_SUBMIT_EVERY_MINUTES,
        BATCH_MET_SHARE * 100.0
    );
    let _ = writeln!(m, "| workload | platform | batch offering | window | jobs every | target | batch per month | same tokens online | completion p50 | completion p99 | within target | meets |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut online = Vec::new();
    for &i in &deferrable {
        let w = &r.workloads[i];
        for e in &w.evaluations {
            let Some(b) = &e.batch else {
                if !e.route.substitute {
                    online.push(format!(
                        "{} on {} ({})",
                        w.workload, e.route.platform, e.route.model
                    ));
                }
                continue;
            };
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} h{} | {} min | {} h | {} | {} | {} | {} | {:.2}% | {} |",
                w.workload,
                e.route.platform,
                b.offering,
                b.window_hours,
                if b.expires { ", expires" } else { "" },
                b.submit_every_minutes,
                b.completion_sla_hours,
                usd_whole(b.monthly_usd),
                usd_whole(b.online_monthly_usd),
                hours(b.completion_p50_hours),
                hours(b.completion_p99_hours),
                b.met_share * 100.0,
                if b.meets { "yes" } else { "no" }
            );
        }
    }
    let _ = writeln!(m);
    if !online.is_empty() {
        let _ = writeln!(
            m,
            "No batch API for the model, served online as any workload: {}.\n",
            online.join("; ")
        );
    }
    fallback_paragraph(m, r, &deferrable);
    if r.design.is_none() && r.recommended() {
        let _ = writeln!(
            m,
            "Every workload goes to a batch API: there is no online design to simulate (llmcap does not run batch-only scenarios).\n"
        );
    }
}

/// The deferrable workloads on a batch API and their fallbacks: what a fallback means in
/// operation, and that llmcap does not simulate it. Nothing when none is on a batch API.
fn fallback_paragraph(m: &mut String, r: &PickResult, deferrable: &[usize]) {
    let on_batch: Vec<&WorkloadPick> = (deferrable.iter())
        .map(|&i| &r.workloads[i])
        .filter(|w| w.primary().is_some_and(|p| p.on_batch().is_some()))
        .collect();
    if on_batch.is_empty() {
        return;
    }
    let _ = writeln!(
        m,
        "Fallbacks (the two-provider minimum applies to batch workloads too): the cheapest other platform whose batch API meets the completion target, else the first online fallback of the online rules (another platform's on-demand offering, preferring one that meets the SLA). When the primary's batch API is unavailable, its jobs are resubmitted to the fallback's batch API, or, with an online fallback, sent as online requests to the fallback's on-demand offering, billed at its on-demand prices. llmcap does not simulate batch outages: the fallback's bill is what the whole workload would cost there for a month, not a measured cost of an incident, and the design's injected outages and availability cover the online routes only.{}\n",
        if r.design.is_some() {
            " design.toml carries a batch fallback as a commented-out deployment, so `llmcap run design.toml` bills what pick reports."
        } else {
            ""
        }
    );
    for w in on_batch {
        let _ = writeln!(m, "- **{}**: {}", w.workload, fallback_line(w));
    }
    let _ = writeln!(m);
}

/// A deferrable workload on a batch API: its fallback, or why there is none.
pub(super) fn fallback_line(w: &WorkloadPick) -> String {
    let note = w.fallback_note.clone().unwrap_or_default();
    match (w.fallback(), w.fallback_kind) {
        (Some(f), Some(FallbackKind::Batch)) => {
            let b = f.on_batch().expect("a batch fallback meets the target");
            format!(
                "Fallback **{}**'s batch API for {} ({}): {} per month, {} of requests completed within {} h; jobs are resubmitted there when {}'s batch API is unavailable.",
                f.route.platform,
                f.route.model,
                b.offering,
                usd_whole(b.monthly_usd),
                pct(b.met_share),
                b.completion_sla_hours,
                w.primary().map_or("", |p| p.route.platform.as_str())
            )
        }
        (Some(f), _) => format!(
            "Fallback online: {note} (its on-demand offering {}{}).",
            f.route.on_demand.as_deref().unwrap_or_default(),
            if f.on_demand.as_ref().is_some_and(|c| c.meets_sla) {
                ", meeting the profile's TTFT SLA"
            } else {
                ", missing the profile's TTFT SLA"
            }
        ),
        (None, _) => format!("No fallback: {note}."),
    }
}

/// The headline's fallback of a deferrable workload on a batch API.
pub(super) fn fallback_brief(w: &WorkloadPick) -> String {
    match (w.fallback(), w.fallback_kind, w.fallback_monthly_usd) {
        (Some(f), Some(FallbackKind::Batch), Some(usd)) => format!(
            "; fallback {} batch API, {} per month",
            f.route.platform,
            usd_whole(usd)
        ),
        (Some(f), _, Some(usd)) => format!(
            "; fallback {} {} online, {} per month",
            f.route.platform,
            f.route.model,
            usd_whole(usd)
        ),
        _ => "; no fallback".into(),
    }
}

/// The routing policy's words for a batch workload's fallback.
pub(super) fn resubmit(w: &WorkloadPick) -> String {
    match (w.fallback(), w.fallback_kind) {
        (Some(f), Some(FallbackKind::Batch)) => format!(
            "; when that batch API is unavailable, resubmit the jobs to {}'s ({})",
            f.route.platform,
            f.on_batch().map_or("", |b| b.offering.as_str())
        ),
        (Some(f), _) => format!(
            "; when that batch API is unavailable, send the requests online to {} {} on demand",
            f.route.platform, f.route.model
        ),
        _ => String::new(),
    }
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}
