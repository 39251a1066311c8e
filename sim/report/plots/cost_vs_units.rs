//! Cost and tail latency against the number of reserved units: the total
//! cost and the reserved units' part of it on the left axis, p99 time to first
//! token on the right, with confidence intervals as whiskers, the SLA and the
//! all-on-demand cost as reference lines, the chosen (cheapest) point and the
//! first configuration meeting the SLA marked and labelled.
//!
//! Configurations are drawn as points only: `plan` simulates the few its
//! search needs, and a line between them would show costs nobody simulated.

use std::path::Path;

use plotters::chart::DualCoordChartContext;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    chart_err, decimals_for, draw_marker, font, house_style, labels_above, place_label,
    redraw_swatches, Canvas, DrawError, LabelSpot, LegendEntry, LinearAxis, Marker, Shape, Swatch,
    SwatchArt, Ticked, AXIS_COLOR, AXIS_DESC_SIZE, MARGIN, MARGIN_RIGHT, MARGIN_TOP, MARKER_RADIUS,
    PALETTE, TICK_SIZE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::{grouped, usd_cents_small};

/// One configuration: a number of reserved units and what it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitsPoint {
    /// Reserved units (PTUs, provisioned throughput units, ...).
    pub units: f64,
    /// Total cost in USD over the period [`CostVsUnitsChart::cost_label`]
    /// names (the horizon, a week, a month).
    pub cost: f64,
    /// Confidence interval of `cost`: (low, high), USD.
    pub cost_ci: Option<(f64, f64)>,
    /// The reserved units' part of `cost`, USD.
    pub reserved_cost: f64,
    /// p99 time to first token, ms; `None` when nothing was served.
    pub p99_ms: Option<f64>,
    /// Confidence interval of `p99_ms`: (low, high), ms.
    pub p99_ci: Option<(f64, f64)>,
    /// Whether this configuration meets the latency SLA; `Some(false)` draws
    /// its markers hollow.
    pub meets_sla: Option<bool>,
}

/// Everything the cost-against-units chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CostVsUnitsChart {
    /// The configurations, in any order (drawn sorted by units).
    pub points: Vec<UnitsPoint>,
    /// Description of the cost axis with its unit and period, e.g. "total
    /// cost, $ per week".
    pub cost_label: String,
    /// Cost of buying everything on demand, same unit as `cost`: a dashed
    /// horizontal reference line.
    pub on_demand_only_cost: Option<f64>,
    /// The latency SLA in ms: a dashed horizontal line on the latency axis.
    pub sla_ms: Option<f64>,
    /// Index into `points` of the point to mark, e.g. the cheapest one that
    /// meets the SLA.
    pub cheapest: Option<usize>,
    /// The marked point's label; by default "cheapest: 140 units, $9,870".
    pub chosen_label: Option<String>,
    /// Description of the x axis; empty means "reserved units" (a sweep over
    /// another key names the key).
    pub x_label: String,
}

const MAX_X_TICKS: usize = 10;
const MAX_Y_TICKS: usize = 8;
/// The latency axis stops a little above this multiple of the SLA: with too
/// few units the queue, and so p99, can grow without bound.
const SLA_CUT_FACTOR: f64 = 4.0;
const COST: RGBColor = PALETTE[7];
/// The reserved units' part of each configuration's cost.
const RESERVED_MARKER: Marker = Marker {
    shape: Shape::Square,
    color: PALETTE[0],
    filled: true,
};
/// The ring around the first configuration meeting the SLA (the chosen one
/// has a round ring in the cost colour).
const FIRST: RGBColor = PALETTE[2];
const ON_DEMAND_LINE: RGBColor = RGBColor(90, 90, 90);
const LATENCY: RGBColor = PALETTE[3];
/// Colour of the "misses the SLA" legend marker.
const MUTED: RGBColor = RGBColor(110, 110, 110);
const WHISKER_CAP: i32 = 6;
const RING_RADIUS: i32 = 13;

/// A usable p99 point.
struct Latency {
    units: f64,
    p99: f64,
    ci: Option<(f64, f64)>,
    misses_sla: bool,
}

