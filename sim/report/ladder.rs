//! Commitment-ladder outputs (`plan --ladder`): `ladder.json`, `ladder.csv`,
//! `ladder.png` and `ladder.md`.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::ladder::{Kind, LadderResult, Purchase, Strategy};
use crate::domain::time::{self, format_date, HOURS_PER_MONTH};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{compared, count, fixed, percent, usd_cents, usd_whole};
use crate::report::batch::BatchAside;
use crate::report::output::Staging;
use crate::report::plots::ladder::{self as chart, HeldPanel, LadderChart};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

/// Every file `plan --ladder` writes.
pub const LADDER_FILES: &[&str] = &["ladder.json", "ladder.csv", chart::FILE, "ladder.md"];

#[derive(Serialize)]
struct LadderJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a LadderResult,
    /// The deferrable classes' batch jobs of each month (730 h at the month's growth), the same
    /// beside every way; empty without deferrable classes.
    #[serde(skip_serializing_if = "<[BatchAside]>::is_empty")]
    batch_by_month: &'a [BatchAside],
}

/// Writes the ladder's files and commits the folder.
pub fn write_ladder(
    staging: Staging,
    sc: &Scenario,
    r: &LadderResult,
    manifest: Manifest,
    batch_by_month: &[BatchAside],
) -> Result<PathBuf, OutputError> {
    staging.write_json(
        "ladder.json",
        &LadderJson {
            manifest: &manifest,
            result: r,
            batch_by_month,
        },
    )?;
    staging.write("ladder.csv", &ladder_csv(r)?)?;
    staging.write(chart::FILE, &chart::png(&chart_data(sc, r))?)?;
    let mut md = render(sc, r);
    let starts: Vec<i64> = r.months.iter().map(|m| m.start_date).collect();
    batch_section(&mut md, &r.deployment, &starts, batch_by_month);
    staging.write("ladder.md", md.as_bytes())?;
    staging.commit()
}

/// "## Batch jobs by month": the deferrable classes' jobs, the same beside every way (batch
/// deployments share no capacity with the reserved one), month by month at the month's growth.
pub(crate) fn batch_section(
    o: &mut String,
    deployment: &str,
    starts: &[i64],
    by_month: &[BatchAside],
) {
    if by_month.is_empty() {
        return;
    }
    let total: f64 = by_month.iter().map(|b| b.cost_usd).sum();
    let _ = writeln!(o, "\n## Batch jobs by month (the same beside every way)\n");
    let _ = writeln!(o, "The deferrable classes go to batch deployments, which share no capacity with `{}`: every way above leaves them as they are, so their bill is not in the totals. Each month is simulated for 730 h at its growth: {} over the {} months. Jobs still running at a month's end are not billed in it.\n", deployment, usd_whole(total), by_month.len());
    let _ = writeln!(o, "| month | starts | batch cost | requests | completed | expired | completion p99 | within target |");
    let _ = writeln!(o, "|---:|---|---:|---:|---:|---:|---:|---:|");
    for (m, (b, start)) in by_month.iter().zip(starts).enumerate() {
        let sum = |f: fn(&crate::report::batch::BatchClassSummary) -> f64| {
            b.classes.iter().map(f).sum::<f64>()
        };
        let c = b.classes.first();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m + 1,
            format_date(*start),
            usd_cents(b.cost_usd),
            count(sum(|c| c.requests)),
            count(sum(|c| c.completed)),
            count(sum(|c| c.expired)),
            c.and_then(|c| c.completion_p99_hours)
                .map_or("-".into(), |h| format!("{h:.2} h")),
            c.and_then(|c| c.within_sla_share)
                .map_or("-".into(), |s| percent(s, 1)),
        );
    }
}

/// The cheapest ladder (always the first way).
fn best(r: &LadderResult) -> Option<&Strategy> {
    r.strategies.iter().find(|s| s.kind == Kind::Ladder)
}

