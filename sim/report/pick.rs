//! `llmcap pick` outputs: pick.md (the recommendation and its evidence),
//! pick.json (everything simulated) and design.toml (the recommended design
//! as a scenario `llmcap run` can replay).

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::analysis::pick::{
    BreakEven, Config, DeploymentSpec, Design, Evaluation, PickResult, QuotaNeed, Verdict,
    WorkloadPick,
};
use crate::analysis::plan::Mode;
use crate::error::OutputError;
use crate::format::{grouped, usd_whole};

use super::output::Staging;
use super::summary::Manifest;

/// Writes pick.md, pick.json and design.toml (when there is a design).
pub fn write_pick(
    staging: Staging,
    result: &PickResult,
    manifest: Manifest,
) -> Result<PathBuf, OutputError> {
    #[derive(serde::Serialize)]
    struct Json<'a> {
        manifest: Manifest,
        #[serde(flatten)]
        result: &'a PickResult,
    }
    let json =
        serde_json::to_vec_pretty(&Json { manifest, result }).map_err(|e| OutputError::Encode {
            what: "pick.json",
            message: e.to_string(),
        })?;
    staging.write("pick.json", &json)?;
    if let Some(d) = &result.design {
        let text = format!(
            "# Written by llmcap pick from {}: the recommended design with a full outage of each\n# primary platform. Replay it with `llmcap run design.toml`.\n\n{}",
            result.profile.file.display(),
            d.scenario_toml
        );
        staging.write("design.toml", text.as_bytes())?;
        let yaml = design_litellm(&d.scenario_toml)?;
        staging.write(super::litellm::FILE, yaml.as_bytes())?;
    }
    staging.write("pick.md", render(result).as_bytes())?;
    staging.commit()
}

/// The design as a LiteLLM proxy config.
fn design_litellm(scenario_toml: &str) -> Result<String, OutputError> {
    let encode = |message: String| OutputError::Encode {
        what: super::litellm::FILE,
        message,
    };
    let document: toml::Table = toml::from_str(scenario_toml).map_err(|e| encode(e.to_string()))?;
    let sc =
        crate::domain::Scenario::from_table(document.clone(), std::path::Path::new("design.toml"))
            .map_err(|e| encode(e.to_string()))?;
    super::litellm::render(&sc, &document, "design.toml")
}

fn ms(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{} ms", grouped(v, 0)))
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn sla_text(r: &PickResult) -> String {
    match r.profile.sla {
        Some(s) => format!("p{} TTFT <= {} ms", s.percentile, grouped(s.ttft_ms, 0)),
        None => format!(
            "none (a configuration only has to serve within the {} s client timeout)",
            crate::analysis::pick::CLIENT.timeout_ms / 1000.0
        ),
    }
}

/// The one-line answers the CLI prints.
pub fn headline(r: &PickResult) -> Vec<String> {
    let mut out = Vec::new();
    for w in &r.workloads {
        match (&w.verdict, w.primary()) {
            (Verdict::Recommended, Some(p)) if p.on_batch().is_some() => {
                let b = p.on_batch().expect("on batch");
                out.push(format!(
                    "{}: {} {} batch API, {} per month ({} of requests within {} h){}",
                    w.workload,
                    p.route.platform,
                    p.route.model,
                    usd_whole(b.monthly_usd),
                    pct(b.met_share),
                    b.completion_sla_hours,
                    super::pick_batch::fallback_brief(w)
                ));
            }
            (Verdict::Recommended, Some(p)) => {
                let best = p.best().expect("recommended");
                let fb = w
                    .fallback()
                    .map(|f| {
                        format!(
                            "; fallback {} {}{} on demand",
                            f.route.platform,
                            f.route.model,
                            deprecated_note(f)
                        )
                    })
                    .unwrap_or_else(|| "; no fallback".into());
                out.push(format!(
                    "{}: {} {}{} ({}), {} per month{}{fb}",
                    w.workload,
                    p.route.platform,
                    p.route.model,
                    deprecated_note(p),
                    best.label,
                    usd_whole(best.monthly_usd.mean),
                    best.commitment
                        .map(|k| format!(", signing {} over the term", usd_whole(k.total_usd)))
                        .unwrap_or_default()
                ));
            }
            (v, _) => out.push(format!(
                "{}: no recommendation: {}",
                w.workload,
                verdict_text(v)
            )),
        }
    }
    if let Some(d) = &r.design {
        out.push(format!(
            "design: {} per month, availability {} with the fallback{} during the injected outages",
            usd_whole(d.with_fallback.monthly_usd.mean),
            pct(d.with_fallback.availability.mean),
            d.single_provider
                .as_ref()
                .map(|s| format!(" vs {} without", pct(s.availability.mean)))
                .unwrap_or_default()
        ));
    }
    if let Some(b) = &r.over_budget {
        out.push(format!("over budget: {b}"));
    }
    out
}

/// " (deprecated on DATE, retires on DATE)" for a route whose offering is deprecated.
fn deprecated_note(e: &Evaluation) -> String {
    e.route
        .deprecated
        .as_ref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Recommended => "recommended".into(),
        Verdict::NoModel(s)
        | Verdict::NoCompliantPlatform(s)
        | Verdict::NoConfigurationMeetsSla(s) => s.clone(),
    }
}