/// A usable point, with its index in the caller's list.
struct Row<'a> {
    index: usize,
    p: &'a UnitsPoint,
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "cost_vs_units.png";

/// Draws cost and p99 TTFT against reserved units as PNG bytes.
/// Points with non-finite units or cost are left out; with none left, the
/// axes are drawn with a note.
pub fn png(title: &str, data: &CostVsUnitsChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    data: &CostVsUnitsChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let d = Prepared::new(data);
    let (entries, art) = legend(&d);
    let canvas = Canvas::new(pixels, path, title, &entries)?;
    redraw_swatches(&canvas.root, &entries, &art).map_err(&err)?;

    let axes = Axes::new(&d);
    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
        .margin_right(if d.with_latency { MARGIN } else { MARGIN_RIGHT })
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .right_y_label_area_size(if d.with_latency { Y_LABEL_AREA } else { 0 })
        .build_cartesian_2d(axes.x.coord(), axes.y.coord())
        .map_err(&err)?
        .set_secondary_coord(axes.x.coord(), axes.y2.coord());
    draw_axes(&mut chart, data, &d, &axes).map_err(&err)?;
    draw_reference_lines(&mut chart, &d, &axes).map_err(&err)?;
    let lines = draw_points(&canvas, &mut chart, &d, &axes).map_err(&err)?;
    draw_labels(&canvas, &chart, data, &d, lines).map_err(&err)?;

    if d.rows.is_empty() {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no configurations to compare")?;
    }
    drop(chart);
    canvas.finish(path)
}

type Chart<'a> = DualCoordChartContext<
    'a,
    BitMapBackend<'a>,
    Cartesian2d<Ticked<RangedCoordf64>, Ticked<RangedCoordf64>>,
    Cartesian2d<Ticked<RangedCoordf64>, Ticked<RangedCoordf64>>,
>;

/// The usable points and reference values of a chart.
struct Prepared<'a> {
    /// Points with finite units and cost, sorted by units.
    rows: Vec<Row<'a>>,
    on_demand: Option<f64>,
    sla: Option<f64>,
    p99s: Vec<Latency>,
    with_latency: bool,
    any_miss: bool,
    /// The configuration with the fewest units that meets the SLA.
    first_meeting: Option<usize>,
}

impl<'a> Prepared<'a> {
    fn new(data: &'a CostVsUnitsChart) -> Self {
        let mut rows: Vec<Row> = data
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.units.is_finite() && p.cost.is_finite())
            .map(|(index, p)| Row { index, p })
            .collect();
        rows.sort_by(|a, b| a.p.units.total_cmp(&b.p.units));
        let on_demand = data
            .on_demand_only_cost
            .filter(|v| v.is_finite() && *v >= 0.0);
        let sla = data.sla_ms.filter(|v| v.is_finite() && *v > 0.0);
        let p99s: Vec<Latency> = rows
            .iter()
            .filter_map(|r| {
                let v = r.p.p99_ms.filter(|v| v.is_finite() && *v >= 0.0)?;
                let ci = r.p.p99_ci.filter(|(a, b)| a.is_finite() && b.is_finite());
                Some(Latency {
                    units: r.p.units,
                    p99: v,
                    ci,
                    misses_sla: r.p.meets_sla == Some(false),
                })
            })
            .collect();
        let with_latency = !p99s.is_empty() || sla.is_some();
        let any_miss = rows.iter().any(|r| r.p.meets_sla == Some(false));
        let first_meeting = rows
            .iter()
            .find(|r| r.p.meets_sla == Some(true))
            .map(|r| r.index);
        Prepared {
            rows,
            on_demand,
            sla,
            p99s,
            with_latency,
            any_miss,
            first_meeting,
        }
    }
}

