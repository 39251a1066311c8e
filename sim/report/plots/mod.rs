//! PNG charts, one file per chart (the criterion.rs layout): plain data in, a
//! file out. Sizes, fonts and colours live at the top of this file so every
//! chart looks the same; the helpers below (canvas with title and legend, the
//! hour axis, nice linear ticks, stacked steps) are shared by the charts.
//!
//! The time-series charts take one value per simulated hour; past
//! [`HOURLY_MAX_HOURS`] they draw one value per simulated day instead
//! ([`Bucket`], [`by_day`]), so a year stays readable. A run shorter than
//! three hours hands them one value per simulated minute ([`Step::Minute`]).
//!
//! Text is drawn with the embedded DejaVu Sans (see `DejaVuSans.LICENSE.txt`),
//! never a system font, so a chart renders the same on every machine and the
//! same inputs give byte-identical files.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Once;

use image::ImageEncoder;
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::OutputError;
use crate::format::grouped;

mod axes;
mod labels;
pub mod layout;
use axes::{ceil_125, decimals_for, floor_125, log_ticks, HourAxis, LinearAxis, SpanAxis};
use labels::{
    boxed_text, label_style, labels_above, place_label, put_text, record_axes, text_box, LabelSpot,
    PixelBox,
};
pub mod attribution;
pub mod breakeven;
pub mod calibrate;
pub mod cost_vs_units;
pub mod failover;
pub mod fit;
pub mod frontier;
pub mod hourly_cost;
pub mod ladder;
pub mod rate_plan;
pub mod sensitivity;
pub mod traffic;
pub mod ttft_cdf;

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1400;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 800;

/// The font family registered by [`register_font`]; used for all text.
const FONT: &str = "sans-serif";
const TITLE_SIZE: f64 = 28.0;
const AXIS_DESC_SIZE: f64 = 20.0;
const TICK_SIZE: f64 = 16.0;
const LEGEND_SIZE: f64 = 18.0;
const NOTE_SIZE: f64 = 24.0;

/// Height of the band holding the title.
const TITLE_HEIGHT: u32 = 56;
/// Height of one row of the legend band under the title.
const LEGEND_ROW_HEIGHT: u32 = 30;
/// Left edge of the legend; lines up with the left of the plotting area.
const LEGEND_LEFT: i32 = MARGIN as i32 + Y_LABEL_AREA as i32;
const LEGEND_SWATCH: i32 = 30;
const LEGEND_GAP: i32 = 36;

/// Space around the chart and for the axes (tick labels plus description).
const MARGIN: u32 = 20;
const MARGIN_TOP: u32 = 36;
/// Right margin when there is no right axis: room for half the last x label.
const MARGIN_RIGHT: u32 = 44;
const X_LABEL_AREA: u32 = 70;
const Y_LABEL_AREA: u32 = 88;

/// Okabe-Ito, the colour-blind-safe palette, in the order series use it.
/// Lines that must stand apart from filled areas take colours from the end
/// (black first).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion (after sky blue: close to orange)
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];
const TEXT_COLOR: RGBColor = RGBColor(30, 30, 30);
const NOTE_COLOR: RGBColor = RGBColor(110, 110, 110);
const AXIS_COLOR: RGBColor = RGBColor(60, 60, 60);
const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);
const GRID_LIGHT: RGBColor = RGBColor(235, 235, 235);
/// Opacity of stacked areas over the white background: light enough that
/// lines drawn on top stay readable, dark enough to tell the colours apart.
const AREA_OPACITY: f64 = 0.75;
const LINE_WIDTH: u32 = 3;
/// Lines over long horizons are thinner so the daily cycles stay apart.
const LINE_WIDTH_LONG: u32 = 2;
const LONG_HORIZON_HOURS: usize = 240;
/// Day boundaries redrawn over the stacked areas, which hide the grid.
const DAY_LINE: RGBAColor = RGBAColor(255, 255, 255, 0.6);
/// Up to this many days the time axis has a grid line at every day boundary
/// (also drawn over the areas); beyond, only the labelled ticks' grid lines.
const DAY_LINES_MAX_DAYS: usize = 60;

