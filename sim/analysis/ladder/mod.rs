//! Commitment ladders (`llmcap plan --ladder`): which reserved units to buy on
//! which term, and when, over the months of a growing scenario.
//!
//! 1. **Requirement per month.** For each whole month of the horizon (months
//!    counted by anniversary of `start_date`, as growth counts them), the
//!    month's first `sample_hours` (a week by default) are simulated at that
//!    month's level (the class rates times the month's growth, with the
//!    month-of-year and day-of-week factors of those days) and `plan`'s
//!    bisection finds the fewest purchasable units meeting the SLA
//!    ([`crate::analysis::plan::fewest`]). The same simulations price the
//!    on-demand spillover at each number of units tried, and all on-demand.
//! 2. **Purchases.** [`solve`] covers the requirement at the lowest committed
//!    cost with every priced term, exactly (a minimum-cost flow), and gives
//!    each month's marginal price, from which every purchase's reason is made.
//! 3. **Comparison.** The same requirement met three simpler ways: buy for
//!    the peak now on the single term that does it cheapest (renewed as it
//!    ends), re-plan every month on the cheapest one-month term, and all
//!    on-demand.
//!
//! A month's bill is the reserved units held that month (each purchase paid
//! per month of its term, 730 h a month; months a term runs past the window
//! are counted apart as signed after the plan) plus the on-demand spillover
//! simulated at the largest simulated number of units not above those held
//! (an upper bound when more are held).

pub mod rate;
pub mod solve;

use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::analysis::plan::{fewest, ClassSla, Evaluated, Mode, PlanSpec};
use crate::domain::time::{self, HOURS_PER_MONTH};
use crate::domain::{Deployment, Growth, OutageSchedule, Pool, Reserved, Scenario};
use crate::error::{InputError, ValueError};
pub use solve::{Buy, LadderTerm, Solution};

/// Hours of each month simulated by default: one week, so every weekday is in it.
pub const DEFAULT_SAMPLE_HOURS: u32 = 168;

/// The hours a month's sample may span: a day up to the shortest month.
pub const SAMPLE_HOURS: (u32, u32) = (24, 672);

/// Months a ladder may span: a year to three years (the longest horizon).
pub const LADDER_MONTHS: (u32, u32) = (12, 36);

/// The terms a ladder may buy, from the reserved deployment's prices: every
/// term of `allowed`, as a whole number of months. The one place the ladder
/// reads terms, so a change in how terms are stored touches only this.
pub fn ladder_terms(r: &Reserved, allowed: &[String]) -> Vec<LadderTerm> {
    allowed
        .iter()
        .filter_map(|name| {
            let price = *r.price_per_unit_hour.get(name)?;
            let hours = r.term_hours(name);
            Some(LadderTerm {
                name: name.clone(),
                months: hours.map_or(1, |h| ((h / HOURS_PER_MONTH).round() as u32).max(1)),
                price_per_unit_hour: price,
                commits: hours.is_some(),
                by_month: Vec::new(),
            })
        })
        .collect()
}

/// Prices each term of `terms` per month of purchase: the price in force at the month's
/// first hour (a `[[price_change]]` or a retirement's `migrate_to` on `d`), kept by the purchase
/// for its whole term. Nothing to do when `d`'s prices never change.
pub fn month_prices(terms: &mut [LadderTerm], d: &Deployment, start_date: i64, months: u32) {
    if d.price_changes.is_empty() {
        return;
    }
    for t in terms {
        t.by_month = (0..months)
            .map(|m| match d.pool_at(u64::from(horizon_of(start_date, m))) {
                Pool::Reserved(r) => r
                    .price_per_unit_hour
                    .get(&t.name)
                    .copied()
                    .unwrap_or(t.price_per_unit_hour),
                Pool::OnDemand(_) => t.price_per_unit_hour,
            })
            .collect();
    }
}

