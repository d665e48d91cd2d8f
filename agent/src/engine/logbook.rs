//! Each service's recent output, build and runtime, kept in a bounded ring on the agent: the
//! tail goes with a failed deployment's report, and the whole ring is what a log viewer gets
//! first. Older lines are dropped, and the ring says how many.

use std::collections::VecDeque;

use crate::deploy::{LogLine, Stream};

/// Lines kept per service.
pub const KEPT_LINES: usize = 10_000;
/// Lines sent with a failed deployment.
pub const TAIL_LINES: usize = 20;

#[derive(Debug, Default)]
pub struct LogBook {
    lines: VecDeque<LogLine>,
    dropped: u64,
}

impl LogBook {
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == KEPT_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }

    /// The last `n` lines, stderr marked, oldest first.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let skip = self.lines.len().saturating_sub(n);
        self.lines
            .iter()
            .skip(skip)
            .map(|l| match l.stream {
                Stream::Stdout => l.line.clone(),
                Stream::Stderr => format!("[stderr] {}", l.line),
            })
            .collect()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, stream: Stream) -> LogLine {
        LogLine {
            at_ms: n as i64,
            stream,
            line: format!("line {n}"),
        }
    }

    #[test]
    fn the_ring_is_bounded_and_counts_what_it_dropped() {
        let mut book = LogBook::default();
        for n in 0..KEPT_LINES + 5 {
            book.push(line(n, Stream::Stdout));
        }
        assert_eq!(book.len(), KEPT_LINES);
        assert_eq!(book.dropped(), 5);
        book.push(line(1, Stream::Stderr));
        assert_eq!(
            book.tail(2),
            [format!("line {}", KEPT_LINES + 4), "[stderr] line 1".into()]
        );
    }
}
