//! Sweep outputs: `sweep.json`, `sweep.csv`, `breakeven.png`,
//! `cost_vs_units.png`, `sensitivity.png` and `report.md`.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analysis::economics::{levers, reachable_utilization, swings, Levers, Swing};
use crate::analysis::sweep::{Breakeven, PointSummary, Sweep};
use crate::domain::Scenario;
use crate::error::OutputError;
use crate::format::{
    compared, count, fixed, fixed_ci, fixed_opt, grouped, percent, usd_cents, usd_ci,
};
use crate::model::metrics::MeanCi;
use crate::report::batch::BatchAside;
use crate::report::output::Staging;
use crate::report::plots::{
    self,
    breakeven::{BreakevenChart, BreakevenPoint},
    cost_vs_units::{CostVsUnitsChart, UnitsPoint},
    sensitivity::{ReachCurve, SensitivityChart, TornadoBar},
};
use crate::report::summary::Manifest;
use crate::report::tables::{finish, row};

/// The files a sweep writes, in the order they are written.
pub const SWEEP_FILES: &[&str] = &[
    "sweep.json",
    "sweep.csv",
    "breakeven.png",
    "cost_vs_units.png",
    "sensitivity.png",
    "report.md",
];

/// Headroom above the peak in the "utilization you can reach" curves.
const HEADROOMS: [f64; 3] = [0.0, 0.25, 0.5];

/// What a sweep found, ready to be written.
#[derive(Debug, Clone, Serialize)]
pub struct SweepResult {
    pub manifest: Manifest,
    pub key: String,
    pub reserved_deployment: Option<String>,
    pub compare_deployment: Option<String>,
    /// Why there is no break-even analysis, when there is none.
    pub no_breakeven: Option<String>,
    /// The term the scenario's reserved deployment is billed at.
    pub term: Option<String>,
    pub breakeven: Vec<Breakeven>,
    /// Expected output/input ratio of the traffic through the reserved pool.
    pub expected_output_ratio: Option<f64>,
    /// Closed-form break-even at the scenario's term, and what moves it.
    pub sensitivity: Option<(f64, Vec<Swing>)>,
    /// The reference band break-even is compared with (`[report]
    /// reference_band`, fractions).
    pub reference_band: (f64, f64),
    /// What alone would bring the closed form (at the scenario's term) to
    /// the nearest edge of the reference band; None inside it.
    pub levers: Option<Levers>,
    /// Peak / trough of the hour-of-day profile of the first class routed
    /// through the reserved pool.
    pub peak_to_trough: Option<f64>,
    /// The point with the lowest mean total cost (units sweeps only).
    pub cheapest: Option<usize>,
    /// The first point (in sweep order) meeting every class SLA.
    pub first_meeting_sla: Option<usize>,
    /// Per point: utilization of the last step of units (units sweeps only).
    pub marginal_utilization: Vec<Option<f64>>,
    /// Per point: the closed-form break-even at the point's own term and token mix (it moves
    /// when the swept key changes prices, weights or the mix, e.g. a class's cached share).
    pub closed_form_by_point: Vec<Option<f64>>,
    pub points: Vec<PointSummary>,
    /// The deferrable classes' batch jobs at the first point (None without any): beside every
    /// point's bill, not in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchAside>,
    /// Every point's batch jobs, when the swept key changes them (empty when they are the same
    /// at every point).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub batch_by_point: Vec<BatchAside>,
}

impl SweepResult {
    /// Sets the batch jobs of every point (`None` each without deferrable classes): one aside
    /// when they are the same at every point, else every point's.
    pub fn set_batch(&mut self, by_point: Vec<Option<BatchAside>>) {
        let same = by_point.windows(2).all(|w| w[0] == w[1]);
        self.batch = by_point.first().cloned().flatten();
        if !same {
            self.batch_by_point = by_point.into_iter().flatten().collect();
        }
    }

