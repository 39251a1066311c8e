//! The YAML side of the import: parsing with line and column, numbers as LiteLLM's PyYAML reads
//! them, and errors that name the file and key path.

use std::path::Path;

use yaml_serde::Value;

use crate::error::InputError;
use crate::input::gateway::draft::Draft;

pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) draft: Draft,
}

impl Ctx<'_> {
    pub(super) fn err(&self, path: &str, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: self.file.to_path_buf(),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// A number: YAML numbers, and strings YAML 1.1 reads as numbers (`80_000`); `os.environ/`
    /// references are ignored with a warning.
    pub(super) fn number(&mut self, path: &str, v: &Value) -> Result<Option<f64>, InputError> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(path, format!("must be a finite number, got {n}"))),
            },
            Value::String(s) if s.starts_with("os.environ/") => {
                self.draft.warn(format!(
                    "{path}: {s} is read from the environment when LiteLLM starts; ignored"
                ));
                Ok(None)
            }
            Value::String(s) => {
                let cleaned: String = s.chars().filter(|c| *c != '_').collect();
                match cleaned.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && !cleaned.trim().is_empty() => {
                        if s.contains('_') {
                            self.draft.warn(format!(
                                "{path}: \"{s}\" read as {x} (YAML 1.1 and PyYAML, which LiteLLM uses, read underscores in numbers; YAML 1.2 reads a string)"
                            ));
                        }
                        Ok(Some(x))
                    }
                    _ => Err(self.err(path, format!("must be a number, got \"{s}\""))),
                }
            }
            other => Err(self.err(path, format!("must be a number, got {}", describe(other)))),
        }
    }

    pub(super) fn string<'v>(&self, path: &str, v: &'v Value) -> Result<&'v str, InputError> {
        v.as_str()
            .ok_or_else(|| self.err(path, format!("must be a string, got {}", describe(v))))
    }
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("\"{s}\""),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(_) => "a tagged value".into(),
    }
}

pub(super) fn key_str(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => describe(other),
    }
}

/// Parses YAML into a value, with the line and column of a syntax error.
pub fn parse_yaml(text: &str, file: &Path) -> Result<Value, InputError> {
    yaml_serde::from_str::<Value>(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        InputError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            path: ".".into(),
            message: format!("not valid YAML: {e}"),
        }
    })
}
