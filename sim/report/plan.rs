//! Plan outputs: `plan.json`, `plan.csv`, `cost_vs_units.png` and `plan.md`.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::plan::{Candidate, Commitment, LatencyFloor, Mode, PlanResult};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{compared, count, fixed, fixed_opt, usd_cents, usd_whole};
use crate::model::metrics::MeanCi;
use crate::report::batch::BatchAside;
use crate::report::output::Staging;
use crate::report::plots::{
    self,
    cost_vs_units::{CostVsUnitsChart, UnitsPoint},
};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

/// Every file a plan may write (litellm_config.yaml only when a configuration meets the SLA).
pub const PLAN_FILES: &[&str] = &[
    "plan.json",
    "plan.csv",
    "cost_vs_units.png",
    "plan.md",
    super::litellm::FILE,
];

#[derive(Serialize)]
struct PlanJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a PlanResult,
    /// The deferrable classes' batch jobs, the same beside every configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a BatchAside>,
}

fn money_ci(c: &MeanCi) -> String {
    if c.n > 1 && c.half_width() > 0.0 {
        format!("{} ± {}", usd_cents(c.mean), usd_cents(c.half_width()))
    } else {
        usd_cents(c.mean)
    }
}

/// "$1,234,560 over the term (110 units x 8,760 h x $1.2813 per unit-hour)".
pub fn signs(k: &Commitment) -> String {
    format!(
        "{} over the term ({} unit{} x {} h x ${:.4} per unit-hour)",
        usd_whole(k.total_usd),
        k.units,
        if k.units == 1 { "" } else { "s" },
        count(k.term_hours),
        k.price_per_unit_hour
    )
}

/// What a latency floor is, as a sentence.
pub fn floor_sentence(f: &LatencyFloor) -> String {
    format!(
        "`{}` answers in {} ms median / {} ms p99 before any queueing{}, so class `{}` cannot meet p{} <= {} ms: its latency floor at that percentile is {} ms.",
        f.deployment,
        count(f.median_ms),
        count(f.p99_ms),
        if f.gateway_ms > 0.0 {
            format!(" (plus {} ms at the gateway)", count(f.gateway_ms))
        } else {
            String::new()
        },
        f.class,
        f.percentile,
        count(f.target_ms),
        count(f.floor_ms)
    )
}

fn describe(c: &Candidate, r: &PlanResult) -> String {
    match c.mode {
        Mode::OnDemandOnly => format!(
            "all on-demand ({})",
            r.compare.as_deref().unwrap_or("the remaining deployments")
        ),
        Mode::ReservedOnly => format!(
            "{} units of `{}`, {} term, no spillover",
            c.units, r.deployment, c.term
        ),
        Mode::ReservedSpillover => format!(
            "{} units of `{}`, {} term, spilling to `{}`",
            c.units,
            r.deployment,
            c.term,
            r.compare.as_deref().unwrap_or("on-demand")
        ),
    }
}

/// The lines the terminal shows: the chosen plan and the all-on-demand cost.
pub fn headline(r: &PlanResult, batch: Option<&BatchAside>) -> Vec<String> {
    let mut out = Vec::new();
    match r.chosen() {
        Some(c) => out.push(format!(
            "plan: {}: {} per month{}",
            describe(c, r),
            money_ci(&c.monthly_usd),
            c.commitment
                .map(|k| format!("; signs {}", signs(&k)))
                .unwrap_or_default()
        )),
        None if !r.latency_floors.is_empty() => {
            out.push(
                "plan: no configuration meets the SLA, and no amount of capacity fixes it:".into(),
            );
            out.extend(r.latency_floors.iter().map(floor_sentence));
        }
        None => out.push("plan: no configuration meets the SLA (see plan.md)".into()),
    }
    let chosen = r.chosen().map(|c| (c.mode, c.term.clone()));
    for c in r
        .candidates
        .iter()
        .filter(|c| c.meets_sla && Some((c.mode, c.term.clone())) != chosen)
        .filter(|c| c.mode != Mode::OnDemandOnly)
        .take(3)
    {
        out.push(format!(
            "runner-up: {}: {} per month",
            describe(c, r),
            money_ci(&c.monthly_usd)
        ));
    }
    if let Some(od) = &r.all_on_demand {
        out.push(format!(
            "all on-demand: {} per month, {} the SLA",
            money_ci(&od.monthly_usd),
            if od.meets_sla { "meets" } else { "misses" }
        ));
    }
    if let Some(b) = batch {
        out.push(format!(
            "batch jobs: {} per month on top of any of these (deferrable classes on batch deployments; see plan.md)",
            usd_cents(b.usd_per_month)
        ));
    }
    out
}

