//! `calibration = "FILE"` on a `[[deployment]]`: the keys `llmcap calibrate` fitted
//! (calibration.toml) are merged into the deployment before validation, so they are checked
//! like keys written in the scenario. The path is relative to the scenario file. A key both
//! the deployment and the file set is refused (which one was meant cannot be guessed); only
//! the keys calibrate writes are accepted from the file.

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::input::document::{parse_toml, Checker};

/// The keys a calibration file may set, per table of a deployment.
const ALLOWED: &[(&str, &[&str])] = &[
    (
        "latency",
        &[
            "median_ms",
            "p99_ms",
            "prefill_ms_per_1k_input",
            "load_slows",
        ],
    ),
    ("on_demand", &["shared_pool_tpm", "background_utilization"]),
    (
        "reserved",
        &[
            "tpm_per_unit",
            "concurrency_per_unit",
            "output_weight",
            "max_queue",
        ],
    ),
];

pub(super) fn uses_calibration(t: &toml::Table) -> bool {
    t.get("deployment")
        .and_then(|d| d.as_array())
        .is_some_and(|a| a.iter().any(|d| d.get("calibration").is_some()))
}

/// Where a deployment's calibration file is: relative to the scenario file's folder.
fn resolve(scenario: &Path, name: &str) -> PathBuf {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    scenario.parent().unwrap_or(Path::new(".")).join(p)
}

/// The calibration files the scenario `file` names (`deployment[].calibration`, resolved as
/// [`apply_calibrations`] resolves them): inputs an output folder must not replace. Read from the
/// file again, so the caller needs only its path; a file that cannot be read or parsed names
/// none (validation reports it).
pub fn calibration_files(file: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    table
        .get("deployment")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("calibration")?.as_str())
        .map(|name| resolve(file, name))
        .collect()
}

/// Merges each deployment's calibration file into it, and removes the `calibration` key.
pub(super) fn apply_calibrations(
    mut table: toml::Table,
    file: &Path,
) -> Result<toml::Table, InputError> {
    let c = Checker { file };
    let Some(toml::Value::Array(deps)) = table.get_mut("deployment") else {
        return Ok(table);
    };
    for (i, d) in deps.iter_mut().enumerate() {
        let Some(t) = d.as_table_mut() else { continue };
        let Some(v) = t.remove("calibration") else {
            continue;
        };
        let at = format!("deployment[{i}].calibration");
        let Some(name) = v.as_str() else {
            return Err(c.err(
                at,
                "must be the path of a calibration file (calibration.toml, written by llmcap calibrate)",
            ));
        };
        let path = resolve(file, name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| c.err(&at, format!("cannot read \"{}\": {e}", path.display())))?;
        let cal: toml::Table = parse_toml(&text, &path)?;
        merge(t, &cal, &path, i)?;
    }
    Ok(table)
}

fn merge(
    dep: &mut toml::Table,
    cal: &toml::Table,
    path: &Path,
    i: usize,
) -> Result<(), InputError> {
    let cc = Checker { file: path };
    for (section, value) in cal {
        let Some((_, keys)) = ALLOWED.iter().find(|(s, _)| s == section) else {
            return Err(cc.err(
                section.as_str(),
                format!(
                    "a calibration file sets only {}; found \"{section}\"",
                    ALLOWED
                        .iter()
                        .map(|(s, _)| format!("{s}.*"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let Some(fields) = value.as_table() else {
            return Err(cc.err(
                section.as_str(),
                "must be a table of keys (latency.median_ms = ...)",
            ));
        };
        let other = match section.as_str() {
            "on_demand" => Some("reserved"),
            "reserved" => Some("on_demand"),
            _ => None,
        };
        if let Some(o) = other.filter(|o| dep.contains_key(*o)) {
            return Err(cc.err(
                section.as_str(),
                format!("calibrates a {section} deployment, but deployment[{i}] is {o}; calibrate it from measurements of the same kind of capacity"),
            ));
        }
        let target = dep
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(target) = target.as_table_mut() else {
            return Err(cc.err(
                section.to_string(),
                format!("deployment[{i}].{section} is not a table, so the calibration cannot be merged into it"),
            ));
        };
        for (k, v) in fields {
            if !keys.contains(&k.as_str()) {
                return Err(cc.err(
                    format!("{section}.{k}"),
                    format!(
                        "unknown key; a calibration file sets {section}.{}",
                        keys.join(", ")
                    ),
                ));
            }
            if target.contains_key(k) {
                return Err(cc.err(
                    format!("{section}.{k}"),
                    format!("deployment[{i}].{section}.{k} is also set in the scenario; keep one of them"),
                ));
            }
            target.insert(k.clone(), v.clone());
        }
    }
    Ok(())
}
