//! Text labels inside charts: their styles, the pixel boxes they take, and
//! placement that keeps them clear of each other and of the lines.

use std::cell::RefCell;

use super::*;

thread_local! {
    /// The data markers the chart being drawn on this thread has drawn so far
    /// ([`draw_marker`]; cleared when a chart starts): [`place_label`] never
    /// covers one.
    pub(super) static DRAWN_MARKERS: RefCell<Vec<PixelBox>> = const { RefCell::new(Vec::new()) };
}

/// `b` (pixels of `area`) in pixels of the whole image.
fn on_image(area: &Area<'_>, b: PixelBox) -> PixelBox {
    let (x, y) = area.get_base_pixel();
    (b.0 + x, b.1 + y, b.2 + x, b.3 + y)
}

/// Draws `text` as `style` says at `at` (pixels of `area`) and records its
/// box for the layout test ([`super::layout`]).
pub(super) fn put_text(
    area: &Area<'_>,
    text: &str,
    style: &TextStyle,
    at: (i32, i32),
) -> Result<(), DrawError> {
    let b = text_box(area, text, style, at, 0)?;
    layout::label(text, on_image(area, b));
    area.draw_text(text, style, at)
}

/// Records the bands a mesh's axes fill around the plotting area `xs` × `ys`
/// (pixels of the whole image): below it `bottom` pixels of x tick labels and
/// title, `left` and `right` pixels of y tick labels and title on each side
/// (0 where the side has no labels). Tick labels at the ends of an axis stick
/// out by half their height, so the y bands reach that far past the area.
pub(super) fn record_axes(
    (xs, ys): (&std::ops::Range<i32>, &std::ops::Range<i32>),
    bottom: u32,
    left: u32,
    right: u32,
) {
    let half = (TICK_SIZE / 2.0).ceil() as i32;
    let (bottom, left, right) = (bottom as i32, left as i32, right as i32);
    if bottom > 0 {
        layout::axis("x axis", (xs.start, ys.end, xs.end, ys.end + bottom));
    }
    if left > 0 {
        let b = (xs.start - left, ys.start - half, xs.start, ys.end + half);
        layout::axis("y axis", b);
    }
    if right > 0 {
        let b = (xs.end, ys.start - half, xs.end + right, ys.end + half);
        layout::axis("right y axis", b);
    }
}

/// A small text style in `color` anchored as `pos` says.
pub(super) fn label_style(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(&color).pos(Pos::new(h, v))
}

/// The pixel box `text` takes when drawn with `style` at `at`, padded by
/// `pad` pixels: `(left, top, right, bottom)`.
pub(super) fn text_box(
    area: &Area<'_>,
    text: &str,
    style: &TextStyle,
    at: (i32, i32),
    pad: i32,
) -> Result<(i32, i32, i32, i32), DrawError> {
    let (w, h) = area.estimate_text_size(text, style)?;
    let (w, h) = (w as i32, h as i32);
    let left = match style.pos.h_pos {
        HPos::Left => at.0,
        HPos::Center => at.0 - w / 2,
        HPos::Right => at.0 - w,
    };
    let top = match style.pos.v_pos {
        VPos::Top => at.1,
        VPos::Center => at.1 - h / 2,
        VPos::Bottom => at.1 - h,
    };
    Ok((left - pad, top - pad, left + w + pad, top + h + pad))
}

/// Draws `text` over a white box (so it reads over grid lines and curves),
/// anchored at `at` (pixels of `area`) as `style` says.
pub(super) fn boxed_text(
    area: &Area<'_>,
    text: &str,
    style: &TextStyle,
    at: (i32, i32),
) -> Result<(), DrawError> {
    let (l, t, r, b) = text_box(area, text, style, at, 3)?;
    layout::label(text, on_image(area, (l, t, r, b)));
    area.draw(&Rectangle::new([(l, t), (r, b)], WHITE.mix(0.9).filled()))?;
    area.draw_text(text, style, at)
}

