//! Why a pub/sub or topic-extension operation was refused: [`PubSubError`]. Each variant maps to
//! one gRPC status (see `grpc::pubsub`) and one HTTP status (see `http::topics`); messages name
//! what failed and, for limits, the flag that lifts them.

use std::fmt;

use crate::names::InvalidCacheName;
use crate::state::StateError;

/// Longest part of a user-given name echoed back in a message.
const ECHO_LIMIT: usize = 64;

/// A refused pub/sub operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PubSubError {
    /// The cache name breaks the naming rule (`INVALID_ARGUMENT`).
    #[error(transparent)]
    InvalidCacheName(#[from] InvalidCacheName),
    /// No cache of that name (`NOT_FOUND`).
    #[error("cache {} not found", Quoted(.0))]
    CacheNotFound(String),
    /// The topic name is empty (`INVALID_ARGUMENT`).
    #[error("topic name is empty: give the topic a name of at least one character")]
    EmptyTopicName,
    /// A publish without a value (`INVALID_ARGUMENT`).
    #[error("the publish request carries no value: set either text or binary")]
    MissingValue,
    /// `--strict-topics` is on and the topic was never declared (`NOT_FOUND`).
    #[error(
        "topic {} is not declared in cache {}; momento-mock runs with --strict-topics, so declare it first (momento_topic resource or the Topics.CreateTopic RPC)",
        Quoted(.topic),
        Quoted(.cache)
    )]
    TopicNotDeclared { cache: String, topic: String },
    /// The value is bigger than `--max-message-bytes` (`RESOURCE_EXHAUSTED`,
    /// `err: request_size_limit_exceeded`).
    #[error(
        "message of {} exceeds the limit of {limit} bytes per published message (Momento's hard limit is 4096 bytes; raise the mock's with --max-message-bytes)",
        message_size(.size, .exact, .limit)
    )]
    MessageTooLarge {
        /// The size, or (when `exact` is false) how much was read before giving up.
        size: usize,
        exact: bool,
        limit: usize,
    },
    /// The topic has `--max-subscriptions-per-topic` subscriptions already (`RESOURCE_EXHAUSTED`,
    /// `err: topic_subscriptions_limit_exceeded`).
    #[error(
        "topic {} in cache {} already has {limit} subscriptions, the limit; close one or raise the limit with --max-subscriptions-per-topic",
        Quoted(.topic),
        Quoted(.cache)
    )]
    TooManySubscriptions {
        cache: String,
        topic: String,
        limit: usize,
    },
    /// `CreateTopic` of a declared topic (`ALREADY_EXISTS`).
    #[error("topic {} is already declared in cache {}", Quoted(.topic), Quoted(.cache))]
    TopicAlreadyDeclared { cache: String, topic: String },
    /// `GetTopic` of a topic neither declared nor used (`NOT_FOUND`).
    #[error(
        "topic {} does not exist in cache {}: it was never declared (Topics.CreateTopic) nor used (publish, subscribe, webhook)",
        Quoted(.topic),
        Quoted(.cache)
    )]
    TopicNotFound { cache: String, topic: String },
    /// `DeleteTopic` of a topic that is not declared (`NOT_FOUND`).
    #[error(
        "topic {} is not declared in cache {}, so there is nothing to delete (only declared topics can be deleted)",
        Quoted(.topic),
        Quoted(.cache)
    )]
    TopicNotDeclaredForDelete { cache: String, topic: String },
}

impl From<StateError> for PubSubError {
    fn from(err: StateError) -> Self {
        match err {
            StateError::InvalidCacheName(e) => Self::InvalidCacheName(e),
            StateError::CacheNotFound(name) => Self::CacheNotFound(name),
            StateError::EmptyTopicName => Self::EmptyTopicName,
            // Only CreateCache reports this; no pub/sub operation creates caches.
            StateError::CacheAlreadyExists(name) => Self::CacheNotFound(name),
        }
    }
}

/// A user-given name in a message: escaped like `{:?}`, long ones cut with their length.
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.chars().count();
        if count <= ECHO_LIMIT {
            write!(f, "{:?}", self.0)
        } else {
            let head: String = self.0.chars().take(ECHO_LIMIT).collect();
            write!(f, "{head:?}... ({count} characters)")
        }
    }
}

fn message_size(size: &usize, exact: &bool, limit: &usize) -> MessageSize {
    MessageSize {
        size: *size,
        exact: *exact,
        limit: *limit,
    }
}

struct MessageSize {
    size: usize,
    exact: bool,
    limit: usize,
}

impl fmt::Display for MessageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exact {
            write!(f, "{} bytes", self.size)
        } else {
            write!(f, "more than {} bytes", self.size.max(self.limit))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_sizes_limits_and_flags() {
        let err = PubSubError::MessageTooLarge {
            size: 5000,
            exact: true,
            limit: 4096,
        };
        let msg = err.to_string();
        assert!(msg.contains("5000 bytes"), "{msg}");
        assert!(msg.contains("4096 bytes"), "{msg}");
        assert!(msg.contains("--max-message-bytes"), "{msg}");

        let msg = PubSubError::TopicNotDeclared {
            cache: "c".into(),
            topic: "t".into(),
        }
        .to_string();
        assert!(
            msg.starts_with("topic \"t\" is not declared in cache \"c\""),
            "{msg}"
        );
        assert!(msg.contains("--strict-topics"), "{msg}");

        let msg = PubSubError::TooManySubscriptions {
            cache: "c".into(),
            topic: "t".into(),
            limit: 2,
        }
        .to_string();
        assert!(msg.contains("--max-subscriptions-per-topic"), "{msg}");
    }

    #[test]
    fn long_names_are_cut() {
        let msg = PubSubError::CacheNotFound("x".repeat(300)).to_string();
        assert!(msg.contains("(300 characters)"), "{msg}");
        assert!(msg.len() < 200, "{msg}");
    }
}