/// What one month asks for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthNeed {
    pub month: u32,
    /// First day of the month, days since 1970-01-01.
    pub start_date: i64,
    /// Mean requests per second over the whole month, all classes (the scenario's rate).
    pub demand_rps: f64,
    /// Fewest units meeting the SLA in the month's sample; None when even
    /// `max_units` misses it.
    pub units: Option<u32>,
    /// (units, on-demand $ per month) of every configuration simulated.
    pub spill: Vec<(u32, f64)>,
    /// All on-demand: $ per month and whether it meets the SLA.
    pub on_demand: Option<(f64, bool)>,
}

impl MonthNeed {
    /// Units the ladder must hold: the requirement, or the most tried when
    /// nothing met the SLA.
    pub fn required(&self, max_units: u32) -> u32 {
        self.units.unwrap_or(max_units)
    }

    /// On-demand $ per month with `held` units: simulated at the largest
    /// number of units tried not above `held` (else the fewest tried).
    pub fn spill_at(&self, held: u32) -> f64 {
        self.spill
            .iter()
            .filter(|(u, _)| *u <= held)
            .max_by_key(|(u, _)| *u)
            .or(self.spill.first())
            .map_or(0.0, |(_, usd)| *usd)
    }
}

/// Which way of meeting the requirement a strategy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Ladder,
    PeakNow,
    MonthlyReplan,
    OnDemand,
}

/// One way of meeting the requirement, month by month.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Strategy {
    pub kind: Kind,
    pub name: String,
    /// Purchases, in the order made.
    pub purchases: Vec<Purchase>,
    /// Units held per month, by term (indices into `LadderResult::terms`).
    pub held: Vec<Vec<u32>>,
    /// Committed $ per month (the months of each purchase inside the window).
    pub reserved_usd: Vec<f64>,
    /// On-demand $ per month (spillover, or all traffic for all on-demand).
    pub on_demand_usd: Vec<f64>,
    /// Committed $ for months after the window (terms running past its end).
    pub after_window_usd: f64,
    /// Whether every month meets the SLA.
    pub meets_sla: bool,
    /// Committed (in and after the window) plus on-demand, $.
    pub total_usd: f64,
}

impl Strategy {
    fn totalled(mut self) -> Self {
        self.total_usd = self.reserved_usd.iter().sum::<f64>()
            + self.on_demand_usd.iter().sum::<f64>()
            + self.after_window_usd;
        self
    }
    /// The whole bill of month `m`.
    pub fn month_usd(&self, m: usize) -> f64 {
        self.reserved_usd[m] + self.on_demand_usd[m]
    }
}

/// A purchase and the numbers that say why it is made then.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Purchase {
    /// Month bought (0 = the first).
    pub month: u32,
    pub term: String,
    pub units: u32,
    /// Months the term holds the units.
    pub months: u32,
    /// Months of those inside the window.
    pub months_in_window: u32,
    /// The whole commitment, $.
    pub cost_usd: f64,
    /// $ per unit-month of this term.
    pub unit_month_usd: f64,
    /// The same term's units ended this month (bought `months` earlier).
    pub renewal: bool,
    /// Units of the same term whose term ends as this month starts.
    pub expiring_units: u32,
    /// Of this purchase, the units that renew expiring ones (the rest are added):
    /// min(units, expiring_units).
    pub renewed_units: u32,
    /// Lowest and highest requirement over the months held inside the window.
    pub need_min: u32,
    pub need_max: u32,
    /// What holding one more unit through the months inside the window is
    /// worth to the plan (the sum of those months' marginal prices).
    pub worth_usd: f64,
    /// How much more the cheapest plan that does not buy this term this
    /// month costs (solved again without it); None when nothing else covers
    /// the requirement.
    pub without_usd: Option<f64>,
    /// The cheapest one-month term and its $ per unit-month, when this term
    /// is longer.
    pub versus_monthly: Option<(String, f64)>,
}

/// Everything `plan --ladder` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LadderResult {
    /// The SLA each class was planned for.
    pub sla: Vec<ClassSla>,
    pub deployment: String,
    pub terms: Vec<LadderTerm>,
    pub months: Vec<MonthNeed>,
    /// Hours simulated per month (from the month's first day).
    pub sample_hours: u32,
    pub replications: u32,
    pub max_units: u32,
    pub min_units: u32,
    pub unit_step: u32,
    /// Units are bought in multiples of this (gcd of min_units and unit_step).
    pub block: u32,
    /// Month m's marginal price in the cheapest ladder, $ per unit.
    pub marginal_usd: Vec<f64>,
    /// The cheapest ladder first, then buy for the peak now, re-plan monthly, all on-demand.
    pub strategies: Vec<Strategy>,
    #[serde(skip)]
    pub input_failure: Option<String>,
}

