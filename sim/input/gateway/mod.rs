//! Gateway configurations read as scenarios: a LiteLLM proxy config ([`litellm`]) or a Portkey config
//! ([`portkey`]) becomes a scenario file whose deployments, routes, retries, timeouts and cooldown
//! are the gateway's, each value with a comment saying where it came from or what was assumed.
//!
//! Both importers fill a [`Draft`]: the scenario as TOML entries with comments, plus the warnings
//! (keys llmcap does not model, deployments skipped). [`Draft::render`] writes the text; the caller
//! validates it as any scenario before writing it anywhere.

pub mod draft;
pub mod litellm;
pub mod models;
pub mod portkey;
pub mod traffic;

pub use draft::{Draft, Entry, Section};

/// What an import produced: the scenario text and what the planner should know about it.
#[derive(Debug, Clone)]
pub struct Imported {
    pub toml: String,
    /// Keys not modelled, deployments skipped, values assumed: printed as warnings and written as
    /// comments at the top of the scenario.
    pub warnings: Vec<String>,
    /// Deployments and model groups (classes) in the scenario.
    pub deployments: usize,
    pub classes: usize,
}

/// Options shared by the importers.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `NAME=UNITS`: deployments (by model_info.id, model_name or litellm_params.model) that are
    /// provisioned, with their units.
    pub provisioned: Vec<(String, u32)>,
    /// Skip deployments llmcap cannot model (unknown provider, model not in the catalog) instead
    /// of refusing the config.
    pub skip_unsupported: bool,
    /// `FROM=MODEL` (`--model`): a model the config names (its model id without the provider
    /// prefix, `model_info.base_model`, an Azure deployment name or a model group) read as this
    /// catalog model: for a retired model replayed on today's, or an Azure deployment name.
    pub models: Vec<(String, String)>,
    /// Traffic classes (`[[class]]` tables, e.g. `llmcap fit`'s fit.toml) with the file they came
    /// from.
    pub traffic: Option<traffic::Traffic>,
}