fn config_row(e: &Evaluation, c: &Config) -> String {
    format!(
        "| {} | {} | {} | {} ± {} | {} | {} | {} | {} | {} |",
        e.route.platform,
        e.route.model,
        c.label,
        usd_whole(c.monthly_usd.mean),
        usd_whole(c.monthly_usd.half_width()),
        ms(c.p50_ms),
        ms(c.p99_ms),
        c.ttft_sla_ms
            .map_or("n/a".into(), |t| format!("{:.0} ms", t.mean)),
        c.attainment.map_or("n/a".into(), |a| pct(a.mean)),
        if c.meets_sla { "yes" } else { "no" }
    )
}

/// pick.md.
pub fn render(r: &PickResult) -> String {
    let p = &r.profile;
    let mut m = String::new();
    let _ = writeln!(m, "# Platform pick: {}\n", p.name);
    if !p.description.is_empty() {
        let _ = writeln!(m, "{}\n", p.description);
    }
    profile_section(&mut m, r);
    answer_section(&mut m, r);
    if let Some(d) = &r.design {
        capacity_plan_section(&mut m, r, d);
        breakeven_section(&mut m, r);
        routing_section(&mut m, r);
        finops_section(&mut m, d);
        availability_section(&mut m, r, d);
    }
    super::pick_batch::batch_section(&mut m, r);
    evidence_section(&mut m, r);
    excluded_section(&mut m, r);
    caveats_section(&mut m, r);
    reproduce_section(&mut m, r);
    m
}

/// "## Answer": one paragraph a workload, then whether the design fits the budget.
fn answer_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "## Answer\n");
    for w in &r.workloads {
        answer(m, r, w);
    }
    let _ = writeln!(m);
    if let Some(b) = &r.over_budget {
        let _ = writeln!(m, "**Over budget**: {b}.\n");
    } else if let (Some(b), Some(d)) = (r.profile.budget_usd_per_month, &r.design) {
        let _ = writeln!(
            m,
            "Within budget: the design costs {} of the {} per month.\n",
            usd_whole(d.with_fallback.monthly_usd.mean),
            usd_whole(b)
        );
    }
}

/// "## Capacity plan": each deployment's offering and capacity, then the quota increases to request.
fn capacity_plan_section(m: &mut String, r: &PickResult, d: &Design) {
    let _ = writeln!(m, "## Capacity plan\n");
    let _ = writeln!(m, "| deployment | offering | capacity |");
    let _ = writeln!(m, "|---|---|---|");
    for dep in &d.deployments {
        let cap = match (dep.units, &dep.term) {
            (Some(u), Some(t)) => format!("{u} reserved units, {t} term"),
            _ => od_capacity(dep),
        };
        let _ = writeln!(m, "| {} | {} | {cap} |", dep.name, dep.offering);
    }
    let _ = writeln!(m);
    let mut asked = false;
    for w in &r.workloads {
        for e in [w.primary(), w.fallback()].into_iter().flatten() {
            if let Some(q) = e.quota.as_ref().filter(|q| q.raised()) {
                let _ = writeln!(
                    m,
                    "- Quota for {} on {} {} ({}): {}; request the increase before launch (the simulation assumes it).",
                    w.workload,
                    e.route.platform,
                    e.route.model,
                    shape_name(q),
                    ask(q)
                );
                asked = true;
            }
        }
    }
    if asked {
        let _ = writeln!(
            m,
            "- A deployment that several workloads can reach (a primary and another workload's fallback) is sized for their needs together: the quotas in the table above."
        );
    }
}

