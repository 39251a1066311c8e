//! Stage 2, model: the simulation itself. An event queue that knows nothing about
//! LLMs ([`engine`]), versioned random streams ([`rng`]), arrivals and request
//! sampling ([`traffic`]), on-demand and reserved pools with outages ([`capacity`]) and the
//! vendors' quota limiters ([`limiter`]),
//! routes, retries and the gateway ([`routing`]), and streaming observation
//! ([`metrics`]). Nothing here parses files, writes files or draws.

pub mod batch;
pub mod capacity;
pub mod engine;
pub mod limiter;
pub mod metrics;
pub mod rng;
pub mod routing;
pub mod traffic;
