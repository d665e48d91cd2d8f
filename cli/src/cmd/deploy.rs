//! `dployr deploy` and the other things done to a service's releases. `deploy --wait` is what CI
//! runs: it starts a deployment (with an `Idempotency-Key`, so a retried request cannot start a
//! second one), streams that deployment's log while polling its state, and exits 0 once it is
//! live, 1 when it failed (repeating the last lines and the reason), 4 when `--timeout` passes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proto::api::{CreateDeploymentRequest, Deployment, LogLine, Service};
use proto::deploy::DeployState;
use reqwest::Method;
use serde::Deserialize;

use super::{Ctx, logs, typed, wire_name};
use crate::args::DeployArgs;
use crate::error::{CliError, Kind, Result};
use crate::output::Paint;

/// How often `--wait` asks for the deployment's state.
const POLL_EVERY: Duration = Duration::from_millis(750);
/// Lines repeated after a failure (what usually says why).
const TAIL_LINES: usize = 30;

#[derive(Deserialize)]
struct Accepted {
    deployment: Deployment,
}

pub async fn deploy(ctx: &Ctx, args: DeployArgs) -> Result<()> {
    let svc = ctx.service(args.service).await?;
    let key = idempotency_key();
    let body = CreateDeploymentRequest {
        git_ref: args.git_ref.clone(),
    };
    let path = format!("/services/{}/deployments", svc.id);
    // Base unreachable or failing: try again with the same key (Base answers a repeat with the
    // deployment the first attempt started, if it got that far).
    let mut attempt = 0;
    let accepted: Accepted = loop {
        let req = ctx
            .api
            .request(Method::POST, &path)
            .header("Idempotency-Key", &key)
            .json(&body);
        match ctx.api.call(req).await {
            Err(e) if e.kind == Kind::Other && attempt < 2 => {
                attempt += 1;
                eprintln!("{e}; trying again ({attempt}/2)");
                tokio::time::sleep(Duration::from_secs(attempt)).await;
            }
            other => break other?,
        }
    };
    let dep = accepted.deployment;
    if !args.wait {
        ctx.out.show(&dep, || {
            println!(
                "Deployment {} of {} started ({}).",
                dep.id,
                ctx.out.paint(&svc.spec.name, Paint::Bold),
                dep.git_ref.as_deref().unwrap_or("its branch")
            );
            println!(
                "Follow it with `dployr logs {} -f --deployment {}`.",
                svc.spec.name, dep.id
            );
        });
        return Ok(());
    }
    if !ctx.out.json {
        eprintln!(
            "Deploying {} ({}) — deployment {}",
            ctx.out.paint_err(&svc.spec.name, Paint::Bold),
            dep.git_ref.as_deref().unwrap_or("its branch"),
            dep.id
        );
    }
    wait(ctx, &svc, dep, args.timeout).await
}

