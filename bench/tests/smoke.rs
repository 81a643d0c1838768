//! Keeps the benchmark scenarios compiling and working without timing anything: each runs with
//! tiny sizes (in whatever profile the tests build) and must produce sane, non-zero counts.
//! Rates and latencies are not compared with anything, so a loaded machine cannot fail this.

use std::time::Duration;

use momento_bench::{fanout, handshake, memory, provider, publish, subscribers, util};

const TINY: Duration = Duration::from_millis(200);

#[test]
fn fanout_loopback_and_latency() {
    let p = fanout::FanoutParams {
        webhooks: 2,
        publishers: 2,
        publish_connections: 1,
        message_bytes: 256,
        backlog_messages: 16,
        rounds: 1,
        first_warmup: TINY,
        loopback: true,
        fanout: true,
        warmup: TINY,
        window: TINY,
        latency_rate: 100,
        latency_warmup: TINY,
        latency_window: Duration::from_millis(500),
        mock_workers: 1,
        sink_workers: 1,
        load_workers: 1,
        webhook_concurrency: 4,
    };
    let r = fanout::run(&p).expect("fan-out scenario runs");
    assert!(r.loopback_posts_per_sec > 0.0, "{r:?}");
    assert!(r.deliveries_per_sec > 0.0, "{r:?}");
    assert!(r.published > 0, "{r:?}");
    assert!(r.latency_samples > 0, "{r:?}");
    assert!(r.p99_ms >= r.p50_ms && r.p50_ms > 0.0, "{r:?}");
    // The stall probe woke about every millisecond of the 500 ms window.
    assert!(r.stalls.wakeups > 50, "{r:?}");
    assert!(r.stalls.max_ms >= r.stalls.p99_ms, "{r:?}");
    assert_eq!((r.failed, r.dropped), (0, 0), "{r:?}");
}

#[test]
fn publish_and_noop() {
    let p = publish::PublishParams {
        callers: 4,
        connections: 2,
        message_bytes: 256,
        rounds: 1,
        warmup: TINY,
        window: TINY,
        mock_workers: 1,
        load_workers: 1,
    };
    let r = publish::run(&p).expect("publish scenario runs");
    assert!(
        r.publish_per_sec > 0.0 && r.noop_grpc_per_sec > 0.0,
        "{r:?}"
    );
    assert!(r.topic_messages > 0, "{r:?}");
}

#[test]
fn subscribers_receive() {
    let p = subscribers::SubscriberParams {
        subscribers: 3,
        publishers: 1,
        message_bytes: 256,
        backlog: 16,
        warmup: TINY,
        window: TINY,
        mock_workers: 1,
        load_workers: 1,
    };
    let r = subscribers::run(&p).expect("subscriber scenario runs");
    assert!(r.msgs_per_sec > 0.0 && r.publishes_per_sec > 0.0, "{r:?}");
    assert_eq!(r.discontinuities, 0, "{r:?}");
}

/// The scenarios that need the provider and mock binaries (built here, in the debug profile)
/// and, for the provider, a `terraform`.
#[test]
fn binaries_provider_handshake_memory() {
    let (provider_bin, mock_bin) =
        util::build_binaries(false).expect("cargo build of the binaries");

    let h = handshake::run(&handshake::HandshakeParams {
        runs: 2,
        provider_bin: provider_bin.clone(),
    })
    .expect("handshake scenario runs");
    assert!(h.p50_ms > 0.0 && h.runs == 2, "{h:?}");

    let m = memory::run(&memory::MemoryParams {
        mock_bin,
        webhooks: 2,
        publishes_per_sec: 500,
        message_bytes: 256,
        settle: TINY,
        duration: TINY,
        delivery_timeout: Duration::from_millis(300),
        webhook_queue_capacity: 8,
    })
    .expect("memory scenario runs");
    assert!(
        m.baseline_rss_mb > 0.0 && m.peak_rss_mb >= m.baseline_rss_mb,
        "{m:?}"
    );
    assert!(
        m.published > 0 && m.dropped > 0 && m.connections > 0,
        "{m:?}"
    );

    // `cargo build --workspace --bins` built this package's binary next to the provider.
    let cpu_wrapper = provider_bin.with_file_name("momento-bench");
    let p = provider::run(&provider::ProviderParams {
        resources: 3,
        runs: 1,
        plans_per_run: 1,
        provider_bin,
        cpu_wrapper: Some(cpu_wrapper),
    })
    .expect("provider scenario runs");
    assert!(!p.terraform_version.is_empty(), "{p:?}");
    for t in [
        p.apply_topic_s,
        p.apply_data_s,
        p.plan_topic_s,
        p.plan_data_s,
        p.plan_topic_without_tls_s,
        p.plan_provider_cpu_s,
        p.plan_mock_cpu_s,
        p.plan_topic_cpu_s,
        p.plan_data_cpu_s,
    ] {
        assert!(t > 0.0, "{p:?}");
    }
}
