//! `--shard I/N` (sweep, run, frontier, plan, pick) and `llmcap merge`: flags onto `analysis::shard`, the simulation
//! of a shard's items, and the merge that hands the shards' results to the writer one process
//! uses.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use clap::Args;
use sha2::{Digest, Sha256};

use llmcap::analysis::frontier::{self, Frontier, Measured};
use llmcap::analysis::pick::{self, Considered, Profile};
use llmcap::analysis::plan::{PlanGrid, PlanSpec};
use llmcap::analysis::shard::{
    self, ConfigResult, ItemResult, PlanWork, ShardFile, ShardManifest, ShardSpec, Work,
    ASSIGNMENT, FORMAT, FORMAT_VERSION,
};
use llmcap::analysis::sweep::{run_items, PointSummary, RepOutcome, Sweep};
use llmcap::domain::{Scenario, SweepSpec};
use llmcap::input::scenario::Overrides;
use llmcap::model::metrics::Hist;
use llmcap::report;
use llmcap::report::summary::RepDigest;

use super::frontier::{finish_frontier, FrontierArgs};
use super::run::finish_run;
use super::sweep::finish_sweep;
use super::{
    finish_plan, hex, input, runtime, stage, with_progress, Failure, PickArgs, PlanArgs, PlanFlags,
    Ran, RunArgs, SimOptions, SweepArgs,
};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard files (shard-I-of-N.json.gz), or folders holding them: every shard of one
    /// command, each once.
    #[arg(required = true, value_name = "SHARDS")]
    pub shards: Vec<PathBuf>,
    /// Output folder [default: the command's, e.g. results/<scenario name>-sweep].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the merged results as JSON on standard output (e.g. the sweep.json just written)
    /// instead of the report's path, for scripts.
    #[arg(long)]
    pub json: bool,
    /// If another llmcap is writing to the same --out, wait for it instead of exiting 2.
    #[arg(long)]
    pub wait: bool,
    /// Worker threads for what a merge simulates itself (a frontier's sustained-rate search)
    /// [default: all cores]. Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
}

/// `--shard TEXT`, with `auto` read from this process's environment.
pub fn spec(text: &str) -> Result<ShardSpec, Failure> {
    ShardSpec::parse(text, &|name| std::env::var(name).ok()).map_err(|e| {
        match e.message.starts_with("--shard") {
            true => input(e),
            false => input(anyhow::anyhow!("--shard {e}")),
        }
    })
}

/// A --trace flag with its path made absolute, so a merge elsewhere reads the same file.
fn absolute_trace(flag: &str) -> String {
    let abs = |p: &str| {
        std::path::absolute(p)
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.to_string())
    };
    if Path::new(flag).exists() {
        return abs(flag);
    }
    match flag.split_once('=') {
        Some((class, path)) => format!("{class}={}", abs(path)),
        None => abs(flag),
    }
}

/// A shard's --out with `{index}` and `{count}` replaced: AWS Batch passes a job's command to
/// every array child unchanged and an image without a shell cannot expand variables, so the
/// shard names its own folder (`--out /data/shards/{index}`).
fn out_for(out: &Path, spec: ShardSpec) -> PathBuf {
    let text = out.to_string_lossy();
    if !text.contains("{index}") && !text.contains("{count}") {
        return out.to_path_buf();
    }
    PathBuf::from(
        text.replace("{index}", &spec.index.to_string())
            .replace("{count}", &spec.count.to_string()),
    )
}

/// One shard of a command: what it was given and what it computes. [`Shard::run`] is the one
/// routine every command's `--shard` goes through.
struct Shard<'a> {
    /// The scenario file (pick: the profile) and its bytes.
    scenario: &'a Path,
    bytes: &'a [u8],
    base: Header,
    /// The default folder's suffix after the name: "-sweep", "-frontier", "-plan", "-pick", or
    /// "" for a run.
    what: &'static str,
    out: &'a Option<PathBuf>,
    /// The files the command reads, which the shard must not write over.
    inputs: Vec<PathBuf>,
    sim: &'a SimOptions,
    spec: ShardSpec,
    work: Work,
    /// 1, or 2 for a frontier's sustained-rate search.
    round: u32,
    items: Vec<(usize, u32)>,
}

