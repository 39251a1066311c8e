//! The scenario file: serde types for the TOML (stage one, a cheap parse that
//! only checks shapes), then validation into the domain types the simulation runs
//! on (stage two, where every value is checked and every error names its key).
//!
//! Units are in the key names: `_ms`, `_rps`, `_per_1m`, `_tpm`, `_hours`.
//! `docs/scenario.md` lists every key, its unit, default and allowed range.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::InputError;
use crate::model::traffic::{shape_profile, ArrivalProcess, ArrivalSpec, TokenDist};

// ---------------------------------------------------------------------------
// Stage one: the file as written.
// ---------------------------------------------------------------------------

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
    pub gateway: Option<RawGateway>,
    #[serde(default)]
    pub outage: Vec<RawOutage>,
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
    pub substitutes: Option<Vec<String>>,
    pub random_stream: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub sla: Option<RawSla>,
    pub arrivals: RawArrivals,
    pub input_tokens: Option<RawTokens>,
    pub output_tokens: Option<RawTokens>,
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
    pub overdispersion: Option<f64>,
    pub burst_interval_s: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    pub dist: String,
    pub value: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub mean: Option<f64>,
    /// `[[percentile, tokens], ...]`, percentiles rising from 0 to 100.
    pub quantiles: Option<Vec<[f64; 2]>>,
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
    pub latency: RawLatency,
    pub on_demand: Option<RawOnDemand>,
    pub reserved: Option<RawReserved>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub median_ms: f64,
    pub p99_ms: f64,
    #[serde(default)]
    pub prefill_ms_per_1k_input: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOnDemand {
    pub input_per_1m: f64,
    pub output_per_1m: f64,
    pub rpm: Option<f64>,
    pub tpm: Option<f64>,
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
    pub min_units: Option<f64>,
    pub unit_step: Option<f64>,
    pub tpm_per_unit: f64,
    pub output_weight: Option<f64>,
    pub concurrency_per_unit: Option<f64>,
    pub term: String,
    pub price_per_unit_hour: BTreeMap<String, f64>,
    pub max_queue: Option<f64>,
    pub max_wait_ms: Option<f64>,
}

// ---------------------------------------------------------------------------
// Stage two: the domain types.
// ---------------------------------------------------------------------------

/// A validated scenario. Times are integer microseconds.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub horizon_hours: u32,
    pub seed: u64,
    pub replications: u32,
    /// 0 = Monday .. 6 = Sunday: the weekday of simulated hour 0.
    pub start_weekday: u8,
    pub percentiles: Vec<f64>,
    pub client: ClientPolicy,
    pub classes: Vec<Class>,
    pub deployments: Vec<Deployment>,
    /// The `[sweep]` table as written; `sweep` checks it against the file.
    pub sweep: Option<RawSweep>,
    /// The `[plan]` table as written; `plan` checks it.
    pub plan: Option<RawPlan>,
    pub gateway: Gateway,
    pub outages: Vec<Outage>,
}

/// The gateway in front of the deployments: a latency hop and a cooldown of
/// failing deployments (`None` = no cooldown).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Gateway {
    pub latency_us: u64,
    pub cooldown: Option<Cooldown>,
}

/// After `failures` failures (errors or 429s) within `window_us`, a deployment
/// is out of rotation for `duration_us` (LiteLLM's allowed_fails / cooldown_time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cooldown {
    pub failures: u32,
    pub window_us: u64,
    pub duration_us: u64,
}

/// How a class orders its route for each attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Routing {
    /// The route as written.
    Ordered,
    /// First deployment drawn with these weights (one per route entry), then
    /// the rest in route order.
    Weighted(Vec<f64>),
    /// Reserved first (already paid for), then on-demand by expected price
    /// per request; the route is stored in that order.
    Cheapest,
    /// By expected TTFT with no queueing (base median + prefill of a mean
    /// prompt, at the on-demand pool's mean background load); stored in that order.
    Fastest,
}

/// A trace a class replays.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSource {
    pub path: std::path::PathBuf,
    pub format: crate::input::trace::TraceFormat,
    /// Only rows whose model column equals this.
    pub model: Option<String>,
    /// Replay this many times faster (trace seconds / simulated seconds).
    pub time_scale: f64,
    /// Keep each request with probability k (k < 1), or repeat it
    /// floor(k) times plus once more with probability frac(k).
    pub rate_scale: f64,
    /// Simulated time of the trace's first request, microseconds.
    pub offset_us: u64,
    /// Repeat the trace until the horizon.
    pub tile: bool,
    /// Skip unusable rows (counted) rather than stop.
    pub skip_bad_rows: bool,
    /// What a pass over the file found (at validation).
    pub stats: TraceStats,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceStats {
    /// Usable rows (after the model filter).
    pub requests: u64,
    pub first_s: f64,
    pub last_s: f64,
    pub mean_input: f64,
    pub mean_output: f64,
    pub bad_rows: u64,
    /// The first bad rows, as "file:line: kind: message".
    pub bad_examples: Vec<String>,
    /// Requests the replay puts in each simulated hour of the horizon
    /// (offset, time scale, tiling and the mean of the rate scale applied).
    pub expected_per_hour: Vec<f64>,
}

impl Class {
    /// Expected arrivals in simulated hour `hour`.
    pub fn expected_in_hour(&self, hour: u64, start_weekday: u8) -> f64 {
        match &self.trace {
            Some(t) => t
                .stats
                .expected_per_hour
                .get(hour as usize)
                .copied()
                .unwrap_or(0.0),
            None => self.arrivals.rate_in_hour(hour, start_weekday) * 3600.0,
        }
    }

    /// Expected arrivals over the first `hours` hours.
    pub fn expected_arrivals(&self, hours: u32, start_weekday: u8) -> f64 {
        match &self.trace {
            Some(t) => t.stats.expected_per_hour.iter().take(hours as usize).sum(),
            None => self.arrivals.expected_arrivals(hours, start_weekday),
        }
    }
}

impl TraceSource {
    /// Simulated length of one pass of the trace, microseconds: its span
    /// scaled, plus one mean gap so a tiled copy does not start on the last request.
    pub fn period_us(&self) -> u64 {
        let st = &self.stats;
        let span = (st.last_s - st.first_s).max(0.0);
        let gap = if st.requests > 1 {
            span / (st.requests - 1) as f64
        } else {
            1.0
        };
        (((span + gap) / self.time_scale) * 1e6).max(1.0) as u64
    }
}

