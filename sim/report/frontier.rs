//! Frontier outputs: `frontier.json`, `frontier.csv`, `frontier.png` and `frontier.md`.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::frontier::{FrontierResult, Rate, Row};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{count, fixed, fixed_opt, grouped, ms, percent, usd_whole};
use crate::model::metrics::MeanCi;
use crate::report::batch::BatchAside;
use crate::report::output::Staging;
use crate::report::plots::{
    self,
    frontier::{FrontierChart, FrontierPoint},
};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

/// Every file a frontier writes.
pub const FRONTIER_FILES: &[&str] = &[
    "frontier.json",
    "frontier.csv",
    plots::frontier::FILE,
    "frontier.md",
];

#[derive(Serialize)]
struct FrontierJson<'a> {
    manifest: &'a Manifest,
    #[serde(flatten)]
    result: &'a FrontierResult,
    /// The deferrable classes' batch jobs, the same beside every configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a BatchAside>,
}

/// A row as a planner names it: "ptu 30 yearly > paygo".
pub fn describe(f: &FrontierResult, r: &Row) -> String {
    f.describe(r)
}

/// The sustained demand: "2.5x (5.0 req/s); misses at 2.75x".
pub fn rate_text(rate: &Option<Rate>) -> String {
    let Some(r) = rate else {
        return "–".into();
    };
    let scale = |s: f64| {
        format!(
            "{}x",
            grouped(s, 3).trim_end_matches('0').trim_end_matches('.')
        )
    };
    let rps = |s: f64| format!("{} req/s", grouped(s, 2));
    let text = match r.missed_at {
        None => format!("at least {} ({})", scale(r.demand_scale), rps(r.rps)),
        Some(m) if r.demand_scale == 0.0 => {
            format!("below {} (misses at every scale tried)", scale(m))
        }
        Some(m) => format!(
            "{} ({}); misses at {}",
            scale(r.demand_scale),
            rps(r.rps),
            scale(m)
        ),
    };
    match &r.note {
        Some(n) => format!("{text} ({n})"),
        None => text,
    }
}

/// The SLA in a few words: "p99 <= 2,000 ms" when every class has the same one.
fn sla_text(f: &FrontierResult) -> Option<String> {
    let first = f.sla.first()?;
    let same = f
        .sla
        .iter()
        .all(|s| s.percentile == first.percentile && s.ttft_ms == first.ttft_ms);
    Some(if same {
        format!("p{} <= {}", first.percentile, ms(first.ttft_ms))
    } else {
        "every class's SLA".into()
    })
}

fn ms_or_dash(v: f64) -> String {
    if v.is_finite() {
        ms(v)
    } else {
        "–".into()
    }
}

/// The lines the terminal shows.
pub fn headline(f: &FrontierResult) -> Vec<String> {
    let mut out = Vec::new();
    let frontier = f.frontier();
    out.push(format!(
        "frontier: {} of {} priced configurations are Pareto-optimal (cost, p99 TTFT, availability)",
        frontier.len(),
        f.rows.len()
    ));
    match (sla_text(f), f.cheapest_meeting()) {
        (Some(sla), Some(r)) => out.push(format!(
            "for {sla} the cheapest is {}: {} per month (p99 {})",
            describe(f, r),
            usd_whole(r.monthly_usd.mean),
            ms_or_dash(f.p99(r))
        )),
        (Some(sla), None) => out.push(format!("no configuration meets {sla}")),
        (None, _) => {}
    }
    out
}

/// What paying more than `from` buys, along the frontier: up to three steps, each a lower
/// p99 or a higher availability.
fn upgrades<'a>(f: &'a FrontierResult, from: &Row) -> Vec<&'a Row> {
    let (mut p99, mut avail) = (f.p99(from), f.availability(from));
    let mut out = Vec::new();
    for r in f.frontier() {
        if r.monthly_usd.mean <= from.monthly_usd.mean || out.len() == 3 {
            continue;
        }
        if f.p99(r) < p99 || f.availability(r) > avail {
            p99 = p99.min(f.p99(r));
            avail = avail.max(f.availability(r));
            out.push(r);
        }
    }
    out
}

