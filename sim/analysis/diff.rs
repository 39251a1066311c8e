//! `llmcap diff RUN_A RUN_B`: explains a cost change between two results
//! folders written by `llmcap run` (the lesson's "bill up 4x with no traffic
//! change") and says which of the changes each platform's native cost
//! attribution could have shown.
//!
//! Both folders are read ([`RunFolder::open`]): `summary.json` (manifest,
//! classes, deployments), `hourly.csv`, `cost_by_tag.csv`, `focus.csv` and,
//! when the run wrote one, `attribution.csv`. Over the hours both runs
//! simulated, every delta is B − A in USD per replication (the files' unit):
//!
//! - `traffic`: per class, the part of its cost change that its request count
//!   explains (B's requests at A's cost per request); "no traffic change" reads
//!   as ~0 here next to a large `class` delta;
//! - `class` and `tag`: per class and per tag `dimension=value`
//!   (`cost_by_tag.csv`, idle reserved capacity and untagged cost included);
//! - `deployment`: per deployment (name and platform);
//! - `component`: per deployment and price component (on-demand input
//!   tokens, on-demand output tokens, reserved unit-hours used and unused),
//!   each split into requests, quantity per request and unit price
//!   ([`Drivers`]);
//! - `hour`: per simulated hour.
//!
//! Rows of one kind (and, for tags, of one dimension) add up to the total
//! change. Each kind is ranked by absolute delta.
//!
//! Which platform shows a row ([`Reveal`]): a tag or class row is shown
//! natively when every platform that served it splits that dimension
//! natively for at least [`NATIVE_THRESHOLD`] of its cost in both runs (from
//! `attribution.csv`), with a gateway when only the gateway share covers it;
//! deployments and price components are on every bill (the platform's default
//! view); an hour is shown at the platform's granularity, so a one-hour spike
//! on a daily bill is only part of a day's total.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::WEEKDAYS;
use crate::input::trace::days_from_civil;

/// Share of a platform's cost that its native mechanism must split by a
/// dimension, in both runs, for a tag row to count as shown natively.
pub const NATIVE_THRESHOLD: f64 = 0.9;

/// The files `diff` reads from each run folder (`attribution.csv` is optional).
pub const READS: &[&str] = &[
    "summary.json",
    "hourly.csv",
    "cost_by_tag.csv",
    "focus.csv",
    "attribution.csv",
];

/// What is wrong with an input folder; each message names the folder or file.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: no such folder (give a results folder written by `llmcap run`)")]
    NoFolder { path: PathBuf },
    #[error("{path}: not an llmcap run folder: {reason}")]
    NotRun { path: PathBuf, reason: String },
    #[error("{path}: cannot read the file")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Malformed { path: PathBuf, message: String },
}

fn malformed(path: &Path, message: impl Into<String>) -> DiffError {
    DiffError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// A price component of the bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    OnDemandInput,
    OnDemandOutput,
    ReservedUsed,
    ReservedIdle,
    /// Reserved unit-hours not split by use (runs without per-class cells).
    Reserved,
}

impl Component {
    pub fn label(self) -> &'static str {
        match self {
            Component::OnDemandInput => "on-demand input tokens",
            Component::OnDemandOutput => "on-demand output tokens",
            Component::ReservedUsed => "reserved unit-hours used",
            Component::ReservedIdle => "reserved unit-hours idle",
            Component::Reserved => "reserved unit-hours",
        }
    }

    fn per_request(self) -> bool {
        matches!(self, Component::OnDemandInput | Component::OnDemandOutput)
    }
}

/// One class of a run.
#[derive(Debug, Clone, Default)]
pub struct ClassRun {
    pub model: String,
    /// Arrivals per replication.
    pub arrived: f64,
    pub mean_input_tokens: f64,
    pub mean_output_tokens: f64,
}

/// One deployment of a run.
#[derive(Debug, Clone, Default)]
pub struct DeploymentRun {
    pub platform: String,
    pub model: String,
    pub pool: String,
    /// Requests served per replication.
    pub served: f64,
}

/// One row of `attribution.csv`.
#[derive(Debug, Clone, Default)]
pub struct AttributionRow {
    pub mechanism: String,
    pub granularity_hours: f64,
    pub cost_usd: f64,
    pub native_share: f64,
    pub with_gateway_share: f64,
    pub reason: String,
}

/// Quantity, cost and unit price of one price component (summed over hours).
#[derive(Debug, Clone, Copy, Default)]
pub struct Metered {
    pub quantity: f64,
    pub cost: f64,
    /// ListUnitPrice x quantity, summed: divided by `quantity` it is the
    /// quantity-weighted unit price.
    pub priced: f64,
    pub unit: &'static str,
}

/// What `diff` uses of one results folder, over its first `hours` hours.
#[derive(Debug, Clone, Default)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub scenario: String,
    pub seed: u64,
    pub horizon_hours: u32,
    pub replications: u32,
    /// The hours read (the common horizon of the two runs).
    pub hours: u32,
    /// Weekday index (0 = Monday) of hour 0.
    pub start_weekday: u32,
    pub classes: BTreeMap<String, ClassRun>,
    pub deployments: BTreeMap<String, DeploymentRun>,
    /// Cost per hour and deployment.
    pub hourly: BTreeMap<(u32, String), f64>,
    /// Cost per (dimension, value); dimension "class" holds the classes.
    pub tags: BTreeMap<(String, String), f64>,
    /// Tag dimensions (not "class") in file order.
    pub dimensions: Vec<String>,
    /// Per deployment and component.
    pub components: BTreeMap<(String, Component), Metered>,
    /// Each class's tags (from focus.csv).
    pub class_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// Cost per class and deployment (from focus.csv).
    pub class_deployments: BTreeMap<String, BTreeMap<String, f64>>,
    /// `attribution.csv` per (platform, dimension), `None` if the run has none.
    pub attribution: Option<BTreeMap<(String, String), AttributionRow>>,
}

