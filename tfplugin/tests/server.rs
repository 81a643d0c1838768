//! The plugin protocol end to end: an example provider served with `serve_in_process` and driven
//! by the generated gRPC clients over its unix socket (schema, validation, plan rules, apply,
//! StopProvider cancellation, import/upgrade/read, go-plugin services, message size, bad schemas).
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tfplugin::proto::health::health_check_response::ServingStatus;
use tfplugin::proto::health::health_client::HealthClient;
use tfplugin::proto::health::HealthCheckRequest;
use tfplugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tfplugin::resource::DynResource;
use tfplugin::{
    Attribute, AttributePath, Context, Diagnostic, Diagnostics, InProcessServer, Nesting, Schema,
    Type, Value,
};
use tokio::net::UnixStream;
use tokio::sync::Notify;
use tonic::transport::{Channel, Endpoint, Uri};

/// Generous bound for anything that should be quick, so a loaded machine does not flake.
const TIMEOUT: Duration = Duration::from_secs(30);
const ADDRESS: &str = "registry.terraform.io/acme/example";
const THING: &str = "example_thing";

// ---------------------------------------------------------------------------------------------
// The example provider

/// Every attribute of `example_thing`.
const ATTRS: &[&str] = &[
    "name",
    "id",
    "etag",
    "region",
    "api_token",
    "password",
    "settings",
    "tags",
    "note",
];

fn thing_schema() -> Schema {
    Schema::new(
        0,
        vec![
            Attribute::string("name")
                .required()
                .requires_replace()
                .description("The **name**.")
                .validate(|v| match v.as_str() {
                    Some(s) if s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') => Ok(()),
                    _ => Err("must be lowercase letters and dashes".into()),
                }),
            Attribute::string("id").computed().keep_prior_state(),
            Attribute::string("etag").computed(),
            Attribute::string("region").optional_computed(),
            Attribute::string("api_token").optional().sensitive(),
            Attribute::string("password").optional().write_only(),
            Attribute::nested(
                "settings",
                Nesting::Single,
                vec![Attribute::string("mode")
                    .optional()
                    .validate(|v| match v.as_str() {
                        Some("fast" | "slow") => Ok(()),
                        _ => Err("mode must be fast or slow".into()),
                    })],
            )
            .optional(),
            Attribute::new("tags", Type::map(Type::String)).optional(),
            Attribute::string("note").optional(),
        ],
    )
    .description("An example thing.")
}

fn ty() -> Type {
    thing_schema().value_type()
}

