//! Browser consoles: login shells in real PTYs that outlive the browser's connection.
//!
//! A shell is named by its session (see [`ConsoleOpen::session`]). A stream attaches to it,
//! creating it if needed; when the stream ends the shell keeps running, detached, for
//! `linger_secs`, and a stream that comes back with the same session re-attaches and first gets
//! the shell's recent output (the scrollback). A newer stream takes a shell over from an older
//! one. Shells nobody typed into for `idle_secs` are closed, as are shells whose process exits.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use proto::wire::{
    ConsoleEvent, ConsoleInput, ConsoleOpen, ConsoleTarget, MuxStream, Record, RecordReader,
    StreamError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use crate::deploy::service_user::{self, Identity};
use crate::engine::Engine;

/// Output kept for a re-attaching browser.
const SCROLLBACK_BYTES: usize = 64 * 1024;
/// How often idle and lingering shells are looked at.
const SWEEP: Duration = Duration::from_secs(1);

/// Every shell on this agent, by session.
#[derive(Clone, Default)]
pub struct Consoles {
    shells: Arc<Mutex<HashMap<String, Arc<Shell>>>>,
}

struct Shell {
    pid: u32,
    input: tokio::sync::Mutex<pty_process::OwnedWritePty>,
    state: Mutex<ShellState>,
    /// Set once the shell is gone, with why.
    ended: watch::Sender<Option<String>>,
}

struct ShellState {
    scrollback: VecDeque<u8>,
    /// Where output goes now, with the attachment's number.
    attached: Option<(u64, mpsc::Sender<Vec<u8>>)>,
    next_attachment: u64,
    detached_at: Option<Instant>,
    last_input: Instant,
}

impl Shell {
    fn end(&self, reason: &str) {
        self.ended.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(reason.to_string());
                true
            } else {
                false
            }
        });
        // The shell leads its own session: hang up everything it started.
        let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGHUP);
        let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
    }
}

/// Where a shell starts and what it gets in its environment.
struct Place {
    dir: PathBuf,
    env: Vec<(String, String)>,
    /// Docker services: the shell is a `docker exec` into this container instead.
    container: Option<crate::engine::Container>,
    /// A service's own user (not for a docker exec, which needs dployrd's access to docker).
    user: Option<Identity>,
}

/// Run by `/bin/sh` on the host for a docker service: find the release's container, pick the
/// shell its image has (`/bin/sh`, else busybox's), and exec into it with the secrets unset.
const DOCKER_EXEC: &str = r#"id=$(docker -H "$DPLOYR_DOCKER" ps -q --filter "name=^$DPLOYR_CONTAINER" | head -n 1)
if [ -z "$id" ]; then echo "dployr: the service's container is not running"; exit 1; fi
if docker -H "$DPLOYR_DOCKER" exec "$id" /bin/sh -c true >/dev/null 2>&1; then set -- /bin/sh; else set -- /bin/busybox sh; fi
exec docker -H "$DPLOYR_DOCKER" exec -it -e TERM=xterm-256color "$id" "$@" -c "unset $DPLOYR_UNSET; if command -v bash >/dev/null 2>&1; then exec bash -l; else exec $* -l; fi"
"#;

