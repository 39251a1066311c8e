//! Pricing: on-demand requests by tokens, reserved units by the hour whether used
//! or not. Costs are computed from integer token counts at the end, so the sum
//! does not depend on the order requests were served in.

use crate::domain::{Deployment, OnDemand, Pool, RateMeasure, Reserved, Scenario, Tokens};
use crate::model::metrics::{Bins, Covered, HourCell, RepMetrics};

/// Cost of one hour of one deployment, split by pool. A token-rate reservation
/// (`[deployment.reserved_rate]`) on an on-demand deployment puts its commitment in `reserved`
/// (paid every hour, used or not) and its overflow, at list price, in `on_demand`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourCost {
    pub on_demand: f64,
    /// The part of `on_demand` paid for input tokens read from or written to the prompt cache.
    pub cached: f64,
    pub reserved: f64,
    /// The part of `reserved` paid at the hourly price for units deployed beyond the
    /// reservation (`reserved_units` below `units`).
    pub overage: f64,
}

impl HourCost {
    pub fn total(&self) -> f64 {
        self.on_demand + self.reserved
    }
}

/// Cost of simulated hour `hour` of deployment `d` given what it served in that hour, at
/// that hour's prices (`[[price_change]]`).
pub fn hour_cost(d: &Deployment, hour: usize, cell: &HourCell) -> HourCost {
    match d.pool_at(hour as u64) {
        Pool::OnDemand(o) => HourCost {
            on_demand: o.cost(&cell.list_tokens()),
            cached: o.cached_cost(&cell.list_tokens()),
            reserved: o.reserved_rate.as_ref().map_or(0.0, |r| r.hour_cost()),
            overage: 0.0,
        },
        Pool::Reserved(r) => HourCost {
            reserved: r.hour_cost(),
            overage: r.overage_hour_cost(),
            ..HourCost::default()
        },
    }
}

/// Cost of bin `i` of `bins` (an hour, or a minute of a short run) of deployment `d`
/// given what it served in that bin: on-demand by the bin's tokens at its hour's prices,
/// reserved units at its hour's price pro rata (a minute costs a sixtieth of the hour).
pub fn bin_cost(d: &Deployment, bins: &Bins, i: usize, cell: &HourCell) -> HourCost {
    let mut cost = hour_cost(d, bins.hour_of(i), cell);
    let per_hour = bins.per_hour();
    cost.reserved /= per_hour;
    cost.overage /= per_hour;
    cost
}

/// What deployment `d`'s reserved units cost over the first `hours` hours (the
/// reservation and any units beyond it), each period at its price; 0 for an on-demand
/// deployment.
pub fn reserved_cost(d: &Deployment, hours: u32) -> f64 {
    match &d.pool {
        Pool::Reserved(r) => reserved_cost_on(d, &r.term, hours),
        Pool::OnDemand(_) => 0.0,
    }
}

/// What deployment `d`'s reserved units cost over the first `hours` hours with the reservation
/// bought on `term`: `reserved_units` at the term's price and the units beyond the reservation
/// at the hourly price, each period at its prices (`[[price_change]]`, `migrate_to`). The one
/// sum every command prices a reserved pool with (run, plan, frontier, the ladder, pick, the
/// closed form); 0 for an on-demand deployment.
pub fn reserved_cost_on(d: &Deployment, term: &str, hours: u32) -> f64 {
    d.price_periods(hours)
        .iter()
        .map(|&(from, to, pool)| match pool {
            Pool::Reserved(r) => r.hour_cost_on(term) * f64::from(to - from),
            Pool::OnDemand(_) => 0.0,
        })
        .sum()
}

