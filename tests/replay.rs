//! Trace replay: the readers on the public traces (read from ../shared/traces/, skipped when it is not there) and the shipped sample, per-hour totals replayed exactly, time and rate scaling, offset, tiling, the model filter, bad rows (stop / skip) and the input checks of `[class.arrivals] trace`.
//!
//! The expected numbers come from reading the trace files here, with a parser
//! of our own (timestamps as exact 100 ns ticks), never from llmcap's reader.
//! Replay maps a row at trace time t to simulated microseconds
//! round((t - t0) / time_scale * 1e6) (+ offset, + pass * period when tiled),
//! which this file computes in integers; a row that lands within a few
//! microseconds of an hour (or horizon) boundary would make that rounding
//! matter, so the tests first check that none does.

use std::path::{Path, PathBuf};

use llmcap::analysis::run::run;
use llmcap::domain::trace::{BadRowKind, CsvMapping, TimeUnit, TraceFormat, TraceRecord};
use llmcap::domain::Scenario;
use llmcap::input::trace::TraceReader;
use llmcap::model::rng::{stream, Purpose, SimRng};
use llmcap::model::traffic::TraceArrivals;
use predicates::prelude::*;

use crate::common::{
    assert_same_results, command_ok, llmcap, public_trace, read_json, scenario, write,
};

const US_PER_HOUR: i64 = 3_600_000_000;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A trace in the repository (llmcap's own samples, not public data).
fn shipped(name: &str) -> PathBuf {
    repo("scenarios/traces").join(name)
}

// ---------------------------------------------------------------------------
// An independent reading of the Azure traces.

/// One row of an Azure trace, read here: its time in 100 ns ticks since
/// 1970-01-01 UTC (exact: the files have 7 decimals) and its token counts.
#[derive(Debug, Clone, Copy)]
struct Row {
    ticks: i64,
    input: u64,
    output: u64,
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// "YYYY-MM-DD HH:MM:SS[.fffffff]" as 100 ns ticks since 1970 (UTC).
fn ticks(s: &str) -> i64 {
    let (date, time) = s.trim().split_once(' ').expect("date and time");
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    assert!(d.len() == 3 && t.len() == 3 && frac.len() <= 7, "{s}");
    let frac: i64 = format!("{frac:0<7}").parse().unwrap();
    let mut days: i64 = (1970..d[0]).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let feb = if leap(d[0]) { 29 } else { 28 };
    let months = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    days += months[..(d[1] - 1) as usize].iter().sum::<i64>() + d[2] - 1;
    (days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * 10_000_000 + frac
}

/// The data rows of an Azure-format CSV (TIMESTAMP, ContextTokens, GeneratedTokens).
fn azure_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}').trim(),
        "TIMESTAMP,ContextTokens,GeneratedTokens"
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            Row {
                ticks: ticks(f[0]),
                input: f[1].trim().parse().unwrap(),
                output: f[2].trim().parse().unwrap(),
            }
        })
        .collect()
}

/// The Azure conversation trace's path and rows (None, said, when it is not there).
fn conv(test: &str) -> Option<(PathBuf, Vec<Row>)> {
    let path = public_trace("azure2023_conv.csv", test)?;
    let rows = azure_rows(&path);
    assert_eq!(rows.len(), 19_366, "the conversation trace's size");
    assert!(rows.windows(2).all(|w| w[0].ticks <= w[1].ticks), "sorted");
    Some((path, rows))
}

/// Simulated microseconds of a row `d` ticks after the trace's first, replayed
/// at time_scale = num / den: round(d / 10 / time_scale), halves up, exact.
fn replay_us(d: i64, num: i64, den: i64) -> i64 {
    (2 * d * den + 10 * num).div_euclid(20 * num)
}

/// The same without rounding (for the distance to a boundary).
fn replay_exact_us(d: i64, num: i64, den: i64) -> f64 {
    d as f64 * den as f64 / (10.0 * num as f64)
}

/// Asserts that no time in `times_us` (exact, unrounded) but 0 is within
/// `margin` microseconds of a multiple of `step_us`: then floating-point rounding in
/// llmcap cannot move a request across a boundary the test counts on.
#[track_caller]
fn clear_of_boundaries(times_us: impl IntoIterator<Item = f64>, step_us: i64, margin: f64) {
    for t in times_us {
        if t == 0.0 {
            continue; // the first row: exactly at the start in any arithmetic
        }
        let r = t.rem_euclid(step_us as f64);
        assert!(
            r > margin && step_us as f64 - r > margin,
            "a row lands {r} us from a boundary: the test's premise fails"
        );
    }
}

/// Requests, input and output tokens per hour.
type Hours = Vec<[u64; 3]>;

fn bucket(rows: &[Row], times_us: &[i64], hours: usize) -> Hours {
    let mut v = vec![[0u64; 3]; hours];
    for (r, &t) in rows.iter().zip(times_us) {
        let h = (t / US_PER_HOUR) as usize;
        if h < hours {
            v[h][0] += 1;
            v[h][1] += r.input;
            v[h][2] += r.output;
        }
    }
    v
}

// ---------------------------------------------------------------------------
// Scenarios.

/// A TOML literal string holding a path.
fn lit(p: &Path) -> String {
    let s = p.to_str().unwrap();
    assert!(!s.contains('\''), "{s}");
    format!("'{s}'")
}

/// A scenario of `hours` hours, one replication, seed `seed`, a client with one
/// attempt, one class "c" (model "m") whose `[class.arrivals]` table holds
/// `arrivals`, routed by equal weight over two "custom" on-demand deployments
/// "a" and "b" without quotas or shared-pool load (TTFT 200 ms): every request
/// is served when it arrives.
fn replay_text(hours: u32, seed: u64, arrivals: &str) -> String {
    let mut s = format!(
        r#"
[scenario]
name = "replay"
horizon_hours = {hours}
seed = {seed}
replications = 1

[client]
max_attempts = 1

[[class]]
name = "c"
model = "m"
route = ["a", "b"]
routing = "weighted"
weights = [1, 1]
[class.arrivals]
{arrivals}
"#
    );
    for d in ["a", "b"] {
        s.push_str(&format!(
            r#"
[[deployment]]
name = "{d}"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 1.0, output_per_1m = 2.0 }}
"#
        ));
    }
    s
}

/// The arrivals table of the Azure conversation trace at `path`, plus `more`.
fn conv_arrivals(path: &Path, more: &str) -> String {
    format!("trace = {}\nformat = \"azure\"\n{more}", lit(path))
}

/// Arrivals per hour of class 0 in a single-replication run.
fn arrivals_per_hour(sc: &Scenario) -> Vec<u64> {
    let m = run(sc, 1, None).pooled();
    (0..m.hours as usize).map(|h| m.arrivals_in(h, 0)).collect()
}

