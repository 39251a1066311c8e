//! Which platform and catalog model a LiteLLM model string is.

use crate::error::InputError;
use crate::input::catalog::Catalog;
use crate::input::gateway::models;

use super::Ctx;

/// The platform and catalog model of a LiteLLM model string, and where the model was read when
/// not from the string itself (the group's name for an Azure deployment named otherwise, or a
/// `--model` mapping in `map`).
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve(
    cx: &Ctx,
    path: &str,
    model: &str,
    group: &str,
    info: Option<&yaml_serde::Mapping>,
    catalog: &Catalog,
    exact: Option<&toml::Table>,
    map: &[(String, String)],
) -> Result<(&'static str, String, Option<String>), InputError> {
    let mpath = format!("{path}.litellm_params.model");
    if model.contains('*') {
        return Err(cx.err(
            &mpath,
            format!("\"{model}\" is a wildcard route (any model of a provider); llmcap needs one model per deployment"),
        ));
    }
    let (prefix, rest) = match model.split_once('/') {
        Some((p, r)) => (Some(p), r),
        None => (None, model),
    };
    let platform = match prefix {
        Some(p) => match models::platform_of_prefix(p) {
            Some(platform) => platform,
            None => {
                return Err(cx.err(
                    &mpath,
                    format!(
                        "provider prefix \"{p}/\" is not one llmcap models; known: {}",
                        models::known_prefixes()
                    ),
                ))
            }
        },
        // LiteLLM infers the provider of a bare model name from its own model list.
        None if rest.starts_with("gpt-")
            || rest.starts_with("o1")
            || rest.starts_with("o3")
            || rest.starts_with("o4")
            || rest.starts_with("chatgpt") =>
        {
            "openai"
        }
        None if rest.starts_with("claude") => "anthropic",
        None => {
            return Err(cx.err(
                &mpath,
                format!(
                    "\"{model}\" has no provider prefix and is not an OpenAI or Anthropic model name; write it with one of: {}",
                    models::known_prefixes()
                ),
            ))
        }
    };
    if let Some(t) = exact {
        let m = t
            .get("model")
            .and_then(|v| v.as_str())
            .map(String::from)
            .or_else(|| {
                t.get("offering")
                    .and_then(|v| v.as_str())
                    .and_then(|o| catalog.offering(o))
                    .map(|(_, o)| o.model.clone())
            });
        if let Some(m) = m {
            return Ok((platform, m, None));
        }
    }
    // The model id: a Bedrock route (converse/, invoke/) and an ARN's base model aside.
    let mut id = rest;
    for route in ["converse/", "invoke/", "converse_like/"] {
        if let Some(r) = id.strip_prefix(route) {
            id = r;
        }
    }
    let base = info
        .and_then(|i| i.get("base_model"))
        .and_then(|v| v.as_str())
        .map(|b| b.split_once('/').map_or(b, |(_, r)| r));
    let names: Vec<&str> = [Some(id), base, Some(model), Some(group)]
        .into_iter()
        .flatten()
        .collect();
    if let Some(mapped) = models::mapped_model(catalog, platform, map, &names) {
        return match mapped {
            models::Mapped::Model { model, why } => Ok((platform, model, Some(why))),
            models::Mapped::NotSold(why) => Err(cx.err(&mpath, why)),
        };
    }
    let arn = id.starts_with("arn:");
    let candidates: Vec<&str> = match (base, arn, platform) {
        (Some(b), _, _) => vec![b, id],
        (None, true, _) => {
            return Err(cx.err(
                &mpath,
                "an ARN names no model: set model_info.base_model (e.g. bedrock/meta.llama2-70b-chat-v1)",
            ))
        }
        // An Azure deployment name is the customer's; it often is the model name.
        (None, false, _) => vec![id],
    };
    for c in &candidates {
        if let Some(m) = models::catalog_model(catalog, platform, c) {
            return Ok((platform, m, None));
        }
    }
    if platform == "azure-openai" && base.is_none() {
        if let Some(m) = models::catalog_model(catalog, platform, group) {
            let why = format!(
                "model {m} read from the model group's name: an Azure model string names the deployment ({model}); set model_info.base_model (or --model {id}=MODEL) to say which model it serves"
            );
            return Ok((platform, m, Some(why)));
        }
    }
    let closest = models::closest_models(catalog, Some(platform), candidates[0]);
    let hint = if platform == "azure-openai" && base.is_none() {
        " (an Azure model string names the deployment: set model_info.base_model, or give --model DEPLOYMENT=MODEL, to say which model it serves)"
    } else {
        ""
    };
    Err(cx.err(
        &mpath,
        format!(
            "{platform} does not sell \"{}\" in the catalog{hint}; closest: {} (--model NAME=MODEL reads it as one of them)",
            candidates[0],
            closest.join(", ")
        ),
    ))
}
