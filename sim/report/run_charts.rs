//! The charts of a run: what each one shows, built from the run's tables.

use crate::domain::{Pool, Scenario};
use crate::error::OutputError;
use crate::model::metrics::Bins;

use super::plots::{self, hourly_cost::CostPanel, ttft_cdf::CdfSeries, Series, Step};
use super::tables::{CdfCurve, FailoverRows, HourlyRow};

/// The SLA line the TTFT charts draw: one line when every class with an SLA
/// shares its target (in ms), none otherwise.
pub fn sla_line(sc: &Scenario) -> Option<f64> {
    let mut targets: Vec<u64> = sc
        .classes
        .iter()
        .filter_map(|c| c.sla.map(|s| s.ttft_us))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    (targets.len() == 1).then(|| targets[0] as f64 / 1000.0)
}

/// The TTFT CDF shows each deployment, the overall curve when there is more
/// than one deployment (and no classes are alternatives of each other), and
/// each class whose curve is not identical to a deployment's (a class routed
/// to one deployment that no other class uses would hide under its twin).
pub fn ttft_cdf(sc: &Scenario, cdf: &[CdfCurve], sla: Option<f64>) -> Result<Vec<u8>, OutputError> {
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
    let series: Vec<CdfSeries> = cdf
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
    plots::ttft_cdf::png(&format!("{}: time to first token", sc.name), &series, sla)
}

/// One deployment's series in the cost chart: its cost stack, and its
/// utilization when it is reserved.
struct DeploymentSeries {
    deployment: usize,
    stack: Series,
    utilization: Option<Series>,
}

/// The cost chart's series of each deployment (a token-rate reservation's deployment has two).
fn deployment_series(sc: &Scenario, rows: &[HourlyRow], hours: usize) -> Vec<DeploymentSeries> {
    debug_assert_eq!(rows.len(), hours * sc.deployments.len());
    let n = sc.deployments.len();
    sc.deployments
        .iter()
        .enumerate()
        .flat_map(|(d, dep)| {
            let of = |f: &dyn Fn(&HourlyRow) -> f64| -> Vec<f64> {
                (0..hours).map(|h| f(&rows[h * n + d])).collect()
            };
            let stack = |what: &str, values: Vec<f64>| DeploymentSeries {
                deployment: d,
                stack: Series {
                    label: format!("{} ({what})", dep.name),
                    values,
                },
                utilization: None,
            };
            match &dep.pool {
                Pool::Reserved(_) => vec![DeploymentSeries {
                    utilization: Some(Series {
                        label: format!("{} utilization", dep.name),
                        values: of(&|r| r.utilization.unwrap_or(0.0)),
                    }),
                    ..stack("reserved", of(&|r| r.cost_reserved))
                }],
                // A token-rate reservation is billed every hour beside the overflow at list
                // price: two layers, so the commitment is seen when nothing overflows.
                Pool::OnDemand(o) if o.reserved_rate.is_some() => vec![
                    stack("token-rate reservation", of(&|r| r.cost_reserved)),
                    stack("overflow, on-demand", of(&|r| r.cost_on_demand)),
                ],
                Pool::OnDemand(_) => vec![stack("on-demand", of(&|r| r.cost_on_demand))],
            }
        })
        .collect()
}

/// Alternatives of the same traffic are separate bills: one panel per
/// alternative with the deployments its class routes to, and one for the
/// deployments none of them uses.
fn alternative_panels(
    sc: &Scenario,
    group: &[&str],
    series: &[DeploymentSeries],
) -> Vec<CostPanel> {
    let routes: Vec<(String, &[usize])> = group
        .iter()
        .filter_map(|name| sc.classes.iter().find(|c| c.name == *name))
        .map(|c| (format!("class {}", c.name), c.route.as_slice()))
        .collect();
    let rest: Vec<usize> = (0..sc.deployments.len())
        .filter(|d| routes.iter().all(|(_, r)| !r.contains(d)))
        .collect();
    let panel = |label: &str, deps: &[usize]| {
        let names: Vec<&str> = deps
            .iter()
            .map(|&d| sc.deployments[d].name.as_str())
            .collect();
        let mine = series.iter().filter(|s| deps.contains(&s.deployment));
        CostPanel {
            label: format!("{label}: {}", names.join(" + ")),
            stacks: mine.clone().map(|s| s.stack.clone()).collect(),
            utilization: mine.filter_map(|s| s.utilization.clone()).collect(),
        }
    };
    let mut panels: Vec<CostPanel> = routes.iter().map(|(l, r)| panel(l, r)).collect();
    if !rest.is_empty() {
        panels.push(panel("other deployments", &rest));
    }
    panels
}

/// The panels of the cost chart: one per alternative (see [`alternative_panels`]), or one
/// with every deployment. `rows` hold `bins` bins (hours, or minutes of a short run) of
/// every deployment ([`super::tables::bin_rows`]); each stack has one value per bin.
pub fn cost_panels(sc: &Scenario, rows: &[HourlyRow], bins: usize) -> Vec<CostPanel> {
    let series = deployment_series(sc, rows, bins);
    match sc.alternatives().first() {
        Some(group) => alternative_panels(sc, group, &series),
        None => vec![CostPanel {
            label: String::new(),
            stacks: series.iter().map(|s| s.stack.clone()).collect(),
            utilization: series
                .iter()
                .filter_map(|s| s.utilization.clone())
                .collect(),
        }],
    }
}

/// Cost per simulated step, stacked by deployment, with reserved utilization.
/// `step` is what one of the `bins` rows covers; `noun` names the step the chart draws.
pub fn hourly_cost(
    sc: &Scenario,
    rows: &[HourlyRow],
    bins: usize,
    step: Step,
    noun: &str,
) -> Result<Vec<u8>, OutputError> {
    let title = match sc.alternatives().first() {
        Some(_) => format!(
            "{}: cost per simulated {noun}, each alternative its own bill",
            sc.name
        ),
        None => format!("{}: cost per simulated {noun}", sc.name),
    };
    plots::hourly_cost::alternatives_png(&title, step, &cost_panels(sc, rows, bins))
}

/// Arrivals per simulated step, one line per class (mean over replications), from the
/// bins of `step`.
pub fn traffic(
    sc: &Scenario,
    bins: &Bins,
    step: Step,
    replications: usize,
    noun: &str,
) -> Result<Vec<u8>, OutputError> {
    let n = replications as f64;
    let nc = sc.classes.len();
    let classes: Vec<Series> = sc
        .classes
        .iter()
        .enumerate()
        .map(|(c, class)| Series {
            label: class.name.clone(),
            values: (0..bins.count)
                .map(|h| bins.arrivals[h * nc + c] as f64 / n)
                .collect(),
        })
        .collect();
    plots::traffic::png_at(
        &format!("{}: arrivals per simulated {noun}", sc.name),
        step,
        &classes,
    )
}

/// Traffic share per provider, failure rate, p99 TTFT and incident hours.
pub fn failover(
    sc: &Scenario,
    failover: &FailoverRows,
    sla: Option<f64>,
    step: Step,
    noun: &str,
) -> Result<Vec<u8>, OutputError> {
    let chart = plots::failover::FailoverChart {
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
        step,
    };
    plots::failover::png(
        &format!(
            "{}: traffic per provider, failures and p99 TTFT per simulated {noun}",
            sc.name
        ),
        &chart,
    )
}
