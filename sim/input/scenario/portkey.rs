//! A class's Portkey target tree (`[class.portkey]`, `gateway.router = "portkey"`), checked and
//! resolved: each target gets the `retry` and `timeout_ms` it sets, else those of the nearest
//! strategy above it that sets them (Portkey's `tryTargetsRecursively` passes them down the same
//! way). docs/model.md section 8.3 says where each rule comes from.

use crate::domain::{PkKind, PkMode, PkNode, PkRetry, PortkeyTree, Routing};
use crate::error::InputError;
use crate::input::document::{ms_to_us, Checker};
use crate::input::scenario::raw::{RawClass, RawPortkey};

/// Portkey's most retry attempts ("up to 5", its docs; `MAX_RETRIES = 5` in src/globals.ts).
pub const MAX_ATTEMPTS: u32 = 5;
/// The statuses Portkey retries when `retry.on_status_codes` is not given (`RETRY_STATUS_CODES`).
pub const DEFAULT_RETRY_CODES: [u16; 5] = [429, 500, 502, 503, 504];
/// Bounds that keep a tree small enough to walk per call (a request's place in it is a `u16`).
const MAX_NODES: usize = 256;
const MAX_DEPTH: usize = 8;

/// What a node passes down to its targets.
#[derive(Clone)]
struct Inherited {
    retry: PkRetry,
    timeout_us: Option<u64>,
}

struct Builder<'a> {
    c: &'a Checker<'a>,
    /// The class's route, by deployment name.
    route: &'a [String],
    used: Vec<bool>,
    nodes: Vec<PkNode>,
}

/// The class's tree, or `None` when the gateway is not a Portkey router (then `[class.portkey]`
/// must be absent).
pub(super) fn tree(
    c: &Checker,
    p: &str,
    k: &RawClass,
    routing: &Routing,
    portkey: bool,
) -> Result<Option<PortkeyTree>, InputError> {
    if !portkey {
        if k.portkey.is_some() {
            return Err(c.err(
                format!("{p}.portkey"),
                "only applies with [gateway] router = \"portkey\"",
            ));
        }
        return Ok(None);
    }
    let Some(root) = &k.portkey else {
        return Err(c.err(
            format!("{p}.portkey"),
            "is missing: with [gateway] router = \"portkey\" each class needs its Portkey target tree ([class.portkey] with mode and targets, or a deployment)",
        ));
    };
    if !matches!(routing, Routing::Ordered) {
        return Err(c.err(
            format!("{p}.routing"),
            "with [gateway] router = \"portkey\" the tree's strategies pick deployments; leave routing out (loadbalance weights go on the targets)",
        ));
    }
    let mut b = Builder {
        c,
        route: &k.route,
        used: vec![false; k.route.len()],
        nodes: Vec::new(),
    };
    let top = Inherited {
        retry: PkRetry::default(),
        timeout_us: None,
    };
    b.node(&format!("{p}.portkey"), root, None, None, &top, 0)?;
    if let Some(j) = b.used.iter().position(|u| !u) {
        return Err(c.err(
            format!("{p}.route[{j}]"),
            format!(
                "deployment \"{}\" is not a target of {p}.portkey: the route lists the deployments the tree names, each once",
                k.route[j]
            ),
        ));
    }
    Ok(Some(PortkeyTree { nodes: b.nodes }))
}

