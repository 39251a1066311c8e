//! Prices by date: `[[price_change]]` tables and offerings that retire inside the horizon.
//!
//! Each change becomes a [`PriceChange`] on its deployment, sorted by hour and applied on
//! top of the prices before it (a key not given keeps its value). A deployment whose
//! catalog offering retires inside the horizon exits 2 unless it names the offering that
//! takes over (`migrate_to`); that offering's prices then apply from the retirement date,
//! as one more change.

use std::collections::BTreeMap;

use super::raw::{RawDeployment, RawPriceChange};
use crate::domain::{time, Deployment, Pool, PriceChange};
use crate::error::InputError;
use crate::input::catalog::{Catalog, Offering};
use crate::input::document::Checker;

/// A token-rate reservation's new prices by term: each side's, or None to keep it.
type RatePrices = BTreeMap<String, (Option<f64>, Option<f64>)>;

/// A price table of a change's `reserved_rate`: its key, its value, and whether it prices the
/// first side (input, or spend) rather than the second (output).
type RateTable<'a> = (&'static str, &'a Option<BTreeMap<String, f64>>, bool);

/// The prices one change sets.
#[derive(Debug, Clone)]
enum Edit {
    OnDemand {
        input: Option<f64>,
        output: Option<f64>,
        cached: Option<f64>,
        write: Option<f64>,
    },
    Reserved(BTreeMap<String, f64>),
    /// A token-rate reservation's term prices (see `RateReservation::unit_prices`): each
    /// side's new price, or None to keep it; with the on-demand prices of the same change.
    Rate(Box<Edit>, RatePrices),
}

/// One change, checked: deployment index, first hour, date, what set it, the prices.
struct Dated {
    deployment: usize,
    from_hour: u32,
    date: i64,
    what: String,
    edit: Edit,
}

/// The scenario's calendar, to place dates in hours.
#[derive(Clone, Copy)]
pub(super) struct Window {
    /// Days since 1970-01-01 of hour 0.
    pub start_date: i64,
    /// The hours simulated.
    pub horizon: u32,
    /// The longest horizon the file allows a date in: the horizon it was written with, or
    /// the one simulated if longer (a shorter look, `--horizon-hours`, ends before a change).
    pub written: u32,
}

impl Window {
    fn end_date(&self, hours: u32) -> i64 {
        self.start_date + i64::from(hours.div_ceil(24))
    }
}

/// A date key: a TOML date or a "YYYY-MM-DD" string.
fn read_date(c: &Checker, key: &str, v: &toml::Value) -> Result<i64, InputError> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        other => other.to_string(),
    };
    time::parse_date(&text).ok_or_else(|| {
        c.err(
            key,
            format!("must be a calendar date YYYY-MM-DD (e.g. \"2027-06-01\"), got {text}"),
        )
    })
}

/// Applies the `[[price_change]]` tables and the retirements to `deployments`.
pub(super) fn apply_prices(
    c: &Checker,
    raw: &[RawPriceChange],
    raw_deployments: &[RawDeployment],
    deployments: &mut [Deployment],
    w: Window,
) -> Result<(), InputError> {
    let mut dated = retirements(c, raw_deployments, deployments, w)?;
    for (i, p) in raw.iter().enumerate() {
        dated.push(price_change(c, i, p, deployments, w)?);
    }
    dated.sort_by_key(|d| (d.deployment, d.from_hour));
    for pair in dated.windows(2) {
        if pair[0].deployment == pair[1].deployment && pair[0].from_hour == pair[1].from_hour {
            return Err(c.err(
                &pair[1].what,
                format!(
                    "changes the prices of deployment \"{}\" on {}, as {} does; give one change a date",
                    deployments[pair[1].deployment].name,
                    time::format_date(pair[1].date),
                    pair[0].what
                ),
            ));
        }
    }
    for d in dated {
        let dep = &mut deployments[d.deployment];
        let before = dep
            .price_changes
            .last()
            .map_or(&dep.pool, |c| &c.pool)
            .clone();
        let pool = edited(before, &d.edit);
        dep.price_changes.push(PriceChange {
            from_hour: d.from_hour,
            date: d.date,
            what: d.what,
            pool,
        });
    }
    Ok(())
}

