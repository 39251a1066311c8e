//! `fit.png`: how well llmcap's traffic model fits a trace. Left, the
//! requests per counting interval over the trace with the fitted mean and the
//! ±2 standard deviation band of the fitted Gamma-Poisson model; right, the
//! input and output token CDFs on a log axis, trace against fitted lognormal, or, for a usage
//! export (token totals, no per-request counts), the tokens per request over time against the
//! fitted means.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    ceil_125, chart_err, floor_125, house_style, label_style, log_ticks, Area, Canvas, DrawError,
    LinearAxis, SpanAxis, Ticked, AXIS_DESC_SIZE, GRID_BOLD, LEGEND_SIZE, LINE_WIDTH, MARGIN,
    MARGIN_RIGHT, PALETTE, TEXT_COLOR, WIDTH, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::grouped;

/// One token kind: the trace's CDF and the fitted one.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCdf {
    /// "input" or "output".
    pub label: String,
    /// `(tokens, fraction of requests <= tokens)`, tokens > 0, sorted.
    pub trace: Vec<(f64, f64)>,
    /// The fitted distribution at the same kind of points.
    pub fitted: Vec<(f64, f64)>,
    /// The Kolmogorov-Smirnov distance, shown in the legend.
    pub ks: f64,
}

/// Everything the chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct FitChart {
    /// The counting interval, seconds.
    pub interval_s: f64,
    /// Requests in each complete interval of the trace, from its first request.
    pub counts: Vec<f64>,
    /// The fitted model's expected count in each interval.
    pub expected: Vec<f64>,
    /// The fitted model's standard deviation of the count in each interval.
    pub sd: Vec<f64>,
    /// The fitted overdispersion k, shown in the legend.
    pub overdispersion: f64,
    pub tokens: Vec<TokenCdf>,
    /// A usage export's tokens per request over time (then `tokens` is empty).
    pub token_series: Option<TokenSeries>,
}

/// A usage export's mean input and output tokens per request in each counting interval, and
/// the fitted means.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSeries {
    /// `[input, output]` per request in each interval; None without requests.
    pub per_interval: Vec<Option<[f64; 2]>>,
    /// The fitted means per request, `[input, output]`.
    pub means: [f64; 2],
}

const MAX_Y_TICKS: usize = 8;
const MAX_X_TICKS: usize = 8;
/// Rows of legend under each panel's heading.
const LEGEND_ROWS: usize = 2;
const LEGEND_ROW: u32 = 28;
const LEGEND_SWATCH: i32 = 30;
const LEGEND_GAP: i32 = 30;
/// Room above each panel for its heading and legend.
const HEADING_ROOM: u32 = 40 + LEGEND_ROWS as u32 * LEGEND_ROW;
/// The share of the width the time panel takes.
const LEFT_SHARE: f64 = 0.54;
/// Below this many pixels between 1 and 2 on the log axis, only powers of ten
/// get labels.
const MIN_LABEL_GAP_PX: f64 = 70.0;
const TRACE_COLOR: RGBColor = PALETTE[0];
const MEAN_COLOR: RGBColor = PALETTE[7];
const BAND: RGBAColor = RGBAColor(0, 114, 178, 0.16);
/// Colours of the token kinds, in order (input, output).
const TOKEN_COLORS: [RGBColor; 2] = [PALETTE[5], PALETTE[2]];
const Y_TOP: f64 = 1.03;

/// `(x, y)` points of a curve.
type Points = Vec<(f64, f64)>;

/// The time unit of the x axis for a trace of `span_s` seconds.
fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s <= 3.0 * 3600.0 {
        (60.0, "minutes")
    } else if span_s <= 3.0 * 86_400.0 {
        (3600.0, "hours")
    } else {
        (86_400.0, "days")
    }
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "fit.png";

