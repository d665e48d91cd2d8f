//! A highlighter that knows no language: strings, numbers, comments (`#`, `//`, `--`, `;` at a
//! line's start) and brackets look alike in most text files, so marking those helps reading a
//! config or a script without guessing what it is. Output is text pieces with a CSS class; text
//! is only ever text (never markup).

/// The pieces of one line, each with its class (`""` for plain text).
pub fn line(text: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let push = |out: &mut Vec<(&'static str, String)>, class: &'static str, s: &str| {
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((c, t)) if *c == class => t.push_str(s),
            _ => out.push((class, s.to_string())),
        }
    };
    let trimmed = text.trim_start();
    for marker in ["#", "//", "--", ";"] {
        if trimmed.starts_with(marker) {
            push(&mut out, "hl-comment", text);
            return out;
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            push(
                &mut out,
                "hl-string",
                &chars[start..i].iter().collect::<String>(),
            );
        } else if c.is_ascii_digit()
            && (i == 0 || !chars[i - 1].is_alphanumeric() && chars[i - 1] != '_')
        {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            push(
                &mut out,
                "hl-number",
                &chars[start..i].iter().collect::<String>(),
            );
        } else if (c == '#' && i > 0 && chars[i - 1].is_whitespace())
            || (c == '/' && chars.get(i + 1) == Some(&'/') && (i == 0 || chars[i - 1] != ':'))
        {
            // A trailing comment: `# …` after a space, or `// …` (not a URL's `://`).
            push(
                &mut out,
                "hl-comment",
                &chars[i..].iter().collect::<String>(),
            );
            break;
        } else if "{}[]()".contains(c) {
            push(&mut out, "hl-bracket", &c.to_string());
            i += 1;
        } else {
            push(&mut out, "", &c.to_string());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn strings_numbers_and_comments_are_marked_and_nothing_is_lost() {
        let l = r#"port = 8080 # the "main" one"#;
        let parts = line(l);
        assert_eq!(parts.iter().map(|(_, t)| t.as_str()).collect::<String>(), l);
        assert!(parts.contains(&("hl-number", "8080".into())));
        assert!(parts.contains(&("hl-comment", r#"# the "main" one"#.into())));
        let js = r#"fetch("http://x/y") // call"#;
        let parts = line(js);
        assert!(
            parts.contains(&("hl-string", r#""http://x/y""#.into())),
            "{parts:?}"
        );
        assert!(parts.contains(&("hl-comment", "// call".into())));
        assert_eq!(line("  # all comment")[0].0, "hl-comment");
        assert_eq!(line("v2 = a1"), vec![("", "v2 = a1".to_string())]);
    }
}
