//! The pub/sub data plane: [`TopicHub`] owns every topic of every cache — a bounded message log
//! per topic, per-topic sequence numbers within a sequence page, live subscribers, counters — and
//! the topic extension's operations (declare, inspect, list, delete). The gRPC `Pubsub` and
//! `Topics` services and the HTTP topics API are thin front ends over it; tests and the harness
//! can publish and subscribe in-process through it (see [`crate::RunningMock::topics`]).
//!
//! Semantics, in Momento's terms:
//! - Sequence numbers count from 1 per topic; a topic's `sequence_page` is taken from the clock in
//!   milliseconds (never smaller than the previous page + 1), so a topic deleted through the
//!   extension and used again — or one in a re-created cache — gets a new, larger page.
//! - `resume_at_topic_sequence_number` is the first number the subscriber wants (SDKs send the
//!   last number they saw + 1); see [`topic::plan_resume`] for replay and discontinuities.
//! - Every accepted message is handed to [`Deliveries::published`] after it is logged and
//!   broadcast, outside any lock and without waiting. Across concurrent publishers of one topic
//!   the fan-out may see messages out of order (Momento does not order webhook deliveries either).

mod error;
mod publisher;
mod subscription;
mod topic;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

pub use error::PubSubError;
pub use publisher::publisher_id_from_token;
pub use subscription::{Subscription, SubscriptionEvent};
pub use topic::{Discontinuity, SubscriptionEnd, TopicCounters};

use crate::config::Config;
use crate::events::{Deliveries, DeliveryCounts, PublishedMessage, TopicValue};
use crate::names::validate_cache_name;
use crate::state::SharedState;
use subscription::Opening;
use topic::{plan_resume, Topic};

/// Messages buffered per live subscriber before it is skipped ahead with a discontinuity.
pub const DEFAULT_SUBSCRIBER_BUFFER: usize = 256;

/// The hub's limits and switches (from [`Config`], see [`HubSettings::from_config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// Publish and subscribe only on declared topics.
    pub strict_topics: bool,
    /// Largest published value, in bytes.
    pub max_message_bytes: usize,
    /// Messages kept per topic for replay.
    pub topic_log_capacity: usize,
    /// Subscriptions per topic.
    pub max_subscriptions_per_topic: usize,
    /// Time between heartbeats (the first is sent at once).
    pub heartbeat_interval: Duration,
    /// Messages buffered per subscriber (see [`DEFAULT_SUBSCRIBER_BUFFER`]).
    pub subscriber_buffer: usize,
}

impl HubSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            strict_topics: config.strict_topics,
            max_message_bytes: config.max_message_bytes,
            topic_log_capacity: config.topic_log_capacity,
            max_subscriptions_per_topic: config.max_subscriptions_per_topic,
            heartbeat_interval: config.heartbeat_interval,
            subscriber_buffer: DEFAULT_SUBSCRIBER_BUFFER,
        }
    }
}

impl Default for HubSettings {
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}

/// Everything known about one topic, for the topic extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub cache: String,
    pub topic: String,
    /// Declared through the extension (else it exists only because it was used).
    pub declared: bool,
    pub counters: TopicCounters,
    /// Webhook counters, from the fan-out.
    pub deliveries: DeliveryCounts,
}

type CacheTopics = BTreeMap<String, Arc<Topic>>;

struct HubInner {
    state: SharedState,
    deliveries: Arc<dyn Deliveries>,
    settings: HubSettings,
    /// cache → topic → the topic's current instance. Topics in use or declared.
    topics: Mutex<BTreeMap<String, CacheTopics>>,
    last_page: AtomicU64,
    shutdown: CancellationToken,
}

/// Cheaply clonable handle on the pub/sub data plane of one mock server.
#[derive(Clone)]
pub struct TopicHub {
    inner: Arc<HubInner>,
}

