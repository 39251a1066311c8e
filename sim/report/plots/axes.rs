//! Axes: linear ones with "nice" ticks, the hour/day axis of the time series,
//! spans that need not start at zero, and 1-2-5 log ticks.

use super::*;

/// The number of decimals needed to print multiples of `step` exactly.
pub(super) fn decimals_for(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// A linear axis from 0 with "nice" ticks (1, 2, 2.5 or 5 times a power of
/// ten) and labels with thousands separators, or k / M suffixes when the
/// numbers get long.
#[derive(Debug, Clone)]
pub(super) struct LinearAxis {
    pub(super) top: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) divisor: f64,
    pub(super) suffix: &'static str,
    pub(super) decimals: usize,
}

impl LinearAxis {
    /// An axis from 0 to a little above `max` with at most `max_ticks` intervals.
    pub(super) fn up_to(max: f64, max_ticks: usize) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        // Headroom so the highest value does not sit on the frame.
        let target = max * 1.05;
        let raw = target / max_ticks.max(1) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0 * mag);
        let n = (target / step - 1e-9).ceil().max(1.0) as usize;
        let top = step * n as f64;
        let ticks = (0..=n).map(|i| step * i as f64).collect();
        let (divisor, suffix) = if top >= 1e7 {
            (1e6, "M")
        } else if top >= 1e4 {
            (1e3, "k")
        } else {
            (1.0, "")
        };
        LinearAxis {
            top,
            ticks,
            divisor,
            suffix,
            decimals: decimals_for(step / divisor),
        }
    }

    pub(super) fn coord(&self) -> Ticked<RangedCoordf64> {
        Ticked::new((0.0..self.top).into(), self.ticks.clone(), Vec::new())
    }

    pub(super) fn label(&self, v: f64) -> String {
        if v.abs() < 1e-12 {
            return "0".to_string();
        }
        format!(
            "{}{}",
            grouped(v / self.divisor, self.decimals),
            self.suffix
        )
    }
}

/// The x axis of the time-series charts, in simulated hours: labelled in
/// hours up to two days, in days beyond that (one grid line per day up to
/// [`DAY_LINES_MAX_DAYS`], labels every few days for long runs). It also
/// places values: one per [`Bucket`] of the horizon. A per-minute axis
/// ([`HourAxis::minutes`]) counts in simulated minutes instead.
#[derive(Debug, Clone)]
pub(super) struct HourAxis {
    /// The span of the axis in steps of its series (hours; minutes on a
    /// per-minute axis).
    pub(super) hours: usize,
    pub(super) bold: Vec<f64>,
    pub(super) light: Vec<f64>,
    pub(super) in_days: bool,
    /// A grid line at every day boundary, redrawn over the areas.
    pub(super) day_lines: bool,
    pub(super) bucket: Bucket,
}

impl HourAxis {
    pub(super) const MAX_LABELS: usize = 16;

    /// The axis of series with `n` values of `step` each.
    pub(super) fn of(step: Step, n: usize) -> Self {
        match step {
            Step::Hour => HourAxis::new(n),
            Step::Minute => HourAxis::minutes(n),
        }
    }

    /// The axis of per-minute series over `minutes` minutes: labelled every 5
    /// or 10 minutes, a light grid line every minute or every 5.
    pub(super) fn minutes(minutes: usize) -> Self {
        let minutes = minutes.max(1);
        let step = [5, 10, 15, 30, 60]
            .into_iter()
            .find(|s| minutes / s <= Self::MAX_LABELS)
            .unwrap_or(60);
        let every = |k: usize| (0..=minutes / k).map(|i| (i * k) as f64).collect();
        HourAxis {
            hours: minutes,
            bold: every(step),
            light: every(if minutes <= 60 { 1 } else { 5 }),
            in_days: false,
            day_lines: false,
            bucket: Bucket::Minute,
        }
    }

