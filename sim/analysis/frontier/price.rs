//! What a configuration measured, each configuration priced under every term combination, and
//! the Pareto frontier marked: the rows of a frontier and the result every writer reads.

use crate::analysis::cost::{reserved_cost, reserved_cost_on};
use crate::analysis::plan::{ClassSla, HOURS_PER_MONTH};
use crate::analysis::sweep::{PointSummary, RepOutcome};
use crate::model::metrics::{Hist, MeanCi};

use super::grid::combinations;
use super::sustain::Rate;
use super::Frontier;

/// One configuration, measured: what its replications gave at the scenario's demand.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub summary: PointSummary,
    /// Served / arrived over all replications.
    pub availability: Option<f64>,
    /// Per replication, the cost the terms do not change: the total minus the reservations at
    /// the simulated terms (dollars over the horizon).
    #[serde(skip)]
    pub unreserved_usd: Vec<f64>,
    #[serde(skip)]
    pub input_failure: Option<String>,
}

impl Measured {
    /// From configuration `i`'s outcomes in replication order and its pooled TTFT histogram
    /// (the same in one process and from shards).
    pub fn of(f: &Frontier, i: usize, reps: &[RepOutcome], hist: &Hist) -> Measured {
        let sc = &f.configs[i].scenario;
        let reserved: f64 = sc
            .deployments
            .iter()
            .map(|d| reserved_cost(d, sc.horizon_hours))
            .sum();
        let (served, arrived) = reps
            .iter()
            .fold((0u64, 0u64), |(s, a), r| (s + r.served, a + r.arrived));
        Measured {
            summary: PointSummary::of(i as f64, reps, hist, false),
            availability: (arrived > 0).then(|| served as f64 / arrived as f64),
            unreserved_usd: reps.iter().map(|r| r.total_usd() - reserved).collect(),
            input_failure: reps.iter().find_map(|r| r.input_failure.clone()),
        }
    }

    pub fn meets(&self) -> bool {
        self.summary.meets_sla.unwrap_or(false)
    }

    /// p99 TTFT (mean over replications), or infinity when nothing was served.
    fn p99(&self) -> f64 {
        self.summary.ttft_p99_ms.map_or(f64::INFINITY, |c| c.mean)
    }
}

/// One configuration's results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigResult {
    pub route: String,
    /// The route every class takes (None: the scenario's routes).
    #[serde(skip)]
    pub route_names: Option<Vec<String>>,
    pub units: Vec<(String, u32)>,
    pub label: String,
    #[serde(flatten)]
    pub measured: Measured,
    /// Only for configurations on the frontier.
    pub rate: Option<Rate>,
}

/// A configuration priced under one term of each reserved deployment it uses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub config: usize,
    /// (deployment, term) of each reserved deployment of the configuration.
    pub terms: Vec<(String, String)>,
    /// Mean cost per month (730 h) and its 95% interval over replications.
    pub monthly_usd: MeanCi,
    pub pareto: bool,
}

/// Everything `frontier` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FrontierResult {
    pub sla: Vec<ClassSla>,
    pub replications: u32,
    pub horizon_hours: u32,
    pub routes: Vec<String>,
    pub configurations: Vec<ConfigResult>,
    /// Every priced row, in configuration order.
    pub rows: Vec<Row>,
    pub rate_steps: u32,
    pub max_demand_scale: f64,
    pub base_rps: f64,
    pub rate_note: Option<String>,
}

impl FrontierResult {
    /// The frontier's rows, cheapest first (ties by p99, then grid order).
    pub fn frontier(&self) -> Vec<&Row> {
        let mut v: Vec<&Row> = self.rows.iter().filter(|r| r.pareto).collect();
        v.sort_by(|a, b| {
            a.monthly_usd
                .mean
                .total_cmp(&b.monthly_usd.mean)
                .then(self.p99(a).total_cmp(&self.p99(b)))
        });
        v
    }

