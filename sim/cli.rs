//! Command-line interface (clap). No model logic here: it parses arguments,
//! calls the library, shows progress and prints where the results are.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use llmcap::analysis::sweep::Sweep;
use llmcap::domain::limits::MAX_PLAN_UNITS;
use llmcap::domain::Scenario;
use llmcap::format::count;
use llmcap::input::scenario::Overrides;
use llmcap::report::{
    self,
    output::{StageOptions, Staging},
    summary::Manifest,
};

mod calibrate;
mod frontier;
mod gateway;
mod ladder;
mod plan;
mod run;
mod shard;
mod sweep;
mod traces;

pub(crate) use plan::{finish_plan, plan_kind, plan_spec};
use traces::TraceArgs;

#[derive(Debug, Parser)]
#[command(
    name = "llmcap",
    version,
    about = "Capacity planning for managed LLM platforms: seeded discrete-event simulation of TTFT and cost",
    long_about = "llmcap replays seeded synthetic traffic against shared on-demand and reserved capacity \
(Azure PTUs, Bedrock Provisioned Throughput, Vertex provisioned throughput) and reports TTFT \
percentiles, hourly cost, reserved utilization and charts.\n\nExit status: 0 success, 1 run error, \
2 bad input or usage."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write summary.json, CSV tables, PNG charts and report.md.
    Run(RunArgs),
    /// Check a scenario file and print what it describes, without running it.
    Validate(ValidateArgs),
    /// Sweep one scenario key (units, demand, any number) and find the break-even
    /// utilization: sweep.csv, sweep.json, breakeven.png, cost_vs_units.png,
    /// sensitivity.png, report.md.
    Sweep(SweepArgs),
    /// Find the cheapest reserved capacity (units, term, with or without
    /// spillover) that meets a TTFT SLA: plan.md, plan.csv, plan.json, cost_vs_units.png.
    Plan(PlanArgs),
    /// The cost-latency-availability frontier over the grid of a [frontier] table (reserved
    /// units, terms, routes): every configuration simulated and priced, the Pareto-optimal ones
    /// marked, and the highest demand each sustains under the SLA: frontier.md, frontier.csv,
    /// frontier.json, frontier.png.
    Frontier(frontier::FrontierArgs),
    /// List the platform catalog (offerings, prices, throughput, TTFT, compliance,
    /// each with its source), or check it with --check.
    Catalog(CatalogArgs),
    /// Fit a synthetic workload (rate, burstiness, hour-of-day profile, token
    /// distributions) to a trace: fit.toml (a [[class]] to paste), fit.json,
    /// fit.md, fit.png.
    Fit(FitArgs),
    /// Fit a deployment's latency and capacity to load-test measurements (LLMPerf, GuideLLM,
    /// azure-openai-benchmark, CSV) and predict held-out measurements: calibration.toml,
    /// calibrate.md, calibrate.png.
    Calibrate(calibrate::CalibrateArgs),
    /// Explain a cost change between two run folders: rank the class, tag,
    /// deployment, price-component and hour deltas, check the traffic, and say
    /// which platform's native attribution shows each: diff.csv, diff.md.
    Diff(DiffArgs),
    /// Recommend a primary platform, a fallback, a capacity plan, a routing
    /// policy and a FinOps instrumentation plan for a workload profile, from
    /// simulations of every eligible platform: pick.md, pick.json, design.toml.
    /// Exits 1 when no platform can be recommended (pick.md says why).
    Pick(PickArgs),
    /// Read a gateway config as a scenario: `litellm` reads a LiteLLM proxy config YAML,
    /// `portkey` a Portkey config JSON; deployments, routes (or Portkey's target tree), retries,
    /// timeouts and cooldown come from the config, each value commented with where it came from.
    Import(gateway::ImportArgs),
    /// Write a scenario's routing as a gateway config (LiteLLM): model groups, order levels or
    /// weights, quotas, prices, retries, timeout and cooldown.
    Export(gateway::ExportArgs),
    /// Merge the shard files of a sharded command (`sweep`, `run`, `plan`, `pick` or `frontier --shard I/N`) into the outputs one
    /// process would have written, byte for byte; checks that the shards agree and that every
    /// shard is there exactly once.
    Merge(shard::MergeArgs),
    /// Print a shell completion script to standard output, e.g.
    /// `llmcap completions bash > ~/.local/share/bash-completion/completions/llmcap`.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct PickArgs {
    /// The workload profile (TOML; see docs/scenario.md, "Workload profiles").
    pub profile: PathBuf,
    /// Output folder [default: results/<profile name>-pick].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Judge each offering's lifecycle (available, deprecated, retired) on this date
    /// (YYYY-MM-DD) [default: the catalog's as-of date, so answers repeat].
    #[arg(long, value_name = "DATE", value_parser = llmcap::input::catalog::parse_day)]
    pub as_of: Option<String>,
    /// Compute shard I of N (counting from 0) of the candidates (each workload on each platform
    /// route it can use) and write its shard file to --out; `llmcap merge` then chooses and
    /// simulates the design. `auto` and `auto/N` as for sweep (docs/scale-out.md).
    #[arg(long, value_name = "I/N|auto|auto/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier results folder (written by `llmcap run`).
    pub run_a: PathBuf,
    /// The later results folder.
    pub run_b: PathBuf,
    /// Output folder [default: results/diff-<A folder>-vs-<B folder>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Rows of each kind in the printed summary.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub top: u32,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print diff.json on standard output instead of the ranked summary, for scripts.
    #[arg(long)]
    pub json: bool,
    /// If another llmcap is writing to the same --out, wait for it instead of exiting 2.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The trace file (one row a request) or usage export (one row a time bin).
    pub trace: PathBuf,
    /// Its format. Request traces: azure, burstgpt, mooncake, csv. Usage exports:
    /// azure-monitor (`az monitor metrics list` JSON), cloudwatch (`aws cloudwatch
    /// get-metric-data` JSON), per-minute (CSV of time, requests, input and output tokens).
    #[arg(long)]
    pub format: String,
    /// csv, per-minute: the time column [per-minute default: time].
    #[arg(long)]
    pub time_column: Option<String>,
    /// csv, per-minute: the unit of the time column (s, ms, us, datetime) [default: s for csv,
    /// datetime for per-minute; per-minute numbers count from 1970-01-01 UTC].
    #[arg(long)]
    pub time_unit: Option<String>,
    /// per-minute: the requests column [default: requests].
    #[arg(long)]
    pub requests_column: Option<String>,
    /// csv, per-minute: the input-token column [per-minute default: input_tokens].
    #[arg(long)]
    pub input_column: Option<String>,
    /// csv, per-minute: the output-token column [per-minute default: output_tokens].
    #[arg(long)]
    pub output_column: Option<String>,
    /// Interval for counting arrivals (burstiness), seconds; must divide 3600 [default: 60 for
    /// a trace, the bins of a usage export].
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub interval: Option<f64>,
    /// Output folder [default: results/<trace name>-fit].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// If another llmcap is writing to the same --out, wait for it instead of exiting 2.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Catalog files to read instead of the shipped catalog.
    pub files: Vec<PathBuf>,
    /// Check that every value has a source and an as-of date and is in range;
    /// exit 2 and list every problem otherwise.
    #[arg(long)]
    pub check: bool,
    /// Only this platform (e.g. azure-openai, bedrock, vertex-ai).
    #[arg(long)]
    pub platform: Option<String>,
    /// Only offerings of this model (e.g. gpt-4o, claude-sonnet-4).
    #[arg(long)]
    pub model: Option<String>,
    /// Print the offerings with every source as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show each offering's lifecycle (available, deprecated, retired) on this date
    /// (YYYY-MM-DD) [default: the catalog's as-of date].
    #[arg(long, value_name = "DATE", value_parser = llmcap::input::catalog::parse_day)]
    pub as_of: Option<String>,
}

