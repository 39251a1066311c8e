//! CSV tables. Each function turns results into bytes and does no I/O.
//! Values per hour are means per replication.

use crate::analysis::batch::BatchResults;
use crate::analysis::cost::{bin_cost, bin_utilization};
use crate::domain::{Pool, Scenario, WEEKDAYS};
use crate::error::OutputError;
use crate::format::{fixed, fixed_opt};
use crate::model::batch::BatchHour;
use crate::model::metrics::{Bins, Hist, RepMetrics};
use crate::report::summary::{Percentile, Summary};

pub(crate) fn finish(w: csv::Writer<Vec<u8>>, what: &'static str) -> Result<Vec<u8>, OutputError> {
    w.into_inner().map_err(|e| OutputError::Encode {
        what,
        message: e.to_string(),
    })
}

pub(crate) fn row<I, T>(
    w: &mut csv::Writer<Vec<u8>>,
    what: &'static str,
    record: I,
) -> Result<(), OutputError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    w.write_record(record).map_err(|e| OutputError::Encode {
        what,
        message: e.to_string(),
    })
}

/// `ttft_percentiles.csv`: overall, per class and per deployment.
pub fn ttft_percentiles(summary: &Summary) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "ttft_percentiles.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(
        &mut w,
        WHAT,
        [
            "scope",
            "name",
            "percentile",
            "pooled_ms",
            "mean_ms",
            "ci95_low_ms",
            "ci95_high_ms",
            "replications",
        ],
    )?;
    let mut emit = |scope: &str, name: &str, ps: &[Percentile]| -> Result<(), OutputError> {
        for p in ps {
            let r = p.replications;
            row(
                &mut w,
                WHAT,
                [
                    scope.to_string(),
                    name.to_string(),
                    fixed(p.percentile, 3),
                    fixed_opt(p.pooled, 3),
                    fixed_opt(r.map(|r| r.mean), 3),
                    fixed_opt(r.map(|r| r.ci95_low), 3),
                    fixed_opt(r.map(|r| r.ci95_high), 3),
                    r.map(|r| r.n.to_string()).unwrap_or_else(|| "0".into()),
                ],
            )?;
        }
        Ok(())
    };
    emit("overall", "all", &summary.ttft_ms)?;
    for c in &summary.classes {
        emit("class", &c.name, &c.ttft_ms)?;
    }
    for d in &summary.deployments {
        emit("deployment", &d.name, &d.ttft_ms)?;
    }
    finish(w, WHAT)
}

/// Points of an empirical CDF on a log-spaced TTFT grid (pooled histogram).
pub fn cdf_points(h: &Hist, points: usize) -> Vec<(f64, f64)> {
    let (Some(lo), Some(hi)) = (h.percentile_ms(0.0), h.max_ms()) else {
        return Vec::new();
    };
    let lo = lo.max(0.001);
    let hi = hi.max(lo * 1.0001);
    let (llo, lhi) = (lo.ln(), hi.ln());
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points);
    for i in 0..points {
        let ms = (llo + (lhi - llo) * i as f64 / (points - 1) as f64).exp();
        let f = h.fraction_at_or_below_ms(ms);
        if out.last().is_none_or(|&(_, pf)| f > pf) || i == points - 1 {
            out.push((ms, f));
        }
    }
    out
}

/// One empirical TTFT CDF: (ttft_ms, cumulative fraction) points.
pub struct CdfCurve {
    /// "overall", "class" or "deployment".
    pub scope: &'static str,
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// The CDF curves written to `ttft_cdf.csv` and drawn in `ttft_cdf.png`:
/// overall, per class, per deployment.
pub fn cdf_series(sc: &Scenario, pooled: &RepMetrics) -> Vec<CdfCurve> {
    const POINTS: usize = 200;
    let curve = |scope, name: &str, h: &Hist| CdfCurve {
        scope,
        name: name.to_string(),
        points: cdf_points(h, POINTS),
    };
    let mut v = vec![curve("overall", "all", &pooled.overall_ttft())];
    for (c, class) in sc.classes.iter().enumerate() {
        v.push(curve("class", &class.name, &pooled.classes[c].ttft));
    }
    for (d, dep) in sc.deployments.iter().enumerate() {
        v.push(curve("deployment", &dep.name, &pooled.deployments[d].ttft));
    }
    v
}

/// `ttft_cdf.csv`.
pub fn ttft_cdf(series: &[CdfCurve]) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "ttft_cdf.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(
        &mut w,
        WHAT,
        ["scope", "name", "ttft_ms", "cumulative_fraction"],
    )?;
    for CdfCurve {
        scope,
        name,
        points,
    } in series
    {
        for (ms, f) in points {
            row(
                &mut w,
                WHAT,
                [scope.to_string(), name.clone(), fixed(*ms, 3), fixed(*f, 6)],
            )?;
        }
    }
    finish(w, WHAT)
}

