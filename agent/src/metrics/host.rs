//! The machine's figures from procfs and `statvfs`: CPU and network as counters the sampler
//! turns into rates, load, memory, swap and the data directory's filesystem as they are now.
//! Every read that fails leaves its figure at 0 (a container may hide some of `/proc`).

use std::path::Path;

/// CPU time counters of the whole machine (`/proc/stat`, in clock ticks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub busy: u64,
    pub total: u64,
}

/// What one look at the machine finds.
#[derive(Debug, Clone, Default)]
pub struct HostNow {
    pub cpu: CpuTimes,
    pub load_centi: [u32; 3],
    pub mem_used: u64,
    pub mem_total: u64,
    pub swap_used: u64,
    pub swap_total: u64,
    pub disk_used: u64,
    pub disk_total: u64,
    /// Bytes received and sent by every interface but loopback, since boot.
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Looks at the machine now; `data_dir`'s filesystem is the disk reported.
pub fn look(data_dir: &Path) -> HostNow {
    let mem = meminfo(&read("/proc/meminfo"));
    let (disk_used, disk_total) = disk(data_dir);
    let (rx_bytes, tx_bytes) = net_dev(&read("/proc/net/dev"));
    HostNow {
        cpu: cpu_times(&read("/proc/stat")),
        load_centi: loadavg(&read("/proc/loadavg")),
        mem_used: mem.total.saturating_sub(mem.available),
        mem_total: mem.total,
        swap_used: mem.swap_total.saturating_sub(mem.swap_free),
        swap_total: mem.swap_total,
        disk_used,
        disk_total,
        rx_bytes,
        tx_bytes,
    }
}

/// The `cpu` line: busy is everything but idle and iowait; guest time is already in user.
pub fn cpu_times(stat: &str) -> CpuTimes {
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return CpuTimes::default();
    };
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    CpuTimes {
        busy: total.saturating_sub(idle),
        total,
    }
}

/// The 1, 5 and 15 minute load averages, in hundredths.
pub fn loadavg(text: &str) -> [u32; 3] {
    let mut out = [0; 3];
    for (slot, field) in out.iter_mut().zip(text.split_whitespace()) {
        *slot = field
            .parse::<f64>()
            .map_or(0, |v| (v * 100.0).round() as u32);
    }
    out
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub total: u64,
    pub available: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

/// The fields of `/proc/meminfo` the sample needs, in bytes.
pub fn meminfo(text: &str) -> MemInfo {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    MemInfo {
        total: field("MemTotal"),
        available: field("MemAvailable"),
        swap_total: field("SwapTotal"),
        swap_free: field("SwapFree"),
    }
}

/// Received and sent bytes summed over every interface but `lo`.
pub fn net_dev(text: &str) -> (u64, u64) {
    let mut rx = 0u64;
    let mut tx = 0u64;
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let c: Vec<u64> = counters
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        rx = rx.saturating_add(c.first().copied().unwrap_or(0));
        tx = tx.saturating_add(c.get(8).copied().unwrap_or(0));
    }
    (rx, tx)
}

/// Used and total bytes of the filesystem `dir` is on.
// `c_ulong` and `fsblkcnt_t` are 32 bits on some targets: the casts are not useless there.
#[allow(clippy::unnecessary_cast)]
fn disk(dir: &Path) -> (u64, u64) {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => {
            let unit = s.fragment_size() as u64;
            let total = (s.blocks() as u64).saturating_mul(unit);
            let free = (s.blocks_free() as u64).saturating_mul(unit);
            (total.saturating_sub(free), total)
        }
        Err(_) => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_procfs_text() {
        let stat = "cpu  100 5 50 800 40 0 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8\n";
        assert_eq!(
            cpu_times(stat),
            CpuTimes {
                busy: 160,
                total: 1000
            }
        );
        assert_eq!(loadavg("0.52 1.20 10.00 5/210 27576\n"), [52, 120, 1000]);
        let mem = "MemTotal:  2048 kB\nMemFree: 10 kB\nMemAvailable:  1024 kB\nSwapTotal: 512 kB\nSwapFree: 256 kB\n";
        let m = meminfo(mem);
        assert_eq!((m.total, m.available), (2048 * 1024, 1024 * 1024));
        assert_eq!((m.swap_total, m.swap_free), (512 * 1024, 256 * 1024));
        let dev = "Inter-|\n face |\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 40 1 0 0 0 0 0 0\n  eth1: 1 1 0 0 0 0 0 0 2 1 0 0 0 0 0 0\n";
        assert_eq!(net_dev(dev), (101, 42));
    }

    #[test]
    fn this_machine_has_memory_and_a_disk() {
        let now = look(Path::new("/"));
        assert!(now.mem_total > 0 && now.mem_used <= now.mem_total);
        assert!(now.disk_total > 0 && now.disk_used <= now.disk_total);
        assert!(now.cpu.total > 0);
    }
}
