//! Validation of request classes: route, SLA, routing policy, arrivals and
//! token distributions.

use crate::domain::{
    ArrivalProcess, ArrivalSpec, Class, Deployment, Growth, Routing, Sla, TokenDist,
};
use crate::error::InputError;
use crate::input::document::{ms_to_us, normalised, Checker};
use crate::input::scenario::raw::{RawArrivals, RawClass, RawGrowth, RawTokens};
use crate::input::scenario::route_order;
use crate::input::scenario::trace_scan::{trace_summary, validate_trace};
use crate::input::scenario::validate::profile;

pub(super) fn validate_class(
    c: &Checker,
    p: &str,
    k: &RawClass,
    deployments: &[Deployment],
    horizon_hours: u32,
    router: (bool, bool),
) -> Result<Class, InputError> {
    let (litellm, portkey) = router;
    if k.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    if k.route.is_empty() {
        return Err(c.err(
            format!("{p}.route"),
            "must name at least one deployment, in the order they are tried",
        ));
    }
    let mut route = Vec::with_capacity(k.route.len());
    for (j, name) in k.route.iter().enumerate() {
        let rp = format!("{p}.route[{j}]");
        let Some(idx) = deployments.iter().position(|d| &d.name == name) else {
            let known: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
            return Err(c.err(
                rp,
                format!(
                    "unknown deployment \"{name}\"; defined deployments: {}",
                    known.join(", ")
                ),
            ));
        };
        if route.contains(&idx) {
            return Err(c.err(
                rp,
                format!("deployment \"{name}\" appears twice in the route"),
            ));
        }
        let d = &deployments[idx];
        let substitutes = k.substitutes.as_deref().unwrap_or_default();
        if d.model != k.model && !substitutes.contains(&d.model) {
            return Err(c.err(
                rp,
                format!(
                    "deployment \"{name}\" serves model \"{}\", but the class needs \"{}\"{}",
                    d.model,
                    k.model,
                    if substitutes.is_empty() {
                        " (list allowed stand-ins in the class's substitutes)".to_string()
                    } else {
                        format!(" or a substitute ({})", substitutes.join(", "))
                    }
                ),
            ));
        }
        route.push(idx);
    }
    for key in k.tags.keys() {
        if key.is_empty() {
            return Err(c.err(format!("{p}.tags"), "tag names must not be empty"));
        }
    }
    let sla = match &k.sla {
        Some(s) => Some(Sla {
            ttft_us: ms_to_us(c.positive(&format!("{p}.sla.ttft_ms"), s.ttft_ms)?),
            percentile: c
                .percentile(&format!("{p}.sla.percentile"), s.percentile.unwrap_or(99.0))?,
        }),
        None => None,
    };
    let trace = match &k.arrivals.trace {
        Some(t) => Some(validate_trace(
            c,
            &format!("{p}.arrivals"),
            t,
            &k.arrivals,
            horizon_hours,
        )?),
        None => None,
    };
    let tokens = |key: &str, raw: &Option<RawTokens>, mean: f64| -> Result<TokenDist, InputError> {
        match (raw, &trace) {
            (Some(_), Some(_)) => Err(c.err(
                format!("{p}.{key}"),
                "comes from the trace when arrivals.trace is set; leave it out",
            )),
            (Some(t), None) => validate_tokens(c, &format!("{p}.{key}"), t),
            // A summary for reports and the closed form: the trace's mean.
            (None, Some(_)) => Ok(TokenDist::Fixed(mean.round() as u32)),
            (None, None) => Err(c.err(
                format!("{p}.{key}"),
                "is missing: give a token distribution, or replay a trace (arrivals.trace)",
            )),
        }
    };
    let (mi, mo) = trace
        .as_ref()
        .map_or((0.0, 0.0), |t| (t.stats.mean_input, t.stats.mean_output));
    let input_tokens = tokens("input_tokens", &k.input_tokens, mi)?;
    let output_tokens = tokens("output_tokens", &k.output_tokens, mo)?;
    let routing = routing(c, p, k, route.len())?;
    let steps = super::steps::steps(c, p, k, &routing, litellm)?;
    let portkey = super::portkey::tree(c, p, k, &routing, portkey)?;
    let (cached_input_share, cache_write_share) = cache_shares(c, p, k)?;
    let max_tokens = k
        .max_tokens
        .map(|v| {
            let at = format!("{p}.max_tokens");
            let m = c.whole(&at, v, 1)?;
            if m > MAX_TOKENS_LIMIT {
                return Err(c.err(
                    at,
                    format!("must be a whole number from 1 to {MAX_TOKENS_LIMIT}, got {v}"),
                ));
            }
            Ok(m)
        })
        .transpose()?;
    route_order::sort(
        &routing,
        &mut route,
        deployments,
        &input_tokens,
        &output_tokens,
    );
    Ok(Class {
        name: k.name.clone(),
        model: k.model.clone(),
        substitutes: k.substitutes.clone().unwrap_or_default(),
        routing,
        route,
        route_changes: Vec::new(),
        random_stream: k.random_stream.clone().unwrap_or_else(|| k.name.clone()),
        tags: k.tags.clone(),
        sla,
        arrivals: match &trace {
            Some(t) => trace_summary(t),
            None => validate_arrivals(c, &format!("{p}.arrivals"), &k.arrivals)?,
        },
        trace,
        steps,
        portkey,
        input_tokens,
        output_tokens,
        cached_input_share,
        cache_write_share,
        max_tokens,
    })
}

