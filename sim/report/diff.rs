//! `llmcap diff` outputs: `diff.csv` (every ranked row), `diff.md` (headline,
//! top drivers, the attribution answer, the full ranking) and `diff.json`
//! (the manifest that marks the folder as llmcap's, and every row). Text and
//! bytes only, except [`write_diff`], which writes them into the staging folder
//! and moves it into place.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::diff::{
    Answer, BatchChange, BatchClass, Diff, Kind, PlatformAnswer, Row, Verdict, NATIVE_THRESHOLD,
};
use crate::error::OutputError;
use crate::format::{count, fixed, signed, usd_cents};
use crate::report::output::Staging;
use crate::report::tables::{finish, row};

/// The files a diff writes, in the order they are written.
pub const DIFF_FILES: &[&str] = &["diff.json", "diff.csv", "diff.md"];

/// The columns of `diff.csv`.
pub const COLUMNS: &[&str] = &[
    "rank",
    "kind",
    "key",
    "a_usd",
    "b_usd",
    "delta_usd",
    "share_of_change",
    "revealed_natively_by",
    "revealed_with_gateway",
    "note",
];

#[derive(Serialize)]
struct Manifest {
    llmcap_version: String,
    a: String,
    b: String,
}

#[derive(Serialize)]
struct DiffJson<'a> {
    manifest: Manifest,
    #[serde(flatten)]
    diff: &'a Diff,
}

/// `diff.json`: a manifest and the whole diff.
pub fn diff_json(d: &Diff) -> Result<Vec<u8>, OutputError> {
    serde_json::to_vec_pretty(&DiffJson {
        manifest: Manifest {
            llmcap_version: env!("CARGO_PKG_VERSION").to_string(),
            a: d.a.clone(),
            b: d.b.clone(),
        },
        diff: d,
    })
    .map_err(|e| OutputError::Encode {
        what: "diff.json",
        message: e.to_string(),
    })
}

/// `diff.csv`: every row, kinds in order, each kind ranked by |delta|.
pub fn diff_csv(d: &Diff) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "diff.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    row(&mut w, WHAT, COLUMNS)?;
    for r in &d.rows {
        row(
            &mut w,
            WHAT,
            [
                r.rank.to_string(),
                r.kind.name().to_string(),
                r.key.clone(),
                fixed(r.a_usd, 4),
                fixed(r.b_usd, 4),
                fixed(r.delta_usd, 4),
                fixed(r.share_of_change, 4),
                r.revealed_natively_by(),
                r.revealed_with_gateway.clone(),
                r.note.clone(),
            ],
        )?;
    }
    finish(w, WHAT)
}

fn signed_usd(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", usd_cents(v))
    } else {
        usd_cents(v)
    }
}

fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn fold(d: &Diff) -> String {
    match d.fold {
        Some(f) => format!("{f:.2}x"),
        None => "n/a (A cost nothing)".into(),
    }
}

/// The headline: totals, x-fold, traffic.
pub fn headline(d: &Diff) -> Vec<String> {
    let mut out = vec![format!(
        "cost {} -> {} per replication over {} h ({}, {})",
        usd_cents(d.a_total_usd),
        usd_cents(d.b_total_usd),
        d.hours,
        fold(d),
        signed_usd(d.delta_usd)
    )];
    let traffic = match d.request_change() {
        Some(c) if c.abs() < 0.005 => format!(
            "requests {} -> {} ({:+.1}%): no traffic change; the cost change is per request",
            count(d.a_requests),
            count(d.b_requests),
            c * 100.0
        ),
        Some(c) => format!(
            "requests {} -> {} ({:+.1}%)",
            count(d.a_requests),
            count(d.b_requests),
            c * 100.0
        ),
        None => format!(
            "requests {} -> {}",
            count(d.a_requests),
            count(d.b_requests)
        ),
    };
    out.push(traffic);
    out.push(service(d));
    out.extend(d.batch.iter().map(batch_line));
    out
}

/// A batch class's cost and completion against its window, A -> B (each run's whole horizon).
fn batch_line(c: &BatchChange) -> String {
    let one = |b: Option<&BatchClass>| match b {
        None => "none".to_string(),
        Some(b) => format!(
            "{} on \"{}\", {} of {} completed, p50 / p99 {} / {} h of a {:.0} h window{}",
            usd_cents(b.cost_usd),
            b.deployment,
            count(b.completed),
            count(b.requests),
            b.completion_p50_hours
                .map_or("n/a".into(), |h| format!("{h:.1}")),
            b.completion_p99_hours
                .map_or("n/a".into(), |h| format!("{h:.1}")),
            b.completion_window_hours,
            match (b.completion_sla_hours, b.within_sla_share) {
                (Some(s), Some(w)) => format!(", {:.1}% within its {s:.0} h target", w * 100.0),
                _ => String::new(),
            }
        ),
    };
    format!(
        "batch class {}: {} -> {} (each run's whole horizon)",
        c.class,
        one(c.a.as_ref()),
        one(c.b.as_ref())
    )
}

