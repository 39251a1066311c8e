//! `llmcap-fuzz`: a mutation fuzzer for llmcap's parsers on stable Rust.
//!
//! cargo-fuzz (libFuzzer) needs a nightly toolchain (`-Z sanitizer`), and the machines this project
//! is built on have one stable toolchain, so this is a plain mutation harness: seeds from the shipped
//! scenarios, profiles and traces (and a run folder for `diff`), mutated by byte flips, insertions,
//! deletions, splices and "interesting" values (numbers at the limits, NaN, huge integers, quotes,
//! brackets), fed to one target until the time is up. A panic is a crash: its input is saved under
//! `--crashes` and counted. Each target runs in-process (no fork), so one execution costs what the
//! parser costs. Build with `cargo build --release --features fuzz --bin llmcap-fuzz`;
//! `scripts/fuzz.sh TARGET SECONDS` builds and runs it.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use llmcap::domain::trace::{CsvMapping, TimeUnit, TraceFormat};
use llmcap::input::scenario::raw::{RawPlan, RawSweep};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Every target: name and what it feeds.
pub const TARGETS: &[(&str, &str)] = &[
    (
        "scenario",
        "scenario parser + validator (+ [sweep] points and [plan] spec when valid)",
    ),
    ("profile", "workload profile parser (pick)"),
    ("azure", "trace reader, azure format"),
    ("burstgpt", "trace reader, burstgpt format"),
    ("mooncake", "trace reader, mooncake format"),
    ("csv", "trace reader, generic csv"),
    (
        "diff",
        "run-folder reader behind diff (one file of folder B mutated)",
    ),
    (
        "options",
        "[sweep] / [plan] option parsers and the SLA parser",
    ),
    (
        "guidellm",
        "GuideLLM statistics reader (JSON, and its CSV report) + the calibrate fit",
    ),
];

/// Values that sit at the edges of what the parsers check.
const INTERESTING: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0",
    "0.5",
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    "NaN",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "4294967295",
    "65536",
    "1e6",
    "1e7",
    "1e9",
    "26352",
    "10000",
    "10001",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[[",
    "]]",
    "=",
    "\n",
    ",",
    "\"",
    "'",
    "\\",
    "#",
    ".",
    "..",
    "/",
    "\u{feff}",
    "\u{0}",
    "true",
    "false",
    "[0, 1]",
    "{ a = 1 }",
    "2024-03-04 09:00:00.2500000",
    "\"p99<=0ms\"",
];

pub struct Args {
    pub target: String,
    pub seconds: f64,
    /// Stop after this many executions (the smoke test in tests/fuzz_smoke.rs), if sooner.
    pub max_execs: u64,
    pub seed: u64,
    pub crashes: PathBuf,
    pub run_folder: Option<PathBuf>,
    pub repo: PathBuf,
    /// A folder of public traces to seed from (optional).
    pub corpus: Option<PathBuf>,
}

/// What a fuzzing session did.
pub struct Report {
    pub execs: u64,
    pub crashes: u64,
    pub slow: u64,
}

fn usage() -> ! {
    eprintln!("usage: llmcap-fuzz TARGET SECONDS [--seed N] [--crashes DIR] [--run-folder DIR] [--repo DIR] [--corpus DIR]");
    eprintln!("targets:");
    for (t, what) in TARGETS {
        eprintln!("  {t:10} {what}");
    }
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let target = it.next().unwrap_or_else(|| usage());
    if !TARGETS.iter().any(|(t, _)| *t == target) {
        usage();
    }
    let seconds: f64 = it
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| usage());
    let mut a = Args {
        target,
        seconds,
        max_execs: u64::MAX,
        seed: 1,
        crashes: PathBuf::from("fuzz-crashes"),
        run_folder: None,
        repo: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        corpus: None,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--seed" => a.seed = v.parse().unwrap_or_else(|_| usage()),
            "--crashes" => a.crashes = PathBuf::from(v),
            "--run-folder" => a.run_folder = Some(PathBuf::from(v)),
            "--repo" => a.repo = PathBuf::from(v),
            "--corpus" => a.corpus = Some(PathBuf::from(v)),
            _ => usage(),
        }
    }
    a
}

