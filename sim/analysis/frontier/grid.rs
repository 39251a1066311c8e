//! The grid of a frontier: the `[frontier]` keys checked against the scenario (each routing
//! option and unit count validated on its own, so an error names the one at fault), the terms
//! priced, and the lists whose combinations are the configurations.

use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::sweep::{set_key, DEMAND_SCALE};
use crate::domain::{FrontierOptions, Pool, Scenario};
use crate::error::InputError;
use crate::input::scenario::Overrides;

use super::{apply_sla, invalid, set_routes};

/// The names of the scenario's reserved deployments.
fn reserved_names(base: &Scenario) -> Vec<&str> {
    base.deployments
        .iter()
        .filter(|d| matches!(d.pool, Pool::Reserved(_)))
        .map(|d| d.name.as_str())
        .collect()
}

/// Checks that `[frontier] units` and `terms` name reserved deployments and priced terms;
/// returns the terms priced per reserved deployment (every priced term when not listed).
pub(super) fn priced_terms(
    base: &Scenario,
    options: &FrontierOptions,
    file: &Path,
) -> Result<BTreeMap<String, Vec<(String, f64)>>, InputError> {
    let reserved = reserved_names(base);
    let keys = options
        .units
        .iter()
        .map(|(n, _)| ("units", n))
        .chain(options.terms.iter().map(|(n, _)| ("terms", n)));
    for (table, name) in keys {
        if !reserved.contains(&name.as_str()) {
            return Err(invalid(
                file,
                format!("frontier.{table}.{name}"),
                format!(
                    "\"{name}\" is not a reserved deployment of the scenario (reserved: {})",
                    if reserved.is_empty() {
                        "none".to_string()
                    } else {
                        reserved.join(", ")
                    }
                ),
            ));
        }
    }
    let mut terms = BTreeMap::new();
    for d in &base.deployments {
        let Pool::Reserved(r) = &d.pool else { continue };
        let chosen: Vec<(String, f64)> = match options.terms.iter().find(|(n, _)| *n == d.name) {
            None => r
                .price_per_unit_hour
                .iter()
                .map(|(t, p)| (t.clone(), *p))
                .collect(),
            Some((_, list)) => {
                let mut v = Vec::new();
                for (i, t) in list.iter().enumerate() {
                    let price = r.price_per_unit_hour.get(t).ok_or_else(|| {
                        invalid(
                            file,
                            format!("frontier.terms.{}[{i}]", d.name),
                            format!(
                                "\"{t}\" has no price in deployment \"{}\" (priced terms: {})",
                                d.name,
                                r.price_per_unit_hour
                                    .keys()
                                    .cloned()
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                    v.push((t.clone(), *price));
                }
                v
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

/// The grid: per routing option, the reserved deployments its routes use and, for each, the
/// unit counts to try (the `[frontier]` list, else the scenario's units).
pub(super) fn grid_lists(
    base: &Scenario,
    options: &FrontierOptions,
    routes: &[Option<Vec<String>>],
) -> Vec<Vec<(String, Vec<u32>)>> {
    routes
        .iter()
        .map(|route| {
            base.deployments
                .iter()
                .enumerate()
                .filter_map(|(d, dep)| {
                    let Pool::Reserved(r) = &dep.pool else {
                        return None;
                    };
                    let used = match route {
                        Some(list) => list.contains(&dep.name),
                        None => base.classes.iter().any(|c| c.route.contains(&d)),
                    };
                    let counts = match options.units.iter().find(|(n, _)| *n == dep.name) {
                        Some((_, c)) => c.clone(),
                        None => vec![r.units],
                    };
                    used.then(|| (dep.name.clone(), counts))
                })
                .collect()
        })
        .collect()
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
