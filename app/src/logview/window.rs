//! The arithmetic of a virtualised list with rows of one fixed height: which rows to put in the
//! DOM for a scroll position, and whether the view sits at the bottom (so it should keep
//! following new lines). Kept apart from the DOM so it can be tested as numbers.

/// Rows `first..end` of the list are drawn; the first at `first * row_px` from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: usize,
    pub end: usize,
}

impl Window {
    pub fn len(&self) -> usize {
        self.end - self.first
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.first
    }
}

/// The rows visible in a viewport of `viewport_px` scrolled to `scroll_top`, plus `overscan`
/// rows on each side so fast scrolling does not show blank space before the next frame.
pub fn visible(
    scroll_top: f64,
    viewport_px: f64,
    row_px: f64,
    total: usize,
    overscan: usize,
) -> Window {
    if total == 0 || row_px <= 0.0 {
        return Window { first: 0, end: 0 };
    }
    let top = scroll_top.max(0.0);
    let first_visible = ((top / row_px).floor() as usize).min(total - 1);
    let shown = (viewport_px.max(0.0) / row_px).ceil() as usize + 1;
    Window {
        first: first_visible.saturating_sub(overscan),
        end: (first_visible + shown + overscan).min(total),
    }
}

/// The height of the whole list.
pub fn content_px(total: usize, row_px: f64) -> f64 {
    total as f64 * row_px
}

/// Whether the viewport shows the list's end, give or take `slack_px` (sub-pixel rounding and
/// zoom make an exact comparison fail).
pub fn at_bottom(scroll_top: f64, viewport_px: f64, content_px: f64, slack_px: f64) -> bool {
    scroll_top + viewport_px >= content_px - slack_px
}

/// The `scrollTop` that shows the last row at the bottom of the viewport.
pub fn bottom(content_px: f64, viewport_px: f64) -> f64 {
    (content_px - viewport_px).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_only_the_viewport_and_overscan() {
        // 100,000 rows of 20 px in a 480 px viewport, scrolled to row 50,000.
        let w = visible(1_000_000.0, 480.0, 20.0, 100_000, 10);
        assert_eq!(
            w,
            Window {
                first: 49_990,
                end: 50_035
            }
        );
        assert_eq!(w.len(), 45);
        // Top and bottom clamp.
        assert_eq!(visible(0.0, 480.0, 20.0, 100_000, 10).first, 0);
        let last = visible(
            bottom(content_px(100_000, 20.0), 480.0),
            480.0,
            20.0,
            100_000,
            10,
        );
        assert_eq!(last.end, 100_000);
        assert!(last.len() < 60);
        // Fewer rows than fit, and nothing at all.
        assert_eq!(
            visible(0.0, 480.0, 20.0, 3, 10),
            Window { first: 0, end: 3 }
        );
        assert!(visible(0.0, 480.0, 20.0, 0, 10).is_empty());
        // A scroll position past the end (the list just shrank) still draws the tail.
        assert_eq!(visible(9e9, 480.0, 20.0, 5, 2).end, 5);
    }

    #[test]
    fn knows_when_it_sits_at_the_bottom() {
        let content = content_px(1_000, 20.0);
        assert!(at_bottom(bottom(content, 480.0), 480.0, content, 4.0));
        assert!(
            at_bottom(19_518.5, 480.0, content, 4.0),
            "sub-pixel short still counts"
        );
        assert!(!at_bottom(19_000.0, 480.0, content, 4.0));
        assert!(
            at_bottom(0.0, 480.0, content_px(10, 20.0), 4.0),
            "short lists always are"
        );
        assert_eq!(bottom(100.0, 480.0), 0.0);
    }
}