/// Deployment `d`'s reserved pool with each term's price per unit-hour replaced by what the
/// pool costs per unit-hour on that term over the first `hours` hours ([`reserved_cost_on`] /
/// (units x hours): each price period weighted by its hours, units beyond the reservation at
/// the hourly price), and the reservation spread over every unit: the one price a horizon-wide
/// figure such as the closed-form break-even can use. The pool itself (bit for bit) when one
/// price holds all horizon and the whole deployment is reserved. None for on-demand.
pub fn average_reserved(d: &Deployment, hours: u32) -> Option<Reserved> {
    let Pool::Reserved(r) = &d.pool else {
        return None;
    };
    if d.price_periods(hours).len() <= 1 && r.overage_units() == 0 {
        return Some(r.clone());
    }
    let unit_hours = f64::from(r.units.max(1)) * f64::from(hours.max(1));
    let price_per_unit_hour = r
        .price_per_unit_hour
        .keys()
        .map(|t| (t.clone(), reserved_cost_on(d, t, hours) / unit_hours))
        .collect();
    Some(Reserved {
        reserved_units: r.units,
        price_per_unit_hour,
        ..r.clone()
    })
}

/// Deployment `d`'s on-demand prices averaged over the first `hours` hours, each price period
/// weighted by the hours it holds: a fixed token mix costs as much at these prices all horizon
/// as at each period's prices for its hours (cost is linear in each price). The pool itself
/// (bit for bit) when one price holds all horizon. None for a reserved deployment.
pub fn average_on_demand(d: &Deployment, hours: u32) -> Option<OnDemand> {
    let Pool::OnDemand(o) = &d.pool else {
        return None;
    };
    let periods = d.price_periods(hours);
    if periods.len() <= 1 {
        return Some(o.clone());
    }
    let mut avg = OnDemand {
        input_per_1m: 0.0,
        output_per_1m: 0.0,
        cached_input_per_1m: 0.0,
        cache_write_per_1m: 0.0,
        ..o.clone()
    };
    for (from, to, pool) in periods {
        let Pool::OnDemand(p) = pool else { continue };
        let w = f64::from(to - from) / f64::from(hours);
        avg.input_per_1m += p.input_per_1m * w;
        avg.output_per_1m += p.output_per_1m * w;
        avg.cached_input_per_1m += p.cached_input_per_1m * w;
        avg.cache_write_per_1m += p.cache_write_per_1m * w;
    }
    Some(avg)
}

/// The part of [`reserved_cost`] paid at the hourly price for units deployed beyond the
/// reservation (`reserved_units` below `units`), each period at its price.
pub fn reserved_overage_cost(d: &Deployment, hours: u32) -> f64 {
    d.price_periods(hours)
        .iter()
        .map(|&(from, to, pool)| match pool {
            Pool::Reserved(r) => r.overage_hour_cost() * f64::from(to - from),
            Pool::OnDemand(_) => 0.0,
        })
        .sum()
}

/// Total cost per deployment over the horizon of one replication (or of pooled
/// replications, for on-demand). Costs are linear in tokens and hours, so the
/// totals come from the token totals and the hour count directly: the same as
/// adding up `hour_cost` over the hours, without the rounding noise. A deployment
/// whose prices change is priced period by period, from the tokens of its hours.
pub fn deployment_totals(sc: &Scenario, m: &RepMetrics) -> Vec<HourCost> {
    sc.deployments
        .iter()
        .enumerate()
        .zip(&m.deployments)
        .map(|((d, dep), s)| match &dep.pool {
            Pool::OnDemand(_) => {
                let (on_demand, cached) = on_demand_cost(dep, m.hours, s.list_tokens(), |h| {
                    m.hour_cell(h, d).list_tokens()
                });
                HourCost {
                    on_demand,
                    cached,
                    reserved: rate_commitment_cost(dep, m.hours),
                    overage: 0.0,
                }
            }
            Pool::Reserved(_) => HourCost {
                reserved: reserved_cost(dep, m.hours),
                overage: reserved_overage_cost(dep, m.hours),
                ..HourCost::default()
            },
        })
        .collect()
}

