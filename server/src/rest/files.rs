//! `/api/v1/services/{id}/files…`: the file explorer over HTTP, for the CLI and the dashboard.
//! Every operation runs on the agent, beneath the service's live release directory.
//!
//! - `GET files?path=` → [`FileListing`]; `DELETE files?path=` → 204
//! - `GET files/content?path=` → the file, streamed (`X-Dployr-Modified-Ms` for the editor)
//! - `GET files/archive?path=` → the folder as a streamed tar.gz
//! - `PUT files/content?path=[&if_modified_ms=]` (body: the bytes, streamed) → [`FileEntry`]
//! - `POST files/mkdir {path}` → 201 [`FileEntry`]; `POST files/rename {from,to}` → [`FileEntry`]

use axum::Json;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use proto::api::{FileEntry, FileListing, MkdirRequest, RenameRequest};
use proto::wire::{FileOp, FileReply};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiQuery, On};
use crate::state::ServerState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathQuery {
    #[serde(default)]
    path: String,
    if_modified_ms: Option<i64>,
}

/// Where a file request points: who asks, the service whose release holds the files, and the
/// `?path=` (with `if_modified_ms` for uploads) beneath it.
pub struct FileAt {
    base: control::Base,
    actor: control::Actor,
    id: String,
    q: PathQuery,
}

impl FromRequestParts<ServerState> for FileAt {
    /// As [`On`]'s: axum's own answer when the path does not parse.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Response> {
        let On(base, actor, id) = On::from_request_parts(parts, state).await?;
        let ApiQuery(q) = ApiQuery::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(FileAt { base, actor, id, q })
    }
}

impl FileAt {
    /// Runs `op` on the agent and hands back its answer.
    async fn run(&self, op: FileOp) -> ApiResult<FileReply> {
        Ok(self.base.file_op(&self.actor, &self.id, op).await?)
    }
}

fn unexpected() -> ApiError {
    ApiError::Status(
        StatusCode::BAD_GATEWAY,
        "unexpected answer from the instance".into(),
    )
}

#[utoipa::path(
    get, path = "/services/{id}/files", tag = "files", params(("id" = String, Path, description = "The service's id"), PathQuery),
    responses((status = 200, body = FileListing), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn list(at: FileAt) -> ApiResult<Json<FileListing>> {
    let path = at.q.path.clone();
    match at.run(FileOp::List { path: path.clone() }).await? {
        FileReply::Listing { entries, .. } => Ok(Json(FileListing { path, entries })),
        _ => Err(unexpected()),
    }
}

#[utoipa::path(
    delete, path = "/services/{id}/files", tag = "files", params(("id" = String, Path, description = "The service's id"), PathQuery),
    responses((status = 204, description = "Deleted (a folder with everything in it)"), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn delete(at: FileAt) -> ApiResult<StatusCode> {
    let path = at.q.path.clone();
    at.run(FileOp::Delete { path }).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/services/{id}/files/mkdir", tag = "files", params(("id" = String, Path, description = "The service's id")), request_body = MkdirRequest,
    responses((status = 201, body = FileEntry), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn mkdir(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<MkdirRequest>,
) -> ApiResult<(StatusCode, Json<FileEntry>)> {
    match base
        .file_op(&actor, &id, FileOp::Mkdir { path: req.path })
        .await?
    {
        FileReply::Entry(e) => Ok((StatusCode::CREATED, Json(e))),
        _ => Err(unexpected()),
    }
}

#[utoipa::path(
    post, path = "/services/{id}/files/rename", tag = "files", params(("id" = String, Path, description = "The service's id")), request_body = RenameRequest,
    responses((status = 200, body = FileEntry), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn rename(
    On(base, actor, id): On,
    ApiJson(req): ApiJson<RenameRequest>,
) -> ApiResult<Json<FileEntry>> {
    let op = FileOp::Rename {
        from: req.from,
        to: req.to,
    };
    match base.file_op(&actor, &id, op).await? {
        FileReply::Entry(e) => Ok(Json(e)),
        _ => Err(unexpected()),
    }
}

fn attachment(name: &str) -> HeaderValue {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn download(at: FileAt, op: FileOp) -> ApiResult<Response> {
    let (reply, transfer) = at.base.file_download(&at.actor, &at.id, op).await?;
    let body = Body::from_stream(futures_util::stream::unfold(transfer, |mut t| async move {
        match t.next().await {
            Ok(Some(bytes)) => Some((Ok::<_, std::io::Error>(bytes), t)),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e)), t)),
        }
    }));
    let mut res = body.into_response();
    let h = res.headers_mut();
    match reply {
        FileReply::Entry(entry) => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(entry.size));
            h.insert(header::CONTENT_DISPOSITION, attachment(&entry.name));
            h.insert("x-dployr-modified-ms", HeaderValue::from(entry.modified_ms));
        }
        FileReply::Streaming => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/gzip"),
            );
        }
        _ => return Err(unexpected()),
    }
    Ok(res)
}

#[utoipa::path(
    get, path = "/services/{id}/files/content", tag = "files", params(("id" = String, Path, description = "The service's id"), PathQuery),
    responses((status = 200, description = "The file's bytes, streamed; `X-Dployr-Modified-Ms` carries its modification time", content_type = "application/octet-stream", body = Vec<u8>), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn content(at: FileAt) -> ApiResult<Response> {
    let path = at.q.path.clone();
    download(at, FileOp::Read { path }).await
}

#[utoipa::path(
    get, path = "/services/{id}/files/archive", tag = "files", params(("id" = String, Path, description = "The service's id"), PathQuery),
    responses((status = 200, description = "The folder as a tar.gz, streamed", content_type = "application/gzip", body = Vec<u8>), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn archive(at: FileAt) -> ApiResult<Response> {
    let path = at.q.path.clone();
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && *n != ".")
        .unwrap_or("files")
        .to_string();
    let mut res = download(at, FileOp::Archive { path }).await?;
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        attachment(&format!("{name}.tar.gz")),
    );
    Ok(res)
}

#[utoipa::path(
    put, path = "/services/{id}/files/content", tag = "files", params(("id" = String, Path, description = "The service's id"), PathQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The new content, streamed (capped by `DPLOYR_UPLOAD_MAX_BYTES`)"),
    responses((status = 200, body = FileEntry), (status = 502, description = "See the error body", body = proto::api::ErrorBody))
)]
pub async fn upload(at: FileAt, body: Body) -> ApiResult<Json<FileEntry>> {
    let FileAt { base, actor, id, q } = at;
    let stream = body
        .into_data_stream()
        .map(|r| r.map_err(|e| e.to_string()))
        .boxed();
    Ok(Json(
        base.file_upload(&actor, &id, &q.path, q.if_modified_ms, stream)
            .await?,
    ))
}