impl Consoles {
    /// Serves one console stream until the browser goes or the shell ends.
    pub async fn serve(
        &self,
        mut stream: MuxStream,
        open: ConsoleOpen,
        engine: &Engine,
        data_dir: &std::path::Path,
    ) -> Result<(), StreamError> {
        let (shell, resumed) = match self.get_or_start(&open, engine, data_dir) {
            Ok(x) => x,
            Err(reason) => {
                stream
                    .send(&Record::json(&ConsoleEvent::Refused { reason }))
                    .await?;
                return stream.close();
            }
        };
        let _ = shell.input.lock().await.resize(size(open.cols, open.rows));
        let (tx, mut output) = mpsc::channel::<Vec<u8>>(64);
        let (me, backlog) = {
            let mut st = shell.state.lock().expect("shell lock");
            st.next_attachment += 1;
            let me = st.next_attachment;
            st.attached = Some((me, tx));
            st.detached_at = None;
            (me, Vec::from(st.scrollback.clone()))
        };
        let (mut writer, mut reader) = stream.split();
        let mut hello = Record::json(&ConsoleEvent::Attached {
            resumed,
            pid: shell.pid,
        });
        if resumed {
            hello.extend(Record::data(&backlog));
        }
        writer.send(&hello).await?;
        let mut ended = shell.ended.subscribe();
        let mut records = RecordReader::default();
        let result = loop {
            tokio::select! {
                out = output.recv() => match out {
                    Some(bytes) => {
                        if let Err(e) = writer.send(&Record::data(&bytes)).await {
                            break Err(e);
                        }
                    }
                    // A newer attachment took over.
                    None => break writer.close(),
                },
                chunk = reader.recv() => match chunk {
                    Ok(Some(chunk)) => {
                        records.push(&chunk);
                        if let Err(e) = self.apply(&shell, &mut records).await {
                            tracing::debug!(error = %e, "console input refused");
                            break writer.close();
                        }
                    }
                    Ok(None) => break writer.close(),
                    Err(e) => break Err(e),
                },
                reason = async { ended.wait_for(|r| r.is_some()).await.ok().and_then(|r| r.clone()) } => {
                    let reason = reason.unwrap_or_default();
                    let _ = writer.send(&Record::json(&ConsoleEvent::Ended { reason })).await;
                    break writer.close();
                }
            }
        };
        // Detach (unless a newer attachment already took over); the shell lingers.
        let mut st = shell.state.lock().expect("shell lock");
        if st.attached.as_ref().is_some_and(|(n, _)| *n == me) {
            st.attached = None;
            st.detached_at = Some(Instant::now());
        }
        result
    }

