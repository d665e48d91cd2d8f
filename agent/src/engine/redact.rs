//! Secret values never leave the instance in a log line: every line a service or its build
//! prints is scrubbed here before it is kept or shipped. A secret is replaced wherever it appears
//! whole, and so is each line of a multi-line secret (a PEM key printed line by line), and its
//! encoded forms ([`forms`]: base64, %-encoding, JSON escapes).
//!
//! How long a value must be (audit L3): values shorter than [`MIN_SECRET`] bytes (`1`, `on`)
//! are never redacted: they occur in almost every line, so replacing them would mangle the logs,
//! and anyone able to get a string logged could confirm a guess by watching it disappear; such
//! values cannot be kept secret by a log filter anyway. Values shorter than [`MIN_SUBSTRING`]
//! (`true`, `admin`) are replaced only as whole words, not inside other words; from that length
//! on, anywhere, and in their encoded forms too.
//!
//! A line longer than `MAX_LINE_BYTES` arrives cut, with a note (`deploy::process::output`): if
//! a secret straddles the cut, its beginning ends the kept part, so whatever ends that part and
//! begins a secret is replaced too.

mod forms;

use std::collections::BTreeSet;

/// What replaces a secret in a log line.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not redacted at all (see the module doc).
pub const MIN_SECRET: usize = 4;

/// Shorter values are redacted as whole words only, and not in encoded forms.
pub const MIN_SUBSTRING: usize = 8;

/// The values to scrub for one service: every secret any of its releases on this instance was
/// given (a rollback may bring back an older one).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    /// Everything learnt, as given (and each line of the multi-line ones).
    values: BTreeSet<String>,
    /// Replaced wherever they appear; longest first, so a secret containing another is
    /// replaced whole.
    anywhere: Vec<String>,
    /// Replaced where they are a whole word.
    words: Vec<String>,
}

impl Redactor {
    /// Adds `values` (and each non-blank line of the multi-line ones).
    pub fn learn<'a>(&mut self, values: impl IntoIterator<Item = &'a String>) {
        for v in values {
            if !v.is_empty() {
                self.values.insert(v.clone());
            }
            if v.contains('\n') {
                self.values.extend(
                    v.lines()
                        .map(|l| l.trim_end_matches('\r'))
                        .filter(|l| !l.trim().is_empty())
                        .map(str::to_string),
                );
            }
        }
        let mut anywhere = BTreeSet::new();
        let mut words = BTreeSet::new();
        for v in &self.values {
            if v.len() < MIN_SECRET {
                continue;
            }
            if v.len() < MIN_SUBSTRING {
                words.insert(v.clone());
                continue;
            }
            anywhere.insert(v.clone());
            anywhere.extend(
                forms::encoded(v)
                    .into_iter()
                    .filter(|f| f.len() >= MIN_SUBSTRING),
            );
        }
        self.anywhere = anywhere.into_iter().collect();
        self.anywhere.sort_by_key(|n| std::cmp::Reverse(n.len()));
        self.words = words.into_iter().collect();
        self.words.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.anywhere.is_empty() && self.words.is_empty()
    }

    /// `line` with every secret replaced by [`REDACTED`].
    pub fn scrub(&self, line: &str) -> String {
        let (body, cut_note) = split_cut_note(line);
        let mut out = body.to_string();
        for n in &self.anywhere {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REDACTED);
            }
        }
        for w in &self.words {
            if out.contains(w.as_str()) {
                out = replace_words(&out, w);
            }
        }
        if let Some(note) = cut_note {
            self.scrub_cut_tail(&mut out);
            out.push_str(note);
        }
        out
    }

    /// Replaces the end of a cut line's kept part when it is the beginning of a secret: the
    /// rest of the secret was cut off, its start must not stay. The longest match wins; the
    /// kept part is cut anyway, so a false match only hides a few more of its last bytes.
    fn scrub_cut_tail(&self, out: &mut String) {
        let longest = self
            .anywhere
            .iter()
            .chain(&self.words)
            .filter_map(|n| {
                (1..n.len())
                    .rev()
                    .filter(|&k| n.is_char_boundary(k))
                    .find(|&k| out.ends_with(&n[..k]))
            })
            .max();
        if let Some(k) = longest {
            out.truncate(out.len() - k);
            out.push_str(REDACTED);
        }
    }
}

/// A line cut by `deploy::process::output` ends with ` [... N more bytes cut]`: the kept part
/// and that note.
fn split_cut_note(line: &str) -> (&str, Option<&str>) {
    const START: &str = " [... ";
    const END: &str = " more bytes cut]";
    if let Some(at) = line.rfind(START)
        && let Some(n) = line[at + START.len()..].strip_suffix(END)
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        return (&line[..at], Some(&line[at..]));
    }
    (line, None)
}

