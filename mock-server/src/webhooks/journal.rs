//! The delivery journal: a bounded ring of every delivery attempt and every dropped delivery
//! (oldest evicted first), with filters and a wait that wakes on new entries (no polling).
//!
//! Recording is on the hot path of every delivery: the ring keeps [`Record`]s, whose names are
//! shared with the webhook (`Arc<str>`, no copies), and wakes waiters only when there are some.
//! Readers get [`JournalEntry`]s.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Longest wait [`Journal::wait`] accepts; longer requests are cut to this.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// How one attempt (or one delivery that never got an attempt) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The destination answered 2xx.
    Delivered,
    /// The attempt was made and did not get a 2xx (see the error kind).
    Failed,
    /// No attempt was made, or the attempt was abandoned (see the error kind).
    Dropped,
}

impl Outcome {
    /// The name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }

    /// Parses the JSON/query name.
    pub fn parse(text: &str) -> Option<Self> {
        [Outcome::Delivered, Outcome::Failed, Outcome::Dropped]
            .into_iter()
            .find(|o| o.as_str() == text)
    }
}

/// Why an attempt failed or a delivery was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No complete answer within `delivery_timeout`. (failed)
    Timeout,
    /// The connection could not be made (refused, unreachable, TLS handshake). (failed)
    Connect,
    /// The destination answered with a status outside 2xx. (failed)
    HttpStatus,
    /// Another transport error while sending or reading the answer. (failed)
    Request,
    /// The webhook's queue (`webhook_queue_capacity`) was full. (dropped)
    QueueFull,
    /// The webhook exceeded `max_deliveries_per_second`. (dropped)
    RateLimited,
    /// The webhook (or its cache) was deleted before the delivery was made. (dropped)
    WebhookDeleted,
    /// The server shut down before the delivery was made. (dropped)
    Shutdown,
}

impl ErrorKind {
    /// The name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Request => "request",
            ErrorKind::QueueFull => "queue_full",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::WebhookDeleted => "webhook_deleted",
            ErrorKind::Shutdown => "shutdown",
        }
    }

    /// Parses the JSON/query name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            ErrorKind::Timeout,
            ErrorKind::Connect,
            ErrorKind::HttpStatus,
            ErrorKind::Request,
            ErrorKind::QueueFull,
            ErrorKind::RateLimited,
            ErrorKind::WebhookDeleted,
            ErrorKind::Shutdown,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One journal entry: one attempt, or one delivery dropped before (or instead of) an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Monotonic over the life of the server (never reused, not even after a reset).
    pub id: u64,
    pub cache: String,
    pub topic: String,
    /// The webhook's name.
    pub webhook: String,
    /// The destination URL used (or that would have been used).
    pub url: String,
    pub topic_sequence_number: u64,
    /// 1 for the first attempt; drops carry the attempt that would have come next.
    pub attempt: u32,
    /// When the attempt started (or the drop happened), ms since the Unix epoch.
    pub started_at_ms: u64,
    /// How long the attempt took, ms (0 for drops).
    pub duration_ms: u64,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Why it failed or was dropped; `None` when delivered.
    pub error: Option<ErrorKind>,
    /// A human-readable detail of the error (never a secret).
    pub detail: Option<String>,
    pub outcome: Outcome,
    /// Whether another attempt follows this failed one (`delivery_attempts` > 1).
    pub retrying: bool,
}

/// What an entry must match (every given field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DeliveryFilter {
    pub cache: Option<String>,
    pub topic: Option<String>,
    pub webhook: Option<String>,
    pub outcome: Option<Outcome>,
    pub error: Option<ErrorKind>,
    /// Only entries whose id is greater.
    pub after_id: Option<u64>,
}

impl DeliveryFilter {
    /// Matches everything.
    pub fn all() -> Self {
        Self::default()
    }

