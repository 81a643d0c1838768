//! The `momento_cache` resource: a cache, named by its `name` (which is also its id).
use async_trait::async_trait;
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, Fields, Model, Resource, Schema,
    Value,
};

use crate::client::MomentoClient;
use crate::names::{check_cache_name, string_validator};

pub struct CacheResource;

/// State of a `momento_cache`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cache {
    pub name: String,
    pub id: Option<String>,
}

impl Model for Cache {
    fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let f = Fields::new(v)?;
        Ok(Self {
            name: f.string("name")?,
            id: f.opt_string("id")?,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("name", self.name.clone().into()),
            ("id", self.id.clone().into()),
        ])
    }
}

impl Cache {
    fn existing(name: String) -> Self {
        Self {
            id: Some(name.clone()),
            name,
        }
    }
}

#[async_trait]
impl Resource<MomentoClient> for CacheResource {
    type Model = Cache;

    fn type_name(&self) -> &str {
        "momento_cache"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            vec![
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate(string_validator(check_cache_name))
                    .description("Name of the cache: 1-255 characters of letters, digits, `.`, `_` and `-`. Changing it replaces the cache."),
                Attribute::string("id")
                    .computed()
                    .keep_prior_state()
                    .description("Same as `name`."),
            ],
        )
        .description("A Momento cache. Topics and webhooks live inside a cache.")
    }

    async fn create(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        plan: Cache,
    ) -> Result<Cache, Diagnostics> {
        if !client.create_cache(&plan.name).await? {
            return Err(Diagnostic::error(
                "Cache already exists",
                format!(
                    "A cache named {:?} already exists at {}. To manage it with Terraform, import it: \
                     `terraform import <resource address> {}` (or an `import` block with id = {:?}).",
                    plan.name,
                    client.endpoint(),
                    plan.name,
                    plan.name
                ),
            )
            .at(AttributePath::attr("name"))
            .into());
        }
        Ok(Cache::existing(plan.name))
    }

    async fn read(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Cache,
    ) -> Result<Option<Cache>, Diagnostics> {
        Ok(client
            .cache_exists(&state.name)
            .await?
            .then(|| Cache::existing(state.name)))
    }

    async fn update(
        &self,
        _ctx: &Context,
        _client: &MomentoClient,
        _prior: Cache,
        plan: Cache,
    ) -> Result<Cache, Diagnostics> {
        // `name` is the only configurable attribute and changing it replaces the cache.
        Ok(Cache::existing(plan.name))
    }

    async fn delete(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        state: Cache,
    ) -> Result<(), Diagnostics> {
        client.delete_cache(&state.name).await?;
        Ok(())
    }

    async fn import(
        &self,
        _ctx: &Context,
        client: &MomentoClient,
        id: &str,
    ) -> Result<Cache, Diagnostics> {
        if let Err(why) = check_cache_name(id) {
            return Err(Diagnostic::error(
                "Invalid import id",
                format!("Import a cache by its name. {why}"),
            )
            .into());
        }
        if !client.cache_exists(id).await? {
            return Err(Diagnostic::error(
                "Cannot import a cache that does not exist",
                format!("There is no cache named {id:?} at {}.", client.endpoint()),
            )
            .into());
        }
        Ok(Cache::existing(id.to_owned()))
    }
}
