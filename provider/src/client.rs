//! The provider's Momento client: one gRPC channel to the configured endpoint with the API key
//! on every call, and errors turned into diagnostics that name the endpoint and the fix.
use std::time::Duration;

use momento_protos::control_client as control;
use momento_protos::control_client::scs_control_client::ScsControlClient;
use tfplugin::{Diagnostic, Diagnostics};
use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::config::{ApiKey, Endpoint};

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
        Ok(Self {
            endpoint: endpoint.uri.clone(),
            control: ScsControlClient::with_interceptor(channel, Auth(auth)),
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

    /// Turns a failed call into a diagnostic naming the endpoint, the server's code and message,
    /// and what to do.
    pub fn error(&self, what: &str, status: Status) -> Diagnostics {
        status_diagnostic(&self.endpoint, what, &status).into()
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
