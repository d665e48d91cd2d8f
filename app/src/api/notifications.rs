//! Server functions for a cluster's notification channels: list them with their newest delivery
//! (Members and up), add, remove and test one (Owners and Admins), and read a channel's
//! deliveries with every attempt. `control` authorizes and records the audit events, as for the
//! REST API; a webhook's signing secret is in the creation's answer only.
// The creation form's fields are the server function's arguments (one per input, as every
// form here); the macro's client-side twin does not carry a per-function allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use proto::api::{Channel, CreatedChannel, Delivery, DeliveryAttempt};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server::as_actor;

#[server(prefix = "/rpc")]
pub async fn list_channels(cluster_id: String) -> Result<Vec<Channel>, AppError> {
    as_actor(async |base, actor| base.channels(actor, &cluster_id).await).await
}

/// The form's fields as text: `events` is a comma-separated list of alert kinds, `emails` one
/// of addresses, and empty thresholds take the defaults.
#[server(prefix = "/rpc")]
pub async fn create_channel(
    cluster_id: String,
    name: String,
    kind: String,
    #[server(default)] url: String,
    #[server(default)] emails: String,
    #[server(default)] events: String,
    #[server(default)] disk_pct: String,
    #[server(default)] memory_pct: String,
    #[server(default)] memory_minutes: String,
) -> Result<CreatedChannel, AppError> {
    as_actor(async |base, actor| {
        let req = form::request(
            name,
            &kind,
            url,
            &emails,
            &events,
            [&disk_pct, &memory_pct, &memory_minutes],
        )?;
        base.create_channel(actor, &cluster_id, req).await
    })
    .await
}

#[server(prefix = "/rpc")]
pub async fn delete_channel(cluster_id: String, channel_id: String) -> Result<(), AppError> {
    as_actor(async |base, actor| base.delete_channel(actor, &cluster_id, &channel_id).await).await
}

/// Sends a test notification now; the answer is its one attempt.
#[server(prefix = "/rpc")]
pub async fn test_channel(
    cluster_id: String,
    channel_id: String,
) -> Result<DeliveryAttempt, AppError> {
    as_actor(async |base, actor| base.test_channel(actor, &cluster_id, &channel_id).await).await
}

#[server(prefix = "/rpc")]
pub async fn channel_deliveries(
    cluster_id: String,
    channel_id: String,
) -> Result<Vec<Delivery>, AppError> {
    as_actor(async |base, actor| {
        base.channel_deliveries(actor, &cluster_id, &channel_id)
            .await
    })
    .await
}

/// The creation form's text read into a request; anything unreadable is a field error.
#[cfg(feature = "ssr")]
mod form {
    use control::DomainError;
    use proto::api::{AlertKind, ChannelKind, CreateChannelRequest, Thresholds};

    pub fn request(
        name: String,
        kind: &str,
        url: String,
        emails: &str,
        events: &str,
        [disk, memory, minutes]: [&str; 3],
    ) -> Result<CreateChannelRequest, DomainError> {
        let kind = ChannelKind::parse(kind.trim()).ok_or_else(|| {
            DomainError::invalid("kind", "choose webhook, slack, discord or email")
        })?;
        let events = list(events)
            .map(|e| {
                AlertKind::parse(e)
                    .ok_or_else(|| DomainError::invalid("events", format!("unknown alert {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let url = url.trim();
        Ok(CreateChannelRequest {
            name,
            kind,
            url: (!url.is_empty()).then(|| url.to_string()),
            emails: list(emails).map(str::to_string).collect(),
            events,
            thresholds: Thresholds {
                disk_pct: number(disk, "disk_pct")?,
                memory_pct: number(memory, "memory_pct")?,
                memory_minutes: number(minutes, "memory_minutes")?,
            },
        })
    }

    fn list(text: &str) -> impl Iterator<Item = &str> {
        text.split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn number<T: std::str::FromStr>(
        text: &str,
        field: &'static str,
    ) -> Result<Option<T>, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| DomainError::invalid(field, "a whole number, or empty for the default"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_form_reads_lists_numbers_and_refuses_what_it_cannot_read() {
            let req = request(
                "ops".into(),
                "email",
                " ".into(),
                "a@example.com, b@example.com",
                "deploy.failed,instance.offline",
                ["80", "", ""],
            )
            .unwrap();
            assert_eq!(req.kind, ChannelKind::Email);
            assert_eq!(req.url, None);
            assert_eq!(req.emails, ["a@example.com", "b@example.com"]);
            assert_eq!(
                req.events,
                [AlertKind::DeployFailed, AlertKind::InstanceOffline]
            );
            assert_eq!(req.thresholds.disk_pct, Some(80));
            assert_eq!(req.thresholds.memory_pct, None);
            let bad = request("x".into(), "pager", String::new(), "", "", ["", "", ""]);
            assert!(matches!(
                bad,
                Err(DomainError::Invalid { field: "kind", .. })
            ));
            let bad = request(
                "x".into(),
                "slack",
                String::new(),
                "",
                "deploy.ok",
                ["", "", ""],
            );
            assert!(matches!(
                bad,
                Err(DomainError::Invalid {
                    field: "events",
                    ..
                })
            ));
            let bad = request("x".into(), "slack", String::new(), "", "", ["", "", "soon"]);
            assert!(matches!(
                bad,
                Err(DomainError::Invalid {
                    field: "memory_minutes",
                    ..
                })
            ));
        }
    }
}
