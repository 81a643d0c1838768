//! Owns `Type`: cty types and their JSON form (`"string"`, `["list","string"]`,
//! `["object",{"a":"string"}]`, ...) as used in `Schema.Attribute.type` and dynamic values.

use std::collections::BTreeMap;
use std::fmt;

use super::error::ValueError;

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `string`
    String,
    /// `number` (arbitrary precision)
    Number,
    /// `bool`
    Bool,
    /// `dynamic`: the type is chosen at runtime and travels with the value.
    Dynamic,
    /// `list(T)`
    List(Box<Type>),
    /// `set(T)`
    Set(Box<Type>),
    /// `map(T)` (string keys)
    Map(Box<Type>),
    /// `object({...})`. Optional-attribute markers in the JSON form are accepted and dropped.
    Object(BTreeMap<String, Type>),
    /// `tuple([...])`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(element)`
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// `tuple([...])`
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// Whether this is `string`, `number` or `bool`.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The attribute types of an object type.
    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// The cty JSON form of the type.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let kind = |k: &str, arg: J| J::Array(vec![J::String(k.to_string()), arg]);
        match self {
            Type::String => J::String("string".into()),
            Type::Number => J::String("number".into()),
            Type::Bool => J::String("bool".into()),
            Type::Dynamic => J::String("dynamic".into()),
            Type::List(t) => kind("list", t.to_json()),
            Type::Set(t) => kind("set", t.to_json()),
            Type::Map(t) => kind("map", t.to_json()),
            Type::Object(attrs) => kind(
                "object",
                J::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ),
            Type::Tuple(ts) => kind("tuple", J::Array(ts.iter().map(Type::to_json).collect())),
        }
    }

    /// The compact cty JSON form as bytes (object attributes sorted), e.g.
    /// `["object",{"a":"string","b":["list","number"]}]`.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("a JSON value always serializes")
    }

    /// Parses the cty JSON form of a type. `["object", {...}, ["optional", ...]]` is
    /// accepted; the optional-attribute list is ignored.
    pub fn from_json(json: &serde_json::Value) -> Result<Type, ValueError> {
        Type::from_json_depth(json, 0)
    }

    /// Parses the cty JSON form of a type from bytes.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, ValueError> {
        let json: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ValueError::invalid_type(format!("not JSON: {e}")))?;
        Type::from_json(&json)
    }

    fn from_json_depth(json: &serde_json::Value, depth: usize) -> Result<Type, ValueError> {
        use serde_json::Value as J;
        if depth > super::MAX_DEPTH {
            return Err(ValueError::invalid_type("nested too deeply"));
        }
        match json {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(ValueError::invalid_type(format!(
                    "unknown primitive type {other:?}"
                ))),
            },
            J::Array(items) => {
                let Some(J::String(kind)) = items.first() else {
                    return Err(ValueError::invalid_type(
                        "a complex type must be an array starting with its kind name",
                    ));
                };
                let arity_ok = items.len() == 2 || (kind == "object" && items.len() == 3);
                if !arity_ok {
                    return Err(ValueError::invalid_type(format!(
                        "[{kind:?}, ...] must have exactly one type argument"
                    )));
                }
                let arg = &items[1];
                let element = || Type::from_json_depth(arg, depth + 1).map(Box::new);
                match kind.as_str() {
                    "list" => Ok(Type::List(element()?)),
                    "set" => Ok(Type::Set(element()?)),
                    "map" => Ok(Type::Map(element()?)),
                    "object" => {
                        let J::Object(attrs) = arg else {
                            return Err(ValueError::invalid_type(
                                "an object type needs a JSON object of attribute types",
                            ));
                        };
                        if let Some(optional) = items.get(2) {
                            let names_ok = matches!(optional, J::Array(names)
                                if names.iter().all(|n| n.as_str().is_some_and(|n| attrs.contains_key(n))));
                            if !names_ok {
                                return Err(ValueError::invalid_type(
                                    "an object type's optional attributes must be an array of its attribute names",
                                ));
                            }
                        }
                        let mut out = BTreeMap::new();
                        for (name, t) in attrs {
                            out.insert(name.clone(), Type::from_json_depth(t, depth + 1)?);
                        }
                        Ok(Type::Object(out))
                    }
                    "tuple" => {
                        let J::Array(ts) = arg else {
                            return Err(ValueError::invalid_type(
                                "a tuple type needs a JSON array of element types",
                            ));
                        };
                        ts.iter()
                            .map(|t| Type::from_json_depth(t, depth + 1))
                            .collect::<Result<Vec<_>, _>>()
                            .map(Type::Tuple)
                    }
                    other => Err(ValueError::invalid_type(format!(
                        "unknown complex type kind {other:?}"
                    ))),
                }
            }
            other => Err(ValueError::invalid_type(format!(
                "expected a type name or [kind, argument] array, found {}",
                super::json::json_kind(other)
            ))),
        }
    }
}

impl fmt::Display for Type {
    /// Terraform's type-constraint syntax: `string`, `list(string)`,
    /// `object({a=string, b=number})`, `tuple([string, bool])`, `dynamic`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Type, ValueError> {
        Type::from_json_bytes(s.as_bytes())
    }

    #[test]
    fn json_round_trip_is_compact_and_sorted() {
        let t = Type::object([
            ("b", Type::list(Type::Number)),
            ("a", Type::String),
            (
                "c",
                Type::tuple([
                    Type::Bool,
                    Type::set(Type::Dynamic),
                    Type::map(Type::String),
                ]),
            ),
        ]);
        let bytes = t.to_json_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"["object",{"a":"string","b":["list","number"],"c":["tuple",["bool",["set","dynamic"],["map","string"]]]}]"#
        );
        assert_eq!(Type::from_json_bytes(&bytes).unwrap(), t);
    }

    #[test]
    fn primitives() {
        for (s, t) in [
            (r#""string""#, Type::String),
            (r#""number""#, Type::Number),
            (r#""bool""#, Type::Bool),
            (r#""dynamic""#, Type::Dynamic),
        ] {
            assert_eq!(parse(s).unwrap(), t);
            assert_eq!(t.to_json_bytes(), s.as_bytes());
        }
    }

    #[test]
    fn optional_attribute_markers_are_ignored() {
        let t = parse(r#"["object",{"a":"string","b":"number"},["b"]]"#).unwrap();
        assert_eq!(t, Type::object([("a", Type::String), ("b", Type::Number)]));
        assert!(parse(r#"["object",{"a":"string"},["zzz"]]"#).is_err());
    }

    #[test]
    fn rejects_malformed_types() {
        for s in [
            r#""str""#,
            r#"["list"]"#,
            r#"["list","string","extra"]"#,
            r#"["tuple","string"]"#,
            r#"["object",["a"]]"#,
            r#"["frob","string"]"#,
            r#"[1,"string"]"#,
            "42",
            "{}",
            "not json",
        ] {
            assert!(parse(s).is_err(), "{s} should be rejected");
        }
        let e = parse(r#"["list","strin"]"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type description: unknown primitive type \"strin\""
        );
    }

    #[test]
    fn display() {
        let t = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::tuple([Type::Bool, Type::Number])),
        ]);
        assert_eq!(
            t.to_string(),
            "object({a=list(string), b=tuple([bool, number])})"
        );
    }
}
