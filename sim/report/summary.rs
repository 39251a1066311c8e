//! The headline numbers of a run, computed once from the metrics and shared by
//! `summary.json`, `report.md` and the terminal summary.
//!
//! Counts are means per replication (what one horizon of traffic gives);
//! percentiles, costs and utilization carry a 95% confidence interval over the
//! replications; "pooled" percentiles come from all replications' histograms
//! merged.

use serde::Serialize;

use crate::cost::{deployment_totals, reserved_utilization};
use crate::metrics::{ClassStats, Hist, MeanCi, RepMetrics, HIST_SIGFIG};
use crate::run::RunResults;
use crate::scenario::{Pool, Scenario};
use crate::theory::{mmc_prediction, MmcPrediction};

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub llmcap_version: String,
    pub scenario_name: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub replications: u32,
    pub horizon_hours: u32,
    pub threads: usize,
    pub ttft_histogram: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub manifest: Manifest,
    pub requests: Requests,
    /// TTFT of all served requests.
    pub ttft_ms: Vec<Percentile>,
    pub sla: Vec<SlaResult>,
    pub cost: Cost,
    pub reserved_utilization: Option<MeanCi>,
    pub classes: Vec<ClassSummary>,
    pub deployments: Vec<DeploymentSummary>,
}

