//! A service's optional memory and CPU limits, for its process and for its builds. Apart from
//! [`crate::service`] so the spec stays readable and both Base (validation) and dployrd (the
//! cgroups) read one definition.

use serde::{Deserialize, Serialize};

/// The least memory limit accepted: below this even a shell does not start.
pub const MIN_MEMORY_MB: u32 = 16;
/// The least CPU limit accepted, in thousandths of a CPU.
pub const MIN_CPU_MILLIS: u32 = 10;
/// The largest value accepted for either (a 4 TB or 4000-CPU limit is no limit).
pub const MAX_LIMIT: u32 = 4_000_000;

/// Memory and CPU limits; every one `None` (no limit) by default. `cpu_millis` is thousandths
/// of one CPU (`500`: half a CPU, `2000`: two). The build limits apply to the build steps; a
/// build without a CPU limit still gets a lower CPU weight than services, so it cannot starve
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millis: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_memory_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_cpu_millis: Option<u32>,
}

impl Resources {
    /// Whether no limit is set (the spec then leaves the field out).
    pub fn is_none(&self) -> bool {
        *self == Resources::default()
    }

    /// Every limit set within bounds, or the field name and why not.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let memory = [
            ("memory_mb", self.memory_mb),
            ("build_memory_mb", self.build_memory_mb),
        ];
        for (field, value) in memory {
            if let Some(v) = value
                && !(MIN_MEMORY_MB..=MAX_LIMIT).contains(&v)
            {
                return Err((
                    field,
                    format!("{v} MB is not a memory limit: give at least {MIN_MEMORY_MB} MB"),
                ));
            }
        }
        let cpu = [
            ("cpu_millis", self.cpu_millis),
            ("build_cpu_millis", self.build_cpu_millis),
        ];
        for (field, value) in cpu {
            if let Some(v) = value
                && !(MIN_CPU_MILLIS..=MAX_LIMIT).contains(&v)
            {
                return Err((
                    field,
                    format!(
                        "{v} is not a CPU limit: give thousandths of a CPU, at least \
                         {MIN_CPU_MILLIS} (500 is half a CPU)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `self` with every limit `over` sets replaced (a `dployr.toml` `[resources]` table).
    pub fn overridden_by(self, over: Resources) -> Resources {
        Resources {
            memory_mb: over.memory_mb.or(self.memory_mb),
            cpu_millis: over.cpu_millis.or(self.cpu_millis),
            build_memory_mb: over.build_memory_mb.or(self.build_memory_mb),
            build_cpu_millis: over.build_cpu_millis.or(self.build_cpu_millis),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_below_the_least_are_refused_and_none_is_fine() {
        assert!(Resources::default().check().is_ok());
        let low = Resources {
            memory_mb: Some(15),
            ..Resources::default()
        };
        assert_eq!(low.check().unwrap_err().0, "memory_mb");
        let low = Resources {
            build_cpu_millis: Some(9),
            ..Resources::default()
        };
        assert_eq!(low.check().unwrap_err().0, "build_cpu_millis");
        let ok = Resources {
            memory_mb: Some(16),
            cpu_millis: Some(10),
            build_memory_mb: Some(2048),
            build_cpu_millis: Some(2000),
        };
        assert!(ok.check().is_ok());
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"memory_mb":16,"cpu_millis":10,"build_memory_mb":2048,"build_cpu_millis":2000}"#
        );
    }

    #[test]
    fn a_toml_table_overrides_only_what_it_sets() {
        let spec = Resources {
            memory_mb: Some(256),
            cpu_millis: Some(500),
            ..Resources::default()
        };
        let over = Resources {
            memory_mb: Some(64),
            ..Resources::default()
        };
        let r = spec.overridden_by(over);
        assert_eq!((r.memory_mb, r.cpu_millis), (Some(64), Some(500)));
    }
}
