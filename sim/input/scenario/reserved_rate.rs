//! `[deployment.reserved_rate]`: a reservation measured in token rate on an on-demand
//! deployment (reserved input and output TPM, or a reserved spend rate), checked into a
//! [`RateReservation`]. Semantics: docs/model.md section 10.3.

use std::collections::BTreeMap;

use crate::domain::{known_term_hours, RateMeasure, RateReservation, RateSteps, KNOWN_TERMS};
use crate::error::InputError;
use crate::input::document::Checker;

use super::raw::RawReservedRate;

/// The most tokens per minute a reservation may hold (a million times Bedrock's 100,000 TPM
/// minimum; keeps hourly sums far inside f64's exact integers).
const MAX_TPM: f64 = 1e11;
/// The largest spend rate, USD per minute.
const MAX_USD_PER_MINUTE: f64 = 1e7;
/// The longest commitment a term may state: ten years (vendors sell at most three).
const MAX_TERM_HOURS: f64 = 87_600.0;

/// The price tables of each shape, for error messages.
const TOKEN_PRICES: &str = "input_per_1k_tpm_hour and output_per_1k_tpm_hour";
const SPEND_PRICES: &str = "price_per_reserved_usd";

pub(super) fn validate_reserved_rate(
    c: &Checker,
    p: &str,
    r: &RawReservedRate,
) -> Result<RateReservation, InputError> {
    let tokens = r.input_tpm.is_some() || r.output_tpm.is_some();
    let measure = match (tokens, r.usd_per_minute) {
        (true, None) => {
            let input_tpm = tpm(c, p, "input", r.input_tpm, r.min_input_tpm, r.input_tpm_step)?;
            let output_tpm = tpm(
                c,
                p,
                "output",
                r.output_tpm,
                r.min_output_tpm,
                r.output_tpm_step,
            )?;
            if input_tpm + output_tpm == 0.0 {
                return Err(c.err(
                    format!("{p}.input_tpm"),
                    "input_tpm and output_tpm are both 0: reserve some tokens per minute, or leave [deployment.reserved_rate] out",
                ));
            }
            RateMeasure::Tokens {
                input_tpm,
                output_tpm,
            }
        }
        (false, Some(v)) => {
            for (k, v) in [
                ("min_input_tpm", r.min_input_tpm),
                ("min_output_tpm", r.min_output_tpm),
                ("input_tpm_step", r.input_tpm_step),
                ("output_tpm_step", r.output_tpm_step),
            ] {
                if v.is_some() {
                    return Err(c.err(
                        format!("{p}.{k}"),
                        "applies to a token reservation (input_tpm, output_tpm), not to usd_per_minute",
                    ));
                }
            }
            let usd_per_minute = c.range(
                &format!("{p}.usd_per_minute"),
                v,
                f64::MIN_POSITIVE,
                MAX_USD_PER_MINUTE,
            )?;
            RateMeasure::Spend { usd_per_minute }
        }
        (true, Some(_)) => {
            return Err(c.err(
                format!("{p}.usd_per_minute"),
                "give either input_tpm and output_tpm (a token reservation: Bedrock Reserved tier, OpenAI Scale Tier) or usd_per_minute (a spend reservation: OpenAI Reserved Tier), not both",
            ))
        }
        (false, None) => {
            return Err(c.err(
                p,
                "must give input_tpm and output_tpm (tokens per minute reserved) or usd_per_minute (USD of list-price usage per minute reserved)",
            ))
        }
    };
    let unit_prices = prices(c, p, r, &measure)?;
    let term_hours = term_hours(c, p, r, &unit_prices)?;
    let d = RateSteps::default();
    Ok(RateReservation {
        measure,
        term: r.term.clone(),
        unit_prices,
        term_hours,
        // Checked by `tpm` above (a spend reservation refuses them).
        steps: RateSteps {
            min_input_tpm: r.min_input_tpm.unwrap_or(d.min_input_tpm),
            input_tpm_step: r.input_tpm_step.unwrap_or(d.input_tpm_step),
            min_output_tpm: r.min_output_tpm.unwrap_or(d.min_output_tpm),
            output_tpm_step: r.output_tpm_step.unwrap_or(d.output_tpm_step),
        },
    })
}

/// One side's reserved tokens per minute: 0 when left out, else a whole number from its
/// minimum, in whole steps above it.
fn tpm(
    c: &Checker,
    p: &str,
    side: &str,
    v: Option<f64>,
    min: Option<f64>,
    step: Option<f64>,
) -> Result<f64, InputError> {
    let min = min
        .map(|m| c.range(&format!("{p}.min_{side}_tpm"), m, 0.0, MAX_TPM))
        .transpose()?
        .unwrap_or(0.0);
    let step = step
        .map(|s| c.range(&format!("{p}.{side}_tpm_step"), s, 1.0, MAX_TPM))
        .transpose()?
        .unwrap_or(1.0);
    let key = format!("{p}.{side}_tpm");
    let v = c.range(&key, v.unwrap_or(0.0), 0.0, MAX_TPM)?;
    if v == 0.0 {
        return Ok(0.0);
    }
    let k = (v - min) / step;
    if v < min || (k - k.round()).abs() > 1e-9 {
        return Err(c.err(
            key,
            format!(
                "must be a rate the vendor sells: min_{side}_tpm = {min} plus a multiple of {side}_tpm_step = {step} (e.g. {}, {}), or 0; got {v}",
                min.max(step),
                min.max(step) + step
            ),
        ));
    }
    Ok(v)
}

