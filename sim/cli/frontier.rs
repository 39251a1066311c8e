//! `llmcap frontier`: flags to a frontier, its simulation in one process, and the writer a merge
//! of its shards (`shard.rs`) shares, so both write the same bytes.

use std::path::{Path, PathBuf};

use clap::Args;

use llmcap::analysis::frontier::{self, Frontier, FrontierResult};
use llmcap::analysis::plan::parse_sla;
use llmcap::domain::Scenario;
use llmcap::input::scenario::Overrides;
use llmcap::report::{self, output::Staging, summary::Manifest};

use super::traces::TraceArgs;
use super::{
    emit_json, input, load, load_table, manifest, runtime, say, scenario_inputs, shard, stage,
    warn, with_progress, Failure, Ran, SimOptions,
};

#[derive(Debug, Args)]
pub struct FrontierArgs {
    /// The scenario file (TOML); its [frontier] table says which configurations to simulate.
    pub scenario: PathBuf,
    /// Output folder [default: results/<scenario name>-frontier].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The SLA every class must meet, e.g. "p99<=2s" [default: [frontier] sla, else each
    /// class's own sla].
    #[arg(long)]
    pub sla: Option<String>,
    /// Compute shard I of N of the grid (counting from 0) and write its shard file to --out, for
    /// `llmcap merge`; `auto` and `auto/N` as for sweep (docs/scale-out.md).
    #[arg(long, value_name = "I/N|auto|auto/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    /// With --shard: the second round. Read the grid's shard files (or folders holding them),
    /// mark the frontier as the merge would, and search the sustained rate of this shard's
    /// share of the frontier's configurations; merge both rounds' shards together.
    #[arg(long, value_name = "GRID_SHARDS", num_args = 1.., requires = "shard")]
    pub rates_after: Vec<PathBuf>,
    #[command(flatten)]
    pub traces: TraceArgs,
    #[command(flatten)]
    pub sim: SimOptions,
}

/// The frontier of a scenario document: its `[frontier]` table with --sla put in, every
/// configuration validated. Errors name the flag or the key.
pub fn build(
    file: &Path,
    sc: &Scenario,
    table: &toml::Table,
    sla: Option<&str>,
    overrides: &Overrides,
) -> Result<Frontier, Failure> {
    let Some(options) = &sc.frontier else {
        return Err(input(anyhow::anyhow!(
            "{}: frontier: the scenario has no [frontier] table; say what to try, e.g. [frontier] units = {{ ptu = [15, 30, 45] }} (docs/scenario.md)",
            file.display()
        )));
    };
    let mut options = options.clone();
    if let Some(text) = sla {
        options.sla = Some(parse_sla(text).map_err(|e| input(anyhow::anyhow!("--sla {e}")))?);
    }
    Frontier::build(table, file, options, overrides).map_err(input)
}

pub fn frontier(a: FrontierArgs) -> Result<(), Failure> {
    // A bad --shard is refused before anything is read or simulated.
    let shard_spec = match &a.shard {
        Some(text) => Some(shard::spec(text)?),
        None => None,
    };
    let overrides = a.sim.overrides();
    let (sc, bytes) = load(&a.scenario, &a.traces, &overrides)?;
    let table = load_table(&a.scenario, &bytes, &a.traces)?;
    let f = build(&a.scenario, &sc, &table, a.sla.as_deref(), &overrides)?;
    if !a.sim.quiet {
        warn(&a.scenario, &sc);
    }
    if let Some(spec) = shard_spec {
        return shard::frontier_shard(&a, spec, &bytes, &f);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-frontier", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, &sc), a.sim.wait)?;
    let (result, took) = with_progress(f.total_hours(), a.sim.quiet, |progress| {
        let measured = frontier::simulate(&f, threads, Some(progress));
        let rates = frontier::Rates::Simulate {
            threads,
            progress: Some(progress),
        };
        frontier::finish(&f, measured, rates)
    })?;
    // Simulating never fails to find an evaluation (only a merge's recorded searches can).
    let result = result.map_err(runtime)?;
    let ran = Ran {
        result,
        threads,
        shards: None,
        took,
    };
    finish_frontier(
        &a.scenario,
        &bytes,
        &sc,
        ran,
        staging,
        (a.sim.quiet, a.sim.json),
    )
}

/// Writes a frontier's outputs and prints its headline: the same for one process and a merge
/// of its shards.
pub fn finish_frontier(
    scenario: &Path,
    bytes: &[u8],
    sc: &Scenario,
    ran: Ran<FrontierResult>,
    staging: Staging,
    (quiet, json): (bool, bool),
) -> Result<(), Failure> {
    let Ran {
        result,
        threads,
        shards,
        took,
    } = ran;
    if let Some(why) = result
        .configurations
        .iter()
        .find_map(|c| c.measured.input_failure.as_ref())
    {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let m = Manifest {
        shards,
        ..manifest(scenario, bytes, sc, threads)
    };
    let m = Manifest {
        replications: result.replications,
        ..m
    };
    // The same beside every configuration; a merge of shards computes it again.
    let batch = report::batch::aside(sc, &llmcap::analysis::batch::run(sc));
    let dest = report::frontier::write_frontier(staging, sc, &result, m, batch.as_ref())
        .map_err(runtime)?;
    if !quiet {
        for line in report::frontier::headline(&result) {
            say(&format!("{}: {line}", sc.name));
        }
        if let Some(b) = &batch {
            say(&format!(
                "{}: batch jobs: {} per month on top of every configuration (see frontier.md)",
                sc.name,
                llmcap::format::usd_cents(b.usd_per_month)
            ));
        }
        let what = match shards {
            None => format!("simulated on {threads} thread(s)"),
            Some(n) => format!("merged from {n} shard(s)"),
        };
        say(&format!(
            "{} configuration(s) x {} replication(s) {what} in {:.2} s",
            result.configurations.len(),
            result.replications,
            took.as_secs_f64()
        ));
    }
    if json {
        emit_json(&dest, "frontier.json")?;
    } else if !quiet {
        println!("{}", dest.join("frontier.md").display());
    }
    Ok(())
}