/// The legend, with the swatches this chart draws itself.
fn legend(d: &Prepared) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let any_cost_ci = d.rows.iter().any(|r| r.p.cost_ci.is_some());
    let any_p99_ci = d.p99s.iter().any(|l| l.ci.is_some());
    let mut legend: Vec<(String, Option<SwatchArt>)> = vec![
        (
            if any_cost_ci {
                "total cost (bars: confidence interval)".into()
            } else {
                "total cost".into()
            },
            Some(SwatchArt::Marker(Marker {
                shape: Shape::Circle,
                color: COST,
                filled: true,
            })),
        ),
        (
            "reserved units' part of it".into(),
            Some(SwatchArt::Marker(RESERVED_MARKER)),
        ),
    ];
    if d.on_demand.is_some() {
        legend.push((
            "cost if all on demand".into(),
            Some(SwatchArt::Dashed(ON_DEMAND_LINE)),
        ));
    }
    if d.with_latency {
        legend.push((
            if any_p99_ci {
                "p99 TTFT (right axis; bars: confidence interval)".into()
            } else {
                "p99 TTFT (right axis)".into()
            },
            Some(SwatchArt::Marker(Marker {
                shape: Shape::Triangle,
                color: LATENCY,
                filled: true,
            })),
        ));
    }
    if d.sla.is_some() {
        legend.push(("SLA (right axis)".into(), Some(SwatchArt::Dashed(LATENCY))));
    }
    if d.any_miss {
        legend.push((
            "hollow: misses the SLA".into(),
            Some(SwatchArt::Marker(Marker {
                shape: Shape::Circle,
                color: MUTED,
                filled: false,
            })),
        ));
    }
    legend
        .into_iter()
        .map(|(label, art)| {
            let entry = LegendEntry {
                label,
                color: COST,
                swatch: Swatch::Line,
            };
            (entry, art)
        })
        .unzip()
}

/// Units across, cost on the left, p99 TTFT on the right.
struct Axes {
    x: LinearAxis,
    y: LinearAxis,
    y2: LinearAxis,
    /// Whether some p99 lies above the latency axis.
    latency_cut: bool,
}

impl Axes {
    fn new(d: &Prepared) -> Self {
        let x = LinearAxis::up_to(
            d.rows.iter().map(|r| r.p.units).fold(0.0, f64::max),
            MAX_X_TICKS,
        );
        let cost_max = d
            .rows
            .iter()
            .flat_map(|r| {
                let ci = r.p.cost_ci.map_or(0.0, |(a, b)| a.max(b));
                [r.p.cost, ci, r.p.reserved_cost]
            })
            .chain(d.on_demand)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let y = LinearAxis::up_to(cost_max, MAX_Y_TICKS);
        let latency_max = d
            .p99s
            .iter()
            .flat_map(|l| [l.p99, l.ci.map_or(0.0, |(a, b)| a.max(b))])
            .fold(0.0, f64::max);
        let cut = d.sla.map_or(f64::INFINITY, |s| s * SLA_CUT_FACTOR);
        let latency_top = match d.sla {
            // Room above the SLA line for its label.
            Some(s) => latency_max.min(cut).max(s * 1.15),
            None => latency_max,
        };
        let y2 = LinearAxis::up_to(latency_top, MAX_Y_TICKS);
        let latency_cut = d.p99s.iter().any(|l| l.p99 > y2.top);
        Axes {
            x,
            y,
            y2,
            latency_cut,
        }
    }
}

fn draw_axes(
    chart: &mut Chart<'_>,
    data: &CostVsUnitsChart,
    d: &Prepared,
    axes: &Axes,
) -> Result<(), DrawError> {
    let cost_desc = if data.cost_label.trim().is_empty() {
        "total cost ($)"
    } else {
        data.cost_label.as_str()
    };
    let x_desc = if data.x_label.trim().is_empty() {
        "reserved units"
    } else {
        data.x_label.as_str()
    };
    house_style(&mut chart.configure_mesh())
        .x_desc(x_desc)
        .y_desc(cost_desc)
        .x_label_formatter(&|v| axes.x.label(*v))
        .y_label_formatter(&|v| cost_tick(&axes.y, *v))
        .draw()?;
    if d.with_latency {
        let desc = if axes.latency_cut {
            "p99 TTFT (ms; ▲ at the top: above the axis)"
        } else {
            "p99 TTFT (ms)"
        };
        chart
            .configure_secondary_axes()
            .y_desc(desc)
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(AXIS_DESC_SIZE))
            .axis_style(AXIS_COLOR)
            .y_label_formatter(&|v| grouped(*v, decimals_for(axes.y2.ticks[1])))
            .draw()?;
    }
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let right = if d.with_latency { Y_LABEL_AREA } else { 0 };
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, right);
    Ok(())
}

