//! The results folder, and the only code that creates, replaces or deletes one.
//!
//! The rules, each for a careful user of a tool that replaces folders:
//! - **A manifest of what llmcap wrote.** Every results folder holds
//!   `llmcap-manifest.json` listing its files. An existing `--out` is replaced
//!   only if it is empty or every entry in it is listed; otherwise the command
//!   refuses (exit 2) and names the entries llmcap did not write. Deleting old
//!   results deletes only the listed files.
//! - **Inputs are never inside the output.** A scenario, trace, profile or run
//!   folder read by the command inside `--out` is refused (exit 2).
//! - **One writer per folder.** `.NAME.lock` beside the folder is locked for the
//!   whole command; a second command on the same folder exits 2 naming the
//!   holder's process id, or waits for it (`--wait`).
//! - **Crash-safe commit.** Files are written into `.NAME.partial-PID` and moved
//!   into place at the end: (1) the manifest is written (`staged`); (2) old
//!   results, if any, are renamed to `.NAME.previous-PID` (`aside`: from here
//!   on the commit is decided); (3) the staging folder is renamed to NAME
//!   (`placed`); (4) the old results are deleted. The next command on the same
//!   folder, holding the lock, finds what a killed one left: before (2) the
//!   staging folder is discarded (rolled back); after it the commit is finished.
//! - **Checked before any work.** Staging is created before the simulation, so a
//!   bad `--out` (a file, a dangling symbolic link, the working folder, a folder
//!   with foreign files, an unwritable place) fails early with exit 2.

mod lock;
pub mod single;
mod written;

use std::path::{Path, PathBuf};

use crate::error::OutputError;
pub use lock::DestLock;
pub use written::{Written, WRITTEN_FILE};

/// The environment variable that makes llmcap stop forever at a named step of
/// the commit (`staging`, `staged`, `aside`, `placed`), so tests can kill it
/// there. Tests only.
pub const PAUSE_ENV: &str = "LLMCAP_TEST_PAUSE_AT";

/// What `Staging::create` needs besides the destination.
#[derive(Debug, Clone, Default)]
pub struct StageOptions {
    /// Files and folders the command reads; none may be inside the destination.
    pub inputs: Vec<PathBuf>,
    /// Wait for another llmcap writing to the destination instead of failing.
    pub wait: bool,
}

#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    dir: PathBuf,
    committed: bool,
    _lock: DestLock,
}

impl Staging {
    /// `create_with` without inputs, failing if another command holds `dest`.
    pub fn create(dest: &Path) -> Result<Staging, OutputError> {
        Staging::create_with(dest, &StageOptions::default())
    }