    pub fn build(
        sweep: &Sweep,
        points: Vec<PointSummary>,
        breakeven: Vec<Breakeven>,
        manifest: Manifest,
    ) -> SweepResult {
        let base = &sweep.points[0];
        let pair = sweep.pair.as_ref().ok().copied();
        let units_sweep = sweep.spec.key.ends_with(".reserved.units");
        let marginal = (0..points.len())
            .map(|i| {
                if !units_sweep || i == 0 {
                    return None;
                }
                let (a, b) = (&points[i - 1], &points[i]);
                let (ua, ub) = (a.utilization?.mean, b.utilization?.mean);
                (b.value != a.value).then(|| (ub * b.value - ua * a.value) / (b.value - a.value))
            })
            .collect();
        // Only the number of units is a choice with a cheapest value: a sweep
        // of demand or prices just shows what each setting costs.
        let cheapest = points
            .iter()
            .enumerate()
            .filter(|_| units_sweep)
            .filter_map(|(i, p)| Some((i, p.total_usd?.mean)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i);
        let first_meeting_sla = points.iter().position(|p| p.meets_sla == Some(true));
        let closed_form_by_point = sweep
            .points
            .iter()
            .map(|sc| {
                let p = pair?;
                let r = p.reserved_over_horizon(sc);
                let mix = crate::analysis::economics::TokenMix::of_deployment(sc, p.reserved)?;
                // The horizon's average prices (a price change weighted by its hours).
                Some(crate::analysis::economics::closed_form(
                    &r,
                    r.unit_hour_price(),
                    &p.compare_over_horizon(sc),
                    mix,
                ))
            })
            .collect();
        let class = pair.and_then(|p| base.classes.iter().find(|c| c.route.contains(&p.reserved)));
        SweepResult {
            manifest,
            key: sweep.spec.key.clone(),
            reserved_deployment: pair.map(|p| base.deployments[p.reserved].name.clone()),
            compare_deployment: pair.map(|p| base.deployments[p.compare].name.clone()),
            no_breakeven: sweep.pair.as_ref().err().map(|e| e.message.clone()),
            term: pair.map(|p| p.reserved(base).term.clone()),
            breakeven,
            expected_output_ratio: pair
                .and_then(|p| crate::analysis::economics::TokenMix::of_deployment(base, p.reserved))
                .map(|m| m.ratio()),
            sensitivity: pair.and_then(|p| swings(base, p)),
            reference_band: base.reference_band,
            levers: pair.and_then(|p| {
                let (be, _) = swings(base, p)?;
                let band = base.reference_band;
                let target = if be > band.1 {
                    band.1
                } else if be < band.0 {
                    band.0
                } else {
                    return None;
                };
                levers(base, p, target)
            }),
            peak_to_trough: class.map(|c| {
                let h = &c.arrivals.hourly;
                let max = h.iter().copied().fold(0.0, f64::max);
                let min = h.iter().copied().fold(f64::INFINITY, f64::min);
                if min > 0.0 {
                    max / min
                } else {
                    f64::INFINITY
                }
            }),
            cheapest,
            first_meeting_sla,
            marginal_utilization: marginal,
            closed_form_by_point,
            points,
            batch: None,
            batch_by_point: Vec::new(),
        }
    }

    fn at_term(&self) -> Option<&Breakeven> {
        let t = self.term.as_ref()?;
        self.breakeven.iter().find(|b| &b.term == t)
    }
}

fn ci_cols(v: &Option<MeanCi>, d: usize) -> [String; 3] {
    match v {
        Some(c) => [
            fixed(c.mean, d),
            fixed(c.ci95_low, d),
            fixed(c.ci95_high, d),
        ],
        None => [String::new(), String::new(), String::new()],
    }
}

/// `sweep.csv`: one row per point.
pub fn sweep_csv(r: &SweepResult) -> Result<Vec<u8>, OutputError> {
    const WHAT: &str = "sweep.csv";
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["key".to_string(), "value".into(), "replications".into()];
    for (name, _) in columns() {
        for s in ["", "_ci95_low", "_ci95_high"] {
            header.push(format!("{name}{s}"));
        }
    }
    header.extend(
        [
            "marginal_utilization",
            "pooled_ttft_p50_ms",
            "pooled_ttft_p99_ms",
            "meets_sla",
            "spilled_share",
            "throttled_share",
            "failed_share",
        ]
        .map(String::from),
    );
    row(&mut w, WHAT, &header)?;
    for (i, p) in r.points.iter().enumerate() {
        let mut rec = vec![r.key.clone(), fixed(p.value, 6), p.replications.to_string()];
        for (_, (pick, d)) in columns() {
            rec.extend(ci_cols(&pick(p), d));
        }
        rec.push(fixed_opt(r.marginal_utilization[i], 4));
        rec.push(fixed_opt(p.pooled_p50_ms, 1));
        rec.push(fixed_opt(p.pooled_p99_ms, 1));
        rec.push(p.meets_sla.map(|b| b.to_string()).unwrap_or_default());
        rec.push(fixed(p.spilled_share, 5));
        rec.push(fixed(p.throttled_share, 5));
        rec.push(fixed(p.failed_share, 5));
        row(&mut w, WHAT, &rec)?;
    }
    finish(w, WHAT)
}

type Pick = fn(&PointSummary) -> Option<MeanCi>;

/// The columns with a mean and a CI: name, accessor, decimals.
fn columns() -> Vec<(&'static str, (Pick, usize))> {
    vec![
        ("reserved_utilization", (|p| p.utilization, 4)),
        ("total_usd", (|p| p.total_usd, 2)),
        ("on_demand_usd", (|p| p.on_demand_usd, 2)),
        ("reserved_usd", (|p| p.reserved_usd, 2)),
        ("all_on_demand_usd", (|p| p.all_on_demand_usd, 2)),
        ("usd_per_1m_tokens", (|p| p.usd_per_1m_tokens, 4)),
        (
            "reserved_usd_per_1m_tokens",
            (|p| p.reserved_usd_per_1m_tokens, 4),
        ),
        (
            "on_demand_usd_per_1m_tokens",
            (|p| p.on_demand_usd_per_1m_tokens, 4),
        ),
        ("cost_ratio", (|p| p.cost_ratio, 4)),
        ("ttft_p50_ms", (|p| p.ttft_p50_ms, 1)),
        ("ttft_p99_ms", (|p| p.ttft_p99_ms, 1)),
        ("sla_ttft_ms", (|p| p.sla_ttft_ms, 1)),
        ("sla_attainment", (|p| p.sla_attainment, 5)),
    ]
}

fn pct(v: f64) -> String {
    if v > 1.0 {
        format!("{:.1}% (never breaks even)", v * 100.0)
    } else {
        format!("{:.1}%", v * 100.0)
    }
}

/// The terminal summary of a sweep, one finding per line: break-even per term
/// against the reference band, why there is none, and the cheapest point.
pub fn headline(r: &SweepResult, base: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for b in &r.breakeven {
        let band = r.reference_band;
        let simulated = b
            .simulated
            .map(|s| {
                format!(
                    "{} (95% CI {}-{})",
                    percent(s.mean, 1),
                    grouped(s.ci95_low * 100.0, 1),
                    grouped(s.ci95_high * 100.0, 1)
                )
            })
            .unwrap_or_else(|| "none in the swept range".into());
        out.push(format!(
            "break-even utilization, {} term: simulated {simulated}, closed form {} ({} the reference band {})",
            b.term,
            percent(b.closed_form, 1),
            in_band(b.closed_form, band),
            band_text(band)
        ));
    }
    if let Some(why) = &r.no_breakeven {
        out.push(format!("no break-even analysis: {why}"));
    }
    if let Some(i) = r.cheapest {
        let p = &r.points[i];
        out.push(format!(
            "cheapest point {} = {}: {} per {} h",
            r.key,
            grouped(p.value, 0),
            usd_cents(p.total_usd.map_or(0.0, |c| c.mean)),
            count(base.horizon_hours as f64)
        ));
        if let Some(s) = versus_on_demand(r) {
            out.push(s.replace("**", ""));
        }
    }
    out
}

/// The cheapest point against the same tokens all on demand, as a sentence;
/// "Buy none" when even the cheapest point costs more.
pub fn versus_on_demand(r: &SweepResult) -> Option<String> {
    let p = &r.points[r.cheapest?];
    let (all, total) = (p.all_on_demand_usd?.mean, p.total_usd?.mean);
    let per = format!("per {} h", r.manifest.horizon_hours);
    let cmp = compared(total, all, "the same tokens all on demand", &per);
    Some(if total > all {
        format!(
            "**Buy none**: even the cheapest point ({} unit{}) costs {cmp}, so no number of reserved units in the swept range pays off.",
            p.value,
            if p.value == 1.0 { "" } else { "s" }
        )
    } else {
        format!("The cheapest point costs {cmp}.")
    })
}

/// "40–60%".
pub fn band_text((lo, hi): (f64, f64)) -> String {
    format!("{}–{}%", grouped(lo * 100.0, 0), grouped(hi * 100.0, 0))
}

/// Where `v` lies relative to `band`: inside, below or above.
pub fn in_band(v: f64, band: (f64, f64)) -> &'static str {
    if (band.0..=band.1).contains(&v) {
        "inside"
    } else if v < band.0 {
        "below"
    } else {
        "above"
    }
}

