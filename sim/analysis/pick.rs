//! `llmcap pick`: a platform recommendation from a workload profile.
//!
//! A profile names the models a product needs, its traffic (daily requests or
//! monthly tokens, with an hour-of-day shape and token lengths), a TTFT SLA,
//! compliance needs (HIPAA BAA, data residency, certifications) and a budget.
//! `pick` filters the catalog by model and compliance, then *simulates* every
//! remaining platform on that traffic: on-demand only, and, where the
//! platform sells reserved capacity for the model, the cheapest reserved plan
//! that meets the SLA ([`crate::analysis::plan`]). The cheapest configuration that meets
//! the SLA becomes the primary; a second platform (the two-provider minimum)
//! becomes the on-demand fallback; and the whole design, with a full outage of
//! each primary platform, is simulated once more with and without the
//! fallback to measure what the second provider buys. Nothing is looked up
//! from a table of answers: every number comes from the catalog's data and
//! the simulations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::analysis::attribution::AttributionRow;
use crate::analysis::economics::{closed_form, TokenMix};
use crate::analysis::plan::{parse_sla, Mode, SlaTarget, HOURS_PER_MONTH};
use crate::analysis::sweep::{run_points, PointSummary};
use crate::domain::{Pool, Scenario, WEEKDAYS};
use crate::error::InputError;
use crate::input::catalog::{Catalog, Offering, Platform};
use crate::input::document::{parse_toml, Checker};
use crate::model::metrics::MeanCi;
use crate::report::format::usd_whole;

// ---------------------------------------------------------------------------
// The profile file.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    profile: RawHeader,
    #[serde(default)]
    simulation: RawSimulation,
    #[serde(default)]
    workload: Vec<RawWorkload>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Option<String>,
    #[serde(default)]
    description: String,
    sla: Option<String>,
    budget_usd_per_month: Option<f64>,
    two_provider: Option<bool>,
    baa: Option<bool>,
    residency: Option<String>,
    certifications: Option<Vec<String>>,
    platform_kinds: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSimulation {
    horizon_hours: Option<f64>,
    replications: Option<u32>,
    seed: Option<i64>,
    start_weekday: Option<String>,
    outage_hours: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: String,
    model: String,
    alternatives: Option<Vec<String>>,
    substitutes: Option<Vec<String>>,
    requests_per_day: Option<f64>,
    tokens_per_month: Option<f64>,
    peak_hour: Option<f64>,
    peak_to_trough: Option<f64>,
    input_tokens: toml::Value,
    output_tokens: toml::Value,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Certifications a profile may ask for (fields of the catalog's compliance).
pub const CERTIFICATIONS: &[&str] = &["soc2", "iso27001"];

/// Platform kinds a profile may restrict itself to (the catalog's `kind`).
pub const PLATFORM_KINDS: &[&str] = &["hyperscaler", "vendor-api"];

/// The outage `pick` injects into each primary platform when it measures
/// availability, unless the profile says otherwise: a 2-hour full outage, the
/// assumption scenarios/two_provider.toml makes for the order of the Azure
/// OpenAI January 2025 incident.
pub const DEFAULT_OUTAGE_HOURS: f64 = 2.0;

/// A validated profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub file: PathBuf,
    pub sla: Option<SlaTarget>,
    pub budget_usd_per_month: Option<f64>,
    pub two_provider: bool,
    pub baa: bool,
    pub residency: Option<String>,
    pub certifications: Vec<String>,
    /// Platform kinds allowed ("hyperscaler", "vendor-api"); empty = any.
    pub platform_kinds: Vec<String>,
    pub horizon_hours: u32,
    pub replications: u32,
    pub seed: i64,
    pub start_weekday: String,
    pub outage_hours: f64,
    pub workloads: Vec<Workload>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    pub name: String,
    /// The model it needs first, then equally acceptable alternatives: any
    /// of them may be the primary.
    pub models: Vec<String>,
    /// Stand-ins for incidents only: they may serve the fallback route.
    pub substitutes: Vec<String>,
    pub mean_rps: f64,
    pub peak_hour: f64,
    pub peak_to_trough: f64,
    #[serde(skip)]
    pub input_tokens: toml::Value,
    #[serde(skip)]
    pub output_tokens: toml::Value,
    pub mean_input_tokens: f64,
    pub mean_output_tokens: f64,
    /// Peak-hour arrivals per second (of the hour-of-day profile).
    pub peak_rps: f64,
    pub tags: BTreeMap<String, String>,
}

impl Workload {
    /// Tokens (input + output) per month at the mean rate.
    pub fn tokens_per_month(&self) -> f64 {
        self.mean_rps
            * 3600.0
            * HOURS_PER_MONTH
            * (self.mean_input_tokens + self.mean_output_tokens)
    }
}

impl Profile {
    pub fn load(path: &Path) -> Result<Profile, InputError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Profile::from_toml(&text, path)
    }

    pub fn from_toml(text: &str, file: &Path) -> Result<Profile, InputError> {
        let raw: RawProfile = parse_toml(text, file)?;
        let c = Checker { file };
        let h = &raw.profile;
        let sla = match &h.sla {
            Some(s) => Some(parse_sla(s).map_err(|e| c.err("profile.sla", e))?),
            None => None,
        };
        if let Some(b) = h.budget_usd_per_month {
            c.positive("profile.budget_usd_per_month", b)?;
        }
        let certifications = h.certifications.clone().unwrap_or_default();
        for (i, cert) in certifications.iter().enumerate() {
            c.one_of(
                &format!("profile.certifications[{i}]"),
                cert,
                CERTIFICATIONS,
            )?;
        }
        let platform_kinds = h.platform_kinds.clone().unwrap_or_default();
        for (i, k) in platform_kinds.iter().enumerate() {
            c.one_of(&format!("profile.platform_kinds[{i}]"), k, PLATFORM_KINDS)?;
        }
        let residency = match &h.residency {
            Some(r) if r.trim().is_empty() => {
                return Err(c.err(
                    "profile.residency",
                    "must not be empty; leave it out for none",
                ))
            }
            Some(r) => {
                let r = r.trim().to_lowercase();
                let known = residency_values();
                if !known.contains(&r) {
                    return Err(c.err(
                        "profile.residency",
                        format!(
                            "unknown residency \"{r}\"; the catalog's regions lie in: {}",
                            known.join(", ")
                        ),
                    ));
                }
                Some(r)
            }
            None => None,
        };
        let s = &raw.simulation;
        let horizon_hours = c.whole(
            "simulation.horizon_hours",
            s.horizon_hours.unwrap_or(72.0),
            1,
        )?;
        if horizon_hours > 24 * 31 {
            return Err(c.err(
                "simulation.horizon_hours",
                format!(
                    "must be at most 744 (pick simulates many configurations), got {horizon_hours}"
                ),
            ));
        }
        let replications = s.replications.unwrap_or(3);
        if !(1..=100).contains(&replications) {
            return Err(c.err(
                "simulation.replications",
                format!("must be from 1 to 100, got {replications}"),
            ));
        }
        let seed = s.seed.unwrap_or(1);
        if seed < 0 {
            return Err(c.err(
                "simulation.seed",
                format!("must be from 0 to 2^63 - 1, got {seed}"),
            ));
        }
        let start_weekday = s.start_weekday.clone().unwrap_or_else(|| "monday".into());
        c.one_of("simulation.start_weekday", &start_weekday, WEEKDAYS)?;
        let outage_hours = c.range(
            "simulation.outage_hours",
            // The default never exceeds a short horizon; a written value may not.
            s.outage_hours
                .unwrap_or(DEFAULT_OUTAGE_HOURS.min(horizon_hours as f64)),
            0.0,
            horizon_hours as f64,
        )?;
        if raw.workload.is_empty() {
            return Err(c.err(
                "workload",
                "a profile needs at least one [[workload]] (name, model, requests_per_day or tokens_per_month, input_tokens, output_tokens)",
            ));
        }
        let mut workloads = Vec::new();
        for (i, w) in raw.workload.iter().enumerate() {
            let at = |k: &str| format!("workload[{i}].{k}");
            if w.name.trim().is_empty() {
                return Err(c.err(at("name"), "must not be empty"));
            }
            if raw.workload[..i].iter().any(|o| o.name == w.name) {
                return Err(c.err(at("name"), format!("\"{}\" is used twice", w.name)));
            }
            let mut models = vec![w.model.clone()];
            models.extend(w.alternatives.clone().unwrap_or_default());
            for (j, m) in models.iter().enumerate() {
                if m.trim().is_empty() {
                    let key = if j == 0 {
                        at("model")
                    } else {
                        at(&format!("alternatives[{}]", j - 1))
                    };
                    return Err(c.err(key, "must not be empty"));
                }
            }
            let substitutes = w.substitutes.clone().unwrap_or_default();
            for (j, m) in substitutes.iter().enumerate() {
                if m.trim().is_empty() || models.contains(m) {
                    return Err(c.err(
                        at(&format!("substitutes[{j}]")),
                        format!("\"{m}\" must be a model name other than model and alternatives"),
                    ));
                }
            }
            let peak_hour = c.range(&at("peak_hour"), w.peak_hour.unwrap_or(14.0), 0.0, 23.0)?;
            let peak_to_trough = c.range(
                &at("peak_to_trough"),
                w.peak_to_trough.unwrap_or(1.0),
                1.0,
                1000.0,
            )?;
            // The token distributions are checked (and their means computed)
            // by the scenario validator, through a one-class probe scenario.
            let probe = probe_class(w, peak_hour, peak_to_trough, file, i)?;
            let mean_in = probe.classes[0].input_tokens.mean();
            let mean_out = probe.classes[0].output_tokens.mean();
            let mean_rps = match (w.requests_per_day, w.tokens_per_month) {
                (Some(r), None) => c.positive(&at("requests_per_day"), r)? / 86_400.0,
                (None, Some(t)) => {
                    c.positive(&at("tokens_per_month"), t)? / (HOURS_PER_MONTH * 3600.0)
                        / (mean_in + mean_out)
                }
                (Some(_), Some(_)) => {
                    return Err(c.err(
                        at("requests_per_day"),
                        "give requests_per_day or tokens_per_month, not both",
                    ))
                }
                (None, None) => {
                    return Err(c.err(
                        at("requests_per_day"),
                        "missing: give requests_per_day (requests per day) or tokens_per_month (input + output tokens per month)",
                    ))
                }
            };
            if mean_rps > 10_000.0 {
                return Err(c.err(
                    at("requests_per_day"),
                    format!(
                        "is {:.0} requests per second on average; pick simulates up to 10,000",
                        mean_rps
                    ),
                ));
            }
            let class = &probe.classes[0];
            let weekday = WEEKDAYS
                .iter()
                .position(|d| *d == start_weekday)
                .unwrap_or(0) as u8;
            let per_rps = class.expected_in_hour(0, weekday) / 3600.0;
            let peak = (0..24u64)
                .map(|h| class.expected_in_hour(h, weekday) / 3600.0)
                .fold(0.0, f64::max);
            let peak_rps = if per_rps > 0.0 || peak > 0.0 {
                // The probe runs at 1 request/s on average.
                mean_rps * peak
            } else {
                mean_rps
            };
            workloads.push(Workload {
                name: w.name.clone(),
                models,
                substitutes,
                mean_rps,
                peak_hour,
                peak_to_trough,
                input_tokens: w.input_tokens.clone(),
                output_tokens: w.output_tokens.clone(),
                mean_input_tokens: mean_in,
                mean_output_tokens: mean_out,
                peak_rps,
                tags: w.tags.clone(),
            });
        }
        Ok(Profile {
            name: h.name.clone().unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "profile".into())
            }),
            description: h.description.clone(),
            file: file.to_path_buf(),
            sla,
            budget_usd_per_month: h.budget_usd_per_month,
            two_provider: h.two_provider.unwrap_or(true),
            baa: h.baa.unwrap_or(false),
            residency,
            certifications,
            platform_kinds,
            horizon_hours,
            replications,
            seed,
            start_weekday,
            outage_hours,
            workloads,
        })
    }
}

