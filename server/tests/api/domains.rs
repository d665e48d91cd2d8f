//! Custom domains over REST against a real Base and a DNS server of the test's own: added
//! pending with the records to create, a Verify before the TXT record exists stays pending with
//! the reason, the record makes it verified, a second cluster adding it gets 409, a Guest cannot
//! add, every change is an event, and the routes are in the OpenAPI document.

use proto::api::{Domain, DomainList, DomainStatus};
use reqwest::Client;
use serde_json::{Value, json};
use testkit::dns::DnsServer;

use crate::support::*;

async fn app_with_dns(dns: &DnsServer) -> TestApp {
    TestApp::with(Options {
        open_signup: true,
        dns_server: Some(dns.addr()),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn domains_verify_by_txt_and_a_second_cluster_gets_409() {
    let dns = DnsServer::start();
    let app = app_with_dns(&dns).await;
    let (cluster, bo_guest) = ana_and_bo(&app, "guest").await;
    let svc = app
        .service_on_new_instance(&cluster, git_service("shop", ""))
        .await;
    let path = format!("/api/v1/services/{svc}/domains");

    let r = app
        .post(&path)
        .json(&json!({"name": "Shop.Example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let added: Domain = r.json().await.unwrap();
    assert_eq!(
        (added.name.as_str(), added.status),
        ("shop.example.com", DomainStatus::Pending)
    );
    let txt = added.records.iter().find(|r| r.kind == "TXT").unwrap();
    assert_eq!(txt.name, "_dployr.shop.example.com");

    let verify = format!("{path}/shop.example.com/verify");
    let early: Domain = app
        .post(&verify)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(early.status, DomainStatus::Pending);
    assert!(early.last_error.unwrap().contains("no TXT record"));

    dns.set_txt("_dployr.shop.example.com", &txt.value);
    let r = app.post(&verify).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let verified: Domain = r.json().await.unwrap();
    assert_eq!(verified.status, DomainStatus::Verified);

    // Bo's own cluster (he signed up before joining Ana's) cannot take the name.
    let bo_cluster = {
        let me: Value = Client::new()
            .get(format!("{}/api/v1/clusters", app.url))
            .header("Cookie", &bo_guest)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let clusters = me["clusters"].as_array().unwrap().clone();
        clusters
            .into_iter()
            .find(|c| c["id"] != json!(cluster))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let bo = |method: reqwest::Method, p: &str| {
        Client::new()
            .request(method, format!("{}{p}", app.url))
            .header("Origin", &app.origin)
            .header("Cookie", &bo_guest)
    };
    let r = bo(
        reqwest::Method::POST,
        &format!("/api/v1/clusters/{bo_cluster}/instances"),
    )
    .json(&json!({"name": "b-1"}))
    .send()
    .await
    .unwrap();
    let inst: Value = r.json().await.unwrap();
    let r = bo(
        reqwest::Method::POST,
        &format!("/api/v1/clusters/{bo_cluster}/services"),
    )
    .json(&git_service(
        "web",
        inst["instance"]["id"].as_str().unwrap(),
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let bo_svc: Value = r.json().await.unwrap();
    let r = bo(
        reqwest::Method::POST,
        &format!(
            "/api/v1/services/{}/domains",
            bo_svc["id"].as_str().unwrap()
        ),
    )
    .json(&json!({"name": "shop.example.com"}))
    .send()
    .await
    .unwrap();
    let (status, body) = error_of(r).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("another cluster"),
        "{body}"
    );

    // As a Guest of Ana's cluster, Bo sees the domain but may not add one.
    let listed: DomainList = bo(reqwest::Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.domains.len(), 1);
    let r = bo(reqwest::Method::POST, &path)
        .json(&json!({"name": "bo.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = bo(reqwest::Method::DELETE, &format!("{path}/shop.example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // HSTS on, then removed.
    let r = app
        .patch(&format!("{path}/shop.example.com"))
        .json(&json!({"hsts": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Domain>().await.unwrap().hsts);
    let r = app
        .delete(&format!("{path}/shop.example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app
        .delete(&format!("{path}/shop.example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let events: Value = app
        .get(&format!("/api/v1/clusters/{cluster}/events?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = column(&events["events"], "action");
    for a in [
        "domain.add",
        "domain.verify",
        "domain.update",
        "domain.remove",
    ] {
        assert!(actions.contains(&a), "no {a} in {actions:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_domains_and_certificates_are_refused_with_the_field() {
    let dns = DnsServer::start();
    let app = app_with_dns(&dns).await;
    let cluster = app.ana_cluster().await;
    let mut spec = git_service("shop", "");
    spec["domains"] = json!(["settings.example.com"]);
    let svc = app.service_on_new_instance(&cluster, spec).await;
    let path = format!("/api/v1/services/{svc}/domains");
    let r = app
        .post(&path)
        .json(&json!({"name": "*.*.example.com"}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(r).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("domains")),
        "{body}"
    );
    app.post(&path)
        .json(&json!({"name": "shop.example.com"}))
        .send()
        .await
        .unwrap();
    let r = app
        .client
        .put(format!("{}{path}/shop.example.com/certificate", app.url))
        .header("Origin", &app.origin)
        .json(&json!({"chain_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "key_pem": "x"}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(r).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("chain_pem")),
        "{body}"
    );
    // The settings' `domains` became domain rows too, pending.
    let listed: DomainList = app.get(&path).send().await.unwrap().json().await.unwrap();
    let names: Vec<(&str, DomainStatus)> = listed
        .domains
        .iter()
        .map(|d| (d.name.as_str(), d.status))
        .collect();
    assert_eq!(
        names,
        [
            ("settings.example.com", DomainStatus::Pending),
            ("shop.example.com", DomainStatus::Pending)
        ]
    );
    app.stop().await;
}
