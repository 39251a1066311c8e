//! `focus.csv`: the simulated bill in the FinOps Open Cost and Usage
//! Specification (FOCUS) 1.2 column set, so it loads in FinOps tools and passes
//! the FinOps Foundation's focus-validator (`scripts/check_focus.sh`).
//!
//! Rows, per simulated hour and deployment:
//! - on-demand: input and output tokens per class (ChargeCategory "Usage",
//!   PricingUnit "1000000 Tokens", ConsumedUnit "Tokens");
//! - reserved: the hour's fee for the units as a recurring "Purchase" (it
//!   carries the BilledCost; its EffectiveCost is 0), and that fee amortised
//!   over the hour as "Usage" rows with BilledCost 0: one per class for the slot
//!   time it used (CommitmentDiscountStatus "Used") and one for the rest
//!   ("Unused", ConsumedQuantity null). The spec's reservation examples bill
//!   the same way: BilledCost on the purchase, EffectiveCost on covered usage.
//!   Units deployed beyond the reservation (`reserved_units` below `units`) are
//!   one more "Usage" row at the hourly price, outside the commitment.
//!
//! So BilledCost and EffectiveCost each add up to hourly.csv's cost. The rows
//! are dated from `[scenario] start_date` (simulated hour 0 is 00:00 UTC that
//! day); BillingPeriod is the calendar month, InvoiceId `llmcap-YYYY-MM`.

use crate::analysis::batch::BatchResults;
use crate::domain::time::{civil_from_days, US_PER_HOUR};
use crate::domain::{Deployment, OnDemand, Pool, Reserved, Scenario};
use crate::error::OutputError;
use crate::format::fixed;
use crate::model::metrics::RepMetrics;
use crate::report::tables::{finish, row};

/// The FOCUS version the columns follow.
pub const FOCUS_VERSION: &str = "1.2";

/// The FOCUS 1.2 columns, in the specification's (alphabetical) order.
pub const COLUMNS: &[&str] = &[
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
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
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
];

/// Token prices are per million tokens; FOCUS's unit format spells the
/// quantity out.
pub const TOKEN_PRICING_UNIT: &str = "1000000 Tokens";
/// Reserved capacity is priced and consumed per unit and hour.
pub const RESERVED_UNIT: &str = "Unit-Hours";
/// PricingUnit of a token-rate reservation's input or output side: 1,000 tokens per minute
/// reserved for an hour (Bedrock prices its Reserved tier per 1K TPM).
pub const RATE_TPM_UNIT: &str = "1000 TPM-Hours";
/// PricingUnit of a spend reservation: USD per minute reserved for an hour.
pub const RATE_SPEND_UNIT: &str = "USD-per-Minute-Hours";
const BILLING_ACCOUNT: &str = "llmcap-simulation";

fn stamp(days: i64, hour: u64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{hour:02}:00:00Z")
}

/// The calendar of one simulated hour.
struct Hour {
    start: String,
    end: String,
    billing_start: String,
    billing_end: String,
    invoice: String,
}

impl Hour {
    fn of(sc: &Scenario, h: usize) -> Hour {
        let day = sc.start_date + (h / 24) as i64;
        let hour = (h % 24) as u64;
        let end = if hour == 23 {
            stamp(day + 1, 0)
        } else {
            stamp(day, hour + 1)
        };
        let (y, m, _) = civil_from_days(day);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        Hour {
            start: stamp(day, hour),
            end,
            billing_start: format!("{y:04}-{m:02}-01T00:00:00Z"),
            billing_end: format!("{ny:04}-{nm:02}-01T00:00:00Z"),
            invoice: format!("llmcap-{y:04}-{m:02}"),
        }
    }
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

/// What a reserved deployment's rows say about its commitment.
struct Commitment<'a> {
    /// The term bought.
    term: &'a str,
    /// CommitmentDiscountUnit: reserved units, or a token-rate reservation's unit.
    unit: &'static str,
    /// "Used" / "Unused" on usage rows, `None` on the purchase.
    status: Option<&'static str>,
    quantity: f64,
}

