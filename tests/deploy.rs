//! deploy/: the Kubernetes and AWS Batch files have the shape their engine expects, set the index variables llmcap reads, and, run as their engine would run them, give the one-process sweep.

use std::path::{Path, PathBuf};

use llmcap::analysis::shard::{BATCH_INDEX, K8S_INDEX};

use crate::common::{entries, llmcap};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    let v: yaml_serde::Value =
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::to_value(v).unwrap()
}

fn json(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

/// The N of `--shard auto/N` in `args`.
fn shard_count(args: &[String]) -> u64 {
    let i = args.iter().position(|a| a == "--shard").expect("--shard");
    let spec = &args[i + 1];
    spec.strip_prefix("auto/")
        .unwrap_or_else(|| panic!("--shard {spec}: auto/N expected"))
        .parse()
        .unwrap()
}

/// The container of a Job's pod template.
fn container(job: &serde_json::Value) -> &serde_json::Value {
    &job["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn the_kubernetes_jobs_are_indexed_and_agree_on_the_count() {
    let sweep = yaml("deploy/k8s/sweep-job.yaml");
    assert_eq!(sweep["apiVersion"], "batch/v1");
    assert_eq!(sweep["kind"], "Job");
    assert_eq!(
        sweep["spec"]["completionMode"], "Indexed",
        "an Indexed Job sets {K8S_INDEX}"
    );
    assert_eq!(sweep["spec"]["template"]["spec"]["restartPolicy"], "Never");
    let args = strings(&container(&sweep)["args"]);
    assert_eq!(args[0], "sweep");
    let completions = sweep["spec"]["completions"].as_u64().expect("completions");
    assert_eq!(
        shard_count(&args),
        completions,
        "--shard auto/N must name the Job's completions"
    );
    let out = &args[args.iter().position(|a| a == "--out").unwrap() + 1];
    assert!(
        out.contains(&format!("$({K8S_INDEX})")),
        "each pod writes its own folder: {out}"
    );
    let merge = yaml("deploy/k8s/merge-job.yaml");
    assert_eq!(merge["kind"], "Job");
    assert_eq!(strings(&container(&merge)["args"])[0], "merge");
    // Both mount the same claim, which pvc.yaml creates ReadWriteMany.
    let claim = |job: &serde_json::Value| {
        job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"].clone()
    };
    let pvc = yaml("deploy/k8s/pvc.yaml");
    assert_eq!(claim(&sweep), pvc["metadata"]["name"]);
    assert_eq!(claim(&merge), pvc["metadata"]["name"]);
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
}

/// AWS Batch replaces a whole `Ref::name` argument by the parameter.
fn batch_command(def: &serde_json::Value, params: &serde_json::Value) -> Vec<String> {
    strings(&def["containerProperties"]["command"])
        .into_iter()
        .map(|a| match a.strip_prefix("Ref::") {
            Some(p) => params[p]
                .as_str()
                .unwrap_or_else(|| panic!("no parameter {p}"))
                .to_string(),
            None => a,
        })
        .collect()
}

/// The AWS Batch files of each sharded command: (command, shard job definition, array
/// submission, merge job definition, merge submission).
const BATCH: [(&str, &str, &str, &str, Option<&str>); 3] = [
    (
        "sweep",
        "sweep-job-definition.json",
        "submit-sweep.json",
        "merge-job-definition.json",
        None,
    ),
    (
        "frontier",
        "frontier-job-definition.json",
        "submit-frontier.json",
        "frontier-merge-job-definition.json",
        Some("submit-frontier-merge.json"),
    ),
    (
        "plan",
        "plan-job-definition.json",
        "submit-plan.json",
        "merge-job-definition.json",
        Some("submit-plan-merge.json"),
    ),
];

fn batch(file: &str) -> serde_json::Value {
    json(&format!("deploy/aws-batch/{file}"))
}

/// The parameters a job runs with: its definition's, replaced by the submission's.
fn batch_params(def: &serde_json::Value, submit: Option<&serde_json::Value>) -> serde_json::Value {
    let mut params = def["parameters"].clone();
    if let Some(given) = submit.and_then(|s| s["parameters"].as_object()) {
        for (k, v) in given {
            params[k] = v.clone();
        }
    }
    params
}

#[test]
fn the_batch_array_jobs_agree_on_the_size() {
    for (command, def, submit, merge_def, merge_submit) in BATCH {
        let (def, submit) = (batch(def), batch(submit));
        assert_eq!(def["type"], "container", "{command}");
        assert_eq!(
            submit["jobDefinition"], def["jobDefinitionName"],
            "{command}"
        );
        let size = submit["arrayProperties"]["size"]
            .as_u64()
            .expect("arrayProperties.size");
        let mut outs = Vec::new();
        for params in [&def["parameters"], &submit["parameters"]] {
            let cmd = batch_command(&def, params);
            assert_eq!(cmd[0], command);
            assert_eq!(
                shard_count(&cmd),
                size,
                "{command}: --shard auto/N must name the array size"
            );
            let out = cmd[cmd.iter().position(|a| a == "--out").unwrap() + 1].clone();
            assert!(
                out.contains("{index}"),
                "{command}: every child writes its own folder: {out}"
            );
            outs.push(out);
        }
        // The merge: after every child (a dependency on the array job without `type`), reading
        // the folder the children write into.
        let merge = batch(merge_def);
        let merge_submit = merge_submit.map(batch);
        if let Some(m) = &merge_submit {
            assert_eq!(m["jobDefinition"], merge["jobDefinitionName"], "{command}");
            let deps = m["dependsOn"].as_array().expect("dependsOn");
            assert!(
                deps.len() == 1 && deps[0].get("type").is_none(),
                "{command}: {deps:?}"
            );
        }
        let margs = batch_command(&merge, &batch_params(&merge, merge_submit.as_ref()));
        assert_eq!(margs[0], "merge");
        let shards = Path::new(&outs[1]).parent().unwrap();
        assert_eq!(
            Path::new(&margs[1]),
            shards,
            "{command}: the merge reads the shards"
        );
        // A frontier's merge runs the rate search: its --threads are the vCPUs it asks for.
        if let Some(t) = margs.iter().position(|a| a == "--threads") {
            let vcpu = merge["containerProperties"]["resourceRequirements"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["type"] == "VCPU")
                .expect("VCPU")["value"]
                .clone();
            assert_eq!(vcpu, margs[t + 1].as_str(), "{command}");
        }
    }
}

/// The argument with `/data` (the shared volume) moved to `data`.
fn local(arg: &str, data: &Path) -> String {
    match arg.strip_prefix("/data") {
        Some(rest) => format!("{}{rest}", data.display()),
        None => arg.to_string(),
    }
}

const SCENARIO: &str = r#"
[scenario]
name = "deploy"
horizon_hours = 1
seed = 3
replications = 2

[[class]]
name = "chat"
model = "m"
route = ["ptu", "paygo"]
sla = { ttft_ms = 2000, percentile = 99 }
arrivals = { mean_rps = 3.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 2400 }
output_tokens = { dist = "lognormal", median = 200, p90 = 500 }

[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 800 }
reserved = { units = 4, tpm_per_unit = 60000, output_weight = 3, term = "monthly", max_wait_ms = 500, price_per_unit_hour = { monthly = 6.0 } }

[[deployment]]
name = "paygo"
platform = "custom"
model = "m"
latency = { median_ms = 450, p99_ms = 2500 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0 }

[sweep]
key = "deployment.ptu.reserved.units"
values = [2, 4, 6]

[plan]
max_units = 6

[frontier]
units = { ptu = [2, 4] }
routes = [["ptu", "paygo"], ["paygo"]]
"#;

/// Runs every worker of each stage in turn as its engine would (its index in `var`, its
/// arguments with the engine's substitutions), then the merge, and compares with the command
/// (the first stage's: sweep, frontier, plan) in one process.
fn run_like_the_engine(
    var: &str,
    stages: &[(u64, Vec<String>)],
    merge: &[String],
    subst: impl Fn(&str, u64) -> String,
) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("scenario.toml"), SCENARIO).unwrap();
    for (count, shard) in stages {
        for i in 0..*count {
            let args: Vec<String> = shard.iter().map(|a| local(&subst(a, i), &data)).collect();
            llmcap()
                .current_dir(tmp.path())
                .args(&args)
                .env(var, i.to_string())
                .assert()
                .success();
        }
    }
    let args: Vec<String> = merge.iter().map(|a| local(a, &data)).collect();
    llmcap()
        .current_dir(tmp.path())
        .args(&args)
        .arg("--quiet")
        .assert()
        .success();
    let out = &args[args.iter().position(|a| a == "--out").unwrap() + 1];
    let count: u64 = stages.iter().map(|s| s.0).sum();
    same_as_one_process(tmp.path(), &stages[0].1[0], Path::new(out), count);
}

