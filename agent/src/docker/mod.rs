//! The docker runtime: services that run as containers through the Docker Engine API (bollard)
//! rather than as processes. Everything around them is the same as for any other service (a
//! fresh loopback port per release, health check, ingress switch, supervision, logs line by
//! line), so the engine only asks this module to get an image and to start, wait on and stop a
//! container.
//!
//! - [`image`]: a service's image: pulled (or found locally), or built from the repository's
//!   `Dockerfile`.
//! - [`container`]: one release as one container, and its output as log lines.
//!
//! Every container and image dployrd makes carries the label `dployr.service=<id>`, so removing a
//! service removes them all.

pub mod container;
pub mod image;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;

pub use container::{Container, ContainerLaunch};

/// The label on everything dployrd makes for a service.
pub const SERVICE_LABEL: &str = "dployr.service";
/// How long a Docker API call that is not a stream may take.
const API_TIMEOUT_SECS: u64 = 120;
/// How long the engine gets to answer the first ping of a deploy.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Where this instance's Docker engine listens: `unix:///var/run/docker.sock` unless
/// `--docker-host`/`DOCKER_HOST` says otherwise. Only local unix sockets: dployrd and its
/// containers share one machine (ports are published to loopback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerHost(String);

impl Default for DockerHost {
    fn default() -> Self {
        DockerHost("unix:///var/run/docker.sock".into())
    }
}

impl DockerHost {
    /// `unix:///path` or a bare path.
    pub fn new(host: impl Into<String>) -> DockerHost {
        let host = host.into();
        if host.starts_with("unix://") {
            DockerHost(host)
        } else {
            DockerHost(format!("unix://{host}"))
        }
    }

    pub fn url(&self) -> &str {
        &self.0
    }

    /// A client for the engine (no connection is made yet).
    pub fn client(&self) -> Result<Docker, bollard::errors::Error> {
        Docker::connect_with_unix(&self.0, API_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)
    }

    /// A client for an engine that answers, or the error a user sees on the deploy.
    pub async fn connect(&self, instance: &str) -> Result<Docker, String> {
        let unreachable = |why: String| {
            format!(
                "the docker runtime needs a Docker engine on instance {instance}, and none answers \
                 at {} ({why}): install and start Docker (e.g. `apt install docker.io`), point \
                 dployrd at it with --docker-host, or choose another runtime",
                self.0
            )
        };
        let docker = self.client().map_err(|e| unreachable(e.to_string()))?;
        match tokio::time::timeout(PING_TIMEOUT, docker.ping()).await {
            Ok(Ok(_)) => Ok(docker),
            Ok(Err(e)) => Err(unreachable(e.to_string())),
            Err(_) => Err(unreachable(format!("no answer within {PING_TIMEOUT:?}"))),
        }
    }
}

/// The labels on a service's containers and images.
pub fn labels(service_id: &str, deployment_id: &str) -> HashMap<String, String> {
    HashMap::from([
        (SERVICE_LABEL.to_string(), service_id.to_string()),
        ("dployr.deployment".to_string(), deployment_id.to_string()),
    ])
}

/// Removes every container and built image of a service (when the service is deleted).
/// Best effort: an engine that is gone has nothing left to remove.
pub async fn remove_service(host: &DockerHost, service_id: &str) {
    use bollard::query_parameters::{
        ListContainersOptionsBuilder, ListImagesOptionsBuilder, RemoveContainerOptionsBuilder,
        RemoveImageOptionsBuilder,
    };
    let Ok(docker) = host.client() else {
        return;
    };
    let filter = HashMap::from([("label", vec![format!("{SERVICE_LABEL}={service_id}")])]);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filter)
                .build(),
        ))
        .await
        .unwrap_or_default();
    for c in containers {
        if let Some(id) = c.id {
            let force = RemoveContainerOptionsBuilder::new().force(true).build();
            let _ = docker.remove_container(&id, Some(force)).await;
        }
    }
    let images = docker
        .list_images(Some(
            ListImagesOptionsBuilder::new().filters(&filter).build(),
        ))
        .await
        .unwrap_or_default();
    for image in images {
        let force = RemoveImageOptionsBuilder::new().force(true).build();
        let _ = docker.remove_image(&image.id, Some(force), None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_socket_path_becomes_a_unix_url() {
        assert_eq!(DockerHost::new("/tmp/d.sock").url(), "unix:///tmp/d.sock");
        assert_eq!(DockerHost::new("unix:///x").url(), "unix:///x");
    }

    #[tokio::test]
    async fn an_engine_that_is_not_there_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let host = DockerHost::new(dir.path().join("docker.sock").display().to_string());
        let err = host.connect("web-1").await.unwrap_err();
        assert!(
            err.starts_with("the docker runtime needs a Docker engine on instance web-1"),
            "{err}"
        );
        assert!(err.contains(host.url()), "{err}");
    }
}