/// A full `example_thing` object: the given attributes, every other one null.
fn thing(pairs: &[(&str, Value)]) -> Value {
    let mut attrs: BTreeMap<String, Value> =
        ATTRS.iter().map(|n| (n.to_string(), Value::Null)).collect();
    for (k, v) in pairs {
        assert!(attrs.contains_key(*k), "no attribute {k}");
        attrs.insert(k.to_string(), v.clone());
    }
    Value::Object(attrs)
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn set(v: &mut Value, name: &str, to: Value) {
    if let Value::Object(attrs) = v {
        attrs.insert(name.to_owned(), to);
    }
}

fn str_attr(v: &Value, name: &str) -> String {
    v.get_attr(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

struct Thing {
    type_name: String,
    schema: Schema,
    /// Signalled when a create of `name = "block"` has started.
    started: Arc<Notify>,
}

#[tonic::async_trait]
impl tfplugin::Resource<()> for Thing {
    type Model = Value;

    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn schema(&self) -> Schema {
        self.schema.clone()
    }

    async fn create(&self, ctx: &Context, _: &(), plan: Value) -> Result<Value, Diagnostics> {
        let name = str_attr(&plan, "name");
        if name == "block" {
            self.started.notify_one();
            // Never finishes by itself: only the framework's cancellation can end it.
            std::future::pending::<()>().await;
        }
        let mut out = plan.clone();
        set(&mut out, "id", s(&format!("id-{name}")));
        set(&mut out, "etag", s("etag-1"));
        if !matches!(plan.get_attr("region"), Some(Value::String(_))) {
            set(&mut out, "region", s("us-east-1"));
        }
        // Echo the write-only value from the configuration: the framework must drop it.
        let password = ctx.config().get_attr("password").cloned();
        set(&mut out, "password", password.unwrap_or(Value::Null));
        if name == "liar" {
            set(&mut out, "note", s("tampered"));
        }
        Ok(out)
    }

    async fn read(&self, _: &Context, _: &(), state: Value) -> Result<Option<Value>, Diagnostics> {
        if str_attr(&state, "id") == "id-gone" {
            Ok(None)
        } else {
            Ok(Some(state))
        }
    }

    async fn update(
        &self,
        _: &Context,
        _: &(),
        prior: Value,
        plan: Value,
    ) -> Result<Value, Diagnostics> {
        if str_attr(&plan, "note") == "fail" {
            return Err(
                Diagnostic::error("Update failed", "the remote API refused the change").into(),
            );
        }
        let mut out = plan.clone();
        set(&mut out, "etag", s("etag-2"));
        if !matches!(plan.get_attr("region"), Some(Value::String(_))) {
            let region = prior.get_attr("region").cloned().unwrap_or(Value::Null);
            set(&mut out, "region", region);
        }
        Ok(out)
    }

    async fn delete(&self, _: &Context, _: &(), _: Value) -> Result<(), Diagnostics> {
        Ok(())
    }

    async fn import(&self, _: &Context, _: &(), id: &str) -> Result<Value, Diagnostics> {
        Ok(thing(&[
            ("name", s(id)),
            ("id", s(&format!("id-{id}"))),
            ("etag", s("etag-1")),
            ("region", s("us-east-1")),
            ("password", s("must-not-be-stored")),
        ]))
    }
}

struct Example {
    resource_name: String,
    resource_schema: Schema,
    provider_schema: Schema,
    started: Arc<Notify>,
}

impl Example {
    fn new() -> Self {
        Self {
            resource_name: THING.into(),
            resource_schema: thing_schema(),
            provider_schema: Schema::new(0, vec![Attribute::string("endpoint").optional()]),
            started: Arc::new(Notify::new()),
        }
    }
}

#[tonic::async_trait]
impl tfplugin::Provider for Example {
    type Config = Value;
    type Client = ();

    fn type_name(&self) -> &str {
        "example"
    }

    fn schema(&self) -> Schema {
        self.provider_schema.clone()
    }

    async fn configure(&self, _: &Context, _: Value) -> Result<(), Diagnostics> {
        Ok(())
    }

    fn resources(&self) -> Vec<Arc<dyn DynResource<()>>> {
        vec![Arc::new(Thing {
            type_name: self.resource_name.clone(),
            schema: self.resource_schema.clone(),
            started: self.started.clone(),
        })]
    }
}

// ---------------------------------------------------------------------------------------------
// Harness

async fn channel(path: &Path) -> Channel {
    let path = path.to_path_buf();
    let endpoint = Endpoint::try_from("http://[::]:50051").expect("endpoint");
    let connect = endpoint.connect_with_connector(tower::service_fn(move |_: Uri| {
        let path = path.clone();
        async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
    }));
    tokio::time::timeout(TIMEOUT, connect)
        .await
        .expect("connecting timed out")
        .expect("connecting to the provider socket")
}

fn provider_client(ch: Channel) -> ProviderClient<Channel> {
    ProviderClient::new(ch)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

struct Harness {
    server: InProcessServer,
    client: ProviderClient<Channel>,
    started: Arc<Notify>,
}

impl Harness {
    async fn start() -> Self {
        let provider = Example::new();
        let started = provider.started.clone();
        let server = tfplugin::serve_in_process(provider, ADDRESS)
            .await
            .expect("serving the example provider");
        let mut client = provider_client(channel(server.socket_path()).await);
        let configured = client
            .configure_provider(pb::configure_provider::Request {
                config: Some(pb::DynamicValue {
                    msgpack: Value::object([("endpoint", Value::Null)])
                        .to_msgpack(&Type::object([("endpoint", Type::String)]))
                        .unwrap(),
                    json: Vec::new(),
                }),
                ..Default::default()
            })
            .await
            .expect("ConfigureProvider")
            .into_inner();
        assert!(
            configured.diagnostics.is_empty(),
            "{:?}",
            configured.diagnostics
        );
        Self {
            server,
            client,
            started,
        }
    }

    async fn plan(
        &self,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> pb::plan_resource_change::Response {
        self.client
            .clone()
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: THING.into(),
                prior_state: dv(prior),
                proposed_new_state: dv(proposed),
                config: dv(config),
                ..Default::default()
            })
            .await
            .expect("PlanResourceChange")
            .into_inner()
    }

    async fn apply(
        &self,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> pb::apply_resource_change::Response {
        apply(self.client.clone(), prior, planned, config).await
    }

    async fn validate(&self, config: &Value) -> Vec<pb::Diagnostic> {
        self.client
            .clone()
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: THING.into(),
                config: dv(config),
                ..Default::default()
            })
            .await
            .expect("ValidateResourceConfig")
            .into_inner()
            .diagnostics
    }
}

async fn apply(
    mut client: ProviderClient<Channel>,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> pb::apply_resource_change::Response {
    client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: THING.into(),
            prior_state: dv(prior),
            planned_state: dv(planned),
            config: dv(config),
            ..Default::default()
        })
        .await
        .expect("ApplyResourceChange")
        .into_inner()
}

fn dv(v: &Value) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: v.to_msgpack(&ty()).expect("test value matches the schema"),
        json: Vec::new(),
    })
}