/// The pool with the change's prices. Cached and cache-write prices not given keep their
/// ratio to the input price (a cut of the input price cuts them alike).
fn edited(mut pool: Pool, e: &Edit) -> Pool {
    match (&mut pool, e) {
        (
            Pool::OnDemand(o),
            Edit::OnDemand {
                input,
                output,
                cached,
                write,
            },
        ) => {
            let old_input = o.input_per_1m;
            let scale = |v: f64, new_input: f64| {
                if old_input > 0.0 {
                    v * new_input / old_input
                } else {
                    v
                }
            };
            let new_input = input.unwrap_or(old_input);
            o.cached_input_per_1m = cached.unwrap_or(scale(o.cached_input_per_1m, new_input));
            o.cache_write_per_1m = write.unwrap_or(scale(o.cache_write_per_1m, new_input));
            o.input_per_1m = new_input;
            o.output_per_1m = output.unwrap_or(o.output_per_1m);
        }
        (Pool::Reserved(r), Edit::Reserved(prices)) => {
            for (term, p) in prices {
                r.price_per_unit_hour.insert(term.clone(), *p);
            }
        }
        (Pool::OnDemand(_), Edit::Rate(on_demand, prices)) => {
            pool = edited(pool, on_demand);
            if let Pool::OnDemand(o) = &mut pool {
                if let Some(r) = &mut o.reserved_rate {
                    for (term, (a, b)) in prices {
                        if let Some(old) = r.unit_prices.get_mut(term) {
                            *old = (a.unwrap_or(old.0), b.unwrap_or(old.1));
                        }
                    }
                }
            }
        }
        // The kinds are matched when the change is read.
        _ => {}
    }
    pool
}

/// The first hour of `date`, which must fall after the first day and inside the window.
fn hour_of(c: &Checker, key: &str, date: i64, w: Window) -> Result<u32, InputError> {
    let last = w.end_date(w.written) - 1;
    if date <= w.start_date || date > last {
        return Err(c.err(
            key,
            format!(
                "must fall inside the horizon after its first day: {} to {} (start_date {} + {} h), got {}",
                time::format_date(w.start_date + 1),
                time::format_date(last),
                time::format_date(w.start_date),
                w.written,
                time::format_date(date)
            ),
        ));
    }
    Ok(((date - w.start_date) * 24) as u32)
}

fn price_change(
    c: &Checker,
    i: usize,
    p: &RawPriceChange,
    deployments: &[Deployment],
    w: Window,
) -> Result<Dated, InputError> {
    let at = format!("price_change[{i}]");
    let date = read_date(c, &format!("{at}.date"), &p.date)?;
    let from_hour = hour_of(c, &format!("{at}.date"), date, w)?;
    let Some(d) = deployments.iter().position(|d| d.name == p.deployment) else {
        let known: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
        return Err(c.err(
            format!("{at}.deployment"),
            format!(
                "unknown deployment \"{}\"; defined deployments: {}",
                p.deployment,
                known.join(", ")
            ),
        ));
    };
    let price = |key: &str, v: Option<f64>| -> Result<Option<f64>, InputError> {
        v.map(|v| c.range(&format!("{at}.{key}"), v, 0.0, 1e6))
            .transpose()
    };
    let edit = match (&deployments[d].pool, &p.on_demand, &p.reserved) {
        (Pool::OnDemand(od), o, None) if p.reserved_rate.is_some() => {
            let on_demand = match o {
                Some(o) => Edit::OnDemand {
                    input: price("on_demand.input_per_1m", o.input_per_1m)?,
                    output: price("on_demand.output_per_1m", o.output_per_1m)?,
                    cached: price("on_demand.cached_input_per_1m", o.cached_input_per_1m)?,
                    write: price("on_demand.cache_write_per_1m", o.cache_write_per_1m)?,
                },
                None => Edit::OnDemand {
                    input: None,
                    output: None,
                    cached: None,
                    write: None,
                },
            };
            let rate = rate_prices(c, &at, p, od)?;
            Edit::Rate(Box::new(on_demand), rate)
        }
        (Pool::OnDemand(_), Some(o), None) => {
            let e = Edit::OnDemand {
                input: price("on_demand.input_per_1m", o.input_per_1m)?,
                output: price("on_demand.output_per_1m", o.output_per_1m)?,
                cached: price("on_demand.cached_input_per_1m", o.cached_input_per_1m)?,
                write: price("on_demand.cache_write_per_1m", o.cache_write_per_1m)?,
            };
            if let Edit::OnDemand {
                input: None,
                output: None,
                cached: None,
                write: None,
            } = e
            {
                return Err(c.err(
                    format!("{at}.on_demand"),
                    "sets no price; give input_per_1m, output_per_1m, cached_input_per_1m or cache_write_per_1m",
                ));
            }
            e
        }
        (Pool::Reserved(r), None, Some(res)) => {
            if res.price_per_unit_hour.is_empty() {
                return Err(c.err(
                    format!("{at}.reserved.price_per_unit_hour"),
                    "sets no price; give a term's price per unit-hour",
                ));
            }
            let mut prices = BTreeMap::new();
            for (term, v) in &res.price_per_unit_hour {
                let key = format!("{at}.reserved.price_per_unit_hour.{term}");
                if !r.price_per_unit_hour.contains_key(term) {
                    let priced: Vec<&str> =
                        r.price_per_unit_hour.keys().map(String::as_str).collect();
                    return Err(c.err(
                        key,
                        format!(
                            "deployment \"{}\" prices no term \"{term}\"; its terms: {}",
                            p.deployment,
                            priced.join(", ")
                        ),
                    ));
                }
                prices.insert(term.clone(), c.range(&key, *v, 0.0, 1e6)?);
            }
            Edit::Reserved(prices)
        }
        (pool, _, _) => {
            let kind = pool.kind();
            return Err(c.err(
                at,
                format!(
                    "deployment \"{}\" is {kind}: give exactly one table, {kind} = {{ ... }}",
                    p.deployment
                ),
            ));
        }
    };
    Ok(Dated {
        deployment: d,
        from_hour,
        date,
        what: at,
        edit,
    })
}

