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
pub mod input;
pub mod model;
pub mod report;