/// `ladder.csv`: one row per month of the cheapest ladder.
pub fn ladder_csv(r: &LadderResult) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "ladder.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["month", "start_date", "demand_rps", "required_units"]
        .map(String::from)
        .to_vec();
    header.extend(r.terms.iter().map(|t| format!("units_{}", t.name)));
    header.extend(
        [
            "units_held",
            "committed_usd",
            "on_demand_usd",
            "bill_usd",
            "marginal_usd_per_unit",
            "meets_sla",
        ]
        .map(String::from),
    );
    row(&mut w, WHAT, &header)?;
    if let Some(s) = best(r) {
        for (m, need) in r.months.iter().enumerate() {
            let mut rec = vec![
                (m + 1).to_string(),
                format_date(need.start_date),
                fixed(need.demand_rps, 4),
                need.required(r.max_units).to_string(),
            ];
            rec.extend(s.held[m].iter().map(|u| u.to_string()));
            rec.extend([
                s.held[m].iter().sum::<u32>().to_string(),
                fixed(s.reserved_usd[m], 2),
                fixed(s.on_demand_usd[m], 2),
                fixed(s.month_usd(m), 2),
                fixed(r.marginal_usd.get(m).copied().unwrap_or(0.0), 2),
                need.units.is_some().to_string(),
            ]);
            row(&mut w, WHAT, &rec)?;
        }
    }
    finish(w, WHAT)
}

