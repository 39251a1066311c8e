//! Deployments that name a catalog `offering` get the offering's values, under
//! the keys the scenario writes itself, before the file is validated.

use std::path::Path;

use crate::error::InputError;
use crate::input::document::Checker;

pub(super) fn uses_offerings(t: &toml::Table) -> bool {
    t.get("deployment")
        .and_then(|d| d.as_array())
        .is_some_and(|a| a.iter().any(|d| d.get("offering").is_some()))
}

/// Fills each `[[deployment]]` that names a catalog `offering` with the
/// offering's values, under the keys the scenario writes itself.
pub(super) fn apply_offerings(
    mut table: toml::Table,
    file: &Path,
) -> Result<toml::Table, InputError> {
    let c = Checker { file };
    let Some(toml::Value::Array(deps)) = table.get_mut("deployment") else {
        return Ok(table);
    };
    let catalog = crate::input::catalog::Catalog::shipped();
    for (i, d) in deps.iter_mut().enumerate() {
        let Some(t) = d.as_table() else { continue };
        let Some(id) = t.get("offering") else {
            continue;
        };
        let at = format!("deployment[{i}].offering");
        let Some(id) = id.as_str() else {
            return Err(c.err(
                at,
                "must be a string such as \"azure-openai/gpt-4o/global-standard\"",
            ));
        };
        let Some((platform, offering)) = catalog.offering(id) else {
            let near: Vec<String> = catalog
                .offerings()
                .filter(|(p, o)| id.starts_with(&p.id) || id.contains(&o.model))
                .map(|(p, o)| format!("{}/{}", p.id, o.id))
                .take(12)
                .collect();
            return Err(c.err(
                at,
                format!(
                    "unknown offering \"{id}\"; {} (llmcap catalog lists them all)",
                    if near.is_empty() {
                        format!("platforms: {}", catalog.platform_ids().join(", "))
                    } else {
                        format!("similar: {}", near.join(", "))
                    }
                ),
            ));
        };
        for key in ["platform", "model"] {
            let want = if key == "platform" {
                &platform.id
            } else {
                &offering.model
            };
            if let Some(v) = t.get(key).and_then(|v| v.as_str()) {
                if v != want {
                    return Err(c.err(
                        format!("deployment[{i}].{key}"),
                        format!(
                            "is \"{v}\", but offering \"{id}\" is {key} \"{want}\"; leave it out"
                        ),
                    ));
                }
            }
        }
        // The pool kind comes from the offering; the scenario may not switch it.
        let other = if offering.reserved.is_some() {
            "on_demand"
        } else {
            "reserved"
        };
        if t.contains_key(other) {
            return Err(c.err(
                format!("deployment[{i}].{other}"),
                format!(
                    "offering \"{id}\" is {}; it has no [{other}] keys",
                    offering.kind
                ),
            ));
        }
        if let Some(r) = &offering.reserved {
            check_term_sold(&c, i, id, r, t)?;
        }
        let mut base = offering.deployment_table(&platform.id);
        if t.contains_key("batch") {
            let b = batch_sold(&c, i, id, offering, t)?;
            base.remove("on_demand");
            base.insert("batch".into(), b.deployment_table().into());
        }
        let mut own = t.clone();
        quota_keys(&c, i, id, offering, &mut own, &mut base)?;
        if t.contains_key("reserved_rate") {
            let r = rate_sold(&c, i, id, offering, t)?;
            base.insert("reserved_rate".into(), r.deployment_table().into());
        }
        let merged = crate::input::catalog::merge_under(base, own);
        *d = toml::Value::Table(merged);
    }
    Ok(table)
}