/// The longest horizon (31 days) the time-series charts draw hour by hour;
/// longer horizons are drawn one value per simulated day.
pub const HOURLY_MAX_HOURS: usize = 744;

/// What one value of a series handed to a time-series chart covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Step {
    /// A simulated hour (the chart draws it per hour, or per day past
    /// [`HOURLY_MAX_HOURS`]).
    #[default]
    Hour,
    /// A simulated minute: runs shorter than
    /// [`MINUTE_BINS_BELOW_HOURS`](crate::model::metrics::MINUTE_BINS_BELOW_HOURS) hours,
    /// whose charts would otherwise be one or two bars.
    Minute,
}

/// The time step of the time-series charts: one value per simulated minute
/// (short runs), hour, or day for horizons longer than [`HOURLY_MAX_HOURS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Minute,
    Hour,
    Day,
}

impl Bucket {
    /// The step a chart of hourly values over `hours` simulated hours is drawn
    /// with.
    pub fn for_horizon(hours: usize) -> Self {
        if hours > HOURLY_MAX_HOURS {
            Bucket::Day
        } else {
            Bucket::Hour
        }
    }

    /// The step the charts of a run over `hours` simulated hours are drawn
    /// with: per minute for a short run (which keeps minute bins), else
    /// [`Bucket::for_horizon`].
    pub fn for_run(hours: u32) -> Self {
        if hours > 0 && hours < crate::model::metrics::MINUTE_BINS_BELOW_HOURS {
            Bucket::Minute
        } else {
            Bucket::for_horizon(hours as usize)
        }
    }

    /// "minute", "hour" or "day", for titles and axis descriptions.
    pub fn noun(self) -> &'static str {
        match self {
            Bucket::Minute => "minute",
            Bucket::Hour => "hour",
            Bucket::Day => "day",
        }
    }

    /// Steps of the series in one bucket (1, or 24 hours in a day).
    fn hours(self) -> usize {
        match self {
            Bucket::Minute | Bucket::Hour => 1,
            Bucket::Day => 24,
        }
    }

    /// The number of buckets covering `hours` steps (a partial last day counts).
    fn count(self, hours: usize) -> usize {
        hours.div_ceil(self.hours())
    }

    /// Series as one value per bucket: unchanged per minute or hour, through
    /// [`by_day`] per day.
    fn apply(self, series: &[Series], how: Combine) -> Cow<'_, [Series]> {
        match self {
            Bucket::Minute | Bucket::Hour => Cow::Borrowed(series),
            Bucket::Day => Cow::Owned(
                series
                    .iter()
                    .map(|s| Series {
                        label: s.label.clone(),
                        values: by_day(&s.values, how),
                    })
                    .collect(),
            ),
        }
    }
}

/// How the hours of a day make the day's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Totals per hour (cost, arrivals): the day's total.
    Sum,
    /// Levels (utilization): the mean over the day's hours.
    Mean,
}

/// One value per simulated day from one value per simulated hour: day `d`
/// combines hours `24 d .. 24 d + 24`; a final partial day combines only the
/// hours it has (its sum is over fewer hours, its mean divides by their
/// number). A non-finite hour counts as 0, as the charts draw it.
pub fn by_day(hourly: &[f64], how: Combine) -> Vec<f64> {
    hourly
        .chunks(24)
        .map(|day| {
            let sum: f64 = day.iter().filter(|v| v.is_finite()).sum();
            match how {
                Combine::Sum => sum,
                Combine::Mean => sum / day.len() as f64,
            }
        })
        .collect()
}

/// A named series of numbers, e.g. one value per simulated hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
}

static FONT_ONCE: Once = Once::new();

/// Registers the embedded DejaVu Sans as the family `"sans-serif"`. Safe to call
/// any number of times; every chart calls it before drawing.
pub fn register_font() {
    FONT_ONCE.call_once(|| {
        // The bytes are compiled in and known to parse; were they ever broken,
        // drawing text would fail with "font unavailable", which every chart
        // reports as an `OutputError::Chart`, so nothing is lost by ignoring
        // the result here.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("DejaVuSans.ttf"),
        );
    });
}

