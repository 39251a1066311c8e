//! `llmcap plan`: what it sizes (reserved units, or a token-rate reservation), the search, and
//! the outputs of either (`plan --ladder` is in `ladder.rs`, `--shard` in `shard.rs`).

use std::path::Path;

use llmcap::analysis::plan::{parse_sla, PlanSpec};
use llmcap::domain::Scenario;
use llmcap::error::InputError;
use llmcap::format::count;
use llmcap::input::scenario::Overrides;
use llmcap::report;

use super::{
    emit_json, input, ladder, load, manifest, runtime, say, scenario_inputs, shard, stage, warn,
    with_progress, Failure, Manifest, PlanArgs, PlanFlags, Ran,
};

/// The planning spec from the command line, then `[plan]` (checked when the
/// scenario was validated), then defaults. Errors name the flag or the key.
pub(crate) fn plan_spec(
    a: &PlanFlags,
    scenario: &Path,
    sc: &Scenario,
) -> Result<PlanSpec, Failure> {
    let raw = sc.plan.clone().unwrap_or_default();
    let sla = match &a.sla {
        Some(t) => Some(parse_sla(t).map_err(|e| input(anyhow::anyhow!("--sla {e}")))?),
        None => raw.sla,
    };
    let max_units = a.max_units.or(raw.max_units);
    let terms = a.terms.clone().or(raw.terms.clone());
    let deployment = a.deployment.clone().or(raw.deployment.clone());
    llmcap::analysis::plan::spec(
        sc,
        scenario,
        sla,
        deployment.as_deref(),
        terms.as_deref(),
        max_units,
    )
    .map_err(|e| flag_error(a, e))
}

/// A `[plan]` error, named by its flag when the value came from the command line.
fn flag_error(a: &PlanFlags, e: InputError) -> Failure {
    let flag = match e.path() {
        "plan.deployment" if a.deployment.is_some() => Some("--deployment".to_string()),
        "plan.terms" if a.terms.is_some() => Some("--terms".to_string()),
        "plan.max_units" if a.max_units.is_some() => Some("--max-units".to_string()),
        k if k.starts_with("--") => Some(k.to_string()),
        _ => None,
    };
    if let (Some(flag), InputError::Invalid { message, .. }) = (&flag, &e) {
        return input(anyhow::anyhow!("{flag}: {message}"));
    }
    input(e)
}

/// What `plan` sizes: a token-rate reservation (`analysis::rate_plan`) when the deployment it
/// plans has one, else reserved units (refused next to a token-rate reservation).
pub(crate) enum PlanKind {
    Units(PlanSpec),
    Rate(llmcap::analysis::rate_plan::RateSpec),
}

/// The plan the flags, then `[plan]`, ask for; errors name the flag or the key.
pub(crate) fn plan_kind(
    a: &PlanFlags,
    scenario: &Path,
    sc: &Scenario,
    command: &str,
) -> Result<PlanKind, Failure> {
    let raw = sc.plan.clone().unwrap_or_default();
    let sla = match &a.sla {
        Some(t) => Some(parse_sla(t).map_err(|e| input(anyhow::anyhow!("--sla {e}")))?),
        None => raw.sla,
    };
    let terms = a.terms.clone().or(raw.terms.clone());
    let rate = llmcap::analysis::rate_plan::spec(
        sc,
        scenario,
        sla,
        a.deployment.clone().or(raw.deployment.clone()).as_deref(),
        terms.as_deref(),
        a.max_units.or(raw.max_units),
    )
    .map_err(|e| flag_error(a, e))?;
    if let Some(rate) = rate {
        return Ok(PlanKind::Rate(rate));
    }
    llmcap::analysis::cost::refuse_reserved_rate(sc, scenario, command).map_err(input)?;
    Ok(PlanKind::Units(plan_spec(a, scenario, sc)?))
}

