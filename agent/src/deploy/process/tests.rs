use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::*;

/// Every test's bound on itself: a broken kill must fail the test, not hang it.
const LIMIT: Duration = Duration::from_secs(30);

/// Collects everything sent to the returned sender until every sender is dropped.
fn collector() -> (mpsc::Sender<LogLine>, JoinHandle<Vec<LogLine>>) {
    // Small on purpose: the pumps must cope with a receiver that is behind.
    let (tx, mut rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        let mut lines = Vec::new();
        while let Some(line) = rx.recv().await {
            lines.push(line);
        }
        lines
    });
    (tx, task)
}

fn texts(lines: &[LogLine], stream: Stream) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| l.line.clone())
        .collect()
}

/// `fut`'s output, failing the test when it takes longer than [`LIMIT`].
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, fut)
        .await
        .expect("finished within the limit")
}

/// `script` as a command in a fresh temp folder (which must outlive it), and a channel for
/// its output.
fn in_temp_dir(
    script: &str,
) -> (
    tempfile::TempDir,
    ShellCommand,
    mpsc::Sender<LogLine>,
    mpsc::Receiver<LogLine>,
) {
    let dir = tempfile::tempdir().unwrap();
    let cmd = ShellCommand::new(script, dir.path());
    let (tx, rx) = mpsc::channel(16);
    (dir, cmd, tx, rx)
}

/// `script` started as a service in a fresh temp folder, and the receiver of its output.
fn spawned(script: &str) -> (tempfile::TempDir, Running, mpsc::Receiver<LogLine>) {
    let (dir, cmd, tx, rx) = in_temp_dir(script);
    (dir, spawn(&cmd, tx).unwrap(), rx)
}

async fn run_script(script: &str) -> (Exit, Vec<LogLine>) {
    let dir = tempfile::tempdir().unwrap();
    let (tx, lines) = collector();
    let cmd = ShellCommand::new(script, dir.path());
    let exit = within(run(&cmd, tx, LIMIT, &CancellationToken::new()))
        .await
        .unwrap();
    (exit, lines.await.unwrap())
}

/// Fails the test when `pid` is still running after `what`.
#[track_caller]
fn assert_gone(pid: i32, what: &str) {
    assert!(!process_alive(pid), "{pid} outlived {what}");
}

/// Reads lines until one parses as a pid: the scripts print the pid of their background child.
async fn next_pid(rx: &mut mpsc::Receiver<LogLine>) -> i32 {
    loop {
        let line = within(rx.recv())
            .await
            .expect("the channel is open while the script runs");
        if let Ok(pid) = line.line.parse() {
            return pid;
        }
    }
}

#[tokio::test]
async fn exit_codes_and_signals_are_reported() {
    assert_eq!(run_script("exit 0").await.0, Exit::Code(0));
    assert!(run_script("true").await.0.success());
    assert_eq!(run_script("exit 3").await.0, Exit::Code(3));
    assert_eq!(run_script("kill -9 $$").await.0, Exit::Signal(9));
}

#[tokio::test]
async fn lines_arrive_in_order_on_the_right_stream() {
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (exit, lines) = run_script(
        "for i in $(seq 1 300); do echo out $i; echo err $i >&2; done; printf 'no newline\\r\\n'; \
         printf 'last'",
    )
    .await;
    assert_eq!(exit, Exit::Code(0));
    let mut want_out: Vec<String> = (1..=300).map(|i| format!("out {i}")).collect();
    want_out.extend(["no newline".to_owned(), "last".to_owned()]);
    let want_err: Vec<String> = (1..=300).map(|i| format!("err {i}")).collect();
    assert_eq!(texts(&lines, Stream::Stdout), want_out);
    assert_eq!(texts(&lines, Stream::Stderr), want_err);
    assert!(
        lines
            .iter()
            .all(|l| l.at_ms >= before && l.at_ms < before + 60_000)
    );
}

#[tokio::test]
async fn long_lines_are_cut_and_say_how_much() {
    let (_, lines) =
        run_script("head -c 40000 /dev/zero | tr '\\0' a; echo; printf '\\377ok\\n'").await;
    let out = texts(&lines, Stream::Stdout);
    assert_eq!(
        out.len(),
        2,
        "{:?}",
        out.iter().map(String::len).collect::<Vec<_>>()
    );
    assert_eq!(
        out[0],
        format!(
            "{} [... {} more bytes cut]",
            "a".repeat(MAX_LINE_BYTES),
            40000 - MAX_LINE_BYTES
        )
    );
    assert_eq!(
        out[1], "\u{FFFD}ok",
        "invalid UTF-8 is replaced, not dropped"
    );
}