/// What a row says about the deployment billed.
struct Resource<'a> {
    platform: &'a str,
    name: &'a str,
    model: &'a str,
    region: Option<&'a str>,
}

impl<'a> Resource<'a> {
    fn of(d: &'a Deployment) -> Self {
        Resource {
            platform: &d.platform,
            name: &d.name,
            model: &d.model,
            region: d.region.as_deref(),
        }
    }
}

/// One row: what differs between rows of one deployment and hour.
struct Charge<'a> {
    purchase: bool,
    billed: f64,
    effective: f64,
    list_unit: f64,
    contracted_unit: f64,
    pricing_quantity: f64,
    pricing_unit: &'static str,
    consumed: Option<(f64, &'static str)>,
    commitment: Option<Commitment<'a>>,
    /// "input" / "output" tokens, or `None` for reserved units.
    tokens: Option<&'static str>,
    description: String,
    tags: String,
}

impl Charge<'_> {
    /// The value of column `col` (an empty cell for null).
    fn field(&self, col: &str, sc: &Scenario, dep: &Resource, hour: &Hour) -> String {
        let (prov, service) = provider(dep.platform);
        let cd = self.commitment.as_ref();
        // A reserved-unit row outside the commitment is the hourly overage.
        let term = match (cd, self.tokens) {
            (Some(c), _) => c.term,
            (None, None) => crate::domain::HOURLY,
            (None, Some(_)) => "",
        };
        let sku = match self.tokens {
            Some(kind) if kind.starts_with("reserved-") => format!("{}/{kind}", dep.model),
            Some(kind) => format!("{}/{kind}-tokens", dep.model),
            None => format!("{}/reserved-unit", dep.model),
        };
        let money = |v: f64| fixed(v, 6);
        match col {
            "BilledCost" => money(self.billed),
            "BillingAccountId" => BILLING_ACCOUNT.into(),
            "BillingAccountName" | "SubAccountId" | "SubAccountName" => sc.name.clone(),
            "BillingAccountType" => "Simulation".into(),
            "SubAccountType" => "Scenario".into(),
            "BillingCurrency" | "PricingCurrency" => "USD".into(),
            "BillingPeriodEnd" => hour.billing_end.clone(),
            "BillingPeriodStart" => hour.billing_start.clone(),
            "ChargeCategory" => if self.purchase { "Purchase" } else { "Usage" }.into(),
            "ChargeDescription" => self.description.clone(),
            "ChargeFrequency" => if self.purchase {
                "Recurring"
            } else {
                "Usage-Based"
            }
            .into(),
            "ChargePeriodEnd" => hour.end.clone(),
            "ChargePeriodStart" => hour.start.clone(),
            "CommitmentDiscountCategory" if cd.is_some() => "Usage".into(),
            "CommitmentDiscountId" if cd.is_some() => {
                format!("{}/{}/{term}", dep.platform, dep.name)
            }
            "CommitmentDiscountName" if cd.is_some() => {
                format!("{} reservation ({term} term)", dep.name)
            }
            "CommitmentDiscountQuantity" => cd.map(|c| money(c.quantity)).unwrap_or_default(),
            "CommitmentDiscountStatus" => cd.and_then(|c| c.status).unwrap_or_default().into(),
            "CommitmentDiscountType" if cd.is_some() => "Reservation".into(),
            "CommitmentDiscountUnit" => cd.map(|c| c.unit.into()).unwrap_or_default(),
            "ConsumedQuantity" => self.consumed.map(|(q, _)| money(q)).unwrap_or_default(),
            "ConsumedUnit" => self.consumed.map(|(_, u)| u.into()).unwrap_or_default(),
            "ContractedCost" => money(self.pricing_quantity * self.contracted_unit),
            "ContractedUnitPrice" | "PricingCurrencyContractedUnitPrice" => {
                money(self.contracted_unit)
            }
            "EffectiveCost" | "PricingCurrencyEffectiveCost" => money(self.effective),
            "InvoiceId" => hour.invoice.clone(),
            "InvoiceIssuerName" | "ProviderName" | "PublisherName" => prov.into(),
            "ListCost" => money(self.pricing_quantity * self.list_unit),
            "ListUnitPrice" | "PricingCurrencyListUnitPrice" => money(self.list_unit),
            "PricingCategory" => if cd.is_some() {
                "Committed"
            } else {
                "Standard"
            }
            .into(),
            "PricingQuantity" => money(self.pricing_quantity),
            "PricingUnit" => self.pricing_unit.into(),
            "RegionId" | "RegionName" => dep.region.unwrap_or_default().into(),
            "ResourceId" => format!("{}/{}", dep.platform, dep.name),
            "ResourceName" => dep.name.into(),
            "ResourceType" => "Model deployment".into(),
            "ServiceCategory" => "AI and Machine Learning".into(),
            "ServiceName" => service.into(),
            "ServiceSubcategory" => "Generative AI".into(),
            "SkuId" => sku,
            "SkuPriceId" if !term.is_empty() => format!("{sku}/{term}"),
            "SkuPriceId" => sku,
            "SkuMeter" => match self.tokens {
                Some("input") => "Input Tokens",
                Some("cached-input") => "Cached Input Tokens",
                Some("cache-write") => "Cache Write Tokens",
                Some("batch-input") => "Batch Input Tokens",
                Some("batch-output") => "Batch Output Tokens",
                Some("reserved-input-tpm") => "Reserved Input Tokens Per Minute",
                Some("reserved-output-tpm") => "Reserved Output Tokens Per Minute",
                Some("reserved-spend") => "Reserved Spend Per Minute",
                Some(_) => "Output Tokens",
                None => "Reserved Units",
            }
            .into(),
            "SkuPriceDetails" => match self.tokens {
                Some(kind) => serde_json::json!({"Model": dep.model, "TokenType": kind}),
                None => serde_json::json!({"Model": dep.model, "Term": term}),
            }
            .to_string(),
            "Tags" => self.tags.clone(),
            // AvailabilityZone, CapacityReservation*, ChargeClass, and the
            // commitment columns of on-demand rows: null.
            _ => String::new(),
        }
    }
}

