//! Helpers shared by the test modules: parsing inline scenarios, comparing numbers.

use std::path::Path;

use llmcap::domain::Scenario;

/// Parses and validates an inline scenario, panicking with the full error (and
/// the text) if it is rejected: a test scenario that does not validate is a bug
/// in the test.
pub fn scenario(text: &str) -> Scenario {
    Scenario::from_toml(text, Path::new("inline.toml"))
        .unwrap_or_else(|e| panic!("test scenario rejected: {e}\n---\n{text}"))
}

/// |got - want| / |want|.
pub fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}

/// Asserts that `got` is within `tol` (relative) of `want`.
#[track_caller]
pub fn assert_rel(what: &str, got: f64, want: f64, tol: f64) {
    let err = rel_err(got, want);
    assert!(
        err <= tol,
        "{what}: simulated {got:.6}, expected {want:.6} (relative error {:.3}%, allowed {:.3}%)",
        err * 100.0,
        tol * 100.0
    );
}

/// The real `llmcap` binary, built by cargo for the tests.
pub fn llmcap() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("llmcap").expect("the llmcap binary is built")
}

/// `llmcap COMMAND SCENARIO --out OUT --quiet EXTRA...` must succeed.
#[track_caller]
pub fn command_ok(command: &str, scenario: &Path, out: &Path, extra: &[&str]) {
    llmcap()
        .args([
            command,
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(extra)
        .assert()
        .success();
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Parses a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts that two results folders hold the same files with the same bytes,
/// except `manifest.threads` in the JSON file `json` (which records the thread
/// count and must be there).
#[track_caller]
pub fn assert_same_results(a: &Path, b: &Path, json: &str) {
    let files = entries(a);
    assert_eq!(files, entries(b), "the two folders hold different files");
    assert!(files.iter().any(|f| f == json), "{json} missing: {files:?}");
    for f in &files {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        if f == json {
            let strip = |bytes: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                assert!(
                    v["manifest"]["threads"].is_u64(),
                    "{f}: no manifest.threads"
                );
                v["manifest"].as_object_mut().unwrap().remove("threads");
                v
            };
            assert_eq!(strip(&x), strip(&y), "{f} differs beyond manifest.threads");
        } else {
            assert!(x == y, "{f} differs between the two thread counts");
        }
    }
}

/// A public trace from `../shared/traces/` next to the checkout (CI has it; the
/// project does not ship other projects' data), or None after saying on the
/// terminal that `test` skipped what needs it.
pub fn public_trace(name: &str, test: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/traces")
        .join(name);
    if p.is_file() {
        return Some(p);
    }
    // Straight to stderr: the test harness captures eprintln!, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: needs {} (a public trace, not in the repository)",
        p.display()
    );
    None
}

/// A shipped scenario ready to run here: the flags it needs (`--trace CLASS=PATH`
/// for each class replaying a public trace, from ../shared/traces/) and its text
/// with those paths put in (for the library).
pub struct Shipped {
    pub path: std::path::PathBuf,
    pub args: Vec<String>,
    pub text: String,
}

impl Shipped {
    /// Validates the scenario (with its public traces).
    pub fn scenario(&self) -> Scenario {
        Scenario::from_toml(&self.text, &self.path)
            .unwrap_or_else(|e| panic!("{}: {e}", self.path.display()))
    }
}

/// `path` as a [`Shipped`] scenario, or None (said on the terminal, as
/// [`public_trace`] does) when a public trace it replays is not there.
pub fn shipped_scenario(path: &Path, test: &str) -> Option<Shipped> {
    let mut text = std::fs::read_to_string(path).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let mut args = Vec::new();
    let classes = doc.get("class").and_then(|c| c.as_array());
    for c in classes.into_iter().flatten() {
        let Some(trace) = c["arrivals"].get("trace").and_then(|t| t.as_str()) else {
            continue;
        };
        if path.parent().unwrap().join(trace).is_file() {
            continue; // shipped with the scenario (or fetched)
        }
        let file = Path::new(trace).file_name().unwrap().to_str().unwrap();
        let public = public_trace(file, &format!("{test} ({})", path.display()))?;
        let public = public.to_str().unwrap();
        args.push("--trace".to_string());
        args.push(format!("{}={public}", c["name"].as_str().unwrap()));
        text = text.replace(&format!("\"{trace}\""), &format!("'{public}'"));
    }
    Some(Shipped {
        path: path.to_path_buf(),
        args,
        text,
    })
}
