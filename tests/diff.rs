//! `llmcap diff`: the shipped bill-jump pair explained, self-diffs, attribution verdicts, bad input folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::common::{command_ok, entries, llmcap};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Runs the shipped bill_jump_before / bill_jump_after scenarios on a short
/// horizon into `dir`/before and `dir`/after.
fn bill_jump(dir: &Path) -> (PathBuf, PathBuf) {
    let mut out = Vec::new();
    for name in ["bill_jump_before", "bill_jump_after"] {
        let o = dir.join(name.trim_start_matches("bill_jump_"));
        command_ok(
            "run",
            &repo(&format!("scenarios/{name}.toml")),
            &o,
            &["--horizon-hours", "6", "--replications", "2"],
        );
        out.push(o);
    }
    (out[0].clone(), out[1].clone())
}

#[derive(Debug)]
struct CsvRow {
    rank: usize,
    kind: String,
    key: String,
    delta: f64,
    share: f64,
    native: String,
    gateway: String,
    note: String,
}

/// `llmcap diff A B --out OUT`, returning stdout and diff.csv's rows.
fn diff_ok(a: &Path, b: &Path, out: &Path) -> (String, Vec<CsvRow>) {
    let o = llmcap()
        .args(["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--out"])
        .arg(out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&o.get_output().stdout).into_owned();
    let mut r = csv::Reader::from_path(out.join("diff.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        llmcap::report::diff::COLUMNS
    );
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            CsvRow {
                rank: rec[0].parse().unwrap(),
                kind: rec[1].to_string(),
                key: rec[2].to_string(),
                delta: rec[5].parse().unwrap(),
                share: rec[6].parse().unwrap(),
                native: rec[7].to_string(),
                gateway: rec[8].to_string(),
                note: rec[9].to_string(),
            }
        })
        .collect();
    assert!(out.join("diff.md").exists());
    (stdout, rows)
}

fn total_cost(dir: &Path) -> f64 {
    let mut r = csv::Reader::from_path(dir.join("hourly.csv")).unwrap();
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "cost_total_usd")
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap()[col].parse::<f64>().unwrap())
        .sum()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// The lesson's case: same traffic, one feature's prompt grew. The changed
/// feature ranks first with almost all of the change, requests do not move,
/// and each kind's deltas add up to the total change.
#[test]
fn bill_jump_ranks_the_changed_feature_first_with_no_traffic_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = bill_jump(tmp.path());
    let (stdout, rows) = diff_ok(&a, &b, &tmp.path().join("diff"));
    let total = total_cost(&b) - total_cost(&a);
    assert!(
        total_cost(&b) / total_cost(&a) > 3.0,
        "the shipped pair should show a ~4x jump"
    );
    assert!(stdout.contains("no traffic change"), "{stdout}");

    let first = |kind: &str| rows.iter().find(|r| r.kind == kind && r.rank == 1).unwrap();
    let class = first("class");
    assert_eq!(class.key, "doc-summary");
    assert!(class.share > 0.95, "{class:?}");
    let tag = first("tag");
    assert_eq!(tag.key, "feature=doc-summary");
    assert!(tag.share > 0.95, "{tag:?}");
    // The runs carry attribution.csv: Bedrock's profiles split features natively.
    assert!(
        tag.native
            .starts_with("bedrock: native (application inference profiles"),
        "{tag:?}"
    );
    let comp = first("component");
    assert!(
        comp.key.contains("claude-sonnet-4 on-demand input tokens"),
        "{comp:?}"
    );
    assert!(comp.note.contains("requests"), "{comp:?}");

    // Requests: identical arrivals (same seed, same rates), so the volume
    // part of every class's change is zero.
    let sa = crate::common::read_json(&a.join("summary.json"));
    let sb = crate::common::read_json(&b.join("summary.json"));
    assert_eq!(sa["requests"]["arrived"], sb["requests"]["arrived"]);
    for r in rows.iter().filter(|r| r.kind == "traffic") {
        assert!(r.delta.abs() < 1e-6, "{r:?}");
    }

    // Each kind (each tag dimension) adds up to the total change.
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind != "traffic") {
        let group = match r.kind.as_str() {
            "tag" => format!("tag {}", r.key.split('=').next().unwrap()),
            k => k.to_string(),
        };
        *sums.entry(group).or_default() += r.delta;
    }
    for k in [
        "class",
        "tag feature",
        "tag team",
        "deployment",
        "component",
        "hour",
    ] {
        let s = sums[k];
        assert!(
            (s - total).abs() < 1e-3 * total.abs().max(1.0),
            "{k}: rows add up to {s}, total change {total}"
        );
    }
}