/// `plan.csv`: every configuration simulated.
pub fn plan_csv(r: &PlanResult) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "plan.csv";
    let mut terms: Vec<String> = Vec::new();
    for e in &r.evaluated {
        for t in e.monthly_usd.keys() {
            if !terms.contains(t) {
                terms.push(t.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "mode",
        "units",
        "replications",
        "meets_sla",
        "sla_attainment",
        "sla_attainment_ci95_low",
        "sla_attainment_ci95_high",
        "sla_ttft_ms",
        "sla_ttft_ci95_low_ms",
        "sla_ttft_ci95_high_ms",
        "reserved_utilization",
        "spilled_share",
        "throttled_share",
        "failed_share",
    ]
    .map(String::from)
    .to_vec();
    for t in &terms {
        header.push(format!("monthly_usd_{t}"));
        header.push(format!("monthly_usd_{t}_ci95_low"));
        header.push(format!("monthly_usd_{t}_ci95_high"));
    }
    row(&mut w, WHAT, &header)?;
    for e in &r.evaluated {
        let s = &e.summary;
        let cis = |v: &Option<MeanCi>, d: usize| -> [String; 3] {
            match v {
                Some(c) => [
                    fixed(c.mean, d),
                    fixed(c.ci95_low, d),
                    fixed(c.ci95_high, d),
                ],
                None => Default::default(),
            }
        };
        let mut rec = vec![
            format!("{:?}", e.mode),
            e.units.to_string(),
            s.replications.to_string(),
            e.meets().to_string(),
        ];
        rec[0] = serde_json::to_value(e.mode)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        rec.extend(cis(&s.sla_attainment, 5));
        rec.extend(cis(&s.sla_ttft_ms, 1));
        rec.push(fixed_opt(e.utilization, 4));
        rec.push(fixed(s.spilled_share, 5));
        rec.push(fixed(s.throttled_share, 5));
        rec.push(fixed(s.failed_share, 5));
        for t in &terms {
            rec.extend(cis(&e.monthly_usd.get(t).copied(), 2));
        }
        row(&mut w, WHAT, &rec)?;
    }
    finish(w, WHAT)
}

/// `plan.md`.
pub fn render(sc: &Scenario, r: &PlanResult, m: &Manifest, batch: Option<&BatchAside>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# llmcap plan: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    sla_paragraph(&mut o, r);
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "every cost below is the bill of the simulated hours at the prices of each hour (a reservation on each term too), scaled to 730 hours; commitments are signed at the prices of the first day.",
    ) {
        let _ = writeln!(o, "{note}
");
    }
    recommendation_section(&mut o, r);
    if let Some(b) = batch {
        super::batch::aside_section(&mut o, b, "plan");
    }
    candidates_section(&mut o, r);
    evaluated_section(&mut o, r);
    method_section(&mut o, m);
    o
}

/// The SLA each class must meet, and how "meets" is judged over replications.
fn sla_paragraph(o: &mut String, r: &PlanResult) {
    let slas: Vec<String> = r
        .sla
        .iter()
        .map(|s| format!("`{}` p{} <= {} ms", s.class, s.percentile, s.ttft_ms))
        .collect();
    let _ = writeln!(
        o,
        "SLA: {}. A configuration meets it when, for every class, the lower end of the 95% confidence interval (over {} replications of {} h) of the share of requests within the target is at or above the percentile; throttled and failed requests count as misses.\n",
        slas.join(", "),
        r.replications,
        r.horizon_hours
    );
}

/// "## Recommendation": the chosen configuration, or why none meets the SLA.
fn recommendation_section(o: &mut String, r: &PlanResult) {
    let _ = writeln!(o, "## Recommendation\n");
    match r.chosen() {
        Some(c) => {
            let _ = writeln!(
                o,
                "**{}: {} per month{}.**\n",
                describe(c, r),
                money_ci(&c.monthly_usd),
                c.commitment
                    .map(|k| format!("; it signs {}", signs(&k)))
                    .unwrap_or_default()
            );
            let _ = writeln!(
                o,
                "- Worst class attainment {}, TTFT at the SLA percentile {} ms.",
                c.attainment
                    .map(|a| format!("{:.3}%", a.mean * 100.0))
                    .unwrap_or("–".into()),
                c.ttft_sla_ms.map(|t| count(t.mean)).unwrap_or("–".into())
            );
            if let Some(u) = c.utilization {
                let _ = writeln!(
                    o,
                    "- Reserved utilization {:.1}%; {:.1}% of requests spilled, {:.2}% throttled.",
                    u * 100.0,
                    c.spilled_share * 100.0,
                    c.throttled_share * 100.0
                );
            }
            if let Some(od) = &r.all_on_demand {
                if od.mode != c.mode {
                    let _ = writeln!(
                        o,
                        "- All on-demand would cost {} per month and {} the SLA; this plan costs {}.",
                        money_ci(&od.monthly_usd),
                        if od.meets_sla { "meets" } else { "misses" },
                        compared(c.monthly_usd.mean, od.monthly_usd.mean, "all on-demand", "per month")
                    );
                }
            }
            let _ = writeln!(o);
        }
        None if !r.latency_floors.is_empty() => {
            let _ = writeln!(
                o,
                "**No configuration meets the SLA, and no amount of capacity fixes it.** More units remove queueing, not service time:\n"
            );
            for f in &r.latency_floors {
                let _ = writeln!(o, "- {}", floor_sentence(f));
            }
            let _ = writeln!(
                o,
                "\nRelax the SLA, or choose a deployment (model, region, platform) that answers faster; the table below shows how close each set-up came.\n"
            );
        }
        None => {
            let _ = writeln!(
                o,
                "**No configuration meets the SLA.** Raise `[plan] max_units`, relax the SLA, or look at the latency inputs: the table below shows how close each set-up came.\n"
            );
        }
    }
}

/// "## Candidates": the best configuration of each set-up and term, and the chart.
fn candidates_section(o: &mut String, r: &PlanResult) {
    let _ = writeln!(o, "## Candidates\n");
    let _ = writeln!(
        o,
        "The best configuration of each set-up and term, cheapest first among those meeting the SLA.\n"
    );
    let _ = writeln!(
        o,
        "| plan | $ per month | total commitment | meets SLA | worst attainment | TTFT at SLA pct (ms) | utilization | spilled | throttled |"
    );
    let _ = writeln!(
        o,
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for c in &r.candidates {
        let _ = writeln!(
            o,
            "| {}{} | {} | {} | {} | {} | {} | {} | {:.1}% | {:.2}% |",
            describe(c, r),
            c.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            money_ci(&c.monthly_usd),
            c.commitment
                .map(|k| format!("{} ({} h)", usd_whole(k.total_usd), count(k.term_hours)))
                .unwrap_or_else(|| "none".into()),
            if c.meets_sla { "yes" } else { "no" },
            c.attainment
                .map(|a| format!("{:.3}%", a.mean * 100.0))
                .unwrap_or("–".into()),
            c.ttft_sla_ms.map(|t| count(t.mean)).unwrap_or("–".into()),
            c.utilization
                .map(|u| format!("{:.1}%", u * 100.0))
                .unwrap_or("–".into()),
            c.spilled_share * 100.0,
            c.throttled_share * 100.0
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "![cost and p99 TTFT against units](cost_vs_units.png)\n");
}

/// "## Every configuration simulated": each evaluated configuration priced under every term.
fn evaluated_section(o: &mut String, r: &PlanResult) {
    let _ = writeln!(o, "## Every configuration simulated\n");
    let _ = writeln!(
        o,
        "`plan.csv` has these rows with every 95% confidence interval (Student t over \
         replications; costs never below 0, shares within 0–100%).\n"
    );
    let terms: Vec<&String> =
        r.evaluated
            .iter()
            .flat_map(|e| e.monthly_usd.keys())
            .fold(Vec::new(), |mut v, t| {
                if !v.contains(&t) {
                    v.push(t);
                }
                v
            });
    let head: Vec<String> = terms.iter().map(|t| format!("$/month {t}")).collect();
    let _ = writeln!(
        o,
        "| set-up | units | meets SLA | worst attainment | utilization | {} |",
        head.join(" | ")
    );
    let _ = writeln!(
        o,
        "| --- | ---: | --- | ---: | ---: |{}",
        " ---: |".repeat(terms.len())
    );
    for e in &r.evaluated {
        let costs: Vec<String> = terms
            .iter()
            .map(|t| {
                e.monthly_usd
                    .get(*t)
                    .map(|c| usd_cents(c.mean))
                    .unwrap_or("–".into())
            })
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            e.mode.label(),
            if e.mode == Mode::OnDemandOnly {
                "–".to_string()
            } else {
                e.units.to_string()
            },
            if e.meets() { "yes" } else { "no" },
            e.summary
                .sla_attainment
                .map(|a| format!("{:.3}%", a.mean * 100.0))
                .unwrap_or("–".into()),
            e.utilization
                .map(|u| format!("{:.1}%", u * 100.0))
                .unwrap_or("–".into()),
            costs.join(" | ")
        );
    }
    let _ = writeln!(o);
}

/// "## Method": how the search runs, and the inputs that reproduce it.
fn method_section(o: &mut String, m: &Manifest) {
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(o, "- Three set-ups on the same traffic (common random numbers): the scenario's routes (reserved + spillover), routes cut after the reserved deployment (reserved only: the client retries, then gives up), and the reserved deployment removed (on-demand only).");
    let _ = writeln!(o, "- Units are purchasable numbers only (min_units, then steps of unit_step). The fewest units meeting the SLA are found by bisection (attainment rises with units), then the cheapest number above it by ternary search (total cost with spillover is convex in units). The term changes the price, not the traffic, so each simulated configuration is priced under every term.");
    let _ = writeln!(o, "- Costs per month are the horizon's cost scaled to 730 hours. Reservations bill whether used or not.");
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (sha256 {}), seed {}.",
        m.llmcap_version, m.scenario_file, m.scenario_sha256, m.seed
    );
}

/// Writes every output of a plan into `staging` and moves it into place.
/// With the scenario file's `document`, also the chosen configuration as a LiteLLM config.
pub fn write_plan(
    staging: Staging,
    sc: &Scenario,
    r: &PlanResult,
    manifest: Manifest,
    document: Option<&toml::Table>,
    batch: Option<&BatchAside>,
) -> Result<PathBuf, OutputError> {
    staging.write_json(
        "plan.json",
        &PlanJson {
            manifest: &manifest,
            result: r,
            batch,
        },
    )?;
    staging.write("plan.csv", &plan_csv(r)?)?;
    draw(&staging, sc, r)?;
    staging.write("plan.md", render(sc, r, &manifest, batch).as_bytes())?;
    let chosen = crate::analysis::plan::chosen_scenario(sc, r).filter(super::litellm::expressible);
    if let (Some(doc), Some(chosen)) = (document, chosen) {
        let yaml = super::litellm::render(&chosen, doc, &manifest.scenario_file)?;
        staging.write(super::litellm::FILE, yaml.as_bytes())?;
    }
    staging.commit()
}

/// `cost_vs_units.png`: the configurations of the chosen set-up (or, when the
/// choice is all on-demand or nothing meets the SLA, of reserved + spillover)
/// priced at the chosen term (else the first term).
fn draw(staging: &Staging, sc: &Scenario, r: &PlanResult) -> Result<(), OutputError> {
    let chosen = r.chosen();
    let mode = match chosen.map(|c| c.mode) {
        Some(Mode::OnDemandOnly) | None => {
            if r.evaluated
                .iter()
                .any(|e| e.mode == Mode::ReservedSpillover)
            {
                Mode::ReservedSpillover
            } else {
                Mode::ReservedOnly
            }
        }
        Some(m) => m,
    };
    let configs: Vec<_> = r.evaluated.iter().filter(|e| e.mode == mode).collect();
    let term = chosen
        .filter(|c| c.mode == mode)
        .map(|c| c.term.clone())
        .or_else(|| {
            configs
                .first()
                .and_then(|e| e.monthly_usd.keys().next().cloned())
        })
        .unwrap_or_default();
    let points: Vec<UnitsPoint> = configs
        .iter()
        .filter_map(|e| {
            let c = e.monthly_usd.get(&term)?;
            Some(UnitsPoint {
                units: e.units as f64,
                cost: c.mean,
                cost_ci: Some((c.ci95_low, c.ci95_high)),
                reserved_cost: e.reserved_monthly_usd.get(&term).copied().unwrap_or(0.0),
                p99_ms: e.summary.ttft_p99_ms.map(|v| v.mean),
                p99_ci: e.summary.ttft_p99_ms.map(|v| (v.ci95_low, v.ci95_high)),
                meets_sla: e.summary.meets_sla,
            })
        })
        .collect();
    let marked = chosen
        .filter(|c| c.mode == mode)
        .and_then(|c| configs.iter().position(|e| e.units == c.units));
    let chart = CostVsUnitsChart {
        points,
        cost_label: format!("cost, $ per month ({term} term)"),
        on_demand_only_cost: r.all_on_demand.as_ref().map(|c| c.monthly_usd.mean),
        // The planned SLA (--sla replaces the classes' own), when it is one p99 target.
        sla_ms: r.sla.first().and_then(|s| {
            r.sla
                .iter()
                .all(|x| x.percentile == 99.0 && x.ttft_ms == s.ttft_ms)
                .then_some(s.ttft_ms)
        }),
        cheapest: marked,
        chosen_label: chosen
            .filter(|c| c.mode == mode)
            .map(|c| format!("plan: {} units, {}", c.units, usd_cents(c.monthly_usd.mean))),
        x_label: format!("reserved units ({}, {})", r.deployment, mode.label()),
    };
    staging.write(
        plots::cost_vs_units::FILE,
        &plots::cost_vs_units::png(
            &format!("{}: configurations simulated by plan", sc.name),
            &chart,
        )?,
    )
}