/// `report.md` of a sweep.
/// The batch jobs beside the points: one section when they are the same at every point, else a
/// row per point (the swept key changes them).
fn batch_section(o: &mut String, r: &SweepResult) {
    let Some(first) = &r.batch else { return };
    if r.batch_by_point.is_empty() {
        super::batch::aside_section(o, first, "sweep");
        return;
    }
    let _ = writeln!(
        o,
        "## Batch jobs by point
"
    );
    let _ = writeln!(o, "The deferrable classes go to batch deployments, whose bill is not in the points' costs above; `{}` changes them, so each point's is here (per replication of the horizon, and per month of 730 h; completion times over every deferrable class's completed requests, the first class shown).\n", r.key);
    let _ = writeln!(
        o,
        "| {} | batch cost | per month | completed | expired | completion p99 | within target |",
        r.key
    );
    let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|");
    for (p, b) in r.points.iter().zip(&r.batch_by_point) {
        let sum =
            |f: fn(&super::batch::BatchClassSummary) -> f64| b.classes.iter().map(f).sum::<f64>();
        let c = b.classes.first();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            p.value,
            usd_cents(b.cost_usd),
            usd_cents(b.usd_per_month),
            count(sum(|c| c.completed)),
            count(sum(|c| c.expired)),
            c.and_then(|c| c.completion_p99_hours)
                .map_or("-".into(), |h| format!("{h:.2} h")),
            c.and_then(|c| c.within_sla_share)
                .map_or("-".into(), |s| percent(s, 1)),
        );
    }
    let _ = writeln!(o);
}

