//! `llmcap import litellm CONFIG --out SCENARIO.toml`: a gateway config as a scenario;
//! `llmcap export litellm SCENARIO --out CONFIG.yaml`: a scenario's routing as a gateway config.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use llmcap::domain::Scenario;
use llmcap::input::gateway::{self, traffic::Traffic, ImportOptions};
use llmcap::report::output::single;

use super::{input, runtime, Failure};

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub kind: ImportKind,
}

#[derive(Debug, Subcommand)]
pub enum ImportKind {
    /// Reads a LiteLLM proxy config YAML (config.yaml) into a scenario with LiteLLM's router.
    ///
    /// It reads model_list (model_name = model group; litellm_params: the provider-prefixed
    /// model, region, rpm, tpm, order, weight, input/output_cost_per_token, cooldown_time;
    /// model_info: id, base_model) and router_settings / litellm_settings (routing_strategy,
    /// num_retries, retry_after, timeout, allowed_fails, allowed_fails_policy, cooldown_time,
    /// disable_cooldowns, fallbacks, default_fallbacks, max_fallbacks, enable_pre_call_checks).
    /// Other keys are listed as warnings. docs/gateway.md has the mapping.
    Litellm(ImportCommon),
    /// Reads a Portkey config JSON into a scenario with one class and Portkey's routing
    /// (`[gateway] router = "portkey"`).
    ///
    /// The config's tree is written as it is ([class.portkey]): strategy.mode (single, fallback,
    /// loadbalance; conditional is refused) and strategy.on_status_codes of each strategy, the
    /// targets (provider, override_params.model, weight, nested targets), and retry (attempts,
    /// on_status_codes, use_retry_after_header) and request_timeout wherever they are set. Other
    /// keys are listed as warnings. docs/gateway.md has the mapping.
    Portkey(ImportCommon),
}

#[derive(Debug, Args)]
pub struct ImportCommon {
    /// The gateway config file.
    pub config: PathBuf,
    /// The scenario file to write (replaced only if llmcap wrote it).
    #[arg(long, value_name = "SCENARIO.toml")]
    pub out: PathBuf,
    /// Traffic: a TOML file of [[class]] tables (e.g. llmcap fit's fit.toml), matched to model
    /// groups by name. Without it each group gets an assumed default traffic.
    #[arg(long, value_name = "FILE")]
    pub traffic: Option<PathBuf>,
    /// A provisioned deployment and its units, by model_info.id, model_name or litellm_params.model
    /// (repeatable). A LiteLLM config does not say which Azure deployments are PTU.
    #[arg(long, value_name = "NAME=UNITS", value_parser = parse_provisioned)]
    pub provisioned: Vec<(String, u32)>,
    /// Read a model the config names as a catalog model (repeatable): FROM is a model id without
    /// its provider prefix, a model_info.base_model, an Azure deployment name or a model group;
    /// MODEL a model the catalog sells on that platform (`llmcap catalog` lists them). For a
    /// retired model replayed on today's (gpt-3.5-turbo=gpt-4o-mini) or an Azure deployment name
    /// (chatgpt-v-2=gpt-4o).
    #[arg(long = "model", value_name = "FROM=MODEL", value_parser = parse_model_map)]
    pub models: Vec<(String, String)>,
    /// Import the deployments llmcap can model and list the others as warnings, instead of
    /// refusing the config.
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_provisioned(s: &str) -> anyhow::Result<(String, u32)> {
    let (name, units) = s
        .rsplit_once('=')
        .ok_or_else(|| anyhow::anyhow!("\"{s}\": expected NAME=UNITS, e.g. gpt-4o-ptu=100"))?;
    let units: u32 = units.trim().parse().map_err(|_| {
        anyhow::anyhow!("\"{s}\": UNITS must be a whole number from 1 to 4294967295")
    })?;
    if name.trim().is_empty() || units == 0 {
        anyhow::bail!("\"{s}\": expected NAME=UNITS with a name and at least 1 unit");
    }
    Ok((name.trim().to_string(), units))
}

fn parse_model_map(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            Ok((from.trim().to_string(), to.trim().to_string()))
        }
        _ => anyhow::bail!("\"{s}\": expected FROM=MODEL, e.g. gpt-3.5-turbo=gpt-4o-mini"),
    }
}

pub fn import(a: ImportArgs) -> Result<(), Failure> {
    match a.kind {
        ImportKind::Litellm(c) => run_import(&c, gateway::litellm::import),
        ImportKind::Portkey(c) => run_import(&c, gateway::portkey::import),
    }
}

type Importer =
    fn(&str, &Path, &ImportOptions) -> Result<gateway::Imported, llmcap::error::InputError>;

fn run_import(c: &ImportCommon, importer: Importer) -> Result<(), Failure> {
    // Every check before anything is written.
    single::check_writable(&c.out).map_err(input)?;
    let text = std::fs::read_to_string(&c.config)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot read the gateway config: {e}",
                c.config.display()
            )
        })
        .map_err(input)?;
    let traffic = match &c.traffic {
        Some(t) => Some(Traffic::load(t).map_err(input)?),
        None => None,
    };
    let opts = ImportOptions {
        provisioned: c.provisioned.clone(),
        skip_unsupported: c.skip_unsupported,
        models: c.models.clone(),
        traffic,
    };
    let imported = importer(&text, &c.config, &opts).map_err(input)?;
    // The scenario must validate as written; an error here is llmcap's, not the user's.
    Scenario::from_toml(&imported.toml, &c.out)
        .map_err(|e| {
            anyhow::anyhow!(
                "the imported scenario does not validate (please report this with the config): {e}"
            )
        })
        .map_err(runtime)?;
    let out = single::write_file(&c.out, imported.toml.as_bytes()).map_err(runtime)?;
    if !c.quiet {
        for w in &imported.warnings {
            super::say(&format!("warning: {w}"));
        }
        super::say(&format!(
            "{}: {} deployments, {} model groups; run it with `llmcap run {}`",
            out.display(),
            imported.deployments,
            imported.classes,
            out.display()
        ));
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub kind: ExportKind,
}

#[derive(Debug, Subcommand)]
pub enum ExportKind {
    /// A LiteLLM proxy config (litellm_config.yaml) for the scenario's classes and deployments.
    Litellm(ExportCommon),
}

#[derive(Debug, Args)]
pub struct ExportCommon {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The config file to write (replaced only if llmcap wrote it).
    #[arg(long, value_name = "CONFIG.yaml")]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn export(a: ExportArgs) -> Result<(), Failure> {
    let ExportKind::Litellm(c) = a.kind;
    single::check_writable(&c.out).map_err(input)?;
    let text = std::fs::read_to_string(&c.scenario)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot read the scenario file: {e}",
                c.scenario.display()
            )
        })
        .map_err(input)?;
    let sc = Scenario::from_toml(&text, &c.scenario).map_err(input)?;
    let document: toml::Table = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", c.scenario.display()))
        .map_err(input)?;
    let from = c.scenario.display().to_string();
    let yaml = llmcap::report::litellm::render(&sc, &document, &from)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot be written as a LiteLLM config: {e}",
                c.scenario.display()
            )
        })
        .map_err(input)?;
    let out = single::write_file(&c.out, yaml.as_bytes()).map_err(runtime)?;
    if !c.quiet {
        for line in yaml.lines().take_while(|l| l.starts_with('#')) {
            if let Some(n) = line.strip_prefix("# Not in this file: ") {
                super::say(&format!("warning: not in the LiteLLM config: {n}"));
            }
        }
        eprintln!("{}", out.display());
    }
    Ok(())
}
