//! A design as a LiteLLM proxy config (`litellm_config.yaml`): what `llmcap export litellm`,
//! `llmcap pick` and `llmcap plan` write, so the routing that was simulated is the routing that
//! gets deployed.
//!
//! Each class is a model group; its route is written as `order` levels (ordered routing) or as
//! `weight`s at one level (weighted routing); rpm/tpm and per-token prices of on-demand
//! deployments, retries, timeout and cooldown go where LiteLLM reads them. Credentials and endpoints
//! are `os.environ/...` references for the operator to set. `model_info.llmcap_deployment` carries
//! the scenario's deployment table, so `llmcap import litellm` of this file reproduces the design
//! exactly (LiteLLM keeps model_info as metadata). What LiteLLM cannot express (the client's backoff
//! cap and jitter, the gateway's own latency, outages) is listed in the header.

use serde::Serialize;

use crate::domain::{Jitter, LiteCooldown, LiteLlm, Pool, Routing, Scenario, STRATEGIES};
use crate::error::OutputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::litellm::{
    DEFAULT_ALLOWED_FAILS, DEFAULT_COOLDOWN_TIME_SECONDS, DEFAULT_MAX_RETRIES,
};
use crate::report::output::single::MARKER;

/// The file name pick and plan write.
pub const FILE: &str = "litellm_config.yaml";

#[derive(Serialize)]
struct Config {
    model_list: Vec<Entry>,
    router_settings: RouterSettings,
}

#[derive(Serialize)]
struct Entry {
    model_name: String,
    litellm_params: Params,
    model_info: Info,
}

#[derive(Serialize)]
struct Params {
    model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aws_region_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vertex_project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vertex_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rpm: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tpm: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_cost_per_token: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_cost_per_token: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<f64>,
}

#[derive(Serialize)]
struct Info {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    llmcap_units: Option<u32>,
    llmcap_deployment: String,
}

#[derive(Serialize)]
struct RouterSettings {
    routing_strategy: &'static str,
    num_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<f64>,
    retry_after: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_fails: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_fails_policy: Option<std::collections::BTreeMap<&'static str, u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_pre_call_checks: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cooldown_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_cooldowns: Option<bool>,
}

/// Platforms LiteLLM has a provider for (a `custom` platform has none).
const PLATFORMS: &[&str] = &[
    "azure-openai",
    "bedrock",
    "vertex-ai",
    "openai",
    "anthropic",
    "gemini-api",
];

/// Whether every deployment of `sc` is on a platform LiteLLM can route to.
pub fn expressible(sc: &Scenario) -> bool {
    sc.deployments
        .iter()
        .all(|d| PLATFORMS.contains(&d.platform.as_str()))
}

