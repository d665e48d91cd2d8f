//! CI OIDC federation over HTTP against a test issuer of our own (its keys, discovery and JWKS
//! on 127.0.0.1): a bound repository's token gets an API token of the binding's role for its
//! cluster alone, lasting at most an hour; each refusal (wrong audience, expired, unbound
//! repository, pull request, unprotected GitLab ref, unknown issuer, bad signature, a key
//! rotated away) says why; a rotation is followed at once for a new key, and unknown keys do
//! not make Base fetch the JWKS more than once a minute.

use reqwest::Client;
use serde_json::{Value, json};
use testkit::oidc::{Issuer, now_secs};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::{Fetch, Options, TestApp, git_service};

struct Setup {
    app: TestApp,
    issuer: Issuer,
    cluster: String,
    other: String,
    audience: String,
    /// The binding of `acme/shop` in `cluster`.
    binding: String,
    /// A client with no cookies, as a CI job is.
    ci: Client,
}

async fn setup() -> Setup {
    let app = TestApp::with(Options {
        oidc_http_loopback: true,
        ..Default::default()
    })
    .await;
    let issuer = tokio::task::spawn_blocking(Issuer::start).await.unwrap();
    let cluster = app.ana_cluster().await;
    let other: Value = app
        .post("/api/v1/clusters")
        .json(&json!({ "name": "Other" }))
        .fetch()
        .await;
    let other = other["id"].as_str().unwrap().to_string();
    for c in [&cluster, &other] {
        let instance = app.instance(c, "web-1").await;
        app.create_service(c, &git_service("api", &instance)).await;
    }
    let made: Value = app
        .post(&format!("/api/v1/clusters/{cluster}/oidc/bindings"))
        .json(
            &json!({ "provider": "github", "issuer": issuer.url(), "repository": "acme/shop",
                       "role": "member" }),
        )
        .fetch()
        .await;
    let audience = made["audience"].as_str().unwrap().to_string();
    let binding = made["id"].as_str().unwrap().to_string();
    assert_eq!(
        audience, app.url,
        "the audience defaults to Base's public URL"
    );
    Setup {
        app,
        issuer,
        cluster,
        other,
        audience,
        binding,
        ci: Client::new(),
    }
}

impl Setup {
    async fn exchange(&self, token: &str) -> reqwest::Response {
        self.ci
            .post(format!("{}/api/v1/auth/oidc/exchange", self.app.url))
            .json(&json!({ "token": token }))
            .sent()
            .await
    }

    /// The status and message of a refused exchange.
    async fn refused(&self, token: &str) -> (u16, String) {
        let (status, err) = crate::support::error_of(self.exchange(token).await).await;
        (status, err["message"].as_str().unwrap().to_string())
    }

    /// The cluster's `oidc.exchange` events, newest first (as its Owner sees them).
    async fn exchange_events(&self) -> Vec<Value> {
        let path = format!(
            "/api/v1/clusters/{}/events?action=oidc.exchange",
            self.cluster
        );
        let page: Value = self.app.get(&path).fetch().await;
        page["events"].as_array().unwrap().clone()
    }

