//! The traits a provider implements: `Provider`, `Resource`, `DataSource`, `EphemeralResource`,
//! plus the `Context` every operation receives (cancellation, configuration, warnings).
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::model::Model;
use crate::schema::Schema;
use crate::value::Value;

/// What an operation can see besides its inputs: a cancellation signal (Terraform's
/// `StopProvider`, e.g. after Ctrl-C), the raw configuration, and a place for warnings.
pub struct Context {
    cancel: CancellationToken,
    config: Value,
    warnings: Mutex<Vec<Diagnostic>>,
}

impl Context {
    pub(crate) fn new(cancel: CancellationToken, config: Value) -> Self {
        Self {
            cancel,
            config,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// A context for unit tests of resources: never cancelled, with the given configuration.
    pub fn detached(config: Value) -> Self {
        Self::new(CancellationToken::new(), config)
    }

    /// True once Terraform asked the provider to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when Terraform asks the provider to stop.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// The configuration of this resource as written (null where Terraform sends none). Write-only
    /// attributes are found only here.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// Adds a warning that Terraform shows after the operation.
    pub fn warn(&self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// Adds any diagnostic that does not end the operation (normally a warning).
    pub fn push(&self, d: Diagnostic) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(d);
        }
    }

    pub(crate) fn take_diagnostics(&self) -> Diagnostics {
        Diagnostics(
            self.warnings
                .lock()
                .map(|mut w| std::mem::take(&mut *w))
                .unwrap_or_default(),
        )
    }
}

/// A provider: its configuration schema, how it builds a client from that configuration, and its
/// resources, data sources and ephemeral resources.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The provider's configuration as a typed model.
    type Config: Model;
    /// What `configure` builds and every operation receives, e.g. an API client.
    type Client: Send + Sync + 'static;

    /// The provider's local name, the prefix of its type names (e.g. `example` for
    /// `example_thing`).
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    async fn configure(
        &self,
        ctx: &Context,
        config: Self::Config,
    ) -> Result<Self::Client, Diagnostics>;
    fn resources(&self) -> Vec<Arc<dyn DynResource<Self::Client>>> {
        Vec::new()
    }
    fn data_sources(&self) -> Vec<Arc<dyn DynDataSource<Self::Client>>> {
        Vec::new()
    }
    fn ephemeral_resources(&self) -> Vec<Arc<dyn DynEphemeralResource<Self::Client>>> {
        Vec::new()
    }
}

/// The planned change a resource may adjust in [`Resource::modify_plan`], after the framework
/// has applied its own rules (computed values, requires-replace).
pub struct PlanChange<'a> {
    /// Prior state; null when creating.
    pub prior: &'a Value,
    /// The configuration (may contain unknown values).
    pub config: &'a Value,
    /// The planned new state, to adjust.
    pub planned: &'a mut Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: &'a mut Vec<AttributePath>,
    pub diagnostics: &'a mut Diagnostics,
}

impl PlanChange<'_> {
    /// True when the resource is being created.
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }

    /// Marks a top-level attribute as "known after apply".
    pub fn set_unknown(&mut self, name: &str) {
        if let Value::Object(attrs) = self.planned {
            attrs.insert(name.to_owned(), Value::Unknown);
        }
    }
}

/// A managed resource with a typed model. Errors end the operation; warnings go through
/// [`Context::warn`].
#[async_trait]
pub trait Resource<C>: Send + Sync + 'static {
    type Model: Model;

    /// Full type name, e.g. `example_thing`.
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;

    /// Extra checks of the configuration, beyond the schema's attribute validators.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the plan after the framework's rules ran.
    fn modify_plan(&self, _change: &mut PlanChange<'_>) {}

    async fn create(
        &self,
        ctx: &Context,
        client: &C,
        plan: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
    /// Reads the live object; `None` when it no longer exists (Terraform then plans a create).
    async fn read(
        &self,
        ctx: &Context,
        client: &C,
        state: Self::Model,
    ) -> Result<Option<Self::Model>, Diagnostics>;
    async fn update(
        &self,
        ctx: &Context,
        client: &C,
        prior: Self::Model,
        plan: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
    /// Deletes the object; deleting one that is already gone must succeed.
    async fn delete(
        &self,
        ctx: &Context,
        client: &C,
        state: Self::Model,
    ) -> Result<(), Diagnostics>;

    /// Builds the state of an existing object from an import id. Every attribute must be filled
    /// so that the next plan is empty.
    async fn import(
        &self,
        _ctx: &Context,
        _client: &C,
        _id: &str,
    ) -> Result<Self::Model, Diagnostics> {
        Err(Diagnostic::error(
            "Import not supported",
            format!("The resource type {} cannot be imported.", self.type_name()),
        )
        .into())
    }

    /// Upgrades raw JSON state written by schema version `from_version` to the current version.
    /// The default accepts only the current version.
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        let current = self.schema().version;
        if from_version == current {
            Ok(state)
        } else {
            Err(Diagnostic::error(
                "Unsupported state version",
                format!(
                    "The state of this {} was written by schema version {from_version}, and this provider only reads version {current}. Use a provider release that matches the state.",
                    self.type_name()
                ),
            )
            .into())
        }
    }
}

/// A data source with a typed model.
#[async_trait]
pub trait DataSource<C>: Send + Sync + 'static {
    type Model: Model;
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(
        &self,
        ctx: &Context,
        client: &C,
        config: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
}

/// An ephemeral resource (Terraform ≥ 1.10): a value produced for one run, never stored.
#[async_trait]
pub trait EphemeralResource<C>: Send + Sync + 'static {
    type Model: Model;
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn open(
        &self,
        ctx: &Context,
        client: &C,
        config: Self::Model,
    ) -> Result<Self::Model, Diagnostics>;
}

