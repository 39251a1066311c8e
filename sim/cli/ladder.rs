//! `llmcap plan --ladder`: which reserved units (or token-rate reservation) to buy on which
//! term, and when, over the months of a growing scenario (docs/model.md 12.4.1).

use std::path::Path;

use llmcap::analysis::ladder;
use llmcap::input::scenario::Overrides;
use llmcap::report;

use super::plan::{plan_kind, PlanKind};
use super::{
    emit_json, input, load, manifest, runtime, scenario_inputs, stage, warn, with_progress,
    Failure, PlanArgs,
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
    let kind = plan_kind(&a.flags(), &a.scenario, &sc, "plan --ladder")?;
    let months = ladder::ladder_months(&sc, &a.scenario).map_err(input)?;
    let spec = match kind {
        PlanKind::Units(spec) => spec,
        PlanKind::Rate(spec) => return rate_ladder(a, &sc, &bytes, &spec, months),
    };
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
    let batch = batch_by_month(&sc, months);
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
        batch_line(&sc, &batch, months);
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

/// The batch jobs of every month, 730 h at the month's growth: the same beside every way.
fn batch_by_month(sc: &llmcap::domain::Scenario, months: u32) -> Vec<report::batch::BatchAside> {
    (0..months)
        .filter_map(|m| {
            let s = ladder::month_scenario(sc, m, 730);
            report::batch::aside(&s, &llmcap::analysis::batch::run(&s))
        })
        .collect()
}

fn batch_line(sc: &llmcap::domain::Scenario, batch: &[report::batch::BatchAside], months: u32) {
    if !batch.is_empty() {
        let total: f64 = batch.iter().map(|b| b.cost_usd).sum();
        eprintln!(
            "{}: batch jobs: {} over the {months} months on top of every way (ladder.md)",
            sc.name,
            llmcap::format::usd_whole(total)
        );
    }
}

/// The ladder of a token-rate reservation: each month sized by the rate search, each side
/// covered by the exact flow, every way's months simulated at the sizes held.
fn rate_ladder(
    a: PlanArgs,
    sc: &llmcap::domain::Scenario,
    bytes: &[u8],
    spec: &llmcap::analysis::rate_plan::RateSpec,
    months: u32,
) -> Result<(), Failure> {
    if !a.sim.quiet {
        warn(&a.scenario, sc);
    }
    let sample = a.sample_hours.unwrap_or(ladder::DEFAULT_SAMPLE_HOURS);
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-ladder", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, sc), a.sim.wait)?;
    // The search decides how many sizes each month needs: count simulated hours against
    // about twenty per month, and the bills' few more.
    let total = months as u64 * sample as u64 * sc.replications as u64 * 24;
    let (result, took) = with_progress(total, a.sim.quiet, |progress| {
        ladder::rate::ladder(sc, spec, months, sample, threads, Some(progress))
    })?;
    if let Some(why) = &result.input_failure {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let batch = batch_by_month(sc, months);
    let dest = report::ladder_rate::write_rate_ladder(
        staging,
        sc,
        &result,
        manifest(&a.scenario, bytes, sc, threads),
        &batch,
    )
    .map_err(runtime)?;
    if !a.sim.quiet {
        for line in report::ladder_rate::headline(&result) {
            eprintln!("{}: {line}", sc.name);
        }
        batch_line(sc, &batch, months);
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
