//! Cost attribution: one horizontal 100%-stacked bar per platform and tag
//! dimension, split into what the platform's own billing attributes, what a
//! tag-stamping gateway adds, and what nobody can attribute.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    chart_err, font, house_style, label_style, Canvas, LegendEntry, Swatch, Ticked, AREA_OPACITY,
    MARGIN, MARGIN_RIGHT, MARGIN_TOP, NOTE_COLOR, PALETTE, TICK_SIZE, X_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::percent;

/// Bar colours: native green, gateway orange, unattributable grey.
const NATIVE: RGBColor = PALETTE[2];
const GATEWAY: RGBColor = PALETTE[1];
const UNATTRIBUTED: RGBColor = RGBColor(150, 150, 150);
/// Share of the bar height a bar fills (the rest is the gap between bars).
const BAR_FILL: f64 = 0.7;
/// Segments narrower than this share get no percentage label.
const MIN_LABELLED: f64 = 0.07;
/// Widest room for the bar labels left of the axis, pixels.
const MAX_LABEL_AREA: u32 = 520;

/// One bar: a platform and a dimension, shares of its cost (they add up to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// E.g. "azure-openai · team ($1,234)".
    pub label: String,
    pub native: f64,
    pub gateway: f64,
    pub unattributed: f64,
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "attribution.png";

/// Draws the bars (first at the top) as PNG bytes; with no bars, an
/// empty chart that says `empty_note`.
pub fn png(title: &str, bars: &[Bar], empty_note: &str) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| {
        draw(pixels, Path::new(FILE), title, bars, empty_note)
    })
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    bars: &[Bar],
    empty_note: &str,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let legend = [
        ("native (the platform's own billing)", NATIVE),
        ("added by a gateway that stamps tags", GATEWAY),
        ("unattributable", UNATTRIBUTED),
    ]
    .map(|(label, color)| LegendEntry {
        label: label.to_string(),
        color,
        swatch: Swatch::Area,
    });
    let canvas = Canvas::new(pixels, path, title, &legend)?;

    let style = font(TICK_SIZE);
    let mut label_width = 0;
    for b in bars {
        label_width = label_width.max(
            canvas
                .root
                .estimate_text_size(&b.label, &style)
                .map_err(&err)?
                .0,
        );
    }
    let label_area = (label_width + 24).clamp(88, MAX_LABEL_AREA);

    let n = bars.len().max(1) as f64;
    let ticks: Vec<f64> = (0..=4).map(|i| i as f64 * 0.25).collect();
    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(label_area)
        .build_cartesian_2d(
            Ticked::<RangedCoordf64>::new((0.0..1.0).into(), ticks, Vec::new()),
            Ticked::<RangedCoordf64>::new((0.0..n).into(), Vec::new(), Vec::new()),
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .disable_y_mesh()
        .x_desc("share of the platform's simulated cost")
        .x_label_formatter(&|v| percent(*v, 0))
        .draw()
        .map_err(&err)?;
    // The y side holds the bars' labels, placed below as labels.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    super::record_axes((&xs, &ys), X_LABEL_AREA, 0, 0);

    let pad = (1.0 - BAR_FILL) / 2.0;
    for (i, b) in bars.iter().enumerate() {
        // The first bar at the top.
        let y0 = n - 1.0 - i as f64 + pad;
        let y1 = y0 + BAR_FILL;
        let mut x = 0.0;
        for (share, color) in [
            (b.native, NATIVE),
            (b.gateway, GATEWAY),
            (b.unattributed, UNATTRIBUTED),
        ] {
            let share = if share.is_finite() {
                share.max(0.0)
            } else {
                0.0
            };
            let x1 = (x + share).min(1.0);
            if x1 > x {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x, y0), (x1, y1)],
                        color.mix(AREA_OPACITY).filled(),
                    )))
                    .map_err(&err)?;
                if share >= MIN_LABELLED {
                    let at = chart.backend_coord(&((x + x1) / 2.0, (y0 + y1) / 2.0));
                    let text =
                        label_style(TICK_SIZE, RGBColor(20, 20, 20), HPos::Center, VPos::Center);
                    super::put_text(&canvas.root, &percent(share, 0), &text, at).map_err(&err)?;
                }
            }
            x = x1;
        }
        if x == 0.0 {
            let at = chart.backend_coord(&(0.0, (y0 + y1) / 2.0));
            let text = label_style(TICK_SIZE, NOTE_COLOR, HPos::Left, VPos::Center);
            super::put_text(
                &canvas.root,
                "no cost in this run",
                &text,
                (at.0 + 10, at.1),
            )
            .map_err(&err)?;
        }
        // The bar's label, right-aligned against the axis.
        let (left, _) = chart.backend_coord(&(0.0, 0.0));
        let (_, mid) = chart.backend_coord(&(0.0, (y0 + y1) / 2.0));
        let text = label_style(TICK_SIZE, RGBColor(30, 30, 30), HPos::Right, VPos::Center);
        super::put_text(&canvas.root, &b.label, &text, (left - 10, mid)).map_err(&err)?;
    }

    if bars.is_empty() {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, empty_note)?;
    }
    drop(chart);
    canvas.finish(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars() -> Vec<Bar> {
        vec![
            Bar {
                label: "bedrock · product ($1,234)".into(),
                native: 1.0,
                gateway: 0.0,
                unattributed: 0.0,
            },
            Bar {
                label: "azure-openai · team ($12,345)".into(),
                native: 0.0,
                gateway: 0.88,
                unattributed: 0.12,
            },
            Bar {
                label: "custom · feature ($0)".into(),
                native: 0.0,
                gateway: 0.0,
                unattributed: 0.0,
            },
        ]
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Attribution", &bars(), "none"));
    }

    #[test]
    fn no_bars_still_draw_with_a_note() {
        super::super::assert_deterministic(|| png("Attribution", &[], "no class has tags"));
    }
}
