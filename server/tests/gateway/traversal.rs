//! Hostile paths against the file explorer, through the REST API and the tunnel to a real
//! dployrd: `..` in every spelling, absolute paths, URL-encoded and NUL-carrying paths,
//! over-long names, symlinks out of the service's directory, a FIFO and a device. Every one is
//! refused, nothing outside the service's directory is read, and the files around it are
//! byte-for-byte and time-for-time what they were (asserted on the filesystem).

use std::collections::BTreeMap;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::Fetch;
use crate::tools::live_service;

const OUTSIDE: &str = "CANARY-OUTSIDE-5e1f";

/// Every file under `dir` except those under `skip`, with size and modification time.
fn snapshot(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, (u64, std::time::SystemTime)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.starts_with(skip) {
            continue;
        }
        let m = std::fs::symlink_metadata(&p).unwrap();
        out.insert(p.clone(), (m.len(), m.modified().unwrap()));
        if m.is_dir() {
            snapshot(&p, skip, out);
        }
    }
}

/// Paths that are hostile as sent (before any URL encoding).
fn corpus() -> Vec<String> {
    let mut v: Vec<String> = [
        "..",
        "../",
        "../canary.txt",
        "../../canary.txt",
        "../../../canary.txt",
        "../../../../canary.txt",
        "../../../../../../../../../../etc/passwd",
        "./../canary.txt",
        "./../../canary.txt",
        "a/../../canary.txt",
        "notes/../../canary.txt",
        "server.js/../../canary.txt",
        "....//../canary.txt",
        "./escape/../../canary.txt",
        "/",
        "/etc/passwd",
        "//etc/passwd",
        "/etc/shadow",
        "/proc/self/environ",
        "/dev/null",
        "/root",
        "/tmp",
        "/var/lib",
        "notes/../../../etc/shadow",
        "./././../canary.txt",
        "abs-escape/../canary.txt",
        "escape/escape/escape/etc/passwd",
        "escape/canary.txt",
        "escape/../canary.txt",
        "escape/escape/canary.txt",
        "escape/services",
        "abs-escape/canary.txt",
        "abs-escape/services",
        "x\0y",
        "\0",
        "../\0",
        "canary.txt\0.png",
        "server.js\0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("n".repeat(256));
    v.push(format!("notes/{}", "m".repeat(300)));
    v.push("d/".repeat(2100));
    v.push(format!("{}/../canary.txt", "a/".repeat(2100)));
    v
}

/// Query strings sent exactly as written: encodings of the same attacks.
const ENCODED: &[&str] = &[
    "%2e%2e%2fcanary.txt",
    "%2e%2e/%2e%2e/canary.txt",
    "..%2fcanary.txt",
    "..%2f..%2fcanary.txt",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "%2fetc%2fpasswd",
    "%2F",
    "%00",
    "a%00b",
    "%c0%ae%c0%ae/canary.txt",
    "%2e%2e%5c..%2fcanary.txt",
    "escape%2fcanary.txt",
];

/// Links and special files inside the root: never read or replaced through (deleting or moving
/// a link itself is allowed, so those are not tried).
const SPECIAL: &[&str] = &[
    "canary-link",
    "passwd-link",
    "devnull",
    "fifo",
    "escape",
    "escape/",
    "abs-escape",
];

fn leaked(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains(OUTSIDE) || text.contains("root:x:0:0") || text.contains("root:*:")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_hostile_paths_are_refused_and_nothing_outside_is_touched() {
    let l = live_service().await;
    let agent_dir = l.agent.data.path().to_path_buf();
    let root = l.release_dir();
    std::fs::write(agent_dir.join("canary.txt"), OUTSIDE).unwrap();
    std::fs::write(
        agent_dir
            .join("services")
            .join(&l.service)
            .join("canary.txt"),
        OUTSIDE,
    )
    .unwrap();
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    link(Path::new("../../.."), "escape");
    link(&agent_dir, "abs-escape");
    link(&agent_dir.join("canary.txt"), "canary-link");
    link(Path::new("/etc/passwd"), "passwd-link");
    link(Path::new("/dev/null"), "devnull");
    link(Path::new("server.js"), "ok-link");
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    let mut before = BTreeMap::new();
    snapshot(&agent_dir, &root, &mut before);

    let files = format!("{}/api/v1/services/{}/files", l.app.url, l.service);
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, url: String| {
        client
            .request(method, url)
            .header("Origin", &l.app.origin)
            .header("Cookie", &l.cookie)
    };
    // A link inside the root to a file inside the root works: the corpus is not refusing
    // everything.
    let r = send(
        reqwest::Method::GET,
        format!("{files}/content?path=ok-link"),
    )
    .sent()
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("createServer"));

    let corpus = corpus();
    let mut queries: Vec<String> = corpus
        .iter()
        .map(|p| {
            let mut u = url::Url::parse("http://x/").unwrap();
            u.query_pairs_mut().append_pair("path", p);
            u.query().unwrap().to_string()
        })
        .collect();
    queries.extend(ENCODED.iter().map(|e| format!("path={e}")));
    assert!(
        queries.len() + SPECIAL.len() >= 60,
        "{} hostile paths",
        queries.len()
    );
    let mut checked = 0;
    for q in &queries {
        for (method, url) in [
            (reqwest::Method::GET, format!("{files}?{q}")),
            (reqwest::Method::GET, format!("{files}/content?{q}")),
            (reqwest::Method::GET, format!("{files}/archive?{q}")),
            (reqwest::Method::PUT, format!("{files}/content?{q}")),
            (reqwest::Method::DELETE, format!("{files}?{q}")),
        ] {
            let r = send(method.clone(), url)
                .body(OUTSIDE.replace("CANARY", "WRITTEN"))
                .sent()
                .await;
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            assert!(
                (400..500).contains(&status),
                "{method} {q}: {status} {body:?}"
            );
            assert!(!leaked(&body), "{method} {q} leaked");
            checked += 1;
        }
    }
    for p in &corpus {
        for body in [
            json!({ "path": p }),
            json!({ "from": "server.js", "to": p }),
            json!({ "from": p, "to": "moved" }),
        ] {
            let op = if body.get("from").is_some() {
                "rename"
            } else {
                "mkdir"
            };
            let r = send(reqwest::Method::POST, format!("{files}/{op}"))
                .json(&body)
                .sent()
                .await;
            let status = r.status().as_u16();
            assert!((400..500).contains(&status), "{op} {body}: {status}");
            checked += 1;
        }
    }
    for s in SPECIAL {
        for read in ["content", "archive"] {
            let r = send(reqwest::Method::GET, format!("{files}/{read}?path={s}"))
                .sent()
                .await;
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            assert!(
                (400..500).contains(&status),
                "{read} {s}: {status} {body:?}"
            );
            assert!(!leaked(&body));
        }
        if s.contains("escape") {
            assert_eq!(
                send(reqwest::Method::GET, format!("{files}?path={s}"))
                    .code()
                    .await,
                400,
                "list {s}"
            );
        }
        assert_eq!(
            send(reqwest::Method::PUT, format!("{files}/content?path={s}"))
                .body("overwritten")
                .code()
                .await,
            400,
            "write {s}"
        );
        checked += 2;
    }

    let mut after = BTreeMap::new();
    snapshot(&agent_dir, &root, &mut after);
    assert_eq!(
        before, after,
        "nothing outside the service's directory changed"
    );
    assert_eq!(
        std::fs::read_to_string(agent_dir.join("canary.txt")).unwrap(),
        OUTSIDE
    );
    assert!(root.join("server.js").exists(), "nothing was moved away");
    assert!(
        std::fs::symlink_metadata(root.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert!(checked > 400, "{checked} refused calls");
    l.app.stop().await;
}
