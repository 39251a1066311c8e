//! The scenario file as written: serde types for the TOML, a cheap parse that only
//! checks shapes. Validation ([`super::validate`]) turns them into the domain types.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawHeader,
    #[serde(default)]
    pub client: Option<RawClient>,
    #[serde(default)]
    pub class: Vec<RawClass>,
    #[serde(default)]
    pub deployment: Vec<RawDeployment>,
    pub sweep: Option<RawSweep>,
    pub plan: Option<RawPlan>,
    pub frontier: Option<RawFrontier>,
    pub gateway: Option<RawGateway>,
    #[serde(default)]
    pub outage: Vec<RawOutage>,
    #[serde(default)]
    pub price_change: Vec<RawPriceChange>,
    pub report: Option<RawReport>,
}

/// `[[price_change]]`: a deployment's prices from a date on.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPriceChange {
    pub date: toml::Value,
    pub deployment: String,
    pub on_demand: Option<RawPriceOnDemand>,
    pub reserved: Option<RawPriceReserved>,
    pub reserved_rate: Option<RawPriceReservedRate>,
}

/// The token-rate reservation's term prices a change sets (terms the deployment prices).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPriceReservedRate {
    pub input_per_1k_tpm_hour: Option<BTreeMap<String, f64>>,
    pub output_per_1k_tpm_hour: Option<BTreeMap<String, f64>>,
    pub price_per_reserved_usd: Option<BTreeMap<String, f64>>,
}

/// The on-demand prices a change sets; the others keep their value.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPriceOnDemand {
    pub input_per_1m: Option<f64>,
    pub output_per_1m: Option<f64>,
    pub cached_input_per_1m: Option<f64>,
    pub cache_write_per_1m: Option<f64>,
}

/// The reserved term prices a change sets (terms the deployment prices).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPriceReserved {
    pub price_per_unit_hour: BTreeMap<String, f64>,
}

/// `[report]`: how the outputs present the results.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Percent, [low, high].
    pub reference_band: Option<Vec<f64>>,
}

/// `[gateway]`: a router in front of every deployment (LiteLLM, Portkey,
/// Azure API Management, an in-house proxy).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub latency_ms: Option<f64>,
    pub cooldown_failures: Option<f64>,
    pub cooldown_window_s: Option<f64>,
    pub cooldown_s: Option<f64>,
    /// "walk" (default), "litellm" or "portkey"; the keys below apply to "litellm" only.
    pub router: Option<String>,
    pub strategy: Option<String>,
    pub num_retries: Option<f64>,
    pub retry_after_s: Option<f64>,
    pub timeout_s: Option<f64>,
    /// "default", "count" or "off".
    pub cooldown: Option<String>,
    pub allowed_fails: Option<f64>,
    pub allowed_fails_rate_limit: Option<f64>,
    pub allowed_fails_error: Option<f64>,
    pub allowed_fails_timeout: Option<f64>,
    pub pre_call_checks: Option<bool>,
}

/// `[[outage]]`: a scheduled or random incident on some deployments.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    pub name: Option<String>,
    pub deployments: Option<Vec<String>>,
    pub platform: Option<String>,
    pub region: Option<String>,
    pub start_hour: Option<f64>,
    pub duration_hours: Option<f64>,
    pub mtbf_hours: Option<f64>,
    pub mttr_hours: Option<f64>,
    pub effect: Option<String>,
    pub latency_factor: Option<f64>,
    pub error_rate: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub horizon_hours: f64,
    /// TOML integers are signed 64-bit, so seeds go from 0 to 2^63 - 1.
    #[serde(default)]
    pub seed: i64,
    pub replications: Option<u32>,
    pub start_weekday: Option<String>,
    /// `"YYYY-MM-DD"` or a TOML local date; checked by validation.
    pub start_date: Option<toml::Value>,
    pub percentiles: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawClient {
    pub max_attempts: Option<u32>,
    pub backoff_base_ms: Option<f64>,
    pub backoff_max_ms: Option<f64>,
    pub jitter: Option<String>,
    pub timeout_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    pub name: String,
    pub model: String,
    pub route: Vec<String>,
    pub routing: Option<String>,
    pub weights: Option<Vec<f64>>,
    /// Model group of each route entry (gateway.router = "litellm").
    pub groups: Option<Vec<String>>,
    /// Order level of each route entry (gateway.router = "litellm").
    pub orders: Option<Vec<f64>>,
    /// The class's Portkey target tree (gateway.router = "portkey").
    pub portkey: Option<RawPortkey>,
    pub substitutes: Option<Vec<String>>,
    pub random_stream: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub sla: Option<RawSla>,
    pub arrivals: RawArrivals,
    pub input_tokens: Option<RawTokens>,
    pub output_tokens: Option<RawTokens>,
    pub cached_input_share: Option<f64>,
    pub cache_write_share: Option<f64>,
    /// The `max_tokens` the class's requests send, tokens.
    pub max_tokens: Option<f64>,
    /// The class may wait: it goes to a batch deployment, with a completion-time target
    /// instead of a TTFT SLA.
    pub deferrable: Option<bool>,
    /// A deferrable class's completion-time target from arrival, hours (default: the window).
    pub completion_sla_hours: Option<f64>,
}

