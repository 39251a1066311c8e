//! Arrivals per simulated hour (per simulated day past
//! [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS)), stacked by request class.

use std::path::Path;

use plotters::prelude::*;

use super::{
    area_legend, chart_err, draw_stacks, hours_of, house_style, stacked_axis, Canvas, Combine,
    HourAxis, Series, Step, MARGIN, MARGIN_RIGHT, MARGIN_TOP, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;

const MAX_Y_TICKS: usize = 8;

/// The file this chart is written to in a results folder.
pub const FILE: &str = "traffic.png";

/// Draws arrivals per hour as PNG bytes: one series per request class,
/// one value per simulated hour, drawn as stacked areas (the first class at
/// the bottom). Past [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS) hours it
/// shows arrivals per simulated day (the sum of the day's hours).
pub fn png(title: &str, classes: &[Series]) -> Result<Vec<u8>, OutputError> {
    png_at(title, Step::Hour, classes)
}

/// [`png`] of series with one value per `step` (per minute: a short run).
pub fn png_at(title: &str, step: Step, classes: &[Series]) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| {
        draw(pixels, Path::new(FILE), title, step, classes)
    })
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    step: Step,
    classes: &[Series],
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let hours = hours_of(classes);
    let x = HourAxis::of(step, hours);
    let classes = x.bucket.apply(classes, Combine::Sum);
    let canvas = Canvas::new(pixels, path, title, &area_legend(&classes))?;

    let y = stacked_axis(&classes, x.bucket.count(hours), MAX_Y_TICKS);

    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
        .margin_right(MARGIN_RIGHT)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(x.coord(), y.coord())
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc(x.desc())
        .y_desc(format!("arrivals per {} (requests)", x.bucket.noun()))
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| y.label(*v))
        .draw()
        .map_err(&err)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);

    draw_stacks(&mut chart, &classes, &x, y.top).map_err(&err)?;

    if hours == 0 {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no arrivals")?;
    }
    drop(chart);
    canvas.finish(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes over `hours`: interactive chat with a daytime peak and a
    /// weekend dip, and a nightly batch job.
    fn classes(hours: usize) -> Vec<Series> {
        let chat = (0..hours)
            .map(|h| {
                let hour = (h % 24) as f64;
                let weekend = matches!((h / 24) % 7, 5 | 6);
                let day = (-((hour - 14.0) / 4.5).powi(2)).exp();
                let scale = if weekend { 0.45 } else { 1.0 };
                (2_000.0 + 16_000.0 * day * scale + ((h * 7919) % 17) as f64 * 40.0).round()
            })
            .collect();
        let batch = (0..hours)
            .map(|h| if (h % 24) < 5 { 9_000.0 } else { 300.0 })
            .collect();
        vec![
            Series {
                label: "chat".into(),
                values: chat,
            },
            Series {
                label: "nightly batch".into(),
                values: batch,
            },
        ]
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Arrivals", &classes(168)));
    }

    #[test]
    fn draws_a_long_horizon_per_day_deterministically() {
        // A year and 10 hours: 365 days and a partial one.
        super::super::assert_deterministic(|| png("Arrivals per day", &classes(8770)));
    }

    #[test]
    fn empty_inputs_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        super::super::save(&path, png("Arrivals", &[]));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        let hollow = [Series {
            label: "nothing".into(),
            values: vec![],
        }];
        super::super::save(&path, png("Arrivals", &hollow));
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        for hours in [24, 168, 720, 1000, 2160, 8760] {
            let path = dir.join(format!("traffic_{hours}h.png"));
            super::super::save(&path, png(&format!("Arrivals, {hours} h"), &classes(hours)));
        }
        super::super::save(dir.join("traffic_empty.png"), png("Arrivals per hour", &[]));
    }
}