fn read(path: &Path) -> Result<Vec<u8>, DiffError> {
    std::fs::read(path).map_err(|source| DiffError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// A CSV file with its header, read into memory, fields looked up by name.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn open(path: &Path, need: &[&str]) -> Result<Table, DiffError> {
        let bytes = read(path)?;
        let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let header: Vec<String> = r
            .headers()
            .map_err(|e| malformed(path, format!("malformed CSV header: {e}")))?
            .iter()
            .map(String::from)
            .collect();
        for n in need {
            if !header.iter().any(|h| h == n) {
                return Err(malformed(
                    path,
                    format!("no column \"{n}\" (the header has: {})", header.join(", ")),
                ));
            }
        }
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                malformed(path, format!("line {line}: malformed CSV: {e}"))
            })?;
            rows.push(rec);
        }
        if rows.is_empty() {
            return Err(malformed(path, "no rows after the header (truncated?)"));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or(0)
    }

    fn line(&self, rec: &csv::StringRecord) -> u64 {
        rec.position().map_or(0, |p| p.line())
    }

    fn text<'r>(&self, rec: &'r csv::StringRecord, name: &str) -> &'r str {
        rec.get(self.col(name)).unwrap_or("")
    }

    fn number(&self, rec: &csv::StringRecord, name: &str) -> Result<f64, DiffError> {
        let s = self.text(rec, name);
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(malformed(
                &self.path,
                format!(
                    "line {}: column {name}: expected a number, got \"{s}\"",
                    self.line(rec)
                ),
            )),
        }
    }

    fn hour(&self, rec: &csv::StringRecord) -> Result<u32, DiffError> {
        let s = self.text(rec, "hour");
        s.parse::<u32>().map_err(|_| {
            malformed(
                &self.path,
                format!(
                    "line {}: column hour: expected an hour index, got \"{s}\"",
                    self.line(rec)
                ),
            )
        })
    }
}

/// Hours since 2001-01-01T00:00:00Z of a FOCUS timestamp `YYYY-MM-DDTHH:00:00Z`.
fn focus_hour(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    let h: i64 = s.get(11..13)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 {
        return None;
    }
    Some((days_from_civil(y, m, d) - days_from_civil(2001, 1, 1)) * 24 + h)
}

