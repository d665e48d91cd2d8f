//! Ruby: Bundler's dependencies and the Rack server.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};

pub(super) fn plan(_dir: &Path) -> Plan {
    Plan {
        package_manager: Some("bundler (Gemfile)".into()),
        build: vec![Step::new("bundle install", "Gemfile")],
        start: Some(Step::new(
            "bundle exec rackup -p $PORT -o 0.0.0.0",
            "a Rack app (config.ru)",
        )),
        toolchain: vec!["ruby".into(), "bundle".into()],
        ..Plan::empty(ServiceKind::Web)
    }
}