/// An incident on some deployments.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub name: String,
    /// Indices into `Scenario::deployments`.
    pub deployments: Vec<usize>,
    pub schedule: OutageSchedule,
    pub effect: OutageEffect,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutageSchedule {
    /// One window, `[start_us, end_us)`.
    Window { start_us: u64, end_us: u64 },
    /// Up for exponential times with mean `mtbf_us`, down for exponential
    /// times with mean `mttr_us`, from the start of the run.
    Random { mtbf_us: f64, mttr_us: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutageEffect {
    /// Every request is answered with an error.
    Full,
    /// TTFT x `latency_factor`, and a share `error_rate` of requests answered 429.
    Partial {
        latency_factor: f64,
        error_rate: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientPolicy {
    pub max_attempts: u32,
    pub backoff_base_us: u64,
    pub backoff_max_us: u64,
    pub jitter: Jitter,
    pub timeout_us: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Wait a uniform time in [0, backoff] (AWS "full jitter").
    Full,
    /// Wait backoff/2 plus a uniform time in [0, backoff/2].
    Equal,
    None,
}

#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    pub model: String,
    /// Models the route may use besides `model`.
    pub substitutes: Vec<String>,
    pub routing: Routing,
    /// Indices into `Scenario::deployments`, in the order they are tried.
    pub route: Vec<usize>,
    /// Name of the random streams the class draws arrivals and tokens from
    /// (default: the class name). Classes sharing it see identical traffic.
    pub random_stream: String,
    pub tags: BTreeMap<String, String>,
    pub sla: Option<Sla>,
    pub arrivals: ArrivalSpec,
    /// Arrivals and token counts replayed from a trace (then `arrivals` and
    /// the token distributions summarise the trace for reports).
    pub trace: Option<TraceSource>,
    pub input_tokens: TokenDist,
    pub output_tokens: TokenDist,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sla {
    pub ttft_us: u64,
    /// The percentile that must stay under `ttft_us`, in (0, 100].
    pub percentile: f64,
}

#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    /// The catalog offering it was built from, if any.
    pub offering: Option<String>,
    pub platform: String,
    pub model: String,
    pub region: Option<String>,
    pub latency: Latency,
    pub pool: Pool,
}

/// Time to first token, apart from queueing: a lognormal base (network, gateway,
/// scheduling) plus prefill time proportional to the prompt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    pub median_ms: f64,
    pub p99_ms: f64,
    pub prefill_ms_per_1k_input: f64,
}

#[derive(Debug, Clone)]
pub enum Pool {
    OnDemand(OnDemand),
    Reserved(Reserved),
}

impl Pool {
    pub fn kind(&self) -> &'static str {
        match self {
            Pool::OnDemand(_) => "on_demand",
            Pool::Reserved(_) => "reserved",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OnDemand {
    pub input_per_1m: f64,
    pub output_per_1m: f64,
    pub rpm: Option<f64>,
    pub tpm: Option<f64>,
    /// Capacity of the shared pool your traffic competes in, tokens per minute.
    pub shared_pool_tpm: f64,
    /// Other tenants' load as a fraction of the pool, by hour of day (mean =
    /// `background_utilization`).
    pub background: [f64; 24],
    pub max_pool_utilization: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    pub units: u32,
    /// The smallest number of units the vendor sells (Azure global PTUs: 15).
    pub min_units: u32,
    /// Units come in steps of this size above `min_units` (Azure global PTUs: 5).
    pub unit_step: u32,
    /// Input-equivalent tokens per minute per unit.
    pub tpm_per_unit: f64,
    /// One output token costs this many input tokens of capacity.
    pub output_weight: f64,
    /// Requests one unit serves at once; the pool has `units * concurrency_per_unit` slots.
    pub concurrency_per_unit: u32,
    pub term: String,
    pub price_per_unit_hour: BTreeMap<String, f64>,
    /// Requests allowed to wait for a slot; beyond it they spill (None = no bound).
    pub max_queue: Option<u32>,
    /// Longest wait for a slot before spilling (None = no bound).
    pub max_wait_us: Option<u64>,
}

impl Reserved {
    /// Whether `units` is a number of units the vendor sells.
    pub fn purchasable(&self, units: u32) -> bool {
        units >= self.min_units && (units - self.min_units) % self.unit_step == 0
    }
    /// The purchasable numbers of units from `min_units` up to `max`.
    pub fn grid(&self, max: u32) -> Vec<u32> {
        (self.min_units..=max.max(self.min_units))
            .step_by(self.unit_step as usize)
            .collect()
    }
    pub fn slots(&self) -> u32 {
        self.units.saturating_mul(self.concurrency_per_unit)
    }
    /// Price per unit-hour of the chosen term.
    pub fn unit_hour_price(&self) -> f64 {
        self.price_per_unit_hour
            .get(&self.term)
            .copied()
            .unwrap_or(0.0)
    }
}

pub const TERMS: &[&str] = &["hourly", "monthly", "yearly", "1-month", "6-month"];
pub const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
pub const DEFAULT_PERCENTILES: &[f64] = &[50.0, 90.0, 95.0, 99.0, 99.9];
pub const MAX_HORIZON_HOURS: f64 = 24.0 * 366.0 * 2.0;

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Scenario::from_toml(&text, path)
    }

    /// Parses and validates scenario text; `file` is only used in messages.
    pub fn from_toml(text: &str, file: &Path) -> Result<Scenario, InputError> {
        let table: toml::Table = parse_toml(text, file)?;
        if uses_offerings(&table) {
            return Scenario::from_table(table, file);
        }
        // Without catalog offerings, parse the text itself so errors keep
        // their line and column.
        let raw: RawScenario = parse_toml(text, file)?;
        validate(raw, file)
    }

    /// Validates a scenario already parsed into a TOML table (a sweep point);
    /// `file` is only used in messages.
    pub fn from_table(table: toml::Table, file: &Path) -> Result<Scenario, InputError> {
        let table = apply_offerings(table, file)?;
        let raw: RawScenario = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                InputError::Invalid {
                    file: file.to_path_buf(),
                    path: if path.is_empty() { ".".into() } else { path },
                    message: e.into_inner().message().trim().to_string(),
                }
            })?;
        validate(raw, file)
    }

    /// Things that are valid but probably not what the author meant, each
    /// naming its key.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for (i, c) in self.classes.iter().enumerate() {
            let a = &c.arrivals;
            let flat = a.weekday.iter().all(|f| (f - 1.0).abs() < 1e-12);
            if !flat && self.horizon_hours % 168 != 0 {
                let mean = a.expected_arrivals(self.horizon_hours, self.start_weekday)
                    / (self.horizon_hours as f64 * 3600.0);
                w.push(format!(
                    "class[{i}].arrivals.weekday: the factors average to 1 over whole weeks, but the horizon is {} h, so this run's mean rate is {mean:.3} req/s rather than mean_rps = {}",
                    self.horizon_hours, a.mean_rps
                ));
            }
            if let (TokenDist::Fixed(inp), TokenDist::Fixed(out)) =
                (&c.input_tokens, &c.output_tokens)
            {
                for &d in &c.route {
                    if let Pool::OnDemand(o) = &self.deployments[d].pool {
                        if o.tpm.is_some_and(|t| (*inp as f64 + *out as f64) > t) {
                            w.push(format!(
                                "class[{i}]: each request needs {} tokens, more than deployment \"{}\"'s tpm quota, so it always answers 429",
                                inp + out,
                                self.deployments[d].name
                            ));
                        }
                    }
                }
            }
        }
        w
    }

    /// Groups of classes that share a random stream: the same traffic under
    /// alternative set-ups, so totals over all classes add alternatives up.
    pub fn alternatives(&self) -> Vec<Vec<&str>> {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for c in &self.classes {
            match groups.iter_mut().find(|(s, _)| *s == c.random_stream) {
                Some((_, names)) => names.push(&c.name),
                None => groups.push((&c.random_stream, vec![&c.name])),
            }
        }
        groups
            .into_iter()
            .filter(|(_, names)| names.len() > 1)
            .map(|(_, names)| names)
            .collect()
    }

    pub fn horizon_us(&self) -> u64 {
        self.horizon_hours as u64 * crate::model::engine::US_PER_HOUR
    }
}

fn uses_offerings(t: &toml::Table) -> bool {
    t.get("deployment")
        .and_then(|d| d.as_array())
        .is_some_and(|a| a.iter().any(|d| d.get("offering").is_some()))
}