/// A one-class scenario at 1 request/s on a custom deployment, to validate a
/// workload's token distributions and shape with the scenario's own rules;
/// its errors are renamed to the profile's keys.
fn probe_class(
    w: &RawWorkload,
    peak_hour: f64,
    peak_to_trough: f64,
    file: &Path,
    i: usize,
) -> Result<Scenario, InputError> {
    let mut class = toml::Table::new();
    class.insert("name".into(), "probe".into());
    class.insert("model".into(), "probe".into());
    class.insert("route".into(), toml::Value::Array(vec!["probe".into()]));
    class.insert(
        "arrivals".into(),
        arrivals(1.0, peak_hour, peak_to_trough).into(),
    );
    class.insert("input_tokens".into(), w.input_tokens.clone());
    class.insert("output_tokens".into(), w.output_tokens.clone());
    let mut dep = toml::Table::new();
    dep.insert("name".into(), "probe".into());
    dep.insert(
        "platform".into(),
        crate::input::catalog::CUSTOM_PLATFORM.into(),
    );
    dep.insert("model".into(), "probe".into());
    let mut lat = toml::Table::new();
    lat.insert("median_ms".into(), 100.0.into());
    lat.insert("p99_ms".into(), 200.0.into());
    dep.insert("latency".into(), lat.into());
    let mut od = toml::Table::new();
    od.insert("input_per_1m".into(), 1.0.into());
    od.insert("output_per_1m".into(), 1.0.into());
    dep.insert("on_demand".into(), od.into());
    let mut t = toml::Table::new();
    let mut header = toml::Table::new();
    header.insert("horizon_hours".into(), 24.into());
    t.insert("scenario".into(), header.into());
    t.insert("class".into(), toml::Value::Array(vec![class.into()]));
    t.insert("deployment".into(), toml::Value::Array(vec![dep.into()]));
    Scenario::from_table(t, file).map_err(|e| match e {
        InputError::Invalid {
            file,
            path,
            message,
        }
        | InputError::Parse {
            file,
            path,
            message,
            ..
        } => InputError::Invalid {
            file,
            path: path.replacen("class[0]", &format!("workload[{i}]"), 1),
            message,
        },
        other => other,
    })
}

fn arrivals(mean_rps: f64, peak_hour: f64, peak_to_trough: f64) -> toml::Table {
    let mut a = toml::Table::new();
    a.insert("mean_rps".into(), mean_rps.into());
    if peak_to_trough > 1.0 {
        a.insert("peak_hour".into(), peak_hour.into());
        a.insert("peak_to_trough".into(), peak_to_trough.into());
    }
    a
}

// ---------------------------------------------------------------------------
// Regions (data: sim/input/catalog/regions.toml).
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub geography: String,
    pub area: Option<String>,
    pub source: String,
    pub as_of: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    region: Vec<Region>,
}

/// The shipped region map.
pub fn regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        parse_toml::<RegionsFile>(
            include_str!("../input/catalog/regions.toml"),
            Path::new("sim/input/catalog/regions.toml"),
        )
        .expect("the shipped region map parses (tests check it)")
        .region
    })
}

/// Every residency value a profile can ask for: geographies and areas.
pub fn residency_values() -> Vec<String> {
    let mut v: Vec<String> = regions()
        .iter()
        .flat_map(|r| std::iter::once(r.geography.clone()).chain(r.area.clone()))
        .filter(|g| g != "global")
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether a region keeps data inside `residency` (a geography or an area).
pub fn region_within(region: &str, residency: &str) -> bool {
    regions().iter().any(|r| {
        r.id == region
            && r.geography != "global"
            && (r.geography == residency || r.area.as_deref() == Some(residency))
    })
}

// ---------------------------------------------------------------------------
// Candidates.
// ---------------------------------------------------------------------------

/// Why a platform cannot serve a workload.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum Exclusion {
    /// It sells none of the workload's models.
    MissingModel(String),
    /// It lacks a compliance feature the profile needs.
    Compliance(String),
    /// It sells the model, but not in the required region.
    Residency(String),
    /// Simulated: no configuration met the SLA.
    Sla(String),
    /// Simulated: meets the SLA but costs more than the chosen platform.
    Cost(String),
}

impl Exclusion {
    pub fn label(&self) -> &'static str {
        match self {
            Exclusion::MissingModel(_) => "missing model",
            Exclusion::Compliance(_) => "compliance",
            Exclusion::Residency(_) => "data residency",
            Exclusion::Sla(_) => "SLA",
            Exclusion::Cost(_) => "cost",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Exclusion::MissingModel(s)
            | Exclusion::Compliance(s)
            | Exclusion::Residency(s)
            | Exclusion::Sla(s)
            | Exclusion::Cost(s) => s,
        }
    }
}