/// Means per replication.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Requests {
    pub arrived: f64,
    pub served: f64,
    pub spilled: f64,
    pub throttled: f64,
    pub failed: f64,
    /// The part of `failed` never admitted: the client's timeout passed during
    /// a backoff.
    pub abandoned: f64,
    pub in_flight: f64,
    pub retries: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Percentile {
    pub percentile: f64,
    /// Mean over replications of each replication's percentile, with a 95% CI.
    pub replications: Option<MeanCi>,
    /// The percentile of all replications' requests together.
    pub pooled: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaResult {
    pub class: String,
    pub target_ms: f64,
    pub percentile: f64,
    /// The class's TTFT at the SLA percentile.
    pub ttft_at_percentile_ms: Option<MeanCi>,
    /// Share of arrived requests served within the target (throttled, failed
    /// and in-flight requests count as misses).
    pub attainment: Option<MeanCi>,
    /// Whether the pooled TTFT at the SLA percentile is within the target, with
    /// throttled and failed requests counted as over it.
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cost {
    pub total_usd: Option<MeanCi>,
    pub on_demand_usd: Option<MeanCi>,
    pub reserved_usd: Option<MeanCi>,
    /// Total cost / (input + output tokens of every admitted request, on-demand
    /// and reserved, timed-out ones included) x 1e6.
    pub per_1m_tokens_usd: Option<MeanCi>,
    /// Total cost / requests served x 1000.
    pub per_1k_requests_usd: Option<MeanCi>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassSummary {
    pub name: String,
    pub model: String,
    pub requests: Requests,
    pub ttft_ms: Vec<Percentile>,
    pub mean_input_tokens: Option<f64>,
    pub mean_output_tokens: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentSummary {
    pub name: String,
    pub platform: String,
    pub model: String,
    pub pool: &'static str,
    /// Means per replication.
    pub served: f64,
    pub rejected_429: f64,
    pub spilled_out: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub ttft_ms: Vec<Percentile>,
    pub cost_usd: Option<MeanCi>,
    pub reserved_utilization: Option<MeanCi>,
    /// Reserved pools: mean wait for a slot over admitted requests.
    pub mean_queue_wait_ms: Option<f64>,
    /// Reserved pools: share of admitted requests that waited at all.
    pub share_waited: Option<f64>,
    /// Reserved pools: mean number waiting, as seen by arriving requests.
    pub mean_queue_length_seen: Option<f64>,
    /// Reserved pools: requests still waiting for a slot at the horizon (mean
    /// per replication; counted in flight). Non-zero means the pool is overloaded.
    pub queued_at_horizon: f64,
    /// When the scenario makes this pool an M/M/c queue: what Erlang C predicts
    /// for the three quantities above.
    pub mmc_theory: Option<MmcPrediction>,
}

fn per_rep<T>(results: &RunResults, f: impl Fn(&RepMetrics) -> T) -> Vec<T> {
    results.replications.iter().map(f).collect()
}

/// Percentiles of a histogram chosen per replication by `pick`.
pub fn percentiles(
    sc: &Scenario,
    results: &RunResults,
    pooled: &Hist,
    pick: impl Fn(&RepMetrics) -> Hist,
) -> Vec<Percentile> {
    let hists = per_rep(results, pick);
    sc.percentiles
        .iter()
        .map(|&p| {
            let values: Vec<f64> = hists.iter().filter_map(|h| h.percentile_ms(p)).collect();
            Percentile {
                percentile: p,
                replications: MeanCi::of(&values),
                pooled: pooled.percentile_ms(p),
            }
        })
        .collect()
}

impl Requests {
    fn add(&mut self, c: &ClassStats, weight: f64) {
        self.arrived += c.arrived as f64 * weight;
        self.served += c.served as f64 * weight;
        self.spilled += c.spilled as f64 * weight;
        self.throttled += c.throttled as f64 * weight;
        self.failed += c.failed as f64 * weight;
        self.abandoned += c.abandoned as f64 * weight;
        self.in_flight += c.in_flight as f64 * weight;
        self.retries += c.retries as f64 * weight;
    }
}

/// Request counts per replication (mean) of the classes `which` selects.
fn requests_of(results: &RunResults, which: impl Fn(usize) -> bool) -> Requests {
    let weight = 1.0 / results.replications.len() as f64;
    let mut r = Requests::default();
    for m in &results.replications {
        for (_, c) in m.classes.iter().enumerate().filter(|(i, _)| which(*i)) {
            r.add(c, weight);
        }
    }
    r
}

/// Cost totals of one replication: (on-demand, reserved) summed over deployments.
fn rep_cost(sc: &Scenario, m: &RepMetrics) -> (f64, f64) {
    deployment_totals(sc, m)
        .iter()
        .fold((0.0, 0.0), |(o, r), c| (o + c.on_demand, r + c.reserved))
}

fn billed_tokens(m: &RepMetrics) -> u64 {
    m.deployments
        .iter()
        .map(|d| d.input_tokens + d.output_tokens)
        .sum()
}

/// Capacity-weighted mean utilization of all reserved deployments in one replication.
fn rep_reserved_utilization(sc: &Scenario, m: &RepMetrics) -> Option<f64> {
    let mut busy = 0.0;
    let mut capacity = 0.0;
    for (d, dep) in sc.deployments.iter().enumerate() {
        if let Pool::Reserved(r) = &dep.pool {
            busy += m.deployments[d].busy_us as f64;
            capacity += r.slots() as f64 * sc.horizon_us() as f64;
        }
    }
    (capacity > 0.0).then(|| busy / capacity)
}

impl Summary {
    pub fn build(sc: &Scenario, results: &RunResults, manifest: Manifest) -> Summary {
        let pooled = results.pooled();
        let overall_pooled = pooled.overall_ttft();
        let ci = |f: &dyn Fn(&RepMetrics) -> Option<f64>| {
            MeanCi::of(
                &results
                    .replications
                    .iter()
                    .filter_map(f)
                    .collect::<Vec<_>>(),
            )
        };

        let requests = requests_of(results, |_| true);

        let sla = sc
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, class)| {
                let s = class.sla?;
                let attainment = ci(&|m: &RepMetrics| {
                    let c = &m.classes[i];
                    (c.arrived > 0).then(|| c.within_sla as f64 / c.arrived as f64)
                });
                let at = ci(&|m: &RepMetrics| m.classes[i].ttft.percentile_ms(s.percentile));
                let c = &pooled.classes[i];
                let met = c.arrived > 0
                    && (c.within_sla as f64 / c.arrived as f64) * 100.0 >= s.percentile - 1e-9;
                Some(SlaResult {
                    class: class.name.clone(),
                    target_ms: s.ttft_us as f64 / 1000.0,
                    percentile: s.percentile,
                    ttft_at_percentile_ms: at,
                    attainment,
                    met,
                })
            })
            .collect();

        let cost = Cost {
            total_usd: ci(&|m| {
                let (o, r) = rep_cost(sc, m);
                Some(o + r)
            }),
            on_demand_usd: ci(&|m| Some(rep_cost(sc, m).0)),
            reserved_usd: ci(&|m| Some(rep_cost(sc, m).1)),
            per_1m_tokens_usd: ci(&|m| {
                let (o, r) = rep_cost(sc, m);
                let t = billed_tokens(m);
                (t > 0).then(|| (o + r) / t as f64 * 1e6)
            }),
            per_1k_requests_usd: ci(&|m| {
                let (o, r) = rep_cost(sc, m);
                let served: u64 = m.classes.iter().map(|c| c.served).sum();
                (served > 0).then(|| (o + r) / served as f64 * 1e3)
            }),
        };

        let classes = sc
            .classes
            .iter()
            .enumerate()
            .map(|(i, class)| {
                let c = &pooled.classes[i];
                ClassSummary {
                    name: class.name.clone(),
                    model: class.model.clone(),
                    requests: requests_of(results, |j| j == i),
                    ttft_ms: percentiles(sc, results, &c.ttft, |m| m.classes[i].ttft.clone()),
                    mean_input_tokens: (c.served > 0)
                        .then(|| c.input_tokens as f64 / c.served as f64),
                    mean_output_tokens: (c.served > 0)
                        .then(|| c.output_tokens as f64 / c.served as f64),
                }
            })
            .collect();

        let reps = results.replications.len() as f64;
        let deployments = sc
            .deployments
            .iter()
            .enumerate()
            .map(|(d, dep)| {
                let s = &pooled.deployments[d];
                let reserved = matches!(dep.pool, Pool::Reserved(_));
                let admitted = s.served as f64;
                DeploymentSummary {
                    name: dep.name.clone(),
                    platform: dep.platform.clone(),
                    model: dep.model.clone(),
                    pool: dep.pool.kind(),
                    served: s.served as f64 / reps,
                    rejected_429: s.rejected as f64 / reps,
                    spilled_out: s.spilled_out as f64 / reps,
                    input_tokens: s.input_tokens as f64 / reps,
                    output_tokens: s.output_tokens as f64 / reps,
                    ttft_ms: percentiles(sc, results, &s.ttft, |m| m.deployments[d].ttft.clone()),
                    cost_usd: ci(&|m| Some(deployment_totals(sc, m)[d].total())),
                    reserved_utilization: ci(&|m| reserved_utilization(sc, m, d)),
                    mean_queue_wait_ms: (reserved && admitted > 0.0)
                        .then(|| s.wait_sum_us as f64 / admitted / 1000.0),
                    share_waited: (reserved && admitted > 0.0).then(|| s.waited as f64 / admitted),
                    mean_queue_length_seen: (reserved && admitted > 0.0 && !s.queue_saturated)
                        .then(|| s.queue_seen_sum as f64 / admitted),
                    queued_at_horizon: s.queued_at_horizon as f64 / reps,
                    mmc_theory: mmc_prediction(sc, d),
                }
            })
            .collect();

        Summary {
            manifest,
            requests,
            ttft_ms: percentiles(sc, results, &overall_pooled, |m| m.overall_ttft()),
            sla,
            cost,
            reserved_utilization: ci(&|m| rep_reserved_utilization(sc, m)),
            classes,
            deployments,
        }
    }
}

/// Describes the histogram precision for the manifest.
pub fn histogram_precision() -> String {
    format!(
        "HdrHistogram, {HIST_SIGFIG} significant digits: each percentile is within {}% of a recorded value",
        100.0 / 10f64.powi(HIST_SIGFIG as i32)
    )
}
