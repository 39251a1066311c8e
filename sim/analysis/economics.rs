//! Reserved-capacity economics: the closed-form break-even utilization and
//! the break-even read off simulated costs.
//!
//! A reserved pool of `n` units costs `n x price` per hour whether used or not
//! and can serve `n x tpm_per_unit x 60` weighted tokens per hour (an output
//! token counts `output_weight` input tokens). The same tokens bought on demand
//! cost `c` dollars per weighted token, where `c` follows from the token mix:
//!
//! ```text
//! c  = (E[in] p_in + E[out] p_out) / (E[in] + w E[out]) / 1e6
//! BE = price / (c x tpm_per_unit x 60)
//! ```
//!
//! At average utilization `u`, reserved tokens cost `BE / u` times their
//! on-demand price, so reserved capacity is cheaper exactly when `u > BE`.
//! The simulated break-even is where the measured ratio (reserved cost / the
//! on-demand price of the tokens the units served) crosses 1.

use crate::domain::{OnDemand, Pool, Reserved, Scenario};
use crate::error::ValueError;

/// The token mix of the traffic a reserved deployment sees, in expectation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenMix {
    /// Mean input tokens per request.
    pub input: f64,
    /// Mean output tokens per request.
    pub output: f64,
    /// Mean input tokens per request read from the prompt cache (part of `input`).
    pub cached: f64,
    /// Mean input tokens per request written to the prompt cache (part of `input`).
    pub cache_write: f64,
}

impl TokenMix {
    /// The expected mix of every class routed through deployment `d`, each
    /// class weighted by its expected number of requests over the horizon.
    pub fn of_deployment(sc: &Scenario, d: usize) -> Option<TokenMix> {
        let mut n = 0.0;
        let (mut input, mut output, mut cached, mut write) = (0.0, 0.0, 0.0, 0.0);
        for c in sc.classes.iter().filter(|c| c.route.contains(&d)) {
            let k = c.expected_arrivals(sc.horizon_hours, sc.start_date);
            n += k;
            let mean_in = c.input_tokens.mean();
            input += k * mean_in;
            output += k * c.output_tokens.mean();
            cached += k * mean_in * c.cached_input_share;
            write += k * mean_in * c.cache_write_share;
        }
        (n > 0.0).then(|| TokenMix {
            input: input / n,
            output: output / n,
            cached: cached / n,
            cache_write: write / n,
        })
    }

    /// Traffic without prompt caching.
    pub fn plain(input: f64, output: f64) -> TokenMix {
        TokenMix {
            input,
            output,
            cached: 0.0,
            cache_write: 0.0,
        }
    }

    /// On-demand dollars per input token, cached and written ones at their prices.
    pub fn input_price(&self, od: &OnDemand) -> f64 {
        if self.input <= 0.0 {
            return od.input_per_1m / 1e6;
        }
        ((self.input - self.cached - self.cache_write) * od.input_per_1m
            + self.cached * od.cached_input_per_1m
            + self.cache_write * od.cache_write_per_1m)
            / self.input
            / 1e6
    }

    /// Reserved capacity one input token uses on average (cached ones count `cached_input_weight`).
    pub fn input_weight(&self, r: &Reserved) -> f64 {
        if self.input <= 0.0 {
            return 1.0;
        }
        1.0 - self.cached / self.input * (1.0 - r.cached_input_weight)
    }

    /// Output tokens per input token.
    pub fn ratio(&self) -> f64 {
        self.output / self.input
    }
}

/// On-demand dollars per weighted token of `r`'s capacity for `mix` at `od`'s prices: output
/// tokens weigh `output_weight`, cached input tokens `cached_input_weight` (and cost the cached
/// price on demand).
pub fn on_demand_per_weighted_token(mix: TokenMix, od: &OnDemand, r: &Reserved) -> f64 {
    let dollars = mix.input * mix.input_price(od) + mix.output * od.output_per_1m / 1e6;
    dollars / (mix.input * mix.input_weight(r) + r.output_weight * mix.output)
}

