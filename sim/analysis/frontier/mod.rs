//! The cost–latency–availability frontier: every configuration of a grid (a unit count for each
//! reserved deployment, a routing option) simulated on the same traffic (common random
//! numbers), priced under each term, and the Pareto-optimal ones marked; then, for each
//! configuration on the frontier, the highest demand it sustains under the SLA (bisection on a
//! demand scale, as Vidur-Search searches the highest request rate of a GPU configuration).
//!
//! A configuration is built as a sweep point is: the units and routes are written into the
//! scenario document, which is then validated like any scenario, so every derived number comes
//! from the final inputs. A reserved deployment that no class's route uses under a routing
//! option is not bought: it is removed from that configuration (no reservation bill). The term
//! changes the price, not the traffic, so each simulated configuration is priced under every
//! term combination of the reserved deployments it uses (as `plan` does).
//!
//! One row is a priced configuration. Row `a` dominates row `b` when `a` costs no more per
//! month, has a p99 TTFT no higher and an availability no lower, and is strictly better in at
//! least one of the three; the frontier is the rows no other row dominates. (Rows that tie in
//! all three are all kept.)

mod grid;
mod price;
mod sustain;

pub use price::{ConfigResult, FrontierResult, Measured, RateSize, Row};
pub use sustain::{search_share, Evaluation, Rate, Rates, RecordError};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use crate::analysis::plan::{class_slas, remove_deployment};
use crate::analysis::sweep::{run_points_each, set_key, DEMAND_SCALE};
use crate::domain::limits::{MAX_EXPECTED_REQUESTS, MAX_POINTS, MAX_REPLICATION_HOURS};
use crate::domain::{FrontierOptions, Pool, RateMeasure, Scenario, Sla, SlaTarget};
use crate::error::{InputError, ValueError};
use crate::format::count;
use crate::input::scenario::work::Work;
use crate::input::scenario::Overrides;

pub use grid::size_label;
use grid::{
    check_each, check_size, combinations, grid_lists, priced_terms, rate_note, units_key, Axis,
};
pub use price::searched;
use price::{price, searched_of};
use sustain::{replay, simulate_trials, sustained_rates};

/// Most configurations one frontier simulates (and most priced rows: marking the frontier
/// compares every row with every other).
pub const MAX_CONFIGURATIONS: usize = MAX_POINTS;

/// One configuration of the grid.
#[derive(Debug, Clone)]
pub struct Config {
    /// Its routing option (an index into [`Frontier::routes`]).
    pub route: usize,
    /// (deployment name, units) of each reserved deployment the routes use, in scenario order.
    pub units: Vec<(String, u32)>,
    /// (deployment name, size) of each token-rate reservation the routes use whose size the
    /// grid varies (`[frontier] reserved_rate`), in scenario order; None: no reservation.
    pub rates: Vec<(String, Option<RateMeasure>)>,
    /// The validated scenario of the configuration.
    pub scenario: Scenario,
    /// The document it was validated from (units and routes written in), for the rate search.
    document: toml::Table,
}

impl Config {
    /// "ptu 30 > paygo", "sonnet 100k/16k TPM": the route with each reserved deployment's
    /// units, or the size of a reservation the grid varies, after its name.
    pub fn label(&self, routes: &[Option<Vec<String>>]) -> String {
        label_of(
            &self.units,
            &self.rates,
            routes[self.route].as_deref(),
            |_| None,
        )
    }
}