/// The name, seed, replications and horizon of what a shard computes (a scenario, or pick's
/// profile).
struct Header {
    name: String,
    seed: u64,
    replications: u32,
    horizon_hours: u32,
}

impl From<&Scenario> for Header {
    fn from(sc: &Scenario) -> Header {
        Header {
            name: sc.name.clone(),
            seed: sc.seed,
            replications: sc.replications,
            horizon_hours: sc.horizon_hours,
        }
    }
}

impl Shard<'_> {
    /// Stages the shard's folder, computes its items (`compute` gets their numbers in the
    /// manifest's `items`, the threads and the progress counter of simulated hours; `hours`
    /// estimates an item's), writes the shard file and says what the shard did.
    fn run(
        self,
        hours: impl Fn(usize) -> u64,
        compute: impl FnOnce(&[usize], usize, &AtomicU64) -> Result<Vec<ItemResult>, Failure> + Send,
    ) -> Result<(), Failure> {
        let (threads, quiet) = (self.sim.threads(), self.sim.quiet);
        let dest = shard_dest(self.out, &self.base.name, self.what, self.spec);
        let staging = stage(&dest, self.inputs.clone(), self.sim.wait)?;
        let mine = self.spec.items(self.items.len());
        let total = mine.iter().map(|&k| hours(k)).sum();
        let (results, took) =
            with_progress(total, quiet, |progress| compute(&mine, threads, progress))?;
        let file = self.file(results?, threads);
        let path = report::shard::write_shard(staging, &file).map_err(runtime)?;
        if !quiet {
            let m = &file.manifest;
            super::say(&format!(
                "{}: shard {}: {} of {} item(s) simulated in {:.2} s on {} thread(s); merge all {} shards with `llmcap merge`",
                m.scenario_name,
                m.shard,
                file.results.len(),
                m.items.len(),
                took.as_secs_f64(),
                m.threads,
                m.shard.count
            ));
            println!("{}", path.display());
        }
        Ok(())
    }

    fn file(self, results: Vec<ItemResult>, threads: usize) -> ShardFile {
        ShardFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            manifest: self.manifest(threads),
            results,
        }
    }

    /// The manifest of this shard's file.
    fn manifest(&self, threads: usize) -> ShardManifest {
        let scenario_path =
            std::path::absolute(self.scenario).unwrap_or_else(|_| self.scenario.to_path_buf());
        ShardManifest {
            llmcap_version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: self.base.name.clone(),
            scenario_path: scenario_path.to_string_lossy().into_owned(),
            scenario_sha256: hex(&Sha256::digest(self.bytes)),
            scenario_text: String::from_utf8_lossy(self.bytes).into_owned(),
            seed: self.base.seed,
            replications: self.base.replications,
            horizon_hours: self.base.horizon_hours,
            work: self.work.clone(),
            round: self.round,
            items: self.items.clone(),
            assignment: ASSIGNMENT.into(),
            shard: self.spec,
            threads,
        }
    }

    /// A command whose items are (point, replication) pairs of `points` (sweep, frontier, plan):
    /// each replication reduced to its outcome and TTFT histogram (`pair`: the reserved and
    /// on-demand deployments a point's outcomes are about); a replication whose inputs failed
    /// (a replayed trace changed) fails the shard.
    fn points(
        self,
        points: &[Scenario],
        pair: impl Fn(usize) -> (Option<usize>, Option<usize>) + Sync + Send,
    ) -> Result<(), Failure> {
        let items = self.items.clone();
        let hours = |k: usize| points[items[k].0].horizon_hours as u64;
        self.run(hours, |mine, threads, progress| {
            let todo: Vec<(usize, u32)> = mine.iter().map(|&k| items[k]).collect();
            let results = run_items(
                points,
                &todo,
                pair,
                threads,
                Some(progress),
                |i, outcome, hist| ItemResult {
                    item: mine[i],
                    outcome: Some(outcome),
                    ttft_us: hist.buckets(),
                    metrics: None,
                    configurations: Vec::new(),
                    evaluations: Vec::new(),
                },
            );
            match results
                .iter()
                .find_map(|r| r.outcome.as_ref()?.input_failure.as_ref())
            {
                Some(why) => Err(runtime(anyhow::anyhow!("{why}; nothing was written"))),
                None => Ok(results),
            }
        })
    }
}

