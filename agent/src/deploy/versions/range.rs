//! Version numbers and the requirements the ecosystems write for them (`20`, `3.12`, `>=18 <21`,
//! `^20.1`, `~3.11`, `20.x`, `18 || 20`, Python's `>=3.9,<3.13` and `~=3.10`, Ruby's `~> 3.2`,
//! Composer's `^8.1 | ^7.4`). One small matcher instead of a dependency: the `semver` crate
//! wants three-part versions and knows neither `||` nor space-separated comparators, and no
//! single crate speaks every ecosystem's dialect.

use std::fmt;

/// A version a tool reported (`20.20.2`, `3.11.7`, `17.0.15`), compared by its first three
/// numbers (missing ones are 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    parts: Vec<u64>,
}

impl Version {
    /// The first version number in `text`: `v20.20.2`, `Python 3.11.7`, `go1.22.3`,
    /// `ruby 3.2.2 (2023-03-30 …)`.
    pub fn find(text: &str) -> Option<Version> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let parts: Vec<u64> = rest[..end]
            .split('.')
            .take_while(|p| !p.is_empty())
            .map_while(|p| p.parse().ok())
            .collect();
        (!parts.is_empty()).then_some(Version { parts })
    }

    /// The first three numbers, padded with zeros.
    pub fn key(&self) -> [u64; 3] {
        pad(&self.parts)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.parts.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

fn pad(parts: &[u64]) -> [u64; 3] {
    let mut out = [0; 3];
    for (slot, p) in out.iter_mut().zip(parts) {
        *slot = *p;
    }
    out
}

/// `parts` with the one at `i` incremented and everything after it zero: the exclusive upper
/// bound of `^`, `~` and partial `<=`.
fn bump(parts: &[u64], i: usize) -> [u64; 3] {
    let mut out = pad(&parts[..=i]);
    out[i] += 1;
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `20`, `=3.12`, `==3.11.*`: the version starts with these numbers.
    Prefix,
    /// `!=3.9.*`.
    NotPrefix,
    Gt,
    Ge,
    Lt,
    Le,
    /// `^20.1`: the same first non-zero number.
    Caret,
    /// `~3.11`: the same major and minor (only the major when just one is given).
    Tilde,
    /// Ruby's `~> 3.2` and Python's `~=3.10`: only the last given number may grow.
    Pessimistic,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    /// The numbers given: one to three; none for `*`.
    parts: Vec<u64>,
}

impl Comparator {
    fn matches(&self, v: [u64; 3]) -> bool {
        let n = self.parts.len();
        if n == 0 {
            return !matches!(self.op, Op::NotPrefix | Op::Gt | Op::Lt);
        }
        let lo = pad(&self.parts);
        let prefix = v[..n] == self.parts[..];
        match self.op {
            Op::Prefix => prefix,
            Op::NotPrefix => !prefix,
            Op::Ge => v >= lo,
            Op::Lt => v < lo,
            Op::Gt if n == 3 => v > lo,
            Op::Gt => v >= bump(&self.parts, n - 1),
            Op::Le if n == 3 => v <= lo,
            Op::Le => v < bump(&self.parts, n - 1),
            Op::Caret => {
                let i = self.parts.iter().position(|p| *p != 0).unwrap_or(n - 1);
                v >= lo && v < bump(&self.parts, i)
            }
            Op::Tilde => v >= lo && v < bump(&self.parts, if n == 1 { 0 } else { 1 }),
            Op::Pessimistic => v >= lo && v < bump(&self.parts, n.saturating_sub(2)),
        }
    }

    fn text(&self) -> String {
        let parts: Vec<String> = self.parts.iter().map(u64::to_string).collect();
        parts.join(".")
    }
}

/// A requirement: alternatives (`||`), each a set of comparators that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    text: String,
    alternatives: Vec<(String, Vec<Comparator>)>,
}

const OPS: [(&str, Op); 11] = [
    ("==", Op::Prefix),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("~>", Op::Pessimistic),
    ("~=", Op::Pessimistic),
    ("!=", Op::NotPrefix),
    (">", Op::Gt),
    ("<", Op::Lt),
    ("=", Op::Prefix),
    ("^", Op::Caret),
    ("~", Op::Tilde),
];

