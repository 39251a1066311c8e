//! The platform catalog: platforms, their offerings (a model sold on demand or
//! as reserved units), prices, throughput, TTFT profiles, quotas, compliance and
//! attribution. Data, not code: one TOML file per platform under
//! `sim/input/catalog/`, embedded in the binary, every value with a source and an
//! "as of" date (`llmcap catalog --check` enforces it).
//!
//! A scenario deployment may name an offering (`offering =
//! "azure-openai/gpt-4o/global-provisioned"`): its values become the
//! deployment's defaults, and any key the scenario writes overrides them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::domain::time::{self, HOURS_PER_MONTH};
use crate::error::InputError;
use crate::input::document::parse_toml;

/// The shipped catalog files, embedded at build time.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "sim/input/catalog/azure-openai.toml",
        include_str!("catalog/azure-openai.toml"),
    ),
    (
        "sim/input/catalog/bedrock.toml",
        include_str!("catalog/bedrock.toml"),
    ),
    (
        "sim/input/catalog/vertex-ai.toml",
        include_str!("catalog/vertex-ai.toml"),
    ),
    (
        "sim/input/catalog/anthropic.toml",
        include_str!("catalog/anthropic.toml"),
    ),
    (
        "sim/input/catalog/openai.toml",
        include_str!("catalog/openai.toml"),
    ),
    (
        "sim/input/catalog/gemini-api.toml",
        include_str!("catalog/gemini-api.toml"),
    ),
];

/// The gateway's attribution model, embedded at build time.
pub const GATEWAY: (&str, &str) = (
    "sim/input/catalog/gateway.toml",
    include_str!("catalog/gateway.toml"),
);

/// How a platform's own billing splits on-demand cost: each request carries
/// its tags (Bedrock application inference profiles, Vertex request labels),
/// cost per credential (API key / workspace / project), or per resource
/// (a deployment and the tags on it).
pub const ON_DEMAND_MECHANISMS: &[&str] = &["request", "credential", "resource"];
/// How a platform bills reserved capacity: per reservation / resource, or not
/// at all (it sells none).
pub const RESERVED_MECHANISMS: &[&str] = &["resource", "none"];

/// The platform name that is outside the catalog: any model, no checks.
pub const CUSTOM_PLATFORM: &str = "custom";

/// A value with where it comes from.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sourced<T> {
    pub value: T,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

mod batch;
mod quota;
mod reserved_rate;
pub use batch::OfferingBatch;
pub use reserved_rate::{OfferingRateTerm, OfferingReservedRate, RATE_MEASURES};

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub platform: Platform,
    #[serde(default)]
    pub offering: Vec<Offering>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub attribution: Option<Sourced<String>>,
    /// The attribution mechanism as data (`llmcap run` computes
    /// `attribution.csv` from it).
    pub attribution_model: Option<AttributionModel>,
    #[serde(default)]
    pub compliance: Compliance,
}

/// What a platform's (or the gateway's) own cost reporting can split, and how
/// soon and how finely it shows it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionModel {
    /// Short name of the native mechanism.
    pub mechanism: Sourced<String>,
    /// One of [`ON_DEMAND_MECHANISMS`] ("request" for the gateway).
    pub on_demand: Sourced<String>,
    /// One of [`RESERVED_MECHANISMS`] ("request-share" for the gateway).
    pub reserved: Sourced<String>,
    /// Tag keys the request / credential mechanism carries; `"*"` = any key.
    pub dimensions: Sourced<Vec<String>>,
    /// Finest time bucket of the native cost report, hours (0 = per request,
    /// the gateway only).
    pub granularity_hours: Sourced<f64>,
    /// How long until cost shows up there, hours.
    pub latency_hours: Sourced<f64>,
    /// What the bill shows with no setup at all.
    pub default_view: Sourced<String>,
}

impl AttributionModel {
    /// Whether the request / credential mechanism carries tag key `key`.
    pub fn carries(&self, key: &str) -> bool {
        self.dimensions.value.iter().any(|d| d == "*" || d == key)
    }
}

/// `sim/input/catalog/gateway.toml`: a gateway that stamps tags on each request.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    pub gateway: Gateway,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    pub id: String,
    pub name: String,
    pub attribution: Sourced<String>,
    pub attribution_model: AttributionModel,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    pub hipaa_baa: Option<Sourced<bool>>,
    pub soc2: Option<Sourced<bool>>,
    pub iso27001: Option<Sourced<bool>>,
    pub data_residency: Option<Sourced<Vec<String>>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Offering {
    pub id: String,
    pub model: String,
    pub vendor_model_id: Option<Sourced<String>>,
    pub kind: String,
    pub regions: Sourced<Vec<String>>,
    /// Where a request may be served: one of [`SCOPES`] (`llmcap catalog --check` requires it).
    pub scope: Option<Sourced<String>>,
    /// The vendor's service tier of an on-demand offering: one of [`TIERS`]; left out, the
    /// standard tier. Priority and flex offerings are sold next to the standard one of the
    /// same model, with their own prices and latency; `pick` compares standard tiers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Sourced<String>>,
    pub context_tokens: Option<Sourced<f64>>,
    pub max_output_tokens: Option<Sourced<f64>>,
    pub latency: OfferingLatency,
    pub on_demand: Option<OfferingOnDemand>,
    pub reserved: Option<OfferingReserved>,
    /// The vendor's batch API for this model, sold next to on-demand (`[offering.batch]`,
    /// on-demand offerings only): a scenario deployment with a `[deployment.batch]` table
    /// takes these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<OfferingBatch>,
    /// A reservation measured in token rate, sold next to the on-demand tier
    /// (`[offering.reserved_rate]`): a scenario deployment with a `[deployment.reserved_rate]`
    /// table takes these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_rate: Option<OfferingReservedRate>,
    /// Whether the offering is still sold (`llmcap catalog --check` requires it).
    pub lifecycle: Option<OfferingLifecycle>,
}

