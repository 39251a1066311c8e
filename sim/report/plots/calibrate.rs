//! `calibrate.png`: left, the measured TTFT distribution of each load level (solid; dots at the
//! reported percentiles of a level summary) against the fitted model's (dashed), on a log time
//! axis; right, TTFT against load: the measured median of each level (per-request sources and
//! level summaries, held-out summary levels included) or its mean (azure-openai-benchmark
//! windows) as points, the fitted model as a line or points, and for provisioned deployments the
//! measured 429 share in a second colour.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{
    ceil_125, chart_err, floor_125, house_style, log_ticks, Area, Canvas, DrawError, LegendEntry,
    LinearAxis, Swatch, Ticked, LINE_WIDTH, MARGIN, MARGIN_RIGHT, PALETTE, WIDTH, X_LABEL_AREA,
    Y_LABEL_AREA,
};
use crate::analysis::calibrate::Calibration;
use crate::domain::traffic::normal_cdf;
use crate::error::OutputError;
use crate::format::{grouped, sig};

pub const FILE: &str = "calibrate.png";

/// Levels drawn at most (one colour each).
const MAX_LEVELS: usize = 6;
/// Points of each fitted CDF.
const CURVE_POINTS: usize = 200;
const MIN_LABEL_GAP_PX: f64 = 70.0;
const MAX_TICKS: usize = 8;
/// Space between the panels.
const GAP: u32 = 30;
const DASH: (u32, u32) = (10, 7);
const POINT_SIZE: u32 = 7;
/// The fitted CDF beside reported percentiles is drawn from z = −3.09 to 3.09 (p0.1 to p99.9,
/// GuideLLM's outermost percentiles).
const FITTED_Z: f64 = 3.09;
const THROTTLE_COLOR: RGBColor = PALETTE[5];

type Points = Vec<(f64, f64)>;

/// One level drawn: its label, the measured CDF (a line through the requests, or the reported
/// percentiles as dots) and the fitted CDF.
struct Curve {
    name: String,
    measured: Points,
    dots: bool,
    fitted: Points,
}

/// The measured CDF points of a level: its sorted requests, or its reported percentiles.
fn measured(l: &crate::analysis::calibrate::Level) -> (Points, bool) {
    if !l.ttft_quantiles_ms.is_empty() {
        let pts = l.ttft_quantiles_ms.iter().map(|&(p, x)| (x, p)).collect();
        return (pts, true);
    }
    let n = l.ttft_ms.len() as f64;
    let step = (l.ttft_ms.len() / 400).max(1);
    let pts = l
        .ttft_ms
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, x)| (*x, (i + 1) as f64 / n))
        .collect();
    (pts, false)
}

/// The levels drawn.
fn curves(c: &Calibration) -> Vec<Curve> {
    let b = &c.base;
    let k = c.prefill.as_ref().map_or(0.0, |p| p.ms_per_1k.value);
    c.levels
        .iter()
        .filter(|l| !l.ttft_ms.is_empty() || !l.ttft_quantiles_ms.is_empty())
        .take(MAX_LEVELS)
        .map(|l| {
            let (meas, dots) = measured(l);
            let s = match (&c.load, l.tokens_per_min) {
                (Some(ld), Some(y)) => {
                    1.0 / (1.0
                        - (y / ld.shared_pool_tpm.value).min(crate::analysis::calibrate::MAX_RHO))
                }
                _ => 1.0,
            };
            // The fitted TTFT at the level's mean prompt: s × (lognormal + prefill).
            let shift = k * l.mean_input.unwrap_or(0.0) / 1000.0;
            // Reported percentiles stop at p0.1 / p99.9: the fitted curve spans the same
            // probabilities, so it is drawn from near 0 to near 1 like the dots.
            let tail = |z: f64| s * (b.median_ms.value * (b.sigma * z).exp() + shift);
            let (mut lo, mut hi) = (
                meas.first().map_or(1.0, |p| p.0),
                meas.last().map_or(1.0, |p| p.0),
            );
            if dots {
                lo = lo.min(tail(-FITTED_Z));
                hi = hi.max(tail(FITTED_Z));
            }
            let lo = lo.max(1e-3);
            let hi = hi.max(lo * 1.01);
            let fitted: Points = (0..=CURVE_POINTS)
                .filter_map(|i| {
                    let x = lo * (hi / lo).powf(i as f64 / CURVE_POINTS as f64);
                    let base = x / s - shift;
                    (base > 0.0 && b.sigma > 0.0)
                        .then(|| (x, normal_cdf((base / b.median_ms.value).ln() / b.sigma)))
                })
                .collect();
            let name = l.level.map_or("measured".into(), |v| {
                format!("{} {}", sig(v, 3), c.level_kind.label())
            });
            Curve {
                name,
                measured: meas,
                dots,
                fitted,
            }
        })
        .collect()
}