/// `focus.csv`. Means per replication, like the other tables. Without
/// per-class cells (very large scenarios) the rows are per deployment only.
pub fn focus(
    sc: &Scenario,
    replications: usize,
    pooled: &RepMetrics,
    batch: &BatchResults,
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
    let classes: Vec<Option<usize>> = if per_class {
        (0..nc).map(Some).collect()
    } else {
        vec![None]
    };
    for h in 0..pooled.hours as usize {
        let hour = Hour::of(sc, h);
        for (d, dep) in sc.deployments.iter().enumerate() {
            let mut charges = Vec::new();
            // The hour's prices (a `[[price_change]]` bills from its date on).
            match dep.pool_at(h as u64) {
                Pool::OnDemand(o) => {
                    for &c in &classes {
                        // Tokens a token-rate reservation covered are not billed at list price
                        // (see `rate_charges`).
                        let t = match c {
                            Some(c) => pooled.class_cells[(h * nc + c) * nd + d].list_tokens(),
                            None => pooled.hour_cell(h, d).list_tokens(),
                        };
                        // Cached and cache-written input are their own meters, as on the
                        // vendors' bills; "input" is the uncached rest.
                        for (kind, tokens, price) in [
                            ("input", t.uncached(), o.input_per_1m),
                            ("cached-input", t.cached, o.cached_input_per_1m),
                            ("cache-write", t.cache_write, o.cache_write_per_1m),
                            ("output", t.output, o.output_per_1m),
                        ] {
                            if tokens == 0 {
                                continue;
                            }
                            let tokens = tokens as f64 / reps;
                            let q = tokens / 1e6;
                            charges.push(Charge {
                                purchase: false,
                                billed: q * price,
                                effective: q * price,
                                list_unit: price,
                                contracted_unit: price,
                                pricing_quantity: q,
                                pricing_unit: TOKEN_PRICING_UNIT,
                                consumed: Some((tokens, "Tokens")),
                                commitment: None,
                                tokens: Some(kind),
                                description: format!("{} {kind} tokens, on demand", dep.model),
                                tags: tags_of(c),
                            });
                        }
                    }
                    rate_charges(sc, pooled, reps, h, d, o, &classes, &tags_of, &mut charges);
                }
                Pool::Reserved(r) => {
                    reserved_charges(sc, pooled, reps, h, d, r, &classes, &tags_of, &mut charges)
                }
            }
            let res = Resource::of(dep);
            for ch in &charges {
                row(
                    &mut w,
                    WHAT,
                    COLUMNS.iter().map(|col| ch.field(col, sc, &res, &hour)),
                )?;
            }
        }
        batch_rows(sc, batch, reps, h, &hour, &mut w)?;
    }
    finish(w, WHAT)
}

