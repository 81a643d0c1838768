//! Helpers shared by the webhook and fan-out integration tests: a `WebhookClient`, puts,
//! synthesized messages handed straight to the fan-out, wiremock receivers, journal waits and
//! signature checks. Every wait is bounded by `common::TIMEOUT`.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use momento_mock::events::{Deliveries, PublishedMessage, TopicValue};
use momento_mock::proto::webhook::webhook_client::WebhookClient;
use momento_mock::proto::webhook::webhook_destination::Kind;
use momento_mock::proto::webhook::{
    DeleteWebhookRequest, PutWebhookRequest, RotateWebhookSecretRequest, Webhook,
    WebhookDestination, WebhookId,
};
use momento_mock::webhooks::{DeliveryFilter, JournalEntry};
use momento_mock::RunningMock;
use tonic::transport::Channel;
use tonic::Status;

use crate::common::{channel, within, TIMEOUT};

pub type Client = WebhookClient<Channel>;

pub async fn client(mock: &RunningMock) -> Client {
    WebhookClient::new(channel(mock).await)
}

pub fn webhook(cache: &str, name: &str, topic: &str, url: Option<&str>) -> Webhook {
    Webhook {
        webhook_id: Some(WebhookId {
            cache_name: cache.into(),
            webhook_name: name.into(),
        }),
        topic_name: topic.into(),
        destination: url.map(|u| WebhookDestination {
            kind: Some(Kind::PostUrl(u.into())),
        }),
    }
}

/// `PutWebhook`; returns the secret.
pub async fn put(
    client: &mut Client,
    cache: &str,
    name: &str,
    topic: &str,
    url: &str,
) -> Result<String, Status> {
    put_webhook(client, webhook(cache, name, topic, Some(url))).await
}

pub async fn put_webhook(client: &mut Client, webhook: Webhook) -> Result<String, Status> {
    within(
        "PutWebhook",
        client.put_webhook(PutWebhookRequest {
            webhook: Some(webhook),
        }),
    )
    .await
    .map(|r| r.into_inner().secret_string)
}

pub async fn delete(client: &mut Client, cache: &str, name: &str) -> Result<(), Status> {
    within(
        "DeleteWebhook",
        client.delete_webhook(DeleteWebhookRequest {
            webhook_id: Some(WebhookId {
                cache_name: cache.into(),
                webhook_name: name.into(),
            }),
        }),
    )
    .await
    .map(|_| ())
}

pub async fn rotate(client: &mut Client, cache: &str, name: &str) -> Result<String, Status> {
    within(
        "RotateWebhookSecret",
        client.rotate_webhook_secret(RotateWebhookSecretRequest {
            webhook_id: Some(WebhookId {
                cache_name: cache.into(),
                webhook_name: name.into(),
            }),
        }),
    )
    .await
    .map(|r| r.into_inner().secret_string)
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// A message as the data plane would hand it over (sequence numbers unique per process).
pub fn message(cache: &str, topic: &str, value: TopicValue) -> Arc<PublishedMessage> {
    Arc::new(PublishedMessage {
        cache: cache.into(),
        topic: topic.into(),
        topic_sequence_number: SEQUENCE.fetch_add(1, Ordering::Relaxed),
        sequence_page: 1,
        value,
        publisher_id: String::new(),
        publish_timestamp_ms: now_ms(),
    })
}

pub fn text(cache: &str, topic: &str, text: &str) -> Arc<PublishedMessage> {
    message(cache, topic, TopicValue::Text(text.into()))
}

/// Hands a message to the fan-out, as the data plane does after accepting a publish.
pub fn publish(mock: &RunningMock, message: &Arc<PublishedMessage>) {
    mock.webhooks().published(message);
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Waits (long-poll on the journal, no sleeping) for `n` entries matching `filter`; fails the
/// test with the journal's content if they do not come within `common::TIMEOUT`.
pub async fn wait(mock: &RunningMock, filter: DeliveryFilter, n: usize) -> Vec<JournalEntry> {
    let got = mock.deliveries().wait(&filter, n, TIMEOUT).await;
    assert!(
        !got.timed_out && got.count >= n,
        "waited for {n} journal entries matching {filter:?}; journal: {:#?}",
        mock.deliveries().query(&DeliveryFilter::all())
    );
    got.deliveries
}

/// The body Momento sends for `message` at `publish_timestamp`.
pub fn expected_body(message: &PublishedMessage, publish_timestamp: u64) -> String {
    let value = match &message.value {
        TopicValue::Text(t) => format!("\"text\":{}", serde_json::to_string(t).unwrap()),
        TopicValue::Binary(b) => {
            use base64::Engine as _;
            format!(
                "\"binary\":\"{}\"",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        }
    };
    format!(
        "{{\"cache\":{},\"topic\":{},\"event_timestamp\":{},\"publish_timestamp\":{},\"topic_sequence_number\":{},\"token_id\":{},{}}}",
        serde_json::to_string(&message.cache).unwrap(),
        serde_json::to_string(&message.topic).unwrap(),
        message.publish_timestamp_ms,
        publish_timestamp,
        message.topic_sequence_number,
        serde_json::to_string(&message.publisher_id).unwrap(),
        value
    )
}

/// The `publish_timestamp` of a received body.
pub fn publish_timestamp(body: &[u8]) -> u64 {
    let json: serde_json::Value = serde_json::from_slice(body).expect("delivery body is JSON");
    json["publish_timestamp"]
        .as_u64()
        .expect("publish_timestamp is a number")
}

pub fn signature_of(request: &wiremock::Request) -> String {
    request
        .headers
        .get("momento-signature")
        .and_then(|v| v.to_str().ok())
        .expect("momento-signature header")
        .to_owned()
}

/// A receiver answering every POST with `status`.
pub async fn receiver(status: u16) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

/// A receiver that holds every request for `delay` before answering 204.
pub async fn slow_receiver(delay: Duration) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(204).set_delay(delay))
        .mount(&server)
        .await;
    server
}

pub async fn received(server: &wiremock::MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

/// A URL on 127.0.0.1 where nothing listens (a port just released).
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    format!("http://127.0.0.1:{port}/hook")
}
