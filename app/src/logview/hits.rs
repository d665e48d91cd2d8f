//! Search hits in a log line: where the needle is, and the line's styled runs cut again at the
//! hits' edges so the viewer can mark them without losing the colours. Apart from [`super::ansi`],
//! which only reads escapes.

use std::ops::Range;

use super::ansi::{Run, Style, Styled};

/// Byte ranges of `needle` in `text`, ASCII-case-insensitively (so offsets stay those of
/// `text`), not overlapping. An empty needle matches nothing.
pub fn find_all(text: &str, needle_lower: &str) -> Vec<Range<usize>> {
    if needle_lower.is_empty() || needle_lower.len() > text.len() {
        return Vec::new();
    }
    text.to_ascii_lowercase()
        .match_indices(needle_lower)
        .map(|(at, m)| at..at + m.len())
        .collect()
}

/// One piece of a row as drawn: a slice of the text in one style, inside a search hit or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub style: Style,
    pub hit: bool,
}

/// Cuts the line's runs further at the edges of the search hits.
pub fn pieces(line: &Styled, hits: &[Range<usize>]) -> Vec<Piece> {
    let whole = [Run {
        start: 0,
        end: line.text.len() as u32,
        style: Style::default(),
    }];
    let runs: &[Run] = if line.runs.is_empty() {
        &whole
    } else {
        &line.runs
    };
    let mut cuts: Vec<usize> = runs
        .iter()
        .flat_map(|r| [r.start as usize, r.end as usize])
        .chain(hits.iter().flat_map(|h| [h.start, h.end]))
        .filter(|&c| c <= line.text.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let Some(text) = line.text.get(a..b) else {
            continue;
        };
        let style = runs
            .iter()
            .find(|r| (r.start as usize) <= a && a < r.end as usize)
            .map(|r| r.style)
            .unwrap_or_default();
        let hit = hits.iter().any(|h| h.start <= a && a < h.end);
        out.push(Piece {
            text: text.to_string(),
            style,
            hit,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logview::ansi::parse;

    #[test]
    fn search_hits_cut_runs() {
        let s = parse("\x1b[31mError\x1b[0m: no error here");
        let hits = find_all(&s.text, "error");
        assert_eq!(hits, [0..5, 10..15]);
        let p = pieces(&s, &hits);
        let shown: Vec<(&str, bool, bool)> = p
            .iter()
            .map(|p| (p.text.as_str(), p.hit, p.style.fg.is_some()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Error", true, true),
                (": no ", false, false),
                ("error", true, false),
                (" here", false, false)
            ]
        );
        assert_eq!(pieces(&parse("plain"), &[]).len(), 1);
        assert!(find_all("abc", "").is_empty());
        // Non-ASCII text keeps its byte offsets.
        assert_eq!(find_all("Ünïcode ERR", "err"), vec![10..13]);
    }
}
