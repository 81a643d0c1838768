//! Subscriber fan-out: `subscribers` gRPC `Subscribe` streams on one topic (one connection each,
//! as separate applications would have), fed by publishers that keep at most `backlog` messages
//! ahead of the slowest subscriber (below the mock's per-subscriber buffer, so nobody is skipped).
//! Reports messages delivered per second summed over all subscribers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_protos::cache_client::pubsub::{subscription_item, SubscriptionRequest};

use crate::grpc::{channel, publish_request};
use crate::util::{message_text, rate, runtime, start_mock, CACHE};

const TOPIC: &str = "subscribers";

#[derive(Debug, Clone)]
pub struct SubscriberParams {
    pub subscribers: usize,
    pub publishers: usize,
    pub message_bytes: usize,
    pub backlog: u64,
    pub warmup: Duration,
    pub window: Duration,
    pub mock_workers: usize,
    pub load_workers: usize,
}

impl SubscriberParams {
    pub fn full() -> Self {
        Self {
            subscribers: 100,
            publishers: 2,
            message_bytes: 256,
            backlog: 128,
            warmup: Duration::from_secs(1),
            window: Duration::from_secs(4),
            mock_workers: 2,
            load_workers: 1,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SubscriberResult {
    pub msgs_per_sec: f64,
    pub publishes_per_sec: f64,
    /// Discontinuities seen (a subscriber skipped ahead; should be 0).
    pub discontinuities: u64,
}

pub fn run(p: &SubscriberParams) -> Result<SubscriberResult> {
    let (mock_rt, mock) = start_mock(p.mock_workers, momento_mock::Config::ephemeral())?;
    let load_rt = runtime("bench-load", p.load_workers)?;
    let endpoint = mock.endpoint();

    let counts: Arc<Vec<AtomicU64>> =
        Arc::new((0..p.subscribers).map(|_| AtomicU64::new(0)).collect());
    let total = Arc::new(AtomicU64::new(0));
    let gaps = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicU64::new(0));
    let mut subscriber_tasks = Vec::new();
    for i in 0..p.subscribers {
        let (counts, total, gaps, ready) =
            (counts.clone(), total.clone(), gaps.clone(), ready.clone());
        let endpoint = endpoint.clone();
        subscriber_tasks.push(load_rt.spawn(async move {
            let mut client = PubsubClient::new(channel(&endpoint).await?);
            let mut stream = client
                .subscribe(SubscriptionRequest {
                    cache_name: CACHE.into(),
                    topic: TOPIC.into(),
                    resume_at_topic_sequence_number: 0,
                    sequence_page: 0,
                })
                .await
                .context("Subscribe")?
                .into_inner();
            while let Some(item) = stream.message().await? {
                match item.kind {
                    Some(subscription_item::Kind::Item(_)) => {
                        counts[i].fetch_add(1, Ordering::Relaxed);
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(subscription_item::Kind::Heartbeat(_)) => {
                        ready.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(subscription_item::Kind::Discontinuity(_)) => {
                        gaps.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {}
                }
            }
            anyhow::Ok(())
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready.load(Ordering::Relaxed) < p.subscribers as u64 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "subscribers did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }

    let published = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let mut publishers = Vec::new();
    for _ in 0..p.publishers.max(1) {
        let (published, running, counts) = (published.clone(), running.clone(), counts.clone());
        let (endpoint, p) = (endpoint.clone(), p.clone());
        publishers.push(load_rt.spawn(async move {
            let mut client = PubsubClient::new(channel(&endpoint).await?);
            let text = message_text(p.message_bytes, 0);
            while running.load(Ordering::Relaxed) {
                let slowest = counts
                    .iter()
                    .map(|c| c.load(Ordering::Relaxed))
                    .min()
                    .unwrap_or(0);
                if published.load(Ordering::Relaxed) >= slowest + p.backlog {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                published.fetch_add(1, Ordering::Relaxed);
                client
                    .publish(publish_request(CACHE, TOPIC, text.clone()))
                    .await
                    .context("Publish")?;
            }
            anyhow::Ok(())
        }));
    }
    std::thread::sleep(p.warmup);
    let (m0, p0, t0) = (
        total.load(Ordering::Relaxed),
        published.load(Ordering::Relaxed),
        Instant::now(),
    );
    std::thread::sleep(p.window);
    let (m1, p1, t1) = (
        total.load(Ordering::Relaxed),
        published.load(Ordering::Relaxed),
        Instant::now(),
    );
    running.store(false, Ordering::SeqCst);
    for task in publishers {
        load_rt.block_on(task)??;
    }
    for task in &subscriber_tasks {
        task.abort();
    }
    let out = SubscriberResult {
        msgs_per_sec: rate(m1 - m0, t1 - t0),
        publishes_per_sec: rate(p1 - p0, t1 - t0),
        discontinuities: gaps.load(Ordering::Relaxed),
    };
    load_rt.shutdown_background();
    drop(mock);
    mock_rt.shutdown_background();
    Ok(out)
}
