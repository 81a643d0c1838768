//! Webhook fan-out: an in-process mock with N webhooks on one topic, each pointing at its own
//! local HTTP sink, fed with timestamped 256-byte text messages over gRPC.
//!
//! - **Limit** (`loopback_posts_per_sec`): the same sinks driven by a plain pooled keep-alive
//!   HTTP/1.1 client (hyper-util), on the mock's runtime (same threads), with the mock's
//!   concurrency (`webhook_concurrency` per sink) and the mock's exact body and headers.
//! - **Saturation** (`fanout_deliveries_per_sec`): publishers keep at most `backlog_messages`
//!   messages published but not yet received by every sink (so queues never overflow and nothing
//!   is dropped), and the sinks count what arrives in the measured window.
//! - The two alternate in `rounds` short windows; the ratio is the median of per-round ratios, so
//!   a shared machine's drift hits both sides of each ratio alike.
//! - **Latency** (`fanout_p50_ms`, `fanout_p99_ms`): publishes at a fixed rate (open loop, one task
//!   per publish); every sink computes receive time − send time stamped in the message. A
//!   [`StallProbe`] runs beside it and measures how late the machine wakes an idle thread, which
//!   is what a host that deschedules a vCPU adds to the tail.
//!
//! Threads: the mock has its own runtime (`mock_workers`), the sinks theirs (`sink_workers`), the
//! publishers theirs (`load_workers`). On 2 cores they share the CPU: whatever the sinks and the
//! publishers burn, the mock does not get, which is why the limit is measured in the same process
//! against the same sinks, and why the publishers use the lean [`Publisher`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use http::header::{CONTENT_TYPE, USER_AGENT};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use momento_mock::events::{Deliveries as _, PublishedMessage, TopicValue};
use momento_mock::webhooks::{signing, WebhookSpec};
use tokio::runtime::Runtime;

use crate::grpc::{publish_request, Publisher};
use crate::sink::{start_sinks, SinkStats, Sinks};
use crate::stall_probe::{StallProbe, Stalls};
use crate::util::{
    median, median_ratio, message_text, now_nanos, percentile, rate, runtime, start_mock, CACHE,
};

const TOPIC: &str = "fanout";

/// Sizes and durations of the fan-out scenario.
#[derive(Debug, Clone)]
pub struct FanoutParams {
    pub webhooks: usize,
    /// Concurrent publish loops, sharing `publish_connections` HTTP/2 connections.
    pub publishers: usize,
    pub publish_connections: usize,
    pub message_bytes: usize,
    /// Messages published but not yet received by every sink before publishers pause.
    pub backlog_messages: u64,
    /// Alternations of (loopback limit, saturated fan-out), each `warmup` + `window` long (the
    /// first round warms up for `first_warmup`: connections are opened then).
    pub rounds: usize,
    pub first_warmup: Duration,
    /// Whether the rounds measure the loopback limit, and the fan-out (one is off only to
    /// profile the other alone, see `examples/fanout_phase.rs`).
    pub loopback: bool,
    pub fanout: bool,
    pub warmup: Duration,
    pub window: Duration,
    /// Publishes per second of the latency phase.
    pub latency_rate: u32,
    pub latency_warmup: Duration,
    pub latency_window: Duration,
    pub mock_workers: usize,
    pub sink_workers: usize,
    /// Worker threads of the publishers (0: they share the sinks' runtime).
    pub load_workers: usize,
    /// The mock's `webhook_concurrency`, and the loopback client's concurrency per sink.
    pub webhook_concurrency: usize,
}

impl FanoutParams {
    /// The full-size run.
    pub fn full() -> Self {
        Self {
            webhooks: 10,
            publishers: 64,
            publish_connections: 2,
            message_bytes: 256,
            backlog_messages: 512,
            rounds: 15,
            first_warmup: Duration::from_millis(1500),
            loopback: true,
            fanout: true,
            warmup: Duration::from_millis(500),
            window: Duration::from_secs(2),
            latency_rate: 1000,
            latency_warmup: Duration::from_secs(1),
            latency_window: Duration::from_secs(15),
            mock_workers: 2,
            sink_workers: 1,
            load_workers: 1,
            webhook_concurrency: momento_mock::config::DEFAULT_WEBHOOK_CONCURRENCY,
        }
    }
}

/// What the fan-out scenario measured.
#[derive(Debug, Clone, Default)]
pub struct FanoutResult {
    pub loopback_posts_per_sec: f64,
    pub deliveries_per_sec: f64,
    pub published: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub latency_samples: usize,
    /// The machine's own wake-up lateness during the latency window (see [`StallProbe`]).
    pub stalls: Stalls,
    /// Every round's figures (the results are their medians).
    pub loopback_rounds: Vec<f64>,
    pub fanout_rounds: Vec<f64>,
    /// Deliveries the mock counted as failed or dropped (should be 0).
    pub failed: u64,
    pub dropped: u64,
}

