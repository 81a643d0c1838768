//! Terraform's plan rules, applied once for every resource: validation of configuration against
//! the schema, computed values planned unknown or kept, requires-replace, write-only nulling, and
//! the check that an apply result matches its plan.
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::schema::{Attribute, AttributeKind, Block, Mode, Nesting};
use crate::value::Value;

static NULL: Value = Value::Null;

fn attr<'a>(obj: &'a Value, name: &str) -> &'a Value {
    obj.get_attr(name).unwrap_or(&NULL)
}

fn attr_mut<'a>(obj: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    match obj {
        Value::Object(attrs) => attrs.get_mut(name),
        _ => None,
    }
}

/// Checks a configuration against the schema: computed-only attributes must not be set,
/// validators run on known values, deprecated attributes warn.
pub fn validate_config(block: &Block, config: &Value, diags: &mut Diagnostics) {
    validate_attributes(&block.attributes, config, &AttributePath::root(), diags);
    for b in &block.blocks {
        let path = AttributePath::root().then_attr(&b.type_name);
        for_each_nested(
            b.nesting,
            attr(config, &b.type_name),
            &path,
            &mut |obj, p| validate_config_at(&b.block, obj, p, diags),
        );
    }
}

fn validate_config_at(block: &Block, config: &Value, at: &AttributePath, diags: &mut Diagnostics) {
    validate_attributes(&block.attributes, config, at, diags);
    for b in &block.blocks {
        let path = at.then_attr(&b.type_name);
        for_each_nested(
            b.nesting,
            attr(config, &b.type_name),
            &path,
            &mut |obj, p| validate_config_at(&b.block, obj, p, diags),
        );
    }
}

fn validate_attributes(
    attrs: &[Attribute],
    config: &Value,
    at: &AttributePath,
    diags: &mut Diagnostics,
) {
    for a in attrs {
        let v = attr(config, &a.name);
        let path = at.then_attr(&a.name);
        if v.is_null() {
            continue;
        }
        if a.mode == Mode::Computed {
            diags.push(
                Diagnostic::error(
                    "Value for computed attribute",
                    format!(
                        "The attribute \"{path}\" is set by the provider and cannot be configured. Remove it from the configuration."
                    ),
                )
                .at(path.clone()),
            );
            continue;
        }
        if a.deprecated {
            diags.push(
                Diagnostic::warning(
                    "Deprecated attribute",
                    format!("The attribute \"{path}\" is deprecated. {}", a.description),
                )
                .at(path.clone()),
            );
        }
        if v.is_wholly_known() {
            for check in &a.validators {
                if let Err(msg) = check(v) {
                    diags.push(
                        Diagnostic::error(format!("Invalid value for {path}"), msg)
                            .at(path.clone()),
                    );
                }
            }
        }
        if let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        {
            for_each_nested(*nesting, v, &path, &mut |obj, p| {
                validate_attributes(attributes, obj, p, diags)
            });
        }
    }
}

/// Calls `f` for every known object in a nested value, with its path.
fn for_each_nested(
    nesting: Nesting,
    v: &Value,
    path: &AttributePath,
    f: &mut dyn FnMut(&Value, &AttributePath),
) {
    match (nesting, v) {
        (Nesting::Single | Nesting::Group, obj @ Value::Object(_)) => f(obj, path),
        (Nesting::List, Value::List(items)) => {
            for (i, obj) in items.iter().enumerate() {
                f(obj, &path.then_index(i as i64))
            }
        }
        (Nesting::Set, Value::Set(items)) => {
            for obj in items {
                f(obj, path)
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, obj) in items {
                f(obj, &path.then_key(k))
            }
        }
        _ => {}
    }
}

