//! Members, invitations, API tokens, env vars and the events log over HTTP: the rules the
//! permission matrix alone does not show (last owner, single-use links, revoked tokens at once,
//! write-only secrets, filters and cursors, exports).

use proto::api::CreatedInvite;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

use crate::support::{Fetch, TestApp, column};

mod env;
mod events;
mod member_code;

struct Team {
    app: TestApp,
    cluster: String,
    ana_id: String,
}

async fn team() -> Team {
    let app = TestApp::start().await;
    let ana = app.sign_up("ana@example.com").await;
    Team {
        cluster: ana.cluster.id,
        ana_id: ana.user.id,
        app,
    }
}

impl Team {
    async fn invite(&self, email: &str, role: &str) -> (String, CreatedInvite) {
        self.app.invite(&self.cluster, email, role).await
    }

    /// `method` on `/api/v1/clusters/{cluster}{tail}` from Base's origin, as whoever's session
    /// `client` holds.
    fn as_(&self, client: &Client, method: Method, tail: &str) -> RequestBuilder {
        let url = format!("{}/api/v1/clusters/{}{tail}", self.app.url, self.cluster);
        client
            .request(method, url)
            .header("Origin", &self.app.origin)
    }

    async fn accept_signup(&self, token: &str, email: &str) -> (u16, Client, Value) {
        let (client, r) = self.app.accept_signup(token, email, "Bo").await;
        let status = r.status().as_u16();
        (status, client, r.json().await.unwrap_or(Value::Null))
    }

    /// `DELETE /api/v1/clusters/{cluster}{tail}` as Ana; the answer's status.
    async fn remove(&self, tail: &str) -> u16 {
        let path = format!("/api/v1/clusters/{}{tail}", self.cluster);
        self.app.delete(&path).code().await
    }

    async fn token(&self, role: &str, days: Option<u32>) -> (String, String) {
        let r = self
            .app
            .post(&format!("/api/v1/clusters/{}/tokens", self.cluster))
            .json(&json!({ "name": format!("ci {role}"), "role": role, "expires_in_days": days }))
            .sent()
            .await;
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_string(),
            body["api_token"]["id"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test]
async fn an_invitation_link_signs_up_once_with_its_address_even_with_sign_up_closed() {
    let t = team().await;
    let (token, made) = t.invite("Bo@Example.com", "member").await;
    assert_eq!(made.invite.email, "bo@example.com");
    assert!(made.invite_url.starts_with(&t.app.url));
    // Anyone with the link sees what it is for.
    let info: Value = Client::new()
        .get(format!("{}/api/v1/invites/{token}", t.app.url))
        .fetch()
        .await;
    assert_eq!(info["role"], "member");
    assert_eq!(info["invited_by"], "Ana Lopez");
    // Another address is refused; the invited one joins; the link is then spent.
    let (status, _, _) = t.accept_signup(&token, "eve@example.com").await;
    assert_eq!(status, 400);
    let (status, bo, body) = t.accept_signup(&token, "bo@example.com").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["cluster"]["role"], "member");
    let (status, _, _) = t.accept_signup(&token, "bo@example.com").await;
    assert_eq!(status, 404, "single use");
    // Bo is a member: he sees members, not invites.
    let members: Value = t.as_(&bo, Method::GET, "/members").fetch().await;
    let roles = column(&members["members"], "role");
    assert_eq!(roles, ["owner", "member"]);
    // A revoked invitation is gone at once.
    let (token2, made2) = t.invite("cy@example.com", "guest").await;
    let id = &made2.invite.id;
    assert_eq!(t.remove(&format!("/invites/{id}")).await, 204);
    let (status, _, _) = t.accept_signup(&token2, "cy@example.com").await;
    assert_eq!(status, 404);
    t.app.stop().await;
}

#[tokio::test]
async fn the_last_owner_can_neither_leave_nor_be_demoted_and_admins_cannot_touch_owners() {
    let t = team().await;
    let (status, err) = t
        .app
        .delete(&format!(
            "/api/v1/clusters/{}/members/{}",
            t.cluster, t.ana_id
        ))
        .refused()
        .await;
    assert_eq!(status, 409);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("at least one owner")
    );
    assert_eq!(
        t.app
            .patch(&format!(
                "/api/v1/clusters/{}/members/{}",
                t.cluster, t.ana_id
            ))
            .json(&json!({ "role": "admin" }))
            .code()
            .await,
        409
    );
    // Bo, an Admin, may not demote Ana nor invite an Admin.
    let (token, _) = t.invite("bo@example.com", "admin").await;
    let (_, bo, _) = t.accept_signup(&token, "bo@example.com").await;
    assert_eq!(
        t.as_(&bo, Method::PATCH, &format!("/members/{}", t.ana_id))
            .json(&json!({ "role": "guest" }))
            .code()
            .await,
        403
    );
    let r = t
        .as_(&bo, Method::POST, "/invites")
        .json(&json!({ "email": "x@example.com", "role": "admin" }))
        .sent()
        .await;
    assert_eq!(r.status(), 403);
    // With a second owner, Ana may step down.
    let bo_id = {
        let me: Value = bo.get(format!("{}/api/v1/me", t.app.url)).fetch().await;
        me["user"]["id"].as_str().unwrap().to_string()
    };
    for (user, role) in [(&bo_id, "owner"), (&t.ana_id, "admin")] {
        assert_eq!(
            t.app
                .patch(&format!("/api/v1/clusters/{}/members/{user}", t.cluster))
                .json(&json!({ "role": role }))
                .code()
                .await,
            204
        );
    }
    t.app.stop().await;
}

