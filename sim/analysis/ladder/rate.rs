//! `plan --ladder` on a token-rate reservation (`[deployment.reserved_rate]`): which input and
//! output tokens per minute (or USD per minute) to hold on which term, bought when, over the
//! months of a growing scenario (docs/model.md 12.4.1, "Token-rate reservations").
//!
//! 1. **Requirement per month.** Each month's sample (as for units: its first `sample_hours`
//!    at the month's growth) is sized by `plan`'s rate search ([`rate_plan::plan`]) on the term
//!    cheapest per hour: the economic size, the one whose commitment plus overflow is lowest
//!    (meeting the SLA first; when no size meets it, the one nearest it, then the cheapest), or
//!    no reservation when that is as good and cheaper. A longer term changes the
//!    price of the same rate, never what it covers, so it is the ladder's business, not the
//!    sizing's.
//! 2. **Purchases.** Each side (input TPM, output TPM; or the spend rate) is a separate purchase,
//!    so each is covered by the exact minimum-cost flow of [`super::solve`], in blocks of the
//!    vendor's step (gcd of minimum and step).
//! 3. **Bills.** Every way's month is simulated at the sizes it holds (the month's sample, the
//!    same traffic for every size): the commitment held plus the overflow at list price and
//!    every other deployment as written, and the SLA at those sizes.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use super::{cover, horizon_of, month_demand, month_scenario, Kind, LadderTerm, Purchase};
use crate::analysis::plan::ClassSla;
use crate::analysis::rate_plan::{self, RatePlan, RateSpec};
use crate::domain::time::HOURS_PER_MONTH;
use crate::domain::{Deployment, Pool, RateMeasure, RateReservation, Scenario};

/// One side of the reservation, bought apart: input TPM, output TPM, or USD per minute.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateSide {
    /// "input", "output" or "spend".
    pub side: &'static str,
    /// "TPM" or "USD per minute".
    pub unit: &'static str,
    /// The vendor's minimum reservation of this side (0: none).
    pub min: f64,
    /// The vendor's step above it (0 for spend: none published).
    pub step: f64,
    /// What the ladder buys in: gcd of minimum and step (tokens), or of every month's size
    /// (spend, whose sizes are round steps of each month's traffic).
    pub block: f64,
    /// The terms, priced per block-hour.
    pub terms: Vec<LadderTerm>,
}

impl RateSide {
    /// Blocks of a size of this side.
    pub fn blocks(&self, size: f64) -> u32 {
        let b = size / self.block;
        if (b - b.round()).abs() < 1e-6 {
            b.round() as u32
        } else {
            b.ceil() as u32
        }
    }
}

/// What one month asks for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateMonth {
    pub month: u32,
    /// First day of the month, days since 1970-01-01.
    pub start_date: i64,
    /// Mean requests per second over the whole month, all classes.
    pub demand_rps: f64,
    /// The economic size of each side (0: no reservation is cheaper), TPM or USD per minute.
    pub required: Vec<f64>,
    /// The same in blocks of each side.
    pub required_blocks: Vec<u32>,
    /// Whether the requirement meets the SLA in the month's sample.
    pub meets_sla: bool,
    /// No reservation: $ per month and whether it meets the SLA.
    pub on_demand: (f64, bool),
    /// Sizes the month's search simulated.
    pub sizes_simulated: usize,
    /// When no size the month's search tried meets the SLA (nor no reservation): the nearest,
    /// which is the requirement, and how far it misses.
    pub nearest: Option<rate_plan::Shortfall>,
}

/// One side of one way: its purchases (units are blocks) and what it holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SideWay {
    pub side: &'static str,
    pub purchases: Vec<Purchase>,
    /// Blocks held per month, by term (indices into the side's terms).
    pub held: Vec<Vec<u32>>,
    /// Committed $ per month inside the window.
    pub reserved_usd: Vec<f64>,
    pub after_window_usd: f64,
    /// Month m's marginal price, $ per block (the cheapest ladder only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marginal_usd: Vec<f64>,
}

