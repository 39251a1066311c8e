//! The scenario file: serde types for the TOML ([`raw`], a cheap parse that only
//! checks shapes), then validation into the domain types the simulation runs on
//! ([`crate::domain`]; every value is checked and every error names its key).
//!
//! Units are in the key names: `_ms`, `_rps`, `_per_1m`, `_tpm`, `_hours`.
//! `docs/scenario.md` lists every key, its unit, default and allowed range.

use std::path::Path;

use crate::domain::limits::{MAX_HORIZON_HOURS, MAX_REPLICATIONS};
use crate::domain::time;
use crate::domain::{
    Class, Deployment, Scenario, SweepSpec, DEFAULT_PERCENTILES, DEFAULT_REFERENCE_BAND, WEEKDAYS,
};
use crate::error::InputError;
use crate::input::document::{parse_toml, Checker};

pub mod batch;
mod calibration;
mod class;
mod expected;
mod offerings;
mod options;
pub mod portkey;
mod prices;
pub mod raw;
mod reserved_rate;
mod route_order;
mod steps;
mod trace_scan;
mod validate;
pub mod work;

pub use calibration::calibration_files;
use calibration::{apply_calibrations, uses_calibration};
use class::validate_class;
use offerings::{apply_offerings, uses_offerings};
pub use options::{option_name, parse_sla};
use raw::RawScenario;
use validate::{validate_client, validate_deployment, validate_gateway, validate_outage};

/// Values given outside the file (command-line flags, a sweep's or a plan's
/// replications) that replace the file's own before validation, so every value
/// derived during validation (a trace's expected arrivals per hour, outage
/// windows checked against the horizon) comes from the final inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Replaces `scenario.seed` (0 to 2^63 - 1).
    pub seed: Option<u64>,
    /// Replaces `scenario.replications` (and `plan.replications`).
    pub replications: Option<u32>,
    /// Replaces `scenario.horizon_hours`.
    pub horizon_hours: Option<u32>,
    /// Replaces `scenario.start_date` (`YYYY-MM-DD`) and drops `scenario.start_weekday`,
    /// which the date decides.
    pub start_date: Option<String>,
    /// The command is `plan`: `[plan] replications`, when given, replaces
    /// `scenario.replications` (unless `replications` above is set).
    pub plan: bool,
    /// `plan --ladder --months N`: the horizon becomes the N whole months from
    /// `start_date` (after `start_date` above), replacing `horizon_hours`.
    pub horizon_months: Option<u32>,
}

impl Overrides {
    /// Writes the overrides into the file as parsed, before validation.
    fn apply(&self, raw: &mut RawScenario) {
        let h = &mut raw.scenario;
        if let Some(seed) = self.seed {
            // Out-of-range seeds stay out of range, so validation names them.
            h.seed = i64::try_from(seed).unwrap_or(-1);
        }
        if let Some(hours) = self.horizon_hours {
            h.horizon_hours = hours as f64;
        }
        if let Some(date) = &self.start_date {
            h.start_date = Some(toml::Value::String(date.clone()));
            h.start_weekday = None;
        }
        if let Some(months) = self.horizon_months {
            if let Some(start) = start_day(h) {
                let end = time::month_start(start, months);
                h.horizon_hours = ((end - start) * 24) as f64;
            }
        }
        let plan_reps = if self.plan {
            raw.plan.as_ref().and_then(|p| p.replications)
        } else {
            None
        };
        if let Some(r) = self.replications.or(plan_reps) {
            h.replications = Some(r);
        }
    }
}

/// The first day of the run as the file (with overrides) gives it, for
/// counting months before validation; None when `start_date` is not a date
/// (validation then names it).
fn start_day(h: &raw::RawHeader) -> Option<i64> {
    let text = match &h.start_date {
        Some(toml::Value::String(s)) => s.clone(),
        Some(toml::Value::Datetime(d)) => d.to_string(),
        Some(_) => return None,
        None => {
            let monday = time::parse_date(time::DEFAULT_START_DATE)?;
            let w = match &h.start_weekday {
                Some(w) => WEEKDAYS.iter().position(|d| *d == w.to_lowercase())?,
                None => 0,
            };
            return Some(monday + w as i64);
        }
    };
    time::parse_date(&text)
}

