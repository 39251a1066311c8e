//! Typed errors of the library. Every error about the scenario names the file,
//! the key path inside it and what is allowed, so the user can fix it without
//! reading the source.

use std::path::PathBuf;

/// An error in a scenario file (or another input file such as a profile).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: cannot read the file")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {path}: {message}")]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        /// Key path such as `class[0].arrivals.mean_rps` (`.` when unknown).
        path: String,
        message: String,
    },
    #[error("{file}: {path}: {message}")]
    Invalid {
        file: PathBuf,
        path: String,
        message: String,
    },
}

impl InputError {
    /// The key path the error is about.
    pub fn path(&self) -> &str {
        match self {
            InputError::Read { .. } => "",
            InputError::Parse { path, .. } | InputError::Invalid { path, .. } => path,
        }
    }
}

/// An error while writing results.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {what}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: refusing to write results here: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{path}: another llmcap process{} is writing to this folder; wait for it to finish or pass --wait", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Busy { path: PathBuf, pid: Option<u32> },
    #[error("{path}: cannot draw the chart: {message}")]
    Chart { path: PathBuf, message: String },
    #[error("cannot encode {what}: {message}")]
    Encode { what: &'static str, message: String },
}
