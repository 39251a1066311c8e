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
    Ctx, Dep, Member, CONSTANTS, DEFAULT_ALLOWED_FAILS, DEFAULT_COOLDOWN_TIME_SECONDS,
    DEFAULT_MAX_RETRIES, ROUTER_MAX_FALLBACKS,
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
    let client = client_section(&mut cx, settings)?;
    cx.draft.sections.push(client);
    let gateway = gateway_section(&mut cx, settings)?;
    cx.draft.sections.push(gateway);
    if settings.contains_key("enable_pre_call_checks")
        || settings.contains_key("enable_pre_call_check")
    {
        cx.draft.warn("enable_pre_call_checks: rpm/tpm are enforced as each deployment's quota (a refusal spills to the next deployment, as a 429 does)");
    }
    if matches!(
        routing.strategy.as_str(),
        "least-busy" | "usage-based-routing" | "usage-based-routing-v2"
    ) {
        cx.draft.warn(format!(
            "routing_strategy {}: approximated by a weighted first choice; llmcap does not track per-deployment usage",
            routing.strategy
        ));
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

/// `[client]`: the gateway's retries and timeout, as the application sees them.
fn client_section(cx: &mut Ctx, settings: &Settings) -> Result<Section, InputError> {
    let mut c = Section::table("client");
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
    c.set(
        "max_attempts",
        (retries + 1) as i64,
        format!("1 + num_retries = {retries} ({from}); each attempt walks the whole route"),
    );
    let (base_ms, base_from) = match setting_num(cx, settings, "retry_after")? {
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
    let timeout = match setting_num(cx, settings, "timeout")? {
        Some(t) => Some(t),
        None => setting_num(cx, settings, "request_timeout")?,
    };
    match timeout {
        Some((t, path)) if t > 0.0 => c.set("timeout_ms", t * 1000.0, format!("{path} (seconds)")),
        Some((t, path)) => return Err(cx.err(&path, format!("must be > 0 seconds, got {t}"))),
        // No timeout in the config: none is modelled (requests wait as long as they must).
        None => {}
    }
    Ok(c)
}

/// `[gateway]`: its latency and the cooldown of failing deployments.
fn gateway_section(cx: &mut Ctx, settings: &Settings) -> Result<Section, InputError> {
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
        return Ok(g);
    }
    let fails = match setting_num(cx, settings, "allowed_fails")? {
        Some((x, path)) if x >= 0.0 && x.fract() == 0.0 => (x.max(1.0), path),
        Some((x, path)) => {
            return Err(cx.err(&path, format!("must be a whole number ≥ 0, got {x}")))
        }
        None => (
            DEFAULT_ALLOWED_FAILS as f64,
            format!("LiteLLM's default DEFAULT_ALLOWED_FAILS ({CONSTANTS})"),
        ),
    };
    let secs = match setting_num(cx, settings, "cooldown_time")? {
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
    Ok(g)
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

/// The route of a group: its deployments by order, the first level weighted (weight, else rpm,
/// else tpm, else 1) and the rest at 0; then its fallback groups' deployments. Also the fallback
/// groups used.
fn route_of(
    cx: &mut Ctx,
    group: &str,
    members: &[Member],
    groups: &[(String, Vec<Member>)],
    routing: &Routing,
) -> (Vec<(usize, f64)>, Vec<String>) {
    let mut route: Vec<(usize, f64)> = Vec::new();
    let sorted = by_order(members);
    let first_level = sorted.first().and_then(|m| m.order);
    for m in &sorted {
        if route.iter().any(|(d, _)| *d == m.dep) {
            continue;
        }
        let w = if m.order == first_level {
            m.weight.or(m.rpm).or(m.tpm).unwrap_or(1.0)
        } else {
            0.0
        };
        route.push((m.dep, w));
    }
    let mut via = Vec::new();
    let Some(targets) = routing.fallbacks.get(group) else {
        return (route, via);
    };
    if targets.len() > routing.max_fallbacks {
        cx.draft.warn(format!(
            "fallbacks of {group}: only the first {} are tried (max_fallbacks)",
            routing.max_fallbacks
        ));
    }
    for t in targets.iter().take(routing.max_fallbacks) {
        via.push(t.clone());
        if let Some((_, tm)) = groups.iter().find(|(g, _)| g == t) {
            for m in by_order(tm) {
                if !route.iter().any(|(d, _)| *d == m.dep) {
                    route.push((m.dep, 0.0));
                }
            }
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
    let (route, via) = route_of(cx, group, members, groups, routing);
    let traffic = opts.traffic.as_ref().and_then(|t| t.for_group(group));
    let wanted = traffic
        .and_then(|t| t.get("model"))
        .and_then(|v| v.as_str());
    let (model, model_why) =
        match wanted.filter(|m| route.iter().any(|(d, _)| deps[*d].model == *m)) {
            Some(m) => (m.to_string(), "from the traffic class"),
            None => (
                deps[route[0].0].model.clone(),
                "the model of the group's first deployment",
            ),
        };
    let mut subs: Vec<String> = Vec::new();
    for (d, _) in &route {
        let m = &deps[*d].model;
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

/// `routing` and `weights` of a class, from the router's strategy.
fn routing_keys(sec: &mut Section, route: &[(usize, f64)], routing: &Routing) {
    let level = route.iter().filter(|(_, w)| *w > 0.0).count();
    let weights =
        || toml::Value::Array(route.iter().map(|(_, w)| toml::Value::Float(*w)).collect());
    let from = &routing.strategy_from;
    match routing.strategy.as_str() {
        "simple-shuffle" if level > 1 => {
            sec.set(
                "routing",
                "weighted",
                format!(
                    "{from}: simple-shuffle draws the first deployment of the lowest order level"
                ),
            );
            sec.set("weights", weights(), "weight, else rpm, else tpm of each deployment (0 outside the first level); equal when none is set");
        }
        "latency-based-routing" => {
            sec.set(
                "routing",
                "fastest",
                format!("{from}: latency-based-routing, approximated by the expected TTFT order"),
            );
        }
        "cost-based-routing" => {
            sec.set("routing", "cheapest", format!("{from}: cost-based-routing"));
        }
        "least-busy" | "usage-based-routing" | "usage-based-routing-v2" if level > 1 => {
            sec.set("routing", "weighted", format!("{from}: {} balances load; approximated by drawing the first deployment in proportion to its limits", routing.strategy));
            sec.set(
                "weights",
                weights(),
                "rpm / tpm (or weight) of each deployment; equal when none is set",
            );
        }
        _ => {}
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
