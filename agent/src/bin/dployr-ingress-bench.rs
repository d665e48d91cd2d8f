//! `dployr-ingress-bench`: the two processes `.ci/bench-ingress` measures dployrd's ingress
//! with, not part of dployrd. Running the real `dployrd run` would need a Base, so this runs
//! the same listeners `dployrd run` starts (`ingress::serve_http` and `ingress::serve_https`,
//! on tokio's default multi-thread runtime like dployrd) with one route to one upstream.
//!
//! - `upstream --listen ADDR`: the app both proxies forward to: HTTP/1.1 keep-alive, a 13-byte
//!   `text/plain` answer to every request.
//! - `ingress --http ADDR --https ADDR --upstream ADDR --cert-dir DIR`: makes a self-signed
//!   certificate for `localhost` with rcgen (written to `DIR/localhost.pem` and
//!   `DIR/localhost.key`, 0600, so nginx serves the same one), installs it in a
//!   [`Certificates`] store under `DIR/store`, routes `localhost` (HTTPS) and `plain.test`
//!   (HTTP; no certificate, so it is proxied, not redirected) to the upstream, and serves until
//!   SIGINT or SIGTERM. It prints `ready` on stdout once both listeners are bound.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use agent::ingress::{self, Certificates, HttpOptions, Routes};
use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http::{Response, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// The host HTTPS is benchmarked on (the certificate's name; wrk sends it as SNI and `Host`).
const TLS_HOST: &str = "localhost";
/// The host plain HTTP is benchmarked on: routed, but with no certificate, so not redirected.
const PLAIN_HOST: &str = "plain.test";
const ANSWER: &[u8] = b"hello, bench\n";

#[derive(Parser)]
#[command(about = "dployrd's ingress and a tiny upstream app, for .ci/bench-ingress")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The app behind both proxies.
    Upstream {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// dployrd's HTTP and HTTPS ingress with a route to `--upstream`.
    Ingress {
        #[arg(long)]
        http: SocketAddr,
        #[arg(long)]
        https: SocketAddr,
        #[arg(long)]
        upstream: SocketAddr,
        /// Where the certificate, its key and the store go (must exist).
        #[arg(long)]
        cert_dir: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        // One thread: the app must cost both proxies the same and leave them the CPU.
        Command::Upstream { listen } => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(upstream(listen)),
        // tokio's default (one worker per core), as `#[tokio::main]` gives dployrd.
        Command::Ingress {
            http,
            https,
            upstream,
            cert_dir,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run_ingress(http, https, upstream, &cert_dir)),
    }
}

async fn upstream(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!("ready");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = service_fn(|_req| async {
                let mut response = Response::new(Full::new(Bytes::from_static(ANSWER)));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain"),
                );
                Ok::<_, Infallible>(response)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn run_ingress(
    http: SocketAddr,
    https: SocketAddr,
    upstream: SocketAddr,
    cert_dir: &Path,
) -> anyhow::Result<()> {
    let key = rcgen::KeyPair::generate()?;
    let cert = rcgen::CertificateParams::new(vec![TLS_HOST.to_owned()])?.self_signed(&key)?;
    let (chain_pem, key_pem) = (cert.pem(), key.serialize_pem());
    write_private(&cert_dir.join("localhost.pem"), &chain_pem)?;
    write_private(&cert_dir.join("localhost.key"), &key_pem)?;
    let certs = Certificates::open(cert_dir.join("store"))?;
    certs.install(TLS_HOST, &chain_pem, &key_pem, true)?;

    let routes = Routes::new();
    routes.set("tls", vec![TLS_HOST.into()], upstream)?;
    routes.set("plain", vec![PLAIN_HOST.into()], upstream)?;

    let http_listener = TcpListener::bind(http)
        .await
        .with_context(|| format!("binding {http}"))?;
    let https_listener = TcpListener::bind(https)
        .await
        .with_context(|| format!("binding {https}"))?;
    // As `dployrd run` sets it up: HTTP answers ACME and redirects hosts with a certificate.
    let options = HttpOptions {
        certs: Some(certs.clone()),
        https_port: Some(https_listener.local_addr()?.port()),
    };
    let mut term = signal(SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let plain = tokio::spawn(ingress::serve_http(
        http_listener,
        routes.clone(),
        options,
        stopped(rx.clone()),
    ));
    let tls = tokio::spawn(ingress::serve_https(
        https_listener,
        routes,
        certs,
        stopped(rx),
    ));
    println!("ready");
    stop.await;
    let _ = tx.send(true);
    plain.await?;
    tls.await?;
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
