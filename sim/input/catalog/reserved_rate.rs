//! An offering's token-rate reservation (`[offering.reserved_rate]`), sold next to its on-demand
//! tier: Bedrock's Reserved tier, OpenAI's Scale Tier (input and output tokens per minute) or
//! OpenAI's Reserved Tier (USD per minute). A scenario deployment with a
//! `[deployment.reserved_rate]` table takes these values (docs/model.md section 10.3).

use serde::Deserialize;

use super::{Check, Offering, Sourced};
use crate::domain::time::HOURS_PER_MONTH;

/// What is reserved: "tokens" (input and output TPM) or "spend" (USD per minute).
pub const RATE_MEASURES: &[&str] = &["tokens", "spend"];

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingReservedRate {
    /// The vendor's name for it ("Reserved tier", "Scale Tier").
    pub product: Sourced<String>,
    /// One of [`RATE_MEASURES`].
    pub measure: Sourced<String>,
    pub min_input_tpm: Option<Sourced<f64>>,
    pub min_output_tpm: Option<Sourced<f64>>,
    /// The increments the vendor sells above the minimum (a unit or bundle of TPM).
    pub input_tpm_step: Option<Sourced<f64>>,
    pub output_tpm_step: Option<Sourced<f64>>,
    /// The terms sold, a list: a new term is data (`[[offering.reserved_rate.terms]]`).
    pub terms: Vec<OfferingRateTerm>,
}

/// One term of a token-rate reservation, with its hours and its prices in the vendor's unit:
/// per 1,000 TPM per month (Bedrock), per TPM step per day (OpenAI Scale Tier's units), or USD
/// paid per USD of reserved spend (OpenAI Reserved Tier).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingRateTerm {
    pub name: String,
    pub hours: Sourced<f64>,
    pub input_per_1k_tpm_month: Option<Sourced<f64>>,
    pub output_per_1k_tpm_month: Option<Sourced<f64>>,
    pub input_per_step_day: Option<Sourced<f64>>,
    pub output_per_step_day: Option<Sourced<f64>>,
    pub price_per_reserved_usd: Option<Sourced<f64>>,
}

impl OfferingReservedRate {
    /// USD per 1,000 TPM per hour of one side on term `t`: from a monthly price per 1K TPM, or
    /// from a daily price per step of `step` TPM.
    fn per_1k_tpm_hour(
        month: &Option<Sourced<f64>>,
        day: &Option<Sourced<f64>>,
        step: &Option<Sourced<f64>>,
    ) -> Option<f64> {
        match (month, day) {
            (Some(m), _) => Some(m.value / HOURS_PER_MONTH),
            (None, Some(d)) => {
                let step = step.as_ref().map_or(1000.0, |s| s.value);
                Some(d.value / (step / 1000.0) / 24.0)
            }
            (None, None) => None,
        }
    }

    pub fn term(&self, name: &str) -> Option<&OfferingRateTerm> {
        self.terms.iter().find(|t| t.name == name)
    }

