//! The ephemeral resource `momento_webhook_secret` (Terraform ≥ 1.10): a webhook's current secret,
//! read for one run and never written to state or plan files.
use async_trait::async_trait;
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, EphemeralResource, Fields, Model,
    Schema, Value,
};

use crate::client::MomentoClient;
use crate::names::{
    check_cache_name, check_webhook_id, check_webhook_name, parse_webhook_id, string_validator,
};

pub struct WebhookSecretEphemeral;

pub struct WebhookSecret {
    pub cache_name: Option<String>,
    pub webhook_name: Option<String>,
    pub webhook_id: Option<String>,
    pub secret: Option<String>,
}

impl Model for WebhookSecret {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            cache_name: f.opt_string("cache_name")?,
            webhook_name: f.opt_string("webhook_name")?,
            webhook_id: f.opt_string("webhook_id")?,
            secret: f.opt_string("secret")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.cache_name.clone().into()),
            ("webhook_name", self.webhook_name.clone().into()),
            ("webhook_id", self.webhook_id.clone().into()),
            ("secret", self.secret.clone().into()),
        ])
    }
}

impl WebhookSecret {
    /// The webhook's cache and name, from whichever form the configuration used.
    fn webhook(&self) -> Result<(String, String), Diagnostics> {
        match (&self.webhook_id, &self.cache_name, &self.webhook_name) {
            (Some(id), None, None) => parse_webhook_id(id)
                .map(|(cache, name)| (cache.to_owned(), name.to_owned()))
                .map_err(|why| {
                    Diagnostics::from(
                        Diagnostic::error("Invalid webhook_id", why)
                            .at(AttributePath::attr("webhook_id")),
                    )
                }),
            (None, Some(cache), Some(name)) => Ok((cache.clone(), name.clone())),
            _ => Err(Diagnostics::from(Diagnostic::error(
                "Which webhook?",
                "Set either webhook_id, or both cache_name and webhook_name.",
            ))),
        }
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
                Attribute::string("cache_name")
                    .optional()
                    .validate(string_validator(check_cache_name))
                    .description("The webhook's cache. Set it with `webhook_name`, or set `webhook_id` instead."),
                Attribute::string("webhook_name")
                    .optional()
                    .validate(string_validator(check_webhook_name))
                    .description("The webhook's name. Set it with `cache_name`, or set `webhook_id` instead."),
                Attribute::string("webhook_id")
                    .optional()
                    .validate(string_validator(check_webhook_id))
                    .description(
                        "The webhook's `<cache_name>/<name>` id, instead of `cache_name` and `webhook_name`. \
                         Use `webhook_id = momento_webhook.<name>.id` when the same configuration creates the \
                         webhook: the id is known only once the webhook exists, so Terraform opens this \
                         resource after creating it, not at plan time.",
                    ),
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

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let set = |name: &str| config.get_attr(name).is_some_and(|v| !v.is_null());
        let (id, cache, name) = (set("webhook_id"), set("cache_name"), set("webhook_name"));
        if id && (cache || name) {
            diags.push(
                Diagnostic::error(
                    "Conflicting webhook references",
                    "Set either webhook_id, or cache_name and webhook_name, not both.",
                )
                .at(AttributePath::attr("webhook_id")),
            );
        } else if !id && (!cache || !name) {
            let (missing, other) = if cache {
                ("webhook_name", "cache_name")
            } else {
                ("cache_name", "webhook_name")
            };
            diags.push(
                Diagnostic::error(
                    "Which webhook?",
                    format!(
                        "Set {missing} (with {other}), or set webhook_id = momento_webhook.<name>.id instead."
                    ),
                )
                .at(AttributePath::attr(missing)),
            );
        }
    }

    async fn open(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        config: WebhookSecret,
    ) -> Result<WebhookSecret, Diagnostics> {
        let (cache, name) = config.webhook()?;
        let secret = client.webhook_secret(&cache, &name).await?.ok_or_else(|| {
            let hint = if config.webhook_id.is_some() {
                ""
            } else {
                " If this configuration creates the webhook, Terraform opened this ephemeral resource \
                 at plan time, before the webhook existed: set webhook_id = momento_webhook.<name>.id \
                 instead of cache_name and webhook_name, and it is opened after the webhook is created."
            };
            Diagnostics::from(Diagnostic::error(
                "Webhook not found",
                format!(
                    "There is no webhook {name:?} in cache {cache:?} at {}.{hint}",
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
