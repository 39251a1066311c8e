//! The results folder. Files are written into a hidden staging folder beside the
//! destination and moved into place only when every file is written, so a failed
//! run never leaves a half-written results folder. The staging folder is created
//! before the simulation starts, so an unwritable destination fails early.
//!
//! An existing destination is replaced only if it is empty or was written by
//! llmcap (it holds a `summary.json` with an llmcap manifest), and never when it
//! is the working folder or one of its parents: a mistyped `--out` must not
//! delete anyone's files.

use std::path::{Path, PathBuf};

use crate::error::OutputError;

pub struct Staging {
    dest: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks that `dest` may be (re)placed, then creates the staging folder
    /// beside it (and `dest`'s parent folders).
    pub fn create(dest: &Path) -> Result<Staging, OutputError> {
        let io = |path: &Path, what: &'static str| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, what, source }
        };
        let refuse = |reason: &'static str| OutputError::Refused {
            path: dest.to_path_buf(),
            reason,
        };
        let name = match dest.file_name() {
            Some(n) if !n.to_string_lossy().starts_with('.') => n.to_string_lossy().into_owned(),
            _ => {
                return Err(refuse(
                    "the output folder must have a name of its own that does not start with '.'",
                ))
            }
        };
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dest.exists() {
            check_replaceable(dest).map_err(refuse)?;
        }
        std::fs::create_dir_all(&parent)
            .map_err(io(&parent, "cannot create the output folder's parent"))?;
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(io(&dir, "cannot clear an old staging folder"))?;
        }
        std::fs::create_dir(&dir).map_err(io(dest, "cannot create the output folder"))?;
        Ok(Staging {
            dest: dest.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// Where files are written until `commit`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.dir.join(file);
        std::fs::write(&path, bytes).map_err(|source| OutputError::Io {
            path: self.dest.join(file),
            what: "cannot write",
            source,
        })
    }

    /// Replaces the destination with the staged files. The previous results
    /// are moved aside first and deleted only once the new ones are in place.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let io = |what: &'static str| {
            let path = self.dest.clone();
            move |source| OutputError::Io { path, what, source }
        };
        let aside = self
            .dir
            .with_file_name(format!(".llmcap-previous-{}", std::process::id()));
        let had_previous = self.dest.exists();
        if had_previous {
            check_replaceable(&self.dest).map_err(|reason| OutputError::Refused {
                path: self.dest.clone(),
                reason,
            })?;
            std::fs::rename(&self.dest, &aside)
                .map_err(io("cannot move the previous results aside"))?;
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.dest) {
            if had_previous {
                let _ = std::fs::rename(&aside, &self.dest);
            }
            return Err(io("cannot move the results into place")(e));
        }
        self.committed = true;
        if had_previous {
            std::fs::remove_dir_all(&aside).map_err(io("cannot delete the previous results"))?;
        }
        Ok(self.dest.clone())
    }
}

/// Whether an existing `dest` may be replaced: a folder, not the working folder
/// or a parent of it, and either empty or written by llmcap.
fn check_replaceable(dest: &Path) -> Result<(), &'static str> {
    if !dest.is_dir() {
        return Err("the path exists and is not a folder");
    }
    if let (Ok(d), Ok(cwd)) = (dest.canonicalize(), std::env::current_dir()) {
        if cwd.canonicalize().unwrap_or(cwd).starts_with(&d) {
            return Err("it is the working folder or one of its parents");
        }
    }
    let empty = std::fs::read_dir(dest)
        .map(|mut it| it.next().is_none())
        .unwrap_or(false);
    if empty || is_llmcap_results(dest) {
        Ok(())
    } else {
        Err("the folder exists and was not written by llmcap (no summary.json, sweep.json, plan.json, fit.json, diff.json or pick.json with an llmcap manifest); choose another --out or remove it yourself")
    }
}

/// The JSON file each command writes, whose manifest marks a results folder.
pub const MANIFEST_FILES: &[&str] = &[
    "summary.json",
    "sweep.json",
    "plan.json",
    "fit.json",
    "diff.json",
    "pick.json",
];

/// A folder holds llmcap results if its `summary.json`, `sweep.json` or
/// `plan.json` has a manifest with an `llmcap_version`.
pub fn is_llmcap_results(dir: &Path) -> bool {
    MANIFEST_FILES.iter().any(|f| {
        std::fs::read(dir.join(f))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|v| v["manifest"]["llmcap_version"].is_string())
    })
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_staging_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("run");
        {
            let s = Staging::create(&dest).unwrap();
            s.write("a.txt", b"x").unwrap();
        }
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_previous_results() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("run");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("old.txt"), b"old").unwrap();
        std::fs::write(
            dest.join("summary.json"),
            br#"{"manifest":{"llmcap_version":"0"}}"#,
        )
        .unwrap();
        let s = Staging::create(&dest).unwrap();
        s.write("new.txt", b"new").unwrap();
        s.commit().unwrap();
        assert!(dest.join("new.txt").exists());
        assert!(!dest.join("old.txt").exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_folders_llmcap_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("precious");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("thesis.tex"), b"x").unwrap();
        assert!(matches!(
            Staging::create(&dest),
            Err(OutputError::Refused { .. })
        ));
        assert!(dest.join("thesis.tex").exists());
        for bad in [".", "..", "a/..", "/"] {
            assert!(Staging::create(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_folder_is_replaceable() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("empty");
        std::fs::create_dir(&dest).unwrap();
        let s = Staging::create(&dest).unwrap();
        s.write("summary.json", b"{}").unwrap();
        s.commit().unwrap();
        assert!(dest.join("summary.json").exists());
    }
}