/// An offering's serving scope: one region it is deployed in ("region"), any region of a
/// geography or data zone ("geography": Azure Data Zones, Bedrock geographic cross-region
/// profiles), or anywhere the vendor operates ("global").
pub const SCOPES: &[&str] = &["region", "geography", "global"];

/// The service tiers an on-demand offering may state: "standard" (the default), "priority"
/// (a premium for faster, steadier service: OpenAI priority processing) and "flex" (a discount
/// for slower service that may be refused: OpenAI flex processing).
pub const TIERS: &[&str] = &["standard", "priority", "flex"];

/// The lifecycle stages an offering's `lifecycle.status` may state.
pub const LIFECYCLE_STATUSES: &[&str] = &["available", "deprecated", "retired"];

/// An offering's lifecycle: the status its source gave on `status.as_of`, and the dates that
/// let the status be judged at any other date ([`OfferingLifecycle::status_at`]).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingLifecycle {
    /// One of [`LIFECYCLE_STATUSES`], as read on `as_of`.
    pub status: Sourced<String>,
    /// From this date (YYYY-MM-DD) the vendor no longer recommends it or sells it to new
    /// customers; it still serves.
    pub deprecated_on: Option<Sourced<String>>,
    /// From this date (YYYY-MM-DD) requests fail.
    pub retired_on: Option<Sourced<String>>,
}

/// An offering's lifecycle stage on a given date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Lifecycle {
    Available,
    /// Deprecated on `on`; retires on `retires` when a date is known.
    Deprecated {
        on: String,
        retires: Option<String>,
    },
    Retired {
        on: String,
    },
}

impl Lifecycle {
    /// "deprecated on 2026-04-14, retires on 2026-10-14", "retired on 2026-02-19", "available".
    pub fn describe(&self) -> String {
        match self {
            Lifecycle::Available => "available".into(),
            Lifecycle::Deprecated { on, retires } => format!(
                "deprecated on {on}{}",
                retires
                    .as_ref()
                    .map(|r| format!(", retires on {r}"))
                    .unwrap_or_default()
            ),
            Lifecycle::Retired { on } => format!("retired on {on}"),
        }
    }
}

impl OfferingLifecycle {
    /// The stage on `date` (YYYY-MM-DD): retired from `retired_on`, deprecated from
    /// `deprecated_on` (or, with neither date reached, available). An offering without dates
    /// keeps the status its source gave.
    pub fn status_at(&self, date: &str) -> Lifecycle {
        let deprecated = self.deprecated_on.as_ref().map(|d| d.value.clone());
        let retired = self.retired_on.as_ref().map(|d| d.value.clone());
        match (&deprecated, &retired) {
            (_, Some(r)) if r.as_str() <= date => Lifecycle::Retired { on: r.clone() },
            (Some(d), _) if d.as_str() <= date => Lifecycle::Deprecated {
                on: d.clone(),
                retires: retired,
            },
            (None, None) => match self.status.value.as_str() {
                "available" => Lifecycle::Available,
                // A status without a date is checked away by `Catalog::check`.
                other => Lifecycle::Deprecated {
                    on: format!("an unknown date ({other})"),
                    retires: None,
                },
            },
            _ => Lifecycle::Available,
        }
    }
}

/// The last day of a YYYY-MM month, or a YYYY-MM-DD date as is: the date an `as_of` stands for.
pub fn as_of_day(as_of: &str) -> String {
    time::month_or_day(as_of).map_or_else(|| as_of.to_string(), time::format_date)
}

/// Whether `d` is a YYYY-MM-DD date.
pub fn is_day(d: &str) -> bool {
    d.len() == 10 && time::is_month_or_day(d)
}

