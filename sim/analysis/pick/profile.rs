//! The profile file: raw TOML, validated into a [`Profile`] of [`Workload`]s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::plan::{parse_sla, SlaTarget, HOURS_PER_MONTH};
use crate::domain::limits::MAX_PICK_WORKLOADS;
use crate::domain::{Scenario, WEEKDAYS};
use crate::error::InputError;
use crate::input::document::{parse_toml, Checker};
use crate::input::scenario::Overrides;

/// The longest horizon a pick simulates (31 days): it runs every eligible platform and
/// capacity configuration, so its horizon is bounded more tightly than a scenario's.
pub const MAX_PICK_HOURS: u32 = 24 * 31;

use super::regions::residency_values;

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
    /// The `max_tokens` the workload's requests send (checked as a scenario class's).
    max_tokens: Option<toml::Value>,
    /// The workload can wait: pick sends it to each platform's batch API where one is sold.
    deferrable: Option<bool>,
    /// Its completion-time target, hours from arrival (deferrable only; default the window).
    completion_sla_hours: Option<f64>,
    /// How often its batch jobs are submitted, minutes (deferrable only; default 60).
    submit_every_minutes: Option<f64>,
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
    /// The `max_tokens` its requests send (none: each request's own output, a lower bound on
    /// what the quota shapes that count `max_tokens` see).
    pub max_tokens: Option<u32>,
    /// Peak-hour arrivals per second (of the hour-of-day profile).
    pub peak_rps: f64,
    pub tags: BTreeMap<String, String>,
    /// `deferrable = true`: served by the platform's batch API where it sells one for the
    /// model (docs/model.md, section 12.5).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deferrable: bool,
    /// The completion-time target of a deferrable workload, hours from arrival (None: the
    /// batch offering's completion window).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_sla_hours: Option<f64>,
    /// How often a deferrable workload's gathered requests are submitted as a batch job,
    /// minutes (None: [`DEFAULT_SUBMIT_EVERY_MINUTES`](crate::input::scenario::batch::DEFAULT_SUBMIT_EVERY_MINUTES)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submit_every_minutes: Option<f64>,
}

impl Workload {
    /// Minutes between two submissions of its batch jobs (the profile's, or llmcap's default).
    pub fn submit_minutes(&self) -> f64 {
        self.submit_every_minutes
            .unwrap_or(crate::input::scenario::batch::DEFAULT_SUBMIT_EVERY_MINUTES)
    }
}

