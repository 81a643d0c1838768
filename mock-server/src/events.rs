//! The contract between the pub/sub data plane and the webhook fan-out: what an accepted message
//! looks like, and what the data plane asks of the fan-out ([`Deliveries`]).
use std::sync::Arc;

/// A message value: text or bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicValue {
    Text(String),
    Binary(Vec<u8>),
}

impl TopicValue {
    /// Size in bytes (what the payload limit counts).
    pub fn len(&self) -> usize {
        match self {
            TopicValue::Text(t) => t.len(),
            TopicValue::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A message accepted by `Publish` (gRPC or HTTP), numbered in its topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedMessage {
    pub cache: String,
    pub topic: String,
    /// Per topic, from 1, one more per message.
    pub topic_sequence_number: u64,
    pub sequence_page: u64,
    pub value: TopicValue,
    /// The publisher's token id, or "" when there is none (open mode).
    pub publisher_id: String,
    /// When the mock accepted the message, in milliseconds since the Unix epoch.
    pub publish_timestamp_ms: u64,
}

/// Per-topic webhook counters for topic stats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub webhooks: u32,
    pub ok: u64,
    pub failed: u64,
    pub dropped: u64,
}

/// What the data plane needs from the webhook fan-out.
pub trait Deliveries: Send + Sync + 'static {
    /// Called once per accepted message. Must not block or wait for any delivery: it only
    /// enqueues (or journals a drop).
    fn published(&self, message: &Arc<PublishedMessage>);
    /// Webhook counters of one topic.
    fn counts(&self, cache: &str, topic: &str) -> DeliveryCounts;
}

/// No webhooks at all (used before the fan-out is wired in, and in data-plane unit tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDeliveries;

impl Deliveries for NoDeliveries {
    fn published(&self, _message: &Arc<PublishedMessage>) {}

    fn counts(&self, _cache: &str, _topic: &str) -> DeliveryCounts {
        DeliveryCounts::default()
    }
}
