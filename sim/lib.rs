//! llmcap: a seeded discrete-event simulator for capacity planning on managed
//! LLM platforms (AWS Bedrock, Azure OpenAI, Vertex AI, vendor APIs).
//!
//! Four stages, data flowing one way (each stage imports only the ones above it):
//!
//! 1. **Input** ([`input`]): the scenario file parsed with serde, then validated
//!    into domain types; the embedded platform catalog; trace readers. Every error
//!    names the file, the key path and what is allowed.
//! 2. **Model** ([`model`]): an integer-microsecond event queue with sequence-number
//!    tie-breaking, random streams, arrivals, reserved and on-demand pools, routing
//!    with spillover, retries and a gateway, streaming metrics.
//! 3. **Analysis** ([`analysis`]): replications in parallel with rayon, sweeps,
//!    break-even, plans, picks, diffs, fits, cost and attribution, queueing theory.
//! 4. **Report** ([`report`]): the only module that writes files (CSV, JSON,
//!    Markdown, FOCUS, PNG), through one staging owner.
//!
//! [`error`] holds the typed errors the stages return; `cli.rs` (in the binary)
//! maps command-line flags onto the library. See docs/architecture.md.
//!
//! # Crate map
//!
//! ```text
//! lib.rs                    this map; main.rs the binary (exit codes), cli.rs + cli/traces.rs its flags
//! error.rs                  InputError (file, key path, message), ValueError, OutputError
//! format.rs                 every number llmcap prints (money, counts, percentages, durations)
//! schema.rs                 names shared by the writers and the readers of results files
//! domain/                   types input and model share, importing neither
//!   scenario.rs             the validated Scenario: classes, deployments, pools, gateway, outages
//!   traffic.rs              arrival specs, token distributions, hour-of-day shapes
//!   trace.rs                trace formats, one traced request, a bad row
//!   options.rs              typed [sweep], [plan] and [frontier] specs
//!   time.rs                 integer microseconds
//!   limits.rs               caps on user-controlled sizes
//!   measurement.rs          load-test measurements: per-request rows, per-window statistics
//! input/                    stage 1: everything read from outside
//!   document.rs             TOML parsing with line/column, the Checker every input uses
//!   scenario/               raw serde types -> validation (class, validate, offerings, options,
//!                           route_order, trace_scan, expected) -> domain::Scenario
//!   catalog.rs              the embedded platform catalog (each number with source and date)
//!   trace.rs                streaming trace readers (Azure, BurstGPT, Mooncake, CSV)
//!   usage.rs                usage exports (Azure Monitor, CloudWatch, per-minute CSV): time bins
//!   measurements/           load-test readers (LLMPerf, GuideLLM, azure-openai-benchmark, CSV)
//! model/                    stage 2: the simulation
//!   engine.rs               event queue and clock (time, then sequence number)
//!   rng.rs                  one random stream per (replication, purpose, index)
//!   traffic.rs              arrival processes and request sampling
//!   capacity.rs             reserved pools (FIFO queue) and shared on-demand pools, outages
//!   limiter.rs              on-demand quota limiters, one shape per vendor (Azure, Anthropic, ...)
//!   routing.rs              routes, spillover, retries, gateway cooldown
//!   metrics.rs              counters, hourly buckets, streaming TTFT histograms, MeanCi
//! analysis/                 stage 3: what is computed from runs
//!   run.rs                  replications in parallel (rayon), merged in order
//!   cost.rs                 on-demand and reserved pricing, utilization
//!   economics.rs            closed-form break-even, the reserved/on-demand pair
//!   sweep.rs                one key, many values; RepOutcome, PointSummary, break-evens
//!   plan.rs                 cheapest reserved plan that meets an SLA
//!   frontier.rs             cost-latency-availability Pareto frontier of a grid, sustained rates
//!   ladder/                 commitment ladders: requirement per month, exact search (solve)
//!   pick/                   platform recommendation: profile, regions, candidates, scenario,
//!                           evaluate, choose, design, finops
//!   diff/                   two run folders explained: folder, table, decompose, reveal, answer
//!   fit/                    a trace or usage export fitted: accumulate, result, stats, text
//!   attribution.rs          cost each platform's billing can attribute by tag
//!   theory.rs               M/M/1, M/M/c (Erlang C), Little's law
//! report/                   stage 4: every file written, through one staging owner
//!   output/                 Staging (lock, recovery, llmcap-manifest.json of written files)
//!   summary.rs              Summary and Manifest (summary.json), per-replication RepDigest
//!   tables.rs               CSV tables; focus.rs focus.csv; attribution.rs attribution.csv
//!   markdown.rs             report.md; sweep.rs, plan.rs, frontier.rs, pick.rs, diff.rs, fit.rs, catalog.rs
//!                           the other commands' outputs (fit_usage.rs: what differs for a usage export)
//!   plots/                  one file per PNG chart; axes.rs and labels.rs shared
//! ```
//!
//! ```
//! use llmcap::domain::Scenario;
//! let toml = r#"
//! [scenario]
//! horizon_hours = 1
//! seed = 7
//! [[deployment]]
//! name = "paygo"
//! platform = "azure-openai"
//! model = "gpt-4o"
//! latency = { median_ms = 400, p99_ms = 1200 }
//! on_demand = { input_per_1m = 2.5, output_per_1m = 10.0 }
//! [[class]]
//! name = "chat"
//! model = "gpt-4o"
//! route = ["paygo"]
//! arrivals = { mean_rps = 2.0 }
//! input_tokens = { dist = "fixed", value = 1000 }
//! output_tokens = { dist = "fixed", value = 100 }
//! "#;
//! let sc = Scenario::from_toml(toml, "example.toml".as_ref()).unwrap();
//! let results = llmcap::analysis::run::run(&sc, 1, None);
//! let m = results.pooled();
//! assert_eq!(m.classes[0].arrived, m.classes[0].served);
//! ```

pub mod analysis;
pub mod domain;
pub mod error;
pub mod format;
pub mod input;
pub mod model;
pub mod report;
pub mod schema;
