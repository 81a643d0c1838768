//! Owns the cty JSON codec (`Value::to_json` / `Value::from_json`), used for
//! `RawState.json` and JSON `DynamicValue`s, following go-cty's `cty/json`.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::error::ValueError;
use super::{
    check_dynamic_type, check_no_extra_attrs, check_tuple_len, dynamic_mismatch, Number, Type,
    Value, ValueErrorKind, MAX_DEPTH,
};

impl Value {
    /// Encodes the value as `ty` in cty's JSON encoding: null is `null`, numbers are JSON
    /// numbers with every digit kept, objects carry every attribute of the type (missing ones
    /// as `null`), and a [`Value::Dynamic`] in a `dynamic` slot is
    /// `{"value": ..., "type": <type JSON>}`.
    ///
    /// Errors on unknown values (JSON cannot represent them) and on values that do not
    /// [conform](Value::conforms_to) to `ty`.
    pub fn to_json(&self, ty: &Type) -> Result<J, ValueError> {
        match (ty, self) {
            (_, Value::Null) => Ok(J::Null),
            (_, Value::Unknown) => Err(ValueError::new(ValueErrorKind::UnknownInJson)),
            (Type::Dynamic, Value::Dynamic(t, inner)) => {
                check_dynamic_type(t)?;
                let mut obj = serde_json::Map::new();
                obj.insert("value".into(), inner.to_json(t)?);
                obj.insert("type".into(), t.to_json());
                Ok(J::Object(obj))
            }
            (Type::Dynamic, other) => Err(dynamic_mismatch(other)),
            (_, Value::Dynamic(_, inner)) => inner.to_json(ty),
            (Type::String, Value::String(s)) => Ok(J::String(s.clone())),
            (Type::Number, Value::Number(n)) => number_to_json(n).map(J::Number),
            (Type::Bool, Value::Bool(b)) => Ok(J::Bool(*b)),
            (Type::List(t), Value::List(vs)) | (Type::Set(t), Value::Set(vs)) => vs
                .iter()
                .enumerate()
                .map(|(i, v)| v.to_json(t).map_err(|e| e.in_index(i)))
                .collect::<Result<_, _>>()
                .map(J::Array),
            (Type::Tuple(ts), Value::Tuple(vs)) => {
                check_tuple_len(ts, vs)?;
                ts.iter()
                    .zip(vs)
                    .enumerate()
                    .map(|(i, (t, v))| v.to_json(t).map_err(|e| e.in_index(i)))
                    .collect::<Result<_, _>>()
                    .map(J::Array)
            }
            (Type::Map(t), Value::Map(m)) => m
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.to_json(t).map_err(|e| e.in_key(k))?)))
                .collect::<Result<_, _>>()
                .map(J::Object),
            (Type::Object(attrs), Value::Object(m)) => {
                check_no_extra_attrs(attrs, m)?;
                attrs
                    .iter()
                    .map(|(k, t)| {
                        let v = m.get(k).unwrap_or(&Value::Null);
                        Ok((k.clone(), v.to_json(t).map_err(|e| e.in_attr(k))?))
                    })
                    .collect::<Result<_, _>>()
                    .map(J::Object)
            }
            (ty, v) => Err(ValueError::mismatch(ty, v.kind_name())),
        }
    }

    /// Encodes the value as compact JSON bytes (see [`Value::to_json`]).
    pub fn to_json_bytes(&self, ty: &Type) -> Result<Vec<u8>, ValueError> {
        let json = self.to_json(ty)?;
        serde_json::to_vec(&json).map_err(|e| ValueError::json(e.to_string()))
    }

    /// Decodes cty JSON as type `ty`. Objects may omit attributes (they become null) but must
    /// not have attributes the type does not declare. As in cty, a number may also be given
    /// as a JSON string holding a decimal, a string as a JSON number or bool, and a bool as
    /// the string `"true"` or `"false"`. A `dynamic` slot takes `{"value": ..., "type": ...}`
    /// (or `null`) and yields [`Value::Dynamic`].
    pub fn from_json(json: &J, ty: &Type) -> Result<Value, ValueError> {
        decode(json, ty, 0)
    }

    /// Decodes cty JSON bytes as type `ty` (see [`Value::from_json`]). Numbers keep every
    /// digit.
    pub fn from_json_bytes(bytes: &[u8], ty: &Type) -> Result<Value, ValueError> {
        let json: J = serde_json::from_slice(bytes).map_err(|e| ValueError::json(e.to_string()))?;
        Value::from_json(&json, ty)
    }
}

fn number_to_json(n: &Number) -> Result<serde_json::Number, ValueError> {
    // With serde_json's `arbitrary_precision` the parsed number keeps this exact text.
    n.to_string()
        .parse::<serde_json::Number>()
        .map_err(|e| ValueError::json(format!("cannot represent number {n}: {e}")))
}

/// A short description of a JSON value's kind, for error messages.
pub(crate) fn json_kind(j: &J) -> &'static str {
    match j {
        J::Null => "JSON null",
        J::Bool(_) => "JSON bool",
        J::Number(_) => "JSON number",
        J::String(_) => "JSON string",
        J::Array(_) => "JSON array",
        J::Object(_) => "JSON object",
    }
}