/// A run compared with itself: every delta and share is zero.
#[test]
fn self_diff_is_all_zeros() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = bill_jump(tmp.path());
    let (stdout, rows) = diff_ok(&a, &a, &tmp.path().join("self"));
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r.delta, 0.0, "{r:?}");
        assert_eq!(r.share, 0.0, "{r:?}");
    }
    assert!(stdout.contains("(1.00x, +$0.00)"), "{stdout}");
    let md = std::fs::read_to_string(tmp.path().join("self/diff.md")).unwrap();
    assert!(md.contains("Nothing changed"), "{md}");
}

/// Which bill shows the tag row: native when the platform's mechanism splits
/// the dimension (Bedrock application inference profiles), and not when the
/// cost is resource-scoped on one shared deployment (Azure-style), where only
/// a gateway would. A folder without attribution.csv says it does not know.
#[test]
fn tag_rows_say_which_attribution_reveals_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = bill_jump(tmp.path());
    let header = "platform,dimension,mechanism,granularity_hours,cost_usd,native_usd,gateway_usd,unattributed_usd,native_share,with_gateway_share,unattributable_share,reason\n";
    let case = |name: &str, native: f64, reason: &str| {
        let mut dirs = Vec::new();
        for (src, side) in [(&a, "a"), (&b, "b")] {
            let d = tmp.path().join(format!("{name}-{side}"));
            copy_dir(src, &d);
            // Each dimension splits the run's whole bill (diff checks that it adds up).
            let total = crate::common::read_json(&d.join("summary.json"))["cost"]["total_usd"]
                ["mean"]
                .as_f64()
                .unwrap();
            let mut text = header.to_string();
            for dim in ["team", "product", "feature"] {
                text.push_str(&format!(
                    "bedrock,{dim},application inference profiles,24,{total},{n},{g},0,{native},1,0,{reason}\n",
                    n = total * native,
                    g = total * (1.0 - native)
                ));
            }
            std::fs::write(d.join("attribution.csv"), text).unwrap();
            dirs.push(d);
        }
        let (_, rows) = diff_ok(&dirs[0], &dirs[1], &tmp.path().join(format!("{name}-diff")));
        rows.into_iter()
            .find(|r| r.kind == "tag" && r.key == "feature=doc-summary")
            .unwrap()
    };
    let native = case("native", 1.0, "one profile per feature");
    assert!(
        native
            .native
            .starts_with("bedrock: native (application inference profiles, "),
        "{native:?}"
    );
    let shared = case("shared", 0.0, "resource-scoped: one shared deployment");
    assert!(shared.native.starts_with("bedrock: no"), "{shared:?}");
    assert!(
        shared.native.contains("one shared deployment"),
        "{shared:?}"
    );
    assert_eq!(shared.gateway, "yes");

    // Without attribution.csv (an older llmcap): unknown, and said so.
    for d in [&a, &b] {
        let _ = std::fs::remove_file(d.join("attribution.csv"));
    }
    let (stdout, rows) = diff_ok(&a, &b, &tmp.path().join("old"));
    let tag = rows
        .iter()
        .find(|r| r.kind == "tag" && r.key == "feature=doc-summary")
        .unwrap();
    assert!(
        tag.native.contains("unknown (no attribution.csv"),
        "{tag:?}"
    );
    assert!(stdout.contains("has no attribution.csv"), "{stdout}");
}