/// Options shared by the commands that simulate.
#[derive(Debug, Args)]
pub struct SimOptions {
    /// Override the scenario's seed (0 to 2^63 - 1, as in the scenario file).
    // Negative numbers are read as values, so `--seed -1` is refused naming --seed.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Override the number of replications (per point, for sweeps and plans).
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub replications: Option<u32>,
    /// Override the horizon in hours.
    #[arg(long, allow_negative_numbers = true, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=26352))]
    pub horizon_hours: Option<u32>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the results as JSON on standard output (the summary.json, sweep.json, plan.json or
    /// pick.json just written) instead of the report's path, for scripts.
    #[arg(long)]
    pub json: bool,
    /// If another llmcap is writing to the same --out, wait for it instead of exiting 2.
    #[arg(long)]
    pub wait: bool,
}

impl SimOptions {
    /// The flags that replace values of the scenario file before validation.
    fn overrides(&self) -> Overrides {
        Overrides {
            seed: self.seed,
            replications: self.replications,
            horizon_hours: self.horizon_hours,
            start_date: None,
            plan: false,
            horizon_months: None,
        }
    }

    fn threads(&self) -> usize {
        self.threads
            .map(|t| t as usize)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file (TOML); its [sweep] table says what to sweep unless --key is given.
    pub scenario: PathBuf,
    /// Output folder [default: results/<scenario name>-sweep].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The key to sweep, e.g. deployment.ptu.reserved.units, class.chat.arrivals.mean_rps, demand_scale.
    #[arg(long)]
    pub key: Option<String>,
    /// The values, comma-separated (instead of --from/--to/--step).
    #[arg(long, value_delimiter = ',', num_args = 1.., allow_negative_numbers = true)]
    pub values: Option<Vec<f64>>,
    /// First value of a range.
    #[arg(long, allow_negative_numbers = true)]
    pub from: Option<f64>,
    /// Last value of a range.
    #[arg(long, allow_negative_numbers = true)]
    pub to: Option<f64>,
    /// Distance between values of a range.
    #[arg(long, allow_negative_numbers = true)]
    pub step: Option<f64>,
    /// Number of evenly spaced values of a range (instead of --step).
    #[arg(long, allow_negative_numbers = true)]
    pub points: Option<u32>,
    /// The on-demand deployment whose prices value the reserved tokens.
    #[arg(long)]
    pub compare: Option<String>,
    /// Compute shard I of N (counting from 0) and write its shard file to --out, for `llmcap
    /// merge`; `auto` reads I and N from a Slurm array task, `auto/N` reads I from a Kubernetes
    /// Indexed Job (JOB_COMPLETION_INDEX) or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX).
    #[arg(long, value_name = "I/N|auto|auto/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub traces: TraceArgs,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The SLA every class must meet, e.g. "p99<=800ms" or "99% under 1s"
    /// [default: [plan] sla, else each class's own sla].
    #[arg(long)]
    pub sla: Option<String>,
    /// Output folder [default: results/<scenario name>-plan].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The reserved deployment to size [default: [plan] deployment, else the only reserved one].
    #[arg(long)]
    pub deployment: Option<String>,
    /// Terms to consider, comma-separated [default: [plan] terms, else every priced term].
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub terms: Option<Vec<String>>,
    /// Most units to consider [default: [plan] max_units, else twice the busiest hour's need].
    #[arg(long, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=MAX_PLAN_UNITS as i64))]
    pub max_units: Option<u32>,
    /// Compute shard I of N (counting from 0) of every configuration the search may visit (each
    /// set-up at every unit count of the grid) and write its shard file to --out; `llmcap merge`
    /// then runs the search on those results. `auto` reads I and N from a Slurm array task,
    /// `auto/N` reads I from a Kubernetes Indexed Job or an AWS Batch array job.
    #[arg(long, value_name = "I/N|auto|auto/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    /// Plan a commitment ladder instead: which units to buy on which term, and when, month
    /// by month (ladder.md, ladder.csv, ladder.png; docs/model.md 12.4.1).
    #[arg(long, conflicts_with = "shard")]
    pub ladder: bool,
    /// Months the ladder covers, 12 to 36; sets the horizon to that many months from
    /// start_date [default: the horizon's whole months].
    #[arg(long, requires = "ladder", value_name = "N", value_parser = clap::value_parser!(u32).range(12..=36))]
    pub months: Option<u32>,
    /// Hours simulated from each month's first day to find its requirement, 24 to 672
    /// [default: 168, a week].
    #[arg(long, requires = "ladder", value_name = "H", value_parser = clap::value_parser!(u32).range(24..=672))]
    pub sample_hours: Option<u32>,
    #[command(flatten)]
    pub traces: TraceArgs,
    #[command(flatten)]
    pub sim: SimOptions,
}

impl PlanArgs {
    /// The flags that decide what the plan searches.
    pub fn flags(&self) -> PlanFlags {
        PlanFlags {
            sla: self.sla.clone(),
            deployment: self.deployment.clone(),
            terms: self.terms.clone(),
            max_units: self.max_units,
        }
    }
}

/// `plan`'s flags that change its search (a merge of its shards reads them from the manifest).
#[derive(Debug, Clone, Default)]
pub struct PlanFlags {
    pub sla: Option<String>,
    pub deployment: Option<String>,
    pub terms: Option<Vec<String>>,
    pub max_units: Option<u32>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder [default: results/<scenario name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub traces: TraceArgs,
    /// Override the scenario's start_date (YYYY-MM-DD): the date of simulated
    /// hour 0, 00:00 UTC, which dates focus.csv; the date decides the weekday.
    #[arg(long, value_name = "DATE")]
    pub start_date: Option<String>,
    /// Compute shard I of N of the replications (counting from 0) and write its shard file to
    /// --out, for `llmcap merge`; `auto` and `auto/N` as for sweep (docs/scale-out.md).
    #[arg(long, value_name = "I/N|auto|auto/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    #[command(flatten)]
    pub sim: SimOptions,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file, or a workload profile for `pick` (TOML).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub traces: TraceArgs,
}

/// A failure with its exit status: 2 for bad input or usage, 1 for run errors.
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

fn input(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

fn runtime(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 1,
        error: error.into(),
    }
}

pub fn dispatch(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Plan(a) => plan::plan(a),
        Command::Frontier(a) => frontier::frontier(a),
        Command::Catalog(a) => catalog(a),
        Command::Fit(a) => fit(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::Diff(a) => diff(a),
        Command::Pick(a) => pick(a),
        Command::Import(a) => gateway::import(a),
        Command::Export(a) => gateway::export(a),
        Command::Completions(a) => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "llmcap", &mut script);
            emit(&String::from_utf8_lossy(&script))
        }
        Command::Merge(a) => shard::merge(a),
    }
}

/// Reads the scenario file, sets the --trace files and `overrides` in the
/// document, and validates the result.
fn load(
    path: &Path,
    traces: &TraceArgs,
    overrides: &Overrides,
) -> Result<(Scenario, Vec<u8>), Failure> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{}: cannot read the scenario file", path.display()))
        .map_err(input)?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| anyhow::anyhow!("{}: the scenario file is not UTF-8 text", path.display()))
        .map_err(input)?;
    let sc = if traces.traces.is_empty() {
        Scenario::from_toml_with(&text, path, overrides)
    } else {
        Scenario::from_table_with(load_table(path, &bytes, traces)?, path, overrides)
    };
    let sc = sc.map_err(|e| {
        let table = llmcap::input::document::parse_toml::<toml::Table>(&text, path);
        match table.ok().and_then(|t| traces::hint(&t, path)) {
            Some(hint) => input(anyhow::anyhow!("{e}\nhint: {hint}")),
            None => input(e),
        }
    })?;
    Ok((sc, bytes))
}

