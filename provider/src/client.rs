//! The provider's Momento client: one gRPC channel to the configured endpoint with the API key
//! on every call, and errors turned into diagnostics that name the endpoint and the fix.
use std::sync::Arc;
use std::time::Duration;

use momento_protos::control_client as control;
use momento_protos::control_client::scs_control_client::ScsControlClient;
use momento_wire::topics as topics_pb;
use momento_wire::topics::topics_client::TopicsClient;
use momento_wire::webhook as webhook_pb;
use momento_wire::webhook::webhook_client::WebhookClient;
use tfplugin::{Diagnostic, Diagnostics};
use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::config::{ApiKey, Endpoint};
use crate::topic_reads::{Batch, Read, TopicReads};

/// Adds `authorization: <key>` to every call (Momento sends the key without `Bearer`).
#[derive(Clone)]
pub struct Auth(Option<AsciiMetadataValue>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type Authed = InterceptedService<Channel, Auth>;

/// A connected (lazily) Momento client.
#[derive(Clone)]
pub struct MomentoClient {
    endpoint: String,
    control: ScsControlClient<Authed>,
    webhooks: WebhookClient<Authed>,
    topics: TopicsClient<Authed>,
    /// Topic reads that run at the same time share calls (see [`TopicReads`]).
    topic_reads: Arc<TopicReads>,
}

/// A webhook as the server reports it (secrets are fetched separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteWebhook {
    pub name: String,
    pub topic_name: String,
    pub destination_url: String,
}

/// Whether the server speaks the mock's topic extension (real Momento does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicSupport<T> {
    Supported(T),
    /// The server answered UNIMPLEMENTED for the topic extension.
    Unsupported,
}

impl std::fmt::Debug for MomentoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MomentoClient")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Time allowed to open a connection; an unreachable endpoint fails within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

