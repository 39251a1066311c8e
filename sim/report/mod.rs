//! Output: CSV, JSON, Markdown and PNG. Nothing else in llmcap writes files.
//!
//! Exporters (`tables`, `markdown`, `summary`) turn results into bytes; charts
//! (`plots`, one file per chart) draw into the staging folder; `output` owns the
//! folder and moves it into place when everything is written.

pub mod attribution;
pub mod calibrate;
pub mod catalog;
pub mod diff;
pub mod fit;
pub mod fit_usage;
pub mod focus;
pub mod frontier;
pub mod ladder;
pub mod litellm;
pub mod markdown;
pub mod output;
pub mod pick;
pub mod plan;
pub mod plots;
pub mod shard;
pub mod summary;
pub mod sweep;
pub mod tables;
pub mod terminal;

use std::path::PathBuf;

use crate::domain::{Pool, Scenario};
use crate::error::OutputError;
use crate::model::metrics::RepMetrics;
use output::Staging;
use plots::{ttft_cdf::CdfSeries, Series};
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
    manifest: Manifest,
) -> Result<(PathBuf, Summary), OutputError> {
    let summary = Summary::build(sc, pooled, reps, manifest);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| OutputError::Encode {
        what: "summary.json",
        message: e.to_string(),
    })?;
    staging.write("summary.json", &json)?;
    staging.write("ttft_percentiles.csv", &tables::ttft_percentiles(&summary)?)?;
    let cdf = tables::cdf_series(sc, pooled);
    staging.write("ttft_cdf.csv", &tables::ttft_cdf(&cdf)?)?;
    let rows = tables::hourly_rows(sc, reps.len(), pooled);
    staging.write("hourly.csv", &tables::hourly(sc, &rows)?)?;
    staging.write("arrivals.csv", &tables::arrivals(sc, reps.len(), pooled)?)?;
    let failover = tables::failover_rows(sc, reps.len(), pooled);
    staging.write("failover.csv", &tables::failover(&failover)?)?;
    staging.write(
        "cost_by_tag.csv",
        &tables::cost_by_tag(sc, reps.len(), pooled)?,
    )?;
    staging.write("focus.csv", &focus::focus(sc, reps.len(), pooled)?)?;
    staging.write("attribution.csv", &attribution::csv(&summary.attribution)?)?;

    // Charts. The CDF shows each deployment, the overall curve when there is
    // more than one deployment (and no classes are alternatives of each other),
    // and each class whose curve is not identical to
    // a deployment's (a class routed to one deployment that no other class
    // uses would hide under its twin).
    let twin = |c: usize| {
        let route = &sc.classes[c].route;
        route.len() == 1
            && sc
                .classes
                .iter()
                .filter(|k| k.route.contains(&route[0]))
                .count()
                == 1
    };
    let cdf_series: Vec<CdfSeries> = cdf
        .iter()
        .filter(|c| match c.scope {
            "overall" => sc.deployments.len() > 1 && sc.alternatives().is_empty(),
            "class" => {
                sc.classes.len() > 1
                    && sc
                        .classes
                        .iter()
                        .position(|k| k.name == c.name)
                        .is_some_and(|i| !twin(i))
            }
            _ => true,
        })
        .map(|c| CdfSeries {
            label: match c.scope {
                "overall" => "all requests".to_string(),
                "class" => format!("class {}", c.name),
                _ => c.name.clone(),
            },
            points: c.points.clone(),
        })
        .collect();
    // One SLA line when every class with an SLA shares its target.
    let mut targets: Vec<u64> = sc
        .classes
        .iter()
        .filter_map(|c| c.sla.map(|s| s.ttft_us))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let sla = (targets.len() == 1).then(|| targets[0] as f64 / 1000.0);
    staging.write(
        plots::ttft_cdf::FILE,
        &plots::ttft_cdf::png(
            &format!("{}: time to first token", sc.name),
            &cdf_series,
            sla,
        )?,
    )?;

    // The time-series charts take hourly values and draw them per hour, or
    // per day over long horizons; the titles name the same step.
    let hours = pooled.hours as usize;
    let step = plots::Bucket::for_horizon(hours).noun();
    let mut stacks = Vec::new();
    let mut utilization = Vec::new();
    // Series of deployment d: its cost stack, and its utilization if reserved.
    let mut of_deployment: Vec<(usize, bool)> = Vec::new();
    for (d, dep) in sc.deployments.iter().enumerate() {
        let of = |f: &dyn Fn(&tables::HourlyRow) -> f64| -> Vec<f64> {
            (0..hours)
                .map(|h| f(&rows[h * sc.deployments.len() + d]))
                .collect()
        };
        match dep.pool {
            Pool::Reserved(_) => {
                stacks.push(Series {
                    label: format!("{} (reserved)", dep.name),
                    values: of(&|r| r.cost_reserved),
                });
                utilization.push(Series {
                    label: format!("{} utilization", dep.name),
                    values: of(&|r| r.utilization.unwrap_or(0.0)),
                });
                of_deployment.push((d, true));
            }
            Pool::OnDemand(_) => {
                stacks.push(Series {
                    label: format!("{} (on-demand)", dep.name),
                    values: of(&|r| r.cost_on_demand),
                });
                of_deployment.push((d, false));
            }
        }
    }
    let hourly_png = match sc.alternatives().first() {
        // Alternatives of the same traffic are separate bills: one panel per
        // alternative with the deployments its class routes to, and one for
        // the deployments none of them uses.
        Some(group) => {
            let routes: Vec<(String, &[usize])> = group
                .iter()
                .filter_map(|name| sc.classes.iter().find(|c| c.name == *name))
                .map(|c| (format!("class {}", c.name), c.route.as_slice()))
                .collect();
            let rest: Vec<usize> = (0..sc.deployments.len())
                .filter(|d| routes.iter().all(|(_, r)| !r.contains(d)))
                .collect();
            let panel = |label: String, deps: &[usize]| {
                let mut p = plots::hourly_cost::CostPanel {
                    label: format!(
                        "{label}: {}",
                        deps.iter()
                            .map(|&d| sc.deployments[d].name.as_str())
                            .collect::<Vec<_>>()
                            .join(" + ")
                    ),
                    stacks: Vec::new(),
                    utilization: Vec::new(),
                };
                let (mut s, mut u) = (0, 0);
                for &(d, reserved) in &of_deployment {
                    if deps.contains(&d) {
                        p.stacks.push(stacks[s].clone());
                        if reserved {
                            p.utilization.push(utilization[u].clone());
                        }
                    }
                    s += 1;
                    u += usize::from(reserved);
                }
                p
            };
            let mut panels: Vec<_> = routes.iter().map(|(l, r)| panel(l.clone(), r)).collect();
            if !rest.is_empty() {
                panels.push(panel("other deployments".to_string(), &rest));
            }
            plots::hourly_cost::alternatives_png(
                &format!(
                    "{}: cost per simulated {step}, each alternative its own bill",
                    sc.name
                ),
                &panels,
            )?
        }
        None => plots::hourly_cost::png(
            &format!("{}: cost per simulated {step}", sc.name),
            &stacks,
            &utilization,
        )?,
    };
    staging.write(plots::hourly_cost::FILE, &hourly_png)?;

    let n = reps.len() as f64;
    let classes: Vec<Series> = sc
        .classes
        .iter()
        .enumerate()
        .map(|(c, class)| Series {
            label: class.name.clone(),
            values: (0..hours)
                .map(|h| pooled.arrivals_in(h, c) as f64 / n)
                .collect(),
        })
        .collect();
    staging.write(
        plots::traffic::FILE,
        &plots::traffic::png(
            &format!("{}: arrivals per simulated {step}", sc.name),
            &classes,
        )?,
    )?;

    let failover_chart = plots::failover::FailoverChart {
        shares: failover
            .platforms
            .iter()
            .enumerate()
            .map(|(i, p)| plots::failover::ShareSeries {
                label: p.clone(),
                values: failover.hours.iter().map(|h| h.shares[i]).collect(),
            })
            .collect(),
        error_rate: failover
            .hours
            .iter()
            .map(|h| {
                let done = h.served + h.failed;
                if done > 0.0 {
                    h.failed / done
                } else {
                    0.0
                }
            })
            .collect(),
        p99_ms: failover.hours.iter().map(|h| h.p99_ms).collect(),
        incident: failover.hours.iter().map(|h| h.incident).collect(),
        sla_ms: sla,
    };
    staging.write(
        plots::failover::FILE,
        &plots::failover::png(
            &format!(
                "{}: traffic per provider, failures and p99 TTFT per simulated {step}",
                sc.name
            ),
            &failover_chart,
        )?,
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
