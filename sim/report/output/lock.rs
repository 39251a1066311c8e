//! The advisory lock on an output folder: `.NAME.lock` beside it, held (with
//! `flock(2)`; no lock on systems without it) from the moment a command claims the
//! folder until its results are in place or abandoned. The holder writes its
//! process id into the file so a second command can say who holds it.
//!
//! The file is removed when the holder is done. A waiter may then hold a lock on
//! a file that is no longer at that path, so after locking it checks that the
//! path still names the file it locked, and starts over if not.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::OutputError;

/// A held lock; dropping it removes the lock file and releases the lock.
#[derive(Debug)]
pub struct DestLock {
    path: PathBuf,
    /// Held open for the lock's lifetime: closing it releases the lock.
    _file: File,
}

impl DestLock {
    /// Locks `path`. When another process holds it: waits if `wait`, else
    /// fails with `OutputError::Busy` naming that process.
    pub fn acquire(path: &Path, dest: &Path, wait: bool) -> Result<DestLock, OutputError> {
        let io = |source| OutputError::Io {
            path: path.to_path_buf(),
            what: "cannot create the output folder's lock file",
            source,
        };
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            if !flock(&file, false).map_err(io)? {
                if !wait {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(OutputError::Busy {
                        path: dest.to_path_buf(),
                        pid: text.trim().parse().ok(),
                    });
                }
                flock(&file, true).map_err(io)?;
            }
            if !same_file(path, &file) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            write!(file, "{}", std::process::id()).map_err(io)?;
            return Ok(DestLock {
                path: path.to_path_buf(),
                _file: file,
            });
        }
    }
}

impl Drop for DestLock {
    fn drop(&mut self) {
        // Removed while still held, so a waiter that locks the removed file
        // sees it is gone and takes the new one.
        // Closing `file` (dropped after this) releases the lock.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes an exclusive `flock` on `file`: `Ok(false)` if another holds it and
/// `wait` is false, else blocks until it is free.
#[cfg(unix)]
fn flock(file: &File, wait: bool) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    let op = libc::LOCK_EX | if wait { 0 } else { libc::LOCK_NB };
    loop {
        // SAFETY: flock only reads the descriptor, which `file` keeps open.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File, _wait: bool) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(unix)]
fn same_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(path: &Path, _file: &File) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_ones_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".out.lock");
        let dest = tmp.path().join("out");
        let first = DestLock::acquire(&path, &dest, false).unwrap();
        match DestLock::acquire(&path, &dest, false) {
            Err(OutputError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(first);
        assert!(!path.exists(), "the lock file is removed with the lock");
        let again = DestLock::acquire(&path, &dest, false).unwrap();
        drop(again);
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".out.lock");
        let dest = tmp.path().join("out");
        let first = DestLock::acquire(&path, &dest, false).unwrap();
        let waiter = {
            let (path, dest) = (path.clone(), dest.clone());
            std::thread::spawn(move || DestLock::acquire(&path, &dest, true).map(|_| ()))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the waiter must wait");
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
