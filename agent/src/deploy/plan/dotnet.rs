//! .NET: `dotnet publish` and the published assembly, listening where `ASPNETCORE_URLS` says.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};
use crate::deploy::process::quote;

pub(super) fn plan(dir: &Path) -> Plan {
    // The assembly is named after the project file unless it sets <AssemblyName>; users with
    // one give a start command.
    let mut projects: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|x| x == "csproj" || x == "fsproj")
        })
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    projects.sort();
    Plan {
        build: vec![Step::new(
            "dotnet publish -c Release -o out",
            "a .NET project",
        )],
        start: projects.first().map(|name| {
            Step::new(
                format!("dotnet {}", quote(&format!("out/{name}.dll"))),
                format!("the assembly of {name}"),
            )
        }),
        toolchain: vec!["dotnet".into()],
        port_env: vec![("ASPNETCORE_URLS".into(), "http://127.0.0.1:$PORT".into())],
        ..Plan::empty(ServiceKind::Web)
    }
}
