//! Go: one binary built from the module at the app's folder.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};

pub(super) fn plan(_dir: &Path) -> Plan {
    Plan {
        build: vec![Step::new("go build -o app .", "go.mod")],
        start: Some(Step::new("./app", "the binary the build made")),
        toolchain: vec!["go".into()],
        ..Plan::empty(ServiceKind::Web)
    }
}
