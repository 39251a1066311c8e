//! Where each chart put its text, so a test can check that labels never
//! collide: every label a chart places itself (title, legend entries, panel
//! captions, annotations, bar labels, notes) and the bands plotters fills with
//! an axis (tick labels and the axis title) are recorded as pixel boxes while
//! [`record`] runs. Outside [`record`] nothing is kept.
//!
//! The data markers a chart draws where labels are placed near them (points,
//! ringed points, marked bar tops) are recorded too.
//!
//! The rules ([`ChartLayout::problems`]): placed labels do not overlap each
//! other, stay inside the image, stay out of every axis band, and cover no
//! data marker.

use std::cell::RefCell;

use super::{PixelBox, HEIGHT, WIDTH};

/// One box of text: what it says and the pixels it covers
/// (left, top, right, bottom; right and bottom exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub text: String,
    pub bbox: PixelBox,
}

/// What one chart placed: its labels and its axis bands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChartLayout {
    /// The chart's file name, e.g. "sensitivity.png".
    pub file: String,
    pub labels: Vec<Placed>,
    /// Tick labels and axis titles of each axis, one box per axis side.
    pub axes: Vec<Placed>,
    /// Data markers (points, ringed points), named by what they mark.
    pub markers: Vec<Placed>,
}

/// Two boxes share at least one pixel.
fn overlap(a: PixelBox, b: PixelBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

impl ChartLayout {
    /// Every broken rule, one sentence each (empty when the layout is clean).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (w, h) = (WIDTH as i32, HEIGHT as i32);
        for (i, a) in self.labels.iter().enumerate() {
            let b = a.bbox;
            if b.0 < 0 || b.1 < 0 || b.2 > w || b.3 > h {
                out.push(format!(
                    "{}: \"{}\" {:?} leaves the {w}x{h} image",
                    self.file, a.text, b
                ));
            }
            for other in &self.labels[i + 1..] {
                if overlap(b, other.bbox) {
                    out.push(format!(
                        "{}: \"{}\" {:?} overlaps \"{}\" {:?}",
                        self.file, a.text, b, other.text, other.bbox
                    ));
                }
            }
            for axis in &self.axes {
                if overlap(b, axis.bbox) {
                    out.push(format!(
                        "{}: \"{}\" {:?} crosses the axis band of \"{}\" {:?}",
                        self.file, a.text, b, axis.text, axis.bbox
                    ));
                }
            }
            for m in &self.markers {
                if overlap(b, m.bbox) {
                    out.push(format!(
                        "{}: \"{}\" {:?} covers the {} {:?}",
                        self.file, a.text, b, m.text, m.bbox
                    ));
                }
            }
        }
        out
    }
}

thread_local! {
    static RECORDING: RefCell<Option<Vec<ChartLayout>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns what it returned with the layout of every chart it
/// drew on this thread, in the order they were drawn.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Vec<ChartLayout>) {
    let before = RECORDING.with(|r| r.borrow_mut().replace(Vec::new()));
    let out = f();
    let got = RECORDING.with(|r| std::mem::replace(&mut *r.borrow_mut(), before));
    (out, got.unwrap_or_default())
}

/// A chart named `file` starts drawing.
pub(super) fn start(file: &str) {
    RECORDING.with(|r| {
        if let Some(charts) = r.borrow_mut().as_mut() {
            charts.push(ChartLayout {
                file: file.to_string(),
                ..ChartLayout::default()
            });
        }
    });
}

fn push(text: &str, bbox: PixelBox, into: fn(&mut ChartLayout) -> &mut Vec<Placed>) {
    RECORDING.with(|r| {
        if let Some(chart) = r.borrow_mut().as_mut().and_then(|c| c.last_mut()) {
            into(chart).push(Placed {
                text: text.to_string(),
                bbox,
            });
        }
    });
}

/// The current chart placed `text` over `bbox`.
pub(super) fn label(text: &str, bbox: PixelBox) {
    push(text, bbox, |c| &mut c.labels);
}

/// The current chart's axis `name` fills `bbox` with its tick labels and title.
pub(super) fn axis(name: &str, bbox: PixelBox) {
    push(name, bbox, |c| &mut c.axes);
}

/// The current chart drew a data marker (`what`, e.g. "marker at (400, 300)") over `bbox`.
pub(super) fn marker(what: &str, bbox: PixelBox) {
    push(what, bbox, |c| &mut c.markers);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(text: &str, bbox: PixelBox) -> Placed {
        Placed {
            text: text.into(),
            bbox,
        }
    }

    #[test]
    fn finds_overlaps_clipping_and_axis_crossings() {
        let clean = ChartLayout {
            file: "c.png".into(),
            labels: vec![placed("a", (10, 10, 50, 30)), placed("b", (50, 10, 90, 30))],
            axes: vec![placed("y", (0, 40, 60, 700))],
            markers: vec![placed("marker", (95, 10, 107, 22))],
        };
        assert!(clean.problems().is_empty(), "{:?}", clean.problems());
        let mut covered = clean.clone();
        covered.labels.push(placed("e", (100, 15, 140, 30)));
        let p = covered.problems();
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("\"e\"") && p[0].contains("covers the marker"),
            "{p:?}"
        );
        let mut bad = clean.clone();
        bad.labels.push(placed("c", (49, 29, 70, 41)));
        bad.labels.push(placed("d", (1390, 5, 1410, 20)));
        let p = bad.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("\"a\"") && p[0].contains("\"c\""));
        assert!(p[1].contains("\"b\"") && p[1].contains("\"c\""));
        assert!(p[2].contains("axis band of \"y\""));
        assert!(p[3].contains("leaves the 1400x800 image"));
    }

    #[test]
    fn records_only_inside_record() {
        start("x.png");
        label("lost", (0, 0, 1, 1));
        let ((), charts) = record(|| {
            start("a.png");
            label("t", (0, 0, 5, 5));
            axis("x axis", (0, 10, 5, 20));
            marker("point", (1, 1, 3, 3));
        });
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].file, "a.png");
        assert_eq!(charts[0].labels, vec![placed("t", (0, 0, 5, 5))]);
        assert_eq!(charts[0].axes.len(), 1);
        assert_eq!(charts[0].markers, vec![placed("point", (1, 1, 3, 3))]);
    }
}