/// `[class.portkey]` and its `[[...targets]]`: a strategy (`mode`, `targets`) or a target
/// (`deployment`), as in a Portkey config.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPortkey {
    /// "single", "fallback" or "loadbalance".
    pub mode: Option<String>,
    pub targets: Option<Vec<RawPortkey>>,
    pub deployment: Option<String>,
    pub weight: Option<f64>,
    pub on_status_codes: Option<Vec<i64>>,
    pub retry: Option<RawPortkeyRetry>,
    pub timeout_ms: Option<f64>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPortkeyRetry {
    pub attempts: f64,
    pub on_status_codes: Option<Vec<i64>>,
    pub use_retry_after_header: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    pub ttft_ms: f64,
    pub percentile: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrivals {
    pub process: Option<String>,
    pub mean_rps: Option<f64>,
    /// Replay a trace file (relative to the scenario file) instead.
    pub trace: Option<String>,
    pub format: Option<String>,
    pub time_column: Option<String>,
    pub time_unit: Option<String>,
    pub input_column: Option<String>,
    pub output_column: Option<String>,
    pub model_column: Option<String>,
    pub model: Option<String>,
    pub time_scale: Option<f64>,
    pub rate_scale: Option<f64>,
    pub offset_s: Option<f64>,
    pub tile: Option<bool>,
    pub bad_rows: Option<String>,
    pub hourly: Option<Vec<f64>>,
    pub peak_hour: Option<f64>,
    pub peak_to_trough: Option<f64>,
    pub weekday: Option<Vec<f64>>,
    /// 168 hour-of-week multipliers, Monday 00:00 first.
    pub hour_of_week: Option<Vec<f64>>,
    pub overdispersion: Option<f64>,
    pub burst_interval_s: Option<u32>,
    pub growth: Option<RawGrowth>,
    /// 12 month-of-year factors, January first.
    pub seasonality: Option<Vec<f64>>,
}

/// `arrivals.growth`: `{ monthly = 0.05 }` (compounding) or
/// `{ multipliers = [1.0, 1.1, ...] }` (one level per month).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGrowth {
    pub monthly: Option<f64>,
    pub multipliers: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    pub dist: String,
    pub value: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    /// `[[percentile, tokens], ...]`, percentiles rising from 0 to 100. Read as lists of any
    /// length, not `[f64; 2]`: serde's fixed-size arrays ignore extra elements in TOML, so
    /// `[0, 10, 3]` would pass silently; validation checks the length and names the pair.
    pub quantiles: Option<Vec<Vec<f64>>>,
    pub max: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    pub name: String,
    pub offering: Option<String>,
    pub platform: String,
    pub model: String,
    pub region: Option<String>,
    /// Required unless the deployment is a batch one (checked by validation).
    pub latency: Option<RawLatency>,
    pub on_demand: Option<RawOnDemand>,
    /// A batch deployment: jobs of requests done within a completion window.
    pub batch: Option<RawBatch>,
    pub reserved: Option<RawReserved>,
    /// A reservation in token rate on an on-demand deployment (docs/model.md section 10.3).
    pub reserved_rate: Option<RawReservedRate>,
    /// LiteLLM's per-deployment cooldown_time (gateway.router = "litellm").
    pub cooldown_s: Option<f64>,
    /// The Retry-After the platform sends with its 429s.
    pub retry_after_s: Option<f64>,
    /// The catalog offering that takes over when this deployment's offering retires
    /// inside the horizon.
    pub migrate_to: Option<String>,
}

