//! The HTTP side of the CLI: one [`Api`] per run, with the token on every request, Base's JSON
//! errors turned into [`CliError`]s with the exit code and a next step, and list pages followed
//! through their cursors.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{CliError, Kind, Result};

/// Requests that are not streams give up after this (a deploy's wait has its own timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    /// `https://base.example.com`, without a trailing slash.
    pub url: String,
    token: Option<String>,
}

impl Api {
    pub fn new(url: &str, token: Option<String>) -> Result<Api> {
        let url = url.trim().trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CliError::usage(format!(
                "the Base URL must start with http:// or https:// (got {url:?})"
            ))
            .hint("e.g. `dployr login --url https://dployr.example.com`"));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("dployr-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::other(format!("HTTP client: {e}")))?;
        Ok(Api { http, url, token })
    }

    /// A request to `/api/v1{path}` with the token, if any.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.url));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::GET, path)).await
    }

    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(self.request(method, path).json(body)).await
    }

    /// For answers without a body (204).
    pub async fn send_no_content(&self, method: Method, path: &str) -> Result<()> {
        self.start(self.request(method, path)).await.map(drop)
    }

    /// Sends and parses a JSON answer.
    pub async fn call<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let res = self.start(req.timeout(REQUEST_TIMEOUT)).await?;
        res.json::<T>()
            .await
            .map_err(|e| CliError::other(format!("Base sent an answer this CLI cannot read: {e}")))
    }

    /// Sends and checks the status; the body is left to the caller (streams).
    pub async fn start(&self, req: RequestBuilder) -> Result<Response> {
        let res = req.send().await.map_err(|e| self.unreachable(e))?;
        if res.status().is_success() {
            return Ok(res);
        }
        Err(error_of(res).await)
    }

    /// Every item of a list route, following `next_cursor` while Base pages it.
    pub async fn list_all(&self, path: &str, field: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        // A Base that repeats a cursor must not make us loop forever.
        for _ in 0..1_000 {
            let mut req = self.request(Method::GET, path);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Value = self.call(req).await?;
            if let Some(items) = page.get(field).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) if Some(next) != cursor.as_deref() => cursor = Some(next.to_string()),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    fn unreachable(&self, e: reqwest::Error) -> CliError {
        if e.is_timeout() {
            return CliError::other(format!("Base at {} did not answer in time", self.url))
                .hint("try again; if it persists, check Base's health at /healthz");
        }
        CliError::other(format!(
            "cannot reach Base at {}: {}",
            self.url,
            root_cause(&e)
        ))
        .hint("check the URL (`dployr login --url …` or DPLOYR_URL) and that Base is running")
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Base's `{"error":{"code","message","field"}}` as a [`CliError`] with the right exit code.
async fn error_of(res: Response) -> CliError {
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Option<proto::api::ErrorBody> = res.json().await.ok();
    let (message, field) = match body {
        Some(b) => (b.error.message, b.error.field),
        None => (status.to_string(), None),
    };
    let message = match field {
        Some(f) => format!("{message} ({f})"),
        None => message,
    };
    match status {
        StatusCode::UNAUTHORIZED => CliError::new(Kind::Auth, message)
            .hint("run `dployr login`, or set DPLOYR_TOKEN to a valid API token"),
        StatusCode::FORBIDDEN => CliError::new(Kind::Auth, message)
            .hint("your role (or your token's) does not allow this; ask a cluster Admin"),
        StatusCode::TOO_MANY_REQUESTS => CliError::other(message).hint(match retry_after {
            Some(s) => format!("wait {s} s and try again"),
            None => "wait a little and try again".into(),
        }),
        s if s.is_server_error() => CliError::other(format!("Base failed ({status}): {message}"))
            .hint("try again; if it persists, Base's log says why"),
        // 400, 404, 409, 413, 422: what was asked is wrong; the message says how.
        _ => CliError::usage(message),
    }
}
