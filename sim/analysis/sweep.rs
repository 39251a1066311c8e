//! Sweeps: one scenario key, many values. Each value makes a scenario (the file
//! with that key changed, validated like any scenario), each scenario runs its
//! replications, and every (point, replication) pair runs in parallel.
//!
//! Replication `r` of every point draws from the same random streams, so all
//! points see the same arrivals and tokens (common random numbers): curves are
//! smooth and differences between points are paired. A demand scale factor
//! scales arrival times, not the random draws, so it keeps that property.
//!
//! Keys are dotted paths into the file. Arrays of tables are addressed by the
//! element's `name` (`deployment.ptu.reserved.units`) or by index
//! (`class[0].arrivals.mean_rps`). The pseudo-key `demand_scale` multiplies
//! every class's `arrivals.mean_rps`.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use rayon::prelude::*;

use crate::analysis::cost::{deployment_totals, on_demand_cost};
use crate::analysis::economics::{Observation, Pair};
use crate::domain::limits::{MAX_EXPECTED_REQUESTS, MAX_REPLICATION_HOURS};
use crate::domain::{Pool, Scenario, SweepSpec};
use crate::error::{InputError, ValueError};
use crate::format::count;
use crate::input::scenario::work::Work;
use crate::input::scenario::{option_name as name, Overrides};
use crate::model::metrics::{Hist, MeanCi, RepMetrics};

/// The pseudo-key that scales every class's mean arrival rate.
pub const DEMAND_SCALE: &str = "demand_scale";
/// Sets `key` to `value` in a parsed scenario file. Whole numbers are written
/// as TOML integers, others as floats. A missing last key is added (validation
/// then rejects it if the scenario has no such key); a missing table is an
/// error naming the part of the path that was not found.
pub fn set_key(table: &mut toml::Table, key: &str, value: f64) -> Result<(), ValueError> {
    if key == DEMAND_SCALE {
        return scale_demand(table, value);
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "\"{key}\" has an empty part; write keys like deployment.ptu.reserved.units"
        )
        .into());
    }
    let mut here: &mut toml::Table = table;
    let mut i = 0;
    while i < parts.len() {
        let (name, index) = split_index(parts[i])?;
        let last = i + 1 == parts.len() && index.is_none();
        if last {
            match here.get(name) {
                None | Some(toml::Value::Integer(_)) | Some(toml::Value::Float(_)) => {
                    here.insert(name.to_string(), number(value));
                    return Ok(());
                }
                Some(other) => {
                    return Err(format!(
                        "\"{key}\" is a {}, not a number; only numeric keys can be swept",
                        other.type_str()
                    )
                    .into())
                }
            }
        }
        let walked = parts[..=i].join(".");
        let next = here
            .get_mut(name)
            .ok_or_else(|| format!("\"{walked}\" is not in the scenario"))?;
        here = match next {
            toml::Value::Table(t) => {
                if index.is_some() {
                    return Err(format!("\"{walked}\" is a table, not a list of tables").into());
                }
                t
            }
            toml::Value::Array(items) => {
                // The element: by [index] on this part, or by name in the next part.
                let pos = match index {
                    Some(k) => k,
                    None => {
                        i += 1;
                        let Some(want) = parts.get(i) else {
                            return Err(format!("\"{walked}\" is a list; name an element, e.g. {walked}.<name> or {walked}[0]").into());
                        };
                        items
                            .iter()
                            .position(|v| v.get("name").and_then(|n| n.as_str()) == Some(*want))
                            .ok_or_else(|| {
                                let names: Vec<&str> = items
                                    .iter()
                                    .filter_map(|v| v.get("name").and_then(|n| n.as_str()))
                                    .collect();
                                format!(
                                    "\"{walked}\" has no element named \"{want}\" (it has: {})",
                                    names.join(", ")
                                )
                            })?
                    }
                };
                let len = items.len();
                match items.get_mut(pos) {
                    Some(toml::Value::Table(t)) => t,
                    Some(_) => {
                        return Err(format!("\"{walked}\" element {pos} is not a table").into())
                    }
                    None => {
                        return Err(format!(
                            "\"{walked}\" has {len} element(s); index {pos} is out of range"
                        )
                        .into())
                    }
                }
            }
            other => {
                return Err(format!("\"{walked}\" is a {}, not a table", other.type_str()).into())
            }
        };
        i += 1;
    }
    Err(format!("\"{key}\" names a table, not a number").into())
}

