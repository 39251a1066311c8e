//! Traffic as data: arrival specs (rate profiles), token-count distributions and
//! the normal-distribution helpers they need. Sampling takes any `rand::Rng`, so
//! this module needs no simulation type; the generators live in `model::traffic`.

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::domain::time;

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
    /// `arrivals.hour_of_week`: 168 multipliers (Monday 00:00 first), mean 1, used instead of
    /// `hourly` x `weekday` when a week's shape is not one daily shape scaled by day (office
    /// hours on weekdays, a flat weekend). `hourly` and `weekday` then hold its averages by hour
    /// and by day, for reports.
    pub hour_of_week: Option<Vec<f64>>,
    pub overdispersion: f64,
    pub burst_interval_s: u32,
    /// Growth by month since the start (months counted by anniversary, see
    /// [`crate::domain::time::months_since`]).
    pub growth: Growth,
    /// Month-of-year factors (January first), mean 1.
    pub seasonality: [f64; 12],
}

/// How a class's rate grows, month by month from the start of the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Growth {
    /// The same level every month.
    #[default]
    None,
    /// `growth = { monthly = g }`: month m runs at (1 + g)^m.
    Compound(f64),
    /// `growth = { multipliers = [...] }`: month m runs at `v[m]`, the last
    /// value holding after the list ends.
    Multipliers(Vec<f64>),
}

impl Growth {
    /// The multiplier of month `m` (0 = the month the run starts in).
    pub fn factor(&self, m: u32) -> f64 {
        match self {
            Growth::None => 1.0,
            Growth::Compound(g) => (1.0 + g).powi(m.min(i32::MAX as u32) as i32),
            Growth::Multipliers(v) => v.get(m as usize).or(v.last()).copied().unwrap_or(1.0),
        }
    }

    /// A one-line description for reports, or None for no growth.
    pub fn describe(&self) -> Option<String> {
        match self {
            Growth::None => None,
            Growth::Compound(g) => Some(format!("{:+}% a month, compounding", g * 100.0)),
            Growth::Multipliers(v) => Some(format!("{} monthly multipliers", v.len())),
        }
    }
}

impl ArrivalSpec {
    /// Profile rate (requests per second) in simulated hour `hour` of a run
    /// whose hour 0 is 00:00 UTC of day `start_date` (days since 1970-01-01):
    /// mean_rps x hour of day x day of week x month of year x growth.
    pub fn rate_in_hour(&self, hour: u64, start_date: i64) -> f64 {
        let hod = (hour % 24) as usize;
        let day = start_date + (hour / 24) as i64;
        let dow = time::weekday(day) as usize;
        let shape = match &self.hour_of_week {
            Some(w) => w[dow * 24 + hod],
            None => self.hourly[hod] * self.weekday[dow],
        };
        let base = self.mean_rps * shape;
        if self.growth == Growth::None && self.seasonality == [1.0; 12] {
            return base;
        }
        let moy = time::month_of_year(day) as usize - 1;
        base * self.seasonality[moy] * self.growth.factor(time::months_since(start_date, day))
    }

