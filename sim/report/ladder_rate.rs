//! Commitment-ladder outputs for a token-rate reservation (`plan --ladder` on a
//! `[deployment.reserved_rate]`): the same `ladder.json`, `ladder.csv`, `ladder.png` and
//! `ladder.md` as for reserved units, in the reservation's own quantities (input and output
//! TPM, or USD per minute) instead of units.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::ladder::rate::{RateLadder, RateSide, RateWay};
use crate::analysis::ladder::{Kind, Purchase};
use crate::domain::time::{self, format_date, HOURS_PER_MONTH};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{compared, count, fixed, grouped, percent, usd_cents, usd_whole};
use crate::report::batch::BatchAside;
use crate::report::ladder::{batch_section, bills, months_span, plural, runs};
use crate::report::output::Staging;
use crate::report::plots::ladder::{self as chart, HeldPanel, LadderChart};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

#[derive(Serialize)]
struct RateLadderJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a RateLadder,
    #[serde(skip_serializing_if = "<[BatchAside]>::is_empty")]
    batch_by_month: &'a [BatchAside],
}

/// Writes the ladder's files and commits the folder.
pub fn write_rate_ladder(
    staging: Staging,
    sc: &Scenario,
    r: &RateLadder,
    manifest: Manifest,
    batch_by_month: &[BatchAside],
) -> Result<PathBuf, OutputError> {
    staging.write_json(
        "ladder.json",
        &RateLadderJson {
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

fn best(r: &RateLadder) -> Option<&RateWay> {
    r.strategies.iter().find(|s| s.kind == Kind::Ladder)
}

/// "input TPM", "USD per minute".
fn quantity(s: &RateSide) -> String {
    if s.side == "spend" {
        s.unit.to_string()
    } else {
        format!("{} {}", s.side, s.unit)
    }
}

/// A size of side `s`: "64,000 input TPM", "$0.50 per minute".
fn size(s: &RateSide, v: f64) -> String {
    if s.side == "spend" {
        format!("${} per minute", grouped(v, 4))
    } else {
        format!("{} {}", count(v), quantity(s))
    }
}

/// The csv's name of side `s`'s quantity: "input_tpm", "usd_per_minute".
fn column(s: &RateSide) -> String {
    if s.side == "spend" {
        "usd_per_minute".into()
    } else {
        format!("{}_tpm", s.side)
    }
}

/// `ladder.csv`: one row per month of the cheapest ladder.
pub fn ladder_csv(r: &RateLadder) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "ladder.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["month", "start_date", "demand_rps"]
        .map(String::from)
        .to_vec();
    for s in &r.sides {
        header.push(format!("required_{}", column(s)));
        header.extend(s.terms.iter().map(|t| format!("{}_{}", column(s), t.name)));
        header.push(format!("{}_held", column(s)));
    }
    header.extend(
        ["committed_usd", "on_demand_usd", "bill_usd"]
            .map(String::from)
            .to_vec(),
    );
    header.extend(
        r.sides
            .iter()
            .map(|s| format!("marginal_usd_per_{}_block", s.side)),
    );
    header.push("meets_sla".into());
    row(&mut w, WHAT, &header)?;
    if let Some(b) = best(r) {
        for (m, need) in r.months.iter().enumerate() {
            let mut rec = vec![
                (m + 1).to_string(),
                format_date(need.start_date),
                fixed(need.demand_rps, 4),
            ];
            for (i, s) in r.sides.iter().enumerate() {
                rec.push(trim(need.required[i]));
                rec.extend(
                    b.sides[i].held[m]
                        .iter()
                        .map(|&k| trim(f64::from(k) * s.block)),
                );
                rec.push(trim(b.held[m][i]));
            }
            rec.extend([
                fixed(b.reserved_usd[m], 2),
                fixed(b.on_demand_usd[m], 2),
                fixed(b.month_usd(m), 2),
            ]);
            rec.extend(
                b.sides
                    .iter()
                    .map(|sw| fixed(sw.marginal_usd.get(m).copied().unwrap_or(0.0), 2)),
            );
            rec.push(b.meets[m].to_string());
            row(&mut w, WHAT, &rec)?;
        }
    }
    finish(w, WHAT)
}

/// A size without trailing zeros: "64000", "0.35".
fn trim(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn chart_data(sc: &Scenario, r: &RateLadder) -> LadderChart {
    let panels = r
        .sides
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut order: Vec<usize> = (0..s.terms.len()).collect();
            order.sort_by_key(|&t| std::cmp::Reverse(s.terms[t].months));
            let held = best(r)
                .map(|b| {
                    order
                        .iter()
                        .filter(|&&t| b.sides[i].held.iter().any(|h| h[t] > 0))
                        .map(|&t| {
                            (
                                s.terms[t].name.clone(),
                                b.sides[i]
                                    .held
                                    .iter()
                                    .map(|h| f64::from(h[t]) * s.block)
                                    .collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            HeldPanel {
                heading: format!("{} held by term against {} required", quantity(s), s.side),
                held,
                required: r.months.iter().map(|m| m.required[i]).collect(),
            }
        })
        .collect();
    LadderChart {
        title: format!(
            "{}: token-rate reservation ladder for {} over {} months",
            sc.name,
            r.deployment,
            r.months.len()
        ),
        panels,
        required_label: "required (economic size)".into(),
        bills: bills(r.strategies.iter().map(|s| {
            (
                s.name.as_str(),
                s.meets_sla,
                (0..r.months.len()).map(|m| s.month_usd(m)).collect(),
            )
        })),
    }
}

/// The terminal's summary lines.
pub fn headline(r: &RateLadder) -> Vec<String> {
    r.strategies
        .iter()
        .map(|s| {
            format!(
                "ladder: {}: {}{} ({} committed, {} on-demand and other){}",
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
            )
        })
        .collect()
}

/// Month `m` (0-based) with its first day, also past the window.
fn month_name(r: &RateLadder, m: u32) -> String {
    let start = r.months.first().map_or(0, |n| n.start_date);
    format!(
        "Month {} ({})",
        m + 1,
        format_date(time::month_start(start, m))
    )
}

fn last_day(r: &RateLadder, m: u32) -> String {
    let start = r.months.first().map_or(0, |n| n.start_date);
    format_date(time::month_start(start, m + 1) - 1)
}

/// Side `s`'s price per month of a block, per 1,000 TPM (tokens) or per USD per minute.
fn per_price_unit(s: &RateSide, block_month: f64) -> (f64, &'static str) {
    if s.side == "spend" {
        (block_month / s.block, "per USD-per-minute-month")
    } else {
        (block_month / s.block * 1000.0, "per 1,000 TPM-month")
    }
}

/// What is done at a purchase, in the side's quantity.
fn action(s: &RateSide, b: &Purchase) -> String {
    let amount = |k: u32| size(s, f64::from(k) * s.block);
    let (u, e, r) = (b.units, b.expiring_units, b.renewed_units);
    if r == 0 {
        format!("buy {} on {}", amount(u), b.term)
    } else if r == u && e == u {
        format!("renew the {} on {}", amount(u), b.term)
    } else if r == u {
        format!(
            "renew {} of the {} on {} ending (let {} lapse)",
            amount(u),
            amount(e),
            b.term,
            amount(e - u)
        )
    } else {
        format!(
            "renew the {} on {} ending and add {} ({} in all)",
            amount(e),
            b.term,
            amount(u - r),
            amount(u)
        )
    }
}

/// One purchase (or a run of renewals) of side `s` as a sentence: what to sign when, for
/// which months, at what cost, and why (the requirement it holds, its price against the
/// cheapest one-month term, and what the cheapest plan without it costs more).
fn sentence(r: &RateLadder, s: &RateSide, p: &[Purchase], (first, last): (usize, usize)) -> String {
    let b = &p[first];
    let end = p[last].month + p[last].months;
    let in_window = r.months.len() as u32;
    let (from, to) = (b.month + 1, end.min(in_window));
    let cost: f64 = p[first..=last].iter().map(|x| x.cost_usd).sum();
    let renewed = match (first == last, b.months) {
        (true, _) => String::new(),
        (false, 1) => ", renewed monthly".into(),
        (false, _) => format!(", renewed as each {} term ends", b.term),
    };
    let held = if from == to {
        format!("for month {from}")
    } else {
        format!("for months {from}–{to} (to {})", last_day(r, to - 1))
    };
    let mut o = format!(
        "**{}: {}**{renewed} {held}; {} committed{}.",
        month_name(r, b.month),
        action(s, b),
        usd_whole(cost),
        if first == last { "" } else { " in all" }
    );
    if end > in_window {
        let _ = write!(
            o,
            " The last term runs {} past the window (to {}) and is paid in full.",
            plural(end - in_window, "month"),
            last_day(r, end - 1)
        );
    }
    let (lo, hi) = p[first..=last].iter().fold((u32::MAX, 0), |(lo, hi), x| {
        (lo.min(x.need_min), hi.max(x.need_max))
    });
    let amount = |k: u32| size(s, f64::from(k) * s.block);
    let span = months_span(from, to);
    let need = if lo == hi && from == to {
        format!("{span} requires {}", amount(lo))
    } else if lo == hi {
        format!("{span} require {} each", amount(lo))
    } else {
        format!(
            "the {} requirement never drops below {} in {span} (at most {})",
            s.side,
            amount(lo),
            amount(hi)
        )
    };
    let (own, unit) = per_price_unit(s, b.unit_month_usd);
    let mut price = format!("{} costs {} {unit}", b.term, usd_cents(own));
    if let Some((name, usd)) = b.versus_monthly.as_ref().filter(|(_, u)| *u > 0.0) {
        let rel = b.unit_month_usd / usd - 1.0;
        let (theirs, _) = per_price_unit(s, *usd);
        if rel.abs() < 5e-4 {
            let _ = write!(price, ", the same as {name}");
        } else {
            let how = if rel < 0.0 { "less" } else { "more" };
            let _ = write!(
                price,
                ", {} {how} than {name} ({})",
                percent(rel.abs(), 1),
                usd_cents(theirs)
            );
        }
    }
    let _ = write!(o, " Why: {need}, and {price}.");
    o.push_str(&crate::report::ladder::without_sentence(b, from));
    o
}

/// Purchases below the vendor's minimum on their own, and months holding less than it: the
/// block model treats the minimum as one on what a side holds (docs/model.md 12.4.1).
fn minimum_notes(o: &mut String, r: &RateLadder, b: &RateWay) {
    for (i, s) in r.sides.iter().enumerate().filter(|(_, s)| s.min > 0.0) {
        let small = b.sides[i]
            .purchases
            .iter()
            .filter(|p| f64::from(p.units) * s.block < s.min - 1e-9)
            .count();
        let thin: Vec<String> = (0..r.months.len())
            .filter(|&m| b.held[m][i] > 0.0 && b.held[m][i] < s.min - 1e-9)
            .map(|m| (m + 1).to_string())
            .collect();
        if small > 0 {
            let _ = writeln!(
                o,
                "- {} of the {} purchases are smaller than the vendor's minimum of {}: each adds to a reservation held at or above it (an assumption: the vendor's pages state a minimum, not whether it applies to each purchase or to what is held).",
                count(small as f64),
                s.side,
                size(s, s.min)
            );
        }
        if !thin.is_empty() {
            let _ = writeln!(
                o,
                "- The ladder holds less than the {} minimum in month(s) {} (a term bought earlier still running): the vendor may not sell that size.",
                s.side,
                thin.join(", ")
            );
        }
    }
}

/// The lines under the answer table.
fn answer_notes(o: &mut String, r: &RateLadder, b: &RateWay) {
    let now: Vec<String> = r
        .sides
        .iter()
        .zip(&b.sides)
        .flat_map(|(s, sw)| {
            sw.purchases.iter().filter(|p| p.month == 0).map(move |p| {
                format!(
                    "{} on {} ({} committed)",
                    size(s, f64::from(p.units) * s.block),
                    p.term,
                    usd_whole(p.cost_usd)
                )
            })
        })
        .collect();
    if !now.is_empty() {
        let _ = writeln!(o, "- Sign now (month 1): {}.", now.join("; "));
    }
    for other in r.strategies.iter().filter(|s| s.kind != Kind::Ladder) {
        let missed = other.meets.iter().filter(|m| !**m).count();
        let misses = if missed > 0 {
            format!(
                "; {} misses the SLA in {} of {}",
                other.name,
                count(missed as f64),
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
    let missed: Vec<String> = (0..r.months.len())
        .filter(|&m| !b.meets[m])
        .map(|m| (m + 1).to_string())
        .collect();
    if !missed.is_empty() {
        let _ = writeln!(
            o,
            "- The cheapest ladder misses the SLA in month(s) {} (at the sizes it holds there; no size the month's search tried meets it when the requirement misses it too).",
            missed.join(", ")
        );
    }
    for (m, need) in r.months.iter().enumerate() {
        if let Some(s) = &need.nearest {
            let _ = writeln!(
                o,
                "- Month {}: {}; that is the month's requirement.",
                m + 1,
                crate::report::rate_plan::shortfall_sentence(&r.sla, s)
            );
        }
    }
    minimum_notes(o, r, b);
}

/// `ladder.md`: the answer, the purchases with their reasons, the months.
pub fn render(sc: &Scenario, r: &RateLadder) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# llmcap plan --ladder: {} (token-rate reservation)\n",
        sc.name
    );
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let slas: Vec<String> = r
        .sla
        .iter()
        .map(|s| format!("`{}` p{} <= {} ms", s.class, s.percentile, s.ttft_ms))
        .collect();
    let what: Vec<String> = r
        .sides
        .iter()
        .map(|s| {
            let amount = |v: f64| {
                if s.side == "spend" {
                    format!("${}", grouped(v, 4))
                } else {
                    count(v)
                }
            };
            let mut t = format!("{} in blocks of {}", quantity(s), amount(s.block));
            if s.min > 0.0 {
                let _ = write!(t, " (minimum {}, step {})", amount(s.min), amount(s.step));
            }
            t
        })
        .collect();
    let _ = writeln!(
        o,
        "The token-rate reservation of deployment `{}` over {} months from {}, each side bought on its own: {}. Each month's requirement is the **economic size** of a sample of that month (its first {} h at the month's growth and seasonality, {}): `plan`'s search for the size whose commitment plus overflow is lowest while meeting the SLA ({}; when no size tried meets it, the size nearest it), or no reservation when that is cheaper (or as near), priced at the term cheapest per hour (`{}`). Why that term: a term changes the price of a rate, never what the rate covers, so the month's size is the one that pays off at the lowest price it can be bought at; the ladder then decides which term holds each block (a block held on a dearer term costs more than the search counted; the size is not searched again at that price). A month is 730 h in every bill.\n",
        r.deployment,
        r.months.len(),
        r.months.first().map(|m| format_date(m.start_date)).unwrap_or_default(),
        what.join("; "),
        count(f64::from(r.sample_hours)),
        plural(r.replications, "replication"),
        if slas.is_empty() { "none set".to_string() } else { slas.join(", ") },
        r.sizing_term
    );
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "each month is sampled at the prices of its first hour, and each purchase is priced at the prices in force in the month it is made, which it keeps for its whole term.",
    ) {
        let _ = writeln!(o, "{note}\n");
    }
    crate::report::ladder::answer_table(
        &mut o,
        "on-demand and other",
        r.strategies
            .iter()
            .map(|s| crate::report::ladder::AnswerRow {
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
        for (s, sw) in r.sides.iter().zip(&b.sides) {
            let _ = writeln!(o, "### {}\n", quantity(s));
            if sw.purchases.is_empty() {
                let _ = writeln!(o, "Nothing to buy: no month requires a reservation.");
            }
            for run in runs(&sw.purchases) {
                let _ = writeln!(o, "- {}", sentence(r, s, &sw.purchases, run));
            }
            let _ = writeln!(o);
        }
        months_table(&mut o, r, b);
    }
    how_computed(&mut o, r);
    o
}

fn months_table(o: &mut String, r: &RateLadder, b: &RateWay) {
    let _ = writeln!(o, "## Month by month (the cheapest ladder)\n");
    let cols: Vec<String> = r
        .sides
        .iter()
        .map(|s| format!("{0} required | {0} held", quantity(s)))
        .collect();
    let _ = writeln!(
        o,
        "| month | starts | requests/s | {} | committed | on-demand and other | bill | meets the SLA |",
        cols.join(" | ")
    );
    let _ = writeln!(
        o,
        "|---|---|---:|{}---:|---:|---:|---|",
        "---:|".repeat(2 * r.sides.len())
    );
    for (m, need) in r.months.iter().enumerate() {
        let sizes: Vec<String> = r
            .sides
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let v = |x: f64| {
                    if s.side == "spend" {
                        format!("${}", grouped(x, 4))
                    } else {
                        count(x)
                    }
                };
                format!("{} | {}", v(need.required[i]), v(b.held[m][i]))
            })
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            m + 1,
            format_date(need.start_date),
            fixed(need.demand_rps, 3),
            sizes.join(" | "),
            usd_whole(b.reserved_usd[m]),
            usd_whole(b.on_demand_usd[m]),
            usd_whole(b.month_usd(m)),
            if b.meets[m] { "yes" } else { "no" }
        );
    }
}

fn how_computed(o: &mut String, r: &RateLadder) {
    let _ = writeln!(o, "\n## How this was computed\n");
    let _ = writeln!(
        o,
        "Each side's cheapest ladder is the set of purchases that holds at least that side's requirement every month at the lowest committed cost, found exactly (a minimum-cost flow over the months, per side: Bedrock sells input and output apart; docs/model.md 12.4.1). Every purchase is paid for its whole term, also the months after the window. Every way's month is **simulated at the sizes it holds** (the month's sample, the same traffic for every size): on-demand and other is the sample's bill less the reservation's commitment (the overflow at list price, plus every other deployment as written), x 730 / {} h, and the SLA is judged there. Buy for the peak now holds each side's peak requirement all window on the single term that does it cheapest; re-plan monthly holds exactly the requirement on the cheapest one-month term; all on-demand takes the reservation out.",
        count(f64::from(r.sample_hours))
    );
    let sized: usize = r.months.iter().map(|m| m.sizes_simulated).sum();
    let _ = writeln!(
        o,
        "\nThe months' searches simulated {} sizes in all (no reservation included).",
        count(sized as f64)
    );
    for s in &r.sides {
        let terms: Vec<String> = s
            .terms
            .iter()
            .map(|t| {
                let length = if t.commits {
                    format!("{} a purchase", plural(t.months, "month"))
                } else {
                    "no commitment, held month by month".to_string()
                };
                let (p, unit) = per_price_unit(s, t.price_per_unit_hour * HOURS_PER_MONTH);
                format!("{} ({length}, {} {unit})", t.name, usd_cents(p))
            })
            .collect();
        let _ = writeln!(o, "\nTerms, {}: {}.", quantity(s), terms.join("; "));
    }
}
