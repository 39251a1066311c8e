//! Verdicts: which platform's native cost reporting shows each row, and how.

use std::collections::{BTreeMap, BTreeSet};

use super::decompose::{class_platforms, Kind, PlatformView, Reveal, Row, Verdict};
use super::folder::{AttributionRow, RunFolder};
use super::NATIVE_THRESHOLD;

fn hours_text(h: f64) -> String {
    crate::format::sig(h, 3)
}

pub(super) fn native_text(v: &PlatformView) -> String {
    let mut s = format!(
        "native ({}, {} h granularity",
        if v.mechanism.is_empty() {
            "the platform's cost report"
        } else {
            &v.mechanism
        },
        hours_text(v.granularity_hours)
    );
    if let Some(l) = v.latency_hours {
        s.push_str(&format!(", ~{} h delay", hours_text(l)));
    }
    s.push(')');
    s
}

pub(super) fn reveal(
    row: &mut Row,
    a: &RunFolder,
    b: &RunFolder,
    views: &BTreeMap<String, PlatformView>,
    by_day: &BTreeMap<u32, f64>,
) {
    let view = |p: &str| views.get(p).cloned().unwrap_or_default();
    match row.kind {
        Kind::Tag | Kind::Class => reveal_grouping(row, a, b, views),
        Kind::Deployment | Kind::Component => {
            for p in row.platforms.clone() {
                let v = view(&p);
                row.reveal.push(Reveal {
                    platform: p,
                    native: Verdict::Native,
                    text: default_text(&v),
                });
            }
            row.revealed_with_gateway = "yes (native already)".into();
        }
        Kind::Hour => reveal_hour(row, views, by_day),
        Kind::Traffic => {
            row.revealed_with_gateway = "yes (per request)".into();
            for p in class_platforms(a, b, &row.key) {
                row.reveal.push(Reveal {
                    platform: p,
                    native: Verdict::Native,
                    text: "request counts per model/deployment in the platform's usage metrics, not per class".into(),
                });
            }
        }
    }
}

/// A class or tag row: whether each platform that served its classes splits their cost by that
/// dimension natively, only through a gateway, or not at all.
fn reveal_grouping(
    row: &mut Row,
    a: &RunFolder,
    b: &RunFolder,
    views: &BTreeMap<String, PlatformView>,
) {
    let view = |p: &str| views.get(p).cloned().unwrap_or_default();
    let dim = match row.kind {
        Kind::Class => "class",
        _ => row.key.split_once('=').map_or(row.key.as_str(), |(d, _)| d),
    }
    .to_string();
    let ps: BTreeSet<String> = row
        .classes
        .iter()
        .flat_map(|c| class_platforms(a, b, c))
        .collect();
    if ps.is_empty() {
        // Idle reserved capacity (no class): on the bill as the
        // reservation's own line.
        for p in a
            .deployments
            .values()
            .chain(b.deployments.values())
            .filter(|d| d.pool == "reserved")
            .map(|d| d.platform.clone())
            .collect::<BTreeSet<_>>()
        {
            let v = view(&p);
            row.reveal.push(Reveal {
                platform: p,
                native: Verdict::Native,
                text: default_text(&v),
            });
        }
        row.revealed_with_gateway = "n/a (no request carries it)".into();
        return;
    }
    let mut gateway_all = true;
    for p in ps {
        let lookup = |r: &RunFolder| {
            r.attribution
                .as_ref()
                .map(|m| m.get(&(p.clone(), dim.clone())).cloned())
        };
        let (ra, rb) = (lookup(a), lookup(b));
        let (native, text) = match (ra, rb) {
            (None, _) | (_, None) => (
                Verdict::Unknown,
                "unknown (no attribution.csv; rerun with this llmcap)".to_string(),
            ),
            (Some(None), _) | (_, Some(None)) if dim == "class" => (
                Verdict::Unknown,
                "see the tag rows (class is llmcap's own grouping, not a billing dimension)"
                    .to_string(),
            ),
            (Some(None), _) | (_, Some(None)) => (
                Verdict::Unknown,
                format!("unknown (attribution.csv has no {dim} row for {p})"),
            ),
            (Some(Some(ra)), Some(Some(rb))) => {
                let ok = |r: &AttributionRow, f: fn(&AttributionRow) -> f64| {
                    r.cost_usd <= 0.0 || f(r) >= NATIVE_THRESHOLD
                };
                if ok(&ra, |r| r.native_share) && ok(&rb, |r| r.native_share) {
                    let mut v = view(&p);
                    if v.mechanism.is_empty() {
                        v.mechanism = rb.mechanism.clone();
                    }
                    (Verdict::Native, native_text(&v))
                } else if ok(&ra, |r| r.with_gateway_share) && ok(&rb, |r| r.with_gateway_share) {
                    (
                        Verdict::Gateway,
                        format!(
                            "no, {:.0}% of its cost splits by {dim} natively ({})",
                            rb.native_share.min(ra.native_share) * 100.0,
                            rb.reason
                        ),
                    )
                } else {
                    gateway_all = false;
                    (
                        Verdict::No,
                        format!(
                            "no, {:.0}% natively, {:.0}% even with a gateway ({})",
                            rb.native_share.min(ra.native_share) * 100.0,
                            rb.with_gateway_share.min(ra.with_gateway_share) * 100.0,
                            rb.reason
                        ),
                    )
                }
            }
        };
        row.platforms.push(p.clone());
        row.reveal.push(Reveal {
            platform: p,
            native,
            text,
        });
    }
    row.revealed_with_gateway = if row.reveal.iter().all(|r| r.native == Verdict::Native) {
        "yes (native already)".into()
    } else if row.reveal.iter().any(|r| r.native == Verdict::Unknown) {
        "unknown".into()
    } else if gateway_all {
        "yes".into()
    } else {
        "no".into()
    };
}

