//! Failover: per simulated hour (per simulated day past
//! [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS)), three panels over one time
//! axis: the providers' shares of served requests (stacked, 0–100 %), the
//! share of finished requests that failed, and the p99 TTFT against the SLA
//! (log scale). The hours with an outage are shaded across all three panels.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    ceil_125, chart_err, draw_stacks, finish_panel, floor_125, house_style, log_ticks,
    redraw_swatches, Area, Bucket, Canvas, DrawError, HourAxis, LegendEntry, LinearAxis, Series,
    Step, Swatch, SwatchArt, Ticked, MARGIN, MARGIN_RIGHT, PALETTE, X_LABEL_AREA, Y_LABEL_AREA,
};
use crate::error::OutputError;
use crate::format::ms;

/// One provider's (platform's) share of served requests per hour, 0..1.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareSeries {
    pub label: String,
    pub values: Vec<f64>,
}

/// What the failover chart shows, one value per simulated hour in every
/// vector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FailoverChart {
    /// Per hour (all vectors have this length): the providers' shares of
    /// served requests, summing to 1 (or all 0 in an hour with no traffic).
    pub shares: Vec<ShareSeries>,
    /// Per hour: requests that failed (errors, throttled, timed out) /
    /// requests that finished, 0..1.
    pub error_rate: Vec<f64>,
    /// Per hour: p99 TTFT of served requests, ms (None = nothing served).
    pub p99_ms: Vec<Option<f64>>,
    /// Per hour: the share of the hour during which an outage was active,
    /// averaged over replications, 0..1 (shading intensity; 0 = no shading).
    pub incident: Vec<f64>,
    /// The SLA target in ms, drawn as a dashed line on the p99 panel.
    pub sla_ms: Option<f64>,
    /// What each value covers: an hour, or a minute of a short run (then read
    /// "minute" for "hour" above).
    pub step: Step,
}

/// Colour of the outage shading: grey, because over the providers' areas it
/// darkens them without changing their hue (a red tint turned blue purple).
/// Its opacity grows with the share of the hour (or day) the outage lasted, from [`OUTAGE_MIN_ALPHA`] (any outage at
/// all stays visible) to [`OUTAGE_MAX_ALPHA`] (the whole bucket).
const OUTAGE: RGBColor = RGBColor(40, 40, 40);
const OUTAGE_MIN_ALPHA: f64 = 0.10;
const OUTAGE_MAX_ALPHA: f64 = 0.24;
/// The p99 line: black, apart from the providers' areas.
const LINE: RGBColor = PALETTE[PALETTE.len() - 1];
/// The error-rate line (vermillion), and the fill under it so short spikes
/// read as area; both stand apart from the grey outage shading.
const ERROR_LINE: RGBColor = PALETTE[5];
const ERROR_FILL: RGBAColor = RGBAColor(213, 94, 0, 0.3);
const SLA_COLOR: RGBColor = RGBColor(90, 90, 90);

/// Room above each panel for its heading.
const HEADING_ROOM: u32 = 34;
/// Space between the bottom of one panel and the heading of the next.
const PANEL_GAP: u32 = 10;
/// How the plotting height is shared: shares, errors, p99 panels.
const PANEL_WEIGHTS: [u32; 3] = [4, 3, 4];
/// Error-rate axis: at most this many intervals.
const ERROR_TICKS: usize = 4;
/// Below this many pixels between 1 and 2 on the log axis, only powers of ten
/// get labels (the other integers still get grid lines).
const MIN_LOG_LABEL_GAP_PX: f64 = 26.0;
/// The p99 range shown when nothing was served and there is no SLA.
const EMPTY_P99_RANGE_MS: (f64, f64) = (100.0, 10_000.0);

