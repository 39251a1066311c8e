//! The one pass over the trace: counts per interval and hour of day, token samples, bad rows.

use rand::Rng;

use crate::domain::trace::{BadRow, BadRowKind};
use crate::domain::traffic::TokenDist;
use crate::error::ValueError;
use crate::model::rng::{key_of, stream, Purpose, SimRng};

use super::result::{ArrivalFit, BadRowCount, BadRows, LogNormalFit, TokenFit};
use super::stats::{argmax, argmin, cdf_points, ks_distance, min_max, quantile, sampled_cdf};
use super::text::duration;
use super::{
    BAD_ROW_EXAMPLES, MAX_INTERVALS, MAX_OVERDISPERSION, PERCENTILES, PROFILE_MIN_SPAN_S,
    RESERVOIR_SEED, WEEKDAY_MIN_SPAN_S,
};

/// The running state of one pass over the trace.
pub(super) struct Accumulator {
    interval_s: f64,
    wall_clock: bool,
    pub(super) n: u64,
    pub(super) first: f64,
    pub(super) last: f64,
    counts: Vec<u64>,
    /// Requests per hour of day (UTC, or hours from the first request).
    by_hour: [u64; 24],
    /// Requests per day of week (UTC, Monday first; wall-clock times only).
    by_weekday: [u64; 7],
    /// Requests per hour of the week (UTC, Monday 00:00 first; wall-clock times only).
    by_week_hour: Vec<u64>,
    pub(super) input: TokenAcc,
    pub(super) output: TokenAcc,
    /// Requests kept for the quantiles at most.
    cap: usize,
    rng: SimRng,
    pub(super) bad: BadRows,
    /// Bins of a usage export added.
    pub(super) bins: u64,
    /// A usage export's input and output token totals per counting interval (empty for a
    /// request trace).
    interval_tokens: Vec<[f64; 2]>,
}