pub fn render(sc: &Scenario, r: &SweepResult) -> String {
    let mut o = String::new();
    let n = r.points.len();
    let first = r.points.first().map_or(0.0, |p| p.value);
    let last = r.points.last().map_or(0.0, |p| p.value);
    let _ = writeln!(o, "# llmcap sweep: {}\n", sc.name);
    if !sc.description.is_empty() {
        let _ = writeln!(o, "{}\n", sc.description);
    }
    let _ = writeln!(
        o,
        "`{}` from {} to {} ({n} points), {} replication(s) of {} h each, seed {}. Every point sees the same arrivals and tokens (common random numbers), so differences between points are paired.\n",
        r.key,
        first,
        last,
        r.manifest.replications,
        r.manifest.horizon_hours,
        r.manifest.seed
    );
    if let Some(note) = super::markdown::price_change_note(
        sc,
        "each point's cost is the bill of the simulated hours at the prices of each hour; the closed-form break-even compares the horizon's average prices (each price weighted by the hours it holds, a reservation's units beyond it at the hourly price), and the simulated one values the reserved tokens at the prices of the hour they were served in.\n",
    ) {
        let _ = writeln!(o, "{note}");
    }
    breakeven_section(&mut o, r);
    cheapest_section(&mut o, r);
    batch_section(&mut o, r);
    charts_section(&mut o, r);
    points_section(&mut o, r);
    method_section(&mut o, r);
    o
}

/// "## Break-even utilization": simulated and closed-form break-even per term, and why they differ.
fn breakeven_section(o: &mut String, r: &SweepResult) {
    let _ = writeln!(o, "## Break-even utilization\n");
    match (&r.no_breakeven, r.at_term()) {
        (Some(why), _) => {
            let _ = writeln!(o, "No break-even analysis: {why}.\n");
        }
        (None, None) => {
            let _ = writeln!(o, "No break-even analysis: no class routes traffic through the reserved deployment.\n");
        }
        (None, Some(b)) => {
            let res = r.reserved_deployment.as_deref().unwrap_or("");
            let cmp = r.compare_deployment.as_deref().unwrap_or("");
            let band = band_text(r.reference_band);
            let _ = writeln!(
                o,
                "Reserved deployment `{res}` against the on-demand prices of `{cmp}`. Break-even is the average utilization at which the reserved units cost exactly what the tokens they served would have cost on demand; above it, reserved is cheaper.\n"
            );
            let sim = match &b.simulated {
                Some(s) => format!(
                    "{} (95% CI {:.1}–{:.1}%)",
                    pct(s.mean),
                    s.ci95_low * 100.0,
                    s.ci95_high * 100.0
                ),
                None => "no crossover in the swept range".into(),
            };
            let _ = writeln!(
                o,
                "**At the scenario's term ({}): simulated {sim}; closed form {}, {} the reference band ({}).**\n",
                b.term,
                pct(b.closed_form),
                in_band(b.closed_form, r.reference_band),
                band
            );
            let _ = writeln!(o, "| term | $ per unit-hour | closed form | simulated (95% CI) | replications with a crossover | vs the reference band {band} |");
            let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: | --- |");
            for b in &r.breakeven {
                let sim = match &b.simulated {
                    Some(s) if s.n > 1 => format!(
                        "{:.1}% ({:.1}–{:.1})",
                        s.mean * 100.0,
                        s.ci95_low * 100.0,
                        s.ci95_high * 100.0
                    ),
                    Some(s) => format!("{:.1}%", s.mean * 100.0),
                    None => "none in range".into(),
                };
                let _ = writeln!(
                    o,
                    "| {} | {:.4} | {} | {sim} | {} of {} | {} |",
                    b.term,
                    b.price_per_unit_hour,
                    pct(b.closed_form),
                    b.replications_with_crossover,
                    b.replications,
                    in_band(b.closed_form, r.reference_band)
                );
            }
            let _ = writeln!(o);
            explain(o, r, b);
        }
    }
}

