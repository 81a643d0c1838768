//! The fan-out engine: one worker per webhook drains that webhook's bounded queue, starting at
//! most `webhook_concurrency` deliveries at once; each delivery makes its attempts (at most
//! `max_inflight_deliveries` attempts in flight across all webhooks) through one pooled
//! keep-alive HTTP client, signs each attempt afresh, and journals every attempt and drop.
//! Retry policy lives in [`super::policy`], body and signature in [`super::signing`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::journal::{ErrorKind, Journal, JournalEntry, Outcome};
use super::policy;
use super::registry::{Hook, TopicCounters};
use super::signing::{self, BodyTemplate};
use crate::config::Config;
use crate::events::PublishedMessage;

/// Longest part of a destination's answer body that is read (then the rest is dropped).
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Longest error detail kept in a journal entry.
const MAX_DETAIL_CHARS: usize = 300;
/// How long shutdown waits for abandoned deliveries to journal themselves after the grace.
const ABANDON_WAIT: Duration = Duration::from_secs(2);

/// One message on its way to one webhook (shared by all webhooks of the topic).
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub message: Arc<PublishedMessage>,
    pub body: BodyTemplate,
    pub topic: Arc<str>,
    pub counters: Arc<TopicCounters>,
    /// The journal's epoch when the message was published (see [`Journal::record_in`]).
    pub epoch: u64,
}

/// What a webhook queue holds.
pub(crate) type Job = Arc<Outgoing>;

/// What came back from one attempt.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
}

/// Shared by every worker and delivery of one server.
#[derive(Debug)]
pub(crate) struct Engine {
    client: reqwest::Client,
    pub journal: Arc<Journal>,
    /// Attempts in flight across all webhooks.
    global: Arc<Semaphore>,
    tracker: TaskTracker,
    /// Cancelled when shutdown begins: take no new messages, finish what is queued.
    closing: CancellationToken,
    /// Cancelled when the grace period is over (or the server is dropped): abandon everything.
    stop: CancellationToken,
    attempts: u32,
    queue_capacity: usize,
    /// Where workers and deliveries run (captured at start, so puts need no runtime context).
    runtime: tokio::runtime::Handle,
}

