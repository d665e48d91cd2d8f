//! `GET /api/v1/services/{id}/logs` and `GET /api/v1/deployments/{id}/logs`: a service's (or one
//! deployment's) output as JSON lines (`application/x-ndjson`), or as server-sent events when the
//! client asks for `text/event-stream`. `since=<seq>` resumes after a line; `follow=true` keeps
//! the response open and sends each new line as it arrives, until the reader's access ends.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::response::{IntoResponse, Response};
use control::DomainError;
use control::revocation::Access;
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::stream::{self, Stream, StreamExt};
use http::request::Parts;
use http::{HeaderValue, header};
use proto::api::LogLine;
use proto::wire::LogStream;
use tokio::sync::broadcast;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiQuery, Caller};
use crate::state::ServerState;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    since: i64,
    /// How many stored lines to send first (the newest ones).
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    1_000
}

#[utoipa::path(
    get, path = "/services/{id}/logs", tags = ["logs", "streaming"], params(("id" = String, Path, description = "The service's id"), LogQuery),
    responses((status = 200, description = LINES, content((LogLine = "application/x-ndjson"), (String = "text/event-stream"))))
)]
pub async fn of_service(Path(id): Path<String>, read: Reading) -> ApiResult<Response> {
    read.respond(&id, None).await
}

#[utoipa::path(
    get, path = "/deployments/{id}/logs", tags = ["logs", "streaming"], params(("id" = String, Path, description = "The deployment's id"), LogQuery),
    responses((status = 200, description = LINES, content((LogLine = "application/x-ndjson"), (String = "text/event-stream"))))
)]
pub async fn of_deployment(Path(id): Path<String>, read: Reading) -> ApiResult<Response> {
    let Caller(base, actor) = &read.caller;
    let service = base.service_of_deployment(actor, &id).await?;
    read.respond(&service, Some(&id)).await
}

/// What the 200 answer of either logs route carries.
const LINES: &str = "One `LogLine` per line (NDJSON), or one server-sent event each when `Accept: text/event-stream`; with `follow=true` the response stays open";

/// A request for logs whoever's they are: who asks, from where and how long (`LogQuery`), and
/// whether the client wants server-sent events.
pub struct Reading {
    caller: Caller,
    q: LogQuery,
    sse: bool,
}

impl FromRequestParts<ServerState> for Reading {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> ApiResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let ApiQuery(q) = ApiQuery::from_request_parts(parts, state).await?;
        let sse = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
        Ok(Reading { caller, q, sse })
    }
}

/// A line of our own in the log ("older lines were dropped").
fn system(text: String) -> LogLine {
    LogLine {
        seq: 0,
        at: String::new(),
        stream: LogStream::System,
        deployment_id: None,
        line: text,
    }
}

impl Reading {
    async fn respond(self, service: &str, deployment: Option<&str>) -> ApiResult<Response> {
        let Reading {
            caller: Caller(base, actor),
            q,
            sse,
        } = self;
        let follow = base
            .follow_logs(&actor, service, deployment, q.since, q.limit)
            .await?;
        let mut first = Vec::new();
        if follow.dropped > 0 && q.since == 0 {
            first.push(system(format!(
                "[dployr] {} older lines were dropped to keep the newest {}",
                follow.dropped,
                control::logs::KEPT_PER_SERVICE
            )));
        }
        let last = follow.backlog.last().map(|l| l.seq).unwrap_or(q.since);
        first.extend(follow.backlog);
        let head = stream::iter(first.into_iter().map(Arc::new));
        let body = if q.follow {
            let access = Access::Logs(service.to_string());
            let revoked = base.until_revoked(actor, access).boxed();
            let live = follow_live(follow.live, last, deployment.map(str::to_string), revoked);
            encode(head.chain(live).boxed(), sse)
        } else {
            encode(head.boxed(), sse)
        };
        let content_type = if sse {
            "text/event-stream"
        } else {
            "application/x-ndjson"
        };
        let mut res = body.into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(res)
    }
}

/// Where a follow is: the live lines, the last one sent, the one deployment it is limited to,
/// and the re-authorization that ends it ([`control::Base::until_revoked`]); `None` once it has
/// ended.
type Following = Option<(
    broadcast::Receiver<Arc<LogLine>>,
    i64,
    Option<String>,
    BoxFuture<'static, DomainError>,
)>;

/// The live part of a follow: new lines until the service's log closes, or until the reader's
/// access ends (M1: logout, a revoked or expired token, removal from the cluster), which is
/// said in a last system line before the response ends.
fn follow_live(
    rx: broadcast::Receiver<Arc<LogLine>>,
    last: i64,
    dep: Option<String>,
    revoked: BoxFuture<'static, DomainError>,
) -> impl Stream<Item = Arc<LogLine>> + Send + 'static {
    let state: Following = Some((rx, last, dep, revoked));
    stream::unfold(state, |state| async move {
        let (mut rx, last, dep, mut revoked) = state?;
        loop {
            tokio::select! {
                reason = &mut revoked => {
                    let note = system(format!("[dployr] the log stream ended: {reason}"));
                    return Some((Arc::new(note), None));
                }
                got = rx.recv() => match got {
                    Ok(line) if line.seq <= last => continue,
                    Ok(line) if dep.is_some() && line.deployment_id != dep => continue,
                    Ok(line) => {
                        let seq = line.seq;
                        return Some((line, Some((rx, seq, dep, revoked))));
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let note = system(format!(
                            "[dployr] {n} lines skipped: this reader fell behind"
                        ));
                        return Some((Arc::new(note), Some((rx, last, dep, revoked))));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    })
}

/// Lines as NDJSON or SSE; consecutive ready lines go out in one chunk.
fn encode(lines: stream::BoxStream<'static, Arc<LogLine>>, sse: bool) -> Body {
    let chunks = lines.ready_chunks(512).map(move |batch| {
        let mut out = Vec::with_capacity(batch.len() * 96);
        for line in batch {
            if sse {
                out.extend_from_slice(format!("id: {}\ndata: ", line.seq).as_bytes());
            }
            if serde_json::to_writer(&mut out, &*line).is_err() {
                continue;
            }
            out.extend_from_slice(if sse { b"\n\n" } else { b"\n" });
        }
        Ok::<_, std::convert::Infallible>(out)
    });
    Body::from_stream(chunks)
}
