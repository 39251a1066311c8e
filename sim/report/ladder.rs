//! Commitment-ladder outputs (`plan --ladder`): `ladder.json`, `ladder.csv`,
//! `ladder.png` and `ladder.md`.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::ladder::{Kind, LadderResult, Purchase, Strategy};
use crate::domain::time::format_date;
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{compared, fixed, usd_cents, usd_whole};
use crate::report::output::Staging;
use crate::report::plots::ladder::{self as chart, LadderChart};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

/// Every file `plan --ladder` writes.
pub const LADDER_FILES: &[&str] = &["ladder.json", "ladder.csv", chart::FILE, "ladder.md"];

#[derive(Serialize)]
struct LadderJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a LadderResult,
}

/// Writes the ladder's files and commits the folder.
pub fn write_ladder(
    staging: Staging,
    sc: &Scenario,
    r: &LadderResult,
    manifest: Manifest,
) -> Result<PathBuf, OutputError> {
    let json = serde_json::to_vec_pretty(&LadderJson {
        manifest: &manifest,
        result: r,
    })
    .map_err(|e| OutputError::Encode {
        what: "ladder.json",
        message: e.to_string(),
    })?;
    staging.write("ladder.json", &json)?;
    staging.write("ladder.csv", &ladder_csv(r)?)?;
    staging.write(chart::FILE, &chart::png(&chart_data(sc, r))?)?;
    staging.write("ladder.md", render(sc, r).as_bytes())?;
    staging.commit()
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
                        r.terms[t].name.clone(),
                        s.held.iter().map(|h| h[t]).collect(),
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
        held,
        required: r.required(),
        bills: r
            .strategies
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    (0..r.months.len()).map(|m| s.month_usd(m)).collect(),
                )
            })
            .collect(),
    }
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

/// Runs of the same purchase renewed as it ends: (first, last) indices.
fn runs(p: &[Purchase]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, b) in p.iter().enumerate() {
        let joined = out.last_mut().filter(|(_, last)| {
            let a = &p[*last];
            b.renewal && a.term == b.term && a.units == b.units && a.month + a.months == b.month
        });
        match joined {
            Some(run) => run.1 = i,
            None => {
                // A renewal of an earlier run (others between) starts its own line.
                out.push((i, i));
            }
        }
    }
    out
}

/// One purchase (or a run of renewals) as a sentence with its reasons.
fn sentence(r: &LadderResult, p: &[Purchase], (first, last): (usize, usize)) -> String {
    let b = &p[first];
    let end = p[last].month + p[last].months;
    let in_window = r.months.len() as u32;
    let verb = if b.renewal { "renew" } else { "buy" };
    let (from, to) = (b.month + 1, end.min(in_window));
    let held = if from == to {
        format!("held in month {from}")
    } else {
        format!("held in months {from}–{to}")
    };
    let mut s = if first == last {
        format!(
            "**{}: {verb} {} {} units**, {held} ({}).",
            month_name(r, b.month),
            b.units,
            b.term,
            usd_whole(b.cost_usd)
        )
    } else {
        let cost: f64 = p[first..=last].iter().map(|x| x.cost_usd).sum();
        format!(
            "**{}: {verb} {} {} units and renew them as each term ends**, {held} ({} in all).",
            month_name(r, b.month),
            b.units,
            b.term,
            usd_whole(cost)
        )
    };
    if end > in_window {
        let _ = write!(
            s,
            " The last term runs {} month(s) past the window, paid in full.",
            end - in_window
        );
    }
    let (lo, hi) = p[first..=last].iter().fold((u32::MAX, 0), |(lo, hi), x| {
        (lo.min(x.need_min), hi.max(x.need_max))
    });
    if lo == hi {
        let _ = write!(s, " The requirement in those months is {lo} units");
    } else {
        let _ = write!(
            s,
            " The requirement in those months never drops below {lo} units (at most {hi})"
        );
    }
    match &b.versus_monthly {
        Some((name, usd)) => {
            let _ = write!(
                s,
                "; {} costs {} a unit-month against {} {name}.",
                b.term,
                usd_cents(b.unit_month_usd),
                usd_cents(*usd)
            );
        }
        None => {
            let _ = write!(
                s,
                "; {} costs {} a unit-month.",
                b.term,
                usd_cents(b.unit_month_usd)
            );
        }
    }
    match b.without_usd {
        Some(x) if x > 0.005 => {
            let _ = write!(
                s,
                " Without buying {} in {}, the cheapest plan costs {} more.",
                b.term,
                month_name(r, b.month).to_lowercase(),
                usd_whole(x)
            );
        }
        Some(_) => {
            let _ = write!(
                s,
                " Another plan without it costs the same (a tie; this one was found first)."
            );
        }
        None => {
            let _ = write!(
                s,
                " Nothing else the plan may buy covers {} at that point.",
                month_name(r, b.month).to_lowercase()
            );
        }
    }
    s
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
        "Deployment `{}` over {n} months from {}. Each month's requirement is the fewest units meeting the SLA ({}) in the month's first {} h, simulated at that month's growth and seasonality ({} replication(s)); units are bought in blocks of {} (minimum {}, step {}). A month is 730 h in every bill.\n",
        r.deployment,
        r.months.first().map(|m| format_date(m.start_date)).unwrap_or_default(),
        slas.join(", "),
        r.sample_hours,
        r.replications,
        r.block,
        r.min_units,
        r.unit_step
    );
    let _ = writeln!(o, "## The answer\n");
    let _ = writeln!(
        o,
        "| way | committed in the window | committed after it | on-demand | total | meets the SLA every month |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---|");
    for s in &r.strategies {
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
    if let Some(b) = best(r) {
        for other in r.strategies.iter().filter(|s| s.kind != Kind::Ladder) {
            let _ = writeln!(
                o,
                "- The cheapest ladder costs {}.",
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
                "- No number of units up to max_units = {} meets the SLA in month(s) {}; the ladder holds {} there and misses it.",
                r.max_units,
                missed.join(", "),
                r.max_units
            );
        }
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
            let held: Vec<String> = b.held[m].iter().map(|u| u.to_string()).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {} | {}{} | {} | {} | {} | {} |",
                m + 1,
                format_date(need.start_date),
                fixed(need.demand_rps, 3),
                need.required(r.max_units),
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
            format!(
                "{} ({} month(s) a purchase, {} a unit-month)",
                t.name,
                t.months,
                usd_cents(t.price_per_unit_hour * crate::domain::time::HOURS_PER_MONTH)
            )
        })
        .collect();
    let _ = writeln!(o, "\nTerms: {}.", terms.join("; "));
    o
}
