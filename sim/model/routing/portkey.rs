//! A Portkey gateway (`gateway.router = "portkey"`), as its open-source gateway routes a request
//! (src/handlers/handlerUtils.ts `tryTargetsRecursively`, src/handlers/retryHandler.ts; docs/model.md
//! section 8.3 says which version):
//!
//! - The request walks its class's target tree from the root. A `single` strategy goes to its
//!   target; `fallback` to its first target, then to the next one while the status that came
//!   back is in its `on_status_codes` (any status but a success when it has none); `loadbalance`
//!   draws ONE target by weight (from the class's routing stream) and never falls back.
//! - At a target (a deployment) a call answers 200 (admitted), 429 (quota, a full queue, a
//!   partial outage's share), 503 (a full outage) or 408 (its TTFT would pass the target's
//!   request timeout: the call ends when the timeout passes). A status in the target's
//!   `retry.on_status_codes` calls the SAME deployment again, up to `retry.attempts` more
//!   times, after 1 s × 2^(n−1) for the n-th failed call (async-retry's defaults: factor 2,
//!   1 s, no jitter), or after the 429's Retry-After with `use_retry_after_header`.
//! - When the tree's root returns a failure, the client's own policy (`[client]`) takes over, as
//!   after a route walk. No cooldown: Portkey does not take a failing target out of rotation.
//!
//! A request's place in the tree is the target it is at (`Request::step`) and the calls made
//! there (`Request::calls`); a target never comes back in one pass, so that is the whole state.

use rand::Rng;

use crate::domain::{PkKind, PkMode, PortkeyTree, Scenario};
use crate::model::engine::{SimTime, US_PER_HOUR};
use crate::model::metrics::RepMetrics;
use crate::model::rng::SimRng;

use super::{Call, Request, Router, Served};

/// async-retry's first wait (node-retry `minTimeout`), doubled after each failed call.
const BACKOFF_BASE_US: u64 = 1_000_000;
/// Retry-After waits of one target's retries add up to at most this (`MAX_RETRY_LIMIT_MS`).
const RETRY_AFTER_BUDGET_US: u64 = 60_000_000;
/// `Request::step` of a request whose tree failed while a timed-out call was still running.
const EXHAUSTED: u16 = u16::MAX;

/// What Portkey sees from a call.
const OK: u16 = 200;
const TOO_MANY: u16 = 429;
const UNAVAILABLE: u16 = 503;
const TIMED_OUT: u16 = 408;

impl Router {
    /// The calls a Portkey gateway makes for `req` from `now` until the request is served, fails,
    /// or must wait (a retry's backoff, a call running into its timeout); then the time it
    /// continues.
    pub(super) fn portkey_attempt(
        &mut self,
        sc: &Scenario,
        m: &mut RepMetrics,
        now: SimTime,
        mut req: Request,
        retry_rng: &mut SimRng,
        route_rng: &mut SimRng,
    ) -> Option<(SimTime, Request)> {
        let ci = req.class as usize;
        let class = &sc.classes[ci];
        let tree = class.portkey.as_ref()?;
        let hour = (now / US_PER_HOUR) as usize;
        if req.step == EXHAUSTED {
            let errored = req.met_error;
            return self.refused_everywhere(sc, m, now, req, errored, retry_rng);
        }
        let mut first = req.step == 0 && req.calls == 0;
        if first {
            req.step = descend(tree, 0, route_rng);
        }
        loop {
            let leaf = req.step as usize;
            let PkKind::Leaf {
                pos,
                retry,
                timeout_us,
            } = &tree.nodes[leaf].kind
            else {
                return None;
            };
            let d = class.route[*pos];
            if !first {
                m.classes[ci].retries += 1;
            }
            req.calls = req.calls.saturating_add(1);
            let (status, took) = match self.call(m, d, now, &req) {
                Call::Admitted(call) => {
                    match call.timed_out(*timeout_us) {
                        // The gateway aborts the call when the timeout passes: a 408.
                        Some(t) => (TIMED_OUT, t),
                        None => {
                            let served = Served {
                                d,
                                call,
                                spilled: !first,
                                rescued: req.met_error,
                            };
                            self.serve(sc, m, now, &req, served);
                            return None;
                        }
                    }
                }
                Call::Error => (UNAVAILABLE, 0),
                Call::Refused => (TOO_MANY, 0),
            };
            first = false;
            // The same target again, after its wait; else the next target the tree reaches.
            let retry_after = sc.deployments[d].retry_after_us.filter(|&r| r > 0);
            let again =
                retry.on_status_codes.contains(&status) && u32::from(req.calls) <= retry.attempts;
            let wait = match (again, retry_after) {
                (false, _) => None,
                (true, Some(r)) if retry.use_retry_after && status == TOO_MANY => {
                    // One target's Retry-After waits share a 60 s budget; a wait past it ends
                    // the retries (Portkey's `retrySkipped`).
                    (u64::from(req.calls).saturating_mul(r) <= RETRY_AFTER_BUDGET_US).then_some(r)
                }
                (true, _) => Some(backoff(req.calls)),
            };
            let next = match wait {
                Some(_) => None,
                None => next_target(tree, leaf, status, route_rng),
            };
            if status == TOO_MANY {
                self.refused(m, hour, d, wait.is_some() || next.is_some(), now);
            } else {
                self.errored(m, hour, d);
                req.met_error = true;
            }
            if let Some(w) = wait {
                return Some((now + took + w, req));
            }
            match next {
                Some(n) => {
                    req.step = n;
                    req.calls = 0;
                    if took > 0 {
                        return Some((now + took, req));
                    }
                }
                None if took > 0 => {
                    req.step = EXHAUSTED;
                    return Some((now + took, req));
                }
                None => {
                    let errored = req.met_error;
                    return self.refused_everywhere(sc, m, now, req, errored, retry_rng);
                }
            }
        }
    }
}