/// One way of meeting the requirement, month by month, billed by simulation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateWay {
    pub kind: Kind,
    pub name: String,
    pub sides: Vec<SideWay>,
    /// Per month, per side: the size held (TPM or USD per minute).
    pub held: Vec<Vec<f64>>,
    /// Committed $ per month (every side).
    pub reserved_usd: Vec<f64>,
    /// The rest of the month's bill at the sizes held: the overflow at list price and every
    /// other deployment as written, $ per month (simulated).
    pub on_demand_usd: Vec<f64>,
    /// Per month: the SLA met at the sizes held.
    pub meets: Vec<bool>,
    pub after_window_usd: f64,
    pub meets_sla: bool,
    pub total_usd: f64,
}

impl RateWay {
    /// The whole bill of month `m`.
    pub fn month_usd(&self, m: usize) -> f64 {
        self.reserved_usd[m] + self.on_demand_usd[m]
    }
}

/// Everything `plan --ladder` found for a token-rate reservation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateLadder {
    pub kind: &'static str,
    pub deployment: String,
    /// "tokens" or "spend".
    pub measure: &'static str,
    pub sla: Vec<ClassSla>,
    /// The term each month's requirement is sized at: the cheapest per hour.
    pub sizing_term: String,
    pub sides: Vec<RateSide>,
    pub months: Vec<RateMonth>,
    pub sample_hours: u32,
    pub replications: u32,
    /// The cheapest ladder first, then buy for the peak now, re-plan monthly, all on-demand.
    pub strategies: Vec<RateWay>,
    #[serde(skip)]
    pub input_failure: Option<String>,
}

fn reservation(sc: &Scenario, d: usize) -> &RateReservation {
    match &sc.deployments[d].pool {
        Pool::OnDemand(o) => o.reserved_rate.as_deref().expect("a rate deployment"),
        Pool::Reserved(_) => unreachable!("a rate deployment is on demand"),
    }
}

/// The term each month is sized at: the lowest hourly commitment at the scenario's size, ties
/// to the fewer committed hours (as `plan` breaks them).
pub fn sizing_term(r: &RateReservation, terms: &[String]) -> String {
    let hours = |t: &String| r.term_hours(t).unwrap_or(0.0);
    terms
        .iter()
        .min_by(|a, b| {
            r.hour_cost_on(a)
                .total_cmp(&r.hour_cost_on(b))
                .then(hours(a).total_cmp(&hours(b)))
        })
        .cloned()
        .unwrap_or_else(|| r.term.clone())
}

/// What a term costs more per block and month beyond its first, so that of two terms the same
/// per hour the exact flow buys the shorter (2 micro-dollars: the flow counts whole ones).
const TIE_USD: f64 = 2e-6;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The price of one block of side `i` per hour at unit prices `(a, b)`.
fn block_hour(measure: &RateMeasure, i: usize, block: f64, (a, b): (f64, f64)) -> f64 {
    match measure {
        RateMeasure::Tokens { .. } => block / 1000.0 * if i == 0 { a } else { b },
        RateMeasure::Spend { .. } => block * 60.0 * a,
    }
}