/// The chart's data per bucket of the time axis (hour, or day past
/// [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS)), cleaned up for drawing.
#[derive(Debug, Clone, PartialEq)]
struct Buckets {
    /// Per provider, in percent; per bucket they sum to 100 or are all 0.
    shares: Vec<Series>,
    /// Failed requests, in percent of finished ones.
    error_pct: Vec<f64>,
    p99_ms: Vec<Option<f64>>,
    /// Share of the bucket with an outage, 0..1.
    incident: Vec<f64>,
}

/// The number of hours the chart covers: the longest of its vectors.
fn hours_of(data: &FailoverChart) -> usize {
    data.shares
        .iter()
        .map(|s| s.values.len())
        .chain([
            data.error_rate.len(),
            data.p99_ms.len(),
            data.incident.len(),
        ])
        .max()
        .unwrap_or(0)
}

/// A fraction made safe to draw: missing or non-finite values are 0, the rest
/// are clamped to 0..=1.
fn fraction(values: &[f64], i: usize) -> f64 {
    match values.get(i) {
        Some(v) if v.is_finite() => v.clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// Per bucket of `bucket` over `hours` hours. Per hour the shares are
/// normalised to sum to 100 %. Per day: the mean of the shares and of the
/// error rate over the day's hours that had traffic (an hour with none would
/// otherwise pull them towards 0), the highest hourly p99 and the mean
/// outage share over all the day's hours.
fn buckets(data: &FailoverChart, bucket: Bucket, hours: usize) -> Buckets {
    // Hourly, cleaned.
    let mut shares: Vec<Vec<f64>> = data
        .shares
        .iter()
        .map(|s| (0..hours).map(|h| fraction(&s.values, h)).collect())
        .collect();
    let mut served = vec![false; hours];
    for (h, served) in served.iter_mut().enumerate() {
        let sum: f64 = shares.iter().map(|s| s[h]).sum();
        if sum > 0.0 {
            *served = true;
            for s in shares.iter_mut() {
                s[h] /= sum;
            }
        }
    }
    let error: Vec<f64> = (0..hours).map(|h| fraction(&data.error_rate, h)).collect();
    let busy: Vec<bool> = (0..hours).map(|h| served[h] || error[h] > 0.0).collect();
    let p99: Vec<Option<f64>> = (0..hours)
        .map(|h| {
            data.p99_ms
                .get(h)
                .copied()
                .flatten()
                .filter(|v| v.is_finite() && *v > 0.0)
        })
        .collect();
    let incident: Vec<f64> = (0..hours).map(|h| fraction(&data.incident, h)).collect();

    let width = bucket.hours();
    let ranges: Vec<Range<usize>> = (0..bucket.count(hours))
        .map(|b| b * width..((b + 1) * width).min(hours))
        .collect();
    // The mean of `values` over the hours of `r` where `keep` holds (0 if none).
    let mean_where = |values: &[f64], keep: &[bool], r: &Range<usize>| -> f64 {
        let kept: Vec<f64> = r.clone().filter(|h| keep[*h]).map(|h| values[h]).collect();
        if kept.is_empty() {
            0.0
        } else {
            kept.iter().sum::<f64>() / kept.len() as f64
        }
    };
    let all = vec![true; hours];
    Buckets {
        shares: data
            .shares
            .iter()
            .zip(&shares)
            .map(|(s, v)| Series {
                label: s.label.clone(),
                values: ranges
                    .iter()
                    .map(|r| 100.0 * mean_where(v, &served, r))
                    .collect(),
            })
            .collect(),
        error_pct: ranges
            .iter()
            .map(|r| 100.0 * mean_where(&error, &busy, r))
            .collect(),
        p99_ms: ranges
            .iter()
            .map(|r| p99[r.clone()].iter().flatten().copied().reduce(f64::max))
            .collect(),
        incident: ranges
            .iter()
            .map(|r| mean_where(&incident, &all, r))
            .collect(),
    }
}

/// The opacity of the shading of a bucket with `incident` of it under an
/// outage (`None`: no shading).
fn outage_alpha(incident: f64) -> Option<f64> {
    (incident > 0.0)
        .then(|| OUTAGE_MIN_ALPHA + (OUTAGE_MAX_ALPHA - OUTAGE_MIN_ALPHA) * incident.min(1.0))
}

/// The file this chart is written to in a results folder.
pub const FILE: &str = "failover.png";

/// Draws the failover chart as PNG bytes: a 1400×800 image with the
/// title and legend on top and three panels sharing the time axis (labelled
/// on the bottom one): the providers' shares of served requests as stacked
/// areas (0–100 %), the failed share of finished requests (%), and the p99
/// TTFT (ms, log scale) with the SLA as a dashed line. Buckets with an outage
/// are shaded across all panels, darker the longer the outage lasted.
///
/// Past [`HOURLY_MAX_HOURS`](super::HOURLY_MAX_HOURS) hours it shows one value
/// per simulated day ([`Bucket::for_horizon`]): the mean shares and error
/// rate over the day's hours with traffic, the highest hourly p99 and the
/// share of the day under an outage, and says so in the panel headings.
/// Vectors of different lengths are read as the longest, the missing values
/// as no traffic and no outage; non-finite values count as 0 (p99: as
/// nothing served).
pub fn png(title: &str, data: &FailoverChart) -> Result<Vec<u8>, OutputError> {
    super::render(FILE, |pixels| draw(pixels, Path::new(FILE), title, data))
}

fn draw(
    pixels: &mut [u8],
    path: &Path,
    title: &str,
    data: &FailoverChart,
) -> Result<(), OutputError> {
    let err = chart_err(path);
    let hours = hours_of(data);
    let x = HourAxis::of(data.step, hours);
    let b = buckets(data, x.bucket, hours);
    let sla = data.sla_ms.filter(|v| v.is_finite() && *v > 0.0);
    let (legend, art) = legend(&b, sla, &x);
    let canvas = Canvas::new(pixels, path, title, &legend)?;
    redraw_swatches(&canvas.root, &legend, &art).map_err(&err)?;

    // Three panels, the last with the time axis under it.
    let (_, plot_h) = canvas.plot.dim_in_pixel();
    let fixed = 3 * HEADING_ROOM + 2 * PANEL_GAP + X_LABEL_AREA + MARGIN;
    let free = plot_h.saturating_sub(fixed).max(60);
    let total: u32 = PANEL_WEIGHTS.iter().sum();
    let heights = PANEL_WEIGHTS.map(|w| free * w / total);
    let (top, rest) = canvas
        .plot
        .split_vertically(HEADING_ROOM + heights[0] + PANEL_GAP);
    let (middle, bottom) = rest.split_vertically(HEADING_ROOM + heights[1] + PANEL_GAP);
    let panels = Panels {
        canvas: &canvas,
        path,
        x: &x,
        hours,
        b: &b,
    };
    panels.shares(&top)?;
    panels.errors(&middle)?;
    panels.p99(&bottom, f64::from(heights[2]), sla)?;
    canvas.finish(path)
}

/// The legend: the providers' areas, then the SLA and the outage shading, with the art
/// redrawn over the swatches (`None`: the plain swatch).
fn legend(
    b: &Buckets,
    sla: Option<f64>,
    x: &HourAxis,
) -> (Vec<LegendEntry>, Vec<Option<SwatchArt>>) {
    let mut legend: Vec<LegendEntry> = b
        .shares
        .iter()
        .enumerate()
        .map(|(k, s)| LegendEntry {
            label: s.label.clone(),
            color: PALETTE[k % PALETTE.len()],
            swatch: Swatch::Area,
        })
        .collect();
    let mut art: Vec<Option<SwatchArt>> = vec![None; legend.len()];
    if let Some(sla) = sla {
        legend.push(LegendEntry {
            label: format!("SLA {}", ms(sla)),
            color: SLA_COLOR,
            swatch: Swatch::Line,
        });
        art.push(Some(SwatchArt::Dashed(SLA_COLOR)));
    }
    let any_outage = b.incident.iter().any(|v| *v > 0.0);
    legend.push(LegendEntry {
        label: if any_outage {
            format!("outage (darker: more of the {})", x.bucket.noun())
        } else {
            "outage: none".to_string()
        },
        color: OUTAGE,
        swatch: Swatch::Area,
    });
    // With no outage, an empty box: the chart would show one, there is none.
    art.push(Some(SwatchArt::Fill(if any_outage {
        OUTAGE.mix(OUTAGE_MAX_ALPHA)
    } else {
        WHITE.mix(1.0)
    })));
    (legend, art)
}

/// What the three panels share: the image, the time axis and the bucketed data.
struct Panels<'c, 'a> {
    canvas: &'c Canvas<'a>,
    path: &'c Path,
    x: &'c HourAxis,
    /// The hours of data (the axis shows a day when there are none).
    hours: usize,
    b: &'c Buckets,
}

impl Panels<'_, '_> {
    /// ", daily mean" in the headings of the panels that average per day.
    fn mean(&self) -> &'static str {
        if self.x.bucket == Bucket::Day {
            ", daily mean"
        } else {
            ""
        }
    }

    /// The top panel: the providers' shares of served requests, stacked to 100 %.
    fn shares(&self, area: &Area<'_>) -> Result<(), OutputError> {
        let (x, b, err) = (self.x, self.b, chart_err(self.path));
        let no_traffic = b.shares.iter().all(|s| s.values.iter().all(|v| *v == 0.0));
        let shares_ticks: Vec<f64> = (0..=4).map(|i| f64::from(i) * 25.0).collect();
        let mut chart = panel(area, x, 0.0..100.0, shares_ticks).map_err(&err)?;
        house_style(&mut chart.configure_mesh())
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .draw()
            .map_err(&err)?;
        draw_stacks(&mut chart, &b.shares, x, 100.0).map_err(&err)?;
        shade_outages(&self.canvas.root, &chart, x, &b.incident).map_err(&err)?;
        let heading = format!("share of served requests by provider (%{})", self.mean());
        finish_panel(&self.canvas.root, &chart, &heading, 0).map_err(&err)?;
        if no_traffic {
            let area = chart.plotting_area().get_pixel_range();
            self.canvas
                .note_centered(self.path, area, "no requests served")?;
        }
        Ok(())
    }

    /// The middle panel: the failed share of finished requests, a filled step line.
    fn errors(&self, area: &Area<'_>) -> Result<(), OutputError> {
        let (x, b, err) = (self.x, self.b, chart_err(self.path));
        let max_error = b.error_pct.iter().copied().fold(0.0, f64::max);
        let y = error_axis(max_error);
        let mut chart = panel(area, x, 0.0..y.top, y.ticks.clone()).map_err(&err)?;
        house_style(&mut chart.configure_mesh())
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|v| format!("{}%", y.label(*v)))
            .draw()
            .map_err(&err)?;
        shade_outages(&self.canvas.root, &chart, x, &b.incident).map_err(&err)?;
        if self.hours > 0 {
            let zero = vec![0.0; b.error_pct.len()];
            chart
                .draw_series(std::iter::once(Polygon::new(
                    x.band(&zero, &b.error_pct),
                    ERROR_FILL.filled(),
                )))
                .map_err(&err)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    x.steps(&b.error_pct),
                    ERROR_LINE.stroke_width(x.line_width()),
                )))
                .map_err(&err)?;
        }
        let heading = format!(
            "failed requests (% of finished: errors, throttled, timed out{})",
            self.mean()
        );
        finish_panel(&self.canvas.root, &chart, &heading, 0).map_err(&err)?;
        Ok(())
    }

    /// The bottom panel, with the time axis: p99 TTFT on a log axis fitted to the `height_px`
    /// left for it, the SLA dashed, gaps where nothing was served.
    fn p99(&self, area: &Area<'_>, height_px: f64, sla: Option<f64>) -> Result<(), OutputError> {
        let (x, b, err) = (self.x, self.b, chart_err(self.path));
        let (lo, hi) = p99_range(b.p99_ms.iter().flatten().copied(), sla);
        let (bold, light) = log_ticks(lo, hi, height_px, MIN_LOG_LABEL_GAP_PX);
        let mut chart = ChartBuilder::on(area)
            .margin_left(MARGIN)
            .margin_right(MARGIN_RIGHT)
            .margin_top(HEADING_ROOM)
            .margin_bottom(MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(
                x.coord(),
                Ticked::new(LogCoord::from((lo..hi).log_scale()), bold, light),
            )
            .map_err(&err)?;
        house_style(&mut chart.configure_mesh())
            .x_desc(x.desc())
            .x_label_formatter(&|v| x.label(*v))
            .y_label_formatter(&|v| ms(*v))
            .draw()
            .map_err(&err)?;
        shade_outages(&self.canvas.root, &chart, x, &b.incident).map_err(&err)?;
        if let Some(sla) = sla {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, sla), (x.hours as f64, sla)],
                    12,
                    8,
                    SLA_COLOR.stroke_width(2),
                ))
                .map_err(&err)?;
        }
        // One line per run of buckets with a p99; gaps where nothing was served.
        let steps = x.steps(&b.p99_ms.iter().map(|v| v.unwrap_or(lo)).collect::<Vec<_>>());
        let mut start = None;
        for i in 0..=b.p99_ms.len() {
            match (start, b.p99_ms.get(i).copied().flatten()) {
                (None, Some(_)) => start = Some(i),
                (Some(s), None) => {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            steps[2 * s..2 * i].to_vec(),
                            LINE.stroke_width(x.line_width()),
                        )))
                        .map_err(&err)?;
                    start = None;
                }
                _ => {}
            }
        }
        let heading = if x.bucket == Bucket::Day {
            "p99 TTFT of served requests (ms, log scale; per day the highest hourly p99)"
        } else {
            "p99 TTFT of served requests (ms, log scale)"
        };
        finish_panel(&self.canvas.root, &chart, heading, X_LABEL_AREA).map_err(&err)?;
        if b.p99_ms.iter().all(Option::is_none) {
            let area = chart.plotting_area().get_pixel_range();
            self.canvas
                .note_centered(self.path, area, "no requests served")?;
        }
        Ok(())
    }
}

