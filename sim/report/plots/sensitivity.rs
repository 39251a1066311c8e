//! What moves the break-even, in two panels: on the left a tornado chart of
//! the break-even utilization when one input at a time is set low or high; on
//! the right the average reserved utilization a workload can reach against
//! its diurnal peak-to-trough ratio, with the break-even as a dashed line and
//! the simulated configuration with the fewest units meeting the SLA marked.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    chart_err, draw_marker, font, house_style, label_style, place_label, redraw_swatches, text_box,
    Area, Canvas, DrawError, LegendEntry, Marker, PixelBox, Shape, SpanAxis, Swatch, SwatchArt,
    Ticked, AREA_OPACITY, AXIS_DESC_SIZE, LINE_WIDTH, MARGIN, MARGIN_RIGHT, PALETTE, TEXT_COLOR,
    TICK_SIZE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::{grouped, percent};

/// A plotting area in pixels of the whole image: (x range, y range).
type PixelRange = (Range<i32>, Range<i32>);

/// One input of the tornado: the break-even utilization with the input at a
/// low and at a high setting, the others at the scenario's values.
#[derive(Debug, Clone, PartialEq)]
pub struct TornadoBar {
    /// The input, e.g. "output/input token ratio".
    pub input: String,
    /// The low setting, e.g. "x0.5 (0.09)".
    pub low_label: String,
    /// Break-even utilization (0..1) at the low setting; above 1 the reserved
    /// units never break even.
    pub low: f64,
    /// The high setting, e.g. "x2 (0.36)".
    pub high_label: String,
    /// Break-even utilization (0..1) at the high setting; above 1: never.
    pub high: f64,
}

/// The average reserved utilization reachable at each peak-to-trough ratio
/// for one way of sizing the reserved units.
#[derive(Debug, Clone, PartialEq)]
pub struct ReachCurve {
    /// How the units are sized, e.g. "sized for peak + 20% headroom".
    pub label: String,
    /// (peak-to-trough ratio, average utilization 0..1), in any order.
    pub points: Vec<(f64, f64)>,
}

/// Everything the sensitivity chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityChart {
    /// Break-even utilization at the scenario's inputs, 0..1: the tornado's
    /// base line.
    pub base: f64,
    /// The inputs, in any order (drawn sorted by swing, largest at the top).
    pub bars: Vec<TornadoBar>,
    /// A shaded reference band of utilization (0..1), e.g. (0.40, 0.60).
    pub band: (f64, f64),
    /// The reach curves of the right panel.
    pub reach: Vec<ReachCurve>,
    /// The simulated configuration with the fewest units meeting the SLA:
    /// (the scenario's peak-to-trough ratio, its average utilization 0..1,
    /// what it is, e.g. "SLA met from 9 units"), marked in the right panel.
    pub simulated_reach: Option<(f64, f64, String)>,
    /// The break-even utilization (0..1) drawn as a dashed line in the right
    /// panel.
    pub breakeven_line: Option<f64>,
}

/// Bars stop here (fraction): beyond 100 % the units never break even, and
/// how far beyond matters little.
const CLIP: f64 = 1.5;
const LOW: RGBColor = PALETTE[0];
const HIGH: RGBColor = PALETTE[1];
const BAND: RGBAColor = RGBAColor(240, 228, 66, 0.28);
const NEVER: RGBAColor = RGBAColor(0, 0, 0, 0.07);
const BREAKEVEN: RGBColor = RGBColor(40, 40, 40);
const NOTE: RGBColor = RGBColor(90, 90, 90);
/// Room above the frame for the panel captions.
const PANEL_MARGIN_TOP: u32 = 52;
/// Free pixels at the top of the tornado for the labels of the lines.
const TORNADO_STRIP: f64 = 34.0;
/// Bar thickness as a share of its slot, and at most this many pixels.
const BAR_SHARE: f64 = 0.56;
const BAR_MAX_PX: f64 = 56.0;
/// The widest the input names may make the tornado's label area.
const NAMES_MAX_PX: u32 = 230;
const NAMES_MIN_PX: u32 = 90;
const UTIL_TOP: f64 = 105.0;
/// The right panel's axis reaches a break-even up to this percentage.
const REACH_MAX: f64 = 200.0;
/// Pixels between a bar's end and its label.
const LABEL_GAP: i32 = 6;
/// Pixels a bar label keeps from the dashed break-even line the bars start at
/// (a label on a bar of zero length would otherwise start on the line); the
/// line is recorded as an obstacle this wide on each side for the layout test.
const LINE_CLEAR: i32 = 10;

/// The gap between the end of a bar at pixel `end` and its label outside it:
/// [`LABEL_GAP`], or more when the bar is so short that the label would come
/// within [`LINE_CLEAR`] of the break-even line at `origin`.
fn outside_gap(end: i32, origin: i32) -> i32 {
    LABEL_GAP.max(LINE_CLEAR - (end - origin).abs())
}

