//! Commitment ladder: panels over the months of the plan. Above, what the
//! cheapest ladder holds, stacked by term, against what each month requires
//! (a dashed step line): one panel for reserved units, one per side of a
//! token-rate reservation (input TPM, output TPM; or USD per minute); below,
//! each way's bill per month.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{
    chart_err, finish_panel, house_style, redraw_swatches, Canvas, LegendEntry, LinearAxis, Swatch,
    SwatchArt, Ticked, AREA_OPACITY, MARGIN, MARGIN_RIGHT, PALETTE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::usd_whole;

/// What the ladder chart shows; every vector has one value per month.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LadderChart {
    pub title: String,
    /// One panel per quantity bought (units; or each side of a token-rate reservation).
    pub panels: Vec<HeldPanel>,
    /// The requirement line's legend label ("units required", "required").
    pub required_label: String,
    /// Per way of buying (the cheapest ladder first): its name and $ per month.
    pub bills: Vec<(String, Vec<f64>)>,
}

/// One quantity the ladder holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeldPanel {
    /// The panel's heading.
    pub heading: String,
    /// Per term (bottom of the stack first): its legend label and the amount held each month.
    /// A label names one colour in every panel.
    pub held: Vec<(String, Vec<f64>)>,
    /// What each month requires.
    pub required: Vec<f64>,
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "ladder.png";

/// Term areas: the palette without the colours the bill lines use.
const TERM_COLORS: [RGBColor; 5] = [PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[4], PALETTE[6]];
/// Bill lines: the ladder in vermillion, then purple, black and grey, apart
/// from the term areas above them.
const BILL_COLORS: [RGBColor; 4] = [PALETTE[5], PALETTE[3], PALETTE[7], RGBColor(130, 130, 130)];
/// The requirement line: black, dashed, so it reads over every area.
const REQUIRED: RGBColor = PALETTE[7];
/// Room above each panel for its heading.
const HEADING_ROOM: u32 = 34;
const PANEL_GAP: u32 = 10;
/// The held panels together get this share of the height.
const UNITS_SHARE: f64 = 0.58;
/// With more than one held panel, they get this share instead (the bill panel keeps the rest).
const SIDES_SHARE: f64 = 0.62;
const Y_TICKS: usize = 5;

/// Draws the chart as PNG bytes. With no months, the axes carry a note.
pub fn png(data: &LadderChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), data))
}

fn draw(pixels: &mut [u8], path: &Path, data: &LadderChart) -> Result<(), OutputError> {
    let err = chart_err(path);
    let months = data.panels.first().map_or(0, |p| p.required.len());
    let (legend, art) = legend(data);
    let canvas = Canvas::new(pixels, path, &data.title, &legend)?;
    redraw_swatches(&canvas.root, &legend, &art).map_err(&err)?;

    let (_, plot_h) = canvas.plot.dim_in_pixel();
    let share = if data.panels.len() > 1 {
        SIDES_SHARE
    } else {
        UNITS_SHARE
    };
    let top_h = (f64::from(plot_h) * share) as u32;
    let (top, bottom) = canvas.plot.split_vertically(top_h);
    let x_max = months.max(1) as f64;
    let x_ticks = month_ticks(months);
    let labels = term_labels(data);
    let rows = top.split_evenly((data.panels.len().max(1), 1));
    for (panel, area) in data.panels.iter().zip(&rows) {
        held_panel(&canvas, area, panel, &labels, &x_ticks, x_max)?;
    }

    // The bill: one step line per way of buying.
    let most = data
        .bills
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y = LinearAxis::up_to(most, Y_TICKS);
    let mut chart = ChartBuilder::on(&bottom)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(RangedCoordf64::from(0.0..x_max), x_ticks, Vec::new()),
            y.coord(),
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc("months from start_date")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("${}", y.label(*v)))
        .draw()
        .map_err(&err)?;
    // The cheapest ladder last, so it is on top.
    for (i, (_, usd)) in data.bills.iter().enumerate().rev() {
        let v: Vec<f64> = usd
            .iter()
            .map(|x| if x.is_finite() { *x } else { 0.0 })
            .collect();
        let width = if i == 0 { 4 } else { 2 };
        chart
            .draw_series(std::iter::once(PathElement::new(
                steps(&v),
                BILL_COLORS[i % BILL_COLORS.len()].stroke_width(width),
            )))
            .map_err(&err)?;
    }
    let total = data
        .bills
        .first()
        .map(|(_, v)| v.iter().sum::<f64>())
        .unwrap_or(0.0);
    finish_panel(
        &canvas.root,
        &chart,
        &format!(
            "bill per month, committed + on-demand ($; cheapest ladder {} in the window)",
            usd_whole(total)
        ),
        X_LABEL_AREA,
    )
    .map_err(&err)?;
    drop(chart);
    canvas.finish(path)
}

