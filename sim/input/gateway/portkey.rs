//! `llmcap import portkey`: a Portkey gateway config (JSON) as a scenario with Portkey's routing
//! semantics (`[gateway] router = "portkey"`, docs/model.md section 8.3).
//!
//! A Portkey config routes every request it is attached to, so it becomes one class. Its tree is
//! written as it is, as the class's `[class.portkey]` table: each strategy (`strategy.mode` single,
//! fallback or loadbalance, fallback's `strategy.on_status_codes`) and each target (`provider` and
//! `override_params.model`, a `[[deployment]]` of its own), with the `weight`, `retry` and
//! `request_timeout` of any node where the config sets them. Conditional routing picks a target
//! from request metadata, which a gateway config does not describe: it is refused with the reason.

use std::path::Path;

use serde_json::Value;

use crate::error::InputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::draft::{Draft, Section};
use crate::input::gateway::{models, traffic, ImportOptions, Imported};
use crate::input::scenario::portkey::MAX_ATTEMPTS;

/// Portkey provider names llmcap maps to catalog platforms.
pub const PROVIDERS: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("azure-openai", "azure-openai"),
    ("bedrock", "bedrock"),
    ("vertex-ai", "vertex-ai"),
    ("google", "gemini-api"),
];

/// Keys of a config or target llmcap reads.
const READ: &[&str] = &[
    "strategy",
    "targets",
    "retry",
    "request_timeout",
    "provider",
    "override_params",
    "weight",
    "name",
    "api_key",
    "virtual_key",
    "provider_slug",
];

/// The scenario tables of a tree's levels: the root, its targets, their targets, ... (the
/// scenario allows 8 strategies deep).
const LEVELS: [&str; 10] = [
    "class.portkey",
    "class.portkey.targets",
    "class.portkey.targets.targets",
    "class.portkey.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets.targets.targets.targets.targets",
    "class.portkey.targets.targets.targets.targets.targets.targets.targets.targets.targets",
];

/// One target the config routes to: a deployment of the scenario.
struct Target {
    path: String,
    name: String,
    offering: String,
    model: String,
    /// The `--model FROM=MODEL` mapping that named `model`, as the deployment's comment says it.
    mapped: Option<String>,
}

/// A node of the config's tree, as read: a strategy (`mode`, `children`) or a target.
struct Node {
    path: String,
    mode: Option<&'static str>,
    /// Index into the targets (a target node).
    target: Option<usize>,
    weight: Option<f64>,
    on_status_codes: Option<Vec<i64>>,
    retry: Option<(toml::Table, String)>,
    timeout_ms: Option<f64>,
    children: Vec<Node>,
}

struct Cx<'a> {
    file: &'a Path,
    draft: Draft,
    targets: Vec<Target>,
}