/// The largest `max_tokens` a class may send: ten times the longest output any catalog model
/// allows (128,000), far above any real request, and small enough to count in a u32.
const MAX_TOKENS_LIMIT: u32 = 10_000_000;

pub(super) fn validate_arrivals(
    c: &Checker,
    p: &str,
    a: &RawArrivals,
) -> Result<ArrivalSpec, InputError> {
    let Some(mean_rps) = a.mean_rps else {
        return Err(c.err(
            format!("{p}.mean_rps"),
            "is missing: the mean arrival rate in requests/s (or replay a trace with arrivals.trace)",
        ));
    };
    let process = match a.process.as_deref().unwrap_or("poisson") {
        "poisson" => ArrivalProcess::Poisson,
        "deterministic" => ArrivalProcess::Deterministic,
        other => {
            return Err(c.err(
                format!("{p}.process"),
                format!("unknown value \"{other}\"; allowed: poisson, deterministic"),
            ))
        }
    };
    let mean_rps = c.positive(&format!("{p}.mean_rps"), mean_rps)?;
    if mean_rps > 1e6 {
        return Err(c.err(
            format!("{p}.mean_rps"),
            format!("must be at most 1e6 requests/s, got {mean_rps}"),
        ));
    }
    let hourly = profile(
        c,
        p,
        ("hourly", &a.hourly),
        ("peak_hour", a.peak_hour),
        ("peak_to_trough", a.peak_to_trough),
    )?;
    let mut weekday = factors(
        c,
        &format!("{p}.weekday"),
        &a.weekday,
        "day-of-week factors, Monday first",
    )?;
    let hour_of_week = match &a.hour_of_week {
        None => None,
        Some(_) => {
            let set = [
                ("hourly", a.hourly.is_some()),
                ("peak_hour", a.peak_hour.is_some()),
                ("peak_to_trough", a.peak_to_trough.is_some()),
                ("weekday", a.weekday.is_some()),
            ];
            if let Some((k, _)) = set.iter().find(|(_, s)| *s) {
                return Err(c.err(
                    format!("{p}.{k}"),
                    "cannot be combined with arrivals.hour_of_week, which gives the whole week's shape",
                ));
            }
            let w: [f64; HOURS_PER_WEEK] = factors(
                c,
                &format!("{p}.hour_of_week"),
                &a.hour_of_week,
                "hour-of-week multipliers, Monday 00:00 first",
            )?;
            Some(w.to_vec())
        }
    };
    // With a week's shape, hourly and weekday are its averages (what reports show).
    let hourly = match &hour_of_week {
        Some(w) => {
            weekday = std::array::from_fn(|d| w[d * 24..d * 24 + 24].iter().sum::<f64>() / 24.0);
            std::array::from_fn(|h| (0..7).map(|d| w[d * 24 + h]).sum::<f64>() / 7.0)
        }
        None => hourly,
    };
    let overdispersion = c.range(
        &format!("{p}.overdispersion"),
        a.overdispersion.unwrap_or(0.0),
        0.0,
        100.0,
    )?;
    let burst_interval_s = a.burst_interval_s.unwrap_or(60);
    if burst_interval_s == 0 || 3600 % burst_interval_s != 0 {
        return Err(c.err(
            format!("{p}.burst_interval_s"),
            format!("must divide an hour (3600 s) evenly, e.g. 10, 60, 300, 3600; got {burst_interval_s}"),
        ));
    }
    if process == ArrivalProcess::Deterministic && overdispersion > 0.0 {
        return Err(c.err(
            format!("{p}.overdispersion"),
            "must be 0 for process = \"deterministic\"",
        ));
    }
    let seasonality = factors(
        c,
        &format!("{p}.seasonality"),
        &a.seasonality,
        "month-of-year factors, January first",
    )?;
    Ok(ArrivalSpec {
        process,
        mean_rps,
        hourly,
        weekday,
        hour_of_week,
        overdispersion,
        burst_interval_s,
        growth: validate_growth(c, &format!("{p}.growth"), a.growth.as_ref())?,
        seasonality,
    })
}

