//! The sustained-rate search: for each configuration on the frontier, the highest demand scale
//! that still meets the SLA, by bisection, simulated here or replayed from a second sharded
//! round's records.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use crate::analysis::sweep::{run_points_each, PointSummary};
use crate::domain::Scenario;

use super::price::Measured;
use super::Frontier;

/// The highest demand a frontier configuration sustains under the SLA.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rate {
    /// The highest demand scale found to meet the SLA (0 when none tried did).
    pub demand_scale: f64,
    /// The lowest scale found to miss it (None: it met the SLA at `max_demand_scale`, so the
    /// limit is at least there).
    pub missed_at: Option<f64>,
    /// `demand_scale` x the scenario's mean request rate.
    pub rps: f64,
    /// Simulations of the search (each all replications).
    pub evaluations: u32,
    /// Why the search stopped early, when it did.
    pub note: Option<String>,
}
/// One simulation of the sustained-rate search: a configuration at `scale` times the demand,
/// all replications.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    #[serde(with = "crate::analysis::shard::exact")]
    pub scale: f64,
    /// Whether every class met its SLA.
    pub meets: bool,
    /// Why the replications could not run (a replayed trace changed), when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// Where [`finish`] gets each searched configuration's evaluations.
pub enum Rates<'a> {
    /// Simulated here, on `threads` (one process, or a merge of the grid's shards alone).
    Simulate {
        threads: usize,
        progress: Option<&'a AtomicU64>,
    },
    /// Read from the shards of a second round ([`search_share`]): per searched configuration,
    /// its evaluations in the order the search made them.
    Recorded(BTreeMap<usize, Vec<Evaluation>>),
}

/// A recorded search that is not the one the search makes (a damaged or edited shard file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error(
        "configuration {config}: the search needs demand scale {scale}, which is not recorded"
    )]
    Missing { config: usize, scale: f64 },
    #[error("configuration {config}: {extra} recorded evaluation(s) the search does not make")]
    Extra { config: usize, extra: usize },
}

impl RecordError {
    /// The configuration whose record is wrong.
    pub fn config(&self) -> usize {
        match self {
            RecordError::Missing { config, .. } | RecordError::Extra { config, .. } => *config,
        }
    }
}

/// The searches of `configs` (a second round's share of [`searched`]) simulated on `threads`:
/// each configuration's evaluations in the order the search made them, which a merge replays
/// through the same search ([`Rates::Recorded`]).
pub fn search_share(
    f: &Frontier,
    measured: &[Measured],
    configs: &[usize],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> BTreeMap<usize, Vec<Evaluation>> {
    let mut recorded: BTreeMap<usize, Vec<Evaluation>> =
        configs.iter().map(|&c| (c, Vec::new())).collect();
    let mut simulate = simulate_trials(threads, progress);
    let searched = sustained_rates(f, measured, configs, |trials| {
        let evaluations = simulate(trials)?;
        for ((config, _, _), e) in trials.iter().zip(&evaluations) {
            recorded.entry(*config).or_default().push(e.clone());
        }
        Ok::<_, RecordError>(evaluations)
    });
    // Simulating never fails: a failure is an evaluation's note.
    debug_assert!(searched.is_ok());
    recorded
}

/// A trial of the search: (configuration, demand scale, the scaled scenario).
type Trial = (usize, f64, Scenario);

/// Evaluates trials by simulating them, all in one parallel batch.
pub(super) fn simulate_trials(
    threads: usize,
    progress: Option<&AtomicU64>,
) -> impl FnMut(&[Trial]) -> Result<Vec<Evaluation>, RecordError> + '_ {
    move |trials| {
        let scenarios: Vec<Scenario> = trials.iter().map(|t| t.2.clone()).collect();
        Ok(run_points_each(
            &scenarios,
            None,
            None,
            threads,
            progress,
            |i, reps, hist| Evaluation {
                scale: trials[i].1,
                meets: PointSummary::of(0.0, &reps, hist, false).meets_sla == Some(true),
                failure: reps.iter().find_map(|r| r.input_failure.clone()),
            },
        ))
    }
}

/// Evaluates the (configuration, scale) trials `asked` from recorded searches: each
/// configuration's next recorded evaluation (`cursor` counts those read), which must be at the
/// very scale the search asks for.
pub(super) fn replay(
    recorded: &BTreeMap<usize, Vec<Evaluation>>,
    cursor: &mut BTreeMap<usize, usize>,
    asked: &[(usize, f64)],
) -> Result<Vec<Evaluation>, RecordError> {
    asked
        .iter()
        .map(|&(config, scale)| {
            let at = cursor.entry(config).or_insert(0);
            let e = recorded
                .get(&config)
                .and_then(|list| list.get(*at))
                .filter(|e| e.scale.to_bits() == scale.to_bits())
                .ok_or(RecordError::Missing { config, scale })?;
            *at += 1;
            Ok(e.clone())
        })
        .collect()
}

/// One configuration's search: the bracket so far.
struct Search {
    config: usize,
    /// The highest scale known to meet the SLA (0: none yet; no traffic meets it trivially).
    lo: f64,
    /// The lowest scale known to miss it (None: not yet tried above `lo`).
    hi: Option<f64>,
    /// Bisection steps taken.
    steps: u32,
    evaluations: u32,
    note: Option<String>,
}

