//! The `momento_webhook` resource: a webhook that receives one signed POST per message published
//! to its topic. Topic and destination update in place; the secret is stable across updates and
//! rotates in place when `secret_rotation` changes.
use async_trait::async_trait;
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, Fields, Model, PlanChange,
    Resource, Schema, Value,
};

use crate::client::{MomentoClient, RemoteWebhook};
use crate::names::{
    cache_name_attribute, check_destination_url, check_topic_name, check_webhook_name, split_id,
    string_validator,
};

pub struct WebhookResource;

/// State of a `momento_webhook`.
#[derive(Clone, PartialEq)]
pub struct Webhook {
    pub cache_name: String,
    pub name: String,
    pub topic_name: String,
    pub destination_url: String,
    pub secret: Option<String>,
    pub secret_rotation: Option<String>,
    pub id: Option<String>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("cache_name", &self.cache_name)
            .field("name", &self.name)
            .field("topic_name", &self.topic_name)
            .field("destination_url", &self.destination_url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("secret_rotation", &self.secret_rotation)
            .finish()
    }
}

impl Model for Webhook {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            cache_name: f.string("cache_name")?,
            name: f.string("name")?,
            topic_name: f.string("topic_name")?,
            destination_url: f.string("destination_url")?,
            secret: f.opt_string("secret")?,
            secret_rotation: f.opt_string("secret_rotation")?,
            id: f.opt_string("id")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.cache_name.clone().into()),
            ("name", self.name.clone().into()),
            ("topic_name", self.topic_name.clone().into()),
            ("destination_url", self.destination_url.clone().into()),
            ("secret", self.secret.clone().into()),
            ("secret_rotation", self.secret_rotation.clone().into()),
            ("id", self.id.clone().into()),
        ])
    }
}

impl Webhook {
    fn remote(&self) -> RemoteWebhook {
        RemoteWebhook {
            name: self.name.clone(),
            topic_name: self.topic_name.clone(),
            destination_url: self.destination_url.clone(),
        }
    }

    fn with_secret(mut self, secret: String) -> Self {
        self.id = Some(format!("{}/{}", self.cache_name, self.name));
        self.secret = Some(secret);
        self
    }
}

fn missing_after_write(cache: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        "Webhook disappeared",
        format!("The webhook {name:?} in cache {cache:?} was deleted while Terraform was changing it. Run `terraform apply` again."),
    )
    .into()
}

#[async_trait]
impl Resource<MomentoClient> for WebhookResource {
    type Model = Webhook;

    fn type_name(&self) -> &str {
        "momento_webhook"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                cache_name_attribute("webhook"),
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(string_validator(check_webhook_name))
                    .description("Webhook name, 1-128 characters. Changing it replaces the webhook."),
                Attribute::string("topic_name")
                    .required()
                    .validate(string_validator(check_topic_name))
                    .description("The topic whose messages are delivered. Updates in place."),
                Attribute::string("destination_url")
                    .required()
                    .validate(string_validator(check_destination_url))
                    .description("Absolute `http`/`https` URL that receives one POST per published message. Updates in place."),
                Attribute::string("secret")
                    .computed()
                    .sensitive()
                    .keep_prior_state()
                    .description(
                        "The signing secret: receivers verify `momento-signature` (hex HMAC-SHA3-256 of the raw body) with it. \
                         Stable across updates; changes only when `secret_rotation` changes.",
                    ),
                Attribute::string("secret_rotation").optional().description(
                    "Any string; changing it rotates the secret in place (e.g. a date, or a `time_rotating` id).",
                ),
                Attribute::string("id").computed().keep_prior_state().description("`<cache_name>/<name>`."),
            ],
        )
        .description("A Momento webhook: every message published to `topic_name` in `cache_name` is POSTed to `destination_url`, signed with `secret`.")
    }

    fn modify_plan(&self, change: &mut PlanChange<'_>) {
        if change.is_create() {
            return;
        }
        let rotation = |v: &Value| {
            v.get_attr("secret_rotation")
                .cloned()
                .unwrap_or(Value::Null)
        };
        if rotation(change.planned) != rotation(change.prior) {
            change.set_unknown("secret");
        }
    }

    async fn create(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        plan: Webhook,
    ) -> Result<Webhook, Diagnostics> {
        if client
            .find_webhook(&plan.cache_name, &plan.name)
            .await?
            .is_some()
        {
            return Err(Diagnostic::error(
                "Webhook already exists",
                format!(
                    "A webhook named {:?} already exists in cache {:?}. To manage it with Terraform, import it: \
                     `terraform import <resource address> {}/{}`.",
                    plan.name, plan.cache_name, plan.cache_name, plan.name
                ),
            )
            .at(AttributePath::attr("name"))
            .into());
        }
        let secret = client.put_webhook(&plan.cache_name, &plan.remote()).await?;
        Ok(plan.with_secret(secret))
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Webhook,
    ) -> Result<Option<Webhook>, Diagnostics> {
        let Some(remote) = client.find_webhook(&state.cache_name, &state.name).await? else {
            return Ok(None);
        };
        let Some(secret) = client
            .webhook_secret(&state.cache_name, &state.name)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(
            Webhook {
                topic_name: remote.topic_name,
                destination_url: remote.destination_url,
                ..state
            }
            .with_secret(secret),
        ))
    }

    async fn update(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        prior: Webhook,
        plan: Webhook,
    ) -> Result<Webhook, Diagnostics> {
        let mut secret = prior.secret.clone().unwrap_or_default();
        if plan.topic_name != prior.topic_name || plan.destination_url != prior.destination_url {
            secret = client.put_webhook(&plan.cache_name, &plan.remote()).await?;
        }
        if plan.secret_rotation != prior.secret_rotation {
            secret = client
                .rotate_webhook_secret(&plan.cache_name, &plan.name)
                .await?;
        }
        if secret.is_empty() {
            secret = client
                .webhook_secret(&plan.cache_name, &plan.name)
                .await?
                .ok_or_else(|| missing_after_write(&plan.cache_name, &plan.name))?;
        }
        Ok(plan.with_secret(secret))
    }

    async fn delete(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Webhook,
    ) -> Result<(), Diagnostics> {
        client
            .delete_webhook(&state.cache_name, &state.name)
            .await?;
        Ok(())
    }

    async fn import(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        id: &str,
    ) -> Result<Webhook, Diagnostics> {
        let (cache, name) = split_id(id, "webhook")
            .map_err(|why| Diagnostics::from(Diagnostic::error("Invalid import id", why)))?;
        let not_found = || {
            Diagnostics::from(Diagnostic::error(
                "Cannot import a webhook that does not exist",
                format!(
                    "There is no webhook {name:?} in cache {cache:?} at {}.",
                    client.endpoint()
                ),
            ))
        };
        let remote = client
            .find_webhook(&cache, &name)
            .await?
            .ok_or_else(not_found)?;
        let secret = client
            .webhook_secret(&cache, &name)
            .await?
            .ok_or_else(not_found)?;
        Ok(Webhook {
            cache_name: cache.clone(),
            name: name.clone(),
            topic_name: remote.topic_name,
            destination_url: remote.destination_url,
            secret: None,
            secret_rotation: None,
            id: None,
        }
        .with_secret(secret))
    }
}
