//! `report.md`: a short review document with the assumptions, the headline
//! numbers and the charts. Text only; no I/O.

use std::fmt::Write;

use crate::domain::limits::MAX_TRACKED_QUEUE;
use crate::format::{count, fixed_ci, usd_cents, usd_ci, usd_pm};
use crate::report::plots::Bucket;

/// A backlog at the horizon longer than this (seconds of work at full capacity)
/// is reported as an overloaded pool rather than a busy one.
const OVERLOAD_BACKLOG_S: f64 = 60.0;
use crate::domain::ArrivalProcess;
use crate::domain::{Pool, Scenario, WEEKDAYS};
use crate::report::summary::{Percentile, Summary};

fn pct_label(p: f64) -> String {
    format!("p{}", p)
}

fn percentile_cell(p: &Percentile) -> String {
    match p.replications {
        Some(c) if c.n > 1 => format!("{} ± {}", count(c.mean), count(c.half_width())),
        Some(c) => count(c.mean),
        None => "–".into(),
    }
}

/// Availability, incidents, failover and the cost of redundancy; only when
/// the scenario has outages, a gateway cooldown or routes across platforms.
fn resilience(o: &mut String, sc: &Scenario, s: &Summary) {
    let multi = sc.classes.iter().any(|c| {
        c.route
            .iter()
            .any(|&d| sc.deployments[d].platform != sc.deployments[c.route[0]].platform)
    });
    if sc.outages.is_empty() && sc.gateway.cooldown.is_none() && !multi {
        return;
    }
    let r = &s.resilience;
    let _ = writeln!(o, "## Availability and failover\n");
    let _ = writeln!(o, "| metric | value |\n| --- | --- |");
    let _ = writeln!(
        o,
        "| availability (served / arrived) | {} |",
        fixed_ci(&r.availability.map(|c| c.scaled(100.0)), 3, "%")
    );
    if !sc.outages.is_empty() {
        let _ = writeln!(
            o,
            "| hours with an outage, per replication | {:.2} |",
            r.incident_hours
        );
    }
    for (inside, outside) in r
        .ttft_in_incident_ms
        .iter()
        .zip(&r.ttft_outside_incident_ms)
    {
        if sc.outages.is_empty() {
            break;
        }
        let cell = |v: Option<f64>| v.map(|x| format!("{} ms", count(x))).unwrap_or("–".into());
        let _ = writeln!(
            o,
            "| TTFT {} during outages / outside | {} / {} |",
            pct_label(inside.percentile),
            cell(inside.pooled),
            cell(outside.pooled)
        );
    }
    let shares: Vec<String> = r
        .platform_share
        .iter()
        .map(|(p, v)| format!("{p} {:.1}%", v * 100.0))
        .collect();
    let _ = writeln!(
        o,
        "| served requests per platform | {} |",
        shares.join(", ")
    );
    let _ = writeln!(
        o,
        "| requests rescued by failover, per replication | {} |",
        count(r.rescued)
    );
    let _ = writeln!(
        o,
        "| their cost on the deployments that served them | {} |",
        usd_cents(r.rescued_cost_usd)
    );
    if !r.standby.is_empty() {
        let _ = writeln!(
            o,
            "| standby reserved capacity ({}) | {} over the horizon |",
            r.standby.join(", "),
            usd_cents(r.standby_reserved_usd)
        );
    }
    let redundancy = r.rescued_cost_usd + r.standby_reserved_usd;
    if r.rescued > 0.0 {
        let _ = writeln!(
            o,
            "| cost of redundancy per rescued request | {} |",
            usd_cents(redundancy / r.rescued)
        );
    }
    let _ = writeln!(o);
    if !r.outages.is_empty() {
        let _ = writeln!(o, "Outages:\n");
        for x in &r.outages {
            let _ = writeln!(
                o,
                "- **{}** on {}: {}, {}.",
                x.name,
                x.deployments.join(", "),
                x.schedule,
                x.effect
            );
        }
        let _ = writeln!(o);
    }
    let rows: Vec<&crate::report::summary::DeploymentSummary> = s
        .deployments
        .iter()
        .filter(|d| d.errors > 0.0 || d.cooldowns > 0.0 || d.rescued > 0.0)
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(o, "| deployment | errors | times in cooldown | attempts skipped in cooldown | rescued requests served |");
        let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: |");
        for d in rows {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                d.name,
                count(d.errors),
                count(d.cooldowns),
                count(d.skipped_cooldown),
                count(d.rescued)
            );
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "Rescued requests would have failed without the fallback (the route, the gateway cooldown and the client's retries found them another deployment). The cost of redundancy counts the standby reserved units (reserved deployments that are never first on a route) and what the rescued requests cost where they were served; it leaves out any price difference against the primary, which was down.\n");
}

