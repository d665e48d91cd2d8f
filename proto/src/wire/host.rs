//! [`HostFacts::detect`]: what the agent tells Base about its machine.
//!
//! Read from procfs and sysfs with `std::fs` only, because the workspace forbids `unsafe` and a
//! libc `statvfs` would need it. Everything is best effort: a fact that cannot be read is
//! reported as a neutral value (`0`, `"unknown"`) instead of failing the connection.

use super::msg::HostFacts;

impl HostFacts {
    /// Facts about the machine this runs on. Linux-first; elsewhere most fields are `0` or
    /// `"unknown"`.
    pub fn detect() -> HostFacts {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let hostname = read("/proc/sys/kernel/hostname")
            .or_else(|| read("/etc/hostname"))
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        let os = read("/etc/os-release")
            .and_then(|text| os_name(&text))
            .unwrap_or_else(|| std::env::consts::OS.to_owned());
        let cpus = std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(0);
        let memory_bytes = read("/proc/meminfo")
            .and_then(|text| mem_total_bytes(&text))
            .unwrap_or(0);
        // The root filesystem's block device, found through mountinfo; sysfs gives its size in
        // 512-byte sectors whatever the device's real sector size.
        let disk_bytes = read("/proc/self/mountinfo")
            .and_then(|text| root_device(&text))
            .and_then(|dev| read(&format!("/sys/dev/block/{dev}/size")))
            .and_then(|sectors| sectors.trim().parse::<u64>().ok())
            .map_or(0, |sectors| sectors.saturating_mul(512));
        HostFacts {
            hostname,
            os,
            arch: std::env::consts::ARCH.to_owned(),
            cpus,
            memory_bytes,
            disk_bytes,
            ingress_domain: None,
        }
    }
}

/// `PRETTY_NAME` (or else `NAME`) from os-release, unquoted.
fn os_name(os_release: &str) -> Option<String> {
    let field = |key: &str| {
        os_release.lines().find_map(|line| {
            let value = line.strip_prefix(key)?.strip_prefix('=')?;
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            (!value.is_empty()).then(|| value.to_owned())
        })
    };
    field("PRETTY_NAME").or_else(|| field("NAME"))
}

/// `MemTotal` from /proc/meminfo, which the kernel states in KiB.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// `major:minor` of the filesystem mounted at `/`. The last such mount wins, because later
/// mounts stack over earlier ones. Major 0 means no block device (overlay, tmpfs): unknown.
fn root_device(mountinfo: &str) -> Option<String> {
    let dev = mountinfo
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let dev = fields.nth(2)?;
            let mount_point = fields.nth(1)?;
            (mount_point == "/").then_some(dev)
        })
        .next_back()?;
    (!dev.starts_with("0:")).then(|| dev.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_name_prefers_pretty_name_and_unquotes() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            os_name(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_name("NAME=Alpine\n").as_deref(), Some("Alpine"));
        assert_eq!(os_name("ID=x\n"), None);
    }

    #[test]
    fn mem_total_is_converted_from_kib() {
        let text = "MemTotal:        8040104 kB\nMemFree:  1 kB\n";
        assert_eq!(mem_total_bytes(text), Some(8_040_104 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn root_device_takes_the_last_root_mount_and_skips_virtual_ones() {
        let text = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw - proc proc rw
";
        assert_eq!(root_device(text).as_deref(), Some("8:1"));
        let stacked = format!("{text}99 22 0:55 / / rw - overlay overlay rw\n");
        assert_eq!(root_device(&stacked), None);
        assert_eq!(root_device(""), None);
    }

    #[test]
    fn detect_reports_this_machine() {
        let facts = HostFacts::detect();
        assert!(!facts.hostname.is_empty());
        assert_eq!(facts.arch, std::env::consts::ARCH);
        assert!(facts.cpus >= 1);
        if cfg!(target_os = "linux") {
            assert!(
                facts.memory_bytes > 0,
                "MemTotal should be readable on Linux"
            );
        }
    }
}