    /// Expected arrivals over the first `hours` hours.
    pub fn expected_arrivals(&self, hours: u32, start_date: i64) -> f64 {
        (0..hours as u64)
            .map(|h| self.rate_in_hour(h, start_date) * 3600.0)
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

    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
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

    #[test]
    fn normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(Z90) - 0.9).abs() < 1e-7);
        assert!((normal_cdf(-Z99) - 0.01).abs() < 1e-7);
        assert!((normal_cdf(-1.959_963_985) - 0.025).abs() < 1e-7);
    }

    #[test]
    fn empirical_interpolates() {
        let pts = vec![(0.0, 10.0), (0.5, 100.0), (1.0, 1000.0)];
        assert_eq!(interpolate(&pts, 0.0), 10.0);
        assert_eq!(interpolate(&pts, 0.25), 55.0);
        assert_eq!(interpolate(&pts, 0.75), 550.0);
        assert_eq!(interpolate(&pts, 1.0), 1000.0);
    }

    /// With `hour_of_week`, hour h of day d runs at mean x w[24 d + h], whatever hourly and
    /// weekday hold: 2026-01-05 is a Monday, so hour 24 x 5 + 10 of a run from it is Saturday
    /// 10:00.
    #[test]
    fn hour_of_week_replaces_hourly_times_weekday() {
        let start = time::parse_date("2026-01-05").unwrap();
        let w: Vec<f64> = (0..168)
            .map(|i| if i == 5 * 24 + 10 { 3.0 } else { 0.5 })
            .collect();
        let a = ArrivalSpec {
            hour_of_week: Some(w),
            process: ArrivalProcess::Poisson,
            mean_rps: 2.0,
            hourly: [2.0; 24],
            weekday: [2.0; 7],
            overdispersion: 0.0,
            burst_interval_s: 60,
            growth: Growth::None,
            seasonality: [1.0; 12],
        };
        assert_eq!(a.rate_in_hour(5 * 24 + 10, start), 6.0);
        assert_eq!(a.rate_in_hour(5 * 24 + 11, start), 1.0);
        // A week later, the same hour of the week.
        assert_eq!(a.rate_in_hour(168 + 5 * 24 + 10, start), 6.0);
    }

    #[test]
    fn growth_and_seasonality_over_three_months_by_hand() {
        // 2026-01-01 .. 2026-04-01: January (31 days), February (28), March (31).
        let start = time::parse_date("2026-01-01").unwrap();
        let mut a = ArrivalSpec {
            hour_of_week: None,
            process: ArrivalProcess::Poisson,
            mean_rps: 1.0,
            hourly: [1.0; 24],
            weekday: [1.0; 7],
            overdispersion: 0.0,
            burst_interval_s: 60,
            growth: Growth::Compound(0.10),
            seasonality: [1.0; 12],
        };
        let hours = 24 * (31 + 28 + 31);
        // Months 0, 1, 2 at 1, 1.1, 1.21 requests/s: 86,400 x (31 + 30.8 + 37.51).
        let by_hand = 86_400.0 * (31.0 + 28.0 * 1.1 + 31.0 * 1.21);
        assert!((a.expected_arrivals(hours, start) - by_hand).abs() < 1e-6 * by_hand);
        // January twice the other months; normalised to mean 1: 24/13 and 12/13.
        let mut s = [12.0 / 13.0; 12];
        s[0] = 24.0 / 13.0;
        a.seasonality = s;
        a.growth = Growth::Multipliers(vec![1.0, 2.0]);
        let by_hand =
            86_400.0 * (31.0 * 24.0 / 13.0 + 28.0 * 2.0 * 12.0 / 13.0 + 31.0 * 2.0 * 12.0 / 13.0);
        assert!((a.expected_arrivals(hours, start) - by_hand).abs() < 1e-6 * by_hand);
        // Month 1 starts at midnight of 1 February: hour 743 is January, 744 February.
        assert!((a.rate_in_hour(743, start) - 24.0 / 13.0).abs() < 1e-12);
        assert!((a.rate_in_hour(744, start) - 24.0 / 13.0).abs() < 1e-12);
        assert!(
            (a.rate_in_hour(24 * 59, start) - 24.0 / 13.0).abs() < 1e-12,
            "March, month 2"
        );
    }

    #[test]
    fn growth_factors() {
        assert_eq!(Growth::None.factor(30), 1.0);
        assert!((Growth::Compound(0.05).factor(12) - 1.795_856_326_022_129).abs() < 1e-12);
        let m = Growth::Multipliers(vec![1.0, 1.5, 3.0]);
        assert_eq!((m.factor(0), m.factor(2), m.factor(36)), (1.0, 3.0, 3.0));
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