fn warn(path: &Path, sc: &Scenario) {
    for w in sc.warnings() {
        say(&format!("warning: {}: {w}", path.display()));
    }
}

/// A line of prose on stdout, wrapped to the terminal width llmcap keeps.
pub(crate) fn show(line: &str) {
    println!("{}", report::terminal::wrap(line));
}

/// A line of an error report on stderr: wrapped on a terminal, one line in a pipe or a log
/// (so a search finds it whole), as `main` prints the error itself.
pub(crate) fn problem(line: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{}", report::terminal::wrap(line));
    } else {
        eprintln!("{line}");
    }
}

/// A line of prose on stderr (headlines, warnings), wrapped the same way.
pub(crate) fn say(line: &str) {
    eprintln!("{}", report::terminal::wrap(line));
}

/// A workload profile (for `pick`) rather than a scenario: a `[profile]` table and no `[scenario]`.
fn is_profile(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("profile") && !t.contains_key("scenario"))
}

/// `validate` of a workload profile: checked as `pick` checks it, then described.
fn validate_profile(a: &ValidateArgs) -> Result<(), Failure> {
    use llmcap::analysis::pick::Profile;
    let p = Profile::load(&a.scenario).map_err(input)?;
    for line in report::terminal::validate_profile(&a.scenario.display().to_string(), &p) {
        show(&line);
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<(), Failure> {
    if is_profile(&a.scenario) {
        return validate_profile(&a);
    }
    let (sc, bytes) = load(&a.scenario, &a.traces, &Overrides::default())?;
    warn(&a.scenario, &sc);
    // [sweep] and [plan] are checked as `sweep` and `plan` would check them.
    let sweep = match &sc.sweep {
        Some(spec) => {
            let table = load_table(&a.scenario, &bytes, &a.traces)?;
            Some(
                Sweep::build(&table, &a.scenario, spec.clone(), &Overrides::default())
                    .map_err(input)?,
            )
        }
        None => None,
    };
    if sc.plan.is_some() {
        plan_kind(&PlanFlags::default(), &a.scenario, &sc, "plan")?;
    }
    // [frontier] is checked as `frontier` would check it: every configuration validated.
    let grid = match &sc.frontier {
        Some(_) => {
            let table = load_table(&a.scenario, &bytes, &a.traces)?;
            let o = Overrides::default();
            Some(frontier::build(&a.scenario, &sc, &table, None, &o)?)
        }
        None => None,
    };
    for line in report::terminal::validate(&a.scenario.display().to_string(), &sc) {
        show(&line);
    }
    if let Some(sw) = sweep {
        show(&report::terminal::validate_sweep(&sw, &sc));
    }
    if let Some(f) = grid {
        let work: f64 = f
            .configs
            .iter()
            .flat_map(|c| {
                let p = &c.scenario;
                p.classes.iter().map(|k| {
                    k.expected_arrivals(p.horizon_hours, p.start_date) * p.replications as f64
                })
            })
            .sum();
        show(&format!(
            "  frontier: {} configuration(s) over {} routing option(s), ~{} requests to simulate in the grid; sustained-rate search: {}",
            f.configs.len(),
            f.routes.len(),
            llmcap::format::count(work),
            f.rate_note.clone().unwrap_or_else(|| format!(
                "up to {} simulations of each frontier configuration, demand scale up to {}",
                f.options.rate_steps + 1,
                f.options.max_demand_scale
            ))
        ));
    }
    Ok(())
}

/// Creates the staging folder for `dest` (failing early on a bad --out, or
/// one that holds an input the command reads).
fn stage(dest: &Path, inputs: Vec<PathBuf>, wait: bool) -> Result<Staging, Failure> {
    Staging::create_with(dest, &StageOptions { inputs, wait })
        .with_context(|| {
            format!(
                "--out {}: the output folder cannot be written",
                dest.display()
            )
        })
        .map_err(input)
}

/// The files a scenario reads: itself, the traces its classes replay and the calibration files
/// its deployments merge.
fn scenario_inputs(file: &Path, sc: &Scenario) -> Vec<PathBuf> {
    let traces = sc.classes.iter().filter_map(|c| c.trace.as_ref());
    std::iter::once(file.to_path_buf())
        .chain(traces.map(|t| t.path.clone()))
        .chain(llmcap::input::scenario::calibration_files(file))
        .collect()
}

/// Runs `work` on a worker thread while a progress bar (hidden unless the
/// work takes over a second and stderr is a terminal) follows the simulated
/// hours it counts, out of `total`. Returns its result and how long it took.
fn with_progress<T: Send>(
    total: u64,
    quiet: bool,
    work: impl FnOnce(&AtomicU64) -> T + Send,
) -> Result<(T, Duration), Failure> {
    let started = Instant::now();
    let progress = AtomicU64::new(0);
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let started = Instant::now();
            let out = work(&progress);
            (out, started.elapsed())
        });
        let bar = progress_bar(total, quiet);
        let mut estimate_passed = false;
        while !worker.is_finished() {
            std::thread::sleep(Duration::from_millis(25));
            if started.elapsed() > Duration::from_secs(1)
                && bar.is_hidden()
                && !quiet
                && std::io::stderr().is_terminal()
            {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            let done = progress.load(Ordering::Relaxed);
            if done >= total && !estimate_passed {
                // An adaptive search (plan, pick) can need more than its estimate: a bar
                // sitting at 100% while work goes on misleads, so count hours instead.
                estimate_passed = true;
                bar.set_length(u64::MAX);
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} simulated hours {human_pos} (past the estimate of {msg}; the search decides) {elapsed}",
                ) {
                    bar.set_style(style);
                }
                bar.set_message(count(total as f64));
            }
            bar.set_position(done);
        }
        bar.finish_and_clear();
        worker.join()
    })
    .map_err(|_| runtime(anyhow::anyhow!("the simulation thread panicked")))
}

