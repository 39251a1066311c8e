//! Past one machine: a command's work split into shards, and the shards merged back.
//!
//! A command's work is a list of items, (point, replication) pairs in point-major order (a
//! sweep's points; one point for a run). Shard `I` of `N` computes the items `k` with
//! `k mod N == I` (round robin, so the points that cost more are spread over the shards). The
//! split depends on the item list and `N` only, never on threads or machines, and a
//! replication's random streams depend on the seed and its number only, so each item's
//! result is the one a one-machine run computes. A shard writes one shard file (see
//! [`ShardFile`]); `llmcap merge` checks that the shards agree and that every item is there
//! exactly once, then hands the per-point outcomes and histograms to the code the one-machine
//! command uses, so the outputs are byte-identical.
//!
//! Indices are zero-based (`0/3`, `1/3`, `2/3`), as Slurm job arrays (`--array=0-2`),
//! Kubernetes Indexed Jobs and AWS Batch array jobs number their workers.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::frontier::Evaluation;
use crate::analysis::plan::{Measurements, Mode};
use crate::analysis::sweep::RepOutcome;
use crate::error::{InputError, ValueError};
use crate::model::metrics::{Hist, RepMetrics};

/// The `format` field of every shard file.
pub const FORMAT: &str = "llmcap-shard";
/// The version of the shard file layout this llmcap writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// How items are dealt to shards, as the manifest states it.
pub const ASSIGNMENT: &str = "round robin: item k goes to shard k mod count";
/// The environment variables `--shard auto` reads, engine by engine.
pub const SLURM_INDEX: &str = "SLURM_ARRAY_TASK_ID";
pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
pub const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
pub const BATCH_INDEX: &str = "AWS_BATCH_JOB_ARRAY_INDEX";
/// Most shards of one command: more would leave most shards without a replication to run.
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// Reads `--shard`: `I/N` (zero-based, `0 <= I < N`), `auto` (index and count from the
    /// batch engine's environment, via `env`) or `auto/N` (index from the environment, count
    /// given: Kubernetes and AWS Batch do not pass the count to the worker).
    pub fn parse(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ShardSpec, ValueError> {
        let (i, n) = text.split_once('/').unwrap_or((text, ""));
        let count = if n.is_empty() && i == "auto" {
            None
        } else {
            Some(number(n, "N", text)?)
        };
        let spec = if i == "auto" {
            from_env(count, env)?
        } else {
            let count = count.ok_or_else(|| {
                ValueError::from(format!(
                    "\"{text}\": write I/N (shard I of N, counting from 0, e.g. 0/4), auto or auto/N"
                ))
            })?;
            ShardSpec {
                index: number(i, "I", text)?,
                count,
            }
        };
        spec.check(text)?;
        Ok(spec)
    }

    fn check(&self, text: &str) -> Result<(), ValueError> {
        if self.count == 0 || self.count > MAX_SHARDS {
            return Err(format!(
                "\"{text}\": the shard count must be 1 to {MAX_SHARDS}, got {}",
                self.count
            )
            .into());
        }
        if self.index >= self.count {
            return Err(format!(
                "\"{text}\": shard {} of {} does not exist; shards count from 0, so the index is 0 to {}",
                self.index,
                self.count,
                self.count - 1
            )
            .into());
        }
        Ok(())
    }

    /// The items of this shard among `total`, in order.
    pub fn items(&self, total: usize) -> Vec<usize> {
        (self.index as usize..total)
            .step_by(self.count as usize)
            .collect()
    }
}

fn number(s: &str, what: &str, text: &str) -> Result<u32, ValueError> {
    s.trim().parse::<u32>().map_err(|_| {
        format!("\"{text}\": {what} must be a whole number 0 or more, got \"{s}\"; write I/N (e.g. 0/4), auto or auto/N").into()
    })
}