#[tokio::test]
async fn only_the_given_env_path_home_and_network_settings_are_passed() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, lines) = collector();
    let cmd = ShellCommand::new("pwd; env", dir.path()).env("GREETING", "hello world");
    let exit = run(&cmd, tx, LIMIT, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(exit, Exit::Code(0));
    let out = texts(&lines.await.unwrap(), Stream::Stdout);
    assert_eq!(
        out[0],
        dir.path().canonicalize().unwrap().to_str().unwrap(),
        "runs in its directory"
    );
    assert!(out.contains(&"GREETING=hello world".to_owned()), "{out:?}");
    assert!(out.contains(&format!("PATH={}", std::env::var("PATH").unwrap())));
    // The operator's proxy and CA settings are passed as they are.
    for key in INHERITED {
        if let Ok(value) = std::env::var(key) {
            assert!(
                out.contains(&format!("{key}={value}")),
                "{key} passed: {out:?}"
            );
        }
    }
    // Whatever else this test process has (cargo sets plenty) must not leak; the shell itself
    // may add PWD and friends.
    let shell_own = ["PWD", "OLDPWD", "SHLVL", "_"];
    let passed = |k: &str| INHERITED.contains(&k) || shell_own.contains(&k);
    for (key, _) in std::env::vars().filter(|(k, _)| !passed(k)) {
        assert!(
            !out.iter().any(|l| l.starts_with(&format!("{key}="))),
            "{key} leaked into the command's environment"
        );
    }
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let (_dir, cmd, tx, mut rx) = in_temp_dir("sleep 300 & echo $!; sleep 300");
    let started = Instant::now();
    let token = CancellationToken::new();
    let build = run(&cmd, tx, Duration::from_millis(300), &token);
    let (exit, grandchild) = tokio::join!(build, next_pid(&mut rx));
    assert_eq!(exit.unwrap(), Exit::TimedOut);
    assert!(started.elapsed() < LIMIT);
    assert_gone(grandchild, "the timeout");
}

#[tokio::test]
async fn cancelling_kills_the_whole_process_group() {
    let (_dir, cmd, tx, mut rx) = in_temp_dir("sleep 300 & echo $!; sleep 300");
    let token = CancellationToken::new();
    let build = run(&cmd, tx, LIMIT, &token);
    let cancel_once_started = async {
        let pid = next_pid(&mut rx).await;
        assert!(process_alive(pid), "running before the cancel");
        token.cancel();
        pid
    };
    let (exit, grandchild) = tokio::join!(build, cancel_once_started);
    assert_eq!(exit.unwrap(), Exit::Cancelled);
    assert_gone(grandchild, "the cancel");
}

#[tokio::test]
async fn a_finished_step_leaves_no_background_process_behind() {
    let (_dir, cmd, tx, mut rx) = in_temp_dir("sleep 300 & echo $!; exit 0");
    let token = CancellationToken::new();
    let (exit, daemon) = tokio::join!(run(&cmd, tx, LIMIT, &token), next_pid(&mut rx));
    assert_eq!(exit.unwrap(), Exit::Code(0));
    assert_gone(daemon, "its step");
}

#[tokio::test]
async fn a_service_is_waited_on_and_its_last_output_arrives_first() {
    let (_dir, mut service, mut rx) = spawned("echo started; exit 7");
    assert_eq!(service.pgid(), service.pid());
    let exit = within(service.wait()).await;
    assert_eq!(exit.unwrap(), Exit::Code(7));
    assert_eq!(rx.try_recv().unwrap().line, "started");
}

#[tokio::test]
async fn stop_escalates_to_sigkill_when_the_group_ignores_sigterm() {
    // An ignored signal stays ignored in children, so the whole group ignores SIGTERM.
    let (_dir, mut service, mut rx) = spawned("trap '' TERM; sleep 300 & echo $!; wait");
    let grandchild = next_pid(&mut rx).await;
    let grace = Duration::from_millis(300);
    let started = Instant::now();
    let exit = within(service.stop(grace)).await;
    assert_eq!(exit.unwrap(), Exit::Signal(9));
    assert!(started.elapsed() >= grace, "SIGKILL only after the grace");
    assert_gone(grandchild, "the stop");
    assert_gone(service.pid() as i32, "the stop");
}

#[tokio::test]
async fn stop_is_graceful_for_a_service_that_exits_on_sigterm() {
    let script = "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
    let (_dir, mut service, mut rx) = spawned(script);
    assert_eq!(rx.recv().await.unwrap().line, "ready");
    let exit = within(service.stop(LIMIT)).await;
    assert_eq!(exit.unwrap(), Exit::Code(0));
    // The shell may also report on stderr that its `sleep` was terminated.
    let mut stdout_after = Vec::new();
    while let Some(line) = rx.recv().await {
        if line.stream == Stream::Stdout {
            stdout_after.push(line.line);
        }
    }
    assert_eq!(stdout_after, ["bye"], "the TERM trap ran");
}

#[tokio::test]
async fn stop_after_wait_ends_what_the_service_left_running() {
    let (_dir, mut service, mut rx) = spawned("sleep 300 & echo $!; exit 3");
    let orphan = next_pid(&mut rx).await;
    let exit = within(service.wait()).await;
    assert_eq!(exit.unwrap(), Exit::Code(3));
    assert!(process_alive(orphan), "wait only waits for the shell");
    let exit = within(service.stop(LIMIT)).await;
    assert_eq!(
        exit.unwrap(),
        Exit::Code(3),
        "the shell's own exit, not the orphan's"
    );
    assert_gone(orphan, "the stop");
}