/// The target a request reaches from node `n`: a strategy's first target (`single`,
/// `fallback`) or one drawn by weight (`loadbalance`), down to a deployment.
fn descend(tree: &PortkeyTree, mut n: usize, rng: &mut SimRng) -> u16 {
    loop {
        let PkKind::Strategy { mode, children, .. } = &tree.nodes[n].kind else {
            return n as u16;
        };
        n = match mode {
            PkMode::Single | PkMode::Fallback => children[0],
            PkMode::Loadbalance => {
                // Portkey's draw: a uniform number times the total weight, walked down the
                // targets; a weight-0 target is never drawn.
                let w = |c: u16| tree.nodes[c as usize].weight;
                let total: f64 = children.iter().map(|&c| w(c)).sum();
                let mut x = rng.random::<f64>() * total;
                let mut pick = children[children.len() - 1];
                for &c in children {
                    if x < w(c) {
                        pick = c;
                        break;
                    }
                    x -= w(c);
                }
                pick
            }
        } as usize;
    }
}

/// After target `leaf` returned `status` (not a success): the next target of the nearest
/// fallback strategy above it that falls back on that status and has a target left, or `None`
/// when the status comes back out of the root.
fn next_target(tree: &PortkeyTree, leaf: usize, status: u16, rng: &mut SimRng) -> Option<u16> {
    debug_assert_ne!(status, OK);
    let mut n = leaf;
    while let Some(p) = tree.nodes[n].parent {
        let p = p as usize;
        if let PkKind::Strategy {
            mode: PkMode::Fallback,
            fallback_on,
            children,
        } = &tree.nodes[p].kind
        {
            let moves = fallback_on.as_ref().is_none_or(|c| c.contains(&status));
            let at = children.iter().position(|&c| c as usize == n);
            if let Some(&next) = at.and_then(|i| children.get(i + 1)).filter(|_| moves) {
                return Some(descend(tree, next as usize, rng));
            }
        }
        n = p;
    }
    None
}

/// Portkey's wait after the `calls`-th failed call to one target: 1 s × 2^(calls−1).
pub(super) fn backoff(calls: u16) -> SimTime {
    let exp = u32::from(calls.saturating_sub(1)).min(20);
    BACKOFF_BASE_US << exp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_async_retrys_default_schedule() {
        let waits: Vec<u64> = (1..=5).map(backoff).collect();
        assert_eq!(
            waits,
            vec![1_000_000, 2_000_000, 4_000_000, 8_000_000, 16_000_000]
        );
    }
}