/// What tokens cost at deployment `prices`' on-demand prices of each hour, and the part paid
/// for cached and cache-written input: `total` (the tokens of all `hours`) at once when its
/// prices never change, else the tokens of each price period (`tokens_in(hour)` summed over its
/// hours) at that period's prices. (0, 0) for a reserved deployment.
pub fn on_demand_cost(
    prices: &Deployment,
    hours: u32,
    total: Tokens,
    tokens_in: impl Fn(usize) -> Tokens,
) -> (f64, f64) {
    match &prices.pool {
        Pool::Reserved(_) => (0.0, 0.0),
        Pool::OnDemand(o) if prices.price_changes.is_empty() => {
            (o.cost(&total), o.cached_cost(&total))
        }
        Pool::OnDemand(_) => {
            let (mut usd, mut cached) = (0.0, 0.0);
            for (from, to, pool) in prices.price_periods(hours) {
                let Pool::OnDemand(o) = pool else { continue };
                let mut t = Tokens::default();
                for h in from..to {
                    t += tokens_in(h as usize);
                }
                usd += o.cost(&t);
                cached += o.cached_cost(&t);
            }
            (usd, cached)
        }
    }
}

/// What deployment `d`'s token-rate reservation (`[deployment.reserved_rate]`) costs over the
/// first `hours` hours, paid whether used or not, each price period at its prices; 0 without
/// one.
pub fn rate_commitment_cost(d: &Deployment, hours: u32) -> f64 {
    rate_commitment_cost_on(d, None, hours)
}

/// [`rate_commitment_cost`] with the reservation bought on `term` (None: its own term), each
/// price period at that term's prices: what `plan` prices a simulated size at under each term
/// (the term changes the price, not what is covered).
pub fn rate_commitment_cost_on(d: &Deployment, term: Option<&str>, hours: u32) -> f64 {
    d.price_periods(hours)
        .iter()
        .map(|&(from, to, pool)| match pool {
            Pool::OnDemand(o) => {
                o.reserved_rate
                    .as_ref()
                    .map_or(0.0, |r| r.hour_cost_on(term.unwrap_or(&r.term)))
                    * f64::from(to - from)
            }
            Pool::Reserved(_) => 0.0,
        })
        .sum()
}

/// One side of a token-rate reservation (input TPM, output TPM, or the spend rate) for one
/// hour: its fee and how much it could cover, in its own measure (tokens, or USD at list
/// price). Reports amortise each side's fee over what it covered (FOCUS, cost by tag,
/// attribution).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSide {
    /// "input", "output" or "spend".
    pub what: &'static str,
    /// USD for the hour.
    pub fee: f64,
    /// Reserved quantity in the vendor's unit (1,000 TPM, or USD per minute).
    pub quantity: f64,
    /// USD per hour per unit of `quantity`.
    pub unit_price: f64,
    /// What the side could cover in the hour (tokens, or USD of list-price usage).
    pub capacity: f64,
}

/// The sides of on-demand pool `o`'s token-rate reservation at its prices; empty without one.
pub fn rate_sides(o: &OnDemand) -> Vec<RateSide> {
    let Some(r) = &o.reserved_rate else {
        return Vec::new();
    };
    let (a, b) = r.unit_prices.get(&r.term).copied().unwrap_or((0.0, 0.0));
    match r.measure {
        RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        } => [("input", input_tpm, a), ("output", output_tpm, b)]
            .into_iter()
            .filter(|(_, tpm, _)| *tpm > 0.0)
            .map(|(what, tpm, price)| RateSide {
                what,
                fee: tpm / 1000.0 * price,
                quantity: tpm / 1000.0,
                unit_price: price,
                capacity: tpm * 60.0,
            })
            .collect(),
        RateMeasure::Spend { usd_per_minute } => vec![RateSide {
            what: "spend",
            fee: usd_per_minute * 60.0 * a,
            quantity: usd_per_minute,
            unit_price: 60.0 * a,
            capacity: usd_per_minute * 60.0,
        }],
    }
}

/// What `covered` used of side `side` of pool `o`'s reservation, in the side's measure.
pub fn rate_amount(o: &OnDemand, side: &RateSide, covered: &Covered) -> f64 {
    let t = covered.tokens();
    match side.what {
        "input" => (t.input - t.cached) as f64,
        "output" => t.output as f64,
        _ => o.cost(&t),
    }
}

