//! Ruby: Bundler's dependencies and the Rack server; for Rails, production settings, the asset
//! pipeline and `rails server`, with a `SECRET_KEY_BASE` dployrd generates once per service.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};

pub(super) fn plan(dir: &Path) -> Plan {
    let mut plan = Plan {
        package_manager: Some("bundler (Gemfile)".into()),
        build: vec![Step::new("bundle install", "Gemfile")],
        start: Some(Step::new(
            "bundle exec rackup -p $PORT -o 0.0.0.0",
            "a Rack app (config.ru)",
        )),
        toolchain: vec!["ruby".into(), "bundle".into()],
        ..Plan::empty(ServiceKind::Web)
    };
    if !is_rails(dir) {
        return plan;
    }
    plan.notes
        .push("framework: Rails (config/application.rb)".into());
    for (name, value) in [
        ("RAILS_ENV", "production"),
        ("RACK_ENV", "production"),
        ("RAILS_LOG_TO_STDOUT", "enabled"),
        ("RAILS_SERVE_STATIC_FILES", "enabled"),
        ("BUNDLE_WITHOUT", "development:test"),
    ] {
        plan.env.insert(name.into(), value.into());
    }
    plan.generated_secrets.push("SECRET_KEY_BASE".into());
    if dir.join("app/assets").is_dir() || dir.join("app/javascript").is_dir() {
        plan.build.push(Step::new(
            "bundle exec rails assets:precompile",
            "Rails with app/assets or app/javascript",
        ));
    }
    plan.start = Some(Step::new(
        "bundle exec rails server -b 0.0.0.0 -p $PORT",
        "a Rails app",
    ));
    plan
}

/// A Rails app: `config/application.rb`, or `rails` in the Gemfile.
fn is_rails(dir: &Path) -> bool {
    dir.join("config/application.rb").is_file()
        || std::fs::read_to_string(dir.join("Gemfile")).is_ok_and(|g| {
            g.lines().any(|l| {
                let l = l.trim();
                l.starts_with("gem \"rails\"") || l.starts_with("gem 'rails'")
            })
        })
}
