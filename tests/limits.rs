//! Bounded work and inputs that change under a run: every user-controlled size is checked at validation, before any allocation, naming its key and its limit; a trace that vanishes or changes fails the run.

use std::path::Path;

use llmcap::analysis::run::run_each;
use llmcap::domain::Scenario;
use predicates::prelude::*;

use crate::common::{llmcap, write};

/// A one-deployment scenario: reserved units with `concurrency` slots each,
/// a class with a 1 s p99 SLA.
fn reserved(concurrency: u32, plan: &str) -> String {
    format!(
        r#"
[scenario]
name = "limits"
horizon_hours = 1
[[class]]
name = "c"
model = "m"
route = ["ptu"]
sla = {{ ttft_ms = 1000, percentile = 99 }}
arrivals = {{ mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 10 }}
[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = {{ median_ms = 100, p99_ms = 200 }}
reserved = {{ units = 1, tpm_per_unit = 100000, concurrency_per_unit = {concurrency}, term = "monthly", price_per_unit_hour = {{ monthly = 1.0 }} }}
{plan}
"#
    )
}

/// `llmcap ARGS...` exits 2 before any work, its stderr holding every
/// `says`, and leaves nothing but the inputs in `dir`.
#[track_caller]
fn refused(dir: &Path, args: &[&str], says: &[&str]) {
    let before = crate::common::entries(dir);
    let mut a = llmcap().args(args).assert().code(2);
    for s in says {
        a = a.stderr(predicate::str::contains(*s));
    }
    assert_eq!(
        crate::common::entries(dir),
        before,
        "nothing may be written"
    );
}

#[test]
fn plan_max_units_beyond_the_limits_is_refused_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out = out.to_str().unwrap();
    // The flag: at most 10,000,000 units (it used to build a grid of 4 billion
    // entries and abort on allocation).
    let sc = write(tmp.path(), "a.toml", &reserved(1, ""));
    let sc = sc.to_str().unwrap();
    refused(
        tmp.path(),
        &["plan", sc, "--out", out, "--max-units", "4294967295"],
        &["--max-units", "10000000"],
    );
    // The key: 10,000,000 units of 1,000 slots each exceed the slot limit.
    let sc = write(
        tmp.path(),
        "b.toml",
        &reserved(1000, "[plan]\nmax_units = 10000000"),
    );
    refused(
        tmp.path(),
        &["plan", sc.to_str().unwrap(), "--out", out],
        &[
            "b.toml",
            "plan.max_units",
            "at most 10000",
            "10000000 slots",
        ],
    );
    // The same limit on the flag names the flag.
    let sc = write(tmp.path(), "c.toml", &reserved(1000, ""));
    refused(
        tmp.path(),
        &[
            "plan",
            sc.to_str().unwrap(),
            "--out",
            out,
            "--max-units",
            "20000",
        ],
        &["--max-units", "at most 10000"],
    );
}

#[test]
fn a_negative_seed_names_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "a.toml", &reserved(1, ""));
    let out = tmp.path().join("out");
    refused(
        tmp.path(),
        &[
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "-1",
        ],
        &["--seed"],
    );
}

#[test]
fn an_integer_too_large_for_toml_keeps_its_key_path() {
    let tmp = tempfile::tempdir().unwrap();
    let text = reserved(1, "").replace("horizon_hours = 1", "horizon_hours = 18446744073709551616");
    let sc = write(tmp.path(), "a.toml", &text);
    let out = tmp.path().join("out");
    refused(
        tmp.path(),
        &["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &["a.toml:4:", "scenario.horizon_hours"],
    );
}

const HEADER: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\n";

/// A scenario replaying `trace.csv` (azure format) with `extra` arrivals keys.
fn replay(hours: u32, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "replay"
horizon_hours = {hours}
[client]
max_attempts = 1
[[class]]
name = "c"
model = "m"
route = ["a"]
[class.arrivals]
trace = "trace.csv"
format = "azure"
{extra}
[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 1.0, output_per_1m = 2.0 }}
"#
    )
}

/// Validation of a tiled trace takes O(rows + hours), however many passes
/// the horizon holds; past the pass limit it is refused naming time_scale.
/// (Validating the 2-row trace at time_scale 1e6 took 23 s for 1 h.)
#[test]
fn tiled_traces_with_a_large_time_scale_validate_quickly_or_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "trace.csv",
        &format!("{HEADER}2023-11-16 18:00:00,10,1\n2023-11-16 18:00:01,10,1\n"),
    );
    // 1e3 faster: one pass lasts 2 ms, 4.3e7 passes in 24 h, 8.6e7 requests.
    let sc = write(
        tmp.path(),
        "a.toml",
        &replay(24, "tile = true\ntime_scale = 1000"),
    );
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "estimated work: ~86,400,000 requests",
        ));
    // 1e6 faster: 4.3e10 passes.
    let sc = write(
        tmp.path(),
        "b.toml",
        &replay(24, "tile = true\ntime_scale = 1e6"),
    );
    refused(
        tmp.path(),
        &["validate", sc.to_str().unwrap()],
        &["b.toml", "class[0].arrivals.time_scale", "1e8 passes"],
    );
}