impl Builder<'_> {
    /// Adds the node at `path` (and its targets) and returns its index.
    fn node(
        &mut self,
        path: &str,
        raw: &RawPortkey,
        parent: Option<u16>,
        parent_mode: Option<PkMode>,
        inherited: &Inherited,
        depth: usize,
    ) -> Result<u16, InputError> {
        let c = self.c;
        if self.nodes.len() >= MAX_NODES {
            return Err(c.err(
                path,
                format!("a Portkey tree has at most {MAX_NODES} strategies and targets"),
            ));
        }
        if depth > MAX_DEPTH {
            return Err(c.err(
                path,
                format!("targets nest at most {MAX_DEPTH} strategies deep"),
            ));
        }
        let weight = match raw.weight {
            Some(_) if parent_mode != Some(PkMode::Loadbalance) => {
                return Err(c.err(
                    format!("{path}.weight"),
                    "only applies to the targets of a mode = \"loadbalance\" strategy",
                ))
            }
            Some(w) => c.range(&format!("{path}.weight"), w, 0.0, 1e9)?,
            None => 1.0,
        };
        let here = Inherited {
            retry: match &raw.retry {
                Some(r) => retry(c, &format!("{path}.retry"), r)?,
                None => inherited.retry.clone(),
            },
            timeout_us: match raw.timeout_ms {
                Some(t) => Some(ms_to_us(c.range(
                    &format!("{path}.timeout_ms"),
                    t,
                    1.0,
                    3.6e6,
                )?)),
                None => inherited.timeout_us,
            },
        };
        let idx = self.nodes.len() as u16;
        match (&raw.deployment, &raw.targets) {
            (Some(_), Some(_)) => Err(c.err(
                path,
                "a node is a target (deployment) or a strategy (mode and targets), not both",
            )),
            (None, None) => Err(c.err(
                path,
                "needs targets (a strategy, with mode) or deployment (a target)",
            )),
            (Some(name), None) => {
                c.unset(
                    path,
                    &[
                        ("mode", raw.mode.is_some()),
                        ("on_status_codes", raw.on_status_codes.is_some()),
                    ],
                    "applies to a strategy (a node with targets), not to a deployment",
                )?;
                let Some(pos) = self.route.iter().position(|r| r == name) else {
                    return Err(c.err(
                        format!("{path}.deployment"),
                        format!(
                            "\"{name}\" is not in the class's route; route: {}",
                            self.route.join(", ")
                        ),
                    ));
                };
                self.used[pos] = true;
                self.nodes.push(PkNode {
                    parent,
                    weight,
                    kind: PkKind::Leaf {
                        pos,
                        retry: here.retry,
                        timeout_us: here.timeout_us,
                    },
                });
                Ok(idx)
            }
            (None, Some(targets)) => {
                self.strategy(path, raw, targets, parent, weight, &here, depth)?;
                Ok(idx)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn strategy(
        &mut self,
        path: &str,
        raw: &RawPortkey,
        targets: &[RawPortkey],
        parent: Option<u16>,
        weight: f64,
        here: &Inherited,
        depth: usize,
    ) -> Result<(), InputError> {
        let c = self.c;
        let Some(m) = raw.mode.as_deref() else {
            return Err(c.err(
                format!("{path}.mode"),
                "is missing: single, fallback or loadbalance (a node with targets is a strategy)",
            ));
        };
        let mode = [PkMode::Single, PkMode::Fallback, PkMode::Loadbalance][c.one_of(
            &format!("{path}.mode"),
            m,
            &["single", "fallback", "loadbalance"],
        )?];
        if targets.is_empty() {
            return Err(c.err(format!("{path}.targets"), "must list at least one target"));
        }
        if mode == PkMode::Single && targets.len() > 1 {
            return Err(c.err(
                format!("{path}.targets"),
                format!(
                    "mode = \"single\" sends every request to its first target; list one, got {}",
                    targets.len()
                ),
            ));
        }
        let fallback_on = match &raw.on_status_codes {
            Some(_) if mode != PkMode::Fallback => {
                return Err(c.err(
                    format!("{path}.on_status_codes"),
                    "only applies to mode = \"fallback\" (Portkey reads it nowhere else)",
                ))
            }
            Some(v) => Some(codes(c, &format!("{path}.on_status_codes"), v)?),
            None => None,
        };
        let idx = self.nodes.len() as u16;
        self.nodes.push(PkNode {
            parent,
            weight,
            kind: PkKind::Strategy {
                mode,
                fallback_on,
                children: Vec::new(),
            },
        });
        let mut children = Vec::with_capacity(targets.len().min(MAX_NODES));
        for (i, t) in targets.iter().enumerate() {
            let tp = format!("{path}.targets[{i}]");
            children.push(self.node(&tp, t, Some(idx), Some(mode), here, depth + 1)?);
        }
        if mode == PkMode::Loadbalance
            && children
                .iter()
                .all(|&ch| self.nodes[ch as usize].weight == 0.0)
        {
            return Err(c.err(
                format!("{path}.targets"),
                "every target has weight 0: loadbalance would draw none (Portkey fails such a request); give one a weight above 0",
            ));
        }
        if let PkKind::Strategy { children: ch, .. } = &mut self.nodes[idx as usize].kind {
            *ch = children;
        }
        Ok(())
    }
}

/// `retry`: attempts 0..=5; the statuses default to Portkey's when attempts > 0 (with 0 attempts
/// nothing is retried, as Portkey's `normalizeRetryConfig` has it).
fn retry(
    c: &Checker,
    path: &str,
    r: &crate::input::scenario::raw::RawPortkeyRetry,
) -> Result<PkRetry, InputError> {
    let attempts = c.whole(
        &format!("{path}.attempts"),
        c.range(
            &format!("{path}.attempts"),
            r.attempts,
            0.0,
            MAX_ATTEMPTS as f64,
        )?,
        0,
    )?;
    let on_status_codes = match &r.on_status_codes {
        Some(v) => codes(c, &format!("{path}.on_status_codes"), v)?,
        None if attempts > 0 => DEFAULT_RETRY_CODES.to_vec(),
        None => Vec::new(),
    };
    Ok(PkRetry {
        attempts,
        on_status_codes,
        use_retry_after: r.use_retry_after_header.unwrap_or(false),
    })
}

/// HTTP statuses, each from 100 to 599.
fn codes(c: &Checker, path: &str, v: &[i64]) -> Result<Vec<u16>, InputError> {
    (v.iter().enumerate())
        .map(|(i, &x)| {
            if (100..=599).contains(&x) {
                Ok(x as u16)
            } else {
                Err(c.err(
                    format!("{path}[{i}]"),
                    format!("must be an HTTP status from 100 to 599, got {x}"),
                ))
            }
        })
        .collect()
}
