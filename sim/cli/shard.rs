//! `--shard I/N` and `llmcap merge`: flags onto `analysis::shard`, the simulation of a shard's
//! items, and the merge that hands the shards' results to the writer one process uses.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use sha2::{Digest, Sha256};

use llmcap::analysis::shard::{
    self, ItemResult, ShardFile, ShardManifest, ShardSpec, Work, ASSIGNMENT, FORMAT, FORMAT_VERSION,
};
use llmcap::analysis::sweep::{run_items, PointSummary, Sweep};
use llmcap::domain::SweepSpec;
use llmcap::input::scenario::Overrides;
use llmcap::report;

use super::sweep::{finish_sweep, SweepRan};
use super::{hex, input, runtime, stage, with_progress, Failure, SweepArgs};

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

/// `sweep --shard`: simulates the shard's items and writes its shard file.
pub fn sweep_shard(
    a: &SweepArgs,
    spec: ShardSpec,
    bytes: &[u8],
    sweep: &Sweep,
) -> Result<(), Failure> {
    let base = &sweep.points[0];
    let threads = a.sim.threads();
    let dest = match &a.out {
        Some(out) => out_for(out, spec),
        None => Path::new("results").join(format!(
            "{}-sweep-shard-{}-of-{}",
            base.name, spec.index, spec.count
        )),
    };
    let staging = stage(&dest, super::scenario_inputs(&a.scenario, base), a.sim.wait)?;
    let items = sweep.items();
    let mine = spec.items(items.len());
    let todo: Vec<(usize, u32)> = mine.iter().map(|&k| items[k]).collect();
    let pair = sweep.pair.as_ref().ok().copied();
    let hours = todo.len() as u64 * base.horizon_hours as u64;
    let (results, took) = with_progress(hours, a.sim.quiet, |progress| {
        run_items(
            &sweep.points,
            &todo,
            (pair.map(|p| p.reserved), pair.map(|p| p.compare)),
            threads,
            Some(progress),
            |i, outcome, hist| ItemResult {
                item: mine[i],
                outcome,
                ttft_us: hist.buckets(),
            },
        )
    })?;
    if let Some(why) = results
        .iter()
        .find_map(|r| r.outcome.input_failure.as_ref())
    {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    let scenario_path = std::path::absolute(&a.scenario).unwrap_or_else(|_| a.scenario.clone());
    let file = ShardFile {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        manifest: ShardManifest {
            llmcap_version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: base.name.clone(),
            scenario_path: scenario_path.to_string_lossy().into_owned(),
            scenario_sha256: hex(&Sha256::digest(bytes)),
            scenario_text: text,
            seed: base.seed,
            replications: base.replications,
            horizon_hours: base.horizon_hours,
            work: Work {
                command: "sweep".into(),
                key: sweep.spec.key.clone(),
                values: sweep.spec.values.clone(),
                sweep_replications: sweep.spec.replications,
                compare: sweep.spec.compare.clone(),
                at: sweep.spec.at.clone(),
                seed: a.sim.seed,
                replications: a.sim.replications,
                horizon_hours: a.sim.horizon_hours,
                traces: a.traces.traces.iter().map(|t| absolute_trace(t)).collect(),
            },
            items,
            assignment: ASSIGNMENT.into(),
            shard: spec,
            threads,
        },
        results,
    };
    let path = report::shard::write_shard(staging, &file).map_err(runtime)?;
    if !a.sim.quiet {
        eprintln!(
            "{}: shard {spec}: {} of {} item(s) (point x replication) simulated in {:.2} s on {threads} thread(s); merge all {} shards with `llmcap merge`",
            base.name,
            mine.len(),
            file.manifest.items.len(),
            took.as_secs_f64(),
            spec.count
        );
        println!("{}", path.display());
    }
    Ok(())
}

/// `llmcap merge`: reads and checks every shard, then writes the command's outputs.
pub fn merge(a: MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let files = shard::expand(&a.shards).map_err(input)?;
    let mut shards = Vec::with_capacity(files.len());
    for f in files {
        let s = shard::read(&f).map_err(input)?;
        shards.push((f, s));
    }
    shard::check(&shards).map_err(input)?;
    let (first, m) = (&shards[0].0, &shards[0].1.manifest);
    if hex(&Sha256::digest(m.scenario_text.as_bytes())) != m.scenario_sha256 {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.scenario_text: does not match manifest.scenario_sha256: the file was edited",
            first.display()
        )));
    }
    match m.work.command.as_str() {
        "sweep" => merge_sweep(&a, &shards, started),
        other => Err(input(anyhow::anyhow!(
            "{}: manifest.work.command: \"{other}\" cannot be merged by this llmcap (allowed: sweep)",
            first.display()
        ))),
    }
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
    let overrides = Overrides {
        seed: m.work.seed,
        replications: m.work.replications,
        horizon_hours: m.work.horizon_hours,
        start_date: None,
        plan: false,
    };
    let sweep = Sweep::build(&table, &path, spec, &overrides).map_err(input)?;
    if sweep.items() != m.items {
        return Err(input(anyhow::anyhow!(
            "{}: manifest.items: the scenario gives {} item(s), the shards list {}: the file was edited",
            shards[0].0.display(),
            sweep.items().len(),
            m.items.len()
        )));
    }
    let per_point = shard::by_point(shards, sweep.points.len()).map_err(input)?;
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", sweep.points[0].name)));
    let staging = stage(
        &dest,
        shards.iter().map(|(p, _)| p.clone()).collect(),
        a.wait,
    )?;
    let has_pair = sweep.pair.is_ok();
    let values = &sweep.spec.values;
    let points = per_point
        .iter()
        .enumerate()
        .map(|(p, (reps, hist))| PointSummary::of(values[p], reps, hist, has_pair))
        .collect();
    let ran = SweepRan {
        points,
        outcomes: per_point.into_iter().map(|(reps, _)| reps).collect(),
        threads: shards
            .iter()
            .map(|(_, s)| s.manifest.threads)
            .max()
            .unwrap_or(1),
        shards: Some(m.shard.count),
        took: started.elapsed(),
    };
    let bytes = m.scenario_text.as_bytes();
    finish_sweep(&path, bytes, &sweep, ran, staging, (a.quiet, a.json))
}
