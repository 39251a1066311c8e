//! The scenario an import writes, section by section: header, client (retries, timeout), gateway
//! (cooldown), one class per model group (its route, routing and traffic), the deployments, and
//! outages from the traffic file.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_serde::Value;

use crate::error::InputError;
use crate::input::gateway::draft::{Draft, Section};
use crate::input::gateway::{traffic, ImportOptions};

use super::routes::fallbacks;
use super::{
    describe, key_str, Ctx, Dep, Member, CONSTANTS, DEFAULT_ALLOWED_FAILS,
    DEFAULT_COOLDOWN_TIME_SECONDS, DEFAULT_MAX_RETRIES, ROUTER_MAX_FALLBACKS,
};

type Settings<'a> = BTreeMap<String, (String, &'a Value)>;

const STRATEGIES: &[&str] = &[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
];

/// How the router picks and how far it falls back.
struct Routing {
    strategy: String,
    strategy_from: String,
    max_fallbacks: usize,
    fallbacks: BTreeMap<String, Vec<String>>,
}

/// Writes the scenario.
pub(super) fn build(
    mut cx: Ctx,
    file: &Path,
    settings: &Settings,
    deps: &[Dep],
    groups: &[(String, Vec<Member>)],
    skipped_groups: &[String],
    opts: &ImportOptions,
) -> Result<Draft, InputError> {
    let group_names: Vec<String> = groups.iter().map(|(g, _)| g.clone()).collect();
    let routing = routing(&mut cx, settings, &group_names, skipped_groups)?;
    cx.draft.title = vec![
        format!("Written by llmcap import litellm from {}.", file.display()),
        "Each value says where it came from in the config or what was assumed. Traffic is not in a gateway config:".into(),
        "classes without --traffic carry an assumed default. Run it with `llmcap run`.".into(),
    ];
    let header = scenario_section(file, opts);
    cx.draft.sections.push(header);
    let mut client = Section::table("client");
    client.set(
        "max_attempts",
        1,
        "assumption: the application sends each request once; the gateway retries (gateway.num_retries)",
    );
    cx.draft.sections.push(client);
    let gateway = gateway_section(&mut cx, settings, &routing)?;
    cx.draft.sections.push(gateway);
    if routing.strategy == "usage-based-routing" {
        cx.draft.warn("routing_strategy usage-based-routing: modelled as usage-based-routing-v2 (the v1 strategy is deprecated in LiteLLM)");
    }
    for (group, members) in groups {
        let sec = class_section(&mut cx, group, members, groups, deps, &routing, opts)?;
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
    for d in deps {
        cx.draft.sections.push(deployment_section(d));
    }
    if let Some(t) = &opts.traffic {
        for o in &t.outages {
            let mut sec = Section::array("outage");
            for (k, v) in o {
                sec.set(k, v.clone(), "");
            }
            sec.comments.push(format!("from {}", t.file.display()));
            cx.draft.sections.push(sec);
        }
    }
    Ok(cx.draft)
}

/// A number from the router settings, with the key path it was read from.
fn setting_num(
    cx: &mut Ctx,
    settings: &Settings,
    k: &str,
) -> Result<Option<(f64, String)>, InputError> {
    match settings.get(k) {
        Some((path, v)) => Ok(cx.number(path, v)?.map(|x| (x, path.clone()))),
        None => Ok(None),
    }
}

fn routing(
    cx: &mut Ctx,
    settings: &Settings,
    groups: &[String],
    skipped: &[String],
) -> Result<Routing, InputError> {
    let fallbacks = fallbacks(cx, settings, groups, skipped)?;
    let max_fallbacks = match setting_num(cx, settings, "max_fallbacks")? {
        Some((x, _)) if x >= 0.0 && x.fract() == 0.0 => x as usize,
        Some((x, path)) => {
            return Err(cx.err(&path, format!("must be a whole number ≥ 0, got {x}")))
        }
        None => ROUTER_MAX_FALLBACKS,
    };
    let (strategy, strategy_from) = match settings.get("routing_strategy") {
        Some((path, v)) => (cx.string(path, v)?.to_string(), path.clone()),
        None => (
            "simple-shuffle".to_string(),
            "LiteLLM's default".to_string(),
        ),
    };
    if !STRATEGIES.contains(&strategy.as_str()) {
        return Err(cx.err(
            &strategy_from,
            format!(
                "\"{strategy}\" is not a LiteLLM routing strategy; allowed: {}",
                STRATEGIES.join(", ")
            ),
        ));
    }
    Ok(Routing {
        strategy,
        strategy_from,
        max_fallbacks,
        fallbacks,
    })
}

/// `[scenario]`: from the traffic file when it is a scenario, else assumed.
fn scenario_section(file: &Path, opts: &ImportOptions) -> Section {
    let mut s = Section::table("scenario");
    if let Some(t) = &opts.traffic {
        if let Some(header) = &t.scenario {
            for (k, v) in header {
                s.set(k, v.clone(), format!("from {}", t.file.display()));
            }
            return s;
        }
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gateway".into());
    let name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    s.set("name", stem, "the config's file name");
    s.set("description", format!("LiteLLM gateway from {name}"), "");
    s.set("horizon_hours", 168, "assumption: one week, Monday first");
    s.set("seed", 1, "any seed; the same seed gives the same results");
    s.set("replications", 2, "assumption: raise for tighter intervals");
    s
}

/// `[gateway]`: LiteLLM's router (docs/model.md section 8.2): strategy, retries, waits,
/// timeout, cooldown rule and pre-call checks.
fn gateway_section(
    cx: &mut Ctx,
    settings: &Settings,
    routing: &Routing,
) -> Result<Section, InputError> {
    let mut g = Section::table("gateway");
    g.set(
        "latency_ms",
        15.0,
        "assumption: one proxy hop in the same region as the client",
    );
    g.set(
        "router",
        "litellm",
        "LiteLLM's router semantics (docs/model.md 8.2)",
    );
    let strategy = match routing.strategy.as_str() {
        "usage-based-routing" => "usage-based-routing-v2",
        s => s,
    };
    g.set("strategy", strategy, routing.strategy_from.clone());
    let (retries, from) = match setting_num(cx, settings, "num_retries")? {
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
    g.set("num_retries", retries as i64, from);
    match setting_num(cx, settings, "retry_after")? {
        Some((x, path)) if x >= 0.0 => g.set("retry_after_s", x, format!("{path} (seconds)")),
        Some((x, path)) => return Err(cx.err(&path, format!("must be ≥ 0 seconds, got {x}"))),
        None => {}
    }
    let timeout = match setting_num(cx, settings, "timeout")? {
        Some(t) => Some(t),
        None => setting_num(cx, settings, "request_timeout")?,
    };
    match timeout {
        Some((t, path)) if t > 0.0 => g.set("timeout_s", t, format!("{path} (seconds, per call)")),
        Some((t, path)) => return Err(cx.err(&path, format!("must be > 0 seconds, got {t}"))),
        None => {}
    }
    let checks = ["enable_pre_call_checks", "enable_pre_call_check"]
        .iter()
        .find_map(|k| settings.get(*k));
    if let Some((path, v)) = checks {
        if v.as_bool() == Some(true) {
            g.set("pre_call_checks", true, path.clone());
        }
    }
    let secs = match setting_num(cx, settings, "cooldown_time")? {
        Some((x, path)) if x >= 0.0 => (x, path),
        Some((x, path)) => return Err(cx.err(&path, format!("must be ≥ 0 seconds, got {x}"))),
        None => (
            DEFAULT_COOLDOWN_TIME_SECONDS,
            format!("LiteLLM's default DEFAULT_COOLDOWN_TIME_SECONDS ({CONSTANTS})"),
        ),
    };
    let disabled = settings
        .get("disable_cooldowns")
        .is_some_and(|(_, v)| v.as_bool() == Some(true));
    if disabled {
        cx.draft
            .warn("disable_cooldowns: true: no deployment is ever put in cooldown");
        g.set("cooldown", "off", "disable_cooldowns: true");
        return Ok(g);
    }
    cooldown_rule(cx, settings, &mut g)?;
    g.set("cooldown_s", secs.0, secs.1);
    Ok(g)
}

/// LiteLLM's cooldown rule: the count rule when `allowed_fails` differs from LiteLLM's default
/// or `allowed_fails_policy` is set (`_is_allowed_fails_set_on_router`), else the default rule.
fn cooldown_rule(cx: &mut Ctx, settings: &Settings, g: &mut Section) -> Result<(), InputError> {
    let fails = match setting_num(cx, settings, "allowed_fails")? {
        Some((x, path)) if x >= 0.0 && x.fract() == 0.0 && x <= 1e6 => Some((x, path)),
        Some((x, path)) => {
            return Err(cx.err(&path, format!("must be a whole number ≥ 0, got {x}")))
        }
        None => None,
    };
    let mut policy: Vec<(&str, f64, String)> = Vec::new();
    if let Some((path, v)) = settings.get("allowed_fails_policy") {
        let Some(m) = v.as_mapping() else {
            return Err(cx.err(path, format!("must be a mapping, got {}", describe(v))));
        };
        for (k, v) in m {
            let k = key_str(k);
            let kp = format!("{path}.{k}");
            let key = match k.as_str() {
                "RateLimitErrorAllowedFails" => "allowed_fails_rate_limit",
                "InternalServerErrorAllowedFails" => "allowed_fails_error",
                "TimeoutErrorAllowedFails" => "allowed_fails_timeout",
                _ => {
                    cx.draft.warn(format!(
                        "{kp}: not modelled (llmcap's platforms answer 429s, 5xx errors and timeouts only)"
                    ));
                    continue;
                }
            };
            match cx.number(&kp, v)? {
                Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 1e6 => policy.push((key, x, kp)),
                Some(x) => return Err(cx.err(&kp, format!("must be a whole number ≥ 0, got {x}"))),
                None => {}
            }
        }
    }
    let default = fails
        .as_ref()
        .is_none_or(|(x, _)| *x == DEFAULT_ALLOWED_FAILS as f64);
    if default && policy.is_empty() {
        let why = match &fails {
            Some((_, path)) => format!(
                "{path} equals LiteLLM's default ({DEFAULT_ALLOWED_FAILS}), so LiteLLM applies its default rule"
            ),
            None => "LiteLLM's default rule (no allowed_fails)".into(),
        };
        g.set("cooldown", "default", why);
        return Ok(());
    }
    g.set(
        "cooldown",
        "count",
        "allowed_fails / allowed_fails_policy set: LiteLLM counts failures",
    );
    if let Some((x, path)) = fails {
        g.set("allowed_fails", x, path);
    }
    for (key, x, path) in policy {
        g.set(key, x, path);
    }
    Ok(())
}

/// Members by `order` (unset last), keeping list order within a level.
fn by_order(members: &[Member]) -> Vec<&Member> {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by(|a, b| {
        a.order
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.order.unwrap_or(f64::INFINITY))
    });
    sorted
}

/// One route entry: the deployment, its model group, order level and weight.
struct RouteEntry {
    dep: usize,
    group: String,
    order: u32,
    weight: Option<f64>,
}

/// The route of a group: its deployments by order (unset after the highest set level), then its
/// fallback groups' deployments as LiteLLM tries them: depth first (a fallback group's own
/// fallbacks before the next fallback), at most `max_fallbacks` deep, each group once.
/// Also the fallback groups used.
fn route_of(
    group: &str,
    groups: &[(String, Vec<Member>)],
    routing: &Routing,
) -> (Vec<RouteEntry>, Vec<String>) {
    let mut route: Vec<RouteEntry> = Vec::new();
    let mut via: Vec<String> = Vec::new();
    let mut stack: Vec<(String, usize)> = vec![(group.to_string(), 0)];
    let mut seen: Vec<String> = vec![group.to_string()];
    while let Some((g, depth)) = stack.pop() {
        if let Some((_, members)) = groups.iter().find(|(x, _)| *x == g) {
            let top = members.iter().filter_map(|m| m.order).fold(0.0, f64::max);
            for m in by_order(members) {
                if route.iter().any(|e| e.dep == m.dep) {
                    continue;
                }
                let order = m
                    .order
                    .map_or(top.max(0.0) as u32 + 1, |o| o.max(1.0).round() as u32);
                route.push(RouteEntry {
                    dep: m.dep,
                    group: g.clone(),
                    order,
                    weight: m.weight,
                });
            }
        }
        if depth >= routing.max_fallbacks {
            continue;
        }
        let targets = routing.fallbacks.get(&g).cloned().unwrap_or_default();
        for t in targets.into_iter().rev() {
            if !seen.contains(&t) {
                seen.push(t.clone());
                stack.push((t, depth + 1));
            }
        }
    }
    for e in &route {
        if e.group != group && !via.contains(&e.group) {
            via.push(e.group.clone());
        }
    }
    (route, via)
}

/// One `[[class]]`: a model group with its route, routing and traffic.
fn class_section(
    cx: &mut Ctx,
    group: &str,
    members: &[Member],
    groups: &[(String, Vec<Member>)],
    deps: &[Dep],
    routing: &Routing,
    opts: &ImportOptions,
) -> Result<Section, InputError> {
    let mut sec = Section::array("class");
    let (route, via) = route_of(group, groups, routing);
    if route.iter().filter(|e| e.group == group).count() < members.len() {
        cx.draft.warn(format!(
            "model group {group}: a deployment listed twice in the group is tried once"
        ));
    }
    let traffic = opts.traffic.as_ref().and_then(|t| t.for_group(group));
    let wanted = traffic
        .and_then(|t| t.get("model"))
        .and_then(|v| v.as_str());
    let (model, model_why) = match wanted.filter(|m| route.iter().any(|e| deps[e.dep].model == *m))
    {
        Some(m) => (m.to_string(), "from the traffic class"),
        None => (
            deps[route[0].dep].model.clone(),
            "the model of the group's first deployment",
        ),
    };
    let mut subs: Vec<String> = Vec::new();
    for e in &route {
        let m = &deps[e.dep].model;
        if *m != model && !subs.contains(m) {
            subs.push(m.clone());
        }
    }
    let entries: Vec<String> = members
        .iter()
        .map(|m| deps[m.dep].index.to_string())
        .collect();
    sec.comments.push(format!(
        "model group {group} (model_list entries {})",
        entries.join(", ")
    ));
    sec.set("name", group.to_string(), "the model group (model_name)");
    sec.set("model", model, model_why);
    if !subs.is_empty() {
        sec.set(
            "substitutes",
            toml::Value::Array(subs.into_iter().map(toml::Value::String).collect()),
            "other models the group or its fallbacks serve",
        );
    }
    let names: Vec<toml::Value> = route
        .iter()
        .map(|e| toml::Value::String(deps[e.dep].name.clone()))
        .collect();
    let route_why = if via.is_empty() {
        "the group's deployments by order".to_string()
    } else {
        format!(
            "the group's deployments by order, then its fallbacks {} (as LiteLLM tries them, at most max_fallbacks deep)",
            via.join(", ")
        )
    };
    sec.set("route", toml::Value::Array(names), route_why);
    routing_keys(&mut sec, &route, routing);
    match traffic {
        Some(t) => {
            let file = opts
                .traffic
                .as_ref()
                .map(|t| t.file.clone())
                .unwrap_or_default();
            let dropped = traffic::copy_class(&mut sec, t, &file);
            if !dropped.is_empty() {
                cx.draft.warn(format!(
                    "traffic class {group}: {} ignored (the gateway config decides routing)",
                    dropped.join(", ")
                ));
            }
            if sec.get("arrivals").is_none() {
                return Err(InputError::Invalid {
                    file,
                    path: format!("class[name={group}].arrivals"),
                    message: "missing: a traffic class needs arrivals".into(),
                });
            }
        }
        None => traffic::default_class(&mut sec),
    }
    Ok(sec)
}

/// `groups`, `orders` and (simple-shuffle with a `weight` set) `routing` and `weights` of a class.
fn routing_keys(sec: &mut Section, route: &[RouteEntry], routing: &Routing) {
    if route.iter().any(|e| e.group != route[0].group) {
        let groups = route.iter().map(|e| toml::Value::String(e.group.clone()));
        sec.set(
            "groups",
            toml::Value::Array(groups.collect()),
            "the model group of each route entry (model_name)",
        );
    }
    if route.iter().any(|e| e.order != 1) {
        let orders = route.iter().map(|e| toml::Value::Integer(e.order as i64));
        sec.set(
            "orders",
            toml::Value::Array(orders.collect()),
            "litellm_params.order of each entry (unset: after the group's highest level)",
        );
    }
    let weighted = route.iter().any(|e| e.weight.is_some_and(|w| w > 0.0));
    if routing.strategy == "simple-shuffle" && weighted {
        sec.set(
            "routing",
            "weighted",
            format!("{}: simple-shuffle by weight", routing.strategy_from),
        );
        let w = route
            .iter()
            .map(|e| toml::Value::Float(e.weight.unwrap_or(0.0)));
        sec.set(
            "weights",
            toml::Value::Array(w.collect()),
            "litellm_params.weight of each entry (0 when unset)",
        );
    }
}

/// One `[[deployment]]`.
fn deployment_section(d: &Dep) -> Section {
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
        return sec;
    }
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
    sec
}
