//! Arrival processes and request sampling.
//!
//! Arrivals are a non-homogeneous Poisson process whose rate is constant within
//! each segment (an hour, or a burst interval when overdispersion is on):
//! rate = mean_rps x hour-of-day multiplier x day-of-week factor x burst factor.
//! Within a constant-rate segment the next arrival is an exponential step; at a
//! segment boundary the unused part of the exponential "hazard" carries over,
//! which is exact for a piecewise-constant rate (memorylessness).
//!
//! Overdispersion k makes each burst interval's rate a Gamma(1/k, k) multiple of
//! the profile rate (mean 1, variance k): counts per interval become
//! negative-binomial with index of dispersion 1 + k x (expected count).

use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use crate::model::engine::{SimTime, US_PER_HOUR, US_PER_SEC};
use crate::model::rng::SimRng;

/// z such that P(Z <= z) = 0.90 for a standard normal.
pub const Z90: f64 = 1.281_551_565_544_600_4;
/// z such that P(Z <= z) = 0.99 for a standard normal.
pub const Z99: f64 = 2.326_347_874_040_840_8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrivalProcess {
    Poisson,
    /// Arrivals exactly every 1/rate seconds (rate as in the profile).
    Deterministic,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalSpec {
    pub process: ArrivalProcess,
    /// Long-run mean arrival rate, requests per second.
    pub mean_rps: f64,
    /// Hour-of-day multipliers, mean 1.
    pub hourly: [f64; 24],
    /// Day-of-week factors (Monday first), mean 1.
    pub weekday: [f64; 7],
    pub overdispersion: f64,
    pub burst_interval_s: u32,
}

impl ArrivalSpec {
    /// Profile rate (requests per second) in simulated hour `hour`.
    pub fn rate_in_hour(&self, hour: u64, start_weekday: u8) -> f64 {
        let hod = (hour % 24) as usize;
        let dow = ((hour / 24 + start_weekday as u64) % 7) as usize;
        self.mean_rps * self.hourly[hod] * self.weekday[dow]
    }

    /// Expected arrivals over the first `hours` hours.
    pub fn expected_arrivals(&self, hours: u32, start_weekday: u8) -> f64 {
        (0..hours as u64)
            .map(|h| self.rate_in_hour(h, start_weekday) * 3600.0)
            .sum()
    }
}

/// A cosine hour-of-day profile with mean 1, peaking at `peak_hour` with
/// peak / trough = `ratio`.
pub fn shape_profile(peak_hour: f64, ratio: f64) -> [f64; 24] {
    let a = (ratio - 1.0) / (ratio + 1.0);
    std::array::from_fn(|h| {
        // Evaluate at the middle of the hour.
        let x = (h as f64 + 0.5 - peak_hour) * std::f64::consts::TAU / 24.0;
        1.0 + a * x.cos()
    })
}

/// Generates the arrival times of one request class.
pub struct ArrivalGen {
    spec: ArrivalSpec,
    start_weekday: u8,
    segment_us: u64,
    /// Absolute time in seconds of the last arrival or boundary.
    t: f64,
    seg_end_us: u64,
    rate: f64,
    hazard: f64,
    gamma: Option<Gamma<f64>>,
}

impl ArrivalGen {
    pub fn new(spec: &ArrivalSpec, start_weekday: u8, rng: &mut SimRng) -> Self {
        let segment_us = if spec.overdispersion > 0.0 {
            spec.burst_interval_s as u64 * US_PER_SEC
        } else {
            US_PER_HOUR
        };
        let gamma = (spec.overdispersion > 0.0).then(|| {
            let k = spec.overdispersion;
            // Shape 1/k, scale k: mean 1, variance k. Both are finite and > 0 here.
            Gamma::new(1.0 / k, k).expect("validated overdispersion")
        });
        let mut g = ArrivalGen {
            spec: spec.clone(),
            start_weekday,
            segment_us,
            t: 0.0,
            seg_end_us: 0,
            rate: 0.0,
            hazard: 0.0,
            gamma,
        };
        g.enter_segment(0, rng);
        g.hazard = g.draw_hazard(rng);
        g
    }

    fn draw_hazard(&self, rng: &mut SimRng) -> f64 {
        match self.spec.process {
            ArrivalProcess::Poisson => Exp1.sample(rng),
            ArrivalProcess::Deterministic => 1.0,
        }
    }

    fn enter_segment(&mut self, start_us: u64, rng: &mut SimRng) {
        self.seg_end_us = start_us + self.segment_us;
        let base = self
            .spec
            .rate_in_hour(start_us / US_PER_HOUR, self.start_weekday);
        self.rate = match &self.gamma {
            Some(g) => base * g.sample(rng),
            None => base,
        };
    }

    /// The next arrival strictly before `horizon_us`, or None.
    pub fn next(&mut self, horizon_us: SimTime, rng: &mut SimRng) -> Option<SimTime> {
        loop {
            let seg_end = self.seg_end_us as f64 / US_PER_SEC as f64;
            if self.rate > 0.0 {
                let dt = self.hazard / self.rate;
                if self.t + dt < seg_end {
                    self.t += dt;
                    self.hazard = self.draw_hazard(rng);
                    let at = (self.t * US_PER_SEC as f64) as u64;
                    return (at < horizon_us).then_some(at);
                }
                self.hazard -= self.rate * (seg_end - self.t);
            }
            self.t = seg_end;
            if self.seg_end_us >= horizon_us {
                return None;
            }
            self.enter_segment(self.seg_end_us, rng);
        }
    }
}

/// Replays a class's trace: arrival times (scaled, offset, tiled) and token
/// counts, one record at a time from the file.
pub struct TraceArrivals {
    src: crate::input::scenario::TraceSource,
    reader: Option<crate::input::trace::TraceReader>,
    pass: u64,
    current: (SimTime, u32, u32),
    copies_left: u32,
    /// Unusable rows skipped (only with bad_rows = "skip"; validation stops otherwise).
    pub skipped: u64,
}

impl TraceArrivals {
    pub fn new(src: &crate::input::scenario::TraceSource) -> Self {
        TraceArrivals {
            reader: crate::input::trace::TraceReader::open(&src.path, src.format.clone()).ok(),
            src: src.clone(),
            pass: 0,
            current: (0, 0, 0),
            copies_left: 0,
            skipped: 0,
        }
    }

    /// The next request before `horizon_us`: its time and input / output tokens.
    /// A rate scale k keeps each record floor(k) times, plus once more with
    /// probability frac(k), drawn from `rng` (so thinning is seeded).
    pub fn next(&mut self, horizon_us: SimTime, rng: &mut SimRng) -> Option<(SimTime, u32, u32)> {
        if self.copies_left > 0 {
            self.copies_left -= 1;
            return Some(self.current);
        }
        let mut empty_passes = 0;
        loop {
            let reader = self.reader.as_mut()?;
            let rec = match reader.next() {
                Some(Ok(r)) => r,
                Some(Err(_)) => {
                    // Counted once, not again on every tiling pass.
                    if self.pass == 0 {
                        self.skipped += 1;
                    }
                    continue;
                }
                None => {
                    if !self.src.tile || empty_passes > 0 {
                        return None;
                    }
                    empty_passes += 1;
                    self.pass += 1;
                    self.reader = crate::input::trace::TraceReader::open(
                        &self.src.path,
                        self.src.format.clone(),
                    )
                    .ok();
                    continue;
                }
            };
            if self
                .src
                .model
                .as_ref()
                .is_some_and(|m| rec.model.as_ref() != Some(m))
            {
                continue;
            }
            empty_passes = 0;
            let rel_s = (rec.time_s - self.src.stats.first_s).max(0.0) / self.src.time_scale;
            let at = self.src.offset_us
                + self.pass * self.src.period_us()
                + (rel_s * US_PER_SEC as f64 + 0.5) as u64;
            if at >= horizon_us {
                return None;
            }
            let k = self.src.rate_scale;
            let mut n = k.floor() as u32;
            if k.fract() > 0.0 && rng.random::<f64>() < k.fract() {
                n += 1;
            }
            if n == 0 {
                continue;
            }
            self.current = (at, rec.input, rec.output);
            self.copies_left = n - 1;
            return Some(self.current);
        }
    }
}

/// A token-count distribution. Samples are whole numbers in [0, max]
/// (at least 1 except for `Fixed(0)`).
#[derive(Debug, Clone, PartialEq)]
pub enum TokenDist {
    Fixed(u32),
    LogNormal {
        mu: f64,
        sigma: f64,
        max: u32,
    },
    Exponential {
        mean: f64,
        max: u32,
    },
    /// Inverse CDF by linear interpolation between (quantile in 0..=1, tokens) points.
    Empirical {
        points: Vec<(f64, f64)>,
        max: u32,
    },
}

impl TokenDist {
    /// Lognormal from its median and 90th percentile.
    pub fn lognormal(median: f64, p90: f64, max: u32) -> Self {
        let mu = median.ln();
        TokenDist::LogNormal {
            mu,
            sigma: (p90.ln() - mu) / Z90,
            max,
        }
    }

    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        // x >= 0: adding 0.5 and truncating rounds like f64::round without a libm call.
        let clamp = |x: f64, max: u32| ((x + 0.5) as u64).clamp(1, max as u64) as u32;
        match self {
            TokenDist::Fixed(v) => *v,
            TokenDist::LogNormal { mu, sigma, max } => {
                let z: f64 = StandardNormal.sample(rng);
                clamp((mu + sigma * z).exp(), *max)
            }
            TokenDist::Exponential { mean, max } => {
                let e: f64 = Exp1.sample(rng);
                clamp(mean * e, *max)
            }
            TokenDist::Empirical { points, max } => {
                let u: f64 = rng.random();
                clamp(interpolate(points, u), *max)
            }
        }
    }

    /// The mean of [`TokenDist::sample`], from the parameters (closed forms for
    /// the capped lognormal and exponential, exact integration of the
    /// piecewise-linear empirical inverse CDF). Rounding to whole tokens and
    /// the floor of 1 token are ignored: they move the mean by under a token.
    pub fn mean(&self) -> f64 {
        match self {
            TokenDist::Fixed(v) => *v as f64,
            TokenDist::LogNormal { mu, sigma, max } => {
                // E[min(X, m)] = e^(mu + s^2/2) Phi((ln m - mu - s^2)/s) + m (1 - Phi((ln m - mu)/s))
                let m = *max as f64;
                let (s, lm) = (*sigma, m.ln());
                if s == 0.0 {
                    return mu.exp().min(m);
                }
                (mu + s * s / 2.0).exp() * normal_cdf((lm - mu - s * s) / s)
                    + m * (1.0 - normal_cdf((lm - mu) / s))
            }
            TokenDist::Exponential { mean, max } => mean * (1.0 - (-(*max as f64) / mean).exp()),
            TokenDist::Empirical { points, max } => {
                // Each linear piece, capped at max, integrated exactly.
                let m = *max as f64;
                points
                    .windows(2)
                    .map(|w| {
                        let ((q0, v0), (q1, v1)) = (w[0], w[1]);
                        let dq = q1 - q0;
                        if v1 <= m {
                            dq * (v0 + v1) / 2.0
                        } else if v0 >= m {
                            dq * m
                        } else {
                            let f = (m - v0) / (v1 - v0);
                            dq * f * (v0 + m) / 2.0 + dq * (1.0 - f) * m
                        }
                    })
                    .sum()
            }
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            TokenDist::Fixed(v) => format!("fixed {v}"),
            TokenDist::LogNormal { mu, sigma, .. } => format!(
                "lognormal, median {:.0}, p90 {:.0}",
                mu.exp(),
                (mu + sigma * Z90).exp()
            ),
            TokenDist::Exponential { mean, .. } => format!("exponential, mean {mean:.0}"),
            TokenDist::Empirical { points, .. } => {
                format!(
                    "empirical, {} quantile points, median {:.0}",
                    points.len(),
                    interpolate(points, 0.5)
                )
            }
        }
    }
}

