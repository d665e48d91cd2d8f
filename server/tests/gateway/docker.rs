//! The docker runtime against a real Docker engine: Debian's `dockerd`, started by the test in a
//! folder of its own (vfs storage, no bridge, no iptables: see shared/TOOLCHAIN.md), with an
//! image the test builds `FROM scratch` around the static busybox, since nothing can be pulled.
//! A service from that image, and a service from a repository with a `Dockerfile` built by
//! dployrd, both go live through the ingress by `Host`; v2 of the latter replaces v1; deleting
//! a service removes its containers and images; a missing image and a missing engine each fail
//! the deploy with a clear reason; a docker service's console is a shell inside its container.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent::docker::DockerHost;
use proto::deploy::DeployState;
use proto::service::Source;

use crate::deploy::{Deployer, EVERY_STEP, Repo, git_source, steps};
use crate::eventually;

/// A `dockerd` of the test's own, stopped (with its containers) when dropped.
struct TestDocker {
    dir: tempfile::TempDir,
    daemon: Child,
    host: DockerHost,
}

impl TestDocker {
    async fn start() -> TestDocker {
        // Short: a unix socket path must fit in 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dk")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
            .arg(format!("--host=unix://{}/docker.sock", d.display()))
            .arg(format!("--data-root={}/root", d.display()))
            .arg(format!("--exec-root={}/exec", d.display()))
            .arg(format!("--pidfile={}/docker.pid", d.display()))
            .args(["--storage-driver=vfs", "--iptables=false", "--bridge=none"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd from Debian's docker.io (bash .ci/setup installs it)");
        let host = DockerHost::new(format!("unix://{}/docker.sock", d.display()));
        let docker = TestDocker { dir, daemon, host };
        let host = docker.host.clone();
        eventually(Duration::from_secs(30), "dockerd answers", || {
            let host = host.clone();
            async move { host.connect("test").await.is_ok() }
        })
        .await;
        docker
    }

    /// `docker` (the CLI) against this daemon; panics unless it succeeds.
    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .arg("-H")
            .arg(self.host.url())
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("the docker CLI");
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Builds `tag`: the static busybox in an empty image. The image serves `/www` (made at
    /// start with `answer` in `index.html`) on 127.0.0.1:$PORT, after a line on stdout and one
    /// on stderr.
    fn busybox_image(&self, tag: &str, answer: &str) {
        let ctx = tempfile::tempdir().unwrap();
        std::fs::copy("/bin/busybox", ctx.path().join("busybox"))
            .expect("/bin/busybox from Debian's busybox-static");
        std::fs::write(
            ctx.path().join("Dockerfile"),
            busybox_dockerfile("FROM scratch\nCOPY busybox /bin/busybox", answer),
        )
        .unwrap();
        self.cli(&["build", "-q", "-t", tag, &ctx.path().display().to_string()]);
    }

    /// Ids of everything labelled as the service's.
    fn leftovers(&self, service: &str) -> String {
        let filter = format!("label=dployr.service={service}");
        self.cli(&["ps", "-aq", "--filter", &filter])
            + &self.cli(&["images", "-q", "--filter", &filter])
    }
}

fn busybox_dockerfile(from: &str, answer: &str) -> String {
    format!(
        "{from}\n\
         CMD [\"/bin/busybox\", \"sh\", \"-c\", \"echo serving {answer} on $PORT; echo ready >&2; \
         /bin/busybox mkdir -p /www; echo {answer} > /www/index.html; \
         exec /bin/busybox httpd -f -p 127.0.0.1:$PORT -h /www\"]\n"
    )
}

impl Drop for TestDocker {
    fn drop(&mut self) {
        // SIGTERM: dockerd stops its containers (bounded by its shutdown timeout, 15 s) before
        // it exits; SIGKILL would leave them running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.daemon.id().to_string()])
            .status();
        let _ = self.daemon.wait();
        // dockerd leaves its network namespace mounted (`exec/netns/default`): unmount whatever
        // is mounted below the folder, deepest first, so the folder can be removed.
        let root = self.dir.path().display().to_string();
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut below: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&root))
            .collect();
        below.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in below {
            let _ = Command::new("umount").arg(m).status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_services_from_an_image_and_from_a_dockerfile_are_served_by_host() {
    let docker = TestDocker::start().await;
    docker.busybox_image("dployr-test/busybox:1", "from-image");
    let d = Deployer::start_with(docker.host.clone()).await;

    // An image the engine has: used as is, with PORT, host networking and the service's env.
    let img = d
        .service(
            "img",
            Source::Image("dployr-test/busybox:1".into()),
            serde_json::json!({"runtime": "docker", "health_check": {"http": {"path": "/"}}}),
        )
        .await;
    let first = d.deploy(&img).await;
    let done = d.live(&first).await;
    assert!(
        done.commit
            .as_deref()
            .is_some_and(|c| c.starts_with("sha256:")),
        "image id recorded: {:?}",
        done.commit
    );
    assert_eq!(
        d.get("img.test").await.unwrap(),
        (200, "from-image\n".into())
    );
    let logs = d.log_text(&img).await;
    assert!(
        logs.contains("using the local image dployr-test/busybox:1"),
        "{logs}"
    );
    crate::eventually(
        Duration::from_secs(10),
        "the container's stdout and stderr in the log",
        || async {
            let logs = d.log_text(&img).await;
            logs.contains("serving from-image on ") && logs.contains("ready\n")
        },
    )
    .await;

    // A repository with a Dockerfile, built by dployrd through the engine.
    let repo = Repo::new();
    let commit_app = |answer: &str| {
        std::fs::write(
            repo.path().join("Dockerfile"),
            busybox_dockerfile(
                "FROM dployr-test/busybox:1\nCOPY note.txt /note.txt",
                answer,
            ),
        )
        .unwrap();
        repo.commit(&[("note.txt", answer)], answer);
    };
    commit_app("v1");
    let web = d
        .service(
            "web",
            git_source(&repo),
            serde_json::json!({"runtime": "docker"}),
        )
        .await;
    let v1 = d.deploy(&web).await;
    let done = d.live(&v1).await;
    assert_eq!(steps(&done), EVERY_STEP);
    assert_eq!(d.get("web.test").await.unwrap(), (200, "v1\n".into()));
    let logs = d.log_text(&web).await;
    assert!(
        logs.contains("COPY note.txt /note.txt"),
        "the build's output is in the log: {logs}"
    );

    commit_app("v2");
    let v2 = d.deploy(&web).await;
    d.live(&v2).await;
    assert_eq!(d.get("web.test").await.unwrap(), (200, "v2\n".into()));
    let rolled = d.gw.base.rollback(&d.gw.owner, &web, &v1).await.unwrap();
    assert_eq!(rolled.state, DeployState::Live);
    assert_eq!(
        d.get("web.test").await.unwrap(),
        (200, "v1\n".into()),
        "rollback reuses v1's image"
    );

    // Deleting the service removes its containers and the images dployrd built.
    assert!(!docker.leftovers(&web).trim().is_empty());
    d.gw.base.delete_service(&d.gw.owner, &web).await.unwrap();
    eventually(
        Duration::from_secs(60),
        "the service's containers and images are gone",
        || async { docker.leftovers(&web).trim().is_empty() },
    )
    .await;
    assert_eq!(
        d.get("img.test").await.unwrap(),
        (200, "from-image\n".into()),
        "the other service is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_cannot_be_pulled_fails_the_deploy_with_the_engines_reason() {
    let docker = TestDocker::start().await;
    let d = Deployer::start_with(docker.host.clone()).await;
    let svc = d
        .service(
            "gone",
            Source::Image("dployr-test/nowhere:1".into()),
            serde_json::json!({"runtime": "docker"}),
        )
        .await;
    let done = d.settled(&d.deploy(&svc).await).await;
    assert_eq!(done.state, DeployState::Failed);
    let reason = done.reason.unwrap_or_default();
    assert!(
        reason.starts_with("pulling the image failed: pulling dployr-test/nowhere:1"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_a_docker_deploy_fails_at_once_naming_the_instance() {
    let nowhere = tempfile::tempdir().unwrap();
    let host = DockerHost::new(nowhere.path().join("docker.sock").display().to_string());
    let d = Deployer::start_with(host).await;
    let repo = Repo::new();
    repo.commit(&[("Dockerfile", "FROM scratch\n")], "app");
    for (name, source) in [
        ("from-git", git_source(&repo)),
        ("from-image", Source::Image("busybox:1".into())),
    ] {
        let svc = d
            .service(name, source, serde_json::json!({"runtime": "docker"}))
            .await;
        let done = d.settled(&d.deploy(&svc).await).await;
        assert_eq!(done.state, DeployState::Failed);
        let reason = done.reason.unwrap_or_default();
        assert!(
            reason.starts_with("the docker runtime needs a Docker engine on instance web-1"),
            "{reason}"
        );
        assert!(
            reason.contains(&format!("unix://{}", nowhere.path().display())),
            "{reason}"
        );
    }
}

/// The console of a docker service is a shell inside its container (found by the release's
/// name prefix), with the service's secrets unset; its files are not on the host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_services_console_is_a_shell_inside_its_container() {
    use control::tools::ConsoleScope;
    use proto::wire::{Record, RecordReader};

    let docker = TestDocker::start().await;
    docker.busybox_image("dployr-test/busybox:c", "console");
    let d = Deployer::start_with(docker.host.clone()).await;
    let img = d
        .service(
            "box",
            Source::Image("dployr-test/busybox:c".into()),
            serde_json::json!({"runtime": "docker", "health_check": {"http": {"path": "/"}}}),
        )
        .await;
    let dep = d.deploy(&img).await;
    d.live(&dep).await;
    let container = docker.cli(&["ps", "-q", "--filter", &format!("name=^dployr-{dep}-")]);
    let container = container.trim().to_string();
    assert!(!container.is_empty());

    let console =
        d.gw.base
            .open_console(
                &d.gw.owner,
                &ConsoleScope::Service(img.clone()),
                "docker-console-1",
                80,
                24,
            )
            .await
            .unwrap();
    let (mut tx, mut rx) = console.stream.split();
    tx.send(&Record::data(
        b"echo in-$((2+3))-$(cat /www/index.html)-end\n",
    ))
    .await
    .unwrap();
    let mut records = RecordReader::default();
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains("-end\r\n") || !seen.contains("in-5-") {
        assert!(std::time::Instant::now() < deadline, "no answer: {seen:?}");
        let chunk = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .unwrap()
            .unwrap()
            .expect("the console stays open");
        records.push(&chunk);
        while let Some(r) = records.next_record().unwrap() {
            if let Record::Data(b) = r {
                seen.push_str(&String::from_utf8_lossy(&b));
            }
        }
    }
    // `/www/index.html` exists only inside the container (its CMD wrote it).
    assert!(
        seen.contains("in-5-console-end"),
        "{seen:?} (container {container})"
    );
    let files =
        d.gw.base
            .file_op(
                &d.gw.owner,
                &img,
                proto::wire::FileOp::List {
                    path: String::new(),
                },
            )
            .await;
    assert!(
        matches!(&files, Err(control::DomainError::Conflict(m)) if m.contains("console")),
        "{files:?}"
    );
}