/// The work of a command sharded over its items: the options every command shares, the rest
/// empty (a sweep's key and values, plan's flags) for the caller to fill in.
fn work(command: &str, sim: &SimOptions, traces: &[String]) -> Work {
    Work {
        command: command.into(),
        key: String::new(),
        values: Vec::new(),
        sweep_replications: None,
        compare: None,
        at: String::new(),
        seed: sim.seed,
        replications: sim.replications,
        horizon_hours: sim.horizon_hours,
        traces: traces.iter().map(|t| absolute_trace(t)).collect(),
        start_date: None,
        sla: None,
        plan: None,
        as_of: None,
        profile_file: None,
    }
}

/// The shard's folder: --out (with `{index}`, `{count}` put in), else `results/<name>-<what>-shard-I-of-N`.
fn shard_dest(out: &Option<PathBuf>, name: &str, what: &str, spec: ShardSpec) -> PathBuf {
    match out {
        Some(out) => out_for(out, spec),
        None => Path::new("results").join(format!(
            "{name}{what}-shard-{}-of-{}",
            spec.index, spec.count
        )),
    }
}

/// `sweep --shard`: simulates the shard's items and writes its shard file.
pub fn sweep_shard(
    a: &SweepArgs,
    spec: ShardSpec,
    bytes: &[u8],
    sweep: &Sweep,
) -> Result<(), Failure> {
    let base = &sweep.points[0];
    let pair = sweep.pair.as_ref().ok().copied();
    let shard = Shard {
        scenario: &a.scenario,
        bytes,
        base: base.into(),
        what: "-sweep",
        out: &a.out,
        inputs: super::scenario_inputs(&a.scenario, base),
        sim: &a.sim,
        spec,
        round: 1,
        work: Work {
            key: sweep.spec.key.clone(),
            values: sweep.spec.values.clone(),
            sweep_replications: sweep.spec.replications,
            compare: sweep.spec.compare.clone(),
            at: sweep.spec.at.clone(),
            ..work("sweep", &a.sim, &a.traces.traces)
        },
        items: sweep.items(),
    };
    shard.points(&sweep.points, |_| {
        (pair.map(|p| p.reserved), pair.map(|p| p.compare))
    })
}

/// `frontier --shard`: simulates the shard's items of the grid and writes its shard file (the
/// sustained-rate search, which needs the whole frontier, runs in the merge or, with
/// `--rates-after`, in a second round: [`frontier_rates_shard`]).
pub fn frontier_shard(
    a: &FrontierArgs,
    spec: ShardSpec,
    bytes: &[u8],
    f: &Frontier,
) -> Result<(), Failure> {
    if !a.rates_after.is_empty() {
        return frontier_rates_shard(a, spec, bytes, f);
    }
    let scenarios = f.scenarios();
    let shard = frontier_shard_of(a, spec, bytes, &scenarios[0], 1, f.items());
    shard.points(&scenarios, |_| (None, None))
}

/// A shard of a frontier: `round` 1 of its grid's `items`, or 2 of its rate search.
fn frontier_shard_of<'a>(
    a: &'a FrontierArgs,
    spec: ShardSpec,
    bytes: &'a [u8],
    base: &Scenario,
    round: u32,
    items: Vec<(usize, u32)>,
) -> Shard<'a> {
    Shard {
        scenario: &a.scenario,
        bytes,
        base: base.into(),
        what: if round == 1 {
            "-frontier"
        } else {
            "-frontier-rates"
        },
        out: &a.out,
        inputs: super::scenario_inputs(&a.scenario, base),
        sim: &a.sim,
        spec,
        round,
        work: Work {
            sla: a.sla.clone(),
            ..work("frontier", &a.sim, &a.traces.traces)
        },
        items,
    }
}

/// The shard files among `paths` (files, or folders holding them), read.
fn read_shards(paths: &[PathBuf]) -> Result<Vec<(PathBuf, ShardFile)>, Failure> {
    let files = shard::expand(paths).map_err(input)?;
    let mut shards = Vec::with_capacity(files.len());
    for f in files {
        let s = shard::read(&f).map_err(input)?;
        shards.push((f, s));
    }
    Ok(shards)
}