/// The framework's part of a resource plan.
pub struct PlannedChange {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Plans a resource change from Terraform's proposed new state:
/// - computed attributes that the configuration leaves null are planned unknown on create, and
///   on update when anything changes, unless they keep their prior state;
/// - write-only attributes are planned null;
/// - changed requires-replace attributes are reported.
pub fn plan_change(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> PlannedChange {
    if proposed.is_null() {
        return PlannedChange {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let creating = prior.is_null();
    let changed = creating || proposed != prior;
    let mut planned = proposed.clone();
    plan_block(block, &mut planned, config, creating, changed);
    let mut requires_replace = Vec::new();
    if !creating {
        for a in block.attributes.iter().filter(|a| a.requires_replace) {
            if attr(&planned, &a.name) != attr(prior, &a.name) {
                requires_replace.push(AttributePath::attr(&a.name));
            }
        }
    }
    PlannedChange {
        planned,
        requires_replace,
    }
}

fn plan_block(block: &Block, planned: &mut Value, config: &Value, creating: bool, changed: bool) {
    plan_attributes(&block.attributes, planned, config, creating, changed);
    for b in &block.blocks {
        let configured = attr(config, &b.type_name);
        if let Some(slot) = attr_mut(planned, &b.type_name) {
            for_each_element_mut(b.nesting, slot, configured, &mut |elem, conf| {
                plan_block(&b.block, elem, conf, creating, changed)
            });
        }
    }
}

fn plan_attributes(
    attrs: &[Attribute],
    planned: &mut Value,
    config: &Value,
    creating: bool,
    changed: bool,
) {
    for a in attrs {
        let configured = attr(config, &a.name);
        let Some(slot) = attr_mut(planned, &a.name) else {
            continue;
        };
        if a.write_only {
            *slot = Value::Null;
            continue;
        }
        if a.mode.is_computed() && configured.is_null() {
            if creating || (changed && !a.keep_prior_state) {
                *slot = Value::Unknown;
            }
            continue;
        }
        if let AttributeKind::Nested {
            nesting,
            attributes,
        } = &a.kind
        {
            for_each_element_mut(*nesting, slot, configured, &mut |elem, conf| {
                plan_attributes(attributes, elem, conf, creating, changed)
            });
        }
    }
}

/// Calls `f` with every object of a nested value and the matching object of the configuration
/// (by position for lists, by key for maps). Sets have no stable pairing; schemas with computed
/// attributes inside sets are rejected by schema validation.
fn for_each_element_mut(
    nesting: Nesting,
    slot: &mut Value,
    config: &Value,
    f: &mut dyn FnMut(&mut Value, &Value),
) {
    match (nesting, slot) {
        (Nesting::Single | Nesting::Group, obj @ Value::Object(_)) => f(obj, config),
        (Nesting::List, Value::List(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                f(
                    item,
                    config.as_elements().and_then(|c| c.get(i)).unwrap_or(&NULL),
                );
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, item) in items.iter_mut() {
                f(
                    item,
                    config.as_map().and_then(|c| c.get(k)).unwrap_or(&NULL),
                );
            }
        }
        _ => {}
    }
}

/// Compares an apply result with its plan: every value known in the plan must come back
/// unchanged, and nothing may come back unknown. Returns one error per differing attribute.
pub fn check_apply_result(planned: &Value, new_state: &Value, resource_type: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    compare(
        planned,
        new_state,
        &AttributePath::root(),
        resource_type,
        &mut diags,
    );
    diags
}

fn compare(
    planned: &Value,
    actual: &Value,
    path: &AttributePath,
    ty: &str,
    diags: &mut Diagnostics,
) {
    if !actual.is_wholly_known()
        && !matches!((planned, actual), (Value::Object(_), Value::Object(_)))
    {
        diags.push(inconsistent(
            ty,
            path,
            "the provider returned an unknown value after apply",
        ));
        return;
    }
    match (planned, actual) {
        (Value::Unknown, _) => {}
        (Value::Object(p), Value::Object(a)) => {
            for (name, pv) in p {
                compare(
                    pv,
                    a.get(name).unwrap_or(&NULL),
                    &path.then_attr(name),
                    ty,
                    diags,
                );
            }
        }
        (p, a) if p.is_wholly_known() => {
            if p != a {
                diags.push(inconsistent(
                    ty,
                    path,
                    &format!("planned {p:?}, but apply produced {a:?}"),
                ));
            }
        }
        (Value::List(p), Value::List(a)) | (Value::Tuple(p), Value::Tuple(a))
            if p.len() == a.len() =>
        {
            for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                compare(pv, av, &path.then_index(i as i64), ty, diags);
            }
        }
        (Value::Map(p), Value::Map(a)) if p.len() == a.len() => {
            for (k, pv) in p {
                compare(pv, a.get(k).unwrap_or(&NULL), &path.then_key(k), ty, diags);
            }
        }
        // Partly-unknown sets and mismatched shapes: only the shape can be checked.
        (Value::Set(_), Value::Set(_)) => {}
        (p, a) => diags.push(inconsistent(
            ty,
            path,
            &format!("planned {p:?}, but apply produced {a:?}"),
        )),
    }
}

fn inconsistent(ty: &str, path: &AttributePath, what: &str) -> Diagnostic {
    let at = if path.is_root() {
        "the object".to_owned()
    } else {
        format!("\"{path}\"")
    };
    Diagnostic::error(
        "Provider produced inconsistent result after apply",
        format!("{ty}: {at}: {what}. This is a bug in the provider."),
    )
    .at(path.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn object(v: Vec<(&str, Value)>) -> Value {
        Value::object(v)
    }

    fn block() -> Block {
        Block {
            attributes: vec![
                Attribute::string("name").required().requires_replace(),
                Attribute::string("url").required(),
                Attribute::string("id").computed().keep_prior_state(),
                Attribute::string("etag").computed(),
                Attribute::string("note").optional_computed(),
                Attribute::string("password").optional().write_only(),
                Attribute::string("code").optional().validate(|v| {
                    if v.as_str().is_some_and(|s| s.len() <= 3) {
                        Ok(())
                    } else {
                        Err("must be at most 3 characters".into())
                    }
                }),
            ],
            ..Default::default()
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut all: Vec<(&str, Value)> = ["name", "url", "id", "etag", "note", "password", "code"]
            .iter()
            .map(|n| (*n, Value::Null))
            .collect();
        for (k, v) in pairs {
            if let Some(slot) = all.iter_mut().find(|(n, _)| n == k) {
                slot.1 = v.clone();
            }
        }
        object(all)
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn create_plans_unset_computed_values_unknown() {
        let config = obj(&[("name", s("a")), ("url", s("u")), ("password", s("p"))]);
        let out = plan_change(&block(), &Value::Null, &config, &config);
        assert_eq!(out.planned.get_attr("id"), Some(&Value::Unknown));
        assert_eq!(out.planned.get_attr("etag"), Some(&Value::Unknown));
        assert_eq!(out.planned.get_attr("note"), Some(&Value::Unknown));
        assert_eq!(out.planned.get_attr("password"), Some(&Value::Null));
        assert!(out.requires_replace.is_empty());
    }

    #[test]
    fn update_keeps_stable_values_and_marks_changing_ones_unknown() {
        let prior = obj(&[
            ("name", s("a")),
            ("url", s("u")),
            ("id", s("1")),
            ("etag", s("e")),
            ("note", s("n")),
        ]);
        let config = obj(&[("name", s("a")), ("url", s("v"))]);
        let proposed = obj(&[
            ("name", s("a")),
            ("url", s("v")),
            ("id", s("1")),
            ("etag", s("e")),
            ("note", s("n")),
        ]);
        let out = plan_change(&block(), &prior, &proposed, &config);
        assert_eq!(out.planned.get_attr("id"), Some(&s("1")));
        assert_eq!(out.planned.get_attr("etag"), Some(&Value::Unknown));
        assert_eq!(out.planned.get_attr("note"), Some(&Value::Unknown));
        assert!(out.requires_replace.is_empty());
    }

    #[test]
    fn no_change_plans_prior_state() {
        let prior = obj(&[
            ("name", s("a")),
            ("url", s("u")),
            ("id", s("1")),
            ("etag", s("e")),
        ]);
        let config = obj(&[("name", s("a")), ("url", s("u"))]);
        let out = plan_change(&block(), &prior, &prior, &config);
        assert_eq!(out.planned, prior);
    }

    #[test]
    fn changing_a_replace_attribute_requires_replace() {
        let prior = obj(&[("name", s("a")), ("url", s("u")), ("id", s("1"))]);
        let config = obj(&[("name", s("b")), ("url", s("u"))]);
        let proposed = obj(&[("name", s("b")), ("url", s("u")), ("id", s("1"))]);
        let out = plan_change(&block(), &prior, &proposed, &config);
        assert_eq!(out.requires_replace, vec![AttributePath::attr("name")]);
        let unknown_name = obj(&[("name", Value::Unknown), ("url", s("u")), ("id", s("1"))]);
        let out = plan_change(&block(), &prior, &unknown_name, &config);
        assert_eq!(out.requires_replace, vec![AttributePath::attr("name")]);
    }

    #[test]
    fn computed_values_inside_nested_lists_and_blocks_are_planned_unknown_on_create() {
        use crate::schema::NestedBlock;
        let inner = vec![
            Attribute::string("x").required(),
            Attribute::string("cid").computed(),
        ];
        let block = Block {
            attributes: vec![Attribute::nested("items", Nesting::List, inner.clone()).optional()],
            blocks: vec![NestedBlock {
                type_name: "rule".into(),
                nesting: Nesting::List,
                block: Block {
                    attributes: inner,
                    ..Default::default()
                },
                min_items: 0,
                max_items: 0,
            }],
            ..Default::default()
        };
        let elem = |x: &str| Value::object([("x", s(x)), ("cid", Value::Null)]);
        let config = Value::object([
            ("items", Value::list([elem("a"), elem("b")])),
            ("rule", Value::list([elem("r")])),
        ]);
        let out = plan_change(&block, &Value::Null, &config, &config);
        let items = out
            .planned
            .get_attr("items")
            .and_then(Value::as_elements)
            .unwrap();
        assert!(items
            .iter()
            .all(|i| i.get_attr("cid") == Some(&Value::Unknown)));
        let rules = out
            .planned
            .get_attr("rule")
            .and_then(Value::as_elements)
            .unwrap();
        assert_eq!(rules[0].get_attr("cid"), Some(&Value::Unknown));
        assert_eq!(rules[0].get_attr("x"), Some(&s("r")));
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj(&[("name", s("a"))]);
        assert_eq!(
            plan_change(&block(), &prior, &Value::Null, &Value::Null).planned,
            Value::Null
        );
    }

    #[test]
    fn config_errors_name_the_attribute() {
        let mut diags = Diagnostics::new();
        validate_config(
            &block(),
            &obj(&[("id", s("x")), ("code", s("toolong"))]),
            &mut diags,
        );
        let d: Vec<_> = diags.iter().collect();
        assert_eq!(d.len(), 2, "{diags}");
        assert_eq!(d[0].attribute, Some(AttributePath::attr("id")));
        assert!(d[0].detail.contains("\"id\" is set by the provider"));
        assert_eq!(d[1].attribute, Some(AttributePath::attr("code")));
        assert_eq!(d[1].detail, "must be at most 3 characters");
        let mut diags = Diagnostics::new();
        validate_config(&block(), &obj(&[("code", Value::Unknown)]), &mut diags);
        assert!(diags.is_empty(), "unknown values are not validated");
    }

    #[test]
    fn apply_check_names_the_differing_attribute() {
        let planned = obj(&[("name", s("a")), ("id", Value::Unknown)]);
        let good = obj(&[("name", s("a")), ("id", s("1"))]);
        assert!(check_apply_result(&planned, &good, "t").is_empty());
        let bad = obj(&[("name", s("b")), ("id", s("1"))]);
        let d = check_apply_result(&planned, &bad, "t");
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].attribute, Some(AttributePath::attr("name")));
        let unknown = obj(&[("name", s("a")), ("id", Value::Unknown)]);
        let d = check_apply_result(&planned, &unknown, "t");
        assert_eq!(d.0[0].attribute, Some(AttributePath::attr("id")));
    }
}