impl Workload {
    /// Its traffic on an on-demand deployment, for quota sizing.
    pub(super) fn demand(&self) -> super::quota::Demand {
        super::quota::Demand {
            peak_rps: self.peak_rps,
            input: self.mean_input_tokens,
            output: self.mean_output_tokens,
            max_tokens: self
                .max_tokens
                .map_or(self.mean_output_tokens, |m| m as f64),
        }
    }

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
        Profile::from_toml_with(text, file, &Overrides::default())
    }

    /// As [`Profile::from_toml`], with the command line's `--seed`, `--replications` and
    /// `--horizon-hours` put into `[simulation]` before validation (validation is the only
    /// gate: a written `outage_hours` longer than an overridden horizon is refused, and an
    /// override out of range is reported like the key it replaces).
    pub fn from_toml_with(
        text: &str,
        file: &Path,
        overrides: &Overrides,
    ) -> Result<Profile, InputError> {
        let mut raw: RawProfile = parse_toml(text, file)?;
        apply_overrides(&mut raw.simulation, overrides);
        let c = Checker { file };
        let h = &raw.profile;
        let sla = match &h.sla {
            Some(s) => Some(parse_sla(s).map_err(|e| e.at(file, "profile.sla"))?),
            None => None,
        };
        if let Some(b) = h.budget_usd_per_month {
            c.positive("profile.budget_usd_per_month", b)?;
        }
        let certifications = listed(
            &c,
            "profile.certifications",
            &h.certifications,
            CERTIFICATIONS,
        )?;
        let platform_kinds = listed(
            &c,
            "profile.platform_kinds",
            &h.platform_kinds,
            PLATFORM_KINDS,
        )?;
        let residency = residency(&c, h.residency.as_deref())?;
        let (horizon_hours, replications, seed, start_weekday, outage_hours) =
            simulation(&c, &raw.simulation)?;
        workload_count(&c, raw.workload.len())?;
        let mut workloads = Vec::with_capacity(raw.workload.len());
        for (i, w) in raw.workload.iter().enumerate() {
            workloads.push(workload(&c, &raw.workload[..i], w, i, &start_weekday)?);
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

/// The command line's `--seed`, `--replications` and `--horizon-hours`, written into
/// `[simulation]` so that validation judges them like the keys they replace.
fn apply_overrides(s: &mut RawSimulation, overrides: &Overrides) {
    if let Some(seed) = overrides.seed {
        s.seed = Some(i64::try_from(seed).unwrap_or(i64::MAX));
    }
    if let Some(r) = overrides.replications {
        s.replications = Some(r);
    }
    if let Some(h) = overrides.horizon_hours {
        s.horizon_hours = Some(h as f64);
    }
}

/// A list of names under `key` (`profile.certifications`, `profile.platform_kinds`), each one
/// of `allowed`; absent is empty.
fn listed(
    c: &Checker,
    key: &str,
    values: &Option<Vec<String>>,
    allowed: &[&str],
) -> Result<Vec<String>, InputError> {
    let values = values.clone().unwrap_or_default();
    for (i, v) in values.iter().enumerate() {
        c.one_of(&format!("{key}[{i}]"), v, allowed)?;
    }
    Ok(values)
}

/// `profile.residency`, lowercased: one of the areas the catalog's regions lie in.
fn residency(c: &Checker, residency: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(r) = residency else {
        return Ok(None);
    };
    if r.trim().is_empty() {
        return Err(c.err(
            "profile.residency",
            "must not be empty; leave it out for none",
        ));
    }
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
    Ok(Some(r))
}

/// The number of `[[workload]]` tables: at least one, at most [`MAX_PICK_WORKLOADS`].
fn workload_count(c: &Checker, n: usize) -> Result<(), InputError> {
    if n == 0 {
        return Err(c.err(
            "workload",
            "a profile needs at least one [[workload]] (name, model, requests_per_day or tokens_per_month, input_tokens, output_tokens)",
        ));
    }
    if n > MAX_PICK_WORKLOADS {
        return Err(c.err(
            "workload",
            format!(
                "{n} [[workload]] tables; at most {MAX_PICK_WORKLOADS} are allowed (each is simulated on every platform that sells its model): split the profile"
            ),
        ));
    }
    Ok(())
}

/// `workload[i]`, checked against the workloads before it (`earlier`): its models, shape,
/// token distributions and rate, with the peak-hour rate of its daily profile.
fn workload(
    c: &Checker,
    earlier: &[RawWorkload],
    w: &RawWorkload,
    i: usize,
    start_weekday: &str,
) -> Result<Workload, InputError> {
    let at = |k: &str| format!("workload[{i}].{k}");
    if w.name.trim().is_empty() {
        return Err(c.err(at("name"), "must not be empty"));
    }
    if earlier.iter().any(|o| o.name == w.name) {
        return Err(c.err(at("name"), format!("\"{}\" is used twice", w.name)));
    }
    let (models, substitutes) = workload_models(c, w, i)?;
    let peak_hour = c.range(&at("peak_hour"), w.peak_hour.unwrap_or(14.0), 0.0, 23.0)?;
    let peak_to_trough = c.range(
        &at("peak_to_trough"),
        w.peak_to_trough.unwrap_or(1.0),
        1.0,
        1000.0,
    )?;
    // The token distributions are checked (and their means computed)
    // by the scenario validator, through a one-class probe scenario.
    let probe = probe_class(w, peak_hour, peak_to_trough, c.file, i)?;
    let (deferrable, completion_sla_hours, submit_every_minutes) = deferrable(c, w, i)?;
    let mean_in = probe.classes[0].input_tokens.mean();
    let mean_out = probe.classes[0].output_tokens.mean();
    let mean_rps = mean_rps(c, w, i, mean_in + mean_out)?;
    Ok(Workload {
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
        max_tokens: probe.classes[0].max_tokens,
        peak_rps: peak_rps(&probe, start_weekday, mean_rps),
        tags: w.tags.clone(),
        deferrable,
        completion_sla_hours,
        submit_every_minutes,
    })
}

/// `workload[i].deferrable`, `completion_sla_hours` and `submit_every_minutes`: the target
/// and the submission interval only on a deferrable workload, the target more than 0 and at
/// most [`MAX_PICK_HOURS`], the interval from 1 minute to a week (as a batch deployment's); a
/// deferrable workload sends no `max_tokens` (a batch job has no per-minute quota for it to
/// count against).
fn deferrable(
    c: &Checker,
    w: &RawWorkload,
    i: usize,
) -> Result<(bool, Option<f64>, Option<f64>), InputError> {
    let at = |k: &str| format!("workload[{i}].{k}");
    let deferrable = w.deferrable.unwrap_or(false);
    for (key, set) in [
        ("completion_sla_hours", w.completion_sla_hours.is_some()),
        ("submit_every_minutes", w.submit_every_minutes.is_some()),
    ] {
        if !deferrable && set {
            return Err(c.err(
                at(key),
                "applies to deferrable workloads only (deferrable = true); an online workload has the profile's sla",
            ));
        }
    }
    let submit = w
        .submit_every_minutes
        .map(|m| {
            c.range(
                &at("submit_every_minutes"),
                m,
                1.0,
                crate::input::scenario::batch::MAX_SUBMIT_EVERY_MINUTES,
            )
        })
        .transpose()?;
    if deferrable && w.max_tokens.is_some() {
        return Err(c.err(
            at("max_tokens"),
            "does not apply to a deferrable workload: batch jobs have no per-minute quota for max_tokens to count against",
        ));
    }
    let sla = match w.completion_sla_hours {
        Some(h) => {
            let h = c.range(&at("completion_sla_hours"), h, 0.0, MAX_PICK_HOURS as f64)?;
            if h <= 0.0 {
                return Err(c.err(
                    at("completion_sla_hours"),
                    format!("must be greater than 0, got {h}"),
                ));
            }
            Some(h)
        }
        None => None,
    };
    Ok((deferrable, sla, submit))
}

/// `workload[i]`'s model with its alternatives, and its substitutes: none empty, the
/// substitutes apart from the others, every name one the catalog sells.
fn workload_models(
    c: &Checker,
    w: &RawWorkload,
    i: usize,
) -> Result<(Vec<String>, Vec<String>), InputError> {
    let at = |k: &str| format!("workload[{i}].{k}");
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
    let named = models.iter().enumerate().map(|(j, m)| match j {
        0 => (at("model"), m),
        _ => (at(&format!("alternatives[{}]", j - 1)), m),
    });
    let subs = (substitutes.iter().enumerate()).map(|(j, m)| (at(&format!("substitutes[{j}]")), m));
    for (key, m) in named.chain(subs) {
        if let Some(why) = unknown_model(m) {
            return Err(c.err(key, why));
        }
    }
    Ok((models, substitutes))
}

/// `workload[i]`'s mean arrival rate (requests/s), from `requests_per_day` or from
/// `tokens_per_month` over the mean tokens of a request; at most 10,000.
fn mean_rps(
    c: &Checker,
    w: &RawWorkload,
    i: usize,
    tokens_per_request: f64,
) -> Result<f64, InputError> {
    let at = |k: &str| format!("workload[{i}].{k}");
    let mean_rps = match (w.requests_per_day, w.tokens_per_month) {
        (Some(r), None) => c.positive(&at("requests_per_day"), r)? / 86_400.0,
        (None, Some(t)) => {
            c.positive(&at("tokens_per_month"), t)? / (HOURS_PER_MONTH * 3600.0)
                / tokens_per_request
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
    Ok(mean_rps)
}

/// The peak-hour arrival rate of a workload at `mean_rps`: the probe's hour-of-day profile
/// (1 request/s on average), on the profile's start weekday, scaled to the workload.
fn peak_rps(probe: &Scenario, start_weekday: &str, mean_rps: f64) -> f64 {
    let class = &probe.classes[0];
    let weekday = WEEKDAYS
        .iter()
        .position(|d| *d == start_weekday)
        .unwrap_or(0) as i64;
    // The probe's calendar moved to the profile's weekday.
    let weekday = probe.start_date - probe.start_weekday as i64 + weekday;
    let per_rps = class.expected_in_hour(0, weekday) / 3600.0;
    let peak = (0..24u64)
        .map(|h| class.expected_in_hour(h, weekday) / 3600.0)
        .fold(0.0, f64::max);
    if per_rps > 0.0 || peak > 0.0 {
        // The probe runs at 1 request/s on average.
        mean_rps * peak
    } else {
        mean_rps
    }
}

/// The `[simulation]` table: horizon (hours), replications, seed, start weekday
/// and outage hours.
fn simulation(c: &Checker, s: &RawSimulation) -> Result<(u32, u32, i64, String, f64), InputError> {
    let horizon = s.horizon_hours.unwrap_or(72.0);
    if !(horizon.fract() == 0.0 && (1.0..=MAX_PICK_HOURS as f64).contains(&horizon)) {
        return Err(c.err(
            "simulation.horizon_hours",
            format!(
                "must be a whole number from 1 to {MAX_PICK_HOURS} (pick simulates many configurations), got {horizon}"
            ),
        ));
    }
    let horizon_hours = horizon as u32;
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
    Ok((
        horizon_hours,
        replications,
        seed,
        start_weekday,
        outage_hours,
    ))
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
    if let Some(m) = &w.max_tokens {
        class.insert("max_tokens".into(), m.clone());
    }
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

pub(super) fn arrivals(mean_rps: f64, peak_hour: f64, peak_to_trough: f64) -> toml::Table {
    let mut a = toml::Table::new();
    a.insert("mean_rps".into(), mean_rps.into());
    if peak_to_trough > 1.0 {
        a.insert("peak_hour".into(), peak_hour.into());
        a.insert("peak_to_trough".into(), peak_to_trough.into());
    }
    a
}

/// A model name no catalog offering uses, with the closest names the catalog knows: caught
/// before anything is simulated, so a typo is not answered as "sold by no platform".
fn unknown_model(m: &str) -> Option<String> {
    let catalog = crate::input::catalog::Catalog::shipped();
    if catalog.offerings().any(|(_, o)| o.model == m) {
        return None;
    }
    let closest = crate::input::gateway::models::closest_models(catalog, None, m);
    Some(format!(
        "\"{m}\" is not a model in the catalog; did you mean {}? (`llmcap catalog` lists every model)",
        closest.join(" or ")
    ))
}
