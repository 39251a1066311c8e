//! Closed forms from queueing theory, used to cross-check simulated results in
//! the report. (The test suite has its own independent implementations.)

use crate::domain::{ArrivalProcess, TokenDist};
use crate::domain::{Pool, Scenario};

/// Erlang C: the probability that an arrival waits in an M/M/c queue with
/// offered load `a` = lambda / mu (requires a < c). Computed with the stable
/// Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), then
/// C = c B / (c - a (1 - B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// What M/M/c theory predicts for a reserved pool, and its inputs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MmcPrediction {
    pub servers: u32,
    /// Arrivals per second.
    pub lambda: f64,
    /// Services per second per slot.
    pub mu: f64,
    /// lambda / (c mu).
    pub rho: f64,
    /// Erlang C.
    pub p_wait: f64,
    /// Mean wait in queue, milliseconds: C / (c mu - lambda).
    pub mean_wait_ms: f64,
    /// Mean number waiting: lambda x Wq (Little's law).
    pub mean_queue_length: f64,
}

/// The M/M/c prediction for deployment `d`, when the scenario makes it an
/// M/M/c queue: one class sends it all its traffic first, as a constant-rate
/// Poisson process, with exponential weighted sizes (exponential input tokens
/// and no weighted output), and the pool has no queue or wait bound. None
/// otherwise, or when the queue is unstable (rho >= 1).
pub fn mmc_prediction(sc: &Scenario, d: usize) -> Option<MmcPrediction> {
    let Pool::Reserved(r) = &sc.deployments[d].pool else {
        return None;
    };
    if r.max_queue.is_some() || r.max_wait_us.is_some() {
        return None;
    }
    let mut users = sc.classes.iter().filter(|c| c.route.contains(&d));
    let class = users.next()?;
    if users.next().is_some() || class.route.first() != Some(&d) {
        return None;
    }
    let a = &class.arrivals;
    let flat = |v: &[f64]| v.iter().all(|x| (x - 1.0).abs() < 1e-12);
    if a.process != ArrivalProcess::Poisson
        || a.overdispersion > 0.0
        || !flat(&a.hourly)
        || !flat(&a.weekday)
        || a.hour_of_week.is_some()
    {
        return None;
    }
    let TokenDist::Exponential { mean, max } = class.input_tokens else {
        return None;
    };
    let no_weighted_output = r.output_weight == 0.0 || class.output_tokens == TokenDist::Fixed(0);
    // Clamping at `max` must not bend the exponential noticeably.
    if !no_weighted_output || (max as f64) < 30.0 * mean {
        return None;
    }
    let slots = r.slots();
    let slot_tokens_per_s = r.units as f64 * r.tpm_per_unit / 60.0 / slots as f64;
    let lambda = a.mean_rps;
    let mu = slot_tokens_per_s / mean;
    let rho = lambda / (slots as f64 * mu);
    if rho >= 1.0 {
        return None;
    }
    let p_wait = erlang_c(slots, lambda / mu);
    let wq = p_wait / (slots as f64 * mu - lambda);
    Some(MmcPrediction {
        servers: slots,
        lambda,
        mu,
        rho,
        p_wait,
        mean_wait_ms: wq * 1000.0,
        mean_queue_length: lambda * wq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_known_values() {
        // M/M/1: P(wait) = rho.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        // c = 2, a = 1: C = 1/3 (textbook value).
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Direct formula for c = 8, a = 6.
        let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
        let s: f64 = (0..8).map(|k| 6f64.powi(k) / fact(k as u32)).sum();
        let t = 6f64.powi(8) / fact(8) * 8.0 / 2.0;
        assert!((erlang_c(8, 6.0) - t / (s + t)).abs() < 1e-12);
    }
}
