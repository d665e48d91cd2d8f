//! L8 and L12 at the edge: every response refuses framing, sniffing and cross-site referrers,
//! and invitation tokens in request paths stay out of the request span (and so out of logs).

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::{Fetch, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l8_dashboard_cannot_be_framed() {
    let app = TestApp::start().await;
    for path in ["/", "/login", "/api/v1/me", "/healthz", "/no/such/page"] {
        let r = app.get(path).sent().await;
        let h = r.headers();
        let get = |name: &str| {
            h.get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(get("x-frame-options"), "DENY", "{path}");
        assert!(
            get("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}: {:?}",
            get("content-security-policy")
        );
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("referrer-policy"), "same-origin", "{path}");
        assert!(get("permissions-policy").contains("camera=()"), "{path}");
        // Plain HTTP (local development): no HSTS.
        assert_eq!(get("strict-transport-security"), "", "{path}");
    }
}

/// Log output, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread, so the whole server logs to this test's subscriber.
#[tokio::test(flavor = "current_thread")]
async fn l12_invite_tokens_stay_out_of_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::start().await;
    // Other tests' servers may have met the span's callsite first, concurrently with this
    // subscriber's start: have every callsite ask again now that all are registered.
    tracing::callsite::rebuild_interest_cache();
    let token = "inv-secret-7c1f2a9b4d";
    app.get(&format!("/invite/{token}")).sent().await;
    app.get(&format!("/api/v1/invites/{token}")).sent().await;
    app.post(&format!("/api/v1/invites/{token}/accept"))
        .sent()
        .await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("path=/api/v1/invites/"),
        "the requests were logged in their span: {text}"
    );
    assert!(!text.contains(token), "{text}");
    assert!(text.contains("path=/api/v1/invites/…/accept"), "{text}");
}
