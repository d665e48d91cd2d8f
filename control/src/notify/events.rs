//! Which audit events alert: [`on_event`] runs in the transaction that records the event, so the
//! outbox rows land with it or not at all. Health changes open and close incidents, so a
//! flapping service or a certificate failing every retry alerts once.

use proto::api::{AlertKind, AuditAction};
use serde_json::{Value, json};

use super::{Alert, NotifyLimits, enqueue};
use crate::events::{NewEvent, record};
use crate::store::notifications as sql;
use crate::{ClientInfo, DomainError, clock};

/// Queues what `action` (just recorded for `target` in `cluster_id`, with `details`) alerts;
/// `now` is Base's clock (outbox and incident times; crash windows count by the events' own
/// system time).
pub(crate) async fn on_event(
    conn: &mut sqlx::AnyConnection,
    limits: &NotifyLimits,
    cluster_id: &str,
    action: AuditAction,
    target: &str,
    details: &Value,
    now: i64,
) -> Result<(), DomainError> {
    let text = |key: &str| {
        details
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let service = text("service");
    let alert = |kind: AlertKind, words: String| {
        Alert::new(kind, cluster_id, target, words, details.clone())
    };
    let to_send = match action {
        AuditAction::DeploymentLive => Some(alert(
            AlertKind::DeploySucceeded,
            format!("A deployment of {service} is live."),
        )),
        AuditAction::DeploymentEnd => Some(alert(
            AlertKind::DeployFailed,
            format!(
                "A deployment of {service} ended {}: {}",
                text("state"),
                text("reason")
            ),
        )),
        AuditAction::ServiceUnhealthy => {
            let opened =
                sql::open_incident(&mut *conn, "service.unhealthy", target, cluster_id, now)
                    .await?;
            opened.then(|| {
                alert(
                    AlertKind::ServiceUnhealthy,
                    format!("{service} is unhealthy: {}", text("reason")),
                )
            })
        }
        AuditAction::ServiceRecovered => {
            let closed = sql::close_incident(&mut *conn, "service.unhealthy", target).await?;
            closed.then(|| alert(AlertKind::ServiceRecovered, format!("{service} recovered.")))
        }
        AuditAction::ServiceCrashed => {
            crash_loop(conn, limits, cluster_id, target, &service, now).await?
        }
        AuditAction::DomainCertFailed => {
            let domain = text("domain");
            let opened =
                sql::open_incident(&mut *conn, "certificate.failing", &domain, cluster_id, now)
                    .await?;
            opened.then(|| {
                alert(
                    AlertKind::CertificateFailing,
                    format!(
                        "Getting a certificate for {domain} fails: {}",
                        text("reason")
                    ),
                )
            })
        }
        AuditAction::DomainCertIssued => {
            let domain = text("domain");
            let closed = sql::close_incident(&mut *conn, "certificate.failing", &domain).await?;
            closed.then(|| {
                alert(
                    AlertKind::CertificateFailing,
                    format!("{domain} has a certificate again."),
                )
                .resolved()
            })
        }
        _ => None,
    };
    if let Some(a) = to_send {
        enqueue(&mut *conn, &a, now).await?;
    }
    Ok(())
}

/// The `crash_loop_count`-th crash of `service_id` within the window opens a crash-loop
/// incident (and records `service.crash_looping`); [`super::watch`] ends it once the window
/// passes without a crash.
async fn crash_loop(
    conn: &mut sqlx::AnyConnection,
    limits: &NotifyLimits,
    cluster_id: &str,
    service_id: &str,
    service: &str,
    now: i64,
) -> Result<Option<Alert>, DomainError> {
    let window = i64::try_from(limits.crash_loop_window.as_millis()).unwrap_or(i64::MAX);
    let crashes = sql::count_events(
        &mut *conn,
        AuditAction::ServiceCrashed.as_str(),
        service_id,
        clock::now_ms() - window,
    )
    .await?;
    if crashes < limits.crash_loop_count {
        return Ok(None);
    }
    if !sql::open_incident(
        &mut *conn,
        "service.crash_looping",
        service_id,
        cluster_id,
        now,
    )
    .await?
    {
        return Ok(None);
    }
    let minutes = limits.crash_loop_window.as_secs().div_ceil(60);
    let details = json!({ "service": service, "crashes": crashes, "minutes": minutes });
    let client = ClientInfo::default();
    let event = NewEvent {
        cluster_id: Some(cluster_id),
        actor_user_id: None,
        actor_token_id: None,
        client: &client,
        action: AuditAction::ServiceCrashLooping,
        target: Some(service_id),
        details: details.clone(),
    };
    record(&mut *conn, event).await?;
    Ok(Some(Alert::new(
        AlertKind::ServiceCrashLooping,
        cluster_id,
        service_id,
        format!("{service} is crash-looping: {crashes} crashes in {minutes} minutes."),
        details,
    )))
}

impl crate::Base {
    /// Records `event` and queues what it alerts ([`on_event`]), in `conn`'s transaction.
    pub(crate) async fn record_alerting(
        &self,
        conn: &mut sqlx::AnyConnection,
        event: NewEvent<'_>,
    ) -> Result<(), DomainError> {
        let (action, details) = (event.action, event.details.clone());
        let at = event.cluster_id.zip(event.target);
        let at = at.map(|(c, t)| (c.to_string(), t.to_string()));
        record(&mut *conn, event).await?;
        if let Some((cluster_id, target)) = at {
            let (limits, now) = (&self.config.notify, self.clock.now_ms());
            on_event(conn, limits, &cluster_id, action, &target, &details, now).await?;
        }
        Ok(())
    }
}
