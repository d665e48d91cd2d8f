//! Metrics in the store, on SQLite and PostgreSQL, through the injectable clock: a simulated
//! week of frames (a host and a service) keeps each resolution bounded at what its
//! retention implies while the rollup averages what it rolls up; 100 more days keep the hourly
//! points to the last 90 days; any member of the cluster, a Guest too, reads the series and
//! nobody else does.

mod common;

use std::time::Duration;

use common::{TestDb, owner_with_service, person};
use control::clock::Clock;
use control::metrics::{RAW_STEP_MS, TIERS};
use control::store::memberships;
use proto::api::{MetricsQuery, Role};
use proto::wire::{HostSample, MetricsFrame, Percentiles, RequestSample, ServiceSample};

/// Hour-aligned, so each simulated hour fills exactly one hourly point.
const START_MS: i64 = 1_700_002_800_000;
/// The most rows of one series a resolution can hold: every slot of its retention, both ends.
fn bound(tier: usize) -> i64 {
    TIERS[tier].keep_ms / TIERS[tier].step_ms + 1
}

/// A frame from the host and the service; the `i`th of a run of 10 s frames, or one alone in
/// its minute (`None`). Either way every minute of the service's CPU averages 250, and every
/// minute has 36 requests (30 2xx, 6 5xx) whose largest p99 is 6 ms.
fn frame(service_id: &str, i: Option<i64>) -> MetricsFrame {
    MetricsFrame {
        at_ms: 0,
        host: HostSample {
            cpu_centi_pct: Some(5_000),
            mem_used_bytes: 1 << 30,
            mem_total_bytes: 4 << 30,
            ..HostSample::default()
        },
        services: vec![ServiceSample {
            service_id: service_id.into(),
            // 0, 100, …, 500 over the six frames of a minute.
            cpu_centi_pct: Some(i.map_or(250, |i| (i % 6) as u32 * 100)),
            mem_bytes: Some(100 << 20),
            restarts: 2,
            requests: Some(match i {
                None => requests(36, 6_000),
                Some(i) => requests(6, (i % 6 + 1) as u64 * 1_000),
            }),
        }],
    }
}

/// `n` requests, a sixth of them 5xx, with `p99` µs as the 99th percentile.
fn requests(n: u64, p99: u64) -> RequestSample {
    RequestSample {
        requests: n,
        status: [n - n / 6, 0, 0, n / 6],
        bytes_in: n * 10,
        bytes_out: n * 100,
        latency_us: Some(Percentiles {
            p50: p99 / 4,
            p95: p99 / 2,
            p99,
        }),
    }
}

