//! Whether a freshly started release answers, before any traffic is switched to it. A deploy
//! only moves the route once [`wait_healthy`] says yes; otherwise the old release keeps serving.
//!
//! The HTTP probe is a hand-written HTTP/1.1 GET: it needs the status line only, and an HTTP
//! client crate would bring TLS and pooling this never uses.

use std::net::SocketAddr;
use std::time::Duration;

use proto::service;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The first pause between probes; it doubles up to the check's interval.
const QUICK_FIRST: Duration = Duration::from_millis(50);

/// The status line must fit in this; a server sending more before its first `\r\n` is not
/// speaking HTTP.
const MAX_STATUS_LINE: usize = 8 * 1024;

/// What counts as "answering".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `GET path` answered with a 2xx or 3xx status; for `/` (the default check of every web
    /// service) any status below 500 counts, since an API's root may well be a 404 or a 401,
    /// while a 5xx means the app is broken.
    Http { path: String },
    /// A TCP connection is accepted.
    Tcp,
    /// No check: the release counts as healthy once `start_grace` has passed.
    None,
}

/// How and how patiently to check a release: a service's [`service::HealthCheck`] (whose
/// defaults and wire form are the only ones) with its times as durations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub probe: Probe,
    /// Between the end of one failed probe and the start of the next.
    pub interval: Duration,
    /// For one probe: connect, request and status line.
    pub timeout: Duration,
    /// Consecutive failed probes after which the release is unhealthy (at least one probe is
    /// always made).
    pub retries: u32,
    /// Before the first probe, for runtimes that take a while to bind.
    pub start_grace: Duration,
}

impl From<&service::Probe> for Probe {
    fn from(probe: &service::Probe) -> Probe {
        match probe {
            service::Probe::Http { path } => Probe::Http { path: path.clone() },
            service::Probe::Tcp {} => Probe::Tcp,
            service::Probe::None {} => Probe::None,
        }
    }
}

impl From<&service::HealthCheck> for HealthCheck {
    fn from(hc: &service::HealthCheck) -> HealthCheck {
        let secs = |s: u32| Duration::from_secs(u64::from(s));
        HealthCheck {
            probe: Probe::from(&hc.probe),
            interval: secs(hc.interval_secs),
            timeout: secs(hc.timeout_secs),
            retries: hc.retries,
            start_grace: secs(hc.start_grace_secs),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unhealthy {
    /// Every probe failed; `last_error` says how the last one did.
    #[error("not healthy after {probes} checks: {last_error}")]
    Failed { probes: u32, last_error: String },
    #[error("health check cancelled")]
    Cancelled,
}

/// Waits `start_grace`, then probes `addr` until one probe succeeds or `retries` probes in a
/// row have failed. `cancel` ends the wait early (a newer deploy, or the service is deleted).
pub async fn wait_healthy(
    addr: SocketAddr,
    check: &HealthCheck,
    cancel: &CancellationToken,
) -> Result<(), Unhealthy> {
    pause(check.start_grace, cancel).await?;
    // A release is usually up within moments: probe again after 50 ms, doubling up to the
    // interval. Only probes made at the full interval count against `retries`, so the
    // patience is still `retries` intervals, while a quick starter switches in milliseconds.
    let mut wait = QUICK_FIRST.min(check.interval);
    let mut probes = 0;
    let mut counted = 0;
    loop {
        if check.probe == Probe::None {
            return Ok(());
        }
        let result = probe(addr, &check.probe, check.timeout).await;
        probes += 1;
        if wait >= check.interval {
            counted += 1;
        }
        match result {
            Ok(()) => return Ok(()),
            Err(last_error) if counted >= check.retries.max(1) => {
                return Err(Unhealthy::Failed { probes, last_error });
            }
            Err(_) => {
                pause(wait, cancel).await?;
                wait = (wait * 2).min(check.interval);
            }
        }
    }
}

/// One probe of `addr`: `Ok` when it answers as `probe` requires. [`Probe::None`] always passes.
pub async fn probe(addr: SocketAddr, probe: &Probe, timeout: Duration) -> Result<(), String> {
    match probe {
        Probe::None => Ok(()),
        Probe::Tcp => tcp(addr, timeout).await,
        Probe::Http { path } => http(addr, path, timeout).await,
    }
}

async fn pause(duration: Duration, cancel: &CancellationToken) -> Result<(), Unhealthy> {
    tokio::select! {
        () = tokio::time::sleep(duration) => Ok(()),
        () = cancel.cancelled() => Err(Unhealthy::Cancelled),
    }
}

async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!("connecting to {addr}: {e}")),
        Err(_) => Err(format!(
            "connecting to {addr}: no answer within {timeout:?}"
        )),
    }
}

async fn tcp(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    connect(addr, timeout).await.map(drop)
}

async fn http(addr: SocketAddr, path: &str, timeout: Duration) -> Result<(), String> {
    if !path.starts_with('/') || path.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid health check path {path:?}"));
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut stream = connect(addr, timeout).await?;
    let exchange = async {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: dployr-health\r\n\
             Accept: */*\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 1024];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < MAX_STATUS_LINE {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(head)
    };
    let head = match tokio::time::timeout_at(deadline, exchange).await {
        Ok(Ok(head)) => head,
        Ok(Err(e)) => return Err(format!("GET {path} on {addr}: {e}")),
        Err(_) => {
            return Err(format!(
                "GET {path} on {addr}: no answer within {timeout:?}"
            ));
        }
    };
    let head = String::from_utf8_lossy(&head);
    let status_line = head.split("\r\n").next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(200..=399) => Ok(()),
        Some(400..=499) if path == "/" => Ok(()),
        Some(_) => Err(format!("GET {path} on {addr} answered {status_line:?}")),
        None if head.is_empty() => Err(format!("GET {path} on {addr}: closed without answering")),
        None => Err(format!(
            "GET {path} on {addr}: not an HTTP answer: {status_line:?}"
        )),
    }
}

#[cfg(test)]
mod tests;