/// Draws a chart with `draw` into an in-memory image and encodes it as PNG.
/// Charts do no I/O: the caller writes the bytes through the staging folder.
/// `file` names the chart in errors.
fn render(
    file: &str,
    draw: impl FnOnce(&mut [u8]) -> Result<(), OutputError>,
) -> Result<Vec<u8>, OutputError> {
    let mut pixels = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    layout::start(file);
    labels::DRAWN_MARKERS.with(|d| d.borrow_mut().clear());
    draw(&mut pixels)?;
    let mut png = Vec::new();
    // The encoder plotters uses when it writes a file itself, so the bytes are
    // the same as before charts were rendered in memory.
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, WIDTH, HEIGHT, image::ColorType::Rgb8)
        .map_err(chart_err(Path::new(file)))?;
    Ok(png)
}

/// Turns any plotters error into our error for `path`.
fn chart_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> OutputError + '_ {
    move |e| OutputError::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT_COLOR)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// An axis with the tick positions we chose: `bold` get a label and a grid
/// line, `light` only a faint grid line. (plotters' own `WithKeyPoints` does
/// the same but loses the custom label formatter on `f64` axes.)
struct Ticked<R> {
    inner: R,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl<R> Ticked<R> {
    fn new(inner: R, bold: Vec<f64>, light: Vec<f64>) -> Self {
        Ticked { inner, bold, light }
    }
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.inner.axis_pixel_range(limit)
    }
}

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Swatch {
    Area,
    Line,
}

#[derive(Debug, Clone)]
struct LegendEntry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

/// The whole image, and the part left for the chart once the title and the
/// legend have their bands. The legend sits above the plotting area so it can
/// never cover data.
struct Canvas<'a> {
    root: Area<'a>,
    plot: Area<'a>,
}

impl<'a> Canvas<'a> {
    fn new(
        pixels: &'a mut [u8],
        path: &Path,
        title: &str,
        legend: &[LegendEntry],
    ) -> Result<Self, OutputError> {
        register_font();
        let err = chart_err(path);
        let root = BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;

        // Shrink a long title until it fits rather than clip it.
        let mut size = TITLE_SIZE;
        let max_width = WIDTH - 2 * MARGIN;
        while size > 12.0
            && root.estimate_text_size(title, &font(size)).map_err(&err)?.0 > max_width
        {
            size -= 2.0;
        }
        let title_style = font(size).pos(Pos::new(HPos::Center, VPos::Center));
        put_text(
            &root,
            title,
            &title_style,
            ((WIDTH / 2) as i32, (TITLE_HEIGHT / 2) as i32),
        )
        .map_err(&err)?;

        let (_, rest) = root.split_vertically(TITLE_HEIGHT);
        let rows = legend_rows(&root, legend).map_err(&err)?;
        let legend_height = rows.len() as u32 * LEGEND_ROW_HEIGHT;
        let (legend_area, plot) = rest.split_vertically(legend_height);
        for (i, row) in rows.iter().enumerate() {
            let y = i as i32 * LEGEND_ROW_HEIGHT as i32 + LEGEND_ROW_HEIGHT as i32 / 2;
            for (x, entry) in row {
                draw_legend_entry(&legend_area, entry, *x, y).map_err(&err)?;
            }
        }
        Ok(Canvas { root, plot })
    }

    /// Writes "no data" style text in the middle of the plotting area.
    fn note_centered(
        &self,
        path: &Path,
        (xs, ys): (std::ops::Range<i32>, std::ops::Range<i32>),
        text: &str,
    ) -> Result<(), OutputError> {
        let style = (FONT, NOTE_SIZE)
            .into_font()
            .color(&NOTE_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let err = chart_err(path);
        let at = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
        // A white box keeps the note readable over grid lines.
        let (w, h) = self.root.estimate_text_size(text, &style).map_err(&err)?;
        let (half_w, half_h) = (w as i32 / 2 + 12, h as i32 / 2 + 8);
        self.root
            .draw(&Rectangle::new(
                [
                    (at.0 - half_w, at.1 - half_h),
                    (at.0 + half_w, at.1 + half_h),
                ],
                WHITE.filled(),
            ))
            .map_err(&err)?;
        layout::label(
            text,
            (at.0 - half_w, at.1 - half_h, at.0 + half_w, at.1 + half_h),
        );
        self.root.draw_text(text, &style, at).map_err(&err)
    }

    fn finish(self, path: &Path) -> Result<(), OutputError> {
        self.root.present().map_err(chart_err(path))
    }
}

/// One row of the legend: each entry with its x.
type LegendRow<'e> = Vec<(i32, &'e LegendEntry)>;

