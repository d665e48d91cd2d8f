//! Base's own request counts for `GET /metrics`: every HTTP request Base answers, by the class of
//! its route and the class of its status. Counted in a middleware with relaxed atomics (Base is
//! not the ingress: a handful of increments per request is nothing next to its database work).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The route classes, as the `route` label names them.
pub const ROUTES: [&str; 7] = [
    "api", "hooks", "install", "metrics", "health", "assets", "page",
];
/// The status classes, as the `status` label names them.
pub const STATUSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Counts since Base started, by route class and status class.
#[derive(Debug, Default)]
pub struct HttpCounts {
    counts: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
}

/// The route class of a path: what it is for, never the path itself (ids would make one
/// series per object).
pub fn route_class(path: &str) -> usize {
    let class = if path.starts_with("/api/") {
        "api"
    } else if path.starts_with("/hooks/") {
        "hooks"
    } else if path == "/install.sh" || path.starts_with("/download/") {
        "install"
    } else if path == "/metrics" {
        "metrics"
    } else if path == "/healthz" {
        "health"
    } else if path.starts_with("/pkg/") || path.starts_with("/xterm/") || path.contains('.') {
        "assets"
    } else {
        "page"
    };
    ROUTES.iter().position(|r| *r == class).unwrap_or(0)
}

impl HttpCounts {
    pub fn add(&self, route: usize, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(row) = self.counts.get(route) {
            row[class].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(route, status, count)` for every pair counted at least once.
    pub fn snapshot(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut out = Vec::new();
        for (r, row) in self.counts.iter().enumerate() {
            for (s, n) in row.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    out.push((ROUTES[r], STATUSES[s], n));
                }
            }
        }
        out
    }
}

/// Counts the request once its response head is ready.
pub async fn count(State(counts): State<Arc<HttpCounts>>, req: Request, next: Next) -> Response {
    let route = route_class(req.uri().path());
    let response = next.run(req).await;
    counts.add(route, response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_in_their_route_class_and_statuses_in_theirs() {
        let name = |p| ROUTES[route_class(p)];
        assert_eq!(name("/api/v1/services/svc_1"), "api");
        assert_eq!(name("/hooks/github/svc_1"), "hooks");
        assert_eq!(name("/metrics"), "metrics");
        assert_eq!(name("/pkg/frontend_bg.wasm"), "assets");
        assert_eq!(name("/clusters/c1/services"), "page");
        let counts = HttpCounts::default();
        counts.add(route_class("/api/v1/me"), 200);
        counts.add(route_class("/api/v1/me"), 201);
        counts.add(route_class("/"), 404);
        assert_eq!(
            counts.snapshot(),
            vec![("api", "2xx", 2), ("page", "4xx", 1)]
        );
    }
}
