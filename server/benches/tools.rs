//! Console and file-transfer benchmarks, printed and never asserted: keystroke echo round trip
//! through Base and the tunnel beside `ssh -tt` to an sshd on localhost, a 1 GiB download
//! through the tunnel beside `scp` from the same sshd, and the console's echo while that
//! download runs. All measured in the same run on the same machine.
//!
//! `cargo bench -p server --bench tools` runs them (`.ci/bench-tools` in release, installing
//! sshd first). They reuse the gateway tests' harness (`server/tests/gateway`), whose tests are
//! not compiled here.

#[path = "../tests/api/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../tests/gateway/harness.rs"]
#[allow(dead_code)]
mod harness;

#[path = "../tests/gateway/tools.rs"]
#[allow(dead_code, unused_imports)]
mod tools;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use harness::*;
use support::Fetch;
use tools::{console, live_service};

const ROUNDS: usize = 400;
const GIB: usize = 1 << 30;

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(name: &str, mut v: Vec<Duration>) -> String {
    format!(
        "{name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} keystrokes)",
        percentile(&mut v, 0.5).as_secs_f64() * 1e3,
        percentile(&mut v, 0.99).as_secs_f64() * 1e3,
        percentile(&mut v, 1.0).as_secs_f64() * 1e3,
        v.len()
    )
}

/// A terminal to type into: the console's WebSocket, or an `ssh -tt` session.
enum Term<'a> {
    Console(&'a mut tools::Ws),
    Ssh {
        stdin: tokio::process::ChildStdin,
        stdout: tokio::process::ChildStdout,
    },
}

impl Term<'_> {
    async fn send(&mut self, c: u8) {
        match self {
            Term::Console(ws) => ws.send(Message::Binary(vec![c].into())).await.unwrap(),
            Term::Ssh { stdin, .. } => {
                stdin.write_all(&[c]).await.unwrap();
                stdin.flush().await.unwrap();
            }
        }
    }

    async fn recv(&mut self) -> Vec<u8> {
        match self {
            Term::Console(ws) => loop {
                match ws.next().await {
                    Some(Ok(Message::Binary(b))) => return b.to_vec(),
                    Some(Ok(_)) => {}
                    other => panic!("console ended: {other:?}"),
                }
            },
            Term::Ssh { stdout, .. } => {
                let mut buf = vec![0u8; 4096];
                let n = stdout.read(&mut buf).await.unwrap();
                assert!(n > 0, "ssh ended");
                buf.truncate(n);
                buf
            }
        }
    }

    /// Types one letter at a time and waits for the terminal to echo it back.
    async fn rtts(&mut self, rounds: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let c = b'a' + (i % 26) as u8;
            let start = Instant::now();
            self.send(c).await;
            while !self.recv().await.contains(&c) {}
            out.push(start.elapsed());
            if i % 50 == 49 {
                // Ctrl-U clears the line so it never grows long.
                self.send(0x15).await;
                self.recv().await;
            }
        }
        out
    }
}

/// A throwaway sshd on 127.0.0.1 that accepts one key: (port, key file, the child).
async fn sshd(dir: &Path) -> (u16, std::path::PathBuf, std::process::Child) {
    let keygen = |name: &str| {
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(dir.join(name))
            .status()
            .unwrap();
        assert!(ok.success());
    };
    keygen("host");
    keygen("id");
    std::fs::copy(dir.join("id.pub"), dir.join("authorized_keys")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
         StrictModes no\nUsePAM no\nPasswordAuthentication no\nPermitRootLogin yes\n\
         Subsystem sftp /usr/lib/openssh/sftp-server\n",
        dir.join("host").display(),
        dir.join("authorized_keys").display(),
        dir.join("sshd.pid").display()
    );
    std::fs::write(dir.join("sshd_config"), config).unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let child = std::process::Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd (apt-get install openssh-server; .ci/bench-tools does)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (port, dir.join("id"), child)
}

