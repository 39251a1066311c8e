//! The headline numbers of a run, computed once from the metrics and shared by
//! `summary.json`, `report.md` and the terminal summary.
//!
//! Counts are means per replication (what one horizon of traffic gives);
//! percentiles, costs and utilization carry a 95% confidence interval over the
//! replications; "pooled" percentiles come from all replications' histograms
//! merged.

use serde::Serialize;

use crate::analysis::attribution::{attribution, AttributionRow};
use crate::analysis::cost::{deployment_totals, reserved_utilization};
use crate::analysis::theory::{mmc_prediction, MmcPrediction};
use crate::domain::{Pool, Scenario};
use crate::input::catalog::Catalog;
use crate::model::metrics::{ClassStats, Hist, MeanCi, RepMetrics, HIST_SIGFIG};

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub llmcap_version: String,
    pub scenario_name: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub replications: u32,
    pub horizon_hours: u32,
    /// The date of simulated hour 0 (`YYYY-MM-DD`, UTC) when the outputs are
    /// dated (focus.csv of a run); `diff` reads it to place focus.csv's rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    pub threads: usize,
    pub ttft_histogram: String,
    /// The number of shards merged into these outputs (`llmcap merge`); absent when one
    /// process computed them. With it, `threads` is the most threads a shard ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
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
    /// Availability, incidents and what redundancy costs and saves.
    pub resilience: Resilience,
    /// Per platform and tag dimension: cost attributable natively, with a
    /// gateway, and not at all (the rows of `attribution.csv`).
    pub attribution: Vec<AttributionRow>,
    /// Deferrable classes on batch deployments (absent without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<crate::report::batch::BatchSummary>,
}

/// What outages did and what the failover saved.
#[derive(Debug, Clone, Serialize)]
pub struct Resilience {
    /// Served / arrived, per replication.
    pub availability: Option<MeanCi>,
    /// Hours with at least one outage active, mean per replication.
    pub incident_hours: f64,
    /// TTFT of requests that arrived during an outage / outside any.
    pub ttft_in_incident_ms: Vec<Percentile>,
    pub ttft_outside_incident_ms: Vec<Percentile>,
    /// Requests served by a fallback after an error or a cooldown elsewhere
    /// (mean per replication): failures the redundancy prevented.
    pub rescued: f64,
    /// What those requests cost on the deployments that served them (on-demand
    /// prices; reserved capacity, and a token-rate reservation's covered requests, count 0:
    /// they are paid for anyway), mean per replication.
    pub rescued_cost_usd: f64,
    /// Reserved deployments that are never first on a route (standby
    /// capacity) and what they cost, mean per replication.
    pub standby: Vec<String>,
    pub standby_reserved_usd: f64,
    /// Share of served requests per platform.
    pub platform_share: Vec<(String, f64)>,
    pub outages: Vec<OutageSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutageSummary {
    pub name: String,
    pub deployments: Vec<String>,
    pub schedule: String,
    pub effect: String,
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
    /// Given up after errors (outages, deployments in cooldown) rather than 429s.
    pub errored: f64,
    /// Served by a fallback after an error or a cooldown elsewhere.
    pub rescued: f64,
    /// Unusable trace rows skipped (classes replaying a trace with bad_rows = "skip").
    pub trace_rows_skipped: f64,
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
    /// The part of `on_demand_usd` paid for input tokens read from or written to the prompt
    /// cache (0 without prompt caching).
    pub cached_input_usd: Option<MeanCi>,
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
    /// Attempts answered with an error (full outage), mean per replication.
    pub errors: f64,
    /// Attempts that skipped it while the gateway had it in cooldown.
    pub skipped_cooldown: f64,
    /// Times the gateway put it in cooldown.
    pub cooldowns: f64,
    /// Requests it served after an error or cooldown elsewhere.
    pub rescued: f64,
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
    /// Reserved pools: seconds of work the requests queued at the horizon hold,
    /// at full capacity (queued x mean service time / slots). A backlog of
    /// minutes or more means the pool is overloaded, not just busy.
    pub backlog_at_horizon_s: Option<f64>,
    /// When the scenario makes this pool an M/M/c queue: what Erlang C predicts
    /// for the three quantities above.
    pub mmc_theory: Option<MmcPrediction>,
    /// A token-rate reservation on this on-demand deployment: its commitment, the overflow
    /// billed at list price, and how much of it was used; null without one.
    pub reserved_rate: Option<RateSummary>,
}

/// A deployment's token-rate reservation over the run (`[deployment.reserved_rate]`), means
/// per replication. `commitment_usd + overflow_usd` is the deployment's `cost_usd`.
#[derive(Debug, Clone, Serialize)]
pub struct RateSummary {
    /// "tokens" (input and output TPM) or "spend" (USD per minute).
    pub measure: &'static str,
    pub term: String,
    pub input_tpm: Option<f64>,
    pub output_tpm: Option<f64>,
    pub usd_per_minute: Option<f64>,
    /// Paid every hour whether used or not.
    pub commitment_usd: f64,
    /// The requests beyond the reservation, at list (on-demand) prices.
    pub overflow_usd: f64,
    pub covered_requests: f64,
    pub overflow_requests: f64,
    /// Input tokens counted against an input reservation (uncached + cache writes), and output
    /// tokens, of the covered requests.
    pub covered_input_tokens: f64,
    pub covered_output_tokens: f64,
    /// What was covered / what was reserved over the horizon, per side (null for a side not
    /// reserved).
    pub utilization_input: Option<f64>,
    pub utilization_output: Option<f64>,
    pub utilization_spend: Option<f64>,
}

/// The token-rate reservation of deployment `d`, from the metrics pooled over `n` replications.
fn rate_summary(sc: &Scenario, pooled: &RepMetrics, n: f64, d: usize) -> Option<RateSummary> {
    let dep = &sc.deployments[d];
    let Pool::OnDemand(o) = &dep.pool else {
        return None;
    };
    let r = o.reserved_rate.as_ref()?;
    let s = &pooled.deployments[d];
    let hours = pooled.hours;
    let totals = deployment_totals(sc, pooled)[d];
    let u = crate::analysis::cost::rate_utilization(dep, hours, |h| pooled.hour_cell(h, d).covered)
        .unwrap_or_default();
    let (input_tpm, output_tpm, usd_per_minute) = match r.measure {
        crate::domain::RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        } => (Some(input_tpm), Some(output_tpm), None),
        crate::domain::RateMeasure::Spend { usd_per_minute } => (None, None, Some(usd_per_minute)),
    };
    let c = s.covered.tokens();
    Some(RateSummary {
        measure: r.measure.kind(),
        term: r.term.clone(),
        input_tpm,
        output_tpm,
        usd_per_minute,
        commitment_usd: crate::analysis::cost::rate_commitment_cost(dep, hours),
        overflow_usd: totals.on_demand / n,
        covered_requests: s.covered.requests as f64 / n,
        overflow_requests: (s.served - s.covered.requests) as f64 / n,
        covered_input_tokens: (c.input - c.cached) as f64 / n,
        covered_output_tokens: c.output as f64 / n,
        utilization_input: u.input.map(|x| x / n),
        utilization_output: u.output.map(|x| x / n),
        utilization_spend: u.spend.map(|x| x / n),
    })
}