impl std::fmt::Debug for TopicHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicHub")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl TopicHub {
    /// A hub over `state`: it drops a cache's topics (ending their subscriptions) when the cache
    /// is removed, hands every accepted message to `deliveries`, and ends every subscription
    /// when `shutdown` is cancelled.
    pub fn new(
        settings: HubSettings,
        state: SharedState,
        deliveries: Arc<dyn Deliveries>,
        shutdown: CancellationToken,
    ) -> Self {
        let inner = Arc::new(HubInner {
            state: state.clone(),
            deliveries,
            settings,
            topics: Mutex::new(BTreeMap::new()),
            last_page: AtomicU64::new(0),
            shutdown,
        });
        // Weak: the state outlives nothing here, and a strong reference would be a cycle.
        let weak: Weak<HubInner> = Arc::downgrade(&inner);
        state.on_cache_removed(Arc::new(move |cache| {
            if let Some(inner) = weak.upgrade() {
                TopicHub { inner }.drop_cache(cache);
            }
        }));
        Self { inner }
    }

    /// [`TopicHub::new`] with the settings of `config`.
    pub fn from_config(
        config: &Config,
        state: SharedState,
        deliveries: Arc<dyn Deliveries>,
        shutdown: CancellationToken,
    ) -> Self {
        Self::new(
            HubSettings::from_config(config),
            state,
            deliveries,
            shutdown,
        )
    }

    pub fn settings(&self) -> &HubSettings {
        &self.inner.settings
    }

    pub fn state(&self) -> &SharedState {
        &self.inner.state
    }

    /// Publishes `value` as `publisher_id` (the token id, `""` for none; see
    /// [`publisher_id_from_token`]). Errors: invalid cache name, empty topic, value too large,
    /// no such cache, undeclared topic in strict mode.
    pub fn publish(
        &self,
        cache: &str,
        topic: &str,
        value: TopicValue,
        publisher_id: &str,
    ) -> Result<Arc<PublishedMessage>, PubSubError> {
        validate_names(cache, topic)?;
        let limit = self.inner.settings.max_message_bytes;
        if value.len() > limit {
            return Err(PubSubError::MessageTooLarge {
                size: value.len(),
                exact: true,
                limit,
            });
        }
        let instance = self.topic_for_use(cache, topic)?;
        let message = instance
            .append(value, publisher_id.to_owned(), now_ms())
            .ok_or_else(|| PubSubError::CacheNotFound(cache.to_owned()))?;
        tracing::debug!(
            cache,
            topic,
            seq = message.topic_sequence_number,
            bytes = message.value.len(),
            "published"
        );
        self.inner.deliveries.published(&message);
        Ok(message)
    }

    /// Subscribes. `resume_at` is the first sequence number wanted (0: from now) within
    /// `sequence_page` (0: the current page). Errors: invalid names, no such cache, undeclared
    /// topic in strict mode, too many subscriptions.
    pub fn subscribe(
        &self,
        cache: &str,
        topic: &str,
        resume_at: u64,
        sequence_page: u64,
    ) -> Result<Subscription, PubSubError> {
        validate_names(cache, topic)?;
        let settings = &self.inner.settings;
        // A topic deleted between lookup and lock is replaced by a new instance: look again.
        for _ in 0..8 {
            let instance = self.topic_for_use(cache, topic)?;
            let opening = {
                let mut st = instance.lock();
                match st.end {
                    Some(SubscriptionEnd::TopicDeleted) => continue,
                    Some(_) => return Err(PubSubError::CacheNotFound(cache.to_owned())),
                    None => {}
                }
                if st.subscribers >= settings.max_subscriptions_per_topic {
                    return Err(PubSubError::TooManySubscriptions {
                        cache: cache.to_owned(),
                        topic: topic.to_owned(),
                        limit: settings.max_subscriptions_per_topic,
                    });
                }
                let oldest = st.log.front().map(|m| m.topic_sequence_number);
                let plan = plan_resume(resume_at, sequence_page, st.page, st.last_seq, oldest);
                let replay = match plan.replay_from {
                    Some(from) => st
                        .log
                        .iter()
                        .filter(|m| m.topic_sequence_number >= from)
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                };
                st.subscribers += 1;
                Opening {
                    rx: instance.sender.subscribe(),
                    plan,
                    replay,
                    last: st.last_seq,
                    page: st.page,
                }
            };
            tracing::debug!(cache, topic, resume_at, sequence_page, "subscribed");
            return Ok(Subscription::new(
                instance,
                opening,
                settings.heartbeat_interval,
                self.inner.shutdown.clone(),
            ));
        }
        Err(PubSubError::TopicNotFound {
            cache: cache.to_owned(),
            topic: topic.to_owned(),
        })
    }

    /// Makes the topic exist as "used" (as publish and subscribe do), under the same rules: the
    /// cache must exist, and in strict mode the topic must be declared. For the webhook service,
    /// whose webhooks name topics.
    pub fn ensure_topic(&self, cache: &str, topic: &str) -> Result<(), PubSubError> {
        validate_names(cache, topic)?;
        self.topic_for_use(cache, topic).map(|_| ())
    }

    /// The messages a topic still holds for replay, oldest first (empty for an unknown topic).
    pub fn retained_messages(&self, cache: &str, topic: &str) -> Vec<Arc<PublishedMessage>> {
        self.existing(cache, topic)
            .map(|t| t.retained())
            .unwrap_or_default()
    }

    /// The counters of a topic in use or declared (`None` otherwise).
    pub fn counters(&self, cache: &str, topic: &str) -> Option<TopicCounters> {
        self.existing(cache, topic).map(|t| t.counters())
    }

    /// Declares a topic (`Topics.CreateTopic`). Errors: invalid names, no such cache, declared
    /// already.
    pub fn declare_topic(&self, cache: &str, topic: &str) -> Result<TopicInfo, PubSubError> {
        validate_names(cache, topic)?;
        if !self.inner.state.declare_topic(cache, topic)? {
            return Err(PubSubError::TopicAlreadyDeclared {
                cache: cache.to_owned(),
                topic: topic.to_owned(),
            });
        }
        let instance = self.instance(cache, topic)?;
        tracing::debug!(cache, topic, "topic declared");
        Ok(self.info(&instance, true))
    }

    /// A declared or used topic (`Topics.GetTopic`). Errors: invalid names, no such cache, no
    /// such topic.
    pub fn topic_info(&self, cache: &str, topic: &str) -> Result<TopicInfo, PubSubError> {
        validate_names(cache, topic)?;
        let declared = self.inner.state.is_topic_declared(cache, topic);
        let instance = match self.existing(cache, topic) {
            Some(instance) => instance,
            // Declared directly in the state (e.g. by a test): give it its page now.
            None if declared => self.instance(cache, topic)?,
            None if !self.inner.state.has_cache(cache) => {
                return Err(PubSubError::CacheNotFound(cache.to_owned()))
            }
            None => {
                return Err(PubSubError::TopicNotFound {
                    cache: cache.to_owned(),
                    topic: topic.to_owned(),
                })
            }
        };
        Ok(self.info(&instance, declared))
    }

    /// The declared topics of a cache, plus the used ones with `include_undeclared`, by name.
    pub fn list_topics(
        &self,
        cache: &str,
        include_undeclared: bool,
    ) -> Result<Vec<TopicInfo>, PubSubError> {
        let declared: BTreeSet<String> = self
            .inner
            .state
            .declared_topics(cache)?
            .into_iter()
            .collect();
        let mut names = declared.clone();
        if include_undeclared {
            if let Some(used) = self.lock_topics().get(cache) {
                names.extend(used.keys().cloned());
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let is_declared = declared.contains(&name);
            let instance = match self.existing(cache, &name) {
                Some(instance) => instance,
                None if is_declared => self.instance(cache, &name)?,
                None => continue, // deleted meanwhile
            };
            out.push(self.info(&instance, is_declared));
        }
        Ok(out)
    }

    /// Undeclares a topic and drops its log and counters (`Topics.DeleteTopic`); its
    /// subscriptions end (gRPC: `UNAVAILABLE`, so SDKs resubscribe and learn the new page).
    /// Errors: invalid names, no such cache, not declared.
    pub fn delete_topic(&self, cache: &str, topic: &str) -> Result<(), PubSubError> {
        validate_names(cache, topic)?;
        if !self.inner.state.undeclare_topic(cache, topic)? {
            return Err(PubSubError::TopicNotDeclaredForDelete {
                cache: cache.to_owned(),
                topic: topic.to_owned(),
            });
        }
        let removed = {
            let mut topics = self.lock_topics();
            let removed = topics.get_mut(cache).and_then(|t| t.remove(topic));
            if topics.get(cache).is_some_and(BTreeMap::is_empty) {
                topics.remove(cache);
            }
            removed
        };
        if let Some(instance) = removed {
            instance.close(SubscriptionEnd::TopicDeleted);
        }
        tracing::debug!(cache, topic, "topic deleted");
        Ok(())
    }

    /// Forgets a removed cache's topics and ends their subscriptions (the state's
    /// `on_cache_removed` hook).
    fn drop_cache(&self, cache: &str) {
        let removed = self.lock_topics().remove(cache);
        for instance in removed.into_iter().flat_map(BTreeMap::into_values) {
            instance.close(SubscriptionEnd::CacheDeleted);
        }
    }

    fn lock_topics(&self) -> MutexGuard<'_, BTreeMap<String, CacheTopics>> {
        // Critical sections are single map operations: a poisoned lock is still consistent.
        self.inner
            .topics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn existing(&self, cache: &str, topic: &str) -> Option<Arc<Topic>> {
        self.lock_topics()
            .get(cache)
            .and_then(|t| t.get(topic))
            .cloned()
    }

    /// The topic for publish/subscribe: applies the cache and strict-mode rules.
    fn topic_for_use(&self, cache: &str, topic: &str) -> Result<Arc<Topic>, PubSubError> {
        if self.inner.settings.strict_topics && !self.inner.state.is_topic_declared(cache, topic) {
            if !self.inner.state.has_cache(cache) {
                return Err(PubSubError::CacheNotFound(cache.to_owned()));
            }
            return Err(PubSubError::TopicNotDeclared {
                cache: cache.to_owned(),
                topic: topic.to_owned(),
            });
        }
        self.instance(cache, topic)
    }

    /// The topic's current instance, created (with a new page) when missing. The cache is
    /// checked under the topics lock, so a cache removed concurrently never keeps a topic: either
    /// this sees it gone, or the removal hook (which takes the same lock) drops the new instance.
    fn instance(&self, cache: &str, topic: &str) -> Result<Arc<Topic>, PubSubError> {
        let mut topics = self.lock_topics();
        if let Some(instance) = topics.get(cache).and_then(|t| t.get(topic)) {
            return Ok(Arc::clone(instance));
        }
        if !self.inner.state.has_cache(cache) {
            return Err(PubSubError::CacheNotFound(cache.to_owned()));
        }
        let settings = &self.inner.settings;
        let instance = Arc::new(Topic::new(
            cache,
            topic,
            self.next_page(),
            settings.topic_log_capacity,
            settings.subscriber_buffer,
        ));
        topics
            .entry(cache.to_owned())
            .or_default()
            .insert(topic.to_owned(), Arc::clone(&instance));
        Ok(instance)
    }

    fn info(&self, instance: &Topic, declared: bool) -> TopicInfo {
        TopicInfo {
            cache: instance.cache.clone(),
            topic: instance.name.clone(),
            declared,
            counters: instance.counters(),
            deliveries: self
                .inner
                .deliveries
                .counts(&instance.cache, &instance.name),
        }
    }

    /// A page larger than every page before it: the clock in milliseconds, or previous + 1.
    fn next_page(&self) -> u64 {
        let now = now_ms().max(1);
        let mut last = self.inner.last_page.load(Ordering::Relaxed);
        loop {
            let page = now.max(last.saturating_add(1));
            match self.inner.last_page.compare_exchange_weak(
                last,
                page,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return page,
                Err(actual) => last = actual,
            }
        }
    }
}