/// Draws the fit chart as PNG bytes.
pub fn png(title: &str, data: &FitChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(pixels: &mut [u8], path: &Path, title: &str, data: &FitChart) -> Result<(), OutputError> {
    let err = chart_err(path);
    let dt = if data.interval_s.is_finite() && data.interval_s > 0.0 {
        data.interval_s
    } else {
        60.0
    };
    let interval = grouped(dt, 0);
    // Each panel has its own legend above it, so the pairs stay together.
    let canvas = Canvas::new(pixels, path, title, &[])?;
    let (left, right) = canvas
        .plot
        .split_horizontally((f64::from(WIDTH) * LEFT_SHARE) as u32);
    draw_counts(&canvas, &left, data, dt, &interval).map_err(&err)?;
    match &data.token_series {
        Some(ts) => draw_token_series(&canvas, &right, ts, dt).map_err(&err)?,
        None => draw_tokens(&canvas, &right, data).map_err(&err)?,
    }
    canvas.finish(path)
}

fn draw_counts(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    data: &FitChart,
    dt: f64,
    interval: &str,
) -> Result<(), DrawError> {
    let n = data.counts.len();
    let span = n as f64 * dt;
    let (unit, unit_name) = time_unit(span);
    let x = SpanAxis::new(0.0, (span / unit).max(1e-9), MAX_X_TICKS);
    let value = |v: &[f64], i: usize| v.get(i).copied().filter(|x| x.is_finite()).unwrap_or(0.0);
    let hi: Vec<f64> = (0..n)
        .map(|i| value(&data.expected, i) + 2.0 * value(&data.sd, i))
        .collect();
    let lo: Vec<f64> = (0..n)
        .map(|i| (value(&data.expected, i) - 2.0 * value(&data.sd, i)).max(0.0))
        .collect();
    let top = data
        .counts
        .iter()
        .chain(&hi)
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y_desc = format!("requests per {interval} s");
    let mut chart = time_panel(area, MARGIN, &x, unit_name, top, &y_desc)?;

    let outline = |v: &[f64]| steps(v, dt / unit);
    if n > 0 {
        let mut band = outline(&hi);
        band.extend(outline(&lo).into_iter().rev());
        chart.draw_series(std::iter::once(Polygon::new(band, BAND.filled())))?;
        let width = if n > 400 { 1 } else { 2 };
        chart.draw_series(std::iter::once(PathElement::new(
            outline(&data.counts),
            TRACE_COLOR.stroke_width(width),
        )))?;
        let expected: Vec<f64> = (0..n).map(|i| value(&data.expected, i)).collect();
        chart.draw_series(std::iter::once(PathElement::new(
            outline(&expected),
            MEAN_COLOR.stroke_width(LINE_WIDTH),
        )))?;
    }
    heading(
        &canvas.root,
        &chart,
        &format!("requests per {interval} s over the trace"),
        &[
            vec![
                (
                    format!("trace, requests per {interval} s"),
                    Key::Line(TRACE_COLOR),
                ),
                ("fitted mean".to_string(), Key::Line(MEAN_COLOR)),
            ],
            vec![(
                format!(
                    "fitted ±2 sd (Gamma-Poisson, k = {})",
                    format_k(data.overdispersion)
                ),
                Key::Fill(BAND),
            )],
        ],
    )?;
    if n == 0 {
        let px = chart.plotting_area().get_pixel_range();
        drop(chart);
        note(canvas, px, "no complete interval")?;
    }
    Ok(())
}

fn draw_tokens(canvas: &Canvas<'_>, area: &Area<'_>, data: &FitChart) -> Result<(), DrawError> {
    let usable = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        pts.iter()
            .filter(|(x, y)| x.is_finite() && *x > 0.0 && y.is_finite())
            .map(|&(x, y)| (x, y.clamp(0.0, 1.0)))
            .collect()
    };
    // The trace's CDF rises from 0 at its smallest count.
    let curves: Vec<(Points, Points)> = data
        .tokens
        .iter()
        .map(|t| {
            let mut trace = usable(&t.trace);
            if let Some(&(x, f)) = trace.first() {
                if f > 0.0 {
                    trace.insert(0, (x, 0.0));
                }
            }
            (trace, usable(&t.fitted))
        })
        .collect();
    let xs = curves
        .iter()
        .flat_map(|(a, _)| a.iter().map(|p| p.0))
        .collect::<Vec<_>>();
    let (min, max) = xs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    let (lo, hi) = if min.is_finite() && max > 0.0 {
        // A little room on both sides, so curves at the ends stay visible.
        let lo = floor_125(min * 0.9);
        (lo, ceil_125(max * 1.1).max(ceil_125(lo * 1.01)))
    } else {
        (1.0, 10_000.0)
    };
    let (w, _) = area.dim_in_pixel();
    let plot_px = f64::from(w) - f64::from(MARGIN + MARGIN_RIGHT + Y_LABEL_AREA);
    let (bold, light) = log_ticks(lo, hi, plot_px, MIN_LABEL_GAP_PX);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(LogCoord::from((lo..hi).log_scale()), bold, light),
            Ticked::new(
                RangedCoordf64::from(0.0..Y_TOP),
                (0..=10).map(|i| f64::from(i) / 10.0).collect(),
                Vec::new(),
            ),
        )?;
    house_style(&mut chart.configure_mesh())
        .x_desc("tokens per request (log scale)")
        .y_desc("cumulative fraction of requests")
        .x_label_formatter(&|v| grouped(*v, 0))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    for (i, (trace, fitted)) in curves.iter().enumerate() {
        let color = TOKEN_COLORS[i % TOKEN_COLORS.len()];
        let inside = |p: &&(f64, f64)| p.0 >= lo && p.0 <= hi;
        chart.draw_series(DashedLineSeries::new(
            fitted.iter().filter(inside).copied(),
            10,
            7,
            color.stroke_width(LINE_WIDTH),
        ))?;
        chart.draw_series(LineSeries::new(
            trace.iter().filter(inside).copied(),
            color.stroke_width(LINE_WIDTH),
        ))?;
    }
    let keys: Vec<Vec<(String, Key)>> = data
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let color = TOKEN_COLORS[i % TOKEN_COLORS.len()];
            vec![
                (format!("{}: trace", t.label), Key::Line(color)),
                (
                    format!("{}: lognormal fit (KS {:.3})", t.label, t.ks),
                    Key::Dashed(color),
                ),
            ]
        })
        .collect();
    heading(
        &canvas.root,
        &chart,
        "tokens per request, trace against the fitted lognormal",
        &keys,
    )?;
    if xs.is_empty() {
        let px = chart.plotting_area().get_pixel_range();
        drop(chart);
        note(canvas, px, "no token counts")?;
    }
    Ok(())
}

