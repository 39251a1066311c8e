//! The `[sweep]` and `[plan]` tables (and the same options from the command
//! line) checked into typed specs, so `sweep` and `plan` only run them.

use std::path::Path;

use crate::domain::limits::{MAX_PLAN_UNITS, MAX_POINTS, MAX_REPLICATIONS};
use crate::domain::{FrontierOptions, PlanOptions, RateMeasure, SlaTarget, SweepSpec};
use crate::error::{InputError, ValueError};
use crate::input::document::Checker;
use crate::input::scenario::raw::{RawFrontier, RawPlan, RawSweep};

/// How messages name an option: `sweep.step` in the file (`at` = "sweep"),
/// `--step` on the command line (`at` = "--").
pub fn option_name(at: &str, k: &str) -> String {
    if at == "--" {
        format!("--{k}")
    } else {
        format!("{at}.{k}")
    }
}

use option_name as name;

impl SweepSpec {
    /// Checks a `[sweep]` table (`at` = "sweep") or the same fields from the
    /// command line (`at` = "--"); messages name `sweep.step` or `--step`.
    pub fn from_raw(raw: &RawSweep, file: &Path, at: &str) -> Result<SweepSpec, InputError> {
        let c = Checker { file };
        let key = raw.key.trim();
        if key.is_empty() {
            return Err(c.err(
                name(at, "key"),
                "must name a numeric key, e.g. \"deployment.ptu.reserved.units\" or \"demand_scale\"",
            ));
        }
        let range =
            raw.from.is_some() || raw.to.is_some() || raw.step.is_some() || raw.points.is_some();
        let values = match (&raw.values, range) {
            (Some(_), true) => {
                return Err(c.err(
                    name(at, "values"),
                    format!(
                        "give either {} or {} / {} with {} or {}, not both",
                        name(at, "values"),
                        name(at, "from"),
                        name(at, "to"),
                        name(at, "step"),
                        name(at, "points")
                    ),
                ))
            }
            (Some(v), false) => {
                if v.is_empty() {
                    return Err(c.err(name(at, "values"), "must list at least one value"));
                }
                for (i, x) in v.iter().enumerate() {
                    if !x.is_finite() {
                        return Err(c.err(
                            format!("{}[{i}]", name(at, "values")),
                            format!("must be a finite number, got {x}"),
                        ));
                    }
                }
                v.clone()
            }
            (None, false) => {
                return Err(c.err(
                    name(at, "values"),
                    format!(
                        "is missing: give the values to sweep ({}), or {}, {} and {} (or {})",
                        name(at, "values"),
                        name(at, "from"),
                        name(at, "to"),
                        name(at, "step"),
                        name(at, "points")
                    ),
                ))
            }
            (None, true) => {
                let from = raw
                    .from
                    .ok_or_else(|| c.err(name(at, "from"), "is missing (the first value)"))?;
                let to = raw
                    .to
                    .ok_or_else(|| c.err(name(at, "to"), "is missing (the last value)"))?;
                for (k, v) in [("from", from), ("to", to)] {
                    if !v.is_finite() {
                        return Err(c.err(name(at, k), format!("must be a finite number, got {v}")));
                    }
                }
                if to < from {
                    return Err(c.err(
                        name(at, "to"),
                        format!("must be at least from = {from} (an empty range), got {to}"),
                    ));
                }
                match (raw.step, raw.points) {
                    (Some(_), Some(_)) => {
                        return Err(c.err(at, "give step or points, not both"));
                    }
                    (None, None) => return Err(c.err(
                        name(at, "step"),
                        "is missing: give step (the distance between values) or points (how many)",
                    )),
                    (Some(step), None) => {
                        if !(step.is_finite() && step > 0.0) {
                            return Err(c.err(
                                name(at, "step"),
                                format!("must be a number above 0, got {step}"),
                            ));
                        }
                        let n = ((to - from) / step + 1e-9).floor() + 1.0;
                        if n > MAX_POINTS as f64 {
                            return Err(c.err(
                                name(at, "step"),
                                format!("makes {n} points; at most {MAX_POINTS} are allowed"),
                            ));
                        }
                        (0..n as usize).map(|i| from + step * i as f64).collect()
                    }
                    (None, Some(points)) => {
                        let n = c.whole(&name(at, "points"), points, 1)? as usize;
                        if n > MAX_POINTS {
                            return Err(c.err(
                                name(at, "points"),
                                format!("must be at most {MAX_POINTS}, got {n}"),
                            ));
                        }
                        if n == 1 {
                            vec![from]
                        } else {
                            let step = (to - from) / (n - 1) as f64;
                            (0..n).map(|i| from + step * i as f64).collect()
                        }
                    }
                }
            }
        };
        if let Some(r) = raw.replications {
            if r == 0 || r > MAX_REPLICATIONS {
                return Err(c.err(
                    name(at, "replications"),
                    format!("must be from 1 to {MAX_REPLICATIONS}, got {r}"),
                ));
            }
        }
        Ok(SweepSpec {
            key: key.to_string(),
            values,
            replications: raw.replications,
            compare: raw.compare.clone(),
            at: at.to_string(),
        })
    }
}

