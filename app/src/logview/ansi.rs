//! ANSI escape sequences → plain text plus styled runs, so the log viewer can show a build's
//! colours as `<span>`s with classes and inline colours and never as markup: the text is only
//! ever inserted as text nodes, so a line that says `<script>` stays those eight characters.
//!
//! Only SGR (`ESC [ … m`) changes how text looks: the 16 palette colours (classes, so the theme
//! can pick readable shades), 256-colour and truecolor foreground and background (inline `rgb()`),
//! bold, dim, italic, underline, inverse, and their resets. Every other escape (cursor moves, OSC
//! titles and links) is dropped. Each line starts unstyled: a service's stdout and stderr are
//! interleaved line by line, so carrying a colour over from the previous line would as often be
//! wrong as right. A carriage return starts the line over, as a terminal would show a progress
//! bar's last state.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// 0–255: 0–15 are the theme's palette, 16–255 the xterm cube and greys.
    Indexed(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

/// Bytes `start..end` of [`Styled::text`] drawn in `style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: u32,
    pub end: u32,
    pub style: Style,
}

/// A line without its escapes. `runs` cover `text` in order without gaps; a line that is all
/// default style has none (most lines: no allocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Styled {
    pub text: String,
    pub runs: Vec<Run>,
}

const ESC: char = '\u{1b}';

/// Splits `line` into its text and styled runs.
pub fn parse(line: &str) -> Styled {
    if !line.contains(|c: char| c.is_control() && c != '\t') {
        return Styled {
            text: line.to_string(),
            runs: Vec::new(),
        };
    }
    let mut out = Builder::default();
    let mut chars = line.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            ESC => match chars.peek().map(|&(_, c)| c) {
                Some('[') => {
                    chars.next();
                    let mut params = String::new();
                    let mut fin = None;
                    for (_, c) in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            fin = Some(c);
                            break;
                        }
                        params.push(c);
                    }
                    if fin == Some('m') {
                        out.style = apply_sgr(out.style, &params);
                    }
                }
                Some(']') => {
                    // OSC: up to BEL or ST (ESC \).
                    chars.next();
                    while let Some((_, c)) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == ESC {
                            chars.next_if(|&(_, c)| c == '\\');
                            break;
                        }
                    }
                }
                // Two-character escapes and charset designations (`ESC ( B`): intermediate
                // bytes, then one final character.
                Some(_) => {
                    while chars.next_if(|&(_, c)| (' '..='/').contains(&c)).is_some() {}
                    chars.next();
                }
                None => {}
            },
            '\r' => out.restart(),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.finish()
}

#[derive(Default)]
struct Builder {
    text: String,
    runs: Vec<Run>,
    style: Style,
}

impl Builder {
    fn push(&mut self, c: char) {
        let at = self.text.len() as u32;
        self.text.push(c);
        let end = self.text.len() as u32;
        match self.runs.last_mut() {
            Some(r) if r.style == self.style && r.end == at => r.end = end,
            _ => self.runs.push(Run {
                start: at,
                end,
                style: self.style,
            }),
        }
    }

    fn restart(&mut self) {
        self.text.clear();
        self.runs.clear();
    }

    fn finish(mut self) -> Styled {
        if self.runs.iter().all(|r| r.style == Style::default()) {
            self.runs.clear();
        }
        Styled {
            text: self.text,
            runs: self.runs,
        }
    }
}