/// TTFT p99, availability and the requests lost, A -> B.
fn service(d: &Diff) -> String {
    let (a, b) = (&d.service.a, &d.service.b);
    let p99 = match (a.ttft_p99_ms, b.ttft_p99_ms) {
        (Some(x), Some(y)) => format!(
            "TTFT p99 {} -> {} ms ({} ms)",
            count(x),
            count(y),
            signed(y - x, 0)
        ),
        _ => "TTFT p99 not reported by both runs".into(),
    };
    let avail = match (a.availability, b.availability) {
        (Some(x), Some(y)) => format!(
            "availability {:.2}% -> {:.2}% ({:+.2} points)",
            x * 100.0,
            y * 100.0,
            (y - x) * 100.0
        ),
        _ => "availability not reported by both runs".into(),
    };
    format!(
        "{p99}; {avail}; errored {} -> {}, throttled {} -> {} per replication (each run's whole horizon)",
        count(a.errored),
        count(b.errored),
        count(a.throttled),
        count(b.throttled)
    )
}

/// The short ranked summary the CLI prints: the headline, then the `top`
/// largest rows of each kind.
pub fn summary(d: &Diff, top: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} vs {}", d.a, d.b);
    for l in headline(d) {
        let _ = writeln!(o, "  {l}");
    }
    for n in &d.notes {
        let _ = writeln!(o, "  note: {n}");
    }
    for kind in Kind::ALL {
        let rows: Vec<&Row> = d.of(kind).take(top).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(o, "{}:", kind.name());
        for r in rows {
            let line = format!(
                "  {:>2}. {:<48} {:>14} {:>7}  {}",
                r.rank,
                r.key,
                signed_usd(r.delta_usd),
                share(r.share_of_change),
                match kind {
                    Kind::Tag | Kind::Class => r.revealed_natively_by(),
                    _ => String::new(),
                }
            );
            let _ = writeln!(o, "{}", line.trim_end());
        }
    }
    o
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn table(o: &mut String, rows: &[&Row]) {
    let _ = writeln!(
        o,
        "| # | key | A | B | change | share | revealed natively by | with a gateway | note |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---|---|---|");
    for r in rows {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.rank,
            md_escape(&r.key),
            usd_cents(r.a_usd),
            usd_cents(r.b_usd),
            signed_usd(r.delta_usd),
            share(r.share_of_change),
            md_escape(&r.revealed_natively_by()),
            md_escape(&r.revealed_with_gateway),
            md_escape(&r.note)
        );
    }
}

fn hours(h: f64) -> String {
    crate::format::sig(h, 3)
}

/// `diff.md`.
pub fn diff_md(d: &Diff, top: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# llmcap diff: `{}` vs `{}`\n",
        d.a_scenario, d.b_scenario
    );
    let _ = writeln!(
        o,
        "- A: `{}` (scenario `{}`, {} h)",
        d.a, d.a_scenario, d.horizons.0
    );
    let _ = writeln!(
        o,
        "- B: `{}` (scenario `{}`, {} h)",
        d.b, d.b_scenario, d.horizons.1
    );
    let _ = writeln!(
        o,
        "\nValues are USD per replication over the {} hour(s) both runs simulated; every delta is B − A.\n",
        d.hours
    );
    let _ = writeln!(o, "## Headline\n");
    for l in headline(d) {
        let _ = writeln!(o, "- {}", capitalize(&l));
    }
    for n in &d.notes {
        let _ = writeln!(o, "- Note: {n}");
    }
    top_drivers(&mut o, d);
    which_bill(&mut o, d);
    full_ranking(&mut o, d, top);
    o
}

/// The three largest changes of each kind, and how much request volume explains.
fn top_drivers(o: &mut String, d: &Diff) {
    let _ = writeln!(o, "\n## Top drivers\n");
    for kind in [Kind::Class, Kind::Tag, Kind::Component, Kind::Deployment] {
        let rows: Vec<&Row> = d.of(kind).take(3).filter(|r| r.delta_usd != 0.0).collect();
        if rows.is_empty() {
            continue;
        }
        let list: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "`{}` {} ({})",
                    r.key,
                    signed_usd(r.delta_usd),
                    share(r.share_of_change)
                )
            })
            .collect();
        let _ = writeln!(o, "- By {}: {}", kind.name(), list.join(", "));
    }
    let traffic: f64 = d.of(Kind::Traffic).map(|r| r.delta_usd).sum();
    let _ = writeln!(
        o,
        "- Request volume explains {} ({}) of the change; the rest is cost per request.",
        signed_usd(traffic),
        share(if d.delta_usd != 0.0 {
            traffic / d.delta_usd
        } else {
            0.0
        })
    );
}

