//! The fuzz harness (sim/fuzz.rs, run at length by scripts/fuzz.sh) for a few hundred executions per target: it builds, finds its seeds and finds no crash.

use std::path::PathBuf;

use crate::common::command_ok;

#[allow(dead_code)]
#[path = "../sim/fuzz.rs"]
mod harness;

#[test]
fn every_fuzz_target_runs_without_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // diff's seeds: a real run folder.
    let run = tmp.path().join("run");
    command_ok(
        "run",
        &repo.join("scenarios/baseline.toml"),
        &run,
        &["--horizon-hours", "2", "--replications", "1"],
    );
    for (target, _) in harness::TARGETS {
        let args = harness::Args {
            target: target.to_string(),
            seconds: 60.0,
            max_execs: 300,
            seed: 7,
            crashes: tmp.path().join("crashes"),
            run_folder: Some(run.clone()),
            repo: repo.clone(),
            corpus: None,
        };
        let r = harness::run(&args);
        assert!(r.execs >= 300, "{target}: {} executions", r.execs);
        assert_eq!(r.crashes, 0, "{target}: see {}", args.crashes.display());
    }
}
