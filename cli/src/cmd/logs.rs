//! `dployr logs`: a service's (or one deployment's) stored lines, then, with `-f`, new ones as
//! they come, read from Base's NDJSON stream. `deploy --wait` uses the same reader.

use std::time::SystemTime;

use futures_util::StreamExt;
use proto::api::LogLine;
use proto::wire::LogStream;

use super::Ctx;
use crate::args::LogsArgs;
use crate::client::Api;
use crate::error::{CliError, Result};

/// `2026-11-27T17:20:26.123Z [out] text`: the time to the second, the stream, the line.
pub fn format_line(l: &LogLine) -> String {
    let at = l.at.get(11..19).unwrap_or(&l.at);
    let stream = match l.stream {
        LogStream::Stdout => "out",
        LogStream::Stderr => "err",
        LogStream::System => "dployr",
    };
    if at.is_empty() {
        format!("[{stream}] {}", l.line)
    } else {
        format!("{at} [{stream}] {}", l.line)
    }
}

/// Reads NDJSON lines from `path` until the stream ends, calling `on_line` for each.
pub async fn stream(api: &Api, path: &str, mut on_line: impl FnMut(LogLine)) -> Result<()> {
    let res = api.start(api.request(reqwest::Method::GET, path)).await?;
    let mut body = res.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| CliError::other(format!("the log stream broke: {e}")))?;
        buf.extend_from_slice(&chunk);
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            if let Ok(l) = serde_json::from_slice::<LogLine>(&line) {
                on_line(l);
            }
        }
    }
    Ok(())
}

/// `--since`: a duration (`10m`) keeps lines newer than now minus it; a number is a line `seq`
/// to resume after.
enum Since {
    Seq(i64),
    /// RFC 3339 instant; lines are kept when their `at` is not older.
    After(String),
}

fn parse_since(text: &str) -> Result<Since> {
    if let Ok(seq) = text.parse::<i64>() {
        return Ok(Since::Seq(seq));
    }
    let d = crate::duration::parse(text).map_err(CliError::usage)?;
    let cutoff = SystemTime::now()
        .checked_sub(d)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let t = time::OffsetDateTime::from(cutoff);
    let text = t
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| CliError::other(e.to_string()))?;
    Ok(Since::After(text))
}

/// Whether an RFC 3339 `at` is at or after `cutoff` (both UTC, as Base writes them).
fn not_older(at: &str, cutoff: &str) -> bool {
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(at), parse(cutoff)) {
        (Some(a), Some(c)) => a >= c,
        _ => true,
    }
}

pub async fn logs(ctx: &Ctx, args: LogsArgs) -> Result<()> {
    let svc = ctx.service(args.service).await?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let base = match &args.deployment {
        Some(d) => format!("/deployments/{d}/logs"),
        None => format!("/services/{}/logs", svc.id),
    };
    let mut query = vec![format!("limit={}", args.lines.max(1))];
    if args.follow {
        query.push("follow=true".into());
    }
    if let Some(Since::Seq(s)) = since {
        query.push(format!("since={s}"));
    }
    let cutoff = match since {
        Some(Since::After(c)) => Some(c),
        _ => None,
    };
    let path = format!("{base}?{}", query.join("&"));
    let json = ctx.out.json;
    let out = ctx.out;
    let print = move |l: LogLine| {
        if cutoff.as_deref().is_some_and(|c| !not_older(&l.at, c)) {
            return;
        }
        if json {
            // One JSON object per line, like Base sends: pipe it into jq.
            if let Ok(s) = serde_json::to_string(&l) {
                println!("{s}");
            }
        } else {
            let text = format_line(&l);
            match l.stream {
                LogStream::Stderr => println!("{}", out.paint(&text, crate::output::Paint::Yellow)),
                LogStream::Stdout => println!("{text}"),
                LogStream::System => println!("{}", out.paint(&text, crate::output::Paint::Dim)),
            }
        }
    };
    if !args.follow {
        return stream(&ctx.api, &path, print).await;
    }
    // A follow ends when Base restarts: say so rather than exiting silently.
    stream(&ctx.api, &path, print).await?;
    Err(CliError::other("Base closed the log stream")
        .hint("run the command again to resume (--since the last seq you saw)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_seq_or_a_duration() {
        assert!(matches!(parse_since("42").unwrap(), Since::Seq(42)));
        let Since::After(c) = parse_since("10m").unwrap() else {
            panic!("a duration")
        };
        assert!(not_older("2999-01-01T00:00:00Z", &c));
        assert!(!not_older("2001-01-01T00:00:00Z", &c));
        assert!(parse_since("yesterday").is_err());
    }

    #[test]
    fn a_line_shows_its_time_and_stream() {
        let l = LogLine {
            seq: 1,
            at: "2026-11-27T17:20:26.123Z".into(),
            stream: LogStream::Stderr,
            deployment_id: None,
            line: "boom".into(),
        };
        assert_eq!(format_line(&l), "17:20:26 [err] boom");
    }
}