/// `text` with `word` replaced where neither neighbour is a letter, digit or `_`.
fn replace_words(text: &str, word: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(i) = text[from..].find(word) {
        let (at, end) = (from + i, from + i + word.len());
        let before = text[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after = text[end..].chars().next().is_none_or(|c| !is_word(c));
        if before && after {
            out.push_str(&text[copied..at]);
            out.push_str(REDACTED);
            (copied, from) = (end, end);
        } else {
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push_str(&text[copied..]);
    out
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
        r.learn([&"abcdefgh".to_string()]);
        r.learn([&"xxabcdefghxx".to_string()]);
        assert_eq!(
            r.scrub("1 xxabcdefghxx 2 abcdefgh"),
            "1 [redacted] 2 [redacted]"
        );
    }

    #[test]
    fn empty_values_scrub_nothing() {
        let mut r = Redactor::default();
        r.learn([&String::new()]);
        assert!(r.is_empty());
        assert_eq!(r.scrub("line"), "line");
    }

    /// What `script` prints on stdout, read the way a build's or a service's output is.
    async fn printed(script: &str, env: &[(&str, &str)]) -> Vec<String> {
        use crate::deploy::process::{self, CancellationToken, ShellCommand};
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = ShellCommand::new(script, dir.path());
        for (k, v) in env {
            cmd = cmd.env(*k, *v);
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let read = tokio::spawn(async move {
            let mut lines = Vec::new();
            while let Some(l) = rx.recv().await {
                lines.push(l);
            }
            lines
        });
        let exit = process::run(
            &cmd,
            tx,
            std::time::Duration::from_secs(20),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(exit.success(), "{exit:?}");
        read.await
            .unwrap()
            .into_iter()
            .map(|l: crate::deploy::LogLine| l.line)
            .collect()
    }

    #[tokio::test]
    async fn l3_a_secret_across_the_line_cut_is_redacted() {
        let secret = "s3cr3t-T0KEN-value-0123456789";
        let mut r = Redactor::default();
        r.learn([&secret.to_string()]);
        // The secret starts a few bytes before the 16 KiB cut: its start is kept, its end cut.
        let cut = crate::deploy::process::MAX_LINE_BYTES;
        for before in [cut - 12, cut - 3, cut - 1] {
            let lines = printed(
                &format!("printf '%{before}s%s\\n' '' \"$SECRET\""),
                &[("SECRET", secret)],
            )
            .await;
            assert_eq!(lines.len(), 1);
            assert!(lines[0].contains("more bytes cut]"), "the line was cut");
            let shown = r.scrub(&lines[0]);
            let kept = &shown[..shown.rfind(" [... ").unwrap()];
            let before_cut = &secret[..cut - before];
            assert!(
                kept.ends_with(REDACTED) && !kept.contains(before_cut),
                "{before_cut:?} was before the cut: {}",
                &shown[cut - 20..]
            );
        }
    }

    #[tokio::test]
    async fn l3_base64_and_percent_encoded_secrets_are_redacted() {
        let secret = "p@ss/w0rd+\"quoted\"";
        let mut r = Redactor::default();
        r.learn([&secret.to_string()]);
        let lines = printed(
            concat!(
                "printf 'Authorization: Basic %s\\n' \"$(printf 'deploy:%s' \"$SECRET\" | base64 -w0)\"; ",
                "printf 'token %s.\\n' \"$(printf '%s' \"$SECRET\" | base64 -w0)\"; ",
                "printf 'dsn=postgres://app:p%%40ss%%2Fw0rd%%2B%%22quoted%%22@db/app\\n'; ",
                "printf 'form: pw=p%%40ss%%2fw0rd%%2b%%22quoted%%22&x=1\\n'; ",
                "printf '{\"password\":\"p@ss\\\\/w0rd+\\\\\"quoted\\\\\"\"}\\n'; ",
                "printf '{\"password\":\"p@ss/w0rd+\\\\\"quoted\\\\\"\"}\\n'",
            ),
            &[("SECRET", secret)],
        )
        .await;
        assert_eq!(lines.len(), 6, "{lines:?}");
        let basic = "ZGVwbG95OnBAc3MvdzByZCsicXVvdGVkIg==";
        assert!(lines[0].ends_with(basic), "{lines:?}");
        assert!(lines[4].contains("\\/w0rd"), "{lines:?}");
        for line in &lines {
            let shown = r.scrub(line);
            assert!(shown.contains(REDACTED), "{line} -> {shown}");
            for leak in ["w0rd", "dzByZC", "w%2", "cXVvdGVk", "MHJkKyJx"] {
                assert!(!shown.contains(leak), "{line} -> {shown}");
            }
        }
    }

    #[test]
    fn short_values_are_redacted_as_words_and_tiny_ones_not_at_all() {
        let mut r = Redactor::default();
        r.learn(&["1".to_string(), "on".to_string(), "admin".to_string()]);
        assert_eq!(
            r.scrub("GET /admin/1 on admin_panel by admin"),
            "GET /[redacted]/1 on admin_panel by [redacted]"
        );
        assert_eq!(r.scrub("badminton"), "badminton");
    }
}