/// One SGR parameter list (`1;38;5;208`, `38:2::255:0:0`, or empty for a reset).
fn apply_sgr(mut s: Style, params: &str) -> Style {
    let num = |p: &str| p.parse::<u16>().unwrap_or(0);
    let groups: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < groups.len() {
        let group = groups[i];
        i += 1;
        // `38:5:n` / `38:2:[space:]r:g:b`: the colon form carries its arguments inside.
        if group.contains(':') {
            let sub: Vec<u16> = group.split(':').map(num).collect();
            let color = match sub.get(1) {
                Some(5) => sub.get(2).map(|&n| Color::Indexed(n.min(255) as u8)),
                Some(2) if sub.len() >= 5 => {
                    let rgb = &sub[sub.len() - 3..];
                    Some(Color::Rgb(byte(rgb[0]), byte(rgb[1]), byte(rgb[2])))
                }
                _ => None,
            };
            match sub[0] {
                38 => s.fg = color.or(s.fg),
                48 => s.bg = color.or(s.bg),
                _ => {}
            }
            continue;
        }
        match num(group) {
            0 => s = Style::default(),
            1 => s.bold = true,
            2 => s.dim = true,
            3 => s.italic = true,
            4 => s.underline = true,
            7 => s.inverse = true,
            22 => (s.bold, s.dim) = (false, false),
            23 => s.italic = false,
            24 => s.underline = false,
            27 => s.inverse = false,
            n @ 30..=37 => s.fg = Some(Color::Indexed((n - 30) as u8)),
            n @ 40..=47 => s.bg = Some(Color::Indexed((n - 40) as u8)),
            n @ 90..=97 => s.fg = Some(Color::Indexed((n - 90 + 8) as u8)),
            n @ 100..=107 => s.bg = Some(Color::Indexed((n - 100 + 8) as u8)),
            39 => s.fg = None,
            49 => s.bg = None,
            n @ (38 | 48) => {
                let rest = |k: usize| groups.get(i + k).map(|p| num(p));
                let (color, used) = match rest(0) {
                    Some(5) => (rest(1).map(|n| Color::Indexed(n.min(255) as u8)), 2),
                    Some(2) => match (rest(1), rest(2), rest(3)) {
                        (Some(r), Some(g), Some(b)) => {
                            (Some(Color::Rgb(byte(r), byte(g), byte(b))), 4)
                        }
                        _ => (None, 4),
                    },
                    _ => (None, 1),
                };
                i += used;
                if n == 38 {
                    s.fg = color.or(s.fg);
                } else {
                    s.bg = color.or(s.bg);
                }
            }
            _ => {}
        }
    }
    s
}

fn byte(n: u16) -> u8 {
    n.min(255) as u8
}

/// The colour of palette entries 16–255 (xterm's 6×6×6 cube, then 24 greys).
pub fn indexed_rgb(n: u8) -> Option<(u8, u8, u8)> {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match n {
        0..=15 => None,
        16..=231 => {
            let i = n - 16;
            Some((
                LEVELS[(i / 36) as usize],
                LEVELS[(i / 6 % 6) as usize],
                LEVELS[(i % 6) as usize],
            ))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            Some((g, g, g))
        }
    }
}

impl Style {
    /// The classes of a span in this style: `ansi-fg-N`/`ansi-bg-N` for the 16 palette colours
    /// (the theme sets them), `ansi-bold`, `ansi-dim`, `ansi-italic`, `ansi-underline`.
    pub fn classes(&self) -> String {
        let (fg, bg) = self.colors();
        let mut out = Vec::new();
        if let Some(Color::Indexed(n @ 0..=15)) = fg {
            out.push(format!("ansi-fg-{n}"));
        }
        if let Some(Color::Indexed(n @ 0..=15)) = bg {
            out.push(format!("ansi-bg-{n}"));
        }
        if self.inverse {
            // Inverse of the default colours: the viewer's background on its text colour.
            if fg.is_none() {
                out.push("ansi-inverse-fg".into());
            }
            if bg.is_none() {
                out.push("ansi-inverse-bg".into());
            }
        }
        for (on, class) in [
            (self.bold, "ansi-bold"),
            (self.dim, "ansi-dim"),
            (self.italic, "ansi-italic"),
            (self.underline, "ansi-underline"),
        ] {
            if on {
                out.push(class.into());
            }
        }
        out.join(" ")
    }

    /// Inline `color`/`background-color` for colours outside the 16-colour palette.
    pub fn css(&self) -> String {
        let (fg, bg) = self.colors();
        let mut out = String::new();
        for (color, prop) in [(fg, "color"), (bg, "background-color")] {
            let rgb = match color {
                Some(Color::Rgb(r, g, b)) => Some((r, g, b)),
                Some(Color::Indexed(n)) => indexed_rgb(n),
                None => None,
            };
            if let Some((r, g, b)) = rgb {
                out.push_str(&format!("{prop}:rgb({r},{g},{b});"));
            }
        }
        out
    }

