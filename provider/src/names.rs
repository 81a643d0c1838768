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

/// Topic names: non-empty.
pub fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "The topic name is empty. Give the topic a name of at least one character.".into(),
        );
    }
    Ok(())
}

/// Webhook names: 1 to 128 characters.
pub fn check_webhook_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 {
        return Err(
            "The webhook name is empty. Webhook names must be 1 to 128 characters long.".into(),
        );
    }
    if n > 128 {
        return Err(format!("The webhook name is {n} characters long. Webhook names must be 1 to 128 characters long."));
    }
    Ok(())
}

/// Webhook destinations: absolute `http` or `https` URLs with a host.
pub fn check_destination_url(raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| {
        format!("{raw:?} is not an absolute URL ({e}). Use a full URL such as https://example.com/hooks/momento.")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{raw:?} uses the scheme {:?}; webhook destinations must be http:// or https:// URLs.",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{raw:?} has no host. Use a full URL such as https://example.com/hooks/momento."
        ));
    }
    Ok(())
}

/// Splits an import id of the form `<cache>/<name>`.
pub fn split_id(id: &str, what: &str) -> Result<(String, String), String> {
    match id.split_once('/') {
        Some((cache, name)) if !cache.is_empty() && !name.is_empty() => Ok((cache.to_owned(), name.to_owned())),
        _ => Err(format!("Import a {what} by \"<cache name>/<{what} name>\", e.g. \"my-cache/my-{what}\"; got {id:?}.")),
    }
}

/// Parses a webhook id, `<cache name>/<webhook name>` (a `momento_webhook`'s `id`), checking
/// both names.
pub fn parse_webhook_id(id: &str) -> Result<(&str, &str), String> {
    match id.split_once('/') {
        Some((cache, name)) => {
            check_cache_name(cache)?;
            check_webhook_name(name)?;
            Ok((cache, name))
        }
        None => Err(format!(
            "expected \"<cache name>/<webhook name>\" (a momento_webhook's id), got {id:?}"
        )),
    }
}

/// [`parse_webhook_id`] as an attribute check.
pub fn check_webhook_id(id: &str) -> Result<(), String> {
    parse_webhook_id(id).map(|_| ())
}

/// The `cache_name` attribute of an object that lives in a cache; changing it replaces a
/// resource (`what` names the object in the description).
pub fn cache_name_attribute(what: &str) -> tfplugin::Attribute {
    tfplugin::Attribute::string("cache_name")
        .required()
        .requires_replace()
        .validate(string_validator(check_cache_name))
        .description(format!(
            "The cache that holds the {what}. Changing it replaces the {what}."
        ))
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
    fn webhook_ids() {
        assert!(check_webhook_id("my-cache/my-hook").is_ok());
        assert!(check_webhook_id("no-slash")
            .unwrap_err()
            .contains("<cache name>/<webhook name>"));
        assert!(check_webhook_id("/hook").unwrap_err().contains("empty"));
        assert!(check_webhook_id("cache/").is_err());
    }

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

    #[test]
    fn webhook_fields() {
        assert!(check_webhook_name(&"w".repeat(128)).is_ok());
        assert!(check_webhook_name(&"w".repeat(129))
            .unwrap_err()
            .contains("129 characters"));
        assert!(check_webhook_name("").is_err());
        assert!(check_topic_name("").is_err());
        assert!(check_destination_url("https://example.com/hook").is_ok());
        assert!(check_destination_url("http://127.0.0.1:9/x").is_ok());
        assert!(check_destination_url("ftp://example.com")
            .unwrap_err()
            .contains("http://"));
        assert!(check_destination_url("/relative")
            .unwrap_err()
            .contains("absolute"));
        assert!(check_destination_url("example.com").is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(
            split_id("c/w", "webhook").unwrap(),
            ("c".into(), "w".into())
        );
        assert_eq!(
            split_id("c/t/x", "topic").unwrap(),
            ("c".into(), "t/x".into())
        );
        assert!(split_id("cw", "webhook")
            .unwrap_err()
            .contains("<cache name>/<webhook name>"));
        assert!(split_id("/w", "webhook").is_err());
    }
}
