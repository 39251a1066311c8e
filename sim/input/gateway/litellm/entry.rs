//! One `model_list` entry: its group, limits and weights, the catalog offering it is, and the
//! scenario overrides (quotas and prices on demand; units and term when provisioned).

use yaml_serde::{Mapping, Value};

use crate::error::InputError;
use crate::input::catalog::{Catalog, Offering};
use crate::input::gateway::draft::inline;
use crate::input::gateway::{models, ImportOptions};

use super::resolve::resolve;
use super::{describe, key_str, reason, Ctx, Dep, Member, PARAMS_ENDPOINT, PARAMS_READ};

/// Region keys of litellm_params, in the order they are read.
const REGION_KEYS: &[&str] = &["aws_region_name", "vertex_location", "region_name"];

/// The keys of an entry every deployment has.
struct Basics<'a> {
    m: &'a Mapping,
    params: &'a Mapping,
    info: Option<&'a Mapping>,
    group: String,
    model: String,
    /// `model_list[i].litellm_params`
    ppath: String,
}

/// Limits, order and weight of an entry.
struct Limits {
    rpm: Option<(f64, String)>,
    tpm: Option<(f64, String)>,
    order: Option<f64>,
    weight: Option<f64>,
    in_cost: Option<f64>,
    out_cost: Option<f64>,
}

