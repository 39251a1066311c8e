//! Limits on user-controlled sizes, shared by validation (which refuses inputs
//! past them, naming the key) and the model (which relies on them).

/// Waiting requests whose start times are kept to count the queue. A bounded
/// queue (`max_queue`) never exceeds it; an unbounded one that does is hopelessly
/// overloaded, and beyond it the queue length seen by arrivals is reported as
/// saturated instead of growing memory with every request.
pub const MAX_TRACKED_QUEUE: usize = 1 << 20;

/// Longest horizon, hours: three leap years (a 36-month commitment ladder at hourly
/// resolution; scripts/bench_long_horizon.sh measures its memory).
pub const MAX_HORIZON_HOURS: f64 = 24.0 * 366.0 * 3.0;

/// Slots of one reserved pool (units x concurrency_per_unit): each slot is a
/// heap entry in the simulation.
pub const MAX_SLOTS: u64 = 10_000_000;

/// Points of one sweep.
pub const MAX_POINTS: usize = 10_000;

/// Units `plan` may consider for one deployment (`--max-units`, `plan.max_units`).
pub const MAX_PLAN_UNITS: u32 = 10_000_000;

/// Replications of one scenario, sweep point or plan configuration.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Passes of a tiled trace over the horizon (each pass reads the file again):
/// with a large `time_scale` a short trace would otherwise be replayed billions
/// of times.
pub const MAX_TILED_PASSES: f64 = 1e8;

/// Simulated hours of one command: replications x horizon, summed over the
/// points of a sweep (and per configuration of a plan). Memory does not grow
/// with it, time does: 10^8 hours is about 11,400 simulated years.
pub const MAX_REPLICATION_HOURS: f64 = 1e8;

/// Requests one command may be expected to simulate (the estimate `llmcap
/// validate` prints): 10^12 is about 37 hours on one core at the benchmarked
/// 7.5 million requests per second.
pub const MAX_EXPECTED_REQUESTS: f64 = 1e12;

/// Expected random outage windows of one replication, summed over outages and
/// the deployments each covers: every window is kept in memory while the
/// replication runs.
pub const MAX_OUTAGE_WINDOWS: f64 = 1e6;

/// Workloads of one `pick` profile: each is simulated on every platform that
/// sells its model, on demand and with a reserved plan.
pub const MAX_PICK_WORKLOADS: usize = 100;