    /// "1-month (730 h), 3-month (2190 h)".
    pub fn describe_terms(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("{} ({} h)", t.name, t.hours.value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The `[deployment.reserved_rate]` keys it supplies (the scenario's own keys win): the
    /// minimums and steps, every term's hours and prices (per 1,000 TPM per hour, or per
    /// reserved USD).
    pub fn deployment_table(&self) -> toml::Table {
        let mut t = toml::Table::new();
        for (k, v) in [
            ("min_input_tpm", &self.min_input_tpm),
            ("min_output_tpm", &self.min_output_tpm),
            ("input_tpm_step", &self.input_tpm_step),
            ("output_tpm_step", &self.output_tpm_step),
        ] {
            if let (Some(v), "tokens") = (v, self.measure.value.as_str()) {
                t.insert(k.into(), v.value.into());
            }
        }
        let mut hours = toml::Table::new();
        let (mut input, mut output, mut spend) =
            (toml::Table::new(), toml::Table::new(), toml::Table::new());
        for term in &self.terms {
            hours.insert(term.name.clone(), term.hours.value.into());
            if let Some(p) = Self::per_1k_tpm_hour(
                &term.input_per_1k_tpm_month,
                &term.input_per_step_day,
                &self.input_tpm_step,
            ) {
                input.insert(term.name.clone(), p.into());
            }
            if let Some(p) = Self::per_1k_tpm_hour(
                &term.output_per_1k_tpm_month,
                &term.output_per_step_day,
                &self.output_tpm_step,
            ) {
                output.insert(term.name.clone(), p.into());
            }
            if let Some(p) = &term.price_per_reserved_usd {
                spend.insert(term.name.clone(), p.value.into());
            }
        }
        t.insert("term_hours".into(), hours.into());
        for (k, v) in [
            ("input_per_1k_tpm_hour", input),
            ("output_per_1k_tpm_hour", output),
            ("price_per_reserved_usd", spend),
        ] {
            if !v.is_empty() {
                t.insert(k.into(), v.into());
            }
        }
        t
    }
}

impl Check<'_> {
    /// An offering's token-rate reservation: on-demand only, a measure, sourced minimums and
    /// steps, and at least one term with the prices of its measure.
    pub(super) fn reserved_rate(&mut self, at: &str, o: &Offering, r: &OfferingReservedRate) {
        let at = format!("{at}.reserved_rate");
        if o.kind != "on_demand" {
            self.bad(
                &at,
                "only an on-demand offering sells a token-rate reservation (its overflow tier)",
            );
        }
        self.sourced(&format!("{at}.product"), &r.product);
        self.sourced(&format!("{at}.measure"), &r.measure);
        self.one_of(&format!("{at}.measure"), &r.measure.value, RATE_MEASURES);
        let tokens = r.measure.value == "tokens";
        for (k, v, lo) in [
            ("min_input_tpm", &r.min_input_tpm, 0.0),
            ("min_output_tpm", &r.min_output_tpm, 0.0),
            ("input_tpm_step", &r.input_tpm_step, 1.0),
            ("output_tpm_step", &r.output_tpm_step, 1.0),
        ] {
            if let Some(v) = v {
                self.number(&format!("{at}.{k}"), v, lo, 1e11);
                if !tokens {
                    self.bad(format!("{at}.{k}"), "applies to measure \"tokens\" only");
                }
            }
        }
        if r.terms.is_empty() {
            self.bad(
                format!("{at}.terms"),
                "must list at least one term ([[offering.reserved_rate.terms]] with name, hours and prices)",
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        for (j, t) in r.terms.iter().enumerate() {
            let k = format!("{at}.terms[{j}] ({})", t.name);
            if t.name.is_empty() || t.name.chars().any(char::is_whitespace) {
                self.bad(
                    format!("{k}.name"),
                    "must be one word (e.g. 1-month, 3-month)",
                );
            }
            if seen.contains(&t.name.as_str()) {
                self.bad(format!("{k}.name"), "duplicate term name");
            }
            seen.push(&t.name);
            self.number(&format!("{k}.hours"), &t.hours, 0.0, 87_600.0);
            let side = |month: &Option<Sourced<f64>>, day: &Option<Sourced<f64>>| {
                month.is_some() as u8 + day.is_some() as u8
            };
            let ok = if tokens {
                side(&t.input_per_1k_tpm_month, &t.input_per_step_day) == 1
                    && side(&t.output_per_1k_tpm_month, &t.output_per_step_day) == 1
                    && t.price_per_reserved_usd.is_none()
            } else {
                side(&t.input_per_1k_tpm_month, &t.input_per_step_day) == 0
                    && side(&t.output_per_1k_tpm_month, &t.output_per_step_day) == 0
                    && t.price_per_reserved_usd.is_some()
            };
            if !ok {
                self.bad(
                    &k,
                    if tokens {
                        "measure \"tokens\": give one input price (input_per_1k_tpm_month or input_per_step_day) and one output price (output_per_1k_tpm_month or output_per_step_day)"
                    } else {
                        "measure \"spend\": give price_per_reserved_usd only"
                    },
                );
            }
            for (name, v) in [
                ("input_per_1k_tpm_month", &t.input_per_1k_tpm_month),
                ("output_per_1k_tpm_month", &t.output_per_1k_tpm_month),
                ("input_per_step_day", &t.input_per_step_day),
                ("output_per_step_day", &t.output_per_step_day),
                ("price_per_reserved_usd", &t.price_per_reserved_usd),
            ] {
                if let Some(v) = v {
                    self.number(&format!("{k}.{name}"), v, 0.0, 1e9);
                }
            }
        }
    }
}