    async fn apply(&self, shell: &Shell, records: &mut RecordReader) -> Result<(), String> {
        while let Some(rec) = records.next_record().map_err(|e| e.to_string())? {
            match rec {
                Record::Data(bytes) => {
                    shell.state.lock().expect("shell lock").last_input = Instant::now();
                    let mut input = shell.input.lock().await;
                    input.write_all(&bytes).await.map_err(|e| e.to_string())?;
                }
                Record::Json(j) => {
                    match Record::parse::<ConsoleInput>(&j).map_err(|e| e.to_string())? {
                        ConsoleInput::Resize { cols, rows } => {
                            let _ = shell.input.lock().await.resize(size(cols, rows));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn get_or_start(
        &self,
        open: &ConsoleOpen,
        engine: &Engine,
        data_dir: &std::path::Path,
    ) -> Result<(Arc<Shell>, bool), String> {
        let mut shells = self.shells.lock().expect("consoles lock");
        if let Some(s) = shells.get(&open.session)
            && s.ended.borrow().is_none()
        {
            return Ok((s.clone(), true));
        }
        let place = match &open.target {
            ConsoleTarget::Service { service_id } => {
                let w = engine.workspace(service_id).ok_or_else(|| {
                    "this service has no live release on this instance yet: deploy it first"
                        .to_string()
                })?;
                let user = match &w.container {
                    Some(_) => None,
                    None => service_user::existing(&data_dir.join("services"), service_id)
                        .map_err(|e| format!("the service's system user: {e}"))?,
                };
                Place {
                    dir: w.dir,
                    env: w.env.into_iter().collect(),
                    container: w.container,
                    user,
                }
            }
            ConsoleTarget::Instance => Place {
                dir: data_dir.to_path_buf(),
                env: Vec::new(),
                container: None,
                user: None,
            },
        };
        let shell = start(place, open)?;
        shells.insert(open.session.clone(), shell.clone());
        let (all, session) = (self.clone(), open.session.clone());
        let (linger, idle) = (
            Duration::from_secs(open.linger_secs.into()),
            Duration::from_secs(open.idle_secs.into()),
        );
        tokio::spawn(async move { all.watch(session, linger, idle).await });
        Ok((shell, false))
    }

    /// Ends the shell when it idles or lingers too long, and forgets it once it has ended.
    async fn watch(self, session: String, linger: Duration, idle: Duration) {
        let Some(shell) = self
            .shells
            .lock()
            .expect("consoles lock")
            .get(&session)
            .cloned()
        else {
            return;
        };
        let mut ended = shell.ended.subscribe();
        loop {
            tokio::select! {
                _ = ended.wait_for(|r| r.is_some()) => break,
                _ = tokio::time::sleep(SWEEP) => {}
            }
            let why = {
                let st = shell.state.lock().expect("shell lock");
                if st.detached_at.is_some_and(|t| t.elapsed() >= linger) {
                    Some(format!("no browser for {} s", linger.as_secs()))
                } else if st.last_input.elapsed() >= idle {
                    Some(format!("idle for {} s", idle.as_secs()))
                } else {
                    None
                }
            };
            if let Some(why) = why {
                shell.end(&why);
                break;
            }
        }
        let mut shells = self.shells.lock().expect("consoles lock");
        if shells.get(&session).is_some_and(|s| Arc::ptr_eq(s, &shell)) {
            shells.remove(&session);
        }
    }

    /// Shells running now (for tests and `dployrd status`).
    pub fn count(&self) -> usize {
        self.shells.lock().expect("consoles lock").len()
    }
}

fn size(cols: u16, rows: u16) -> pty_process::Size {
    pty_process::Size::new(rows.clamp(2, 1000), cols.clamp(2, 1000))
}

/// The login shell: `$SHELL` if it is bash or sh, else bash, else sh.
fn shell_program() -> &'static str {
    if std::path::Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

fn start(place: Place, open: &ConsoleOpen) -> Result<Arc<Shell>, String> {
    let (pty, pts) = pty_process::open().map_err(|e| format!("opening a PTY: {e}"))?;
    pty.resize(size(open.cols, open.rows))
        .map_err(|e| format!("sizing the PTY: {e}"))?;
    let (program, args) = match &place.container {
        None => (shell_program(), vec!["-l"]),
        Some(_) => ("/bin/sh", vec!["-c", DOCKER_EXEC]),
    };
    // An image-only docker release has no directory on the host.
    let dir = if place.dir.is_dir() {
        place.dir.clone()
    } else {
        PathBuf::from("/")
    };
    let mut cmd = pty_process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        )
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        )
        .env(
            "USER",
            std::env::var("USER").unwrap_or_else(|_| "root".into()),
        );
    if let Some(user) = &place.user {
        cmd = cmd.uid(user.uid).gid(user.gid);
        cmd = cmd.env("HOME", &user.home).env("USER", &user.name);
    }
    for (k, v) in &place.env {
        cmd = cmd.env(k, v);
    }
    if let Some(c) = &place.container {
        cmd = cmd
            .env("DPLOYR_DOCKER", &c.docker_url)
            .env("DPLOYR_CONTAINER", &c.name_prefix)
            .env("DPLOYR_UNSET", c.secret_names.join(" "));
    }
    let mut child = cmd
        .spawn(pts)
        .map_err(|e| format!("starting {}: {e}", shell_program()))?;
    let pid = child.id().unwrap_or(0);
    let (mut out, input) = pty.into_split();
    let (ended, _) = watch::channel(None);
    let shell = Arc::new(Shell {
        pid,
        input: tokio::sync::Mutex::new(input),
        state: Mutex::new(ShellState {
            scrollback: VecDeque::new(),
            attached: None,
            next_attachment: 0,
            detached_at: None,
            last_input: Instant::now(),
        }),
        ended,
    });
    // Output: kept for re-attachment and passed to whoever is attached. Waiting on a slow
    // browser holds the shell's output back (the PTY fills and the shell blocks), as a
    // terminal would.
    let reader = shell.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match out.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let bytes = buf[..n].to_vec();
            let to = {
                let mut st = reader.state.lock().expect("shell lock");
                st.scrollback.extend(&bytes);
                let excess = st.scrollback.len().saturating_sub(SCROLLBACK_BYTES);
                st.scrollback.drain(..excess);
                st.attached.as_ref().map(|(_, tx)| tx.clone())
            };
            if let Some(tx) = to {
                let _ = tx.send(bytes).await;
            }
        }
    });
    let waiter = shell.clone();
    tokio::spawn(async move {
        let status = child.wait().await;
        let why = match status {
            Ok(s) => match s.code() {
                Some(c) => format!("the shell exited with status {c}"),
                None => "the shell was killed".to_string(),
            },
            Err(e) => format!("the shell is gone: {e}"),
        };
        waiter.end(&why);
    });
    Ok(shell)
}
