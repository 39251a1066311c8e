//! `llmcap catalog`: the catalog as a plain-text listing (no I/O).

use std::fmt::Write;

use crate::format::{grouped, ms};
use crate::input::catalog::{AttributionModel, Catalog, Offering, Sourced};
use crate::report::attribution::granularity;
use crate::report::terminal::wrap;

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
        if let Some(q) = &od.quota {
            let _ = write!(s, "; enforced as {} (quota = \"vendor\")", q.value);
        }
        if let Some(r) = &o.reserved_rate {
            let _ = write!(
                s,
                "; {} ({}, overflow to this tier): ",
                r.product.value, r.measure.value
            );
            if r.measure.value == "tokens" {
                let side = |min: &Option<Sourced<f64>>, step: &Option<Sourced<f64>>| {
                    format!(
                        "min {} step {}",
                        grouped(min.as_ref().map_or(0.0, |v| v.value), 0),
                        grouped(step.as_ref().map_or(1.0, |v| v.value), 0)
                    )
                };
                let _ = write!(
                    s,
                    "input TPM {}, output TPM {}; ",
                    side(&r.min_input_tpm, &r.input_tpm_step),
                    side(&r.min_output_tpm, &r.output_tpm_step)
                );
            }
            let _ = write!(s, "terms {}", r.describe_terms());
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

/// An offering's first line: its id, model, kind, serving scope and its lifecycle stage on
/// `date` (YYYY-MM-DD).
fn offering_head(platform: &str, x: &Offering, date: &str) -> String {
    let scope = x.scope.as_ref().map_or_else(
        || "scope not stated".to_string(),
        |s| format!("{} scope", s.value),
    );
    let lifecycle = x.lifecycle.as_ref().map_or_else(
        || "lifecycle not stated".to_string(),
        |l| l.status_at(date).describe(),
    );
    let tier = match x.tier() {
        "standard" => String::new(),
        t => format!(", {t} tier"),
    };
    format!(
        "  {platform}/{}: {}, {}{tier}, {scope}, {lifecycle}",
        x.id,
        x.model,
        x.kind.replace('_', "-")
    )
}

/// The listing, offerings filtered by `keep(platform, model)`, lifecycles judged on `date`
/// (YYYY-MM-DD). Every line fits the terminal width ([`wrap`]).
pub fn render(cat: &Catalog, keep: &dyn Fn(&str, &str) -> bool, date: &str) -> String {
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
        let _ = writeln!(
            o,
            "{}",
            wrap(&format!("{} — {} ({})", p.id, p.name, p.kind))
        );
        let compliance = format!(
            "  compliance: HIPAA BAA {}, SOC 2 {}, ISO 27001 {}; data residency: {}",
            yes_no(&c.hipaa_baa),
            yes_no(&c.soc2),
            yes_no(&c.iso27001),
            c.data_residency
                .as_ref()
                .map_or("?".to_string(), |d| d.value.join(", "))
        );
        let _ = writeln!(o, "{}", wrap(&compliance));
        if let Some(a) = &p.attribution {
            let _ = writeln!(o, "{}", wrap(&format!("  attribution: {}", a.value)));
        }
        if let Some(m) = &p.attribution_model {
            let _ = writeln!(
                o,
                "{}",
                wrap(&format!("  attribution model: {}", attribution_model(m)))
            );
        }
        if offerings.is_empty() {
            let _ = writeln!(o, "  (no offerings)\n");
            continue;
        }
        for x in &offerings {
            let _ = writeln!(o, "{}", wrap(&offering_head(&p.id, x, date)));
            let _ = writeln!(
                o,
                "{}",
                wrap(&format!("    regions: {}", x.regions.value.join(", ")))
            );
            let _ = writeln!(
                o,
                "{}",
                wrap(&format!(
                    "    TTFT p50 {} / p99 {}; {}",
                    ms(x.latency.median_ms.value),
                    ms(x.latency.p99_ms.value),
                    price(x)
                ))
            );
        }
        let _ = writeln!(o);
    }
    if let Some((_, g)) = cat.gateway.as_ref().filter(|_| keep("gateway", "")) {
        let g = &g.gateway;
        let _ = writeln!(o, "{}", wrap(&format!("{} — {}", g.id, g.name)));
        let _ = writeln!(
            o,
            "{}",
            wrap(&format!("  attribution: {}", g.attribution.value))
        );
        let model = format!(
            "  attribution model: {}",
            attribution_model(&g.attribution_model)
        );
        let _ = writeln!(o, "{}\n", wrap(&model));
    }
    let _ = writeln!(
        o,
        "{}",
        wrap(&format!("Lifecycles as of {date}. Every value has a source and an as-of date: `llmcap catalog --json` prints them; `llmcap catalog --check` validates the data."))
    );
    o
}