pub fn png(c: &Calibration) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), c))
}

fn draw(pixels: &mut [u8], path: &Path, c: &Calibration) -> Result<(), OutputError> {
    let err = chart_err(path);
    let cv = curves(c);
    let mut legend: Vec<LegendEntry> = cv
        .iter()
        .enumerate()
        .map(|(i, cu)| LegendEntry {
            label: if cu.dots {
                format!("{} (dots reported percentiles, dashed fitted)", cu.name)
            } else {
                format!("{} (solid measured, dashed fitted)", cu.name)
            },
            color: PALETTE[i % PALETTE.len()],
            swatch: Swatch::Line,
        })
        .collect();
    legend.push(LegendEntry {
        label: "TTFT against load: measured (dots), fitted (crosses, line)".into(),
        color: PALETTE[7],
        swatch: Swatch::Line,
    });
    if c.reserved.is_some() {
        legend.push(LegendEntry {
            label: "429 share, percent".into(),
            color: THROTTLE_COLOR,
            swatch: Swatch::Line,
        });
    }
    let title = format!(
        "{}: measured TTFT against the calibrated model",
        c.deployment
    );
    let canvas = Canvas::new(pixels, path, &title, &legend)?;
    let (left, right) = canvas.plot.split_horizontally(WIDTH / 2);
    let right = right.margin(0, 0, GAP, 0);
    if cv.is_empty() {
        let (xs, ys) = left.get_pixel_range();
        canvas.note_centered(
            path,
            (xs, ys),
            "per-level TTFT distributions need per-request measurements",
        )?;
    } else {
        draw_cdfs(&left, &cv).map_err(&err)?;
    }
    draw_load(&right, c).map_err(&err)?;
    canvas.finish(path)
}

fn draw_cdfs(area: &Area<'_>, cv: &[Curve]) -> Result<(), DrawError> {
    let xs: Vec<f64> = cv
        .iter()
        .flat_map(|c| c.measured.iter().chain(&c.fitted).map(|p| p.0))
        .filter(|x| *x > 0.0)
        .collect();
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(0.0, f64::max);
    let lo = floor_125(min * 0.9);
    let hi = ceil_125(max * 1.1).max(ceil_125(lo * 1.01));
    let (w, _) = area.dim_in_pixel();
    let (bold, light) = log_ticks(
        lo,
        hi,
        f64::from(w) - f64::from(MARGIN + MARGIN_RIGHT + Y_LABEL_AREA),
        MIN_LABEL_GAP_PX,
    );
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(MARGIN)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(LogCoord::from((lo..hi).log_scale()), bold, light),
            Ticked::new(
                RangedCoordf64::from(0.0..1.03),
                (0..=10).map(|i| f64::from(i) / 10.0).collect(),
                Vec::new(),
            ),
        )?;
    house_style(&mut chart.configure_mesh())
        .x_desc("TTFT, ms (log scale)")
        .y_desc("cumulative fraction of served requests")
        .x_label_formatter(&|v| grouped(*v, if *v < 10.0 { 1 } else { 0 }))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    let inside = |p: &&(f64, f64)| p.0 >= lo && p.0 <= hi;
    for (i, cu) in cv.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if cu.dots {
            chart.draw_series(
                cu.measured
                    .iter()
                    .filter(inside)
                    .map(|p| Circle::new(*p, POINT_SIZE, color.filled())),
            )?;
        } else {
            chart.draw_series(LineSeries::new(
                cu.measured.iter().filter(inside).copied(),
                color.stroke_width(LINE_WIDTH),
            ))?;
        }
        chart.draw_series(DashedLineSeries::new(
            cu.fitted.iter().filter(inside).copied(),
            DASH.0,
            DASH.1,
            color.stroke_width(LINE_WIDTH),
        ))?;
    }
    Ok(())
}

