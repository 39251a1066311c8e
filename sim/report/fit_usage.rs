//! The parts of `llmcap fit`'s outputs that differ for a usage export (rows are time bins of
//! traffic, not requests): fit.toml's header and token tables, fit.md's export section, token
//! section and method. Text only.

use std::fmt::Write;

use crate::analysis::fit::{duration, Fit, UsageFit};
use crate::format::{count, grouped, sig};
use crate::report::fit::{commented, when};

/// fit.toml's header lines for an export.
pub(crate) fn toml_header(o: &mut String, fit: &Fit, u: &UsageFit) {
    let _ = writeln!(o, "# Export: {}.", export_in_words(fit, u));
    let _ = writeln!(
        o,
        "# Tokens: means per request from the export's totals; one request's spread is not in"
    );
    let _ = writeln!(
        o,
        "# an export, so an exponential with that mean is assumed (see fit.md)."
    );
}

/// fit.toml's token tables for an export: an exponential with the mean per request.
pub(crate) fn toml_tokens(o: &mut String, fit: &Fit) {
    for (kind, t, cap) in [
        ("input", &fit.input_tokens, "the model's context window"),
        ("output", &fit.output_tokens, "the model's maximum output"),
    ] {
        let _ = writeln!(o);
        let _ = writeln!(o, "[class.{kind}_tokens]");
        let _ = writeln!(
            o,
            "{}",
            commented(
                "dist = \"exponential\"".into(),
                "assumed: the export holds totals, not one request's count"
            )
        );
        let _ = writeln!(
            o,
            "{}",
            commented(
                format!("mean = {}", sig(t.mean.max(1.0), 6)),
                &format!(
                    "{} {kind} tokens / {} requests",
                    grouped(t.mean * t.requests as f64, 0),
                    count(t.requests as f64)
                )
            )
        );
        let _ = writeln!(
            o,
            "# max = ...                   # {cap}: the export cannot say"
        );
    }
}

/// "1,234 requests over 14.0 days, 2026-01-05 00:00:00 to 2026-01-19 00:00:00 UTC, in 20,160
/// bins of 60 s; 12 bins missing (counted as 0 requests; the longest gap 5.0 minutes); 3
/// identical repeats dropped".
pub(crate) fn export_in_words(fit: &Fit, u: &UsageFit) -> String {
    let mut s = format!(
        "{} requests over {}{}, in {} bins of {} s",
        count(fit.requests as f64),
        duration(fit.span_s),
        when(fit),
        count(u.rows as f64),
        u.grain_s
    );
    match u.missing_bins {
        0 => s.push_str("; no bin missing"),
        n => {
            let _ = write!(
                s,
                "; {} bins missing (counted as 0 requests; the longest gap {})",
                count(n as f64),
                duration(u.longest_gap_s as f64)
            );
        }
    }
    if u.duplicates > 0 {
        let _ = write!(
            s,
            "; {} identical repeats dropped",
            count(u.duplicates as f64)
        );
    }
    s
}

/// fit.md's token section, chart and method for a usage export.
pub(crate) fn tokens_and_method(o: &mut String, fit: &Fit, u: &UsageFit) {
    let a = &fit.arrivals;
    let _ = writeln!(o, "## Token counts\n");
    let _ = writeln!(o, "| | input | output |");
    let _ = writeln!(o, "| --- | ---: | ---: |");
    let (i, out) = (&fit.input_tokens, &fit.output_tokens);
    let _ = writeln!(
        o,
        "| tokens in the export | {} | {} |",
        grouped(i.mean * i.requests as f64, 0),
        grouped(out.mean * out.requests as f64, 0)
    );
    let _ = writeln!(
        o,
        "| mean per request (`mean` in fit.toml) | {} | {} |\n",
        grouped(i.mean, 1),
        grouped(out.mean, 1)
    );
    let _ = writeln!(o, "What was assumed: {}\n", u.token_assumption);
    let _ = writeln!(o, "![export against fit](fit.png)\n");
    let _ = writeln!(
        o,
        "Requests per {} s through the export, with the fitted mean and the band of ±2 standard deviations of the fitted model (sqrt(m + k m²) for an expected count m). An export has no per-request token counts to draw.\n",
        a.interval_s
    );
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(
        o,
        "- `mean_rps` = requests / span, from the start of the first bin to the end of the last ({} s after the last bin's start). Bins the export leaves out inside that span count as 0 requests: Azure Monitor and CloudWatch return no point for a grain without data. A long gap that was an outage of the export rather than a quiet spell lowers the rate: trim the export around it.",
        u.grain_s
    );
    let _ = writeln!(
        o,
        "- Requests are counted per {} s (the export's bins, or `--interval`, a multiple of them). Overdispersion: k = Σ((N − m)² − m) / Σ m² around each interval's expected count m under the fitted profiles (without profiles, (variance/mean − 1) / mean count); below 0 it is 0 (Poisson). Burstiness inside one bin cannot be seen in an export.",
        a.interval_s
    );
    let _ = writeln!(
        o,
        "- Hour-of-day profile from 24 hours of data, day-of-week profile from 7 days: requests per hour of day (day of week, UTC) over the span's seconds in it, normalised to mean 1. They multiply: the rate in hour h of day d is `mean_rps` × hourly[h] × weekday[d]. When the week is not one daily shape scaled by day (office hours on weekdays, a flat weekend), fit.toml gives the 168 hour-of-week multipliers instead (`hour_of_week`, chosen by quasi-AIC: the chi-square of the counts around each model's expected counts, over the dispersion left by the larger model, plus twice its parameters, 30 against 168)."
    );
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (format `{}`).",
        env!("CARGO_PKG_VERSION"),
        fit.trace,
        fit.format
    );
}

/// fit.md's section on a usage export: its bins, gaps and repeats, the
/// service metrics it held and what the reader noticed.
pub(crate) fn export_section(o: &mut String, fit: &Fit, u: &UsageFit) {
    let _ = writeln!(o, "## The export\n");
    let _ = writeln!(o, "- {}.", export_in_words(fit, u));
    let _ = writeln!(
        o,
        "- Each row is a bin of traffic (requests and token totals), not a request: the counts per interval below are the export's own, summed over {} s.",
        fit.arrivals.interval_s
    );
    for n in &u.notes {
        let _ = writeln!(o, "- {}", n.replace('|', "\\|"));
    }
    let _ = writeln!(o);
    if !u.observed.is_empty() {
        let _ = writeln!(
            o,
            "Service metrics in the export (reported as measured, not fitted; per bin):\n"
        );
        let _ = writeln!(o, "| metric | bins | mean | p95 | max |");
        let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: |");
        for m in &u.observed {
            let _ = writeln!(
                o,
                "| {} ({}) | {} | {} | {} | {} |",
                m.metric,
                m.unit,
                count(m.points as f64),
                grouped(m.mean, 1),
                grouped(m.p95, 1),
                grouped(m.max, 1)
            );
        }
        let _ = writeln!(o);
    }
}