/// Closed-form break-even utilization (0..; above 1 means never) of `r` at the
/// unit-hour `price`, against on-demand prices `od` for traffic `mix`.
pub fn closed_form(r: &Reserved, price: f64, od: &OnDemand, mix: TokenMix) -> f64 {
    let per_token = on_demand_per_weighted_token(mix, od, r);
    price / (per_token * r.tpm_per_unit * 60.0)
}

/// The reserved and on-demand pools a break-even is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// Index of the reserved deployment.
    pub reserved: usize,
    /// Index of the on-demand deployment whose prices value its tokens.
    pub compare: usize,
}

impl Pair {
    pub fn reserved<'a>(&self, sc: &'a Scenario) -> &'a Reserved {
        match &sc.deployments[self.reserved].pool {
            Pool::Reserved(r) => r,
            Pool::OnDemand(_) => unreachable!("Pair::find checks the pool kinds"),
        }
    }

    pub fn compare<'a>(&self, sc: &'a Scenario) -> &'a OnDemand {
        match &sc.deployments[self.compare].pool {
            Pool::OnDemand(o) => o,
            Pool::Reserved(_) => unreachable!("Pair::find checks the pool kinds"),
        }
    }

    /// The reserved pool as the closed form prices it over `sc`'s horizon: each term's price
    /// the horizon's average per unit-hour, price changes weighted by the hours they hold and
    /// units beyond the reservation at the hourly price (`cost::average_reserved`).
    pub fn reserved_over_horizon(&self, sc: &Scenario) -> Reserved {
        crate::analysis::cost::average_reserved(&sc.deployments[self.reserved], sc.horizon_hours)
            .unwrap_or_else(|| self.reserved(sc).clone())
    }

    /// The on-demand prices the closed form compares with over `sc`'s horizon: each price the
    /// average over the horizon, price changes weighted by the hours they hold
    /// (`cost::average_on_demand`).
    pub fn compare_over_horizon(&self, sc: &Scenario) -> OnDemand {
        crate::analysis::cost::average_on_demand(&sc.deployments[self.compare], sc.horizon_hours)
            .unwrap_or_else(|| self.compare(sc).clone())
    }

    /// The reserved deployment `reserved` (or, when None, the scenario's only
    /// reserved deployment, or the first one on a route) and the on-demand
    /// deployment `compare` (or, when None, the first on-demand deployment after
    /// it on a route; failing that, any on-demand deployment of the same model).
    /// Err explains what is missing.
    pub fn find(
        sc: &Scenario,
        reserved: Option<&str>,
        compare: Option<&str>,
    ) -> Result<Pair, ValueError> {
        let is_reserved = |d: usize| matches!(sc.deployments[d].pool, Pool::Reserved(_));
        let is_od = |d: usize| matches!(sc.deployments[d].pool, Pool::OnDemand(_));
        let by_name = |name: &str| sc.deployments.iter().position(|d| d.name == name);
        let r = match reserved {
            Some(name) => {
                let d = by_name(name).ok_or_else(|| format!("no deployment named \"{name}\""))?;
                if !is_reserved(d) {
                    return Err(format!("deployment \"{name}\" is on-demand, not reserved").into());
                }
                d
            }
            None => {
                let all: Vec<usize> = (0..sc.deployments.len())
                    .filter(|&d| is_reserved(d))
                    .collect();
                match all.as_slice() {
                    [] => return Err("the scenario has no reserved deployment".into()),
                    [one] => *one,
                    _ => sc
                        .classes
                        .iter()
                        .flat_map(|c| c.route.iter().copied())
                        .find(|&d| is_reserved(d))
                        .unwrap_or(all[0]),
                }
            }
        };
        let c = match compare {
            Some(name) => {
                let d = by_name(name).ok_or_else(|| format!("no deployment named \"{name}\""))?;
                if !is_od(d) {
                    return Err(format!(
                        "deployment \"{name}\" is reserved; compare needs an on-demand deployment"
                    ).into());
                }
                d
            }
            None => sc
                .classes
                .iter()
                .filter_map(|c| {
                    let at = c.route.iter().position(|&d| d == r)?;
                    c.route[at + 1..].iter().copied().find(|&d| is_od(d))
                })
                .next()
                .or_else(|| {
                    (0..sc.deployments.len())
                        .find(|&d| is_od(d) && sc.deployments[d].model == sc.deployments[r].model)
                })
                .ok_or_else(|| {
                    format!(
                        "no on-demand deployment of model \"{}\" to price the reserved tokens against; add one or name it with compare",
                        sc.deployments[r].model
                    )
                })?,
        };
        Ok(Pair {
            reserved: r,
            compare: c,
        })
    }
}