/// 128 random bits: unique per invocation, and the same across this invocation's retries.
fn idempotency_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn wait(ctx: &Ctx, svc: &Service, mut dep: Deployment, timeout: Duration) -> Result<()> {
    let tail = Arc::new(Mutex::new(VecDeque::<String>::new()));
    let spinner = ctx.out.spinner(&format!("{}", dep.state));
    // With --json, stdout carries only the final JSON: the log goes to stderr.
    let to_stderr = ctx.out.json;
    let follow = {
        let (api, tail, spinner) = (ctx.api.clone(), tail.clone(), spinner.clone());
        let path = format!("/deployments/{}/logs?follow=true&limit=5000", dep.id);
        tokio::spawn(async move {
            let on_line = |l: LogLine| {
                let text = logs::format_line(&l);
                {
                    let mut t = tail.lock().expect("tail lock is never poisoned");
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(text.clone());
                }
                match &spinner {
                    Some(pb) => pb.println(text),
                    None if to_stderr => eprintln!("{text}"),
                    None => println!("{text}"),
                }
            };
            logs::stream(&api, &path, on_line).await
        })
    };
    let deadline = Instant::now() + timeout;
    let ended = loop {
        if !dep.state.in_progress() {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        tokio::time::sleep(POLL_EVERY.min(deadline.saturating_duration_since(Instant::now())))
            .await;
        match ctx
            .api
            .get::<Deployment>(&format!("/deployments/{}", dep.id))
            .await
        {
            Ok(d) => dep = d,
            // Base restarting or a blip: keep waiting until the deadline.
            Err(e) if e.kind == Kind::Other => {}
            Err(e) => return Err(e),
        }
        if let Some(pb) = &spinner {
            pb.set_message(dep.state.to_string());
        }
    };
    // The last lines may still be on their way.
    tokio::time::sleep(Duration::from_millis(400)).await;
    follow.abort();
    if let Some(pb) = &spinner {
        pb.finish_and_clear();
    }
    if ctx.out.json {
        ctx.out.print_json(&dep);
    }
    let was_live = dep.transitions.iter().any(|t| t.state == DeployState::Live);
    if !ended {
        return Err(CliError::new(
            Kind::Timeout,
            format!(
                "deployment {} is still {} after {}s",
                dep.id,
                dep.state,
                timeout.as_secs()
            ),
        )
        .hint(format!(
            "it goes on on Base: follow it with `dployr logs {} -f`, or stop it with `dployr cancel {}`",
            svc.spec.name, dep.id
        )));
    }
    if dep.state == DeployState::Live || was_live {
        if !ctx.out.json {
            println!(
                "{} {} is live (deployment {}{}).",
                ctx.out.paint("✓", Paint::Green),
                ctx.out.paint(&svc.spec.name, Paint::Bold),
                dep.id,
                dep.commit
                    .as_deref()
                    .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
                    .unwrap_or_default()
            );
        }
        return Ok(());
    }
    let reason = dep
        .reason
        .clone()
        .unwrap_or_else(|| "no reason given".into());
    if to_stderr {
        let t = tail.lock().expect("tail lock is never poisoned");
        if !t.is_empty() {
            eprintln!("Last lines of the build log:");
            for l in t.iter() {
                eprintln!("  {l}");
            }
        }
    }
    Err(CliError::new(
        Kind::Failed,
        format!("deployment {} {}: {reason}", dep.id, dep.state),
    )
    .hint(format!(
        "the full log: `dployr logs {} --deployment {}`",
        svc.spec.name, dep.id
    )))
}

pub async fn list(ctx: &Ctx, service: Option<String>) -> Result<()> {
    let svc = ctx.service(service).await?;
    let all: Vec<Deployment> = typed(
        ctx.api
            .list_all(&format!("/services/{}/deployments", svc.id), "deployments")
            .await?,
    )?;
    if ctx.out.printed_json(&all) {
        return Ok(());
    }
    if all.is_empty() {
        eprintln!(
            "{} has no deployments yet: `dployr deploy {} --wait`.",
            svc.spec.name, svc.spec.name
        );
    }
    let live = svc.live_deployment_id.as_deref();
    let rows = all
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.state.to_string(),
                d.git_ref.clone().unwrap_or_else(|| "-".into()),
                d.commit
                    .as_deref()
                    .map_or("-".into(), |c| c[..c.len().min(12)].to_string()),
                d.created_at.clone(),
                if Some(d.id.as_str()) == live {
                    "← live".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect::<Vec<_>>();
    ctx.out
        .table(&["ID", "STATUS", "REF", "COMMIT", "CREATED", ""], &rows);
    Ok(())
}

pub async fn cancel(ctx: &Ctx, deployment: &str) -> Result<()> {
    let dep: Deployment = ctx
        .api
        .send(
            Method::POST,
            &format!("/deployments/{deployment}/cancel"),
            &serde_json::json!({}),
        )
        .await?;
    ctx.out.show(&dep, || {
        println!(
            "Deployment {} is {}.",
            dep.id,
            ctx.out.state(dep.state.as_str())
        );
    });
    Ok(())
}

pub async fn rollback(ctx: &Ctx, service: Option<String>, to: Option<String>) -> Result<()> {
    let svc = ctx.service(service).await?;
    let target = match to {
        Some(t) => t,
        None => {
            let all: Vec<Deployment> = typed(
                ctx.api
                    .list_all(&format!("/services/{}/deployments", svc.id), "deployments")
                    .await?,
            )?;
            // Newest first: the newest one that was live before the live one.
            all.iter()
                .filter(|d| Some(d.id.as_str()) != svc.live_deployment_id.as_deref())
                .find(|d| matches!(d.state, DeployState::Superseded | DeployState::RolledBack))
                .map(|d| d.id.clone())
                .ok_or_else(|| {
                    CliError::usage("no earlier release to go back to")
                        .hint("`dployr deployments` lists them; pick one with --to")
                })?
        }
    };
    let dep: Deployment = ctx
        .api
        .send(
            Method::POST,
            &format!("/services/{}/rollback", svc.id),
            &serde_json::json!({ "deployment_id": target }),
        )
        .await?;
    ctx.out.show(&dep, || {
        println!(
            "{} rolled back to {} ({}).",
            svc.spec.name,
            dep.id,
            ctx.out.state(dep.state.as_str())
        );
    });
    Ok(())
}

/// `restart`, `stop`, `start`.
pub async fn action(ctx: &Ctx, service: Option<String>, verb: &str) -> Result<()> {
    let svc = ctx.service(service).await?;
    let after: Service = ctx
        .api
        .send(
            Method::POST,
            &format!("/services/{}/{verb}", svc.id),
            &serde_json::json!({}),
        )
        .await?;
    ctx.out.show(&after, || {
        let status = wire_name(after.status);
        println!(
            "{}: {verb} sent; it is {}.",
            svc.spec.name,
            ctx.out.state(&status)
        );
    });
    Ok(())
}