/// The all-on-demand cost and the SLA as dashed lines across the plot.
fn draw_reference_lines(chart: &mut Chart<'_>, d: &Prepared, axes: &Axes) -> Result<(), DrawError> {
    let top = axes.x.top;
    if let Some(v) = d.on_demand {
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, v), (top, v)],
            10,
            7,
            ON_DEMAND_LINE.stroke_width(2),
        ))?;
    }
    if let Some(s) = d.sla {
        chart.draw_secondary_series(DashedLineSeries::new(
            vec![(0.0, s), (top, s)],
            10,
            7,
            LATENCY.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Latency: line cut at the top of its axis, then the cost line, then
/// whiskers and markers over both. Returns what labels must not cover: the
/// curves, the whiskers and the reference lines (pixels).
fn draw_points(
    canvas: &Canvas<'_>,
    chart: &mut Chart<'_>,
    d: &Prepared,
    axes: &Axes,
) -> Result<Vec<Vec<(i32, i32)>>, DrawError> {
    let y2 = &axes.y2;
    let secondary = |p: (f64, f64)| chart.borrow_secondary().backend_coord(&p);
    let mut whiskers: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut markers: Vec<Vec<(i32, i32)>> = Vec::new();
    let mut above: Vec<(i32, String, RGBColor)> = Vec::new();
    for r in &d.rows {
        let v = r.p.reserved_cost;
        if v.is_finite() && v >= 0.0 && v <= axes.y.top {
            let at = chart.backend_coord(&(r.p.units, v));
            draw_marker(&canvas.root, at, RESERVED_MARKER)?;
            markers.push(vec![at]);
        }
    }
    for l in &d.p99s {
        let (u, v, ci, miss) = (l.units, l.p99, l.ci, l.misses_sla);
        if let Some((a, b)) = ci {
            let (lo, hi) = (a.min(b).clamp(0.0, y2.top), a.max(b).clamp(0.0, y2.top));
            draw_whisker(canvas, secondary((u, lo)), secondary((u, hi)), LATENCY)?;
        }
        let shape = Shape::Triangle;
        if v <= y2.top {
            let m = Marker {
                shape,
                color: LATENCY,
                filled: !miss,
            };
            draw_marker(&canvas.root, secondary((u, v)), m)?;
            markers.push(vec![secondary((u, v))]);
        } else {
            let (px, py) = secondary((u, y2.top));
            let m = Marker {
                shape,
                color: LATENCY,
                filled: false,
            };
            draw_marker(&canvas.root, (px, py + MARKER_RADIUS + 2), m)?;
            above.push((px, format!("{} ms", grouped(v, 0)), LATENCY));
        }
    }

    // Cost: whiskers and markers (hollow when the SLA is missed).
    for r in &d.rows {
        if let Some((a, b)) = r.p.cost_ci.filter(|(a, b)| a.is_finite() && b.is_finite()) {
            let (lo, hi) = (a.min(b).max(0.0), a.max(b));
            let px = |v: f64| chart.backend_coord(&(r.p.units, v));
            draw_whisker(canvas, px(lo), px(hi), COST)?;
            whiskers.push(vec![px(lo), px(hi)]);
        }
        let m = Marker {
            shape: Shape::Circle,
            color: COST,
            filled: r.p.meets_sla != Some(false),
        };
        draw_marker(&canvas.root, chart.backend_coord(&(r.p.units, r.p.cost)), m)?;
    }

    let (xs, ys) = chart.plotting_area().get_pixel_range();
    labels_above(&canvas.root, ys.start, &above)?;

    let mut lines: Vec<Vec<(i32, i32)>> = d
        .rows
        .iter()
        .map(|r| vec![chart.backend_coord(&(r.p.units, r.p.cost))])
        .collect();
    lines.extend(markers);
    lines.extend(whiskers);
    let across = |y: i32| vec![(xs.start, y), (xs.end, y)];
    let sla_px = d.sla.map(|s| secondary((0.0, s)).1);
    let on_demand_px = d.on_demand.map(|v| chart.backend_coord(&(0.0, v)).1);
    lines.extend(sla_px.into_iter().chain(on_demand_px).map(across));
    Ok(lines)
}

/// Labels: the marked point first (it matters most), then the reference
/// lines, each at the first free spot clear of `lines`.
/// Where a point's label may go, nearest first: below, above and to either
/// side of its ring (above first when `above`), then the same further out,
/// so a label finds room beside a row of markers.
fn spots_around((x0, y0): (i32, i32), above: bool) -> Vec<LabelSpot> {
    let g = RING_RADIUS + 8;
    let mut out = Vec::new();
    for k in [1, 2, 3, 5, 7, 10] {
        let (dx, dy) = (g / 2 + (k - 1) * g / 2, k * g);
        let below = [
            (HPos::Center, VPos::Top, (x0, y0 + dy)),
            (HPos::Left, VPos::Top, (x0 + dx, y0 + dy)),
            (HPos::Right, VPos::Top, (x0 - dx, y0 + dy)),
        ];
        let over = [
            (HPos::Center, VPos::Bottom, (x0, y0 - dy)),
            (HPos::Left, VPos::Bottom, (x0 + dx, y0 - dy)),
            (HPos::Right, VPos::Bottom, (x0 - dx, y0 - dy)),
        ];
        let (a, b) = if above { (over, below) } else { (below, over) };
        out.extend(a);
        out.extend(b);
    }
    out
}

fn draw_labels(
    canvas: &Canvas<'_>,
    chart: &Chart<'_>,
    data: &CostVsUnitsChart,
    d: &Prepared,
    lines: Vec<Vec<(i32, i32)>>,
) -> Result<(), DrawError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let mut taken = Vec::new();
    let chosen = data
        .cheapest
        .and_then(|i| d.rows.iter().find(|r| r.index == i));
    if let Some(r) = chosen {
        let (x0, y0) = chart.backend_coord(&(r.p.units, r.p.cost));
        canvas
            .root
            .draw(&Circle::new((x0, y0), RING_RADIUS, COST.stroke_width(2)))?;
        let text = data.chosen_label.clone().unwrap_or_else(|| {
            format!(
                "cheapest: {} units, {}",
                grouped(r.p.units, decimals_for(r.p.units).min(1)),
                usd_cents_small(r.p.cost)
            )
        });
        let text = if d.first_meeting == Some(r.index) {
            format!("{text} (the first to meet the SLA)")
        } else {
            text
        };
        place_label(
            &canvas.root,
            &text,
            COST,
            &spots_around((x0, y0), false),
            (&xs, &ys),
            &mut taken,
            &lines,
        )?;
    }
    // The first configuration meeting the SLA: a square ring, and a label
    // (merged into the chosen point's when they are one).
    let first = d
        .first_meeting
        .and_then(|i| d.rows.iter().find(|r| r.index == i));
    if let Some(r) = first {
        let (x0, y0) = chart.backend_coord(&(r.p.units, r.p.cost));
        let k = RING_RADIUS - 2;
        canvas.root.draw(&Rectangle::new(
            [(x0 - k, y0 - k), (x0 + k, y0 + k)],
            FIRST.stroke_width(2),
        ))?;
        if chosen.is_none_or(|c| c.index != r.index) {
            let text = format!(
                "first to meet the SLA: {} units, {}",
                grouped(r.p.units, decimals_for(r.p.units).min(1)),
                usd_cents_small(r.p.cost)
            );
            place_label(
                &canvas.root,
                &text,
                FIRST,
                &spots_around((x0, y0), true),
                (&xs, &ys),
                &mut taken,
                &lines,
            )?;
        }
    }
    let along = |y: i32| {
        let (l, r) = (xs.start + 8, xs.end - 8);
        let mid = (xs.start + xs.end) / 2;
        [
            (HPos::Right, VPos::Bottom, (r, y - 4)),
            (HPos::Right, VPos::Top, (r, y + 4)),
            (HPos::Left, VPos::Bottom, (l, y - 4)),
            (HPos::Left, VPos::Top, (l, y + 4)),
            (HPos::Center, VPos::Bottom, (mid, y - 4)),
            (HPos::Center, VPos::Top, (mid, y + 4)),
        ]
    };
    let sla_px = d
        .sla
        .map(|s| chart.borrow_secondary().backend_coord(&(0.0, s)).1);
    let on_demand_px = d.on_demand.map(|v| chart.backend_coord(&(0.0, v)).1);
    let references = [
        d.sla
            .zip(sla_px)
            .map(|(s, y)| (format!("SLA {} ms", grouped(s, 0)), LATENCY, y)),
        d.on_demand.zip(on_demand_px).map(|(v, y)| {
            (
                format!("all on demand {}", usd_cents_small(v)),
                ON_DEMAND_LINE,
                y,
            )
        }),
    ];
    for (text, color, y) in references.into_iter().flatten() {
        place_label(
            &canvas.root,
            &text,
            color,
            &along(y),
            (&xs, &ys),
            &mut taken,
            &lines,
        )?;
    }
    Ok(())
}

/// A cost tick label: "$12,500", or "$1.5M" once the axis reaches millions.
fn cost_tick(axis: &LinearAxis, v: f64) -> String {
    let step = axis.ticks.get(1).copied().unwrap_or(1.0);
    if v.abs() < 1e-12 {
        "$0".to_string()
    } else if axis.top >= 1e6 {
        format!("${}M", grouped(v / 1e6, decimals_for(step / 1e6)))
    } else {
        format!("${}", grouped(v, decimals_for(step)))
    }
}

/// A vertical confidence-interval bar with caps between two pixel points.
fn draw_whisker(
    canvas: &Canvas<'_>,
    a: (i32, i32),
    b: (i32, i32),
    color: RGBColor,
) -> Result<(), DrawError> {
    let style = color.stroke_width(2);
    canvas.root.draw(&PathElement::new(vec![a, b], style))?;
    for (x, y) in [a, b] {
        canvas.root.draw(&PathElement::new(
            vec![(x - WHISKER_CAP, y), (x + WHISKER_CAP, y)],
            style,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week of a gpt-4o-like workload served by 15 to 400 reserved units
    /// with on-demand spillover: cost falls, then rises once the units sit
    /// idle; p99 TTFT falls as fewer requests queue.
    pub(crate) fn sample() -> CostVsUnitsChart {
        let units = [
            15.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0, 200.0, 250.0, 300.0, 400.0,
        ];
        let demand = 160.0; // units' worth of traffic at the peak
        let points = units
            .iter()
            .map(|&u: &f64| {
                let reserved = u * 42.0;
                let spill_share = ((demand - u) / demand).clamp(0.0, 1.0).powf(1.6);
                let spill = 11_500.0 * spill_share;
                let cost = reserved + spill + 250.0;
                let p99 = 900.0 + 30_000.0 / (u / 10.0).powf(1.5);
                UnitsPoint {
                    units: u,
                    cost,
                    cost_ci: Some((cost * 0.97, cost * 1.03)),
                    reserved_cost: reserved,
                    p99_ms: Some(p99),
                    p99_ci: Some((p99 * 0.92, p99 * 1.08)),
                    meets_sla: Some(p99 <= 2_000.0),
                }
            })
            .collect::<Vec<_>>();
        let cheapest = (0..points.len())
            .filter(|&i| points[i].meets_sla == Some(true))
            .min_by(|&a, &b| points[a].cost.total_cmp(&points[b].cost));
        CostVsUnitsChart {
            points,
            cost_label: "total cost, $ per week".into(),
            on_demand_only_cost: Some(11_750.0),
            sla_ms: Some(2_000.0),
            cheapest,
            chosen_label: None,
            x_label: String::new(),
        }
    }

    #[test]
    fn draws_a_deterministic_png() {
        let data = sample();
        super::super::assert_deterministic(|| png("Cost against units", &data));
    }

    #[test]
    fn point_order_does_not_matter() {
        let data = sample();
        let mut shuffled = data.clone();
        shuffled.points.reverse();
        shuffled.cheapest = data.cheapest.map(|i| data.points.len() - 1 - i);
        crate::report::plots::assert_same_png(|| png("t", &data), || png("t", &shuffled));
    }

    #[test]
    fn edge_cases_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.png");
        let check = |data: &CostVsUnitsChart| {
            super::super::save(&path, png("Cost against units", data));
            assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        };
        // Nothing at all, and an index pointing nowhere.
        check(&CostVsUnitsChart {
            points: vec![],
            cost_label: String::new(),
            on_demand_only_cost: None,
            sla_ms: None,
            cheapest: Some(3),
            chosen_label: None,
            x_label: String::new(),
        });
        check(&CostVsUnitsChart {
            points: vec![],
            ..sample()
        });
        // One point, without latency.
        let one = UnitsPoint {
            units: 100.0,
            cost: 5_000.0,
            cost_ci: None,
            reserved_cost: 4_200.0,
            p99_ms: None,
            p99_ci: None,
            meets_sla: None,
        };
        check(&CostVsUnitsChart {
            points: vec![one.clone()],
            cheapest: Some(0),
            x_label: String::new(),
            chosen_label: Some("chosen: 100 units".into()),
            ..sample()
        });
        // All equal, all zero, no SLA.
        let zero = UnitsPoint {
            units: 0.0,
            cost: 0.0,
            cost_ci: Some((0.0, 0.0)),
            reserved_cost: 0.0,
            p99_ms: Some(0.0),
            p99_ci: Some((0.0, 0.0)),
            meets_sla: Some(false),
        };
        check(&CostVsUnitsChart {
            points: vec![zero.clone(), zero.clone(), zero],
            cost_label: "cost".into(),
            on_demand_only_cost: Some(0.0),
            sla_ms: None,
            cheapest: Some(1),
            chosen_label: None,
            x_label: String::new(),
        });
        // Cost in millions, p99 far above the SLA everywhere, no crossover
        // with the on-demand line, odd values.
        let mut big = sample();
        for p in &mut big.points {
            p.cost *= 500.0;
            p.reserved_cost *= 500.0;
            p.cost_ci = p.cost_ci.map(|(a, b)| (a * 500.0, b * 500.0));
            p.p99_ms = p.p99_ms.map(|v| v * 100.0);
            p.meets_sla = Some(false);
        }
        big.points[2].cost = f64::NAN;
        big.points[3].p99_ms = Some(f64::INFINITY);
        big.points[4].cost_ci = Some((f64::NAN, 1.0));
        big.on_demand_only_cost = Some(f64::NAN);
        check(&big);
    }

    #[test]
    fn cost_ticks_have_dollars_and_separators() {
        let small = LinearAxis::up_to(12_000.0, MAX_Y_TICKS);
        assert_eq!(cost_tick(&small, 10_000.0), "$10,000");
        assert_eq!(cost_tick(&small, 0.0), "$0");
        let big = LinearAxis::up_to(3.2e6, MAX_Y_TICKS);
        assert_eq!(cost_tick(&big, 1.5e6), "$1.5M");
        assert_eq!(usd_cents_small(9_870.4), "$9,870");
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        let title = "gpt-4o: weekly cost and p99 TTFT against reserved units";
        super::super::save(dir.join("cost_vs_units.png"), png(title, &sample()));
        let mut plain = sample();
        for p in &mut plain.points {
            p.cost_ci = None;
            p.p99_ci = None;
            p.meets_sla = None;
        }
        plain.sla_ms = None;
        plain.on_demand_only_cost = None;
        plain.cheapest = Some(5);
        plain.chosen_label = Some("chosen: 125 units".into());
        super::super::save(dir.join("cost_vs_units_plain.png"), png(title, &plain));
        let one = CostVsUnitsChart {
            points: vec![UnitsPoint {
                units: 100.0,
                cost: 5_000.0,
                cost_ci: Some((4_900.0, 5_100.0)),
                reserved_cost: 4_200.0,
                p99_ms: Some(1_500.0),
                p99_ci: None,
                meets_sla: Some(true),
            }],
            cheapest: Some(0),
            ..sample()
        };
        super::super::save(dir.join("cost_vs_units_one.png"), png(title, &one));
        super::super::save(
            dir.join("cost_vs_units_empty.png"),
            png(
                title,
                &CostVsUnitsChart {
                    points: vec![],
                    ..sample()
                },
            ),
        );
    }
}