/// Small hand-written seeds, so every target has one without the public traces.
const AZURE: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\n2024-03-04 09:00:00.2500000,520,60\n2024-03-04 09:00:03.7500000,610,120\n2024-03-04 09:00:04.0000000,930,75\n";
const MOONCAKE: &str = "{\"timestamp\": 0, \"input_length\": 1200, \"output_length\": 40, \"hash_ids\": [1]}\n{\"timestamp\": 1000, \"input_length\": 700, \"output_length\": 30, \"hash_ids\": [2]}\n";
const CSV: &str = "t,in,out,model\n0,100,10,a\n1.5,200,20,b\n3,300,30,a\n";
/// GuideLLM statistics, made-up numbers: three levels as JSON without requests, and two as
/// GuideLLM 0.3's CSV report.
const GUIDELLM_JSON: &str = r#"{"benchmarks": [
 {"metrics": {"request_totals": {"successful": 40, "errored": 1, "incomplete": 0, "total": 41},
  "time_to_first_token_ms": {"successful": {"median": 100.0, "count": 40, "percentiles":
   {"p001": 80.0, "p01": 80.0, "p05": 85.0, "p10": 88.0, "p25": 94.0, "p50": 100.0, "p75": 108.0,
    "p90": 120.0, "p95": 128.0, "p99": 150.0, "p999": 151.0}}},
  "request_concurrency": {"successful": {"mean": 1.0}}, "requests_per_second": {"successful": {"mean": 2.0}},
  "prompt_token_count": {"successful": {"mean": 500.0}}, "output_token_count": {"successful": {"mean": 50.0}}}},
 {"metrics": {"request_totals": {"successful": 80, "errored": 0, "incomplete": 2, "total": 82},
  "time_to_first_token_ms": {"successful": {"median": 130.0, "count": 80, "percentiles":
   {"p001": 100.0, "p01": 101.0, "p05": 108.0, "p10": 112.0, "p25": 121.0, "p50": 130.0, "p75": 141.0,
    "p90": 158.0, "p95": 170.0, "p99": 200.0, "p999": 205.0}}},
  "request_concurrency": {"successful": {"mean": 4.0}}, "requests_per_second": {"successful": {"mean": 7.0}},
  "prompt_token_count": {"successful": {"mean": 500.0}}, "output_token_count": {"successful": {"mean": 50.0}}}},
 {"metrics": {"request_totals": {"successful": 120, "errored": 3, "incomplete": 0, "total": 123},
  "time_to_first_token_ms": {"successful": {"median": 190.0, "count": 120, "percentiles":
   {"p001": 140.0, "p01": 142.0, "p05": 155.0, "p10": 162.0, "p25": 175.0, "p50": 190.0, "p75": 207.0,
    "p90": 232.0, "p95": 250.0, "p99": 300.0, "p999": 310.0}}},
  "request_concurrency": {"successful": {"mean": 8.0}}, "requests_per_second": {"successful": {"mean": 11.0}},
  "prompt_token_count": {"successful": {"mean": 500.0}}, "output_token_count": {"successful": {"mean": 50.0}}}}]}"#;
const GUIDELLM_CSV: &str = "Type,Name,Successful Requests,Errored Requests,Incomplete Requests,Successful Requests per second mean,Successful Request concurrency mean,Successful Prompt token count mean,Successful Output token count mean,Successful Time to first token ms mean,Successful Time to first token ms median,Successful Time to first token ms std dev,\"Successful Time to first token ms [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]\"\ngenerative_benchmark,synchronous,50,0,0,2.0,1.0,400,40,61.0,60.0,4.0,\"[50.0, 50.0, 51.0, 53.0, 55.0, 57.0, 64.0, 70.0, 74.0, 82.0, 84.0]\"\ngenerative_benchmark,throughput,90,2,1,8.0,6.0,400,40,121.0,118.0,12.0,\"[90.0, 90.0, 93.0, 99.0, 103.0, 110.0, 129.0, 140.0, 150.0, 170.0, 172.0]\"\n";
const OPTIONS: &str = "[sweep]\nkey = \"deployment.ptu.reserved.units\"\nfrom = 15\nto = 300\nstep = 5\nreplications = 2\ncompare = \"paygo\"\n\n[plan]\nsla = \"p99<=800ms\"\ndeployment = \"ptu\"\nterms = [\"monthly\", \"hourly\"]\nmax_units = 100\nreplications = 3\n";
const OPTIONS_2: &str =
    "[sweep]\nkey = \"demand_scale\"\nvalues = [0.5, 1, 2]\n\n[plan]\nsla = \"99.9% under 2 s\"\n";