/// Fills each `[[deployment]]` that names a catalog `offering` with the
/// offering's values, under the keys the scenario writes itself.
fn apply_offerings(mut table: toml::Table, file: &Path) -> Result<toml::Table, InputError> {
    let c = Checker { file };
    let Some(toml::Value::Array(deps)) = table.get_mut("deployment") else {
        return Ok(table);
    };
    let catalog = crate::input::catalog::Catalog::shipped();
    for (i, d) in deps.iter_mut().enumerate() {
        let Some(t) = d.as_table() else { continue };
        let Some(id) = t.get("offering") else {
            continue;
        };
        let at = format!("deployment[{i}].offering");
        let Some(id) = id.as_str() else {
            return Err(c.err(
                at,
                "must be a string such as \"azure-openai/gpt-4o/global-standard\"",
            ));
        };
        let Some((platform, offering)) = catalog.offering(id) else {
            let near: Vec<String> = catalog
                .offerings()
                .filter(|(p, o)| id.starts_with(&p.id) || id.contains(&o.model))
                .map(|(p, o)| format!("{}/{}", p.id, o.id))
                .take(12)
                .collect();
            return Err(c.err(
                at,
                format!(
                    "unknown offering \"{id}\"; {} (llmcap catalog lists them all)",
                    if near.is_empty() {
                        format!("platforms: {}", catalog.platform_ids().join(", "))
                    } else {
                        format!("similar: {}", near.join(", "))
                    }
                ),
            ));
        };
        for key in ["platform", "model"] {
            let want = if key == "platform" {
                &platform.id
            } else {
                &offering.model
            };
            if let Some(v) = t.get(key).and_then(|v| v.as_str()) {
                if v != want {
                    return Err(c.err(
                        format!("deployment[{i}].{key}"),
                        format!(
                            "is \"{v}\", but offering \"{id}\" is {key} \"{want}\"; leave it out"
                        ),
                    ));
                }
            }
        }
        // The pool kind comes from the offering; the scenario may not switch it.
        let other = if offering.reserved.is_some() {
            "on_demand"
        } else {
            "reserved"
        };
        if t.contains_key(other) {
            return Err(c.err(
                format!("deployment[{i}].{other}"),
                format!(
                    "offering \"{id}\" is {}; it has no [{other}] keys",
                    offering.kind
                ),
            ));
        }
        let merged =
            crate::input::catalog::merge_under(offering.deployment_table(&platform.id), t.clone());
        *d = toml::Value::Table(merged);
    }
    Ok(table)
}

/// Parses TOML into any serde type, with the key path and line of the error.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, InputError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = inner
            .span()
            .map(|s| line_col(text, s.start))
            .unwrap_or((1, 1));
        InputError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            path: if path.is_empty() { ".".into() } else { path },
            message: inner.message().trim().to_string(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// Collects the file name so each check only states the key and the rule.
pub struct Checker<'a> {
    pub file: &'a Path,
}

impl Checker<'_> {
    pub fn err(&self, path: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: self.file.to_path_buf(),
            path: path.into(),
            message: message.into(),
        }
    }

    /// A finite number in [lo, hi] (inclusive bounds; use `f64::INFINITY` for none).
    pub fn range(&self, path: &str, v: f64, lo: f64, hi: f64) -> Result<f64, InputError> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(v)
        } else {
            let allowed = match (lo, hi) {
                (lo, hi) if hi == f64::INFINITY => format!("a finite number >= {lo}"),
                (lo, hi) => format!("a number from {lo} to {hi}"),
            };
            Err(self.err(path, format!("must be {allowed}, got {v}")))
        }
    }

    /// A finite number > 0.
    pub fn positive(&self, path: &str, v: f64) -> Result<f64, InputError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(path, format!("must be a finite number > 0, got {v}")))
        }
    }

    /// A whole number >= lo.
    pub fn whole(&self, path: &str, v: f64, lo: u32) -> Result<u32, InputError> {
        if v.is_finite() && v.fract() == 0.0 && v >= lo as f64 && v <= u32::MAX as f64 {
            Ok(v as u32)
        } else {
            Err(self.err(path, format!("must be a whole number >= {lo}, got {v}")))
        }
    }

    pub fn percentile(&self, path: &str, v: f64) -> Result<f64, InputError> {
        if v.is_finite() && v > 0.0 && v <= 100.0 {
            Ok(v)
        } else {
            Err(self.err(
                path,
                format!("a percentile must be greater than 0 and at most 100, got {v}"),
            ))
        }
    }

    /// 24 non-negative hour-of-day multipliers, normalised to mean 1.
    pub fn hourly(&self, path: &str, v: &[f64]) -> Result<[f64; 24], InputError> {
        if v.len() != 24 {
            return Err(self.err(
                path,
                format!(
                    "must list 24 hour-of-day multipliers (hour 0 first), got {}",
                    v.len()
                ),
            ));
        }
        normalised(self, path, v).map(|n| std::array::from_fn(|i| n[i]))
    }

    pub fn one_of(&self, path: &str, v: &str, allowed: &[&str]) -> Result<usize, InputError> {
        allowed.iter().position(|a| *a == v).ok_or_else(|| {
            self.err(
                path,
                format!("unknown value \"{v}\"; allowed: {}", allowed.join(", ")),
            )
        })
    }
}

fn normalised(c: &Checker, path: &str, v: &[f64]) -> Result<Vec<f64>, InputError> {
    for (i, x) in v.iter().enumerate() {
        c.range(&format!("{path}[{i}]"), *x, 0.0, f64::INFINITY)?;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    if mean <= 0.0 {
        return Err(c.err(path, "multipliers must not all be zero"));
    }
    Ok(v.iter().map(|x| x / mean).collect())
}

fn ms_to_us(ms: f64) -> u64 {
    (ms * 1000.0).round() as u64
}

fn validate(raw: RawScenario, file: &Path) -> Result<Scenario, InputError> {
    let c = Checker { file };
    let h = &raw.scenario;
    let name = match &h.name {
        Some(n) => n.clone(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into()),
    };
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
    {
        return Err(c.err(
            "scenario.name",
            format!("must be non-empty, not start with '.', and use only letters, digits, '_', '-' and '.' (it names the results folder), got \"{name}\""),
        ));
    }
    let horizon = c.range(
        "scenario.horizon_hours",
        h.horizon_hours,
        1.0,
        MAX_HORIZON_HOURS,
    )?;
    if horizon.fract() != 0.0 {
        return Err(c.err(
            "scenario.horizon_hours",
            format!("must be a whole number of hours (costs are billed per hour), got {horizon}"),
        ));
    }
    let seed = u64::try_from(h.seed).map_err(|_| {
        c.err(
            "scenario.seed",
            format!(
                "must be a whole number from 0 to 9223372036854775807, got {}",
                h.seed
            ),
        )
    })?;
    let replications = h.replications.unwrap_or(1);
    if replications == 0 || replications > 10_000 {
        return Err(c.err(
            "scenario.replications",
            format!("must be from 1 to 10000, got {replications}"),
        ));
    }
    let start_weekday = match &h.start_weekday {
        Some(w) => c.one_of("scenario.start_weekday", &w.to_lowercase(), WEEKDAYS)? as u8,
        None => 0,
    };
    let mut percentiles = h
        .percentiles
        .clone()
        .unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec());
    if percentiles.is_empty() {
        return Err(c.err("scenario.percentiles", "must list at least one percentile"));
    }
    for (i, p) in percentiles.iter().enumerate() {
        c.percentile(&format!("scenario.percentiles[{i}]"), *p)?;
    }
    percentiles.sort_by(f64::total_cmp);
    percentiles.dedup();

    let client = validate_client(&c, raw.client.unwrap_or_default())?;

    if raw.deployment.is_empty() {
        return Err(c.err(
            "deployment",
            "the scenario needs at least one [[deployment]]",
        ));
    }
    let mut deployments = Vec::with_capacity(raw.deployment.len());
    for (i, d) in raw.deployment.iter().enumerate() {
        let p = format!("deployment[{i}]");
        if deployments.iter().any(|x: &Deployment| x.name == d.name) {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate deployment name \"{}\"", d.name),
            ));
        }
        deployments.push(validate_deployment(&c, &p, d)?);
    }

    if raw.class.is_empty() {
        return Err(c.err(
            "class",
            "the scenario needs at least one [[class]] of requests (none given)",
        ));
    }
    let mut classes = Vec::with_capacity(raw.class.len());
    for (i, k) in raw.class.iter().enumerate() {
        let p = format!("class[{i}]");
        if classes.iter().any(|x: &Class| x.name == k.name) {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate class name \"{}\"", k.name),
            ));
        }
        classes.push(validate_class(&c, &p, k, &deployments, horizon as u32)?);
    }

    let gateway = validate_gateway(&c, raw.gateway.as_ref())?;
    let mut outages = Vec::with_capacity(raw.outage.len());
    for (i, o) in raw.outage.iter().enumerate() {
        outages.push(validate_outage(
            &c,
            &format!("outage[{i}]"),
            i,
            o,
            &deployments,
            horizon,
        )?);
    }

    Ok(Scenario {
        name,
        description: h.description.clone(),
        horizon_hours: horizon as u32,
        seed,
        replications,
        start_weekday,
        percentiles,
        client,
        classes,
        deployments,
        sweep: raw.sweep,
        plan: raw.plan,
        gateway,
        outages,
    })
}

