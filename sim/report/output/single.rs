//! One file written on its own (a scenario from `llmcap import`, a gateway config from
//! `llmcap export`), under the same rules as a results folder: llmcap replaces only a file it
//! wrote itself (its first line is [`MARKER`]), refuses anything else, and writes aside then
//! renames, so a reader never sees half a file and a crash leaves the old one whole.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::OutputError;

/// The start of the first line of every file llmcap writes on its own.
pub const MARKER: &str = "# Written by llmcap";

/// Whether `path` is free to write: missing, or a file llmcap wrote. Checked before any work.
pub fn check_writable(path: &Path) -> Result<(), OutputError> {
    let refused = |reason: String| OutputError::Refused {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(OutputError::Io {
                path: path.to_path_buf(),
                what: "cannot inspect the output file",
                source,
            })
        }
        Ok(m) if m.is_dir() => {
            return Err(refused(
                "it is a folder; give the path of the file to write".into(),
            ))
        }
        Ok(m) if m.file_type().is_symlink() => {
            return Err(refused(
                "it is a symbolic link; give the path of a regular file".into(),
            ))
        }
        Ok(_) => {
            let head = std::fs::read(path).map_err(|source| OutputError::Io {
                path: path.to_path_buf(),
                what: "cannot read the existing file",
                source,
            })?;
            if !head.starts_with(MARKER.as_bytes()) {
                return Err(refused(format!(
                    "the file exists and llmcap did not write it (its first line does not start with \"{MARKER}\"); choose another path or move it away"
                )));
            }
        }
    }
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() && !p.is_dir() => Err(refused(format!(
            "its folder {} does not exist",
            p.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` (checked with [`check_writable`] first): a temporary file beside it,
/// flushed to disk, then renamed over it.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    check_writable(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let io = |what: &'static str| {
        let p = tmp.clone();
        move |source| OutputError::Io {
            path: p,
            what,
            source,
        }
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io("cannot create a temporary file"))?;
        f.write_all(bytes).map_err(io("cannot write"))?;
        f.sync_all().map_err(io("cannot flush to disk"))?;
        std::fs::rename(&tmp, path).map_err(|source| OutputError::Io {
            path: path.to_path_buf(),
            what: "cannot move the written file into place",
            source,
        })
    })();
    if result.is_err() {
        // Our own temporary file, never anything else.
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_its_own_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.toml");
        write_file(&p, format!("{MARKER} import\nx = 1\n").as_bytes()).expect("new file");
        write_file(&p, format!("{MARKER} import\nx = 2\n").as_bytes()).expect("own file");
        assert!(std::fs::read_to_string(&p).expect("read").contains("x = 2"));
        let mine = dir.path().join("mine.toml");
        std::fs::write(&mine, "x = 1\n").expect("write");
        let e = write_file(&mine, MARKER.as_bytes()).expect_err("a user's file");
        assert!(e.to_string().contains("did not write it"), "{e}");
        assert_eq!(std::fs::read_to_string(&mine).expect("read"), "x = 1\n");
        let e = write_file(dir.path(), b"x").expect_err("a folder");
        assert!(e.to_string().contains("folder"), "{e}");
        let e = write_file(&dir.path().join("no/such/s.toml"), b"x").expect_err("no folder");
        assert!(e.to_string().contains("does not exist"), "{e}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
