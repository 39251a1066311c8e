//! `llmcap import litellm`: a LiteLLM proxy config (`config.yaml`) as a scenario.
//!
//! What maps to what (docs/gateway.md has the full table, with the LiteLLM version each default
//! was read from):
//! - `model_list[]`: each entry is a deployment; its `litellm_params.model` prefix names the
//!   platform, the rest the model; `rpm` / `tpm` become its quota, `input_cost_per_token` /
//!   `output_cost_per_token` its prices. Entries with the same endpoint (model, api_base, region,
//!   api_version) are one deployment: they share the platform's quota.
//! - each `model_name` is a model group and becomes a class whose route is the group's
//!   deployments by `order`, then its fallback groups' deployments (depth first, at most
//!   `max_fallbacks` deep).
//! - the scenario's gateway is a LiteLLM router (`router = "litellm"`, docs/model.md 8.2):
//!   `routing_strategy`, `num_retries`, `timeout` / `request_timeout`, `retry_after`,
//!   `allowed_fails` / `allowed_fails_policy`, `cooldown_time`, `disable_cooldowns` and
//!   `enable_pre_call_checks` become its keys; each class's route carries its groups and
//!   order levels. `router_settings` wins over `litellm_settings` where both set a key.
//!
//! Every other key is listed in a warning, never dropped silently.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_serde::Value;

mod design;
mod entry;
mod resolve;
mod routes;
mod yaml;

pub use yaml::parse_yaml;
use yaml::{describe, key_str, Ctx};

use crate::error::InputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::draft::Draft;
use crate::input::gateway::{ImportOptions, Imported};

/// LiteLLM's defaults, from litellm/constants.py (LiteLLM 1.80, read 2026-11).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
pub const DEFAULT_ALLOWED_FAILS: u32 = 3;
pub const DEFAULT_COOLDOWN_TIME_SECONDS: f64 = 5.0;
pub const ROUTER_MAX_FALLBACKS: usize = 5;
const CONSTANTS: &str = "litellm/constants.py, LiteLLM 1.80";

/// Keys of a model_list entry's litellm_params that the import reads.
const PARAMS_READ: &[&str] = &[
    "model",
    "rpm",
    "tpm",
    "order",
    "weight",
    "input_cost_per_token",
    "output_cost_per_token",
    "aws_region_name",
    "vertex_location",
    "region_name",
    "cooldown_time",
];
/// Keys that identify an endpoint or a credential: they decide which entries are one
/// deployment, and do not change the simulation otherwise.
const PARAMS_ENDPOINT: &[&str] = &[
    "api_base",
    "api_version",
    "api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_profile_name",
    "aws_role_name",
    "vertex_project",
    "vertex_credentials",
    "organization",
];
/// Router keys the import reads (from router_settings, else litellm_settings).
const ROUTER_READ: &[&str] = &[
    "routing_strategy",
    "num_retries",
    "timeout",
    "request_timeout",
    "retry_after",
    "allowed_fails",
    "allowed_fails_policy",
    "cooldown_time",
    "disable_cooldowns",
    "fallbacks",
    "default_fallbacks",
    "max_fallbacks",
    "enable_pre_call_checks",
    "enable_pre_call_check",
];

/// One LiteLLM deployment, resolved to a catalog offering.
#[derive(Debug, Clone)]
struct Dep {
    /// Index in model_list (first entry when merged).
    index: usize,
    name: String,
    offering: String,
    platform: String,
    model: String,
    /// Quota and price overrides (on_demand) or units and term (reserved).
    overrides: toml::Table,
    pool: &'static str,
    /// Where each override came from.
    provenance: Vec<String>,
    /// Endpoint identity: entries with equal keys are one deployment.
    identity: String,
    /// An exact scenario deployment table carried in model_info by `llmcap export litellm`.
    exact: Option<toml::Table>,
}

/// One model_list entry's place in its group.
#[derive(Debug, Clone)]
struct Member {
    dep: usize,
    order: Option<f64>,
    weight: Option<f64>,
}