/// Every (time, input, output) the class-0 trace of `sc` replays before the horizon.
fn replayed(sc: &Scenario, seed_key: u64) -> Vec<(u64, u32, u32)> {
    let src = sc.classes[0].trace.as_ref().expect("a trace class");
    let mut t = TraceArrivals::new(src, llmcap::input::trace::open_rows);
    let mut rng: SimRng = stream(sc.seed, 0, Purpose::Arrivals, seed_key);
    let mut v = Vec::new();
    while let Some(x) = t.next(sc.horizon_us(), &mut rng) {
        v.push(x);
    }
    v
}

/// Reads a CSV output file into its header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// hourly.csv summed over deployments: requests, input and output tokens per
/// hour (a single replication, so whole numbers), and the per-deployment requests.
fn hourly_totals(out: &Path) -> (Hours, Vec<Vec<u64>>) {
    let (h, rows) = read_csv(&out.join("hourly.csv"));
    let (hi, ri, ii, oi) = (
        col(&h, "hour"),
        col(&h, "requests"),
        col(&h, "input_tokens"),
        col(&h, "output_tokens"),
    );
    let whole = |s: &str| {
        let v: f64 = s.parse().unwrap();
        assert_eq!(v.fract(), 0.0, "one replication gives whole numbers: {s}");
        v as u64
    };
    let mut totals: Hours = Vec::new();
    let mut per_dep: Vec<Vec<u64>> = Vec::new();
    for r in &rows {
        let hour: usize = r[hi].parse().unwrap();
        if totals.len() <= hour {
            totals.resize(hour + 1, [0; 3]);
            per_dep.resize(hour + 1, Vec::new());
        }
        totals[hour][0] += whole(&r[ri]);
        totals[hour][1] += whole(&r[ii]);
        totals[hour][2] += whole(&r[oi]);
        per_dep[hour].push(whole(&r[ri]));
    }
    (totals, per_dep)
}

/// arrivals.csv's `arrivals` column per hour for `class`, and the `expected` column.
fn arrivals_csv(out: &Path, class: &str) -> (Vec<f64>, Vec<f64>) {
    let (h, rows) = read_csv(&out.join("arrivals.csv"));
    let (ci, ai, ei) = (col(&h, "class"), col(&h, "arrivals"), col(&h, "expected"));
    let mine: Vec<&Vec<String>> = rows.iter().filter(|r| r[ci] == class).collect();
    (
        mine.iter().map(|r| r[ai].parse().unwrap()).collect(),
        mine.iter().map(|r| r[ei].parse().unwrap()).collect(),
    )
}

// ---------------------------------------------------------------------------
// 1. Per-hour totals.

#[test]
fn azure_conv_replayed_four_times_slower_gives_the_traces_hourly_totals() {
    let Some((path, rows)) =
        conv("azure_conv_replayed_four_times_slower_gives_the_traces_hourly_totals")
    else {
        return;
    };
    let t0 = rows[0].ticks;
    // time_scale = 0.25 = 1 / 4: the 58-minute trace covers ~3.9 simulated hours.
    let times: Vec<i64> = rows.iter().map(|r| replay_us(r.ticks - t0, 1, 4)).collect();
    clear_of_boundaries(
        rows.iter().map(|r| replay_exact_us(r.ticks - t0, 1, 4)),
        US_PER_HOUR,
        10.0,
    );
    assert!(*times.last().unwrap() < 4 * US_PER_HOUR, "fits in 4 h");
    let want = bucket(&rows, &times, 4);
    assert!(
        want.iter().all(|h| h[0] > 1000),
        "every hour has traffic: {want:?}"
    );
    assert_eq!(want.iter().map(|h| h[0]).sum::<u64>(), rows.len() as u64);

    let tmp = tempfile::tempdir().unwrap();
    let sc = write(
        tmp.path(),
        "replay.toml",
        &replay_text(4, 7, &conv_arrivals(&path, "time_scale = 0.25")),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);

    let (got, per_dep) = hourly_totals(&out);
    assert_eq!(got.len(), 4, "four hours in hourly.csv");
    for h in 0..4 {
        assert_eq!(
            got[h], want[h],
            "hour {h}: [requests, input tokens, output tokens] in hourly.csv vs the trace"
        );
        // Both deployments carry part of it (the sum is a real sum).
        assert!(per_dep[h].iter().all(|&r| r > 0), "hour {h}: {per_dep:?}");
    }
    let (arrivals, _) = arrivals_csv(&out, "c");
    let want_arrivals: Vec<f64> = want.iter().map(|h| h[0] as f64).collect();
    assert_eq!(arrivals, want_arrivals, "arrivals.csv per hour");

    let s = read_json(&out.join("summary.json"));
    let r = &s["requests"];
    assert_eq!(r["arrived"].as_f64(), Some(rows.len() as f64));
    assert_eq!(r["served"].as_f64(), Some(rows.len() as f64));
    assert_eq!(r["trace_rows_skipped"].as_f64(), Some(0.0));
}

// ---------------------------------------------------------------------------
// 2. The readers on the public traces and the shipped sample.

fn read_all(path: &Path, format: TraceFormat) -> Vec<TraceRecord> {
    TraceReader::open(path, format)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|r| r.unwrap_or_else(|b| panic!("a bad row in a shipped trace: {b}")))
        .collect()
}

/// Non-empty lines of a file.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn the_azure_reader_reads_every_row_of_the_public_traces() {
    // Azure: one record per data line, with the times and tokens read here.
    let test = "the_azure_reader_reads_every_row_of_the_public_traces";
    for (name, size) in [
        ("azure2023_conv.csv", 19_366),
        ("azure2023_code.csv", 8_819),
    ] {
        let Some(p) = public_trace(name, test) else {
            continue;
        };
        let rows = azure_rows(&p);
        let recs = read_all(&p, TraceFormat::Azure);
        assert_eq!(recs.len(), lines(&p).len() - 1, "{name}: lines - header");
        assert_eq!(recs.len(), rows.len(), "{name}");
        assert_eq!(recs.len(), size, "{name}: the size its README gives");
        for (i, (rec, row)) in recs.iter().zip(&rows).enumerate() {
            assert_eq!(rec.line, i as u64 + 2, "{name}: line numbers");
            assert_eq!(
                (rec.input as u64, rec.output as u64),
                (row.input, row.output),
                "{name} line {}",
                rec.line
            );
            assert!(
                (rec.time_s - row.ticks as f64 / 1e7).abs() < 1e-6,
                "{name} line {}: {} s vs {} ticks",
                rec.line,
                rec.time_s,
                row.ticks
            );
            assert_eq!(rec.model, None);
        }
    }

    // A csv mapping over the code trace, with wall-clock times, reads the same records.
    let Some(p) = public_trace("azure2023_code.csv", test) else {
        return;
    };
    let mapped = read_all(
        &p,
        TraceFormat::Csv(CsvMapping {
            time: "TIMESTAMP".into(),
            time_unit: TimeUnit::DateTime,
            input: "ContextTokens".into(),
            output: "GeneratedTokens".into(),
            model: None,
        }),
    );
    assert_eq!(mapped.len(), 8_819);
    assert_eq!(
        mapped,
        read_all(&p, TraceFormat::Azure),
        "csv mapping = azure"
    );
}