fn validate_gateway(c: &Checker, g: Option<&RawGateway>) -> Result<Gateway, InputError> {
    let Some(g) = g else {
        return Ok(Gateway::default());
    };
    let latency_us = ms_to_us(c.range(
        "gateway.latency_ms",
        g.latency_ms.unwrap_or(0.0),
        0.0,
        3.6e6,
    )?);
    let cooldown = match (g.cooldown_failures, g.cooldown_window_s, g.cooldown_s) {
        (None, None, None) => None,
        (Some(f), w, d) => Some(Cooldown {
            failures: c.whole("gateway.cooldown_failures", f, 1)?,
            window_us: ms_to_us(1000.0 * c.range("gateway.cooldown_window_s", w.unwrap_or(60.0), 0.001, 86_400.0)?),
            duration_us: ms_to_us(1000.0 * c.range("gateway.cooldown_s", d.unwrap_or(60.0), 0.001, 86_400.0)?),
        }),
        (None, _, _) => {
            return Err(c.err(
                "gateway.cooldown_failures",
                "is needed with cooldown_window_s / cooldown_s: the failures within the window that start a cooldown",
            ))
        }
    };
    Ok(Gateway {
        latency_us,
        cooldown,
    })
}

fn validate_outage(
    c: &Checker,
    p: &str,
    i: usize,
    o: &RawOutage,
    deployments: &[Deployment],
    horizon_hours: f64,
) -> Result<Outage, InputError> {
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| format!("outage {}", i + 1));
    let targets: Vec<usize> = match (&o.deployments, &o.platform) {
        (Some(names), None) => {
            if names.is_empty() {
                return Err(c.err(format!("{p}.deployments"), "must name at least one deployment"));
            }
            let mut v = Vec::new();
            for (j, n) in names.iter().enumerate() {
                let Some(d) = deployments.iter().position(|d| &d.name == n) else {
                    let known: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
                    return Err(c.err(
                        format!("{p}.deployments[{j}]"),
                        format!("unknown deployment \"{n}\"; defined deployments: {}", known.join(", ")),
                    ));
                };
                v.push(d);
            }
            v
        }
        (None, Some(platform)) => {
            let v: Vec<usize> = (0..deployments.len())
                .filter(|&d| {
                    deployments[d].platform == *platform
                        && o.region.as_ref().is_none_or(|r| deployments[d].region.as_ref() == Some(r))
                })
                .collect();
            if v.is_empty() {
                return Err(c.err(
                    format!("{p}.platform"),
                    format!(
                        "no deployment is on platform \"{platform}\"{}",
                        o.region.as_ref().map(|r| format!(" in region \"{r}\"")).unwrap_or_default()
                    ),
                ));
            }
            v
        }
        _ => {
            return Err(c.err(
                p,
                "name the deployments it hits: deployments = [\"...\"], or platform = \"...\" (with an optional region), not both",
            ))
        }
    };
    if o.region.is_some() && o.platform.is_none() {
        return Err(c.err(format!("{p}.region"), "needs platform"));
    }
    let schedule = match (o.start_hour, o.duration_hours, o.mtbf_hours, o.mttr_hours) {
        (Some(s), Some(d), None, None) => {
            let s = c.range(&format!("{p}.start_hour"), s, 0.0, horizon_hours)?;
            let d = c.range(&format!("{p}.duration_hours"), d, 0.0, MAX_HORIZON_HOURS)?;
            let start_us = ms_to_us(s * 3.6e6);
            OutageSchedule::Window {
                start_us,
                end_us: start_us + ms_to_us(d * 3.6e6),
            }
        }
        (None, None, Some(f), Some(r)) => OutageSchedule::Random {
            mtbf_us: c.range(&format!("{p}.mtbf_hours"), f, 0.001, 1e7)? * 3.6e9,
            mttr_us: c.range(&format!("{p}.mttr_hours"), r, 0.0001, 1e6)? * 3.6e9,
        },
        _ => {
            return Err(c.err(
                p,
                "needs either start_hour and duration_hours (a scheduled window) or mtbf_hours and mttr_hours (random outages), not both",
            ))
        }
    };
    let effect = match o.effect.as_deref().unwrap_or("full") {
        "full" => {
            if o.latency_factor.is_some() || o.error_rate.is_some() {
                return Err(c.err(
                    format!("{p}.effect"),
                    "latency_factor and error_rate belong to effect = \"partial\"; a full outage answers every request with an error",
                ));
            }
            OutageEffect::Full
        }
        "partial" => {
            let latency_factor = c.range(
                &format!("{p}.latency_factor"),
                o.latency_factor.unwrap_or(1.0),
                1.0,
                1000.0,
            )?;
            let error_rate = c.range(
                &format!("{p}.error_rate"),
                o.error_rate.unwrap_or(0.0),
                0.0,
                1.0,
            )?;
            if latency_factor == 1.0 && error_rate == 0.0 {
                return Err(c.err(
                    p,
                    "a partial outage needs latency_factor > 1 or error_rate > 0 (otherwise it changes nothing)",
                ));
            }
            OutageEffect::Partial {
                latency_factor,
                error_rate,
            }
        }
        other => {
            return Err(c.err(
                format!("{p}.effect"),
                format!("unknown value \"{other}\"; allowed: full, partial"),
            ))
        }
    };
    Ok(Outage {
        name,
        deployments: targets,
        schedule,
        effect,
    })
}

