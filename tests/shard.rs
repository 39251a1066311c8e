//! `--shard I/N` and `llmcap merge`: shards merged in any order give the one-process outputs byte for byte; `--shard auto` reads each engine's index; shard files from different commands or versions are refused.

use std::path::{Path, PathBuf};

use crate::common::{entries, llmcap, write};

/// Two classes, a reserved pool spilling to on demand, an SLA: enough that every column of
/// sweep.csv and every chart has something to show. Short, so a sweep takes a second.
const SMALL: &str = r#"
[scenario]
name = "small"
horizon_hours = 2
seed = 5
replications = 3

[[class]]
name = "chat"
model = "m"
route = ["ptu", "paygo"]
sla = { ttft_ms = 1500, percentile = 99 }
arrivals = { mean_rps = 4.0, peak_hour = 14, peak_to_trough = 2.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 2400 }
output_tokens = { dist = "lognormal", median = 200, p90 = 500 }

[[class]]
name = "batch"
model = "m"
route = ["ptu", "paygo"]
arrivals = { mean_rps = 1.0 }
input_tokens = { dist = "lognormal", median = 3000, p90 = 6000 }
output_tokens = { dist = "lognormal", median = 300, p90 = 900 }

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 800 }
reserved = { units = 10, tpm_per_unit = 60000, output_weight = 3, term = "monthly", max_wait_ms = 500, price_per_unit_hour = { hourly = 12.0, monthly = 6.0, yearly = 4.5 } }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = { median_ms = 450, p99_ms = 2500 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0 }

[sweep]
key = "deployment.ptu.reserved.units"
from = 2
to = 14
step = 3
"#;

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let mut cmd = llmcap();
    cmd.current_dir(dir).args(args).arg("--quiet");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.assert().success();
}

/// Asserts that `merged` holds the files of `one` with the same bytes, except the
/// `manifest.shards` of sweep.json, which names the shard count.
#[track_caller]
fn assert_merged_equals(one: &Path, merged: &Path, shards: u64) {
    assert_merged_json_equals(one, merged, shards, "sweep.json")
}

/// As `assert_merged_equals`, with the manifest in the JSON file `json`.
#[track_caller]
fn assert_merged_json_equals(one: &Path, merged: &Path, shards: u64, json: &str) {
    let files = entries(one);
    assert_eq!(files, entries(merged), "different files");
    for f in &files {
        let (a, b) = (
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
        );
        if f == json {
            let o: serde_json::Value = serde_json::from_slice(&a).unwrap();
            assert!(o["manifest"].get("shards").is_none());
            // The merge's bytes without the one field that names the shards.
            let field = format!(",\n    \"shards\": {shards}\n");
            let text = String::from_utf8(b).unwrap();
            assert_eq!(
                text.matches(&field).count(),
                1,
                "manifest.shards = {shards}"
            );
            assert!(
                text.replacen(&field, "\n", 1).as_bytes() == a,
                "{json} differs beyond manifest.shards"
            );
        } else {
            assert!(a == b, "{f} differs between one process and the merge");
        }
    }
}

#[test]
fn three_shards_merge_to_the_one_process_sweep_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    run(
        dir,
        &["sweep", "small.toml", "--out", "one", "--threads", "2"],
        &[],
    );
    // Different thread counts per shard: the split and the results do not depend on them.
    for (i, threads) in [(0, "1"), (1, "2"), (2, "1")] {
        let spec = format!("{i}/3");
        let out = format!("s{i}");
        run(
            dir,
            &[
                "sweep",
                "small.toml",
                "--shard",
                &spec,
                "--out",
                &out,
                "--threads",
                threads,
            ],
            &[],
        );
    }
    // Shards in any order, as folders or files.
    run(
        dir,
        &[
            "merge",
            "s2",
            "s0/shard-0-of-3.json.gz",
            "s1",
            "--out",
            "merged",
        ],
        &[],
    );
    assert_merged_equals(&dir.join("one"), &dir.join("merged"), 3);
    // One shard is a plain run of everything.
    run(
        dir,
        &[
            "sweep",
            "small.toml",
            "--shard",
            "0/1",
            "--out",
            "all",
            "--threads",
            "2",
        ],
        &[],
    );
    run(dir, &["merge", "all", "--out", "merged1"], &[]);
    assert_merged_equals(&dir.join("one"), &dir.join("merged1"), 1);
}

