//! Cost per simulated hour (per simulated day past
//! [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS)), stacked by deployment and
//! pool, with the utilization of reserved capacity as lines on a second
//! (right) axis. Alternative set-ups of the same traffic are never stacked
//! into one bill: each gets its own panel, side by side on one cost scale.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, VPos};

use super::{
    chart_err, draw_stacks_in, font, hours_of, house_style, Bucket, Canvas, Combine, HourAxis,
    LegendEntry, Series, Step, Swatch, Ticked, AXIS_COLOR, AXIS_DESC_SIZE, MARGIN, MARGIN_RIGHT,
    MARGIN_TOP, PALETTE, TICK_SIZE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;

const MAX_Y_TICKS: usize = 8;
/// The utilization axis goes a little past 100 % so a saturated pool's line
/// does not vanish into the frame.
const UTIL_TOP: f64 = 105.0;
/// Extra width of the white outline under each utilization line.
const HALO_WIDTH: u32 = 2;
/// Room above each of several panels for its caption.
const PANEL_MARGIN_TOP: u32 = 48;

/// The file this chart is written to in a results folder.
pub const FILE: &str = "hourly_cost.png";

/// One set-up's bill: the deployments paid together, and the utilization of
/// its reserved ones.
#[derive(Debug, Clone, PartialEq)]
pub struct CostPanel {
    /// What the set-up is, e.g. "class reserved: ptu"; empty for a single
    /// panel.
    pub label: String,
    /// Cost per hour, one series per (deployment, pool), stacked.
    pub stacks: Vec<Series>,
    /// Reserved utilization per hour (0..=1), one series per reserved
    /// deployment, on the panel's right axis.
    pub utilization: Vec<Series>,
}

/// Draws hourly cost as PNG bytes.
///
/// `stacks`: cost in USD per simulated hour, one series per (deployment,
/// pool), one value per hour; drawn as stacked areas, the first at the
/// bottom. `utilization`: reserved utilization per hour as a fraction
/// (0..=1), one series per reserved deployment, drawn as lines against the
/// right axis in percent; may be empty, and then there is no right axis.
///
/// Past [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS) hours the chart shows
/// one value per simulated day ([`Bucket::for_horizon`]): the day's cost
/// (sum of its hours) and its mean utilization, and says so on the axes.
pub fn png(title: &str, stacks: &[Series], utilization: &[Series]) -> Result<Vec<u8>, OutputError> {
    let one = CostPanel {
        label: String::new(),
        stacks: stacks.to_vec(),
        utilization: utilization.to_vec(),
    };
    alternatives_png(title, Step::Hour, std::slice::from_ref(&one))
}

/// Draws the bills of alternative set-ups side by side, one panel each on
/// one cost scale, so they compare without being added up. Each value of the
/// panels' series covers one `step` (per minute: a short run).
pub fn alternatives_png(
    title: &str,
    step: Step,
    panels: &[CostPanel],
) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| {
        draw(pixels, Path::new(FILE), title, step, panels)
    })
}

/// A panel's series, one value per bucket, with the colour of each.
struct Prepared<'a> {
    label: &'a str,
    stacks: Vec<Series>,
    stack_colors: Vec<RGBColor>,
    utilization: Vec<Series>,
    util_colors: Vec<RGBColor>,
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    step: Step,
    panels: &[CostPanel],
) -> Result<(), OutputError> {
    let hours = panels
        .iter()
        .map(|p| hours_of(&p.stacks).max(hours_of(&p.utilization)))
        .max()
        .unwrap_or(0);
    let x = HourAxis::of(step, hours);

    // One legend entry per series name, its colour the same in every panel.
    let mut legend: Vec<LegendEntry> = Vec::new();
    let mut util_names: Vec<String> = Vec::new();
    let mut color_of = |label: &str, util: bool| -> RGBColor {
        let name = if util {
            format!("{label} (right axis)")
        } else {
            label.to_string()
        };
        if let Some(e) = legend.iter().find(|e| e.label == name) {
            return e.color;
        }
        let color = if util {
            util_names.push(name.clone());
            util_color(util_names.len() - 1)
        } else {
            PALETTE[(legend.len() - util_names.len()) % PALETTE.len()]
        };
        legend.push(LegendEntry {
            label: name,
            color,
            swatch: if util { Swatch::Line } else { Swatch::Area },
        });
        color
    };
    let prepared: Vec<Prepared> = panels
        .iter()
        .map(|p| {
            let stacks = x.bucket.apply(&p.stacks, Combine::Sum).into_owned();
            let utilization = x.bucket.apply(&p.utilization, Combine::Mean).into_owned();
            let stack_colors = stacks.iter().map(|s| color_of(&s.label, false)).collect();
            let util_colors = utilization
                .iter()
                .map(|s| color_of(&s.label, true))
                .collect();
            Prepared {
                label: &p.label,
                stacks,
                stack_colors,
                utilization,
                util_colors,
            }
        })
        .collect();
    let canvas = Canvas::new(pixels, path, title, &legend)?;

    // One cost scale for every panel, so the bills compare.
    let buckets = x.bucket.count(hours);
    let max = prepared
        .iter()
        .filter_map(|p| super::stack_tops(&p.stacks, buckets).last().cloned())
        .flatten()
        .fold(0.0, f64::max);
    let y = super::LinearAxis::up_to(max, MAX_Y_TICKS);

    let n = prepared.len().max(1) as u32;
    let (w, _) = canvas.plot.dim_in_pixel();
    let mut rest = canvas.plot.clone();
    for (k, p) in prepared.iter().enumerate() {
        let area = if (k as u32) + 1 < n {
            let (a, b) = rest.split_horizontally(w / n);
            rest = b;
            a
        } else {
            rest.clone()
        };
        draw_panel(&canvas, &area, path, p, &x, &y, n > 1)?;
    }
    if prepared.is_empty() {
        draw_panel(
            &canvas,
            &canvas.plot,
            path,
            &Prepared {
                label: "",
                stacks: Vec::new(),
                stack_colors: Vec::new(),
                utilization: Vec::new(),
                util_colors: Vec::new(),
            },
            &x,
            &y,
            false,
        )?;
    }
    canvas.finish(path)
}

