//! Durations between the RFC 3339 times Base sends (`2026-11-27T01:23:45.123Z`, always UTC), so
//! a deployment's steps can say how long each took, the same text on server and client.

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, or `None` if it is not that.
pub fn epoch_ms(t: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, min, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // The fraction has as many digits as it needs ("…:01.5Z" is 500 ms).
    let ms = match t.get(19..).and_then(|rest| rest.strip_prefix('.')) {
        Some(frac) => {
            let digits: String = frac
                .chars()
                .take_while(char::is_ascii_digit)
                .take(3)
                .collect();
            format!("{digits:0<3}").parse::<i64>().ok()?
        }
        None => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm), valid for the proleptic Gregorian
    // calendar.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000 + s * 1000 + ms)
}

/// "850 ms", "12 s", "3 min 4 s", "2 h 5 min".
pub fn duration_text(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// How long from `from` to `to`, as text; `None` if either time does not parse.
pub fn between(from: &str, to: &str) -> Option<String> {
    Some(duration_text(epoch_ms(to)? - epoch_ms(from)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_base_times_and_measures_steps() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(epoch_ms("2000-03-01T00:00:01.5Z"), Some(951_868_801_500));
        assert_eq!(
            epoch_ms("2026-11-27T01:23:45.123Z"),
            Some(1_795_742_625_123)
        );
        assert_eq!(epoch_ms("yesterday"), None);
        assert_eq!(
            between("2026-11-27T01:23:45.123Z", "2026-11-27T01:25:50.000Z").as_deref(),
            Some("2 min 4 s")
        );
        assert_eq!(duration_text(850), "850 ms");
        assert_eq!(duration_text(7_500_000), "2 h 5 min");
    }
}
