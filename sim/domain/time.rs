//! Simulated time: integer microseconds since the start of the run, so event
//! order never depends on float rounding.

/// Simulated time in microseconds since the start of the run.
pub type SimTime = u64;

pub const US_PER_SEC: u64 = 1_000_000;
pub const US_PER_MIN: u64 = 60 * US_PER_SEC;
pub const US_PER_HOUR: u64 = 3600 * US_PER_SEC;