/// `scenario.start_date` and `scenario.start_weekday`: the date of simulated
/// hour 0 (days since 1970-01-01) and its weekday (0 = Monday). Either decides
/// the other; both must agree.
fn calendar(c: &Checker, h: &raw::RawHeader) -> Result<(i64, u8), InputError> {
    let weekday = match &h.start_weekday {
        Some(w) => Some(c.one_of("scenario.start_weekday", &w.to_lowercase(), WEEKDAYS)? as u8),
        None => None,
    };
    let Some(v) = &h.start_date else {
        let monday = time::parse_date(time::DEFAULT_START_DATE).unwrap_or_default();
        let w = weekday.unwrap_or(0);
        return Ok((monday + w as i64, w));
    };
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        other => other.to_string(),
    };
    let days = time::parse_date(&text).ok_or_else(|| {
        c.err(
            "scenario.start_date",
            format!(
                "must be a calendar date YYYY-MM-DD from 1970 on (e.g. \"{}\"), got {text}",
                time::DEFAULT_START_DATE
            ),
        )
    })?;
    let date_weekday = time::weekday(days);
    match weekday {
        Some(w) if w != date_weekday => Err(c.err(
            "scenario.start_weekday",
            format!(
                "is {}, but start_date {text} is a {}; give only start_date (it decides the weekday)",
                WEEKDAYS[w as usize], WEEKDAYS[date_weekday as usize]
            ),
        )),
        _ => Ok((days, date_weekday)),
    }
}

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        Scenario::load_with(path, &Overrides::default())
    }

    /// Reads a scenario file, applies `overrides` and validates the result.
    pub fn load_with(path: &Path, overrides: &Overrides) -> Result<Scenario, InputError> {
        let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Scenario::from_toml_with(&text, path, overrides)
    }

    /// Parses and validates scenario text; `file` is only used in messages.
    pub fn from_toml(text: &str, file: &Path) -> Result<Scenario, InputError> {
        Scenario::from_toml_with(text, file, &Overrides::default())
    }

    /// Parses scenario text, applies `overrides` and validates the result.
    pub fn from_toml_with(
        text: &str,
        file: &Path,
        overrides: &Overrides,
    ) -> Result<Scenario, InputError> {
        let table: toml::Table = parse_toml(text, file)?;
        if uses_offerings(&table) || uses_calibration(&table) {
            return Scenario::from_table_with(table, file, overrides);
        }
        // Without catalog offerings, parse the text itself so errors keep
        // their line and column.
        let raw: RawScenario = parse_toml(text, file)?;
        validate(raw, file, overrides)
    }

    /// Validates a scenario already parsed into a TOML table (a sweep point);
    /// `file` is only used in messages.
    pub fn from_table(table: toml::Table, file: &Path) -> Result<Scenario, InputError> {
        Scenario::from_table_with(table, file, &Overrides::default())
    }

    /// Applies `overrides` to a parsed scenario table and validates the result.
    pub fn from_table_with(
        table: toml::Table,
        file: &Path,
        overrides: &Overrides,
    ) -> Result<Scenario, InputError> {
        let table = apply_calibrations(table, file)?;
        let table = apply_offerings(table, file)?;
        let raw: RawScenario = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let path = e.path().to_string();
                InputError::Invalid {
                    file: file.to_path_buf(),
                    path: if path.is_empty() { ".".into() } else { path },
                    message: e.into_inner().message().trim().to_string(),
                }
            })?;
        validate(raw, file, overrides)
    }
}

