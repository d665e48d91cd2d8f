//! `dployr metrics SERVICE` and `dployr metrics --instance NAME`: the stored series as a compact
//! table, oldest first (or the API's JSON with `--json`).

use proto::api::{Instance, MetricPoint, MetricSeries, RequestPoint};

use super::Ctx;
use crate::args::MetricsArgs;
use crate::error::{CliError, Result};

pub async fn metrics(ctx: &Ctx, args: MetricsArgs) -> Result<()> {
    let mut query = format!("?since={}", args.since.as_secs().max(1));
    if let Some(step) = args.step {
        query.push_str(&format!("&step={}", step.as_secs()));
    }
    let host = args.instance.is_some();
    let path = match args.instance {
        Some(wanted) => format!(
            "/instances/{}/metrics{query}",
            instance(ctx, &wanted).await?.id
        ),
        None => format!(
            "/services/{}/metrics{query}",
            ctx.service(args.service).await?.id
        ),
    };
    let series: MetricSeries = ctx.api.get(&path).await?;
    if ctx.out.printed_json(&series) {
        return Ok(());
    }
    if series.points.is_empty() {
        println!("No metrics yet for that time (dployrd sends them every 10 s).");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = series.points.iter().map(|p| row(p, host)).collect();
    let headers: &[&str] = if host {
        &[
            "TIME",
            "CPU",
            "LOAD",
            "MEMORY",
            "SWAP",
            "DISK",
            "NET IN/OUT",
        ]
    } else {
        &[
            "TIME",
            "CPU",
            "MEMORY",
            "RESTARTS",
            "REQUESTS",
            "2XX/3XX/4XX/5XX",
            "IN/OUT",
            "P50/P95/P99",
        ]
    };
    ctx.out.table(headers, &rows);
    Ok(())
}

async fn instance(ctx: &Ctx, wanted: &str) -> Result<Instance> {
    let cluster = ctx.cluster().await?;
    let all = ctx.instances_of(&cluster).await?;
    all.into_iter()
        .find(|i| i.id == wanted || i.name == wanted)
        .ok_or_else(|| CliError::usage(format!("no instance named {wanted:?}")))
}

fn row(p: &MetricPoint, host: bool) -> Vec<String> {
    let time = p.at.get(11..19).unwrap_or(&p.at).to_string();
    let cpu = p.cpu_centi_pct.map_or("-".into(), percent);
    let mem = p.mem_bytes.map_or("-".into(), bytes);
    match (&p.host, host) {
        (Some(h), true) => vec![
            time,
            cpu,
            format!("{:.2}", h.load1_centi as f64 / 100.0),
            format!("{mem} / {}", bytes(h.mem_total_bytes)),
            format!(
                "{} / {}",
                bytes(h.swap_used_bytes),
                bytes(h.swap_total_bytes)
            ),
            format!(
                "{} / {}",
                bytes(h.disk_used_bytes),
                bytes(h.disk_total_bytes)
            ),
            format!(
                "{}/s {}/s",
                h.rx_bytes_per_sec.map_or("-".into(), bytes),
                h.tx_bytes_per_sec.map_or("-".into(), bytes)
            ),
        ],
        _ => {
            let mut row = vec![
                time,
                cpu,
                mem,
                p.restarts.map_or("-".into(), |r| r.to_string()),
            ];
            row.extend(requests(p.requests.as_ref()));
            row
        }
    }
}

/// A service's request columns: count, status classes, bytes, latency percentiles.
fn requests(r: Option<&RequestPoint>) -> [String; 4] {
    let Some(r) = r else {
        return ["-".into(), "-".into(), "-".into(), "-".into()];
    };
    let ms = |us: Option<i64>| us.map_or("-".into(), |us| format!("{:.1}ms", us as f64 / 1000.0));
    [
        r.count.to_string(),
        format!(
            "{}/{}/{}/{}",
            r.status_2xx, r.status_3xx, r.status_4xx, r.status_5xx
        ),
        format!("{} / {}", bytes(r.bytes_in), bytes(r.bytes_out)),
        format!("{}/{}/{}", ms(r.p50_us), ms(r.p95_us), ms(r.p99_us)),
    ]
}

fn percent(centi: i64) -> String {
    format!("{:.1}%", centi as f64 / 100.0)
}

/// `1.5 GB`, `80.0 MB`, `512 B`: decimal units, one decimal.
fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_percentages_read_short() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(104_857_600), "104.9 MB");
        assert_eq!(percent(9_950), "99.5%");
    }
}