#[test]
fn more_shards_than_items_leave_some_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    let flags = [
        "--values",
        "2,5",
        "--key",
        "deployment.ptu.reserved.units",
        "--replications",
        "1",
        "--threads",
        "1",
    ];
    let mut one = vec!["sweep", "small.toml", "--out", "one"];
    one.extend(flags);
    run(dir, &one, &[]);
    let mut shards = Vec::new();
    for i in 0..4 {
        let (spec, out) = (format!("{i}/4"), format!("s{i}"));
        let mut args = vec!["sweep", "small.toml", "--shard", &spec, "--out", &out];
        args.extend(flags);
        run(dir, &args, &[]);
        shards.push(out);
    }
    let mut args = vec!["merge", "--out", "merged"];
    args.extend(shards.iter().map(|s| s.as_str()));
    run(dir, &args, &[]);
    assert_merged_equals(&dir.join("one"), &dir.join("merged"), 4);
}

/// The shard file of `folder`.
fn shard_file(folder: &Path) -> PathBuf {
    let f = entries(folder)
        .into_iter()
        .find(|f| f.ends_with(".json.gz"))
        .expect("a shard file");
    folder.join(f)
}

fn read_gz(path: &Path) -> serde_json::Value {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn write_gz(path: &Path, v: &serde_json::Value) {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&serde_json::to_vec(v).unwrap()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// Environment variables a batch engine sets.
type Env = &'static [(&'static str, &'static str)];
/// An edit of a shard file's JSON.
type Edit = fn(&mut serde_json::Value);

#[test]
fn auto_reads_the_index_each_engine_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    let base = [
        "sweep",
        "small.toml",
        "--replications",
        "1",
        "--threads",
        "1",
    ];
    let cases: [(&str, Env, &str); 3] = [
        // Slurm numbers an --array=1-3 from 1: the shard index counts from the first task.
        (
            "auto",
            &[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
            ],
            "2/3",
        ),
        ("auto/4", &[("JOB_COMPLETION_INDEX", "1")], "1/4"),
        ("auto/5", &[("AWS_BATCH_JOB_ARRAY_INDEX", "4")], "4/5"),
    ];
    for (i, (flag, env, want)) in cases.iter().enumerate() {
        let out = format!("a{i}");
        let mut args = base.to_vec();
        args.extend(["--shard", flag, "--out", &out]);
        run(dir, &args, env);
        let m = read_gz(&shard_file(&dir.join(&out)));
        let got = format!(
            "{}/{}",
            m["manifest"]["shard"]["index"], m["manifest"]["shard"]["count"]
        );
        assert_eq!(&got, want, "--shard {flag} with {env:?}");
    }
}

#[test]
fn merge_refuses_a_shard_of_another_version_or_an_edited_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    for i in 0..2 {
        let (spec, out) = (format!("{i}/2"), format!("s{i}"));
        run(
            dir,
            &[
                "sweep",
                "small.toml",
                "--values",
                "2,5",
                "--key",
                "deployment.ptu.reserved.units",
                "--shard",
                &spec,
                "--out",
                &out,
                "--replications",
                "2",
            ],
            &[],
        );
    }
    let file = shard_file(&dir.join("s1"));
    let original = read_gz(&file);
    let edits: [(&str, Edit, &str); 4] = [
        (
            "manifest.llmcap_version",
            |v| v["manifest"]["llmcap_version"] = "0.0.1".into(),
            "written by llmcap 0.0.1",
        ),
        (
            "format_version",
            |v| v["format_version"] = 99.into(),
            "version Some(99)",
        ),
        (
            "results",
            |v| {
                v["results"].as_array_mut().unwrap().pop();
            },
            "must hold items",
        ),
        (
            "manifest.shard",
            |v| v["manifest"]["shard"]["index"] = 0.into(),
            "given twice",
        ),
    ];
    for (key, edit, why) in edits {
        let mut v = original.clone();
        edit(&mut v);
        write_gz(&file, &v);
        let before = entries(dir);
        llmcap()
            .current_dir(dir)
            .args(["merge", "s0", "s1", "--out", "merged"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("s1/shard-1-of-2.json.gz"))
            .stderr(predicates::str::contains(key))
            .stderr(predicates::str::contains(why));
        assert_eq!(entries(dir), before, "{key}: nothing may be written");
    }
}

#[test]
fn run_replications_in_shards_merge_to_the_one_process_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    let flags = ["--replications", "5", "--threads", "2"];
    let mut one = vec!["run", "small.toml", "--out", "one"];
    one.extend(flags);
    run(dir, &one, &[]);
    for i in 0..3 {
        let (spec, out) = (format!("{i}/3"), format!("r/{i}"));
        let mut args = vec!["run", "small.toml", "--shard", &spec, "--out", &out];
        args.extend(flags);
        run(dir, &args, &[]);
    }
    // A folder of per-shard folders, as the launchers write them.
    run(dir, &["merge", "r", "--out", "merged"], &[]);
    assert_merged_json_equals(&dir.join("one"), &dir.join("merged"), 3, "summary.json");
    // Shards of a run and of a sweep of the same scenario are different work.
    run(
        dir,
        &[
            "sweep",
            "small.toml",
            "--shard",
            "1/3",
            "--out",
            "s1",
            "--replications",
            "5",
        ],
        &[],
    );
    llmcap()
        .current_dir(dir)
        .args(["merge", "r/0", "s1", "r/2", "--out", "mixed"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("s1/shard-1-of-3.json.gz"))
        .stderr(predicates::str::contains("manifest.work"));
    assert!(!dir.join("mixed").exists());
}

#[test]
fn frontier_shards_merge_to_the_one_process_frontier_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "grid.toml", crate::frontier::GRID);
    run(
        dir,
        &["frontier", "grid.toml", "--out", "one", "--threads", "2"],
        &[],
    );
    for (i, threads) in [(0, "1"), (1, "2"), (2, "1")] {
        let (spec, out) = (format!("{i}/3"), format!("s{i}"));
        run(
            dir,
            &[
                "frontier",
                "grid.toml",
                "--shard",
                &spec,
                "--out",
                &out,
                "--threads",
                threads,
            ],
            &[],
        );
    }
    // The merge runs the rate search itself, on its own thread count.
    run(
        dir,
        &[
            "merge",
            "s1",
            "s2",
            "s0",
            "--out",
            "merged",
            "--threads",
            "1",
        ],
        &[],
    );
    assert_merged_json_equals(&dir.join("one"), &dir.join("merged"), 3, "frontier.json");
}

