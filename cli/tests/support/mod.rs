//! A real Base for the CLI tests: `dployr-server` on free ports with `--local-agent`, one
//! signed-up owner, and the `dployr` binary run as a child process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use testkit::Repo;
use testkit::{free_port, kill_processes_under};

pub const EMAIL: &str = "ana@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_dployr"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub struct Base {
    pub url: String,
    child: Child,
    data: tempfile::TempDir,
}

impl Base {
    /// Starts Base with its local dployrd and signs up the owner.
    pub fn start() -> Base {
        Base::start_with(&[])
    }

    /// [`Base::start`] with more environment for `dployr-server` (`DPLOYR_DNS_SERVER`).
    pub fn start_with(env: &[(&str, &str)]) -> Base {
        let (server, agent) = (bin_dir().join("dployr-server"), bin_dir().join("dployrd"));
        for b in [&server, &agent] {
            assert!(
                b.exists(),
                "{} is missing: `cargo build -p server -p agent` first",
                b.display()
            );
        }
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(&server)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--gateway-listen", "127.0.0.1:0", "--local-agent"])
            .args(["--local-ingress", &format!("127.0.0.1:{}", free_port())])
            .arg("--agent-bin")
            .arg(&agent)
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let base = Base { url, child, data };
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(base.sign_up());
        base
    }

    async fn sign_up(&self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http
            .get(format!("{}/healthz", self.url))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "Base did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = http
            .post(format!("{}/api/v1/auth/signup", self.url))
            .header("Origin", &self.url)
            .json(&serde_json::json!({ "email": EMAIL, "password": PASSWORD, "name": "Ana" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
    }
}

impl Drop for Base {
    /// Stops Base, then whatever its dployrd started inside the data dir.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        kill_processes_under(self.data.path());
    }
}

/// What one `dployr` run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `dployr ARGS` with a bare environment: PATH, its config at `config`, no colours.
fn command(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dployr"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", config.parent().unwrap())
        .env("DPLOYR_CONFIG", config)
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `dployr` with only the given environment (its config at `config`, no colours).
pub fn dployr(config: &Path, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Run {
    dployr_in(Path::new("."), config, env, args, stdin)
}

/// [`dployr`] in the folder `cwd` (where it looks for `dployr.toml`).
pub fn dployr_in(
    cwd: &Path,
    config: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: Option<&str>,
) -> Run {
    let mut cmd = command(config, args);
    cmd.current_dir(cwd)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `dployr ARGS` left running, its stdout lines sent to the returned channel as they come.
pub fn dployr_spawn(config: &Path, args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut child = command(config, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(out).map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Logs Ana in to `base` with her config at `config`, waits until Base lists its local
/// instance and returns that instance's name.
pub fn login_with_local_instance(base: &Base, config: &Path) -> String {
    let login = [
        "--url",
        &base.url,
        "login",
        "--email",
        EMAIL,
        "--password-stdin",
    ];
    let r = dployr(config, &[], &login, Some(PASSWORD));
    assert_eq!(r.code, 0, "{r:?}");
    eventually(Duration::from_secs(60), "the local instance", || {
        let r = dployr(config, &[], &["instances", "--json"], None);
        let list: serde_json::Value = serde_json::from_str(&r.stdout).ok()?;
        list.as_array()?
            .first()
            .map(|i| i["name"].as_str().unwrap().to_string())
    })
}

/// Polls `f` until it gives a value, or fails the test after `patience`.
pub fn eventually<T>(patience: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        #[allow(
            clippy::disallowed_methods,
            reason = "the CLI tests are synchronous: a blocking pause between polls, under the deadline above"
        )]
        std::thread::sleep(Duration::from_millis(500));
    }
}
