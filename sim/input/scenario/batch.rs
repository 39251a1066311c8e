//! Batch deployments (`[deployment.batch]`) and deferrable classes (`deferrable = true`):
//! taken out of the document before the rest is validated (so nothing else needs to know
//! them), checked here, and carried in `Scenario::batch_deployments` / `batch_classes`.

use crate::domain::limits::{MAX_EXPECTED_REQUESTS, MAX_HORIZON_HOURS};
use crate::domain::time::US_PER_HOUR;
use crate::domain::{BatchClass, BatchDeployment, Pool, Scenario};
use crate::error::InputError;
use crate::format::count;
use crate::input::document::Checker;

use super::class::{validate_arrivals, validate_tokens};
use super::raw::{RawBatch, RawClass, RawDeployment, RawScenario};
use super::validate::check_catalog;

/// Defaults where neither the scenario nor a catalog offering gives a value. The job caps
/// are OpenAI's (docs/model.md, section 10.2); the turnaround is an assumption.
pub const DEFAULT_WINDOW_HOURS: f64 = 24.0;
pub const DEFAULT_SUBMIT_EVERY_MINUTES: f64 = 60.0;
/// The longest interval between two submissions: a week.
pub const MAX_SUBMIT_EVERY_MINUTES: f64 = 7.0 * 24.0 * 60.0;
pub const DEFAULT_MAX_REQUESTS_PER_JOB: f64 = 50_000.0;
/// Assumption: OpenRouter's batch beta (230k+ batches over many providers) saw a median of
/// 7 minutes and 90% within an hour; the lognormal through those two points has a p99 of
/// about 5.8 hours. Vendors promise only the window.
pub const DEFAULT_TURNAROUND_MEDIAN_HOURS: f64 = 0.12;
pub const DEFAULT_TURNAROUND_P99_HOURS: f64 = 5.8;
/// The longest window accepted for a deployment outside the catalog: Bedrock's job timeout
/// goes up to 168 h; a month bounds a typed-in one.
pub const MAX_WINDOW_HOURS: f64 = 720.0;

/// The batch part of a scenario, taken out of the document with each entry's index there.
pub(super) struct Split {
    deployments: Vec<(usize, RawDeployment)>,
    classes: Vec<(usize, RawClass)>,
    /// Index in the document of each deployment / class left in it, in order.
    kept_deployments: Vec<usize>,
    kept_classes: Vec<usize>,
}

fn is_deferrable(k: &RawClass) -> bool {
    k.deferrable == Some(true)
}

/// Takes the batch deployments and deferrable classes out of `raw`, after checking that
/// deferrable classes route only to batch deployments and the others never do.
pub(super) fn split(c: &Checker, raw: &mut RawScenario) -> Result<Split, InputError> {
    let batch_names: Vec<&str> = (raw.deployment.iter())
        .filter(|d| d.batch.is_some())
        .map(|d| d.name.as_str())
        .collect();
    for (i, k) in raw.class.iter().enumerate() {
        let p = format!("class[{i}]");
        let deferrable = is_deferrable(k);
        if !deferrable && k.completion_sla_hours.is_some() {
            return Err(c.err(
                format!("{p}.completion_sla_hours"),
                "applies to deferrable classes only (deferrable = true, routed to a batch deployment); an interactive class has sla.ttft_ms",
            ));
        }
        if deferrable && k.route.len() != 1 {
            return Err(c.err(
                format!("{p}.route"),
                format!(
                    "a deferrable class goes to exactly one batch deployment, got {} entries",
                    k.route.len()
                ),
            ));
        }
        for (j, name) in k.route.iter().enumerate() {
            let batch = batch_names.contains(&name.as_str());
            if deferrable && !batch {
                return Err(c.err(
                    format!("{p}.route[{j}]"),
                    format!(
                        "the class is deferrable, but deployment \"{name}\" is not a batch deployment; batch deployments: {}",
                        if batch_names.is_empty() { "none (give a deployment a [deployment.batch] table)".to_string() } else { batch_names.join(", ") }
                    ),
                ));
            }
            if !deferrable && batch {
                return Err(c.err(
                    format!("{p}.route[{j}]"),
                    format!("deployment \"{name}\" is a batch deployment: it serves deferrable classes only (set deferrable = true, and no TTFT SLA, on a class that can wait for the completion window)"),
                ));
            }
        }
    }
    let (mut deployments, mut kept_deployments) = (Vec::new(), Vec::new());
    for (i, d) in std::mem::take(&mut raw.deployment).into_iter().enumerate() {
        if d.batch.is_some() {
            deployments.push((i, d));
        } else {
            kept_deployments.push(i);
            raw.deployment.push(d);
        }
    }
    let (mut classes, mut kept_classes) = (Vec::new(), Vec::new());
    for (i, k) in std::mem::take(&mut raw.class).into_iter().enumerate() {
        if is_deferrable(&k) {
            classes.push((i, k));
        } else {
            kept_classes.push(i);
            raw.class.push(k);
        }
    }
    if raw.class.is_empty() && !classes.is_empty() {
        return Err(c.err(
            "class",
            "every class is deferrable: a scenario needs at least one interactive class (not deferrable) besides them; llmcap does not yet run batch-only scenarios",
        ));
    }
    Ok(Split {
        deployments,
        classes,
        kept_deployments,
        kept_classes,
    })
}