/// Lays legend entries out left to right, wrapping to a new row when the
/// next entry would run past the right edge.
fn legend_rows<'e>(
    root: &Area<'_>,
    entries: &'e [LegendEntry],
) -> Result<Vec<LegendRow<'e>>, DrawError> {
    let style = font(LEGEND_SIZE);
    let right = (WIDTH - MARGIN) as i32;
    let mut rows: Vec<LegendRow> = Vec::new();
    let mut x = LEGEND_LEFT;
    for entry in entries {
        let (text_w, _) = root.estimate_text_size(&entry.label, &style)?;
        let width = LEGEND_SWATCH + 8 + text_w as i32;
        let row_is_empty = rows.last().is_none_or(|r| r.is_empty());
        if rows.is_empty() || (!row_is_empty && x + width > right) {
            rows.push(Vec::new());
            x = LEGEND_LEFT;
        }
        if let Some(row) = rows.last_mut() {
            row.push((x, entry));
        }
        x += width + LEGEND_GAP;
    }
    Ok(rows)
}

fn draw_legend_entry(
    area: &Area<'_>,
    entry: &LegendEntry,
    x: i32,
    y: i32,
) -> Result<(), DrawError> {
    match entry.swatch {
        Swatch::Area => area.draw(&Rectangle::new(
            [(x, y - 8), (x + LEGEND_SWATCH, y + 8)],
            entry.color.mix(AREA_OPACITY).filled(),
        ))?,
        Swatch::Line => area.draw(&PathElement::new(
            vec![(x, y), (x + LEGEND_SWATCH, y)],
            entry.color.stroke_width(LINE_WIDTH),
        ))?,
    }
    let style = font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    let at = (x + LEGEND_SWATCH + 8, y);
    // The entry's box runs from its swatch to the end of its text.
    let (_, t, r, b) = text_box(area, &entry.label, &style, at, 0)?;
    let (bx, by) = area.get_base_pixel();
    layout::label(&entry.label, (bx + x, by + t, bx + r, by + b));
    area.draw_text(&entry.label, &style, at)
}

/// The number of hours a set of hourly series covers (the longest one).
fn hours_of(series: &[Series]) -> usize {
    series.iter().map(|s| s.values.len()).max().unwrap_or(0)
}

/// Value `i` of a series as something safe to stack: missing, NaN or negative
/// values count as 0.
fn value_at(s: &Series, i: usize) -> f64 {
    match s.values.get(i) {
        Some(v) if v.is_finite() && *v > 0.0 => *v,
        _ => 0.0,
    }
}

/// Cumulative tops of stacked series: `tops[k][i]` is the sum of series
/// `0..=k` at hour `i`.
/// The y axis for stacked series: from 0 to the highest stack top.
fn stacked_axis(series: &[Series], buckets: usize, max_ticks: usize) -> LinearAxis {
    let max = stack_tops(series, buckets)
        .last()
        .map(|t| t.iter().copied().fold(0.0, f64::max))
        .unwrap_or(0.0);
    LinearAxis::up_to(max, max_ticks)
}

/// The house style of every chart's mesh: fonts, axis colour, grid lines.
fn house_style<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
    DB: DrawingBackend,
{
    mesh.label_style(font(TICK_SIZE))
        .axis_desc_style(font(AXIS_DESC_SIZE))
        .axis_style(AXIS_COLOR)
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
}