fn split_index(part: &str) -> Result<(&str, Option<usize>), ValueError> {
    match part.split_once('[') {
        None => Ok((part, None)),
        Some((name, rest)) => {
            let n = rest
                .strip_suffix(']')
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| format!("\"{part}\": write an index as name[0]"))?;
            Ok((name, Some(n)))
        }
    }
}

fn number(v: f64) -> toml::Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        toml::Value::Integer(v as i64)
    } else {
        toml::Value::Float(v)
    }
}

fn scale_demand(table: &mut toml::Table, k: f64) -> Result<(), ValueError> {
    if !(k.is_finite() && k > 0.0) {
        return Err(format!("{DEMAND_SCALE} must be above 0, got {k}").into());
    }
    let Some(toml::Value::Array(classes)) = table.get_mut("class") else {
        return Err("the scenario has no [[class]] to scale".into());
    };
    for c in classes {
        let rate = c
            .get_mut("arrivals")
            .and_then(|a| a.get_mut("mean_rps"))
            .ok_or("a class has no arrivals.mean_rps")?;
        let v = match rate {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => return Err("arrivals.mean_rps is not a number".into()),
        };
        *rate = toml::Value::Float(v * k);
    }
    Ok(())
}

/// A sweep ready to run: one validated scenario per value.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub spec: SweepSpec,
    pub points: Vec<Scenario>,
    /// The reserved / on-demand pair the break-even is about; Err says why
    /// there is none (the sweep still runs).
    pub pair: Result<Pair, ValueError>,
}

impl Sweep {
    /// Builds the scenario of every point from the parsed file `table`.
    /// `overrides` (command-line seed, replications, horizon) are applied to
    /// each point's document before it is validated; the sweep's own
    /// replications apply unless the command line gives some.
    pub fn build(
        table: &toml::Table,
        file: &Path,
        spec: SweepSpec,
        overrides: &Overrides,
    ) -> Result<Sweep, InputError> {
        let overrides = Overrides {
            replications: overrides.replications.or(spec.replications),
            ..overrides.clone()
        };
        let mut points = Vec::with_capacity(spec.values.len());
        for &v in &spec.values {
            let mut t = table.clone();
            let key = name(&spec.at, "key");
            set_key(&mut t, &spec.key, v)
                .map_err(|e| e.at(file, format!("{key} = \"{}\"", spec.key)))?;
            let sc = Scenario::from_table_with(t, file, &overrides).map_err(|e| {
                InputError::Invalid {
                    file: file.to_path_buf(),
                    path: format!("{key} = \"{}\" at {v}", spec.key),
                    message: e.to_string(),
                }
            })?;
            points.push(sc);
        }
        check_work(&points, file, &spec)?;
        let reserved = spec
            .key
            .strip_prefix("deployment.")
            .and_then(|rest| rest.split('.').next())
            .filter(|name| {
                points[0]
                    .deployments
                    .iter()
                    .any(|d| d.name == *name && matches!(d.pool, Pool::Reserved(_)))
            });
        let pair = Pair::find(&points[0], reserved, spec.compare.as_deref());
        if let (Some(compare), Err(e)) = (&spec.compare, &pair) {
            return Err(InputError::Invalid {
                file: file.to_path_buf(),
                path: name(&spec.at, "compare"),
                message: format!("\"{compare}\": {e}"),
            });
        }
        Ok(Sweep { spec, points, pair })
    }