    /// Checks that `dest` may be (re)placed, locks it, finishes or rolls back
    /// what an interrupted command left, then creates the staging folder beside
    /// it (and `dest`'s parent folders).
    pub fn create_with(dest: &Path, opts: &StageOptions) -> Result<Staging, OutputError> {
        // Refusals name the destination as the user gave it.
        let refuse = |e: OutputError| match e {
            OutputError::Refused { reason, .. } => OutputError::Refused {
                path: dest.to_path_buf(),
                reason,
            },
            other => other,
        };
        let dest = resolve(dest).map_err(refuse)?;
        let (parent, name) = split(&dest);
        std::fs::create_dir_all(&parent).map_err(|source| OutputError::Io {
            path: parent.clone(),
            what: "cannot create the output folder's parent",
            source,
        })?;
        // Canonical from here on, so `out`, `./out` and `x/../out` share one lock.
        let parent = parent.canonicalize().map_err(|source| OutputError::Io {
            path: parent.clone(),
            what: "cannot resolve the output folder's parent",
            source,
        })?;
        let dest = parent.join(&name);
        check_inputs(&dest, &opts.inputs).map_err(refuse)?;
        let lock = DestLock::acquire(&parent.join(format!(".{name}.lock")), &dest, opts.wait)?;
        recover(&parent, &name)?;
        if std::fs::symlink_metadata(&dest).is_ok() {
            check_replaceable(&dest).map_err(refuse)?;
        }
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|source| OutputError::Io {
            path: dest.clone(),
            what: "cannot create the output folder",
            source,
        })?;
        pause_at("staging");
        Ok(Staging {
            dest,
            dir,
            committed: false,
            _lock: lock,
        })
    }

    /// Where files are written until `commit`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `value` as pretty-printed JSON into `file` (named in the error if it cannot be encoded).
    pub fn write_json<T: serde::Serialize>(
        &self,
        file: &'static str,
        value: &T,
    ) -> Result<(), OutputError> {
        let json = serde_json::to_vec_pretty(value).map_err(|e| OutputError::Encode {
            what: file,
            message: e.to_string(),
        })?;
        self.write(file, &json)
    }

    pub fn write(&self, file: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.dir.join(file);
        std::fs::write(&path, bytes).map_err(|source| OutputError::Io {
            path: self.dest.join(file),
            what: "cannot write",
            source,
        })
    }

    /// Replaces the destination with the staged files (steps in the module doc).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let io = |what: &'static str| {
            let path = self.dest.clone();
            move |source| OutputError::Io { path, what, source }
        };
        let written = Written::of_dir(&self.dir).map_err(io("cannot list the staged files"))?;
        let json = serde_json::to_vec_pretty(&written).map_err(|e| OutputError::Encode {
            what: WRITTEN_FILE,
            message: e.to_string(),
        })?;
        std::fs::write(self.dir.join(WRITTEN_FILE), json)
            .map_err(io("cannot write the manifest of written files"))?;
        pause_at("staged");
        let aside = self
            .dir
            .with_file_name(aside_name(&self.dest, std::process::id()));
        let had_previous = std::fs::symlink_metadata(&self.dest).is_ok();
        if had_previous {
            // Files may have been added while the command ran.
            check_replaceable(&self.dest)?;
            std::fs::rename(&self.dest, &aside)
                .map_err(io("cannot move the previous results aside"))?;
            pause_at("aside");
        }
        if let Err(e) = std::fs::rename(&self.dir, &self.dest) {
            if had_previous {
                let _ = std::fs::rename(&aside, &self.dest);
            }
            return Err(io("cannot move the results into place")(e));
        }
        self.committed = true;
        pause_at("placed");
        if had_previous {
            Written::delete(&aside).map_err(|source| OutputError::Io {
                path: aside.clone(),
                what: "cannot delete the previous results (files llmcap did not write stay there)",
                source,
            })?;
        }
        Ok(self.dest.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // The staging folder is llmcap's own: nothing else writes into it.
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A refusal to write to `path`, and why.
fn refused(path: &Path, reason: impl Into<String>) -> OutputError {
    OutputError::Refused {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// `dest` with a symbolic link to a folder replaced by the folder; refuses
/// names that are not a folder of their own and dangling links.
fn resolve(dest: &Path) -> Result<PathBuf, OutputError> {
    match dest.file_name() {
        Some(n) if !n.to_string_lossy().starts_with('.') => {}
        _ => {
            return Err(refused(
                dest,
                "the output folder must have a name of its own that does not start with '.'",
            ))
        }
    }
    let Ok(meta) = std::fs::symlink_metadata(dest) else {
        return Ok(dest.to_path_buf());
    };
    if !meta.file_type().is_symlink() {
        return Ok(dest.to_path_buf());
    }
    let target = std::fs::read_link(dest)
        .map(|t| t.display().to_string())
        .unwrap_or_default();
    match dest.canonicalize() {
        Ok(real) if real.is_dir() => resolve(&real),
        Ok(_) => Err(refused(dest, format!(
            "it is a symbolic link to {target}, which is not a folder"
        ))),
        Err(_) => Err(refused(dest, format!(
            "it is a symbolic link to {target}, which does not exist; create that folder or choose another --out"
        ))),
    }
}

/// The parent folder (`.` for a bare name) and the name.
fn split(dest: &Path) -> (PathBuf, String) {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parent, name)
}

fn aside_name(dest: &Path, pid: u32) -> String {
    let (_, name) = split(dest);
    format!(".{name}.previous-{pid}")
}

/// Refuses when an input is the destination or inside it (`dest` canonical).
fn check_inputs(dest: &Path, inputs: &[PathBuf]) -> Result<(), OutputError> {
    for input in inputs {
        if let Ok(real) = input.canonicalize() {
            if real.starts_with(dest) {
                return Err(refused(dest, format!(
                    "the input {} is inside it, and writing the results would replace it; choose another --out",
                    input.display()
                )));
            }
        }
    }
    Ok(())
}

/// Whether an existing `dest` may be replaced: a folder, not the working folder
/// or a parent of it, and either empty or holding only files llmcap wrote.
fn check_replaceable(dest: &Path) -> Result<(), OutputError> {
    if !dest.is_dir() {
        return Err(refused(dest, "the path exists and is not a folder"));
    }
    if let (Ok(d), Ok(cwd)) = (dest.canonicalize(), std::env::current_dir()) {
        if cwd.canonicalize().unwrap_or(cwd).starts_with(&d) {
            return Err(refused(
                dest,
                "it is the working folder or one of its parents",
            ));
        }
    }
    let foreign = Written::foreign(dest)
        .map_err(|e| refused(dest, format!("cannot list the folder: {e}")))?;
    if foreign.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 10;
    let mut list = foreign
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if foreign.len() > SHOWN {
        list.push_str(&format!(" and {} more", foreign.len() - SHOWN));
    }
    let why = if Written::read(dest).is_some() {
        format!("it holds files llmcap did not write (not in its {WRITTEN_FILE})")
    } else {
        format!("it is not empty and has no {WRITTEN_FILE} (the list of files llmcap wrote), so every file in it counts as someone else's")
    };
    Err(refused(
        dest,
        format!("{why}: {list}; choose another --out or move them away yourself"),
    ))
}

/// Finishes or rolls back what commands killed while writing `parent/name`
/// left behind (the caller holds the lock, so no live command owns them):
/// old results moved aside are put back unless the new ones were complete,
/// in which case the commit is finished; unfinished staging folders go.
fn recover(parent: &Path, name: &str) -> Result<(), OutputError> {
    let io = |path: &Path, what: &'static str| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, what, source }
    };
    let dest = parent.join(name);
    let (mut partials, mut asides) = (Vec::new(), Vec::new());
    let entries = std::fs::read_dir(parent).map_err(io(parent, "cannot list the folder"))?;
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let pid = |tag: &str| rest.strip_prefix(tag).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid("partial-") {
            partials.push((pid, e.path()));
        } else if let Some(pid) = pid("previous-") {
            asides.push((pid, e.path()));
        }
    }
    for (pid, aside) in asides {
        let staged = parent.join(format!(".{name}.partial-{pid}"));
        if std::fs::symlink_metadata(&dest).is_err() {
            if Written::read(&staged).is_some() {
                std::fs::rename(&staged, &dest)
                    .map_err(io(&dest, "cannot finish an interrupted commit"))?;
            } else {
                std::fs::rename(&aside, &dest)
                    .map_err(io(&dest, "cannot roll back an interrupted commit"))?;
                continue;
            }
        }
        Written::delete(&aside).map_err(io(
            &aside,
            "an interrupted commit left old results here that cannot be deleted (files llmcap did not write stay there)",
        ))?;
    }
    for (_, staged) in partials {
        if staged.exists() {
            std::fs::remove_dir_all(&staged).map_err(io(
                &staged,
                "cannot remove an interrupted command's staging folder",
            ))?;
        }
    }
    Ok(())
}