/// `frontier --shard I/N --rates-after GRID_SHARDS...`: the second round. Reads the grid's shards
/// (checked as a merge checks them, and against this command's scenario and flags), marks the
/// frontier as the merge would, and runs the sustained-rate search of its share of the
/// frontier's configurations (round robin), writing every evaluation to its shard file.
fn frontier_rates_shard(
    a: &FrontierArgs,
    spec: ShardSpec,
    bytes: &[u8],
    f: &Frontier,
) -> Result<(), Failure> {
    let grid = read_shards(&a.rates_after)?;
    if let Some((p, s)) = grid.iter().find(|(_, s)| s.manifest.round != 1) {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.round: a round-{} shard; --rates-after takes the frontier grid's shards (round 1, written by `llmcap frontier --shard I/N`)",
            p.display(),
            s.manifest.round
        )));
    }
    shard::check(&grid).map_err(input)?;
    let base = &f.configs[0].scenario;
    let mut shard = frontier_shard_of(a, spec, bytes, base, 2, Vec::new());
    let (grid_path, grid_manifest) = (&grid[0].0, &grid[0].1.manifest);
    shard::same_command(grid_path, grid_manifest, &a.scenario, &shard.manifest(1))
        .map_err(input)?;
    let measured: Vec<Measured> = grid_points(&grid, &f.items())?
        .iter()
        .enumerate()
        .map(|(i, (reps, hist))| Measured::of(f, i, reps, hist))
        .collect();
    let searched = frontier::searched(f, &measured);
    shard.items = searched.iter().map(|&c| (c, 0)).collect();
    shard.inputs.extend(grid.iter().map(|(p, _)| p.clone()));
    // At most rate_steps + 1 simulations of each configuration's replications.
    let per_search = f.options.rate_steps as u64 + 1;
    let hours = |k: usize| {
        let sc = &f.configs[searched[k]].scenario;
        sc.horizon_hours as u64 * sc.replications as u64 * per_search
    };
    shard.run(hours, |mine, threads, progress| {
        let configs: Vec<usize> = mine.iter().map(|&k| searched[k]).collect();
        let mut recorded = frontier::search_share(f, &measured, &configs, threads, Some(progress));
        Ok(mine
            .iter()
            .zip(&configs)
            .map(|(&k, c)| ItemResult {
                item: k,
                outcome: None,
                ttft_us: Vec::new(),
                metrics: None,
                configurations: Vec::new(),
                evaluations: recorded.remove(c).unwrap_or_default(),
            })
            .collect())
    })
}

/// `plan --shard`: simulates the shard's items of every configuration the search may visit (each
/// set-up at every unit count of the grid, and all on-demand) and writes its shard file; the merge
/// runs the search over the merged results.
pub fn plan_shard(
    a: &PlanArgs,
    spec: ShardSpec,
    bytes: &[u8],
    sc: &Scenario,
    plan: &PlanSpec,
) -> Result<(), Failure> {
    let grid = PlanGrid::of(sc, plan);
    let shard = Shard {
        scenario: &a.scenario,
        bytes,
        base: sc.into(),
        what: "-plan",
        out: &a.out,
        inputs: super::scenario_inputs(&a.scenario, sc),
        sim: &a.sim,
        spec,
        round: 1,
        work: Work {
            sla: a.sla.clone(),
            plan: Some(PlanWork {
                deployment: a.deployment.clone(),
                terms: a.terms.clone(),
                max_units: a.max_units,
            }),
            ..work("plan", &a.sim, &a.traces.traces)
        },
        items: grid.items(),
    };
    shard.points(&grid.scenarios, |p| grid.pairs[p])
}

/// A pick's work items: one a candidate (a workload on one route), each with all its
/// replications, since the candidate's search needs them together.
fn pick_items(considered: &Considered) -> Vec<(usize, u32)> {
    (0..considered.candidates.len()).map(|k| (k, 0)).collect()
}