/// An hour row: native where the platform bills by the hour, else only inside its bucket.
fn reveal_hour(row: &mut Row, views: &BTreeMap<String, PlatformView>, by_day: &BTreeMap<u32, f64>) {
    let view = |p: &str| views.get(p).cloned().unwrap_or_default();
    let h: u32 = row
        .key
        .strip_prefix("hour ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for p in row.platforms.clone() {
        let v = view(&p);
        let g = v.granularity_hours;
        let text = if g <= 1.0 {
            format!("native, per hour ({} h granularity)", hours_text(g))
        } else if (g - 24.0).abs() < 1e-9 {
            let day = by_day.get(&(h / 24)).copied().unwrap_or(0.0);
            format!(
                "only inside day {}'s total (24 h granularity; the day changed by {})",
                h / 24,
                crate::format::usd_cents(day)
            )
        } else {
            format!(
                "only inside a {} h bucket ({} h granularity)",
                hours_text(g),
                hours_text(g)
            )
        };
        row.reveal.push(Reveal {
            platform: p,
            native: if g <= 1.0 {
                Verdict::Native
            } else {
                Verdict::No
            },
            text,
        });
    }
    row.revealed_with_gateway = "yes (per request)".into();
}

fn default_text(v: &PlatformView) -> String {
    if v.default_view.is_empty() {
        "native, on the bill with no setup (per resource and price component)".into()
    } else {
        format!("native, on the bill with no setup ({})", v.default_view)
    }
}

/// Each platform's native reporting from the shipped catalog's attribution
/// model (`None` for platforms it does not list).
pub fn catalog_view(platform: &str) -> Option<PlatformView> {
    let m = crate::input::catalog::Catalog::shipped()
        .platform(platform)?
        .platform
        .attribution_model
        .as_ref()?;
    Some(PlatformView {
        mechanism: m.mechanism.value.clone(),
        granularity_hours: m.granularity_hours.value,
        latency_hours: Some(m.latency_hours.value),
        default_view: m.default_view.value.clone(),
    })
}