    fn bearer(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.ci
            .get(format!("{}/api/v1{path}", self.app.url))
            .bearer_auth(token)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_repository_gets_an_hour_long_token_for_its_cluster_only() {
    let s = setup().await;
    let mut issued = Vec::new();
    for kid in ["rsa-1", "ec-1"] {
        let claims = s.issuer.github_claims(&s.audience, "acme/shop");
        let r = s.exchange(&s.issuer.sign(kid, &claims)).await;
        assert_eq!(r.status(), 200, "{kid}");
        let got: Value = r.json().await.unwrap();
        assert_eq!(got["cluster_id"], json!(s.cluster));
        assert_eq!(got["role"], "member");
        let expires = OffsetDateTime::parse(got["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
        let left = expires - OffsetDateTime::now_utc();
        assert!(
            left <= time::Duration::hours(1) && left > time::Duration::minutes(55),
            "{left}"
        );

        let token = got["token"].as_str().unwrap();
        assert!(token.starts_with("dp_"));
        let services: Value = s
            .bearer(token, &format!("/clusters/{}/services", s.cluster))
            .fetch()
            .await;
        assert_eq!(
            services["services"].as_array().unwrap().len(),
            1,
            "{services}"
        );
        let elsewhere = s
            .bearer(token, &format!("/clusters/{}/services", s.other))
            .code()
            .await;
        assert_eq!(elsewhere, 404, "nothing of another cluster");
        let manage = s
            .bearer(token, &format!("/clusters/{}/oidc/bindings", s.cluster))
            .code()
            .await;
        assert_eq!(manage, 403, "a Member token manages no bindings");
        issued.push(token.to_string());
    }
    let events = s.exchange_events().await;
    assert_eq!(events.len(), 2, "{events:?}");
    let d = &events[0]["details"];
    assert_eq!(
        (d["repository"].as_str(), d["ref"].as_str()),
        (Some("acme/shop"), Some("refs/heads/main"))
    );
    assert_eq!(d["run_id"], "4242");

    // Removing the binding ends the tokens it issued at once.
    let removed = s
        .app
        .delete(&format!(
            "/api/v1/clusters/{}/oidc/bindings/{}",
            s.cluster, s.binding
        ))
        .code()
        .await;
    assert_eq!(removed, 204);
    for token in &issued {
        let path = format!("/clusters/{}/services", s.cluster);
        assert_eq!(
            s.bearer(token, &path).code().await,
            401,
            "revoked with its binding"
        );
    }
    s.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_says_why() {
    let s = setup().await;
    let good = || s.issuer.github_claims(&s.audience, "acme/shop");
    let sign = |c: &Value| s.issuer.sign("rsa-1", c);

    let mut c = good();
    c["aud"] = json!("https://elsewhere.example.com");
    let (status, msg) = s.refused(&sign(&c)).await;
    assert_eq!(status, 403);
    assert!(
        msg.contains("wrong audience") && msg.contains(&s.audience),
        "{msg}"
    );

    let mut c = good();
    c["exp"] = json!(now_secs() - 600);
    let (status, msg) = s.refused(&sign(&c)).await;
    assert_eq!((status, msg.contains("expired")), (401, true), "{msg}");

    let (status, msg) = s
        .refused(&sign(&s.issuer.github_claims(&s.audience, "acme/other")))
        .await;
    assert_eq!(status, 403);
    assert!(
        msg.contains("no binding") && msg.contains("acme/other"),
        "{msg}"
    );

    for event in ["pull_request", "pull_request_target"] {
        let mut c = good();
        c["event_name"] = json!(event);
        let (status, msg) = s.refused(&sign(&c)).await;
        assert_eq!(status, 403);
        assert!(msg.contains("pull-request") && msg.contains(event), "{msg}");
    }

    let mut c = good();
    c["iss"] = json!("https://token.actions.githubusercontent.com");
    let (status, msg) = s.refused(&sign(&c)).await;
    assert_eq!(status, 403);
    assert!(msg.contains("unknown issuer"), "{msg}");

    // One token's header and claims with another's signature.
    let (a, b) = (
        sign(&good()),
        sign(&s.issuer.github_claims(&s.audience, "acme/x")),
    );
    let forged = format!(
        "{}.{}",
        a.rsplit_once('.').unwrap().0,
        b.rsplit_once('.').unwrap().1
    );
    let (status, msg) = s.refused(&forged).await;
    assert_eq!((status, msg.contains("signature")), (401, true), "{msg}");

    // GitLab: only protected refs.
    let made = s
        .app
        .post(&format!("/api/v1/clusters/{}/oidc/bindings", s.cluster))
        .json(
            &json!({ "provider": "gitlab", "issuer": s.issuer.url(), "repository": "acme/infra",
                       "role": "guest" }),
        )
        .code()
        .await;
    assert_eq!(made, 201);
    let gitlab = |protected: &str| {
        json!({ "iss": s.issuer.url(), "aud": s.audience, "project_path": "acme/infra",
                "ref": "feature", "ref_protected": protected, "pipeline_id": "77",
                "iat": now_secs(), "exp": now_secs() + 300 })
    };
    let (status, msg) = s.refused(&sign(&gitlab("false"))).await;
    assert_eq!(status, 403);
    assert!(
        msg.contains("not protected") && msg.contains("feature"),
        "{msg}"
    );
    let ok: Value = s
        .exchange(&sign(&gitlab("true")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["role"], "guest", "{ok}");

    // Nothing refused above was recorded as an exchange.
    assert_eq!(s.exchange_events().await.len(), 1);
    s.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_followed_and_the_old_one_refused() {
    let s = setup().await;
    let claims = s.issuer.github_claims(&s.audience, "acme/shop");
    assert_eq!(
        s.exchange(&s.issuer.sign("rsa-1", &claims)).await.status(),
        200
    );
    assert_eq!(s.issuer.jwks_fetches(), 1);

    let new_kid = s.issuer.rotate();
    // The cached keys lack the new kid: Base fetches the JWKS again and accepts it.
    assert_eq!(
        s.exchange(&s.issuer.sign(&new_kid, &claims)).await.status(),
        200
    );
    assert_eq!(s.issuer.jwks_fetches(), 2);
    // The old key is no longer published, so no longer trusted, and within the minute Base
    // does not ask the issuer again.
    let (status, msg) = s.refused(&s.issuer.sign("rsa-1", &claims)).await;
    assert_eq!(status, 401);
    assert!(msg.contains("unknown key"), "{msg}");
    assert_eq!(s.issuer.jwks_fetches(), 2);
    s.app.stop().await;
}