/// What the summary needs from one replication: a few numbers per class and
/// deployment, no histograms, so memory does not grow with replications.
#[derive(Debug, Clone)]
pub struct RepDigest {
    classes: Vec<ClassDigest>,
    deployments: Vec<DeploymentDigest>,
    /// Overall TTFT at the scenario's percentiles.
    overall_ttft: Vec<Option<f64>>,
    on_demand_usd: f64,
    cached_input_usd: f64,
    reserved_usd: f64,
    billed_tokens: u64,
    served: u64,
    reserved_utilization: Option<f64>,
}

#[derive(Debug, Clone)]
struct ClassDigest {
    requests: Requests,
    within_sla: u64,
    ttft: Vec<Option<f64>>,
    /// TTFT at the class's SLA percentile.
    sla_ttft: Option<f64>,
}

#[derive(Debug, Clone)]
struct DeploymentDigest {
    ttft: Vec<Option<f64>>,
    cost_usd: f64,
    utilization: Option<f64>,
}

fn at_percentiles(sc: &Scenario, h: &Hist) -> Vec<Option<f64>> {
    sc.percentiles.iter().map(|&p| h.percentile_ms(p)).collect()
}

impl RepDigest {
    pub fn of(sc: &Scenario, m: &RepMetrics) -> RepDigest {
        let costs = deployment_totals(sc, m);
        let mut busy = 0.0;
        let mut capacity = 0.0;
        for (d, dep) in sc.deployments.iter().enumerate() {
            if let Pool::Reserved(r) = &dep.pool {
                busy += m.deployments[d].busy_us as f64;
                capacity += r.slots() as f64 * sc.horizon_us() as f64;
            }
        }
        RepDigest {
            classes: sc
                .classes
                .iter()
                .zip(&m.classes)
                .map(|(class, c)| ClassDigest {
                    requests: Requests::of(c),
                    within_sla: c.within_sla,
                    ttft: at_percentiles(sc, &c.ttft),
                    sla_ttft: class.sla.and_then(|s| c.ttft.percentile_ms(s.percentile)),
                })
                .collect(),
            deployments: (0..sc.deployments.len())
                .map(|d| DeploymentDigest {
                    ttft: at_percentiles(sc, &m.deployments[d].ttft),
                    cost_usd: costs[d].total(),
                    utilization: reserved_utilization(sc, m, d),
                })
                .collect(),
            overall_ttft: at_percentiles(sc, &m.overall_ttft()),
            on_demand_usd: costs.iter().map(|c| c.on_demand).sum(),
            cached_input_usd: costs.iter().map(|c| c.cached).sum(),
            reserved_usd: costs.iter().map(|c| c.reserved).sum(),
            billed_tokens: m
                .deployments
                .iter()
                .map(|d| d.input_tokens + d.output_tokens)
                .sum(),
            served: m.classes.iter().map(|c| c.served).sum(),
            reserved_utilization: (capacity > 0.0).then(|| busy / capacity),
        }
    }

