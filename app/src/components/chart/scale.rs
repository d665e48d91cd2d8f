//! A chart's arithmetic, apart from drawing it: the units values are shown in, a round top for
//! the value axis, the SVG path of a series (broken where points are missing) and the time
//! labels. Pure functions, so the server and the browser draw the same chart and tests can pin
//! the numbers.

/// What a series measures, which decides how its values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Percent (of one core for a service's CPU, of the machine or the disk for an instance).
    Percent,
    Bytes,
    BytesPerSec,
    /// A plain number (restarts, load, requests).
    Count,
    /// A duration given in milliseconds (request latency).
    Millis,
}

impl Unit {
    /// `v` as people read it: "12.5 %", "340 MB", "1.2 GB", "15 kB/s", "3", "4.2 ms".
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{} %", short(v)),
            Unit::Bytes => bytes(v),
            Unit::BytesPerSec => format!("{}/s", bytes(v)),
            Unit::Count => short(v),
            Unit::Millis if v.abs() >= 1000.0 => format!("{} s", short(v / 1000.0)),
            Unit::Millis => format!("{} ms", short(v)),
        }
    }
}

/// Up to three significant digits, no trailing ".0".
fn short(v: f64) -> String {
    let a = v.abs();
    let text = if a == 0.0 || a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Decimal units, as disks and network links are sold.
fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = v;
    let mut i = 0;
    while v.abs() >= 1000.0 && i + 1 < UNITS.len() {
        v /= 1000.0;
        i += 1;
    }
    format!("{} {}", short(v), UNITS[i])
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v` (at least `floor`): a top for the value axis
/// whose labels read well.
pub fn nice_ceiling(v: f64, floor: f64) -> f64 {
    let v = v.max(floor);
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Where the plot sits in the SVG's coordinates and what it spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    /// The time span shown, in ms since the epoch.
    pub t0: i64,
    pub t1: i64,
    /// The value at the top edge (the bottom is 0).
    pub top_value: f64,
}

impl Frame {
    pub fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        self.left + (t - self.t0) as f64 / span * self.width
    }

    pub fn y(&self, v: f64) -> f64 {
        let v = v.clamp(0.0, self.top_value);
        self.top + self.height - v / self.top_value * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

/// Runs of `points` (time-ordered) with no gap longer than `gap_ms` and inside the frame's span.
fn runs(points: &[(i64, f64)], frame: &Frame, gap_ms: i64) -> Vec<Vec<(i64, f64)>> {
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut last: Option<i64> = None;
    for &(t, v) in points
        .iter()
        .filter(|(t, _)| *t >= frame.t0 && *t <= frame.t1)
    {
        match (out.last_mut(), last) {
            (Some(run), Some(prev)) if t - prev <= gap_ms => run.push((t, v)),
            _ => out.push(vec![(t, v)]),
        }
        last = Some(t);
    }
    out
}

/// The SVG path of a line through `points`, lifted where two points are more than `gap_ms`
/// apart (the agent was away: no line pretends to know what happened). A lone point is a short
/// dash, so it still shows.
pub fn line_path(points: &[(i64, f64)], frame: &Frame, gap_ms: i64) -> String {
    let mut d = String::new();
    for run in runs(points, frame, gap_ms) {
        for (i, &(t, v)) in run.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            d.push_str(&format!("{cmd}{:.1} {:.1} ", frame.x(t), frame.y(v)));
        }
        if run.len() == 1 {
            d.push_str("h2 ");
        }
    }
    d.trim_end().to_string()
}

/// The area under the same line, closed down to the axis, run by run.
pub fn area_path(points: &[(i64, f64)], frame: &Frame, gap_ms: i64) -> String {
    let mut d = String::new();
    for run in runs(points, frame, gap_ms) {
        let (first, last) = (run[0].0, run[run.len() - 1].0);
        d.push_str(&format!("M{:.1} {:.1} ", frame.x(first), frame.bottom()));
        for &(t, v) in &run {
            d.push_str(&format!("L{:.1} {:.1} ", frame.x(t), frame.y(v)));
        }
        d.push_str(&format!("L{:.1} {:.1} Z ", frame.x(last), frame.bottom()));
    }
    d.trim_end().to_string()
}

/// A time-axis label in UTC: "14:05" for spans up to a day, "12-05" (month-day) beyond.
pub fn time_label(ms: i64, span_ms: i64) -> String {
    const DAY: i64 = 86_400_000;
    let (days, in_day) = (ms.div_euclid(DAY), ms.rem_euclid(DAY));
    if span_ms <= DAY {
        let minutes = in_day / 60_000;
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    } else {
        let (_, m, d) = civil_from_days(days);
        format!("{m:02}-{d:02}")
    }
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            left: 0.0,
            top: 0.0,
            width: 100.0,
            height: 50.0,
            t0: 0,
            t1: 100_000,
            top_value: 10.0,
        }
    }

    #[test]
    fn values_read_in_their_units() {
        assert_eq!(Unit::Percent.format(12.5), "12.5 %");
        assert_eq!(Unit::Percent.format(0.0), "0 %");
        assert_eq!(Unit::Bytes.format(340_000_000.0), "340 MB");
        assert_eq!(Unit::Bytes.format(1_234_567_890.0), "1.23 GB");
        assert_eq!(Unit::BytesPerSec.format(15_000.0), "15 kB/s");
        assert_eq!(Unit::Count.format(3.0), "3");
        assert_eq!(Unit::Millis.format(4.25), "4.25 ms");
        assert_eq!(Unit::Millis.format(1500.0), "1.5 s");
    }

    #[test]
    fn the_axis_top_is_a_round_number_at_or_above_the_largest_value() {
        assert_eq!(nice_ceiling(0.3, 0.0), 0.5);
        assert_eq!(nice_ceiling(7.0, 0.0), 10.0);
        assert_eq!(nice_ceiling(100.0, 0.0), 100.0);
        assert_eq!(nice_ceiling(101.0, 0.0), 200.0);
        assert_eq!(nice_ceiling(0.0, 1.0), 1.0);
        assert_eq!(nice_ceiling(0.0, 0.0), 1.0);
    }

    #[test]
    fn a_line_breaks_where_points_are_missing_and_stays_in_the_frame() {
        let f = frame();
        let points = [
            (0, 0.0),
            (10_000, 5.0),
            (20_000, 20.0),
            (80_000, 10.0),
            (200_000, 1.0),
        ];
        assert_eq!(
            line_path(&points, &f, 15_000),
            "M0.0 50.0 L10.0 25.0 L20.0 0.0 M80.0 0.0 h2"
        );
        assert_eq!(
            area_path(&points[..2], &f, 15_000),
            "M0.0 50.0 L0.0 50.0 L10.0 25.0 L10.0 50.0 Z"
        );
        assert_eq!(line_path(&[], &f, 15_000), "");
    }

    #[test]
    fn time_labels_are_utc_clock_times_or_dates() {
        // 2026-11-27T01:23:45Z
        let t = 1_795_742_625_000;
        assert_eq!(time_label(t, 3_600_000), "01:23");
        assert_eq!(time_label(t, 7 * 86_400_000), "11-27");
    }
}
