//! Pricing: on-demand requests by tokens, reserved units by the hour whether used
//! or not. Costs are computed from integer token counts at the end, so the sum
//! does not depend on the order requests were served in.

use crate::domain::{Deployment, Pool, Scenario};
use crate::model::metrics::{Bins, HourCell, RepMetrics};

/// Cost of one hour of one deployment, split by pool.
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
            on_demand: o.cost(&cell.tokens()),
            cached: o.cached_cost(&cell.tokens()),
            reserved: 0.0,
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
    d.price_periods(hours)
        .iter()
        .map(|&(from, to, pool)| match pool {
            Pool::Reserved(r) => r.hour_cost() * f64::from(to - from),
            Pool::OnDemand(_) => 0.0,
        })
        .sum()
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
            Pool::OnDemand(_) if !dep.price_changes.is_empty() => {
                let mut total = HourCost::default();
                for (from, to, pool) in dep.price_periods(m.hours) {
                    let Pool::OnDemand(o) = pool else { continue };
                    let mut t = crate::domain::Tokens::default();
                    for h in from..to {
                        t += m.hour_cell(h as usize, d).tokens();
                    }
                    total.on_demand += o.cost(&t);
                    total.cached += o.cached_cost(&t);
                }
                total
            }
            Pool::OnDemand(o) => HourCost {
                on_demand: o.cost(&s.tokens()),
                cached: o.cached_cost(&s.tokens()),
                reserved: 0.0,
                overage: 0.0,
            },
            Pool::Reserved(_) => HourCost {
                reserved: reserved_cost(dep, m.hours),
                overage: reserved_overage_cost(dep, m.hours),
                ..HourCost::default()
            },
        })
        .collect()
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
