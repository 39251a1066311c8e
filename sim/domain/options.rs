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
