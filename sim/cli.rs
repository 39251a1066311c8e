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

use llmcap::report::{
    self,
    output::Staging,
    summary::{Manifest, RepDigest},
};
use llmcap::scenario::Scenario;

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
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder [default: results/<scenario name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed (0 to 2^63 - 1, as in the scenario file).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Override the scenario's number of replications.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub replications: Option<u32>,
    /// Override the horizon in hours (e.g. a short look before a long run).
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=17568))]
    pub horizon_hours: Option<u32>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
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
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
    }
}

fn load(path: &Path) -> Result<(Scenario, Vec<u8>), Failure> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{}: cannot read the scenario file", path.display()))
        .map_err(input)?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| anyhow::anyhow!("{}: the scenario file is not UTF-8 text", path.display()))
        .map_err(input)?;
    let sc = Scenario::from_toml(&text, path).map_err(input)?;
    Ok((sc, bytes))
}

fn warn(path: &Path, sc: &Scenario) {
    for w in sc.warnings() {
        eprintln!("warning: {}: {w}", path.display());
    }
}

fn validate(a: ValidateArgs) -> Result<(), Failure> {
    let (sc, _) = load(&a.scenario)?;
    warn(&a.scenario, &sc);
    println!(
        "{}: valid scenario \"{}\": {} class(es), {} deployment(s), {} h horizon, {} replication(s), seed {}",
        a.scenario.display(),
        sc.name,
        sc.classes.len(),
        sc.deployments.len(),
        sc.horizon_hours,
        sc.replications,
        sc.seed
    );
    for c in &sc.classes {
        let route: Vec<&str> = c
            .route
            .iter()
            .map(|&d| sc.deployments[d].name.as_str())
            .collect();
        println!(
            "  class {}: {} req/s mean, ~{:.0} requests per replication, route {}",
            c.name,
            c.arrivals.mean_rps,
            c.arrivals
                .expected_arrivals(sc.horizon_hours, sc.start_weekday),
            route.join(" -> ")
        );
    }
    for d in &sc.deployments {
        println!(
            "  deployment {}: {} {} ({})",
            d.name,
            d.platform,
            d.model,
            d.pool.kind()
        );
    }
    Ok(())
}

fn run(a: RunArgs) -> Result<(), Failure> {
    let (mut sc, bytes) = load(&a.scenario)?;
    if let Some(seed) = a.seed {
        sc.seed = seed;
    }
    if let Some(r) = a.replications {
        sc.replications = r;
    }
    if let Some(h) = a.horizon_hours {
        sc.horizon_hours = h;
    }
    if !a.quiet {
        warn(&a.scenario, &sc);
    }
    let threads = a
        .threads
        .map(|t| t as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let dest = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&sc.name));
    // Fail on an unwritable destination before spending time on the run.
    let staging = Staging::create(&dest)
        .with_context(|| {
            format!(
                "--out {}: the output folder cannot be written",
                dest.display()
            )
        })
        .map_err(input)?;

    let started = Instant::now();
    let progress = AtomicU64::new(0);
    let total = sc.horizon_hours as u64 * sc.replications as u64;
    let results = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let started = Instant::now();
            let out =
                llmcap::run::run_each(&sc, threads, Some(&progress), |m| RepDigest::of(&sc, m));
            (out, started.elapsed())
        });
        let bar = progress_bar(total, a.quiet);
        while !worker.is_finished() {
            std::thread::sleep(Duration::from_millis(25));
            if started.elapsed() > Duration::from_secs(1)
                && bar.is_hidden()
                && !a.quiet
                && std::io::stderr().is_terminal()
            {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.set_position(progress.load(Ordering::Relaxed).min(total));
        }
        bar.finish_and_clear();
        worker.join()
    })
    .map_err(|_| runtime(anyhow::anyhow!("the simulation thread panicked")))?;
    let ((pooled, digests), simulated_in) = results;

    let manifest = Manifest {
        llmcap_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_name: sc.name.clone(),
        scenario_file: a
            .scenario
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        scenario_sha256: hex(&Sha256::digest(&bytes)),
        seed: sc.seed,
        replications: sc.replications,
        horizon_hours: sc.horizon_hours,
        threads,
        ttft_histogram: report::summary::histogram_precision(),
    };
    let (dest, summary) =
        report::write_run(staging, &sc, &pooled, &digests, manifest).map_err(runtime)?;
    if !a.quiet {
        let r = &summary.requests;
        let p99 = summary
            .ttft_ms
            .iter()
            .find(|p| p.percentile == 99.0)
            .and_then(|p| p.pooled);
        eprintln!(
            "{}: {:.0} requests/replication, {:.0} served, {:.0} throttled, {:.0} failed; TTFT p99 {}; cost ${:.2}; \
             {} replication(s) simulated in {:.2} s ({:.2} M requests/s on {} thread(s)), {:.2} s in all",
            sc.name,
            r.arrived,
            r.served,
            r.throttled,
            r.failed,
            p99.map(|v| format!("{v:.0} ms")).unwrap_or("n/a".into()),
            summary.cost.total_usd.map(|c| c.mean).unwrap_or(0.0),
            sc.replications,
            simulated_in.as_secs_f64(),
            r.arrived * sc.replications as f64 / simulated_in.as_secs_f64().max(1e-9) / 1e6,
            threads,
            started.elapsed().as_secs_f64()
        );
        println!("{}", dest.join("report.md").display());
    }
    Ok(())
}

/// A bar that stays hidden until the run has taken a second and only on a terminal.
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    if !quiet {
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} simulated hours {pos}/{len} [{bar:40}] {percent}% eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
    }
    bar
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
