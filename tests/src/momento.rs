//! Talking to the mock the way users' code does: publishing over gRPC and Momento's HTTP API,
//! subscribing, waiting on the delivery journal, verifying webhook signatures, and `wiremock`
//! receivers that stand in for webhook destinations.
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use hmac::{Hmac, Mac};
use momento_protos::cache_client::pubsub as pubsub_pb;
use serde_json::Value as Json;
use sha3::Sha3_256;

/// Lowercase hex of HMAC-SHA3-256 over `body` with the secret's UTF-8 bytes as key: the value of
/// Momento's `momento-signature` header.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha3_256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` (the `momento-signature` header) is valid for `body` under `secret`.
pub fn verify_signature(secret: &str, body: &[u8], signature: &str) -> bool {
    let mut mac = <Hmac<Sha3_256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    let Some(expected) = decode_hex(signature.trim()) else {
        return false;
    };
    mac.verify_slice(&expected).is_ok()
}

/// `text` with every webhook secret (`whsec_...`) replaced, for failure output.
pub fn redact_secrets(text: &str) -> String {
    static SECRET: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| regex::Regex::new(r"whsec_[A-Za-z0-9_-]+").expect("valid regex"))
        .replace_all(text, "whsec_<redacted>")
        .into_owned()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn pubsub(
    endpoint: &str,
) -> Result<pubsub_pb::pubsub_client::PubsubClient<tonic::transport::Channel>> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())?
        .connect()
        .await
        .with_context(|| format!("connecting to {endpoint}"))?;
    Ok(pubsub_pb::pubsub_client::PubsubClient::new(channel))
}

/// Publishes a text message over gRPC (`cache_client.pubsub.Pubsub/Publish`).
pub async fn publish_grpc(
    endpoint: &str,
    cache: &str,
    topic: &str,
    text: &str,
) -> Result<(), tonic::Status> {
    let mut client = pubsub(endpoint)
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    client
        .publish(pubsub_pb::PublishRequest {
            cache_name: cache.into(),
            topic: topic.into(),
            value: Some(pubsub_pb::TopicValue {
                kind: Some(pubsub_pb::topic_value::Kind::Text(text.into())),
            }),
        })
        .await
        .map(|_| ())
}

/// Publishes through Momento's HTTP API (`POST /topics/{cache}/{topic}`) and returns the status.
pub async fn publish_http(endpoint: &str, cache: &str, topic: &str, text: &str) -> Result<u16> {
    let resp = reqwest::Client::new()
        .post(format!("{endpoint}/topics/{cache}/{topic}"))
        .header("content-type", "text/plain")
        .body(text.to_owned())
        .send()
        .await
        .context("POST /topics")?;
    Ok(resp.status().as_u16())
}

/// Subscribes over gRPC; the stream yields items, heartbeats and discontinuities.
pub async fn subscribe(
    endpoint: &str,
    cache: &str,
    topic: &str,
) -> Result<tonic::Streaming<pubsub_pb::SubscriptionItem>> {
    let mut client = pubsub(endpoint).await?;
    Ok(client
        .subscribe(pubsub_pb::SubscriptionRequest {
            cache_name: cache.into(),
            topic: topic.into(),
            resume_at_topic_sequence_number: 0,
            sequence_page: 0,
        })
        .await?
        .into_inner())
}

/// Which journal entries to wait for (`GET /_mock/deliveries`).
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub cache: Option<String>,
    pub topic: Option<String>,
    pub webhook: Option<String>,
    /// `delivered`, `failed` or `dropped`.
    pub outcome: Option<String>,
}

impl DeliveryFilter {
    pub fn webhook(name: &str) -> Self {
        Self {
            webhook: Some(name.into()),
            ..Default::default()
        }
    }

    pub fn outcome(mut self, outcome: &str) -> Self {
        self.outcome = Some(outcome.into());
        self
    }
}

/// Long-polls the mock's delivery journal until at least `n` entries match or `timeout` passes;
/// returns the matching entries (fails if fewer than `n`).
pub async fn wait_for_deliveries(
    endpoint: &str,
    filter: &DeliveryFilter,
    n: usize,
    timeout: Duration,
) -> Result<Vec<Json>> {
    let mut query = vec![
        ("min_count", n.to_string()),
        ("timeout_ms", timeout.as_millis().to_string()),
    ];
    for (k, v) in [
        ("cache", &filter.cache),
        ("topic", &filter.topic),
        ("webhook", &filter.webhook),
        ("outcome", &filter.outcome),
    ] {
        if let Some(v) = v {
            query.push((k, v.clone()));
        }
    }
    let body: Json = reqwest::Client::new()
        .get(format!("{endpoint}/_mock/deliveries"))
        .query(&query)
        .timeout(timeout + Duration::from_secs(30))
        .send()
        .await
        .context("GET /_mock/deliveries")?
        .error_for_status()?
        .json()
        .await?;
    let entries = body["deliveries"].as_array().cloned().unwrap_or_default();
    if entries.len() < n {
        bail!(
            "waited {timeout:?} for {n} deliveries matching {filter:?}, journal has {}: {body}",
            entries.len()
        );
    }
    Ok(entries)
}

/// A webhook destination: a real HTTP server that records every request.
pub struct Receiver {
    pub server: wiremock::MockServer,
}

impl Receiver {
    /// A receiver answering every POST with `status`.
    pub async fn answering(status: u16) -> Self {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(wiremock::ResponseTemplate::new(status))
            .mount(&server)
            .await;
        Self { server }
    }

    /// A receiver that never answers within any sane delivery timeout.
    pub async fn never_answering() -> Self {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(wiremock::ResponseTemplate::new(204).set_delay(Duration::from_secs(600)))
            .mount(&server)
            .await;
        Self { server }
    }

    /// The URL to use as `destination_url`.
    pub fn url(&self) -> String {
        format!("{}/hook", self.server.uri())
    }

    /// Every POST received so far.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The bodies received so far, parsed as JSON.
    pub async fn bodies(&self) -> Vec<Json> {
        self.requests()
            .await
            .iter()
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port just released).
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}/hook")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentos_documented_signature_vector() {
        let body = br#"{"text":"some text", "another_field": "another field" }"#;
        assert_eq!(
            sign("1234567890", body),
            "b43f72787eb66410ff110295b036ef828e5686af21b414ce092f02c05deea3da"
        );
        assert!(verify_signature(
            "1234567890",
            body,
            "b43f72787eb66410ff110295b036ef828e5686af21b414ce092f02c05deea3da"
        ));
        assert!(!verify_signature(
            "123456789",
            body,
            "b43f72787eb66410ff110295b036ef828e5686af21b414ce092f02c05deea3da"
        ));
        assert!(!verify_signature("1234567890", body, "zz"));
    }

    #[test]
    fn secrets_are_redacted() {
        let text = "secret whsec_AbC-123_x9 and \"whsec_q\"";
        assert_eq!(
            redact_secrets(text),
            "secret whsec_<redacted> and \"whsec_<redacted>\""
        );
    }
}