    fn total_usd(&self) -> f64 {
        self.on_demand_usd + self.reserved_usd
    }
}

/// Percentiles: per replication (mean and CI of `pick`) and pooled.
fn percentiles(
    sc: &Scenario,
    reps: &[RepDigest],
    pooled: &Hist,
    pick: impl Fn(&RepDigest) -> &Vec<Option<f64>>,
) -> Vec<Percentile> {
    sc.percentiles
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let values: Vec<f64> = reps.iter().filter_map(|r| pick(r)[i]).collect();
            Percentile {
                percentile: p,
                replications: MeanCi::of(&values),
                pooled: pooled.percentile_ms(p),
            }
        })
        .collect()
}

impl Requests {
    fn of(c: &ClassStats) -> Requests {
        Requests {
            arrived: c.arrived as f64,
            served: c.served as f64,
            spilled: c.spilled as f64,
            throttled: c.throttled as f64,
            failed: c.failed as f64,
            abandoned: c.abandoned as f64,
            in_flight: c.in_flight as f64,
            retries: c.retries as f64,
            errored: c.errored as f64,
            rescued: c.rescued as f64,
            trace_rows_skipped: c.trace_skipped as f64,
        }
    }

    /// Applies `f` to every count.
    fn map(self, f: impl Fn(f64, f64) -> f64, o: &Requests) -> Requests {
        Requests {
            arrived: f(self.arrived, o.arrived),
            served: f(self.served, o.served),
            spilled: f(self.spilled, o.spilled),
            throttled: f(self.throttled, o.throttled),
            failed: f(self.failed, o.failed),
            abandoned: f(self.abandoned, o.abandoned),
            in_flight: f(self.in_flight, o.in_flight),
            retries: f(self.retries, o.retries),
            errored: f(self.errored, o.errored),
            rescued: f(self.rescued, o.rescued),
            trace_rows_skipped: f(self.trace_rows_skipped, o.trace_rows_skipped),
        }
    }
}

/// Request counts per replication (mean) of the classes `which` selects. The
/// sums are of whole numbers (exact), divided once.
fn requests_of(reps: &[RepDigest], which: impl Fn(usize) -> bool) -> Requests {
    let n = reps.len() as f64;
    let total = reps
        .iter()
        .flat_map(|rep| rep.classes.iter().enumerate())
        .filter(|(i, _)| which(*i))
        .fold(Requests::default(), |acc, (_, c)| {
            acc.map(|a, b| a + b, &c.requests)
        });
    total.map(|a, _| a / n, &Requests::default())
}