/// One value per hour (or per minute of a short run's charts) and deployment, mean over
/// replications.
pub struct HourlyRow {
    /// The bin: the hour in hourly.csv, the minute in [`bin_rows`] of minute bins.
    pub hour: usize,
    pub deployment: usize,
    pub requests: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub cached_input_tokens: f64,
    pub cache_write_tokens: f64,
    pub cost_on_demand: f64,
    /// The part of `cost_on_demand` paid for cached and cache-written input.
    pub cost_cached: f64,
    pub cost_reserved: f64,
    /// The part of `cost_reserved` paid hourly for units deployed beyond the reservation.
    pub cost_overage: f64,
    pub utilization: Option<f64>,
    pub rejected: f64,
    pub spilled: f64,
    pub errors: f64,
    /// The part of `cost_reserved` a token-rate reservation costs.
    pub cost_rate: f64,
    /// Requests a token-rate reservation covered, and how much of it they used.
    pub covered_requests: f64,
    pub rate_use: Option<crate::analysis::cost::RateUse>,
}

/// The rows of hourly.csv.
pub fn hourly_rows(sc: &Scenario, replications: usize, pooled: &RepMetrics) -> Vec<HourlyRow> {
    bin_rows(sc, replications, &pooled.hour_bins())
}

/// One row per bin of `bins` (hours, or the minutes of a short run) and deployment.
pub fn bin_rows(sc: &Scenario, replications: usize, bins: &Bins) -> Vec<HourlyRow> {
    let reps = replications as f64;
    let nd = sc.deployments.len();
    let mut rows = Vec::with_capacity(bins.count * nd);
    for h in 0..bins.count {
        for (d, dep) in sc.deployments.iter().enumerate() {
            let cell = &bins.cells[h * nd + d];
            // Costs are linear in the counts, so the cost of the pooled cell over
            // the replications is the mean cost; reserved cost is the same every hour
            // until a price change.
            let cost = bin_cost(dep, bins, h, cell);
            rows.push(HourlyRow {
                hour: h,
                deployment: d,
                requests: cell.requests as f64 / reps,
                input_tokens: cell.input_tokens as f64 / reps,
                output_tokens: cell.output_tokens as f64 / reps,
                cached_input_tokens: cell.cached_input_tokens as f64 / reps,
                cache_write_tokens: cell.cache_write_tokens as f64 / reps,
                cost_on_demand: cost.on_demand / reps,
                cost_cached: cost.cached / reps,
                cost_reserved: cost.reserved,
                cost_overage: cost.overage,
                utilization: bin_utilization(dep, bins.bin_us, cell).map(|u| u / reps),
                rejected: cell.rejected as f64 / reps,
                spilled: cell.spilled as f64 / reps,
                errors: cell.errors as f64 / reps,
                cost_rate: match dep.pool_at(bins.hour_of(h) as u64) {
                    Pool::OnDemand(o) if o.reserved_rate.is_some() => cost.reserved,
                    _ => 0.0,
                },
                covered_requests: cell.covered.requests as f64 / reps,
                rate_use: match dep.pool_at(bins.hour_of(h) as u64) {
                    Pool::OnDemand(o) => crate::analysis::cost::rate_use(
                        o,
                        &cell.covered,
                        bins.bin_us as f64 / crate::model::engine::US_PER_MIN as f64 * reps,
                    ),
                    Pool::Reserved(_) => None,
                },
            });
        }
    }
    rows
}