/// `--shard auto`: the index (and count) a batch engine gives its worker.
fn from_env(
    count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ShardSpec, ValueError> {
    let read = |name: &str| -> Result<Option<u32>, ValueError> {
        match env(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u32>().map(Some).map_err(|_| {
                format!("--shard auto: {name}={v:?} is not a whole number 0 or more").into()
            }),
        }
    };
    if let Some(id) = read(SLURM_INDEX)? {
        // An array --array=1-8 numbers its tasks from 1: the index counts from the first task.
        let min = read(SLURM_MIN)?.unwrap_or(0);
        if let Some(step) = read(SLURM_STEP)? {
            if step != 1 {
                return Err(format!("--shard auto: the Slurm array has step {step} ({SLURM_STEP}); submit a contiguous array such as --array=0-{}", count.unwrap_or(2).saturating_sub(1)).into());
            }
        }
        let from_slurm = read(SLURM_COUNT)?;
        let count = match (count, from_slurm) {
            (Some(n), Some(s)) if n != s => return Err(format!("--shard auto/{n}: the Slurm array has {s} tasks ({SLURM_COUNT}); give --shard auto or auto/{s}").into()),
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => return Err(format!("--shard auto: {SLURM_INDEX} is set but {SLURM_COUNT} is not; give the count as --shard auto/N").into()),
        };
        return Ok(ShardSpec {
            index: id.checked_sub(min).ok_or_else(|| {
                ValueError::from(format!(
                    "--shard auto: {SLURM_INDEX}={id} is below {SLURM_MIN}={min}"
                ))
            })?,
            count,
        });
    }
    for name in [K8S_INDEX, BATCH_INDEX] {
        if let Some(index) = read(name)? {
            let count = count.ok_or_else(|| {
                ValueError::from(format!(
                    "--shard auto: {name}={index} gives the index but not the count; give it as --shard auto/N (N = the Job's completions or the array size)"
                ))
            })?;
            return Ok(ShardSpec { index, count });
        }
    }
    Err(format!(
        "--shard auto: none of {SLURM_INDEX} (Slurm job array), {K8S_INDEX} (Kubernetes Indexed Job) or {BATCH_INDEX} (AWS Batch array job) is set; run it as an array task or give --shard I/N"
    )
    .into())
}

/// Floats as the shortest decimal text that reads back to the same bits (Rust's `{:?}` and
/// `str::parse` guarantee that round trip, which a JSON reader need not), so a merge computes
/// with the very numbers a shard did.
pub mod exact {
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct Exact(pub f64);

    impl Serialize for Exact {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&format!("{:?}", self.0))
        }
    }

    impl<'de> Deserialize<'de> for Exact {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Exact, D::Error> {
            let text = std::borrow::Cow::<str>::deserialize(d)?;
            text.parse::<f64>()
                .map(Exact)
                .map_err(|_| D::Error::custom(format!("\"{text}\" is not a number")))
        }
    }

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        Exact(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Exact::deserialize(d).map(|e| e.0)
    }

    pub mod opt {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            v.map(Exact).serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            Option::<Exact>::deserialize(d).map(|o| o.map(|e| e.0))
        }
    }

    pub mod vec {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|&x| Exact(x)))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Vec::<Exact>::deserialize(d).map(|v| v.into_iter().map(|e| e.0).collect())
        }
    }

    pub mod vec_opt {
        use super::*;
        pub fn serialize<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|x| x.map(Exact)))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<f64>>, D::Error> {
            Vec::<Option<Exact>>::deserialize(d)
                .map(|v| v.into_iter().map(|o| o.map(|e| e.0)).collect())
        }
    }
}

