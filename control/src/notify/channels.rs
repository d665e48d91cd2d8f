//! A cluster's notification channels: list (Members and up, never a secret), add, change,
//! remove, test (Admins and Owners, each an audit event), and each channel's deliveries. A
//! webhook's signing secret is made here and shown once, in the answer to the creation; Slack's
//! and Discord's URLs go in and are only ever read by the delivery worker.

use proto::api::{
    AlertKind, Channel, ChannelKind, CreateChannelRequest, CreatedChannel, Delivery,
    DeliveryAttempt, Thresholds, UpdateChannelRequest,
};
use serde_json::json;

use super::Alert;
use super::deliver::{Outcome, context};
use crate::events::commit_with;
use crate::rbac::{ManageNotifications, ViewNotifications, authorize};
use crate::secrets::Sealed;
use crate::store::Tx;
use crate::store::notifications::{self as sql, ChannelRow};
use crate::store::outbox::{self, OutboxRow};
use crate::{Actor, Base, DomainError, clock, ids};

/// Deliveries listed per channel.
const DELIVERIES_SHOWN: i64 = 50;
const MAX_CHANNELS: usize = 100;

fn check_url(url: &str) -> Result<(), DomainError> {
    let ok = url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if !ok || url.len() > 2000 {
        return Err(DomainError::invalid("url", "an http:// or https:// URL"));
    }
    Ok(())
}

fn check_emails(emails: &[String]) -> Result<String, DomainError> {
    let bad = emails.is_empty()
        || emails.len() > 20
        || emails
            .iter()
            .any(|e| e.len() > 254 || e.contains(',') || e.parse::<lettre::Address>().is_err());
    if bad {
        return Err(DomainError::invalid("emails", "1 to 20 email addresses"));
    }
    Ok(emails.join(","))
}

fn check_thresholds(t: &Thresholds) -> Result<(), DomainError> {
    let pct = |p: Option<u8>| p.is_none_or(|p| (1..=100).contains(&p));
    if !pct(t.disk_pct) || !pct(t.memory_pct) {
        return Err(DomainError::invalid(
            "thresholds",
            "percentages from 1 to 100",
        ));
    }
    if t.memory_minutes.is_some_and(|m| !(1..=1440).contains(&m)) {
        return Err(DomainError::invalid("memory_minutes", "1 to 1440 minutes"));
    }
    Ok(())
}

fn events_column(events: &[AlertKind]) -> Result<String, DomainError> {
    if events.is_empty() || events.contains(&AlertKind::Test) {
        return Err(DomainError::invalid(
            "events",
            "at least one alert kind (not test)",
        ));
    }
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    Ok(format!(",{},", names.join(",")))
}

fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid("name", "1 to 80 characters"));
    }
    Ok(name.to_string())
}

fn attempt_to_api(a: &crate::store::outbox::AttemptRow) -> DeliveryAttempt {
    DeliveryAttempt {
        at: clock::rfc3339(a.at),
        ok: a.ok != 0,
        http_status: a.http_status.and_then(|s| u16::try_from(s).ok()),
        error: a.error.clone(),
    }
}

impl Base {
    async fn delivery(&self, row: &OutboxRow) -> Result<Delivery, DomainError> {
        let attempts = outbox::attempts_of(self.store.pool(), &row.id).await?;
        let text = serde_json::from_str::<Alert>(&row.payload)
            .map(|a| a.text)
            .unwrap_or_default();
        Ok(Delivery {
            id: row.id.clone(),
            alert: AlertKind::parse(&row.alert).unwrap_or(AlertKind::Test),
            text,
            state: row.state.clone(),
            created_at: clock::rfc3339(row.created_at),
            attempts: attempts.iter().map(attempt_to_api).collect(),
        })
    }

    async fn channel_to_api(&self, r: &ChannelRow) -> Result<Channel, DomainError> {
        let kind = ChannelKind::parse(&r.kind)
            .ok_or_else(|| DomainError::Internal(format!("channel kind {}", r.kind).into()))?;
        let last = outbox::of_channel(self.store.pool(), &r.id, 1).await?;
        let last_delivery = match last.first() {
            Some(row) => Some(self.delivery(row).await?),
            None => None,
        };
        let pct = |v: Option<i64>| v.and_then(|v| u8::try_from(v).ok());
        Ok(Channel {
            id: r.id.clone(),
            name: r.name.clone(),
            kind,
            url: (kind == ChannelKind::Webhook).then(|| r.target.clone()),
            emails: match kind {
                ChannelKind::Email => r.target.split(',').map(str::to_string).collect(),
                _ => Vec::new(),
            },
            events: r.events.split(',').filter_map(AlertKind::parse).collect(),
            thresholds: Thresholds {
                disk_pct: pct(r.disk_pct),
                memory_pct: pct(r.mem_pct),
                memory_minutes: r.mem_minutes.and_then(|m| u32::try_from(m).ok()),
            },
            created_at: clock::rfc3339(r.created_at),
            last_delivery,
        })
    }

