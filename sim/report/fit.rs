//! `llmcap fit` outputs: `fit.json` (every number), `fit.toml` (a `[[class]]`
//! to paste into a scenario), `fit.png` (the chart) and `fit.md` (a short
//! report). Text and bytes only, except [`write_fit`], which writes them into
//! the staging folder and moves it into place.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::fit::{duration, sampled_cdf, ArrivalFit, Fit, TokenFit, PERCENTILES};
use crate::error::OutputError;
use crate::format::{count, grouped, sig};
use crate::report::fit_usage;
use crate::report::output::Staging;
use crate::report::plots::{
    self,
    fit::{FitChart, TokenCdf, TokenSeries},
};

/// The files a fit writes, in the order they are written.
pub const FIT_FILES: &[&str] = &["fit.json", "fit.toml", "fit.png", "fit.md"];
/// The `model` written into `fit.toml`, for the user to replace.
pub const PLACEHOLDER_MODEL: &str = "your-model";
/// The `route` written into `fit.toml`, for the user to replace.
pub const PLACEHOLDER_DEPLOYMENT: &str = "your-deployment";

/// Identifies the results folder as llmcap's and ties it to its input.
#[derive(Debug, Clone, Serialize)]
pub struct FitManifest {
    pub llmcap_version: String,
    pub trace_file: String,
    pub format: String,
    pub interval_s: u32,
}

#[derive(Serialize)]
struct FitJson<'a> {
    manifest: FitManifest,
    #[serde(flatten)]
    fit: &'a Fit,
}

/// The manifest of `fit.json`.
pub fn manifest(fit: &Fit) -> FitManifest {
    FitManifest {
        llmcap_version: env!("CARGO_PKG_VERSION").to_string(),
        trace_file: fit.trace.clone(),
        format: fit.format.clone(),
        interval_s: fit.arrivals.interval_s,
    }
}

/// `fit.json`: the manifest and every number of the fit.
pub fn fit_json(fit: &Fit) -> Result<Vec<u8>, OutputError> {
    serde_json::to_vec_pretty(&FitJson {
        manifest: manifest(fit),
        fit,
    })
    .map_err(|e| OutputError::Encode {
        what: "fit.json",
        message: e.to_string(),
    })
}

/// The class name written into `fit.toml`: the trace's file stem.
pub fn class_name(fit: &Fit) -> String {
    Path::new(&fit.trace)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "trace".into())
}

/// Token counts as written in TOML: whole numbers plainly, halves with one decimal.
fn tokens(v: f64) -> String {
    sig(v, 12)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Pads `line` with spaces to `col` and appends `# comment`.
pub(crate) fn commented(line: String, comment: &str) -> String {
    format!("{line:<30}# {comment}")
}

/// `fit.toml`: a `[[class]]` ready to paste into a scenario; `model` and
/// `route` are placeholders ([`PLACEHOLDER_MODEL`], [`PLACEHOLDER_DEPLOYMENT`]).
pub fn fit_toml(fit: &Fit) -> String {
    let a = &fit.arrivals;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# A traffic class fitted by llmcap {} to {} (format {}).",
        env!("CARGO_PKG_VERSION"),
        fit.trace,
        fit.format
    );
    if let Some(u) = &fit.usage {
        fit_usage::toml_header(&mut o, fit, u);
    } else {
        let _ = writeln!(
            o,
            "# Trace: {} requests over {}{}; {}.",
            count(fit.requests as f64),
            duration(fit.span_s),
            when(fit),
            match fit.bad_rows.total {
                0 => "no bad rows".to_string(),
                1 => "1 bad row skipped".to_string(),
                n => format!("{} bad rows skipped", count(n as f64)),
            }
        );
        let _ = writeln!(
            o,
            "# Goodness of fit (Kolmogorov-Smirnov distance between the trace and what llmcap samples; 0 = identical):"
        );
        for (kind, t) in [("input", &fit.input_tokens), ("output", &fit.output_tokens)] {
            let _ = writeln!(
                o,
                "#   {kind} tokens: lognormal {:.3}, empirical quantiles {:.3}",
                t.lognormal.ks, t.ks_empirical
            );
        }
    }
    let _ = writeln!(
        o,
        "# Paste into a scenario, then set `model` and `route` to yours."
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "[[class]]");
    let _ = writeln!(o, "name = {}", toml_string(&class_name(fit)));
    let _ = writeln!(
        o,
        "{}",
        commented(
            format!("model = {}", toml_string(PLACEHOLDER_MODEL)),
            "the model this traffic needs"
        )
    );
    let _ = writeln!(
        o,
        "{}",
        commented(
            format!("route = [{}]", toml_string(PLACEHOLDER_DEPLOYMENT)),
            "your deployments, in the order they are tried"
        )
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "[class.arrivals]");
    let _ = writeln!(
        o,
        "{}",
        commented(
            format!("mean_rps = {}", sig(a.mean_rps, 5)),
            &format!(
                "{} requests / {} s",
                count(fit.requests as f64),
                grouped(fit.span_s, 1)
            )
        )
    );
    profiles_toml(&mut o, a);
    let k_comment = match (&a.overdispersion_note, a.index_of_dispersion) {
        (Some(n), _) => format!("Gamma-Poisson k: {n}"),
        (None, Some(_)) if a.dispersion_around_profile.is_some() => format!(
            "Gamma-Poisson k, around the fitted profiles: requests per {} s have variance/mean {} around them (1 = Poisson)",
            a.interval_s,
            sig(a.dispersion_around_profile.unwrap_or(1.0), 3)
        ),
        (None, Some(d)) => format!(
            "Gamma-Poisson k: requests per {} s have variance/mean {} (1 = Poisson)",
            a.interval_s,
            sig(d, 3)
        ),
        (None, None) => "Gamma-Poisson k".to_string(),
    };
    let _ = writeln!(o, "# {k_comment}");
    let _ = writeln!(o, "overdispersion = {}", sig(a.overdispersion, 4));
    let _ = writeln!(o, "burst_interval_s = {}", a.interval_s);
    if fit.usage.is_some() {
        fit_usage::toml_tokens(&mut o, fit);
        return o;
    }
    for (kind, t) in [("input", &fit.input_tokens), ("output", &fit.output_tokens)] {
        let _ = writeln!(o);
        let _ = writeln!(o, "[class.{kind}_tokens]");
        let _ = writeln!(o, "dist = \"lognormal\"");
        let _ = writeln!(
            o,
            "{}",
            commented(
                format!("median = {}", tokens(t.lognormal.median)),
                "the trace's median"
            )
        );
        let _ = writeln!(
            o,
            "{}",
            commented(
                format!("p90 = {}", tokens(t.lognormal.p90)),
                "the trace's 90th percentile"
            )
        );
        let _ = writeln!(
            o,
            "{}",
            commented(format!("max = {}", t.max.max(1)), "the trace's maximum")
        );
        let _ = writeln!(
            o,
            "# KS distance to the trace {:.3}; mean {} tokens against the trace's {} ({}).",
            t.lognormal.ks,
            count(t.lognormal.mean),
            count(t.mean),
            signed_pct(t.lognormal.mean, t.mean)
        );
        let _ = writeln!(
            o,
            "# The trace's own quantiles (KS {:.3}{}, mean {} tokens): to use them, replace dist, median and p90 with",
            t.ks_empirical,
            if t.ks_empirical < t.lognormal.ks {
                ", closer"
            } else {
                ""
            },
            count(t.empirical_mean)
        );
        let _ = writeln!(o, "# dist = \"empirical\"");
        let q: Vec<String> = t
            .quantiles
            .iter()
            .map(|[p, v]| format!("[{}, {}]", sig(*p, 3), tokens(*v)))
            .collect();
        let _ = writeln!(o, "# quantiles = [{}]", q.join(", "));
    }
    o
}