/// The offerings of one platform that can serve one workload.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub platform: String,
    pub model: String,
    /// The model is one of the workload's substitutes: fallback only.
    pub substitute: bool,
    /// Full offering ids ("bedrock/claude-sonnet-4/us-cris").
    pub on_demand: Option<String>,
    pub reserved: Option<String>,
}

fn platform_compliance(p: &Platform, profile: &Profile) -> Option<String> {
    let c = &p.compliance;
    let has =
        |v: &Option<crate::input::catalog::Sourced<bool>>| v.as_ref().is_some_and(|s| s.value);
    let mut missing = Vec::new();
    if profile.baa && !has(&c.hipaa_baa) {
        missing.push("a HIPAA BAA".to_string());
    }
    for cert in &profile.certifications {
        let ok = match cert.as_str() {
            "soc2" => has(&c.soc2),
            "iso27001" => has(&c.iso27001),
            _ => false,
        };
        if !ok {
            missing.push(cert.to_uppercase());
        }
    }
    (!missing.is_empty()).then(|| {
        format!(
            "{} does not offer {} (catalog compliance data)",
            p.name,
            missing.join(" or ")
        )
    })
}

/// Blended on-demand price of a workload's mean request, per request.
fn od_price(o: &Offering, w: &Workload) -> f64 {
    o.on_demand.as_ref().map_or(f64::INFINITY, |od| {
        (od.input_per_1m.value * w.mean_input_tokens
            + od.output_per_1m.value * w.mean_output_tokens)
            / 1e6
    })
}

/// Cheapest reserved price per weighted token of capacity (over terms).
fn reserved_price(o: &Offering) -> f64 {
    o.reserved.as_ref().map_or(f64::INFINITY, |r| {
        r.price_per_unit_hour
            .values()
            .map(|p| p.value)
            .fold(f64::INFINITY, f64::min)
            / r.tpm_per_unit.value
    })
}

/// The routes each platform offers for a workload, or why it offers none.
pub fn routes(
    catalog: &Catalog,
    profile: &Profile,
    w: &Workload,
) -> Vec<(String, Result<Route, Exclusion>)> {
    let mut out = Vec::new();
    for (_, f) in &catalog.files {
        let p = &f.platform;
        let sells: Vec<&Offering> = f
            .offering
            .iter()
            .filter(|o| w.models.contains(&o.model) || w.substitutes.contains(&o.model))
            .collect();
        let all: Vec<&String> = w.models.iter().chain(&w.substitutes).collect();
        let all_text = all
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if sells.is_empty() {
            out.push((
                p.id.clone(),
                Err(Exclusion::MissingModel(format!(
                    "{} sells none of {all_text} (it sells {})",
                    p.name,
                    catalog.models_of(&p.id).join(", ")
                ))),
            ));
            continue;
        }
        if !profile.platform_kinds.is_empty() && !profile.platform_kinds.contains(&p.kind) {
            out.push((
                p.id.clone(),
                Err(Exclusion::Compliance(format!(
                    "{} is a {} platform; the profile allows only {}",
                    p.name,
                    p.kind,
                    profile.platform_kinds.join(", ")
                ))),
            ));
            continue;
        }
        if let Some(why) = platform_compliance(p, profile) {
            out.push((p.id.clone(), Err(Exclusion::Compliance(why))));
            continue;
        }
        let resident: Vec<&Offering> = sells
            .iter()
            .copied()
            .filter(|o| match &profile.residency {
                None => true,
                Some(r) => o.regions.value.iter().any(|g| region_within(g, r)),
            })
            .collect();
        if resident.is_empty() {
            let r = profile.residency.as_deref().unwrap_or_default();
            let known = residency_values();
            let unknown = if known.iter().any(|k| k == r) {
                String::new()
            } else {
                format!(
                    "; no region in the catalog lies in \"{r}\" (residencies it knows: {})",
                    known.join(", ")
                )
            };
            let mut sold: Vec<&str> = sells.iter().map(|o| o.model.as_str()).collect();
            sold.sort_unstable();
            sold.dedup();
            let mut regions: Vec<&str> = sells
                .iter()
                .flat_map(|o| o.regions.value.iter().map(String::as_str))
                .collect();
            regions.sort_unstable();
            regions.dedup();
            out.push((
                p.id.clone(),
                Err(Exclusion::Residency(format!(
                    "{} sells {} only in {} (none inside \"{r}\"; global and data-zone deployments may process data anywhere in their zone){unknown}",
                    p.name,
                    sold.join(", "),
                    regions.join(", ")
                ))),
            ));
            continue;
        }
        // Per model, in the workload's order of preference: the cheapest
        // on-demand and reserved offerings inside the residency.
        for m in all {
            let of: Vec<&Offering> = resident.iter().copied().filter(|o| &o.model == m).collect();
            if of.is_empty() {
                continue;
            }
            let od = of
                .iter()
                .filter(|o| o.on_demand.is_some())
                .min_by(|a, b| od_price(a, w).total_cmp(&od_price(b, w)));
            let res = of
                .iter()
                .filter(|o| o.reserved.is_some())
                .min_by(|a, b| reserved_price(a).total_cmp(&reserved_price(b)));
            out.push((
                p.id.clone(),
                Ok(Route {
                    platform: p.id.clone(),
                    model: m.clone(),
                    substitute: w.substitutes.contains(m),
                    on_demand: od.map(|o| format!("{}/{}", p.id, o.id)),
                    reserved: res.map(|o| format!("{}/{}", p.id, o.id)),
                }),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Scenario tables.
// ---------------------------------------------------------------------------

/// Client retry policy of every simulated scenario: the OpenAI Python SDK's
/// defaults (2 retries, 0.5 s initial and 8 s maximum delay; openai-python
/// `_constants.py`), full jitter, and a 60 s timeout counted as a failure
/// (assumptions, as in scenarios/baseline.toml).
fn client_table() -> toml::Table {
    let c = CLIENT;
    let mut t = toml::Table::new();
    t.insert("max_attempts".into(), (c.max_attempts as i64).into());
    t.insert("backoff_base_ms".into(), c.backoff_base_ms.into());
    t.insert("backoff_max_ms".into(), c.backoff_max_ms.into());
    t.insert("jitter".into(), "full".into());
    t.insert("timeout_ms".into(), c.timeout_ms.into());
    t
}

/// The client and gateway values every generated scenario uses (see
/// `client_table` and `gateway_table` for their sources); pick.md quotes them.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClientGateway {
    pub max_attempts: u32,
    pub backoff_base_ms: f64,
    pub backoff_max_ms: f64,
    pub timeout_ms: f64,
    pub gateway_latency_ms: f64,
    pub cooldown_failures: u32,
    pub cooldown_window_s: f64,
    pub cooldown_s: f64,
}

pub const CLIENT: ClientGateway = ClientGateway {
    max_attempts: 3,
    backoff_base_ms: 500.0,
    backoff_max_ms: 8000.0,
    timeout_ms: 60_000.0,
    gateway_latency_ms: 15.0,
    cooldown_failures: 3,
    cooldown_window_s: 60.0,
    cooldown_s: 5.0,
};

/// The gateway of a two-provider design: LiteLLM router defaults
/// (allowed_fails 3 per minute, cooldown 5 s; litellm/constants.py) and an
/// assumed 15 ms proxy hop, as in scenarios/two_provider.toml.
fn gateway_table() -> toml::Table {
    let c = CLIENT;
    let mut g = toml::Table::new();
    g.insert("latency_ms".into(), c.gateway_latency_ms.into());
    g.insert(
        "cooldown_failures".into(),
        (c.cooldown_failures as i64).into(),
    );
    g.insert("cooldown_window_s".into(), c.cooldown_window_s.into());
    g.insert("cooldown_s".into(), c.cooldown_s.into());
    g
}

/// A deployment in a generated scenario.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentSpec {
    pub name: String,
    pub offering: String,
    /// Reserved: units and term.
    pub units: Option<u32>,
    pub term: Option<String>,
    /// On demand: the quota the simulation assumes (raised above the
    /// catalog default when the peak needs it).
    pub tpm: Option<f64>,
    pub rpm: Option<f64>,
}

impl DeploymentSpec {
    fn table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("name".into(), self.name.clone().into());
        t.insert("offering".into(), self.offering.clone().into());
        if let (Some(u), Some(term)) = (self.units, &self.term) {
            let mut r = toml::Table::new();
            r.insert("units".into(), (u as i64).into());
            r.insert("term".into(), term.clone().into());
            t.insert("reserved".into(), r.into());
        }
        if self.tpm.is_some() || self.rpm.is_some() {
            let mut o = toml::Table::new();
            if let Some(v) = self.tpm {
                o.insert("tpm".into(), v.into());
            }
            if let Some(v) = self.rpm {
                o.insert("rpm".into(), v.into());
            }
            t.insert("on_demand".into(), o.into());
        }
        t
    }
}

/// A class in a generated scenario.
#[derive(Debug, Clone)]
struct ClassSpec<'a> {
    workload: &'a Workload,
    model: String,
    substitutes: Vec<String>,
    route: Vec<String>,
}

fn scenario_table(
    profile: &Profile,
    name: &str,
    description: &str,
    classes: &[ClassSpec],
    deployments: &[DeploymentSpec],
    gateway: bool,
    outages: &[toml::Table],
) -> toml::Table {
    let mut t = toml::Table::new();
    let mut h = toml::Table::new();
    h.insert("name".into(), name.into());
    h.insert("description".into(), description.into());
    h.insert(
        "horizon_hours".into(),
        (profile.horizon_hours as i64).into(),
    );
    h.insert("seed".into(), profile.seed.into());
    h.insert("replications".into(), (profile.replications as i64).into());
    h.insert("start_weekday".into(), profile.start_weekday.clone().into());
    t.insert("scenario".into(), h.into());
    t.insert("client".into(), client_table().into());
    if gateway {
        t.insert("gateway".into(), gateway_table().into());
    }
    let sla = profile.sla.unwrap_or(NO_SLA);
    let classes: Vec<toml::Value> = classes
        .iter()
        .map(|c| {
            let w = c.workload;
            let mut k = toml::Table::new();
            k.insert("name".into(), w.name.clone().into());
            k.insert("model".into(), c.model.clone().into());
            if !c.substitutes.is_empty() {
                k.insert(
                    "substitutes".into(),
                    toml::Value::Array(c.substitutes.iter().map(|s| s.clone().into()).collect()),
                );
            }
            k.insert(
                "route".into(),
                toml::Value::Array(c.route.iter().map(|s| s.clone().into()).collect()),
            );
            // Every class draws its own traffic, whatever model serves it, so
            // all candidates see the same requests (common random numbers).
            k.insert("random_stream".into(), w.name.clone().into());
            if !w.tags.is_empty() {
                let tags: toml::Table = w
                    .tags
                    .iter()
                    .map(|(a, b)| (a.clone(), toml::Value::from(b.clone())))
                    .collect();
                k.insert("tags".into(), tags.into());
            }
            let mut s = toml::Table::new();
            s.insert("ttft_ms".into(), sla.ttft_ms.into());
            s.insert("percentile".into(), sla.percentile.into());
            k.insert("sla".into(), s.into());
            k.insert(
                "arrivals".into(),
                arrivals(w.mean_rps, w.peak_hour, w.peak_to_trough).into(),
            );
            k.insert("input_tokens".into(), w.input_tokens.clone());
            k.insert("output_tokens".into(), w.output_tokens.clone());
            k.into()
        })
        .collect();
    t.insert("class".into(), toml::Value::Array(classes));
    t.insert(
        "deployment".into(),
        toml::Value::Array(deployments.iter().map(|d| d.table().into()).collect()),
    );
    if !outages.is_empty() {
        t.insert(
            "outage".into(),
            toml::Value::Array(outages.iter().cloned().map(toml::Value::Table).collect()),
        );
    }
    t
}

/// Without an SLA in the profile, a configuration only has to serve: half
/// the requests within the client timeout.
pub const NO_SLA: SlaTarget = SlaTarget {
    percentile: 50.0,
    ttft_ms: CLIENT.timeout_ms,
};

/// The on-demand quota a simulation assumes: the catalog's default, raised
/// to 1.5x the peak need when the peak needs more than 80% of it (quotas are
/// adjustable on request; `pick` says when to ask).
fn quota(catalog: &Catalog, offering: &str, peak_rps: f64, tokens_per_request: f64) -> QuotaNeed {
    let need_rpm = peak_rps * 60.0;
    let need_tpm = need_rpm * tokens_per_request;
    let (def_tpm, def_rpm) = catalog
        .offering(offering)
        .and_then(|(_, o)| o.on_demand.as_ref())
        .map(|od| {
            (
                od.tpm.as_ref().map(|v| v.value),
                od.rpm.as_ref().map(|v| v.value),
            )
        })
        .unwrap_or((None, None));
    let raise = |def: Option<f64>, need: f64| match def {
        Some(d) if need > 0.8 * d => Some((need * 1.5).ceil()),
        _ => None,
    };
    QuotaNeed {
        default_tpm: def_tpm,
        default_rpm: def_rpm,
        peak_tpm: need_tpm,
        peak_rpm: need_rpm,
        raised_tpm: raise(def_tpm, need_tpm),
        raised_rpm: raise(def_rpm, need_rpm),
    }
}

/// A workload's peak need against an on-demand quota.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaNeed {
    pub default_tpm: Option<f64>,
    pub default_rpm: Option<f64>,
    pub peak_tpm: f64,
    pub peak_rpm: f64,
    /// What the simulation assumed instead of the default, when raised.
    pub raised_tpm: Option<f64>,
    pub raised_rpm: Option<f64>,
}