/// An on-demand deployment's capacity: its quota shape and the limits raised above the catalog's.
fn od_capacity(dep: &DeploymentSpec) -> String {
    let raised: Vec<String> = [
        ("TPM", dep.tpm),
        ("RPM", dep.rpm),
        ("ITPM", dep.itpm),
        ("OTPM", dep.otpm),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| format!("{} {k}", grouped(v, 0))))
    .collect();
    let shape = dep
        .quota
        .as_deref()
        .map_or("llmcap's per-minute buckets".to_string(), |s| {
            format!("the {s} quota shape")
        });
    if raised.is_empty() {
        format!("on demand, default quota ({shape})")
    } else {
        format!(
            "on demand, quota raised to {} ({shape})",
            raised.join(" / ")
        )
    }
}

/// The quota shape of a route, in words.
fn shape_name(q: &QuotaNeed) -> String {
    match (q.shape.as_str(), q.rpm_window_s) {
        ("azure", Some(w)) => format!("Azure's shape, RPM per {w} s window"),
        ("azure", None) => "Azure's shape".into(),
        ("anthropic", _) => "Anthropic's shape".into(),
        ("bedrock", _) => "Bedrock's shape".into(),
        ("vertex", _) => "Vertex AI's shape".into(),
        _ => "llmcap's per-minute buckets".into(),
    }
}

/// What to ask the vendor for: each raised limit with its peak need and default.
fn ask(q: &QuotaNeed) -> String {
    let asks: Vec<String> = q
        .limits
        .iter()
        .filter_map(|l| {
            l.raised.map(|v| {
                format!(
                    "ask for {} {} (peak need {} against the default {})",
                    grouped(v, 0),
                    l.key.to_uppercase(),
                    grouped(l.peak, 0),
                    l.default.map_or("unlimited".into(), |d| grouped(d, 0))
                )
            })
        })
        .collect();
    asks.join(", and ")
}

/// "### On-demand quotas": per evaluated on-demand route, the shape, what each limit counts, the
/// peak need against the default, what to ask for, and the share the simulation throttled.
fn quota_section(m: &mut String, r: &PickResult) {
    let rows: Vec<(&WorkloadPick, &Evaluation, &QuotaNeed)> = r
        .workloads
        .iter()
        .flat_map(|w| w.evaluations.iter().map(move |e| (w, e)))
        .filter_map(|(w, e)| e.quota.as_ref().map(|q| (w, e, q)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(m, "\n### On-demand quotas\n");
    let _ = writeln!(m, "Each on-demand route is simulated with the quota shape its vendor enforces (docs/model.md 6.1), where the catalog states one. A limit's peak need is what that shape counts at the peak-hour rate; a limit whose need passes 80% of its default is simulated at 1.5x the need, and is the one to ask the vendor for. Without a workload `max_tokens`, a request counts its actual output where the vendor counts `max_tokens`: a lower bound. Throttled: the share of requests the on-demand-only simulation answered 429 after the client's retries.\n");
    let _ = writeln!(m, "| workload | platform | offering | shape | limit | counts | peak need | default | ask the vendor | throttled |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|---|");
    for (w, e, q) in rows {
        let throttled = e
            .on_demand
            .as_ref()
            .map_or("n/a".into(), |c| pct(c.throttled_share));
        for (i, l) in q.limits.iter().enumerate() {
            let first = i == 0;
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                if first { w.workload.as_str() } else { "" },
                if first { e.route.platform.as_str() } else { "" },
                if first {
                    e.route.on_demand.as_deref().unwrap_or("")
                } else {
                    ""
                },
                if first { shape_name(q) } else { String::new() },
                l.key.to_uppercase(),
                l.counts,
                grouped(l.peak, 0),
                l.default.map_or("unlimited".into(), |d| grouped(d, 0)),
                l.raised.map_or("no (default suffices)".into(), |v| format!(
                    "yes: {}",
                    grouped(v, 0)
                )),
                if first {
                    throttled.clone()
                } else {
                    String::new()
                },
            );
        }
    }
}

/// "### Reserved capacity and break-even": each evaluated route's break-even utilization per term.
fn breakeven_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "\n### Reserved capacity and break-even\n");
    for w in &r.workloads {
        for e in &w.evaluations {
            if !e.breakeven.is_empty() {
                let terms: Vec<String> = e.breakeven.iter().map(breakeven_term).collect();
                let used = e
                    .reserved
                    .as_ref()
                    .and_then(|c| {
                        c.utilization.map(|u| {
                            format!(
                                "; the simulated plan ({}) runs its units at {:.1}% utilization",
                                c.label,
                                u * 100.0
                            )
                        })
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    m,
                    "- {} on {} ({}): break-even utilization against its on-demand price: {}{used}.",
                    w.workload,
                    e.route.platform,
                    e.breakeven[0].offering,
                    terms.join(", ")
                );
            }
            if let Some(n) = &e.reserved_note {
                let _ = writeln!(m, "- {} on {}: {}.", w.workload, e.route.platform, n);
            }
        }
    }
}