fn stack_tops(series: &[Series], hours: usize) -> Vec<Vec<f64>> {
    let mut below = vec![0.0; hours];
    series
        .iter()
        .map(|s| {
            for (i, b) in below.iter_mut().enumerate() {
                *b += value_at(s, i);
            }
            below.clone()
        })
        .collect()
}

/// Draws stacked step areas, the first series at the bottom, each with a thin
/// outline in its own colour; then the day boundaries over them, up to `top`,
/// when the axis has them. `series` hold one value per bucket of the axis.
fn draw_stacks<X, Y>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
    series: &[Series],
    axis: &HourAxis,
    top: f64,
) -> Result<(), DrawError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let colors: Vec<RGBColor> = (0..series.len())
        .map(|k| PALETTE[k % PALETTE.len()])
        .collect();
    draw_stacks_in(chart, series, &colors, axis, top)
}

/// [`draw_stacks`] with the colour of each series given (`colors[k]` for
/// `series[k]`).
fn draw_stacks_in<X, Y>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
    series: &[Series],
    colors: &[RGBColor],
    axis: &HourAxis,
    top: f64,
) -> Result<(), DrawError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let hours = hours_of(series);
    let tops = stack_tops(series, hours);
    let zero = vec![0.0; hours];
    for (k, upper) in tops.iter().enumerate() {
        let lower = if k == 0 { &zero } else { &tops[k - 1] };
        let color = colors.get(k).copied().unwrap_or(PALETTE[k % PALETTE.len()]);
        chart.draw_series(std::iter::once(Polygon::new(
            axis.band(lower, upper),
            color.mix(AREA_OPACITY).filled(),
        )))?;
        chart.draw_series(std::iter::once(PathElement::new(
            axis.steps(upper),
            color.stroke_width(1),
        )))?;
    }
    if axis.day_lines {
        let days = (1..=axis.hours / 24).map(|d| (d * 24) as f64);
        chart.draw_series(days.map(|h| PathElement::new(vec![(h, 0.0), (h, top)], DAY_LINE)))?;
    }
    Ok(())
}

fn area_legend(series: &[Series]) -> Vec<LegendEntry> {
    series
        .iter()
        .enumerate()
        .map(|(k, s)| LegendEntry {
            label: s.label.clone(),
            color: PALETTE[k % PALETTE.len()],
            swatch: Swatch::Area,
        })
        .collect()
}

// Helpers for the planning charts (break-even, cost against reserved units,
// sensitivity): swatches they draw themselves, point markers, boxed labels and
// an axis that need not start at 0.

/// How a chart redraws a legend swatch that a plain [`Swatch`] cannot show.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SwatchArt {
    /// A light fill (bands, shaded ranges), drawn as the chart draws it.
    Fill(RGBAColor),
    /// A dashed line (reference lines).
    Dashed(RGBColor),
    /// A line with a marker on it (series whose points are marked).
    LineMarker(Marker),
    /// A marker alone (single marked points, or a marker style).
    Marker(Marker),
}

/// The shape of a point marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Circle,
    Square,
    Diamond,
    /// Pointing up: also marks a value beyond the top of the axis.
    Triangle,
}

/// A point marker: filled, or hollow (white inside, coloured outline).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Marker {
    shape: Shape,
    color: RGBColor,
    filled: bool,
}

/// Half the width of a point marker, in pixels.
const MARKER_RADIUS: i32 = 6;

/// Where [`Canvas::new`] put each legend entry's swatch: its left end and its
/// vertical centre in pixels of the whole image, in the order of `legend`.
fn legend_swatches(root: &Area<'_>, legend: &[LegendEntry]) -> Result<Vec<(i32, i32)>, DrawError> {
    let rows = legend_rows(root, legend)?;
    let row_h = LEGEND_ROW_HEIGHT as i32;
    Ok(rows
        .iter()
        .enumerate()
        .flat_map(|(i, row)| {
            let y = TITLE_HEIGHT as i32 + i as i32 * row_h + row_h / 2;
            row.iter().map(move |(x, _)| (*x, y))
        })
        .collect())
}

