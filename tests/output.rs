//! Output folders: never deleting what llmcap did not write, inputs inside --out, the lock, kill -9 at every step of the commit.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use predicates::prelude::*;

use crate::common::{entries, llmcap, read_json, write};

const TINY: &str = r#"
[scenario]
name = "tiny"
horizon_hours = 1
seed = 1
replications = 1

[[class]]
name = "chat"
model = "gpt-4o"
route = ["paygo"]
tags = { team = "support" }
arrivals = { mean_rps = 1.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }

[[deployment]]
name = "paygo"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 600, tpm = 400000, shared_pool_tpm = 5000000, background_utilization = 0.5 }
"#;

fn run_args(sc: &Path, out: &Path, seed: u64) -> Vec<String> {
    vec![
        "run".into(),
        sc.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
        "--seed".into(),
        seed.to_string(),
    ]
}

/// `llmcap run` with `seed` into `out`, which must succeed.
fn run_ok(sc: &Path, out: &Path, seed: u64) {
    llmcap().args(run_args(sc, out, seed)).assert().success();
}

/// The seed recorded in `out/summary.json`.
fn seed_of(out: &Path) -> u64 {
    read_json(&out.join("summary.json"))["manifest"]["seed"]
        .as_u64()
        .unwrap()
}

/// Starts `llmcap ARGS` stopped at `step` of the commit, and returns once it is there.
fn paused_at(args: &[String], step: &str) -> Child {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("llmcap"))
        .args(args)
        .env(llmcap::report::output::PAUSE_ENV, step)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let want = format!("paused at {step}");
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains(&want) => return child,
            Some(_) => {}
            None => panic!("llmcap ended before reaching {step}: {:?}", child.wait()),
        }
    }
}

/// SIGKILL, as `kill -9` sends it.
fn kill9(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    (tmp, sc, out)
}

#[test]
fn a_folder_with_a_users_file_is_refused_and_the_file_kept() {
    let (tmp, sc, out) = setup();
    run_ok(&sc, &out, 1);
    std::fs::write(out.join("thesis.tex"), "three years").unwrap();
    llmcap()
        .args(run_args(&sc, &out, 2))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("thesis.tex"))
        .stderr(predicate::str::contains("did not write"));
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "three years"
    );
    assert_eq!(seed_of(&out), 1, "the old results stay");
    assert_eq!(entries(tmp.path()), ["out", "tiny.toml"]);
}

#[test]
fn a_summary_json_alone_does_not_make_a_folder_llmcaps() {
    let (_tmp, sc, out) = setup();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(
        out.join("summary.json"),
        r#"{"manifest":{"llmcap_version":"0.1.0"}}"#,
    )
    .unwrap();
    std::fs::write(out.join("thesis.tex"), "x").unwrap();
    llmcap()
        .args(run_args(&sc, &out, 1))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("thesis.tex"));
    assert!(out.join("thesis.tex").exists());
}

#[test]
fn the_scenario_inside_out_is_refused() {
    let (_tmp, _sc, out) = setup();
    std::fs::create_dir(&out).unwrap();
    let design = write(&out, "design.toml", TINY);
    llmcap()
        .args(run_args(&design, &out, 1))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("design.toml"))
        .stderr(predicate::str::contains("is inside it"));
    assert_eq!(entries(&out), ["design.toml"]);
}

/// A calibration file the scenario merges (`deployment[].calibration`) is an input too: a run
/// whose --out holds it (the folder `llmcap calibrate` wrote) is refused, the file kept.
#[test]
fn the_calibration_file_inside_out_is_refused() {
    let (tmp, _sc, out) = setup();
    std::fs::create_dir(&out).unwrap();
    let cal = "[latency]\nmedian_ms = 450\np99_ms = 2500\n";
    write(&out, "calibration.toml", cal);
    let text = TINY.replace(
        "latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }",
        "calibration = \"out/calibration.toml\"",
    );
    assert_ne!(text, TINY);
    let sc = write(tmp.path(), "calibrated.toml", &text);
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .success();
    llmcap()
        .args(run_args(&sc, &out, 1))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("calibration.toml"))
        .stderr(predicate::str::contains("is inside it"));
    assert_eq!(entries(&out), ["calibration.toml"]);
    assert_eq!(
        std::fs::read_to_string(out.join("calibration.toml")).unwrap(),
        cal
    );
    // Elsewhere, the same scenario runs.
    run_ok(&sc, &tmp.path().join("elsewhere"), 1);
}

