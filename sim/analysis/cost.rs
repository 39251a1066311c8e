//! Pricing: on-demand requests by tokens, reserved units by the hour whether used
//! or not. Costs are computed from integer token counts at the end, so the sum
//! does not depend on the order requests were served in.

use crate::domain::{Deployment, Pool, Scenario};
use crate::model::metrics::{HourCell, RepMetrics};

/// Cost of one hour of one deployment, split by pool.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourCost {
    pub on_demand: f64,
    pub reserved: f64,
}

impl HourCost {
    pub fn total(&self) -> f64 {
        self.on_demand + self.reserved
    }
}

/// Price of `input` and `output` tokens at per-1M-token prices.
pub fn token_cost(input: u64, output: u64, input_per_1m: f64, output_per_1m: f64) -> f64 {
    (input as f64 * input_per_1m + output as f64 * output_per_1m) / 1e6
}

/// Cost of one hour of deployment `d` given what it served in that hour.
pub fn hour_cost(d: &Deployment, cell: &HourCell) -> HourCost {
    match &d.pool {
        Pool::OnDemand(o) => HourCost {
            on_demand: token_cost(
                cell.input_tokens,
                cell.output_tokens,
                o.input_per_1m,
                o.output_per_1m,
            ),
            reserved: 0.0,
        },
        Pool::Reserved(r) => HourCost {
            on_demand: 0.0,
            reserved: r.units as f64 * r.unit_hour_price(),
        },
    }
}

/// Total cost per deployment over the horizon of one replication (or of pooled
/// replications, for on-demand). Costs are linear in tokens and hours, so the
/// totals come from the token totals and the hour count directly: the same as
/// adding up `hour_cost` over the hours, without the rounding noise.
pub fn deployment_totals(sc: &Scenario, m: &RepMetrics) -> Vec<HourCost> {
    sc.deployments
        .iter()
        .zip(&m.deployments)
        .map(|(dep, s)| match &dep.pool {
            Pool::OnDemand(o) => HourCost {
                on_demand: token_cost(
                    s.input_tokens,
                    s.output_tokens,
                    o.input_per_1m,
                    o.output_per_1m,
                ),
                reserved: 0.0,
            },
            Pool::Reserved(r) => HourCost {
                on_demand: 0.0,
                reserved: r.units as f64 * r.unit_hour_price() * m.hours as f64,
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
    match &d.pool {
        Pool::Reserved(r) => Some(
            cell.busy_us as f64 / (r.slots() as f64 * crate::model::engine::US_PER_HOUR as f64),
        ),
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
                .map(|h| hour_cost(dep, m.hour_cell(h, d)).total())
                .sum();
            assert!(
                (hourly - totals[d].total()).abs() < 1e-9 * hourly.max(1.0),
                "{}",
                dep.name
            );
        }
    }

    #[test]
    fn gpt4o_list_price_example() {
        // 1M input at $2.50 and 100k output at $10 per 1M = $3.50.
        assert!((token_cost(1_000_000, 100_000, 2.5, 10.0) - 3.5).abs() < 1e-12);
    }
}
