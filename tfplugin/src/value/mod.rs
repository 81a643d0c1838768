//! Owns the cty value model: `Value` (with null, unknown and dynamically-typed values), its
//! type check and convenience API, and re-exports `Type`, `Number`, `ValueError`. The codecs
//! (Terraform's cty msgpack and JSON encodings) live in `msgpack.rs` and `json.rs`.
//!
//! Values are untyped trees; the codecs and [`Value::conforms_to`] take the [`Type`] that
//! gives them meaning, exactly as Terraform's schemas do.

mod error;
mod json;
mod msgpack;
mod number;
#[cfg(test)]
mod proptests;
mod types;

use std::collections::BTreeMap;

pub use error::{ValueError, ValueErrorKind};
pub use number::Number;
pub use types::Type;

/// Nesting limit of the decoders (types and values), far above any real schema.
pub(crate) const MAX_DEPTH: usize = 200;

/// A cty value. Its meaning comes from the [`Type`] it is checked or encoded against.
///
/// Equality is structural except for sets, which compare as multisets (order-insensitive);
/// numbers compare by numeric value. A [`Value::Dynamic`] wrapper is part of the structure:
/// `Dynamic(String, "a")` is not equal to `String("a")`.
#[derive(Clone, Debug)]
pub enum Value {
    /// A null value (of whatever type the slot has).
    Null,
    /// A wholly unknown value. Refinements sent by Terraform (msgpack extension 12) are
    /// accepted and dropped.
    Unknown,
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// A bool.
    Bool(bool),
    /// A list.
    List(Vec<Value>),
    /// A set. Element order is kept (and is the encoding order) but not significant for
    /// equality.
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object; encoders treat attributes of the type missing here as null.
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A value of a concrete type in a `dynamic` slot, with that type. The inner value may be
    /// null or unknown (a typed null/unknown). A plain [`Value::Null`] or [`Value::Unknown`]
    /// in a dynamic slot is the untyped null/unknown.
    Dynamic(Type, Box<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) | (Unknown, Unknown) => true,
            (String(a), String(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => multiset_eq(a, b),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            (Dynamic(ta, va), Dynamic(tb, vb)) => ta == tb && va == vb,
            _ => false,
        }
    }
}

impl Eq for Value {}

