//! The data-driven bad-input suite: every `tests/bad_input/*.case` is run against the real binary.
//!
//! A case is one text file (scripts/gen_bad_input.py writes them): header lines, then the files
//! of the case, each after a `-- NAME --` line.
//!
//! ```text
//! # what the case checks
//! args: validate s.toml              the command (double quotes group words)
//! code: 2                            the exit status it must give
//! stderr: scenario.horizon_hours     words the error must contain (any number of lines)
//! setup: run s.toml --out A --quiet  commands that must succeed first (e.g. the run folders of diff)
//! remove: A/attribution.csv          files removed after the setup commands
//! truncate: B/hourly.csv 200         files cut to that many bytes after the setup commands
//! truncate: B/hourly.csv 2 lines     ... or to their first lines (a cut at a line boundary)
//! -- s.toml --
//! ...the file...
//! -- @A/hourly.csv --
//! ...written after the setup commands (`@`), e.g. a truncated output...
//! ```
//!
//! Each case runs in its own temporary folder (the current folder of every command), and the
//! command under test must leave that folder exactly as it found it: nothing written, nothing
//! removed, no results folder, no lock file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::llmcap;

#[derive(Debug, Default)]
struct Case {
    name: String,
    args: Vec<String>,
    code: i32,
    stderr: Vec<String>,
    setup: Vec<Vec<String>>,
    remove: Vec<String>,
    /// (path, length, in lines rather than bytes)
    truncate: Vec<(String, u64, bool)>,
    /// (path, text, written after the setup commands)
    files: Vec<(String, String, bool)>,
}

/// Splits a command line on spaces; double quotes group words (no escapes).
fn split_args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quotes in {line:?}");
    if any {
        out.push(cur);
    }
    out
}

fn parse(name: &str, text: &str) -> Case {
    let mut case = Case {
        name: name.to_string(),
        code: -1,
        ..Case::default()
    };
    let mut lines = text.split_inclusive('\n').peekable();
    // Header.
    while let Some(line) = lines.peek() {
        if line.starts_with("-- ") {
            break;
        }
        let line = lines.next().unwrap().trim_end_matches(['\n', '\r']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{name}: header line without `key: value`: {line:?}"));
        match key {
            "args" => case.args = split_args(value),
            "code" => case.code = value.parse().expect("code: an integer"),
            "stderr" => case.stderr.push(value.to_string()),
            "setup" => case.setup.push(split_args(value)),
            "remove" => case.remove.push(value.to_string()),
            "truncate" => {
                let (value, lines) = match value.strip_suffix(" lines") {
                    Some(v) => (v, true),
                    None => (value, false),
                };
                let (p, n) = value.rsplit_once(' ').expect("truncate: PATH N [lines]");
                let n = n.parse().expect("truncate: PATH N [lines]");
                case.truncate.push((p.to_string(), n, lines));
            }
            _ => panic!("{name}: unknown header key {key:?}"),
        }
    }
    // Files.
    let mut current: Option<(String, String, bool)> = None;
    for line in lines {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(head) = bare.strip_prefix("-- ").and_then(|s| s.strip_suffix(" --")) {
            case.files.extend(current.take());
            let (path, after) = match head.strip_prefix('@') {
                Some(p) => (p, true),
                None => (head, false),
            };
            current = Some((path.to_string(), String::new(), after));
        } else {
            current
                .as_mut()
                .unwrap_or_else(|| panic!("{name}: text before the first `-- FILE --`"))
                .1
                .push_str(line);
        }
    }
    case.files.extend(current);
    assert!(!case.args.is_empty(), "{name}: no `args:`");
    assert!(case.code >= 0, "{name}: no `code:`");
    assert!(!case.stderr.is_empty(), "{name}: no `stderr:` line");
    case
}

/// Every file and folder under `dir` with its bytes (folders: None).
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(rel + "/", None);
                walk(root, &p, out);
            } else if meta.is_file() {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            } else {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(
                    rel,
                    Some(target.to_string_lossy().into_owned().into_bytes()),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn write_files(dir: &Path, case: &Case, after: bool) {
    for (path, text, a) in &case.files {
        if *a != after {
            continue;
        }
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

/// Runs one case; returns what went wrong, if anything.
fn check(case: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_files(dir, case, false);
    for cmd in &case.setup {
        let out = llmcap().args(cmd).current_dir(dir).output().unwrap();
        if !out.status.success() {
            return Err(format!(
                "setup `{}` failed: {}",
                cmd.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    for r in &case.remove {
        std::fs::remove_file(dir.join(r)).map_err(|e| format!("remove {r}: {e}"))?;
    }
    for (p, n, lines) in &case.truncate {
        let text = std::fs::read(dir.join(p)).map_err(|e| format!("truncate {p}: {e}"))?;
        let len = if *lines {
            let ends = text.iter().enumerate().filter(|(_, b)| **b == b'\n');
            ends.map(|(i, _)| i + 1)
                .nth((*n as usize).saturating_sub(1))
                .unwrap_or(text.len())
        } else {
            (*n as usize).min(text.len())
        };
        std::fs::write(dir.join(p), &text[..len]).unwrap();
    }
    write_files(dir, case, true);
    let before = snapshot(dir);
    let out = llmcap()
        .args(&case.args)
        .current_dir(dir)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if out.status.code() != Some(case.code) {
        problems.push(format!(
            "exit status {:?}, expected {}",
            out.status.code(),
            case.code
        ));
    }
    for want in &case.stderr {
        if !stderr.contains(want.as_str()) {
            problems.push(format!("stderr lacks {want:?}"));
        }
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    let after = snapshot(dir);
    if after != before {
        let added: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
        let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
        let changed: Vec<_> = after
            .iter()
            .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
            .map(|(k, _)| k)
            .collect();
        problems.push(format!(
            "the folder changed: added {added:?}, removed {gone:?}, changed {changed:?}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    stderr: {}",
            problems.join("; "),
            stderr.trim_end().replace('\n', "\n            ")
        ))
    }
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            parse(&name, &std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

/// The suite: at least 150 cases, every one exits as expected, says what it must and writes
/// nothing. `BAD_INPUT=substring` runs only the cases whose name contains it.
#[test]
fn every_bad_input_case() {
    let all = cases();
    assert!(all.len() >= 150, "only {} cases", all.len());
    let only = std::env::var("BAD_INPUT").ok();
    let failed: Vec<String> = all
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| c.name.contains(o)))
        .filter_map(|c| check(c).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
}

#[test]
fn case_parser_reads_headers_and_files() {
    let c = parse(
        "t",
        "# x\nargs: plan s.toml --sla \"99% under 1s\"\ncode: 2\nstderr: a\n-- s.toml --\nx = 1\n-- @A/b --\ny\n",
    );
    assert_eq!(c.args, ["plan", "s.toml", "--sla", "99% under 1s"]);
    assert_eq!(c.files.len(), 2);
    assert_eq!(c.files[0], ("s.toml".into(), "x = 1\n".into(), false));
    assert_eq!(c.files[1], ("A/b".into(), "y\n".into(), true));
}
