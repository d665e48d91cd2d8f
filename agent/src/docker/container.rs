//! One release of a docker service as one container. It gets the release's loopback port like
//! any other release: with host networking (the default) the app reads `PORT` and listens on it;
//! when the service names the port its image listens on, that port is published to
//! `127.0.0.1:<release port>` instead (then two releases can run side by side during a switch
//! even though both listen on the same port inside). Docker's init runs as PID 1, so a stop's
//! SIGTERM reaches the app (an app as PID 1 has no default signal handling and would only die
//! by SIGKILL after the grace time). Its stdout and stderr become log lines exactly as a
//! process's do.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use proto::ids::{DeploymentId, ServiceId};
use proto::resources::Resources;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{DockerHost, labels};
use crate::deploy::process::{drain_readers, pump};
use crate::deploy::{Exit, LogLine, Stream};

/// How long output may keep arriving once the container has stopped.
const DRAIN: Duration = Duration::from_secs(2);

/// What is needed to start a release's container (kept for rollbacks and restarts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerLaunch {
    pub image: String,
    pub env: BTreeMap<String, String>,
    /// The port the image listens on, published to loopback; `None`: host networking and `PORT`.
    pub container_port: Option<u16>,
    pub service_id: ServiceId,
    pub deployment_id: DeploymentId,
    /// The service's memory and CPU limits (the container's `Memory` and `NanoCpus`).
    #[serde(default)]
    pub resources: Resources,
}

impl ContainerLaunch {
    /// The container's name: one per release and port, so a restart replaces its own leftover.
    pub fn name(&self, port: u16) -> String {
        format!("dployr-{}-{port}", self.deployment_id)
    }

    /// What the engine is asked to create.
    pub fn body(&self, port: u16) -> ContainerCreateBody {
        let mut env = self.env.clone();
        let (host_config, exposed) = match self.container_port {
            None => {
                env.insert("PORT".into(), port.to_string());
                let host = HostConfig {
                    network_mode: Some("host".into()),
                    init: Some(true),
                    ..Default::default()
                };
                (host, None)
            }
            Some(inside) => {
                env.insert("PORT".into(), inside.to_string());
                let key = format!("{inside}/tcp");
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(port.to_string()),
                };
                let host = HostConfig {
                    port_bindings: Some([(key.clone(), Some(vec![binding]))].into()),
                    init: Some(true),
                    ..Default::default()
                };
                (host, Some(vec![key]))
            }
        };
        let mut host_config = host_config;
        if let Some(mb) = self.resources.memory_mb {
            let bytes = i64::from(mb) * 1024 * 1024;
            host_config.memory = Some(bytes);
            // The same as the memory: no swap on top.
            host_config.memory_swap = Some(bytes);
        }
        if let Some(millis) = self.resources.cpu_millis {
            host_config.nano_cpus = Some(i64::from(millis) * 1_000_000);
        }
        ContainerCreateBody {
            image: Some(self.image.clone()),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels(&self.service_id, &self.deployment_id)),
            exposed_ports: exposed,
            host_config: Some(host_config),
            ..Default::default()
        }
    }

    /// Creates and starts the container, and follows its output into `logs`.
    pub async fn start(
        &self,
        host: &DockerHost,
        port: u16,
        logs: mpsc::Sender<LogLine>,
    ) -> io::Result<Container> {
        let docker = host.client().map_err(io::Error::other)?;
        let name = self.name(port);
        remove(&docker, &name).await;
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        docker
            .create_container(Some(options), self.body(port))
            .await
            .map_err(|e| io::Error::other(format!("creating the container: {e}")))?;
        if let Err(e) = docker.start_container(&name, None).await {
            remove(&docker, &name).await;
            return Err(io::Error::other(format!("starting the container: {e}")));
        }
        let readers = follow_output(&docker, &name, logs);
        Ok(Container {
            docker,
            name,
            readers,
        })
    }
}

/// A started container.
#[derive(Debug)]
pub struct Container {
    docker: Docker,
    name: String,
    readers: Vec<JoinHandle<()>>,
}

impl Container {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits until the container exits, then briefly for its last output. Cancel-safe.
    pub async fn wait(&mut self) -> io::Result<Exit> {
        let exit = self
            .docker
            .wait_container(&self.name, None)
            .next()
            .await
            .unwrap_or_else(|| {
                Err(DockerError::DockerStreamError {
                    error: "the engine closed the wait".into(),
                })
            });
        let exit = match exit {
            Ok(r) => Exit::Code(r.status_code as i32),
            // bollard reports a non-zero exit as an error carrying the code.
            Err(DockerError::DockerContainerWaitError { code, .. }) => Exit::Code(code as i32),
            Err(e) => return Err(io::Error::other(format!("waiting for the container: {e}"))),
        };
        self.drain().await;
        Ok(exit)
    }

