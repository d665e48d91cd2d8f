//! What the ingress tests run against: the ingress on port 0 with its own route table, real
//! upstream releases (each answers its name; `/headers`, `/echo` and `/slow` for the tests of
//! header rewriting, streamed bodies and requests in flight), and a plain HTTP/1.1 client.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent::ingress::{self, Routes};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// Every wait on a condition gives up after this; nothing here should take more than a second.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The ingress on port 0 with its own route table.
pub struct TestIngress {
    pub addr: SocketAddr,
    routes: Routes,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

impl TestIngress {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = Routes::new();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(ingress::serve(listener, routes.clone(), stopped));
        Self {
            addr,
            routes,
            stop: Some(stop),
            task,
        }
    }

    /// A release answering `name` (keep it: dropping it stops it), and an ingress routing
    /// `host` to it as service `svc-<name>`.
    pub async fn with_release(name: &'static str, host: &str) -> (Upstream, Self) {
        let release = Upstream::start(name).await;
        let ingress = Self::start().await;
        ingress.route(&format!("svc-{name}"), host, release.addr);
        (release, ingress)
    }

    pub fn route(&self, service: &str, host: &str, upstream: SocketAddr) {
        self.routes
            .set(service, vec![host.to_owned()], upstream)
            .unwrap();
    }
}

/// A release: an HTTP/1.1 server that answers its name, and on `/headers` the headers it got,
/// on `/echo` the request body as it arrives, on `/slow` its name once the test releases it.
pub struct Upstream {
    pub addr: SocketAddr,
    /// How many connections it has accepted.
    pub connections: Arc<AtomicUsize>,
    slow_arrived: mpsc::UnboundedReceiver<()>,
    release: Arc<Notify>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct Release {
    name: &'static str,
    slow_arrived: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

type UpstreamBody = BoxBody<Bytes, hyper::Error>;

impl Upstream {
    pub async fn start(name: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (arrived_tx, slow_arrived) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let state = Release {
            name,
            slow_arrived: arrived_tx,
            release: release.clone(),
        };
        let (stop, stopped) = oneshot::channel();
        let connections = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(serve_release(listener, state, connections.clone(), stopped));
        Self {
            addr,
            connections,
            slow_arrived,
            release,
            stop,
            task,
        }
    }

    pub async fn slow_request_arrived(&mut self) {
        let arrived = timeout(DEADLINE, self.slow_arrived.recv()).await;
        arrived
            .expect("a /slow request reaches the release")
            .unwrap();
    }

    pub fn finish_slow_request(&self) {
        self.release.notify_one();
    }

    /// Stops like a drained release would: no new connections, answers in progress finish,
    /// idle keep-alive connections close. Returns once all of that is done.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

async fn serve_release(
    listener: TcpListener,
    state: Release,
    connections: Arc<AtomicUsize>,
    stopped: oneshot::Receiver<()>,
) {
    let (stop, stopping) = watch::channel(());
    let mut stopped = pin!(stopped);
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted.unwrap().0,
        };
        connections.fetch_add(1, Ordering::SeqCst);
        let state = state.clone();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(state.clone(), req));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            let mut conn = pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    stop.closed().await;
}

async fn answer(
    state: Release,
    req: Request<Incoming>,
) -> Result<Response<UpstreamBody>, Infallible> {
    let text = match req.uri().path() {
        "/echo" => return Ok(Response::new(req.into_body().boxed())),
        "/headers" => {
            let names = [
                "host",
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-forwarded-host",
                "x-private",
                "keep-alive",
            ];
            let mut lines = String::new();
            for name in names {
                let values: Vec<&str> = req
                    .headers()
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap())
                    .collect();
                lines += &format!("{name}: {}\n", values.join(" | "));
            }
            lines
        }
        "/slow" => {
            state.slow_arrived.send(()).unwrap();
            state.release.notified().await;
            state.name.to_owned()
        }
        _ => state.name.to_owned(),
    };
    let body = Full::new(Bytes::from(text)).map_err(|never| match never {});
    Ok(Response::new(body.boxed()))
}

pub type ClientBody = UnsyncBoxBody<Bytes, Infallible>;

pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// GET through the ingress at `addr` with the given `Host`; `Err` if no response came.
pub async fn get<C: Connect + Clone + Send + Sync + 'static>(
    client: &Client<C, ClientBody>,
    addr: SocketAddr,
    host: &str,
    path: &str,
) -> Result<(StatusCode, String), String> {
    fetch(client, &format!("http://{addr}{path}"), host).await
}

/// GET `url` with the given `Host`; `Err` if no response came.
pub async fn fetch<C: Connect + Clone + Send + Sync + 'static>(
    client: &Client<C, ClientBody>,
    url: &str,
    host: &str,
) -> Result<(StatusCode, String), String> {
    let req = Request::get(url)
        .header(header::HOST, host)
        .body(Empty::new().boxed_unsync())
        .unwrap();
    let res = client.request(req).await.map_err(|e| format!("{e:?}"))?;
    let status = res.status();
    let body = res.into_body().collect().await.map_err(|e| e.to_string())?;
    Ok((status, String::from_utf8(body.to_bytes().to_vec()).unwrap()))
}

/// Begins a `GET /slow` for `app.test` through `ingress` and returns once it has reached
/// `release`, which holds it until [`Upstream::finish_slow_request`].
pub async fn slow_get(
    client: &Client<HttpConnector, ClientBody>,
    ingress: &TestIngress,
    release: &mut Upstream,
) -> JoinHandle<Result<(StatusCode, String), String>> {
    let slow = tokio::spawn({
        let (client, addr) = (client.clone(), ingress.addr);
        async move { get(&client, addr, "app.test", "/slow").await }
    });
    release.slow_request_arrived().await;
    slow
}

pub fn ok(body: &str) -> Result<(StatusCode, String), String> {
    Ok((StatusCode::OK, body.to_owned()))
}

pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
