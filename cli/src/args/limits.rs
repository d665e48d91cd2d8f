//! `--memory-mb`, `--cpu-millis` and their build twins, shared by `services create` and
//! `services update`, and what they make of a service's `resources` (apart from `args.rs`,
//! which holds the rest of the command line).

use clap::Args;
use proto::resources::Resources;

use crate::error::{CliError, Result};

/// A service's memory and CPU limits. With `update`, '' clears one and the others stay.
#[derive(Args, Debug, Default, Clone)]
pub struct LimitArgs {
    /// The service's memory limit in MB (at least 16); past it the process is killed.
    #[arg(long, value_name = "MB")]
    pub memory_mb: Option<String>,
    /// The service's CPU limit in thousandths of a CPU (500: half a CPU; at least 10).
    #[arg(long, value_name = "MILLIS")]
    pub cpu_millis: Option<String>,
    /// The memory limit of its builds in MB.
    #[arg(long, value_name = "MB")]
    pub build_memory_mb: Option<String>,
    /// The CPU limit of its builds in thousandths of a CPU.
    #[arg(long, value_name = "MILLIS")]
    pub build_cpu_millis: Option<String>,
}

impl LimitArgs {
    /// `current` with the limits given over it, or `None` when none is given.
    pub fn over(&self, current: Resources) -> Result<Option<Resources>> {
        let given = [
            &self.memory_mb,
            &self.cpu_millis,
            &self.build_memory_mb,
            &self.build_cpu_millis,
        ];
        if given.iter().all(|g| g.is_none()) {
            return Ok(None);
        }
        Ok(Some(Resources {
            memory_mb: limit("memory-mb", &self.memory_mb, current.memory_mb)?,
            cpu_millis: limit("cpu-millis", &self.cpu_millis, current.cpu_millis)?,
            build_memory_mb: limit(
                "build-memory-mb",
                &self.build_memory_mb,
                current.build_memory_mb,
            )?,
            build_cpu_millis: limit(
                "build-cpu-millis",
                &self.build_cpu_millis,
                current.build_cpu_millis,
            )?,
        }))
    }
}

/// Not given: `current`; '': none; else the number.
fn limit(option: &str, given: &Option<String>, current: Option<u32>) -> Result<Option<u32>> {
    match given.as_deref().map(str::trim) {
        None => Ok(current),
        Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            CliError::usage(format!("--{option} {v:?} is not a whole number"))
                .hint("e.g. --memory-mb 512 --cpu-millis 500 ('' for no limit)")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_limits_go_over_the_current_ones_and_empty_clears() {
        assert_eq!(
            LimitArgs::default().over(Resources::default()).unwrap(),
            None
        );
        let current = Resources {
            memory_mb: Some(256),
            cpu_millis: Some(500),
            ..Resources::default()
        };
        let a = LimitArgs {
            memory_mb: Some("64".into()),
            cpu_millis: Some("".into()),
            ..LimitArgs::default()
        };
        let r = a.over(current).unwrap().unwrap();
        assert_eq!((r.memory_mb, r.cpu_millis), (Some(64), None));
        let bad = LimitArgs {
            memory_mb: Some("lots".into()),
            ..LimitArgs::default()
        };
        assert!(bad.over(current).is_err());
    }
}