#[test]
fn the_mooncake_reader_reads_every_json_line() {
    // Mooncake: JSON lines without a header; timestamps in ms.
    let Some(p) = public_trace(
        "mooncake_fast25_conversation.jsonl",
        "the_mooncake_reader_reads_every_json_line",
    ) else {
        return;
    };
    let file_lines = lines(&p);
    let recs = read_all(&p, TraceFormat::Mooncake);
    assert_eq!(recs.len(), file_lines.len(), "one record per JSON line");
    assert_eq!(recs.len(), 12_031, "the size its README gives");
    for (rec, l) in recs.iter().zip(&file_lines) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(rec.time_s, v["timestamp"].as_f64().unwrap() / 1000.0);
        assert_eq!(rec.input as u64, v["input_length"].as_u64().unwrap());
        assert_eq!(rec.output as u64, v["output_length"].as_u64().unwrap());
    }
    // 59 minutes, as its README says.
    assert!((3500.0..3600.0).contains(&recs.last().unwrap().time_s));
}

#[test]
fn the_burstgpt_reader_reads_the_shipped_sample() {
    // BurstGPT: 6 rows with their models; seconds.
    let recs = read_all(&shipped("burstgpt_sample.csv"), TraceFormat::BurstGpt);
    let got: Vec<(f64, u32, u32, Option<&str>)> = recs
        .iter()
        .map(|r| (r.time_s, r.input, r.output, r.model.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (5.0, 472, 18, Some("ChatGPT")),
            (45.0, 1087, 136, Some("ChatGPT")),
            (118.0, 417, 0, Some("GPT-4")),
            (119.0, 1556, 221, Some("ChatGPT")),
            (160.0, 233, 77, Some("GPT-4")),
            (214.0, 820, 312, Some("ChatGPT")),
        ]
    );
}

#[test]
fn a_csv_mapping_reads_named_columns_in_any_order_and_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(
        tmp.path(),
        "t.csv",
        "out,\"model name\",ts_ms,in\n5,x,1500,10\n6,\"y,z\",2500.5,20\n\n7,x,2500.5,30\n",
    );
    let recs = read_all(
        &p,
        TraceFormat::Csv(CsvMapping {
            time: "ts_ms".into(),
            time_unit: TimeUnit::Milliseconds,
            input: "in".into(),
            output: "out".into(),
            model: Some("model name".into()),
        }),
    );
    let got: Vec<(u64, f64, u32, u32, Option<&str>)> = recs
        .iter()
        .map(|r| (r.line, r.time_s, r.input, r.output, r.model.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, 1.5, 10, 5, Some("x")),
            (3, 2.5005, 20, 6, Some("y,z")),
            (5, 2.5005, 30, 7, Some("x")),
        ],
        "the blank line 4 is skipped but counted"
    );
}

// ---------------------------------------------------------------------------
// 3. Bad rows.

const HEADER: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\n";

/// An Azure trace of good rows at 18:00:0k (k = 1, 2, ...), with `bad` put in
/// at the given lines (line 1 is the header).
fn azure_with(bad: &[(u64, &str)], good: u64) -> String {
    let mut s = HEADER.to_string();
    let mut k = 0;
    let mut line = 2;
    while k < good || bad.iter().any(|(l, _)| *l >= line) {
        match bad.iter().find(|(l, _)| *l == line) {
            Some((_, text)) => s.push_str(text),
            None => {
                k += 1;
                s.push_str(&format!("2023-11-16 18:00:{:02}.5,{},{}", k, 100 * k, k));
            }
        }
        s.push('\n');
        line += 1;
    }
    s
}

struct BadCase {
    name: &'static str,
    file: &'static str,
    format: &'static str,
    text: String,
    line: u64,
    kind: BadRowKind,
    good: u64,
}

fn bad_cases() -> Vec<BadCase> {
    let mooncake_row = |ms: u32| {
        format!("{{\"timestamp\": {ms}, \"input_length\": 100, \"output_length\": 10, \"hash_ids\": [1]}}\n")
    };
    vec![
        BadCase {
            name: "unparsable timestamp",
            file: "time.csv",
            format: "azure",
            text: azure_with(&[(4, "2023-11-16 1x:00:03.0,100,10")], 4),
            line: 4,
            kind: BadRowKind::Time,
            good: 4,
        },
        BadCase {
            name: "negative token count",
            file: "tokens.csv",
            format: "azure",
            text: azure_with(&[(3, "2023-11-16 18:00:01.7,-5,10")], 4),
            line: 3,
            kind: BadRowKind::Tokens,
            good: 4,
        },
        BadCase {
            name: "time before the previous row",
            file: "order.csv",
            format: "azure",
            // Line 4 is at 18:00:03.5; line 5 goes back to 18:00:01.
            text: azure_with(&[(5, "2023-11-16 18:00:01.0,100,10")], 4),
            line: 5,
            kind: BadRowKind::OutOfOrder,
            good: 4,
        },
        BadCase {
            name: "too few fields",
            file: "shape.csv",
            format: "azure",
            text: azure_with(&[(3, "2023-11-16 18:00:01.9,100")], 4),
            line: 3,
            kind: BadRowKind::Shape,
            good: 4,
        },
        BadCase {
            name: "invalid JSON",
            file: "shape.jsonl",
            format: "mooncake",
            text: format!(
                "{}{}{{\"timestamp\": 2000, \"input_length\": 1\n{}",
                mooncake_row(0),
                mooncake_row(1000),
                mooncake_row(3000)
            ),
            line: 3,
            kind: BadRowKind::Shape,
            good: 3,
        },
    ]
}

#[test]
fn the_reader_reports_each_bad_row_kind_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    for c in bad_cases() {
        let p = write(tmp.path(), c.file, &c.text);
        let format = match c.format {
            "azure" => TraceFormat::Azure,
            _ => TraceFormat::Mooncake,
        };
        let all: Vec<_> = TraceReader::open(&p, format).unwrap().collect();
        let bad: Vec<_> = all.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(bad.len(), 1, "{}: {all:?}", c.name);
        assert_eq!((bad[0].line, bad[0].kind), (c.line, c.kind), "{}", c.name);
        assert_eq!(bad[0].file, p);
        assert!(
            bad[0].to_string().starts_with(&format!(
                "{}:{}: {}",
                p.display(),
                c.line,
                c.kind.label()
            )),
            "{}: {}",
            c.name,
            bad[0]
        );
        assert_eq!(all.len() as u64 - 1, c.good, "{}: good rows", c.name);
    }
}

/// A one-hour replay of `trace` (relative to the scenario) with `extra` arrivals keys.
fn bad_rows_scenario(trace: &str, format: &str, extra: &str) -> String {
    replay_text(
        1,
        3,
        &format!("trace = \"{trace}\"\nformat = \"{format}\"\n{extra}"),
    )
}

