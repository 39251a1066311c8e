//! `plan.png` of a token-rate reservation plan. Above, the monthly bill (commitment +
//! overflow) of every size the plan simulated against its reserved size, one colour and shape
//! per term, hollow where the size misses the SLA, a line through the cheapest bill at each size,
//! no reservation as a dashed line and the recommended size ringed. Below, the deployment's
//! traffic with no reservation, hour by hour (input and output TPM side by side, or the list
//! value per minute of a spend reservation), split at the recommended reserved rate into what
//! fits under it and what lies above it.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    chart_err, draw_marker, draw_stacks_in, finish_panel, house_style, place_label,
    redraw_swatches, Area, Canvas, Combine, DrawError, HourAxis, LegendEntry, LinearAxis, Marker,
    Series, Shape, SpanAxis, Swatch, SwatchArt, MARGIN, MARGIN_RIGHT, MARKER_RADIUS, PALETTE,
    X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;

/// The file this chart is written to in a results folder.
pub const FILE: &str = "plan.png";

/// Term colours and shapes, in the order of the terms: apart from the traffic areas below.
const TERM_COLORS: [RGBColor; 4] = [PALETTE[0], PALETTE[5], PALETTE[2], PALETTE[3]];
const TERM_SHAPES: [Shape; 4] = [
    Shape::Circle,
    Shape::Square,
    Shape::Diamond,
    Shape::Triangle,
];
/// The traffic under the reserved rate, and above it.
const UNDER: RGBColor = PALETTE[4];
const OVER: RGBColor = PALETTE[1];
/// No reservation, the reserved rate and the ring of the recommendation: black, so they read
/// over every colour.
const REFERENCE: RGBColor = PALETTE[7];
/// Room above each panel for its heading.
const HEADING_ROOM: u32 = 34;
/// The bill panel's share of the height.
const BILL_SHARE: f64 = 0.5;
const Y_TICKS: usize = 5;

/// One simulated size priced on one term.
#[derive(Debug, Clone, PartialEq)]
pub struct SizePoint {
    /// The size on the chart's x axis: reserved input TPM, or reserved USD per minute.
    pub size: f64,
    /// The scenario's bill per month (730 h) with this size on this term.
    pub monthly_usd: f64,
    pub meets_sla: bool,
}

/// The sizes priced on one term (or on terms that bill them all the same).
#[derive(Debug, Clone, PartialEq)]
pub struct TermSizes {
    /// The legend's label: "1-month term".
    pub term: String,
    pub points: Vec<SizePoint>,
}

/// The size ringed on the bill panel, and drawn as the reserved rate below.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// Index into `terms`.
    pub term: usize,
    pub size: f64,
    pub monthly_usd: f64,
    /// Printed next to the ring.
    pub label: String,
    /// Recommended (else the best size tried, which no reservation beats).
    pub recommended: bool,
}

/// One hour-by-hour panel: the traffic a side of the reservation counts, and the reserved rate.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePanel {
    /// The panel's heading.
    pub heading: String,
    /// Per simulated hour (mean over replications), per minute.
    pub hourly: Vec<f64>,
    /// The marked size's rate on this side.
    pub reserved: Option<f64>,
    /// "$" for money, "" for tokens.
    pub prefix: &'static str,
}

/// What the chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePlanChart {
    pub title: String,
    /// The bill panel's x axis description, and what its labels start with ("$" for a spend
    /// rate, "" for TPM).
    pub size_desc: String,
    pub size_prefix: &'static str,
    pub terms: Vec<TermSizes>,
    /// The bill per month with no reservation, and whether it meets the SLA.
    pub none_monthly_usd: f64,
    pub none_meets_sla: bool,
    pub marked: Option<Marked>,
    /// Input then output TPM (tokens), or the list value per minute (spend).
    pub panels: Vec<RatePanel>,
}

/// Draws the chart as PNG bytes. With no size simulated or no hour, the panel carries a note.
pub fn png(data: &RatePlanChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), data))
}

fn draw(pixels: &mut [u8], path: &Path, data: &RatePlanChart) -> Result<(), OutputError> {
    let err = chart_err(path);
    let (legend, art) = legend(data);
    let canvas = Canvas::new(pixels, path, &data.title, &legend)?;
    redraw_swatches(&canvas.root, &legend, &art).map_err(&err)?;
    let (w, h) = canvas.plot.dim_in_pixel();
    let (top, bottom) = canvas
        .plot
        .split_vertically((f64::from(h) * BILL_SHARE) as u32);
    bill_panel(&canvas, &top, path, data)?;
    match data.panels.as_slice() {
        [one] => rate_panel(&canvas, &bottom, path, one)?,
        [left, right, ..] => {
            let (l, r) = bottom.split_horizontally(w / 2);
            rate_panel(&canvas, &l, path, left)?;
            rate_panel(&canvas, &r, path, right)?;
        }
        [] => {}
    }
    canvas.finish(path)
}