/// Imports a LiteLLM proxy config.
pub fn import(text: &str, file: &Path, opts: &ImportOptions) -> Result<Imported, InputError> {
    let root = parse_yaml(text, file)?;
    let mut cx = Ctx {
        file,
        draft: Draft::default(),
    };
    let Some(top) = root.as_mapping() else {
        return Err(cx.err(
            ".",
            format!(
                "a LiteLLM config is a mapping with model_list (and router_settings, litellm_settings); got {}",
                describe(&root)
            ),
        ));
    };
    for (k, _) in top {
        let k = key_str(k);
        if !matches!(
            k.as_str(),
            "model_list" | "router_settings" | "litellm_settings"
        ) {
            cx.draft.warn(format!(
                "{k}: not modelled (llmcap reads model_list, router_settings and litellm_settings)"
            ));
        }
    }
    let settings = router_settings(&mut cx, top)?;
    let Some(list) = top.get("model_list") else {
        return Err(cx.err(
            "model_list",
            "missing: a LiteLLM config lists its deployments under model_list",
        ));
    };
    let Some(list) = list.as_sequence() else {
        return Err(cx.err(
            "model_list",
            format!("must be a list of deployments, got {}", describe(list)),
        ));
    };
    let catalog = Catalog::shipped();
    let mut deps: Vec<Dep> = Vec::new();
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    let mut used_provisioned: Vec<String> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = format!("model_list[{i}]");
        let before = cx.draft.warnings.len();
        let Some((group, dep, member)) = entry::read_entry(
            &mut cx,
            &path,
            i,
            entry,
            catalog,
            opts,
            &mut used_provisioned,
        )?
        else {
            let group = entry
                .get("model_name")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let why = cx.draft.warnings[before..]
                .last()
                .cloned()
                .unwrap_or_default();
            skipped.push((group, why));
            continue;
        };
        let di = match deps.iter().position(|d| d.identity == dep.identity) {
            Some(di) => di,
            None => {
                deps.push(dep);
                deps.len() - 1
            }
        };
        let member = Member { dep: di, ..member };
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, members)) => members.push(member),
            None => groups.push((group, vec![member])),
        }
    }
    for (name, _) in &opts.provisioned {
        if !used_provisioned.contains(name) {
            return Err(cx.err(
                "--provisioned",
                format!(
                    "{name} names no deployment of the config (use model_info.id, model_name or litellm_params.model)"
                ),
            ));
        }
    }
    if groups.is_empty() {
        let mut reasons: Vec<String> = skipped.iter().take(3).map(|(_, w)| w.clone()).collect();
        if skipped.len() > 3 {
            reasons.push(format!("and {} more", skipped.len() - 3));
        }
        return Err(cx.err(
            "model_list",
            format!(
                "no deployment llmcap can model ({} skipped: {})",
                skipped.len(),
                reasons.join("; ")
            ),
        ));
    }
    let skipped_groups: Vec<String> = skipped
        .into_iter()
        .map(|(g, _)| g)
        .filter(|g| !groups.iter().any(|(x, _)| x == g))
        .collect();
    unique_names(&mut deps);
    let mut draft = design::build(cx, file, &settings, &deps, &groups, &skipped_groups, opts)?;
    let classes = draft.count("class");
    let text = draft.render();
    Ok(Imported {
        toml: text,
        warnings: std::mem::take(&mut draft.warnings),
        deployments: deps.len(),
        classes,
    })
}

/// The router settings: `router_settings` wins over `litellm_settings`; unread keys are warned.
fn router_settings<'a>(
    cx: &mut Ctx,
    top: &'a yaml_serde::Mapping,
) -> Result<BTreeMap<String, (String, &'a Value)>, InputError> {
    let mut out: BTreeMap<String, (String, &'a Value)> = BTreeMap::new();
    for section in ["litellm_settings", "router_settings"] {
        let Some(v) = top.get(section) else { continue };
        if v.is_null() {
            continue;
        }
        let Some(m) = v.as_mapping() else {
            return Err(cx.err(section, format!("must be a mapping, got {}", describe(v))));
        };
        for (k, v) in m {
            let k = key_str(k);
            if ROUTER_READ.contains(&k.as_str()) {
                if let Some((was, old)) = out.get(&k) {
                    if *old != v {
                        cx.draft.warn(format!(
                            "{section}.{k} overrides {was} (router_settings wins, as in LiteLLM's proxy)"
                        ));
                    }
                }
                out.insert(k.clone(), (format!("{section}.{k}"), v));
            } else {
                cx.draft
                    .warn(format!("{section}.{k}: not modelled by llmcap"));
            }
        }
    }
    Ok(out)
}

/// Deployment names are unique: a repeated name gets -2, -3, ...
fn unique_names(deps: &mut [Dep]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for d in deps.iter_mut() {
        let n = seen.entry(d.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            d.name = format!("{}-{}", d.name, n);
        }
    }
}

/// The message of an error without its file and key (for "skipped: ..." warnings).
fn reason(e: &InputError) -> String {
    match e {
        InputError::Invalid { message, .. } | InputError::Parse { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