/// The batch requests completed in hour `h`, per deferrable class: input and output tokens at
/// the batch deployment's prices (ChargeCategory "Usage", SKU `<model>/batch-input-tokens`).
fn batch_rows(
    sc: &Scenario,
    batch: &BatchResults,
    reps: f64,
    h: usize,
    hour: &Hour,
    w: &mut csv::Writer<Vec<u8>>,
) -> Result<(), OutputError> {
    for (c, stats) in batch.classes.iter().enumerate() {
        let class = &sc.batch_classes[c];
        let bd = &sc.batch_deployments[class.deployment];
        let Some(cell) = stats.hourly.get(h) else {
            continue;
        };
        let mut tags = class.tags.clone();
        tags.insert("llmcap-class".into(), class.name.clone());
        let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
        let res = Resource {
            platform: &bd.platform,
            name: &bd.name,
            model: &bd.model,
            region: bd.region.as_deref(),
        };
        for (kind, tokens, price) in [
            ("batch-input", cell.input_tokens, bd.input_per_1m),
            ("batch-output", cell.output_tokens, bd.output_per_1m),
        ] {
            if tokens == 0 {
                continue;
            }
            let tokens = tokens as f64 / reps;
            let q = tokens / 1e6;
            let ch = Charge {
                purchase: false,
                billed: q * price,
                effective: q * price,
                list_unit: price,
                contracted_unit: price,
                pricing_quantity: q,
                pricing_unit: TOKEN_PRICING_UNIT,
                consumed: Some((tokens, "Tokens")),
                commitment: None,
                tokens: Some(kind),
                description: format!("{} {kind} tokens, batch (completed in this hour)", bd.model),
                tags: tags.clone(),
            };
            row(
                w,
                "focus.csv",
                COLUMNS.iter().map(|col| ch.field(col, sc, &res, hour)),
            )?;
        }
    }
    Ok(())
}

