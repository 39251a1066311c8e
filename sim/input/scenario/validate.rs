//! Validation of the scenario's gateway, outages, client, deployments and pools.

use std::collections::BTreeMap;

use crate::domain::limits::{MAX_HORIZON_HOURS, MAX_SLOTS, MAX_TRACKED_QUEUE};
use crate::domain::traffic::shape_profile;
use crate::domain::{
    known_term_hours, ClientPolicy, Cooldown, Deployment, Gateway, Jitter, Latency, LiteCooldown,
    LiteLlm, OnDemand, Outage, OutageEffect, OutageSchedule, Pool, Quota, Reserved, Strategy,
    HOURLY, KNOWN_TERMS, RESERVATION_SPLIT_PLATFORMS, STRATEGIES,
};
use crate::error::InputError;
use crate::input::document::{ms_to_us, Checker};
use crate::input::scenario::raw::{
    RawClient, RawDeployment, RawGateway, RawOnDemand, RawOutage, RawReserved,
};

pub(super) fn validate_gateway(c: &Checker, g: Option<&RawGateway>) -> Result<Gateway, InputError> {
    let Some(g) = g else {
        return Ok(Gateway::default());
    };
    let latency_us = ms_to_us(c.range(
        "gateway.latency_ms",
        g.latency_ms.unwrap_or(0.0),
        0.0,
        3.6e6,
    )?);
    let router = match g.router.as_deref() {
        None => 0,
        Some(r) => c.one_of("gateway.router", r, &["walk", "litellm", "portkey"])?,
    };
    if router == 1 {
        return Ok(Gateway {
            latency_us,
            cooldown: None,
            litellm: Some(validate_litellm(c, g)?),
            portkey: false,
        });
    }
    if router == 2 {
        // Portkey has no cooldown (its circuit breaker, cb_config, is not in the open-source
        // gateway's routing); retries and timeouts are per target, in [class.portkey].
        c.unset(
            "gateway",
            &[
                ("cooldown_failures", g.cooldown_failures.is_some()),
                ("cooldown_window_s", g.cooldown_window_s.is_some()),
                ("cooldown_s", g.cooldown_s.is_some()),
            ],
            "does not apply with router = \"portkey\" (Portkey does not cool targets)",
        )?;
    }
    c.unset(
        "gateway",
        &[
            ("strategy", g.strategy.is_some()),
            ("num_retries", g.num_retries.is_some()),
            ("retry_after_s", g.retry_after_s.is_some()),
            ("timeout_s", g.timeout_s.is_some()),
            ("cooldown", g.cooldown.is_some()),
            ("allowed_fails", g.allowed_fails.is_some()),
            ("allowed_fails_rate_limit", g.allowed_fails_rate_limit.is_some()),
            ("allowed_fails_error", g.allowed_fails_error.is_some()),
            ("allowed_fails_timeout", g.allowed_fails_timeout.is_some()),
            ("pre_call_checks", g.pre_call_checks.is_some()),
        ],
        if router == 2 {
            "only applies with router = \"litellm\" (with router = \"portkey\", retries and timeouts are in each class's [class.portkey])"
        } else {
            "only applies with router = \"litellm\" (the route walk uses cooldown_failures / cooldown_window_s / cooldown_s and [client])"
        },
    )?;
    let cooldown = match (g.cooldown_failures, g.cooldown_window_s, g.cooldown_s) {
        (None, None, None) => None,
        (Some(f), w, d) => Some(Cooldown {
            failures: c.whole("gateway.cooldown_failures", f, 1)?,
            window_us: ms_to_us(1000.0 * c.range("gateway.cooldown_window_s", w.unwrap_or(60.0), 0.001, 86_400.0)?),
            duration_us: ms_to_us(1000.0 * c.range("gateway.cooldown_s", d.unwrap_or(60.0), 0.001, 86_400.0)?),
        }),
        (None, _, _) => {
            return Err(c.err(
                "gateway.cooldown_failures",
                "is needed with cooldown_window_s / cooldown_s: the failures within the window that start a cooldown",
            ))
        }
    };
    Ok(Gateway {
        latency_us,
        cooldown,
        litellm: None,
        portkey: router == 2,
    })
}

