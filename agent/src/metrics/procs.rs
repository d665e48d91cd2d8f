//! A service's CPU time and memory from its processes: its cgroup's own counters when the
//! kernel keeps them, otherwise the sum over its processes' `/proc/<pid>/stat` (CPU) and
//! `/proc/<pid>/status` (resident memory), found in its cgroup or its process group.

use crate::engine::meters::Meter;

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 on every
/// architecture whatever the kernel's own HZ.
const TICK_NS: u64 = 10_000_000;

/// CPU nanoseconds and resident bytes of one meter's processes, each `None` when unreadable.
pub fn measure(meter: &Meter) -> (Option<u64>, Option<u64>) {
    match meter {
        Meter::Cgroup(cgroup) => {
            let pids = cgroup.pids();
            let cpu = cgroup.cpu_ns().or_else(|| cpu_of(&pids));
            let mem = cgroup.memory_bytes().or_else(|| rss_of(&pids));
            (cpu, mem)
        }
        Meter::Group(pgid) => {
            let pids = group_members(*pgid);
            (cpu_of(&pids), rss_of(&pids))
        }
    }
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
/// parentheses, so it ends at the last `)`).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Processes whose process group is `pgid`.
fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            // After the name: state, ppid, pgrp.
            stat_fields(*pid).and_then(|f| f.get(2)?.parse::<i32>().ok()) == Some(pgid)
        })
        .collect()
}

/// User plus system time of `pids`, in nanoseconds; `None` when none could be read.
fn cpu_of(pids: &[i32]) -> Option<u64> {
    let ticks: Vec<u64> = pids
        .iter()
        .filter_map(|pid| {
            let f = stat_fields(*pid)?;
            // utime and stime are the 14th and 15th fields, the 12th and 13th after the name.
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .collect();
    (!ticks.is_empty()).then(|| ticks.iter().sum::<u64>() * TICK_NS)
}

/// Resident memory of `pids` (`VmRSS`), in bytes; `None` when none could be read.
fn rss_of(pids: &[i32]) -> Option<u64> {
    let kbs: Vec<u64> = pids
        .iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    (!kbs.is_empty()).then(|| kbs.iter().sum::<u64>() * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_group_is_measured_from_proc() {
        // This test's own process group: it is running and resident, so both are readable.
        let pgid = nix::unistd::getpgrp().as_raw();
        let (cpu, mem) = measure(&Meter::Group(pgid));
        assert!(cpu.is_some(), "CPU time of group {pgid}");
        assert!(mem.unwrap_or(0) > 1024 * 1024, "resident memory: {mem:?}");
    }
}