#[test]
fn bad_rows_stop_validation_naming_file_line_and_kind() {
    let tmp = tempfile::tempdir().unwrap();
    for c in bad_cases() {
        write(tmp.path(), c.file, &c.text);
        // The default is "stop"; so is the explicit value.
        for extra in ["", "bad_rows = \"stop\""] {
            let sc = write(
                tmp.path(),
                "stop.toml",
                &bad_rows_scenario(c.file, c.format, extra),
            );
            llmcap()
                .args(["validate", sc.to_str().unwrap()])
                .assert()
                .code(2)
                .stderr(predicate::str::contains("class[0].arrivals.trace"))
                .stderr(predicate::str::contains(format!(
                    "{}:{}: {}",
                    c.file,
                    c.line,
                    c.kind.label()
                )))
                .stderr(predicate::str::contains("bad_rows = \"skip\""));
        }
    }
}

#[test]
fn skipped_bad_rows_are_counted_and_the_good_rows_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    for c in bad_cases() {
        write(tmp.path(), c.file, &c.text);
        let sc = write(
            tmp.path(),
            "skip.toml",
            &bad_rows_scenario(c.file, c.format, "bad_rows = \"skip\""),
        );
        let out = tmp.path().join(format!("out-{}", c.file));
        command_ok("run", &sc, &out, &[]);
        let r = read_json(&out.join("summary.json"))["requests"].clone();
        assert_eq!(r["trace_rows_skipped"].as_f64(), Some(1.0), "{}", c.name);
        assert_eq!(r["arrived"].as_f64(), Some(c.good as f64), "{}", c.name);
        assert_eq!(r["served"].as_f64(), Some(c.good as f64), "{}", c.name);
        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(
            report.contains(&format!(
                "1 unusable rows skipped (first: {}:{}: {}",
                tmp.path().join(c.file).display(),
                c.line,
                c.kind.label()
            )),
            "{}: report.md does not name the skipped row",
            c.name
        );
    }

    // Several bad rows in one file: each counted once, the rest replayed with
    // their own token counts.
    let text = azure_with(
        &[
            (3, "2023-11-16 18:00:01.7,-5,10"),
            (5, "not a time,1,1"),
            (6, "2023-11-16 18:00:00.0,1,1"),
            (8, "2023-11-16 18:00:05.0"),
        ],
        5,
    );
    write(tmp.path(), "many.csv", &text);
    let sc = write(
        tmp.path(),
        "many.toml",
        &bad_rows_scenario("many.csv", "azure", "bad_rows = \"skip\""),
    );
    let out = tmp.path().join("out-many");
    command_ok("run", &sc, &out, &[]);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["requests"]["trace_rows_skipped"].as_f64(), Some(4.0));
    assert_eq!(s["requests"]["arrived"].as_f64(), Some(5.0));
    let (totals, _) = hourly_totals(&out);
    // Good rows k = 1..=5: 100 k input and k output tokens.
    assert_eq!(totals, vec![[5, 1500, 15]]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("4 unusable rows skipped (first: "),
        "report.md"
    );
    assert!(report.contains("many.csv:3: bad token count"), "report.md");
}

// ---------------------------------------------------------------------------
// 4. rate_scale, time_scale, offset_s, tile.

#[test]
fn rate_scale_duplicates_and_thins_the_trace() {
    let Some((path, rows)) = conv("rate_scale_duplicates_and_thins_the_trace") else {
        return;
    };
    let n = rows.len() as f64;
    let arrived = |seed: u64, k: &str| -> (u64, Vec<u64>) {
        let sc = scenario(&replay_text(
            1,
            seed,
            &conv_arrivals(&path, &format!("rate_scale = {k}")),
        ));
        let v = arrivals_per_hour(&sc);
        (v.iter().sum(), v)
    };
    assert_eq!(arrived(1, "1.0").0, n as u64, "rate 1 replays every row");
    assert_eq!(
        arrived(1, "2.0").0,
        2 * n as u64,
        "rate 2 replays each row twice"
    );
    assert_eq!(arrived(1, "3.0").0, 3 * n as u64);

    // 0.5: each row kept with probability 1/2.
    let (a, per_hour) = arrived(1, "0.5");
    let sd = (n * 0.25).sqrt();
    assert!(
        (a as f64 - n / 2.0).abs() <= 5.0 * sd,
        "rate 0.5 kept {a} of {n} rows"
    );
    assert_eq!(
        arrived(1, "0.5"),
        (a, per_hour),
        "the same seed, the same rows"
    );
    assert_ne!(arrived(2, "0.5").0, a, "another seed thins differently");
    // 1.5: every row once, plus once more with probability 1/2.
    let (b, _) = arrived(1, "1.5");
    assert!(
        (b as f64 - 1.5 * n).abs() <= 5.0 * sd,
        "rate 1.5 replayed {b} of {n} rows"
    );
    assert!(b as f64 > n);
}

#[test]
fn rate_scale_half_keeps_whole_rows_with_their_tokens() {
    // The thinned replay is a subsequence of the trace: times and tokens of kept
    // rows are those of the rows, in order.
    let Some((path, rows)) = conv("rate_scale_half_keeps_whole_rows_with_their_tokens") else {
        return;
    };
    let t0 = rows[0].ticks;
    let sc = scenario(&replay_text(
        1,
        9,
        &conv_arrivals(&path, "rate_scale = 0.5"),
    ));
    let kept = replayed(&sc, 1);
    let mut it = rows.iter();
    for &(at, input, output) in &kept {
        let found = it.by_ref().any(|r| {
            r.input == input as u64
                && r.output == output as u64
                && (replay_us(r.ticks - t0, 1, 1) - at as i64).abs() <= 1
        });
        assert!(
            found,
            "({at}, {input}, {output}) is not a later row of the trace"
        );
    }
}

#[test]
fn time_scale_compresses_the_span_and_offset_shifts_it() {
    let Some((path, rows)) = conv("time_scale_compresses_the_span_and_offset_shifts_it") else {
        return;
    };
    let t0 = rows[0].ticks;
    let span = rows.last().unwrap().ticks - t0;
    let times = |arrivals: &str| -> Vec<u64> {
        let sc = scenario(&replay_text(2, 1, &conv_arrivals(&path, arrivals)));
        let v = replayed(&sc, 1);
        assert_eq!(v.len(), rows.len(), "{arrivals}: every row replayed");
        v.iter().map(|x| x.0).collect()
    };
    let close = |got: u64, want: i64, what: &str| {
        assert!(
            (got as i64 - want).abs() <= 2,
            "{what}: {got} us, expected {want} us"
        )
    };
    let one = times("");
    assert_eq!(one[0], 0, "the first row at time 0");
    close(
        *one.last().unwrap(),
        replay_us(span, 1, 1),
        "span at time_scale 1",
    );
    let two = times("time_scale = 2.0");
    assert_eq!(two[0], 0);
    close(
        *two.last().unwrap(),
        replay_us(span, 2, 1),
        "span at time_scale 2",
    );
    assert!(*one.last().unwrap() > 3_400_000_000);
    for (i, r) in rows.iter().enumerate().step_by(97) {
        close(
            two[i],
            replay_us(r.ticks - t0, 2, 1),
            "a row at time_scale 2",
        );
    }
    let off = times("offset_s = 1800");
    assert_eq!(off[0], 1_800_000_000, "the first row at offset_s");
    for (a, b) in one.iter().zip(&off) {
        assert_eq!(b - a, 1_800_000_000);
    }
}