/// Runs `command` on `dir`/data/scenario.toml in one process and compares its outputs with
/// `merged`'s, byte for byte but `manifest.shards` (`count`) in COMMAND.json.
#[track_caller]
fn same_as_one_process(dir: &Path, command: &str, merged: &Path, count: u64) {
    let one = dir.join("one");
    llmcap()
        .current_dir(dir)
        .args([
            command,
            dir.join("data/scenario.toml").to_str().unwrap(),
            "--out",
            "one",
            "--threads",
            "2",
            "--quiet",
        ])
        .assert()
        .success();
    assert_eq!(entries(&one), entries(merged));
    for f in entries(&one) {
        let (a, b) = (
            std::fs::read(one.join(&f)).unwrap(),
            std::fs::read(merged.join(&f)).unwrap(),
        );
        let b = if f == format!("{command}.json") {
            let field = format!(",\n    \"shards\": {count}\n");
            let text = String::from_utf8(b).unwrap();
            assert_eq!(text.matches(&field).count(), 1, "manifest.shards = {count}");
            text.replacen(&field, "\n", 1).into_bytes()
        } else {
            b
        };
        assert!(a == b, "{f} differs from the one-process {command}");
    }
}

#[test]
fn the_kubernetes_jobs_run_as_kubernetes_runs_them() {
    let sweep = yaml("deploy/k8s/sweep-job.yaml");
    let count = sweep["spec"]["completions"].as_u64().unwrap();
    let args = strings(&container(&sweep)["args"]);
    let merge = strings(&container(&yaml("deploy/k8s/merge-job.yaml"))["args"]);
    let var = format!("$({K8S_INDEX})");
    run_like_the_engine(K8S_INDEX, &[(count, args)], &merge, |a, i| {
        a.replace(&var, &i.to_string())
    });
}

