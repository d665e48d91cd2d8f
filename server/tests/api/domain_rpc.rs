//! The Domains card's server functions, posted as the dashboard's forms and buttons post them
//! (the session cookie, a form body): HSTS on and off, each a `domain.update` event as over REST;
//! a certificate refused on the input at fault (a key of another certificate, a name it does
//! not cover); the right one shown uploaded with its issuer and expiry, recorded as
//! `domain.cert_upload`, its key in no answer; and the add form's bad name reported on its
//! `name` input. Who may call them is in `rpc_matrix`.

use serde_json::Value;

use crate::rpc_matrix::registered;
use crate::support::*;

/// Posts `form` to the server function `name` as Ana: the JSON answer, a value or an `AppError`.
async fn rpc(app: &TestApp, name: &str, form: &[(&str, &str)]) -> Value {
    let (_, path) = registered()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} is registered"));
    let r = app
        .post(&path)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_domains_card_switches_hsts_and_uploads_certificates_as_rest_does() {
    let app = TestApp::start().await;
    let cluster = app.ana_cluster().await;
    let svc = app
        .service_on_new_instance(&cluster, git_service("shop", ""))
        .await;
    let bad = rpc(
        &app,
        "add_domain",
        &[("service_id", &svc), ("name", "Bad_Domain")],
    )
    .await;
    assert_eq!(bad["Invalid"]["field"], "name", "{bad}");
    let name = "shop.example.com";
    let added = rpc(&app, "add_domain", &[("service_id", &svc), ("name", name)]).await;
    assert_eq!(added["name"], name, "{added}");
    let on = |hsts: &'static str| [("service_id", svc.as_str()), ("name", name), ("hsts", hsts)];
    assert_eq!(
        rpc(&app, "set_domain_hsts", &on("true")).await["hsts"],
        true
    );
    let listed: Value = app
        .get(&format!("/api/v1/services/{svc}/domains"))
        .fetch()
        .await;
    assert_eq!(listed["domains"][0]["hsts"], true);
    assert_eq!(
        rpc(&app, "set_domain_hsts", &on("false")).await["hsts"],
        false
    );

    let upload = async |chain: &str, key: &str| {
        let form = [
            ("service_id", svc.as_str()),
            ("name", name),
            ("chain_pem", chain),
            ("key_pem", key),
        ];
        rpc(&app, "upload_domain_certificate", &form).await
    };
    let mine = rcgen::generate_simple_self_signed(vec![name.into()]).unwrap();
    let (chain, key) = (mine.cert.pem(), mine.key_pair.serialize_pem());
    let stranger = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let theirs = rcgen::generate_simple_self_signed(vec!["other.example.com".into()]).unwrap();
    let (their_chain, their_key) = (theirs.cert.pem(), theirs.key_pair.serialize_pem());
    for (chain, key, field, says) in [
        (&chain, &stranger, "key_pem", "does not belong"),
        (
            &their_chain,
            &their_key,
            "chain_pem",
            "not for shop.example.com",
        ),
    ] {
        let refused = &upload(chain, key).await["Invalid"];
        assert_eq!(refused["field"], field, "{refused}");
        assert!(
            refused["message"].as_str().unwrap().contains(says),
            "{refused}"
        );
    }

    let shown = upload(&chain, &key).await;
    let cert = &shown["certificate"];
    assert_eq!(cert["uploaded"], true, "{shown}");
    assert_eq!(cert["status"], "none", "no instance serves it yet");
    assert_eq!(cert["issuer"], "rcgen self signed cert");
    assert!(cert["expires_at"].is_string(), "{shown}");
    let key_body = key.lines().nth(1).unwrap();
    assert!(!shown.to_string().contains(key_body), "the key came back");

    let events: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/events?limit=200"))
        .fetch()
        .await;
    let actions = column(&events["events"], "action");
    let count = |a: &str| actions.iter().filter(|x| **x == a).count();
    assert_eq!(
        (count("domain.update"), count("domain.cert_upload")),
        (2, 1),
        "{actions:?}"
    );
    app.stop().await;
}
