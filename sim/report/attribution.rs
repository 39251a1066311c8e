//! `attribution.csv`, the "Cost attribution" section of `report.md` and the
//! bars of `attribution.png`, from [`crate::analysis::attribution`]'s rows (no I/O).

use std::fmt::Write;

use crate::analysis::attribution::AttributionRow;
use crate::error::OutputError;
use crate::format::{fixed, fixed_opt, grouped};
use crate::report::plots::attribution::Bar;
use crate::report::tables::{finish, row};

/// The columns of `attribution.csv` (`llmcap diff` reads them by name).
pub use crate::schema::attribution::COLUMNS;

/// `attribution.csv`: one row per platform and tag dimension.
pub fn csv(rows: &[AttributionRow]) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "attribution.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, COLUMNS)?;
    for r in rows {
        row(
            &mut w,
            WHAT,
            [
                r.platform.clone(),
                r.dimension.clone(),
                r.mechanism.clone(),
                fixed_opt(r.granularity_hours, 2),
                fixed(r.cost_usd, 4),
                fixed(r.native_usd, 4),
                fixed(r.gateway_usd, 4),
                fixed(r.unattributed_usd, 4),
                fixed_opt(r.native_share, 6),
                fixed_opt(r.with_gateway_share, 6),
                fixed_opt(r.unattributable_share, 6),
                r.reason.clone(),
            ],
        )?;
    }
    finish(w, WHAT)
}

/// The bars of `attribution.png`, in row order.
pub fn bars(rows: &[AttributionRow]) -> Vec<Bar> {
    rows.iter()
        .map(|r| Bar {
            label: format!(
                "{} · {} (${})",
                r.platform,
                r.dimension,
                grouped(r.cost_usd, 0)
            ),
            native: r.native_share.unwrap_or(0.0),
            gateway: r.with_gateway_share.unwrap_or(0.0) - r.native_share.unwrap_or(0.0),
            unattributed: r.unattributable_share.unwrap_or(0.0),
        })
        .collect()
}

fn share(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.0}%", v * 100.0))
}

/// A cost report's time bucket in words: "per request", "hourly", "daily",
/// "every 6 h" ("none" without a native report).
pub(crate) fn granularity(h: Option<f64>) -> String {
    match h {
        None => "none".into(),
        Some(h) if h <= 0.0 => "per request".into(),
        Some(h) => {
            if h == 1.0 {
                "hourly".into()
            } else if h == 24.0 {
                "daily".into()
            } else {
                format!("every {} h", grouped(h, 2))
            }
        }
    }
}

/// The "Cost attribution" section of `report.md`: the table and one sentence
/// per platform. Nothing when no class has tags.
pub fn section(o: &mut String, rows: &[AttributionRow]) {
    let _ = writeln!(o, "## Cost attribution\n");
    if rows.is_empty() {
        let _ = writeln!(
            o,
            "No class has tags, so there is nothing to attribute by team, product or feature (attribution.csv is empty).\n"
        );
        return;
    }
    let _ = writeln!(
        o,
        "Share of each platform's simulated cost that its own billing attributes to a tag dimension, what a gateway that stamps tags on every request adds, and what stays unattributable (attribution.csv; rules in docs/model.md):\n"
    );
    let _ = writeln!(
        o,
        "| platform | dimension | mechanism | cost (USD) | native | with a gateway | unattributable | not native because |\n| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.platform,
            r.dimension,
            r.mechanism,
            grouped(r.cost_usd, 2),
            share(r.native_share),
            share(r.with_gateway_share),
            share(r.unattributable_share),
            r.reason
        );
    }
    let _ = writeln!(o);
    let mut platforms: Vec<&str> = Vec::new();
    for r in rows {
        if !platforms.contains(&r.platform.as_str()) {
            platforms.push(&r.platform);
        }
    }
    for p in platforms {
        let of: Vec<&AttributionRow> = rows.iter().filter(|r| r.platform == p).collect();
        let list = |f: &dyn Fn(&AttributionRow) -> Option<f64>| -> String {
            of.iter()
                .map(|r| format!("{} {}", r.dimension, share(f(r))))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let first = of[0];
        let how = if first.mechanism == crate::analysis::attribution::NO_MECHANISM {
            "outside the catalog: no native attribution".to_string()
        } else {
            format!(
                "{}, cost reported {}",
                first.mechanism,
                granularity(first.granularity_hours)
            )
        };
        if of.iter().all(|r| r.cost_usd <= 0.0) {
            let _ = writeln!(o, "- **{p}** ({how}): no cost in this run.");
            continue;
        }
        let mut s = format!(
            "- **{p}** ({how}): natively attributes {}",
            list(&|r| r.native_share)
        );
        let needs: Vec<&&AttributionRow> = of.iter().filter(|r| r.gateway_usd > 0.0).collect();
        if needs.is_empty() {
            s.push_str("; a gateway adds nothing");
        } else {
            let _ = write!(
                s,
                "; a gateway raises {}",
                needs
                    .iter()
                    .map(|r| format!("{} to {}", r.dimension, share(r.with_gateway_share)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let lost: Vec<&&AttributionRow> = of.iter().filter(|r| r.unattributed_usd > 0.0).collect();
        if !lost.is_empty() {
            let _ = write!(
                s,
                "; unattributable even then: {} (why: last column above)",
                lost.iter()
                    .map(|r| format!("{} {}", r.dimension, share(r.unattributable_share)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(o, "{s}.");
    }
    let _ = writeln!(o, "\n![attribution](attribution.png)\n");
}
