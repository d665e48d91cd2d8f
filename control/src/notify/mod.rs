//! Alerts and notifications (issue 19): a cluster's channels (a signed webhook, Slack, Discord,
//! email) each subscribe to alert kinds; what happens in the cluster becomes rows of an outbox
//! written in the same transaction as the audit event that tells of it, and a background worker
//! delivers them with retries and exponential backoff, recording every attempt. Nothing that
//! causes an alert waits for its delivery.
//!
//! Incidents, not storms: an instance offline, a service crash-looping or unhealthy, a failing
//! certificate, a disk or memory threshold crossed each open one row of
//! `notification_incidents` and alert once; ending it deletes the row and sends one recovery.
//!
//! - [`events`]: which audit events alert, and the incidents they open and close.
//! - [`channels`]: list, add, change, remove, test (Admin+ manage; Members list, no secrets).
//! - [`deliver`]: the outbox worker and the one way a notification is sent.
//! - [`watch`]: the periodic checks: instances offline past a grace period and back, crash
//!   loops that ended, disk and memory thresholds from the stored metrics.
//!
//! Deliveries go to any http(s) URL a manager gives, loopback included: the people who may
//! add channels (Admins and Owners) can already run code on every instance.

pub mod channels;
pub mod deliver;
pub mod events;
pub mod watch;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use proto::api::AlertKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::outbox;
use crate::{DomainError, clock, ids};

/// The timings of alerts, in one place so a test server can shorten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyLimits {
    /// An instance whose agent has been away this long is offline (`DPLOYR_OFFLINE_GRACE_SECS`).
    pub offline_grace: Duration,
    /// How often the watch and the delivery worker run.
    pub every: Duration,
    /// A service that crashed `crash_loop_count` times within `crash_loop_window` crash-loops.
    pub crash_loop_count: i64,
    pub crash_loop_window: Duration,
    /// Tries per notification before it is `failed`.
    pub attempts: i64,
    /// The wait after the first failed attempt; each next one doubles it
    /// (`DPLOYR_NOTIFY_RETRY_MS`).
    pub retry_base: Duration,
    /// How long one delivery may take.
    pub timeout: Duration,
}

impl Default for NotifyLimits {
    fn default() -> NotifyLimits {
        NotifyLimits {
            offline_grace: Duration::from_secs(30),
            every: Duration::from_secs(1),
            crash_loop_count: 3,
            crash_loop_window: Duration::from_secs(5 * 60),
            attempts: 6,
            retry_base: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a channel receives (the webhook's JSON body as is; Slack, Discord and email get `text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub alert: AlertKind,
    pub cluster_id: String,
    /// What it is about: an instance's, a service's or a domain's id or name.
    pub subject: String,
    /// True on the message that ends an incident.
    pub resolved: bool,
    pub text: String,
    pub details: Value,
    pub at: String,
}

impl Alert {
    pub fn new(
        alert: AlertKind,
        cluster_id: &str,
        subject: &str,
        text: String,
        details: Value,
    ) -> Alert {
        Alert {
            alert,
            cluster_id: cluster_id.to_string(),
            subject: subject.to_string(),
            resolved: false,
            text,
            details,
            at: clock::rfc3339(clock::now_ms()),
        }
    }

    pub fn resolved(mut self) -> Alert {
        self.resolved = true;
        self
    }
}

/// Queues `alert` for every channel of its cluster subscribed to its kind, in the caller's
/// transaction (one statement).
pub(crate) async fn enqueue<'e>(
    db: impl sqlx::Executor<'e, Database = crate::store::Db>,
    alert: &Alert,
    now: i64,
) -> Result<u64, DomainError> {
    let prefix = format!("{}_", ids::new_id(ids::NOTIFICATION));
    let payload = serde_json::to_string(alert)
        .map_err(|e| DomainError::Internal(format!("alert as JSON: {e}").into()))?;
    let n = outbox::fan_out(
        db,
        &prefix,
        &alert.cluster_id,
        alert.alert.as_str(),
        &payload,
        now,
    )
    .await?;
    Ok(n)
}

/// What the notification parts of [`crate::Base`] keep in memory.
#[derive(Debug)]
pub struct Hub {
    pub(crate) http: reqwest::Client,
    /// When the watch first saw each instance away (it is offline once the grace has passed).
    pub(crate) away_since: Mutex<HashMap<String, i64>>,
}

impl Hub {
    pub fn new(limits: &NotifyLimits) -> Hub {
        let http = reqwest::Client::builder()
            .timeout(limits.timeout)
            // A redirect could lead a delivery somewhere its manager did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("dployr/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a reqwest client with rustls and no custom roots builds");
        Hub {
            http,
            away_since: Mutex::default(),
        }
    }
}