/// A usage export's panel: mean input and output tokens per request in each interval over
/// time, with the fitted means dashed (what fit.toml's exponential token distributions average).
fn draw_token_series(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    ts: &TokenSeries,
    dt: f64,
) -> Result<(), DrawError> {
    let n = ts.per_interval.len();
    let span = n as f64 * dt;
    let (unit, unit_name) = time_unit(span);
    let x = SpanAxis::new(0.0, (span / unit).max(1e-9), MAX_X_TICKS);
    let top = ts
        .per_interval
        .iter()
        .flatten()
        .flat_map(|v| v.iter())
        .chain(ts.means.iter())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut chart = time_panel(area, MARGIN_RIGHT, &x, unit_name, top, "tokens per request")?;
    let width = if n > 400 { 1 } else { 2 };
    let end = span / unit;
    for (k, color) in TOKEN_COLORS.iter().enumerate() {
        // Intervals without requests break the line.
        let mut run: Points = Vec::new();
        let mut runs: Vec<Points> = Vec::new();
        for (i, v) in ts.per_interval.iter().enumerate() {
            match v.map(|v| v[k]).filter(|v| v.is_finite()) {
                Some(v) => run.push(((i as f64 + 0.5) * dt / unit, v)),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for r in runs.into_iter().filter(|r| !r.is_empty()) {
            chart.draw_series(std::iter::once(PathElement::new(
                r,
                color.stroke_width(width),
            )))?;
        }
        if ts.means[k].is_finite() {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, ts.means[k]), (end, ts.means[k])],
                10,
                6,
                MEAN_COLOR.stroke_width(LINE_WIDTH),
            ))?;
        }
    }
    let key = |k: usize, label: &str| {
        vec![
            (
                format!("{label} tokens per request, per {} s", grouped(dt, 0)),
                Key::Line(TOKEN_COLORS[k]),
            ),
            (
                format!("fitted mean {}", grouped(ts.means[k], 0)),
                Key::Dashed(MEAN_COLOR),
            ),
        ]
    };
    heading(
        &canvas.root,
        &chart,
        "tokens per request over the export (totals / requests)",
        &[key(0, "input"), key(1, "output")],
    )?;
    if ts.per_interval.iter().all(Option::is_none) {
        let px = chart.plotting_area().get_pixel_range();
        drop(chart);
        note(canvas, px, "no interval with requests")?;
    }
    Ok(())
}

