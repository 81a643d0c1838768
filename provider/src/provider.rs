//! The `momento` provider: its configuration (`endpoint`, `api_key`) and its resources and data
//! sources.
use std::sync::Arc;

use async_trait::async_trait;
use tfplugin::resource::{DynDataSource, DynEphemeralResource, DynResource};
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, Fields, Model, Schema, Value,
};

use crate::client::MomentoClient;
use crate::config::{ApiKey, Endpoint};

/// The provider.
#[derive(Default)]
pub struct MomentoProvider;

/// The provider block.
#[derive(Debug, Default)]
pub struct ProviderConfig {
    pub endpoint: Option<String>,
    pub api_key: Option<String>,
}

impl Model for ProviderConfig {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            endpoint: f.opt_string("endpoint")?,
            api_key: f.opt_string("api_key")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("endpoint", self.endpoint.clone().into()),
            ("api_key", self.api_key.clone().into()),
        ])
    }
}

fn from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[async_trait]
impl tfplugin::Provider for MomentoProvider {
    type Config = ProviderConfig;
    type Client = MomentoClient;

    fn type_name(&self) -> &str {
        "momento"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                Attribute::string("endpoint").optional().description(
                    "Where Momento is. `http://host:port` is plaintext gRPC to that address (the \
                     mock: `http://127.0.0.1:8080`); `https://host[:port]` is TLS; a bare base host \
                     such as `cell-4-us-west-2-1.prod.a.momentohq.com` means TLS to \
                     `control.<host>:443`, as Momento's SDKs do. Defaults to `MOMENTO_ENDPOINT`, \
                     then to the endpoint inside a v1 API key.",
                ),
                Attribute::string("api_key").optional().sensitive().description(
                    "Momento API key. Defaults to `MOMENTO_API_KEY`. A v1 key (base64 JSON) is \
                     unwrapped to its inner key. May be empty for the mock's open mode.",
                ),
            ],
        )
        .description("Manages Momento caches, topics and webhooks.")
    }

    async fn configure(
        &self,
        ctx: &Context,
        config: ProviderConfig,
    ) -> Result<MomentoClient, Diagnostics> {
        for name in ["endpoint", "api_key"] {
            if ctx.config().get_attr(name).is_some_and(Value::is_unknown) {
                return Err(Diagnostic::error(
                    "Provider configuration not known yet",
                    format!(
                        "`{name}` depends on a value that is only known after apply. The provider must be configured \
                         before planning: use a value known at plan time (a variable, or an environment variable)."
                    ),
                )
                .at(AttributePath::attr(name))
                .into());
            }
        }
        let key = ApiKey::parse(
            &config
                .api_key
                .or_else(|| from_env("MOMENTO_API_KEY"))
                .unwrap_or_default(),
        );
        let (raw, source) = match (config.endpoint, from_env("MOMENTO_ENDPOINT"), key.endpoint.clone()) {
            (Some(e), _, _) => (e, "endpoint"),
            (None, Some(e), _) => (e, "MOMENTO_ENDPOINT"),
            (None, None, Some(e)) => (e, "the API key's endpoint"),
            (None, None, None) => {
                return Err(Diagnostic::error(
                    "No Momento endpoint",
                    "Set `endpoint` in the provider block or the MOMENTO_ENDPOINT environment variable \
                     (for a local momento-mock: http://127.0.0.1:8080), or use a v1 API key that names its endpoint.",
                )
                .at(AttributePath::attr("endpoint"))
                .into())
            }
        };
        let endpoint = Endpoint::parse(&raw).map_err(|why| {
            Diagnostics::from(
                Diagnostic::error("Invalid endpoint", format!("{source}: {why}."))
                    .at(AttributePath::attr("endpoint")),
            )
        })?;
        tracing::debug!(endpoint = %endpoint.uri, "configuring the Momento client");
        MomentoClient::new(&endpoint, &key)
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource<MomentoClient>>> {
        vec![
            Arc::new(crate::cache::CacheResource),
            Arc::new(crate::topic::TopicResource),
            Arc::new(crate::webhook::WebhookResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource<MomentoClient>>> {
        vec![
            Arc::new(crate::caches_data_source::CachesDataSource),
            Arc::new(crate::webhooks_data_source::WebhooksDataSource),
            Arc::new(crate::webhooks_data_source::TopicsDataSource),
        ]
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn DynEphemeralResource<MomentoClient>>> {
        vec![Arc::new(crate::webhook_secret::WebhookSecretEphemeral)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_is_one_terraform_accepts() {
        if let Err(e) = tfplugin::server::ProviderService::new(MomentoProvider) {
            panic!("invalid schema:\n{e}");
        }
    }
}