/// (x, measured, fitted) per level, and the x axis description.
fn load_points(c: &Calibration) -> (Vec<(f64, f64, Option<f64>)>, String) {
    if let Some(l) = &c.load {
        let mut pts: Vec<(f64, f64, Option<f64>)> =
            l.points.iter().map(|p| (p.1, p.2, Some(p.3))).collect();
        // Level summaries hold out whole levels: they are drawn too, at their predicted median.
        if c.from_summaries {
            for r in &c.holdout {
                let y = c.levels.iter().find(|lv| lv.level == r.level);
                let p50 = r.stats.iter().find(|s| s.0 == "p50");
                if let (Some(y), Some(p50)) = (y.and_then(|lv| lv.tokens_per_min), p50) {
                    pts.push((y, p50.1, Some(p50.2)));
                }
            }
        }
        return (pts, "the deployment's own tokens per minute".into());
    }
    let b = &c.base;
    if c.reserved.is_some() {
        let mean = b.median_ms.value * (b.sigma * b.sigma / 2.0).exp();
        let pts = c
            .levels
            .iter()
            .filter_map(|l| Some((l.level?, l.window_ttft_ms?.0, Some(mean))))
            .collect();
        return (pts, "clients (mean TTFT)".into());
    }
    let median = b
        .quantiles
        .iter()
        .find(|q| q.0 == 0.5)
        .map(|q| q.2)
        .unwrap_or(b.median_ms.value);
    let pts = c
        .levels
        .iter()
        .filter_map(|l| {
            let m = if l.ttft_ms.is_empty() {
                l.ttft_quantiles_ms.iter().find(|q| q.0 == 0.5)?.1
            } else {
                crate::analysis::calibrate::stats::quantile(&l.ttft_ms, 0.5)
            };
            Some((l.level.unwrap_or(1.0), m, Some(median)))
        })
        .collect();
    (
        pts,
        format!("{} (median TTFT; no load fit)", c.level_kind.label()),
    )
}

fn draw_load(area: &Area<'_>, c: &Calibration) -> Result<(), DrawError> {
    let (pts, desc) = load_points(c);
    let throttle: Vec<(f64, f64)> = c.reserved.as_ref().map_or(Vec::new(), |r| {
        r.throttle
            .iter()
            .map(|t| (t.clients, t.share_429 * 100.0))
            .collect()
    });
    let xmax = pts
        .iter()
        .map(|p| p.0)
        .chain(throttle.iter().map(|p| p.0))
        .fold(0.0, f64::max);
    let ymax = pts
        .iter()
        .flat_map(|p| [p.1, p.2.unwrap_or(0.0)])
        .chain(throttle.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let x = LinearAxis::up_to(xmax * 1.05, MAX_TICKS);
    let y = LinearAxis::up_to(ymax * 1.1, MAX_TICKS);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(MARGIN)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.coord(), y.coord())?;
    house_style(&mut chart.configure_mesh())
        .x_desc(desc)
        .y_desc(if throttle.is_empty() {
            "TTFT, ms"
        } else {
            "TTFT, ms; 429 share, %"
        })
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| y.label(*v))
        .draw()?;
    let black = PALETTE[7];
    let mut fitted: Points = pts.iter().filter_map(|p| Some((p.0, p.2?))).collect();
    fitted.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(
        fitted
            .iter()
            .map(|p| Cross::new(*p, POINT_SIZE, black.stroke_width(LINE_WIDTH))),
    )?;
    chart.draw_series(LineSeries::new(fitted, black.stroke_width(LINE_WIDTH)))?;
    chart.draw_series(
        pts.iter()
            .map(|p| Circle::new((p.0, p.1), POINT_SIZE, black.filled())),
    )?;
    if !throttle.is_empty() {
        chart.draw_series(
            throttle
                .iter()
                .map(|p| Circle::new(*p, POINT_SIZE, THROTTLE_COLOR.filled())),
        )?;
    }
    Ok(())
}
