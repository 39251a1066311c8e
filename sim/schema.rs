//! The results schema: names that the writers (`report`) and the readers (`analysis::diff`,
//! `report::output`) of results folders share, so neither spells them on its own. The files'
//! headers and keys are pinned by tests/schema.rs (golden: tests/golden/schema.txt).

/// The JSON file each command writes, whose manifest marks a results folder.
pub const MANIFEST_FILES: &[&str] = &[
    "summary.json",
    "sweep.json",
    "plan.json",
    "fit.json",
    "diff.json",
    "pick.json",
];

/// `hourly.csv`: one row per simulated hour and deployment (means per replication).
pub mod hourly {
    pub const FILE: &str = "hourly.csv";
    pub const HOUR: &str = "hour";
    pub const WEEKDAY: &str = "weekday";
    pub const DEPLOYMENT: &str = "deployment";
    pub const POOL: &str = "pool";
    /// The pool of a batch deployment's rows (deferrable classes; summary.json reports them
    /// under `batch`, not `deployments`).
    pub const BATCH_POOL: &str = "batch";
    pub const COST_TOTAL_USD: &str = "cost_total_usd";
    pub const COLUMNS: [&str; 26] = [
        HOUR,
        "day",
        "hour_of_day",
        WEEKDAY,
        DEPLOYMENT,
        "platform",
        POOL,
        "requests",
        "input_tokens",
        "output_tokens",
        "cost_on_demand_usd",
        "cost_reserved_usd",
        COST_TOTAL_USD,
        "reserved_utilization",
        "rejected_429",
        "spilled_429",
        "errors",
        // Prompt caching: parts of input_tokens, and the part of cost_on_demand_usd they cost.
        "cached_input_tokens",
        "cache_write_tokens",
        "cost_cached_input_usd",
        "cost_reserved_overage_usd",
        // A token-rate reservation ([deployment.reserved_rate]): the part of cost_reserved_usd
        // it costs, the requests it covered (the rest of the deployment's were billed at list
        // price in cost_on_demand_usd), and how much of it they used.
        "cost_reserved_rate_usd",
        "reserved_rate_covered_requests",
        "reserved_rate_utilization_input",
        "reserved_rate_utilization_output",
        "reserved_rate_utilization_spend",
    ];
}

/// `cost_by_tag.csv`: each hour's cost split by class and by every tag dimension.
pub mod cost_by_tag {
    pub const FILE: &str = "cost_by_tag.csv";
    pub const HOUR: &str = "hour";
    pub const DIMENSION: &str = "dimension";
    pub const VALUE: &str = "value";
    pub const COST_TOTAL_USD: &str = "cost_total_usd";
    pub const COLUMNS: [&str; 8] = [
        HOUR,
        DIMENSION,
        VALUE,
        "input_tokens",
        "output_tokens",
        "cost_on_demand_usd",
        "cost_reserved_usd",
        COST_TOTAL_USD,
    ];
    /// The dimension that splits by class (the others are tag keys).
    pub const CLASS: &str = "class";
    /// The value of classes without the tag.
    pub const UNTAGGED: &str = "(untagged)";
    /// The value of reserved capacity no request used.
    pub const IDLE_RESERVED: &str = "(idle reserved capacity)";
}

/// `attribution.csv`: one row per platform and tag dimension.
pub mod attribution {
    pub const FILE: &str = "attribution.csv";
    pub const PLATFORM: &str = "platform";
    pub const DIMENSION: &str = "dimension";
    pub const MECHANISM: &str = "mechanism";
    pub const GRANULARITY_HOURS: &str = "granularity_hours";
    pub const COST_USD: &str = "cost_usd";
    pub const NATIVE_SHARE: &str = "native_share";
    pub const WITH_GATEWAY_SHARE: &str = "with_gateway_share";
    pub const REASON: &str = "reason";
    pub const COLUMNS: [&str; 12] = [
        PLATFORM,
        DIMENSION,
        MECHANISM,
        GRANULARITY_HOURS,
        COST_USD,
        "native_usd",
        "gateway_usd",
        "unattributed_usd",
        NATIVE_SHARE,
        WITH_GATEWAY_SHARE,
        "unattributable_share",
        REASON,
    ];
}
