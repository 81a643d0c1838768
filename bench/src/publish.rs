//! Publish throughput: `callers` concurrent gRPC `Publish` loops on a topic without webhooks or
//! subscribers, against the limit of the same stack: the same loops calling the mock's no-op
//! `cache_client.Ping/Ping` (same server, router, interceptor and HTTP/2 path). The two alternate
//! in `rounds` short windows and the ratio is the median of per-round ratios, so drift on a
//! shared machine hits both sides of each ratio alike.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_wire::cache_client::ping_client::PingClient;
use momento_wire::cache_client::PingRequest;
use tonic::transport::Channel;

use crate::grpc::{channel, publish_request};
use crate::util::{median, median_ratio, message_text, rate, runtime, start_mock, CACHE};

const TOPIC: &str = "publish";

#[derive(Debug, Clone)]
pub struct PublishParams {
    pub callers: usize,
    /// gRPC connections the callers share.
    pub connections: usize,
    pub message_bytes: usize,
    /// Alternations of (no-op, publish), each `warmup` + `window` long.
    pub rounds: usize,
    pub warmup: Duration,
    pub window: Duration,
    pub mock_workers: usize,
    pub load_workers: usize,
}

impl PublishParams {
    pub fn full() -> Self {
        Self {
            callers: 64,
            connections: 4,
            message_bytes: 256,
            rounds: 5,
            warmup: Duration::from_millis(500),
            window: Duration::from_secs(2),
            mock_workers: 2,
            load_workers: 1,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PublishResult {
    /// Medians over the rounds.
    pub publish_per_sec: f64,
    pub noop_grpc_per_sec: f64,
    /// Every round's (no-op, publish) calls per second.
    pub rounds: Vec<(f64, f64)>,
    /// Messages the topic counted (sanity: at least the publishes measured).
    pub topic_messages: u64,
}

impl PublishResult {
    /// The median over rounds of publish ÷ the no-op call measured just before it.
    pub fn ratio(&self) -> f64 {
        median_ratio(self.rounds.iter().map(|&(noop, publish)| (publish, noop)))
    }
}

pub fn run(p: &PublishParams) -> Result<PublishResult> {
    let (mock_rt, mock) = start_mock(p.mock_workers, momento_mock::Config::ephemeral())?;
    let load_rt = runtime("bench-load", p.load_workers)?;
    let endpoint = mock.endpoint();
    let channels = load_rt.block_on(async {
        let mut channels = Vec::new();
        for _ in 0..p.connections.max(1) {
            channels.push(channel(&endpoint).await?);
        }
        anyhow::Ok(channels)
    })?;

    let text = message_text(p.message_bytes, 0);
    let ping = |ch: Channel| {
        let client = PingClient::new(ch);
        move || {
            let mut client = client.clone();
            async move {
                client.ping(PingRequest {}).await.context("Ping")?;
                anyhow::Ok(())
            }
        }
    };
    let publish = |ch: Channel| {
        let client = PubsubClient::new(ch);
        let text = text.clone();
        move || {
            let mut client = client.clone();
            let request = publish_request(CACHE, TOPIC, text.clone());
            async move {
                client.publish(request).await.context("Publish")?;
                anyhow::Ok(())
            }
        }
    };
    let mut rounds = Vec::new();
    for _ in 0..p.rounds.max(1) {
        let noop = drive(&load_rt, &channels, p, &ping)?;
        let published = drive(&load_rt, &channels, p, &publish)?;
        rounds.push((noop, published));
    }
    let topic_messages = mock
        .topics()
        .counters(CACHE, TOPIC)
        .map_or(0, |c| c.messages_published);
    drop(channels);
    load_rt.shutdown_background();
    drop(mock);
    mock_rt.shutdown_background();
    Ok(PublishResult {
        publish_per_sec: median(&rounds.iter().map(|r| r.1).collect::<Vec<_>>()),
        noop_grpc_per_sec: median(&rounds.iter().map(|r| r.0).collect::<Vec<_>>()),
        rounds,
        topic_messages,
    })
}

/// Runs `p.callers` loops of `make(channel)()` calls; calls per second in the window.
fn drive<M, C, F>(
    rt: &tokio::runtime::Runtime,
    channels: &[Channel],
    p: &PublishParams,
    make: &M,
) -> Result<f64>
where
    M: Fn(Channel) -> C,
    C: Fn() -> F + Send + 'static,
    F: Future<Output = Result<()>> + Send + 'static,
{
    let done = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    for i in 0..p.callers.max(1) {
        let call = make(channels[i % channels.len()].clone());
        let (done, running) = (done.clone(), running.clone());
        tasks.push(rt.spawn(async move {
            while running.load(Ordering::Relaxed) {
                call().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    std::thread::sleep(p.warmup);
    let (c0, t0) = (done.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(p.window);
    let (c1, t1) = (done.load(Ordering::Relaxed), Instant::now());
    running.store(false, Ordering::SeqCst);
    for task in tasks {
        rt.block_on(task)??;
    }
    Ok(rate(c1 - c0, t1 - t0))
}
