//! `llmcap-manifest.json`: the list of files llmcap wrote into a results folder.
//! It is what lets llmcap replace or delete a folder without touching anything
//! else: a folder is replaceable only if every entry in it is listed (or it is
//! empty), and deleting a folder deletes only the listed files.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file name inside every results folder.
pub const WRITTEN_FILE: &str = "llmcap-manifest.json";

/// What llmcap wrote into a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Written {
    /// "llmcap" and its version.
    pub written_by: String,
    /// Why this file is here, for whoever opens it.
    pub note: String,
    /// The file names, sorted; `WRITTEN_FILE` itself is not listed.
    pub files: Vec<String>,
}

impl Written {
    /// The entries of `dir` (a staging folder: everything in it is llmcap's).
    pub fn of_dir(dir: &Path) -> std::io::Result<Written> {
        let mut files = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if name != WRITTEN_FILE {
                files.push(name);
            }
        }
        files.sort();
        Ok(Written {
            written_by: format!("llmcap {}", env!("CARGO_PKG_VERSION")),
            note: "llmcap replaces or deletes this folder only if every file in it is listed here"
                .into(),
            files,
        })
    }

    /// The manifest of `dir`, if it has a readable one.
    pub fn read(dir: &Path) -> Option<Written> {
        let bytes = std::fs::read(dir.join(WRITTEN_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The entries of `dir` that llmcap did not write (all of them when it has
    /// no manifest), sorted.
    pub fn foreign(dir: &Path) -> std::io::Result<Vec<String>> {
        let listed = Written::read(dir).map(|w| w.files).unwrap_or_default();
        let mut foreign = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = e.file_type()?.is_file()
                && (name == WRITTEN_FILE && !listed.is_empty() || listed.contains(&name));
            if !ours {
                foreign.push(name);
            }
        }
        foreign.sort();
        Ok(foreign)
    }

    /// Deletes the listed files of `dir`, its manifest, then `dir` itself.
    /// Anything llmcap did not write stays, and the folder with it (error).
    pub fn delete(dir: &Path) -> std::io::Result<()> {
        if let Some(w) = Written::read(dir) {
            for f in &w.files {
                match std::fs::remove_file(dir.join(f)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::remove_file(dir.join(WRITTEN_FILE))?;
        }
        std::fs::remove_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_lists_what_the_manifest_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("summary.json"), "{}").unwrap();
        assert_eq!(
            Written::foreign(d).unwrap(),
            ["summary.json"],
            "no manifest"
        );
        let w = Written::of_dir(d).unwrap();
        std::fs::write(d.join(WRITTEN_FILE), serde_json::to_vec(&w).unwrap()).unwrap();
        assert!(Written::foreign(d).unwrap().is_empty());
        std::fs::write(d.join("thesis.tex"), "x").unwrap();
        std::fs::create_dir(d.join("notes")).unwrap();
        assert_eq!(Written::foreign(d).unwrap(), ["notes", "thesis.tex"]);
    }

    #[test]
    fn delete_keeps_what_llmcap_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("r");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("a.csv"), "x").unwrap();
        let w = Written::of_dir(&d).unwrap();
        std::fs::write(d.join(WRITTEN_FILE), serde_json::to_vec(&w).unwrap()).unwrap();
        std::fs::write(d.join("thesis.tex"), "x").unwrap();
        assert!(Written::delete(&d).is_err());
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "only thesis.tex stays"
        );
        assert!(d.join("thesis.tex").exists());
    }
}
