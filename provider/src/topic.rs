//! The `momento_topic` resource: a topic declared in a cache through momento-mock's topic
//! extension. Against a server without the extension (real Momento, where topics exist as soon as
//! they are used) it is kept in state only, with a warning.
use async_trait::async_trait;
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, Fields, Model, Resource, Schema,
    Value,
};

use crate::client::{MomentoClient, TopicSupport};
use crate::names::{cache_name_attribute, check_topic_name, split_id, string_validator};

pub struct TopicResource;

/// State of a `momento_topic`.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub cache_name: String,
    pub name: String,
    pub id: Option<String>,
}

impl Model for Topic {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            cache_name: f.string("cache_name")?,
            name: f.string("name")?,
            id: f.opt_string("id")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.cache_name.clone().into()),
            ("name", self.name.clone().into()),
            ("id", self.id.clone().into()),
        ])
    }
}

impl Topic {
    fn existing(cache_name: String, name: String) -> Self {
        Self {
            id: Some(format!("{cache_name}/{name}")),
            cache_name,
            name,
        }
    }
}

fn state_only_warning(ctx: &Context, client: &MomentoClient) {
    ctx.warn(
        "Topic kept in Terraform state only",
        format!(
            "The server at {} does not offer momento-mock's topic extension (real Momento has no topic objects: \
             a topic exists as soon as it is used). This momento_topic is recorded in state only.",
            client.endpoint()
        ),
    );
}

#[async_trait]
impl Resource<MomentoClient> for TopicResource {
    type Model = Topic;

    fn type_name(&self) -> &str {
        "momento_topic"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                cache_name_attribute("topic"),
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(string_validator(check_topic_name))
                    .description("Topic name (non-empty). Changing it replaces the topic."),
                Attribute::string("id")
                    .computed()
                    .keep_prior_state()
                    .description("`<cache_name>/<name>`."),
            ],
        )
        .description(
            "A topic in a cache. Momento creates topics implicitly when they are used; momento-mock \
             lets you declare them (and, with `--strict-topics`, requires it), with per-topic stats. \
             Against real Momento this resource is kept in state only.",
        )
    }

    async fn create(
        &self,
        ctx: &Context,
        client: &MomentoClient,
        plan: Topic,
    ) -> Result<Topic, Diagnostics> {
        match client.create_topic(&plan.cache_name, &plan.name).await? {
            TopicSupport::Supported(true) => {}
            TopicSupport::Supported(false) => {
                return Err(Diagnostic::error(
                    "Topic already exists",
                    format!(
                        "The topic {:?} is already declared in cache {:?}. To manage it with Terraform, import it: \
                         `terraform import <resource address> {}/{}`.",
                        plan.name, plan.cache_name, plan.cache_name, plan.name
                    ),
                )
                .at(AttributePath::attr("name"))
                .into())
            }
            TopicSupport::Unsupported => state_only_warning(ctx, client),
        }
        Ok(Topic::existing(plan.cache_name, plan.name))
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Topic,
    ) -> Result<Option<Topic>, Diagnostics> {
        Ok(
            match client.read_topic(&state.cache_name, &state.name).await? {
                TopicSupport::Supported(Some(t)) if t.declared => {
                    Some(Topic::existing(state.cache_name, state.name))
                }
                TopicSupport::Supported(_) => None,
                TopicSupport::Unsupported => Some(Topic::existing(state.cache_name, state.name)),
            },
        )
    }

    async fn update(
        &self,
        _ctx: &Context,
        _client: &MomentoClient,
        _prior: Topic,
        plan: Topic,
    ) -> Result<Topic, Diagnostics> {
        // Every configurable attribute forces replacement.
        Ok(Topic::existing(plan.cache_name, plan.name))
    }

    async fn delete(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Topic,
    ) -> Result<(), Diagnostics> {
        // Already gone, or a server without the extension: nothing to delete.
        client.delete_topic(&state.cache_name, &state.name).await?;
        Ok(())
    }

    async fn import(
        &self,
        ctx: &Context,
        client: &MomentoClient,
        id: &str,
    ) -> Result<Topic, Diagnostics> {
        let (cache, name) = split_id(id, "topic")
            .map_err(|why| Diagnostics::from(Diagnostic::error("Invalid import id", why)))?;
        match client.get_topic(&cache, &name).await? {
            TopicSupport::Supported(Some(t)) if t.declared => {}
            TopicSupport::Supported(_) => {
                return Err(Diagnostic::error(
                    "Cannot import a topic that is not declared",
                    format!(
                        "There is no declared topic {name:?} in cache {cache:?} at {}.",
                        client.endpoint()
                    ),
                )
                .into())
            }
            TopicSupport::Unsupported => state_only_warning(ctx, client),
        }
        Ok(Topic::existing(cache, name))
    }
}
