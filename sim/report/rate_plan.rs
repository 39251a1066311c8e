//! Outputs of a plan that sizes a token-rate reservation: `plan.json`, `plan.csv`, `plan.md`
//! and `plan.png` (docs/model.md section 12.4.3).

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::plan::ClassSla;
use crate::analysis::rate_plan::{
    RateCandidate, RatePlan, RatePoint, Shortfall, MAX_SIZES, RESOLUTION,
};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{count, fixed, fixed_opt, percent, usd_cents, usd_whole};
use crate::report::output::Staging;
use crate::report::plots::rate_plan::{Marked, RatePanel, RatePlanChart, SizePoint, TermSizes};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

#[derive(Serialize)]
struct PlanJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a RatePlan,
    /// The recommended reservation (null: no reservation is best, or nothing meets the SLA).
    chosen: Option<&'a RateCandidate>,
    /// When nothing tried meets the SLA: the configuration nearest it and how far it misses
    /// (null when some configuration meets it).
    nearest: Option<Shortfall>,
}

/// "150,000 input / 30,000 output TPM" or "$0.50 per minute"; "no reservation".
pub fn size_label(p: &RatePoint) -> String {
    label(p.input_tpm, p.output_tpm, p.usd_per_minute)
}

fn label(input: Option<f64>, output: Option<f64>, usd: Option<f64>) -> String {
    match (input, output, usd) {
        (Some(i), Some(o), _) => format!("{} input / {} output TPM", count(i), count(o)),
        (_, _, Some(u)) => format!("${} per minute", trim(u)),
        _ => "no reservation".to_string(),
    }
}

/// "p99 <= 800 ms" (every class's SLA alike) or "every class's SLA".
fn sla_words(sla: &[ClassSla]) -> String {
    match sla.first() {
        Some(f)
            if sla
                .iter()
                .all(|s| s.percentile == f.percentile && s.ttft_ms == f.ttft_ms) =>
        {
            format!("p{} <= {} ms", f.percentile, f.ttft_ms)
        }
        _ => "every class's SLA".to_string(),
    }
}

/// When nothing tried meets the SLA: "no size tried meets p99 <= 800 ms: the nearest, …, reaches
/// 97.10% against the target's 99.00% (1.90 points short)", and when the bound stopped the search.
pub fn shortfall_sentence(sla: &[ClassSla], s: &Shortfall) -> String {
    let what = match &s.term {
        Some(t) => format!(
            "{} on `{t}`",
            label(s.input_tpm, s.output_tpm, s.usd_per_minute)
        ),
        None => "no reservation".to_string(),
    };
    let against = match s.target {
        Some(t) => format!("against the target's {}", percent(t, 2)),
        None => "for the class furthest from its target".to_string(),
    };
    let mut line = format!(
        "no size tried meets {}: the nearest, {what}, reaches {} {against} ({} points short)",
        sla_words(sla),
        percent(s.attainment, 2),
        fixed(s.shortfall * 100.0, 2)
    );
    if s.bounded {
        line += &format!("; the search stopped at its bound of {MAX_SIZES} sizes while still nearing the SLA, so a larger size may come nearer or meet it");
    }
    line
}