    /// The cluster's channels, without secrets (Members and up).
    pub async fn channels(
        &self,
        actor: &Actor,
        cluster_id: &str,
    ) -> Result<Vec<Channel>, DomainError> {
        let may = authorize::<ViewNotifications>(&self.store, actor, cluster_id).await?;
        let mut out = Vec::new();
        for r in sql::in_cluster(self.store.pool(), may.cluster_id()).await? {
            out.push(self.channel_to_api(&r).await?);
        }
        Ok(out)
    }

    /// Adds a channel; a webhook's signing secret is in the answer and nowhere else in clear.
    pub async fn create_channel(
        &self,
        actor: &Actor,
        cluster_id: &str,
        req: CreateChannelRequest,
    ) -> Result<CreatedChannel, DomainError> {
        let may = authorize::<ManageNotifications>(&self.store, actor, cluster_id).await?;
        let name = check_name(&req.name)?;
        let events = events_column(&req.events)?;
        check_thresholds(&req.thresholds)?;
        let id = ids::new_id(ids::CHANNEL);
        let url = || {
            let url = req.url.clone().unwrap_or_default();
            check_url(&url).map(|()| url)
        };
        let (target, secret) = match req.kind {
            ChannelKind::Webhook => (
                url()?,
                Some(format!("nhsec_{}", crate::auth::token::random_token())),
            ),
            ChannelKind::Slack | ChannelKind::Discord => (String::new(), Some(url()?)),
            ChannelKind::Email => (check_emails(&req.emails)?, None),
        };
        let sealed = secret.as_ref().map(|s| self.keyring.seal(&context(&id), s));
        let row = ChannelRow {
            id: id.clone(),
            cluster_id: may.cluster_id().to_string(),
            name,
            kind: req.kind.as_str().to_string(),
            target,
            key_id: sealed.as_ref().map(|s| s.key_id.clone()),
            sealed: sealed.map(|s| s.data),
            events,
            disk_pct: req.thresholds.disk_pct.map(i64::from),
            mem_pct: req.thresholds.memory_pct.map(i64::from),
            mem_minutes: req.thresholds.memory_minutes.map(i64::from),
            created_at: self.clock.now_ms(),
            created_by: Some(actor.user.id.clone()),
        };
        let mut tx = self.store.begin().await?;
        if sql::in_cluster(&mut *tx, may.cluster_id()).await?.len() >= MAX_CHANNELS {
            return Err(DomainError::invalid("channels", "at most 100 per cluster"));
        }
        sql::insert(&mut *tx, &row).await?;
        let details = json!({ "name": row.name, "kind": row.kind, "events": req.events });
        let event = may.event(
            actor,
            proto::api::AuditAction::NotificationCreate,
            &id,
            details,
        );
        commit_with(tx, event).await?;
        Ok(CreatedChannel {
            channel: self.channel_to_api(&row).await?,
            signing_secret: secret.filter(|_| req.kind == ChannelKind::Webhook),
        })
    }

    /// Changes what is given of a channel (a new Slack or Discord URL replaces the sealed one).
    pub async fn update_channel(
        &self,
        actor: &Actor,
        cluster_id: &str,
        channel_id: &str,
        req: UpdateChannelRequest,
    ) -> Result<Channel, DomainError> {
        let may = authorize::<ManageNotifications>(&self.store, actor, cluster_id).await?;
        let mut tx = self.store.begin().await?;
        let mut row = sql::by_id(&mut *tx, may.cluster_id(), channel_id)
            .await?
            .ok_or(DomainError::NotFound("notification channel"))?;
        if let Some(name) = &req.name {
            row.name = check_name(name)?;
        }
        if let Some(events) = &req.events {
            row.events = events_column(events)?;
        }
        if let Some(t) = &req.thresholds {
            check_thresholds(t)?;
            row.disk_pct = t.disk_pct.map(i64::from);
            row.mem_pct = t.memory_pct.map(i64::from);
            row.mem_minutes = t.memory_minutes.map(i64::from);
        }
        let kind = ChannelKind::parse(&row.kind);
        if let Some(url) = &req.url {
            check_url(url)?;
            match kind {
                Some(ChannelKind::Webhook) => row.target = url.clone(),
                Some(ChannelKind::Slack | ChannelKind::Discord) => {
                    let Sealed { key_id, data } = self.keyring.seal(&context(&row.id), url);
                    row.sealed = Some(data);
                    row.key_id = Some(key_id);
                }
                _ => return Err(DomainError::invalid("url", "an email channel has no URL")),
            }
        }
        if let Some(emails) = &req.emails {
            if kind != Some(ChannelKind::Email) {
                return Err(DomainError::invalid(
                    "emails",
                    "only an email channel has them",
                ));
            }
            row.target = check_emails(emails)?;
        }
        sql::update(&mut *tx, &row).await?;
        // What changed, never a URL (Slack's and Discord's are secrets).
        let details = json!({
            "name": row.name,
            "url_changed": req.url.is_some(),
            "events": req.events,
        });
        let event = may.event(
            actor,
            proto::api::AuditAction::NotificationUpdate,
            &row.id,
            details,
        );
        commit_with(tx, event).await?;
        self.channel_to_api(&row).await
    }

