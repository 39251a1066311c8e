//! Distribution of time to first token, in two panels on log-scale time
//! axes: on the left the cumulative curve of each series (the body of the
//! distribution); on the right the tail where SLAs live, the share of
//! requests slower than each TTFT (1 - F) on a log scale from 10% (p90) to
//! 0.01% (p99.99). The SLA target is a dashed vertical line in both.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ceil_125, chart_err, decimals_for, floor_125, house_style, put_text, record_axes, Area, Canvas,
    DrawError, LegendEntry, Swatch, Ticked, AXIS_DESC_SIZE, FONT, LINE_WIDTH, MARGIN, MARGIN_RIGHT,
    PALETTE, TEXT_COLOR, TICK_SIZE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::{grouped, ms_tick};

/// One cumulative distribution: `(ttft_ms, fraction)` points with
/// `ttft_ms > 0` and `fraction` in `0..=1`, sorted by `ttft_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct CdfSeries {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A series ready to draw: its usable points and its colour.
struct Curve<'a> {
    color: RGBColor,
    label: &'a str,
    points: Vec<(f64, f64)>,
}

/// The x range used when there is nothing to show.
const EMPTY_RANGE_MS: (f64, f64) = (10.0, 10_000.0);
/// Top of the y axis: a little above 1 so curves that reach 1 stay visible.
const Y_TOP: f64 = 1.03;
const SLA_COLOR: RGBColor = RGBColor(90, 90, 90);
/// Below this many pixels between 1 and 2 on the axis, only powers of ten get
/// labels (their 2 and 5 still get grid lines).
const MIN_LABEL_GAP_PX: f64 = 70.0;
/// The tail panel's exceedance range, 10% (p90) down to 0.01% (p99.99),
/// with a little room past both ends so their ticks sit inside the frame.
const TAIL_TOP: f64 = 0.1;
const TAIL_BOTTOM: f64 = 1e-4;
const TAIL_ROOM: f64 = 1.25;
/// The tail's y labels name the percentile too ("1% (p99)"): wider than
/// the usual label area.
const TAIL_Y_LABEL_AREA: u32 = 150;
/// Room above each panel: its caption, then the SLA label under it.
const PANEL_MARGIN_TOP: u32 = 64;
/// The left panel's share of the width.
const LEFT_SHARE: (u32, u32) = (1, 2);

/// The file this chart is written to in a results folder.
pub const FILE: &str = "ttft_cdf.png";

/// Draws the TTFT distribution of each series as PNG bytes. Series with
/// no usable points are left out; with none left, the axes are drawn with a
/// "no requests served" note in each panel.
pub fn png(title: &str, series: &[CdfSeries], sla_ms: Option<f64>) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| {
        draw(pixels, Path::new(FILE), title, series, sla_ms)
    })
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    series: &[CdfSeries],
    sla_ms: Option<f64>,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let sla_ms = sla_ms.filter(|s| s.is_finite() && *s > 0.0);

    // Keep what a log axis can show; colours follow the caller's order, so a
    // series keeps its colour whether or not its neighbours are empty.
    let curves: Vec<Curve> = series
        .iter()
        .enumerate()
        .map(|(i, s)| Curve {
            color: PALETTE[i % PALETTE.len()],
            label: &s.label,
            points: s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && *x > 0.0 && y.is_finite())
                .map(|&(x, y)| (x, y.clamp(0.0, 1.0)))
                .collect(),
        })
        .filter(|c| !c.points.is_empty())
        .collect();

    let legend: Vec<LegendEntry> = curves
        .iter()
        .map(|c| LegendEntry {
            label: c.label.to_string(),
            color: c.color,
            swatch: Swatch::Line,
        })
        .collect();
    let canvas = Canvas::new(pixels, path, title, &legend)?;
    let (w, _) = canvas.plot.dim_in_pixel();
    let (left, right) = canvas
        .plot
        .split_horizontally(w * LEFT_SHARE.0 / LEFT_SHARE.1);
    draw_body(&canvas, &left, &curves, sla_ms).map_err(&err)?;
    draw_tail(&canvas, &right, &curves, sla_ms).map_err(&err)?;
    if curves.is_empty() {
        for area in [&left, &right] {
            let (xs, ys) = plot_pixels(area, Y_LABEL_AREA);
            canvas.note_centered(path, (xs, ys), "no requests served")?;
        }
    }
    canvas.finish(path)
}