fn read_dir_files(dir: &Path, ext: &str) -> Vec<Vec<u8>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v.into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// The first `lines` lines of a public trace in the `--corpus` folder, if given (read in place;
/// scripts/fuzz.sh passes the public traces' folder when it is there).
fn public_head(corpus: Option<&Path>, name: &str, lines: usize) -> Option<Vec<u8>> {
    let text = std::fs::read(corpus?.join(name)).ok()?;
    let end = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(lines - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    Some(text[..end].to_vec())
}

fn seeds(a: &Args) -> Vec<Vec<u8>> {
    let r = &a.repo;
    let mut s = match a.target.as_str() {
        "scenario" => read_dir_files(&r.join("scenarios"), "toml"),
        "profile" => read_dir_files(&r.join("scenarios/profiles"), "toml"),
        "azure" => {
            let mut v = vec![AZURE.as_bytes().to_vec()];
            v.extend(public_head(a.corpus.as_deref(), "azure2023_conv.csv", 200));
            v.extend(public_head(a.corpus.as_deref(), "azure2023_code.csv", 200));
            v
        }
        "burstgpt" => read_dir_files(&r.join("scenarios/traces"), "csv"),
        "mooncake" => {
            let mut v = vec![MOONCAKE.as_bytes().to_vec()];
            v.extend(public_head(
                a.corpus.as_deref(),
                "mooncake_fast25_conversation.jsonl",
                50,
            ));
            v
        }
        "csv" => vec![CSV.as_bytes().to_vec()],
        "options" => vec![OPTIONS.as_bytes().to_vec(), OPTIONS_2.as_bytes().to_vec()],
        "guidellm" => vec![
            GUIDELLM_JSON.as_bytes().to_vec(),
            GUIDELLM_CSV.as_bytes().to_vec(),
        ],
        "diff" => Vec::new(), // the run folder's files, see Diff
        _ => unreachable!(),
    };
    s.retain(|x| !x.is_empty());
    s
}

/// One mutation of `data` (a seed or an earlier mutant), splicing from `pool`.
fn mutate(rng: &mut Pcg64Mcg, data: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut d = data.to_vec();
    let rounds = 1 + rng.random_range(0..4);
    for _ in 0..rounds {
        let len = d.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..=len)
        };
        match rng.random_range(0..9) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                d[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                d[i] = rng.random();
            }
            2 => d.insert(at, rng.random_range(0x20..0x7f)),
            3 if len > 0 => {
                let n = rng.random_range(1..=len.min(64));
                let from = rng.random_range(0..=len - n);
                d.drain(from..from + n);
            }
            4 if len > 0 => {
                let n = rng.random_range(1..=len.min(256));
                let from = rng.random_range(0..=len - n);
                let chunk = d[from..from + n].to_vec();
                d.splice(at..at, chunk);
            }
            5 | 6 => {
                // Replace the token under `at` (a run of [A-Za-z0-9.+-_"]) with an interesting value.
                let v = INTERESTING[rng.random_range(0..INTERESTING.len())].as_bytes();
                let is_tok = |b: u8| b.is_ascii_alphanumeric() || b"._+-\"".contains(&b);
                let mut s = at.min(len);
                while s > 0 && is_tok(d[s - 1]) {
                    s -= 1;
                }
                let mut e = at.min(len);
                while e < len && is_tok(d[e]) {
                    e += 1;
                }
                d.splice(s..e, v.iter().copied());
            }
            7 if !pool.is_empty() => {
                let other = &pool[rng.random_range(0..pool.len())];
                if !other.is_empty() {
                    let n = rng.random_range(1..=other.len().min(512));
                    let from = rng.random_range(0..=other.len() - n);
                    d.splice(at..at, other[from..from + n].iter().copied());
                }
            }
            _ => {
                // Truncate: the most common real-world damage.
                if len > 0 {
                    d.truncate(rng.random_range(0..len));
                }
            }
        }
    }
    d.truncate(1 << 20);
    d
}

/// diff's work: folder A (intact), folder B (one file mutated at a time), and each file's name
/// and original bytes.
struct DiffWork {
    a: PathBuf,
    b: PathBuf,
    files: Vec<(String, Vec<u8>)>,
    /// Folder A as `diff::open` reads it (over all its hours).
    read_a: llmcap::analysis::diff::RunFolder,
}

/// The state a target needs between executions.
struct Work {
    dir: PathBuf,
    diff: Option<DiffWork>,
}

