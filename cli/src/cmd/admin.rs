//! `dployr tokens` (create, list, revoke API tokens for CI) and `dployr events` (the audit log).

use proto::api::{ApiToken, AuditAction, CreateTokenRequest, CreatedToken, EventPage, Role};
use reqwest::Method;

use super::{Ctx, typed};
use crate::args::{EventsArgs, TokensCmd};
use crate::error::{CliError, Result};
use crate::output::Paint;

pub async fn tokens(ctx: &Ctx, cmd: Option<TokensCmd>) -> Result<()> {
    let cluster = ctx.cluster().await?;
    match cmd.unwrap_or(TokensCmd::List) {
        TokensCmd::List => {
            let all: Vec<ApiToken> = typed(
                ctx.api
                    .list_all(&format!("/clusters/{cluster}/tokens"), "tokens")
                    .await?,
            )?;
            if ctx.out.printed_json(&all) {
                return Ok(());
            }
            let rows = all
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        if t.revoked {
                            "revoked".into()
                        } else {
                            "active".into()
                        },
                        t.name.clone(),
                        t.role.as_str().into(),
                        t.expires_at.clone().unwrap_or_else(|| "never".into()),
                        t.last_used_at.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect::<Vec<_>>();
            ctx.out.table(
                &["ID", "STATUS", "NAME", "ROLE", "EXPIRES", "LAST USED"],
                &rows,
            );
            Ok(())
        }
        TokensCmd::Create {
            name,
            role,
            expires_in_days,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                CliError::usage(format!("unknown role {role:?}"))
                    .hint("one of owner, admin, member, guest")
            })?;
            let created: CreatedToken = ctx
                .api
                .send(
                    Method::POST,
                    &format!("/clusters/{cluster}/tokens"),
                    &CreateTokenRequest {
                        name,
                        role,
                        expires_in_days,
                    },
                )
                .await?;
            if ctx.out.printed_json(&created) {
                return Ok(());
            }
            // The token alone on stdout, so `dployr tokens create ci | gh secret set …` works.
            eprintln!(
                "{} Token {} ({}) created; it is shown this once:",
                ctx.out.paint_err("✓", Paint::Green),
                created.api_token.name,
                created.api_token.id
            );
            println!("{}", created.token);
            Ok(())
        }
        TokensCmd::Revoke { token } => {
            ctx.api
                .send_no_content(
                    Method::DELETE,
                    &format!("/clusters/{cluster}/tokens/{token}"),
                )
                .await?;
            if !ctx.out.json {
                println!("Revoked {token}: requests with it now fail.");
            }
            Ok(())
        }
    }
}

pub async fn events(ctx: &Ctx, args: EventsArgs) -> Result<()> {
    let cluster = ctx.cluster().await?;
    let mut req = ctx
        .api
        .request(Method::GET, &format!("/clusters/{cluster}/events"))
        .query(&[("limit", args.limit.to_string())]);
    if let Some(a) = &args.action {
        req = req.query(&[("action", a)]);
    }
    let page: EventPage = ctx.api.call(req).await?;
    if ctx.out.printed_json(&page) {
        return Ok(());
    }
    let rows = page
        .events
        .iter()
        .map(|e| {
            let who = match (&e.actor_name, &e.actor_token) {
                (Some(n), Some(t)) => format!("{n} (token {t})"),
                (Some(n), None) => n.clone(),
                (None, _) => "-".into(),
            };
            let what = AuditAction::parse(&e.action)
                .map(|a| a.describe(&e.details))
                .unwrap_or_default();
            vec![
                e.created_at.clone(),
                e.action.clone(),
                who,
                what,
                e.target.clone().unwrap_or_else(|| "-".into()),
                e.ip.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect::<Vec<_>>();
    ctx.out
        .table(&["WHEN", "ACTION", "WHO", "WHAT", "TARGET", "FROM"], &rows);
    Ok(())
}
