//! `--trace [CLASS=]PATH`: the trace file a class replays, given on the command
//! line. Public traces (the Azure LLM inference traces, Mooncake, BurstGPT) are
//! not shipped with llmcap, so a scenario that replays one names where
//! `scripts/fetch_traces.sh` puts it and the user may point elsewhere. The flag
//! edits the scenario document before validation, like every override.

use std::path::Path;

use clap::Args;

#[derive(Debug, Clone, Default, Args)]
pub struct TraceArgs {
    /// Replay this trace file instead of the one the scenario names: PATH for
    /// every class that replays a trace, CLASS=PATH for one class; repeatable.
    /// A relative PATH is read from the current folder.
    #[arg(long = "trace", value_name = "[CLASS=]PATH")]
    pub traces: Vec<String>,
}

/// The classes of a scenario document: (name, its `arrivals` table if it has one).
fn classes(table: &mut toml::Table) -> Vec<(String, Option<&mut toml::Table>)> {
    let Some(toml::Value::Array(classes)) = table.get_mut("class") else {
        return Vec::new();
    };
    classes
        .iter_mut()
        .filter_map(|c| c.as_table_mut())
        .map(|c| {
            let name = c
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string();
            (name, c.get_mut("arrivals").and_then(|a| a.as_table_mut()))
        })
        .collect()
}

/// Sets `class.<name>.arrivals.trace` for each override in the document of the
/// scenario `file`. Errors name the flag, the class and what is allowed.
pub fn apply(table: &mut toml::Table, file: &Path, overrides: &[String]) -> anyhow::Result<()> {
    for o in overrides {
        let mut classes = classes(table);
        let names: Vec<String> = classes.iter().map(|(n, _)| n.clone()).collect();
        let replaying: Vec<String> = classes
            .iter()
            .filter(|(_, a)| a.as_ref().is_some_and(|a| a.contains_key("trace")))
            .map(|(n, _)| n.clone())
            .collect();
        // CLASS=PATH only when CLASS is one of the scenario's classes (a path may hold '=').
        let (only, path) = match o.split_once('=') {
            Some((c, p)) if names.iter().any(|n| n == c) => (Some(c), p),
            _ => (None, o.as_str()),
        };
        if path.is_empty() {
            anyhow::bail!("--trace {o}: the path is empty; give [CLASS=]PATH");
        }
        if !Path::new(path).exists() {
            match o.split_once('=') {
                Some((c, _)) if only.is_none() => anyhow::bail!(
                    "--trace {o}: no file {o}, and \"{c}\" is not a class of {} (its classes: {})",
                    file.display(),
                    names.join(", ")
                ),
                _ => anyhow::bail!("--trace {o}: no such file: {path}"),
            }
        }
        let path = std::path::absolute(path)
            .map_err(|e| anyhow::anyhow!("--trace {o}: {e}"))?
            .to_string_lossy()
            .into_owned();
        if replaying.is_empty() {
            anyhow::bail!(
                "--trace {o}: no class of {} replays a trace (class.arrivals.trace)",
                file.display()
            );
        }
        if let Some(c) = only {
            if !replaying.iter().any(|r| r == c) {
                anyhow::bail!(
                    "--trace {o}: class \"{c}\" of {} does not replay a trace; classes that do: {}",
                    file.display(),
                    replaying.join(", ")
                );
            }
        }
        for (name, arrivals) in classes.iter_mut() {
            if let Some(a) = arrivals {
                if a.contains_key("trace") && only.is_none_or(|c| c == name) {
                    a.insert("trace".into(), toml::Value::String(path.clone()));
                }
            }
        }
    }
    Ok(())
}

/// A line for an error about a scenario whose trace files are not there (the
/// public traces are not shipped): how to give them. None when every trace the
/// document names exists.
pub fn hint(table: &toml::Table, file: &Path) -> Option<String> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut table = table.clone();
    let missing: Vec<String> = classes(&mut table)
        .into_iter()
        .filter_map(|(name, a)| {
            let trace = a?.get("trace")?.as_str()?.to_string();
            (!dir.join(&trace).exists()).then(|| format!("class {name} replays \"{trace}\""))
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} ({}, not there): public traces are not shipped with llmcap; give the file with \
             --trace [CLASS=]PATH, or download the originals with scripts/fetch_traces.sh",
            file.display(),
            missing.join("; ")
        )
    })
}
