//! Webhooks: the registry behind `webhook.Webhook` (with secrets), the signed-POST fan-out engine
//! behind [`crate::events::Deliveries`], the delivery journal and the built-in receiver (sink).
//! [`Webhooks`] is the one handle on all of it.
//!
//! Files: `registry` (webhooks by cache/name and by topic, counters), `secret` (secret format),
//! `signing` (body and signature), `policy` (retries, rate limit), `engine` (queues, lanes,
//! attempts), `connection` (the lanes' HTTP/1.1 connections), `journal` (delivery records and
//! waits), `sink` (received requests).

mod connection;
mod engine;
pub mod journal;
pub mod policy;
mod registry;
pub mod secret;
pub mod signing;
pub mod sink;

use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use tokio::sync::mpsc::error::TrySendError;

pub use journal::{DeliveryFilter, ErrorKind, Journal, JournalEntry, JournalQuery, Outcome};
pub use secret::Secret;
pub use sink::{SinkHeaders, SinkRequest, Sinks, TooManySinks};

use crate::config::Config;
use crate::events::{Deliveries, DeliveryCounts, PublishedMessage};
use crate::names::validate_cache_name;
use crate::state::SharedState;
pub use engine::install_default_crypto_provider;
use engine::{Engine, Outgoing};
use registry::{Hook, HookSettings, Registry};

/// Longest webhook name, in characters (Momento's limit).
pub const MAX_WEBHOOK_NAME_CHARS: usize = 128;
/// Longest destination URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;
/// The `err` metadata of `RESOURCE_EXHAUSTED` when a cache has `max_webhooks_per_cache` webhooks.
pub const ERR_WEBHOOKS_PER_CACHE_LIMIT: &str = "webhooks_per_cache_limit_exceeded";
/// Path prefix of the built-in receiver.
pub const SINK_PATH_PREFIX: &str = "/_mock/sink/";

/// Why a webhook operation was refused. Messages name the field or flag and the fix; they
/// never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A field is missing or malformed (`INVALID_ARGUMENT`).
    #[error("{0}")]
    InvalidArgument(String),
    /// `NOT_FOUND`.
    #[error("cache {0:?} not found: create the cache before managing its webhooks")]
    CacheNotFound(String),
    /// `NOT_FOUND` under `--strict-topics`.
    #[error("topic {topic:?} is not declared in cache {cache:?}, and this mock runs with --strict-topics: declare the topic first, or start the mock without --strict-topics")]
    TopicNotDeclared { cache: String, topic: String },
    /// `NOT_FOUND`.
    #[error("webhook {name:?} not found in cache {cache:?}")]
    WebhookNotFound { cache: String, name: String },
    /// `RESOURCE_EXHAUSTED`, metadata `err` = [`ERR_WEBHOOKS_PER_CACHE_LIMIT`].
    #[error("cache {cache:?} already has {limit} webhooks, the limit set by --max-webhooks-per-cache (MOMENTO_MOCK_MAX_WEBHOOKS_PER_CACHE): delete a webhook or start the mock with a higher limit")]
    LimitExceeded { cache: String, limit: usize },
    /// `INTERNAL`.
    #[error("{0}")]
    Internal(String),
}

/// What `PutWebhook` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSpec {
    pub cache: String,
    pub name: String,
    pub topic: String,
    /// `None` when the request had no destination.
    pub url: Option<String>,
}

/// The answer to a put.
#[derive(Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The webhook's secret: new when created, unchanged when updated.
    pub secret: String,
    pub created: bool,
}

impl fmt::Debug for PutOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutOutcome")
            .field("secret", &"<redacted>")
            .field("created", &self.created)
            .finish()
    }
}

/// A webhook as `ListWebhooks` shows it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookInfo {
    pub cache: String,
    pub name: String,
    pub topic: String,
    pub url: String,
}

struct Inner {
    state: SharedState,
    strict_topics: bool,
    max_per_cache: usize,
    max_per_second: u32,
    concurrency: usize,
    registry: RwLock<Registry>,
    engine: Arc<Engine>,
    journal: Arc<Journal>,
    sinks: Sinks,
}

