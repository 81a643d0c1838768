//! Configuration of one mock server: [`Config`], its defaults (the CLI's defaults) and its checks.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::Error;

/// Default listen address: where every Momento SDK's local mode looks (`127.0.0.1:8080`).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// Default number of caches per `ListCaches` page.
pub const DEFAULT_LIST_CACHES_PAGE_SIZE: usize = 100;
/// Default bound on one decoded or encoded gRPC message (4 MiB, gRPC's customary limit).
pub const DEFAULT_GRPC_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default time that shutdown waits for open connections before closing them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Momento's hard limit on one published message (4 KiB).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024;
/// Momento's hard limit on one webhook delivery (5 s).
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Momento's delivery semantics: one attempt.
pub const DEFAULT_DELIVERY_ATTEMPTS: u32 = 1;
/// Soft limit on webhooks per cache (Momento's is 5; the mock is generous by default).
pub const DEFAULT_MAX_WEBHOOKS_PER_CACHE: usize = 100;
/// Soft limit on deliveries per second per webhook (Momento's is 5; generous by default).
pub const DEFAULT_MAX_DELIVERIES_PER_SECOND: u32 = 100_000;
/// Deliveries waiting per webhook before new ones are dropped (recorded as `dropped`).
pub const DEFAULT_WEBHOOK_QUEUE_CAPACITY: usize = 4096;
/// Deliveries in flight at once per webhook.
pub const DEFAULT_WEBHOOK_CONCURRENCY: usize = 64;
/// Deliveries in flight at once across all webhooks.
pub const DEFAULT_MAX_INFLIGHT_DELIVERIES: usize = 1024;
/// Entries kept in the delivery journal (oldest evicted first).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;
/// Messages kept per topic for resume and replay.
pub const DEFAULT_TOPIC_LOG_CAPACITY: usize = 1024;
/// Subscriptions per topic (Momento's default is 100; generous by default).
pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_TOPIC: usize = 10_000;
/// Time between heartbeats on subscription streams (the first is sent at once).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// Everything one mock server needs to start. `Config::default()` equals the CLI's defaults.
///
/// `Debug` never prints the auth token.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind; port 0 picks a free port (see [`crate::RunningMock::addr`]).
    pub listen: SocketAddr,
    /// Caches per `ListCaches` page (at least 1).
    pub list_caches_page_size: usize,
    /// When set, every gRPC call must carry metadata `authorization: <token>` exactly.
    /// When `None`, any token (including none or the empty string) is accepted.
    pub auth_token: Option<String>,
    /// Largest gRPC message the server decodes or encodes, in bytes.
    pub grpc_max_message_bytes: usize,
    /// How long [`crate::RunningMock::shutdown`] lets open connections finish (and in-flight
    /// webhook deliveries drain) before dropping them.
    pub shutdown_grace: Duration,
    /// Publish, subscribe and webhook creation on undeclared topics fail with `NOT_FOUND`.
    pub strict_topics: bool,
    /// Serve the topic extension (`momento_mock.topics.v1.Topics`). Off, the mock behaves like
    /// real Momento, where topics are implicit and the extension's RPCs answer `UNIMPLEMENTED`.
    pub topic_extension: bool,
    /// Largest published message, in bytes (hard limit, Momento: 4 KiB).
    pub max_message_bytes: usize,
    /// Time allowed for one webhook POST (hard limit, Momento: 5 s).
    pub delivery_timeout: Duration,
    /// Attempts per delivery; more than 1 enables exponential backoff with jitter and honours
    /// `Retry-After`.
    pub delivery_attempts: u32,
    /// Soft limit: webhooks per cache.
    pub max_webhooks_per_cache: usize,
    /// Soft limit: deliveries per second per webhook; excess deliveries are dropped and journaled.
    pub max_deliveries_per_second: u32,
    /// Bound of each webhook's delivery queue.
    pub webhook_queue_capacity: usize,
    /// Deliveries in flight per webhook.
    pub webhook_concurrency: usize,
    /// Deliveries in flight across all webhooks, beyond the one each webhook may always have.
    pub max_inflight_deliveries: usize,
    /// Entries kept in the delivery journal.
    pub journal_capacity: usize,
    /// Messages kept per topic for replay.
    pub topic_log_capacity: usize,
    /// Subscriptions per topic.
    pub max_subscriptions_per_topic: usize,
    /// Time between subscription heartbeats.
    pub heartbeat_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            list_caches_page_size: DEFAULT_LIST_CACHES_PAGE_SIZE,
            auth_token: None,
            grpc_max_message_bytes: DEFAULT_GRPC_MAX_MESSAGE_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            strict_topics: false,
            topic_extension: true,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            delivery_timeout: DEFAULT_DELIVERY_TIMEOUT,
            delivery_attempts: DEFAULT_DELIVERY_ATTEMPTS,
            max_webhooks_per_cache: DEFAULT_MAX_WEBHOOKS_PER_CACHE,
            max_deliveries_per_second: DEFAULT_MAX_DELIVERIES_PER_SECOND,
            webhook_queue_capacity: DEFAULT_WEBHOOK_QUEUE_CAPACITY,
            webhook_concurrency: DEFAULT_WEBHOOK_CONCURRENCY,
            max_inflight_deliveries: DEFAULT_MAX_INFLIGHT_DELIVERIES,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            topic_log_capacity: DEFAULT_TOPIC_LOG_CAPACITY,
            max_subscriptions_per_topic: DEFAULT_MAX_SUBSCRIPTIONS_PER_TOPIC,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
        }
    }
}