/// A configuration's (or a priced row's) name: the route, each deployment on the grid with its
/// units or reservation size and, when `term` gives one, its term ("ptu 30 yearly > paygo",
/// "sonnet 100k/16k TPM 1-month", "sonnet no reservation").
pub(crate) fn label_of<'a>(
    units: &[(String, u32)],
    rates: &[(String, Option<RateMeasure>)],
    route: Option<&[String]>,
    term: impl Fn(&str) -> Option<&'a str>,
) -> String {
    let one = |name: &str| {
        let what = units
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, u)| u.to_string())
            .or_else(|| {
                rates
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, m)| size_label(m.as_ref()))
            });
        match (what, term(name)) {
            (Some(w), Some(t)) => format!("{name} {w} {t}"),
            (Some(w), None) => format!("{name} {w}"),
            _ => name.to_string(),
        }
    };
    let on_grid = units
        .iter()
        .map(|(n, _)| n)
        .chain(rates.iter().map(|(n, _)| n));
    match route {
        Some(r) => r.iter().map(|d| one(d)).collect::<Vec<_>>().join(" > "),
        None if units.is_empty() && rates.is_empty() => "the scenario's routes".to_string(),
        None => format!(
            "{} (the scenario's routes)",
            on_grid.map(|n| one(n)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A frontier ready to run: every configuration validated, the work checked.
#[derive(Debug, Clone)]
pub struct Frontier {
    pub options: FrontierOptions,
    file: PathBuf,
    /// The command line's overrides with the frontier's replications.
    overrides: Overrides,
    /// The routing options: a route every class takes, or None for the scenario's own routes.
    pub routes: Vec<Option<Vec<String>>>,
    pub configs: Vec<Config>,
    /// Per deployment on the grid (by name): the terms priced (each reserved deployment's, and
    /// each token-rate reservation's whose size the grid varies).
    pub terms: BTreeMap<String, Vec<String>>,
    /// The scenario's mean request rate, all classes (demand scale 1).
    pub base_rps: f64,
    /// Why the sustained-rate search does not run, when it does not.
    pub rate_note: Option<String>,
}

fn invalid(file: &Path, path: impl Into<String>, message: impl Into<String>) -> InputError {
    InputError::Invalid {
        file: file.to_path_buf(),
        path: path.into(),
        message: message.into(),
    }
}

/// Writes a route (deployment names) into every class of a scenario document.
fn set_routes(doc: &mut toml::Table, route: &[String]) {
    if let Some(toml::Value::Array(classes)) = doc.get_mut("class") {
        for c in classes.iter_mut() {
            if let toml::Value::Table(t) = c {
                t.insert(
                    "route".into(),
                    toml::Value::Array(route.iter().cloned().map(toml::Value::String).collect()),
                );
            }
        }
    }
}

/// Every class's SLA replaced by `sla` (as `plan --sla` does).
fn apply_sla(sc: &mut Scenario, sla: Option<SlaTarget>) {
    if let Some(t) = sla {
        for c in &mut sc.classes {
            c.sla = Some(Sla {
                ttft_us: (t.ttft_ms * 1000.0).round() as u64,
                percentile: t.percentile,
            });
        }
    }
}

/// The scenario of a document: validated, the token-rate reservations the grid varies set to
/// their sizes (on their written term: the term changes the price only), reserved deployments
/// no route uses removed, the frontier's SLA applied.
fn configured(
    doc: &toml::Table,
    file: &Path,
    overrides: &Overrides,
    sla: Option<SlaTarget>,
    rates: &[(String, Option<RateMeasure>)],
) -> Result<Scenario, InputError> {
    let mut sc = Scenario::from_table_with(doc.clone(), file, overrides)?;
    for (name, m) in rates {
        if let Some(d) = sc.deployments.iter_mut().find(|d| d.name == *name) {
            let term = match &d.pool {
                Pool::OnDemand(o) => o.reserved_rate.as_ref().map(|r| r.term.clone()),
                Pool::Reserved(_) => None,
            };
            if let Some(term) = term {
                d.set_reserved_rate(m.as_ref().map(|m| (m, term.as_str())));
            }
        }
    }
    for d in (0..sc.deployments.len()).rev() {
        let reserved = matches!(sc.deployments[d].pool, Pool::Reserved(_));
        if reserved && !sc.classes.iter().any(|c| c.route.contains(&d)) {
            remove_deployment(&mut sc, d);
        }
    }
    apply_sla(&mut sc, sla);
    Ok(sc)
}

impl Frontier {
    /// Builds and validates every configuration of `options` from the scenario document
    /// `table` (with the command line's `overrides`; the frontier's replications apply unless
    /// the command line gives some). Errors name the `[frontier]` key at fault.
    pub fn build(
        table: &toml::Table,
        file: &Path,
        options: FrontierOptions,
        overrides: &Overrides,
    ) -> Result<Frontier, InputError> {
        let overrides = Overrides {
            replications: overrides.replications.or(options.replications),
            ..overrides.clone()
        };
        let base = Scenario::from_table_with(table.clone(), file, &overrides)?;
        let terms = priced_terms(&base, &options, file)?;
        check_each(table, file, &base, &options, &overrides)?;
        let routes: Vec<Option<Vec<String>>> = match &options.routes {
            None => vec![None],
            Some(list) => list.iter().cloned().map(Some).collect(),
        };
        let lists = grid_lists(&base, &options, &routes);
        check_size(&lists, &terms, &options, file)?;
        let mut configs = Vec::new();
        for (ri, (route, used)) in routes.iter().zip(&lists).enumerate() {
            let sizes: Vec<usize> = used.iter().map(|(_, c)| c.len()).collect();
            for at in combinations(&sizes) {
                let (mut units, mut rates) = (Vec::new(), Vec::new());
                for ((n, c), &k) in used.iter().zip(&at) {
                    match c {
                        Axis::Units(v) => units.push((n.clone(), v[k])),
                        Axis::Rate(v) => rates.push((n.clone(), v[k].clone())),
                    }
                }
                let mut doc = table.clone();
                for (name, u) in &units {
                    set_key(&mut doc, &units_key(name), *u as f64)
                        .map_err(|e| e.at(file, format!("frontier.units.{name}")))?;
                }
                if let Some(r) = route {
                    set_routes(&mut doc, r);
                }
                let scenario =
                    configured(&doc, file, &overrides, options.sla, &rates).map_err(|e| {
                        invalid(
                            file,
                            "frontier",
                            format!("a configuration does not validate: {e}"),
                        )
                    })?;
                configs.push(Config {
                    route: ri,
                    units,
                    rates,
                    scenario,
                    document: doc,
                });
            }
        }
        let f = Frontier {
            base_rps: base.classes.iter().map(|c| c.arrivals.mean_rps).sum(),
            rate_note: rate_note(table, &base, &options),
            options,
            file: file.to_path_buf(),
            overrides,
            routes,
            configs,
            terms,
        };
        f.check_work()?;
        Ok(f)
    }

    /// Refuses a frontier past the work limits: the grid, plus the rate search at its worst
    /// (every configuration on the frontier, each simulated `rate_steps + 1` more times at up to
    /// `max_demand_scale` times the demand).
    fn check_work(&self) -> Result<(), InputError> {
        let (mut hours, mut requests) = (0.0, 0.0);
        for c in &self.configs {
            let w = Work::of(&c.scenario);
            hours += w.hours;
            requests += w.requests;
        }
        let search = if self.rate_note.is_none() {
            (self.options.rate_steps + 1) as f64
        } else {
            0.0
        };
        let all_hours = hours * (1.0 + search);
        let all_requests = requests * (1.0 + search * self.options.max_demand_scale);
        let key = if hours > MAX_REPLICATION_HOURS || requests > MAX_EXPECTED_REQUESTS {
            "frontier.units"
        } else {
            "frontier.rate_steps"
        };
        let over = if all_hours > MAX_REPLICATION_HOURS {
            Some(format!(
                "{} simulated hours (the grid's {}, with the rate search at its worst); at most {}",
                count(all_hours),
                count(hours),
                count(MAX_REPLICATION_HOURS)
            ))
        } else if all_requests > MAX_EXPECTED_REQUESTS {
            Some(format!(
                "about {} requests to simulate (the grid's {}, with the rate search at its worst); at most {}",
                count(all_requests),
                count(requests),
                count(MAX_EXPECTED_REQUESTS)
            ))
        } else {
            None
        };
        match over {
            None => Ok(()),
            Some(what) => Err(invalid(
                &self.file,
                key,
                format!(
                    "{} configurations make {what}: list fewer unit counts, reservation sizes or routes, use fewer replications, a shorter horizon or fewer rate steps",
                    count(self.configs.len() as f64)
                ),
            )),
        }
    }

    /// The scenarios of the configurations, in order (the points a shard takes items of).
    pub fn scenarios(&self) -> Vec<Scenario> {
        self.configs.iter().map(|c| c.scenario.clone()).collect()
    }

    /// The work items, (configuration, replication) in configuration-major order, as a sweep's.
    pub fn items(&self) -> Vec<(usize, u32)> {
        self.configs
            .iter()
            .enumerate()
            .flat_map(|(p, c)| (0..c.scenario.replications).map(move |r| (p, r)))
            .collect()
    }

    /// Total simulated hours of the grid, for progress.
    pub fn total_hours(&self) -> u64 {
        self.configs
            .iter()
            .map(|c| c.scenario.horizon_hours as u64 * c.scenario.replications as u64)
            .sum()
    }

    /// The scenario of configuration `i` at `scale` times the demand.
    fn scaled(&self, i: usize, scale: f64) -> Result<Scenario, ValueError> {
        let mut doc = self.configs[i].document.clone();
        set_key(&mut doc, DEMAND_SCALE, scale).map_err(|e| ValueError::from(e.to_string()))?;
        let rates = &self.configs[i].rates;
        configured(&doc, &self.file, &self.overrides, self.options.sla, rates)
            .map_err(|e| ValueError::from(e.to_string()))
    }
}

/// The frontier from each configuration's measurements (in configuration order): rows
/// priced, the frontier marked, then the sustained-rate search on the frontier's
/// configurations, simulated or read from a second round's shards (`rates`). The same in one
/// process and in a merge of shards.
pub fn finish(
    f: &Frontier,
    measured: Vec<Measured>,
    rates: Rates,
) -> Result<FrontierResult, RecordError> {
    let rows = price(f, &measured);
    let on_frontier = searched_of(f, &measured, &rows);
    let mut rates: BTreeMap<usize, Rate> = match rates {
        Rates::Simulate { threads, progress } => sustained_rates(
            f,
            &measured,
            &on_frontier,
            simulate_trials(threads, progress),
        )?,
        Rates::Recorded(mut recorded) => {
            let mut cursor: BTreeMap<usize, usize> = BTreeMap::new();
            let rates = sustained_rates(f, &measured, &on_frontier, |trials| {
                let asked: Vec<(usize, f64)> = trials.iter().map(|t| (t.0, t.1)).collect();
                replay(&recorded, &mut cursor, &asked)
            })?;
            // Every recorded evaluation must have been read.
            for (config, list) in std::mem::take(&mut recorded) {
                let used = cursor.get(&config).copied().unwrap_or(0);
                if list.len() > used {
                    return Err(RecordError::Extra {
                        config,
                        extra: list.len() - used,
                    });
                }
            }
            rates
        }
    };
    let base = &f.configs[0].scenario;
    let mut sla_base = base.clone();
    apply_sla(&mut sla_base, f.options.sla);
    Ok(FrontierResult {
        sla: class_slas(&sla_base),
        replications: base.replications,
        horizon_hours: base.horizon_hours,
        routes: f
            .routes
            .iter()
            .map(|r| match r {
                Some(r) => r.join(" > "),
                None => "the scenario's routes".to_string(),
            })
            .collect(),
        configurations: f
            .configs
            .iter()
            .zip(measured)
            .enumerate()
            .map(|(i, (c, m))| ConfigResult {
                route: match &f.routes[c.route] {
                    Some(r) => r.join(" > "),
                    None => "the scenario's routes".to_string(),
                },
                route_names: f.routes[c.route].clone(),
                units: c.units.clone(),
                reserved_rate: c
                    .rates
                    .iter()
                    .map(|(n, m)| RateSize::of(n, m.as_ref()))
                    .collect(),
                rates: c.rates.clone(),
                label: c.label(&f.routes),
                measured: m,
                rate: rates.remove(&i),
            })
            .collect(),
        rows,
        rate_steps: f.options.rate_steps,
        max_demand_scale: f.options.max_demand_scale,
        base_rps: f.base_rps,
        rate_note: f.rate_note.clone(),
    })
}

/// Simulates the grid in one process: each configuration measured as soon as its replications
/// are done (its histogram is not kept).
pub fn simulate(f: &Frontier, threads: usize, progress: Option<&AtomicU64>) -> Vec<Measured> {
    let scenarios = f.scenarios();
    run_points_each(
        &scenarios,
        None,
        None,
        threads,
        progress,
        |i, reps, hist| Measured::of(f, i, &reps, hist),
    )
}
