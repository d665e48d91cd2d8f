#!/usr/bin/env python3
"""Tests docs/github-actions.md by doing what it says, against a local Base.

A real dployr-server with its local dployrd; "GitHub" is a local bare repository the service
deploys from, and a `gh` that records secrets and variables. Every ```bash block of the page runs
in order, in one shell, in a terminal (the login asks for the password there, like for a person).
Then the workflow the page wrote runs the way GitHub's runner runs it: `actions/checkout` is the
clone itself, `uses: ./…` composite actions and `run:` steps execute with the same contexts
(`inputs`, `vars`, `secrets`, `github`, `steps`), GITHUB_PATH and GITHUB_OUTPUT. Passes when the
pushed commit is live.
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/dployr-target")), "debug")
DOC = os.path.join(ROOT, "docs", "github-actions.md")
EMAIL, PASSWORD = "ana@example.com", "correct horse battery staple"
APP = """require('http').createServer((q, s) => s.end('v=' + process.env.npm_package_version))
  .listen(process.env.PORT, '127.0.0.1', () => console.log('listening'));
"""


def log(msg):
    print(f"\033[1;34m[docs-test]\033[0m {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True)


class Base:
    def __init__(self, work):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = os.path.join(work, "data")
        self.cookie = None
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "dployr-server"), "--listen", f"127.0.0.1:{self.port}",
             "--gateway-listen", "127.0.0.1:0", "--data-dir", self.data, "--local-agent",
             "--local-ingress", f"127.0.0.1:{free_port()}", "--agent-bin", os.path.join(BIN, "dployrd")],
            env={**os.environ, "RUST_LOG": "warn"}, stdout=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("Base did not start")
                time.sleep(0.2)

    def api(self, method, path, body=None):
        req = urllib.request.Request(self.url + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Origin": self.url})
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        with urllib.request.urlopen(req, timeout=30) as res:
            cookie = res.headers.get("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";")[0]
            text = res.read()
            return json.loads(text) if text else None

    def get_text(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as res:
            return res.read().decode()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        # The services the local dployrd started work in its data dir, `<data>-agent`, which
        # starts with Base's data dir's path.
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(self.data) and int(pid) != os.getpid():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def bash_blocks(markdown):
    return re.findall(r"^```bash\n(.*?)^```", markdown, flags=re.S | re.M)


def run_in_terminal(script, cwd, env, answers):
    """Runs `bash script` in a pseudo-terminal, answering prompts; returns its exit code."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execvpe("bash", ["bash", "--noprofile", "--norc", "-euo", "pipefail", script], env)
    seen = b""
    pending = list(answers)
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 600)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise SystemExit("the page's commands hung for 10 minutes")
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        sys.stdout.write(chunk.decode(errors="replace"))
        sys.stdout.flush()
        seen += chunk
        if pending and pending[0][0].encode() in seen:
            seen = b""
            # As a person would: after the prompt has turned echo off (no password in CI logs).
            time.sleep(0.5)
            os.write(fd, (pending.pop(0)[1] + "\n").encode())
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def evaluate(text, ctx):
    """`${{ a.b }}` and `${{ a.b || c.d }}` as GitHub evaluates them (the subset used here)."""
    def one(expr):
        for alt in expr.split("||"):
            alt = alt.strip()
            if alt.startswith("'") and alt.endswith("'"):
                value = alt[1:-1]
            else:
                value = ctx
                for part in alt.split("."):
                    value = value.get(part, "") if isinstance(value, dict) else ""
            if value:
                return str(value)
        return ""
    return EXPR.sub(lambda m: one(m.group(1)), str(text))