/// Checks a `[plan]` table on its own (the deployment and terms are checked
/// against the scenario by `analysis::plan::spec`).
pub(super) fn validate_plan(c: &Checker, raw: &RawPlan) -> Result<PlanOptions, InputError> {
    if let Some(x) = raw.confidence {
        return Err(c.err(
            "plan.confidence",
            format!("is not supported: a configuration meets the SLA when the lower end of the 95% confidence interval of its attainment does; leave it out (got {x})"),
        ));
    }
    let max_units = raw
        .max_units
        .map(|m| {
            if !(m.is_finite() && m >= 1.0 && m.fract() == 0.0 && m <= MAX_PLAN_UNITS as f64) {
                return Err(c.err(
                    "plan.max_units",
                    format!("must be a whole number from 1 to {MAX_PLAN_UNITS}, got {m}"),
                ));
            }
            Ok(m as u32)
        })
        .transpose()?;
    if let Some(r) = raw.replications {
        if r == 0 || r > MAX_REPLICATIONS {
            return Err(c.err(
                "plan.replications",
                format!("must be from 1 to {MAX_REPLICATIONS}, got {r}"),
            ));
        }
    }
    let sla = raw
        .sla
        .as_deref()
        .map(|t| parse_sla(t).map_err(|e| e.at(c.file, "plan.sla")))
        .transpose()?;
    Ok(PlanOptions {
        deployment: raw.deployment.clone(),
        terms: raw.terms.clone(),
        max_units,
        replications: raw.replications,
        sla,
    })
}

/// Checks a `[frontier]` table on its own (deployments, terms and routes are checked against the
/// scenario by `analysis::frontier::Frontier::build`, the grid's size against the work limits
/// there too).
pub(super) fn validate_frontier(
    c: &Checker,
    raw: &RawFrontier,
) -> Result<FrontierOptions, InputError> {
    let mut units = Vec::new();
    for (name, list) in raw.units.iter().flatten() {
        let at = format!("frontier.units.{name}");
        if list.is_empty() {
            return Err(c.err(at, "must list at least one unit count"));
        }
        if list.len() > MAX_POINTS {
            return Err(c.err(
                at,
                format!("lists {} unit counts; at most {MAX_POINTS}", list.len()),
            ));
        }
        let mut counts: Vec<u32> = Vec::with_capacity(list.len());
        for (i, &u) in list.iter().enumerate() {
            let n = c.whole(&format!("{at}[{i}]"), u, 1)?;
            if counts.contains(&n) {
                return Err(c.err(format!("{at}[{i}]"), format!("{n} units is listed twice")));
            }
            counts.push(n);
        }
        units.push((name.clone(), counts));
    }
    let mut terms = Vec::new();
    for (name, list) in raw.terms.iter().flatten() {
        if list.is_empty() {
            return Err(c.err(
                format!("frontier.terms.{name}"),
                "must list at least one term (leave the deployment out to price every term)",
            ));
        }
        for (i, t) in list.iter().enumerate() {
            if list[..i].contains(t) {
                return Err(c.err(
                    format!("frontier.terms.{name}[{i}]"),
                    format!("\"{t}\" is listed twice"),
                ));
            }
        }
        terms.push((name.clone(), list.clone()));
    }
    if let Some(routes) = &raw.routes {
        if routes.is_empty() {
            return Err(c.err(
                "frontier.routes",
                "must list at least one route (leave it out to keep the scenario's routes)",
            ));
        }
        if routes.len() > MAX_POINTS {
            return Err(c.err(
                "frontier.routes",
                format!("lists {} routes; at most {MAX_POINTS}", routes.len()),
            ));
        }
        for (i, r) in routes.iter().enumerate() {
            if r.is_empty() {
                return Err(c.err(
                    format!("frontier.routes[{i}]"),
                    "must name at least one deployment",
                ));
            }
            if routes[..i].contains(r) {
                return Err(c.err(
                    format!("frontier.routes[{i}]"),
                    format!("is the same route as an earlier one: {}", r.join(" > ")),
                ));
            }
        }
    }
    let reserved_rate = frontier_rate_sizes(c, raw)?;
    if let Some(r) = raw.replications {
        if r == 0 || r > MAX_REPLICATIONS {
            return Err(c.err(
                "frontier.replications",
                format!("must be from 1 to {MAX_REPLICATIONS}, got {r}"),
            ));
        }
    }
    let sla = raw
        .sla
        .as_deref()
        .map(|t| parse_sla(t).map_err(|e| e.at(c.file, "frontier.sla")))
        .transpose()?;
    let rate_steps = match raw.rate_steps {
        None => FrontierOptions::DEFAULT_RATE_STEPS,
        Some(v) => {
            let most = FrontierOptions::MAX_RATE_STEPS;
            if !(v.is_finite() && v.fract() == 0.0 && (0.0..=most as f64).contains(&v)) {
                return Err(c.err(
                    "frontier.rate_steps",
                    format!("must be a whole number from 0 (no rate search) to {most}, got {v}"),
                ));
            }
            v as u32
        }
    };
    let max_demand_scale = match raw.max_demand_scale {
        None => FrontierOptions::DEFAULT_MAX_DEMAND_SCALE,
        Some(v) => {
            let most = FrontierOptions::MAX_DEMAND_SCALE;
            if !(v.is_finite() && v > 1.0 && v <= most) {
                return Err(c.err(
                    "frontier.max_demand_scale",
                    format!("must be a number above 1 and at most {most}, got {v}"),
                ));
            }
            v
        }
    };
    Ok(FrontierOptions {
        units,
        terms,
        routes: raw.routes.clone(),
        reserved_rate,
        replications: raw.replications,
        sla,
        rate_steps,
        max_demand_scale,
    })
}