/// `[gateway]` with `router = "litellm"`; defaults are LiteLLM's (litellm/constants.py).
fn validate_litellm(c: &Checker, g: &RawGateway) -> Result<LiteLlm, InputError> {
    c.unset(
        "gateway",
        &[
            ("cooldown_failures", g.cooldown_failures.is_some()),
            ("cooldown_window_s", g.cooldown_window_s.is_some()),
        ],
        "is the route walk's count rule; with router = \"litellm\" use cooldown = \"count\" and allowed_fails",
    )?;
    let strategy = match g.strategy.as_deref() {
        None => Strategy::SimpleShuffle,
        Some(s) => [
            Strategy::SimpleShuffle,
            Strategy::LeastBusy,
            Strategy::UsageBased,
            Strategy::LatencyBased,
            Strategy::CostBased,
        ][c.one_of("gateway.strategy", s, STRATEGIES)?],
    };
    let num_retries = match g.num_retries {
        Some(x) => c.whole(
            "gateway.num_retries",
            c.range("gateway.num_retries", x, 0.0, 100.0)?,
            0,
        )?,
        None => 2,
    };
    let secs = |key: &str, v: f64, lo: f64| -> Result<u64, InputError> {
        Ok(ms_to_us(
            1000.0 * c.range(&format!("gateway.{key}"), v, lo, 86_400.0)?,
        ))
    };
    let retry_after_us = secs("retry_after_s", g.retry_after_s.unwrap_or(0.0), 0.0)?;
    let timeout_us = g
        .timeout_s
        .map(|t| secs("timeout_s", t, 0.001))
        .transpose()?;
    let cooldown_us = secs("cooldown_s", g.cooldown_s.unwrap_or(5.0), 0.0)?;
    let policy = [
        ("allowed_fails_rate_limit", g.allowed_fails_rate_limit),
        ("allowed_fails_error", g.allowed_fails_error),
        ("allowed_fails_timeout", g.allowed_fails_timeout),
    ];
    let counted = g.allowed_fails.is_some() || policy.iter().any(|(_, v)| v.is_some());
    let rule = match g.cooldown.as_deref() {
        None if counted => 1,
        None => 0,
        Some(r) => c.one_of("gateway.cooldown", r, &["default", "count", "off"])?,
    };
    if rule != 1 && counted {
        return Err(c.err(
            "gateway.allowed_fails",
            "applies with cooldown = \"count\" only (LiteLLM uses the count rule whenever allowed_fails or allowed_fails_policy is set)",
        ));
    }
    let cooldown = match rule {
        0 => LiteCooldown::Default,
        1 => {
            let base = match g.allowed_fails {
                Some(x) => c.whole(
                    "gateway.allowed_fails",
                    c.range("gateway.allowed_fails", x, 0.0, 1e6)?,
                    0,
                )?,
                None => 3,
            };
            let mut n = [base; 3];
            for (i, (key, v)) in policy.iter().enumerate() {
                if let Some(x) = v {
                    let path = format!("gateway.{key}");
                    n[i] = c.whole(&path, c.range(&path, *x, 0.0, 1e6)?, 0)?;
                }
            }
            LiteCooldown::Count(n)
        }
        _ => LiteCooldown::Off,
    };
    Ok(LiteLlm {
        strategy,
        num_retries,
        retry_after_us,
        timeout_us,
        cooldown,
        cooldown_us,
        pre_call_checks: g.pre_call_checks.unwrap_or(false),
    })
}