/// `hourly.csv`.
/// With deferrable classes, each hour's rows end with one row per batch deployment (pool
/// "batch"): the requests whose jobs completed in that hour, their tokens and their cost at
/// batch prices (in cost_total_usd; the on-demand and reserved columns are 0).
pub fn hourly(
    sc: &Scenario,
    rows: &[HourlyRow],
    batch: &BatchResults,
) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = crate::schema::hourly::FILE;
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, crate::schema::hourly::COLUMNS)?;
    for (i, r) in rows.iter().enumerate() {
        if !batch.is_empty() && i > 0 && rows[i - 1].hour != r.hour {
            batch_hour(sc, batch, rows[i - 1].hour, &mut w)?;
        }
        let dep = &sc.deployments[r.deployment];
        let day = r.hour / 24;
        row(
            &mut w,
            WHAT,
            [
                r.hour.to_string(),
                day.to_string(),
                (r.hour % 24).to_string(),
                WEEKDAYS[(day + sc.start_weekday as usize) % 7].to_string(),
                dep.name.clone(),
                dep.platform.clone(),
                dep.pool.kind().to_string(),
                fixed(r.requests, 2),
                fixed(r.input_tokens, 1),
                fixed(r.output_tokens, 1),
                fixed(r.cost_on_demand, 4),
                fixed(r.cost_reserved, 4),
                fixed(r.cost_on_demand + r.cost_reserved, 4),
                fixed_opt(r.utilization, 6),
                fixed(r.rejected, 2),
                fixed(r.spilled, 2),
                fixed(r.errors, 2),
                fixed(r.cached_input_tokens, 1),
                fixed(r.cache_write_tokens, 1),
                fixed(r.cost_cached, 4),
                fixed(r.cost_overage, 4),
                fixed(r.cost_rate, 4),
                fixed(r.covered_requests, 2),
                fixed_opt(r.rate_use.and_then(|u| u.input), 6),
                fixed_opt(r.rate_use.and_then(|u| u.output), 6),
                fixed_opt(r.rate_use.and_then(|u| u.spend), 6),
            ],
        )?;
    }
    if let (false, Some(last)) = (batch.is_empty(), rows.last()) {
        batch_hour(sc, batch, last.hour, &mut w)?;
    }
    finish(w, WHAT)
}

/// hourly.csv's batch rows of hour `h`: one per batch deployment, means per replication.
fn batch_hour(
    sc: &Scenario,
    batch: &BatchResults,
    h: usize,
    w: &mut csv::Writer<Vec<u8>>,
) -> Result<(), OutputError> {
    let reps = batch.replications.max(1) as f64;
    for (d, bd) in sc.batch_deployments.iter().enumerate() {
        let mut sum = BatchHour::default();
        for (c, stats) in batch.classes.iter().enumerate() {
            if let (true, Some(x)) = (sc.batch_classes[c].deployment == d, stats.hourly.get(h)) {
                sum.requests += x.requests;
                sum.input_tokens += x.input_tokens;
                sum.output_tokens += x.output_tokens;
                sum.cost_usd += x.cost_usd;
            }
        }
        let day = h / 24;
        let zero = fixed(0.0, 2);
        row(
            w,
            crate::schema::hourly::FILE,
            [
                h.to_string(),
                day.to_string(),
                (h % 24).to_string(),
                WEEKDAYS[(day + sc.start_weekday as usize) % 7].to_string(),
                bd.name.clone(),
                bd.platform.clone(),
                "batch".to_string(),
                fixed(sum.requests as f64 / reps, 2),
                fixed(sum.input_tokens as f64 / reps, 1),
                fixed(sum.output_tokens as f64 / reps, 1),
                fixed(0.0, 4),
                fixed(0.0, 4),
                fixed(sum.cost_usd / reps, 4),
                String::new(),
                zero.clone(),
                zero.clone(),
                zero,
                fixed(0.0, 1),
                fixed(0.0, 1),
                fixed(0.0, 4),
                fixed(0.0, 4),
                fixed(0.0, 4),
                fixed(0.0, 2),
                String::new(),
                String::new(),
                String::new(),
            ],
        )?;
    }
    Ok(())
}

/// The value rows of `cost_by_tag.csv` use for classes without the tag, and
/// for reserved capacity no request used.
pub use crate::schema::cost_by_tag::{IDLE_RESERVED, UNTAGGED};