#[test]
fn plan_shards_hold_the_whole_grid_and_merge_to_the_one_process_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    let plan = [
        "plan",
        "small.toml",
        "--max-units",
        "14",
        "--terms",
        "monthly,yearly",
    ];
    run(
        dir,
        &[&plan[..], &["--out", "one", "--threads", "2"]].concat(),
        &[],
    );
    for (i, threads) in [(0, "1"), (1, "2")] {
        let (spec, out) = (format!("{i}/2"), format!("s{i}"));
        let args = [
            &plan[..],
            &["--shard", &spec, "--out", &out, "--threads", threads],
        ]
        .concat();
        run(dir, &args, &[]);
    }
    // Every configuration the search may visit: reserved + spillover and reserved only at 1 to
    // 14 units, all on demand once, 3 replications each, dealt round robin.
    let m = read_gz(&shard_file(&dir.join("s0")))["manifest"].clone();
    assert_eq!(m["items"].as_array().unwrap().len(), (2 * 14 + 1) * 3);
    assert_eq!(m["work"]["command"], "plan");
    assert_eq!(m["work"]["plan"]["max_units"], 14);
    // A shard of the same plan with another search (--max-units 12) is refused, by name,
    // and nothing is written.
    let other = [
        &plan[..3],
        &[
            "12",
            "--terms",
            "monthly,yearly",
            "--shard",
            "1/2",
            "--out",
            "other",
        ],
    ]
    .concat();
    run(dir, &other, &[]);
    llmcap()
        .current_dir(dir)
        .args(["merge", "s0", "other", "--out", "mixed"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("other/shard-1-of-2.json.gz"))
        .stderr(predicates::str::contains("manifest.work"))
        .stderr(predicates::str::contains("--max-units 12"))
        .stderr(predicates::str::contains("--max-units 14"));
    assert!(!dir.join("mixed").exists());
    run(dir, &["merge", "s1", "s0", "--out", "merged"], &[]);
    assert_merged_json_equals(&dir.join("one"), &dir.join("merged"), 2, "plan.json");
    // The merge reports the configurations one process visited, not the whole grid.
    let csv = std::fs::read_to_string(dir.join("merged/plan.csv")).unwrap();
    let rows = csv.lines().count() - 1;
    assert!(rows > 2 && rows < 2 * 14 + 1, "{rows} rows: {csv}");
}

