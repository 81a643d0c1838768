//! The mock's state: caches keyed by name, behind one handle ([`SharedState`]) that every
//! protocol front end (gRPC, HTTP, in-process tests) shares. Invariants (valid, unique names) are
//! enforced here, not in the front ends.

mod cache;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use cache::{Cache, CacheLimits, CacheSummary, TopicLimits};

use crate::names::{validate_cache_name, InvalidCacheName};

/// Why a state operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    InvalidCacheName(#[from] InvalidCacheName),
    #[error("cache {0:?} already exists")]
    CacheAlreadyExists(String),
    #[error("cache {0:?} not found")]
    CacheNotFound(String),
    #[error("topic name is empty: give the topic a name of at least one character")]
    EmptyTopicName,
}

/// One page of caches, in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePage {
    pub caches: Vec<CacheSummary>,
    /// Whether caches follow the last one on this page.
    pub more: bool,
}

#[derive(Debug, Default)]
struct Inner {
    caches: BTreeMap<String, Cache>,
    /// Source of cache ids; survives resets so ids are never reused.
    cache_seq: u64,
}

/// Called with a cache's name after the cache is deleted (also for every cache on reset), so
/// that the parts that own per-cache data (topic logs, webhooks, delivery queues) drop it.
pub type CacheRemovedHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Cheaply clonable handle on the whole state of one mock server.
#[derive(Clone, Default)]
pub struct SharedState {
    inner: Arc<RwLock<Inner>>,
    removal_hooks: Arc<RwLock<Vec<CacheRemovedHook>>>,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("caches", &self.cache_names())
            .finish()
    }
}

impl SharedState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    // A panic while holding the lock cannot leave `Inner` half-updated (every write is a single
    // map operation), so a poisoned lock is still consistent: recover instead of panicking.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates a cache. Errors: invalid name, or a cache of that name exists.
    pub fn create_cache(&self, name: &str) -> Result<CacheSummary, StateError> {
        validate_cache_name(name)?;
        let mut inner = self.write();
        if inner.caches.contains_key(name) {
            return Err(StateError::CacheAlreadyExists(name.to_owned()));
        }
        inner.cache_seq += 1;
        let cache = Cache::new(name.to_owned(), uuid_shaped(inner.cache_seq));
        let summary = CacheSummary::from(&cache);
        inner.caches.insert(name.to_owned(), cache);
        Ok(summary)
    }

    /// Deletes a cache and everything it owns (declared topics here; topic logs, webhooks and
    /// queued deliveries through the [`CacheRemovedHook`]s). Errors: invalid name, no such cache.
    pub fn delete_cache(&self, name: &str) -> Result<(), StateError> {
        validate_cache_name(name)?;
        let removed = self.write().caches.remove(name);
        match removed {
            Some(_) => {
                self.run_removal_hooks(&[name.to_owned()]);
                Ok(())
            }
            None => Err(StateError::CacheNotFound(name.to_owned())),
        }
    }

    /// Registers a hook run after every cache removal (see [`CacheRemovedHook`]).
    pub fn on_cache_removed(&self, hook: CacheRemovedHook) {
        self.removal_hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(hook);
    }

    fn run_removal_hooks(&self, names: &[String]) {
        let hooks = self
            .removal_hooks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for name in names {
            for hook in &hooks {
                hook(name);
            }
        }
    }

    /// Declares a topic (the topic extension). `Ok(false)` when it was declared already.
    /// Errors: invalid cache name, no such cache, empty topic name.
    pub fn declare_topic(&self, cache: &str, topic: &str) -> Result<bool, StateError> {
        validate_cache_name(cache)?;
        if topic.is_empty() {
            return Err(StateError::EmptyTopicName);
        }
        let mut inner = self.write();
        let c = inner
            .caches
            .get_mut(cache)
            .ok_or_else(|| StateError::CacheNotFound(cache.to_owned()))?;
        Ok(c.declared_topics.insert(topic.to_owned()))
    }

    /// Removes a topic declaration. `Ok(false)` when it was not declared.
    pub fn undeclare_topic(&self, cache: &str, topic: &str) -> Result<bool, StateError> {
        validate_cache_name(cache)?;
        let mut inner = self.write();
        let c = inner
            .caches
            .get_mut(cache)
            .ok_or_else(|| StateError::CacheNotFound(cache.to_owned()))?;
        Ok(c.declared_topics.remove(topic))
    }

    /// Whether the topic is declared in that cache (false when the cache does not exist).
    pub fn is_topic_declared(&self, cache: &str, topic: &str) -> bool {
        self.read()
            .caches
            .get(cache)
            .is_some_and(|c| c.declared_topics.contains(topic))
    }

    /// The declared topics of a cache, sorted. Errors: invalid name, no such cache.
    pub fn declared_topics(&self, cache: &str) -> Result<Vec<String>, StateError> {
        validate_cache_name(cache)?;
        self.read()
            .caches
            .get(cache)
            .map(|c| c.declared_topics.iter().cloned().collect())
            .ok_or_else(|| StateError::CacheNotFound(cache.to_owned()))
    }

    /// Flushes a cache's items. Errors: invalid name, no such cache.
    pub fn flush_cache(&self, name: &str) -> Result<(), StateError> {
        validate_cache_name(name)?;
        match self.write().caches.get_mut(name) {
            Some(cache) => {
                cache.flush();
                Ok(())
            }
            None => Err(StateError::CacheNotFound(name.to_owned())),
        }
    }

    /// A copy of one cache's summary. Errors: invalid name, no such cache.
    pub fn cache(&self, name: &str) -> Result<CacheSummary, StateError> {
        validate_cache_name(name)?;
        self.read()
            .caches
            .get(name)
            .map(CacheSummary::from)
            .ok_or_else(|| StateError::CacheNotFound(name.to_owned()))
    }

    /// Whether a cache of that name exists.
    pub fn has_cache(&self, name: &str) -> bool {
        self.read().caches.contains_key(name)
    }

    /// All cache names, sorted.
    pub fn cache_names(&self) -> Vec<String> {
        self.read().caches.keys().cloned().collect()
    }

    /// Up to `limit` caches whose names sort after `after` (from the first when `None`).
    pub fn list_caches(&self, after: Option<&str>, limit: usize) -> CachePage {
        let inner = self.read();
        let lower = match after {
            Some(name) => Bound::Excluded(name),
            None => Bound::Unbounded,
        };
        let mut iter = inner
            .caches
            .range::<str, _>((lower, Bound::Unbounded))
            .map(|(_, cache)| CacheSummary::from(cache));
        let caches: Vec<CacheSummary> = iter.by_ref().take(limit).collect();
        let more = iter.next().is_some();
        CachePage { caches, more }
    }

    /// Forgets everything: back to the state of a fresh server (ids keep counting up).
    pub fn reset(&self) {
        let names: Vec<String> = std::mem::take(&mut self.write().caches)
            .into_keys()
            .collect();
        self.run_removal_hooks(&names);
    }
}

