//! The grid of a frontier: the `[frontier]` keys checked against the scenario (each routing
//! option and unit count validated on its own, so an error names the one at fault), the terms
//! priced, and the lists whose combinations are the configurations.

use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::sweep::{set_key, DEMAND_SCALE};
use crate::domain::{Deployment, FrontierOptions, Pool, RateMeasure, RateReservation, Scenario};
use crate::error::InputError;
use crate::input::scenario::Overrides;

use super::{apply_sla, invalid, set_routes, MAX_CONFIGURATIONS};
use crate::format::count;

/// The names of the scenario's reserved deployments.
fn reserved_names(base: &Scenario) -> Vec<&str> {
    base.deployments
        .iter()
        .filter(|d| matches!(d.pool, Pool::Reserved(_)))
        .map(|d| d.name.as_str())
        .collect()
}

/// The names of the scenario's deployments with a token-rate reservation.
fn rate_names(base: &Scenario) -> Vec<&str> {
    base.deployments
        .iter()
        .filter(|d| rate_reservation(d).is_some())
        .map(|d| d.name.as_str())
        .collect()
}

fn rate_reservation(d: &Deployment) -> Option<&RateReservation> {
    match &d.pool {
        Pool::OnDemand(o) => o.reserved_rate.as_deref(),
        Pool::Reserved(_) => None,
    }
}