    /// Removes a channel with its pending notifications and their history.
    pub async fn delete_channel(
        &self,
        actor: &Actor,
        cluster_id: &str,
        channel_id: &str,
    ) -> Result<(), DomainError> {
        let may = authorize::<ManageNotifications>(&self.store, actor, cluster_id).await?;
        let mut tx = self.store.begin().await?;
        let row = sql::by_id(&mut *tx, may.cluster_id(), channel_id)
            .await?
            .ok_or(DomainError::NotFound("notification channel"))?;
        sql::delete(&mut *tx, may.cluster_id(), channel_id).await?;
        let details = json!({ "name": row.name, "kind": row.kind });
        let event = may.event(
            actor,
            proto::api::AuditAction::NotificationDelete,
            &row.id,
            details,
        );
        commit_with(tx, event).await
    }

    /// Sends a test notification now and answers what came of it; it is listed with the
    /// channel's deliveries (not retried).
    pub async fn test_channel(
        &self,
        actor: &Actor,
        cluster_id: &str,
        channel_id: &str,
    ) -> Result<DeliveryAttempt, DomainError> {
        let may = authorize::<ManageNotifications>(&self.store, actor, cluster_id).await?;
        let ch = sql::by_id(self.store.pool(), may.cluster_id(), channel_id)
            .await?
            .ok_or(DomainError::NotFound("notification channel"))?;
        let alert = Alert::new(
            AlertKind::Test,
            may.cluster_id(),
            &ch.id,
            format!(
                "A test notification to {} from {}.",
                ch.name, actor.user.name
            ),
            json!({ "channel": ch.name }),
        );
        let now = self.clock.now_ms();
        let row = OutboxRow {
            id: ids::new_id(ids::NOTIFICATION),
            channel_id: ch.id.clone(),
            alert: AlertKind::Test.as_str().to_string(),
            payload: serde_json::to_string(&alert).unwrap_or_default(),
            state: "pending".into(),
            // One try: a test answers at once and is not retried.
            attempts: self.config.notify.attempts - 1,
            // Not due for the worker while this request sends it.
            next_attempt_at: i64::MAX,
            created_at: now,
        };
        outbox::insert(self.store.pool(), &row).await?;
        let Outcome {
            ok,
            http_status,
            error,
        } = self.attempt(&ch, &row).await?;
        let outcome = if ok {
            "delivered".to_string()
        } else {
            error.clone().unwrap_or_default()
        };
        let details = json!({ "name": ch.name, "outcome": outcome, "http_status": http_status });
        let tx = self.store.begin().await?;
        let event = may.event(
            actor,
            proto::api::AuditAction::NotificationTest,
            &ch.id,
            details,
        );
        commit_with(tx, event).await?;
        Ok(DeliveryAttempt {
            at: clock::rfc3339(self.clock.now_ms()),
            ok,
            http_status,
            error,
        })
    }

    /// A channel's newest deliveries with their attempts (Members and up).
    pub async fn channel_deliveries(
        &self,
        actor: &Actor,
        cluster_id: &str,
        channel_id: &str,
    ) -> Result<Vec<Delivery>, DomainError> {
        let may = authorize::<ViewNotifications>(&self.store, actor, cluster_id).await?;
        let pool = self.store.pool();
        sql::by_id(pool, may.cluster_id(), channel_id)
            .await?
            .ok_or(DomainError::NotFound("notification channel"))?;
        let mut out = Vec::new();
        for row in outbox::of_channel(pool, channel_id, DELIVERIES_SHOWN).await? {
            out.push(self.delivery(&row).await?);
        }
        Ok(out)
    }

    /// Seals every channel secret again under the current master key, in the rotation's
    /// transaction (see [`Base::reseal_secrets`]).
    pub(crate) async fn reseal_channels(&self, tx: &mut Tx<'_>) -> Result<usize, DomainError> {
        let rows = sql::sealed(&mut **tx).await?;
        for r in &rows {
            let secret = self.channel_secret(r)?.unwrap_or_default();
            let fresh = self.keyring.seal(&context(&r.id), &secret);
            let row = ChannelRow {
                sealed: Some(fresh.data),
                key_id: Some(fresh.key_id),
                ..r.clone()
            };
            sql::update(&mut **tx, &row).await?;
        }
        Ok(rows.len())
    }
}
