//! A cgroup's own counters for the metrics sampler: CPU time used (v2 `cpu.stat` `usage_usec`,
//! v1 `cpuacct.usage` where the cpu hierarchy carries it) and memory in use (v2
//! `memory.current`, v1 `memory.usage_in_bytes`, less inactive page cache). `None` where the
//! counter is not there (v1 with cpuacct mounted apart): the sampler then adds up the cgroup's
//! processes instead.

use super::Cgroup;

impl Cgroup {
    /// CPU time its processes used, dead ones included, in nanoseconds.
    pub fn cpu_ns(&self) -> Option<u64> {
        let read = |dir: &std::path::Path, file: &str| std::fs::read_to_string(dir.join(file)).ok();
        if self.v2 {
            let stat = read(&self.dirs[0].1, "cpu.stat")?;
            let usec: u64 = stat
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec "))?
                .trim()
                .parse()
                .ok()?;
            return Some(usec.saturating_mul(1000));
        }
        self.dirs
            .iter()
            .find_map(|(_, d)| read(d, "cpuacct.usage"))
            .and_then(|s| s.trim().parse().ok())
    }

    /// Memory charged to it less the page cache the kernel can drop at once (inactive file
    /// pages, as `docker stats` counts), in bytes.
    pub fn memory_bytes(&self) -> Option<u64> {
        let (dir, file, inactive) = if self.v2 {
            (&self.dirs[0].1, "memory.current", "inactive_file ")
        } else {
            let (_, dir) = self.dirs.iter().find(|(c, _)| *c == "memory")?;
            (dir, "memory.usage_in_bytes", "total_inactive_file ")
        };
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
        let used: u64 = read(file)?.trim().parse().ok()?;
        let cache = read("memory.stat")
            .and_then(|stat| {
                stat.lines()
                    .find_map(|l| l.strip_prefix(inactive))
                    .and_then(|n| n.trim().parse::<u64>().ok())
            })
            .unwrap_or(0);
        Some(used.saturating_sub(cache))
    }
}