/// The standard normal CDF, from erfc (Numerical Recipes' erfcc, relative
/// error under 1.2e-7 everywhere).
pub fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    0.5 * erfc
}

fn interpolate(points: &[(f64, f64)], u: f64) -> f64 {
    let i = points
        .partition_point(|(q, _)| *q <= u)
        .clamp(1, points.len() - 1);
    let (q0, v0) = points[i - 1];
    let (q1, v1) = points[i];
    if q1 <= q0 {
        return v1;
    }
    v0 + (v1 - v0) * ((u - q0) / (q1 - q0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::{stream, Purpose};

    fn spec(rps: f64) -> ArrivalSpec {
        ArrivalSpec {
            process: ArrivalProcess::Poisson,
            mean_rps: rps,
            hourly: [1.0; 24],
            weekday: [1.0; 7],
            overdispersion: 0.0,
            burst_interval_s: 60,
        }
    }

    fn count(spec: &ArrivalSpec, hours: u64) -> Vec<u64> {
        let mut rng = stream(3, 0, Purpose::Arrivals, 0);
        let mut g = ArrivalGen::new(spec, 0, &mut rng);
        let mut per_hour = vec![0u64; hours as usize];
        let mut last = 0;
        while let Some(t) = g.next(hours * US_PER_HOUR, &mut rng) {
            assert!(t >= last, "arrivals must not go back in time");
            last = t;
            per_hour[(t / US_PER_HOUR) as usize] += 1;
        }
        per_hour
    }

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(Z90) - 0.9).abs() < 1e-7);
        assert!((normal_cdf(-Z99) - 0.01).abs() < 1e-7);
        assert!((normal_cdf(-1.959_963_985) - 0.025).abs() < 1e-7);
    }

    #[test]
    fn token_means_match_sample_means() {
        let dists = [
            TokenDist::Fixed(300),
            TokenDist::lognormal(1200.0, 4000.0, 128_000),
            // A cap that bites: p90 far above max.
            TokenDist::lognormal(250.0, 5000.0, 2_000),
            TokenDist::Exponential {
                mean: 500.0,
                max: 800,
            },
            TokenDist::Empirical {
                points: vec![(0.0, 10.0), (0.5, 100.0), (0.9, 1000.0), (1.0, 9000.0)],
                max: 4000,
            },
        ];
        for d in &dists {
            let mut rng = stream(11, 0, Purpose::Tokens, 0);
            let n = 400_000;
            let mut sum = 0.0;
            let mut sq = 0.0;
            for _ in 0..n {
                let x = d.sample(&mut rng) as f64;
                sum += x;
                sq += x * x;
            }
            let mean = sum / n as f64;
            let se = ((sq / n as f64 - mean * mean) / n as f64).sqrt();
            // Five standard errors plus one token for rounding.
            assert!(
                (d.mean() - mean).abs() < 5.0 * se + 1.0,
                "{}: closed form {} vs sampled {mean} (se {se})",
                d.describe(),
                d.mean()
            );
        }
    }

    #[test]
    fn poisson_count_matches_rate() {
        let n: u64 = count(&spec(10.0), 10).iter().sum();
        let expected = 10.0 * 36_000.0;
        // Poisson sd = sqrt(360000) = 600; 5 sd.
        assert!((n as f64 - expected).abs() < 3000.0, "{n}");
    }

    #[test]
    fn diurnal_profile_shapes_hourly_counts() {
        let mut s = spec(5.0);
        s.hourly = shape_profile(14.0, 4.0);
        let per_hour = count(&s, 24);
        let peak = per_hour[14] as f64;
        let trough = per_hour[2] as f64;
        let expected = 4.0;
        assert!((peak / trough - expected).abs() < 0.5, "{peak}/{trough}");
    }

    #[test]
    fn deterministic_arrivals_are_evenly_spaced() {
        let mut s = spec(2.0);
        s.process = ArrivalProcess::Deterministic;
        assert_eq!(count(&s, 1)[0], 7199, "every 0.5 s in [0, 3600) after t=0");
    }

    #[test]
    fn overdispersion_raises_index_of_dispersion() {
        let mut s = spec(1.0);
        s.overdispersion = 0.5;
        s.burst_interval_s = 60;
        let mut rng = stream(9, 0, Purpose::Arrivals, 0);
        let mut g = ArrivalGen::new(&s, 0, &mut rng);
        let mut per_min = vec![0f64; 24 * 60];
        while let Some(t) = g.next(24 * US_PER_HOUR, &mut rng) {
            per_min[(t / 60_000_000) as usize] += 1.0;
        }
        let n = per_min.len() as f64;
        let mean = per_min.iter().sum::<f64>() / n;
        let var = per_min.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // Theory: 1 + k * mean = 1 + 0.5 * 60 = 31.
        let iod = var / mean;
        assert!((20.0..45.0).contains(&iod), "index of dispersion {iod}");
    }

    #[test]
    fn lognormal_median_and_p90() {
        let d = TokenDist::lognormal(500.0, 2000.0, 1_000_000);
        let mut rng = stream(1, 0, Purpose::Tokens, 0);
        let mut v: Vec<u32> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let median = v[v.len() / 2] as f64;
        let p90 = v[v.len() * 9 / 10] as f64;
        assert!((median / 500.0 - 1.0).abs() < 0.02, "{median}");
        assert!((p90 / 2000.0 - 1.0).abs() < 0.03, "{p90}");
    }

    #[test]
    fn empirical_interpolates() {
        let pts = vec![(0.0, 10.0), (0.5, 100.0), (1.0, 1000.0)];
        assert_eq!(interpolate(&pts, 0.0), 10.0);
        assert_eq!(interpolate(&pts, 0.25), 55.0);
        assert_eq!(interpolate(&pts, 0.75), 550.0);
        assert_eq!(interpolate(&pts, 1.0), 1000.0);
    }

    #[test]
    fn shape_profile_has_mean_one_and_ratio() {
        let p = shape_profile(14.0, 3.0);
        let mean = p.iter().sum::<f64>() / 24.0;
        assert!((mean - 1.0).abs() < 1e-9);
        let max = p.iter().cloned().fold(f64::MIN, f64::max);
        let min = p.iter().cloned().fold(f64::MAX, f64::min);
        // Hour midpoints miss the exact peak slightly.
        assert!((max / min - 3.0).abs() < 0.05, "{}", max / min);
    }
}
