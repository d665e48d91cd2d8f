//! Environment variable names that decide what code a program loads or runs before its own:
//! `LD_PRELOAD`, `NODE_OPTIONS`, `BASH_ENV`, `PERL5OPT`, `PATH`, `HOME` and the like (audit
//! finding H1). Whoever sets one of them runs code on the instance, as the service's user and
//! during its builds, so Base lets only Owners and Admins (who may open a console anyway) set
//! or remove them. The list lives here so Base enforcing it and the dashboard explaining it
//! never disagree. Names compare without regard to case (npm reads `npm_config_*` either way).

/// Exact names (uppercase) that change how a runtime, a shell, a tool or the dynamic loader
/// starts.
pub const LOADER_ENV_NAMES: &[&str] = &[
    // the process itself: where programs, dotfiles and shells come from
    "PATH",
    "HOME",
    "SHELL",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "IFS",
    "CDPATH",
    "BROWSER",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "GCONV_PATH",
    // Node.js
    "NODE_OPTIONS",
    "NODE_PATH",
    "NODE_REPL_EXTERNAL_MODULE",
    // Python
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONWARNINGS",
    "PYTHONINSPECT",
    "PYTHONBREAKPOINT",
    "PYTHONUSERBASE",
    "PYTHONEXECUTABLE",
    "PYTHONPLATLIBDIR",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_CONFIG_FILE",
    // Perl, Ruby, PHP, Lua
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PERL5DB",
    "RUBYOPT",
    "RUBYLIB",
    "BUNDLE_GEMFILE",
    "GEM_HOME",
    "GEM_PATH",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "LUA_INIT",
    // Java and .NET
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "JAVA_OPTS",
    "CLASSPATH",
    "GRADLE_OPTS",
    "MAVEN_OPTS",
    "DOTNET_STARTUP_HOOKS",
    "DOTNET_ADDITIONAL_DEPS",
    // Go, Rust and C toolchains during builds
    "GOFLAGS",
    "GOPROXY",
    "GOTOOLCHAIN",
    "CC",
    "CXX",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
];

/// Prefixes (uppercase): every name starting with one of these is a loader name.
pub const LOADER_ENV_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "GIT_",
    "BASH_FUNC_",
    "NPM_CONFIG_",
    "YARN_",
    "CARGO_",
    "CGO_",
    "CORECLR_",
    "COR_PROFILER",
];

/// Whether setting `name` changes what code runs (see the module doc): Owners and Admins only.
pub fn is_loader_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    LOADER_ENV_NAMES.contains(&upper.as_str())
        || LOADER_ENV_PREFIXES.iter().any(|p| upper.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaders_are_caught_and_ordinary_names_are_not() {
        for name in [
            "LD_PRELOAD",
            "ld_library_path",
            "NODE_OPTIONS",
            "BASH_ENV",
            "PERL5OPT",
            "GIT_SSH_COMMAND",
            "npm_config_script_shell",
            "PATH",
        ] {
            assert!(is_loader_env(name), "{name}");
        }
        for name in [
            "NODE_ENV",
            "DATABASE_URL",
            "PYTHONUNBUFFERED",
            "RUST_LOG",
            "LDAP_URL",
        ] {
            assert!(!is_loader_env(name), "{name}");
        }
    }

    #[test]
    fn the_list_is_uppercase() {
        for n in LOADER_ENV_NAMES.iter().chain(LOADER_ENV_PREFIXES) {
            assert_eq!(*n, n.to_ascii_uppercase());
        }
    }
}