pub(super) fn validate_outage(
    c: &Checker,
    p: &str,
    i: usize,
    o: &RawOutage,
    deployments: &[Deployment],
    horizon_hours: f64,
) -> Result<Outage, InputError> {
    let name = o
        .name
        .clone()
        .unwrap_or_else(|| format!("outage {}", i + 1));
    let targets: Vec<usize> = match (&o.deployments, &o.platform) {
        (Some(names), None) => {
            if names.is_empty() {
                return Err(c.err(format!("{p}.deployments"), "must name at least one deployment"));
            }
            let mut v = Vec::new();
            for (j, n) in names.iter().enumerate() {
                let Some(d) = deployments.iter().position(|d| &d.name == n) else {
                    let known: Vec<&str> = deployments.iter().map(|d| d.name.as_str()).collect();
                    return Err(c.err(
                        format!("{p}.deployments[{j}]"),
                        format!("unknown deployment \"{n}\"; defined deployments: {}", known.join(", ")),
                    ));
                };
                v.push(d);
            }
            v
        }
        (None, Some(platform)) => {
            let v: Vec<usize> = (0..deployments.len())
                .filter(|&d| {
                    deployments[d].platform == *platform
                        && o.region.as_ref().is_none_or(|r| deployments[d].region.as_ref() == Some(r))
                })
                .collect();
            if v.is_empty() {
                return Err(c.err(
                    format!("{p}.platform"),
                    format!(
                        "no deployment is on platform \"{platform}\"{}",
                        o.region.as_ref().map(|r| format!(" in region \"{r}\"")).unwrap_or_default()
                    ),
                ));
            }
            v
        }
        _ => {
            return Err(c.err(
                p,
                "name the deployments it hits: deployments = [\"...\"], or platform = \"...\" (with an optional region), not both",
            ))
        }
    };
    if o.region.is_some() && o.platform.is_none() {
        return Err(c.err(format!("{p}.region"), "needs platform"));
    }
    let schedule = match (o.start_hour, o.duration_hours, o.mtbf_hours, o.mttr_hours) {
        (Some(s), Some(d), None, None) => {
            let s = c.range(&format!("{p}.start_hour"), s, 0.0, horizon_hours)?;
            let d = c.range(&format!("{p}.duration_hours"), d, 0.0, MAX_HORIZON_HOURS)?;
            let start_us = ms_to_us(s * 3.6e6);
            OutageSchedule::Window {
                start_us,
                end_us: start_us + ms_to_us(d * 3.6e6),
            }
        }
        (None, None, Some(f), Some(r)) => OutageSchedule::Random {
            mtbf_us: c.range(&format!("{p}.mtbf_hours"), f, 0.001, 1e7)? * 3.6e9,
            mttr_us: c.range(&format!("{p}.mttr_hours"), r, 0.0001, 1e6)? * 3.6e9,
        },
        _ => {
            return Err(c.err(
                p,
                "needs either start_hour and duration_hours (a scheduled window) or mtbf_hours and mttr_hours (random outages), not both",
            ))
        }
    };
    let effect = match o.effect.as_deref().unwrap_or("full") {
        "full" => {
            if o.latency_factor.is_some() || o.error_rate.is_some() {
                return Err(c.err(
                    format!("{p}.effect"),
                    "latency_factor and error_rate belong to effect = \"partial\"; a full outage answers every request with an error",
                ));
            }
            OutageEffect::Full
        }
        "partial" => {
            let latency_factor = c.range(
                &format!("{p}.latency_factor"),
                o.latency_factor.unwrap_or(1.0),
                1.0,
                1000.0,
            )?;
            let error_rate = c.range(
                &format!("{p}.error_rate"),
                o.error_rate.unwrap_or(0.0),
                0.0,
                1.0,
            )?;
            if latency_factor == 1.0 && error_rate == 0.0 {
                return Err(c.err(
                    p,
                    "a partial outage needs latency_factor > 1 or error_rate > 0 (otherwise it changes nothing)",
                ));
            }
            OutageEffect::Partial {
                latency_factor,
                error_rate,
            }
        }
        other => {
            return Err(c.err(
                format!("{p}.effect"),
                format!("unknown value \"{other}\"; allowed: full, partial"),
            ))
        }
    };
    Ok(Outage {
        name,
        deployments: targets,
        schedule,
        effect,
    })
}

