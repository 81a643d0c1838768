//! Schema model: attributes, nested attributes and blocks, their plan behaviour, validation of the
//! schema itself (what Terraform would reject), and conversion to the wire `Schema`.
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use crate::diag::AttributePath;
use crate::proto::tfplugin6 as pb;
use crate::value::{Type, Value};

/// Checks one known, non-null attribute value; an `Err` message becomes an error diagnostic at the
/// attribute's path. Validators never see null or unknown values.
pub type Validator = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// Whether the user sets an attribute, the provider does, or either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Must be set in configuration.
    Required,
    /// May be set in configuration; null otherwise.
    Optional,
    /// Set only by the provider.
    Computed,
    /// May be set in configuration; the provider decides otherwise.
    OptionalComputed,
}

impl Mode {
    pub fn is_computed(self) -> bool {
        matches!(self, Mode::Computed | Mode::OptionalComputed)
    }
}

/// How a nested attribute or block holds its objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    /// Blocks only: like `Single` but never null.
    Group,
}

/// What an attribute holds: a value of a type, or nested attributes.
#[derive(Clone, Debug)]
pub enum AttributeKind {
    Type(Type),
    Nested {
        nesting: Nesting,
        attributes: Vec<Attribute>,
    },
}

/// One attribute of a block.
#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeKind,
    pub mode: Mode,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecated: bool,
    /// Markdown description, shown in docs and editors.
    pub description: String,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// For computed attributes: keep the prior state's value in plans instead of planning it
    /// unknown when the resource changes (for stable values such as ids and secrets).
    pub keep_prior_state: bool,
    pub validators: Vec<Validator>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("sensitive", &self.sensitive)
            .field("write_only", &self.write_only)
            .field("requires_replace", &self.requires_replace)
            .field("keep_prior_state", &self.keep_prior_state)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    /// An optional attribute of the given type; refine it with the builder methods.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self {
            name: name.into(),
            kind: AttributeKind::Type(ty),
            mode: Mode::Optional,
            sensitive: false,
            write_only: false,
            deprecated: false,
            description: String::new(),
            requires_replace: false,
            keep_prior_state: false,
            validators: Vec::new(),
        }
    }

    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    /// An attribute holding nested attributes.
    pub fn nested(name: impl Into<String>, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        Self {
            kind: AttributeKind::Nested {
                nesting,
                attributes,
            },
            ..Self::new(name, Type::Dynamic)
        }
    }

    pub fn required(mut self) -> Self {
        self.mode = Mode::Required;
        self
    }

    pub fn optional(mut self) -> Self {
        self.mode = Mode::Optional;
        self
    }

    pub fn computed(mut self) -> Self {
        self.mode = Mode::Computed;
        self
    }

    pub fn optional_computed(mut self) -> Self {
        self.mode = Mode::OptionalComputed;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    pub fn keep_prior_state(mut self) -> Self {
        self.keep_prior_state = true;
        self
    }

    /// Adds a validator (see [`Validator`]).
    pub fn validate(
        mut self,
        check: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(check));
        self
    }

    /// The cty type of this attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttributeKind::Type(t) => t.clone(),
            AttributeKind::Nested {
                nesting,
                attributes,
            } => {
                let obj = Type::Object(
                    attributes
                        .iter()
                        .map(|a| (a.name.clone(), a.value_type()))
                        .collect(),
                );
                wrap_nesting(*nesting, obj)
            }
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.kind {
            AttributeKind::Type(t) => (t.to_json_bytes(), None),
            AttributeKind::Nested {
                nesting,
                attributes,
            } => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single | Nesting::Group => pb::schema::object::NestingMode::Single,
                        Nesting::List => pb::schema::object::NestingMode::List,
                        Nesting::Set => pb::schema::object::NestingMode::Set,
                        Nesting::Map => pb::schema::object::NestingMode::Map,
                    } as i32,
                    ..Default::default()
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.mode == Mode::Required,
            optional: matches!(self.mode, Mode::Optional | Mode::OptionalComputed),
            computed: self.mode.is_computed(),
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            write_only: self.write_only,
            ..Default::default()
        }
    }
}

fn wrap_nesting(nesting: Nesting, obj: Type) -> Type {
    match nesting {
        Nesting::Single | Nesting::Group => obj,
        Nesting::List => Type::List(Box::new(obj)),
        Nesting::Set => Type::Set(Box::new(obj)),
        Nesting::Map => Type::Map(Box::new(obj)),
    }
}

/// A nested block type inside a block.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

/// A block: attributes plus nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecated: bool,
}

