//! `focus.csv`: the simulated bill in the FinOps Open Cost and Usage
//! Specification (FOCUS) version 1.0 column set, so it loads in FinOps tools.
//!
//! One row per simulated hour, deployment, class and price component: input
//! and output tokens of on-demand deployments (PricingUnit "1M Tokens"), and
//! reserved unit-hours split by the slot time each class used
//! (CommitmentDiscountStatus "Used") with the unused rest on its own row
//! ("Unused"). Simulated hour 0 is dated 2001-01-01T00:00:00Z (a Monday) plus
//! `start_weekday` days: a nominal calendar, since a scenario has no date.

use crate::domain::{Pool, Scenario};
use crate::error::OutputError;
use crate::model::metrics::RepMetrics;
use crate::report::format::fixed;
use crate::report::tables::{finish, row};

/// The FOCUS version the columns follow.
pub const FOCUS_VERSION: &str = "1.0";

/// The FOCUS 1.0 columns, in the specification's (alphabetical) order.
pub const COLUMNS: &[&str] = &[
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
];

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of 2001-01-01, a Monday.
const EPOCH_DAYS: i64 = 11_323;

fn stamp(days: i64, hour: u64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{hour:02}:00:00Z")
}

/// ChargePeriodStart/End and BillingPeriodStart/End (the calendar month) of
/// simulated hour `h`.
fn periods(sc: &Scenario, h: usize) -> [String; 4] {
    let day0 = EPOCH_DAYS + sc.start_weekday as i64;
    let day = day0 + (h / 24) as i64;
    let start = stamp(day, (h % 24) as u64);
    let end = if h % 24 == 23 {
        stamp(day + 1, 0)
    } else {
        stamp(day, (h % 24 + 1) as u64)
    };
    let (y, m, _) = civil_from_days(day);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    [
        start,
        end,
        format!("{y:04}-{m:02}-01T00:00:00Z"),
        format!("{ny:04}-{nm:02}-01T00:00:00Z"),
    ]
}

fn provider(platform: &str) -> (&'static str, &'static str) {
    // (ProviderName / InvoiceIssuerName, ServiceName)
    match platform {
        "azure-openai" => ("Microsoft", "Azure OpenAI"),
        "bedrock" => ("Amazon Web Services", "Amazon Bedrock"),
        "vertex-ai" => ("Google Cloud", "Vertex AI"),
        "anthropic" => ("Anthropic", "Claude API"),
        "openai" => ("OpenAI", "OpenAI API"),
        "gemini-api" => ("Google", "Gemini API"),
        _ => ("Custom", "LLM inference"),
    }
}

