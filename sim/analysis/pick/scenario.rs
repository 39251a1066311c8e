//! The scenarios `pick` generates: client, gateway, deployments, classes and quotas.

use serde::Serialize;

use super::profile::{arrivals, Profile, Workload};
use super::quota::QuotaNeed;
use crate::analysis::plan::SlaTarget;
use crate::domain::Scenario;

// ---------------------------------------------------------------------------
// Scenario tables.
// ---------------------------------------------------------------------------

/// Client retry policy of every simulated scenario: the OpenAI Python SDK's
/// defaults (2 retries, 0.5 s initial and 8 s maximum delay; openai-python
/// `_constants.py`), full jitter, and a 60 s timeout counted as a failure
/// (assumptions, as in scenarios/baseline.toml).
fn client_table() -> toml::Table {
    let c = CLIENT;
    let mut t = toml::Table::new();
    t.insert("max_attempts".into(), (c.max_attempts as i64).into());
    t.insert("backoff_base_ms".into(), c.backoff_base_ms.into());
    t.insert("backoff_max_ms".into(), c.backoff_max_ms.into());
    t.insert("jitter".into(), "full".into());
    t.insert("timeout_ms".into(), c.timeout_ms.into());
    t
}

/// The client and gateway values every generated scenario uses (see
/// `client_table` and `gateway_table` for their sources); pick.md quotes them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClientGateway {
    pub max_attempts: u32,
    pub backoff_base_ms: f64,
    pub backoff_max_ms: f64,
    pub timeout_ms: f64,
    pub gateway_latency_ms: f64,
    pub cooldown_failures: u32,
    pub cooldown_window_s: f64,
    pub cooldown_s: f64,
}

pub const CLIENT: ClientGateway = ClientGateway {
    max_attempts: 3,
    backoff_base_ms: 500.0,
    backoff_max_ms: 8000.0,
    timeout_ms: 60_000.0,
    gateway_latency_ms: 15.0,
    cooldown_failures: 3,
    cooldown_window_s: 60.0,
    cooldown_s: 5.0,
};

/// The gateway of a two-provider design: LiteLLM router defaults
/// (allowed_fails 3 per minute, cooldown 5 s; litellm/constants.py) and an
/// assumed 15 ms proxy hop, as in scenarios/two_provider.toml.
fn gateway_table() -> toml::Table {
    let c = CLIENT;
    let mut g = toml::Table::new();
    g.insert("latency_ms".into(), c.gateway_latency_ms.into());
    g.insert(
        "cooldown_failures".into(),
        (c.cooldown_failures as i64).into(),
    );
    g.insert("cooldown_window_s".into(), c.cooldown_window_s.into());
    g.insert("cooldown_s".into(), c.cooldown_s.into());
    g
}

/// A deployment in a generated scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeploymentSpec {
    pub name: String,
    pub offering: String,
    /// Reserved: units and term.
    pub units: Option<u32>,
    pub term: Option<String>,
    /// On demand: the offering's vendor quota shape when the simulation enforces it (written
    /// `quota = "vendor"`; none: llmcap's per-minute buckets), and the quotas the simulation assumes when raised above the
    /// catalog's defaults (`itpm` and `otpm`: Anthropic's shape).
    pub quota: Option<String>,
    pub tpm: Option<f64>,
    pub rpm: Option<f64>,
    pub itpm: Option<f64>,
    pub otpm: Option<f64>,
}

impl DeploymentSpec {
    fn table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("name".into(), self.name.clone().into());
        t.insert("offering".into(), self.offering.clone().into());
        if let (Some(u), Some(term)) = (self.units, &self.term) {
            let mut r = toml::Table::new();
            r.insert("units".into(), (u as i64).into());
            r.insert("term".into(), term.clone().into());
            t.insert("reserved".into(), r.into());
        }
        let mut o = toml::Table::new();
        if self.quota.is_some() {
            o.insert("quota".into(), "vendor".into());
        }
        for (key, v) in [
            ("tpm", self.tpm),
            ("rpm", self.rpm),
            ("itpm", self.itpm),
            ("otpm", self.otpm),
        ] {
            if let Some(v) = v {
                o.insert(key.into(), v.into());
            }
        }
        if !o.is_empty() {
            t.insert("on_demand".into(), o.into());
        }
        t
    }
}

/// A class in a generated scenario.
#[derive(Debug, Clone)]
pub(super) struct ClassSpec<'a> {
    pub(super) workload: &'a Workload,
    pub(super) model: String,
    pub(super) substitutes: Vec<String>,
    pub(super) route: Vec<String>,
}