/// `pick --shard`: simulates the shard's candidates, keeping every configuration their searches
/// simulated, and writes its shard file (the choice and the design, which need every
/// candidate, are made in the merge).
pub fn pick_shard(
    a: &PickArgs,
    spec: ShardSpec,
    bytes: &[u8],
    profile: &Profile,
) -> Result<(), Failure> {
    let considered = pick::consider(profile, a.as_of.as_deref());
    let shard = Shard {
        scenario: &a.profile,
        bytes,
        base: Header {
            name: profile.name.clone(),
            seed: profile.seed as u64,
            replications: profile.replications,
            horizon_hours: profile.horizon_hours,
        },
        what: "-pick",
        out: &a.out,
        inputs: vec![a.profile.clone()],
        sim: &a.sim,
        spec,
        round: 1,
        work: Work {
            as_of: a.as_of.clone(),
            profile_file: Some(a.profile.to_string_lossy().into_owned()),
            ..work("pick", &a.sim, &[])
        },
        items: pick_items(&considered),
    };
    // A rough guess: a candidate's search simulates a few dozen configurations at most.
    let hours = |_| profile.horizon_hours as u64 * profile.replications as u64 * 20;
    shard.run(hours, |mine, threads, progress| {
        let measured = pick::measure(profile, &considered, mine, threads, Some(progress));
        Ok(mine
            .iter()
            .zip(measured.map_err(runtime)?)
            .map(|(&k, m)| ItemResult {
                item: k,
                outcome: None,
                ttft_us: Vec::new(),
                metrics: None,
                configurations: ConfigResult::all(m),
                evaluations: Vec::new(),
            })
            .collect())
    })
}

/// `run --shard`: simulates the shard's replications and writes its shard file.
pub fn run_shard(a: &RunArgs, spec: ShardSpec, bytes: &[u8], sc: &Scenario) -> Result<(), Failure> {
    let shard = Shard {
        scenario: &a.scenario,
        bytes,
        base: sc.into(),
        what: "",
        out: &a.out,
        inputs: super::scenario_inputs(&a.scenario, sc),
        sim: &a.sim,
        spec,
        round: 1,
        work: Work {
            start_date: a.start_date.clone(),
            ..work("run", &a.sim, &a.traces.traces)
        },
        items: (0..sc.replications).map(|r| (0, r)).collect(),
    };
    // Item k is replication k.
    shard.run(
        |_| sc.horizon_hours as u64,
        |mine, threads, progress| {
            let reps: Vec<u32> = mine.iter().map(|&k| k as u32).collect();
            let results =
                llmcap::analysis::run::run_reps(sc, &reps, threads, Some(progress), |r, m| {
                    ItemResult {
                        item: r as usize,
                        outcome: None,
                        ttft_us: Vec::new(),
                        metrics: Some(m),
                        configurations: Vec::new(),
                        evaluations: Vec::new(),
                    }
                });
            match results
                .iter()
                .find_map(|r| r.metrics.as_ref()?.input_failure.as_ref())
            {
                Some(why) => Err(runtime(anyhow::anyhow!("{why}; nothing was written"))),
                None => Ok(results),
            }
        },
    )
}

/// `llmcap merge`: reads and checks every shard, then writes the command's outputs.
pub fn merge(a: MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let all = read_shards(&a.shards)?;
    if let Some((p, s)) = all
        .iter()
        .find(|(_, s)| !(1..=2).contains(&s.manifest.round))
    {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.round: round {}; this llmcap writes rounds 1 (a command's work) and 2 (a frontier's rate search)",
            p.display(),
            s.manifest.round
        )));
    }
    // A frontier's rate search (round 2) is checked against its grid (round 1).
    let (rates, shards): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(_, s)| s.manifest.round == 2);
    if shards.is_empty() {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.round: a round-2 shard (a frontier's rate search) without the grid it searched; give the grid's shards (round 1) too: llmcap merge GRID_SHARDS RATE_SHARDS",
            rates[0].0.display()
        )));
    }
    shard::check(&shards).map_err(input)?;
    let (first, m) = (&shards[0].0, &shards[0].1.manifest);
    for (p, s) in &rates {
        shard::same_command(p, &s.manifest, first, m).map_err(input)?;
    }
    if !rates.is_empty() {
        shard::check(&rates).map_err(input)?;
    }
    if hex(&Sha256::digest(m.scenario_text.as_bytes())) != m.scenario_sha256 {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.scenario_text: does not match manifest.scenario_sha256: the file was edited",
            first.display()
        )));
    }
    match m.work.command.as_str() {
        "sweep" => merge_sweep(&a, &shards, started),
        "run" => merge_run(&a, &shards, started),
        "frontier" => merge_frontier(&a, &shards, &rates, started),
        "plan" => merge_plan(&a, &shards, started),
        "pick" => merge_pick(&a, &shards, started),
        other => Err(input(anyhow::anyhow!(
            "{}: manifest.work.command: \"{other}\" cannot be merged by this llmcap (allowed: sweep, run, frontier, plan, pick)",
            first.display()
        ))),
    }
}