/// One replication at one sweep point: what the crossover needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Average utilization of the reserved pool.
    pub utilization: f64,
    /// Reserved cost / on-demand price of the tokens the reserved pool served.
    pub cost_ratio: f64,
}

/// The utilization at which the cost ratio crosses 1, interpolated between the
/// two observations that bracket it. The ratio falls like `BE / u`, so the
/// interpolation is linear in `1/u` (exact when the ratio is exactly `BE / u`).
/// None when no pair of observations brackets 1.
pub fn crossover(obs: &[Observation]) -> Option<f64> {
    let mut o: Vec<Observation> = obs
        .iter()
        .copied()
        .filter(|o| o.utilization > 0.0 && o.cost_ratio.is_finite())
        .collect();
    o.sort_by(|a, b| a.utilization.total_cmp(&b.utilization));
    o.windows(2).find_map(|w| {
        let (a, b) = (w[0], w[1]);
        let (fa, fb) = (a.cost_ratio - 1.0, b.cost_ratio - 1.0);
        if fa == 0.0 {
            return Some(a.utilization);
        }
        if fa.signum() == fb.signum() || fb == fa {
            return (fb == 0.0).then_some(b.utilization);
        }
        let t = fa / (fa - fb);
        let inv = 1.0 / a.utilization + t * (1.0 / b.utilization - 1.0 / a.utilization);
        Some(1.0 / inv)
    })
}

/// One input varied low and high, everything else at the scenario's values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Swing {
    pub input: String,
    pub low_label: String,
    pub low: f64,
    pub high_label: String,
    pub high: f64,
}