/// A spend rate without trailing zeros: 0.5, 0.0025.
fn trim(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The lines `plan` prints.
pub fn headline(r: &RatePlan) -> Vec<String> {
    let none = &r.no_reservation;
    match (r.chosen(), r.candidates.first()) {
        (Some(c), _) => vec![format!(
            "reserve {} on `{}` for `{}`: {} over {} h (commitment {}, overflow {}), against {} with no reservation",
            size_label(&c.point),
            c.term,
            r.deployment,
            usd_cents(c.bill_usd),
            r.horizon_hours,
            usd_cents(c.point.commitment_usd[&c.term]),
            usd_cents(c.point.overflow_usd),
            usd_cents(none.cost("none"))
        )],
        (None, _) if none.meets() => vec![format!(
            "no reservation for `{}`: all on demand costs {} over {} h, less than the best reservation",
            r.deployment,
            usd_cents(none.cost("none")),
            r.horizon_hours
        )],
        _ => match r.shortfall() {
            Some(s) => vec![format!(
                "`{}`: {}",
                r.deployment,
                shortfall_sentence(&r.sla, &s)
            )],
            None => vec![format!(
                "no size of `{}`'s reservation tried meets the SLA, and neither does no reservation",
                r.deployment
            )],
        },
    }
}

/// `plan.csv`: no reservation, then every size tried under every term.
pub fn plan_csv(r: &RatePlan) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "plan.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(
        &mut w,
        WHAT,
        [
            "input_tpm",
            "output_tpm",
            "usd_per_minute",
            "term",
            "chosen",
            "meets_sla",
            "sla_attainment",
            "sla_ttft_ms",
            "commitment_usd",
            "overflow_usd",
            "total_usd",
            "total_ci95_low_usd",
            "total_ci95_high_usd",
            "monthly_usd",
            "utilization_input",
            "utilization_output",
            "utilization_spend",
            "covered_share",
            "throttled_share",
        ],
    )?;
    let chosen = r.chosen().map(|c| (c.point.size, c.term.clone()));
    let month = crate::domain::time::HOURS_PER_MONTH / f64::from(r.horizon_hours.max(1));
    let none = std::iter::once((&r.no_reservation, "none".to_string()));
    let sized = r
        .evaluated
        .iter()
        .flat_map(|p| p.commitment_usd.keys().map(move |t| (p, t.clone())));
    for (p, term) in none.chain(sized) {
        let total = p.total_usd[&term];
        let is_chosen = match &chosen {
            Some((s, t)) => *s == p.size && *t == term,
            None => p.input_tpm.is_none() && p.usd_per_minute.is_none() && p.meets(),
        };
        let s = &p.summary;
        row(
            &mut w,
            WHAT,
            [
                fixed_opt(p.input_tpm, 0),
                fixed_opt(p.output_tpm, 0),
                fixed_opt(p.usd_per_minute, 6),
                term.clone(),
                is_chosen.to_string(),
                s.meets_sla.map_or(String::new(), |m| m.to_string()),
                fixed_opt(s.sla_attainment.map(|a| a.mean), 5),
                fixed_opt(s.sla_ttft_ms.map(|a| a.mean), 1),
                fixed(p.commitment_usd.get(&term).copied().unwrap_or(0.0), 4),
                fixed(p.overflow_usd, 4),
                fixed(total.mean, 4),
                fixed(total.ci95_low, 4),
                fixed(total.ci95_high, 4),
                fixed(total.mean * month, 2),
                fixed_opt(p.utilization_input, 5),
                fixed_opt(p.utilization_output, 5),
                fixed_opt(p.utilization_spend, 5),
                fixed(p.covered_share, 5),
                fixed(s.throttled_share, 5),
            ],
        )?;
    }
    finish(w, WHAT)
}

fn used(p: &RatePoint) -> String {
    let mut parts = Vec::new();
    for (what, u) in [
        ("input", p.utilization_input),
        ("output", p.utilization_output),
        ("spend", p.utilization_spend),
    ] {
        if let Some(u) = u {
            parts.push(format!("{what} {}", percent(u, 1)));
        }
    }
    parts.join(", ")
}

fn sla_cell(p: &RatePoint) -> String {
    match (p.summary.meets_sla, p.summary.sla_attainment) {
        (Some(m), Some(a)) => format!("{} ({})", if m { "yes" } else { "no" }, percent(a.mean, 2)),
        _ => "no SLA".to_string(),
    }
}

