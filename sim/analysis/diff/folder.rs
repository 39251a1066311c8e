//! Reading a run folder: manifest, classes, deployments and the CSVs `diff` needs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::time::{days_from_civil, parse_date};
use crate::domain::WEEKDAYS;
use crate::schema::{attribution, cost_by_tag, hourly};

use super::table::{focus_hour, read, Table};

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

pub(super) fn malformed(path: &Path, message: impl Into<String>) -> DiffError {
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
    /// Batch input and output tokens (deferrable classes), booked in the hour the job completed.
    BatchInput,
    BatchOutput,
}

impl Component {
    pub fn label(self) -> &'static str {
        match self {
            Component::OnDemandInput => "on-demand input tokens",
            Component::OnDemandOutput => "on-demand output tokens",
            Component::ReservedUsed => "reserved unit-hours used",
            Component::ReservedIdle => "reserved unit-hours idle",
            Component::Reserved => "reserved unit-hours",
            Component::BatchInput => "batch input tokens",
            Component::BatchOutput => "batch output tokens",
        }
    }

    pub(super) fn per_request(self) -> bool {
        matches!(
            self,
            Component::OnDemandInput
                | Component::OnDemandOutput
                | Component::BatchInput
                | Component::BatchOutput
        )
    }
}

/// The service a run gave, from its summary.json: over the run's own horizon, per replication.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Service {
    /// TTFT p99 of all served requests, ms (mean over replications), if the run reports it.
    pub ttft_p99_ms: Option<f64>,
    /// Served / arrived (mean over replications).
    pub availability: Option<f64>,
    pub served: f64,
    /// Given up after errors or cooldowns, after 429s only, or past the client's deadline.
    pub errored: f64,
    pub throttled: f64,
    pub failed: f64,
}

impl Service {
    fn of(summary: &serde_json::Value) -> Service {
        let p99 = summary["ttft_ms"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["percentile"].as_f64() == Some(99.0)))
            .and_then(|p| p["replications"]["mean"].as_f64().or(p["pooled"].as_f64()));
        let r = &summary["requests"];
        let n = |k: &str| r[k].as_f64().unwrap_or(0.0);
        Service {
            ttft_p99_ms: p99,
            availability: summary["resilience"]["availability"]["mean"].as_f64(),
            served: n("served"),
            errored: n("errored"),
            throttled: n("throttled"),
            failed: n("failed"),
        }
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

/// One deferrable (batch) class of a run, from summary.json's `batch.classes` (whole horizon,
/// mean per replication).
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchClass {
    pub deployment: String,
    pub completion_window_hours: f64,
    /// The class's own completion target, if it set one.
    pub completion_sla_hours: Option<f64>,
    pub requests: f64,
    pub completed: f64,
    pub expired: f64,
    pub unfinished: f64,
    pub within_sla_share: Option<f64>,
    pub completion_p50_hours: Option<f64>,
    pub completion_p99_hours: Option<f64>,
    pub cost_usd: f64,
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
    /// None when the platform has no native attribution mechanism (written empty).
    pub granularity_hours: Option<f64>,
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
    /// The date of hour 0 (days since 1970-01-01), from the manifest; `None`
    /// for folders written before runs had a calendar.
    pub start_date: Option<i64>,
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
    /// `cost.total_usd.mean` of summary.json: cost_by_tag.csv and attribution.csv add up to it.
    pub total_usd: Option<f64>,
    /// The whole bill, batch deployments included (`batch.bill_total_usd`, else `total_usd`):
    /// hourly.csv and focus.csv add up to it.
    pub bill_usd: Option<f64>,
    /// The deferrable classes (summary.json's `batch.classes`), by name; their deployments are
    /// in `deployments` with pool `batch`.
    pub batch: BTreeMap<String, BatchClass>,
    /// `attribution.csv` per (platform, dimension), `None` if the run has none.
    pub attribution: Option<BTreeMap<(String, String), AttributionRow>>,
    pub service: Service,
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
            let other = crate::schema::MANIFEST_FILES
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
            start_date: match &m["start_date"] {
                serde_json::Value::Null => None,
                d => Some(d.as_str().and_then(parse_date).ok_or_else(|| {
                    malformed(
                        &path,
                        format!("manifest.start_date: expected YYYY-MM-DD, got {d}"),
                    )
                })?),
            },
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

        self.total_usd = summary["cost"]["total_usd"]["mean"].as_f64();
        self.bill_usd = self.total_usd;
        self.read_batch(summary, &path)?;
        self.service = Service::of(summary);
        self.read_hourly(hours)?;

        let t = Table::open(
            &self.dir.join(cost_by_tag::FILE),
            &[
                cost_by_tag::HOUR,
                cost_by_tag::DIMENSION,
                cost_by_tag::VALUE,
                cost_by_tag::COST_TOTAL_USD,
            ],
        )?;
        // Each dimension (class, then each tag) splits the whole bill.
        let mut per_dimension: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        for rec in &t.rows {
            let h = t.hour(rec)?;
            let dim = t.text(rec, cost_by_tag::DIMENSION).to_string();
            if dim != cost_by_tag::CLASS && !self.dimensions.contains(&dim) {
                self.dimensions.push(dim.clone());
            }
            let e = per_dimension.entry(dim.clone()).or_default();
            e.0 += t.number(rec, "cost_total_usd")?;
            e.1 += 1;
            if h < hours {
                let key = (dim, t.text(rec, cost_by_tag::VALUE).to_string());
                *self.tags.entry(key).or_default() += t.number(rec, cost_by_tag::COST_TOTAL_USD)?;
            }
        }

        if !per_dimension.contains_key("class") {
            return Err(malformed(
                &t.path,
                "no row of dimension \"class\" (truncated?)",
            ));
        }
        for (dim, (sum, n)) in &per_dimension {
            self.check_total(&t.path, &format!("dimension \"{dim}\""), *sum, *n, 5e-5)?;
        }

        self.read_focus()?;
        self.read_attribution()?;
        Ok(self)
    }

