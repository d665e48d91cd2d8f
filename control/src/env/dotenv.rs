//! A `.env` file reader for bulk import. Deliberately small and literal: `KEY=value` lines,
//! optional `export `, `#` comments, single quotes (verbatim), double quotes (with `\n`, `\t`,
//! `\"`, `\\` escapes, and spanning lines). No `$VAR` expansion: expanding from Base's own
//! environment would leak it into a service (which is why we do not use a general crate).

/// A line the reader could not make sense of, numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// The variables of a `.env` text, in order (a repeated key keeps its last value).
pub fn parse(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut out: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start_matches('\u{feff}').trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let err = |message: &str| ParseError {
            line: number,
            message: message.to_string(),
        };
        let (key, rest) = line
            .split_once('=')
            .ok_or_else(|| err("expected KEY=value"))?;
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(err("the name before = is empty"));
        }
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('\'') {
            let end = body
                .find('\'')
                .ok_or_else(|| err("unclosed single quote"))?;
            body[..end].to_string()
        } else if let Some(body) = rest.strip_prefix('"') {
            let mut raw = body.to_string();
            loop {
                if let Some(end) = closing_quote(&raw) {
                    raw.truncate(end);
                    break;
                }
                let Some(next) = lines.get(i) else {
                    return Err(err("unclosed double quote"));
                };
                raw.push('\n');
                raw.push_str(next);
                i += 1;
            }
            unescape(&raw)
        } else {
            // Unquoted: up to an inline comment (` #`), trimmed.
            let cut = rest.find(" #").unwrap_or(rest.len());
            rest[..cut].trim().to_string()
        };
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    Ok(out)
}

/// Byte index of the first `"` not escaped by a backslash.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    #[test]
    fn reads_the_usual_forms() {
        let text = "# comment\n\nA=1\nexport B = two words \nC='single $HOME \\n'\n\
                    D=\"x\\ny \\\"q\\\"\"\nE=val # note\nA=last\nF=\nG=a=b\n";
        let got = pairs(text);
        let want: Vec<(String, String)> = [
            ("B", "two words"),
            ("C", "single $HOME \\n"),
            ("D", "x\ny \"q\""),
            ("E", "val"),
            ("A", "last"),
            ("F", ""),
            ("G", "a=b"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn double_quotes_span_lines() {
        let got = pairs("KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nNEXT=1");
        assert_eq!(got[0].1, "-----BEGIN KEY-----\nabc\n-----END KEY-----");
        assert_eq!(got[1], ("NEXT".to_string(), "1".to_string()));
    }

    #[test]
    fn no_expansion_of_variables() {
        assert_eq!(pairs("A=$PATH")[0].1, "$PATH");
        assert_eq!(pairs("A=\"${HOME}\"")[0].1, "${HOME}");
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        assert_eq!(parse("A=1\nnot a pair").unwrap_err().line, 2);
        assert_eq!(
            parse("A='open").unwrap_err().message,
            "unclosed single quote"
        );
        assert_eq!(parse("A=\"open\nB=1").unwrap_err().line, 1);
        assert_eq!(parse("=1").unwrap_err().line, 1);
    }
}
