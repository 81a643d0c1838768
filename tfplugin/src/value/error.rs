//! Owns `ValueError`: the error type of the value model, its codecs and type checks, with the
//! path (such as `.tags["a"][2]`) of the offending value.

use std::fmt;

/// What went wrong, without the location (see [`ValueError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueErrorKind {
    /// A value (or encoded item) of the wrong kind for the type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// The type or encoding that was required.
        expected: String,
        /// What was found instead.
        found: String,
    },
    /// An object attribute that the object type does not declare.
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    /// A tuple with the wrong number of elements.
    #[error("expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        /// Number of element types in the tuple type.
        expected: usize,
        /// Number of elements found.
        found: usize,
    },
    /// An unknown value where the encoding (JSON) cannot represent one.
    #[error("value is not known; unknown values cannot be encoded as JSON")]
    UnknownInJson,
    /// A string that is not a finite decimal number, or a NaN/infinite float.
    #[error("invalid number {input:?}: {reason}")]
    InvalidNumber {
        /// The offending input (possibly shortened).
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A malformed cty type description.
    #[error("invalid type description: {0}")]
    InvalidType(String),
    /// Malformed msgpack input.
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// Malformed JSON input (or a JSON shape the encoding does not allow).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// Input nested deeper than the decoders allow.
    #[error("value is nested too deeply (more than {0} levels)")]
    TooDeep(usize),
}

/// An error from the value model, with the location of the offending value.
///
/// `Display` gives e.g. `at .tags["a"][2]: expected string, found number`; errors at the root
/// value have no `at ...:` prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", PathPrefix(.path))]
pub struct ValueError {
    path: String,
    kind: ValueErrorKind,
}

struct PathPrefix<'a>(&'a str);

impl fmt::Display for PathPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "at {}: ", self.0)
        }
    }
}

impl ValueError {
    /// An error at the root value.
    pub fn new(kind: ValueErrorKind) -> Self {
        ValueError {
            path: String::new(),
            kind,
        }
    }

    /// The location of the offending value, e.g. `.tags["a"][2]` (empty for the root value).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong.
    pub fn kind(&self) -> &ValueErrorKind {
        &self.kind
    }

    pub(crate) fn mismatch(expected: impl fmt::Display, found: impl fmt::Display) -> Self {
        Self::new(ValueErrorKind::TypeMismatch {
            expected: expected.to_string(),
            found: found.to_string(),
        })
    }

    pub(crate) fn msgpack(message: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::Msgpack(message.into()))
    }

    pub(crate) fn json(message: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::Json(message.into()))
    }

    pub(crate) fn invalid_type(message: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::InvalidType(message.into()))
    }

    /// Prefixes the path with an object attribute step (`.name`).
    pub(crate) fn in_attr(mut self, name: &str) -> Self {
        let step = if is_identifier(name) {
            format!(".{name}")
        } else {
            format!("[{}]", quote(name))
        };
        self.path.insert_str(0, &step);
        self
    }

    /// Prefixes the path with a map key step (`["key"]`).
    pub(crate) fn in_key(mut self, key: &str) -> Self {
        self.path.insert_str(0, &format!("[{}]", quote(key)));
        self
    }

    /// Prefixes the path with an element index step (`[3]`).
    pub(crate) fn in_index(mut self, index: usize) -> Self {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_includes_path() {
        let e = ValueError::mismatch("string", "number")
            .in_index(2)
            .in_key("a")
            .in_attr("tags");
        assert_eq!(e.path(), ".tags[\"a\"][2]");
        assert_eq!(
            e.to_string(),
            "at .tags[\"a\"][2]: expected string, found number"
        );
    }

    #[test]
    fn root_error_has_no_prefix() {
        let e = ValueError::mismatch("bool", "msgpack string");
        assert_eq!(e.to_string(), "expected bool, found msgpack string");
    }

    #[test]
    fn odd_attribute_names_are_quoted() {
        let e = ValueError::new(ValueErrorKind::UnknownInJson).in_attr("a b");
        assert_eq!(e.path(), "[\"a b\"]");
    }
}
