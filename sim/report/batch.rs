//! The batch part of a run's outputs: summary.json's `batch` key and report.md's batch
//! section (hourly.csv and focus.csv rows are written by `tables` and `focus`). Absent
//! without deferrable classes, so those runs' outputs do not change.

use serde::Serialize;

use crate::analysis::batch::BatchResults;
use crate::domain::time::US_PER_HOUR;
use crate::domain::Scenario;
use crate::format::{count, grouped, percent, usd_cents};

/// summary.json `batch`: means per replication, like every other number there.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// USD at batch prices, every deferrable class.
    pub cost_usd: f64,
    /// `cost.total_usd.mean` (interactive classes) plus `cost_usd`: the whole bill.
    pub bill_total_usd: Option<f64>,
    pub classes: Vec<BatchClassSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchClassSummary {
    pub name: String,
    pub deployment: String,
    pub platform: String,
    pub model: String,
    pub completion_window_hours: f64,
    /// A job still running at the window's end expires (not billed).
    pub expires: bool,
    /// The class's completion-time target from arrival (the window unless given).
    pub completion_sla_hours: f64,
    pub requests: f64,
    pub completed: f64,
    /// Of `completed`: finished by a job that expired, returned at the window's end.
    pub partial: f64,
    /// In an expired job and not finished by then: not billed.
    pub expired: f64,
    /// Requests larger than the enqueued-token limit: no job can hold them.
    pub refused: f64,
    /// Not submitted, or in a job still running, when the horizon ends.
    pub unfinished: f64,
    pub jobs: f64,
    /// Jobs that waited for the enqueued-token limit before starting.
    pub jobs_waited: f64,
    /// Completed within `completion_sla_hours`, as a share of the requests.
    pub within_sla_share: Option<f64>,
    /// Completion time (arrival to results) of completed requests, hours.
    pub completion_p50_hours: Option<f64>,
    pub completion_p90_hours: Option<f64>,
    pub completion_p99_hours: Option<f64>,
    pub cost_usd: f64,
    /// The on-demand deployment of the same model whose prices the same tokens are compared at.
    pub on_demand_alternative: Option<String>,
    pub on_demand_usd: Option<f64>,
}

/// summary.json's `batch`, or None without deferrable classes.
pub fn summary(sc: &Scenario, b: &BatchResults, total_usd: Option<f64>) -> Option<BatchSummary> {
    if b.is_empty() {
        return None;
    }
    let reps = b.replications.max(1) as f64;
    let hours = |ms: Option<f64>| ms.map(|v| v / 3.6e6);
    let classes: Vec<BatchClassSummary> = (b.classes.iter().enumerate())
        .map(|(c, s)| {
            let k = &sc.batch_classes[c];
            let d = &sc.batch_deployments[k.deployment];
            BatchClassSummary {
                name: k.name.clone(),
                deployment: d.name.clone(),
                platform: d.platform.clone(),
                model: d.model.clone(),
                completion_window_hours: d.window_us as f64 / US_PER_HOUR as f64,
                expires: d.expires,
                completion_sla_hours: k.completion_sla_us as f64 / US_PER_HOUR as f64,
                requests: s.arrived as f64 / reps,
                completed: s.completed as f64 / reps,
                partial: s.partial as f64 / reps,
                expired: s.expired as f64 / reps,
                refused: s.refused as f64 / reps,
                unfinished: s.unfinished as f64 / reps,
                jobs: s.jobs as f64 / reps,
                jobs_waited: s.jobs_waited as f64 / reps,
                within_sla_share: (s.arrived > 0).then(|| s.met_sla as f64 / s.arrived as f64),
                completion_p50_hours: hours(s.completion.percentile_ms(50.0)),
                completion_p90_hours: hours(s.completion.percentile_ms(90.0)),
                completion_p99_hours: hours(s.completion.percentile_ms(99.0)),
                cost_usd: s.cost_usd / reps,
                on_demand_alternative: k
                    .on_demand_alternative
                    .map(|a| sc.deployments[a].name.clone()),
                on_demand_usd: k.on_demand_alternative.map(|_| s.on_demand_usd / reps),
            }
        })
        .collect();
    let cost_usd = b.cost_per_replication();
    Some(BatchSummary {
        cost_usd,
        bill_total_usd: total_usd.map(|t| t + cost_usd),
        classes,
    })
}

/// The completed requests, and how many of them came back from expired jobs.
fn completed(c: &BatchClassSummary) -> String {
    if c.partial > 0.0 {
        format!(
            "{} ({} of them from expired jobs)",
            grouped(c.completed, 0),
            grouped(c.partial, 0)
        )
    } else {
        grouped(c.completed, 0)
    }
}