impl Engine {
    pub fn new(config: &Config, journal: Arc<Journal>) -> Result<Self, String> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            "webhooks must be created within a Tokio runtime (start the mock from async code)"
                .to_owned()
        })?;
        Ok(Self {
            runtime,
            client: http_client(config)?,
            journal,
            global: Arc::new(Semaphore::new(config.max_inflight_deliveries.max(1))),
            tracker: TaskTracker::new(),
            closing: CancellationToken::new(),
            stop: CancellationToken::new(),
            attempts: config.delivery_attempts.max(1),
            queue_capacity: config.webhook_queue_capacity.max(1),
        })
    }

    /// Whether shutdown has begun (new messages are dropped).
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// A queue for a new webhook.
    pub fn queue(&self) -> (mpsc::Sender<Job>, mpsc::Receiver<Job>) {
        mpsc::channel(self.queue_capacity)
    }

    /// Starts the worker of a new webhook.
    pub fn start_worker(self: &Arc<Self>, hook: Arc<Hook>, queue: mpsc::Receiver<Job>) {
        let engine = self.clone();
        self.tracker
            .spawn_on(engine.run_worker(hook, queue), &self.runtime);
    }

    /// Journals a delivery that will not be attempted (again) and counts it as dropped.
    pub fn drop_job(&self, hook: &Hook, job: &Outgoing, attempt: u32, kind: ErrorKind) {
        job.counters.add_dropped();
        let detail = match kind {
            ErrorKind::QueueFull => {
                "the webhook's delivery queue is full (--webhook-queue-capacity)"
            }
            ErrorKind::RateLimited => {
                "the webhook exceeded its deliveries per second (--max-deliveries-per-second)"
            }
            ErrorKind::WebhookDeleted => "the webhook or its cache was deleted",
            ErrorKind::Shutdown => "the server shut down",
            _ => "dropped",
        };
        self.journal.record_in(
            job.epoch,
            JournalEntry {
                id: 0,
                cache: hook.cache.to_string(),
                topic: job.topic.to_string(),
                webhook: hook.name.to_string(),
                url: hook.settings().destination.clone(),
                topic_sequence_number: job.message.topic_sequence_number,
                attempt,
                started_at_ms: now_ms(),
                duration_ms: 0,
                status: None,
                error: Some(kind),
                detail: Some(detail.to_owned()),
                outcome: Outcome::Dropped,
                retrying: false,
            },
        );
    }

    /// Drains one webhook's queue until the webhook is deleted or the server stops.
    async fn run_worker(self: Arc<Self>, hook: Arc<Hook>, mut queue: mpsc::Receiver<Job>) {
        let mut closed = false;
        let reason = loop {
            let job = tokio::select! {
                biased;
                () = hook.deleted.cancelled() => break ErrorKind::WebhookDeleted,
                () = self.stop.cancelled() => break ErrorKind::Shutdown,
                () = self.closing.cancelled(), if !closed => {
                    // Take nothing new; what is queued still goes out.
                    queue.close();
                    closed = true;
                    continue;
                }
                job = queue.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
            };
            let permit = tokio::select! {
                biased;
                () = hook.deleted.cancelled() => {
                    self.drop_job(&hook, &job, 1, ErrorKind::WebhookDeleted);
                    break ErrorKind::WebhookDeleted;
                }
                () = self.stop.cancelled() => {
                    self.drop_job(&hook, &job, 1, ErrorKind::Shutdown);
                    break ErrorKind::Shutdown;
                }
                permit = hook.in_flight.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    // The semaphore is never closed; treat it as a deletion if it were.
                    Err(_) => {
                        self.drop_job(&hook, &job, 1, ErrorKind::WebhookDeleted);
                        break ErrorKind::WebhookDeleted;
                    }
                },
            };
            self.tracker.spawn_on(
                self.clone().deliver(hook.clone(), job, permit),
                &self.runtime,
            );
        };
        // Deleted or stopped: refuse new messages and journal every queued one.
        queue.close();
        while let Ok(job) = queue.try_recv() {
            self.drop_job(&hook, &job, 1, reason);
        }
    }

    /// Makes the attempts of one delivery, holding one of the webhook's concurrency permits.
    async fn deliver(self: Arc<Self>, hook: Arc<Hook>, job: Job, _permit: OwnedSemaphorePermit) {
        let mut attempt = 1u32;
        loop {
            let global = tokio::select! {
                biased;
                () = hook.deleted.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::WebhookDeleted);
                }
                () = self.stop.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::Shutdown);
                }
                permit = self.global.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return self.drop_job(&hook, &job, attempt, ErrorKind::Shutdown),
                },
            };
            // The settings current now: an updated URL or rotated secret applies from here on.
            let settings = hook.settings();
            let started_at_ms = now_ms();
            let started = Instant::now();
            let body = job.body.render(started_at_ms);
            let signature = signing::sign_with(&settings.signer, &body);
            let result = tokio::select! {
                biased;
                () = hook.deleted.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::WebhookDeleted);
                }
                () = self.stop.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::Shutdown);
                }
                result = self.send(&settings.url, body, signature) => result,
            };
            drop(global);
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

            let (status, error, detail, asked) = match result {
                Ok(answer) if (200..300).contains(&answer.status) => {
                    job.counters.add_ok();
                    self.journal.record_in(
                        job.epoch,
                        JournalEntry {
                            id: 0,
                            cache: hook.cache.to_string(),
                            topic: job.topic.to_string(),
                            webhook: hook.name.to_string(),
                            url: settings.destination.clone(),
                            topic_sequence_number: job.message.topic_sequence_number,
                            attempt,
                            started_at_ms,
                            duration_ms,
                            status: Some(answer.status),
                            error: None,
                            detail: None,
                            outcome: Outcome::Delivered,
                            retrying: false,
                        },
                    );
                    return;
                }
                Ok(answer) => (
                    Some(answer.status),
                    ErrorKind::HttpStatus,
                    format!("the destination answered HTTP {}", answer.status),
                    answer.retry_after,
                ),
                Err((kind, detail)) => (None, kind, detail, None),
            };
            let retrying = attempt < self.attempts;
            self.journal.record_in(
                job.epoch,
                JournalEntry {
                    id: 0,
                    cache: hook.cache.to_string(),
                    topic: job.topic.to_string(),
                    webhook: hook.name.to_string(),
                    url: settings.destination.clone(),
                    topic_sequence_number: job.message.topic_sequence_number,
                    attempt,
                    started_at_ms,
                    duration_ms,
                    status,
                    error: Some(error),
                    detail: Some(detail),
                    outcome: Outcome::Failed,
                    retrying,
                },
            );
            if !retrying {
                job.counters.add_failed();
                return;
            }
            attempt += 1;
            let pause = policy::pause_before(attempt, asked);
            tokio::select! {
                biased;
                () = hook.deleted.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::WebhookDeleted);
                }
                () = self.stop.cancelled() => {
                    return self.drop_job(&hook, &job, attempt, ErrorKind::Shutdown);
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One signed POST. Reads (and discards) at most [`MAX_ANSWER_BYTES`] of the answer so the
    /// connection can go back to the pool.
    async fn send(
        &self,
        url: &reqwest::Url,
        body: Vec<u8>,
        signature: String,
    ) -> Result<Answer, (ErrorKind, String)> {
        let signature = HeaderValue::from_str(&signature)
            .map_err(|err| (ErrorKind::Request, format!("bad signature header: {err}")))?;
        let mut response = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(signing::SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let retry_after = policy::retry_after(
            status,
            response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        );
        let mut read = 0usize;
        // An error while reading the answer does not change the verdict: the status came.
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            if read > MAX_ANSWER_BYTES {
                break;
            }
        }
        Ok(Answer {
            status,
            retry_after,
        })
    }

    /// Stops taking new messages, lets queued and in-flight deliveries finish until `deadline`,
    /// then abandons the rest (journaled as dropped, kind `shutdown`).
    pub async fn shutdown(&self, deadline: tokio::time::Instant) {
        self.closing.cancel();
        self.tracker.close();
        if tokio::time::timeout_at(deadline, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "webhook deliveries still in flight after the grace period; dropping them"
            );
            self.stop.cancel();
            let _ = tokio::time::timeout(ABANDON_WAIT, self.tracker.wait()).await;
        }
    }

    /// Abandons everything at once (the server was dropped without a shutdown).
    pub fn abort(&self) {
        self.closing.cancel();
        self.stop.cancel();
        self.tracker.close();
    }
}