/// The plotting area a panel on `area` gets (pixels of the whole image).
fn plot_pixels(area: &Area<'_>, y_labels: u32) -> (std::ops::Range<i32>, std::ops::Range<i32>) {
    let (x0, y0) = area.get_base_pixel();
    let (w, h) = area.dim_in_pixel();
    let left = x0 + (MARGIN + y_labels) as i32;
    let right = x0 + w as i32 - MARGIN_RIGHT as i32;
    let top = y0 + PANEL_MARGIN_TOP as i32;
    let bottom = y0 + h as i32 - (MARGIN + X_LABEL_AREA) as i32;
    (left..right, top..bottom)
}

/// The panel's caption above it, and the SLA label above the line.
fn panel_text(
    root: &Area<'_>,
    (xs, ys): (&std::ops::Range<i32>, &std::ops::Range<i32>),
    caption: &str,
    sla: Option<(i32, f64)>,
) -> Result<(), DrawError> {
    let style = (FONT, AXIS_DESC_SIZE)
        .into_font()
        .color(&TEXT_COLOR)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    put_text(root, caption, &style, (xs.start, ys.start - 30))?;
    if let Some((x, sla)) = sla {
        let label = format!("SLA {} ms", grouped(sla, decimals_for(sla).min(2)));
        let style = (FONT, TICK_SIZE)
            .into_font()
            .color(&SLA_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        put_text(root, &label, &style, (x, ys.start - 6))?;
    }
    Ok(())
}

/// The left panel: the cumulative fraction of requests at or below each TTFT.
fn draw_body(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    curves: &[Curve<'_>],
    sla_ms: Option<f64>,
) -> Result<(), DrawError> {
    let (lo, hi) = x_range(
        curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)),
        sla_ms,
    );
    let (px, _) = plot_pixels(area, Y_LABEL_AREA);
    let (bold, light) = log_ticks(lo, hi, f64::from(px.end - px.start));
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(PANEL_MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
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
        .x_desc("TTFT (ms, log scale)")
        .y_desc("cumulative fraction of requests")
        .x_label_formatter(&|v| ms_tick(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);
    if let Some(sla) = sla_ms {
        chart.draw_series(DashedLineSeries::new(
            vec![(sla, 0.0), (sla, Y_TOP)],
            12,
            8,
            SLA_COLOR.stroke_width(2),
        ))?;
    }
    for c in curves {
        chart.draw_series(LineSeries::new(
            c.points.iter().copied(),
            c.color.stroke_width(LINE_WIDTH),
        ))?;
    }
    let sla = sla_ms.map(|s| (chart.backend_coord(&(s, Y_TOP)).0, s));
    panel_text(
        &canvas.root,
        (&xs, &ys),
        "whole distribution: share of requests at or below each TTFT",
        sla,
    )
}

/// A curve's tail: `(ttft_ms, 1 - F)` from the last point above
/// [`TAIL_TOP`] (so the line enters from the top) to the first at or below
/// [`TAIL_BOTTOM`], which is drawn at the bottom edge (a log axis has no 0).
fn tail_points(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let bottom = TAIL_BOTTOM / TAIL_ROOM;
    let first = points
        .iter()
        .rposition(|p| 1.0 - p.1 > TAIL_TOP * TAIL_ROOM)
        .unwrap_or(0);
    let mut out = Vec::new();
    for &(ms, f) in &points[first.min(points.len())..] {
        let e = 1.0 - f;
        out.push((ms, e.max(bottom)));
        if e <= bottom {
            break;
        }
    }
    out
}

/// The TTFT range of the tail panel: from the fastest time any curve's
/// exceedance is at or below 10% to the slowest time any curve is still above
/// the panel's floor (and the SLA); slower requests are below the floor.
fn tail_range(curves: &[Curve<'_>], sla_ms: Option<f64>) -> (f64, f64) {
    let start = curves
        .iter()
        .filter_map(|c| c.points.iter().find(|p| 1.0 - p.1 <= TAIL_TOP).map(|p| p.0));
    let end = curves
        .iter()
        .filter_map(|c| tail_points(&c.points).last().map(|p| p.0));
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in start {
        lo = lo.min(v);
    }
    for v in end {
        hi = hi.max(v);
    }
    if !lo.is_finite() || hi <= 0.0 {
        return x_range(std::iter::empty(), sla_ms);
    }
    x_range([lo, hi].into_iter(), sla_ms)
}

/// "1% (p99)": an exceedance tick with the percentile it marks.
fn tail_tick(v: f64) -> String {
    let e = v.log10();
    if (e - e.round()).abs() > 1e-9 {
        return String::new();
    }
    match e.round() as i32 {
        -1 => "10% (p90)".to_string(),
        -2 => "1% (p99)".to_string(),
        -3 => "0.1% (p99.9)".to_string(),
        -4 => "0.01% (p99.99)".to_string(),
        _ => String::new(),
    }
}

/// The right panel: the share of requests slower than each TTFT, where the
/// SLAs are.
fn draw_tail(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    curves: &[Curve<'_>],
    sla_ms: Option<f64>,
) -> Result<(), DrawError> {
    let (lo, hi) = tail_range(curves, sla_ms);
    let (px, _) = plot_pixels(area, TAIL_Y_LABEL_AREA);
    let (bold, light) = log_ticks(lo, hi, f64::from(px.end - px.start));
    let (y_lo, y_hi) = (TAIL_BOTTOM / TAIL_ROOM, TAIL_TOP * TAIL_ROOM);
    let y_bold: Vec<f64> = [1e-4, 1e-3, 1e-2, 1e-1].to_vec();
    let y_light: Vec<f64> = (-4..=-2)
        .flat_map(|e| [2.0, 5.0].map(|k| k * 10f64.powi(e)))
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(PANEL_MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(TAIL_Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(LogCoord::from((lo..hi).log_scale()), bold, light),
            Ticked::new(LogCoord::from((y_lo..y_hi).log_scale()), y_bold, y_light),
        )?;
    house_style(&mut chart.configure_mesh())
        .x_desc("TTFT (ms, log scale)")
        .y_desc("share of requests slower (log scale)")
        .x_label_formatter(&|v| ms_tick(*v))
        .y_label_formatter(&|v| tail_tick(*v))
        .draw()?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    record_axes((&xs, &ys), X_LABEL_AREA, TAIL_Y_LABEL_AREA, 0);
    if let Some(sla) = sla_ms {
        chart.draw_series(DashedLineSeries::new(
            vec![(sla, y_lo), (sla, y_hi)],
            12,
            8,
            SLA_COLOR.stroke_width(2),
        ))?;
    }
    for c in curves {
        chart.draw_series(LineSeries::new(
            tail_points(&c.points),
            c.color.stroke_width(LINE_WIDTH),
        ))?;
    }
    let sla = sla_ms.map(|s| (chart.backend_coord(&(s, y_hi)).0, s));
    panel_text(
        &canvas.root,
        (&xs, &ys),
        "tail, p90 to p99.99: share of requests slower than each TTFT",
        sla,
    )
}

/// The x range: from a 1-2-5 value at or below the fastest request to one at
/// or above the slowest (a default range when there are none), widened to
/// show the SLA line with room for its label.
fn x_range(xs: impl Iterator<Item = f64>, sla_ms: Option<f64>) -> (f64, f64) {
    let (mut min, mut max) = (f64::INFINITY, 0.0f64);
    for x in xs {
        min = min.min(x);
        max = max.max(x);
    }
    if !min.is_finite() || max <= 0.0 {
        (min, max) = EMPTY_RANGE_MS;
    }
    if let Some(sla) = sla_ms {
        min = min.min(sla);
        // Keep the SLA label ("SLA 800 ms", ~90 px) inside the image.
        max = max.max(sla * 1.3);
    }
    let lo = floor_125(min);
    let mut hi = ceil_125(max);
    if hi <= lo {
        hi = ceil_125(lo * 1.01);
    }
    (lo, hi)
}

/// Log-axis ticks over a panel `plot_px` pixels wide.
fn log_ticks(lo: f64, hi: f64, plot_px: f64) -> (Vec<f64>, Vec<f64>) {
    super::log_ticks(lo, hi, plot_px, MIN_LABEL_GAP_PX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_cdf(median_ms: f64, spread: f64, n: usize) -> Vec<(f64, f64)> {
        // A log-logistic curve: simple, smooth and monotone.
        (0..n)
            .map(|i| {
                let q = (i as f64 + 0.5) / n as f64;
                (median_ms * (q / (1.0 - q)).powf(spread), q)
            })
            .collect()
    }

    fn sample() -> Vec<CdfSeries> {
        vec![
            CdfSeries {
                label: "chat via ptu".into(),
                points: fake_cdf(180.0, 0.35, 400),
            },
            CdfSeries {
                label: "chat via paygo".into(),
                points: fake_cdf(450.0, 0.3, 400),
            },
            CdfSeries {
                label: "batch summarize".into(),
                points: fake_cdf(1200.0, 0.25, 400),
            },
        ]
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Time to first token", &sample(), Some(800.0)));
    }

    #[test]
    fn empty_series_are_skipped_and_all_empty_still_draws() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        let empty = vec![CdfSeries {
            label: "nothing".into(),
            points: vec![],
        }];
        super::super::save(&path, png("Time to first token", &empty, Some(800.0)));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        super::super::save(&path, png("Time to first token", &[], None));
        assert!(path.exists());

        let mut some = sample();
        some.insert(1, empty[0].clone());
        super::super::save(&path, png("Time to first token", &some, None));
    }

    #[test]
    fn ticks_are_1_2_5_and_cover_the_data() {
        let (lo, hi) = x_range([40.0, 5000.0].into_iter(), Some(800.0));
        assert_eq!((lo, hi), (20.0, 5000.0));
        let (bold, light) = log_ticks(lo, hi, 1248.0);
        assert_eq!(
            bold,
            vec![20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0]
        );
        assert!(light.contains(&30.0) && light.contains(&4000.0));
        let (bold, _) = log_ticks(0.1, 1e6, 600.0);
        assert!(bold
            .iter()
            .all(|v| (v.log10() - v.log10().round()).abs() < 1e-9));
        assert_eq!(ms_tick(1000.0), "1,000");
        assert_eq!(ms_tick(0.5), "0.5");
    }

    #[test]
    fn the_tail_runs_from_p90_to_the_floor() {
        let pts = [
            (10.0, 0.5),
            (20.0, 0.8),
            (30.0, 0.95),
            (40.0, 0.999),
            (50.0, 1.0),
            (60.0, 1.0),
        ];
        let t = tail_points(&pts);
        // From the last point above 12.5% slower (20 ms, 20%) to the first
        // at the floor (50 ms, drawn at 0.008%).
        let xs: Vec<f64> = t.iter().map(|p| p.0).collect();
        assert_eq!(xs, vec![20.0, 30.0, 40.0, 50.0]);
        assert!((t[0].1 - 0.2).abs() < 1e-12 && (t[2].1 - 0.001).abs() < 1e-12);
        assert_eq!(t[3].1, TAIL_BOTTOM / TAIL_ROOM);
        assert!(tail_points(&[]).is_empty());
        assert_eq!(tail_tick(0.01), "1% (p99)");
        assert_eq!(tail_tick(1e-4), "0.01% (p99.99)");
        assert_eq!(tail_tick(2e-3), "");
        // The tail's time axis starts where the fastest curve reaches p90.
        let c = [Curve {
            color: PALETTE[0],
            label: "a",
            points: pts.to_vec(),
        }];
        // ... and ends where the slowest curve reaches the floor (50 ms),
        // not at the slowest request (60 ms).
        assert_eq!(tail_range(&c, None), (20.0, 50.0));
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        super::super::save(
            dir.join("ttft_cdf.png"),
            png("Time to first token by route", &sample(), Some(800.0)),
        );
        super::super::save(
            dir.join("ttft_cdf_empty.png"),
            png("Time to first token", &[], Some(800.0)),
        );
    }
}