/// How much of a token-rate reservation was used: what it covered / what it reserved over the
/// same minutes, per side. Tokens: input (uncached + cache writes) and output; spend: the list
/// value of what it covered (at each hour's prices) over the USD reserved.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateUse {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub spend: Option<f64>,
}

/// The use of deployment `d`'s token-rate reservation over `minutes` minutes in which it
/// covered `covered`, valued (for spend) at prices `o`. None without a reservation.
pub fn rate_use(o: &OnDemand, covered: &Covered, minutes: f64) -> Option<RateUse> {
    let r = o.reserved_rate.as_ref()?;
    let share =
        |used: f64, per_minute: f64| (per_minute > 0.0).then(|| used / (per_minute * minutes));
    let t = covered.tokens();
    Some(match r.measure {
        RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        } => RateUse {
            input: share((t.input - t.cached) as f64, input_tpm),
            output: share(t.output as f64, output_tpm),
            spend: None,
        },
        RateMeasure::Spend { usd_per_minute } => RateUse {
            spend: share(o.cost(&t), usd_per_minute),
            ..RateUse::default()
        },
    })
}

/// The use of deployment `d`'s token-rate reservation over the first `hours` hours of `m`
/// (each hour's covered list value at that hour's prices). None without a reservation.
pub fn rate_utilization(
    d: &Deployment,
    hours: u32,
    cells: impl Fn(usize) -> Covered,
) -> Option<RateUse> {
    let Pool::OnDemand(o) = &d.pool else {
        return None;
    };
    o.reserved_rate.as_ref()?;
    let minutes = f64::from(hours.max(1)) * 60.0;
    let mut total = Covered::default();
    let mut value = 0.0;
    for (from, to, pool) in d.price_periods(hours.max(1)) {
        let Pool::OnDemand(p) = pool else { continue };
        let mut c = Covered::default();
        for h in from..to {
            c.add(&cells(h as usize));
        }
        value += p.cost(&c.tokens());
        total.add(&c);
    }
    let mut u = rate_use(o, &total, minutes)?;
    if let (Some(_), Some(r)) = (u.spend, &o.reserved_rate) {
        if let RateMeasure::Spend { usd_per_minute } = r.measure {
            u.spend = Some(value / (usd_per_minute * minutes));
        }
    }
    Some(u)
}

/// Sweep's break-even values the reserved deployment's tokens at the list prices of its compare
/// deployment `compare`: a token-rate reservation there (which makes part of its tokens cost
/// nothing more) is refused, naming the key. Elsewhere in the scenario a reservation is billed
/// in every point as `run` bills it.
pub fn refuse_rate_compare(
    sc: &Scenario,
    file: &std::path::Path,
    compare: usize,
) -> Result<(), crate::error::InputError> {
    let d = &sc.deployments[compare];
    match &d.pool {
        Pool::OnDemand(o) if o.reserved_rate.is_some() => Err(crate::error::InputError::Invalid {
            file: file.to_path_buf(),
            path: format!("deployment[{compare}].reserved_rate"),
            message: format!(
                "llmcap sweep's break-even values the reserved deployment's tokens at the list prices of \"{}\", which has a token-rate reservation (part of its tokens cost nothing more): name another on-demand deployment in [sweep] compare (or --compare), or take [deployment.reserved_rate] out",
                d.name
            ),
        }),
        _ => Ok(()),
    }
}

/// `plan` and `plan --ladder`, when they size reserved units, refuse a scenario that also has a
/// token-rate reservation: they size one reservation at a time. The error names the file, the
/// key and what does handle it.
pub fn refuse_reserved_rate(
    sc: &Scenario,
    file: &std::path::Path,
    command: &str,
) -> Result<(), crate::error::InputError> {
    let Some(i) = sc
        .deployments
        .iter()
        .position(|d| matches!(&d.pool, Pool::OnDemand(o) if o.reserved_rate.is_some()))
    else {
        return Ok(());
    };
    let name = &sc.deployments[i].name;
    let message = format!(
        "llmcap {command} sizes reserved units here, and does not size them next to a token-rate reservation (deployment \"{name}\"): it sizes one reservation at a time. Name the token-rate deployment ([plan] deployment = \"{name}\" or --deployment {name}) to size that reservation, or take [deployment.reserved_rate] out to size the units"
    );
    Err(crate::error::InputError::Invalid {
        file: file.to_path_buf(),
        path: format!("deployment[{i}].reserved_rate"),
        message,
    })
}

