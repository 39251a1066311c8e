//! Cost attribution: how much of each platform's simulated bill its own
//! billing can split by a tag dimension (team, product, feature, ...), how
//! much more a gateway that stamps tags on each request can split, and what
//! nobody can attribute.
//!
//! The platforms' mechanisms are data ([`crate::input::catalog::AttributionModel`]
//! in the catalog); the rules (docs/model.md, "Cost attribution"):
//!
//! - A deployment whose requests over the horizon all came from classes
//!   carrying one single value of the dimension is *dedicated*: it can be its
//!   own resource, profile, project or key, so its whole cost (reserved:
//!   idle capacity included) is native. A deployment nothing was served on is
//!   judged by the classes routed to it.
//! - On a shared on-demand deployment, a platform whose mechanism is
//!   `request` or `credential` splits the cost of the classes carrying the tag
//!   key, if its `dimensions` carry the key (`"*"`: any key); a `resource`
//!   platform splits nothing within the deployment.
//! - On a shared reserved deployment nothing is native: the reservation is
//!   one cost object.
//! - A gateway adds what requests carry: the cost of tagged classes that is
//!   not native yet, on-demand tokens and the used (busy) share of shared
//!   reserved capacity.
//! - Unattributed: the idle capacity of shared reservations and the cost of
//!   classes without the tag key.
//!
//! Costs are means per replication over the whole horizon, computed from the
//! per-class, per-deployment totals of [`RepMetrics::class_totals`] the same
//! way `cost_by_tag.csv` splits each hour (on-demand tokens at the
//! deployment's prices, reserved unit-hours by slot busy time).

use serde::Serialize;

use crate::domain::{Pool, Scenario};
use crate::input::catalog::{AttributionModel, Catalog, CUSTOM_PLATFORM};
use crate::model::metrics::RepMetrics;

/// The mechanism name of a platform outside the catalog.
pub const NO_MECHANISM: &str = "none";

/// One platform and tag dimension of `attribution.csv` (means per replication).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributionRow {
    pub platform: String,
    pub dimension: String,
    /// The platform's native mechanism ("none" outside the catalog).
    pub mechanism: String,
    /// Finest time bucket of the native cost report, hours (none outside the catalog).
    pub granularity_hours: Option<f64>,
    /// The platform's whole cost: on-demand and reserved, idle included.
    pub cost_usd: f64,
    /// What the platform's own billing splits by the dimension.
    pub native_usd: f64,
    /// What a tag-stamping gateway splits on top of that.
    pub gateway_usd: f64,
    /// What neither splits: idle shared reservations, classes without the tag.
    pub unattributed_usd: f64,
    /// Shares of `cost_usd` (none when the cost is 0).
    pub native_share: Option<f64>,
    pub with_gateway_share: Option<f64>,
    pub unattributable_share: Option<f64>,
    /// What is not native, and why.
    pub reason: String,
}

/// Horizon cost of one deployment split by class (means per replication).
struct DeploymentSplit {
    /// Per class: on-demand cost, or the reserved cost of its busy time.
    used: Vec<f64>,
    /// Reserved cost no request used.
    idle: f64,
    /// Classes that used the deployment (or, if none did, the classes routed to it).
    users: Vec<usize>,
}

