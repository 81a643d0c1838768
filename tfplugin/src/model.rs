//! Typed models over the dynamic value layer: the `Model` trait and helpers to read and build
//! object values attribute by attribute.
use std::collections::BTreeMap;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::value::Value;

/// A Rust type that converts to and from a resource's object value.
///
/// In configurations and plans a value may be null or not yet known; typed models read both as
/// `None` (an `Option` field) and leave the distinction to the framework's plan rules. A model
/// whose required field is unknown gets an error naming the attribute.
pub trait Model: Sized + Send + Sync + 'static {
    fn from_value(value: &Value) -> Result<Self, Diagnostics>;
    fn to_value(&self) -> Value;
}

/// The dynamic layer: a resource may work on raw values.
impl Model for Value {
    fn from_value(value: &Value) -> Result<Self, Diagnostics> {
        Ok(value.clone())
    }

    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// Reads the attributes of an object value, with errors that name the attribute.
pub struct Fields<'a> {
    attrs: Option<&'a BTreeMap<String, Value>>,
}

static NULL: Value = Value::Null;

impl<'a> Fields<'a> {
    /// Reads an object value; a null object reads as all-null attributes.
    pub fn new(value: &'a Value) -> Result<Self, Diagnostics> {
        match value {
            Value::Object(attrs) => Ok(Self { attrs: Some(attrs) }),
            Value::Null => Ok(Self { attrs: None }),
            other => Err(Diagnostic::error(
                "Unexpected value shape",
                format!("expected an object, got {other:?}; this is a bug in the provider"),
            )
            .into()),
        }
    }

    /// The raw value of an attribute (null when absent).
    pub fn get(&self, name: &str) -> &'a Value {
        self.attrs.and_then(|a| a.get(name)).unwrap_or(&NULL)
    }

    /// A string attribute that must be known and non-null.
    pub fn string(&self, name: &str) -> Result<String, Diagnostics> {
        match self.get(name) {
            Value::String(s) => Ok(s.clone()),
            Value::Unknown => Err(not_known(name)),
            Value::Null => Err(Diagnostic::error(
                "Missing required value",
                format!("The attribute \"{name}\" must be set."),
            )
            .at(AttributePath::attr(name))
            .into()),
            other => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A string attribute that may be null or unknown (both read as `None`).
    pub fn opt_string(&self, name: &str) -> Result<Option<String>, Diagnostics> {
        match self.get(name) {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Null | Value::Unknown => Ok(None),
            other => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A boolean attribute that may be null or unknown.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, Diagnostics> {
        match self.get(name) {
            Value::Bool(b) => Ok(Some(*b)),
            Value::Null | Value::Unknown => Ok(None),
            other => Err(wrong_type(name, "a bool", other)),
        }
    }

    /// A whole-number attribute that may be null or unknown.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, Diagnostics> {
        match self.get(name) {
            Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| {
                Diagnostic::error(
                    "Invalid number",
                    format!("The attribute \"{name}\" must be a whole number that fits in 64 bits, got {n}."),
                )
                .at(AttributePath::attr(name))
                .into()
            }),
            Value::Null | Value::Unknown => Ok(None),
            other => Err(wrong_type(name, "a number", other)),
        }
    }
}

fn not_known(name: &str) -> Diagnostics {
    Diagnostic::error(
        "Value not yet known",
        format!("The attribute \"{name}\" must be known before this operation can run."),
    )
    .at(AttributePath::attr(name))
    .into()
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> Diagnostics {
    Diagnostic::error(
        "Unexpected attribute type",
        format!("The attribute \"{name}\" should be {expected}, got {got:?}; this is a bug in the provider."),
    )
    .at(AttributePath::attr(name))
    .into()
}
