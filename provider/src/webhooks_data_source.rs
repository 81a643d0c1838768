//! The data sources `momento_webhooks` (the webhooks of a cache) and `momento_topics` (the topics
//! of a cache, from momento-mock's topic extension).
use async_trait::async_trait;
use tfplugin::{
    Attribute, Context, DataSource, Diagnostic, Diagnostics, Fields, Nesting, Schema, Type, Value,
};

use crate::client::{MomentoClient, TopicSupport};
use crate::names::{check_cache_name, string_validator};

pub struct WebhooksDataSource;

fn cache_name_of(v: &Value) -> Result<String, Diagnostics> {
    Fields::new(v)?.string("cache_name")
}

/// The data source's value: the configured cache name and what was listed in it.
fn listing(cache: String, attribute: &str, items: Value) -> Value {
    Value::object([("cache_name", Value::from(cache)), (attribute, items)])
}

fn cache_not_found(client: &MomentoClient, cache: &str) -> Diagnostics {
    Diagnostic::error(
        "Cache not found",
        format!("There is no cache {cache:?} at {}.", client.endpoint()),
    )
    .into()
}

#[async_trait]
impl DataSource<MomentoClient> for WebhooksDataSource {
    type Model = Value;

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
        config: Value,
    ) -> Result<Value, Diagnostics> {
        let cache = cache_name_of(&config)?;
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
        Ok(listing(cache, "webhooks", items))
    }
}

pub struct TopicsDataSource;

#[async_trait]
impl DataSource<MomentoClient> for TopicsDataSource {
    type Model = Value;

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
        config: Value,
    ) -> Result<Value, Diagnostics> {
        let cache = cache_name_of(&config)?;
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
        Ok(listing(
            cache,
            "names",
            Value::list(names.into_iter().map(Value::from)),
        ))
    }
}