#[test]
fn offset_s_moves_the_hourly_arrivals() {
    let Some((path, rows)) = conv("offset_s_moves_the_hourly_arrivals") else {
        return;
    };
    let t0 = rows[0].ticks;
    // 1800 s later: the trace straddles hours 0 and 1; the last hour is empty.
    let exact = rows
        .iter()
        .map(|r| 1.8e9 + replay_exact_us(r.ticks - t0, 1, 1));
    clear_of_boundaries(exact, US_PER_HOUR, 10.0);
    let times: Vec<i64> = rows
        .iter()
        .map(|r| 1_800_000_000 + replay_us(r.ticks - t0, 1, 1))
        .collect();
    let want = bucket(&rows, &times, 3);
    assert!(
        want[0][0] > 0 && want[1][0] > 0 && want[2][0] == 0,
        "{want:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(
        tmp.path(),
        "offset.toml",
        &replay_text(3, 1, &conv_arrivals(&path, "offset_s = 1800")),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let (arrivals, _) = arrivals_csv(&out, "c");
    let want_arrivals: Vec<f64> = want.iter().map(|h| h[0] as f64).collect();
    assert_eq!(arrivals, want_arrivals, "arrivals.csv per hour");
    let (got, _) = hourly_totals(&out);
    assert_eq!(got, want, "hourly.csv per hour");
}

#[test]
fn tile_repeats_the_trace_to_the_horizon_and_no_tile_stops_at_its_end() {
    let Some((path, rows)) =
        conv("tile_repeats_the_trace_to_the_horizon_and_no_tile_stops_at_its_end")
    else {
        return;
    };
    let n = rows.len() as i64;
    let t0 = rows[0].ticks;
    let span = rows.last().unwrap().ticks - t0;
    // One pass lasts the span plus one mean gap: span * n / (n - 1), in us.
    let period = span * n / ((n - 1) * 10);
    let horizon = 3 * US_PER_HOUR;
    let mut want = 0u64;
    let mut pass = 0;
    loop {
        let start = pass * period;
        if start >= horizon {
            break;
        }
        for r in &rows {
            let t = start + replay_us(r.ticks - t0, 1, 1);
            assert!((t - horizon).abs() > 3 * pass + 3, "a row at the horizon");
            want += (t < horizon) as u64;
        }
        pass += 1;
    }
    assert_eq!(pass, 4, "three whole passes and part of a fourth");
    assert!(
        want > 3 * n as u64 && want < 4 * n as u64,
        "{want} rows in 3 h"
    );

    let tiled = scenario(&replay_text(3, 1, &conv_arrivals(&path, "tile = true")));
    let sim_period = tiled.classes[0].trace.as_ref().unwrap().period_us() as i64;
    assert!(
        (sim_period - period).abs() <= 1,
        "period {sim_period} us, expected {period} us"
    );
    let per_hour = arrivals_per_hour(&tiled);
    assert_eq!(
        per_hour.iter().sum::<u64>(),
        want,
        "arrivals over 3 h, tiled"
    );
    assert!(per_hour.iter().all(|&a| a > 15_000), "{per_hour:?}");
    // The second pass starts one period in, with the first row's tokens.
    let v = replayed(&tiled, 1);
    assert_eq!(v.len() as u64, want);
    let first = rows[0];
    let second_pass = v[rows.len()];
    assert!(
        (second_pass.0 as i64 - period).abs() <= 1,
        "{second_pass:?}"
    );
    assert_eq!(
        (second_pass.1 as u64, second_pass.2 as u64),
        (first.input, first.output)
    );

    for no_tile in ["", "tile = false"] {
        let sc = scenario(&replay_text(3, 1, &conv_arrivals(&path, no_tile)));
        let per_hour = arrivals_per_hour(&sc);
        assert_eq!(per_hour.iter().sum::<u64>(), n as u64, "{no_tile:?}");
        assert_eq!(&per_hour[1..], &[0, 0], "nothing after the trace ends");
    }
}

// ---------------------------------------------------------------------------
// 5. Input checks.

/// A scenario with a synthetic class first and a trace class second (so errors
/// name class[1]); `arrivals` is the second class's arrivals table and
/// `class_keys` more keys of that class (before the table).
fn two_classes(arrivals: &str, class_keys: &str) -> String {
    format!(
        r#"
[scenario]
name = "checks"
horizon_hours = 1
seed = 1

[[class]]
name = "synthetic"
model = "m"
route = ["a"]
arrivals = {{ mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 100 }}
output_tokens = {{ dist = "fixed", value = 10 }}

[[class]]
name = "replay"
model = "m"
route = ["a"]
{class_keys}
[class.arrivals]
{arrivals}

[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 1.0, output_per_1m = 2.0 }}
"#
    )
}