/// The `[sweep]`, `[plan]` and `[frontier]` tables, each checked on its own.
type CommandOptions = (
    Option<SweepSpec>,
    Option<crate::domain::PlanOptions>,
    Option<crate::domain::FrontierOptions>,
);

fn command_options(c: &Checker, raw: &RawScenario) -> Result<CommandOptions, InputError> {
    let sweep = raw
        .sweep
        .as_ref()
        .map(|s| SweepSpec::from_raw(s, c.file, "sweep"))
        .transpose()?;
    let plan = raw
        .plan
        .as_ref()
        .map(|p| options::validate_plan(c, p))
        .transpose()?;
    let frontier = raw
        .frontier
        .as_ref()
        .map(|f| options::validate_frontier(c, f))
        .transpose()?;
    Ok((sweep, plan, frontier))
}

fn validate(
    mut raw: RawScenario,
    file: &Path,
    overrides: &Overrides,
) -> Result<Scenario, InputError> {
    let c = Checker { file };
    let split = batch::split(&c, &mut raw)?;
    let mut sc = validate_interactive(raw, file, overrides).map_err(|e| split.reindex(e))?;
    batch::attach(&c, split, &mut sc)?;
    work::checked(&c, sc)
}

/// Everything but the batch part (see `batch`).
fn validate_interactive(
    mut raw: RawScenario,
    file: &Path,
    overrides: &Overrides,
) -> Result<Scenario, InputError> {
    let c = Checker { file };
    // The options first: a plan's replications replace the scenario's.
    let (sweep, plan, frontier) = command_options(&c, &raw)?;
    // A scheduled outage may start anywhere in the horizon the file was
    // written for: a shorter look (--horizon-hours) simply ends before it.
    let written_horizon = raw.scenario.horizon_hours;
    overrides.apply(&mut raw);
    let h = &raw.scenario;
    let name = scenario_name(&c, h.name.as_deref(), file)?;
    let horizon = c.range(
        "scenario.horizon_hours",
        h.horizon_hours,
        1.0,
        MAX_HORIZON_HOURS,
    )?;
    if horizon.fract() != 0.0 {
        return Err(c.err(
            "scenario.horizon_hours",
            format!("must be a whole number of hours (costs are billed per hour), got {horizon}"),
        ));
    }
    let seed = u64::try_from(h.seed).map_err(|_| {
        c.err(
            "scenario.seed",
            format!(
                "must be a whole number from 0 to 9223372036854775807, got {}",
                h.seed
            ),
        )
    })?;
    let replications = h.replications.unwrap_or(1);
    if replications == 0 || replications > MAX_REPLICATIONS {
        return Err(c.err(
            "scenario.replications",
            format!("must be from 1 to {MAX_REPLICATIONS}, got {replications}"),
        ));
    }
    let (start_date, start_weekday) = calendar(&c, h)?;
    let mut percentiles = h
        .percentiles
        .clone()
        .unwrap_or_else(|| DEFAULT_PERCENTILES.to_vec());
    if percentiles.is_empty() {
        return Err(c.err("scenario.percentiles", "must list at least one percentile"));
    }
    for (i, p) in percentiles.iter().enumerate() {
        c.percentile(&format!("scenario.percentiles[{i}]"), *p)?;
    }
    percentiles.sort_by(f64::total_cmp);
    percentiles.dedup();

    let reference_band = reference_band(&c, raw.report.as_ref())?;
    let client = validate_client(&c, raw.client.unwrap_or_default())?;

    if raw.deployment.is_empty() {
        return Err(c.err(
            "deployment",
            "the scenario needs at least one [[deployment]]",
        ));
    }
    let mut deployments = Vec::with_capacity(raw.deployment.len());
    for (i, d) in raw.deployment.iter().enumerate() {
        let p = format!("deployment[{i}]");
        if deployments.iter().any(|x: &Deployment| x.name == d.name) {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate deployment name \"{}\"", d.name),
            ));
        }
        deployments.push(validate_deployment(&c, &p, d)?);
    }

    let gateway = validate_gateway(&c, raw.gateway.as_ref())?;
    let mut classes = validate_classes(&c, &raw.class, &deployments, horizon as u32, &gateway)?;
    let outages = validate_outages(
        &c,
        &raw.outage,
        &deployments,
        horizon.max(written_horizon.min(MAX_HORIZON_HOURS)),
    )?;
    prices::apply_prices(
        &c,
        &raw.price_change,
        &raw.deployment,
        &mut deployments,
        prices::Window {
            start_date,
            horizon: horizon as u32,
            written: horizon.max(written_horizon.clamp(1.0, MAX_HORIZON_HOURS)) as u32,
        },
    )?;
    for class in &mut classes {
        route_order::price_orders(class, &deployments);
    }

    Ok(Scenario {
        name,
        description: h.description.clone(),
        horizon_hours: horizon as u32,
        seed,
        replications,
        start_weekday,
        start_date,
        percentiles,
        reference_band,
        client,
        classes,
        deployments,
        sweep,
        plan,
        frontier,
        gateway,
        outages,
        batch_deployments: Vec::new(),
        batch_classes: Vec::new(),
    })
}

