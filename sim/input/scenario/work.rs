//! Bounded work: the simulated hours, requests and outage windows a validated
//! scenario asks for, checked against `domain::limits` before anything runs.

use crate::domain::limits::{MAX_EXPECTED_REQUESTS, MAX_OUTAGE_WINDOWS, MAX_REPLICATION_HOURS};
use crate::domain::{Growth, OutageSchedule, Scenario};
use crate::error::InputError;
use crate::format::count;
use crate::input::document::Checker;

/// What one scenario (all its replications) costs to simulate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    /// Replications x horizon.
    pub hours: f64,
    /// Expected arrivals over all replications.
    pub requests: f64,
}

impl Work {
    pub fn of(sc: &Scenario) -> Work {
        let reps = sc.replications as f64;
        Work {
            hours: reps * sc.horizon_hours as f64,
            requests: reps * per_replication(sc).iter().sum::<f64>(),
        }
    }
}

/// Expected arrivals of each class in one replication.
fn per_replication(sc: &Scenario) -> Vec<f64> {
    sc.classes
        .iter()
        .map(|c| c.expected_arrivals(sc.horizon_hours, sc.start_date))
        .collect()
}

/// Expected random outage windows of one replication, per outage (times the
/// deployments each covers).
fn outage_windows(sc: &Scenario) -> Vec<f64> {
    let horizon_us = sc.horizon_us() as f64;
    sc.outages
        .iter()
        .map(|o| match o.schedule {
            OutageSchedule::Window { .. } => o.deployments.len() as f64,
            OutageSchedule::Random { mtbf_us, mttr_us } => {
                (horizon_us / (mtbf_us + mttr_us) + 1.0) * o.deployments.len() as f64
            }
        })
        .collect()
}

fn largest(v: &[f64]) -> usize {
    (0..v.len())
        .max_by(|&a, &b| v[a].total_cmp(&v[b]))
        .unwrap_or(0)
}

/// Refuses a scenario whose work is past the limits, naming the key that
/// contributes most; passes it through otherwise.
pub(super) fn checked(c: &Checker, sc: Scenario) -> Result<Scenario, InputError> {
    check(c, &sc)?;
    Ok(sc)
}

fn check(c: &Checker, sc: &Scenario) -> Result<(), InputError> {
    let w = Work::of(sc);
    if w.hours > MAX_REPLICATION_HOURS {
        return Err(c.err(
            "scenario.replications",
            format!(
                "{} replications x {} h is {} simulated hours; at most {} are allowed: use fewer replications or a shorter horizon",
                sc.replications,
                sc.horizon_hours,
                count(w.hours),
                count(MAX_REPLICATION_HOURS)
            ),
        ));
    }
    if w.requests > MAX_EXPECTED_REQUESTS {
        let per_class = per_replication(sc);
        let i = largest(&per_class);
        // A growing class is named by its growth: that is what multiplies the work.
        let (key, what) = match sc.classes[i].arrivals.growth {
            Growth::None => ("arrivals", "the rate, the horizon or the replications"),
            _ => (
                "arrivals.growth",
                "the growth, the rate, the horizon or the replications",
            ),
        };
        return Err(c.err(
            format!("class[{i}].{key}"),
            format!(
                "the scenario would simulate about {} requests ({} replication(s) of {} h; class \"{}\" alone {} per replication); at most {} are allowed: lower {what}",
                count(w.requests),
                sc.replications,
                sc.horizon_hours,
                sc.classes[i].name,
                count(per_class[i]),
                count(MAX_EXPECTED_REQUESTS)
            ),
        ));
    }
    let windows = outage_windows(sc);
    let total: f64 = windows.iter().sum();
    if total > MAX_OUTAGE_WINDOWS {
        let i = largest(&windows);
        return Err(c.err(
            format!("outage[{i}].mtbf_hours"),
            format!(
                "random outages would open about {} windows per replication over {} h ({} from \"{}\"); at most {} are allowed: a longer mtbf_hours or mttr_hours, or a shorter horizon",
                count(total),
                sc.horizon_hours,
                count(windows[i]),
                sc.outages[i].name,
                count(MAX_OUTAGE_WINDOWS)
            ),
        ));
    }
    Ok(())
}