/// Whether a label `width` pixels wide fits inside the bar from `origin` to
/// `end`, clear of the break-even line.
fn fits_inside(end: i32, origin: i32, width: i32) -> bool {
    (end - origin).abs() >= width + LABEL_GAP + LINE_CLEAR
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "sensitivity.png";

/// Draws the sensitivity chart as PNG bytes. Non-finite values are
/// left out; an empty panel gets a note.
pub fn png(title: &str, data: &SensitivityChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    data: &SensitivityChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let base = data.base.is_finite().then_some(data.base.max(0.0));
    let band = clean_band(data.band);
    let breakeven = data.breakeven_line.filter(|v| v.is_finite());
    let simulated = data
        .simulated_reach
        .as_ref()
        .filter(|(x, y, _)| x.is_finite() && y.is_finite());
    let curves: Vec<Curve> = data
        .reach
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut pts: Vec<(f64, f64)> = c
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| (x, (y * 100.0).clamp(0.0, 100.0)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            Curve {
                k,
                label: &c.label,
                points: pts,
            }
        })
        .collect();

    let mut legend: Vec<(String, Option<SwatchArt>, RGBColor, Swatch)> = vec![
        ("input at its low setting".into(), None, LOW, Swatch::Area),
        ("input at its high setting".into(), None, HIGH, Swatch::Area),
        (
            "break-even utilization".into(),
            Some(SwatchArt::Dashed(BREAKEVEN)),
            BREAKEVEN,
            Swatch::Line,
        ),
        (
            format!(
                "reference band {}–{}%",
                grouped(band.0 * 100.0, 0),
                grouped(band.1 * 100.0, 0)
            ),
            Some(SwatchArt::Fill(BAND)),
            BREAKEVEN,
            Swatch::Area,
        ),
    ];
    for c in &curves {
        legend.push((
            c.label.to_string(),
            Some(SwatchArt::LineMarker(curve_marker(c.k))),
            curve_marker(c.k).color,
            Swatch::Line,
        ));
    }
    if simulated.is_some() {
        legend.push((
            "simulated: first point meeting the SLA".into(),
            Some(SwatchArt::Marker(simulated_marker())),
            BREAKEVEN,
            Swatch::Line,
        ));
    }
    let (entries, art): (Vec<LegendEntry>, Vec<Option<SwatchArt>>) = legend
        .into_iter()
        .map(|(label, art, color, swatch)| {
            (
                LegendEntry {
                    label,
                    color,
                    swatch,
                },
                art,
            )
        })
        .unzip();
    let canvas = Canvas::new(pixels, path, title, &entries)?;
    redraw_swatches(&canvas.root, &entries, &art).map_err(&err)?;

    let (w, _) = canvas.plot.dim_in_pixel();
    // The tornado needs room for the input names.
    let (left, right) = canvas.plot.split_horizontally(w * 11 / 20);
    let empty_left = draw_tornado(&canvas, &left, base, band, &data.bars).map_err(&err)?;
    let empty_right =
        draw_reach(&canvas, &right, band, breakeven, &curves, simulated).map_err(&err)?;
    if let Some(a) = empty_left {
        canvas.note_centered(path, a, "no inputs varied")?;
    }
    if let Some(a) = empty_right {
        canvas.note_centered(path, a, "no reach curves")?;
    }
    canvas.finish(path)
}

/// A reach curve ready to draw: its place in the caller's list (for its
/// colour and marker), its label and its points in (ratio, percent), sorted.
struct Curve<'a> {
    k: usize,
    label: &'a str,
    points: Vec<(f64, f64)>,
}

fn curve_marker(k: usize) -> Marker {
    const COLORS: [RGBColor; 4] = [PALETTE[2], PALETTE[3], PALETTE[4], PALETTE[5]];
    const SHAPES: [Shape; 3] = [Shape::Circle, Shape::Square, Shape::Triangle];
    Marker {
        shape: SHAPES[k % SHAPES.len()],
        color: COLORS[k % COLORS.len()],
        filled: true,
    }
}

fn simulated_marker() -> Marker {
    Marker {
        shape: Shape::Diamond,
        color: BREAKEVEN,
        filled: true,
    }
}

/// The band as an ordered pair in 0..=1 (empty when not finite).
fn clean_band((a, b): (f64, f64)) -> (f64, f64) {
    if a.is_finite() && b.is_finite() {
        let (a, b) = (a.clamp(0.0, 1.0), b.clamp(0.0, 1.0));
        (a.min(b), a.max(b))
    } else {
        (0.0, 0.0)
    }
}

/// A bar end in percent, cut at [`CLIP`]; `None` when not a number.
fn bar_end(v: f64) -> Option<f64> {
    if v.is_nan() {
        None
    } else {
        Some(v.clamp(0.0, CLIP) * 100.0)
    }
}

/// "72%", or "never (127%)" past 100 %, or "never (>150%)" past the cut.
fn bar_value(v: f64) -> String {
    if v > CLIP {
        format!("never (>{})", percent(CLIP, 0))
    } else if v > 1.0 {
        format!("never ({})", percent(v, 0))
    } else {
        percent(v, 1)
    }
}

/// Writes a panel's caption centred above its plotting area.
fn caption(canvas: &Canvas<'_>, xs: &Range<i32>, top: i32, text: &str) -> Result<(), DrawError> {
    let style = font(AXIS_DESC_SIZE).pos(plotters::style::text_anchor::Pos::new(
        HPos::Center,
        VPos::Bottom,
    ));
    super::put_text(
        &canvas.root,
        text,
        &style,
        ((xs.start + xs.end) / 2, top - 14),
    )
}