type PanelChart<'a, Y> =
    ChartContext<'a, BitMapBackend<'a>, Cartesian2d<Ticked<RangedCoordf64>, Y>>;

/// One of the upper panels: room for its heading above, none for x labels
/// below (the bottom panel has them), the same left and right edges as the
/// bottom panel so the time axes line up.
fn panel<'a>(
    area: &DrawingArea<BitMapBackend<'a>, Shift>,
    x: &HourAxis,
    y: Range<f64>,
    ticks: Vec<f64>,
) -> Result<PanelChart<'a, Ticked<RangedCoordf64>>, DrawError> {
    ChartBuilder::on(area)
        .margin_left(MARGIN)
        .margin_right(MARGIN_RIGHT)
        .margin_top(HEADING_ROOM)
        .margin_bottom(PANEL_GAP)
        .x_label_area_size(0)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            x.coord(),
            Ticked::new(RangedCoordf64::from(y), ticks, Vec::new()),
        )
}

/// The error-rate axis in percent: nice ticks from 0 a little above the
/// highest rate, at most 100 % (0–1 % when nothing failed).
fn error_axis(max_pct: f64) -> LinearAxis {
    let y = LinearAxis::up_to(max_pct, ERROR_TICKS);
    if y.top <= 100.0 {
        return y;
    }
    LinearAxis {
        top: 105.0,
        ticks: (0..=4).map(|i| f64::from(i) * 25.0).collect(),
        divisor: 1.0,
        suffix: "",
        decimals: 0,
    }
}

