//! Validation of Momento names at plan time, with the same rules the server enforces.

/// Cache names: 1 to 255 characters of `A-Z a-z 0-9 . _ -`.
pub fn check_cache_name(name: &str) -> Result<(), String> {
    const RULE: &str = "Cache names must be 1 to 255 characters long and use only letters, digits, '.', '_' and '-'.";
    if name.is_empty() {
        return Err(format!("The cache name is empty. {RULE}"));
    }
    if name.chars().count() > 255 {
        return Err(format!(
            "The cache name is {} characters long. {RULE}",
            name.chars().count()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!("The cache name {name:?} contains {bad:?}. {RULE}"));
    }
    Ok(())
}

/// Adapts a string check to a `tfplugin` attribute validator.
pub fn string_validator(
    check: fn(&str) -> Result<(), String>,
) -> impl Fn(&tfplugin::Value) -> Result<(), String> {
    move |v| v.as_str().map_or(Ok(()), check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names() {
        assert!(check_cache_name("my-cache_1.0").is_ok());
        assert!(check_cache_name(&"a".repeat(255)).is_ok());
        assert!(check_cache_name("").unwrap_err().contains("empty"));
        assert!(check_cache_name(&"a".repeat(256))
            .unwrap_err()
            .contains("256 characters"));
        let err = check_cache_name("bad name").unwrap_err();
        assert!(
            err.contains("' '") && err.contains("letters, digits"),
            "{err}"
        );
        assert!(check_cache_name("a/b").is_err());
    }
}
