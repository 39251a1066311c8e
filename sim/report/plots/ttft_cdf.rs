//! Distribution of time to first token: one cumulative curve per series on a
//! log-scale time axis, with the SLA target as a dashed vertical line.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ceil_125, chart_err, decimals_for, floor_125, house_style, put_text, record_axes, Canvas,
    LegendEntry, Swatch, Ticked, FONT, LINE_WIDTH, MARGIN, MARGIN_RIGHT, MARGIN_TOP, PALETTE,
    TICK_SIZE, WIDTH, X_LABEL_AREA, Y_LABEL_AREA,
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

/// The file this chart is written to in a results folder.
pub const FILE: &str = "ttft_cdf.png";

/// Draws the TTFT distribution of each series as PNG bytes. Series with
/// no usable points are left out; with none left, the axes are drawn with a
/// "no requests served" note.
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

    let (lo, hi) = x_range(
        curves.iter().flat_map(|c| c.points.iter().map(|p| p.0)),
        sla_ms,
    );
    let (bold, light) = log_ticks(lo, hi);
    let mut chart = ChartBuilder::on(&canvas.plot)
        .margin(MARGIN)
        .margin_top(MARGIN_TOP)
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
        )
        .map_err(&err)?;
    house_style(&mut chart.configure_mesh())
        .x_desc("TTFT (ms)")
        .y_desc("cumulative fraction of requests")
        .x_label_formatter(&|v| ms_tick(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()
        .map_err(&err)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, 0);

    if let Some(sla) = sla_ms {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(sla, 0.0), (sla, Y_TOP)],
                12,
                8,
                SLA_COLOR.stroke_width(2),
            ))
            .map_err(&err)?;
        // The label goes above the plotting area, where no curve can be.
        let (x, top) = chart.backend_coord(&(sla, Y_TOP));
        let label = format!("SLA {} ms", grouped(sla, decimals_for(sla).min(2)));
        let style = (FONT, TICK_SIZE)
            .into_font()
            .color(&SLA_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        put_text(&canvas.root, &label, &style, (x, top - 6)).map_err(&err)?;
    }

    for c in &curves {
        chart
            .draw_series(LineSeries::new(
                c.points.iter().copied(),
                c.color.stroke_width(LINE_WIDTH),
            ))
            .map_err(&err)?;
    }

    if curves.is_empty() {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no requests served")?;
    }
    drop(chart);
    canvas.finish(path)
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

/// Log-axis ticks over the plotting width.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let plot_px = f64::from(WIDTH - MARGIN - MARGIN_RIGHT - Y_LABEL_AREA);
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
        let (bold, light) = log_ticks(lo, hi);
        assert_eq!(
            bold,
            vec![20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0]
        );
        assert!(light.contains(&30.0) && light.contains(&4000.0));
        let (bold, _) = log_ticks(0.1, 1e6);
        assert!(bold
            .iter()
            .all(|v| (v.log10() - v.log10().round()).abs() < 1e-9));
        assert_eq!(ms_tick(1000.0), "1,000");
        assert_eq!(ms_tick(0.5), "0.5");
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