/// A UUID-shaped (version 4 layout) id from a sequence number: unique, stable, readable.
fn uuid_shaped(seq: u64) -> String {
    format!("00000000-0000-4000-8000-{:012x}", seq & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_delete_flush() {
        let state = SharedState::new();
        let created = state.create_cache("a").unwrap();
        assert_eq!(created.name, "a");
        assert_eq!(
            state.create_cache("a"),
            Err(StateError::CacheAlreadyExists("a".into()))
        );
        assert_eq!(state.flush_cache("a"), Ok(()));
        assert_eq!(state.delete_cache("a"), Ok(()));
        assert_eq!(
            state.delete_cache("a"),
            Err(StateError::CacheNotFound("a".into()))
        );
        assert_eq!(
            state.flush_cache("a"),
            Err(StateError::CacheNotFound("a".into()))
        );
        assert!(matches!(
            state.create_cache("a b"),
            Err(StateError::InvalidCacheName(_))
        ));
    }

    #[test]
    fn ids_are_unique_across_resets() {
        let state = SharedState::new();
        let first = state.create_cache("a").unwrap().id;
        state.reset();
        assert!(state.cache_names().is_empty());
        let second = state.create_cache("a").unwrap().id;
        assert_ne!(first, second);
    }

    #[test]
    fn pages_in_name_order() {
        let state = SharedState::new();
        for name in ["e", "c", "a", "d", "b"] {
            state.create_cache(name).unwrap();
        }
        let names = |p: &CachePage| p.caches.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let p1 = state.list_caches(None, 2);
        assert_eq!((names(&p1), p1.more), (vec!["a".into(), "b".into()], true));
        let p2 = state.list_caches(Some("b"), 2);
        assert_eq!((names(&p2), p2.more), (vec!["c".into(), "d".into()], true));
        let p3 = state.list_caches(Some("d"), 2);
        assert_eq!((names(&p3), p3.more), (vec!["e".into()], false));
        // A cursor whose cache was deleted still resumes at the right place.
        state.delete_cache("b").unwrap();
        assert_eq!(names(&state.list_caches(Some("b"), 10)), ["c", "d", "e"]);
        // Four caches left: a page of exactly four has no more after it, a page of three has.
        assert!(!state.list_caches(None, 4).more);
        assert!(state.list_caches(None, 3).more);
        assert!(!state.list_caches(Some("a"), 3).more);
    }
}