/// Webhooks of one server: registry, fan-out engine, journal and sinks. Cheap to clone.
///
/// In-process tests wait for deliveries with [`Journal::wait`] / [`Journal::wait_for`] on
/// [`Webhooks::journal`] (reachable as `RunningMock::deliveries()`); over HTTP the same query is
/// `GET /_mock/deliveries`.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("webhooks", &self.read().all().count())
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// Webhooks over `state`; registers the hook that drops a deleted cache's webhooks.
    pub fn new(config: &Config, state: SharedState) -> Result<Self, crate::Error> {
        let journal = Arc::new(Journal::new(config.journal_capacity));
        let engine = Engine::new(config, journal.clone()).map_err(crate::Error::InvalidConfig)?;
        let inner = Arc::new(Inner {
            state: state.clone(),
            strict_topics: config.strict_topics,
            max_per_cache: config.max_webhooks_per_cache.max(1),
            max_per_second: config.max_deliveries_per_second,
            concurrency: config.webhook_concurrency.max(1),
            registry: RwLock::new(Registry::default()),
            engine: Arc::new(engine),
            journal,
            sinks: Sinks::default(),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        state.on_cache_removed(Arc::new(move |cache: &str| {
            if let Some(inner) = weak.upgrade() {
                Webhooks { inner }.remove_cache(cache);
            }
        }));
        Ok(Self { inner })
    }

    fn read(&self) -> RwLockReadGuard<'_, Registry> {
        // Registry updates are single map operations; a poisoned lock is still consistent.
        self.inner
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Registry> {
        self.inner
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The delivery journal (query it, or wait on it).
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The built-in receiver's store.
    pub fn sinks(&self) -> &Sinks {
        &self.inner.sinks
    }

    /// Forgets the journal and every sink (part of `POST /_mock/reset`).
    pub fn clear_records(&self) {
        self.inner.journal.clear();
        self.inner.sinks.clear_all();
    }

    fn existing_cache(&self, cache: &str) -> Result<(), WebhookError> {
        validate_cache_name(cache)
            .map_err(|err| WebhookError::InvalidArgument(format!("cache_name: {err}")))?;
        if self.inner.state.has_cache(cache) {
            Ok(())
        } else {
            Err(WebhookError::CacheNotFound(cache.to_owned()))
        }
    }

    /// Creates a webhook, or updates the topic and destination of an existing one (keeping its
    /// secret). Returns the secret.
    pub fn put(&self, spec: WebhookSpec) -> Result<PutOutcome, WebhookError> {
        validate_cache_name(&spec.cache).map_err(|err| {
            WebhookError::InvalidArgument(format!("webhook.webhook_id.cache_name: {err}"))
        })?;
        validate_webhook_name(&spec.name, "webhook.webhook_id.webhook_name")?;
        if spec.topic.is_empty() {
            return Err(WebhookError::InvalidArgument(
                "webhook.topic_name is empty: give the topic the webhook listens to".to_owned(),
            ));
        }
        let (destination, url) = validate_url(spec.url)?;
        if !self.inner.state.has_cache(&spec.cache) {
            return Err(WebhookError::CacheNotFound(spec.cache));
        }
        if self.inner.strict_topics && !self.inner.state.is_topic_declared(&spec.cache, &spec.topic)
        {
            return Err(WebhookError::TopicNotDeclared {
                cache: spec.cache,
                topic: spec.topic,
            });
        }

        let topic: Arc<str> = Arc::from(spec.topic.as_str());
        let outcome = {
            let mut registry = self.write();
            match registry.get(&spec.cache, &spec.name).cloned() {
                Some(hook) => {
                    let secret = hook.settings().secret.clone();
                    let exposed = secret.expose().to_owned();
                    registry.update(&hook, HookSettings::new(topic, destination, url, secret));
                    PutOutcome {
                        secret: exposed,
                        created: false,
                    }
                }
                None => {
                    if registry.count(&spec.cache) >= self.inner.max_per_cache {
                        return Err(WebhookError::LimitExceeded {
                            cache: spec.cache,
                            limit: self.inner.max_per_cache,
                        });
                    }
                    let secret = Secret::generate()
                        .map_err(|err| WebhookError::Internal(err.to_string()))?;
                    let exposed = secret.expose().to_owned();
                    let hook = Arc::new(Hook::new(
                        Arc::from(spec.cache.as_str()),
                        Arc::from(spec.name.as_str()),
                        HookSettings::new(topic, destination, url, secret),
                        self.inner.engine.queue(),
                        self.inner.max_per_second,
                        self.inner.concurrency,
                    ));
                    registry.insert(hook.clone());
                    self.inner.engine.start_lanes(hook);
                    PutOutcome {
                        secret: exposed,
                        created: true,
                    }
                }
            }
        };
        // The cache may have been deleted while we worked (after its removal hook ran).
        if !self.inner.state.has_cache(&spec.cache) {
            self.remove_cache(&spec.cache);
            return Err(WebhookError::CacheNotFound(spec.cache));
        }
        tracing::debug!(cache = %spec.cache, webhook = %spec.name, created = outcome.created, "PutWebhook");
        Ok(outcome)
    }

    /// Deletes a webhook: its queued deliveries are dropped (journaled, kind
    /// `webhook_deleted`) and nothing more is sent to its destination.
    pub fn delete(&self, cache: &str, name: &str) -> Result<(), WebhookError> {
        self.existing_cache(cache)?;
        validate_webhook_name(name, "webhook_id.webhook_name")?;
        let removed = self.write().remove(cache, name);
        match removed {
            Some(hook) => {
                hook.deleted.cancel();
                tracing::debug!(%cache, webhook = %name, "DeleteWebhook");
                Ok(())
            }
            None => Err(not_found(cache, name)),
        }
    }

    /// Every webhook of a cache, sorted by name.
    pub fn list(&self, cache: &str) -> Result<Vec<WebhookInfo>, WebhookError> {
        self.existing_cache(cache)?;
        Ok(self
            .read()
            .hooks_of(cache)
            .map(|hook| {
                let settings = hook.settings();
                WebhookInfo {
                    cache: hook.cache.to_string(),
                    name: hook.name.to_string(),
                    topic: settings.topic.to_string(),
                    url: settings.destination.to_string(),
                }
            })
            .collect())
    }

    /// A webhook's current secret.
    pub fn secret(&self, cache: &str, name: &str) -> Result<String, WebhookError> {
        self.existing_cache(cache)?;
        validate_webhook_name(name, "webhook_name")?;
        self.read()
            .get(cache, name)
            .map(|hook| hook.settings().secret.expose().to_owned())
            .ok_or_else(|| not_found(cache, name))
    }

    /// Gives a webhook a new secret; only the new one signs deliveries from now on.
    pub fn rotate_secret(&self, cache: &str, name: &str) -> Result<String, WebhookError> {
        self.existing_cache(cache)?;
        validate_webhook_name(name, "webhook_id.webhook_name")?;
        let secret = Secret::generate().map_err(|err| WebhookError::Internal(err.to_string()))?;
        let exposed = secret.expose().to_owned();
        let mut registry = self.write();
        let hook = registry
            .get(cache, name)
            .cloned()
            .ok_or_else(|| not_found(cache, name))?;
        let current = hook.settings();
        registry.update(
            &hook,
            HookSettings::new(
                current.topic.clone(),
                current.destination.to_string(),
                current.url.clone(),
                secret,
            ),
        );
        tracing::debug!(%cache, webhook = %name, "RotateWebhookSecret");
        Ok(exposed)
    }

    /// Drops every webhook of a (deleted) cache, its queues and its counters.
    fn remove_cache(&self, cache: &str) {
        let removed = self.write().remove_cache(cache);
        for hook in removed {
            hook.deleted.cancel();
        }
    }

    /// Records a request that arrived at the sink at `path` (`/_mock/sink/{name}`), with its
    /// signature verdict: checked against the current secret of every webhook whose destination
    /// path equals `path` (any host and port); `None` when no webhook points there.
    pub fn receive(
        &self,
        name: &str,
        path: &str,
        method: &str,
        headers: SinkHeaders,
        body: &[u8],
    ) -> Result<(), TooManySinks> {
        let secrets: Vec<Secret> = self
            .read()
            .all()
            .map(|hook| hook.settings())
            .filter(|settings| settings.url.path() == path)
            .map(|settings| settings.secret.clone())
            .collect();
        let signature_valid = if secrets.is_empty() {
            None
        } else {
            let signature = headers.momento_signature.as_deref().unwrap_or("");
            Some(
                secrets
                    .iter()
                    .any(|secret| signing::verify(secret.expose(), body, signature)),
            )
        };
        self.inner.sinks.record(
            name,
            SinkRequest {
                method: method.to_owned(),
                headers,
                body: String::from_utf8_lossy(&body[..body.len().min(sink::MAX_BODY_BYTES)])
                    .into_owned(),
                body_truncated: body.len() > sink::MAX_BODY_BYTES,
                received_at_ms: engine::now_ms(),
                signature_valid,
            },
        )
    }

    /// Graceful stop: new messages are dropped (kind `shutdown`), queued and in-flight
    /// deliveries get until `grace` has passed, the rest is dropped and journaled.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner
            .engine
            .shutdown(tokio::time::Instant::now() + grace)
            .await;
    }

    /// Stops every lane and delivery at once (used when a server is dropped).
    pub fn abort(&self) {
        self.inner.engine.abort();
    }
}

impl Deliveries for Webhooks {
    fn published(&self, message: &Arc<PublishedMessage>) {
        let registry = self.read();
        let Some(entry) = registry.topic(&message.cache, &message.topic) else {
            return;
        };
        if entry.hooks.is_empty() {
            return;
        }
        let job = Arc::new(Outgoing {
            message: message.clone(),
            body: signing::BodyTemplate::new(message),
            topic: entry.topic.clone(),
            counters: entry.counters.clone(),
            epoch: self.inner.journal.epoch(),
        });
        let engine = &self.inner.engine;
        let closing = engine.is_closing();
        for hook in &entry.hooks {
            if closing {
                engine.drop_job(hook, &job, 1, ErrorKind::Shutdown);
            } else if !hook.admit() {
                engine.drop_job(hook, &job, 1, ErrorKind::RateLimited);
            } else {
                match hook.queue.try_send(job.clone()) {
                    Ok(()) => engine.after_enqueue(hook),
                    Err(TrySendError::Full(job)) => {
                        engine.drop_job(hook, &job, 1, ErrorKind::QueueFull);
                    }
                    Err(TrySendError::Closed(job)) => {
                        let kind = if engine.is_closing() {
                            ErrorKind::Shutdown
                        } else {
                            ErrorKind::WebhookDeleted
                        };
                        engine.drop_job(hook, &job, 1, kind);
                    }
                }
            }
        }
    }

    fn counts(&self, cache: &str, topic: &str) -> DeliveryCounts {
        self.read().counts(cache, topic)
    }
}

fn not_found(cache: &str, name: &str) -> WebhookError {
    WebhookError::WebhookNotFound {
        cache: cache.to_owned(),
        name: name.to_owned(),
    }
}

fn validate_webhook_name(name: &str, field: &str) -> Result<(), WebhookError> {
    if name.is_empty() {
        return Err(WebhookError::InvalidArgument(format!(
            "{field} is empty: give the webhook a name of 1-{MAX_WEBHOOK_NAME_CHARS} characters"
        )));
    }
    let chars = name.chars().count();
    if chars > MAX_WEBHOOK_NAME_CHARS {
        return Err(WebhookError::InvalidArgument(format!(
            "{field} {} is {chars} characters long: webhook names are at most {MAX_WEBHOOK_NAME_CHARS} characters, use a shorter name",
            echo(name)
        )));
    }
    Ok(())
}

/// Checks `destination.post_url`: present, an absolute `http`/`https` URL with a host.
/// Returns it as given and parsed.
fn validate_url(url: Option<String>) -> Result<(String, url::Url), WebhookError> {
    const FIELD: &str = "webhook.destination.post_url";
    let invalid = |why: String| WebhookError::InvalidArgument(why);
    let text = match url.as_deref() {
        None => {
            return Err(invalid(format!(
                "webhook.destination is missing: set {FIELD} to the absolute http:// or https:// URL that receives deliveries"
            )))
        }
        Some("") => {
            return Err(invalid(format!(
                "{FIELD} is empty: set it to the absolute http:// or https:// URL that receives deliveries"
            )))
        }
        Some(text) => text,
    };
    if text.len() > MAX_URL_LEN {
        return Err(invalid(format!(
            "{FIELD} is {} bytes long: URLs are at most {MAX_URL_LEN} bytes",
            text.len()
        )));
    }
    let url = url::Url::parse(text).map_err(|err| {
        invalid(format!(
            "{FIELD} {} is not an absolute URL ({err}): use e.g. https://example.com/hooks/momento",
            echo(text)
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(format!(
            "{FIELD} {} uses the scheme {:?}: only http and https destinations receive deliveries",
            echo(text),
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "{FIELD} {} has no host: use e.g. https://example.com/hooks/momento",
            echo(text)
        )));
    }
    Ok((text.to_owned(), url))
}

/// Quotes a user-given string for a message, cut to 64 characters.
fn echo(text: &str) -> String {
    let count = text.chars().count();
    if count <= 64 {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(64).collect();
        format!("{head:?}... ({count} characters)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        assert!(validate_url(Some("http://127.0.0.1:9/x".into())).is_ok());
        let (text, url) = validate_url(Some("https://example.com".into())).unwrap();
        assert_eq!(
            (text.as_str(), url.as_str()),
            ("https://example.com", "https://example.com/")
        );
        for (bad, needle) in [
            (None, "missing"),
            (Some(""), "empty"),
            (Some("example.com/x"), "not an absolute URL"),
            (Some("/relative"), "not an absolute URL"),
            (Some("ftp://example.com/x"), "scheme"),
            (Some("mailto:a@b.c"), "scheme"),
            (Some("http://"), "post_url"),
        ] {
            let err = validate_url(bad.map(str::to_owned))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{bad:?}: {err}");
            assert!(
                err.contains("post_url") || err.contains("destination"),
                "{err}"
            );
        }
        let long = format!("http://h/{}", "a".repeat(MAX_URL_LEN));
        assert!(validate_url(Some(long)).is_err());
    }

    #[test]
    fn name_rules() {
        assert!(validate_webhook_name("a", "f").is_ok());
        assert!(validate_webhook_name(&"é".repeat(128), "f").is_ok());
        let err = validate_webhook_name(&"x".repeat(129), "f").unwrap_err();
        assert!(err.to_string().contains("at most 128"), "{err}");
        let err = validate_webhook_name("", "f").unwrap_err();
        assert!(err.to_string().starts_with("f is empty"), "{err}");
    }
}