pub(super) fn validate_client(c: &Checker, r: RawClient) -> Result<ClientPolicy, InputError> {
    let max_attempts = r.max_attempts.unwrap_or(3);
    if !(1..=100).contains(&max_attempts) {
        return Err(c.err(
            "client.max_attempts",
            format!("must be from 1 to 100 (1 = no retries), got {max_attempts}"),
        ));
    }
    let base = c.range(
        "client.backoff_base_ms",
        r.backoff_base_ms.unwrap_or(500.0),
        0.0,
        3.6e6,
    )?;
    let max = c.range(
        "client.backoff_max_ms",
        r.backoff_max_ms.unwrap_or(8000.0),
        0.0,
        3.6e6,
    )?;
    if max < base {
        return Err(c.err(
            "client.backoff_max_ms",
            format!("must be >= client.backoff_base_ms ({base}), got {max}"),
        ));
    }
    let jitter = match r.jitter.as_deref().unwrap_or("full") {
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "none" => Jitter::None,
        other => {
            return Err(c.err(
                "client.jitter",
                format!("unknown value \"{other}\"; allowed: full, equal, none"),
            ))
        }
    };
    let timeout_us = match r.timeout_ms {
        Some(t) => Some(ms_to_us(c.positive("client.timeout_ms", t)?)),
        None => None,
    };
    Ok(ClientPolicy {
        max_attempts,
        backoff_base_us: ms_to_us(base),
        backoff_max_us: ms_to_us(max),
        jitter,
        timeout_us,
    })
}

pub(super) fn validate_deployment(
    c: &Checker,
    p: &str,
    d: &RawDeployment,
) -> Result<Deployment, InputError> {
    if d.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    check_catalog(c, p, d)?;
    let Some(l) = &d.latency else {
        return Err(c.err(
            format!("{p}.latency"),
            "is missing: give median_ms and p99_ms (or an offering that has them)",
        ));
    };
    let median_ms = c.range(&format!("{p}.latency.median_ms"), l.median_ms, 0.0, 3.6e6)?;
    let p99_ms = c.range(&format!("{p}.latency.p99_ms"), l.p99_ms, 0.0, 3.6e6)?;
    if p99_ms < median_ms || (median_ms == 0.0 && p99_ms > 0.0) {
        return Err(c.err(
            format!("{p}.latency.p99_ms"),
            format!("must be >= latency.median_ms ({median_ms}), and 0 when the median is 0; got {p99_ms}"),
        ));
    }
    let prefill = c.range(
        &format!("{p}.latency.prefill_ms_per_1k_input"),
        l.prefill_ms_per_1k_input,
        0.0,
        1e5,
    )?;
    let load_slows_base = match &l.load_slows {
        None => false,
        Some(v) => c.one_of(&format!("{p}.latency.load_slows"), v, &["prefill", "all"])? == 1,
    };
    let latency = Latency {
        median_ms,
        p99_ms,
        prefill_ms_per_1k_input: prefill,
        load_slows_base,
    };
    let pool = match (&d.on_demand, &d.reserved) {
        (Some(o), None) => {
            let mut od = validate_on_demand(c, &format!("{p}.on_demand"), o)?;
            if let Some(r) = &d.reserved_rate {
                od.reserved_rate = Some(Box::new(super::reserved_rate::validate_reserved_rate(
                    c,
                    &format!("{p}.reserved_rate"),
                    r,
                )?));
            }
            Pool::OnDemand(od)
        }
        (None, Some(r)) => {
            let res = validate_reserved(c, &format!("{p}.reserved"), r)?;
            if res.overage_units() > 0
                && !RESERVATION_SPLIT_PLATFORMS.contains(&d.platform.as_str())
            {
                return Err(c.err(
                    format!("{p}.reserved.reserved_units"),
                    format!(
                        "platform \"{}\" bills its commitment on the units bought; only {} sell reservations apart from deployments (units deployed beyond the reservation billed hourly): leave reserved_units out",
                        d.platform,
                        RESERVATION_SPLIT_PLATFORMS.join(", ")
                    ),
                ));
            }
            if d.reserved_rate.is_some() {
                return Err(c.err(
                    format!("{p}.reserved_rate"),
                    "a token-rate reservation overflows to the on-demand tier of its deployment: give it with [deployment.on_demand] (the list prices and quotas of the overflow), not with [deployment.reserved] units",
                ));
            }
            Pool::Reserved(res)
        }
        _ => {
            return Err(c.err(
                p,
                "must have exactly one of [deployment.on_demand] or [deployment.reserved]",
            ))
        }
    };
    Ok(Deployment {
        name: d.name.clone(),
        offering: d.offering.clone(),
        platform: d.platform.clone(),
        model: d.model.clone(),
        region: d.region.clone(),
        latency,
        pool,
        cooldown_us: d
            .cooldown_s
            .map(|x| c.range(&format!("{p}.cooldown_s"), x, 0.0, 86_400.0))
            .transpose()?
            .map(|x| ms_to_us(1000.0 * x)),
        retry_after_us: d
            .retry_after_s
            .map(|x| c.range(&format!("{p}.retry_after_s"), x, 0.0, 3600.0))
            .transpose()?
            .map(|x| ms_to_us(1000.0 * x)),
        price_changes: Vec::new(),
    })
}