/// The finite points of every term.
fn finite(data: &RatePlanChart) -> impl Iterator<Item = &SizePoint> {
    data.terms
        .iter()
        .flat_map(|t| &t.points)
        .filter(|p| p.size.is_finite() && p.monthly_usd.is_finite())
}

fn bill_panel(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    path: &Path,
    data: &RatePlanChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let (mut xlo, mut xhi, mut ylo, mut yhi) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in finite(data) {
        (xlo, xhi) = (xlo.min(p.size), xhi.max(p.size));
        (ylo, yhi) = (ylo.min(p.monthly_usd), yhi.max(p.monthly_usd));
    }
    let none = data.none_monthly_usd;
    if none.is_finite() {
        (ylo, yhi) = (ylo.min(none), yhi.max(none));
    }
    let empty = xlo > xhi;
    if empty {
        (xlo, xhi) = (0.0, 1.0);
    }
    // Room at both ends for the markers.
    let pad = |lo: f64, hi: f64| (hi - lo).max(hi.abs() * 0.02).max(1e-9) * 0.06;
    let x = SpanAxis::new((xlo - pad(xlo, xhi)).max(0.0), xhi + pad(xlo, xhi), 10);
    let y = SpanAxis::new((ylo - pad(ylo, yhi)).max(0.0), yhi + pad(ylo, yhi), Y_TICKS);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(MARGIN / 2)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.coord(), y.coord())
        .map_err(&err)?;
    let prefix = data.size_prefix;
    house_style(&mut chart.configure_mesh())
        .x_desc(data.size_desc.as_str())
        .x_label_formatter(&|v| format!("{prefix}{}", x.label(*v)))
        .y_label_formatter(&|v| format!("${}", y.label(*v)))
        .draw()
        .map_err(&err)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let mut lines: Vec<Vec<(i32, i32)>> = Vec::new();
    if none.is_finite() {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x.lo, none), (x.hi, none)],
                12,
                8,
                REFERENCE.stroke_width(2),
            ))
            .map_err(&err)?;
        let py = chart.backend_coord(&(x.lo, none)).1;
        lines.push(vec![(xs.start, py), (xs.end, py)]);
    }
    let px = |p: &SizePoint| chart.backend_coord(&(p.size, p.monthly_usd));
    for (k, t) in data.terms.iter().enumerate() {
        let color = TERM_COLORS[k % TERM_COLORS.len()];
        let line: Vec<(i32, i32)> = cheapest(&t.points).iter().map(px).collect();
        canvas
            .root
            .draw(&PathElement::new(line.clone(), color.stroke_width(2)))
            .map_err(&err)?;
        lines.push(line);
    }
    for (k, t) in data.terms.iter().enumerate() {
        for p in t.points.iter().filter(|p| p.size.is_finite()) {
            let m = Marker {
                shape: TERM_SHAPES[k % TERM_SHAPES.len()],
                color: TERM_COLORS[k % TERM_COLORS.len()],
                filled: p.meets_sla,
            };
            draw_marker(&canvas.root, px(p), m).map_err(&err)?;
        }
    }
    if let Some(m) = &data.marked {
        let at = chart.backend_coord(&(m.size, m.monthly_usd));
        ring(&canvas.root, at).map_err(&err)?;
        mark_label(&canvas.root, (&xs, &ys), at, &m.label, &lines).map_err(&err)?;
    }
    let heading =
        "monthly bill (commitment + overflow, $ per 730 h) of every size simulated, by term";
    finish_panel(&canvas.root, &chart, heading, X_LABEL_AREA).map_err(&err)?;
    if empty {
        canvas.note_centered(path, (xs, ys), "no reservation size simulated")?;
    }
    Ok(())
}

/// The cheapest bill at each size (a token size has several output sizes per input size).
fn cheapest(points: &[SizePoint]) -> Vec<SizePoint> {
    let mut v: Vec<SizePoint> = points
        .iter()
        .filter(|p| p.size.is_finite() && p.monthly_usd.is_finite())
        .cloned()
        .collect();
    v.sort_by(|a, b| {
        a.size
            .total_cmp(&b.size)
            .then(a.monthly_usd.total_cmp(&b.monthly_usd))
    });
    v.dedup_by(|b, a| a.size == b.size);
    v
}