async fn a_week_of_samples_stays_bounded(db: &TestDb) {
    let clock = Clock::manual(START_MS);
    let base = db.base(true).with_clock(clock.clone());
    let (actor, svc) = owner_with_service(&base).await;
    let service = base.get_service(&actor, &svc).await.unwrap();
    let instance = service.instance_id.clone();
    let series = 2; // the host and the service

    // A week and two hours of frames: one a minute for the first 144 hours, then every 10 s
    // for the last 26 (a whole week at 10 s takes minutes on a loaded machine, and only the
    // last day of raw points is kept anyway). The rollup runs every 30 simulated minutes.
    let sparse = 144 * 60;
    let frames = sparse + 26 * 360;
    for i in 0..frames {
        let (sample, step) = if i < sparse {
            (frame(&svc, None), 60_000)
        } else {
            (frame(&svc, Some(i)), RAW_STEP_MS)
        };
        base.record_metrics(&instance, &sample).await.unwrap();
        clock.advance(Duration::from_millis(step as u64));
        if (clock.now_ms() - START_MS) % 1_800_000 == 0 {
            base.roll_up_metrics().await.unwrap();
            let [raw, minutes, hours] = control::store::metrics::counts(db.store.pool())
                .await
                .unwrap();
            assert!(raw <= series * bound(0), "raw rows at frame {i}: {raw}");
            assert!(
                minutes <= series * bound(1),
                "1-minute rows at frame {i}: {minutes}"
            );
            assert!(
                hours <= series * bound(2),
                "1-hour rows at frame {i}: {hours}"
            );
        }
    }
    base.roll_up_metrics().await.unwrap();
    let [raw, minutes, hours] = control::store::metrics::counts(db.store.pool())
        .await
        .unwrap();
    // Full retention of raw and 1-minute points, every hour of the week rolled up.
    assert!(
        raw >= series * (bound(0) - 2),
        "a day of raw points is kept: {raw}"
    );
    assert!(
        minutes >= series * (bound(1) - 2),
        "a week of minutes is kept: {minutes}"
    );
    assert_eq!(hours, series * (7 * 24 + 2), "every whole hour rolled up");

    // Read back at each resolution: the rollup averaged and kept the restart count.
    let read = |since: &str| MetricsQuery {
        since: Some(since.into()),
        step: None,
    };
    let recent = base
        .service_metrics(&actor, &svc, &read("1h"))
        .await
        .unwrap();
    assert_eq!(recent.step_secs, 10);
    assert!(
        (359..=361).contains(&recent.points.len()),
        "{}",
        recent.points.len()
    );
    let week = base
        .service_metrics(&actor, &svc, &read("3d"))
        .await
        .unwrap();
    assert_eq!(week.step_secs, 60);
    assert!(week.points.iter().all(|p| p.cpu_centi_pct == Some(250)));
    assert!(week.points.iter().all(|p| p.mem_bytes == Some(100 << 20)));
    assert!(week.points.iter().all(|p| p.restarts == Some(2)));
    // Request counts add up over a minute; the p99 is the largest of the minute's.
    for p in &week.points {
        let r = p
            .requests
            .as_ref()
            .expect("a service point has request figures");
        let got = (r.count, r.status_2xx, r.status_5xx, r.bytes_out, r.p99_us);
        assert_eq!(got, (36, 30, 6, 3_600, Some(6_000)), "{}", p.at);
    }
    assert!(
        recent
            .points
            .iter()
            .all(|p| p.requests.as_ref().unwrap().count == 6)
    );
    let month = base
        .service_metrics(&actor, &svc, &read("30d"))
        .await
        .unwrap();
    assert_eq!((month.step_secs, month.points.len()), (3600, 7 * 24 + 2));
    assert!(month.points.iter().all(|p| p.cpu_centi_pct == Some(250)));
    for p in &month.points {
        let r = p.requests.as_ref().unwrap();
        assert_eq!((r.count, r.p99_us), (36 * 60, Some(6_000)), "{}", p.at);
    }
    let host = base
        .instance_metrics(&actor, &instance, &read("1h"))
        .await
        .unwrap();
    let last = host.points.last().unwrap();
    assert_eq!(last.cpu_centi_pct, Some(5_000));
    assert_eq!(last.host.as_ref().unwrap().mem_total_bytes, 4 << 30);
    assert_eq!(
        last.requests, None,
        "the host series has no request figures"
    );

    // 100 more days, a frame every 6 hours: the hourly points of the last 90 days stay, the
    // older ones go, and the finer resolutions keep only their own retention.
    for i in 0..100 * 4 {
        base.record_metrics(&instance, &frame(&svc, Some(i)))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(6 * 3600));
        base.roll_up_metrics().await.unwrap();
    }
    let [raw, minutes, hours] = control::store::metrics::counts(db.store.pool())
        .await
        .unwrap();
    assert_eq!(raw, series * 4, "the last day's raw points: {raw}");
    assert_eq!(
        minutes,
        series * 7 * 4,
        "the last week's minutes: {minutes}"
    );
    assert_eq!(hours, series * 90 * 4, "the last 90 days' hours: {hours}");
    let oldest = control::store::metrics::oldest(db.store.pool(), 2)
        .await
        .unwrap()
        .unwrap();
    assert!(
        oldest >= clock.now_ms() - TIERS[2].keep_ms,
        "nothing older than 90 days"
    );

    // A Guest of the cluster reads both series.
    let cluster = base.list_clusters(&actor).await.unwrap()[0].id.clone();
    let (gus, gus_id, _) = person(&base, "gus@example.com").await;
    let now = clock.now_ms();
    memberships::insert(db.store.pool(), &cluster, &gus_id, Role::Guest, now)
        .await
        .unwrap();
    let seen = base
        .service_metrics(&gus, &svc, &read("30d"))
        .await
        .unwrap();
    assert!(!seen.points.is_empty());
    let seen = base
        .instance_metrics(&gus, &instance, &read("30d"))
        .await
        .unwrap();
    assert!(!seen.points.is_empty());

    // Someone else's cluster: no such service or instance.
    let (stranger, _, _) = person(&base, "eve@example.com").await;
    let err = base
        .service_metrics(&stranger, &svc, &read("1h"))
        .await
        .unwrap_err();
    assert!(matches!(err, control::DomainError::NotFound(_)), "{err:?}");
    let err = base
        .instance_metrics(&stranger, &instance, &read("1h"))
        .await
        .unwrap_err();
    assert!(matches!(err, control::DomainError::NotFound(_)), "{err:?}");
    // A frame naming a service of another instance stores nothing for it.
    let stray = frame("svc_not_here", None);
    base.record_metrics(&instance, &stray).await.unwrap();
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM metric_points WHERE service_id = 'svc_not_here'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(rows, 0);
}
on_both_backends!(week_of_metrics, a_week_of_samples_stays_bounded);
