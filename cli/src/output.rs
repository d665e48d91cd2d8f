//! How results reach people and scripts: aligned tables and colours on a terminal (never when
//! `NO_COLOR` is set or the output is piped), JSON with `--json`, spinners on stderr only when
//! it is a terminal, so CI logs stay clean.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Bold,
    Dim,
    Green,
    Red,
    Yellow,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Bold => "1",
            Paint::Dim => "2",
            Paint::Green => "32",
            Paint::Red => "31",
            Paint::Yellow => "33",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
    color: bool,
    err_color: bool,
    err_tty: bool,
}

/// Colour only for terminals, and never with `NO_COLOR` (any value) or `TERM=dumb`.
fn wants_color(is_tty: bool) -> bool {
    is_tty
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

impl Out {
    pub fn new(json: bool) -> Out {
        let err_tty = std::io::stderr().is_terminal();
        Out {
            json,
            color: wants_color(std::io::stdout().is_terminal()),
            err_color: wants_color(err_tty),
            err_tty,
        }
    }

    pub fn paint(&self, text: &str, paint: Paint) -> String {
        paint_if(self.color, text, paint)
    }

    pub fn paint_err(&self, text: &str, paint: Paint) -> String {
        paint_if(self.err_color, text, paint)
    }

    /// A deployment or service state, coloured by how it went.
    pub fn state(&self, state: &str) -> String {
        let paint = match state {
            "live" | "running" | "online" => Paint::Green,
            "failed" | "crashed" | "unhealthy" | "timed_out" | "offline" => Paint::Red,
            "cancelled" | "stopped" | "superseded" | "rolled_back" | "pending" | "new" => {
                Paint::Dim
            }
            _ => Paint::Yellow,
        };
        self.paint(state, paint)
    }

    pub fn print_json<T: Serialize>(&self, value: &T) {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("cannot print JSON: {e}"),
        }
    }

    /// With `--json`, prints `value` and says so (the caller then prints nothing for people).
    pub fn printed_json<T: Serialize>(&self, value: &T) -> bool {
        if self.json {
            self.print_json(value);
        }
        self.json
    }

    /// A command's result: `value` as JSON with `--json`, else what `for_people` prints.
    pub fn show<T: Serialize>(&self, value: &T, for_people: impl FnOnce()) {
        if !self.printed_json(value) {
            for_people();
        }
    }

    /// A whole list: JSON with `--json`; else a table, one `row` per item, or (on stderr)
    /// what to do when there is nothing yet.
    pub fn list<T: Serialize>(
        &self,
        all: &[T],
        headers: &[&str],
        row: impl Fn(&T) -> Vec<String>,
        when_empty: &str,
    ) {
        if self.printed_json(&all) {
            return;
        }
        if all.is_empty() {
            eprintln!("{when_empty}");
        }
        let rows = all.iter().map(row).collect::<Vec<_>>();
        self.table(headers, &rows);
    }

    /// Columns padded to their widest cell; the header bold. Cells are measured before they
    /// are painted, so colours do not break the alignment.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        if rows.is_empty() {
            return;
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<String>, paint: Option<Paint>| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                let cell = match paint {
                    Some(p) => self.paint(cell, p),
                    None if i == 1 && headers.get(1) == Some(&"STATUS") => self.state(cell),
                    None => cell.clone(),
                };
                s.push_str(&cell);
                if i + 1 < cells.len() {
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            println!("{}", s.trim_end());
        };
        line(
            headers.iter().map(|h| h.to_string()).collect(),
            Some(Paint::Bold),
        );
        for row in rows {
            line(row.clone(), None);
        }
    }

    /// A spinner on stderr when it is a terminal and output is not JSON; else nothing.
    pub fn spinner(&self, message: &str) -> Option<ProgressBar> {
        if self.json || !self.err_tty {
            return None;
        }
        let pb = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed:.dim}") {
            pb.set_style(style);
        }
        pb.set_message(message.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        Some(pb)
    }
}

fn paint_if(on: bool, text: &str, paint: Paint) -> String {
    if on {
        format!("\x1b[{}m{text}\x1b[0m", paint.code())
    } else {
        text.to_string()
    }
}

/// A JSON value's field as text for a table cell (`-` when absent or null).
pub fn cell(v: &serde_json::Value, field: &str) -> String {
    match v.get(field) {
        None | Some(serde_json::Value::Null) => "-".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn painting_is_off_without_a_terminal() {
        assert_eq!(paint_if(false, "live", Paint::Green), "live");
        assert_eq!(paint_if(true, "live", Paint::Green), "\x1b[32mlive\x1b[0m");
        assert!(!wants_color(false));
    }

    #[test]
    fn cells_show_missing_values_as_a_dash() {
        let v = serde_json::json!({"a": "x", "b": null, "c": 3});
        assert_eq!(cell(&v, "a"), "x");
        assert_eq!(cell(&v, "b"), "-");
        assert_eq!(cell(&v, "c"), "3");
        assert_eq!(cell(&v, "zzz"), "-");
    }
}
