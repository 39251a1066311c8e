//! The results folder. Files are written into a hidden staging folder beside the
//! destination and moved into place only when every file is written, so a failed
//! run never leaves a half-written results folder. The staging folder is created
//! before the simulation starts, so an unwritable destination fails early.

use std::path::{Path, PathBuf};

use crate::error::OutputError;

pub struct Staging {
    dest: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates the staging folder for `dest` (and `dest`'s parent folders).
    pub fn create(dest: &Path) -> Result<Staging, OutputError> {
        let io = |path: &Path, what: &'static str| {
            let path = path.to_path_buf();
            move |source| OutputError::Io { path, what, source }
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "results".into());
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dest.exists() && !dest.is_dir() {
            return Err(OutputError::Io {
                path: dest.to_path_buf(),
                what: "the output path exists and is not a folder",
                source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            });
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

    /// Replaces the destination with the staged files.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        if self.dest.exists() {
            std::fs::remove_dir_all(&self.dest).map_err(|source| OutputError::Io {
                path: self.dest.clone(),
                what: "cannot replace the previous results",
                source,
            })?;
        }
        std::fs::rename(&self.dir, &self.dest).map_err(|source| OutputError::Io {
            path: self.dest.clone(),
            what: "cannot move the results into place",
            source,
        })?;
        self.committed = true;
        Ok(self.dest.clone())
    }
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
        let s = Staging::create(&dest).unwrap();
        s.write("new.txt", b"new").unwrap();
        s.commit().unwrap();
        assert!(dest.join("new.txt").exists());
        assert!(!dest.join("old.txt").exists());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
