//! CI OIDC federation from the command line: `dployr login --oidc` finds the CI job's identity
//! token (GitHub Actions' token endpoint, or GitLab's `id_tokens:` variable), exchanges it at
//! Base for an API token lasting at most an hour and saves that for the job's next commands;
//! `dployr oidc bindings list|add|remove` manages which repositories may do so.

use std::path::PathBuf;

use proto::api::{
    CreateOidcBindingRequest, OidcBinding, OidcBindingList, OidcExchangeRequest,
    OidcExchangeResponse, OidcProvider, Role,
};
use reqwest::Method;
use serde::Deserialize;

use super::Ctx;
use crate::args::{BindingsCmd, LoginArgs, OidcCmd};
use crate::client::Api;
use crate::config::ConfigFile;
use crate::error::{CliError, Kind, Result};
use crate::output::{Out, Paint};

/// The variables GitLab jobs hold an identity token in: ours (from `id_tokens:`), then the
/// older predefined one.
const GITLAB_VARS: &[&str] = &["DPLOYR_ID_TOKEN", "CI_JOB_JWT_V2"];

pub async fn login(
    args: LoginArgs,
    url: Option<String>,
    cluster: Option<String>,
    mut file: ConfigFile,
    path: PathBuf,
    out: Out,
) -> Result<()> {
    let url = url.or(file.url.clone()).ok_or_else(|| {
        CliError::usage("--oidc needs Base's URL").hint("pass --url or set DPLOYR_URL")
    })?;
    let api = Api::new(&url, None)?;
    let audience = args.audience.unwrap_or_else(|| api.url.clone());
    let (source, id_token) = identity_token(&audience).await?;
    let got: OidcExchangeResponse = api
        .send(
            Method::POST,
            "/auth/oidc/exchange",
            &OidcExchangeRequest {
                token: id_token,
                cluster,
            },
        )
        .await?;
    file.url = Some(api.url.clone());
    file.token = Some(got.token.clone());
    file.token_id = Some(got.token_id.clone());
    file.cluster = Some(got.cluster_id.clone());
    file.save(&path)?;
    if out.json {
        out.print_json(&serde_json::json!({
            "url": file.url, "cluster": got.cluster_id, "role": got.role,
            "expires_at": got.expires_at, "source": source, "config": path,
        }));
    } else {
        println!(
            "{} Logged in to {} with the {source} identity token: {} in cluster {} until {}.",
            out.paint("✓", Paint::Green),
            api.url,
            got.role.as_str(),
            out.paint(&got.cluster_id, Paint::Bold),
            got.expires_at
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct GithubAnswer {
    value: String,
}

/// Where the job's identity token came from, and the token.
async fn identity_token(audience: &str) -> Result<(&'static str, String)> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let (Some(url), Some(bearer)) = (
        var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        let mut url = reqwest::Url::parse(&url).map_err(|e| {
            CliError::other(format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))
        })?;
        url.query_pairs_mut().append_pair("audience", audience);
        let fail = |e: String| {
            CliError::new(
                Kind::Auth,
                format!("GitHub did not give an identity token: {e}"),
            )
            .hint("the job needs `permissions: id-token: write`")
        };
        let res = reqwest::Client::new()
            .get(url)
            .bearer_auth(bearer)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !res.status().is_success() {
            return Err(fail(res.status().to_string()));
        }
        let answer: GithubAnswer = res.json().await.map_err(|e| fail(e.to_string()))?;
        return Ok(("GitHub Actions", answer.value));
    }
    for name in GITLAB_VARS {
        if let Some(token) = var(name) {
            return Ok(("GitLab CI", token));
        }
    }
    Err(
        CliError::new(Kind::Auth, "no CI identity token found").hint(format!(
            "GitHub Actions: give the job `permissions: id-token: write`; GitLab CI: add \
             `id_tokens: DPLOYR_ID_TOKEN: aud: {audience}` to the job"
        )),
    )
}

pub async fn bindings(ctx: &Ctx, cmd: OidcCmd) -> Result<()> {
    let OidcCmd::Bindings { cmd } = cmd;
    let cluster = ctx.cluster().await?;
    let base = format!("/clusters/{cluster}/oidc/bindings");
    match cmd {
        BindingsCmd::List => {
            let list: OidcBindingList = ctx.api.get(&base).await?;
            if ctx.out.printed_json(&list.bindings) {
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list.bindings.iter().map(row).collect();
            ctx.out.table(
                &[
                    "ID",
                    "PROVIDER",
                    "REPOSITORY",
                    "REF",
                    "ENVIRONMENT",
                    "ROLE",
                    "ISSUER",
                ],
                &rows,
            );
            Ok(())
        }
        BindingsCmd::Add {
            provider,
            repository,
            git_ref,
            environment,
            issuer,
            audience,
            role,
        } => {
            let body = CreateOidcBindingRequest {
                provider: provider.parse::<OidcProvider>().map_err(CliError::usage)?,
                issuer,
                audience,
                repository,
                git_ref,
                environment,
                role: role.parse::<Role>().map_err(CliError::usage)?,
            };
            let made: OidcBinding = ctx.api.send(Method::POST, &base, &body).await?;
            ctx.out.show(&made, || {
                println!(
                    "{} CI jobs of {} may now act as {} (audience {}); binding {}.",
                    ctx.out.paint("✓", Paint::Green),
                    made.repository,
                    made.role.as_str(),
                    made.audience,
                    made.id
                )
            });
            Ok(())
        }
        BindingsCmd::Remove { binding } => {
            ctx.api
                .send_no_content(Method::DELETE, &format!("{base}/{binding}"))
                .await?;
            if !ctx.out.json {
                println!(
                    "{} Removed binding {binding}.",
                    ctx.out.paint("✓", Paint::Green)
                );
            }
            Ok(())
        }
    }
}

fn row(b: &OidcBinding) -> Vec<String> {
    let or_any = |v: &Option<String>| v.clone().unwrap_or_else(|| "any".into());
    vec![
        b.id.clone(),
        b.provider.as_str().into(),
        b.repository.clone(),
        or_any(&b.git_ref),
        or_any(&b.environment),
        b.role.as_str().into(),
        b.issuer.clone(),
    ]
}