/// The one HTTP client of a server: HTTP/1.1 keep-alive pool, TCP_NODELAY, no redirects, no
/// proxies, whole-request timeout = `delivery_timeout`, rustls (aws-lc-rs) with webpki roots.
fn http_client(config: &Config) -> Result<reqwest::Client, String> {
    install_default_crypto_provider();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("cannot set up TLS for webhook deliveries: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .user_agent(signing::USER_AGENT)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(config.max_inflight_deliveries.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(config.delivery_timeout)
        .connect_timeout(config.delivery_timeout)
        .build()
        .map_err(|err| format!("cannot build the webhook HTTP client: {err}"))
}

/// Makes aws-lc-rs the process-wide default rustls provider, unless one is set already.
///
/// This crate enables reqwest's `rustls-*-no-provider` TLS; Cargo unifies that feature into
/// every reqwest 0.12 of the build, and from then on `reqwest::Client::new()` anywhere in the
/// process panics ("No provider set") unless a default provider exists. Starting a mock calls
/// this; code that builds reqwest clients before any mock starts should call it first.
pub fn install_default_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: some provider is then set.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// Sorts a transport error into a journal kind, with its cause chain as the detail.
fn classify(err: reqwest::Error) -> (ErrorKind, String) {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Request
    };
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    if detail.chars().count() > MAX_DETAIL_CHARS {
        detail = detail.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…";
    }
    (kind, detail)
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