fn ssh_args(key: &Path) -> Vec<String> {
    let key = key.display().to_string();
    [
        "-i",
        &key,
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
    ]
    .map(String::from)
    .to_vec()
}

async fn ssh_rtts(port: u16, key: &Path, rounds: usize) -> Vec<Duration> {
    let mut child = tokio::process::Command::new("ssh")
        .arg("-tt")
        .args(ssh_args(key))
        .args(["-p", &port.to_string(), "root@127.0.0.1", "bash", "-l"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut term = Term::Ssh {
        stdin: child.stdin.take().unwrap(),
        stdout: child.stdout.take().unwrap(),
    };
    // Wait for the shell: a marker only its output contains.
    for c in b"echo re$((1+1))ady\n" {
        term.send(*c).await;
    }
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("re2ady") {
        seen.extend(term.recv().await);
    }
    term.rtts(rounds).await
}

async fn console_and_download() {
    let l = live_service().await;
    let dir = tempfile::tempdir().unwrap();
    let (port, key, mut sshd) = sshd(dir.path()).await;

    // The 1 GiB file, in the service's directory (read by both the tunnel and scp).
    let releases = l
        .agent
        .data
        .path()
        .join("services")
        .join(&l.service)
        .join("releases");
    let root = std::fs::read_dir(&releases)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let block: Vec<u8> = (0..(1 << 20))
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(root.join("big.bin")).unwrap();
        for _ in 0..(GIB >> 20) {
            f.write_all(&block).unwrap();
        }
    }

    let path = format!("/services/{}/console", l.service);
    let mut ws = console(&l, &l.cookie, &path, "bench-console-1")
        .await
        .unwrap();
    // Let the login shell settle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base_idle = Term::Console(&mut ws).rtts(ROUNDS).await;
    let ssh_idle = ssh_rtts(port, &key, ROUNDS).await;

    let files = format!("{}/api/v1/services/{}/files", l.app.url, l.service);
    let download = |cookie: String, url: String| async move {
        let started = Instant::now();
        let mut r = reqwest::Client::new()
            .get(url)
            .header("Cookie", cookie)
            .sent()
            .await;
        let mut n = 0usize;
        while let Some(c) = r.chunk().await.unwrap() {
            n += c.len();
        }
        assert_eq!(n, GIB);
        started.elapsed()
    };
    let tunnel = download(l.cookie.clone(), format!("{files}/content?path=big.bin")).await;
    let started = Instant::now();
    let ok = tokio::process::Command::new("scp")
        .args(ssh_args(&key))
        .args(["-P", &port.to_string()])
        .arg(format!("root@127.0.0.1:{}", root.join("big.bin").display()))
        .arg("/dev/null")
        .status()
        .await
        .unwrap();
    assert!(ok.success());
    let scp = started.elapsed();

    // The console while a 1 GiB download runs.
    let running = tokio::spawn(download(
        l.cookie.clone(),
        format!("{files}/content?path=big.bin"),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut busy = Vec::new();
    while !running.is_finished() && busy.len() < ROUNDS {
        busy.extend(Term::Console(&mut ws).rtts(20).await);
    }
    let during = running.await.unwrap();

    let mbps = |d: Duration| GIB as f64 / d.as_secs_f64() / 1e6;
    println!("{}", summary("console echo through Base", base_idle));
    println!("{}", summary("console echo over ssh (baseline)", ssh_idle));
    println!(
        "download 1 GiB: through Base {:.0} MB/s ({:.2} s); scp from localhost sshd {:.0} MB/s ({:.2} s); ratio {:.2}",
        mbps(tunnel),
        tunnel.as_secs_f64(),
        mbps(scp),
        scp.as_secs_f64(),
        mbps(tunnel) / mbps(scp)
    );
    println!(
        "{} (while a 1 GiB download ran, {:.2} s)",
        summary("console echo during a download", busy),
        during.as_secs_f64()
    );
    let _ = sshd.kill();
    l.app.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    console_and_download().await;
}