/// Reads one model_list entry. `None` when it is skipped (unsupported, with --skip-unsupported).
pub(super) fn read_entry(
    cx: &mut Ctx,
    path: &str,
    i: usize,
    entry: &Value,
    catalog: &Catalog,
    opts: &ImportOptions,
    used_provisioned: &mut Vec<String>,
) -> Result<Option<(String, Dep, Member)>, InputError> {
    let b = basics(cx, path, entry)?;
    warn_unread(cx, path, &b);
    let limits = limits(cx, path, &b)?;
    let exact = exact_table(cx, path, b.info)?;
    let id = b
        .info
        .and_then(|i| i.get("id"))
        .and_then(|v| v.as_str())
        .map(String::from);
    let (platform, cat_model, model_note) = match resolve(
        cx,
        path,
        &b.model,
        &b.group,
        b.info,
        catalog,
        exact.as_ref(),
        &opts.models,
    ) {
        Ok(r) => r,
        Err(e) if opts.skip_unsupported => {
            cx.draft.warn(format!(
                "{path} ({}: {}) skipped: {}",
                b.group,
                b.model,
                reason(&e)
            ));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let units = units(cx, path, &b, id.as_deref(), opts, used_provisioned)?;
    if b.model.contains("provisioned-model/") && units.is_none() && exact.is_none() {
        return Err(cx.err(
            &format!("{}.model", b.ppath),
            format!(
                "a Bedrock provisioned-model ARN: say how many model units it has with --provisioned {}=UNITS or model_info.llmcap_units",
                id.as_deref().unwrap_or(&b.group)
            ),
        ));
    }
    let pool = if units.is_some() {
        "reserved"
    } else {
        "on_demand"
    };
    let mut provenance: Vec<String> = model_note.into_iter().collect();
    let (offering, mut overrides) = match &exact {
        Some(t) => (
            t.get("offering")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            t.clone(),
        ),
        None => {
            let region = region_hint(b.params);
            let found = models::offering(catalog, platform, &cat_model, pool, region.as_deref());
            let Some((offering, o, by_region)) = found else {
                let e = cx.err(
                    &format!("{}.model", b.ppath),
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
            provenance.push(offering_note(
                platform,
                &cat_model,
                pool,
                region.as_deref(),
                o,
                by_region,
            ));
            let mut t = match &units {
                Some(u) => reserved_overrides(platform, o, u, &mut provenance),
                None => on_demand_overrides(&b.ppath, &limits, &mut provenance),
            };
            t.insert("offering".into(), offering.clone().into());
            (offering, t)
        }
    };
    if let (None, Some(v)) = (&exact, b.params.get("cooldown_time")) {
        let at = format!("{}.cooldown_time", b.ppath);
        match cx.number(&at, v)? {
            Some(x) if (0.0..=86_400.0).contains(&x) => {
                overrides.insert("cooldown_s".into(), toml::Value::Float(x));
                provenance.push(format!("cooldown_s from {at} (seconds)"));
            }
            Some(x) => return Err(cx.err(&at, format!("must be 0 to 86400 seconds, got {x}"))),
            None => {}
        }
    }
    let identity = identity(&b, &offering, &overrides, exact.as_ref());
    let name = exact
        .as_ref()
        .and_then(|t| t.get("name"))
        .and_then(|v| v.as_str())
        .map(String::from)
        .or(id)
        .unwrap_or_else(|| b.group.clone());
    let dep = Dep {
        index: i,
        name,
        offering,
        platform: platform.to_string(),
        model: cat_model,
        overrides,
        pool,
        provenance,
        identity,
        exact,
    };
    let member = Member {
        dep: 0,
        order: limits.order,
        weight: limits.weight,
    };
    Ok(Some((b.group, dep, member)))
}

/// model_name, litellm_params and its model, model_info.
fn basics<'a>(cx: &Ctx, path: &str, entry: &'a Value) -> Result<Basics<'a>, InputError> {
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
    Ok(Basics {
        m,
        params,
        info: m.get("model_info").and_then(|v| v.as_mapping()),
        group,
        model,
        ppath,
    })
}

/// Keys of the entry and its litellm_params that llmcap does not read, as warnings.
fn warn_unread(cx: &mut Ctx, path: &str, b: &Basics) {
    for (k, _) in b.m {
        let k = key_str(k);
        if !matches!(
            k.as_str(),
            "model_name" | "litellm_params" | "model_info" | "rpm" | "tpm"
        ) {
            cx.draft.warn(format!("{path}.{k}: not modelled by llmcap"));
        }
    }
    for (k, _) in b.params {
        let k = key_str(k);
        if !PARAMS_READ.contains(&k.as_str()) && !PARAMS_ENDPOINT.contains(&k.as_str()) {
            cx.draft
                .warn(format!("{}.{k}: not modelled by llmcap", b.ppath));
        }
    }
}

/// rpm / tpm (inside litellm_params, as usual, or beside it, as some LiteLLM examples write them),
/// order, weight and per-token costs.
fn limits(cx: &mut Ctx, path: &str, b: &Basics) -> Result<Limits, InputError> {
    let ppath = &b.ppath;
    let limit = |cx: &mut Ctx, key: &str| -> Result<Option<(f64, String)>, InputError> {
        let inside = match b.params.get(key) {
            Some(v) => cx.number(&format!("{ppath}.{key}"), v)?,
            None => None,
        };
        let beside = match b.m.get(key) {
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
        match b.params.get(key) {
            Some(v) => cx.number(&format!("{ppath}.{key}"), v),
            None => Ok(None),
        }
    };
    let l = Limits {
        rpm,
        tpm,
        order: num(cx, "order")?,
        weight: num(cx, "weight")?,
        in_cost: num(cx, "input_cost_per_token")?,
        out_cost: num(cx, "output_cost_per_token")?,
    };
    if let Some(w) = l.weight.filter(|w| *w < 0.0) {
        return Err(cx.err(&format!("{ppath}.weight"), format!("must be ≥ 0, got {w}")));
    }
    Ok(l)
}

/// An exact deployment table written by `llmcap export litellm` (model_info.llmcap_deployment).
fn exact_table(
    cx: &Ctx,
    path: &str,
    info: Option<&Mapping>,
) -> Result<Option<toml::Table>, InputError> {
    let Some(v) = info.and_then(|i| i.get("llmcap_deployment")) else {
        return Ok(None);
    };
    let key = format!("{path}.model_info.llmcap_deployment");
    let s = cx.string(&key, v)?;
    toml::from_str(s).map(Some).map_err(|e| {
        cx.err(
            &key,
            format!("not a TOML deployment table: {}", e.message()),
        )
    })
}

/// Provisioned units: --provisioned NAME=UNITS (by group, model_info.id or model string) or
/// model_info.llmcap_units, with where they came from.
fn units(
    cx: &mut Ctx,
    path: &str,
    b: &Basics,
    id: Option<&str>,
    opts: &ImportOptions,
    used_provisioned: &mut Vec<String>,
) -> Result<Option<(u32, String)>, InputError> {
    let names = [Some(b.group.as_str()), id, Some(b.model.as_str())];
    let flag = opts
        .provisioned
        .iter()
        .find(|(n, _)| names.contains(&Some(n.as_str())));
    if let Some((n, _)) = flag {
        used_provisioned.push(n.clone());
    }
    let key = format!("{path}.model_info.llmcap_units");
    let info_units = match b.info.and_then(|i| i.get("llmcap_units")) {
        Some(v) => cx.number(&key, v)?,
        None => None,
    };
    match (flag, info_units) {
        (Some((n, u)), _) => Ok(Some((*u, format!("--provisioned {n}={u}")))),
        (None, Some(u)) if u >= 1.0 && u.fract() == 0.0 && u <= u32::MAX as f64 => {
            Ok(Some((u as u32, key)))
        }
        (None, Some(u)) => Err(cx.err(
            &key,
            format!("must be a whole number of units ≥ 1, got {u}"),
        )),
        (None, None) => Ok(None),
    }
}

/// A region hint: aws_region_name, vertex_location or region_name.
fn region_hint(params: &Mapping) -> Option<String> {
    REGION_KEYS
        .iter()
        .find_map(|k| params.get(*k).and_then(|v| v.as_str()))
        .filter(|s| !s.starts_with("os.environ/"))
        .map(|s| s.to_string())
}

/// Why this offering was chosen.
fn offering_note(
    platform: &str,
    model: &str,
    pool: &str,
    region: Option<&str>,
    o: &Offering,
    by_region: bool,
) -> String {
    let why = match region {
        Some(r) if by_region => format!("serves {r}"),
        Some(r) => format!(
            "no {platform} offering of {model} lists region {r}; the catalog's first ({})",
            o.regions.value.join(",")
        ),
        None => "the config names no region or deployment type; the catalog's first".into(),
    };
    let azure = if platform == "azure-openai" && pool == "on_demand" {
        " (Azure: the deployment type is not in a LiteLLM config; change the offering if yours is Data Zone or Regional)"
    } else {
        ""
    };
    format!("offering: {why}{azure}")
}

/// `reserved = { units, term, max_wait_ms }` of a provisioned deployment.
fn reserved_overrides(
    platform: &str,
    o: &Offering,
    (units, from): &(u32, String),
    provenance: &mut Vec<String>,
) -> toml::Table {
    let prices = o.reserved.as_ref().map(|r| r.prices());
    let term = if prices.as_ref().is_some_and(|p| p.contains_key("monthly")) {
        "monthly".to_string()
    } else {
        prices
            .and_then(|p| p.keys().next().cloned())
            .unwrap_or_else(|| "hourly".into())
    };
    let mut r = toml::Table::new();
    r.insert("units".into(), toml::Value::Integer(*units as i64));
    r.insert("term".into(), term.clone().into());
    // As the shipped scenarios: reserved capacity refuses (429) when saturated rather than
    // queueing for long; the gateway then moves on to the next deployment.
    r.insert("max_wait_ms".into(), toml::Value::Float(250.0));
    let saturated = match platform {
        "azure-openai" => "Azure answers 429 at 100% PTU utilization",
        "bedrock" => "Bedrock Provisioned Throughput answers ThrottlingException when saturated",
        "vertex-ai" => {
            "Vertex sends a request beyond its provisioned throughput to pay-as-you-go at once"
        }
        _ => "the platform refuses when saturated",
    };
    provenance.push(format!(
        "units from {from}; term assumed {term} (a config does not say how the capacity is bought); max_wait_ms = 250 assumed: {saturated}, a short admission window (as scenarios/baseline.toml)"
    ));
    let mut t = toml::Table::new();
    t.insert("reserved".into(), r.into());
    t
}

/// `on_demand = { rpm, tpm, input_per_1m, output_per_1m }` from the entry.
fn on_demand_overrides(ppath: &str, l: &Limits, provenance: &mut Vec<String>) -> toml::Table {
    let mut od = toml::Table::new();
    for (key, v) in [("rpm", &l.rpm), ("tpm", &l.tpm)] {
        if let Some((v, from)) = v {
            od.insert(key.into(), toml::Value::Float(*v));
            provenance.push(format!("{key} from {from}"));
        }
    }
    for (key, cost, from) in [
        ("input_per_1m", l.in_cost, "input_cost_per_token"),
        ("output_per_1m", l.out_cost, "output_cost_per_token"),
    ] {
        if let Some(c) = cost {
            od.insert(key.into(), toml::Value::Float(c * 1e6));
            provenance.push(format!("{key} from {ppath}.{from} x 1,000,000"));
        }
    }
    let mut t = toml::Table::new();
    if !od.is_empty() {
        t.insert("on_demand".into(), od.into());
    }
    t
}

/// Entries with equal identities are one deployment (one endpoint, one quota): the offering, the
/// model string, the endpoint and credential keys and the overrides; or the llmcap name of an
/// exported deployment.
fn identity(
    b: &Basics,
    offering: &str,
    overrides: &toml::Table,
    exact: Option<&toml::Table>,
) -> String {
    if let Some(n) = exact.and_then(|t| t.get("name")).and_then(|v| v.as_str()) {
        return format!("llmcap:{n}");
    }
    let mut parts = vec![offering.to_string(), b.model.clone()];
    for k in PARAMS_ENDPOINT.iter().chain(REGION_KEYS.iter()) {
        if let Some(v) = b.params.get(*k) {
            parts.push(format!("{k}={}", describe(v)));
        }
    }
    parts.push(inline(&toml::Value::Table(overrides.clone())));
    parts.join("|")
}