/// A black ring around the marked point (recorded as a marker, so no label covers it).
fn ring(root: &Area<'_>, at: (i32, i32)) -> Result<(), DrawError> {
    let r = MARKER_RADIUS + 6;
    root.draw(&Circle::new(at, r, REFERENCE.stroke_width(2)))?;
    let (bx, by) = root.get_base_pixel();
    let (x, y) = (at.0 + bx, at.1 + by);
    let b = (x - r - 1, y - r - 1, x + r + 2, y + r + 2);
    super::layout::marker(&format!("ring at ({x}, {y})"), b);
    super::labels::DRAWN_MARKERS.with(|d| d.borrow_mut().push(b));
    Ok(())
}

/// The marked point's label, at the first spot around it clear of the lines and markers.
fn mark_label(
    root: &Area<'_>,
    bounds: (&std::ops::Range<i32>, &std::ops::Range<i32>),
    (x0, y0): (i32, i32),
    text: &str,
    lines: &[Vec<(i32, i32)>],
) -> Result<(), DrawError> {
    let g = MARKER_RADIUS + 10;
    let mut spots = Vec::new();
    for k in [1, 3, 5, 8] {
        let d = g * k;
        spots.extend([
            (HPos::Left, VPos::Bottom, (x0 + g, y0 - d)),
            (HPos::Right, VPos::Bottom, (x0 - g, y0 - d)),
            (HPos::Left, VPos::Top, (x0 + g, y0 + d)),
            (HPos::Right, VPos::Top, (x0 - g, y0 + d)),
        ]);
    }
    place_label(
        root,
        text,
        REFERENCE,
        &spots,
        bounds,
        &mut Vec::new(),
        lines,
    )?;
    Ok(())
}

fn rate_panel(
    canvas: &Canvas<'_>,
    area: &Area<'_>,
    path: &Path,
    p: &RatePanel,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let hours = p.hourly.len();
    let axis = HourAxis::new(hours);
    let reserved = p.reserved.filter(|r| r.is_finite() && *r >= 0.0);
    // Each hour split at the reserved rate: what fits under it, what lies above.
    let split = |f: fn(f64, f64) -> f64| -> Vec<f64> {
        let cut = reserved.unwrap_or(f64::INFINITY);
        p.hourly
            .iter()
            .map(|v| {
                if v.is_finite() {
                    f(v.max(0.0), cut)
                } else {
                    0.0
                }
            })
            .collect()
    };
    let series = [
        Series {
            label: "under".into(),
            values: split(f64::min),
        },
        Series {
            label: "over".into(),
            values: split(|v, cut| (v - cut).max(0.0)),
        },
    ];
    let series = axis.bucket.apply(&series, Combine::Mean);
    let most = series[0]
        .values
        .iter()
        .zip(&series[1].values)
        .map(|(a, b)| a + b)
        .fold(reserved.unwrap_or(0.0), f64::max);
    let y = LinearAxis::up_to(most, Y_TICKS);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(axis.coord(), y.coord())
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc(axis.desc())
        .x_label_formatter(&|v| axis.label(*v))
        .y_label_formatter(&|v| format!("{}{}", p.prefix, y.label(*v)))
        .draw()
        .map_err(&err)?;
    draw_stacks_in(&mut chart, &series, &[UNDER, OVER], &axis, y.top).map_err(&err)?;
    // The outline of the part under the rate over the other's: an hour with nothing above the
    // rate shows no sliver of the overflow colour.
    chart
        .draw_series(std::iter::once(PathElement::new(
            axis.steps(&series[0].values),
            UNDER.stroke_width(1),
        )))
        .map_err(&err)?;
    if let Some(r) = reserved {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, r), (axis.hours as f64, r)],
                12,
                8,
                REFERENCE.stroke_width(3),
            ))
            .map_err(&err)?;
    }
    finish_panel(&canvas.root, &chart, &p.heading, X_LABEL_AREA).map_err(&err)?;
    if hours == 0 {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no hour simulated")?;
    }
    Ok(())
}