/// Per point of a command: its outcomes in replication order and its pooled TTFT histogram.
type PerPoint = Vec<(Vec<RepOutcome>, Hist)>;

/// Per point, its outcomes in replication order and pooled histogram, from checked shards whose
/// items must be `items` (the command's, rebuilt from the scenario).
fn grid_points(
    shards: &[(PathBuf, ShardFile)],
    items: &[(usize, u32)],
) -> Result<PerPoint, Failure> {
    let m = &shards[0].1.manifest;
    if items != m.items {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.items: the scenario gives {} item(s), the shards list {}: the file was edited",
            shards[0].0.display(),
            items.len(),
            m.items.len()
        )));
    }
    let points = items.last().map_or(0, |&(p, _)| p + 1);
    shard::by_point(shards, points).map_err(input)
}

/// Per point, its outcomes in replication order and pooled histogram, from checked shards
/// whose items must be `items` (the command's, rebuilt from the scenario), and the staging of
/// the merge's --out (default `results/<default>`).
fn points_of(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    items: &[(usize, u32)],
    default: &str,
) -> Result<(PerPoint, llmcap::report::output::Staging), Failure> {
    let per_point = grid_points(shards, items)?;
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(default));
    let staging = stage(
        &dest,
        shards.iter().map(|(p, _)| p.clone()).collect(),
        a.wait,
    )?;
    Ok((per_point, staging))
}

fn merge_sweep(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    started: Instant,
) -> Result<(), Failure> {
    let m = &shards[0].1.manifest;
    let path = PathBuf::from(&m.scenario_path);
    // The scenario as the shards read it, validated again: the points, the pair and every
    // derived number come from the same code as in one process.
    let mut table = llmcap::input::document::parse_toml::<toml::Table>(&m.scenario_text, &path)
        .map_err(input)?;
    super::traces::apply(&mut table, &path, &m.work.traces).map_err(input)?;
    let spec = SweepSpec {
        key: m.work.key.clone(),
        values: m.work.values.clone(),
        replications: m.work.sweep_replications,
        compare: m.work.compare.clone(),
        at: m.work.at.clone(),
    };
    let sweep = Sweep::build(&table, &path, spec, &overrides(m)).map_err(input)?;
    let default = format!("{}-sweep", sweep.points[0].name);
    let (per_point, staging) = points_of(a, shards, &sweep.items(), &default)?;
    let has_pair = sweep.pair.is_ok();
    let values = &sweep.spec.values;
    let points = per_point
        .iter()
        .enumerate()
        .map(|(p, (reps, hist))| PointSummary::of(values[p], reps, hist, has_pair))
        .collect();
    let ran = Ran {
        result: (
            points,
            per_point.into_iter().map(|(reps, _)| reps).collect(),
        ),
        threads: shard_threads(shards),
        shards: Some(m.shard.count),
        took: started.elapsed(),
    };
    let bytes = m.scenario_text.as_bytes();
    finish_sweep(&path, bytes, &sweep, ran, staging, (a.quiet, a.json))
}

/// The scenario document as the shards read it, with their --trace files.
fn shard_table(m: &ShardManifest, path: &Path) -> Result<toml::Table, Failure> {
    let mut table = llmcap::input::document::parse_toml::<toml::Table>(&m.scenario_text, path)
        .map_err(input)?;
    super::traces::apply(&mut table, path, &m.work.traces).map_err(input)?;
    Ok(table)
}

/// The command-line overrides the shards were given.
fn overrides(m: &ShardManifest) -> Overrides {
    Overrides {
        seed: m.work.seed,
        replications: m.work.replications,
        horizon_hours: m.work.horizon_hours,
        start_date: m.work.start_date.clone(),
        plan: m.work.command == "plan",
        horizon_months: None,
    }
}

