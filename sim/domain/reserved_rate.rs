//! A reservation measured in token rate (`[deployment.reserved_rate]`): a reserved input and
//! output tokens-per-minute (Bedrock's Reserved tier, OpenAI's Scale Tier) or a reserved spend
//! rate in USD of list-price usage per minute (OpenAI's Reserved Tier), on top of an on-demand
//! deployment. Traffic within the reservation is covered by it (paid every hour, used or not);
//! the rest overflows to the deployment's standard on-demand tier, billed at list price and
//! subject to its quotas (docs/model.md section 10.3).
//!
//! "Within the rate" is measured per calendar minute of the simulation clock (minute k is
//! `[k, k + 1)` minutes from hour 0), one request at a time, when the request is admitted: it is
//! covered when its tokens (or its list price) fit in what is left of the minute's reservation,
//! else it overflows whole. OpenAI's Scale Tier: "If you exceed your TPM unit quota in a given
//! minute, excess requests are processed using shared ... capacity and charged at those PAYG
//! rates"; OpenAI's Reserved Tier counts usage "in a minute" at list price. Bedrock's pages say
//! only that use beyond the reserved tokens per minute overflows to the Standard tier; the same
//! per-minute window is an assumption there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::Tokens;

/// What the reservation reserves.
#[derive(Debug, Clone, PartialEq)]
pub enum RateMeasure {
    /// Input and output tokens per minute, reserved separately. Input counts the request's
    /// input tokens not read from the prompt cache (Bedrock: InputTokenCount plus
    /// CacheWriteInputTokens count against the reservation; cache reads do not).
    Tokens { input_tpm: f64, output_tpm: f64 },
    /// USD of usage per minute, valued at the deployment's list (on-demand) prices.
    Spend { usd_per_minute: f64 },
}

/// A validated token-rate reservation.
#[derive(Debug, Clone, PartialEq)]
pub struct RateReservation {
    pub measure: RateMeasure,
    /// The purchase term billed.
    pub term: String,
    /// The prices by term (at least `term`): tokens (USD per 1,000 input TPM per hour, USD per
    /// 1,000 output TPM per hour); spend (USD paid per USD of reservation, and 0).
    pub unit_prices: BTreeMap<String, (f64, f64)>,
    /// Hours each priced term commits to (0 = none).
    pub term_hours: BTreeMap<String, f64>,
    /// The sizes the vendor sells (token reservations): per side, a minimum and a step above
    /// it; `plan` searches these. (0, 1) when not given; unused for a spend reservation.
    pub steps: RateSteps,
}

/// The sizes a vendor sells a token reservation in: `min_input_tpm` plus whole
/// `input_tpm_step`s, and the same for output (docs/scenario.md `[deployment.reserved_rate]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSteps {
    pub min_input_tpm: f64,
    pub input_tpm_step: f64,
    pub min_output_tpm: f64,
    pub output_tpm_step: f64,
}

impl Default for RateSteps {
    fn default() -> Self {
        RateSteps {
            min_input_tpm: 0.0,
            input_tpm_step: 1.0,
            min_output_tpm: 0.0,
            output_tpm_step: 1.0,
        }
    }
}

impl RateSteps {
    /// Size number `k` of a side sold from `min` in steps of `step` (k = 0 is the smallest
    /// nonzero size: the minimum, or one step when the minimum is 0).
    pub fn size(min: f64, step: f64, k: u64) -> f64 {
        let first = if min > 0.0 { min } else { step };
        first + k as f64 * step
    }

    /// The index of the smallest size of a side at or above `tpm`.
    pub fn index_at_least(min: f64, step: f64, tpm: f64) -> u64 {
        let first = if min > 0.0 { min } else { step };
        if tpm <= first {
            0
        } else {
            ((tpm - first) / step - 1e-9).ceil() as u64
        }
    }
}

impl RateMeasure {
    /// The hourly charge of this reservation at unit prices `(a, b)` (see
    /// [`RateReservation::unit_prices`]).
    pub fn hour_cost(&self, (a, b): (f64, f64)) -> f64 {
        match self {
            RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            } => input_tpm / 1000.0 * a + output_tpm / 1000.0 * b,
            RateMeasure::Spend { usd_per_minute } => usd_per_minute * 60.0 * a,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            RateMeasure::Tokens { .. } => "tokens",
            RateMeasure::Spend { .. } => "spend",
        }
    }
}

impl RateReservation {
    /// USD per hour on the chosen term, paid whether used or not.
    pub fn hour_cost(&self) -> f64 {
        self.hour_cost_on(&self.term)
    }

    /// USD per hour on `term` (0 for a term not priced).
    pub fn hour_cost_on(&self, term: &str) -> f64 {
        self.unit_prices
            .get(term)
            .map_or(0.0, |p| self.measure.hour_cost(*p))
    }

    /// The hours `term` commits to, or None when it commits to nothing.
    pub fn term_hours(&self, term: &str) -> Option<f64> {
        self.term_hours.get(term).copied().filter(|h| *h > 0.0)
    }
}

/// Requests and tokens covered by a token-rate reservation (`[deployment.reserved_rate]`):
/// part of the cell's served requests and tokens, paid by the commitment rather than at list
/// price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Covered {
    pub requests: u64,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
}

impl Covered {
    pub fn is_empty(&self) -> bool {
        *self == Covered::default()
    }
    pub fn add(&mut self, o: &Covered) {
        self.requests += o.requests;
        self.input_tokens += o.input_tokens;
        self.cached_input_tokens += o.cached_input_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.output_tokens += o.output_tokens;
    }
    pub fn add_request(&mut self, t: &Tokens) {
        self.requests += 1;
        self.input_tokens += t.input;
        self.cached_input_tokens += t.cached;
        self.cache_write_tokens += t.cache_write;
        self.output_tokens += t.output;
    }
    pub fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input_tokens,
            cached: self.cached_input_tokens,
            cache_write: self.cache_write_tokens,
            output: self.output_tokens,
        }
    }
}