/// A change's `reserved_rate` prices on on-demand pool `od`: the deployment must hold a
/// token-rate reservation, the tables must be its measure's, and every term one it prices.
fn rate_prices(
    c: &Checker,
    at: &str,
    p: &RawPriceChange,
    od: &crate::domain::OnDemand,
) -> Result<RatePrices, InputError> {
    let key = format!("{at}.reserved_rate");
    let Some(rr) = &p.reserved_rate else {
        return Ok(BTreeMap::new());
    };
    let Some(r) = &od.reserved_rate else {
        return Err(c.err(
            key,
            format!(
                "deployment \"{}\" has no [deployment.reserved_rate] whose prices could change",
                p.deployment
            ),
        ));
    };
    let tokens = matches!(r.measure, crate::domain::RateMeasure::Tokens { .. });
    let (allowed, tables): (&str, Vec<RateTable>) = if tokens {
        (
            "input_per_1k_tpm_hour, output_per_1k_tpm_hour",
            vec![
                ("input_per_1k_tpm_hour", &rr.input_per_1k_tpm_hour, true),
                ("output_per_1k_tpm_hour", &rr.output_per_1k_tpm_hour, false),
            ],
        )
    } else {
        (
            "price_per_reserved_usd",
            vec![("price_per_reserved_usd", &rr.price_per_reserved_usd, true)],
        )
    };
    for (k, v) in [
        ("input_per_1k_tpm_hour", &rr.input_per_1k_tpm_hour),
        ("output_per_1k_tpm_hour", &rr.output_per_1k_tpm_hour),
        ("price_per_reserved_usd", &rr.price_per_reserved_usd),
    ] {
        if v.is_some() && !allowed.contains(k) {
            return Err(c.err(
                format!("{key}.{k}"),
                format!(
                    "does not price a {} reservation; allowed: {allowed}",
                    r.measure.kind()
                ),
            ));
        }
    }
    let mut out: RatePrices = BTreeMap::new();
    for (k, table, first) in tables {
        for (term, v) in table.iter().flatten() {
            let kp = format!("{key}.{k}.{term}");
            if !r.unit_prices.contains_key(term) {
                return Err(c.err(
                    kp,
                    format!(
                        "deployment \"{}\" reserves on no term \"{term}\"; its terms: {}",
                        p.deployment,
                        r.unit_prices.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let v = c.range(&kp, *v, 0.0, 1e9)?;
            let e = out.entry(term.clone()).or_default();
            if first {
                e.0 = Some(v);
            } else {
                e.1 = Some(v);
            }
        }
    }
    if out.is_empty() {
        return Err(c.err(key, format!("sets no price; give {allowed}")));
    }
    Ok(out)
}

/// The day an offering retires, if its catalog entry gives one.
fn retires(o: &Offering) -> Option<i64> {
    let l = o.lifecycle.as_ref()?;
    time::parse_date(&l.retired_on.as_ref()?.value)
}

/// Offerings that retire inside the horizon: an error, or the successor's prices from the
/// retirement date (`migrate_to`).
fn retirements(
    c: &Checker,
    raw: &[RawDeployment],
    deployments: &[Deployment],
    w: Window,
) -> Result<Vec<Dated>, InputError> {
    let catalog = Catalog::shipped();
    let mut out = Vec::new();
    for (i, (r, d)) in raw.iter().zip(deployments).enumerate() {
        let at = format!("deployment[{i}]");
        let Some(id) = &d.offering else {
            if r.migrate_to.is_some() {
                return Err(c.err(
                    format!("{at}.migrate_to"),
                    "belongs to a deployment built from a catalog offering (offering = \"...\"), whose retirement date it answers",
                ));
            }
            continue;
        };
        let Some((_, offering)) = catalog.offering(id) else {
            continue;
        };
        let end = w.end_date(w.horizon);
        let retired = retires(offering);
        match (retired, &r.migrate_to) {
            (Some(day), _) if day <= w.start_date => {
                return Err(c.err(
                    format!("{at}.offering"),
                    format!(
                        "\"{id}\" retired on {} (catalog lifecycle), before start_date {}: requests to it fail; use the offering that replaced it (llmcap catalog --as-of {} lists those on sale)",
                        time::format_date(day),
                        time::format_date(w.start_date),
                        time::format_date(w.start_date)
                    ),
                ));
            }
            (Some(day), None) if day < end => {
                return Err(c.err(
                    format!("{at}.offering"),
                    format!(
                        "\"{id}\" retires on {} (catalog lifecycle), inside the horizon ({} to {}): requests to it fail from then; add migrate_to = \"<offering>\" to this deployment (the offering that takes over, billed at its prices from that date), or end the horizon before it",
                        time::format_date(day),
                        time::format_date(w.start_date),
                        time::format_date(end - 1)
                    ),
                ));
            }
            (Some(day), Some(to)) if day < w.end_date(w.written.max(w.horizon)) => {
                let edit = successor(c, &at, id, to, d, day, w, catalog)?;
                out.push(Dated {
                    deployment: i,
                    from_hour: ((day - w.start_date) * 24) as u32,
                    date: day,
                    what: format!("{at}.migrate_to"),
                    edit,
                });
            }
            (_, Some(_)) => {
                return Err(c.err(
                    format!("{at}.migrate_to"),
                    format!(
                        "\"{id}\" does not retire inside the horizon ({}); leave migrate_to out",
                        retired.map_or("no retirement date in the catalog".to_string(), |d| {
                            format!("it retires on {}", time::format_date(d))
                        })
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The prices of `to`, the offering taking over from deployment `d` on `day`: same
/// platform and pool kind, on sale until the horizon ends, pricing the deployment's term.
#[allow(clippy::too_many_arguments)]
fn successor(
    c: &Checker,
    at: &str,
    id: &str,
    to: &str,
    d: &Deployment,
    day: i64,
    w: Window,
    catalog: &Catalog,
) -> Result<Edit, InputError> {
    let key = format!("{at}.migrate_to");
    let Some((platform, o)) = catalog.offering(to) else {
        let near: Vec<String> = catalog
            .offerings()
            .filter(|(p, _)| p.id == d.platform)
            .map(|(p, o)| format!("{}/{}", p.id, o.id))
            .take(12)
            .collect();
        return Err(c.err(
            key,
            format!(
                "unknown offering \"{to}\"; on {}: {}",
                d.platform,
                near.join(", ")
            ),
        ));
    };
    if platform.id != d.platform {
        return Err(c.err(
            key,
            format!(
                "\"{to}\" is on platform \"{}\"; the deployment keeps its platform \"{}\" (routes, quotas and latency stay), so migrate to an offering of \"{}\"",
                platform.id, d.platform, d.platform
            ),
        ));
    }
    let end = w.end_date(w.written.max(w.horizon));
    if let Some(gone) = retires(o).filter(|&r| r < end) {
        return Err(c.err(
            key,
            format!(
                "\"{to}\" retires on {} too, before the horizon ends ({}); migrate to an offering on sale until then",
                time::format_date(gone),
                time::format_date(end - 1)
            ),
        ));
    }
    match (&d.pool, &o.on_demand, &o.reserved) {
        (Pool::OnDemand(_), Some(p), _) => {
            let input = p.input_per_1m.value;
            Ok(Edit::OnDemand {
                input: Some(input),
                output: Some(p.output_per_1m.value),
                cached: Some(p.cached_input_per_1m.as_ref().map_or(input, |v| v.value)),
                write: Some(p.cache_write_per_1m.as_ref().map_or(input, |v| v.value)),
            })
        }
        (Pool::Reserved(r), _, Some(p)) => {
            let Some(term) = p.term(&r.term) else {
                return Err(c.err(
                    key,
                    format!(
                        "\"{to}\" is not sold on term \"{}\", the term of \"{id}\" from {}; it sells: {}",
                        r.term,
                        time::format_date(day),
                        p.terms
                            .iter()
                            .map(|t| t.describe())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            Ok(Edit::Reserved(BTreeMap::from([(
                r.term.clone(),
                term.unit_hour_price(),
            )])))
        }
        (pool, _, _) => Err(c.err(
            key,
            format!(
                "\"{to}\" is {}, the deployment is {}; migrate to an offering of the same kind",
                o.kind,
                pool.kind()
            ),
        )),
    }
}
