//! Just enough HTTP/1.1 for the swarm's few REST calls (sign in, add an instance), so the agent
//! crate needs no HTTP client.

use anyhow::{Context, bail};
use proto::api::LoginRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Just enough HTTP/1.1 for Base's JSON API: one request per connection (`Connection: close`),
/// the session cookie once signed in.
#[derive(Clone)]
pub struct Http {
    addr: String,
    origin: String,
    cookie: Option<String>,
}

impl Http {
    pub fn new(base: &url::Url) -> anyhow::Result<Http> {
        if base.scheme() != "http" {
            bail!("--base must be http://host:port: the swarm talks to Base directly, not via TLS");
        }
        let host = base.host_str().context("--base has no host")?;
        Ok(Http {
            addr: format!("{host}:{}", base.port_or_known_default().unwrap_or(80)),
            origin: base.origin().ascii_serialization(),
            cookie: None,
        })
    }

    pub async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<()> {
        let body = LoginRequest {
            email: email.into(),
            password: password.into(),
        };
        let (status, head, body) = self
            .request("POST", "/api/v1/auth/login", Some(&body))
            .await?;
        if status != 200 {
            bail!("sign-in failed: HTTP {status} {body}");
        }
        let cookie = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.trim().split(';').next())
            // `__Host-dployr_session` when Base is served over HTTPS.
            .find(|c| c.starts_with("dployr_session=") || c.starts_with("__Host-dployr_session="))
            .context("sign-in answered without a session cookie")?;
        self.cookie = Some(cookie.to_string());
        Ok(())
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
        want: u16,
    ) -> anyhow::Result<T> {
        let (status, _, body) = self.request(method, path, body).await?;
        if status != want {
            bail!("{method} {path}: HTTP {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("{method} {path}: unexpected {body}"))
    }

    /// Status, header block, body. Base answers JSON with a `Content-Length` and closes after it
    /// because we ask it to, so reading to EOF is the whole body.
    async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<(u16, String, String)> {
        let body = body
            .map(serde_json::to_string)
            .transpose()?
            .unwrap_or_default();
        let mut msg = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            self.origin,
            body.len()
        );
        if let Some(cookie) = &self.cookie {
            msg += &format!("Cookie: {cookie}\r\n");
        }
        msg = msg + "\r\n" + &body;
        let context = || format!("{method} {path} to {}", self.addr);
        let mut tcp = TcpStream::connect(&self.addr).await.with_context(context)?;
        tcp.write_all(msg.as_bytes()).await.with_context(context)?;
        let mut answer = String::new();
        tcp.read_to_string(&mut answer)
            .await
            .with_context(context)?;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .with_context(|| format!("{}: truncated answer", context()))?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            bail!("{}: chunked answers are not supported", context());
        }
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("{}: bad status line", context()))?;
        Ok((status, head.to_string(), body.to_string()))
    }
}
