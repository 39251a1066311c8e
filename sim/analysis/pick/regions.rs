//! Regions and data residency (data: sim/input/catalog/regions.toml).

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::input::catalog::Offering;
use crate::input::document::parse_toml;

// ---------------------------------------------------------------------------
// Regions (data: sim/input/catalog/regions.toml).
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub geography: String,
    pub area: Option<String>,
    pub source: String,
    pub as_of: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    region: Vec<Region>,
}

/// The shipped region map.
pub fn regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        parse_toml::<RegionsFile>(
            include_str!("../../input/catalog/regions.toml"),
            Path::new("sim/input/catalog/regions.toml"),
        )
        .expect("the shipped region map parses (tests check it)")
        .region
    })
}

/// Every residency value a profile can ask for: geographies and areas.
pub fn residency_values() -> Vec<String> {
    let mut v: Vec<String> = regions()
        .iter()
        .flat_map(|r| std::iter::once(r.geography.clone()).chain(r.area.clone()))
        .filter(|g| g != "global")
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether a region keeps data inside `residency` (a geography or an area).
pub fn region_within(region: &str, residency: &str) -> bool {
    regions().iter().any(|r| {
        r.id == region
            && r.geography != "global"
            && (r.geography == residency || r.area.as_deref() == Some(residency))
    })
}

/// Whether an offering keeps data inside `residency`, by its serving scope: a region-scope
/// offering when one of its regions lies inside; a geography-scope one (a data zone, a
/// geographic cross-region profile) only when the requirement is that whole geography, never
/// an area inside it; a global one never. An offering without a scope counts as global.
pub fn offering_within(o: &Offering, residency: &str) -> bool {
    match o.scope.as_ref().map(|s| s.value.as_str()) {
        Some("region") => o.regions.value.iter().any(|g| region_within(g, residency)),
        Some("geography") => o.regions.value.iter().any(|g| {
            regions()
                .iter()
                .any(|r| &r.id == g && r.geography != "global" && r.geography == residency)
        }),
        _ => false,
    }
}

/// "us-east-1 (US cross-region profile: any region of us)"-style words for where an offering
/// serves, for the residency exclusion.
pub fn serving_scope(o: &Offering) -> String {
    let listed = o.regions.value.join(", ");
    match o.scope.as_ref().map(|s| s.value.as_str()) {
        Some("region") => listed,
        Some("geography") => {
            let geo: Vec<&str> = o
                .regions
                .value
                .iter()
                .filter_map(|g| regions().iter().find(|r| &r.id == g))
                .map(|r| r.geography.as_str())
                .collect();
            format!(
                "{listed} (geography scope: any region of {})",
                geo.join(", ")
            )
        }
        _ => format!("{listed} (global scope)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::catalog::Catalog;

    #[test]
    fn every_catalog_region_is_mapped() {
        for (_, o) in Catalog::shipped().offerings() {
            for r in &o.regions.value {
                assert!(
                    regions().iter().any(|x| &x.id == r),
                    "region {r} of {} is not in sim/input/catalog/regions.toml",
                    o.id
                );
            }
        }
    }

    #[test]
    fn residency_rules() {
        assert!(region_within("us-east-1", "us-east"));
        assert!(region_within("eastus2", "us"));
        assert!(
            !region_within("us", "us-east"),
            "a data zone is not an area"
        );
        assert!(region_within("us", "us"));
        assert!(!region_within("global", "us"));
        assert!(!region_within("westus", "us-east"));
        assert!(!region_within("nowhere", "us"));
        let v = residency_values();
        assert!(v.contains(&"us-east".to_string()) && v.contains(&"eu".to_string()));
        assert!(!v.contains(&"global".to_string()));
    }

    #[test]
    fn scopes_decide_residency() {
        let c = Catalog::shipped();
        let o = |id: &str| c.offering(id).unwrap_or_else(|| panic!("{id}")).1;
        // The US cross-region profile is listed at us-east-1 but may serve anywhere in the US.
        let cris = o("bedrock/claude-sonnet-4-6/us-cris");
        assert!(!offering_within(cris, "us-east"));
        assert!(offering_within(cris, "us"));
        assert!(!offering_within(
            o("azure-openai/gpt-4o/data-zone-standard"),
            "us-east"
        ));
        assert!(offering_within(
            o("azure-openai/gpt-4o/data-zone-standard"),
            "eu"
        ));
        assert!(offering_within(
            o("azure-openai/gpt-4o/regional-standard"),
            "us-east"
        ));
        assert!(offering_within(
            o("vertex-ai/claude-sonnet-4/paygo-us-east5"),
            "us-east"
        ));
        assert!(!offering_within(
            o("anthropic/claude-sonnet-4-6/standard"),
            "us"
        ));
        assert!(serving_scope(cris).contains("geography scope: any region of us"));
    }
}
