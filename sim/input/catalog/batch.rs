//! An offering's batch API (`[offering.batch]`): the catalog's data for batch deployments.

use serde::Deserialize;

use super::{Check, Offering, Sourced};

/// An offering's batch API (docs/model.md, section 10.2).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingBatch {
    /// USD per 1M input / output tokens of a completed batch request.
    pub input_per_1m: Sourced<f64>,
    pub output_per_1m: Sourced<f64>,
    /// The completion windows the vendor sells, hours: from `window_hours_min` to
    /// `window_hours_max` (OpenAI: 24 only; Bedrock's job timeout: 24 to 168).
    pub window_hours_min: Sourced<f64>,
    pub window_hours_max: Sourced<f64>,
    /// Whether a job still running at the window's end expires (its unfinished requests are
    /// not billed); Azure keeps running it.
    pub expires: Sourced<bool>,
    pub max_requests_per_job: Sourced<f64>,
    pub min_requests_per_job: Option<Sourced<f64>>,
    /// Input tokens enqueued at once for the model (the vendor's default quota), if public.
    pub enqueued_tokens: Option<Sourced<f64>>,
}

impl OfferingBatch {
    /// Whether the vendor sells a completion window of `hours`.
    pub fn sells_window(&self, hours: f64) -> bool {
        hours >= self.window_hours_min.value && hours <= self.window_hours_max.value
    }
    pub fn describe_windows(&self) -> String {
        let (lo, hi) = (self.window_hours_min.value, self.window_hours_max.value);
        if lo == hi {
            format!("{lo} h only")
        } else {
            format!("{lo} to {hi} h")
        }
    }
    /// The `[deployment.batch]` keys it supplies (the scenario's own keys win).
    pub fn deployment_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("input_per_1m".into(), self.input_per_1m.value.into());
        t.insert("output_per_1m".into(), self.output_per_1m.value.into());
        t.insert(
            "completion_window_hours".into(),
            self.window_hours_min.value.into(),
        );
        t.insert("expires".into(), self.expires.value.into());
        t.insert(
            "max_requests_per_job".into(),
            self.max_requests_per_job.value.into(),
        );
        for (k, v) in [
            ("min_requests_per_job", &self.min_requests_per_job),
            ("enqueued_tokens", &self.enqueued_tokens),
        ] {
            if let Some(v) = v {
                t.insert(k.into(), v.value.into());
            }
        }
        t
    }
}

impl Check<'_> {
    /// An offering's batch API: prices, the windows sold, the per-job caps.
    pub(super) fn batch(&mut self, at: &str, o: &Offering, b: &OfferingBatch) {
        if o.kind != "on_demand" {
            self.bad(
                format!("{at}.batch"),
                "only an on-demand offering sells batch next to it",
            );
        }
        for (k, v, lo, hi) in [
            ("input_per_1m", &b.input_per_1m, 0.0, 1e6),
            ("output_per_1m", &b.output_per_1m, 0.0, 1e6),
            ("window_hours_min", &b.window_hours_min, 1.0, 720.0),
            ("window_hours_max", &b.window_hours_max, 1.0, 720.0),
            ("max_requests_per_job", &b.max_requests_per_job, 1.0, 1e9),
        ] {
            self.number(&format!("{at}.batch.{k}"), v, lo, hi);
        }
        if b.window_hours_max.value < b.window_hours_min.value {
            self.bad(
                format!("{at}.batch.window_hours_max"),
                "must be >= window_hours_min",
            );
        }
        self.sourced(&format!("{at}.batch.expires"), &b.expires);
        if let Some(v) = &b.min_requests_per_job {
            self.number(&format!("{at}.batch.min_requests_per_job"), v, 1.0, 1e9);
        }
        if let Some(v) = &b.enqueued_tokens {
            self.number(&format!("{at}.batch.enqueued_tokens"), v, 1.0, 1e15);
        }
    }
}