pub(super) fn scenario_table(
    profile: &Profile,
    name: &str,
    description: &str,
    classes: &[ClassSpec],
    deployments: &[DeploymentSpec],
    gateway: bool,
    outages: &[toml::Table],
) -> toml::Table {
    let mut t = toml::Table::new();
    let mut h = toml::Table::new();
    h.insert("name".into(), name.into());
    h.insert("description".into(), description.into());
    h.insert(
        "horizon_hours".into(),
        (profile.horizon_hours as i64).into(),
    );
    h.insert("seed".into(), profile.seed.into());
    h.insert("replications".into(), (profile.replications as i64).into());
    h.insert("start_weekday".into(), profile.start_weekday.clone().into());
    t.insert("scenario".into(), h.into());
    t.insert("client".into(), client_table().into());
    if gateway {
        t.insert("gateway".into(), gateway_table().into());
    }
    let sla = profile.sla.unwrap_or(NO_SLA);
    let classes: Vec<toml::Value> = classes
        .iter()
        .map(|c| {
            let w = c.workload;
            let mut k = toml::Table::new();
            k.insert("name".into(), w.name.clone().into());
            k.insert("model".into(), c.model.clone().into());
            if !c.substitutes.is_empty() {
                k.insert(
                    "substitutes".into(),
                    toml::Value::Array(c.substitutes.iter().map(|s| s.clone().into()).collect()),
                );
            }
            k.insert(
                "route".into(),
                toml::Value::Array(c.route.iter().map(|s| s.clone().into()).collect()),
            );
            // Every class draws its own traffic, whatever model serves it, so
            // all candidates see the same requests (common random numbers).
            k.insert("random_stream".into(), w.name.clone().into());
            if !w.tags.is_empty() {
                let tags: toml::Table = w
                    .tags
                    .iter()
                    .map(|(a, b)| (a.clone(), toml::Value::from(b.clone())))
                    .collect();
                k.insert("tags".into(), tags.into());
            }
            let mut s = toml::Table::new();
            s.insert("ttft_ms".into(), sla.ttft_ms.into());
            s.insert("percentile".into(), sla.percentile.into());
            k.insert("sla".into(), s.into());
            k.insert(
                "arrivals".into(),
                arrivals(w.mean_rps, w.peak_hour, w.peak_to_trough).into(),
            );
            k.insert("input_tokens".into(), w.input_tokens.clone());
            k.insert("output_tokens".into(), w.output_tokens.clone());
            if let Some(m) = w.max_tokens {
                k.insert("max_tokens".into(), (m as i64).into());
            }
            k.into()
        })
        .collect();
    t.insert("class".into(), toml::Value::Array(classes));
    t.insert(
        "deployment".into(),
        toml::Value::Array(deployments.iter().map(|d| d.table().into()).collect()),
    );
    if !outages.is_empty() {
        t.insert(
            "outage".into(),
            toml::Value::Array(outages.iter().cloned().map(toml::Value::Table).collect()),
        );
    }
    t
}

/// Without an SLA in the profile, a configuration only has to serve: half
/// the requests within the client timeout.
pub const NO_SLA: SlaTarget = SlaTarget {
    percentile: 50.0,
    ttft_ms: CLIENT.timeout_ms,
};

/// An on-demand deployment of `offering` with the quotas of `q`: the vendor's shape when the
/// catalog states one (`quota = "vendor"`), and each raised limit written over the catalog's.
pub(super) fn od_spec(name: String, offering: &str, q: &QuotaNeed) -> DeploymentSpec {
    DeploymentSpec {
        name,
        offering: offering.to_string(),
        units: None,
        term: None,
        quota: (q.shape != "bucket").then(|| q.shape.clone()),
        tpm: q.raised_of("tpm"),
        rpm: q.raised_of("rpm"),
        itpm: q.raised_of("itpm"),
        otpm: q.raised_of("otpm"),
    }
}

pub(super) fn build(table: toml::Table, profile: &Profile) -> Result<Scenario, PickError> {
    Scenario::from_table(table, &profile.file).map_err(|e| PickError::Internal(e.to_string()))
}

/// Errors of `pick` itself (the profile is already valid).
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error(
        "a generated scenario did not validate (a bug in llmcap pick or its catalog data): {0}"
    )]
    Internal(String),
    /// A merge of `pick --shard`: candidate `candidate`'s search needs a configuration its
    /// shard did not measure.
    #[error("candidate {candidate}: {missing}")]
    Unmeasured {
        candidate: usize,
        missing: crate::analysis::plan::Unmeasured,
    },
}