/// A resource as the server sees it: on raw values. Implemented for every [`Resource`].
#[async_trait]
pub trait DynResource<C>: Send + Sync {
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
    fn modify_plan(&self, change: &mut PlanChange<'_>);
    async fn create(&self, ctx: &Context, client: &C, plan: &Value) -> Result<Value, Diagnostics>;
    async fn read(
        &self,
        ctx: &Context,
        client: &C,
        state: &Value,
    ) -> Result<Option<Value>, Diagnostics>;
    async fn update(
        &self,
        ctx: &Context,
        client: &C,
        prior: &Value,
        plan: &Value,
    ) -> Result<Value, Diagnostics>;
    async fn delete(&self, ctx: &Context, client: &C, state: &Value) -> Result<(), Diagnostics>;
    async fn import(&self, ctx: &Context, client: &C, id: &str) -> Result<Value, Diagnostics>;
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, R: Resource<C>> DynResource<C> for R {
    fn type_name(&self) -> &str {
        Resource::type_name(self)
    }
    fn schema(&self) -> Schema {
        Resource::schema(self)
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        Resource::validate(self, config, diags)
    }
    fn modify_plan(&self, change: &mut PlanChange<'_>) {
        Resource::modify_plan(self, change)
    }
    async fn create(&self, ctx: &Context, client: &C, plan: &Value) -> Result<Value, Diagnostics> {
        let plan = R::Model::from_value(plan)?;
        Ok(Resource::create(self, ctx, client, plan).await?.to_value())
    }
    async fn read(
        &self,
        ctx: &Context,
        client: &C,
        state: &Value,
    ) -> Result<Option<Value>, Diagnostics> {
        let state = R::Model::from_value(state)?;
        Ok(Resource::read(self, ctx, client, state)
            .await?
            .map(|m| m.to_value()))
    }
    async fn update(
        &self,
        ctx: &Context,
        client: &C,
        prior: &Value,
        plan: &Value,
    ) -> Result<Value, Diagnostics> {
        let prior = R::Model::from_value(prior)?;
        let plan = R::Model::from_value(plan)?;
        Ok(Resource::update(self, ctx, client, prior, plan)
            .await?
            .to_value())
    }
    async fn delete(&self, ctx: &Context, client: &C, state: &Value) -> Result<(), Diagnostics> {
        let state = R::Model::from_value(state)?;
        Resource::delete(self, ctx, client, state).await
    }
    async fn import(&self, ctx: &Context, client: &C, id: &str) -> Result<Value, Diagnostics> {
        Ok(Resource::import(self, ctx, client, id).await?.to_value())
    }
    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        Resource::upgrade_state(self, from_version, state)
    }
}

/// A data source as the server sees it. Implemented for every [`DataSource`].
#[async_trait]
pub trait DynDataSource<C>: Send + Sync {
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
    async fn read(&self, ctx: &Context, client: &C, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, D: DataSource<C>> DynDataSource<C> for D {
    fn type_name(&self) -> &str {
        DataSource::type_name(self)
    }
    fn schema(&self) -> Schema {
        DataSource::schema(self)
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        DataSource::validate(self, config, diags)
    }
    async fn read(&self, ctx: &Context, client: &C, config: &Value) -> Result<Value, Diagnostics> {
        let config = D::Model::from_value(config)?;
        Ok(DataSource::read(self, ctx, client, config)
            .await?
            .to_value())
    }
}

/// An ephemeral resource as the server sees it. Implemented for every [`EphemeralResource`].
#[async_trait]
pub trait DynEphemeralResource<C>: Send + Sync {
    fn type_name(&self) -> &str;
    fn schema(&self) -> Schema;
    fn validate(&self, config: &Value, diags: &mut Diagnostics);
    async fn open(&self, ctx: &Context, client: &C, config: &Value) -> Result<Value, Diagnostics>;
}

#[async_trait]
impl<C: Send + Sync + 'static, E: EphemeralResource<C>> DynEphemeralResource<C> for E {
    fn type_name(&self) -> &str {
        EphemeralResource::type_name(self)
    }
    fn schema(&self) -> Schema {
        EphemeralResource::schema(self)
    }
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        EphemeralResource::validate(self, config, diags)
    }
    async fn open(&self, ctx: &Context, client: &C, config: &Value) -> Result<Value, Diagnostics> {
        let config = E::Model::from_value(config)?;
        Ok(EphemeralResource::open(self, ctx, client, config)
            .await?
            .to_value())
    }
}