/// One panel: the set-up's stacked cost on the shared scale `y`, its
/// reserved utilization on the right, its caption above when there are
/// several panels.
#[allow(clippy::too_many_arguments)]
fn draw_panel(
    canvas: &Canvas<'_>,
    area: &super::Area<'_>,
    path: &Path,
    p: &Prepared<'_>,
    x: &HourAxis,
    y: &super::LinearAxis,
    captioned: bool,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let hours = x.hours;
    let with_util = !p.utilization.is_empty();
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(if captioned {
            PANEL_MARGIN_TOP
        } else {
            MARGIN_TOP
        })
        .margin_right(if with_util { MARGIN } else { MARGIN_RIGHT })
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .right_y_label_area_size(if with_util { Y_LABEL_AREA } else { 0 })
        .build_cartesian_2d(x.coord(), y.coord())
        .map_err(&err)?
        .set_secondary_coord(
            x.coord(),
            Ticked::new(
                RangedCoordf64::from(0.0..UTIL_TOP),
                (0..=5).map(|i| f64::from(i) * 20.0).collect(),
                Vec::new(),
            ),
        );
    house_style(&mut chart.configure_mesh())
        .x_desc(x.desc())
        .y_desc(format!("cost per {} (USD)", x.bucket.noun()))
        .x_label_formatter(&|v| x.label(*v))
        .y_label_formatter(&|v| y.label(*v))
        .draw()
        .map_err(&err)?;
    if with_util {
        chart
            .configure_secondary_axes()
            .y_desc(match x.bucket {
                Bucket::Minute | Bucket::Hour => "reserved utilization (%)",
                Bucket::Day => "reserved utilization (daily mean, %)",
            })
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(AXIS_DESC_SIZE))
            .axis_style(AXIS_COLOR)
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .draw()
            .map_err(&err)?;
    }
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let right = if with_util { Y_LABEL_AREA } else { 0 };
    super::record_axes((&xs, &ys), X_LABEL_AREA, Y_LABEL_AREA, right);
    if captioned {
        let style = super::label_style(AXIS_DESC_SIZE, super::TEXT_COLOR, HPos::Left, VPos::Bottom);
        super::put_text(&canvas.root, p.label, &style, (xs.start, ys.start - 10)).map_err(&err)?;
    }

    draw_stacks_in(&mut *chart, &p.stacks, &p.stack_colors, x, y.top).map_err(&err)?;
    for (s, color) in p.utilization.iter().zip(&p.util_colors) {
        let percent: Vec<f64> = s
            .values
            .iter()
            .map(|v| {
                if v.is_finite() {
                    (v * 100.0).clamp(0.0, 100.0)
                } else {
                    0.0
                }
            })
            .collect();
        // A white halo under the line sets it apart from areas of any colour.
        let outline = x.steps(&percent);
        chart
            .draw_secondary_series([
                PathElement::new(
                    outline.clone(),
                    WHITE.stroke_width(x.line_width() + HALO_WIDTH),
                ),
                PathElement::new(outline, color.stroke_width(x.line_width())),
            ])
            .map_err(&err)?;
    }

    if hours == 0 || p.stacks.is_empty() {
        let area = chart.plotting_area().get_pixel_range();
        canvas.note_centered(path, area, "no cost recorded")?;
    }
    Ok(())
}