/// One term's break-even: "1-year 62.5% (inside the reference band …) at $1.2345/unit-hour".
fn breakeven_term(b: &BreakEven) -> String {
    let band = crate::domain::DEFAULT_REFERENCE_BAND;
    let reach = if b.utilization >= 1.0 {
        " (never breaks even)".to_string()
    } else {
        format!(
            " ({} the reference band {})",
            super::sweep::in_band(b.utilization, band),
            super::sweep::band_text(band)
        )
    };
    format!(
        "{} {:.1}%{reach} at ${:.4}/unit-hour",
        b.term,
        b.utilization * 100.0,
        b.unit_hour_usd
    )
}

/// "## Routing policy": the route each workload takes, then the gateway and client settings.
fn routing_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "\n## Routing policy\n");
    for (w, wl) in r.workloads.iter().zip(&r.profile.workloads) {
        let Some(pe) = w.primary() else { continue };
        if let Some(b) = pe.on_batch() {
            let _ = writeln!(
                m,
                "- **{}** ({}): submitted to {}'s batch API ({}) as jobs; no online route{}.",
                wl.name,
                pe.route.model,
                pe.route.platform,
                b.offering,
                super::pick_batch::resubmit(w)
            );
            continue;
        }
        let best = pe.best().expect("recommended");
        let mut steps = Vec::new();
        match best.mode {
            Mode::ReservedSpillover => {
                steps.push(format!("{} reserved units first", best.units));
                steps.push("on 429 or a full queue, spill to the same platform on demand".into());
            }
            Mode::ReservedOnly => {
                steps.push(format!("{} reserved units only (no spillover)", best.units))
            }
            Mode::OnDemandOnly => steps.push(format!("{} on demand", pe.route.platform)),
        }
        if let Some(f) = w.fallback() {
            steps.push(format!(
                "when the primary errors or is cooled down, fail over to {} {} on demand{}",
                f.route.platform,
                f.route.model,
                if f.route.model != pe.route.model {
                    " (a substitute model: test prompts on both)"
                } else {
                    ""
                }
            ));
        }
        let _ = writeln!(
            m,
            "- **{}** ({}): {}.",
            wl.name,
            pe.route.model,
            steps.join("; then ")
        );
    }
    let c = crate::analysis::pick::CLIENT;
    let _ = writeln!(
        m,
        "- Gateway: one router in front of every deployment (e.g. LiteLLM), {} ms per hop: {} failures in {} s cool a deployment down for {} s (LiteLLM defaults); clients make up to {} attempts with {}-{} s full-jitter backoff and time out at {} s. These are the values the design simulation uses.\n",
        c.gateway_latency_ms,
        c.cooldown_failures,
        c.cooldown_window_s,
        c.cooldown_s,
        c.max_attempts,
        c.backoff_base_ms / 1000.0,
        c.backoff_max_ms / 1000.0,
        c.timeout_ms / 1000.0
    );
}

