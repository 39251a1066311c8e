//! Break-even of reserved capacity: cost per 1M served tokens against the
//! utilization the reserved units achieve, for tokens bought on demand, for
//! the reserved units alone and for reserved plus spillover; with the
//! simulated break-even (and its confidence interval), the closed-form one and
//! a shaded reference band.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    boxed_text, chart_err, clip_polyline, draw_marker, house_style, label_style, labels_above,
    redraw_swatches, text_box, Canvas, LegendEntry, LinearAxis, Marker, Shape, Swatch, SwatchArt,
    Ticked, LINE_WIDTH, MARGIN, MARGIN_RIGHT, MARGIN_TOP, MARKER_RADIUS, PALETTE, TICK_SIZE,
    X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::{grouped, percent, usd_3_digits};

/// Costs at one achieved reserved utilization (one run of a sweep).
#[derive(Debug, Clone, PartialEq)]
pub struct BreakevenPoint {
    /// Achieved utilization of the reserved units, 0..=1.
    pub utilization: f64,
    /// USD per 1M tokens if all served tokens were bought on demand.
    pub on_demand_per_1m: f64,
    /// Reserved cost / tokens the reserved units served, in USD per 1M
    /// tokens; `None` when they served none.
    pub reserved_per_1m: Option<f64>,
    /// (Reserved + spillover + other) cost / all served tokens, in USD per
    /// 1M tokens.
    pub total_per_1m: f64,
}

/// Everything the break-even chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakevenChart {
    /// The points of the sweep, in any order (drawn sorted by utilization).
    pub points: Vec<BreakevenPoint>,
    /// Break-even utilization from the simulated costs: (estimate, CI low,
    /// CI high), each 0..=1. Drawn as a vertical line with the interval as a
    /// narrow shaded strip.
    pub simulated: Option<(f64, f64, f64)>,
    /// Break-even utilization from the closed form, 0..=1: a dashed vertical
    /// line.
    pub closed_form: Option<f64>,
    /// A shaded reference band of utilization (0..=1), e.g. (0.40, 0.60),
    /// labelled "reference band 40–60%" (`[report] reference_band`).
    pub band: (f64, f64),
    /// The commitment term of the reserved price, e.g. "monthly"; shown in
    /// the legend.
    pub term: String,
}

const MAX_Y_TICKS: usize = 8;
/// The y axis stops a little above this multiple of the highest on-demand
/// price: the reserved cost per token grows without bound as its utilization
/// falls to 0.
const CLIP_FACTOR: f64 = 3.0;
const ON_DEMAND: RGBColor = PALETTE[1];
const RESERVED: RGBColor = PALETTE[0];
const TOTAL: RGBColor = PALETTE[2];
/// The reference band: light enough to sit behind everything.
const BAND: RGBAColor = RGBAColor(240, 228, 66, 0.28);
const SIMULATED: RGBColor = RGBColor(40, 40, 40);
const CI_STRIP: RGBAColor = RGBAColor(40, 40, 40, 0.16);
const CLOSED_FORM: RGBColor = RGBColor(90, 90, 90);

/// One curve: its colour, marker and points in (percent, USD per 1M).
struct Curve {
    label: String,
    marker: Marker,
    points: Vec<(f64, f64)>,
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "breakeven.png";

/// Draws the break-even chart as PNG bytes. Non-finite values are left
/// out; with no points left, the axes are drawn with a note.
pub fn png(title: &str, data: &BreakevenChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    data: &BreakevenChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let curves = curves(data);
    let band = clean_range(data.band);
    let (legend, art) = legend(&curves, band);
    let canvas = Canvas::new(pixels, path, title, &legend)?;
    redraw_swatches(&canvas.root, &legend, &art).map_err(&err)?;

    let (y, y_desc) = y_axis(&curves);
    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(
                RangedCoordf64::from(0.0..100.0),
                (0..=10).map(|i| f64::from(i) * 10.0).collect(),
                Vec::new(),
            ),
            y.coord(),
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc("reserved utilization (%)")
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| y.label(*v))
        .draw()
        .map_err(&err)?;

