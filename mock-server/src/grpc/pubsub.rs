//! `cache_client.pubsub.Pubsub`: `Publish` (unary) and `Subscribe` (server streaming; the first
//! message is always a heartbeat) over the [`TopicHub`], and the mapping of [`PubSubError`] to the
//! status codes (and `err` metadata) Momento's SDKs expect.
//!
//! `publisher_id` of every item is the token id of its publisher: the `id` claim of the JWT in the
//! publisher's `authorization` metadata, read without a signature check, or `""` (see
//! [`publisher_id_from_token`]).

use std::pin::Pin;

use futures::Stream;
use momento_protos::cache_client::pubsub::pubsub_server::Pubsub;
use momento_protos::cache_client::pubsub::{
    subscription_item, topic_value, Discontinuity as ProtoDiscontinuity, Heartbeat, PublishRequest,
    SubscriptionItem, SubscriptionRequest, TopicItem, TopicValue as ProtoValue,
};
use momento_protos::common::Empty;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Request, Response, Status};

use crate::auth::AUTHORIZATION;
use crate::events::{PublishedMessage, TopicValue};
use crate::pubsub::{
    publisher_id_from_token, PubSubError, Subscription, SubscriptionEnd, SubscriptionEvent,
    TopicHub,
};

/// `err` metadata value of a payload over `--max-message-bytes`.
pub const ERR_REQUEST_SIZE_LIMIT: &str = "request_size_limit_exceeded";
/// `err` metadata value of a subscription over `--max-subscriptions-per-topic`.
pub const ERR_SUBSCRIPTIONS_LIMIT: &str = "topic_subscriptions_limit_exceeded";

/// The Pubsub service over the hub.
#[derive(Debug, Clone)]
pub struct PubsubService {
    hub: TopicHub,
}

impl PubsubService {
    pub fn new(hub: TopicHub) -> Self {
        Self { hub }
    }
}

/// The stream `Subscribe` answers with.
pub type SubscriptionStream = Pin<Box<dyn Stream<Item = Result<SubscriptionItem, Status>> + Send>>;

#[tonic::async_trait]
impl Pubsub for PubsubService {
    async fn publish(&self, request: Request<PublishRequest>) -> Result<Response<Empty>, Status> {
        let publisher_id =
            publisher_id_from_token(request.metadata().get(AUTHORIZATION).map(|v| v.as_bytes()));
        let request = request.into_inner();
        let value = match request.value.and_then(|v| v.kind) {
            Some(topic_value::Kind::Text(text)) => TopicValue::Text(text),
            Some(topic_value::Kind::Binary(bytes)) => TopicValue::Binary(bytes),
            None => return Err(PubSubError::MissingValue.into()),
        };
        let result = self
            .hub
            .publish(&request.cache_name, &request.topic, value, &publisher_id);
        if let Err(err) = &result {
            tracing::debug!(cache = %request.cache_name, topic = %request.topic, %err, "Publish refused");
        }
        result?;
        Ok(Response::new(Empty {}))
    }

    type SubscribeStream = SubscriptionStream;

    async fn subscribe(
        &self,
        request: Request<SubscriptionRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let request = request.into_inner();
        let subscription = self
            .hub
            .subscribe(
                &request.cache_name,
                &request.topic,
                request.resume_at_topic_sequence_number,
                request.sequence_page,
            )
            .inspect_err(|err| {
                tracing::debug!(cache = %request.cache_name, topic = %request.topic, %err, "Subscribe refused");
            })?;
        Ok(Response::new(subscription_stream(subscription)))
    }
}

/// The gRPC stream of a subscription: its events as `_SubscriptionItem`s. Ends cleanly on server
/// shutdown; ends with `NOT_FOUND` when the cache is deleted and `UNAVAILABLE` when the topic is
/// deleted through the extension (SDKs resubscribe on `UNAVAILABLE` and get the new page).
pub fn subscription_stream(subscription: Subscription) -> SubscriptionStream {
    Box::pin(futures::stream::unfold(
        Some(subscription),
        |subscription| async move {
            let mut subscription = subscription?;
            match subscription.next().await {
                Ok(event) => Some((Ok(to_proto(event)), Some(subscription))),
                Err(SubscriptionEnd::Shutdown) => None,
                Err(end) => Some((Err(end_status(&subscription, end)), None)),
            }
        },
    ))
}