/// Short labels printed just above the plotting area (whose top is at pixel
/// `top`), centred at their pixel x: `(x, text, colour)` in order of
/// importance; a label that would overlap one already printed is skipped, one
/// over a data marker poking above the frame rises above it.
pub(super) fn labels_above(
    root: &Area<'_>,
    top: i32,
    labels: &[(i32, String, RGBColor)],
) -> Result<(), DrawError> {
    let mut taken: Vec<(i32, i32)> = Vec::new();
    let markers = DRAWN_MARKERS.with(|d| d.borrow().clone());
    for (x, text, color) in labels {
        let style = label_style(TICK_SIZE, *color, HPos::Center, VPos::Bottom);
        let (l, _, r, _) = text_box(root, text, &style, (*x, top - 4), 4)?;
        if taken.iter().any(|(a, b)| l < *b && r > *a) {
            continue;
        }
        // A point near the top of the axis pokes above the frame: the label
        // rises above it rather than cover it.
        let bottom = markers
            .iter()
            .filter(|m| m.0 < r && m.2 > l && m.1 < top - 4)
            .map(|m| m.1 - 1)
            .fold(top - 4, i32::min);
        taken.push((l, r));
        put_text(root, text, &style, (*x, bottom))?;
    }
    Ok(())
}

/// A pixel box: (left, top, right, bottom).
pub(super) type PixelBox = (i32, i32, i32, i32);

/// Where a label may go: its anchor point and how the text hangs from it.
pub(super) type LabelSpot = (HPos, VPos, (i32, i32));

/// Whether the polyline (pixels) passes through the box.
pub(super) fn crosses(line: &[(i32, i32)], b: PixelBox) -> bool {
    let f = |p: (i32, i32)| (f64::from(p.0), f64::from(p.1));
    let (xr, yr) = (
        (f64::from(b.0), f64::from(b.2)),
        (f64::from(b.1), f64::from(b.3)),
    );
    match line {
        [p] => clip_segment(f(*p), f(*p), xr, yr).is_some(),
        _ => line
            .windows(2)
            .any(|w| clip_segment(f(w[0]), f(w[1]), xr, yr).is_some()),
    }
}

/// Draws `text` (boxed, in `color`) at the first of the `spots` where it
/// stays inside `bounds`, clear of the boxes already `taken` and of the
/// `lines` (pixel polylines); failing that, the first spot inside and clear of
/// `taken`; failing that, nowhere. Every spot must also leave the data markers
/// drawn so far uncovered ([`DRAWN_MARKERS`]): a label is dropped rather than drawn over
/// another (what it says is in the report). Records the box it took and
/// returns whether it was drawn.
pub(super) fn place_label(
    root: &Area<'_>,
    text: &str,
    color: RGBColor,
    spots: &[LabelSpot],
    bounds: (&std::ops::Range<i32>, &std::ops::Range<i32>),
    taken: &mut Vec<PixelBox>,
    lines: &[Vec<(i32, i32)>],
) -> Result<bool, DrawError> {
    let (xs, ys) = bounds;
    let mut boxes = Vec::with_capacity(spots.len());
    for (h, v, at) in spots {
        let style = label_style(TICK_SIZE, color, *h, *v);
        let b = text_box(root, text, &style, *at, 3)?;
        boxes.push((style, *at, b));
    }
    let inside =
        |b: &PixelBox| b.0 >= xs.start && b.2 <= xs.end && b.1 >= ys.start && b.3 <= ys.end;
    let markers = DRAWN_MARKERS.with(|d| d.borrow().clone());
    let free = |b: &PixelBox| {
        taken
            .iter()
            .chain(&markers)
            .all(|t| b.2 <= t.0 || b.0 >= t.2 || b.3 <= t.1 || b.1 >= t.3)
    };
    // Lines and their markers are a few pixels wide: keep a margin.
    let clear = |b: &PixelBox| {
        let m = MARKER_RADIUS;
        let wide = (b.0 - m, b.1 - m, b.2 + m, b.3 + m);
        lines.iter().all(|l| !crosses(l, wide))
    };
    let pick = boxes
        .iter()
        .position(|(_, _, b)| inside(b) && free(b) && clear(b))
        .or_else(|| boxes.iter().position(|(_, _, b)| inside(b) && free(b)));
    let Some((style, at, b)) = pick.and_then(|k| boxes.into_iter().nth(k)) else {
        return Ok(false);
    };
    taken.push(b);
    boxed_text(root, text, &style, at)?;
    Ok(true)
}