impl Summary {
    /// `pooled` holds all replications added together; `reps` one digest per
    /// replication, in replication order.
    pub fn build(
        sc: &Scenario,
        pooled: &RepMetrics,
        reps: &[RepDigest],
        manifest: Manifest,
    ) -> Summary {
        // Costs and times: t intervals over replications, never below 0.
        let ci = |f: &dyn Fn(&RepDigest) -> Option<f64>| {
            MeanCi::within(
                &reps.iter().filter_map(f).collect::<Vec<_>>(),
                0.0,
                f64::INFINITY,
            )
        };
        let share = |f: &dyn Fn(&RepDigest) -> Option<f64>| {
            MeanCi::within(&reps.iter().filter_map(f).collect::<Vec<_>>(), 0.0, 1.0)
        };

        let sla = sc
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, class)| {
                let s = class.sla?;
                let c = &pooled.classes[i];
                let met = c.arrived > 0
                    && (c.within_sla as f64 / c.arrived as f64) * 100.0 >= s.percentile - 1e-9;
                Some(SlaResult {
                    class: class.name.clone(),
                    target_ms: s.ttft_us as f64 / 1000.0,
                    percentile: s.percentile,
                    ttft_at_percentile_ms: ci(&|r| r.classes[i].sla_ttft),
                    attainment: MeanCi::wilson(
                        &reps
                            .iter()
                            .map(|r| {
                                let c = &r.classes[i];
                                (c.within_sla as f64, c.requests.arrived)
                            })
                            .collect::<Vec<_>>(),
                    ),
                    met,
                })
            })
            .collect();

        let cost = Cost {
            total_usd: ci(&|r| Some(r.total_usd())),
            on_demand_usd: ci(&|r| Some(r.on_demand_usd)),
            cached_input_usd: ci(&|r| Some(r.cached_input_usd)),
            reserved_usd: ci(&|r| Some(r.reserved_usd)),
            per_1m_tokens_usd: ci(&|r| {
                (r.billed_tokens > 0).then(|| r.total_usd() / r.billed_tokens as f64 * 1e6)
            }),
            per_1k_requests_usd: ci(&|r| {
                (r.served > 0).then(|| r.total_usd() / r.served as f64 * 1e3)
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
                    requests: requests_of(reps, |j| j == i),
                    ttft_ms: percentiles(sc, reps, &c.ttft, |r| &r.classes[i].ttft),
                    mean_input_tokens: (c.served > 0)
                        .then(|| c.input_tokens as f64 / c.served as f64),
                    mean_output_tokens: (c.served > 0)
                        .then(|| c.output_tokens as f64 / c.served as f64),
                }
            })
            .collect();

        let n = reps.len() as f64;
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
                    served: s.served as f64 / n,
                    rejected_429: s.rejected as f64 / n,
                    spilled_out: s.spilled_out as f64 / n,
                    errors: s.errors as f64 / n,
                    skipped_cooldown: s.skipped_cooldown as f64 / n,
                    cooldowns: s.cooldowns as f64 / n,
                    rescued: s.rescued as f64 / n,
                    input_tokens: s.input_tokens as f64 / n,
                    output_tokens: s.output_tokens as f64 / n,
                    ttft_ms: percentiles(sc, reps, &s.ttft, |r| &r.deployments[d].ttft),
                    cost_usd: ci(&|r| Some(r.deployments[d].cost_usd)),
                    reserved_utilization: share(&|r| r.deployments[d].utilization),
                    mean_queue_wait_ms: (reserved && admitted > 0.0)
                        .then(|| s.wait_sum_us as f64 / admitted / 1000.0),
                    share_waited: (reserved && admitted > 0.0).then(|| s.waited as f64 / admitted),
                    mean_queue_length_seen: (reserved && admitted > 0.0 && !s.queue_saturated)
                        .then(|| s.queue_seen_sum as f64 / admitted),
                    queued_at_horizon: s.queued_at_horizon as f64 / n,
                    backlog_at_horizon_s: match &dep.pool {
                        Pool::Reserved(r) if admitted > 0.0 => Some(
                            s.queued_at_horizon as f64 / n * (s.busy_us as f64 / admitted)
                                / r.slots() as f64
                                / 1e6,
                        ),
                        _ => None,
                    },
                    mmc_theory: mmc_prediction(sc, d),
                    reserved_rate: rate_summary(sc, pooled, n, d),
                }
            })
            .collect();

        let resilience = resilience(sc, pooled, reps);
        Summary {
            manifest,
            resilience,
            attribution: attribution(sc, pooled, reps.len(), Catalog::shipped()),
            requests: requests_of(reps, |_| true),
            ttft_ms: percentiles(sc, reps, &pooled.overall_ttft(), |r| &r.overall_ttft),
            sla,
            cost,
            reserved_utilization: share(&|r| r.reserved_utilization),
            classes,
            deployments,
            batch: None,
        }
    }
}

fn pooled_percentiles(sc: &Scenario, h: &Hist) -> Vec<Percentile> {
    sc.percentiles
        .iter()
        .map(|&p| Percentile {
            percentile: p,
            replications: None,
            pooled: h.percentile_ms(p),
        })
        .collect()
}

