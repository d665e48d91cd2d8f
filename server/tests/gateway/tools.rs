//! The console end to end: a WebSocket on a real Base, relayed over the tunnel to a real
//! dployrd, a real PTY with a real bash. Also the fixture the file tests share
//! ([`live_service`]).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Fetch, PASSWORD, TestApp, column, link_token, session_cookie};
use crate::{RunningAgent, add_instance, base_with_owner, deploy_live};
use testkit::Repo;

const PKG: &str = r#"{"name":"app","version":"1.0.0","scripts":{"start":"node server.js"}}"#;
const SERVER: &str = "require('http').createServer((q, s) => s.end('ok'))\
    .listen(process.env.PORT, '127.0.0.1');\n";

/// A Base, a dployrd and a live Node service `tools` with a plain and a secret variable.
pub(crate) struct Live {
    pub app: TestApp,
    pub agent: RunningAgent,
    pub cluster: String,
    pub instance: String,
    pub service: String,
    pub cookie: String,
}

impl Live {
    /// The folder of the service's one release on the instance.
    pub(crate) fn release_dir(&self) -> std::path::PathBuf {
        let releases = self.agent.data.path().join("services").join(&self.service);
        let mut dirs = std::fs::read_dir(releases.join("releases")).unwrap();
        dirs.next().expect("one release").unwrap().path()
    }
}

pub(crate) async fn live_service() -> Live {
    let (app, cluster) = base_with_owner().await;
    live_service_on(app, cluster).await
}

/// The same on a Base started with `opts`.
pub(crate) async fn live_service_with(opts: crate::support::Options) -> Live {
    let app = TestApp::with(opts).await;
    let cluster = app.ana_cluster().await;
    live_service_on(app, cluster).await
}

async fn live_service_on(app: TestApp, cluster: String) -> Live {
    let invite = add_instance(&app, &cluster, "web-1").await;
    let agent = RunningAgent::join_and_run(&invite).await;
    let repo = Repo::new();
    repo.commit(&[("package.json", PKG), ("server.js", SERVER)], "v1");
    let spec = json!({"name": "tools", "instance_id": invite.instance_id,
                      "source": {"git": {"url": repo.url()}}});
    let service = app.create_service(&cluster, &spec).await.id;
    for (key, value, secret) in [("GREETING", "hi-plain", false), ("TOKEN", "tok-7f3e", true)] {
        let r = app
            .put(&format!("/api/v1/services/{service}/env/{key}"))
            .json(&json!({ "value": value, "secret": secret }))
            .sent()
            .await;
        assert!(r.status().is_success());
    }
    deploy_live(&app, &service).await;
    let cookie = session_cookie(&app.login("ana@example.com", PASSWORD).await);
    Live {
        app,
        agent,
        cluster,
        instance: invite.instance_id,
        service,
        cookie,
    }
}

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn connect(
    app: &TestApp,
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let tcp = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    tokio_tungstenite::client_async(req, tcp)
        .await
        .map(|(ws, _)| ws)
}

/// Opens a console WebSocket, or returns the HTTP status it was refused with.
pub(crate) async fn console(l: &Live, cookie: &str, path: &str, session: &str) -> Result<Ws, u16> {
    let url = format!(
        "{}/api/v1{path}?session={session}&cols=80&rows=24",
        l.app.url.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("Cookie", cookie.parse().unwrap());
    req.headers_mut()
        .insert("Origin", l.app.origin.parse().unwrap());
    match connect(&l.app, req).await {
        Ok(ws) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The next JSON event from the agent.
async fn event(ws: &mut Ws) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next())
            .await
            .expect("an event in 10 s")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
            Some(Ok(_)) => {}
            other => panic!("console ended: {other:?}"),
        }
    }
}

/// Types `input` and reads output until `want` shows; returns all output read.
async fn run(ws: &mut Ws, input: &str, want: &str) -> String {
    ws.send(Message::Binary(input.as_bytes().to_vec().into()))
        .await
        .unwrap();
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_secs(10);
    while !seen.contains(want) {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => seen.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(Ok(_))) => {}
            other => panic!("waiting for {want:?} after {input:?}: {other:?}; saw {seen:?}"),
        }
    }
    seen
}

