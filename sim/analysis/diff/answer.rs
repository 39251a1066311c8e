//! The prose answer for the biggest change: what the default bill narrows it to, and how long it takes to show.

use std::collections::BTreeMap;

use serde::Serialize;

use super::decompose::{Diff, Kind, PlatformView, Row, Verdict};

/// The two questions a FinOps reviewer asks of the biggest change: what the default bill
/// narrows it to, and how long the native mechanism takes to show it.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The class with the largest change.
    pub culprit: String,
    pub culprit_delta_usd: f64,
    pub culprit_share: f64,
    /// Its tag row that names it alone (feature if there is one), if any.
    pub tag_row: Option<String>,
    pub platforms: Vec<PlatformAnswer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformAnswer {
    pub platform: String,
    pub view: PlatformView,
    /// The platform's price component with the largest change (the line of
    /// the default bill that moved).
    pub component: Option<String>,
    pub component_delta_usd: f64,
    pub component_share: f64,
    /// The classes that share that component's deployment.
    pub shared_by: Vec<String>,
    /// The day with the largest change and its delta.
    pub day: Option<(u32, f64)>,
    /// Whether the native mechanism shows the culprit's tag row.
    pub native: Verdict,
    pub native_text: String,
    /// latency + granularity, hours (`None` without catalog data).
    pub hours_to_show: Option<f64>,
}

impl Diff {
    /// The answer for the class with the largest change (`None` if nothing changed).
    pub fn answer(&self) -> Option<Answer> {
        let top = self
            .of(Kind::Class)
            .find(|r| r.delta_usd != 0.0 && !r.classes.is_empty())?;
        let culprit = top.key.clone();
        let alone: Vec<&Row> = self
            .of(Kind::Tag)
            .filter(|r| r.classes == [culprit.clone()])
            .collect();
        let tag = alone
            .iter()
            .find(|r| r.key.starts_with("feature="))
            .or(alone.first())
            .copied();
        let mut days: BTreeMap<u32, f64> = BTreeMap::new();
        for r in self.of(Kind::Hour) {
            let h: u32 = r
                .key
                .strip_prefix("hour ")
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            *days.entry(h / 24).or_default() += r.delta_usd;
        }
        let day = days
            .iter()
            .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()).then(y.0.cmp(x.0)))
            .map(|(d, v)| (*d, *v));
        let platforms = top
            .reveal
            .iter()
            .map(|rv| {
                let p = &rv.platform;
                let comp = self.of(Kind::Component).find(|r| r.platforms.contains(p));
                let dep = comp.and_then(|c| c.key.split(" (").next()).unwrap_or("");
                let tag_reveal = tag.and_then(|t| t.reveal.iter().find(|x| &x.platform == p));
                let (native, native_text) = match tag_reveal.or(Some(rv)) {
                    Some(x) => (x.native, x.text.clone()),
                    None => (Verdict::Unknown, String::new()),
                };
                let view = self.platforms.get(p).cloned().unwrap_or_default();
                PlatformAnswer {
                    platform: p.clone(),
                    hours_to_show: view.latency_hours.map(|l| l + view.granularity_hours),
                    view,
                    component: comp.map(|c| c.key.clone()),
                    component_delta_usd: comp.map_or(0.0, |c| c.delta_usd),
                    component_share: comp.map_or(0.0, |c| c.share_of_change),
                    shared_by: self
                        .deployment_classes
                        .get(dep)
                        .cloned()
                        .unwrap_or_default(),
                    day,
                    native,
                    native_text,
                }
            })
            .collect();
        Some(Answer {
            culprit,
            culprit_delta_usd: top.delta_usd,
            culprit_share: top.share_of_change,
            tag_row: tag.map(|t| t.key.clone()),
            platforms,
        })
    }
}