impl Range {
    /// Parses a requirement; `Err` says what is not understood.
    pub fn parse(text: &str) -> Result<Range, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("it is empty".into());
        }
        let mut alternatives = Vec::new();
        for alt in text.replace("||", "|").split('|') {
            let alt = alt.trim();
            if alt.is_empty() {
                return Err("an alternative between || is empty".into());
            }
            alternatives.push((alt.to_owned(), comparators(alt)?));
        }
        Ok(Range {
            text: text.to_owned(),
            alternatives,
        })
    }

    pub fn matches(&self, v: &Version) -> bool {
        let key = v.key();
        self.alternatives
            .iter()
            .any(|(_, cs)| cs.iter().all(|c| c.matches(key)))
    }

    /// Whether some version starting `major.minor` matches: which `python3.X` is worth asking.
    pub fn allows_minor(&self, major: u64, minor: u64) -> bool {
        let mut patches = vec![0, u64::MAX / 2];
        for (_, cs) in &self.alternatives {
            for c in cs {
                if c.parts.len() == 3 && c.parts[..2] == [major, minor] {
                    patches.extend([c.parts[2], c.parts[2] + 1, c.parts[2].saturating_sub(1)]);
                }
            }
        }
        patches.into_iter().any(|p| {
            let v = [major, minor, p];
            self.alternatives
                .iter()
                .any(|(_, cs)| cs.iter().all(|c| c.matches(v)))
        })
    }

    /// What to install, in few words: `22+` for `>=22`, `3.12` for `3.12` or `^3.12`, the
    /// first alternative as written otherwise.
    pub fn suggest(&self) -> String {
        let (text, cs) = &self.alternatives[0];
        match cs.as_slice() {
            [c] if c.op == Op::Ge => format!("{}+", c.text()),
            [c] if c.op == Op::Gt => {
                let next = bump(&c.parts, c.parts.len() - 1);
                let next = &next[..c.parts.len()];
                let next: Vec<String> = next.iter().map(u64::to_string).collect();
                format!("{}+", next.join("."))
            }
            [c] if matches!(c.op, Op::Prefix | Op::Caret | Op::Tilde | Op::Pessimistic)
                && !c.parts.is_empty() =>
            {
                c.text()
            }
            _ => text.clone(),
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The comparators of one alternative: separated by spaces or commas; an operator may stand
/// apart from its version (`>= 18`); `A - B` is npm's inclusive range.
fn comparators(alt: &str) -> Result<Vec<Comparator>, String> {
    let tokens: Vec<&str> = alt
        .split([' ', ',', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let mut token = tokens[i].to_owned();
        if tokens.get(i + 1) == Some(&"-") && i + 2 < tokens.len() {
            out.push(comparator(&format!(">={token}"))?);
            out.push(comparator(&format!("<={}", tokens[i + 2]))?);
            i += 3;
            continue;
        }
        if token.chars().all(|c| "<>=!~^".contains(c)) {
            let next = tokens
                .get(i + 1)
                .ok_or_else(|| format!("{token:?} has no version after it"))?;
            token.push_str(next);
            i += 1;
        }
        out.push(comparator(&token)?);
        i += 1;
    }
    Ok(out)
}

fn comparator(token: &str) -> Result<Comparator, String> {
    let (op, rest) = OPS
        .iter()
        .find_map(|(s, op)| token.strip_prefix(s).map(|rest| (*op, rest)))
        .unwrap_or((Op::Prefix, token));
    let bad = || format!("{token:?} is not a version like 20, 3.12 or >=18");
    let rest = rest.trim().trim_start_matches(['v', 'V']);
    // Pre-release and build tags (`18.0.0-rc.1`, `1.21rc1`) do not change the numbers asked for.
    let rest = rest.split(['-', '+']).next().unwrap_or_default();
    let mut parts = Vec::new();
    for part in rest.split('.') {
        if matches!(part, "x" | "X" | "*") {
            break;
        }
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || parts.len() == 3 {
            return Err(bad());
        }
        parts.push(digits.parse().map_err(|_| bad())?);
        if digits.len() != part.len() {
            break;
        }
    }
    if parts.is_empty() && !matches!(rest, "x" | "X" | "*") {
        return Err(bad());
    }
    Ok(Comparator { op, parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::find(s).unwrap()
    }

    /// Checks that `range` matches each of `yes` and none of `no`.
    #[track_caller]
    fn allows(range: &str, yes: &[&str], no: &[&str]) {
        let r = Range::parse(range).unwrap();
        for s in yes {
            assert!(r.matches(&v(s)), "{range} should match {s}");
        }
        for s in no {
            assert!(!r.matches(&v(s)), "{range} should not match {s}");
        }
    }

    #[test]
    fn versions_are_found_in_what_the_tools_print() {
        assert_eq!(v("v20.20.2").to_string(), "20.20.2");
        assert_eq!(v("Python 3.11.7\n").to_string(), "3.11.7");
        assert_eq!(v("go version go1.22.3 linux/amd64").to_string(), "1.22.3");
        assert_eq!(
            v("ruby 3.2.2 (2023-03-30 revision e51014f9c0)").key(),
            [3, 2, 2]
        );
        assert_eq!(v("8.0.100").key(), [8, 0, 100]);
        assert_eq!(Version::find("no digits"), None);
    }

    #[test]
    fn a_bare_version_is_a_prefix() {
        allows("20", &["20.0.0", "20.20.2"], &["2.0.0", "21.0.0", "19.9.9"]);
        allows(
            "3.12",
            &["3.12.0", "3.12.7"],
            &["3.1.2", "3.13.0", "3.11.9"],
        );
        allows("1.22.3", &["1.22.3"], &["1.22.4"]);
        allows("20.x", &["20.1.0"], &[]);
        allows("==3.11.*", &["3.11.7"], &[]);
        allows("!=3.11.*", &[], &["3.11.7"]);
        allows("*", &["1.0.0"], &[]);
    }

    #[test]
    fn comparators_caret_tilde_and_pessimistic() {
        allows(">=18", &["18.0.0", "20.20.2"], &[]);
        allows(">=22", &[], &["20.20.2"]);
        allows(">20", &["21.0.0"], &["20.9.0"]);
        allows("<=20", &["20.99.0"], &["21.0.0"]);
        allows("<3.12", &[], &["3.12.0"]);
        allows("^20.1", &["20.1.0", "20.9.9"], &["20.0.9", "21.0.0"]);
        allows("^0.2.3", &["0.2.9"], &["0.3.0"]);
        allows("~3.11", &["3.11.7"], &["3.12.0"]);
        allows("~> 3.2", &["3.9.0"], &["4.0.0", "3.1.0"]);
        allows("~=3.10.2", &["3.10.9"], &["3.11.0"]);
    }

    #[test]
    fn spaces_commas_alternatives_and_hyphen_ranges() {
        allows(">=18 <21", &["18.0.0", "20.20.2"], &["21.0.0", "16.0.0"]);
        allows(">= 18.0.0", &["20.20.2"], &[]);
        allows(">=3.9,<3.13", &["3.11.7"], &["3.13.0"]);
        allows("18 || 20", &["18.2.0", "20.20.2"], &["19.0.0"]);
        allows("^7.4 | ^8.0", &["8.2.7"], &[]);
        allows("18 - 20", &["20.20.2", "18.0.0"], &["21.0.0"]);
        allows(">=18.0.0-rc.1", &["20.20.2"], &[]);
    }

    #[test]
    fn nonsense_is_refused_with_the_token() {
        for bad in ["", "lts/iron", "latest", ">=", "1.2.3.4", "18 ||"] {
            assert!(Range::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Range::parse("node").unwrap_err().contains("\"node\""));
    }

    #[test]
    fn suggestions_and_minor_versions() {
        let s = |r: &str| Range::parse(r).unwrap().suggest();
        assert_eq!(s(">=22"), "22+");
        assert_eq!(s(">99"), "100+");
        assert_eq!(s("3.12"), "3.12");
        assert_eq!(s("^20.1"), "20.1");
        assert_eq!(s(">=18 <21"), ">=18 <21");
        let r = Range::parse("3.12.1").unwrap();
        assert!(r.allows_minor(3, 12));
        assert!(!r.allows_minor(3, 11));
        assert!(Range::parse(">=3.10").unwrap().allows_minor(3, 13));
        assert!(!Range::parse(">3.12.4 <3.12.6").unwrap().allows_minor(3, 11));
        assert!(Range::parse(">3.12.4 <3.12.6").unwrap().allows_minor(3, 12));
    }
}
