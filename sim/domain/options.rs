//! What `sweep` and `plan` are asked to do, checked: the `[sweep]` and `[plan]`
//! tables (or the same options from the command line) as typed specs.

/// A TTFT service-level objective: `percentile` of requests within `ttft_ms`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SlaTarget {
    pub percentile: f64,
    pub ttft_ms: f64,
}

impl std::fmt::Display for SlaTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p{} <= {} ms", self.percentile, self.ttft_ms)
    }
}

/// A checked sweep: the key and its values, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    pub key: String,
    pub values: Vec<f64>,
    /// Replications per point (None = the scenario's).
    pub replications: Option<u32>,
    /// The on-demand deployment whose prices value the reserved tokens.
    pub compare: Option<String>,
    /// How messages name the fields: "sweep" (the table) or "--" (flags).
    pub at: String,
}

/// A checked `[plan]` table: what `llmcap plan` may buy. Each value is checked
/// on its own here; against the scenario (a reserved deployment, priced terms)
/// by `analysis::plan::spec`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanOptions {
    pub deployment: Option<String>,
    pub terms: Option<Vec<String>>,
    /// 1 to [`crate::domain::limits::MAX_PLAN_UNITS`].
    pub max_units: Option<u32>,
    /// Replications per configuration, 1 to 10000.
    pub replications: Option<u32>,
    pub sla: Option<SlaTarget>,
}

/// Per deployment with a token-rate reservation (by name): the sizes a frontier tries (None:
/// no reservation).
pub type RateSizes = Vec<(String, Vec<Option<crate::domain::RateMeasure>>)>;

/// A checked `[frontier]` table: the grid `llmcap frontier` simulates. Each value is checked on
/// its own here; the deployments, terms and routes against the scenario by
/// `analysis::frontier::Frontier::build`.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierOptions {
    /// Per reserved deployment (by name, in name order): the unit counts to try, in the order
    /// given. A reserved deployment not listed keeps the scenario's units.
    pub units: Vec<(String, Vec<u32>)>,
    /// Per reserved deployment: the terms to price (None for a deployment: every priced term).
    pub terms: Vec<(String, Vec<String>)>,
    /// Routing options, each a route every class takes (None: the scenario's routes as written).
    pub routes: Option<Vec<Vec<String>>>,
    /// Per deployment with a token-rate reservation (by name, in name order): the sizes to try,
    /// in the order given; None is no reservation. A deployment not listed keeps its written
    /// reservation, on its written term.
    pub reserved_rate: RateSizes,
    /// Replications per configuration (None: the scenario's).
    pub replications: Option<u32>,
    /// Replaces every class's SLA (as `[plan] sla` does).
    pub sla: Option<SlaTarget>,
    /// Bisection steps of the sustained-rate search (0 = no search).
    pub rate_steps: u32,
    /// The highest demand scale the sustained-rate search tries.
    pub max_demand_scale: f64,
}

impl FrontierOptions {
    /// Bisection steps when `rate_steps` is left out: the bracket ends 1/64 of the searched
    /// range wide.
    pub const DEFAULT_RATE_STEPS: u32 = 6;
    /// Most bisection steps (each simulates every frontier configuration once more).
    pub const MAX_RATE_STEPS: u32 = 20;
    /// The highest demand scale searched when `max_demand_scale` is left out: four times the
    /// scenario's traffic.
    pub const DEFAULT_MAX_DEMAND_SCALE: f64 = 4.0;
    /// Most `max_demand_scale`.
    pub const MAX_DEMAND_SCALE: f64 = 1000.0;
}