fn multiset_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = (0..b.len()).find(|&j| !used[j] && b[j] == *x);
        if let Some(j) = found {
            used[j] = true;
        }
        found.is_some()
    })
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A number value.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map value from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list value.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

    /// A set value.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(elements.into_iter().collect())
    }

    /// A tuple value.
    pub fn tuple(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Tuple(elements.into_iter().collect())
    }

    /// A value of type `ty` for a `dynamic` slot.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(ty, Box::new(value))
    }

    /// The value inside any [`Value::Dynamic`] wrappers.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(_, inner) = v {
            v = inner;
        }
        v
    }

    /// Whether the value is null (looking through a dynamic wrapper).
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// Whether the value is (wholly) unknown (looking through a dynamic wrapper).
    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown)
    }

    /// Whether no unknown value occurs anywhere in the value.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => {
                vs.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
        }
    }

    /// The string, for a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, for a bool value.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, for a number value.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, for a number value that is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(vs) | Value::Set(vs) | Value::Tuple(vs) => Some(vs),
            _ => None,
        }
    }

    /// The entries of a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The attributes of an object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An attribute of an object value (`None` if this is not an object or has no such
    /// attribute).
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|m| m.get(name))
    }

    /// A short description of the value's kind, for error messages.
    pub(crate) fn kind_name(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Unknown => "unknown".into(),
            Value::String(_) => "string".into(),
            Value::Number(_) => "number".into(),
            Value::Bool(_) => "bool".into(),
            Value::List(_) => "list".into(),
            Value::Set(_) => "set".into(),
            Value::Map(_) => "map".into(),
            Value::Object(_) => "object".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::Dynamic(t, _) => format!("dynamic value of type {t}"),
        }
    }

    /// Checks that the value conforms to `ty`: null and unknown conform to any type; an
    /// object may omit attributes of its type (they count as null) but must not have others;
    /// a `dynamic` slot needs [`Value::Dynamic`] (or null/unknown) with a concrete type; a
    /// [`Value::Dynamic`] in a slot of a concrete type is checked by its inner value.
    /// These are exactly the values the encoders accept.
    pub fn conforms_to(&self, ty: &Type) -> Result<(), ValueError> {
        match (ty, self) {
            (_, Value::Null | Value::Unknown) => Ok(()),
            (Type::Dynamic, Value::Dynamic(t, v)) => {
                check_dynamic_type(t)?;
                v.conforms_to(t)
            }
            (Type::Dynamic, other) => Err(dynamic_mismatch(other)),
            (_, Value::Dynamic(_, v)) => v.conforms_to(ty),
            (Type::String, Value::String(_))
            | (Type::Number, Value::Number(_))
            | (Type::Bool, Value::Bool(_)) => Ok(()),
            (Type::List(t), Value::List(vs)) | (Type::Set(t), Value::Set(vs)) => {
                for (i, v) in vs.iter().enumerate() {
                    v.conforms_to(t).map_err(|e| e.in_index(i))?;
                }
                Ok(())
            }
            (Type::Map(t), Value::Map(m)) => {
                for (k, v) in m {
                    v.conforms_to(t).map_err(|e| e.in_key(k))?;
                }
                Ok(())
            }
            (Type::Object(attrs), Value::Object(m)) => {
                check_no_extra_attrs(attrs, m)?;
                for (k, v) in m {
                    v.conforms_to(&attrs[k]).map_err(|e| e.in_attr(k))?;
                }
                Ok(())
            }
            (Type::Tuple(ts), Value::Tuple(vs)) => {
                check_tuple_len(ts, vs)?;
                for (i, (t, v)) in ts.iter().zip(vs).enumerate() {
                    v.conforms_to(t).map_err(|e| e.in_index(i))?;
                }
                Ok(())
            }
            (ty, v) => Err(ValueError::mismatch(ty, v.kind_name())),
        }
    }
}