def run_steps(steps, ctx, workspace, env, where):
    for i, step in enumerate(steps):
        name = step.get("name") or step.get("uses") or f"step {i + 1}"
        log(f"{where}: {name}")
        if "uses" in step:
            uses = step["uses"]
            if uses.startswith("actions/checkout@"):
                continue  # the workspace is the clone
            if not uses.startswith("./"):
                raise SystemExit(f"this test runs only local actions, not {uses}")
            with open(os.path.join(workspace, uses, "action.yml")) as f:
                action = yaml.safe_load(f)
            assert action["runs"]["using"] == "composite", "composite actions only"
            inputs = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
            inputs.update({k: evaluate(v, ctx) for k, v in (step.get("with") or {}).items()})
            for k, v in action.get("inputs", {}).items():
                if v.get("required") and not inputs.get(k):
                    raise SystemExit(f"{uses}: input {k} is required")
            inner = {**ctx, "inputs": inputs, "steps": {}}
            run_steps(action["runs"]["steps"], inner, workspace, env, uses)
            continue
        step_env = {**env, **{k: evaluate(v, ctx) for k, v in (step.get("env") or {}).items()}}
        outputs = os.path.join(env["RUNNER_TEMP"], f"output-{time.time_ns()}")
        open(outputs, "w").close()
        step_env["GITHUB_OUTPUT"] = outputs
        with open(env["GITHUB_PATH"]) as f:
            extra = [line.strip() for line in f if line.strip()]
        step_env["PATH"] = ":".join(reversed(extra)) + ":" + env["PATH"] if extra else env["PATH"]
        cwd = evaluate(step.get("working-directory", workspace), ctx) or workspace
        code = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", evaluate(step["run"], ctx)],
                              cwd=cwd, env=step_env).returncode
        with open(outputs) as f:
            out = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        if "id" in step:
            ctx.setdefault("steps", {})[step["id"]] = {"outputs": out}
        if code != 0:
            raise SystemExit(f"{where}: step {name!r} failed with exit code {code}")