/// The digits after the last `tag=` in `out` (an echo like `pid=1234`).
fn tagged(out: &str, tag: &str) -> String {
    let at = out.rfind(&format!("{tag}=")).unwrap() + tag.len() + 1;
    out[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_runs_a_real_shell_resizes_and_comes_back_after_a_reconnect() {
    let l = live_service().await;
    let path = format!("/services/{}/console", l.service);
    let mut ws = console(&l, &l.cookie, &path, "tab-0123456789")
        .await
        .unwrap();
    let hello = event(&mut ws).await;
    assert_eq!(hello["Attached"]["resumed"], false, "{hello}");
    run(&mut ws, "echo dployr-$((40+2))\n", "dployr-42").await;
    // The service's release directory and its plain variables; never its secrets.
    let out = run(
        &mut ws,
        "echo \"dir=$PWD g=$GREETING t=${TOKEN:-none}\" e$((1+1))d\n",
        " e2d",
    )
    .await;
    assert!(out.contains("g=hi-plain t=none"), "{out}");
    assert!(
        out.contains(&format!("/services/{}/releases/", l.service)),
        "{out}"
    );

    run(&mut ws, "echo rows=$(stty size)x\n", "rows=24 80x").await;
    ws.send(Message::Text(r#"{"resize":{"cols":132,"rows":40}}"#.into()))
        .await
        .unwrap();
    run(&mut ws, "echo size=$(stty size)x\n", "size=40 132x").await;

    let out = run(&mut ws, "echo pid=$$ d$((2+3))ne\n", " d5ne").await;
    let pid = tagged(&out, "pid");
    run(&mut ws, "export MARK=kept-42; echo m$((3+4))k\n", "m7k").await;
    ws.close(None).await.unwrap();
    drop(ws);

    // Back within 60 s with the same session: the same shell, with its state.
    let mut ws = console(&l, &l.cookie, &path, "tab-0123456789")
        .await
        .unwrap();
    let hello = event(&mut ws).await;
    assert_eq!(hello["Attached"]["resumed"], true, "{hello}");
    assert_eq!(hello["Attached"]["pid"].to_string(), pid);
    let out = run(&mut ws, "echo again=$$ $MARK z$((7*7))z\n", " z49z").await;
    assert!(out.contains(&format!("again={pid} kept-42 z49z")), "{out}");

    // Another browser id is another shell.
    let mut other = console(&l, &l.cookie, &path, "tab-other-98765")
        .await
        .unwrap();
    let hello = event(&mut other).await;
    assert_eq!(hello["Attached"]["resumed"], false);
    assert_ne!(hello["Attached"]["pid"].to_string(), pid);

    // `exit` ends the shell and says so.
    ws.send(Message::Binary(b"exit 3\n".to_vec().into()))
        .await
        .unwrap();
    let ended = loop {
        let e = event(&mut ws).await;
        if e.get("Ended").is_some() {
            break e;
        }
    };
    assert!(
        ended["Ended"]["reason"]
            .as_str()
            .unwrap()
            .contains("status 3"),
        "{ended}"
    );
    drop((ws, other));

    let events: Value = l
        .app
        .get(&format!(
            "/api/v1/clusters/{}/events?action=console.",
            l.cluster
        ))
        .fetch()
        .await;
    let actions = column(&events["events"], "action");
    assert_eq!(
        actions.iter().filter(|a| **a == "console.open").count(),
        3,
        "{actions:?}"
    );
    assert!(
        !events.to_string().contains("dployr-$((40"),
        "keystrokes are never recorded"
    );
    l.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_the_instance_switch_decide_who_gets_a_console() {
    let l = live_service().await;
    let path = format!("/services/{}/console", l.service);
    for (role, expected) in [("member", Some(403)), ("guest", Some(403)), ("admin", None)] {
        let email = format!("{role}@example.com");
        let inv: Value = l
            .app
            .post(&format!("/api/v1/clusters/{}/invites", l.cluster))
            .json(&json!({ "email": email, "role": role }))
            .fetch()
            .await;
        let token = link_token(inv["invite_url"].as_str().unwrap());
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/invites/{token}/accept", l.app.url))
            .header("Origin", &l.app.origin)
            .json(&json!({ "email": email, "password": PASSWORD, "name": role }))
            .sent()
            .await;
        let cookie = session_cookie(&r);
        let got = console(&l, &cookie, &path, "role-test-0001").await;
        assert_eq!(got.as_ref().err().copied(), expected, "{role}");
        let put = reqwest::Client::new()
            .put(format!(
                "{}/api/v1/services/{}/files/content?path=x.txt",
                l.app.url, l.service
            ))
            .header("Origin", &l.app.origin)
            .header("Cookie", &cookie)
            .body("x")
            .sent()
            .await;
        assert_eq!(
            put.status().as_u16(),
            expected.unwrap_or(200),
            "{role} writes a file"
        );
    }
    // A wrong Origin is refused at the upgrade.
    let mut req = format!(
        "{}/api/v1{path}?session=origin-test-01",
        l.app.url.replace("http://", "ws://")
    )
    .into_client_request()
    .unwrap();
    req.headers_mut()
        .insert("Cookie", l.cookie.parse().unwrap());
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    assert!(connect(&l.app, req).await.is_err());

    // Switched off on the instance: even the Owner is refused, on the service and the instance.
    let r = l
        .app
        .patch(&format!("/api/v1/instances/{}", l.instance))
        .json(&json!({ "console_enabled": false }))
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["console_enabled"], false);
    assert_eq!(
        console(&l, &l.cookie, &path, "owner-off-0001").await.err(),
        Some(403)
    );
    let on_instance = format!("/instances/{}/console", l.instance);
    assert_eq!(
        console(&l, &l.cookie, &on_instance, "owner-off-0002")
            .await
            .err(),
        Some(403)
    );
    l.app
        .patch(&format!("/api/v1/instances/{}", l.instance))
        .json(&json!({ "console_enabled": true }))
        .sent()
        .await;
    let mut ws = console(&l, &l.cookie, &on_instance, "owner-on-00001")
        .await
        .unwrap();
    assert!(event(&mut ws).await.get("Attached").is_some());
    run(&mut ws, "echo on-$((6*7))\n", "on-42").await;
    l.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_console_is_closed_after_the_configured_time() {
    let l = crate::tools::live_service_with(crate::support::Options {
        console_idle_secs: Some(2),
        ..Default::default()
    })
    .await;
    let path = format!("/services/{}/console", l.service);
    let mut ws = console(&l, &l.cookie, &path, "idle-test-0001")
        .await
        .unwrap();
    assert!(event(&mut ws).await.get("Attached").is_some());
    run(&mut ws, "echo a$((2*3))b\n", "a6b").await;
    let started = Instant::now();
    let ended = loop {
        let e = event(&mut ws).await;
        if e.get("Ended").is_some() {
            break e;
        }
    };
    assert!(
        ended["Ended"]["reason"].as_str().unwrap().contains("idle"),
        "{ended}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    // A new connection with the same session gets a fresh shell.
    let mut again = console(&l, &l.cookie, &path, "idle-test-0001")
        .await
        .unwrap();
    assert_eq!(event(&mut again).await["Attached"]["resumed"], false);
    l.app.stop().await;
}
