//! Where a service's live release is, for the console and the file explorer
//! (`crate::tools`): its directory, its plain environment and, for docker services, its container.

use super::release::release_dir;
use super::{Engine, launch};

/// Where a live release's files are and its non-secret environment (secrets never reach a
/// console: they exist only in the release's own processes).
#[derive(Debug, Clone)]
pub struct Workspace {
    pub dir: std::path::PathBuf,
    pub env: std::collections::BTreeMap<String, String>,
    /// For docker services: the release's container, where a console runs instead.
    pub container: Option<Container>,
}

/// A docker release's container as a console finds it (its name carries its port, which a
/// restart may change, so by prefix).
#[derive(Debug, Clone)]
pub struct Container {
    pub docker_url: String,
    pub name_prefix: String,
    /// Unset in the console's shell: the container's own environment has them.
    pub secret_names: Vec<String>,
}

impl Engine {
    /// The live release of `service_id`, for its console and file explorer.
    pub fn workspace(&self, service_id: &str) -> Option<Workspace> {
        let st = self.lock();
        let slot = st.services.get(service_id)?;
        let live = slot.live.as_ref()?;
        let kept = slot
            .kept
            .iter()
            .find(|k| k.deployment_id == live.deployment_id)?;
        let container = matches!(kept.launch, launch::Launch::Container(_)).then(|| Container {
            docker_url: self.inner.config.docker.url().to_string(),
            name_prefix: format!("dployr-{}-", live.deployment_id),
            secret_names: kept.secrets.0.keys().cloned().collect(),
        });
        // The service's root directory, checked again: the release could have changed since.
        let release = release_dir(self, service_id, &live.deployment_id);
        let dir = match &kept.spec.root_dir {
            None => release,
            Some(root) => crate::deploy::app_dir::resolve(&release, root).ok()?,
        };
        Some(Workspace {
            dir,
            env: kept.spec.env.clone(),
            container,
        })
    }
}