/// A deployment on a catalog platform must use a model that platform sells;
/// platform "custom" is outside the catalog and unchecked.
pub(super) fn check_catalog(c: &Checker, p: &str, d: &RawDeployment) -> Result<(), InputError> {
    use crate::input::catalog::{Catalog, CUSTOM_PLATFORM};
    if d.platform == CUSTOM_PLATFORM {
        return Ok(());
    }
    let cat = Catalog::shipped();
    if cat.platform(&d.platform).is_none() {
        return Err(c.err(
            format!("{p}.platform"),
            format!(
                "unknown platform \"{}\"; the catalog has: {}, or \"{CUSTOM_PLATFORM}\" for a platform outside it",
                d.platform,
                cat.platform_ids().join(", ")
            ),
        ));
    }
    let models = cat.models_of(&d.platform);
    if !models.contains(&d.model.as_str()) {
        return Err(c.err(
            format!("{p}.model"),
            format!(
                "platform \"{}\" does not sell model \"{}\" (catalog); it sells: {}. Use platform = \"{CUSTOM_PLATFORM}\" for a model outside the catalog",
                d.platform,
                d.model,
                models.join(", ")
            ),
        ));
    }
    Ok(())
}

fn validate_on_demand(c: &Checker, p: &str, o: &RawOnDemand) -> Result<OnDemand, InputError> {
    let inf = f64::INFINITY;
    let input_per_1m = c.range(&format!("{p}.input_per_1m"), o.input_per_1m, 0.0, inf)?;
    let output_per_1m = c.range(&format!("{p}.output_per_1m"), o.output_per_1m, 0.0, inf)?;
    let cached_input_per_1m = c.range(
        &format!("{p}.cached_input_per_1m"),
        o.cached_input_per_1m.unwrap_or(input_per_1m),
        0.0,
        inf,
    )?;
    let cache_write_per_1m = c.range(
        &format!("{p}.cache_write_per_1m"),
        o.cache_write_per_1m.unwrap_or(input_per_1m),
        0.0,
        inf,
    )?;
    // A bucket smaller than one request would refuse everything.
    let rpm = o
        .rpm
        .map(|v| c.range(&format!("{p}.rpm"), v, 1.0, f64::INFINITY))
        .transpose()?;
    let tpm = o
        .tpm
        .map(|v| c.positive(&format!("{p}.tpm"), v))
        .transpose()?;
    let quota = quota(c, p, o, tpm)?;
    let bg_mean = c.range(
        &format!("{p}.background_utilization"),
        o.background_utilization.unwrap_or(0.0),
        0.0,
        1.0,
    )?;
    let max_util = c.range(
        &format!("{p}.max_pool_utilization"),
        o.max_pool_utilization.unwrap_or(0.95),
        0.0,
        0.999,
    )?;
    // Without a pool size the pool is taken as far larger than your traffic.
    let shared_pool_tpm = match o.shared_pool_tpm {
        Some(v) => c.positive(&format!("{p}.shared_pool_tpm"), v)?,
        None => inf,
    };
    let shape = profile(
        c,
        p,
        ("background_hourly", &o.background_hourly),
        ("background_peak_hour", o.background_peak_hour),
        ("background_peak_to_trough", o.background_peak_to_trough),
    )?;
    let background = std::array::from_fn(|h| (shape[h] * bg_mean).min(max_util));
    Ok(OnDemand {
        input_per_1m,
        output_per_1m,
        cached_input_per_1m,
        cache_write_per_1m,
        rpm,
        tpm,
        quota,
        shared_pool_tpm,
        background,
        max_pool_utilization: max_util,
        reserved_rate: None,
    })
}

