//! `llmcap import portkey`: a Portkey gateway config (JSON) as a scenario.
//!
//! A Portkey config routes every request it is attached to, so it becomes one class. Its
//! `strategy.mode` orders the route: `single` (the first target), `fallback` (targets in order),
//! `loadbalance` (the first target drawn by `weight`, the others after it). Nested targets are
//! flattened in order (a nested strategy is approximated, with a warning). `retry.attempts` and
//! `request_timeout` (ms) become the client's retries and timeout. Each target's `provider` names
//! the platform and `override_params.model` the model. Portkey's documentation (portkey.ai/docs,
//! "Configs", "Fallbacks", "Load balancing", "Automatic retries", "Request timeouts", read
//! 2026-12) gives the defaults used: fallback on any non-2xx status, retries on 429, 500, 502, 503
//! and 504, at most 5 attempts.

use std::path::Path;

use serde_json::Value;

use crate::error::InputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::draft::{Draft, Section};
use crate::input::gateway::{models, traffic, ImportOptions, Imported};

/// Portkey provider names llmcap maps to catalog platforms.
pub const PROVIDERS: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("azure-openai", "azure-openai"),
    ("bedrock", "bedrock"),
    ("vertex-ai", "vertex-ai"),
    ("google", "gemini-api"),
];

/// Portkey's retry status codes when `retry.on_status_codes` is not given.
const DEFAULT_RETRY_CODES: &[u64] = &[429, 500, 502, 503, 504];

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

/// One flattened target.
struct Target {
    path: String,
    name: String,
    offering: String,
    model: String,
    weight: f64,
}

struct Cx<'a> {
    file: &'a Path,
    draft: Draft,
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
    };
    if !root.is_object() {
        return Err(cx.err(".", "a Portkey config is a JSON object"));
    }
    let mode = mode(&cx, &root, "strategy")?;
    let mut targets = Vec::new();
    flatten(&mut cx, &root, "", &mut targets, opts)?;
    if targets.is_empty() {
        return Err(cx.err(
            "targets",
            "no target llmcap can model (see the warnings; each target needs provider and override_params.model)",
        ));
    }
    // Target names are deployment names: unique.
    for i in 1..targets.len() {
        let n = targets[..i]
            .iter()
            .filter(|t| t.name == targets[i].name)
            .count();
        if n > 0 {
            targets[i].name = format!("{}-{}", targets[i].name, n + 1);
        }
    }
    if mode == "single" && targets.len() > 1 {
        cx.draft.warn(format!(
            "strategy.mode single: only the first of {} targets is used",
            targets.len()
        ));
        targets.truncate(1);
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
    let client = client(&mut cx, &root)?;
    cx.draft.sections.push(client);
    let mut g = Section::table("gateway");
    g.set(
        "latency_ms",
        15.0,
        "assumption: one proxy hop in the same region as the client",
    );
    cx.draft.sections.push(g);
    let class = class(&mut cx, &stem, &mode, &targets, opts)?;
    cx.draft.sections.push(class);
    for t in &targets {
        let mut d = Section::array("deployment");
        d.comments
            .push(format!("{}: {} ({})", t.path, t.model, t.offering));
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
        deployments: targets.len(),
        classes: 1,
    })
}

/// `strategy.mode` of a config or nested target (default single).
fn mode(cx: &Cx, v: &Value, path: &str) -> Result<String, InputError> {
    let Some(s) = v.get("strategy") else {
        return Ok("single".into());
    };
    let m = s.get("mode").and_then(|m| m.as_str()).ok_or_else(|| {
        cx.err(
            &format!("{path}.mode"),
            "missing: single, fallback, loadbalance or conditional",
        )
    })?;
    match m {
        "single" | "fallback" | "loadbalance" => Ok(m.to_string()),
        "conditional" => Err(cx.err(
            &format!("{path}.mode"),
            "conditional routing picks a target from request metadata llmcap does not simulate; rewrite it as fallback or loadbalance over the targets the traffic reaches",
        )),
        other => Err(cx.err(
            &format!("{path}.mode"),
            format!("\"{other}\" is not a Portkey strategy; allowed: single, fallback, loadbalance, conditional"),
        )),
    }
}