impl Cx<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: self.file.to_path_buf(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// Imports a Portkey config.
pub fn import(text: &str, file: &Path, opts: &ImportOptions) -> Result<Imported, InputError> {
    let root: Value = serde_json::from_str(text).map_err(|e| InputError::Parse {
        file: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        path: ".".into(),
        message: format!("not valid JSON: {e}"),
    })?;
    let mut cx = Cx {
        file,
        draft: Draft::default(),
        targets: Vec::new(),
    };
    if !root.is_object() {
        return Err(cx.err(".", "a Portkey config is a JSON object"));
    }
    let tree = node(&mut cx, &root, "", 0, None, opts)?.ok_or_else(|| {
        cx.err(
            "targets",
            "no target llmcap can model (see the warnings; each target needs provider and override_params.model)",
        )
    })?;
    // Target names are deployment names: unique.
    for i in 1..cx.targets.len() {
        let n = (cx.targets[..i].iter())
            .filter(|t| t.name == cx.targets[i].name)
            .count();
        if n > 0 {
            cx.targets[i].name = format!("{}-{}", cx.targets[i].name, n + 1);
        }
    }
    cx.draft.title = vec![
        format!("Written by llmcap import portkey from {}.", file.display()),
        "Each value says where it came from in the config or what was assumed. Traffic is not in a gateway config:".into(),
        "the class carries an assumed default unless --traffic gives one. Run it with `llmcap run`.".into(),
    ];
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "portkey".into());
    cx.draft.sections.push(header(&stem, opts));
    let mut c = Section::table("client");
    c.set(
        "max_attempts",
        1,
        "Portkey retries per target ([class.portkey] retry); assumption: the application does not retry on its own",
    );
    cx.draft.sections.push(c);
    let mut g = Section::table("gateway");
    g.set(
        "latency_ms",
        15.0,
        "assumption: one proxy hop in the same region as the client",
    );
    g.set(
        "router",
        "portkey",
        "Portkey's routing: the class's target tree as the config has it (docs/model.md 8.3)",
    );
    cx.draft.sections.push(g);
    let class = class(&mut cx, &stem, opts)?;
    cx.draft.sections.push(class);
    emit(&mut cx, &tree, 0);
    for t in &cx.targets {
        let mut d = Section::array("deployment");
        d.comments
            .push(format!("{}: {} ({})", t.path, t.model, t.offering));
        if let Some(why) = &t.mapped {
            d.comments.push(why.clone());
        }
        d.set(
            "name",
            t.name.clone(),
            "the target's name, else its provider and position",
        );
        d.set(
            "offering",
            t.offering.clone(),
            "catalog offering of the provider and model (the catalog's first; a Portkey config names no region)",
        );
        cx.draft.sections.push(d);
    }
    let text = cx.draft.render();
    Ok(Imported {
        toml: text,
        warnings: std::mem::take(&mut cx.draft.warnings),
        deployments: cx.targets.len(),
        classes: 1,
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// `strategy.mode` of a config or nested target (Portkey treats a node without one as a call,
/// llmcap as `single`).
fn mode(cx: &Cx, v: &Value, path: &str) -> Result<&'static str, InputError> {
    let Some(s) = v.get("strategy") else {
        return Ok("single");
    };
    let mp = join(path, "strategy.mode");
    let m = s
        .get("mode")
        .and_then(|m| m.as_str())
        .ok_or_else(|| cx.err(&mp, "missing: single, fallback, loadbalance or conditional"))?;
    match m {
        "single" => Ok("single"),
        "fallback" => Ok("fallback"),
        "loadbalance" => Ok("loadbalance"),
        "conditional" => Err(cx.err(
            &mp,
            "conditional routing picks a target from request metadata (strategy.conditions), which a gateway config does not describe; import each branch's targets as a config of its own (one class each, with that branch's traffic) or rewrite it as fallback or loadbalance",
        )),
        other => Err(cx.err(
            &mp,
            format!("\"{other}\" is not a Portkey strategy; allowed: single, fallback, loadbalance, conditional"),
        )),
    }
}

/// The node at `path` (`""` is the root) and everything under it; `None` when nothing under it
/// can be modelled (skipped targets, with warnings).
fn node(
    cx: &mut Cx,
    v: &Value,
    path: &str,
    depth: usize,
    parent_mode: Option<&'static str>,
    opts: &ImportOptions,
) -> Result<Option<Node>, InputError> {
    let shown = if path.is_empty() { "." } else { path };
    if depth >= LEVELS.len() - 1 {
        return Err(cx.err(
            shown,
            "targets nest deeper than llmcap models (8 strategies)",
        ));
    }
    if let Some(obj) = v.as_object() {
        for k in obj.keys() {
            if !READ.contains(&k.as_str()) {
                cx.draft
                    .warn(format!("{}: not modelled by llmcap", join(path, k)));
            }
        }
    }
    let weight = weight(cx, v, path, parent_mode)?;
    let retry = retry(cx, v, path)?;
    let timeout_ms = match v.get("request_timeout") {
        None => None,
        Some(t) => match t.as_f64() {
            Some(ms) if (1.0..=3.6e6).contains(&ms) => Some(ms),
            _ => {
                return Err(cx.err(
                    &join(path, "request_timeout"),
                    format!("must be a number of milliseconds from 1 to 3,600,000, got {t}"),
                ))
            }
        },
    };
    let mut n = Node {
        path: shown.to_string(),
        mode: None,
        target: None,
        weight,
        on_status_codes: None,
        retry,
        timeout_ms,
        children: Vec::new(),
    };
    let Some(targets) = v.get("targets") else {
        if v.get("provider").is_none() && v.get("virtual_key").is_none() {
            return Err(cx.err(
                &join(path, "targets"),
                "missing: a Portkey config routes to targets (or names a provider)",
            ));
        }
        let Some(t) = target(cx, v, shown, cx.targets.len(), opts)? else {
            return Ok(None);
        };
        n.target = Some(cx.targets.len());
        cx.targets.push(t);
        return Ok(Some(n));
    };
    let mode = mode(cx, v, path)?;
    n.mode = Some(mode);
    n.on_status_codes = fallback_codes(cx, v, path, mode)?;
    let Some(list) = targets.as_array() else {
        return Err(cx.err(&join(path, "targets"), "must be a list of targets"));
    };
    for (i, t) in list.iter().enumerate() {
        let tp = format!("{}[{i}]", join(path, "targets"));
        if let Some(child) = node(cx, t, &tp, depth + 1, Some(mode), opts)? {
            n.children.push(child);
        }
    }
    if n.children.is_empty() {
        if !path.is_empty() {
            cx.draft.warn(format!(
                "{path}: skipped, no target under it llmcap can model"
            ));
        }
        return Ok(None);
    }
    if mode == "single" && n.children.len() > 1 {
        cx.draft.warn(format!(
            "{shown}: strategy single sends every request to its first target; the other {} are left out",
            n.children.len() - 1
        ));
        n.children.truncate(1);
    }
    if mode == "loadbalance" && n.children.iter().all(|c| c.weight == Some(0.0)) {
        return Err(cx.err(
            &join(path, "targets"),
            "every target has weight 0: loadbalance needs one above 0",
        ));
    }
    Ok(Some(n))
}

/// A target's `weight`: kept under a loadbalance strategy (Portkey reads it nowhere else).
fn weight(
    cx: &mut Cx,
    v: &Value,
    path: &str,
    parent_mode: Option<&'static str>,
) -> Result<Option<f64>, InputError> {
    let Some(w) = v.get("weight") else {
        return Ok(None);
    };
    let x = match w.as_f64() {
        Some(x) if x.is_finite() && (0.0..=1e9).contains(&x) => x,
        _ => {
            return Err(cx.err(
                &join(path, "weight"),
                format!("must be a number from 0 to 1e9, got {w}"),
            ))
        }
    };
    if parent_mode != Some("loadbalance") {
        cx.draft.warn(format!(
            "{}: Portkey reads weights only under a loadbalance strategy; left out",
            join(path, "weight")
        ));
        return Ok(None);
    }
    Ok(Some(x))
}

/// HTTP statuses at `path`, each from 100 to 599.
fn codes(cx: &Cx, v: &Value, path: &str) -> Result<Vec<i64>, InputError> {
    let Some(list) = v.as_array() else {
        return Err(cx.err(path, format!("must be a list of HTTP statuses, got {v}")));
    };
    (list.iter().enumerate())
        .map(|(i, c)| match c.as_i64() {
            Some(x) if (100..=599).contains(&x) => Ok(x),
            _ => Err(cx.err(
                &format!("{path}[{i}]"),
                format!("must be an HTTP status from 100 to 599, got {c}"),
            )),
        })
        .collect()
}

/// `strategy.on_status_codes`: kept on a fallback strategy (Portkey reads it nowhere else).
fn fallback_codes(
    cx: &mut Cx,
    v: &Value,
    path: &str,
    mode: &str,
) -> Result<Option<Vec<i64>>, InputError> {
    let Some(c) = v.get("strategy").and_then(|s| s.get("on_status_codes")) else {
        return Ok(None);
    };
    let cp = join(path, "strategy.on_status_codes");
    let list = codes(cx, c, &cp)?;
    if mode != "fallback" {
        cx.draft.warn(format!(
            "{cp}: Portkey reads it only for a fallback strategy; left out"
        ));
        return Ok(None);
    }
    Ok(Some(list))
}

/// `retry { attempts, on_status_codes, use_retry_after_header }` as the scenario's inline table.
fn retry(cx: &mut Cx, v: &Value, path: &str) -> Result<Option<(toml::Table, String)>, InputError> {
    let Some(r) = v.get("retry") else {
        return Ok(None);
    };
    let rp = join(path, "retry");
    let attempts = r
        .get("attempts")
        .and_then(|a| a.as_u64())
        .filter(|a| *a <= MAX_ATTEMPTS as u64);
    let Some(attempts) = attempts else {
        return Err(cx.err(
            &format!("{rp}.attempts"),
            format!(
                "must be a whole number from 0 to {MAX_ATTEMPTS} (Portkey's maximum), got {}",
                r.get("attempts")
                    .map_or("nothing".into(), |v| v.to_string())
            ),
        ));
    };
    let mut t = toml::Table::new();
    t.insert("attempts".into(), toml::Value::Integer(attempts as i64));
    let mut why = format!("{rp}: the same target again, up to {attempts} more times");
    if let Some(c) = r.get("on_status_codes") {
        let list = codes(cx, c, &format!("{rp}.on_status_codes"))?;
        t.insert(
            "on_status_codes".into(),
            toml::Value::Array(list.into_iter().map(toml::Value::Integer).collect()),
        );
    } else {
        why.push_str(", on Portkey's default statuses 429, 500, 502, 503, 504");
    }
    // Portkey's gateway code reads `use_retry_after_header`; its newer docs write the plural.
    for key in ["use_retry_after_header", "use_retry_after_headers"] {
        if let Some(b) = r.get(key) {
            let Some(b) = b.as_bool() else {
                return Err(cx.err(
                    &format!("{rp}.{key}"),
                    format!("must be true or false, got {b}"),
                ));
            };
            if key.ends_with('s') {
                cx.draft.warn(format!("{rp}.{key}: Portkey's gateway code reads use_retry_after_header (its docs write the plural); read as that"));
            }
            t.insert("use_retry_after_header".into(), toml::Value::Boolean(b));
        }
    }
    if let Some(obj) = r.as_object() {
        for k in obj.keys() {
            if ![
                "attempts",
                "on_status_codes",
                "use_retry_after_header",
                "use_retry_after_headers",
            ]
            .contains(&k.as_str())
            {
                cx.draft.warn(format!("{rp}.{k}: not modelled by llmcap"));
            }
        }
    }
    Ok(Some((t, why)))
}

/// Writes `n` as the section of its level (then its targets, depth first: TOML's nested
/// arrays of tables).
fn emit(cx: &mut Cx, n: &Node, depth: usize) {
    let mut s = if depth == 0 {
        Section::table(LEVELS[0])
    } else {
        Section::array(LEVELS[depth])
    };
    match (n.mode, n.target) {
        (Some(mode), _) => {
            s.comments.push(format!("{}: a {mode} strategy", n.path));
            s.set("mode", mode, format!("{}: strategy.mode", n.path));
        }
        (None, Some(t)) => {
            let t = &cx.targets[t];
            s.comments
                .push(format!("{}: {} ({})", n.path, t.model, t.offering));
            s.set("deployment", t.name.clone(), "the target's deployment");
        }
        (None, None) => {}
    }
    if let Some(w) = n.weight {
        s.set("weight", w, "weight: its share of the loadbalance draws");
    }
    if let Some(c) = &n.on_status_codes {
        s.set(
            "on_status_codes",
            toml::Value::Array(c.iter().map(|&x| toml::Value::Integer(x)).collect()),
            "strategy.on_status_codes: the statuses that move on to the next target",
        );
    }
    if let Some((t, why)) = &n.retry {
        s.set("retry", t.clone(), why.clone());
    }
    if let Some(ms) = n.timeout_ms {
        s.set(
            "timeout_ms",
            ms,
            "request_timeout (ms): a call past it is aborted with a 408",
        );
    }
    cx.draft.sections.push(s);
    for c in &n.children {
        emit(cx, c, depth + 1);
    }
}

/// One target: its platform, model and offering. `None` when skipped.
fn target(
    cx: &mut Cx,
    v: &Value,
    path: &str,
    index: usize,
    opts: &ImportOptions,
) -> Result<Option<Target>, InputError> {
    let skip = |cx: &mut Cx, e: InputError| -> Result<Option<Target>, InputError> {
        if opts.skip_unsupported {
            let why = match &e {
                InputError::Invalid { message, .. } => message.clone(),
                other => other.to_string(),
            };
            cx.draft.warn(format!("{path} skipped: {why}"));
            Ok(None)
        } else {
            Err(e)
        }
    };
    let provider = match v.get("provider").and_then(|p| p.as_str()) {
        Some(p) => p.trim_start_matches('@'),
        None => {
            let e = cx.err(
                &format!("{path}.provider"),
                "missing: llmcap needs the provider (a virtual_key alone does not say which platform it is)",
            );
            return skip(cx, e);
        }
    };
    let Some(platform) = PROVIDERS
        .iter()
        .find(|(p, _)| *p == provider)
        .map(|(_, x)| *x)
    else {
        let known: Vec<&str> = PROVIDERS.iter().map(|(p, _)| *p).collect();
        let e = cx.err(
            &format!("{path}.provider"),
            format!(
                "\"{provider}\" is not a provider llmcap models; known: {}",
                known.join(", ")
            ),
        );
        return skip(cx, e);
    };
    let Some(model) = v
        .get("override_params")
        .and_then(|o| o.get("model"))
        .and_then(|m| m.as_str())
    else {
        let e = cx.err(
            &format!("{path}.override_params.model"),
            "missing: the model this target serves",
        );
        return skip(cx, e);
    };
    let catalog = Catalog::shipped();
    let mapped = match models::mapped_model(catalog, platform, &opts.models, &[model]) {
        Some(models::Mapped::Model { model, why }) => Some((model, why)),
        Some(models::Mapped::NotSold(why)) => {
            let e = cx.err(&format!("{path}.override_params.model"), why);
            return skip(cx, e);
        }
        None => None,
    };
    let (mapped, why) = mapped.unzip();
    let Some(cat_model) = mapped.or_else(|| models::catalog_model(catalog, platform, model)) else {
        let closest = models::closest_models(catalog, Some(platform), model);
        let e = cx.err(
            &format!("{path}.override_params.model"),
            format!(
                "{platform} does not sell \"{model}\" in the catalog; closest: {} (--model NAME=MODEL reads it as one of them)",
                closest.join(", ")
            ),
        );
        return skip(cx, e);
    };
    let Some((offering, _, _)) = models::offering(catalog, platform, &cat_model, "on_demand", None)
    else {
        let e = cx.err(
            &format!("{path}.override_params.model"),
            format!("{platform} sells no on-demand capacity for {cat_model} in the catalog"),
        );
        return skip(cx, e);
    };
    let name = v
        .get("name")
        .and_then(|n| n.as_str())
        .map(String::from)
        .unwrap_or_else(|| format!("{provider}-{}", index + 1));
    Ok(Some(Target {
        path: path.to_string(),
        name,
        offering,
        model: cat_model,
        mapped: why,
    }))
}

fn header(stem: &str, opts: &ImportOptions) -> Section {
    let mut s = Section::table("scenario");
    if let Some(t) = &opts.traffic {
        if let Some(h) = &t.scenario {
            for (k, v) in h {
                s.set(k, v.clone(), format!("from {}", t.file.display()));
            }
            return s;
        }
    }
    s.set("name", stem.to_string(), "the config's file name");
    s.set("horizon_hours", 168, "assumption: one week, Monday first");
    s.set("seed", 1, "any seed; the same seed gives the same results");
    s.set("replications", 2, "assumption: raise for tighter intervals");
    s
}

/// The one class: the targets as its route (its tree follows as `[class.portkey]`).
fn class(cx: &mut Cx, stem: &str, opts: &ImportOptions) -> Result<Section, InputError> {
    let mut s = Section::array("class");
    let traffic = opts
        .traffic
        .as_ref()
        .and_then(|t| t.classes.first().map(|c| (t, c)));
    let name = traffic
        .and_then(|(_, c)| c.get("name").and_then(|n| n.as_str()))
        .unwrap_or(stem)
        .to_string();
    s.set(
        "name",
        name,
        "the traffic class's name, else the config's file name",
    );
    let model = cx.targets[0].model.clone();
    s.set("model", model.clone(), "the model of the first target");
    let mut subs: Vec<String> = Vec::new();
    for t in &cx.targets {
        if t.model != model && !subs.contains(&t.model) {
            subs.push(t.model.clone());
        }
    }
    if !subs.is_empty() {
        s.set(
            "substitutes",
            toml::Value::Array(subs.into_iter().map(toml::Value::String).collect()),
            "other models the targets serve",
        );
    }
    let route: Vec<toml::Value> = (cx.targets.iter())
        .map(|t| toml::Value::String(t.name.clone()))
        .collect();
    s.set(
        "route",
        toml::Value::Array(route),
        "every target's deployment (the tree in [class.portkey] decides the order)",
    );
    match traffic {
        Some((t, c)) => {
            if t.classes.len() > 1 {
                cx.draft.warn(format!(
                    "{}: a Portkey config routes one stream of requests; only the first traffic class is used",
                    t.file.display()
                ));
            }
            let dropped = traffic::copy_class(&mut s, c, &t.file);
            if !dropped.is_empty() {
                cx.draft.warn(format!(
                    "traffic class: {} ignored (the gateway config decides routing)",
                    dropped.join(", ")
                ));
            }
        }
        None => traffic::default_class(&mut s),
    }
    Ok(s)
}