impl Search {
    /// The next scale to try, or None when done.
    fn next(&self, max_scale: f64, steps: u32) -> Option<f64> {
        if self.note.is_some() {
            return None;
        }
        match self.hi {
            None if self.lo >= max_scale => None,
            None => Some(max_scale),
            Some(hi) if self.steps < steps => Some((self.lo + hi) / 2.0),
            Some(_) => None,
        }
    }
}

/// The highest demand scale each of `configs` sustains under the SLA: known at scale 1 from
/// the grid; if it meets the SLA there, tried at `max_demand_scale`; then `rate_steps`
/// bisection steps between the highest scale that met and the lowest that missed. Each round,
/// every configuration's next scale goes to `evaluate` in one batch (simulated in parallel,
/// or read from a second round's shards): the one routine of the search, wherever it runs.
pub(super) fn sustained_rates<E>(
    f: &Frontier,
    measured: &[Measured],
    configs: &[usize],
    mut evaluate: impl FnMut(&[Trial]) -> Result<Vec<Evaluation>, E>,
) -> Result<BTreeMap<usize, Rate>, E> {
    let max_scale = f.options.max_demand_scale;
    let steps = f.options.rate_steps;
    let mut searches: Vec<Search> = configs
        .iter()
        .map(|&i| {
            let meets = measured[i].meets();
            Search {
                config: i,
                lo: if meets { 1.0 } else { 0.0 },
                hi: if meets { None } else { Some(1.0) },
                steps: 0,
                evaluations: 0,
                note: None,
            }
        })
        .collect();
    loop {
        let (mut batch, mut trials): (Vec<usize>, Vec<Trial>) = (Vec::new(), Vec::new());
        for (k, s) in searches.iter_mut().enumerate() {
            let Some(scale) = s.next(max_scale, steps) else {
                continue;
            };
            match f.scaled(s.config, scale) {
                Ok(sc) => {
                    batch.push(k);
                    trials.push((s.config, scale, sc));
                }
                Err(e) => s.note = Some(format!("demand scale {scale} cannot run: {e}")),
            }
        }
        if batch.is_empty() {
            break;
        }
        for (k, e) in batch.into_iter().zip(evaluate(&trials)?) {
            let s = &mut searches[k];
            s.evaluations += 1;
            if let Some(why) = e.failure {
                s.note = Some(why);
                continue;
            }
            if s.hi.is_some() {
                s.steps += 1;
            }
            if e.meets {
                s.lo = e.scale;
            } else {
                s.hi = Some(e.scale);
            }
        }
    }
    Ok(searches
        .into_iter()
        .map(|s| {
            (
                s.config,
                Rate {
                    demand_scale: s.lo,
                    missed_at: s.hi,
                    rps: s.lo * f.base_rps,
                    evaluations: s.evaluations,
                    note: s.note,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(lo: f64, hi: Option<f64>, steps: u32) -> Search {
        Search {
            config: 0,
            lo,
            hi,
            steps,
            evaluations: 0,
            note: None,
        }
    }
    #[test]
    fn a_replay_reads_each_search_in_order_at_the_scales_asked() {
        let e = |scale, meets| Evaluation {
            scale,
            meets,
            failure: None,
        };
        let recorded = BTreeMap::from([(0, vec![e(4.0, false), e(2.5, true)]), (3, vec![])]);
        let mut cursor = BTreeMap::new();
        assert_eq!(
            replay(&recorded, &mut cursor, &[(0, 4.0)]),
            Ok(vec![e(4.0, false)])
        );
        // The next one, at the scale the search asks for to the bit.
        let off = 2.5f64.next_up();
        assert_eq!(
            replay(&recorded, &mut cursor.clone(), &[(0, off)]),
            Err(RecordError::Missing {
                config: 0,
                scale: off
            })
        );
        assert_eq!(
            replay(&recorded, &mut cursor, &[(0, 2.5)]),
            Ok(vec![e(2.5, true)])
        );
        assert_eq!(cursor[&0], 2);
        // Past the end of a search, and a configuration with no record.
        for (config, scale) in [(0, 1.75), (3, 4.0), (7, 4.0)] {
            assert_eq!(
                replay(&recorded, &mut cursor, &[(config, scale)]),
                Err(RecordError::Missing { config, scale })
            );
        }
    }

    #[test]
    fn the_search_tries_the_top_then_bisects() {
        // Met at 1: try the top first.
        assert_eq!(search(1.0, None, 0).next(4.0, 3), Some(4.0));
        // Met at the top: done, the limit is at least there.
        assert_eq!(search(4.0, None, 0).next(4.0, 3), None);
        // Missed at the top: bisect between 1 and 4.
        assert_eq!(search(1.0, Some(4.0), 0).next(4.0, 3), Some(2.5));
        // Missed at 1: bisect below.
        assert_eq!(search(0.0, Some(1.0), 0).next(4.0, 3), Some(0.5));
        // Out of steps.
        assert_eq!(search(0.5, Some(0.75), 3).next(4.0, 3), None);
    }
}