/// Redraws the swatches of the legend entries that have an art (`art[i]` for
/// `legend[i]`): the plain swatch is painted over in white first.
fn redraw_swatches(
    root: &Area<'_>,
    legend: &[LegendEntry],
    art: &[Option<SwatchArt>],
) -> Result<(), DrawError> {
    let half = LEGEND_SWATCH / 2;
    for ((x, y), art) in legend_swatches(root, legend)?.into_iter().zip(art) {
        let Some(art) = art else { continue };
        root.draw(&Rectangle::new(
            [(x - 1, y - 11), (x + LEGEND_SWATCH + 1, y + 11)],
            WHITE.filled(),
        ))?;
        match *art {
            SwatchArt::Fill(color) => {
                root.draw(&Rectangle::new(
                    [(x, y - 8), (x + LEGEND_SWATCH, y + 8)],
                    color.filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y - 8), (x + LEGEND_SWATCH, y + 8)],
                    GRID_BOLD.stroke_width(1),
                ))?;
            }
            SwatchArt::Dashed(color) => root.draw(&plotters::element::DashedPathElement::new(
                vec![(x, y), (x + LEGEND_SWATCH, y)],
                7,
                5,
                color.stroke_width(2),
            ))?,
            SwatchArt::LineMarker(m) => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + LEGEND_SWATCH, y)],
                    m.color.stroke_width(LINE_WIDTH),
                ))?;
                paint_marker(root, (x + half, y), m)?;
            }
            SwatchArt::Marker(m) => paint_marker(root, (x + half, y), m)?,
        }
    }
    Ok(())
}

/// Draws a data marker centred at `at` (pixels of `area`), records it for the
/// layout test, and returns the pixel box it covers (of the whole image), for
/// the labels to keep clear of.
fn draw_marker(area: &Area<'_>, at: (i32, i32), m: Marker) -> Result<PixelBox, DrawError> {
    paint_marker(area, at, m)?;
    // How far the shape reaches from its centre, with its 2 px outline.
    let r = match m.shape {
        Shape::Circle | Shape::Square => MARKER_RADIUS + 1,
        Shape::Triangle => MARKER_RADIUS + 2,
        Shape::Diamond => MARKER_RADIUS + 3,
    };
    let (bx, by) = area.get_base_pixel();
    let (x, y) = (at.0 + bx, at.1 + by);
    let b = (x - r, y - r, x + r + 1, y + r + 1);
    layout::marker(&format!("marker at ({x}, {y})"), b);
    labels::DRAWN_MARKERS.with(|d| d.borrow_mut().push(b));
    Ok(b)
}

/// Paints a point marker centred at `at` (pixels of `area`): in the plot
/// through [`draw_marker`], alone in legend swatches.
fn paint_marker(area: &Area<'_>, at: (i32, i32), m: Marker) -> Result<(), DrawError> {
    let r = MARKER_RADIUS;
    let fill = if m.filled { m.color } else { WHITE };
    let outline = m.color.stroke_width(2);
    let (x, y) = at;
    let corners = match m.shape {
        Shape::Circle => {
            area.draw(&Circle::new(at, r, fill.filled()))?;
            return area.draw(&Circle::new(at, r, outline));
        }
        Shape::Square => vec![
            (x - r, y - r),
            (x + r, y - r),
            (x + r, y + r),
            (x - r, y + r),
        ],
        Shape::Diamond => {
            let d = r + 2;
            vec![(x, y - d), (x + d, y), (x, y + d), (x - d, y)]
        }
        Shape::Triangle => {
            let d = r + 1;
            vec![(x, y - d), (x + d, y + d - 2), (x - d, y + d - 2)]
        }
    };
    area.draw(&Polygon::new(corners.clone(), fill.filled()))?;
    let mut closed = corners;
    closed.push(closed[0]);
    area.draw(&PathElement::new(closed, outline))
}