#[test]
fn the_batch_jobs_run_as_aws_batch_runs_them() {
    // A frontier's merge reads its second round too (below).
    for (_, def, submit, merge_def, merge_submit) in BATCH.iter().filter(|b| b.0 != "frontier") {
        let (def, submit) = (batch(def), batch(submit));
        let count = submit["arrayProperties"]["size"].as_u64().unwrap();
        let args = batch_command(&def, &batch_params(&def, Some(&submit)));
        let m = batch(merge_def);
        let merge = batch_command(&m, &batch_params(&m, merge_submit.map(batch).as_ref()));
        run_like_the_engine(BATCH_INDEX, &[(count, args)], &merge, |a, _| a.to_string());
    }
}

/// The value after `flag` in `args`.
fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args.iter().position(|a| a == flag);
    &args[i.unwrap_or_else(|| panic!("{flag} in {args:?}")) + 1]
}

/// The folder each worker of `args` writes into: the parent of its --out.
fn shards_dir(args: &[String]) -> &Path {
    Path::new(after(args, "--out")).parent().unwrap()
}

#[test]
fn the_kubernetes_frontier_runs_in_two_rounds_as_kubernetes_runs_them() {
    let grid_job = yaml("deploy/k8s/frontier-job.yaml");
    let rates_job = yaml("deploy/k8s/frontier-rates-job.yaml");
    let mut stages = Vec::new();
    for job in [&grid_job, &rates_job] {
        assert_eq!(job["spec"]["completionMode"], "Indexed");
        let args = strings(&container(job)["args"]);
        assert_eq!(args[0], "frontier");
        let completions = job["spec"]["completions"].as_u64().unwrap();
        assert_eq!(
            shard_count(&args),
            completions,
            "--shard auto/N must name the Job's completions"
        );
        let out = after(&args, "--out");
        assert!(out.contains(&format!("$({K8S_INDEX})")), "{out}");
        stages.push((completions, args));
    }
    // Round 2 reads the grid's folder; the merge reads both rounds' folders, on its cores.
    let (grid, rates) = (&stages[0].1, &stages[1].1);
    assert_eq!(Path::new(after(rates, "--rates-after")), shards_dir(grid));
    assert_ne!(shards_dir(rates), shards_dir(grid));
    let merge_job = yaml("deploy/k8s/frontier-merge-job.yaml");
    let merge = strings(&container(&merge_job)["args"]);
    assert_eq!(merge[0], "merge");
    assert_eq!(
        [Path::new(&merge[1]), Path::new(&merge[2])],
        [shards_dir(grid), shards_dir(rates)]
    );
    assert_eq!(
        container(&merge_job)["resources"]["requests"]["cpu"].as_str(),
        Some(after(&merge, "--threads"))
    );
    let var = format!("$({K8S_INDEX})");
    run_like_the_engine(K8S_INDEX, &stages, &merge, |a, i| {
        a.replace(&var, &i.to_string())
    });
}