    /// Checks that the key of `spec` names a numeric key of the scenario document `table` by
    /// validating the first point only (what `run` checks of a `[sweep]` table; `validate` and
    /// `sweep` build every point). A key the scenario leaves out is added by `set_key`, so only
    /// validating a point catches a misspelt one.
    pub fn check_first_point(
        table: &toml::Table,
        file: &Path,
        spec: &SweepSpec,
        overrides: &Overrides,
    ) -> Result<(), InputError> {
        let mut first = spec.clone();
        first.values.truncate(1);
        Self::build(table, file, first, overrides).map(|_| ())
    }

    /// The work items of the sweep, (point, replication) in point-major order: what a shard
    /// takes its share of (`analysis::shard`).
    pub fn items(&self) -> Vec<(usize, u32)> {
        self.points
            .iter()
            .enumerate()
            .flat_map(|(p, sc)| (0..sc.replications).map(move |r| (p, r)))
            .collect()
    }

    /// Total simulated hours, for progress.
    pub fn total_hours(&self) -> u64 {
        self.points
            .iter()
            .map(|p| p.horizon_hours as u64 * p.replications as u64)
            .sum()
    }
}

/// Refuses a sweep whose points together are past the work limits (each point
/// was checked on its own when validated).
fn check_work(points: &[Scenario], file: &Path, spec: &SweepSpec) -> Result<(), InputError> {
    let (mut hours, mut requests) = (0.0, 0.0);
    for p in points {
        let w = Work::of(p);
        hours += w.hours;
        requests += w.requests;
    }
    let over = if hours > MAX_REPLICATION_HOURS {
        Some(format!(
            "{} simulated hours (replications x horizon, summed over points); at most {}",
            count(hours),
            count(MAX_REPLICATION_HOURS)
        ))
    } else if requests > MAX_EXPECTED_REQUESTS {
        Some(format!(
            "about {} requests to simulate; at most {}",
            count(requests),
            count(MAX_EXPECTED_REQUESTS)
        ))
    } else {
        None
    };
    match over {
        None => Ok(()),
        Some(what) => Err(InputError::Invalid {
            file: file.to_path_buf(),
            path: name(&spec.at, "values"),
            message: format!(
                "{} points make {what} are allowed: use fewer points, replications or a shorter horizon",
                count(points.len() as f64)
            ),
        }),
    }
}

/// One replication at one point, reduced to what sweep and plan tables need.
// Serialized into shard files, floats as exact text (see `shard::exact`), so a merge computes
// from the very numbers the shard did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepOutcome {
    #[serde(with = "crate::analysis::shard::exact")]
    pub reserved_usd: f64,
    #[serde(with = "crate::analysis::shard::exact")]
    pub on_demand_usd: f64,
    /// Served input + output tokens, all deployments.
    pub tokens: u64,
    /// Of the pair's reserved deployment: cost, tokens served, their price at
    /// the pair's on-demand rates, and utilization.
    #[serde(with = "crate::analysis::shard::exact")]
    pub pair_reserved_usd: f64,
    pub pair_tokens: u64,
    pub pair_input_tokens: u64,
    pub pair_output_tokens: u64,
    #[serde(with = "crate::analysis::shard::exact")]
    pub pair_value_usd: f64,
    #[serde(with = "crate::analysis::shard::exact")]
    pub pair_utilization: f64,
    /// All served tokens priced at the pair's on-demand rates.
    #[serde(with = "crate::analysis::shard::exact")]
    pub all_value_usd: f64,
    #[serde(with = "crate::analysis::shard::exact::opt")]
    pub ttft_p50_ms: Option<f64>,
    #[serde(with = "crate::analysis::shard::exact::opt")]
    pub ttft_p99_ms: Option<f64>,
    /// Per class: TTFT at the class's SLA percentile (None without SLA or
    /// without served requests) and the share of completed requests (served,
    /// throttled or failed) served within the SLA target.
    #[serde(with = "crate::analysis::shard::exact::vec_opt")]
    pub sla_ttft_ms: Vec<Option<f64>>,
    #[serde(with = "crate::analysis::shard::exact::vec_opt")]
    pub attainment: Vec<Option<f64>>,
    /// The smallest, over classes with an SLA, of attainment minus the
    /// share the SLA asks for (>= 0 when every class meets its SLA).
    #[serde(with = "crate::analysis::shard::exact::opt")]
    pub sla_margin: Option<f64>,
    pub arrived: u64,
    pub served: u64,
    pub spilled: u64,
    pub throttled: u64,
    /// Timed out or given up after errors (an outage, every deployment in
    /// cooldown).
    pub failed: u64,
    /// Still waiting for a reserved slot at the end of the horizon: arrived = served +
    /// throttled + failed + in_flight.
    pub in_flight: u64,
    /// Why the replication's inputs failed it (a replayed trace that vanished or changed
    /// after validation); its numbers must not be reported.
    pub input_failure: Option<String>,
}

