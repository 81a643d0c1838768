//! One cache: its identity and limits. Later it also owns the cache's topics and webhooks.

use std::time::SystemTime;

/// Per-cache data-plane limits, reported by `ListCaches` (Momento's documented defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Requests per second.
    pub max_traffic_rate: u32,
    /// Throughput in KiB per second.
    pub max_throughput_kbps: u32,
    /// Largest item in KiB.
    pub max_item_size_kb: u32,
    /// Longest TTL in seconds.
    pub max_ttl_seconds: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_traffic_rate: 100,
            max_throughput_kbps: 1024,
            max_item_size_kb: 5 * 1024,
            max_ttl_seconds: 24 * 60 * 60,
        }
    }
}

/// Per-cache topic limits, reported by `ListCaches` (Momento's documented defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicLimits {
    /// Publishes per second.
    pub max_publish_rate: u32,
    /// Concurrent subscriptions.
    pub max_subscription_count: u32,
    /// Largest published message in KiB.
    pub max_publish_message_size_kb: u32,
}

impl Default for TopicLimits {
    fn default() -> Self {
        Self {
            max_publish_rate: 10,
            max_subscription_count: 100,
            max_publish_message_size_kb: 4,
        }
    }
}

/// A cache held by the mock.
#[derive(Debug, Clone)]
pub struct Cache {
    name: String,
    id: String,
    created_at: SystemTime,
    limits: CacheLimits,
    topic_limits: TopicLimits,
    /// Topics declared through the topic extension (Momento itself has no topic objects).
    pub(crate) declared_topics: std::collections::BTreeSet<String>,
}

impl Cache {
    pub(crate) fn new(name: String, id: String) -> Self {
        Self {
            name,
            id,
            created_at: SystemTime::now(),
            limits: CacheLimits::default(),
            topic_limits: TopicLimits::default(),
            declared_topics: Default::default(),
        }
    }

    /// The cache's name (validated, unique within the mock).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A UUID-shaped id, unique for the life of the server (never reused, even after a reset).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When the cache was created.
    pub fn created_at(&self) -> SystemTime {
        self.created_at
    }

    /// Data-plane limits.
    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// Topic limits.
    pub fn topic_limits(&self) -> TopicLimits {
        self.topic_limits
    }

    /// Drops the cache's items. The mock stores no items yet; topics and webhooks are not items
    /// and survive a flush, as in Momento.
    pub(crate) fn flush(&mut self) {}
}

/// A point-in-time copy of what `ListCaches` reports about one cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSummary {
    pub name: String,
    pub id: String,
    pub limits: CacheLimits,
    pub topic_limits: TopicLimits,
}

impl From<&Cache> for CacheSummary {
    fn from(cache: &Cache) -> Self {
        Self {
            name: cache.name.clone(),
            id: cache.id.clone(),
            limits: cache.limits,
            topic_limits: cache.topic_limits,
        }
    }
}
