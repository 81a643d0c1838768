//! The ephemeral resource `momento_webhook_secret` (Terraform ≥ 1.10): a webhook's current secret,
//! read for one run and never written to state or plan files.
use async_trait::async_trait;
use tfplugin::{
    Attribute, Context, Diagnostic, Diagnostics, EphemeralResource, Fields, Model, Schema, Value,
};

use crate::client::MomentoClient;
use crate::names::{check_cache_name, check_webhook_name, string_validator};

pub struct WebhookSecretEphemeral;

pub struct WebhookSecret {
    pub cache_name: String,
    pub webhook_name: String,
    pub secret: Option<String>,
}

impl Model for WebhookSecret {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            cache_name: f.string("cache_name")?,
            webhook_name: f.string("webhook_name")?,
            secret: f.opt_string("secret")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.cache_name.clone().into()),
            ("webhook_name", self.webhook_name.clone().into()),
            ("secret", self.secret.clone().into()),
        ])
    }
}

#[async_trait]
impl EphemeralResource<MomentoClient> for WebhookSecretEphemeral {
    type Model = WebhookSecret;

    fn type_name(&self) -> &str {
        "momento_webhook_secret"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                Attribute::string("cache_name").required().validate(string_validator(check_cache_name)),
                Attribute::string("webhook_name").required().validate(string_validator(check_webhook_name)),
                Attribute::string("secret")
                    .computed()
                    .sensitive()
                    .description("The webhook's current signing secret."),
            ],
        )
        .description(
            "Reads a webhook's signing secret without storing it in state, so a module can pass it on \
             (e.g. to a write-only attribute or a secret store). Requires Terraform 1.10 or newer.",
        )
    }

    async fn open(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        config: WebhookSecret,
    ) -> Result<WebhookSecret, Diagnostics> {
        let secret = client
            .webhook_secret(&config.cache_name, &config.webhook_name)
            .await?
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Webhook not found",
                    format!(
                        "There is no webhook {:?} in cache {:?} at {}.",
                        config.webhook_name,
                        config.cache_name,
                        client.endpoint()
                    ),
                ))
            })?;
        Ok(WebhookSecret {
            secret: Some(secret),
            ..config
        })
    }
}