/// A chart over time: both axes linear, with our ticks.
type TimeChart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<Ticked<RangedCoordf64>, Ticked<RangedCoordf64>>,
>;

/// A panel over time (x in `unit_name` from the first request, y from 0 to a little above
/// `top`), its heading room left above, the grid and labels drawn.
fn time_panel<'a, 'b>(
    area: &'a Area<'b>,
    margin_right: u32,
    x: &SpanAxis,
    unit_name: &str,
    top: f64,
    y_desc: &str,
) -> Result<TimeChart<'a, 'b>, DrawError> {
    let y = LinearAxis::up_to(top, MAX_Y_TICKS);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(margin_right)
        .margin_top(HEADING_ROOM)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.coord(), y.coord())?;
    house_style(&mut chart.configure_mesh())
        .x_desc(format!("time since the first request ({unit_name})"))
        .y_desc(y_desc)
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| y.label(*v))
        .draw()?;
    Ok(chart)
}

/// A step outline: value i holds from i w to (i + 1) w. Runs of equal
/// values are one segment (thick lines draw cleaner without zero-length
/// pieces).
fn steps(v: &[f64], w: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(2 * v.len());
    for (i, &c) in v.iter().enumerate() {
        let (a, b) = (i as f64 * w, (i + 1) as f64 * w);
        match out.last_mut() {
            Some(last) if last.1 == c => last.0 = b,
            _ => {
                out.push((a, c));
                out.push((b, c));
            }
        }
    }
    out
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy)]
enum Key {
    Line(RGBColor),
    Dashed(RGBColor),
    Fill(RGBAColor),
}

/// The panel's heading and its legend (up to [`LEGEND_ROWS`] rows of
/// entries), left-aligned above its plotting area.
fn heading<X: plotters::coord::ranged1d::Ranged, Y: plotters::coord::ranged1d::Ranged>(
    root: &Area<'_>,
    chart: &ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
    text: &str,
    rows: &[Vec<(String, Key)>],
) -> Result<(), DrawError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let row_h = LEGEND_ROW as i32;
    let legend_top = ys.start - 6 - LEGEND_ROWS as i32 * row_h;
    let style = label_style(AXIS_DESC_SIZE, TEXT_COLOR, HPos::Left, VPos::Bottom);
    super::put_text(root, text, &style, (xs.start, legend_top - 6))?;
    let label = label_style(LEGEND_SIZE, TEXT_COLOR, HPos::Left, VPos::Center);
    for (r, row) in rows.iter().take(LEGEND_ROWS).enumerate() {
        let y = legend_top + r as i32 * row_h + row_h / 2;
        let mut x = xs.start;
        for (text, key) in row {
            let (a, b) = (x, x + LEGEND_SWATCH);
            match *key {
                Key::Line(c) => root.draw(&PathElement::new(
                    vec![(a, y), (b, y)],
                    c.stroke_width(LINE_WIDTH),
                ))?,
                Key::Dashed(c) => root.draw(&plotters::element::DashedPathElement::new(
                    vec![(a, y), (b, y)],
                    7,
                    5,
                    c.stroke_width(LINE_WIDTH),
                ))?,
                Key::Fill(c) => {
                    root.draw(&Rectangle::new([(a, y - 8), (b, y + 8)], c.filled()))?;
                    root.draw(&Rectangle::new(
                        [(a, y - 8), (b, y + 8)],
                        GRID_BOLD.stroke_width(1),
                    ))?;
                }
            }
            super::put_text(root, text, &label, (b + 8, y))?;
            let (w, _) = root.estimate_text_size(text, &label)?;
            x = b + 8 + w as i32 + LEGEND_GAP;
        }
    }
    Ok(())
}

