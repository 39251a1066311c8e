//! The scenario file: serde types for the TOML ([`raw`], a cheap parse that only
//! checks shapes), then validation into the domain types the simulation runs on
//! ([`crate::domain`]; every value is checked and every error names its key).
//!
//! Units are in the key names: `_ms`, `_rps`, `_per_1m`, `_tpm`, `_hours`.
//! `docs/scenario.md` lists every key, its unit, default and allowed range.

use std::path::Path;

use crate::domain::limits::MAX_HORIZON_HOURS;
use crate::domain::{Class, Deployment, Scenario, DEFAULT_PERCENTILES, WEEKDAYS};
use crate::error::InputError;
use crate::input::document::{parse_toml, Checker};

mod class;
pub mod raw;
mod route_order;
mod trace_scan;
mod validate;

use class::validate_class;
use raw::RawScenario;
use validate::{validate_client, validate_deployment, validate_gateway, validate_outage};

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