impl LadderResult {
    /// Units the ladder holds at least, per month.
    pub fn required(&self) -> Vec<u32> {
        self.months
            .iter()
            .map(|n| n.required(self.max_units))
            .collect()
    }
}

/// Whole months in the scenario's horizon, checked for a ladder: 12 to 36,
/// and profile arrivals only (a replayed trace has no month-by-month level).
pub fn ladder_months(sc: &Scenario, file: &Path) -> Result<u32, InputError> {
    if let Some(i) = sc.classes.iter().position(|c| c.trace.is_some()) {
        return Err(ValueError::new(
            "plan --ladder needs profile arrivals (mean_rps with growth), not a replayed trace",
        )
        .at(file, format!("class[{i}].arrivals.trace")));
    }
    let end = sc.start_date + (sc.horizon_hours / 24) as i64;
    let months = time::months_since(sc.start_date, end);
    let (lo, hi) = LADDER_MONTHS;
    if !(lo..=hi).contains(&months) {
        return Err(ValueError::from(format!(
            "plan --ladder covers {lo} to {hi} whole months from start_date; {} h holds {months} (give --months {lo} to {hi})",
            sc.horizon_hours
        ))
        .at(file, "scenario.horizon_hours"));
    }
    Ok(months)
}

/// The horizon of `months` whole months from day `start_date`, in hours.
pub fn horizon_of(start_date: i64, months: u32) -> u32 {
    ((time::month_start(start_date, months) - start_date) * 24) as u32
}

/// Month `m`'s first `hours` at that month's level: rates times the month's
/// growth, no growth, starting on the month's first day. Scheduled outage
/// windows are dropped (they are placed in hours of the full run).
pub fn month_scenario(sc: &Scenario, m: u32, hours: u32) -> Scenario {
    let mut s = sc.clone();
    let start = time::month_start(sc.start_date, m);
    for c in &mut s.classes {
        c.arrivals.mean_rps *= c.arrivals.growth.factor(m);
        c.arrivals.growth = Growth::None;
    }
    for k in &mut s.batch_classes {
        k.arrivals.mean_rps *= k.arrivals.growth.factor(m);
        k.arrivals.growth = Growth::None;
    }
    // Prices as of the month's first hour, later changes from there.
    let hour = ((start - sc.start_date) * 24) as u32;
    s.deployments = sc.deployments.iter().map(|d| d.from_hour(hour)).collect();
    s.classes = s.classes.iter().map(|c| c.from_hour(hour)).collect();
    s.start_date = start;
    s.start_weekday = time::weekday(start);
    s.horizon_hours = hours;
    s.outages
        .retain(|o| !matches!(o.schedule, OutageSchedule::Window { .. }));
    s
}

/// Month `m`'s first day (days since 1970-01-01) and its mean requests per second over the
/// whole month, all classes (the scenario's rate).
pub fn month_demand(sc: &Scenario, m: u32) -> (i64, f64) {
    let (from, to) = (
        time::month_start(sc.start_date, m),
        time::month_start(sc.start_date, m + 1),
    );
    let (h0, h1) = (
        ((from - sc.start_date) * 24) as u64,
        ((to - sc.start_date) * 24) as u64,
    );
    let requests: f64 = (h0..h1)
        .map(|h| {
            sc.classes
                .iter()
                .map(|c| c.expected_in_hour(h, sc.start_date))
                .sum::<f64>()
        })
        .sum();
    (from, requests / ((h1 - h0) as f64 * 3600.0))
}