/// report.md's batch section.
pub fn section(o: &mut String, b: &BatchSummary) {
    let h = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{} h", grouped(v, 2)));
    o.push_str("\n## Batch: deferrable classes\n\n");
    o.push_str("Deferrable classes go to batch deployments: their requests are gathered into jobs, each done within the vendor's completion window at batch prices, or expired where the vendor expires jobs: an expired job returns the requests it had finished (billed; \"of them from expired jobs\" below) and the rest are not billed (docs/model.md, section 10.2). Completion time runs from a request's arrival to its job's results. Means per replication; hourly.csv books batch cost in the hour the job completed (rows with pool `batch`).\n\n");
    o.push_str("| class | batch deployment | window | target | requests | completed | expired | unfinished at horizon | completion p50 / p90 / p99 | within target |\n");
    o.push_str("|---|---|---|---|---:|---:|---:|---:|---|---:|\n");
    for c in &b.classes {
        o.push_str(&format!(
            "| {} | {} ({}) | {} h{} | {} h | {} | {} | {} | {} | {} / {} / {} | {} |\n",
            c.name,
            c.deployment,
            c.platform,
            grouped(c.completion_window_hours, 0),
            if c.expires {
                ", expires"
            } else {
                ", not expired"
            },
            grouped(c.completion_sla_hours, 2),
            grouped(c.requests, 0),
            completed(c),
            grouped(c.expired, 0),
            grouped(c.unfinished, 0),
            h(c.completion_p50_hours),
            h(c.completion_p90_hours),
            h(c.completion_p99_hours),
            c.within_sla_share.map_or("-".into(), |s| percent(s, 1)),
        ));
    }
    o.push_str("\n| class | cost at batch prices | same tokens on demand | saving |\n|---|---:|---:|---:|\n");
    for c in &b.classes {
        let (alt, saving) = match (&c.on_demand_alternative, c.on_demand_usd) {
            (Some(name), Some(v)) => (
                format!("{} ({name})", usd_cents(v)),
                if v > 0.0 {
                    format!(
                        "{} ({})",
                        usd_cents(v - c.cost_usd),
                        percent(1.0 - c.cost_usd / v, 1)
                    )
                } else {
                    "-".into()
                },
            ),
            _ => ("no on-demand deployment of this model".into(), "-".into()),
        };
        o.push_str(&format!(
            "| {} | {} | {alt} | {saving} |\n",
            c.name,
            usd_cents(c.cost_usd)
        ));
    }
    o.push_str(&format!(
        "\nBatch bill: {} per replication{}.\n\n",
        usd_cents(b.cost_usd),
        b.bill_total_usd.map_or(String::new(), |t| format!(
            "; with the interactive classes' {} the whole bill is {}",
            usd_cents(t - b.cost_usd),
            usd_cents(t)
        ))
    ));
}

/// The deferrable classes beside a command that sizes the online deployments (`plan`, `sweep`,
/// `frontier`): batch deployments share no capacity with online ones, so every configuration
/// such a command tries leaves the batch jobs as they are. Their bill is one number beside
/// every configuration's, not part of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchAside {
    /// USD at batch prices per replication of the horizon, every deferrable class.
    pub cost_usd: f64,
    /// `cost_usd` scaled to a month of 730 hours (the unit of plan's and frontier's bills).
    pub usd_per_month: f64,
    pub horizon_hours: u32,
    pub classes: Vec<BatchClassSummary>,
}

/// The batch aside of scenario `sc` from its batch results, or None without deferrable classes.
pub fn aside(sc: &Scenario, b: &BatchResults) -> Option<BatchAside> {
    let s = summary(sc, b, None)?;
    Some(BatchAside {
        cost_usd: s.cost_usd,
        usd_per_month: s.cost_usd * crate::domain::time::HOURS_PER_MONTH / sc.horizon_hours as f64,
        horizon_hours: sc.horizon_hours,
        classes: s.classes,
    })
}

/// The paragraph and table a report gives the batch jobs beside its configurations.
pub fn aside_section(o: &mut String, a: &BatchAside, command: &str) {
    let h = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{} h", grouped(v, 2)));
    o.push_str("\n## Batch jobs (the same in every configuration)\n\n");
    o.push_str(&format!(
        "The deferrable classes go to batch deployments, which share no capacity with the online ones: every configuration `llmcap {command}` tries leaves them as they are, so their bill is not in the configurations' bills. It adds {} per month ({} over the simulated {} h, per replication, at batch prices) to whichever configuration you choose.\n\n",
        usd_cents(a.usd_per_month),
        usd_cents(a.cost_usd),
        count(a.horizon_hours as f64),
    ));
    o.push_str("| class | batch deployment | requests | completed | expired | completion p50 / p99 | target | within target | cost |\n");
    o.push_str("|---|---|---:|---:|---:|---|---:|---:|---:|\n");
    for c in &a.classes {
        o.push_str(&format!(
            "| {} | {} ({}) | {} | {} | {} | {} / {} | {} h | {} | {} |\n",
            c.name,
            c.deployment,
            c.platform,
            grouped(c.requests, 0),
            completed(c),
            grouped(c.expired, 0),
            h(c.completion_p50_hours),
            h(c.completion_p99_hours),
            grouped(c.completion_sla_hours, 2),
            c.within_sla_share.map_or("-".into(), |s| percent(s, 1)),
            usd_cents(c.cost_usd),
        ));
    }
    o.push('\n');
}