fn validate_client(c: &Checker, r: RawClient) -> Result<ClientPolicy, InputError> {
    let max_attempts = r.max_attempts.unwrap_or(3);
    if !(1..=100).contains(&max_attempts) {
        return Err(c.err(
            "client.max_attempts",
            format!("must be from 1 to 100 (1 = no retries), got {max_attempts}"),
        ));
    }
    let base = c.range(
        "client.backoff_base_ms",
        r.backoff_base_ms.unwrap_or(500.0),
        0.0,
        3.6e6,
    )?;
    let max = c.range(
        "client.backoff_max_ms",
        r.backoff_max_ms.unwrap_or(8000.0),
        0.0,
        3.6e6,
    )?;
    if max < base {
        return Err(c.err(
            "client.backoff_max_ms",
            format!("must be >= client.backoff_base_ms ({base}), got {max}"),
        ));
    }
    let jitter = match r.jitter.as_deref().unwrap_or("full") {
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "none" => Jitter::None,
        other => {
            return Err(c.err(
                "client.jitter",
                format!("unknown value \"{other}\"; allowed: full, equal, none"),
            ))
        }
    };
    let timeout_us = match r.timeout_ms {
        Some(t) => Some(ms_to_us(c.positive("client.timeout_ms", t)?)),
        None => None,
    };
    Ok(ClientPolicy {
        max_attempts,
        backoff_base_us: ms_to_us(base),
        backoff_max_us: ms_to_us(max),
        jitter,
        timeout_us,
    })
}

fn validate_deployment(c: &Checker, p: &str, d: &RawDeployment) -> Result<Deployment, InputError> {
    if d.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    check_catalog(c, p, d)?;
    let l = &d.latency;
    let median_ms = c.range(&format!("{p}.latency.median_ms"), l.median_ms, 0.0, 3.6e6)?;
    let p99_ms = c.range(&format!("{p}.latency.p99_ms"), l.p99_ms, 0.0, 3.6e6)?;
    if p99_ms < median_ms || (median_ms == 0.0 && p99_ms > 0.0) {
        return Err(c.err(
            format!("{p}.latency.p99_ms"),
            format!("must be >= latency.median_ms ({median_ms}), and 0 when the median is 0; got {p99_ms}"),
        ));
    }
    let prefill = c.range(
        &format!("{p}.latency.prefill_ms_per_1k_input"),
        l.prefill_ms_per_1k_input,
        0.0,
        1e5,
    )?;
    let latency = Latency {
        median_ms,
        p99_ms,
        prefill_ms_per_1k_input: prefill,
    };
    let pool = match (&d.on_demand, &d.reserved) {
        (Some(o), None) => Pool::OnDemand(validate_on_demand(c, &format!("{p}.on_demand"), o)?),
        (None, Some(r)) => Pool::Reserved(validate_reserved(c, &format!("{p}.reserved"), r)?),
        _ => {
            return Err(c.err(
                p,
                "must have exactly one of [deployment.on_demand] or [deployment.reserved]",
            ))
        }
    };
    Ok(Deployment {
        name: d.name.clone(),
        offering: d.offering.clone(),
        platform: d.platform.clone(),
        model: d.model.clone(),
        region: d.region.clone(),
        latency,
        pool,
    })
}

/// A deployment on a catalog platform must use a model that platform sells;
/// platform "custom" is outside the catalog and unchecked.
fn check_catalog(c: &Checker, p: &str, d: &RawDeployment) -> Result<(), InputError> {
    use crate::input::catalog::{Catalog, CUSTOM_PLATFORM};
    if d.platform == CUSTOM_PLATFORM {
        return Ok(());
    }
    let cat = Catalog::shipped();
    if cat.platform(&d.platform).is_none() {
        return Err(c.err(
            format!("{p}.platform"),
            format!(
                "unknown platform \"{}\"; the catalog has: {}, or \"{CUSTOM_PLATFORM}\" for a platform outside it",
                d.platform,
                cat.platform_ids().join(", ")
            ),
        ));
    }
    let models = cat.models_of(&d.platform);
    if !models.contains(&d.model.as_str()) {
        return Err(c.err(
            format!("{p}.model"),
            format!(
                "platform \"{}\" does not sell model \"{}\" (catalog); it sells: {}. Use platform = \"{CUSTOM_PLATFORM}\" for a model outside the catalog",
                d.platform,
                d.model,
                models.join(", ")
            ),
        ));
    }
    Ok(())
}

fn validate_on_demand(c: &Checker, p: &str, o: &RawOnDemand) -> Result<OnDemand, InputError> {
    let inf = f64::INFINITY;
    let input_per_1m = c.range(&format!("{p}.input_per_1m"), o.input_per_1m, 0.0, inf)?;
    let output_per_1m = c.range(&format!("{p}.output_per_1m"), o.output_per_1m, 0.0, inf)?;
    // A bucket smaller than one request would refuse everything.
    let rpm = o
        .rpm
        .map(|v| c.range(&format!("{p}.rpm"), v, 1.0, f64::INFINITY))
        .transpose()?;
    let tpm = o
        .tpm
        .map(|v| c.positive(&format!("{p}.tpm"), v))
        .transpose()?;
    let bg_mean = c.range(
        &format!("{p}.background_utilization"),
        o.background_utilization.unwrap_or(0.0),
        0.0,
        1.0,
    )?;
    let max_util = c.range(
        &format!("{p}.max_pool_utilization"),
        o.max_pool_utilization.unwrap_or(0.95),
        0.0,
        0.999,
    )?;
    // Without a pool size the pool is taken as far larger than your traffic.
    let shared_pool_tpm = match o.shared_pool_tpm {
        Some(v) => c.positive(&format!("{p}.shared_pool_tpm"), v)?,
        None => inf,
    };
    let shape = profile(
        c,
        p,
        ("background_hourly", &o.background_hourly),
        ("background_peak_hour", o.background_peak_hour),
        ("background_peak_to_trough", o.background_peak_to_trough),
    )?;
    let background = std::array::from_fn(|h| (shape[h] * bg_mean).min(max_util));
    Ok(OnDemand {
        input_per_1m,
        output_per_1m,
        rpm,
        tpm,
        shared_pool_tpm,
        background,
        max_pool_utilization: max_util,
    })
}

/// An hour-of-day profile given as 24 multipliers, as a peak/trough shape, or flat.
fn profile(
    c: &Checker,
    p: &str,
    hourly: (&str, &Option<Vec<f64>>),
    peak_hour: (&str, Option<f64>),
    ratio: (&str, Option<f64>),
) -> Result<[f64; 24], InputError> {
    match (hourly.1, peak_hour.1, ratio.1) {
        (Some(v), None, None) => c.hourly(&format!("{p}.{}", hourly.0), v),
        (None, peak, Some(r)) => {
            let r = c.range(&format!("{p}.{}", ratio.0), r, 1.0, 1e6)?;
            let peak = c.range(
                &format!("{p}.{}", peak_hour.0),
                peak.unwrap_or(14.0),
                0.0,
                23.999,
            )?;
            Ok(shape_profile(peak, r))
        }
        (None, Some(_), None) => Err(c.err(
            format!("{p}.{}", ratio.0),
            format!(
                "is needed with {} (the peak-to-trough ratio, >= 1)",
                peak_hour.0
            ),
        )),
        (None, None, None) => Ok([1.0; 24]),
        (Some(_), _, _) => Err(c.err(
            format!("{p}.{}", hourly.0),
            format!(
                "give either {} or {} with {}, not both",
                hourly.0, peak_hour.0, ratio.0
            ),
        )),
    }
}