/// Hours in a week: the length of `arrivals.hour_of_week`.
const HOURS_PER_WEEK: usize = 168;

/// N factors normalised to mean 1 (all 1 when absent); `what` names them in the error.
fn factors<const N: usize>(
    c: &Checker,
    path: &str,
    v: &Option<Vec<f64>>,
    what: &str,
) -> Result<[f64; N], InputError> {
    match v {
        Some(v) if v.len() == N => {
            let n = normalised(c, path, v)?;
            Ok(std::array::from_fn(|i| n[i]))
        }
        Some(v) => Err(c.err(path, format!("must list {N} {what}, got {}", v.len()))),
        None => Ok([1.0; N]),
    }
}

/// The most a class may grow from one month to the next (x11): past it the
/// level after a few years is no forecast, and (1 + g)^m stays finite for any
/// horizon the limits allow. The work limits refuse a growth that would
/// simulate too many requests, naming this key.
const MAX_MONTHLY_GROWTH: f64 = 10.0;

/// Months a `multipliers` list may give: a bound on the list (100 years), not on
/// the horizon; months past the horizon are never read.
const MAX_GROWTH_MONTHS: usize = 1200;

fn validate_growth(c: &Checker, p: &str, g: Option<&RawGrowth>) -> Result<Growth, InputError> {
    let Some(g) = g else {
        return Ok(Growth::None);
    };
    match (g.monthly, &g.multipliers) {
        (Some(m), None) => {
            // Shrinking is allowed (a product being retired), down to -99% a month.
            Ok(Growth::Compound(c.range(
                &format!("{p}.monthly"),
                m,
                -0.99,
                MAX_MONTHLY_GROWTH,
            )?))
        }
        (None, Some(v)) => {
            if v.is_empty() || v.len() > MAX_GROWTH_MONTHS {
                return Err(c.err(
                    format!("{p}.multipliers"),
                    format!(
                        "must list 1 to {MAX_GROWTH_MONTHS} monthly levels (month 0 first; the last one holds after the list), got {}",
                        v.len()
                    ),
                ));
            }
            for (i, x) in v.iter().enumerate() {
                c.range(&format!("{p}.multipliers[{i}]"), *x, 0.0, 1e6)?;
            }
            Ok(Growth::Multipliers(v.clone()))
        }
        _ => Err(c.err(
            p,
            "give exactly one of monthly (compounding growth per month, e.g. 0.05) or multipliers (one level per month, month 0 first)",
        )),
    }
}

