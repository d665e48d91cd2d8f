//! The docker branch of a deployment: instead of a build, the release's image is pulled (or
//! found locally) or built from the repository's `Dockerfile`, then the release starts as a
//! container and goes through the same switch as any other release.

use std::path::Path;

use proto::deploy::DeployState;
use proto::wire::{DeployOrder, DeployProgress};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::launch::Launch;
use super::pipeline::{End, Kept, build_limit, switch_to};
use crate::deploy::LogLine;
use crate::docker::{self, ContainerLaunch, image::ImageError};

/// A docker service from an image: the engine's copy, or pulled (as the fetch step).
pub(super) async fn run_image(
    engine: &Engine,
    order: &DeployOrder,
    image: &str,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<(), End> {
    let docker = connect_docker(engine, order).await?;
    let limit = build_limit(order);
    let image_id = docker::image::ensure(&docker, image, logs, limit, cancel)
        .await
        .map_err(|e| image_end(e, "pulling the image"))?;
    start_container(engine, order, image.to_string(), &image_id, logs, cancel).await
}

/// A docker service from a repository: its `Dockerfile` built into an image of this release.
pub(super) async fn run_dockerfile(
    engine: &Engine,
    order: &DeployOrder,
    dir: &Path,
    commit: &str,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<(), End> {
    let docker = connect_docker(engine, order).await?;
    if !dir.join("Dockerfile").is_file() {
        return Err(End::failed(
            "the docker runtime builds the repository's Dockerfile, and there is none at its top; \
             add one, or deploy an image instead",
        ));
    }
    engine.progress(DeployProgress {
        deployment_id: order.deployment_id.clone(),
        state: DeployState::Building,
        commit: Some(commit.to_string()),
        reason: None,
        log_tail: Vec::new(),
        plan: Vec::new(),
    });
    let tag = format!(
        "dployr/{}:{}",
        order.service_id.to_ascii_lowercase(),
        order.deployment_id
    );
    let labels = docker::labels(&order.service_id, &order.deployment_id);
    let limit = build_limit(order);
    docker::image::build(&docker, dir, &tag, &labels, logs, limit, cancel)
        .await
        .map_err(|e| image_end(e, "the docker build"))?;
    start_container(engine, order, tag, commit, logs, cancel).await
}

fn image_end(e: ImageError, what: &str) -> End {
    match e {
        ImageError::Cancelled => End::cancelled(),
        ImageError::TimedOut(limit) => End {
            state: DeployState::TimedOut,
            reason: format!("{what} did not finish within {limit:?}"),
        },
        ImageError::Failed(why) => End::failed(format!("{what} failed: {why}")),
    }
}

async fn connect_docker(engine: &Engine, order: &DeployOrder) -> Result<bollard::Docker, End> {
    engine
        .inner
        .config
        .docker
        .connect(&order.instance_name)
        .await
        .map_err(End::failed)
}

/// Starts the release's container from `image` and switches to it; `version` is what the
/// deployment records as its commit (the git commit, or the pulled image's id).
async fn start_container(
    engine: &Engine,
    order: &DeployOrder,
    image: String,
    version: &str,
    logs: &mpsc::Sender<LogLine>,
    cancel: &CancellationToken,
) -> Result<(), End> {
    engine.step(&order.deployment_id, DeployState::Starting);
    let kept = Kept {
        deployment_id: order.deployment_id.clone(),
        spec: order.spec.clone(),
        launch: Launch::Container(ContainerLaunch {
            image,
            env: order
                .spec
                .env
                .clone()
                .into_iter()
                .chain(order.secrets.0.clone())
                .collect(),
            container_port: order.spec.port,
            service_id: order.service_id.clone(),
            deployment_id: order.deployment_id.clone(),
        }),
        secrets: order.secrets.clone(),
    };
    switch_to(engine, &order.service_id, kept, logs, cancel, Some(version)).await
}