#[test]
fn pick_shards_merge_to_the_one_process_pick_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Two workloads, four candidates (each on Bedrock and Azure OpenAI), reserved searches
    // among them: the merge reads every configuration they simulated.
    let profile = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/profiles/claude_and_gpt4o.toml")
        .to_string_lossy()
        .into_owned();
    let pick = [
        "pick",
        profile.as_str(),
        "--horizon-hours",
        "4",
        "--replications",
        "2",
    ];
    run(
        dir,
        &[&pick[..], &["--out", "one", "--threads", "2"]].concat(),
        &[],
    );
    // 6 shards for 4 candidates: shards 4 and 5 get none, exit 0 and write a valid, empty file.
    let six = &["1", "2", "1", "1", "1", "1"][..];
    for (count, threads) in [(2u32, &["1", "2"][..]), (3, &["1", "2", "1"][..]), (6, six)] {
        for (i, t) in threads.iter().enumerate() {
            let (spec, out) = (format!("{i}/{count}"), format!("p{count}/{i}"));
            let args = [
                &pick[..],
                &["--shard", &spec, "--out", &out, "--threads", t],
            ]
            .concat();
            run(dir, &args, &[]);
        }
        let merged = format!("merged{count}");
        run(dir, &["merge", &format!("p{count}"), "--out", &merged], &[]);
        assert_merged_json_equals(
            &dir.join("one"),
            &dir.join(&merged),
            count as u64,
            "pick.json",
        );
    }
    for extra in ["p6/4", "p6/5"] {
        let v = read_gz(&shard_file(&dir.join(extra)));
        assert_eq!(v["manifest"]["items"].as_array().unwrap().len(), 4);
        assert_eq!(v["results"], serde_json::json!([]), "{extra}");
    }
    // The items are the candidates, each with every configuration its search simulated.
    let m = read_gz(&shard_file(&dir.join("p2/0")));
    assert_eq!(m["manifest"]["work"]["command"], "pick");
    assert_eq!(m["manifest"]["items"].as_array().unwrap().len(), 4);
    assert!(m["results"][0]["configurations"].as_array().unwrap().len() > 1);
    // A missing shard, a shard given twice, a sweep's shard among pick's: exit 2 naming the
    // file, nothing written.
    write(dir, "small.toml", SMALL);
    run(
        dir,
        &["sweep", "small.toml", "--shard", "1/3", "--out", "s1"],
        &[],
    );
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["p3/0", "p3/2"],
            "p3/0/shard-0-of-3.json.gz",
            "missing: 1/3",
        ),
        (
            &["p3/0", "p3/1", "p3/1", "p3/2"],
            "p3/1/shard-1-of-3.json.gz",
            "given twice",
        ),
        (
            &["p3/0", "s1", "p3/2"],
            "s1/shard-1-of-3.json.gz",
            "cannot be merged",
        ),
    ];
    for (shards, file, why) in cases {
        let before = entries(dir);
        llmcap()
            .current_dir(dir)
            .arg("merge")
            .args(shards)
            .args(["--out", "bad"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(file))
            .stderr(predicates::str::contains(why));
        assert_eq!(entries(dir), before, "{shards:?}: nothing may be written");
    }
}