/// What `[frontier] reserved_rate` allows of one size, for error messages.
const RATE_SIZE: &str = "\"none\" (no reservation), a table { input_tpm = N, output_tpm = N } (tokens per minute; a side left out is 0) or a table { usd_per_minute = X }";

/// Checks `[frontier] reserved_rate` on its own: per deployment, a non-empty list of distinct
/// sizes, each "none" or the rate keys of `[deployment.reserved_rate]` (whole TPM from 0, not
/// both 0; or USD per minute above 0). Whether the deployment has a reservation of that measure
/// and whether each size is one the vendor sells is checked against the scenario by
/// `analysis::frontier::Frontier::build`.
fn frontier_rate_sizes(
    c: &Checker,
    raw: &RawFrontier,
) -> Result<crate::domain::options::RateSizes, InputError> {
    let mut out = Vec::new();
    for (name, list) in raw.reserved_rate.iter().flatten() {
        let at = format!("frontier.reserved_rate.{name}");
        if list.is_empty() {
            return Err(c.err(
                at,
                format!("must list at least one size (leave the deployment out to keep its written reservation); a size is {RATE_SIZE}"),
            ));
        }
        if list.len() > MAX_POINTS {
            return Err(c.err(
                at,
                format!("lists {} sizes; at most {MAX_POINTS}", list.len()),
            ));
        }
        let mut sizes: Vec<Option<RateMeasure>> = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let ai = format!("{at}[{i}]");
            let size = rate_size(c, &ai, v)?;
            if sizes.contains(&size) {
                return Err(c.err(ai, "is the same size as an earlier one"));
            }
            sizes.push(size);
        }
        out.push((name.clone(), sizes));
    }
    Ok(out)
}

/// One size of `[frontier] reserved_rate` (`at` names it).
fn rate_size(c: &Checker, at: &str, v: &toml::Value) -> Result<Option<RateMeasure>, InputError> {
    let t = match v {
        toml::Value::String(s) if s == "none" => return Ok(None),
        toml::Value::Table(t) => t,
        other => return Err(c.err(at, format!("must be {RATE_SIZE}; got {other}"))),
    };
    let num = |k: &str| -> Result<Option<f64>, InputError> {
        match t.get(k) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) => Ok(Some(*n as f64)),
            Some(toml::Value::Float(x)) => Ok(Some(*x)),
            Some(other) => Err(c.err(
                format!("{at}.{k}"),
                format!("must be a number, got {other}"),
            )),
        }
    };
    let (input, output, usd) = (
        num("input_tpm")?,
        num("output_tpm")?,
        num("usd_per_minute")?,
    );
    if let Some(k) = t
        .keys()
        .find(|k| !["input_tpm", "output_tpm", "usd_per_minute"].contains(&k.as_str()))
    {
        return Err(c.err(
            format!("{at}.{k}"),
            format!("is not a size key; a size is {RATE_SIZE}"),
        ));
    }
    match (input.is_some() || output.is_some(), usd) {
        (true, None) => {
            let side = |k: &str, v: Option<f64>| -> Result<f64, InputError> {
                let v = v.unwrap_or(0.0);
                if v.is_finite() && v.fract() == 0.0 && (0.0..=1e11).contains(&v) {
                    Ok(v)
                } else {
                    Err(c.err(
                        format!("{at}.{k}"),
                        format!(
                            "must be a whole number of tokens per minute from 0 to 10^11, got {v}"
                        ),
                    ))
                }
            };
            let (input_tpm, output_tpm) = (side("input_tpm", input)?, side("output_tpm", output)?);
            if input_tpm + output_tpm == 0.0 {
                return Err(c.err(
                    format!("{at}.input_tpm"),
                    "input_tpm and output_tpm are both 0: write \"none\" for no reservation",
                ));
            }
            Ok(Some(RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            }))
        }
        (false, Some(v)) => {
            let usd_per_minute =
                c.range(&format!("{at}.usd_per_minute"), v, f64::MIN_POSITIVE, 1e7)?;
            Ok(Some(RateMeasure::Spend { usd_per_minute }))
        }
        (true, Some(_)) => Err(c.err(
            format!("{at}.usd_per_minute"),
            "give either input_tpm and output_tpm or usd_per_minute, not both",
        )),
        (false, None) => Err(c.err(at, format!("must be {RATE_SIZE}; got an empty table"))),
    }
}

