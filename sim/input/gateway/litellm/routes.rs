//! Fallbacks between model groups.

use std::collections::BTreeMap;

use yaml_serde::Value;

use crate::error::InputError;

use super::{describe, key_str, Ctx};

/// Fallback groups per group, from `fallbacks` (a list of one-key mappings) and
/// `default_fallbacks` (a list of groups).
pub(super) fn fallbacks(
    cx: &mut Ctx,
    settings: &BTreeMap<String, (String, &Value)>,
    groups: &[String],
    skipped: &[String],
) -> Result<BTreeMap<String, Vec<String>>, InputError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // Ok(true): a group of the scenario; Ok(false): a group whose deployments were skipped.
    let known = |cx: &mut Ctx, path: &str, g: &str| -> Result<bool, InputError> {
        if groups.iter().any(|x| x == g) {
            Ok(true)
        } else if skipped.iter().any(|x| x == g) {
            cx.draft.warn(format!(
                "{path}: model group \"{g}\" was skipped, so this fallback is dropped"
            ));
            Ok(false)
        } else {
            Err(cx.err(
                path,
                format!(
                    "names model group \"{g}\", which model_list does not define (or whose deployments were skipped); groups: {}",
                    groups.join(", ")
                ),
            ))
        }
    };
    if let Some((path, v)) = settings.get("fallbacks") {
        let Some(list) = v.as_sequence() else {
            return Err(cx.err(
                path,
                format!(
                    "must be a list like [{{\"group\": [\"fallback\"]}}], got {}",
                    describe(v)
                ),
            ));
        };
        for (i, item) in list.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(m) = item.as_mapping() else {
                return Err(cx.err(
                    &ipath,
                    format!(
                        "must be a mapping {{group: [fallbacks]}}, got {}",
                        describe(item)
                    ),
                ));
            };
            for (k, v) in m {
                let g = key_str(k);
                let gpath = format!("{ipath}.{g}");
                let keep = known(cx, &gpath, &g)?;
                let targets: Vec<String> = match v {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(s) => s
                        .iter()
                        .map(|x| cx.string(&gpath, x).map(String::from))
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(cx.err(
                            &gpath,
                            format!("must be a list of model groups, got {}", describe(other)),
                        ))
                    }
                };
                let mut kept = Vec::new();
                for t in targets {
                    if known(cx, &gpath, &t)? {
                        kept.push(t);
                    }
                }
                if keep {
                    out.entry(g).or_default().extend(kept);
                }
            }
        }
    }
    if let Some((path, v)) = settings.get("default_fallbacks") {
        let Some(list) = v.as_sequence() else {
            return Err(cx.err(
                path,
                format!("must be a list of model groups, got {}", describe(v)),
            ));
        };
        let mut defaults = Vec::new();
        for (i, x) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let g = cx.string(&p, x)?.to_string();
            if known(cx, &p, &g)? {
                defaults.push(g);
            }
        }
        for g in groups {
            out.entry(g.clone())
                .or_insert_with(|| defaults.iter().filter(|d| *d != g).cloned().collect());
        }
    }
    Ok(out)
}