/// Utilization lines take colours from the end of the palette (black first)
/// so they stand out from the stacked areas, which take them from the start.
fn util_color(j: usize) -> RGBColor {
    PALETTE[PALETTE.len() - 1 - j % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week of a diurnal workload: reserved capacity at a flat $45/h, and
    /// on-demand spillover that peaks in the afternoon.
    pub(crate) fn week(hours: usize) -> (Vec<Series>, Vec<Series>) {
        let load = |h: usize| {
            let hour = (h % 24) as f64;
            let weekend = matches!((h / 24) % 7, 5 | 6);
            let day = (-((hour - 15.0) / 4.0).powi(2)).exp();
            let scale = if weekend { 0.5 } else { 1.0 };
            0.2 + 0.8 * day * scale + 0.01 * ((h * 7919) % 13) as f64 / 13.0
        };
        let reserved = Series {
            label: "ptu (reserved)".into(),
            values: vec![45.0; hours],
        };
        let spill = Series {
            label: "paygo (on-demand spillover)".into(),
            values: (0..hours)
                .map(|h| (load(h) - 0.6).max(0.0) * 150.0)
                .collect(),
        };
        let util = Series {
            label: "ptu utilization".into(),
            values: (0..hours).map(|h| (load(h) / 0.6).min(1.0)).collect(),
        };
        (vec![reserved, spill], vec![util])
    }

    #[test]
    fn draws_a_deterministic_png() {
        let (stacks, util) = week(168);
        super::super::assert_deterministic(|| png("Hourly cost", &stacks, &util));
    }

    #[test]
    fn draws_a_long_horizon_per_day_deterministically() {
        // A year and 10 hours: 365 days and a partial one.
        let (stacks, util) = week(8770);
        super::super::assert_deterministic(|| png("Cost per day", &stacks, &util));
    }

    #[test]
    fn per_day_only_the_days_totals_and_means_matter() {
        // Values in quarters and 64ths add up exactly in any order, so
        // reversing the hours inside each day (the partial last one too)
        // keeps every day's cost and mean utilization, and so the picture.
        let (stacks, util) = week(8770);
        let exact = |v: &[Series], q: f64| -> Vec<Series> {
            v.iter()
                .map(|s| Series {
                    label: s.label.clone(),
                    values: s.values.iter().map(|x| (x * q).round() / q).collect(),
                })
                .collect()
        };
        let reversed = |v: &[Series]| -> Vec<Series> {
            v.iter()
                .map(|s| Series {
                    label: s.label.clone(),
                    values: s
                        .values
                        .chunks(24)
                        .flat_map(|d| d.iter().rev().copied())
                        .collect(),
                })
                .collect()
        };
        let (stacks, util) = (exact(&stacks, 4.0), exact(&util, 64.0));
        assert_ne!(stacks[1].values, reversed(&stacks)[1].values);
        crate::report::plots::assert_same_png(
            || png("t", &stacks, &util),
            || png("t", &reversed(&stacks), &reversed(&util)),
        );
    }

    #[test]
    fn empty_inputs_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        super::super::save(&path, png("Hourly cost", &[], &[]));
        assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        let (stacks, _) = week(24);
        super::super::save(&path, png("Hourly cost", &stacks, &[]));
        let hollow = [Series {
            label: "nothing".into(),
            values: vec![],
        }];
        super::super::save(&path, png("Hourly cost", &hollow, &hollow));
    }

    /// Renders the example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        for hours in [24, 168, 720, 1000, 2160, 8760] {
            let (stacks, util) = week(hours);
            let path = dir.join(format!("hourly_cost_{hours}h.png"));
            super::super::save(&path, png(&format!("Cost, {hours} h"), &stacks, &util));
        }
        super::super::save(
            dir.join("hourly_cost_empty.png"),
            png("Cost per hour", &[], &[]),
        );

        // Many pools, long names, a long title and costs in the thousands.
        let (mut stacks, mut util) = week(336);
        for (i, name) in [
            "bedrock-claude-eu-west (reserved)",
            "vertex-gemini (on-demand)",
        ]
        .iter()
        .enumerate()
        {
            stacks.push(Series {
                label: name.to_string(),
                values: stacks[1]
                    .values
                    .iter()
                    .map(|v| v * (0.5 + i as f64))
                    .collect(),
            });
        }
        for (k, s) in stacks.clone().iter().enumerate() {
            stacks.push(Series {
                label: format!("{} copy {k}", s.label),
                values: s.values.iter().map(|v| v * 30.0).collect(),
            });
        }
        util.push(Series {
            label: "bedrock-claude-eu-west utilization".into(),
            values: util[0].values.iter().map(|v| v * 0.7).collect(),
        });
        super::super::save(dir.join("hourly_cost_crowded.png"), png(&format!(
                "A very long scenario name that keeps going and going: cost per simulated hour, {} deployments",
                stacks.len()
            ), &stacks, &util));
    }
}