/// Renders the report.
pub fn render(sc: &Scenario, s: &Summary) -> String {
    let mut o = String::new();
    header(&mut o, sc, s);
    headline(&mut o, sc, s);
    classes_table(&mut o, sc, s);
    deployments_table(&mut o, sc, s);
    queueing_checks(&mut o, s);
    resilience(&mut o, sc, s);
    crate::report::attribution::section(&mut o, &s.attribution);
    if let Some(b) = &s.batch {
        crate::report::batch::section(&mut o, b);
    }
    charts(&mut o, sc);
    class_assumptions(&mut o, sc);
    deployment_assumptions(&mut o, sc);
    closing(&mut o, sc);
    o
}

/// The title, what was run and how to read the numbers.
fn header(o: &mut String, sc: &Scenario, s: &Summary) {
    let m = &s.manifest;
    let _ = writeln!(o, "# llmcap report: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let _ = writeln!(
        o,
        "Scenario `{}` (SHA-256 `{}`), seed {}, {} replication(s) of {} simulated hour(s) ({:.1} days, starting {} {} 00:00 UTC), llmcap {}. \
         Counts are means per replication{}. {}.\n",
        m.scenario_file,
        &m.scenario_sha256[..16.min(m.scenario_sha256.len())],
        m.seed,
        m.replications,
        m.horizon_hours,
        m.horizon_hours as f64 / 24.0,
        WEEKDAYS[sc.start_weekday as usize],
        crate::domain::time::format_date(sc.start_date),
        m.llmcap_version,
        if m.replications > 1 {
            "; ± and CIs are 95% confidence intervals over replications: Student t for times and \
             costs (never below 0) and utilization (within 0–100%), Wilson score for shares of \
             requests (availability, SLA attainment)"
        } else {
            " (one replication: no confidence intervals; use more replications for them)"
        },
        m.ttft_histogram
    );
}