/// The charges of an on-demand pool's token-rate reservation in hour `h`, per side (input TPM,
/// output TPM, or the spend rate): the hour's fee (a Purchase, billed, effective 0), then its
/// effective cost amortised over what each class used of the side ("Used", consumed in tokens
/// or USD of list-price usage) and the rest ("Unused"), as reserved units are.
#[allow(clippy::too_many_arguments)]
fn rate_charges<'a>(
    sc: &Scenario,
    pooled: &RepMetrics,
    reps: f64,
    h: usize,
    d: usize,
    o: &'a OnDemand,
    classes: &[Option<usize>],
    tags_of: &dyn Fn(Option<usize>) -> String,
    out: &mut Vec<Charge<'a>>,
) {
    let Some(r) = &o.reserved_rate else {
        return;
    };
    let (nc, nd) = (sc.classes.len(), sc.deployments.len());
    let model = &sc.deployments[d].model;
    for side in crate::analysis::cost::rate_sides(o) {
        let (kind, unit, consumed_unit): (&'static str, &'static str, &'static str) =
            match side.what {
                "input" => ("reserved-input-tpm", RATE_TPM_UNIT, "Tokens"),
                "output" => ("reserved-output-tpm", RATE_TPM_UNIT, "Tokens"),
                _ => ("reserved-spend", RATE_SPEND_UNIT, "USD"),
            };
        let commitment = |status: Option<&'static str>, quantity: f64| Commitment {
            term: &r.term,
            unit,
            status,
            quantity,
        };
        out.push(Charge {
            purchase: true,
            billed: side.fee,
            effective: 0.0,
            list_unit: side.unit_price,
            contracted_unit: side.unit_price,
            pricing_quantity: side.quantity,
            pricing_unit: unit,
            consumed: None,
            commitment: Some(commitment(None, side.quantity)),
            tokens: Some(kind),
            description: format!(
                "{model} reserved {} rate, {} term: the hour's fee",
                side.what, r.term
            ),
            tags: "{}".into(),
        });
        let mut used = 0.0;
        for &c in classes {
            let covered = match c {
                Some(c) => pooled.class_cells[(h * nc + c) * nd + d].covered,
                None => pooled.hour_cell(h, d).covered,
            };
            let amount = crate::analysis::cost::rate_amount(o, &side, &covered) / reps;
            if amount <= 0.0 {
                continue;
            }
            let share = amount / side.capacity;
            used += share;
            let q = side.quantity * share;
            out.push(Charge {
                purchase: false,
                billed: 0.0,
                effective: side.fee * share,
                list_unit: side.unit_price,
                contracted_unit: side.unit_price,
                pricing_quantity: q,
                pricing_unit: unit,
                consumed: Some((amount, consumed_unit)),
                commitment: Some(commitment(Some("Used"), q)),
                tokens: Some(kind),
                description: format!("{model} reserved {} rate, {} term, used", side.what, r.term),
                tags: tags_of(c),
            });
        }
        let idle = (1.0 - used).max(0.0);
        out.push(Charge {
            purchase: false,
            billed: 0.0,
            effective: side.fee * idle,
            list_unit: side.unit_price,
            contracted_unit: side.unit_price,
            pricing_quantity: side.quantity * idle,
            pricing_unit: unit,
            consumed: None,
            commitment: Some(commitment(Some("Unused"), side.quantity * idle)),
            tokens: Some(kind),
            description: format!(
                "{model} reserved {} rate, {} term, unused",
                side.what, r.term
            ),
            tags: "{}".into(),
        });
    }
}