#[test]
fn trace_inputs_are_checked_and_name_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(shipped("burstgpt_sample.csv"), tmp.path().join("b.csv")).unwrap();
    // An Azure-format trace: no model column.
    write(
        tmp.path(),
        "a.csv",
        &format!("{HEADER}2023-11-16 18:00:00,10,1\n2023-11-16 18:00:05,20,2\n"),
    );
    let ok = "trace = \"b.csv\"\nformat = \"burstgpt\"";
    // The base is valid (so each case fails for its own reason).
    let sc = write(tmp.path(), "ok.toml", &two_classes(ok, ""));
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .success();

    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\nmean_rps = 2.0",
            "",
            "class[1].arrivals.mean_rps",
            "does not apply when arrivals come from a trace",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\nhourly = [1.0, 2.0]",
            "",
            "class[1].arrivals.hourly",
            "does not apply",
        ),
        (
            "trace = \"b.csv\"\nformat = \"sharegpt\"",
            "",
            "class[1].arrivals.format",
            "allowed: azure, burstgpt, mooncake, csv",
        ),
        (
            "trace = \"b.csv\"",
            "",
            "class[1].arrivals.format",
            "allowed: azure, burstgpt, mooncake, csv",
        ),
        (
            "trace = \"b.csv\"\nformat = \"csv\"",
            "",
            "class[1].arrivals.time_column",
            "is needed with format = \"csv\"",
        ),
        (
            "trace = \"b.csv\"\nformat = \"csv\"\ntime_column = \"Timestamp\"\ninput_column = \"Request tokens\"",
            "",
            "class[1].arrivals.output_column",
            "is needed with format = \"csv\"",
        ),
        (
            "trace = \"b.csv\"\nformat = \"csv\"\ntime_column = \"Timestamp\"\ninput_column = \"Request tokens\"\noutput_column = \"Response tokens\"\ntime_unit = \"hours\"",
            "",
            "class[1].arrivals.time_unit",
            "allowed: s, ms, us, datetime",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\ntime_column = \"Timestamp\"",
            "",
            "class[1].arrivals.time_column",
            "only applies with format = \"csv\"",
        ),
        (
            "trace = \"missing.csv\"\nformat = \"azure\"",
            "",
            "class[1].arrivals.trace",
            "missing.csv",
        ),
        (
            ok,
            "input_tokens = { dist = \"fixed\", value = 100 }",
            "class[1].input_tokens",
            "comes from the trace",
        ),
        (
            ok,
            "output_tokens = { dist = \"fixed\", value = 10 }",
            "class[1].output_tokens",
            "comes from the trace",
        ),
        (
            "trace = \"a.csv\"\nformat = \"azure\"\nmodel = \"gpt-4\"",
            "",
            "class[1].arrivals.model",
            "needs a trace with a model column",
        ),
        (
            "trace = \"a.csv\"\nformat = \"csv\"\ntime_column = \"TIMESTAMP\"\ntime_unit = \"datetime\"\ninput_column = \"ContextTokens\"\noutput_column = \"GeneratedTokens\"\nmodel = \"gpt-4\"",
            "",
            "class[1].arrivals.model",
            "needs a trace with a model column",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\nmodel = \"Claude\"",
            "",
            "class[1].arrivals.model",
            "has no usable row with model \"Claude\"; models in the file: ChatGPT, GPT-4",
        ),
        (
            "trace = \"b.csv\"\nformat = \"azure\"",
            "",
            "class[1].arrivals.trace",
            "the header has no column \"TIMESTAMP\"",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\ntime_scale = 0",
            "",
            "class[1].arrivals.time_scale",
            "",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\nrate_scale = -1",
            "",
            "class[1].arrivals.rate_scale",
            "",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\noffset_s = -5",
            "",
            "class[1].arrivals.offset_s",
            "",
        ),
        (
            "trace = \"b.csv\"\nformat = \"burstgpt\"\nbad_rows = \"ignore\"",
            "",
            "class[1].arrivals.bad_rows",
            "allowed: stop, skip",
        ),
    ];
    for (arrivals, class_keys, key, message) in cases {
        let sc = write(tmp.path(), "bad.toml", &two_classes(arrivals, class_keys));
        llmcap()
            .args(["validate", sc.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad.toml"))
            .stderr(predicate::str::contains(format!("{key}:")))
            .stderr(predicate::str::contains(*message));
    }
    // A class without a trace still needs its rate and token distributions.
    let no_rate = two_classes(ok, "").replace("arrivals = { mean_rps = 1.0 }", "arrivals = {}");
    let sc = write(tmp.path(), "bad.toml", &no_rate);
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("class[0].arrivals.mean_rps"));
    let no_tokens =
        two_classes(ok, "").replace("input_tokens = { dist = \"fixed\", value = 100 }\n", "");
    let sc = write(tmp.path(), "bad.toml", &no_tokens);
    llmcap()
        .args(["validate", sc.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("class[0].input_tokens"));
}

// ---------------------------------------------------------------------------
// 6. The model filter.

#[test]
fn the_model_filter_keeps_only_that_models_rows() {
    let burst = format!(
        "trace = {}\nformat = \"burstgpt\"",
        lit(&shipped("burstgpt_sample.csv"))
    );
    // GPT-4 rows: t = 118 s (417 / 0 tokens) and 160 s (233 / 77).
    let sc = scenario(&replay_text(1, 1, &format!("{burst}\nmodel = \"GPT-4\"")));
    assert_eq!(
        replayed(&sc, 1),
        vec![(0, 417, 0), (42_000_000, 233, 77)],
        "times from the first GPT-4 row"
    );
    let m = run(&sc, 1, None).pooled();
    assert_eq!(m.classes[0].arrived, 2);
    let cells: Vec<_> = (0..2).map(|d| m.hour_cell(0, d)).collect();
    assert_eq!(
        (
            cells.iter().map(|c| c.requests).sum::<u64>(),
            cells.iter().map(|c| c.input_tokens).sum::<u64>(),
            cells.iter().map(|c| c.output_tokens).sum::<u64>(),
        ),
        (2, 650, 77)
    );
    // Without the filter, all six rows.
    let all = scenario(&replay_text(1, 1, &burst));
    assert_eq!(run(&all, 1, None).pooled().classes[0].arrived, 6);
    // A csv mapping with a model column filters the same way.
    let mapped = format!(
        "trace = {}\nformat = \"csv\"\ntime_column = \"Timestamp\"\ntime_unit = \"s\"\ninput_column = \"Request tokens\"\noutput_column = \"Response tokens\"\nmodel_column = \"Model\"\nmodel = \"ChatGPT\"",
        lit(&shipped("burstgpt_sample.csv"))
    );
    let sc = scenario(&replay_text(1, 1, &mapped));
    assert_eq!(
        replayed(&sc, 1),
        vec![
            (0, 472, 18),
            (40_000_000, 1087, 136),
            (114_000_000, 1556, 221),
            (209_000_000, 820, 312),
        ]
    );
}

// ---------------------------------------------------------------------------
// 7. Threads.

#[test]
fn replay_azure_conv_is_identical_on_one_and_four_threads() {
    let Some(trace) = public_trace(
        "azure2023_conv.csv",
        "replay_azure_conv_is_identical_on_one_and_four_threads",
    ) else {
        return;
    };
    let trace = trace.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sc = repo("scenarios/replay_azure_conv.toml");
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t4"));
    command_ok("run", &sc, &a, &["--threads", "1", "--trace", trace]);
    command_ok("run", &sc, &b, &["--threads", "4", "--trace", trace]);
    assert_same_results(&a, &b, "summary.json");
    let s = read_json(&a.join("summary.json"));
    let classes = s["classes"].as_array().expect("classes");
    let arrived: Vec<f64> = classes
        .iter()
        .map(|c| c["requests"]["arrived"].as_f64().unwrap())
        .collect();
    assert_eq!(
        arrived,
        vec![19_366.0, 2.0 * 19_366.0],
        "every row, and twice"
    );
}

// ---------------------------------------------------------------------------
// Reports of a trace class.

/// arrivals.csv's `expected` column (and `validate`'s "~N requests per
/// replication") come from the class's mean rate over one pass, applied to every
/// hour of the horizon, also after a non-tiled trace has ended.
#[test]

fn expected_arrivals_of_a_non_tiled_trace_are_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let text = replay_text(
        1,
        1,
        &format!(
            "trace = {}\nformat = \"burstgpt\"\nmodel = \"GPT-4\"",
            lit(&shipped("burstgpt_sample.csv"))
        ),
    );
    let sc = write(tmp.path(), "r.toml", &text);
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let (arrivals, expected) = arrivals_csv(&out, "c");
    assert_eq!(arrivals, vec![2.0]);
    let e: f64 = expected.iter().sum();
    assert!(
        (e - 2.0).abs() < 0.5,
        "expected arrivals {e} for a trace of 2 rows replayed once"
    );
}