/// A scenario's `reserved.term` must be one the offering sells, unless the scenario prices that
/// term itself (a negotiated term): otherwise it would be billed at a price nobody quoted.
fn check_term_sold(
    c: &Checker,
    i: usize,
    id: &str,
    r: &crate::input::catalog::OfferingReserved,
    t: &toml::Table,
) -> Result<(), InputError> {
    let Some(res) = t.get("reserved").and_then(|v| v.as_table()) else {
        return Ok(());
    };
    let Some(term) = res.get("term").and_then(|v| v.as_str()) else {
        return Ok(());
    };
    let priced_here = res
        .get("price_per_unit_hour")
        .and_then(|v| v.as_table())
        .is_some_and(|p| p.contains_key(term));
    if r.term(term).is_some() || priced_here {
        return Ok(());
    }
    Err(c.err(
        format!("deployment[{i}].reserved.term"),
        format!(
            "offering \"{id}\" is not sold on term \"{term}\"; it sells: {} (or price the term yourself in reserved.price_per_unit_hour and term_hours)",
            r.terms
                .iter()
                .map(|t| t.describe())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// A `[deployment.reserved_rate]` on an offering: the offering must sell one, on the term asked
/// for (unless the scenario prices that term itself).
fn rate_sold<'a>(
    c: &Checker,
    i: usize,
    id: &str,
    offering: &'a crate::input::catalog::Offering,
    t: &toml::Table,
) -> Result<&'a crate::input::catalog::OfferingReservedRate, InputError> {
    let Some(r) = &offering.reserved_rate else {
        let with: Vec<String> = crate::input::catalog::Catalog::shipped()
            .offerings()
            .filter(|(_, o)| o.reserved_rate.is_some())
            .map(|(p, o)| format!("{}/{}", p.id, o.id))
            .collect();
        return Err(c.err(
            format!("deployment[{i}].reserved_rate"),
            format!(
                "offering \"{id}\" sells no token-rate reservation in the catalog; offerings with one: {} (or use platform = \"custom\" with your own prices)",
                with.join(", ")
            ),
        ));
    };
    let rr = t.get("reserved_rate").and_then(|v| v.as_table());
    let Some(term) = rr.and_then(|r| r.get("term")).and_then(|v| v.as_str()) else {
        return Ok(r);
    };
    let priced_here = rr.is_some_and(|r| {
        [
            "input_per_1k_tpm_hour",
            "output_per_1k_tpm_hour",
            "price_per_reserved_usd",
        ]
        .iter()
        .any(|k| {
            r.get(*k)
                .and_then(|v| v.as_table())
                .is_some_and(|p| p.contains_key(term))
        })
    });
    if r.term(term).is_some() || priced_here {
        return Ok(r);
    }
    Err(c.err(
        format!("deployment[{i}].reserved_rate.term"),
        format!(
            "offering \"{id}\" sells its {} on terms {}, not \"{term}\" (or price the term yourself)",
            r.product.value,
            r.describe_terms()
        ),
    ))
}

/// A `[deployment.batch]` on an offering: the offering must sell batch, and the window asked
/// for must be one the vendor sells.
fn batch_sold<'a>(
    c: &Checker,
    i: usize,
    id: &str,
    offering: &'a crate::input::catalog::Offering,
    t: &toml::Table,
) -> Result<&'a crate::input::catalog::OfferingBatch, InputError> {
    let Some(b) = &offering.batch else {
        return Err(c.err(
            format!("deployment[{i}].batch"),
            format!("offering \"{id}\" sells no batch API in the catalog (llmcap catalog lists the offerings with one); leave [deployment.batch] out, or use platform = \"custom\" with your own batch prices"),
        ));
    };
    let window = t
        .get("batch")
        .and_then(|v| v.get("completion_window_hours"))
        .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|n| n as f64)));
    if let Some(w) = window {
        if !b.sells_window(w) {
            return Err(c.err(
                format!("deployment[{i}].batch.completion_window_hours"),
                format!(
                    "offering \"{id}\" sells batch with a completion window of {}, got {w} h",
                    b.describe_windows()
                ),
            ));
        }
    }
    Ok(b)
}

/// A deployment that chooses a quota shape (`on_demand.quota`) gets the offering's limits for
/// that shape; `"vendor"` takes the shape the catalog says the vendor enforces. Without a
/// `quota` key nothing changes: the shapes are opt-in, so a catalog limit never alters a
/// scenario that does not ask for it.
fn quota_keys(
    c: &Checker,
    i: usize,
    id: &str,
    offering: &crate::input::catalog::Offering,
    own: &mut toml::Table,
    base: &mut toml::Table,
) -> Result<(), InputError> {
    let Some(od) = offering.on_demand.as_ref() else {
        return Ok(());
    };
    let Some(mine) = own.get_mut("on_demand").and_then(|v| v.as_table_mut()) else {
        return Ok(());
    };
    let Some(name) = mine.get("quota").and_then(|v| v.as_str()) else {
        return Ok(());
    };
    let name = if name == "vendor" {
        let Some(q) = &od.quota else {
            return Err(c.err(
                format!("deployment[{i}].on_demand.quota"),
                format!("is \"vendor\", but offering \"{id}\" states no quota shape; give one of bucket, azure, anthropic, bedrock, vertex"),
            ));
        };
        mine.insert("quota".into(), q.value.clone().into());
        q.value.clone()
    } else {
        name.to_string()
    };
    let Some(b) = base.get_mut("on_demand").and_then(|v| v.as_table_mut()) else {
        return Ok(());
    };
    let keys = match name.as_str() {
        "azure" => vec![("rpm_window_s", &od.rpm_window_s)],
        "anthropic" => {
            // Anthropic limits input and output separately: the catalog's combined `tpm`
            // (ITPM + OTPM, for the bucket shape) does not apply.
            b.remove("tpm");
            if let Some(v) = &od.itpm_cache_reads {
                b.insert("itpm_cache_reads".into(), v.value.into());
            }
            vec![("itpm", &od.itpm), ("otpm", &od.otpm)]
        }
        "bedrock" => vec![("output_burndown", &od.output_burndown)],
        _ => Vec::new(),
    };
    for (k, v) in keys {
        if let Some(v) = v {
            b.insert(k.into(), v.value.into());
        }
    }
    Ok(())
}