/// `on_demand.quota` and the keys of its shape; a shape's key on another shape is an error.
fn quota(c: &Checker, p: &str, o: &RawOnDemand, tpm: Option<f64>) -> Result<Quota, InputError> {
    let name = o.quota.as_deref().unwrap_or("bucket");
    if name == "vendor" {
        return Err(c.err(
            format!("{p}.quota"),
            format!(
                "\"vendor\" takes the shape from the deployment's catalog offering, and this deployment has none; allowed here: {}",
                Quota::NAMES.join(", ")
            ),
        ));
    }
    let shape = c.one_of(&format!("{p}.quota"), name, &Quota::NAMES)?;
    let keys = [
        ("rpm_window_s", o.rpm_window_s.is_some(), "azure"),
        ("itpm", o.itpm.is_some(), "anthropic"),
        ("otpm", o.otpm.is_some(), "anthropic"),
        (
            "itpm_cache_reads",
            o.itpm_cache_reads.is_some(),
            "anthropic",
        ),
        ("output_burndown", o.output_burndown.is_some(), "bedrock"),
    ];
    for (key, set, owner) in keys {
        if set && name != owner {
            return Err(c.err(
                format!("{p}.{key}"),
                format!(
                    "applies to quota = \"{owner}\" only (this deployment's quota is \"{name}\")"
                ),
            ));
        }
    }
    Ok(match shape {
        1 => {
            let at = format!("{p}.rpm_window_s");
            let w = o.rpm_window_s.unwrap_or(DEFAULT_RPM_WINDOW_S as f64);
            if !(w.is_finite() && w.fract() == 0.0 && (1.0..=60.0).contains(&w) && 60.0 % w == 0.0)
            {
                return Err(c.err(
                    at,
                    format!("must be a whole number of seconds dividing a minute (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60; Azure documents 1 or 10), got {w}"),
                ));
            }
            Quota::Azure {
                rpm_window_s: w as u32,
            }
        }
        2 => {
            if tpm.is_some() {
                return Err(c.err(
                    format!("{p}.tpm"),
                    "does not apply to quota = \"anthropic\", which limits input and output tokens separately: give itpm and otpm instead",
                ));
            }
            let limit = |key: &str, v: Option<f64>| {
                v.map(|v| c.range(&format!("{p}.{key}"), v, 1.0, 1e12))
                    .transpose()
            };
            Quota::Anthropic {
                itpm: limit("itpm", o.itpm)?,
                otpm: limit("otpm", o.otpm)?,
                itpm_cache_reads: o.itpm_cache_reads.unwrap_or(false),
            }
        }
        3 => Quota::Bedrock {
            output_burndown: c.range(
                &format!("{p}.output_burndown"),
                o.output_burndown.unwrap_or(1.0),
                1.0,
                100.0,
            )?,
        },
        4 => Quota::Vertex,
        _ => Quota::Bucket,
    })
}

/// Azure's RPM evaluation window when the scenario does not give one: the catalog's Azure
/// quota tables write some request limits per 10 seconds ("300 / 10s"), and Microsoft Learn says
/// "typically 1 or 10 seconds"; the longer of the two is the more lenient (an assumption).
const DEFAULT_RPM_WINDOW_S: u32 = 10;