/// A merge checks the items before any search runs: a plan shard whose manifest lists fewer
/// configurations than the scenario's grid is refused by name (the search would otherwise need a
/// configuration no shard measured, which `plan_measured` treats as an internal error).
#[test]
fn a_plan_shard_short_of_the_grid_is_refused_before_the_search() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, "small.toml", SMALL);
    run(
        dir,
        &[
            "plan",
            "small.toml",
            "--max-units",
            "6",
            "--replications",
            "1",
            "--shard",
            "0/1",
            "--out",
            "s",
        ],
        &[],
    );
    let file = shard_file(&dir.join("s"));
    let mut v = read_gz(&file);
    // Drop the last configuration (all on demand, 1 replication) from the items and results.
    v["manifest"]["items"].as_array_mut().unwrap().pop();
    v["results"].as_array_mut().unwrap().pop();
    write_gz(&file, &v);
    llmcap()
        .current_dir(dir)
        .args(["merge", "s", "--out", "merged"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("s/shard-0-of-1.json.gz"))
        .stderr(predicates::str::contains("manifest.items"))
        .stderr(predicates::str::contains(
            "the scenario gives 13 item(s), the shards list 12",
        ));
    assert!(!dir.join("merged").exists());
}

/// Runs `frontier grid.toml --sla p99<=1.5s` with `args` (under that SLA, one frontier
/// configuration bisects below scale 1 and the other meets it at the top scale).
fn frontier_at(dir: &Path, args: &[&str]) {
    let base = ["frontier", "grid.toml", "--sla", "p99<=1.5s"];
    run(dir, &[&base[..], args].concat(), &[]);
}

/// The grid of grid.toml in two shards, g0 and g1 (round 1).
fn grid_in_two_shards(dir: &Path) {
    write(dir, "grid.toml", crate::frontier::GRID);
    for (i, threads) in [(0, "1"), (1, "2")] {
        let (spec, out) = (format!("{i}/2"), format!("g{i}"));
        frontier_at(
            dir,
            &["--shard", &spec, "--out", &out, "--threads", threads],
        );
    }
}

/// Every round-2 shard file under `folder`: (its items, evaluations per result).
fn rate_shards(folder: &Path) -> Vec<(serde_json::Value, Vec<usize>)> {
    entries(folder)
        .iter()
        .map(|sub| {
            let v = read_gz(&shard_file(&folder.join(sub)));
            assert_eq!(v["manifest"]["round"], 2, "{sub}");
            let evaluations = v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["evaluations"].as_array().map_or(0, |e| e.len()))
                .collect();
            (v["manifest"]["items"].clone(), evaluations)
        })
        .collect()
}

#[test]
fn a_frontier_rate_search_in_a_second_round_merges_to_the_one_process_frontier() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    grid_in_two_shards(dir);
    frontier_at(dir, &["--out", "one", "--threads", "2"]);
    let one: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("one/frontier.json")).unwrap()).unwrap();
    // Configurations 0 (ptu 1) and 2 (paygo) are on the frontier: the first misses the SLA at
    // scale 1 and bisects 6 times below it (0.5, 0.25, ... 1/64), the second meets it at 4.
    let searches: Vec<(usize, u64)> = one["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c["rate"]["evaluations"].as_u64()?)))
        .collect();
    assert_eq!(searches, [(0, 6), (2, 1)]);
    for n in 1..=3u32 {
        let rates = format!("r{n}");
        for i in 0..n {
            let (spec, out) = (format!("{i}/{n}"), format!("{rates}/{i}"));
            let threads = if i == 1 { "2" } else { "1" };
            let args = ["--shard", &spec, "--rates-after", "g0", "g1", "--out", &out];
            frontier_at(dir, &[&args[..], &["--threads", threads]].concat());
        }
        // Round robin over the two searched configurations: shard 2 of 3 holds none.
        let got = rate_shards(&dir.join(&rates));
        let want: Vec<Vec<usize>> = match n {
            1 => vec![vec![6, 1]],
            2 => vec![vec![6], vec![1]],
            _ => vec![vec![6], vec![1], vec![]],
        };
        assert_eq!(got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), want);
        for (items, _) in &got {
            assert_eq!(items, &serde_json::json!([[0, 0], [2, 0]]));
        }
        // The merge reads the searches (it simulates nothing), in any order of its arguments.
        let merged = format!("merged{n}");
        run(dir, &["merge", &rates, "g1", "g0", "--out", &merged], &[]);
        let shards = 2 + n as u64;
        assert_merged_json_equals(
            &dir.join("one"),
            &dir.join(&merged),
            shards,
            "frontier.json",
        );
    }
}

