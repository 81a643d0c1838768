//! The webhook registry: every webhook by cache and name (for the control RPCs) and by
//! (cache, topic) (for the publish path), each webhook's live settings (topic, destination,
//! secret) and its delivery queue, plus the per-topic delivery counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::connection::Target;
use super::engine::{Job, Lanes};
use super::policy::RateLimiter;
use super::secret::Secret;
use super::signing::{self, Signer};
use crate::events::DeliveryCounts;

/// A webhook's settings at one moment. Replaced whole on update or rotation, so a delivery
/// uses one consistent (destination, secret) pair: the one current when its attempt starts.
pub(crate) struct HookSettings {
    pub topic: Arc<str>,
    /// The destination exactly as given (what `ListWebhooks` and the journal show).
    pub destination: Arc<str>,
    /// The destination parsed (validation, sink matching).
    pub url: url::Url,
    /// Where deliveries go, worked out once (not per delivery); `Err` holds why the URL cannot
    /// be sent to.
    pub target: Result<Target, String>,
    pub secret: Secret,
    /// HMAC state keyed with `secret`, cloned per signature.
    pub signer: Signer,
}

impl HookSettings {
    pub fn new(topic: Arc<str>, destination: String, url: url::Url, secret: Secret) -> Self {
        let signer = signing::signer(secret.expose());
        let target = Target::new(url.as_str());
        Self {
            topic,
            destination: Arc::from(destination),
            target,
            url,
            secret,
            signer,
        }
    }
}

impl std::fmt::Debug for HookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookSettings")
            .field("topic", &self.topic)
            .field("destination", &self.destination)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// One registered webhook: identity, live settings, queue, limits.
pub(crate) struct Hook {
    pub cache: Arc<str>,
    pub name: Arc<str>,
    settings: RwLock<Arc<HookSettings>>,
    /// The bounded queue its lanes drain.
    pub queue: mpsc::Sender<Job>,
    /// Cancelled when the webhook (or its cache) is deleted.
    pub deleted: CancellationToken,
    pub limiter: Mutex<RateLimiter>,
    /// The other end of `queue` and the tasks delivering from it (`webhook_concurrency`).
    pub lanes: Lanes,
    /// One attempt this webhook may always make, outside `max_inflight_deliveries`.
    pub reserved: Semaphore,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("cache", &self.cache)
            .field("name", &self.name)
            .field("settings", &self.settings())
            .finish_non_exhaustive()
    }
}

impl Hook {
    pub fn new(
        cache: Arc<str>,
        name: Arc<str>,
        settings: HookSettings,
        (queue, receiver): (mpsc::Sender<Job>, mpsc::Receiver<Job>),
        per_second: u32,
        concurrency: usize,
    ) -> Self {
        Self {
            cache,
            name,
            settings: RwLock::new(Arc::new(settings)),
            queue,
            deleted: CancellationToken::new(),
            limiter: Mutex::new(RateLimiter::new(per_second)),
            lanes: Lanes::new(receiver, concurrency),
            reserved: Semaphore::new(1),
        }
    }

    /// Deliveries waiting in the queue.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<HookSettings> {
        self.settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set_settings(&self, settings: HookSettings) {
        *self
            .settings
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(settings);
    }

    /// Takes a rate-limit token.
    pub fn admit(&self) -> bool {
        self.limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .try_acquire()
    }
}

/// Delivery counters of one (cache, topic).
#[derive(Debug, Default)]
pub(crate) struct TopicCounters {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

impl TopicCounters {
    pub fn add_ok(&self) {
        self.ok.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// The webhooks of one (cache, topic), and its counters (kept while the cache exists).
#[derive(Debug)]
pub(crate) struct TopicEntry {
    pub topic: Arc<str>,
    pub hooks: Vec<Arc<Hook>>,
    pub counters: Arc<TopicCounters>,
}

/// Both views of every webhook. Callers hold it behind one `RwLock`.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    /// cache → webhook name → webhook (names sorted, for `ListWebhooks`).
    by_cache: HashMap<String, BTreeMap<String, Arc<Hook>>>,
    /// cache → topic → webhooks of that topic (the publish path).
    by_topic: HashMap<String, HashMap<String, TopicEntry>>,
}

impl Registry {
    pub fn get(&self, cache: &str, name: &str) -> Option<&Arc<Hook>> {
        self.by_cache.get(cache)?.get(name)
    }