impl FanoutResult {
    /// The median over rounds of fan-out ÷ the loopback limit measured just before it (both
    /// windows of a round see the same machine, however it drifts between rounds).
    pub fn ratio(&self) -> f64 {
        median_ratio(
            self.fanout_rounds
                .iter()
                .copied()
                .zip(self.loopback_rounds.iter().copied()),
        )
    }
}

/// Runs `rounds` × (loopback limit, saturated fan-out), then the fixed-rate latency. Alternating
/// the two in short windows and taking medians keeps drift on a shared machine out of the ratio.
pub fn run(p: &FanoutParams) -> Result<FanoutResult> {
    let sink_rt = runtime("bench-sink", p.sink_workers)?;
    let own_load = if p.load_workers == 0 {
        None
    } else {
        Some(runtime("bench-load", p.load_workers)?)
    };
    let load_rt: &Runtime = own_load.as_ref().unwrap_or(&sink_rt);
    let sinks = start_sinks(&sink_rt, p.webhooks)?;

    // The defaults, but for the concurrency the loopback limit uses too (64 by default).
    let (mock_rt, mock) = start_mock(
        p.mock_workers,
        momento_mock::Config {
            webhook_concurrency: p.webhook_concurrency,
            ..momento_mock::Config::ephemeral()
        },
    )?;
    for i in 0..p.webhooks {
        mock.webhooks()
            .put(WebhookSpec {
                cache: CACHE.into(),
                name: format!("w{i}"),
                topic: TOPIC.into(),
                url: Some(sinks.url(i)),
            })
            .map_err(|e| anyhow::anyhow!("PutWebhook: {e}"))?;
    }
    let addr = mock.addr();
    let clients = load_rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..p.publish_connections.max(1) {
            clients.push(Publisher::connect(addr).await?);
        }
        anyhow::Ok(clients)
    })?;
    // The limit's client lives on the mock's runtime (same threads the engine would use); its
    // pool, like the mock's, stays warm across rounds.
    let plain = rt_client(&mock_rt, p.webhook_concurrency);

    let mut out = FanoutResult::default();
    let (mut limits, mut fanouts) = (Vec::new(), Vec::new());
    for round in 0..p.rounds.max(1) {
        let warmup = if round == 0 { p.first_warmup } else { p.warmup };
        if p.loopback {
            limits.push(loopback(&mock_rt, &plain, &sinks, p, warmup)?);
        }
        if p.fanout {
            let (rate, published) = saturated(load_rt, &clients, &sinks.stats, p, warmup)?;
            fanouts.push(rate);
            out.published += published;
        }
    }
    out.loopback_posts_per_sec = median(&limits);
    out.deliveries_per_sec = median(&fanouts);
    out.loopback_rounds = limits;
    out.fanout_rounds = fanouts;

    // Latency at a fixed rate.
    let base = sinks.stats.received();
    let running = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicU64::new(0));
    let ticker = load_rt.spawn(paced(
        clients.clone(),
        p.latency_rate,
        p.message_bytes,
        running.clone(),
        sent.clone(),
    ));
    std::thread::sleep(p.latency_warmup);
    let probe = StallProbe::start()?;
    sinks.stats.start_window();
    std::thread::sleep(p.latency_window);
    sinks.stats.stop_window();
    out.stalls = probe.stop();
    running.store(false, Ordering::SeqCst);
    load_rt.block_on(ticker)??;
    // Every spawned publish has been answered once the ticker returns; wait for the deliveries.
    drain(
        &sinks.stats,
        base + sent.load(Ordering::SeqCst) * p.webhooks as u64,
    )?;
    let latencies = sinks.stats.take_latencies();
    out.latency_samples = latencies.len();
    out.p50_ms = percentile(&latencies, 50.0) as f64 / 1e6;
    out.p99_ms = percentile(&latencies, 99.0) as f64 / 1e6;
    out.max_ms = latencies.last().copied().unwrap_or(0) as f64 / 1e6;

    let counts = mock.webhooks().counts(CACHE, TOPIC);
    out.failed = counts.failed;
    out.dropped = counts.dropped;
    drop(clients);
    drop(plain);
    if let Some(rt) = own_load {
        rt.shutdown_background();
    }
    drop(mock);
    mock_rt.shutdown_background();
    sink_rt.shutdown_background();
    Ok(out)
}

/// One saturated fan-out window: deliveries per second received, messages published.
fn saturated(
    rt: &Runtime,
    clients: &[Publisher],
    stats: &Arc<SinkStats>,
    p: &FanoutParams,
    warmup: Duration,
) -> Result<(f64, u64)> {
    let base = stats.received();
    let published = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    for i in 0..p.publishers.max(1) {
        tasks.push(rt.spawn(saturate(
            clients[i % clients.len()].clone(),
            published.clone(),
            running.clone(),
            stats.clone(),
            base,
            p.clone(),
        )));
    }
    std::thread::sleep(warmup);
    let (r0, t0) = (stats.received(), Instant::now());
    std::thread::sleep(p.window);
    let (r1, t1) = (stats.received(), Instant::now());
    running.store(false, Ordering::SeqCst);
    for task in tasks {
        rt.block_on(task)??;
    }
    let published = published.load(Ordering::SeqCst);
    drain(stats, base + published * p.webhooks as u64)?;
    Ok((rate(r1 - r0, t1 - t0), published))
}