    /// Reads hourly.csv: each deployment's cost per hour (batch deployments included), checking
    /// that every hour of every deployment is there once and that the rows add up to the bill.
    fn read_hourly(&mut self, hours: u32) -> Result<(), DiffError> {
        let batch_deps: std::collections::BTreeSet<String> =
            self.batch.values().map(|c| c.deployment.clone()).collect();

        let mut need = vec![
            hourly::HOUR,
            hourly::WEEKDAY,
            hourly::DEPLOYMENT,
            hourly::COST_TOTAL_USD,
        ];
        if !batch_deps.is_empty() {
            need.push(hourly::POOL);
        }
        let t = Table::open(&self.dir.join(hourly::FILE), &need)?;
        let mut seen = std::collections::BTreeSet::new();
        let mut all = 0.0;
        for (i, rec) in t.rows.iter().enumerate() {
            let h = t.hour(rec)?;
            let dep = t.text(rec, "deployment");
            if !self.deployments.contains_key(dep) {
                return Err(malformed(
                    &t.path,
                    format!(
                        "line {}: column deployment: \"{dep}\" is not a deployment of summary.json (allowed: {})",
                        t.line(rec),
                        self.deployment_names()
                    ),
                ));
            }
            // A batch deployment is known from summary.json's batch section only: its rows must
            // say so in the pool column, and no other row may.
            let pool = t.text(rec, hourly::POOL);
            if !batch_deps.is_empty() && (batch_deps.contains(dep) != (pool == hourly::BATCH_POOL))
            {
                return Err(malformed(
                    &t.path,
                    format!(
                        "line {}: column pool: deployment \"{dep}\" has pool \"{pool}\", but summary.json's batch section {} it (allowed: \"{}\" for {}, a deployments[].pool for the others)",
                        t.line(rec),
                        if batch_deps.contains(dep) { "lists" } else { "does not list" },
                        hourly::BATCH_POOL,
                        batch_deps.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if h >= self.horizon_hours || !seen.insert((h, dep.to_string())) {
                return Err(malformed(
                    &t.path,
                    format!(
                        "line {}: hour {h} of deployment \"{dep}\" is outside the {} h horizon or written twice",
                        t.line(rec),
                        self.horizon_hours
                    ),
                ));
            }
            all += t.number(rec, "cost_total_usd")?;
            if i == 0 {
                let w = t.text(rec, hourly::WEEKDAY);
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
                let dep = t.text(rec, hourly::DEPLOYMENT).to_string();
                *self.hourly.entry((h, dep)).or_default() +=
                    t.number(rec, hourly::COST_TOTAL_USD)?;
            }
        }
        let want = self.horizon_hours as usize * self.deployments.len();
        if seen.len() != want {
            return Err(malformed(
                &t.path,
                format!(
                    "{} rows, but {} h x {} deployment(s) of summary.json (batch deployments included) make {want} (truncated?)",
                    seen.len(),
                    self.horizon_hours,
                    self.deployments.len()
                ),
            ));
        }
        self.check_bill(&t.path, "every row", all, t.rows.len(), 5e-5)?;
        Ok(())
    }

    fn read_focus(&mut self) -> Result<(), DiffError> {
        let t = Table::open(
            &self.dir.join("focus.csv"),
            &[
                "BilledCost",
                "ChargeCategory",
                "ChargePeriodStart",
                "CommitmentDiscountStatus",
                "EffectiveCost",
                "ListUnitPrice",
                "PricingQuantity",
                "ResourceName",
                "SkuId",
                "Tags",
            ],
        )?;
        // Hour 0: the run's start_date (manifest), or for folders written
        // before llmcap had a calendar, 2001-01-01 plus the start weekday.
        let day0 = match self.start_date {
            Some(d) => d,
            None => days_from_civil(2001, 1, 1) + self.start_weekday as i64,
        } * 24;
        let mut all = 0.0;
        for rec in &t.rows {
            // Every row's BilledCost adds up to the run's cost (the check
            // below); a commitment's purchase is billed once, and its cost per
            // class is the amortised EffectiveCost of the usage rows it covers.
            all += t.number(rec, "BilledCost")?;
            if t.text(rec, "ChargeCategory") == "Purchase" {
                continue;
            }
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
                _ if sku.ends_with("/batch-input-tokens") => Component::BatchInput,
                _ if sku.ends_with("/batch-output-tokens") => Component::BatchOutput,
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
            let cost = t.number(rec, "EffectiveCost")?;
            let quantity = t.number(rec, "PricingQuantity")?;
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
                if matches!(component, Component::BatchInput | Component::BatchOutput) {
                    // cost_by_tag.csv leaves batch cost out (summary.json's cost.total_usd
                    // does too): add it to the class and tag rows from its FOCUS line, so
                    // that each dimension still splits the whole bill.
                    *self
                        .tags
                        .entry((cost_by_tag::CLASS.to_string(), class.clone()))
                        .or_default() += cost;
                    for d in &self.dimensions {
                        let v = tags
                            .get(d)
                            .cloned()
                            .unwrap_or_else(|| cost_by_tag::UNTAGGED.to_string());
                        *self.tags.entry((d.clone(), v)).or_default() += cost;
                    }
                }
                *self
                    .class_deployments
                    .entry(class.clone())
                    .or_default()
                    .entry(dep)
                    .or_default() += cost;
                self.class_tags.insert(class, tags);
            }
        }
        self.check_bill(&t.path, "every row", all, t.rows.len(), 5e-7)?;
        Ok(())
    }

    /// Reads summary.json's `batch` section (absent when the run has no deferrable class): each
    /// class, and its deployment as one of the run's deployments with pool `batch`.
    fn read_batch(&mut self, summary: &serde_json::Value, path: &Path) -> Result<(), DiffError> {
        let batch = &summary["batch"];
        if batch.is_null() {
            return Ok(());
        }
        let classes = batch["classes"]
            .as_array()
            .ok_or_else(|| malformed(path, "batch.classes: expected a list"))?;
        for (i, c) in classes.iter().enumerate() {
            let at = |k: &str| format!("batch.classes[{i}].{k}");
            let text = |k: &str| -> Result<String, DiffError> {
                c[k].as_str().map(String::from).ok_or_else(|| {
                    malformed(path, format!("{}: expected a string, got {}", at(k), c[k]))
                })
            };
            let num = |k: &str| -> Result<f64, DiffError> {
                c[k].as_f64().ok_or_else(|| {
                    malformed(path, format!("{}: expected a number, got {}", at(k), c[k]))
                })
            };
            let name = text("name")?;
            let deployment = text("deployment")?;
            if let Some(d) = self.deployments.get(&deployment) {
                if d.pool != hourly::BATCH_POOL {
                    return Err(malformed(
                        path,
                        format!(
                            "{}: \"{deployment}\" is a {} deployment of deployments[], not a batch deployment",
                            at("deployment"),
                            d.pool
                        ),
                    ));
                }
            }
            let class = BatchClass {
                deployment: deployment.clone(),
                completion_window_hours: num("completion_window_hours")?,
                completion_sla_hours: c["completion_sla_hours"].as_f64(),
                requests: num("requests")?,
                completed: num("completed")?,
                expired: c["expired"].as_f64().unwrap_or(0.0),
                unfinished: c["unfinished"].as_f64().unwrap_or(0.0),
                within_sla_share: c["within_sla_share"].as_f64(),
                completion_p50_hours: c["completion_p50_hours"].as_f64(),
                completion_p99_hours: c["completion_p99_hours"].as_f64(),
                cost_usd: num("cost_usd")?,
            };
            let d = self
                .deployments
                .entry(deployment)
                .or_insert_with(|| DeploymentRun {
                    platform: String::new(),
                    model: String::new(),
                    pool: hourly::BATCH_POOL.to_string(),
                    served: 0.0,
                });
            d.platform = text("platform")?;
            d.model = c["model"].as_str().unwrap_or("").to_string();
            d.served += class.completed;
            // The class is one of the run's classes (summary.json's classes list leaves it
            // out): its arrivals count in the requests, its tokens are not reported.
            self.classes.entry(name.clone()).or_insert(ClassRun {
                model: d.model.clone(),
                arrived: class.requests,
                mean_input_tokens: 0.0,
                mean_output_tokens: 0.0,
            });
            self.batch.insert(name, class);
        }
        self.bill_usd = match &batch["bill_total_usd"] {
            serde_json::Value::Null => self
                .total_usd
                .map(|t| t + self.batch.values().map(|c| c.cost_usd).sum::<f64>()),
            v => Some(v.as_f64().ok_or_else(|| {
                malformed(
                    path,
                    format!("batch.bill_total_usd: expected a number, got {v}"),
                )
            })?),
        };
        Ok(())
    }

    /// The deployments of summary.json, quoted, for error messages.
    fn deployment_names(&self) -> String {
        self.deployments
            .keys()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn read_attribution(&mut self) -> Result<(), DiffError> {
        let path = self.dir.join(attribution::FILE);
        if !path.exists() {
            return Ok(());
        }
        // Header only: a run without tags has nothing to attribute.
        let t = Table::open_header(
            &path,
            &[
                attribution::PLATFORM,
                attribution::DIMENSION,
                attribution::MECHANISM,
                attribution::GRANULARITY_HOURS,
                attribution::COST_USD,
                attribution::NATIVE_SHARE,
                attribution::WITH_GATEWAY_SHARE,
                attribution::REASON,
            ],
        )?;
        let mut rows = BTreeMap::new();
        let mut per_dimension: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        for rec in &t.rows {
            let e = per_dimension
                .entry(t.text(rec, "dimension").to_string())
                .or_default();
            e.0 += t.number(rec, "cost_usd")?;
            e.1 += 1;
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
                    t.text(rec, attribution::PLATFORM).to_string(),
                    t.text(rec, attribution::DIMENSION).to_string(),
                ),
                AttributionRow {
                    mechanism: t.text(rec, attribution::MECHANISM).to_string(),
                    granularity_hours: match t.text(rec, attribution::GRANULARITY_HOURS) {
                        "" => None,
                        _ => Some(t.number(rec, attribution::GRANULARITY_HOURS)?),
                    },
                    cost_usd: t.number(rec, attribution::COST_USD)?,
                    native_share: share(attribution::NATIVE_SHARE)?,
                    with_gateway_share: share(attribution::WITH_GATEWAY_SHARE)?,
                    reason: t.text(rec, attribution::REASON).to_string(),
                },
            );
        }
        // Each tag dimension splits the whole bill over platforms, so a truncated file shows as
        // a dimension that is missing or does not add up.
        for d in &self.dimensions {
            let (sum, n) = per_dimension.get(d).copied().unwrap_or_default();
            if n == 0 {
                return Err(malformed(
                    &t.path,
                    format!("no row for tag dimension \"{d}\" of cost_by_tag.csv (truncated?)"),
                ));
            }
            self.check_total(&t.path, &format!("dimension \"{d}\""), sum, n, 5e-5)?;
        }
        self.attribution = Some(rows);
        Ok(())
    }

    /// Checks that `sum` (the cost over every row of `what` in the file `path`, `rows` rows,
    /// each rounded to within `rounding`) is the run's total cost from summary.json: a file cut
    /// at a line boundary still parses, and only its sum shows that rows are missing.
    fn check_total(
        &self,
        path: &Path,
        what: &str,
        sum: f64,
        rows: usize,
        rounding: f64,
    ) -> Result<(), DiffError> {
        self.check_sum(
            path,
            what,
            sum,
            rows,
            rounding,
            self.total_usd,
            "cost.total_usd",
        )
    }

    /// [`Self::check_total`] against the whole bill, batch deployments included.
    fn check_bill(
        &self,
        path: &Path,
        what: &str,
        sum: f64,
        rows: usize,
        rounding: f64,
    ) -> Result<(), DiffError> {
        let key = if self.batch.is_empty() {
            "cost.total_usd"
        } else {
            "batch.bill_total_usd"
        };
        self.check_sum(path, what, sum, rows, rounding, self.bill_usd, key)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_sum(
        &self,
        path: &Path,
        what: &str,
        sum: f64,
        rows: usize,
        rounding: f64,
        total: Option<f64>,
        key: &str,
    ) -> Result<(), DiffError> {
        let Some(total) = total else {
            return Ok(());
        };
        let tolerance = rounding * rows as f64 + 1e-9 * total.abs() + 1e-9;
        if (sum - total).abs() > tolerance {
            return Err(malformed(
                path,
                format!(
                    "the costs of {what} add up to {sum:.6} USD but summary.json's {key} is {total:.6} (truncated or edited?)"
                ),
            ));
        }
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

/// Reads folder `b` against an `a` that [`open`] already read whole, when their common hours
/// are all of `a`'s: what `open(a, b)` gives as its second folder, without reading `a` again
/// (the fuzzer diffs many `b`s against one `a`). None when `b` holds fewer hours than `a`: then
/// `a` must be read again over the common hours, with [`open`].
pub fn open_against(a: &RunFolder, b: &Path) -> Result<Option<RunFolder>, DiffError> {
    if a.hours != a.horizon_hours {
        return Ok(None);
    }
    let (rb, vb) = RunFolder::manifest(b)?;
    if rb.horizon_hours < a.hours {
        return Ok(None);
    }
    Ok(Some(rb.load(&vb, a.hours)?))
}