/// The sides of `r` with their blocks (from the month sizes `required`) and terms, priced per
/// purchase month when `d`'s prices change.
fn sides(
    r: &RateReservation,
    d: &Deployment,
    terms: &[String],
    required: &[Vec<f64>],
    start_date: i64,
) -> Vec<RateSide> {
    let s = r.steps;
    let int_gcd = |min: f64, step: f64| gcd(min.round() as u64, step.round() as u64).max(1) as f64;
    let mut out = match r.measure {
        RateMeasure::Tokens { .. } => vec![
            ("input", "TPM", s.min_input_tpm, s.input_tpm_step),
            ("output", "TPM", s.min_output_tpm, s.output_tpm_step),
        ]
        .into_iter()
        .map(|(side, unit, min, step)| RateSide {
            side,
            unit,
            min,
            step,
            block: int_gcd(min, step),
            terms: Vec::new(),
        })
        .collect::<Vec<_>>(),
        RateMeasure::Spend { .. } => {
            // Micro-dollars per minute: every month's size is an exact decimal.
            let g = required
                .iter()
                .map(|v| (v[0] * 1e6).round() as u64)
                .fold(0, gcd);
            vec![RateSide {
                side: "spend",
                unit: "USD per minute",
                min: 0.0,
                step: 0.0,
                block: if g == 0 { 0.01 } else { g as f64 / 1e6 },
                terms: Vec::new(),
            }]
        }
    };
    let window = required.len() as u32;
    for (i, side) in out.iter_mut().enumerate() {
        side.terms = terms
            .iter()
            .filter_map(|name| {
                let p = *r.unit_prices.get(name)?;
                let hours = r.term_hours(name);
                let length = hours.map_or(1, |h| ((h / HOURS_PER_MONTH).round() as u32).max(1));
                // Ties go to the shorter commitment (as `plan` breaks them): a term is charged
                // TIE_USD more per month beyond the first, far below a cent of any bill.
                let tie = TIE_USD * f64::from(length - 1) / (HOURS_PER_MONTH * f64::from(length));
                let price = |p| block_hour(&r.measure, i, side.block, p) + tie;
                let by_month = if d.price_changes.is_empty() {
                    Vec::new()
                } else {
                    (0..window)
                        .map(|m| match d.pool_at(u64::from(horizon_of(start_date, m))) {
                            Pool::OnDemand(o) => o
                                .reserved_rate
                                .as_ref()
                                .and_then(|x| x.unit_prices.get(name))
                                .map_or(price(p), |q| price(*q)),
                            Pool::Reserved(_) => price(p),
                        })
                        .collect()
                };
                Some(LadderTerm {
                    name: name.clone(),
                    months: length,
                    price_per_unit_hour: price(p),
                    commits: hours.is_some(),
                    by_month,
                })
            })
            .collect();
    }
    out
}

/// The month's economic size from its rate plan: the best size on the sizing term against no
/// reservation (meets the SLA first, then cheaper; when nothing meets it, the nearest, then
/// cheaper); None when no reservation wins. With it, whether that configuration meets the SLA.
fn economic(p: &RatePlan) -> (Option<Vec<f64>>, bool) {
    let none = &p.no_reservation;
    match p.best() {
        Some(c) => {
            let pt = &c.point;
            let sizes = match (pt.input_tpm, pt.output_tpm, pt.usd_per_minute) {
                (Some(i), Some(o), _) => vec![i, o],
                (_, _, Some(u)) => vec![u],
                _ => Vec::new(),
            };
            (Some(sizes), pt.meets())
        }
        _ => (None, none.meets()),
    }
}

/// The measure of sizes held (None when every side is 0: no reservation).
fn measure_of(kind: &str, sizes: &[f64]) -> Option<RateMeasure> {
    if sizes.iter().all(|&s| s <= 0.0) {
        return None;
    }
    Some(match kind {
        "spend" => RateMeasure::Spend {
            usd_per_minute: sizes[0],
        },
        _ => RateMeasure::Tokens {
            input_tpm: sizes[0],
            output_tpm: sizes.get(1).copied().unwrap_or(0.0),
        },
    })
}

/// A size's key for the simulated bills: micro-units per side.
fn key(sizes: &[f64]) -> Vec<i64> {
    sizes.iter().map(|s| (s * 1e6).round() as i64).collect()
}

