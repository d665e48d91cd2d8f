//! What the browser keeps of a log: the newest [`CAP`] lines, parsed once as they arrive, with
//! a count of the older ones it let go, and the search (the rows that match, kept up to date as
//! lines arrive and leave, so typing or following never rescans more than once).

use std::collections::VecDeque;

use proto::api::LogLine;
use proto::wire::LogStream;

use super::ansi::{self, Styled};
use super::hits;
use crate::components::time::epoch_ms;

/// Lines the browser holds. At about 150 bytes a line that is some 15 MB of WASM memory; a
/// service that printed more is still complete on the server (and in the CLI).
pub const CAP: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Base's number; 0 for notes of Base's own ("older lines were dropped").
    pub seq: i64,
    /// Milliseconds since the epoch, `None` for Base's notes.
    pub at_ms: Option<i64>,
    pub stream: LogStream,
    pub line: Styled,
}

#[derive(Debug, Clone, Default)]
pub struct LogBuffer {
    lines: VecDeque<Entry>,
    cap: usize,
    /// The absolute number of `lines[0]` (lines ever pushed before it).
    offset: u64,
    /// The highest `seq` seen, so a resumed stream's repeats are skipped.
    last_seq: i64,
    /// The search, lower-cased, and the absolute numbers of the lines that match it.
    needle: String,
    hits: VecDeque<u64>,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        LogBuffer {
            cap: cap.max(1),
            ..Default::default()
        }
    }

    /// Appends `lines` in order; ones at or below the last `seq` seen are repeats and skipped.
    pub fn extend(&mut self, lines: impl IntoIterator<Item = LogLine>) {
        for l in lines {
            if l.seq > 0 {
                if l.seq <= self.last_seq {
                    continue;
                }
                self.last_seq = l.seq;
            }
            let entry = Entry {
                seq: l.seq,
                at_ms: epoch_ms(&l.at),
                stream: l.stream,
                line: ansi::parse(&l.line),
            };
            let abs = self.offset + self.lines.len() as u64;
            if self.matches(&entry) {
                self.hits.push_back(abs);
            }
            self.lines.push_back(entry);
            if self.lines.len() > self.cap {
                self.lines.pop_front();
                self.offset += 1;
                while self.hits.front().is_some_and(|&h| h < self.offset) {
                    self.hits.pop_front();
                }
            }
        }
    }

    fn matches(&self, e: &Entry) -> bool {
        !self.needle.is_empty() && !hits::find_all(&e.line.text, &self.needle).is_empty()
    }

    /// Shows only the lines containing `needle` (ASCII case-insensitive); empty shows all.
    pub fn set_search(&mut self, needle: &str) {
        let needle = needle.to_ascii_lowercase();
        if needle == self.needle {
            return;
        }
        self.needle = needle;
        self.hits.clear();
        if self.needle.is_empty() {
            return;
        }
        let hits: VecDeque<u64> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, e)| self.matches(e))
            .map(|(i, _)| self.offset + i as u64)
            .collect();
        self.hits = hits;
    }

    pub fn needle(&self) -> &str {
        &self.needle
    }

    pub fn searching(&self) -> bool {
        !self.needle.is_empty()
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Lines the browser let go to stay within its cap.
    pub fn dropped(&self) -> u64 {
        self.offset
    }

    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Lines matching the search.
    pub fn match_count(&self) -> usize {
        self.hits.len()
    }

    /// Rows the view shows: every line, or the matching ones while searching.
    pub fn rows(&self) -> usize {
        if self.searching() {
            self.hits.len()
        } else {
            self.lines.len()
        }
    }

    /// Row `i` of the view and its line's absolute number (a stable key while it is held).
    pub fn row(&self, i: usize) -> Option<(u64, &Entry)> {
        let abs = if self.searching() {
            *self.hits.get(i)?
        } else {
            self.offset + i as u64
        };
        let entry = self.lines.get((abs - self.offset) as usize)?;
        Some((abs, entry))
    }
}

/// Splits a byte stream into complete lines; a line cut between two chunks waits for the rest.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// The log lines completed by `chunk`; lines that are not a [`LogLine`] are skipped.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<LogLine> {
        self.partial.extend_from_slice(chunk);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        complete
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect()
    }
}

/// `HH:MM:SS.mmm` of an epoch time, in UTC (what Base stores and sends).
pub fn clock_text(ms: i64) -> String {
    let day = ms.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day / 3_600_000,
        day / 60_000 % 60,
        day / 1000 % 60,
        day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: i64, text: &str) -> LogLine {
        LogLine {
            seq,
            at: "2026-11-27T01:23:45.123Z".into(),
            stream: LogStream::Stdout,
            deployment_id: None,
            line: text.into(),
        }
    }

    fn texts(b: &LogBuffer) -> Vec<String> {
        (0..b.rows())
            .map(|i| b.row(i).expect("row in range").1.line.text.clone())
            .collect()
    }

    #[test]
    fn keeps_the_newest_lines_and_counts_the_rest() {
        let mut b = LogBuffer::new(3);
        b.extend((1..=5).map(|n| line(n, &format!("line {n}"))));
        assert_eq!(texts(&b), ["line 3", "line 4", "line 5"]);
        assert_eq!(b.dropped(), 2);
        assert_eq!(b.row(0).map(|(abs, _)| abs), Some(2));
        assert_eq!(b.last_seq(), 5);
    }

    #[test]
    fn skips_repeats_after_a_resume_but_keeps_notes() {
        let mut b = LogBuffer::new(10);
        b.extend([line(1, "a"), line(2, "b")]);
        b.extend([line(2, "b"), line(0, "[dployr] note"), line(3, "c")]);
        assert_eq!(texts(&b), ["a", "b", "[dployr] note", "c"]);
    }

    #[test]
    fn search_follows_new_and_dropped_lines() {
        let mut b = LogBuffer::new(4);
        b.extend([
            line(1, "GET /"),
            line(2, "\x1b[31mERROR\x1b[0m x"),
            line(3, "get /a"),
        ]);
        b.set_search("Get");
        assert_eq!(texts(&b), ["GET /", "get /a"]);
        assert_eq!(b.match_count(), 2);
        b.extend([line(4, "post"), line(5, "GET /b"), line(6, "x")]);
        // Lines 1 and 2 were dropped; the hit on line 1 went with it.
        assert_eq!(texts(&b), ["get /a", "GET /b"]);
        // The escape codes are not searched, the text is.
        b.set_search("31m");
        assert_eq!(b.match_count(), 0);
        b.set_search("");
        assert_eq!(b.rows(), 4);
        assert!(!b.searching());
    }

    #[test]
    fn splits_ndjson_across_chunks() {
        let mut s = LineSplitter::default();
        let json = serde_json::to_string(&line(7, "hello")).expect("serialises");
        let (a, b) = json.split_at(10);
        assert!(s.push(a.as_bytes()).is_empty());
        let got = s.push(format!("{b}\nnot json\n").as_bytes());
        assert_eq!(got, [line(7, "hello")]);
    }

    #[test]
    fn clock_text_is_utc_with_milliseconds() {
        assert_eq!(
            clock_text(epoch_ms("2026-11-27T01:23:45.123Z").expect("parses")),
            "01:23:45.123"
        );
    }
}