def main():
    work = tempfile.mkdtemp(prefix="dployr-docs-")
    base = Base(work)
    try:
        log(f"Base at {base.url}")
        signup = base.api("POST", "/auth/signup", {"email": EMAIL, "password": PASSWORD, "name": "Ana"})
        cluster = signup["cluster"]["id"]
        deadline = time.time() + 60
        while True:
            online = [i for i in base.api("GET", f"/clusters/{cluster}/instances")["instances"] if i["status"] == "online"]
            if online:
                break
            if time.time() > deadline:
                raise SystemExit("the local dployrd did not come online")
            time.sleep(0.5)
        # "GitHub": a bare repository; the person's clone pushes to it, the service fetches it.
        github, app = os.path.join(work, "github.git"), os.path.join(work, "app")
        git(work, "init", "-q", "--bare", "-b", "main", github)
        git(work, "clone", "-q", github, app)
        with open(os.path.join(app, "package.json"), "w") as f:
            f.write('{"name":"web","version":"1.0.0","scripts":{"start":"node server.js"}}')
        with open(os.path.join(app, "server.js"), "w") as f:
            f.write(APP)
        git(app, "add", "-A")
        git(app, "commit", "-q", "-m", "app")
        git(app, "push", "-q", "origin", "main")
        base.api("POST", f"/clusters/{cluster}/services", {
            "name": "web", "instance_id": online[0]["id"], "runtime": "node",
            "source": {"git": {"url": "file://" + github, "branch": "main"}}})

        # gh, recording what the page gives GitHub.
        shim_dir, store = os.path.join(work, "shim"), os.path.join(work, "gh")
        os.makedirs(shim_dir)
        os.makedirs(store)
        with open(os.path.join(shim_dir, "gh"), "w") as f:
            f.write(f"""#!/usr/bin/env bash
# Records `gh secret set NAME` (value on stdin) and `gh variable set NAME --body V`.
set -euo pipefail
case "$1 $2" in
  "secret set") cat > "{store}/secret.$3" ;;
  "variable set") [ "$4" = --body ] && printf '%s' "$5" > "{store}/var.$3" ;;
  *) echo "gh shim: unsupported: $*" >&2; exit 2 ;;
esac
""")
        os.chmod(os.path.join(shim_dir, "gh"), 0o755)

        script = os.path.join(work, "doc.sh")
        with open(DOC) as f:
            blocks = bash_blocks(f.read())
        assert len(blocks) >= 4, "the page has its commands in ```bash blocks"
        with open(script, "w") as f:
            f.write("\n".join(blocks))
        home = os.path.join(work, "home")
        os.makedirs(home)
        env = {"PATH": shim_dir + ":" + os.environ["PATH"], "HOME": home, "TERM": "dumb",
               "DPLOYR_URL": base.url, "DPLOYR_EMAIL": EMAIL, "LANG": "C.UTF-8",
               "GIT_AUTHOR_NAME": "Ana", "GIT_AUTHOR_EMAIL": EMAIL,
               "GIT_COMMITTER_NAME": "Ana", "GIT_COMMITTER_EMAIL": EMAIL}
        log(f"running the page's {len(blocks)} bash blocks")
        code = run_in_terminal(script, app, env, [("Password: ", PASSWORD)])
        if code != 0:
            raise SystemExit(f"the page's commands failed (exit {code})")
        token = open(os.path.join(store, "secret.DPLOYR_TOKEN")).read().strip()
        assert token.startswith("dp_"), "the token went into the secret"
        url_var = open(os.path.join(store, "var.DPLOYR_URL")).read()
        assert url_var == base.url
        cli_sha = open(os.path.join(store, "var.DPLOYR_CLI_SHA256")).read()
        assert re.fullmatch(r"[0-9a-f]{64}", cli_sha), "the CLI's checksum went into a variable"
        served_sha = base.get_text("/download/dployr.sha256").split()[0]
        assert cli_sha == served_sha, "the page pins the CLI Base serves"

        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=app, capture_output=True, text=True, check=True).stdout.strip()
        pushed = subprocess.run(["git", "rev-parse", "main"], cwd=github, capture_output=True, text=True, check=True).stdout.strip()
        assert sha == pushed, "the page's git push reached GitHub"
        with open(os.path.join(app, ".github", "workflows", "deploy.yml")) as f:
            workflow = yaml.safe_load(f)
        on = workflow.get("on", workflow.get(True))
        assert "main" in on["push"]["branches"], "the workflow runs on pushes to main"
        runner_temp = os.path.join(work, "runner")
        os.makedirs(runner_temp)
        gh_path = os.path.join(runner_temp, "path")
        open(gh_path, "w").close()
        ctx = {"github": {"sha": sha, "workspace": app, "ref": "refs/heads/main"},
               "secrets": {"DPLOYR_TOKEN": token}, "vars": {"DPLOYR_URL": url_var, "DPLOYR_CLI_SHA256": cli_sha}}
        runner_env = {"PATH": os.environ["PATH"], "HOME": os.path.join(work, "runner-home"),
                      "RUNNER_TEMP": runner_temp, "GITHUB_PATH": gh_path, "GITHUB_SHA": sha,
                      "GITHUB_WORKSPACE": app, "CI": "true", "NO_COLOR": "1"}
        for name, job in workflow["jobs"].items():
            log(f"workflow job {name} for {sha[:12]}")
            run_steps(job["steps"], dict(ctx), app, runner_env, name)

        svc = next(s for s in base.api("GET", f"/clusters/{cluster}/services")["services"] if s["name"] == "web")
        live = base.api("GET", f"/deployments/{svc['live_deployment_id']}")
        assert live["state"] == "live" and live["commit"] == sha, live
        events = base.api("GET", f"/clusters/{cluster}/events?action=deployment.create")["events"]
        assert any(e.get("actor_token") == "github-actions" for e in events), "deployed with the CI token"
        log(f"OK: the workflow deployed {sha[:12]} with the github-actions token, and it is live")
    finally:
        base.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