impl QuotaNeed {
    pub fn raised(&self) -> bool {
        self.raised_tpm.is_some() || self.raised_rpm.is_some()
    }
}

fn od_spec(name: String, offering: &str, q: &QuotaNeed) -> DeploymentSpec {
    DeploymentSpec {
        name,
        offering: offering.to_string(),
        units: None,
        term: None,
        tpm: q.raised_tpm,
        rpm: q.raised_rpm,
    }
}

fn build(table: toml::Table, profile: &Profile) -> Result<Scenario, PickError> {
    Scenario::from_table(table, &profile.file).map_err(|e| PickError::Internal(e.to_string()))
}

/// Errors of `pick` itself (the profile is already valid).
#[derive(Debug, thiserror::Error)]
pub enum PickError {
    #[error(
        "a generated scenario did not validate (a bug in llmcap pick or its catalog data): {0}"
    )]
    Internal(String),
}

// ---------------------------------------------------------------------------
// Evaluation.
// ---------------------------------------------------------------------------

/// One simulated configuration of a route.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// "on-demand", or "<units> x <offering> <term> + spillover"/"only".
    pub label: String,
    pub mode: Mode,
    pub units: u32,
    pub term: String,
    pub monthly_usd: MeanCi,
    pub meets_sla: bool,
    /// TTFT at the SLA percentile (worst class), and attainment.
    pub ttft_sla_ms: Option<MeanCi>,
    pub attainment: Option<MeanCi>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub utilization: Option<f64>,
    pub spilled_share: f64,
    pub throttled_share: f64,
}

/// Break-even of a reserved offering against the route's on-demand prices.
#[derive(Debug, Clone, Serialize)]
pub struct BreakEven {
    pub offering: String,
    pub term: String,
    pub unit_hour_usd: f64,
    /// Closed form: utilization at which reserved costs what on-demand does.
    pub utilization: f64,
}

/// Everything simulated for one (workload, route).
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub route: Route,
    pub quota: Option<QuotaNeed>,
    /// On-demand only (None when the platform sells the model reserved only).
    pub on_demand: Option<Config>,
    /// The cheapest reserved configuration meeting the SLA (or the largest
    /// tried when none does).
    pub reserved: Option<Config>,
    pub breakeven: Vec<BreakEven>,
    /// Why no reserved configuration was simulated, with what the
    /// platform's cheapest published reserved commitment would cost.
    pub reserved_note: Option<String>,
    /// Catalog notes on the offerings' lifecycle and region caveats.
    pub caveats: Vec<String>,
}

impl Evaluation {
    /// The cheapest configuration meeting the SLA.
    pub fn best(&self) -> Option<&Config> {
        [self.on_demand.as_ref(), self.reserved.as_ref()]
            .into_iter()
            .flatten()
            .filter(|c| c.meets_sla)
            .min_by(|a, b| a.monthly_usd.mean.total_cmp(&b.monthly_usd.mean))
    }