/// `focus.csv`. Means per replication, like the other tables. Without
/// per-class cells (very large scenarios) the rows are per deployment only.
pub fn focus(
    sc: &Scenario,
    replications: usize,
    pooled: &RepMetrics,
) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "focus.csv";
    let reps = replications.max(1) as f64;
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, COLUMNS)?;
    let (nc, nd) = (sc.classes.len(), sc.deployments.len());
    let per_class = pooled.class_cells.len() == pooled.hours as usize * nc * nd;
    let tags_of = |c: Option<usize>| -> String {
        match c {
            Some(c) => {
                let mut t = sc.classes[c].tags.clone();
                t.insert("llmcap-class".into(), sc.classes[c].name.clone());
                serde_json::to_string(&t).unwrap_or_else(|_| "{}".into())
            }
            None => "{}".into(),
        }
    };
    for h in 0..pooled.hours as usize {
        let [start, end, bstart, bend] = periods(sc, h);
        for (d, dep) in sc.deployments.iter().enumerate() {
            let (prov, service) = provider(&dep.platform);
            let region = dep.region.clone().unwrap_or_default();
            let mut emit = |cost: f64,
                            list_unit: f64,
                            contracted_unit: f64,
                            quantity: f64,
                            unit: &str,
                            sku: String,
                            category: &str,
                            commitment: Option<&str>,
                            tags: String,
                            description: String|
             -> Result<(), OutputError> {
                let c = fixed(cost, 6);
                let (cd_cat, cd_id, cd_name, cd_status, cd_type) = match commitment {
                    Some(status) => (
                        "Usage".to_string(),
                        format!("{}/{}", dep.name, commitment_term(dep)),
                        format!("{} reservation ({})", dep.name, commitment_term(dep)),
                        status.to_string(),
                        "Reservation".to_string(),
                    ),
                    None => Default::default(),
                };
                row(
                    &mut w,
                    WHAT,
                    [
                        String::new(),
                        c.clone(),
                        "llmcap-simulation".into(),
                        sc.name.clone(),
                        "USD".into(),
                        bend.clone(),
                        bstart.clone(),
                        "Usage".into(),
                        String::new(),
                        description,
                        category.into(),
                        end.clone(),
                        start.clone(),
                        cd_cat,
                        cd_id,
                        cd_name,
                        cd_status,
                        cd_type,
                        fixed(quantity, 6),
                        unit.into(),
                        c.clone(),
                        fixed(contracted_unit, 6),
                        c.clone(),
                        prov.into(),
                        fixed(quantity * list_unit, 6),
                        fixed(list_unit, 6),
                        if commitment.is_some() {
                            "Committed"
                        } else {
                            "Standard"
                        }
                        .into(),
                        fixed(quantity, 6),
                        unit.into(),
                        prov.into(),
                        prov.into(),
                        region.clone(),
                        region.clone(),
                        format!("{}/{}", dep.platform, dep.name),
                        dep.name.clone(),
                        "Model deployment".into(),
                        "AI and Machine Learning".into(),
                        service.into(),
                        sku.clone(),
                        sku,
                        sc.name.clone(),
                        sc.name.clone(),
                        tags,
                    ],
                )
            };
            match &dep.pool {
                Pool::OnDemand(o) => {
                    let classes: Vec<Option<usize>> = if per_class {
                        (0..nc).map(Some).collect()
                    } else {
                        vec![None]
                    };
                    for c in classes {
                        let (inp, out) = match c {
                            Some(c) => {
                                let cc = pooled.class_cells[(h * nc + c) * nd + d];
                                (cc.input_tokens, cc.output_tokens)
                            }
                            None => {
                                let cell = pooled.hour_cell(h, d);
                                (cell.input_tokens, cell.output_tokens)
                            }
                        };
                        for (kind, tokens, price) in [
                            ("input", inp, o.input_per_1m),
                            ("output", out, o.output_per_1m),
                        ] {
                            if tokens == 0 {
                                continue;
                            }
                            let q = tokens as f64 / reps / 1e6;
                            emit(
                                q * price,
                                price,
                                price,
                                q,
                                "1M Tokens",
                                format!("{}/{}-tokens", dep.model, kind),
                                "Usage-Based",
                                None,
                                tags_of(c),
                                format!("{} {kind} tokens, on demand", dep.model),
                            )?;
                        }
                    }
                }
                Pool::Reserved(r) => {
                    let price = r.unit_hour_price();
                    let list = r
                        .price_per_unit_hour
                        .get("hourly")
                        .copied()
                        .unwrap_or(price);
                    let capacity =
                        r.slots() as f64 * crate::model::engine::US_PER_HOUR as f64 * reps;
                    let mut used = 0.0;
                    if per_class {
                        for c in 0..nc {
                            let cc = pooled.class_cells[(h * nc + c) * nd + d];
                            if cc.busy_us == 0 {
                                continue;
                            }
                            let share = cc.busy_us as f64 / capacity;
                            used += share;
                            let q = r.units as f64 * share;
                            emit(
                                q * price,
                                list,
                                price,
                                q,
                                "Unit-Hours",
                                format!("{}/reserved-unit", dep.model),
                                "Recurring",
                                Some("Used"),
                                tags_of(Some(c)),
                                format!("{} reserved units, {} term, used", dep.model, r.term),
                            )?;
                        }
                    }
                    let q = r.units as f64 * (1.0 - used).max(0.0);
                    emit(
                        q * price,
                        list,
                        price,
                        q,
                        "Unit-Hours",
                        format!("{}/reserved-unit", dep.model),
                        "Recurring",
                        Some(if per_class { "Unused" } else { "Used" }),
                        tags_of(None),
                        format!(
                            "{} reserved units, {} term, {}",
                            dep.model,
                            r.term,
                            if per_class {
                                "unused"
                            } else {
                                "used and unused"
                            }
                        ),
                    )?;
                }
            }
        }
    }
    finish(w, WHAT)
}

fn commitment_term(dep: &crate::domain::Deployment) -> String {
    match &dep.pool {
        Pool::Reserved(r) => r.term.clone(),
        Pool::OnDemand(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(EPOCH_DAYS), (2001, 1, 1));
        assert_eq!(civil_from_days(EPOCH_DAYS + 31), (2001, 2, 1));
        assert_eq!(civil_from_days(EPOCH_DAYS + 365), (2002, 1, 1));
        assert_eq!(stamp(EPOCH_DAYS, 23), "2001-01-01T23:00:00Z");
    }

    #[test]
    fn columns_are_focus_1_0_in_order() {
        assert_eq!(COLUMNS.len(), 43);
        let mut sorted = COLUMNS.to_vec();
        sorted.sort();
        assert_eq!(sorted, COLUMNS);
    }
}
