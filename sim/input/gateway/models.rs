//! Which catalog offering a gateway deployment is: the provider prefix of a LiteLLM model string
//! (`azure/`, `bedrock/`, ...) or a Portkey provider names the platform; the model id (a Bedrock
//! model or inference-profile id, a Vertex model with its `@version`, a dated OpenAI snapshot)
//! is matched to a catalog model by a normalised key; the region picks among the platform's
//! offerings of that model.

use crate::input::catalog::{Catalog, Offering};

/// LiteLLM provider prefixes llmcap maps to catalog platforms, in the order errors list them.
pub const PREFIXES: &[(&str, &str)] = &[
    ("azure", "azure-openai"),
    ("azure_ai", "azure-openai"),
    ("bedrock", "bedrock"),
    ("vertex_ai", "vertex-ai"),
    ("vertex_ai_beta", "vertex-ai"),
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("gemini", "gemini-api"),
];

/// The platform of a LiteLLM provider prefix.
pub fn platform_of_prefix(prefix: &str) -> Option<&'static str> {
    PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, platform)| *platform)
}

/// The known prefixes, for error messages.
pub fn known_prefixes() -> String {
    PREFIXES
        .iter()
        .map(|(p, _)| format!("{p}/"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A model id reduced to what identifies the model: lower case, without the cross-region
/// profile prefix (`us.`), the vendor namespace (`anthropic.`, `meta/`), the version suffix
/// (`-v1:0`, `@20250514`), a date (`-20250514`, `-2024-08-06`), `-instruct` / `-maas` / `-latest`,
/// and punctuation: `us.meta.llama3-3-70b-instruct-v1:0` and `llama-3.3-70b` both give `llama3370b`.
pub fn model_key(id: &str) -> String {
    let mut s = id.trim().to_ascii_lowercase();
    if let Some(at) = s.find('@') {
        s.truncate(at);
    }
    for geo in ["us.", "eu.", "apac.", "global.", "us-gov."] {
        if let Some(rest) = s.strip_prefix(geo) {
            s = rest.to_string();
            break;
        }
    }
    for ns in [
        "anthropic.",
        "meta.",
        "amazon.",
        "mistral.",
        "cohere.",
        "ai21.",
        "meta/",
        "google/",
        "publishers/google/models/",
    ] {
        if let Some(rest) = s.strip_prefix(ns) {
            s = rest.to_string();
            break;
        }
    }
    // -v1:0, -v2, :0
    if let Some(colon) = s.rfind(':') {
        if s[colon + 1..].chars().all(|c| c.is_ascii_digit()) {
            s.truncate(colon);
        }
    }
    let parts: Vec<&str> = s.split('-').collect();
    let mut keep: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < parts.len() {
        let p = parts[i];
        let is_version = p.len() >= 2
            && p.starts_with('v')
            && p[1..].chars().all(|c| c.is_ascii_digit())
            && i == parts.len() - 1;
        let is_date8 = p.len() == 8 && p.chars().all(|c| c.is_ascii_digit());
        // 2024-08-06
        let is_iso = p.len() == 4
            && p.chars().all(|c| c.is_ascii_digit())
            && i + 2 < parts.len()
            && parts[i + 1].len() == 2
            && parts[i + 2].len() == 2
            && parts[i + 1].chars().all(|c| c.is_ascii_digit())
            && parts[i + 2].chars().all(|c| c.is_ascii_digit());
        if is_iso {
            i += 3;
            continue;
        }
        if is_version || is_date8 || matches!(p, "instruct" | "maas" | "latest") {
            i += 1;
            continue;
        }
        keep.push(p);
        i += 1;
    }
    keep.join("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The catalog model a platform sells under `id`, if any.
pub fn catalog_model(catalog: &Catalog, platform: &str, id: &str) -> Option<String> {
    let key = model_key(id);
    if key.is_empty() {
        return None;
    }
    catalog
        .offerings()
        .filter(|(p, _)| p.id == platform)
        .find(|(_, o)| {
            model_key(&o.model) == key
                || o.vendor_model_id
                    .as_ref()
                    .is_some_and(|v| model_key(&v.value) == key)
        })
        .map(|(_, o)| o.model.clone())
}

/// Catalog model names closest to `id` (for "did you mean"): on `platform` first, then anywhere.
/// What a `--model FROM=TO` mapping gives for a deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// The catalog model, and the provenance the scenario's comment gives.
    Model { model: String, why: String },
    /// The platform does not sell TO: why, with the closest names.
    NotSold(String),
}

/// The model `--model FROM=TO` gives when FROM is one of `names` (the names a deployment goes
/// by in its config), or None without a mapping for it.
pub fn mapped_model(
    catalog: &Catalog,
    platform: &str,
    map: &[(String, String)],
    names: &[&str],
) -> Option<Mapped> {
    let (from, to) = map.iter().find(|(f, _)| names.contains(&f.as_str()))?;
    Some(match catalog_model(catalog, platform, to) {
        Some(m) => Mapped::Model {
            why: format!(
                "model {m} from --model {from}={to} (the config names {})",
                names.first().copied().unwrap_or(from.as_str())
            ),
            model: m,
        },
        None => Mapped::NotSold(format!(
            "--model {from}={to}: {platform} does not sell \"{to}\" in the catalog; closest: {}",
            closest_models(catalog, Some(platform), to).join(", ")
        )),
    })
}

pub fn closest_models(catalog: &Catalog, platform: Option<&str>, id: &str) -> Vec<String> {
    let key = model_key(id);
    let mut names: Vec<(&str, &str)> = catalog
        .offerings()
        .map(|(p, o)| (p.id.as_str(), o.model.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut scored: Vec<(bool, usize, String)> = names
        .iter()
        .map(|(p, m)| {
            (
                Some(*p) != platform,
                strsim::levenshtein(&key, &model_key(m)),
                m.to_string(),
            )
        })
        .collect();
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, _, m) in scored {
        if !out.contains(&m) {
            out.push(m);
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// The offering of `model` on `platform` of the given pool kind (`on_demand` / `reserved`)
/// serving `region` (when given and one does), else the first in catalog order. The flag says
/// whether the region decided.
pub fn offering<'c>(
    catalog: &'c Catalog,
    platform: &str,
    model: &str,
    kind: &str,
    region: Option<&str>,
) -> Option<(String, &'c Offering, bool)> {
    let candidates: Vec<&Offering> = catalog
        .offerings()
        .filter(|(p, o)| {
            p.id == platform && o.model == model && o.kind == kind && o.tier() == "standard"
        })
        .map(|(_, o)| o)
        .collect();
    let by_region = region.and_then(|r| {
        let r = r.to_ascii_lowercase();
        candidates
            .iter()
            .find(|o| o.regions.value.iter().any(|x| x.eq_ignore_ascii_case(&r)))
    });
    let chosen = by_region.or(candidates.first())?;
    Some((
        format!("{platform}/{}", chosen.id),
        chosen,
        by_region.is_some(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_vendor_ids_and_catalog_names() {
        for (a, b) in [
            ("us.meta.llama3-3-70b-instruct-v1:0", "llama-3.3-70b"),
            (
                "anthropic.claude-3-7-sonnet-20250219-v1:0",
                "claude-3-7-sonnet",
            ),
            ("claude-sonnet-4@20250514", "claude-sonnet-4"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("meta.llama2-70b-chat-v1", "llama-2-70b-chat"),
            ("meta/llama-3.1-405b-instruct-maas", "llama-3.1-405b"),
            ("claude-3.7-sonnet", "claude-3-7-sonnet"),
        ] {
            assert_eq!(model_key(a), model_key(b), "{a} vs {b}");
        }
        assert_ne!(model_key("gpt-4o-mini"), model_key("gpt-4o"));
        assert_ne!(model_key("gpt-4.1-mini"), model_key("gpt-4.1"));
    }

    #[test]
    fn finds_catalog_models_and_offerings() {
        let c = Catalog::shipped();
        assert_eq!(
            catalog_model(c, "bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0").as_deref(),
            Some("claude-sonnet-4")
        );
        assert_eq!(
            catalog_model(c, "azure-openai", "gpt-4o-mini").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(catalog_model(c, "bedrock", "gpt-4o"), None);
        let (id, _, by_region) =
            offering(c, "azure-openai", "gpt-4o", "reserved", None).expect("sold");
        assert_eq!(id, "azure-openai/gpt-4o/global-provisioned");
        assert!(!by_region);
        let (id, _, by_region) = offering(
            c,
            "bedrock",
            "llama-2-70b-chat",
            "on_demand",
            Some("us-west-2"),
        )
        .expect("sold");
        assert_eq!(id, "bedrock/llama-2-70b-chat/on-demand");
        assert!(by_region);
        assert_eq!(
            closest_models(c, Some("anthropic"), "claude-3.7-sonnett")[0],
            "claude-3-7-sonnet"
        );
    }
}
