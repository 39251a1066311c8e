//! llmcap: a seeded discrete-event simulator for capacity planning on managed
//! LLM platforms (AWS Bedrock, Azure OpenAI, Vertex AI, vendor APIs).
//!
//! Four stages, data flowing one way:
//!
//! 1. **Scenario** ([`scenario`]): a TOML file parsed with serde, then validated
//!    into domain types; every error names the file, the key path and what is
//!    allowed.
//! 2. **Model** ([`traffic`], [`capacity`], [`routing`], [`cost`]): arrival
//!    processes and request sampling, reserved and on-demand pools, routes with
//!    spillover and client retries, prices.
//! 3. **Execution** ([`engine`], [`run`]): an integer-microsecond event queue with
//!    sequence-number tie-breaking; replications in parallel with rayon, each with
//!    its own random streams ([`rng`]).
//! 4. **Observation** ([`metrics`], [`report`]): streaming histograms and hourly
//!    buckets, merged in replication order; `report` is the only module that
//!    writes files. [`theory`] holds the closed forms the report checks the
//!    simulation against.
//!
//! ```
//! use llmcap::scenario::Scenario;
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
//! let results = llmcap::run::run(&sc, 1, None);
//! let m = results.pooled();
//! assert_eq!(m.classes[0].arrived, m.classes[0].served);
//! ```

pub mod attribution;
pub mod capacity;
pub mod catalog;
pub mod cost;
pub mod diff;
pub mod economics;
pub mod engine;
pub mod error;
pub mod fit;
pub mod metrics;
pub mod pick;
pub mod plan;
pub mod report;
pub mod rng;
pub mod routing;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod theory;
pub mod trace;
pub mod traffic;
