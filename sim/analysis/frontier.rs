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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use crate::analysis::cost::{reserved_cost, reserved_cost_on};
use crate::analysis::plan::{class_slas, remove_deployment, ClassSla, HOURS_PER_MONTH};
use crate::analysis::sweep::{run_points_each, set_key, PointSummary, RepOutcome, DEMAND_SCALE};
use crate::domain::limits::{MAX_EXPECTED_REQUESTS, MAX_POINTS, MAX_REPLICATION_HOURS};
use crate::domain::{FrontierOptions, Pool, Scenario, Sla, SlaTarget};
use crate::error::{InputError, ValueError};
use crate::format::count;
use crate::input::scenario::work::Work;
use crate::input::scenario::Overrides;
use crate::model::metrics::{Hist, MeanCi};

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
    /// The validated scenario of the configuration.
    pub scenario: Scenario,
    /// The document it was validated from (units and routes written in), for the rate search.
    document: toml::Table,
}

impl Config {
    /// "ptu 30 > paygo": the route with each reserved deployment's units after its name.
    pub fn label(&self, routes: &[Option<Vec<String>>]) -> String {
        let units = |name: &str| {
            self.units
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, u)| format!("{name} {u}"))
                .unwrap_or_else(|| name.to_string())
        };
        match &routes[self.route] {
            Some(r) => r.iter().map(|d| units(d)).collect::<Vec<_>>().join(" > "),
            None if self.units.is_empty() => "the scenario's routes".to_string(),
            None => format!(
                "{} (the scenario's routes)",
                self.units
                    .iter()
                    .map(|(n, u)| format!("{n} {u}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
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
    /// Per reserved deployment (by name): the terms priced, with their price per unit-hour.
    pub terms: BTreeMap<String, Vec<(String, f64)>>,
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

/// The scenario of a document: validated, reserved deployments no route uses removed, the
/// frontier's SLA applied.
fn configured(
    doc: &toml::Table,
    file: &Path,
    overrides: &Overrides,
    sla: Option<SlaTarget>,
) -> Result<Scenario, InputError> {
    let mut sc = Scenario::from_table_with(doc.clone(), file, overrides)?;
    for d in (0..sc.deployments.len()).rev() {
        let reserved = matches!(sc.deployments[d].pool, Pool::Reserved(_));
        if reserved && !sc.classes.iter().any(|c| c.route.contains(&d)) {
            remove_deployment(&mut sc, d);
        }
    }
    apply_sla(&mut sc, sla);
    Ok(sc)
}

/// The names of the scenario's reserved deployments.
fn reserved_names(base: &Scenario) -> Vec<&str> {
    base.deployments
        .iter()
        .filter(|d| matches!(d.pool, Pool::Reserved(_)))
        .map(|d| d.name.as_str())
        .collect()
}

/// Checks that `[frontier] units` and `terms` name reserved deployments and priced terms;
/// returns the terms priced per reserved deployment (every priced term when not listed).
fn priced_terms(
    base: &Scenario,
    options: &FrontierOptions,
    file: &Path,
) -> Result<BTreeMap<String, Vec<(String, f64)>>, InputError> {
    let reserved = reserved_names(base);
    let keys = options
        .units
        .iter()
        .map(|(n, _)| ("units", n))
        .chain(options.terms.iter().map(|(n, _)| ("terms", n)));
    for (table, name) in keys {
        if !reserved.contains(&name.as_str()) {
            return Err(invalid(
                file,
                format!("frontier.{table}.{name}"),
                format!(
                    "\"{name}\" is not a reserved deployment of the scenario (reserved: {})",
                    if reserved.is_empty() {
                        "none".to_string()
                    } else {
                        reserved.join(", ")
                    }
                ),
            ));
        }
    }
    let mut terms = BTreeMap::new();
    for d in &base.deployments {
        let Pool::Reserved(r) = &d.pool else { continue };
        let chosen: Vec<(String, f64)> = match options.terms.iter().find(|(n, _)| *n == d.name) {
            None => r
                .price_per_unit_hour
                .iter()
                .map(|(t, p)| (t.clone(), *p))
                .collect(),
            Some((_, list)) => {
                let mut v = Vec::new();
                for (i, t) in list.iter().enumerate() {
                    let price = r.price_per_unit_hour.get(t).ok_or_else(|| {
                        invalid(
                            file,
                            format!("frontier.terms.{}[{i}]", d.name),
                            format!(
                                "\"{t}\" has no price in deployment \"{}\" (priced terms: {})",
                                d.name,
                                r.price_per_unit_hour
                                    .keys()
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                    v.push((t.clone(), *price));
                }
                v
            }
        };
        terms.insert(d.name.clone(), chosen);
    }
    Ok(terms)
}

/// The document path of a reserved deployment's units.
fn units_key(name: &str) -> String {
    format!("deployment.{name}.reserved.units")
}

/// Each routing option and each unit count validated on its own, so an error names the one
/// at fault (`frontier.routes[1]`, `frontier.units.ptu[2]`).
fn check_each(
    table: &toml::Table,
    file: &Path,
    base: &Scenario,
    options: &FrontierOptions,
    overrides: &Overrides,
) -> Result<(), InputError> {
    for (i, route) in options.routes.iter().flatten().enumerate() {
        for name in route {
            if !base.deployments.iter().any(|d| d.name == *name) {
                return Err(invalid(
                    file,
                    format!("frontier.routes[{i}]"),
                    format!(
                        "no deployment is named \"{name}\" (deployments: {})",
                        base.deployments
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let mut doc = table.clone();
        set_routes(&mut doc, route);
        Scenario::from_table_with(doc, file, overrides).map_err(|e| {
            invalid(
                file,
                format!("frontier.routes[{i}]"),
                format!("the route {} does not validate: {e}", route.join(" > ")),
            )
        })?;
    }
    for (name, counts) in &options.units {
        for (i, &u) in counts.iter().enumerate() {
            let mut doc = table.clone();
            set_key(&mut doc, &units_key(name), u as f64)
                .map_err(|e| e.at(file, format!("frontier.units.{name}")))?;
            Scenario::from_table_with(doc, file, overrides).map_err(|e| {
                invalid(
                    file,
                    format!("frontier.units.{name}[{i}]"),
                    format!("{u} units do not validate: {e}"),
                )
            })?;
        }
    }
    Ok(())
}

/// Why there is no sustained-rate search, or None when there is one.
fn rate_note(table: &toml::Table, base: &Scenario, options: &FrontierOptions) -> Option<String> {
    let mut with_sla = base.clone();
    apply_sla(&mut with_sla, options.sla);
    if options.rate_steps == 0 {
        return Some("frontier.rate_steps = 0: no sustained-rate search".to_string());
    }
    if with_sla.classes.iter().all(|c| c.sla.is_none()) {
        return Some(
            "no class has an SLA (and [frontier] sla is not set): no sustained-rate search"
                .to_string(),
        );
    }
    let mut doc = table.clone();
    if let Err(e) = set_key(&mut doc, DEMAND_SCALE, 2.0) {
        return Some(format!(
            "the demand cannot be scaled ({e}): no sustained-rate search"
        ));
    }
    base.classes.iter().find(|c| c.trace.is_some()).map(|c| {
        format!(
            "class \"{}\" replays a trace, whose rate a demand scale does not change: no sustained-rate search",
            c.name
        )
    })
}

/// The grid: per routing option, the reserved deployments its routes use and, for each, the
/// unit counts to try (the `[frontier]` list, else the scenario's units).
fn grid_lists(
    base: &Scenario,
    options: &FrontierOptions,
    routes: &[Option<Vec<String>>],
) -> Vec<Vec<(String, Vec<u32>)>> {
    routes
        .iter()
        .map(|route| {
            base.deployments
                .iter()
                .enumerate()
                .filter_map(|(d, dep)| {
                    let Pool::Reserved(r) = &dep.pool else {
                        return None;
                    };
                    let used = match route {
                        Some(list) => list.contains(&dep.name),
                        None => base.classes.iter().any(|c| c.route.contains(&d)),
                    };
                    let counts = match options.units.iter().find(|(n, _)| *n == dep.name) {
                        Some((_, c)) => c.clone(),
                        None => vec![r.units],
                    };
                    used.then(|| (dep.name.clone(), counts))
                })
                .collect()
        })
        .collect()
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
        // The grid, counted before any configuration is built.
        let (mut n_configs, mut n_rows) = (0f64, 0f64);
        for used in &lists {
            n_configs += used.iter().map(|(_, c)| c.len() as f64).product::<f64>();
            n_rows += used
                .iter()
                .map(|(n, c)| (c.len() * terms[n].len().max(1)) as f64)
                .product::<f64>();
        }
        let most = MAX_CONFIGURATIONS as f64;
        if n_configs > most || n_rows > most {
            return Err(invalid(
                file,
                if n_configs > most {
                    "frontier.units"
                } else {
                    "frontier.terms"
                },
                format!(
                    "the grid makes {} configurations priced as {} rows; at most {} of each are allowed: list fewer unit counts, terms or routes",
                    count(n_configs),
                    count(n_rows),
                    count(most)
                ),
            ));
        }
        let mut configs = Vec::new();
        for (ri, (route, used)) in routes.iter().zip(&lists).enumerate() {
            let sizes: Vec<usize> = used.iter().map(|(_, c)| c.len()).collect();
            for at in combinations(&sizes) {
                let units: Vec<(String, u32)> = used
                    .iter()
                    .zip(&at)
                    .map(|((n, c), &k)| (n.clone(), c[k]))
                    .collect();
                let mut doc = table.clone();
                for (name, u) in &units {
                    set_key(&mut doc, &units_key(name), *u as f64)
                        .map_err(|e| e.at(file, format!("frontier.units.{name}")))?;
                }
                if let Some(r) = route {
                    set_routes(&mut doc, r);
                }
                let scenario = configured(&doc, file, &overrides, options.sla).map_err(|e| {
                    invalid(
                        file,
                        "frontier",
                        format!("a configuration does not validate: {e}"),
                    )
                })?;
                configs.push(Config {
                    route: ri,
                    units,
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
                    "{} configurations make {what}: list fewer unit counts or routes, use fewer replications, a shorter horizon or fewer rate steps",
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
        configured(&doc, &self.file, &self.overrides, self.options.sla)
            .map_err(|e| ValueError::from(e.to_string()))
    }
}

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

/// The highest demand a frontier configuration sustains under the SLA.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rate {
    /// The highest demand scale found to meet the SLA (0 when none tried did).
    pub demand_scale: f64,
    /// The lowest scale found to miss it (None: it met the SLA at `max_demand_scale`, so the
    /// limit is at least there).
    pub missed_at: Option<f64>,
    /// `demand_scale` x the scenario's mean request rate.
    pub rps: f64,
    /// Simulations of the search (each all replications).
    pub evaluations: u32,
    /// Why the search stopped early, when it did.
    pub note: Option<String>,
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

/// Every combination of one index below each of `sizes`, the last turning fastest (one empty
/// combination for no sizes; none when a size is 0).
fn combinations(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &n in sizes {
        all = all
            .into_iter()
            .flat_map(|c| {
                (0..n).map(move |k| {
                    let mut c = c.clone();
                    c.push(k);
                    c
                })
            })
            .collect();
    }
    all
}

/// Prices every configuration under each term combination and marks the frontier.
fn price(f: &Frontier, measured: &[Measured]) -> Vec<Row> {
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
fn searched_of(f: &Frontier, measured: &[Measured], rows: &[Row]) -> Vec<usize> {
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

/// One simulation of the sustained-rate search: a configuration at `scale` times the demand,
/// all replications.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    #[serde(with = "crate::analysis::shard::exact")]
    pub scale: f64,
    /// Whether every class met its SLA.
    pub meets: bool,
    /// Why the replications could not run (a replayed trace changed), when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Where [`finish`] gets each searched configuration's evaluations.
pub enum Rates<'a> {
    /// Simulated here, on `threads` (one process, or a merge of the grid's shards alone).
    Simulate {
        threads: usize,
        progress: Option<&'a AtomicU64>,
    },
    /// Read from the shards of a second round ([`search_share`]): per searched configuration,
    /// its evaluations in the order the search made them.
    Recorded(BTreeMap<usize, Vec<Evaluation>>),
}

/// A recorded search that is not the one the search makes (a damaged or edited shard file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error(
        "configuration {config}: the search needs demand scale {scale}, which is not recorded"
    )]
    Missing { config: usize, scale: f64 },
    #[error("configuration {config}: {extra} recorded evaluation(s) the search does not make")]
    Extra { config: usize, extra: usize },
}

impl RecordError {
    /// The configuration whose record is wrong.
    pub fn config(&self) -> usize {
        match self {
            RecordError::Missing { config, .. } | RecordError::Extra { config, .. } => *config,
        }
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

/// The searches of `configs` (a second round's share of [`searched`]) simulated on `threads`:
/// each configuration's evaluations in the order the search made them, which a merge replays
/// through the same search ([`Rates::Recorded`]).
pub fn search_share(
    f: &Frontier,
    measured: &[Measured],
    configs: &[usize],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> BTreeMap<usize, Vec<Evaluation>> {
    let mut recorded: BTreeMap<usize, Vec<Evaluation>> =
        configs.iter().map(|&c| (c, Vec::new())).collect();
    let mut simulate = simulate_trials(threads, progress);
    let searched = sustained_rates(f, measured, configs, |trials| {
        let evaluations = simulate(trials)?;
        for ((config, _, _), e) in trials.iter().zip(&evaluations) {
            recorded.entry(*config).or_default().push(e.clone());
        }
        Ok::<_, RecordError>(evaluations)
    });
    // Simulating never fails: a failure is an evaluation's note.
    debug_assert!(searched.is_ok());
    recorded
}

/// A trial of the search: (configuration, demand scale, the scaled scenario).
type Trial = (usize, f64, Scenario);

/// Evaluates trials by simulating them, all in one parallel batch.
fn simulate_trials(
    threads: usize,
    progress: Option<&AtomicU64>,
) -> impl FnMut(&[Trial]) -> Result<Vec<Evaluation>, RecordError> + '_ {
    move |trials| {
        let scenarios: Vec<Scenario> = trials.iter().map(|t| t.2.clone()).collect();
        Ok(run_points_each(
            &scenarios,
            None,
            None,
            threads,
            progress,
            |i, reps, hist| Evaluation {
                scale: trials[i].1,
                meets: PointSummary::of(0.0, &reps, hist, false).meets_sla == Some(true),
                failure: reps.iter().find_map(|r| r.input_failure.clone()),
            },
        ))
    }
}

/// Evaluates the (configuration, scale) trials `asked` from recorded searches: each
/// configuration's next recorded evaluation (`cursor` counts those read), which must be at the
/// very scale the search asks for.
fn replay(
    recorded: &BTreeMap<usize, Vec<Evaluation>>,
    cursor: &mut BTreeMap<usize, usize>,
    asked: &[(usize, f64)],
) -> Result<Vec<Evaluation>, RecordError> {
    asked
        .iter()
        .map(|&(config, scale)| {
            let at = cursor.entry(config).or_insert(0);
            let e = recorded
                .get(&config)
                .and_then(|list| list.get(*at))
                .filter(|e| e.scale.to_bits() == scale.to_bits())
                .ok_or(RecordError::Missing { config, scale })?;
            *at += 1;
            Ok(e.clone())
        })
        .collect()
}

/// One configuration's search: the bracket so far.
struct Search {
    config: usize,
    /// The highest scale known to meet the SLA (0: none yet; no traffic meets it trivially).
    lo: f64,
    /// The lowest scale known to miss it (None: not yet tried above `lo`).
    hi: Option<f64>,
    /// Bisection steps taken.
    steps: u32,
    evaluations: u32,
    note: Option<String>,
}

impl Search {
    /// The next scale to try, or None when done.
    fn next(&self, max_scale: f64, steps: u32) -> Option<f64> {
        if self.note.is_some() {
            return None;
        }
        match self.hi {
            None if self.lo >= max_scale => None,
            None => Some(max_scale),
            Some(hi) if self.steps < steps => Some((self.lo + hi) / 2.0),
            Some(_) => None,
        }
    }
}

/// The highest demand scale each of `configs` sustains under the SLA: known at scale 1 from
/// the grid; if it meets the SLA there, tried at `max_demand_scale`; then `rate_steps`
/// bisection steps between the highest scale that met and the lowest that missed. Each round,
/// every configuration's next scale goes to `evaluate` in one batch (simulated in parallel,
/// or read from a second round's shards): the one routine of the search, wherever it runs.
fn sustained_rates<E>(
    f: &Frontier,
    measured: &[Measured],
    configs: &[usize],
    mut evaluate: impl FnMut(&[Trial]) -> Result<Vec<Evaluation>, E>,
) -> Result<BTreeMap<usize, Rate>, E> {
    let max_scale = f.options.max_demand_scale;
    let steps = f.options.rate_steps;
    let mut searches: Vec<Search> = configs
        .iter()
        .map(|&i| {
            let meets = measured[i].meets();
            Search {
                config: i,
                lo: if meets { 1.0 } else { 0.0 },
                hi: if meets { None } else { Some(1.0) },
                steps: 0,
                evaluations: 0,
                note: None,
            }
        })
        .collect();
    loop {
        let (mut batch, mut trials): (Vec<usize>, Vec<Trial>) = (Vec::new(), Vec::new());
        for (k, s) in searches.iter_mut().enumerate() {
            let Some(scale) = s.next(max_scale, steps) else {
                continue;
            };
            match f.scaled(s.config, scale) {
                Ok(sc) => {
                    batch.push(k);
                    trials.push((s.config, scale, sc));
                }
                Err(e) => s.note = Some(format!("demand scale {scale} cannot run: {e}")),
            }
        }
        if batch.is_empty() {
            break;
        }
        for (k, e) in batch.into_iter().zip(evaluate(&trials)?) {
            let s = &mut searches[k];
            s.evaluations += 1;
            if let Some(why) = e.failure {
                s.note = Some(why);
                continue;
            }
            if s.hi.is_some() {
                s.steps += 1;
            }
            if e.meets {
                s.lo = e.scale;
            } else {
                s.hi = Some(e.scale);
            }
        }
    }
    Ok(searches
        .into_iter()
        .map(|s| {
            (
                s.config,
                Rate {
                    demand_scale: s.lo,
                    missed_at: s.hi,
                    rps: s.lo * f.base_rps,
                    evaluations: s.evaluations,
                    note: s.note,
                },
            )
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn search(lo: f64, hi: Option<f64>, steps: u32) -> Search {
        Search {
            config: 0,
            lo,
            hi,
            steps,
            evaluations: 0,
            note: None,
        }
    }

    #[test]
    fn combinations_turn_the_last_fastest() {
        assert_eq!(
            combinations(&[2, 3]),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(combinations(&[]), vec![Vec::<usize>::new()]);
        assert!(combinations(&[2, 0]).is_empty());
    }

    #[test]
    fn a_replay_reads_each_search_in_order_at_the_scales_asked() {
        let e = |scale, meets| Evaluation {
            scale,
            meets,
            failure: None,
        };
        let recorded = BTreeMap::from([(0, vec![e(4.0, false), e(2.5, true)]), (3, vec![])]);
        let mut cursor = BTreeMap::new();
        assert_eq!(
            replay(&recorded, &mut cursor, &[(0, 4.0)]),
            Ok(vec![e(4.0, false)])
        );
        // The next one, at the scale the search asks for to the bit.
        let off = 2.5f64.next_up();
        assert_eq!(
            replay(&recorded, &mut cursor.clone(), &[(0, off)]),
            Err(RecordError::Missing {
                config: 0,
                scale: off
            })
        );
        assert_eq!(
            replay(&recorded, &mut cursor, &[(0, 2.5)]),
            Ok(vec![e(2.5, true)])
        );
        assert_eq!(cursor[&0], 2);
        // Past the end of a search, and a configuration with no record.
        for (config, scale) in [(0, 1.75), (3, 4.0), (7, 4.0)] {
            assert_eq!(
                replay(&recorded, &mut cursor, &[(config, scale)]),
                Err(RecordError::Missing { config, scale })
            );
        }
    }

    #[test]
    fn the_search_tries_the_top_then_bisects() {
        // Met at 1: try the top first.
        assert_eq!(search(1.0, None, 0).next(4.0, 3), Some(4.0));
        // Met at the top: done, the limit is at least there.
        assert_eq!(search(4.0, None, 0).next(4.0, 3), None);
        // Missed at the top: bisect between 1 and 4.
        assert_eq!(search(1.0, Some(4.0), 0).next(4.0, 3), Some(2.5));
        // Missed at 1: bisect below.
        assert_eq!(search(0.0, Some(1.0), 0).next(4.0, 3), Some(0.5));
        // Out of steps.
        assert_eq!(search(0.5, Some(0.75), 3).next(4.0, 3), None);
    }
}
