//! The runtime version an app asks for against the one the instance has, checked before the
//! build: a missing or wrong-version toolchain fails the deploy within two seconds with one
//! sentence naming both versions, where the wanted one came from, and how to fix it — instead
//! of an obscure syntax or engine error minutes into a build. For Python, a matching
//! `python3.X` on the instance is picked when `python3` does not match.
//!
//! - [`wanted`]: the version the app's files (or the service's `runtime_version`) ask for.
//! - [`installed`]: the version a tool reports.
//! - [`range`]: version numbers and the requirement syntax of each ecosystem.
//!
//! Installing a missing version is left to the instance's admin for now; a toolchain provider
//! (mise, or the official archives into dployrd's cache) would slot in where the check fails,
//! and never runs in tests.

mod installed;
mod range;
#[cfg(test)]
mod tests;
mod wanted;

use std::path::Path;

use proto::service::Runtime;

pub use installed::{TIMEOUT, installed, python_candidates, which};
pub use range::{Range, Version};
pub use wanted::{SETTINGS, Wanted, wanted};

use super::plan::Host;

/// The language's name in messages, and the tool that reports its version.
fn language(runtime: Runtime) -> Option<(&'static str, &'static str)> {
    Some(match runtime {
        Runtime::Node => ("Node.js", "node"),
        Runtime::Python => ("Python", "python3"),
        Runtime::Go => ("Go", "go"),
        Runtime::Ruby => ("Ruby", "ruby"),
        Runtime::Dotnet => ("the .NET SDK", "dotnet"),
        Runtime::Java => ("Java", "java"),
        Runtime::Php => ("PHP", "php"),
        Runtime::Static | Runtime::Docker => return None,
    })
}

/// What a tool said in the app's folder, and (when that failed) elsewhere.
struct Asked {
    here: Result<Version, String>,
    /// The instance's default version when the tool failed in the app's folder (a version
    /// manager's shim naming a version it does not have): for the message only.
    default: Option<Version>,
}

async fn ask(tool: &str, host: &Host, dir: &Path) -> Asked {
    let here = installed(tool, &host.path, dir).await;
    let default = match &here {
        Ok(_) => None,
        Err(_) => installed(tool, &host.path, Path::new("/")).await.ok(),
    };
    Asked { here, default }
}

/// Checks the version `runtime` has on this instance against the one the app in `dir` wants
/// (`over` is the service's `runtime_version`). `Ok(None)`: nothing asked for a version.
/// `Ok(Some(line))`: it matches; the line is for the build plan. For Python, when `python3`
/// does not match but a `python3.X` on `host.path` does, `host.python` becomes that one.
/// `Err`: the whole message for the user.
///
/// The whole check (every tool asked, in the app's folder and elsewhere, and each `python3.X`
/// candidate) is bounded by one [`TIMEOUT`], so a hung tool cannot hold a deploy longer.
pub async fn check(
    runtime: Runtime,
    dir: &Path,
    over: Option<&str>,
    instance: &str,
    host: &mut Host,
) -> Result<Option<String>, String> {
    let Some((lang, tool)) = language(runtime) else {
        return Ok(None);
    };
    let Some(wanted) = wanted(runtime, dir, over)? else {
        return Ok(None);
    };
    let within = compare(runtime, lang, tool, wanted, dir, instance, host);
    tokio::time::timeout(TIMEOUT, within)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "could not learn the {lang} version on instance {instance}: {tool} did not \
                 answer within {TIMEOUT:?}"
            ))
        })
}

/// [`check`] once the wanted version is known.
async fn compare(
    runtime: Runtime,
    lang: &str,
    tool: &str,
    Wanted { range, source }: Wanted,
    dir: &Path,
    instance: &str,
    host: &mut Host,
) -> Result<Option<String>, String> {
    let tool = if runtime == Runtime::Python {
        host.python.clone()
    } else {
        tool.to_owned()
    };
    let asked = match which(&tool, &host.path) {
        Some(_) => Some(ask(&tool, host, dir).await),
        None => None,
    };
    if let Some(Asked { here: Ok(v), .. }) = &asked
        && range.matches(v)
    {
        return Ok(Some(format!(
            "version: {tool} {v} matches {range} ({source})"
        )));
    }
    if runtime == Runtime::Python {
        for (name, minor) in python_candidates(&host.path) {
            if name == tool || !range.allows_minor(3, minor) {
                continue;
            }
            if let Ok(v) = installed(&name, &host.path, dir).await
                && range.matches(&v)
            {
                let instead = match &asked {
                    Some(Asked {
                        here: Ok(other), ..
                    }) => format!("{tool} is {other}"),
                    _ => format!("{tool} does not match"),
                };
                host.python = name.clone();
                return Ok(Some(format!(
                    "version: {name} {v} matches {range} ({source}); building with {name} \
                     ({instead})"
                )));
            }
        }
    }
    let wants = format!("this app wants {lang} {range} ({source})");
    let install = format!("install {lang} {}", range.suggest());
    let fix = if source == SETTINGS {
        format!("{install} on the instance or change the service's runtime version")
    } else {
        format!("{install} on the instance, change {source}, or set the service's runtime version")
    };
    Err(match asked {
        None => format!(
            "{wants} but {tool} is not installed on instance {instance}: {install} or choose the \
             docker runtime"
        ),
        Some(Asked { here: Ok(v), .. }) => {
            format!("{wants} but instance {instance} has {v}: {fix}")
        }
        Some(Asked {
            here: Err(e),
            default: Some(v),
        }) => format!("{wants} but instance {instance} has {v} ({e} in the app's folder): {fix}"),
        Some(Asked {
            here: Err(e),
            default: None,
        }) => format!("{wants} but on instance {instance} {e}: {fix}"),
    })
}