/// An hour-of-day profile given as 24 multipliers, as a peak/trough shape, or flat.
pub(super) fn profile(
    c: &Checker,
    p: &str,
    hourly: (&str, &Option<Vec<f64>>),
    peak_hour: (&str, Option<f64>),
    ratio: (&str, Option<f64>),
) -> Result<[f64; 24], InputError> {
    match (hourly.1, peak_hour.1, ratio.1) {
        (Some(v), None, None) => c.hourly(&format!("{p}.{}", hourly.0), v),
        (None, peak, Some(r)) => {
            let r = c.range(&format!("{p}.{}", ratio.0), r, 1.0, 1e6)?;
            let peak = c.range(
                &format!("{p}.{}", peak_hour.0),
                peak.unwrap_or(14.0),
                0.0,
                23.999,
            )?;
            Ok(shape_profile(peak, r))
        }
        (None, Some(_), None) => Err(c.err(
            format!("{p}.{}", ratio.0),
            format!(
                "is needed with {} (the peak-to-trough ratio, >= 1)",
                peak_hour.0
            ),
        )),
        (None, None, None) => Ok([1.0; 24]),
        (Some(_), _, _) => Err(c.err(
            format!("{p}.{}", hourly.0),
            format!(
                "give either {} or {} with {}, not both",
                hourly.0, peak_hour.0, ratio.0
            ),
        )),
    }
}

fn validate_reserved(c: &Checker, p: &str, r: &RawReserved) -> Result<Reserved, InputError> {
    let units = c.whole(&format!("{p}.units"), r.units, 1)?;
    let min_units = c.whole(&format!("{p}.min_units"), r.min_units.unwrap_or(1.0), 1)?;
    let unit_step = c.whole(&format!("{p}.unit_step"), r.unit_step.unwrap_or(1.0), 1)?;
    if units < min_units || (units - min_units) % unit_step != 0 {
        return Err(c.err(
            format!("{p}.units"),
            format!(
                "must be a number of units the vendor sells: min_units = {min_units} plus a multiple of unit_step = {unit_step} (e.g. {}, {}, {}), got {units}",
                min_units,
                min_units + unit_step,
                min_units + 2 * unit_step
            ),
        ));
    }
    let tpm_per_unit = c.range(&format!("{p}.tpm_per_unit"), r.tpm_per_unit, 1.0, 1e12)?;
    let output_weight = c.range(
        &format!("{p}.output_weight"),
        r.output_weight.unwrap_or(1.0),
        0.0,
        1e3,
    )?;
    let cached_input_weight = c.range(
        &format!("{p}.cached_input_weight"),
        r.cached_input_weight.unwrap_or(1.0),
        0.0,
        1.0,
    )?;
    let concurrency_per_unit = c.whole(
        &format!("{p}.concurrency_per_unit"),
        r.concurrency_per_unit.unwrap_or(1.0),
        1,
    )?;
    if units as u64 * concurrency_per_unit as u64 > MAX_SLOTS {
        return Err(c.err(
            format!("{p}.concurrency_per_unit"),
            "units x concurrency_per_unit must be at most 10,000,000 slots",
        ));
    }
    let term_hours = validate_terms(c, p, r)?;
    let reserved_units = validate_reserved_units(c, p, r, units, &term_hours)?;
    let max_queue = r
        .max_queue
        .map(|v| {
            let q = c.whole(&format!("{p}.max_queue"), v, 0)?;
            if q as usize > MAX_TRACKED_QUEUE {
                return Err(c.err(
                    format!("{p}.max_queue"),
                    format!(
                        "must be at most {} requests (leave it out for no bound), got {q}",
                        MAX_TRACKED_QUEUE
                    ),
                ));
            }
            Ok(q)
        })
        .transpose()?;
    let max_wait_us = r
        .max_wait_ms
        .map(|v| {
            c.range(&format!("{p}.max_wait_ms"), v, 0.0, 3.6e6)
                .map(ms_to_us)
        })
        .transpose()?;
    Ok(Reserved {
        units,
        reserved_units,
        min_units,
        unit_step,
        tpm_per_unit,
        output_weight,
        cached_input_weight,
        concurrency_per_unit,
        term: r.term.clone(),
        price_per_unit_hour: r.price_per_unit_hour.clone(),
        term_hours,
        max_queue,
        max_wait_us,
    })
}

