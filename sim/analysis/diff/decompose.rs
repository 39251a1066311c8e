//! The decomposition: rows of B − A by kind (traffic, class, tag, deployment, price component, hour).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::WEEKDAYS;

use super::folder::{BatchClass, Component, Metered, RunFolder, Service};
use super::reveal::reveal;

/// The kinds of rows, in the order the outputs list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Traffic,
    Class,
    Tag,
    Deployment,
    Component,
    Hour,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Traffic,
        Kind::Class,
        Kind::Tag,
        Kind::Deployment,
        Kind::Component,
        Kind::Hour,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Traffic => "traffic",
            Kind::Class => "class",
            Kind::Tag => "tag",
            Kind::Deployment => "deployment",
            Kind::Component => "component",
            Kind::Hour => "hour",
        }
    }
}

/// How a price component's change splits: requests x quantity per request x
/// unit price, changed one after the other (A's values, then B's), so the
/// three parts add up to the delta.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Drivers {
    pub requests_a: f64,
    pub requests_b: f64,
    /// Quantity per request (per 1k requests for tokens), A and B.
    pub per_request_a: f64,
    pub per_request_b: f64,
    pub unit_price_a: f64,
    pub unit_price_b: f64,
    pub from_requests: f64,
    pub from_per_request: f64,
    pub from_price: f64,
}

/// Whether one platform's cost reporting shows a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reveal {
    pub platform: String,
    pub native: Verdict,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The platform's own cost reports show the row.
    Native,
    /// Only with a gateway that stamps tags on each request.
    Gateway,
    /// Neither.
    No,
    /// No attribution data (a run folder from an older llmcap).
    Unknown,
}

/// One ranked row.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub rank: usize,
    pub kind: Kind,
    pub key: String,
    pub a_usd: f64,
    pub b_usd: f64,
    pub delta_usd: f64,
    pub share_of_change: f64,
    pub reveal: Vec<Reveal>,
    pub revealed_with_gateway: String,
    pub note: String,
    /// Platforms involved (tag and class rows: those that served it).
    #[serde(skip)]
    pub platforms: Vec<String>,
    /// Classes involved (tag and class rows).
    #[serde(skip)]
    pub classes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drivers: Option<Drivers>,
}

impl Row {
    /// `revealed_natively_by` as written to diff.csv.
    pub fn revealed_natively_by(&self) -> String {
        self.reveal
            .iter()
            .map(|r| format!("{}: {}", r.platform, r.text))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a platform's native cost reporting is (from the catalog).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlatformView {
    pub mechanism: String,
    pub granularity_hours: f64,
    pub latency_hours: Option<f64>,
    /// What the bill shows with no setup.
    pub default_view: String,
}

/// The diff of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub a: String,
    pub b: String,
    pub a_scenario: String,
    pub b_scenario: String,
    pub hours: u32,
    pub horizons: (u32, u32),
    pub a_total_usd: f64,
    pub b_total_usd: f64,
    pub delta_usd: f64,
    /// B / A (`None` when A cost nothing).
    pub fold: Option<f64>,
    pub a_requests: f64,
    pub b_requests: f64,
    /// TTFT p99 and availability of each run, over its own horizon.
    pub service: ServiceChange,
    /// Warnings about the comparison (different horizons, seeds, no attribution.csv).
    pub notes: Vec<String>,
    /// Each platform's native reporting, for the platforms of either run.
    pub platforms: BTreeMap<String, PlatformView>,
    /// The classes each deployment served in B (A when B has none).
    pub deployment_classes: BTreeMap<String, Vec<String>>,
    /// Each class's tags.
    pub class_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The deferrable (batch) classes of either run: completion against the window, and cost
    /// (summary.json's `batch`, each run's whole horizon). Empty, and left out of diff.json,
    /// when neither run has one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<BatchChange>,
    pub rows: Vec<Row>,
}

/// A deferrable (batch) class in run A and run B (`None` where the run does not have it).
#[derive(Debug, Clone, Serialize)]
pub struct BatchChange {
    pub class: String,
    pub a: Option<BatchClass>,
    pub b: Option<BatchClass>,
}

