//! The publisher id of a message: the token id of whoever published it, read from the token the
//! caller presented (gRPC `authorization` metadata, HTTP `Authorization` header or `token` query).
//!
//! Momento's tokens are JWTs (three base64url segments); their payload's `id` claim is the token
//! id. The mock reads that claim **without checking the signature** (it has no keys; auth is a
//! separate, exact-match check). A Momento v1 API key (standard base64 of
//! `{"api_key": "<jwt>", "endpoint": ".."}`) is unwrapped to its JWT first. Anything else, a JWT
//! without a string `id` claim, or no token at all gives `""`, as Momento does for tokens without
//! an id.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// Tokens longer than this are not inspected (gRPC metadata and HTTP headers are bounded anyway).
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Longest publisher id kept; longer `id` claims are treated as absent.
const MAX_ID_BYTES: usize = 1024;

/// The token id in `token`, or `""` (see the module docs).
pub fn publisher_id_from_token(token: Option<&[u8]>) -> String {
    let Some(token) = token else {
        return String::new();
    };
    if token.len() > MAX_TOKEN_BYTES {
        return String::new();
    }
    let Ok(token) = std::str::from_utf8(token) else {
        return String::new();
    };
    let token = token.trim();
    if let Some(id) = jwt_id(token) {
        return id;
    }
    // A v1 API key wraps the JWT.
    STANDARD
        .decode(token)
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|v| v.get("api_key").and_then(|k| k.as_str()).and_then(jwt_id))
        .unwrap_or_default()
}

/// The `id` claim of a JWT's payload, when `token` is a JWT with one.
fn jwt_id(token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.is_empty() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let id = claims.get("id")?.as_str()?;
    (id.len() <= MAX_ID_BYTES).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS512"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn reads_the_id_claim_of_a_jwt() {
        let token = jwt(r#"{"sub":"someone","id":"tok-123","exp":1}"#);
        assert_eq!(publisher_id_from_token(Some(token.as_bytes())), "tok-123");
    }

    #[test]
    fn unwraps_v1_api_keys() {
        let inner = jwt(r#"{"id":"inner-id"}"#);
        let key = STANDARD.encode(format!(
            r#"{{"api_key":"{inner}","endpoint":"cell.example"}}"#
        ));
        assert_eq!(publisher_id_from_token(Some(key.as_bytes())), "inner-id");
    }

    #[test]
    fn anything_else_is_empty() {
        for token in [
            "",
            "plain-token",
            "a.b",
            "a.b.c.d",
            "x.!!!.y",
            &jwt(r#"{"sub":"no id"}"#),
            &jwt(r#"{"id":42}"#),
            &jwt("not json"),
        ] {
            assert_eq!(
                publisher_id_from_token(Some(token.as_bytes())),
                "",
                "{token}"
            );
        }
        assert_eq!(publisher_id_from_token(None), "");
        assert_eq!(publisher_id_from_token(Some(&[0xff, 0xfe])), "");
    }
}