/// `cost_by_tag.csv`: the simulated cost of every hour split by each tag
/// dimension (and by class): on-demand tokens at their deployment's prices;
/// reserved hours in proportion to the slot time each class used, the unused
/// rest in its own row. Per hour and dimension the rows add up to the hour's
/// total cost in `hourly.csv`. Means per replication. Empty (header only)
/// when the scenario is too large to keep per-class hourly cells.
pub fn cost_by_tag(
    sc: &Scenario,
    replications: usize,
    pooled: &RepMetrics,
) -> Result<Vec<u8>, OutputError> {
    use crate::domain::Pool;
    const WHAT: &str = crate::schema::cost_by_tag::FILE;
    let reps = replications.max(1) as f64;
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, crate::schema::cost_by_tag::COLUMNS)?;
    let (nc, nd) = (sc.classes.len(), sc.deployments.len());
    if pooled.class_cells.len() != pooled.hours as usize * nc * nd {
        return finish(w, WHAT);
    }
    // Dimensions: "class", then every tag key in name order.
    let mut dims: Vec<String> = vec!["class".into()];
    let mut keys: Vec<&String> = sc.classes.iter().flat_map(|c| c.tags.keys()).collect();
    keys.sort();
    keys.dedup();
    dims.extend(keys.into_iter().cloned());
    let value_of = |dim: &str, c: usize| -> String {
        if dim == "class" {
            sc.classes[c].name.clone()
        } else {
            sc.classes[c]
                .tags
                .get(dim)
                .cloned()
                .unwrap_or_else(|| UNTAGGED.to_string())
        }
    };
    for h in 0..pooled.hours as usize {
        // Per class: tokens and costs; and the idle reserved cost of the hour.
        let mut per_class = vec![(0.0, 0.0, 0.0, 0.0); nc];
        let mut idle = 0.0;
        for (d, dep) in sc.deployments.iter().enumerate() {
            match dep.pool_at(h as u64) {
                Pool::OnDemand(o) => {
                    for (c, pc) in per_class.iter_mut().enumerate() {
                        let cc = pooled.class_cells[(h * nc + c) * nd + d];
                        pc.0 += cc.input_tokens as f64 / reps;
                        pc.1 += cc.output_tokens as f64 / reps;
                        pc.2 += o.cost(&cc.list_tokens()) / reps;
                    }
                    // A token-rate reservation's fee: each side's shared by what each class
                    // used of it, the rest idle.
                    for side in crate::analysis::cost::rate_sides(o) {
                        let mut used = 0.0;
                        for (c, pc) in per_class.iter_mut().enumerate() {
                            let cc = pooled.class_cells[(h * nc + c) * nd + d];
                            let share = crate::analysis::cost::rate_amount(o, &side, &cc.covered)
                                / (side.capacity * reps);
                            pc.3 += side.fee * share;
                            used += share;
                        }
                        idle += side.fee * (1.0 - used).max(0.0);
                    }
                }
                Pool::Reserved(r) => {
                    let hour_cost = r.hour_cost();
                    let capacity =
                        r.slots() as f64 * crate::model::engine::US_PER_HOUR as f64 * reps;
                    let mut used = 0.0;
                    for (c, pc) in per_class.iter_mut().enumerate() {
                        let cc = pooled.class_cells[(h * nc + c) * nd + d];
                        pc.0 += cc.input_tokens as f64 / reps;
                        pc.1 += cc.output_tokens as f64 / reps;
                        let share = cc.busy_us as f64 / capacity;
                        pc.3 += hour_cost * share;
                        used += share;
                    }
                    idle += hour_cost * (1.0 - used).max(0.0);
                }
            }
        }
        for dim in &dims {
            let mut values: Vec<(String, (f64, f64, f64, f64))> = Vec::new();
            for (c, pc) in per_class.iter().enumerate() {
                let v = value_of(dim, c);
                match values.iter_mut().find(|(x, _)| *x == v) {
                    Some((_, t)) => {
                        t.0 += pc.0;
                        t.1 += pc.1;
                        t.2 += pc.2;
                        t.3 += pc.3;
                    }
                    None => values.push((v, *pc)),
                }
            }
            values.sort_by(|a, b| a.0.cmp(&b.0));
            if sc.deployments.iter().any(|d| match &d.pool {
                Pool::Reserved(_) => true,
                Pool::OnDemand(o) => o.reserved_rate.is_some(),
            }) {
                values.push((IDLE_RESERVED.to_string(), (0.0, 0.0, 0.0, idle)));
            }
            for (v, (i, o, od, res)) in values {
                row(
                    &mut w,
                    WHAT,
                    [
                        h.to_string(),
                        dim.clone(),
                        v,
                        fixed(i, 1),
                        fixed(o, 1),
                        fixed(od, 4),
                        fixed(res, 4),
                        fixed(od + res, 4),
                    ],
                )?;
            }
        }
    }
    finish(w, WHAT)
}