/// `scenario.name` (default: the file's stem): it names the results folder, so letters,
/// digits, '_', '-' and '.', not empty and not starting with '.'.
fn scenario_name(c: &Checker, name: Option<&str>, file: &Path) -> Result<String, InputError> {
    let name = match name {
        Some(n) => n.to_string(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into()),
    };
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
    {
        return Err(c.err(
            "scenario.name",
            format!("must be non-empty, not start with '.', and use only letters, digits, '_', '-' and '.' (it names the results folder), got \"{name}\""),
        ));
    }
    Ok(name)
}

/// `report.reference_band` as shares (default [`DEFAULT_REFERENCE_BAND`]).
fn reference_band(c: &Checker, report: Option<&raw::RawReport>) -> Result<(f64, f64), InputError> {
    match report.and_then(|r| r.reference_band.as_ref()) {
        None => Ok(DEFAULT_REFERENCE_BAND),
        Some(b) => match b.as_slice() {
            [lo, hi] if lo.is_finite() && hi.is_finite() && 0.0 <= *lo && lo < hi && *hi <= 100.0 => {
                Ok((lo / 100.0, hi / 100.0))
            }
            _ => Err(c.err(
                "report.reference_band",
                format!(
                    "must be [low, high] in percent with 0 <= low < high <= 100 (e.g. [40, 60]), got {b:?}"
                ),
            )),
        },
    }
}

/// The `[[class]]` tables: at least one, names unique.
fn validate_classes(
    c: &Checker,
    raw: &[raw::RawClass],
    deployments: &[Deployment],
    horizon: u32,
    gateway: &crate::domain::Gateway,
) -> Result<Vec<Class>, InputError> {
    let router = (gateway.litellm.is_some(), gateway.portkey);
    if raw.is_empty() {
        return Err(c.err(
            "class",
            "the scenario needs at least one [[class]] of requests (none given)",
        ));
    }
    let mut classes = Vec::with_capacity(raw.len());
    for (i, k) in raw.iter().enumerate() {
        let p = format!("class[{i}]");
        if classes.iter().any(|x: &Class| x.name == k.name) {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate class name \"{}\"", k.name),
            ));
        }
        classes.push(validate_class(c, &p, k, deployments, horizon, router)?);
    }
    Ok(classes)
}

/// The `[[outage]]` tables; a scheduled one may start anywhere before `horizon`.
fn validate_outages(
    c: &Checker,
    raw: &[raw::RawOutage],
    deployments: &[Deployment],
    horizon: f64,
) -> Result<Vec<crate::domain::Outage>, InputError> {
    (raw.iter().enumerate())
        .map(|(i, o)| validate_outage(c, &format!("outage[{i}]"), i, o, deployments, horizon))
        .collect()
}