impl Accumulator {
    pub(super) fn new(interval_s: f64, wall_clock: bool, cap: usize) -> Self {
        Accumulator {
            interval_s,
            wall_clock,
            n: 0,
            first: 0.0,
            last: 0.0,
            counts: Vec::new(),
            by_hour: [0; 24],
            by_weekday: [0; 7],
            by_week_hour: vec![0; HOURS_PER_WEEK],
            input: TokenAcc::default(),
            output: TokenAcc::default(),
            cap,
            rng: stream(RESERVOIR_SEED, 0, Purpose::Tokens, key_of("fit")),
            bad: BadRows::default(),
            bins: 0,
            interval_tokens: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, t: f64, input: u32, output: u32) -> Result<(), ValueError> {
        if self.n == 0 {
            self.first = t;
        }
        self.last = t;
        self.count(t, 1)?;
        // Algorithm R: the first `cap` requests, then request n replaces a
        // random one with probability cap / n.
        let slot = if self.input.samples.len() < self.cap {
            None
        } else {
            let j = self.rng.random_range(0..self.n);
            Some((j < self.cap as u64).then_some(j as usize))
        };
        self.input.add(input, slot);
        self.output.add(output, slot);
        Ok(())
    }

    /// Counts `requests` arriving at `t` in their interval, hour of day and day of week.
    fn count(&mut self, t: f64, requests: u64) -> Result<(), ValueError> {
        let i = ((t - self.first) / self.interval_s) as usize;
        if i >= MAX_INTERVALS {
            return Err(format!(
                "the trace spans more than {} intervals of {} s ({:.0} days); use a longer interval",
                MAX_INTERVALS,
                self.interval_s,
                MAX_INTERVALS as f64 * self.interval_s / 86_400.0
            ).into());
        }
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += requests;
        self.by_hour[self.hour_of_day(t)] += requests;
        if self.wall_clock {
            self.by_weekday[day_of_week(t)] += requests;
            let slot = day_of_week(t) * 24 + self.hour_of_day(t);
            self.by_week_hour[slot] += requests;
        }
        self.n += requests;
        Ok(())
    }

    /// Adds a bin of a usage export: `requests` and their token totals from `t` for `grain`
    /// seconds (within one interval and one hour). The span runs to the end of the last bin.
    pub(super) fn add_bin(
        &mut self,
        t: f64,
        grain: f64,
        requests: u64,
        input: f64,
        output: f64,
    ) -> Result<(), ValueError> {
        if self.bins == 0 {
            self.first = t;
        }
        self.bins += 1;
        self.last = t + grain;
        self.count(t, requests)?;
        self.input.add_total(requests, input);
        self.output.add_total(requests, output);
        // count() has checked the interval against MAX_INTERVALS.
        let i = ((t - self.first) / self.interval_s) as usize;
        if i >= self.interval_tokens.len() {
            self.interval_tokens.resize(i + 1, [0.0; 2]);
        }
        self.interval_tokens[i][0] += input;
        self.interval_tokens[i][1] += output;
        Ok(())
    }

    /// A usage export's mean input and output tokens per request in each of the first `full`
    /// intervals (None for an interval without requests).
    pub(super) fn tokens_per_request(&self, full: usize) -> Vec<Option<[f64; 2]>> {
        (0..full)
            .map(|i| {
                let n = self.counts.get(i).copied().unwrap_or(0);
                let [a, b] = self.interval_tokens.get(i).copied().unwrap_or([0.0; 2]);
                (n > 0).then(|| [a / n as f64, b / n as f64])
            })
            .collect()
    }

    fn hour_of_day(&self, t: f64) -> usize {
        let base = if self.wall_clock { t } else { t - self.first };
        ((base / 3600.0).floor() as i64).rem_euclid(24) as usize
    }

    pub(super) fn bad(&mut self, b: &BadRow) {
        self.bad.total += 1;
        let label = b.kind.label();
        match self.bad.kinds.iter_mut().find(|k| k.kind == label) {
            Some(k) => {
                k.count += 1;
                if k.first_lines.len() < BAD_ROW_EXAMPLES {
                    k.first_lines.push(b.line);
                }
            }
            None => self.bad.kinds.push(BadRowCount {
                kind: label,
                count: 1,
                first_lines: vec![b.line],
                first_message: b.message.clone(),
            }),
        }
        // Keep a stable order: by kind.
        self.bad.kinds.sort_by_key(|k| kind_order(k.kind));
    }

    /// Seconds of [first, last] in each hour of day.
    fn exposure(&self) -> [f64; 24] {
        let (a, b) = if self.wall_clock {
            (self.first, self.last)
        } else {
            (0.0, self.last - self.first)
        };
        exposure(a, b, 3600.0)
    }

    /// Multipliers with mean 1 from counts per slot and the seconds of the span in each slot:
    /// each slot's rate over the mean rate. None when there is no request.
    fn multipliers(counts: &[u64], exposure: &[f64]) -> Option<Vec<f64>> {
        let rates: Vec<f64> = counts
            .iter()
            .zip(exposure)
            .map(|(&c, &e)| if e > 0.0 { c as f64 / e } else { 0.0 })
            .collect();
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        (mean > 0.0).then(|| rates.iter().map(|r| r / mean).collect())
    }

    /// The hour-of-day multipliers (hour 0 first, mean 1) and why, or why they are flat.
    fn daily(&self, span: f64) -> (Option<Vec<f64>>, String) {
        if span >= PROFILE_MIN_SPAN_S {
            let exposure = self.exposure();
            if let Some(v) = Self::multipliers(&self.by_hour, &exposure[..24]) {
                let (lo, hi) = min_max(&v);
                let (peak, trough) = (argmax(&v), argmin(&v));
                let note = format!(
                "fitted from {:.1} days of data; peak at hour {peak} ({hi:.2}x the mean), trough at hour {trough} ({lo:.2}x)",
                span / 86_400.0,
            );
                (Some(v), note)
            } else {
                (None, "flat: no requests".to_string())
            }
        } else {
            (
                None,
                format!(
                "flat: the trace covers {}, less than the 24 hours an hour-of-day profile needs",
                duration(span)
            ),
            )
        }
    }

    /// The day-of-week factors (Monday first, mean 1) and why, or why they are flat.
    fn weekly(&self, span: f64) -> (Option<Vec<f64>>, String) {
        const NAMES: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        if !self.wall_clock {
            return (
                None,
                "flat: the times are not dates, so days of the week are unknown".into(),
            );
        }
        if span < WEEKDAY_MIN_SPAN_S {
            return (
                None,
                format!(
                    "flat: the data covers {}, less than the 7 days a day-of-week profile needs",
                    duration(span)
                ),
            );
        }
        // Days since 1970 shifted so that slot 0 is a Monday (1970-01-05 was one).
        let by_day = exposure(
            self.first - 4.0 * 86_400.0,
            self.last - 4.0 * 86_400.0,
            86_400.0,
        );
        let e: Vec<f64> = (0..7).map(|d| by_day[d]).collect();
        match Self::multipliers(&self.by_weekday, &e) {
            Some(v) => {
                let (lo, hi) = min_max(&v);
                let note = format!(
                    "fitted from {:.1} weeks; busiest {} ({hi:.2}x the mean), quietest {} ({lo:.2}x)",
                    span / (7.0 * 86_400.0),
                    NAMES[argmax(&v)],
                    NAMES[argmin(&v)],
                );
                (Some(v), note)
            }
            None => (None, "flat: no requests".into()),
        }
    }

    pub(super) fn arrivals(&self, interval: u32, span: f64) -> ArrivalFit {
        let mean_rps = self.n as f64 / span;
        let dt = interval as f64;
        // Complete intervals only: the last one stops at the last request.
        let full = ((span / dt) as usize).min(self.counts.len());
        let counts: Vec<u64> = self.counts[..full].to_vec();
        let xs: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
        let m = xs.iter().sum::<f64>() / full.max(1) as f64;
        let var = if full > 1 {
            xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (full - 1) as f64
        } else {
            0.0
        };
        let idc = (full > 1 && m > 0.0).then(|| var / m);

        let basis = if self.wall_clock {
            "UTC"
        } else {
            "hour 0 = the first request's hour"
        };
        let (hourly, hourly_note) = self.daily(span);

        let (weekday, weekday_note) = self.weekly(span);
        // With a day-of-week profile (7 days of wall-clock data), the hour-of-week one too.
        let week_hours = weekday.as_ref().and_then(|_| {
            let e = exposure_slots(
                self.first - 4.0 * 86_400.0,
                self.last - 4.0 * 86_400.0,
                3600.0,
                HOURS_PER_WEEK,
            );
            Self::multipliers(&self.by_week_hour, &e)
        });

        // Expected count per interval under the fitted profiles, scaled so
        // the expected counts add up to the counted ones (the intervals need
        // not cover whole days).
        let midpoint = |i: usize| self.first + (i as f64 + 0.5) * dt;
        let separable: Vec<f64> = (0..full)
            .map(|i| {
                let t = midpoint(i);
                let h = hourly.as_ref().map_or(1.0, |v| v[self.hour_of_day(t)]);
                h * weekday.as_ref().map_or(1.0, |v| v[day_of_week(t)])
            })
            .collect();
        let expected_of = |shape: &[f64]| -> Vec<f64> {
            let total: f64 = shape.iter().sum();
            let scale = if total > 0.0 {
                xs.iter().sum::<f64>() / total
            } else {
                m
            };
            shape.iter().map(|v| v * scale).collect()
        };
        let mut expected = expected_of(&separable);
        let (hour_of_week, hour_of_week_note) = match week_hours {
            None => (
                None,
                "not used: it needs 7 days of wall-clock data, as the day-of-week profile does"
                    .to_string(),
            ),
            Some(w) => {
                let shape: Vec<f64> = (0..full)
                    .map(|i| {
                        let t = midpoint(i);
                        w[day_of_week(t) * 24 + self.hour_of_day(t)]
                    })
                    .collect();
                let weekly = expected_of(&shape);
                let (used, note) = week_shape_wins(&xs, &expected, &weekly);
                if used {
                    expected = weekly;
                }
                (used.then_some(w), note)
            }
        };
        let profiled = hourly.is_some() || weekday.is_some();
        let (mut k, mut note) = match (idc, profiled) {
            (None, _) => (
                0.0,
                Some(format!(
                    "0: the trace has {full} complete interval(s) of {interval} s; at least 2 are needed to measure burstiness"
                )),
            ),
            (Some(d), false) => ((d - 1.0) / m, None),
            (Some(_), true) => {
                let (mut num, mut den) = (0.0, 0.0);
                for (x, e) in xs.iter().zip(&expected) {
                    num += (x - e).powi(2) - e;
                    den += e * e;
                }
                (if den > 0.0 { num / den } else { 0.0 }, None)
            }
        };
        if note.is_none() && k <= 0.0 {
            k = 0.0;
            note = Some(
                "0: the counts vary no more than a Poisson process's would (index of dispersion <= 1)"
                    .into(),
            );
        }
        if k > MAX_OVERDISPERSION {
            note = Some(format!(
                "capped at {MAX_OVERDISPERSION} (the largest a scenario accepts) from {k:.1}"
            ));
            k = MAX_OVERDISPERSION;
        }
        ArrivalFit {
            mean_rps,
            interval_s: interval,
            intervals: full,
            count_mean: m,
            count_variance: var,
            index_of_dispersion: idc,
            dispersion_around_profile: (profiled && full > 1).then(|| {
                let den: f64 = expected.iter().sum();
                let num: f64 = xs.iter().zip(&expected).map(|(x, e)| (x - e).powi(2)).sum();
                if den > 0.0 {
                    num / den
                } else {
                    0.0
                }
            }),
            overdispersion: k,
            overdispersion_note: note,
            hourly,
            hourly_basis: basis,
            hourly_note,
            weekday,
            weekday_note,
            hour_of_week,
            hour_of_week_note,
            counts,
            expected,
        }
    }
}

/// Day of the week of `t` seconds since 1970 UTC, 0 = Monday.
fn day_of_week(t: f64) -> usize {
    crate::domain::time::weekday((t / 86_400.0).floor() as i64) as usize
}

/// Seconds of [a, b] in each slot of `len` seconds, slots numbered from 0 at time 0 and counted
/// modulo 24 (hours of the day; days use the first 7).
/// Hours in a week: the hour-of-week profile's length.
const HOURS_PER_WEEK: usize = 168;

/// Parameters of the hourly x weekday profile: 24 + 7, less one for the common scale.
const PRODUCT_PARAMETERS: usize = 24 + 7 - 1;

/// Whether the hour-of-week profile's expected counts `weekly` beat hourly x weekday's
/// `product` by a quasi-AIC (each model's chi-square over the dispersion left by the larger one,
/// plus twice its parameters: [`PRODUCT_PARAMETERS`] against [`HOURS_PER_WEEK`]), and the note that says so.
fn week_shape_wins(xs: &[f64], product: &[f64], weekly: &[f64]) -> (bool, String) {
    let (chi_product, chi_week) = (chi2(xs, product), chi2(xs, weekly));
    let n = xs.len().saturating_sub(HOURS_PER_WEEK).max(1) as f64;
    let phi = (chi_week / n).max(1.0);
    let gain = (chi_product - chi_week) / phi;
    let extra = HOURS_PER_WEEK - PRODUCT_PARAMETERS;
    let needed = 2.0 * extra as f64;
    if gain > needed {
        (true, format!(
            "used: the week is not one daily shape scaled by day (quasi-AIC: the hour-of-week profile explains {gain:.0} units of chi-square more than hourly x weekday, over the {needed:.0} its extra {extra} parameters must); hourly and weekday are its averages"
        ))
    } else {
        (false, format!(
            "not used: hourly x weekday fits about as well (quasi-AIC gain {gain:.0}, below the {needed:.0} the extra {extra} parameters need)"
        ))
    }
}

/// Σ (x − e)² / e over the intervals with e > 0: how far counts are from their expected values.
fn chi2(xs: &[f64], expected: &[f64]) -> f64 {
    xs.iter()
        .zip(expected)
        .filter(|(_, e)| **e > 0.0)
        .map(|(x, e)| (x - e).powi(2) / e)
        .sum()
}

/// Seconds of [a, b) in each of `slots` repeating slots of `len` seconds (slot 0 starting at
/// time 0).
fn exposure_slots(a: f64, b: f64, len: f64, slots: usize) -> Vec<f64> {
    let mut out = vec![0.0; slots];
    let mut h = (a / len).floor();
    while h * len < b {
        let lo = (h * len).max(a);
        let hi = ((h + 1.0) * len).min(b);
        if hi > lo {
            out[(h as i64).rem_euclid(slots as i64) as usize] += hi - lo;
        }
        h += 1.0;
    }
    out
}

fn exposure(a: f64, b: f64, len: f64) -> [f64; 24] {
    let mut out = [0.0; 24];
    let slots = if len >= 86_400.0 { 7 } else { 24 };
    let mut h = (a / len).floor();
    while h * len < b {
        let lo = (h * len).max(a);
        let hi = ((h + 1.0) * len).min(b);
        if hi > lo {
            out[(h as i64).rem_euclid(slots) as usize] += hi - lo;
        }
        h += 1.0;
    }
    out
}

fn kind_order(label: &str) -> usize {
    [
        BadRowKind::Time,
        BadRowKind::Tokens,
        BadRowKind::OutOfOrder,
        BadRowKind::Shape,
    ]
    .iter()
    .position(|k| k.label() == label)
    .unwrap_or(usize::MAX)
}

/// Token counts of one kind.
#[derive(Default)]
pub(super) struct TokenAcc {
    samples: Vec<u32>,
    n: u64,
    sum: f64,
    min: u32,
    max: u32,
    zeros: u64,
}

impl TokenAcc {
    /// Adds the token total of `requests` requests whose counts one by one are not known.
    pub(super) fn add_total(&mut self, requests: u64, total: f64) {
        self.n += requests;
        self.sum += total;
    }