fn split(sc: &Scenario, pooled: &RepMetrics, reps: f64, d: usize) -> DeploymentSplit {
    let nc = sc.classes.len();
    let dep = &sc.deployments[d];
    let cell = |c: usize| pooled.class_total(c, d);
    let (used, idle) = match &dep.pool {
        Pool::OnDemand(o) if o.reserved_rate.is_some() => {
            // Overflow at list price, plus each side of the reservation's fee shared by what
            // each class used of it (over the horizon, at hour 0's prices); the rest idle.
            let mut used: Vec<f64> = (0..nc)
                .map(|c| o.cost(&cell(c).list_tokens()) / reps)
                .collect();
            let totals = crate::analysis::cost::deployment_totals(sc, pooled)[d];
            let before: f64 = used.iter().sum();
            if before > 0.0 {
                let exact = totals.on_demand / reps;
                used.iter_mut().for_each(|u| *u *= exact / before);
            }
            let hours = f64::from(pooled.hours.max(1));
            let mut idle = 0.0;
            let fee_total = totals.reserved / reps;
            let sides = crate::analysis::cost::rate_sides(o);
            let fee_hour: f64 = sides.iter().map(|s| s.fee).sum();
            // Fees of later price periods scale each side alike.
            let k = if fee_hour > 0.0 {
                fee_total / (fee_hour * hours)
            } else {
                0.0
            };
            for side in &sides {
                let mut share_sum = 0.0;
                for (c, u) in used.iter_mut().enumerate() {
                    let share = crate::analysis::cost::rate_amount(o, side, &cell(c).covered)
                        / (side.capacity * hours * reps);
                    *u += side.fee * hours * k * share;
                    share_sum += share;
                }
                idle += side.fee * hours * k * (1.0 - share_sum).max(0.0);
            }
            (used, idle)
        }
        Pool::OnDemand(o) => {
            let mut used: Vec<f64> = (0..nc).map(|c| o.cost(&cell(c).tokens()) / reps).collect();
            // Prices that change: the deployment's bill at each hour's prices, shared
            // among classes as at the prices of hour 0 (class tokens are kept whole).
            let before: f64 = used.iter().sum();
            if !dep.price_changes.is_empty() && before > 0.0 {
                let exact =
                    crate::analysis::cost::deployment_totals(sc, pooled)[d].on_demand / reps;
                used.iter_mut().for_each(|u| *u *= exact / before);
            }
            (used, 0.0)
        }
        Pool::Reserved(r) => {
            let total = crate::analysis::cost::reserved_cost(dep, pooled.hours);
            let capacity = r.slots() as f64 * sc.horizon_us() as f64 * reps;
            let used: Vec<f64> = (0..nc)
                .map(|c| total * cell(c).busy_us as f64 / capacity)
                .collect();
            let idle = (total - used.iter().sum::<f64>()).max(0.0);
            (used, idle)
        }
    };
    let mut users: Vec<usize> = (0..nc)
        .filter(|&c| {
            let t = cell(c);
            t.input_tokens + t.output_tokens + t.busy_us > 0
        })
        .collect();
    if users.is_empty() {
        users = (0..nc)
            .filter(|&c| sc.classes[c].route.contains(&d))
            .collect();
    }
    DeploymentSplit { used, idle, users }
}

/// A percentage of `part` in `whole` for reason texts.
fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0}%", 100.0 * part / whole)
    } else {
        "0%".into()
    }
}