impl Split {
    /// An error about the document without its batch part, with the indices of the whole
    /// document (`deployment[1]` there may be `deployment[2]` in the file).
    pub(super) fn reindex(&self, e: InputError) -> InputError {
        match e {
            InputError::Invalid {
                file,
                path,
                message,
            } => InputError::Invalid {
                file,
                path: self.reindex_path(&path),
                message,
            },
            InputError::Parse {
                file,
                line,
                column,
                path,
                message,
            } => InputError::Parse {
                file,
                line,
                column,
                path: self.reindex_path(&path),
                message,
            },
            other => other,
        }
    }

    fn reindex_path(&self, path: &str) -> String {
        for (table, kept) in [
            ("deployment[", &self.kept_deployments),
            ("class[", &self.kept_classes),
        ] {
            let Some(rest) = path.strip_prefix(table) else {
                continue;
            };
            let Some((n, tail)) = rest.split_once(']') else {
                continue;
            };
            if let Some(i) = n.parse::<usize>().ok().and_then(|n| kept.get(n)) {
                return format!("{table}{i}]{tail}");
            }
        }
        path.to_string()
    }
}

/// Checks the batch part and adds it to `sc`.
pub(super) fn attach(c: &Checker, split: Split, sc: &mut Scenario) -> Result<(), InputError> {
    for (i, d) in &split.deployments {
        let p = format!("deployment[{i}]");
        let taken = sc.deployments.iter().any(|x| x.name == d.name)
            || sc.batch_deployments.iter().any(|x| x.name == d.name);
        if taken {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate deployment name \"{}\"", d.name),
            ));
        }
        let b = deployment(c, &p, d)?;
        sc.batch_deployments.push(b);
    }
    for (i, k) in &split.classes {
        let p = format!("class[{i}]");
        if sc.classes.iter().any(|x| x.name == k.name)
            || sc.batch_classes.iter().any(|x| x.name == k.name)
        {
            return Err(c.err(
                format!("{p}.name"),
                format!("duplicate class name \"{}\"", k.name),
            ));
        }
        let b = class(c, &p, k, sc)?;
        let expected = sc.replications as f64
            * b.arrivals
                .expected_arrivals(sc.horizon_hours, sc.start_date);
        if expected > MAX_EXPECTED_REQUESTS {
            return Err(c.err(
                format!("{p}.arrivals"),
                format!(
                    "the class would send about {} requests ({} replication(s) of {} h); at most {} are allowed: lower the rate, the horizon or the replications",
                    count(expected),
                    sc.replications,
                    sc.horizon_hours,
                    count(MAX_EXPECTED_REQUESTS)
                ),
            ));
        }
        sc.batch_classes.push(b);
    }
    Ok(())
}