    /// The configuration closest to the SLA: the lowest TTFT at the SLA
    /// percentile, then the highest attainment.
    pub fn closest(&self) -> Option<&Config> {
        [self.on_demand.as_ref(), self.reserved.as_ref()]
            .into_iter()
            .flatten()
            .min_by(|a, b| {
                let t = |c: &Config| c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean);
                let at = |c: &Config| c.attainment.map_or(0.0, |a| a.mean);
                t(a).total_cmp(&t(b)).then(at(b).total_cmp(&at(a)))
            })
    }
}

fn config_of(
    summary: &PointSummary,
    mode: Mode,
    units: u32,
    term: &str,
    monthly: MeanCi,
    label: String,
    utilization: Option<f64>,
) -> Config {
    Config {
        label,
        mode,
        units,
        term: term.to_string(),
        monthly_usd: monthly,
        meets_sla: summary.meets_sla.unwrap_or(false),
        ttft_sla_ms: summary.sla_ttft_ms,
        attainment: summary.sla_attainment,
        p50_ms: summary.pooled_p50_ms,
        p99_ms: summary.pooled_p99_ms,
        utilization,
        spilled_share: summary.spilled_share,
        throttled_share: summary.throttled_share,
    }
}

fn caveats(catalog: &Catalog, offering: &str) -> Vec<String> {
    let Some((_, o)) = catalog.offering(offering) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let notes = [
        o.on_demand
            .as_ref()
            .and_then(|od| od.input_per_1m.note.clone()),
        o.regions.note.clone(),
    ];
    for n in notes.into_iter().flatten() {
        // Keep the sentences a planner must act on.
        for s in n.split(". ") {
            let l = s.to_lowercase();
            if l.contains("lifecycle")
                || l.contains("end-of-life")
                || l.contains("retired")
                || l.contains("another us region")
                || l.contains("may serve")
            {
                out.push(format!("{offering}: {}", s.trim_end_matches('.')));
            }
        }
    }
    out
}

fn evaluate(
    catalog: &Catalog,
    profile: &Profile,
    w: &Workload,
    route: &Route,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<Evaluation, PickError> {
    let tokens = w.mean_input_tokens + w.mean_output_tokens;
    let quota = route
        .on_demand
        .as_ref()
        .map(|o| quota(catalog, o, w.peak_rps, tokens));
    let mut deployments = Vec::new();
    let mut names = Vec::new();
    if let Some(r) = &route.reserved {
        let (_, o) = catalog.offering(r).expect("route offerings exist");
        let rr = o.reserved.as_ref().expect("reserved offering");
        let min = rr.min_units.as_ref().map_or(1.0, |v| v.value) as u32;
        let term = rr
            .price_per_unit_hour
            .iter()
            .min_by(|a, b| a.1.value.total_cmp(&b.1.value))
            .map(|(t, _)| t.clone())
            .unwrap_or_default();
        deployments.push(DeploymentSpec {
            name: "reserved".into(),
            offering: r.clone(),
            units: Some(min.max(1)),
            term: Some(term),
            tpm: None,
            rpm: None,
        });
        names.push("reserved".to_string());
    }
    if let (Some(o), Some(q)) = (&route.on_demand, &quota) {
        deployments.push(od_spec("on-demand".into(), o, q));
        names.push("on-demand".to_string());
    }
    let class = ClassSpec {
        workload: w,
        model: route.model.clone(),
        substitutes: Vec::new(),
        route: names,
    };
    let name = format!("{}-{}-{}", profile.name, w.name, route.platform);
    let sc = build(
        scenario_table(profile, &name, "", &[class], &deployments, false, &[]),
        profile,
    )?;
    let sla = profile.sla.unwrap_or(NO_SLA);
    let mut eval = Evaluation {
        route: route.clone(),
        quota,
        on_demand: None,
        reserved: None,
        breakeven: Vec::new(),
        reserved_note: None,
        caveats: [route.on_demand.as_ref(), route.reserved.as_ref()]
            .into_iter()
            .flatten()
            .flat_map(|o| caveats(catalog, o))
            .collect(),
    };
    let hours = sc.horizon_hours as f64;
    if route.reserved.is_some() {
        let spec = crate::analysis::plan::spec(&sc, Some(sla), Some("reserved"), None, None)
            .map_err(|(k, m)| PickError::Internal(format!("{k}: {m}")))?;
        let result = crate::analysis::plan::plan(&sc, &spec, threads, progress);
        let reserved_best = result
            .candidates
            .iter()
            .filter(|c| c.mode != Mode::OnDemandOnly)
            .find(|c| c.meets_sla)
            .or_else(|| {
                result
                    .candidates
                    .iter()
                    .filter(|c| c.mode != Mode::OnDemandOnly)
                    .min_by(|a, b| {
                        let t = |c: &crate::analysis::plan::Candidate| {
                            c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean)
                        };
                        t(a).total_cmp(&t(b))
                            .then(a.monthly_usd.mean.total_cmp(&b.monthly_usd.mean))
                    })
            });
        let offering = route.reserved.clone().unwrap_or_default();
        let to_config = |c: &crate::analysis::plan::Candidate| -> Config {
            let e = result
                .evaluated
                .iter()
                .find(|e| e.mode == c.mode && e.units == c.units)
                .expect("candidates come from evaluated configurations");
            let label = match c.mode {
                Mode::OnDemandOnly => "on-demand only".to_string(),
                m => format!(
                    "{} units of {offering}, {} term, {}",
                    c.units,
                    c.term,
                    m.label()
                ),
            };
            config_of(
                &e.summary,
                c.mode,
                c.units,
                &c.term,
                c.monthly_usd,
                label,
                c.utilization,
            )
        };
        eval.reserved = reserved_best.map(to_config);
        eval.on_demand = result.all_on_demand.as_ref().map(to_config);
        // Break-even per term against this route's on-demand prices.
        if let (Some(od), Some(Pool::Reserved(r))) = (
            sc.deployments.iter().find_map(|d| match &d.pool {
                Pool::OnDemand(o) => Some(o),
                Pool::Reserved(_) => None,
            }),
            sc.deployments.first().map(|d| &d.pool),
        ) {
            let mix = TokenMix {
                input: w.mean_input_tokens,
                output: w.mean_output_tokens,
            };
            for (term, price) in &r.price_per_unit_hour {
                eval.breakeven.push(BreakEven {
                    offering: offering.clone(),
                    term: term.clone(),
                    unit_hour_usd: *price,
                    utilization: closed_form(r, *price, od, mix),
                });
            }
        }
    } else {
        let mut out = run_points(std::slice::from_ref(&sc), None, Some(0), threads, progress);
        let (reps, hist) = out.pop().expect("one point");
        let summary = PointSummary::of(0.0, &reps, &hist, false);
        let v: Vec<f64> = reps
            .iter()
            .map(|o| o.total_usd() / hours * HOURS_PER_MONTH)
            .collect();
        let monthly = MeanCi::of(&v).expect("at least one replication");
        eval.on_demand = Some(config_of(
            &summary,
            Mode::OnDemandOnly,
            0,
            "on-demand",
            monthly,
            "on-demand only".into(),
            None,
        ));
        eval.reserved_note = Some(no_reserved_note(catalog, route, monthly.mean));
    }
    Ok(eval)
}

/// For a route without a reserved offering: say so, and price the
/// platform's cheapest published reserved commitment (minimum units, cheapest
/// term) against the workload's simulated on-demand cost.
fn no_reserved_note(catalog: &Catalog, route: &Route, od_monthly: f64) -> String {
    let mut note = format!(
        "the catalog has no reserved offering of {} on {} with a public price",
        route.model, route.platform
    );
    let cheapest = catalog
        .platform(&route.platform)
        .into_iter()
        .flat_map(|f| f.offering.iter())
        .filter_map(|o| {
            let r = o.reserved.as_ref()?;
            let (term, price) = r
                .price_per_unit_hour
                .iter()
                .min_by(|a, b| a.1.value.total_cmp(&b.1.value))?;
            let units = r.min_units.as_ref().map_or(1.0, |v| v.value);
            Some((
                o,
                term.clone(),
                price.value,
                units,
                price.value * units * HOURS_PER_MONTH,
            ))
        })
        .min_by(|a, b| a.4.total_cmp(&b.4));
    if let Some((o, term, price, units, monthly)) = cheapest {
        note.push_str(&format!(
            "; the platform's cheapest published reserved commitment ({}/{}, {term} term, {units} unit(s) at ${price:.2} per unit-hour) costs {} per month, {:.1}x this workload's simulated on-demand cost of {}",
            route.platform,
            o.id,
            usd_whole(monthly),
            monthly / od_monthly.max(1e-9),
            usd_whole(od_monthly)
        ));
    }
    note
}