/// `plan.md`.
pub fn render(sc: &Scenario, r: &RatePlan, m: &Manifest) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# llmcap plan: {} (token-rate reservation)\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let slas: Vec<String> = r
        .sla
        .iter()
        .map(|s| format!("`{}` p{} <= {} ms", s.class, s.percentile, s.ttft_ms))
        .collect();
    let _ = writeln!(
        o,
        "Sizes the token-rate reservation of deployment `{}` ({}). SLA: {}; a configuration meets it when, for every class, the lower end of the 95% confidence interval (over {} replication(s) of {} h) of the share within the target is at or above the percentile. Bills are the whole scenario's over the {} h simulated (other deployments billed as written): the reservation's commitment, paid whether used or not, plus what overflows at list price.\n",
        r.deployment,
        r.grid.measure,
        if slas.is_empty() { "none (the cheapest wins)".to_string() } else { slas.join(", ") },
        r.replications,
        r.horizon_hours,
        r.horizon_hours,
    );
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "every bill below is at the prices of each simulated hour (the reservation on each term too); what is signed is at the prices of the first day.",
    ) {
        let _ = writeln!(o, "{note}\n");
    }
    recommendation(&mut o, r);
    terms_table(&mut o, r);
    chart_note(&mut o, r);
    traffic_table(&mut o, r);
    evaluated_table(&mut o, r);
    let _ = writeln!(o, "## Method\n");
    let sizes = if r.grid.measure == "spend" {
        format!("multiples of a round spend step of about 1/{RESOLUTION} of the busiest hour's list value per minute (here ${})", trim(r.grid.spend_step()))
    } else {
        format!("what the vendor sells: min_input_tpm plus whole input_tpm_steps, the same for output (here {} + k x {} input, {} + k x {} output TPM; a step finer than 1/{RESOLUTION} of the busiest hour's rate is searched in multiples)", count(r.grid.min_input_tpm), count(r.grid.input_step), count(r.grid.min_output_tpm), count(r.grid.output_step))
    };
    let _ = writeln!(o, "- Sizes are {sizes}.");
    let _ = writeln!(o, "- The search starts from the deployment's own traffic with no reservation: both sides at the quietest hour's, the 25th, 50th, 75th and 90th percentile hour's and the busiest hour's rate (table above). From the best of those (meets the SLA, then cheapest; when none meets it, the nearest to it, then cheapest, so the search walks up toward the SLA) it tries one jump up and down on each side and on both together, moves to a better size or halves the jump, down to one step. A request is covered only when both its input and its output fit, so both sides move together too. At most {} sizes; every size is simulated on the same traffic (common random numbers), and the term changes the price only, so each size is priced under every term.", MAX_SIZES);
    let _ = writeln!(o, "- Coverage does not make a request faster; what overflows meets the on-demand quotas (429s, retries, spills) and the shared pool's load, which is how the SLA can depend on the size (docs/model.md 10.3).");
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (sha256 {}), seed {}.",
        m.llmcap_version, m.scenario_file, m.scenario_sha256, m.seed
    );
    o
}

fn recommendation(o: &mut String, r: &RatePlan) {
    let _ = writeln!(o, "## Recommendation\n");
    let none = &r.no_reservation;
    let Some(c) = r.chosen() else {
        no_recommendation(o, r);
        return;
    };
    let _ = writeln!(
        o,
        "Reserve **{}** on the **`{}`** term for `{}`: the scenario's bill is **{}** over {} h ({} per month), of which `{}` costs {}: the commitment {} (paid whether used or not) plus the overflow at list price {}. With no reservation the bill is {} ({}).\n",
        size_label(&c.point),
        c.term,
        r.deployment,
        usd_cents(c.bill_usd),
        r.horizon_hours,
        usd_cents(c.monthly_usd),
        r.deployment,
        usd_cents(c.point.commitment_usd[&c.term] + c.point.overflow_usd),
        usd_cents(c.point.commitment_usd[&c.term]),
        usd_cents(c.point.overflow_usd),
        usd_cents(none.cost("none")),
        if none.meets() { "meets the SLA" } else { "misses the SLA" },
    );
    if let (Some(total), Some(h)) = (c.term_commitment_usd, c.term_hours) {
        let _ = writeln!(
            o,
            "What is signed: {} over the term ({} h at {} an hour).\n",
            usd_cents(total),
            count(h),
            usd_cents(total / h)
        );
    }
    let _ = writeln!(o, "Why this size: the reservation is used {} over the horizon (covered / reserved) and covers {} of the deployment's requests.\n", used(&c.point), percent(c.point.covered_share, 1));
    for g in &c.margins {
        let verdict = if !g.meets_sla {
            "misses the SLA".to_string()
        } else if g.direction > 0 {
            format!(
                "would cost {} more in commitment than it saves in overflow ({} more, {} saved)",
                usd_cents(g.extra_commitment_usd - g.overflow_saved_usd),
                usd_cents(g.extra_commitment_usd),
                usd_cents(g.overflow_saved_usd)
            )
        } else {
            format!(
                "would save {} in commitment but add {} of overflow ({} more in all)",
                usd_cents(-g.extra_commitment_usd),
                usd_cents(-g.overflow_saved_usd),
                usd_cents(g.extra_commitment_usd - g.overflow_saved_usd)
            )
        };
        let unit = if g.side == "spend" {
            format!("${} per minute", trim(g.size))
        } else {
            format!("{} {} TPM", count(g.size), g.side)
        };
        let _ = writeln!(
            o,
            "- one {} step {} ({unit}): {verdict}.",
            g.side,
            if g.direction > 0 { "more" } else { "less" }
        );
    }
    for (side, min) in [
        ("input", r.grid.min_input_tpm),
        ("output", r.grid.min_output_tpm),
    ] {
        let at = if side == "input" {
            c.point.input_tpm
        } else {
            c.point.output_tpm
        };
        if at.is_some_and(|v| v <= min) && min > 0.0 {
            let _ = writeln!(
                o,
                "- the {side} side is at the vendor's minimum ({} TPM): no smaller size is sold.",
                count(min)
            );
        }
    }
    if !c.margins.is_empty() {
        let _ = writeln!(o);
    }
    let diff = c.bill_usd - none.cost("none");
    let _ = writeln!(
        o,
        "Against no reservation: {} {} over the {} h{}.\n",
        usd_cents(diff.abs()),
        if diff > 0.0 { "more" } else { "less" },
        r.horizon_hours,
        if none.meets() {
            String::new()
        } else {
            format!(
                ", which is what meeting the SLA costs: with no reservation {} of all requests are throttled (429s of the on-demand quotas, after retries) and the SLA attainment is {}",
                percent(none.summary.throttled_share, 2),
                none.summary.sla_attainment.map_or("–".to_string(), |a| percent(a.mean, 2))
            )
        }
    );
    let ties: Vec<&str> = r.candidates[1..]
        .iter()
        .filter(|t| {
            t.point.size == c.point.size
                && (t.bill_usd - c.bill_usd).abs() <= 1e-9 * c.bill_usd.abs()
        })
        .map(|t| t.term.as_str())
        .collect();
    if !ties.is_empty() {
        let _ = writeln!(o, "The `{}` term bills the same per hour: the shorter commitment is recommended (less to sign, the same bill).\n", ties.join("`, `"));
    }
    if c.bounded {
        let _ = writeln!(o, "The search stopped at its bound of {MAX_SIZES} sizes before it converged: a cheaper size may lie further on.\n");
    }
}