/// "## Cheapest point": its cost split and latency, then the first point that meets every SLA.
fn cheapest_section(o: &mut String, r: &SweepResult) {
    if let Some(i) = r.cheapest {
        let p = &r.points[i];
        let _ = writeln!(o, "## Cheapest point\n");
        let _ =
            writeln!(
            o,
            "`{}` = {}: total {} per {} h ({} reserved + {} on-demand), {} per 1M served tokens.",
            r.key,
            p.value,
            usd_ci(&p.total_usd),
            r.manifest.horizon_hours,
            usd_ci(&p.reserved_usd),
            usd_ci(&p.on_demand_usd),
            p.usd_per_1m_tokens.map(|c| format!("${:.2}", c.mean)).unwrap_or("–".into()),
        );
        if let Some(sentence) = versus_on_demand(r) {
            let _ = writeln!(o, "{sentence}");
        }
        let _ = writeln!(
            o,
            "TTFT p99 {} ms; spilled {:.1}%, throttled {:.2}%.{}\n",
            p.ttft_p99_ms.map(|c| count(c.mean)).unwrap_or("–".into()),
            p.spilled_share * 100.0,
            p.throttled_share * 100.0,
            match p.meets_sla {
                Some(true) => " Meets every class SLA (95% confidence).",
                Some(false) => " Does NOT meet every class SLA at 95% confidence.",
                None => "",
            }
        );
    }
    if let Some(i) = r.first_meeting_sla {
        let p = &r.points[i];
        let _ = writeln!(
            o,
            "The first point meeting every class SLA: `{}` = {}, total {}, utilization {}.\n",
            r.key,
            p.value,
            usd_ci(&p.total_usd),
            fixed_ci(&p.utilization.map(|c| c.scaled(100.0)), 1, "%")
        );
    }
}

/// "## Charts": the break-even, cost and sensitivity charts the sweep drew.
fn charts_section(o: &mut String, r: &SweepResult) {
    let _ = writeln!(o, "## Charts\n");
    if r.no_breakeven.is_none() {
        let _ = writeln!(o, "![break-even](breakeven.png)\n");
    }
    let _ = writeln!(o, "![cost and p99 TTFT](cost_vs_units.png)\n");
    if r.sensitivity.is_some() {
        let _ = writeln!(o, "![what moves the break-even](sensitivity.png)\n");
        let _ = writeln!(o, "Left: the closed-form break-even when one input changes and the others keep the scenario's values. Right: the average utilization units reach when sized for the peak of a cosine day (plus headroom for the SLA); reserved capacity pays off where that line is above the break-even. Weekday factors lower it further.\n");
    }
}

/// "## Points": the mean of every swept point, one row each.
fn points_section(o: &mut String, r: &SweepResult) {
    let _ = writeln!(o, "## Points\n");
    let _ = writeln!(
        o,
        "Means over replications; `sweep.csv` has every column with its 95% confidence \
         interval (Student t over replications; costs never below 0, shares within 0–100%).\n"
    );
    points_table(o, r);
    let _ = writeln!(o);
}

