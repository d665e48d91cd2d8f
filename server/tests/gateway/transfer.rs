//! Big files through the explorer: 200 MB of random bytes up and down through Base and the
//! tunnel arrive intact (same SHA-256, on the agent's disk too), and an upload over the cap is
//! refused with 413 and leaves nothing behind.

use sha2::{Digest, Sha256};

use crate::support::{Fetch, Options, column};
use crate::tools::live_service_with;

/// Deterministic noise (xorshift64*), so a failure can be reproduced byte for byte.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_megabytes_go_up_and_down_through_base_unchanged() {
    let l = live_service_with(Options::default()).await;
    let data = noise(200 * 1000 * 1000, 0x5eed_cafe);
    let sent = hex::encode(Sha256::digest(&data));
    let files = format!("/api/v1/services/{}/files", l.service);
    let started = std::time::Instant::now();
    let r = l
        .app
        .put(&format!("{files}/content?path=big.bin"))
        .timeout(std::time::Duration::from_secs(300))
        .body(data)
        .sent()
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let up = started.elapsed();

    let root = l.release_dir();
    let on_disk = hex::encode(Sha256::digest(std::fs::read(root.join("big.bin")).unwrap()));
    assert_eq!(on_disk, sent, "the agent wrote exactly what was sent");

    let started = std::time::Instant::now();
    let mut r = l
        .app
        .get(&format!("{files}/content?path=big.bin"))
        .timeout(std::time::Duration::from_secs(300))
        .sent()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "200000000");
    let mut hasher = Sha256::new();
    let mut got = 0usize;
    while let Some(chunk) = r.chunk().await.unwrap() {
        got += chunk.len();
        hasher.update(&chunk);
    }
    let down = started.elapsed();
    assert_eq!(got, 200_000_000);
    assert_eq!(
        hex::encode(hasher.finalize()),
        sent,
        "the download is what was uploaded"
    );
    println!("200 MB up in {up:?}, down in {down:?}");
    l.app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_cap_is_refused_and_leaves_nothing_behind() {
    let l = live_service_with(Options {
        upload_max_bytes: Some(1_000_000),
        ..Options::default()
    })
    .await;
    let files = format!("/api/v1/services/{}/files", l.service);
    assert_eq!(
        l.app
            .put(&format!("{files}/content?path=small.bin"))
            .body(noise(999_999, 1))
            .code()
            .await,
        200
    );
    let r = l
        .app
        .put(&format!("{files}/content?path=huge.bin"))
        .body(noise(3_000_000, 2))
        .sent()
        .await;
    assert_eq!(r.status(), 413);
    let listing: serde_json::Value = l.app.get(&files).fetch().await;
    let names = column(&listing["entries"], "name");
    assert!(names.contains(&"small.bin"));
    assert!(
        !names
            .iter()
            .any(|n| n.contains("huge") || n.contains("dployr-upload")),
        "no file and no temp file left: {names:?}"
    );
    l.app.stop().await;
}