/// Cuts a polyline to the box `xr` × `yr`: the pieces that lie inside, in
/// order (a line leaving the box and coming back gives two pieces). A single
/// point inside the box is a piece of one point.
fn clip_polyline(points: &[(f64, f64)], xr: (f64, f64), yr: (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let inside = |p: &(f64, f64)| p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1;
    if let [p] = points {
        return if inside(p) {
            vec![vec![*p]]
        } else {
            Vec::new()
        };
    }
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], xr, yr) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if !current.is_empty() {
                        pieces.push(std::mem::take(&mut current));
                    }
                    current.push(a);
                }
                current.push(b);
            }
            None => {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// The part of the segment `a`–`b` inside the box (Liang–Barsky), if any.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    xr: (f64, f64),
    yr: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - xr.0),
        (dx, xr.1 - a.0),
        (-dy, a.1 - yr.0),
        (dy, yr.1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            (a.0 + t * dx, a.1 + t * dy)
        }
    };
    Some((at(t0), at(t1)))
}

/// Renders with `first` and `second` and asserts the PNGs are byte-identical;
/// returns the bytes.
#[cfg(test)]
pub(crate) fn assert_same_png(
    first: impl Fn() -> Result<Vec<u8>, OutputError>,
    second: impl Fn() -> Result<Vec<u8>, OutputError>,
) -> Vec<u8> {
    let a = first().expect("first drawing");
    let b = second().expect("second drawing");
    assert_eq!(a, b);
    a
}

#[cfg(test)]
pub(crate) fn assert_deterministic(render: impl Fn() -> Result<Vec<u8>, OutputError>) {
    let png = assert_same_png(&render, &render);
    assert!(png.len() > 10_000, "only {} bytes", png.len());
}

/// Writes a rendered chart to `path` (for tests that check the file or leave
/// examples to look at).
#[cfg(test)]
pub(crate) fn save(path: impl AsRef<Path>, png: Result<Vec<u8>, OutputError>) {
    std::fs::write(path, png.expect("chart renders")).expect("chart file written");
}