/// Merges the shards of `plan`: every configuration's outcomes and histograms as one process
/// measures them, then the search, which reads them instead of simulating, so it visits and
/// reports the configurations one process does.
fn merge_plan(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    started: Instant,
) -> Result<(), Failure> {
    let m = &shards[0].1.manifest;
    let path = PathBuf::from(&m.scenario_path);
    let table = shard_table(m, &path)?;
    let sc = Scenario::from_table_with(table, &path, &overrides(m)).map_err(input)?;
    let work = m.work.plan.clone().ok_or_else(|| {
        input(anyhow::anyhow!(
            "{}: manifest.work.plan: missing from a plan's shard: the file was edited",
            shards[0].0.display()
        ))
    })?;
    let flags = PlanFlags {
        sla: m.work.sla.clone(),
        deployment: work.deployment,
        terms: work.terms,
        max_units: work.max_units,
    };
    let spec = super::plan_spec(&flags, &path, &sc)?;
    let grid = PlanGrid::of(&sc, &spec);
    let default = format!("{}-plan", sc.name);
    let (per_point, staging) = points_of(a, shards, &grid.items(), &default)?;
    let measured = grid.configurations.iter().copied().zip(per_point).collect();
    // Unreachable from a merge: points_of checked that the shards hold the whole grid.
    let result = llmcap::analysis::plan::plan_measured(&sc, &spec, measured).map_err(|e| {
        runtime(anyhow::anyhow!(
            "internal error: {e}, though the shards hold every configuration of the grid"
        ))
    })?;
    let ran = Ran {
        result,
        threads: shard_threads(shards),
        shards: Some(m.shard.count),
        took: started.elapsed(),
    };
    finish_plan(
        &path,
        m.scenario_text.as_bytes(),
        &sc,
        ran,
        staging,
        (a.quiet, a.json),
    )
}

/// Merges the shards of `pick`: each candidate's configurations as one process simulates them;
/// the evaluations read them, and the recommended design, which depends on them all, is
/// simulated here (on --threads).
fn merge_pick(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    started: Instant,
) -> Result<(), Failure> {
    let (first, m) = (&shards[0].0, &shards[0].1.manifest);
    let file = m.work.profile_file.clone().ok_or_else(|| {
        input(anyhow::anyhow!(
            "{}: manifest.work.profile_file: missing from a pick's shard: the file was edited",
            first.display()
        ))
    })?;
    let profile = Profile::from_toml_with(&m.scenario_text, Path::new(&file), &overrides(m))
        .map_err(input)?;
    let considered = pick::consider(&profile, m.work.as_of.as_deref());
    let items = pick_items(&considered);
    if items != m.items {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.items: the profile gives {} candidate(s), the shards list {}: the file was edited",
            first.display(),
            items.len(),
            m.items.len()
        )));
    }
    let (measured, holders): (Vec<_>, Vec<_>) = shard::by_candidate(shards, items.len())
        .map_err(input)?
        .into_iter()
        .unzip();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-pick", profile.name)));
    let staging = stage(
        &dest,
        shards.iter().map(|(p, _)| p.clone()).collect(),
        a.wait,
    )?;
    let threads = merge_threads(a);
    let (result, _) = with_progress(0, a.quiet, |progress| {
        pick::pick_measured(&profile, considered, measured, threads, Some(progress))
    })?;
    let result = result.map_err(|e| match &e {
        pick::PickError::Unmeasured { candidate, .. } => input(anyhow::anyhow!(
            "{}: results: {e}: the file was damaged or edited",
            holders[*candidate].display()
        )),
        _ => runtime(e),
    })?;
    let ran = Ran {
        result,
        threads: shard_threads(shards),
        shards: Some(m.shard.count),
        took: started.elapsed(),
    };
    super::finish_pick(
        m.scenario_text.as_bytes(),
        &profile,
        ran,
        staging,
        (a.quiet, a.json),
    )
}

/// The most threads a shard ran on (what a merge's manifest records).
fn shard_threads(shards: &[(PathBuf, ShardFile)]) -> usize {
    shards
        .iter()
        .map(|(_, s)| s.manifest.threads)
        .max()
        .unwrap_or(1)
}

