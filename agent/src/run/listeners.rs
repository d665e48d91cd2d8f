//! The ingress's listeners for `dployrd run`: plain HTTP always, HTTPS when `--https-listen`
//! is given, both over one route table and one certificate store, started before anything
//! else and stopped last.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::RunOptions;
use crate::ingress::{self, Certificates, HttpOptions, Routes};
use crate::state::DataDir;

/// How long shutdown waits for requests in progress.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// The running listeners.
pub(super) struct Listening {
    pub http_addr: SocketAddr,
    pub https_addr: Option<SocketAddr>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("ingress: cannot listen for {what} on {addr}: {e}"))
}

impl Listening {
    pub(super) async fn start(
        options: &RunOptions,
        routes: &Routes,
        certs: &Certificates,
    ) -> anyhow::Result<Listening> {
        let http = bind(options.ingress_listen, "HTTP").await?;
        let https = match options.https_listen {
            Some(addr) => Some(bind(addr, "HTTPS").await?),
            None => None,
        };
        let http_addr = http.local_addr()?;
        let https_addr = https.as_ref().map(TcpListener::local_addr).transpose()?;
        let stop = CancellationToken::new();
        let mut tasks = Vec::new();
        let http_options = HttpOptions {
            certs: Some(certs.clone()),
            https_port: https_addr.map(|a| a.port()),
        };
        tasks.push(tokio::spawn(ingress::serve_http(
            http,
            routes.clone(),
            http_options,
            stop.clone().cancelled_owned(),
        )));
        if let Some(https) = https {
            tasks.push(tokio::spawn(ingress::serve_https(
                https,
                routes.clone(),
                certs.clone(),
                stop.clone().cancelled_owned(),
            )));
        }
        Ok(Listening {
            http_addr,
            https_addr,
            stop,
            tasks,
        })
    }

    /// Where the listeners actually are (port 0 picks one), for `dployrd status` and tests:
    /// `ingress.addr` (HTTP) and, with HTTPS, `https.addr`.
    pub(super) fn write_addrs(&self, data: &DataDir) {
        let _ = std::fs::write(data.path().join("ingress.addr"), self.http_addr.to_string());
        let https = data.path().join("https.addr");
        match self.https_addr {
            Some(addr) => {
                let _ = std::fs::write(https, addr.to_string());
            }
            None => {
                let _ = std::fs::remove_file(https);
            }
        }
    }

    /// Stops both, waiting a little for requests in progress.
    pub(super) async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(STOP_WAIT, async {
            for task in self.tasks {
                let _ = task.await;
            }
        })
        .await;
    }
}