/// Splits `text` into at most two lines no wider than `max` pixels (a
/// single word stays whole).
fn wrap(root: &Area<'_>, text: &str, max: u32) -> Result<Vec<String>, DrawError> {
    let style = font(TICK_SIZE);
    if root.estimate_text_size(text, &style)?.0 <= max {
        return Ok(vec![text.to_string()]);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    // The split that makes the longer line shortest.
    let mut best: Option<(u32, usize)> = None;
    for cut in 1..words.len() {
        let (a, b) = (words[..cut].join(" "), words[cut..].join(" "));
        let wa = root.estimate_text_size(&a, &style)?.0;
        let wb = root.estimate_text_size(&b, &style)?.0;
        if best.is_none_or(|(w, _)| wa.max(wb) < w) {
            best = Some((wa.max(wb), cut));
        }
    }
    Ok(match best {
        Some((_, cut)) => vec![words[..cut].join(" "), words[cut..].join(" ")],
        None => vec![text.to_string()],
    })
}

/// A tornado row: the bar and its two ends in percent (cut at [`CLIP`]).
type TornadoRow<'a> = (&'a TornadoBar, Option<f64>, Option<f64>);
/// A bar-end label: where (percent, row centre), its lines, and whether it
/// reads outward to the right.
type BarLabel = (f64, f64, Vec<String>, bool);
type Panel<'a> = ChartContext<
    'a,
    BitMapBackend<'a>,
    Cartesian2d<Ticked<RangedCoordf64>, Ticked<RangedCoordf64>>,
>;

/// The left panel: one row per input, largest swing at the top. Returns the
/// plotting area's pixels when it has no bars (for a note).
fn draw_tornado(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    base: Option<f64>,
    band: (f64, f64),
    bars: &[TornadoBar],
) -> Result<Option<PixelRange>, DrawError> {
    let root = &canvas.root;
    let rows = tornado_rows(bars, base);
    let n = rows.len();
    let base_pct = base.map(|b| b.min(CLIP) * 100.0);
    let (x_lo, x_hi, bold) = tornado_x_axis(&rows, base_pct, band);
    let (names, names_px) = name_lines(root, &rows)?;

    // y: slot i (from the bottom) holds row n-1-i; the strip at the top holds
    // the labels of the lines.
    let (_, h) = area.dim_in_pixel();
    let plot_h = f64::from(h.saturating_sub(PANEL_MARGIN_TOP + MARGIN + X_LABEL_AREA)).max(1.0);
    let slots = n.max(1) as f64;
    let slot_px = ((plot_h - TORNADO_STRIP) / slots).max(1.0);
    let y_top = slots + TORNADO_STRIP / slot_px;
    let bar_half = (BAR_SHARE * slot_px).min(BAR_MAX_PX) / slot_px / 2.0;

    // Labels of bars that end near the right edge need room past it, or they
    // would run into the right panel's axis.
    let origin = base_pct.unwrap_or(0.0);
    let labels = bar_labels(&rows, origin);
    let (w, _) = area.dim_in_pixel();
    let plot_w = w.saturating_sub(2 * MARGIN + names_px);
    let room = right_room(root, &labels, origin, (x_lo, x_hi), plot_w)?;

    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(PANEL_MARGIN_TOP)
        .margin_right(MARGIN + room)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(names_px)
        .build_cartesian_2d(
            Ticked::new(RangedCoordf64::from(x_lo..x_hi), bold, Vec::new()),
            Ticked::new(RangedCoordf64::from(0.0..y_top), Vec::new(), Vec::new()),
        )?;
    house_style(&mut chart.configure_mesh())
        .x_desc("break-even utilization (%)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|_| String::new())
        .disable_y_mesh()
        .draw()?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    // The y side holds the input names, placed as labels.
    super::record_axes((&xs, &ys), X_LABEL_AREA, 0, 0);
    caption(canvas, &xs, ys.start, "break-even when one input changes")?;

    // Shading: the band, and the zone where the units never break even.
    let full = |a: f64, b: f64, c: RGBAColor| Rectangle::new([(a, 0.0), (b, y_top)], c.filled());
    let mut shades = Vec::new();
    if band.1 > band.0 {
        shades.push(full(band.0 * 100.0, band.1 * 100.0, BAND));
    }
    if x_hi > 100.0 {
        shades.push(full(100.0, x_hi, NEVER));
    }
    chart.draw_series(shades)?;

    draw_bars(&mut chart, &rows, origin, bar_half)?;
    let strip = (x_lo, x_hi, y_top, slots);
    let mut taken = draw_strip(root, &mut chart, base_pct, strip, (&xs, &ys))?;
    let label_xs = xs.start..xs.end + room as i32;
    draw_bar_labels(root, &chart, &labels, origin, &label_xs, &mut taken)?;
    draw_names(root, &chart, &names, x_lo, xs.start)?;
    Ok((n == 0).then_some((xs, ys)))
}

/// The bars with their ends in percent, largest swing first; ties keep the
/// caller's order.
fn tornado_rows(bars: &[TornadoBar], base: Option<f64>) -> Vec<TornadoRow<'_>> {
    let mut rows: Vec<TornadoRow> = bars
        .iter()
        .map(|b| (b, bar_end(b.low), bar_end(b.high)))
        .collect();
    let swing = |r: &TornadoRow| match (r.1, r.2) {
        (Some(a), Some(b)) => (a - b).abs(),
        (Some(a), None) | (None, Some(a)) => base.map_or(0.0, |c| (a - c * 100.0).abs()),
        (None, None) => 0.0,
    };
    rows.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
    rows
}