fn manifest(path: &Path, bytes: &[u8], sc: &Scenario, threads: usize) -> Manifest {
    Manifest {
        llmcap_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_name: sc.name.clone(),
        scenario_file: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        scenario_sha256: hex(&Sha256::digest(bytes)),
        seed: sc.seed,
        replications: sc.replications,
        horizon_hours: sc.horizon_hours,
        start_date: None,
        threads,
        ttft_histogram: report::summary::histogram_precision(),
        shards: None,
    }
}

/// A bar that stays hidden until the run has taken a second and only on a terminal.
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    if !quiet {
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} simulated hours {human_pos}/{human_len} [{bar:40}] {percent}% eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
    }
    bar
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scenario file as a TOML table (for sweeps, which change one key).
fn load_table(path: &Path, bytes: &[u8], traces: &TraceArgs) -> Result<toml::Table, Failure> {
    let text = String::from_utf8_lossy(bytes);
    let mut table = llmcap::input::document::parse_toml(&text, path).map_err(input)?;
    traces::apply(&mut table, path, &traces.traces).map_err(input)?;
    Ok(table)
}

fn catalog(a: CatalogArgs) -> Result<(), Failure> {
    use llmcap::input::catalog::Catalog;
    let owned;
    let cat: &Catalog = if a.files.is_empty() {
        Catalog::shipped()
    } else {
        let mut texts = Vec::new();
        for f in &a.files {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("{}: cannot read the catalog file", f.display()))
                .map_err(input)?;
            texts.push((f.clone(), text));
        }
        owned =
            Catalog::parse(texts.iter().map(|(f, t)| (f.as_path(), t.as_str()))).map_err(input)?;
        &owned
    };
    if a.check {
        let problems = cat.check();
        if !problems.is_empty() {
            for p in &problems {
                problem(&p.to_string());
            }
            return Err(input(anyhow::anyhow!(
                "the catalog has {} problem(s)",
                problems.len()
            )));
        }
        println!(
            "catalog ok: {} platform(s), {} offering(s), every value sourced and dated",
            cat.files.len(),
            cat.offerings().count()
        );
        return Ok(());
    }
    if let Some(p) = &a.platform {
        if cat.platform(p).is_none() {
            return Err(input(anyhow::anyhow!(
                "--platform: unknown platform \"{p}\"; the catalog has: {}",
                cat.platform_ids().join(", ")
            )));
        }
    }
    let keep = |platform: &str, model: &str| {
        a.platform.as_deref().is_none_or(|p| p == platform)
            && a.model.as_deref().is_none_or(|m| m == model)
    };
    if a.json {
        let rows: Vec<serde_json::Value> = cat
            .offerings()
            .filter(|(p, o)| keep(&p.id, &o.model))
            .map(|(p, o)| serde_json::json!({ "platform": p.id, "offering": format!("{}/{}", p.id, o.id), "data": o }))
            .collect();
        let text = serde_json::to_string_pretty(&rows).map_err(|e| runtime(anyhow::anyhow!(e)))?;
        return emit(&format!("{text}\n"));
    }
    let date = a.as_of.clone().unwrap_or_else(|| cat.as_of());
    emit(&llmcap::report::catalog::render(cat, &keep, &date))
}

