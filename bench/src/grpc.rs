//! gRPC clients of the mock used by the scenarios: channels, publish, cache and webhook set-up,
//! and [`Publisher`], a lean unary `Publish` client for the fan-out load.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use http::header::CONTENT_TYPE;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use momento_protos::cache_client::pubsub::{topic_value, PublishRequest, TopicValue};
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_protos::control_client::CreateCacheRequest;
use momento_wire::webhook::webhook_client::WebhookClient;
use momento_wire::webhook::webhook_destination::Kind;
use momento_wire::webhook::{PutWebhookRequest, Webhook, WebhookDestination, WebhookId};
use prost::Message as _;
use tonic::transport::{Channel, Endpoint};

/// A plaintext HTTP/2 channel with TCP_NODELAY to `endpoint` (`http://host:port`). Must be
/// called on the runtime that will use it.
pub async fn channel(endpoint: &str) -> Result<Channel> {
    Endpoint::from_shared(endpoint.to_owned())?
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {endpoint}"))
}

/// A `Publish` request of a text value.
pub fn publish_request(cache: &str, topic: &str, text: String) -> PublishRequest {
    PublishRequest {
        cache_name: cache.to_owned(),
        topic: topic.to_owned(),
        value: Some(TopicValue {
            kind: Some(topic_value::Kind::Text(text)),
        }),
    }
}

/// `CreateCache` over gRPC (for a mock in another process).
pub async fn create_cache(channel: Channel, name: &str) -> Result<()> {
    ScsControlClient::new(channel)
        .create_cache(CreateCacheRequest {
            cache_name: name.to_owned(),
        })
        .await
        .context("CreateCache")?;
    Ok(())
}

/// `PutWebhook` over gRPC; returns the secret.
pub async fn put_webhook(
    channel: Channel,
    cache: &str,
    name: &str,
    topic: &str,
    url: &str,
) -> Result<String> {
    let response = WebhookClient::new(channel)
        .put_webhook(PutWebhookRequest {
            webhook: Some(Webhook {
                webhook_id: Some(WebhookId {
                    cache_name: cache.to_owned(),
                    webhook_name: name.to_owned(),
                }),
                topic_name: topic.to_owned(),
                destination: Some(WebhookDestination {
                    kind: Some(Kind::PostUrl(url.to_owned())),
                }),
            }),
        })
        .await
        .context("PutWebhook")?;
    Ok(response.into_inner().secret_string)
}

/// `Publish` over one HTTP/2 connection with hyper directly (gRPC framing by hand, no tonic
/// channel, buffer task or codec layers): on 2 cores every cycle the load generator spends is
/// one the mock does not get, so the fan-out load is made as cheap as it can be. Clones share
/// the connection (HTTP/2 streams).
#[derive(Clone)]
pub struct Publisher {
    send: SendRequest<Full<Bytes>>,
    uri: http::Uri,
}

impl Publisher {
    /// Connects to the mock at `addr` (TCP_NODELAY, h2c). Call on the runtime that will use it.
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .handshake(TokioIo::new(tcp))
            .await
            .context("HTTP/2 handshake")?;
        tokio::spawn(conn);
        Ok(Self {
            send,
            uri: format!("http://{addr}/cache_client.pubsub.Pubsub/Publish").parse()?,
        })
    }

    /// One unary `Publish`; fails unless the answer is `grpc-status: 0`.
    pub async fn publish(&mut self, request: &PublishRequest) -> Result<()> {
        let len = request.encoded_len();
        let mut frame = Vec::with_capacity(5 + len);
        frame.push(0);
        frame.extend_from_slice(&u32::try_from(len)?.to_be_bytes());
        request.encode(&mut frame)?;
        let http_request = http::Request::post(self.uri.clone())
            .header(CONTENT_TYPE, "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::from(frame)))?;
        self.send.ready().await.context("HTTP/2 connection")?;
        let response = self
            .send
            .send_request(http_request)
            .await
            .context("Publish")?;
        anyhow::ensure!(
            response.status().is_success(),
            "Publish: HTTP {}",
            response.status()
        );
        let in_headers = response.headers().get("grpc-status").cloned();
        let body = response
            .into_body()
            .collect()
            .await
            .context("Publish answer")?;
        let status = body
            .trailers()
            .and_then(|t| t.get("grpc-status").cloned())
            .or(in_headers);
        match status.as_ref().map(http::HeaderValue::as_bytes) {
            Some(b"0") => Ok(()),
            other => anyhow::bail!("Publish failed: grpc-status {other:?}"),
        }
    }
}
