//! What llmcap prints to a terminal: lines of prose, each wrapped to fit
//! [`WIDTH`] columns. The CLI prints only through [`wrap`] (and [`validate`] builds
//! `llmcap validate`'s lines), so every command's headlines fit a review
//! screen-share and a 100-column terminal.
//!
//! Wrapping breaks at spaces only: a file path or a key path is never split, so a
//! path longer than a line stays whole (and can be copied). Continuation lines
//! get the line's own indent plus two spaces, so a wrapped item reads as one.

use crate::analysis::pick::Profile;
use crate::analysis::sweep::Sweep;
use crate::domain::{Pool, Scenario};
use crate::format::{count, grouped, ms, sig};

/// Columns a line may take: wide enough for a key path and its value, narrow
/// enough for a side-by-side editor or a shared screen.
pub const WIDTH: usize = 100;

/// `line` wrapped to [`WIDTH`] columns on word boundaries, with a hanging
/// indent; lines already short enough come back unchanged.
pub fn wrap(line: &str) -> String {
    wrap_to(line, WIDTH)
}

/// [`wrap`] to `width` columns (at least 20).
pub fn wrap_to(line: &str, width: usize) -> String {
    let width = width.max(20);
    line.lines()
        .map(|l| {
            if textwrap::core::display_width(l) <= width {
                return l.to_string();
            }
            let indent = &l[..l.len() - l.trim_start().len()];
            let hanging = format!("{indent}  ");
            let options = textwrap::Options::new(width)
                .initial_indent(indent)
                .subsequent_indent(&hanging)
                .break_words(false)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .word_separator(textwrap::WordSeparator::AsciiSpace);
            textwrap::fill(l.trim_start(), options)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `llmcap validate`'s summary of a valid scenario: what will be simulated and
/// roughly how much work it is, one item per line (before wrapping).
pub fn validate(file: &str, sc: &Scenario) -> Vec<String> {
    let mut out = vec![format!(
        "{file}: valid scenario \"{}\": {} class(es), {} deployment(s), {} h horizon, {} replication(s), seed {}",
        sc.name,
        sc.classes.len(),
        sc.deployments.len(),
        count(sc.horizon_hours as f64),
        count(sc.replications as f64),
        sc.seed
    )];
    let mut per_rep = 0.0;
    for c in &sc.classes {
        let route: Vec<&str> = c
            .route
            .iter()
            .map(|&d| sc.deployments[d].name.as_str())
            .collect();
        let expected = c.expected_arrivals(sc.horizon_hours, sc.start_date);
        per_rep += expected;
        let rate = match &c.trace {
            Some(_) => format!(
                "{} req/s on average (trace)",
                rate(expected / (sc.horizon_hours as f64 * 3600.0))
            ),
            None => match c.arrivals.growth.describe() {
                None => format!("{} req/s mean", rate(c.arrivals.mean_rps)),
                Some(g) => format!(
                    "{} req/s mean at the start, {g}, {} req/s on average",
                    rate(c.arrivals.mean_rps),
                    rate(expected / (sc.horizon_hours as f64 * 3600.0))
                ),
            },
        };
        out.push(format!(
            "  class {}: {rate}, ~{} requests per replication, route {}",
            c.name,
            count(expected),
            route.join(" -> ")
        ));
    }
    out.push(format!(
        "  estimated work: ~{} requests to simulate ({} replication(s) x ~{} requests)",
        count(per_rep * sc.replications as f64),
        count(sc.replications as f64),
        count(per_rep)
    ));
    for d in &sc.deployments {
        let size = match &d.pool {
            Pool::Reserved(r) => format!(", {} units, {} term", count(r.units as f64), r.term),
            Pool::OnDemand(_) => String::new(),
        };
        out.push(format!(
            "  deployment {}: {} {} ({}{size})",
            d.name,
            d.platform,
            d.model,
            d.pool.kind()
        ));
    }
    out
}

/// `llmcap validate`'s line for a scenario's `[sweep]`: its points, their work
/// and the pair a break-even is computed for.
pub fn validate_sweep(sw: &Sweep, sc: &Scenario) -> String {
    let v = &sw.spec.values;
    let work: f64 = sw
        .points
        .iter()
        .flat_map(|p| {
            p.classes
                .iter()
                .map(|c| c.expected_arrivals(p.horizon_hours, p.start_date) * p.replications as f64)
        })
        .sum();
    let value = |x: Option<&f64>| x.map_or_else(|| "-".to_string(), |v| sig(*v, 6));
    format!(
        "  sweep {}: {} point(s) from {} to {}, ~{} requests to simulate; break-even: {}",
        sw.spec.key,
        count(v.len() as f64),
        value(v.first()),
        value(v.last()),
        count(work),
        match &sw.pair {
            Ok(p) => format!(
                "{} against {}",
                sc.deployments[p.reserved].name, sc.deployments[p.compare].name
            ),
            Err(why) => format!("none ({why})"),
        }
    )
}

/// `llmcap validate`'s summary of a workload profile, checked as `pick` checks it.
pub fn validate_profile(file: &str, p: &Profile) -> Vec<String> {
    let mut needs: Vec<String> = Vec::new();
    if let Some(s) = &p.sla {
        needs.push(format!(
            "TTFT p{} <= {}",
            sig(s.percentile, 5),
            ms(s.ttft_ms)
        ));
    }
    if p.baa {
        needs.push("a BAA".into());
    }
    if let Some(r) = &p.residency {
        needs.push(format!("residency {r}"));
    }
    if p.two_provider {
        needs.push("two providers".into());
    }
    needs.extend(p.certifications.iter().cloned());
    let mut out = vec![format!(
        "{file}: valid workload profile \"{}\" (for `llmcap pick`): {} workload(s); needs {}; {} h horizon, {} replication(s), seed {}",
        p.name,
        p.workloads.len(),
        if needs.is_empty() { "nothing in particular".into() } else { needs.join(", ") },
        count(p.horizon_hours as f64),
        count(p.replications as f64),
        p.seed
    )];
    for w in &p.workloads {
        out.push(format!(
            "  workload {}: model {}, {} requests/s on average ({} at the peak hour), ~{} input / ~{} output tokens per request",
            w.name,
            w.models.join(" or "),
            rate(w.mean_rps),
            rate(w.peak_rps),
            count(w.mean_input_tokens),
            count(w.mean_output_tokens)
        ));
    }
    out
}

/// A request rate for prose: four significant digits below 1,000 req/s
/// ("2,566" not "2566.3955543359107"), grouped whole numbers above.
pub fn rate(rps: f64) -> String {
    if rps.abs() >= 1000.0 {
        grouped(rps, 0)
    } else {
        sig(rps, 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_unchanged() {
        assert_eq!(wrap("baseline: ok"), "baseline: ok");
        assert_eq!(wrap("  indented: ok"), "  indented: ok");
    }

    #[test]
    fn long_lines_wrap_with_a_hanging_indent_within_the_width() {
        let words: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
        let line = format!("  class a: {}", words.join(" "));
        let wrapped = wrap_to(&line, 40);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("  class a: word0"));
        for l in &lines[1..] {
            assert!(l.starts_with("    word"), "{l:?}");
        }
        for l in &lines {
            assert!(l.chars().count() <= 40, "{l:?} is {} columns", l.len());
        }
        // Nothing lost, nothing added but line breaks and indents.
        let joined: Vec<&str> = wrapped.split_whitespace().collect();
        let original: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(joined, original);
    }

    #[test]
    fn a_path_longer_than_the_line_is_never_split() {
        let path = format!("/tmp/{}/report.md", "x".repeat(120));
        let line = format!("Error: {path}: cannot read");
        let wrapped = wrap(&line);
        assert!(wrapped.lines().any(|l| l.contains(&path)), "{wrapped}");
    }

    #[test]
    fn dates_and_key_paths_are_never_split_at_hyphens() {
        let line = format!(
            "{} retired on 2026-06-15 deployment.ptu-east.reserved.units",
            "x ".repeat(45)
        );
        for width in 20..110 {
            let wrapped = wrap_to(&line, width);
            assert!(wrapped.contains("2026-06-15"), "{width}: {wrapped}");
            assert!(
                wrapped.contains("deployment.ptu-east.reserved.units"),
                "{width}: {wrapped}"
            );
        }
    }

    #[test]
    fn rates_read_as_a_planner_writes_them() {
        assert_eq!(rate(2566.3955543359107), "2,566");
        assert_eq!(rate(2.0), "2");
        assert_eq!(rate(1.30534), "1.305");
        assert_eq!(rate(0.0123456), "0.01235");
    }
}