impl Config {
    /// The defaults, listening on `127.0.0.1:0` (a free port): what an in-process test wants.
    pub fn ephemeral() -> Self {
        Self {
            listen: SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            ..Self::default()
        }
    }

    /// Checks the values that the types alone do not rule out.
    pub fn validate(&self) -> Result<(), Error> {
        if self.list_caches_page_size == 0 {
            return Err(Error::InvalidConfig(
                "list_caches_page_size must be at least 1".to_owned(),
            ));
        }
        if self.grpc_max_message_bytes == 0 {
            return Err(Error::InvalidConfig(
                "grpc_max_message_bytes must be at least 1".to_owned(),
            ));
        }
        let positive = [
            ("max_message_bytes", self.max_message_bytes),
            ("delivery_attempts", self.delivery_attempts as usize),
            ("max_webhooks_per_cache", self.max_webhooks_per_cache),
            (
                "max_deliveries_per_second",
                self.max_deliveries_per_second as usize,
            ),
            ("webhook_queue_capacity", self.webhook_queue_capacity),
            ("webhook_concurrency", self.webhook_concurrency),
            ("max_inflight_deliveries", self.max_inflight_deliveries),
            ("journal_capacity", self.journal_capacity),
            ("topic_log_capacity", self.topic_log_capacity),
            (
                "max_subscriptions_per_topic",
                self.max_subscriptions_per_topic,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(Error::InvalidConfig(format!("{name} must be at least 1")));
        }
        if self.delivery_timeout.is_zero() || self.heartbeat_interval.is_zero() {
            return Err(Error::InvalidConfig(
                "delivery_timeout and heartbeat_interval must be longer than zero".to_owned(),
            ));
        }
        if self.strict_topics && !self.topic_extension {
            return Err(Error::InvalidConfig(
                "strict topics need the topic extension to declare topics; do not combine them"
                    .to_owned(),
            ));
        }
        if matches!(&self.auth_token, Some(t) if t.is_empty()) {
            return Err(Error::InvalidConfig(
                "the auth token must not be empty; leave it unset for open mode, which accepts any token"
                    .to_owned(),
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("list_caches_page_size", &self.list_caches_page_size)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("grpc_max_message_bytes", &self.grpc_max_message_bytes)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("strict_topics", &self.strict_topics)
            .field("topic_extension", &self.topic_extension)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("delivery_attempts", &self.delivery_attempts)
            .field("max_webhooks_per_cache", &self.max_webhooks_per_cache)
            .field("max_deliveries_per_second", &self.max_deliveries_per_second)
            .field("webhook_queue_capacity", &self.webhook_queue_capacity)
            .field("webhook_concurrency", &self.webhook_concurrency)
            .field("max_inflight_deliveries", &self.max_inflight_deliveries)
            .field("journal_capacity", &self.journal_capacity)
            .field("topic_log_capacity", &self.topic_log_capacity)
            .field(
                "max_subscriptions_per_topic",
                &self.max_subscriptions_per_topic,
            )
            .field("heartbeat_interval", &self.heartbeat_interval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_token() {
        let config = Config {
            auth_token: Some("s3cr3t-token".to_owned()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cr3t-token"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn validate_rejects_bad_values() {
        assert!(Config::default().validate().is_ok());
        let zero_page = Config {
            list_caches_page_size: 0,
            ..Config::default()
        };
        assert!(zero_page.validate().is_err());
        let empty_token = Config {
            auth_token: Some(String::new()),
            ..Config::default()
        };
        assert!(empty_token.validate().is_err());
    }
}