fn hours_to_us(h: f64) -> u64 {
    (h * US_PER_HOUR as f64).round() as u64
}

fn deployment(c: &Checker, p: &str, d: &RawDeployment) -> Result<BatchDeployment, InputError> {
    if d.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    check_catalog(c, p, d)?;
    let why = "a batch deployment takes jobs at the [deployment.batch] prices; it has no on-demand or reserved pool";
    c.unset(
        p,
        &[
            ("on_demand", d.on_demand.is_some()),
            ("reserved", d.reserved.is_some()),
            ("cooldown_s", d.cooldown_s.is_some()),
            ("retry_after_s", d.retry_after_s.is_some()),
            ("migrate_to", d.migrate_to.is_some()),
        ],
        why,
    )?;
    let Some(b) = &d.batch else {
        return Err(c.err(format!("{p}.batch"), "is missing"));
    };
    let p = format!("{p}.batch");
    let RawBatch {
        input_per_1m,
        output_per_1m,
        completion_window_hours,
        expires,
        submit_every_minutes,
        max_requests_per_job,
        min_requests_per_job,
        enqueued_tokens,
        turnaround_median_hours,
        turnaround_p99_hours,
    } = b;
    let price = |key: &str, v: Option<f64>| -> Result<f64, InputError> {
        match v {
            Some(v) => c.range(&format!("{p}.{key}"), v, 0.0, 1e4),
            None => Err(c.err(
                format!("{p}.{key}"),
                "is missing: USD per 1M tokens at batch prices (or an offering that sells batch)",
            )),
        }
    };
    let window = c.range(
        &format!("{p}.completion_window_hours"),
        completion_window_hours.unwrap_or(DEFAULT_WINDOW_HOURS),
        1.0,
        MAX_WINDOW_HOURS.min(MAX_HORIZON_HOURS),
    )?;
    let submit = c.range(
        &format!("{p}.submit_every_minutes"),
        submit_every_minutes.unwrap_or(DEFAULT_SUBMIT_EVERY_MINUTES),
        1.0,
        MAX_SUBMIT_EVERY_MINUTES,
    )?;
    let max_req = c.whole(
        &format!("{p}.max_requests_per_job"),
        max_requests_per_job.unwrap_or(DEFAULT_MAX_REQUESTS_PER_JOB),
        1,
    )?;
    let min_req = c.whole(
        &format!("{p}.min_requests_per_job"),
        min_requests_per_job.unwrap_or(1.0),
        1,
    )?;
    if min_req > max_req {
        return Err(c.err(
            format!("{p}.min_requests_per_job"),
            format!("must be at most max_requests_per_job ({max_req}), got {min_req}"),
        ));
    }
    let enqueued = enqueued_tokens
        .map(|v| c.range(&format!("{p}.enqueued_tokens"), v, 1.0, 1e15))
        .transpose()?;
    let median = c.range(
        &format!("{p}.turnaround_median_hours"),
        turnaround_median_hours.unwrap_or(DEFAULT_TURNAROUND_MEDIAN_HOURS),
        0.0,
        MAX_HORIZON_HOURS,
    )?;
    let p99 = c.range(
        &format!("{p}.turnaround_p99_hours"),
        turnaround_p99_hours.unwrap_or(if turnaround_median_hours.is_some() {
            median
        } else {
            DEFAULT_TURNAROUND_P99_HOURS
        }),
        0.0,
        MAX_HORIZON_HOURS,
    )?;
    if p99 < median || (median == 0.0 && p99 > 0.0) {
        return Err(c.err(
            format!("{p}.turnaround_p99_hours"),
            format!("must be >= turnaround_median_hours ({median}), and 0 when the median is 0; got {p99}"),
        ));
    }
    Ok(BatchDeployment {
        name: d.name.clone(),
        offering: d.offering.clone(),
        platform: d.platform.clone(),
        model: d.model.clone(),
        region: d.region.clone(),
        input_per_1m: price("input_per_1m", *input_per_1m)?,
        output_per_1m: price("output_per_1m", *output_per_1m)?,
        window_us: hours_to_us(window),
        expires: expires.unwrap_or(true),
        submit_every_us: hours_to_us(submit / 60.0),
        max_requests_per_job: max_req,
        min_requests_per_job: min_req,
        enqueued_tokens: enqueued.map(|v| v.round() as u64),
        turnaround_median_us: hours_to_us(median),
        turnaround_p99_us: hours_to_us(p99),
    })
}

