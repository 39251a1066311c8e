//! The traffic of an imported gateway: a gateway config says where requests go, never how many
//! arrive. `--traffic FILE` gives `[[class]]` tables (the shape of `llmcap fit`'s fit.toml, or of a
//! scenario's classes); each is matched to the model group of the same name (or whose name is
//! the class's `model`). Groups without one get [`default_class`], marked as an assumption.

use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::input::gateway::draft::Section;

/// Traffic classes read from a file.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub file: PathBuf,
    pub classes: Vec<toml::Table>,
    /// The file's `[scenario]` table, when it is a scenario (horizon, seed, replications...).
    pub scenario: Option<toml::Table>,
    /// The file's `[[outage]]` tables, when it is a scenario: they name deployments, so they
    /// apply when the gateway's deployments carry the same names (a config llmcap exported).
    pub outages: Vec<toml::Table>,
}

/// Keys of a traffic class the gateway decides instead (dropped with a warning).
const ROUTING_KEYS: &[&str] = &["route", "routing", "weights", "groups", "orders", "portkey"];

impl Traffic {
    /// Reads `[[class]]` tables from a TOML file.
    pub fn load(file: &Path) -> Result<Traffic, InputError> {
        let text = std::fs::read_to_string(file).map_err(|source| InputError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        let table: toml::Table = crate::input::document::parse_toml(&text, file)?;
        let invalid = |path: &str, message: String| InputError::Invalid {
            file: file.to_path_buf(),
            path: path.into(),
            message,
        };
        let Some(classes) = table.get("class") else {
            return Err(invalid(
                "class",
                "no [[class]] table: a traffic file holds [[class]] tables (e.g. llmcap fit's fit.toml)".into(),
            ));
        };
        let Some(classes) = classes.as_array() else {
            return Err(invalid(
                "class",
                "must be an array of tables ([[class]])".into(),
            ));
        };
        let mut out = Vec::new();
        for (i, c) in classes.iter().enumerate() {
            let Some(t) = c.as_table() else {
                return Err(invalid(&format!("class[{i}]"), "must be a table".into()));
            };
            if !t.get("name").is_some_and(|n| n.is_str()) {
                return Err(invalid(
                    &format!("class[{i}].name"),
                    "missing: each traffic class needs a name (the model group it is sent to)"
                        .into(),
                ));
            }
            let mut t = t.clone();
            absolutise_trace(&mut t, file);
            out.push(t);
        }
        let tables = |key: &str| -> Vec<toml::Table> {
            table
                .get(key)
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|t| t.as_table().cloned()).collect())
                .unwrap_or_default()
        };
        Ok(Traffic {
            file: file.to_path_buf(),
            classes: out,
            scenario: table.get("scenario").and_then(|s| s.as_table()).cloned(),
            outages: tables("outage"),
        })
    }

    /// The class for model group `group`, if the file has one.
    pub fn for_group(&self, group: &str) -> Option<&toml::Table> {
        let named = |k: &str| {
            self.classes
                .iter()
                .find(|c| c.get(k).and_then(|v| v.as_str()) == Some(group))
        };
        named("name").or_else(|| named("model"))
    }

    /// Names of classes that match none of `groups`.
    pub fn unmatched(&self, groups: &[String]) -> Vec<String> {
        self.classes
            .iter()
            .filter(|c| {
                let name = c.get("name").and_then(|v| v.as_str());
                let model = c.get("model").and_then(|v| v.as_str());
                !groups
                    .iter()
                    .any(|g| Some(g.as_str()) == name || Some(g.as_str()) == model)
            })
            .filter_map(|c| c.get("name").and_then(|v| v.as_str()).map(String::from))
            .collect()
    }
}

/// A trace path in a traffic class is relative to the traffic file; the scenario is written
/// elsewhere, so it becomes absolute.
fn absolutise_trace(class: &mut toml::Table, file: &Path) {
    let Some(arrivals) = class.get_mut("arrivals").and_then(|a| a.as_table_mut()) else {
        return;
    };
    let Some(trace) = arrivals.get("trace").and_then(|t| t.as_str()) else {
        return;
    };
    let p = Path::new(trace);
    if p.is_relative() {
        let base = file.parent().unwrap_or(Path::new("."));
        let joined = std::path::absolute(base.join(p)).unwrap_or_else(|_| base.join(p));
        arrivals.insert(
            "trace".into(),
            toml::Value::String(joined.to_string_lossy().into_owned()),
        );
    }
}

/// Writes the traffic keys of `class` (from the traffic file) into `s`, except name, model and
/// routing keys; returns the routing keys it dropped.
pub fn copy_class(s: &mut Section, class: &toml::Table, file: &Path) -> Vec<String> {
    let mut dropped = Vec::new();
    for (k, v) in class {
        if k == "name" || k == "model" || k == "substitutes" {
            continue;
        }
        if ROUTING_KEYS.contains(&k.as_str()) {
            dropped.push(k.clone());
            continue;
        }
        s.set(k, v.clone(), format!("from {}", file.display()));
    }
    dropped
}

/// Traffic for a model group the traffic file does not describe. Every value is an assumption
/// and says so: the planner replaces it (or passes --traffic with `llmcap fit`'s output).
pub fn default_class(s: &mut Section) {
    let why = "assumption: llmcap import's default traffic; replace it with your own or pass --traffic FILE (e.g. llmcap fit's fit.toml)";
    let mut arrivals = toml::Table::new();
    arrivals.insert("mean_rps".into(), toml::Value::Float(1.0));
    arrivals.insert("peak_hour".into(), toml::Value::Integer(14));
    arrivals.insert("peak_to_trough".into(), toml::Value::Float(3.0));
    s.set("arrivals", arrivals, why);
    s.set(
        "input_tokens",
        tokens(1500, 5000, 32000),
        "assumption: chat with retrieved context, as scenarios/two_provider.toml",
    );
    s.set(
        "output_tokens",
        tokens(300, 900, 4096),
        "assumption: as scenarios/two_provider.toml",
    );
}

fn tokens(median: i64, p90: i64, max: i64) -> toml::Table {
    let mut t = toml::Table::new();
    t.insert("dist".into(), "lognormal".into());
    t.insert("median".into(), toml::Value::Integer(median));
    t.insert("p90".into(), toml::Value::Integer(p90));
    t.insert("max".into(), toml::Value::Integer(max));
    t
}