#[test]
fn a_run_folder_read_by_diff_inside_out_is_refused() {
    let (tmp, sc, out) = setup();
    run_ok(&sc, &out, 1);
    let other = tmp.path().join("other");
    run_ok(&sc, &other, 2);
    let before = std::fs::read(out.join("summary.json")).unwrap();
    llmcap()
        .args(["diff", out.to_str().unwrap(), other.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is inside it"));
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_out_fails_with_2_before_simulating() {
    let (tmp, sc, _) = setup();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &link).unwrap();
    // A year would take long: the refusal must come first.
    llmcap()
        .args(run_args(&sc, &link, 1))
        .args(["--horizon-hours", "8760", "--replications", "50"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    assert_eq!(entries(tmp.path()), ["link", "tiny.toml"]);
}

#[test]
fn a_second_run_on_the_same_out_exits_2_naming_the_holder() {
    let (tmp, sc, out) = setup();
    let first = paused_at(&run_args(&sc, &out, 1), "staging");
    let pid = first.id();
    llmcap()
        .args(run_args(&sc, &out, 2))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("pid {pid}")))
        .stderr(predicate::str::contains("--wait"));
    kill9(first);
    run_ok(&sc, &out, 3);
    assert_eq!(seed_of(&out), 3);
    assert_eq!(entries(tmp.path()), ["out", "tiny.toml"]);
}

#[test]
fn wait_takes_the_folder_when_the_holder_dies() {
    let (tmp, sc, out) = setup();
    run_ok(&sc, &out, 1);
    let first = paused_at(&run_args(&sc, &out, 2), "aside");
    let mut waiter = Command::new(assert_cmd::cargo::cargo_bin("llmcap"))
        .args(run_args(&sc, &out, 3))
        .arg("--wait")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(waiter.try_wait().unwrap().is_none(), "--wait must wait");
    kill9(first);
    assert!(waiter.wait().unwrap().success());
    assert_eq!(seed_of(&out), 3);
    assert_eq!(entries(tmp.path()), ["out", "tiny.toml"]);
}

/// kill -9 at each step of the commit, over earlier results (seed 1) with new
/// ones (seed 2); then a command that stops right after recovery shows what the
/// folder holds (the old results before the commit is decided, the new ones
/// after), and a normal run leaves nothing behind.
#[test]
fn kill_9_at_every_step_is_rolled_back_or_finished_by_the_next_run() {
    for (step, after_recovery) in [
        ("staging", Some(1)),
        ("staged", Some(1)),
        ("aside", Some(2)),
        ("placed", Some(2)),
    ] {
        let (tmp, sc, out) = setup();
        run_ok(&sc, &out, 1);
        kill9(paused_at(&run_args(&sc, &out, 2), step));
        let left = entries(tmp.path());
        assert!(
            left.iter()
                .any(|e| e.starts_with(".out.partial-") || e.starts_with(".out.previous-")),
            "{step}: the kill leaves a staging or aside folder: {left:?}"
        );
        // Recovery happens before the staging folder exists.
        let probe = paused_at(&run_args(&sc, &out, 9), "staging");
        assert_eq!(Some(seed_of(&out)), after_recovery, "{step}");
        let left: Vec<String> = entries(tmp.path())
            .into_iter()
            .filter(|e| !e.starts_with(".out.partial-") && e != ".out.lock")
            .collect();
        assert_eq!(left, ["out", "tiny.toml"], "{step}: after recovery");
        kill9(probe);
        run_ok(&sc, &out, 3);
        assert_eq!(seed_of(&out), 3, "{step}");
        assert_eq!(entries(tmp.path()), ["out", "tiny.toml"], "{step}");
    }
}

#[test]
fn kill_9_on_a_first_run_leaves_nothing_after_the_next() {
    for step in ["staging", "staged", "placed"] {
        let (tmp, sc, out) = setup();
        kill9(paused_at(&run_args(&sc, &out, 2), step));
        run_ok(&sc, &out, 3);
        assert_eq!(seed_of(&out), 3, "{step}");
        assert_eq!(entries(tmp.path()), ["out", "tiny.toml"], "{step}");
    }
}

#[test]
fn results_folders_list_what_llmcap_wrote() {
    let (_tmp, sc, out) = setup();
    run_ok(&sc, &out, 1);
    let m = read_json(&out.join(llmcap::report::output::WRITTEN_FILE));
    let mut listed: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    listed.push(llmcap::report::output::WRITTEN_FILE.into());
    listed.sort();
    assert_eq!(listed, entries(&out));
    let mut want: Vec<&str> = llmcap::report::RUN_FILES.to_vec();
    want.sort();
    assert_eq!(
        m["files"].as_array().unwrap().len(),
        want.len(),
        "every run file is listed"
    );
}