/// x: from a little left of the lowest value (room for its label) to 100 %
/// plus room, or to the cut when something never breaks even. Labelled every
/// 25 % on a wide axis, else every 10 %; the axis starts on a labelled tick.
/// Returns (low, high, labelled ticks).
fn tornado_x_axis(
    rows: &[TornadoRow],
    base_pct: Option<f64>,
    band: (f64, f64),
) -> (f64, f64, Vec<f64>) {
    let values = rows
        .iter()
        .flat_map(|r| [r.1, r.2])
        .flatten()
        .chain(base_pct)
        .chain((band.1 > band.0).then_some(band.0 * 100.0));
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi)
    } else {
        (50.0, 100.0)
    };
    let x_hi = if hi > 100.0 {
        CLIP * 100.0
    } else {
        ((hi + 30.0) / 10.0).ceil().clamp(11.0, 15.0) * 10.0
    };
    let wide = x_hi - (lo - 25.0).max(0.0) > 100.0;
    let step = if wide { 25.0 } else { 10.0 };
    let x_lo = ((lo - 25.0) / step).floor().max(0.0) * step;
    let x_hi = (x_hi / step).ceil() * step;
    let bold: Vec<f64> = (0..=((x_hi - x_lo) / step).floor() as usize)
        .map(|i| x_lo + step * i as f64)
        .collect();
    (x_lo, x_hi, bold)
}

/// The rows' names wrapped to at most two lines, and the width of the names'
/// area, which fits the longest line.
fn name_lines(root: &Area<'_>, rows: &[TornadoRow]) -> Result<(Vec<Vec<String>>, u32), DrawError> {
    let names: Vec<Vec<String>> = rows
        .iter()
        .map(|r| wrap(root, &r.0.input, NAMES_MAX_PX - 16))
        .collect::<Result<_, _>>()?;
    let widest = names
        .iter()
        .flatten()
        .map(|l| root.estimate_text_size(l, &font(TICK_SIZE)).map(|s| s.0))
        .collect::<Result<Vec<u32>, _>>()?
        .into_iter()
        .max()
        .unwrap_or(0);
    Ok((names, (widest + 20).clamp(NAMES_MIN_PX, NAMES_MAX_PX)))
}

/// A row's bar ends in percent with their colour, setting and raw value,
/// the one farther from `origin` first; and whether both lie on one side.
type Ends<'a> = (Vec<(f64, RGBColor, &'a String, f64)>, bool);

fn row_ends<'a>((bar, low, high): &TornadoRow<'a>, origin: f64) -> Ends<'a> {
    let mut ends: Vec<(f64, RGBColor, &String, f64)> = [
        (*low, LOW, &bar.low_label, bar.low),
        (*high, HIGH, &bar.high_label, bar.high),
    ]
    .into_iter()
    .filter_map(|(end, color, label, raw)| Some((end?, color, label, raw)))
    .collect();
    ends.sort_by(|a, b| (b.0 - origin).abs().total_cmp(&(a.0 - origin).abs()));
    let same_side = ends.len() == 2 && (ends[0].0 >= origin) == (ends[1].0 >= origin);
    (ends, same_side)
}

/// Bars, each from the base to its end. When both ends lie on one side
/// (an input that does not move the break-even monotonically, or both
/// past the cut), the shorter bar is drawn thinner over the longer one.
fn draw_bars(
    chart: &mut Panel<'_>,
    rows: &[TornadoRow],
    origin: f64,
    bar_half: f64,
) -> Result<(), DrawError> {
    let n = rows.len();
    for (i, row) in rows.iter().enumerate() {
        let centre = (n - 1 - i) as f64 + 0.5;
        let (ends, same_side) = row_ends(row, origin);
        for (k, &(end, color, _, _)) in ends.iter().enumerate() {
            let half = if same_side && k == 1 {
                bar_half / 2.0
            } else {
                bar_half
            };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(origin, centre - half), (end, centre + half)],
                color.mix(AREA_OPACITY).filled(),
            )))?;
        }
    }
    Ok(())
}

/// The labels of the bar ends: two lines (the setting, then the break-even)
/// at each end; when both ends lie on one side, one label at the outer end
/// names both.
fn bar_labels(rows: &[TornadoRow], origin: f64) -> Vec<BarLabel> {
    let n = rows.len();
    let mut labels: Vec<BarLabel> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let centre = (n - 1 - i) as f64 + 0.5;
        let (ends, same_side) = row_ends(row, origin);
        if same_side {
            let (outer, inner) = (&ends[0], &ends[1]);
            let (vo, vi) = (bar_value(outer.3), bar_value(inner.3));
            let lines = if vo == vi {
                vec![format!("{} / {}", outer.2, inner.2), vo]
            } else {
                vec![format!("{}: {vo}", outer.2), format!("{}: {vi}", inner.2)]
            };
            labels.push((outer.0, centre, lines, outer.0 >= origin));
        } else {
            for &(end, _, label, raw) in &ends {
                let lines = vec![label.clone(), bar_value(raw)];
                labels.push((end, centre, lines, end >= origin));
            }
        }
    }
    labels
}