/// `[deployment.batch]`: the vendor's batch API (docs/model.md, section 10.2).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawBatch {
    pub input_per_1m: Option<f64>,
    pub output_per_1m: Option<f64>,
    pub completion_window_hours: Option<f64>,
    pub expires: Option<bool>,
    pub submit_every_minutes: Option<f64>,
    pub max_requests_per_job: Option<f64>,
    pub min_requests_per_job: Option<f64>,
    pub enqueued_tokens: Option<f64>,
    pub turnaround_median_hours: Option<f64>,
    pub turnaround_p99_hours: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub median_ms: f64,
    pub p99_ms: f64,
    #[serde(default)]
    pub prefill_ms_per_1k_input: f64,
    /// What an on-demand pool's load slows: "prefill" (the default) or "all" (base + prefill).
    pub load_slows: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnDemand {
    pub input_per_1m: f64,
    pub output_per_1m: f64,
    pub cached_input_per_1m: Option<f64>,
    pub cache_write_per_1m: Option<f64>,
    pub rpm: Option<f64>,
    pub tpm: Option<f64>,
    /// The quota limiter's shape (`Quota::NAMES`), and the shapes' own keys.
    pub quota: Option<String>,
    pub rpm_window_s: Option<f64>,
    pub itpm: Option<f64>,
    pub otpm: Option<f64>,
    pub itpm_cache_reads: Option<bool>,
    pub output_burndown: Option<f64>,
    pub shared_pool_tpm: Option<f64>,
    pub background_utilization: Option<f64>,
    pub background_hourly: Option<Vec<f64>>,
    pub background_peak_hour: Option<f64>,
    pub background_peak_to_trough: Option<f64>,
    pub max_pool_utilization: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReserved {
    pub units: f64,
    /// The part of `units` a reservation covers (Azure); the rest is billed hourly.
    pub reserved_units: Option<f64>,
    pub min_units: Option<f64>,
    pub unit_step: Option<f64>,
    pub tpm_per_unit: f64,
    pub output_weight: Option<f64>,
    pub cached_input_weight: Option<f64>,
    pub concurrency_per_unit: Option<f64>,
    pub term: String,
    pub price_per_unit_hour: BTreeMap<String, f64>,
    /// Hours each term commits to, for terms outside `domain::KNOWN_TERMS`.
    pub term_hours: Option<BTreeMap<String, f64>>,
    pub max_queue: Option<f64>,
    pub max_wait_ms: Option<f64>,
}

/// `[deployment.reserved_rate]`: reserved input and output tokens per minute, or a reserved
/// spend rate, on top of an on-demand deployment.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawReservedRate {
    pub input_tpm: Option<f64>,
    pub output_tpm: Option<f64>,
    pub usd_per_minute: Option<f64>,
    pub min_input_tpm: Option<f64>,
    pub min_output_tpm: Option<f64>,
    pub input_tpm_step: Option<f64>,
    pub output_tpm_step: Option<f64>,
    pub term: String,
    pub input_per_1k_tpm_hour: Option<BTreeMap<String, f64>>,
    pub output_per_1k_tpm_hour: Option<BTreeMap<String, f64>>,
    pub price_per_reserved_usd: Option<BTreeMap<String, f64>>,
    pub term_hours: Option<BTreeMap<String, f64>>,
}

/// `[sweep]`: one key, many values (see `sweep`).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub key: String,
    pub values: Option<Vec<f64>>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub step: Option<f64>,
    pub points: Option<f64>,
    pub replications: Option<u32>,
    pub compare: Option<String>,
}

/// `[plan]`: what `llmcap plan` may buy (see `plan`).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub deployment: Option<String>,
    pub terms: Option<Vec<String>>,
    pub max_units: Option<f64>,
    pub confidence: Option<f64>,
    pub replications: Option<u32>,
    pub sla: Option<String>,
}

/// `[frontier]`: the grid `llmcap frontier` simulates (see `frontier`).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawFrontier {
    /// Reserved deployment name -> the unit counts to try.
    pub units: Option<BTreeMap<String, Vec<f64>>>,
    /// Reserved deployment name -> the terms to price.
    pub terms: Option<BTreeMap<String, Vec<String>>>,
    /// Routing options: each a route (deployment names, in order) every class takes.
    pub routes: Option<Vec<Vec<String>>>,
    /// Deployment with a token-rate reservation -> the sizes to try ("none", or a table of
    /// `input_tpm` / `output_tpm` or `usd_per_minute`), checked by hand for the error's key.
    pub reserved_rate: Option<BTreeMap<String, Vec<toml::Value>>>,
    pub replications: Option<u32>,
    pub sla: Option<String>,
    pub rate_steps: Option<f64>,
    pub max_demand_scale: Option<f64>,
}