fn decode(v: &Option<pb::DynamicValue>) -> Value {
    let v = v.as_ref().expect("a value");
    assert!(v.json.is_empty(), "the provider answers in msgpack");
    Value::from_msgpack(&v.msgpack, &ty()).expect("a value of the schema's type")
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

fn path_of(d: &pb::Diagnostic) -> Option<AttributePath> {
    d.attribute.as_ref().map(AttributePath::from_proto)
}

/// The configuration Terraform would send for a create: computed attributes null.
fn create_config(name: &str) -> Value {
    thing(&[
        ("name", s(name)),
        ("password", s("hunter2")),
        ("api_token", s("tok")),
    ])
}

/// Plans and applies a create, returning the new state.
async fn create(h: &Harness, name: &str) -> Value {
    let config = create_config(name);
    let plan = h.plan(&Value::Null, &config, &config).await;
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    let applied = h
        .apply(&Value::Null, &decode(&plan.planned_state), &config)
        .await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    decode(&applied.new_state)
}

// ---------------------------------------------------------------------------------------------
// GetProviderSchema

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_has_flags_markdown_nested_types_and_cty_json() {
    let h = Harness::start().await;
    let resp = h
        .client
        .clone()
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty());
    let provider = resp.provider.expect("provider schema");
    let endpoint = &provider.block.as_ref().unwrap().attributes[0];
    assert_eq!(endpoint.name, "endpoint");
    assert!(endpoint.optional && !endpoint.required && !endpoint.computed);

    let schema = resp.resource_schemas.get(THING).expect("example_thing");
    let block = schema.block.as_ref().unwrap();
    let markdown = pb::StringKind::Markdown as i32;
    assert_eq!(block.description, "An example thing.");
    assert_eq!(block.description_kind, markdown);
    let attr = |name: &str| {
        block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no attribute {name}"))
    };
    let flags = |name: &str| {
        let a = attr(name);
        (
            a.required,
            a.optional,
            a.computed,
            a.sensitive,
            a.write_only,
        )
    };
    assert_eq!(flags("name"), (true, false, false, false, false));
    assert_eq!(flags("id"), (false, false, true, false, false));
    assert_eq!(flags("etag"), (false, false, true, false, false));
    assert_eq!(flags("region"), (false, true, true, false, false));
    assert_eq!(flags("api_token"), (false, true, false, true, false));
    assert_eq!(flags("password"), (false, true, false, false, true));
    for a in &block.attributes {
        assert_eq!(a.description_kind, markdown, "{}", a.name);
    }
    assert_eq!(attr("name").description, "The **name**.");

    let json = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&attr(name).r#type).expect("cty type JSON")
    };
    assert_eq!(json("name"), serde_json::json!("string"));
    assert_eq!(json("tags"), serde_json::json!(["map", "string"]));

    let settings = attr("settings");
    assert!(settings.r#type.is_empty(), "nested attributes have no type");
    let nested = settings.nested_type.as_ref().expect("nested_type");
    assert_eq!(
        nested.nesting,
        pb::schema::object::NestingMode::Single as i32
    );
    assert_eq!(nested.attributes.len(), 1);
    assert_eq!(nested.attributes[0].name, "mode");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&nested.attributes[0].r#type).unwrap(),
        serde_json::json!("string")
    );
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// ValidateResourceConfig

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_names_the_attribute() {
    let h = Harness::start().await;

    let ok = h.validate(&thing(&[("name", s("good"))])).await;
    assert!(ok.is_empty(), "{ok:?}");

    let diags = h
        .validate(&thing(&[("name", s("good")), ("id", s("x"))]))
        .await;
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{diags:?}");
    assert_eq!(path_of(errs[0]), Some(AttributePath::attr("id")));
    assert!(errs[0].detail.contains("\"id\""), "{}", errs[0].detail);

    let diags = h.validate(&thing(&[("name", s("Bad Name"))])).await;
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{diags:?}");
    assert_eq!(path_of(errs[0]), Some(AttributePath::attr("name")));
    assert_eq!(errs[0].detail, "must be lowercase letters and dashes");

    let nested = thing(&[
        ("name", s("good")),
        ("settings", Value::object([("mode", s("turbo"))])),
    ]);
    let diags = h.validate(&nested).await;
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{diags:?}");
    assert_eq!(
        path_of(errs[0]),
        Some(AttributePath::attr("settings").then_attr("mode"))
    );

    let unknown = thing(&[
        ("name", Value::Unknown),
        ("settings", Value::object([("mode", Value::Unknown)])),
    ]);
    let diags = h.validate(&unknown).await;
    assert!(
        diags.is_empty(),
        "unknown values skip validators: {diags:?}"
    );
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_four_mib_are_accepted_both_ways() {
    let h = Harness::start().await;
    let big = "x".repeat(5 << 20);
    let diags = h
        .validate(&thing(&[("name", s("big")), ("note", s(&big))]))
        .await;
    assert!(diags.is_empty(), "{diags:?}");

    // The response carries the big value back: the server's encoding limit is raised too.
    let config = thing(&[("name", s("big")), ("note", s(&big))]);
    let plan = h.plan(&Value::Null, &config, &config).await;
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert_eq!(
        str_attr(&decode(&plan.planned_state), "note").len(),
        big.len()
    );
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// PlanResourceChange

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_create_update_and_no_change() {
    let h = Harness::start().await;

    // Create: computed values unknown (msgpack extension), write-only planned null.
    let config = create_config("one");
    let plan = h.plan(&Value::Null, &config, &config).await;
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let raw = &plan.planned_state.as_ref().unwrap().msgpack;
    assert!(
        raw.windows(3).any(|w| w == [0xd4, 0, 0]),
        "unknowns are msgpack extension 0"
    );
    let planned = decode(&plan.planned_state);
    for computed in ["id", "etag", "region"] {
        assert_eq!(
            planned.get_attr(computed),
            Some(&Value::Unknown),
            "{computed}"
        );
    }
    assert_eq!(planned.get_attr("password"), Some(&Value::Null));
    assert_eq!(planned.get_attr("name"), Some(&s("one")));
    assert_eq!(planned.get_attr("api_token"), Some(&s("tok")));

    let prior = thing(&[
        ("name", s("one")),
        ("id", s("id-one")),
        ("etag", s("etag-1")),
        ("region", s("us-east-1")),
    ]);

    // Update of the requires-replace attribute.
    let config = thing(&[("name", s("two"))]);
    let mut proposed = prior.clone();
    set(&mut proposed, "name", s("two"));
    let plan = h.plan(&prior, &proposed, &config).await;
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    let replace: Vec<_> = plan
        .requires_replace
        .iter()
        .map(AttributePath::from_proto)
        .collect();
    assert_eq!(replace, vec![AttributePath::attr("name")]);
    let planned = decode(&plan.planned_state);
    assert_eq!(
        planned.get_attr("id"),
        Some(&s("id-one")),
        "keep_prior_state"
    );
    assert_eq!(planned.get_attr("etag"), Some(&Value::Unknown));

    // An in-place update does not require replacement.
    let config = thing(&[("name", s("one")), ("note", s("hello"))]);
    let mut proposed = prior.clone();
    set(&mut proposed, "note", s("hello"));
    let plan = h.plan(&prior, &proposed, &config).await;
    assert!(plan.requires_replace.is_empty());
    assert_eq!(
        decode(&plan.planned_state).get_attr("id"),
        Some(&s("id-one"))
    );

    // No change: the plan is the prior state.
    let config = thing(&[("name", s("one"))]);
    let plan = h.plan(&prior, &prior, &config).await;
    assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    assert_eq!(decode(&plan.planned_state), prior);
    assert_eq!(plan.planned_state, dv(&prior));

    // Destroy plans null.
    let plan = h.plan(&prior, &Value::Null, &Value::Null).await;
    assert_eq!(decode(&plan.planned_state), Value::Null);
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// ApplyResourceChange

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_create_update_failure_and_delete() {
    let h = Harness::start().await;
    let state = create(&h, "one").await;
    assert_eq!(state.get_attr("id"), Some(&s("id-one")));
    assert_eq!(state.get_attr("etag"), Some(&s("etag-1")));
    assert_eq!(state.get_attr("region"), Some(&s("us-east-1")));
    assert_eq!(state.get_attr("api_token"), Some(&s("tok")));
    assert_eq!(
        state.get_attr("password"),
        Some(&Value::Null),
        "write-only values are never stored"
    );

    // A successful update.
    let config = thing(&[("name", s("one")), ("note", s("hello"))]);
    let mut proposed = state.clone();
    set(&mut proposed, "note", s("hello"));
    let plan = h.plan(&state, &proposed, &config).await;
    let applied = h.apply(&state, &decode(&plan.planned_state), &config).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let updated = decode(&applied.new_state);
    assert_eq!(updated.get_attr("etag"), Some(&s("etag-2")));
    assert_eq!(updated.get_attr("note"), Some(&s("hello")));
    assert_eq!(updated.get_attr("id"), Some(&s("id-one")));

    // A failing update keeps the prior state: nothing is lost.
    let config = thing(&[("name", s("one")), ("note", s("fail"))]);
    let mut proposed = updated.clone();
    set(&mut proposed, "note", s("fail"));
    let plan = h.plan(&updated, &proposed, &config).await;
    let applied = h
        .apply(&updated, &decode(&plan.planned_state), &config)
        .await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", applied.diagnostics);
    assert_eq!(errs[0].summary, "Update failed");
    assert_eq!(decode(&applied.new_state), updated);

    // Delete returns null.
    let applied = h.apply(&updated, &Value::Null, &Value::Null).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    assert_eq!(decode(&applied.new_state), Value::Null);
    h.server.shutdown().await;
}

#[cfg(debug_assertions)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_result_differing_from_plan_is_an_error_in_debug_builds() {
    let h = Harness::start().await;
    let config = thing(&[("name", s("liar"))]);
    let plan = h.plan(&Value::Null, &config, &config).await;
    let planned = decode(&plan.planned_state);
    assert_eq!(planned.get_attr("note"), Some(&Value::Null));
    let applied = h.apply(&Value::Null, &planned, &config).await;
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", applied.diagnostics);
    assert!(
        errs[0].summary.contains("inconsistent result"),
        "{}",
        errs[0].summary
    );
    assert_eq!(path_of(errs[0]), Some(AttributePath::attr("note")));
    assert!(errs[0].detail.contains("\"note\""), "{}", errs[0].detail);
    assert!(errs[0].detail.contains(THING), "{}", errs[0].detail);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_operations_and_keeps_serving() {
    let h = Harness::start().await;
    let config = thing(&[("name", s("block"))]);
    let plan = h.plan(&Value::Null, &config, &config).await;
    let planned = decode(&plan.planned_state);
    let in_flight = tokio::spawn({
        let (client, config) = (h.client.clone(), config.clone());
        async move { apply(client, &Value::Null, &planned, &config).await }
    });
    // `Arc<Notify>::notify_one` leaves a permit, so this cannot miss the start.
    tokio::time::timeout(TIMEOUT, h.started.notified())
        .await
        .expect("the blocking create never started");
    assert!(!in_flight.is_finished());

    let stopped = h
        .client
        .clone()
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert_eq!(stopped.error, "");

    let applied = tokio::time::timeout(TIMEOUT, in_flight)
        .await
        .expect("the cancelled apply did not return")
        .expect("apply task");
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", applied.diagnostics);
    assert_eq!(errs[0].summary, "Operation cancelled");
    assert_eq!(decode(&applied.new_state), Value::Null, "prior state kept");

    // The server still serves, and new operations are not cancelled.
    let schema = h
        .client
        .clone()
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema after StopProvider")
        .into_inner();
    assert!(schema.resource_schemas.contains_key(THING));
    let state = tokio::time::timeout(TIMEOUT, create(&h, "after"))
        .await
        .expect("apply after StopProvider");
    assert_eq!(state.get_attr("id"), Some(&s("id-after")));
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Import, upgrade, read

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_returns_full_state_without_write_only_values() {
    let h = Harness::start().await;
    let resp = h
        .client
        .clone()
        .import_resource_state(pb::import_resource_state::Request {
            type_name: THING.into(),
            id: "imported".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    assert_eq!(resp.imported_resources.len(), 1);
    let imported = &resp.imported_resources[0];
    assert_eq!(imported.type_name, THING);
    let state = decode(&imported.state);
    assert_eq!(
        state,
        thing(&[
            ("name", s("imported")),
            ("id", s("id-imported")),
            ("etag", s("etag-1")),
            ("region", s("us-east-1")),
        ])
    );

    // Import by identity (no id) is refused with a diagnostic.
    let resp = h
        .client
        .clone()
        .import_resource_state(pb::import_resource_state::Request {
            type_name: THING.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);
    assert!(resp.imported_resources.is_empty());
    h.server.shutdown().await;
}

async fn upgrade(
    h: &Harness,
    version: i64,
    raw: pb::RawState,
) -> pb::upgrade_resource_state::Response {
    h.client
        .clone()
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: THING.into(),
            version,
            raw_state: Some(raw),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_state_from_json_drops_removed_attributes_and_refuses_flatmap() {
    let h = Harness::start().await;
    let json = serde_json::json!({
        "name": "old",
        "id": "id-old",
        "etag": "etag-1",
        "region": "eu-west-1",
        "tags": {"env": "prod"},
        "removed_long_ago": "x",
    });
    let resp = upgrade(
        &h,
        0,
        pb::RawState {
            json: serde_json::to_vec(&json).unwrap(),
            ..Default::default()
        },
    )
    .await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let state = decode(&resp.upgraded_state);
    assert_eq!(
        state,
        thing(&[
            ("name", s("old")),
            ("id", s("id-old")),
            ("etag", s("etag-1")),
            ("region", s("eu-west-1")),
            ("tags", Value::map([("env", s("prod"))])),
        ])
    );

    let flatmap = pb::RawState {
        flatmap: [("id".to_string(), "id-old".to_string())].into(),
        ..Default::default()
    };
    let resp = upgrade(&h, 0, flatmap).await;
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", resp.diagnostics);
    assert!(errs[0].detail.contains("pre-0.12"), "{}", errs[0].detail);
    assert!(resp.upgraded_state.is_none());

    // A state version the resource does not know is a clear error.
    let resp = upgrade(
        &h,
        7,
        pb::RawState {
            json: serde_json::to_vec(&json).unwrap(),
            ..Default::default()
        },
    )
    .await;
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", resp.diagnostics);
    assert!(errs[0].detail.contains("version 7"), "{}", errs[0].detail);

    // Not JSON at all.
    let resp = upgrade(
        &h,
        0,
        pb::RawState {
            json: b"{not json".to_vec(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(errors(&resp.diagnostics).len(), 1, "{:?}", resp.diagnostics);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_of_a_gone_object_is_null_state() {
    let h = Harness::start().await;
    let mut client = h.client.clone();
    let live = thing(&[("name", s("one")), ("id", s("id-one"))]);
    let resp = client
        .read_resource(pb::read_resource::Request {
            type_name: THING.into(),
            current_state: dv(&live),
            private: b"private-bytes".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    assert_eq!(decode(&resp.new_state), live);
    assert_eq!(resp.private, b"private-bytes");

    let gone = thing(&[("name", s("gone")), ("id", s("id-gone"))]);
    let resp = client
        .read_resource(pb::read_resource::Request {
            type_name: THING.into(),
            current_state: dv(&gone),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        resp.diagnostics.is_empty(),
        "not an error: {:?}",
        resp.diagnostics
    );
    assert_eq!(decode(&resp.new_state), Value::Null);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_type_names_are_diagnostics_not_grpc_errors() {
    let h = Harness::start().await;
    let mut c = h.client.clone();
    let null = Some(pb::DynamicValue {
        msgpack: vec![0xc0],
        json: Vec::new(),
    });
    let name = "example_nope".to_string();
    let check = |what: &str, diags: &[pb::Diagnostic]| {
        let errs = errors(diags);
        assert_eq!(errs.len(), 1, "{what}: {diags:?}");
        assert!(
            errs[0].summary.starts_with("Unknown"),
            "{what}: {}",
            errs[0].summary
        );
        assert!(
            errs[0].detail.contains("example_nope"),
            "{what}: {}",
            errs[0].detail
        );
    };
    let r = c
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: name.clone(),
            config: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("validate", &r.diagnostics);
    let r = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: name.clone(),
            prior_state: null.clone(),
            proposed_new_state: null.clone(),
            config: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("plan", &r.diagnostics);
    let r = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: name.clone(),
            prior_state: null.clone(),
            planned_state: null.clone(),
            config: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("apply", &r.diagnostics);
    let r = c
        .read_resource(pb::read_resource::Request {
            type_name: name.clone(),
            current_state: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("read", &r.diagnostics);
    let r = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: name.clone(),
            id: "x".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("import", &r.diagnostics);
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: name.clone(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    check("upgrade", &r.diagnostics);
    let r = c
        .validate_data_resource_config(pb::validate_data_resource_config::Request {
            type_name: name.clone(),
            config: null.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    check("validate data source", &r.diagnostics);
    let r = c
        .read_data_source(pb::read_data_source::Request {
            type_name: name.clone(),
            config: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("read data source", &r.diagnostics);
    let r = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: name.clone(),
            config: null.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    check("open ephemeral", &r.diagnostics);
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// go-plugin services

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_controller_share_the_socket_and_shutdown_is_ignored_in_process() {
    let h = Harness::start().await;
    let ch = channel(h.server.socket_path()).await;
    let mut health = HealthClient::new(ch.clone());
    let status = health
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    let unknown = health
        .check(HealthCheckRequest {
            service: "something-else".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    GrpcControllerClient::new(ch)
        .shutdown(tfplugin::proto::plugin::Empty {})
        .await
        .expect("GRPCController/Shutdown");
    // Reattach mode: Terraform does not own the server, so Shutdown must not stop it. The
    // server would stop 10 ms after answering; give it ample time to do so wrongly.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fresh = provider_client(channel(h.server.socket_path()).await)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("still serving on a new connection")
        .into_inner();
    assert!(fresh.resource_schemas.contains_key(THING));
    let reattach: serde_json::Value = serde_json::from_str(h.server.reattach_json()).unwrap();
    let entry = &reattach[ADDRESS];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "unix");
    assert_eq!(
        entry["Addr"]["String"].as_str().map(Path::new),
        Some(h.server.socket_path())
    );

    let socket = h.server.socket_path().to_path_buf();
    h.server.shutdown().await;
    assert!(!socket.exists(), "shutdown removes the socket");
}

// ---------------------------------------------------------------------------------------------
// Malformed calls on the wire

/// Sends `body` as the raw HTTP/2 body of a gRPC call to `path`; the answer's gRPC status code
/// and message, from the headers (trailers-only answers) or else the trailers.
async fn raw_call(ch: Channel, path: &str, body: Vec<u8>) -> (tonic::Code, String) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let request = http::Request::post(format!("http://[::]:50051{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            tonic::codegen::Bytes::from(body),
        )))
        .unwrap();
    let response = tokio::time::timeout(TIMEOUT, ch.oneshot(request))
        .await
        .expect("the call timed out")
        .expect("an HTTP answer");
    assert_eq!(response.status(), 200, "gRPC answers are HTTP 200");
    let mut fields = response.headers().clone();
    if !fields.contains_key("grpc-status") {
        let collected = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .expect("reading the answer timed out")
            .expect("reading the answer");
        fields = collected.trailers().cloned().unwrap_or_default();
    }
    // tonic's own reading of `grpc-status` and the percent-encoded `grpc-message`.
    let status = tonic::Status::from_header_map(&fields).expect("a grpc-status in the answer");
    (status.code(), status.message().to_owned())
}

/// A gRPC message: compression flag, big-endian length, payload.
fn grpc_frame(compressed: u8, len: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![compressed];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_calls_get_grpc_errors_and_the_server_keeps_serving() {
    use prost::Message as _;
    let h = Harness::start().await;
    let ch = channel(h.server.socket_path()).await;
    let read = "/tfplugin6.Provider/ReadResource";
    let request = pb::read_resource::Request {
        type_name: "example_nothing".into(),
        ..Default::default()
    }
    .encode_to_vec();

    // The per-resource calls take the fast path; a well-formed one answers OK, with the
    // unknown type as a diagnostic.
    let (code, message) = raw_call(
        ch.clone(),
        read,
        grpc_frame(0, request.len() as u32, &request),
    )
    .await;
    assert_eq!((code, message.as_str()), (tonic::Code::Ok, ""));

    let cases: Vec<(&str, Vec<u8>, tonic::Code, &str)> = vec![
        (
            read,
            grpc_frame(1, request.len() as u32, &request),
            tonic::Code::Internal,
            "accepts only uncompressed messages",
        ),
        (
            read,
            grpc_frame(0, 100, &request),
            tonic::Code::Internal,
            "should be 100 bytes",
        ),
        (
            read,
            Vec::new(),
            tonic::Code::Internal,
            "no complete gRPC message",
        ),
        (
            read,
            grpc_frame(0, 3, &[0xff, 0xff, 0xff]),
            tonic::Code::Internal,
            "decoding the request",
        ),
        (
            read,
            grpc_frame(0, (tfplugin::serve::MAX_MESSAGE_SIZE + 1) as u32, &[]),
            tonic::Code::ResourceExhausted,
            "over the limit",
        ),
        (
            "/tfplugin6.Provider/PlanResourceChange",
            grpc_frame(0, 2, &[0x0a]),
            tonic::Code::Internal,
            "should be 2 bytes",
        ),
        (
            "/plugin.GRPCBroker/StartStream",
            grpc_frame(0, 0, &[]),
            tonic::Code::Unimplemented,
            "no such service",
        ),
        (
            "/tfplugin6.Provider/NoSuchMethod",
            grpc_frame(0, 0, &[]),
            tonic::Code::Unimplemented,
            "",
        ),
    ];
    for (path, body, expected, fragment) in cases {
        let (code, message) = raw_call(ch.clone(), path, body).await;
        assert_eq!(code, expected, "{path}: {message}");
        assert!(message.contains(fragment), "{path}: {message:?}");
    }

    // None of that disturbed the server.
    let schema = provider_client(ch)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema after the malformed calls")
        .into_inner();
    assert!(schema.resource_schemas.contains_key(THING));
    h.server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Invalid schemas

async fn serve_error(provider: Example) -> String {
    match tfplugin::serve_in_process(provider, ADDRESS).await {
        Ok(server) => {
            server.shutdown().await;
            panic!("an invalid schema was served")
        }
        Err(e) => {
            assert!(matches!(e, tfplugin::ServeError::InvalidSchema(_)), "{e:?}");
            e.to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_schemas_are_refused_with_the_problem_named() {
    let mut p = Example::new();
    p.resource_schema
        .block
        .attributes
        .push(Attribute::string("Bad-Name").optional());
    let e = serve_error(p).await;
    assert!(e.contains("Bad-Name") && e.contains("lowercase"), "{e}");
    assert!(e.contains(THING), "{e}");

    let mut p = Example::new();
    p.resource_schema
        .block
        .attributes
        .push(Attribute::string("secret").optional_computed().write_only());
    let e = serve_error(p).await;
    assert!(
        e.contains("secret: a write-only attribute cannot be computed"),
        "{e}"
    );

    let mut p = Example::new();
    p.resource_name = "other_thing".into();
    let e = serve_error(p).await;
    assert!(
        e.contains("\"other_thing\" must start with \"example_\""),
        "{e}"
    );

    let mut p = Example::new();
    p.provider_schema
        .block
        .attributes
        .push(Attribute::string("token").computed());
    let e = serve_error(p).await;
    assert!(
        e.contains(
            "provider example: token: provider configuration cannot have computed attributes"
        ),
        "{e}"
    );
}