fn exec(target: &str, w: &Work, data: &[u8], which: usize) {
    let text = String::from_utf8_lossy(data);
    match target {
        "scenario" => {
            let file = w.dir.join("fuzz.toml");
            if let Ok(sc) = llmcap::domain::Scenario::from_toml(&text, &file) {
                if let Some(spec) = &sc.sweep {
                    if let Ok(table) =
                        llmcap::input::document::parse_toml::<toml::Table>(&text, &file)
                    {
                        let mut spec = spec.clone();
                        spec.values.truncate(3);
                        let _ = llmcap::analysis::sweep::Sweep::build(
                            &table,
                            &file,
                            spec,
                            &Default::default(),
                        );
                    }
                }
                if let Some(p) = &sc.plan {
                    let _ = llmcap::analysis::plan::spec(
                        &sc,
                        &file,
                        p.sla,
                        p.deployment.as_deref(),
                        p.terms.as_deref(),
                        p.max_units,
                    );
                }
                let _ = sc.warnings();
            }
        }
        "profile" => {
            let _ = llmcap::analysis::pick::Profile::from_toml(&text, &w.dir.join("fuzz.toml"));
        }
        "guidellm" => {
            // A CSV report when the first line looks like one, else JSON (the reader goes by
            // the file's extension).
            let csv = data.starts_with(b"Type,") || data.starts_with(b"Run Info,");
            let file = w.dir.join(if csv { "report.csv" } else { "report.json" });
            std::fs::write(&file, data).expect("the work folder is writable");
            let format = llmcap::domain::measurement::MeasurementFormat::Guidellm;
            if let Ok(m) = llmcap::input::measurements::read(&file, format) {
                let opts = llmcap::analysis::calibrate::Options {
                    deployment: "fuzz".into(),
                    holdout: 0.2,
                    units: None,
                    output_weight: 1.0,
                    seed: 1,
                };
                let _ = llmcap::analysis::calibrate::calibrate(&[m], &opts);
            }
        }
        "azure" | "burstgpt" | "mooncake" | "csv" => {
            let file = w.dir.join("trace");
            std::fs::write(&file, data).expect("the work folder is writable");
            let format = match target {
                "azure" => TraceFormat::Azure,
                "burstgpt" => TraceFormat::BurstGpt,
                "mooncake" => TraceFormat::Mooncake,
                _ => TraceFormat::Csv(CsvMapping {
                    time: "t".into(),
                    time_unit: [
                        TimeUnit::Seconds,
                        TimeUnit::Milliseconds,
                        TimeUnit::DateTime,
                    ][which % 3],
                    input: "in".into(),
                    output: "out".into(),
                    model: Some("model".into()),
                }),
            };
            if let Ok(reader) = llmcap::input::trace::TraceReader::open(&file, format) {
                for row in reader.take(100_000) {
                    let _ = row;
                }
            }
        }
        "diff" => {
            let DiffWork {
                a,
                b,
                files,
                read_a,
            } = w.diff.as_ref().expect("diff needs --run-folder");
            let (name, original) = &files[which % files.len()];
            std::fs::write(b.join(name), data).expect("the work folder is writable");
            use llmcap::analysis::diff::{catalog_view, diff, open, open_against};
            // A is read once (it never changes); B against it, or both again when B holds
            // fewer hours than A (what `diff` itself does, through `open`).
            match open_against(read_a, b) {
                Ok(Some(rb)) => {
                    let _ = diff(read_a, &rb, catalog_view);
                }
                Ok(None) => {
                    if let Ok((ra, rb)) = open(a, b) {
                        let _ = diff(&ra, &rb, catalog_view);
                    }
                }
                Err(_) => {}
            }
            std::fs::write(b.join(name), original).expect("the work folder is writable");
        }
        "options" => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Doc {
                sweep: Option<RawSweep>,
                plan: Option<RawPlan>,
            }
            let file = w.dir.join("fuzz.toml");
            if let Ok(doc) = llmcap::input::document::parse_toml::<Doc>(&text, &file) {
                if let Some(s) = &doc.sweep {
                    let _ = llmcap::domain::SweepSpec::from_raw(s, &file, "sweep");
                    let _ = llmcap::domain::SweepSpec::from_raw(s, &file, "--");
                }
                if let Some(sla) = doc.plan.as_ref().and_then(|p| p.sla.as_ref()) {
                    let _ = llmcap::input::scenario::parse_sla(sla);
                }
            }
            // The SLA parser on the raw text too (what --sla receives).
            let _ = llmcap::input::scenario::parse_sla(&text);
        }
        _ => unreachable!(),
    }
}

fn main() {
    let a = parse_args();
    // A panic is what we look for: keep the default hook quiet and count it instead.
    std::panic::set_hook(Box::new(|_| {}));
    let r = run(&a);
    println!(
        "target={} executions={} crashes={} slow={} seconds={:.0} seed={}",
        a.target, r.execs, r.crashes, r.slow, a.seconds, a.seed
    );
    if r.crashes > 0 {
        std::process::exit(1);
    }
}

