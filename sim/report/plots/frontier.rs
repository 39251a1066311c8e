//! The cost–latency frontier: every priced configuration as a point (cost per month against
//! p99 TTFT on a log axis), coloured by availability; the Pareto-optimal ones filled, joined
//! cheapest first and labelled; the SLA as a dashed horizontal line.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    ceil_125, chart_err, draw_marker, floor_125, house_style, place_label, redraw_swatches, Canvas,
    LegendEntry, Marker, Shape, SpanAxis, Swatch, SwatchArt, Ticked, HEIGHT, MARGIN, MARGIN_RIGHT,
    MARGIN_TOP, MARKER_RADIUS, PALETTE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::ms_tick;

/// One priced configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    /// Dollars per month.
    pub cost: f64,
    /// p99 TTFT, ms (points without one are not drawn).
    pub p99_ms: f64,
    /// Served / arrived, 0 to 1.
    pub availability: f64,
    pub pareto: bool,
    /// Printed next to frontier points.
    pub label: String,
}

/// The chart's data: the points and the SLA's p99 target, if the SLA is one.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierChart {
    pub points: Vec<FrontierPoint>,
    pub sla_ms: Option<f64>,
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "frontier.png";
/// Availability bands and their colours (Okabe-Ito: green, orange, vermillion), best first.
const BANDS: [(f64, &str, RGBColor); 3] = [
    (0.999, "availability >= 99.9%", PALETTE[2]),
    (0.99, "availability 99%-99.9%", PALETTE[1]),
    (0.0, "availability < 99%", PALETTE[5]),
];
const FRONTIER_LINE: RGBColor = RGBColor(60, 60, 60);
const SLA_COLOR: RGBColor = RGBColor(90, 90, 90);
/// Frontier points labelled, cheapest first: more would crowd the chart (frontier.md lists all).
pub const MAX_LABELS: usize = 10;
/// Below this many pixels between 1 and 2 on the log axis, only powers of ten get labels.
const MIN_LABEL_GAP_PX: f64 = 40.0;

fn band(availability: f64) -> usize {
    BANDS
        .iter()
        .position(|(lo, _, _)| availability >= *lo)
        .unwrap_or(BANDS.len() - 1)
}