/// The prices of the measure's shape by term, as (a, b) pairs (see
/// [`RateReservation::unit_prices`]); the other shape's tables are refused.
fn prices(
    c: &Checker,
    p: &str,
    r: &RawReservedRate,
    measure: &RateMeasure,
) -> Result<BTreeMap<String, (f64, f64)>, InputError> {
    let table = |k: &str, t: &Option<BTreeMap<String, f64>>| -> Result<_, InputError> {
        let mut out = BTreeMap::new();
        for (term, v) in t.iter().flatten() {
            let kp = format!("{p}.{k}.{term}");
            if term.is_empty() || term.chars().any(char::is_whitespace) {
                return Err(c.err(kp, "a term name is one word (e.g. 1-month, 3-month)"));
            }
            out.insert(term.clone(), c.range(&kp, *v, 0.0, 1e9)?);
        }
        Ok(out)
    };
    let mut out = BTreeMap::new();
    match measure {
        RateMeasure::Tokens { .. } => {
            if r.price_per_reserved_usd.is_some() {
                return Err(c.err(
                    format!("{p}.price_per_reserved_usd"),
                    format!("prices a spend reservation (usd_per_minute); a token reservation is priced by {TOKEN_PRICES}"),
                ));
            }
            let input = table("input_per_1k_tpm_hour", &r.input_per_1k_tpm_hour)?;
            let output = table("output_per_1k_tpm_hour", &r.output_per_1k_tpm_hour)?;
            for (k, a, b) in [
                ("input_per_1k_tpm_hour", &input, &output),
                ("output_per_1k_tpm_hour", &output, &input),
            ] {
                if let Some(t) = a.keys().find(|t| !b.contains_key(*t)) {
                    return Err(c.err(
                        format!("{p}.{k}.{t}"),
                        format!("term \"{t}\" must be priced in both {TOKEN_PRICES}"),
                    ));
                }
            }
            for (t, a) in &input {
                out.insert(t.clone(), (*a, output[t]));
            }
        }
        RateMeasure::Spend { .. } => {
            for (k, v) in [
                ("input_per_1k_tpm_hour", &r.input_per_1k_tpm_hour),
                ("output_per_1k_tpm_hour", &r.output_per_1k_tpm_hour),
            ] {
                if v.is_some() {
                    return Err(c.err(
                        format!("{p}.{k}"),
                        format!("prices a token reservation (input_tpm, output_tpm); a spend reservation is priced by {SPEND_PRICES}"),
                    ));
                }
            }
            for (t, a) in table("price_per_reserved_usd", &r.price_per_reserved_usd)? {
                out.insert(t, (a, 0.0));
            }
        }
    }
    let names = match measure {
        RateMeasure::Tokens { .. } => TOKEN_PRICES,
        RateMeasure::Spend { .. } => SPEND_PRICES,
    };
    if !out.contains_key(&r.term) {
        let priced: Vec<&str> = out.keys().map(String::as_str).collect();
        return Err(c.err(
            format!("{p}.term"),
            format!(
                "\"{}\" has no price in {names} (priced terms: {})",
                r.term,
                if priced.is_empty() {
                    "none".to_string()
                } else {
                    priced.join(", ")
                }
            ),
        ));
    }
    Ok(out)
}

/// Hours each priced term commits to: `term_hours`, else the hours of a term llmcap knows.
fn term_hours(
    c: &Checker,
    p: &str,
    r: &RawReservedRate,
    priced: &BTreeMap<String, (f64, f64)>,
) -> Result<BTreeMap<String, f64>, InputError> {
    let given = r.term_hours.clone().unwrap_or_default();
    for (term, hours) in &given {
        let kp = format!("{p}.term_hours.{term}");
        c.range(&kp, *hours, 0.0, MAX_TERM_HOURS)?;
        if !priced.contains_key(term) {
            return Err(c.err(
                kp,
                format!(
                    "term \"{term}\" has no price (priced terms: {})",
                    priced.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut hours = BTreeMap::new();
    for term in priced.keys() {
        let Some(h) = given.get(term).copied().or_else(|| known_term_hours(term)) else {
            return Err(c.err(
                format!("{p}.term_hours"),
                format!(
                    "\"{term}\" is not a term llmcap knows ({}): give the hours it commits to, e.g. term_hours = {{ \"{term}\" = 2190 }}",
                    KNOWN_TERMS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        hours.insert(term.clone(), h);
    }
    Ok(hours)
}