/// Shades each bucket under an outage over the whole height of the panel,
/// in pixels so that neighbouring buckets tile without seams.
fn shade_outages<Y: plotters::coord::ranged1d::Ranged<ValueType = f64>>(
    root: &Area<'_>,
    chart: &ChartContext<'_, BitMapBackend<'_>, Cartesian2d<Ticked<RangedCoordf64>, Y>>,
    x: &HourAxis,
    incident: &[f64],
) -> Result<(), DrawError> {
    let (_, ys) = chart.plotting_area().get_pixel_range();
    let w = x.bucket.hours();
    let y_any = chart.y_range().start;
    let px = |h: usize| chart.backend_coord(&(h.min(x.hours) as f64, y_any)).0;
    let mut i = 0;
    while i < incident.len() {
        let Some(alpha) = outage_alpha(incident[i]) else {
            i += 1;
            continue;
        };
        // Neighbours with the same shade make one rectangle.
        let mut j = i + 1;
        while j < incident.len() && outage_alpha(incident[j]) == Some(alpha) {
            j += 1;
        }
        let (left, right) = (px(i * w), px(j * w));
        root.draw(&Rectangle::new(
            [(left, ys.start), (right.max(left + 1), ys.end)],
            OUTAGE.mix(alpha).filled(),
        ))?;
        i = j;
    }
    Ok(())
}

