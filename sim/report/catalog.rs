//! `llmcap catalog`: the catalog as a plain-text listing (no I/O).

use std::fmt::Write;

use crate::format::grouped;
use crate::input::catalog::{AttributionModel, Catalog, Offering, Sourced};
use crate::report::attribution::granularity;

fn yes_no(v: &Option<Sourced<bool>>) -> &'static str {
    match v.as_ref().map(|s| s.value) {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

fn price(o: &Offering) -> String {
    if let Some(od) = &o.on_demand {
        let mut s = format!(
            "${} in / ${} out per 1M",
            grouped(od.input_per_1m.value, 2),
            grouped(od.output_per_1m.value, 2)
        );
        if let Some(t) = &od.tpm {
            let _ = write!(s, "; quota {} TPM", grouped(t.value, 0));
        }
        if let Some(r) = &od.rpm {
            let _ = write!(s, ", {} RPM", grouped(r.value, 0));
        }
        return s;
    }
    if let Some(r) = &o.reserved {
        let terms: Vec<String> = r
            .terms
            .iter()
            .map(|t| format!("{} {}", t.name, grouped(t.unit_hour_price(), 4)))
            .collect();
        return format!(
            "{} TPM/unit, output x{}, min {} step {}; $/unit-hour: {}",
            grouped(r.tpm_per_unit.value, 0),
            r.output_weight.as_ref().map_or(1.0, |w| w.value),
            r.min_units.as_ref().map_or(1.0, |w| w.value),
            r.unit_step.as_ref().map_or(1.0, |w| w.value),
            terms.join(", ")
        );
    }
    String::new()
}

/// One line on what a platform's (or the gateway's) attribution splits.
fn attribution_model(m: &AttributionModel) -> String {
    let dims = if m.dimensions.value.iter().any(|d| d == "*") {
        "any tag key".to_string()
    } else {
        m.dimensions.value.join(", ")
    };
    let granularity = granularity(Some(m.granularity_hours.value));
    let latency = if m.latency_hours.value <= 0.0 {
        "at once".to_string()
    } else {
        format!("within {} h", grouped(m.latency_hours.value, 0))
    };
    let reserved = match m.reserved.value.as_str() {
        "none" => "no reserved capacity".to_string(),
        "request-share" => "reserved split by each request's share of use".to_string(),
        r => format!("reserved per {r}"),
    };
    format!(
        "{}: on-demand split per {}, {reserved}; carries {dims}; cost {granularity}, shows up {latency}; with no setup: {}",
        m.mechanism.value, m.on_demand.value, m.default_view.value
    )
}

/// The listing, offerings filtered by `keep(platform, model)`.
pub fn render(cat: &Catalog, keep: &dyn Fn(&str, &str) -> bool) -> String {
    let mut o = String::new();
    for (_, f) in &cat.files {
        let p = &f.platform;
        let offerings: Vec<&Offering> = f
            .offering
            .iter()
            .filter(|x| keep(&p.id, &x.model))
            .collect();
        if offerings.is_empty() && !keep(&p.id, "") && !f.offering.is_empty() {
            continue;
        }
        if !keep(
            &p.id,
            &offerings.first().map_or(String::new(), |x| x.model.clone()),
        ) {
            continue;
        }
        let c = &p.compliance;
        let _ = writeln!(o, "{} — {} ({})", p.id, p.name, p.kind);
        let _ = writeln!(
            o,
            "  compliance: HIPAA BAA {}, SOC 2 {}, ISO 27001 {}; data residency: {}",
            yes_no(&c.hipaa_baa),
            yes_no(&c.soc2),
            yes_no(&c.iso27001),
            c.data_residency
                .as_ref()
                .map_or("?".to_string(), |d| d.value.join(", "))
        );
        if let Some(a) = &p.attribution {
            let _ = writeln!(o, "  attribution: {}", a.value);
        }
        if let Some(m) = &p.attribution_model {
            let _ = writeln!(o, "  attribution model: {}", attribution_model(m));
        }
        if offerings.is_empty() {
            let _ = writeln!(o, "  (no offerings)\n");
            continue;
        }
        let rows: Vec<[String; 6]> = offerings
            .iter()
            .map(|x| {
                [
                    format!("{}/{}", p.id, x.id),
                    x.model.clone(),
                    x.kind.replace('_', "-"),
                    x.regions.value.join(","),
                    format!(
                        "{} / {}",
                        grouped(x.latency.median_ms.value, 0),
                        grouped(x.latency.p99_ms.value, 0)
                    ),
                    price(x),
                ]
            })
            .collect();
        let head = [
            "offering",
            "model",
            "kind",
            "regions",
            "TTFT p50 / p99 ms",
            "price",
        ];
        let widths: Vec<usize> = (0..5)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([head[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: [&str; 6]| {
            let mut s = String::from("  ");
            for (i, cell) in cells.iter().enumerate() {
                if i < 5 {
                    let _ = write!(s, "{cell:<w$}  ", w = widths[i]);
                } else {
                    s.push_str(cell);
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(o, "{}", line(head));
        for r in &rows {
            let _ = writeln!(o, "{}", line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
        }
        let _ = writeln!(o);
    }
    if let Some((_, g)) = cat.gateway.as_ref().filter(|_| keep("gateway", "")) {
        let g = &g.gateway;
        let _ = writeln!(o, "{} — {}", g.id, g.name);
        let _ = writeln!(o, "  attribution: {}", g.attribution.value);
        let _ = writeln!(
            o,
            "  attribution model: {}\n",
            attribution_model(&g.attribution_model)
        );
    }
    let _ = writeln!(
        o,
        "Every value has a source and an as-of date: `llmcap catalog --json` prints them; `llmcap catalog --check` validates the data."
    );
    o
}