/// "## Method": how the break-even and the SLA are computed, and the inputs that reproduce them.
fn method_section(o: &mut String, r: &SweepResult) {
    let _ = writeln!(o, "## Method\n");
    let _ = writeln!(o, "- Simulated break-even: in each replication, the reserved cost divided by the on-demand price of the tokens the reserved units served (the cost ratio) is read at every point against the achieved utilization; the crossover where the ratio is 1 is interpolated linearly in 1/utilization (the ratio falls like break-even / utilization). The estimates of the replications give the mean and 95% CI. Other terms reprice the same simulation (the term changes the price, not the traffic).");
    let _ = writeln!(o, "- Closed form: price per unit-hour / (on-demand $ per weighted token x tokens per unit-hour), with the expected token mix of the classes routed through the reserved deployment (docs/model.md).");
    let _ = writeln!(o, "- An SLA is met when, for every class with an SLA, the lower end of the 95% CI of the share of completed requests (throttled and failed count as misses) within the target is at or above the percentile asked for.");
    let _ = writeln!(
        o,
        "- Generated by llmcap {} from `{}` (sha256 {}).",
        r.manifest.llmcap_version, r.manifest.scenario_file, &r.manifest.scenario_sha256
    );
}

/// Why simulated and closed form differ, what the break-even means when
/// traffic is not flat, and what would move it into the reference band; each
/// section only when it has something to say.
fn explain(out: &mut String, r: &SweepResult, b: &Breakeven) {
    let mut why = String::new();
    let o = &mut why;
    if let (Some(s), Some(exp)) = (&b.simulated, r.expected_output_ratio) {
        let diff = (s.mean - b.closed_form) * 100.0;
        // The point nearest the crossover shows the mix the units served.
        let near = r
            .points
            .iter()
            .filter_map(|p| Some((p.utilization?.mean, p.reserved_output_ratio?)))
            .min_by(|a, b| (a.0 - s.mean).abs().total_cmp(&(b.0 - s.mean).abs()));
        let agree = diff.abs() < 0.05 || diff.abs() <= s.half_width() * 100.0;
        if agree {
            let _ = write!(
                o,
                "The simulated break-even agrees with the closed form ({diff:+.2} percentage points; CI half-width {:.2}). ",
                s.half_width() * 100.0
            );
        } else {
            let _ = write!(
                o,
                "The simulated break-even is {diff:+.1} percentage points from the closed form (CI half-width {:.1}). ",
                s.half_width() * 100.0
            );
        }
        if let Some((_, served)) = near {
            let _ = write!(
                o,
                "The closed form assumes the expected token mix (output/input {exp:.3}); near the crossover the reserved units served output/input {served:.3}. The simulation prices what was actually served, so a different mix (long prompts holding units longer, spilled requests not being a random sample) is the only thing that can move it. "
            );
        }
        let _ = writeln!(o, "Utilization is measured the same way in both (weighted tokens served / weighted tokens the units could serve), so the break-even utilization itself does not depend on the shape of the traffic: what the shape changes is the utilization the units can reach.\n");
    }
    let mut shape = String::new();
    let o = &mut shape;
    if let Some(i) = r.cheapest {
        let p = &r.points[i];
        if let (Some(u), Some(m)) = (p.utilization, r.marginal_utilization[i]) {
            let _ = writeln!(
                o,
                "With traffic that varies over the day, break-even applies at the margin: the cheapest point buys units until the last step of units is used about as much as the break-even. Here the cheapest point averages {:.1}% utilization while its last step of units is used {:.1}% (break-even {:.1}%). Units bought for the peak idle off-peak, which is why sizing for the peak can cost more than on-demand even when the average looks high.\n",
                u.mean * 100.0,
                m * 100.0,
                b.closed_form * 100.0
            );
        }
    }
    if let Some(pt) = r.peak_to_trough.filter(|v| v.is_finite()) {
        let _ = writeln!(
            o,
            "Units sized for the peak of this traffic (peak/trough {pt:.1}) average at most {:.0}% utilization over a day ({:.0}% with 25% headroom for the SLA).\n",
            reachable_utilization(pt, 0.0) * 100.0,
            reachable_utilization(pt, 0.25) * 100.0
        );
    }
    for (title, body) in [
        ("Why simulated and closed form differ", &why),
        ("When traffic varies over the day", &shape),
    ] {
        if !body.is_empty() {
            let _ = writeln!(out, "### {title}\n");
            out.push_str(body);
        }
    }
    let o = out;
    if let Some(l) = &r.levers {
        let change = |f: f64| {
            if f >= 1.0 {
                format!("{:.0}% higher", (f - 1.0) * 100.0)
            } else {
                format!("{:.0}% lower", (1.0 - f) * 100.0)
            }
        };
        let _ = writeln!(
            o,
            "### What would bring the closed form to {:.0}% (the nearest edge of the reference band)\n",
            l.target * 100.0
        );
        let _ = writeln!(
            o,
            "Each alone, the others at the scenario's values: a unit price {}, on-demand prices {}, or a throughput per unit {}; {}.\n",
            change(l.unit_price),
            change(l.on_demand_price),
            change(l.throughput),
            match (l.output_ratio, r.expected_output_ratio) {
                (Some(k), Some(now)) => format!("or an output/input token ratio of {k:.2} (now {now:.2})"),
                (Some(k), None) => format!("or an output/input token ratio of {k:.2}"),
                (None, _) => "no token mix alone would do it".to_string(),
            }
        );
    }
}