pub(super) fn validate_tokens(
    c: &Checker,
    p: &str,
    t: &RawTokens,
) -> Result<TokenDist, InputError> {
    let field = |k: &str| format!("{p}.{k}");
    let present: Vec<&str> = [
        ("value", t.value.is_some()),
        ("median", t.median.is_some()),
        ("p90", t.p90.is_some()),
        ("mean", t.mean.is_some()),
        ("quantiles", t.quantiles.is_some()),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| *k)
    .collect();
    let expect = |needed: &[&str]| -> Result<(), InputError> {
        for k in &present {
            if !needed.contains(k) {
                return Err(c.err(
                    field(k),
                    format!(
                        "is not used with dist = \"{}\" (it takes: {})",
                        t.dist,
                        needed.join(", ")
                    ),
                ));
            }
        }
        for k in needed {
            if !present.contains(k) {
                return Err(c.err(field(k), format!("is required with dist = \"{}\"", t.dist)));
            }
        }
        Ok(())
    };
    let max = match t.max {
        Some(m) => c.whole(&field("max"), m, 1)?,
        None => 10_000_000,
    };
    let dist = match t.dist.as_str() {
        "fixed" => {
            expect(&["value"])?;
            TokenDist::Fixed(
                c.whole(&field("value"), t.value.unwrap_or(0.0), 0)?
                    .min(max),
            )
        }
        "lognormal" => {
            expect(&["median", "p90"])?;
            let median = c.positive(&field("median"), t.median.unwrap_or(0.0))?;
            let p90 = c.positive(&field("p90"), t.p90.unwrap_or(0.0))?;
            if p90 < median {
                return Err(c.err(
                    field("p90"),
                    format!("must be >= median ({median}), got {p90}"),
                ));
            }
            TokenDist::lognormal(median, p90, max)
        }
        "exponential" => {
            expect(&["mean"])?;
            TokenDist::Exponential {
                mean: c.positive(&field("mean"), t.mean.unwrap_or(0.0))?,
                max,
            }
        }
        "empirical" => {
            expect(&["quantiles"])?;
            let q = t.quantiles.as_deref().unwrap_or(&[]);
            if q.len() < 2 {
                return Err(c.err(
                    field("quantiles"),
                    "needs at least two [percentile, tokens] points, from percentile 0 to 100",
                ));
            }
            let mut points = Vec::with_capacity(q.len());
            for (i, pair) in q.iter().enumerate() {
                let ip = format!("{}[{i}]", field("quantiles"));
                let [pct, v] = pair.as_slice() else {
                    return Err(c.err(
                        ip,
                        format!(
                            "must be a [percentile, tokens] pair, got {} number(s)",
                            pair.len()
                        ),
                    ));
                };
                c.range(&ip, *pct, 0.0, 100.0)?;
                c.range(&ip, *v, 0.0, f64::INFINITY)?;
                if let Some((lp, lv)) = points.last().copied() {
                    if *pct / 100.0 <= lp || *v < lv {
                        return Err(c.err(
                            ip,
                            "percentiles must rise strictly and token counts must not fall",
                        ));
                    }
                }
                points.push((*pct / 100.0, *v));
            }
            if points[0].0 != 0.0 || points[points.len() - 1].0 != 1.0 {
                return Err(c.err(
                    field("quantiles"),
                    "must start at percentile 0 and end at percentile 100",
                ));
            }
            TokenDist::Empirical { points, max }
        }
        other => {
            return Err(c.err(
                field("dist"),
                format!(
                    "unknown value \"{other}\"; allowed: fixed, lognormal, exponential, empirical"
                ),
            ))
        }
    };
    Ok(dist)
}

/// A class's prompt-caching shares: each 0..=1, together at most 1.
fn cache_shares(c: &Checker, p: &str, k: &RawClass) -> Result<(f64, f64), InputError> {
    let cached_input_share = c.range(
        &format!("{p}.cached_input_share"),
        k.cached_input_share.unwrap_or(0.0),
        0.0,
        1.0,
    )?;
    let cache_write_share = c.range(
        &format!("{p}.cache_write_share"),
        k.cache_write_share.unwrap_or(0.0),
        0.0,
        1.0,
    )?;
    if cached_input_share + cache_write_share > 1.0 {
        return Err(c.err(
            format!("{p}.cache_write_share"),
            format!(
                "cached_input_share + cache_write_share must be at most 1 (shares of the same input tokens), got {cached_input_share} + {cache_write_share}"
            ),
        ));
    }
    Ok((cached_input_share, cache_write_share))
}

/// The class's `routing` and `weights` (one per route entry).
fn routing(c: &Checker, p: &str, k: &RawClass, n: usize) -> Result<Routing, InputError> {
    let routing = match k.routing.as_deref().unwrap_or("ordered") {
        "ordered" => Routing::Ordered,
        "weighted" => {
            let Some(w) = &k.weights else {
                return Err(c.err(
                    format!("{p}.weights"),
                    format!(
                        "routing = \"weighted\" needs weights, one per route entry ({})",
                        n
                    ),
                ));
            };
            if w.len() != n {
                return Err(c.err(
                    format!("{p}.weights"),
                    format!("needs one weight per route entry ({}), got {}", n, w.len()),
                ));
            }
            for (j, x) in w.iter().enumerate() {
                c.range(&format!("{p}.weights[{j}]"), *x, 0.0, 1e9)?;
            }
            if w.iter().sum::<f64>() <= 0.0 {
                return Err(c.err(format!("{p}.weights"), "must not all be 0"));
            }
            Routing::Weighted(w.clone())
        }
        "cheapest" => Routing::Cheapest,
        "fastest" => Routing::Fastest,
        other => {
            return Err(c.err(
                format!("{p}.routing"),
                format!("unknown value \"{other}\"; allowed: ordered, weighted, cheapest, fastest"),
            ))
        }
    };
    if k.weights.is_some() && !matches!(routing, Routing::Weighted(_)) {
        return Err(c.err(
            format!("{p}.weights"),
            "only applies with routing = \"weighted\"",
        ));
    }
    Ok(routing)
}