// ---------------------------------------------------------------------------
// The decision.
// ---------------------------------------------------------------------------

/// Costs within this fraction of each other are a tie, broken by TTFT.
pub const COST_TIE: f64 = 0.005;

/// What `pick` could answer for one workload.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", content = "why", rename_all = "kebab-case")]
pub enum Verdict {
    Recommended,
    /// No platform in the catalog sells any of the models.
    NoModel(String),
    /// Platforms sell it, but none with the compliance or residency needed.
    NoCompliantPlatform(String),
    /// Simulated: no configuration of any remaining platform meets the SLA.
    NoConfigurationMeetsSla(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadPick {
    pub workload: String,
    pub evaluations: Vec<Evaluation>,
    /// Platforms (or routes) not chosen, and why.
    pub excluded: Vec<(String, Exclusion)>,
    /// Indices into `evaluations`.
    pub primary: Option<usize>,
    pub fallback: Option<usize>,
    /// Why the two-provider minimum could not be met, when it could not.
    pub fallback_note: Option<String>,
    /// When no configuration meets the SLA: the evaluation that came
    /// closest (lowest TTFT at the SLA percentile).
    pub closest: Option<usize>,
    pub verdict: Verdict,
}

impl WorkloadPick {
    pub fn primary(&self) -> Option<&Evaluation> {
        self.primary.map(|i| &self.evaluations[i])
    }
    pub fn fallback(&self) -> Option<&Evaluation> {
        self.fallback.map(|i| &self.evaluations[i])
    }
    pub fn closest(&self) -> Option<&Evaluation> {
        self.closest.map(|i| &self.evaluations[i])
    }
}

/// One simulation of the whole design.
#[derive(Debug, Clone, Serialize)]
pub struct DesignRun {
    pub label: String,
    pub monthly_usd: MeanCi,
    /// Served / arrived, per replication (as summary.json's resilience).
    pub availability: MeanCi,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub ttft_sla_ms: Option<MeanCi>,
    pub attainment: Option<MeanCi>,
    pub meets_sla: bool,
    pub failed_share: f64,
}

/// The recommended design, as a scenario the planner can run.
#[derive(Debug, Clone, Serialize)]
pub struct Design {
    /// The scenario file text (`design.toml`).
    pub scenario_toml: String,
    pub deployments: Vec<DeploymentSpec>,
    /// The outages injected ("<platform>: h a to h b").
    pub outages: Vec<String>,
    pub with_fallback: DesignRun,
    /// The same design without the fallback deployments.
    pub single_provider: Option<DesignRun>,
    /// Per platform of the design: how to attribute its cost.
    pub finops: Vec<FinopsPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PickResult {
    pub profile: Profile,
    pub workloads: Vec<WorkloadPick>,
    pub design: Option<Design>,
    /// Platforms (catalog ids) the design uses.
    pub platforms: Vec<String>,
    pub over_budget: Option<String>,
}

impl PickResult {
    /// A recommendation was made for every workload.
    pub fn recommended(&self) -> bool {
        self.workloads
            .iter()
            .all(|w| w.verdict == Verdict::Recommended)
    }
}

fn sla_text(profile: &Profile) -> String {
    match profile.sla {
        Some(s) => s.to_string(),
        None => "no SLA (served within the client timeout)".into(),
    }
}

fn choose(profile: &Profile, w: &Workload, mut picks: WorkloadPick) -> WorkloadPick {
    let key = |e: &Evaluation| {
        e.best().map(|c| {
            (
                c.monthly_usd.mean,
                c.ttft_sla_ms.map_or(f64::INFINITY, |t| t.mean),
            )
        })
    };
    let eligible: Vec<usize> = (0..picks.evaluations.len())
        .filter(|&i| !picks.evaluations[i].route.substitute)
        .collect();
    let mut best: Option<usize> = None;
    for &i in &eligible {
        let Some((cost, ttft)) = key(&picks.evaluations[i]) else {
            continue;
        };
        best = match best {
            None => Some(i),
            Some(b) => {
                let (bc, bt) = key(&picks.evaluations[b]).expect("has best");
                let tie = (cost - bc).abs() <= COST_TIE * bc.max(cost);
                if (tie && ttft < bt) || (!tie && cost < bc) {
                    Some(i)
                } else {
                    Some(b)
                }
            }
        };
    }
    picks.primary = best;
    let sla = sla_text(profile);
    let Some(b) = best else {
        picks.verdict = if eligible.is_empty() {
            let sold_elsewhere = picks
                .excluded
                .iter()
                .any(|(_, x)| matches!(x, Exclusion::Compliance(_) | Exclusion::Residency(_)));
            if sold_elsewhere {
                let why: Vec<String> = picks
                    .excluded
                    .iter()
                    .filter(|(_, x)| !matches!(x, Exclusion::MissingModel(_)))
                    .map(|(p, x)| format!("{p}: {}", x.detail()))
                    .collect();
                Verdict::NoCompliantPlatform(format!(
                    "{} is sold, but by no platform that meets the profile's needs ({})",
                    w.models.join(" / "),
                    why.join("; ")
                ))
            } else {
                let mut known: Vec<&str> = Catalog::shipped()
                    .offerings()
                    .map(|(_, o)| o.model.as_str())
                    .collect();
                known.sort_unstable();
                known.dedup();
                Verdict::NoModel(format!(
                    "no platform in the catalog sells {} (models it knows: {})",
                    w.models.join(" or "),
                    known.join(", ")
                ))
            }
        } else {
            let closest: Vec<String> = eligible
                .iter()
                .filter_map(|&i| {
                    let e = &picks.evaluations[i];
                    e.closest().map(|c| {
                        format!(
                            "{} {}: {} at the SLA percentile with {} ({:.2}% within target){}",
                            e.route.platform,
                            e.route.model,
                            c.ttft_sla_ms
                                .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean)),
                            c.label,
                            c.attainment.map_or(0.0, |a| a.mean * 100.0),
                            floor_note(e, profile)
                        )
                    })
                })
                .collect();
            let ttft = |i: usize| {
                picks.evaluations[i]
                    .closest()
                    .and_then(|c| c.ttft_sla_ms)
                    .map_or(f64::INFINITY, |t| t.mean)
            };
            picks.closest = eligible
                .iter()
                .copied()
                .min_by(|&a, &b| ttft(a).total_cmp(&ttft(b)));
            Verdict::NoConfigurationMeetsSla(format!(
                "no simulated configuration meets {sla}; closest: {}",
                closest.join("; ")
            ))
        };
        for &i in &eligible {
            let e = &picks.evaluations[i];
            let x = Exclusion::Sla(format!(
                "{} via {}: best simulated TTFT at the SLA percentile {} (target {sla})",
                e.route.model,
                e.route.platform,
                e.closest()
                    .and_then(|c| c.ttft_sla_ms)
                    .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean))
            ));
            picks.excluded.push((e.route.platform.clone(), x));
        }
        return picks;
    };
    picks.verdict = Verdict::Recommended;
    let (bc, _) = key(&picks.evaluations[b]).expect("has best");
    let chosen_platform = picks.evaluations[b].route.platform.clone();
    // The fallback: another platform, on demand (a standby costs nothing
    // until used): meeting the SLA first, then the same model (no prompt
    // porting), then the cheapest, then the fastest.
    let mut fb: Vec<usize> = (0..picks.evaluations.len())
        .filter(|&i| {
            picks.evaluations[i].route.platform != chosen_platform
                && picks.evaluations[i].on_demand.is_some()
        })
        .collect();
    fb.sort_by(|&x, &y| {
        let (ex, ey) = (&picks.evaluations[x], &picks.evaluations[y]);
        let ca = ex.on_demand.as_ref().expect("filtered");
        let cb = ey.on_demand.as_ref().expect("filtered");
        cb.meets_sla
            .cmp(&ca.meets_sla)
            .then(ex.route.substitute.cmp(&ey.route.substitute))
            .then(ca.monthly_usd.mean.total_cmp(&cb.monthly_usd.mean))
            .then(
                ca.p99_ms
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&cb.p99_ms.unwrap_or(f64::INFINITY)),
            )
    });
    if profile.two_provider {
        picks.fallback = fb.first().copied();
        if picks.fallback.is_none() {
            picks.fallback_note = Some(format!(
                "the two-provider minimum cannot be met: under the profile's constraints only {chosen_platform} sells {} on demand; add a substitute model (workload.substitutes) that another platform sells, or waive it with two_provider = false",
                w.models.iter().chain(&w.substitutes).cloned().collect::<Vec<_>>().join(" / ")
            ));
        }
    } else {
        picks.fallback_note =
            Some("the profile waives the two-provider minimum (two_provider = false)".into());
    }
    for (i, e) in picks.evaluations.iter().enumerate() {
        if i == b || Some(i) == picks.fallback {
            continue;
        }
        let what = format!("{} via {}", e.route.model, e.route.platform);
        let x = match (e.route.substitute, e.best()) {
            (true, _) => Exclusion::Cost(format!(
                "{what}: a substitute (fallback only), not the chosen fallback"
            )),
            (false, Some(c)) => Exclusion::Cost(format!(
                "{what}: meets the SLA at {} per month with {}, {:+.1}% against the chosen {}",
                usd_whole(c.monthly_usd.mean),
                c.label,
                (c.monthly_usd.mean / bc - 1.0) * 100.0,
                usd_whole(bc)
            )),
            (false, None) => Exclusion::Sla(format!(
                "{what}: best simulated TTFT at the SLA percentile {} (target {sla}){}",
                e.closest()
                    .and_then(|c| c.ttft_sla_ms)
                    .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean)),
                floor_note(e, profile)
            )),
        };
        picks.excluded.push((e.route.platform.clone(), x));
    }
    picks
}

