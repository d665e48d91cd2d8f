//! REST bodies of alerts and notifications (`/api/v1/clusters/{id}/notifications`): channels a
//! cluster sends alerts to (a signed webhook, Slack, Discord, email), the alert kinds each one
//! subscribes to, and each delivery with its attempts. Secrets (the webhook's signing secret,
//! Slack's and Discord's URLs) go in once and never come out: the signing secret is shown once,
//! in the answer to the creation.

use serde::{Deserialize, Serialize};

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// `POST` of JSON to any http(s) URL, signed: `X-Dployr-Timestamp: <unix seconds>` and
    /// `X-Dployr-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
    Webhook,
    /// A Slack incoming-webhook URL (`{"text": ...}`).
    Slack,
    /// A Discord webhook URL (`{"content": ...}`).
    Discord,
    /// Email addresses, through Base's SMTP settings.
    Email,
}

crate::names::wire_names!(ChannelKind, "channel kind" {
    Webhook => "webhook",
    Slack => "slack",
    Discord => "discord",
    Email => "email",
});

/// What a channel can be told about. Incidents (offline, crash-looping, disk, memory) send one
/// alert when they start and one (`resolved: true`, or `instance.online`) when they end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AlertKind {
    #[serde(rename = "deploy.failed")]
    DeployFailed,
    #[serde(rename = "deploy.succeeded")]
    DeploySucceeded,
    #[serde(rename = "service.unhealthy")]
    ServiceUnhealthy,
    #[serde(rename = "service.recovered")]
    ServiceRecovered,
    #[serde(rename = "service.crash_looping")]
    ServiceCrashLooping,
    #[serde(rename = "instance.offline")]
    InstanceOffline,
    #[serde(rename = "instance.online")]
    InstanceOnline,
    #[serde(rename = "certificate.failing")]
    CertificateFailing,
    #[serde(rename = "disk.high")]
    DiskHigh,
    #[serde(rename = "memory.high")]
    MemoryHigh,
    /// Only sent by the test action; nothing subscribes to it.
    #[serde(rename = "test")]
    Test,
}

crate::names::wire_names!(AlertKind, "alert kind" {
    DeployFailed => "deploy.failed",
    DeploySucceeded => "deploy.succeeded",
    ServiceUnhealthy => "service.unhealthy",
    ServiceRecovered => "service.recovered",
    ServiceCrashLooping => "service.crash_looping",
    InstanceOffline => "instance.offline",
    InstanceOnline => "instance.online",
    CertificateFailing => "certificate.failing",
    DiskHigh => "disk.high",
    MemoryHigh => "memory.high",
    Test => "test",
});

/// A channel as anyone allowed to list it sees it: never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: ChannelKind,
    /// A webhook's URL; absent for Slack and Discord (their URL is the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An email channel's recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    pub events: Vec<AlertKind>,
    #[serde(flatten)]
    pub thresholds: Thresholds,
    pub created_at: String,
    /// The newest delivery, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery: Option<Delivery>,
}

/// The limits of `disk.high` and `memory.high`, per channel (defaults: disk 90 %, memory
/// 90 % for 5 minutes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// `disk.high` when an instance's disk is at least this full (percent, 1-100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_pct: Option<u8>,
    /// `memory.high` when an instance's memory stays at least this full (percent, 1-100) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_pct: Option<u8>,
    /// ... for this many minutes (1-1440).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_minutes: Option<u32>,
}

/// `POST /api/v1/clusters/{id}/notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateChannelRequest {
    pub name: String,
    pub kind: ChannelKind,
    /// The http(s) URL of a webhook, Slack or Discord channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The recipients of an email channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    pub events: Vec<AlertKind>,
    #[serde(default, flatten)]
    pub thresholds: Thresholds,
}

/// The answer to a creation: the only time a webhook's signing secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedChannel {
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
}

/// `PATCH /api/v1/clusters/{id}/notifications/{channel}`: what is given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateChannelRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<AlertKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

/// One try to deliver a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    pub at: String,
    pub ok: bool,
    /// The receiver's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why it failed (no answer, a refusal, an SMTP error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One notification to one channel: `pending` (retried with backoff), `delivered`, or
/// `failed` after the last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: String,
    pub alert: AlertKind,
    /// The message as people read it.
    pub text: String,
    pub state: String,
    pub created_at: String,
    /// Oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_channel_round_trips_with_its_thresholds_flat() {
        let made = CreatedChannel {
            channel: Channel {
                id: "nch_1".into(),
                name: "ops".into(),
                kind: ChannelKind::Webhook,
                url: Some("http://127.0.0.1/hook".into()),
                emails: Vec::new(),
                events: vec![AlertKind::DeployFailed, AlertKind::InstanceOffline],
                thresholds: Thresholds {
                    disk_pct: Some(80),
                    ..Thresholds::default()
                },
                created_at: "2026-01-01T00:00:00Z".into(),
                last_delivery: None,
            },
            signing_secret: Some("nhsec_x".into()),
        };
        let text = serde_json::to_string(&made).unwrap();
        assert!(text.contains(r#""disk_pct":80"#), "{text}");
        let back: CreatedChannel = serde_json::from_str(&text).unwrap();
        assert_eq!(back, made);
        crate::names::assert_names_match_serde(
            &AlertKind::ALL,
            AlertKind::as_str,
            AlertKind::parse,
        );
        crate::names::assert_names_match_serde(
            &ChannelKind::ALL,
            ChannelKind::as_str,
            ChannelKind::parse,
        );
    }
}