fn note(
    canvas: &Canvas<'_>,
    px: (std::ops::Range<i32>, std::ops::Range<i32>),
    text: &str,
) -> Result<(), DrawError> {
    // Canvas::note_centered reports OutputError; draw the same note here.
    let style = label_style(24.0, RGBColor(110, 110, 110), HPos::Center, VPos::Center);
    let at = ((px.0.start + px.0.end) / 2, (px.1.start + px.1.end) / 2);
    super::put_text(&canvas.root, text, &style, at)
}

/// k with enough digits to tell small values apart: 0, 0.0031, 0.12, 3.4.
fn format_k(k: f64) -> String {
    if !k.is_finite() || k <= 0.0 {
        "0".into()
    } else if k < 0.01 {
        format!("{k:.4}")
    } else if k < 1.0 {
        format!("{k:.3}")
    } else {
        format!("{k:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdf(median: f64, spread: f64) -> Vec<(f64, f64)> {
        (1..200)
            .map(|i| {
                let q = i as f64 / 200.0;
                (median * (q / (1.0 - q)).powf(spread), q)
            })
            .collect()
    }

    fn sample(n: usize) -> FitChart {
        let counts: Vec<f64> = (0..n)
            .map(|i| 300.0 + ((i * 7919) % 97) as f64 * 3.0)
            .collect();
        FitChart {
            interval_s: 60.0,
            counts,
            expected: vec![445.0; n],
            sd: vec![60.0; n],
            overdispersion: 0.015,
            tokens: vec![
                TokenCdf {
                    label: "input".into(),
                    trace: cdf(1000.0, 0.6),
                    fitted: cdf(1020.0, 0.55),
                    ks: 0.04,
                },
                TokenCdf {
                    label: "output".into(),
                    trace: cdf(120.0, 0.5),
                    fitted: cdf(110.0, 0.5),
                    ks: 0.07,
                },
            ],
            token_series: None,
        }
    }

    /// A usage export's chart: tokens per request over time, with a gap (no requests).
    fn export_sample(n: usize) -> FitChart {
        let per_interval = (0..n)
            .map(|i| (i % 50 != 7).then_some([800.0 + (i % 13) as f64 * 20.0, 150.0]))
            .collect();
        FitChart {
            tokens: vec![],
            token_series: Some(TokenSeries {
                per_interval,
                means: [920.0, 150.0],
            }),
            ..sample(n)
        }
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Fit", &sample(58)));
        super::super::assert_deterministic(|| png("Fit, long", &sample(20_000)));
        super::super::assert_deterministic(|| png("Fit, export", &export_sample(2_000)));
    }

    #[test]
    fn empty_inputs_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        let empty = FitChart {
            interval_s: 60.0,
            counts: vec![],
            expected: vec![],
            sd: vec![],
            overdispersion: 0.0,
            tokens: vec![],
            token_series: None,
        };
        super::super::save(&path, png("Fit", &empty));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        // An export without an interval that has requests says so.
        let none = FitChart {
            token_series: Some(TokenSeries {
                per_interval: vec![None; 3],
                means: [0.0, 0.0],
            }),
            ..empty
        };
        super::super::save(&path, png("Fit", &none));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
    }

    #[test]
    fn time_axis_unit_follows_the_span() {
        assert_eq!(time_unit(3500.0).1, "minutes");
        assert_eq!(time_unit(86_400.0).1, "hours");
        assert_eq!(time_unit(30.0 * 86_400.0).1, "days");
        assert_eq!(format_k(0.0), "0");
        assert_eq!(format_k(0.00312), "0.0031");
        assert_eq!(format_k(0.5), "0.500");
    }
}