/// The widest of a label's lines, in pixels.
fn lines_width(root: &Area<'_>, lines: &[String]) -> Result<i32, DrawError> {
    let mut widest = 0;
    for t in lines {
        widest = widest.max(root.estimate_text_size(t, &font(TICK_SIZE))?.0 as i32);
    }
    Ok(widest)
}

/// Pixels the tornado must keep free right of its plotting area for the
/// right-pointing labels that fit neither beside their bar (inside the
/// plot) nor inside it: computed on a plot `plot_w` pixels wide, which the
/// room then narrows (moving every end left, so the room still suffices).
/// At most a third of the plot.
fn right_room(
    root: &Area<'_>,
    labels: &[BarLabel],
    origin: f64,
    (x_lo, x_hi): (f64, f64),
    plot_w: u32,
) -> Result<u32, DrawError> {
    let w = f64::from(plot_w);
    let px = |v: f64| ((v - x_lo) / (x_hi - x_lo) * w).round() as i32;
    let mut room = 0;
    for (end, _, lines, _) in labels.iter().filter(|l| l.3) {
        let width = lines_width(root, lines)?;
        let need = px(*end) + outside_gap(px(*end), px(origin)) + width - plot_w as i32;
        let inside_fits = fits_inside(px(*end), px(origin), width);
        if need > 0 && !inside_fits {
            room = room.max(need);
        }
    }
    Ok((room.max(0) as u32).min(plot_w / 3))
}

/// The base line and the labels of the lines, in the top strip: "never breaks
/// even" over the shaded zone and the scenario's own break-even. Returns the
/// boxes the labels took.
fn draw_strip(
    root: &Area<'_>,
    chart: &mut Panel<'_>,
    base_pct: Option<f64>,
    (x_lo, x_hi, y_top, slots): (f64, f64, f64, f64),
    bounds: (&Range<i32>, &Range<i32>),
) -> Result<Vec<PixelBox>, DrawError> {
    let strip_y = chart.backend_coord(&(x_lo, y_top)).1 + (TORNADO_STRIP as i32) / 2;
    let mut taken: Vec<PixelBox> = Vec::new();
    if let Some(b) = base_pct {
        chart.draw_series(DashedLineSeries::new(
            vec![(b, 0.0), (b, slots)],
            10,
            7,
            BREAKEVEN.stroke_width(2),
        ))?;
        let (px, bottom) = chart.backend_coord(&(b, 0.0));
        let top = chart.backend_coord(&(b, slots)).1;
        super::layout::marker(
            "break-even line",
            (
                px - LINE_CLEAR + 1,
                top.min(bottom),
                px + LINE_CLEAR,
                top.max(bottom),
            ),
        );
        // Past 100 % the label says so itself; "never breaks even" would
        // only crowd it.
        let text = if b > 100.0 {
            format!(
                "scenario inputs: {} – never breaks even",
                percent(b / 100.0, 1)
            )
        } else {
            format!("scenario inputs: {}", percent(b / 100.0, 1))
        };
        let spots = [
            (HPos::Center, VPos::Center, (px, strip_y)),
            (HPos::Right, VPos::Center, (px - 6, strip_y)),
            (HPos::Left, VPos::Center, (px + 6, strip_y)),
        ];
        place_label(root, &text, BREAKEVEN, &spots, bounds, &mut taken, &[])?;
    }
    if x_hi > 100.0 && base_pct.is_none_or(|b| b <= 100.0) {
        let (a, b) = (
            chart.backend_coord(&(100.0, 0.0)).0,
            chart.backend_coord(&(x_hi, 0.0)).0,
        );
        let spots = [
            (HPos::Center, VPos::Center, ((a + b) / 2, strip_y)),
            (HPos::Right, VPos::Center, (b - 6, strip_y)),
            (HPos::Left, VPos::Center, (a + 6, strip_y)),
            (HPos::Center, VPos::Center, ((a + b) / 2, strip_y - 18)),
        ];
        place_label(
            root,
            "never breaks even",
            NOTE,
            &spots,
            bounds,
            &mut taken,
            &[],
        )?;
    }
    Ok(taken)
}

