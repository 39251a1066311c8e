//! Batch deployments and the deferrable classes they serve (docs/model.md, section 10.2).
//! A batch deployment sells the vendor's batch API: requests are gathered into jobs,
//! each job is done within a completion window at batch prices, or expires.

use std::collections::BTreeMap;

use crate::domain::traffic::{ArrivalSpec, TokenDist};

/// A deployment that takes jobs of requests (`[deployment.batch]`).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchDeployment {
    pub name: String,
    pub offering: Option<String>,
    pub platform: String,
    pub model: String,
    pub region: Option<String>,
    /// USD per 1M input tokens of a completed request.
    pub input_per_1m: f64,
    /// USD per 1M output tokens of a completed request.
    pub output_per_1m: f64,
    /// The completion window, from a job's submission, microseconds.
    pub window_us: u64,
    /// Whether the vendor expires a job still running at the window's end (OpenAI, Bedrock,
    /// Vertex): its requests are not billed and count as failed. Azure keeps running it.
    pub expires: bool,
    /// Requests gathered so far are submitted as one job every this many microseconds.
    pub submit_every_us: u64,
    /// A job holds at most this many requests; a full job is submitted at once.
    pub max_requests_per_job: u32,
    /// A job needs at least this many requests (Bedrock: 100); fewer wait for the next
    /// submission.
    pub min_requests_per_job: u32,
    /// Input tokens that may be enqueued at once for this model (None = no limit): a job that
    /// would pass it waits until earlier jobs are done.
    pub enqueued_tokens: Option<u64>,
    /// A job's turnaround from submission: lognormal from its median and p99 (equal: fixed).
    pub turnaround_median_us: u64,
    pub turnaround_p99_us: u64,
}

/// A class marked `deferrable = true`: its requests go to one batch deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchClass {
    pub name: String,
    pub model: String,
    /// Index into `Scenario::batch_deployments`.
    pub deployment: usize,
    pub random_stream: String,
    pub tags: BTreeMap<String, String>,
    pub arrivals: ArrivalSpec,
    pub input_tokens: TokenDist,
    pub output_tokens: TokenDist,
    /// Completion-time target from arrival (default: the deployment's window), microseconds.
    pub completion_sla_us: u64,
    /// The on-demand deployment (index into `Scenario::deployments`) whose prices the report
    /// compares the batch bill with, if one serves the same model.
    pub on_demand_alternative: Option<usize>,
}
