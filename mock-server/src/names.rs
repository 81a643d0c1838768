//! Name rules: which cache names the mock accepts, and the error that explains the rule.

use std::fmt;

/// Longest cache name, in characters.
pub const MAX_CACHE_NAME_LEN: usize = 255;

/// The rule, as stated in every error about a cache name.
pub const CACHE_NAME_RULE: &str =
    "cache names must be 1-255 characters of A-Z, a-z, 0-9, '.', '_' or '-'";

/// Longest part of an offending name echoed back in a message.
const ECHO_LIMIT: usize = 64;

/// A name broke its rule; `Display` states the rule and the offending name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cache name {}: {CACHE_NAME_RULE}", Echo(.name))]
pub struct InvalidCacheName {
    /// The name as given.
    pub name: String,
}

/// Checks a cache name: non-empty, at most 255 characters, only `[A-Za-z0-9._-]`.
pub fn validate_cache_name(name: &str) -> Result<(), InvalidCacheName> {
    let ok = !name.is_empty()
        && name.len() <= MAX_CACHE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(InvalidCacheName {
            name: name.to_owned(),
        })
    }
}

/// Quotes a user-given string for a message: escaped like `{:?}`, long ones cut with their length.
struct Echo<'a>(&'a str);

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.chars().count();
        if count <= ECHO_LIMIT {
            write!(f, "{:?}", self.0)
        } else {
            let head: String = self.0.chars().take(ECHO_LIMIT).collect();
            write!(f, "{head:?}... ({count} characters)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        for name in ["a", "A-b_c.9", &"x".repeat(255)] {
            assert_eq!(validate_cache_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_and_explains() {
        for name in ["", "a b", "a/b", "é", "tab\t", &"x".repeat(256)] {
            let err = validate_cache_name(name).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(CACHE_NAME_RULE), "{msg}");
            assert!(msg.starts_with("invalid cache name \""), "{msg}");
        }
        assert_eq!(
            validate_cache_name("a b").unwrap_err().to_string(),
            format!("invalid cache name \"a b\": {CACHE_NAME_RULE}")
        );
    }

    #[test]
    fn long_names_are_cut_in_messages() {
        let msg = validate_cache_name(&"y".repeat(300))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("... (300 characters)"), "{msg}");
        assert!(msg.len() < 300, "{msg}");
    }
}