/// Writes to standard output; a closed pipe (`llmcap catalog | head`) comes
/// back as an io::Error, which `main` treats as success, instead of a panic.
/// With --json: the JSON file just written to `dest`, on standard output.
fn emit_json(dest: &Path, file: &str) -> Result<(), Failure> {
    let text = std::fs::read_to_string(dest.join(file))
        .with_context(|| format!("{}: cannot read it back", dest.join(file).display()))
        .map_err(runtime)?;
    emit(&text)?;
    if text.ends_with('\n') {
        Ok(())
    } else {
        emit("\n")
    }
}

fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| runtime(anyhow::Error::new(e)))
}

fn fit(a: FitArgs) -> Result<(), Failure> {
    use llmcap::domain::trace::{CsvMapping, TimeUnit, TraceFormat, FORMATS, TIME_UNITS};
    use llmcap::input::usage::{PerMinuteColumns, UsageFormat, USAGE_FORMATS};
    let need = |flag: &str, v: &Option<String>| {
        v.clone()
            .ok_or_else(|| input(anyhow::anyhow!("--{flag} is needed with --format csv")))
    };
    // The column flags only mean something for a CSV with named columns; given with another
    // format they would be ignored, so the user's intent is refused rather than guessed.
    let given = [
        ("--time-column", a.time_column.is_some(), "csv, per-minute"),
        ("--time-unit", a.time_unit.is_some(), "csv, per-minute"),
        (
            "--requests-column",
            a.requests_column.is_some(),
            "per-minute",
        ),
        (
            "--input-column",
            a.input_column.is_some(),
            "csv, per-minute",
        ),
        (
            "--output-column",
            a.output_column.is_some(),
            "csv, per-minute",
        ),
    ];
    if let Some((flag, _, only)) = given
        .iter()
        .find(|(_, g, only)| *g && !only.split(", ").any(|f| f == a.format))
    {
        return Err(input(anyhow::anyhow!(
            "{flag}: only for --format {only}; the {} format has fixed columns",
            a.format
        )));
    }
    let time_unit = |default: &str| {
        let unit = a.time_unit.as_deref().unwrap_or(default);
        TimeUnit::parse(unit).ok_or_else(|| {
            input(anyhow::anyhow!(
                "--time-unit: unknown unit \"{unit}\"; allowed: {}",
                TIME_UNITS.join(", ")
            ))
        })
    };
    if let Some(mut usage) = UsageFormat::parse(&a.format) {
        if let UsageFormat::PerMinute(cols) = &mut usage {
            let d = PerMinuteColumns::default();
            *cols = PerMinuteColumns {
                time: a.time_column.clone().unwrap_or(d.time),
                time_unit: time_unit("datetime")?,
                requests: a.requests_column.clone().unwrap_or(d.requests),
                input: a.input_column.clone().unwrap_or(d.input),
                output: a.output_column.clone().unwrap_or(d.output),
            };
        }
        let f = llmcap::analysis::fit::fit_usage(&a.trace, &usage, a.interval).map_err(input)?;
        return write_fit(&a, &f);
    }
    let format = match a.format.as_str() {
        "azure" => TraceFormat::Azure,
        "burstgpt" => TraceFormat::BurstGpt,
        "mooncake" => TraceFormat::Mooncake,
        "csv" => {
            let time_unit = time_unit("s")?;
            TraceFormat::Csv(CsvMapping {
                time: need("time-column", &a.time_column)?,
                time_unit,
                input: need("input-column", &a.input_column)?,
                output: need("output-column", &a.output_column)?,
                model: None,
            })
        }
        other => {
            return Err(input(anyhow::anyhow!(
                "--format: unknown format \"{other}\"; allowed: {} (request traces), {} (usage \
                 exports)",
                FORMATS.join(", "),
                USAGE_FORMATS.join(", ")
            )))
        }
    };
    let interval = a
        .interval
        .unwrap_or(llmcap::analysis::fit::DEFAULT_INTERVAL_S);
    let f = llmcap::analysis::fit::fit(&a.trace, format, interval).map_err(input)?;
    write_fit(&a, &f)
}