/// The p99 axis range: from a 1-2-5 value below the fastest p99 to one above
/// the slowest (a default range when there are none), with the SLA in it.
fn p99_range(values: impl Iterator<Item = f64>, sla: Option<f64>) -> (f64, f64) {
    let (mut min, mut max) = (f64::INFINITY, 0.0f64);
    for v in values.chain(sla) {
        min = min.min(v);
        max = max.max(v);
    }
    if !min.is_finite() || max <= 0.0 {
        return EMPTY_P99_RANGE_MS;
    }
    let lo = floor_125(min * 0.9);
    let hi = ceil_125(max * 1.1).max(ceil_125(lo * 1.01));
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two days of a diurnal workload on two providers, Bedrock taking 70 %
    /// of the traffic, with an outage of Bedrock from hour 30 (at minute 12)
    /// to hour 32 (minute 40): its share moves to Azure OpenAI, errors spike
    /// for the few minutes before the failover and p99 rises while Azure
    /// OpenAI carries everything.
    fn outage(hours: usize) -> FailoverChart {
        let incident: Vec<f64> = (0..hours)
            .map(|h| match h {
                30 => 0.8,
                31 => 1.0,
                32 => 40.0 / 60.0,
                _ => 0.0,
            })
            .collect();
        let bedrock: Vec<f64> = (0..hours)
            .map(|h| 0.7 * (1.0 - incident[h]) + 0.01 * ((h * 7919) % 5) as f64)
            .collect();
        let azure = bedrock.iter().map(|b| 1.0 - b).collect();
        let error_rate = (0..hours)
            .map(|h| match h {
                30 => 0.09,
                31 => 0.012,
                32 => 0.004,
                _ => 0.0005 * ((h * 31) % 4) as f64,
            })
            .collect();
        let p99_ms = (0..hours)
            .map(|h| {
                let hour = (h % 24) as f64;
                let load = (-((hour - 14.0) / 4.0).powi(2)).exp();
                let base = 520.0 + 260.0 * load;
                Some(base * if (30..=32).contains(&h) { 2.6 } else { 1.0 })
            })
            .collect();
        FailoverChart {
            shares: vec![
                ShareSeries {
                    label: "Bedrock".into(),
                    values: bedrock,
                },
                ShareSeries {
                    label: "Azure OpenAI".into(),
                    values: azure,
                },
            ],
            error_rate,
            p99_ms,
            incident,
            sla_ms: Some(1_000.0),
            step: Step::Hour,
        }
    }

    /// `hours` hours of three providers with an outage every ten days and an
    /// empty stretch (no traffic, nothing served) in the middle.
    fn long(hours: usize) -> FailoverChart {
        let mut c = outage(hours);
        let empty = hours / 2..hours / 2 + 30;
        c.incident = (0..hours)
            .map(|h| {
                if h % 240 >= 100 && h % 240 < 103 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let shares: Vec<[f64; 3]> = (0..hours)
            .map(|h| {
                if empty.contains(&h) {
                    [0.0; 3]
                } else if c.incident[h] > 0.0 {
                    [0.0, 0.8, 0.2]
                } else {
                    [0.6, 0.3, 0.1]
                }
            })
            .collect();
        c.shares = ["Bedrock", "Azure OpenAI", "Vertex AI"]
            .iter()
            .enumerate()
            .map(|(k, name)| ShareSeries {
                label: name.to_string(),
                values: shares.iter().map(|s| s[k]).collect(),
            })
            .collect();
        for h in 0..hours {
            if empty.contains(&h) {
                c.error_rate[h] = 0.0;
                c.p99_ms[h] = None;
            } else if c.incident[h] > 0.0 {
                c.error_rate[h] = 0.05;
                c.p99_ms[h] = c.p99_ms[h].map(|v| v * 3.0);
            }
        }
        c
    }

    #[test]
    fn draws_a_deterministic_png() {
        super::super::assert_deterministic(|| png("Failover", &outage(48)));
    }

    #[test]
    fn draws_a_long_horizon_per_day_deterministically() {
        super::super::assert_deterministic(|| png("Failover per day", &long(8770)));
    }

    #[test]
    fn per_day_means_shares_over_hours_with_traffic_and_takes_the_worst_p99() {
        let mut c = FailoverChart {
            shares: vec![
                ShareSeries {
                    label: "a".into(),
                    values: vec![1.0; 30],
                },
                ShareSeries {
                    label: "b".into(),
                    values: vec![0.0; 30],
                },
            ],
            error_rate: vec![0.0; 30],
            p99_ms: vec![Some(100.0); 30],
            incident: vec![0.0; 30],
            sla_ms: None,
            step: Step::Hour,
        };
        // Hours 0..12 carry no traffic; in hours 12..24, b serves half.
        for h in 0..12 {
            c.shares[0].values[h] = 0.0;
            c.p99_ms[h] = None;
        }
        for h in 12..24 {
            c.shares[0].values[h] = 0.5;
            c.shares[1].values[h] = 0.5;
        }
        c.error_rate[12] = 0.24;
        c.p99_ms[13] = Some(900.0);
        c.incident[12] = 1.0;
        c.incident[13] = 0.5;
        let b = buckets(&c, Bucket::Day, 30);
        assert_eq!(b.shares[0].values, vec![50.0, 100.0]);
        assert_eq!(b.shares[1].values, vec![50.0, 0.0]);
        assert_eq!(b.error_pct, vec![2.0, 0.0]);
        assert_eq!(b.p99_ms, vec![Some(900.0), Some(100.0)]);
        assert_eq!(b.incident, vec![1.5 / 24.0, 0.0]);
        // Per hour the values pass through, shares normalised to 100 %.
        c.shares[0].values[20] = 0.8;
        c.shares[1].values[20] = 0.8;
        let h = buckets(&c, Bucket::Hour, 30);
        assert_eq!(h.shares[0].values[20], 50.0);
        assert_eq!(h.shares[0].values[0], 0.0);
        assert_eq!(h.error_pct[12], 24.0);
        assert_eq!(h.p99_ms[0], None);
    }

    #[test]
    fn edge_cases_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edge.png");
        let check = |c: &FailoverChart| {
            super::super::save(&path, png("Failover", c));
            assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
        };
        check(&FailoverChart::default());
        check(&FailoverChart {
            sla_ms: Some(800.0),
            ..FailoverChart::default()
        });
        for hours in [1, 2, 3, 25, 745] {
            check(&outage(hours));
        }
        // A single provider, no incidents, no SLA.
        let mut one = outage(48);
        one.shares.truncate(1);
        one.incident = vec![0.0; 48];
        one.sla_ms = None;
        check(&one);
        // All-zero hours, nothing served, and everything failing.
        let zeros = FailoverChart {
            shares: vec![ShareSeries {
                label: "idle".into(),
                values: vec![0.0; 10],
            }],
            error_rate: vec![0.0; 10],
            p99_ms: vec![None; 10],
            incident: vec![0.0; 10],
            sla_ms: Some(500.0),
            step: Step::Hour,
        };
        check(&zeros);
        let failing = FailoverChart {
            error_rate: vec![1.0; 10],
            incident: vec![1.0; 10],
            ..zeros.clone()
        };
        check(&failing);
        // Odd values and vectors of different lengths.
        let odd = FailoverChart {
            shares: vec![ShareSeries {
                label: "odd".into(),
                values: vec![f64::NAN, -1.0, 2.0, f64::INFINITY],
            }],
            error_rate: vec![f64::NAN, 7.0],
            p99_ms: vec![
                Some(f64::NAN),
                Some(0.0),
                Some(-5.0),
                Some(1e9),
                None,
                Some(3.0),
            ],
            incident: vec![f64::NAN, -1.0, 3.0],
            sla_ms: Some(f64::NAN),
            step: Step::Hour,
        };
        check(&odd);
    }

    #[test]
    fn p99_ticks_are_1_2_5_and_cover_the_data_and_the_sla() {
        let (lo, hi) = p99_range([520.0, 2_000.0].into_iter(), Some(800.0));
        assert_eq!((lo, hi), (200.0, 5_000.0));
        let (bold, light) = log_ticks(lo, hi, 200.0, MIN_LOG_LABEL_GAP_PX);
        assert_eq!(bold, vec![200.0, 500.0, 1_000.0, 2_000.0, 5_000.0]);
        assert!(light.contains(&300.0) && light.contains(&4_000.0));
        let (bold, _) = log_ticks(1.0, 1e6, 200.0, MIN_LOG_LABEL_GAP_PX);
        assert_eq!(bold.len(), 7);
        assert_eq!(p99_range(std::iter::empty(), None), EMPTY_P99_RANGE_MS);
        assert_eq!(ms(1_000.0), "1,000 ms");
        assert_eq!(ms(0.5), "0.5 ms");
        assert_eq!(error_axis(100.0).top, 105.0);
        assert_eq!(error_axis(0.0).ticks.first(), Some(&0.0));
    }

    /// Renders example charts to /tmp/llmcap_charts/ for a visual check:
    /// `cargo test --lib plots -- --ignored`.
    #[test]
    #[ignore]
    fn render_examples() {
        let dir = Path::new("/tmp/llmcap_charts");
        std::fs::create_dir_all(dir).unwrap();
        super::super::save(
            dir.join("failover.png"),
            png("Failover: Bedrock outage in hours 30–32", &outage(48)),
        );
        super::super::save(
            dir.join("failover_3h.png"),
            png("Failover, 3 h", &outage(3)),
        );
        for hours in [720, 2160] {
            super::super::save(
                dir.join(format!("failover_{hours}h.png")),
                png(&format!("Failover, {hours} h"), &long(hours)),
            );
        }
        let mut one = outage(48);
        one.shares.truncate(1);
        one.incident = vec![0.0; 48];
        one.sla_ms = None;
        super::super::save(dir.join("failover_single.png"), png("One provider", &one));
        // Six providers with long names and a long title: two legend rows.
        let mut crowded = long(336);
        for name in ["Anthropic API (direct)", "Gemini API", "OpenAI (direct)"] {
            let mut s = crowded.shares[1].clone();
            s.label = name.to_string();
            crowded.shares.push(s);
        }
        crowded.shares[1].label = "Azure OpenAI (eastus2, provisioned)".into();
        super::super::save(dir.join("failover_crowded.png"), png("A long scenario name that keeps going: per-hour share of traffic by provider, errors and p99 TTFT during outages", &crowded));
        super::super::save(
            dir.join("failover_empty.png"),
            png("Failover", &FailoverChart::default()),
        );
    }
}
