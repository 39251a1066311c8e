//! `llmcap plan --ladder`: which reserved units to buy on which term, and when, over the
//! months of a growing scenario (docs/model.md 12.4.1).

use std::path::Path;

use llmcap::analysis::ladder;
use llmcap::input::scenario::Overrides;
use llmcap::report;

use super::{
    emit_json, input, load, manifest, plan_spec, runtime, scenario_inputs, stage, warn,
    with_progress, Failure, PlanArgs,
};

/// Runs the ladder: `--months` sets the horizon before validation, the horizon's whole
/// months (12 to 36) are the window.
pub fn ladder(a: PlanArgs) -> Result<(), Failure> {
    let overrides = Overrides {
        plan: true,
        horizon_months: a.months,
        ..a.sim.overrides()
    };
    let (sc, bytes) = load(&a.scenario, &a.traces, &overrides)?;
    llmcap::analysis::cost::refuse_reserved_rate(&sc, &a.scenario, "plan --ladder")
        .map_err(input)?;
    let spec = plan_spec(&a.flags(), &a.scenario, &sc)?;
    let months = ladder::ladder_months(&sc, &a.scenario).map_err(input)?;
    if !a.sim.quiet {
        warn(&a.scenario, &sc);
    }
    let sample = a.sample_hours.unwrap_or(ladder::DEFAULT_SAMPLE_HOURS);
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-ladder", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, &sc), a.sim.wait)?;
    // The bisection decides how many configurations each month needs: count
    // simulated hours against about eight per month.
    let total = months as u64 * sample as u64 * sc.replications as u64 * 8;
    let (result, took) = with_progress(total, a.sim.quiet, |progress| {
        ladder::ladder(&sc, &spec, months, sample, threads, Some(progress))
    })?;
    if let Some(why) = &result.input_failure {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    // The batch jobs of every month, 730 h at the month's growth: the same beside every way.
    let batch: Vec<_> = (0..months)
        .filter_map(|m| {
            let s = ladder::month_scenario(&sc, m, 730);
            report::batch::aside(&s, &llmcap::analysis::batch::run(&s))
        })
        .collect();
    let dest = report::ladder::write_ladder(
        staging,
        &sc,
        &result,
        manifest(&a.scenario, &bytes, &sc, threads),
        &batch,
    )
    .map_err(runtime)?;
    if !a.sim.quiet {
        for line in report::ladder::headline(&result) {
            eprintln!("{}: {line}", sc.name);
        }
        if !batch.is_empty() {
            let total: f64 = batch.iter().map(|b| b.cost_usd).sum();
            eprintln!(
                "{}: batch jobs: {} over the {months} months on top of every way (ladder.md)",
                sc.name,
                llmcap::format::usd_whole(total)
            );
        }
        eprintln!(
            "{months} month(s) x {sample} h x {} replication(s) planned in {:.2} s on {threads} thread(s)",
            sc.replications,
            took.as_secs_f64()
        );
    }
    if a.sim.json {
        emit_json(&dest, "ladder.json")?;
    } else if !a.sim.quiet {
        println!("{}", dest.join("ladder.md").display());
    }
    Ok(())
}