/// Bad input folders exit 2 with a message naming the path, and write nothing.
#[test]
fn bad_input_folders_exit_2_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _) = bill_jump(tmp.path());
    let not_ours = tmp.path().join("notes");
    std::fs::create_dir(&not_ours).unwrap();
    std::fs::write(not_ours.join("thesis.txt"), "x").unwrap();
    let truncated = tmp.path().join("truncated");
    copy_dir(&a, &truncated);
    let text = std::fs::read_to_string(a.join("cost_by_tag.csv")).unwrap();
    // Cut in the middle of a row, after its second field.
    let mid = text[text.len() / 2..].find('\n').unwrap() + text.len() / 2 + 1;
    let cut = mid + text[mid..].match_indices(',').nth(1).unwrap().0;
    std::fs::write(truncated.join("cost_by_tag.csv"), &text[..cut]).unwrap();
    let no_focus = tmp.path().join("nofocus");
    copy_dir(&a, &no_focus);
    std::fs::remove_file(no_focus.join("focus.csv")).unwrap();
    let cases: [(PathBuf, &str); 4] = [
        (tmp.path().join("missing"), "no such folder"),
        (not_ours.clone(), "not an llmcap run folder"),
        (truncated.join("cost_by_tag.csv"), "malformed CSV"),
        (no_focus.join("focus.csv"), "cannot read the file"),
    ];
    let before = entries(tmp.path());
    for (bad, why) in &cases {
        let folder = if bad.extension().is_some() {
            bad.parent().unwrap()
        } else {
            bad.as_path()
        };
        let out = tmp.path().join("out");
        llmcap()
            .args([
                "diff",
                a.to_str().unwrap(),
                folder.to_str().unwrap(),
                "--out",
            ])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(bad.to_str().unwrap()))
            .stderr(predicate::str::contains(*why));
        assert_eq!(entries(tmp.path()), before, "{why}: something was written");
    }
}

/// Runs without tags write a header-only attribution.csv; two of them diff fine, and the
/// request counts diff reports are the runs' own.
#[test]
fn untagged_runs_diff_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for seed in ["1", "2"] {
        let o = tmp.path().join(format!("seed{seed}"));
        command_ok(
            "run",
            &repo("scenarios/queueing_check.toml"),
            &o,
            &[
                "--horizon-hours",
                "2",
                "--replications",
                "1",
                "--seed",
                seed,
            ],
        );
        let attribution = std::fs::read_to_string(o.join("attribution.csv")).unwrap();
        assert_eq!(attribution.lines().count(), 1, "header only: {attribution}");
        dirs.push(o);
    }
    let (stdout, rows) = diff_ok(&dirs[0], &dirs[1], &tmp.path().join("d"));
    assert!(!rows.is_empty(), "{stdout}");
    let arrived = |d: &Path| {
        crate::common::read_json(&d.join("summary.json"))["requests"]["arrived"]
            .as_f64()
            .unwrap()
    };
    let (a, b) = (arrived(&dirs[0]), arrived(&dirs[1]));
    let grouped = |v: f64| {
        let s = format!("{v:.0}");
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert!(
        stdout.contains(&format!("requests {} -> {}", grouped(a), grouped(b))),
        "{stdout}"
    );
}

