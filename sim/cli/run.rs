//! `llmcap run`: a scenario's replications in one process, and the writer a merge of its shards
//! (`shard.rs`) shares, so both write the same bytes.

use std::path::Path;
use std::time::Instant;

use llmcap::analysis::sweep::Sweep;
use llmcap::domain::{time, Scenario};
use llmcap::format::{count, ms, usd_cents};
use llmcap::input::scenario::Overrides;
use llmcap::model::metrics::RepMetrics;
use llmcap::report::{
    self,
    output::Staging,
    summary::{Manifest, RepDigest},
};

use super::{
    emit_json, input, load, load_table, manifest, runtime, say, scenario_inputs, shard, stage,
    warn, with_progress, Failure, Ran, RunArgs,
};

pub fn run(a: RunArgs) -> Result<(), Failure> {
    // A bad --shard is refused before anything is read or simulated.
    let shard_spec = match &a.shard {
        Some(text) => Some(shard::spec(text)?),
        None => None,
    };
    let overrides = Overrides {
        start_date: a.start_date.clone(),
        ..a.sim.overrides()
    };
    let (sc, bytes) = load(&a.scenario, &a.traces, &overrides)?;
    // [sweep] is checked by every command that reads the file: its key must name a numeric key
    // of this scenario (`validate` also validates every point; a run does not spend that time).
    if let Some(spec) = &sc.sweep {
        let table = load_table(&a.scenario, &bytes, &a.traces)?;
        Sweep::check_first_point(&table, &a.scenario, spec, &overrides).map_err(input)?;
    }
    if !a.sim.quiet {
        warn(&a.scenario, &sc);
    }
    if let Some(spec) = shard_spec {
        return shard::run_shard(&a, spec, &bytes, &sc);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&sc.name));
    // Fail on an unwritable destination before spending time on the run.
    let staging = stage(&dest, scenario_inputs(&a.scenario, &sc), a.sim.wait)?;
    let total = sc.horizon_hours as u64 * sc.replications as u64;
    let results = with_progress(total, a.sim.quiet, |progress| {
        llmcap::analysis::run::run_each(&sc, threads, Some(progress), |m| RepDigest::of(&sc, m))
    })?;
    let (result, took) = results;
    let ran = Ran {
        result,
        threads,
        shards: None,
        took,
    };
    finish_run(
        &a.scenario,
        &bytes,
        &sc,
        ran,
        staging,
        (a.sim.quiet, a.sim.json),
    )
}

/// What a run's replications gave: all of them added together in replication order, and each
/// one's digest.
pub type Replications = (RepMetrics, Vec<RepDigest>);

/// Writes a run's outputs and prints its headline: the same for a one-process run and a merge
/// of its shards.
pub fn finish_run(
    scenario: &Path,
    bytes: &[u8],
    sc: &Scenario,
    ran: Ran<Replications>,
    staging: Staging,
    (quiet, json): (bool, bool),
) -> Result<(), Failure> {
    let Ran {
        result: (pooled, digests),
        threads,
        shards,
        took: simulated_in,
    } = ran;
    let writing = Instant::now();
    if let Some(why) = &pooled.input_failure {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let manifest = Manifest {
        start_date: Some(time::format_date(sc.start_date)),
        shards,
        ..manifest(scenario, bytes, sc, threads)
    };
    let batch = llmcap::analysis::batch::run(sc);
    let (dest, summary) =
        report::write_run(staging, sc, &pooled, &digests, &batch, manifest).map_err(runtime)?;
    if !quiet {
        let r = &summary.requests;
        let p99 = summary
            .ttft_ms
            .iter()
            .find(|p| p.percentile == 99.0)
            .and_then(|p| p.pooled);
        let how = match shards {
            None => format!(
                "simulated in {:.2} s ({:.2} M requests/s on {} thread(s))",
                simulated_in.as_secs_f64(),
                r.arrived * sc.replications as f64 / simulated_in.as_secs_f64().max(1e-9) / 1e6,
                threads
            ),
            Some(n) => format!("merged from {n} shard(s)"),
        };
        say(&format!(
            "{}: {} requests/replication, {} served, {} throttled, {} failed, {} errored; TTFT p99 {}; cost {}; \
             {} replication(s) {how}, {:.2} s in all",
            sc.name,
            count(r.arrived),
            count(r.served),
            count(r.throttled),
            count(r.failed),
            count(r.errored),
            p99.map(ms).unwrap_or("n/a".into()),
            usd_cents(summary.cost.total_usd.map(|c| c.mean).unwrap_or(0.0)),
            count(sc.replications as f64),
            (simulated_in + writing.elapsed()).as_secs_f64()
        ));
    }
    if json {
        emit_json(&dest, "summary.json")?;
    } else if !quiet {
        println!("{}", dest.join("report.md").display());
    }
    Ok(())
}