impl RunFolder {
    /// Reads the manifest of `dir` (checks that it is an llmcap run folder).
    fn manifest(dir: &Path) -> Result<(RunFolder, serde_json::Value), DiffError> {
        if !dir.exists() {
            return Err(DiffError::NoFolder {
                path: dir.to_path_buf(),
            });
        }
        if !dir.is_dir() {
            return Err(DiffError::NotRun {
                path: dir.to_path_buf(),
                reason: "it is a file, not a folder".into(),
            });
        }
        let path = dir.join("summary.json");
        if !path.exists() {
            let other = crate::report::output::MANIFEST_FILES
                .iter()
                .find(|f| dir.join(f).exists());
            return Err(DiffError::NotRun {
                path: dir.to_path_buf(),
                reason: match other {
                    Some(f) => format!("it holds {f}, not the summary.json of `llmcap run`; diff compares two run folders"),
                    None => "no summary.json (give a folder written by `llmcap run`)".into(),
                },
            });
        }
        let bytes = read(&path)?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(&path, format!("malformed JSON: {e}")))?;
        let m = &v["manifest"];
        if !m["llmcap_version"].is_string() {
            return Err(DiffError::NotRun {
                path: dir.to_path_buf(),
                reason: "summary.json has no llmcap manifest (manifest.llmcap_version)".into(),
            });
        }
        let field = |key: &str| -> Result<u64, DiffError> {
            m[key]
                .as_u64()
                .ok_or_else(|| malformed(&path, format!("manifest.{key}: expected a whole number")))
        };
        let run = RunFolder {
            dir: dir.to_path_buf(),
            scenario: m["scenario_name"].as_str().unwrap_or("").to_string(),
            seed: field("seed")?,
            horizon_hours: field("horizon_hours")? as u32,
            replications: field("replications")? as u32,
            ..Default::default()
        };
        Ok((run, v))
    }

    /// Reads the folder, keeping hours `0..hours`.
    fn load(mut self, summary: &serde_json::Value, hours: u32) -> Result<RunFolder, DiffError> {
        self.hours = hours;
        let path = self.dir.join("summary.json");
        let num = |v: &serde_json::Value, what: &str| -> Result<f64, DiffError> {
            v.as_f64()
                .ok_or_else(|| malformed(&path, format!("{what}: expected a number")))
        };
        let str_of = |v: &serde_json::Value, what: &str| -> Result<String, DiffError> {
            v.as_str()
                .map(String::from)
                .ok_or_else(|| malformed(&path, format!("{what}: expected a string")))
        };
        let list = |key: &str| -> Result<&Vec<serde_json::Value>, DiffError> {
            summary[key]
                .as_array()
                .ok_or_else(|| malformed(&path, format!("{key}: expected a list")))
        };
        for (i, c) in list("classes")?.iter().enumerate() {
            let at = |k: &str| format!("classes[{i}].{k}");
            self.classes.insert(
                str_of(&c["name"], &at("name"))?,
                ClassRun {
                    model: c["model"].as_str().unwrap_or("").to_string(),
                    arrived: num(&c["requests"]["arrived"], &at("requests.arrived"))?,
                    mean_input_tokens: c["mean_input_tokens"].as_f64().unwrap_or(0.0),
                    mean_output_tokens: c["mean_output_tokens"].as_f64().unwrap_or(0.0),
                },
            );
        }
        for (i, d) in list("deployments")?.iter().enumerate() {
            let at = |k: &str| format!("deployments[{i}].{k}");
            self.deployments.insert(
                str_of(&d["name"], &at("name"))?,
                DeploymentRun {
                    platform: str_of(&d["platform"], &at("platform"))?,
                    model: d["model"].as_str().unwrap_or("").to_string(),
                    pool: d["pool"].as_str().unwrap_or("").to_string(),
                    served: num(&d["served"], &at("served"))?,
                },
            );
        }

        let t = Table::open(
            &self.dir.join("hourly.csv"),
            &["hour", "weekday", "deployment", "cost_total_usd"],
        )?;
        for (i, rec) in t.rows.iter().enumerate() {
            let h = t.hour(rec)?;
            if i == 0 {
                let w = t.text(rec, "weekday");
                let w = WEEKDAYS.iter().position(|d| *d == w).ok_or_else(|| {
                    malformed(
                        &t.path,
                        format!("line 2: column weekday: unknown weekday \"{w}\""),
                    )
                })?;
                // Hour 0's weekday, whatever the first row's hour.
                self.start_weekday = ((w as i64 - (h / 24) as i64).rem_euclid(7)) as u32;
            }
            if h < hours {
                let dep = t.text(rec, "deployment").to_string();
                *self.hourly.entry((h, dep)).or_default() += t.number(rec, "cost_total_usd")?;
            }
        }

        let t = Table::open(
            &self.dir.join("cost_by_tag.csv"),
            &["hour", "dimension", "value", "cost_total_usd"],
        )?;
        for rec in &t.rows {
            let h = t.hour(rec)?;
            let dim = t.text(rec, "dimension").to_string();
            if dim != "class" && !self.dimensions.contains(&dim) {
                self.dimensions.push(dim.clone());
            }
            if h < hours {
                let key = (dim, t.text(rec, "value").to_string());
                *self.tags.entry(key).or_default() += t.number(rec, "cost_total_usd")?;
            }
        }

        self.read_focus()?;
        self.read_attribution()?;
        Ok(self)
    }

    fn read_focus(&mut self) -> Result<(), DiffError> {
        let t = Table::open(
            &self.dir.join("focus.csv"),
            &[
                "BilledCost",
                "ChargePeriodStart",
                "CommitmentDiscountStatus",
                "ConsumedQuantity",
                "ListUnitPrice",
                "ResourceName",
                "SkuId",
                "Tags",
            ],
        )?;
        let day0 = self.start_weekday as i64 * 24;
        for rec in &t.rows {
            let start = t.text(rec, "ChargePeriodStart");
            let h = focus_hour(start).ok_or_else(|| {
                malformed(
                    &t.path,
                    format!(
                        "line {}: column ChargePeriodStart: expected YYYY-MM-DDTHH:00:00Z, got \"{start}\"",
                        t.line(rec)
                    ),
                )
            })? - day0;
            if h < 0 || h >= self.hours as i64 {
                continue;
            }
            let dep = t.text(rec, "ResourceName").to_string();
            let sku = t.text(rec, "SkuId");
            let component = match t.text(rec, "CommitmentDiscountStatus") {
                "Used"
                    if t.text(rec, "ChargeDescription")
                        .ends_with("used and unused") =>
                {
                    Component::Reserved
                }
                "Used" => Component::ReservedUsed,
                "Unused" => Component::ReservedIdle,
                _ if sku.ends_with("/input-tokens") => Component::OnDemandInput,
                _ if sku.ends_with("/output-tokens") => Component::OnDemandOutput,
                _ => {
                    return Err(malformed(
                        &t.path,
                        format!(
                            "line {}: column SkuId: \"{sku}\" is no price component llmcap writes",
                            t.line(rec)
                        ),
                    ))
                }
            };
            let cost = t.number(rec, "BilledCost")?;
            let quantity = t.number(rec, "ConsumedQuantity")?;
            let price = t.number(rec, "ListUnitPrice")?;
            let m = self.components.entry((dep.clone(), component)).or_default();
            m.cost += cost;
            m.quantity += quantity;
            m.priced += quantity * price;
            m.unit = if component.per_request() {
                "1M tokens"
            } else {
                "unit-hours"
            };
            let tags_text = t.text(rec, "Tags");
            let mut tags: BTreeMap<String, String> =
                serde_json::from_str(tags_text).map_err(|e| {
                    malformed(
                        &t.path,
                        format!(
                            "line {}: column Tags: not a JSON object of strings: {e}",
                            t.line(rec)
                        ),
                    )
                })?;
            if let Some(class) = tags.remove("llmcap-class") {
                *self
                    .class_deployments
                    .entry(class.clone())
                    .or_default()
                    .entry(dep)
                    .or_default() += cost;
                self.class_tags.insert(class, tags);
            }
        }
        Ok(())
    }

    fn read_attribution(&mut self) -> Result<(), DiffError> {
        let path = self.dir.join("attribution.csv");
        if !path.exists() {
            return Ok(());
        }
        let t = Table::open(
            &path,
            &[
                "platform",
                "dimension",
                "mechanism",
                "granularity_hours",
                "cost_usd",
                "native_share",
                "with_gateway_share",
                "reason",
            ],
        )?;
        let mut rows = BTreeMap::new();
        for rec in &t.rows {
            let share = |name: &str| -> Result<f64, DiffError> {
                // An empty share (no cost on that platform) counts as covered.
                if t.text(rec, name).is_empty() {
                    Ok(1.0)
                } else {
                    t.number(rec, name)
                }
            };
            rows.insert(
                (
                    t.text(rec, "platform").to_string(),
                    t.text(rec, "dimension").to_string(),
                ),
                AttributionRow {
                    mechanism: t.text(rec, "mechanism").to_string(),
                    granularity_hours: t.number(rec, "granularity_hours")?,
                    cost_usd: t.number(rec, "cost_usd")?,
                    native_share: share("native_share")?,
                    with_gateway_share: share("with_gateway_share")?,
                    reason: t.text(rec, "reason").to_string(),
                },
            );
        }
        self.attribution = Some(rows);
        Ok(())
    }

    /// Total cost over the hours read.
    pub fn total(&self) -> f64 {
        self.hourly.values().sum()
    }

    /// Requests per replication, all classes.
    pub fn requests(&self) -> f64 {
        self.classes.values().map(|c| c.arrived).sum()
    }

    /// The folder's name, for labels.
    pub fn label(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }
}