/// The LiteLLM config of `sc`. `document` is the scenario file as parsed TOML: its deployment
/// tables (units and term taken from `sc`, which plan may have changed) travel in model_info.
pub fn render(sc: &Scenario, document: &toml::Table, from: &str) -> Result<String, OutputError> {
    let catalog = Catalog::shipped();
    let tables: Vec<&toml::Table> = document
        .get("deployment")
        .and_then(|d| d.as_array())
        .map(|a| a.iter().filter_map(|t| t.as_table()).collect())
        .unwrap_or_default();
    let mut notes: Vec<String> = Vec::new();
    let mut model_list = Vec::new();
    for c in &sc.classes {
        for (pos, &d) in c.route.iter().enumerate() {
            let dep = &sc.deployments[d];
            let mut table = tables
                .iter()
                .find(|t| t.get("name").and_then(|v| v.as_str()) == Some(dep.name.as_str()))
                .map(|t| (*t).clone())
                .ok_or_else(|| {
                    encode(format!(
                        "deployment {} is not in the scenario file",
                        dep.name
                    ))
                })?;
            if let Pool::Reserved(r) = &dep.pool {
                let res = table
                    .entry("reserved")
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let Some(res) = res.as_table_mut() {
                    res.insert("units".into(), toml::Value::Integer(r.units as i64));
                    res.insert("term".into(), toml::Value::String(r.term.clone()));
                }
            }
            let exact = toml::to_string(&table).map_err(|e| encode(e.to_string()))?;
            let (order, weight) = match (&c.routing, c.steps.is_empty()) {
                (Routing::Weighted(w), true) => (None, Some(w[pos])),
                (_, true) => (Some(pos as u32 + 1), None),
                // A LiteLLM router: the entry's step is its order level.
                (routing, false) => (
                    c.steps
                        .iter()
                        .position(|s| s.members.contains(&pos))
                        .map(|i| i as u32 + 1),
                    match routing {
                        Routing::Weighted(w) => Some(w[pos]),
                        _ => None,
                    },
                ),
            };
            let (mut p, base_model) = provider_params(dep, catalog, order, weight)?;
            let units = match &dep.pool {
                Pool::OnDemand(o) => {
                    p.rpm = o.rpm.map(|x| x.round() as u64);
                    // LiteLLM has one token limit: Anthropic's input and output limits
                    // (quota = "anthropic") are written as their sum, as the catalog maps them
                    // for the bucket shape.
                    let tpm = match o.quota {
                        crate::domain::Quota::Anthropic {
                            itpm: Some(i),
                            otpm: Some(t),
                            ..
                        } => o.tpm.or(Some(i + t)),
                        _ => o.tpm,
                    };
                    p.tpm = tpm.map(|x| x.round() as u64);
                    p.input_cost_per_token = Some(o.input_per_1m / 1e6);
                    p.output_cost_per_token = Some(o.output_per_1m / 1e6);
                    None
                }
                Pool::Reserved(r) => Some(r.units),
            };
            model_list.push(Entry {
                model_name: c.name.clone(),
                litellm_params: p,
                model_info: Info {
                    id: format!("{}/{}", c.name, dep.name),
                    base_model,
                    llmcap_units: units,
                    llmcap_deployment: exact,
                },
            });
        }
    }
    let cl = &sc.client;
    if cl.backoff_max_us != cl.backoff_base_us.max(8_000_000) || cl.jitter != Jitter::Full {
        notes.push(format!(
            "the client's backoff ({} ms doubling to {} ms, {:?} jitter) is not a LiteLLM setting: LiteLLM backs off on its own schedule",
            cl.backoff_base_us / 1000,
            cl.backoff_max_us / 1000,
            cl.jitter
        ));
    }
    if sc.gateway.latency_us != 15_000 {
        notes.push(format!(
            "the gateway's own latency ({} ms) is a measurement, not a setting",
            sc.gateway.latency_us / 1000
        ));
    }
    if !sc.outages.is_empty() {
        notes.push(format!(
            "{} outage(s) of the scenario are events, not settings",
            sc.outages.len()
        ));
    }
    let router_settings = match &sc.gateway.litellm {
        Some(g) => litellm_settings(sc, g, &mut notes),
        None => walk_settings(sc, &mut notes),
    };
    let yaml = yaml_serde::to_string(&Config {
        model_list,
        router_settings,
    })
    .map_err(|e| encode(e.to_string()))?;
    let mut out = format!(
        "{MARKER} export litellm from {from} (llmcap {}).\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(&format!(
        "# A LiteLLM proxy config for the simulated design: one model group per class, its route as\n# order levels (or weights), quotas, prices, retries, timeout and cooldown. Set the os.environ/...\n# credentials and endpoints. LiteLLM defaults not written here: num_retries {DEFAULT_MAX_RETRIES}, allowed_fails\n# {DEFAULT_ALLOWED_FAILS}, cooldown_time {DEFAULT_COOLDOWN_TIME_SECONDS} s. model_info.llmcap_* lets `llmcap import litellm` replay it exactly.\n"
    ));
    for n in &notes {
        out.push_str(&format!("# Not in this file: {n}.\n"));
    }
    out.push_str(&yaml);
    Ok(out)
}

/// The router settings of a route walk: the client's retries and timeout, the count cooldown.
fn walk_settings(sc: &Scenario, notes: &mut Vec<String>) -> RouterSettings {
    let cl = &sc.client;
    if let Some(c) = sc.gateway.cooldown {
        if c.window_us != c.duration_us {
            notes.push(format!(
                "the walk counts failures within cooldown_window_s ({} s); LiteLLM keeps its count until cooldown_time ({} s) passes without one",
                c.window_us as f64 / 1e6,
                c.duration_us as f64 / 1e6
            ));
        }
    }
    let (allowed_fails, allowed_fails_policy) = walk_allowed_fails(sc);
    RouterSettings {
        routing_strategy: "simple-shuffle",
        num_retries: cl.max_attempts.saturating_sub(1),
        timeout: cl.timeout_us.map(|t| t as f64 / 1e6),
        retry_after: cl.backoff_base_us as f64 / 1e6,
        allowed_fails,
        allowed_fails_policy,
        enable_pre_call_checks: None,
        cooldown_time: sc.gateway.cooldown.map(|c| c.duration_us as f64 / 1e6),
        disable_cooldowns: sc.gateway.cooldown.is_none().then_some(true),
    }
}

/// The walk's count cooldown in LiteLLM's terms. The walk cools a deployment AT its
/// `cooldown_failures`-th failure; LiteLLM cools on the failure that EXCEEDS `allowed_fails`
/// (`should_cooldown_based_on_allowed_fails_policy`: `updated_fails > allowed_fails`), so
/// `allowed_fails = cooldown_failures - 1` (0 cools on the first failure). LiteLLM applies its
/// count rule only when `allowed_fails` differs from its default (`_is_allowed_fails_set_on_router`);
/// when it equals the default the same number goes in `allowed_fails_policy`, which also selects it.
#[allow(clippy::type_complexity)]
fn walk_allowed_fails(
    sc: &Scenario,
) -> (
    Option<u32>,
    Option<std::collections::BTreeMap<&'static str, u32>>,
) {
    let Some(c) = sc.gateway.cooldown else {
        return (None, None);
    };
    let allowed = c.failures.saturating_sub(1);
    if allowed != DEFAULT_ALLOWED_FAILS {
        return (Some(allowed), None);
    }
    let policy = [
        "RateLimitErrorAllowedFails",
        "InternalServerErrorAllowedFails",
        "TimeoutErrorAllowedFails",
    ]
    .into_iter()
    .map(|k| (k, allowed))
    .collect();
    (None, Some(policy))
}