/// The requirement of every month, by simulation.
pub fn needs(
    sc: &Scenario,
    spec: &PlanSpec,
    months: u32,
    sample_hours: u32,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> (Vec<MonthNeed>, Option<String>) {
    let term = spec.terms.first().cloned().unwrap_or_default();
    let mut failure = None;
    let mut out = Vec::new();
    for m in 0..months {
        let sample = month_scenario(sc, m, sample_hours);
        let f = fewest(&sample, spec, threads, progress);
        failure = failure.or(f.input_failure);
        // The simulated bill priced under the first term, less what the reserved pool was
        // billed on it (any `reserved_units` split and the sample's price changes included):
        // the on-demand $ as simulated (spillover and any other deployment).
        let spill = f
            .evaluated
            .iter()
            .map(|e: &Evaluated| {
                let total = e.monthly_usd.get(&term).map_or(0.0, |c| c.mean);
                let reserved = e.reserved_monthly_usd.get(&term).copied().unwrap_or(0.0);
                (e.units, (total - reserved).max(0.0))
            })
            .collect();
        let on_demand = f.on_demand.as_ref().map(|e| {
            let usd = e.monthly_usd.values().next().map_or(0.0, |c| c.mean);
            (usd, e.meets())
        });
        let (from, demand_rps) = month_demand(sc, m);
        out.push(MonthNeed {
            month: m,
            start_date: from,
            demand_rps,
            units: f.units,
            spill,
            on_demand,
        });
        debug_assert!(matches!(
            f.mode,
            Mode::ReservedSpillover | Mode::ReservedOnly
        ));
    }
    (out, failure)
}

fn reserved<'a>(sc: &'a Scenario, spec: &PlanSpec) -> &'a Reserved {
    match &sc.deployments[spec.reserved].pool {
        Pool::Reserved(r) => r,
        Pool::OnDemand(_) => unreachable!("spec.reserved is reserved"),
    }
}

