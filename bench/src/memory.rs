//! Memory under a dead destination: a separately started `momento-mock` binary with `webhooks`
//! webhooks pointing at a black hole (accepts, never answers), published to at a steady rate.
//! Once the delivery queues are full (the mock starts dropping), the RSS taken after a settling
//! pause is the baseline; the growth is the highest RSS seen over the rest of the run minus it.
//! Bounded queues, journal and in-flight limits should keep it flat.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_wire::topics::topics_client::TopicsClient;
use momento_wire::topics::{GetTopicRequest, TopicId};

use crate::grpc::{channel, create_cache, publish_request, put_webhook};
use crate::sink::start_black_hole;
use crate::util::{message_text, runtime, CACHE};

const TOPIC: &str = "memory";

#[derive(Debug, Clone)]
pub struct MemoryParams {
    pub mock_bin: PathBuf,
    pub webhooks: usize,
    pub publishes_per_sec: u32,
    pub message_bytes: usize,
    /// Pause after the first drop before the baseline is taken.
    pub settle: Duration,
    /// How long RSS is watched after the baseline.
    pub duration: Duration,
    /// The mock's `--delivery-timeout-ms`.
    pub delivery_timeout: Duration,
    /// The mock's `--webhook-queue-capacity`.
    pub webhook_queue_capacity: usize,
}

impl MemoryParams {
    pub fn full(mock_bin: PathBuf) -> Self {
        Self {
            mock_bin,
            webhooks: 10,
            publishes_per_sec: 2000,
            message_bytes: 256,
            settle: Duration::from_secs(2),
            duration: Duration::from_secs(15),
            delivery_timeout: momento_mock::config::DEFAULT_DELIVERY_TIMEOUT,
            webhook_queue_capacity: momento_mock::config::DEFAULT_WEBHOOK_QUEUE_CAPACITY,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MemoryResult {
    pub idle_rss_mb: f64,
    pub baseline_rss_mb: f64,
    pub peak_rss_mb: f64,
    pub growth_mb: f64,
    pub published: u64,
    pub dropped: u64,
    pub failed: u64,
    pub connections: u64,
}

/// Kills the spawned mock however the scenario ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// VmRSS of `pid` in MiB.
pub fn rss_mb(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS in /proc/PID/status")?;
    Ok(kb / 1024.0)
}

pub fn run(p: &MemoryParams) -> Result<MemoryResult> {
    let mut child = Command::new(&p.mock_bin)
        .args(["--listen", "127.0.0.1:0", "--log", "error"])
        .arg("--delivery-timeout-ms")
        .arg(p.delivery_timeout.as_millis().to_string())
        .arg("--webhook-queue-capacity")
        .arg(p.webhook_queue_capacity.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", p.mock_bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mock = Killed(child);
    let pid = mock.0.id();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("momento-mock listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let endpoint = format!("http://{addr}");

    let hole_rt = runtime("bench-hole", 1)?;
    let (hole, connections) = start_black_hole(&hole_rt)?;
    let load_rt = runtime("bench-load", 1)?;
    let (client, mut topics) = load_rt.block_on(async {
        let ch = channel(&endpoint).await?;
        create_cache(ch.clone(), CACHE).await?;
        for i in 0..p.webhooks {
            put_webhook(
                ch.clone(),
                CACHE,
                &format!("w{i}"),
                TOPIC,
                &format!("http://{hole}/hook"),
            )
            .await?;
        }
        anyhow::Ok((PubsubClient::new(ch.clone()), TopicsClient::new(ch)))
    })?;
    let idle = rss_mb(pid)?;

    let running = Arc::new(AtomicBool::new(true));
    let published = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (running, published, p) = (running.clone(), published.clone(), p.clone());
        load_rt.spawn(async move {
            let mut interval =
                tokio::time::interval(Duration::from_secs(1) / p.publishes_per_sec.max(1));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut inflight = tokio::task::JoinSet::new();
            while running.load(Ordering::Relaxed) {
                interval.tick().await;
                let mut client = client.clone();
                published.fetch_add(1, Ordering::Relaxed);
                let text = message_text(p.message_bytes, 0);
                inflight.spawn(
                    async move { client.publish(publish_request(CACHE, TOPIC, text)).await },
                );
                while let Some(done) = inflight.try_join_next() {
                    done?.context("Publish")?;
                }
            }
            while let Some(done) = inflight.join_next().await {
                done?.context("Publish")?;
            }
            anyhow::Ok(())
        })
    };
    let mut stats = || {
        load_rt.block_on(async {
            let answer = topics
                .get_topic(GetTopicRequest {
                    id: Some(TopicId {
                        cache_name: CACHE.into(),
                        topic_name: TOPIC.into(),
                    }),
                })
                .await;
            let stats = match answer {
                Ok(answer) => answer.into_inner().topic.and_then(|t| t.stats),
                // Not used yet: nothing published so far.
                Err(status) if status.code() == tonic::Code::NotFound => None,
                Err(status) => return Err(anyhow::anyhow!("GetTopic: {status}")),
            };
            anyhow::Ok(stats.unwrap_or_default())
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while stats()?.deliveries_dropped == 0 {
        anyhow::ensure!(
            Instant::now() < deadline && !publisher.is_finished(),
            "the webhook queues did not fill within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(p.settle);
    let baseline = rss_mb(pid)?;
    let mut peak = baseline;
    let end = Instant::now() + p.duration;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
        peak = peak.max(rss_mb(pid)?);
    }
    running.store(false, Ordering::SeqCst);
    load_rt.block_on(publisher)??;
    let last = stats()?;
    let out = MemoryResult {
        idle_rss_mb: idle,
        baseline_rss_mb: baseline,
        peak_rss_mb: peak,
        growth_mb: peak - baseline,
        published: published.load(Ordering::Relaxed),
        dropped: last.deliveries_dropped,
        failed: last.deliveries_failed,
        connections: connections.load(Ordering::Relaxed),
    };
    drop(mock);
    load_rt.shutdown_background();
    hole_rt.shutdown_background();
    Ok(out)
}
