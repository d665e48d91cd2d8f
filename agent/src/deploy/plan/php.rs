//! PHP: Composer's dependencies when there is a `composer.json`, and PHP's built-in server on
//! `public/` (the Laravel and Symfony layout) or the app's folder.

use std::path::Path;

use proto::service::ServiceKind;

use super::{Plan, Step};

pub(super) fn plan(dir: &Path) -> Plan {
    let mut build = Vec::new();
    let mut toolchain = vec!["php".to_owned()];
    let mut package_manager = None;
    if dir.join("composer.json").is_file() {
        build.push(Step::new(
            "composer install --no-dev --no-interaction",
            "composer.json",
        ));
        toolchain.push("composer".into());
        package_manager = Some("composer (composer.json)".into());
    }
    let (docroot, why) = if dir.join("public").is_dir() {
        ("public", "PHP's server on public/")
    } else {
        (".", "PHP's server on the app's folder")
    };
    Plan {
        package_manager,
        build,
        start: Some(Step::new(format!("php -S 0.0.0.0:$PORT -t {docroot}"), why)),
        toolchain,
        bin_dirs: vec!["vendor/bin".into()],
        ..Plan::empty(ServiceKind::Web)
    }
}