fn resilience(sc: &Scenario, pooled: &RepMetrics, reps: &[RepDigest]) -> Resilience {
    use crate::domain::{OutageEffect, OutageSchedule};
    let n = reps.len().max(1) as f64;
    let availability = MeanCi::wilson(
        &reps
            .iter()
            .map(|r| {
                let arrived: f64 = r.classes.iter().map(|c| c.requests.arrived).sum();
                (r.served as f64, arrived)
            })
            .collect::<Vec<_>>(),
    );
    let incident_hours = pooled.incident_us.iter().sum::<u64>() as f64 / 3.6e9 / n;
    let (inside, outside) = if sc.outages.is_empty() {
        (Hist::default(), pooled.overall_ttft())
    } else {
        (pooled.ttft_incident.clone(), pooled.ttft_normal.clone())
    };
    let rescued_cost_usd = sc
        .deployments
        .iter()
        .zip(&pooled.deployments)
        .map(|(d, s)| {
            // Rescued tokens are not split by cache (priced as uncached input); a deployment
            // whose prices change has them by the prices they were served at.
            let cost = |pool: &Pool, [input, output]: [u64; 2]| match pool {
                Pool::OnDemand(o) => o.cost(&crate::domain::Tokens {
                    input,
                    output,
                    ..Default::default()
                }),
                Pool::Reserved(_) => 0.0,
            };
            if s.rescued_by_prices.is_empty() {
                return cost(&d.pool, [s.rescued_input_tokens, s.rescued_output_tokens]);
            }
            let pools = std::iter::once(&d.pool).chain(d.price_changes.iter().map(|c| &c.pool));
            pools
                .zip(&s.rescued_by_prices)
                .map(|(pool, t)| cost(pool, *t))
                .sum::<f64>()
        })
        .sum::<f64>()
        / n;
    let standby_idx: Vec<usize> = (0..sc.deployments.len())
        .filter(|&d| {
            matches!(sc.deployments[d].pool, Pool::Reserved(_))
                && sc.classes.iter().all(|c| c.route.first() != Some(&d))
                && sc.classes.iter().any(|c| c.route.contains(&d))
        })
        .collect();
    // fold from +0.0: an empty f64 sum is -0.0, which JSON would show.
    let standby_reserved_usd = standby_idx
        .iter()
        .map(|&d| crate::analysis::cost::reserved_cost(&sc.deployments[d], sc.horizon_hours))
        .fold(0.0, |a, b| a + b);
    let served: u64 = pooled.deployments.iter().map(|d| d.served).sum();
    let mut platform_share: Vec<(String, f64)> = Vec::new();
    for (d, dep) in sc.deployments.iter().enumerate() {
        let share = if served > 0 {
            pooled.deployments[d].served as f64 / served as f64
        } else {
            0.0
        };
        match platform_share.iter_mut().find(|(p, _)| *p == dep.platform) {
            Some((_, s)) => *s += share,
            None => platform_share.push((dep.platform.clone(), share)),
        }
    }
    Resilience {
        availability,
        incident_hours,
        ttft_in_incident_ms: pooled_percentiles(sc, &inside),
        ttft_outside_incident_ms: pooled_percentiles(sc, &outside),
        rescued: pooled.classes.iter().map(|c| c.rescued).sum::<u64>() as f64 / n,
        rescued_cost_usd,
        standby: standby_idx
            .iter()
            .map(|&d| sc.deployments[d].name.clone())
            .collect(),
        standby_reserved_usd,
        platform_share,
        outages: sc
            .outages
            .iter()
            .map(|o| OutageSummary {
                name: o.name.clone(),
                deployments: o
                    .deployments
                    .iter()
                    .map(|&d| sc.deployments[d].name.clone())
                    .collect(),
                schedule: match o.schedule {
                    OutageSchedule::Window { start_us, end_us } => format!(
                        "from hour {} for {} h",
                        start_us as f64 / 3.6e9,
                        (end_us - start_us) as f64 / 3.6e9
                    ),
                    OutageSchedule::Random { mtbf_us, mttr_us } => format!(
                        "random: MTBF {} h, MTTR {} h",
                        mtbf_us / 3.6e9,
                        mttr_us / 3.6e9
                    ),
                },
                effect: match o.effect {
                    OutageEffect::Full => "full (errors)".into(),
                    OutageEffect::Partial {
                        latency_factor,
                        error_rate,
                    } => format!(
                        "partial: TTFT x{latency_factor}, {:.0}% of requests 429",
                        error_rate * 100.0
                    ),
                },
            })
            .collect(),
    }
}

/// Describes the histogram precision for the manifest.
pub fn histogram_precision() -> String {
    format!(
        "HdrHistogram, {HIST_SIGFIG} significant digits: each percentile is within {}% of a recorded value",
        100.0 / 10f64.powi(HIST_SIGFIG as i32)
    )
}
