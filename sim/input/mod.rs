//! Stage 1, input: everything read from outside llmcap. The scenario file (raw serde
//! types, then validation into domain types), the embedded platform catalog, and the
//! trace readers. Every error names the file, the key path and what is allowed.

pub mod catalog;
pub mod scenario;
pub mod trace;