/// `frontier.md`.
pub fn render(
    sc: &Scenario,
    f: &FrontierResult,
    m: &Manifest,
    batch: Option<&BatchAside>,
) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# llmcap frontier: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let _ = writeln!(
        o,
        "{} configurations ({} routing option{}: {}) simulated on the same traffic with {} replications of {} h each, priced under the terms listed: {} rows. A row is on the frontier when no other row costs no more, has a p99 TTFT no higher and an availability (served / arrived) no lower, and is better in one of the three.\n",
        count(f.configurations.len() as f64),
        f.routes.len(),
        if f.routes.len() == 1 { "" } else { "s" },
        f.routes.join("; "),
        f.replications,
        f.horizon_hours,
        count(f.rows.len() as f64)
    );
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "each row's cost is the bill of the simulated hours at the prices of each hour (the reservation on the row's term, units beyond it hourly), scaled to 730 hours.",
    ) {
        let _ = writeln!(o, "{note}
");
    }
    if !f.sla.is_empty() {
        let slas: Vec<String> = f
            .sla
            .iter()
            .map(|s| format!("`{}` p{} <= {}", s.class, s.percentile, ms(s.ttft_ms)))
            .collect();
        let _ = writeln!(
            o,
            "SLA: {}. A configuration meets it when, for every class, the lower end of the 95% confidence interval of the share of requests within the target is at or above the percentile.\n",
            slas.join(", ")
        );
    }
    what_to_buy(&mut o, f);
    if let Some(b) = batch {
        super::batch::aside_section(&mut o, b, "frontier");
    }
    frontier_table(&mut o, f);
    method(&mut o, f, m);
    o
}

/// "## What to buy": the cheapest row meeting the SLA, what paying more buys, its rate.
fn what_to_buy(o: &mut String, f: &FrontierResult) {
    let _ = writeln!(o, "## What to buy\n");
    let start = match (sla_text(f), f.cheapest_meeting()) {
        (Some(sla), Some(r)) => {
            let _ = writeln!(
                o,
                "- For {sla} the cheapest is **{}: {} per month** (p99 TTFT {}, availability {}).",
                describe(f, r),
                usd_whole(r.monthly_usd.mean),
                ms_or_dash(f.p99(r)),
                percent(f.availability(r), 3)
            );
            Some(r)
        }
        (Some(sla), None) => {
            let _ = writeln!(
                o,
                "- **No configuration meets {sla}.** The frontier below shows how close each came: list more units or another route in `[frontier]`."
            );
            f.frontier().first().copied()
        }
        (None, _) => {
            let first = f.frontier().first().copied();
            if let Some(r) = first {
                let _ = writeln!(
                    o,
                    "- No class has an SLA. The cheapest configuration is **{}: {} per month** (p99 TTFT {}, availability {}).",
                    describe(f, r),
                    usd_whole(r.monthly_usd.mean),
                    ms_or_dash(f.p99(r)),
                    percent(f.availability(r), 3)
                );
            }
            first
        }
    };
    if let Some(from) = start {
        for r in upgrades(f, from) {
            let more = r.monthly_usd.mean - from.monthly_usd.mean;
            let what = if f.p99(r) < f.p99(from) {
                format!(
                    "p99 {} ({} less)",
                    ms_or_dash(f.p99(r)),
                    ms(f.p99(from) - f.p99(r))
                )
            } else {
                format!(
                    "availability {} (from {})",
                    percent(f.availability(r), 3),
                    percent(f.availability(from), 3)
                )
            };
            let _ = writeln!(
                o,
                "- Paying {} more per month buys {what}: {}, {} per month.",
                usd_whole(more),
                describe(f, r),
                usd_whole(r.monthly_usd.mean)
            );
        }
        if let Some(rate) = &f.config(from).rate {
            let c = f.config(from);
            let at = |k: f64| {
                format!(
                    "{}x",
                    grouped(k, 3).trim_end_matches('0').trim_end_matches('.')
                )
            };
            let sentence = match rate.missed_at {
                None => format!(
                    "at least {} the scenario's demand ({} req/s): the highest scale tried",
                    at(rate.demand_scale),
                    grouped(rate.rps, 2)
                ),
                Some(m) if rate.demand_scale == 0.0 => {
                    format!("less than {} the scenario's demand", at(m))
                }
                Some(m) => format!(
                    "{} the scenario's demand ({} req/s); it misses the SLA at {}",
                    at(rate.demand_scale),
                    grouped(rate.rps, 2),
                    at(m)
                ),
            };
            let _ = writeln!(o, "- Under the SLA, {} sustains {sentence}.", c.label);
        }
    }
    if let Some(cheapest) = f.frontier().first() {
        if start.is_some_and(|s| !std::ptr::eq(s, *cheapest)) {
            let _ =
                writeln!(
                o,
                "- The cheapest configuration of all is {}: {} per month, p99 TTFT {}, {} the SLA.",
                describe(f, cheapest),
                usd_whole(cheapest.monthly_usd.mean),
                ms_or_dash(f.p99(cheapest)),
                if f.config(cheapest).measured.meets() { "meets" } else { "misses" }
            );
        }
    }
    let _ = writeln!(o);
}

