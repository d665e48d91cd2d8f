//! What dployrd's metrics sampler costs in CPU (issue 19, `.ci/bench-metrics`): starts N idle
//! "services" (a `sleep` each, in its own cgroup where dployrd would make one, else its own
//! process group), then does exactly what one sampling pass does, `--samples` times: the host
//! look (`agent::metrics::host::look`), one measurement per service
//! (`agent::metrics::procs::measure`) and collecting the ingress's request counts from 4
//! worker threads. It prints the process's CPU time (utime + stime from `/proc/self/stat`) per
//! pass and what that is as a share of one core at the 10 s interval.
//!
//! `cargo run --release -p agent --example sampler_cost -- 50 60` (services, passes).

use std::process::{Child, Command};
use std::time::Instant;

use agent::deploy::cgroup::{Cgroup, CgroupSpec};
use agent::engine::meters::Meter;
use agent::ingress::Meters;

/// `/proc/self/stat` utime + stime, in USER_HZ ticks (1/100 s).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("stat has a command") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let services: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let passes: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let data = std::env::temp_dir();

    let mut children: Vec<Child> = Vec::new();
    let mut meters = Vec::new();
    let mut groups = Vec::new();
    for i in 0..services {
        let spec = CgroupSpec {
            name: format!("bench-sampler-{i}"),
            memory_mb: None,
            cpu_millis: None,
            background: false,
        };
        let cgroup = Cgroup::create(&spec).ok().flatten();
        let mut cmd = Command::new("sleep");
        cmd.arg("3600");
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("spawn sleep");
        match cgroup {
            Some(cg) if cg.enter(child.id()).is_ok() => {
                meters.push(Meter::Cgroup(cg.clone()));
                groups.push(cg);
            }
            _ => meters.push(Meter::Group(child.id() as i32)),
        }
        children.push(child);
    }
    let kind = if groups.is_empty() {
        "process groups"
    } else {
        "cgroups"
    };

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let request_meters = Meters::default();
    // Four ingress workers (two listeners on two cores), each answering the sampler.
    let mut stops = Vec::new();
    let (ready, all_ready) = std::sync::mpsc::channel::<()>();
    for _ in 0..4 {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (m, ready) = (request_meters.clone(), ready.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("worker runtime");
            rt.block_on(async move {
                m.serve_worker();
                let _ = ready.send(());
                tokio::task::spawn_blocking(move || stopped.recv())
                    .await
                    .ok();
            });
        });
        stops.push(stop);
    }
    for _ in 0..4 {
        all_ready.recv().expect("every worker registers");
    }

    let before = cpu_ticks();
    let started = Instant::now();
    for _ in 0..passes {
        let _host = agent::metrics::host::look(&data);
        for m in &meters {
            let _ = agent::metrics::procs::measure(m);
        }
        let _ = runtime.block_on(request_meters.collect());
    }
    let wall = started.elapsed();
    let ticks = cpu_ticks() - before;
    let per_pass_ms = ticks as f64 * 10.0 / f64::from(passes);
    println!(
        "sampler: {services} services ({kind}), {passes} passes in {:.2} s wall, CPU {:.3} ms per pass, {:.4}% of one core at one pass per 10 s",
        wall.as_secs_f64(),
        per_pass_ms,
        per_pass_ms / 10_000.0 * 100.0
    );

    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    for g in groups {
        g.remove();
    }
    drop(stops);
}