/// The headline table: requests, TTFT, SLAs, cost and utilization.
fn headline(o: &mut String, sc: &Scenario, s: &Summary) {
    let _ = writeln!(o, "## Headline\n");
    for group in sc.alternatives() {
        let _ = writeln!(
            o,
            "> Classes {} share one random stream: they are the same traffic under alternative set-ups. \
             Totals below add the alternatives together; compare them per class and per deployment.\n",
            group.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let r = &s.requests;
    let _ = writeln!(o, "| metric | value |\n| --- | --- |");
    let _ = writeln!(o, "| requests arrived | {} |", count(r.arrived));
    let share = |x: f64| {
        if r.arrived > 0.0 {
            100.0 * x / r.arrived
        } else {
            0.0
        }
    };
    let _ = writeln!(
        o,
        "| served | {} ({:.3}%) |",
        count(r.served),
        share(r.served)
    );
    let _ = writeln!(
        o,
        "| served after spilling to a later deployment | {} ({:.3}%) |",
        count(r.spilled),
        share(r.spilled)
    );
    let _ = writeln!(
        o,
        "| throttled (429 on every attempt) | {} ({:.3}%) |",
        count(r.throttled),
        share(r.throttled)
    );
    let _ = writeln!(
        o,
        "| failed (client timeout) | {} ({:.3}%): {} too slow once admitted, {} given up during backoff |",
        count(r.failed),
        share(r.failed),
        count(r.failed - r.abandoned),
        count(r.abandoned)
    );
    if r.errored > 0.0 || !sc.outages.is_empty() {
        let _ = writeln!(
            o,
            "| failed on errors (outage or every deployment in cooldown) | {} ({:.3}%) |",
            count(r.errored),
            share(r.errored)
        );
        let _ = writeln!(
            o,
            "| rescued by failover (served after an error elsewhere) | {} ({:.3}%) |",
            count(r.rescued),
            share(r.rescued)
        );
    }
    let _ = writeln!(o, "| in flight at the horizon | {} |", count(r.in_flight));
    let _ = writeln!(o, "| client retries | {} |", count(r.retries));
    for p in &s.ttft_ms {
        let _ = writeln!(
            o,
            "| TTFT {} | {} |",
            pct_label(p.percentile),
            fixed_ci(&p.replications, 1, " ms")
        );
    }
    for sla in &s.sla {
        let _ = writeln!(
            o,
            "| SLA `{}`: p{} ≤ {:.0} ms | {} — attainment {}, p{} = {} |",
            sla.class,
            sla.percentile,
            sla.target_ms,
            match (sla.met, sla.attainment.is_some()) {
                (_, false) => "no requests arrived",
                (true, true) => "**met**",
                (false, true) => "**missed**",
            },
            fixed_ci(&sla.attainment.map(|c| c.scaled(100.0)), 3, "%"),
            sla.percentile,
            fixed_ci(&sla.ttft_at_percentile_ms, 1, " ms"),
        );
    }
    let _ = writeln!(
        o,
        "| total cost over the horizon | {} |",
        usd_ci(&s.cost.total_usd)
    );
    let _ = writeln!(o, "| on-demand cost | {} |", usd_ci(&s.cost.on_demand_usd));
    if sc
        .classes
        .iter()
        .any(|c| c.cached_input_share + c.cache_write_share > 0.0)
    {
        let _ = writeln!(
            o,
            "| of which cached input (cache reads and writes; the rest is uncached input and output) | {} |",
            usd_ci(&s.cost.cached_input_usd)
        );
    }
    let _ = writeln!(
        o,
        "| reserved cost (billed whether used or not) | {} |",
        usd_ci(&s.cost.reserved_usd)
    );
    // The same every replication: units deployed beyond a reservation, at the hourly price
    // of each hour.
    let overage: f64 = sc
        .deployments
        .iter()
        .map(|d| crate::analysis::cost::reserved_overage_cost(d, sc.horizon_hours))
        .sum();
    if overage > 0.0 {
        let _ = writeln!(
            o,
            "| of which units deployed beyond the reservation (billed at the hourly price) | {} |",
            usd_cents(overage)
        );
    }
    let _ = writeln!(
        o,
        "| effective cost per 1M tokens (input + output) | {} |",
        usd_ci(&s.cost.per_1m_tokens_usd)
    );
    let _ = writeln!(
        o,
        "| cost per 1k requests served | {} |",
        usd_ci(&s.cost.per_1k_requests_usd)
    );
    if let Some(u) = s.reserved_utilization {
        let _ = writeln!(
            o,
            "| mean reserved utilization | {} |",
            fixed_ci(&Some(u.scaled(100.0)), 1, "%")
        );
    }
    let _ = writeln!(o);
}

/// Per-class counts and TTFT percentiles, when there are several classes.
fn classes_table(o: &mut String, sc: &Scenario, s: &Summary) {
    if sc.classes.len() > 1 {
        let _ = writeln!(o, "## Classes\n");
        let mut header =
            String::from("| class | arrived | served | spilled | throttled | failed | in flight |");
        let mut rule = String::from("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for p in &sc.percentiles {
            let _ = write!(header, " TTFT {} (ms) |", pct_label(*p));
            rule.push_str(" ---: |");
        }
        let _ = writeln!(o, "{header}\n{rule}");
        for c in &s.classes {
            let r = &c.requests;
            let mut line = format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                c.name,
                count(r.arrived),
                count(r.served),
                count(r.spilled),
                count(r.throttled),
                count(r.failed),
                count(r.in_flight)
            );
            for p in &c.ttft_ms {
                let _ = write!(line, " {} |", percentile_cell(p));
            }
            let _ = writeln!(o, "{line}");
        }
        let _ = writeln!(o);
    }
}

/// Per-deployment counts, cost and TTFT, then each reserved pool's utilization and queue.
fn deployments_table(o: &mut String, sc: &Scenario, s: &Summary) {
    let _ = writeln!(o, "## Deployments\n");
    let mut header =
        String::from("| deployment | platform / model | pool | served | 429s | cost |");
    let mut rule = String::from("| --- | --- | --- | ---: | ---: | ---: |");
    for p in &sc.percentiles {
        let _ = write!(header, " TTFT {} (ms) |", pct_label(*p));
        rule.push_str(" ---: |");
    }
    let _ = writeln!(o, "{header}\n{rule}");
    for d in &s.deployments {
        let mut line = format!(
            "| {} | {} / {} | {} | {} | {} | {} |",
            d.name,
            d.platform,
            d.model,
            d.pool,
            count(d.served),
            count(d.rejected_429),
            usd_pm(&d.cost_usd)
        );
        for p in &d.ttft_ms {
            let _ = write!(line, " {} |", percentile_cell(p));
        }
        let _ = writeln!(o, "{line}");
    }
    let _ = writeln!(o);
    for d in s.deployments.iter().filter(|d| d.pool == "reserved") {
        let _ = writeln!(
            o,
            "- `{}`: utilization {}; mean wait for a slot {:.1} ms; {:.2}% of admitted requests waited; mean queue seen on arrival {}.{}",
            d.name,
            fixed_ci(&d.reserved_utilization.map(|c| c.scaled(100.0)), 1, "%"),
            d.mean_queue_wait_ms.unwrap_or(0.0),
            100.0 * d.share_waited.unwrap_or(0.0),
            d.mean_queue_length_seen
                .map(|q| format!("{q:.3}"))
                .unwrap_or_else(|| format!("over {} (not tracked further)", count(MAX_TRACKED_QUEUE as f64))),
            match d.backlog_at_horizon_s {
                Some(b) if b >= OVERLOAD_BACKLOG_S => format!(
                    " **Overloaded:** {} request(s) per replication were still waiting for a slot when the run ended (counted in flight), {:.0} s of work at full capacity; add units, a queue or wait bound, or a spillover deployment.",
                    count(d.queued_at_horizon),
                    b
                ),
                _ if d.queued_at_horizon > 0.0 => format!(
                    " {:.1} request(s) per replication were still waiting for a slot when the run ended (counted in flight).",
                    d.queued_at_horizon
                ),
                _ => String::new(),
            },
        );
    }
    for d in &s.deployments {
        let Some(r) = &d.reserved_rate else { continue };
        let pct = |u: Option<f64>| u.map_or("–".to_string(), |u| format!("{:.1}%", 100.0 * u));
        let used = match r.measure {
            "spend" => format!("spend {}", pct(r.utilization_spend)),
            _ => format!(
                "input {}, output {}",
                pct(r.utilization_input),
                pct(r.utilization_output)
            ),
        };
        let _ = writeln!(
            o,
            "- `{}`: token-rate reservation (`{}` term): commitment {} (paid whether used or not) + overflow {} at list price; {} request(s) covered, {} overflowed to the on-demand tier; used {used}.",
            d.name,
            r.term,
            usd_cents(r.commitment_usd),
            usd_cents(r.overflow_usd),
            count(r.covered_requests),
            count(r.overflow_requests),
        );
    }
    let _ = writeln!(o);
}

/// Erlang C against the simulation for every deployment that is an M/M/c queue.
fn queueing_checks(o: &mut String, s: &Summary) {
    for d in &s.deployments {
        let Some(t) = &d.mmc_theory else { continue };
        let sim = |v: Option<f64>| v.unwrap_or(0.0);
        let dev = |sim: f64, theory: f64| 100.0 * (sim - theory) / theory;
        let _ = writeln!(
            o,
            "### Queueing-theory check: `{}` is an M/M/{} queue\n\n\
             λ = {} req/s, μ = {:.4} per slot per s, ρ = {:.4}. Erlang C against the simulation:\n\n\
             | quantity | theory | simulated | difference |\n| --- | ---: | ---: | ---: |\n\
             | P(wait) | {:.4} | {:.4} | {:+.2}% |\n\
             | mean wait in queue Wq (ms) | {:.2} | {:.2} | {:+.2}% |\n\
             | mean queue length Lq = λ·Wq | {:.4} | {:.4} | {:+.2}% |\n",
            d.name,
            t.servers,
            t.lambda,
            t.mu,
            t.rho,
            t.p_wait,
            sim(d.share_waited),
            dev(sim(d.share_waited), t.p_wait),
            t.mean_wait_ms,
            sim(d.mean_queue_wait_ms),
            dev(sim(d.mean_queue_wait_ms), t.mean_wait_ms),
            t.mean_queue_length,
            sim(d.mean_queue_length_seen),
            dev(sim(d.mean_queue_length_seen), t.mean_queue_length),
        );
    }
}

/// The charts beside the report.
fn charts(o: &mut String, sc: &Scenario) {
    let _ = writeln!(o, "## Charts\n");
    let _ = writeln!(
        o,
        "TTFT distribution per deployment and class (log scale):\n\n![TTFT CDF](ttft_cdf.png)\n"
    );
    let per = Bucket::for_run(sc.horizon_hours).noun();
    let _ = writeln!(o, "Cost per simulated {per} by deployment and pool, with reserved utilization:\n\n![hourly cost](hourly_cost.png)\n");
    let _ = writeln!(
        o,
        "Arrivals per simulated {per} by request class:\n\n![traffic](traffic.png)\n"
    );
    let _ = writeln!(
        o,
        "Per simulated {per}: share of served requests per platform, failed requests and p99 TTFT, outages shaded:\n\n![failover](failover.png)\n"
    );
}

/// The request classes as the scenario describes them.
fn class_assumptions(o: &mut String, sc: &Scenario) {
    let _ = writeln!(o, "## Assumptions (from the scenario file)\n");
    let _ = writeln!(o, "### Request classes\n");
    for c in &sc.classes {
        if let Some(t) = &c.trace {
            let st = &t.stats;
            let _ = writeln!(
                o,
                "- **{}** (model `{}`, route {}): replays `{}` (format {}): {} usable requests over {:.0} s of trace{}, mean {:.0} input / {:.0} output tokens; time scale ×{}, rate scale ×{}, first request at {} s{}; {}.{}",
                c.name,
                c.model,
                c.route.iter().map(|&d| format!("`{}`", sc.deployments[d].name)).collect::<Vec<_>>().join(" → "),
                t.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                t.format.name(),
                count(st.requests as f64),
                st.last_s - st.first_s,
                t.model.as_ref().map(|m| format!(" (model column = `{m}`)")).unwrap_or_default(),
                st.mean_input,
                st.mean_output,
                t.time_scale,
                t.rate_scale,
                t.offset_us as f64 / 1e6,
                if t.tile { ", tiled to the horizon" } else { "" },
                if st.bad_rows > 0 {
                    format!("{} unusable rows skipped (first: {})", st.bad_rows, st.bad_examples.first().cloned().unwrap_or_default())
                } else {
                    "no unusable rows".to_string()
                },
                c.sla.map(|s| format!(" SLA: p{} TTFT ≤ {:.0} ms.", s.percentile, s.ttft_us as f64 / 1000.0)).unwrap_or_default(),
            );
            continue;
        }
        let a = &c.arrivals;
        let peak = a.hourly.iter().cloned().fold(0.0, f64::max);
        let trough = a.hourly.iter().cloned().fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            o,
            "- **{}** (model `{}`, route {}): {} arrivals, mean {} req/s (expected {} over the horizon); hour-of-day peak/trough {:.2}/{:.2} of the mean; {} {}; overdispersion {}{}. Input tokens: {}{}. Output tokens: {}.{}{}",
            c.name,
            c.model,
            c.route.iter().map(|&d| format!("`{}`", sc.deployments[d].name)).collect::<Vec<_>>().join(" → "),
            match a.process { ArrivalProcess::Poisson => "Poisson", ArrivalProcess::Deterministic => "deterministic" },
            a.mean_rps,
            count(a.expected_arrivals(sc.horizon_hours, sc.start_date)),
            peak,
            trough,
            if a.hour_of_week.is_some() { "an hour-of-week profile (168 multipliers), whose day averages are" } else { "day-of-week factors" },
            a.weekday.iter().map(|w| format!("{w:.2}")).collect::<Vec<_>>().join(", "),
            a.overdispersion,
            if a.overdispersion > 0.0 { format!(" per {} s interval", a.burst_interval_s) } else { String::new() },
            c.input_tokens.describe(),
            cache_shares(c),
            c.output_tokens.describe(),
            c.sla.map(|s| format!(" SLA: p{} TTFT ≤ {:.0} ms.", s.percentile, s.ttft_us as f64 / 1000.0)).unwrap_or_default(),
            if c.tags.is_empty() { String::new() } else {
                format!(" Tags: {}.", c.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
            },
        );
    }
}

/// ", 60% read from the prompt cache, 10% written to it" for a class with prompt caching.
fn cache_shares(c: &crate::domain::Class) -> String {
    let mut s = String::new();
    if c.cached_input_share > 0.0 {
        let _ = write!(
            s,
            ", {}% read from the prompt cache",
            c.cached_input_share * 100.0
        );
    }
    if c.cache_write_share > 0.0 {
        let _ = write!(s, ", {}% written to it", c.cache_write_share * 100.0);
    }
    s
}

/// ", $0.3/1M cached input, $3.75/1M cache writes" where they differ from the input price.
fn cache_prices(p: &crate::domain::OnDemand) -> String {
    let mut s = String::new();
    if p.cached_input_per_1m != p.input_per_1m {
        let _ = write!(s, ", ${}/1M cached input", p.cached_input_per_1m);
    }
    if p.cache_write_per_1m != p.input_per_1m {
        let _ = write!(s, ", ${}/1M cache writes", p.cache_write_per_1m);
    }
    s
}

/// How a deployment's quotas are enforced (`on_demand.quota`), said only for the vendors'
/// shapes: the default buckets read as before.
fn quota_shape(q: &crate::domain::Quota) -> String {
    use crate::domain::Quota;
    match *q {
        Quota::Bucket => String::new(),
        Quota::Azure { rpm_window_s } => format!(
            " as Azure enforces them (RPM in {rpm_window_s} s windows, TPM per clock minute counting input + max_tokens)"
        ),
        Quota::Anthropic { itpm, otpm, .. } => format!(
            " as Anthropic enforces them ({} ITPM, {} OTPM; output reserved at max_tokens)",
            itpm.map(count).unwrap_or("no".into()),
            otpm.map(count).unwrap_or("no".into()),
        ),
        Quota::Bedrock { output_burndown } => format!(
            " as Bedrock enforces them (input + max_tokens reserved, output tokens counted x{output_burndown} at the end)"
        ),
        Quota::Vertex => " as Vertex AI enforces them (TPM counts input tokens)".into(),
    }
}

/// An on-demand deployment's token-rate reservation as the scenario describes it.
fn rate_assumption(p: &crate::domain::OnDemand) -> String {
    let Some(r) = &p.reserved_rate else {
        return String::new();
    };
    let what = match r.measure {
        crate::domain::RateMeasure::Tokens {
            input_tpm,
            output_tpm,
        } => format!(
            "{} input and {} output tokens per minute",
            count(input_tpm),
            count(output_tpm)
        ),
        crate::domain::RateMeasure::Spend { usd_per_minute } => {
            format!("${usd_per_minute} of list-price usage per minute")
        }
    };
    format!(
        "; a token-rate reservation of {what} on term `{}` (${:.2}/hour billed whether used or not): requests that fit in what is left of each minute's reservation are covered, the rest overflow to this on-demand tier at list price and quotas",
        r.term,
        r.hour_cost()
    )
}

/// The deployments as the scenario describes them.
fn deployment_assumptions(o: &mut String, sc: &Scenario) {
    let _ = writeln!(o, "\n### Deployments\n");
    for d in &sc.deployments {
        let l = &d.latency;
        let pool = match &d.pool {
            Pool::OnDemand(p) => format!(
                "on-demand at ${}/1M input{} and ${}/1M output tokens; quotas: {} RPM, {} TPM{}; shared pool {} TPM with other tenants' load {:.0}–{:.0}% by hour (capped at {:.0}%)",
                p.input_per_1m,
                cache_prices(p),
                p.output_per_1m,
                p.rpm.map(count).unwrap_or("no".into()),
                p.tpm.map(count).unwrap_or("no".into()),
                quota_shape(&p.quota),
                if p.shared_pool_tpm.is_finite() { count(p.shared_pool_tpm) } else { "unbounded".into() },
                100.0 * p.background.iter().cloned().fold(f64::INFINITY, f64::min),
                100.0 * p.background.iter().cloned().fold(0.0, f64::max),
                100.0 * p.max_pool_utilization,
            ) + &rate_assumption(p),
            Pool::Reserved(r) => format!(
                "reserved: {} units × {} input-equivalent TPM (output weight {}{}), {} slots ({} per unit: an assumption that shapes how waits build up, not prefill speed; see docs/model.md), term `{}` at ${}/unit-hour{} (${:.2}/hour billed whether used or not); queue bound {}, wait bound {}",
                r.units,
                r.tpm_per_unit,
                r.output_weight,
                if r.cached_input_weight != 1.0 { format!(", cached input weight {}", r.cached_input_weight) } else { String::new() },
                r.slots(),
                r.concurrency_per_unit,
                r.term,
                r.unit_hour_price(),
                match r.overage_units() {
                    0 => String::new(),
                    n => format!(
                        " for the {} reserved units, the other {n} deployed beyond the reservation at the hourly ${}/unit-hour",
                        r.reserved_units,
                        r.overage_hour_cost() / n as f64
                    ),
                },
                r.hour_cost(),
                r.max_queue.map(|q| q.to_string()).unwrap_or("none".into()),
                r.max_wait_us.map(|w| format!("{} ms", w as f64 / 1000.0)).unwrap_or("none".into()),
            ),
        };
        let _ = writeln!(
            o,
            "- **{}** ({} `{}`{}{}): {}. Base latency median {} ms, p99 {} ms; prefill {} ms per 1k input tokens.",
            d.name,
            d.platform,
            d.model,
            d.region.as_ref().map(|r| format!(", {r}")).unwrap_or_default(),
            d.offering
                .as_ref()
                .map(|x| format!("; catalog offering `{x}`, values not written in the scenario taken from it (`llmcap catalog --json` has their sources)"))
                .unwrap_or_default(),
            pool,
            l.median_ms,
            l.p99_ms,
            l.prefill_ms_per_1k_input
        );
        for c in &d.price_changes {
            let prices = match &c.pool {
                Pool::OnDemand(p) => format!(
                    "${}/1M input{} and ${}/1M output tokens{}",
                    p.input_per_1m,
                    cache_prices(p),
                    p.output_per_1m,
                    p.reserved_rate
                        .as_ref()
                        .map(|r| format!(
                            "; token-rate reservation ${:.2}/hour on term `{}`",
                            r.hour_cost(),
                            r.term
                        ))
                        .unwrap_or_default()
                ),
                Pool::Reserved(r) => format!(
                    "term `{}` at ${}/unit-hour (${:.2}/hour)",
                    r.term,
                    r.unit_hour_price(),
                    r.hour_cost()
                ),
            };
            let _ = writeln!(
                o,
                "  - From {} (hour {}, `{}`): {prices}.",
                crate::domain::time::format_date(c.date),
                count(f64::from(c.from_hour)),
                c.what
            );
        }
    }
}

/// Scenario warnings, the client's retry policy and where the model is documented.
fn closing(o: &mut String, sc: &Scenario) {
    let warnings = sc.warnings();
    if !warnings.is_empty() {
        let _ = writeln!(o, "\n### Warnings\n");
        for w in &warnings {
            let _ = writeln!(o, "- {w}");
        }
    }
    let c = &sc.client;
    let _ = writeln!(
        o,
        "\nClient: up to {} attempt(s), backoff {} ms doubling to {} ms, {:?} jitter{}.\n",
        c.max_attempts,
        c.backoff_base_us as f64 / 1000.0,
        c.backoff_max_us as f64 / 1000.0,
        c.jitter,
        c.timeout_us
            .map(|t| format!(", timeout {} ms", t as f64 / 1000.0))
            .unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "The model behind these numbers (queueing formulas, what is and is not simulated) is in llmcap's `docs/model.md`. \
         Files beside this report: `summary.json`, `ttft_percentiles.csv`, `ttft_cdf.csv`, `hourly.csv`, `arrivals.csv`."
    );
}

/// "Prices change on 2027-01-02 (`ptu`, `price_change[0]`): …": for an answer that is one number
/// over a horizon whose prices change inside it (plan, sweep, pick, failover), None when they do
/// not. `what` says how the answer takes them in.
pub fn price_change_note(sc: &Scenario, what: &str) -> Option<String> {
    let changes: Vec<String> = sc
        .deployments
        .iter()
        .flat_map(|d| {
            d.price_changes
                .iter()
                .filter(|c| c.from_hour < sc.horizon_hours)
                .map(move |c| {
                    format!(
                        "{} (`{}`, `{}`)",
                        crate::domain::time::format_date(c.date),
                        d.name,
                        c.what
                    )
                })
        })
        .collect();
    (!changes.is_empty()).then(|| format!("Prices change on {}: {what}", changes.join(", ")))
}