/// Attribution rows for every platform with deployments in `sc` (scenario
/// order) and every tag key any class uses (sorted); none when no class has
/// tags. `replications` is how many replications `pooled` merges.
pub fn attribution(
    sc: &Scenario,
    pooled: &RepMetrics,
    replications: usize,
    catalog: &Catalog,
) -> Vec<AttributionRow> {
    let reps = replications.max(1) as f64;
    let mut keys: Vec<&String> = sc.classes.iter().flat_map(|c| c.tags.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut platforms: Vec<&str> = Vec::new();
    for dep in &sc.deployments {
        if !platforms.contains(&dep.platform.as_str()) {
            platforms.push(&dep.platform);
        }
    }
    let splits: Vec<DeploymentSplit> = (0..sc.deployments.len())
        .map(|d| split(sc, pooled, reps, d))
        .collect();

    let mut rows = Vec::new();
    for platform in platforms {
        let model: Option<&AttributionModel> = (platform != CUSTOM_PLATFORM)
            .then(|| catalog.platform(platform))
            .flatten()
            .and_then(|f| f.platform.attribution_model.as_ref());
        for key in &keys {
            rows.push(platform_row(sc, &splits, platform, model, key));
        }
    }
    rows
}

fn platform_row(
    sc: &Scenario,
    splits: &[DeploymentSplit],
    platform: &str,
    model: Option<&AttributionModel>,
    key: &str,
) -> AttributionRow {
    let (mut cost, mut native, mut gateway) = (0.0, 0.0, 0.0);
    let mut reasons: Vec<String> = Vec::new();
    // Cost of classes without the key, summed over the platform's deployments.
    let mut untagged: Vec<(usize, f64)> = Vec::new();
    let mut idle_shared: Vec<(String, f64)> = Vec::new();
    let tag = |c: usize| sc.classes[c].tags.get(key);
    for (d, dep) in sc.deployments.iter().enumerate() {
        if dep.platform != platform {
            continue;
        }
        let s = &splits[d];
        let total: f64 = s.used.iter().sum::<f64>() + s.idle;
        cost += total;
        let mut values: Vec<&String> = s.users.iter().filter_map(|&c| tag(c)).collect();
        values.sort();
        values.dedup();
        let all_tagged = s.users.iter().all(|&c| tag(c).is_some());
        let dedicated = model.is_some() && all_tagged && values.len() == 1;
        if dedicated {
            native += total;
            continue;
        }
        // Does the platform's own billing split this shared deployment by request?
        let by_requests = model.is_some_and(|m| {
            matches!(dep.pool, Pool::OnDemand(_))
                && m.on_demand.value != "resource"
                && m.carries(key)
        });
        for (c, &v) in s.used.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            if tag(c).is_none() {
                match untagged.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, sum)) => *sum += v,
                    None => untagged.push((c, v)),
                }
                continue;
            }
            if by_requests {
                native += v;
            } else {
                gateway += v;
            }
        }
        if s.idle > 0.0 {
            idle_shared.push((dep.name.clone(), s.idle));
        }
        if !by_requests && values.len() > 1 {
            reasons.push(format!(
                "{} shared by {} values of {key}",
                dep.name,
                values.len()
            ));
        }
    }
    let unattributed = (cost - native - gateway).max(0.0);
    match model {
        None => reasons.insert(0, "no native mechanism (outside the catalog)".into()),
        Some(m) if m.on_demand.value != "resource" && !m.carries(key) => {
            reasons.insert(0, format!("{} does not carry {key}", m.mechanism.value))
        }
        Some(_) => {}
    }
    for (dep, idle) in &idle_shared {
        reasons.push(format!("{dep} idle capacity {}", pct(*idle, cost)));
    }
    for (c, v) in &untagged {
        reasons.push(format!(
            "class {} has no {key} tag ({})",
            sc.classes[*c].name,
            pct(*v, cost)
        ));
    }
    let share = |v: f64| (cost > 0.0).then(|| v / cost);
    AttributionRow {
        platform: platform.to_string(),
        dimension: key.to_string(),
        mechanism: model.map_or(NO_MECHANISM.to_string(), |m| m.mechanism.value.clone()),
        granularity_hours: model.map(|m| m.granularity_hours.value),
        cost_usd: cost,
        native_usd: native,
        gateway_usd: gateway,
        unattributed_usd: unattributed,
        native_share: share(native),
        with_gateway_share: share(native + gateway),
        unattributable_share: share(unattributed),
        reason: if reasons.is_empty() {
            "all native".into()
        } else {
            reasons.join("; ")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Two classes (a: team x, b: team y; c: no tags) and deployments named
    /// in `deployments`: each is `(name, platform, model, reserved?)`; every
    /// class may use every deployment.
    fn scenario(deployments: &[(&str, &str, &str, bool)], class_c: bool) -> Scenario {
        let names: Vec<String> = deployments.iter().map(|d| format!("\"{}\"", d.0)).collect();
        let route = names.join(", ");
        let model = deployments[0].2;
        let mut t = String::from("[scenario]\nhorizon_hours = 2\nseed = 1\n");
        for (cls, tags) in [
            ("a", "{ team = \"x\", product = \"p\" }"),
            ("b", "{ team = \"y\", product = \"p\" }"),
        ]
        .into_iter()
        .chain(class_c.then_some(("c", "{}")))
        {
            t += &format!(
                "[[class]]\nname = \"{cls}\"\nmodel = \"{model}\"\nroute = [{route}]\ntags = {tags}\narrivals = {{ mean_rps = 1.0 }}\ninput_tokens = {{ dist = \"fixed\", value = 1000 }}\noutput_tokens = {{ dist = \"fixed\", value = 100 }}\n"
            );
        }
        for (name, platform, model, reserved) in deployments {
            t += &format!(
                "[[deployment]]\nname = \"{name}\"\nplatform = \"{platform}\"\nmodel = \"{model}\"\nlatency = {{ median_ms = 400, p99_ms = 1200 }}\n"
            );
            if *reserved {
                t += "reserved = { units = 10, tpm_per_unit = 10000, term = \"hourly\", price_per_unit_hour = { hourly = 1.0 } }\n";
            } else {
                t += "on_demand = { input_per_1m = 1.0, output_per_1m = 10.0 }\n";
            }
        }
        Scenario::from_toml(&t, Path::new("t.toml")).unwrap_or_else(|e| panic!("{e}\n{t}"))
    }

    /// Metrics where class `c` sent `tokens[c][d]` million input tokens to
    /// deployment `d`, and used `busy[c][d]` of its slot time (fraction).
    fn metrics(sc: &Scenario, tokens: &[&[u64]], busy: &[&[f64]]) -> RepMetrics {
        let (nc, nd) = (sc.classes.len(), sc.deployments.len());
        let mut m = RepMetrics::new(nc, nd, sc.horizon_hours);
        for c in 0..nc {
            for d in 0..nd {
                let mtok = tokens.get(c).and_then(|t| t.get(d)).copied().unwrap_or(0);
                let t = crate::domain::Tokens {
                    input: mtok * 1_000_000,
                    ..Default::default()
                };
                m.add_class_tokens(0, c, d, &t);
                let f = busy.get(c).and_then(|t| t.get(d)).copied().unwrap_or(0.0);
                if let Pool::Reserved(r) = &sc.deployments[d].pool {
                    let us = (f * r.slots() as f64 * sc.horizon_us() as f64) as u64;
                    // Spread over the slots: add_busy takes one interval of
                    // time, so add the slot-time in horizon-long pieces.
                    let mut left = us;
                    while left > 0 {
                        let piece = left.min(sc.horizon_us());
                        m.add_busy(d, c, 0, piece);
                        left -= piece;
                    }
                }
            }
        }
        m
    }

    fn rows(sc: &Scenario, m: &RepMetrics) -> Vec<AttributionRow> {
        let rows = attribution(sc, m, 1, Catalog::shipped());
        for r in &rows {
            let sum = r.native_usd + r.gateway_usd + r.unattributed_usd;
            assert!(
                (sum - r.cost_usd).abs() < 1e-9 * r.cost_usd.max(1.0),
                "{r:?}"
            );
            assert!(r.native_usd >= 0.0 && r.gateway_usd >= 0.0 && r.unattributed_usd >= 0.0);
        }
        rows
    }

    fn row<'a>(rows: &'a [AttributionRow], platform: &str, dim: &str) -> &'a AttributionRow {
        rows.iter()
            .find(|r| r.platform == platform && r.dimension == dim)
            .unwrap_or_else(|| panic!("no row {platform}/{dim}: {rows:#?}"))
    }

    #[test]
    fn bedrock_splits_a_shared_on_demand_deployment_by_request() {
        let sc = scenario(&[("br", "bedrock", "claude-sonnet-4", false)], false);
        let m = metrics(&sc, &[&[3], &[1]], &[]);
        let rows = rows(&sc, &m);
        assert_eq!(rows.len(), 2, "product and team");
        let r = row(&rows, "bedrock", "team");
        assert!((r.cost_usd - 4.0).abs() < 1e-9);
        assert_eq!(r.native_share, Some(1.0));
        assert_eq!(r.mechanism, "application inference profiles");
        assert_eq!(r.granularity_hours, Some(1.0));
        assert_eq!(r.reason, "all native");
    }

    #[test]
    fn azure_needs_a_gateway_for_a_shared_deployment_but_not_for_dedicated_ones() {
        let shared = scenario(&[("az", "azure-openai", "gpt-4o", false)], false);
        let r = rows(&shared, &metrics(&shared, &[&[3], &[1]], &[]));
        let team = row(&r, "azure-openai", "team");
        assert_eq!(team.native_share, Some(0.0));
        assert_eq!(team.with_gateway_share, Some(1.0));
        assert!(
            team.reason.contains("az shared by 2 values of team"),
            "{}",
            team.reason
        );
        // Both classes carry product = p: dedicated to one value.
        assert_eq!(row(&r, "azure-openai", "product").native_share, Some(1.0));

        let split = scenario(
            &[
                ("az-x", "azure-openai", "gpt-4o", false),
                ("az-y", "azure-openai", "gpt-4o", false),
            ],
            false,
        );
        let r = rows(&split, &metrics(&split, &[&[3, 0], &[0, 1]], &[]));
        assert_eq!(row(&r, "azure-openai", "team").native_share, Some(1.0));
    }

    #[test]
    fn an_untagged_class_stays_unattributed_and_breaks_dedication() {
        let sc = scenario(&[("br", "bedrock", "claude-sonnet-4", false)], true);
        let r = rows(&sc, &metrics(&sc, &[&[3], &[0], &[1]], &[]));
        let team = row(&r, "bedrock", "team");
        assert!((team.native_usd - 3.0).abs() < 1e-9);
        assert!((team.unattributed_usd - 1.0).abs() < 1e-9);
        assert!(
            team.reason.contains("class c has no team tag (25%)"),
            "{}",
            team.reason
        );

        // On Azure the same traffic is one cost line: class a's part needs a gateway.
        let sc = scenario(&[("az", "azure-openai", "gpt-4o", false)], true);
        let r = rows(&sc, &metrics(&sc, &[&[3], &[0], &[1]], &[]));
        let team = row(&r, "azure-openai", "team");
        assert_eq!(team.native_usd, 0.0);
        assert!((team.gateway_usd - 3.0).abs() < 1e-9);
        assert!((team.unattributed_usd - 1.0).abs() < 1e-9);
    }

    #[test]
    fn credentials_split_only_the_keys_they_carry() {
        // Anthropic carries team and product, not feature.
        let toml = |dim: &str| {
            let mut sc = scenario(&[("claude", "anthropic", "claude-sonnet-4", false)], false);
            sc.classes[0].tags.insert(dim.into(), "one".into());
            sc.classes[1].tags.insert(dim.into(), "two".into());
            sc
        };
        let sc = toml("feature");
        let r = rows(&sc, &metrics(&sc, &[&[3], &[1]], &[]));
        assert_eq!(row(&r, "anthropic", "team").native_share, Some(1.0));
        let f = row(&r, "anthropic", "feature");
        assert_eq!(f.native_share, Some(0.0));
        assert_eq!(f.with_gateway_share, Some(1.0));
        assert!(
            f.reason
                .starts_with("workspaces and API keys does not carry feature"),
            "{}",
            f.reason
        );
    }

    #[test]
    fn shared_reserved_capacity_leaves_its_idle_part_unattributed() {
        // 10 units x $1 x 2 h = $20; a uses 30% of the slot time, b 20%.
        let sc = scenario(&[("ptu", "azure-openai", "gpt-4o", true)], false);
        let m = metrics(&sc, &[], &[&[0.3], &[0.2]]);
        let r = rows(&sc, &m);
        let team = row(&r, "azure-openai", "team");
        assert!((team.cost_usd - 20.0).abs() < 1e-9);
        assert_eq!(team.native_usd, 0.0);
        assert!((team.gateway_usd - 10.0).abs() < 1e-6, "{team:?}");
        assert!((team.unattributed_usd - 10.0).abs() < 1e-6);
        assert!(
            team.reason.contains("ptu idle capacity 50%"),
            "{}",
            team.reason
        );
        // Dedicated to product p: all of it, idle included, is native.
        assert_eq!(row(&r, "azure-openai", "product").native_share, Some(1.0));
        // Bedrock's profiles do not split a shared provisioned model either.
        let sc = scenario(&[("pt", "bedrock", "claude-sonnet-4", true)], false);
        let r = rows(&sc, &metrics(&sc, &[], &[&[0.3], &[0.2]]));
        assert_eq!(row(&r, "bedrock", "team").native_usd, 0.0);
    }

    #[test]
    fn custom_platforms_need_the_gateway_and_untagged_scenarios_have_no_rows() {
        let sc = scenario(&[("own", "custom", "my-model", false)], false);
        let r = rows(&sc, &metrics(&sc, &[&[3], &[1]], &[]));
        let p = row(&r, "custom", "product");
        assert_eq!(p.mechanism, NO_MECHANISM);
        assert_eq!(p.granularity_hours, None);
        assert_eq!(p.native_share, Some(0.0));
        assert_eq!(p.with_gateway_share, Some(1.0));

        let mut sc = scenario(&[("br", "bedrock", "claude-sonnet-4", false)], false);
        for c in &mut sc.classes {
            c.tags.clear();
        }
        assert!(attribution(&sc, &metrics(&sc, &[&[1]], &[]), 1, Catalog::shipped()).is_empty());
    }

    #[test]
    fn an_unused_deployment_is_judged_by_its_routes_and_a_zero_cost_has_no_share() {
        let sc = scenario(&[("az", "azure-openai", "gpt-4o", false)], false);
        let r = rows(&sc, &metrics(&sc, &[], &[]));
        let team = row(&r, "azure-openai", "team");
        assert_eq!(team.cost_usd, 0.0);
        assert_eq!(team.native_share, None);
    }
}
