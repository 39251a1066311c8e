//! The statistics of the calibration: quantiles of real numbers, a lognormal fitted by its
//! quantiles, least squares with fixed effects, percentile bootstrap intervals, Erlang B.

use rand::Rng;

use crate::domain::traffic::normal_cdf;
use crate::model::rng::SimRng;

/// Φ⁻¹ of the probabilities the lognormal is matched at.
pub const Z: [(f64, f64); 7] = [
    (0.10, -1.281_551_6),
    (0.25, -0.674_489_8),
    (0.50, 0.0),
    (0.75, 0.674_489_8),
    (0.90, 1.281_551_6),
    (0.95, 1.644_853_6),
    (0.99, 2.326_347_9),
];
pub const Z95: f64 = 1.644_853_6;
pub const Z99: f64 = 2.326_347_9;

/// The quantile at `p` of sorted `s` (numpy's default: linear between order statistics).
pub fn quantile(s: &[f64], p: f64) -> f64 {
    match s.len() {
        0 => f64::NAN,
        1 => s[0],
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let i = h.floor() as usize;
            if i + 1 >= n {
                s[n - 1]
            } else {
                s[i] + (h - i as f64) * (s[i + 1] - s[i])
            }
        }
    }
}

pub fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// A lognormal matched to a sample's quantiles: the median is the sample median and σ
/// minimises the squared distance between ln(sample quantile) and ln(median) + σ z at the
/// probabilities of [`Z`] (least squares through the median: σ = Σ z d / Σ z²), so the
/// tail quantiles a TTFT SLA is about weigh in the fit. Needs positive values.
pub fn lognormal_by_quantiles(s: &[f64]) -> (f64, f64) {
    let median = quantile(s, 0.5);
    let (mut num, mut den) = (0.0, 0.0);
    for (p, z) in Z {
        if z != 0.0 {
            num += z * (quantile(s, p) / median).ln();
            den += z * z;
        }
    }
    (median, (num / den).max(0.0))
}

/// The Kolmogorov-Smirnov distance between sorted sample `s` and a lognormal.
pub fn ks_lognormal(s: &[f64], median: f64, sigma: f64) -> f64 {
    let n = s.len() as f64;
    let mut d: f64 = 0.0;
    for (i, x) in s.iter().enumerate() {
        let f = if sigma > 0.0 {
            normal_cdf((x / median).ln() / sigma)
        } else if *x >= median {
            1.0
        } else {
            0.0
        };
        d = d
            .max((f - i as f64 / n).abs())
            .max(((i + 1) as f64 / n - f).abs());
    }
    d
}

/// Least squares slope of y on x with one intercept per group (fixed effects), and the
/// share of the within-group variance it explains. `None` when x does not vary within groups.
pub fn within_slope(points: &[(usize, f64, f64)], groups: usize) -> Option<(f64, f64)> {
    let mut sx = vec![0.0; groups];
    let mut sy = vec![0.0; groups];
    let mut n = vec![0.0; groups];
    for &(g, x, y) in points {
        sx[g] += x;
        sy[g] += y;
        n[g] += 1.0;
    }
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(g, x, y) in points {
        let (dx, dy) = (x - sx[g] / n[g], y - sy[g] / n[g]);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    let r2 = if syy > 0.0 { b * b * sxx / syy } else { 0.0 };
    Some((b, r2))
}

/// Ordinary least squares y = a + b x; `None` with fewer than two distinct x.
pub fn line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let b = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    Some((my - b * mx, b))
}

/// An index drawn uniformly from 0..n.
pub fn draw(rng: &mut SimRng, n: usize) -> usize {
    rng.random_range(0..n)
}

/// The 2.5% and 97.5% percentiles of bootstrap replicates (NaN replicates left out).
pub fn interval(reps: Vec<f64>) -> (f64, f64) {
    let s = sorted(reps.into_iter().filter(|x| x.is_finite()).collect());
    if s.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    (quantile(&s, 0.025), quantile(&s, 0.975))
}

/// Erlang B: the share of Poisson arrivals refused by `c` servers with offered load `a`
/// erlangs and no queue.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}
