//! Quantiles, the sampler's CDF and Kolmogorov-Smirnov distances.

use crate::domain::traffic::{normal_cdf, TokenDist};

use super::CDF_POINTS;

/// The quantile at `p` in 0..=1 of sorted `s`: linear interpolation between
/// order statistics at rank (n - 1) p (numpy's default, Hyndman-Fan type 7).
pub fn quantile(s: &[u32], p: f64) -> f64 {
    match s.len() {
        0 => 0.0,
        1 => s[0] as f64,
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let i = h.floor() as usize;
            let f = h - i as f64;
            if i + 1 >= n {
                s[n - 1] as f64
            } else {
                s[i] as f64 + f * (s[i + 1] as f64 - s[i] as f64)
            }
        }
    }
}

/// P(draw <= k) for whole `k` of llmcap's sampler for `d`: a continuous draw
/// x is rounded (x + 0.5 truncated) and clamped to [1, max], so for
/// 1 <= k < max it is P(x < k + 0.5).
pub fn sampled_cdf(d: &TokenDist, k: f64) -> f64 {
    let max = match d {
        TokenDist::LogNormal { max, .. }
        | TokenDist::Exponential { max, .. }
        | TokenDist::Empirical { max, .. } => *max as f64,
        TokenDist::Fixed(v) => return if k >= *v as f64 { 1.0 } else { 0.0 },
    };
    if k < 1.0 {
        return 0.0;
    }
    if k >= max {
        return 1.0;
    }
    let y = k + 0.5;
    match d {
        TokenDist::LogNormal { mu, sigma, .. } => {
            if *sigma > 0.0 {
                normal_cdf((y.ln() - mu) / sigma)
            } else if mu.exp() < y {
                1.0
            } else {
                0.0
            }
        }
        TokenDist::Exponential { mean, .. } => 1.0 - (-y / mean).exp(),
        TokenDist::Empirical { points, .. } => {
            // P(interp(U) < y): the u where the non-decreasing piecewise
            // linear inverse CDF reaches y.
            if points.first().is_none_or(|p| p.1 >= y) {
                return 0.0;
            }
            for w in points.windows(2) {
                let ((q0, v0), (q1, v1)) = (w[0], w[1]);
                if v0 < y && y <= v1 {
                    return q0 + (q1 - q0) * (y - v0) / (v1 - v0);
                }
            }
            1.0
        }
        TokenDist::Fixed(_) => unreachable!("handled above"),
    }
}

/// The Kolmogorov-Smirnov distance sup_k |F_n(k) - G(k)| between the
/// empirical CDF of sorted whole numbers `s` and a CDF `g` of whole numbers.
/// Both are step functions of whole k and F_n is flat between sample values,
/// so the supremum is at a sample value v or just below it (v - 1).
pub fn ks_distance(s: &[u32], g: impl Fn(f64) -> f64) -> f64 {
    let n = s.len() as f64;
    let mut d: f64 = 0.0;
    let mut below = 0.0;
    let mut i = 0;
    while i < s.len() {
        let v = s[i];
        let mut j = i;
        while j < s.len() && s[j] == v {
            j += 1;
        }
        let at = j as f64 / n;
        d = d.max((below - g(v as f64 - 1.0)).abs());
        d = d.max((at - g(v as f64)).abs());
        below = at;
        i = j;
    }
    d
}

/// The empirical CDF of sorted `s` on a log-spaced grid from the smallest
/// positive value to the largest: `[tokens, fraction <= tokens]`.
pub(super) fn cdf_points(s: &[u32]) -> Vec<[f64; 2]> {
    let Some(&hi) = s.last() else {
        return Vec::new();
    };
    let lo = s.iter().copied().find(|&v| v > 0).unwrap_or(hi).max(1);
    let hi = hi.max(lo);
    let n = s.len() as f64;
    let (llo, lhi) = ((lo as f64).ln(), (hi as f64).ln());
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(CDF_POINTS);
    for i in 0..CDF_POINTS {
        let x = if i + 1 == CDF_POINTS {
            hi as f64
        } else {
            (llo + (lhi - llo) * i as f64 / (CDF_POINTS - 1) as f64).exp()
        };
        let f = s.partition_point(|&v| (v as f64) <= x) as f64 / n;
        if out.last().is_none_or(|p| p[0] < x) {
            out.push([x, f]);
        }
    }
    out
}

pub(super) fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

pub(super) fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

pub(super) fn argmin(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] < v[b] { i } else { b })
}