    /// Stops it (SIGTERM, SIGKILL after `grace`) and removes it.
    pub async fn stop(&mut self, grace: Duration) -> io::Result<()> {
        let secs = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::new().t(secs).build();
        let stopped = self.docker.stop_container(&self.name, Some(options)).await;
        self.drain().await;
        remove(&self.docker, &self.name).await;
        match stopped {
            Ok(())
            | Err(DockerError::DockerResponseServerError {
                status_code: 304 | 404,
                ..
            }) => Ok(()),
            Err(e) => Err(io::Error::other(format!("stopping the container: {e}"))),
        }
    }

    async fn drain(&mut self) {
        drain_readers(std::mem::take(&mut self.readers), DRAIN).await;
    }
}

/// Removes a container by name, running or not (nothing if there is none).
pub async fn remove(docker: &Docker, name: &str) {
    let force = RemoveContainerOptionsBuilder::new().force(true).build();
    let _ = docker.remove_container(name, Some(force)).await;
}

/// Stops and removes a container a previous dployrd left (after a restart took over).
pub async fn remove_by_name(host: &DockerHost, name: &str) {
    if let Ok(docker) = host.client() {
        remove(&docker, name).await;
    }
}

/// The container's output as log lines: the engine's multiplexed stream is split into one pipe
/// per stream, each read line by line as a process's pipes are.
fn follow_output(docker: &Docker, name: &str, logs: mpsc::Sender<LogLine>) -> Vec<JoinHandle<()>> {
    let (mut out_w, out_r) = tokio::io::duplex(64 * 1024);
    let (mut err_w, err_r) = tokio::io::duplex(64 * 1024);
    let options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut output = docker.logs(name, Some(options));
    let demux = tokio::spawn(async move {
        while let Some(Ok(chunk)) = output.next().await {
            let written = match chunk {
                LogOutput::StdErr { message } => err_w.write_all(&message).await,
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    out_w.write_all(&message).await
                }
                LogOutput::StdIn { .. } => Ok(()),
            };
            if written.is_err() {
                break;
            }
        }
    });
    vec![
        demux,
        tokio::spawn(pump(out_r, Stream::Stdout, logs.clone())),
        tokio::spawn(pump(err_r, Stream::Stderr, logs)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(container_port: Option<u16>) -> ContainerLaunch {
        ContainerLaunch {
            image: "app:1".into(),
            env: [("GREETING".to_string(), "hi".to_string())].into(),
            container_port,
            service_id: "svc_1".into(),
            deployment_id: "dep_1".into(),
            resources: Resources::default(),
        }
    }

    #[test]
    fn the_services_limits_are_the_containers() {
        assert_eq!(launch(None).body(41000).host_config.unwrap().memory, None);
        let mut limited = launch(None);
        limited.resources = Resources {
            memory_mb: Some(64),
            cpu_millis: Some(500),
            ..Resources::default()
        };
        let host = limited.body(41000).host_config.unwrap();
        assert_eq!(host.memory, Some(64 * 1024 * 1024));
        assert_eq!(host.memory_swap, Some(64 * 1024 * 1024));
        assert_eq!(host.nano_cpus, Some(500_000_000));
    }

    #[test]
    fn without_a_port_the_container_shares_the_host_network_and_reads_port() {
        let body = launch(None).body(41000);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        // An init as PID 1 passes SIGTERM on: most apps never expect to be PID 1.
        assert_eq!(host.init, Some(true));
        assert!(host.port_bindings.is_none());
        let env = body.env.unwrap();
        assert!(env.contains(&"PORT=41000".to_string()), "{env:?}");
        assert!(env.contains(&"GREETING=hi".to_string()), "{env:?}");
        assert_eq!(body.labels.unwrap()["dployr.service"], "svc_1");
    }

    #[test]
    fn a_named_port_is_published_to_loopback_only() {
        let body = launch(Some(80)).body(41000);
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode, None);
        let bindings = host.port_bindings.unwrap();
        let binding = &bindings["80/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some("41000"));
        assert!(body.env.unwrap().contains(&"PORT=80".to_string()));
        assert_eq!(body.exposed_ports, Some(vec!["80/tcp".to_string()]));
    }

    #[test]
    fn names_are_per_release_and_port() {
        assert_eq!(launch(None).name(41000), "dployr-dep_1-41000");
    }
}
