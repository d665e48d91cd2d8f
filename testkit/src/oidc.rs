//! A real OIDC issuer on `http://127.0.0.1` for the CI federation tests: its own keys (RSA from
//! the `openssl` CLI, P-256 from ring), the discovery document, the JWKS (which a test can
//! rotate: the old key is then no longer published) and GitHub Actions' token endpoint
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`, answering `{"value": <jwt>}` for `&audience=`). One thread
//! serves one request per connection; it stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

/// The bearer token the token endpoint wants (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
pub const REQUEST_TOKEN: &str = "test-request-token";

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

struct State {
    /// Every key ever made, by kid; `published` says which the JWKS shows.
    keys: Vec<(String, Key)>,
    published: Vec<String>,
    jwks_fetches: usize,
    /// The claims the token endpoint signs (with `aud` from the request).
    job_claims: Value,
}

pub struct Issuer {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh 2048-bit RSA key pair, made by the `openssl` CLI (ring cannot make RSA keys).
fn rsa_key() -> RsaKeyPair {
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .args(["-outform", "DER"])
        .output()
        .expect("the openssl CLI makes the test issuer's RSA key");
    assert!(out.status.success(), "openssl genpkey failed");
    // With `-outform DER` openssl 3 writes the PKCS#1 `RSAPrivateKey`.
    RsaKeyPair::from_der(&out.stdout).expect("openssl writes an RSA private key in DER")
}

fn ec_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("a P-256 key");
    EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("ring reads its own key")
}

fn jwk(kid: &str, key: &Key) -> Value {
    match key {
        Key::Rsa(k) => {
            let c: PublicKeyComponents<Vec<u8>> = k.public().into();
            json!({ "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(&c.n), "e": b64(&c.e) })
        }
        Key::Ec(k) => {
            let p = k.public_key().as_ref();
            json!({ "kty": "EC", "kid": kid, "alg": "ES256", "crv": "P-256",
                    "x": b64(&p[1..33]), "y": b64(&p[33..65]) })
        }
    }
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

impl Issuer {
    /// An issuer publishing an RSA key `rsa-1` and a P-256 key `ec-1`.
    pub fn start() -> Issuer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test issuer");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let state = Arc::new(Mutex::new(State {
            keys: vec![
                ("rsa-1".into(), Key::Rsa(rsa_key())),
                ("ec-1".into(), Key::Ec(ec_key())),
            ],
            published: vec!["rsa-1".into(), "ec-1".into()],
            jwks_fetches: 0,
            job_claims: json!({}),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, u) = (state.clone(), stop.clone(), url.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    return;
                }
                if let Ok(conn) = conn {
                    serve(conn, &u, &s);
                }
            }
        });
        Issuer {
            url,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The issuer (`iss`), `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// GitHub's `ACTIONS_ID_TOKEN_REQUEST_URL` for this issuer (it already has a query).
    pub fn token_endpoint(&self) -> String {
        format!("{}/token?api-version=2.0", self.url)
    }

    /// A GitHub Actions job's claims: `repository` on `refs/heads/main`, a push, valid for
    /// five minutes.
    pub fn github_claims(&self, audience: &str, repository: &str) -> Value {
        let now = now_secs();
        json!({
            "iss": self.url, "aud": audience, "sub": format!("repo:{repository}:ref:refs/heads/main"),
            "repository": repository, "ref": "refs/heads/main", "event_name": "push",
            "run_id": "4242", "iat": now, "nbf": now - 5, "exp": now + 300,
        })
    }

    /// `claims` signed by the key `kid` (published or not).
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let state = self.state.lock().expect("issuer lock");
        let (_, key) = state
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .unwrap_or_else(|| panic!("the test issuer has no key {kid}"));
        sign(kid, key, claims)
    }

    /// Replaces the published RSA keys with a new one; its kid.
    pub fn rotate(&self) -> String {
        let mut state = self.state.lock().expect("issuer lock");
        let kid = format!("rsa-{}", state.keys.len() + 1);
        state.keys.push((kid.clone(), Key::Rsa(rsa_key())));
        state.published.retain(|k| !k.starts_with("rsa-"));
        state.published.push(kid.clone());
        kid
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().expect("issuer lock").jwks_fetches
    }

    /// What the token endpoint signs from now on (`aud` comes from the request).
    pub fn set_job_claims(&self, claims: Value) {
        self.state.lock().expect("issuer lock").job_claims = claims;
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the blocking accept so the thread sees `stop`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn sign(kid: &str, key: &Key, claims: &Value) -> String {
    let alg = match key {
        Key::Rsa(_) => "RS256",
        Key::Ec(_) => "ES256",
    };
    let header = json!({ "alg": alg, "typ": "JWT", "kid": kid });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let rng = SystemRandom::new();
    let sig = match key {
        Key::Rsa(k) => {
            let mut sig = vec![0; k.public().modulus_len()];
            k.sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing");
            sig
        }
        Key::Ec(k) => k
            .sign(&rng, input.as_bytes())
            .expect("ECDSA signing")
            .as_ref()
            .to_vec(),
    };
    format!("{input}.{}", b64(&sig))
}

/// Answers one request on `conn`.
fn serve(conn: TcpStream, url: &str, state: &Mutex<State>) {
    let mut reader = BufReader::new(&conn);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut auth = None;
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "authorization" => auth = Some(v.trim().to_string()),
                "content-length" => length = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (status, reply) = match path {
        "/.well-known/openid-configuration" => (
            200,
            json!({ "issuer": url, "jwks_uri": format!("{url}/jwks"),
                    "id_token_signing_alg_values_supported": ["RS256", "ES256"] }),
        ),
        "/jwks" => {
            let mut s = state.lock().expect("issuer lock");
            s.jwks_fetches += 1;
            let keys: Vec<Value> = s
                .keys
                .iter()
                .filter(|(k, _)| s.published.contains(k))
                .map(|(k, key)| jwk(k, key))
                .collect();
            (200, json!({ "keys": keys }))
        }
        "/token" if auth.as_deref() == Some(&format!("Bearer {REQUEST_TOKEN}")) => {
            let audience = query
                .split('&')
                .find_map(|p| p.strip_prefix("audience="))
                .map(decode)
                .unwrap_or_default();
            let s = state.lock().expect("issuer lock");
            let mut claims = s.job_claims.clone();
            claims["aud"] = json!(audience);
            let kid = s.published.iter().find(|k| k.starts_with("rsa-")).cloned();
            let kid = kid.expect("an RSA key is always published");
            let key = &s.keys.iter().find(|(k, _)| *k == kid).expect("published").1;
            (200, json!({ "value": sign(&kid, key, &claims) }))
        }
        "/token" => (401, json!({ "message": "bad request token" })),
        _ => (404, json!({ "message": "not found" })),
    };
    let text = reply.to_string();
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// `%XX` and `+` in a query value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