    let top = y.top;
    let simulated = data.simulated.and_then(|(e, lo, hi)| {
        let e = finite_fraction(e)?;
        let (lo, hi) = (finite_fraction(lo)?, finite_fraction(hi)?);
        Some((e, lo.min(hi).min(e), hi.max(lo).max(e)))
    });
    let closed_form = data.closed_form.and_then(finite_fraction);
    draw_breakeven_lines(&mut chart, band, simulated, closed_form, top).map_err(&err)?;
    draw_curves(&canvas, &mut chart, &curves, top).map_err(&err)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let closed_value = data.closed_form.filter(|v| v.is_finite());
    draw_breakeven_labels(
        &canvas,
        &chart,
        simulated,
        closed_form.zip(closed_value),
        top,
    )
    .map_err(&err)?;

    if curves.iter().all(|c| c.points.is_empty()) {
        canvas.note_centered(path, (xs, ys), "no break-even data")?;
    }
    drop(chart);
    canvas.finish(path)
}

/// The legend: the curves with their markers, then the reference band; the art redrawn
/// over each swatch.
fn legend(curves: &[Curve], band: (f64, f64)) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let mut legend: Vec<LegendEntry> = curves
        .iter()
        .map(|c| LegendEntry {
            label: c.label.clone(),
            color: c.marker.color,
            swatch: Swatch::Line,
        })
        .collect();
    let mut art: Vec<Option<SwatchArt>> = curves
        .iter()
        .map(|c| Some(SwatchArt::LineMarker(c.marker)))
        .collect();
    legend.push(LegendEntry {
        label: format!(
            "reference band {}–{}%",
            grouped(band.0 * 100.0, 0),
            grouped(band.1 * 100.0, 0)
        ),
        color: PALETTE[6],
        swatch: Swatch::Area,
    });
    art.push(Some(SwatchArt::Fill(BAND)));
    (legend, art)
}

/// The y axis: up to the highest value, cut at [`CLIP_FACTOR`] times the highest on-demand
/// price; with its description (which says so when points lie above it).
fn y_axis(curves: &[Curve]) -> (LinearAxis, &'static str) {
    let finite_max = |f: &dyn Fn(&Curve) -> bool| {
        curves
            .iter()
            .filter(|c| f(c))
            .flat_map(|c| c.points.iter().map(|p| p.1))
            .fold(0.0f64, f64::max)
    };
    let data_max = finite_max(&|_| true);
    let on_demand_max = finite_max(&|c| c.marker.color == ON_DEMAND);
    let cut = if on_demand_max > 0.0 {
        on_demand_max * CLIP_FACTOR
    } else {
        f64::INFINITY
    };
    let y = LinearAxis::up_to(data_max.min(cut), MAX_Y_TICKS);
    let clipped = curves.iter().any(|c| c.points.iter().any(|p| p.1 > y.top));
    let y_desc = if clipped {
        "$ per 1M served tokens (▲ at the top: above the axis)"
    } else {
        "$ per 1M served tokens"
    };
    (y, y_desc)
}