#[test]
fn the_batch_frontier_runs_in_two_rounds_as_aws_batch_runs_them() {
    let mut stages = Vec::new();
    let mut depends = Vec::new();
    for (def, submit) in [
        ("frontier-job-definition.json", "submit-frontier.json"),
        (
            "frontier-rates-job-definition.json",
            "submit-frontier-rates.json",
        ),
    ] {
        let (def, submit) = (batch(def), batch(submit));
        assert_eq!(submit["jobDefinition"], def["jobDefinitionName"]);
        let size = submit["arrayProperties"]["size"].as_u64().unwrap();
        for params in [&def["parameters"], &submit["parameters"]] {
            let cmd = batch_command(&def, params);
            assert_eq!((cmd[0].as_str(), shard_count(&cmd)), ("frontier", size));
            assert!(after(&cmd, "--out").contains("{index}"));
        }
        depends.push(submit["dependsOn"].clone());
        stages.push((
            size,
            batch_command(&def, &batch_params(&def, Some(&submit))),
        ));
    }
    let (grid, rates) = (&stages[0].1, &stages[1].1);
    assert_eq!(Path::new(after(rates, "--rates-after")), shards_dir(grid));
    // The rate array waits for the grid array, the merge for the rate array: each on the whole
    // array job (no `type`), each on another job.
    let merge_def = batch("frontier-merge-job-definition.json");
    let merge_submit = batch("submit-frontier-merge.json");
    assert_eq!(
        merge_submit["jobDefinition"],
        merge_def["jobDefinitionName"]
    );
    depends.push(merge_submit["dependsOn"].clone());
    assert!(depends[0].is_null(), "the grid waits for nothing");
    for d in &depends[1..] {
        let d = d.as_array().expect("dependsOn");
        assert!(d.len() == 1 && d[0].get("type").is_none(), "{d:?}");
    }
    assert_ne!(depends[1], depends[2]);
    let merge = batch_command(&merge_def, &batch_params(&merge_def, Some(&merge_submit)));
    assert_eq!(
        (
            merge[0].as_str(),
            Path::new(&merge[1]),
            Path::new(&merge[2])
        ),
        ("merge", shards_dir(grid), shards_dir(rates))
    );
    run_like_the_engine(BATCH_INDEX, &stages, &merge, |a, _| a.to_string());
}

/// A stand-in for `sbatch` that runs a job at once, each array task in turn with Slurm's array
/// variables, and prints a job id (`--parsable`); it logs each `--dependency` to $SBATCH_LOG.
const FAKE_SBATCH: &str = r#"#!/bin/bash
set -euo pipefail
array=""
while [ $# -gt 1 ]; do
  case "$1" in
    --array=*) array=${1#--array=} ;;
    --dependency=*) echo "${1#--dependency=}" >> "$SBATCH_LOG" ;;
  esac
  shift
done
id=$(( $(wc -l < "$SBATCH_LOG.ids" 2>/dev/null || echo 0) + 100 ))
echo "$id" >> "$SBATCH_LOG.ids"
if [ -n "$array" ]; then
  lo=${array%-*} hi=${array#*-}
  for i in $(seq "$lo" "$hi"); do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$lo SLURM_ARRAY_TASK_COUNT=$((hi - lo + 1)) \
      bash "$1" > /dev/null
  done
else
  bash "$1" > /dev/null
fi
echo "$id"
"#;

#[test]
fn the_slurm_frontier_submits_two_arrays_and_a_merge_in_order() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("scenario.toml"), SCENARIO).unwrap();
    let sbatch = dir.join("bin/sbatch");
    std::fs::write(&sbatch, FAKE_SBATCH).unwrap();
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap()
    );
    let log = dir.join("sbatch.log");
    let status = std::process::Command::new("bash")
        .arg(repo("deploy/slurm/submit-frontier.sh"))
        .args(["2", "3"])
        .arg(data.join("scenario.toml"))
        .arg(data.join("shards"))
        .arg(dir.join("merged"))
        .env("PATH", path)
        .env("SBATCH_LOG", &log)
        // The tasks' --threads, as sbatch --cpus-per-task=2 sets it (the one process runs on 2).
        .env("SLURM_CPUS_PER_TASK", "2")
        .env("LLMCAP", assert_cmd::cargo::cargo_bin("llmcap"))
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success());
    // The rate array after the grid array (job 100), the merge after the rate array (101).
    let deps = std::fs::read_to_string(&log).unwrap();
    assert_eq!(deps, "afterok:100\nafterok:101\n");
    assert_eq!(entries(&data.join("shards")), ["grid", "rates"]);
    assert_eq!(entries(&data.join("shards/rates")), ["0", "1", "2"]);
    same_as_one_process(dir, "frontier", &dir.join("merged"), 5);
}
