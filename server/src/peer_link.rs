//! The peer link's listener (`DPLOYR_PEER_LISTEN`): where the other Base replicas relay
//! consoles and file transfers for agents this one holds ([`control::replicas::peers`]), and
//! the address they are told to dial (`DPLOYR_PEER_ADVERTISE`, else the bound one).

use anyhow::{Context, bail};
use tokio::net::TcpListener;

use crate::config::Config;

/// Binds the listener when asked; with the address to advertise.
pub async fn bind(config: &Config) -> anyhow::Result<Option<(TcpListener, String)>> {
    let Some(listen) = config.peer_listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the peer link on {listen}"))?;
    let bound = listener.local_addr().context("peer link address")?;
    let advertised = match &config.peer_advertise {
        Some(a) => a.clone(),
        None if bound.ip().is_unspecified() => bail!(
            "DPLOYR_PEER_LISTEN is {bound}: set DPLOYR_PEER_ADVERTISE to the host:port the other \
             replicas dial"
        ),
        None => bound.to_string(),
    };
    Ok(Some((listener, advertised)))
}
