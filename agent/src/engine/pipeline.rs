//! One deployment, from its order to live (DESIGN.md §4): fetch the exact commit into a fresh
//! release directory, apply the repository's `dployr.toml` files, tell the runtime, then build
//! it natively ([`super::build`]) or get its image ([`super::containers`]: pulled for an image
//! service, which has nothing to fetch, or built from the repository's `Dockerfile`). Either
//! way what comes out is a [`Release`], and [`release::switch_to`] makes it live.

use proto::deploy::DeployState;
use proto::service::{Runtime, Source};
use proto::wire::{DeployOrder, DeployProgress};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::containers::{self, Image};
use super::logbook::TAIL_LINES;
use super::output::say;
use super::release::{self, Checkout, End, Release, drain_of, release_dir};
use super::{Engine, build};
use crate::deploy::process::LogLine;
use crate::deploy::{FetchError, app_dir, detect, fetch, repo_config, service_user};

/// Runs `order` to its end and reports every step.
pub(super) async fn deploy(engine: &Engine, order: DeployOrder, cancel: CancellationToken) {
    let logs = engine.log_sender(&order.service_id, &order.deployment_id);
    let result = match prepare(engine, &order, &cancel, &logs).await {
        Ok((release, version)) => {
            release::switch_to(
                engine,
                &order.service_id,
                release,
                Some(&version),
                drain_of(&order),
                &logs,
                &cancel,
            )
            .await
        }
        Err(end) => Err(end),
    };
    if let Err(end) = result {
        engine.progress(DeployProgress {
            deployment_id: order.deployment_id.clone(),
            state: end.state,
            commit: None,
            reason: Some(end.reason),
            log_tail: engine.log_tail(&order.service_id, TAIL_LINES),
            plan: Vec::new(),
        });
    }
}

/// Everything before the switch: the release of `order` and the version it records (the
/// commit, or the pulled image's id).
async fn prepare(
    engine: &Engine,
    order: &DeployOrder,
    cancel: &CancellationToken,
    logs: &mpsc::Sender<LogLine>,
) -> Result<(Release, String), End> {
    let id = &order.deployment_id;
    engine.step(id, DeployState::Fetching);
    let user = service_user::prepare(&engine.inner.config.services_dir, &order.service_id)
        .await
        .map_err(|e| End::failed(format!("preparing the service's system user: {e}")))?;
    let dir = release_dir(engine, &order.service_id, id);
    let _ = tokio::fs::remove_dir_all(&dir).await;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| End::failed(format!("creating {}: {e}", dir.display())))?;
    let git = match &order.spec.source {
        Source::Git(git) => git,
        Source::Image(image) => {
            return containers::release(engine, order, Image::Named(image), cancel, logs).await;
        }
    };
    let git_ref = order.git_ref.clone().unwrap_or_else(|| git.branch.clone());
    let commit = {
        let _one_at_a_time = engine.inner.fetching.lock().await;
        fetch(
            &git.url,
            &git_ref,
            &engine.inner.config.git_cache,
            &dir,
            logs,
            cancel,
        )
        .await
        .map_err(|e| match e {
            FetchError::Cancelled => End::cancelled(),
            FetchError::TimedOut(limit) => {
                End::timed_out(format!("fetching the source took longer than {limit:?}"))
            }
            other => End::failed(other.to_string()),
        })?
    };
    if let Some(user) = &user {
        service_user::give_release(&dir, user)
            .await
            .map_err(|e| End::failed(format!("giving the release to its user: {e}")))?;
    }
    // The app's folder (the service's root directory) and the repository's dployr.toml files
    // over the dashboard's settings (for this release, and for its restarts and rollbacks, which
    // keep this spec).
    let settled = app_dir::settle(&dir, &order.spec).map_err(End::failed)?;
    if !settled.changed.is_empty() {
        let note = format!(
            "[dployr] {} sets: {}",
            repo_config::FILE,
            settled.changed.join(", ")
        );
        say(logs, &note).await;
    }
    // The file's build limit applies from here on (audit finding L9): the build reads
    // `order.build_timeout_secs`. A longer one than Base's is not: Base would end the
    // deployment at its own limit anyway.
    let mut build_timeout_secs = order.build_timeout_secs;
    if let Some(asked) = settled.spec.build_timeout_secs {
        if asked > order.build_timeout_secs {
            let note = format!(
                "[dployr] {} asks for build_timeout_secs = {asked}, more than this service's \
                 limit of {build_timeout_secs} s: that limit applies (raise it in the settings)",
                repo_config::FILE
            );
            say(logs, &note).await;
        } else {
            build_timeout_secs = asked;
        }
    }
    let order = &DeployOrder {
        build_timeout_secs,
        spec: settled.spec,
        ..order.clone()
    };
    let checkout = Checkout {
        dir,
        app: settled.dir,
        commit,
    };
    let runtime = order
        .spec
        .runtime
        .or_else(|| detect(&checkout.app))
        .ok_or_else(|| {
            End::failed(
                "could not tell the runtime: no package.json, requirements.txt, go.mod, \
                 composer.json, Gemfile, *.csproj, pom.xml, Dockerfile or index.html in the \
                 app's folder (the top of the repository, or its root directory); choose a \
                 runtime in the service settings",
            )
        })?;
    if runtime == Runtime::Docker {
        let image = Image::Dockerfile(&checkout);
        return containers::release(engine, order, image, cancel, logs).await;
    }
    let release = build::build(engine, order, runtime, &checkout, user, cancel, logs).await?;
    Ok((release, checkout.commit))
}