/// Behind the curves, over the whole height (up to `top`): the reference band, the simulated
/// break-even with its interval strip, and the closed form dashed.
fn draw_breakeven_lines(
    chart: &mut Chart<'_, '_>,
    band: (f64, f64),
    simulated: Option<(f64, f64, f64)>,
    closed_form: Option<f64>,
    top: f64,
) -> Result<(), super::DrawError> {
    let bottom = 0.0;
    let strip = |lo: f64, hi: f64, style: ShapeStyle| {
        Rectangle::new([(lo * 100.0, bottom), (hi * 100.0, top)], style)
    };
    if band.1 > band.0 {
        chart.draw_series(std::iter::once(strip(band.0, band.1, BAND.filled())))?;
    }
    if let Some((e, lo, hi)) = simulated {
        chart.draw_series([
            strip(lo, hi, CI_STRIP.filled()),
            strip(e, e, SIMULATED.stroke_width(2)),
        ])?;
    }
    if let Some(c) = closed_form {
        chart.draw_series(DashedLineSeries::new(
            vec![(c * 100.0, bottom), (c * 100.0, top)],
            10,
            7,
            CLOSED_FORM.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// The curves, cut at the top of the axis (`top`), with their markers; points above it are
/// marked at the top edge with their value printed above the frame.
fn draw_curves(
    canvas: &Canvas<'_>,
    chart: &mut Chart<'_, '_>,
    curves: &[Curve],
    top: f64,
) -> Result<(), super::DrawError> {
    let (x_range, y_range) = ((0.0, 100.0), (0.0, top));
    for c in curves {
        for piece in clip_polyline(&c.points, x_range, y_range) {
            chart.draw_series(std::iter::once(PathElement::new(
                piece,
                c.marker.color.stroke_width(LINE_WIDTH),
            )))?;
        }
    }
    let mut above: Vec<(f64, f64, RGBColor)> = Vec::new();
    for c in curves {
        for &(x, v) in &c.points {
            if v <= top {
                draw_marker(&canvas.root, chart.backend_coord(&(x, v)), c.marker)?;
            } else {
                above.push((x, v, c.marker.color));
            }
        }
    }
    // Where curves share an x above the axis, the highest value's triangle
    // ends up on top and its value is the one printed.
    above.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    for &(x, _, color) in &above {
        let (px, py) = chart.backend_coord(&(x, top));
        let m = Marker {
            shape: Shape::Triangle,
            color,
            filled: false,
        };
        draw_marker(&canvas.root, (px, py + MARKER_RADIUS + 2), m)?;
    }
    let values: Vec<(i32, String, RGBColor)> = above
        .iter()
        .rev()
        .map(|&(x, v, color)| (chart.backend_coord(&(x, top)).0, usd_3_digits(v), color))
        .collect();
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);
    labels_above(&canvas.root, ys.start, &values)
}

type Chart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<Ticked<RangedCoordf64>, Ticked<RangedCoordf64>>,
>;

/// The three curves, points sorted by utilization, in percent.
fn curves(data: &BreakevenChart) -> Vec<Curve> {
    let mut points: Vec<&BreakevenPoint> = data
        .points
        .iter()
        .filter(|p| p.utilization.is_finite())
        .collect();
    points.sort_by(|a, b| a.utilization.total_cmp(&b.utilization));
    let series = |f: &dyn Fn(&BreakevenPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|p| {
                let v = f(p).filter(|v| v.is_finite())?;
                Some((p.utilization.clamp(0.0, 1.0) * 100.0, v.max(0.0)))
            })
            .collect()
    };
    let term = data.term.trim();
    let reserved_label = if term.is_empty() {
        "reserved units only".to_string()
    } else {
        format!("reserved units only ({term} term)")
    };
    vec![
        Curve {
            label: "all tokens on demand".into(),
            marker: Marker {
                shape: Shape::Circle,
                color: ON_DEMAND,
                filled: true,
            },
            points: series(&|p| Some(p.on_demand_per_1m)),
        },
        Curve {
            label: reserved_label,
            marker: Marker {
                shape: Shape::Square,
                color: RESERVED,
                filled: true,
            },
            points: series(&|p| p.reserved_per_1m),
        },
        Curve {
            label: "reserved + spillover (all cost / all tokens)".into(),
            marker: Marker {
                shape: Shape::Diamond,
                color: TOTAL,
                filled: true,
            },
            points: series(&|p| Some(p.total_per_1m)),
        },
    ]
}

fn finite_fraction(v: f64) -> Option<f64> {
    v.is_finite().then(|| v.clamp(0.0, 1.0))
}

/// The band as an ordered pair in 0..=1 (empty when not finite).
fn clean_range((a, b): (f64, f64)) -> (f64, f64) {
    match (finite_fraction(a), finite_fraction(b)) {
        (Some(a), Some(b)) => (a.min(b), a.max(b)),
        _ => (0.0, 0.0),
    }
}

/// Labels the break-even lines near the top of the plot, the simulated one on
/// the first row and the closed form on the second, each on the side facing
/// away from the other line when it fits there, clear of both lines and of
/// the interval strip.
fn draw_breakeven_labels(
    canvas: &Canvas<'_>,
    chart: &Chart<'_, '_>,
    simulated: Option<(f64, f64, f64)>,
    // (where the line is drawn, 0..=1; the value, which may exceed 1)
    closed_form: Option<(f64, f64)>,
    top: f64,
) -> Result<(), super::DrawError> {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let px = |v: f64| chart.backend_coord(&(v * 100.0, top)).0;
    // What each label names: its text, colour, preferred side and the pixel
    // span of the line (or strip) it labels.
    let mut labels: Vec<(String, RGBColor, bool, (i32, i32))> = Vec::new();
    if let Some((e, lo, hi)) = simulated {
        let text = format!(
            "simulated {} ({}–{})",
            percent(e, 1),
            grouped(lo * 100.0, 1),
            grouped(hi * 100.0, 1)
        );
        let left = closed_form.is_none_or(|(c, _)| c >= e);
        labels.push((text, SIMULATED, left, (px(lo) - 1, px(hi) + 1)));
    }
    if let Some((c, value)) = closed_form {
        let left = simulated.is_some_and(|(e, _, _)| e > c);
        // Past 100% the line sits at the right edge; the label gives the value.
        let text = if value > 1.0 {
            format!("closed form {} – never breaks even", percent(value, 1))
        } else {
            format!("closed form {}", percent(c, 1))
        };
        labels.push((text, CLOSED_FORM, left, (px(c) - 1, px(c) + 1)));
    }
    // A label clears every span near its own, so it never sits on a line.
    let spans: Vec<(i32, i32)> = labels.iter().map(|l| l.3).collect();
    let gap = 8;
    for (row, (text, color, left, (a, b))) in labels.iter().enumerate() {
        let near = spans
            .iter()
            .filter(|(c, d)| *c <= b + 4 * gap && *d >= a - 4 * gap);
        let clear_left = near.clone().map(|s| s.0).fold(*a, i32::min) - gap;
        let clear_right = near.map(|s| s.1).fold(*b, i32::max) + gap;
        let y = ys.start + 18 + row as i32 * 28;
        let place = |left: bool| {
            if left {
                let style = label_style(TICK_SIZE, *color, HPos::Right, VPos::Center);
                (style, (clear_left, y))
            } else {
                let style = label_style(TICK_SIZE, *color, HPos::Left, VPos::Center);
                (style, (clear_right, y))
            }
        };
        let fits = |left: bool| -> Result<bool, super::DrawError> {
            let (style, at) = place(left);
            let (l, _, r, _) = text_box(&canvas.root, text, &style, at, 3)?;
            Ok(l >= xs.start && r <= xs.end)
        };
        let side = if fits(*left)? { *left } else { !*left };
        let (style, at) = place(side);
        boxed_text(&canvas.root, text, &style, at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A monthly-term sweep for a gpt-4o-like deployment: on demand at about
    /// $3.90 per 1M tokens, reserved units that break even near 85 %.
    pub(crate) fn sample() -> BreakevenChart {
        let on_demand = 3.9;
        let breakeven = 0.849;
        let points = (1..=19)
            .map(|i| {
                let u = f64::from(i) * 0.05;
                let reserved = on_demand * breakeven / u;
                // Spillover: the share of tokens the reserved units could not
                // take, bought on demand.
                let reserved_share = (0.35 + 0.6 * u).min(1.0);
                BreakevenPoint {
                    utilization: u,
                    on_demand_per_1m: on_demand + 0.01 * f64::from(i % 3),
                    reserved_per_1m: Some(reserved),
                    total_per_1m: reserved * reserved_share + on_demand * (1.0 - reserved_share),
                }
            })
            .rev()
            .collect();
        BreakevenChart {
            points,
            simulated: Some((0.846, 0.839, 0.853)),
            closed_form: Some(0.849),
            band: (0.40, 0.60),
            term: "monthly".into(),
        }
    }

    #[test]
    fn draws_a_deterministic_png() {
        let data = sample();
        super::super::assert_deterministic(|| png("Break-even", &data));
    }

    #[test]
    fn point_order_does_not_matter() {
        let data = sample();
        let mut sorted = data.clone();
        sorted
            .points
            .sort_by(|a, b| a.utilization.total_cmp(&b.utilization));
        crate::report::plots::assert_same_png(|| png("t", &data), || png("t", &sorted));
    }

    #[test]
    fn edge_cases_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.png");
        let check = |data: &BreakevenChart| {
            super::super::save(&path, png("Break-even", data));
            assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        };
        // Nothing at all.
        check(&BreakevenChart {
            points: vec![],
            simulated: None,
            closed_form: None,
            band: (0.4, 0.6),
            term: String::new(),
        });
        // Lines but no points.
        check(&BreakevenChart {
            points: vec![],
            ..sample()
        });
        // A single point, reserved units that served nothing.
        let one = BreakevenPoint {
            utilization: 0.0,
            on_demand_per_1m: 3.9,
            reserved_per_1m: None,
            total_per_1m: 12.0,
        };
        check(&BreakevenChart {
            points: vec![one.clone()],
            ..sample()
        });
        // All values equal (and all zero), a reversed band, no crossover:
        // reserved always dearer, break-even beyond 100 %.
        let flat = BreakevenPoint {
            utilization: 0.5,
            on_demand_per_1m: 0.0,
            reserved_per_1m: Some(0.0),
            total_per_1m: 0.0,
        };
        check(&BreakevenChart {
            points: vec![flat.clone(), flat.clone(), flat],
            simulated: Some((1.4, 1.2, 1.6)),
            closed_form: Some(-0.1),
            band: (0.6, 0.4),
            term: "yearly".into(),
        });
        let mut dear = sample();
        for p in &mut dear.points {
            p.reserved_per_1m = p.reserved_per_1m.map(|r| r * 3.0);
        }
        dear.simulated = None;
        dear.closed_form = Some(1.0);
        check(&dear);
        // Non-finite values are left out.
        let mut odd = sample();
        odd.points[0].total_per_1m = f64::NAN;
        odd.points[1].utilization = f64::INFINITY;
        odd.simulated = Some((f64::NAN, 0.1, 0.2));
        check(&odd);
    }

    #[test]
    fn curves_are_cut_at_the_frame() {
        use super::super::clip_polyline;
        let line = [(0.0, 20.0), (1.0, 5.0), (2.0, 4.0), (3.0, 30.0), (4.0, 2.0)];
        let pieces = clip_polyline(&line, (0.0, 4.0), (0.0, 10.0));
        assert_eq!(pieces.len(), 2);
        let close =
            |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9;
        let first = &pieces[0];
        assert_eq!(first.len(), 4);
        assert!(close(first[0], (2.0 / 3.0, 10.0)));
        assert_eq!(&first[1..3], &[(1.0, 5.0), (2.0, 4.0)]);
        assert!(close(first[3], (2.0 + 6.0 / 26.0, 10.0)));
        assert!(close(pieces[1][0], (3.0 + 20.0 / 28.0, 10.0)));
        assert_eq!(pieces[1][1], (4.0, 2.0));
        // All inside: one piece, unchanged; one point; nothing inside.
        let inside = [(0.0, 1.0), (1.0, 2.0)];
        assert_eq!(
            clip_polyline(&inside, (0.0, 4.0), (0.0, 10.0)),
            vec![inside.to_vec()]
        );
        assert_eq!(
            clip_polyline(&[(1.0, 1.0)], (0.0, 4.0), (0.0, 10.0)).len(),
            1
        );
        assert!(clip_polyline(&[(1.0, 11.0), (2.0, 12.0)], (0.0, 4.0), (0.0, 10.0)).is_empty());
        assert!(clip_polyline(&[], (0.0, 4.0), (0.0, 10.0)).is_empty());
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        let title = "gpt-4o: cost per 1M served tokens against reserved utilization";
        super::super::save(dir.join("breakeven.png"), png(title, &sample()));
        let mut dear = sample();
        for p in &mut dear.points {
            p.reserved_per_1m = p.reserved_per_1m.map(|r| r * 1.3);
        }
        dear.simulated = None;
        dear.closed_form = Some(1.0);
        dear.term = "hourly".into();
        super::super::save(dir.join("breakeven_no_crossover.png"), png(title, &dear));
        let mut cheap = sample();
        for p in &mut cheap.points {
            p.reserved_per_1m = p.reserved_per_1m.map(|r| r * 0.4);
        }
        cheap.simulated = Some((0.345, 0.33, 0.36));
        cheap.closed_form = Some(0.339);
        cheap.term = "yearly".into();
        super::super::save(dir.join("breakeven_yearly.png"), png(title, &cheap));
        let one = BreakevenChart {
            points: vec![BreakevenPoint {
                utilization: 0.6,
                on_demand_per_1m: 3.9,
                reserved_per_1m: Some(5.5),
                total_per_1m: 4.8,
            }],
            ..sample()
        };
        super::super::save(dir.join("breakeven_one.png"), png(title, &one));
        super::super::save(
            dir.join("breakeven_empty.png"),
            png(
                title,
                &BreakevenChart {
                    points: vec![],
                    simulated: None,
                    closed_form: None,
                    band: (0.4, 0.6),
                    term: String::new(),
                },
            ),
        );
    }
}
