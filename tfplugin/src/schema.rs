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
            Nesting::List | Nesting::Set if max > 0 && min > max => errors.push(format!(
                "{path}: min_items {min} is greater than max_items {max}"
            )),
            _ => {}
        }
        if b.nesting == Nesting::Set && has_computed(&b.block) {
            errors.push(format!(
                "{path}: set blocks cannot hold computed attributes (set elements have no stable identity to plan them by); use list or map nesting"
            ));
        }
        validate_block(&b.block, kind, &path, errors);
    }
}

fn has_computed(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.mode.is_computed())
        || block.blocks.iter().any(|b| has_computed(&b.block))
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
    let nested = path.0.len() > 1;
    if nested && (a.requires_replace || a.write_only) {
        errors.push(format!(
            "{path}: requires_replace and write_only are supported on top-level attributes only"
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
            if *nesting == Nesting::Set && attributes.iter().any(|n| n.mode.is_computed()) {
                errors.push(format!(
                    "{path}: set-nested attributes cannot hold computed attributes (set elements have no stable identity to plan them by); use list or map nesting"
                ));
            }
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

#[cfg(test)]
mod tests {
    //! Schema validation (one failing example per rule, each naming its path) and the value
    //! types of blocks with nested attributes and nested blocks.
    use super::*;

    fn resource(attributes: Vec<Attribute>) -> Schema {
        Schema::new(0, attributes)
    }

    fn block(type_name: &str, nesting: Nesting, attributes: Vec<Attribute>) -> NestedBlock {
        NestedBlock {
            type_name: type_name.into(),
            nesting,
            block: Block {
                attributes,
                ..Default::default()
            },
            min_items: 0,
            max_items: 0,
        }
    }

    fn items(mut b: NestedBlock, min: i64, max: i64) -> NestedBlock {
        b.min_items = min;
        b.max_items = max;
        b
    }

    /// The errors of validating `schema` as `kind`; panics when it is valid.
    fn errors(schema: &Schema, kind: SchemaKind) -> Vec<String> {
        match schema.validate(kind) {
            Ok(()) => panic!("expected {schema:?} to be invalid as {kind:?}"),
            Err(e) => e,
        }
    }

    /// Asserts exactly one error, starting with `path: ` and containing `text`.
    fn one_error(schema: &Schema, kind: SchemaKind, path: &str, text: &str) {
        let errs = errors(schema, kind);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(
            errs[0].starts_with(&format!("{path}: ")),
            "error should name {path}: {}",
            errs[0]
        );
        assert!(
            errs[0].contains(text),
            "{:?} should contain {text:?}",
            errs[0]
        );
    }

    fn valid() -> Schema {
        resource(vec![
            Attribute::string("name").required().requires_replace(),
            Attribute::string("id").computed().keep_prior_state(),
            Attribute::string("note").optional_computed(),
            Attribute::string("password")
                .optional()
                .sensitive()
                .write_only(),
            Attribute::nested(
                "settings",
                Nesting::List,
                vec![Attribute::string("mode").optional()],
            )
            .optional(),
        ])
        .with_block(block(
            "hook",
            Nesting::List,
            vec![Attribute::string("url").required()],
        ))
        .with_block(items(
            block(
                "single",
                Nesting::Single,
                vec![Attribute::bool("on").optional()],
            ),
            0,
            1,
        ))
    }

    #[test]
    fn a_well_formed_schema_is_valid() {
        assert_eq!(valid().validate(SchemaKind::Resource), Ok(()));
    }

    #[test]
    fn names_must_be_lowercase_identifiers() {
        for bad in ["Bad-Name", "bad-name", "Name", "", "naïve"] {
            let s = resource(vec![Attribute::string(bad).optional()]);
            one_error(&s, SchemaKind::Resource, bad, "lowercase letters");
        }
        let s = resource(vec![]).with_block(block(
            "Hook",
            Nesting::List,
            vec![Attribute::string("url").optional()],
        ));
        one_error(&s, SchemaKind::Resource, "Hook", "lowercase letters");
        let s = resource(vec![]).with_block(block(
            "hook",
            Nesting::List,
            vec![Attribute::string("Url").optional()],
        ));
        one_error(&s, SchemaKind::Resource, "hook.Url", "lowercase letters");
        let s = resource(vec![Attribute::nested(
            "settings",
            Nesting::Single,
            vec![Attribute::string("Mode").optional()],
        )]);
        one_error(
            &s,
            SchemaKind::Resource,
            "settings.Mode",
            "lowercase letters",
        );
    }

    #[test]
    fn names_must_be_unique_among_attributes_and_blocks() {
        let s = resource(vec![
            Attribute::string("name").optional(),
            Attribute::string("name").optional(),
        ]);
        one_error(&s, SchemaKind::Resource, "name", "declared more than once");
        let s = resource(vec![Attribute::string("hook").optional()]).with_block(block(
            "hook",
            Nesting::List,
            vec![Attribute::string("url").optional()],
        ));
        one_error(&s, SchemaKind::Resource, "hook", "declared more than once");
        let s = resource(vec![Attribute::nested(
            "settings",
            Nesting::Map,
            vec![
                Attribute::string("mode").optional(),
                Attribute::string("mode").optional(),
            ],
        )]);
        one_error(
            &s,
            SchemaKind::Resource,
            "settings.mode",
            "declared more than once",
        );
    }

    #[test]
    fn meta_argument_names_are_reserved_at_the_top_of_resources_and_data_sources() {
        for name in RESERVED_RESOURCE_NAMES {
            let s = resource(vec![Attribute::string(*name).optional()]);
            one_error(&s, SchemaKind::Resource, name, "meta-argument");
            one_error(&s, SchemaKind::DataSource, name, "meta-argument");
            assert_eq!(s.validate(SchemaKind::Provider), Ok(()), "{name}");
        }
        let s = resource(vec![]).with_block(block(
            "lifecycle",
            Nesting::Single,
            vec![Attribute::string("x").optional()],
        ));
        one_error(&s, SchemaKind::Resource, "lifecycle", "meta-argument");
        // Nested names may be anything valid.
        let s = resource(vec![Attribute::nested(
            "settings",
            Nesting::Single,
            vec![Attribute::string("count").optional()],
        )]);
        assert_eq!(s.validate(SchemaKind::Resource), Ok(()));
    }

    #[test]
    fn block_item_limits() {
        let url = || vec![Attribute::string("url").optional()];
        let s = resource(vec![]).with_block(items(block("hook", Nesting::List, url()), -1, 0));
        one_error(&s, SchemaKind::Resource, "hook", "must not be negative");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Single, url()), 0, -2));
        one_error(&s, SchemaKind::Resource, "hook", "must not be negative");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Single, url()), 0, 2));
        one_error(&s, SchemaKind::Resource, "hook", "0 or 1");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Single, url()), 2, 0));
        one_error(&s, SchemaKind::Resource, "hook", "0 or 1");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Group, url()), 1, 0));
        one_error(&s, SchemaKind::Resource, "hook", "cannot set min_items");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Map, url()), 0, 1));
        one_error(&s, SchemaKind::Resource, "hook", "cannot set min_items");
        let s = resource(vec![]).with_block(items(block("hook", Nesting::List, url()), 3, 2));
        one_error(
            &s,
            SchemaKind::Resource,
            "hook",
            "min_items 3 is greater than max_items 2",
        );
        let s = resource(vec![]).with_block(items(block("hook", Nesting::Set, url()), 3, 2));
        one_error(&s, SchemaKind::Resource, "hook", "greater than max_items");
        // max_items 0 means unlimited.
        let s = resource(vec![]).with_block(items(block("hook", Nesting::List, url()), 3, 0));
        assert_eq!(s.validate(SchemaKind::Resource), Ok(()));
    }

    #[test]
    fn nested_blocks_are_validated_with_their_path() {
        let inner = items(
            block(
                "inner",
                Nesting::List,
                vec![Attribute::string("x").optional()],
            ),
            2,
            1,
        );
        let mut outer = block("outer", Nesting::List, vec![]);
        outer.block.blocks.push(inner);
        let s = resource(vec![]).with_block(outer);
        one_error(
            &s,
            SchemaKind::Resource,
            "outer.inner",
            "greater than max_items",
        );
    }

    #[test]
    fn write_only_rules() {
        let wo = || Attribute::string("secret").optional().write_only();
        one_error(
            &resource(vec![wo()]),
            SchemaKind::DataSource,
            "secret",
            "only in resources and the provider",
        );
        one_error(
            &resource(vec![wo()]),
            SchemaKind::EphemeralResource,
            "secret",
            "only in resources and the provider",
        );
        assert_eq!(resource(vec![wo()]).validate(SchemaKind::Provider), Ok(()));
        one_error(
            &resource(vec![wo().computed()]),
            SchemaKind::Resource,
            "secret",
            "write-only attribute cannot be computed",
        );
        one_error(
            &resource(vec![wo().optional_computed()]),
            SchemaKind::Resource,
            "secret",
            "write-only attribute cannot be computed",
        );
        let nested = resource(vec![Attribute::nested(
            "creds",
            Nesting::Single,
            vec![wo()],
        )]);
        one_error(
            &nested,
            SchemaKind::Resource,
            "creds.secret",
            "top-level attributes only",
        );
        let set_computed = resource(vec![Attribute::nested(
            "rules",
            Nesting::Set,
            vec![Attribute::string("id").computed()],
        )
        .optional()]);
        one_error(
            &set_computed,
            SchemaKind::Resource,
            "rules",
            "use list or map nesting",
        );
    }

    #[test]
    fn provider_configuration_cannot_be_computed() {
        for a in [
            Attribute::string("token").computed(),
            Attribute::string("token").optional_computed(),
        ] {
            one_error(
                &resource(vec![a]),
                SchemaKind::Provider,
                "token",
                "provider configuration cannot have computed attributes",
            );
        }
    }

    #[test]
    fn keep_prior_state_needs_a_computed_attribute() {
        for a in [
            Attribute::string("id").required().keep_prior_state(),
            Attribute::string("id").optional().keep_prior_state(),
        ] {
            one_error(
                &resource(vec![a]),
                SchemaKind::Resource,
                "id",
                "keep_prior_state only applies to computed attributes",
            );
        }
    }

    #[test]
    fn requires_replace_is_for_resources_only() {
        let s = resource(vec![Attribute::string("name")
            .required()
            .requires_replace()]);
        assert_eq!(s.validate(SchemaKind::Resource), Ok(()));
        for kind in [
            SchemaKind::DataSource,
            SchemaKind::EphemeralResource,
            SchemaKind::Provider,
        ] {
            one_error(
                &s,
                kind,
                "name",
                "requires_replace only applies to resources",
            );
        }
    }

    #[test]
    fn nested_attribute_rules() {
        let s = resource(vec![Attribute::nested(
            "settings",
            Nesting::Group,
            vec![Attribute::string("mode").optional()],
        )]);
        one_error(&s, SchemaKind::Resource, "settings", "not group");
        let s = resource(vec![Attribute::nested("settings", Nesting::List, vec![])]);
        one_error(
            &s,
            SchemaKind::Resource,
            "settings",
            "at least one attribute",
        );
        let s = resource(vec![Attribute::nested(
            "settings",
            Nesting::Set,
            vec![Attribute::string("mode").optional().keep_prior_state()],
        )]);
        one_error(
            &s,
            SchemaKind::Resource,
            "settings.mode",
            "keep_prior_state",
        );
        let deep = resource(vec![Attribute::nested(
            "a",
            Nesting::Single,
            vec![Attribute::nested(
                "b",
                Nesting::Map,
                vec![Attribute::string("C").optional()],
            )],
        )]);
        one_error(&deep, SchemaKind::Resource, "a.b.C", "lowercase letters");
    }

    #[test]
    fn negative_versions_are_refused() {
        let mut s = valid();
        s.version = -1;
        let errs = errors(&s, SchemaKind::Resource);
        assert_eq!(
            errs,
            vec!["schema version -1 must not be negative".to_owned()]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let s = resource(vec![
            Attribute::string("Bad").optional(),
            Attribute::string("secret").computed().write_only(),
            Attribute::string("count").optional(),
        ]);
        let errs = errors(&s, SchemaKind::Resource);
        assert_eq!(errs.len(), 3, "{errs:#?}");
    }

    #[test]
    fn value_type_of_nested_attributes() {
        let inner = || vec![Attribute::string("mode"), Attribute::number("size")];
        let obj = Type::object([("mode", Type::String), ("size", Type::Number)]);
        let s = resource(vec![
            Attribute::string("name"),
            Attribute::new("tags", Type::map(Type::String)),
            Attribute::nested("single", Nesting::Single, inner()),
            Attribute::nested("list", Nesting::List, inner()),
            Attribute::nested("set", Nesting::Set, inner()),
            Attribute::nested("map", Nesting::Map, inner()),
        ]);
        assert_eq!(
            s.value_type(),
            Type::object([
                ("name", Type::String),
                ("tags", Type::map(Type::String)),
                ("single", obj.clone()),
                ("list", Type::list(obj.clone())),
                ("set", Type::set(obj.clone())),
                ("map", Type::map(obj.clone())),
            ])
        );
        // Nested attributes inside nested attributes.
        let deep = Attribute::nested(
            "outer",
            Nesting::List,
            vec![Attribute::nested("inner", Nesting::Map, inner())],
        );
        assert_eq!(
            deep.value_type(),
            Type::list(Type::object([("inner", Type::map(obj))]))
        );
    }

    #[test]
    fn value_type_of_nested_blocks() {
        let b = |name: &str, nesting| block(name, nesting, vec![Attribute::string("url")]);
        let obj = Type::object([("url", Type::String)]);
        let mut outer = b("outer", Nesting::List);
        outer.block.blocks.push(b("inner", Nesting::Set));
        let s = resource(vec![Attribute::bool("on")])
            .with_block(b("single", Nesting::Single))
            .with_block(b("group", Nesting::Group))
            .with_block(b("list", Nesting::List))
            .with_block(b("set", Nesting::Set))
            .with_block(b("map", Nesting::Map))
            .with_block(outer);
        assert_eq!(
            s.value_type(),
            Type::object([
                ("on", Type::Bool),
                ("single", obj.clone()),
                ("group", obj.clone()),
                ("list", Type::list(obj.clone())),
                ("set", Type::set(obj.clone())),
                ("map", Type::map(obj.clone())),
                (
                    "outer",
                    Type::list(Type::object([
                        ("url", Type::String),
                        ("inner", Type::set(obj)),
                    ]))
                ),
            ])
        );
        assert_eq!(Block::default().value_type(), Type::object::<String>([]));
    }
}