/// The panel's heading above its top left corner, and a frame line along the
/// bottom of an upper panel (which has no x axis of its own).
fn finish_panel<Y: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    root: &Area<'_>,
    chart: &ChartContext<'_, BitMapBackend<'_>, Cartesian2d<Ticked<RangedCoordf64>, Y>>,
    heading: &str,
    x_labels: u32,
) -> Result<(), DrawError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    record_axes((&xs, &ys), x_labels, Y_LABEL_AREA, 0);
    root.draw(&PathElement::new(
        vec![(xs.start, ys.end - 1), (xs.end - 1, ys.end - 1)],
        AXIS_COLOR.stroke_width(1),
    ))?;
    let style = label_style(AXIS_DESC_SIZE, TEXT_COLOR, HPos::Left, VPos::Bottom);
    put_text(root, heading, &style, (xs.start, ys.start - 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_axis_has_nice_ticks_and_headroom() {
        let a = LinearAxis::up_to(105.0, 8);
        assert!(a.top >= 105.0 * 1.05 - 1e-9);
        assert_eq!(a.ticks.first(), Some(&0.0));
        assert!(a.ticks.len() <= 9);
        assert_eq!(a.label(20.0), "20");
        let big = LinearAxis::up_to(48_000.0, 8);
        assert_eq!(big.suffix, "k");
        assert!(big.ticks.iter().all(|t| !big.label(*t).contains('.')));
        let small = LinearAxis::up_to(0.3, 8);
        assert_eq!(small.label(0.05), "0.05");
        let none = LinearAxis::up_to(0.0, 8);
        assert_eq!(none.top, 1.05f64.max(none.top));
    }

    #[test]
    fn hour_axis_switches_to_days_and_keeps_labels_few() {
        let day = HourAxis::new(24);
        assert!(!day.in_days);
        assert!(day.bold.len() <= HourAxis::MAX_LABELS + 1);
        for hours in [49, 168, 720, 2160, 8760] {
            let a = HourAxis::new(hours);
            assert!(a.in_days);
            assert!(a.bold.len() <= HourAxis::MAX_LABELS + 1, "{hours}");
            assert!(a.bold.iter().all(|h| h % 24.0 == 0.0));
        }
        assert_eq!(HourAxis::new(168).label(48.0), "2");
    }

    #[test]
    fn by_day_sums_and_averages_with_a_partial_last_day() {
        // Two full days and 6 hours of a third.
        let hourly: Vec<f64> = (0..54).map(|h| h as f64).collect();
        let sums = by_day(&hourly, Combine::Sum);
        assert_eq!(
            sums,
            vec![276.0, 852.0, 48.0 + 49.0 + 50.0 + 51.0 + 52.0 + 53.0]
        );
        let means = by_day(&hourly, Combine::Mean);
        assert_eq!(means, vec![11.5, 35.5, 50.5]);
        // The partial day averages over its own hours, not 24.
        assert_eq!(by_day(&[0.5; 30], Combine::Mean), vec![0.5, 0.5]);
        assert_eq!(by_day(&[2.0; 30], Combine::Sum), vec![48.0, 12.0]);
        // Non-finite hours count as 0 (but still count as hours).
        let odd = [1.0, f64::NAN, 3.0, f64::INFINITY];
        assert_eq!(by_day(&odd, Combine::Sum), vec![4.0]);
        assert_eq!(by_day(&odd, Combine::Mean), vec![1.0]);
        assert!(by_day(&[], Combine::Sum).is_empty());
    }

    #[test]
    fn long_horizons_are_drawn_per_day() {
        assert_eq!(Bucket::for_horizon(0), Bucket::Hour);
        assert_eq!(Bucket::for_horizon(HOURLY_MAX_HOURS), Bucket::Hour);
        assert_eq!(Bucket::for_horizon(HOURLY_MAX_HOURS + 1), Bucket::Day);
        assert_eq!(Bucket::Day.count(8760), 365);
        assert_eq!(Bucket::Day.count(8770), 366);
        assert_eq!(Bucket::Hour.count(8770), 8770);

        let s = [Series {
            label: "a".into(),
            values: vec![1.0; 50],
        }];
        assert!(matches!(
            Bucket::Hour.apply(&s, Combine::Sum),
            Cow::Borrowed(_)
        ));
        let daily = Bucket::Day.apply(&s, Combine::Sum);
        assert_eq!(daily[0].label, "a");
        assert_eq!(daily[0].values, vec![24.0, 24.0, 2.0]);
    }

    #[test]
    fn steps_span_their_bucket_and_stop_at_the_horizon() {
        // Per hour: value i from hour i to i + 1, as always.
        let hourly = HourAxis::new(3);
        assert_eq!(
            hourly.steps(&[1.0, 2.0, 3.0]),
            vec![
                (0.0, 1.0),
                (1.0, 1.0),
                (1.0, 2.0),
                (2.0, 2.0),
                (2.0, 3.0),
                (3.0, 3.0)
            ]
        );
        // Per day, with a last day of 10 hours.
        let daily = HourAxis::new(8770);
        assert_eq!(daily.bucket, Bucket::Day);
        let pts = daily.steps(&vec![5.0; 366]);
        assert_eq!(pts.len(), 2 * 366);
        assert_eq!(&pts[..2], &[(0.0, 5.0), (24.0, 5.0)]);
        assert_eq!(&pts[pts.len() - 2..], &[(8760.0, 5.0), (8770.0, 5.0)]);
    }

    #[test]
    fn day_lines_only_while_days_stay_wide() {
        for hours in [49, 168, 744, 1440] {
            let a = HourAxis::new(hours);
            assert!(a.day_lines, "{hours}");
            assert!(a.desc().contains("grid line at each day boundary"));
        }
        for hours in [1464, 2160, 8760] {
            let a = HourAxis::new(hours);
            assert!(!a.day_lines, "{hours}");
            assert!(a.light.is_empty(), "{hours}");
            assert_eq!(a.desc(), "simulated time (days)");
        }
        assert!(!HourAxis::new(48).day_lines);
    }

    #[test]
    fn stacks_accumulate_and_ignore_bad_values() {
        let s = [
            Series {
                label: "a".into(),
                values: vec![1.0, f64::NAN, 2.0],
            },
            Series {
                label: "b".into(),
                values: vec![1.0, 1.0],
            },
        ];
        let tops = stack_tops(&s, 3);
        assert_eq!(tops, vec![vec![1.0, 0.0, 2.0], vec![2.0, 1.0, 2.0]]);
    }
}
