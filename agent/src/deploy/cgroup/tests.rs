use super::*;

#[test]
fn quotas_and_sizes_are_what_the_kernel_wants() {
    assert_eq!(quota(500), 50_000);
    assert_eq!(quota(10), 1_000);
    assert_eq!(quota(2000), 200_000);
    assert_eq!(bytes(64), "67108864");
}

/// Where this machine gives writable cgroups (root here and in CI), a fresh one has the limits
/// asked for, takes a process, and is gone once emptied and removed.
#[tokio::test]
async fn a_cgroup_gets_its_limits_and_is_removed() {
    if controllers().is_empty() {
        eprintln!("SKIPPED: no writable cgroups here");
        return;
    }
    let spec = CgroupSpec {
        name: "unit".into(),
        memory_mb: Some(64),
        cpu_millis: Some(250),
        background: true,
    };
    let cgroup = Cgroup::create(&spec).unwrap().expect("cgroups are on");
    let read = |file: &str| {
        cgroup
            .dirs
            .iter()
            .find_map(|(_, d)| std::fs::read_to_string(d.join(file)).ok())
            .unwrap_or_default()
    };
    if cgroup.v2 {
        assert_eq!(read("memory.max").trim(), "67108864");
        assert_eq!(read("cpu.max").trim(), "25000 100000");
        assert_eq!(read("cpu.weight").trim(), "20");
    } else {
        assert_eq!(read("memory.limit_in_bytes").trim(), "67108864");
        assert_eq!(read("cpu.cfs_quota_us").trim(), "25000");
        assert_eq!(read("cpu.shares").trim(), "256");
    }
    let mut child = tokio::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    cgroup.enter(child.id().unwrap()).unwrap();
    assert_eq!(cgroup.pids(), [child.id().unwrap() as i32]);
    cgroup.kill();
    child.wait().await.unwrap();
    assert!(cgroup.is_empty());
    assert!(!cgroup.oom_killed());
    cgroup.remove();
    assert!(cgroup.dirs.iter().all(|(_, d)| !d.exists()));
}