/// Writes every output of a sweep into `staging` and moves it into place.
pub fn write_sweep(
    staging: Staging,
    sc: &Scenario,
    r: &SweepResult,
) -> Result<PathBuf, OutputError> {
    let json = serde_json::to_vec_pretty(r).map_err(|e| OutputError::Encode {
        what: "sweep.json",
        message: e.to_string(),
    })?;
    staging.write("sweep.json", &json)?;
    staging.write("sweep.csv", &sweep_csv(r)?)?;
    draw_charts(&staging, sc, r)?;
    staging.write("report.md", render(sc, r).as_bytes())?;
    staging.commit()
}

fn draw_charts(staging: &Staging, sc: &Scenario, r: &SweepResult) -> Result<(), OutputError> {
    let mean = |v: &Option<MeanCi>| v.map(|c| c.mean);
    let bounds = |v: &Option<MeanCi>| v.map(|c| (c.ci95_low, c.ci95_high));
    let be = r.at_term();
    if r.no_breakeven.is_none() {
        let chart = BreakevenChart {
            points: r
                .points
                .iter()
                .filter_map(|p| {
                    Some(BreakevenPoint {
                        utilization: mean(&p.utilization)?,
                        on_demand_per_1m: mean(&p.on_demand_usd_per_1m_tokens)?,
                        reserved_per_1m: mean(&p.reserved_usd_per_1m_tokens),
                        total_per_1m: mean(&p.usd_per_1m_tokens)?,
                    })
                })
                .collect(),
            simulated: be
                .and_then(|b| b.simulated)
                .map(|s| (s.mean, s.ci95_low, s.ci95_high)),
            closed_form: be.map(|b| b.closed_form),
            band: r.reference_band,
            term: r.term.clone().unwrap_or_default(),
        };
        staging.write(
            plots::breakeven::FILE,
            &plots::breakeven::png(
                &format!(
                    "{}: cost per 1M served tokens against reserved utilization",
                    sc.name
                ),
                &chart,
            )?,
        )?;
    }
    let units_sweep = r.key.ends_with(".reserved.units");
    let hours = r.manifest.horizon_hours;
    let cheapest_label = r.cheapest.map(|i| {
        let p = &r.points[i];
        format!(
            "cheapest: {} = {}, {}",
            if units_sweep { "units" } else { r.key.as_str() },
            p.value,
            p.total_usd.map(|c| usd_cents(c.mean)).unwrap_or_default()
        )
    });
    let chart = CostVsUnitsChart {
        points: r
            .points
            .iter()
            .map(|p| UnitsPoint {
                units: p.value,
                cost: mean(&p.total_usd).unwrap_or(f64::NAN),
                cost_ci: bounds(&p.total_usd),
                reserved_cost: mean(&p.reserved_usd).unwrap_or(0.0),
                p99_ms: mean(&p.ttft_p99_ms),
                p99_ci: bounds(&p.ttft_p99_ms),
                meets_sla: p.meets_sla,
            })
            .collect(),
        cost_label: format!("total cost, $ per {hours} h"),
        // What every served token would cost on demand; only meaningful when
        // demand is the same at every point.
        on_demand_only_cost: if units_sweep {
            r.points.first().and_then(|p| mean(&p.all_on_demand_usd))
        } else {
            None
        },
        sla_ms: common_p99_sla(sc),
        cheapest: r.cheapest,
        chosen_label: cheapest_label,
        x_label: if units_sweep {
            format!(
                "reserved units ({})",
                r.reserved_deployment.as_deref().unwrap_or("")
            )
        } else {
            r.key.clone()
        },
    };
    staging.write(
        plots::cost_vs_units::FILE,
        &plots::cost_vs_units::png(
            &format!(
                "{}: cost and p99 TTFT against {}",
                sc.name,
                if units_sweep { "units" } else { &r.key }
            ),
            &chart,
        )?,
    )?;
    if let Some((base, swings)) = &r.sensitivity {
        let reach: Vec<ReachCurve> = HEADROOMS
            .iter()
            .map(|&h| ReachCurve {
                label: if h == 0.0 {
                    "sized for the peak".into()
                } else {
                    format!("sized for the peak + {:.0}% headroom", h * 100.0)
                },
                points: (2..=16)
                    .map(|i| {
                        let ratio = i as f64 / 2.0;
                        (ratio, reachable_utilization(ratio, h))
                    })
                    .collect(),
            })
            .collect();
        let simulated_reach = r.first_meeting_sla.and_then(|i| {
            let u = mean(&r.points[i].utilization)?;
            let pt = r.peak_to_trough.filter(|v| v.is_finite())?;
            let from = if units_sweep {
                format!("{} units", r.points[i].value)
            } else {
                format!("{} = {}", r.key, r.points[i].value)
            };
            Some((pt, u, format!("SLA met from {from}")))
        });
        let chart = SensitivityChart {
            base: *base,
            bars: swings
                .iter()
                .map(|s| TornadoBar {
                    input: s.input.clone(),
                    low_label: s.low_label.clone(),
                    low: s.low,
                    high_label: s.high_label.clone(),
                    high: s.high,
                })
                .collect(),
            band: r.reference_band,
            reach,
            simulated_reach,
            breakeven_line: Some(*base),
        };
        staging.write(
            plots::sensitivity::FILE,
            &plots::sensitivity::png(
                &format!(
                    "{}: what moves the break-even ({} term)",
                    sc.name,
                    r.term.as_deref().unwrap_or("")
                ),
                &chart,
            )?,
        )?;
    }
    Ok(())
}

