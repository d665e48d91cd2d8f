//! What Base may ask of a service besides a deploy: a rollback to a kept release, stop, start,
//! restart and remove; and stopping everything when dployrd shuts down. A stopped service keeps
//! its live release, so a start brings that back.

use proto::ids::ServiceId;
use proto::wire::{CommandFailure, Lifecycle, RunState};
use tokio_util::sync::CancellationToken;

use super::launch::Launch;
use super::{COMMAND_DRAIN, Engine, release};

impl Engine {
    /// Switches a service back to a kept release, without a build.
    pub(super) async fn rollback(
        &self,
        service_id: &str,
        deployment_id: &str,
    ) -> Result<(), CommandFailure> {
        release::rollback(self, service_id, deployment_id, COMMAND_DRAIN).await
    }

    /// Carries out a lifecycle command on a service.
    pub(super) async fn lifecycle(
        &self,
        service_id: &str,
        action: Lifecycle,
    ) -> Result<(), CommandFailure> {
        match action {
            Lifecycle::Stop => {
                self.stop_live(service_id, RunState::Stopped).await;
                Ok(())
            }
            Lifecycle::Start | Lifecycle::Restart => {
                release::restart(self, service_id, COMMAND_DRAIN).await
            }
            Lifecycle::Remove => {
                self.stop_live(service_id, RunState::Stopped).await;
                self.inner.routes.remove(service_id);
                let slot = self.lock().services.remove(service_id);
                let mut had_containers = false;
                if let Some(slot) = slot {
                    if let Some((_, token)) = slot.current {
                        token.cancel();
                    }
                    had_containers = slot
                        .kept
                        .iter()
                        .any(|k| matches!(k.launch, Launch::Container(_)));
                }
                if had_containers {
                    crate::docker::remove_service(&self.inner.config.docker, service_id).await;
                }
                let dir = self.inner.config.services_dir.join(service_id);
                let _ = tokio::fs::remove_dir_all(dir).await;
                crate::deploy::service_user::remove(service_id).await;
                Ok(())
            }
        }
    }

    /// Stops every service's live release and cancels deployments in progress.
    pub async fn stop_all(&self) {
        let ids: Vec<ServiceId> = {
            let st = self.lock();
            for slot in st.services.values() {
                if let Some((_, token)) = &slot.current {
                    token.cancel();
                }
            }
            st.services.keys().cloned().collect()
        };
        for id in ids {
            self.stop_live(&id, RunState::Stopped).await;
        }
    }

    /// Stops the live release (keeping it as the live one, so `start` brings it back).
    async fn stop_live(&self, service_id: &str, run: RunState) {
        let stopping = {
            let mut st = self.lock();
            st.services.get_mut(service_id).and_then(|slot| {
                slot.run = Some(run);
                slot.live.as_mut().map(|live| {
                    let old = std::mem::replace(&mut live.stop, CancellationToken::new());
                    let task = std::mem::replace(&mut live.task, tokio::spawn(async {}));
                    (old, task)
                })
            })
        };
        if let Some((stop, task)) = stopping {
            stop.cancel();
            let _ = task.await;
        }
        self.service_report(service_id);
    }
}