    /// The axis for `hours` hours; with no hours at all, an empty day.
    pub(super) fn new(hours: usize) -> Self {
        let bucket = Bucket::for_horizon(hours);
        let hours = if hours == 0 { 24 } else { hours };
        let multiples = |step: usize, unit: usize| -> Vec<f64> {
            (0..=hours / (step * unit))
                .map(|i| (i * step * unit) as f64)
                .collect()
        };
        if hours <= 48 {
            let step = [1, 2, 3, 6, 12, 24]
                .into_iter()
                .find(|s| hours / s <= Self::MAX_LABELS)
                .unwrap_or(24);
            let light = if step > 1 {
                multiples(1, 1)
            } else {
                Vec::new()
            };
            HourAxis {
                hours,
                bold: multiples(step, 1),
                light,
                in_days: false,
                day_lines: false,
                bucket,
            }
        } else {
            let days = hours / 24;
            let mut step = [1, 2, 5, 7, 14, 28]
                .into_iter()
                .find(|s| days / s <= Self::MAX_LABELS)
                .unwrap_or(28);
            while days / step > Self::MAX_LABELS {
                step *= 2;
            }
            // Faint lines every 6 h while a day is wide enough to read the time
            // of day from them; else one per day while they stay ~20 px apart.
            let day_lines = days <= DAY_LINES_MAX_DAYS;
            let light = if days <= 10 {
                multiples(6, 1)
            } else if day_lines {
                multiples(1, 24)
            } else {
                Vec::new()
            };
            HourAxis {
                hours,
                bold: multiples(step, 24),
                light,
                in_days: true,
                day_lines,
                bucket,
            }
        }
    }

    pub(super) fn coord(&self) -> Ticked<RangedCoordf64> {
        Ticked::new(
            (0.0..self.hours as f64).into(),
            self.bold.clone(),
            self.light.clone(),
        )
    }

    pub(super) fn desc(&self) -> &'static str {
        if self.bucket == Bucket::Minute {
            "simulated time (minutes)"
        } else if self.day_lines {
            "simulated time (days; grid line at each day boundary)"
        } else if self.in_days {
            "simulated time (days)"
        } else {
            "simulated time (hours)"
        }
    }

    /// A step outline: value `i` holds over bucket `i`, from hour `i * w` to
    /// hour `(i + 1) * w` (`w` the bucket's hours), the last one ending at the
    /// horizon.
    pub(super) fn steps(&self, values: &[f64]) -> Vec<(f64, f64)> {
        let w = self.bucket.hours();
        values
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                // Cut at the horizon (a partial last day), never to nothing.
                let end = ((i + 1) * w).min(self.hours).max(i * w + 1);
                [((i * w) as f64, *v), (end as f64, *v)]
            })
            .collect()
    }

    /// The polygon between two step outlines (upper left to right, then lower
    /// right to left).
    pub(super) fn band(&self, lower: &[f64], upper: &[f64]) -> Vec<(f64, f64)> {
        let mut pts = self.steps(upper);
        pts.extend(self.steps(lower).into_iter().rev());
        pts
    }

    /// Width of lines drawn against this axis.
    pub(super) fn line_width(&self) -> u32 {
        if self.hours > LONG_HORIZON_HOURS {
            LINE_WIDTH_LONG
        } else {
            LINE_WIDTH
        }
    }

    pub(super) fn label(&self, v: f64) -> String {
        if self.in_days {
            grouped((v / 24.0).round(), 0)
        } else {
            grouped(v.round(), 0)
        }
    }
}

/// A step of 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
pub(super) fn nice_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// A linear axis over `lo..hi` (which need not include 0), widened to the
/// nearest nice ticks, with at most about `max_ticks` intervals. A degenerate
/// or non-finite range is widened around its value.
#[derive(Debug, Clone)]
pub(super) struct SpanAxis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) decimals: usize,
}

impl SpanAxis {
    pub(super) fn new(lo: f64, hi: f64, max_ticks: usize) -> Self {
        let (mut lo, mut hi) = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => (lo.min(hi), lo.max(hi)),
            (true, false) => (lo, lo),
            (false, true) => (hi, hi),
            (false, false) => (0.0, 1.0),
        };
        if hi - lo <= 1e-9 * lo.abs().max(1.0) {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, hi) = (lo - pad, hi + pad);
        }
        let step = nice_step((hi - lo) / max_ticks.max(1) as f64);
        let first = (lo / step + 1e-9).floor();
        let last = (hi / step - 1e-9).ceil().max(first + 1.0);
        let ticks = (0..=(last - first) as usize)
            .map(|i| (first + i as f64) * step)
            .collect();
        SpanAxis {
            lo: first * step,
            hi: last * step,
            ticks,
            decimals: decimals_for(step),
        }
    }

    pub(super) fn coord(&self) -> Ticked<RangedCoordf64> {
        Ticked::new((self.lo..self.hi).into(), self.ticks.clone(), Vec::new())
    }

    pub(super) fn label(&self, v: f64) -> String {
        grouped(v, self.decimals)
    }
}