/// A trace that disappears or changes between validation and a replication
/// fails the run naming the file, instead of giving fewer arrivals.
#[test]
fn a_trace_that_vanishes_or_changes_after_validation_fails_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = |n: usize| -> String {
        (0..n)
            .map(|i| format!("2023-11-16 18:00:{:02},10,1\n", i))
            .collect()
    };
    let trace = write(tmp.path(), "trace.csv", &format!("{HEADER}{}", rows(10)));
    let file = write(tmp.path(), "r.toml", &replay(1, "tile = true"));
    let sc = Scenario::load(&file).unwrap();
    let (m, _) = run_each(&sc, 1, None, |_| ());
    assert_eq!(m.input_failure, None, "the trace as validated");
    assert!(m.classes[0].arrived > 0);

    std::fs::write(&trace, format!("{HEADER}{}", rows(4))).unwrap();
    let (m, _) = run_each(&sc, 1, None, |_| ());
    let why = m.input_failure.expect("a shorter trace is noticed");
    assert!(
        why.contains("trace.csv") && why.contains("changed"),
        "{why}"
    );

    std::fs::remove_file(&trace).unwrap();
    let (m, _) = run_each(&sc, 1, None, |_| ());
    let why = m.input_failure.expect("a missing trace is noticed");
    assert!(
        why.contains("trace.csv") && why.contains("could not be read"),
        "{why}"
    );
}

/// pick's default outage length (2 h) is clamped to a shorter horizon rather
/// than reported as the user's error.
#[test]
fn picks_default_outage_fits_a_one_hour_horizon() {
    let text = r#"
[profile]
name = "short"
sla = "p99<=5s"
[simulation]
horizon_hours = 1
[[workload]]
name = "w"
model = "gpt-4o"
requests_per_day = 1000
input_tokens = { dist = "fixed", value = 100 }
output_tokens = { dist = "fixed", value = 10 }
"#;
    let p = llmcap::analysis::pick::Profile::from_toml(text, Path::new("p.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.outage_hours, 1.0);
    // A value the user wrote is still checked against the horizon.
    let e = llmcap::analysis::pick::Profile::from_toml(
        &text.replace("horizon_hours = 1", "horizon_hours = 1\noutage_hours = 2"),
        Path::new("p.toml"),
    )
    .unwrap_err();
    assert_eq!(e.path(), "simulation.outage_hours");
}

/// A residency no catalog region lies in is the user's error, found before
/// any simulation (it used to simulate, write results and exit 1).
#[test]
fn an_unknown_residency_is_refused_before_simulating() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "p.toml",
        r#"
[profile]
name = "mars"
sla = "p99<=5s"
residency = "mars-north"
[[workload]]
name = "w"
model = "gpt-4o"
requests_per_day = 1000
input_tokens = { dist = "fixed", value = 100 }
output_tokens = { dist = "fixed", value = 10 }
"#,
    );
    let out = tmp.path().join("out");
    refused(
        tmp.path(),
        &["pick", p.to_str().unwrap(), "--out", out.to_str().unwrap()],
        &["p.toml", "profile.residency", "mars-north", "eu"],
    );
}

/// sweep and plan notice a trace that vanished after validation as run does: exit 1 naming the
/// file, nothing written. (pick simulates synthetic traffic only: it replays no trace.)
#[test]
fn sweep_and_plan_fail_when_the_trace_vanishes() {
    use llmcap::analysis::plan::{plan, spec};
    use llmcap::analysis::sweep::run_points;
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..10)
        .map(|i| format!("2023-11-16 18:00:{:02},10,1\n", i))
        .collect();
    let trace = write(tmp.path(), "trace.csv", &format!("{HEADER}{rows}"));
    let reserved = replay(1, "tile = true").replace(
        "on_demand = { input_per_1m = 1.0, output_per_1m = 2.0 }",
        "reserved = { units = 1, tpm_per_unit = 100000, term = \"hourly\", price_per_unit_hour = { hourly = 1.0 } }",
    );
    let file = write(tmp.path(), "r.toml", &reserved);
    let sc = Scenario::load(&file).unwrap();
    let fine = run_points(std::slice::from_ref(&sc), None, None, 1, None);
    assert!(fine[0].0.iter().all(|o| o.input_failure.is_none()));
    let plan_spec = spec(
        &sc,
        &file,
        Some(llmcap::domain::SlaTarget {
            percentile: 99.0,
            ttft_ms: 5000.0,
        }),
        None,
        None,
        None,
    );
    std::fs::remove_file(&trace).unwrap();
    let points = run_points(std::slice::from_ref(&sc), None, None, 1, None);
    let why = points[0].0[0].input_failure.clone().expect("sweep notices");
    assert!(why.contains("trace.csv"), "{why}");
    let r = plan(
        &sc,
        &plan_spec.expect("a reserved deployment to size"),
        1,
        None,
    );
    let why = r.input_failure.expect("plan notices");
    assert!(why.contains("trace.csv"), "{why}");
}