/// Which bill shows the culprit class, with and without each platform's cost attribution.
fn which_bill(o: &mut String, d: &Diff) {
    let _ = writeln!(o, "\n## Which bill shows it\n");
    match d.answer() {
        None => {
            let _ = writeln!(o, "Nothing changed: every delta is zero.");
        }
        Some(a) => {
            let _ = writeln!(
                o,
                "The culprit is class `{}` ({}, {} of the change){}.\n",
                a.culprit,
                signed_usd(a.culprit_delta_usd),
                share(a.culprit_share),
                a.tag_row
                    .as_ref()
                    .map(|t| format!(", tagged `{t}`"))
                    .unwrap_or_default()
            );
            for p in &a.platforms {
                platform_story(o, &a, p);
            }
            let _ = writeln!(
                o,
                "A tag row counts as shown natively when every platform that served it splits that dimension \
                 natively for at least {:.0}% of its cost in both runs (`attribution.csv`).",
                NATIVE_THRESHOLD * 100.0
            );
        }
    }
}

/// What one platform's bill shows of the culprit, without and with its attribution mechanism.
fn platform_story(o: &mut String, a: &Answer, p: &PlatformAnswer) {
    let v = &p.view;
    let mech = if v.mechanism.is_empty() {
        "its native attribution".to_string()
    } else {
        v.mechanism.clone()
    };
    let _ = writeln!(o, "### {}\n", p.platform);
    let _ = write!(o, "**Without {mech}:** the default bill");
    if !v.default_view.is_empty() {
        let _ = write!(o, " ({})", v.default_view);
    }
    match &p.component {
        Some(c) => {
            let _ = write!(
                o,
                " narrows it to one line, `{c}` ({}, {} of the change)",
                signed_usd(p.component_delta_usd),
                share(p.component_share)
            );
        }
        None => {
            let _ = write!(o, " shows the total only");
        }
    }
    if let Some((day, delta)) = p.day {
        if v.granularity_hours >= 24.0 {
            let _ = write!(o, ", and to day {day} ({})", signed_usd(delta));
        }
    }
    let _ = write!(o, ". ");
    if p.shared_by.len() > 1 {
        let _ = writeln!(
            o,
            "That line is shared by {} classes ({}), so the bill cannot say which one changed. \
             Next step: per-request logs (the platform's model-invocation or diagnostic logs, grouped \
             by caller and prompt size) or a gateway that stamps team / product / feature on every request.\n",
            p.shared_by.len(),
            p.shared_by.join(", ")
        );
    } else {
        let _ = writeln!(
            o,
            "Only `{}` uses that line, so the bill already points at it.\n",
            p.shared_by.first().map_or("one class", |s| s.as_str())
        );
    }
    let _ = write!(o, "**With {mech}:** ");
    match p.native {
        Verdict::Native => {
            let _ = write!(
                o,
                "the cost report splits `{}` out natively ({}).",
                a.tag_row.as_deref().unwrap_or(&a.culprit),
                p.native_text
            );
            match p.hours_to_show {
                Some(h) => {
                    let _ = writeln!(
                        o,
                        " It shows about {} h after the change starts ({} h delay + {} h granularity), \
                         if the tags were set up before: cost allocation tags are not retroactive.\n",
                        hours(h),
                        hours(v.latency_hours.unwrap_or(0.0)),
                        hours(v.granularity_hours)
                    );
                }
                None => {
                    let _ = writeln!(o, "\n");
                }
            }
        }
        Verdict::Gateway => {
            let _ = writeln!(
                o,
                "not enough: {}. A gateway that stamps tags on each request would show it.\n",
                p.native_text
            );
        }
        Verdict::No => {
            let _ = writeln!(o, "not enough: {}.\n", p.native_text);
        }
        Verdict::Unknown => {
            let _ = writeln!(o, "{}.\n", p.native_text);
        }
    }
}

/// Every row, ranked within its kind.
fn full_ranking(o: &mut String, d: &Diff, top: usize) {
    let _ = writeln!(o, "\n## Full ranking\n");
    let _ = writeln!(
        o,
        "Each kind is ranked by the absolute change; the rows of one kind (of one tag dimension) add up to the total change. \
         `traffic` rows: B's requests at A's cost per request (the part of a class's change that volume explains)."
    );
    for kind in Kind::ALL {
        let rows: Vec<&Row> = d.of(kind).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n### {}\n", kind.name());
        let shown: Vec<&Row> = if kind == Kind::Hour {
            rows.iter().take(top.max(24)).copied().collect()
        } else {
            rows.clone()
        };
        table(o, &shown);
        if shown.len() < rows.len() {
            let _ = writeln!(
                o,
                "\n{} more hour(s) in diff.csv.",
                rows.len() - shown.len()
            );
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Writes `diff.json`, `diff.csv` and `diff.md` into `staging` and moves it into place.
pub fn write_diff(staging: Staging, d: &Diff, top: usize) -> Result<PathBuf, OutputError> {
    staging.write("diff.json", &diff_json(d)?)?;
    staging.write("diff.csv", &diff_csv(d)?)?;
    staging.write("diff.md", diff_md(d, top).as_bytes())?;
    staging.commit()
}