    /// The mean per request, from totals: no quantiles, no lognormal, no goodness of fit.
    pub(super) fn finish_totals(&self) -> TokenFit {
        TokenFit {
            requests: self.n,
            sampled: 0,
            reservoir: false,
            mean: self.sum / self.n.max(1) as f64,
            min: 0,
            max: 0,
            zeros: 0,
            quantiles: Vec::new(),
            lognormal: LogNormalFit {
                median: 0.0,
                p90: 0.0,
                mu: 0.0,
                sigma: 0.0,
                mean: 0.0,
                ks: 0.0,
            },
            empirical_mean: 0.0,
            ks_empirical: 0.0,
            cdf: Vec::new(),
        }
    }

    /// `slot`: None = append; Some(None) = not sampled; Some(Some(j)) = replace j.
    pub(super) fn add(&mut self, v: u32, slot: Option<Option<usize>>) {
        if self.n == 0 {
            self.min = v;
        }
        self.n += 1;
        self.sum += v as f64;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        if v == 0 {
            self.zeros += 1;
        }
        match slot {
            None => self.samples.push(v),
            Some(Some(j)) => self.samples[j] = v,
            Some(None) => {}
        }
    }

    pub(super) fn finish(&mut self) -> TokenFit {
        let mut s = std::mem::take(&mut self.samples);
        s.sort_unstable();
        // Rounded to 1/100 token, so the numbers print as they are stored.
        let q = |p: f64| (quantile(&s, p) * 100.0).round() / 100.0;
        let quantiles: Vec<[f64; 2]> = PERCENTILES.iter().map(|&p| [p, q(p / 100.0)]).collect();
        let max = self.max.max(1);
        // llmcap's lognormal needs median > 0 and p90 >= median; draws are
        // at least 1 token anyway.
        let median = q(0.5).max(1.0);
        let p90 = q(0.9).max(median);
        let lognormal = TokenDist::lognormal(median, p90, max);
        let (mu, sigma) = match lognormal {
            TokenDist::LogNormal { mu, sigma, .. } => (mu, sigma),
            _ => (median.ln(), 0.0),
        };
        let empirical = TokenDist::Empirical {
            points: quantiles.iter().map(|[p, v]| (p / 100.0, *v)).collect(),
            max,
        };
        TokenFit {
            requests: self.n,
            sampled: s.len(),
            reservoir: (s.len() as u64) < self.n,
            mean: self.sum / self.n.max(1) as f64,
            min: self.min,
            max: self.max,
            zeros: self.zeros,
            lognormal: LogNormalFit {
                median,
                p90,
                mu,
                sigma,
                mean: lognormal.mean(),
                ks: ks_distance(&s, |k| sampled_cdf(&lognormal, k)),
            },
            empirical_mean: empirical.mean(),
            ks_empirical: ks_distance(&s, |k| sampled_cdf(&empirical, k)),
            quantiles,
            cdf: cdf_points(&s),
        }
    }
}