/// Parses "p99<=800ms", "p99 < 1s", "99% under 1s", "99.9% <= 2 s".
pub fn parse_sla(text: &str) -> Result<SlaTarget, ValueError> {
    let s: String = text
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let help =
        "write it as \"p99<=800ms\" or \"99% under 1s\" (percentile in (0, 100], time in ms or s)";
    let (pct, rest) = if let Some(r) = s.strip_prefix('p') {
        let end = r
            .find(['<', 'u', 'w'])
            .ok_or_else(|| format!("\"{text}\": {help}"))?;
        (&r[..end], &r[end..])
    } else {
        let (p, r) = s
            .split_once('%')
            .ok_or_else(|| format!("\"{text}\": {help}"))?;
        (p, r)
    };
    let time = ["<=", "<", "under", "within"]
        .iter()
        .find_map(|op| rest.strip_prefix(op))
        .ok_or_else(|| format!("\"{text}\": {help}"))?;
    let percentile: f64 = pct
        .parse()
        .map_err(|_| format!("\"{text}\": the percentile \"{pct}\" is not a number; {help}"))?;
    if !(percentile > 0.0 && percentile <= 100.0) {
        return Err(
            format!("\"{text}\": the percentile must be in (0, 100], got {percentile}").into(),
        );
    }
    let (num, scale) = if let Some(n) = time.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = time.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!("\"{text}\": the time needs a unit, ms or s; {help}").into());
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("\"{text}\": the time \"{num}\" is not a number; {help}"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(
            format!("\"{text}\": the time must be a finite number above 0, got {num}").into(),
        );
    }
    Ok(SlaTarget {
        percentile,
        ttft_ms: v * scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(raw: RawSweep) -> Result<SweepSpec, InputError> {
        SweepSpec::from_raw(&raw, Path::new("s.toml"), "sweep")
    }

    #[test]
    fn ranges_include_both_ends() {
        let s = spec(RawSweep {
            key: "demand_scale".into(),
            from: Some(15.0),
            to: Some(30.0),
            step: Some(5.0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.values, vec![15.0, 20.0, 25.0, 30.0]);
        let s = spec(RawSweep {
            key: "demand_scale".into(),
            from: Some(0.5),
            to: Some(2.0),
            points: Some(4.0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.values, vec![0.5, 1.0, 1.5, 2.0]);
    }

    #[test]
    fn bad_ranges_name_the_key() {
        let cases = [
            (
                RawSweep {
                    key: "k".into(),
                    from: Some(2.0),
                    to: Some(1.0),
                    step: Some(1.0),
                    ..Default::default()
                },
                "sweep.to",
            ),
            (
                RawSweep {
                    key: "k".into(),
                    from: Some(1.0),
                    to: Some(2.0),
                    step: Some(0.0),
                    ..Default::default()
                },
                "sweep.step",
            ),
            (
                RawSweep {
                    key: "k".into(),
                    values: Some(vec![]),
                    ..Default::default()
                },
                "sweep.values",
            ),
            (
                RawSweep {
                    key: " ".into(),
                    values: Some(vec![1.0]),
                    ..Default::default()
                },
                "sweep.key",
            ),
            (
                RawSweep {
                    key: "k".into(),
                    ..Default::default()
                },
                "sweep.values",
            ),
        ];
        for (raw, path) in cases {
            let e = spec(raw).unwrap_err();
            assert_eq!(e.path(), path, "{e}");
        }
    }
}
