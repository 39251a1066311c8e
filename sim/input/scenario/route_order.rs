//! The static route orders: `routing = "cheapest"` and `"fastest"` sort a class's
//! route at validation, so the simulation only walks it. A `cheapest` route is sorted
//! again at each hour a price of one of its deployments changes ([`price_orders`]).

use crate::domain::{prefill_slowdown, Class, Deployment, Pool, Routing, TokenDist};

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
        Routing::Cheapest => cheapest(route, deployments, 0, mean_in, mean_out),
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

/// Reserved first (already paid for), then on-demand by expected price per request at the
/// prices of hour `hour`. A stable sort: equals keep the order they had.
fn cheapest(
    route: &mut [usize],
    deployments: &[Deployment],
    hour: u64,
    mean_in: f64,
    mean_out: f64,
) {
    route.sort_by(|&a, &b| {
        let price = |d: usize| match deployments[d].pool_at(hour) {
            Pool::Reserved(_) => 0.0,
            Pool::OnDemand(o) => mean_in * o.input_per_1m + mean_out * o.output_per_1m,
        };
        price(a).total_cmp(&price(b))
    });
}

/// The later orders of a `cheapest` class (`Class::route_changes`): at each hour a price of
/// a deployment on its route changes, the route sorted again at that hour's prices, kept
/// when the order differs from the one before. A gateway that orders by price re-orders
/// when the prices do.
pub(super) fn price_orders(class: &mut Class, deployments: &[Deployment]) {
    if class.routing != Routing::Cheapest {
        return;
    }
    let mut hours: Vec<u32> = class
        .route
        .iter()
        .flat_map(|&d| deployments[d].price_changes.iter().map(|c| c.from_hour))
        .collect();
    hours.sort_unstable();
    hours.dedup();
    let (mean_in, mean_out) = (class.input_tokens.mean(), class.output_tokens.mean());
    let mut last = class.route.clone();
    for h in hours {
        let mut route = last.clone();
        cheapest(&mut route, deployments, u64::from(h), mean_in, mean_out);
        if route != last {
            class.route_changes.push((h, route.clone()));
            last = route;
        }
    }
}