#[test]
fn a_second_round_without_its_grid_or_whole_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    grid_in_two_shards(dir);
    for i in 0..2 {
        let (spec, out) = (format!("{i}/2"), format!("r/{i}"));
        frontier_at(
            dir,
            &["--shard", &spec, "--rates-after", "g0", "g1", "--out", &out],
        );
    }
    // The same search on a grid of another seed.
    frontier_at(dir, &["--seed", "9", "--shard", "0/1", "--out", "h"]);
    let args = [
        "--seed",
        "9",
        "--shard",
        "0/1",
        "--rates-after",
        "h",
        "--out",
        "x",
    ];
    frontier_at(dir, &args);
    let cases: [(&[&str], &str, &str); 5] = [
        // A round-2 shard missing.
        (
            &["g0", "g1", "r/0"],
            "r/0/shard-0-of-2.json.gz",
            "missing: 1/2",
        ),
        // Given twice.
        (
            &["g0", "g1", "r", "r/1/shard-1-of-2.json.gz"],
            "r/1/shard-1-of-2.json.gz",
            "given twice",
        ),
        // From another grid (seed 9).
        (
            &["g0", "g1", "x"],
            "x/shard-0-of-1.json.gz",
            "manifest.seed",
        ),
        // Without round 1.
        (&["r"], "r/0/shard-0-of-2.json.gz", "without the grid"),
        // Round 1 of a grid, round 2 of the other.
        (&["h", "r"], "r/0/shard-0-of-2.json.gz", "manifest.seed"),
    ];
    for (shards, file, why) in cases {
        let before = entries(dir);
        llmcap()
            .current_dir(dir)
            .arg("merge")
            .args(shards)
            .args(["--out", "merged"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(file))
            .stderr(predicates::str::contains(why));
        assert_eq!(entries(dir), before, "{shards:?}: nothing may be written");
    }
    // A search recorded at another scale than the search asks for (an edited file).
    let file = shard_file(&dir.join("r/0"));
    let original = read_gz(&file);
    let mut v = original.clone();
    assert_eq!(v["results"][0]["evaluations"][0]["scale"], "0.5");
    v["results"][0]["evaluations"][0]["scale"] = "0.75".into();
    write_gz(&file, &v);
    llmcap()
        .current_dir(dir)
        .args(["merge", "g0", "g1", "r", "--out", "merged"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("r/0/shard-0-of-2.json.gz"))
        .stderr(predicates::str::contains("needs demand scale 0.5"));
    assert!(!dir.join("merged").exists());
    write_gz(&file, &original);
    // Round 2 refuses a grid of another seed, or a round-2 shard in place of the grid.
    for (after, file, why) in [
        ("h", "h/shard-0-of-1.json.gz", "manifest.seed"),
        ("x", "x/shard-0-of-1.json.gz", "manifest.round"),
    ] {
        llmcap()
            .current_dir(dir)
            .args([
                "frontier",
                "grid.toml",
                "--sla",
                "p99<=1.5s",
                "--shard",
                "0/1",
            ])
            .args(["--rates-after", after, "--out", "y"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(file))
            .stderr(predicates::str::contains(why));
        assert!(!dir.join("y").exists());
    }
}
