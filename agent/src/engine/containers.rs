//! The docker branch of a deployment: instead of a build, the release's image is pulled (or
//! found locally) or built from the repository's `Dockerfile`, and the release is a container
//! of it, which [`super::release`] switches to like any other release.

use proto::deploy::DeployState;
use proto::wire::{DeployOrder, DeployProgress};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::launch::Launch;
use super::release::{Checkout, End, Release, build_limit};
use crate::deploy::LogLine;
use crate::docker::{self, ContainerLaunch, image::ImageError};

/// Where a docker release's image comes from.
pub(super) enum Image<'a> {
    /// An image by name: the engine's copy, or pulled (as the fetch step).
    Named(&'a str),
    /// The `Dockerfile` at the top of the app's folder, built into an image of this release.
    Dockerfile(&'a Checkout),
}

/// Gets the image of `order`'s release and returns the release (a container of that image) and
/// what the deployment records as its commit: the git commit, or the pulled image's id.
pub(super) async fn release(
    engine: &Engine,
    order: &DeployOrder,
    image: Image<'_>,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<(Release, String), End> {
    let docker = engine
        .inner
        .config
        .docker
        .connect(&order.instance_name)
        .await
        .map_err(End::failed)?;
    let limit = build_limit(order);
    let (image, version) = match image {
        Image::Named(name) => {
            let id = docker::image::ensure(&docker, name, logs, limit, cancel)
                .await
                .map_err(|e| image_end(e, "pulling the image"))?;
            (name.to_string(), id)
        }
        Image::Dockerfile(checkout) => {
            if !checkout.app.join("Dockerfile").is_file() {
                return Err(End::failed(
                    "the docker runtime builds the repository's Dockerfile, and there is none at \
                     its top; add one, or deploy an image instead",
                ));
            }
            engine.progress(DeployProgress {
                deployment_id: order.deployment_id.clone(),
                state: DeployState::Building,
                commit: Some(checkout.commit.clone()),
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
            docker::image::build(&docker, &checkout.app, &tag, &labels, logs, limit, cancel)
                .await
                .map_err(|e| image_end(e, "the docker build"))?;
            (tag, checkout.commit.clone())
        }
    };
    engine.step(&order.deployment_id, DeployState::Starting);
    let release = Release {
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
            resources: order.spec.resources,
        }),
        secrets: order.secrets.clone(),
    };
    Ok((release, version))
}

fn image_end(e: ImageError, what: &str) -> End {
    match e {
        ImageError::Cancelled => End::cancelled(),
        ImageError::TimedOut(limit) => {
            End::timed_out(format!("{what} did not finish within {limit:?}"))
        }
        ImageError::Failed(why) => End::failed(format!("{what} failed: {why}")),
    }
}