/// Runs the ladder: each month's requirement by the rate search, the purchases by the exact
/// flow per side, every way's months billed by simulation at the sizes held.
pub fn ladder(
    sc: &Scenario,
    spec: &RateSpec,
    months: u32,
    sample_hours: u32,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> RateLadder {
    let d = spec.deployment;
    let r = reservation(sc, d).clone();
    let sizing = sizing_term(&r, &spec.terms);
    let sub = RateSpec {
        sla: spec.sla,
        deployment: d,
        terms: vec![sizing.clone()],
    };
    let mut failure = None;
    let mut samples = Vec::new();
    let mut plans = Vec::new();
    for m in 0..months {
        let s = month_scenario(sc, m, sample_hours);
        let p = rate_plan::plan(&s, &sub, threads, progress);
        failure = failure.or(p.input_failure.clone());
        samples.push(s);
        plans.push(p);
    }
    let n_sides = if r.measure.kind() == "spend" { 1 } else { 2 };
    let chosen: Vec<(Option<Vec<f64>>, bool)> = plans.iter().map(economic).collect();
    let required: Vec<Vec<f64>> = chosen
        .iter()
        .map(|(s, _)| s.clone().unwrap_or_else(|| vec![0.0; n_sides]))
        .collect();
    let sides = sides(
        &r,
        &sc.deployments[d],
        &spec.terms,
        &required,
        sc.start_date,
    );
    let scale = HOURS_PER_MONTH / f64::from(sample_hours.max(1));
    let month_needs: Vec<RateMonth> = (0..months as usize)
        .map(|m| {
            let (start_date, demand_rps) = month_demand(sc, m as u32);
            let none = &plans[m].no_reservation;
            RateMonth {
                month: m as u32,
                start_date,
                demand_rps,
                required_blocks: sides
                    .iter()
                    .zip(&required[m])
                    .map(|(s, &v)| s.blocks(v))
                    .collect(),
                required: required[m].clone(),
                meets_sla: chosen[m].1,
                on_demand: (none.cost("none") * scale, none.meets()),
                sizes_simulated: plans[m].evaluated.len() + 1,
                nearest: plans[m].shortfall(),
            }
        })
        .collect();
    let mut ways = decide(&sides, &month_needs);
    // The bills: every (month, sizes held) simulated once; the sizes the month's search
    // simulated already, and no reservation, are taken from it.
    let mut known: Vec<BTreeMap<Vec<i64>, rate_plan::MeasuredBill>> = plans
        .iter()
        .map(|p| {
            let mut k = BTreeMap::new();
            for pt in &p.evaluated {
                let sizes: Vec<f64> = [pt.input_tpm, pt.output_tpm, pt.usd_per_minute]
                    .into_iter()
                    .flatten()
                    .collect();
                let other = pt.cost(&sizing) - pt.commitment_usd.get(&sizing).unwrap_or(&0.0);
                k.insert(
                    key(&sizes),
                    rate_plan::MeasuredBill {
                        other_usd: other,
                        meets: pt.meets(),
                    },
                );
            }
            k
        })
        .collect();
    for m in 0..months as usize {
        let mut todo: Vec<Vec<f64>> = ways
            .iter()
            .filter(|w| w.kind != Kind::OnDemand)
            .map(|w| w.held[m].clone())
            .filter(|h| measure_of(r.measure.kind(), h).is_some())
            .filter(|h| !known[m].contains_key(&key(h)))
            .collect();
        todo.sort_by_key(|a| key(a));
        todo.dedup_by(|a, b| key(a) == key(b));
        if todo.is_empty() {
            continue;
        }
        let measures: Vec<Option<RateMeasure>> = todo
            .iter()
            .map(|h| measure_of(r.measure.kind(), h))
            .collect();
        let (bills, f) =
            rate_plan::simulate_measures(&samples[m], spec, &sizing, &measures, threads, progress);
        failure = failure.or(f);
        for (h, b) in todo.iter().zip(bills) {
            known[m].insert(key(h), b);
        }
    }
    for w in &mut ways {
        for m in 0..months as usize {
            let bill = match measure_of(r.measure.kind(), &w.held[m]) {
                Some(_) if w.kind != Kind::OnDemand => known[m][&key(&w.held[m])],
                _ => rate_plan::MeasuredBill {
                    other_usd: plans[m].no_reservation.cost("none"),
                    meets: plans[m].no_reservation.meets(),
                },
            };
            w.on_demand_usd[m] = bill.other_usd * scale;
            w.meets[m] = bill.meets;
        }
        w.meets_sla = w.meets.iter().all(|&x| x);
        w.total_usd = w.reserved_usd.iter().sum::<f64>()
            + w.on_demand_usd.iter().sum::<f64>()
            + w.after_window_usd;
    }
    RateLadder {
        kind: "reserved_rate",
        deployment: sc.deployments[d].name.clone(),
        measure: r.measure.kind(),
        sla: crate::analysis::plan::class_slas(&with_sla(sc, spec)),
        sizing_term: sizing,
        sides,
        months: month_needs,
        sample_hours,
        replications: sc.replications,
        strategies: ways,
        input_failure: failure,
    }
}

/// The scenario's classes with the SLA of `spec` when it sets one.
fn with_sla(sc: &Scenario, spec: &RateSpec) -> Scenario {
    let mut s = sc.clone();
    if let Some(t) = spec.sla {
        for c in &mut s.classes {
            c.sla = Some(crate::domain::Sla {
                ttft_us: (t.ttft_ms * 1000.0).round() as u64,
                percentile: t.percentile,
            });
        }
    }
    s
}

/// The ways of covering the requirement (their on-demand bills and SLA still to simulate):
/// the cheapest ladder, buy for the peak now on the single term cheapest for it, re-plan monthly
/// on the cheapest one-month term, all on-demand. No simulation: tests give the months by hand.
pub fn decide(sides: &[RateSide], months: &[RateMonth]) -> Vec<RateWay> {
    let n = months.len();
    let need = |i: usize| -> Vec<u32> { months.iter().map(|m| m.required_blocks[i]).collect() };
    let terms = sides.first().map_or(0, |s| s.terms.len());
    let way =
        |kind: Kind, name: String, cover_need: &dyn Fn(usize) -> Vec<u32>, use_terms: &[usize]| {
            let covers: Vec<SideWay> = sides
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let c = cover(&cover_need(i), use_terms, 1, &s.terms);
                    SideWay {
                        side: s.side,
                        purchases: c.purchases,
                        held: c.held,
                        reserved_usd: c.reserved_usd,
                        after_window_usd: c.after_window_usd,
                        marginal_usd: if kind == Kind::Ladder {
                            c.solution.marginal_usd
                        } else {
                            Vec::new()
                        },
                    }
                })
                .collect();
            held_way(kind, name, covers, sides, n)
        };
    let mut out = Vec::new();
    if terms == 0 {
        return out;
    }
    let all: Vec<usize> = (0..terms).collect();
    out.push(way(Kind::Ladder, "cheapest ladder".into(), &need, &all));
    let committed = |w: &RateWay| w.reserved_usd.iter().sum::<f64>() + w.after_window_usd;
    let peak = |i: usize| vec![need(i).into_iter().max().unwrap_or(0); n];
    let best = |cands: Vec<RateWay>| {
        cands
            .into_iter()
            .min_by(|a, b| committed(a).total_cmp(&committed(b)))
    };
    let names = |t: usize| sides[0].terms[t].name.clone();
    let peak_now = (0..terms).map(|t| {
        way(
            Kind::PeakNow,
            format!("buy for the peak now ({})", names(t)),
            &peak,
            &[t],
        )
    });
    out.extend(best(peak_now.collect()));
    let monthly = (0..terms)
        .filter(|&t| sides[0].terms[t].months == 1)
        .map(|t| {
            way(
                Kind::MonthlyReplan,
                format!("re-plan monthly ({})", names(t)),
                &need,
                &[t],
            )
        });
    out.extend(best(monthly.collect()));
    let zero = |_: usize| vec![0; n];
    let mut od = way(Kind::OnDemand, "all on-demand".into(), &zero, &[]);
    for (m, month) in months.iter().enumerate() {
        od.on_demand_usd[m] = month.on_demand.0;
        od.meets[m] = month.on_demand.1;
    }
    out.push(od);
    out
}

/// A way from its sides' covers: the sizes held and committed per month.
fn held_way(
    kind: Kind,
    name: String,
    covers: Vec<SideWay>,
    sides: &[RateSide],
    n: usize,
) -> RateWay {
    let held = (0..n)
        .map(|m| {
            covers
                .iter()
                .zip(sides)
                .map(|(c, s)| c.held[m].iter().sum::<u32>() as f64 * s.block)
                .collect()
        })
        .collect();
    RateWay {
        kind,
        name,
        reserved_usd: (0..n)
            .map(|m| covers.iter().map(|c| c.reserved_usd[m]).sum())
            .collect(),
        after_window_usd: covers.iter().map(|c| c.after_window_usd).sum(),
        sides: covers,
        held,
        on_demand_usd: vec![0.0; n],
        meets: vec![true; n],
        meets_sla: true,
        total_usd: 0.0,
    }
}