/// Reads both folders over their common hours.
pub fn open(a: &Path, b: &Path) -> Result<(RunFolder, RunFolder), DiffError> {
    let (ra, va) = RunFolder::manifest(a)?;
    let (rb, vb) = RunFolder::manifest(b)?;
    let hours = ra.horizon_hours.min(rb.horizon_hours);
    Ok((ra.load(&va, hours)?, rb.load(&vb, hours)?))
}

/// The kinds of rows, in the order the outputs list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Traffic,
    Class,
    Tag,
    Deployment,
    Component,
    Hour,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Traffic,
        Kind::Class,
        Kind::Tag,
        Kind::Deployment,
        Kind::Component,
        Kind::Hour,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Traffic => "traffic",
            Kind::Class => "class",
            Kind::Tag => "tag",
            Kind::Deployment => "deployment",
            Kind::Component => "component",
            Kind::Hour => "hour",
        }
    }
}

/// How a price component's change splits: requests x quantity per request x
/// unit price, changed one after the other (A's values, then B's), so the
/// three parts add up to the delta.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Drivers {
    pub requests_a: f64,
    pub requests_b: f64,
    /// Quantity per request (per 1k requests for tokens), A and B.
    pub per_request_a: f64,
    pub per_request_b: f64,
    pub unit_price_a: f64,
    pub unit_price_b: f64,
    pub from_requests: f64,
    pub from_per_request: f64,
    pub from_price: f64,
}

/// Whether one platform's cost reporting shows a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reveal {
    pub platform: String,
    pub native: Verdict,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The platform's own cost reports show the row.
    Native,
    /// Only with a gateway that stamps tags on each request.
    Gateway,
    /// Neither.
    No,
    /// No attribution data (a run folder from an older llmcap).
    Unknown,
}

/// One ranked row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub rank: usize,
    pub kind: Kind,
    pub key: String,
    pub a_usd: f64,
    pub b_usd: f64,
    pub delta_usd: f64,
    pub share_of_change: f64,
    pub reveal: Vec<Reveal>,
    pub revealed_with_gateway: String,
    pub note: String,
    /// Platforms involved (tag and class rows: those that served it).
    #[serde(skip)]
    pub platforms: Vec<String>,
    /// Classes involved (tag and class rows).
    #[serde(skip)]
    pub classes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Drivers>,
}

impl Row {
    /// `revealed_natively_by` as written to diff.csv.
    pub fn revealed_natively_by(&self) -> String {
        self.reveal
            .iter()
            .map(|r| format!("{}: {}", r.platform, r.text))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a platform's native cost reporting is (from the catalog).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlatformView {
    pub mechanism: String,
    pub granularity_hours: f64,
    pub latency_hours: Option<f64>,
    /// What the bill shows with no setup.
    pub default_view: String,
}

/// The diff of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub a_scenario: String,
    pub b_scenario: String,
    pub hours: u32,
    pub horizons: (u32, u32),
    pub a_total_usd: f64,
    pub b_total_usd: f64,
    pub delta_usd: f64,
    /// B / A (`None` when A cost nothing).
    pub fold: Option<f64>,
    pub a_requests: f64,
    pub b_requests: f64,
    /// Warnings about the comparison (different horizons, seeds, no attribution.csv).
    pub notes: Vec<String>,
    /// Each platform's native reporting, for the platforms of either run.
    pub platforms: BTreeMap<String, PlatformView>,
    /// The classes each deployment served in B (A when B has none).
    pub deployment_classes: BTreeMap<String, Vec<String>>,
    /// Each class's tags.
    pub class_tags: BTreeMap<String, BTreeMap<String, String>>,
    pub rows: Vec<Row>,
}

impl Diff {
    /// The rows of one kind, ranked.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.kind == kind)
    }

    /// B's request change relative to A (0.0 = none).
    pub fn request_change(&self) -> Option<f64> {
        (self.a_requests > 0.0).then(|| self.b_requests / self.a_requests - 1.0)
    }
}

/// |v| in whole cents, so rows whose changes differ only by rounding tie.
fn cents(v: f64) -> i64 {
    (v.abs() * 100.0).round() as i64
}

fn pct(v: f64) -> String {
    format!("{:+.1}%", v * 100.0)
}

fn hour_label(h: u32, start_weekday: u32) -> String {
    let day = h / 24;
    format!(
        "hour {h} (day {day}, {} {:02}:00)",
        WEEKDAYS[((start_weekday + day) % 7) as usize],
        h % 24
    )
}

