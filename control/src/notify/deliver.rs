//! Delivering the outbox: [`Base::deliver_due`] takes each pending notification whose time has
//! come, sends it once, records the attempt, and either marks it delivered or sets the next try
//! after an exponential backoff (`retry_base`, doubled each time) until `attempts` run out.
//! [`send`] is the one way anything reaches a channel, the test action included.

use hmac::{Hmac, Mac};
use proto::api::ChannelKind;
use serde_json::json;
use sha2::Sha256;

use super::Alert;
use crate::secrets::Sealed;
use crate::store::notifications::{self as channels, ChannelRow};
use crate::store::outbox::{self as sql, AttemptRow, OutboxRow};
use crate::{Base, DomainError, clock, ids};

/// How long a worker holds a notification it took before another may try it.
const CLAIM_MS: i64 = 5 * 60_000;
/// Notifications taken per pass.
const BATCH: i64 = 50;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub http_status: Option<u16>,
    pub error: Option<String>,
}

impl Outcome {
    fn failed(error: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            http_status: None,
            error: Some(error.into()),
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` under `secret`: the webhook signature.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The sealing context of a channel's secret.
pub(crate) fn context(channel_id: &str) -> String {
    format!("notification/{channel_id}")
}

impl Base {
    /// The channel's secret in clear (signing secret or Slack/Discord URL).
    pub(crate) fn channel_secret(&self, ch: &ChannelRow) -> Result<Option<String>, DomainError> {
        let (Some(data), Some(key_id)) = (&ch.sealed, &ch.key_id) else {
            return Ok(None);
        };
        let sealed = Sealed {
            key_id: key_id.clone(),
            data: data.clone(),
        };
        let secret = self
            .keyring
            .open(&context(&ch.id), &sealed)
            .map_err(|e| DomainError::Internal(format!("channel {}: {e}", ch.id).into()))?;
        Ok(Some(secret))
    }

    /// Sends `alert` to `ch` once.
    pub(crate) async fn send(&self, ch: &ChannelRow, alert: &Alert) -> Outcome {
        let secret = match self.channel_secret(ch) {
            Ok(s) => s,
            Err(e) => return Outcome::failed(e.to_string()),
        };
        let kind = ChannelKind::parse(&ch.kind);
        let (url, body, signing) = match kind {
            Some(ChannelKind::Webhook) => {
                let body = serde_json::to_string(alert).unwrap_or_default();
                (ch.target.clone(), body, secret)
            }
            Some(ChannelKind::Slack) => {
                let body = json!({ "text": line(alert) }).to_string();
                (secret.unwrap_or_default(), body, None)
            }
            Some(ChannelKind::Discord) => {
                let body = json!({ "content": line(alert) }).to_string();
                (secret.unwrap_or_default(), body, None)
            }
            Some(ChannelKind::Email) => return self.email(ch, alert).await,
            None => return Outcome::failed(format!("unknown channel kind {}", ch.kind)),
        };
        let mut req = self
            .notify
            .http
            .post(&url)
            .header("content-type", "application/json");
        if let Some(secret) = signing {
            let timestamp = (clock::now_ms() / 1000).to_string();
            req = req
                .header("X-Dployr-Signature", signature(&secret, &timestamp, &body))
                .header("X-Dployr-Timestamp", timestamp);
        }
        match req.body(body).send().await {
            Ok(r) => Outcome {
                ok: r.status().is_success(),
                http_status: Some(r.status().as_u16()),
                error: (!r.status().is_success()).then(|| format!("answered {}", r.status())),
            },
            // Without the URL: Slack's and Discord's are secrets.
            Err(e) => Outcome::failed(describe(&e)),
        }
    }

    async fn email(&self, ch: &ChannelRow, alert: &Alert) -> Outcome {
        let Some(mailer) = &self.mailer else {
            return Outcome::failed("no SMTP relay is configured (DPLOYR_SMTP_URL)");
        };
        for to in ch.target.split(',').filter(|t| !t.is_empty()) {
            let mail = crate::mail::Mail {
                to: to.to_string(),
                subject: format!("[dployr] {}", line(alert)),
                body: format!("{}\n\n{:#}\n", line(alert), alert.details),
            };
            if let Err(e) = mailer.send(mail).await {
                return Outcome::failed(e);
            }
        }
        Outcome {
            ok: true,
            http_status: None,
            error: None,
        }
    }

    /// Sends `row` once and records the attempt; returns the outcome.
    pub(crate) async fn attempt(
        &self,
        ch: &ChannelRow,
        row: &OutboxRow,
    ) -> Result<Outcome, DomainError> {
        let outcome = match serde_json::from_str::<Alert>(&row.payload) {
            Ok(alert) => self.send(ch, &alert).await,
            Err(e) => Outcome::failed(format!("stored alert unreadable: {e}")),
        };
        let now = self.clock.now_ms();
        let tries = row.attempts + 1;
        let limits = &self.config.notify;
        let (state, next) = if outcome.ok {
            ("delivered", now)
        } else if tries >= limits.attempts {
            ("failed", now)
        } else {
            let base = i64::try_from(limits.retry_base.as_millis()).unwrap_or(i64::MAX);
            let wait = base.saturating_mul(1 << (tries - 1).min(20));
            ("pending", now.saturating_add(wait))
        };
        let mut tx = self.store.begin().await?;
        sql::insert_attempt(
            &mut *tx,
            &AttemptRow {
                id: ids::new_id(ids::ATTEMPT),
                outbox_id: row.id.clone(),
                at: now,
                ok: i64::from(outcome.ok),
                http_status: outcome.http_status.map(i64::from),
                error: outcome.error.clone(),
            },
        )
        .await?;
        sql::set_state(&mut *tx, &row.id, state, tries, next).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// One pass of the worker: every due notification tried once. Returns how many were tried.
    pub async fn deliver_due(&self) -> Result<usize, DomainError> {
        let now = self.clock.now_ms();
        let pool = self.store.pool();
        let mut tried = 0;
        for row in sql::due(pool, now, BATCH).await? {
            if !sql::claim(pool, &row, now + CLAIM_MS).await? {
                continue;
            }
            // A deleted channel took its notifications with it.
            let Some(ch) = channels::any_by_id(pool, &row.channel_id).await? else {
                continue;
            };
            let outcome = self.attempt(&ch, &row).await?;
            if !outcome.ok {
                tracing::info!(notification = %row.id, channel = %ch.id, error = ?outcome.error, "notification not delivered");
            }
            tried += 1;
        }
        Ok(tried)
    }

    /// Runs [`Base::watch_incidents`] and [`Base::deliver_due`] every `notify.every` until
    /// `shutdown` resolves.
    pub async fn run_notifications(&self, shutdown: impl std::future::Future<Output = ()>) {
        let every = self.config.notify.every;
        crate::periodic::every(every, shutdown, "notifications", || async {
            // A failed watch does not hold up deliveries. The watch runs on one replica;
            // every replica delivers (each claims its rows in the outbox).
            if self.leads_jobs().await
                && let Err(e) = self.watch_incidents().await
            {
                tracing::warn!(error = %e, "watching for incidents");
            }
            self.deliver_due().await.map(drop)
        })
        .await;
    }
}

/// The alert as one line for people.
fn line(alert: &Alert) -> String {
    if alert.resolved {
        format!("Resolved: {}", alert.text)
    } else {
        alert.text.clone()
    }
}

/// A request error without its URL.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut inner = String::new();
    while let Some(s) = source {
        inner = s.to_string();
        source = s.source();
    }
    if inner.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {inner}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            super::signature("secret", "1700000000", r#"{"a":1}"#),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