/// A YYYY-MM-DD date given on the command line (`pick --as-of`), or what is allowed.
pub fn parse_day(s: &str) -> Result<String, crate::error::ValueError> {
    if is_day(s) {
        Ok(s.to_string())
    } else {
        Err(crate::error::ValueError::new(format!(
            "\"{s}\" is not a date; allowed: YYYY-MM-DD (e.g. 2026-11-30)"
        )))
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingLatency {
    pub median_ms: Sourced<f64>,
    pub p99_ms: Sourced<f64>,
    pub prefill_ms_per_1k_input: Option<Sourced<f64>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingOnDemand {
    pub input_per_1m: Sourced<f64>,
    pub output_per_1m: Sourced<f64>,
    /// USD per 1M input tokens read from the prompt cache, where the vendor prices them.
    pub cached_input_per_1m: Option<Sourced<f64>>,
    /// USD per 1M input tokens written to the prompt cache, where the vendor prices writes.
    pub cache_write_per_1m: Option<Sourced<f64>>,
    pub tpm: Option<Sourced<f64>>,
    pub rpm: Option<Sourced<f64>>,
    /// The quota shape the vendor enforces (docs/model.md 6.1), used by `quota = "vendor"` only,
    /// and the shapes' own limits, merged only into a deployment that chose that shape.
    pub quota: Option<Sourced<String>>,
    pub rpm_window_s: Option<Sourced<f64>>,
    pub itpm: Option<Sourced<f64>>,
    pub otpm: Option<Sourced<f64>>,
    pub itpm_cache_reads: Option<Sourced<bool>>,
    pub output_burndown: Option<Sourced<f64>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingReserved {
    pub tpm_per_unit: Sourced<f64>,
    pub output_weight: Option<Sourced<f64>>,
    /// Capacity one cached input token uses, in input tokens (Azure PTUs: 0).
    pub cached_input_weight: Option<Sourced<f64>>,
    pub min_units: Option<Sourced<f64>>,
    pub unit_step: Option<Sourced<f64>>,
    /// The terms sold, each with the hours it commits to and its price (`[[offering.reserved.terms]]`).
    pub terms: Vec<OfferingTerm>,
}

/// One term a reserved offering is sold on: a name the scenario's `reserved.term` uses, the
/// hours it commits to (0 = none: billed by the hour) and a price per unit-hour or per
/// unit-month (a month is [`HOURS_PER_MONTH`] hours).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingTerm {
    pub name: String,
    pub hours: Sourced<f64>,
    pub price_per_unit_hour: Option<Sourced<f64>>,
    pub price_per_unit_month: Option<Sourced<f64>>,
}

impl OfferingTerm {
    /// The price per unit-hour, from whichever price the term gives.
    pub fn unit_hour_price(&self) -> f64 {
        match (&self.price_per_unit_hour, &self.price_per_unit_month) {
            (Some(h), _) => h.value,
            (None, Some(m)) => m.value / HOURS_PER_MONTH,
            (None, None) => 0.0,
        }
    }

    /// "1-month (730 h)", "hourly (no commitment)".
    pub fn describe(&self) -> String {
        if self.hours.value > 0.0 {
            format!("{} ({} h)", self.name, self.hours.value)
        } else {
            format!("{} (no commitment)", self.name)
        }
    }
}

impl OfferingReserved {
    /// Price per unit-hour by term name.
    pub fn prices(&self) -> std::collections::BTreeMap<String, f64> {
        self.terms
            .iter()
            .map(|t| (t.name.clone(), t.unit_hour_price()))
            .collect()
    }

    pub fn term(&self, name: &str) -> Option<&OfferingTerm> {
        self.terms.iter().find(|t| t.name == name)
    }
}

/// Every platform of the catalog, in file order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Catalog {
    pub files: Vec<(PathBuf, CatalogFile)>,
    /// The gateway's attribution model, if a gateway file was given.
    pub gateway: Option<(PathBuf, GatewayFile)>,
}

impl Catalog {
    /// The shipped catalog (parsed once).
    pub fn shipped() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(
                SHIPPED
                    .iter()
                    .chain([&GATEWAY])
                    .map(|(f, t)| (Path::new(*f), *t)),
            )
            .expect("the shipped catalog parses (tests/catalog.rs checks it)")
        })
    }

    /// Parses catalog files (name, text): platform files, and at most one
    /// gateway file (a file with a top-level `[gateway]` table).
    pub fn parse<'a>(
        files: impl IntoIterator<Item = (&'a Path, &'a str)>,
    ) -> Result<Catalog, InputError> {
        let mut out = Vec::new();
        let mut gateway = None;
        for (file, text) in files {
            let is_gateway = toml::from_str::<toml::Table>(text)
                .is_ok_and(|t| t.contains_key("gateway") && !t.contains_key("platform"));
            if is_gateway {
                if gateway.is_some() {
                    return Err(InputError::Invalid {
                        file: file.to_path_buf(),
                        path: "gateway".into(),
                        message: "a second gateway file; give at most one".into(),
                    });
                }
                let g: GatewayFile = parse_toml(text, file)?;
                gateway = Some((file.to_path_buf(), g));
            } else {
                let f: CatalogFile = parse_toml(text, file)?;
                out.push((file.to_path_buf(), f));
            }
        }
        Ok(Catalog {
            files: out,
            gateway,
        })
    }

    /// The gateway's attribution model of the shipped catalog.
    pub fn gateway() -> &'static Gateway {
        &Catalog::shipped()
            .gateway
            .as_ref()
            .expect("the shipped catalog has sim/input/catalog/gateway.toml")
            .1
            .gateway
    }

    pub fn platform(&self, id: &str) -> Option<&CatalogFile> {
        self.files
            .iter()
            .map(|(_, f)| f)
            .find(|f| f.platform.id == id)
    }

    pub fn platform_ids(&self) -> Vec<&str> {
        self.files
            .iter()
            .map(|(_, f)| f.platform.id.as_str())
            .collect()
    }

    /// Offering by full id "<platform>/<offering id>".
    pub fn offering(&self, full_id: &str) -> Option<(&Platform, &Offering)> {
        let (platform, id) = full_id.split_once('/')?;
        let f = self.platform(platform)?;
        f.offering
            .iter()
            .find(|o| o.id == id)
            .map(|o| (&f.platform, o))
    }

    /// Every offering with its platform.
    pub fn offerings(&self) -> impl Iterator<Item = (&Platform, &Offering)> {
        self.files
            .iter()
            .flat_map(|(_, f)| f.offering.iter().map(move |o| (&f.platform, o)))
    }

    /// The catalog's as-of date (YYYY-MM-DD): the latest date an offering's lifecycle was
    /// read (`lifecycle.status.as_of`, a month standing for its last day). `pick` judges
    /// lifecycles on this date unless given another.
    pub fn as_of(&self) -> String {
        self.offerings()
            .filter_map(|(_, o)| o.lifecycle.as_ref()?.status.as_of.as_deref())
            .map(as_of_day)
            .max()
            .unwrap_or_default()
    }

    /// Models a platform sells (sorted, deduplicated).
    pub fn models_of(&self, platform: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .platform(platform)
            .map(|f| f.offering.iter().map(|o| o.model.as_str()).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every problem with the data: missing sources or dates, bad values,
    /// duplicate ids, offerings of the wrong shape. Each names the file and
    /// the key.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for (file, f) in &self.files {
            let mut c = Check {
                file,
                problems: &mut problems,
            };
            let p = &f.platform;
            if ids.contains(&p.id.as_str()) {
                c.bad("platform.id", format!("duplicate platform id \"{}\"", p.id));
            }
            ids.push(&p.id);
            c.platform(f);
            let mut seen: Vec<&str> = Vec::new();
            for (i, o) in f.offering.iter().enumerate() {
                let at = format!("offering[{i}] ({})", o.id);
                if seen.contains(&o.id.as_str()) {
                    c.bad(format!("{at}.id"), "duplicate offering id");
                }
                seen.push(&o.id);
                c.offering(&at, o);
            }
        }
        if let Some((file, g)) = &self.gateway {
            let mut c = Check {
                file,
                problems: &mut problems,
            };
            c.sourced("gateway.attribution", &g.gateway.attribution);
            c.attribution_model(
                "gateway.attribution_model",
                &g.gateway.attribution_model,
                true,
            );
        }
        problems
    }
}

