//! Stage 1, input: everything read from outside llmcap. The scenario file (raw serde
//! types, then validation into the domain types of [`crate::domain`]), the embedded
//! platform catalog, the trace and usage-export readers, and the TOML helpers they
//! share. Every error names the file, the key path and what is allowed.

pub mod catalog;
pub mod document;
pub mod gateway;
pub mod measurements;
pub mod scenario;
pub mod trace;
pub mod usage;
