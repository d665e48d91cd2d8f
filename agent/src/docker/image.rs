//! A docker service's image: either named by the service (used when the engine has it, pulled
//! otherwise) or built from the `Dockerfile` at the top of the fetched repository. Progress and
//! build output go to the deploy log line by line; errors the engine reports become the deploy's
//! failure reason.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{BuildImageOptionsBuilder, CreateImageOptionsBuilder};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::deploy::{LogLine, Stream};

/// How getting an image ended short of having it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    #[error("{0}")]
    Failed(String),
    #[error("did not finish within {0:?}")]
    TimedOut(Duration),
    #[error("cancelled")]
    Cancelled,
}

/// `registry:5000/team/app:1.2` → (`registry:5000/team/app`, `1.2`); no tag means `latest` (the
/// API would otherwise pull every tag). A digest reference is used whole.
pub fn split_reference(image: &str) -> (String, Option<String>) {
    if image.contains('@') {
        return (image.to_string(), None);
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (
            image[..name_start + i].to_string(),
            Some(image[name_start + i + 1..].to_string()),
        ),
        None => (image.to_string(), Some("latest".to_string())),
    }
}

/// The image's id: from the engine when it has `image` already, else after pulling it.
pub async fn ensure(
    docker: &Docker,
    image: &str,
    logs: &mpsc::Sender<LogLine>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, ImageError> {
    if let Ok(found) = docker.inspect_image(image).await {
        say(logs, format!("[dployrd] using the local image {image}")).await;
        return Ok(found.id.unwrap_or_default());
    }
    say(logs, format!("[dployrd] pulling {image}")).await;
    let (from_image, tag) = split_reference(image);
    let mut options = CreateImageOptionsBuilder::new().from_image(&from_image);
    if let Some(tag) = &tag {
        options = options.tag(tag);
    }
    let mut pull = docker.create_image(Some(options.build()), None, None);
    let pulled = async {
        let mut last = String::new();
        while let Some(item) = pull.next().await {
            let info = item.map_err(|e| ImageError::Failed(format!("pulling {image}: {e}")))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                return Err(ImageError::Failed(format!("pulling {image}: {detail}")));
            }
            // Byte counts change many times a second; only each layer's new status is a line.
            let Some(status) = info.status else { continue };
            let line = match info.id {
                Some(id) => format!("{id}: {status}"),
                None => status,
            };
            if line != last && info.progress_detail.is_none_or(|p| p.total.is_none()) {
                say(logs, line.clone()).await;
                last = line;
            }
        }
        Ok(())
    };
    within(timeout, cancel, pulled).await?;
    docker
        .inspect_image(image)
        .await
        .map(|i| i.id.unwrap_or_default())
        .map_err(|e| {
            ImageError::Failed(format!(
                "pulled {image}, but the engine cannot find it: {e}"
            ))
        })
}

/// Builds `dir`'s `Dockerfile` (the classic builder; the context is `dir` as a tar stream) as
/// `tag`, labelled with `labels`. Returns the image id.
pub async fn build(
    docker: &Docker,
    dir: &Path,
    tag: &str,
    labels: &HashMap<String, String>,
    logs: &mpsc::Sender<LogLine>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, ImageError> {
    let context = {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || context_tar(&dir))
            .await
            .map_err(|e| ImageError::Failed(format!("packing the build context: {e}")))?
            .map_err(|e| ImageError::Failed(format!("packing the build context: {e}")))?
    };
    say(
        logs,
        format!(
            "[dployrd] docker build ({} KiB of context)",
            context.len() / 1024
        ),
    )
    .await;
    let options = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .labels(labels)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let built = async {
        let mut id = None;
        let mut pending = String::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| ImageError::Failed(e.to_string()))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                flush(logs, &mut pending, true).await;
                return Err(ImageError::Failed(detail));
            }
            if let Some(text) = info.stream {
                pending.push_str(&text);
                flush(logs, &mut pending, false).await;
            }
            if let Some(aux) = info.aux.and_then(|a| a.id) {
                id = Some(aux);
            }
        }
        flush(logs, &mut pending, true).await;
        id.ok_or_else(|| ImageError::Failed("the engine did not say which image it built".into()))
    };
    within(timeout, cancel, built).await
}

/// Removes an image dployrd built for a release that is no longer kept. Best effort.
pub async fn remove(host: &super::DockerHost, image: &str) {
    if let Ok(docker) = host.client() {
        let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
        if let Err(e) = docker.remove_image(image, Some(options), None).await {
            tracing::debug!(image, error = %e, "removing an old release's image");
        }
    }
}

/// Sends the complete lines of `pending` (all of it when `all`).
async fn flush(logs: &mpsc::Sender<LogLine>, pending: &mut String, all: bool) {
    while let Some(i) = pending.find('\n') {
        let line: String = pending.drain(..=i).collect();
        say(logs, line.trim_end().to_string()).await;
    }
    if all && !pending.trim().is_empty() {
        say(logs, std::mem::take(pending)).await;
    }
}

async fn within<T>(
    timeout: Duration,
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, ImageError>>,
) -> Result<T, ImageError> {
    tokio::select! {
        r = tokio::time::timeout(timeout, work) => r.unwrap_or(Err(ImageError::TimedOut(timeout))),
        () = cancel.cancelled() => Err(ImageError::Cancelled),
    }
}

async fn say(logs: &mpsc::Sender<LogLine>, line: String) {
    let _ = logs.send(LogLine::now(Stream::Stdout, line)).await;
}

/// `dir` as an uncompressed tar, paths relative to it, symlinks kept as links.
fn context_tar(dir: &Path) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.append_dir_all(".", dir)?;
    tar.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        let s = |r: &str| split_reference(r);
        assert_eq!(s("busybox"), ("busybox".into(), Some("latest".into())));
        assert_eq!(s("nginx:1.27"), ("nginx".into(), Some("1.27".into())));
        assert_eq!(
            s("registry:5000/team/app"),
            ("registry:5000/team/app".into(), Some("latest".into()))
        );
        assert_eq!(
            s("registry:5000/team/app:v2"),
            ("registry:5000/team/app".into(), Some("v2".into()))
        );
        assert_eq!(s("app@sha256:abcd"), ("app@sha256:abcd".into(), None));
    }

    #[test]
    fn the_context_holds_the_files_relative_to_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir(dir.path().join("www")).unwrap();
        std::fs::write(dir.path().join("www/index.html"), "hi").unwrap();
        let bytes = context_tar(dir.path()).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(
            names.contains(&"./Dockerfile".to_string())
                || names.contains(&"Dockerfile".to_string()),
            "{names:?}"
        );
        assert!(
            names.iter().any(|n| n.ends_with("www/index.html")),
            "{names:?}"
        );
    }
}