struct Check<'a> {
    file: &'a Path,
    problems: &'a mut Vec<String>,
}

impl Check<'_> {
    /// The `[platform]` table of a file: its id not the reserved one, its kind, how its cost
    /// is attributed and its compliance, each with a source.
    fn platform(&mut self, f: &CatalogFile) {
        let p = &f.platform;
        if p.id == CUSTOM_PLATFORM {
            self.bad(
                "platform.id",
                "\"custom\" is reserved for platforms outside the catalog",
            );
        }
        self.one_of(
            "platform.kind",
            &p.kind,
            &["hyperscaler", "vendor-api", "gateway"],
        );
        match &p.attribution {
            Some(a) => self.sourced("platform.attribution", a),
            None => self.bad(
                "platform.attribution",
                "is missing: how is cost attributed on this platform?",
            ),
        }
        match &p.attribution_model {
            Some(m) => {
                self.attribution_model("platform.attribution_model", m, false);
                if m.reserved.value == "none" && f.offering.iter().any(|o| o.kind == "reserved") {
                    self.bad(
                        "platform.attribution_model.reserved",
                        "is \"none\" but the platform sells reserved offerings",
                    );
                }
            }
            None => self.bad(
                "platform.attribution_model",
                "is missing: add [platform.attribution_model] (mechanism, on_demand, reserved, dimensions, granularity_hours, latency_hours, default_view)",
            ),
        }
        let cp = &p.compliance;
        for (k, v) in [
            ("hipaa_baa", &cp.hipaa_baa),
            ("soc2", &cp.soc2),
            ("iso27001", &cp.iso27001),
        ] {
            match v {
                Some(v) => self.sourced(&format!("platform.compliance.{k}"), v),
                None => self.bad(
                    format!("platform.compliance.{k}"),
                    "is missing (true or false, with a source)",
                ),
            }
        }
        match &cp.data_residency {
            Some(v) => self.sourced("platform.compliance.data_residency", v),
            None => self.bad("platform.compliance.data_residency", "is missing"),
        }
    }

    /// One offering (`at` names it): a canonical model name, its regions and scope, tier,
    /// limits, lifecycle, latency and the prices of its kind.
    fn offering(&mut self, at: &str, o: &Offering) {
        if o.model.is_empty()
            || o.model
                .chars()
                .any(|ch| ch.is_ascii_uppercase() || ch == ' ')
        {
            self.bad(
                format!("{at}.model"),
                format!(
                    "\"{}\" is not a canonical model name (lowercase, hyphens)",
                    o.model
                ),
            );
        }
        if let Some(v) = &o.vendor_model_id {
            self.sourced(&format!("{at}.vendor_model_id"), v);
        }
        self.sourced(&format!("{at}.regions"), &o.regions);
        if o.regions.value.is_empty() {
            self.bad(format!("{at}.regions"), "must list at least one region");
        }
        match &o.scope {
            Some(v) => {
                self.sourced(&format!("{at}.scope"), v);
                self.one_of(&format!("{at}.scope"), &v.value, SCOPES);
            }
            None => self.bad(
                format!("{at}.scope"),
                "is missing: region, geography or global, with a source",
            ),
        }
        self.tier(at, o);
        for (k, v) in [
            ("context_tokens", &o.context_tokens),
            ("max_output_tokens", &o.max_output_tokens),
        ] {
            if let Some(v) = v {
                self.number(&format!("{at}.{k}"), v, 1.0, 1e9);
            }
        }
        self.lifecycle(at, o.lifecycle.as_ref());
        self.latency(at, &o.latency);
        if let Some(b) = &o.batch {
            self.batch(at, o, b);
        }
        if let Some(r) = &o.reserved_rate {
            self.reserved_rate(at, o, r);
        }
        match (o.kind.as_str(), &o.on_demand, &o.reserved) {
            ("on_demand", Some(od), None) => self.on_demand(at, od),
            ("reserved", None, Some(r)) => self.reserved(at, r),
            ("on_demand", _, _) => self.bad(
                at,
                "kind \"on_demand\" needs [offering.on_demand] and no [offering.reserved]",
            ),
            ("reserved", _, _) => self.bad(
                at,
                "kind \"reserved\" needs [offering.reserved] and no [offering.on_demand]",
            ),
            (k, _, _) => self.bad(
                format!("{at}.kind"),
                format!("\"{k}\" is not allowed; allowed: on_demand, reserved"),
            ),
        }
    }

    /// An on-demand offering's token prices and quotas.
    fn on_demand(&mut self, at: &str, od: &OfferingOnDemand) {
        self.number(
            &format!("{at}.on_demand.input_per_1m"),
            &od.input_per_1m,
            0.0,
            1e6,
        );
        self.number(
            &format!("{at}.on_demand.output_per_1m"),
            &od.output_per_1m,
            0.0,
            1e6,
        );
        for (k, v) in [
            ("cached_input_per_1m", &od.cached_input_per_1m),
            ("cache_write_per_1m", &od.cache_write_per_1m),
        ] {
            if let Some(v) = v {
                self.number(&format!("{at}.on_demand.{k}"), v, 0.0, 1e6);
            }
        }
        for (k, v, lo, hi) in [("tpm", &od.tpm, 1.0, 1e12), ("rpm", &od.rpm, 1.0, 1e12)] {
            if let Some(v) = v {
                self.number(&format!("{at}.on_demand.{k}"), v, lo, hi);
            }
        }
        self.quota_shape(&format!("{at}.on_demand"), od);
    }

    /// A reserved offering's unit: its throughput, token weights, unit counts and terms.
    fn reserved(&mut self, at: &str, r: &OfferingReserved) {
        self.number(
            &format!("{at}.reserved.tpm_per_unit"),
            &r.tpm_per_unit,
            1.0,
            1e12,
        );
        if let Some(v) = &r.output_weight {
            self.number(&format!("{at}.reserved.output_weight"), v, 0.0, 1e3);
        }
        if let Some(v) = &r.cached_input_weight {
            self.number(&format!("{at}.reserved.cached_input_weight"), v, 0.0, 1.0);
        }
        for (k, v) in [("min_units", &r.min_units), ("unit_step", &r.unit_step)] {
            if let Some(v) = v {
                self.number(&format!("{at}.reserved.{k}"), v, 1.0, 1e7);
                if v.value.fract() != 0.0 {
                    self.bad(format!("{at}.reserved.{k}"), "must be a whole number");
                }
            }
        }
        self.terms(at, &r.terms);
    }

    fn bad(&mut self, key: impl AsRef<str>, message: impl AsRef<str>) {
        self.problems.push(format!(
            "{}: {}: {}",
            self.file.display(),
            key.as_ref(),
            message.as_ref()
        ));
    }

    fn one_of(&mut self, key: &str, v: &str, allowed: &[&str]) {
        if !allowed.contains(&v) {
            self.bad(
                key,
                format!("\"{v}\" is not allowed; allowed: {}", allowed.join(", ")),
            );
        }
    }

    fn sourced<T>(&mut self, key: &str, v: &Sourced<T>) {
        if v.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
            self.bad(
                key,
                "has no source (add source = \"<title and URL>\" or \"assumption: <why>\")",
            );
        }
        match v.as_of.as_deref() {
            None => self.bad(key, "has no as_of date (YYYY-MM or YYYY-MM-DD)"),
            Some(d) if !valid_date(d) => self.bad(
                key,
                format!("as_of \"{d}\" is not a date (YYYY-MM or YYYY-MM-DD)"),
            ),
            Some(_) => {}
        }
    }

    /// A reserved offering's terms: at least one, distinct one-word names, hours from 0 (no
    /// commitment) to ten years, and exactly one price (per unit-hour or per unit-month).
    fn terms(&mut self, at: &str, terms: &[OfferingTerm]) {
        let key = format!("{at}.reserved.terms");
        if terms.is_empty() {
            self.bad(
                &key,
                "must list at least one term ([[offering.reserved.terms]] with name, hours and price_per_unit_hour or price_per_unit_month)",
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        for (j, t) in terms.iter().enumerate() {
            let k = format!("{key}[{j}] ({})", t.name);
            if t.name.is_empty() || t.name.chars().any(char::is_whitespace) {
                self.bad(
                    format!("{k}.name"),
                    "must be one word (e.g. monthly, 1-week, 3-month)",
                );
            }
            if seen.contains(&t.name.as_str()) {
                self.bad(format!("{k}.name"), "duplicate term name");
            }
            seen.push(&t.name);
            self.number(&format!("{k}.hours"), &t.hours, 0.0, 87_600.0);
            match (&t.price_per_unit_hour, &t.price_per_unit_month) {
                (Some(v), None) => self.number(&format!("{k}.price_per_unit_hour"), v, 0.0, 1e7),
                (None, Some(v)) => self.number(&format!("{k}.price_per_unit_month"), v, 0.0, 1e10),
                _ => self.bad(
                    &k,
                    "give exactly one of price_per_unit_hour and price_per_unit_month",
                ),
            }
        }
    }

    /// An offering's TTFT profile: positive, p99 at least the median.
    /// An offering's service tier, when stated: sourced, one of [`TIERS`], on-demand only.
    fn tier(&mut self, at: &str, o: &Offering) {
        let Some(v) = &o.tier else {
            return;
        };
        self.sourced(&format!("{at}.tier"), v);
        self.one_of(&format!("{at}.tier"), &v.value, TIERS);
        if o.kind != "on_demand" {
            self.bad(
                format!("{at}.tier"),
                "a service tier is stated on on-demand offerings only",
            );
        }
    }

    fn latency(&mut self, at: &str, l: &OfferingLatency) {
        self.number(&format!("{at}.latency.median_ms"), &l.median_ms, 0.0, 3.6e6);
        self.number(
            &format!("{at}.latency.p99_ms"),
            &l.p99_ms,
            l.median_ms.value,
            3.6e6,
        );
        if let Some(v) = &l.prefill_ms_per_1k_input {
            self.number(
                &format!("{at}.latency.prefill_ms_per_1k_input"),
                v,
                0.0,
                1e5,
            );
        }
    }

    /// An offering's lifecycle: present, a known status, dates in YYYY-MM-DD, and a status that
    /// agrees with the dates on the day it was read.
    fn lifecycle(&mut self, at: &str, l: Option<&OfferingLifecycle>) {
        let key = format!("{at}.lifecycle");
        let Some(l) = l else {
            self.bad(
                &key,
                "is missing: add [offering.lifecycle] with status = { value = \"available\" | \"deprecated\" | \"retired\", source, as_of } and deprecated_on / retired_on dates",
            );
            return;
        };
        self.sourced(&format!("{key}.status"), &l.status);
        self.one_of(
            &format!("{key}.status"),
            &l.status.value,
            LIFECYCLE_STATUSES,
        );
        for (k, v) in [
            ("deprecated_on", &l.deprecated_on),
            ("retired_on", &l.retired_on),
        ] {
            if let Some(v) = v {
                self.sourced(&format!("{key}.{k}"), v);
                if !is_day(&v.value) {
                    self.bad(
                        format!("{key}.{k}"),
                        format!("\"{}\" is not a date (YYYY-MM-DD)", v.value),
                    );
                }
            }
        }
        let needs = match l.status.value.as_str() {
            "deprecated" if l.deprecated_on.is_none() => Some("deprecated_on"),
            "retired" if l.retired_on.is_none() => Some("retired_on"),
            _ => None,
        };
        if let Some(k) = needs {
            self.bad(
                format!("{key}.{k}"),
                format!("is missing: status \"{}\" needs its date", l.status.value),
            );
            return;
        }
        let read = as_of_day(l.status.as_of.as_deref().unwrap_or_default());
        let judged = match l.status_at(&read) {
            Lifecycle::Available => "available",
            Lifecycle::Deprecated { .. } => "deprecated",
            Lifecycle::Retired { .. } => "retired",
        };
        if judged != l.status.value {
            self.bad(
                format!("{key}.status"),
                format!(
                    "is \"{}\" but its dates make it \"{judged}\" on {read} (its as_of)",
                    l.status.value
                ),
            );
        }
    }

    /// A platform's (or, with `gateway`, the gateway's) attribution model.
    fn attribution_model(&mut self, key: &str, m: &AttributionModel, gateway: bool) {
        let (on_demand, reserved): (&[&str], &[&str]) = if gateway {
            (&["request"], &["request-share"])
        } else {
            (ON_DEMAND_MECHANISMS, RESERVED_MECHANISMS)
        };
        self.sourced(&format!("{key}.mechanism"), &m.mechanism);
        if m.mechanism.value.trim().is_empty() {
            self.bad(format!("{key}.mechanism"), "must name the mechanism");
        }
        self.sourced(&format!("{key}.on_demand"), &m.on_demand);
        self.one_of(&format!("{key}.on_demand"), &m.on_demand.value, on_demand);
        self.sourced(&format!("{key}.reserved"), &m.reserved);
        self.one_of(&format!("{key}.reserved"), &m.reserved.value, reserved);
        let k = format!("{key}.dimensions");
        self.sourced(&k, &m.dimensions);
        let dims = &m.dimensions.value;
        if dims.is_empty() {
            self.bad(&k, "must list at least one tag key, or \"*\" for any key");
        } else if dims.iter().any(|d| d == "*") && dims.len() > 1 {
            self.bad(&k, "\"*\" (any key) stands alone");
        }
        for d in dims.iter().filter(|d| *d != "*") {
            if d.is_empty() || d.chars().any(|ch| ch.is_whitespace()) {
                self.bad(&k, format!("\"{d}\" is not a tag key"));
            }
        }
        // Only a gateway reports per request (0 h).
        let lo = if gateway { 0.0 } else { 1.0 / 60.0 };
        self.number(
            &format!("{key}.granularity_hours"),
            &m.granularity_hours,
            lo,
            8784.0,
        );
        self.number(
            &format!("{key}.latency_hours"),
            &m.latency_hours,
            0.0,
            744.0,
        );
        self.sourced(&format!("{key}.default_view"), &m.default_view);
    }

    fn number(&mut self, key: &str, v: &Sourced<f64>, lo: f64, hi: f64) {
        self.sourced(key, v);
        if !(v.value.is_finite() && v.value >= lo && v.value <= hi) {
            self.bad(
                key,
                format!("must be a number from {lo} to {hi}, got {}", v.value),
            );
        }
    }
}

/// YYYY-MM or YYYY-MM-DD, a real calendar date from 1990 to 2100.
fn valid_date(d: &str) -> bool {
    time::is_month_or_day(d)
}

impl Offering {
    /// The service tier ([`TIERS`]): "standard" unless the offering states another.
    pub fn tier(&self) -> &str {
        self.tier.as_ref().map_or("standard", |t| t.value.as_str())
    }
    /// The deployment keys this offering supplies, as a TOML table in the
    /// shape of a scenario `[[deployment]]` (the scenario's own keys win).
    pub fn deployment_table(&self, platform: &str) -> toml::Table {
        let mut t = toml::Table::new();
        t.insert("platform".into(), platform.into());
        t.insert("model".into(), self.model.clone().into());
        if let Some(r) = self.regions.value.first() {
            t.insert("region".into(), r.clone().into());
        }
        let mut lat = toml::Table::new();
        lat.insert("median_ms".into(), self.latency.median_ms.value.into());
        lat.insert("p99_ms".into(), self.latency.p99_ms.value.into());
        if let Some(p) = &self.latency.prefill_ms_per_1k_input {
            lat.insert("prefill_ms_per_1k_input".into(), p.value.into());
        }
        t.insert("latency".into(), lat.into());
        if let Some(od) = &self.on_demand {
            let mut o = toml::Table::new();
            o.insert("input_per_1m".into(), od.input_per_1m.value.into());
            o.insert("output_per_1m".into(), od.output_per_1m.value.into());
            for (k, v) in [
                ("cached_input_per_1m", &od.cached_input_per_1m),
                ("cache_write_per_1m", &od.cache_write_per_1m),
                ("tpm", &od.tpm),
                ("rpm", &od.rpm),
            ] {
                if let Some(v) = v {
                    o.insert(k.into(), v.value.into());
                }
            }
            t.insert("on_demand".into(), o.into());
        }
        if let Some(r) = &self.reserved {
            let mut o = toml::Table::new();
            o.insert("tpm_per_unit".into(), r.tpm_per_unit.value.into());
            for (k, v) in [
                ("output_weight", &r.output_weight),
                ("cached_input_weight", &r.cached_input_weight),
                ("min_units", &r.min_units),
                ("unit_step", &r.unit_step),
            ] {
                if let Some(v) = v {
                    o.insert(k.into(), v.value.into());
                }
            }
            let prices: toml::Table = r
                .terms
                .iter()
                .map(|t| (t.name.clone(), toml::Value::from(t.unit_hour_price())))
                .collect();
            let hours: toml::Table = r
                .terms
                .iter()
                .map(|t| (t.name.clone(), toml::Value::from(t.hours.value)))
                .collect();
            o.insert("term_hours".into(), hours.into());
            o.insert("price_per_unit_hour".into(), prices.into());
            t.insert("reserved".into(), o.into());
        }
        t
    }
}

/// Deep merge: `over`'s keys win; tables present in both merge recursively.
pub fn merge_under(base: toml::Table, over: toml::Table) -> toml::Table {
    let mut out = base;
    for (k, v) in over {
        match (out.remove(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => {
                out.insert(k, toml::Value::Table(merge_under(b, o)));
            }
            (_, v) => {
                out.insert(k, v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2026-04", "2026-11-25", "1999-12-31"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in [
            "2026",
            "26-04",
            "2026-13",
            "2026-04-32",
            "2026-02-30",
            "April 2026",
            "",
        ] {
            assert!(!valid_date(bad), "{bad}");
        }
    }

    fn lifecycle(
        status: &str,
        deprecated: Option<&str>,
        retired: Option<&str>,
    ) -> OfferingLifecycle {
        let day = |d: &str| Sourced {
            value: d.to_string(),
            source: Some("docs".into()),
            as_of: Some("2026-11".into()),
            note: None,
        };
        OfferingLifecycle {
            status: Sourced {
                value: status.into(),
                source: Some("docs".into()),
                as_of: Some("2026-11".into()),
                note: None,
            },
            deprecated_on: deprecated.map(day),
            retired_on: retired.map(day),
        }
    }

    #[test]
    fn lifecycle_is_judged_on_a_date() {
        let l = lifecycle("retired", Some("2026-04-14"), Some("2026-06-15"));
        assert_eq!(l.status_at("2026-04-13"), Lifecycle::Available);
        assert_eq!(
            l.status_at("2026-04-14").describe(),
            "deprecated on 2026-04-14, retires on 2026-06-15"
        );
        assert_eq!(
            l.status_at("2026-06-15").describe(),
            "retired on 2026-06-15"
        );
        assert_eq!(
            lifecycle("available", None, None).status_at("2030-01-01"),
            Lifecycle::Available
        );
        assert_eq!(as_of_day("2026-11"), "2026-11-30");
        assert_eq!(as_of_day("2028-02"), "2028-02-29");
        assert_eq!(as_of_day("2026-11-25"), "2026-11-25");
    }

    #[test]
    fn lifecycle_status_must_agree_with_its_dates() {
        let file = Path::new("x.toml");
        let run = |l: Option<&OfferingLifecycle>| {
            let mut problems = Vec::new();
            Check {
                file,
                problems: &mut problems,
            }
            .lifecycle("offering[0] (m/od)", l);
            problems
        };
        assert!(run(Some(&lifecycle("retired", None, Some("2026-02-19")))).is_empty());
        let p = run(Some(&lifecycle("available", None, Some("2026-02-19"))));
        assert!(
            p[0].contains("lifecycle.status: is \"available\" but its dates make it \"retired\" on 2026-11-30"),
            "{p:?}"
        );
        let p = run(Some(&lifecycle("retired", None, None)));
        assert!(p[0].contains("lifecycle.retired_on: is missing"), "{p:?}");
        let p = run(Some(&lifecycle("retired", None, Some("2026-02"))));
        assert!(
            p[0].contains("\"2026-02\" is not a date (YYYY-MM-DD)"),
            "{p:?}"
        );
        let p = run(None);
        assert!(
            p[0].contains("offering[0] (m/od).lifecycle: is missing"),
            "{p:?}"
        );
    }

    #[test]
    fn merge_keeps_scenario_keys() {
        let base: toml::Table = toml::from_str("a = 1\n[t]\nx = 1\ny = 2").unwrap();
        let over: toml::Table = toml::from_str("b = 2\n[t]\ny = 3").unwrap();
        let m = merge_under(base, over);
        assert_eq!(m["a"].as_integer(), Some(1));
        assert_eq!(m["b"].as_integer(), Some(2));
        assert_eq!(m["t"]["x"].as_integer(), Some(1));
        assert_eq!(m["t"]["y"].as_integer(), Some(3));
    }

    #[test]
    fn missing_sources_fail_the_check() {
        let text = r#"
[platform]
id = "x"
name = "X"
kind = "vendor-api"
attribution = { value = "keys", source = "docs", as_of = "2026-01" }
[platform.attribution_model]
mechanism = { value = "keys", source = "docs", as_of = "2026-01" }
on_demand = { value = "credential", source = "docs", as_of = "2026-01" }
reserved = { value = "none", source = "docs", as_of = "2026-01" }
dimensions = { value = ["team"], source = "docs", as_of = "2026-01" }
granularity_hours = { value = 24, source = "docs", as_of = "2026-01" }
latency_hours = { value = 4, source = "docs", as_of = "2026-01" }
default_view = { value = "per key and day", source = "docs", as_of = "2026-01" }
[platform.compliance]
hipaa_baa = { value = false, source = "docs", as_of = "2026-01" }
soc2 = { value = true, source = "docs", as_of = "2026-01" }
iso27001 = { value = true, source = "docs", as_of = "2026-01" }
data_residency = { value = ["us"], source = "docs", as_of = "2026-01" }
[[offering]]
id = "m/od"
model = "m"
kind = "on_demand"
regions = { value = ["us"], source = "docs", as_of = "2026-01" }
latency = { median_ms = { value = 400, source = "aa", as_of = "2026-01" }, p99_ms = { value = 900, as_of = "2026-01" } }
on_demand = { input_per_1m = { value = 1, source = "p", as_of = "2026-01" }, output_per_1m = { value = 2, source = "", as_of = "Jan" } }
lifecycle = { status = { value = "available", source = "docs", as_of = "2026-01" } }
scope = { value = "region", source = "docs", as_of = "2026-01" }
"#;
        let c = Catalog::parse([(Path::new("x.toml"), text)]).unwrap();
        let p = c.check();
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(
            p[0].contains("x.toml: offering[0] (m/od).latency.p99_ms: has no source"),
            "{}",
            p[0]
        );
        assert!(p[1].contains("output_per_1m: has no source"), "{}", p[1]);
        assert!(p[2].contains("as_of \"Jan\" is not a date"), "{}", p[2]);
    }
}