/// Bar-end labels: two lines (the setting, then the break-even) outside the
/// bar when they fit within `xs` (the plot and the room kept right of it),
/// else inside the bar's end when it is long enough (dark text reads on both
/// bar colours), else outside anyway.
fn draw_bar_labels(
    root: &Area<'_>,
    chart: &Panel<'_>,
    labels: &[BarLabel],
    origin: f64,
    xs: &Range<i32>,
    taken: &mut Vec<PixelBox>,
) -> Result<(), DrawError> {
    let origin_px = chart.backend_coord(&(origin, 0.0)).0;
    for (end, centre, lines, outward_right) in labels {
        let (px, py) = chart.backend_coord(&(*end, *centre));
        let style = |h: HPos| label_style(TICK_SIZE, TEXT_COLOR, h, VPos::Center);
        let width = lines_width(root, lines)?;
        let gap = outside_gap(px, origin_px);
        let outside_fits = if *outward_right {
            px + gap + width <= xs.end
        } else {
            px - gap - width >= xs.start
        };
        let inside_fits = fits_inside(px, origin_px, width);
        let outside = outside_fits || !inside_fits;
        let (h, x0) = match (*outward_right, outside) {
            (true, true) => (HPos::Left, px + gap),
            (false, true) => (HPos::Right, px - gap),
            (true, false) => (HPos::Right, px - LABEL_GAP),
            (false, false) => (HPos::Left, px + LABEL_GAP),
        };
        for (k, text) in lines.iter().enumerate() {
            let at = (x0, py - 9 + 18 * k as i32);
            super::put_text(root, text, &style(h), at)?;
            taken.push(text_box(root, text, &style(h), at, 0)?);
        }
    }
    Ok(())
}

/// The names, right-aligned against the axis, centred on their row.
fn draw_names(
    root: &Area<'_>,
    chart: &Panel<'_>,
    names: &[Vec<String>],
    x_lo: f64,
    left: i32,
) -> Result<(), DrawError> {
    let n = names.len();
    for (i, lines) in names.iter().enumerate() {
        let centre = (n - 1 - i) as f64 + 0.5;
        let (_, py) = chart.backend_coord(&(x_lo, centre));
        let style = label_style(TICK_SIZE, TEXT_COLOR, HPos::Right, VPos::Center);
        let first = py - 9 * (lines.len() as i32 - 1);
        for (k, line) in lines.iter().enumerate() {
            super::put_text(root, line, &style, (left - 10, first + 18 * k as i32))?;
        }
    }
    Ok(())
}

/// The right panel: average utilization reachable against peak-to-trough.
/// Returns the plotting area's pixels when it has nothing to show (for a
/// note).
fn draw_reach(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    band: (f64, f64),
    breakeven: Option<f64>,
    curves: &[Curve<'_>],
    simulated: Option<&(f64, f64, String)>,
) -> Result<Option<PixelRange>, DrawError> {
    let root = &canvas.root;
    let xs_all = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .chain(simulated.map(|s| s.0));
    let (lo, hi) = xs_all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let x = if lo.is_finite() {
        SpanAxis::new(lo, hi, 8)
    } else {
        SpanAxis::new(1.0, 5.0, 8)
    };
    // A break-even past 100 % is drawn where it is (up to REACH_MAX), so the
    // gap between what can be reached and what pays shows.
    let be_pct = breakeven.map(|b| b * 100.0);
    let y_top = match be_pct {
        Some(b) if b > 100.0 => ((b.min(REACH_MAX) + 5.0) / 10.0).ceil() * 10.0,
        _ => UTIL_TOP,
    };
    let y_step = if y_top > 150.0 { 20.0 } else { 10.0 };
    let y_ticks: Vec<f64> = (0..)
        .map(|i| f64::from(i) * y_step)
        .take_while(|v| *v <= y_top)
        .collect();
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(PANEL_MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            x.coord(),
            Ticked::new(RangedCoordf64::from(0.0..y_top), y_ticks, Vec::new()),
        )?;
    house_style(&mut chart.configure_mesh())
        .x_desc("diurnal peak-to-trough ratio")
        .y_desc("average reserved utilization (%)")
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);
    caption(canvas, &xs, ys.start, "utilization you can reach")?;

    if band.1 > band.0 {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x.lo, band.0 * 100.0), (x.hi, band.1 * 100.0)],
            BAND.filled(),
        )))?;
    }
    let line_y = be_pct.filter(|b| *b <= y_top).map(|b| b.max(0.0));
    if let Some(y) = line_y {
        chart.draw_series(DashedLineSeries::new(
            vec![(x.lo, y), (x.hi, y)],
            10,
            7,
            BREAKEVEN.stroke_width(2),
        ))?;
    }
    let mut lines: Vec<Vec<(i32, i32)>> = Vec::new();
    for c in curves {
        let m = curve_marker(c.k);
        chart.draw_series(std::iter::once(PathElement::new(
            c.points.clone(),
            m.color.stroke_width(LINE_WIDTH),
        )))?;
        let px: Vec<(i32, i32)> = c.points.iter().map(|p| chart.backend_coord(p)).collect();
        for p in &px {
            draw_marker(root, *p, m)?;
        }
        lines.push(px);
    }

    // Labels: the simulated point first, then the break-even line; neither
    // sits on a curve or on the break-even line.
    if let Some(y) = line_y {
        lines.push(vec![
            chart.backend_coord(&(x.lo, y)),
            chart.backend_coord(&(x.hi, y)),
        ]);
    }
    let mut taken: Vec<PixelBox> = Vec::new();
    if let Some((sx, sy, label)) = simulated {
        let at = chart.backend_coord(&(*sx, (sy * 100.0).clamp(0.0, y_top)));
        draw_simulated(root, at, label, *sy, (&xs, &ys), &mut taken, &lines)?;
    }
    if let Some(b) = breakeven {
        // Past the top of the axis the label sits at the top and says so.
        let (_, py) = chart.backend_coord(&(x.lo, line_y.unwrap_or(y_top)));
        let text = if line_y.is_none() {
            format!(
                "break-even {} (above the axis): never reached",
                percent(b, 1)
            )
        } else if b > 1.0 {
            format!("break-even {}: never reached", percent(b, 1))
        } else {
            format!("break-even {}", percent(b, 1))
        };
        let (l, r) = (xs.start + 8, xs.end - 8);
        let spots = [
            (HPos::Right, VPos::Bottom, (r, py - 4)),
            (HPos::Right, VPos::Top, (r, py + 4)),
            (HPos::Left, VPos::Bottom, (l, py - 4)),
            (HPos::Left, VPos::Top, (l, py + 4)),
        ];
        place_label(
            root,
            &text,
            BREAKEVEN,
            &spots,
            (&xs, &ys),
            &mut taken,
            &lines,
        )?;
    }

    let empty = curves.iter().all(|c| c.points.is_empty()) && simulated.is_none();
    Ok(empty.then_some((xs, ys)))
}

