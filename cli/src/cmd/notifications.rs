//! `dployr notifications list|add|remove|test|deliveries`: the cluster's alert channels. `add`
//! prints a webhook's signing secret this once; `test` exits 1 when the receiver refused.

use proto::api::{
    AlertKind, Channel, ChannelKind, CreateChannelRequest, CreatedChannel, Delivery,
    DeliveryAttempt, Thresholds,
};
use reqwest::Method;

use super::Ctx;
use crate::args::NotificationsCmd;
use crate::error::{CliError, Kind, Result};

pub async fn notifications(ctx: &Ctx, cmd: NotificationsCmd) -> Result<()> {
    let cluster = ctx.cluster().await?;
    let base = format!("/clusters/{cluster}/notifications");
    match cmd {
        NotificationsCmd::List => {
            let all: Vec<Channel> = ctx.api.get(&base).await?;
            if ctx.out.printed_json(&all) {
                return Ok(());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|c| {
                    let events: Vec<&str> = c.events.iter().map(|e| e.as_str()).collect();
                    vec![
                        c.id.clone(),
                        c.name.clone(),
                        c.kind.as_str().into(),
                        events.join(","),
                        c.last_delivery.as_ref().map_or("-".into(), last),
                    ]
                })
                .collect();
            ctx.out
                .table(&["ID", "NAME", "KIND", "EVENTS", "LAST DELIVERY"], &rows);
            Ok(())
        }
        NotificationsCmd::Add {
            name,
            kind,
            endpoint,
            emails,
            events,
            disk_pct,
            memory_pct,
            memory_minutes,
        } => {
            let kind = kind.parse::<ChannelKind>().map_err(CliError::usage)?;
            let events = events
                .iter()
                .map(|e| e.parse::<AlertKind>().map_err(CliError::usage))
                .collect::<Result<Vec<_>>>()?;
            let body = CreateChannelRequest {
                name,
                kind,
                url: endpoint,
                emails,
                events,
                thresholds: Thresholds {
                    disk_pct,
                    memory_pct,
                    memory_minutes,
                },
            };
            let made: CreatedChannel = ctx.api.send(Method::POST, &base, &body).await?;
            if ctx.out.printed_json(&made) {
                return Ok(());
            }
            println!(
                "Added the {} channel {} ({}).",
                kind, made.channel.name, made.channel.id
            );
            if let Some(secret) = &made.signing_secret {
                println!("Signing secret (shown this once): {secret}");
                println!(
                    "Each POST carries X-Dployr-Timestamp and X-Dployr-Signature: \
                     sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">."
                );
            }
            Ok(())
        }
        NotificationsCmd::Remove { channel } => {
            let id = find(ctx, &base, &channel).await?;
            ctx.api
                .send_no_content(Method::DELETE, &format!("{base}/{id}"))
                .await?;
            if !ctx.out.printed_json(&serde_json::json!({ "removed": id })) {
                println!("Removed {channel}.");
            }
            Ok(())
        }
        NotificationsCmd::Test { channel } => {
            let id = find(ctx, &base, &channel).await?;
            let req = ctx.api.request(Method::POST, &format!("{base}/{id}/test"));
            let outcome: DeliveryAttempt = ctx.api.call(req).await?;
            if !ctx.out.printed_json(&outcome) {
                println!("{}", attempt(&outcome));
            }
            if outcome.ok {
                Ok(())
            } else {
                Err(CliError::new(
                    Kind::Failed,
                    "the test notification was not delivered",
                ))
            }
        }
        NotificationsCmd::Deliveries { channel } => {
            let id = find(ctx, &base, &channel).await?;
            let all: Vec<Delivery> = ctx.api.get(&format!("{base}/{id}/deliveries")).await?;
            if ctx.out.printed_json(&all) {
                return Ok(());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|d| {
                    vec![
                        d.created_at.clone(),
                        d.alert.as_str().into(),
                        d.state.clone(),
                        d.attempts.len().to_string(),
                        d.attempts.last().map_or("-".into(), attempt),
                        d.text.clone(),
                    ]
                })
                .collect();
            ctx.out.table(
                &[
                    "CREATED",
                    "ALERT",
                    "STATE",
                    "ATTEMPTS",
                    "LAST ATTEMPT",
                    "TEXT",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

/// A channel's id from its id or its name.
async fn find(ctx: &Ctx, base: &str, channel: &str) -> Result<String> {
    if channel.starts_with("nch_") {
        return Ok(channel.to_string());
    }
    let all: Vec<Channel> = ctx.api.get(base).await?;
    all.into_iter()
        .find(|c| c.name == channel)
        .map(|c| c.id)
        .ok_or_else(|| {
            CliError::usage(format!("no notification channel named {channel:?}"))
                .hint("dployr notifications list")
        })
}

fn attempt(a: &DeliveryAttempt) -> String {
    let code = a
        .http_status
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    match (&a.error, a.ok) {
        (_, true) => format!("delivered{code}"),
        (Some(e), false) => format!("failed{code}: {e}"),
        (None, false) => format!("failed{code}"),
    }
}

fn last(d: &Delivery) -> String {
    format!("{} {} ({})", d.created_at, d.alert, d.state)
}