/// The type carried by a [`Value::Dynamic`] must be concrete (not `dynamic` itself).
pub(crate) fn check_dynamic_type(t: &Type) -> Result<(), ValueError> {
    if *t == Type::Dynamic {
        Err(ValueError::mismatch(
            "a concrete type in Value::Dynamic",
            "type dynamic",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn dynamic_mismatch(v: &Value) -> ValueError {
    ValueError::mismatch(
        "a Value::Dynamic (value with its type) for type dynamic",
        v.kind_name(),
    )
}

pub(crate) fn check_no_extra_attrs(
    attrs: &BTreeMap<String, Type>,
    m: &BTreeMap<String, Value>,
) -> Result<(), ValueError> {
    match m.keys().find(|k| !attrs.contains_key(*k)) {
        Some(k) => Err(ValueError::new(ValueErrorKind::UnsupportedAttribute(
            k.clone(),
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_tuple_len(ts: &[Type], vs: &[Value]) -> Result<(), ValueError> {
    if ts.len() == vs.len() {
        Ok(())
    } else {
        Err(ValueError::new(ValueErrorKind::TupleLength {
            expected: ts.len(),
            found: vs.len(),
        }))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

macro_rules! value_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Number(Number::from(v))
            }
        }
    )*};
}
value_from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl TryFrom<f64> for Value {
    type Error = ValueError;

    /// A number value via [`Number::from_f64`]; errors for NaN and infinities.
    fn try_from(v: f64) -> Result<Value, ValueError> {
        Number::from_f64(v).map(Value::Number)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes [`Value::Null`].
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_equality_is_order_insensitive() {
        let a = Value::set(["a".into(), "b".into(), "b".into()]);
        let b = Value::set(["b".into(), "a".into(), "b".into()]);
        let c = Value::set(["a".into(), "a".into(), "b".into()]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            Value::list(["a".into(), "b".into()]),
            Value::list(["b".into(), "a".into()])
        );
        assert_ne!(Value::set(["a".into()]), Value::list(["a".into()]));
        // Nested sets.
        let n1 = Value::set([a.clone(), Value::set([])]);
        let n2 = Value::set([Value::set([]), b.clone()]);
        assert_eq!(n1, n2);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Value::from(1), Value::Number(Number::parse("1.0").unwrap()));
        assert_eq!(Value::try_from(1.0).unwrap(), Value::from(1u8));
    }

    #[test]
    fn convenience_api() {
        let v = Value::object([
            ("name", Value::string("x")),
            ("count", Value::from(3)),
            ("on", true.into()),
            ("missing", Value::from(None::<&str>)),
            ("later", Value::Unknown),
            ("dyn", Value::dynamic(Type::String, "d".into())),
        ]);
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get_attr("count").and_then(Value::as_i64), Some(3));
        assert_eq!(v.get_attr("on").and_then(Value::as_bool), Some(true));
        assert!(v.get_attr("missing").unwrap().is_null());
        assert!(v.get_attr("later").unwrap().is_unknown());
        assert_eq!(v.get_attr("dyn").and_then(Value::as_str), Some("d"));
        assert_eq!(v.get_attr("nope"), None);
        assert!(!v.is_wholly_known());
        assert!(Value::dynamic(Type::String, Value::Null).is_null());
        assert!(Value::object([("a", Value::list([Value::Null]))]).is_wholly_known());
        assert!(!Value::map([("k", Value::tuple([Value::Unknown]))]).is_wholly_known());
        assert!(!Value::dynamic(Type::String, Value::Unknown).is_wholly_known());
    }

    #[test]
    fn conforms_to_reports_paths() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::list(Type::String))),
        ]);
        let good = Value::object([
            ("name", "x".into()),
            (
                "tags",
                Value::map([("a", Value::list(["1".into(), Value::Null, Value::Unknown]))]),
            ),
        ]);
        good.conforms_to(&ty).unwrap();
        Value::Null.conforms_to(&ty).unwrap();
        Value::Unknown.conforms_to(&ty).unwrap();
        // Missing attributes count as null.
        Value::object([("name", "x".into())])
            .conforms_to(&ty)
            .unwrap();

        let bad = Value::object([
            ("name", "x".into()),
            (
                "tags",
                Value::map([("a", Value::list(["1".into(), "2".into(), 3.into()]))]),
            ),
        ]);
        let e = bad.conforms_to(&ty).unwrap_err();
        assert_eq!(e.path(), ".tags[\"a\"][2]");
        assert_eq!(
            e.to_string(),
            "at .tags[\"a\"][2]: expected string, found number"
        );

        let extra = Value::object([("nope", Value::Null)]);
        assert_eq!(
            extra.conforms_to(&ty).unwrap_err().to_string(),
            "unsupported attribute \"nope\""
        );
        let tuple = Value::tuple([1.into()]);
        assert!(tuple
            .conforms_to(&Type::tuple([Type::Number, Type::Number]))
            .is_err());
        tuple.conforms_to(&Type::tuple([Type::Number])).unwrap();
    }

    #[test]
    fn conforms_to_dynamic() {
        Value::dynamic(Type::list(Type::String), Value::list(["a".into()]))
            .conforms_to(&Type::Dynamic)
            .unwrap();
        Value::dynamic(Type::String, Value::Unknown)
            .conforms_to(&Type::Dynamic)
            .unwrap();
        // A dynamic wrapper in a typed slot is checked by its content.
        Value::dynamic(Type::String, "a".into())
            .conforms_to(&Type::String)
            .unwrap();
        assert!(Value::dynamic(Type::String, 1.into())
            .conforms_to(&Type::Dynamic)
            .is_err());
        assert!(Value::string("a").conforms_to(&Type::Dynamic).is_err());
        assert!(Value::dynamic(Type::Dynamic, Value::Null)
            .conforms_to(&Type::Dynamic)
            .is_err());
    }
}
