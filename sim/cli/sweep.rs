//! `llmcap sweep`: flags to a sweep, its simulation in one process, and the writer a merge of
//! its shards (`shard.rs`) shares, so both write the same bytes.

use std::path::Path;

use llmcap::analysis::sweep::{breakevens, run_points_each, PointSummary, RepOutcome, Sweep};
use llmcap::domain::{Scenario, SweepSpec};
use llmcap::format::count;
use llmcap::input::scenario::raw::RawSweep;
use llmcap::report::{self, output::Staging, summary::Manifest, sweep::SweepResult};

use super::{
    emit_json, input, load, load_table, manifest, runtime, say, scenario_inputs, shard, stage,
    warn, with_progress, Failure, Ran, SweepArgs,
};

/// The sweep to run: from the command line when --key or a value flag is
/// given, else the scenario's [sweep] table.
fn sweep_spec(a: &SweepArgs, sc: &Scenario) -> Result<SweepSpec, Failure> {
    let from_cli = a.key.is_some()
        || a.values.is_some()
        || a.from.is_some()
        || a.to.is_some()
        || a.step.is_some()
        || a.points.is_some();
    if from_cli {
        let key = a.key.clone().ok_or_else(|| {
            input(anyhow::anyhow!(
                "--key is required with --values, --from, --to, --step or --points (e.g. --key deployment.<name>.reserved.units)"
            ))
        })?;
        let raw = RawSweep {
            key,
            values: a.values.clone(),
            from: a.from,
            to: a.to,
            step: a.step,
            points: a.points.map(f64::from),
            replications: None,
            compare: a.compare.clone(),
        };
        return SweepSpec::from_raw(&raw, &a.scenario, "--").map_err(input);
    }
    let Some(spec) = &sc.sweep else {
        return Err(input(anyhow::anyhow!(
            "{}: sweep: the scenario has no [sweep] table and no --key was given; say what to sweep, e.g. --key deployment.<name>.reserved.units --from 15 --to 300 --step 5",
            a.scenario.display()
        )));
    };
    let mut spec = spec.clone();
    if a.compare.is_some() {
        spec.compare = a.compare.clone();
    }
    Ok(spec)
}

pub fn sweep(a: SweepArgs) -> Result<(), Failure> {
    // A bad --shard is refused before anything is read or simulated.
    let shard_spec = match &a.shard {
        Some(text) => Some(shard::spec(text)?),
        None => None,
    };
    let (sc, bytes) = load(&a.scenario, &a.traces, &a.sim.overrides())?;
    let table = load_table(&a.scenario, &bytes, &a.traces)?;
    let spec = sweep_spec(&a, &sc)?;
    let sweep = Sweep::build(&table, &a.scenario, spec, &a.sim.overrides()).map_err(input)?;
    if let Ok(p) = &sweep.pair {
        llmcap::analysis::cost::refuse_rate_compare(&sweep.points[0], &a.scenario, p.compare)
            .map_err(input)?;
    }
    if !a.sim.quiet {
        warn(&a.scenario, &sweep.points[0]);
    }
    if let Some(spec) = shard_spec {
        return shard::sweep_shard(&a, spec, &bytes, &sweep);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, &sc), a.sim.wait)?;
    let pair = sweep.pair.as_ref().ok().copied();
    // Each point is summarised as soon as it is done, so its TTFT histogram
    // does not stay in memory for the whole sweep.
    let values = &sweep.spec.values;
    let (done, took) = with_progress(sweep.total_hours(), a.sim.quiet, |progress| {
        run_points_each(
            &sweep.points,
            pair.map(|p| p.reserved),
            pair.map(|p| p.compare),
            threads,
            Some(progress),
            |p, reps, hist| {
                (
                    PointSummary::of(values[p], &reps, hist, pair.is_some()),
                    reps,
                )
            },
        )
    })?;
    let (points, outcomes): (Vec<PointSummary>, Vec<Vec<_>>) = done.into_iter().unzip();
    let ran = Ran {
        result: (points, outcomes),
        threads,
        shards: None,
        took,
    };
    finish_sweep(
        &a.scenario,
        &bytes,
        &sweep,
        ran,
        staging,
        (a.sim.quiet, a.sim.json),
    )
}

/// What a sweep's simulations gave: each point's summary and its outcomes, replication by
/// replication.
pub type SweepOutcomes = (Vec<PointSummary>, Vec<Vec<RepOutcome>>);

/// Writes a sweep's outputs and prints its headline: the same for a one-process sweep and a
/// merge of its shards, so both write the same bytes.
pub fn finish_sweep(
    scenario: &Path,
    bytes: &[u8],
    sweep: &Sweep,
    ran: Ran<SweepOutcomes>,
    staging: Staging,
    (quiet, json): (bool, bool),
) -> Result<(), Failure> {
    let Ran {
        result: (points, outcomes),
        threads,
        shards,
        took,
    } = ran;
    if let Some(why) = outcomes
        .iter()
        .flatten()
        .find_map(|o| o.input_failure.as_ref())
    {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let breakeven = breakevens(sweep, &outcomes);
    let base = &sweep.points[0];
    let mut result = SweepResult::build(
        sweep,
        points,
        breakeven,
        Manifest {
            shards,
            ..manifest(scenario, bytes, base, threads)
        },
    );
    // Batch jobs share no capacity with the online deployments: each point's are simulated
    // apart (a few jobs an interval), here, so a merge of shards writes the same bytes.
    result.set_batch(
        (sweep.points.iter())
            .map(|p| report::batch::aside(p, &llmcap::analysis::batch::run(p)))
            .collect(),
    );
    let dest = report::sweep::write_sweep(staging, base, &result).map_err(runtime)?;
    if !quiet {
        for line in report::sweep::headline(&result, base) {
            say(&format!("{}: {line}", base.name));
        }
        match shards {
            None => say(&format!(
                "{} point(s) x {} replication(s) simulated in {:.2} s on {threads} thread(s)",
                count(sweep.points.len() as f64),
                count(base.replications as f64),
                took.as_secs_f64()
            )),
            Some(n) => say(&format!(
                "{} point(s) x {} replication(s) merged from {n} shard(s) in {:.2} s",
                count(sweep.points.len() as f64),
                count(base.replications as f64),
                took.as_secs_f64()
            )),
        }
    }
    if json {
        emit_json(&dest, "sweep.json")?;
    } else if !quiet {
        println!("{}", dest.join("report.md").display());
    }
    Ok(())
}