/// A tagged class on a platform outside the catalog writes attribution.csv with an
/// empty granularity_hours (there is no native mechanism); diff reads it. Found by the
/// property test over random scenarios.
#[test]
fn custom_platform_with_tags_diffs_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = crate::common::write(
        tmp.path(),
        "custom.toml",
        r#"[scenario]
name = "custom"
horizon_hours = 1
[[class]]
name = "c0"
model = "m"
route = ["d"]
tags = { team = "t0" }
arrivals = { mean_rps = 1.0 }
input_tokens = { dist = "fixed", value = 100 }
output_tokens = { dist = "fixed", value = 10 }
[[deployment]]
name = "d"
platform = "custom"
model = "m"
latency = { median_ms = 100, p99_ms = 300 }
on_demand = { input_per_1m = 1, output_per_1m = 2 }
"#,
    );
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    command_ok("run", &scenario, &a, &[]);
    command_ok("run", &scenario, &b, &["--seed", "5"]);
    let attribution = std::fs::read_to_string(a.join("attribution.csv")).unwrap();
    assert!(attribution.contains("custom,team,none,,"), "{attribution}");
    let (stdout, rows) = diff_ok(&a, &b, &tmp.path().join("d"));
    assert!(!rows.is_empty(), "{stdout}");
}

/// Beside the cost, diff compares the service: one deployment with a constant 200 ms TTFT at 1
/// request/s for an hour (3,599 arrivals), and in B a full outage over [900 s, 1350 s) with no
/// fallback: 450 requests error, availability 100% -> 3,149 / 3,599 = 87.50%, p99 unchanged.
#[test]
fn diff_reports_the_change_in_p99_and_availability() {
    let tmp = tempfile::tempdir().unwrap();
    let text = |tail: &str| {
        format!(
            r#"
[scenario]
name = "service"
horizon_hours = 1
seed = 3
replications = 1
[client]
max_attempts = 1
[[class]]
name = "c"
model = "m"
route = ["only"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}
[[deployment]]
name = "only"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 1.0, output_per_1m = 1.0 }}
{tail}
"#
        )
    };
    let mut runs = Vec::new();
    for (name, tail) in [
        ("up", ""),
        (
            "down",
            "[[outage]]\ndeployments = [\"only\"]\nstart_hour = 0.25\nduration_hours = 0.125\neffect = \"full\"\n",
        ),
    ] {
        let sc = crate::common::write(tmp.path(), &format!("{name}.toml"), &text(tail));
        let out = tmp.path().join(name);
        command_ok("run", &sc, &out, &[]);
        runs.push(out);
    }
    let (stdout, _) = diff_ok(&runs[0], &runs[1], &tmp.path().join("diff"));
    for want in [
        "availability 100.00% -> 87.50% (-12.50 points)",
        "(0 ms)",
        "errored 0 -> 450",
    ] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    let md = std::fs::read_to_string(tmp.path().join("diff/diff.md")).unwrap();
    assert!(
        md.contains("Availability") || md.contains("availability 100.00%"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("diff/diff.json")).unwrap()).unwrap();
    assert_eq!(json["service"]["b"]["errored"].as_f64(), Some(450.0));
    let p99 = json["service"]["a"]["ttft_p99_ms"].as_f64().unwrap();
    assert!((p99 / 200.0 - 1.0).abs() < 0.02, "p99 {p99}");
}

/// `open_against` (B read against an A read once, as the fuzzer does) reads B as `open` does,
/// and declines when B holds fewer hours than A (A must be read again over the common hours).
#[test]
fn open_against_reads_b_as_open_does() {
    use llmcap::analysis::diff::{open, open_against};
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = bill_jump(tmp.path());
    let (ra, rb) = open(&a, &b).unwrap();
    let again = open_against(&ra, &b).unwrap().expect("B holds A's hours");
    assert_eq!(format!("{again:?}"), format!("{rb:?}"));
    let short = tmp.path().join("short");
    command_ok(
        "run",
        &repo("scenarios/bill_jump_after.toml"),
        &short,
        &["--horizon-hours", "3", "--replications", "2"],
    );
    assert!(open_against(&ra, &short).unwrap().is_none());
    let (ra3, _) = open(&a, &short).unwrap();
    assert_eq!(ra3.hours, 3);
    // An A read over fewer hours than its own cannot stand for the whole folder.
    assert!(open_against(&ra3, &b).unwrap().is_none());
}

/// `llmcap run scenario --horizon-hours 24 --out dir EXTRA...`.
fn run_24h(scenario: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec!["--horizon-hours", "24"];
    args.extend_from_slice(extra);
    command_ok("run", scenario, out, &args);
}