/// Fuzzes `a.target` until `a.seconds` have passed or `a.max_execs` inputs have run.
pub fn run(a: &Args) -> Report {
    // Memory-backed when there is one: rewriting a file in place on ext4 flushes it to disk on
    // every execution (auto_da_alloc), which made the trace targets 20x slower.
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("llmcap-fuzz-{}-{}", a.target, std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let mut pool = seeds(a);
    let mut diff = None;
    if a.target == "diff" {
        let Some(run) = &a.run_folder else {
            eprintln!("diff needs --run-folder DIR (a folder written by llmcap run)");
            std::process::exit(2);
        };
        let (fa, fb) = (dir.join("A"), dir.join("B"));
        let mut files = Vec::new();
        for f in [
            "summary.json",
            "hourly.csv",
            "cost_by_tag.csv",
            "focus.csv",
            "attribution.csv",
        ] {
            let bytes = std::fs::read(run.join(f)).unwrap_or_else(|e| {
                eprintln!("{}: {e}", run.join(f).display());
                std::process::exit(2)
            });
            for d in [&fa, &fb] {
                std::fs::create_dir_all(d).expect("a temporary folder");
                std::fs::write(d.join(f), &bytes).expect("a temporary folder");
            }
            files.push((f.to_string(), bytes));
        }
        pool = files.iter().map(|(_, b)| b.clone()).collect();
        let read_a = match llmcap::analysis::diff::open(&fa, &fb) {
            Ok((ra, _)) => ra,
            Err(e) => {
                eprintln!("{}: not a run folder diff can read: {e}", run.display());
                std::process::exit(2)
            }
        };
        diff = Some(DiffWork {
            a: fa,
            b: fb,
            files,
            read_a,
        });
    }
    if pool.is_empty() {
        eprintln!("{}: no seeds found under {}", a.target, a.repo.display());
        std::process::exit(2);
    }
    let work = Work {
        dir: dir.clone(),
        diff,
    };
    let mut rng = Pcg64Mcg::seed_from_u64(a.seed);
    let deadline = Instant::now() + Duration::from_secs_f64(a.seconds);
    let (mut execs, mut crashes, mut slow) = (0u64, 0u64, 0u64);
    let mut corpus = pool.clone();
    let mut last_report = Instant::now();
    while Instant::now() < deadline && execs < a.max_execs {
        for _ in 0..64 {
            let which = rng.random_range(0..corpus.len());
            // For diff, a mutant of file k is written to file k: keep the index of the seed.
            let (base_index, base) = if a.target == "diff" {
                let k = which % pool.len();
                (k, &pool[k])
            } else {
                (which, &corpus[which])
            };
            let data = mutate(&mut rng, base, &pool);
            let started = Instant::now();
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                exec(&a.target, &work, &data, base_index)
            }));
            let took = started.elapsed();
            execs += 1;
            if outcome.is_err() {
                crashes += 1;
                std::fs::create_dir_all(&a.crashes).expect("the crashes folder");
                let f = a.crashes.join(format!("{}-{}-{execs}", a.target, a.seed));
                std::fs::write(&f, &data).expect("the crashes folder");
                let why = outcome
                    .err()
                    .and_then(|e| {
                        e.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    })
                    .unwrap_or_default();
                eprintln!("CRASH {}: {why}", f.display());
                if a.target == "diff" {
                    // Put the file back: the panic skipped the restore.
                    if let Some(DiffWork { b, files, .. }) = &work.diff {
                        let (name, original) = &files[base_index % files.len()];
                        let _ = std::fs::write(b.join(name), original);
                    }
                }
            } else if took > Duration::from_secs(1) {
                slow += 1;
                std::fs::create_dir_all(&a.crashes).expect("the crashes folder");
                let f = a
                    .crashes
                    .join(format!("{}-{}-slow-{execs}", a.target, a.seed));
                std::fs::write(&f, &data).expect("the crashes folder");
                eprintln!("SLOW {:.1} s {}", took.as_secs_f64(), f.display());
            }
            // Keep some mutants as bases, so mutations stack (a small, bounded corpus).
            if a.target != "diff" && rng.random_range(0..16) == 0 {
                if corpus.len() < 256 {
                    corpus.push(data);
                } else {
                    let i = rng.random_range(pool.len()..corpus.len());
                    corpus[i] = data;
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(60) {
            eprintln!("{}: {execs} executions, {crashes} crashes so far", a.target);
            last_report = Instant::now();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Report {
        execs,
        crashes,
        slow,
    }
}