impl Block {
    /// The cty object type of this block's value.
    pub fn value_type(&self) -> Type {
        let mut attrs: std::collections::BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            attrs.insert(
                b.type_name.clone(),
                wrap_nesting(b.nesting, b.block.value_type()),
            );
        }
        Type::Object(attrs)
    }

    /// The attribute with this name, if any.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|b| pb::schema::NestedBlock {
                    type_name: b.type_name.clone(),
                    block: Some(b.block.to_proto(0)),
                    nesting: match b.nesting {
                        Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                        Nesting::List => pb::schema::nested_block::NestingMode::List,
                        Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                        Nesting::Map => pb::schema::nested_block::NestingMode::Map,
                        Nesting::Group => pb::schema::nested_block::NestingMode::Group,
                    } as i32,
                    min_items: b.min_items,
                    max_items: b.max_items,
                })
                .collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            ..Default::default()
        }
    }
}

/// What a schema describes; Terraform's rules differ slightly between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    Provider,
    Resource,
    DataSource,
    EphemeralResource,
}

/// A versioned schema of a provider, resource, data source or ephemeral resource.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, attributes: Vec<Attribute>) -> Self {
        Self {
            version,
            block: Block {
                attributes,
                ..Default::default()
            },
        }
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.block.description = markdown.into();
        self
    }

    pub fn with_block(mut self, block: NestedBlock) -> Self {
        self.block.blocks.push(block);
        self
    }

    /// The cty type of the whole object.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    pub(crate) fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }

    /// Checks the schema against the rules Terraform applies when it loads a provider, so that a
    /// bad schema fails a unit test rather than a user's `terraform plan`.
    pub fn validate(&self, kind: SchemaKind) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        validate_block(&self.block, kind, &AttributePath::root(), &mut errors);
        if self.version < 0 {
            errors.push(format!(
                "schema version {} must not be negative",
                self.version
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

const RESERVED_RESOURCE_NAMES: &[&str] = &[
    "connection",
    "count",
    "depends_on",
    "for_each",
    "lifecycle",
    "provider",
    "provisioner",
];

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn validate_block(block: &Block, kind: SchemaKind, at: &AttributePath, errors: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    let names = block
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .chain(block.blocks.iter().map(|b| b.type_name.as_str()));
    for name in names {
        let path = at.then_attr(name);
        if !valid_name(name) {
            errors.push(format!(
                "{path}: name {name:?} must be lowercase letters, digits and underscores"
            ));
        }
        if !seen.insert(name) {
            errors.push(format!("{path}: name {name:?} is declared more than once"));
        }
        if at.is_root()
            && matches!(kind, SchemaKind::Resource | SchemaKind::DataSource)
            && RESERVED_RESOURCE_NAMES.contains(&name)
        {
            errors.push(format!(
                "{path}: {name:?} is a Terraform meta-argument and cannot be an attribute"
            ));
        }
    }
    for a in &block.attributes {
        validate_attribute(a, kind, &at.then_attr(&a.name), errors);
    }
    for b in &block.blocks {
        let path = at.then_attr(&b.type_name);
        let (min, max) = (b.min_items, b.max_items);
        if min < 0 || max < 0 {
            errors.push(format!(
                "{path}: min_items and max_items must not be negative"
            ));
        }
        match b.nesting {
            Nesting::Single if min > 1 || max > 1 => errors.push(format!(
                "{path}: a single-nested block takes min_items and max_items of 0 or 1"
            )),
            Nesting::Group | Nesting::Map if min != 0 || max != 0 => errors.push(format!(
                "{path}: group and map blocks cannot set min_items or max_items"
            )),
            Nesting::List | Nesting::Set if max != 0 && min > max => errors.push(format!(
                "{path}: min_items {min} is greater than max_items {max}"
            )),
            _ => {}
        }
        validate_block(&b.block, kind, &path, errors);
    }
}

fn validate_attribute(
    a: &Attribute,
    kind: SchemaKind,
    path: &AttributePath,
    errors: &mut Vec<String>,
) {
    if a.write_only {
        if kind != SchemaKind::Resource && kind != SchemaKind::Provider {
            errors.push(format!(
                "{path}: write-only attributes are allowed only in resources and the provider"
            ));
        }
        if a.mode.is_computed() {
            errors.push(format!("{path}: a write-only attribute cannot be computed"));
        }
    }
    if kind == SchemaKind::Provider && a.mode.is_computed() {
        errors.push(format!(
            "{path}: provider configuration cannot have computed attributes"
        ));
    }
    if a.keep_prior_state && !a.mode.is_computed() {
        errors.push(format!(
            "{path}: keep_prior_state only applies to computed attributes"
        ));
    }
    if a.requires_replace && kind != SchemaKind::Resource {
        errors.push(format!(
            "{path}: requires_replace only applies to resources"
        ));
    }
    match &a.kind {
        AttributeKind::Type(_) => {}
        AttributeKind::Nested {
            nesting,
            attributes,
        } => {
            if *nesting == Nesting::Group {
                errors.push(format!(
                    "{path}: nested attributes support single, list, set and map nesting, not group"
                ));
            }
            if attributes.is_empty() {
                errors.push(format!(
                    "{path}: nested attributes need at least one attribute"
                ));
            }
            let inner = Block {
                attributes: attributes.clone(),
                ..Default::default()
            };
            validate_block(&inner, kind, path, errors);
        }
    }
}