/// Writes a fit's files and prints its headline.
fn write_fit(a: &FitArgs, f: &llmcap::analysis::fit::Fit) -> Result<(), Failure> {
    let dest = a.out.clone().unwrap_or_else(|| {
        Path::new("results").join(format!("{}-fit", report::fit::class_name(f)))
    });
    let staging = stage(&dest, vec![a.trace.clone()], a.wait)?;
    let dest = report::fit::write_fit(staging, f).map_err(runtime)?;
    if !a.quiet {
        for line in report::fit::headline(f) {
            say(&line);
        }
        println!("{}", dest.join("fit.md").display());
    }
    Ok(())
}

fn diff(a: DiffArgs) -> Result<(), Failure> {
    use llmcap::analysis::diff;
    // Inputs are read before anything is created, so a bad folder writes nothing.
    let (ra, rb) = diff::open(&a.run_a, &a.run_b).map_err(input)?;
    let d = diff::diff(&ra, &rb, diff::catalog_view);
    let dest = a.out.clone().unwrap_or_else(|| {
        Path::new("results").join(format!("diff-{}-vs-{}", ra.label(), rb.label()))
    });
    let staging = stage(&dest, vec![a.run_a.clone(), a.run_b.clone()], a.wait)?;
    let top = a.top as usize;
    let dest = report::diff::write_diff(staging, &d, top).map_err(runtime)?;
    if a.json {
        emit_json(&dest, "diff.json")?;
    } else if !a.quiet {
        emit(&report::diff::summary(&d, top))?;
        eprintln!("{}", dest.join("diff.md").display());
    }
    Ok(())
}