/// The `hour_of_week` lines of `fit.toml`: one line of 24 per day, Monday first.
fn hour_of_week_toml(o: &mut String, a: &ArrivalFit, w: &[f64]) {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let _ = writeln!(
        o,
        "# Hour-of-week multipliers, Monday 00:00 UTC first (mean 1): {}.",
        a.hour_of_week_note
    );
    let _ = writeln!(o, "hour_of_week = [");
    for (d, day) in w.chunks(24).enumerate() {
        let vals: Vec<String> = day.iter().map(|x| format!("{x:.3}")).collect();
        let _ = writeln!(o, "    {}, # {}", vals.join(", "), DAYS[d]);
    }
    let _ = writeln!(o, "]");
    let _ = writeln!(
        o,
        "# hourly and weekday: left out (hour_of_week gives the whole week); their averages are in fit.md."
    );
}

/// The `hourly` and `weekday` lines of `fit.toml` (or why they are flat), or `hour_of_week`.
fn profiles_toml(o: &mut String, a: &ArrivalFit) {
    if let Some(w) = &a.hour_of_week {
        hour_of_week_toml(o, a, w);
        return;
    }
    match &a.hourly {
        Some(v) => {
            let _ = writeln!(
                o,
                "# Hour-of-day multipliers, hour 0 first ({}; mean 1): {}.",
                a.hourly_basis, a.hourly_note
            );
            let vals: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
            let _ = writeln!(
                o,
                "hourly = [\n    {},\n    {},\n    {},\n]",
                vals[..8].join(", "),
                vals[8..16].join(", "),
                vals[16..].join(", ")
            );
        }
        None => {
            let _ = writeln!(o, "# hourly: {}.", a.hourly_note);
        }
    }
    match &a.weekday {
        Some(v) => {
            let _ = writeln!(
                o,
                "# Day-of-week factors, Monday first (UTC; mean 1): {}.",
                a.weekday_note
            );
            let vals: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
            let _ = writeln!(o, "weekday = [{}]", vals.join(", "));
        }
        None => {
            let _ = writeln!(o, "# weekday: {}.", a.weekday_note);
        }
    }
}

/// " (2024-03-04 09:00:00 to 09:58:21 UTC)" for wall-clock traces.
pub(crate) fn when(fit: &Fit) -> String {
    match (&fit.first_utc, &fit.last_utc) {
        (Some(a), Some(b)) => {
            let b = if a[..10] == b[..10] { &b[11..] } else { &b[..] };
            format!(", {a} to {b} UTC")
        }
        _ => String::new(),
    }
}