    /// A row as a planner names it: "ptu 30 yearly > paygo", each reserved deployment with its
    /// units and term, in route order.
    pub fn describe(&self, r: &Row) -> String {
        let c = self.config(r);
        let one = |name: &str| {
            let units = c.units.iter().find(|(n, _)| n == name);
            let term = r.terms.iter().find(|(n, _)| n == name);
            match (units, term) {
                (Some((_, u)), Some((_, t))) => format!("{name} {u} {t}"),
                (Some((_, u)), None) => format!("{name} {u}"),
                _ => name.to_string(),
            }
        };
        match &c.route_names {
            Some(route) => route.iter().map(|d| one(d)).collect::<Vec<_>>().join(" > "),
            None if c.units.is_empty() => "the scenario's routes".into(),
            None => format!(
                "{} (the scenario's routes)",
                c.units
                    .iter()
                    .map(|(n, _)| one(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    pub fn config(&self, r: &Row) -> &ConfigResult {
        &self.configurations[r.config]
    }

    pub fn p99(&self, r: &Row) -> f64 {
        self.configurations[r.config].measured.p99()
    }

    pub fn availability(&self, r: &Row) -> f64 {
        self.configurations[r.config]
            .measured
            .availability
            .unwrap_or(0.0)
    }

    /// The cheapest row meeting the SLA.
    pub fn cheapest_meeting(&self) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| self.config(r).measured.meets())
            .min_by(|a, b| {
                a.monthly_usd
                    .mean
                    .total_cmp(&b.monthly_usd.mean)
                    .then(self.p99(a).total_cmp(&self.p99(b)))
            })
    }
}

/// Prices every configuration under each term combination and marks the frontier.
pub(super) fn price(f: &Frontier, measured: &[Measured]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, (c, m)) in f.configs.iter().zip(measured).enumerate() {
        let hours = c.scenario.horizon_hours as f64;
        let lists: Vec<&Vec<(String, f64)>> = c.units.iter().map(|(n, _)| &f.terms[n]).collect();
        for at in combinations(&lists.iter().map(|l| l.len()).collect::<Vec<_>>()) {
            let chosen: Vec<(&str, u32, &(String, f64))> = c
                .units
                .iter()
                .zip(&lists)
                .zip(&at)
                .filter_map(|(((n, u), l), &k)| Some((n.as_str(), *u, l.get(k)?)))
                .collect();
            // Each pool as a run bills it on that term: the reservation at the term's price,
            // units beyond it hourly, each price period at its prices.
            let reserved: f64 = chosen
                .iter()
                .filter_map(|(n, _, t)| {
                    let d = c.scenario.deployments.iter().find(|d| d.name == *n)?;
                    Some(reserved_cost_on(d, &t.0, c.scenario.horizon_hours))
                })
                .sum();
            let monthly: Vec<f64> = m
                .unreserved_usd
                .iter()
                .map(|u| (u + reserved) / hours * HOURS_PER_MONTH)
                .collect();
            let monthly_usd = MeanCi::within(&monthly, 0.0, f64::INFINITY).unwrap_or(MeanCi {
                mean: 0.0,
                ci95_low: 0.0,
                ci95_high: 0.0,
                n: 0,
            });
            rows.push(Row {
                config: i,
                terms: chosen
                    .iter()
                    .map(|(n, _, t)| (n.to_string(), t.0.clone()))
                    .collect(),
                monthly_usd,
                pareto: false,
            });
        }
    }
    let key: Vec<(f64, f64, f64)> = rows
        .iter()
        .map(|r| {
            let m = &measured[r.config];
            (r.monthly_usd.mean, m.p99(), m.availability.unwrap_or(0.0))
        })
        .collect();
    for i in 0..rows.len() {
        let (c, p, a) = key[i];
        rows[i].pareto = !key
            .iter()
            .any(|&(c2, p2, a2)| c2 <= c && p2 <= p && a2 >= a && (c2 < c || p2 < p || a2 > a));
    }
    rows
}

/// The configurations on the frontier whose sustained rate is searched, in configuration order:
/// none when the search does not run (`rate_note`, or a replication whose inputs failed).
pub(super) fn searched_of(f: &Frontier, measured: &[Measured], rows: &[Row]) -> Vec<usize> {
    if f.rate_note.is_some() || measured.iter().any(|m| m.input_failure.is_some()) {
        return Vec::new();
    }
    let mut on_frontier: Vec<usize> = rows.iter().filter(|r| r.pareto).map(|r| r.config).collect();
    on_frontier.sort_unstable();
    on_frontier.dedup();
    on_frontier
}

/// The configurations whose sustained rate the search looks for, from the grid's measurements
/// (in configuration order): the items of a frontier's second sharded round.
pub fn searched(f: &Frontier, measured: &[Measured]) -> Vec<usize> {
    searched_of(f, measured, &price(f, measured))
}