/// `reserved_units`: at most `units` (a reservation beyond the deployment is not a deployment
/// llmcap can run), and below it only on a committed term with an `hourly` price for the rest.
fn validate_reserved_units(
    c: &Checker,
    p: &str,
    r: &RawReserved,
    units: u32,
    term_hours: &BTreeMap<String, f64>,
) -> Result<u32, InputError> {
    let Some(v) = r.reserved_units else {
        return Ok(units);
    };
    let kp = format!("{p}.reserved_units");
    let reserved = c.whole(&kp, v, 0)?;
    if reserved > units {
        return Err(c.err(
            kp,
            format!(
                "must be at most units = {units} (the units deployed; a reservation covers deployed units only), got {reserved}"
            ),
        ));
    }
    if reserved < units {
        if term_hours.get(&r.term).copied().unwrap_or(0.0) == 0.0 {
            return Err(c.err(
                kp,
                format!(
                    "term \"{}\" commits to nothing, so there is no reservation to cover part of the units: choose a committed term or leave reserved_units out",
                    r.term
                ),
            ));
        }
        if !r.price_per_unit_hour.contains_key(HOURLY) {
            return Err(c.err(
                kp,
                format!(
                    "{} units deployed beyond the reservation are billed at the hourly price: give price_per_unit_hour.hourly",
                    units - reserved
                ),
            ));
        }
    }
    Ok(reserved)
}

/// The longest commitment a term may state: ten years (vendors sell at most three).
const MAX_TERM_HOURS: f64 = 87_600.0;

/// The priced terms and the hours each commits to: every term has a price (at least the chosen
/// one) and its hours, from `term_hours` or, for the terms llmcap always knew, from
/// [`KNOWN_TERMS`](crate::domain::KNOWN_TERMS).
fn validate_terms(
    c: &Checker,
    p: &str,
    r: &RawReserved,
) -> Result<BTreeMap<String, f64>, InputError> {
    let priced =
        |prices: &BTreeMap<String, f64>| prices.keys().cloned().collect::<Vec<_>>().join(", ");
    if r.price_per_unit_hour.is_empty() {
        return Err(c.err(
            format!("{p}.price_per_unit_hour"),
            format!(
                "must give a price per unit-hour for at least the chosen term \"{}\"",
                r.term
            ),
        ));
    }
    let given = r.term_hours.clone().unwrap_or_default();
    for (term, hours) in &given {
        let kp = format!("{p}.term_hours.{term}");
        c.range(&kp, *hours, 0.0, MAX_TERM_HOURS)?;
        if !r.price_per_unit_hour.contains_key(term) {
            return Err(c.err(
                kp,
                format!(
                    "term \"{term}\" has no price in price_per_unit_hour (it prices: {})",
                    priced(&r.price_per_unit_hour)
                ),
            ));
        }
    }
    let mut hours = BTreeMap::new();
    for (term, price) in &r.price_per_unit_hour {
        let kp = format!("{p}.price_per_unit_hour.{term}");
        if term.is_empty() || term.chars().any(char::is_whitespace) {
            return Err(c.err(
                kp,
                "a term name is one word (e.g. monthly, 1-week, 3-month)",
            ));
        }
        c.range(&kp, *price, 0.0, f64::INFINITY)?;
        let Some(h) = given.get(term).copied().or_else(|| known_term_hours(term)) else {
            return Err(c.err(
                kp,
                format!(
                    "\"{term}\" is not a term llmcap knows ({}): give the hours it commits to in term_hours, e.g. term_hours = {{ \"{term}\" = 168 }} (0 = no commitment)",
                    KNOWN_TERMS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        hours.insert(term.clone(), h);
    }
    if !r.price_per_unit_hour.contains_key(&r.term) {
        return Err(c.err(
            format!("{p}.term"),
            format!(
                "\"{}\" has no price in price_per_unit_hour (it prices: {})",
                r.term,
                priced(&r.price_per_unit_hour)
            ),
        ));
    }
    Ok(hours)
}