/// hourly.csv's cost of the rows with pool `batch`, summed by hand.
fn batch_rows_cost(dir: &Path) -> f64 {
    let mut r = csv::Reader::from_path(dir.join("hourly.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (pool, cost) = (col("pool"), col("cost_total_usd"));
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| &rec[pool] == "batch")
        .map(|rec| rec[cost].parse::<f64>().unwrap())
        .sum()
}

/// Every kind's rows (and each tag dimension's) add up to the whole change.
fn kinds_add_up(rows: &[CsvRow], total: f64) {
    for kind in ["class", "deployment", "component", "hour"] {
        let sum: f64 = rows
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.delta)
            .sum();
        assert!(
            (sum - total).abs() < 0.01 + 1e-6 * total.abs(),
            "{kind}: {sum} vs {total}"
        );
    }
    let mut dims: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == "tag") {
        *dims
            .entry(r.key.split('=').next().unwrap().to_string())
            .or_default() += r.delta;
    }
    assert!(!dims.is_empty());
    for (d, sum) in dims {
        assert!(
            (sum - total).abs() < 0.01 + 1e-6 * total.abs(),
            "tag {d}: {sum} vs {total}"
        );
    }
}

/// Issue 16: two runs with a batch deployment (summary.json lists it under `batch`, not
/// `deployments`) diff fine; the batch deployment's change is its hourly.csv rows' change.
#[test]
fn runs_with_a_batch_deployment_diff_and_show_its_cost_and_completion() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo("scenarios/batch_offload.toml");
    let (a, b) = (tmp.path().join("bo1"), tmp.path().join("bo2"));
    run_24h(&scenario, &a, &[]);
    run_24h(&scenario, &b, &["--seed", "7"]);
    let out = tmp.path().join("diff");
    let (stdout, rows) = diff_ok(&a, &b, &out);

    let (ca, cb) = (batch_rows_cost(&a), batch_rows_cost(&b));
    assert!(ca > 0.0 && cb > 0.0, "{ca} {cb}");
    let dep = rows
        .iter()
        .find(|r| r.kind == "deployment" && r.key == "batch (azure-openai)")
        .unwrap();
    assert!(
        (dep.delta - (cb - ca)).abs() < 1e-3,
        "{dep:?} vs {ca} -> {cb}"
    );
    assert!(dep.note.contains("(batch)"), "{dep:?}");
    let json = crate::common::read_json(&out.join("diff.json"));
    let row = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "deployment" && r["key"] == "batch (azure-openai)")
        .unwrap();
    assert!((row["a_usd"].as_f64().unwrap() - ca).abs() < 1e-3, "{row}");
    assert!((row["b_usd"].as_f64().unwrap() - cb).abs() < 1e-3, "{row}");
    // The whole bill includes the batch rows, and every kind splits it.
    let total = total_cost(&b) - total_cost(&a);
    assert!((json["delta_usd"].as_f64().unwrap() - total).abs() < 1e-3);
    kinds_add_up(&rows, total);
    // Batch tokens are their own components; the batch class is a class row with its completion.
    let comp: f64 = rows
        .iter()
        .filter(|r| {
            r.kind == "component" && r.key.starts_with("batch (azure-openai): gpt-4o batch")
        })
        .map(|r| r.delta)
        .sum();
    assert!((comp - (cb - ca)).abs() < 1e-3, "{comp} vs {}", cb - ca);
    let class = rows
        .iter()
        .find(|r| r.kind == "class" && r.key == "doc-summaries")
        .unwrap();
    assert!(class.note.contains("completion p99"), "{class:?}");
    assert!(class.note.contains("24 h window"), "{class:?}");
    // Completion against the window, from each summary.json's batch section.
    let batch = json["batch"].as_array().unwrap();
    assert_eq!(batch.len(), 1);
    let sa = crate::common::read_json(&a.join("summary.json"));
    let p99 = &sa["batch"]["classes"][0]["completion_p99_hours"];
    assert_eq!(&batch[0]["a"]["completion_p99_hours"], p99);
    assert!(stdout.contains("batch class doc-summaries:"), "{stdout}");
    assert!(stdout.contains("batch deployments"), "{stdout}");
}