fn chart_data(sc: &Scenario, r: &LadderResult) -> LadderChart {
    // Longest terms at the bottom of the stack; terms never held left out.
    let mut order: Vec<usize> = (0..r.terms.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(r.terms[t].months));
    let held = best(r)
        .map(|s| {
            order
                .iter()
                .filter(|&&t| s.held.iter().any(|h| h[t] > 0))
                .map(|&t| {
                    (
                        format!("{} units", r.terms[t].name),
                        s.held.iter().map(|h| f64::from(h[t])).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    LadderChart {
        title: format!(
            "{}: commitment ladder for {} over {} months",
            sc.name,
            r.deployment,
            r.months.len()
        ),
        panels: vec![HeldPanel {
            heading: "units held by term against units required".into(),
            held,
            required: r.required().into_iter().map(f64::from).collect(),
        }],
        required_label: "units required".into(),
        bills: bills(r.strategies.iter().map(|s| {
            (
                s.name.as_str(),
                s.meets_sla,
                (0..r.months.len()).map(|m| s.month_usd(m)).collect(),
            )
        })),
    }
}

/// Each way's bill line for the chart, named with "(misses the SLA)" when it does.
pub(crate) fn bills<'a>(
    ways: impl Iterator<Item = (&'a str, bool, Vec<f64>)>,
) -> Vec<(String, Vec<f64>)> {
    ways.map(|(name, meets, usd)| {
        let name = if meets {
            name.to_string()
        } else {
            format!("{name} (misses the SLA)")
        };
        (name, usd)
    })
    .collect()
}

/// The terminal's summary lines.
pub fn headline(r: &LadderResult) -> Vec<String> {
    let mut out = Vec::new();
    for s in &r.strategies {
        out.push(format!(
            "ladder: {}: {}{} ({} committed, {} on-demand){}",
            s.name,
            usd_whole(s.total_usd),
            if s.kind == Kind::Ladder {
                format!(" over {} months", r.months.len())
            } else {
                String::new()
            },
            usd_whole(s.reserved_usd.iter().sum::<f64>() + s.after_window_usd),
            usd_whole(s.on_demand_usd.iter().sum::<f64>()),
            if s.meets_sla { "" } else { "; misses the SLA" }
        ));
    }
    out
}

/// Month `m` (0-based) as people count it, with its first day.
fn month_name(r: &LadderResult, m: u32) -> String {
    match r.months.get(m as usize) {
        Some(n) => format!("Month {} ({})", m + 1, format_date(n.start_date)),
        None => format!("Month {}", m + 1),
    }
}

/// The last day of month `m` (0-based), also past the window.
fn last_day(r: &LadderResult, m: u32) -> String {
    let start = r.months.first().map_or(0, |n| n.start_date);
    format_date(time::month_start(start, m + 1) - 1)
}

/// "1 month", "3 months".
pub(crate) fn plural(n: u32, what: &str) -> String {
    format!(
        "{} {what}{}",
        count(n as f64),
        if n == 1 { "" } else { "s" }
    )
}

/// "month 7" or "months 3–4" (1-based, inclusive).
pub(crate) fn months_span(from: u32, to: u32) -> String {
    if from == to {
        format!("month {from}")
    } else {
        format!("months {from}–{to}")
    }
}

/// Runs of the same purchase renewed whole as it ends: (first, last) indices.
pub(crate) fn runs(p: &[Purchase]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, b) in p.iter().enumerate() {
        let joined = out.last_mut().filter(|(_, last)| {
            let a = &p[*last];
            a.term == b.term
                && a.units == b.units
                && b.renewed_units == b.units
                && b.expiring_units == a.units
                && a.month + a.months == b.month
        });
        match joined {
            Some(run) => run.1 = i,
            // A renewal of an earlier run (others between) starts its own line.
            None => out.push((i, i)),
        }
    }
    out
}

/// What is done at a purchase: buy, renew, or renew some and add or let some lapse.
fn action(b: &Purchase) -> String {
    let (u, e, r) = (b.units, b.expiring_units, b.renewed_units);
    let units = |n: u32| count(n as f64);
    if r == 0 {
        format!("buy {} {} units", units(u), b.term)
    } else if r == u && e == u {
        format!("renew the {} {} units", units(u), b.term)
    } else if r == u {
        format!(
            "renew {} of the {} {} units ending (let {} lapse)",
            units(u),
            units(e),
            b.term,
            units(e - u)
        )
    } else {
        format!(
            "renew the {} {} units ending and add {} ({} in all)",
            units(e),
            b.term,
            units(u - r),
            units(u)
        )
    }
}

/// Why the term: its price per unit-month against the cheapest one-month term.
fn price_reason(b: &Purchase) -> String {
    let own = format!(
        "{} costs {} a unit-month",
        b.term,
        usd_cents(b.unit_month_usd)
    );
    match &b.versus_monthly {
        Some((name, usd)) if *usd > 0.0 => {
            let rel = b.unit_month_usd / usd - 1.0;
            let how = if rel <= 0.0 { "less" } else { "more" };
            format!(
                "{own}, {} {how} than {name} ({})",
                percent(rel.abs(), 1),
                usd_cents(*usd)
            )
        }
        _ => own,
    }
}

/// One purchase (or a run of renewals) as a sentence a reviewer can act on:
/// what to sign when, for which months, at what cost, and why.
fn sentence(r: &LadderResult, p: &[Purchase], (first, last): (usize, usize)) -> String {
    let b = &p[first];
    let end = p[last].month + p[last].months;
    let in_window = r.months.len() as u32;
    let (from, to) = (b.month + 1, end.min(in_window));
    let cost: f64 = p[first..=last].iter().map(|x| x.cost_usd).sum();
    let renewed = if first == last {
        String::new()
    } else if b.months == 1 {
        ", renewed monthly".to_string()
    } else {
        format!(", renewed as each {} term ends", b.term)
    };
    let held = if from == to {
        format!("for month {from}")
    } else {
        format!("for months {from}–{to} (to {})", last_day(r, to - 1))
    };
    let mut s = format!(
        "**{}: {}**{renewed} {held}; {} committed{}.",
        month_name(r, b.month),
        action(b),
        usd_whole(cost),
        if first == last { "" } else { " in all" }
    );
    if end > in_window {
        let _ = write!(
            s,
            " The last term runs {} past the window (to {}) and is paid in full.",
            plural(end - in_window, "month"),
            last_day(r, end - 1)
        );
    }
    let (lo, hi) = p[first..=last].iter().fold((u32::MAX, 0), |(lo, hi), x| {
        (lo.min(x.need_min), hi.max(x.need_max))
    });
    let span = months_span(from, to);
    let need = if lo == hi && from == to {
        format!("{span} requires {} units", count(lo as f64))
    } else if lo == hi {
        format!("{span} require {} units each", count(lo as f64))
    } else {
        format!(
            "the requirement never drops below {} units in {span} (at most {})",
            count(lo as f64),
            count(hi as f64)
        )
    };
    let _ = write!(s, " Why: {need}, and {}.", price_reason(b));
    s.push_str(&without_sentence(b, from));
    s
}

/// One way's line of ladder.md's answer table (units or a token-rate reservation).
pub(crate) struct AnswerRow<'a> {
    pub name: &'a str,
    /// Committed per month of the window.
    pub reserved_usd: &'a [f64],
    pub after_window_usd: f64,
    /// On demand (and, for a rate ladder, every other deployment) per month.
    pub on_demand_usd: &'a [f64],
    pub total_usd: f64,
    pub meets_sla: bool,
}

/// ladder.md's "The answer": each way's committed, after-window, on-demand and total bills.
/// `on_demand` names the third column.
pub(crate) fn answer_table<'a>(
    o: &mut String,
    on_demand: &str,
    rows: impl Iterator<Item = AnswerRow<'a>>,
) {
    let _ = writeln!(o, "## The answer\n");
    let _ = writeln!(
        o,
        "| way | committed in the window | committed after it | {on_demand} | total | meets the SLA every month |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---|");
    for s in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            s.name,
            usd_whole(s.reserved_usd.iter().sum::<f64>()),
            usd_whole(s.after_window_usd),
            usd_whole(s.on_demand_usd.iter().sum::<f64>()),
            usd_whole(s.total_usd),
            if s.meets_sla { "yes" } else { "no" }
        );
    }
    let _ = writeln!(o);
}