fn batch_changes(a: &RunFolder, b: &RunFolder) -> Vec<BatchChange> {
    let names: BTreeSet<&String> = a.batch.keys().chain(b.batch.keys()).collect();
    names
        .into_iter()
        .map(|c| BatchChange {
            class: c.clone(),
            a: a.batch.get(c).cloned(),
            b: b.batch.get(c).cloned(),
        })
        .collect()
}

/// The service of runs A and B (not decomposed: the drivers explain cost only).
#[derive(Debug, Clone, Serialize)]
pub struct ServiceChange {
    pub a: Service,
    pub b: Service,
}

impl ServiceChange {
    fn of(a: &RunFolder, b: &RunFolder) -> ServiceChange {
        ServiceChange {
            a: a.service.clone(),
            b: b.service.clone(),
        }
    }
}

impl Diff {
    /// The rows of one kind, ranked.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(move |r| r.kind == kind)
    }

    /// B's request change relative to A (0.0 = none).
    pub fn request_change(&self) -> Option<f64> {
        (self.a_requests > 0.0).then(|| self.b_requests / self.a_requests - 1.0)
    }
}

/// |v| in whole cents, so rows whose changes differ only by rounding tie.
fn cents(v: f64) -> i64 {
    (v.abs() * 100.0).round() as i64
}

fn pct(v: f64) -> String {
    format!("{:+.1}%", v * 100.0)
}

fn hour_label(h: u32, start_weekday: u32) -> String {
    let day = h / 24;
    format!(
        "hour {h} (day {day}, {} {:02}:00)",
        WEEKDAYS[((start_weekday + day) % 7) as usize],
        h % 24
    )
}