/// The router settings of a LiteLLM router (`gateway.router = "litellm"`), as they are.
fn litellm_settings(sc: &Scenario, g: &LiteLlm, notes: &mut Vec<String>) -> RouterSettings {
    if sc.client.max_attempts > 1 || sc.client.timeout_us.is_some() {
        notes.push("the client's own retries and deadline ([client]) are the application's".into());
    }
    if sc
        .classes
        .iter()
        .any(|c| c.steps.iter().any(|s| s.group > 0))
    {
        notes.push(
            "fallback groups inside a class are written as further order levels of its model group"
                .into(),
        );
    }
    let (allowed_fails, policy) = match g.cooldown {
        LiteCooldown::Count([a, b, c]) if a == b && b == c => (Some(a), None),
        LiteCooldown::Count([a, b, c]) => (
            None,
            Some(
                [
                    ("RateLimitErrorAllowedFails", a),
                    ("InternalServerErrorAllowedFails", b),
                    ("TimeoutErrorAllowedFails", c),
                ]
                .into_iter()
                .collect(),
            ),
        ),
        _ => (None, None),
    };
    RouterSettings {
        routing_strategy: STRATEGIES[g.strategy as usize],
        num_retries: g.num_retries,
        timeout: g.timeout_us.map(|t| t as f64 / 1e6),
        retry_after: g.retry_after_us as f64 / 1e6,
        allowed_fails,
        allowed_fails_policy: policy,
        enable_pre_call_checks: g.pre_call_checks.then_some(true),
        cooldown_time: Some(g.cooldown_us as f64 / 1e6),
        disable_cooldowns: (g.cooldown == LiteCooldown::Off).then_some(true),
    }
}

/// The provider-prefixed model, endpoint and credential references of a deployment, and the
/// base model LiteLLM needs for an Azure deployment.
fn provider_params(
    dep: &crate::domain::Deployment,
    catalog: &Catalog,
    order: Option<u32>,
    weight: Option<f64>,
) -> Result<(Params, Option<String>), OutputError> {
    let vendor_id = dep
        .offering
        .as_deref()
        .and_then(|o| catalog.offering(o))
        .and_then(|(_, o)| o.vendor_model_id.as_ref().map(|v| v.value.clone()))
        .unwrap_or_else(|| dep.model.clone());
    let env = env_name(&dep.name);
    let mut p = Params {
        model: String::new(),
        api_base: None,
        api_version: None,
        api_key: None,
        aws_region_name: None,
        vertex_project: None,
        vertex_location: None,
        rpm: None,
        tpm: None,
        input_cost_per_token: None,
        output_cost_per_token: None,
        order,
        weight,
    };
    let mut base_model = None;
    match dep.platform.as_str() {
        "azure-openai" => {
            // The deployment name is the operator's; the model travels in base_model.
            p.model = format!("azure/{}", dep.name);
            p.api_base = Some(format!("os.environ/AZURE_API_BASE_{env}"));
            p.api_key = Some(format!("os.environ/AZURE_API_KEY_{env}"));
            p.api_version = Some("os.environ/AZURE_API_VERSION".into());
            base_model = Some(format!("azure/{}", dep.model));
        }
        "bedrock" => {
            p.model = format!("bedrock/{vendor_id}");
            p.aws_region_name = dep.region.clone();
        }
        "vertex-ai" => {
            p.model = format!("vertex_ai/{vendor_id}");
            p.vertex_project = Some("os.environ/VERTEXAI_PROJECT".into());
            p.vertex_location = dep.region.clone();
        }
        "openai" => {
            p.model = format!("openai/{}", dep.model);
            p.api_key = Some("os.environ/OPENAI_API_KEY".into());
        }
        "anthropic" => {
            p.model = format!("anthropic/{vendor_id}");
            p.api_key = Some("os.environ/ANTHROPIC_API_KEY".into());
        }
        "gemini-api" => {
            p.model = format!("gemini/{}", dep.model);
            p.api_key = Some("os.environ/GEMINI_API_KEY".into());
        }
        other => {
            return Err(encode(format!(
                "deployment {} is on platform {other}, which has no LiteLLM provider llmcap knows",
                dep.name
            )))
        }
    }
    Ok((p, base_model))
}

/// Why the config cannot be written.
fn encode(message: String) -> OutputError {
    OutputError::Encode {
        what: FILE,
        message,
    }
}

/// A deployment name as an environment-variable suffix: `azure-gpt41` -> `AZURE_GPT41`.
fn env_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