/// The SLA target when every class with an SLA asks for p99 under the same
/// target (the charts draw p99).
pub fn common_p99_sla(sc: &Scenario) -> Option<f64> {
    let mut slas = sc.classes.iter().filter_map(|c| c.sla);
    let first = slas.next()?;
    (first.percentile == 99.0 && slas.all(|s| s.percentile == 99.0 && s.ttft_us == first.ttft_us))
        .then(|| first.ttft_us as f64 / 1000.0)
}

/// The table of swept points, with the closed-form break-even of each point when it moves.
fn points_table(o: &mut String, r: &SweepResult) {
    // The closed form moves only when the key changes prices, weights or the token mix.
    let be = &r.closed_form_by_point;
    let moves = be
        .iter()
        .flatten()
        .any(|b| be.iter().flatten().any(|c| (b - c).abs() > 1e-9));
    let _ = writeln!(o, "| {} | utilization | total cost | $ per 1M tokens | TTFT p99 (ms) | SLA attainment | spilled | throttled |{}", r.key, if moves { " closed-form break-even |" } else { "" });
    let _ = writeln!(
        o,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |{}",
        if moves { " ---: |" } else { "" }
    );
    for (i, p) in r.points.iter().enumerate() {
        let mark = if Some(i) == r.cheapest {
            " (cheapest)"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "| {}{mark} | {} | {} | {} | {} | {} | {:.1}% | {:.2}% |{}",
            p.value,
            p.utilization
                .map(|c| format!("{:.1}%", c.mean * 100.0))
                .unwrap_or("–".into()),
            p.total_usd.map(|c| usd_cents(c.mean)).unwrap_or("–".into()),
            p.usd_per_1m_tokens
                .map(|c| format!("{:.3}", c.mean))
                .unwrap_or("–".into()),
            p.ttft_p99_ms.map(|c| count(c.mean)).unwrap_or("–".into()),
            p.sla_attainment
                .map(|c| format!("{:.3}%", c.mean * 100.0))
                .unwrap_or("–".into()),
            p.spilled_share * 100.0,
            p.throttled_share * 100.0,
            match (moves, be.get(i).copied().flatten()) {
                (true, Some(b)) => format!(" {:.1}% |", b * 100.0),
                (true, None) => " – |".into(),
                (false, _) => String::new(),
            }
        );
    }
}
