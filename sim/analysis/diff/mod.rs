//! `llmcap diff RUN_A RUN_B`: explains a cost change between two results
//! folders written by `llmcap run` (the "bill up 4x with no traffic
//! change") and says which of the changes each platform's native cost
//! attribution could have shown.
//!
//! Both folders are read ([`RunFolder::open`]): `summary.json` (manifest,
//! classes, deployments), `hourly.csv`, `cost_by_tag.csv`, `focus.csv` and,
//! when the run wrote one, `attribution.csv`. Over the hours both runs
//! simulated, every delta is B − A in USD per replication (the files' unit):
//!
//! - `traffic`: per class, the part of its cost change that its request count
//!   explains (B's requests at A's cost per request); "no traffic change" reads
//!   as ~0 here next to a large `class` delta;
//! - `class` and `tag`: per class and per tag `dimension=value`
//!   (`cost_by_tag.csv`, idle reserved capacity and untagged cost included);
//! - `deployment`: per deployment (name and platform);
//! - `component`: per deployment and price component (on-demand input
//!   tokens, on-demand output tokens, reserved unit-hours used and unused),
//!   each split into requests, quantity per request and unit price
//!   ([`Drivers`]);
//! - `hour`: per simulated hour.
//!
//! Batch deployments (deferrable classes) are read from hourly.csv (pool `batch`) and
//! summary.json's `batch` section, which lists them apart from `deployments`: their cost is per
//! token at batch prices, booked in the hour each job completed, and appears in the deployment,
//! component (batch input / output tokens), class, tag and hour rows; each batch class's
//! completion times against its window are compared in [`Diff::batch`].
//!
//! Beside the cost, the service of each run ([`ServiceChange`]): TTFT p99, availability and
//! the requests lost, from each summary.json over the run's own horizon (not decomposed).
//!
//! Rows of one kind (and, for tags, of one dimension) add up to the total
//! change. Each kind is ranked by absolute delta.
//!
//! Which platform shows a row ([`Reveal`]): a tag or class row is shown
//! natively when every platform that served it splits that dimension
//! natively for at least [`NATIVE_THRESHOLD`] of its cost in both runs (from
//! `attribution.csv`), with a gateway when only the gateway share covers it;
//! deployments and price components are on every bill (the platform's default
//! view); an hour is shown at the platform's granularity, so a one-hour spike
//! on a daily bill is only part of a day's total.

mod answer;
mod decompose;
mod folder;
mod reveal;
mod table;

pub use answer::{Answer, PlatformAnswer};
pub use decompose::{
    diff, BatchChange, Diff, Drivers, Kind, PlatformView, Reveal, Row, ServiceChange, Verdict,
};
pub use folder::{
    open, open_against, AttributionRow, BatchClass, ClassRun, Component, DeploymentRun, DiffError,
    Metered, RunFolder, Service,
};
pub use reveal::catalog_view;

/// Share of a platform's cost that its native mechanism must split by a
/// dimension, in both runs, for a tag row to count as shown natively.
pub const NATIVE_THRESHOLD: f64 = 0.9;

/// The files `diff` reads from each run folder (`attribution.csv` is optional).
pub const READS: &[&str] = &[
    "summary.json",
    "hourly.csv",
    "cost_by_tag.csv",
    "focus.csv",
    "attribution.csv",
];