fn decode(j: &J, ty: &Type, depth: usize) -> Result<Value, ValueError> {
    if depth > MAX_DEPTH {
        return Err(ValueError::new(ValueErrorKind::TooDeep(MAX_DEPTH)));
    }
    if j.is_null() {
        return Ok(Value::Null);
    }
    let mismatch = || ValueError::mismatch(ty, json_kind(j));
    match ty {
        Type::Dynamic => decode_dynamic(j, depth),
        Type::String => match j {
            J::String(s) => Ok(Value::String(s.clone())),
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(mismatch()),
        },
        Type::Number => match j {
            J::Number(n) => Number::parse(&n.to_string()).map(Value::Number),
            J::String(s) => Number::parse(s).map(Value::Number),
            _ => Err(mismatch()),
        },
        Type::Bool => match j {
            J::Bool(b) => Ok(Value::Bool(*b)),
            J::String(s) if s == "true" => Ok(Value::Bool(true)),
            J::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(mismatch()),
        },
        Type::List(t) | Type::Set(t) => {
            let J::Array(items) = j else {
                return Err(mismatch());
            };
            let vs = items
                .iter()
                .enumerate()
                .map(|(i, item)| decode(item, t, depth + 1).map_err(|e| e.in_index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(vs)
            } else {
                Value::List(vs)
            })
        }
        Type::Tuple(ts) => {
            let J::Array(items) = j else {
                return Err(mismatch());
            };
            if items.len() != ts.len() {
                return Err(ValueError::new(ValueErrorKind::TupleLength {
                    expected: ts.len(),
                    found: items.len(),
                }));
            }
            ts.iter()
                .zip(items)
                .enumerate()
                .map(|(i, (t, item))| decode(item, t, depth + 1).map_err(|e| e.in_index(i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Tuple)
        }
        Type::Map(t) => {
            let J::Object(entries) = j else {
                return Err(mismatch());
            };
            entries
                .iter()
                .map(|(k, item)| {
                    Ok((
                        k.clone(),
                        decode(item, t, depth + 1).map_err(|e| e.in_key(k))?,
                    ))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map(Value::Map)
        }
        Type::Object(attrs) => {
            let J::Object(entries) = j else {
                return Err(mismatch());
            };
            let mut m = BTreeMap::new();
            for (k, item) in entries {
                let Some(t) = attrs.get(k) else {
                    return Err(ValueError::new(ValueErrorKind::UnsupportedAttribute(
                        k.clone(),
                    )));
                };
                m.insert(
                    k.clone(),
                    decode(item, t, depth + 1).map_err(|e| e.in_attr(k))?,
                );
            }
            for k in attrs.keys() {
                if !m.contains_key(k) {
                    m.insert(k.clone(), Value::Null);
                }
            }
            Ok(Value::Object(m))
        }
    }
}

/// `{"value": ..., "type": ...}`, as cty's `unmarshalDynamic` reads it.
fn decode_dynamic(j: &J, depth: usize) -> Result<Value, ValueError> {
    let J::Object(entries) = j else {
        return Err(ValueError::mismatch(
            "a {\"value\": ..., \"type\": ...} object for a dynamic value",
            json_kind(j),
        ));
    };
    if let Some(k) = entries.keys().find(|k| *k != "value" && *k != "type") {
        return Err(ValueError::json(format!(
            "invalid key {k:?} in dynamically-typed value"
        )));
    }
    let t = match entries.get("type") {
        Some(t) => Type::from_json(t)?,
        None => {
            return Err(ValueError::json(
                "missing \"type\" in dynamically-typed value",
            ))
        }
    };
    let Some(value) = entries.get("value") else {
        return Err(ValueError::json(
            "missing \"value\" in dynamically-typed value",
        ));
    };
    let v = decode(value, &t, depth + 1)?;
    if t == Type::Dynamic {
        return Ok(v);
    }
    Ok(Value::Dynamic(t, Box::new(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(s: &str) -> Value {
        Value::Number(Number::parse(s).unwrap())
    }

    fn text(v: &Value, t: &Type) -> String {
        String::from_utf8(v.to_json_bytes(t).unwrap()).unwrap()
    }

    fn round_trip(v: &Value, t: &Type) {
        let bytes = v.to_json_bytes(t).unwrap();
        assert_eq!(&Value::from_json_bytes(&bytes, t).unwrap(), v);
    }

    #[test]
    fn numbers_keep_every_digit() {
        let t = Type::Number;
        for (s, want) in [
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            ("18446744073709551615", "18446744073709551615"),
            ("1180591620717411303424", "1180591620717411303424"),
            ("0.1", "0.1"),
            ("-1.5e-300", "-1.5e-300"),
            ("1e400", "1e+400"),
            (
                "0.1000000000000000055511151231257827021181583404541015625",
                "0.1000000000000000055511151231257827021181583404541015625",
            ),
            ("-7", "-7"),
        ] {
            assert_eq!(text(&n(s), &t), want);
            round_trip(&n(s), &t);
        }
        assert_eq!(
            Value::from_json_bytes(b"123456789012345678901234567890.5", &t).unwrap(),
            n("123456789012345678901234567890.5")
        );
        assert_eq!(Value::from_json_bytes(b"1.0", &t).unwrap(), Value::from(1));
        assert_eq!(
            Value::from_json_bytes(b"1E2", &t).unwrap(),
            Value::from(100)
        );
    }

    #[test]
    fn lenient_primitive_decoding() {
        assert_eq!(
            Value::from_json(&json!("12.5"), &Type::Number).unwrap(),
            n("12.5")
        );
        assert!(Value::from_json(&json!("twelve"), &Type::Number).is_err());
        assert_eq!(
            Value::from_json(&json!(12), &Type::String).unwrap(),
            "12".into()
        );
        assert_eq!(
            Value::from_json(&json!(true), &Type::String).unwrap(),
            "true".into()
        );
        assert_eq!(
            Value::from_json(&json!("false"), &Type::Bool).unwrap(),
            false.into()
        );
        let e = Value::from_json(&json!([1]), &Type::Bool).unwrap_err();
        assert_eq!(e.to_string(), "expected bool, found JSON array");
    }

    #[test]
    fn unknown_is_an_error() {
        let t = Type::object([("a", Type::list(Type::String))]);
        let v = Value::object([("a", Value::list(["x".into(), Value::Unknown]))]);
        let e = v.to_json(&t).unwrap_err();
        assert_eq!(e.path(), ".a[1]");
        assert_eq!(e.kind(), &ValueErrorKind::UnknownInJson);
        assert!(Value::dynamic(Type::String, Value::Unknown)
            .to_json(&Type::Dynamic)
            .is_err());
    }

    #[test]
    fn objects() {
        let t = Type::object([
            ("b", Type::Number),
            ("a", Type::String),
            ("c", Type::map(Type::Bool)),
        ]);
        let v = Value::object([
            ("a", "x".into()),
            ("b", 1.into()),
            ("c", Value::map([("k", true.into())])),
        ]);
        assert_eq!(text(&v, &t), r#"{"a":"x","b":1,"c":{"k":true}}"#);
        round_trip(&v, &t);
        // Missing attributes → null on decode, and on encode.
        assert_eq!(
            Value::from_json(&json!({"a": "x"}), &t).unwrap(),
            Value::object([("a", "x".into()), ("b", Value::Null), ("c", Value::Null)])
        );
        assert_eq!(
            text(&Value::object([("a", "x".into())]), &t),
            r#"{"a":"x","b":null,"c":null}"#
        );
        // Unknown attributes are errors.
        let e = Value::from_json(&json!({"a": "x", "zz": 1}), &t).unwrap_err();
        assert_eq!(e.to_string(), "unsupported attribute \"zz\"");
        let e = Value::from_json(&json!({"c": {"k": 3}}), &t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at .c[\"k\"]: expected bool, found JSON number"
        );
    }

    #[test]
    fn collections_and_tuples() {
        let t = Type::tuple([
            Type::String,
            Type::set(Type::Number),
            Type::list(Type::Bool),
        ]);
        let v = Value::tuple([
            "a".into(),
            Value::set([1.into(), 2.into()]),
            Value::list([true.into(), Value::Null]),
        ]);
        assert_eq!(text(&v, &t), r#"["a",[1,2],[true,null]]"#);
        round_trip(&v, &t);
        assert!(Value::from_json(&json!(["a", [1]]), &t).is_err());
        assert!(Value::from_json(&json!(["a", [1], [], 4]), &t).is_err());
    }

    #[test]
    fn dynamic_values() {
        let t = Type::object([("d", Type::Dynamic)]);
        let v = Value::object([(
            "d",
            Value::dynamic(Type::list(Type::String), Value::list(["x".into()])),
        )]);
        assert_eq!(
            v.to_json(&t).unwrap(),
            json!({"d": {"value": ["x"], "type": ["list", "string"]}})
        );
        round_trip(&v, &t);
        round_trip(&Value::object([("d", Value::Null)]), &t);
        round_trip(
            &Value::object([("d", Value::dynamic(Type::Number, Value::Null))]),
            &t,
        );
        assert_eq!(
            Value::from_json(&json!({"value": 5, "type": "number"}), &Type::Dynamic).unwrap(),
            Value::dynamic(Type::Number, 5.into())
        );
        for bad in [
            json!({"value": 5}),
            json!({"type": "number"}),
            json!({"value": 5, "type": "number", "x": 1}),
            json!({"value": "x", "type": "number"}),
            json!({"value": 5, "type": "nope"}),
            json!(5),
        ] {
            assert!(Value::from_json(&bad, &Type::Dynamic).is_err(), "{bad}");
        }
        assert!(Value::string("x").to_json(&Type::Dynamic).is_err());
    }

    #[test]
    fn malformed_bytes() {
        assert!(Value::from_json_bytes(b"{", &Type::String).is_err());
        assert!(Value::from_json_bytes(b"\"a\" 1", &Type::String).is_err());
    }
}
