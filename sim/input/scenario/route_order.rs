//! The static route orders: `routing = "cheapest"` and `"fastest"` sort a class's
//! route once, at validation, so the simulation only walks it.

use crate::domain::{prefill_slowdown, Deployment, Pool, Routing, TokenDist};

/// Sorts `route` (indices into `deployments`) for a static routing policy; other
/// policies keep the written order. A stable sort keeps the written order among equals.
pub(super) fn sort(
    routing: &Routing,
    route: &mut [usize],
    deployments: &[Deployment],
    input_tokens: &TokenDist,
    output_tokens: &TokenDist,
) {
    let (mean_in, mean_out) = (input_tokens.mean(), output_tokens.mean());
    match routing {
        // Reserved first (already paid for), then on-demand by expected price per request.
        Routing::Cheapest => route.sort_by(|&a, &b| {
            let price = |d: usize| match &deployments[d].pool {
                Pool::Reserved(_) => 0.0,
                Pool::OnDemand(o) => mean_in * o.input_per_1m + mean_out * o.output_per_1m,
            };
            price(a).total_cmp(&price(b))
        }),
        // By expected TTFT with no queueing: base median + prefill of a mean
        // prompt, slowed by the on-demand pool's mean background load.
        Routing::Fastest => route.sort_by(|&a, &b| {
            let ttft = |d: usize| {
                let dep = &deployments[d];
                let slowdown = match &dep.pool {
                    Pool::OnDemand(o) => {
                        let bg = o.background.iter().sum::<f64>() / 24.0;
                        prefill_slowdown(bg.min(o.max_pool_utilization))
                    }
                    Pool::Reserved(_) => 1.0,
                };
                let base = if dep.latency.load_slows_base {
                    dep.latency.median_ms * slowdown
                } else {
                    dep.latency.median_ms
                };
                base + dep.latency.prefill_ms_per_1k_input * mean_in / 1000.0 * slowdown
            };
            ttft(a).total_cmp(&ttft(b))
        }),
        _ => {}
    }
}