/// Compares two runs. `views` gives each platform's native reporting (the
/// catalog's attribution model); platforms it does not know fall back to what
/// `attribution.csv` says.
pub fn diff(a: &RunFolder, b: &RunFolder, views: impl Fn(&str) -> Option<PlatformView>) -> Diff {
    let a_total = a.total();
    let b_total = b.total();
    let total = b_total - a_total;
    let platforms = platform_views(a, b, views);
    let mut rows = class_rows(a, b);
    rows.extend(tag_rows(a, b));
    rows.extend(deployment_rows(a, b));
    rows.extend(component_rows(a, b));
    let (hour_rows, by_day) = hour_rows(a, b);
    rows.extend(hour_rows);
    for row in &mut rows {
        row.share_of_change = if total != 0.0 {
            row.delta_usd / total
        } else {
            0.0
        };
        // Which platform reveals each row.
        reveal(row, a, b, &platforms, &by_day);
    }
    rank(&mut rows);
    Diff {
        a: a.dir.display().to_string(),
        b: b.dir.display().to_string(),
        a_scenario: a.scenario.clone(),
        b_scenario: b.scenario.clone(),
        hours: a.hours,
        horizons: (a.horizon_hours, b.horizon_hours),
        a_total_usd: a_total,
        b_total_usd: b_total,
        delta_usd: total,
        fold: (a_total > 0.0).then(|| b_total / a_total),
        a_requests: a.requests(),
        b_requests: b.requests(),
        service: ServiceChange::of(a, b),
        notes: notes(a, b),
        platforms,
        deployment_classes: deployment_classes(a, b),
        class_tags: a
            .class_tags
            .iter()
            .chain(b.class_tags.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        batch: batch_changes(a, b),
        rows,
    }
}

/// A row of the decomposition: A's and B's cost of `key` (its share of the whole change and how it
/// is revealed are filled in by [`diff`]).
fn row(kind: Kind, key: String, a_usd: f64, b_usd: f64, note: String) -> Row {
    Row {
        rank: 0,
        kind,
        key,
        a_usd,
        b_usd,
        delta_usd: b_usd - a_usd,
        share_of_change: 0.0,
        reveal: Vec::new(),
        revealed_with_gateway: String::new(),
        note,
        platforms: Vec::new(),
        classes: Vec::new(),
        drivers: None,
    }
}

/// What the reader must know before trusting the numbers: different horizons, replications, seeds,
/// missing attribution.
fn notes(a: &RunFolder, b: &RunFolder) -> Vec<String> {
    let mut notes = Vec::new();
    if a.horizon_hours != b.horizon_hours {
        notes.push(format!(
            "the horizons differ ({} h and {} h): every number compares the first {} h of both runs",
            a.horizon_hours,
            b.horizon_hours,
            a.horizon_hours.min(b.horizon_hours)
        ));
    }
    if a.replications != b.replications {
        notes.push(format!(
            "the runs have {} and {} replications; values are means per replication",
            a.replications, b.replications
        ));
    }
    if a.seed != b.seed {
        notes.push(format!(
            "the seeds differ ({} and {}): part of every delta is sampling noise, not a change",
            a.seed, b.seed
        ));
    }
    let batch_deps = |r: &RunFolder| -> BTreeSet<String> {
        r.batch.values().map(|c| c.deployment.clone()).collect()
    };
    let (ba, bb) = (batch_deps(a), batch_deps(b));
    if !ba.is_empty() || !bb.is_empty() {
        notes.push(
            "batch deployments (deferrable classes) are billed per token at batch prices in the hour each job completed, so their hour rows follow completion times, not arrivals"
                .to_string(),
        );
    }
    for (only, other, r, how) in [
        (
            &bb,
            &ba,
            b,
            "only in B (B added it): its classes are billed at batch prices in B",
        ),
        (
            &ba,
            &bb,
            a,
            "only in A (B dropped it): its classes are billed at batch prices in A only",
        ),
    ] {
        for d in only.difference(other) {
            let classes: Vec<&str> = r
                .batch
                .iter()
                .filter(|(_, c)| &c.deployment == d)
                .map(|(n, _)| n.as_str())
                .collect();
            notes.push(format!(
                "batch deployment \"{d}\" {how} (class(es) {})",
                classes.join(", ")
            ));
        }
    }
    for r in [a, b] {
        if r.attribution.is_none() {
            notes.push(format!(
                "{} has no attribution.csv (written by an older llmcap?): which tag rows a platform reveals natively is unknown; rerun it with this llmcap",
                r.dir.display()
            ));
        }
    }

    notes
}

/// How each platform in either run reveals cost (from the catalog, else from attribution.csv).
fn platform_views(
    a: &RunFolder,
    b: &RunFolder,
    views: impl Fn(&str) -> Option<PlatformView>,
) -> BTreeMap<String, PlatformView> {
    let mut platforms: BTreeMap<String, PlatformView> = BTreeMap::new();
    for d in a.deployments.values().chain(b.deployments.values()) {
        if platforms.contains_key(&d.platform) {
            continue;
        }
        let from_csv = a
            .attribution
            .iter()
            .chain(b.attribution.iter())
            .flat_map(|m| m.iter())
            .find(|((p, _), _)| *p == d.platform)
            .map(|(_, r)| r);
        let view = views(&d.platform).unwrap_or_else(|| PlatformView {
            mechanism: from_csv.map(|r| r.mechanism.clone()).unwrap_or_default(),
            granularity_hours: from_csv.and_then(|r| r.granularity_hours).unwrap_or(24.0),
            latency_hours: None,
            default_view: String::new(),
        });
        platforms.insert(d.platform.clone(), view);
    }

    platforms
}

/// The cost of tag `dim`=`v` in run `r` (0 when it has none).
fn cost_of(r: &RunFolder, dim: &str, v: &str) -> f64 {
    r.tags
        .get(&(dim.to_string(), v.to_string()))
        .copied()
        .unwrap_or(0.0)
}

/// One row per class (and its traffic row: B's requests at A's cost per request), then the
/// class dimension's other rows (idle reserved capacity).
fn class_rows(a: &RunFolder, b: &RunFolder) -> Vec<Row> {
    let mut rows = Vec::new();
    let class_names: BTreeSet<&String> = a.classes.keys().chain(b.classes.keys()).collect();
    for &c in &class_names {
        let (ca, cb) = (cost_of(a, "class", c), cost_of(b, "class", c));
        let (ka, kb) = (a.classes.get(c), b.classes.get(c));
        let (na, nb) = (ka.map_or(0.0, |k| k.arrived), kb.map_or(0.0, |k| k.arrived));
        let req_change = if na > 0.0 {
            pct(nb / na - 1.0)
        } else {
            "new".into()
        };
        let per_req = |cost: f64, n: f64| if n > 0.0 { cost / n } else { 0.0 };
        let mut note = format!(
            "requests {:.0} -> {:.0} ({req_change}); cost per 1k requests ${:.2} -> ${:.2}",
            na,
            nb,
            per_req(ca, na) * 1000.0,
            per_req(cb, nb) * 1000.0
        );
        if let Some(bn) = batch_note(a.batch.get(c.as_str()), b.batch.get(c.as_str())) {
            note.push_str(&bn);
        } else if let (Some(ka), Some(kb)) = (ka, kb) {
            note.push_str(&format!(
                "; mean input tokens {:.0} -> {:.0}, output {:.0} -> {:.0}",
                ka.mean_input_tokens,
                kb.mean_input_tokens,
                ka.mean_output_tokens,
                kb.mean_output_tokens
            ));
            if ka.model != kb.model {
                note.push_str(&format!("; model {} -> {}", ka.model, kb.model));
            }
        }
        rows.push(row(Kind::Class, c.clone(), ca, cb, note));
        if let Some(row) = rows.last_mut() {
            row.classes = vec![c.clone()];
        }
        // The traffic row: B's requests at A's cost per request.
        let volume = if na > 0.0 { ca * nb / na } else { cb };
        rows.push(row(
            Kind::Traffic,
            c.clone(),
            ca,
            volume,
            format!(
                "requests {:.0} -> {:.0} ({req_change}); b_usd = B's requests at A's cost per request; the other {} of this class's change is cost per request",
                na,
                nb,
                crate::format::usd_cents(cb - volume)
            ),
        ));
    }
    // Idle reserved capacity and other non-class rows of the class dimension.
    let extra: BTreeSet<&String> = a
        .tags
        .keys()
        .chain(b.tags.keys())
        .filter(|(d, v)| d == "class" && !class_names.contains(v))
        .map(|(_, v)| v)
        .collect();
    for v in extra {
        rows.push(row(
            Kind::Class,
            v.clone(),
            cost_of(a, "class", v),
            cost_of(b, "class", v),
            String::new(),
        ));
    }

    rows
}

/// A batch class's completion against its window, A -> B (`None` when neither run defers it).
fn batch_note(a: Option<&BatchClass>, b: Option<&BatchClass>) -> Option<String> {
    let one = |c: Option<&BatchClass>| match c {
        None => "not batch".to_string(),
        Some(c) => {
            let mut t = String::from("completion p99 ");
            t.push_str(&match c.completion_p99_hours {
                Some(h) => format!("{h:.1} h"),
                None => "n/a".into(),
            });
            t.push_str(&format!(
                " of a {:.0} h window on \"{}\"",
                c.completion_window_hours, c.deployment
            ));
            if let (Some(sla), Some(share)) = (c.completion_sla_hours, c.within_sla_share) {
                t.push_str(&format!(", {:.1}% within {sla:.0} h", share * 100.0));
            }
            if c.expired > 0.0 || c.unfinished > 0.0 {
                t.push_str(&format!(
                    ", {:.0} expired, {:.0} unfinished",
                    c.expired, c.unfinished
                ));
            }
            t
        }
    };
    if a.is_none() && b.is_none() {
        return None;
    }
    Some(format!("; batch: {} -> {}", one(a), one(b)))
}

/// One row per tag value other than class, naming the classes that carry it.
fn tag_rows(a: &RunFolder, b: &RunFolder) -> Vec<Row> {
    let mut rows = Vec::new();
    let class_names: BTreeSet<&String> = a.classes.keys().chain(b.classes.keys()).collect();
    let tag_keys: BTreeSet<&(String, String)> = a
        .tags
        .keys()
        .chain(b.tags.keys())
        .filter(|(d, _)| d != "class")
        .collect();
    for (d, v) in tag_keys {
        let (ta, tb) = (cost_of(a, d, v), cost_of(b, d, v));
        let classes: Vec<&String> = class_names
            .iter()
            .copied()
            .filter(|c| {
                let t = a.class_tags.get(*c).or_else(|| b.class_tags.get(*c));
                match (t, v.as_str()) {
                    (Some(t), crate::schema::cost_by_tag::UNTAGGED) => !t.contains_key(d),
                    (Some(t), v) => t.get(d).is_some_and(|x| x == v),
                    (None, _) => false,
                }
            })
            .collect();
        let names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
        let note = if names.is_empty() {
            String::new()
        } else {
            format!("class(es) {}", names.join(", "))
        };
        rows.push(row(Kind::Tag, format!("{d}={v}"), ta, tb, note));
        if let Some(row) = rows.last_mut() {
            row.classes = names.iter().map(|c| c.to_string()).collect();
        }
    }

    rows
}

/// One row per deployment, from hourly.csv.
fn deployment_rows(a: &RunFolder, b: &RunFolder) -> Vec<Row> {
    let mut rows = Vec::new();
    let deps: BTreeSet<&String> = a.deployments.keys().chain(b.deployments.keys()).collect();
    let dep_cost = |r: &RunFolder, name: &str| -> f64 {
        r.hourly
            .iter()
            .filter(|((_, d), _)| d == name)
            .map(|(_, c)| c)
            .sum()
    };
    for &name in &deps {
        let (da, db) = (a.deployments.get(name), b.deployments.get(name));
        let Some(d) = db.or(da) else { continue };
        let mut note = format!("{} {} ({})", d.platform, d.model, d.pool);
        if let (Some(da), Some(db)) = (da, db) {
            if da.model != db.model || da.platform != db.platform || da.pool != db.pool {
                note = format!(
                    "{} {} ({}) -> {} {} ({})",
                    da.platform, da.model, da.pool, db.platform, db.model, db.pool
                );
            }
            note.push_str(&format!(
                "; requests served {:.0} -> {:.0}",
                da.served, db.served
            ));
        } else {
            note.push_str(if da.is_none() {
                "; only in B"
            } else {
                "; only in A"
            });
        }
        rows.push(row(
            Kind::Deployment,
            format!("{name} ({})", d.platform),
            dep_cost(a, name),
            dep_cost(b, name),
            note,
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = vec![d.platform.clone()];
        }
    }

    rows
}

/// One row per deployment and price component, split into requests, tokens per request and price.
fn component_rows(a: &RunFolder, b: &RunFolder) -> Vec<Row> {
    let mut rows = Vec::new();
    let comps: BTreeSet<&(String, Component)> =
        a.components.keys().chain(b.components.keys()).collect();
    for key in comps {
        let (ma, mb) = (
            a.components.get(key).copied().unwrap_or_default(),
            b.components.get(key).copied().unwrap_or_default(),
        );
        let (dep, comp) = key;
        let served = |r: &RunFolder| r.deployments.get(dep).map_or(0.0, |d| d.served);
        let (na, nb) = if comp.per_request() {
            (served(a), served(b))
        } else {
            (1.0, 1.0)
        };
        let unit_price = |m: &Metered| {
            if m.quantity > 0.0 {
                m.priced / m.quantity
            } else {
                0.0
            }
        };
        let per = |m: &Metered, n: f64| if n > 0.0 { m.quantity / n } else { 0.0 };
        let (pa, pb) = (unit_price(&ma), unit_price(&mb));
        let (pra, prb) = (per(&ma, na), per(&mb, nb));
        let mut dr = Drivers {
            requests_a: na,
            requests_b: nb,
            per_request_a: pra,
            per_request_b: prb,
            unit_price_a: pa,
            unit_price_b: pb,
            from_requests: (nb - na) * pra * pa,
            from_per_request: nb * (prb - pra) * pa,
            from_price: mb.quantity * (pb - pa),
        };
        // Billed cost can differ from quantity x list price (reservations
        // billed at the term price): the rest goes to the price part.
        let rest = (mb.cost - ma.cost) - (dr.from_requests + dr.from_per_request + dr.from_price);
        dr.from_price += rest;
        let platform = b
            .deployments
            .get(dep)
            .or_else(|| a.deployments.get(dep))
            .map(|d| d.platform.clone())
            .unwrap_or_default();
        let model = b
            .deployments
            .get(dep)
            .or_else(|| a.deployments.get(dep))
            .map(|d| d.model.clone())
            .unwrap_or_default();
        let note = if comp.per_request() {
            format!(
                "requests {:.0} -> {:.0}, tokens per request {:.0} -> {:.0}, price ${} -> ${} per 1M; of the change: {} requests, {} tokens per request, {} price",
                na,
                nb,
                pra * 1e6,
                prb * 1e6,
                crate::format::sig(pa, 4),
                crate::format::sig(pb, 4),
                crate::format::usd_cents(dr.from_requests),
                crate::format::usd_cents(dr.from_per_request),
                crate::format::usd_cents(dr.from_price)
            )
        } else {
            format!(
                "unit-hours {:.1} -> {:.1}, billed ${:.4} -> ${:.4} per unit-hour",
                ma.quantity,
                mb.quantity,
                if ma.quantity > 0.0 {
                    ma.cost / ma.quantity
                } else {
                    0.0
                },
                if mb.quantity > 0.0 {
                    mb.cost / mb.quantity
                } else {
                    0.0
                }
            )
        };
        rows.push(row(
            Kind::Component,
            format!("{dep} ({platform}): {model} {}", comp.label()),
            ma.cost,
            mb.cost,
            note,
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = vec![platform];
            row.drivers = Some(dr);
        }
    }

    rows
}

/// One row per hour, and the change per day (for platforms that bill by the day).
fn hour_rows(a: &RunFolder, b: &RunFolder) -> (Vec<Row>, BTreeMap<u32, f64>) {
    let mut rows = Vec::new();
    let mut by_hour: BTreeMap<u32, (f64, f64, BTreeSet<String>)> = BTreeMap::new();
    for (r, is_b) in [(a, false), (b, true)] {
        for ((h, dep), c) in &r.hourly {
            let e = by_hour.entry(*h).or_default();
            if is_b {
                e.1 += c;
            } else {
                e.0 += c;
            }
            if let Some(d) = r.deployments.get(dep) {
                if *c != 0.0 {
                    e.2.insert(d.platform.clone());
                }
            }
        }
    }
    let mut by_day: BTreeMap<u32, f64> = BTreeMap::new();
    for (h, (ha, hb, _)) in &by_hour {
        *by_day.entry(h / 24).or_default() += hb - ha;
    }
    let hour_note = if a.horizon_hours != b.horizon_hours {
        format!("common hours 0-{} only", a.hours.saturating_sub(1))
    } else {
        String::new()
    };
    for (h, (ha, hb, ps)) in &by_hour {
        rows.push(row(
            Kind::Hour,
            hour_label(*h, b.start_weekday),
            *ha,
            *hb,
            hour_note.clone(),
        ));
        if let Some(row) = rows.last_mut() {
            row.platforms = ps.iter().cloned().collect();
        }
    }

    (rows, by_day)
}

/// Ranks rows within each kind by absolute change (ties by key).
fn rank(rows: &mut [Row]) {
    rows.sort_by(|x, y| {
        x.kind
            .cmp(&y.kind)
            .then(cents(y.delta_usd).cmp(&cents(x.delta_usd)))
            // Among equal changes the most specific row (fewest classes) first.
            .then(x.classes.len().cmp(&y.classes.len()))
            .then(y.delta_usd.abs().total_cmp(&x.delta_usd.abs()))
            .then(x.key.cmp(&y.key))
    });
    let mut last = None;
    let mut rank = 0;
    for row in rows.iter_mut() {
        if last != Some(row.kind) {
            rank = 0;
            last = Some(row.kind);
        }
        rank += 1;
        row.rank = rank;
    }
}

/// For each deployment, the classes that paid for it (B's run first, else A's).
fn deployment_classes(a: &RunFolder, b: &RunFolder) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in [b, a] {
        for (c, deps) in &r.class_deployments {
            for (d, cost) in deps {
                let v = m.entry(d.clone()).or_default();
                if *cost > 0.0 && !v.contains(c) {
                    v.push(c.clone());
                }
            }
        }
        if !m.is_empty() {
            break;
        }
    }
    m
}

/// The platforms that served class `c` in either run.
pub(super) fn class_platforms(a: &RunFolder, b: &RunFolder, c: &str) -> BTreeSet<String> {
    [a, b]
        .iter()
        .filter_map(|r| r.class_deployments.get(c).map(|m| (r, m)))
        .flat_map(|(r, m)| {
            m.keys()
                .filter_map(|d| r.deployments.get(d).map(|d| d.platform.clone()))
        })
        .collect()
}