#[tokio::test]
async fn tokens_are_capped_by_role_and_refused_at_once_when_revoked_or_expired() {
    let t = team().await;
    let (member_token, id) = t.token("member", Some(30)).await;
    assert!(member_token.starts_with("dp_"));
    let api = |token: &str, path: &str| {
        Client::new()
            .get(format!("{}/api/v1{path}", t.app.url))
            .bearer_auth(token)
    };
    let me = api(&member_token, "/me").sent().await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(
        me["clusters"][0]["role"], "member",
        "capped to the token's role"
    );
    assert_eq!(
        api(&member_token, &format!("/clusters/{}/tokens", t.cluster))
            .code()
            .await,
        403,
        "a member token cannot manage tokens"
    );
    // Listed with last use, never the value.
    let list: Value = t
        .app
        .get(&format!("/api/v1/clusters/{}/tokens", t.cluster))
        .fetch()
        .await;
    assert!(!list.to_string().contains(&member_token));
    assert!(list["tokens"][0]["last_used_at"].is_string());
    // Revoked: 401 on the very next request.
    assert_eq!(t.remove(&format!("/tokens/{id}")).await, 204);
    let (status, err) = api(&member_token, "/me").refused().await;
    assert_eq!(status, 401);
    assert!(err["message"].as_str().unwrap().contains("revoked"));
    // Expired: made to expire by moving its time back in the store.
    let (old, old_id) = t.token("guest", Some(1)).await;
    let store = control::Store::open(&control::Store::sqlite_url(&t.app.data_dir))
        .await
        .unwrap();
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = $1")
        .bind(&old_id)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(api(&old, "/me").code().await, 401);
    // A wrong or malformed token is 401 too, never a 500.
    for bad in ["dp_nope", "not-even-prefixed", "dp_"] {
        assert_eq!(api(bad, "/me").code().await, 401, "{bad}");
    }
    t.app.stop().await;
}

#[tokio::test]
async fn a_token_cannot_outrank_its_maker() {
    let t = team().await;
    let (token, _) = t.invite("bo@example.com", "admin").await;
    let (_, bo, _) = t.accept_signup(&token, "bo@example.com").await;
    let (status, err) = t
        .as_(&bo, Method::POST, "/tokens")
        .json(&json!({ "name": "too strong", "role": "owner" }))
        .refused()
        .await;
    assert_eq!(status, 400);
    assert!(err["message"].as_str().unwrap().contains("more power"));
    t.app.stop().await;
}