/// Every term label in the order first met, so a term keeps its colour in every panel.
fn term_labels(data: &LadderChart) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, _) in data.panels.iter().flat_map(|p| &p.held) {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// One held panel: stacked steps by term, the requirement dashed over them.
fn held_panel(
    canvas: &Canvas<'_>,
    area: &super::Area<'_>,
    data: &HeldPanel,
    labels: &[String],
    x_ticks: &[f64],
    x_max: f64,
) -> Result<(), OutputError> {
    let path = Path::new(FILE);
    let err = chart_err(path);
    let months = data.required.len();
    let totals: Vec<f64> = (0..months)
        .map(|m| {
            data.held
                .iter()
                .map(|(_, v)| v.get(m).copied().unwrap_or(0.0))
                .sum::<f64>()
        })
        .collect();
    let most = totals
        .iter()
        .chain(&data.required)
        .copied()
        .fold(0.0, f64::max);
    let y = LinearAxis::up_to(most, Y_TICKS);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(PANEL_GAP)
        .x_label_area_size(0)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            Ticked::new(
                RangedCoordf64::from(0.0..x_max),
                x_ticks.to_vec(),
                Vec::new(),
            ),
            y.coord(),
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|v| y.label(*v))
        .draw()
        .map_err(&err)?;
    let mut base = vec![0.0; months];
    for (name, held) in &data.held {
        let upper: Vec<f64> = (0..months)
            .map(|m| base[m] + held.get(m).copied().unwrap_or(0.0))
            .collect();
        if upper != base {
            let mut outline = steps(&upper);
            outline.extend(steps(&base).into_iter().rev());
            let i = labels.iter().position(|l| l == name).unwrap_or(0);
            let color = TERM_COLORS[i % TERM_COLORS.len()];
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    color.mix(AREA_OPACITY).filled(),
                )))
                .map_err(&err)?;
        }
        base = upper;
    }
    chart
        .draw_series(DashedLineSeries::new(
            steps(&data.required),
            10,
            6,
            REQUIRED.stroke_width(3),
        ))
        .map_err(&err)?;
    finish_panel(&canvas.root, &chart, &data.heading, 0).map_err(&err)?;
    if months == 0 {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no months")?;
    }
    Ok(())
}

/// The legend: term areas, the requirement line, then each way's bill.
fn legend(data: &LadderChart) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let mut legend: Vec<LegendEntry> = term_labels(data)
        .into_iter()
        .enumerate()
        .map(|(i, label)| LegendEntry {
            label,
            color: TERM_COLORS[i % TERM_COLORS.len()],
            swatch: Swatch::Area,
        })
        .collect();
    let mut art: Vec<Option<SwatchArt>> = vec![None; legend.len()];
    legend.push(LegendEntry {
        label: data.required_label.clone(),
        color: REQUIRED,
        swatch: Swatch::Line,
    });
    art.push(Some(SwatchArt::Dashed(REQUIRED)));
    for (i, (name, _)) in data.bills.iter().enumerate() {
        legend.push(LegendEntry {
            label: format!("bill: {name}"),
            color: BILL_COLORS[i % BILL_COLORS.len()],
            swatch: Swatch::Line,
        });
        art.push(None);
    }
    (legend, art)
}

/// Month m spans [m, m + 1): a step outline through every month's value.
fn steps(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .flat_map(|(m, &v)| [(m as f64, v), (m as f64 + 1.0, v)])
        .collect()
}

/// Month boundaries to label: every month up to 12, every 3 up to 24, else every 6.
fn month_ticks(months: usize) -> Vec<f64> {
    let every = match months {
        0..=12 => 1,
        13..=24 => 3,
        _ => 6,
    };
    (0..=months.max(1))
        .step_by(every)
        .map(|m| m as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_same_bytes_twice_and_with_no_months() {
        let data = LadderChart {
            title: "ladder".into(),
            panels: vec![HeldPanel {
                heading: "units held by term against units required".into(),
                held: vec![
                    ("yearly units".into(), vec![15.0; 12]),
                    (
                        "monthly units".into(),
                        [
                            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0,
                        ]
                        .to_vec(),
                    ),
                ],
                required: [
                    15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 25.0, 25.0, 25.0, 25.0, 25.0, 25.0,
                ]
                .to_vec(),
            }],
            required_label: "units required".into(),
            bills: vec![
                ("cheapest ladder".into(), vec![3_285.0; 12]),
                ("all on-demand".into(), vec![10_000.0; 12]),
            ],
        };
        super::super::assert_deterministic(|| png(&data));
        assert!(png(&LadderChart::default()).is_ok());
    }
}