fn pick(a: PickArgs) -> Result<(), Failure> {
    use llmcap::analysis::pick::Profile;
    // A bad --shard is refused before anything is read or simulated.
    let shard_spec = match &a.shard {
        Some(text) => Some(shard::spec(text)?),
        None => None,
    };
    let bytes = std::fs::read(&a.profile)
        .with_context(|| format!("{}: cannot read the profile", a.profile.display()))
        .map_err(input)?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| anyhow::anyhow!("{}: the profile is not UTF-8 text", a.profile.display()))
        .map_err(input)?;
    let profile = Profile::from_toml_with(&text, &a.profile, &a.sim.overrides()).map_err(input)?;
    if let Some(spec) = shard_spec {
        return shard::pick_shard(&a, spec, &bytes, &profile);
    }
    let threads = a.sim.threads();
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("{}-pick", profile.name)));
    let staging = stage(&dest, vec![a.profile.clone()], a.sim.wait)?;
    let total = profile.horizon_hours as u64 * profile.replications as u64 * 40;
    let (result, took) = with_progress(total, a.sim.quiet, |progress| {
        llmcap::analysis::pick::pick(&profile, a.as_of.as_deref(), threads, Some(progress))
    })?;
    let ran = Ran {
        result: result.map_err(runtime)?,
        threads,
        shards: None,
        took,
    };
    finish_pick(&bytes, &profile, ran, staging, (a.sim.quiet, a.sim.json))
}