impl RepOutcome {
    /// `focus` is the pair's reserved deployment and `compare` the on-demand
    /// one whose prices value tokens (either may be absent).
    pub fn of(
        sc: &Scenario,
        focus: Option<usize>,
        compare: Option<usize>,
        m: &RepMetrics,
    ) -> RepOutcome {
        let costs = deployment_totals(sc, m);
        // Tokens valued at the compare deployment's prices of each hour, as run bills them.
        let value = |t: &crate::domain::Tokens, of: &dyn Fn(usize) -> crate::domain::Tokens| {
            compare.map_or(0.0, |c| {
                on_demand_cost(&sc.deployments[c], m.hours, *t, of).0
            })
        };
        let mut all = crate::domain::Tokens::default();
        for d in &m.deployments {
            all += d.tokens();
        }
        let (all_in, all_out) = (all.input, all.output);
        let overall = m.overall_ttft();
        let (pr_usd, pr_in, pr_out, pr_value, pr_util) = match focus {
            Some(d) => {
                let s = &m.deployments[d];
                (
                    costs[d].reserved,
                    s.input_tokens,
                    s.output_tokens,
                    value(&s.tokens(), &|h| m.hour_cell(h, d).tokens()),
                    crate::analysis::cost::reserved_utilization(sc, m, d).unwrap_or(0.0),
                )
            }
            None => (0.0, 0, 0, 0.0, 0.0),
        };
        let attainment: Vec<Option<f64>> = sc
            .classes
            .iter()
            .zip(&m.classes)
            .map(|(c, s)| {
                // Requests lost to errors (outages) miss the SLA too.
                let done = s.served + s.throttled + s.failed + s.errored;
                c.sla
                    .and_then(|_| (done > 0).then(|| s.within_sla as f64 / done as f64))
            })
            .collect();
        let sla_margin = sc
            .classes
            .iter()
            .zip(&attainment)
            .filter_map(|(c, a)| Some(a.unwrap_or(0.0) - c.sla?.percentile / 100.0))
            .reduce(f64::min);
        RepOutcome {
            reserved_usd: costs.iter().map(|c| c.reserved).sum(),
            on_demand_usd: costs.iter().map(|c| c.on_demand).sum(),
            tokens: all_in + all_out,
            pair_reserved_usd: pr_usd,
            pair_tokens: pr_in + pr_out,
            pair_input_tokens: pr_in,
            pair_output_tokens: pr_out,
            pair_value_usd: pr_value,
            pair_utilization: pr_util,
            all_value_usd: value(&all, &|h| {
                let mut t = crate::domain::Tokens::default();
                for d in 0..m.deployments.len() {
                    t += m.hour_cell(h, d).tokens();
                }
                t
            }),
            ttft_p50_ms: overall.percentile_ms(50.0),
            ttft_p99_ms: overall.percentile_ms(99.0),
            sla_ttft_ms: sc
                .classes
                .iter()
                .zip(&m.classes)
                .map(|(c, s)| c.sla.and_then(|sla| s.ttft.percentile_ms(sla.percentile)))
                .collect(),
            attainment,
            sla_margin,
            arrived: m.classes.iter().map(|c| c.arrived).sum(),
            served: m.classes.iter().map(|c| c.served).sum(),
            spilled: m.classes.iter().map(|c| c.spilled).sum(),
            throttled: m.classes.iter().map(|c| c.throttled).sum(),
            failed: m.classes.iter().map(|c| c.failed + c.errored).sum(),
            in_flight: m.classes.iter().map(|c| c.in_flight).sum(),
            input_failure: m.input_failure.clone(),
        }
    }

