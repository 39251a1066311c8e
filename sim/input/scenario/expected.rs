//! Expected requests per simulated hour of a replayed trace: each second's
//! requests land at offset + pass x period + second / time_scale. The work is
//! O(rows + hours) whatever the time scale: a direct sum over passes while it
//! is small, else a closed form over one pass's cumulative counts.

/// Requests per whole second after the trace's first request (trace time),
/// for the seconds that have any, in order.
#[derive(Debug, Default)]
pub(super) struct SecondCounts(Vec<(u64, u32)>);

impl SecondCounts {
    /// Counts a request `sec` whole seconds after the first (never earlier
    /// than the last one counted: traces are sorted by time).
    pub(super) fn add(&mut self, sec: u64) {
        match self.0.last_mut() {
            Some((s, n)) if *s == sec => *n += 1,
            _ => self.0.push((sec, 1)),
        }
    }
}

/// Passes x distinct seconds the direct sum may take before the closed form
/// is used (the direct sum adds in the simulator's order; both agree).
const DIRECT_BUDGET: f64 = 20_000_000.0;

/// How a trace is laid over the horizon, in simulated seconds.
pub(super) struct Layout {
    pub horizon_hours: u32,
    pub offset_s: f64,
    pub period_s: f64,
    pub time_scale: f64,
    pub rate_scale: f64,
    pub tile: bool,
}

impl Layout {
    /// Passes of the trace that start within the horizon.
    pub(super) fn passes(&self) -> f64 {
        let horizon_s = self.horizon_hours as f64 * 3600.0;
        if self.offset_s >= horizon_s {
            0.0
        } else if self.tile {
            ((horizon_s - self.offset_s) / self.period_s).ceil()
        } else {
            1.0
        }
    }
}

/// Expected requests in each simulated hour.
pub(super) fn expected_per_hour(counts: &SecondCounts, l: &Layout) -> Vec<f64> {
    if l.passes() * counts.0.len() as f64 <= DIRECT_BUDGET {
        direct(&counts.0, l)
    } else {
        closed_form(&counts.0, l)
    }
}

/// Every (pass, second) placed one by one.
fn direct(counts: &[(u64, u32)], l: &Layout) -> Vec<f64> {
    let horizon_s = l.horizon_hours as f64 * 3600.0;
    let mut expected = vec![0.0; l.horizon_hours as usize];
    let mut pass = 0u64;
    loop {
        let start = l.offset_s + pass as f64 * l.period_s;
        if start >= horizon_s {
            break;
        }
        for &(sec, n) in counts {
            let t = start + sec as f64 / l.time_scale;
            if t >= horizon_s {
                break;
            }
            expected[(t / 3600.0) as usize] += n as f64 * l.rate_scale;
        }
        pass += 1;
        if !l.tile {
            break;
        }
    }
    expected
}

/// Requests before time t (simulated seconds) = whole passes x the pass's
/// requests + the requests of the partial pass, from cumulative counts.
fn closed_form(counts: &[(u64, u32)], l: &Layout) -> Vec<f64> {
    let at: Vec<f64> = counts
        .iter()
        .map(|&(s, _)| s as f64 / l.time_scale)
        .collect();
    let mut cumulative = Vec::with_capacity(counts.len() + 1);
    cumulative.push(0u64);
    for &(_, n) in counts {
        cumulative.push(cumulative[cumulative.len() - 1] + n as u64);
    }
    let per_pass = cumulative[counts.len()] as f64;
    let within = |x: f64| cumulative[at.partition_point(|&a| a < x)] as f64;
    let before = |t: f64| {
        if t <= l.offset_s {
            return 0.0;
        }
        let u = t - l.offset_s;
        if !l.tile {
            return within(u);
        }
        let full = (u / l.period_s).floor();
        full * per_pass + within(u - full * l.period_s)
    };
    let horizon_s = l.horizon_hours as f64 * 3600.0;
    (0..l.horizon_hours)
        .map(|h| {
            let (a, b) = (h as f64 * 3600.0, ((h + 1) as f64 * 3600.0).min(horizon_s));
            (before(b) - before(a)) * l.rate_scale
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(v: &[(u64, u32)]) -> SecondCounts {
        SecondCounts(v.to_vec())
    }

    #[test]
    fn seconds_are_counted_in_runs() {
        let mut c = SecondCounts::default();
        for s in [0, 0, 3, 3, 3, 9] {
            c.add(s);
        }
        assert_eq!(c.0, vec![(0, 2), (3, 3), (9, 1)]);
    }

    /// The closed form and the direct sum agree hour by hour (times chosen
    /// off the hour boundaries), tiled or not, with an offset and a scale.
    #[test]
    fn the_closed_form_matches_the_direct_sum() {
        let c = counts(&[(0, 2), (7, 1), (13, 3), (400, 5), (1201, 4)]);
        for (tile, time_scale, offset_s) in [
            (true, 1.7, 123.4),
            (true, 0.31, 0.0),
            (false, 1.3, 77.7),
            (true, 3.3, 5000.1),
        ] {
            let span = 1201.0;
            let l = Layout {
                horizon_hours: 7,
                offset_s,
                period_s: (span + span / 4.0) / time_scale,
                time_scale,
                rate_scale: 1.5,
                tile,
            };
            let (d, f) = (direct(&c.0, &l), closed_form(&c.0, &l));
            assert_eq!(d.len(), 7);
            for h in 0..7 {
                assert!(
                    (d[h] - f[h]).abs() < 1e-6 * d[h].max(1.0),
                    "tile {tile}, scale {time_scale}, offset {offset_s}, hour {h}: {} vs {}",
                    d[h],
                    f[h]
                );
            }
            assert!(d.iter().sum::<f64>() > 0.0);
        }
    }

    /// Two rows replayed a million times faster over a day: the closed form
    /// takes O(hours), not one step per pass (4.3e10 passes).
    #[test]
    fn a_huge_time_scale_is_summed_in_closed_form() {
        let c = counts(&[(0, 1), (1, 1)]);
        let l = Layout {
            horizon_hours: 24,
            offset_s: 0.0,
            period_s: 2.0 / 1e6,
            time_scale: 1e6,
            rate_scale: 1.0,
            tile: true,
        };
        let e = expected_per_hour(&c, &l);
        for v in &e {
            assert!((v - 3.6e9).abs() < 1.0, "{v}");
        }
    }
}