/// Command-line overrides are applied before validation, so what validation
/// derives comes from the final horizon: a tiled trace in a one-hour scenario
/// run with --horizon-hours 3 expects arrivals in every one of the 3 hours
/// (arrivals.csv's `expected` was 0.00 for hours 1 and 2 while requests arrived).
#[test]
fn horizon_override_reaches_a_tiled_traces_expected_arrivals() {
    let tmp = tempfile::tempdir().unwrap();
    // 60 rows 10 s apart: one pass lasts 600 s, six passes an hour.
    let rows: String = (0..60)
        .map(|i| format!("2023-11-16 18:{:02}:{:02},10,1\n", i / 6, (i % 6) * 10))
        .collect();
    write(tmp.path(), "t.csv", &format!("{HEADER}{rows}"));
    let sc = write(
        tmp.path(),
        "r.toml",
        &bad_rows_scenario("t.csv", "azure", "tile = true"),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &["--horizon-hours", "3"]);
    let (arrivals, expected) = arrivals_csv(&out, "c");
    assert_eq!(arrivals, vec![360.0; 3], "6 passes of 60 rows an hour");
    for (h, e) in expected.iter().enumerate() {
        assert!(
            (e - 360.0).abs() < 1.0,
            "hour {h}: expected {e}, arrived 360"
        );
    }
}

/// With bad_rows = "skip", report.md counts the unusable rows of the file;
/// summary.json's `trace_rows_skipped` should count the same rows, not once
/// per pass of a tiled trace.
#[test]

fn a_tiled_trace_counts_each_skipped_row_once() {
    let tmp = tempfile::tempdir().unwrap();
    // Two good rows 100 s apart and a bad one between: one pass lasts 200 s,
    // so a one-hour horizon holds 18 passes.
    write(
        tmp.path(),
        "t.csv",
        &format!(
            "{HEADER}2023-11-16 18:00:00,10,1\n2023-11-16 18:00:10,x,1\n2023-11-16 18:01:40,10,1\n"
        ),
    );
    let sc = write(
        tmp.path(),
        "r.toml",
        &bad_rows_scenario("t.csv", "azure", "tile = true\nbad_rows = \"skip\""),
    );
    let out = tmp.path().join("out");
    command_ok("run", &sc, &out, &[]);
    let r = read_json(&out.join("summary.json"))["requests"].clone();
    assert_eq!(r["arrived"].as_f64(), Some(36.0), "2 rows x 18 passes");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("1 unusable rows skipped"), "report.md");
    assert_eq!(
        r["trace_rows_skipped"].as_f64(),
        Some(1.0),
        "summary.json vs report.md's 1 unusable row"
    );
}

/// A tiled trace whose rows share one timestamp has span 0 and mean gap 0, so
/// one pass lasts 1 us: validate announces 3,000,000 req/s and `run` replays
/// the rows every microsecond (10.8 billion requests an hour) and does not end.
/// It should be rejected (naming class[0].arrivals) or given a sensible period.
#[test]