/// A design with and without a batch deployment: A sends the documents to global standard, B to
/// Global Batch. The batch deployment is only in B, and diff says so.
#[test]
fn a_batch_deployment_added_is_diffed_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/batch_offload.toml")).unwrap();
    let cut = text.find("[[deployment]]\nname = \"batch\"").unwrap();
    let without = text[..cut]
        .replace("deferrable = true", "")
        .replace("completion_sla_hours = 12", "")
        .replace("route = [\"batch\"]", "route = [\"standard\"]");
    let plain = crate::common::write(tmp.path(), "no_batch.toml", &without);
    let (a, b) = (tmp.path().join("plain"), tmp.path().join("batch"));
    run_24h(&plain, &a, &[]);
    run_24h(&repo("scenarios/batch_offload.toml"), &b, &[]);
    assert_eq!(batch_rows_cost(&a), 0.0);
    let cb = batch_rows_cost(&b);
    assert!(cb > 0.0);

    let (stdout, rows) = diff_ok(&a, &b, &tmp.path().join("diff"));
    let dep = rows
        .iter()
        .find(|r| r.kind == "deployment" && r.key == "batch (azure-openai)")
        .unwrap();
    assert!((dep.delta - cb).abs() < 1e-3, "{dep:?} vs {cb}");
    assert!(dep.note.contains("only in B"), "{dep:?}");
    assert!(
        stdout.contains(
            "batch deployment \"batch\" only in B (B added it): its classes are billed at batch prices in B (class(es) doc-summaries)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("batch class doc-summaries: none ->"),
        "{stdout}"
    );
    kinds_add_up(&rows, total_cost(&b) - total_cost(&a));
    // The other way round: B dropped it.
    let (stdout, _) = diff_ok(&b, &a, &tmp.path().join("back"));
    assert!(
        stdout.contains("batch deployment \"batch\" only in A (B dropped it)"),
        "{stdout}"
    );
}

/// A deployment in neither summary.json's deployments nor its batch section is still refused, and
/// so is a batch deployment's row whose pool is not `batch`.
#[test]
fn unknown_deployments_are_still_refused_beside_batch_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo("scenarios/batch_offload.toml");
    let a = tmp.path().join("a");
    run_24h(&scenario, &a, &[]);
    let edit = |name: &str, from: &str, to: &str| -> PathBuf {
        let d = tmp.path().join(name);
        copy_dir(&a, &d);
        let text = std::fs::read_to_string(d.join("hourly.csv")).unwrap();
        assert!(text.contains(from));
        std::fs::write(d.join("hourly.csv"), text.replacen(from, to, 1)).unwrap();
        d
    };
    let ghost = edit(
        "ghost",
        ",batch,azure-openai,batch,",
        ",ghost,azure-openai,batch,",
    );
    let pool = edit(
        "pool",
        ",batch,azure-openai,batch,",
        ",batch,azure-openai,on_demand,",
    );
    let cases = [
        (
            &ghost,
            "line 4: column deployment: \"ghost\" is not a deployment of summary.json (allowed: \"batch\", \"ptu\", \"standard\")",
        ),
        (
            &pool,
            "line 4: column pool: deployment \"batch\" has pool \"on_demand\", but summary.json's batch section lists it",
        ),
    ];
    for (bad, why) in cases {
        llmcap()
            .args(["diff", a.to_str().unwrap(), bad.to_str().unwrap(), "--out"])
            .arg(tmp.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                bad.join("hourly.csv").to_str().unwrap(),
            ))
            .stderr(predicate::str::contains(why));
        assert!(!tmp.path().join("out").exists());
    }
}
