//! Domain types shared by the input stage (which builds them from files) and the
//! model (which simulates them): the validated scenario, traffic specs, traces,
//! simulated time and the limits on user-controlled sizes. This module imports
//! neither `input` nor `model`, so data flows one way: input -> domain <- model.

pub mod batch;
pub mod limits;
pub mod measurement;
pub mod options;
pub mod reserved_rate;
pub mod scenario;
pub mod time;
pub mod trace;
pub mod traffic;

pub use batch::{BatchClass, BatchDeployment};
pub use options::{FrontierOptions, PlanOptions, SlaTarget, SweepSpec};
pub use reserved_rate::{RateMeasure, RateReservation, RateSteps};
pub use scenario::*;
pub use trace::{TraceSource, TraceStats};
pub use traffic::{ArrivalProcess, ArrivalSpec, Growth, TokenDist};