/// `(a - b) / b` as "+6.5%".
fn signed_pct(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:+.1}%", (a / b - 1.0) * 100.0)
    } else {
        "–".into()
    }
}

/// How close a Kolmogorov-Smirnov distance is, in words.
pub fn ks_words(d: f64) -> &'static str {
    if d < 0.03 {
        "very close"
    } else if d < 0.06 {
        "close"
    } else if d < 0.12 {
        "fair"
    } else {
        "poor"
    }
}

/// The lines the terminal shows.
pub fn headline(fit: &Fit) -> Vec<String> {
    let a = &fit.arrivals;
    let mut out = vec![format!(
        "{}: {} requests over {}; mean {} req/s; overdispersion k = {} per {} s (variance/mean {}); hourly profile: {}",
        fit.trace,
        count(fit.requests as f64),
        duration(fit.span_s),
        sig(a.mean_rps, 4),
        sig(a.overdispersion, 3),
        a.interval_s,
        a.index_of_dispersion
            .map(|d| sig(d, 3))
            .unwrap_or_else(|| "–".into()),
        if a.hourly.is_some() { "fitted" } else { "flat" }
    )];
    if a.weekday.is_some() {
        out[0].push_str("; day-of-week profile: fitted");
    }
    if let Some(u) = &fit.usage {
        out[0] = out[0].replace(
            " requests over ",
            &format!(
                " requests in {} bins of {} s over ",
                count(u.rows as f64),
                u.grain_s
            ),
        );
        out.push(format!(
            "tokens per request: input {}, output {} (means from totals; one request's spread is \
             not in an export: exponential assumed, see fit.md){}",
            grouped(fit.input_tokens.mean, 1),
            grouped(fit.output_tokens.mean, 1),
            match u.missing_bins {
                0 => String::new(),
                n => format!("; {} missing bins counted as 0", count(n as f64)),
            }
        ));
        return out;
    }
    for (kind, t) in [("input", &fit.input_tokens), ("output", &fit.output_tokens)] {
        out.push(format!(
            "{kind} tokens: median {}, p90 {}, max {}; lognormal KS {:.3} ({}), empirical KS {:.3}",
            tokens(t.lognormal.median),
            tokens(t.lognormal.p90),
            count(t.max as f64),
            t.lognormal.ks,
            ks_words(t.lognormal.ks),
            t.ks_empirical
        ));
    }
    if fit.bad_rows.total > 0 {
        out.push(format!(
            "{} bad rows skipped (see fit.md)",
            count(fit.bad_rows.total as f64)
        ));
    }
    out
}

/// The chart's data.
pub fn chart(fit: &Fit) -> FitChart {
    let a = &fit.arrivals;
    let curve = |t: &TokenFit, label: &str| {
        let d = t.lognormal_dist();
        TokenCdf {
            label: label.into(),
            trace: t.cdf.iter().map(|[x, f]| (*x, *f)).collect(),
            fitted: fitted_grid(t.max.max(1))
                .map(|x| (x, sampled_cdf(&d, x.floor())))
                .collect(),
            ks: t.lognormal.ks,
        }
    };
    FitChart {
        interval_s: a.interval_s as f64,
        counts: a.counts.iter().map(|&c| c as f64).collect(),
        expected: a.expected.clone(),
        sd: a.expected.iter().map(|&m| a.count_sd(m)).collect(),
        overdispersion: a.overdispersion,
        // An export holds no per-request counts: its tokens per request over time instead.
        tokens: if fit.usage.is_some() {
            vec![]
        } else {
            vec![
                curve(&fit.input_tokens, "input"),
                curve(&fit.output_tokens, "output"),
            ]
        },
        token_series: fit.usage.as_ref().map(|u| TokenSeries {
            per_interval: u.tokens_per_request.clone(),
            means: [fit.input_tokens.mean, fit.output_tokens.mean],
        }),
    }
}

/// Where the fitted CDF is drawn: every whole number up to 100, then 400
/// log-spaced points up to `max`.
fn fitted_grid(max: u32) -> impl Iterator<Item = f64> {
    let max = f64::from(max);
    let whole = (1..=100).map(f64::from).take_while(move |x| *x <= max);
    let (lo, hi) = (100f64.ln(), max.ln());
    let spaced = (1..=400)
        .map(move |i| (lo + (hi - lo) * f64::from(i) / 400.0).exp())
        .filter(move |x| *x > 100.0 && *x <= max);
    whole.chain(spaced)
}

