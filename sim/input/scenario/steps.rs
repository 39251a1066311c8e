//! The steps of a class behind a LiteLLM router (`gateway.router = "litellm"`): its route's
//! model groups (`groups`, one per route entry) and order levels (`orders`).

use crate::domain::{Routing, Step};
use crate::error::InputError;
use crate::input::document::Checker;
use crate::input::scenario::raw::RawClass;

/// The steps in the order LiteLLM tries them: the groups in order of first appearance (the
/// class's own group first, then its fallbacks), each group's order levels lowest first.
/// Without `groups` the whole route is one group; without `orders`, one level.
pub(super) fn steps(
    c: &Checker,
    p: &str,
    k: &RawClass,
    routing: &Routing,
    litellm: bool,
) -> Result<Vec<Step>, InputError> {
    let n = k.route.len();
    if !litellm {
        c.unset(
            p,
            &[
                ("groups", k.groups.is_some()),
                ("orders", k.orders.is_some()),
            ],
            "only applies with [gateway] router = \"litellm\"",
        )?;
        return Ok(Vec::new());
    }
    if matches!(routing, Routing::Cheapest | Routing::Fastest) {
        return Err(c.err(
            format!("{p}.routing"),
            "with [gateway] router = \"litellm\" the gateway's strategy picks deployments; allowed: ordered, weighted (simple-shuffle's weights)",
        ));
    }
    let one_each = |key: &str, len: usize| -> Result<(), InputError> {
        if len != n {
            return Err(c.err(
                format!("{p}.{key}"),
                format!("needs one entry per route entry ({n}), got {len}"),
            ));
        }
        Ok(())
    };
    let groups: Vec<&str> = match &k.groups {
        Some(g) => {
            one_each("groups", g.len())?;
            for (j, x) in g.iter().enumerate() {
                if x.is_empty() {
                    return Err(c.err(format!("{p}.groups[{j}]"), "must not be empty"));
                }
            }
            g.iter().map(String::as_str).collect()
        }
        None => vec![k.name.as_str(); n],
    };
    let orders: Vec<u32> = match &k.orders {
        Some(o) => {
            one_each("orders", o.len())?;
            (o.iter().enumerate())
                .map(|(j, x)| c.whole(&format!("{p}.orders[{j}]"), *x, 1))
                .collect::<Result<_, _>>()?
        }
        None => vec![1; n],
    };
    let mut names: Vec<&str> = Vec::new();
    for g in &groups {
        if !names.contains(g) {
            names.push(g);
        }
    }
    let mut out = Vec::new();
    for (gi, g) in names.into_iter().enumerate() {
        let members: Vec<usize> = (0..n).filter(|&j| groups[j] == g).collect();
        let mut levels: Vec<u32> = members.iter().map(|&j| orders[j]).collect();
        levels.sort_unstable();
        levels.dedup();
        for level in levels {
            out.push(Step {
                members: members
                    .iter()
                    .copied()
                    .filter(|&j| orders[j] == level)
                    .collect(),
                group: gi as u32,
                group_size: members.len() as u32,
            });
        }
    }
    Ok(out)
}