/// The simulated configuration's point and its label beside it: the x is the
/// axis's (the scenario's peak/trough ratio); the label says what the point is
/// and its utilization, short so it fits beside a point near the panel's edge.
fn draw_simulated(
    root: &Area<'_>,
    at: (i32, i32),
    label: &str,
    utilization: f64,
    plot: (&Range<i32>, &Range<i32>),
    taken: &mut Vec<PixelBox>,
    lines: &[Vec<(i32, i32)>],
) -> Result<(), DrawError> {
    draw_marker(root, at, simulated_marker())?;
    let text = format!("{label}, {} utilized", percent(utilization, 0));
    let g = 14;
    let spots = [
        (HPos::Left, VPos::Bottom, (at.0 + g, at.1 - g)),
        (HPos::Left, VPos::Top, (at.0 + g, at.1 + g)),
        (HPos::Right, VPos::Bottom, (at.0 - g, at.1 - g)),
        (HPos::Right, VPos::Top, (at.0 - g, at.1 + g)),
        (HPos::Center, VPos::Bottom, (at.0, at.1 - 2 * g)),
        (HPos::Center, VPos::Top, (at.0, at.1 + 2 * g)),
    ];
    place_label(root, &text, BREAKEVEN, &spots, plot, taken, lines)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(input: &str, low: (&str, f64), high: (&str, f64)) -> TornadoBar {
        TornadoBar {
            input: input.into(),
            low_label: low.0.into(),
            low: low.1,
            high_label: high.0.into(),
            high: high.1,
        }
    }

    /// Reach of a diurnal workload: average over peak is about
    /// (1 + 1/r) / 2 for a sine between trough and peak, divided by the
    /// headroom.
    fn reach(label: &str, headroom: f64) -> ReachCurve {
        ReachCurve {
            label: label.into(),
            points: (0..=9)
                .map(|i| {
                    let r = 1.0 + f64::from(i);
                    (r, ((1.0 + 1.0 / r) / 2.0 / headroom).min(1.0))
                })
                .collect(),
        }
    }

    /// gpt-4o, monthly term: break-even near 85 %.
    pub(crate) fn sample() -> SensitivityChart {
        SensitivityChart {
            base: 0.849,
            bars: vec![
                bar(
                    "output/input token ratio",
                    ("x0.5 (0.09)", 0.97),
                    ("x2 (0.36)", 0.66),
                ),
                bar(
                    "reserved unit price",
                    ("-20% ($208/h)", 0.68),
                    ("+20% ($312/h)", 1.02),
                ),
                bar(
                    "on-demand price per 1M tokens",
                    ("-30% ($2.73)", 1.21),
                    ("+30% ($5.07)", 0.65),
                ),
                bar(
                    "tokens per minute per unit",
                    ("x0.75 (1,875)", 1.13),
                    ("x1.25 (3,125)", 0.68),
                ),
                bar("prompt caching discount", ("none", 0.86), ("50%", 0.82)),
                bar(
                    "term discount (yearly instead of monthly)",
                    ("monthly", 0.849),
                    ("yearly", 0.36),
                ),
            ],
            band: (0.40, 0.60),
            reach: vec![
                reach("sized for the peak", 1.0),
                reach("sized for peak + 20% headroom", 1.2),
                reach("sized for the p50 hour (rest spills over)", 0.7),
            ],
            simulated_reach: Some((3.1, 0.62, "SLA met from 9 units".into())),
            breakeven_line: Some(0.849),
        }
    }

    #[test]
    fn draws_a_deterministic_png() {
        let data = sample();
        super::super::assert_deterministic(|| png("What moves the break-even", &data));
    }

    #[test]
    fn bar_and_curve_order_do_not_matter() {
        let data = sample();
        let mut shuffled = data.clone();
        shuffled.bars.rotate_left(2);
        for c in &mut shuffled.reach {
            c.points.reverse();
        }
        crate::report::plots::assert_same_png(|| png("t", &data), || png("t", &shuffled));
    }

    #[test]
    fn edge_cases_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.png");
        let check = |data: &SensitivityChart| {
            super::super::save(&path, png("What moves the break-even", data));
            assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        };
        // Nothing at all.
        check(&SensitivityChart {
            base: f64::NAN,
            bars: vec![],
            band: (0.4, 0.6),
            reach: vec![],
            simulated_reach: None,
            breakeven_line: None,
        });
        // One bar with no swing; one curve of one point; no crossover
        // anywhere (everything above 100 %).
        check(&SensitivityChart {
            base: 1.3,
            bars: vec![bar("flat", ("low", 1.3), ("high", 1.3))],
            band: (0.6, 0.4),
            reach: vec![ReachCurve {
                label: "one point".into(),
                points: vec![(2.0, 0.5)],
            }],
            simulated_reach: Some((2.0, 0.5, "here".into())),
            breakeven_line: Some(1.3),
        });
        // All-equal curve points, both ends on one side, values far past the
        // cut, empty curves and odd values.
        check(&SensitivityChart {
            base: 0.5,
            bars: vec![
                bar("same side", ("low", 0.7), ("high", 0.9)),
                bar("far", ("low", 9.0), ("high", f64::INFINITY)),
                bar("odd", ("low", f64::NAN), ("high", 0.2)),
                bar("zero", ("low", 0.0), ("high", -1.0)),
            ],
            band: (f64::NAN, 0.6),
            reach: vec![
                ReachCurve {
                    label: "flat".into(),
                    points: vec![(3.0, 0.7); 4],
                },
                ReachCurve {
                    label: "empty".into(),
                    points: vec![],
                },
                ReachCurve {
                    label: "odd".into(),
                    points: vec![(f64::NAN, 0.5), (2.0, f64::INFINITY)],
                },
            ],
            simulated_reach: Some((f64::NAN, 0.5, "nowhere".into())),
            breakeven_line: Some(f64::NAN),
        });
        // Many long input names.
        let mut many = sample();
        for i in 0..8 {
            many.bars.push(bar(
                &format!("a rather long input name number {i} that needs wrapping"),
                ("low", 0.8 - 0.01 * f64::from(i)),
                ("high", 0.9),
            ));
        }
        check(&many);
    }

    #[test]
    fn span_axis_has_nice_ticks_around_its_range() {
        let a = SpanAxis::new(1.0, 10.0, 8);
        assert_eq!((a.lo, a.hi), (0.0, 10.0));
        assert!(a.ticks.len() <= 9);
        let b = SpanAxis::new(1.3, 3.7, 8);
        assert!(b.lo <= 1.3 && b.hi >= 3.7);
        assert_eq!(b.label(2.5), "2.5");
        let c = SpanAxis::new(2.0, 2.0, 8);
        assert!(c.lo < 2.0 && c.hi > 2.0);
        let d = SpanAxis::new(f64::NAN, f64::NAN, 8);
        assert!(d.lo < d.hi);
    }

    #[test]
    fn bar_values_say_never_past_100_percent() {
        assert_eq!(bar_value(0.846), "84.6%");
        assert_eq!(bar_value(1.27), "never (127%)");
        assert_eq!(bar_value(3.0), "never (>150%)");
        assert_eq!(bar_end(9.0), Some(150.0));
        assert_eq!(bar_end(f64::NAN), None);
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        let title = "gpt-4o, monthly term: what moves the break-even";
        super::super::save(dir.join("sensitivity.png"), png(title, &sample()));
        let mut within = sample();
        for b in &mut within.bars {
            b.low = b.low.min(0.95);
            b.high = b.high.min(0.95);
        }
        within.bars.truncate(3);
        within.reach.truncate(1);
        within.simulated_reach = None;
        super::super::save(dir.join("sensitivity_within_100.png"), png(title, &within));
        let mut many = sample();
        for (i, name) in [
            "share of traffic that can be delayed to off-peak hours",
            "requests per second at the daily peak",
            "p99 TTFT target",
            "spillover region",
            "cache hit rate",
            "a rather long input name that keeps going",
        ]
        .iter()
        .enumerate()
        {
            let d = 0.02 * i as f64;
            many.bars
                .push(bar(name, ("low", 0.80 - d), ("high", 0.88 + d / 2.0)));
        }
        many.bars
            .push(bar("never at all", ("low", 2.5), ("high", 1.8)));
        super::super::save(dir.join("sensitivity_many.png"), png(title, &many));
        let edge = SensitivityChart {
            base: 1.3,
            bars: vec![bar("flat", ("low", 1.3), ("high", 1.3))],
            band: (0.6, 0.4),
            reach: vec![ReachCurve {
                label: "one point".into(),
                points: vec![(2.0, 0.5)],
            }],
            simulated_reach: Some((2.0, 0.5, "here".into())),
            breakeven_line: Some(1.3),
        };
        super::super::save(dir.join("sensitivity_edge.png"), png(title, &edge));
        super::super::save(
            dir.join("sensitivity_empty.png"),
            png(
                title,
                &SensitivityChart {
                    base: 0.849,
                    bars: vec![],
                    band: (0.4, 0.6),
                    reach: vec![],
                    simulated_reach: None,
                    breakeven_line: Some(0.849),
                },
            ),
        );
    }
}
