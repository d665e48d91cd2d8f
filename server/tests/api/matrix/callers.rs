//! The callers the permission matrix is checked with: one per role, per role's API token, for a
//! non-member and for nobody ([`callers`]), each able to send a request as itself.

use reqwest::Method;
use serde_json::{Value, json};

use super::world::{Cred, World, session_client};
use super::{ALL, Who};
use crate::support::{Fetch, PASSWORD};

pub(crate) struct Caller {
    pub label: String,
    pub cred: Cred,
    /// The role it acts with in Ana's cluster; `None` for a non-member or nobody.
    pub role: Option<Who>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
}

fn who_name(w: Who) -> &'static str {
    match w {
        Who::Owner => "owner",
        Who::Admin => "admin",
        Who::Member => "member",
        Who::Guest => "guest",
    }
}

pub(crate) async fn callers(w: &World) -> Vec<Caller> {
    let mut out = vec![Caller {
        label: "owner".into(),
        cred: Cred::Session(w.ana.clone()),
        role: Some(Who::Owner),
        user_id: Some(
            w.ana(Method::GET, "/me", Value::Null).await["user"]["id"]
                .as_str()
                .unwrap()
                .into(),
        ),
        token_id: None,
    }];
    for who in [Who::Admin, Who::Member, Who::Guest] {
        let (client, id) = w.invited(who_name(who)).await;
        out.push(Caller {
            label: who_name(who).into(),
            cred: Cred::Session(client),
            role: Some(who),
            user_id: Some(id),
            token_id: None,
        });
    }
    let ana_id = out[0].user_id.clone();
    for who in ALL {
        let t = w
            .ana(
                Method::POST,
                &format!("/clusters/{}/tokens", w.cluster),
                json!({ "name": format!("{} token", who_name(*who)), "role": who_name(*who) }),
            )
            .await;
        out.push(Caller {
            label: format!("{} token", who_name(*who)),
            cred: Cred::Token(t["token"].as_str().unwrap().into()),
            role: Some(*who),
            user_id: ana_id.clone(),
            token_id: Some(t["api_token"]["id"].as_str().unwrap().into()),
        });
    }
    // Ed has a cluster of his own and nothing in Ana's.
    let ed = session_client();
    ed.post(format!("{}/api/v1/auth/signup", w.app.url))
        .header("Origin", &w.app.origin)
        .json(&json!({ "email": "ed@example.com", "password": PASSWORD, "name": "Ed" }))
        .sent()
        .await;
    out.push(Caller {
        label: "non-member".into(),
        cred: Cred::Session(ed),
        role: None,
        user_id: None,
        token_id: None,
    });
    out.push(Caller {
        label: "nobody".into(),
        cred: Cred::Nobody,
        role: None,
        user_id: None,
        token_id: None,
    });
    out
}
