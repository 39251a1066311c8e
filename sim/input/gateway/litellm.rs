//! `llmcap import litellm`: a LiteLLM proxy config (`config.yaml`) as a scenario.
//!
//! What maps to what (docs/gateway.md has the full table, with the LiteLLM version each default
//! was read from):
//! - `model_list[]`: each entry is a deployment; its `litellm_params.model` prefix names the
//!   platform, the rest the model; `rpm` / `tpm` become its quota, `input_cost_per_token` /
//!   `output_cost_per_token` its prices. Entries with the same endpoint (model, api_base, region,
//!   api_version) are one deployment: they share the platform's quota.
//! - each `model_name` is a model group and becomes a class whose route is the group's
//!   deployments by `order`, then its fallback groups' deployments (at most `max_fallbacks`);
//!   simple-shuffle draws the first deployment by `weight` (else `rpm`, else `tpm`).
//! - `num_retries`, `timeout` / `request_timeout`, `retry_after`, `allowed_fails`,
//!   `cooldown_time`, `disable_cooldowns` become the client's retries and timeout and the
//!   gateway's cooldown. `router_settings` wins over `litellm_settings` where both set a key.
//!
//! Every other key is listed in a warning, never dropped silently.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_serde::Value;

use crate::error::InputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::draft::{Draft, Section};
use crate::input::gateway::models;
use crate::input::gateway::traffic;
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
    "cooldown_time",
    "disable_cooldowns",
    "fallbacks",
    "default_fallbacks",
    "max_fallbacks",
    "enable_pre_call_checks",
    "enable_pre_call_check",
];

struct Ctx<'a> {
    file: &'a Path,
    draft: Draft,
}

impl Ctx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: self.file.to_path_buf(),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// A number: YAML numbers, and strings YAML 1.1 reads as numbers (`80_000`); `os.environ/`
    /// references are ignored with a warning.
    fn number(&mut self, path: &str, v: &Value) -> Result<Option<f64>, InputError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(path, format!("must be a finite number, got {n}"))),
            },
            Value::String(s) if s.starts_with("os.environ/") => {
                self.draft.warn(format!(
                    "{path}: {s} is read from the environment when LiteLLM starts; ignored"
                ));
                Ok(None)
            }
            Value::String(s) => {
                let cleaned: String = s.chars().filter(|c| *c != '_').collect();
                match cleaned.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && !cleaned.trim().is_empty() => {
                        if s.contains('_') {
                            self.draft.warn(format!(
                                "{path}: \"{s}\" read as {x} (YAML 1.1 and PyYAML, which LiteLLM uses, read underscores in numbers; YAML 1.2 reads a string)"
                            ));
                        }
                        Ok(Some(x))
                    }
                    _ => Err(self.err(path, format!("must be a number, got \"{s}\""))),
                }
            }
            other => Err(self.err(path, format!("must be a number, got {}", describe(other)))),
        }
    }

    fn string<'v>(&self, path: &str, v: &'v Value) -> Result<&'v str, InputError> {
        v.as_str()
            .ok_or_else(|| self.err(path, format!("must be a string, got {}", describe(v))))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("\"{s}\""),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

fn key_str(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => describe(other),
    }
}