/// "## FinOps instrumentation plan": per platform, the steps and the cost attribution table.
fn finops_section(m: &mut String, d: &Design) {
    let _ = writeln!(m, "## FinOps instrumentation plan\n");
    for f in &d.finops {
        let _ = writeln!(m, "**{}** (native: {}):\n", f.platform, f.mechanism);
        for s in &f.steps {
            let _ = writeln!(m, "- {s}");
        }
        if !f.attribution.is_empty() {
            let _ = writeln!(
                m,
                "\n| dimension | cost (horizon) | native | with a gateway | unattributable |"
            );
            let _ = writeln!(m, "|---|---|---|---|---|");
            for a in &f.attribution {
                let sh = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.0}%", v * 100.0));
                let _ = writeln!(
                    m,
                    "| {} | {} | {} | {} | {} |",
                    a.dimension,
                    usd_whole(a.cost_usd),
                    sh(a.native_share),
                    sh(a.with_gateway_share),
                    sh(a.unattributable_share)
                );
            }
        }
        let _ = writeln!(m);
    }
}

/// "## Availability under the outage assumptions": the design with and without its fallback.
fn availability_section(m: &mut String, r: &PickResult, d: &Design) {
    let _ = writeln!(m, "## Availability under the outage assumptions\n");
    if d.outages.is_empty() {
        let _ = writeln!(m, "No outage was injected (simulation.outage_hours = 0).\n");
    } else {
        let _ = writeln!(
            m,
            "Injected (assumption: a {} h full outage per primary platform, the order of the Azure OpenAI January 2025 incident as in scenarios/two_provider.toml): {}.\n",
            r.profile.outage_hours,
            d.outages.join("; ")
        );
    }
    let _ = writeln!(m, "| design | availability | TTFT p50 | TTFT p99 | SLA attainment (worst workload) | meets SLA | per month |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|");
    for run in [Some(&d.with_fallback), d.single_provider.as_ref()]
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} | {} ± {} |",
            run.label,
            pct(run.availability.mean),
            ms(run.p50_ms),
            ms(run.p99_ms),
            run.attainment.map_or("n/a".into(), |a| pct(a.mean)),
            if run.meets_sla { "yes" } else { "no" },
            usd_whole(run.monthly_usd.mean),
            usd_whole(run.monthly_usd.half_width())
        );
    }
    if let Some(s) = &d.single_provider {
        let _ = writeln!(
            m,
            "\nThe fallback costs {} per month more in this simulation (it is on demand: it bills only what it serves), and keeps {} of requests that the primary alone loses.\n",
            usd_whole(d.with_fallback.monthly_usd.mean - s.monthly_usd.mean),
            pct((d.with_fallback.availability.mean - s.availability.mean).max(0.0))
        );
    } else {
        let _ = writeln!(m);
    }
}

/// "## Simulated evidence": every simulated configuration of every workload, one row each.
fn evidence_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "## Simulated evidence\n");
    let _ = writeln!(m, "Each platform that sells a workload's model and meets the compliance needs, simulated on that workload alone: on demand, and the cheapest reserved plan that meets the SLA (or the closest when none does).\n");
    let _ = writeln!(m, "| platform | model | configuration | per month | TTFT p50 | TTFT p99 | TTFT at SLA percentile | within SLA | meets SLA |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|---|---|");
    for w in &r.workloads {
        if w.evaluations.is_empty() {
            continue;
        }
        let _ = writeln!(m, "| **{}** | | | | | | | | |", w.workload);
        for e in &w.evaluations {
            for c in [e.on_demand.as_ref(), e.reserved.as_ref()]
                .into_iter()
                .flatten()
            {
                let _ = writeln!(m, "{}", config_row(e, c));
            }
        }
    }
    quota_section(m, r);
}

/// "## Excluded platforms": each platform a workload could not use, and why.
fn excluded_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "\n## Excluded platforms\n");
    let _ = writeln!(m, "| workload | platform | failed on | why |");
    let _ = writeln!(m, "|---|---|---|---|");
    for w in &r.workloads {
        for (platform, x) in &w.excluded {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} |",
                w.workload,
                platform,
                x.label(),
                x.detail()
            );
        }
    }
}

/// "## Caveats from the catalog": the chosen routes' caveats, each once.
fn caveats_section(m: &mut String, r: &PickResult) {
    let caveats: Vec<&String> = r
        .workloads
        .iter()
        .flat_map(|w| [w.primary(), w.fallback()].into_iter().flatten())
        .flat_map(|e| e.caveats.iter())
        .collect();
    if !caveats.is_empty() {
        let _ = writeln!(m, "\n## Caveats from the catalog\n");
        let mut seen = Vec::new();
        for c in caveats {
            if !seen.contains(&c) {
                let _ = writeln!(m, "- {c}.");
                seen.push(c);
            }
        }
    }
}