    pub fn cache(mut self, cache: impl Into<String>) -> Self {
        self.cache = Some(cache.into());
        self
    }

    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    pub fn webhook(mut self, webhook: impl Into<String>) -> Self {
        self.webhook = Some(webhook.into());
        self
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    pub fn error(mut self, error: ErrorKind) -> Self {
        self.error = Some(error);
        self
    }

    pub fn after_id(mut self, id: u64) -> Self {
        self.after_id = Some(id);
        self
    }

    /// Whether `entry` matches.
    pub fn matches(&self, entry: &JournalEntry) -> bool {
        self.matches_fields(
            &entry.cache,
            &entry.topic,
            &entry.webhook,
            entry.outcome,
            entry.error,
            entry.id,
        )
    }

    fn matches_record(&self, record: &Record) -> bool {
        self.matches_fields(
            &record.cache,
            &record.topic,
            &record.webhook,
            record.outcome,
            record.error,
            record.id,
        )
    }

    fn matches_fields(
        &self,
        cache: &str,
        topic: &str,
        webhook: &str,
        outcome: Outcome,
        error: Option<ErrorKind>,
        id: u64,
    ) -> bool {
        self.cache.as_deref().is_none_or(|c| c == cache)
            && self.topic.as_deref().is_none_or(|t| t == topic)
            && self.webhook.as_deref().is_none_or(|w| w == webhook)
            && self.outcome.is_none_or(|o| o == outcome)
            && self.error.is_none_or(|e| Some(e) == error)
            && self.after_id.is_none_or(|after| id > after)
    }
}

/// One entry as the ring keeps it: a [`JournalEntry`] whose names are shared, not copied.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Assigned when recorded.
    pub id: u64,
    pub cache: Arc<str>,
    pub topic: Arc<str>,
    pub webhook: Arc<str>,
    pub url: Arc<str>,
    pub topic_sequence_number: u64,
    pub attempt: u32,
    pub started_at_ms: u64,
    pub duration_ms: u64,
    pub status: Option<u16>,
    pub error: Option<ErrorKind>,
    pub detail: Option<String>,
    pub outcome: Outcome,
    pub retrying: bool,
}

impl Record {
    fn to_entry(&self) -> JournalEntry {
        JournalEntry {
            id: self.id,
            cache: self.cache.to_string(),
            topic: self.topic.to_string(),
            webhook: self.webhook.to_string(),
            url: self.url.to_string(),
            topic_sequence_number: self.topic_sequence_number,
            attempt: self.attempt,
            started_at_ms: self.started_at_ms,
            duration_ms: self.duration_ms,
            status: self.status,
            error: self.error,
            detail: self.detail.clone(),
            outcome: self.outcome,
            retrying: self.retrying,
        }
    }
}

impl From<JournalEntry> for Record {
    fn from(e: JournalEntry) -> Self {
        Self {
            id: e.id,
            cache: e.cache.into(),
            topic: e.topic.into(),
            webhook: e.webhook.into(),
            url: e.url.into(),
            topic_sequence_number: e.topic_sequence_number,
            attempt: e.attempt,
            started_at_ms: e.started_at_ms,
            duration_ms: e.duration_ms,
            status: e.status,
            error: e.error,
            detail: e.detail,
            outcome: e.outcome,
            retrying: e.retrying,
        }
    }
}

/// The answer to a query: matching entries (oldest first) and whether the wait gave up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalQuery {
    pub deliveries: Vec<JournalEntry>,
    pub count: usize,
    /// True when the wait ended at its timeout with fewer matches than asked for.
    pub timed_out: bool,
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Record>,
    last_id: u64,
    /// Bumped by [`Journal::clear`], so waiters start counting again.
    epoch: u64,
}

/// The delivery journal of one server. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    capacity: usize,
    changed: Notify,
    /// Waits in progress: recording notifies only when there is one.
    waiting: AtomicUsize,
    /// Mirror of `Ring::epoch`, readable without the lock.
    epoch: AtomicU64,
}

