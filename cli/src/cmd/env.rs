//! `dployr env list|set|unset|import`: a service's variables and secrets. Secret values go to
//! Base and never come back; this command never prints one (`list` shows `(secret)`), and
//! `set KEY -` reads the value from stdin so it stays out of shell history and `ps`.

use std::io::Read;

use proto::api::{EnvList, ImportEnvRequest, SetEnvRequest};
use reqwest::Method;

use super::Ctx;
use crate::args::EnvCmd;
use crate::error::{CliError, Result};
use crate::output::Paint;

pub async fn env(ctx: &Ctx, cmd: EnvCmd) -> Result<()> {
    match cmd {
        EnvCmd::List { service } => {
            let svc = ctx.service(service).await?;
            let list: EnvList = ctx.api.get(&format!("/services/{}/env", svc.id)).await?;
            if ctx.out.printed_json(&list) {
                return Ok(());
            }
            let rows = list
                .vars
                .iter()
                .map(|v| {
                    vec![
                        v.key.clone(),
                        match (&v.value, v.secret) {
                            (_, true) => ctx.out.paint("(secret)", Paint::Dim),
                            (Some(value), false) => value.clone(),
                            (None, false) => String::new(),
                        },
                        v.updated_at.clone(),
                    ]
                })
                .collect::<Vec<_>>();
            ctx.out.table(&["KEY", "VALUE", "UPDATED"], &rows);
            if list.changed_since_deploy {
                eprintln!(
                    "Changed since the last deploy: `dployr deploy {}` applies them.",
                    svc.spec.name
                );
            }
            Ok(())
        }
        EnvCmd::Set {
            service,
            key,
            value,
            secret,
        } => {
            let svc = ctx.service(Some(service)).await?;
            let value = or_stdin(value, Ok)?;
            let path = format!("/services/{}/env/{key}", svc.id);
            let put = ctx.api.request(Method::PUT, &path);
            ctx.api
                .start(put.json(&SetEnvRequest { value, secret }))
                .await?;
            let kind = if secret { "secret" } else { "variable" };
            if ctx.out.json {
                ctx.out
                    .print_json(&serde_json::json!({ "key": key, "secret": secret }));
            } else {
                println!(
                    "Set {kind} {key} on {}. Redeploy to apply it.",
                    svc.spec.name
                );
            }
            Ok(())
        }
        EnvCmd::Unset { service, key } => {
            let svc = ctx.service(Some(service)).await?;
            ctx.api
                .send_no_content(Method::DELETE, &format!("/services/{}/env/{key}", svc.id))
                .await?;
            if !ctx.out.json {
                println!(
                    "Removed {key} from {}. Redeploy to apply it.",
                    svc.spec.name
                );
            }
            Ok(())
        }
        EnvCmd::Import {
            service,
            file,
            secret,
        } => {
            let svc = ctx.service(Some(service)).await?;
            let dotenv = or_stdin(file, |file| {
                std::fs::read_to_string(&file)
                    .map_err(|e| CliError::usage(format!("cannot read {file}: {e}")))
            })?;
            let list: EnvList = ctx
                .api
                .send(
                    Method::POST,
                    &format!("/services/{}/env/import", svc.id),
                    &ImportEnvRequest { dotenv, secret },
                )
                .await?;
            ctx.out.show(&list, || {
                println!(
                    "Imported into {}: it now has {} variables. Redeploy to apply them.",
                    svc.spec.name,
                    list.vars.len()
                );
            });
            Ok(())
        }
    }
}

/// What `arg` stands for: `-` is all of stdin, anything else goes through `read`.
fn or_stdin(arg: String, read: impl FnOnce(String) -> Result<String>) -> Result<String> {
    if arg == "-" {
        read_all_stdin()
    } else {
        read(arg)
    }
}

/// All of stdin without one trailing newline (multi-line values such as PEM keys work).
fn read_all_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}