/// Draws the chart as PNG bytes; with no point to draw, the axes and a note.
pub fn png(title: &str, data: &FrontierChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    data: &FrontierChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let points: Vec<&FrontierPoint> = data
        .points
        .iter()
        .filter(|p| p.cost.is_finite() && p.p99_ms.is_finite() && p.p99_ms > 0.0)
        .collect();
    let sla = data.sla_ms.filter(|s| s.is_finite() && *s > 0.0);

    let (legend, art) = legend(&points, sla);
    let canvas = Canvas::new(pixels, path, title, &legend)?;
    redraw_swatches(&canvas.root, &legend, &art).map_err(&err)?;

    let (mut cmin, mut cmax) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut pmin, mut pmax) = (f64::INFINITY, 0.0f64);
    for p in &points {
        cmin = cmin.min(p.cost);
        cmax = cmax.max(p.cost);
        pmin = pmin.min(p.p99_ms);
        pmax = pmax.max(p.p99_ms);
    }
    if points.is_empty() {
        (cmin, cmax, pmin, pmax) = (0.0, 1.0, 100.0, 10_000.0);
    }
    if let Some(s) = sla {
        pmin = pmin.min(s);
        pmax = pmax.max(s);
    }
    // Room at both ends for markers and labels.
    let pad = (cmax - cmin).max(cmax.abs() * 0.05).max(1.0) * 0.08;
    let x = SpanAxis::new((cmin - pad).max(0.0), cmax + pad, 8);
    let lo = floor_125(pmin / 1.2);
    let mut hi = ceil_125(pmax * 1.3);
    if hi <= lo {
        hi = ceil_125(lo * 1.01);
    }
    let plot_px =
        f64::from(HEIGHT - MARGIN_TOP - X_LABEL_AREA - 56 - 30 * legend.len().div_ceil(3) as u32);
    let (bold, light) = super::log_ticks(lo, hi, plot_px.max(200.0), MIN_LABEL_GAP_PX);
    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
        .margin_right(MARGIN_RIGHT + 40)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            x.coord(),
            Ticked::new(LogCoord::from((lo..hi).log_scale()), bold, light),
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc("cost, $ per month")
        .y_desc("p99 TTFT (ms)")
        .x_label_formatter(&|v| format!("${}", x.label(*v)))
        .y_label_formatter(&|v| ms_tick(*v))
        .draw()
        .map_err(&err)?;

    let (xs, ys) = chart.plotting_area().get_pixel_range();
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);
    let mut lines: Vec<Vec<(i32, i32)>> = Vec::new();
    if let Some(s) = sla {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x.lo, s), (x.hi, s)],
                12,
                8,
                SLA_COLOR.stroke_width(2),
            ))
            .map_err(&err)?;
        let y = chart.backend_coord(&(x.lo, s)).1;
        lines.push(vec![(xs.start, y), (xs.end, y)]);
    }
    let mut frontier: Vec<&&FrontierPoint> = points.iter().filter(|p| p.pareto).collect();
    frontier.sort_by(|a, b| {
        a.cost
            .total_cmp(&b.cost)
            .then(a.p99_ms.total_cmp(&b.p99_ms))
    });
    let path_px: Vec<(i32, i32)> = frontier
        .iter()
        .map(|p| chart.backend_coord(&(p.cost, p.p99_ms)))
        .collect();
    canvas
        .root
        .draw(&PathElement::new(
            path_px.clone(),
            FRONTIER_LINE.stroke_width(2),
        ))
        .map_err(&err)?;
    lines.push(path_px);
    // Labels keep clear of every marker too.
    lines.extend(
        points
            .iter()
            .map(|p| vec![chart.backend_coord(&(p.cost, p.p99_ms))]),
    );
    // Others first, so the frontier's markers sit on top.
    for p in points.iter().filter(|p| !p.pareto) {
        let m = Marker {
            shape: Shape::Circle,
            color: BANDS[band(p.availability)].2,
            filled: false,
        };
        draw_marker(&canvas.root, chart.backend_coord(&(p.cost, p.p99_ms)), m).map_err(&err)?;
    }
    for p in &frontier {
        let m = Marker {
            shape: Shape::Diamond,
            color: BANDS[band(p.availability)].2,
            filled: true,
        };
        draw_marker(&canvas.root, chart.backend_coord(&(p.cost, p.p99_ms)), m).map_err(&err)?;
    }
    let sla_px = sla.map(|s| (chart.backend_coord(&(x.lo, s)).1, s));
    let texts: Vec<((i32, i32), String)> = shared_labels(&frontier)
        .into_iter()
        .map(|(p, text)| (chart.backend_coord(&(p.cost, p.p99_ms)), text))
        .collect();
    let labelled: Vec<((i32, i32), &str)> = texts.iter().map(|(at, t)| (*at, t.as_str())).collect();
    draw_labels(&canvas.root, (&xs, &ys), sla_px, &labelled, &lines).map_err(&err)?;
    if points.is_empty() {
        canvas.note_centered(path, (xs, ys), "no configuration served a request")?;
    }
    drop(chart);
    canvas.finish(path)
}

/// The legend: frontier and other markers, the availability bands present, the SLA line.
fn legend(
    points: &[&FrontierPoint],
    sla: Option<f64>,
) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let mut legend = vec![
        LegendEntry {
            label: "frontier (Pareto-optimal)".into(),
            color: FRONTIER_LINE,
            swatch: Swatch::Line,
        },
        LegendEntry {
            label: "other configurations".into(),
            color: FRONTIER_LINE,
            swatch: Swatch::Line,
        },
    ];
    let mut art = vec![
        Some(SwatchArt::LineMarker(Marker {
            shape: Shape::Diamond,
            color: FRONTIER_LINE,
            filled: true,
        })),
        Some(SwatchArt::Marker(Marker {
            shape: Shape::Circle,
            color: FRONTIER_LINE,
            filled: false,
        })),
    ];
    for (k, (_, label, color)) in BANDS.iter().enumerate() {
        if points.iter().any(|p| band(p.availability) == k) {
            legend.push(LegendEntry {
                label: label.to_string(),
                color: *color,
                swatch: Swatch::Line,
            });
            art.push(Some(SwatchArt::Marker(Marker {
                shape: Shape::Circle,
                color: *color,
                filled: true,
            })));
        }
    }
    if let Some(s) = sla {
        legend.push(LegendEntry {
            label: format!("SLA p99 <= {} ms", ms_tick(s)),
            color: SLA_COLOR,
            swatch: Swatch::Line,
        });
        art.push(Some(SwatchArt::Dashed(SLA_COLOR)));
    }
    (legend, art)
}

