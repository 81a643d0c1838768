//! The data sources `momento_webhooks` (the webhooks of a cache) and `momento_topics` (the topics
//! of a cache, from momento-mock's topic extension).
use async_trait::async_trait;
use tfplugin::{
    Attribute, Context, DataSource, Diagnostic, Diagnostics, Fields, Model, Nesting, Schema, Type,
    Value,
};

use crate::client::{MomentoClient, TopicSupport};
use crate::names::{check_cache_name, string_validator};

pub struct WebhooksDataSource;

/// A cache name plus the objects listed in it.
pub struct Listing {
    pub cache_name: String,
    pub items: Value,
}

fn cache_name_of(v: &Value) -> Result<String, Diagnostics> {
    Fields::new(v)?.string("cache_name")
}

fn cache_not_found(client: &MomentoClient, cache: &str) -> Diagnostics {
    Diagnostic::error(
        "Cache not found",
        format!("There is no cache {cache:?} at {}.", client.endpoint()),
    )
    .into()
}

pub struct WebhookListing(pub Listing);

impl Model for WebhookListing {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        Ok(Self(Listing {
            cache_name: cache_name_of(v)?,
            items: Value::Null,
        }))
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.0.cache_name.clone().into()),
            ("webhooks", self.0.items.clone()),
        ])
    }
}

#[async_trait]
impl DataSource<MomentoClient> for WebhooksDataSource {
    type Model = WebhookListing;

    fn type_name(&self) -> &str {
        "momento_webhooks"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                Attribute::string("cache_name")
                    .required()
                    .validate(string_validator(check_cache_name)),
                Attribute::nested(
                    "webhooks",
                    Nesting::List,
                    vec![
                        Attribute::string("name").computed(),
                        Attribute::string("topic_name").computed(),
                        Attribute::string("destination_url").computed(),
                    ],
                )
                .computed()
                .description("The cache's webhooks, sorted by name (secrets are not listed)."),
            ],
        )
        .description("Lists the webhooks of a cache.")
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        config: WebhookListing,
    ) -> Result<WebhookListing, Diagnostics> {
        let cache = config.0.cache_name;
        let mut hooks = client
            .list_webhooks(&cache)
            .await?
            .ok_or_else(|| cache_not_found(client, &cache))?;
        hooks.sort_by(|a, b| a.name.cmp(&b.name));
        let items = Value::list(hooks.into_iter().map(|h| {
            Value::object([
                ("name", h.name.into()),
                ("topic_name", h.topic_name.into()),
                ("destination_url", h.destination_url.into()),
            ])
        }));
        Ok(WebhookListing(Listing {
            cache_name: cache,
            items,
        }))
    }
}

pub struct TopicsDataSource;

pub struct TopicListing(pub Listing);

impl Model for TopicListing {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        Ok(Self(Listing {
            cache_name: cache_name_of(v)?,
            items: Value::Null,
        }))
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("cache_name", self.0.cache_name.clone().into()),
            ("names", self.0.items.clone()),
        ])
    }
}

#[async_trait]
impl DataSource<MomentoClient> for TopicsDataSource {
    type Model = TopicListing;

    fn type_name(&self) -> &str {
        "momento_topics"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                Attribute::string("cache_name").required().validate(string_validator(check_cache_name)),
                Attribute::new("names", Type::list(Type::String))
                    .computed()
                    .description("Names of the topics declared in the cache, sorted."),
            ],
        )
        .description("Lists the topics declared in a cache (momento-mock's topic extension; real Momento has no topic objects).")
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        config: TopicListing,
    ) -> Result<TopicListing, Diagnostics> {
        let cache = config.0.cache_name;
        let topics = match client.list_topics(&cache, false).await? {
            TopicSupport::Supported(t) => t,
            TopicSupport::Unsupported => {
                return Err(Diagnostic::error(
                    "Topics cannot be listed",
                    format!(
                        "The server at {} does not offer momento-mock's topic extension; real Momento has no topic objects to list.",
                        client.endpoint()
                    ),
                )
                .into())
            }
        };
        let mut names: Vec<String> = topics
            .into_iter()
            .filter_map(|t| t.id.map(|id| id.topic_name))
            .collect();
        names.sort();
        Ok(TopicListing(Listing {
            cache_name: cache,
            items: Value::list(names.into_iter().map(Value::from)),
        }))
    }
}