    /// Webhooks of a cache, sorted by name.
    pub fn hooks_of(&self, cache: &str) -> impl Iterator<Item = &Arc<Hook>> {
        self.by_cache
            .get(cache)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Every webhook.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Hook>> {
        self.by_cache.values().flat_map(|m| m.values())
    }

    pub fn count(&self, cache: &str) -> usize {
        self.by_cache.get(cache).map_or(0, BTreeMap::len)
    }

    /// The entry the publish path looks at.
    pub fn topic(&self, cache: &str, topic: &str) -> Option<&TopicEntry> {
        self.by_topic.get(cache)?.get(topic)
    }

    fn topic_entry(&mut self, cache: &str, topic: &Arc<str>) -> &mut TopicEntry {
        self.by_topic
            .entry(cache.to_owned())
            .or_default()
            .entry(topic.to_string())
            .or_insert_with(|| TopicEntry {
                topic: topic.clone(),
                hooks: Vec::new(),
                counters: Arc::default(),
            })
    }

    fn unindex(&mut self, hook: &Arc<Hook>, topic: &str) {
        if let Some(entry) = self
            .by_topic
            .get_mut(&*hook.cache)
            .and_then(|t| t.get_mut(topic))
        {
            entry.hooks.retain(|h| !Arc::ptr_eq(h, hook));
        }
    }

    /// Adds a new webhook.
    pub fn insert(&mut self, hook: Arc<Hook>) {
        let topic = hook.settings().topic.clone();
        self.topic_entry(&hook.cache, &topic)
            .hooks
            .push(hook.clone());
        self.by_cache
            .entry(hook.cache.to_string())
            .or_default()
            .insert(hook.name.to_string(), hook);
    }

    /// Replaces a webhook's settings, moving it to its new topic when that changed.
    pub fn update(&mut self, hook: &Arc<Hook>, settings: HookSettings) {
        let old_topic = hook.settings().topic.clone();
        let new_topic = settings.topic.clone();
        hook.set_settings(settings);
        if old_topic != new_topic {
            self.unindex(hook, &old_topic);
            self.topic_entry(&hook.cache, &new_topic)
                .hooks
                .push(hook.clone());
        }
    }

    /// Removes one webhook; the caller cancels it.
    pub fn remove(&mut self, cache: &str, name: &str) -> Option<Arc<Hook>> {
        let hooks = self.by_cache.get_mut(cache)?;
        let hook = hooks.remove(name)?;
        if hooks.is_empty() {
            self.by_cache.remove(cache);
        }
        let topic = hook.settings().topic.clone();
        self.unindex(&hook, &topic);
        Some(hook)
    }

    /// Removes every webhook and counter of a cache; the caller cancels the webhooks.
    pub fn remove_cache(&mut self, cache: &str) -> Vec<Arc<Hook>> {
        self.by_topic.remove(cache);
        self.by_cache
            .remove(cache)
            .map(|hooks| hooks.into_values().collect())
            .unwrap_or_default()
    }

    /// Counters of one topic.
    pub fn counts(&self, cache: &str, topic: &str) -> DeliveryCounts {
        match self.topic(cache, topic) {
            Some(entry) => DeliveryCounts {
                webhooks: u32::try_from(entry.hooks.len()).unwrap_or(u32::MAX),
                ok: entry.counters.ok.load(Ordering::Relaxed),
                failed: entry.counters.failed.load(Ordering::Relaxed),
                dropped: entry.counters.dropped.load(Ordering::Relaxed),
            },
            None => DeliveryCounts::default(),
        }
    }
}