/// What the shards were asked to compute beyond the scenario file: the command and the
/// options that change its work (not --out, --threads, --quiet, which do not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Work {
    /// "sweep", "run", "frontier", "plan" or "pick".
    pub command: String,
    /// The swept key and its values, in sweep order (empty for a run).
    pub key: String,
    #[serde(with = "exact::vec")]
    pub values: Vec<f64>,
    /// Replications per point from the `[sweep]` table (None: the scenario's).
    pub sweep_replications: Option<u32>,
    pub compare: Option<String>,
    /// How messages name the sweep's fields ("sweep" or "--").
    pub at: String,
    /// --seed, --replications, --horizon-hours.
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub horizon_hours: Option<u32>,
    /// --trace flags, their paths made absolute.
    pub traces: Vec<String>,
    /// --start-date (run).
    #[serde(default)]
    pub start_date: Option<String>,
    /// --sla (frontier, plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// plan's --deployment, --terms and --max-units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanWork>,
    /// pick's --as-of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// pick: the profile's path as the command line gave it, which pick.md, pick.json and
    /// design.toml quote (the merge reads the profile's text from the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_file: Option<String>,
}

/// The flags of `plan` that change its search, besides --sla.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanWork {
    pub deployment: Option<String>,
    pub terms: Option<Vec<String>>,
    pub max_units: Option<u32>,
}

/// The part of a shard file every shard of one command shares, and its shard spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    pub llmcap_version: String,
    pub scenario_name: String,
    /// The scenario file as the shard read it (absolute): a merge validates the scenario again
    /// from `scenario_text`, and relative trace paths are read from this file's folder.
    pub scenario_path: String,
    pub scenario_sha256: String,
    pub scenario_text: String,
    pub seed: u64,
    pub replications: u32,
    pub horizon_hours: u32,
    pub work: Work,
    /// 1: the command's work (a frontier's grid); 2: a frontier's sustained-rate search, whose
    /// items are the grid's frontier configurations (docs/scale-out.md).
    #[serde(default = "round_one")]
    pub round: u32,
    /// Every item of the command, (point, replication), in order; in round 2, (frontier
    /// configuration, 0).
    pub items: Vec<(usize, u32)>,
    pub assignment: String,
    pub shard: ShardSpec,
    /// Worker threads the shard ran on (does not change results).
    pub threads: usize,
}

fn round_one() -> u32 {
    1
}

/// One item's result, losslessly: for a sweep, the replication's outcome and its TTFT histogram;
/// for a run, everything the replication measured; for a pick, every configuration the
/// candidate's search simulated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    /// Its position in the manifest's `items`.
    pub item: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RepOutcome>,
    /// TTFT histogram, microseconds: (highest value of a bucket, count) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ttft_us: Vec<(u64, u64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<RepMetrics>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configurations: Vec<ConfigResult>,
    /// Round 2 of a frontier: the configuration's sustained-rate search, every evaluation in
    /// the order the search made them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluations: Vec<Evaluation>,
}

/// One configuration a pick candidate's search simulated: its outcomes in replication order and
/// its pooled TTFT histogram (microseconds, as `ItemResult::ttft_us`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigResult {
    pub mode: Mode,
    pub units: u32,
    pub outcomes: Vec<RepOutcome>,
    pub ttft_us: Vec<(u64, u64)>,
}

impl ConfigResult {
    /// A candidate's measurements as shard file entries, in (mode, units) order.
    pub fn all(measured: Measurements) -> Vec<ConfigResult> {
        measured
            .into_iter()
            .map(|((mode, units), (outcomes, hist))| ConfigResult {
                mode,
                units,
                outcomes,
                ttft_us: hist.buckets(),
            })
            .collect()
    }
}

/// A shard file: gzip-compressed JSON (`zcat FILE | jq .manifest` shows the manifest).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    pub format: String,
    pub format_version: u32,
    pub manifest: ShardManifest,
    pub results: Vec<ItemResult>,
}

impl ShardFile {
    /// The file name of shard `spec` of a command.
    pub fn name(spec: ShardSpec) -> String {
        format!("shard-{}-of-{}.json.gz", spec.index, spec.count)
    }
}

/// Whether `path` is named like a shard file.
pub fn is_shard_name(name: &str) -> bool {
    name.starts_with("shard-") && name.ends_with(".json.gz")
}

