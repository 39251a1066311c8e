//! Output: CSV, JSON, Markdown and PNG. Nothing else in llmcap writes files.
//!
//! Exporters (`tables`, `markdown`, `summary`) turn results into bytes; charts
//! (`plots`, one file per chart) draw into the staging folder; `output` owns the
//! folder and moves it into place when everything is written.

pub mod attribution;
pub mod batch;
pub mod calibrate;
pub mod catalog;
pub mod diff;
pub mod fit;
pub mod fit_usage;
pub mod focus;
pub mod frontier;
pub mod ladder;
pub mod ladder_rate;
pub mod litellm;
pub mod markdown;
pub mod output;
pub mod pick;
mod pick_batch;
pub mod plan;
pub mod plots;
pub mod rate_plan;
pub mod run_charts;
pub mod shard;
pub mod summary;
pub mod sweep;
pub mod tables;
pub mod terminal;

use std::path::PathBuf;

use crate::domain::Scenario;
use crate::error::OutputError;
use crate::model::metrics::RepMetrics;
use output::Staging;
use summary::{Manifest, RepDigest, Summary};

/// The files every run writes, in the order they are written.
pub const RUN_FILES: &[&str] = &[
    "summary.json",
    "ttft_percentiles.csv",
    "ttft_cdf.csv",
    "hourly.csv",
    "arrivals.csv",
    "failover.csv",
    "cost_by_tag.csv",
    "focus.csv",
    "attribution.csv",
    "ttft_cdf.png",
    "hourly_cost.png",
    "traffic.png",
    "failover.png",
    "attribution.png",
    "report.md",
];

/// Writes every output of a run into `staging` and moves it into place.
pub fn write_run(
    staging: Staging,
    sc: &Scenario,
    pooled: &RepMetrics,
    reps: &[RepDigest],
    batch_results: &crate::analysis::batch::BatchResults,
    manifest: Manifest,
) -> Result<(PathBuf, Summary), OutputError> {
    let mut summary = Summary::build(sc, pooled, reps, manifest);
    let total = summary.cost.total_usd.as_ref().map(|c| c.mean);
    summary.batch = batch::summary(sc, batch_results, total);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| OutputError::Encode {
        what: "summary.json",
        message: e.to_string(),
    })?;
    staging.write("summary.json", &json)?;
    staging.write("ttft_percentiles.csv", &tables::ttft_percentiles(&summary)?)?;
    let cdf = tables::cdf_series(sc, pooled);
    staging.write("ttft_cdf.csv", &tables::ttft_cdf(&cdf)?)?;
    let rows = tables::hourly_rows(sc, reps.len(), pooled);
    staging.write("hourly.csv", &tables::hourly(sc, &rows, batch_results)?)?;
    staging.write("arrivals.csv", &tables::arrivals(sc, reps.len(), pooled)?)?;
    let failover = tables::failover_rows(sc, reps.len(), pooled);
    staging.write("failover.csv", &tables::failover(&failover)?)?;
    staging.write(
        "cost_by_tag.csv",
        &tables::cost_by_tag(sc, reps.len(), pooled)?,
    )?;
    staging.write(
        "focus.csv",
        &focus::focus(sc, reps.len(), pooled, batch_results)?,
    )?;
    staging.write("attribution.csv", &attribution::csv(&summary.attribution)?)?;

    let sla = run_charts::sla_line(sc);
    staging.write(plots::ttft_cdf::FILE, &run_charts::ttft_cdf(sc, &cdf, sla)?)?;
    // The time-series charts take hourly values and draw them per hour, or
    // per day over long horizons; a run shorter than 3 h gives them its
    // minute bins. The titles name the step drawn.
    let noun = plots::Bucket::for_run(pooled.hours).noun();
    let bins = pooled.chart_bins();
    let per_minute = pooled.minute_bins().map(|b| {
        (
            tables::bin_rows(sc, reps.len(), &b),
            tables::failover_bins(sc, reps.len(), &b),
        )
    });
    let (step, chart_rows, chart_failover) = match &per_minute {
        Some((r, f)) => (plots::Step::Minute, r.as_slice(), f),
        None => (plots::Step::Hour, rows.as_slice(), &failover),
    };
    staging.write(
        plots::hourly_cost::FILE,
        &run_charts::hourly_cost(sc, chart_rows, bins.count, step, noun)?,
    )?;
    staging.write(
        plots::traffic::FILE,
        &run_charts::traffic(sc, &bins, step, reps.len(), noun)?,
    )?;
    staging.write(
        plots::failover::FILE,
        &run_charts::failover(sc, chart_failover, sla, step, noun)?,
    )?;
    staging.write(
        plots::attribution::FILE,
        &plots::attribution::png(
            &format!(
                "{}: share of each platform's cost attributable by tag",
                sc.name
            ),
            &attribution::bars(&summary.attribution),
            "no class has tags: nothing to attribute",
        )?,
    )?;

    staging.write("report.md", markdown::render(sc, &summary).as_bytes())?;
    let dest = staging.commit()?;
    Ok((dest, summary))
}