pub(super) fn split_decade(v: f64) -> (f64, f64) {
    let p = 10f64.powf(v.log10().floor());
    (v / p, p)
}

/// The largest of 1, 2, 5 times a power of ten at or below `v` (log axes).
pub(crate) fn floor_125(v: f64) -> f64 {
    let (m, p) = split_decade(v);
    let k = [5.0, 2.0, 1.0]
        .into_iter()
        .find(|k| *k <= m * (1.0 + 1e-9))
        .unwrap_or(1.0);
    k * p
}

/// The smallest of 1, 2, 5 times a power of ten at or above `v` (log axes).
pub(crate) fn ceil_125(v: f64) -> f64 {
    let (m, p) = split_decade(v);
    let k = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|k| *k >= m * (1.0 - 1e-9))
        .unwrap_or(10.0);
    k * p
}

/// Ticks of a log axis over `px` pixels: labelled ones (1-2-5, or only powers
/// of ten when 1 and 2 would be closer than `min_gap_px`) and grid-only ones
/// (the other integer multiples of a power of ten) in `lo..=hi`. An axis
/// spanning less than a decade would keep two labels or fewer (2,000 and 5,000
/// over 2,000..5,000): there every multiple is labelled, or else 1-2-3-5,
/// when its closest pair of labels is still `min_gap_px` apart.
pub(crate) fn log_ticks(lo: f64, hi: f64, px: f64, min_gap_px: f64) -> (Vec<f64>, Vec<f64>) {
    const EVERY: [f64; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let px_per_decade = px / (hi / lo).log10().max(1e-9);
    // The closest two labels of a set, in pixels (10 closes the decade).
    let gap = |set: &[f64]| {
        set.iter()
            .zip(set.iter().skip(1).chain(std::iter::once(&10.0)))
            .map(|(a, b)| (b / a).log10() * px_per_decade)
            .fold(f64::INFINITY, f64::min)
    };
    let coarse: &[f64] = if gap(&[1.0, 2.0, 5.0]) >= min_gap_px {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let ticks = split_log_ticks(lo, hi, coarse);
    if ticks.0.len() >= 3 {
        return ticks;
    }
    [&EVERY[..], &[1.0, 2.0, 3.0, 5.0][..]]
        .into_iter()
        .find(|finer| gap(finer) >= min_gap_px)
        .map_or(ticks, |finer| split_log_ticks(lo, hi, finer))
}

/// The integer multiples of a power of ten in `lo..=hi`: those whose multiple is in `labelled`,
/// then the others.
fn split_log_ticks(lo: f64, hi: f64, labelled: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut bold, mut light) = (Vec::new(), Vec::new());
    let (_, mut p) = split_decade(lo);
    while p <= hi * (1.0 + 1e-9) {
        for k in 1..=9 {
            let v = f64::from(k) * p;
            if v < lo * (1.0 - 1e-9) || v > hi * (1.0 + 1e-9) {
                continue;
            }
            if labelled.contains(&f64::from(k)) {
                bold.push(v);
            } else {
                light.push(v);
            }
        }
        p *= 10.0;
    }
    (bold, light)
}

#[cfg(test)]
mod tests {
    use super::log_ticks;

    #[test]
    fn a_log_axis_within_a_decade_gets_more_than_two_labels() {
        // 2,000..5,000 ms over 590 px (1,483 px a decade): 1-2-5 labels only 2,000 and 5,000;
        // every multiple is at least 68 px apart (9,000 to 10,000 is the closest pair), so all
        // of 2,000, 3,000, 4,000, 5,000 are labelled.
        let (bold, light) = log_ticks(2000.0, 5000.0, 590.0, 40.0);
        assert_eq!(bold, vec![2000.0, 3000.0, 4000.0, 5000.0]);
        assert!(light.is_empty());
        // At 70 px apart, every multiple is too tight (68 px); 1-2-3-5 (3 to 5: 329 px) fits.
        let (bold, light) = log_ticks(2000.0, 5000.0, 590.0, 70.0);
        assert_eq!(bold, vec![2000.0, 3000.0, 5000.0]);
        assert_eq!(light, vec![4000.0]);
        // A wide axis keeps 1-2-5 (already three labels or more).
        let (bold, _) = log_ticks(100.0, 10_000.0, 800.0, 40.0);
        assert_eq!(
            bold,
            vec![100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0]
        );
    }
}
