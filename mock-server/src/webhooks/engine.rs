//! The fan-out engine: each webhook's bounded queue is drained by its lanes, at most
//! `webhook_concurrency` tasks that take one delivery at a time (one lane always runs; more start
//! while deliveries wait and end when none do, so a busy webhook spawns no task per delivery);
//! each delivery makes its attempts (one per webhook always allowed, beyond that at most
//! `max_inflight_deliveries` attempts in flight across all webhooks) on its lane's keep-alive
//! HTTP/1.1 connection (see [`super::connection`]: a pooled client's checkout and cross-task
//! hand-off cost more CPU per delivery than the signature), signs each attempt afresh, and
//! journals every attempt and drop.
//! Retry policy lives in [`super::policy`], body and signature in [`super::signing`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, Connection, Connector, IdleConnections, Target};
use super::journal::{ErrorKind, Journal, Outcome, Record};
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

/// The tasks delivering one webhook's queue, and the queue's receiving end.
#[derive(Debug)]
pub(crate) struct Lanes {
    queue: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    /// Lanes alive (at most `max`).
    running: AtomicUsize,
    /// Lanes waiting for a job.
    idle: AtomicUsize,
    max: usize,
    /// The queue was closed for a graceful shutdown.
    closed: AtomicBool,
    /// Connections to the destination that no lane holds right now.
    idle_connections: IdleConnections,
}

impl Lanes {
    pub fn new(queue: mpsc::Receiver<Job>, max: usize) -> Self {
        Self {
            queue: tokio::sync::Mutex::new(queue),
            running: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
            max: max.max(1),
            closed: AtomicBool::new(false),
            idle_connections: IdleConnections::default(),
        }
    }

    /// Counts one more lane unless there are `max` already.
    fn reserve(&self) -> bool {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }
}

/// What a lane found in its queue.
enum Taken {
    /// A delivery, and whether more are waiting.
    Job(Job, bool),
    /// Closed for shutdown and empty: the lane is done.
    Closed,
    /// The webhook was deleted or the server stopped (the queue is drained and journaled).
    End,
}

/// What came back from one attempt.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
}

/// Shared by every lane and delivery of one server.
#[derive(Debug)]
pub(crate) struct Engine {
    connector: Connector,
    /// Whole-attempt bound: connect, send, answer (`delivery_timeout`).
    timeout: Duration,
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
    /// Where lanes run (captured at start, so puts need no runtime context).
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
            connector: {
                install_default_crypto_provider();
                Connector::new()?
            },
            timeout: config.delivery_timeout,
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

    /// Starts the first lane of a new webhook (it runs until the webhook is deleted or the
    /// server stops).
    pub fn start_lanes(self: &Arc<Self>, hook: Arc<Hook>) {
        hook.lanes.running.fetch_add(1, Ordering::AcqRel);
        let engine = self.clone();
        self.tracker
            .spawn_on(engine.run_lane(hook, true), &self.runtime);
    }

    /// Starts one more lane for `hook`, unless it has `webhook_concurrency` already.
    fn add_lane(self: &Arc<Self>, hook: &Arc<Hook>) {
        if hook.lanes.reserve() {
            let engine = self.clone();
            self.tracker
                .spawn_on(engine.run_lane(hook.clone(), false), &self.runtime);
        }
    }