/// `fit.md`: what was fitted, the numbers, the bad rows, the goodness of fit
/// in words and the chart.
pub fn render(fit: &Fit) -> String {
    let a = &fit.arrivals;
    let mut o = String::new();
    let _ = writeln!(o, "# Traffic fitted to {}\n", fit.trace);
    let _ = writeln!(
        o,
        "llmcap's traffic model fitted to the {} `{}` (format `{}`): the arrival rate, its burstiness, its hour-of-day and day-of-week shape, and the input and output token counts. `fit.toml` holds the result as a `[[class]]` to paste into a scenario (set its `model` and `route`); `fit.json` holds every number.\n",
        if fit.usage.is_some() { "usage export" } else { "trace" },
        fit.path, fit.format
    );

    if let Some(u) = &fit.usage {
        fit_usage::export_section(&mut o, fit, u);
    } else {
        trace_section(&mut o, fit);
    }

    arrivals_section(&mut o, fit);
    daily_shape_tables(&mut o, a);

    if let Some(u) = &fit.usage {
        fit_usage::tokens_and_method(&mut o, fit, u);
        return o;
    }

    token_section(&mut o, fit);
    chart_caption(&mut o, a);
    method_section(&mut o, fit);
    o
}

/// "## Arrivals": the fitted rate and burstiness, then the same in words.
fn arrivals_section(o: &mut String, fit: &Fit) {
    let a = &fit.arrivals;
    let _ = writeln!(o, "## Arrivals\n");
    let _ = writeln!(o, "| | fitted |");
    let _ = writeln!(o, "| --- | --- |");
    let _ = writeln!(
        o,
        "| `mean_rps` | {} requests/s ({} requests / {} s) |",
        sig(a.mean_rps, 4),
        count(fit.requests as f64),
        grouped(fit.span_s, 1)
    );
    let _ = writeln!(
        o,
        "| requests per {} s | mean {}, variance {}, over {} complete intervals |",
        a.interval_s,
        grouped(a.count_mean, 1),
        grouped(a.count_variance, 1),
        count(a.intervals as f64)
    );
    let _ = writeln!(
        o,
        "| index of dispersion (variance / mean) | {} (1 for a Poisson process) |",
        a.index_of_dispersion
            .map(|d| grouped(d, 2))
            .unwrap_or_else(|| "–".into())
    );
    if let Some(d) = a.dispersion_around_profile {
        let _ = writeln!(
            o,
            "| the same around the hour-of-day profile | {} |",
            grouped(d, 2)
        );
    }
    let _ = writeln!(
        o,
        "| `overdispersion` (k) | {}{} |",
        sig(a.overdispersion, 4),
        a.overdispersion_note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    let _ = writeln!(o, "| `burst_interval_s` | {} |", a.interval_s);
    let _ = writeln!(o, "| `hourly` | {} |", a.hourly_note);
    let _ = writeln!(o, "| `weekday` | {} |", a.weekday_note);
    let _ = writeln!(o, "| `hour_of_week` | {} |", a.hour_of_week_note);
    let _ = writeln!(o);
    let _ = writeln!(o, "{}\n", arrivals_in_words(fit));
}

/// The hour-of-day and day-of-week multipliers, as tables (when they were fitted).
fn daily_shape_tables(o: &mut String, a: &ArrivalFit) {
    if let Some(v) = &a.hourly {
        let _ = writeln!(o, "Hour-of-day multipliers ({}, mean 1):\n", a.hourly_basis);
        let _ = writeln!(
            o,
            "| hour | {} |",
            (0..24)
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(o, "| --- |{}", " ---: |".repeat(24));
        let _ = writeln!(
            o,
            "| multiplier | {} |\n",
            v.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }

    if let Some(v) = &a.weekday {
        let _ = writeln!(o, "Day-of-week factors (UTC, mean 1):\n");
        let _ = writeln!(o, "| day | Mon | Tue | Wed | Thu | Fri | Sat | Sun |");
        let _ = writeln!(o, "| --- |{}", " ---: |".repeat(7));
        let _ = writeln!(
            o,
            "| factor | {} |\n",
            v.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
}

/// "## Token counts": input and output quantiles, the lognormal and empirical fits, in words.
fn token_section(o: &mut String, fit: &Fit) {
    let _ = writeln!(o, "## Token counts\n");
    let (i, out) = (&fit.input_tokens, &fit.output_tokens);
    let _ = writeln!(o, "| | input | output |");
    let _ = writeln!(o, "| --- | ---: | ---: |");
    for p in PERCENTILES {
        let name = match p {
            0.0 => "minimum (p0)".to_string(),
            100.0 => "maximum (p100)".to_string(),
            50.0 => "median (p50)".to_string(),
            _ => format!("p{}", sig(p, 3)),
        };
        let q = |t: &TokenFit| t.quantile(p).map(fmt_tokens).unwrap_or_default();
        let _ = writeln!(o, "| {name} | {} | {} |", q(i), q(out));
    }
    let row = |o: &mut String, name: &str, f: &dyn Fn(&TokenFit) -> String| {
        let _ = writeln!(o, "| {name} | {} | {} |", f(i), f(out));
    };
    row(o, "mean", &|t| grouped(t.mean, 1));
    row(o, "requests with 0 tokens", &|t| count(t.zeros as f64));
    row(o, "lognormal: median, p90", &|t| {
        format!(
            "{}, {}",
            fmt_tokens(t.lognormal.median),
            fmt_tokens(t.lognormal.p90)
        )
    });
    row(o, "lognormal: mu, sigma", &|t| {
        format!("{:.3}, {:.3}", t.lognormal.mu, t.lognormal.sigma)
    });
    row(o, "lognormal: mean (capped at max)", &|t| {
        format!(
            "{} ({})",
            grouped(t.lognormal.mean, 1),
            signed_pct(t.lognormal.mean, t.mean)
        )
    });
    row(o, "lognormal: KS distance", &|t| {
        format!("{:.3} ({})", t.lognormal.ks, ks_words(t.lognormal.ks))
    });
    row(o, "empirical quantiles: mean", &|t| {
        format!(
            "{} ({})",
            grouped(t.empirical_mean, 1),
            signed_pct(t.empirical_mean, t.mean)
        )
    });
    row(o, "empirical quantiles: KS distance", &|t| {
        format!("{:.3} ({})", t.ks_empirical, ks_words(t.ks_empirical))
    });
    if i.reservoir || out.reservoir {
        row(o, "requests in the quantile sample", &|t| {
            count(t.sampled as f64)
        });
    }
    let _ = writeln!(o);
    for (kind, t) in [("input", i), ("output", out)] {
        let _ = writeln!(o, "{}\n", tokens_in_words(kind, t));
    }
}

/// The chart (fit.png) and what its two panels show.
fn chart_caption(o: &mut String, a: &ArrivalFit) {
    let _ = writeln!(o, "![trace against fit](fit.png)\n");
    let _ = writeln!(
        o,
        "Left: requests per {} s through the trace, with the fitted mean and the band of ±2 standard deviations of the fitted model (sqrt(m + k m²) for an expected count m). Right: the share of requests with at most a given number of tokens, trace (solid) against the fitted lognormal as llmcap samples it (dashed).\n",
        a.interval_s
    );
}

/// "## Method": how each number was fitted, and the build and trace it came from.
fn method_section(o: &mut String, fit: &Fit) {
    let a = &fit.arrivals;
    let i = &fit.input_tokens;
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(
        o,
        "- `mean_rps` = requests / span (first to last request). Requests are counted per {} s from the first request; the last, partial interval is left out.",
        a.interval_s
    );
    let _ = writeln!(
        o,
        "- Overdispersion: llmcap multiplies each burst interval's rate by a Gamma factor with mean 1 and variance k, so a count with mean m has variance m + k m². k = (variance/mean − 1) / mean count{}; below 0 it is 0 (Poisson).",
        if a.hourly.is_some() {
            ", here measured against each interval's expected count under the hour-of-day profile: k = Σ((N − m)² − m) / Σ m², so the daily cycle is not counted as burstiness"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "- Hour-of-day profile: only from 24 hours of trace or more; requests per hour of day over the trace's seconds in that hour, normalised to mean 1 (UTC for wall-clock traces, else hours from the first request). Day-of-week profile: the same per day of the week (UTC), only for wall-clock traces of 7 days or more."
    );
    let _ = writeln!(
        o,
        "- Token quantiles: linear interpolation between order statistics{}. The lognormal takes the median and the 90th percentile (sigma = ln(p90/median) / 1.2816), as `dist = \"lognormal\"` does; `max` is the trace's maximum. The Kolmogorov-Smirnov distance is the largest gap between the trace's CDF and the CDF of what llmcap draws (rounded to whole tokens, at least 1, at most `max`).",
        if i.reservoir {
            format!(
                " over a uniform sample of {} requests (fixed seed); means, minimum and maximum are exact",
                count(i.sampled as f64)
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "- Input and output counts are fitted separately; llmcap draws them independently."
    );
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (format `{}`).",
        env!("CARGO_PKG_VERSION"),
        fit.trace,
        fit.format
    );
}

/// fit.md's section on a request trace: its size and bad rows.
fn trace_section(o: &mut String, fit: &Fit) {
    let _ = writeln!(o, "## The trace\n");
    let _ = writeln!(
        o,
        "- {} requests over {}{}.",
        count(fit.requests as f64),
        duration(fit.span_s),
        when(fit)
    );
    if fit.bad_rows.total == 0 {
        let _ = writeln!(o, "- No bad rows.");
    } else {
        let _ = writeln!(
            o,
            "- {} bad rows skipped:\n",
            count(fit.bad_rows.total as f64)
        );
        let _ = writeln!(o, "| problem | rows | first lines | first message |");
        let _ = writeln!(o, "| --- | ---: | --- | --- |");
        for k in &fit.bad_rows.kinds {
            let lines: Vec<String> = k.first_lines.iter().map(|l| l.to_string()).collect();
            let _ = writeln!(
                o,
                "| {} | {} | {}{} | {} |",
                k.kind,
                count(k.count as f64),
                lines.join(", "),
                if k.count > k.first_lines.len() as u64 {
                    ", …"
                } else {
                    ""
                },
                k.first_message.replace('|', "\\|")
            );
        }
    }
    let _ = writeln!(o);
}

fn fmt_tokens(v: f64) -> String {
    let whole = (v - v.round()).abs() < 1e-9;
    grouped(v, if whole { 0 } else { 1 })
}

fn arrivals_in_words(fit: &Fit) -> String {
    let a = &fit.arrivals;
    let mut s = match (a.index_of_dispersion, &a.overdispersion_note) {
        (None, _) => format!(
            "The trace is too short to measure burstiness ({} complete intervals of {} s), so arrivals are fitted as a Poisson process.",
            a.intervals, a.interval_s
        ),
        (Some(d), _) if a.overdispersion == 0.0 => format!(
            "The requests per {} s vary no more than a Poisson process's would (variance/mean {}), so arrivals are fitted as a Poisson process (k = 0).",
            a.interval_s,
            grouped(d, 2)
        ),
        (Some(d), _) if a.dispersion_around_profile.is_some() => format!(
            "Around the hour-of-day profile, the requests per {} s vary {} times as much as a Poisson process's would (variance/mean {} without the profile): the traffic is bursty beyond its daily cycle. llmcap reproduces this by drawing each {} s interval's rate from a Gamma distribution around the profile, with a standard deviation of {}% of it (sqrt(k)).",
            a.interval_s,
            grouped(a.dispersion_around_profile.unwrap_or(1.0), 1),
            grouped(d, 1),
            a.interval_s,
            grouped(a.overdispersion.sqrt() * 100.0, 0)
        ),
        (Some(d), _) => format!(
            "The requests per {} s vary {} times as much as a Poisson process's at the same rate would: the traffic is bursty. llmcap reproduces this by drawing each {} s interval's rate from a Gamma distribution around the mean, with a standard deviation of {}% of it (sqrt(k)).",
            a.interval_s,
            grouped(d, 1),
            a.interval_s,
            grouped(a.overdispersion.sqrt() * 100.0, 0)
        ),
    };
    if a.hourly.is_none() && fit.span_s < 86_400.0 {
        let _ = write!(
            s,
            " The rate is the mean over the trace's {}; if those are busy hours, a day's mean is lower: scale `mean_rps`, or add an hour-of-day shape (`hourly`, or `peak_hour` and `peak_to_trough`) from what you know of the daily cycle.",
            duration(fit.span_s)
        );
    }
    s
}

/// How `a` compares with `b`: "close to" (within 5%), "12.2% below", "6.5% above".
fn versus(a: f64, b: f64) -> String {
    if b <= 0.0 {
        return "against".into();
    }
    let r = a / b - 1.0;
    if r.abs() < 0.05 {
        "close to".into()
    } else if r < 0.0 {
        format!("{:.1}% below", -r * 100.0)
    } else {
        format!("{:.1}% above", r * 100.0)
    }
}

fn tokens_in_words(kind: &str, t: &TokenFit) -> String {
    let ln = &t.lognormal;
    let mut s = format!(
        "**{kind} tokens**: the lognormal (median {}, p90 {}) is a {} fit (KS distance {:.3}: the share of requests at or below any token count differs by at most {:.1} percentage points); its mean, {} tokens, is {} the trace's {}",
        fmt_tokens(ln.median),
        fmt_tokens(ln.p90),
        ks_words(ln.ks),
        ln.ks,
        ln.ks * 100.0,
        grouped(ln.mean, 0),
        versus(ln.mean, t.mean),
        grouped(t.mean, 0)
    );
    s.push_str(" (token cost scales with the mean).");
    if t.ks_empirical < ln.ks * 0.7 {
        let _ = write!(
            s,
            " The trace's own quantiles (`dist = \"empirical\"`, commented out in `fit.toml`) follow it more closely (KS {:.3}, mean {}).",
            t.ks_empirical,
            grouped(t.empirical_mean, 0)
        );
    }
    if t.zeros > 0 {
        let _ = write!(
            s,
            " {} requests have 0 tokens; llmcap draws at least 1.",
            count(t.zeros as f64)
        );
    }
    s
}

/// Writes every output of a fit into `staging` and moves it into place.
pub fn write_fit(staging: Staging, fit: &Fit) -> Result<PathBuf, OutputError> {
    staging.write("fit.json", &fit_json(fit)?)?;
    staging.write("fit.toml", fit_toml(fit).as_bytes())?;
    staging.write(
        plots::fit::FILE,
        &plots::fit::png(
            &format!("{}: trace against llmcap's fitted traffic model", fit.trace),
            &chart(fit),
        )?,
    )?;
    staging.write("fit.md", render(fit).as_bytes())?;
    staging.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fit::tests::{
        csv_format, gamma_poisson_trace, poisson_trace, shipped, write_trace,
    };
    use crate::analysis::fit::{fit, DEFAULT_INTERVAL_S};
    use crate::domain::trace::TraceFormat;
    use crate::domain::traffic::{shape_profile, TokenDist};
    use crate::domain::Scenario;
    use crate::model::rng::{stream, Purpose};

    /// The shipped sample and a synthetic Poisson trace (the public traces are checked from the
    /// command line in tests/fit.rs).
    fn traces(dir: &Path) -> Vec<(std::path::PathBuf, TraceFormat)> {
        let synthetic = dir.join("poisson.csv");
        write_trace(&synthetic, &poisson_trace(5, 4.0, 1800.0));
        vec![
            (shipped("burstgpt_sample.csv"), TraceFormat::BurstGpt),
            (synthetic, csv_format()),
        ]
    }

    /// `fit.toml` under a minimal header and the deployment its route names.
    fn wrap(class: &str, hours: u32) -> String {
        format!(
            r#"[scenario]
horizon_hours = {hours}
seed = 11

[[deployment]]
name = "{PLACEHOLDER_DEPLOYMENT}"
platform = "custom"
model = "{PLACEHOLDER_MODEL}"
latency = {{ median_ms = 400, p99_ms = 1200 }}
on_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}

{class}"#
        )
    }

    fn parse(class: &str, hours: u32) -> Scenario {
        let text = wrap(class, hours);
        Scenario::from_toml(&text, Path::new("fit.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    /// `fit.toml` with the commented empirical alternative switched on.
    fn empirical_variant(toml: &str) -> String {
        toml.lines()
            .filter(|l| {
                !(l.starts_with("dist = \"lognormal\"")
                    || l.starts_with("median = ")
                    || l.starts_with("p90 = "))
            })
            .map(|l| {
                l.strip_prefix("# dist = ")
                    .map(|r| format!("dist = {r}"))
                    .or_else(|| {
                        l.strip_prefix("# quantiles = ")
                            .map(|r| format!("quantiles = {r}"))
                    })
                    .unwrap_or_else(|| l.to_string())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a / b - 1.0).abs() <= rel
    }

    #[test]
    fn fit_toml_is_a_valid_class_for_every_shipped_trace() {
        let dir = tempfile::tempdir().unwrap();
        for (path, format) in traces(dir.path()) {
            let file = path.display();
            let f = fit(&path, format, DEFAULT_INTERVAL_S).unwrap();
            let toml = fit_toml(&f);
            let sc = parse(&toml, 1);
            assert_eq!(sc.classes.len(), 1);
            let c = &sc.classes[0];
            assert_eq!(c.name, class_name(&f));
            let a = &c.arrivals;
            assert!(close(a.mean_rps, f.arrivals.mean_rps, 1e-4), "{file}");
            assert!(
                (a.overdispersion - f.arrivals.overdispersion).abs()
                    <= 1e-3 * f.arrivals.overdispersion,
                "{file}"
            );
            assert_eq!(a.burst_interval_s, 60);
            assert_eq!(a.hourly, [1.0; 24]);
            for (dist, t) in [
                (&c.input_tokens, &f.input_tokens),
                (&c.output_tokens, &f.output_tokens),
            ] {
                assert_eq!(*dist, t.lognormal_dist(), "{file}");
            }
            // The commented alternative is valid too.
            let sc = parse(&empirical_variant(&toml), 1);
            for (dist, t) in [
                (&sc.classes[0].input_tokens, &f.input_tokens),
                (&sc.classes[0].output_tokens, &f.output_tokens),
            ] {
                assert_eq!(*dist, t.empirical_dist(), "{file}");
            }
        }
    }

    #[test]
    fn hourly_profile_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daily.csv");
        let shape = shape_profile(15.0, 4.0);
        let rows = gamma_poisson_trace(
            9,
            |t| 0.5 * shape[((t / 3600.0) as usize) % 24],
            0.2,
            300.0,
            2.0 * 86_400.0,
        );
        write_trace(&path, &rows);
        let f = fit(&path, csv_format(), 300.0).unwrap();
        let fitted = f.arrivals.hourly.clone().unwrap();
        let toml = fit_toml(&f);
        assert!(toml.contains("hourly = ["), "{toml}");
        let sc = parse(&toml, 1);
        let a = &sc.classes[0].arrivals;
        for (h, (got, want)) in a.hourly.iter().zip(&fitted).enumerate() {
            assert!((got - want).abs() < 1e-3, "hour {h}");
        }
        assert_eq!(a.burst_interval_s, 300);
        // k measured around the profile, within 30% from 2 days.
        assert!(close(a.overdispersion, 0.2, 0.3), "k {}", a.overdispersion);
    }

    /// Simulates `fit.toml` for `hours` and checks the arrivals and token
    /// counts against the trace.
    fn simulate_and_compare(f: &Fit, hours: u32) {
        let sc = parse(&fit_toml(f), hours);
        let results = crate::analysis::run::run(&sc, 0, None);
        let m = results.pooled();
        let c = &m.classes[0];
        let rate = c.arrived as f64 / (hours as f64 * 3600.0);
        assert!(
            close(rate, f.arrivals.mean_rps, 0.03),
            "{}: simulated {rate} req/s, trace {}",
            f.trace,
            f.arrivals.mean_rps
        );
        let class = &sc.classes[0];
        for (dist, t, sum) in [
            (&class.input_tokens, &f.input_tokens, c.input_tokens),
            (&class.output_tokens, &f.output_tokens, c.output_tokens),
        ] {
            // The simulation's tokens per request average to the fitted
            // distribution's mean (what fit.md compares with the trace's).
            let per_request = sum as f64 / c.served as f64;
            assert!(
                close(per_request, dist.mean(), 0.02),
                "{}: {per_request} vs {}",
                f.trace,
                dist.mean()
            );
            // Medians: the sampler the simulation uses, drawn directly.
            let mut rng = stream(sc.seed, 0, Purpose::Tokens, 0);
            let mut v: Vec<u32> = (0..200_000).map(|_| dist.sample(&mut rng)).collect();
            v.sort_unstable();
            let median = v[v.len() / 2] as f64;
            let trace_median = t.quantile(50.0).unwrap();
            assert!(
                close(median, trace_median, 0.05),
                "{}: sampled median {median}, trace {trace_median}",
                f.trace
            );
        }
    }

    #[test]
    fn simulating_the_fit_regenerates_the_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("poisson.csv");
        write_trace(&path, &poisson_trace(17, 10.0, 3600.0));
        let f = fit(&path, csv_format(), 60.0).unwrap();
        simulate_and_compare(&f, 2);
    }

    #[test]
    fn write_fit_writes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bursty.csv");
        // Two hours at 2 requests/s, Gamma-Poisson per minute with k = 1: bursty.
        let rows = gamma_poisson_trace(3, |_| 2.0, 1.0, 60.0, 7200.0);
        write_trace(&path, &rows);
        let f = fit(&path, csv_format(), 60.0).unwrap();
        let dest = dir.path().join("code-fit");
        let out = write_fit(Staging::create(&dest).unwrap(), &f).unwrap();
        assert_eq!(out, dest);
        for file in FIT_FILES {
            let len = std::fs::metadata(dest.join(file)).unwrap().len();
            assert!(len > 500, "{file}: {len} bytes");
        }
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dest.join("fit.json")).unwrap()).unwrap();
        assert!(json["manifest"]["llmcap_version"].is_string());
        assert_eq!(json["requests"], rows.len());
        assert_eq!(json["arrivals"]["interval_s"], 60);
        // Every request has 100 input tokens: the fitted lognormal is that point.
        assert_eq!(json["input_tokens"]["lognormal"]["median"], 100.0);
        assert_eq!(json["input_tokens"]["lognormal"]["ks"], 0.0);
        let md = std::fs::read_to_string(dest.join("fit.md")).unwrap();
        assert!(md.contains("![trace against fit](fit.png)"));
        assert!(md.contains("bursty"));
        assert_eq!(
            std::fs::read_to_string(dest.join("fit.toml")).unwrap(),
            fit_toml(&f)
        );
        let lines = headline(&f);
        assert_eq!(lines.len(), 3);
        let n = count(rows.len() as f64);
        assert!(lines[0].contains(&format!("{n} requests")), "{}", lines[0]);
    }

    #[test]
    fn bad_rows_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad|name.csv");
        std::fs::write(&path, "t,in,out\n0,10,5\nnoon,1,1\n100,0,5\n130,10,5\n").unwrap();
        let f = fit(&path, csv_format(), 60.0).unwrap();
        let md = render(&f);
        assert!(md.contains("| unparsable time | 1 | 3 |"), "{md}");
        assert!(md.contains("1 requests have 0 tokens"), "{md}");
        assert!(fit_toml(&f).contains("1 bad row skipped"));
        // The file stem needs no escaping in TOML strings, but quotes would.
        let sc = parse(&fit_toml(&f), 1);
        assert_eq!(sc.classes[0].name, "bad|name");
        assert_eq!(headline(&f).len(), 4);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(5.530421, 5), "5.5304");
        assert_eq!(sig(1020.0, 5), "1020");
        assert_eq!(sig(2734.5, 12), "2734.5");
        assert_eq!(sig(0.000123456, 3), "0.000123");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(sig(123_456.0, 3), "123456");
        assert_eq!(tokens(5187.6), "5187.6");
        assert_eq!(fmt_tokens(1020.0), "1,020");
        assert_eq!(versus(90.0, 100.0), "10.0% below");
        assert_eq!(versus(102.0, 100.0), "close to");
        assert!(matches!(
            TokenDist::lognormal(10.0, 10.0, 5),
            TokenDist::LogNormal { sigma, .. } if sigma == 0.0
        ));
    }

    /// Writes the outputs of the shipped and synthetic traces to /tmp/llmcap_fit/ for a
    /// visual check: `cargo test --lib report::fit -- --ignored` (a public trace: `llmcap fit`).
    #[test]
    #[ignore]
    fn render_examples() {
        std::fs::create_dir_all("/tmp/llmcap_fit").unwrap();
        for (path, format) in traces(Path::new("/tmp/llmcap_fit")) {
            let f = fit(&path, format, DEFAULT_INTERVAL_S).unwrap();
            let dest = Path::new("/tmp/llmcap_fit").join(class_name(&f));
            let staging = Staging::create(&dest).unwrap();
            write_fit(staging, &f).unwrap();
            for l in headline(&f) {
                println!("{l}");
            }
        }
        // A synthetic week with a daily cycle and bursts, per 5 minutes.
        let path = Path::new("/tmp/llmcap_fit/synthetic_week.csv");
        let shape = shape_profile(14.0, 3.0);
        let rows = gamma_poisson_trace(
            1,
            |t| 2.0 * shape[((t / 3600.0) as usize) % 24],
            0.05,
            300.0,
            7.0 * 86_400.0,
        );
        write_trace(path, &rows);
        let f = fit(path, csv_format(), 300.0).unwrap();
        let dest = Path::new("/tmp/llmcap_fit/synthetic_week");
        write_fit(Staging::create(dest).unwrap(), &f).unwrap();
        for l in headline(&f) {
            println!("{l}");
        }
    }
}
