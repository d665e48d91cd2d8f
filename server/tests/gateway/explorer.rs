//! The file explorer end to end over REST: a real Base, the tunnel, a real dployrd and real files
//! in the service's live release directory.

use serde_json::{Value, json};

use crate::support::{Fetch, column};
use crate::tools::live_service;

async fn status_and_body(r: reqwest::Response) -> (u16, Vec<u8>) {
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_explorer_lists_uploads_edits_downloads_renames_and_deletes() {
    let l = live_service().await;
    let files = format!("/api/v1/services/{}/files", l.service);
    let listing: Value = l.app.get(&files).fetch().await;
    let names = column(&listing["entries"], "name");
    assert!(
        names.contains(&"server.js") && names.contains(&"package.json"),
        "{names:?}"
    );

    assert_eq!(
        l.app
            .post(&format!("{files}/mkdir"))
            .json(&json!({ "path": "notes" }))
            .code()
            .await,
        201
    );
    let r = l
        .app
        .put(&format!("{files}/content?path=notes/a.txt"))
        .body("hello")
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    let entry: Value = r.json().await.unwrap();
    assert_eq!(
        (entry["name"].as_str(), entry["size"].as_u64()),
        (Some("a.txt"), Some(5))
    );

    let r = l
        .app
        .get(&format!("{files}/content?path=notes/a.txt"))
        .sent()
        .await;
    let modified = r.headers()["x-dployr-modified-ms"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(status_and_body(r).await, (200, b"hello".to_vec()));
    // An editor saves with the time it read; a stale one is a conflict and changes nothing.
    assert_eq!(
        l.app
            .put(&format!(
                "{files}/content?path=notes/a.txt&if_modified_ms=1"
            ))
            .body("stale")
            .code()
            .await,
        409
    );
    let r = l
        .app
        .put(&format!(
            "{files}/content?path=notes/a.txt&if_modified_ms={modified}"
        ))
        .body("hello, edited")
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    // Browsers ask for gzip; a file still comes as it is, with its exact length.
    let r = l
        .app
        .get(&format!("{files}/content?path=notes/a.txt"))
        .header("Accept-Encoding", "gzip, br")
        .sent()
        .await;
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.headers()["content-length"], "13");
    assert_eq!(status_and_body(r).await, (200, b"hello, edited".to_vec()));

    assert_eq!(
        l.app
            .post(&format!("{files}/rename"))
            .json(&json!({ "from": "notes/a.txt", "to": "notes/b.txt" }))
            .code()
            .await,
        200
    );
    let listing: Value = l.app.get(&format!("{files}?path=notes")).fetch().await;
    assert_eq!(listing["entries"][0]["name"], "b.txt");
    assert_eq!(
        listing["entries"].as_array().unwrap().len(),
        1,
        "no temp file left"
    );

    let r = l
        .app
        .get(&format!("{files}/archive?path=notes"))
        .sent()
        .await;
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let (status, gz) = status_and_body(r).await;
    assert_eq!(status, 200);
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("n.tar.gz"), &gz).unwrap();
    let out = std::process::Command::new("tar")
        .args(["-tzf", "n.tar.gz"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("b.txt"));

    assert_eq!(
        l.app.delete(&format!("{files}?path=notes")).code().await,
        204
    );
    let r = l.app.get(&format!("{files}?path=notes")).sent().await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        l.app.delete(&format!("{files}?path=")).code().await,
        400,
        "the root itself is never deleted"
    );

    let events: Value = l
        .app
        .get(&format!(
            "/api/v1/clusters/{}/events?action=file.",
            l.cluster
        ))
        .fetch()
        .await;
    let mut actions = column(&events["events"], "action");
    actions.sort();
    assert_eq!(
        actions,
        [
            "file.delete",
            "file.mkdir",
            "file.rename",
            "file.write",
            "file.write"
        ],
        "one event per change, none for refusals"
    );
    l.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l7_a_folder_of_4000_files_lists() {
    let l = live_service().await;
    // A `node_modules`-like folder whose listing is well over one record (256 KiB) of JSON.
    let big = l.release_dir().join("big");
    std::fs::create_dir(&big).unwrap();
    for i in 0..4000 {
        std::fs::write(
            big.join(format!("some_reasonably_long_file_name_{i:04}.js")),
            "x",
        )
        .unwrap();
    }
    let files = format!("/api/v1/services/{}/files?path=big", l.service);
    let listing: Value = l.app.get(&files).fetch().await;
    let names = column(&listing["entries"], "name");
    assert_eq!(names.len(), 4000);
    assert_eq!(names[0], "some_reasonably_long_file_name_0000.js");
    assert_eq!(names[3999], "some_reasonably_long_file_name_3999.js");
    assert!(
        serde_json::to_vec(&listing).unwrap().len() > proto::wire::MAX_RECORD_BYTES,
        "the listing needs more than one record"
    );
    // The agent's stream task survived: the explorer still answers.
    let root: Value = l
        .app
        .get(&format!("/api/v1/services/{}/files", l.service))
        .fetch()
        .await;
    assert!(column(&root["entries"], "name").contains(&"big"));
}