    fn colors(&self) -> (Option<Color>, Option<Color>) {
        if self.inverse {
            (self.bg, self.fg)
        } else {
            (self.fg, self.bg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles(s: &Styled) -> Vec<(&str, Style)> {
        s.runs
            .iter()
            .map(|r| (&s.text[r.start as usize..r.end as usize], r.style))
            .collect()
    }

    #[test]
    fn plain_lines_have_no_runs() {
        let s = parse("GET / 200 <script>alert(1)</script>");
        assert_eq!(s.text, "GET / 200 <script>alert(1)</script>");
        assert!(s.runs.is_empty());
    }

    #[test]
    fn palette_colours_bold_and_reset() {
        let s = parse("\x1b[1;31merror\x1b[0m: \x1b[32mok\x1b[m done");
        assert_eq!(s.text, "error: ok done");
        let red_bold = Style {
            fg: Some(Color::Indexed(1)),
            bold: true,
            ..Style::default()
        };
        let green = Style {
            fg: Some(Color::Indexed(2)),
            ..Style::default()
        };
        assert_eq!(
            styles(&s),
            [
                ("error", red_bold),
                (": ", Style::default()),
                ("ok", green),
                (" done", Style::default())
            ]
        );
        assert_eq!(red_bold.classes(), "ansi-fg-1 ansi-bold");
        assert_eq!(red_bold.css(), "");
    }

    #[test]
    fn bright_256_and_truecolor_foreground_and_background() {
        let s =
            parse("\x1b[93;104mA\x1b[38;5;208;48;5;236mB\x1b[38;2;255;0;128mC\x1b[38:2::1:2:3mD");
        let r = styles(&s);
        assert_eq!(r[0].1.fg, Some(Color::Indexed(11)));
        assert_eq!(r[0].1.bg, Some(Color::Indexed(12)));
        assert_eq!(r[0].1.classes(), "ansi-fg-11 ansi-bg-12");
        assert_eq!(
            r[1].1.css(),
            "color:rgb(255,135,0);background-color:rgb(48,48,48);"
        );
        assert_eq!(r[2].1.fg, Some(Color::Rgb(255, 0, 128)));
        assert_eq!(r[2].1.bg, Some(Color::Indexed(236)), "background kept");
        assert_eq!(r[3].1.fg, Some(Color::Rgb(1, 2, 3)));
    }

    #[test]
    fn attributes_turn_off_one_by_one() {
        let s = parse("\x1b[2;3;4ma\x1b[22mb\x1b[23mc\x1b[24md\x1b[7;31me\x1b[39;49mf");
        let r = styles(&s);
        assert!(r[0].1.dim && r[0].1.italic && r[0].1.underline);
        assert_eq!(r[0].1.classes(), "ansi-dim ansi-italic ansi-underline");
        assert!(!r[1].1.dim && r[1].1.italic);
        assert!(!r[2].1.italic && r[2].1.underline);
        assert_eq!(r[3].1, Style::default());
        // Inverse red: red background, the viewer's background as text colour.
        assert_eq!(r[4].1.classes(), "ansi-bg-1 ansi-inverse-fg");
        assert!(r[5].1.inverse && r[5].1.fg.is_none());
    }

    #[test]
    fn other_escapes_and_controls_are_dropped() {
        let s = parse("\x1b]0;title\x07a\x1b[2Kb\x1b]8;;http://x\x1b\\c\x1b(Bd\x07e\ttab");
        assert_eq!(s.text, "abcde\ttab");
        assert!(s.runs.is_empty());
        // A progress bar: what is left after the last carriage return.
        assert_eq!(parse("10%\r50%\r\x1b[32m100%").text, "100%");
        // Cut off mid-sequence.
        assert_eq!(parse("ok\x1b[31").text, "ok");
    }
}