/// "## Reproduce": the commands that repeat the pick and replay the design.
fn reproduce_section(m: &mut String, r: &PickResult) {
    let _ = writeln!(m, "\n## Reproduce\n");
    let _ = writeln!(
        m,
        "`llmcap pick {}` repeats every simulation (same seed, same results on any number of threads).{}",
        r.profile.file.display(),
        if r.design.is_some() {
            " `llmcap run design.toml` replays the recommended design with the injected outages and writes the full run report (TTFT distributions, hourly cost, failover, attribution)."
        } else {
            ""
        }
    );
}

/// "## The profile": the SLA, needs, budget, judging date and the workloads.
fn profile_section(m: &mut String, r: &PickResult) {
    let p = &r.profile;
    let _ = writeln!(m, "## The profile\n");
    let _ = writeln!(m, "- TTFT SLA: {}", sla_text(r));
    let mut needs = Vec::new();
    if p.baa {
        needs.push("a HIPAA BAA".to_string());
    }
    if let Some(res) = &p.residency {
        needs.push(format!("data residency in \"{res}\""));
    }
    for c in &p.certifications {
        needs.push(c.to_uppercase());
    }
    let _ = writeln!(
        m,
        "- Compliance: {}",
        if needs.is_empty() {
            "none".into()
        } else {
            needs.join(", ")
        }
    );
    let _ = writeln!(
        m,
        "- Budget: {}",
        p.budget_usd_per_month
            .map_or("none".into(), |b| format!("{} per month", usd_whole(b)))
    );
    let _ = writeln!(
        m,
        "- Two-provider minimum: {}",
        if p.two_provider { "yes" } else { "waived" }
    );
    let _ = writeln!(
        m,
        "- Offerings on sale on {} ({}): retired ones are excluded, deprecated ones rank after available ones",
        r.lifecycle_date, r.lifecycle_date_from
    );
    let _ = writeln!(m, "\n| workload | models (first preferred) | requests/day | tokens/month | mean tokens in / out | peak req/s | tags |");
    let _ = writeln!(m, "|---|---|---|---|---|---|---|");
    for w in &p.workloads {
        let _ = writeln!(
            m,
            "| {}{} | {} | {} | {:.1}M | {} / {} | {:.2} | {} |",
            w.name,
            match (w.deferrable, w.completion_sla_hours) {
                (false, _) => String::new(),
                (true, Some(h)) => format!(" (deferrable: within {h} h)"),
                (true, None) => " (deferrable: within the batch window)".to_string(),
            },
            w.models.join(", "),
            grouped(w.mean_rps * 86_400.0, 0),
            w.tokens_per_month() / 1e6,
            grouped(w.mean_input_tokens, 0),
            grouped(w.mean_output_tokens, 0),
            w.peak_rps,
            w.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        m,
        "\nEvery number below comes from simulating this traffic ({} h horizon, {} replication(s), seed {}, {} first) against the catalog's offerings; monthly costs are the simulated horizon scaled to 730 h, ± the 95% confidence half-width over replications.\n",
        p.horizon_hours, p.replications, p.seed, p.start_weekday
    );
}

fn answer(m: &mut String, r: &PickResult, w: &WorkloadPick) {
    match (&w.verdict, w.primary()) {
        (Verdict::Recommended, Some(p)) if p.on_batch().is_some() => {
            let b = p.on_batch().expect("on batch");
            let _ = writeln!(
                m,
                "- **{}** (deferrable): **{}**'s batch API for {} ({}): {} per month, {} of requests completed within {} h.",
                w.workload,
                p.route.platform,
                p.route.model,
                b.offering,
                usd_whole(b.monthly_usd),
                pct(b.met_share),
                b.completion_sla_hours,
            );
            let _ = writeln!(m, "  {}", super::pick_batch::fallback_line(w));
        }
        (Verdict::Recommended, Some(p)) => {
            let best = p.best().expect("recommended");
            let _ = writeln!(
                m,
                "- **{}**: primary **{}** serving {}{} with {}: {} ± {} per month{}, TTFT p50 {} / p99 {}, {} of requests within the SLA.",
                w.workload,
                p.route.platform,
                p.route.model,
                deprecated_note(p),
                best.label,
                usd_whole(best.monthly_usd.mean),
                usd_whole(best.monthly_usd.half_width()),
                best.commitment
                    .map(|k| format!(" (the purchase signs {})", super::plan::signs(&k)))
                    .unwrap_or_default(),
                ms(best.p50_ms),
                ms(best.p99_ms),
                best.attainment.map_or("n/a".into(), |a| pct(a.mean))
            );
            match w.fallback() {
                Some(f) => {
                    let c = f.on_demand.as_ref().expect("fallbacks are on demand");
                    let _ = writeln!(
                        m,
                        "  Fallback **{}** serving {}{} on demand (alone it would cost {} per month, TTFT p99 {}{}).",
                        f.route.platform,
                        f.route.model,
                        deprecated_note(f),
                        usd_whole(c.monthly_usd.mean),
                        ms(c.p99_ms),
                        if c.meets_sla { ", meets the SLA" } else { ", misses the SLA: a degraded mode during incidents" }
                    );
                }
                None => {
                    let _ = writeln!(
                        m,
                        "  No fallback: {}.",
                        w.fallback_note.clone().unwrap_or_default()
                    );
                }
            }
        }
        (v, _) => {
            let _ = writeln!(
                m,
                "- **{}**: **no recommendation.** {}.",
                w.workload,
                verdict_text(v)
            );
            if let (Some(e), Some(c)) = (w.closest(), w.closest().and_then(|e| e.closest())) {
                best_effort(m, r, e, c);
            }
        }
    }
}

/// What the closest configuration offers when nothing meets the SLA: its
/// numbers, and the features that meet the profile's other needs.
fn best_effort(m: &mut String, r: &PickResult, e: &Evaluation, c: &Config) {
    let catalog = crate::input::catalog::Catalog::shipped();
    let _ = writeln!(
        m,
        "  Closest simulated: **{}** serving {} with {}: TTFT at the SLA percentile {} ({} within target), p50 {}, {} ± {} per month. Relaxing the SLA to about that TTFT is what this platform can promise.",
        e.route.platform,
        e.route.model,
        c.label,
        c.ttft_sla_ms.map_or("n/a".into(), |t| format!("{:.0} ms", t.mean)),
        c.attainment.map_or("n/a".into(), |a| pct(a.mean)),
        ms(c.p50_ms),
        usd_whole(c.monthly_usd.mean),
        usd_whole(c.monthly_usd.half_width())
    );
    let Some(f) = catalog.platform(&e.route.platform) else {
        return;
    };
    let mut features = Vec::new();
    let comp = &f.platform.compliance;
    if r.profile.baa {
        if let Some(b) = comp.hipaa_baa.as_ref().filter(|b| b.value) {
            let src = b.source.as_deref().unwrap_or("catalog");
            let short = src.split(", http").next().unwrap_or(src);
            features.push(format!("a HIPAA BAA ({short})"));
        }
    }
    if let Some(res) = &r.profile.residency {
        let offering = if c.mode == crate::analysis::plan::Mode::OnDemandOnly {
            e.route.on_demand.as_ref()
        } else {
            e.route.reserved.as_ref()
        };
        if let Some((_, o)) = offering.and_then(|id| catalog.offering(id)) {
            let inside: Vec<&str> = o
                .regions
                .value
                .iter()
                .filter(|g| crate::analysis::pick::region_within(g, res))
                .map(String::as_str)
                .collect();
            features.push(format!(
                "a deployment inside \"{res}\" ({}: {})",
                o.id,
                inside.join(", ")
            ));
        }
    }
    if c.mode != crate::analysis::plan::Mode::OnDemandOnly {
        features.push(format!(
            "dedicated reserved capacity ({} units): no other tenant's load in the TTFT",
            c.units
        ));
    }
    for cert in &r.profile.certifications {
        features.push(cert.to_uppercase());
    }
    if !features.is_empty() {
        let _ = writeln!(
            m,
            "  What it offers for the profile's other needs: {}.",
            features.join("; ")
        );
    }
}