/// Counts one wait in progress (see [`Journal::wait`]).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Journal {
    /// An empty journal keeping at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            ring: Mutex::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(4096)),
                last_id: 0,
                epoch: 0,
            }),
            capacity,
            changed: Notify::new(),
            waiting: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // Every update is a few field writes that cannot panic halfway; a poisoned lock is
        // still consistent.
        self.ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends an entry (its `id` is assigned here) and wakes waiters. Returns the id.
    pub fn record(&self, entry: JournalEntry) -> u64 {
        let epoch = self.epoch();
        self.record_in(epoch, entry).unwrap_or(0)
    }

    /// The current epoch: it changes when the journal is cleared.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Appends an entry about a message published in `epoch`; skipped (`None`) when the
    /// journal was cleared since (a reset forgets the history of earlier messages too).
    pub fn record_in(&self, epoch: u64, entry: JournalEntry) -> Option<u64> {
        self.record_shared(epoch, Record::from(entry))
    }

    /// [`Journal::record_in`] without copying names: the engine's path.
    pub(crate) fn record_shared(&self, epoch: u64, mut record: Record) -> Option<u64> {
        let (id, evicted) = {
            let mut ring = self.lock();
            if ring.epoch != epoch {
                return None;
            }
            ring.last_id += 1;
            record.id = ring.last_id;
            let evicted = if ring.entries.len() >= self.capacity {
                ring.entries.pop_front()
            } else {
                None
            };
            ring.entries.push_back(record);
            (ring.last_id, evicted)
        };
        // Freed outside the lock.
        drop(evicted);
        // A waiter counts itself before it looks at the ring (under the lock), so when it missed
        // this entry it is counted here: no lost wake-up (both sides are SeqCst).
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.changed.notify_waiters();
        }
        Some(id)
    }

    /// Forgets every entry (ids keep counting up).
    pub fn clear(&self) {
        {
            let mut ring = self.lock();
            ring.entries.clear();
            ring.epoch += 1;
            self.epoch.store(ring.epoch, Ordering::Release);
        }
        self.changed.notify_waiters();
    }

    /// The id of the newest entry ever recorded (0 when none), for `after_id` filters.
    pub fn last_id(&self) -> u64 {
        self.lock().last_id
    }

    /// Matching entries, oldest first.
    pub fn query(&self, filter: &DeliveryFilter) -> Vec<JournalEntry> {
        snapshot(&self.lock(), filter)
    }

    /// Waits until at least `min_count` matching entries exist or `timeout` (at most
    /// [`MAX_WAIT`]) passes, then returns the matching entries. Wakes on new entries; never
    /// polls.
    pub async fn wait(
        &self,
        filter: &DeliveryFilter,
        min_count: usize,
        timeout: Duration,
    ) -> JournalQuery {
        let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
        let _waiting = Waiting::new(&self.waiting);
        let mut epoch = None;
        let mut scanned_to = 0u64;
        let mut count = 0usize;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Register before looking, so an entry recorded after the look still wakes us.
            notified.as_mut().enable();
            {
                let ring = self.lock();
                if epoch != Some(ring.epoch) {
                    epoch = Some(ring.epoch);
                    scanned_to = 0;
                    count = 0;
                }
                let start = ring.entries.partition_point(|e| e.id <= scanned_to);
                count += ring
                    .entries
                    .range(start..)
                    .filter(|e| filter.matches_record(e))
                    .count();
                scanned_to = ring.last_id;
                if count >= min_count {
                    let deliveries = snapshot(&ring, filter);
                    return JournalQuery {
                        count: deliveries.len(),
                        deliveries,
                        timed_out: false,
                    };
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {
                    let deliveries = self.query(filter);
                    return JournalQuery {
                        count: deliveries.len(),
                        timed_out: deliveries.len() < min_count,
                        deliveries,
                    };
                }
            }
        }
    }

    /// [`Journal::wait`], returning only the entries.
    pub async fn wait_for(
        &self,
        filter: &DeliveryFilter,
        min_count: usize,
        timeout: Duration,
    ) -> Vec<JournalEntry> {
        self.wait(filter, min_count, timeout).await.deliveries
    }
}