/// Compares two runs. `views` gives each platform's native reporting (the
/// catalog's attribution model); platforms it does not know fall back to what
/// `attribution.csv` says.
pub fn diff(a: &RunFolder, b: &RunFolder, views: impl Fn(&str) -> Option<PlatformView>) -> Diff {
    let a_total = a.total();
    let b_total = b.total();
    let total = b_total - a_total;
    let share = |d: f64| if total != 0.0 { d / total } else { 0.0 };
    let mut notes = Vec::new();
    if a.horizon_hours != b.horizon_hours {
        notes.push(format!(
            "the horizons differ ({} h and {} h): every number compares the first {} h of both runs",
            a.horizon_hours,
            b.horizon_hours,
            a.horizon_hours.min(b.horizon_hours)
        ));
    }
    if a.replications != b.replications {
        notes.push(format!(
            "the runs have {} and {} replications; values are means per replication",
            a.replications, b.replications
        ));
    }
    if a.seed != b.seed {
        notes.push(format!(
            "the seeds differ ({} and {}): part of every delta is sampling noise, not a change",
            a.seed, b.seed
        ));
    }
    for r in [a, b] {
        if r.attribution.is_none() {
            notes.push(format!(
                "{} has no attribution.csv (written by an older llmcap?): which tag rows a platform reveals natively is unknown; rerun it with this llmcap",
                r.dir.display()
            ));
        }
    }

    let mut platforms: BTreeMap<String, PlatformView> = BTreeMap::new();
    for d in a.deployments.values().chain(b.deployments.values()) {
        if platforms.contains_key(&d.platform) {
            continue;
        }
        let from_csv = a
            .attribution
            .iter()
            .chain(b.attribution.iter())
            .flat_map(|m| m.iter())
            .find(|((p, _), _)| *p == d.platform)
            .map(|(_, r)| r);
        let view = views(&d.platform).unwrap_or_else(|| PlatformView {
            mechanism: from_csv.map(|r| r.mechanism.clone()).unwrap_or_default(),
            granularity_hours: from_csv.map_or(24.0, |r| r.granularity_hours),
            latency_hours: None,
            default_view: String::new(),
        });
        platforms.insert(d.platform.clone(), view);
    }

    let mut rows: Vec<Row> = Vec::new();
    let make = |kind: Kind, key: String, av: f64, bv: f64, note: String| Row {
        rank: 0,
        kind,
        key,
        a_usd: av,
        b_usd: bv,
        delta_usd: bv - av,
        share_of_change: share(bv - av),
        reveal: Vec::new(),
        revealed_with_gateway: String::new(),
        note,
        platforms: Vec::new(),
        classes: Vec::new(),
        drivers: None,
    };

    // Classes and traffic.
    let class_names: BTreeSet<&String> = a.classes.keys().chain(b.classes.keys()).collect();
    let cost_of = |r: &RunFolder, dim: &str, v: &str| {
        r.tags
            .get(&(dim.to_string(), v.to_string()))
            .copied()
            .unwrap_or(0.0)
    };
    for &c in &class_names {
        let (ca, cb) = (cost_of(a, "class", c), cost_of(b, "class", c));
        let (ka, kb) = (a.classes.get(c), b.classes.get(c));
        let (na, nb) = (ka.map_or(0.0, |k| k.arrived), kb.map_or(0.0, |k| k.arrived));
        let req_change = if na > 0.0 {
            pct(nb / na - 1.0)
        } else {
            "new".into()
        };
        let per_req = |cost: f64, n: f64| if n > 0.0 { cost / n } else { 0.0 };
        let mut note = format!(
            "requests {:.0} -> {:.0} ({req_change}); cost per 1k requests ${:.2} -> ${:.2}",
            na,
            nb,
            per_req(ca, na) * 1000.0,
            per_req(cb, nb) * 1000.0
        );
        if let (Some(ka), Some(kb)) = (ka, kb) {
            note.push_str(&format!(
                "; mean input tokens {:.0} -> {:.0}, output {:.0} -> {:.0}",
                ka.mean_input_tokens,
                kb.mean_input_tokens,
                ka.mean_output_tokens,
                kb.mean_output_tokens
            ));
            if ka.model != kb.model {
                note.push_str(&format!("; model {} -> {}", ka.model, kb.model));
            }
        }
        rows.push(make(Kind::Class, c.clone(), ca, cb, note));
        if let Some(row) = rows.last_mut() {
            row.classes = vec![c.clone()];
        }
        // The traffic row: B's requests at A's cost per request.
        let volume = if na > 0.0 { ca * nb / na } else { cb };
        rows.push(make(
            Kind::Traffic,
            c.clone(),
            ca,
            volume,
            format!(
                "requests {:.0} -> {:.0} ({req_change}); b_usd = B's requests at A's cost per request; the other {} of this class's change is cost per request",
                na,
                nb,
                crate::report::format::usd_cents(cb - volume)
            ),
        ));
    }
    // Idle reserved capacity and other non-class rows of the class dimension.
    let extra: BTreeSet<&String> = a
        .tags
        .keys()
        .chain(b.tags.keys())
        .filter(|(d, v)| d == "class" && !class_names.contains(v))
        .map(|(_, v)| v)
        .collect();
    for v in extra {
        rows.push(make(
            Kind::Class,
            v.clone(),
            cost_of(a, "class", v),
            cost_of(b, "class", v),
            String::new(),
        ));
    }

    // Tags.
    let tag_keys: BTreeSet<&(String, String)> = a
        .tags
        .keys()
        .chain(b.tags.keys())
        .filter(|(d, _)| d != "class")
        .collect();
    for (d, v) in tag_keys {
        let (ta, tb) = (cost_of(a, d, v), cost_of(b, d, v));
        let classes: Vec<&String> = class_names
            .iter()
            .copied()
            .filter(|c| {
                let t = a.class_tags.get(*c).or_else(|| b.class_tags.get(*c));
                match (t, v.as_str()) {
                    (Some(t), "(untagged)") => !t.contains_key(d),
                    (Some(t), v) => t.get(d).is_some_and(|x| x == v),
                    (None, _) => false,
                }
            })
            .collect();
        let names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
        let note = if names.is_empty() {
            String::new()
        } else {
            format!("class(es) {}", names.join(", "))
        };
        rows.push(make(Kind::Tag, format!("{d}={v}"), ta, tb, note));
        if let Some(row) = rows.last_mut() {
            row.classes = names.iter().map(|c| c.to_string()).collect();
        }
    }

    // Deployments.
    let deps: BTreeSet<&String> = a.deployments.keys().chain(b.deployments.keys()).collect();
    let dep_cost = |r: &RunFolder, name: &str| -> f64 {
        r.hourly
            .iter()
            .filter(|((_, d), _)| d == name)
            .map(|(_, c)| c)
            .sum()
    };
    for &name in &deps {
        let (da, db) = (a.deployments.get(name), b.deployments.get(name));
        let Some(d) = db.or(da) else { continue };
        let mut note = format!("{} {} ({})", d.platform, d.model, d.pool);
        if let (Some(da), Some(db)) = (da, db) {
            if da.model != db.model || da.platform != db.platform || da.pool != db.pool {
                note = format!(
                    "{} {} ({}) -> {} {} ({})",
                    da.platform, da.model, da.pool, db.platform, db.model, db.pool
                );
            }
            note.push_str(&format!(
                "; requests served {:.0} -> {:.0}",
                da.served, db.served
            ));
        } else {
            note.push_str(if da.is_none() {
                "; only in B"
            } else {
                "; only in A"
            });
        }
        rows.push(make(
            Kind::Deployment,
            format!("{name} ({})", d.platform),
            dep_cost(a, name),
            dep_cost(b, name),
            note,
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = vec![d.platform.clone()];
        }
    }

    // Price components.
    let comps: BTreeSet<&(String, Component)> =
        a.components.keys().chain(b.components.keys()).collect();
    for key in comps {
        let (ma, mb) = (
            a.components.get(key).copied().unwrap_or_default(),
            b.components.get(key).copied().unwrap_or_default(),
        );
        let (dep, comp) = key;
        let served = |r: &RunFolder| r.deployments.get(dep).map_or(0.0, |d| d.served);
        let (na, nb) = if comp.per_request() {
            (served(a), served(b))
        } else {
            (1.0, 1.0)
        };
        let unit_price = |m: &Metered| {
            if m.quantity > 0.0 {
                m.priced / m.quantity
            } else {
                0.0
            }
        };
        let per = |m: &Metered, n: f64| if n > 0.0 { m.quantity / n } else { 0.0 };
        let (pa, pb) = (unit_price(&ma), unit_price(&mb));
        let (pra, prb) = (per(&ma, na), per(&mb, nb));
        let mut dr = Drivers {
            requests_a: na,
            requests_b: nb,
            per_request_a: pra,
            per_request_b: prb,
            unit_price_a: pa,
            unit_price_b: pb,
            from_requests: (nb - na) * pra * pa,
            from_per_request: nb * (prb - pra) * pa,
            from_price: mb.quantity * (pb - pa),
        };
        // Billed cost can differ from quantity x list price (reservations
        // billed at the term price): the rest goes to the price part.
        let rest = (mb.cost - ma.cost) - (dr.from_requests + dr.from_per_request + dr.from_price);
        dr.from_price += rest;
        let platform = b
            .deployments
            .get(dep)
            .or_else(|| a.deployments.get(dep))
            .map(|d| d.platform.clone())
            .unwrap_or_default();
        let model = b
            .deployments
            .get(dep)
            .or_else(|| a.deployments.get(dep))
            .map(|d| d.model.clone())
            .unwrap_or_default();
        let note = if comp.per_request() {
            format!(
                "requests {:.0} -> {:.0}, tokens per request {:.0} -> {:.0}, price ${} -> ${} per 1M; of the change: {} requests, {} tokens per request, {} price",
                na,
                nb,
                pra * 1e6,
                prb * 1e6,
                crate::report::format::sig(pa, 4),
                crate::report::format::sig(pb, 4),
                crate::report::format::usd_cents(dr.from_requests),
                crate::report::format::usd_cents(dr.from_per_request),
                crate::report::format::usd_cents(dr.from_price)
            )
        } else {
            format!(
                "unit-hours {:.1} -> {:.1}, billed ${:.4} -> ${:.4} per unit-hour",
                ma.quantity,
                mb.quantity,
                if ma.quantity > 0.0 {
                    ma.cost / ma.quantity
                } else {
                    0.0
                },
                if mb.quantity > 0.0 {
                    mb.cost / mb.quantity
                } else {
                    0.0
                }
            )
        };
        rows.push(make(
            Kind::Component,
            format!("{dep} ({platform}): {model} {}", comp.label()),
            ma.cost,
            mb.cost,
            note,
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = vec![platform];
            row.drivers = Some(dr);
        }
    }

    // Hours.
    let mut by_hour: BTreeMap<u32, (f64, f64, BTreeSet<String>)> = BTreeMap::new();
    for (r, is_b) in [(a, false), (b, true)] {
        for ((h, dep), c) in &r.hourly {
            let e = by_hour.entry(*h).or_default();
            if is_b {
                e.1 += c;
            } else {
                e.0 += c;
            }
            if let Some(d) = r.deployments.get(dep) {
                if *c != 0.0 {
                    e.2.insert(d.platform.clone());
                }
            }
        }
    }
    let mut by_day: BTreeMap<u32, f64> = BTreeMap::new();
    for (h, (ha, hb, _)) in &by_hour {
        *by_day.entry(h / 24).or_default() += hb - ha;
    }
    let hour_note = if a.horizon_hours != b.horizon_hours {
        format!("common hours 0-{} only", a.hours.saturating_sub(1))
    } else {
        String::new()
    };
    for (h, (ha, hb, ps)) in &by_hour {
        rows.push(make(
            Kind::Hour,
            hour_label(*h, b.start_weekday),
            *ha,
            *hb,
            hour_note.clone(),
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = ps.iter().cloned().collect();
        }
    }

    // Which platform reveals each row.
    for row in &mut rows {
        reveal(row, a, b, &platforms, &by_day);
    }

    // Rank within each kind by absolute delta (ties by key).
    rows.sort_by(|x, y| {
        x.kind
            .cmp(&y.kind)
            .then(cents(y.delta_usd).cmp(&cents(x.delta_usd)))
            // Among equal changes the most specific row (fewest classes) first.
            .then(x.classes.len().cmp(&y.classes.len()))
            .then(y.delta_usd.abs().total_cmp(&x.delta_usd.abs()))
            .then(x.key.cmp(&y.key))
    });
    let mut last = None;
    let mut rank = 0;
    for row in &mut rows {
        if last != Some(row.kind) {
            rank = 0;
            last = Some(row.kind);
        }
        rank += 1;
        row.rank = rank;
    }

    Diff {
        a: a.dir.display().to_string(),
        b: b.dir.display().to_string(),
        a_scenario: a.scenario.clone(),
        b_scenario: b.scenario.clone(),
        hours: a.hours,
        horizons: (a.horizon_hours, b.horizon_hours),
        a_total_usd: a_total,
        b_total_usd: b_total,
        delta_usd: total,
        fold: (a_total > 0.0).then(|| b_total / a_total),
        a_requests: a.requests(),
        b_requests: b.requests(),
        notes,
        platforms,
        deployment_classes: {
            let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in [b, a] {
                for (c, deps) in &r.class_deployments {
                    for (d, cost) in deps {
                        let v = m.entry(d.clone()).or_default();
                        if *cost > 0.0 && !v.contains(c) {
                            v.push(c.clone());
                        }
                    }
                }
                if !m.is_empty() {
                    break;
                }
            }
            m
        },
        class_tags: a
            .class_tags
            .iter()
            .chain(b.class_tags.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        rows,
    }
}

/// The platforms that served class `c` in either run.
fn class_platforms(a: &RunFolder, b: &RunFolder, c: &str) -> BTreeSet<String> {
    [a, b]
        .iter()
        .filter_map(|r| r.class_deployments.get(c).map(|m| (r, m)))
        .flat_map(|(r, m)| {
            m.keys()
                .filter_map(|d| r.deployments.get(d).map(|d| d.platform.clone()))
        })
        .collect()
}

fn hours_text(h: f64) -> String {
    crate::report::format::sig(h, 3)
}

fn native_text(v: &PlatformView) -> String {
    let mut s = format!(
        "native ({}, {} h granularity",
        if v.mechanism.is_empty() {
            "the platform's cost report"
        } else {
            &v.mechanism
        },
        hours_text(v.granularity_hours)
    );
    if let Some(l) = v.latency_hours {
        s.push_str(&format!(", ~{} h delay", hours_text(l)));
    }
    s.push(')');
    s
}

fn reveal(
    row: &mut Row,
    a: &RunFolder,
    b: &RunFolder,
    views: &BTreeMap<String, PlatformView>,
    by_day: &BTreeMap<u32, f64>,
) {
    let view = |p: &str| views.get(p).cloned().unwrap_or_default();
    match row.kind {
        Kind::Tag | Kind::Class => {
            let dim = match row.kind {
                Kind::Class => "class",
                _ => row.key.split_once('=').map_or(row.key.as_str(), |(d, _)| d),
            }
            .to_string();
            let ps: BTreeSet<String> = row
                .classes
                .iter()
                .flat_map(|c| class_platforms(a, b, c))
                .collect();
            if ps.is_empty() {
                // Idle reserved capacity (no class): on the bill as the
                // reservation's own line.
                for p in a
                    .deployments
                    .values()
                    .chain(b.deployments.values())
                    .filter(|d| d.pool == "reserved")
                    .map(|d| d.platform.clone())
                    .collect::<BTreeSet<_>>()
                {
                    let v = view(&p);
                    row.reveal.push(Reveal {
                        platform: p,
                        native: Verdict::Native,
                        text: default_text(&v),
                    });
                }
                row.revealed_with_gateway = "n/a (no request carries it)".into();
                return;
            }
            let mut gateway_all = true;
            for p in ps {
                let lookup = |r: &RunFolder| {
                    r.attribution
                        .as_ref()
                        .map(|m| m.get(&(p.clone(), dim.clone())).cloned())
                };
                let (ra, rb) = (lookup(a), lookup(b));
                let (native, text) = match (ra, rb) {
                    (None, _) | (_, None) => (
                        Verdict::Unknown,
                        "unknown (no attribution.csv; rerun with this llmcap)".to_string(),
                    ),
                    (Some(None), _) | (_, Some(None)) if dim == "class" => (
                        Verdict::Unknown,
                        "see the tag rows (class is llmcap's own grouping, not a billing dimension)"
                            .to_string(),
                    ),
                    (Some(None), _) | (_, Some(None)) => (
                        Verdict::Unknown,
                        format!("unknown (attribution.csv has no {dim} row for {p})"),
                    ),
                    (Some(Some(ra)), Some(Some(rb))) => {
                        let ok = |r: &AttributionRow, f: fn(&AttributionRow) -> f64| {
                            r.cost_usd <= 0.0 || f(r) >= NATIVE_THRESHOLD
                        };
                        if ok(&ra, |r| r.native_share) && ok(&rb, |r| r.native_share) {
                            let mut v = view(&p);
                            if v.mechanism.is_empty() {
                                v.mechanism = rb.mechanism.clone();
                            }
                            (Verdict::Native, native_text(&v))
                        } else if ok(&ra, |r| r.with_gateway_share)
                            && ok(&rb, |r| r.with_gateway_share)
                        {
                            (
                                Verdict::Gateway,
                                format!(
                                    "no, {:.0}% of its cost splits by {dim} natively ({})",
                                    rb.native_share.min(ra.native_share) * 100.0,
                                    rb.reason
                                ),
                            )
                        } else {
                            gateway_all = false;
                            (
                                Verdict::No,
                                format!(
                                    "no, {:.0}% natively, {:.0}% even with a gateway ({})",
                                    rb.native_share.min(ra.native_share) * 100.0,
                                    rb.with_gateway_share.min(ra.with_gateway_share) * 100.0,
                                    rb.reason
                                ),
                            )
                        }
                    }
                };
                row.platforms.push(p.clone());
                row.reveal.push(Reveal {
                    platform: p,
                    native,
                    text,
                });
            }
            row.revealed_with_gateway = if row.reveal.iter().all(|r| r.native == Verdict::Native) {
                "yes (native already)".into()
            } else if row.reveal.iter().any(|r| r.native == Verdict::Unknown) {
                "unknown".into()
            } else if gateway_all {
                "yes".into()
            } else {
                "no".into()
            };
        }
        Kind::Deployment | Kind::Component => {
            for p in row.platforms.clone() {
                let v = view(&p);
                row.reveal.push(Reveal {
                    platform: p,
                    native: Verdict::Native,
                    text: default_text(&v),
                });
            }
            row.revealed_with_gateway = "yes (native already)".into();
        }
        Kind::Hour => {
            let h: u32 = row
                .key
                .strip_prefix("hour ")
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            for p in row.platforms.clone() {
                let v = view(&p);
                let g = v.granularity_hours;
                let text = if g <= 1.0 {
                    format!("native, per hour ({} h granularity)", hours_text(g))
                } else if (g - 24.0).abs() < 1e-9 {
                    let day = by_day.get(&(h / 24)).copied().unwrap_or(0.0);
                    format!(
                        "only inside day {}'s total (24 h granularity; the day changed by {})",
                        h / 24,
                        crate::report::format::usd_cents(day)
                    )
                } else {
                    format!(
                        "only inside a {} h bucket ({} h granularity)",
                        hours_text(g),
                        hours_text(g)
                    )
                };
                row.reveal.push(Reveal {
                    platform: p,
                    native: if g <= 1.0 {
                        Verdict::Native
                    } else {
                        Verdict::No
                    },
                    text,
                });
            }
            row.revealed_with_gateway = "yes (per request)".into();
        }
        Kind::Traffic => {
            row.revealed_with_gateway = "yes (per request)".into();
            for p in class_platforms(a, b, &row.key) {
                row.reveal.push(Reveal {
                    platform: p,
                    native: Verdict::Native,
                    text: "request counts per model/deployment in the platform's usage metrics, not per class".into(),
                });
            }
        }
    }
}

fn default_text(v: &PlatformView) -> String {
    if v.default_view.is_empty() {
        "native, on the bill with no setup (per resource and price component)".into()
    } else {
        format!("native, on the bill with no setup ({})", v.default_view)
    }
}

/// The lesson's two questions for the biggest change: what the default bill
/// narrows it to, and how long the native mechanism takes to show it.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The class with the largest change.
    pub culprit: String,
    pub culprit_delta_usd: f64,
    pub culprit_share: f64,
    /// Its tag row that names it alone (feature if there is one), if any.
    pub tag_row: Option<String>,
    pub platforms: Vec<PlatformAnswer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformAnswer {
    pub platform: String,
    pub view: PlatformView,
    /// The platform's price component with the largest change (the line of
    /// the default bill that moved).
    pub component: Option<String>,
    pub component_delta_usd: f64,
    pub component_share: f64,
    /// The classes that share that component's deployment.
    pub shared_by: Vec<String>,
    /// The day with the largest change and its delta.
    pub day: Option<(u32, f64)>,
    /// Whether the native mechanism shows the culprit's tag row.
    pub native: Verdict,
    pub native_text: String,
    /// latency + granularity, hours (`None` without catalog data).
    pub hours_to_show: Option<f64>,
}

impl Diff {
    /// The answer for the class with the largest change (`None` if nothing changed).
    pub fn answer(&self) -> Option<Answer> {
        let top = self
            .of(Kind::Class)
            .find(|r| r.delta_usd != 0.0 && !r.classes.is_empty())?;
        let culprit = top.key.clone();
        let alone: Vec<&Row> = self
            .of(Kind::Tag)
            .filter(|r| r.classes == [culprit.clone()])
            .collect();
        let tag = alone
            .iter()
            .find(|r| r.key.starts_with("feature="))
            .or(alone.first())
            .copied();
        let mut days: BTreeMap<u32, f64> = BTreeMap::new();
        for r in self.of(Kind::Hour) {
            let h: u32 = r
                .key
                .strip_prefix("hour ")
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            *days.entry(h / 24).or_default() += r.delta_usd;
        }
        let day = days
            .iter()
            .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()).then(y.0.cmp(x.0)))
            .map(|(d, v)| (*d, *v));
        let platforms = top
            .reveal
            .iter()
            .map(|rv| {
                let p = &rv.platform;
                let comp = self.of(Kind::Component).find(|r| r.platforms.contains(p));
                let dep = comp.and_then(|c| c.key.split(" (").next()).unwrap_or("");
                let tag_reveal = tag.and_then(|t| t.reveal.iter().find(|x| &x.platform == p));
                let (native, native_text) = match tag_reveal.or(Some(rv)) {
                    Some(x) => (x.native, x.text.clone()),
                    None => (Verdict::Unknown, String::new()),
                };
                let view = self.platforms.get(p).cloned().unwrap_or_default();
                PlatformAnswer {
                    platform: p.clone(),
                    hours_to_show: view.latency_hours.map(|l| l + view.granularity_hours),
                    view,
                    component: comp.map(|c| c.key.clone()),
                    component_delta_usd: comp.map_or(0.0, |c| c.delta_usd),
                    component_share: comp.map_or(0.0, |c| c.share_of_change),
                    shared_by: self
                        .deployment_classes
                        .get(dep)
                        .cloned()
                        .unwrap_or_default(),
                    day,
                    native,
                    native_text,
                }
            })
            .collect();
        Some(Answer {
            culprit,
            culprit_delta_usd: top.delta_usd,
            culprit_share: top.share_of_change,
            tag_row: tag.map(|t| t.key.clone()),
            platforms,
        })
    }
}

/// Each platform's native reporting from the shipped catalog's attribution
/// model (`None` for platforms it does not list).
pub fn catalog_view(platform: &str) -> Option<PlatformView> {
    let m = crate::input::catalog::Catalog::shipped()
        .platform(platform)?
        .platform
        .attribution_model
        .as_ref()?;
    Some(PlatformView {
        mechanism: m.mechanism.value.clone(),
        granularity_hours: m.granularity_hours.value,
        latency_hours: Some(m.latency_hours.value),
        default_view: m.default_view.value.clone(),
    })
}