/// A reserved deployment's hour: the purchase (the fee, billed), then the fee
/// amortised over the classes' slot time ("Used") and the rest ("Unused").
#[allow(clippy::too_many_arguments)]
fn reserved_charges<'a>(
    sc: &Scenario,
    pooled: &RepMetrics,
    reps: f64,
    h: usize,
    d: usize,
    r: &'a Reserved,
    classes: &[Option<usize>],
    tags_of: &dyn Fn(Option<usize>) -> String,
    out: &mut Vec<Charge<'a>>,
) {
    let (nc, nd) = (sc.classes.len(), sc.deployments.len());
    let model = &sc.deployments[d].model;
    let price = r.unit_hour_price();
    let list = r
        .price_per_unit_hour
        .get("hourly")
        .copied()
        .unwrap_or(price);
    // The reservation covers `reserved_units` (all the units unless the scenario splits them).
    let units = r.reserved_units as f64;
    let fee = units * price;
    out.push(Charge {
        purchase: true,
        billed: fee,
        effective: 0.0,
        list_unit: list,
        contracted_unit: price,
        pricing_quantity: units,
        pricing_unit: RESERVED_UNIT,
        consumed: None,
        commitment: Some(Commitment {
            term: &r.term,
            unit: RESERVED_UNIT,
            status: None,
            quantity: units,
        }),
        tokens: None,
        description: format!("{model} reserved units, {} term: the hour's fee", r.term),
        tags: "{}".into(),
    });
    // Each class's share of the slot time the units offer this hour.
    let capacity = r.slots() as f64 * US_PER_HOUR as f64 * reps;
    let shares: Vec<(Option<usize>, f64)> = classes
        .iter()
        .map(|&c| {
            let busy = match c {
                Some(c) => pooled.class_cells[(h * nc + c) * nd + d].busy_us,
                None => pooled.hour_cell(h, d).busy_us,
            };
            (c, busy as f64 / capacity)
        })
        .filter(|&(_, s)| s > 0.0)
        .collect();
    // Slot time never exceeds the hour's, but guard the bill against rounding.
    let used: f64 = shares.iter().map(|s| s.1).sum();
    let scale = if used > 1.0 { 1.0 / used } else { 1.0 };
    let amortised =
        |q: f64, status: &'static str, consumed: bool, tags: String, what: &str| Charge {
            purchase: false,
            billed: 0.0,
            effective: q * price,
            list_unit: list,
            contracted_unit: price,
            pricing_quantity: q,
            pricing_unit: RESERVED_UNIT,
            consumed: consumed.then_some((q, RESERVED_UNIT)),
            commitment: Some(Commitment {
                term: &r.term,
                unit: RESERVED_UNIT,
                status: Some(status),
                quantity: q,
            }),
            tokens: None,
            description: format!("{model} reserved units, {} term, {what}", r.term),
            tags,
        };
    for &(c, share) in &shares {
        out.push(amortised(
            units * share * scale,
            "Used",
            true,
            tags_of(c),
            "used",
        ));
    }
    let idle = units * (1.0 - used * scale).max(0.0);
    out.push(amortised(idle, "Unused", false, "{}".into(), "unused"));
    // Units deployed beyond the reservation: a charge of their own at the hourly price, not
    // covered by the commitment (Azure bills them so).
    let over = r.overage_units();
    if over > 0 {
        let hourly = r.overage_hour_cost() / over as f64;
        out.push(Charge {
            purchase: false,
            billed: r.overage_hour_cost(),
            effective: r.overage_hour_cost(),
            list_unit: hourly,
            contracted_unit: hourly,
            pricing_quantity: over as f64,
            pricing_unit: RESERVED_UNIT,
            consumed: Some((over as f64, RESERVED_UNIT)),
            commitment: None,
            tokens: None,
            description: format!(
                "{model} units deployed beyond the reservation ({over} of {}), billed hourly",
                r.units
            ),
            tags: "{}".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_focus_1_2_in_order() {
        assert_eq!(COLUMNS.len(), 57);
        let mut sorted = COLUMNS.to_vec();
        sorted.sort();
        assert_eq!(sorted, COLUMNS);
    }

    #[test]
    fn calendar_months_and_invoices() {
        let text = r#"
[scenario]
horizon_hours = 48
start_date = 2026-01-31
[[deployment]]
name = "paygo"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 400, p99_ms = 1200 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0 }
[[class]]
name = "chat"
model = "gpt-4o"
route = ["paygo"]
arrivals = { mean_rps = 2.0 }
input_tokens = { dist = "fixed", value = 1000 }
output_tokens = { dist = "fixed", value = 100 }
"#;
        let sc = Scenario::from_toml(text, "c.toml".as_ref()).unwrap();
        assert_eq!(sc.start_weekday, 5, "2026-01-31 is a Saturday");
        let h = Hour::of(&sc, 23);
        assert_eq!(h.start, "2026-01-31T23:00:00Z");
        assert_eq!(h.end, "2026-02-01T00:00:00Z");
        assert_eq!(h.billing_start, "2026-01-01T00:00:00Z");
        assert_eq!(h.billing_end, "2026-02-01T00:00:00Z");
        assert_eq!(h.invoice, "llmcap-2026-01");
        let h = Hour::of(&sc, 24);
        assert_eq!(h.invoice, "llmcap-2026-02");
        assert_eq!(h.billing_end, "2026-03-01T00:00:00Z");
    }
}