pub(super) fn plan(a: PlanArgs) -> Result<(), Failure> {
    // A bad --shard is refused before anything is read or simulated.
    let shard_spec = match &a.shard {
        Some(text) => Some(shard::spec(text)?),
        None => None,
    };
    if a.ladder {
        return ladder::ladder(a);
    }
    let overrides = Overrides {
        plan: true,
        ..a.sim.overrides()
    };
    let (sc, bytes) = load(&a.scenario, &a.traces, &overrides)?;
    let spec = match plan_kind(&a.flags(), &a.scenario, &sc, "plan")? {
        PlanKind::Units(spec) => spec,
        PlanKind::Rate(spec) => {
            if shard_spec.is_some() {
                let name = &sc.deployments[spec.deployment].name;
                return Err(input(anyhow::anyhow!(
                    "--shard: {}: plan of the token-rate reservation of deployment \"{name}\" runs in one process: its search steps on what the last size gave, and the sizes it may visit (up to {res} steps per side, both sides) are too many to simulate in advance. Leave --shard out, or spread chosen sizes over machines with `llmcap sweep --shard I/N --key deployment.{name}.reserved_rate.input_tpm --values A,B,...` (docs/scale-out.md)",
                    a.scenario.display(),
                    res = llmcap::analysis::rate_plan::RESOLUTION,
                )));
            }
            return rate_plan(&a, &sc, &bytes, &spec);
        }
    };
    if !a.sim.quiet {
        warn(&a.scenario, &sc);
    }
    if let Some(shard) = shard_spec {
        return shard::plan_shard(&a, shard, &bytes, &sc, &spec);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-plan", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, &sc), a.sim.wait)?;
    // The total is not known in advance (the search decides); show a spinner
    // that counts simulated hours against one sweep of the grid.
    let grid = match &sc.deployments[spec.reserved].pool {
        llmcap::domain::Pool::Reserved(r) => r.grid(spec.max_units).len() as u64,
        llmcap::domain::Pool::OnDemand(_) => 1,
    };
    let total = sc.horizon_hours as u64 * sc.replications as u64 * grid.min(40);
    let (result, took) = with_progress(total, a.sim.quiet, |progress| {
        llmcap::analysis::plan::plan(&sc, &spec, threads, Some(progress))
    })?;
    let ran = Ran {
        result,
        threads,
        shards: None,
        took,
    };
    finish_plan(
        &a.scenario,
        &bytes,
        &sc,
        ran,
        staging,
        (a.sim.quiet, a.sim.json),
    )
}

/// `plan` of a token-rate reservation: the search of `analysis::rate_plan`, its plan.md,
/// plan.csv and plan.json.
fn rate_plan(
    a: &PlanArgs,
    sc: &Scenario,
    bytes: &[u8],
    spec: &llmcap::analysis::rate_plan::RateSpec,
) -> Result<(), Failure> {
    if !a.sim.quiet {
        warn(&a.scenario, sc);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-plan", sc.name)));
    let staging = stage(&dest, scenario_inputs(&a.scenario, sc), a.sim.wait)?;
    // The search decides how many sizes it simulates: count against about thirty.
    let total = sc.horizon_hours as u64 * sc.replications as u64 * 30;
    let (result, took) = with_progress(total, a.sim.quiet, |progress| {
        llmcap::analysis::rate_plan::plan(sc, spec, threads, Some(progress))
    })?;
    if let Some(why) = &result.input_failure {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    let dest = report::rate_plan::write_rate_plan(
        staging,
        sc,
        &result,
        manifest(&a.scenario, bytes, sc, threads),
    )
    .map_err(runtime)?;
    if !a.sim.quiet {
        for line in report::rate_plan::headline(&result) {
            say(&format!("{}: {line}", sc.name));
        }
        say(&format!(
            "{} size(s) x {} replication(s) simulated in {:.2} s on {threads} thread(s)",
            count(result.evaluated.len() as f64 + 1.0),
            count(sc.replications as f64),
            took.as_secs_f64()
        ));
    }
    if a.sim.json {
        emit_json(&dest, "plan.json")?;
    } else if !a.sim.quiet {
        println!("{}", dest.join("plan.md").display());
    }
    Ok(())
}

/// Writes a plan's outputs and prints its headline: the same for one process and a merge of its
/// shards.
pub fn finish_plan(
    scenario: &Path,
    bytes: &[u8],
    sc: &Scenario,
    ran: Ran<llmcap::analysis::plan::PlanResult>,
    staging: llmcap::report::output::Staging,
    (quiet, json): (bool, bool),
) -> Result<(), Failure> {
    let Ran {
        result,
        threads,
        shards,
        took,
    } = ran;
    if let Some(why) = &result.input_failure {
        return Err(runtime(anyhow::anyhow!("{why}; nothing was written")));
    }
    // The scenario file as written: its deployment tables go into litellm_config.yaml.
    let document: Option<toml::Table> = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| toml::from_str(t).ok());
    let m = Manifest {
        shards,
        ..manifest(scenario, bytes, sc, threads)
    };
    // The batch jobs are the same beside every configuration (cheap: a few jobs an interval),
    // so a merge of shards computes them again from the scenario and writes the same bytes.
    let batch = report::batch::aside(sc, &llmcap::analysis::batch::run(sc));
    let dest = report::plan::write_plan(staging, sc, &result, m, document.as_ref(), batch.as_ref())
        .map_err(runtime)?;
    if !quiet {
        for line in report::plan::headline(&result, batch.as_ref()) {
            say(&format!("{}: {line}", sc.name));
        }
        let what = match shards {
            None => format!(
                "simulated in {:.2} s on {threads} thread(s)",
                took.as_secs_f64()
            ),
            Some(n) => format!(
                "merged from {n} shard(s) in {:.2} s (the search read the shards' results)",
                took.as_secs_f64()
            ),
        };
        say(&format!(
            "{} configuration(s) x {} replication(s) {what}",
            count(result.evaluated.len() as f64),
            count(sc.replications as f64),
        ));
    }
    if json {
        emit_json(&dest, "plan.json")?;
    } else if !quiet {
        println!("{}", dest.join("plan.md").display());
    }
    Ok(())
}