/// plan.md's recommendation when no reservation is recommended: no reservation is best, or
/// nothing tried meets the SLA (then the nearest, and what it takes).
fn no_recommendation(o: &mut String, r: &RatePlan) {
    let none = &r.no_reservation;
    for line in headline(r) {
        let _ = writeln!(o, "{}.\n", capital(&line));
    }
    match (r.shortfall(), r.best()) {
        (Some(s), Some(c)) => {
            let _ = writeln!(
                o,
                "Nothing tried meets the SLA, so the search went toward it: a larger reservation covers more, and less overflow meets the on-demand quotas (429s) and the shared pool. The nearest, {} on `{}`, costs {}; no reservation costs {} and reaches {} (it throttles {} of all requests, the nearest {}).{}\n",
                size_label(&c.point),
                c.term,
                usd_cents(c.bill_usd),
                usd_cents(none.cost("none")),
                none.summary.sla_attainment.map_or("–".to_string(), |a| percent(a.mean, 2)),
                percent(none.summary.throttled_share, 2),
                percent(c.point.summary.throttled_share, 2),
                if s.bounded {
                    ""
                } else {
                    " A larger size comes no nearer: meeting the SLA takes more than a reservation (a larger on-demand quota, another deployment to spill to, or a looser SLA)."
                }
            );
        }
        (Some(_), None) => {
            let _ = writeln!(
                o,
                "No reservation comes as near the SLA as any size tried, and costs {}: reserving does not bring this SLA nearer.\n",
                usd_cents(none.cost("none"))
            );
        }
        (None, _) => {
            if let Some(c) = r.candidates.first() {
                let _ = writeln!(
                    o,
                    "The best reservation tried, {} on `{}`, costs {} (no reservation: {}).\n",
                    size_label(&c.point),
                    c.term,
                    usd_cents(c.bill_usd),
                    usd_cents(none.cost("none"))
                );
            }
        }
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

fn terms_table(o: &mut String, r: &RatePlan) {
    let _ = writeln!(o, "## Best size on each term\n");
    let _ = writeln!(o, "| term | size | meets SLA | commitment | overflow | bill ({} h) | per month | signed over the term |", r.horizon_hours);
    let _ = writeln!(o, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for c in &r.candidates {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            c.term,
            size_label(&c.point),
            sla_cell(&c.point),
            usd_cents(c.point.commitment_usd[&c.term]),
            usd_cents(c.point.overflow_usd),
            usd_cents(c.bill_usd),
            usd_cents(c.monthly_usd),
            signed(c)
        );
    }
    let n = &r.no_reservation;
    let month = crate::domain::time::HOURS_PER_MONTH / f64::from(r.horizon_hours.max(1));
    let _ = writeln!(
        o,
        "| – | no reservation | {} | – | {} | {} | {} | – |\n",
        sla_cell(n),
        usd_cents(n.overflow_usd),
        usd_cents(n.cost("none")),
        usd_cents(n.cost("none") * month)
    );
}

fn chart_note(o: &mut String, r: &RatePlan) {
    let what = if r.chosen().is_some() {
        "the recommended size"
    } else if r.shortfall().is_some() {
        "the size nearest the SLA (which it misses)"
    } else {
        "the best size tried (not recommended)"
    };
    let sides = if r.grid.measure == "spend" {
        "its list value per minute"
    } else {
        "its input and its output TPM"
    };
    let _ = writeln!(
        o,
        "![bill against reserved size, and the traffic against the reserved rate](plan.png)\n"
    );
    let _ = writeln!(
        o,
        "plan.png shows, above, the scenario's bill per month of every size simulated against its reserved {} on each term (hollow where the size misses the SLA; the line joins the cheapest bill at each size), no reservation as a dashed line, and {what} ringed; below, `{}`'s traffic with no reservation hour by hour ({sides}, hourly means: minutes vary around them), split at {what}'s rate into what fits under it and what lies above it and overflows.\n",
        if r.grid.measure == "spend" { "spend rate" } else { "input TPM" },
        r.deployment
    );
}

fn signed(c: &RateCandidate) -> String {
    c.term_commitment_usd.map_or("–".to_string(), usd_cents)
}

fn traffic_table(o: &mut String, r: &RatePlan) {
    let _ = writeln!(o, "## The traffic the search starts from\n");
    let _ = writeln!(o, "`{}` with no reservation, per minute, over the hours of the horizon (hourly means: minutes within an hour vary around them):\n", r.deployment);
    let _ = writeln!(
        o,
        "| hour | input TPM (uncached + cache writes) | output TPM | list value per minute |"
    );
    let _ = writeln!(o, "| --- | ---: | ---: | ---: |");
    let t = &r.traffic;
    for (i, p) in t.percentiles.iter().enumerate() {
        let name = match *p {
            0.0 => "quietest".to_string(),
            100.0 => "busiest".to_string(),
            p => format!("p{p}"),
        };
        let _ = writeln!(
            o,
            "| {name} | {} | {} | ${} |",
            count(t.input_tpm[i].round()),
            count(t.output_tpm[i].round()),
            fixed(t.usd_per_minute[i], 4)
        );
    }
    let _ = writeln!(o);
}

fn evaluated_table(o: &mut String, r: &RatePlan) {
    let Some(term) = r.chosen().or(r.candidates.first()).map(|c| c.term.clone()) else {
        return;
    };
    let _ = writeln!(
        o,
        "## Every size simulated (priced on `{term}`; plan.csv has every term)\n"
    );
    let _ = writeln!(
        o,
        "| size | meets SLA | commitment | overflow | bill | used | covered |"
    );
    let _ = writeln!(o, "| --- | --- | ---: | ---: | ---: | --- | ---: |");
    for p in std::iter::once(&r.no_reservation).chain(&r.evaluated) {
        let commitment = p.commitment_usd.get(&term).copied().unwrap_or(0.0);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            size_label(p),
            sla_cell(p),
            usd_cents(commitment),
            usd_cents(p.overflow_usd),
            usd_cents(p.cost(&term)),
            used(p),
            percent(p.covered_share, 1)
        );
    }
    let _ = writeln!(o);
}

/// What `plan.png` draws, every number from the plan: each simulated size's bill per month
/// (730 h) on each term against its size (reserved input TPM, or USD per minute), no
/// reservation's, the recommended size (else the best tried), and the deployment's hourly
/// traffic with no reservation against that size's rates.
pub fn chart(sc: &Scenario, r: &RatePlan) -> RatePlanChart {
    let month = crate::domain::time::HOURS_PER_MONTH / f64::from(r.horizon_hours.max(1));
    let spend = r.grid.measure == "spend";
    let size =
        |p: &RatePoint| if spend { p.usd_per_minute } else { p.input_tpm }.unwrap_or(f64::NAN);
    let terms: Vec<String> = match r.evaluated.first() {
        Some(p) => p.commitment_usd.keys().cloned().collect(),
        None => r.candidates.iter().map(|c| c.term.clone()).collect(),
    };
    let bills = |t: &String| -> Vec<SizePoint> {
        r.evaluated
            .iter()
            .map(|p| SizePoint {
                size: size(p),
                monthly_usd: p.cost(t) * month,
                meets_sla: p.meets(),
            })
            .collect()
    };
    // Terms that bill every size the same are one series (else one hides the other).
    let mut groups: Vec<(Vec<&String>, Vec<SizePoint>)> = Vec::new();
    for t in &terms {
        let points = bills(t);
        let same = |a: &[SizePoint]| {
            a.iter().zip(&points).all(|(a, b)| {
                (a.monthly_usd - b.monthly_usd).abs() <= 1e-9 * a.monthly_usd.abs().max(1.0)
            })
        };
        match groups.iter_mut().find(|g| same(&g.1)) {
            Some(g) => g.0.push(t),
            None => groups.push((vec![t], points)),
        }
    }
    let sizes: Vec<TermSizes> = groups
        .iter()
        .map(|(names, points)| TermSizes {
            term: match names.as_slice() {
                [one] => format!("{one} term"),
                many => format!(
                    "{} terms (the same bills)",
                    many.iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            },
            points: points.clone(),
        })
        .collect();
    let recommended = r.chosen();
    let at = recommended.or(r.candidates.first());
    let marked = at.map(|c| Marked {
        term: groups
            .iter()
            .position(|g| g.0.contains(&&c.term))
            .unwrap_or(0),
        size: size(&c.point),
        monthly_usd: c.monthly_usd,
        label: format!(
            "{}: {} on {}, {} per month",
            if recommended.is_some() {
                "recommended"
            } else {
                "best tried"
            },
            size_label(&c.point),
            c.term,
            usd_whole(c.monthly_usd)
        ),
        recommended: recommended.is_some(),
    });
    let h = &r.hourly;
    let d = &r.deployment;
    // Past 31 days the chart draws each day's mean of its hours.
    let each = match crate::report::plots::Bucket::for_horizon(h.input_tpm.len()) {
        crate::report::plots::Bucket::Day => "each day (mean of its hours)",
        _ => "each hour",
    };
    let panels = if spend {
        vec![RatePanel {
            heading: format!("`{d}`: list value per minute, {each}, no reservation"),
            hourly: h.usd_per_minute.clone(),
            reserved: at.and_then(|c| c.point.usd_per_minute),
            prefix: "$",
        }]
    } else {
        vec![
            RatePanel {
                heading: format!("`{d}`: input TPM (uncached + cache writes), {each}"),
                hourly: h.input_tpm.clone(),
                reserved: at.and_then(|c| c.point.input_tpm),
                prefix: "",
            },
            RatePanel {
                heading: format!("`{d}`: output TPM, {each}"),
                hourly: h.output_tpm.clone(),
                reserved: at.and_then(|c| c.point.output_tpm),
                prefix: "",
            },
        ]
    };
    RatePlanChart {
        title: format!(
            "{}: token-rate reservation of `{d}`, sizes simulated by plan",
            sc.name
        ),
        size_desc: if spend {
            "reserved spend rate, USD per minute of list value".to_string()
        } else {
            "reserved input TPM (each size's output TPM: plan.csv)".to_string()
        },
        size_prefix: if spend { "$" } else { "" },
        terms: sizes,
        none_monthly_usd: r.no_reservation.cost("none") * month,
        none_meets_sla: r.no_reservation.meets(),
        marked,
        panels,
    }
}

/// Writes a rate plan's outputs into `staging` and moves them into place.
pub fn write_rate_plan(
    staging: Staging,
    sc: &Scenario,
    r: &RatePlan,
    manifest: Manifest,
) -> Result<PathBuf, OutputError> {
    staging.write_json(
        "plan.json",
        &PlanJson {
            manifest: &manifest,
            result: r,
            chosen: r.chosen(),
            nearest: r.shortfall(),
        },
    )?;
    staging.write("plan.csv", &plan_csv(r)?)?;
    staging.write("plan.md", render(sc, r, &manifest).as_bytes())?;
    staging.write(
        crate::report::plots::rate_plan::FILE,
        &crate::report::plots::rate_plan::png(&chart(sc, r))?,
    )?;
    staging.commit()
}