fn listed(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Checks that `[frontier] units` names reserved deployments, `reserved_rate` deployments with a
/// token-rate reservation, and `terms` either with priced terms; returns the terms priced per
/// deployment on the grid (every priced term when not listed): each reserved deployment, and
/// each token-rate reservation whose size the grid varies.
pub(super) fn priced_terms(
    base: &Scenario,
    options: &FrontierOptions,
    file: &Path,
) -> Result<BTreeMap<String, Vec<String>>, InputError> {
    let reserved = reserved_names(base);
    let rated = rate_names(base);
    for (name, _) in &options.reserved_rate {
        if !rated.contains(&name.as_str()) {
            return Err(invalid(
                file,
                format!("frontier.reserved_rate.{name}"),
                format!(
                    "\"{name}\" is not a deployment with a token-rate reservation ([deployment.reserved_rate]) (with one: {})",
                    listed(&rated)
                ),
            ));
        }
    }
    let sized: Vec<&str> = options
        .reserved_rate
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    let keys = options
        .units
        .iter()
        .map(|(n, _)| ("units", n))
        .chain(options.terms.iter().map(|(n, _)| ("terms", n)));
    for (table, name) in keys {
        let ok = reserved.contains(&name.as_str())
            || (table == "terms" && sized.contains(&name.as_str()));
        if !ok {
            let mut message = format!(
                "\"{name}\" is not a reserved deployment of the scenario (reserved: {})",
                listed(&reserved)
            );
            if table == "terms" {
                message += &format!(
                    ", nor a token-rate reservation listed in [frontier] reserved_rate ({})",
                    listed(&sized)
                );
            }
            return Err(invalid(file, format!("frontier.{table}.{name}"), message));
        }
    }
    let mut terms = BTreeMap::new();
    for d in &base.deployments {
        let priced: Vec<String> = match (&d.pool, rate_reservation(d)) {
            (Pool::Reserved(r), _) => r.price_per_unit_hour.keys().cloned().collect(),
            (_, Some(r)) if sized.contains(&d.name.as_str()) => {
                r.unit_prices.keys().cloned().collect()
            }
            _ => continue,
        };
        let chosen: Vec<String> = match options.terms.iter().find(|(n, _)| *n == d.name) {
            None => priced,
            Some((_, list)) => {
                for (i, t) in list.iter().enumerate() {
                    if !priced.contains(t) {
                        return Err(invalid(
                            file,
                            format!("frontier.terms.{}[{i}]", d.name),
                            format!(
                                "\"{t}\" has no price in deployment \"{}\" (priced terms: {})",
                                d.name,
                                priced.join(", ")
                            ),
                        ));
                    }
                }
                list.clone()
            }
        };
        terms.insert(d.name.clone(), chosen);
    }
    Ok(terms)
}

/// The document path of a reserved deployment's units.
pub(super) fn units_key(name: &str) -> String {
    format!("deployment.{name}.reserved.units")
}

/// Each routing option and each unit count validated on its own, so an error names the one
/// at fault (`frontier.routes[1]`, `frontier.units.ptu[2]`).
pub(super) fn check_each(
    table: &toml::Table,
    file: &Path,
    base: &Scenario,
    options: &FrontierOptions,
    overrides: &Overrides,
) -> Result<(), InputError> {
    for (i, route) in options.routes.iter().flatten().enumerate() {
        for name in route {
            if !base.deployments.iter().any(|d| d.name == *name) {
                return Err(invalid(
                    file,
                    format!("frontier.routes[{i}]"),
                    format!(
                        "no deployment is named \"{name}\" (deployments: {})",
                        base.deployments
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let mut doc = table.clone();
        set_routes(&mut doc, route);
        Scenario::from_table_with(doc, file, overrides).map_err(|e| {
            invalid(
                file,
                format!("frontier.routes[{i}]"),
                format!("the route {} does not validate: {e}", route.join(" > ")),
            )
        })?;
    }
    for (name, counts) in &options.units {
        for (i, &u) in counts.iter().enumerate() {
            let mut doc = table.clone();
            set_key(&mut doc, &units_key(name), u as f64)
                .map_err(|e| e.at(file, format!("frontier.units.{name}")))?;
            Scenario::from_table_with(doc, file, overrides).map_err(|e| {
                invalid(
                    file,
                    format!("frontier.units.{name}[{i}]"),
                    format!("{u} units do not validate: {e}"),
                )
            })?;
        }
    }
    check_rate_sizes(table, file, base, options, overrides)
}

/// Each size of `[frontier] reserved_rate` written into the scenario and validated on its own:
/// a size of the reservation's measure, on the vendor's grid (`min_*_tpm` plus whole
/// `*_tpm_step`s), so an error names the one at fault (`frontier.reserved_rate.sonnet[2]`).
fn check_rate_sizes(
    table: &toml::Table,
    file: &Path,
    base: &Scenario,
    options: &FrontierOptions,
    overrides: &Overrides,
) -> Result<(), InputError> {
    for (name, sizes) in &options.reserved_rate {
        let Some(r) = base
            .deployments
            .iter()
            .find(|d| d.name == *name)
            .and_then(rate_reservation)
        else {
            continue;
        };
        for (i, m) in sizes.iter().enumerate() {
            let Some(m) = m else { continue };
            let at = format!("frontier.reserved_rate.{name}[{i}]");
            let tokens = |m: &RateMeasure| matches!(m, RateMeasure::Tokens { .. });
            if tokens(m) != tokens(&r.measure) {
                return Err(invalid(
                    file,
                    at,
                    format!(
                        "deployment \"{name}\" reserves {}; give its sizes as {} (or \"none\"), got {}",
                        if tokens(&r.measure) { "tokens per minute" } else { "spend per minute" },
                        if tokens(&r.measure) {
                            "{ input_tpm = N, output_tpm = N }"
                        } else {
                            "{ usd_per_minute = X }"
                        },
                        size_label(Some(m))
                    ),
                ));
            }
            let mut doc = table.clone();
            if !set_rate_size(&mut doc, name, m) {
                return Err(invalid(
                    file,
                    at,
                    format!("deployment \"{name}\" has no [deployment.reserved_rate] table in the file to write the size into"),
                ));
            }
            Scenario::from_table_with(doc, file, overrides).map_err(|e| {
                invalid(
                    file,
                    &at,
                    format!("{} does not validate: {e}", size_label(Some(m))),
                )
            })?;
        }
    }
    Ok(())
}

/// Why there is no sustained-rate search, or None when there is one.
pub(super) fn rate_note(
    table: &toml::Table,
    base: &Scenario,
    options: &FrontierOptions,
) -> Option<String> {
    let mut with_sla = base.clone();
    apply_sla(&mut with_sla, options.sla);
    if options.rate_steps == 0 {
        return Some("frontier.rate_steps = 0: no sustained-rate search".to_string());
    }
    if with_sla.classes.iter().all(|c| c.sla.is_none()) {
        return Some(
            "no class has an SLA (and [frontier] sla is not set): no sustained-rate search"
                .to_string(),
        );
    }
    let mut doc = table.clone();
    if let Err(e) = set_key(&mut doc, DEMAND_SCALE, 2.0) {
        return Some(format!(
            "the demand cannot be scaled ({e}): no sustained-rate search"
        ));
    }
    base.classes.iter().find(|c| c.trace.is_some()).map(|c| {
        format!(
            "class \"{}\" replays a trace, whose rate a demand scale does not change: no sustained-rate search",
            c.name
        )
    })
}

/// What the grid varies of one deployment.
#[derive(Debug, Clone)]
pub(super) enum Axis {
    /// A reserved deployment's unit counts.
    Units(Vec<u32>),
    /// A token-rate reservation's sizes (None: no reservation).
    Rate(Vec<Option<RateMeasure>>),
}

impl Axis {
    pub(super) fn len(&self) -> usize {
        match self {
            Axis::Units(v) => v.len(),
            Axis::Rate(v) => v.len(),
        }
    }
}

/// The grid: per routing option, the deployments its routes use whose units or reservation
/// size the grid varies, in scenario order, with the values to try: every reserved deployment
/// (the `[frontier] units` list, else the scenario's units) and each token-rate reservation
/// listed in `[frontier] reserved_rate`.
pub(super) fn grid_lists(
    base: &Scenario,
    options: &FrontierOptions,
    routes: &[Option<Vec<String>>],
) -> Vec<Vec<(String, Axis)>> {
    routes
        .iter()
        .map(|route| {
            base.deployments
                .iter()
                .enumerate()
                .filter_map(|(d, dep)| {
                    let used = match route {
                        Some(list) => list.contains(&dep.name),
                        None => base.classes.iter().any(|c| c.route.contains(&d)),
                    };
                    let axis = match &dep.pool {
                        Pool::Reserved(r) => {
                            match options.units.iter().find(|(n, _)| *n == dep.name) {
                                Some((_, c)) => Axis::Units(c.clone()),
                                None => Axis::Units(vec![r.units]),
                            }
                        }
                        Pool::OnDemand(_) => {
                            let (_, sizes) =
                                options.reserved_rate.iter().find(|(n, _)| *n == dep.name)?;
                            Axis::Rate(sizes.clone())
                        }
                    };
                    used.then(|| (dep.name.clone(), axis))
                })
                .collect()
        })
        .collect()
}

/// The grid counted before any configuration is built: at most [`MAX_CONFIGURATIONS`]
/// configurations and as many priced rows (a reserved deployment's unit count and a
/// reservation's size are priced once per term, no reservation once). Past it, the error
/// names `frontier.units` (`frontier.reserved_rate` when only sizes are listed) or, when the
/// configurations fit but the rows do not, `frontier.terms`.
pub(super) fn check_size(
    lists: &[Vec<(String, Axis)>],
    terms: &BTreeMap<String, Vec<String>>,
    options: &FrontierOptions,
    file: &Path,
) -> Result<(), InputError> {
    let (mut n_configs, mut n_rows) = (0f64, 0f64);
    for used in lists {
        n_configs += used.iter().map(|(_, c)| c.len() as f64).product::<f64>();
        n_rows += used
            .iter()
            .map(|(n, c)| {
                let t = terms.get(n).map_or(1, |t| t.len().max(1));
                match c {
                    Axis::Units(v) => (v.len() * t) as f64,
                    Axis::Rate(v) => v
                        .iter()
                        .map(|m| if m.is_some() { t } else { 1 })
                        .sum::<usize>() as f64,
                }
            })
            .product::<f64>();
    }
    let most = MAX_CONFIGURATIONS as f64;
    if n_configs <= most && n_rows <= most {
        return Ok(());
    }
    let key = if n_configs <= most {
        "frontier.terms"
    } else if options.units.is_empty() && !options.reserved_rate.is_empty() {
        "frontier.reserved_rate"
    } else {
        "frontier.units"
    };
    Err(invalid(
        file,
        key,
        format!(
            "the grid makes {} configurations priced as {} rows; at most {} of each are allowed: list fewer unit counts, reservation sizes, terms or routes",
            count(n_configs),
            count(n_rows),
            count(most)
        ),
    ))
}

/// Writes a token-rate reservation's size into a scenario document (the deployment named
/// `name`'s `[deployment.reserved_rate]` rate keys replaced), for validation.
pub(super) fn set_rate_size(doc: &mut toml::Table, name: &str, m: &RateMeasure) -> bool {
    let Some(toml::Value::Array(deps)) = doc.get_mut("deployment") else {
        return false;
    };
    let Some(rate) = deps
        .iter_mut()
        .filter_map(|d| d.as_table_mut())
        .find(|d| d.get("name").and_then(|n| n.as_str()) == Some(name))
        .and_then(|d| d.get_mut("reserved_rate"))
        .and_then(|r| r.as_table_mut())
    else {
        return false;
    };
    for k in ["input_tpm", "output_tpm", "usd_per_minute"] {
        rate.remove(k);
    }
    let n = |v: f64| {
        if v.fract() == 0.0 && v.abs() < 9e15 {
            toml::Value::Integer(v as i64)
        } else {
            toml::Value::Float(v)
        }
    };
    match m {
        RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        } => {
            rate.insert("input_tpm".into(), n(*input_tpm));
            rate.insert("output_tpm".into(), n(*output_tpm));
        }
        RateMeasure::Spend { usd_per_minute } => {
            rate.insert("usd_per_minute".into(), toml::Value::Float(*usd_per_minute));
        }
    }
    true
}

/// A reservation size as a planner reads it: "100k/16k TPM" (input/output tokens per minute),
/// "$2.5/min" (spend), "no reservation".
pub fn size_label(m: Option<&RateMeasure>) -> String {
    let tpm = |v: f64| {
        if v >= 1000.0 && v % 100.0 == 0.0 {
            let k = v / 1000.0;
            if k >= 1000.0 && k % 100.0 == 0.0 {
                format!("{}M", k / 1000.0)
            } else {
                format!("{k}k")
            }
        } else {
            format!("{v}")
        }
    };
    match m {
        None => "no reservation".to_string(),
        Some(RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        }) => format!("{}/{} TPM", tpm(*input_tpm), tpm(*output_tpm)),
        Some(RateMeasure::Spend { usd_per_minute }) => format!("${usd_per_minute}/min"),
    }
}

/// Every combination of one index below each of `sizes`, the last turning fastest (one empty
/// combination for no sizes; none when a size is 0).
pub(super) fn combinations(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![Vec::new()];
    for &n in sizes {
        all = all
            .into_iter()
            .flat_map(|c| {
                (0..n).map(move |k| {
                    let mut c = c.clone();
                    c.push(k);
                    c
                })
            })
            .collect();
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_reads_as_a_planner_writes_it() {
        let tokens = |input_tpm, output_tpm| RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        };
        assert_eq!(size_label(None), "no reservation");
        assert_eq!(
            size_label(Some(&tokens(100_000.0, 16_000.0))),
            "100k/16k TPM"
        );
        assert_eq!(size_label(Some(&tokens(62_000.0, 6_500.0))), "62k/6.5k TPM");
        assert_eq!(size_label(Some(&tokens(1_200_000.0, 0.0))), "1.2M/0 TPM");
        assert_eq!(size_label(Some(&tokens(20_050.0, 999.0))), "20050/999 TPM");
        let spend = RateMeasure::Spend {
            usd_per_minute: 2.5,
        };
        assert_eq!(size_label(Some(&spend)), "$2.5/min");
    }

    #[test]
    fn combinations_turn_the_last_fastest() {
        assert_eq!(
            combinations(&[2, 3]),
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![0, 2],
                vec![1, 0],
                vec![1, 1],
                vec![1, 2]
            ]
        );
        assert_eq!(combinations(&[]), vec![Vec::<usize>::new()]);
        assert!(combinations(&[2, 0]).is_empty());
    }
}
