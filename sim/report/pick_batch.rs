//! pick.md's "## Deferrable workloads": each deferrable workload on every platform's batch API.

use std::fmt::Write as _;

use crate::analysis::pick::{PickResult, BATCH_MET_SHARE};
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
    if r.design.is_none() && r.recommended() {
        let _ = writeln!(
            m,
            "Every workload goes to a batch API: there is no online design to simulate (llmcap does not run batch-only scenarios).\n"
        );
    }
}
