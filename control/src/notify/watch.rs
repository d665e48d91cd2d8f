//! The periodic checks behind incidents no single event reports: an instance whose agent stays
//! away past the grace period (and its return), a crash loop that ended (a window with no
//! crash), and the disk and memory thresholds of each channel over the stored metrics. Each
//! opens or closes a row of `notification_incidents` in the transaction that queues the alert,
//! so an incident alerts once however often the check runs.

use proto::api::{AlertKind, AuditAction, ServiceStatus};
use serde_json::json;

use super::{Alert, enqueue};
use crate::events::{NewEvent, record};
use crate::metrics::RAW_STEP_MS;
use crate::store::notifications::{self as sql, ChannelRow, WatchedInstance};
use crate::store::{outbox, services};
use crate::{Base, ClientInfo, DomainError, clock, ids};

const MINUTE_MS: i64 = 60_000;
/// A disk or memory figure older than this is not looked at.
const FRESH_MS: i64 = 3 * RAW_STEP_MS;

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Base {
    /// One pass of every check.
    pub async fn watch_incidents(&self) -> Result<(), DomainError> {
        self.watch_instances().await?;
        self.watch_crash_loops().await?;
        self.watch_thresholds().await
    }

    /// Instances away past the grace period go offline (one alert, `instance.offline` event);
    /// an offline instance whose agent is back goes online (one alert, `instance.online`).
    async fn watch_instances(&self) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let grace = ms(self.config.notify.offline_grace);
        let offline = sql::open_incidents(self.store.pool(), "instance.offline").await?;
        for ins in sql::enrolled_instances(self.store.pool()).await? {
            let online = self.instance_online(&ins.id);
            let away_for = {
                let mut away = self.notify.away_since.lock().expect("away_since lock");
                if online {
                    away.remove(&ins.id);
                    0
                } else {
                    now - *away.entry(ins.id.clone()).or_insert(now)
                }
            };
            let is_offline = offline.contains(&ins.id);
            if !online && !is_offline && away_for >= grace {
                self.instance_changed(&ins, true, away_for).await?;
            } else if online && is_offline {
                self.instance_changed(&ins, false, 0).await?;
            }
        }
        Ok(())
    }

    async fn instance_changed(
        &self,
        ins: &WatchedInstance,
        offline: bool,
        away_ms: i64,
    ) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let changed = if offline {
            sql::open_incident(&mut *tx, "instance.offline", &ins.id, &ins.cluster_id, now).await?
        } else {
            sql::close_incident(&mut *tx, "instance.offline", &ins.id).await?
        };
        if !changed {
            return Ok(());
        }
        let (action, kind, text) = if offline {
            let secs = away_ms / 1000;
            (
                AuditAction::InstanceOffline,
                AlertKind::InstanceOffline,
                format!(
                    "The instance {} is offline (its agent has been away {secs} s).",
                    ins.name
                ),
            )
        } else {
            (
                AuditAction::InstanceOnline,
                AlertKind::InstanceOnline,
                format!("The instance {} is back online.", ins.name),
            )
        };
        let details = json!({ "name": ins.name, "instance": ins.id });
        let client = ClientInfo::default();
        record(
            &mut *tx,
            NewEvent {
                cluster_id: Some(&ins.cluster_id),
                actor_user_id: None,
                actor_token_id: None,
                client: &client,
                action,
                target: Some(&ins.id),
                details: details.clone(),
            },
        )
        .await?;
        let alert = Alert::new(kind, &ins.cluster_id, &ins.id, text, details);
        enqueue(&mut *tx, &alert, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A crash loop ends when its window passes without a crash while the service runs (or
    /// the service is gone).
    async fn watch_crash_loops(&self) -> Result<(), DomainError> {
        let now = clock::now_ms();
        let window = ms(self.config.notify.crash_loop_window);
        let pool = self.store.pool();
        for service_id in sql::open_incidents(pool, "service.crash_looping").await? {
            let last = sql::last_event_at(pool, AuditAction::ServiceCrashed.as_str(), &service_id)
                .await?
                .unwrap_or(0);
            let svc = services::by_id(pool, &service_id).await?;
            let ended = match &svc {
                None => true,
                Some(s) => now - last > window && s.status == ServiceStatus::Running,
            };
            if !ended {
                continue;
            }
            let mut tx = self.store.begin().await?;
            if sql::close_incident(&mut *tx, "service.crash_looping", &service_id).await?
                && let Some(s) = svc
            {
                let alert = Alert::new(
                    AlertKind::ServiceCrashLooping,
                    &s.cluster_id,
                    &s.id,
                    format!(
                        "{} has run without crashing for {} minutes.",
                        s.name,
                        window / MINUTE_MS
                    ),
                    json!({ "service": s.name }),
                )
                .resolved();
                enqueue(&mut *tx, &alert, self.clock.now_ms()).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Each channel's disk and memory thresholds over each instance of its cluster.
    async fn watch_thresholds(&self) -> Result<(), DomainError> {
        let pool = self.store.pool();
        for kind in [AlertKind::DiskHigh, AlertKind::MemoryHigh] {
            for ch in sql::subscribed_to(pool, kind.as_str()).await? {
                let instances = crate::store::instances::in_cluster(pool, &ch.cluster_id).await?;
                for ins in instances {
                    let above = self.above(kind, &ch, &ins.id).await?;
                    if let Some(above) = above {
                        self.threshold(kind, &ch, &ins.id, &ins.name, above).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `instance_id` is above `ch`'s `kind` threshold (`None`: no recent figures).
    async fn above(
        &self,
        kind: AlertKind,
        ch: &ChannelRow,
        instance_id: &str,
    ) -> Result<Option<bool>, DomainError> {
        let now = self.clock.now_ms();
        let pct_of = |used: Option<i64>, total: Option<i64>| match (used, total) {
            (Some(u), Some(t)) if t > 0 => Some(u.saturating_mul(100) / t),
            _ => None,
        };
        if kind == AlertKind::DiskHigh {
            let limit = ch.disk_pct.unwrap_or(90);
            let points = sql::host_fill(self.store.pool(), instance_id, now - FRESH_MS).await?;
            return Ok(points
                .last()
                .and_then(|p| pct_of(p.disk_used_bytes, p.disk_total_bytes))
                .map(|pct| pct >= limit));
        }
        let limit = ch.mem_pct.unwrap_or(90);
        let span = ch.mem_minutes.unwrap_or(5).saturating_mul(MINUTE_MS);
        let points = sql::host_fill(self.store.pool(), instance_id, now - span).await?;
        let Some(latest) = points.last().filter(|p| now - p.at <= FRESH_MS) else {
            return Ok(None);
        };
        let latest_above =
            pct_of(latest.mem_bytes, latest.mem_total_bytes).is_some_and(|p| p >= limit);
        if !latest_above {
            return Ok(Some(false));
        }
        // Above for the whole span: every point in it above, and points reaching back to its
        // start (within one step).
        let covers = points
            .first()
            .is_some_and(|p| p.at <= now - span + 2 * RAW_STEP_MS);
        let all_above = points
            .iter()
            .all(|p| pct_of(p.mem_bytes, p.mem_total_bytes).is_some_and(|v| v >= limit));
        Ok(Some(covers && all_above))
    }

    async fn threshold(
        &self,
        kind: AlertKind,
        ch: &ChannelRow,
        instance_id: &str,
        instance_name: &str,
        above: bool,
    ) -> Result<(), DomainError> {
        let now = self.clock.now_ms();
        let subject = format!("{}/{instance_id}", ch.id);
        let mut tx = self.store.begin().await?;
        let changed = if above {
            sql::open_incident(&mut *tx, kind.as_str(), &subject, &ch.cluster_id, now).await?
        } else {
            sql::close_incident(&mut *tx, kind.as_str(), &subject).await?
        };
        if changed {
            let what = if kind == AlertKind::DiskHigh {
                format!("disk at or above {} %", ch.disk_pct.unwrap_or(90))
            } else {
                format!(
                    "memory at or above {} % for {} minutes",
                    ch.mem_pct.unwrap_or(90),
                    ch.mem_minutes.unwrap_or(5)
                )
            };
            let text = if above {
                format!("The instance {instance_name} has its {what}.")
            } else {
                format!("The instance {instance_name} is no longer at its {what}.")
            };
            let details = json!({ "name": instance_name, "instance": instance_id });
            let mut alert = Alert::new(kind, &ch.cluster_id, instance_id, text, details);
            alert.resolved = !above;
            // For this channel only: the threshold is its own.
            let row = outbox::OutboxRow {
                id: ids::new_id(ids::NOTIFICATION),
                channel_id: ch.id.clone(),
                alert: kind.as_str().to_string(),
                payload: serde_json::to_string(&alert).unwrap_or_default(),
                state: "pending".into(),
                attempts: 0,
                next_attempt_at: now,
                created_at: now,
            };
            outbox::insert(&mut *tx, &row).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