fn snapshot(ring: &Ring, filter: &DeliveryFilter) -> Vec<JournalEntry> {
    let start = match filter.after_id {
        Some(after) => ring.entries.partition_point(|e| e.id <= after),
        None => 0,
    };
    ring.entries
        .range(start..)
        .filter(|e| filter.matches_record(e))
        .map(Record::to_entry)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(webhook: &str, outcome: Outcome) -> JournalEntry {
        JournalEntry {
            id: 0,
            cache: "c".into(),
            topic: "t".into(),
            webhook: webhook.into(),
            url: "http://127.0.0.1:1/".into(),
            topic_sequence_number: 1,
            attempt: 1,
            started_at_ms: 0,
            duration_ms: 0,
            status: None,
            error: None,
            detail: None,
            outcome,
            retrying: false,
        }
    }

    #[test]
    fn ring_evicts_oldest_and_ids_are_monotonic() {
        let journal = Journal::new(3);
        for i in 0..5 {
            assert_eq!(journal.record(entry("w", Outcome::Delivered)), i + 1);
        }
        let ids: Vec<u64> = journal
            .query(&DeliveryFilter::all())
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [3, 4, 5]);
        let before = journal.epoch();
        journal.clear();
        assert!(journal.query(&DeliveryFilter::all()).is_empty());
        assert_eq!(journal.record(entry("w", Outcome::Delivered)), 6);
        // Entries about messages from before the clear are not recorded.
        assert_eq!(journal.record_in(before, entry("w", Outcome::Failed)), None);
        assert_eq!(journal.query(&DeliveryFilter::all()).len(), 1);
    }

    #[test]
    fn filters_combine() {
        let journal = Journal::new(10);
        journal.record(entry("a", Outcome::Delivered));
        journal.record(entry("b", Outcome::Failed));
        let mut other = entry("a", Outcome::Dropped);
        other.topic = "u".into();
        other.error = Some(ErrorKind::QueueFull);
        journal.record(other);
        let n = |f: DeliveryFilter| journal.query(&f).len();
        assert_eq!(n(DeliveryFilter::all()), 3);
        assert_eq!(n(DeliveryFilter::all().webhook("a")), 2);
        assert_eq!(n(DeliveryFilter::all().webhook("a").topic("t")), 1);
        assert_eq!(n(DeliveryFilter::all().outcome(Outcome::Failed)), 1);
        assert_eq!(n(DeliveryFilter::all().error(ErrorKind::QueueFull)), 1);
        assert_eq!(n(DeliveryFilter::all().cache("x")), 0);
        assert_eq!(n(DeliveryFilter::all().after_id(1)), 2);
    }

    #[test]
    fn names_round_trip() {
        for o in [Outcome::Delivered, Outcome::Failed, Outcome::Dropped] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        for k in [
            ErrorKind::Timeout,
            ErrorKind::Connect,
            ErrorKind::HttpStatus,
            ErrorKind::Request,
            ErrorKind::QueueFull,
            ErrorKind::RateLimited,
            ErrorKind::WebhookDeleted,
            ErrorKind::Shutdown,
        ] {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[tokio::test]
    async fn wait_wakes_on_new_entries_and_times_out() {
        let journal = Arc::new(Journal::new(100));
        let waiter = {
            let journal = journal.clone();
            tokio::spawn(async move {
                journal
                    .wait(&DeliveryFilter::all().webhook("a"), 2, MAX_WAIT)
                    .await
            })
        };
        journal.record(entry("b", Outcome::Delivered));
        journal.record(entry("a", Outcome::Delivered));
        tokio::task::yield_now().await;
        journal.record(entry("a", Outcome::Failed));
        let got = waiter.await.unwrap();
        assert!(!got.timed_out);
        assert_eq!(got.count, 2);

        let none = journal
            .wait(
                &DeliveryFilter::all().webhook("zzz"),
                1,
                Duration::from_millis(20),
            )
            .await;
        assert!(none.timed_out);
        assert_eq!(none.count, 0);
        // Zero asked for: answers at once.
        let now = journal
            .wait(&DeliveryFilter::all(), 0, Duration::from_secs(30))
            .await;
        assert_eq!(now.count, 3);
        assert!(!now.timed_out);
    }
}