fn validate_reserved(c: &Checker, p: &str, r: &RawReserved) -> Result<Reserved, InputError> {
    let units = c.whole(&format!("{p}.units"), r.units, 1)?;
    let min_units = c.whole(&format!("{p}.min_units"), r.min_units.unwrap_or(1.0), 1)?;
    let unit_step = c.whole(&format!("{p}.unit_step"), r.unit_step.unwrap_or(1.0), 1)?;
    if units < min_units || (units - min_units) % unit_step != 0 {
        return Err(c.err(
            format!("{p}.units"),
            format!(
                "must be a number of units the vendor sells: min_units = {min_units} plus a multiple of unit_step = {unit_step} (e.g. {}, {}, {}), got {units}",
                min_units,
                min_units + unit_step,
                min_units + 2 * unit_step
            ),
        ));
    }
    let tpm_per_unit = c.range(&format!("{p}.tpm_per_unit"), r.tpm_per_unit, 1.0, 1e12)?;
    let output_weight = c.range(
        &format!("{p}.output_weight"),
        r.output_weight.unwrap_or(1.0),
        0.0,
        1e3,
    )?;
    let concurrency_per_unit = c.whole(
        &format!("{p}.concurrency_per_unit"),
        r.concurrency_per_unit.unwrap_or(1.0),
        1,
    )?;
    if units as u64 * concurrency_per_unit as u64 > 10_000_000 {
        return Err(c.err(
            format!("{p}.concurrency_per_unit"),
            "units x concurrency_per_unit must be at most 10,000,000 slots",
        ));
    }
    c.one_of(&format!("{p}.term"), &r.term, TERMS)?;
    if r.price_per_unit_hour.is_empty() {
        return Err(c.err(
            format!("{p}.price_per_unit_hour"),
            format!(
                "must give a price per unit-hour for at least the chosen term \"{}\"",
                r.term
            ),
        ));
    }
    for (term, price) in &r.price_per_unit_hour {
        let kp = format!("{p}.price_per_unit_hour.{term}");
        c.one_of(&kp, term, TERMS)?;
        c.range(&kp, *price, 0.0, f64::INFINITY)?;
    }
    if !r.price_per_unit_hour.contains_key(&r.term) {
        return Err(c.err(
            format!("{p}.price_per_unit_hour"),
            format!(
                "has no price for the chosen term \"{}\" (it has: {})",
                r.term,
                r.price_per_unit_hour
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let max_queue = r
        .max_queue
        .map(|v| {
            let q = c.whole(&format!("{p}.max_queue"), v, 0)?;
            if q as usize > crate::model::capacity::MAX_TRACKED_QUEUE {
                return Err(c.err(
                    format!("{p}.max_queue"),
                    format!(
                        "must be at most {} requests (leave it out for no bound), got {q}",
                        crate::model::capacity::MAX_TRACKED_QUEUE
                    ),
                ));
            }
            Ok(q)
        })
        .transpose()?;
    let max_wait_us = r
        .max_wait_ms
        .map(|v| {
            c.range(&format!("{p}.max_wait_ms"), v, 0.0, 3.6e6)
                .map(ms_to_us)
        })
        .transpose()?;
    Ok(Reserved {
        units,
        min_units,
        unit_step,
        tpm_per_unit,
        output_weight,
        concurrency_per_unit,
        term: r.term.clone(),
        price_per_unit_hour: r.price_per_unit_hour.clone(),
        max_queue,
        max_wait_us,
    })
}

fn validate_class(
    c: &Checker,
    p: &str,
    k: &RawClass,
    deployments: &[Deployment],
    horizon_hours: u32,
) -> Result<Class, InputError> {
    if k.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    if k.route.is_empty() {
        return Err(c.err(
            format!("{p}.route"),
            "must name at least one deployment, in the order they are tried",
        ));
    }
    let mut route = Vec::with_capacity(k.route.len());
    for (j, name) in k.route.iter().enumerate() {
        let rp = format!("{p}.route[{j}]");
        let Some(idx) = deployments.iter().position(|d| &d.name == name) else {
            let known: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
            return Err(c.err(
                rp,
                format!(
                    "unknown deployment \"{name}\"; defined deployments: {}",
                    known.join(", ")
                ),
            ));
        };
        if route.contains(&idx) {
            return Err(c.err(
                rp,
                format!("deployment \"{name}\" appears twice in the route"),
            ));
        }
        let d = &deployments[idx];
        let substitutes = k.substitutes.as_deref().unwrap_or_default();
        if d.model != k.model && !substitutes.contains(&d.model) {
            return Err(c.err(
                rp,
                format!(
                    "deployment \"{name}\" serves model \"{}\", but the class needs \"{}\"{}",
                    d.model,
                    k.model,
                    if substitutes.is_empty() {
                        " (list allowed stand-ins in the class's substitutes)".to_string()
                    } else {
                        format!(" or a substitute ({})", substitutes.join(", "))
                    }
                ),
            ));
        }
        route.push(idx);
    }
    for key in k.tags.keys() {
        if key.is_empty() {
            return Err(c.err(format!("{p}.tags"), "tag names must not be empty"));
        }
    }
    let sla = match &k.sla {
        Some(s) => Some(Sla {
            ttft_us: ms_to_us(c.positive(&format!("{p}.sla.ttft_ms"), s.ttft_ms)?),
            percentile: c
                .percentile(&format!("{p}.sla.percentile"), s.percentile.unwrap_or(99.0))?,
        }),
        None => None,
    };
    let trace = match &k.arrivals.trace {
        Some(t) => Some(validate_trace(
            c,
            &format!("{p}.arrivals"),
            t,
            &k.arrivals,
            horizon_hours,
        )?),
        None => None,
    };
    let tokens = |key: &str, raw: &Option<RawTokens>, mean: f64| -> Result<TokenDist, InputError> {
        match (raw, &trace) {
            (Some(_), Some(_)) => Err(c.err(
                format!("{p}.{key}"),
                "comes from the trace when arrivals.trace is set; leave it out",
            )),
            (Some(t), None) => validate_tokens(c, &format!("{p}.{key}"), t),
            // A summary for reports and the closed form: the trace's mean.
            (None, Some(_)) => Ok(TokenDist::Fixed(mean.round() as u32)),
            (None, None) => Err(c.err(
                format!("{p}.{key}"),
                "is missing: give a token distribution, or replay a trace (arrivals.trace)",
            )),
        }
    };
    let (mi, mo) = trace
        .as_ref()
        .map_or((0.0, 0.0), |t| (t.stats.mean_input, t.stats.mean_output));
    let input_tokens = tokens("input_tokens", &k.input_tokens, mi)?;
    let output_tokens = tokens("output_tokens", &k.output_tokens, mo)?;
    let routing = match k.routing.as_deref().unwrap_or("ordered") {
        "ordered" => Routing::Ordered,
        "weighted" => {
            let Some(w) = &k.weights else {
                return Err(c.err(
                    format!("{p}.weights"),
                    format!(
                        "routing = \"weighted\" needs weights, one per route entry ({})",
                        route.len()
                    ),
                ));
            };
            if w.len() != route.len() {
                return Err(c.err(
                    format!("{p}.weights"),
                    format!(
                        "needs one weight per route entry ({}), got {}",
                        route.len(),
                        w.len()
                    ),
                ));
            }
            for (j, x) in w.iter().enumerate() {
                c.range(&format!("{p}.weights[{j}]"), *x, 0.0, 1e9)?;
            }
            if w.iter().sum::<f64>() <= 0.0 {
                return Err(c.err(format!("{p}.weights"), "must not all be 0"));
            }
            Routing::Weighted(w.clone())
        }
        "cheapest" => Routing::Cheapest,
        "fastest" => Routing::Fastest,
        other => {
            return Err(c.err(
                format!("{p}.routing"),
                format!("unknown value \"{other}\"; allowed: ordered, weighted, cheapest, fastest"),
            ))
        }
    };
    if k.weights.is_some() && !matches!(routing, Routing::Weighted(_)) {
        return Err(c.err(
            format!("{p}.weights"),
            "only applies with routing = \"weighted\"",
        ));
    }
    let (mean_in, mean_out) = (input_tokens.mean(), output_tokens.mean());
    // Static orders: a stable sort keeps the written order among equals.
    match routing {
        Routing::Cheapest => route.sort_by(|&a, &b| {
            let price = |d: usize| match &deployments[d].pool {
                Pool::Reserved(_) => 0.0,
                Pool::OnDemand(o) => mean_in * o.input_per_1m + mean_out * o.output_per_1m,
            };
            price(a).total_cmp(&price(b))
        }),
        Routing::Fastest => route.sort_by(|&a, &b| {
            let ttft = |d: usize| {
                let dep = &deployments[d];
                let slowdown = match &dep.pool {
                    Pool::OnDemand(o) => {
                        let bg = o.background.iter().sum::<f64>() / 24.0;
                        crate::model::capacity::OnDemandPool::slowdown(
                            bg.min(o.max_pool_utilization),
                        )
                    }
                    Pool::Reserved(_) => 1.0,
                };
                dep.latency.median_ms
                    + dep.latency.prefill_ms_per_1k_input * mean_in / 1000.0 * slowdown
            };
            ttft(a).total_cmp(&ttft(b))
        }),
        _ => {}
    }
    Ok(Class {
        name: k.name.clone(),
        model: k.model.clone(),
        substitutes: k.substitutes.clone().unwrap_or_default(),
        routing,
        route,
        random_stream: k.random_stream.clone().unwrap_or_else(|| k.name.clone()),
        tags: k.tags.clone(),
        sla,
        arrivals: match &trace {
            Some(t) => trace_summary(t),
            None => validate_arrivals(c, &format!("{p}.arrivals"), &k.arrivals)?,
        },
        trace,
        input_tokens,
        output_tokens,
    })
}

/// A flat arrival spec with the trace's mean rate, for reports.
fn trace_summary(t: &TraceSource) -> ArrivalSpec {
    let st = &t.stats;
    let span = (t.period_us() as f64 / 1e6).max(1e-9);
    ArrivalSpec {
        process: ArrivalProcess::Poisson,
        mean_rps: st.requests as f64 * t.rate_scale / span,
        hourly: [1.0; 24],
        weekday: [1.0; 7],
        overdispersion: 0.0,
        burst_interval_s: 60,
    }
}

fn validate_trace(
    c: &Checker,
    p: &str,
    file: &str,
    a: &RawArrivals,
    horizon_hours: u32,
) -> Result<TraceSource, InputError> {
    use crate::input::trace::{
        CsvMapping, TimeUnit, TraceFormat, TraceReader, FORMATS, TIME_UNITS,
    };
    for (k, v) in [
        ("mean_rps", a.mean_rps.is_some()),
        ("process", a.process.is_some()),
        ("hourly", a.hourly.is_some()),
        ("peak_hour", a.peak_hour.is_some()),
        ("peak_to_trough", a.peak_to_trough.is_some()),
        ("weekday", a.weekday.is_some()),
        ("overdispersion", a.overdispersion.is_some()),
        ("burst_interval_s", a.burst_interval_s.is_some()),
    ] {
        if v {
            return Err(c.err(
                format!("{p}.{k}"),
                "does not apply when arrivals come from a trace (use time_scale, rate_scale, offset_s, tile)",
            ));
        }
    }
    let format_name = a.format.as_deref().unwrap_or("");
    c.one_of(&format!("{p}.format"), format_name, FORMATS)?;
    let col = |k: &str, v: &Option<String>| -> Result<String, InputError> {
        v.clone()
            .ok_or_else(|| c.err(format!("{p}.{k}"), "is needed with format = \"csv\""))
    };
    let format = match format_name {
        "azure" => TraceFormat::Azure,
        "burstgpt" => TraceFormat::BurstGpt,
        "mooncake" => TraceFormat::Mooncake,
        _ => {
            let unit = a.time_unit.as_deref().unwrap_or("s");
            c.one_of(&format!("{p}.time_unit"), unit, TIME_UNITS)?;
            TraceFormat::Csv(CsvMapping {
                time: col("time_column", &a.time_column)?,
                time_unit: TimeUnit::parse(unit).unwrap_or(TimeUnit::Seconds),
                input: col("input_column", &a.input_column)?,
                output: col("output_column", &a.output_column)?,
                model: a.model_column.clone(),
            })
        }
    };
    if format_name != "csv" {
        for (k, v) in [
            ("time_column", &a.time_column),
            ("time_unit", &a.time_unit),
            ("input_column", &a.input_column),
            ("output_column", &a.output_column),
            ("model_column", &a.model_column),
        ] {
            if v.is_some() {
                return Err(c.err(format!("{p}.{k}"), "only applies with format = \"csv\""));
            }
        }
    }
    if a.model.is_some()
        && !matches!(&format, TraceFormat::BurstGpt)
        && !matches!(&format, TraceFormat::Csv(m) if m.model.is_some())
    {
        return Err(c.err(
            format!("{p}.model"),
            "needs a trace with a model column (burstgpt, or csv with model_column)",
        ));
    }
    let time_scale = c.range(
        &format!("{p}.time_scale"),
        a.time_scale.unwrap_or(1.0),
        1e-6,
        1e6,
    )?;
    let rate_scale = c.range(
        &format!("{p}.rate_scale"),
        a.rate_scale.unwrap_or(1.0),
        0.0,
        1000.0,
    )?;
    let offset_s = c.range(
        &format!("{p}.offset_s"),
        a.offset_s.unwrap_or(0.0),
        0.0,
        MAX_HORIZON_HOURS * 3600.0,
    )?;
    let skip_bad_rows = match a.bad_rows.as_deref().unwrap_or("stop") {
        "stop" => false,
        "skip" => true,
        other => {
            return Err(c.err(
                format!("{p}.bad_rows"),
                format!("unknown value \"{other}\"; allowed: stop, skip"),
            ))
        }
    };
    // Relative to the scenario file's folder.
    let path = c
        .file
        .parent()
        .map(|d| d.join(file))
        .unwrap_or_else(|| std::path::PathBuf::from(file));
    // One streaming pass: usable rows, span and mean tokens; bad rows stop
    // here (with file and line) unless the scenario skips them.
    let reader = TraceReader::open(&path, format.clone())
        .map_err(|e| c.err(format!("{p}.trace"), format!("\"{file}\": {e}")))?;
    let mut st = TraceStats::default();
    let (mut sum_in, mut sum_out) = (0.0, 0.0);
    // Requests per whole second after the first request (trace time), to
    // place them in simulated hours once the period is known.
    let mut per_second: Vec<u32> = Vec::new();
    for row in reader {
        match row {
            Ok(r) => {
                if a.model
                    .as_ref()
                    .is_some_and(|m| r.model.as_ref() != Some(m))
                {
                    continue;
                }
                if st.requests == 0 {
                    st.first_s = r.time_s;
                }
                st.last_s = r.time_s;
                st.requests += 1;
                sum_in += r.input as f64;
                sum_out += r.output as f64;
                let sec = (r.time_s - st.first_s).max(0.0) as usize;
                if sec < 100_000_000 {
                    if per_second.len() <= sec {
                        per_second.resize(sec + 1, 0);
                    }
                    per_second[sec] += 1;
                }
            }
            Err(bad) => {
                if !skip_bad_rows {
                    return Err(c.err(
                        format!("{p}.trace"),
                        format!("{bad} (set bad_rows = \"skip\" to skip such rows)"),
                    ));
                }
                st.bad_rows += 1;
                if st.bad_examples.len() < 5 {
                    st.bad_examples.push(bad.to_string());
                }
            }
        }
    }
    if st.requests == 0 {
        return Err(c.err(
            format!("{p}.trace"),
            format!("\"{file}\" has no usable rows"),
        ));
    }
    st.mean_input = sum_in / st.requests as f64;
    st.mean_output = sum_out / st.requests as f64;
    let tile = a.tile.unwrap_or(false);
    if tile && st.last_s <= st.first_s {
        return Err(c.err(
            format!("{p}.tile"),
            format!("\"{file}\": every usable row has the same time, so the trace has no length to repeat"),
        ));
    }
    let mut src = TraceSource {
        path,
        format,
        model: a.model.clone(),
        time_scale,
        rate_scale,
        offset_us: ms_to_us(offset_s * 1000.0),
        tile,
        skip_bad_rows,
        stats: st,
    };
    // Expected requests per simulated hour: each second's requests at
    // offset + pass x period + second / time_scale (to the second).
    let horizon_s = horizon_hours as f64 * 3600.0;
    let period_s = src.period_us() as f64 / 1e6;
    let offset = src.offset_us as f64 / 1e6;
    let mut expected = vec![0.0; horizon_hours as usize];
    let mut pass = 0u64;
    loop {
        let start = offset + pass as f64 * period_s;
        if start >= horizon_s {
            break;
        }
        for (sec, &n) in per_second.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let t = start + sec as f64 / time_scale;
            if t >= horizon_s {
                break;
            }
            expected[(t / 3600.0) as usize] += n as f64 * rate_scale;
        }
        pass += 1;
        if !tile {
            break;
        }
    }
    src.stats.expected_per_hour = expected;
    Ok(src)
}

fn validate_arrivals(c: &Checker, p: &str, a: &RawArrivals) -> Result<ArrivalSpec, InputError> {
    let Some(mean_rps) = a.mean_rps else {
        return Err(c.err(
            format!("{p}.mean_rps"),
            "is missing: the mean arrival rate in requests/s (or replay a trace with arrivals.trace)",
        ));
    };
    let process = match a.process.as_deref().unwrap_or("poisson") {
        "poisson" => ArrivalProcess::Poisson,
        "deterministic" => ArrivalProcess::Deterministic,
        other => {
            return Err(c.err(
                format!("{p}.process"),
                format!("unknown value \"{other}\"; allowed: poisson, deterministic"),
            ))
        }
    };
    let mean_rps = c.positive(&format!("{p}.mean_rps"), mean_rps)?;
    if mean_rps > 1e6 {
        return Err(c.err(
            format!("{p}.mean_rps"),
            format!("must be at most 1e6 requests/s, got {mean_rps}"),
        ));
    }
    let hourly = profile(
        c,
        p,
        ("hourly", &a.hourly),
        ("peak_hour", a.peak_hour),
        ("peak_to_trough", a.peak_to_trough),
    )?;
    let weekday = match &a.weekday {
        Some(v) if v.len() == 7 => {
            let n = normalised(c, &format!("{p}.weekday"), v)?;
            std::array::from_fn(|i| n[i])
        }
        Some(v) => {
            return Err(c.err(
                format!("{p}.weekday"),
                format!(
                    "must list 7 day-of-week factors, Monday first, got {}",
                    v.len()
                ),
            ))
        }
        None => [1.0; 7],
    };
    let overdispersion = c.range(
        &format!("{p}.overdispersion"),
        a.overdispersion.unwrap_or(0.0),
        0.0,
        100.0,
    )?;
    let burst_interval_s = a.burst_interval_s.unwrap_or(60);
    if burst_interval_s == 0 || 3600 % burst_interval_s != 0 {
        return Err(c.err(
            format!("{p}.burst_interval_s"),
            format!("must divide an hour (3600 s) evenly, e.g. 10, 60, 300, 3600; got {burst_interval_s}"),
        ));
    }
    if process == ArrivalProcess::Deterministic && overdispersion > 0.0 {
        return Err(c.err(
            format!("{p}.overdispersion"),
            "must be 0 for process = \"deterministic\"",
        ));
    }
    Ok(ArrivalSpec {
        process,
        mean_rps,
        hourly,
        weekday,
        overdispersion,
        burst_interval_s,
    })
}

fn validate_tokens(c: &Checker, p: &str, t: &RawTokens) -> Result<TokenDist, InputError> {
    let field = |k: &str| format!("{p}.{k}");
    let present: Vec<&str> = [
        ("value", t.value.is_some()),
        ("median", t.median.is_some()),
        ("p90", t.p90.is_some()),
        ("mean", t.mean.is_some()),
        ("quantiles", t.quantiles.is_some()),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| *k)
    .collect();
    let expect = |needed: &[&str]| -> Result<(), InputError> {
        for k in &present {
            if !needed.contains(k) {
                return Err(c.err(
                    field(k),
                    format!(
                        "is not used with dist = \"{}\" (it takes: {})",
                        t.dist,
                        needed.join(", ")
                    ),
                ));
            }
        }
        for k in needed {
            if !present.contains(k) {
                return Err(c.err(field(k), format!("is required with dist = \"{}\"", t.dist)));
            }
        }
        Ok(())
    };
    let max = match t.max {
        Some(m) => c.whole(&field("max"), m, 1)?,
        None => 10_000_000,
    };
    let dist = match t.dist.as_str() {
        "fixed" => {
            expect(&["value"])?;
            TokenDist::Fixed(
                c.whole(&field("value"), t.value.unwrap_or(0.0), 0)?
                    .min(max),
            )
        }
        "lognormal" => {
            expect(&["median", "p90"])?;
            let median = c.positive(&field("median"), t.median.unwrap_or(0.0))?;
            let p90 = c.positive(&field("p90"), t.p90.unwrap_or(0.0))?;
            if p90 < median {
                return Err(c.err(
                    field("p90"),
                    format!("must be >= median ({median}), got {p90}"),
                ));
            }
            TokenDist::lognormal(median, p90, max)
        }
        "exponential" => {
            expect(&["mean"])?;
            TokenDist::Exponential {
                mean: c.positive(&field("mean"), t.mean.unwrap_or(0.0))?,
                max,
            }
        }
        "empirical" => {
            expect(&["quantiles"])?;
            let q = t.quantiles.as_deref().unwrap_or(&[]);
            if q.len() < 2 {
                return Err(c.err(
                    field("quantiles"),
                    "needs at least two [percentile, tokens] points, from percentile 0 to 100",
                ));
            }
            let mut points = Vec::with_capacity(q.len());
            for (i, [pct, v]) in q.iter().enumerate() {
                let ip = format!("{}[{i}]", field("quantiles"));
                c.range(&ip, *pct, 0.0, 100.0)?;
                c.range(&ip, *v, 0.0, f64::INFINITY)?;
                if let Some((lp, lv)) = points.last().copied() {
                    if *pct / 100.0 <= lp || *v < lv {
                        return Err(c.err(
                            ip,
                            "percentiles must rise strictly and token counts must not fall",
                        ));
                    }
                }
                points.push((*pct / 100.0, *v));
            }
            if points[0].0 != 0.0 || points[points.len() - 1].0 != 1.0 {
                return Err(c.err(
                    field("quantiles"),
                    "must start at percentile 0 and end at percentile 100",
                ));
            }
            TokenDist::Empirical { points, max }
        }
        other => {
            return Err(c.err(
                field("dist"),
                format!(
                    "unknown value \"{other}\"; allowed: fixed, lognormal, exponential, empirical"
                ),
            ))
        }
    };
    Ok(dist)
}