pub fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Runs the ladder: requirements by simulation, then [`decide`].
pub fn ladder(
    sc: &Scenario,
    spec: &PlanSpec,
    months: u32,
    sample_hours: u32,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> LadderResult {
    let r = reserved(sc, spec);
    let mut terms = ladder_terms(r, &spec.terms);
    let dep = &sc.deployments[spec.reserved];
    month_prices(&mut terms, dep, sc.start_date, months);
    let (needs, input_failure) = needs(sc, spec, months, sample_hours, threads, progress);
    let mut out = decide(
        &sc.deployments[spec.reserved].name,
        r,
        terms,
        needs,
        spec.max_units,
    );
    out.sla = sc
        .classes
        .iter()
        .filter_map(|c| {
            let (percentile, ttft_ms) = match spec.sla {
                Some(t) => (t.percentile, t.ttft_ms),
                None => c.sla.map(|s| (s.percentile, s.ttft_us as f64 / 1000.0))?,
            };
            Some(ClassSla {
                class: c.name.clone(),
                percentile,
                ttft_ms,
            })
        })
        .collect();
    out.sample_hours = sample_hours;
    out.replications = sc.replications;
    out.input_failure = input_failure;
    out
}

/// The cheapest ladder and the three comparisons for requirements already
/// found (no simulation: tests give `needs` by hand).
pub fn decide(
    deployment: &str,
    r: &Reserved,
    terms: Vec<LadderTerm>,
    needs: Vec<MonthNeed>,
    max_units: u32,
) -> LadderResult {
    let block = gcd(r.min_units, r.unit_step).max(1);
    let need: Vec<u32> = needs.iter().map(|n| n.required(max_units)).collect();
    let possible = needs.iter().all(|n| n.units.is_some());
    let all: Vec<usize> = (0..terms.len()).collect();
    let peak = need.iter().copied().max().unwrap_or(0);
    let (best, mut strategies) = {
        let (s, st) = priced(
            Kind::Ladder,
            "cheapest ladder",
            &need,
            &all,
            block,
            &terms,
            &needs,
            possible,
        );
        (s, vec![st])
    };
    // Buy for the peak now: the single term that holds the peak all window
    // at the lowest cost (renewed as it ends).
    let flat = vec![peak; need.len()];
    let peak_now = (0..terms.len())
        .map(|t| {
            let name = format!("buy for the peak now ({})", terms[t].name);
            priced(
                Kind::PeakNow,
                &name,
                &flat,
                &[t],
                block,
                &terms,
                &needs,
                possible,
            )
        })
        .min_by(|a, b| a.1.total_usd.total_cmp(&b.1.total_usd));
    strategies.extend(peak_now.map(|p| p.1));
    if let Some(t) = cheapest_monthly(&terms) {
        let name = format!("re-plan monthly ({})", terms[t].name);
        strategies.push(
            priced(
                Kind::MonthlyReplan,
                &name,
                &need,
                &[t],
                block,
                &terms,
                &needs,
                possible,
            )
            .1,
        );
    }
    if !needs.is_empty() && needs.iter().all(|n| n.on_demand.is_some()) {
        strategies.push(
            Strategy {
                kind: Kind::OnDemand,
                name: "all on-demand".into(),
                purchases: Vec::new(),
                held: vec![vec![0; terms.len()]; needs.len()],
                reserved_usd: vec![0.0; needs.len()],
                on_demand_usd: needs
                    .iter()
                    .map(|n| n.on_demand.map_or(0.0, |o| o.0))
                    .collect(),
                after_window_usd: 0.0,
                meets_sla: needs.iter().all(|n| n.on_demand.is_some_and(|o| o.1)),
                total_usd: 0.0,
            }
            .totalled(),
        );
    }
    LadderResult {
        sla: Vec::new(),
        deployment: deployment.to_string(),
        terms,
        months: needs,
        sample_hours: 0,
        replications: 0,
        max_units,
        min_units: r.min_units,
        unit_step: r.unit_step,
        block,
        marginal_usd: best.marginal_usd,
        strategies,
        input_failure: None,
    }
}

/// The cheapest term of one month, if any.
pub fn cheapest_monthly(terms: &[LadderTerm]) -> Option<usize> {
    (0..terms.len())
        .filter(|&t| terms[t].months == 1)
        .min_by(|&a, &b| {
            terms[a]
                .price_per_unit_hour
                .total_cmp(&terms[b].price_per_unit_hour)
        })
}

/// A requirement covered by the cheapest purchases of some terms: the solution, its purchases
/// with their reasons, what is held and committed per month.
#[derive(Debug, Clone)]
pub struct Cover {
    pub solution: Solution,
    pub purchases: Vec<Purchase>,
    /// Units held per month, by term (indices into all the terms).
    pub held: Vec<Vec<u32>>,
    /// Committed $ per month inside the window.
    pub reserved_usd: Vec<f64>,
    /// Committed $ after the window.
    pub after_window_usd: f64,
}

/// Covers `need` (units, in blocks of `block`) with the terms `use_terms` (indices into
/// `terms`) at the lowest committed cost, and prices it month by month.
pub fn cover(need: &[u32], use_terms: &[usize], block: u32, terms: &[LadderTerm]) -> Cover {
    let sub: Vec<LadderTerm> = use_terms.iter().map(|&t| terms[t].clone()).collect();
    let mut sol = solve::solve(need, block, &sub, HOURS_PER_MONTH);
    for b in &mut sol.buys {
        b.term = use_terms[b.term];
    }
    let n = need.len();
    let held = solve::holdings(&sol.buys, terms, n);
    let mut reserved_usd = vec![0.0; n];
    let mut after = 0.0;
    for b in &sol.buys {
        let t = &terms[b.term];
        let per_month = b.units as f64 * t.unit_month_in(b.month, HOURS_PER_MONTH);
        for m in b.month..b.month + t.months {
            match reserved_usd.get_mut(m as usize) {
                Some(x) => *x += per_month,
                None => after += per_month,
            }
        }
    }
    let purchases = purchases(&sol, terms, use_terms, need, block);
    Cover {
        solution: sol,
        purchases,
        held,
        reserved_usd,
        after_window_usd: after,
    }
}

/// Covers `need` with the terms `use_terms` (indices into `terms`) and prices it.
#[allow(clippy::too_many_arguments)]
fn priced(
    kind: Kind,
    name: &str,
    need: &[u32],
    use_terms: &[usize],
    block: u32,
    terms: &[LadderTerm],
    needs: &[MonthNeed],
    possible: bool,
) -> (Solution, Strategy) {
    let c = cover(need, use_terms, block, terms);
    let on_demand_usd = needs
        .iter()
        .zip(&c.held)
        .map(|(nd, h)| nd.spill_at(h.iter().sum()))
        .collect();
    let strategy = Strategy {
        kind,
        name: name.to_string(),
        purchases: c.purchases,
        held: c.held,
        reserved_usd: c.reserved_usd,
        on_demand_usd,
        after_window_usd: c.after_window_usd,
        meets_sla: possible,
        total_usd: 0.0,
    }
    .totalled();
    (c.solution, strategy)
}

/// Each purchase with the numbers behind it, from the solution's duals.
fn purchases(
    sol: &Solution,
    terms: &[LadderTerm],
    use_terms: &[usize],
    need: &[u32],
    block: u32,
) -> Vec<Purchase> {
    let n = need.len();
    let sub: Vec<LadderTerm> = use_terms.iter().map(|&t| terms[t].clone()).collect();
    let sub_index = |t: usize| use_terms.iter().position(|&u| u == t).unwrap_or(0);
    let monthly = cheapest_monthly(&sub).map(|i| use_terms[i]);
    sol.buys
        .iter()
        .map(|b| {
            let t = &terms[b.term];
            let (from, to) = (b.month as usize, (b.month + t.months) as usize);
            let inside = &need[from.min(n)..to.min(n)];
            let worth = sol.worth(from, to);
            let without = solve::solve_without(
                need,
                block,
                &sub,
                HOURS_PER_MONTH,
                Some((b.month, sub_index(b.term))),
            )
            .map(|alt| (alt.cost_usd - sol.cost_usd).max(0.0));
            let expiring: u32 = sol
                .buys
                .iter()
                .filter(|o| o.term == b.term && o.month + terms[o.term].months == b.month)
                .map(|o| o.units)
                .sum();
            Purchase {
                month: b.month,
                term: t.name.clone(),
                units: b.units,
                months: t.months,
                months_in_window: inside.len() as u32,
                cost_usd: b.units as f64 * t.unit_cost_in(b.month, HOURS_PER_MONTH),
                unit_month_usd: t.unit_month_in(b.month, HOURS_PER_MONTH),
                renewal: expiring > 0,
                expiring_units: expiring,
                renewed_units: b.units.min(expiring),
                need_min: inside.iter().copied().min().unwrap_or(0),
                need_max: inside.iter().copied().max().unwrap_or(0),
                worth_usd: worth,
                without_usd: without,
                versus_monthly: monthly.filter(|&m| terms[m].months < t.months).map(|m| {
                    let month = terms[m].unit_month_in(b.month, HOURS_PER_MONTH);
                    (terms[m].name.clone(), month)
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn reserved() -> Reserved {
        Reserved {
            units: 15,
            reserved_units: 15,
            min_units: 15,
            unit_step: 5,
            tpm_per_unit: 2500.0,
            output_weight: 4.0,
            cached_input_weight: 1.0,
            concurrency_per_unit: 1,
            term: "yearly".into(),
            price_per_unit_hour: BTreeMap::from([
                ("hourly".into(), 1.0),
                ("monthly".into(), 0.5),
                ("yearly".into(), 0.3),
            ]),
            term_hours: BTreeMap::from([
                ("hourly".into(), 0.0),
                ("monthly".into(), 730.0),
                ("yearly".into(), 8760.0),
            ]),
            max_queue: None,
            max_wait_us: None,
        }
    }

    fn month(m: u32, units: u32) -> MonthNeed {
        MonthNeed {
            month: m,
            start_date: 0,
            demand_rps: 1.0,
            units: Some(units),
            // $100 of spillover at the requirement, $300 with 5 units fewer.
            spill: vec![(units.saturating_sub(5), 300.0), (units, 100.0)],
            on_demand: Some((10_000.0, true)),
        }
    }

    #[test]
    fn a_year_of_growth_by_hand() {
        // 12 months: 15 units for months 0-5, 25 for months 6-11. Per unit-month:
        // yearly 0.3 x 730 = $219, monthly $365, hourly $730. The bottom 15
        // units are needed all year: yearly 12 x 219 = $2,628 < 12 x 365. The
        // top 10 only six months: monthly 6 x 365 = $2,190 < a year's $2,628.
        // Ladder: 15 x 2,628 + 10 x 2,190 = 39,420 + 21,900 = $61,320.
        let r = reserved();
        let terms = ladder_terms(&r, &["hourly".into(), "monthly".into(), "yearly".into()]);
        let needs: Vec<MonthNeed> = (0..12)
            .map(|m| month(m, if m < 6 { 15 } else { 25 }))
            .collect();
        let res = decide("ptu", &r, terms, needs, 100);
        assert_eq!(res.block, 5);
        let ladder = &res.strategies[0];
        let committed: f64 = ladder.reserved_usd.iter().sum::<f64>() + ladder.after_window_usd;
        assert!((committed - 61_320.0).abs() < 1e-6, "{committed}");
        let p = &ladder.purchases;
        assert_eq!(
            (p[0].month, p[0].term.as_str(), p[0].units),
            (0, "yearly", 15)
        );
        assert_eq!((p[0].need_min, p[0].need_max), (15, 25));
        assert!(p[1..].iter().all(|b| b.term == "monthly" && b.units == 10));
        assert_eq!(
            p[1..].iter().map(|b| b.month).collect::<Vec<_>>(),
            (6..12).collect::<Vec<_>>()
        );
        // Monthly renewals of the same layer count as renewals from month 7.
        assert!(!p[1].renewal && p[2].renewal);
        // The yearly purchase is worth its price. Without it (no yearly in
        // month 0) the cheapest plan holds the bottom 15 monthly in month 0 and
        // yearly from month 1 (11 months inside, 1 after): 15 x 365 more.
        assert!((p[0].worth_usd - 2_628.0).abs() < 1e-6);
        let extra = p[0].without_usd.unwrap();
        assert!((extra - 15.0 * 365.0).abs() < 1e-6, "{extra}");
        // Without the month-6 monthly units: hourly ($730) or a yearly from
        // month 6 ($2,628 for the 6 months left) would cost more than 10 x 365:
        // the cheapest is 10 hourly, 10 x (730 - 365) = 3,650 more.
        assert!((p[1].without_usd.unwrap() - 3_650.0).abs() < 1e-6);
        // Spillover at the units held: $100 a month.
        assert!(ladder
            .on_demand_usd
            .iter()
            .all(|&x| (x - 100.0).abs() < 1e-9));
        // Peak now: 25 units all year. Yearly 25 x 2,628 = 65,700.
        let peak = &res.strategies[1];
        assert_eq!(peak.name, "buy for the peak now (yearly)");
        assert!((peak.reserved_usd.iter().sum::<f64>() - 65_700.0).abs() < 1e-6);
        // Re-plan monthly: (6 x 15 + 6 x 25) x 365 = 87,600.
        let monthly = &res.strategies[2];
        assert_eq!(monthly.name, "re-plan monthly (monthly)");
        assert!((monthly.reserved_usd.iter().sum::<f64>() - 87_600.0).abs() < 1e-6);
        let od = &res.strategies[3];
        assert!((od.total_usd - 120_000.0).abs() < 1e-6);
    }

    #[test]
    fn a_term_past_the_window_is_paid_whole() {
        // 12 months needing 15 units only in month 11, terms yearly only: one
        // yearly purchase at month 11, 11 of its months after the window.
        let r = reserved();
        let terms = ladder_terms(&r, &["yearly".into()]);
        let needs: Vec<MonthNeed> = (0..12)
            .map(|m| month(m, if m == 11 { 15 } else { 0 }))
            .collect();
        let res = decide("ptu", &r, terms, needs, 100);
        let s = &res.strategies[0];
        assert_eq!(s.purchases.len(), 1);
        assert_eq!(s.purchases[0].months_in_window, 1);
        assert!((s.reserved_usd[11] - 15.0 * 219.0).abs() < 1e-6);
        assert!((s.after_window_usd - 11.0 * 15.0 * 219.0).abs() < 1e-6);
    }
}
