//! `dployr login`, `logout`, `whoami`. Login never opens a browser: with `--token` it checks and
//! saves that token; with an email and password it signs in once, creates an API token for this
//! machine in the chosen cluster (with the user's role there), signs the session out again and
//! saves the token; an account with two-factor on is asked for a code (or takes `--otp`) between
//! the password and the session. Only the token is kept, never the password.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use proto::api::{
    ClusterSummary, CreateTokenRequest, CreatedToken, LoginChallenge, LoginCodeRequest,
    LoginRequest, MeResponse,
};
use reqwest::Method;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};

use super::{Ctx, read_stdin_line};
use crate::args::LoginArgs;
use crate::client::Api;
use crate::config::ConfigFile;
use crate::error::{CliError, Kind, Result};
use crate::output::{Out, Paint};

pub async fn login(
    args: LoginArgs,
    url: Option<String>,
    token: Option<String>,
    cluster: Option<String>,
    mut file: ConfigFile,
    path: PathBuf,
    out: Out,
) -> Result<()> {
    let url = match url.or(file.url.clone()) {
        Some(u) => u,
        None => ask("Base URL (e.g. https://dployr.example.com): ")?,
    };
    let (token, token_id, me) = match token {
        Some(token) => {
            let api = Api::new(&url, Some(token.clone()))?;
            let me: MeResponse = api.get("/me").await?;
            (token, None, me)
        }
        None => with_password(&args, &url, cluster.as_deref()).await?,
    };
    let cluster = pick(&me.clusters, cluster.as_deref())?;
    file.url = Some(Api::new(&url, None)?.url);
    file.token = Some(token);
    file.token_id = token_id;
    file.cluster = Some(cluster.id.clone());
    file.save(&path)?;
    if out.json {
        out.print_json(&serde_json::json!({
            "url": file.url, "user": me.user, "cluster": cluster, "config": path,
        }));
    } else {
        println!(
            "{} Logged in to {} as {} in cluster {} ({}).",
            out.paint("✓", Paint::Green),
            file.url.as_deref().unwrap_or_default(),
            me.user.email,
            out.paint(&cluster.name, Paint::Bold),
            cluster.role.as_str()
        );
        println!("  Saved to {} (readable by you only).", path.display());
    }
    Ok(())
}

/// Signs in with email and password, makes a token for this machine, signs the session out.
async fn with_password(
    args: &LoginArgs,
    url: &str,
    cluster: Option<&str>,
) -> Result<(String, Option<String>, MeResponse)> {
    let email = match &args.email {
        Some(e) => e.clone(),
        None => ask("Email: ")?,
    };
    let password = if args.password_stdin {
        read_stdin_line()?
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        return Err(CliError::usage("no terminal to ask for the password on")
            .hint("pipe it with --password-stdin, or use `dployr login --token dp_…`"));
    };
    let api = Api::new(url, None)?;
    // Base refuses cookie-carrying writes without its own Origin (CSRF guard).
    let mut res = api
        .start(
            api.request(Method::POST, "/auth/login")
                .header(ORIGIN, &api.url)
                .json(&LoginRequest { email, password }),
        )
        .await?;
    if res.status() == reqwest::StatusCode::ACCEPTED {
        // Two-factor is on: the password was right; the code opens the session.
        let challenge: LoginChallenge = res.json().await.map_err(|e| {
            CliError::other(format!("Base sent an answer this CLI cannot read: {e}"))
        })?;
        let code = match &args.otp {
            Some(c) => c.clone(),
            None => ask("Two-factor code (or a backup code): ")?,
        };
        let body = LoginCodeRequest {
            challenge: challenge.challenge,
            code,
        };
        res = api
            .start(
                api.request(Method::POST, "/auth/login/2fa")
                    .header(ORIGIN, &api.url)
                    .json(&body),
            )
            .await?;
    }
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let with_session = |m: Method, p: &str| {
        api.request(m, p)
            .header(COOKIE, &session)
            .header(ORIGIN, &api.url)
    };
    let me: MeResponse = api.call(with_session(Method::GET, "/me")).await?;
    let chosen = pick(&me.clusters, cluster)?;
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "this machine".into());
    let created: CreatedToken = api
        .call(
            with_session(Method::POST, &format!("/clusters/{}/tokens", chosen.id)).json(
                &CreateTokenRequest {
                    name: format!("dployr CLI on {host}"),
                    role: chosen.role,
                    expires_in_days: None,
                },
            ),
        )
        .await?;
    // The session was only needed to make the token.
    let _ = with_session(Method::POST, "/auth/logout").send().await;
    Ok((created.token, Some(created.api_token.id), me))
}

fn pick(clusters: &[ClusterSummary], wanted: Option<&str>) -> Result<ClusterSummary> {
    let found = match wanted {
        Some(w) => clusters.iter().find(|c| c.id == w || c.name == w),
        None if clusters.len() == 1 => clusters.first(),
        None => None,
    };
    if let Some(c) = found {
        return Ok(c.clone());
    }
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    Err(match wanted {
        Some(w) => CliError::usage(format!("you are not a member of a cluster {w:?}")),
        None if clusters.is_empty() => CliError::usage("you are not a member of any cluster"),
        None => CliError::usage("you are in several clusters: say which one"),
    }
    .hint(format!("--cluster NAME; yours: {}", names.join(", "))))
}

fn ask(prompt: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "missing {}: there is no terminal to ask on",
            prompt.trim_end_matches([':', ' '])
        ))
        .hint("pass it as a flag: `dployr login --url URL --token dp_…` (see --help)"));
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let line = read_stdin_line()?;
    if line.trim().is_empty() {
        return Err(CliError::usage("nothing entered"));
    }
    Ok(line.trim().to_string())
}

pub async fn logout(ctx: &Ctx, mut file: ConfigFile) -> Result<()> {
    if let (Some(cluster), Some(id)) = (&file.cluster, &file.token_id) {
        let path = format!("/clusters/{cluster}/tokens/{id}");
        match ctx.api.send_no_content(Method::DELETE, &path).await {
            Ok(()) => eprintln!("Revoked this machine's API token."),
            Err(e) if e.kind == Kind::Auth => {
                eprintln!("The token is already invalid (or you may not revoke it).")
            }
            Err(e) => eprintln!("Could not revoke the token on Base: {e}"),
        }
    }
    file.token = None;
    file.token_id = None;
    file.save(&ctx.config_path)?;
    println!("Logged out: the token is forgotten here.");
    Ok(())
}

pub async fn whoami(ctx: &Ctx) -> Result<()> {
    let me: MeResponse = ctx.api.get("/me").await?;
    if ctx.out.printed_json(&me) {
        return Ok(());
    }
    println!("{} <{}> on {}", me.user.name, me.user.email, ctx.api.url);
    for c in &me.clusters {
        println!(
            "  {}  {}  ({})",
            c.id,
            ctx.out.paint(&c.name, Paint::Bold),
            c.role.as_str()
        );
    }
    Ok(())
}