/// Reserved utilization of deployment `d`: weighted tokens served / weighted
/// tokens the units could serve, over the horizon. Busy slot-time measures it
/// exactly, because a slot serves weighted tokens at a fixed rate.
pub fn reserved_utilization(sc: &Scenario, m: &RepMetrics, d: usize) -> Option<f64> {
    match &sc.deployments[d].pool {
        Pool::Reserved(r) => {
            let capacity = r.slots() as f64 * sc.horizon_us() as f64;
            Some(m.deployments[d].busy_us as f64 / capacity)
        }
        Pool::OnDemand(_) => None,
    }
}

/// Utilization of deployment `d` in one hour (reserved pools only).
pub fn hour_utilization(d: &Deployment, cell: &HourCell) -> Option<f64> {
    bin_utilization(d, crate::model::engine::US_PER_HOUR, cell)
}

/// Utilization of deployment `d` in one bin `bin_us` microseconds wide (reserved pools
/// only).
pub fn bin_utilization(d: &Deployment, bin_us: u64, cell: &HourCell) -> Option<f64> {
    match &d.pool {
        Pool::Reserved(r) => Some(cell.busy_us as f64 / (r.slots() as f64 * bin_us as f64)),
        Pool::OnDemand(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_equal_the_sum_of_hourly_costs() {
        let sc = crate::domain::Scenario::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml"),
        )
        .unwrap();
        let mut sc = sc;
        sc.horizon_hours = 6;
        let m = crate::analysis::run::run_replication(&sc, 0, None);
        let totals = deployment_totals(&sc, &m);
        for (d, dep) in sc.deployments.iter().enumerate() {
            let hourly: f64 = (0..6)
                .map(|h| hour_cost(dep, h, m.hour_cell(h, d)).total())
                .sum();
            assert!(
                (hourly - totals[d].total()).abs() < 1e-9 * hourly.max(1.0),
                "{}",
                dep.name
            );
        }
    }

    #[test]
    fn cached_tokens_are_billed_at_their_prices() {
        let sc = crate::domain::Scenario::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml"),
        )
        .unwrap();
        let Some(Pool::OnDemand(o)) = sc
            .deployments
            .iter()
            .map(|d| &d.pool)
            .find(|p| matches!(p, Pool::OnDemand(_)))
        else {
            panic!("baseline has an on-demand pool")
        };
        let o = crate::domain::OnDemand {
            input_per_1m: 3.0,
            output_per_1m: 15.0,
            cached_input_per_1m: 0.3,
            cache_write_per_1m: 3.75,
            ..o.clone()
        };
        // 1M input tokens: 600k read from the cache at $0.30, 100k written at $3.75, 300k
        // uncached at $3; 100k output at $15: 0.18 + 0.375 + 0.9 + 1.5 = $2.955, of which
        // $0.555 cached.
        let t = crate::domain::Tokens {
            input: 1_000_000,
            cached: 600_000,
            cache_write: 100_000,
            output: 100_000,
        };
        assert!((o.cost(&t) - 2.955).abs() < 1e-12, "{}", o.cost(&t));
        assert!((o.cached_cost(&t) - 0.555).abs() < 1e-12);
        // Without a cache, the list-price example: 1M in at $2.50, 100k out at $10 = $3.50.
        let plain = crate::domain::OnDemand {
            input_per_1m: 2.5,
            output_per_1m: 10.0,
            cached_input_per_1m: 2.5,
            cache_write_per_1m: 2.5,
            ..o
        };
        let t = crate::domain::Tokens {
            input: 1_000_000,
            output: 100_000,
            ..Default::default()
        };
        assert!((plain.cost(&t) - 3.5).abs() < 1e-12);
    }
}