    /// Called after a delivery was queued: when every lane is busy, starts another, so the new
    /// delivery does not wait behind slow ones.
    pub fn after_enqueue(self: &Arc<Self>, hook: &Arc<Hook>) {
        if hook.lanes.idle.load(Ordering::Acquire) == 0 {
            self.add_lane(hook);
        }
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
        self.journal.record_shared(
            job.epoch,
            Record {
                id: 0,
                cache: hook.cache.clone(),
                topic: job.topic.clone(),
                webhook: hook.name.clone(),
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

    /// One lane: takes deliveries from the webhook's queue and makes them, one at a time. The
    /// first lane runs until the webhook is deleted or the server stops; the others end as soon
    /// as the queue is empty.
    async fn run_lane(self: Arc<Self>, hook: Arc<Hook>, first: bool) {
        let lanes = &hook.lanes;
        // The lane's connection while it has one (see `send`).
        let mut connection = None;
        loop {
            if !first && hook.queued() == 0 {
                break;
            }
            lanes.idle.fetch_add(1, Ordering::AcqRel);
            let taken = self.take(&hook, &mut connection).await;
            lanes.idle.fetch_sub(1, Ordering::AcqRel);
            match taken {
                Taken::Job(job, more) => {
                    // More waiting and nobody else waiting for them: one more lane.
                    if more && lanes.idle.load(Ordering::Acquire) == 0 {
                        self.add_lane(&hook);
                    }
                    self.deliver(&hook, job, &mut connection).await;
                }
                Taken::Closed | Taken::End => break,
            }
        }
        if let Some(connection) = connection {
            lanes.idle_connections.put(connection);
        }
        lanes.running.fetch_sub(1, Ordering::AcqRel);
    }

    /// The next delivery of `hook`'s queue. When the webhook is deleted or the server stops,
    /// closes the queue and journals every queued delivery as dropped. A lane that has to wait
    /// leaves its connection with the webhook's idle ones meanwhile, and the lane that waits on
    /// the queue drops idle connections as they expire.
    async fn take(&self, hook: &Hook, connection: &mut Option<Connection>) -> Taken {
        let mut queue = hook.lanes.queue.lock().await;
        // Fast path, what the select below would pick first: nothing cancelled (or closing
        // already handled) and a delivery waiting.
        let closing_handled =
            hook.lanes.closed.load(Ordering::Acquire) || !self.closing.is_cancelled();
        if !hook.deleted.is_cancelled() && !self.stop.is_cancelled() && closing_handled {
            if let Ok(job) = queue.try_recv() {
                return Taken::Job(job, !queue.is_empty());
            }
        }
        let idle = &hook.lanes.idle_connections;
        if let Some(connection) = connection.take() {
            idle.put(connection);
        }
        let reason = loop {
            let expiry = idle.next_expiry();
            tokio::select! {
                biased;
                () = hook.deleted.cancelled() => break ErrorKind::WebhookDeleted,
                () = self.stop.cancelled() => break ErrorKind::Shutdown,
                () = self.closing.cancelled(), if !hook.lanes.closed.load(Ordering::Acquire) => {
                    // Take nothing new; what is queued still goes out.
                    queue.close();
                    hook.lanes.closed.store(true, Ordering::Release);
                }
                job = queue.recv() => {
                    return match job {
                        Some(job) => Taken::Job(job, !queue.is_empty()),
                        None => Taken::Closed,
                    };
                }
                () = tokio::time::sleep_until(expiry.unwrap_or_else(tokio::time::Instant::now)),
                    if expiry.is_some() => idle.prune(),
            }
        };
        // Deleted or stopped: refuse new messages and journal every queued one.
        queue.close();
        while let Ok(job) = queue.try_recv() {
            self.drop_job(hook, &job, 1, reason);
        }
        Taken::End
    }

    /// Makes the attempts of one delivery (on one of the webhook's lanes).
    async fn deliver(&self, hook: &Hook, job: Job, connection: &mut Option<Connection>) {
        let mut attempt = 1u32;
        loop {
            // A slot to make the attempt in: the webhook's own reserved one, else one of the
            // global cap. The reserved slot means that destinations which stall until the timeout
            // cannot take every global slot and starve the other webhooks.
            // Fast path: not cancelled and a slot free (no waiter registered anywhere).
            let free = if hook.deleted.is_cancelled() || self.stop.is_cancelled() {
                None
            } else {
                hook.reserved
                    .try_acquire()
                    .or_else(|_| self.global.try_acquire())
                    .ok()
            };
            let slot = match free {
                Some(permit) => permit,
                None => tokio::select! {
                    biased;
                    () = hook.deleted.cancelled() => {
                        return self.drop_job(hook, &job, attempt, ErrorKind::WebhookDeleted);
                    }
                    () = self.stop.cancelled() => {
                        return self.drop_job(hook, &job, attempt, ErrorKind::Shutdown);
                    }
                    permit = hook.reserved.acquire() => match permit {
                        Ok(permit) => permit,
                        Err(_) => return self.drop_job(hook, &job, attempt, ErrorKind::Shutdown),
                    },
                    permit = self.global.acquire() => match permit {
                        Ok(permit) => permit,
                        Err(_) => return self.drop_job(hook, &job, attempt, ErrorKind::Shutdown),
                    },
                },
            };
            // The settings current now: an updated URL or rotated secret applies from here on.
            let settings = hook.settings();
            let started_at_ms = now_ms();
            let started = Instant::now();
            let body = job.body.render(started_at_ms);
            let signature = signing::sign_hex(&settings.signer, &body);
            let result = tokio::select! {
                biased;
                () = hook.deleted.cancelled() => {
                    return self.drop_job(hook, &job, attempt, ErrorKind::WebhookDeleted);
                }
                () = self.stop.cancelled() => {
                    return self.drop_job(hook, &job, attempt, ErrorKind::Shutdown);
                }
                result = self.send(hook, connection, &settings.target, body, signature) => result,
            };
            drop(slot);
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

            let (status, error, detail, asked) = match result {
                Ok(answer) if (200..300).contains(&answer.status) => {
                    job.counters.add_ok();
                    self.journal.record_shared(
                        job.epoch,
                        Record {
                            id: 0,
                            cache: hook.cache.clone(),
                            topic: job.topic.clone(),
                            webhook: hook.name.clone(),
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
            self.journal.record_shared(
                job.epoch,
                Record {
                    id: 0,
                    cache: hook.cache.clone(),
                    topic: job.topic.clone(),
                    webhook: hook.name.clone(),
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
                    return self.drop_job(hook, &job, attempt, ErrorKind::WebhookDeleted);
                }
                () = self.stop.cancelled() => {
                    return self.drop_job(hook, &job, attempt, ErrorKind::Shutdown);
                }
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One signed POST within `delivery_timeout`, on the lane's connection if it still goes to
    /// `target` and is open, else on an idle one of the webhook's, else on a new one. A request
    /// that an idle connection turns out unable to take (the destination closed it meanwhile)
    /// goes out once more on a new connection; hyper hands such a request back unsent. Reads
    /// (and discards) at most [`MAX_ANSWER_BYTES`] of the answer; the connection is kept only
    /// when the whole answer was read.
    async fn send(
        &self,
        hook: &Hook,
        connection: &mut Option<Connection>,
        target: &Result<Target, String>,
        body: Vec<u8>,
        signature: [u8; 64],
    ) -> Result<Answer, (ErrorKind, String)> {
        let target = target
            .as_ref()
            .map_err(|err| (ErrorKind::Request, err.clone()))?;
        let signature = HeaderValue::from_bytes(&signature)
            .map_err(|err| (ErrorKind::Request, format!("bad signature header: {err}")))?;
        let mut request = target.post(body).map_err(|err| {
            (
                ErrorKind::Request,
                format!("cannot build the request: {err}"),
            )
        })?;
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(signing::USER_AGENT));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(signing::SIGNATURE_HEADER, signature);

        let exchange = async {
            let mut request = request;
            loop {
                let held = connection
                    .take()
                    .filter(|c| c.serves(target))
                    .and_then(|mut c| c.is_open().then_some(c));
                let reused = held.or_else(|| hook.lanes.idle_connections.take(target));
                let fresh = reused.is_none();
                let open = match reused {
                    Some(open) => open,
                    None => self
                        .connector
                        .open(target)
                        .await
                        .map_err(|err| (ErrorKind::Connect, clip(err.0)))?,
                };
                let open = connection.insert(open);
                let response = match open.send(request).await {
                    Ok(response) => response,
                    Err(mut err) => {
                        *connection = None;
                        match err.take_message() {
                            Some(unsent) if !fresh => {
                                request = unsent;
                                continue;
                            }
                            _ => {
                                let detail =
                                    connection::chain("error sending the request", err.error());
                                return Err((ErrorKind::Request, clip(detail)));
                            }
                        }
                    }
                };
                let status = response.status().as_u16();
                let retry_after = policy::retry_after(
                    status,
                    response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()),
                );
                // An error while reading the answer does not change the verdict: the status
                // came. It only means the connection is not reused.
                if !open.discard(response.into_body(), MAX_ANSWER_BYTES).await {
                    *connection = None;
                }
                return Ok(Answer {
                    status,
                    retry_after,
                });
            }
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => {
                // Whatever the connection was doing, it cannot take another request.
                *connection = None;
                Err((
                    ErrorKind::Timeout,
                    format!(
                        "no complete answer from {} within {} ms (--delivery-timeout-ms)",
                        target.uri,
                        self.timeout.as_millis()
                    ),
                ))
            }
        }
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

/// Makes aws-lc-rs the process-wide default rustls provider, unless one is set already.
///
/// The workspace builds rustls with both aws-lc-rs (here) and ring (tfplugin's AutoMTLS), so
/// rustls cannot pick a default from its features: any rustls user in the process that relies on
/// the default (a TLS-enabled reqwest or tonic client, say) panics ("No provider set") unless one
/// is installed. Starting a mock calls this; code that builds such clients before any mock starts
/// should call it first.
pub fn install_default_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: some provider is then set.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// A journal detail of at most [`MAX_DETAIL_CHARS`] characters.
fn clip(detail: String) -> String {
    if detail.chars().count() > MAX_DETAIL_CHARS {
        detail.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…"
    } else {
        detail
    }
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
