//! What a configuration measured, each configuration priced under every term combination, and
//! the Pareto frontier marked: the rows of a frontier and the result every writer reads.

use crate::analysis::cost::{
    rate_commitment_cost, rate_commitment_cost_on, reserved_cost, reserved_cost_on,
};
use crate::analysis::plan::{ClassSla, HOURS_PER_MONTH};
use crate::analysis::sweep::{PointSummary, RepOutcome};
use crate::domain::{Pool, RateMeasure};
use crate::model::metrics::{Hist, MeanCi};

use super::grid::{combinations, size_label};
use super::label_of;
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
        let c = &f.configs[i];
        let sc = &c.scenario;
        // The reservations the terms price: reserved units, and the token-rate reservations
        // whose size the grid varies (a reservation it does not vary stays as `run` bills it).
        let reserved: f64 = sc
            .deployments
            .iter()
            .map(|d| {
                let rate = if c.rates.iter().any(|(n, _)| *n == d.name) {
                    rate_commitment_cost(d, sc.horizon_hours)
                } else {
                    0.0
                };
                reserved_cost(d, sc.horizon_hours) + rate
            })
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
    /// The token-rate reservations whose size the grid varies, with their size.
    pub reserved_rate: Vec<RateSize>,
    #[serde(skip)]
    pub rates: Vec<(String, Option<RateMeasure>)>,
    pub label: String,
    #[serde(flatten)]
    pub measured: Measured,
    /// Only for configurations on the frontier.
    pub rate: Option<Rate>,
}

/// A token-rate reservation's size in a configuration (every rate null: no reservation).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RateSize {
    pub deployment: String,
    pub input_tpm: Option<f64>,
    pub output_tpm: Option<f64>,
    pub usd_per_minute: Option<f64>,
    /// "100k/16k TPM", "$2.5/min", "no reservation".
    pub label: String,
}

impl RateSize {
    pub fn of(deployment: &str, m: Option<&RateMeasure>) -> RateSize {
        let (input_tpm, output_tpm, usd_per_minute) = match m {
            Some(RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            }) => (Some(*input_tpm), Some(*output_tpm), None),
            Some(RateMeasure::Spend { usd_per_minute }) => (None, None, Some(*usd_per_minute)),
            None => (None, None, None),
        };
        RateSize {
            deployment: deployment.to_string(),
            input_tpm,
            output_tpm,
            usd_per_minute,
            label: size_label(m),
        }
    }
}

/// A configuration priced under one term of each reservation on the grid it uses.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub config: usize,
    /// (deployment, term) of each reserved deployment of the configuration and of each
    /// token-rate reservation the grid sizes (none for no reservation).
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

    /// A row as a planner names it: "ptu 30 yearly > paygo", "sonnet 100k/16k TPM 1-month",
    /// each deployment on the grid with its units or reservation size and its term, in route
    /// order.
    pub fn describe(&self, r: &Row) -> String {
        let c = self.config(r);
        label_of(&c.units, &c.rates, c.route_names.as_deref(), |name| {
            r.terms
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
        })
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
        let h = c.scenario.horizon_hours;
        // Per deployment on the grid, the terms it is priced under (no reservation: none).
        let lists: Vec<(&str, Vec<Option<&String>>)> = c
            .units
            .iter()
            .map(|(n, _)| (n.as_str(), f.terms[n].iter().map(Some).collect()))
            .chain(c.rates.iter().map(|(n, m)| match m {
                Some(_) => (n.as_str(), f.terms[n].iter().map(Some).collect()),
                None => (n.as_str(), vec![None]),
            }))
            .collect();
        for at in combinations(&lists.iter().map(|(_, l)| l.len()).collect::<Vec<_>>()) {
            let chosen: Vec<(&str, &String)> = lists
                .iter()
                .zip(&at)
                .filter_map(|((n, l), &k)| Some((*n, (*l.get(k)?)?)))
                .collect();
            // Each reservation as a run bills it on that term: reserved units at the term's
            // price (units beyond the reservation hourly), a token-rate reservation's
            // commitment at the term's prices, each price period at its prices.
            let reserved: f64 = chosen
                .iter()
                .filter_map(|(n, t)| {
                    let d = c.scenario.deployments.iter().find(|d| d.name == *n)?;
                    Some(match d.pool {
                        Pool::Reserved(_) => reserved_cost_on(d, t, h),
                        Pool::OnDemand(_) => rate_commitment_cost_on(d, Some(t.as_str()), h),
                    })
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
                    .map(|(n, t)| (n.to_string(), t.to_string()))
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