/// Stops forever at `step` when `PAUSE_ENV` names it (tests kill the process there).
fn pause_at(step: &str) {
    if std::env::var(PAUSE_ENV).is_ok_and(|s| s == step) {
        eprintln!("llmcap: paused at {step}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

pub use crate::schema::MANIFEST_FILES;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn create(dest: &Path) -> Result<Staging, OutputError> {
        Staging::create(dest)
    }

    #[test]
    fn dropped_staging_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("run");
        {
            let s = create(&dest).unwrap();
            s.write("a.txt", b"x").unwrap();
        }
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn commit_replaces_previous_results_and_lists_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("run");
        let s = create(&dest).unwrap();
        s.write("old.txt", b"old").unwrap();
        s.commit().unwrap();
        let s = create(&dest).unwrap();
        s.write("new.txt", b"new").unwrap();
        s.commit().unwrap();
        assert!(dest.join("new.txt").exists());
        assert!(!dest.join("old.txt").exists());
        assert_eq!(Written::read(&dest).unwrap().files, ["new.txt"]);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_folders_llmcap_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("precious");
        std::fs::create_dir(&dest).unwrap();
        std::fs::write(dest.join("thesis.tex"), b"x").unwrap();
        match create(&dest) {
            Err(e @ OutputError::Refused { .. }) => {
                assert!(e.to_string().contains("thesis.tex"), "{e}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(dest.join("thesis.tex").exists());
        for bad in [".", "..", "a/..", "/"] {
            assert!(create(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_folder_is_replaceable() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("empty");
        std::fs::create_dir(&dest).unwrap();
        let s = create(&dest).unwrap();
        s.write("summary.json", b"{}").unwrap();
        s.commit().unwrap();
        assert!(dest.join("summary.json").exists());
    }

    #[test]
    fn an_input_inside_the_destination_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("d");
        std::fs::create_dir(&dest).unwrap();
        let input = dest.join("design.toml");
        std::fs::write(&input, "x").unwrap();
        let opts = StageOptions {
            inputs: vec![input.clone()],
            wait: false,
        };
        let e = Staging::create_with(&dest, &opts).unwrap_err();
        assert!(e.to_string().contains("design.toml"), "{e}");
        assert!(input.exists());
    }

    #[cfg(unix)]
    #[test]
    fn dangling_symlink_is_refused_and_a_link_to_a_folder_is_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(tmp.path().join("missing"), &link).unwrap();
        let e = create(&link).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        std::fs::create_dir(tmp.path().join("missing")).unwrap();
        let s = create(&link).unwrap();
        s.write("a.txt", b"x").unwrap();
        s.commit().unwrap();
        assert!(tmp.path().join("missing/a.txt").exists());
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    /// Leftovers as a command killed at each step leaves them.
    #[test]
    fn recovery_finishes_decided_commits_and_rolls_back_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        let results = |dir: &Path, file: &str| {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join(file), "x").unwrap();
            let w = Written::of_dir(dir).unwrap();
            std::fs::write(dir.join(WRITTEN_FILE), serde_json::to_vec(&w).unwrap()).unwrap();
        };
        // Killed after moving the old results aside: the new ones go in.
        results(&p.join(".r.previous-7"), "old.txt");
        results(&p.join(".r.partial-7"), "new.txt");
        recover(p, "r").unwrap();
        assert_eq!(crate_entries(p), ["r"]);
        assert!(p.join("r/new.txt").exists());
        // Killed while writing: the old results stay, the staging folder goes.
        std::fs::create_dir(p.join(".r.partial-8")).unwrap();
        recover(p, "r").unwrap();
        assert_eq!(crate_entries(p), ["r"]);
        // Aside but the staging folder unfinished (not possible in llmcap's
        // order, but a user may have deleted it): put the old results back.
        std::fs::rename(p.join("r"), p.join(".r.previous-9")).unwrap();
        recover(p, "r").unwrap();
        assert!(p.join("r/new.txt").exists());
        assert_eq!(crate_entries(p), ["r"]);
    }

    fn crate_entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}