fn class(c: &Checker, p: &str, k: &RawClass, sc: &Scenario) -> Result<BatchClass, InputError> {
    if k.name.is_empty() {
        return Err(c.err(format!("{p}.name"), "must not be empty"));
    }
    c.unset(
        p,
        &[
            ("sla", k.sla.is_some()),
            ("routing", k.routing.is_some()),
            ("weights", k.weights.is_some()),
            ("groups", k.groups.is_some()),
            ("orders", k.orders.is_some()),
            ("substitutes", k.substitutes.is_some()),
            ("cached_input_share", k.cached_input_share.is_some()),
            ("cache_write_share", k.cache_write_share.is_some()),
            ("max_tokens", k.max_tokens.is_some()),
        ],
        "does not apply to a deferrable class: it goes to one batch deployment, has a completion-time target (completion_sla_hours) instead of a TTFT SLA, llmcap does not model prompt caching on batch jobs, and batch deployments have no per-minute quota for max_tokens to count against",
    )?;
    if k.arrivals.trace.is_some() {
        return Err(c.err(
            format!("{p}.arrivals.trace"),
            "a deferrable class draws synthetic arrivals; replaying a trace into a batch deployment is not supported",
        ));
    }
    let name = &k.route[0];
    let deployment = (sc.batch_deployments.iter())
        .position(|d| &d.name == name)
        .ok_or_else(|| {
            c.err(
                format!("{p}.route[0]"),
                format!("unknown batch deployment \"{name}\""),
            )
        })?;
    let d = &sc.batch_deployments[deployment];
    if d.model != k.model {
        return Err(c.err(
            format!("{p}.route[0]"),
            format!(
                "batch deployment \"{name}\" serves model \"{}\", but the class needs \"{}\"",
                d.model, k.model
            ),
        ));
    }
    for key in k.tags.keys() {
        if key.is_empty() {
            return Err(c.err(format!("{p}.tags"), "tag names must not be empty"));
        }
    }
    let window_h = d.window_us as f64 / US_PER_HOUR as f64;
    let sla_h = match k.completion_sla_hours {
        Some(h) => c.range(
            &format!("{p}.completion_sla_hours"),
            h,
            0.0,
            MAX_HORIZON_HOURS,
        )?,
        None => window_h,
    };
    if sla_h <= 0.0 {
        return Err(c.err(
            format!("{p}.completion_sla_hours"),
            format!("must be greater than 0, got {sla_h}"),
        ));
    }
    let tokens = |key: &str, raw: &Option<super::raw::RawTokens>| match raw {
        Some(t) => validate_tokens(c, &format!("{p}.{key}"), t),
        None => Err(c.err(
            format!("{p}.{key}"),
            "is missing: give a token distribution",
        )),
    };
    let on_demand_alternative = (0..sc.deployments.len())
        .filter(|&i| {
            let x = &sc.deployments[i];
            x.model == k.model && matches!(x.pool, Pool::OnDemand(_))
        })
        .min_by_key(|&i| (sc.deployments[i].platform != d.platform, i));
    Ok(BatchClass {
        name: k.name.clone(),
        model: k.model.clone(),
        deployment,
        random_stream: k.random_stream.clone().unwrap_or_else(|| k.name.clone()),
        tags: k.tags.clone(),
        arrivals: validate_arrivals(c, &format!("{p}.arrivals"), &k.arrivals)?,
        input_tokens: tokens("input_tokens", &k.input_tokens)?,
        output_tokens: tokens("output_tokens", &k.output_tokens)?,
        completion_sla_us: hours_to_us(sla_h),
        on_demand_alternative,
    })
}
