//! Typed errors of the library. Every error about the scenario names the file,
//! the key path inside it and what is allowed, so the user can fix it without
//! reading the source.

use std::path::{Path, PathBuf};

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

/// A value that is not allowed, found by code that does not know which file
/// or key it came from (an SLA text, a swept key, a deployment name, a trace
/// row). Its message says what was found and what is allowed; the caller that
/// knows the file and the key path turns it into an [`InputError`] with
/// [`ValueError::at`], so bad input has one shape wherever it is found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValueError {
    pub message: String,
}

impl ValueError {
    pub fn new(message: impl Into<String>) -> ValueError {
        ValueError {
            message: message.into(),
        }
    }

    /// The error located in `file` at key path `path`.
    pub fn at(self, file: &Path, path: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: file.to_path_buf(),
            path: path.into(),
            message: self.message,
        }
    }

    /// Whether the message contains `text` (for tests and callers that
    /// branch on a known reason).
    pub fn contains(&self, text: &str) -> bool {
        self.message.contains(text)
    }
}

impl From<String> for ValueError {
    fn from(message: String) -> ValueError {
        ValueError { message }
    }
}

impl From<&str> for ValueError {
    fn from(message: &str) -> ValueError {
        ValueError::new(message)
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