/// "## The frontier": its rows, cheapest first, and the chart.
fn frontier_table(o: &mut String, f: &FrontierResult) {
    let _ = writeln!(o, "## The frontier\n");
    let _ = writeln!(
        o,
        "Cheapest first. \"Sustains\" is the highest demand (a scale on every class's mean rate) at which the configuration still meets the SLA, found by bisection.\n"
    );
    let _ = writeln!(
        o,
        "| configuration (units or reservation size, term, route) | $ per month | p99 TTFT | TTFT at SLA pct | availability | meets SLA | sustains |"
    );
    let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: | --- | --- |");
    for r in f.frontier() {
        let c = f.config(r);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            describe(f, r),
            usd_whole(r.monthly_usd.mean),
            ms_or_dash(f.p99(r)),
            c.measured
                .summary
                .sla_ttft_ms
                .map_or("–".into(), |t| ms(t.mean)),
            c.measured
                .availability
                .map_or("–".into(), |a| percent(a, 3)),
            match c.measured.summary.meets_sla {
                Some(true) => "yes",
                Some(false) => "no",
                None => "–",
            },
            rate_text(&c.rate)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "![cost against p99 TTFT](frontier.png)\n");
    let _ = writeln!(
        o,
        "`frontier.csv` has every row ({}), with 95% confidence intervals over replications.\n",
        count(f.rows.len() as f64)
    );
}

/// "## Method".
fn method(o: &mut String, f: &FrontierResult, m: &Manifest) {
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(o, "- Every configuration runs on the same arrivals and tokens (common random numbers), so differences between rows are the configuration's. The term changes the price, not the traffic: each configuration is simulated once and priced under every term combination.");
    let _ = writeln!(o, "- A reserved deployment that no class's route uses under a routing option is not bought in that configuration. Costs per month are the horizon's cost scaled to 730 hours; reservations bill whether used or not.");
    if f.configurations.iter().any(|c| !c.reserved_rate.is_empty()) {
        let _ = writeln!(o, "- A token-rate reservation listed in `[frontier] reserved_rate` is tried at each size (\"no reservation\": all its traffic on demand); a size is \"input/output TPM\" or \"$ per minute\". Each size is simulated once (its commitment on the written term) and priced under each term the reservation prices: its commitment at that term's prices plus the overflow at list price, as `llmcap run` bills it.");
    }
    match &f.rate_note {
        Some(n) => {
            let _ = writeln!(o, "- Sustained rate: {n}.");
        }
        None => {
            let _ = writeln!(
                o,
                "- Sustained rate: for each configuration on the frontier, the demand scale (every class's mean rate times a factor, the same random draws) is searched by bisection: a configuration meeting the SLA at 1x is tried at {}x (meeting it there, it sustains at least that); then {} bisection steps between the highest scale that met and the lowest that missed, so the limit is known to within 1/{} of that interval. The search is bounded: at most {} simulations of each frontier configuration.",
                grouped(f.max_demand_scale, 2),
                f.rate_steps,
                1u64 << f.rate_steps.min(62),
                f.rate_steps + 1
            );
        }
    }
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (sha256 {}), seed {}.",
        m.llmcap_version, m.scenario_file, m.scenario_sha256, m.seed
    );
}