/// Targets in order, nested ones flattened.
fn flatten(
    cx: &mut Cx,
    v: &Value,
    path: &str,
    out: &mut Vec<Target>,
    opts: &ImportOptions,
) -> Result<(), InputError> {
    let prefix = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    if let Some(obj) = v.as_object() {
        for k in obj.keys() {
            if !READ.contains(&k.as_str()) {
                cx.draft
                    .warn(format!("{}: not modelled by llmcap", prefix(k)));
            }
        }
    }
    let Some(targets) = v.get("targets") else {
        if v.get("provider").is_some() || v.get("virtual_key").is_some() {
            if let Some(t) = target(
                cx,
                v,
                if path.is_empty() { "." } else { path },
                out.len(),
                opts,
            )? {
                out.push(t);
            }
            return Ok(());
        }
        return Err(cx.err(
            &prefix("targets"),
            "missing: a Portkey config routes to targets (or names a provider)",
        ));
    };
    let Some(list) = targets.as_array() else {
        return Err(cx.err(&prefix("targets"), "must be a list of targets"));
    };
    for (i, t) in list.iter().enumerate() {
        let tpath = format!("{}[{i}]", prefix("targets"));
        if t.get("targets").is_some() {
            let nested = mode(cx, t, &format!("{tpath}.strategy"))?;
            cx.draft.warn(format!(
                "{tpath}: a nested {nested} strategy; its targets are tried in order after the ones before it"
            ));
            flatten(cx, t, &tpath, out, opts)?;
        } else if let Some(t) = target(cx, t, &tpath, out.len(), opts)? {
            out.push(t);
        }
    }
    Ok(())
}

/// One target: its platform, model, offering and weight. `None` when skipped.
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
    let Some(cat_model) = models::catalog_model(catalog, platform, model) else {
        let closest = models::closest_models(catalog, Some(platform), model);
        let e = cx.err(
            &format!("{path}.override_params.model"),
            format!(
                "{platform} does not sell \"{model}\" in the catalog; closest: {}",
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
    let weight = match v.get("weight") {
        None => 1.0,
        Some(w) => match w.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                return Err(cx.err(
                    &format!("{path}.weight"),
                    format!("must be a number ≥ 0, got {w}"),
                ))
            }
        },
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
        weight,
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

/// `[client]`: `retry.attempts` and `request_timeout` (milliseconds).
fn client(cx: &mut Cx, root: &Value) -> Result<Section, InputError> {
    let mut c = Section::table("client");
    let attempts = match root.get("retry") {
        None => {
            c.set(
                "max_attempts",
                1,
                "no retry in the config: Portkey does not retry",
            );
            None
        }
        Some(r) => {
            let a = r
                .get("attempts")
                .and_then(|a| a.as_u64())
                .filter(|a| *a <= 5);
            let Some(a) = a else {
                return Err(cx.err(
                    "retry.attempts",
                    format!(
                        "must be a whole number from 0 to 5 (Portkey's maximum), got {}",
                        r.get("attempts")
                            .map_or("nothing".into(), |v| v.to_string())
                    ),
                ));
            };
            c.set("max_attempts", (a + 1) as i64, "1 + retry.attempts");
            Some(r)
        }
    };
    if let Some(r) = attempts {
        let codes: Vec<u64> = match r.get("on_status_codes").and_then(|c| c.as_array()) {
            Some(list) => list.iter().filter_map(|c| c.as_u64()).collect(),
            None => DEFAULT_RETRY_CODES.to_vec(),
        };
        if !codes.contains(&429) {
            cx.draft.warn("retry.on_status_codes leaves out 429: llmcap retries refused requests anyway (it retries every refusal)");
        }
    }
    c.set(
        "backoff_base_ms",
        500.0,
        "assumption: Portkey backs off exponentially; its schedule is not published",
    );
    c.set("backoff_max_ms", 8000.0, "assumption");
    c.set("jitter", "full", "assumption");
    if let Some(t) = root.get("request_timeout") {
        match t.as_f64() {
            Some(ms) if ms > 0.0 => c.set("timeout_ms", ms, "request_timeout (milliseconds)"),
            _ => {
                return Err(cx.err(
                    "request_timeout",
                    format!("must be a number of milliseconds > 0, got {t}"),
                ))
            }
        }
    }
    if root
        .get("strategy")
        .and_then(|s| s.get("on_status_codes"))
        .is_some()
    {
        cx.draft.warn("strategy.on_status_codes: llmcap falls back on every refusal and error (429 and outages)");
    }
    Ok(c)
}

/// The one class: the targets as its route.
fn class(
    cx: &mut Cx,
    stem: &str,
    mode: &str,
    targets: &[Target],
    opts: &ImportOptions,
) -> Result<Section, InputError> {
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
    let model = targets[0].model.clone();
    s.set("model", model.clone(), "the model of the first target");
    let mut subs: Vec<String> = Vec::new();
    for t in targets {
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
    let route: Vec<toml::Value> = targets
        .iter()
        .map(|t| toml::Value::String(t.name.clone()))
        .collect();
    s.set(
        "route",
        toml::Value::Array(route),
        format!("strategy.mode {mode}: the targets in order"),
    );
    if mode == "loadbalance" && targets.len() > 1 {
        let w: Vec<toml::Value> = targets
            .iter()
            .map(|t| toml::Value::Float(t.weight))
            .collect();
        if targets.iter().all(|t| t.weight == 0.0) {
            return Err(cx.err(
                "targets",
                "every target has weight 0: loadbalance needs one above 0",
            ));
        }
        s.set(
            "routing",
            "weighted",
            "loadbalance: the first target drawn by weight",
        );
        s.set(
            "weights",
            toml::Value::Array(w),
            "each target's weight (default 1)",
        );
    }
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