/// Waits until the sinks have received `expected` requests in all (bounded).
fn drain(stats: &SinkStats, expected: u64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats.received() < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the sinks received {} of {expected} requests within 30 s",
            stats.received()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// One saturating publisher: publishes as fast as the backlog allows.
async fn saturate(
    mut client: Publisher,
    published: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
    stats: Arc<SinkStats>,
    base: u64,
    p: FanoutParams,
) -> Result<()> {
    let fan = p.webhooks as u64;
    while running.load(Ordering::Relaxed) {
        let outstanding = published.load(Ordering::Relaxed) * fan;
        if outstanding > stats.received() - base + p.backlog_messages * fan {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        published.fetch_add(1, Ordering::Relaxed);
        let text = message_text(p.message_bytes, now_nanos());
        client.publish(&publish_request(CACHE, TOPIC, text)).await?;
    }
    Ok(())
}

/// Publishes `per_sec` messages per second (one task each, round-robin over the clients) until
/// `running` is cleared; returns when every publish has been answered.
async fn paced(
    clients: Vec<Publisher>,
    per_sec: u32,
    message_bytes: usize,
    running: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> Result<()> {
    let mut interval = tokio::time::interval(Duration::from_secs(1) / per_sec.max(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut inflight = tokio::task::JoinSet::new();
    let mut i = 0usize;
    while running.load(Ordering::Relaxed) {
        interval.tick().await;
        let mut client = clients[i % clients.len()].clone();
        i += 1;
        sent.fetch_add(1, Ordering::Relaxed);
        inflight.spawn(async move {
            let text = message_text(message_bytes, now_nanos());
            client.publish(&publish_request(CACHE, TOPIC, text)).await
        });
        while let Some(done) = inflight.try_join_next() {
            done??;
        }
    }
    while let Some(done) = inflight.join_next().await {
        done??;
    }
    Ok(())
}

/// The mock's body and headers for one message, as the engine would send them.
fn delivery_like(message_bytes: usize) -> (Bytes, String) {
    let message = PublishedMessage {
        cache: CACHE.into(),
        topic: TOPIC.into(),
        topic_sequence_number: 1,
        sequence_page: 1,
        value: TopicValue::Text(message_text(message_bytes, now_nanos())),
        publisher_id: String::new(),
        publish_timestamp_ms: 1_700_000_000_000,
    };
    let body = signing::BodyTemplate::new(&message).render(1_700_000_000_001);
    let signature = signing::sign("whsec_bench", &body);
    (Bytes::from(body), signature)
}

type PlainClient = Client<HttpConnector, Full<Bytes>>;

/// A plain pooled keep-alive HTTP/1.1 client with TCP_NODELAY, built on `rt`.
fn rt_client(rt: &Runtime, per_host: usize) -> PlainClient {
    rt.block_on(async {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(per_host)
            .build::<_, Full<Bytes>>(connector)
    })
}

/// The limit: `webhook_concurrency` keep-alive POST loops per sink on `rt`, with the mock's body
/// and headers; posts per second in the window.
fn loopback(
    rt: &Runtime,
    client: &PlainClient,
    sinks: &Sinks,
    p: &FanoutParams,
    warmup: Duration,
) -> Result<f64> {
    let (body, signature) = delivery_like(p.message_bytes);
    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    for addr in &sinks.addrs {
        for _ in 0..p.webhook_concurrency {
            tasks.push(rt.spawn(post_loop(
                client.clone(),
                *addr,
                body.clone(),
                signature.clone(),
                running.clone(),
            )));
        }
    }
    std::thread::sleep(warmup);
    let (r0, t0) = (sinks.stats.received(), Instant::now());
    std::thread::sleep(p.window);
    let (r1, t1) = (sinks.stats.received(), Instant::now());
    running.store(false, Ordering::SeqCst);
    for task in tasks {
        rt.block_on(task)??;
    }
    Ok(rate(r1 - r0, t1 - t0))
}

async fn post_loop(
    client: PlainClient,
    addr: SocketAddr,
    body: Bytes,
    signature: String,
    running: Arc<AtomicBool>,
) -> Result<()> {
    let uri: http::Uri = format!("http://{addr}/hook").parse()?;
    while running.load(Ordering::Relaxed) {
        let request = http::Request::post(uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, signing::USER_AGENT)
            .header(signing::SIGNATURE_HEADER, signature.as_str())
            .body(Full::new(body.clone()))?;
        let response = client.request(request).await.context("loopback POST")?;
        anyhow::ensure!(
            response.status().is_success(),
            "sink answered {}",
            response.status()
        );
        response.into_body().collect().await?;
    }
    Ok(())
}
