//! The `tfplugin6.Provider` gRPC service: decodes requests, runs the framework's rules and the
//! provider's typed code, and encodes responses. Unused protocol features answer with a clear
//! diagnostic instead of failing.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};

use futures::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::model::Model;
use crate::plan;
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as ProviderRpc;
use crate::resource::{
    Context, DynDataSource, DynEphemeralResource, DynResource, PlanChange, Provider,
};
use crate::schema::{Mode, Schema, SchemaKind};
use crate::value::{Type, Value};

/// A schema with its value type, computed once.
struct Shaped<T: ?Sized> {
    schema: Schema,
    ty: Type,
    imp: Arc<T>,
}

impl<T: ?Sized> Shaped<T> {
    fn new(schema: Schema, imp: Arc<T>) -> Self {
        Self {
            ty: schema.value_type(),
            schema,
            imp,
        }
    }
}

/// Serves one provider over the plugin protocol.
pub struct ProviderService<P: Provider> {
    provider: Arc<P>,
    provider_schema: Shaped<()>,
    resources: HashMap<String, Shaped<dyn DynResource<P::Client>>>,
    data_sources: HashMap<String, Shaped<dyn DynDataSource<P::Client>>>,
    ephemerals: HashMap<String, Shaped<dyn DynEphemeralResource<P::Client>>>,
    schema_response: pb::get_provider_schema::Response,
    client: RwLock<Option<Arc<P::Client>>>,
    stop: Mutex<CancellationToken>,
}

impl<P: Provider> ProviderService<P> {
    /// Builds the service, checking every schema as Terraform would.
    pub fn new(provider: P) -> Result<Self, String> {
        let mut errors = Vec::new();
        let prefix = format!("{}_", provider.type_name());
        let check = |what: &str, name: &str, schema: &Schema, kind: SchemaKind| {
            let mut found = Vec::new();
            if kind != SchemaKind::Provider && !name.starts_with(&prefix) {
                found.push(format!("{what} {name:?} must start with {prefix:?}"));
            }
            if let Err(e) = schema.validate(kind) {
                found.extend(e.into_iter().map(|e| format!("{what} {name}: {e}")));
            }
            found
        };
        let provider_schema = provider.schema();
        errors.extend(check(
            "provider",
            provider.type_name(),
            &provider_schema,
            SchemaKind::Provider,
        ));

        let mut resources = HashMap::new();
        for r in provider.resources() {
            let (name, schema) = (r.type_name().to_owned(), r.schema());
            errors.extend(check("resource", &name, &schema, SchemaKind::Resource));
            if resources
                .insert(name.clone(), Shaped::new(schema, r))
                .is_some()
            {
                errors.push(format!("resource {name} is declared twice"));
            }
        }
        let mut data_sources = HashMap::new();
        for d in provider.data_sources() {
            let (name, schema) = (d.type_name().to_owned(), d.schema());
            errors.extend(check("data source", &name, &schema, SchemaKind::DataSource));
            if data_sources
                .insert(name.clone(), Shaped::new(schema, d))
                .is_some()
            {
                errors.push(format!("data source {name} is declared twice"));
            }
        }
        let mut ephemerals = HashMap::new();
        for e in provider.ephemeral_resources() {
            let (name, schema) = (e.type_name().to_owned(), e.schema());
            errors.extend(check(
                "ephemeral resource",
                &name,
                &schema,
                SchemaKind::EphemeralResource,
            ));
            if ephemerals
                .insert(name.clone(), Shaped::new(schema, e))
                .is_some()
            {
                errors.push(format!("ephemeral resource {name} is declared twice"));
            }
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(provider_schema.to_proto()),
            resource_schemas: resources
                .iter()
                .map(|(k, v)| (k.clone(), v.schema.to_proto()))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(k, v)| (k.clone(), v.schema.to_proto()))
                .collect(),
            ephemeral_resource_schemas: ephemerals
                .iter()
                .map(|(k, v)| (k.clone(), v.schema.to_proto()))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        Ok(Self {
            provider_schema: Shaped::new(provider_schema, Arc::new(())),
            provider: Arc::new(provider),
            resources,
            data_sources,
            ephemerals,
            schema_response,
            client: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
        })
    }

    fn context(&self, config: Value) -> Context {
        let token = self.stop.lock().map(|t| t.clone()).unwrap_or_default();
        Context::new(token, config)
    }