fn validate_names(cache: &str, topic: &str) -> Result<(), PubSubError> {
    validate_cache_name(cache)?;
    if topic.is_empty() {
        return Err(PubSubError::EmptyTopicName);
    }
    Ok(())
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Arc<PublishedMessage>>>);

    impl Deliveries for Recorder {
        fn published(&self, message: &Arc<PublishedMessage>) {
            self.0.lock().unwrap().push(Arc::clone(message));
        }
        fn counts(&self, _cache: &str, _topic: &str) -> DeliveryCounts {
            DeliveryCounts {
                webhooks: 1,
                ok: 2,
                failed: 3,
                dropped: 4,
            }
        }
    }

    fn hub_with(settings: HubSettings) -> (TopicHub, Arc<Recorder>, CancellationToken) {
        let state = SharedState::new();
        state.create_cache("c").unwrap();
        let recorder = Arc::new(Recorder::default());
        let shutdown = CancellationToken::new();
        let hub = TopicHub::new(settings, state, recorder.clone(), shutdown.clone());
        (hub, recorder, shutdown)
    }

    fn hub() -> (TopicHub, Arc<Recorder>, CancellationToken) {
        hub_with(HubSettings::default())
    }

    fn text(s: &str) -> TopicValue {
        TopicValue::Text(s.to_owned())
    }

    async fn next(sub: &mut Subscription) -> SubscriptionEvent {
        tokio::time::timeout(Duration::from_secs(30), sub.next())
            .await
            .expect("an event in time")
            .expect("subscription still open")
    }

    fn seq(event: &SubscriptionEvent) -> u64 {
        match event {
            SubscriptionEvent::Item(m) => m.topic_sequence_number,
            other => panic!("expected an item, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn heartbeat_first_then_items_in_order_and_deliveries_after_logging() {
        let (hub, recorder, _) = hub();
        let mut sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(next(&mut sub).await, SubscriptionEvent::Heartbeat);
        for v in ["a", "b", "c"] {
            hub.publish("c", "t", text(v), "pub").unwrap();
        }
        let page = sub.sequence_page();
        for want in 1..=3 {
            let event = next(&mut sub).await;
            assert_eq!(seq(&event), want);
            let SubscriptionEvent::Item(m) = event else {
                unreachable!()
            };
            assert_eq!((m.sequence_page, m.publisher_id.as_str()), (page, "pub"));
        }
        let delivered = recorder.0.lock().unwrap().clone();
        assert_eq!(delivered.len(), 3);
        assert_eq!(delivered[2].topic_sequence_number, 3);
        let info = hub.topic_info("c", "t").unwrap();
        assert_eq!(info.counters.messages_published, 3);
        assert_eq!(info.counters.subscribers, 1);
        assert_eq!(info.deliveries.dropped, 4);
        assert!(!info.declared);
        drop(sub);
        assert_eq!(hub.counters("c", "t").unwrap().subscribers, 0);
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_skipped_to_the_newest() {
        let (hub, _, _) = hub_with(HubSettings {
            subscriber_buffer: 2,
            ..HubSettings::default()
        });
        let mut sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(next(&mut sub).await, SubscriptionEvent::Heartbeat);
        for i in 0..5 {
            hub.publish("c", "t", text(&i.to_string()), "").unwrap();
        }
        let page = sub.sequence_page();
        assert_eq!(
            next(&mut sub).await,
            SubscriptionEvent::Discontinuity(Discontinuity {
                last_topic_sequence: 0,
                new_topic_sequence: 5,
                new_sequence_page: page,
            })
        );
        hub.publish("c", "t", text("6"), "").unwrap();
        assert_eq!(seq(&next(&mut sub).await), 6);
        // Nothing else is pending.
        assert!(sub.try_next().is_none());
    }

    #[tokio::test]
    async fn resume_replays_or_reports_a_discontinuity() {
        let (hub, _, _) = hub_with(HubSettings {
            topic_log_capacity: 2,
            ..HubSettings::default()
        });
        for i in 1..=3 {
            hub.publish("c", "t", text(&i.to_string()), "").unwrap();
        }
        let page = hub.counters("c", "t").unwrap().sequence_page;
        let mut sub = hub.subscribe("c", "t", 2, page).unwrap();
        assert_eq!(sub.try_next(), Some(SubscriptionEvent::Heartbeat));
        assert_eq!(seq(&sub.try_next().unwrap()), 2);
        assert_eq!(seq(&sub.try_next().unwrap()), 3);
        assert_eq!(sub.try_next(), None);

        let mut sub = hub.subscribe("c", "t", 1, page).unwrap();
        assert_eq!(sub.try_next(), Some(SubscriptionEvent::Heartbeat));
        assert_eq!(
            sub.try_next(),
            Some(SubscriptionEvent::Discontinuity(Discontinuity {
                last_topic_sequence: 0,
                new_topic_sequence: 1,
                new_sequence_page: page,
            }))
        );
        assert_eq!(seq(&sub.try_next().unwrap()), 2);
    }

    #[tokio::test]
    async fn deleted_topics_come_back_with_a_larger_page() {
        let (hub, _, _) = hub();
        let first = hub.declare_topic("c", "t").unwrap();
        assert!(first.declared);
        assert_eq!(
            hub.declare_topic("c", "t"),
            Err(PubSubError::TopicAlreadyDeclared {
                cache: "c".into(),
                topic: "t".into()
            })
        );
        hub.publish("c", "t", text("x"), "").unwrap();
        let mut sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(next(&mut sub).await, SubscriptionEvent::Heartbeat);
        hub.delete_topic("c", "t").unwrap();
        assert_eq!(sub.next().await, Err(SubscriptionEnd::TopicDeleted));
        assert!(matches!(
            hub.topic_info("c", "t"),
            Err(PubSubError::TopicNotFound { .. })
        ));
        assert!(matches!(
            hub.delete_topic("c", "t"),
            Err(PubSubError::TopicNotDeclaredForDelete { .. })
        ));
        let again = hub.publish("c", "t", text("y"), "").unwrap();
        assert_eq!(again.topic_sequence_number, 1);
        assert!(again.sequence_page > first.counters.sequence_page);
    }

    #[tokio::test]
    async fn cache_removal_ends_subscriptions_and_drops_topics() {
        let (hub, _, _) = hub();
        hub.publish("c", "t", text("x"), "").unwrap();
        let mut sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(next(&mut sub).await, SubscriptionEvent::Heartbeat);
        hub.state().delete_cache("c").unwrap();
        assert_eq!(sub.next().await, Err(SubscriptionEnd::CacheDeleted));
        assert_eq!(sub.next().await, Err(SubscriptionEnd::CacheDeleted));
        assert!(hub.counters("c", "t").is_none());
        assert_eq!(
            hub.publish("c", "t", text("x"), "").unwrap_err(),
            PubSubError::CacheNotFound("c".into())
        );
    }

    #[tokio::test]
    async fn shutdown_ends_subscriptions() {
        let (hub, _, shutdown) = hub();
        let mut sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(next(&mut sub).await, SubscriptionEvent::Heartbeat);
        shutdown.cancel();
        assert_eq!(sub.next().await, Err(SubscriptionEnd::Shutdown));
    }

    #[tokio::test]
    async fn limits_and_strict_mode() {
        let (hub, _, _) = hub_with(HubSettings {
            strict_topics: true,
            max_message_bytes: 3,
            max_subscriptions_per_topic: 1,
            ..HubSettings::default()
        });
        assert!(matches!(
            hub.publish("c", "t", text("x"), ""),
            Err(PubSubError::TopicNotDeclared { .. })
        ));
        assert!(matches!(
            hub.subscribe("c", "t", 0, 0),
            Err(PubSubError::TopicNotDeclared { .. })
        ));
        assert_eq!(
            hub.publish("nope", "t", text("x"), "").unwrap_err(),
            PubSubError::CacheNotFound("nope".into())
        );
        hub.declare_topic("c", "t").unwrap();
        hub.publish("c", "t", text("abc"), "").unwrap();
        assert_eq!(
            hub.publish("c", "t", TopicValue::Binary(vec![0; 4]), ""),
            Err(PubSubError::MessageTooLarge {
                size: 4,
                exact: true,
                limit: 3
            })
        );
        let sub = hub.subscribe("c", "t", 0, 0).unwrap();
        assert!(matches!(
            hub.subscribe("c", "t", 0, 0),
            Err(PubSubError::TooManySubscriptions { limit: 1, .. })
        ));
        drop(sub);
        hub.subscribe("c", "t", 0, 0).unwrap();
        assert_eq!(
            hub.publish("c", "", text("x"), "").unwrap_err(),
            PubSubError::EmptyTopicName
        );
        assert!(matches!(
            hub.publish("a b", "t", text("x"), ""),
            Err(PubSubError::InvalidCacheName(_))
        ));
    }

    #[tokio::test]
    async fn listing_covers_declared_and_optionally_used_topics() {
        let (hub, _, _) = hub();
        hub.declare_topic("c", "b-declared").unwrap();
        hub.publish("c", "a-used", text("x"), "").unwrap();
        let names = |infos: Vec<TopicInfo>| -> Vec<(String, bool)> {
            infos.into_iter().map(|i| (i.topic, i.declared)).collect()
        };
        assert_eq!(
            names(hub.list_topics("c", false).unwrap()),
            [("b-declared".to_owned(), true)]
        );
        assert_eq!(
            names(hub.list_topics("c", true).unwrap()),
            [
                ("a-used".to_owned(), false),
                ("b-declared".to_owned(), true)
            ]
        );
        assert!(matches!(
            hub.list_topics("nope", true),
            Err(PubSubError::CacheNotFound(_))
        ));
    }

    #[test]
    fn pages_only_grow() {
        let (hub, _, _) = hub();
        let mut last = 0;
        for _ in 0..100 {
            let page = hub.next_page();
            assert!(page > last);
            last = page;
        }
    }
}
