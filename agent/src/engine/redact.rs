//! Secret values never leave the instance in a log line: every line a service or its build
//! prints is scrubbed here before it is kept or shipped. A secret is replaced wherever it appears
//! whole, and so is each line of a multi-line secret (a PEM key printed line by line).

use std::collections::BTreeSet;

/// What replaces a secret in a log line.
pub const REDACTED: &str = "[redacted]";

/// The values to scrub for one service: every secret any of its releases on this instance was
/// given (a rollback may bring back an older one).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    needles: Vec<String>,
}

impl Redactor {
    /// Adds `values` (and each non-blank line of the multi-line ones).
    pub fn learn<'a>(&mut self, values: impl IntoIterator<Item = &'a String>) {
        let mut all: BTreeSet<String> = self.needles.drain(..).collect();
        for v in values {
            if !v.is_empty() {
                all.insert(v.clone());
            }
            if v.contains('\n') {
                all.extend(
                    v.lines()
                        .map(|l| l.trim_end_matches('\r'))
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string),
                );
            }
        }
        self.needles = all.into_iter().collect();
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `line` with every secret replaced by [`REDACTED`].
    pub fn scrub(&self, line: &str) -> String {
        let mut out = line.to_string();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_and_each_line_of_a_multi_line_value_are_replaced() {
        let mut r = Redactor::default();
        let key = "-----BEGIN KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END KEY-----".to_string();
        r.learn([&"hunter2".to_string(), &key]);
        assert_eq!(r.scrub("password=hunter2 ok"), "password=[redacted] ok");
        assert_eq!(
            r.scrub(&key.replace('\n', " ")),
            "[redacted] [redacted] [redacted]"
        );
        assert_eq!(r.scrub("c2VjcmV0LWtleS1ib2R5"), "[redacted]");
        assert_eq!(r.scrub("nothing here"), "nothing here");
    }

    #[test]
    fn a_secret_containing_another_is_replaced_whole() {
        let mut r = Redactor::default();
        r.learn([&"abc".to_string()]);
        r.learn([&"xxabcxx".to_string()]);
        assert_eq!(r.scrub("1 xxabcxx 2 abc"), "1 [redacted] 2 [redacted]");
    }

    #[test]
    fn empty_values_scrub_nothing() {
        let mut r = Redactor::default();
        r.learn([&String::new()]);
        assert!(r.is_empty());
        assert_eq!(r.scrub("line"), "line");
    }
}