/// What leaving purchase `b` (bought in month `from`) out of the plan would cost: the last
/// sentence of its reason, from the flow's reduced cost (None: nothing else covers the month).
pub(crate) fn without_sentence(b: &Purchase, from: u32) -> String {
    let when = format!("{} in month {from}", b.term);
    match b.without_usd {
        Some(x) if x > 0.005 => format!(
            " Without buying {when}, the cheapest plan costs {} more.",
            usd_whole(x)
        ),
        Some(_) => {
            format!(" A plan without buying {when} costs the same (a tie: either may be signed).")
        }
        None => format!(" Nothing else the plan may buy covers month {from}."),
    }
}

/// The lines under the answer table: what to sign now, the ladder against each other way,
/// the months no number of units meets the SLA.
fn answer_notes(o: &mut String, r: &LadderResult, b: &Strategy) {
    let now: Vec<String> = b
        .purchases
        .iter()
        .filter(|p| p.month == 0)
        .map(|p| {
            format!(
                "{} {} units ({} committed)",
                count(p.units as f64),
                p.term,
                usd_whole(p.cost_usd)
            )
        })
        .collect();
    if !now.is_empty() {
        let _ = writeln!(o, "- Sign now (month 1): {}.", now.join("; "));
    }
    for other in r.strategies.iter().filter(|s| s.kind != Kind::Ladder) {
        let misses = if other.kind == Kind::OnDemand && !other.meets_sla {
            let n = r
                .months
                .iter()
                .filter(|m| m.on_demand.is_none_or(|(_, meets)| !meets))
                .count() as u32;
            format!(
                "; all on-demand misses the SLA in {} of {}",
                count(n as f64),
                plural(r.months.len() as u32, "month")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "- The cheapest ladder costs {}{misses}.",
            compared(b.total_usd, other.total_usd, &other.name, "over the plan")
        );
    }
    let missed: Vec<String> = r
        .months
        .iter()
        .filter(|m| m.units.is_none())
        .map(|m| (m.month + 1).to_string())
        .collect();
    if !missed.is_empty() {
        let _ = writeln!(
            o,
            "- No number of units up to max_units = {} meets the SLA in {} {}; the ladder holds {} there and misses it.",
            count(r.max_units as f64),
            if missed.len() == 1 { "month" } else { "months" },
            missed.join(", "),
            count(r.max_units as f64)
        );
    }
}

/// `ladder.md`: the answer, the purchases with their reasons, the months.
pub fn render(sc: &Scenario, r: &LadderResult) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# llmcap plan --ladder: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let n = r.months.len();
    let slas: Vec<String> = r
        .sla
        .iter()
        .map(|s| format!("`{}` p{} <= {} ms", s.class, s.percentile, s.ttft_ms))
        .collect();
    let _ = writeln!(
        o,
        "Deployment `{}` over {n} months from {}. Each month's requirement is the fewest units meeting the SLA ({}) in a sample of that month: its first {} h (from its first day, so the sample's weekdays and hours are those of the month's start), simulated at the month's growth and seasonality ({}). Units are bought in blocks of {} (minimum {}, step {}). A month is 730 h in every bill.\n",
        r.deployment,
        r.months.first().map(|m| format_date(m.start_date)).unwrap_or_default(),
        slas.join(", "),
        count(r.sample_hours as f64),
        plural(r.replications, "replication"),
        count(r.block as f64),
        count(r.min_units as f64),
        count(r.unit_step as f64)
    );
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "each month is sampled at the prices of its first hour, and each purchase is priced at the prices in force in the month it is made, which it keeps for its whole term.",
    ) {
        let _ = writeln!(o, "{note}\n");
    }
    answer_table(
        &mut o,
        "on-demand",
        r.strategies.iter().map(|s| AnswerRow {
            name: &s.name,
            reserved_usd: &s.reserved_usd,
            after_window_usd: s.after_window_usd,
            on_demand_usd: &s.on_demand_usd,
            total_usd: s.total_usd,
            meets_sla: s.meets_sla,
        }),
    );
    if let Some(b) = best(r) {
        answer_notes(&mut o, r, b);
        let _ = writeln!(o, "\n## Purchases, and why each is made then\n");
        if b.purchases.is_empty() {
            let _ = writeln!(o, "Nothing to buy: no month requires a unit.");
        }
        for run in runs(&b.purchases) {
            let _ = writeln!(o, "- {}", sentence(r, &b.purchases, run));
        }
        let _ = writeln!(o, "\n## Month by month (the cheapest ladder)\n");
        let terms: Vec<&str> = r.terms.iter().map(|t| t.name.as_str()).collect();
        let _ = writeln!(
            o,
            "| month | starts | requests/s | units required | {} | committed | on-demand | bill |",
            terms.join(" | ")
        );
        let _ = writeln!(o, "|---|---|---:|---:|{}", "---:|".repeat(terms.len() + 3));
        for (m, need) in r.months.iter().enumerate() {
            let held: Vec<String> = b.held[m].iter().map(|&u| count(u as f64)).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {}{} | {} | {} | {} | {} |",
                m + 1,
                format_date(need.start_date),
                fixed(need.demand_rps, 3),
                count(need.required(r.max_units) as f64),
                if need.units.is_none() {
                    " (misses)"
                } else {
                    ""
                },
                held.join(" | "),
                usd_whole(b.reserved_usd[m]),
                usd_whole(b.on_demand_usd[m]),
                usd_whole(b.month_usd(m))
            );
        }
    }
    let _ = writeln!(o, "\n## How this was computed\n");
    let _ = writeln!(
        o,
        "The cheapest ladder is the set of purchases that holds at least the requirement every month at the lowest committed cost, found exactly (a minimum-cost flow over the months; docs/model.md 12.4.1). Every purchase is paid for its whole term, also the months after the window. On-demand is the simulated bill (spillover and any other deployment) at the largest simulated number of units not above those held. Buy for the peak now holds the peak requirement all window on the single term that does it cheapest; re-plan monthly holds exactly the requirement on the cheapest one-month term; all on-demand removes the reserved deployment."
    );
    let terms: Vec<String> = r
        .terms
        .iter()
        .map(|t| {
            let length = if t.commits {
                format!("{} a purchase", plural(t.months, "month"))
            } else {
                "no commitment, held month by month".to_string()
            };
            format!(
                "{} ({length}, {} a unit-month)",
                t.name,
                usd_cents(t.price_per_unit_hour * HOURS_PER_MONTH)
            )
        })
        .collect();
    let _ = writeln!(o, "\nTerms: {}.", terms.join("; "));
    o
}