/// The legend: each term's marker, hollow = misses the SLA (when one does), no reservation,
/// the ring, the two traffic areas and the reserved rate.
fn legend(data: &RatePlanChart) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let mut legend = Vec::new();
    let mut art = Vec::new();
    for (k, t) in data.terms.iter().enumerate() {
        let color = TERM_COLORS[k % TERM_COLORS.len()];
        legend.push(LegendEntry {
            label: t.term.clone(),
            color,
            swatch: Swatch::Line,
        });
        art.push(Some(SwatchArt::LineMarker(Marker {
            shape: TERM_SHAPES[k % TERM_SHAPES.len()],
            color,
            filled: true,
        })));
    }
    if data
        .terms
        .iter()
        .flat_map(|t| &t.points)
        .any(|p| !p.meets_sla)
    {
        legend.push(LegendEntry {
            label: "hollow: misses the SLA".into(),
            color: REFERENCE,
            swatch: Swatch::Line,
        });
        art.push(Some(SwatchArt::Marker(Marker {
            shape: Shape::Circle,
            color: REFERENCE,
            filled: false,
        })));
    }
    legend.push(LegendEntry {
        label: format!(
            "no reservation: {} per month ({})",
            crate::format::usd_whole(data.none_monthly_usd),
            if data.none_meets_sla {
                "meets the SLA"
            } else {
                "misses the SLA"
            }
        ),
        color: REFERENCE,
        swatch: Swatch::Line,
    });
    art.push(Some(SwatchArt::Dashed(REFERENCE)));
    let what = match &data.marked {
        Some(m) if m.recommended => "recommended size",
        Some(_) => "best size tried (not recommended)",
        None => "",
    };
    if !data.panels.is_empty() {
        legend.push(LegendEntry {
            label: format!(
                "{} up to the reserved rate",
                match data
                    .panels
                    .first()
                    .map(|p| HourAxis::new(p.hourly.len()).bucket)
                {
                    Some(super::Bucket::Day) => "daily mean traffic",
                    _ => "hourly traffic",
                }
            ),
            color: UNDER,
            swatch: Swatch::Area,
        });
        art.push(None);
        legend.push(LegendEntry {
            label: "above the reserved rate (overflows)".into(),
            color: OVER,
            swatch: Swatch::Area,
        });
        art.push(None);
    }
    if !what.is_empty() {
        legend.push(LegendEntry {
            label: format!("{what}: ringed above, its rate below"),
            color: REFERENCE,
            swatch: Swatch::Line,
        });
        art.push(Some(SwatchArt::Dashed(REFERENCE)));
    }
    (legend, art)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> RatePlanChart {
        let hourly: Vec<f64> = (0..168)
            .map(|h| {
                90_000.0
                    + 60_000.0
                        * ((h % 24) as f64 / 24.0 * std::f64::consts::TAU)
                            .sin()
                            .max(-0.8)
            })
            .collect();
        let terms = ["1-month term", "6-month term"]
            .iter()
            .enumerate()
            .map(|(k, t)| TermSizes {
                term: t.to_string(),
                points: (0..12)
                    .map(|i| {
                        let size = 100_000.0 + 10_000.0 * i as f64;
                        SizePoint {
                            size,
                            monthly_usd: 40_000.0 + (size - 150_000.0).powi(2) / 2e6
                                - 3_000.0 * k as f64,
                            meets_sla: i > 1,
                        }
                    })
                    .collect(),
            })
            .collect();
        RatePlanChart {
            title: "reserved_rate: token-rate reservation of `sonnet`".into(),
            size_desc: "reserved input TPM (output TPM: plan.csv)".into(),
            size_prefix: "",
            terms,
            none_monthly_usd: 45_000.0,
            none_meets_sla: false,
            marked: Some(Marked {
                term: 1,
                size: 150_000.0,
                monthly_usd: 37_000.0,
                label: "recommended: 150,000 in / 30,000 out TPM, 6-month".into(),
                recommended: true,
            }),
            panels: vec![
                RatePanel {
                    heading: "input TPM".into(),
                    hourly: hourly.clone(),
                    reserved: Some(150_000.0),
                    prefix: "",
                },
                RatePanel {
                    heading: "output TPM".into(),
                    hourly: hourly.iter().map(|v| v / 5.0).collect(),
                    reserved: Some(30_000.0),
                    prefix: "",
                },
            ],
        }
    }

    #[test]
    fn draws_the_same_bytes_twice_and_with_nothing() {
        super::super::assert_deterministic(|| png(&sample()));
        let empty = RatePlanChart {
            terms: Vec::new(),
            marked: None,
            panels: vec![RatePanel {
                heading: "list value per minute".into(),
                hourly: Vec::new(),
                reserved: None,
                prefix: "$",
            }],
            ..sample()
        };
        assert!(png(&empty).is_ok());
    }

    #[test]
    fn the_line_joins_the_cheapest_bill_at_each_size() {
        let p = |size, monthly_usd| SizePoint {
            size,
            monthly_usd,
            meets_sla: true,
        };
        let got = cheapest(&[p(2.0, 5.0), p(1.0, 4.0), p(2.0, 3.0), p(f64::NAN, 1.0)]);
        assert_eq!(got, vec![p(1.0, 4.0), p(2.0, 3.0)]);
    }

    /// Renders an example to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        super::super::save(dir.join("rate_plan.png"), png(&sample()));
    }
}