/// `frontier.csv`: every priced configuration.
pub fn frontier_csv(f: &FrontierResult) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "frontier.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(
        &mut w,
        WHAT,
        [
            "configuration",
            "route",
            "units",
            "reserved_rate",
            "terms",
            "replications",
            "monthly_usd",
            "monthly_usd_ci95_low",
            "monthly_usd_ci95_high",
            "ttft_p99_ms",
            "ttft_p99_ci95_low_ms",
            "ttft_p99_ci95_high_ms",
            "sla_ttft_ms",
            "sla_attainment",
            "meets_sla",
            "availability",
            "spilled_share",
            "throttled_share",
            "failed_share",
            "pareto",
            "sustained_demand_scale",
            "missed_demand_scale",
            "sustained_rps",
        ],
    )?;
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
    for r in &f.rows {
        let c = f.config(r);
        let s = &c.measured.summary;
        let mut rec = vec![
            r.config.to_string(),
            c.route.clone(),
            c.units
                .iter()
                .map(|(d, u)| format!("{d}={u}"))
                .collect::<Vec<_>>()
                .join("; "),
            c.reserved_rate
                .iter()
                .map(|x| match (x.input_tpm, x.output_tpm, x.usd_per_minute) {
                    (Some(i), Some(o), _) => format!("{}={i}/{o} TPM", x.deployment),
                    (_, _, Some(u)) => format!("{}=${u}/min", x.deployment),
                    _ => format!("{}=none", x.deployment),
                })
                .collect::<Vec<_>>()
                .join("; "),
            r.terms
                .iter()
                .map(|(d, t)| format!("{d}={t}"))
                .collect::<Vec<_>>()
                .join("; "),
            s.replications.to_string(),
        ];
        rec.extend(cis(&Some(r.monthly_usd), 2));
        rec.extend(cis(&s.ttft_p99_ms, 1));
        rec.push(fixed_opt(s.sla_ttft_ms.map(|t| t.mean), 1));
        rec.push(fixed_opt(s.sla_attainment.map(|a| a.mean), 5));
        rec.push(s.meets_sla.map(|b| b.to_string()).unwrap_or_default());
        rec.push(fixed_opt(c.measured.availability, 5));
        rec.push(fixed(s.spilled_share, 5));
        rec.push(fixed(s.throttled_share, 5));
        rec.push(fixed(s.failed_share, 5));
        rec.push(r.pareto.to_string());
        rec.push(fixed_opt(c.rate.as_ref().map(|x| x.demand_scale), 4));
        rec.push(fixed_opt(c.rate.as_ref().and_then(|x| x.missed_at), 4));
        rec.push(fixed_opt(c.rate.as_ref().map(|x| x.rps), 3));
        row(&mut w, WHAT, &rec)?;
    }
    finish(w, WHAT)
}

/// The chart's points: every row, frontier rows labelled.
fn chart(f: &FrontierResult) -> FrontierChart {
    let sla_ms = f.sla.first().and_then(|s| {
        f.sla
            .iter()
            .all(|x| x.percentile == 99.0 && x.ttft_ms == s.ttft_ms)
            .then_some(s.ttft_ms)
    });
    FrontierChart {
        points: f
            .rows
            .iter()
            .map(|r| FrontierPoint {
                cost: r.monthly_usd.mean,
                p99_ms: f.p99(r),
                availability: f.availability(r),
                pareto: r.pareto,
                // With one routing option, the route says nothing the chart needs.
                label: match f.routes.len() {
                    1 => describe(f, r)
                        .trim_end_matches(" (the scenario's routes)")
                        .to_string(),
                    _ => describe(f, r),
                },
            })
            .collect(),
        sla_ms,
    }
}

/// Writes every output of a frontier into `staging` and moves it into place.
pub fn write_frontier(
    staging: Staging,
    sc: &Scenario,
    f: &FrontierResult,
    manifest: Manifest,
    batch: Option<&BatchAside>,
) -> Result<PathBuf, OutputError> {
    let json = serde_json::to_vec_pretty(&FrontierJson {
        manifest: &manifest,
        result: f,
        batch,
    })
    .map_err(|e| OutputError::Encode {
        what: "frontier.json",
        message: e.to_string(),
    })?;
    staging.write("frontier.json", &json)?;
    staging.write("frontier.csv", &frontier_csv(f)?)?;
    staging.write(
        plots::frontier::FILE,
        &plots::frontier::png(
            &format!("{}: cost against p99 TTFT, every configuration", sc.name),
            &chart(f),
        )?,
    )?;
    staging.write("frontier.md", render(sc, f, &manifest, batch).as_bytes())?;
    staging.commit()
}