/// Closed-form break-even of `pair` at the scenario's term, and how it moves
/// when one input changes: the output/input token ratio (x0.5, x2), the
/// reservation term (cheapest and dearest priced term), the unit price and
/// the on-demand price (-25%, +25%), the throughput per unit and the output
/// weight (x0.5, x2).
pub fn swings(sc: &Scenario, pair: Pair) -> Option<(f64, Vec<Swing>)> {
    let (r, od) = (
        &pair.reserved_over_horizon(sc),
        &pair.compare_over_horizon(sc),
    );
    let mix = TokenMix::of_deployment(sc, pair.reserved)?;
    let price = r.unit_hour_price();
    let be =
        |r: &Reserved, price: f64, od: &OnDemand, mix: TokenMix| closed_form(r, price, od, mix);
    let base = be(r, price, od, mix);
    let mut out = Vec::new();
    let ratio = mix.ratio();
    let with_ratio = |k: f64| TokenMix {
        output: mix.output * k,
        ..mix
    };
    out.push(Swing {
        input: "output/input token ratio".into(),
        low_label: format!("x0.5 ({:.2})", ratio * 0.5),
        low: be(r, price, od, with_ratio(0.5)),
        high_label: format!("x2 ({:.2})", ratio * 2.0),
        high: be(r, price, od, with_ratio(2.0)),
    });
    // Prompt caching: none against the traffic's own cached share (or half the input when the
    // traffic caches nothing), at the platforms' cached prices and reserved weights.
    let share = if mix.input > 0.0 {
        mix.cached / mix.input
    } else {
        0.0
    };
    let cached_share = if share > 0.0 { share } else { 0.5 };
    let with_cache = |s: f64| TokenMix {
        cached: mix.input * s,
        cache_write: mix.cache_write.min(mix.input * (1.0 - s)),
        ..mix
    };
    let (none, cached) = (
        be(r, price, od, with_cache(0.0)),
        be(r, price, od, with_cache(cached_share)),
    );
    // Shown only where the platforms price caching (a cached price or a reserved weight).
    if (none - cached).abs() > 1e-12 {
        out.push(Swing {
            input: "cached input share".into(),
            low_label: "no cache".into(),
            low: none,
            high_label: format!("{:.0}% cached", cached_share * 100.0),
            high: cached,
        });
    }
    if r.price_per_unit_hour.len() > 1 {
        let (mut lo, mut hi) = (None::<(&String, f64)>, None::<(&String, f64)>);
        for (t, &p) in &r.price_per_unit_hour {
            if lo.is_none_or(|(_, q)| p < q) {
                lo = Some((t, p));
            }
            if hi.is_none_or(|(_, q)| p > q) {
                hi = Some((t, p));
            }
        }
        if let (Some((lt, lp)), Some((ht, hp))) = (lo, hi) {
            out.push(Swing {
                input: "reservation term".into(),
                low_label: format!("{lt} (${lp:.4}/unit-h)"),
                low: be(r, lp, od, mix),
                high_label: format!("{ht} (${hp:.4}/unit-h)"),
                high: be(r, hp, od, mix),
            });
        }
    }
    out.push(Swing {
        input: "unit price".into(),
        low_label: "-25%".into(),
        low: be(r, price * 0.75, od, mix),
        high_label: "+25%".into(),
        high: be(r, price * 1.25, od, mix),
    });
    let scaled_od = |k: f64| od.scaled(k);
    out.push(Swing {
        input: "on-demand price".into(),
        low_label: "-25%".into(),
        low: be(r, price, &scaled_od(0.75), mix),
        high_label: "+25%".into(),
        high: be(r, price, &scaled_od(1.25), mix),
    });
    let faster = |k: f64| Reserved {
        tpm_per_unit: r.tpm_per_unit * k,
        ..r.clone()
    };
    out.push(Swing {
        input: "throughput per unit".into(),
        low_label: format!("x0.5 ({:.0} TPM)", r.tpm_per_unit * 0.5),
        low: be(&faster(0.5), price, od, mix),
        high_label: format!("x2 ({:.0} TPM)", r.tpm_per_unit * 2.0),
        high: be(&faster(2.0), price, od, mix),
    });
    let weighted = |k: f64| Reserved {
        output_weight: r.output_weight * k,
        ..r.clone()
    };
    out.push(Swing {
        input: "output weight".into(),
        low_label: format!("x0.5 ({})", r.output_weight * 0.5),
        low: be(&weighted(0.5), price, od, mix),
        high_label: format!("x2 ({})", r.output_weight * 2.0),
        high: be(&weighted(2.0), price, od, mix),
    });
    Some((base, out))
}

/// How far each input alone would have to move for the closed-form
/// break-even to reach `target` (e.g. the nearest edge of a reference band).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Levers {
    pub target: f64,
    /// Factor on the reserved unit price (e.g. 0.7 = 30% cheaper).
    pub unit_price: f64,
    /// Factor on both on-demand prices.
    pub on_demand_price: f64,
    /// Factor on the throughput per unit.
    pub throughput: f64,
    /// The output/input token ratio that would do it alone, if any exists.
    pub output_ratio: Option<f64>,
}

