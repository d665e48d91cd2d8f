//! `GET /metrics` end to end: a real dployrd reports its host and a deployed service, and an
//! Owner's API token scrapes Base. Every line of the answer is valid text exposition format,
//! every family has `# HELP` and `# TYPE`, and known series carry the right values (the agent
//! is connected, the deploy finished live, the host's memory equals what REST shows). No token,
//! a wrong one, a browser session and a Member's token are refused.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use proto::api::MetricSeries;
use reqwest::Client;
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp};
use crate::{base_with_owner, deploy_live, node_service};

const APP: &str =
    "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1');";

/// One sample line: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Parses the exposition, failing on any line that is not a comment, a blank or a valid sample,
/// and on a sample whose family has no `# HELP` and `# TYPE` before it.
fn parse(text: &str) -> Vec<Sample> {
    let mut helped = HashSet::new();
    let mut typed = HashMap::new();
    let mut samples = Vec::new();
    let is_name = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(is_name(name) && !help.is_empty(), "{line}");
            helped.insert(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a type");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            typed.insert(name.to_string(), kind.to_string());
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (name, labels, rest) = match line.find('{') {
            Some(open) => {
                let close = line.rfind('}').expect("labels close");
                (
                    &line[..open],
                    parse_labels(&line[open + 1..close], line),
                    &line[close + 1..],
                )
            }
            None => {
                let (name, rest) = line.split_once(' ').expect("a value");
                (name, Vec::new(), rest)
            }
        };
        assert!(is_name(name), "{line}");
        let value = rest.trim();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        assert!(typed.contains_key(family), "no TYPE for {line}");
        samples.push((name.to_string(), labels, value));
    }
    samples
}

/// `a="x",b="y\"z"` with the format's escapes undone; panics on anything else.
fn parse_labels(text: &str, line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert_eq!(chars.next(), Some('"'), "{line}");
        let mut value = String::new();
        loop {
            match chars
                .next()
                .unwrap_or_else(|| panic!("unterminated value in {line}"))
            {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                c => value.push(c),
            }
        }
        out.push((name, value));
        match chars.next() {
            None => break,
            Some(',') => {}
            Some(c) => panic!("unexpected {c:?} in {line}"),
        }
    }
    out
}

/// The value of the sample named `name` whose labels include all of `want`.
fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, labels, _)| {
            n == name
                && want
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| *v)
}

async fn token(app: &TestApp, cluster: &str, role: &str) -> String {
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/tokens"))
        .json(&json!({ "name": format!("scrape-{role}"), "role": role }))
        .fetch()
        .await;
    made["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owners_token_scrapes_valid_exposition_with_the_fleets_figures() {
    let (app, cluster) = base_with_owner().await;
    let (invite, _agent) = crate::metrics::metered_instance(&app, &cluster).await;
    let (id, _repo) =
        node_service(&app, &cluster, &invite.instance_id, "web", APP, json!({})).await;
    deploy_live(&app, &id).await;
    let owner = token(&app, &cluster, "owner").await;
    let scrape = |bearer: Option<String>| {
        let mut r = Client::new().get(format!("{}/metrics", app.url));
        if let Some(t) = bearer {
            r = r.bearer_auth(t);
        }
        r.send()
    };

    // Waited for with a deadline: the service's first points come within a few 2 s frames.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (samples, text) = loop {
        let r = scrape(Some(owner.clone())).await.unwrap();
        assert_eq!(r.status(), 200);
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
        let text = r.text().await.unwrap();
        let samples = parse(&text);
        if value(
            &samples,
            "dployr_service_memory_bytes",
            &[("service", "web")],
        )
        .is_some()
        {
            break (samples, text);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no service series within 30 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let cluster_name = [("cluster", "Ana's cluster")];
    assert_eq!(
        value(&samples, "dployr_agents_connected", &cluster_name),
        Some(1.0),
        "{text}"
    );
    let web = [("cluster", "Ana's cluster"), ("instance", "web-1")];
    assert_eq!(
        value(&samples, "dployr_instance_connected", &web),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&samples, "dployr_deploys_running", &cluster_name),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&samples, "dployr_notification_queue_depth", &cluster_name),
        Some(0.0),
        "{text}"
    );
    let live = [("outcome", "live"), ("le", "+Inf")];
    assert_eq!(
        value(&samples, "dployr_deploy_duration_seconds_bucket", &live),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &samples,
            "dployr_deploy_duration_seconds_count",
            &[("outcome", "live")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &samples,
            "dployr_http_requests_total",
            &[("route", "api"), ("status", "2xx")]
        )
        .unwrap()
            > 0.0
    );
    let host: MetricSeries = app
        .get(&format!("/api/v1/instances/{}/metrics", invite.instance_id))
        .fetch()
        .await;
    let total = host
        .points
        .last()
        .unwrap()
        .host
        .as_ref()
        .unwrap()
        .mem_total_bytes;
    assert_eq!(
        value(&samples, "dployr_host_memory_total_bytes", &web),
        Some(total as f64),
        "{text}"
    );

    // Refused: no token, a wrong one, a browser session, a Member's token.
    assert_eq!(scrape(None).await.unwrap().status(), 401);
    assert_eq!(
        scrape(Some("dp_not_a_token".into()))
            .await
            .unwrap()
            .status(),
        401
    );
    let session = app.get("/metrics").send().await.unwrap();
    assert_eq!(session.status(), 401, "a session cookie is not enough");
    let member = token(&app, &cluster, "member").await;
    assert_eq!(scrape(Some(member)).await.unwrap().status(), 403);
}