/// The threads for what a merge simulates itself: --threads, else all cores.
fn merge_threads(a: &MergeArgs) -> usize {
    a.threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Merges the shards of `run`: every replication's metrics, added in replication order and
/// digested as one process does.
fn merge_run(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    started: Instant,
) -> Result<(), Failure> {
    let m = &shards[0].1.manifest;
    let path = PathBuf::from(&m.scenario_path);
    let sc =
        Scenario::from_table_with(shard_table(m, &path)?, &path, &overrides(m)).map_err(input)?;
    let items: Vec<(usize, u32)> = (0..sc.replications).map(|r| (0, r)).collect();
    if items != m.items {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.items: the scenario gives {} replication(s), the shards list {}: the file was edited",
            shards[0].0.display(),
            items.len(),
            m.items.len()
        )));
    }
    let reps = shard::by_replication(shards).map_err(input)?;
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&sc.name));
    let staging = stage(
        &dest,
        shards.iter().map(|(p, _)| p.clone()).collect(),
        a.wait,
    )?;
    let digests = reps.iter().map(|r| RepDigest::of(&sc, r)).collect();
    let mut reps = reps.into_iter();
    let mut pooled = reps.next().unwrap_or_else(|| {
        llmcap::model::metrics::RepMetrics::new(
            sc.classes.len(),
            sc.deployments.len(),
            sc.horizon_hours,
        )
    });
    for r in reps {
        pooled.merge(&r);
    }
    let ran = Ran {
        result: (pooled, digests),
        threads: shard_threads(shards),
        shards: Some(m.shard.count),
        took: started.elapsed(),
    };
    finish_run(
        &path,
        m.scenario_text.as_bytes(),
        &sc,
        ran,
        staging,
        (a.quiet, a.json),
    )
}

/// Merges the shards of `frontier`: each configuration's outcomes and histograms as one process
/// measures them, then the frontier, priced and marked, and the sustained-rate search, read from
/// the second round's shards (`rates`) when given, else simulated here (on --threads).
fn merge_frontier(
    a: &MergeArgs,
    shards: &[(PathBuf, ShardFile)],
    rates: &[(PathBuf, ShardFile)],
    started: Instant,
) -> Result<(), Failure> {
    let m = &shards[0].1.manifest;
    let path = PathBuf::from(&m.scenario_path);
    let table = shard_table(m, &path)?;
    let sc = Scenario::from_table_with(table.clone(), &path, &overrides(m)).map_err(input)?;
    let f = super::frontier::build(&path, &sc, &table, m.work.sla.as_deref(), &overrides(m))?;
    let default = format!("{}-frontier", sc.name);
    let (per_point, staging) = points_of(a, shards, &f.items(), &default)?;
    let measured: Vec<Measured> = per_point
        .iter()
        .enumerate()
        .map(|(i, (reps, hist))| Measured::of(&f, i, reps, hist))
        .collect();
    let (recorded, holders) = match rates.first() {
        None => (None, std::collections::BTreeMap::new()),
        Some((first, r)) => {
            let searched = frontier::searched(&f, &measured);
            let items: Vec<(usize, u32)> = searched.iter().map(|&c| (c, 0)).collect();
            if items != r.manifest.items {
                return Err(input(anyhow::anyhow!(
                    "{}: manifest.items: the grid's frontier has {} configuration(s) to search, this rate-search shard lists {}: it searched another grid",
                    first.display(),
                    items.len(),
                    r.manifest.items.len()
                )));
            }
            let by = shard::by_search(rates).map_err(input)?;
            let holders = by.iter().map(|(&c, (_, p))| (c, p.clone())).collect();
            (
                Some(by.into_iter().map(|(c, (e, _))| (c, e)).collect()),
                holders,
            )
        }
    };
    let threads = merge_threads(a);
    let (result, _) = with_progress(0, a.quiet, |progress| {
        let rates = match recorded {
            Some(recorded) => frontier::Rates::Recorded(recorded),
            None => frontier::Rates::Simulate {
                threads,
                progress: Some(progress),
            },
        };
        frontier::finish(&f, measured, rates)
    })?;
    let result = result.map_err(|e| {
        let file = holders.get(&e.config()).unwrap_or(&rates[0].0);
        input(anyhow::anyhow!(
            "{}: results: {e}: the file was damaged or edited",
            file.display()
        ))
    })?;
    let all = || shards.iter().chain(rates);
    let ran = Ran {
        result,
        threads: all().map(|(_, s)| s.manifest.threads).max().unwrap_or(1),
        shards: Some(m.shard.count + rates.first().map_or(0, |r| r.1.manifest.shard.count)),
        took: started.elapsed(),
    };
    finish_frontier(
        &path,
        m.scenario_text.as_bytes(),
        &sc,
        ran,
        staging,
        (a.quiet, a.json),
    )
}