/// The labels of the first [`MAX_LABELS`] frontier points (cheapest first), rows at the very
/// same point (a configuration priced on two terms at one price) sharing one: "sonnet 100k/16k
/// TPM 1-month (+1 tied)".
fn shared_labels<'a>(frontier: &[&&'a FrontierPoint]) -> Vec<(&'a FrontierPoint, String)> {
    let mut first: Vec<(&FrontierPoint, usize)> = Vec::new();
    for &&p in frontier {
        match first
            .iter_mut()
            .find(|(q, _)| q.cost == p.cost && q.p99_ms == p.p99_ms)
        {
            Some((_, ties)) => *ties += 1,
            None => first.push((p, 0)),
        }
    }
    first
        .into_iter()
        .take(MAX_LABELS)
        .map(|(p, ties)| match ties {
            0 => (p, p.label.clone()),
            n => (p, format!("{} (+{n} tied)", p.label)),
        })
        .collect()
}

/// The SLA line's label, then each frontier point's, each at the first spot clear of the
/// lines, the markers and the labels already placed.
fn draw_labels(
    root: &super::Area<'_>,
    (xs, ys): (&std::ops::Range<i32>, &std::ops::Range<i32>),
    sla: Option<(i32, f64)>,
    labelled: &[((i32, i32), &str)],
    lines: &[Vec<(i32, i32)>],
) -> Result<(), super::DrawError> {
    let mut taken = Vec::new();
    if let Some((y, s)) = sla {
        let text = format!("SLA {} ms", ms_tick(s));
        let spots = [
            (HPos::Right, VPos::Bottom, (xs.end - 8, y - 4)),
            (HPos::Right, VPos::Top, (xs.end - 8, y + 4)),
            (HPos::Left, VPos::Bottom, (xs.start + 8, y - 4)),
            (HPos::Left, VPos::Top, (xs.start + 8, y + 4)),
        ];
        place_label(root, &text, SLA_COLOR, &spots, (xs, ys), &mut taken, lines)?;
    }
    for &((x0, y0), label) in labelled {
        let g = MARKER_RADIUS + 6;
        let spots = [
            (HPos::Left, VPos::Bottom, (x0 + g, y0 - g / 2)),
            (HPos::Left, VPos::Top, (x0 + g, y0 + g / 2)),
            (HPos::Right, VPos::Bottom, (x0 - g, y0 - g / 2)),
            (HPos::Right, VPos::Top, (x0 - g, y0 + g / 2)),
            (HPos::Center, VPos::Bottom, (x0, y0 - g)),
            (HPos::Center, VPos::Top, (x0, y0 + g)),
            (HPos::Left, VPos::Bottom, (x0 + g, y0 - 3 * g)),
            (HPos::Left, VPos::Top, (x0 + g, y0 + 3 * g)),
            (HPos::Right, VPos::Bottom, (x0 - g, y0 - 3 * g)),
            (HPos::Right, VPos::Top, (x0 - g, y0 + 3 * g)),
        ];
        place_label(
            root,
            label,
            FRONTIER_LINE,
            &spots,
            (xs, ys),
            &mut taken,
            lines,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> FrontierChart {
        let mut points = Vec::new();
        for (i, units) in [15.0, 30.0, 45.0, 60.0, 75.0].iter().enumerate() {
            for (t, price) in [("hourly", 1.0), ("monthly", 0.3562), ("yearly", 0.3027)] {
                let cost = 2_000.0 + units * price * 730.0;
                points.push(FrontierPoint {
                    cost,
                    p99_ms: 4_000.0 / (1.0 + i as f64),
                    availability: 0.995 + 0.001 * i as f64,
                    pareto: t == "yearly",
                    label: format!("ptu {units} > paygo, {t}"),
                });
            }
        }
        points.push(FrontierPoint {
            cost: 9_000.0,
            p99_ms: 2_600.0,
            availability: 0.97,
            pareto: false,
            label: "paygo".into(),
        });
        FrontierChart {
            points,
            sla_ms: Some(2_000.0),
        }
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Cost-latency frontier", &sample()));
    }

    #[test]
    fn empty_and_single_points_still_draw() {
        let empty = FrontierChart {
            points: Vec::new(),
            sla_ms: None,
        };
        assert!(png("nothing", &empty).is_ok());
        let one = FrontierChart {
            points: vec![FrontierPoint {
                cost: 100.0,
                p99_ms: 900.0,
                availability: 1.0,
                pareto: true,
                label: "only".into(),
            }],
            sla_ms: Some(800.0),
        };
        assert!(png("one", &one).is_ok());
    }

    #[test]
    fn availability_bands() {
        assert_eq!(band(1.0), 0);
        assert_eq!(band(0.999), 0);
        assert_eq!(band(0.995), 1);
        assert_eq!(band(0.5), 2);
    }

    /// Renders an example to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        super::super::save(
            dir.join("frontier.png"),
            png("Cost-latency frontier", &sample()),
        );
    }
}