/// The break-even is `price / (c x tpm x 60)`: linear in the unit price and
/// inversely proportional to on-demand prices and throughput, so each factor
/// is `target / base` or its inverse. The token mix moves `c` between the
/// input price and output price / output weight; the ratio r solves
/// `(p_in + r p_out) / (1 + w r) = c*` for the `c*` that gives `target`.
pub fn levers(sc: &Scenario, pair: Pair, target: f64) -> Option<Levers> {
    let (r, od) = (
        &pair.reserved_over_horizon(sc),
        &pair.compare_over_horizon(sc),
    );
    let mix = TokenMix::of_deployment(sc, pair.reserved)?;
    let price = r.unit_hour_price();
    let base = closed_form(r, price, od, mix);
    if !(base > 0.0 && target > 0.0) {
        return None;
    }
    let c_star = price / (target * r.tpm_per_unit * 60.0) * 1e6; // $ per 1M weighted tokens
                                                                 // Per input token: its mean price (cached ones cheaper) and the capacity it uses.
    let (p_in, a) = (mix.input_price(od) * 1e6, mix.input_weight(r));
    let (p_out, w) = (od.output_per_1m, r.output_weight);
    let denom = p_out - w * c_star;
    let ratio = (denom != 0.0)
        .then(|| (c_star * a - p_in) / denom)
        .filter(|x| *x > 0.0 && x.is_finite());
    Some(Levers {
        target,
        unit_price: target / base,
        on_demand_price: base / target,
        throughput: base / target,
        output_ratio: ratio,
    })
}