fn a_tiled_trace_of_one_instant_is_rejected_or_runs_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "t.csv",
        &format!(
            "{HEADER}{0},10,1\n{0},10,1\n{0},10,1\n",
            "2023-11-16 18:00:00"
        ),
    );
    let sc = write(
        tmp.path(),
        "r.toml",
        &bad_rows_scenario("t.csv", "azure", "tile = true"),
    );
    let out = tmp.path().join("out");
    let run = llmcap()
        .args([
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .output();
    let code = run.as_ref().ok().and_then(|o| o.status.code());
    match code {
        Some(2) => {
            let err = String::from_utf8_lossy(&run.as_ref().unwrap().stderr).into_owned();
            assert!(err.contains("class[0].arrivals"), "{err}");
        }
        Some(0) => {
            let arrived = read_json(&out.join("summary.json"))["requests"]["arrived"]
                .as_f64()
                .unwrap();
            assert!(
                arrived < 1e6,
                "{arrived} requests from a 3-row trace in 1 h"
            );
        }
        _ => panic!("`llmcap run` did not finish within 20 s: {run:?}"),
    }
}

/// `llmcap fit` from the command line: every file written from a shipped
/// trace; a wrong format or a csv without its columns exits 2 naming the flag.
#[test]
fn fit_command_writes_its_files_and_checks_its_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(trace) = public_trace(
        "azure2023_conv.csv",
        "fit_command_writes_its_files_and_checks_its_flags",
    ) else {
        return;
    };
    let out = tmp.path().join("fit");
    llmcap()
        .args([
            "fit",
            trace.to_str().unwrap(),
            "--format",
            "azure",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    for f in llmcap::report::fit::FIT_FILES {
        assert!(out.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    let toml = std::fs::read_to_string(out.join("fit.toml")).unwrap();
    assert!(toml.contains("mean_rps = 5.53"), "{toml}");
    for (args, says) in [
        (
            vec!["--format", "parquet"],
            "--format: unknown format \"parquet\"",
        ),
        (
            vec!["--format", "csv"],
            "--time-column is needed with --format csv",
        ),
        (
            vec![
                "--format",
                "csv",
                "--time-column",
                "TIMESTAMP",
                "--time-unit",
                "days",
            ],
            "--time-unit: unknown unit \"days\"",
        ),
    ] {
        let bad = tmp.path().join("bad");
        llmcap()
            .arg("fit")
            .arg(&trace)
            .args(&args)
            .arg("--out")
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        assert!(!bad.exists());
    }
}

/// `llmcap fit --format per-minute`: a generated week of per-minute usage (2026-01-05, a
/// Monday; 30 requests a minute 09:00-17:00 UTC on weekdays, 6 otherwise; 800 input and 150
/// output tokens a request) becomes a class whose scenario validates and runs; the column flags
/// are refused for a format with fixed columns.
#[test]
fn fit_of_a_usage_export_writes_a_class_that_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut csv = String::from("minute,calls,prompt,completion\n");
    let monday = 1_767_571_200i64;
    let mut total = 0u64;
    for m in 0..7 * 1440i64 {
        let t = monday + m * 60;
        let (day, hour) = (m / 1440, (m % 1440) / 60);
        let r = if day < 5 && (9..17).contains(&hour) {
            30
        } else {
            6
        };
        total += r;
        csv.push_str(&format!("{t},{r},{},{}\n", 800 * r, 150 * r));
    }
    // A week: 5 x (480 x 30 + 960 x 6) + 2 x 1440 x 6 = 118,080 requests over 604,800 s.
    assert_eq!(total, 118_080);
    let export = write(tmp.path(), "usage.csv", &csv);
    let out = tmp.path().join("fit");
    llmcap()
        .arg("fit")
        .arg(&export)
        .args([
            "--format",
            "per-minute",
            "--time-column",
            "minute",
            "--time-unit",
            "s",
            "--requests-column",
            "calls",
            "--input-column",
            "prompt",
            "--output-column",
            "completion",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "118,080 requests in 10,080 bins of 60 s",
        ))
        .stderr(predicate::str::contains("input 800.0, output 150.0"));
    let toml = std::fs::read_to_string(out.join("fit.toml")).unwrap();
    // 118,080 / 604,800 = 0.19524 req/s.
    assert!(toml.contains("mean_rps = 0.19524"), "{toml}");
    // Office hours on weekdays and a flat weekend are no hourly x weekday product: the fit
    // gives the week's 168 hours (30 / (118,080 / 10,080) = 2.561 in office hours, 0.512 else).
    assert!(toml.contains("hour_of_week = ["), "{toml}");
    assert!(!toml.contains("\nweekday = ["), "{toml}");
    let monday: Vec<&str> = (0..24)
        .map(|h| {
            if (9..17).contains(&h) {
                "2.561"
            } else {
                "0.512"
            }
        })
        .collect();
    let monday = format!("    {}, # Mon", monday.join(", "));
    assert!(toml.lines().any(|l| l == monday), "{monday}\n{toml}");
    assert!(toml.contains("dist = \"exponential\""), "{toml}");
    assert!(toml.contains("mean = 800 "), "{toml}");
    let md = std::fs::read_to_string(out.join("fit.md")).unwrap();
    assert!(md.contains("cannot be recovered from totals"), "{md}");
    let json = read_json(&out.join("fit.json"));
    assert_eq!(json["usage"]["grain_s"], 60);
    assert_eq!(json["usage"]["missing_bins"], 0);
    // fit.png's right panel: tokens per request in each minute, 800 and 150 in every one.
    let tpr = json["usage"]["tokens_per_request"].as_array().unwrap();
    assert_eq!(
        tpr.len(),
        json["arrivals"]["intervals"].as_u64().unwrap() as usize
    );
    assert!(
        tpr.iter().all(|v| v[0] == 800.0 && v[1] == 150.0),
        "{tpr:?}"
    );
    // Weekday factors by hand: Mon-Fri 480 x 30 + 960 x 6 = 20,160 requests a day, Sat-Sun
    // 1,440 x 6 = 8,640; mean 16,868.57.
    let w = json["arrivals"]["weekday"].as_array().unwrap();
    let mean = (5.0 * 20_160.0 + 2.0 * 8_640.0) / 7.0;
    assert!((w[0].as_f64().unwrap() - 20_160.0 / mean).abs() < 1e-9);
    assert!((w[6].as_f64().unwrap() - 8_640.0 / mean).abs() < 1e-9);

    let scenario = format!(
        "[scenario]\nhorizon_hours = 48\nseed = 3\n\n[[deployment]]\nname = \"{}\"\nplatform = \"custom\"\nmodel = \"{}\"\nlatency = {{ median_ms = 400, p99_ms = 1200 }}\non_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}\n\n{toml}",
        llmcap::report::fit::PLACEHOLDER_DEPLOYMENT,
        llmcap::report::fit::PLACEHOLDER_MODEL
    );
    let sc = write(tmp.path(), "from_usage.toml", &scenario);
    llmcap().arg("validate").arg(&sc).assert().success();
    command_ok("run", &sc, &tmp.path().join("run"), &[]);

    for (args, says) in [
        (
            vec!["--format", "cloudwatch", "--time-column", "t"],
            "--time-column: only for --format csv, per-minute",
        ),
        (
            vec!["--format", "csv", "--time-column", "t", "--requests-column", "r"],
            "--requests-column: only for --format per-minute",
        ),
        (
            vec!["--format", "per-minute"],
            "no column \"time\" (it has: minute, calls, prompt, completion)",
        ),
        (
            vec!["--format", "parquet"],
            "allowed: azure, burstgpt, mooncake, csv (request traces), azure-monitor, cloudwatch, per-minute",
        ),
    ] {
        let bad = tmp.path().join("bad");
        llmcap()
            .arg("fit")
            .arg(&export)
            .args(&args)
            .arg("--out")
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        assert!(!bad.exists());
    }
}

// ---------------------------------------------------------------------------
// 8. --trace: the trace file from the command line.

/// The shipped replay scenario on a fresh clone (no public trace next to it):
/// exit 2 naming the key and saying how to give the file; nothing written.
#[test]
fn a_scenario_whose_public_trace_is_missing_says_how_to_give_it() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/replay_azure_conv.toml")).unwrap();
    let sc = write(tmp.path(), "replay_azure_conv.toml", &text);
    let out = tmp.path().join("out");
    llmcap()
        .args(["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("class[0].arrivals.trace"))
        .stderr(predicate::str::contains("traces/azure2023_conv.csv"))
        .stderr(predicate::str::contains("--trace [CLASS=]PATH"))
        .stderr(predicate::str::contains("scripts/fetch_traces.sh"));
    assert!(!out.exists(), "nothing written");
}

#[test]
fn trace_flag_sets_the_file_of_every_class_or_of_one() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = shipped("burstgpt_sample.csv");
    let sample = sample.to_str().unwrap();
    // Class "replay" replays a file that is not there; "synthetic" draws its arrivals.
    let text = two_classes("trace = \"missing.csv\"\nformat = \"burstgpt\"", "");
    let sc = write(tmp.path(), "t.toml", &text);
    let sc = sc.to_str().unwrap();
    let arrived = |out: &Path| -> Vec<f64> {
        read_json(&out.join("summary.json"))["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["requests"]["arrived"].as_f64().unwrap())
            .collect()
    };
    for flag in [sample.to_string(), format!("replay={sample}")] {
        let out = tmp.path().join("out");
        let _ = std::fs::remove_dir_all(&out);
        command_ok("run", Path::new(sc), &out, &["--trace", &flag]);
        assert_eq!(arrived(&out)[1], 6.0, "--trace {flag}: the sample's 6 rows");
        llmcap()
            .args(["validate", sc, "--trace", &flag])
            .assert()
            .success();
    }
    for (flag, says) in [
        (format!("synthetic={sample}"), "class \"synthetic\" of"),
        (String::new(), "the path is empty"),
    ] {
        llmcap()
            .args(["run", sc, "--trace", &flag, "--out"])
            .arg(tmp.path().join("bad"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("--trace {flag}")))
            .stderr(predicate::str::contains(says));
    }
    assert!(!tmp.path().join("bad").exists(), "nothing written");
    // A scenario without a trace class.
    llmcap()
        .args([
            "validate",
            repo("scenarios/baseline.toml").to_str().unwrap(),
        ])
        .args(["--trace", sample])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no class of"))
        .stderr(predicate::str::contains("replays a trace"));
}
