//! What a command prints, as the deploy log wants it: each pipe read line by line as it comes
//! ([`pump`]), long lines cut and invalid UTF-8 replaced, and the readers given a bounded time
//! to finish once the process group is gone ([`drain_readers`]). Shared by the shell commands
//! of [`super`] and the containers' logs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Longer lines are cut here (with a note saying how much was cut): one minified bundle printed
/// by a build must not become a multi-megabyte log record.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of output, without its line ending, decoded as lossy UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When dployrd read it, in Unix milliseconds.
    pub at_ms: i64,
    pub stream: Stream,
    pub line: String,
}

impl LogLine {
    /// A line read now.
    pub fn now(stream: Stream, line: impl Into<String>) -> LogLine {
        LogLine {
            at_ms: now_ms(),
            stream,
            line: line.into(),
        }
    }
}

/// Unix milliseconds.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Waits up to `within` for output readers to finish, and abandons those that do not.
pub(crate) async fn drain_readers(readers: Vec<JoinHandle<()>>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    for mut reader in readers {
        if tokio::time::timeout_at(deadline, &mut reader)
            .await
            .is_err()
        {
            reader.abort();
        }
    }
}

/// Sends each line of `pipe` to `logs` until end of file. Keeps reading after the receiver is
/// gone, so the process never blocks on a full pipe.
pub(crate) async fn pump(
    pipe: impl AsyncRead + Unpin,
    stream: Stream,
    logs: mpsc::Sender<LogLine>,
) {
    let mut reader = BufReader::with_capacity(64 * 1024, pipe);
    let mut line = Vec::with_capacity(256);
    let mut cut = 0usize;
    let mut open = true;
    while let Ok(buf) = reader.fill_buf().await {
        if buf.is_empty() {
            if !line.is_empty() || cut > 0 {
                emit(&logs, &mut open, stream, &mut line, &mut cut).await;
            }
            break;
        }
        let (chunk, used, newline) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE_BYTES - line.len();
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        cut += chunk.len().saturating_sub(room);
        reader.consume(used);
        if newline {
            emit(&logs, &mut open, stream, &mut line, &mut cut).await;
        }
    }
}

async fn emit(
    logs: &mpsc::Sender<LogLine>,
    open: &mut bool,
    stream: Stream,
    line: &mut Vec<u8>,
    cut: &mut usize,
) {
    if line.last() == Some(&b'\r') && *cut == 0 {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(line).into_owned();
    if *cut > 0 {
        text.push_str(&format!(" [... {cut} more bytes cut]"));
    }
    line.clear();
    *cut = 0;
    if *open {
        let sent = logs.send(LogLine::now(stream, text));
        *open = sent.await.is_ok();
    }
}