/// When the catalog's own TTFT profile of an offering (unloaded) already
/// exceeds the SLA target at its percentile, capacity cannot fix it: say so.
fn floor_note(e: &Evaluation, profile: &Profile) -> String {
    let Some(sla) = profile.sla else {
        return String::new();
    };
    let catalog = Catalog::shipped();
    let floors: Vec<String> = [e.route.reserved.as_ref(), e.route.on_demand.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|id| {
            let (_, o) = catalog.offering(id)?;
            let (p50, p99) = (o.latency.median_ms.value, o.latency.p99_ms.value);
            let bound = if sla.percentile >= 99.0 { p99 } else { p50 };
            (bound > sla.ttft_ms).then(|| {
                format!(
                    "{id} is {p50:.0} ms median / {p99:.0} ms p99 before any queueing (catalog)"
                )
            })
        })
        .collect();
    if floors.is_empty() {
        String::new()
    } else {
        format!(
            "; no amount of capacity fixes it: {}, and more units remove queueing, not service time",
            floors.join("; ")
        )
    }
}

/// Runs the whole pick. `progress` counts simulated hours.
pub fn pick(
    profile: &Profile,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<PickResult, PickError> {
    let catalog = Catalog::shipped();
    let mut workloads = Vec::new();
    for w in &profile.workloads {
        let mut picks = WorkloadPick {
            workload: w.name.clone(),
            evaluations: Vec::new(),
            excluded: Vec::new(),
            primary: None,
            fallback: None,
            fallback_note: None,
            closest: None,
            verdict: Verdict::Recommended,
        };
        for (platform, r) in routes(catalog, profile, w) {
            match r {
                Ok(route) => picks
                    .evaluations
                    .push(evaluate(catalog, profile, w, &route, threads, progress)?),
                Err(x) => picks.excluded.push((platform, x)),
            }
        }
        workloads.push(choose(profile, w, picks));
    }
    let mut result = PickResult {
        profile: profile.clone(),
        workloads,
        design: None,
        platforms: Vec::new(),
        over_budget: None,
    };
    if result.recommended() {
        let design = design(catalog, profile, &result.workloads, threads, progress)?;
        if let Some(b) = profile.budget_usd_per_month {
            let cost = design.with_fallback.monthly_usd.mean;
            if cost > b {
                result.over_budget = Some(format!(
                    "the design costs {} per month in simulation, {:.0}% over the budget of {}",
                    usd_whole(cost),
                    (cost / b - 1.0) * 100.0,
                    usd_whole(b)
                ));
            }
        }
        let mut platforms: Vec<String> = Vec::new();
        for d in &design.deployments {
            let p = d.offering.split('/').next().unwrap_or_default().to_string();
            if !platforms.contains(&p) {
                platforms.push(p);
            }
        }
        result.platforms = platforms;
        result.design = Some(design);
    }
    Ok(result)
}

fn dep_name(platform: &str, model: &str, kind: &str) -> String {
    format!("{platform}-{model}-{kind}")
}

fn design(
    catalog: &Catalog,
    profile: &Profile,
    picks: &[WorkloadPick],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Result<Design, PickError> {
    let mut deployments: Vec<DeploymentSpec> = Vec::new();
    // On-demand deployments and the workloads that may reach them.
    let mut od_users: BTreeMap<String, (String, Vec<usize>)> = BTreeMap::new();
    let mut classes = Vec::new();
    let mut single_routes = Vec::new();
    let mut primaries: Vec<String> = Vec::new();
    for (i, (wp, w)) in picks.iter().zip(&profile.workloads).enumerate() {
        let p = wp.primary().expect("recommended");
        let best = p.best().expect("recommended");
        let mut route = Vec::new();
        if best.mode != Mode::OnDemandOnly {
            let name = dep_name(&p.route.platform, &p.route.model, "reserved");
            route.push(name.clone());
            deployments.push(DeploymentSpec {
                name,
                offering: p.route.reserved.clone().expect("reserved config"),
                units: Some(best.units),
                term: Some(best.term.clone()),
                tpm: None,
                rpm: None,
            });
        }
        if best.mode != Mode::ReservedOnly {
            if let Some(o) = &p.route.on_demand {
                let name = dep_name(&p.route.platform, &p.route.model, "od");
                od_users
                    .entry(name.clone())
                    .or_insert((o.clone(), Vec::new()))
                    .1
                    .push(i);
                route.push(name);
            }
        }
        if !primaries.contains(&p.route.platform) {
            primaries.push(p.route.platform.clone());
        }
        single_routes.push(route.clone());
        let mut substitutes = Vec::new();
        if let Some(f) = wp.fallback() {
            let o = f.route.on_demand.clone().expect("fallbacks are on demand");
            let name = dep_name(&f.route.platform, &f.route.model, "od");
            od_users
                .entry(name.clone())
                .or_insert((o, Vec::new()))
                .1
                .push(i);
            route.push(name);
            if f.route.model != p.route.model {
                substitutes.push(f.route.model.clone());
            }
        }
        classes.push(ClassSpec {
            workload: w,
            model: p.route.model.clone(),
            substitutes,
            route,
        });
    }
    // Quotas sized for everything that may arrive at each on-demand deployment.
    for (name, (offering, users)) in &od_users {
        let peak: f64 = users.iter().map(|&i| profile.workloads[i].peak_rps).sum();
        let tokens: f64 = users
            .iter()
            .map(|&i| {
                let w = &profile.workloads[i];
                w.peak_rps * (w.mean_input_tokens + w.mean_output_tokens)
            })
            .sum::<f64>()
            / peak.max(1e-12);
        deployments.push(od_spec(
            name.clone(),
            offering,
            &quota(catalog, offering, peak, tokens),
        ));
    }
    // One full outage of each primary platform, at the first day's peak,
    // one after the other.
    let mut outages = Vec::new();
    let mut outage_text = Vec::new();
    if profile.outage_hours > 0.0 {
        let h = profile.horizon_hours as f64;
        let peak = profile.workloads[0].peak_hour;
        let mut start = if h >= 24.0 + peak + profile.outage_hours {
            24.0 + peak
        } else {
            ((h - profile.outage_hours) / 2.0).max(0.0).floor()
        };
        for p in &primaries {
            if start + profile.outage_hours > h {
                break;
            }
            let mut o = toml::Table::new();
            o.insert(
                "name".into(),
                format!("{p} full outage (assumption)").into(),
            );
            o.insert("platform".into(), p.clone().into());
            o.insert("start_hour".into(), start.into());
            o.insert("duration_hours".into(), profile.outage_hours.into());
            o.insert("effect".into(), "full".into());
            outages.push(o);
            outage_text.push(format!(
                "{p}: full outage from hour {start} to {}",
                start + profile.outage_hours
            ));
            start += profile.outage_hours + 1.0;
        }
    }
    let description = format!(
        "llmcap pick design for profile {}: primary and fallback per workload behind a gateway, with a full outage of each primary platform",
        profile.name
    );
    let table = scenario_table(
        profile,
        &format!("{}-design", profile.name),
        &description,
        &classes,
        &deployments,
        true,
        &outages,
    );
    let scenario_toml = toml::to_string(&table).map_err(|e| PickError::Internal(e.to_string()))?;
    let sc = build(table, profile)?;
    let (with_fallback, rows) = design_run(&sc, "primary + fallback", threads, progress);
    let has_fallback = picks.iter().any(|p| p.fallback.is_some());
    let single_provider = if has_fallback {
        let mut single = classes.clone();
        for (c, r) in single.iter_mut().zip(&single_routes) {
            c.route = r.clone();
            c.substitutes.clear();
        }
        let used: Vec<&String> = single.iter().flat_map(|c| c.route.iter()).collect();
        let deps: Vec<DeploymentSpec> = deployments
            .iter()
            .filter(|d| used.contains(&&d.name))
            .cloned()
            .collect();
        let t = scenario_table(
            profile,
            &format!("{}-single", profile.name),
            "",
            &single,
            &deps,
            true,
            &outages,
        );
        Some(design_run(&build(t, profile)?, "primary only", threads, progress).0)
    } else {
        None
    };
    let mut design = Design {
        scenario_toml,
        deployments,
        outages: outage_text,
        with_fallback,
        single_provider,
        finops: Vec::new(),
    };
    design.finops = finops(profile, &design, &rows);
    Ok(design)
}

fn design_run(
    sc: &Scenario,
    label: &str,
    threads: usize,
    progress: Option<&AtomicU64>,
) -> (DesignRun, Vec<AttributionRow>) {
    let (pooled, kept) = crate::analysis::run::run_each(sc, threads, progress, |m| {
        crate::analysis::sweep::RepOutcome::of(sc, None, None, m)
    });
    let summary = PointSummary::of(0.0, &kept, &pooled.overall_ttft(), false);
    let hours = sc.horizon_hours as f64;
    let monthly: Vec<f64> = kept
        .iter()
        .map(|o| o.total_usd() / hours * HOURS_PER_MONTH)
        .collect();
    let availability: Vec<f64> = kept
        .iter()
        .map(|o| o.served as f64 / o.arrived.max(1) as f64)
        .collect();
    let rows =
        crate::analysis::attribution::attribution(sc, &pooled, kept.len(), Catalog::shipped());
    (
        DesignRun {
            label: label.to_string(),
            monthly_usd: MeanCi::of(&monthly).expect("replications"),
            availability: MeanCi::of(&availability).expect("replications"),
            p50_ms: summary.pooled_p50_ms,
            p99_ms: summary.pooled_p99_ms,
            ttft_sla_ms: summary.sla_ttft_ms,
            attainment: summary.sla_attainment,
            meets_sla: summary.meets_sla.unwrap_or(false),
            failed_share: summary.failed_share + summary.throttled_share,
        },
        rows,
    )
}

// ---------------------------------------------------------------------------
// FinOps instrumentation plan.
// ---------------------------------------------------------------------------

/// What to set up on one platform of the design so its cost splits by the
/// workloads' tags, with the simulated shares that set-up reaches.
#[derive(Debug, Clone, Serialize)]
pub struct FinopsPlan {
    pub platform: String,
    pub mechanism: String,
    pub granularity_hours: Option<f64>,
    pub latency_hours: Option<f64>,
    pub steps: Vec<String>,
    /// The design's attribution rows of this platform (per tag dimension).
    pub attribution: Vec<AttributionRow>,
}

fn finops(profile: &Profile, design: &Design, rows: &[AttributionRow]) -> Vec<FinopsPlan> {
    let catalog = Catalog::shipped();
    let mut keys: Vec<&String> = profile
        .workloads
        .iter()
        .flat_map(|w| w.tags.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let mut platforms: Vec<&str> = Vec::new();
    for d in &design.deployments {
        let p = d.offering.split('/').next().unwrap_or_default();
        if !platforms.contains(&p) {
            platforms.push(p);
        }
    }
    let gateway = Catalog::gateway();
    platforms
        .into_iter()
        .map(|p| {
            let model = catalog.platform(p).and_then(|f| f.platform.attribution_model.as_ref());
            let mine: Vec<AttributionRow> = rows.iter().filter(|r| r.platform == p).cloned().collect();
            let mut steps = Vec::new();
            let deps: Vec<&DeploymentSpec> = design
                .deployments
                .iter()
                .filter(|d| d.offering.starts_with(&format!("{p}/")))
                .collect();
            if keys.is_empty() {
                steps.push("the profile gives its workloads no tags (team, product, feature): add them, or every cost line stays per deployment".to_string());
            }
            if let Some(m) = model {
                let carried: Vec<&str> = keys.iter().filter(|k| m.carries(k)).map(|k| k.as_str()).collect();
                let missing: Vec<&str> = keys.iter().filter(|k| !m.carries(k)).map(|k| k.as_str()).collect();
                match m.on_demand.value.as_str() {
                    "request" if !carried.is_empty() => steps.push(format!(
                        "on-demand traffic: use {} carrying {} on every call (one per combination the workloads use)",
                        m.mechanism.value,
                        carried.join(", ")
                    )),
                    "credential" if !carried.is_empty() => steps.push(format!(
                        "on-demand traffic: one {} per value of {}",
                        m.mechanism.value,
                        carried.join(", ")
                    )),
                    "resource" => steps.push(format!(
                        "on-demand traffic: {} split cost per deployment only; give each value of a dimension its own deployment, or let the gateway stamp {} on each request",
                        m.mechanism.value,
                        if keys.is_empty() { "the tags".to_string() } else { keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ") }
                    )),
                    _ => {}
                }
                if !missing.is_empty() && m.on_demand.value != "resource" {
                    steps.push(format!(
                        "{} cannot carry {}: the gateway must stamp it ({})",
                        m.mechanism.value,
                        missing.join(", "),
                        gateway.attribution_model.mechanism.value
                    ));
                }
                for d in deps.iter().filter(|d| d.units.is_some()) {
                    steps.push(format!(
                        "reserved capacity {} ({} units): one cost object; if workloads with different tags share it, split its used share by the gateway's per-request token logs and agree an allocation rule for idle capacity",
                        d.name,
                        d.units.unwrap_or(0)
                    ));
                }
                steps.push(format!(
                    "expect cost at {} granularity, about {} h after use ({})",
                    hours_text(m.granularity_hours.value),
                    m.latency_hours.value,
                    m.default_view.value
                ));
            } else {
                steps.push("the catalog has no attribution model for this platform: rely on the gateway".to_string());
            }
            FinopsPlan {
                platform: p.to_string(),
                mechanism: model.map_or(crate::analysis::attribution::NO_MECHANISM.to_string(), |m| m.mechanism.value.clone()),
                granularity_hours: model.map(|m| m.granularity_hours.value),
                latency_hours: model.map(|m| m.latency_hours.value),
                steps,
                attribution: mine,
            }
        })
        .collect()
}

fn hours_text(h: f64) -> String {
    if h == 0.0 {
        "per-request".into()
    } else if h >= 24.0 && (h / 24.0).fract() == 0.0 {
        format!("{}-day", h / 24.0)
    } else {
        format!("{h}-hour")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_region_is_mapped() {
        for (_, o) in Catalog::shipped().offerings() {
            for r in &o.regions.value {
                assert!(
                    regions().iter().any(|x| &x.id == r),
                    "region {r} of {} is not in sim/input/catalog/regions.toml",
                    o.id
                );
            }
        }
    }

    #[test]
    fn residency_rules() {
        assert!(region_within("us-east-1", "us-east"));
        assert!(region_within("eastus2", "us"));
        assert!(
            !region_within("us", "us-east"),
            "a data zone is not an area"
        );
        assert!(region_within("us", "us"));
        assert!(!region_within("global", "us"));
        assert!(!region_within("westus", "us-east"));
        assert!(!region_within("nowhere", "us"));
        let v = residency_values();
        assert!(v.contains(&"us-east".to_string()) && v.contains(&"eu".to_string()));
        assert!(!v.contains(&"global".to_string()));
    }
}