/// What a command's simulations gave, in one process or merged from its shards, for the writer
/// both share.
pub struct Ran<T> {
    pub result: T,
    /// The threads it ran on (a merge: the most threads a shard ran on).
    pub threads: usize,
    /// How many shards were merged (None: one process).
    pub shards: Option<u32>,
    pub took: Duration,
}

/// Writes a pick's outputs and prints its headline: the same for one process and a merge of its
/// shards. Exits 1 when a workload has no recommendation.
pub fn finish_pick(
    bytes: &[u8],
    profile: &llmcap::analysis::pick::Profile,
    ran: Ran<llmcap::analysis::pick::PickResult>,
    staging: Staging,
    (quiet, json): (bool, bool),
) -> Result<(), Failure> {
    let Ran {
        result,
        threads,
        shards,
        took,
    } = ran;
    let manifest = Manifest {
        llmcap_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_name: profile.name.clone(),
        scenario_file: profile
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        scenario_sha256: hex(&Sha256::digest(bytes)),
        seed: profile.seed as u64,
        replications: profile.replications,
        horizon_hours: profile.horizon_hours,
        start_date: None,
        threads,
        ttft_histogram: report::summary::histogram_precision(),
        shards,
    };
    let dest = report::pick::write_pick(staging, &result, manifest).map_err(runtime)?;
    if !quiet {
        for line in report::pick::headline(&result) {
            say(&format!("{}: {line}", profile.name));
        }
        match shards {
            None => eprintln!(
                "simulated in {:.2} s on {threads} thread(s)",
                took.as_secs_f64()
            ),
            Some(n) => eprintln!(
                "merged from {n} shard(s) in {:.2} s (the design simulated here)",
                took.as_secs_f64()
            ),
        }
    }
    if json {
        emit_json(&dest, "pick.json")?;
    } else if !quiet {
        println!("{}", dest.join("pick.md").display());
    }
    if result.recommended() {
        Ok(())
    } else {
        Err(runtime(anyhow::anyhow!(
            "no recommendation for {}: {}",
            result
                .workloads
                .iter()
                .filter(|w| w.verdict != llmcap::analysis::pick::Verdict::Recommended)
                .map(|w| w.workload.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            dest.join("pick.md").display()
        )))
    }
}
