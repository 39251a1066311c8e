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
use rand_distr::{Distribution, Exp1, Gamma};

use crate::domain::trace::{TraceOpener, TraceRows, TraceSource};
use crate::domain::{ArrivalProcess, ArrivalSpec};
use crate::model::engine::{SimTime, US_PER_HOUR, US_PER_SEC};
use crate::model::rng::SimRng;

/// Generates the arrival times of one request class.
pub struct ArrivalGen {
    spec: ArrivalSpec,
    /// Day of simulated hour 0, days since 1970-01-01.
    start_date: i64,
    segment_us: u64,
    /// Absolute time in seconds of the last arrival or boundary.
    t: f64,
    seg_end_us: u64,
    rate: f64,
    hazard: f64,
    gamma: Option<Gamma<f64>>,
}

impl ArrivalGen {
    pub fn new(spec: &ArrivalSpec, start_date: i64, rng: &mut SimRng) -> Self {
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
            start_date,
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
            .rate_in_hour(start_us / US_PER_HOUR, self.start_date);
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
/// counts, one record at a time from the file, which `open` (the input stage's
/// reader) opens again for each tiled pass.
pub struct TraceArrivals {
    src: TraceSource,
    open: TraceOpener,
    reader: Option<TraceRows>,
    pass: u64,
    current: (SimTime, u32, u32),
    copies_left: u32,
    /// Unusable rows skipped (only with bad_rows = "skip"; validation stops otherwise).
    pub skipped: u64,
    /// Usable rows read in the current pass.
    rows_this_pass: u64,
    /// Why the replay stopped early: the file could not be opened again, or it
    /// is not what validation read (a bad row, another number of usable rows).
    /// The run must fail rather than report the missing arrivals as a result.
    pub failure: Option<String>,
}

impl TraceArrivals {
    pub fn new(src: &TraceSource, open: TraceOpener) -> Self {
        let mut t = TraceArrivals {
            reader: None,
            open,
            src: src.clone(),
            pass: 0,
            current: (0, 0, 0),
            copies_left: 0,
            skipped: 0,
            rows_this_pass: 0,
            failure: None,
        };
        t.reopen();
        t
    }

    /// Opens the file for the next pass, or records why it cannot be.
    fn reopen(&mut self) {
        self.rows_this_pass = 0;
        self.reader = match (self.open)(&self.src) {
            Ok(r) => Some(r),
            Err(e) => {
                self.failure = Some(format!(
                    "{}: the trace could not be read again during the run (it was read at validation): {e}",
                    self.src.path.display()
                ));
                None
            }
        };
    }

    /// Stops the replay: the file is not what validation read.
    fn changed(&mut self, what: String) -> Option<(SimTime, u32, u32)> {
        self.failure = Some(format!(
            "{}: the trace changed after validation: {what}",
            self.src.path.display()
        ));
        self.reader = None;
        None
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
                Some(Err(bad)) => {
                    if !self.src.skip_bad_rows {
                        return self.changed(bad.to_string());
                    }
                    // Counted once, not again on every tiling pass.
                    if self.pass == 0 {
                        self.skipped += 1;
                    }
                    continue;
                }
                None => {
                    if self.rows_this_pass != self.src.stats.requests {
                        let what = format!(
                            "validation read {} usable rows, the replay {}",
                            self.src.stats.requests, self.rows_this_pass
                        );
                        return self.changed(what);
                    }
                    if !self.src.tile || empty_passes > 0 {
                        return None;
                    }
                    empty_passes += 1;
                    self.pass += 1;
                    self.reopen();
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
            self.rows_this_pass += 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::traffic::{shape_profile, Growth, TokenDist};
    use crate::model::rng::{stream, Purpose};

    fn spec(rps: f64) -> ArrivalSpec {
        ArrivalSpec {
            hour_of_week: None,
            process: ArrivalProcess::Poisson,
            mean_rps: rps,
            hourly: [1.0; 24],
            weekday: [1.0; 7],
            overdispersion: 0.0,
            burst_interval_s: 60,
            growth: Growth::None,
            seasonality: [1.0; 12],
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
    fn growth_and_seasonality_shape_monthly_counts() {
        // Months from 2026-02-01: February (28 days) at 1x, March (31) at 2x,
        // April (30) at 2x times a seasonal April of 1.5 (factors mean 1).
        let start = crate::domain::time::parse_date("2026-02-01").unwrap();
        let mut s = spec(0.05);
        s.growth = Growth::Multipliers(vec![1.0, 2.0]);
        let mut season = [1.0; 12];
        season[3] = 1.5;
        season[9] = 0.5;
        s.seasonality = season;
        let days = [28u64, 31, 30];
        let hours: u64 = days.iter().sum::<u64>() * 24;
        let mut rng = stream(5, 0, Purpose::Arrivals, 0);
        let mut g = ArrivalGen::new(&s, start, &mut rng);
        let mut per_month = [0f64; 3];
        let ends = [28 * 24, 59 * 24, 89 * 24];
        while let Some(t) = g.next(hours * US_PER_HOUR, &mut rng) {
            let h = t / US_PER_HOUR;
            per_month[ends.iter().position(|e| h < *e).unwrap()] += 1.0;
        }
        for (m, (n, level)) in per_month.iter().zip([1.0, 2.0, 3.0]).enumerate() {
            let expected = 0.05 * 86_400.0 * days[m] as f64 * level;
            // Poisson: 5 standard deviations.
            assert!(
                (n - expected).abs() < 5.0 * expected.sqrt(),
                "month {m}: {n} vs {expected}"
            );
        }
        let by_hand: f64 = (0..3)
            .map(|m| 0.05 * 86_400.0 * days[m] as f64 * [1.0, 2.0, 3.0][m])
            .sum();
        assert!((s.expected_arrivals(hours as u32, start) - by_hand).abs() < 1e-6 * by_hand);
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
}