/// Parses YAML into a value, with the line and column of a syntax error.
pub fn parse_yaml(text: &str, file: &Path) -> Result<Value, InputError> {
    yaml_serde::from_str::<Value>(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        InputError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            path: ".".into(),
            message: format!("not valid YAML: {e}"),
        }
    })
}

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
    rpm: Option<f64>,
    tpm: Option<f64>,
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
        let Some((group, dep, member)) = read_entry(
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
    let mut draft = build(cx, file, &settings, &deps, &groups, &skipped_groups, opts)?;
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

/// A region hint: aws_region_name, vertex_location or region_name.
fn region_hint(params: &yaml_serde::Mapping) -> Option<String> {
    ["aws_region_name", "vertex_location", "region_name"]
        .iter()
        .find_map(|k| params.get(*k).and_then(|v| v.as_str()))
        .filter(|s| !s.starts_with("os.environ/"))
        .map(|s| s.to_string())
}

/// Reads one model_list entry. `None` when it is skipped (unsupported, with --skip-unsupported).
fn read_entry(
    cx: &mut Ctx,
    path: &str,
    i: usize,
    entry: &Value,
    catalog: &Catalog,
    opts: &ImportOptions,
    used_provisioned: &mut Vec<String>,
) -> Result<Option<(String, Dep, Member)>, InputError> {
    let Some(m) = entry.as_mapping() else {
        return Err(cx.err(path, format!("must be a mapping, got {}", describe(entry))));
    };
    let group = match m.get("model_name") {
        Some(v) => cx.string(&format!("{path}.model_name"), v)?.to_string(),
        None => {
            return Err(cx.err(
                &format!("{path}.model_name"),
                "missing: each deployment belongs to a model group (model_name)",
            ))
        }
    };
    let Some(params) = m.get("litellm_params").and_then(|p| p.as_mapping()) else {
        return Err(cx.err(
            &format!("{path}.litellm_params"),
            "missing or not a mapping: each deployment has litellm_params with its model",
        ));
    };
    let ppath = format!("{path}.litellm_params");
    let model = match params.get("model") {
        Some(v) => cx.string(&format!("{ppath}.model"), v)?.to_string(),
        None => {
            return Err(cx.err(
                &format!("{ppath}.model"),
                "missing: the provider-prefixed model, e.g. azure/gpt-4o or bedrock/anthropic.claude-sonnet-4-20250514-v1:0",
            ))
        }
    };
    let info = m.get("model_info").and_then(|v| v.as_mapping());
    for (k, _) in m {
        let k = key_str(k);
        if !matches!(
            k.as_str(),
            "model_name" | "litellm_params" | "model_info" | "rpm" | "tpm"
        ) {
            cx.draft.warn(format!("{path}.{k}: not modelled by llmcap"));
        }
    }
    for (k, _) in params {
        let k = key_str(k);
        if !PARAMS_READ.contains(&k.as_str()) && !PARAMS_ENDPOINT.contains(&k.as_str()) {
            cx.draft
                .warn(format!("{ppath}.{k}: not modelled by llmcap"));
        }
    }
    // rpm / tpm inside litellm_params (usual) or beside it (as some LiteLLM examples write them).
    let limit = |cx: &mut Ctx, key: &str| -> Result<Option<(f64, String)>, InputError> {
        let inside = match params.get(key) {
            Some(v) => cx.number(&format!("{ppath}.{key}"), v)?,
            None => None,
        };
        let beside = match m.get(key) {
            Some(v) => cx.number(&format!("{path}.{key}"), v)?,
            None => None,
        };
        match (inside, beside) {
            (Some(a), Some(b)) if a != b => Err(cx.err(
                &format!("{path}.{key}"),
                format!("conflicts with {ppath}.{key} ({b} vs {a}); keep one"),
            )),
            (Some(a), _) => Ok(Some((a, format!("{ppath}.{key}")))),
            (None, Some(b)) => Ok(Some((b, format!("{path}.{key}")))),
            (None, None) => Ok(None),
        }
    };
    let rpm = limit(cx, "rpm")?;
    let tpm = limit(cx, "tpm")?;
    let num = |cx: &mut Ctx, key: &str| -> Result<Option<f64>, InputError> {
        match params.get(key) {
            Some(v) => cx.number(&format!("{ppath}.{key}"), v),
            None => Ok(None),
        }
    };
    let order = num(cx, "order")?;
    let weight = num(cx, "weight")?;
    let in_cost = num(cx, "input_cost_per_token")?;
    let out_cost = num(cx, "output_cost_per_token")?;
    if let Some(w) = weight {
        if w < 0.0 {
            return Err(cx.err(&format!("{ppath}.weight"), format!("must be ≥ 0, got {w}")));
        }
    }
    // An exact deployment table written by `llmcap export litellm`.
    let exact = match info.and_then(|i| i.get("llmcap_deployment")) {
        Some(v) => {
            let s = cx.string(&format!("{path}.model_info.llmcap_deployment"), v)?;
            let t: toml::Table = toml::from_str(s).map_err(|e| {
                cx.err(
                    &format!("{path}.model_info.llmcap_deployment"),
                    format!("not a TOML deployment table: {}", e.message()),
                )
            })?;
            Some(t)
        }
        None => None,
    };
    let id = info
        .and_then(|i| i.get("id"))
        .and_then(|v| v.as_str())
        .map(String::from);
    let resolved = resolve(cx, path, &model, &group, info, catalog, exact.as_ref());
    let (platform, cat_model, from_group) = match resolved {
        Ok(r) => r,
        Err(e) if opts.skip_unsupported => {
            cx.draft
                .warn(format!("{path} ({group}: {model}) skipped: {}", reason(&e)));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    // Provisioned: --provisioned NAME=UNITS, model_info.llmcap_units, or a Bedrock
    // provisioned-model ARN (which needs units).
    let names = [Some(group.as_str()), id.as_deref(), Some(model.as_str())];
    let flag = opts
        .provisioned
        .iter()
        .find(|(n, _)| names.contains(&Some(n.as_str())));
    if let Some((n, _)) = flag {
        used_provisioned.push(n.clone());
    }
    let info_units = match info.and_then(|i| i.get("llmcap_units")) {
        Some(v) => cx.number(&format!("{path}.model_info.llmcap_units"), v)?,
        None => None,
    };
    let units: Option<(u32, String)> = match (flag, info_units) {
        (Some((n, u)), _) => Some((*u, format!("--provisioned {n}={u}"))),
        (None, Some(u)) if u >= 1.0 && u.fract() == 0.0 && u <= u32::MAX as f64 => {
            Some((u as u32, format!("{path}.model_info.llmcap_units")))
        }
        (None, Some(u)) => {
            return Err(cx.err(
                &format!("{path}.model_info.llmcap_units"),
                format!("must be a whole number of units ≥ 1, got {u}"),
            ))
        }
        (None, None) => None,
    };
    if model.contains("provisioned-model/") && units.is_none() && exact.is_none() {
        return Err(cx.err(
            &format!("{ppath}.model"),
            format!(
                "a Bedrock provisioned-model ARN: say how many model units it has with --provisioned {}=UNITS or model_info.llmcap_units",
                id.as_deref().unwrap_or(&group)
            ),
        ));
    }
    let region = region_hint(params);
    let pool = if units.is_some() {
        "reserved"
    } else {
        "on_demand"
    };
    let mut provenance = Vec::new();
    if from_group {
        provenance.push(format!(
            "model {cat_model} read from the model group's name: an Azure model string names the deployment ({model}); set model_info.base_model to say which model it serves"
        ));
    }
    let (offering, overrides) = match &exact {
        Some(t) => (
            t.get("offering")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            t.clone(),
        ),
        None => {
            let Some((offering, o, by_region)) =
                models::offering(catalog, platform, &cat_model, pool, region.as_deref())
            else {
                let e = cx.err(
                    &format!("{ppath}.model"),
                    format!(
                        "{platform} sells no {} capacity for {cat_model} in the catalog",
                        pool.replace('_', "-")
                    ),
                );
                if opts.skip_unsupported {
                    cx.draft.warn(format!("{path} skipped: {}", reason(&e)));
                    return Ok(None);
                }
                return Err(e);
            };
            provenance.push(format!(
                "offering: {}{}",
                if by_region {
                    format!("serves {}", region.as_deref().unwrap_or(""))
                } else if region.is_some() {
                    format!(
                        "no {platform} offering of {cat_model} lists region {}; the catalog's first ({})",
                        region.as_deref().unwrap_or(""),
                        o.regions.value.join(",")
                    )
                } else {
                    "the config names no region or deployment type; the catalog's first".into()
                },
                if platform == "azure-openai" && pool == "on_demand" {
                    " (Azure: the deployment type is not in a LiteLLM config; change the offering if yours is Data Zone or Regional)"
                } else {
                    ""
                }
            ));
            let mut t = toml::Table::new();
            match &units {
                Some((u, from)) => {
                    let mut r = toml::Table::new();
                    r.insert("units".into(), toml::Value::Integer(*u as i64));
                    r.insert("term".into(), "monthly".into());
                    if !o
                        .reserved
                        .as_ref()
                        .is_some_and(|r| r.price_per_unit_hour.contains_key("monthly"))
                    {
                        let first = o
                            .reserved
                            .as_ref()
                            .and_then(|r| r.price_per_unit_hour.keys().next().cloned())
                            .unwrap_or_else(|| "hourly".into());
                        r.insert("term".into(), first.into());
                    }
                    provenance.push(format!(
                        "units from {from}; term assumed {} (a config does not say how the capacity is bought)",
                        r["term"]
                    ));
                    t.insert("reserved".into(), r.into());
                }
                None => {
                    let mut od = toml::Table::new();
                    if let Some((v, from)) = &rpm {
                        od.insert("rpm".into(), toml::Value::Float(*v));
                        provenance.push(format!("rpm from {from}"));
                    }
                    if let Some((v, from)) = &tpm {
                        od.insert("tpm".into(), toml::Value::Float(*v));
                        provenance.push(format!("tpm from {from}"));
                    }
                    if let Some(c) = in_cost {
                        od.insert("input_per_1m".into(), toml::Value::Float(c * 1e6));
                        provenance.push(format!("input price from {ppath}.input_cost_per_token"));
                    }
                    if let Some(c) = out_cost {
                        od.insert("output_per_1m".into(), toml::Value::Float(c * 1e6));
                        provenance.push(format!("output price from {ppath}.output_cost_per_token"));
                    }
                    if !od.is_empty() {
                        t.insert("on_demand".into(), od.into());
                    }
                }
            }
            t.insert("offering".into(), offering.clone().into());
            (offering, t)
        }
    };
    let mut identity_parts = vec![offering.clone(), model.clone()];
    for k in PARAMS_ENDPOINT
        .iter()
        .chain(["aws_region_name", "vertex_location", "region_name"].iter())
    {
        if let Some(v) = params.get(*k) {
            identity_parts.push(format!("{k}={}", describe(v)));
        }
    }
    identity_parts.push(crate::input::gateway::draft::inline(&toml::Value::Table(
        overrides.clone(),
    )));
    if let Some(n) = exact
        .as_ref()
        .and_then(|t| t.get("name"))
        .and_then(|v| v.as_str())
    {
        identity_parts = vec![format!("llmcap:{n}")];
    }
    let name = exact
        .as_ref()
        .and_then(|t| t.get("name"))
        .and_then(|v| v.as_str())
        .map(String::from)
        .or(id)
        .unwrap_or_else(|| group.clone());
    let dep = Dep {
        index: i,
        name,
        offering,
        platform: platform.to_string(),
        model: cat_model,
        overrides,
        pool,
        provenance,
        identity: identity_parts.join("|"),
        exact,
    };
    let member = Member {
        dep: 0,
        order,
        weight,
        rpm: rpm.map(|r| r.0),
        tpm: tpm.map(|t| t.0),
    };
    Ok(Some((group, dep, member)))
}

/// The message of an error without its file and key (for "skipped: ..." warnings).
fn reason(e: &InputError) -> String {
    match e {
        InputError::Invalid { message, .. } | InputError::Parse { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The platform and catalog model of a LiteLLM model string, and whether the model was read
/// from the group's name (an Azure deployment named otherwise).
fn resolve(
    cx: &Ctx,
    path: &str,
    model: &str,
    group: &str,
    info: Option<&yaml_serde::Mapping>,
    catalog: &Catalog,
    exact: Option<&toml::Table>,
) -> Result<(&'static str, String, bool), InputError> {
    let mpath = format!("{path}.litellm_params.model");
    if model.contains('*') {
        return Err(cx.err(
            &mpath,
            format!("\"{model}\" is a wildcard route (any model of a provider); llmcap needs one model per deployment"),
        ));
    }
    let (prefix, rest) = match model.split_once('/') {
        Some((p, r)) => (Some(p), r),
        None => (None, model),
    };
    let platform = match prefix {
        Some(p) => match models::platform_of_prefix(p) {
            Some(platform) => platform,
            None => {
                return Err(cx.err(
                    &mpath,
                    format!(
                        "provider prefix \"{p}/\" is not one llmcap models; known: {}",
                        models::known_prefixes()
                    ),
                ))
            }
        },
        // LiteLLM infers the provider of a bare model name from its own model list.
        None if rest.starts_with("gpt-")
            || rest.starts_with("o1")
            || rest.starts_with("o3")
            || rest.starts_with("o4")
            || rest.starts_with("chatgpt") =>
        {
            "openai"
        }
        None if rest.starts_with("claude") => "anthropic",
        None => {
            return Err(cx.err(
                &mpath,
                format!(
                    "\"{model}\" has no provider prefix and is not an OpenAI or Anthropic model name; write it with one of: {}",
                    models::known_prefixes()
                ),
            ))
        }
    };
    if let Some(t) = exact {
        let m = t
            .get("model")
            .and_then(|v| v.as_str())
            .map(String::from)
            .or_else(|| {
                t.get("offering")
                    .and_then(|v| v.as_str())
                    .and_then(|o| catalog.offering(o))
                    .map(|(_, o)| o.model.clone())
            });
        if let Some(m) = m {
            return Ok((platform, m, false));
        }
    }
    // The model id: a Bedrock route (converse/, invoke/) and an ARN's base model aside.
    let mut id = rest;
    for route in ["converse/", "invoke/", "converse_like/"] {
        if let Some(r) = id.strip_prefix(route) {
            id = r;
        }
    }
    let base = info
        .and_then(|i| i.get("base_model"))
        .and_then(|v| v.as_str())
        .map(|b| b.split_once('/').map_or(b, |(_, r)| r));
    let arn = id.starts_with("arn:");
    let candidates: Vec<&str> = match (base, arn, platform) {
        (Some(b), _, _) => vec![b, id],
        (None, true, _) => {
            return Err(cx.err(
                &mpath,
                "an ARN names no model: set model_info.base_model (e.g. bedrock/meta.llama2-70b-chat-v1)",
            ))
        }
        // An Azure deployment name is the customer's; it often is the model name.
        (None, false, _) => vec![id],
    };
    for c in &candidates {
        if let Some(m) = models::catalog_model(catalog, platform, c) {
            return Ok((platform, m, false));
        }
    }
    if platform == "azure-openai" && base.is_none() {
        if let Some(m) = models::catalog_model(catalog, platform, group) {
            return Ok((platform, m, true));
        }
    }
    let closest = models::closest_models(catalog, Some(platform), candidates[0]);
    let hint = if platform == "azure-openai" && base.is_none() {
        " (an Azure model string names the deployment: set model_info.base_model to the model it serves)"
    } else {
        ""
    };
    Err(cx.err(
        &mpath,
        format!(
            "{platform} does not sell \"{}\" in the catalog{hint}; closest: {}",
            candidates[0],
            closest.join(", ")
        ),
    ))
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

/// Fallback groups per group, from `fallbacks` (a list of one-key mappings) and
/// `default_fallbacks` (a list of groups).
fn fallbacks(
    cx: &mut Ctx,
    settings: &BTreeMap<String, (String, &Value)>,
    groups: &[String],
    skipped: &[String],
) -> Result<BTreeMap<String, Vec<String>>, InputError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Ok(true): a group of the scenario; Ok(false): a group whose deployments were skipped.
    let known = |cx: &mut Ctx, path: &str, g: &str| -> Result<bool, InputError> {
        if groups.iter().any(|x| x == g) {
            Ok(true)
        } else if skipped.iter().any(|x| x == g) {
            cx.draft.warn(format!(
                "{path}: model group \"{g}\" was skipped, so this fallback is dropped"
            ));
            Ok(false)
        } else {
            Err(cx.err(
                path,
                format!(
                    "names model group \"{g}\", which model_list does not define (or whose deployments were skipped); groups: {}",
                    groups.join(", ")
                ),
            ))
        }
    };
    if let Some((path, v)) = settings.get("fallbacks") {
        let Some(list) = v.as_sequence() else {
            return Err(cx.err(
                path,
                format!(
                    "must be a list like [{{\"group\": [\"fallback\"]}}], got {}",
                    describe(v)
                ),
            ));
        };
        for (i, item) in list.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(m) = item.as_mapping() else {
                return Err(cx.err(
                    &ipath,
                    format!(
                        "must be a mapping {{group: [fallbacks]}}, got {}",
                        describe(item)
                    ),
                ));
            };
            for (k, v) in m {
                let g = key_str(k);
                let gpath = format!("{ipath}.{g}");
                let keep = known(cx, &gpath, &g)?;
                let targets: Vec<String> = match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(s) => s
                        .iter()
                        .map(|x| cx.string(&gpath, x).map(String::from))
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(cx.err(
                            &gpath,
                            format!("must be a list of model groups, got {}", describe(other)),
                        ))
                    }
                };
                let mut kept = Vec::new();
                for t in targets {
                    if known(cx, &gpath, &t)? {
                        kept.push(t);
                    }
                }
                if keep {
                    out.entry(g).or_default().extend(kept);
                }
            }
        }
    }
    if let Some((path, v)) = settings.get("default_fallbacks") {
        let Some(list) = v.as_sequence() else {
            return Err(cx.err(
                path,
                format!("must be a list of model groups, got {}", describe(v)),
            ));
        };
        let mut defaults = Vec::new();
        for (i, x) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let g = cx.string(&p, x)?.to_string();
            if known(cx, &p, &g)? {
                defaults.push(g);
            }
        }
        for g in groups {
            out.entry(g.clone())
                .or_insert_with(|| defaults.iter().filter(|d| *d != g).cloned().collect());
        }
    }
    Ok(out)
}

/// Writes the scenario.
fn build(
    mut cx: Ctx,
    file: &Path,
    settings: &BTreeMap<String, (String, &Value)>,
    deps: &[Dep],
    groups: &[(String, Vec<Member>)],
    skipped_groups: &[String],
    opts: &ImportOptions,
) -> Result<Draft, InputError> {
    let group_names: Vec<String> = groups.iter().map(|(g, _)| g.clone()).collect();
    let fb = fallbacks(&mut cx, settings, &group_names, skipped_groups)?;
    let setting_num = |cx: &mut Ctx, k: &str| -> Result<Option<(f64, String)>, InputError> {
        match settings.get(k) {
            Some((path, v)) => Ok(cx.number(path, v)?.map(|x| (x, path.clone()))),
            None => Ok(None),
        }
    };
    let max_fallbacks = match setting_num(&mut cx, "max_fallbacks")? {
        Some((x, path)) if x >= 0.0 && x.fract() == 0.0 => (x as usize, path),
        Some((x, path)) => {
            return Err(cx.err(&path, format!("must be a whole number ≥ 0, got {x}")))
        }
        None => (
            ROUTER_MAX_FALLBACKS,
            format!("LiteLLM's default ROUTER_MAX_FALLBACKS ({CONSTANTS})"),
        ),
    };
    let strategy = match settings.get("routing_strategy") {
        Some((path, v)) => (cx.string(path, v)?.to_string(), path.clone()),
        None => (
            "simple-shuffle".to_string(),
            "LiteLLM's default".to_string(),
        ),
    };
    if !matches!(
        strategy.0.as_str(),
        "simple-shuffle"
            | "least-busy"
            | "usage-based-routing"
            | "usage-based-routing-v2"
            | "latency-based-routing"
            | "cost-based-routing"
    ) {
        return Err(cx.err(
            &strategy.1,
            format!("\"{}\" is not a LiteLLM routing strategy; allowed: simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing", strategy.0),
        ));
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gateway".into());
    cx.draft.title = vec![
        format!("Written by llmcap import litellm from {}.", file.display()),
        "Each value says where it came from in the config or what was assumed. Traffic is not in a gateway config:".into(),
        "classes without --traffic carry an assumed default. Run it with `llmcap run`.".into(),
    ];
    let mut s = Section::table("scenario");
    s.set("name", stem.clone(), "the config's file name");
    s.set(
        "description",
        format!(
            "LiteLLM gateway from {}",
            file.file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        "",
    );
    s.set("horizon_hours", 168, "assumption: one week, Monday first");
    s.set("seed", 1, "any seed; the same seed gives the same results");
    s.set("replications", 2, "assumption: raise for tighter intervals");
    cx.draft.sections.push(s);
    // Client: the gateway's retries and timeout, as seen by the application.
    let mut c = Section::table("client");
    let retries = match setting_num(&mut cx, "num_retries")? {
        Some((x, path)) if x >= 0.0 && x.fract() == 0.0 && x <= 100.0 => (x as u32, path),
        Some((x, path)) => {
            return Err(cx.err(
                &path,
                format!("must be a whole number from 0 to 100, got {x}"),
            ))
        }
        None => (
            DEFAULT_MAX_RETRIES,
            format!("LiteLLM's default DEFAULT_MAX_RETRIES ({CONSTANTS})"),
        ),
    };
    c.set(
        "max_attempts",
        (retries.0 + 1) as i64,
        format!(
            "1 + num_retries = {} ({}); each attempt walks the whole route",
            retries.0, retries.1
        ),
    );
    let (base_ms, base_from) = match setting_num(&mut cx, "retry_after")? {
        Some((x, path)) if x >= 0.0 => (x * 1000.0, format!("{path} (seconds)")),
        Some((x, path)) => return Err(cx.err(&path, format!("must be ≥ 0 seconds, got {x}"))),
        None => (
            500.0,
            "assumption: exponential backoff from 0.5 s, as scenarios/two_provider.toml".into(),
        ),
    };
    c.set("backoff_base_ms", base_ms, base_from);
    c.set(
        "backoff_max_ms",
        base_ms.max(8000.0),
        "assumption: backoff capped at 8 s",
    );
    c.set("jitter", "full", "assumption");
    let timeout = match setting_num(&mut cx, "timeout")? {
        Some(t) => Some(t),
        None => setting_num(&mut cx, "request_timeout")?,
    };
    match timeout {
        Some((t, path)) if t > 0.0 => c.set("timeout_ms", t * 1000.0, format!("{path} (seconds)")),
        Some((t, path)) => return Err(cx.err(&path, format!("must be > 0 seconds, got {t}"))),
        // No timeout in the config: none is modelled (requests wait as long as they must).
        None => {}
    }
    cx.draft.sections.push(c);
    // Gateway: cooldown.
    let mut g = Section::table("gateway");
    g.set(
        "latency_ms",
        15.0,
        "assumption: one proxy hop in the same region as the client",
    );
    let disabled = settings
        .get("disable_cooldowns")
        .is_some_and(|(_, v)| v.as_bool() == Some(true));
    if disabled {
        cx.draft
            .warn("disable_cooldowns: true: no deployment is ever put in cooldown");
    } else {
        let fails = match setting_num(&mut cx, "allowed_fails")? {
            Some((x, path)) if x >= 0.0 && x.fract() == 0.0 => (x.max(1.0), path),
            Some((x, path)) => {
                return Err(cx.err(&path, format!("must be a whole number ≥ 0, got {x}")))
            }
            None => (
                DEFAULT_ALLOWED_FAILS as f64,
                format!("LiteLLM's default DEFAULT_ALLOWED_FAILS ({CONSTANTS})"),
            ),
        };
        let secs = match setting_num(&mut cx, "cooldown_time")? {
            Some((x, path)) if x > 0.0 => (x, path),
            Some((x, path)) => return Err(cx.err(&path, format!("must be > 0 seconds, got {x}"))),
            None => (
                DEFAULT_COOLDOWN_TIME_SECONDS,
                format!("LiteLLM's default DEFAULT_COOLDOWN_TIME_SECONDS ({CONSTANTS})"),
            ),
        };
        g.set(
            "cooldown_failures",
            fails.0,
            format!("allowed_fails: {}", fails.1),
        );
        g.set(
            "cooldown_window_s",
            60.0,
            "LiteLLM counts failures per minute",
        );
        g.set("cooldown_s", secs.0, secs.1);
    }
    cx.draft.sections.push(g);
    if settings.contains_key("enable_pre_call_checks")
        || settings.contains_key("enable_pre_call_check")
    {
        cx.draft.warn("enable_pre_call_checks: rpm/tpm are enforced as each deployment's quota (a refusal spills to the next deployment, as a 429 does)");
    }
    // Classes: one per model group.
    for (gi, (group, members)) in groups.iter().enumerate() {
        let mut sec = Section::array("class");
        let mut route: Vec<(usize, f64)> = Vec::new();
        let mut order_sorted: Vec<&Member> = members.iter().collect();
        order_sorted.sort_by(|a, b| {
            a.order
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.order.unwrap_or(f64::INFINITY))
        });
        let first_level = order_sorted.first().and_then(|m| m.order);
        let shuffle_weight = |m: &Member| m.weight.or(m.rpm).or(m.tpm);
        for m in &order_sorted {
            if route.iter().any(|(d, _)| *d == m.dep) {
                continue;
            }
            let in_first = m.order == first_level;
            let w = if in_first {
                shuffle_weight(m).unwrap_or(1.0)
            } else {
                0.0
            };
            route.push((m.dep, w));
        }
        let mut via = Vec::new();
        if let Some(targets) = fb.get(group) {
            if targets.len() > max_fallbacks.0 {
                cx.draft.warn(format!(
                    "fallbacks of {group}: only the first {} are tried (max_fallbacks)",
                    max_fallbacks.0
                ));
            }
            for t in targets.iter().take(max_fallbacks.0) {
                via.push(t.clone());
                if let Some((_, tm)) = groups.iter().find(|(g, _)| g == t) {
                    let mut tm: Vec<&Member> = tm.iter().collect();
                    tm.sort_by(|a, b| {
                        a.order
                            .unwrap_or(f64::INFINITY)
                            .total_cmp(&b.order.unwrap_or(f64::INFINITY))
                    });
                    for m in tm {
                        if !route.iter().any(|(d, _)| *d == m.dep) {
                            route.push((m.dep, 0.0));
                        }
                    }
                }
            }
        }
        let traffic = opts.traffic.as_ref().and_then(|t| t.for_group(group));
        let model = traffic
            .and_then(|t| t.get("model"))
            .and_then(|v| v.as_str())
            .filter(|m| route.iter().any(|(d, _)| deps[*d].model == *m))
            .map(String::from)
            .unwrap_or_else(|| deps[route[0].0].model.clone());
        let mut subs: Vec<String> = Vec::new();
        for (d, _) in &route {
            let m = &deps[*d].model;
            if *m != model && !subs.contains(m) {
                subs.push(m.clone());
            }
        }
        sec.comments.push(format!(
            "model group {group} (model_list entries {})",
            members
                .iter()
                .map(|m| deps[m.dep].index.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        sec.set("name", group.clone(), "the model group (model_name)");
        let model_why = if traffic
            .and_then(|t| t.get("model"))
            .is_some_and(|m| m.as_str() == Some(model.as_str()))
        {
            "from the traffic class"
        } else {
            "the model of the group's first deployment"
        };
        sec.set("model", model.clone(), model_why);
        if !subs.is_empty() {
            sec.set(
                "substitutes",
                toml::Value::Array(subs.into_iter().map(toml::Value::String).collect()),
                "other models the group or its fallbacks serve",
            );
        }
        let names: Vec<toml::Value> = route
            .iter()
            .map(|(d, _)| toml::Value::String(deps[*d].name.clone()))
            .collect();
        let route_why = if via.is_empty() {
            "the group's deployments by order".to_string()
        } else {
            format!(
                "the group's deployments by order, then its fallbacks {} (in list order)",
                via.join(", ")
            )
        };
        sec.set("route", toml::Value::Array(names), route_why);
        let level: Vec<&(usize, f64)> = route.iter().filter(|(_, w)| *w > 0.0).collect();
        match strategy.0.as_str() {
            "simple-shuffle" if level.len() > 1 => {
                let weights: Vec<toml::Value> =
                    route.iter().map(|(_, w)| toml::Value::Float(*w)).collect();
                sec.set(
                    "routing",
                    "weighted",
                    format!(
                        "{}: simple-shuffle draws the first deployment of the lowest order level",
                        strategy.1
                    ),
                );
                sec.set("weights", toml::Value::Array(weights), "weight, else rpm, else tpm of each deployment (0 outside the first level); equal when none is set");
            }
            "latency-based-routing" => {
                sec.set(
                    "routing",
                    "fastest",
                    format!(
                        "{}: latency-based-routing, approximated by the expected TTFT order",
                        strategy.1
                    ),
                );
            }
            "cost-based-routing" => {
                sec.set(
                    "routing",
                    "cheapest",
                    format!("{}: cost-based-routing", strategy.1),
                );
            }
            "least-busy" | "usage-based-routing" | "usage-based-routing-v2" if level.len() > 1 => {
                let weights: Vec<toml::Value> =
                    route.iter().map(|(_, w)| toml::Value::Float(*w)).collect();
                sec.set("routing", "weighted", format!("{}: {} balances load; approximated by drawing the first deployment in proportion to its limits", strategy.1, strategy.0));
                sec.set(
                    "weights",
                    toml::Value::Array(weights),
                    "rpm / tpm (or weight) of each deployment; equal when none is set",
                );
                if gi == 0 {
                    cx.draft.warn(format!("routing_strategy {}: approximated by weighted first choice; llmcap does not track per-deployment usage", strategy.0));
                }
            }
            _ => {}
        }
        match traffic {
            Some(t) => {
                let file = &opts
                    .traffic
                    .as_ref()
                    .map(|t| t.file.clone())
                    .unwrap_or_default();
                let dropped = traffic::copy_class(&mut sec, t, file);
                if !dropped.is_empty() {
                    cx.draft.warn(format!(
                        "traffic class {group}: {} ignored (the gateway config decides routing)",
                        dropped.join(", ")
                    ));
                }
                if sec.get("arrivals").is_none() {
                    return Err(InputError::Invalid {
                        file: file.clone(),
                        path: format!("class[name={group}].arrivals"),
                        message: "missing: a traffic class needs arrivals".into(),
                    });
                }
            }
            None => traffic::default_class(&mut sec),
        }
        cx.draft.sections.push(sec);
    }
    if let Some(t) = &opts.traffic {
        for name in t.unmatched(&group_names) {
            cx.draft.warn(format!(
                "traffic class {name} ({}): matches no model group; not imported",
                t.file.display()
            ));
        }
    }
    // Deployments.
    for d in deps {
        let mut sec = Section::array("deployment");
        sec.comments.push(format!(
            "model_list[{}]: {} on {} ({})",
            d.index,
            d.model,
            d.platform,
            d.pool.replace('_', "-")
        ));
        for p in &d.provenance {
            sec.comments.push(p.clone());
        }
        sec.set(
            "name",
            d.name.clone(),
            "model_info.id, else the model group",
        );
        if d.exact.is_some() {
            for (k, v) in &d.overrides {
                if k != "name" {
                    sec.set(k, v.clone(), "");
                }
            }
            sec.comments.push(
                "exactly as written by llmcap export litellm (model_info.llmcap_deployment)".into(),
            );
        } else {
            sec.set(
                "offering",
                d.offering.clone(),
                "catalog offering (llmcap catalog lists them, with sources)",
            );
            for (k, v) in &d.overrides {
                if k != "offering" {
                    sec.set(k, v.clone(), "from the config (see the comments above)");
                }
            }
        }
        cx.draft.sections.push(sec);
    }
    Ok(cx.draft)
}