/// Average utilization of units sized for the peak of a cosine day with
/// peak / trough `ratio`, plus `headroom` (0.2 = 20% above the peak):
/// mean / (peak x (1 + headroom)) = (1 + 1/ratio) / 2 / (1 + headroom).
pub fn reachable_utilization(ratio: f64, headroom: f64) -> f64 {
    (1.0 + 1.0 / ratio) / 2.0 / (1.0 + headroom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossover_is_exact_for_a_hyperbola() {
        let be = 0.62;
        let obs: Vec<Observation> = [0.2, 0.35, 0.5, 0.7, 0.9]
            .iter()
            .map(|&u| Observation {
                utilization: u,
                cost_ratio: be / u,
            })
            .collect();
        let x = crossover(&obs).unwrap();
        assert!((x - be).abs() < 1e-12, "{x}");
    }

    #[test]
    fn no_crossover_when_reserved_is_always_dearer() {
        let obs: Vec<Observation> = [0.5, 0.8, 0.95]
            .iter()
            .map(|&u| Observation {
                utilization: u,
                cost_ratio: 1.3 / u,
            })
            .collect();
        assert_eq!(crossover(&obs), None);
        assert_eq!(crossover(&[]), None);
    }

    #[test]
    fn levers_bring_the_closed_form_to_the_target() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/breakeven_azure.toml"),
        )
        .unwrap();
        let sc = Scenario::from_toml(&text, "b.toml".as_ref()).unwrap();
        let pair = Pair::find(&sc, None, None).unwrap();
        let l = levers(&sc, pair, 0.6).unwrap();
        let r = pair.reserved(&sc).clone();
        let od = pair.compare(&sc).clone();
        let mix = TokenMix::of_deployment(&sc, pair.reserved).unwrap();
        let price = r.unit_hour_price();
        let at =
            |r: &Reserved, price: f64, od: &OnDemand, mix: TokenMix| closed_form(r, price, od, mix);
        assert!((at(&r, price * l.unit_price, &od, mix) - 0.6).abs() < 1e-9);
        let od2 = od.scaled(l.on_demand_price);
        assert!((at(&r, price, &od2, mix) - 0.6).abs() < 1e-9);
        let r2 = Reserved {
            tpm_per_unit: r.tpm_per_unit * l.throughput,
            ..r.clone()
        };
        assert!((at(&r2, price, &od, mix) - 0.6).abs() < 1e-9);
        // gpt-4o's output weight (4) equals its output:input price ratio, so
        // every mix costs $2.50 per 1M weighted tokens: no mix moves it.
        assert_eq!(l.output_ratio, None);
        assert_eq!(levers(&sc, pair, 0.75).unwrap().output_ratio, None);
        let (base, swings) = swings(&sc, pair).unwrap();
        let ratio = swings.iter().find(|s| s.input.contains("ratio")).unwrap();
        assert!((ratio.low - base).abs() < 1e-9 && (ratio.high - base).abs() < 1e-9);
        // With the 2024 weight of 3, output tokens are dearer per unit of
        // capacity: all-output traffic ($10 / 3) gives 71.2%, so a mix reaches 75%.
        let mut sc3 = sc.clone();
        if let Pool::Reserved(x) = &mut sc3.deployments[pair.reserved].pool {
            x.output_weight = 3.0;
        }
        let r3 = pair.reserved(&sc3).clone();
        let k = levers(&sc3, pair, 0.75).unwrap().output_ratio.unwrap();
        let mix2 = TokenMix {
            output: mix.input * k,
            ..mix
        };
        assert!((at(&r3, price, &od, mix2) - 0.75).abs() < 1e-9);
        assert_eq!(levers(&sc3, pair, 0.6).unwrap().output_ratio, None);
    }

    #[test]
    fn peak_sized_units_of_a_flat_day_are_fully_used() {
        assert!((reachable_utilization(1.0, 0.0) - 1.0).abs() < 1e-12);
        // Peak 3x trough: mean / peak = 2/3.
        assert!((reachable_utilization(3.0, 0.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((reachable_utilization(3.0, 0.25) - 2.0 / 3.0 / 1.25).abs() < 1e-12);
    }

    #[test]
    fn gpt4o_closed_form_matches_the_worked_example() {
        // docs/model.md: mean 1,866 in / 345 out, $2.50 / $10 per 1M, 2,500 TPM
        // per PTU, output weight 3, $260 per PTU-month = $0.3562/h -> 84.9%.
        let od = OnDemand {
            input_per_1m: 2.5,
            output_per_1m: 10.0,
            cached_input_per_1m: 2.5,
            cache_write_per_1m: 2.5,
            rpm: None,
            tpm: None,
            quota: crate::domain::Quota::Bucket,
            shared_pool_tpm: 1e9,
            background: [0.0; 24],
            max_pool_utilization: 0.95,
            reserved_rate: None,
        };
        let r = Reserved {
            units: 15,
            reserved_units: 15,
            min_units: 15,
            unit_step: 5,
            tpm_per_unit: 2500.0,
            output_weight: 3.0,
            cached_input_weight: 1.0,
            concurrency_per_unit: 1,
            term: "monthly".into(),
            price_per_unit_hour: Default::default(),
            term_hours: Default::default(),
            max_queue: None,
            max_wait_us: None,
        };
        let mix = TokenMix::plain(1866.0, 345.0);
        let be = closed_form(&r, 0.3562, &od, mix);
        assert!((be - 0.849).abs() < 0.001, "{be}");
        // Prompt caching, by hand: 60% of the input read from the cache at $1.25 per 1M
        // (gpt-4o's cached price), and on PTUs deducted from utilization (weight 0).
        // Per request: dollars = (746.4 x 2.5 + 1,119.6 x 1.25 + 345 x 10) / 1e6 = 0.0067155;
        // weighted tokens = 746.4 + 3 x 345 = 1,781.4; per token 3.76979e-6;
        // BE = 0.3562 / (3.76979e-6 x 2,500 x 60) = 63.0% (84.9% without caching).
        let cached_od = OnDemand {
            cached_input_per_1m: 1.25,
            ..od.clone()
        };
        let ptu = Reserved {
            cached_input_weight: 0.0,
            ..r.clone()
        };
        let mix = TokenMix {
            cached: 1866.0 * 0.6,
            ..mix
        };
        let be = closed_form(&ptu, 0.3562, &cached_od, mix);
        assert!((be - 0.6299).abs() < 0.001, "{be}");
    }
}