    fn client(&self) -> Result<Arc<P::Client>, Diagnostics> {
        self.client.read().ok().and_then(|c| c.clone()).ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in Terraform or the provider.",
            )
            .into()
        })
    }

    fn resource(&self, name: &str) -> Result<&Shaped<dyn DynResource<P::Client>>, Diagnostics> {
        self.resources
            .get(name)
            .ok_or_else(|| unknown_type("resource", name))
    }

    fn data_source(
        &self,
        name: &str,
    ) -> Result<&Shaped<dyn DynDataSource<P::Client>>, Diagnostics> {
        self.data_sources
            .get(name)
            .ok_or_else(|| unknown_type("data source", name))
    }

    fn ephemeral(
        &self,
        name: &str,
    ) -> Result<&Shaped<dyn DynEphemeralResource<P::Client>>, Diagnostics> {
        self.ephemerals
            .get(name)
            .ok_or_else(|| unknown_type("ephemeral resource", name))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: true,
    }
}

fn unknown_type(what: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {what} type"),
        format!("This provider has no {what} named {name:?}. Check the spelling, or upgrade the provider."),
    )
    .into()
}

fn decode(v: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(v) = v else { return Ok(Value::Null) };
    let decoded = if !v.msgpack.is_empty() {
        Value::from_msgpack(&v.msgpack, ty)
    } else if !v.json.is_empty() {
        Value::from_json_bytes(&v.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        Diagnostic::error(
            "Invalid value from Terraform",
            format!("The provider could not decode a value Terraform sent: {e}"),
        )
        .into()
    })
}

fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    let msgpack = v.to_msgpack(ty).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid value from the provider",
            format!("The provider produced a value that does not match its schema: {e}. This is a bug in the provider."),
        ))
    })?;
    Ok(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

/// Sets write-only attributes to null: Terraform never stores them.
fn null_write_only(schema: &Schema, v: &mut Value) {
    if let Value::Object(attrs) = v {
        for a in schema.block.attributes.iter().filter(|a| a.write_only) {
            attrs.insert(a.name.clone(), Value::Null);
        }
    }
}

/// Races an operation against Terraform's StopProvider.
async fn cancellable<T>(
    ctx: &Context,
    op: impl Future<Output = Result<T, Diagnostics>>,
) -> Result<T, Diagnostics> {
    tokio::select! {
        r = op => r,
        _ = ctx.cancelled() => Err(Diagnostic::error(
            "Operation cancelled",
            "Terraform asked the provider to stop (for example after Ctrl-C) before this operation finished. The remote object may be partly changed; run `terraform plan` to see its state.",
        ).into()),
    }
}

/// Collects an operation's result and the context's warnings into diagnostics.
fn finish<T>(ctx: &Context, result: Result<T, Diagnostics>) -> (Option<T>, Vec<pb::Diagnostic>) {
    let mut diags = ctx.take_diagnostics();
    let value = match result {
        Ok(v) => Some(v),
        Err(e) => {
            diags.extend(e);
            None
        }
    };
    (value, diags.to_proto())
}

fn diags_only(d: Diagnostics) -> Vec<pb::Diagnostic> {
    d.to_proto()
}

type RpcResult<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn unsupported(what: &str) -> Vec<pb::Diagnostic> {
    Diagnostics::from(Diagnostic::error(
        format!("{what} not supported"),
        format!("This provider does not offer {what}."),
    ))
    .to_proto()
}

#[tonic::async_trait]
impl<P: Provider> ProviderRpc for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        use pb::get_metadata as m;
        Ok(Response::new(m::Response {
            server_capabilities: Some(capabilities()),
            resources: self
                .resources
                .keys()
                .map(|k| m::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|k| m::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ephemeral_resources: self
                .ephemerals
                .keys()
                .map(|k| m::EphemeralMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        match decode(req.config.as_ref(), &self.provider_schema.ty) {
            Ok(config) => {
                plan::validate_config(&self.provider_schema.schema.block, &config, &mut diags)
            }
            Err(e) => diags.extend(e),
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_only(diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let result = self.resource(&req.type_name).and_then(|r| {
            let config = decode(req.config.as_ref(), &r.ty)?;
            plan::validate_config(&r.schema.block, &config, &mut diags);
            r.imp.validate(&config, &mut diags);
            Ok(())
        });
        if let Err(e) = result {
            diags.extend(e);
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_only(diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let result = self.data_source(&req.type_name).and_then(|d| {
            let config = decode(req.config.as_ref(), &d.ty)?;
            plan::validate_config(&d.schema.block, &config, &mut diags);
            d.imp.validate(&config, &mut diags);
            Ok(())
        });
        if let Err(e) = result {
            diags.extend(e);
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_only(diags),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> RpcResult<pb::validate_ephemeral_resource_config::Response> {
        let req = req.into_inner();
        let mut diags = Diagnostics::new();
        let result = self.ephemeral(&req.type_name).and_then(|e| {
            let config = decode(req.config.as_ref(), &e.ty)?;
            plan::validate_config(&e.schema.block, &config, &mut diags);
            e.imp.validate(&config, &mut diags);
            Ok(())
        });
        if let Err(e) = result {
            diags.extend(e);
        }
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_only(diags),
            },
        ))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let req = req.into_inner();
        let result = (|| {
            let r = self.resource(&req.type_name)?;
            let raw = req.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if raw.flatmap.is_empty() {
                    return encode(&Value::Null, &r.ty);
                }
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This state was written in Terraform's pre-0.12 flat format, which this provider cannot read. Re-import the resource.",
                )
                .into());
            }
            let json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Invalid stored state",
                    format!("The stored state is not JSON: {e}"),
                ))
            })?;
            let mut upgraded = r.imp.upgrade_state(req.version, json)?;
            // Attributes the current schema no longer has are dropped, as Terraform expects.
            if let (serde_json::Value::Object(obj), Some(attrs)) =
                (&mut upgraded, r.ty.attribute_types())
            {
                obj.retain(|k, _| attrs.contains_key(k));
            }
            let value = Value::from_json(&upgraded, &r.ty).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Invalid stored state",
                    format!(
                        "The stored state does not match the schema of {}: {e}",
                        req.type_name
                    ),
                ))
            })?;
            encode(&value, &r.ty)
        })();
        let (state, diagnostics) = match result {
            Ok(s) => (Some(s), Vec::new()),
            Err(d) => (None, d.to_proto()),
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: state,
            diagnostics,
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        _: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            diagnostics: unsupported("resource identity"),
            ..Default::default()
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let req = req.into_inner();
        let config = match decode(req.config.as_ref(), &self.provider_schema.ty) {
            Ok(c) => c,
            Err(d) => {
                return Ok(Response::new(pb::configure_provider::Response {
                    diagnostics: d.to_proto(),
                }))
            }
        };
        let ctx = self.context(config.clone());
        let result = async {
            let typed = P::Config::from_value(&config)?;
            cancellable(&ctx, self.provider.configure(&ctx, typed)).await
        }
        .await;
        let (client, diagnostics) = finish(&ctx, result);
        if let (Some(client), Ok(mut slot)) = (client, self.client.write()) {
            *slot = Some(Arc::new(client));
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics,
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let req = req.into_inner();
        let ctx = self.context(Value::Null);
        let result = async {
            let r = self.resource(&req.type_name)?;
            let state = decode(req.current_state.as_ref(), &r.ty)?;
            if state.is_null() {
                return encode(&Value::Null, &r.ty);
            }
            let client = self.client()?;
            let new = cancellable(&ctx, r.imp.read(&ctx, &client, &state)).await?;
            let mut new = new.unwrap_or(Value::Null);
            null_write_only(&r.schema, &mut new);
            encode(&new, &r.ty)
        }
        .await;
        let (new_state, diagnostics) = finish(&ctx, result);
        Ok(Response::new(pb::read_resource::Response {
            // On error Terraform keeps the prior state; echo it so nothing is lost.
            new_state: new_state.or(req.current_state),
            diagnostics,
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let req = req.into_inner();
        let result = (|| {
            let r = self.resource(&req.type_name)?;
            let prior = decode(req.prior_state.as_ref(), &r.ty)?;
            let proposed = decode(req.proposed_new_state.as_ref(), &r.ty)?;
            let config = decode(req.config.as_ref(), &r.ty)?;
            let plan::PlannedChange {
                mut planned,
                mut requires_replace,
            } = plan::plan_change(&r.schema.block, &prior, &proposed, &config);
            let mut diags = Diagnostics::new();
            if !planned.is_null() {
                r.imp.modify_plan(&mut PlanChange {
                    prior: &prior,
                    config: &config,
                    planned: &mut planned,
                    requires_replace: &mut requires_replace,
                    diagnostics: &mut diags,
                });
            }
            if diags.has_errors() {
                return Err(diags);
            }
            Ok((encode(&planned, &r.ty)?, requires_replace, diags))
        })();
        Ok(Response::new(match result {
            Ok((planned, replace, diags)) => pb::plan_resource_change::Response {
                planned_state: Some(planned),
                requires_replace: replace.iter().map(AttributePath::to_proto).collect(),
                planned_private: req.prior_private,
                diagnostics: diags.to_proto(),
                ..Default::default()
            },
            Err(d) => pb::plan_resource_change::Response {
                diagnostics: d.to_proto(),
                ..Default::default()
            },
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let req = req.into_inner();
        let r = match self.resource(&req.type_name) {
            Ok(r) => r,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    diagnostics: d.to_proto(),
                    ..Default::default()
                }))
            }
        };
        let decoded = (|| {
            Ok::<_, Diagnostics>((
                decode(req.prior_state.as_ref(), &r.ty)?,
                decode(req.planned_state.as_ref(), &r.ty)?,
                decode(req.config.as_ref(), &r.ty)?,
            ))
        })();
        let (prior, planned, config) = match decoded {
            Ok(v) => v,
            Err(d) => {
                return Ok(Response::new(pb::apply_resource_change::Response {
                    new_state: req.prior_state,
                    diagnostics: d.to_proto(),
                    ..Default::default()
                }))
            }
        };
        let ctx = self.context(config);
        let result = async {
            let client = self.client()?;
            if planned.is_null() {
                cancellable(&ctx, r.imp.delete(&ctx, &client, &prior)).await?;
                return Ok(Value::Null);
            }
            let mut new = if prior.is_null() {
                cancellable(&ctx, r.imp.create(&ctx, &client, &planned)).await?
            } else {
                cancellable(&ctx, r.imp.update(&ctx, &client, &prior, &planned)).await?
            };
            null_write_only(&r.schema, &mut new);
            if cfg!(debug_assertions) {
                let d = plan::check_apply_result(&planned, &new, &req.type_name);
                if !d.is_empty() {
                    return Err(d);
                }
            }
            Ok(new)
        }
        .await;
        let failed = result.is_err();
        let (new, mut diagnostics) = finish(&ctx, result);
        // On failure the prior state stays: nothing is lost from Terraform's state.
        let new_state = match new {
            Some(v) => encode(&v, &r.ty),
            None => encode(&prior, &r.ty),
        };
        let new_state = match new_state {
            Ok(s) => Some(s),
            Err(d) => {
                diagnostics.extend(d.to_proto());
                req.prior_state
            }
        };
        if failed {
            tracing::debug!(resource = %req.type_name, "apply failed; keeping prior state");
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: req.planned_private,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let req = req.into_inner();
        let ctx = self.context(Value::Null);
        let result = async {
            let r = self.resource(&req.type_name)?;
            if req.id.is_empty() {
                return Err(Diagnostic::error(
                    "Import by identity not supported",
                    format!("Import {} by its ID instead.", req.type_name),
                )
                .into());
            }
            let client = self.client()?;
            let mut state = cancellable(&ctx, r.imp.import(&ctx, &client, &req.id)).await?;
            null_write_only(&r.schema, &mut state);
            Ok(pb::import_resource_state::ImportedResource {
                type_name: req.type_name.clone(),
                state: Some(encode(&state, &r.ty)?),
                ..Default::default()
            })
        }
        .await;
        let (imported, diagnostics) = finish(&ctx, result);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported.into_iter().collect(),
            diagnostics,
            ..Default::default()
        }))
    }

    async fn move_resource_state(
        &self,
        _: Request<pb::move_resource_state::Request>,
    ) -> RpcResult<pb::move_resource_state::Response> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: unsupported("moving state between resource types"),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let req = req.into_inner();
        let ctx = self.context(Value::Null);
        let result = async {
            let d = self.data_source(&req.type_name)?;
            let config = decode(req.config.as_ref(), &d.ty)?;
            let client = self.client()?;
            let state = cancellable(&ctx, d.imp.read(&ctx, &client, &config)).await?;
            encode(&state, &d.ty)
        }
        .await;
        let (state, diagnostics) = finish(&ctx, result);
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn generate_resource_config(
        &self,
        req: Request<pb::generate_resource_config::Request>,
    ) -> RpcResult<pb::generate_resource_config::Response> {
        let req = req.into_inner();
        let result = (|| {
            let r = self.resource(&req.type_name)?;
            let mut state = decode(req.state.as_ref(), &r.ty)?;
            if let Value::Object(attrs) = &mut state {
                for a in r
                    .schema
                    .block
                    .attributes
                    .iter()
                    .filter(|a| a.mode == Mode::Computed)
                {
                    attrs.insert(a.name.clone(), Value::Null);
                }
            }
            encode(&state, &r.ty)
        })();
        let (config, diagnostics) = match result {
            Ok(c) => (Some(c), Vec::new()),
            Err(d) => (None, d.to_proto()),
        };
        Ok(Response::new(pb::generate_resource_config::Response {
            config,
            diagnostics,
        }))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> RpcResult<pb::open_ephemeral_resource::Response> {
        let req = req.into_inner();
        let ctx = self.context(Value::Null);
        let result = async {
            let e = self.ephemeral(&req.type_name)?;
            let config = decode(req.config.as_ref(), &e.ty)?;
            let client = self.client()?;
            let value = cancellable(&ctx, e.imp.open(&ctx, &client, &config)).await?;
            encode(&value, &e.ty)
        }
        .await;
        let (result, diagnostics) = finish(&ctx, result);
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            result,
            diagnostics,
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<pb::renew_ephemeral_resource::Request>,
    ) -> RpcResult<pb::renew_ephemeral_resource::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> RpcResult<pb::close_ephemeral_resource::Response> {
        Ok(Response::new(Default::default()))
    }

    type ListResourceStream = BoxStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> RpcResult<Self::ListResourceStream> {
        let event = pb::list_resource::Event {
            diagnostic: unknown_type("list resource", &req.into_inner().type_name).to_proto(),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> RpcResult<pb::validate_list_resource_config::Response> {
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: unknown_type("list resource", &req.into_inner().type_name).to_proto(),
        }))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(Default::default()))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> RpcResult<pb::call_function::Response> {
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "this provider has no function named {:?}",
                    req.into_inner().name
                ),
                ..Default::default()
            }),
        }))
    }

    async fn validate_state_store_config(
        &self,
        _: Request<pb::validate_state_store::Request>,
    ) -> RpcResult<pb::validate_state_store::Response> {
        Ok(Response::new(pb::validate_state_store::Response {
            diagnostics: unsupported("state stores"),
        }))
    }

    async fn configure_state_store(
        &self,
        _: Request<pb::configure_state_store::Request>,
    ) -> RpcResult<pb::configure_state_store::Response> {
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        }))
    }

    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _: Request<pb::read_state_bytes::Request>,
    ) -> RpcResult<Self::ReadStateBytesStream> {
        let response = pb::read_state_bytes::Response {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(
            response,
        )]))))
    }

    async fn write_state_bytes(
        &self,
        _: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> RpcResult<pb::write_state_bytes::Response> {
        Ok(Response::new(pb::write_state_bytes::Response {
            diagnostics: unsupported("state stores"),
        }))
    }

    async fn lock_state(
        &self,
        _: Request<pb::lock_state::Request>,
    ) -> RpcResult<pb::lock_state::Response> {
        Ok(Response::new(pb::lock_state::Response {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        }))
    }

    async fn unlock_state(
        &self,
        _: Request<pb::unlock_state::Request>,
    ) -> RpcResult<pb::unlock_state::Response> {
        Ok(Response::new(pb::unlock_state::Response {
            diagnostics: unsupported("state stores"),
        }))
    }

    async fn get_states(
        &self,
        _: Request<pb::get_states::Request>,
    ) -> RpcResult<pb::get_states::Response> {
        Ok(Response::new(pb::get_states::Response {
            diagnostics: unsupported("state stores"),
            ..Default::default()
        }))
    }

    async fn delete_state(
        &self,
        _: Request<pb::delete_state::Request>,
    ) -> RpcResult<pb::delete_state::Response> {
        Ok(Response::new(pb::delete_state::Response {
            diagnostics: unsupported("state stores"),
        }))
    }

    async fn plan_action(
        &self,
        _: Request<pb::plan_action::Request>,
    ) -> RpcResult<pb::plan_action::Response> {
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: unsupported("actions"),
            ..Default::default()
        }))
    }

    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _: Request<pb::invoke_action::Request>,
    ) -> RpcResult<Self::InvokeActionStream> {
        let event = pb::invoke_action::Event {
            r#type: Some(pb::invoke_action::event::Type::Completed(
                pb::invoke_action::event::Completed {
                    diagnostics: unsupported("actions"),
                },
            )),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(event)]))))
    }

    async fn validate_action_config(
        &self,
        _: Request<pb::validate_action_config::Request>,
    ) -> RpcResult<pb::validate_action_config::Response> {
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: unsupported("actions"),
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        // Cancel what is in flight; later calls get a fresh token so the server keeps serving.
        if let Ok(mut token) = self.stop.lock() {
            token.cancel();
            *token = CancellationToken::new();
        }
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