/// The shard files among `paths`: files as given; a folder by the shard files in it or, when it
/// has none, in its subfolders (one level: `merge shards` for `shards/0`, `shards/1`, ...), sorted.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for p in paths {
        if !p.is_dir() {
            files.push(p.clone());
            continue;
        }
        let mut found = shard_files_in(p)?;
        if found.is_empty() {
            for sub in subfolders(p)? {
                found.extend(shard_files_in(&sub)?);
            }
        }
        if found.is_empty() {
            return Err(invalid(
                p,
                ".",
                "the folder holds no shard file (shard-I-of-N.json.gz), nor do its subfolders",
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn listing(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let entries = std::fs::read_dir(dir).map_err(|source| InputError::Read {
        file: dir.to_path_buf(),
        source,
    })?;
    let mut v: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    v.sort();
    Ok(v)
}

fn shard_files_in(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    Ok(listing(dir)?
        .into_iter()
        .filter(|f| {
            f.is_file()
                && f.file_name()
                    .is_some_and(|n| is_shard_name(&n.to_string_lossy()))
        })
        .collect())
}

fn subfolders(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    Ok(listing(dir)?.into_iter().filter(|f| f.is_dir()).collect())
}

fn invalid(file: &Path, path: &str, message: impl Into<String>) -> InputError {
    InputError::Invalid {
        file: file.to_path_buf(),
        path: path.to_string(),
        message: message.into(),
    }
}

/// Reads one shard file.
pub fn read(file: &Path) -> Result<ShardFile, InputError> {
    let bytes = std::fs::read(file).map_err(|source| InputError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .map_err(|e| {
            invalid(
                file,
                ".",
                format!("not a shard file (a gzip-compressed llmcap-shard JSON): {e}"),
            )
        })?;
    // The format and version first, so an old or foreign file gets that reason.
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
        format_version: Option<u32>,
    }
    let head: Head = serde_json::from_slice(&json)
        .map_err(|e| invalid(file, ".", format!("not a shard file: {e}")))?;
    if head.format.as_deref() != Some(FORMAT) {
        return Err(invalid(
            file,
            "format",
            format!(
                "not an {FORMAT} file (format {:?})",
                head.format.unwrap_or_default()
            ),
        ));
    }
    if head.format_version != Some(FORMAT_VERSION) {
        return Err(invalid(
            file,
            "format_version",
            format!(
                "shard file version {:?}; this llmcap reads version {FORMAT_VERSION}: merge with the llmcap that wrote the shards",
                head.format_version
            ),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(&json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        invalid(file, &path, e.into_inner().to_string())
    })
}

/// Checks that the shards `files` (read with [`read`]) are the shards of one command, each
/// index once, none missing, each holding exactly its own items. Errors name the shard file
/// and the reason.
pub fn check(files: &[(PathBuf, ShardFile)]) -> Result<(), InputError> {
    let Some((first_path, first)) = files.first() else {
        return Err(invalid(Path::new("."), "SHARDS", "no shard file given"));
    };
    let base = &first.manifest;
    let version = env!("CARGO_PKG_VERSION");
    let mut seen: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for (path, f) in files {
        let m = &f.manifest;
        if m.llmcap_version != version {
            return Err(invalid(path, "manifest.llmcap_version", format!(
                "written by llmcap {}; this is llmcap {version}: merge with the version that wrote the shards",
                m.llmcap_version
            )));
        }
        same_command(path, m, first_path, base)?;
        let differs = |key: &str, a: String, b: String| differs(path, key, a, b, first_path);
        if m.round != base.round {
            return Err(differs(
                "round",
                format!("round {}", m.round),
                format!("round {}", base.round),
            ));
        }
        if m.items != base.items || m.assignment != base.assignment {
            return Err(differs(
                "items",
                format!("{} item(s)", m.items.len()),
                format!("{}", base.items.len()),
            ));
        }
        if m.shard.count != base.shard.count {
            return Err(differs(
                "shard",
                format!("shard {} (of {})", m.shard, m.shard.count),
                format!("{} shards", base.shard.count),
            ));
        }
        if m.shard.index >= m.shard.count {
            return Err(invalid(
                path,
                "manifest.shard",
                format!("shard {} does not exist", m.shard),
            ));
        }
        if let Some(other) = seen.insert(m.shard.index, path) {
            return Err(invalid(
                path,
                "manifest.shard",
                format!(
                    "shard {} is given twice: here and in {}",
                    m.shard,
                    other.display()
                ),
            ));
        }
        let want = m.shard.items(m.items.len());
        let got: Vec<usize> = f.results.iter().map(|r| r.item).collect();
        if got != want {
            let missing: Vec<usize> = want.iter().filter(|k| !got.contains(k)).copied().collect();
            return Err(invalid(path, "results", format!(
                "shard {} must hold items {} in order; it holds {} item(s){}: the file is damaged or was edited",
                m.shard,
                brief(&want),
                got.len(),
                if missing.is_empty() { String::new() } else { format!(", missing {}", brief(&missing)) }
            )));
        }
    }
    let missing: Vec<String> = (0..base.shard.count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{}", base.shard.count))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(
            first_path,
            "manifest.shard",
            format!(
                "{} of {} shard(s) missing: {} (shard files {}); give every shard of the command",
                missing.len(),
                base.shard.count,
                brief_text(&missing),
                ShardFile::name(ShardSpec {
                    index: 0,
                    count: base.shard.count
                })
                .replace("shard-0-", "shard-I-")
            ),
        ));
    }
    Ok(())
}

/// "`a` here, `b` in `base_path`": the shard `path` disagrees with another at `manifest.key`.
fn differs(path: &Path, key: &str, a: String, b: String, base_path: &Path) -> InputError {
    invalid(
        path,
        &format!("manifest.{key}"),
        format!(
            "{a} here, {b} in {}: shards of different commands cannot be merged",
            base_path.display()
        ),
    )
}

/// Checks that the shard `path` (manifest `m`) was computed from the scenario, seed and work of
/// `base` (read from `base_path`): the scenario's SHA-256, the seed, the work, replications and
/// horizon. Errors name `path`.
pub fn same_command(
    path: &Path,
    m: &ShardManifest,
    base_path: &Path,
    base: &ShardManifest,
) -> Result<(), InputError> {
    let differs = |key: &str, a: String, b: String| differs(path, key, a, b, base_path);
    if m.scenario_sha256 != base.scenario_sha256 {
        return Err(differs(
            "scenario_sha256",
            format!("scenario SHA-256 {}", m.scenario_sha256),
            base.scenario_sha256.clone(),
        ));
    }
    if m.seed != base.seed {
        return Err(differs(
            "seed",
            format!("seed {}", m.seed),
            base.seed.to_string(),
        ));
    }
    if m.work != base.work
        || m.replications != base.replications
        || m.horizon_hours != base.horizon_hours
    {
        return Err(differs("work", describe(m), describe(base)));
    }
    Ok(())
}

/// The work of a shard in a few words, for messages.
fn describe(m: &ShardManifest) -> String {
    let w = &m.work;
    let what = if w.key.is_empty() {
        w.command.clone()
    } else {
        format!("{} of {} = {:?}", w.command, w.key, w.values)
    };
    let mut flags = Vec::new();
    if let Some(sla) = &w.sla {
        flags.push(format!("--sla {sla}"));
    }
    if let Some(p) = &w.plan {
        if let Some(d) = &p.deployment {
            flags.push(format!("--deployment {d}"));
        }
        if let Some(t) = &p.terms {
            flags.push(format!("--terms {}", t.join(",")));
        }
        if let Some(u) = p.max_units {
            flags.push(format!("--max-units {u}"));
        }
    }
    if let Some(d) = &w.start_date {
        flags.push(format!("--start-date {d}"));
    }
    if let Some(d) = &w.as_of {
        flags.push(format!("--as-of {d}"));
    }
    for t in &w.traces {
        flags.push(format!("--trace {t}"));
    }
    let flags = match flags.is_empty() {
        true => String::new(),
        false => format!(" ({})", flags.join(" ")),
    };
    format!(
        "{what}{flags}, {} replication(s) of {} h",
        m.replications, m.horizon_hours
    )
}

fn brief(items: &[usize]) -> String {
    brief_text(&items.iter().map(|k| k.to_string()).collect::<Vec<_>>())
}

fn brief_text(items: &[String]) -> String {
    if items.len() <= 8 {
        items.join(", ")
    } else {
        format!("{}, ... ({} in all)", items[..8].join(", "), items.len())
    }
}

/// Per point, in point order: its outcomes in replication order and its pooled TTFT
/// histogram, from checked shards ([`check`]). `points` is the number of points.
pub fn by_point(
    files: &[(PathBuf, ShardFile)],
    points: usize,
) -> Result<Vec<(Vec<RepOutcome>, Hist)>, InputError> {
    let mut out: Vec<(Vec<(u32, RepOutcome)>, Hist)> =
        (0..points).map(|_| (Vec::new(), Hist::default())).collect();
    for (path, f) in files {
        for r in &f.results {
            let &(p, rep) = f.manifest.items.get(r.item).ok_or_else(|| {
                invalid(
                    path,
                    "results",
                    format!("item {} is not in the manifest", r.item),
                )
            })?;
            let slot = out.get_mut(p).ok_or_else(|| {
                invalid(
                    path,
                    "manifest.items",
                    format!("point {p} is not a point of the sweep ({points} points)"),
                )
            })?;
            let hist = Hist::from_buckets(&r.ttft_us).ok_or_else(|| {
                invalid(
                    path,
                    &format!("results[{}].ttft_us", r.item),
                    "a bucket with count 0 or a value out of range",
                )
            })?;
            let outcome = r
                .outcome
                .clone()
                .ok_or_else(|| invalid(path, &format!("results[{}].outcome", r.item), "missing"))?;
            slot.0.push((rep, outcome));
            slot.1.merge(&hist);
        }
    }
    Ok(out
        .into_iter()
        .map(|(mut reps, hist)| {
            reps.sort_by_key(|(r, _)| *r);
            (reps.into_iter().map(|(_, o)| o).collect(), hist)
        })
        .collect())
}

/// Per candidate of a pick (`candidates` of them), the configurations its search simulated,
/// from checked shards ([`check`]) whose items are the candidates, and the shard file that
/// holds each candidate.
pub fn by_candidate(
    files: &[(PathBuf, ShardFile)],
    candidates: usize,
) -> Result<Vec<(Measurements, PathBuf)>, InputError> {
    let mut out: Vec<(Measurements, PathBuf)> = (0..candidates)
        .map(|_| (Measurements::new(), PathBuf::new()))
        .collect();
    for (path, f) in files {
        for r in &f.results {
            let key = format!("results[{}]", r.item);
            let slot = f
                .manifest
                .items
                .get(r.item)
                .and_then(|&(k, _)| out.get_mut(k))
                .ok_or_else(|| invalid(path, &key, "not a candidate of the pick"))?;
            slot.1 = path.clone();
            for (j, c) in r.configurations.iter().enumerate() {
                let at = format!("{key}.configurations[{j}]");
                if c.outcomes.len() != f.manifest.replications as usize {
                    return Err(invalid(
                        path,
                        &format!("{at}.outcomes"),
                        format!(
                            "{} outcome(s) for {} replication(s): the file was edited",
                            c.outcomes.len(),
                            f.manifest.replications
                        ),
                    ));
                }
                let hist = Hist::from_buckets(&c.ttft_us).ok_or_else(|| {
                    invalid(
                        path,
                        &format!("{at}.ttft_us"),
                        "a bucket with count 0 or a value out of range",
                    )
                })?;
                if slot
                    .0
                    .insert((c.mode, c.units), (c.outcomes.clone(), hist))
                    .is_some()
                {
                    return Err(invalid(
                        path,
                        &at,
                        format!(
                            "{} with {} unit(s) is listed twice: the file was edited",
                            c.mode.label(),
                            c.units
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Per searched configuration of a frontier, its evaluations and the shard file holding them,
/// from checked round-2 shards ([`check`]), whose items are (configuration, 0).
pub fn by_search(
    files: &[(PathBuf, ShardFile)],
) -> Result<BTreeMap<usize, (Vec<Evaluation>, PathBuf)>, InputError> {
    let mut out = BTreeMap::new();
    for (path, f) in files {
        for r in &f.results {
            let &(config, _) = f.manifest.items.get(r.item).ok_or_else(|| {
                invalid(
                    path,
                    "results",
                    format!("item {} is not in the manifest", r.item),
                )
            })?;
            out.insert(config, (r.evaluations.clone(), path.clone()));
        }
    }
    Ok(out)
}

/// Every replication's metrics in replication order, from checked shards of a run ([`check`]).
pub fn by_replication(files: &[(PathBuf, ShardFile)]) -> Result<Vec<RepMetrics>, InputError> {
    let mut all: Vec<(usize, RepMetrics)> = Vec::new();
    for (path, f) in files {
        for r in &f.results {
            let m = r
                .metrics
                .clone()
                .ok_or_else(|| invalid(path, &format!("results[{}].metrics", r.item), "missing"))?;
            all.push((r.item, m));
        }
    }
    all.sort_by_key(|(k, _)| *k);
    Ok(all.into_iter().map(|(_, m)| m).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn specs_parse_or_say_why() {
        let none = env(&[]);
        assert_eq!(
            ShardSpec::parse("2/3", &none).unwrap(),
            ShardSpec { index: 2, count: 3 }
        );
        for (bad, why) in [
            ("3/2", "does not exist"),
            ("3/3", "does not exist"),
            ("0/0", "1 to"),
            ("1", "write I/N"),
            ("-1/3", "whole number"),
            ("a/b", "whole number"),
            ("auto", "none of SLURM_ARRAY_TASK_ID"),
        ] {
            let e = ShardSpec::parse(bad, &none).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn auto_reads_each_engine() {
        let slurm = env(&[(SLURM_INDEX, "5"), (SLURM_COUNT, "4"), (SLURM_MIN, "3")]);
        assert_eq!(
            ShardSpec::parse("auto", &slurm).unwrap(),
            ShardSpec { index: 2, count: 4 }
        );
        assert!(ShardSpec::parse("auto/5", &slurm)
            .unwrap_err()
            .contains("4 tasks"));
        let k8s = env(&[(K8S_INDEX, "1")]);
        assert_eq!(
            ShardSpec::parse("auto/3", &k8s).unwrap(),
            ShardSpec { index: 1, count: 3 }
        );
        assert!(ShardSpec::parse("auto", &k8s)
            .unwrap_err()
            .contains("auto/N"));
        let batch = env(&[(BATCH_INDEX, "7")]);
        assert!(ShardSpec::parse("auto/7", &batch)
            .unwrap_err()
            .contains("does not exist"));
        assert_eq!(
            ShardSpec::parse("auto/8", &batch).unwrap(),
            ShardSpec { index: 7, count: 8 }
        );
        let stepped = env(&[(SLURM_INDEX, "2"), (SLURM_COUNT, "3"), (SLURM_STEP, "2")]);
        assert!(ShardSpec::parse("auto", &stepped)
            .unwrap_err()
            .contains("step 2"));
    }

    #[test]
    fn every_item_goes_to_exactly_one_shard() {
        for total in [0usize, 1, 7, 50] {
            for count in 1..=9u32 {
                let mut all: Vec<usize> = (0..count)
                    .flat_map(|index| ShardSpec { index, count }.items(total))
                    .collect();
                all.sort();
                assert_eq!(all, (0..total).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn floats_round_trip_exactly() {
        #[derive(Serialize, Deserialize)]
        struct T {
            #[serde(with = "exact::vec")]
            v: Vec<f64>,
        }
        let v = vec![
            0.1,
            1.0 / 3.0,
            -0.0,
            1e300,
            5e-324,
            f64::INFINITY,
            123456.789e-7,
        ];
        let text = serde_json::to_string(&T { v: v.clone() }).unwrap();
        let back: T = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back.v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
}