/// One simulated hour for `failover.csv` and `failover.png` (means per replication).
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverHour {
    /// Requests served within the client timeout.
    pub served: f64,
    /// Requests that ended unserved in this hour.
    pub failed: f64,
    /// p99 TTFT of the hour's served requests (binned, within 6.25%).
    pub p99_ms: Option<f64>,
    /// Share of the hour with an outage active.
    pub incident: f64,
    /// Share of the hour's admitted requests per platform (`FailoverRows::platforms`).
    pub shares: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailoverRows {
    pub platforms: Vec<String>,
    pub hours: Vec<FailoverHour>,
}

/// The rows of failover.csv.
pub fn failover_rows(sc: &Scenario, replications: usize, pooled: &RepMetrics) -> FailoverRows {
    failover_bins(sc, replications, &pooled.hour_bins())
}

/// One [`FailoverHour`] per bin of `bins` (hours, or the minutes of a short run).
pub fn failover_bins(sc: &Scenario, replications: usize, bins: &Bins) -> FailoverRows {
    use crate::model::metrics::{binned_percentile_ms, TTFT_BINS};
    let nd = sc.deployments.len();
    let reps = replications.max(1) as f64;
    let mut platforms: Vec<String> = Vec::new();
    for d in &sc.deployments {
        if !platforms.contains(&d.platform) {
            platforms.push(d.platform.clone());
        }
    }
    let hours = (0..bins.count)
        .map(|h| {
            let ttft = &bins.ttft[h * TTFT_BINS..(h + 1) * TTFT_BINS];
            let served: u64 = ttft.iter().map(|&b| b as u64).sum();
            let mut by_platform = vec![0.0; platforms.len()];
            for (d, dep) in sc.deployments.iter().enumerate() {
                let i = platforms
                    .iter()
                    .position(|p| *p == dep.platform)
                    .unwrap_or(0);
                by_platform[i] += bins.cells[h * nd + d].requests as f64;
            }
            let total: f64 = by_platform.iter().sum();
            FailoverHour {
                served: served as f64 / reps,
                failed: bins.failed[h] as f64 / reps,
                p99_ms: binned_percentile_ms(ttft, 99.0),
                incident: bins.incident_us[h] as f64 / reps / bins.bin_us as f64,
                shares: by_platform
                    .iter()
                    .map(|v| if total > 0.0 { v / total } else { 0.0 })
                    .collect(),
            }
        })
        .collect();
    FailoverRows { platforms, hours }
}

/// `failover.csv`: per hour, served and failed requests, p99 TTFT, the share
/// of the hour under an outage, and the share of traffic per platform.
pub fn failover(f: &FailoverRows) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "failover.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "hour",
        "served",
        "failed",
        "failure_rate",
        "p99_ttft_ms",
        "outage_share_of_hour",
    ]
    .map(String::from)
    .to_vec();
    header.extend(f.platforms.iter().map(|p| format!("share_{p}")));
    row(&mut w, WHAT, &header)?;
    for (h, x) in f.hours.iter().enumerate() {
        let done = x.served + x.failed;
        let mut rec = vec![
            h.to_string(),
            fixed(x.served, 2),
            fixed(x.failed, 2),
            if done > 0.0 {
                fixed(x.failed / done, 6)
            } else {
                String::new()
            },
            fixed_opt(x.p99_ms, 1),
            fixed(x.incident, 4),
        ];
        rec.extend(x.shares.iter().map(|v| fixed(*v, 4)));
        row(&mut w, WHAT, &rec)?;
    }
    finish(w, WHAT)
}

/// `arrivals.csv`: arrivals per hour and class, mean over replications.
pub fn arrivals(
    sc: &Scenario,
    replications: usize,
    pooled: &RepMetrics,
) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "arrivals.csv";
    let reps = replications as f64;
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, ["hour", "class", "arrivals", "expected"])?;
    for h in 0..pooled.hours as usize {
        for (c, class) in sc.classes.iter().enumerate() {
            let expected = class.expected_in_hour(h as u64, sc.start_date);
            row(
                &mut w,
                WHAT,
                [
                    h.to_string(),
                    class.name.clone(),
                    fixed(pooled.arrivals_in(h, c) as f64 / reps, 2),
                    fixed(expected, 2),
                ],
            )?;
        }
    }
    finish(w, WHAT)
}