    pub fn total_usd(&self) -> f64 {
        self.reserved_usd + self.on_demand_usd
    }

    /// The highest TTFT at the SLA percentile over classes with an SLA.
    pub fn worst_sla_ttft_ms(&self) -> Option<f64> {
        self.sla_ttft_ms.iter().flatten().copied().reduce(f64::max)
    }

    /// The lowest SLA attainment over classes with an SLA.
    pub fn worst_attainment(&self) -> Option<f64> {
        self.attainment.iter().flatten().copied().reduce(f64::min)
    }
}

/// Runs replication `0..replications` of every scenario in `points`, all in
/// parallel, in batches of a few per thread so memory holds one batch of full
/// metrics at a time. Returns, per point, its outcomes in replication order
/// and the TTFT histogram of all its replications together. The results do not
/// depend on `threads` (0 = rayon's default). For many points prefer
/// [`run_points_each`], whose memory does not grow with the histograms.
pub fn run_points(
    points: &[Scenario],
    focus: Option<usize>,
    compare: Option<usize>,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Vec<(Vec<RepOutcome>, Hist)> {
    run_points_each(
        points,
        focus,
        compare,
        threads,
        progress,
        |_, reps, hist| (reps, hist.clone()),
    )
}

/// As [`run_points`], but each point is turned into a `T` by `keep` (its index,
/// its outcomes in replication order, its pooled TTFT histogram) as soon as its
/// last replication is done, so a point's histogram (about 300 KB) lives only
/// while its replications run, not for the whole sweep.
pub fn run_points_each<T: Send>(
    points: &[Scenario],
    focus: Option<usize>,
    compare: Option<usize>,
    threads: usize,
    progress: Option<&AtomicU64>,
    keep: impl Fn(usize, Vec<RepOutcome>, &Hist) -> T + Sync,
) -> Vec<T> {
    let jobs: Vec<(usize, u32)> = points
        .iter()
        .enumerate()
        .flat_map(|(p, sc)| (0..sc.replications).map(move |r| (p, r)))
        .collect();
    let work = || {
        // Points in progress: their outcomes so far and their histogram.
        let mut open: std::collections::BTreeMap<usize, (Vec<RepOutcome>, Hist)> =
            Default::default();
        let mut kept: Vec<Option<T>> = points.iter().map(|_| None).collect();
        let batch = (rayon::current_num_threads() * 2).max(1);
        for chunk in jobs.chunks(batch) {
            let done: Vec<(usize, RepOutcome, Hist)> = chunk
                .par_iter()
                .map(|&(p, r)| {
                    let sc = &points[p];
                    let m = crate::analysis::run::run_replication(sc, r, progress);
                    (p, RepOutcome::of(sc, focus, compare, &m), m.overall_ttft())
                })
                .collect();
            for (p, o, h) in done {
                let entry = open.entry(p).or_insert_with(|| {
                    (
                        Vec::with_capacity(points[p].replications as usize),
                        Hist::default(),
                    )
                });
                entry.0.push(o);
                entry.1.merge(&h);
                if entry.0.len() == points[p].replications as usize {
                    if let Some((reps, hist)) = open.remove(&p) {
                        kept[p] = Some(keep(p, reps, &hist));
                    }
                }
            }
        }
        // A point without replications still gets its (empty) result.
        kept.into_iter()
            .enumerate()
            .map(|(p, t)| t.unwrap_or_else(|| keep(p, Vec::new(), &Hist::default())))
            .collect()
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// Runs the work items `items` ((point, replication) pairs of `points`) in parallel and turns
/// each into a `T` with `keep` (its position in `items`, its outcome and its TTFT histogram)
/// as soon as it is done, so only a batch of full metrics is in memory at a time. Returns the
/// `T`s in the order of `items`, whatever `threads` is (0 = rayon's default). A shard runs
/// its share of a sweep with it; a replication gives the same outcome here as in
/// [`run_points_each`], since its random streams depend on the seed and its number only.
/// `pair` gives each point's (reserved, compare) deployments its outcomes are about.
pub fn run_items<T: Send>(
    points: &[Scenario],
    items: &[(usize, u32)],
    pair: impl Fn(usize) -> (Option<usize>, Option<usize>) + Sync,
    threads: usize,
    progress: Option<&AtomicU64>,
    keep: impl Fn(usize, RepOutcome, &Hist) -> T + Sync,
) -> Vec<T> {
    let work = || {
        let batch = (rayon::current_num_threads() * 2).max(1);
        let mut kept = Vec::with_capacity(items.len());
        for (c, chunk) in items.chunks(batch).enumerate() {
            let done: Vec<T> = chunk
                .par_iter()
                .enumerate()
                .map(|(i, &(p, r))| {
                    let sc = &points[p];
                    let m = crate::analysis::run::run_replication(sc, r, progress);
                    let (focus, compare) = pair(p);
                    let o = RepOutcome::of(sc, focus, compare, &m);
                    keep(c * batch + i, o, &m.overall_ttft())
                })
                .collect();
            kept.extend(done);
        }
        kept
    };
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// One sweep point, summarised over its replications.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PointSummary {
    pub value: f64,
    pub replications: usize,
    pub utilization: Option<MeanCi>,
    pub total_usd: Option<MeanCi>,
    pub on_demand_usd: Option<MeanCi>,
    pub reserved_usd: Option<MeanCi>,
    /// Total cost per 1M served tokens.
    pub usd_per_1m_tokens: Option<MeanCi>,
    /// Reserved cost per 1M tokens the pair's reserved pool served.
    pub reserved_usd_per_1m_tokens: Option<MeanCi>,
    /// All served tokens at the pair's on-demand prices, per 1M.
    pub on_demand_usd_per_1m_tokens: Option<MeanCi>,
    /// All served tokens at the pair's on-demand prices: what the same
    /// traffic would cost on demand.
    pub all_on_demand_usd: Option<MeanCi>,
    /// Output tokens per input token served by the pair's reserved pool.
    pub reserved_output_ratio: Option<f64>,
    /// Reserved cost / on-demand price of the tokens the units served.
    pub cost_ratio: Option<MeanCi>,
    pub ttft_p50_ms: Option<MeanCi>,
    pub ttft_p99_ms: Option<MeanCi>,
    pub pooled_p50_ms: Option<f64>,
    pub pooled_p99_ms: Option<f64>,
    /// Highest per-class TTFT at the class's SLA percentile.
    pub sla_ttft_ms: Option<MeanCi>,
    /// Lowest per-class SLA attainment (None when no class has an SLA).
    pub sla_attainment: Option<MeanCi>,
    /// Smallest per-class attainment minus its target (see RepOutcome).
    pub sla_margin: Option<MeanCi>,
    /// Every class meets its SLA with 95% confidence: the lower end of the
    /// confidence interval of `sla_margin` is at or above 0.
    pub meets_sla: Option<bool>,
    pub spilled_share: f64,
    pub throttled_share: f64,
    pub failed_share: f64,
}

impl PointSummary {
    pub fn of(value: f64, reps: &[RepOutcome], pooled: &Hist, has_pair: bool) -> PointSummary {
        // t intervals over replications, cut to the range of the quantity:
        // costs, ratios and times are never below 0, shares never above 1.
        let values = |f: &dyn Fn(&RepOutcome) -> Option<f64>| -> Vec<f64> {
            reps.iter().filter_map(f).collect()
        };
        let ci =
            |f: &dyn Fn(&RepOutcome) -> Option<f64>| MeanCi::within(&values(f), 0.0, f64::INFINITY);
        let share = |f: &dyn Fn(&RepOutcome) -> Option<f64>| MeanCi::within(&values(f), 0.0, 1.0);
        let per_1m = |usd: f64, tokens: u64| (tokens > 0).then(|| usd / tokens as f64 * 1e6);
        let sum = |f: &dyn Fn(&RepOutcome) -> u64| reps.iter().map(f).sum::<u64>() as f64;
        let arrived = sum(&|r| r.arrived).max(1.0);
        PointSummary {
            value,
            replications: reps.len(),
            utilization: if has_pair {
                share(&|r| Some(r.pair_utilization))
            } else {
                None
            },
            total_usd: ci(&|r| Some(r.total_usd())),
            on_demand_usd: ci(&|r| Some(r.on_demand_usd)),
            reserved_usd: ci(&|r| Some(r.reserved_usd)),
            usd_per_1m_tokens: ci(&|r| per_1m(r.total_usd(), r.tokens)),
            reserved_usd_per_1m_tokens: if has_pair {
                ci(&|r| per_1m(r.pair_reserved_usd, r.pair_tokens))
            } else {
                None
            },
            on_demand_usd_per_1m_tokens: if has_pair {
                ci(&|r| per_1m(r.all_value_usd, r.tokens))
            } else {
                None
            },
            all_on_demand_usd: if has_pair {
                ci(&|r| Some(r.all_value_usd))
            } else {
                None
            },
            reserved_output_ratio: {
                let i = sum(&|r| r.pair_input_tokens);
                (has_pair && i > 0.0).then(|| sum(&|r| r.pair_output_tokens) / i)
            },
            cost_ratio: if has_pair {
                ci(&|r| (r.pair_value_usd > 0.0).then(|| r.pair_reserved_usd / r.pair_value_usd))
            } else {
                None
            },
            ttft_p50_ms: ci(&|r| r.ttft_p50_ms),
            ttft_p99_ms: ci(&|r| r.ttft_p99_ms),
            pooled_p50_ms: pooled.percentile_ms(50.0),
            pooled_p99_ms: pooled.percentile_ms(99.0),
            sla_ttft_ms: ci(&|r| r.worst_sla_ttft_ms()),
            sla_attainment: share(&|r| r.worst_attainment()),
            sla_margin: MeanCi::of(&values(&|r| r.sla_margin)),
            meets_sla: MeanCi::of(&values(&|r| r.sla_margin)).map(|m| m.ci95_low >= 0.0),
            spilled_share: sum(&|r| r.spilled) / arrived,
            throttled_share: sum(&|r| r.throttled) / arrived,
            failed_share: sum(&|r| r.failed) / arrived,
        }
    }
}

/// The break-even of one term: simulated (one crossover per replication, then
/// mean and CI) and closed form.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Breakeven {
    pub term: String,
    pub price_per_unit_hour: f64,
    pub closed_form: f64,
    pub simulated: Option<MeanCi>,
    /// Replications whose swept range brackets the crossover.
    pub replications_with_crossover: usize,
    pub replications: usize,
}

/// Break-even per priced term of the pair's reserved deployment. Reserved cost
/// is linear in the unit price, so one simulation serves every term: the cost
/// ratio of term t is the simulated ratio x price(t) / price(simulated term).
pub fn breakevens(sweep: &Sweep, outcomes: &[Vec<RepOutcome>]) -> Vec<Breakeven> {
    let Ok(pair) = sweep.pair else {
        return Vec::new();
    };
    let base = &sweep.points[0];
    // The closed form at the horizon's average prices (`Pair::reserved_over_horizon`); the
    // simulated ratio from the bill as run (each hour at its prices).
    let r = &pair.reserved_over_horizon(base);
    let od = &pair.compare_over_horizon(base);
    let Some(mix) = crate::analysis::economics::TokenMix::of_deployment(base, pair.reserved) else {
        return Vec::new();
    };
    let reps = outcomes.iter().map(|o| o.len()).min().unwrap_or(0);
    r.price_per_unit_hour
        .iter()
        .map(|(term, &price)| {
            let mut estimates = Vec::new();
            for rep in 0..reps {
                let obs: Vec<Observation> = sweep
                    .points
                    .iter()
                    .zip(outcomes)
                    .filter_map(|(sc, o)| {
                        let o = &o[rep];
                        // The bill on term t over the bill as simulated (a unit-hour price
                        // ratio when one price holds all horizon).
                        let simulated = pair.reserved_over_horizon(sc).unit_hour_price();
                        (o.pair_value_usd > 0.0 && simulated > 0.0).then(|| Observation {
                            utilization: o.pair_utilization,
                            cost_ratio: o.pair_reserved_usd / o.pair_value_usd * price / simulated,
                        })
                    })
                    .collect();
                if let Some(u) = crate::analysis::economics::crossover(&obs) {
                    estimates.push(u);
                }
            }
            Breakeven {
                term: term.clone(),
                price_per_unit_hour: price,
                closed_form: crate::analysis::economics::closed_form(r, price, od, mix),
                simulated: MeanCi::of(&estimates),
                replications_with_crossover: estimates.len(),
                replications: reps,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> toml::Table {
        toml::from_str(
            r#"
            [scenario]
            horizon_hours = 1
            [[class]]
            name = "chat"
            arrivals = { mean_rps = 2 }
            [[class]]
            name = "batch"
            arrivals = { mean_rps = 0.5 }
            [[deployment]]
            name = "ptu"
            platform = "azure-openai"
            reserved = { units = 15, term = "monthly" }
            "#,
        )
        .unwrap()
    }

    #[test]
    fn keys_address_tables_by_name_or_index() {
        let mut t = table();
        set_key(&mut t, "deployment.ptu.reserved.units", 40.0).unwrap();
        assert_eq!(
            t["deployment"][0]["reserved"]["units"].as_integer(),
            Some(40)
        );
        set_key(&mut t, "class[1].arrivals.mean_rps", 0.75).unwrap();
        assert_eq!(t["class"][1]["arrivals"]["mean_rps"].as_float(), Some(0.75));
        // A leaf the file leaves out is added to an existing table.
        set_key(&mut t, "deployment.ptu.reserved.max_wait_ms", 250.0).unwrap();
        assert_eq!(
            t["deployment"][0]["reserved"]["max_wait_ms"].as_integer(),
            Some(250)
        );
    }

    #[test]
    fn demand_scale_multiplies_every_class() {
        let mut t = table();
        set_key(&mut t, DEMAND_SCALE, 3.0).unwrap();
        assert_eq!(t["class"][0]["arrivals"]["mean_rps"].as_float(), Some(6.0));
        assert_eq!(t["class"][1]["arrivals"]["mean_rps"].as_float(), Some(1.5));
        assert!(set_key(&mut t, DEMAND_SCALE, 0.0).is_err());
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        let mut t = table();
        let e = set_key(&mut t, "deployment.nope.reserved.units", 1.0).unwrap_err();
        assert!(
            e.contains("no element named \"nope\"") && e.contains("ptu"),
            "{e}"
        );
        let e = set_key(&mut t, "deployment.ptu.platform", 1.0).unwrap_err();
        assert!(e.contains("is a string, not a number"), "{e}");
        let e = set_key(&mut t, "deployment.ptu.reserved", 1.0).unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        let e = set_key(&mut t, "class[5].arrivals.mean_rps", 1.0).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = set_key(&mut t, "client.max_attempts", 1.0).unwrap_err();
        assert!(e.contains("\"client\" is not in the scenario"), "{e}");
        let e = set_key(&mut t, "scenario..seed", 1.0).unwrap_err();
        assert!(e.contains("empty part"), "{e}");
    }
}
