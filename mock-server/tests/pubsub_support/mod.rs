//! Helpers shared by the pub/sub, topic-extension and HTTP-topics integration tests: generated
//! clients, stream reads with deadlines, condition polling, HTTP requests with headers and a
//! body, and unsigned JWTs. Every wait is bounded by `common::TIMEOUT`.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use momento_mock::proto::topics::topics_client::TopicsClient;
use momento_mock::RunningMock;
use momento_protos::cache_client::pubsub::pubsub_client::PubsubClient;
use momento_protos::cache_client::pubsub::{
    subscription_item, topic_value, PublishRequest, SubscriptionItem, SubscriptionRequest,
    TopicItem, TopicValue,
};
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::CreateCacheRequest;
use tonic::transport::Channel;
use tonic::{Status, Streaming};

use super::common::{channel, within, HttpResponse, TIMEOUT};

pub type Pubsub = PubsubClient<Channel>;
pub type Topics = TopicsClient<Channel>;

pub async fn pubsub(mock: &RunningMock) -> Pubsub {
    PubsubClient::new(channel(mock).await)
}

pub async fn topics(mock: &RunningMock) -> Topics {
    TopicsClient::new(channel(mock).await)
}

/// Creates a cache through the control plane.
pub async fn create_cache(mock: &RunningMock, name: &str) {
    let mut control = ScsControlClient::new(channel(mock).await);
    within(
        "CreateCache",
        control.create_cache(CreateCacheRequest {
            cache_name: name.to_owned(),
        }),
    )
    .await
    .expect("cache created");
}

pub fn text(s: &str) -> Option<TopicValue> {
    Some(TopicValue {
        kind: Some(topic_value::Kind::Text(s.to_owned())),
    })
}

pub fn binary(b: &[u8]) -> Option<TopicValue> {
    Some(TopicValue {
        kind: Some(topic_value::Kind::Binary(b.to_vec())),
    })
}

pub async fn publish(
    client: &mut Pubsub,
    cache: &str,
    topic: &str,
    value: Option<TopicValue>,
) -> Result<(), Status> {
    within(
        "Publish",
        client.publish(PublishRequest {
            cache_name: cache.to_owned(),
            topic: topic.to_owned(),
            value,
        }),
    )
    .await
    .map(|_| ())
}

pub async fn subscribe(
    client: &mut Pubsub,
    cache: &str,
    topic: &str,
    resume_at: u64,
    page: u64,
) -> Result<Streaming<SubscriptionItem>, Status> {
    within(
        "Subscribe",
        client.subscribe(SubscriptionRequest {
            cache_name: cache.to_owned(),
            topic: topic.to_owned(),
            resume_at_topic_sequence_number: resume_at,
            sequence_page: page,
        }),
    )
    .await
    .map(tonic::Response::into_inner)
}

/// The next stream message (panics on end of stream or error).
pub async fn next_kind(stream: &mut Streaming<SubscriptionItem>) -> subscription_item::Kind {
    within("the next subscription message", stream.message())
        .await
        .expect("stream message, not an error")
        .expect("stream still open")
        .kind
        .expect("message has a kind")
}

/// The next item, skipping heartbeats (panics on anything else).
pub async fn next_item(stream: &mut Streaming<SubscriptionItem>) -> TopicItem {
    loop {
        match next_kind(stream).await {
            subscription_item::Kind::Heartbeat(_) => continue,
            subscription_item::Kind::Item(item) => return item,
            other => panic!("expected an item, got {other:?}"),
        }
    }
}

/// Subscribes and waits for the first message, which must be a heartbeat; from then on the
/// subscription is live, so a publish after this returns reaches it.
pub async fn live_subscription(
    client: &mut Pubsub,
    cache: &str,
    topic: &str,
) -> Streaming<SubscriptionItem> {
    let mut stream = subscribe(client, cache, topic, 0, 0)
        .await
        .expect("subscribe works");
    assert!(
        matches!(
            next_kind(&mut stream).await,
            subscription_item::Kind::Heartbeat(_)
        ),
        "the first message must be a heartbeat"
    );
    stream
}

pub fn text_of(item: &TopicItem) -> &str {
    match item.value.as_ref().and_then(|v| v.kind.as_ref()) {
        Some(topic_value::Kind::Text(t)) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

/// Polls `condition` every few milliseconds until it holds (panics after `TIMEOUT`).
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// Awaits `fut` for at most `limit` (panics naming `what` otherwise).
pub async fn within_limit<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit.min(TIMEOUT), fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// An unsigned JWT with the given claims (the mock never checks signatures).
pub fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.bm90LWNoZWNrZWQ",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

/// One HTTP/1.1 request with headers and a body, on a fresh connection.
pub async fn http_request(
    mock: &RunningMock,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    within(&format!("HTTP {method} {path}"), async {
        let stream = tokio::net::TcpStream::connect(mock.addr())
            .await
            .expect("TCP connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(conn);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, mock.addr().to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("valid request");
        let response = sender.send_request(request).await.expect("HTTP response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("HTTP body")
            .to_bytes();
        HttpResponse {
            status,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    })
    .await
}