fn end_status(subscription: &Subscription, end: SubscriptionEnd) -> Status {
    let (cache, topic) = (subscription.cache(), subscription.topic());
    match end {
        SubscriptionEnd::CacheDeleted => Status::not_found(format!(
            "cache {cache:?} was deleted; its topics and their subscriptions are gone"
        )),
        SubscriptionEnd::TopicDeleted => Status::unavailable(format!(
            "topic {topic:?} in cache {cache:?} was deleted (Topics.DeleteTopic); subscribe again to follow its new sequence page"
        )),
        SubscriptionEnd::Shutdown => Status::unavailable("momento-mock is shutting down"),
    }
}

/// A subscription event as Momento's wire message.
pub fn to_proto(event: SubscriptionEvent) -> SubscriptionItem {
    let kind = match event {
        SubscriptionEvent::Heartbeat => subscription_item::Kind::Heartbeat(Heartbeat {}),
        SubscriptionEvent::Item(message) => subscription_item::Kind::Item(item(&message)),
        SubscriptionEvent::Discontinuity(d) => {
            subscription_item::Kind::Discontinuity(ProtoDiscontinuity {
                last_topic_sequence: d.last_topic_sequence,
                new_topic_sequence: d.new_topic_sequence,
                new_sequence_page: d.new_sequence_page,
            })
        }
    };
    SubscriptionItem { kind: Some(kind) }
}

fn item(message: &PublishedMessage) -> TopicItem {
    let kind = match &message.value {
        TopicValue::Text(text) => topic_value::Kind::Text(text.clone()),
        TopicValue::Binary(bytes) => topic_value::Kind::Binary(bytes.clone()),
    };
    TopicItem {
        topic_sequence_number: message.topic_sequence_number,
        value: Some(ProtoValue { kind: Some(kind) }),
        publisher_id: message.publisher_id.clone(),
        sequence_page: message.sequence_page,
    }
}

impl From<PubSubError> for Status {
    fn from(err: PubSubError) -> Self {
        let message = err.to_string();
        match err {
            PubSubError::InvalidCacheName(_)
            | PubSubError::EmptyTopicName
            | PubSubError::MissingValue => Status::invalid_argument(message),
            PubSubError::CacheNotFound(_)
            | PubSubError::TopicNotDeclared { .. }
            | PubSubError::TopicNotFound { .. }
            | PubSubError::TopicNotDeclaredForDelete { .. } => Status::not_found(message),
            PubSubError::TopicAlreadyDeclared { .. } => Status::already_exists(message),
            PubSubError::MessageTooLarge { .. } => limit_exceeded(message, ERR_REQUEST_SIZE_LIMIT),
            PubSubError::TooManySubscriptions { .. } => {
                limit_exceeded(message, ERR_SUBSCRIPTIONS_LIMIT)
            }
        }
    }
}

/// `RESOURCE_EXHAUSTED` with metadata `err: <what>`, as Momento sends it.
fn limit_exceeded(message: String, err: &'static str) -> Status {
    let mut metadata = MetadataMap::new();
    metadata.insert("err", MetadataValue::from_static(err));
    Status::with_metadata(Code::ResourceExhausted, message, metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_carry_err_metadata() {
        let status = Status::from(PubSubError::MessageTooLarge {
            size: 10,
            exact: true,
            limit: 5,
        });
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.metadata().get("err").and_then(|v| v.to_str().ok()),
            Some(ERR_REQUEST_SIZE_LIMIT)
        );
        let status = Status::from(PubSubError::TooManySubscriptions {
            cache: "c".into(),
            topic: "t".into(),
            limit: 1,
        });
        assert_eq!(
            status.metadata().get("err").and_then(|v| v.to_str().ok()),
            Some(ERR_SUBSCRIPTIONS_LIMIT)
        );
    }
}