impl MomentoClient {
    /// Builds the client; nothing is sent until the first call.
    pub fn new(endpoint: &Endpoint, key: &ApiKey) -> Result<Self, Diagnostics> {
        let mut ep = Channel::from_shared(endpoint.uri.clone())
            .map_err(|e| config_error(&endpoint.uri, &e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(false);
        if endpoint.tls {
            ep = ep
                .tls_config(tonic::transport::ClientTlsConfig::new().with_native_roots())
                .map_err(|e| config_error(&endpoint.uri, &e.to_string()))?;
        }
        let channel = ep.connect_lazy();
        let auth = if key.token.is_empty() {
            None
        } else {
            Some(AsciiMetadataValue::try_from(key.token.as_str()).map_err(|_| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Invalid API key",
                        "The API key contains characters that cannot be sent in a gRPC header. Check api_key or MOMENTO_API_KEY.",
                    )
                    .at(tfplugin::AttributePath::attr("api_key")),
                )
            })?)
        };
        let auth = Auth(auth);
        Ok(Self {
            endpoint: endpoint.uri.clone(),
            control: ScsControlClient::with_interceptor(channel.clone(), auth.clone()),
            webhooks: WebhookClient::with_interceptor(channel.clone(), auth.clone()),
            topics: TopicsClient::with_interceptor(channel, auth),
            topic_reads: Arc::new(TopicReads::new(CALL_TIMEOUT)),
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Creates a cache; `Ok(false)` when it already exists.
    pub async fn create_cache(&self, name: &str) -> Result<bool, Diagnostics> {
        let req = control::CreateCacheRequest {
            cache_name: name.to_owned(),
        };
        match self.control.clone().create_cache(req).await {
            Ok(_) => Ok(true),
            Err(s) if s.code() == Code::AlreadyExists => Ok(false),
            Err(s) => Err(self.error(&format!("creating cache {name:?}"), s)),
        }
    }

    /// Deletes a cache; `Ok(false)` when it did not exist.
    pub async fn delete_cache(&self, name: &str) -> Result<bool, Diagnostics> {
        let req = control::DeleteCacheRequest {
            cache_name: name.to_owned(),
        };
        match self.control.clone().delete_cache(req).await {
            Ok(_) => Ok(true),
            Err(s) if s.code() == Code::NotFound => Ok(false),
            Err(s) => Err(self.error(&format!("deleting cache {name:?}"), s)),
        }
    }

    /// All cache names, following `next_token` to the last page.
    pub async fn list_caches(&self) -> Result<Vec<String>, Diagnostics> {
        let mut names = Vec::new();
        let mut next_token = String::new();
        // A server that keeps returning tokens must not loop forever.
        for _ in 0..100_000 {
            let resp = self
                .control
                .clone()
                .list_caches(control::ListCachesRequest {
                    next_token: next_token.clone(),
                })
                .await
                .map_err(|s| self.error("listing caches", s))?
                .into_inner();
            names.extend(resp.cache.into_iter().map(|c| c.cache_name));
            if resp.next_token.is_empty() {
                return Ok(names);
            }
            next_token = resp.next_token;
        }
        Err(Diagnostic::error(
            "Listing caches did not finish",
            format!(
                "The server at {} kept returning more pages of caches.",
                self.endpoint
            ),
        )
        .into())
    }

    /// Whether a cache exists.
    pub async fn cache_exists(&self, name: &str) -> Result<bool, Diagnostics> {
        Ok(self.list_caches().await?.iter().any(|n| n == name))
    }

    /// Creates or updates a webhook (the server keeps its secret on update); returns the secret.
    pub async fn put_webhook(
        &self,
        cache: &str,
        hook: &RemoteWebhook,
    ) -> Result<String, Diagnostics> {
        let req = webhook_pb::PutWebhookRequest {
            webhook: Some(webhook_pb::Webhook {
                webhook_id: Some(webhook_id(cache, &hook.name)),
                topic_name: hook.topic_name.clone(),
                destination: Some(webhook_pb::WebhookDestination {
                    kind: Some(webhook_pb::webhook_destination::Kind::PostUrl(
                        hook.destination_url.clone(),
                    )),
                }),
            }),
        };
        self.webhooks
            .clone()
            .put_webhook(req)
            .await
            .map(|r| r.into_inner().secret_string)
            .map_err(|s| {
                self.error(
                    &format!("writing webhook {:?} in cache {cache:?}", hook.name),
                    s,
                )
            })
    }

    /// Deletes a webhook; `Ok(false)` when it (or its cache) did not exist.
    pub async fn delete_webhook(&self, cache: &str, name: &str) -> Result<bool, Diagnostics> {
        let req = webhook_pb::DeleteWebhookRequest {
            webhook_id: Some(webhook_id(cache, name)),
        };
        match self.webhooks.clone().delete_webhook(req).await {
            Ok(_) => Ok(true),
            Err(s) if s.code() == Code::NotFound => Ok(false),
            Err(s) => Err(self.error(&format!("deleting webhook {name:?} in cache {cache:?}"), s)),
        }
    }

    /// The webhooks of a cache; `None` when the cache does not exist.
    pub async fn list_webhooks(
        &self,
        cache: &str,
    ) -> Result<Option<Vec<RemoteWebhook>>, Diagnostics> {
        let req = webhook_pb::ListWebhookRequest {
            cache_name: cache.to_owned(),
        };
        match self.webhooks.clone().list_webhooks(req).await {
            Ok(r) => Ok(Some(
                r.into_inner()
                    .webhook
                    .into_iter()
                    .map(|w| RemoteWebhook {
                        name: w.webhook_id.map(|id| id.webhook_name).unwrap_or_default(),
                        topic_name: w.topic_name,
                        destination_url: match w.destination.and_then(|d| d.kind) {
                            Some(webhook_pb::webhook_destination::Kind::PostUrl(u)) => u,
                            None => String::new(),
                        },
                    })
                    .collect(),
            )),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(self.error(&format!("listing webhooks of cache {cache:?}"), s)),
        }
    }

    /// One webhook; `None` when it or its cache does not exist.
    pub async fn find_webhook(
        &self,
        cache: &str,
        name: &str,
    ) -> Result<Option<RemoteWebhook>, Diagnostics> {
        Ok(self
            .list_webhooks(cache)
            .await?
            .and_then(|all| all.into_iter().find(|w| w.name == name)))
    }

    /// A webhook's current secret; `None` when the webhook does not exist.
    pub async fn webhook_secret(
        &self,
        cache: &str,
        name: &str,
    ) -> Result<Option<String>, Diagnostics> {
        let req = webhook_pb::GetWebhookSecretRequest {
            cache_name: cache.to_owned(),
            webhook_name: name.to_owned(),
        };
        match self.webhooks.clone().get_webhook_secret(req).await {
            Ok(r) => Ok(Some(r.into_inner().secret_string)),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(self.error(
                &format!("reading the secret of webhook {name:?} in cache {cache:?}"),
                s,
            )),
        }
    }

    /// Rotates a webhook's secret and returns the new one.
    pub async fn rotate_webhook_secret(
        &self,
        cache: &str,
        name: &str,
    ) -> Result<String, Diagnostics> {
        let req = webhook_pb::RotateWebhookSecretRequest {
            webhook_id: Some(webhook_id(cache, name)),
        };
        self.webhooks
            .clone()
            .rotate_webhook_secret(req)
            .await
            .map(|r| r.into_inner().secret_string)
            .map_err(|s| {
                self.error(
                    &format!("rotating the secret of webhook {name:?} in cache {cache:?}"),
                    s,
                )
            })
    }

    /// Declares a topic. `Ok(Supported(false))` when it was declared already.
    pub async fn create_topic(
        &self,
        cache: &str,
        topic: &str,
    ) -> Result<TopicSupport<bool>, Diagnostics> {
        let req = topics_pb::CreateTopicRequest {
            id: Some(topic_id(cache, topic)),
        };
        match self.topics.clone().create_topic(req).await {
            Ok(_) => Ok(TopicSupport::Supported(true)),
            Err(s) if s.code() == Code::AlreadyExists => Ok(TopicSupport::Supported(false)),
            Err(s) if s.code() == Code::Unimplemented => Ok(TopicSupport::Unsupported),
            Err(s) => Err(self.error(&format!("creating topic {topic:?} in cache {cache:?}"), s)),
        }
    }

    /// A topic with its stats; `Supported(None)` when it does not exist.
    pub async fn get_topic(
        &self,
        cache: &str,
        topic: &str,
    ) -> Result<TopicSupport<Option<topics_pb::Topic>>, Diagnostics> {
        let req = topics_pb::GetTopicRequest {
            id: Some(topic_id(cache, topic)),
        };
        match self.topics.clone().get_topic(req).await {
            Ok(r) => Ok(TopicSupport::Supported(r.into_inner().topic)),
            Err(s) if s.code() == Code::NotFound => Ok(TopicSupport::Supported(None)),
            Err(s) if s.code() == Code::Unimplemented => Ok(TopicSupport::Unsupported),
            Err(s) => Err(self.error(&format!("reading topic {topic:?} in cache {cache:?}"), s)),
        }
    }

    /// Like [`Self::get_topic`], for a refresh: reads of the same cache that run at the same time
    /// share one `GetTopics` call (none of them gets an answer older than its own start).
    pub async fn read_topic(
        &self,
        cache: &str,
        topic: &str,
    ) -> Result<TopicSupport<Option<topics_pb::Topic>>, Diagnostics> {
        let fetch = |cache: String, names: Vec<String>| async move {
            let req = topics_pb::GetTopicsRequest {
                cache_name: cache,
                topic_names: names,
            };
            match self.topics.clone().get_topics(req).await {
                Ok(r) => Batch::Found(Arc::new(
                    r.into_inner()
                        .topics
                        .into_iter()
                        .filter_map(|t| Some((t.id.as_ref()?.topic_name.clone(), t)))
                        .collect(),
                )),
                Err(s) if s.code() == Code::Unimplemented => Batch::Unsupported,
                Err(s) => Batch::Failed(s),
            }
        };
        match self.topic_reads.read(cache, topic, fetch).await {
            Read::Found(found) => Ok(TopicSupport::Supported(found)),
            Read::Alone => self.get_topic(cache, topic).await,
            Read::Failed(s) => {
                Err(self.error(&format!("reading topic {topic:?} in cache {cache:?}"), s))
            }
        }
    }

    /// The topics of a cache.
    pub async fn list_topics(
        &self,
        cache: &str,
        include_undeclared: bool,
    ) -> Result<TopicSupport<Vec<topics_pb::Topic>>, Diagnostics> {
        let req = topics_pb::ListTopicsRequest {
            cache_name: cache.to_owned(),
            include_undeclared,
        };
        match self.topics.clone().list_topics(req).await {
            Ok(r) => Ok(TopicSupport::Supported(r.into_inner().topics)),
            Err(s) if s.code() == Code::Unimplemented => Ok(TopicSupport::Unsupported),
            Err(s) => Err(self.error(&format!("listing topics of cache {cache:?}"), s)),
        }
    }

    /// Deletes a topic declaration; `Supported(false)` when it was not declared.
    pub async fn delete_topic(
        &self,
        cache: &str,
        topic: &str,
    ) -> Result<TopicSupport<bool>, Diagnostics> {
        let req = topics_pb::DeleteTopicRequest {
            id: Some(topic_id(cache, topic)),
        };
        match self.topics.clone().delete_topic(req).await {
            Ok(_) => Ok(TopicSupport::Supported(true)),
            Err(s) if s.code() == Code::NotFound => Ok(TopicSupport::Supported(false)),
            Err(s) if s.code() == Code::Unimplemented => Ok(TopicSupport::Unsupported),
            Err(s) => Err(self.error(&format!("deleting topic {topic:?} in cache {cache:?}"), s)),
        }
    }

    /// Turns a failed call into a diagnostic naming the endpoint, the server's code and message,
    /// and what to do.
    pub fn error(&self, what: &str, status: Status) -> Diagnostics {
        status_diagnostic(&self.endpoint, what, &status).into()
    }
}

fn webhook_id(cache: &str, name: &str) -> webhook_pb::WebhookId {
    webhook_pb::WebhookId {
        cache_name: cache.to_owned(),
        webhook_name: name.to_owned(),
    }
}

fn topic_id(cache: &str, topic: &str) -> topics_pb::TopicId {
    topics_pb::TopicId {
        cache_name: cache.to_owned(),
        topic_name: topic.to_owned(),
    }
}

fn config_error(endpoint: &str, why: &str) -> Diagnostics {
    Diagnostic::error(
        "Invalid endpoint",
        format!("The endpoint {endpoint:?} cannot be used: {why}."),
    )
    .at(tfplugin::AttributePath::attr("endpoint"))
    .into()
}

/// The chain of causes behind a status, e.g. "transport error: connection refused".
fn causes(status: &Status) -> String {
    let mut parts = vec![];
    let mut source = std::error::Error::source(status);
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    if parts.is_empty() {
        status.message().to_owned()
    } else {
        parts.join(": ")
    }
}

pub(crate) fn status_diagnostic(endpoint: &str, what: &str, status: &Status) -> Diagnostic {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
            if status.message().contains("transport") || status.code() != Code::Unknown =>
        {
            Diagnostic::error(
                format!("Cannot reach Momento at {endpoint}"),
                format!(
                    "{what} failed: {}. Check the provider's endpoint (or MOMENTO_ENDPOINT) and that the server is running.",
                    causes(status)
                ),
            )
        }
        Code::Unauthenticated => Diagnostic::error(
            format!("Momento at {endpoint} rejected the API key"),
            format!(
                "{what} failed: {}. Check the provider's api_key (or MOMENTO_API_KEY).",
                status.message()
            ),
        ),
        Code::PermissionDenied => Diagnostic::error(
            format!("Not allowed by Momento at {endpoint}"),
            format!("{what} failed: {}. The API key lacks permission for this operation.", status.message()),
        ),
        code => Diagnostic::error(
            format!("Momento error while {what}"),
            format!("The server at {endpoint} answered {code:?}: {}", status.message()),
        ),
    }
}
